# lib.sh — helpers for the multi-writer and fault tests of the PostgreSQL
# store (tests/pg/t_*.sh, sourced).  Built on tests/imap/lib.sh (one
# throwaway Dovecot per script, conf, mxd, digest, wait_for, expect_*), plus
# throwaway PostgreSQL 15 clusters (tests/pg/pg.sh) that the script starts
# under its scratch directory and removes when it exits, whatever happens.
#
# Environment (set by CTest): MXDIGEST, SRCDIR, MXD_PG_WORK (where scratch
# directories go, default /tmp), MXD_WRAPPER; MXDIGEST_REQUIRE_PG=1 and
# MXDIGEST_REQUIRE_DOVECOT=1 make a missing PostgreSQL 15 or Dovecot a
# failure instead of a skip (exit 77).  No other outcome is ever 77.
MXD_IMAP_WORK=${MXD_PG_WORK:-${MXD_IMAP_WORK:-/tmp}}
# shellcheck source=../imap/lib.sh
. "$SRCDIR/tests/imap/lib.sh"
PGSH="$SRCDIR/tests/pg/pg.sh"
PGBIN=${MXD_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIRS=""
# libpq reads these when a connection string leaves something out: the
# tests say everything in the connection string
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE PGSSLMODE \
	PGSSLROOTCERT PGSERVICE PGSERVICEFILE PGOPTIONS PGCONNECT_TIMEOUT PGREQUIRESSL \
	PGAPPNAME PGTARGETSESSIONATTRS PGSSLCERT PGSSLKEY
cd "$TMP" || exit 1	# a core file, if any, would land here

# tests/imap/lib.sh's cleanup, run after the clusters are gone; a server
# a test SIGSTOPped ($STOPPED: its PIDs) is let go first
STOPPED=""
eval "imap_$(declare -f cleanup)"
cleanup() {
	local p d
	# shellcheck disable=SC2086
	[ -z "$STOPPED" ] || kill -CONT $STOPPED 2>/dev/null
	STOPPED=""
	for p in $BG_PIDS; do
		kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	BG_PIDS=""
	for d in $PG_DIRS; do
		if [ -n "${MXD_KEEP:-}" ]; then
			"$PGSH" stop "$d"
		else
			"$PGSH" cleanup "$d" >/dev/null 2>&1 || "$PGSH" cleanup "$d"
		fi
	done
	imap_cleanup
}

now_ms() { date +%s%3N; }
T0=$(now_ms)
# secs_since MS: seconds (one decimal) since the now_ms value MS
secs_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# say TEXT: what the script checks next
say() { printf '[%5ss] %s\n' "$(secs_since "$T0")" "$*"; }

# need_pg: PostgreSQL 15 and python3, or exit 77 (1 when required)
need_pg() {
	local msg
	if ! msg=$("$PGSH" check 2>&1); then
		[ "${MXDIGEST_REQUIRE_PG:-}" != 1 ] || die "$msg (MXDIGEST_REQUIRE_PG=1)"
		echo "SKIP: $msg"
		skipping=1
		exit 77
	fi
	command -v "$PYTHON" >/dev/null 2>&1 || die "python3 is needed"
}

# need_servers: PostgreSQL 15, Dovecot and python3, or exit 77 (1 when
# required)
need_servers() {
	need_pg
	need_dovecot
}

# pg_up NAME [VAR=VALUE...]: starts the cluster $TMP/NAME (VAR=VALUE: pg.sh
# options such as MXD_PG_AUTH=scram) and sets NAME_PORT.
pg_up() {
	local name=$1
	shift
	case " $PG_DIRS " in *" $TMP/$name "*) ;; *) PG_DIRS="$PG_DIRS $TMP/$name" ;; esac
	env "$@" "$PGSH" start "$TMP/$name" || die "PostgreSQL $name did not start"
}

# server_pids NAME: the postmaster of cluster NAME and its children
# (backends, checkpointer, ...)
server_pids() {
	local pm
	pm=$(pg_env "$1" MXD_PG_PID)
	[ -n "$pm" ] && [ -d "/proc/$pm" ] || return 1
	echo "$pm $(cat "/proc/$pm/task/$pm/children" 2>/dev/null)"
}

# pg_env NAME VAR: VAR as the cluster's env file sets it
pg_env() { (. "$TMP/$1/env" && eval "printf '%s\n' \"\$$2\""); }

# newdb CLUSTER NAME: an empty database; prints its URI (TCP, trust)
newdb() { "$PGSH" newdb "$TMP/$1" "$2" || die "newdb $1 $2 failed"; }

# q URI SQL: one psql query, rows as a|b (bounded: 60 s)
q() { timeout 60 "$PGBIN/psql" -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# snapshot URI [sorted]: the store as the comparisons see it: the row count
# of each table, the sync state, then the JSON digest of the whole window of
# the generated mails ("generated" dropped), one key per line; with sorted,
# each list at the top of the digest sorted (what it holds, not its order)
snapshot() {
	q "$1" "SELECT 'messages ' || (SELECT count(*) FROM messages)
		|| E'\nreports ' || (SELECT count(*) FROM reports)
		|| E'\nreports counted ' || (SELECT count(*) FROM reports WHERE counts > 0)
		|| E'\npolicies ' || (SELECT count(*) FROM policies)
		|| E'\ndetails ' || (SELECT count(*) FROM details)
		|| E'\ntexts ' || (SELECT count(*) FROM texts)
		|| E'\ndomain_counts ' || (SELECT count(*) FROM domain_counts)
		|| E'\nfailure_counts ' || (SELECT count(*) FROM failure_counts)
		|| E'\nquarantine ' || (SELECT count(*) FROM quarantine)
		|| E'\ndkim ' || (SELECT count(*) FROM dkim)" 2>&1
	q "$1" "SELECT 'imap_state', account, mailbox, uidvalidity, last_uid FROM imap_state
		ORDER BY 2, 3" 2>&1
	"$MXDIGEST" --db "$1" report --from 2025-01-01 --to 2028-01-01 --format json 2>&1 |
		"$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
d.pop("generated", None)
if sys.argv[1] == "sorted":
    for k, v in d.items():
        if isinstance(v, list):
            d[k] = sorted(v, key=lambda x: json.dumps(x, sort_keys=True))
print(json.dumps(d, indent=0, sort_keys=True))' "${2:-as-is}" 2>&1
}

# same_store GOT_URI REFERENCE_URI WHAT [sorted]: the two stores must be
# equal (sorted: the digest's lists may come in another order)
same_store() {
	snapshot "$1" ${4:-} >"$TMP/snap.got"
	snapshot "$2" ${4:-} >"$TMP/snap.ref"
	if cmp -s "$TMP/snap.got" "$TMP/snap.ref"; then
		echo "  equal to the reference${4:+ (lists sorted)}: $3 ($(sed -n 's/^reports //p' "$TMP/snap.got" | head -n1) reports, $(grep -c . "$TMP/snap.got") lines compared)"
	else
		fail "$3: the store differs from the reference${4:+ (lists sorted)} (- reference, + got):"
		diff -u "$TMP/snap.ref" "$TMP/snap.got" | head -n 30 >&2
		# which parts of the digest differ
		"$PYTHON" - "$TMP/snap.ref" "$TMP/snap.got" <<-'EOF' >&2
				import json, sys
				def load(p):
				    t = open(p).read()
				    i = t.find("{")
				    return t[:i], (json.loads(t[i:]) if i >= 0 else {})
				(ra, rd), (ga, gd) = load(sys.argv[1]), load(sys.argv[2])
				if ra != ga:
				    print("  row counts or sync state differ")
				for k in sorted(set(rd) | set(gd)):
				    a, b = rd.get(k), gd.get(k)
				    if a == b:
				        continue
				    how = "differs"
				    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and \
				            sorted(json.dumps(x, sort_keys=True) for x in a) == \
				            sorted(json.dumps(x, sort_keys=True) for x in b):
				        how = "holds the same %d entries in another order" % len(a)
				    print("  digest key %s %s" % (k, how))
			EOF
	fi
}

# rows URI TABLE: its row count
rows() { q "$1" "SELECT count(*) FROM $2"; }

# commas N: N as mxdigest prints it (1,234)
commas() { printf '%s\n' "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/' -e 'ta'; }

# new_reports FILE: "N new reports" of the summaries in FILE, summed
new_reports() {
	sed -n 's/.* \([0-9,]*\) new reports*[,;].*/\1/p' "$@" | tr -d , |
		awk '{ s += $1 } END { print s + 0 }'
}

# gen DIR SEED COUNT: a Maildir of generated report mails
gen() {
	"$PYTHON" "$SRCDIR/bench/gen-maildir.py" --count "$3" --seed "$2" --out "$1" --quiet ||
		die "gen-maildir.py failed"
}

# bg NAME ARGS...: runs mxdigest ARGS in the background, once $TMP/go
# exists (so that two start at the same moment); stdout and stderr go to
# $TMP/NAME.out and .err, the time it ended to $TMP/NAME.end; sets $bg_pid
# (a subshell: bg_child gives mxdigest's PID).  go: lets them run.
bg() {
	local name=$1
	shift
	rm -f "$TMP/$name.end"
	(
		n=0
		while [ ! -e "$TMP/go" ] && [ $n -lt 3000 ]; do sleep 0.005; n=$((n + 1)); done
		${MXD_WRAPPER:-} "$MXDIGEST" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null
		r=$?
		date +%s%3N >"$TMP/$name.end"
		exit $r
	) 2>/dev/null &	# not the shell's "Killed" notice
	bg_pid=$!
	BG_NAME[$bg_pid]=$name
	BG_PIDS="$BG_PIDS $bg_pid"
}
declare -a BG_NAME
# bg_child PID: the PID of the mxdigest that bg's subshell PID runs
bg_child() { cat "/proc/$1/task/$1/children" 2>/dev/null | awk '{ print $1 }'; }
go() { GO_MS=$(now_ms); touch "$TMP/go"; }
ready() { rm -f "$TMP/go"; GO_MS=""; }

# alive PID: running (a child that ended stays a zombie until wait)
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $st in Z* | X*) return 1 ;; esac
	return 0
}

# reap PID LIMIT WHAT [SIGNAL]: (sends SIGNAL, then) waits for a background
# process at most LIMIT seconds (then kills it, and that is a failure);
# sets $rc and $took (for a bg run: from go to its end; else the wait).
# The shell's "Killed" notice is kept off stderr.
reap() {
	local pid=$1 t end late=0
	t=$(now_ms)
	end=$((t + $2 * 1000))
	{
		[ -z "${4:-}" ] || kill "-$4" "$pid"
		while alive "$pid"; do
			if [ "$(now_ms)" -ge "$end" ]; then
				late=1
				kill -KILL "$pid"
				break
			fi
			sleep 0.05
		done
		wait "$pid"
		rc=$?
	} 2>/dev/null
	local endf="$TMP/${BG_NAME[$pid]:-none}.end"
	if [ -n "${GO_MS:-}" ] && [ -s "$endf" ]; then
		took=$(awk -v a="$GO_MS" -v b="$(cat "$endf")" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
	else
		took=$(secs_since "$t")
	fi
	[ $late = 0 ] || fail "$3: still running after $2 s: killed"
	BG_PIDS=$(printf '%s\n' $BG_PIDS | grep -vx "$pid" | tr '\n' ' ')
}

# one_line TEXT WHAT: TEXT (stderr) must be exactly one line
one_line() {
	[ -n "$1" ] && [ "$(printf '%s\n' "$1" | wc -l)" = 1 ] ||
		fail "$2: expected one line on stderr, got [$1]"
}

# no_crash WHAT: $rc is an exit status, not a signal, and no core file
no_crash() {
	[ "$rc" -lt 128 ] || fail "$1: ended by signal $((rc - 128))"
	! ls "$TMP"/core* >/dev/null 2>&1 || fail "$1: a core file was left"
}

# wait_rows URI TABLE MIN SECONDS: until TABLE has at least MIN rows
wait_rows() {
	wait_for "$4" sh -c '[ "$("$0" -XAtq -d "$1" -c "SELECT count(*) FROM $2" 2>/dev/null || echo 0)" -ge "$3" ]' \
		"$PGBIN/psql" "$1" "$2" "$3"
}

# mxe WHAT RC ARGS...: mxdigest ARGS (bounded: 60 s) must exit RC, and not
# by a signal; sets $out, $err, $rc, $secs
mxe() {
	local what=$1 want=$2 t shown
	shift 2
	t=$(now_ms)
	${MXD_WRAPPER:-} timeout 60 "$MXDIGEST" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	secs=$(secs_since "$t")
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
	shown=$out
	[ "${#out}" -le 300 ] || shown="(${#out} bytes)"
	echo "  $what: exit $rc in ${secs}s: $shown${err:+ / }$err"
	expect_rc "$want" "$what"
	no_crash "$what"
}
