#!/usr/bin/env bash
# Throwaway PostgreSQL 15 for the tests (see README.md in this directory).
#
#   pg.sh check                 exit 0 if PostgreSQL 15 can be run here; else 77 and a line
#                               naming the missing Debian package
#   pg.sh start DIR             initdb into DIR/data (first time), start on a free high port on
#                               127.0.0.1 and a socket in DIR, create database mxdigest, write
#                               DIR/env; returns once the server accepts connections
#   pg.sh stop DIR              pg_ctl stop -m fast, then signals by the recorded PID; idempotent
#   pg.sh cleanup DIR           stop and remove DIR
#   pg.sh status DIR            exit 0 if running (prints the postmaster PID), 3 if not
#   pg.sh psql DIR [ARGS...]    psql as mxdigest to database mxdigest (ARGS may name another)
#   pg.sh newdb DIR [NAME]      (re)create an empty database NAME (default: a fresh random
#                               name) and print its URI
#   pg.sh uri DIR [NAME]        print the URI of database NAME (default mxdigest)
#
# Superuser mxdigest, trust authentication on the socket and on 127.0.0.1 (nothing else is
# listened on), fsync off.  As root the server runs as the postgres system user (runuser), as
# anyone else as that user.  The system cluster (port 5432, /var/run/postgresql) is never used.
# Quiet on success; on failure the reason and the server log on stderr, exit 1.  A process is only
# signalled by the PID this instance recorded (or a child of it), and only while its working
# directory is this instance's data directory; never by name.
# Environment: MXD_START_TIMEOUT (seconds, 30); MXD_PG_PORT (use this port, no retry);
# MXD_PG_USER (the user to run as when root, default postgres); MXD_PG_BIN (the server's
# binaries, default /usr/lib/postgresql/15/bin).  At the first start of a DIR only:
# MXD_PG_AUTH=scram (scram-sha-256 on 127.0.0.1 with a random password for mxdigest, in
# DIR/password; the socket stays trust; default trust); MXD_PG_SSL_CERT=PEM and
# MXD_PG_SSL_KEY=PEM (ssl = on with that certificate; default ssl = off).

set -eu
set -o pipefail

PGBIN=${MXD_PG_BIN:-/usr/lib/postgresql/15/bin}
SUPERUSER=mxdigest
MAIN_DB=mxdigest
START_TIMEOUT=${MXD_START_TIMEOUT:-30}

say() { printf 'pg.sh: %s\n' "$*" >&2; }

show_log() {
	local f n
	for f in "${D:-}/initdb.out" "${D:-}/pg_ctl.out" "${D:-}/pg_ctl-stop.out" "${LOG:-}"; do
		{ [ -n "$f" ] && [ -s "$f" ]; } || continue
		n=$(wc -l <"$f")
		printf '%s\n' "----- $f ($n lines) -----" >&2
		if [ "$n" -le 60 ]; then
			cat "$f" >&2
		else
			head -n 10 "$f" >&2
			printf '[... %d lines ...]\n' $((n - 50)) >&2
			tail -n 40 "$f" >&2
		fi
		printf '%s\n' "----- end of $f -----" >&2
	done
}

die() {
	say "error: $*"
	show_log
	exit 1
}

usage() {
	sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

is_root() { [ "$(id -u)" = 0 ]; }

now_ms() { date +%s%3N; }

canon() { (cd "$1" && pwd -P); }

# The user the server runs as: postgres (MXD_PG_USER) when we are root, else ourselves.
if is_root; then
	RUN_USER=${MXD_PG_USER:-postgres}
else
	RUN_USER=""
fi

as_pg() {
	# Run a command as the server's user, from / (root's working directory may be closed to it).
	if [ -n "$RUN_USER" ]; then
		(cd / && runuser -u "$RUN_USER" -- "$@")
	else
		(cd / && "$@")
	fi
}

give_to_pg() {
	# give_to_pg PATH...: make the server's user the owner (when root).
	[ -z "$RUN_USER" ] || chown "$RUN_USER:" "$@"
}

# ---------------------------------------------------------------------------------------------------
# check

missing_packages() {
	local m=""
	[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/pg_ctl" ] && [ -x "$PGBIN/postgres" ] ||
		m="$m postgresql-15 ($PGBIN/initdb)"
	[ -x "$PGBIN/psql" ] && [ -x "$PGBIN/pg_isready" ] ||
		m="$m postgresql-client-15 ($PGBIN/psql)"
	if is_root; then
		command -v runuser >/dev/null 2>&1 || m="$m util-linux (runuser)"
		id -u "$RUN_USER" >/dev/null 2>&1 ||
			m="$m postgresql-15 (the system user $RUN_USER, which the package creates)"
	fi
	command -v timeout >/dev/null 2>&1 || m="$m coreutils (timeout)"
	printf '%s' "$m"
}

cmd_check() {
	[ $# = 0 ] || usage
	local m
	m=$(missing_packages)
	[ -z "$m" ] && return 0
	printf 'PostgreSQL 15 is not available, missing:%s; install the Debian package postgresql-15\n' "$m" >&2
	exit 77
}

# ---------------------------------------------------------------------------------------------------
# State: DIR/harness.state (shell assignments), written by start, read by every other subcommand.

load_state() {
	[ -d "$1" ] || die "$1: no such directory (run: pg.sh start $1)"
	D=$(canon "$1")
	[ -f "$D/harness.state" ] || die "$D is not a pg.sh directory (run: pg.sh start $1)"
	AUTH=trust SSL=0	# a state written before these existed
	# shellcheck disable=SC1091
	. "$D/harness.state"
}

write_state() {
	local v
	{
		for v in PORT DATA SOCK LOG AUX PID INITED AUTH SSL; do
			eval "printf '%s=%s\n' $v \"\$(q \"\${$v}\")\""
		done
	} >"$D/harness.state.tmp"
	mv "$D/harness.state.tmp" "$D/harness.state"
}

uri_of() { printf 'postgresql://%s@127.0.0.1:%s/%s?sslmode=disable\n' "$SUPERUSER" "$PORT" "$1"; }

write_env() {
	{
		printf '# generated by tests/pg/pg.sh start; source it\n'
		printf 'export PGHOST=%s\n' "$(q "$SOCK")"
		printf 'export PGPORT=%s\n' "$PORT"
		printf 'export PGUSER=%s\n' "$SUPERUSER"
		printf 'export PGDATABASE=%s\n' "$MAIN_DB"
		printf 'export MXD_PG_URI=%s\n' "$(q "$(uri_of "$MAIN_DB")")"
		printf 'export MXD_PG_SOCKET_URI=%s\n' \
			"$(q "postgresql://$SUPERUSER@/$MAIN_DB?host=$SOCK&port=$PORT")"
		printf 'export MXD_PG_HOST=127.0.0.1\n'
		printf 'export MXD_PG_PORT=%s\n' "$PORT"
		printf 'export MXD_PG_SOCKDIR=%s\n' "$(q "$SOCK")"
		printf 'export MXD_PG_PID=%s\n' "$PID"
		printf 'export MXD_PG_DATA=%s\n' "$(q "$DATA")"
		printf 'export MXD_PG_LOG=%s\n' "$(q "$LOG")"
		printf 'export MXD_PG_DIR=%s\n' "$(q "$D")"
		printf 'export MXD_PG_BIN=%s\n' "$(q "$PGBIN")"
		printf 'export MXD_PG_AUTH=%s\n' "$AUTH"
		if [ "$AUTH" = scram ]; then
			printf 'export MXD_PG_PASSWORD_FILE=%s\n' "$(q "$D/password")"
		else
			printf 'export MXD_PG_PASSWORD_FILE=\n'
		fi
		if [ "$SSL" = 1 ]; then printf 'export MXD_PG_SSL=on\n'; else printf 'export MXD_PG_SSL=off\n'; fi
	} >"$D/env.tmp"
	mv "$D/env.tmp" "$D/env"
}

# ---------------------------------------------------------------------------------------------------
# Processes

pid_is_ours() {
	# pid_is_ours PID: alive, not a zombie, and working in $DATA (the postmaster and every backend
	# chdir there).  A stale PID that now names something else fails this.
	local p=$1 st cwd
	case $p in '' | *[!0-9]*) return 1 ;; esac
	st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || return 1
	case $st in Z* | X*) return 1 ;; esac
	cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || return 1
	[ "$cwd" = "$DATA" ]
}

postmaster_pid() {
	# The live postmaster of $DATA: the PID in its postmaster.pid, else the one recorded at start.
	local p
	p=$(head -n1 "$DATA/postmaster.pid" 2>/dev/null | tr -cd '0-9') || p=""
	if pid_is_ours "$p"; then
		printf '%s\n' "$p"
		return 0
	fi
	if pid_is_ours "${PID:-}"; then
		printf '%s\n' "$PID"
		return 0
	fi
	return 1
}

children_of() {
	local want=$1 p stat rest
	for p in /proc/[0-9]*; do
		stat=$(cat "$p/stat" 2>/dev/null) || continue
		rest=${stat##*) }
		# shellcheck disable=SC2086 # rest: state ppid ...
		set -- $rest
		[ "${2:-}" = "$want" ] && printf '%s\n' "${p#/proc/}"
	done
	return 0
}

any_ours() {
	local p
	for p in "$@"; do
		pid_is_ours "$p" && return 0
	done
	return 1
}

wait_gone() {
	# wait_gone SECONDS PID...: until none of the PIDs is ours any more, or time is up.
	local end=$(($(now_ms) + $1 * 1000))
	shift
	while any_ours "$@"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
	return 0
}

signal_ours() {
	# signal_ours SIG PID...: signal those PIDs that are still ours.
	local sig=$1 p
	shift
	for p in "$@"; do
		if pid_is_ours "$p"; then kill "-$sig" "$p" 2>/dev/null || true; fi
	done
}

do_stop() {
	local pid kids
	rm -f "$D/env"
	pid=$(postmaster_pid) || return 0
	# shellcheck disable=SC2046
	kids=$(children_of "$pid" | tr '\n' ' ')
	as_pg timeout 20 "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 10 stop >"$D/pg_ctl-stop.out" 2>&1 || true
	# shellcheck disable=SC2086
	if ! wait_gone 5 "$pid" $kids; then
		say "warning: postgres (pid $pid) still running after pg_ctl stop -m fast, sending SIGQUIT"
		# shellcheck disable=SC2086
		signal_ours QUIT "$pid"
		# shellcheck disable=SC2086
		if ! wait_gone 5 "$pid" $kids; then
			say "warning: postgres (pid $pid) ignored SIGQUIT, sending SIGKILL"
			# shellcheck disable=SC2086
			signal_ours KILL "$pid" $kids
			# shellcheck disable=SC2086
			wait_gone 3 "$pid" $kids || die "postgres processes still alive: $pid $kids"
		fi
	fi
	rm -f "$D/pg_ctl-stop.out"
}

# ---------------------------------------------------------------------------------------------------
# Ports

port_bound() {
	# port_bound PORT: is any local TCP socket (IPv4 or IPv6, any state) on PORT?
	local hex
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v h="$hex" '{ n = split($2, a, ":"); if (n == 2 && a[2] == h) f = 1 } END { exit !f }'
}

pick_port() {
	# A port nobody has bound, below the kernel's ephemeral range (so outgoing connections do not
	# take it from us between picking and binding), never 5432 (the system cluster).
	local lo hi span base p
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { lo=32768 hi=60999; }
	if [ "$lo" -gt 21000 ]; then
		span=$((lo - 20000)) base=20000
	elif [ "$hi" -lt 64000 ]; then
		span=$((65000 - hi)) base=$((hi + 1))
	else
		span=10000 base=20000
	fi
	for _ in $(seq 1 200); do
		p=$((base + (RANDOM * 32768 + RANDOM) % span))
		[ "$p" != 5432 ] || continue
		port_bound "$p" || { printf '%s\n' "$p"; return 0; }
	done
	die "no free TCP port found in $base-$((base + span - 1))"
}

# ---------------------------------------------------------------------------------------------------
# Server

pg_write() {
	# pg_write PATH: stdin into PATH in the data directory, owned by the server's user, mode 600.
	cat >"$1.tmp"
	chmod 600 "$1.tmp"
	give_to_pg "$1.tmp"
	mv "$1.tmp" "$1"
}

write_conf() {
	pg_write "$DATA/mxdigest-harness.conf" <<-EOF
		# generated by tests/pg/pg.sh (rewritten at each start); included by postgresql.conf
		listen_addresses = '127.0.0.1'
		port = $PORT
		unix_socket_directories = '$SOCK'
		unix_socket_permissions = 0777
		ssl = $([ "$SSL" = 1 ] && echo on || echo off)
		ssl_cert_file = 'server.crt'
		ssl_key_file = 'server.key'
		fsync = off
		synchronous_commit = off
		full_page_writes = off
		shared_buffers = 16MB
		max_connections = 40
		max_wal_size = 256MB
		logging_collector = off
		log_line_prefix = '%m [%p] '
		timezone = 'UTC'
		log_timezone = 'UTC'
	EOF
}

admin_psql() {
	# admin_psql [psql args]: to database postgres over the socket, bounded in time.
	timeout 60 env -u PGSERVICE -u PGSERVICEFILE -u PGSSLMODE -u PGPASSWORD -u PGREQUIRESSL \
		PGHOST="$SOCK" PGPORT="$PORT" PGUSER="$SUPERUSER" PGDATABASE=postgres \
		PGCONNECT_TIMEOUT=5 PGOPTIONS="-c statement_timeout=60000" \
		"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

wait_accepting() {
	# Until the server answers on the socket and on 127.0.0.1:PORT, or the postmaster dies, or time
	# is up.  pg_ctl -w has already waited for "ready"; this proves both ways in really work.
	local end=$(($(now_ms) + START_TIMEOUT * 1000))
	while :; do
		if "$PGBIN/pg_isready" -q -t 2 -h "$SOCK" -p "$PORT" -U "$SUPERUSER" -d postgres &&
			"$PGBIN/pg_isready" -q -t 2 -h 127.0.0.1 -p "$PORT" -U "$SUPERUSER" -d postgres; then
			return 0
		fi
		pid_is_ours "$PID" || return 1
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

init_cluster() {
	rm -rf "$DATA"
	rm -f "$LOG"
	as_pg timeout 120 "$PGBIN/initdb" -D "$DATA" -U "$SUPERUSER" -A trust -E UTF8 --no-locale -N \
		>"$D/initdb.out" 2>&1 </dev/null || die "initdb failed"
	rm -f "$D/initdb.out"
	local method=trust
	[ "$AUTH" != scram ] || method=scram-sha-256
	pg_write "$DATA/pg_hba.conf" <<-EOF
		# generated by tests/pg/pg.sh: on the socket and on 127.0.0.1 only
		# TYPE  DATABASE  USER  ADDRESS       METHOD
		local   all       all                 trust
		host    all       all   127.0.0.1/32  $method
	EOF
	if [ "$SSL" = 1 ]; then
		pg_write "$DATA/server.crt" <"$MXD_PG_SSL_CERT"
		pg_write "$DATA/server.key" <"$MXD_PG_SSL_KEY"
	fi
	printf "\n# tests/pg/pg.sh\ninclude 'mxdigest-harness.conf'\n" >>"$DATA/postgresql.conf"
}

server_start() {
	# Start the postmaster, picking a new port when a fresh one is taken; sets PID.
	local attempt rc offset
	for attempt in 1 2 3 4 5 6 7 8; do
		write_conf
		offset=0
		[ ! -f "$LOG" ] || offset=$(wc -c <"$LOG")
		rc=0
		as_pg timeout $((START_TIMEOUT + 10)) "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w \
			-t "$START_TIMEOUT" start >"$D/pg_ctl.out" 2>&1 </dev/null || rc=$?
		PID=$(head -n1 "$DATA/postmaster.pid" 2>/dev/null | tr -cd '0-9') || PID=""
		if [ $rc = 0 ] && pid_is_ours "$PID"; then
			rm -f "$D/pg_ctl.out"
			return 0
		fi
		# Did not come up: make sure it is not running (pg_ctl's timeout leaves it alone).
		do_stop
		if [ "$FRESH_PORT" = 1 ] && [ "$attempt" -lt 8 ] &&
			tail -c +$((offset + 1)) "$LOG" 2>/dev/null | grep -q "Address already in use"; then
			PORT=$(pick_port)
			continue
		fi
		if tail -c +$((offset + 1)) "$LOG" 2>/dev/null | grep -q "Address already in use"; then
			die "port $PORT on 127.0.0.1 is taken (pg.sh cleanup $D, then start, picks a new one)"
		fi
		die "postgres did not start (pg_ctl exit $rc)"
	done
}

choose_dirs() {
	# BASE: where the data directory, the socket and the log go; DIR itself when the server's user
	# can get there, else (root, DIR below a directory closed to postgres, such as /root/...) a
	# directory of its own in /tmp.  The socket needs a short path (sun_path: 107 bytes).
	AUX=""
	local base=$D
	if [ -n "$RUN_USER" ]; then
		chmod 755 "$D"
		if as_pg test -x "$D"; then
			give_to_pg "$D"
		else
			base=""
		fi
	fi
	if [ -z "$base" ] || [ ${#base} -gt 80 ]; then
		AUX=$(canon "$(mktemp -d /tmp/mxd-pg.XXXXXX)")
		chmod 755 "$AUX"
		give_to_pg "$AUX"
		[ -n "$base" ] || base=$AUX
	fi
	DATA="$base/data"
	LOG="$base/postgres.log"
	if [ ${#base} -gt 80 ]; then SOCK=$AUX; else SOCK=$base; fi
}

STARTING=0
on_exit() {
	local rc=$?
	if [ "$STARTING" = 1 ]; then
		STARTING=0
		do_stop >/dev/null 2>&1 || true
		rm -f "$D/env"
	fi
	exit $rc
}

cmd_start() {
	[ $# = 1 ] || usage
	local m pid fresh=1
	m=$(missing_packages)
	[ -z "$m" ] || die "PostgreSQL 15 is not available, missing:$m"
	# the options of a first start, checked before anything is made
	local want_auth=${MXD_PG_AUTH:-trust} want_ssl=0
	case $want_auth in trust | scram) ;; *) die "MXD_PG_AUTH=$want_auth: trust or scram" ;; esac
	if [ -n "${MXD_PG_SSL_CERT:-}${MXD_PG_SSL_KEY:-}" ]; then
		[ -r "${MXD_PG_SSL_CERT:-}" ] && [ -r "${MXD_PG_SSL_KEY:-}" ] ||
			die "MXD_PG_SSL_CERT and MXD_PG_SSL_KEY must both name readable PEM files"
		want_ssl=1
	fi
	mkdir -p "$1"
	D=$(canon "$1")
	case $D in
	*[!A-Za-z0-9._/+@,=-]*) die "$D: DIR may only hold letters, digits and ._/+@,=- (it goes into URIs and the server's configuration)" ;;
	esac
	PID="" INITED=0 PORT="" AUTH=trust SSL=0
	if [ -f "$D/harness.state" ]; then
		load_state "$D"
		if pid=$(postmaster_pid); then
			die "postgres of $D is already running (pid $pid; run: pg.sh stop $D)"
		fi
		[ "$INITED" = 1 ] && [ -f "$DATA/PG_VERSION" ] && fresh=0
	fi
	if [ $fresh = 1 ]; then
		case ${AUX:-} in /tmp/mxd-pg.*) rm -rf "$AUX" ;; esac
		rm -f "$D/harness.state" "$D/env" "$D/password"
		choose_dirs
		PID="" INITED=0
		AUTH=$want_auth SSL=$want_ssl
	fi
	trap on_exit EXIT
	trap 'exit 1' INT TERM HUP
	STARTING=1
	FRESH_PORT=0
	if [ -n "${MXD_PG_PORT:-}" ]; then
		PORT=$MXD_PG_PORT
	elif [ $fresh = 1 ]; then
		if [ -n "${MXD_PG_FIRST_PORT:-}" ]; then
			# Test hook (selftest.sh): try this port first, unchecked, to exercise the retry.
			PORT=$MXD_PG_FIRST_PORT
		else
			PORT=$(pick_port)
		fi
		FRESH_PORT=1
	fi
	# A restart keeps its port (a test's configuration holds the URI).
	write_state
	[ $fresh = 0 ] || init_cluster
	server_start
	write_state
	wait_accepting || die "postgres (pid $PID) does not accept connections on $SOCK and 127.0.0.1:$PORT within ${START_TIMEOUT}s"
	if [ "$INITED" != 1 ]; then
		admin_psql -c "CREATE DATABASE $MAIN_DB" >"$D/pg_ctl.out" 2>&1 ||
			die "CREATE DATABASE $MAIN_DB failed: $(cat "$D/pg_ctl.out")"
		rm -f "$D/pg_ctl.out"
		if [ "$AUTH" = scram ]; then
			local pw
			pw="pw-$(od -An -N9 -tx1 /dev/urandom | tr -d ' \n')"
			(umask 077 && printf '%s\n' "$pw" >"$D/password")
			admin_psql -c "ALTER ROLE $SUPERUSER PASSWORD '$pw'" >"$D/pg_ctl.out" 2>&1 ||
				die "ALTER ROLE $SUPERUSER PASSWORD failed: $(cat "$D/pg_ctl.out")"
			rm -f "$D/pg_ctl.out"
		fi
		INITED=1
	fi
	write_state
	write_env
	STARTING=0
	trap - EXIT INT TERM HUP
}

cmd_stop() {
	[ $# = 1 ] || usage
	[ -f "$1/harness.state" ] || return 0
	load_state "$1"
	do_stop
}

cmd_cleanup() {
	[ $# = 1 ] || usage
	[ -d "$1" ] || return 0
	D=$(canon "$1")
	if [ -f "$D/harness.state" ]; then
		load_state "$D"
		do_stop
		case $AUX in /tmp/mxd-pg.*) rm -rf "$AUX" ;; esac
	fi
	rm -rf "$D"
}

cmd_status() {
	[ $# = 1 ] || usage
	[ -f "$1/harness.state" ] || exit 3
	load_state "$1"
	postmaster_pid || exit 3
}

need_running() {
	postmaster_pid >/dev/null || die "postgres of $D is not running (run: pg.sh start $D)"
}

cmd_psql() {
	[ $# -ge 1 ] || usage
	load_state "$1"
	shift
	need_running
	# Through the environment, so that ARGS may name another database or user.
	exec env -u PGSERVICE -u PGSERVICEFILE PGHOST="$SOCK" PGPORT="$PORT" PGUSER="$SUPERUSER" \
		PGDATABASE="$MAIN_DB" "$PGBIN/psql" -X "$@"
}

valid_name() {
	case $1 in
	postgres | template0 | template1) return 1 ;;
	[a-z_]*) ;;
	*) return 1 ;;
	esac
	case $1 in *[!a-z0-9_]*) return 1 ;; esac
	[ ${#1} -le 63 ]
}

cmd_newdb() {
	[ $# = 1 ] || [ $# = 2 ] || usage
	load_state "$1"
	local name=${2:-}
	[ -n "$name" ] || name="t_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	valid_name "$name" || die "$name: a database name here is [a-z_][a-z0-9_]*, at most 63 bytes, not postgres or template0/1"
	need_running
	admin_psql -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" \
		>"$D/newdb.$$.out" 2>&1 || { local e; e=$(cat "$D/newdb.$$.out"); rm -f "$D/newdb.$$.out"; die "newdb $name: $e"; }
	rm -f "$D/newdb.$$.out"
	uri_of "$name"
}

cmd_uri() {
	[ $# = 1 ] || [ $# = 2 ] || usage
	load_state "$1"
	uri_of "${2:-$MAIN_DB}"
}

[ $# -ge 1 ] || usage
sub=$1
shift
case $sub in
check) cmd_check "$@" ;;
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
cleanup) cmd_cleanup "$@" ;;
status) cmd_status "$@" ;;
psql) cmd_psql "$@" ;;
newdb) cmd_newdb "$@" ;;
uri) cmd_uri "$@" ;;
-h | --help | help) usage ;;
*) usage ;;
esac
