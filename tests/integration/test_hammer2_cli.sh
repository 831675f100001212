#!/bin/bash
# test_hammer2_cli.sh - command line behaviour of hammer2(8):
#   usage errors exit 2 with "usage:" on stderr, missing paths exit 1, and
#   info/volhdr/show/freemap/pfs-list/ls/cat/stat/mkdir/rm/setcomp/setcheck
#   do what they say on a fresh image.  Runs once with $BIN and again with
#   $ASAN_BIN when that directory exists (sanitizer reports are failures).
#
# Environment: BIN (default build/bin), ASAN_BIN (optional), SRCDIR, TMPDIR.
# Last line: "test_hammer2_cli: N passed, N failed".
set -u
NAME=test_hammer2_cli
. "$(dirname "$0")/lib.sh"
ERR_SHOW="head -n 8"
STRICT_MSGS=1
export HAMMER2_FAKE_RANDOM_SEED=${HAMMER2_FAKE_RANDOM_SEED:-12345}

# suite BINDIR TAG
suite() {
	local B=$1
	local H="$B/hammer2"
	local IMG="$W/img$2"
	TAG="[$2] "

	need_tools "$B" hammer2 newfs_hammer2 || return
	rm -f "$IMG"
	expect_rc 0 "newfs" "$B/newfs_hammer2" -s 1g "$IMG"
	[ "$RC" -eq 0 ] || return

	# ----- usage errors: exit 2 -----
	expect_rc 2 "no arguments" "$H"
	expect_rc 2 "no command" "$H" -f "$IMG"
	expect_rc 2 "unknown command" "$H" -f "$IMG" frobnicate
	expect_rc 2 "no -f" "$H" info
	expect_rc 2 "-f without argument" "$H" -f
	expect_rc 2 "empty label" "$H" -f "$IMG@" info
	expect_rc 2 "empty image name" "$H" -f "@DATA" info
	expect_rc 2 "unknown option" "$H" -x -f "$IMG" info
	for c in info volhdr show freemap pfs-list; do
		expect_rc 2 "$c with an operand" "$H" -f "$IMG" $c extra
	done
	for c in ls cat stat mkdir rm; do
		expect_rc 2 "$c without PATH" "$H" -f "$IMG" $c
	done
	expect_rc 2 "cat with two operands" "$H" -f "$IMG" cat /a /b
	expect_rc 2 "ls bad option" "$H" -f "$IMG" ls -z /
	expect_rc 2 "rm bad option" "$H" -f "$IMG" rm -x /a
	expect_rc 2 "import without operands" "$H" -f "$IMG" import
	expect_rc 2 "import with one operand" "$H" -f "$IMG" import "$W"
	expect_rc 2 "export with one operand" "$H" -f "$IMG" export /
	expect_rc 2 "setcomp without PATH" "$H" -f "$IMG" setcomp lz4
	expect_rc 2 "setcomp bad mode" "$H" -f "$IMG" setcomp lzma /
	expect_rc 2 "setcomp bad zlib level" "$H" -f "$IMG" setcomp zlib:12 /
	expect_rc 2 "setcomp level on lz4" "$H" -f "$IMG" setcomp lz4:3 /
	expect_rc 2 "setcheck without PATH" "$H" -f "$IMG" setcheck crc32
	expect_rc 2 "setcheck bad mode" "$H" -f "$IMG" setcheck md5 /

	# ----- missing things: exit 1 -----
	expect_rc 1 "missing image" "$H" -f "$W/no-such-image" info
	head -c 4194304 /dev/zero >"$W/zero.img"
	expect_rc 1 "not a HAMMER2 image (info)" "$H" -f "$W/zero.img" info
	expect_rc 1 "not a HAMMER2 image (show)" "$H" -f "$W/zero.img" show
	expect_rc 1 "not a HAMMER2 image (ls)" "$H" -f "$W/zero.img" ls /
	expect_rc 1 "missing PFS label" "$H" -f "$IMG@NOPE" ls /
	expect_rc 1 "ls missing path" "$H" -f "$IMG" ls /nope
	expect_rc 1 "cat missing path" "$H" -f "$IMG" cat /nope
	expect_rc 1 "stat missing path" "$H" -f "$IMG" stat /nope/deeper
	expect_rc 1 "rm missing path" "$H" -f "$IMG" rm /nope
	expect_rc 1 "mkdir missing parent" "$H" -f "$IMG" mkdir /nope/x
	expect_rc 1 "setcomp missing path" "$H" -f "$IMG" setcomp lz4 /nope
	expect_rc 1 "setcheck missing path" "$H" -f "$IMG" setcheck crc32 /nope
	expect_rc 1 "export missing path" "$H" -f "$IMG" export /nope "$W/x"
	expect_rc 1 "import missing host dir" "$H" -f "$IMG" import "$W/nope" /x
	expect_rc 1 "cat of the root directory" "$H" -f "$IMG" cat /

	# ----- media commands -----
	expect_rc 0 "info" "$H" -f "$IMG" info
	out_has "info shows the fsid" '^fsid: +[0-9a-f-]{36}'
	out_has "info shows the PFS count" '^PFS count: +[1-9]'
	out_has "info shows used space" '^used: +[0-9]+'
	expect_rc 0 "volhdr" "$H" -f "$IMG" volhdr
	out_has "volhdr magic" 'magic +0x48414d3205172011'
	out_has "volhdr sroot_blockset" 'sroot_blockset'
	out_has "volhdr fstype is hammer2" 'fstype.*\(hammer2\)'
	expect_rc 0 "show" "$H" -f "$IMG" show
	out_has "show prints the super-root inode" '^ +inode\.[0-9]+ +0x[0-9a-f]{16} .* ok '
	out_has "show prints the DATA PFS root" 'inode\..* ok "DATA"'
	out_lacks "show: nothing FAILED" 'FAILED'
	expect_rc 0 "freemap of a fresh image" "$H" -f "$IMG" freemap
	expect_rc 0 "pfs-list" "$H" -f "$IMG" pfs-list
	out_has "pfs-list shows DATA" ' DATA$'
	out_has "pfs-list shows LOCAL" ' LOCAL$'
	out_has "pfs-list shows a clid" '[0-9a-f]{8}-[0-9a-f]{4}-'

	# ----- fs commands -----
	expect_rc 0 "ls empty root" "$H" -f "$IMG" ls /
	expect_rc 0 "mkdir /a" "$H" -f "$IMG" mkdir /a
	expect_rc 1 "mkdir /a again (exists)" "$H" -f "$IMG" mkdir /a
	expect_rc 0 "mkdir /a/b" "$H" -f "$IMG" mkdir a/b/
	expect_rc 0 "ls /" "$H" -f "$IMG" ls /
	out_has "ls / shows a" '^a$'
	expect_rc 0 "ls -l /" "$H" -f "$IMG" ls -l /
	out_has "ls -l shows a directory" '^d[rwx-]{9} .* a$'
	expect_rc 0 "ls /a" "$H" -f "$IMG" ls /a
	out_has "ls /a shows b" '^b$'
	expect_rc 0 "ls with . and .." "$H" -f "$IMG" ls /a/./b/../
	out_has "ls /a/./b/.. shows b" '^b$'

	mkdir -p "$W/src/sub"
	printf 'hello, hammer2\n' >"$W/src/hello.txt"
	head -c 200000 /dev/urandom >"$W/src/sub/rand.bin"
	ln -s hello.txt "$W/src/link"
	chmod 0640 "$W/src/hello.txt"
	expect_rc 0 "import small tree" "$H" -f "$IMG" import "$W/src" /a/b/imp
	expect_rc 0 "cat a file" "$H" -f "$IMG" cat /a/b/imp/hello.txt
	if cmp -s "$W/out" "$W/src/hello.txt"; then ok "cat output matches"; else bad "cat output differs"; fi
	expect_rc 0 "cat a 200 kB file" "$H" -f "$IMG" cat /a/b/imp/sub/rand.bin
	if cmp -s "$W/out" "$W/src/sub/rand.bin"; then ok "cat 200 kB matches"; else bad "cat 200 kB differs"; fi
	expect_rc 0 "stat a file" "$H" -f "$IMG" stat /a/b/imp/hello.txt
	out_has "stat size" 'Size: 15 '
	out_has "stat mode" 'Access: \(0640/-rw-r-----\)'
	out_has "stat regular file" 'regular file'
	out_has "stat inode number" 'Inode: [0-9]+'
	expect_rc 0 "stat a symlink" "$H" -f "$IMG" stat /a/b/imp/link
	out_has "stat symlink target" 'File: .*link -> hello.txt'
	expect_rc 0 "ls -l a symlink" "$H" -f "$IMG" ls -l /a/b/imp
	out_has "ls -l symlink arrow" '^l.* link -> hello.txt$'
	out_has "ls -l file size" '^-rw-r----- .* 15 .* hello.txt$'
	expect_rc 1 "cat a directory" "$H" -f "$IMG" cat /a/b

	expect_rc 0 "setcomp zlib:9 (recursive)" "$H" -f "$IMG" setcomp zlib:9 /a
	expect_rc 0 "stat after setcomp" "$H" -f "$IMG" stat /a/b/imp/sub/rand.bin
	out_has "setcomp reached a file below" 'Comp: zlib:9'
	expect_rc 0 "setcomp autozero on a file" "$H" -f "$IMG" setcomp autozero /a/b/imp/hello.txt
	expect_rc 0 "stat after setcomp autozero" "$H" -f "$IMG" stat /a/b/imp/hello.txt
	out_has "setcomp autozero applied" 'Comp: autozero'
	expect_rc 0 "setcheck sha192 (recursive)" "$H" -f "$IMG" setcheck sha192 /a/b
	expect_rc 0 "stat after setcheck" "$H" -f "$IMG" stat /a/b/imp/sub/rand.bin
	out_has "setcheck reached a file below" 'Check: sha192'
	expect_rc 0 "setcheck none" "$H" -f "$IMG" setcheck none /a/b/imp/hello.txt
	expect_rc 0 "stat after setcheck none" "$H" -f "$IMG" stat /a/b/imp/hello.txt
	out_has "setcheck none applied" 'Check: none'
	expect_rc 0 "setcomp lz4" "$H" -f "$IMG" setcomp lz4 /
	expect_rc 0 "setcheck crc32" "$H" -f "$IMG" setcheck crc32 /
	expect_rc 0 "data readable after set*" "$H" -f "$IMG" cat /a/b/imp/sub/rand.bin
	if cmp -s "$W/out" "$W/src/sub/rand.bin"; then ok "data intact after set*"; else bad "data changed after set*"; fi
	expect_rc 0 "a new file inherits the directory's check" "$H" -f "$IMG" mkdir /a/b/new
	expect_rc 0 "stat the new directory" "$H" -f "$IMG" stat /a/b/new
	out_has "inherited crc32" 'Check: crc32'

	expect_rc 1 "rm a directory without -r" "$H" -f "$IMG" rm /a
	expect_rc 0 "rm a file" "$H" -f "$IMG" rm /a/b/imp/hello.txt
	expect_rc 1 "cat the removed file" "$H" -f "$IMG" cat /a/b/imp/hello.txt
	expect_rc 0 "rm a symlink" "$H" -f "$IMG" rm /a/b/imp/link
	expect_rc 0 "rm -r a tree" "$H" -f "$IMG" rm -r /a
	expect_rc 0 "ls / after rm -r" "$H" -f "$IMG" ls /
	out_lacks "a is gone" '^a$'
	expect_rc 1 "rm the root" "$H" -f "$IMG" rm -r /

	expect_rc 0 "LOCAL PFS is reachable" "$H" -f "$IMG@LOCAL" ls /
	expect_rc 0 "mkdir in LOCAL" "$H" -f "$IMG@LOCAL" mkdir /only-local
	expect_rc 0 "ls DATA after mkdir in LOCAL" "$H" -f "$IMG" ls /
	out_lacks "PFSs are separate" 'only-local'
	expect_rc 0 "show after changes" "$H" -f "$IMG" show
	out_lacks "show after changes: nothing FAILED" 'FAILED'
	expect_rc 0 "freemap" "$H" -f "$IMG" freemap
	out_has "freemap prints a leaf" 'fbitmap\.'
	out_has "freemap prints bmaps" 'class=[0-9a-f]{4} avail='
	if [ -x "$B/fsck_hammer2" ]; then
		expect_rc 0 "fsck after changes" "$B/fsck_hammer2" "$IMG"
	else
		echo "skip $TAG fsck_hammer2 not built"
	fi
	chmod 0444 "$IMG"
	if [ "$(id -u)" -ne 0 ]; then
		expect_rc 1 "mkdir on a read-only image file" "$H" -f "$IMG" mkdir /ro
	fi
	expect_rc 0 "read-only image file still readable" "$H" -f "$IMG" ls /
	chmod 0644 "$IMG"
	rm -f "$IMG" "$W/zero.img"
	rm -rf "$W/src"
}

suite "$BIN" plain
if have_asan; then
	suite "$ASAN_BIN" asan
fi
report
