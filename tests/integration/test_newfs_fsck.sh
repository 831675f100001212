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

here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../../build/bin}
TMPDIR=${TMPDIR:-/tmp}
NEWFS=$BIN/newfs_hammer2
FSCK=$BIN/fsck_hammer2

passed=0
failed=0

work=$(mktemp -d "$TMPDIR/test_newfs_fsck.XXXXXX") || {
	echo "test_newfs_fsck: cannot create a work directory in $TMPDIR"
	echo "test_newfs_fsck: 0 passed, 1 failed"
	exit 1
}
trap 'rm -rf "$work"' EXIT

ok() {
	passed=$((passed + 1))
	echo "PASS: $1"
}

bad() {
	failed=$((failed + 1))
	echo "FAIL: $1"
	if [ -n "${2:-}" ] && [ -f "$2" ]; then
		sed 's/^/    | /' "$2" | head -40
	fi
}

# run NAME CMD...: runs CMD, output in $work/NAME.out, status in $rc.
run() {
	local name=$1
	shift
	"$@" >"$work/$name.out" 2>&1
	rc=$?
	out=$work/$name.out
}

# expect_rc NAME WANT: the last run exited WANT (and did not crash).
expect_rc() {
	if [ "$rc" -eq "$2" ]; then
		ok "$1 (exit $rc)"
	else
		bad "$1: exit $rc, expected $2" "$out"
	fi
}

# expect_out NAME REGEX: the last run's output matches REGEX.
expect_out() {
	if grep -Eq -- "$2" "$out"; then
		ok "$1"
	else
		bad "$1: output does not match /$2/" "$out"
	fi
}

expect_no_out() {
	if grep -Eq -- "$2" "$out"; then
		bad "$1: output unexpectedly matches /$2/" "$out"
	else
		ok "$1"
	fi
}

# flip_byte FILE OFFSET: invert one byte in place.
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	b=$((b ^ 255))
	printf "\\$(printf %03o "$b")" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# allocator_beg printed by newfs (hex, with 0x) from output file $1.
alloc_beg_of() {
	sed -n 's/^allocator-beg: *\(0x[0-9a-fA-F]*\).*/\1/p' "$1"
}

for prog in "$NEWFS" "$FSCK"; do
	if [ ! -x "$prog" ]; then
		echo "test_newfs_fsck: $prog not found (set BIN)"
		echo "test_newfs_fsck: 0 passed, 1 failed"
		exit 1
	fi
done

# ---------------------------------------------------------------------
# 1. A new 1 GiB sparse image, default labels.
img=$work/one.img
run newfs1 "$NEWFS" -s 1g "$img"
expect_rc "newfs on a new 1 GiB image" 0
expect_out "newfs prints the total size" '^total-size: +1\.00GB \(1073741824 bytes\)'
expect_out "newfs prints the fsid" '^vol-fsid: +[0-9a-f]{8}-[0-9a-f]{4}-'
expect_out "newfs creates PFS LOCAL" '^PFS "LOCAL"'
expect_out "newfs creates PFS DATA by default" '^PFS "DATA"'
expect_out "1 GiB: 32 MiB boot area" '^boot-area-size: .*\(33554432 bytes\)'
expect_out "1 GiB: 32 MiB aux area" '^aux-area-size: .*\(33554432 bytes\)'
expect_out "1 GiB: allocator_beg after 3 inodes" '^allocator-beg: +0x0000000004400c00'
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
run fsck1 "$FSCK" "$img"
expect_rc "fsck of a fresh 1 GiB image" 0
expect_out "fsck reports clean" 'clean'
expect_out "fsck counts 3 inodes" '3 blockrefs \(3 inode'
run fsck1v "$FSCK" -v -n "$img"
expect_rc "fsck -v -n of a fresh image" 0
run fsck1q "$FSCK" -q "$img"
expect_rc "fsck -q of a fresh image" 0
expect_no_out "fsck -q prints no header lines" '^volume header copy'

# ---------------------------------------------------------------------
# 2. Labels.
img2=$work/labels.img
run newfs2 "$NEWFS" -L A,B -s 1g "$img2"
expect_rc "newfs -L A,B" 0
expect_out "PFS A created" '^PFS "A"'
expect_out "PFS B created" '^PFS "B"'
expect_out "PFS LOCAL still created" '^PFS "LOCAL"'
expect_no_out "no default DATA with -L" '^PFS "DATA"'
run fsck2 "$FSCK" "$img2"
expect_rc "fsck after newfs -L A,B" 0
expect_out "fsck counts 4 inodes" '4 blockrefs \(4 inode'

run newfs2b "$NEWFS" -L none -s 1g "$work/none.img"
expect_rc "newfs -L none" 0
expect_no_out "-L none creates only LOCAL" '^PFS "(DATA|none)"'
run fsck2b "$FSCK" "$work/none.img"
expect_rc "fsck after newfs -L none" 0

run newfs2c "$NEWFS" -L X -L Y,Z -C sha192 -c zlib:9 -s 1g "$work/max.img"
expect_rc "newfs with 3 user labels, sha192, zlib:9" 0
run fsck2c "$FSCK" "$work/max.img"
expect_rc "fsck after 3 labels" 0
expect_out "fsck counts 5 inodes" '5 blockrefs \(5 inode'

run newfs2d "$NEWFS" -V 1 -C crc32 -c none -s 1g "$work/v1.img"
expect_rc "newfs -V 1 -C crc32 -c none" 0
run fsck2d "$FSCK" "$work/v1.img"
expect_rc "fsck of a version 1 volume" 0

# 2 GiB: existing file used at its size; layout facts.
truncate -s 2g "$work/two.img"
run newfs2e "$NEWFS" "$work/two.img"
expect_rc "newfs on an existing 2 GiB file" 0
expect_out "2 GiB: 64 MiB boot area" '^boot-area-size: .*\(67108864 bytes\)'
expect_out "2 GiB: 64 MiB aux area" '^aux-area-size: .*\(67108864 bytes\)'
expect_out "2 GiB: allocator_beg" '^allocator-beg: +0x0000000008400c00'
expect_out "2 GiB: one volume header copy" '^volume-headers: +1$'
run fsck2e "$FSCK" "$work/two.img"
expect_rc "fsck of the 2 GiB image" 0

# -s on an existing file resizes it.
run newfs2f "$NEWFS" -s 1536m "$work/two.img"
expect_rc "newfs -s shrinks an existing image" 0
if [ "$(stat -c %s "$work/two.img")" = $((1536 * 1048576)) ]; then
	ok "image resized to -s"
else
	bad "image size $(stat -c %s "$work/two.img") after -s 1536m"
fi
run fsck2f "$FSCK" "$work/two.img"
expect_rc "fsck after resize" 0

# ---------------------------------------------------------------------
# 3. Command line errors: usage and exit 2.
run usage1 "$NEWFS" -Z "$work/u.img"
expect_rc "newfs bad option" 2
expect_out "newfs bad option prints usage" '^usage: newfs_hammer2'
run usage2 "$NEWFS" -s 1g
expect_rc "newfs missing device" 2
expect_out "newfs missing device prints usage" '^usage: newfs_hammer2'
run usage3 "$NEWFS" -C bogus -s 1g "$work/u.img"
expect_rc "newfs bad -C" 2
expect_out "newfs bad -C prints usage" '^usage: newfs_hammer2'
run usage4 "$NEWFS" -c lz4:3 -s 1g "$work/u.img"
expect_rc "newfs bad -c" 2
run usage5 "$NEWFS" -L a,b,c,d -s 1g "$work/u.img"
expect_rc "newfs more than 3 labels" 2
expect_out "too many labels message" 'too many labels'
run usage6 "$NEWFS" -s 12q "$work/u.img"
expect_rc "newfs bad -s suffix" 2
run usage7 "$NEWFS" -V 9 -s 1g "$work/u.img"
expect_rc "newfs bad -V" 2
run usage8 "$NEWFS" -s 1g "$work/u.img" "$work/v.img"
expect_rc "newfs two devices" 2
if [ ! -e "$work/u.img" ]; then
	ok "usage errors create no image"
else
	bad "a usage error created $work/u.img"
fi
run usage9 "$FSCK" -x "$img"
expect_rc "fsck bad option" 2
expect_out "fsck bad option prints usage" '^usage: fsck_hammer2'
run usage10 "$FSCK"
expect_rc "fsck missing device" 2

# ---------------------------------------------------------------------
# 4. Too small volumes: exit 1.
run small1 "$NEWFS" -s 16m "$work/small.img"
expect_rc "newfs -s 16m (below the 1 GiB minimum)" 1
expect_out "too small message" 'too small'
truncate -s 16m "$work/small2.img"
run small2 "$NEWFS" "$work/small2.img"
expect_rc "newfs on an existing 16 MiB file" 1
expect_out "too small message (existing file)" 'too small'
run small3 "$NEWFS" "$work/missing.img"
expect_rc "newfs on a missing file without -s" 1

# ---------------------------------------------------------------------
# 5. fsck on things that are not HAMMER2.
head -c 1048576 /dev/zero >"$work/zero.img"
run nothf "$FSCK" "$work/zero.img"
expect_rc "fsck on a zero-filled file" 8
expect_out "not-HAMMER2 message" 'not a HAMMER2'
printf 'hello' >"$work/tiny.img"
run tiny "$FSCK" "$work/tiny.img"
expect_rc "fsck on a 5-byte file" 8
run nofile "$FSCK" "$work/does-not-exist.img"
expect_rc "fsck on a missing file" 8

# ---------------------------------------------------------------------
# 6. Corruption: volume header copy 0 of a 1 GiB image (single copy).
cp --sparse=always "$img" "$work/vh1.img"
flip_byte "$work/vh1.img" 256
run vh1 "$FSCK" "$work/vh1.img"
expect_rc "fsck with the only volume header corrupt" 4
expect_out "bad copy reported by zone and offset" 'copy 0 \(zone 0, offset 0x0000000000000000\).*CRC mismatch'
expect_out "no valid header reported" 'no valid volume header'

# Multi-copy: a 5 GiB image has copies at 0, 2 GiB and 4 GiB.
big=$work/five.img
run newfs5 "$NEWFS" -s 5g "$big"
expect_rc "newfs on a 5 GiB image" 0
expect_out "5 GiB: three volume header copies" '^volume-headers: +3$'
run fsck5 "$FSCK" "$big"
expect_rc "fsck of a fresh 5 GiB image" 0
expect_out "all three copies ok" 'copy 2 \(zone 2, offset 0x0000000100000000\): ok'
flip_byte "$big" 256
run fsck5b "$FSCK" "$big"
expect_rc "fsck with copy 0 corrupt" 4
expect_out "corrupt copy 0 named" 'copy 0 \(zone 0, offset 0x0000000000000000\).*CRC mismatch'
expect_out "fsck falls back to another copy" 'using volume header copy [12]'
expect_out "fsck still walks the tree" '3 blockrefs \(3 inode'
flip_byte "$big" 256
run fsck5c "$FSCK" "$big"
expect_rc "fsck after restoring copy 0" 0
flip_byte "$big" $((2 * 1024 * 1024 * 1024 + 0x230))
run fsck5d "$FSCK" "$big"
expect_rc "fsck with copy 1's sroot blockset corrupt" 4
expect_out "corrupt copy 1 named" 'copy 1 \(zone 1, offset 0x0000000080000000\)'

# ---------------------------------------------------------------------
# 7. Corruption: the super-root inode and a PFS inode.
if [ -n "$ab1" ]; then
	base=$(( ab1 & ~0xffff ))
	sroot_off=$(printf '%016x' $((base | 10)))
	pfs_off=$(printf '%016x' $(((base + 1024) | 10)))

	cp --sparse=always "$img" "$work/sroot.img"
	flip_byte "$work/sroot.img" $((base + 16))
	run sroot "$FSCK" "$work/sroot.img"
	expect_rc "fsck with the super-root inode corrupt" 4
	expect_out "bad super-root block named" "^ERROR: $sroot_off inode .*check code mismatch"

	cp --sparse=always "$img" "$work/pfs.img"
	flip_byte "$work/pfs.img" $((base + 1024 + 16))
	run pfs "$FSCK" "$work/pfs.img"
	expect_rc "fsck with a PFS inode corrupt" 4
	expect_out "bad PFS inode block named" "^ERROR: $pfs_off inode .*check code mismatch"

	# The PFS bref inside the super-root: clobber its type byte.  The
	# super-root's check code then fails first; either way no crash.
	cp --sparse=always "$img" "$work/bref.img"
	flip_byte "$work/bref.img" $((base + 512))
	run bref "$FSCK" "$work/bref.img"
	expect_rc "fsck with a blockref in the super-root corrupt" 4

	# Garbage over the whole inode block.
	cp --sparse=always "$img" "$work/garbage.img"
	head -c 65536 /dev/urandom |
		dd of="$work/garbage.img" bs=65536 seek=$((base / 65536)) \
			conv=notrunc status=none
	run garbage "$FSCK" -v "$work/garbage.img"
	expect_rc "fsck with a random inode block" 4
else
	bad "could not find allocator-beg in newfs output"
fi

echo "test_newfs_fsck: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
