#!/bin/bash
# bench.sh - "make bench": build a file system image from a directory tree
# (default /usr/include) three ways and compare wall time and space:
#   hammer2   newfs_hammer2 + hammer2 import into a fresh image
#   ext4      mke2fs -q -t ext4 -d TREE IMG SIZE
#   btrfs     mkfs.btrfs -q --rootdir TREE IMG
# Each is timed best of 3 (wall seconds, fresh image every run); the space
# is the used space the file system itself reports (hammer2: allocated
# bytes per statfs; ext4: (block count - free blocks) * block size from
# dumpe2fs -h; btrfs: bytes_used from btrfs inspect-internal dump-super).
# Prints a table and appends it to BENCHMARKS.md with the date, machine and
# git commit.  A benchmark, not a test: it fails only if a tool fails.
#
# Environment: BIN (default build/bin), BENCH_TREE, BENCH_SIZE (image size,
# default 2G), BENCH_RUNS (default 3), BENCH_MD (default BENCHMARKS.md at
# the top of the tree), TMPDIR.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
TREE=${BENCH_TREE:-/usr/include}
SIZE=${BENCH_SIZE:-2G}
RUNS=${BENCH_RUNS:-3}
MD=${BENCH_MD:-$ROOT/BENCHMARKS.md}
W=$(mktemp -d "${TMPDIR:-/tmp}/h2bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export PATH="$PATH:/usr/sbin:/sbin"

die() {
	echo "bench: $*" >&2
	exit 1
}

[ -d "$TREE" ] || die "$TREE does not exist"
[ -x "$BIN/newfs_hammer2" ] && [ -x "$BIN/hammer2" ] || die "build the tools first (make)"
sizelc=$(echo "$SIZE" | tr 'A-Z' 'a-z')

now() { date +%s.%N; }

# best_of NAME CMD...: run CMD (which builds $W/img from scratch) RUNS
# times; sets BEST to the fastest wall time.
best_of() {
	local name=$1 i t0 t1 t
	shift
	BEST=""
	for i in $(seq 1 "$RUNS"); do
		rm -f "$W/img"
		sync
		t0=$(now)
		if ! "$@" >"$W/$name.log" 2>&1; then
			cat "$W/$name.log" >&2
			return 1
		fi
		t1=$(now)
		t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
		if [ -z "$BEST" ] || awk -v a="$t" -v b="$BEST" 'BEGIN { exit !(a < b) }'; then
			BEST=$t
		fi
	done
	return 0
}

# run_FS builds $W/img from $TREE; used_FS prints the bytes it uses.
run_hammer2() {
	"$BIN/newfs_hammer2" -s "$sizelc" "$W/img" >/dev/null &&
		"$BIN/hammer2" -f "$W/img" import "$TREE" /
}
used_hammer2() {
	local used
	used=$("$BIN/hammer2" -f "$W/img" info | awk '/statfs used:/ { print $3 }')
	[ -n "$used" ] || used=$("$BIN/hammer2" -f "$W/img" info | awk '/^used:/ { print $2 }')
	echo "$used"
}
run_ext4() {
	mke2fs -q -t ext4 -d "$TREE" "$W/img" "$SIZE"
}
used_ext4() {
	dumpe2fs -h "$W/img" 2>/dev/null | awk -F: '
		/^Block count/ { c = $2 } /^Free blocks/ { f = $2 }
		/^Block size/ { s = $2 } END { print (c - f) * s }'
}
run_btrfs() {
	truncate -s "$SIZE" "$W/img" && mkfs.btrfs -q --rootdir "$TREE" "$W/img"
}
used_btrfs() {
	btrfs inspect-internal dump-super "$W/img" 2>/dev/null |
		awk '$1 == "bytes_used" { print $2 }'
}

declare -a NAMES TIMES USED
logical=$(du -sb --apparent-size "$TREE" | awk '{ print $1 }')
entries=$(find "$TREE" | wc -l)

# measure FS LABEL: best_of FS run_FS, then a table row LABEL with the
# time and used_FS.  Returns 1 if building the image failed.
measure() {
	best_of "$1" "run_$1" || return 1
	NAMES+=("$2")
	TIMES+=("$BEST")
	USED+=("$("used_$1")")
}

measure hammer2 "hammer2 (newfs + import)" || die "hammer2 failed"

if command -v mke2fs >/dev/null; then
	measure ext4 "ext4 (mke2fs -d)" ||
		echo "bench: mke2fs failed, ext4 left out" >&2
else
	echo "bench: mke2fs not installed, ext4 left out" >&2
fi

if command -v mkfs.btrfs >/dev/null && command -v btrfs >/dev/null; then
	measure btrfs "btrfs (mkfs.btrfs --rootdir)" ||
		echo "bench: mkfs.btrfs failed, btrfs left out" >&2
else
	echo "bench: btrfs-progs not installed, btrfs left out" >&2
fi

commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git -C "$ROOT" diff --quiet HEAD 2>/dev/null; then
	commit="$commit (+ uncommitted changes)"
fi
model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
machine="$(nproc) x ${model:-unknown CPU}"
date=$(date -u '+%Y-%m-%d %H:%M UTC')

{
	echo
	echo "## $date, commit $commit"
	echo
	echo "Machine: $machine. Tree: $TREE ($entries entries, $logical bytes"
	echo "apparent size). Image size $SIZE; best of $RUNS runs, wall seconds."
	echo
	echo "| method | seconds | used bytes | used MiB | logical/used |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	for i in "${!NAMES[@]}"; do
		awk -v n="${NAMES[$i]}" -v t="${TIMES[$i]}" -v u="${USED[$i]}" \
			-v l="$logical" 'BEGIN {
			printf "| %s | %.2f | %d | %.1f | %.2f |\n", n, t, u,
				u / 1048576, (u > 0 ? l / u : 0) }'
	done
} >"$W/table.md"
cat "$W/table.md"
if [ ! -f "$MD" ]; then
	printf '# Benchmarks\n\nAppended by `make bench` (scripts/bench.sh).\n' >"$MD"
fi
cat "$W/table.md" >>"$MD"
echo
echo "bench: appended to $MD"
