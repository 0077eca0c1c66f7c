# lib.sh — helpers for the command-line tests (sourced by each t_*.sh).
#
# Environment (set by CTest): MXDIGEST (the binary), SRCDIR (the source
# tree), and optionally MXD_WRAPPER (e.g. "valgrind --error-exitcode=99 ...")
# to run every mxdigest invocation under a tool.
set -u

: "${MXDIGEST:?MXDIGEST must name the mxdigest binary}"
: "${SRCDIR:?SRCDIR must name the source tree}"
SAMPLES="$SRCDIR/samples"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mxdtest.XXXXXX")
DB="$TMP/test.db"
trap 'rm -rf "$TMP"' EXIT
failures=0
NO_COLOR=1
export NO_COLOR

# mxd ARGS...: runs mxdigest with the test database; sets $out, $err, $rc.
mxd() {
	set +e
	${MXD_WRAPPER:-} "$MXDIGEST" --db "$DB" "$@" >"$TMP/out" 2>"$TMP/err" <&0
	rc=$?
	set -e
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
	if [ "$rc" = 99 ]; then
		fail "the wrapper ($MXD_WRAPPER) reported errors for: mxdigest $*"
		cat "$TMP/err" >&2
	fi
	return 0
}

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

expect_rc() {	# expected description
	[ "$rc" = "$1" ] || { fail "$2: exit status $rc, expected $1"; echo "$err" >&2; }
}

expect_eq() {	# got expected description
	[ "$1" = "$2" ] || fail "$3: got [$1], expected [$2]"
}

expect_in() {	# haystack needle description
	case "$1" in
	*"$2"*) ;;
	*) fail "$3: [$2] not found in [$1]" ;;
	esac
}

expect_not_in() {
	case "$1" in
	*"$2"*) fail "$3: [$2] found in [$1]" ;;
	*) ;;
	esac
}

# lines TEXT: number of lines
lines() {
	if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l | tr -d ' '; fi
}

# json EXPR: evaluates a Python expression on the JSON in $out as `d`
json() {
	printf '%s' "$out" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

finish() {
	if [ "$failures" -gt 0 ]; then
		echo "$failures check(s) failed" >&2
		exit 1
	fi
	echo "ok"
	exit 0
}
set -e
