#!/bin/bash
# build-initramfs.sh - build the initramfs images the VM tests boot.
#
#   tests/vm/build-initramfs.sh [base|bench|all]     (default: base)
#
# base  -> build/vm/initramfs.cpio.gz: busybox-static with its applets
#          linked, /init (tests/vm/init.sh), the in-VM scripts
#          (tests/vm/vmtest.sh, tests/vm/bench-guest.sh), build/hammer2.ko
#          and the Debian kernel modules it and the tests need (virtio,
#          lz4_compress, libcrc32c, crc32c, ext4, btrfs, xfs with every
#          dependency, in load order, from modules.dep), the tools
#          newfs_hammer2, fsck_hammer2 and hammer2 linked statically
#          against build/libhammer2.a, the static test programs
#          (posix_suite, h2replay, h2files), mke2fs (dynamic, with its
#          shared libraries) and the workload traces (build/vm/traces/).
# bench -> build/vm/bench.cpio.gz: fio, mkfs.xfs and mkfs.btrfs with their
#          shared libraries and the dynamic loader; appended to the base
#          image (the kernel unpacks concatenated archives) it gives
#          build/vm/initramfs-bench.cpio.gz.
#
# The kernel version comes from the installed Debian kernel image
# (/boot/vmlinuz-*-amd64 that has /lib/modules/VER), never from uname -r;
# override with KVER=.  Prints the kernel version on its last line
# ("initramfs: KVER ...").  Needs: busybox-static, cpio, gzip, kmod, cc
# and the static libraries of the core's dependencies.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
OUT=$ROOT/build/vm
WHAT=${1:-base}

# kver: the newest Debian kernel whose image and modules are installed.
kver() {
	local v
	if [ -n "${KVER:-}" ]; then
		echo "$KVER"
		return
	fi
	for v in $(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|/boot/vmlinuz-||' |
		sort -V -r); do
		if [ -d "/lib/modules/$v/kernel" ]; then
			echo "$v"
			return
		fi
	done
	return 1
}
K=$(kver) || {
	echo "initramfs: no /boot/vmlinuz-*-amd64 with /lib/modules (apt-get install linux-image-amd64)" >&2
	exit 1
}

# The static C programs run inside the VM (no libc there but busybox's).
VM_CFLAGS="-O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE"
LDLIBS="-llz4 -lz -lxxhash -lmd -lbsd -luuid -lpthread"

# add_dyn STAGE BIN...: copy dynamically linked programs into STAGE with
# every shared library ldd names and the dynamic loader.
add_dyn() {
	local st=$1 b lib
	shift
	for b in "$@"; do
		mkdir -p "$st/usr/local/bin"
		cp -L "$b" "$st/usr/local/bin/"
		for lib in $(ldd "$b" | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
			mkdir -p "$st$(dirname "$lib")"
			[ -e "$st$lib" ] || cp -L "$lib" "$st$lib"
		done
	done
	# Debian's loader path, and the multiarch directory ld.so searches.
	mkdir -p "$st/lib64"
	[ -e "$st/lib64/ld-linux-x86-64.so.2" ] ||
		cp -L /lib64/ld-linux-x86-64.so.2 "$st/lib64/"
}

# pack STAGE OUTFILE: a newc cpio, gzip -1 (the kernel has RD_GZIP).
pack() {
	(cd "$1" && find . -print0 | sort -z |
		cpio --null -o -H newc --owner 0:0 --quiet) | gzip -1 >"$2.tmp"
	mv "$2.tmp" "$2"
}

# modules MOD...: the .ko paths (load order, each once) of MODs and their
# dependencies (and softdeps) per /lib/modules/$K/modules.dep.
modules() {
	local m
	for m in "$@"; do
		modprobe -S "$K" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++'
}

build_base() {
	local st=$OUT/stage-base ko list=() f b c objs
	rm -rf "$st"
	mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,mnt,run,etc,root,vm/bin,lib/modules,results}

	# busybox and its applets
	cp /bin/busybox "$st/bin/busybox"
	for a in $(/bin/busybox --list-full); do
		[ -e "$st/$a" ] || ln -s /bin/busybox "$st/$a"
	done

	# kernel modules: everything modprobe would load, then hammer2.ko
	[ -f build/hammer2.ko ] || {
		echo "initramfs: build/hammer2.ko missing (make kmod)" >&2
		exit 1
	}
	for ko in $(modules virtio_pci virtio_blk lz4_compress crc32c_intel \
		crc32c_generic libcrc32c ext4 btrfs xfs); do
		case "$ko" in
		*.ko) cp "$ko" "$st/lib/modules/" ;;
		*.ko.xz) xz -dc "$ko" >"$st/lib/modules/$(basename "$ko" .xz)" ;;
		*.ko.zst) zstd -qdc "$ko" >"$st/lib/modules/$(basename "$ko" .zst)" ;;
		*) continue ;;
		esac
		b=$(basename "$ko")
		list+=("${b%%.ko*}.ko")
	done
	cp build/hammer2.ko "$st/lib/modules/"
	list+=(hammer2.ko)
	printf '%s\n' "${list[@]}" >"$st/lib/modules/load.list"

	# our tools, static
	# (the objects of the current sources: make all built them)
	for f in newfs_hammer2 fsck_hammer2 hammer2; do
		objs=()
		for c in sbin/$f/*.c; do
			objs+=("build/obj/${c%.c}.o")
		done
		cc -static -o "$st/vm/bin/$f" "${objs[@]}" build/libhammer2.a \
			$LDLIBS 2>"$OUT/link-$f.log" || {
			cat "$OUT/link-$f.log" >&2
			exit 1
		}
	done
	# the test programs
	for f in posix_suite h2files; do
		cc $VM_CFLAGS -static -o "$st/vm/bin/$f" tests/vm/$f.c
	done
	# the replayer shares the simulator's data generator (sim/util.c)
	cc $VM_CFLAGS -Isim -static -o "$st/vm/bin/h2replay" \
		tests/vm/h2replay.c sim/util.c
	cp "$st/vm/bin/h2replay" "$st/vm/bin/h2files" "$OUT/"

	# mke2fs (ext4: the harness's reference filesystem), dynamic
	add_dyn "$st" /usr/sbin/mke2fs
	ln -sf mke2fs "$st/usr/local/bin/mkfs.ext4"

	# scripts, traces
	install -m 0755 tests/vm/init.sh "$st/init"
	install -m 0755 tests/vm/vmtest.sh tests/vm/bench-guest.sh "$st/vm/"
	if [ -d "$OUT/traces" ]; then
		mkdir -p "$st/vm/traces"
		cp "$OUT"/traces/*.trace "$st/vm/traces/"
	fi
	echo "$K" >"$st/etc/kver"
	: >"$st/etc/fstab"
	echo "root:x:0:0:root:/root:/bin/sh" >"$st/etc/passwd"
	echo "root:x:0:" >"$st/etc/group"
	pack "$st" "$OUT/initramfs.cpio.gz"
	rm -rf "$st"
}

build_bench() {
	local st=$OUT/stage-bench
	rm -rf "$st"
	mkdir -p "$st"
	add_dyn "$st" /usr/bin/fio /usr/sbin/mkfs.xfs /usr/sbin/mkfs.btrfs
	# perf, when the host has it, for profiles (bench-guest.sh h2perf=)
	if [ -x /usr/bin/perf ] && ldd /usr/bin/perf >/dev/null 2>&1; then
		add_dyn "$st" /usr/bin/perf
	fi
	pack "$st" "$OUT/bench.cpio.gz"
	rm -rf "$st"
	cat "$OUT/initramfs.cpio.gz" "$OUT/bench.cpio.gz" \
		>"$OUT/initramfs-bench.cpio.gz"
}

mkdir -p "$OUT"
case "$WHAT" in
base) build_base ;;
bench) build_base && build_bench ;;
all) build_base && build_bench ;;
*)
	echo "usage: build-initramfs.sh [base|bench|all]" >&2
	exit 2
	;;
esac
echo "initramfs: $K $(du -h "$OUT/initramfs.cpio.gz" | cut -f1)"
