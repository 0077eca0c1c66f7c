#!/usr/bin/env bash
# cluster.sh start|stop DIR: the one PostgreSQL cluster that the pg-labelled
# store tests share (CTest fixture pg_cluster; each test makes its own
# database in it).  start: skipped (77) without PostgreSQL 15 unless
# MXDIGEST_REQUIRE_PG=1; a cluster left running by an interrupted run is
# stopped first.
set -u
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
start)
	if ! out=$("$here/pg.sh" check 2>&1); then
		echo "$out"
		[ "${MXDIGEST_REQUIRE_PG:-}" = 1 ] && exit 1
		exit 77
	fi
	"$here/pg.sh" stop "$2" >/dev/null 2>&1
	exec "$here/pg.sh" start "$2"
	;;
stop)
	exec "$here/pg.sh" cleanup "$2"
	;;
*)
	echo "usage: cluster.sh start|stop DIR" >&2
	exit 2
	;;
esac
