#!/usr/bin/env bash
# Self-test of the Dovecot test harness: selftest.sh [PARENT_DIR]
#
# Starts a throwaway Dovecot in a new directory under PARENT_DIR (default /tmp), checks what the
# end-to-end tests rely on, stops it and removes the directory (MXD_KEEP=1 keeps it).  Prints one
# line on success; on failure the reason and the Dovecot log, exit status 1.

set -eu
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
H="$HERE/dovecot.sh"
if [ -z "${PYTHON:-}" ]; then
	# Debian's interpreter: starts in ~30 ms (a pyenv shim takes 150 ms or more).
	PYTHON=python3
	[ ! -x /usr/bin/python3 ] || PYTHON=/usr/bin/python3
fi
export PYTHON
PARENT=${1:-/tmp}
mkdir -p "$PARENT"
DIR=$(mktemp -d "$PARENT/mxd-selftest.XXXXXX")
WORK="$DIR.work"
mkdir -p "$WORK"
PROXY_PID=""
CHECKS=0

cleanup() {
	local rc=$?
	if [ -n "$PROXY_PID" ]; then
		kill -TERM "$PROXY_PID" 2>/dev/null || true
		wait "$PROXY_PID" 2>/dev/null || true
	fi
	if [ "${MXD_KEEP:-0}" = 1 ]; then
		"$H" stop "$DIR" || rc=1
		[ $rc = 0 ] || printf 'selftest: kept %s\n' "$DIR" >&2
	else
		"$H" cleanup "$DIR" || rc=1
		rm -rf "$WORK"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	printf 'selftest: FAIL: %s\n' "$*" >&2
	if [ -s "$DIR/dovecot.log" ]; then
		printf '%s\n' "----- $DIR/dovecot.log (last 100 lines) -----" >&2
		tail -n 100 "$DIR/dovecot.log" >&2
	fi
	exit 1
}

ok() { CHECKS=$((CHECKS + 1)); }

now_ms() { date +%s%3N; }

secs() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }

# run NAME CMD...: CMD must succeed; its output goes to $WORK/out.
run() {
	local name=$1
	shift
	"$@" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; fail "$name"; }
}

# refuse NAME CMD...: CMD must fail.
refuse() {
	local name=$1
	shift
	if "$@" >"$WORK/out" 2>&1; then
		cat "$WORK/out" >&2
		fail "$name (unexpectedly succeeded)"
	fi
}

for m in 1 2 3; do
	printf 'From: sender%d@example.org\r\nTo: tester@localhost\r\nSubject: test %d\r\nMessage-ID: <selftest-%d@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody %d\r\n' \
		"$m" "$m" "$m" "$m" >"$WORK/m$m.eml"
done

# --- start ------------------------------------------------------------------------------------
t0=$(now_ms)
"$H" start "$DIR" || fail "start"
t_start=$(($(now_ms) - t0))
# shellcheck disable=SC1091
. "$DIR/env.sh"
ok

# --- greeting on the plain port ----------------------------------------------------------------
run "greeting" "$PYTHON" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
line = s.makefile("rb").readline()
assert line.startswith(b"* OK") and b"STARTTLS" in line, line
' "$MXD_IMAP_PORT"
ok

# --- TLS ----------------------------------------------------------------------------------------
sclient() {
	openssl s_client -brief -verify_return_error "$@" </dev/null
}
run "IMAPS verified with the test CA" sclient -connect "127.0.0.1:$MXD_IMAPS_PORT" \
	-servername localhost -verify_hostname localhost -CAfile "$MXD_CA"
grep -q "Verification: OK" "$WORK/out" || fail "IMAPS: no 'Verification: OK'"
ok
run "IMAPS verified by IP address" sclient -connect "127.0.0.1:$MXD_IMAPS_PORT" \
	-verify_ip 127.0.0.1 -CAfile "$MXD_CA"
ok
refuse "IMAPS with the unrelated CA" sclient -connect "127.0.0.1:$MXD_IMAPS_PORT" \
	-servername localhost -verify_hostname localhost -CAfile "$MXD_OTHER_CA"
grep -q "unable to get local issuer certificate" "$WORK/out" || { cat "$WORK/out" >&2; fail "other CA: wrong reason"; }
ok
if [ -n "$MXD_IMAP_WRONG_HOST" ]; then
	refuse "IMAPS to the wrong host" sclient -connect "$MXD_IMAP_WRONG_HOST:$MXD_IMAPS_PORT" \
		-verify_ip "$MXD_IMAP_WRONG_HOST" -CAfile "$MXD_CA"
	grep -q "IP address mismatch" "$WORK/out" || { cat "$WORK/out" >&2; fail "wrong host: wrong reason"; }
	ok
fi
run "STARTTLS" sclient -starttls imap -connect "127.0.0.1:$MXD_IMAP_PORT" \
	-servername localhost -verify_hostname localhost -CAfile "$MXD_CA"
grep -q "Verification: OK" "$WORK/out" || fail "STARTTLS: no 'Verification: OK'"
ok

# --- login --------------------------------------------------------------------------------------
run "login over IMAPS with imaplib" "$PYTHON" -c '
import imaplib, os, ssl, sys
ctx = ssl.create_default_context(cafile=os.environ["MXD_CA"])
m = imaplib.IMAP4_SSL("localhost", int(os.environ["MXD_IMAPS_PORT"]), ssl_context=ctx, timeout=10)
m.login(os.environ["MXD_IMAP_USER"], os.environ["MXD_IMAP_PASS"])
typ, boxes = m.list()
names = b" ".join(boxes)
assert b"Archive" in names and b"Quarantine" in names, boxes
m.logout()
'
ok
grep -Eq 'imap-login: Info: Login: user=<tester>, method=PLAIN, .*, TLS, session=<' "$MXD_DOVECOT_LOG" ||
	fail "no TLS login line in the log"
ok
t0=$(now_ms)
run "wrong password, then a quick good login" "$PYTHON" -c '
import imaplib, os
P = int(os.environ["MXD_IMAP_PORT"])
for _ in range(2):
    m = imaplib.IMAP4("127.0.0.1", P, timeout=10)
    try:
        m.login(os.environ["MXD_IMAP_USER"], "wrong-password")
        raise SystemExit("wrong password accepted")
    except imaplib.IMAP4.error:
        pass
    m.logout()
m = imaplib.IMAP4("127.0.0.1", P, timeout=10)
m.login(os.environ["MXD_IMAP_USER"], os.environ["MXD_IMAP_PASS"])
m.logout()
'
t_auth=$(($(now_ms) - t0))
# Two failures cost ~0.5 s each; with the auth penalty this takes over 6 s.
[ "$t_auth" -lt 4000 ] || fail "failed logins slow the next login down (${t_auth} ms)"
ok

# --- delivery -----------------------------------------------------------------------------------
run "deliver" "$H" deliver "$DIR" "$WORK/m1.eml" "$WORK/m2.eml" "$WORK/m3.eml"
n=$("$H" count "$DIR" INBOX) || fail "count INBOX"
[ "$n" = 3 ] || fail "INBOX has $n messages after delivering 3"
ok

before=$("$H" uidvalidity "$DIR" INBOX) || fail "uidvalidity"
t0=$(now_ms)
run "uidvalidity-reset" "$H" uidvalidity-reset "$DIR"
t_reset=$(($(now_ms) - t0))
after=$("$H" uidvalidity "$DIR" INBOX) || fail "uidvalidity after reset"
[ "${before% *}" != "${after% *}" ] || fail "UIDVALIDITY unchanged (${before% *})"
[ "${after#* }" = 3 ] || fail "after uidvalidity-reset INBOX has ${after#* } messages, not 3"
ok

run "lmtp" "$H" lmtp "$DIR" "$WORK/m1.eml"
n=$("$H" count "$DIR" INBOX) || fail "count INBOX"
[ "$n" = 4 ] || fail "INBOX has $n messages after the LMTP delivery, not 4"
grep -q 'lmtp(tester).*saved mail to INBOX' "$MXD_DOVECOT_LOG" || fail "no LMTP delivery line in the log"
ok

run "append" "$H" append "$DIR" Archive "$WORK/m2.eml"
n=$("$H" count "$DIR" Archive) || fail "count Archive"
[ "$n" = 1 ] || fail "Archive has $n messages after one APPEND"
n=$("$H" count "$DIR" Quarantine) || fail "count Quarantine"
[ "$n" = 0 ] || fail "Quarantine has $n messages"
ok

mkdir -p "$WORK/src/cur" "$WORK/src/new" "$WORK/src/tmp"
cp "$WORK/m1.eml" "$WORK/src/cur/1.x:2,S"
cp "$WORK/m2.eml" "$WORK/src/new/2.x"
run "deliver-dir" "$H" deliver-dir "$DIR" "$WORK/src"
n=$("$H" count "$DIR" INBOX) || fail "count INBOX"
[ "$n" = 6 ] || fail "INBOX has $n messages after deliver-dir, not 6"
ok

# --- ceiling client and cut proxy ---------------------------------------------------------------
run "imap_ceiling over IMAPS" "$PYTHON" "$HERE/imap_ceiling.py"
grep -q '^messages=6 ' "$WORK/out" || { cat "$WORK/out" >&2; fail "imap_ceiling did not fetch 6 messages"; }
ok

start_proxy() {
	rm -f "$WORK/proxy.port" "$WORK/proxy.log"
	"$PYTHON" "$HERE/cutproxy.py" --listen-port 0 --target-port "$MXD_IMAP_PORT" \
		--port-file "$WORK/proxy.port" --log "$WORK/proxy.log" "$@" &
	PROXY_PID=$!
	for _ in $(seq 1 100); do
		[ -s "$WORK/proxy.port" ] && break
		sleep 0.02
	done
	[ -s "$WORK/proxy.port" ] || fail "cutproxy did not start"
	PROXY_PORT=$(cat "$WORK/proxy.port")
}

stop_proxy() {
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" || fail "cutproxy exit status $? on SIGTERM"
	PROXY_PID=""
}

# Measure a whole session through the proxy, then cut the next one 200 bytes before its end,
# which lies inside the FETCH response.
start_proxy --cut-after 1000000000
run "ceiling through the proxy" "$PYTHON" "$HERE/imap_ceiling.py" --plain --port "$PROXY_PORT"
stop_proxy
total=$(sed -n 's/^close 1 s2c=\([0-9]*\) .*/\1/p' "$WORK/proxy.log")
if [ -z "$total" ] || [ "$total" -le 400 ]; then
	fail "cutproxy log: $(cat "$WORK/proxy.log")"
fi
cut=$((total - 200))
start_proxy --cut-after "$cut"
refuse "cut connection" "$PYTHON" "$HERE/imap_ceiling.py" --plain --port "$PROXY_PORT"
grep -q "^cut 1 s2c=$cut " "$WORK/proxy.log" || fail "cutproxy did not cut at $cut: $(cat "$WORK/proxy.log")"
run "second connection passes" "$PYTHON" "$HERE/imap_ceiling.py" --plain --port "$PROXY_PORT"
grep -q '^messages=6 ' "$WORK/out" || fail "second connection through the proxy: $(cat "$WORK/out")"
stop_proxy
ok

# --- stop ---------------------------------------------------------------------------------------
t0=$(now_ms)
"$H" stop "$DIR" || fail "stop"
t_stop=$(($(now_ms) - t0))
for p in /proc/[0-9]*; do
	cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
	case $cmd in
	*"$MXD_DOVECOT_CONF"* | *"$MXD_DOVECOT_INSTANCE"*)
		fail "process ${p#/proc/} of this instance still runs: $cmd" ;;
	esac
done
if "$PYTHON" -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)' \
	"$MXD_IMAP_PORT" 2>/dev/null; then
	fail "port $MXD_IMAP_PORT still accepts connections after stop"
fi
"$H" stop "$DIR" || fail "second stop (must be idempotent)"
ok

printf 'selftest: ok (%d checks; start %s s, stop %s s, uidvalidity-reset %s s)\n' \
	"$CHECKS" "$(secs "$t_start")" "$(secs "$t_stop")" "$(secs "$t_reset")"
