#!/bin/bash
# bench-sim.sh - the simulator part of "make bench": for each captured
# workload in ../shared/workloads, replay it with full verification
# (h2sim run --crash none) and report operations, wall seconds (best of
# BENCH_RUNS) and verified operations per second; then the instructions per
# operation counted by valgrind --tool=callgrind (repeatable on a noisy
# machine).  Appends a table to BENCHMARKS.md.  A benchmark, not a test.
#
# Environment: BIN (default build/bin), BENCH_RUNS (default 3), BENCH_MD,
# BENCH_CALLGRIND=0 to skip callgrind, TMPDIR.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/build/bin}
RUNS=${BENCH_RUNS:-3}
MD=${BENCH_MD:-$ROOT/BENCHMARKS.md}
WL=${WORKLOADS:-$ROOT/../shared/workloads}
W=$(mktemp -d "${TMPDIR:-/tmp}/h2bsim.XXXXXX")
trap 'rm -rf "$W"' EXIT

[ -x "$BIN/h2sim" ] || { echo "bench-sim: build h2sim first (make)" >&2; exit 1; }
if ! ls "$WL"/*.strace.gz >/dev/null 2>&1; then
	echo "bench-sim: no captures in $WL, skipped"
	exit 0
fi

rows=()
for cap in "$WL"/*.strace.gz; do
	name=$(basename "$cap" .strace.gz)
	trace=$W/$name.trace
	"$BIN/h2sim" import-strace "$cap" -o "$trace" 2>/dev/null ||
		{ echo "bench-sim: import of $cap failed" >&2; exit 1; }
	best=""
	for _ in $(seq "$RUNS"); do
		t0=$(date +%s.%N)
		out=$("$BIN/h2sim" run "$trace" --crash none --json) ||
			{ echo "bench-sim: replay of $name failed" >&2; exit 1; }
		t1=$(date +%s.%N)
		best=$(awk -v a="$t0" -v b="$t1" -v best="$best" \
			'BEGIN { t = b - a; if (best == "" || t < best) best = t; print best }')
	done
	ops=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ops"])')
	rate=$(awk -v o="$ops" -v t="$best" 'BEGIN { printf "%.0f", o / t }')
	ipo="-"
	if [ "${BENCH_CALLGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
		valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
			"$BIN/h2sim" run "$trace" --crash none >/dev/null 2>&1
		ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$W/cg.out" | head -n 1)
		[ -n "$ir" ] && ipo=$(awk -v i="$ir" -v o="$ops" 'BEGIN { printf "%.0f", i / o }')
	fi
	rows+=("$(printf '| %s | %d | %.2f | %.0f | %s |' "$name" "$ops" "$best" "$rate" "$ipo")")
	printf '%-16s %7d ops %7.2f s %9.0f ops/s %10s instr/op\n' "$name" "$ops" "$best" "$rate" "$ipo"
done

{
	echo
	echo "### Simulator replay of the captured workloads ($(date -u '+%Y-%m-%d %H:%M') UTC, commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown))"
	echo
	echo "Full verification (every result and read checked against the model), no crashes;"
	echo "best of $RUNS runs; instructions per operation from valgrind --tool=callgrind."
	echo "Goal: the sqlite capture in under 5 seconds."
	echo
	echo "| capture | ops | seconds | verified ops/s | instructions/op |"
	echo "| --- | ---: | ---: | ---: | ---: |"
	printf '%s\n' "${rows[@]}"
} >>"$MD"
echo "bench-sim: appended to $MD"
