# lib.sh - the harness shared by the integration tests.  Sourced, never
# run: it is not executable, so scripts/check.sh (which runs every
# executable tests/integration/*.sh) does not take it for a test.
#
# A test sets NAME (the name of its report line) and sources this file
# (then sets ERR_SHOW or STRICT_MSGS if it wants other than the defaults):
#
#   NAME=test_foo
#   . "$(dirname "$0")/lib.sh"
#
# which gives it
#   SRCDIR, BIN     the source tree and the tools (default $SRCDIR/build/bin)
#   W               a fresh work directory, removed at exit
#   ASAN_OPTIONS, UBSAN_OPTIONS   a sanitizer report exits 86 (ASan) or 87
#   PASS, FAIL      the counters; TAG, a prefix for every result line
#   ERR_SHOW        how bad shows a log (default "tail -n 12")
#   STRICT_MSGS     1: expect_rc also wants messages for failure statuses
# and the functions below.  The test ends with "report", which prints
# "NAME: N passed, N failed" and returns nonzero if anything failed.
#
# Environment: BIN, ASAN_BIN (optional sanitizer builds), SRCDIR, TMPDIR.

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BIN=${BIN:-$SRCDIR/build/bin}
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86:detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=87:print_stacktrace=1}
PASS=0
FAIL=0
TAG=""
ERR_SHOW="tail -n 12"
STRICT_MSGS=0

W=$(mktemp -d "${TMPDIR:-/tmp}/$NAME.XXXXXX") || {
	echo "$NAME: cannot create a work directory in ${TMPDIR:-/tmp}"
	echo "$NAME: 0 passed, 1 failed"
	exit 1
}
trap 'rm -rf "$W"' EXIT

# ok MSG: one passed check.
ok() {
	PASS=$((PASS + 1))
	echo "ok   $TAG$*"
}

# bad MSG [LOG]: one failed check; shows LOG (default $W/err) by $ERR_SHOW.
bad() {
	local log=${2:-$W/err}
	FAIL=$((FAIL + 1))
	echo "FAIL $TAG$1"
	if [ -s "$log" ]; then
		$ERR_SHOW "$log" | sed 's/^/     | /'
	fi
}

# report: the last line, "NAME: N passed, N failed"; nonzero if any failed.
report() {
	TAG=""
	echo "$NAME: $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}

# have_asan: the sanitizer builds ($ASAN_BIN) are there to test.
have_asan() {
	[ -n "${ASAN_BIN:-}" ] && [ -d "${ASAN_BIN:-}" ]
}

# need_tools BINDIR PROG...: every PROG is built in BINDIR, else a failure.
need_tools() {
	local b=$1 p
	shift
	for p in "$@"; do
		if [ ! -x "$b/$p" ]; then
			bad "$b/$p not built"
			return 1
		fi
	done
}

# sanitizer_clean RC [LOG]: no sanitizer report in LOG (default $W/err) and
# no crash-like exit status RC.
sanitizer_clean() {
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "${2:-$W/err}"; then
		return 1
	fi
	case $1 in
	86 | 87 | 132 | 134 | 135 | 136 | 139) return 1 ;;
	esac
	return 0
}

# run CMD...: output in $W/out and $W/err, status in $RC; CRASHED=1 on a
# sanitizer report or a crash.
run() {
	"$@" >"$W/out" 2>"$W/err"
	RC=$?
	CRASHED=0
	sanitizer_clean "$RC" || CRASHED=1
}

# expect_rc WANT DESC CMD...: run CMD; a pass if it did not crash and exited
# WANT ("nz": any nonzero status).  With STRICT_MSGS=1 a nonzero status
# also needs a message on stderr, and status 2 a "usage:" line there.
# Returns 0 on a pass.
expect_rc() {
	local want=$1 desc=$2
	shift 2
	run "$@"
	if [ "$CRASHED" -ne 0 ]; then
		bad "$desc: sanitizer report or crash (exit $RC)"
	elif { [ "$want" = nz ] && [ "$RC" -eq 0 ]; } ||
		{ [ "$want" != nz ] && [ "$RC" -ne "$want" ]; }; then
		bad "$desc: exit $RC, wanted $want"
	elif [ "$STRICT_MSGS" = 1 ] && [ "$want" = 2 ] &&
		! grep -q '^usage:' "$W/err"; then
		bad "$desc: no usage message on stderr"
	elif [ "$STRICT_MSGS" = 1 ] && [ "$want" != 0 ] && [ ! -s "$W/err" ]; then
		bad "$desc: no message on stderr"
	else
		ok "$desc"
		return 0
	fi
	return 1
}

# out_has DESC REGEX [FILE]: FILE (default $W/out, the last stdout)
# matches REGEX.
out_has() {
	local f=${3:-$W/out}
	if grep -qE -- "$2" "$f"; then
		ok "$1"
	else
		bad "$1: output lacks /$2/" "$f"
	fi
}

# out_lacks DESC REGEX [FILE]: FILE (default $W/out) does not match REGEX.
out_lacks() {
	local f=${3:-$W/out}
	if grep -qE -- "$2" "$f"; then
		bad "$1: output has /$2/" "$f"
	else
		ok "$1"
	fi
}

# flip FILE OFFSET [COUNT [MASK]]: XOR COUNT bytes (default 1) at OFFSET
# with MASK (default 0xff: invert them).
flip() {
	python3 - "$1" "$2" "${3:-1}" "${4:-0xff}" <<'EOF'
import sys
path, off, n = sys.argv[1], int(sys.argv[2], 0), int(sys.argv[3])
mask = int(sys.argv[4], 0)
with open(path, "r+b") as f:
    f.seek(off)
    b = bytearray(f.read(n))
    f.seek(off)
    f.write(bytes(x ^ mask for x in b))
EOF
}
