# lib.sh — helpers for the IMAP end-to-end tests (tests/imap/t_*.sh, sourced).
#
# Each test script starts one throwaway Dovecot (dovecot.sh) for all its cases
# and removes it when it exits, whatever happens.  Environment (set by CTest):
#   MXDIGEST                  the binary
#   SRCDIR                    the source tree
#   MXD_IMAP_WORK             where instances and scratch files go (default /tmp)
#   MXD_WRAPPER               e.g. "valgrind -q --error-exitcode=99" around mxdigest
#   MXDIGEST_REQUIRE_DOVECOT  1: a missing Dovecot fails the test instead of
#                             skipping it (exit 77)
# Only "Dovecot is not installed" ever exits 77: any other failure is 1, even
# when a command inside happened to exit 77 (mxdigest's "login refused").
set -u

: "${MXDIGEST:?MXDIGEST must name the mxdigest binary}"
: "${SRCDIR:?SRCDIR must name the source tree}"
HERE="$SRCDIR/tests/imap"
H="$HERE/dovecot.sh"
SAMPLES="$SRCDIR/samples"
PYTHON=python3
[ ! -x /usr/bin/python3 ] || PYTHON=/usr/bin/python3
export PYTHON
WORK=${MXD_IMAP_WORK:-/tmp}
mkdir -p "$WORK"
TMP=$(mktemp -d "$WORK/imap-test.XXXXXX")
SRV="$TMP/srv"
CONF="$TMP/config"
DB="$TMP/test.db"
PWFILE="$TMP/password"
skipping=0
BG_PIDS=""
. "$SRCDIR/tests/assert.sh"
NO_COLOR=1
export NO_COLOR
# nothing of the tester's own configuration or database is read or written
HOME="$TMP/home"
mkdir -p "$HOME"
export HOME
unset XDG_CONFIG_HOME XDG_DATA_HOME

cleanup() {
	local p
	for p in $BG_PIDS; do
		kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	if [ -n "${MXD_KEEP:-}" ]; then "$H" stop "$SRV"; else "$H" cleanup "$SRV" >/dev/null 2>&1 || "$H" cleanup "$SRV"; fi
	[ -n "${MXD_KEEP:-}" ] || rm -rf "$TMP"
}
trap 'rc=$?; cleanup; if [ "$rc" = 77 ] && [ "$skipping" != 1 ]; then rc=1; fi; exit $rc' EXIT
trap 'exit 1' INT TERM

# die MESSAGE: a failure that makes the rest pointless.
die() {
	echo "FAIL: $*" >&2
	exit 1
}

need_dovecot() {
	if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
		return 0
	fi
	if [ "${MXDIGEST_REQUIRE_DOVECOT:-}" = 1 ]; then
		die "dovecot is not installed (Debian: dovecot-imapd dovecot-lmtpd) and MXDIGEST_REQUIRE_DOVECOT=1"
	fi
	echo "SKIP: dovecot is not installed (Debian: dovecot-imapd dovecot-lmtpd)"
	skipping=1
	exit 77
}

# srv_start: starts this script's Dovecot and reads its env.sh.
srv_start() {
	need_dovecot
	"$H" start "$SRV" || die "dovecot did not start"
	# shellcheck disable=SC1091
	. "$SRV/env.sh"
	(umask 077 && printf '%s\n' "$MXD_IMAP_PASS" >"$PWFILE")
}

# conf [KEY=VALUE...]: writes $CONF with one [account test] using IMAPS, the
# test CA and the password file; KEY=VALUE adds or replaces a key, KEY= drops it.
conf() {
	"$PYTHON" - "$CONF" "$DB" "$@" <<-EOF
		import sys
		path, db, args = sys.argv[1], sys.argv[2], sys.argv[3:]
		keys = {"host": "localhost", "port": "${MXD_IMAPS_PORT:-}", "user": "${MXD_IMAP_USER:-}",
		        "password_file": "$PWFILE", "ca_file": "${MXD_CA:-}", "timeout": "20"}
		for a in args:
		    k, v = a.split("=", 1)
		    if v == "":
		        keys.pop(k, None)
		    else:
		        keys[k] = v
		with open(path, "w") as f:
		    f.write("database = %s\n\n[account test]\n" % db)
		    for k, v in keys.items():
		        f.write("%s = %s\n" % (k, v))
	EOF
}

# mxd ARGS...: runs mxdigest with $CONF; sets $out, $err and $rc.
mxd() {
	${MXD_WRAPPER:-} "$MXDIGEST" --config "$CONF" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
	if [ "$rc" = 99 ]; then
		fail "the wrapper ($MXD_WRAPPER) reported errors for: mxdigest $*"
		cat "$TMP/err" >&2
	fi
	return 0
}

# The Dovecot log from a mark on: log_mark, then log_since.
log_mark() { LOGPOS=$(wc -c <"$MXD_DOVECOT_LOG"); }
log_since() { tail -c +$((LOGPOS + 1)) "$MXD_DOVECOT_LOG"; }

deliver() { "$H" deliver "$SRV" "$@" || die "deliver failed"; }
count() { "$H" count "$SRV" "$1"; }
empty_box() { "$H" empty "$SRV" "$1" || die "emptying $1 failed"; }

# digest DB [noq]: the whole store as the JSON digest, one key per line
# ("generated" dropped; with noq, the quarantine left out too: its sizes
# differ between mail files with LF and the CRLF an IMAP server hands out).
digest() {
	"$MXDIGEST" --db "$1" report --from 2025-01-01 --to 2028-01-01 --format json |
		"$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
d.pop("generated", None)
if len(sys.argv) > 1:
    d.pop("quarantine", None)
    d.get("totals", {}).pop("quarantined", None)
print(json.dumps(d, indent=0, sort_keys=True))' ${2:+noq}
}

# qlist DB: the quarantine list.
qlist() { "$MXDIGEST" --db "$1" quarantine list; }

# reference DB FILE...: imports the files with `mxdigest import` (the oracle:
# fetching a mailbox must store exactly what importing its files stores).
reference() {
	local db=$1
	shift
	"$MXDIGEST" --db "$db" import "$@" >"$TMP/ref.out" 2>&1
	case $? in 0 | 65) ;; *) cat "$TMP/ref.out" >&2; die "reference import failed" ;; esac
}

# The report mails of samples/ (files that are mails, not raw JSON).
sample_mails() {
	find "$SAMPLES" -name '*.eml' | sort
	find "$SAMPLES/maildir/cur" "$SAMPLES/maildir/new" -type f | sort
}

# wait_for SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds.
wait_for() {
	local end=$(($(date +%s%N) / 1000000 + $1 * 1000))
	shift
	while [ $(($(date +%s%N) / 1000000)) -lt "$end" ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

sql() { sqlite3 "$DB" "$1"; }


# scripted_start CUE[,CUE...]: starts tests/imap/scripted.py (a misbehaving
# server, no Dovecot needed) on the messages of $MAIL, and points $CONF at
# it: plain IMAP on loopback, a 3-second timeout.  Cues that fire are
# appended to $STATE, every line the client sends to $SRVLOG.
MAIL="$TMP/mail"
STATE="$TMP/state"
SRVLOG="$TMP/srvlog"
scripted_start() {
	scripted_stop
	mkdir -p "$MAIL"
	rm -f "$TMP/scripted.port" "$STATE" "$SRVLOG"
	: >"$STATE"
	"$PYTHON" "$HERE/scripted.py" --dir "$MAIL" --port-file "$TMP/scripted.port" \
		--cue "$1" --state "$STATE" --log "$SRVLOG" &
	SCRIPTED=$!
	BG_PIDS="$BG_PIDS $SCRIPTED"
	wait_for 5 test -s "$TMP/scripted.port" || die "scripted.py did not start"
	(umask 077 && echo secret >"$PWFILE")
	conf host=127.0.0.1 port="$(cat "$TMP/scripted.port")" security=none \
		ca_file= timeout=3 user=tester
}
scripted_stop() {
	if [ -n "${SCRIPTED:-}" ]; then
		kill -TERM "$SCRIPTED" 2>/dev/null
		wait "$SCRIPTED" 2>/dev/null
		SCRIPTED=""
	fi
}
# fired CUE: true once the server has reached that cue
fired() { grep -qx "$1" "$STATE" 2>/dev/null; }

# timed ARGS...: runs mxdigest under GNU time; sets $rc, $out, $err and
# $wall (s), $cpu (user + system, s), $rss (KiB).
timed() {
	/usr/bin/time -f '%e %U %S %M' -o "$TMP/time" ${MXD_WRAPPER:-} "$MXDIGEST" \
		--config "$CONF" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
	set -- $(tail -n 1 "$TMP/time")
	wall=$1
	cpu=$(awk -v u="$2" -v s="$3" 'BEGIN { print u + s }')
	rss=$4
}
# term_within SECONDS PID WHAT: sends SIGTERM to a background mxdigest
# whose stderr goes to $TMP/err, waits for it, and fails unless it ended
# within SECONDS; sets $rc and $err.
term_within() {
	local t0 t1
	t0=$(date +%s%N)
	kill -TERM "$2"
	wait "$2"
	rc=$?
	t1=$(date +%s%N)
	err=$(cat "$TMP/err")
	within "$1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')" "$3"
}
# within LIMIT VALUE WHAT: fails unless VALUE <= LIMIT (decimals allowed);
# memory and CPU limits (WHAT says "RSS" or "CPU") are not checked in a
# sanitizer build (run-all sets ASAN_OPTIONS), which multiplies both.
within() {
	case $3 in *RSS* | *CPU*) [ -z "${ASAN_OPTIONS:-}" ] || return 0 ;; esac
	awk -v v="$2" -v l="$1" 'BEGIN { exit !(v <= l) }' || fail "$3: $2, more than $1"
}
