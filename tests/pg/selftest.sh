#!/usr/bin/env bash
# Self-test of the PostgreSQL harness (pg.sh): selftest.sh [PARENT_DIR]
#
# Starts a cluster in a fresh directory below PARENT_DIR (default /tmp) and checks: the server is
# PostgreSQL 15, runs as the right user, answers over TCP on 127.0.0.1 with the URI of DIR/env and
# over the Unix socket, never on the system cluster's port or socket; newdb gives separate, empty
# databases; a second cluster (in a directory closed to others) runs alongside on another port; a
# start on a taken port fails and leaves nothing running, and the port retry works; stop ends the
# postmaster within a few seconds; a restart keeps the data and the port; cleanup leaves no process
# and no directory behind.  Prints one line on success; on failure the reason, exit status 1.
# Exit 77 (skipped) if PostgreSQL 15 is missing, unless MXDIGEST_REQUIRE_PG=1 (then 1).
set -eu
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
PGSH="$HERE/pg.sh"
PGBIN=${MXD_PG_BIN:-/usr/lib/postgresql/15/bin}
now_ms() { date +%s%3N; }
START_MS=$(now_ms)

rc=0
msg=$("$PGSH" check 2>&1) || rc=$?
if [ $rc = 77 ]; then
	if [ "${MXDIGEST_REQUIRE_PG:-0}" = 1 ]; then
		printf 'pg selftest: FAIL: %s (MXDIGEST_REQUIRE_PG=1)\n' "$msg" >&2
		exit 1
	fi
	printf 'SKIP: %s\n' "$msg"
	exit 77
elif [ $rc != 0 ]; then
	printf 'pg selftest: FAIL: pg.sh check exited %s: %s\n' "$rc" "$msg" >&2
	exit 1
fi

PARENT=${1:-/tmp}
mkdir -p "$PARENT"
T=$(mktemp -d "$PARENT/mxd-pg-selftest.XXXXXX")
T=$(cd "$T" && pwd -P)
# Let the server's user (postgres, when root) reach A; B lies below a directory closed to it.
chmod 755 "$T"
A="$T/a" B="$T/closed/b" C="$T/c" D="$T/d" W="$T/work"
mkdir -p "$W" "$T/closed"
chmod 700 "$T/closed"
CHECKS=0
ALL_PIDS="" AUX_DIRS=""

cleanup() {
	local rc=$? d
	trap - EXIT
	for d in "$A" "$B" "$C" "$D"; do
		"$PGSH" cleanup "$d" || rc=1
	done
	rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	printf 'pg selftest: FAIL: %s\n' "$*" >&2
	if [ -s "$W/out" ]; then
		printf '%s\n' "----- output -----" >&2
		tail -n 40 "$W/out" >&2
	fi
	exit 1
}
ok() { CHECKS=$((CHECKS + 1)); }

# run WHAT CMD...: CMD must succeed; its output goes to $W/out.
run() {
	local what=$1
	shift
	"$@" >"$W/out" 2>&1 || fail "$what (exit $?)"
	ok
}

# envget DIR VAR: VAR as DIR/env sets it.
envget() {
	[ -f "$1/env" ] || fail "$1/env missing"
	# shellcheck disable=SC1091
	(. "$1/env" && eval "printf '%s\n' \"\${$2}\"")
}

# sql CONNINFO QUERY: one query through psql, none of the caller's PG* variables used; prints the
# unaligned result.
sql() {
	env -u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PGSERVICE -u PGSERVICEFILE -u PGSSLMODE \
		-u PGOPTIONS -u PGPASSWORD PGCONNECT_TIMEOUT=5 \
		timeout 30 "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}
canon_dir() { (cd "$1" && pwd -P); }
# sql_sock DIR QUERY [DATABASE]: the same over DIR's Unix socket.
sql_sock() {
	sql "host=$(envget "$1" PGHOST) port=$(envget "$1" PGPORT) user=mxdigest dbname=${3:-mxdigest}" "$2"
}
expect() {
	# expect WHAT GOT WANT
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	ok
}

alive() {
	# A zombie is dead: the postmaster's parent is init, which may reap it late.
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
	case $st in "" | Z | X) return 1 ;; esac
	return 0
}
# procs_in PATH...: PIDs of live processes whose working directory lies under one of the PATHs.
procs_in() {
	local p cwd d st
	for p in /proc/[0-9]*; do
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		for d in "$@"; do
			case $cwd in "$d" | "$d"/*)
				st=$(sed 's/.*) //' "$p/stat" 2>/dev/null | cut -c1) || continue
				case $st in Z | X) ;; *) printf '%s ' "${p#/proc/}" ;; esac
				;;
			esac
		done
	done
}
remember() {
	# remember DIR: note its postmaster and children, and its /tmp directory, for the final checks.
	local pid aux
	pid=$(envget "$1" MXD_PG_PID)
	ALL_PIDS="$ALL_PIDS $pid $(cat "/proc/$pid/task/$pid/children" 2>/dev/null || true)"
	aux=$(dirname "$(envget "$1" MXD_PG_DATA)")
	case $aux in "$T"/*) ;; *) AUX_DIRS="$AUX_DIRS $aux" ;; esac
}

if [ "$(id -u)" = 0 ]; then RUN_USER=postgres; else RUN_USER=$(id -un); fi

# ---- start A ---------------------------------------------------------------------------------------
t0=$(now_ms)
run "pg.sh start $A" "$PGSH" start "$A"
start_ms=$(($(now_ms) - t0))
remember "$A"
A_PORT=$(envget "$A" PGPORT) A_SOCK=$(envget "$A" PGHOST) A_PID=$(envget "$A" MXD_PG_PID)
A_URI=$(envget "$A" MXD_PG_URI)
expect "MXD_PG_URI" "$A_URI" "postgresql://mxdigest@127.0.0.1:$A_PORT/mxdigest?sslmode=disable"
expect "PGUSER" "$(envget "$A" PGUSER)" mxdigest
expect "PGDATABASE" "$(envget "$A" PGDATABASE)" mxdigest
if [ "$RUN_USER" = postgres ] && ! (cd / && runuser -u postgres -- test -x "$T"); then
	# PARENT_DIR is closed to postgres (e.g. below /root): A went to a /tmp/mxd-pg.* of its own.
	case $(envget "$A" MXD_PG_DATA) in /tmp/mxd-pg.*/data) ok ;; *) fail "A's data in $(envget "$A" MXD_PG_DATA)" ;; esac
	expect "socket directory of A" "$A_SOCK/data" "$(envget "$A" MXD_PG_DATA)"
elif [ ${#A} -gt 80 ]; then
	expect "data directory of A" "$(envget "$A" MXD_PG_DATA)" "$A/data"
	case $A_SOCK in /tmp/mxd-pg.*) ok ;; *) fail "socket directory $A_SOCK for a long DIR" ;; esac
else
	expect "data directory of A" "$(envget "$A" MXD_PG_DATA)" "$A/data"
	expect "socket directory of A" "$A_SOCK" "$A"
fi
[ "$A_PORT" != 5432 ] || fail "the harness took the system cluster's port 5432"
[ -S "$A_SOCK/.s.PGSQL.$A_PORT" ] || fail "no socket $A_SOCK/.s.PGSQL.$A_PORT"
ok
expect "user of the postmaster" "$(ps -o user= -p "$A_PID" | tr -d ' ')" "$RUN_USER"
expect "owner of the data directory" "$(stat -c %U "$(envget "$A" MXD_PG_DATA)")" "$RUN_USER"

# ---- the server: version, settings, TCP with the URI, the socket -----------------------------------
v=$(sql "$A_URI" "SELECT version()") || fail "SELECT version() over TCP"
case $v in "PostgreSQL 15."*) ok ;; *) fail "version() is '$v', not PostgreSQL 15" ;; esac
n=$(sql "$A_URI" "SHOW server_version_num") || fail "SHOW server_version_num"
case $n in 15????) ok ;; *) fail "server_version_num $n" ;; esac
expect "over TCP" "$(sql "$A_URI" "SELECT host(inet_server_addr()) || ' ' || inet_server_port() || ' ' || current_user || ' ' || current_database()")" \
	"127.0.0.1 $A_PORT mxdigest mxdigest"
expect "settings" "$(sql "$A_URI" "SELECT current_setting('fsync') || ' ' || current_setting('listen_addresses') || ' ' || current_setting('TimeZone') || ' ' || (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)")" \
	"off 127.0.0.1 UTC true"
expect "over the socket" "$(sql_sock "$A" "SELECT inet_server_addr() IS NULL AND current_user = 'mxdigest'")" t
expect "MXD_PG_SOCKET_URI" "$(sql "$(envget "$A" MXD_PG_SOCKET_URI)" "SELECT inet_server_addr() IS NULL")" t
expect "pg.sh psql" "$("$PGSH" psql "$A" -Atc "SELECT current_database() || ' ' || current_setting('port') || ' ' || (inet_server_addr() IS NULL)")" \
	"mxdigest $A_PORT true"
# Nothing but 127.0.0.1: the server does not answer on another loopback address.
if sql "postgresql://mxdigest@127.0.0.2:$A_PORT/mxdigest?sslmode=disable&connect_timeout=2" \
	"SELECT 1" >/dev/null 2>&1; then
	fail "the server answers on 127.0.0.2"
fi
ok
expect "status of A" "$("$PGSH" status "$A")" "$A_PID"

# ---- newdb: one database per test ------------------------------------------------------------------
u1=$("$PGSH" newdb "$A" t_one) || fail "newdb t_one"
u2=$("$PGSH" newdb "$A" t_two) || fail "newdb t_two"
expect "newdb URI" "$u1" "postgresql://mxdigest@127.0.0.1:$A_PORT/t_one?sslmode=disable"
expect "database of the newdb URI" "$(sql "$u2" "SELECT current_database()")" t_two
run "a table in t_one" sql "$u1" "CREATE TABLE only_here (x int); INSERT INTO only_here VALUES (42)"
expect "the table in t_one" "$(sql "$u1" "SELECT x FROM only_here")" 42
expect "t_two is separate" "$(sql "$u2" "SELECT to_regclass('only_here') IS NULL")" t
expect "mxdigest is separate" "$(sql "$A_URI" "SELECT to_regclass('only_here') IS NULL")" t
expect "pg.sh psql -d" "$("$PGSH" psql "$A" -d t_one -Atc "SELECT count(*) FROM only_here")" 1
run "newdb t_one again" "$PGSH" newdb "$A" t_one
expect "newdb gives an empty database" "$(sql "$u1" "SELECT to_regclass('only_here') IS NULL")" t
r1=$("$PGSH" newdb "$A") || fail "newdb without a name"
r2=$("$PGSH" newdb "$A") || fail "newdb without a name"
[ "$r1" != "$r2" ] || fail "two newdb without a name gave the same database $r1"
expect "a generated database" "$(sql "$r2" "SELECT current_database() LIKE 't\_%'")" t
for bad in "Upper" "x;drop" "postgres" "template1"; do
	if "$PGSH" newdb "$A" "$bad" >"$W/out" 2>&1; then fail "newdb accepted the name '$bad'"; fi
	ok
done
run "a table in A's mxdigest" sql "$A_URI" "CREATE TABLE in_a (x int); INSERT INTO in_a VALUES (1), (2)"

# ---- B: a second cluster alongside, in a directory closed to others -----------------------------------
run "pg.sh start $B" "$PGSH" start "$B"
remember "$B"
B_PORT=$(envget "$B" PGPORT) B_PID=$(envget "$B" MXD_PG_PID) B_URI=$(envget "$B" MXD_PG_URI)
[ "$B_PORT" != "$A_PORT" ] || fail "A and B share port $A_PORT"
[ "$B_PID" != "$A_PID" ] || fail "A and B share a postmaster"
[ "$(envget "$B" PGHOST)" != "$A_SOCK" ] || fail "A and B share a socket directory"
ok
if [ "$RUN_USER" = postgres ]; then
	# postgres cannot enter $T/closed: B's data and socket went to a /tmp/mxd-pg.* of its own.
	case $(envget "$B" MXD_PG_DATA) in /tmp/mxd-pg.*/data) ok ;; *) fail "B's data in $(envget "$B" MXD_PG_DATA)" ;; esac
fi
expect "B answers" "$(sql "$B_URI" "SELECT inet_server_port() || ' ' || current_database()")" "$B_PORT mxdigest"
expect "B is another cluster" "$(sql "$B_URI" "SELECT to_regclass('in_a') IS NULL")" t
expect "A still answers" "$(sql "$A_URI" "SELECT count(*) FROM in_a")" 2
expect "B over its socket" "$(sql_sock "$B" "SELECT inet_server_addr() IS NULL")" t

# ---- C: a start that fails midway leaves nothing running; the port retry --------------------------
rc=0
MXD_PG_PORT=$B_PORT "$PGSH" start "$C" >"$W/out" 2>&1 || rc=$?
[ $rc = 1 ] || fail "start on B's port $B_PORT: exit $rc, want 1"
grep -q "port $B_PORT on 127.0.0.1 is taken" "$W/out" || fail "start on a taken port: no clear message"
[ ! -e "$C/env" ] || fail "env written by a failed start"
rc=0
"$PGSH" status "$C" >/dev/null 2>&1 || rc=$?
[ $rc = 3 ] || fail "status after a failed start: $rc, want 3"
left=$(procs_in "$C")
[ -z "$left" ] || fail "processes left by a failed start: $left"
ok
run "start with the first port taken" env MXD_PG_FIRST_PORT="$B_PORT" "$PGSH" start "$C"
remember "$C"
C_PORT=$(envget "$C" PGPORT)
if [ "$C_PORT" = "$B_PORT" ] || [ "$C_PORT" = "$A_PORT" ]; then fail "C got port $C_PORT"; fi
grep -q "Address already in use" "$(envget "$C" MXD_PG_LOG)" || fail "C did not try port $B_PORT first"
expect "C answers" "$(sql "$(envget "$C" MXD_PG_URI)" "SELECT inet_server_port()")" "$C_PORT"
run "pg.sh cleanup $C" "$PGSH" cleanup "$C"
[ ! -e "$C" ] || fail "$C left after cleanup"
ok

# ---- D: MXD_PG_AUTH=scram (password on 127.0.0.1, the socket trust), with TLS when openssl is here --
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=localhost -keyout "$W/tls.key" -out "$W/tls.crt" >"$W/out" 2>&1 ||
		fail "openssl req (a certificate for D)"
	set -- MXD_PG_SSL_CERT="$W/tls.crt" MXD_PG_SSL_KEY="$W/tls.key"
	D_SSL=on
else
	set --
	D_SSL=off
fi
run "pg.sh start $D with MXD_PG_AUTH=scram" env MXD_PG_AUTH=scram "$@" "$PGSH" start "$D"
remember "$D"
D_PORT=$(envget "$D" PGPORT) D_PWF=$(envget "$D" MXD_PG_PASSWORD_FILE)
expect "MXD_PG_AUTH of D" "$(envget "$D" MXD_PG_AUTH)" scram
expect "MXD_PG_SSL of D" "$(envget "$D" MXD_PG_SSL)" "$D_SSL"
expect "MXD_PG_PASSWORD_FILE" "$D_PWF" "$(canon_dir "$D")/password"
expect "mode of the password file" "$(stat -c %a "$D_PWF")" 600
D_PASS=$(cat "$D_PWF")
D_TCP="host=127.0.0.1 port=$D_PORT user=mxdigest dbname=mxdigest"
if PGPASSFILE=/dev/null sql "$D_TCP sslmode=prefer" "SELECT 1" >"$W/out" 2>&1; then
	fail "D let a client in over TCP without a password"
fi
grep -q "no password supplied" "$W/out" || fail "D without a password: $(cat "$W/out")"
ok
if PGPASSFILE=/dev/null sql "$D_TCP password=wrong-$D_PASS" "SELECT 1" >"$W/out" 2>&1; then
	fail "D let a client in with a wrong password"
fi
grep -q "password authentication failed" "$W/out" || fail "D with a wrong password: $(cat "$W/out")"
ok
expect "D with its password" "$(sql "$D_TCP password=$D_PASS" "SELECT current_setting('password_encryption') || ' ' || (SELECT rolpassword LIKE 'SCRAM-SHA-256\$%' FROM pg_authid WHERE rolname = 'mxdigest')")" \
	"scram-sha-256 true"
expect "D over its socket without a password" "$(sql_sock "$D" "SELECT inet_server_addr() IS NULL")" t
if [ "$D_SSL" = on ]; then
	expect "TLS on D" "$(sql "$D_TCP password=$D_PASS sslmode=require" "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")" t
else
	echo "pg selftest: note: no openssl, the TLS option was not checked" >&2
fi
expect "A has no TLS" "$(sql "$A_URI" "SELECT current_setting('ssl')")" off
run "pg.sh stop $D" "$PGSH" stop "$D"
run "pg.sh start $D (restart)" "$PGSH" start "$D"
remember "$D"
expect "D's password after a restart" "$(sql "$D_TCP password=$D_PASS" "SELECT 1")" 1
expect "MXD_PG_AUTH of D after a restart" "$(envget "$D" MXD_PG_AUTH)" scram
run "pg.sh cleanup $D" "$PGSH" cleanup "$D"
rc=0
MXD_PG_AUTH=md5 "$PGSH" start "$D" >"$W/out" 2>&1 || rc=$?
[ $rc = 1 ] || fail "MXD_PG_AUTH=md5: exit $rc, want 1"
grep -q "MXD_PG_AUTH=md5: trust or scram" "$W/out" || fail "MXD_PG_AUTH=md5: $(cat "$W/out")"
run "pg.sh cleanup $D after the refused start" "$PGSH" cleanup "$D"
ok

# ---- stop A: the postmaster is gone within a few seconds; B is untouched -----------------------------
kids=$(cat "/proc/$A_PID/task/$A_PID/children" 2>/dev/null || true)
t0=$(now_ms)
run "pg.sh stop $A" "$PGSH" stop "$A"
stop_ms=$(($(now_ms) - t0))
for p in $A_PID $kids; do
	! alive "$p" || fail "process $p of A still alive after stop"
done
[ "$stop_ms" -lt 5000 ] || fail "stop took $stop_ms ms"
[ ! -e "$A_SOCK/.s.PGSQL.$A_PORT" ] || fail "socket left after stop"
[ ! -e "$A/env" ] || fail "env left after stop"
ok
if sql "$A_URI&connect_timeout=2" "SELECT 1" >/dev/null 2>&1; then fail "A answers after stop"; fi
ok
rc=0
"$PGSH" status "$A" >/dev/null 2>&1 || rc=$?
expect "status after stop" "$rc" 3
run "pg.sh stop again" "$PGSH" stop "$A"
expect "B after A stopped" "$(sql "$B_URI" "SELECT 1")" 1

# ---- restart A: same port, same data -------------------------------------------------------------
t0=$(now_ms)
run "pg.sh start $A (restart)" "$PGSH" start "$A"
restart_ms=$(($(now_ms) - t0))
remember "$A"
expect "port after restart" "$(envget "$A" PGPORT)" "$A_PORT"
[ "$(envget "$A" MXD_PG_PID)" != "$A_PID" ] || fail "same postmaster PID after a restart"
expect "data after restart" "$(sql "$A_URI" "SELECT count(*) FROM in_a")" 2
if "$PGSH" start "$A" >"$W/out" 2>&1; then fail "a second start of a running A succeeded"; fi
ok

# ---- cleanup: no process, no directory left ------------------------------------------------------
run "pg.sh cleanup $A" "$PGSH" cleanup "$A"
run "pg.sh cleanup $B" "$PGSH" cleanup "$B"
run "pg.sh cleanup of a missing DIR" "$PGSH" cleanup "$A"
if [ -e "$A" ] || [ -e "$B" ]; then fail "a DIR left after cleanup"; fi
for d in $AUX_DIRS; do
	[ ! -e "$d" ] || fail "$d left after cleanup"
done
ok
for p in $ALL_PIDS; do
	! alive "$p" || fail "process $p still alive after cleanup: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
done
# shellcheck disable=SC2086
left=$(procs_in "$T" $AUX_DIRS)
[ -z "$left" ] || fail "processes left in $T: $left"
ok

total_ms=$(($(now_ms) - START_MS))
printf 'pg selftest: ok (%d checks; as %s; start %d ms, stop %d ms, restart %d ms; %d.%d s in all)\n' \
	"$CHECKS" "$RUN_USER" "$start_ms" "$stop_ms" "$restart_ms" $((total_ms / 1000)) $((total_ms % 1000 / 100))
