#!/bin/bash
# vmtest-host.sh - "make vmtest": the kernel module tested in a QEMU VM.
#
#   tests/vm/vmtest-host.sh            (VMTEST_FS=hammer2 by default)
#   VMTEST_FS=ext4 tests/vm/vmtest-host.sh   (the harness on ext4)
#
# On the host:
#   1. each capture of ../shared/workloads (or $WORKLOADS) is imported
#      with h2sim import-strace into build/vm/traces/ and replayed by the
#      simulator (h2sim run --crash none): one check each
#   2. build/vm/data.tar: manifest.sha256 (sha256sum of every file of
#      /usr/include) and include/, a GNU tar (whole-second mtimes)
#   3. build/vm/initramfs.cpio.gz (build-initramfs.sh)
#   4. boots the VM (run-vm.sh): vda results, vdb a fresh 4 GiB test image,
#      vdc data.tar, vdd a 1 GiB image made by newfs_hammer2 + hammer2
#      import of include/linux; the guest runs tests/vm/vmtest.sh; every
#      "ok"/"FAIL" line of its console is one check
#   5. after the guest unmounted cleanly: fsck_hammer2 on the image;
#      hammer2 -f IMG export /include equals data.tar extracted on the host
#      (scripts/treecmp.py: data, modes, mtimes, owners, symlink targets);
#      hammer2 export /replay/NAME equals the guest's tmpfs reference of
#      the same replay (h2replay -c: data, modes, owners, sizes, link
#      counts) - the kernel and the userland read each other's writes
#      (with VMTEST_FS=ext4: e2fsck -fn and debugfs rdump instead);
#      the kernel against the simulator: h2sim replays each trace again
#      and saves its image (--image), which must pass fsck_hammer2 and
#      whose "hammer2 dump /" must equal "hammer2 dump /replay/NAME" of the
#      kernel's image (one check per workload; hammer2 only);
#      fsck_hammer2 on vdd and what the kernel wrote there, read back with
#      hammer2 cat/stat
#
# Prints every check and ends with "vmtest: N passed, N failed"; exit 0 if
# nothing failed, 77 (skipped) if QEMU, the kernel image or busybox-static
# is missing.  Logs: build/vm/console.log, build/vm/results/.
# Environment: VMTEST_FS, VMTEST_TIMEOUT (seconds, default 1500),
# WORKLOADS (directory of *.strace.gz), VMTEST_KEEP=1 keeps the images.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

FS=${VMTEST_FS:-hammer2}
TMO=${VMTEST_TIMEOUT:-1500}
WL=${WORKLOADS:-$ROOT/../shared/workloads}
BIN=$ROOT/build/bin
# The guest's umask: nothing in init.sh or vmtest.sh changes the kernel's
# initial 022, so h2replay's mkdir/mknod/open(O_CREAT) modes reach the
# filesystem masked with it (see sim_vs_kernel).
GUEST_UMASK=022
PASS=0
FAIL=0
T_START=$(date +%s)

ok() {
	PASS=$((PASS + 1))
	echo "ok   $*"
}
bad() {
	FAIL=$((FAIL + 1))
	echo "FAIL $*"
}
finish() {
	echo "vmtest: total $(($(date +%s) - T_START)) s"
	echo "vmtest: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit $?
}

if ! why=$(h2_vm_ready); then
	echo "vmtest: skipped: $why"
	exit 77
fi
for f in "$BIN/newfs_hammer2" "$BIN/fsck_hammer2" "$BIN/hammer2" \
	"$BIN/h2sim" build/hammer2.ko build/libhammer2.a; do
	if [ ! -e "$f" ]; then
		bad "$f missing (make all kmod)"
		finish
	fi
done
mkdir -p "$VMDIR"
W=$(mktemp -d "${TMPDIR:-/tmp}/vmtest.XXXXXX")
[ -n "${VMTEST_KEEP:-}" ] || trap 'rm -rf "$W"' EXIT

# ----- 1. traces, and the simulator on them -----
rm -rf "$VMDIR/traces"
mkdir -p "$VMDIR/traces"
for s in "$WL"/*.strace.gz; do
	[ -e "$s" ] || continue
	n=$(basename "$s" .strace.gz)
	if ! "$BIN/h2sim" import-strace "$s" -o "$VMDIR/traces/$n.trace" \
		>"$W/import-$n.log" 2>&1; then
		bad "h2sim import-strace $n: $(tail -n 2 "$W/import-$n.log" | tr '\n' ' ')"
		rm -f "$VMDIR/traces/$n.trace"
		continue
	fi
	if "$BIN/h2sim" run "$VMDIR/traces/$n.trace" --crash none \
		>"$W/sim-$n.log" 2>&1; then
		ok "h2sim run $n --crash none: $(grep -o '[0-9]* ops' "$W/sim-$n.log" | head -n 1)"
	else
		bad "h2sim run $n --crash none: $(tail -n 3 "$W/sim-$n.log" | tr '\n' ' ')"
	fi
done
ls "$VMDIR"/traces/*.trace >/dev/null 2>&1 ||
	echo "vmtest: note: no workloads in $WL (no trace replays)"

# ----- 2. the data disk -----
DATA=$VMDIR/data.tar
if [ ! -s "$DATA" ] || [ /usr/include -nt "$DATA" ]; then
	mkdir -p "$W/man"
	(cd /usr && find include -type f -print0 | sort -z | xargs -0 sha256sum) \
		>"$W/man/manifest.sha256"
	tar --format=gnu -cf "$DATA.tmp" -C "$W/man" manifest.sha256 -C /usr include &&
		mv "$DATA.tmp" "$DATA"
fi
mkdir -p "$W/ref-include"
tar -xf "$DATA" -C "$W/ref-include" include

# ----- 3. initramfs -----
if ! tests/vm/build-initramfs.sh base >"$W/initramfs.log" 2>&1; then
	bad "build-initramfs.sh: $(tail -n 5 "$W/initramfs.log" | tr '\n' ' ')"
	finish
fi
ok "build-initramfs.sh: $(tail -n 1 "$W/initramfs.log" | sed 's/^initramfs: //')"

# ----- 4. the VM -----
RES=$VMDIR/results.img
IMG=$VMDIR/disk.img
rm -f "$RES" "$IMG"
truncate -s 256M "$RES"
truncate -s 4G "$IMG"
# the userland's image for the kernel: include/linux imported by the tools
UIMG=$VMDIR/userland.img
disks=("$RES" "$IMG" "$DATA")
if [ "$FS" = hammer2 ]; then
	rm -f "$UIMG"
	truncate -s 1G "$UIMG"
	if "$BIN/newfs_hammer2" "$UIMG" >"$W/unewfs.log" 2>&1 &&
		"$BIN/hammer2" -f "$UIMG" mkdir /include >>"$W/unewfs.log" 2>&1 &&
		"$BIN/hammer2" -f "$UIMG" import "$W/ref-include/include/linux" \
			/include/linux >>"$W/unewfs.log" 2>&1; then
		ok "host: newfs_hammer2 + hammer2 import include/linux for the kernel"
		disks+=("$UIMG")
	else
		bad "host: making the userland image: $(tail -n 3 "$W/unewfs.log" | tr '\n' ' ')"
	fi
fi
t0=$(date +%s)
tests/vm/run-vm.sh -q -t "$TMO" -a "h2mode=vmtest h2fs=$FS" \
	-l "$VMDIR/console.log" "${disks[@]}"
rc=$?
t1=$(date +%s)
CON=$VMDIR/console.log
echo "vmtest: VM ran $((t1 - t0)) s (QEMU exit $rc); console: $CON"
grep -E '^H2VM: (booted|modules|done)' "$CON" | sed 's/^/  /'
# every check the guest printed, and what it said around it
while IFS= read -r l; do
	case "$l" in
	"ok "*)
		PASS=$((PASS + 1))
		echo "$l"
		;;
	"FAIL "*)
		FAIL=$((FAIL + 1))
		echo "$l"
		;;
	"  "* | info* | H2VM-dmesg* | MISMATCH* | DIFF*) echo "$l" ;;
	esac
done < <(grep -aE '^(ok |FAIL |  |info|H2VM-dmesg|MISMATCH|DIFF)' "$CON")
if [ "$rc" -eq 124 ]; then
	bad "VM killed after $TMO s (hang?); last console lines:"
	tail -n 30 "$CON" | sed 's/^/  | /'
elif ! grep -q '^H2VM: done' "$CON"; then
	bad "VM did not finish (QEMU exit $rc); last console lines:"
	tail -n 40 "$CON" | sed 's/^/  | /'
else
	ok "VM booted, ran the test and powered off"
fi
rm -rf "$VMDIR/results"
mkdir -p "$VMDIR/results"
tar -xf "$RES" -C "$VMDIR/results" 2>/dev/null || true

# ----- 5. the image on the host -----
if ! grep -q '^H2VM-PHASE unmounted' "$CON"; then
	echo "vmtest: the guest did not unmount the test disk: no host-side checks"
	finish
fi
mkdir -p "$W/ref"
tar -xf "$VMDIR/results/ref.tar" -C "$W/ref" 2>/dev/null || true
# export NAME DIR: copy the image's /NAME into DIR
case "$FS" in
hammer2)
	if "$BIN/fsck_hammer2" "$IMG" >"$W/fsck.log" 2>&1; then
		ok "host: fsck_hammer2 on the image the kernel wrote"
	else
		bad "host: fsck_hammer2: $(tail -n 5 "$W/fsck.log" | tr '\n' ' ')"
	fi
	export_tree() { "$BIN/hammer2" -f "$IMG" export "/$1" "$2"; }
	;;
ext4)
	if e2fsck -fn "$IMG" >"$W/fsck.log" 2>&1; then
		ok "host: e2fsck -fn on the image"
	else
		bad "host: e2fsck -fn: $(tail -n 5 "$W/fsck.log" | tr '\n' ' ')"
	fi
	export_tree() {
		mkdir -p "$2" && debugfs -R "rdump /$1 $2" "$IMG" >/dev/null 2>&1 &&
			mv "$2/$(basename "$1")"/* "$2/" 2>/dev/null
		rm -rf "${2:?}/$(basename "$1")"
	}
	;;
*)
	export_tree() { false; }
	;;
esac
# file_mtimes A B: every regular file below A has B's mtime (microseconds)
file_mtimes() {
	python3 - "$1" "$2" <<'EOF'
import os, stat, sys
a, b = sys.argv[1:3]
n, bad = 0, []
for dp, dns, fns in os.walk(a):
    for f in fns:
        p = os.path.join(dp, f)
        sa = os.lstat(p)
        if not stat.S_ISREG(sa.st_mode):
            continue
        n += 1
        r = os.path.relpath(p, a)
        try:
            sb = os.lstat(os.path.join(b, r))
        except OSError as e:
            bad.append("%s: %s" % (r, e))
            continue
        if sa.st_mtime_ns // 1000 != sb.st_mtime_ns // 1000:
            bad.append("%s: %d vs %d" % (r, sa.st_mtime_ns, sb.st_mtime_ns))
for x in bad[:10]:
    print(x)
print("%d files, %d mtimes differ" % (n, len(bad)))
sys.exit(1 if bad else 0)
EOF
}
mkdir -p "$W/exp-include"
if export_tree include "$W/exp-include" >"$W/export.log" 2>&1; then
	# busybox tar sets a directory's times before it fills it and never
	# a symlink's: mtimes are compared for regular files only
	if python3 scripts/treecmp.py --skip mtime --max 20 \
		"$W/ref-include/include" "$W/exp-include" >"$W/treecmp.log" 2>&1; then
		ok "host: export /include equals /usr/include ($(tail -n 1 "$W/treecmp.log"))"
	else
		bad "host: export /include differs from /usr/include:"
		tail -n 21 "$W/treecmp.log" | sed 's/^/  /'
	fi
	if file_mtimes "$W/ref-include/include" "$W/exp-include" >"$W/mtimes.log" 2>&1; then
		ok "host: export /include: mtimes of regular files ($(tail -n 1 "$W/mtimes.log"))"
	else
		bad "host: export /include: mtimes of regular files differ:"
		tail -n 11 "$W/mtimes.log" | sed 's/^/  /'
	fi
else
	bad "host: export /include: $(tail -n 3 "$W/export.log" | tr '\n' ' ')"
fi
# umask_trace MASK <TRACE >OUT: TRACE with the modes of mkdir, mknod and
# open(O_CREAT) masked by MASK (octal), as the Linux VFS masks them before
# it calls the filesystem; h2sim has no umask (docs/SIM.md)
umask_trace() {
	python3 -c '
import sys
um = int(sys.argv[1], 8)
def num(s):  # TRACE.md numbers: 0x hex, 0 octal, else decimal
    return int(s, 16) if s.startswith("0x") else int(s, 8) if s.startswith("0") else int(s)
for line in sys.stdin:
    f = line.rstrip("\n").split(" ")
    i = {"mkdir": 2, "mknod": 3}.get(f[0])
    if f[0] == "open" and len(f) > 4 and "creat" in f[3].split("|"):
        i = 4
    if i is not None and len(f) > i:
        f[i] = "0%03o" % (num(f[i]) & ~um)
    print(" ".join(f))
' "$1"
}
# sim_vs_kernel NAME TRACE: one check - h2sim replays TRACE with --image,
# fsck_hammer2 passes on that image, and its "hammer2 dump /" equals
# "hammer2 dump /replay/NAME" of the kernel's image.  The replays differ
# only where the tree legitimately does:
#   - h2replay runs under the guest's umask, h2sim has none: h2sim gets
#     the trace with its creation modes masked (umask_trace);
#   - h2replay works below /replay/NAME, a directory mkdir made; h2sim in
#     the PFS root, which newfs made (both count links the same way:
#     2 + subdirectories).  Paths, and so the generated file contents
#     (keyed by the trace path), are the trace's on both sides.
sim_vs_kernel() {
	local n=$1 t=$2 d why=""
	d=$W/sim-vs-kernel-$n
	mkdir -p "$d"
	if ! umask_trace "$GUEST_UMASK" <"$t" >"$d/trace" 2>"$d/err"; then
		why="umask_trace: $(tail -n 2 "$d/err" | tr '\n' ' ')"
	elif ! "$BIN/h2sim" run "$d/trace" --crash none --image "$d/sim.img" \
		>"$d/sim.log" 2>&1; then
		why="h2sim run --image: $(tail -n 3 "$d/sim.log" | tr '\n' ' ')"
	elif ! "$BIN/fsck_hammer2" "$d/sim.img" >"$d/fsck.log" 2>&1; then
		why="fsck_hammer2 on h2sim's image: $(tail -n 3 "$d/fsck.log" | tr '\n' ' ')"
	elif ! "$BIN/hammer2" -f "$d/sim.img" dump / >"$d/sim.dump" 2>"$d/err"; then
		why="hammer2 dump of h2sim's image: $(tail -n 3 "$d/err" | tr '\n' ' ')"
	elif ! "$BIN/hammer2" -f "$IMG" dump "/replay/$n" >"$d/vm.dump" 2>"$d/err"; then
		why="hammer2 dump /replay/$n: $(tail -n 3 "$d/err" | tr '\n' ' ')"
	fi
	rm -f "$d/sim.img"
	if [ -n "$why" ]; then
		bad "host: /replay/$n against h2sim's image: $why"
	elif diff "$d/vm.dump" "$d/sim.dump" >"$d/diff"; then
		ok "host: /replay/$n equals h2sim's image of the same trace (hammer2 dump: $(wc -l <"$d/vm.dump") objects)"
	else
		bad "host: /replay/$n differs from h2sim's image of the same trace (< kernel, > h2sim):"
		grep -E '^[<>]' "$d/diff" | head -n 20 | sed 's/^/  /'
	fi
}
[ "$FS" = hammer2 ] ||
	echo "vmtest: note: $FS: no comparison with h2sim's images (hammer2 only)"
for t in "$VMDIR"/traces/*.trace; do
	[ -e "$t" ] || continue
	n=$(basename "$t" .trace)
	[ "$FS" = hammer2 ] && sim_vs_kernel "$n" "$t"
	mkdir -p "$W/exp-$n"
	if ! export_tree "replay/$n" "$W/exp-$n" >"$W/export-$n.log" 2>&1; then
		bad "host: export /replay/$n: $(tail -n 3 "$W/export-$n.log" | tr '\n' ' ')"
		continue
	fi
	if "$VMDIR/h2replay" -c "$W/exp-$n" "$W/ref/$n" >"$W/cmp-$n.log" 2>&1; then
		ok "host: export /replay/$n equals the guest's tmpfs replay ($(tail -n 1 "$W/cmp-$n.log"))"
	else
		bad "host: export /replay/$n differs from the guest's tmpfs replay:"
		tail -n 21 "$W/cmp-$n.log" | sed 's/^/  /'
	fi
done
# what the kernel changed in the userland's image
if grep -q '^H2VM-PHASE userland-image' "$CON"; then
	if "$BIN/fsck_hammer2" "$UIMG" >"$W/ufsck.log" 2>&1; then
		ok "host: fsck_hammer2 on the userland image after the kernel changed it"
	else
		bad "host: fsck_hammer2 on the userland image: $(tail -n 5 "$W/ufsck.log" | tr '\n' ' ')"
	fi
	# uimg_check: the kernel's changes, read with the userland tools
	uimg_check() {
		local h=(-f "$UIMG")
		[ "$("$BIN/hammer2" "${h[@]}" cat /from-kernel)" = "written by the kernel" ] ||
			{ echo "from-kernel: wrong content"; return 1; }
		"$BIN/hammer2" "${h[@]}" cat /include/linux/kernel.h.moved |
			cmp - "$W/ref-include/include/linux/kernel.h" ||
			{ echo "kernel.h.moved differs"; return 1; }
		if "$BIN/hammer2" "${h[@]}" stat /include/linux/kernel.h >/dev/null 2>&1 ||
			"$BIN/hammer2" "${h[@]}" stat /include/linux/types.h >/dev/null 2>&1; then
			echo "renamed/removed names still there"
			return 1
		fi
		"$BIN/hammer2" "${h[@]}" cat /kdir/h2replay | cmp - "$VMDIR/h2replay" ||
			{ echo "kdir/h2replay differs"; return 1; }
		"$BIN/hammer2" "${h[@]}" stat /kdir/h2replay | grep -q '0600/-rw-------' ||
			{ echo "kdir/h2replay: mode not 0600"; return 1; }
		"$BIN/hammer2" "${h[@]}" stat /kdir/sym | grep -q -- '-> ../from-kernel' ||
			{ echo "kdir/sym: wrong target"; return 1; }
	}
	if out=$(uimg_check 2>&1); then
		ok "host: the kernel's writes to the userland image read back with hammer2 cat/stat"
	else
		bad "host: the kernel's writes to the userland image: $out"
	fi
elif [ "$FS" = hammer2 ]; then
	bad "host: the guest did not finish with the userland image"
fi
[ -n "${VMTEST_KEEP:-}" ] && echo "vmtest: kept $W, $IMG and $UIMG"
[ -n "${VMTEST_KEEP:-}" ] || rm -f "$IMG" "$UIMG"
finish
