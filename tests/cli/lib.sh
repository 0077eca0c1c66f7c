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
. "$SRCDIR/tests/assert.sh"
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

# lines TEXT: number of lines
lines() {
	if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l | tr -d ' '; fi
}

# json EXPR: evaluates a Python expression on the JSON in $out as `d`
json() {
	printf '%s' "$out" | /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

set -e
