#!/bin/bash
# check.sh - everything "make check" runs, with one final tally.
#
#   1. make deps                              (aborts early only if it fails
#                                              and the build then fails too)
#   2. build: libhammer2, tools, unit tests, ASan variants    (1 test)
#   3. unit tests            build/tests/test_*
#   4. unit tests under ASan build/asan/tests/test_*
#   5. integration tests     every executable tests/integration/*.sh, with
#                            BIN, ASAN_BIN, SRCDIR and a fresh TMPDIR
#   6. make kmod                                                  (1 test)
#   7. make format-check: clang-format keeps one style             (1 test)
#
# Counting: a program or script whose output contains a line
# "<name>: N passed, N failed" counts as N passes and N fails (the last such
# line); otherwise it counts as one test, passed if it exited 0.  Exiting
# nonzero with no failure reported adds one failure (a crash or a leak found
# at exit); exit status 77 means skipped.  The last line printed is
# "N passed, N failed"; the exit status is nonzero if anything failed.
#
# Environment: H2_TEST_TIMEOUT (seconds per unit test, default 600),
# H2_ITEST_TIMEOUT (per integration script, default 1800), KEEP_TMP=1.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MAKE=${MAKE:-make}
# Our own make invocations are independent of the caller's flags/jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL
JOBS=$(nproc 2>/dev/null || echo 2)
LOGDIR=$ROOT/build/check
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR"

TOTAL_PASS=0
TOTAL_FAIL=0
FAILED_NAMES=()

# record NAME PASS FAIL
record() {
	TOTAL_PASS=$((TOTAL_PASS + $2))
	TOTAL_FAIL=$((TOTAL_FAIL + $3))
	if [ "$3" -gt 0 ]; then
		FAILED_NAMES+=("$1")
	fi
}

# tally NAME RC LOG: count a finished program by its report line or rc.
tally() {
	local name=$1 rc=$2 log=$3 line p f
	line=$(grep -E '^[^ ].*: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1)
	if [ "$rc" -eq 77 ] && [ -z "$line" ]; then
		printf '  %-40s skipped\n' "$name"
		return
	fi
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
		f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
		fi
	elif [ "$rc" -eq 0 ]; then
		p=1 f=0
	else
		p=0 f=1
	fi
	record "$name" "$p" "$f"
	if [ "$f" -gt 0 ]; then
		printf '  %-40s %d passed, %d failed (exit %d)\n' "$name" "$p" "$f" "$rc"
		echo "  ---- last lines of $log ----"
		tail -n 40 "$log" | sed 's/^/  | /'
	else
		printf '  %-40s %d passed, %d failed\n' "$name" "$p" "$f"
	fi
}

# suite_line NAME P0 F0: print a suite summary from the totals before it.
suite_line() {
	echo "$1: $((TOTAL_PASS - $2)) passed, $((TOTAL_FAIL - $3)) failed"
}

# ----- 1. deps -----
echo "== deps"
DEPS_OK=1
if ! "$MAKE" --no-print-directory deps; then
	echo "check: make deps failed; trying to go on" >&2
	DEPS_OK=0
fi

# ----- 2. build -----
echo "== build"
if "$MAKE" --no-print-directory -k -j"$JOBS" all tests asan \
	>"$LOGDIR/build.log" 2>&1; then
	record build 1 0
	echo "  build ok"
else
	record build 0 1
	echo "  build FAILED (build/check/build.log); last lines:"
	grep -E 'error|Error|undefined' "$LOGDIR/build.log" | head -n 40 | sed 's/^/  | /'
	if [ "$DEPS_OK" -eq 0 ]; then
		echo "  (make deps failed too)"
	fi
fi

# run_units DIR LABEL
run_units() {
	local dir=$1 label=$2 src t bin log rc
	local p0=$TOTAL_PASS f0=$TOTAL_FAIL
	echo "== $label"
	for src in tests/unit/test_*.c; do
		[ -e "$src" ] || continue
		t=$(basename "$src" .c)
		bin=$dir/$t
		log=$LOGDIR/$label.$t.log
		if [ ! -x "$bin" ]; then
			echo "not built: $bin" >"$log"
			tally "$label/$t" 1 "$log"
			continue
		fi
		(cd "$ROOT" && timeout "${H2_TEST_TIMEOUT:-600}" "$bin") \
			>"$log" 2>&1
		rc=$?
		tally "$label/$t" "$rc" "$log"
	done
	suite_line "$label" "$p0" "$f0"
}

# ----- 3, 4. unit tests -----
run_units "$ROOT/build/tests" unit
run_units "$ROOT/build/asan/tests" unit-asan

# ----- 5. integration tests -----
echo "== integration"
p0=$TOTAL_PASS f0=$TOTAL_FAIL
for s in tests/integration/*.sh; do
	[ -e "$s" ] || continue
	if [ ! -x "$s" ]; then
		echo "  $s: not executable, ignored"
		continue
	fi
	t=$(basename "$s" .sh)
	log=$LOGDIR/integration.$t.log
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/h2check.$t.XXXXXX")
	(cd "$ROOT" && BIN=$ROOT/build/bin ASAN_BIN=$ROOT/build/asan/bin \
		SRCDIR=$ROOT TMPDIR=$tmp \
		timeout "${H2_ITEST_TIMEOUT:-1800}" "$ROOT/$s") >"$log" 2>&1
	rc=$?
	tally "integration/$t" "$rc" "$log"
	if { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; } && [ -z "${KEEP_TMP:-}" ]; then
		rm -rf "$tmp"
	else
		echo "  (temp dir kept: $tmp)"
	fi
done
suite_line integration "$p0" "$f0"

# ----- 6. kernel module -----
echo "== kmod"
if "$MAKE" --no-print-directory kmod >"$LOGDIR/kmod.log" 2>&1; then
	record kmod 1 0
	echo "  kmod ok (build/hammer2.ko)"
else
	record kmod 0 1
	echo "  kmod FAILED (build/check/kmod.log); last lines:"
	grep -E 'error|ERROR|undefined|kmod:' "$LOGDIR/kmod.log" | head -n 40 | sed 's/^/  | /'
fi

echo "== format"
if "$MAKE" --no-print-directory format-check >"$LOGDIR/format.log" 2>&1; then
	record format 1 0
	echo "  format ok"
else
	record format 0 1
	echo "  format FAILED (run 'make format'); first lines:"
	grep -E 'error' "$LOGDIR/format.log" | head -n 10 | sed 's/^/  | /'
fi

if [ ${#FAILED_NAMES[@]} -gt 0 ]; then
	echo "failed: ${FAILED_NAMES[*]}"
fi
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
