# lib.sh — helpers for the command-line tests (sourced by each t_*.sh).
#
# Environment (set by CTest): MXDIGEST (the binary), SRCDIR (the source
# tree), and optionally MXD_WRAPPER (e.g. "valgrind --error-exitcode=99 ...")
# to run every mxdigest invocation under a tool.
#
# The store under test is an SQLite file in $TMP, or, when the test runs
# under tests/pg/cli.sh (CTest label pg), a fresh database of a throwaway
# PostgreSQL: then MXD_TEST_PG_DIR names the cluster (tests/pg/pg.sh) and
# $DB is the URI of the test's own database.  BACKEND says which.
set -u

: "${MXDIGEST:?MXDIGEST must name the mxdigest binary}"
: "${SRCDIR:?SRCDIR must name the source tree}"
SAMPLES="$SRCDIR/samples"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mxdtest.XXXXXX")
trap '[ -n "${MXD_KEEP_TMP:-}" ] || rm -rf "$TMP"' EXIT
if [ -n "${MXD_TEST_PG_DIR:-}" ]; then
	BACKEND=pg
	PGSH="$SRCDIR/tests/pg/pg.sh"
	# one database per test and store name: t_<test>_<name>
	TESTNAME=$(basename "$0" .sh | tr -c 'a-z0-9_\n' _)
else
	BACKEND=sqlite
fi

# new_db NAME: prints a new, empty store of this test (a path in $TMP, or
# the URI of a new PostgreSQL database); NAME is [a-z0-9_]+.
new_db() {
	if [ "$BACKEND" = pg ]; then
		"$PGSH" newdb "$MXD_TEST_PG_DIR" "$(printf '%s_%s' "$TESTNAME" "$1" | cut -c1-60)"
	else
		printf '%s/%s.db\n' "$TMP" "$1"
	fi
}
DB=$(new_db test)

# fresh_db: empties the store $DB names
fresh_db() {
	if [ "$BACKEND" = pg ]; then
		psql -XAtq -d "$DB" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' \
			>/dev/null 2>&1 || fail "could not empty $DB"
	else
		rm -f "$DB" "$DB-wal" "$DB-shm" "$DB.lock"
	fi
}

# sql STATEMENT: runs it on the store $DB names; rows as a|b, one a line
sql() {
	if [ "$BACKEND" = pg ]; then
		psql -XAtq -v ON_ERROR_STOP=1 -d "$DB" -c "$1"
	else
		sqlite3 "$DB" "$1"
	fi
}

# zlib_rows COND: the messages COND selects become zlib rows (codec 1) of
# their source files, as schema 4 and older stored every raw copy
zlib_rows() {
	sql "SELECT id, source FROM messages WHERE $1" | /usr/bin/python3 -c '
import sys, zlib
pg = sys.argv[1] == "pg"
print("BEGIN;")
for line in sys.stdin:
    i, src = line.rstrip("\n").split("|", 1)
    z = zlib.compress(open(src, "rb").read(), 1).hex()
    lit = ("'"'"'\\x%s'"'"'::bytea" if pg else "X'"'"'%s'"'"'") % z
    print("UPDATE messages SET codec = 1, dict = NULL, data = %s WHERE id = %s;" % (lit, i))
print("COMMIT;")' "$BACKEND" >"$TMP/zlib.sql"
	if [ "$BACKEND" = pg ]; then
		psql -XAtq -v ON_ERROR_STOP=1 -d "$DB" -f "$TMP/zlib.sql" >/dev/null
	else
		sqlite3 "$DB" <"$TMP/zlib.sql"
	fi
}

# sqlite_only WHY: ends a test that only means something on SQLite (a
# database file, an old SQLite schema) as skipped on PostgreSQL
sqlite_only() {
	if [ "$BACKEND" = pg ]; then
		echo "skipped on PostgreSQL: $1"
		exit 77
	fi
}
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
