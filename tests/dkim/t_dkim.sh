#!/usr/bin/env bash
# DKIM verification end to end: report mails signed here (tests/dkim/
# make-mails.sh: RSA and Ed25519, relaxed and simple), their keys served by
# a real NSD on 127.0.0.1 (tests/dns/nsd.sh), mxdigest's resolver pointed at
# it.  Every fixture's verdict against the manifest; the reasons; a DNS
# timeout that is temperror and passes once the server is back (on the
# next import, and with reverify); forged-then-genuine and genuine-then-
# forged; dkim = require against a count made here from the mails.
# Skipped (77) without nsd or python3-dkim, unless MXDIGEST_REQUIRE_NSD=1.
. "$SRCDIR/tests/cli/lib.sh"
set +e

PY=/usr/bin/python3
missing=""
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || missing="$missing nsd"
"$PY" -c 'import dkim, nacl.signing' 2>/dev/null || missing="$missing python3-dkim"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
if [ -n "$missing" ]; then
	if [ "${MXDIGEST_REQUIRE_NSD:-0}" = 1 ]; then
		echo "FAIL: missing Debian packages:$missing (MXDIGEST_REQUIRE_NSD=1)" >&2
		exit 1
	fi
	echo "SKIP: missing Debian packages:$missing"
	exit 77
fi

HERE="$SRCDIR/tests/dkim"
NSDSH="$SRCDIR/tests/dns/nsd.sh"
FX="$TMP/fx" NS="$TMP/ns"
chmod 755 "$TMP"	# NSD drops privileges and must enter its directory
trap '"$NSDSH" cleanup "$NS" >/dev/null 2>&1; rm -rf "$TMP"' EXIT

"$HERE/make-mails.sh" "$FX" || { fail "make-mails.sh"; finish; }
"$NSDSH" start "$NS" "$FX"/zones/*.zone || { fail "nsd.sh start"; finish; }
. "$NS/env.sh"
M="$FX/mails"

# the resolver is the test NSD; a generous timeout (valgrind is slow), and
# one second where the server is paused.  The test zones are not signed:
# no trust anchor (with the root key every answer from a server that does
# not serve the root would be bogus)
CONF="$TMP/mxdigest.conf"
printf 'resolver = 127.0.0.1:%s\ndns_timeout = 20\ntrust_anchor = none\n' \
	"$MXD_DNS_PORT" >"$CONF"
printf 'resolver = 127.0.0.1:%s\ndns_timeout = 1\ntrust_anchor = none\n' \
	"$MXD_DNS_PORT" >"$CONF.1s"
chmod 600 "$CONF" "$CONF.1s"
dk() { mxd --config "$CONF" "$@"; }
dk1() { mxd --config "$CONF.1s" "$@"; }

# verdict DB: the stored result, d= and detail of the one message in DB
verdict() {
	sqlite3 -separator '|' "$1" "SELECT CASE d.result WHEN 0 THEN 'none'
		WHEN 1 THEN 'pass' WHEN 2 THEN 'fail' WHEN 3 THEN 'temperror'
		WHEN 4 THEN 'permerror' WHEN 5 THEN 'skipped' WHEN 6 THEN 'file'
		END, coalesce(d.domain, '-'), coalesce(d.detail, '')
		FROM dkim d JOIN messages m ON m.id = d.message_id"
}

# ---- every fixture against the manifest (each in a database of its own:
# several are copies of one report) ---------------------------------------
n=0
while IFS="$(printf '\t')" read -r file want domain dns desc; do
	[ "$file" = file ] && continue
	[ "$dns" = up ] || continue
	DB="$TMP/one-$file.db"
	dk import "$M/$file"
	expect_rc 0 "$file: import"
	got=$(verdict "$DB")
	expect_eq "${got%%|*}" "$want" "$file: $desc"
	if [ "$want" = pass ]; then
		d=${got#*|}
		expect_eq "${d%%|*}" "$domain" "$file: the signing domain"
	fi
	n=$((n + 1))
done <"$FX/manifest.tsv"
[ "$n" -ge 20 ] || fail "only $n fixtures in the manifest"

# ---- one run decodes each key once (dkim/keys.c), and a key decoded for
# one mail still fails another whose signed header changed.  Four mails
# signed with rsa2048 (three reports: the changed one is stored first, the
# genuine copy of its report after it) and one with Ed25519, whose key is
# made apart and not counted (its report is a duplicate, not stored).
DB="$TMP/shared-key.db"
dk -v import "$M/genuine-signed.eml" "$M/header-changed.eml" \
	"$M/valid-rsa-relaxed.eml" "$M/valid-relaxed-simple-folded.eml" \
	"$M/valid-ed25519-simple.eml"
expect_rc 0 "five mails, four signed with one RSA key, in one run"
expect_in "$err" "DKIM: 1 key decoded, used again for 3 signatures" \
	"the RSA key decoded once for four signatures"
expect_eq "$(sqlite3 "$DB" 'SELECT group_concat(result) FROM (SELECT d.result FROM dkim d
	JOIN messages m ON m.id = d.message_id ORDER BY m.id)')" "1,2,1,1" \
	"one key: pass, fail (a signed header changed), pass, pass"

# the reasons, as stored and as the digest shows them
reason() { verdict "$TMP/one-$1.db" | cut -d'|' -f3; }
expect_in "$(reason body-banner.eml)" "the body changed after signing" "banner: why"
expect_in "$(reason other-domain.eml)" "d=other.test: not the reporting domain reporter.test" \
	"another domain: why"
expect_in "$(reason length-tag.eml)" "uses l=" "l=: why"
expect_in "$(reason unsigned.eml)" "no DKIM-Signature" "unsigned: why"
expect_in "$(reason key-missing.eml)" "missing._domainkey.reporter.test" "no key: the name"
expect_in "$(reason key-revoked.eml)" "revoked" "revoked key: why"
expect_in "$(reason expired.eml)" "expired" "expired: why"
expect_in "$(reason gateway-second-signature.eml)" "d=other.test" \
	"the gateway's signature is named, the reporter's passes"
DB="$TMP/one-body-banner.eml.db"
dk report --format json --since 3650d
expect_eq "$(json '[(r["dkim"], r["dkim_domain"], r["counted"]) for r in d["reports"]]')" \
	"[('fail', None, True)]" "JSON: the report's DKIM state (counted by default)"
expect_in "$(json 'd["reports"][0]["dkim_detail"]')" "body changed" "JSON: the reason"
dk report --since 3650d --dkim=require
expect_in "$out" "DKIM          1 of 1 report ignored: no valid signature (dkim = require)" \
	"text: the ignored report in the summary"
expect_in "$out" "Google Inc.   2026-11-09  fail  d=reporter.test: the body changed" \
	"text: listed, with the reason"

# ---- a DNS timeout is temperror, then passes once the server is back -----
DB="$TMP/temp.db"
"$NSDSH" pause "$NS"
t0=$(date +%s)
dk1 import "$M/temperror-timeout.eml"
t1=$(date +%s)
expect_rc 0 "import while the DNS server does not answer"
expect_eq "$(verdict "$DB" | cut -d'|' -f1)" temperror "no answer: temperror"
[ -n "${MXD_WRAPPER:-}" ] || [ $((t1 - t0)) -le 6 ] ||
	fail "the lookup took $((t1 - t0)) s with a 1 s timeout"
"$NSDSH" resume "$NS"
dk import "$M/temperror-timeout.eml"
expect_rc 0 "the same mail again, the server back"
expect_eq "$(verdict "$DB" | cut -d'|' -f1)" pass "verified on the next import"
# ... at the end of the next import, whatever it reads
DB="$TMP/temp3.db"
"$NSDSH" pause "$NS"
dk1 import "$M/temperror-timeout.eml"
"$NSDSH" resume "$NS"
sleep 1	# verdicts are taken to the second: the next run is later
dk import "$M/valid-rsa-crlf-simple.eml"
expect_rc 0 "another import, the server back"
expect_in "$out" "after a failed key lookup: 1 mail verified: 1 pass; 1 verdict stored" \
	"the earlier temperror verified again at the end of the run"
expect_eq "$(sqlite3 "$DB" 'SELECT group_concat(result) FROM dkim')" "1,1" "both pass now"
# ... and by reverify
DB="$TMP/temp2.db"
dk import "$M/domain-without-keys.eml"
"$NSDSH" pause "$NS"
dk1 import "$M/temperror-timeout.eml"
"$NSDSH" resume "$NS"
dk reverify
expect_rc 0 "reverify with the server back"
expect_in "$out" "1 mail verified: 1 pass; 1 verdict stored" "reverify: only the pending mail"
expect_eq "$(sqlite3 "$DB" 'SELECT group_concat(result) FROM (SELECT result FROM dkim ORDER BY message_id)')" \
	"4,1" "reverify: the permerror kept, the pass stored"
dk reverify --all
expect_in "$out" "1 mail verified: 1 permerror; 0 verdicts stored" \
	"--all: the permerror is checked again and stays"

# ---- forged and genuine: the genuine counts, in either order -------------
# independent numbers: the failed sessions of the genuine mail's report
genuine_failed=$("$PY" - "$M/genuine-signed.eml" <<'EOF'
import email, gzip, json, sys
from email import policy
msg = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=policy.default)
for part in msg.walk():
    if part.get_content_type().startswith("application/tlsrpt"):
        data = part.get_payload(decode=True)
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        r = json.loads(data)
# one policy domain; policies of several types describe the same sessions
by_type = {}
for p in r["policies"]:
    t = p["policy"]["policy-type"]
    by_type[t] = by_type.get(t, 0) + p["summary"]["total-failure-session-count"]
print(max(by_type.values()))
EOF
)
[ -n "$genuine_failed" ] || fail "could not count the genuine report"
for order in "forged-unsigned.eml genuine-signed.eml" "genuine-signed.eml forged-unsigned.eml"; do
	DB="$TMP/conflict-${order%% *}.db"
	for f in $order; do
		dk import "$M/$f"
		expect_rc 0 "$order: import $f"
	done
	case $order in forged*)
		expect_in "$err" "both kept, this one counts (its mail verified, the other's did not)" \
			"$order: the genuine copy takes over, said so";;
	*)
		expect_in "$err" "both kept, the other counts (its mail verified, this one's did not)" \
			"$order: the forgery is kept aside, said so";;
	esac
	dk report --format json --since 3650d
	expect_eq "$(json 'd["totals"]["failed_sessions"]')" "$genuine_failed" \
		"$order: the genuine report's failures count"
	expect_eq "$(json '(d["totals"]["reports"], d["totals"]["conflicts"])')" "(1, 1)" \
		"$order: one report, in conflict"
	expect_eq "$(json '[(r["dkim"], r["contents"]) for r in d["reports"]]')" "[('pass', 2)]" \
		"$order: the counted copy is the verified one"
	expect_eq "$(sqlite3 "$DB" 'SELECT count(*) FROM messages')" 2 "$order: both mails kept"
	dk report --since 3650d --alert-on conflict
	expect_rc 1 "$order: --alert-on conflict alerts"
	expect_in "$out" "Conflicts     1 report came in two contents: one counts (see below)" \
		"$order: the summary line"
	expect_in "$out" "Google Inc.   2026-11-12  pass               conflict" \
		"$order: listed for people"
done

# ---- dkim = require counts exactly the verified reports -----------------
DB="$TMP/all.db"
ls "$M"/*.eml | grep -v temperror-timeout >"$TMP/list"
dk import $(cat "$TMP/list")
dk report --format json --since 3650d --dkim=require
got=$(json '(d["totals"]["reports"], d["totals"]["failed_sessions"], d["totals"]["dkim_ignored"])')
want=$("$PY" - "$FX/manifest.tsv" $(cat "$TMP/list") <<'EOF'
# The model of store.h: per identity, the same content again is a
# duplicate unless it is the first verified copy; other content is a
# conflict; the copy that counts is the first verified, else the first.
import email, gzip, json, sys
from email import policy
verdict = {}
for line in open(sys.argv[1]):
    f = line.split("\t")
    verdict[f[0]] = f[1]
ids = {}
for path in sys.argv[2:]:
    msg = email.message_from_binary_file(open(path, "rb"), policy=policy.default)
    for part in msg.walk():
        if part.get_content_type().startswith("application/tlsrpt"):
            data = part.get_payload(decode=True)
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            r = json.loads(data)
    key = (r["organization-name"], r["report-id"], r["date-range"]["start-datetime"])
    ok = verdict[path.rsplit("/", 1)[1]] == "pass"
    copies = ids.setdefault(key, [])
    same = [c for c in copies if c[0] == r]
    if same and (not ok or any(c[1] for c in copies)):
        continue
    copies.append((r, ok))
reports = failed = ignored = 0
for copies in ids.values():
    r, ok = next((c for c in copies if c[1]), copies[0])
    if not ok:
        ignored += 1
        continue
    reports += 1
    by_type = {}
    for p in r["policies"]:
        t = p["policy"]["policy-type"]
        by_type[t] = by_type.get(t, 0) + p["summary"]["total-failure-session-count"]
    failed += max(by_type.values())
print((reports, failed, ignored))
EOF
)
expect_eq "$got" "$want" "require: the verified reports exactly (reports, failed, ignored)"
dk report --format json --since 3650d
expect_eq "$(json 'd["totals"]["dkim_verified"] + d["totals"]["dkim_unverified"] == d["totals"]["reports"]')" \
	True "report: every report counted"
finish
