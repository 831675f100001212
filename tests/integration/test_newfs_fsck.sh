#!/bin/bash
#
# test_newfs_fsck.sh - integration tests of newfs_hammer2 and fsck_hammer2.
#
# Environment:
#   BIN     directory holding newfs_hammer2 and fsck_hammer2 (default
#           build/bin relative to the repository root)
#   TMPDIR  where sparse test images are created (default /tmp); needs a
#           few MiB of real space (images are sparse)
#
# Prints one line per check and, as the last line,
#   test_newfs_fsck: N passed, N failed
# Exits nonzero if any check failed.

set -u
NAME=test_newfs_fsck
. "$(dirname "$0")/lib.sh"
ERR_SHOW="head -n 40"
NEWFS=$BIN/newfs_hammer2
FSCK=$BIN/fsck_hammer2

# run NAME CMD...: runs CMD, output in $W/NAME.out, status in $rc.
run_log() {
	local name=$1
	shift
	"$@" >"$W/$name.out" 2>&1
	rc=$?
	out=$W/$name.out
}

# expect_rc_of NAME WANT: the last run_log exited WANT.
expect_rc_of() {
	if [ "$rc" -eq "$2" ]; then
		ok "$1 (exit $rc)"
	else
		bad "$1: exit $rc, expected $2" "$out"
	fi
}

# allocator_beg printed by newfs (hex, with 0x) from output file $1.
alloc_beg_of() {
	sed -n 's/^allocator-beg: *\(0x[0-9a-fA-F]*\).*/\1/p' "$1"
}

if ! need_tools "$BIN" newfs_hammer2 fsck_hammer2; then
	report
	exit 1
fi

# ---------------------------------------------------------------------
# 1. A new 1 GiB sparse image, default labels.
img=$W/one.img
run_log newfs1 "$NEWFS" -s 1g "$img"
expect_rc_of "newfs on a new 1 GiB image" 0
out_has "newfs prints the total size" '^total-size: +1\.00GB \(1073741824 bytes\)' "$out"
out_has "newfs prints the fsid" '^vol-fsid: +[0-9a-f]{8}-[0-9a-f]{4}-' "$out"
out_has "newfs creates PFS LOCAL" '^PFS "LOCAL"' "$out"
out_has "newfs creates PFS DATA by default" '^PFS "DATA"' "$out"
out_has "1 GiB: 32 MiB boot area" '^boot-area-size: .*\(33554432 bytes\)' "$out"
out_has "1 GiB: 32 MiB aux area" '^aux-area-size: .*\(33554432 bytes\)' "$out"
out_has "1 GiB: allocator_beg after 3 inodes" '^allocator-beg: +0x0000000004400c00' "$out"
if [ "$(stat -c %s "$img")" = 1073741824 ]; then
	ok "image has the requested size"
else
	bad "image size $(stat -c %s "$img") != 1073741824"
fi
if [ "$(du -k "$img" | cut -f1)" -lt 65536 ]; then
	ok "image stays sparse"
else
	bad "image uses $(du -k "$img" | cut -f1) KiB"
fi
ab1=$(alloc_beg_of "$out")
run_log fsck1 "$FSCK" "$img"
expect_rc_of "fsck of a fresh 1 GiB image" 0
out_has "fsck reports clean" 'clean' "$out"
out_has "fsck counts 3 inodes" '3 blockrefs \(3 inode' "$out"
run_log fsck1v "$FSCK" -v -n "$img"
expect_rc_of "fsck -v -n of a fresh image" 0
run_log fsck1q "$FSCK" -q "$img"
expect_rc_of "fsck -q of a fresh image" 0
out_lacks "fsck -q prints no header lines" '^volume header copy' "$out"

# ---------------------------------------------------------------------
# 2. Labels.
img2=$W/labels.img
run_log newfs2 "$NEWFS" -L A,B -s 1g "$img2"
expect_rc_of "newfs -L A,B" 0
out_has "PFS A created" '^PFS "A"' "$out"
out_has "PFS B created" '^PFS "B"' "$out"
out_has "PFS LOCAL still created" '^PFS "LOCAL"' "$out"
out_lacks "no default DATA with -L" '^PFS "DATA"' "$out"
run_log fsck2 "$FSCK" "$img2"
expect_rc_of "fsck after newfs -L A,B" 0
out_has "fsck counts 4 inodes" '4 blockrefs \(4 inode' "$out"

run_log newfs2b "$NEWFS" -L none -s 1g "$W/none.img"
expect_rc_of "newfs -L none" 0
out_lacks "-L none creates only LOCAL" '^PFS "(DATA|none)"' "$out"
run_log fsck2b "$FSCK" "$W/none.img"
expect_rc_of "fsck after newfs -L none" 0

run_log newfs2c "$NEWFS" -L X -L Y,Z -C sha192 -c zlib:9 -s 1g "$W/max.img"
expect_rc_of "newfs with 3 user labels, sha192, zlib:9" 0
run_log fsck2c "$FSCK" "$W/max.img"
expect_rc_of "fsck after 3 labels" 0
out_has "fsck counts 5 inodes" '5 blockrefs \(5 inode' "$out"

run_log newfs2d "$NEWFS" -V 1 -C crc32 -c none -s 1g "$W/v1.img"
expect_rc_of "newfs -V 1 -C crc32 -c none" 0
run_log fsck2d "$FSCK" "$W/v1.img"
expect_rc_of "fsck of a version 1 volume" 0

# 2 GiB: existing file used at its size; layout facts.
truncate -s 2g "$W/two.img"
run_log newfs2e "$NEWFS" "$W/two.img"
expect_rc_of "newfs on an existing 2 GiB file" 0
out_has "2 GiB: 64 MiB boot area" '^boot-area-size: .*\(67108864 bytes\)' "$out"
out_has "2 GiB: 64 MiB aux area" '^aux-area-size: .*\(67108864 bytes\)' "$out"
out_has "2 GiB: allocator_beg" '^allocator-beg: +0x0000000008400c00' "$out"
out_has "2 GiB: one volume header copy" '^volume-headers: +1$' "$out"
run_log fsck2e "$FSCK" "$W/two.img"
expect_rc_of "fsck of the 2 GiB image" 0

# -s on an existing file resizes it.
run_log newfs2f "$NEWFS" -s 1536m "$W/two.img"
expect_rc_of "newfs -s shrinks an existing image" 0
if [ "$(stat -c %s "$W/two.img")" = $((1536 * 1048576)) ]; then
	ok "image resized to -s"
else
	bad "image size $(stat -c %s "$W/two.img") after -s 1536m"
fi
run_log fsck2f "$FSCK" "$W/two.img"
expect_rc_of "fsck after resize" 0

# ---------------------------------------------------------------------
# 3. Command line errors: usage and exit 2.
run_log usage1 "$NEWFS" -Z "$W/u.img"
expect_rc_of "newfs bad option" 2
out_has "newfs bad option prints usage" '^usage: newfs_hammer2' "$out"
run_log usage2 "$NEWFS" -s 1g
expect_rc_of "newfs missing device" 2
out_has "newfs missing device prints usage" '^usage: newfs_hammer2' "$out"
run_log usage3 "$NEWFS" -C bogus -s 1g "$W/u.img"
expect_rc_of "newfs bad -C" 2
out_has "newfs bad -C prints usage" '^usage: newfs_hammer2' "$out"
run_log usage4 "$NEWFS" -c lz4:3 -s 1g "$W/u.img"
expect_rc_of "newfs bad -c" 2
run_log usage5 "$NEWFS" -L a,b,c,d -s 1g "$W/u.img"
expect_rc_of "newfs more than 3 labels" 2
out_has "too many labels message" 'too many labels' "$out"
run_log usage6 "$NEWFS" -s 12q "$W/u.img"
expect_rc_of "newfs bad -s suffix" 2
run_log usage7 "$NEWFS" -V 9 -s 1g "$W/u.img"
expect_rc_of "newfs bad -V" 2
run_log usage8 "$NEWFS" -s 1g "$W/u.img" "$W/v.img"
expect_rc_of "newfs two devices" 2
if [ ! -e "$W/u.img" ]; then
	ok "usage errors create no image"
else
	bad "a usage error created $W/u.img"
fi
run_log usage9 "$FSCK" -x "$img"
expect_rc_of "fsck bad option" 2
out_has "fsck bad option prints usage" '^usage: fsck_hammer2' "$out"
run_log usage10 "$FSCK"
expect_rc_of "fsck missing device" 2

# ---------------------------------------------------------------------
# 4. Too small volumes: exit 1.
run_log small1 "$NEWFS" -s 16m "$W/small.img"
expect_rc_of "newfs -s 16m (below the 1 GiB minimum)" 1
out_has "too small message" 'too small' "$out"
truncate -s 16m "$W/small2.img"
run_log small2 "$NEWFS" "$W/small2.img"
expect_rc_of "newfs on an existing 16 MiB file" 1
out_has "too small message (existing file)" 'too small' "$out"
run_log small3 "$NEWFS" "$W/missing.img"
expect_rc_of "newfs on a missing file without -s" 1

# ---------------------------------------------------------------------
# 5. fsck on things that are not HAMMER2.
head -c 1048576 /dev/zero >"$W/zero.img"
run_log nothf "$FSCK" "$W/zero.img"
expect_rc_of "fsck on a zero-filled file" 8
out_has "not-HAMMER2 message" 'not a HAMMER2' "$out"
printf 'hello' >"$W/tiny.img"
run_log tiny "$FSCK" "$W/tiny.img"
expect_rc_of "fsck on a 5-byte file" 8
run_log nofile "$FSCK" "$W/does-not-exist.img"
expect_rc_of "fsck on a missing file" 8

# ---------------------------------------------------------------------
# 6. Corruption: volume header copy 0 of a 1 GiB image (single copy).
cp --sparse=always "$img" "$W/vh1.img"
flip "$W/vh1.img" 256
run_log vh1 "$FSCK" "$W/vh1.img"
expect_rc_of "fsck with the only volume header corrupt" 4
out_has "bad copy reported by zone and offset" 'copy 0 \(zone 0, offset 0x0000000000000000\).*CRC mismatch' "$out"
out_has "no valid header reported" 'no valid volume header' "$out"

# Multi-copy: a 5 GiB image has copies at 0, 2 GiB and 4 GiB.
big=$W/five.img
run_log newfs5 "$NEWFS" -s 5g "$big"
expect_rc_of "newfs on a 5 GiB image" 0
out_has "5 GiB: three volume header copies" '^volume-headers: +3$' "$out"
run_log fsck5 "$FSCK" "$big"
expect_rc_of "fsck of a fresh 5 GiB image" 0
out_has "all three copies ok" 'copy 2 \(zone 2, offset 0x0000000100000000\): ok' "$out"
flip "$big" 256
run_log fsck5b "$FSCK" "$big"
expect_rc_of "fsck with copy 0 corrupt" 4
out_has "corrupt copy 0 named" 'copy 0 \(zone 0, offset 0x0000000000000000\).*CRC mismatch' "$out"
out_has "fsck falls back to another copy" 'using volume header copy [12]' "$out"
out_has "fsck still walks the tree" '3 blockrefs \(3 inode' "$out"
flip "$big" 256
run_log fsck5c "$FSCK" "$big"
expect_rc_of "fsck after restoring copy 0" 0
flip "$big" $((2 * 1024 * 1024 * 1024 + 0x230))
run_log fsck5d "$FSCK" "$big"
expect_rc_of "fsck with copy 1's sroot blockset corrupt" 4
out_has "corrupt copy 1 named" 'copy 1 \(zone 1, offset 0x0000000080000000\)' "$out"

# ---------------------------------------------------------------------
# 7. Corruption: the super-root inode and a PFS inode.
if [ -n "$ab1" ]; then
	base=$(( ab1 & ~0xffff ))
	sroot_off=$(printf '%016x' $((base | 10)))
	pfs_off=$(printf '%016x' $(((base + 1024) | 10)))

	cp --sparse=always "$img" "$W/sroot.img"
	flip "$W/sroot.img" $((base + 16))
	run_log sroot "$FSCK" "$W/sroot.img"
	expect_rc_of "fsck with the super-root inode corrupt" 4
	out_has "bad super-root block named" "^ERROR: $sroot_off inode .*check code mismatch" "$out"

	cp --sparse=always "$img" "$W/pfs.img"
	flip "$W/pfs.img" $((base + 1024 + 16))
	run_log pfs "$FSCK" "$W/pfs.img"
	expect_rc_of "fsck with a PFS inode corrupt" 4
	out_has "bad PFS inode block named" "^ERROR: $pfs_off inode .*check code mismatch" "$out"

	# The PFS bref inside the super-root: clobber its type byte.  The
	# super-root's check code then fails first; either way no crash.
	cp --sparse=always "$img" "$W/bref.img"
	flip "$W/bref.img" $((base + 512))
	run_log bref "$FSCK" "$W/bref.img"
	expect_rc_of "fsck with a blockref in the super-root corrupt" 4

	# Garbage over the whole inode block.
	cp --sparse=always "$img" "$W/garbage.img"
	head -c 65536 /dev/urandom |
		dd of="$W/garbage.img" bs=65536 seek=$((base / 65536)) \
			conv=notrunc status=none
	run_log garbage "$FSCK" -v "$W/garbage.img"
	expect_rc_of "fsck with a random inode block" 4
else
	bad "could not find allocator-beg in newfs output"
fi

report
