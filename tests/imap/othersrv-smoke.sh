#!/usr/bin/env bash
# Smoke test of othersrv.sh: for each SERVER (default: mailutils courier cyrus) start an instance,
# load 3 sample reports, and record with Python's imaplib what the server answers: LOGIN, SELECT,
# UID FETCH sizes, one BODY.PEEK[] compared with the file, COPY/MOVE to a missing "Archive", IDLE for
# 3 s while a 4th message is delivered (by `othersrv.sh load`, then by APPEND from a second session),
# UIDVALIDITY across sessions and across a restart.  Prints the findings; exit 1 if a server could
# not be started or the session failed.
#
#   tests/imap/othersrv-smoke.sh [SERVER...]
# Environment: MXD_IMAP_WORK (scratch parent, default the build dir next to this tree or /tmp),
# MXD_KEEP=1 (keep the instances' directories, stopped), PYTHON.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
OS="$HERE/othersrv.sh"
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ ! -x /usr/bin/python3 ] || PYTHON=/usr/bin/python3
fi
WORK=${MXD_IMAP_WORK:-$SRC/build}
mkdir -p "$WORK" 2>/dev/null || WORK=/tmp
TMP=$(mktemp -d "$WORK/othersrv-smoke.XXXXXX")
SAMPLES=$(ls "$SRC"/samples/google/*.eml | head -n 4)
[ "$(echo "$SAMPLES" | wc -l)" = 4 ] || { echo "need 4 samples in $SRC/samples/google" >&2; exit 1; }
FIRST3=$(echo "$SAMPLES" | head -n 3)
FOURTH=$(echo "$SAMPLES" | tail -n 1)
FIFTH=$(ls "$SRC"/samples/google/*.eml | sed -n 5p)
[ $# -gt 0 ] || set -- mailutils courier cyrus
failed=0

cleanup() {
	local d
	for d in "$TMP"/*/; do
		[ -d "$d" ] || continue
		if [ -n "${MXD_KEEP:-}" ]; then "$OS" stop "$d"; else "$OS" cleanup "$d"; fi
	done
	[ -n "${MXD_KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

session() {
	# session PHASE DIR: the imaplib part; PHASE is "main" or "again".
	"$PYTHON" - "$@" <<-'PYEOF'
	import imaplib, os, re, select, socket, subprocess, sys, time
	phase, d, os_sh, fourth, fifth = sys.argv[1:6]
	first = sys.argv[6] if len(sys.argv) > 6 else None
	E = os.environ
	host, port = "127.0.0.1", int(E["MXD_IMAP_PORT"])
	user, pw, prefix = E["MXD_IMAP_USER"], E["MXD_IMAP_PASS"], E["MXD_IMAP_PREFIX"]
	def out(k, v):
	    print("  %-22s %s" % (k + ":", v))
	def text(data):
	    return " ".join(x.decode("utf-8", "replace") if isinstance(x, bytes) else repr(x) for x in data)
	def tagged(m, *args):
	    """Run a command through imaplib, return 'TAG-LESS' final line as the server sent it."""
	    try:
	        typ, data = m._simple_command(*args)
	        return "%s %s" % (typ, text(data) if data and data != [None] else "")
	    except m.error as e:
	        return "BAD/error: %s" % e
	def uidvalidity(m):
	    v = m.response("UIDVALIDITY")[1]
	    return v[0].decode() if v and v[0] else None
	m = imaplib.IMAP4(host, port, timeout=30)
	if phase == "main":
	    out("greeting", m.welcome.decode("utf-8", "replace")[:160])
	typ, data = m.login(user, pw)
	out("LOGIN", "%s %s" % (typ, text(data)))
	typ, data = m.select("INBOX")
	uv = uidvalidity(m)
	out("SELECT INBOX", "%s, EXISTS %s, UIDVALIDITY %s" % (typ, data[0].decode(), uv))
	typ, data = m.uid("FETCH", "1:*", "(UID RFC822.SIZE)")
	sizes = [re.sub(rb"^\d+ \(|\)$", b"", x).decode() for x in data if isinstance(x, bytes)]
	out("UID FETCH sizes", "; ".join(sizes))
	if phase == "again":
	    print("UV=%s" % uv)
	    m.logout()
	    sys.exit(0)
	typ, data = m.capability()
	out("CAPABILITY", text(data))
	typ, data = m._simple_command("NAMESPACE")
	out("NAMESPACE", text(m.untagged_responses.pop("NAMESPACE", [b"?"])))
	typ, data = m.list()
	out("LIST", " | ".join(text([x]) for x in data))
	uid1 = re.search(rb"UID (\d+)", [x for x in m.uid("FETCH", "1:*", "(UID)")[1] if x][0]).group(1).decode()
	typ, data = m.uid("FETCH", uid1, "(BODY.PEEK[])")
	body = data[0][1]
	orig = re.sub(rb"\r?\n", b"\r\n", open(first, "rb").read())
	if body == orig:
	    out("BODY[] vs file", "identical (%d bytes, CRLF)" % len(body))
	else:
	    def fields(b):
	        h = re.sub(rb"\r\n[ \t]+", b" ", b.split(b"\r\n\r\n", 1)[0])
	        return [l.decode("utf-8", "replace") for l in h.split(b"\r\n") if l]
	    fo = fields(orig)
	    added = [f for f in fields(body) if f not in fo]
	    gone = [f.split(":")[0] for f in fo if f not in fields(body)]
	    same_body = body.split(b"\r\n\r\n", 1)[1:] == orig.split(b"\r\n\r\n", 1)[1:]
	    out("BODY[] vs file", "differs: %d vs %d bytes; header lines added: %s; removed: %s; body %s" %
	        (len(body), len(orig), " | ".join(f[:70] for f in added) or "none", ", ".join(gone) or "none",
	         "identical" if same_body else "differs"))
	for box in ["Archive"] + ([prefix + "Archive"] if prefix else []):
	    out("UID COPY " + box, tagged(m, "UID", "COPY", uid1, '"%s"' % box))
	    out("UID MOVE " + box, tagged(m, "UID", "MOVE", uid1, '"%s"' % box))
	m.logout()

	def idle_round(label, deliver):
	    m = imaplib.IMAP4(host, port, timeout=30)
	    m.login(user, pw)
	    typ, data = m.select("INBOX")
	    before = int(data[0])
	    s = m.sock
	    buf = b""
	    def lines(timeout, stop=None):
	        nonlocal buf
	        got, end = [], time.monotonic() + timeout
	        while True:
	            while b"\n" in buf:
	                l, buf = buf.split(b"\n", 1)
	                got.append((time.monotonic(), l.rstrip(b"\r").decode("utf-8", "replace")))
	            rem = end - time.monotonic()
	            if rem <= 0 or (stop and got and got[-1][1].startswith(stop)):
	                return got
	            r, _, _ = select.select([s], [], [], rem)
	            if not r:
	                return got
	            c = s.recv(65536)
	            if not c:
	                return got
	            buf += c
	    s.sendall(b"I1 IDLE\r\n")
	    cont = lines(5, "+")
	    t0 = time.monotonic()
	    deliver()
	    got = lines(3)
	    exists = [(round(t - t0, 2), l) for t, l in got if l.endswith("EXISTS")]
	    s.sendall(b"DONE\r\n")
	    after = lines(5, "I1 ")
	    out("IDLE (" + label + ")", "continuation %r; during 3 s: %s; after DONE: %s" % (
	        cont[0][1] if cont else None,
	        ", ".join("%s after %.2f s" % (l, t) for t, l in exists) or "nothing",
	        " / ".join(l for _, l in after) or "nothing"))
	    s.sendall(b"L1 LOGOUT\r\n")
	    lines(2, "L1 ")
	    s.close()

	env = dict(E)
	idle_round("load 4th msg", lambda: subprocess.run([os_sh, "load", d, fourth], check=True))
	def append_other():
	    a = imaplib.IMAP4(host, port, timeout=30)
	    a.login(user, pw)
	    data = re.sub(rb"\r?\n", b"\r\n", open(fifth, "rb").read())
	    r = a.append("INBOX", None, None, data)
	    a.logout()
	idle_round("APPEND 5th msg", append_other)
	print("UV=%s" % uv)
	PYEOF
}

for srv in "$@"; do
	d="$TMP/$srv"
	echo "== $srv"
	t0=$(date +%s.%N)
	if ! "$OS" start "$srv" "$d"; then
		echo "  start FAILED"
		failed=1
		continue
	fi
	t1=$(date +%s.%N)
	# shellcheck disable=SC1090
	. "$d/env.sh"
	printf '  %-22s %.2f s (user %s, port %s/%s)\n' "start:" "$(secs "$t0" "$t1")" "$MXD_IMAP_USER" \
		"$MXD_IMAP_PORT" "$MXD_IMAPS_PORT"
	# shellcheck disable=SC2086
	"$OS" load "$d" $FIRST3 || { echo "  load FAILED"; failed=1; continue; }
	res=$(session main "$d" "$OS" "$FOURTH" "$FIFTH" "$(echo "$FIRST3" | head -n 1)") || { echo "$res"; echo "  session FAILED"; failed=1; continue; }
	echo "$res" | grep -v '^UV='
	uv1=$(echo "$res" | sed -n 's/^UV=//p')
	res=$(session again "$d" "$OS" "$FOURTH" "$FIFTH") || { echo "$res"; failed=1; continue; }
	uv2=$(echo "$res" | sed -n 's/^UV=//p')
	echo "  -- next session:"
	echo "$res" | grep -v '^UV=' | grep -E '^  (SELECT INBOX|UID FETCH sizes):'
	t0=$(date +%s.%N)
	"$OS" stop "$d"
	t1=$(date +%s.%N)
	"$OS" start "$srv" "$d"
	t2=$(date +%s.%N)
	res=$(session again "$d" "$OS" "$FOURTH" "$FIFTH") || { echo "$res"; failed=1; continue; }
	uv3=$(echo "$res" | sed -n 's/^UV=//p')
	echo "  -- after restart:"
	echo "$res" | grep -v '^UV=' | grep -E '^  (SELECT INBOX|UID FETCH sizes):'
	printf '  %-22s first session %s, next session %s, after restart %s\n' "UIDVALIDITY:" "$uv1" "$uv2" "$uv3"
	printf '  %-22s stop %.2f s, start %.2f s\n' "restart:" "$(secs "$t0" "$t1")" "$(secs "$t1" "$t2")"
done
exit $failed
