#!/usr/bin/env bash
# with-pg.sh DIR COMMAND...: runs a test against the throwaway PostgreSQL
# cluster in DIR (started by `cluster.sh start DIR`, the CTest fixture
# pg_cluster): exports its environment (PGHOST, PGPORT, ...: psql and
# libpq find it) and MXD_TEST_PG_DIR, which makes tests/cli/lib.sh give
# the test its own database.  Without a cluster the test is skipped (77),
# or fails when MXDIGEST_REQUIRE_PG=1 (CI).
set -u
dir=$1
shift
if [ ! -f "$dir/env" ]; then
	if [ "${MXDIGEST_REQUIRE_PG:-}" = 1 ]; then
		echo "FAIL: no PostgreSQL cluster at $dir (MXDIGEST_REQUIRE_PG=1)" >&2
		exit 1
	fi
	echo "SKIP: no PostgreSQL 15 here (tests/pg/pg.sh check says why)"
	exit 77
fi
# shellcheck disable=SC1091
. "$dir/env"
export MXD_TEST_PG_DIR="$dir"
exec "$@"
