# lib.sh - shared by the host-side VM scripts (sourced, not executable).
#
# Gives
#   ROOT        the source tree
#   VMDIR       build/vm (initramfs, images, logs)
#   h2_kver     the Debian kernel version to boot: the newest
#               /boot/vmlinuz-*-amd64 with /lib/modules/VER (what
#               linux-image-amd64 installed; never uname -r); KVER= wins
#   h2_vm_ready prints why the VM cannot run (qemu, kernel, module) and
#               fails, or succeeds silently

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMDIR=$ROOT/build/vm

h2_kver() {
	local v
	if [ -n "${KVER:-}" ]; then
		echo "$KVER"
		return 0
	fi
	for v in $(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|/boot/vmlinuz-||' |
		sort -V -r); do
		if [ -d "/lib/modules/$v/kernel" ]; then
			echo "$v"
			return 0
		fi
	done
	return 1
}

h2_vm_ready() {
	local k
	if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
		echo "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
		return 1
	fi
	if ! k=$(h2_kver) || [ ! -r "/boot/vmlinuz-$k" ]; then
		echo "no readable /boot/vmlinuz-*-amd64 with modules (apt-get install linux-image-amd64)"
		return 1
	fi
	# ldd fails on a static executable
	if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		echo "no static /bin/busybox (apt-get install busybox-static)"
		return 1
	fi
	if ! command -v cpio >/dev/null 2>&1; then
		echo "cpio not installed"
		return 1
	fi
	return 0
}
