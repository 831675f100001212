#!/bin/bash
# run-vm.sh - boot the Debian kernel with our initramfs under QEMU (TCG).
#
#   tests/vm/run-vm.sh [-t SECONDS] [-i INITRD] [-a APPEND] [-l LOG] [-q]
#                      DISK...
#
# DISKs are raw image files attached as virtio disks in order: /dev/vda
# (by convention the results disk, which init.sh overwrites with a tar of
# the guest's /results), /dev/vdb, /dev/vdc, ... (cache=none: the guest's
# flushes reach the file).  The serial console goes to LOG (default
# build/vm/console.log) and, unless -q, to stdout.  APPEND is added to the
# kernel command line (h2mode=..., see init.sh).  INITRD defaults to
# build/vm/initramfs.cpio.gz.  KVM is not used (TCG only): the VM has
# 2 CPUs and 2 GiB.
#
# Exit status: QEMU's (0 after the guest powered off), 124 if the VM was
# still running after SECONDS (default 1800) and was killed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

T=1800
INITRD=$VMDIR/initramfs.cpio.gz
APPEND=""
LOG=$VMDIR/console.log
QUIET=0
while getopts "t:i:a:l:q" o; do
	case "$o" in
	t) T=$OPTARG ;;
	i) INITRD=$OPTARG ;;
	a) APPEND=$OPTARG ;;
	l) LOG=$OPTARG ;;
	q) QUIET=1 ;;
	*)
		echo "usage: run-vm.sh [-t SEC] [-i INITRD] [-a APPEND] [-l LOG] [-q] DISK..." >&2
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))

if ! why=$(h2_vm_ready); then
	echo "run-vm: $why" >&2
	exit 77
fi
K=$(h2_kver)
drives=()
for d in "$@"; do
	drives+=(-drive "file=$d,if=virtio,format=raw,cache=none")
done

cmd=(qemu-system-x86_64 -accel tcg -cpu max -m 2048 -smp 2 -nographic
	-no-reboot -nic none -kernel "/boot/vmlinuz-$K" -initrd "$INITRD"
	-append "console=ttyS0 panic=-1 quiet rdinit=/init $APPEND"
	"${drives[@]}")
mkdir -p "$(dirname "$LOG")"
rc=0
if [ "$QUIET" -eq 1 ]; then
	timeout -k 10 "$T" "${cmd[@]}" </dev/null >"$LOG" 2>&1 || rc=$?
else
	timeout -k 10 "$T" "${cmd[@]}" </dev/null 2>&1 | tee "$LOG" ||
		rc=$?
fi
# QEMU leaves the terminal's carriage returns in the log
sed -i 's/\r$//' "$LOG"
exit "$rc"
