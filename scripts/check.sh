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
#   5b. scripts/sim-check.sh: captured workloads with crashes, 1,000 random
#       seeds, tests/traces regressions, determinism
#   6. make kmod                                                  (1 test)
#   6b. tests/vm/vmtest-host.sh (make vmtest): the module in a QEMU VM;
#       each of its checks counts (skipped, 77, without QEMU or a kernel)
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

# make_step NAME OKMSG FAILMSG REGEX N MAKEARG...: run make MAKEARG... into
# $LOGDIR/NAME.log and count it as one test; "  NAME ok" + OKMSG if it
# succeeds, else "  NAME FAILED " + FAILMSG and up to N log lines matching
# REGEX.  Returns make's success.
make_step() {
	local name=$1 okmsg=$2 failmsg=$3 re=$4 n=$5 log=$LOGDIR/$1.log
	shift 5
	if "$MAKE" --no-print-directory "$@" >"$log" 2>&1; then
		record "$name" 1 0
		echo "  $name ok$okmsg"
		return 0
	fi
	record "$name" 0 1
	echo "  $name FAILED $failmsg"
	grep -E "$re" "$log" | head -n "$n" | sed 's/^/  | /'
	return 1
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
if ! make_step build "" "(build/check/build.log); last lines:" \
	'error|Error|undefined' 40 -k -j"$JOBS" all tests asan; then
	[ "$DEPS_OK" -eq 1 ] || echo "  (make deps failed too)"
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

# ----- 5b. simulator: workloads, random seeds, regressions, determinism ---
echo "== sim"
log=$LOGDIR/sim.log
(cd "$ROOT" && timeout "${H2_ITEST_TIMEOUT:-1800}" scripts/sim-check.sh) \
	>"$log" 2>&1
tally sim "$?" "$log"

# ----- 6. kernel module -----
echo "== kmod"
make_step kmod " (build/hammer2.ko)" "(build/check/kmod.log); last lines:" \
	'error|ERROR|undefined|kmod:' 40 kmod

# ----- 6b. the module in a VM (tests/vm/, make vmtest) -----
echo "== vmtest"
log=$LOGDIR/vmtest.log
(cd "$ROOT" && timeout "${H2_VMTEST_TIMEOUT:-2400}" tests/vm/vmtest-host.sh) \
	>"$log" 2>&1
tally vmtest "$?" "$log"

echo "== format"
make_step format "" "(run 'make format'); first lines:" 'error' 10 \
	format-check

if [ ${#FAILED_NAMES[@]} -gt 0 ]; then
	echo "failed: ${FAILED_NAMES[*]}"
fi
echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
[ "$TOTAL_FAIL" -eq 0 ]
