#!/usr/bin/env bash
# Self-test of the DNS and DKIM test tools: selftest.sh [PARENT_DIR]
#
# Makes the DKIM fixtures (make-mails.sh), signs a DNSSEC test zone (tests/dns/sign-zone.sh), serves
# all zones with a throwaway NSD (tests/dns/nsd.sh), checks with drill that every key record is
# served as written, verifies every fixture through that NSD (verify.py: python3-dkim plus a DNS
# client of our own) against the manifest, pauses NSD for the temperror case, revokes a key with a
# reload, then stops NSD and removes everything (MXD_KEEP=1 keeps the directory).
# Prints one line on success; on failure the reason (and the NSD log), exit status 1.  Exit 77
# (skipped) if nsd, ldnsutils or python3-dkim is missing, unless MXDIGEST_REQUIRE_NSD=1.
set -eu
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DNS="$HERE/../dns"
NSDSH="$DNS/nsd.sh"
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ ! -x /usr/bin/python3 ] || PYTHON=/usr/bin/python3
fi
export PYTHON
START_MS=$(date +%s%3N)

missing=""
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || missing="$missing nsd"
for t in drill ldns-keygen ldns-signzone ldns-key2ds ldns-verify-zone; do
	command -v $t >/dev/null 2>&1 || { missing="$missing ldnsutils"; break; }
done
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
"$PYTHON" -c 'import dkim, nacl.signing' 2>/dev/null || missing="$missing python3-dkim"
if [ -n "$missing" ]; then
	if [ "${MXDIGEST_REQUIRE_NSD:-0}" = 1 ]; then
		echo "selftest: FAIL: missing Debian packages:$missing (MXDIGEST_REQUIRE_NSD=1)" >&2
		exit 1
	fi
	echo "SKIP: missing Debian packages:$missing"
	exit 77
fi

PARENT=${1:-/tmp}
mkdir -p "$PARENT"
T=$(mktemp -d "$PARENT/mxd-dkim-selftest.XXXXXX")
# NSD drops to an unprivileged user when it can enter the directory: let it (the private test keys
# stay in the 0700 keys/ below).
chmod 755 "$T"
FX="$T/fx" NS="$T/ns" W="$T/work"
mkdir -p "$W"
CHECKS=0

cleanup() {
	local rc=$?
	if [ "${MXD_KEEP:-0}" = 1 ]; then
		"$NSDSH" stop "$NS" || rc=1
		printf 'selftest: kept %s\n' "$T" >&2
	else
		"$NSDSH" cleanup "$NS" || rc=1
		rm -rf "$T"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	printf 'selftest: FAIL: %s\n' "$*" >&2
	if [ -s "$W/out" ]; then
		printf '%s\n' "----- output -----" >&2
		tail -n 60 "$W/out" >&2
	fi
	if [ -s "$NS/run/nsd.log" ]; then
		printf '%s\n' "----- $NS/run/nsd.log (last 40 lines) -----" >&2
		tail -n 40 "$NS/run/nsd.log" >&2
	fi
	exit 1
}
ok() { CHECKS=$((CHECKS + 1)); }
now_ms() { date +%s%3N; }
# run WHAT CMD...: CMD must succeed; its output goes to $W/out.
run() {
	local what=$1
	shift
	"$@" >"$W/out" 2>&1 || fail "$what (exit $?): $*"
	ok
}
# run_fails WHAT CMD...: CMD must fail.
run_fails() {
	local what=$1
	shift
	if "$@" >"$W/out" 2>&1; then fail "$what: succeeded, should have failed: $*"; fi
	ok
}

# ---- keys.sh on its own -----------------------------------------------------------------------------
K="$W/k"
run "keys.sh rsa" "$HERE/keys.sh" "$K" big reporter.test rsa
run "keys.sh ed25519 s=tlsrpt" "$HERE/keys.sh" -s tlsrpt "$K" ed reporter.test ed25519
run "keys.sh revoked" "$HERE/keys.sh" --revoked "$K" rev reporter.test
run_fails "keys.sh keeps the key's type" "$HERE/keys.sh" "$K" ed reporter.test rsa
[ "$(stat -c %a "$K/big.reporter.test.key")" = 600 ] || fail "private key not mode 600"
"$PYTHON" - "$K" >"$W/out" 2>&1 <<-'EOF' || fail "keys.sh records"
	import base64, re, sys
	k = sys.argv[1]
	def strings(path):
	    line = open(path).read()
	    assert line.count("\n") == 1, "one line: %r" % line
	    return re.findall(r'"([^"]*)"', line)
	big = strings(k + "/big.reporter.test.zone")
	assert len(big) == 2 and len(big[0]) == 255 and all(len(s) <= 255 for s in big), big
	rec = "".join(big)
	assert rec.startswith("v=DKIM1; k=rsa; p=MIIB"), rec[:40]
	der = base64.b64decode(rec.split("p=")[1])
	assert der[:15] == bytes.fromhex("30820122300d06092a864886f70d01"), "RSA p= is a SubjectPublicKeyInfo"
	ed = "".join(strings(k + "/ed.reporter.test.zone"))
	assert ed.startswith("v=DKIM1; k=ed25519; s=tlsrpt; p="), ed
	assert len(base64.b64decode(ed.split("p=")[1])) == 32, "Ed25519 p= is the raw 32-byte key"
	assert "".join(strings(k + "/rev.reporter.test.zone")) == "v=DKIM1; k=rsa; p="
	txt = open(k + "/big.reporter.test.txt").read().split(" ", 1)
	assert txt[0] == "big._domainkey.reporter.test" and txt[1].strip() == rec
EOF
ok

# ---- the fixtures (python3-dkim checks each signature it made: sign.py --check) -------------------
run "make-mails.sh" "$HERE/make-mails.sh" "$FX"
n_mails=$(find "$FX/mails" -name "*.eml" | wc -l)
n_rows=$(($(wc -l <"$FX/manifest.tsv") - 1))
[ "$n_mails" = "$n_rows" ] || fail "$n_mails mails but $n_rows manifest rows"
[ "$n_mails" -ge 20 ] || fail "only $n_mails fixtures"
# sign.py --check must notice a signature that the given key does not verify.
run_fails "sign.py --check with the wrong key" "$PYTHON" "$HERE/sign.py" -k "$FX/keys/rsa2048.reporter.test.key" \
	-d reporter.test -s rsa2048 --check "$FX/keys/email.reporter.test.zone" -o "$W/x.eml" "$FX/mails/unsigned.eml"
# The forged copy claims to be the genuine report: same identity, other numbers.
"$PYTHON" - "$FX/mails/genuine-signed.eml" "$FX/mails/forged-unsigned.eml" >"$W/out" 2>&1 <<-'EOF' || fail "forged copy"
	import base64, email, gzip, json, sys
	def report(path):
	    msg = email.message_from_binary_file(open(path, "rb"))
	    for part in msg.walk():
	        if part.get_content_type() == "application/tlsrpt+gzip":
	            return json.loads(gzip.decompress(part.get_payload(decode=True)))
	    raise SystemExit("no report in " + path)
	g, f = report(sys.argv[1]), report(sys.argv[2])
	key = lambda r: (r["organization-name"], r["report-id"], r["date-range"]["start-datetime"])
	assert key(g) == key(f), (key(g), key(f))
	counts = lambda r: [p["summary"] for p in r["policies"]]
	assert counts(g) != counts(f), counts(g)
EOF
ok

# ---- DNSSEC: sign a zone, keep its anchor when signed again -----------------------------------------
cat >"$W/example.test.zone" <<-'EOF'
	$ORIGIN example.test.
	$TTL 300
	@ IN SOA ns1 hostmaster 1 3600 600 86400 300
	@ IN NS ns1
	ns1 IN A 127.0.0.1
	_smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.test"
EOF
SZ="$T/dnssec"
run "sign-zone.sh" "$DNS/sign-zone.sh" "$W/example.test.zone" "$SZ"
for f in example.test.zone.signed example.test.ds example.test.anchor example.test.dnskey; do
	[ -s "$SZ/$f" ] || fail "sign-zone.sh wrote no $f"
done
grep -Eq '^example\.test\. DS [0-9]+ 13 2 [0-9a-f]{64}$' "$SZ/example.test.anchor" ||
	fail "anchor line: $(cat "$SZ/example.test.anchor")"
grep -Eq '^example\.test\. 3600 IN DS [0-9]+ 13 2 [0-9a-f]{64}$' "$SZ/example.test.ds" ||
	fail "DS line: $(cat "$SZ/example.test.ds")"
run "ldns-verify-zone with the DS" ldns-verify-zone -k "$SZ/example.test.ds" "$SZ/example.test.zone.signed"
anchor=$(cat "$SZ/example.test.anchor")
run "sign-zone.sh again" "$DNS/sign-zone.sh" "$W/example.test.zone" "$SZ"
[ "$(cat "$SZ/example.test.anchor")" = "$anchor" ] || fail "signing again changed the trust anchor"
run "sign-zone.sh --new-keys" "$DNS/sign-zone.sh" --new-keys "$W/example.test.zone" "$W/other-keys"
run_fails "ldns-verify-zone with another zone's DS" \
	ldns-verify-zone -k "$W/other-keys/example.test.ds" "$SZ/example.test.zone.signed"

# ---- NSD --------------------------------------------------------------------------------------------
t0=$(now_ms)
run "nsd.sh start" "$NSDSH" start "$NS" "$FX"/zones/*.zone "$SZ/example.test.zone.signed"
start_ms=$(($(now_ms) - t0))
# shellcheck disable=SC1091
. "$NS/env.sh"
[ "$MXD_DNS_ADDR" = "127.0.0.1@$MXD_DNS_PORT" ] || fail "MXD_DNS_ADDR=$MXD_DNS_ADDR"
[ "$MXD_DNS_PORT" -ge 1024 ] || fail "port $MXD_DNS_PORT"
for z in reporter.test other.test gone.test example.test; do
	case " $MXD_DNS_ZONES " in *" $z "*) ;; *) fail "zone $z missing from MXD_DNS_ZONES=$MXD_DNS_ZONES" ;; esac
done
run_fails "nsd.sh start twice" "$NSDSH" start "$NS" "$FX/zones/reporter.test.zone"
P=$MXD_DNS_PORT

# drill_txt NAME [-t]: the TXT record's strings joined (one line per RR), or the rcode.
drill_txt() {
	# shellcheck disable=SC2086
	drill ${2:-} -p "$P" @127.0.0.1 "$1" TXT 2>&1 | "$PYTHON" -c '
import re, sys
text = sys.stdin.read()
rcode = re.search(r"rcode: (\w+)", text)
if not rcode:
    sys.exit("no answer: " + text[-300:])
ans = text.split(";; ANSWER SECTION:")[1].split(";; AUTHORITY SECTION:")[0]
rrs = [l for l in ans.splitlines() if "\tTXT\t" in l]
if not rrs:
    print(rcode.group(1) + (" NODATA" if rcode.group(1) == "NOERROR" else ""))
for l in rrs:
    print("".join(re.findall(r"\"((?:[^\"\\\\]|\\\\.)*)\"", l.split("\tTXT\t", 1)[1])))'
}
while read -r name rec; do
	got=$(drill_txt "$name") || fail "drill $name: $got"
	[ "$got" = "$rec" ] || fail "UDP $name: served [$got], zone has [$rec]"
	got=$(drill_txt "$name" -t) || fail "drill -t $name: $got"
	[ "$got" = "$rec" ] || fail "TCP $name: served [$got], zone has [$rec]"
	ok
done <"$FX/keys.qfile"
[ "$(drill_txt missing._domainkey.reporter.test)" = NXDOMAIN ] || fail "missing selector is not NXDOMAIN"
[ "$(drill_txt sel._domainkey.gone.test)" = NXDOMAIN ] || fail "gone.test key is not NXDOMAIN"
[ "$(drill_txt nodata._domainkey.reporter.test)" = "NOERROR NODATA" ] || fail "nodata selector is not NODATA"
# A name in no served zone: NSD refuses (a resolver makes that SERVFAIL, i.e. temperror, not NXDOMAIN).
[ "$(drill_txt sel._domainkey.unserved.test)" = REFUSED ] || fail "unserved zone is not REFUSED"
ok
# The signed zone: RRSIGs served and the chain from the anchor verifies.
drill -D -p "$P" @127.0.0.1 _smtp._tls.example.test TXT >"$W/out" 2>&1 || fail "drill -D"
grep -q 'RRSIG	TXT 13 ' "$W/out" || fail "no RRSIG for the TXT of the signed zone"
run "drill -S chase from the DS" drill -S -k "$SZ/example.test.ds" -p "$P" @127.0.0.1 _smtp._tls.example.test TXT
grep -q "Chase successful" "$W/out" || fail "drill -S did not report a successful chase"

# ---- every fixture through NSD ---------------------------------------------------------------------
t0=$(now_ms)
VERBOSE=1 "$PYTHON" "$HERE/verify.py" --dns "127.0.0.1:$P" --timeout 3 --manifest "$FX/manifest.tsv" \
	"$FX/mails" >"$W/out" 2>&1 || fail "fixture verdicts differ from the manifest"
verify_ms=$(($(now_ms) - t0))
n_up=$(grep -c '^ok ' "$W/out") || true
[ "$n_up" = $((n_rows - 1)) ] || fail "verified $n_up fixtures with DNS up, expected $((n_rows - 1))"
ok

# ---- temperror: NSD paused, lookups time out; resumed, they pass again ---------------------------
run "nsd.sh pause" "$NSDSH" pause "$NS"
t0=$(now_ms)
VERBOSE=1 "$PYTHON" "$HERE/verify.py" --dns "127.0.0.1:$P" --timeout 1 --manifest "$FX/manifest.tsv" \
	--dns-state paused "$FX/mails" >"$W/out" 2>&1 || fail "paused NSD: verdicts differ from the manifest"
paused_ms=$(($(now_ms) - t0))
grep -q '^ok temperror-timeout.eml: temperror' "$W/out" || fail "no temperror while paused"
[ "$paused_ms" -ge 900 ] || fail "the lookup gave up after $paused_ms ms, before its 1 s timeout"
ok
run "nsd.sh resume" "$NSDSH" resume "$NS"
"$PYTHON" "$HERE/verify.py" --dns "127.0.0.1:$P" "$FX/mails/temperror-timeout.eml" >"$W/out" 2>&1 ||
	fail "verify.py after resume"
[ "$(cut -f2 "$W/out")" = pass ] || fail "after resume: $(cat "$W/out")"
ok

# ---- reload: revoke the key of valid-rsa-relaxed.eml, then publish it again ----------------------
Z="$FX/zones/reporter.test.zone"
cp "$Z" "$W/reporter.test.zone.orig"
sed -i 's/^\(rsa2048\._domainkey\.reporter\.test\. 300 IN TXT \).*/\1"v=DKIM1; k=rsa; p="/' "$Z"
grep -q '^rsa2048._domainkey.reporter.test. 300 IN TXT "v=DKIM1; k=rsa; p="$' "$Z" || fail "revoking in $Z"
run "nsd.sh reload (revoked)" "$NSDSH" reload "$NS"
[ "$(drill_txt rsa2048._domainkey.reporter.test)" = "v=DKIM1; k=rsa; p=" ] || fail "reload did not revoke"
"$PYTHON" "$HERE/verify.py" --dns "127.0.0.1:$P" "$FX/mails/valid-rsa-relaxed.eml" >"$W/out" 2>&1 || true
[ "$(cut -f2 "$W/out")" = permerror ] || fail "revoked key: $(cat "$W/out")"
cp "$W/reporter.test.zone.orig" "$Z"
run "nsd.sh reload (restored)" "$NSDSH" reload "$NS"
"$PYTHON" "$HERE/verify.py" --dns "127.0.0.1:$P" "$FX/mails/valid-rsa-relaxed.eml" >"$W/out" 2>&1 || true
[ "$(cut -f2 "$W/out")" = pass ] || fail "restored key: $(cat "$W/out")"
ok
# A zone that no longer loads: reload refuses it and the old data stays.
echo 'broken IN TXT "unterminated' >>"$Z"
run_fails "nsd.sh reload of a broken zone" "$NSDSH" reload "$NS"
cp "$W/reporter.test.zone.orig" "$Z"
[ "$(drill_txt rsa2048._domainkey.reporter.test | cut -c1-18)" = "v=DKIM1; k=rsa; p=" ] || fail "data lost"
[ -n "$(drill_txt rsa2048._domainkey.reporter.test | cut -c19-)" ] || fail "key lost after a failed reload"

# ---- stop ------------------------------------------------------------------------------------------
pids=$(cat "/proc/$MXD_DNS_PID/task/$MXD_DNS_PID/children" 2>/dev/null || true)
t0=$(now_ms)
run "nsd.sh stop" "$NSDSH" stop "$NS"
stop_ms=$(($(now_ms) - t0))
# A zombie counts as stopped: the daemon's parent is init, which may reap it late.
for p in $MXD_DNS_PID $pids; do
	st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1) || st=""
	case $st in "" | Z | X) ;; *) fail "process $p still alive after stop (state $st)" ;; esac
done
[ ! -e "$NS/env.sh" ] || fail "env.sh left after stop"
run "nsd.sh stop again" "$NSDSH" stop "$NS"
rc=0
"$NSDSH" status "$NS" >/dev/null 2>&1 || rc=$?
[ $rc = 3 ] || fail "status after stop: $rc"
ok

total_ms=$(($(now_ms) - START_MS))
printf 'dkim selftest: ok (%d checks, %d fixtures; nsd start %d ms, verify %d ms, paused %d ms, stop %d ms; %d.%d s in all)\n' \
	"$CHECKS" "$n_mails" "$start_ms" "$verify_ms" "$paused_ms" "$stop_ms" $((total_ms / 1000)) $((total_ms % 1000 / 100))
