#!/bin/sh
# sim-check.sh - the simulator's tests (make check): random generated
# traces with crash injection, the captured workloads with random cuts,
# every regression trace in tests/traces/, exhaustive flush cuts of a few
# small traces, I/O error mode, direct writes (--direct), and determinism.
# Two processes at a time.
#
#   SIM_SEEDS=N    generated seeds (default 1000)
#   H2SIM=PATH     the binary (default build/bin/h2sim)
#   SIM_SOAK=1     make soak: 100000 seeds, every flush cut of every workload
#
# Last line: "sim: N passed, N failed".
set -u
cd "$(dirname "$0")/.."
H2SIM=${H2SIM:-build/bin/h2sim}
SEEDS=${SIM_SEEDS:-1000}
SOAK=${SIM_SOAK:-0}
[ "$SOAK" = 1 ] && SEEDS=${SIM_SEEDS:-100000}
WORKLOADS=${SIM_WORKLOADS:-../shared/workloads}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
# show a failed run's failure lines (they carry the replay ids)
show() { grep -E '^(FAIL|replay)' "$1" | head -20; }

[ -x "$H2SIM" ] || ${MAKE:-make} "$H2SIM" >/dev/null || {
	echo "sim: 0 passed, 1 failed"
	exit 1
}

# 1. generated traces, random crashes, two halves in parallel
half=$((SEEDS / 2))
"$H2SIM" run --gen-seeds "1-$half" --ops 200 --crash random \
	>"$tmp/g1" 2>/dev/null &
p1=$!
"$H2SIM" run --gen-seeds "$((half + 1))-$SEEDS" --ops 200 --crash random \
	>"$tmp/g2" 2>/dev/null &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
for i in 1 2; do
	eval r=\$r$i
	if [ "$r" = 0 ]; then ok "gen seeds (part $i): $(tail -1 "$tmp/g$i")"
	else ko "gen seeds (part $i): $(tail -1 "$tmp/g$i")"; show "$tmp/g$i"; fi
done

# 2. exhaustive flush cuts of small generated traces; I/O error mode
if "$H2SIM" run --gen-seeds 1-40 --ops 60 --crash every-flush >"$tmp/ef" 2>/dev/null
then ok "every-flush cuts: $(tail -1 "$tmp/ef")"
else ko "every-flush cuts: $(tail -1 "$tmp/ef")"; show "$tmp/ef"; fi
if "$H2SIM" run --gen-seeds 1-100 --ops 200 --crash random --eio >"$tmp/eio" 2>/dev/null
then ok "I/O errors: $(tail -1 "$tmp/eio")"
else ko "I/O errors: $(tail -1 "$tmp/eio")"; show "$tmp/eio"; fi

# 2b. direct writes (whole blocks written from the caller's memory, as the
# kernel's writeback does): random crashes, every flush cut, I/O errors;
# each must have taken some blocks that way
direct() {
	if "$H2SIM" run --gen-seeds "$1" --ops "$2" --crash "$3" --direct $4 \
		>"$tmp/dw" 2>/dev/null && grep -q ' [1-9][0-9]* direct writes' "$tmp/dw"
	then ok "direct writes, --crash $3 $4: $(tail -1 "$tmp/dw")"
	else ko "direct writes, --crash $3 $4: $(tail -1 "$tmp/dw")"; show "$tmp/dw"; fi
}
# (the captured workloads write no whole 64 KiB block: not run this way)
direct 1-100 200 random ""
direct 1-10 60 every-flush ""
direct 1-30 200 random --eio

# 3. the captured workloads: imported, replayed without and with crashes
found=0
for w in "$WORKLOADS"/*.strace.gz; do
	[ -f "$w" ] || continue
	found=1
	n=$(basename "$w" .strace.gz)
	if ! "$H2SIM" import-strace "$w" -o "$tmp/$n.trace" 2>"$tmp/$n.imp"; then
		ko "import $n: $(tail -1 "$tmp/$n.imp")"
		continue
	fi
	if [ "$SOAK" = 1 ]; then sched="none random every-flush"; seeds="1 2 3 4 5 6 7 8"
	else sched="none random"; seeds="1 2 3"; fi
	for c in $sched; do
		for s in $seeds; do
			[ "$c" = none ] && [ "$s" != 1 ] && continue
			[ "$c" = every-flush ] && [ "$s" != 1 ] && continue
			if "$H2SIM" run "$tmp/$n.trace" --seed "$s" --crash "$c" \
				>"$tmp/$n.out" 2>/dev/null
			then ok "workload $n --crash $c --seed $s"
			else ko "workload $n --crash $c --seed $s: $(tail -1 "$tmp/$n.out")"
				show "$tmp/$n.out"; fi
		done
	done
done
[ "$found" = 1 ] || echo "note: no captured workloads in $WORKLOADS (skipped)"

# 4. regression traces (a "# replay: ARGS" line gives the run options)
for t in tests/traces/*.trace; do
	[ -f "$t" ] || continue
	args=$(sed -n 's/^# replay://p' "$t" | head -1)
	# shellcheck disable=SC2086
	if "$H2SIM" run "$t" $args >"$tmp/t.out" 2>/dev/null
	then ok "trace $(basename "$t")"
	else ko "trace $(basename "$t") ($args)"; show "$tmp/t.out"; fi
done

# 5. determinism: same seed, same trace text and same image
"$H2SIM" gen --seed 4242 --ops 300 -o "$tmp/d1.trace"
"$H2SIM" gen --seed 4242 --ops 300 -o "$tmp/d2.trace"
h1=$("$H2SIM" run "$tmp/d1.trace" --seed 9 --crash random --json 2>/dev/null |
	sed -n 's/.*"image_sha256":"\([0-9a-f]*\)".*/\1/p')
h2=$("$H2SIM" run "$tmp/d2.trace" --seed 9 --crash random --json 2>/dev/null |
	sed -n 's/.*"image_sha256":"\([0-9a-f]*\)".*/\1/p')
if cmp -s "$tmp/d1.trace" "$tmp/d2.trace" && [ -n "$h1" ] && [ "$h1" = "$h2" ]
then ok "determinism (image $h1)"
else ko "determinism: '$h1' vs '$h2'"; fi

echo "sim: $pass passed, $fail failed"
[ "$fail" = 0 ]
