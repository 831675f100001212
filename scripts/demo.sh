#!/bin/bash
# demo.sh - what "make demo" shows: a real tree in and out of HAMMER2.
#
#   1. newfs_hammer2 a 2 GiB sparse image in a temporary directory;
#   2. hammer2 import /usr/share/doc -> /doc and /usr/include -> /include;
#   3. in new processes (close + reopen), export both to a host directory;
#   4. compare every entry with the source (scripts/treecmp.py): type,
#      data, mode, symlink target, mtime (microseconds), owner (as root),
#      device numbers;
#   5. fsck_hammer2 the image;
#   6. print logical size, physical size, compression ratio and timings.
# Exits nonzero on any difference or failure.  Temporary files are removed.
#
# Environment: BIN (default build/bin), DEMO_DOC, DEMO_INC (source trees),
# DEMO_SIZE (image size, default 2g), TMPDIR, KEEP_TMP=1.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
DOC=${DEMO_DOC:-/usr/share/doc}
INC=${DEMO_INC:-/usr/include}
SIZE=${DEMO_SIZE:-2g}
W=$(mktemp -d "${TMPDIR:-/tmp}/h2demo.XXXXXX")
cleanup() {
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "demo: kept $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
IMG=$W/demo.img
OUT=$W/export

die() {
	echo "demo: FAILED: $*" >&2
	exit 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

for p in newfs_hammer2 hammer2; do
	[ -x "$BIN/$p" ] || die "$BIN/$p is not built (run make)"
done
for d in "$DOC" "$INC"; do
	[ -d "$d" ] || die "source tree $d does not exist"
done
command -v python3 >/dev/null || die "python3 is needed for the comparison"

echo "== newfs_hammer2 -s $SIZE (sparse image in $W)"
"$BIN/newfs_hammer2" -s "$SIZE" "$IMG" >"$W/newfs.log" 2>&1 ||
	{ cat "$W/newfs.log" >&2; die "newfs_hammer2"; }

echo "== import $DOC -> /doc, $INC -> /include"
t0=$(now)
"$BIN/hammer2" -f "$IMG" import "$DOC" /doc || die "import of $DOC"
"$BIN/hammer2" -f "$IMG" import "$INC" /include || die "import of $INC"
t1=$(now)

echo "== export /doc and /include (new processes: the image is reopened)"
"$BIN/hammer2" -f "$IMG" export /doc "$OUT/doc" || die "export of /doc"
"$BIN/hammer2" -f "$IMG" export /include "$OUT/include" || die "export of /include"
t2=$(now)

echo "== compare"
bad=0
treecmp() {
	python3 "$ROOT/scripts/treecmp.py" --max 40 --prefix "  " "$@"
}
treecmp "$DOC" "$OUT/doc" || bad=1
treecmp "$INC" "$OUT/include" || bad=1
t3=$(now)
[ $bad -eq 0 ] || die "exported trees differ from their sources"

if [ -x "$BIN/fsck_hammer2" ]; then
	echo "== fsck_hammer2"
	"$BIN/fsck_hammer2" "$IMG" || die "fsck_hammer2 exit $?"
else
	echo "== fsck_hammer2 not built, skipped"
fi
t4=$(now)

"$BIN/hammer2" -f "$IMG" info >"$W/info" || die "hammer2 info"
logical=$(du -sb --apparent-size "$DOC" "$INC" | awk '{ s += $1 } END { print s }')
# physical: bytes allocated per the freemap (statfs of the PFS)
physical=$(awk '/statfs used:/ { print $3 }' "$W/info")
[ -n "$physical" ] || physical=$(awk '/^used:/ { print $2 }' "$W/info")
files=$(find "$DOC" "$INC" | wc -l)
imgdisk=$(du -B1 "$IMG" | awk '{ print $1 }')

echo
echo "== result"
printf '  entries:            %d\n' "$files"
printf '  logical size:       %d bytes (%.1f MiB, du -sb --apparent-size)\n' \
	"$logical" "$(awk -v v="$logical" 'BEGIN { print v / 1048576 }')"
printf '  physical size:      %d bytes (%.1f MiB allocated in the image)\n' \
	"$physical" "$(awk -v v="$physical" 'BEGIN { print v / 1048576 }')"
printf '  compression ratio:  %.2f : 1\n' \
	"$(awk -v l="$logical" -v p="$physical" 'BEGIN { print (p > 0 ? l / p : 0) }')"
printf '  image file on disk: %d bytes (sparse)\n' "$imgdisk"
printf '  import:             %s s\n' "$(elapsed "$t0" "$t1")"
printf '  export:             %s s\n' "$(elapsed "$t1" "$t2")"
printf '  compare:            %s s\n' "$(elapsed "$t2" "$t3")"
printf '  fsck:               %s s\n' "$(elapsed "$t3" "$t4")"
echo "demo: OK"
