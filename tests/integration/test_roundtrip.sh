#!/bin/bash
# test_roundtrip.sh - import a generated tree into a fresh image, export it
# in a separate process (close + reopen) and compare exactly: file data,
# types, modes (set-id bits included), uid/gid, mtimes (microseconds),
# symlink targets, device numbers; holes must stay holes.  Then fsck.
# Repeated for several compression/check settings, and with $ASAN_BIN.
#
# Environment: BIN (default build/bin), ASAN_BIN (optional), SRCDIR, TMPDIR.
# Last line: "test_roundtrip: N passed, N failed".
set -u
NAME=test_roundtrip
. "$(dirname "$0")/lib.sh"

# ----- the source tree -----
SRC=$W/src
gen_tree() {
	local d=$SRC
	mkdir -p "$d"
	# sizes around every boundary that matters (embedded 512, 1 KiB
	# allocation, 64 KiB blocks, indirect blocks)
	for s in 0 1 511 512 513 1023 1024 4095 65535 65536 65537 1048583; do
		head -c "$s" /dev/urandom >"$d/rand_$s"
		yes 'highly compressible text, line after line' | head -c "$s" >"$d/text_$s"
	done
	head -c 3145728 /dev/urandom >"$d/random_3m"
	yes 'the quick brown fox jumps over the lazy dog' | head -c 2097152 >"$d/text_2m"
	head -c 300000 /dev/zero >"$d/zeros_300k"
	head -c 65536 /dev/zero >"$d/zeros_64k"
	# sparse: data in the middle, a hole at the start and at the end
	truncate -s 10M "$d/sparse_mid"
	printf 'island of data' | dd of="$d/sparse_mid" bs=1 seek=3145728 conv=notrunc status=none
	truncate -s 5M "$d/sparse_all"
	head -c 70000 /dev/urandom >"$d/sparse_tail"
	truncate -s 8M "$d/sparse_tail"
	truncate -s 6M "$d/sparse_head"
	head -c 1000 /dev/urandom | dd of="$d/sparse_head" bs=1 seek=6290000 conv=notrunc status=none
	# nested directories
	local n="$d/nest"
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		n="$n/level$i"
	done
	mkdir -p "$n"
	echo deep >"$n/deep.txt"
	mkdir "$d/empty_dir"
	# a big directory (indirect blocks in the directory)
	mkdir "$d/many"
	for i in $(seq 1 300); do
		echo "entry $i" >"$d/many/file_$i"
	done
	mkdir "$d/many/subdir"
	# names
	local long255
	long255=$(printf 'n%.0s' $(seq 1 255))
	echo long >"$d/$long255"
	mkdir "$d/d$(printf 'x%.0s' $(seq 1 254))"
	echo spaced >"$d/name with spaces"
	echo unicode >"$d/ünïcödé-名前"
	echo dots >"$d/..hidden..."
	# symlinks
	ln -s rand_1 "$d/link_rel"
	ln -s /etc/hostname "$d/link_abs"
	ln -s does/not/exist "$d/link_dangling"
	ln -s "$(printf 'a/%.0s' $(seq 1 300))target" "$d/link_long"
	ln -s nest "$d/link_dir"
	# special files
	mkfifo "$d/fifo"
	# hard links: three names of one file, one of them in another directory
	echo "linked content" >"$d/hard_a"
	ln "$d/hard_a" "$d/hard_b"
	ln "$d/hard_a" "$d/nest/hard_c"
	if [ "$(id -u)" -eq 0 ]; then
		mknod "$d/cdev" c 1 3
		mknod "$d/bdev" b 7 200
		chown 1234:5678 "$d/text_1"
		chown -h 4321:8765 "$d/link_rel"
	fi
	# modes
	chmod 0600 "$d/rand_1"
	chmod 0755 "$d/rand_511"
	chmod 04755 "$d/rand_512"
	chmod 02711 "$d/rand_513"
	chmod 0444 "$d/text_1023"
	chmod 01777 "$d/empty_dir"
	chmod 0700 "$d/many/subdir"
	# times: files, a symlink and directories (directories last)
	touch -h -d '2001-02-03 04:05:06.123456789' "$d/rand_0" "$d/link_rel"
	touch -d '1999-12-31 23:59:59' "$d/text_0"
	touch -d '2030-01-01 00:00:01.5' "$d/many/file_1"
	touch -d '2010-10-10 10:10:10' "$d/empty_dir" "$d/many" "$d/nest/level1"
}

# ----- comparison: everything, holes included -----
treecmp() {
	python3 "$SRCDIR/scripts/treecmp.py" --holes "$@"
}

# roundtrip BINDIR TAG NEWFS_OPTS...
roundtrip() {
	local B=$1 tag=$2
	shift 2
	local IMG=$W/rt.img OUT=$W/out_$tag
	rm -rf "$IMG" "$OUT"
	TAG="[$tag] "
	need_tools "$B" hammer2 newfs_hammer2 || return
	expect_rc 0 "newfs $*" "$B/newfs_hammer2" -s 2g "$@" "$IMG" || return
	expect_rc 0 "import" "$B/hammer2" -f "$IMG" import "$SRC" /tree/copy || return
	expect_rc 0 "export (new process)" "$B/hammer2" -f "$IMG" export /tree/copy "$OUT" || return
	if treecmp "$SRC" "$OUT" >"$W/cmp" 2>&1; then
		ok "exported tree equals the source ($(tail -n 1 "$W/cmp"))"
	else
		bad "exported tree differs" "$W/cmp"
	fi
	if [ "$(stat -c '%h %i' "$OUT/hard_a")" = "$(stat -c '%h %i' "$OUT/nest/hard_c")" ] &&
		[ "$(stat -c %h "$OUT/hard_b")" = 3 ]; then
		ok "hard links kept (3 names, one inode)"
	else
		bad "hard links: $(stat -c '%h %i %n' "$OUT/hard_a" "$OUT/hard_b" "$OUT/nest/hard_c" 2>&1)"
	fi
	expect_rc 0 "stat of the sparse file" "$B/hammer2" -f "$IMG" stat /tree/copy/sparse_mid &&
		if awk '/Physical:/ { for (i = 1; i <= NF; i++) if ($i == "Physical:") p = $(i + 1) } END { exit !(p < 1048576) }' "$W/out"; then
			ok "sparse file uses little media"
		else
			bad "sparse file: $(grep Physical "$W/out")"
		fi
	expect_rc 0 "cat of a 1 MiB+7 file" "$B/hammer2" -f "$IMG" cat /tree/copy/rand_1048583 &&
		if cmp -s "$W/out" "$SRC/rand_1048583"; then ok "cat matches"; else bad "cat differs"; fi
	expect_rc 0 "show" "$B/hammer2" -f "$IMG" show &&
		if grep -q FAILED "$W/out"; then bad "show reports FAILED blocks"; else ok "show: all blocks ok"; fi
	if [ -x "$B/fsck_hammer2" ]; then
		expect_rc 0 "fsck" "$B/fsck_hammer2" "$IMG"
	else
		echo "skip [$tag] fsck_hammer2 not built"
	fi
	# a second import on top replaces files and merges directories
	expect_rc 0 "re-import over the same tree" "$B/hammer2" -f "$IMG" import "$SRC" /tree/copy &&
		expect_rc 0 "export after re-import" "$B/hammer2" -f "$IMG" export /tree/copy "$OUT.2" &&
		if treecmp "$SRC" "$OUT.2" >"$W/cmp" 2>&1; then
			ok "re-imported tree equals the source"
		else
			bad "re-imported tree differs: $(head -n 3 "$W/cmp")"
		fi
	rm -rf "$IMG" "$OUT" "$OUT.2"
}

gen_tree
roundtrip "$BIN" default
roundtrip "$BIN" zlib-sha192 -c zlib -C sha192
roundtrip "$BIN" zlib9-crc32 -c zlib:9 -C crc32
roundtrip "$BIN" none-none -c none -C none
if have_asan; then
	roundtrip "$ASAN_BIN" asan-default
	roundtrip "$ASAN_BIN" asan-zlib-sha192 -c zlib -C sha192
fi
report
