#!/bin/bash
# test_dump_image.sh - "h2sim run/replay --image OUT" and "hammer2 dump":
#   - h2sim saves the final disk of a run as a sparse image that
#     fsck_hammer2 and hammer2 accept; the same run id gives the same
#     bytes (replay), the image's non-zero 4 KiB blocks hash to the
#     summary's "image" sha256; --image with several runs, without OUT, or
#     to an unwritable file is an error (2);
#   - hammer2 dump prints one line per object sorted by path: type, mode,
#     owner, link count, size, the sha256 of file contents, symlink
#     targets, device numbers, hard links as "=FIRST", escaped names;
#     subtrees and single files; the same trace run with other seeds
#     (other times, tids, flush points) dumps the same; usage errors 2,
#     missing paths 1;
#   - a host tree imported with hammer2 import dumps like an independent
#     dump of the host tree (python: os.lstat, hashlib).
# Runs with $BIN and again with $ASAN_BIN when that directory exists.
#
# Environment: BIN (default build/bin), ASAN_BIN (optional), SRCDIR, TMPDIR.
# Last line: "test_dump_image: N passed, N failed".
set -u
NAME=test_dump_image
. "$(dirname "$0")/lib.sh"
ERR_SHOW="head -n 8"
STRICT_MSGS=1

# The trace: every object type, a hard link pair (three names), a sparse
# file, a name that needs escaping, changed modes and owners.
TRACE=$W/t.trace
cat >"$TRACE" <<'EOF'
h2trace 1
seed 5
volume 268435456
mkdir /d 0755 = 0
open 3 /d/f wronly|creat|trunc 0644 = 3
write 3 100000 = 100000
pwrite 3 3000000 10 = 10
close 3 = 0
link /d/f /d/g = 0
link /d/f /e = 0
symlink ../e /d/s = 0
mknod /d/p fifo 0600 0 0 = 0
mknod /d/c chr 0600 1 3 = 0
chmod /d 0750 = 0
chown /d/f 12 34 = 0
open 4 /a%20b%25c wronly|creat 0640 = 4
write 4 10 = 10
close 4 = 0
mkdir /d/sub 0700 = 0
utimes /d/f 1000000 2000000 = 0
sync = 0
EOF

# blocks_sha256 IMG: sha256 over (le64 offset, block) of every non-zero
# 4 KiB block of IMG (how h2sim's summary hashes its disk)
blocks_sha256() {
	python3 - "$1" <<'PY'
import hashlib, os, struct, sys
h, z = hashlib.sha256(), bytes(4096)
with open(sys.argv[1], "rb") as f:
    end, off = os.fstat(f.fileno()).st_size, 0
    while off < end:
        try:  # holes are zeros: skip them
            off = os.lseek(f.fileno(), off, os.SEEK_DATA) // 4096 * 4096
        except OSError:
            break
        hole = os.lseek(f.fileno(), off, os.SEEK_HOLE)
        f.seek(off)
        while off < hole:
            b = f.read(4096)
            if b != z:
                h.update(struct.pack("<Q", off) + b)
            off += len(b)
print(h.hexdigest())
PY
}

# host_dump DIR: DIR in hammer2 dump's format, made with os.lstat and
# hashlib (directory sizes as 0, HAMMER2's value)
host_dump() {
	python3 - "$1" <<'PY'
import hashlib, os, stat, sys
root = os.fsencode(sys.argv[1])
names = {stat.S_IFDIR: "dir", stat.S_IFREG: "file", stat.S_IFLNK: "softlink",
         stat.S_IFIFO: "fifo", stat.S_IFCHR: "cdev", stat.S_IFBLK: "bdev",
         stat.S_IFSOCK: "socket"}
def enc(b):
    return "".join(chr(c) if 0x20 < c < 0x7f and c != 0x25 else "%%%02X" % c
                   for c in b)
recs = []
def add(rel, p):
    st = os.lstat(p)
    t = names[stat.S_IFMT(st.st_mode)]
    if t == "file":
        with open(p, "rb") as f:
            data = hashlib.sha256(f.read()).hexdigest()
    elif t == "softlink":
        data = "->" + enc(os.readlink(p))
    elif t in ("cdev", "bdev"):
        data = "%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    else:
        data = "-"
    recs.append([rel, t, st.st_mode & 0o7777, st.st_uid, st.st_gid,
                 st.st_nlink, 0 if t == "dir" else st.st_size, data,
                 (st.st_dev, st.st_ino)])
    if t == "dir":
        for n in os.listdir(p):
            add(rel.rstrip(b"/") + b"/" + n, os.path.join(p, n))
add(b"/", root)
recs.sort()
first = {}
for r in recs:
    link = "-"
    if r[1] != "dir":
        f = first.setdefault(r[8], r[0])
        if f != r[0]:
            link = "=" + enc(f)
    print("%s %s %04o %d %d %d %d %s %s" % (enc(r[0]), r[1], r[2], r[3], r[4],
                                            r[5], r[6], r[7], link))
PY
}

# host_tree DIR: a tree with every type the import keeps
host_tree() {
	local d=$1
	mkdir -p "$d/sub/deeper" "$d/empty"
	head -c 70000 /dev/urandom >"$d/sub/rand"
	echo hello >"$d/sub/deeper/hello"
	ln "$d/sub/rand" "$d/rand.link1"
	ln "$d/sub/rand" "$d/sub/deeper/rand.link2"
	truncate -s 5M "$d/sparse"
	printf 'island' | dd of="$d/sparse" bs=1 seek=3000000 conv=notrunc status=none
	: >"$d/empty-file"
	echo odd >"$d/name with spaces %25"
	echo utf8 >"$d/ünï-名前"
	ln -s "sub/deeper/hello" "$d/sym"
	ln -s "/nowhere/at all" "$d/dangling"
	mkfifo "$d/fifo"
	chmod 4755 "$d/sub/deeper/hello"
	chmod 0700 "$d/sub/deeper"
	chmod 1777 "$d/empty"
	if [ "$(id -u)" -eq 0 ]; then
		mknod "$d/null" c 1 3
		mknod "$d/blk" b 8 17
		chown 1234:5678 "$d/sub/rand"
	fi
}

# suite BINDIR TAG
suite() {
	local B=$1 S="$1/h2sim" H="$1/hammer2"
	local IMG=$W/sim$2.img sha
	TAG="[$2] "

	need_tools "$B" h2sim hammer2 fsck_hammer2 newfs_hammer2 || return

	# ----- h2sim --image -----
	expect_rc 0 "h2sim run --image" "$S" run "$TRACE" --crash none --image "$IMG"
	[ "$RC" -eq 0 ] || return
	sha=$(sed -n 's/.*, image \([0-9a-f]*\)$/\1/p' "$W/out")
	if [ "$(stat -c %s "$IMG")" -eq 268435456 ]; then
		ok "the image has the trace's volume size"
	else
		bad "image size $(stat -c %s "$IMG"), wanted 268435456"
	fi
	if [ "$(($(stat -c '%b * %B' "$IMG")))" -lt 16777216 ]; then
		ok "the image is sparse ($(du -k "$IMG" | cut -f1) KiB allocated)"
	else
		bad "the image is not sparse: $(du -k "$IMG" | cut -f1) KiB allocated"
	fi
	if [ -n "$sha" ] && [ "$(blocks_sha256 "$IMG")" = "$sha" ]; then
		ok "the image's blocks hash to the summary's image sha256"
	else
		bad "image hash $(blocks_sha256 "$IMG") vs summary '$sha'" "$W/out"
	fi
	expect_rc 0 "fsck_hammer2 on the image" "$B/fsck_hammer2" "$IMG"
	expect_rc 0 "hammer2 ls on the image" "$H" -f "$IMG" ls /d
	out_has "the image holds the trace's files" '^sub$'
	expect_rc 0 "h2sim replay ID --image" "$S" replay "$TRACE:0:none:0" \
		--image "$W/replay.img"
	if cmp -s "$IMG" "$W/replay.img"; then
		ok "replay of the run's id saves the same image"
	else
		bad "replay of the run's id saves another image"
	fi
	expect_rc 0 "h2sim run --crash random --image" "$S" run "$TRACE" \
		--crash random --seed 3 --image "$W/crash.img"
	expect_rc 0 "fsck_hammer2 after random crashes" "$B/fsck_hammer2" "$W/crash.img"
	expect_rc 2 "--image with --gen-seeds" "$S" run --gen-seeds 1-2 --image "$W/x.img"
	expect_rc 2 "--image with every-flush cuts" "$S" run "$TRACE" \
		--crash every-flush --image "$W/x.img"
	expect_rc 0 "--image with one every-flush cut" "$S" run "$TRACE" \
		--crash every-flush --cut 2 --image "$W/x.img"
	expect_rc 2 "--image without OUT" "$S" run "$TRACE" --image
	expect_rc 2 "replay --image without OUT" "$S" replay "$TRACE:0:none:0" --image
	# not a usage error: no "usage:" wanted, but a message naming the file
	STRICT_MSGS=0
	expect_rc 2 "--image to an unwritable path" "$S" run "$TRACE" \
		--image "$W/no/such/dir/x.img"
	STRICT_MSGS=1
	out_has "--image error names the file" 'no/such/dir/x\.img: ' "$W/err"

	# ----- hammer2 dump -----
	expect_rc 0 "dump" "$H" -f "$IMG" dump
	cp "$W/out" "$W/dump"
	sha=$("$H" -f "$IMG" cat /d/f | sha256sum | cut -d' ' -f1)
	out_has "dump: the root first (2 + one subdirectory)" '^/ dir 0755 0 0 3 0 - -$'
	out_has "dump: escaped name, mode" "^/a%20b%25c file 0640 0 0 1 10 [0-9a-f]{64} -$"
	out_has "dump: directory mode and link count" '^/d dir 0750 0 0 3 0 - -$'
	out_has "dump: device numbers" '^/d/c cdev 0600 0 0 1 0 1,3 -$'
	out_has "dump: sparse file, owner, sha256 of the contents" \
		"^/d/f file 0644 12 34 3 3000010 $sha -\$"
	out_has "dump: second name of a hard link" "^/d/g file 0644 12 34 3 3000010 $sha =/d/f\$"
	out_has "dump: third name of a hard link" "^/e file 0644 12 34 3 3000010 $sha =/d/f\$"
	out_has "dump: fifo" '^/d/p fifo 0600 0 0 1 0 - -$'
	out_has "dump: symlink target" '^/d/s softlink 0777 0 0 1 4 ->\.\./e -$'
	out_has "dump: empty directory" '^/d/sub dir 0700 0 0 2 0 - -$'
	if [ "$(wc -l <"$W/dump")" -eq 10 ]; then
		ok "dump: one line per name"
	else
		bad "dump: $(wc -l <"$W/dump") lines, wanted 10" "$W/dump"
	fi
	if cut -d' ' -f1 "$W/dump" | LC_ALL=C sort -c 2>/dev/null; then
		ok "dump: sorted by path"
	else
		bad "dump: not sorted by path" "$W/dump"
	fi
	expect_rc 0 "dump of a subtree" "$H" -f "$IMG" dump /d
	out_has "dump of a subtree: paths relative to it" '^/ dir 0750 0 0 3 0 - -$'
	out_has "dump of a subtree: links grouped inside it" "^/g file 0644 12 34 3 3000010 $sha =/f\$"
	out_lacks "dump of a subtree: nothing outside it" '^/(e|d|a)'
	expect_rc 0 "dump of a file" "$H" -f "$IMG" dump /d/f
	out_has "dump of a file: one line" "^/ file 0644 12 34 3 3000010 $sha -\$"
	for seed in 1 2; do
		expect_rc 0 "h2sim run --seed $seed --image" "$S" run "$TRACE" \
			--seed "$seed" --image "$W/seed$seed.img"
	done
	if ! cmp -s "$W/seed1.img" "$W/seed2.img" && ! cmp -s "$IMG" "$W/seed1.img"; then
		ok "other seeds make other images (times, tids, flushes)"
	else
		bad "the seeds made identical images: the next check proves nothing"
	fi
	"$H" -f "$W/seed1.img" dump >"$W/dump1" 2>"$W/err"
	"$H" -f "$W/seed2.img" dump >"$W/dump2" 2>>"$W/err"
	if cmp -s "$W/dump" "$W/dump1" && cmp -s "$W/dump" "$W/dump2"; then
		ok "dump: the same tree from other seeds dumps the same"
	else
		diff "$W/dump" "$W/dump1" >"$W/err"
		diff "$W/dump" "$W/dump2" >>"$W/err"
		bad "dump: other seeds dump differently"
	fi
	expect_rc 2 "dump with two operands" "$H" -f "$IMG" dump / /d
	expect_rc 2 "dump with an unknown option" "$H" -f "$IMG" dump -x /
	expect_rc 1 "dump of a missing path" "$H" -f "$IMG" dump /nope
	expect_rc 1 "dump of a missing image" "$H" -f "$W/no.img" dump

	# ----- dump of an imported host tree against a host-side dump -----
	rm -rf "$W/host"
	host_tree "$W/host"
	rm -f "$W/imp.img"
	truncate -s 1G "$W/imp.img"
	"$B/newfs_hammer2" "$W/imp.img" >/dev/null 2>&1
	expect_rc 0 "import a host tree" "$H" -f "$W/imp.img" import "$W/host" /imp
	expect_rc 0 "dump the imported tree" "$H" -f "$W/imp.img" dump /imp
	# the root line is left out: import does not copy the top directory's
	# attributes
	sed 1d "$W/out" >"$W/dump-imp"
	host_dump "$W/host" | sed 1d >"$W/dump-host"
	if diff "$W/dump-host" "$W/dump-imp" >"$W/err"; then
		ok "dump of the import equals a host-side dump ($(wc -l <"$W/dump-imp") objects)"
	else
		bad "dump of the import differs from the host-side dump (< host, > image)"
	fi
	rm -f "$IMG" "$W"/*.img
}

suite "$BIN" plain
if have_asan; then
	suite "$ASAN_BIN" asan
fi
report
