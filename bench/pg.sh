#!/usr/bin/env bash
# bench/pg.sh — the PostgreSQL store against SQLite (issue 13), side by side
# in one run, on a throwaway PostgreSQL 15 (tests/pg/pg.sh) of its own:
#
#   a) import: N mails of bench/gen-maildir.py --seed 1, in the default
#      shape (about 5.9 KB a mail) and with --bare (the mails as senders
#      send them, about 3.2 KB), into a fresh SQLite store and a fresh
#      PostgreSQL database over the Unix socket and over TCP 127.0.0.1:
#      wall time, CPU of mxdigest (user + system), CPU of the server's
#      processes (from /proc: the postmaster and its children, the
#      backends that ended included), WAL written, store size per report,
#      and the ratios PG / SQLite (issue 13: at most 2).
#   b) digest: the 7-day digest (--since 7d --until 2026-12-29T06:00:00Z,
#      text and JSON, as bench/scale.sh) on a one-month and a one-year
#      store of a large host (PER_DAY reports a day, built as bench/scale.sh
#      builds its month and year, same seeds), SQLite against a PostgreSQL
#      copy of each made by `mxdigest store copy`; ratio PG / SQLite per
#      format and transport (issue 13: at most 1.5); whether both print the
#      same digest; the size of each store.
#   c) parallel: two importers at once into one PostgreSQL database, each
#      with a Maildir of its own of N/2 mails (seeds 3 and 4, over the same
#      90 days), against one importer of both Maildirs (N mails one after
#      the other) into another database: throughput ratio (issue 13: at least 1.5), the exit status
#      of every importer (a non-zero one is printed as such, never hidden),
#      and the row counts of the two stores, which must be equal.
#
# DKIM is off in every import (bench/dkim.sh measures it).  Times are
# medians of RUNS runs (DIGEST_RUNS for the digests), the stores of one run
# interleaved (SQLite, PG socket, PG TCP, then again), on a warm page
# cache; before each import `sync` and, on PostgreSQL, a CHECKPOINT, so
# that no run pays for the writes of the one before.
#
# Durability (PG_DURABILITY): SQLite runs in WAL mode with synchronous =
# NORMAL (store/db_sqlite.c): a commit does not wait for the disk, the WAL
# is synced at checkpoints, so a power loss may lose the last transactions
# but never corrupts the store.  The PostgreSQL setting that matches it is
# the default here, "normal": fsync = on, full_page_writes = on,
# synchronous_commit = off (a commit does not wait for its WAL flush; the
# WAL writer flushes within 3 x wal_writer_delay; a crash loses at most
# those commits and never corrupts).  "full" is PostgreSQL's own default
# (synchronous_commit = on: every commit waits for the disk; stricter than
# SQLite's setting).  "off" is tests/pg/pg.sh's test setting (fsync,
# full_page_writes and synchronous_commit off: a crash may corrupt the
# cluster; not a fair comparison).  shared_buffers is PostgreSQL's default
# of 128MB (PG_SHARED_BUFFERS; the harness's 16MB matches SQLite's 16 MiB
# page cache, store/db_sqlite.c), max_wal_size its default of 1GB (the
# harness's 256MB checkpoints four times as often); autovacuum on.  The
# settings are set with ALTER SYSTEM (postgresql.auto.conf, read after the
# harness's file) and printed as the server reports them.
#
# The PostgreSQL copies of (b) are followed by VACUUM (ANALYZE): a store
# copy writes millions of rows at once, and a digest right after it would
# measure whether autovacuum got to the tables yet; SQLite has no such
# statistics (mxdigest runs no ANALYZE on either backend).
#
# Cached under BENCH_DIR, so a rerun builds nothing again: the Maildirs of
# (a) and (c), the SQLite stores of (b) (with a stamp of how they were made)
# and the cluster in BENCH_DIR/pg with the copies of (b) (checked against
# the SQLite store's stamp and report count before they are used).  The
# cluster is stopped (tests/pg/pg.sh stop, by its PID) whenever the script
# ends, interrupted or not; its data stays for the next run.  PG_FRESH=1
# removes it first.  Disk: about 10 GB at the full size (the year's Maildir
# of 3.2 GB only while its store is built, the SQLite year 1.7 GB, its copy
# on PostgreSQL about 2 GB, up to 1 GB of WAL).
#
# usage: bench/pg.sh [MXDIGEST_BINARY]          (default: build/mxdigest)
# environment:
#   N (20000)            mails per import in (a); (c) uses N/2 per Maildir
#   RUNS (3)             runs per import measurement (median)
#   DIGEST_RUNS (7)      runs per digest (median), after one untimed run
#   PARTS ("import digest parallel")   what to run
#   SHAPES ("full bare") mail shapes of (a)
#   TRANSPORTS ("socket tcp")          PostgreSQL connections of (a), (b)
#   PAR_TRANSPORT (tcp)  the connection of (c) (several hosts: TCP)
#   PER_DAY (1500)       reports a day in the stores of (b)
#   STORES ("month year")              the stores of (b)
#   PG_DURABILITY (normal), PG_SHARED_BUFFERS (128MB), PG_FRESH (0)
#   BENCH_DIR (/var/tmp/mxd-pgbench)
# A small run to try the script:
#   N=2000 RUNS=1 DIGEST_RUNS=3 PER_DAY=20 BENCH_DIR=/var/tmp/mxd-pgbench-small bench/pg.sh
# Prints Markdown tables for bench/RESULTS.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
bin=$(realpath "${1:-$repo/build/mxdigest}")
bench=${BENCH_DIR:-/var/tmp/mxd-pgbench}
n=${N:-20000}
runs=${RUNS:-3}
druns=${DIGEST_RUNS:-7}
parts=${PARTS:-import digest parallel}
shapes=${SHAPES:-full bare}
transports=${TRANSPORTS:-socket tcp}
par_transport=${PAR_TRANSPORT:-tcp}
per_day=${PER_DAY:-1500}
stores=${STORES:-month year}
durability=${PG_DURABILITY:-normal}
shared_buffers=${PG_SHARED_BUFFERS:-128MB}
py=/usr/bin/python3
pgsh="$repo/tests/pg/pg.sh"
pgbin=${MXD_PG_BIN:-/usr/lib/postgresql/15/bin}
until_=2026-12-29T06:00:00Z
export MXDIGEST_NOW=$until_ NO_COLOR=1
# libpq would take these for what a connection string leaves out: every
# string here says everything itself
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSSLMODE \
	PGSSLROOTCERT PGSERVICE PGSERVICEFILE PGOPTIONS PGCONNECT_TIMEOUT PGREQUIRESSL \
	PGAPPNAME PGTARGETSESSIONATTRS PGSSLCERT PGSSLKEY

die() { printf 'bench/pg.sh: %s\n' "$*" >&2; exit 1; }
note() { printf '[%s] %s\n' "$(date -u +%T)" "$*" >&2; }

[ -x "$bin" ] || die "$bin: no mxdigest binary here (give its path)"
case $n in '' | *[!0-9]*) die "N=$n: a number" ;; esac
[ "$n" -ge 2 ] && [ $((n % 2)) = 0 ] || die "N=$n: an even number of at least 2"
case $runs$druns$per_day in *[!0-9]*) die "RUNS, DIGEST_RUNS and PER_DAY are numbers" ;; esac
[ "$runs" -ge 1 ] && [ "$druns" -ge 1 ] && [ "$per_day" -ge 1 ] || die "RUNS, DIGEST_RUNS and PER_DAY are at least 1"
for w in $parts; do case $w in import | digest | parallel) ;; *) die "PARTS: import, digest, parallel (not $w)" ;; esac; done
for w in $shapes; do case $w in full | bare) ;; *) die "SHAPES: full, bare (not $w)" ;; esac; done
for w in $transports $par_transport; do case $w in socket | tcp) ;; *) die "TRANSPORTS, PAR_TRANSPORT: socket, tcp (not $w)" ;; esac; done
for w in $stores; do case $w in month | year) ;; *) die "STORES: month, year (not $w)" ;; esac; done
case $durability in
normal) fsync=on fpw=on sync_commit=off ;;
full) fsync=on fpw=on sync_commit=on ;;
off) fsync=off fpw=off sync_commit=off ;;
*) die "PG_DURABILITY=$durability: normal, full or off" ;;
esac
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time, package time) is needed"
command -v sqlite3 >/dev/null || die "sqlite3 (package sqlite3) is needed"
bash "$pgsh" check || exit 1
has() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }

mkdir -p "$bench" "$bench/log"
chmod 755 "$bench"	# the server runs as postgres when we are root
bench=$(cd "$bench" && pwd -P)
pgdir="$bench/pg"
hz=$(getconf CLK_TCK)
gen_sum=$(sha256sum "$here/gen-maildir.py" | cut -c1-16)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# med LIST...: the median of the words given ("-" when there are none)
med() { if [ $# = 0 ]; then echo -; else printf '%s\n' "$@" | median; fi; }
calc() { awk "BEGIN { $1 }"; }
ratio() { case "$1$2" in *-*) echo - ;; *) calc "printf \"%.2f\", $1 / $2" ;; esac; }

# ---------------------------------------------------------------- the cluster

PG_UP=0
BG=""	# background importers: PIDs of the GNU time processes we started
kill_ours() {	# kill_ours PID: PID's children (the timed mxdigest), then PID
	local p c
	p=$1
	for c in $({ cat /proc/[0-9]*/stat 2>/dev/null || true; } |
		awk -v pp="$p" '{ pid = $1; sub(/^.*\) /, ""); if ($2 == pp) print pid }'); do
		kill -TERM "$c" 2>/dev/null || true
	done
	kill -TERM "$p" 2>/dev/null || true
}
cleanup() {
	local p
	for p in $BG; do kill_ours "$p"; done
	for p in $BG; do wait "$p" 2>/dev/null || true; done
	BG=""
	if [ "$PG_UP" = 1 ]; then
		PG_UP=0
		bash "$pgsh" stop "$pgdir" || echo "bench/pg.sh: pg.sh stop $pgdir failed" >&2
	fi
}
trap cleanup EXIT
trap 'echo "bench/pg.sh: interrupted" >&2; exit 130' INT
trap 'exit 143' TERM HUP

pg_start() {
	local err="$bench/log/pg-start.err"
	if [ "${PG_FRESH:-0}" = 1 ]; then
		bash "$pgsh" cleanup "$pgdir"
		rm -f "$bench"/pg-*.stamp
	fi
	if ! bash "$pgsh" start "$pgdir" 2>"$err"; then
		if grep -q "already running" "$err"; then
			cat "$err" >&2
			die "the cluster in $pgdir runs already (another bench/pg.sh?); not touching it"
		fi
		note "the kept cluster in $pgdir did not start (see $err); making a new one"
		bash "$pgsh" cleanup "$pgdir"
		rm -f "$bench"/pg-*.stamp
		bash "$pgsh" start "$pgdir" || die "pg.sh start $pgdir failed"
	fi
	PG_UP=1
	# shellcheck disable=SC1091
	. "$pgdir/env"
	export -n PGHOST PGPORT PGUSER PGDATABASE MXD_PG_URI MXD_PG_SOCKET_URI MXD_PG_HOST \
		MXD_PG_PORT MXD_PG_SOCKDIR MXD_PG_PID MXD_PG_DATA MXD_PG_LOG MXD_PG_DIR MXD_PG_BIN \
		MXD_PG_AUTH MXD_PG_PASSWORD_FILE MXD_PG_SSL
	[ -r "/proc/$MXD_PG_PID/stat" ] || note "cannot read /proc/$MXD_PG_PID/stat: no server CPU"
}

# pq DB SQL...: psql over the socket, one row per line, columns split by |
pq() {
	local db=$1
	shift
	local a=() s
	for s in "$@"; do a+=(-c "$s"); done
	timeout 7200 "$pgbin/psql" -XAtq -v ON_ERROR_STOP=1 -h "$MXD_PG_SOCKDIR" \
		-p "$MXD_PG_PORT" -U mxdigest -d "$db" "${a[@]}"
}

pg_settings() {
	pq postgres "ALTER SYSTEM SET fsync = $fsync" \
		"ALTER SYSTEM SET full_page_writes = $fpw" \
		"ALTER SYSTEM SET synchronous_commit = $sync_commit" \
		"ALTER SYSTEM SET shared_buffers = '$shared_buffers'" \
		"ALTER SYSTEM SET max_wal_size = '1GB'" \
		"SELECT pg_reload_conf()" >/dev/null
	sleep 0.3
	if [ "$(pq postgres "SELECT count(*) FROM pg_settings WHERE pending_restart")" != 0 ]; then
		PG_UP=0
		bash "$pgsh" stop "$pgdir"
		bash "$pgsh" start "$pgdir" || die "pg.sh start $pgdir (restart for the settings) failed"
		PG_UP=1
		# shellcheck disable=SC1091
		. "$pgdir/env"
		export -n PGHOST PGPORT PGUSER PGDATABASE
	fi
	[ "$(pq postgres "SHOW fsync" "SHOW synchronous_commit" | tr '\n' ' ')" = "$fsync $sync_commit " ] ||
		die "the server did not take fsync = $fsync, synchronous_commit = $sync_commit"
}

# uri DB TRANSPORT
uri() {
	case $2 in
	tcp) printf 'postgresql://mxdigest@127.0.0.1:%s/%s?sslmode=disable\n' "$MXD_PG_PORT" "$1" ;;
	socket) printf 'postgresql://mxdigest@/%s?host=%s&port=%s\n' "$1" "$MXD_PG_SOCKDIR" "$MXD_PG_PORT" ;;
	esac
}
newdb() { bash "$pgsh" newdb "$pgdir" "$1" >/dev/null; }

# srv_cpu: CPU seconds of the server so far: the postmaster's own and its
# ended children's (cutime, cstime), plus each live child's
srv_cpu() {
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pm="$MXD_PG_PID" -v hz="$hz" '
		{ pid = $1; sub(/^.*\) /, "")	# $1 state, $2 ppid, $12.. utime stime cutime cstime
		  if (pid == pm) { t += $12 + $13 + $14 + $15; seen = 1 }
		  else if ($2 == pm) t += $12 + $13 }
		END { if (seen) printf "%.2f\n", t / hz; else print "-" }'
}
# wait_idle: until no client backend is left (a backend that ended is
# counted in the postmaster's cutime once reaped); at most 5 s
wait_idle() {
	local p busy
	for _ in $(seq 100); do
		busy=0
		for p in $({ cat /proc/[0-9]*/stat 2>/dev/null || true; } |
			awk -v pm="$MXD_PG_PID" '{ pid = $1; sub(/^.*\) /, ""); if ($2 == pm) print pid }'); do
			case $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") in
			"postgres: mxdigest "*) busy=1 ;;
			esac
		done
		[ $busy = 1 ] || return 0
		sleep 0.05
	done
}
wal_bytes() { pq postgres "SELECT wal_bytes FROM pg_stat_wal"; }
checkpoint() { sync; pq postgres "CHECKPOINT" >/dev/null; }
cpu_diff() { case "$1$2" in *-*) echo - ;; *) calc "printf \"%.2f\", $2 - $1" ;; esac; }

# ---------------------------------------------------------------- mails

# maildir NAME COUNT SEED [ARGS...]: $bench/md-NAME from gen-maildir.py, once
maildir() {
	local name=$1 count=$2 seed=$3 d="$bench/md-$1" stamp
	shift 3
	stamp="$count $seed $* $gen_sum"
	if [ ! -d "$d" ] || [ "$(cat "$d.stamp" 2>/dev/null)" != "$stamp" ]; then
		rm -rf "$d" "$d.stamp"
		note "generating $count mails (seed $seed${*:+ $*}) into $d"
		"$py" "$here/gen-maildir.py" --count "$count" --seed "$seed" --out "$d" --quiet "$@"
		printf '%s\n' "$stamp" >"$d.stamp"
	fi
	find "$d" -type f -exec cat {} + >/dev/null	# warm the page cache
}
avg_size() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s / NR }'; }

# ---------------------------------------------------------------- timing

# timed DB ARGS...: runs mxdigest --db DB ARGS (stderr to $errlog); sets
# T_WALL, T_CPU (user + system), T_RC
errlog="$bench/log/mxdigest.err"
timed() {
	local db=$1 s e u sy
	shift
	T_RC=0
	s=$EPOCHREALTIME
	# in the background, so that a signal to the script stops it at once
	/usr/bin/time -f '%U %S' -o "$bench/time.txt" "$bin" -q --db "$db" "$@" \
		>/dev/null 2>"$bench/log/last.err" &
	BG=$!
	wait "$BG" || T_RC=$?
	e=$EPOCHREALTIME
	BG=""
	cat "$bench/log/last.err" >>"$errlog"
	read -r u sy < <(tail -n1 "$bench/time.txt")
	T_WALL=$(calc "printf \"%.3f\", $e - $s")
	T_CPU=$(calc "printf \"%.2f\", $u + $sy")
}
# errors FILE: what mxdigest said there, on one line (at most 3 lines of it)
errors() { head -n3 "$1" 2>/dev/null | cut -c1-200 | paste -sd'|' - | sed 's/|/ \/ /g'; }
last_err() { errors "$bench/log/last.err"; }

sqlite_fresh() { rm -f "$1" "$1"-wal "$1"-shm "$1".lock; }
sqlite_size() {	# FILE -> bytes after a checkpoint
	sqlite3 "$1" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	stat -c %s "$1"
}
# the rows compared between two stores (as tests/pg/lib.sh's snapshot)
count_cols="messages reports counted policies details texts domain_counts failure_counts quarantine dkim"
count_sql="SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM reports),
	(SELECT count(*) FROM reports WHERE counts > 0), (SELECT count(*) FROM policies),
	(SELECT count(*) FROM details), (SELECT count(*) FROM texts),
	(SELECT count(*) FROM domain_counts), (SELECT count(*) FROM failure_counts),
	(SELECT count(*) FROM quarantine), (SELECT count(*) FROM dkim)"
pg_counts() { pq "$1" "$count_sql" | tr '|' ' '; }
sqlite_counts() { sqlite3 -separator ' ' "$1" "$count_sql"; }
# pg_store_bytes DB: heap + TOAST + indexes of the store's tables
pg_store_bytes() {
	pq "$1" "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname = 'public'"
}

# ---------------------------------------------------------------- header

src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$(dirname "$bin")/CMakeCache.txt" 2>/dev/null || true)
commit_of() {
	local d=$1 c
	c=$(git -C "$d" rev-parse --short=12 HEAD 2>/dev/null) || { echo "unknown (not a git tree)"; return; }
	if [ -n "$(git -C "$d" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
		c="$c + uncommitted changes (diff $(git -C "$d" diff HEAD | sha256sum | cut -c1-8))"
	fi
	printf '%s\n' "$c"
}

pg_start
pg_settings

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "mxdigest: $bin ($("$bin" --version)), built from ${src:-an unknown tree}: commit $(commit_of "${src:-$repo}")"
echo "bench/pg.sh: commit $(commit_of "$repo")"
echo "SQLite $(sqlite3 --version | cut -d' ' -f1) (WAL, synchronous=NORMAL, 16 MiB cache: store/db_sqlite.c); $(pq postgres "SELECT version()" | cut -d, -f1)"
echo "PostgreSQL settings (PG_DURABILITY=$durability): $(pq postgres "SELECT string_agg(name || ' = ' || current_setting(name), ', ' ORDER BY name) FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_wal_size', 'wal_writer_delay', 'autovacuum')")"
echo "N=$n RUNS=$runs DIGEST_RUNS=$druns PER_DAY=$per_day PARTS=\"$parts\"; $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "times: wall clock, median; CPU: user + system; server CPU: the PostgreSQL processes (/proc); DKIM off"

# ---------------------------------------------------------------- a) import

part_import() {
	local shape md args t r db k wal0 wal1 c0 c1
	local -A W C S WAL SIZE REP
	echo
	echo "### Import of $n mails into a fresh store (target: PG / SQLite wall at most 2)"
	echo
	echo "| mails | store | wall (s) | mxdigest CPU (s) | server CPU (s) | mails/s | PG / SQLite wall | PG / SQLite CPU | WAL (MB) | store (MB) | bytes/report |"
	echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	for shape in $shapes; do
		args=()
		[ "$shape" = full ] || args=(--bare)
		maildir "$shape-$n" "$n" 1 "${args[@]}"
		md="$bench/md-$shape-$n"
		for r in $(seq "$runs"); do
			note "import $shape, run $r of $runs"
			for t in sqlite $transports; do
				k="$shape.$t"
				if [ "$t" = sqlite ]; then
					db="$bench/imp.db"
					sqlite_fresh "$db"
					sync
					timed "$db" import --dkim=off "$md"
					S[$k]="${S[$k]:-} -"
				else
					newdb "imp_$t"
					db=$(uri "imp_$t" "$t")
					checkpoint
					wal0=$(wal_bytes)
					c0=$(srv_cpu)
					timed "$db" import --dkim=off "$md"
					wait_idle
					c1=$(srv_cpu)
					wal1=$(wal_bytes)
					S[$k]="${S[$k]:-} $(cpu_diff "$c0" "$c1")"
					WAL[$k]="${WAL[$k]:-} $(calc "printf \"%.1f\", ($wal1 - $wal0) / 1e6")"
				fi
				if [ "$T_RC" != 0 ]; then
					NOTES+=("import $shape into $t, run $r: exit $T_RC: $(last_err)")
				fi
				W[$k]="${W[$k]:-} $T_WALL"
				C[$k]="${C[$k]:-} $T_CPU"
			done
		done
		# sizes and report counts: the stores of the last run
		SIZE[$shape.sqlite]=$(sqlite_size "$bench/imp.db")
		REP[$shape.sqlite]=$(sqlite3 "$bench/imp.db" 'SELECT count(*) FROM reports')
		for t in $transports; do
			SIZE[$shape.$t]=$(pg_store_bytes "imp_$t")
			REP[$shape.$t]=$(pq "imp_$t" "SELECT count(*) FROM reports")
		done
		local sw sc label mw mc ms
		sw=$(med ${W[$shape.sqlite]})
		sc=$(med ${C[$shape.sqlite]})
		label="$n $shape ($(avg_size "$md") B/mail)"
		for t in sqlite $transports; do
			k="$shape.$t"
			mw=$(med ${W[$k]})
			mc=$(med ${C[$k]})
			if [ "$t" = sqlite ]; then
				awk -v l="$label" -v w="$mw" -v c="$mc" -v n="$n" -v sz="${SIZE[$k]}" -v rp="${REP[$k]}" 'BEGIN {
					printf "| %s | SQLite | %.2f | %.2f | - | %.0f | 1.00 | 1.00 | - | %.1f | %.0f |\n",
						l, w, c, n / w, sz / 1e6, sz / rp }'
			else
				ms=$(med ${S[$k]})
				awk -v l="$label" -v t="$t" -v w="$mw" -v c="$mc" -v s="$ms" -v n="$n" -v sw="$sw" \
				    -v sc="$sc" -v wal="$(med ${WAL[$k]})" -v sz="${SIZE[$k]}" -v rp="${REP[$k]}" 'BEGIN {
					printf "| %s | PG %s | %.2f | %.2f | %s | %.0f | %.2f | %s | %.1f | %.1f | %.0f |\n",
						l, t, w, c, s, n / w, w / sw,
						(s == "-" ? "-" : sprintf("%.2f", (c + s) / sc)), wal, sz / 1e6, sz / rp }'
			fi
		done
		RUNS_LINE+=("import $shape, runs (s): $(for t in sqlite $transports; do printf '%s%s; ' "$t" "${W[$shape.$t]}"; done)reports: $(for t in sqlite $transports; do printf '%s %s ' "$t" "${REP[$shape.$t]}"; done)")
	done
	echo
	printf '%s\n' "${RUNS_LINE[@]}"
	notes
	RUNS_LINE=()
	echo "(PG / SQLite CPU: mxdigest and server CPU on PostgreSQL against mxdigest's on SQLite; store: the SQLite file after a checkpoint, the tables, TOAST and indexes on PostgreSQL)"
}

# ---------------------------------------------------------------- b) digest

# sqlite_store NAME -> builds $bench/NAME-PER_DAY.db once (as bench/scale.sh)
sqlite_store() {
	local name=$1 start days seed count db stamp rc s
	case $name in
	month) start=2026-12-01 days=31 seed=11 ;;
	year) start=2026-01-01 days=365 seed=12 ;;
	esac
	count=$((days * per_day))
	db="$bench/$name-$per_day.db"
	stamp="$start $days $seed $count $gen_sum"
	if [ -f "$db" ] && [ "$(cat "$db.stamp" 2>/dev/null)" = "$stamp" ]; then
		return 0
	fi
	sqlite_fresh "$db"
	rm -f "$db.stamp"
	maildir "store-$name" "$count" "$seed" --start "$start" --days "$days"
	note "importing the $name store ($count mails) into $db"
	s=$EPOCHREALTIME
	rc=0
	# stderr: a line for each report of one identity in other content
	"$bin" -q --db "$db" import --dkim=off "$bench/md-store-$name" 2>>"$bench/log/$name.log" || rc=$?
	[ $rc = 0 ] || [ $rc = 65 ] || die "import of the $name store: exit $rc (see $bench/log/$name.log)"
	note "$name store: $count mails in $(calc "printf \"%.0f\", $EPOCHREALTIME - $s") s"
	rm -rf "$bench/md-store-$name" "$bench/md-store-$name.stamp"
	sqlite_size "$db" >/dev/null
	printf '%s\n' "$stamp" >"$db.stamp"
}

# pg_store NAME -> database dg_NAME_PER_DAY, a store copy of the SQLite store, once
pg_store() {
	local name=$1 db="$bench/$1-$per_day.db" pdb="dg_${1}_$per_day" stamp want got s
	want=$(sqlite3 "$db" 'SELECT count(*) FROM reports')
	stamp="$(cat "$db.stamp") $want"
	got=$(pq "$pdb" "SELECT count(*) FROM reports" 2>/dev/null || echo none)
	if [ "$(cat "$bench/pg-$pdb.stamp" 2>/dev/null)" = "$stamp" ] && [ "$got" = "$want" ]; then
		return 0
	fi
	rm -f "$bench/pg-$pdb.stamp"
	newdb "$pdb"
	note "store copy $db -> $pdb"
	s=$EPOCHREALTIME
	"$bin" -q store copy "$db" "$(uri "$pdb" socket)" 2>"$bench/log/last.err" ||
		die "store copy into $pdb failed: $(last_err)"
	COPY_S[$name]=$(calc "printf \"%.1f\", $EPOCHREALTIME - $s")
	s=$EPOCHREALTIME
	pq "$pdb" "VACUUM (ANALYZE)" >/dev/null
	note "$pdb: copied in ${COPY_S[$name]} s, VACUUM (ANALYZE) in $(calc "printf \"%.1f\", $EPOCHREALTIME - $s") s"
	printf '%s\n' "$stamp" >"$bench/pg-$pdb.stamp"
}

# digest DB FORMAT PG -> "wall cpu server_cpu" (medians of DIGEST_RUNS)
digest() {
	local db=$1 fmt=$2 pg=$3 c0 c1 w=() c=() s=()
	"$bin" --db "$db" report --since 7d --until "$until_" --format "$fmt" >/dev/null \
		2>"$bench/log/last.err" || die "report --format $fmt on $db: exit $? ($(last_err))"
	for _ in $(seq "$druns"); do
		[ "$pg" = 0 ] || c0=$(srv_cpu)
		timed "$db" report --since 7d --until "$until_" --format "$fmt"
		[ "$T_RC" = 0 ] || die "report --format $fmt on $db: exit $T_RC ($(last_err))"
		w+=("$T_WALL")
		c+=("$T_CPU")
		if [ "$pg" = 1 ]; then
			wait_idle
			c1=$(srv_cpu)
			s+=("$(cpu_diff "$c0" "$c1")")
		fi
	done
	printf '%s %s %s\n' "$(med "${w[@]}")" "$(med "${c[@]}")" "$(med ${s[@]+"${s[@]}"})"
}

same_digest() {	# SQLITE_DB PG_URI FORMAT -> same, or "differs (N lines)"
	"$bin" --db "$1" report --since 7d --until "$until_" --format "$3" >"$bench/d.sqlite" 2>>"$errlog"
	"$bin" --db "$2" report --since 7d --until "$until_" --format "$3" >"$bench/d.pg" 2>>"$errlog"
	if cmp -s "$bench/d.sqlite" "$bench/d.pg"; then
		echo same
	else
		echo "differs ($(diff "$bench/d.sqlite" "$bench/d.pg" | grep -c '^[<>]') lines)"
	fi
}

part_digest() {
	local name db pdb fmt t reports sw sc pw pc ps cells same
	local -A COPY_S
	for name in $stores; do
		sqlite_store "$name"
		pg_store "$name"
	done
	echo
	echo "### 7-day digest (--since 7d --until $until_), SQLite against a PostgreSQL copy (target: PG / SQLite at most 1.5)"
	echo
	printf '| store | reports | format | SQLite (s) |'
	for t in $transports; do printf ' PG %s (s) | PG / SQLite %s |' "$t" "$t"; done
	printf ' mxdigest CPU SQLite / PG (s) | server CPU (s) | output |\n|---|--:|---|--:|'
	for t in $transports; do printf -- '--:|--:|'; done
	printf -- '--:|--:|---|\n'
	for name in $stores; do
		db="$bench/$name-$per_day.db"
		pdb="dg_${name}_$per_day"
		reports=$(sqlite3 "$db" 'SELECT count(*) FROM reports')
		for fmt in text json; do
			note "digest $fmt on the $name store"
			read -r sw sc _ < <(digest "$db" "$fmt" 0)
			cells="" pc="" ps=""
			for t in $transports; do
				read -r pw c s < <(digest "$(uri "$pdb" "$t")" "$fmt" 1)
				cells="$cells $(printf '%.3f' "$pw") | $(ratio "$pw" "$sw") |"
				pc="$pc${pc:+, }$c" ps="$ps${ps:+, }$s"
			done
			same=$(same_digest "$db" "$(uri "$pdb" socket)" "$fmt")
			printf '| %s | %s | %s | %.3f |%s %s / %s | %s | %s |\n' "$name ($per_day/day)" \
				"$reports" "$fmt" "$sw" "$cells" "$sc" "$pc" "$ps" "$same"
		done
	done
	echo "(CPU of PostgreSQL: one figure per transport, in the order of the columns)"
	echo
	echo "| store | reports | SQLite file (MB) | bytes/report | PG heap (MB) | PG TOAST (MB) | PG indexes (MB) | PG total (MB) | bytes/report | PG / SQLite |"
	echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
	for name in $stores; do
		db="$bench/$name-$per_day.db"
		pdb="dg_${name}_$per_day"
		reports=$(sqlite3 "$db" 'SELECT count(*) FROM reports')
		IFS='|' read -r heap toast idx < <(pq "$pdb" "SELECT sum(pg_relation_size(c.oid)),
			sum(coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0)),
			sum(pg_indexes_size(c.oid)) FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relkind = 'r' AND n.nspname = 'public'")
		awk -v s="$name ($per_day/day)" -v r="$reports" -v f="$(stat -c %s "$db")" -v h="$heap" \
		    -v t="$toast" -v i="$idx" 'BEGIN {
			p = h + t + i
			printf "| %s | %d | %.1f | %.0f | %.1f | %.1f | %.1f | %.1f | %.0f | %.2f |\n",
				s, r, f / 1e6, f / r, h / 1e6, t / 1e6, i / 1e6, p / 1e6, p / r, p / f }'
	done
	for name in $stores; do
		[ -z "${COPY_S[$name]:-}" ] || echo "store copy of $name into PostgreSQL: ${COPY_S[$name]} s"
	done
	# where the bytes go, per table, in the last store (for docs/SCALE.md)
	name=${stores##* }
	pdb="dg_${name}_$per_day"
	reports=$(sqlite3 "$bench/$name-$per_day.db" 'SELECT count(*) FROM reports')
	echo
	echo "PostgreSQL copy of the $name store, per table (bytes per report; TOAST with its index):"
	echo
	echo "| table | rows | rows/report | heap | TOAST | indexes |"
	echo "|---|--:|--:|--:|--:|--:|"
	pq "$pdb" "SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid),
		coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0), pg_indexes_size(c.oid)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.reltuples > 0
		ORDER BY pg_total_relation_size(c.oid) DESC" |
		awk -F'|' -v r="$reports" '{
			printf "| %s | %d | %.2f | %.0f | %.0f | %.0f |\n", $1, $2, $2 / r, $3 / r, $4 / r, $5 / r }'
	echo
	echo "indexes of the $name copy, bytes per report:"
	pq "$pdb" "SELECT i.relname, pg_relation_size(i.oid) FROM pg_index x
		JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' ORDER BY 2 DESC" |
		awk -F'|' -v r="$reports" '$2 > 8192 { printf "%s%s %.0f", sep, $1, $2 / r; sep = ", " } END { print "" }'
}

# ---------------------------------------------------------------- c) parallel

part_parallel() {
	local half=$((n / 2)) a b r rc_a rc_b s e c0 c1 pa pb one two
	local ws=() wo=() wt=() cs=() co=() ct=() so=() st=() exits=() ok=0 equal=0
	maildir "par-a-$half" "$half" 3
	maildir "par-b-$half" "$half" 4
	a="$bench/md-par-a-$half"
	b="$bench/md-par-b-$half"
	for r in $(seq "$runs"); do
		note "parallel, run $r of $runs"
		# SQLite, one importer (the reference of every other table)
		sqlite_fresh "$bench/par.db"
		sync
		timed "$bench/par.db" import --dkim=off "$a" "$b"
		[ "$T_RC" = 0 ] || NOTES+=("SQLite, one importer, run $r: exit $T_RC: $(last_err)")
		ws+=("$T_WALL")
		cs+=("$T_CPU")
		# PostgreSQL, one importer of both Maildirs
		newdb par_one
		checkpoint
		c0=$(srv_cpu)
		timed "$(uri par_one "$par_transport")" import --dkim=off "$a" "$b"
		wait_idle
		c1=$(srv_cpu)
		[ "$T_RC" = 0 ] || NOTES+=("PG, one importer, run $r: exit $T_RC: $(last_err)")
		wo+=("$T_WALL")
		co+=("$T_CPU")
		so+=("$(cpu_diff "$c0" "$c1")")
		one=$(pg_counts par_one)
		# PostgreSQL, two importers at once
		newdb par_two
		checkpoint
		c0=$(srv_cpu)
		s=$EPOCHREALTIME
		/usr/bin/time -f '%U %S' -o "$bench/time-a.txt" "$bin" -q --db "$(uri par_two "$par_transport")" \
			import --dkim=off "$a" >/dev/null 2>"$bench/log/par-a.err" &
		pa=$!
		/usr/bin/time -f '%U %S' -o "$bench/time-b.txt" "$bin" -q --db "$(uri par_two "$par_transport")" \
			import --dkim=off "$b" >/dev/null 2>"$bench/log/par-b.err" &
		pb=$!
		BG="$pa $pb"
		rc_a=0 rc_b=0
		wait "$pa" || rc_a=$?
		wait "$pb" || rc_b=$?
		e=$EPOCHREALTIME
		BG=""
		wait_idle
		c1=$(srv_cpu)
		cat "$bench/log/par-a.err" "$bench/log/par-b.err" >>"$errlog"
		exits+=("$rc_a/$rc_b")
		[ $rc_a = 0 ] || NOTES+=("PG, two importers, run $r: importer A (seed 3) exit $rc_a: $(errors "$bench/log/par-a.err")")
		[ $rc_b = 0 ] || NOTES+=("PG, two importers, run $r: importer B (seed 4) exit $rc_b: $(errors "$bench/log/par-b.err")")
		two=$(pg_counts par_two)
		PAR_ROWS+=("run $r: $count_cols: SQLite one importer $(sqlite_counts "$bench/par.db"); PG one importer $one; PG two importers $two: $([ "$one" = "$two" ] && echo equal || echo DIFFER)")
		[ "$one" != "$two" ] || equal=$((equal + 1))
		if [ $rc_a = 0 ] && [ $rc_b = 0 ]; then
			ok=$((ok + 1))
			wt+=("$(calc "printf \"%.3f\", $e - $s")")
			ct+=("$(tail -qn1 "$bench/time-a.txt" "$bench/time-b.txt" |
				awk '{ t += $1 + $2 } END { printf "%.2f", t }')")
			st+=("$(cpu_diff "$c0" "$c1")")
		fi
	done
	echo
	echo "### $n mails into one store: one importer, and two at once into one PostgreSQL database ($par_transport; target: two at least 1.5x one)"
	echo
	echo "| importers | store | wall (s) | mails/s | vs one importer | mxdigest CPU (s) | server CPU (s) | exit status (A/B) per run | rows equal to one importer |"
	echo "|---|---|--:|--:|--:|--:|--:|---|---|"
	local mws mwo mwt
	mws=$(med "${ws[@]}")
	mwo=$(med "${wo[@]}")
	mwt=$(med ${wt[@]+"${wt[@]}"})
	awk -v n="$n" -v w="$mws" -v c="$(med "${cs[@]}")" 'BEGIN {
		printf "| one (both Maildirs) | SQLite | %.2f | %.0f | - | %.2f | - | - | (reference) |\n", w, n / w, c }'
	awk -v n="$n" -v w="$mwo" -v c="$(med "${co[@]}")" -v s="$(med "${so[@]}")" 'BEGIN {
		printf "| one (both Maildirs) | PG | %.2f | %.0f | 1.00 | %.2f | %s | - | - |\n", w, n / w, c, s }'
	if [ "$mwt" = - ]; then
		printf '| two at once (%d + %d) | PG | - | - | - | - | - | %s | %d of %d runs |\n' \
			"$half" "$half" "${exits[*]}" "$equal" "$runs"
	else
		awk -v n="$n" -v w="$mwt" -v wo="$mwo" -v c="$(med "${ct[@]}")" -v s="$(med "${st[@]}")" \
		    -v h="$half" -v x="${exits[*]}" -v eq="$equal" -v rn="$runs" -v ok="$ok" 'BEGIN {
			printf "| two at once (%d + %d)%s | PG | %.2f | %.0f | %.2f | %.2f | %s | %s | %d of %d runs |\n",
				h, h, (ok < rn ? sprintf(", %d of %d runs exited 0", ok, rn) : ""),
				w, n / w, wo / w, c, s, x, eq, rn }'
	fi
	echo
	echo "runs (s): SQLite one ${ws[*]}; PG one ${wo[*]}; PG two ${wt[*]:-(no run in which both exited 0)}"
	printf '%s\n' "${PAR_ROWS[@]}"
	notes
	PAR_ROWS=()
}

RUNS_LINE=()
PAR_ROWS=()
NOTES=()	# a non-zero exit of an importer, printed after its table
notes() {
	local l
	for l in ${NOTES[@]+"${NOTES[@]}"}; do printf 'FAILED: %s\n' "$l"; done
	NOTES=()
}
has import && part_import
has digest && part_digest
has parallel && part_parallel
# the databases of (a) and (c) are made anew by each run; the copies of (b) stay
for d in imp_socket imp_tcp par_one par_two; do
	pq postgres "SET client_min_messages = warning" "DROP DATABASE IF EXISTS $d"
done
sqlite_fresh "$bench/imp.db"
sqlite_fresh "$bench/par.db"
exit 0
