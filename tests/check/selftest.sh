#!/usr/bin/env bash
# Self-test of the `mxdigest check` test servers: selftest.sh [PARENT_DIR]
#
# Starts everything (servers.sh), then checks each scenario with tools independent of the servers:
# drill for every record, drill -S (chase from the DS) and libunbound (ubquery.py, when
# libunbound8 is installed) for DNSSEC, openssl s_client for the certificate of every web host and
# of every SMTP address (-starttls smtp), Python's http.client/ssl (probe.py) for the HTTPS
# behaviours, raw sockets for the silent, garbage, busy and refused SMTP cases, the servers' logs
# for what they received; then a DNS pause (timeouts), a restart (same keys, anchors and ports),
# stop and cleanup, and that no process of the instance is left.  ~10-20 s.
# Prints one line on success; on failure the reason (and the logs), exit status 1.  Exit 77
# (skipped) if nsd, ldnsutils or openssl is missing, unless MXDIGEST_REQUIRE_NSD=1.
# MXD_KEEP=1 keeps the directory (servers stopped).
set -eu
set -o pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRV="$HERE/servers.sh"
NSDSH="$HERE/../dns/nsd.sh"
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ ! -x /usr/bin/python3 ] || PYTHON=/usr/bin/python3
fi
export PYTHON
now_ms() { date +%s%3N; }
START_MS=$(now_ms)

missing=""
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || missing="$missing nsd"
for t in drill ldns-keygen ldns-signzone ldns-key2ds; do
	command -v $t >/dev/null 2>&1 || { missing="$missing ldnsutils"; break; }
done
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
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
T=$(mktemp -d "$PARENT/mxd-check-selftest.XXXXXX")
chmod 755 "$T"
S="$T/srv" W="$T/work"
mkdir -p "$W"
CHECKS=0

cleanup() {
	local rc=$?
	if [ "${MXD_KEEP:-0}" = 1 ]; then
		"$SRV" stop "$S" || rc=1
		printf 'selftest: kept %s\n' "$T" >&2
	else
		"$SRV" cleanup "$S" || rc=1
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
		tail -n 40 "$W/out" >&2
	fi
	local f
	for f in "$S/smtp.log" "$S/https.log" "$S/dns/run/nsd.log"; do
		[ -s "$f" ] || continue
		printf '%s\n' "----- $f (last 25 lines) -----" >&2
		tail -n 25 "$f" | cut -c1-240 >&2
	done
	exit 1
}
ok() { CHECKS=$((CHECKS + 1)); }
LAP=$(date +%s%3N)
lap() { [ "${MXD_SELFTEST_TRACE:-0}" != 1 ] || printf "selftest: %6d ms  %s\n" $(($(date +%s%3N) - LAP)) "$*" >&2; LAP=$(date +%s%3N); }

# ---- start ----------------------------------------------------------------------------------------
t0=$(now_ms)
"$SRV" start "$S" >"$W/out" 2>&1 || fail "servers.sh start"
START1=$(($(now_ms) - t0))
[ ! -s "$W/out" ] || fail "servers.sh start printed something on success"
# shellcheck disable=SC1091
. "$S/env.sh"
ok
for v in MXD_DNS_PORT MXD_HTTPS_PORT MXD_SMTP_PORT MXD_CHECK_CA MXD_CHECK_ANCHOR MXD_CHECK_CONF MXD_DNS_DIR; do
	[ -n "${!v:-}" ] || fail "env.sh does not set $v"
done
[ "$(stat -c %a "$MXD_CHECK_CONF")" = 600 ] || fail "mxdigest.conf is not mode 0600"
cat >"$W/conf.want" <<-EOF
	resolver = 127.0.0.1:$MXD_DNS_PORT
	trust_anchor = $MXD_CHECK_ANCHOR
	ca_file = $MXD_CHECK_CA
	check_https_port = $MXD_HTTPS_PORT
	check_smtp_port = $MXD_SMTP_PORT
	dns_timeout = 3
EOF
diff "$W/conf.want" "$MXD_CHECK_CONF" >"$W/out" 2>&1 || fail "mxdigest.conf differs from the contract"
ok
"$SRV" status "$S" || fail "servers.sh status after start"
ok
"$SRV" start "$S" >"$W/out" 2>&1 && fail "a second start of a running DIR succeeded"
ok

lap "before: DNS: every record"
# ---- DNS: every record, with drill --------------------------------------------------------------
# dq NAME TYPE RCODE [RDATA...]: drill's answer has this rcode and exactly these TYPE records
# (in any order); the query's output stays in $W/q.
dq() {
	local n=$1 t=$2 want=$3
	shift 3
	drill -p "$MXD_DNS_PORT" @127.0.0.1 "$n" "$t" >"$W/q" 2>&1 || fail "drill $n $t"
	# shellcheck disable=SC2016
	if ! awk -v t="$t" -v rc="$want" -v n="$#" '
		BEGIN { for (i = 1; i <= n; i++) want[ARGV[i]] = 1; ARGC = 1; ARGV[1] = "-" }
		/rcode:/ { for (i = 1; i <= NF; i++) if ($i == "rcode:") { got = $(i + 1); sub(/,$/, "", got) } }
		/^;; ANSWER SECTION/ { a = 1; next }
		/^;; / || /^$/ { a = 0 }
		a && $4 == t { sub(/^[^\t]*\t[^\t]*\t[^\t]*\t[^\t]*\t/, ""); seen++; if (!($0 in want)) bad = bad " [" $0 "]"; else hit[$0] = 1 }
		END {
			for (w in want) if (!(w in hit)) bad = bad " missing [" w "]"
			if (got != rc) bad = bad " rcode " got
			if (bad != "" || seen != n) { print n " " t ":" bad " (" seen " records)" > "/dev/stderr"; exit 1 }
		}' "$@" <"$W/q" 2>"$W/why"; then
		cp "$W/q" "$W/out"
		fail "$n $t: want $want with $# records: $(cat "$W/why")"
	fi
	ok
}
rr() { local n=$1 t=$2; shift 2; dq "$n" "$t" NOERROR "$@"; }  # rr NAME TYPE RDATA...
rc() { dq "$1" "$2" "$3"; }                                    # rc NAME TYPE RCODE: no records

GOOD_RUA='"v=TLSRPTv1; rua=mailto:tlsrpt@good.test"'
STS_ID='"v=STSv1; id=20261201T000000"'
H=127.0.2.1
[ "$MXD_HTTPS_ADDR" = "$H" ] || fail "MXD_HTTPS_ADDR is $MXD_HTTPS_ADDR"

rr _smtp._tls.good.test TXT '"v=TLSRPTv1; rua=mailto:tlsrpt@good.test,https://tlsrpt.good.test/v1"'
rr good.test MX '10 mx1.good.test.' '20 mx2.good.test.'
rr mx1.good.test A 127.0.1.1
rr mx2.good.test A 127.0.1.2
rr _mta-sts.good.test TXT "$STS_ID"
rr mta-sts.good.test A $H
rr tlsrpt.good.test A $H
rc _smtp._tls.norecord.test TXT NXDOMAIN
rr norecord.test MX '10 mx1.norecord.test.'
rr _mta-sts.norecord.test TXT "$STS_ID"
rr _smtp._tls.two.test TXT "$GOOD_RUA" '"v=TLSRPTv1; rua=mailto:other@good.test"'
rr _smtp._tls.notfirst.test TXT '"rua=mailto:r@good.test; v=TLSRPTv1"' '"some-verification=abc"'
rr _smtp._tls.othertxt.test TXT "$GOOD_RUA" '"some-verification=abc"'
rr _smtp._tls.norua.test TXT '"v=TLSRPTv1; ext=1"'
rr _smtp._tls.emptyrua.test TXT '"v=TLSRPTv1; rua="'
rr _smtp._tls.badscheme.test TXT '"v=TLSRPTv1; rua=ftp://reports.badscheme.test/"'
rr _smtp._tls.comma.test TXT '"v=TLSRPTv1; rua=mailto:a,b@comma.test"'
rr _smtp._tls.split.test TXT '"v=TLSRPTv1; rua=mai" "lto:tlsrpt@good.test"'
rr _smtp._tls.nomx.test TXT '"v=TLSRPTv1; rua=mailto:r@nomail.test"'
rr nomail.test TXT '"v=spf1 -all"'
rc nomail.test MX NOERROR
rc nomail.test A NOERROR
rc nomail.test AAAA NOERROR
rr _smtp._tls.aonly.test TXT '"v=TLSRPTv1; rua=mailto:r@aonly-dest.test"'
rc aonly-dest.test MX NOERROR
rr aonly-dest.test A 127.0.1.1
rr _smtp._tls.nullmx.test TXT '"v=TLSRPTv1; rua=mailto:r@nullmx-dest.test"'
rr nullmx-dest.test MX '0 .'
rr _smtp._tls.httpsbad.test TXT '"v=TLSRPTv1; rua=https://tlsrpt.httpsbad.test/"'
rr tlsrpt.httpsbad.test A $H
rr _smtp._tls.ruafail.test TXT '"v=TLSRPTv1; rua=mailto:r@unserved.test"'
rc unserved.test MX REFUSED
rc x.unserved.test A REFUSED
rr stale.test MX '10 mx1.stale.test.'
rc old-mx.stale.test A NXDOMAIN
# shellcheck source=hosts.sh
. "$HERE/hosts.sh"
for d in $PLAIN_DOMAINS $STS_DOMAINS; do
	[ "$d" = stsuncovered ] || rr "$d.test" MX "10 mx1.$d.test."
	rr "mx1.$d.test" A 127.0.1.1
done
for d in $STS_DOMAINS; do
	rr "_smtp._tls.$d.test" TXT "$GOOD_RUA"
	rr "mta-sts.$d.test" A $H
	if [ "$d" = stsnotxt ]; then rc "_mta-sts.$d.test" TXT NXDOMAIN; else rr "_mta-sts.$d.test" TXT "$STS_ID"; fi
done
rr stsuncovered.test MX '10 mx1.stsuncovered.test.' '20 mx3.stsuncovered.test.'
rr mx3.stsuncovered.test A 127.0.1.2
# smtp.test: one domain per behaviour, and the apex with the quick ones.
mxs=() p=10
for b in $SMTP_APEX_MIX; do mxs+=("$p mx.$b.smtp.test."); p=$((p + 10)); done
rr smtp.test MX "${mxs[@]}"
rr _smtp._tls.smtp.test TXT "$GOOD_RUA"
n=1
for b in good good2 expired wrongname soon otherca nostarttls tlsreset silent garbage busy; do
	rr "$b.smtp.test" MX "10 mx.$b.smtp.test."
	rr "_smtp._tls.$b.smtp.test" TXT "$GOOD_RUA"
	rr "mx.$b.smtp.test" A "127.0.1.$n"
	n=$((n + 1))
done
rr refused.smtp.test MX "10 mx.refused.smtp.test."
rr mx.refused.smtp.test A 127.0.1.99
rr noaddr.smtp.test MX "10 mx.noaddr.smtp.test."
rc mx.noaddr.smtp.test A NXDOMAIN
# TLSA and DANE
C=$MXD_CHECK_CERTS
GOOD_SPKI=$(openssl x509 -in "$C/good.crt" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
WRONG_SPKI=$(openssl x509 -in "$C/wrongname.crt" -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
CA_HASH=$(openssl x509 -in "$MXD_CHECK_CA" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
[ "$GOOD_SPKI" != "$WRONG_SPKI" ] || fail "two certificates share a key"
rr sec.test MX '10 mx1.sec.test.' '20 mx2.sec.test.' '30 mx3.sec.test.'
rr _smtp._tls.sec.test TXT '"v=TLSRPTv1; rua=mailto:tlsrpt@sec.test"'
rr _mta-sts.sec.test TXT "$STS_ID"
rr mx1.sec.test A 127.0.1.1
rr mx2.sec.test A 127.0.1.2
rr mx3.sec.test A 127.0.1.1
rr _25._tcp.mx1.sec.test TLSA "3 1 1 $GOOD_SPKI"
rr _25._tcp.mx2.sec.test TLSA "3 1 1 $WRONG_SPKI"
rr _25._tcp.mx3.sec.test TLSA "2 0 1 $CA_HASH"
rr _25._tcp.mx1.insecure.test TLSA "3 1 1 $WRONG_SPKI"
rr _25._tcp.mx1.bogus.test TLSA "3 1 1 $GOOD_SPKI"
rr bogus.test MX '10 mx1.bogus.test.'

lap "before: DNSSEC:"
# ---- DNSSEC: drill chases from the DS; libunbound with the anchor file -------------------------
[ "$(wc -l <"$MXD_CHECK_ANCHOR")" = 2 ] || fail "the anchor file does not hold two lines"
grep -q '^sec\.test\. 3600 IN DS [0-9]* 13 2 [0-9a-f]*$' "$MXD_CHECK_ANCHOR" || fail "no sec.test DS in the anchor"
grep -q '^bogus\.test\. 3600 IN DS [0-9]* 13 2 [0-9a-f]*$' "$MXD_CHECK_ANCHOR" || fail "no bogus.test DS in the anchor"
grep '^bogus' "$MXD_CHECK_ANCHOR" >"$W/bogus.anchor"
grep '^sec' "$MXD_CHECK_ANCHOR" >"$W/sec.anchor"
chase() { drill -S -k "$1" -p "$MXD_DNS_PORT" @127.0.0.1 "$2" "$3" >"$W/out" 2>&1 || true; grep -q '^;; Chase successful' "$W/out"; }
for n in "_smtp._tls.sec.test TXT" "_25._tcp.mx1.sec.test TLSA" "mx2.sec.test A" "nope.sec.test A"; do
	# shellcheck disable=SC2086
	chase "$W/sec.anchor" $n || fail "sec.test does not validate: $n"
	ok
done
# shellcheck disable=SC2086
! chase "$W/bogus.anchor" _smtp._tls.bogus.test TXT || fail "bogus.test validates with the anchor"
# The zone itself is well signed: its own DS validates it; only the anchor is wrong.
chase "$S/dnssec/bogus/bogus.test.ds" _smtp._tls.bogus.test TXT || fail "bogus.test does not validate with its own DS"
! chase "$W/sec.anchor" _smtp._tls.insecure.test TXT || fail "insecure.test validates"
drill -D -p "$MXD_DNS_PORT" @127.0.0.1 _25._tcp.mx1.insecure.test TLSA >"$W/out" 2>&1
! grep -q 'RRSIG' "$W/out" || fail "insecure.test has signatures"
ok
"$PYTHON" "$HERE/ubquery.py" "$MXD_CHECK_CONF" _smtp._tls.sec.test TXT _25._tcp.mx1.sec.test TLSA \
	nope.sec.test A _smtp._tls.bogus.test TXT mx1.bogus.test A _smtp._tls.good.test TXT \
	_25._tcp.mx1.insecure.test TLSA x.unserved.test A _smtp._tls.split.test TXT >"$W/ub" 2>"$W/out" && ubrc=0 || ubrc=$?
if [ "$ubrc" = 0 ]; then
	"$PYTHON" - "$W/ub" >"$W/out" 2>&1 <<-'EOF' || fail "libunbound (ubquery.py) results"
		import json, sys
		r = {(o["name"], o["type"]): o for o in map(json.loads, open(sys.argv[1]))}
		def want(name, qtype, **kw):
		    o = r[(name, qtype)]
		    for k, v in kw.items():
		        assert o[k] == v, "%s %s: %s is %r, want %r (%s)" % (name, qtype, k, o[k], v, o)
		want("_smtp._tls.sec.test", "TXT", secure=1, bogus=0, havedata=1)
		want("_25._tcp.mx1.sec.test", "TLSA", secure=1, bogus=0, havedata=1)
		want("nope.sec.test", "A", secure=1, nxdomain=1)
		want("_smtp._tls.bogus.test", "TXT", secure=0, bogus=1)
		want("mx1.bogus.test", "A", secure=0, bogus=1)
		want("_smtp._tls.good.test", "TXT", secure=0, bogus=0, havedata=1)
		want("_25._tcp.mx1.insecure.test", "TLSA", secure=0, bogus=0, havedata=1)
		want("x.unserved.test", "A", rcode=2, havedata=0)
		# split.test: one TXT record, two character-strings, joined = a valid record
		d = bytes.fromhex(r[("_smtp._tls.split.test", "TXT")]["data"][0])
		parts, i = [], 0
		while i < len(d):
		    parts.append(d[i + 1:i + 1 + d[i]]); i += 1 + d[i]
		assert len(parts) == 2 and b"".join(parts) == b"v=TLSRPTv1; rua=mailto:tlsrpt@good.test", parts
	EOF
	ok
	UB="libunbound checked"
elif [ "$ubrc" = 77 ]; then
	UB="libunbound not installed: not checked"
else
	fail "ubquery.py exit $ubrc"
fi

lap "before: certificates:"
# ---- certificates: openssl s_client against every web host -------------------------------------
# vcode ARGS...: the "Verify return code" of an s_client run
vcode() {
	timeout 10 openssl s_client "$@" -CAfile "$MXD_CHECK_CA" </dev/null >"$W/out" 2>&1 || true
	sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' "$W/out" | head -n1
}
while IFS=$'\t' read -r host rest; do
	case $host in "" | \#*) continue ;; esac
	cert=good
	case $rest in *cert=expired*) cert=expired ;; *cert=otherca*) cert=otherca ;; esac
	case $cert in good) want=0 ;; expired) want=10 ;; otherca) want=19 ;; esac
	got=$(vcode -connect "$H:$MXD_HTTPS_PORT" -servername "$host" -verify_hostname "$host")
	[ "$got" = "$want" ] || fail "https $host: verify code $got, want $want ($cert)"
	ok
done <"$S/gen/https.tab"
# An unknown SNI gets the good certificate; the good certificate covers every name in good.names.
got=$(vcode -connect "$H:$MXD_HTTPS_PORT" -servername mx.good.smtp.test -verify_hostname mx.good.smtp.test)
[ "$got" = 0 ] || fail "unknown SNI: verify code $got"
"$PYTHON" - "$H" "$MXD_HTTPS_PORT" "$MXD_CHECK_CA" "$C/good.names" >"$W/out" 2>&1 <<-'EOF' || fail "good cert names"
	import socket, ssl, sys
	addr, port, ca, names = sys.argv[1], int(sys.argv[2]), sys.argv[3], open(sys.argv[4]).read().split()
	ctx = ssl.create_default_context(cafile=ca)
	for n in names:
	    with socket.create_connection((addr, port), 3) as s:
	        with ctx.wrap_socket(s, server_hostname=n) as t:
	            assert t.getpeercert()["subject"]
	assert len(names) > 50, names
EOF
ok
# Every host the zones point at a good server is in good.names.
for f in "$S"/gen/zones/*.zone; do
	z=$(basename "$f" .zone)
	awk -v z="$z" '$2 == "A" && ($3 ~ /^127\.0\.1\.(1|2|7|8|9|10|11|99)$/ || $3 == "127.0.2.1") { print ($1 == "@" ? z : $1 "." z) }' "$f"
done | sort -u >"$W/good-hosts"
sed -i '/^aonly-dest\.test$/d; /^tlsrpt\.httpsbad\.test$/d; /^mta-sts\.stsexpired\.test$/d' "$W/good-hosts"
sort -u "$C/good.names" >"$W/good-names"
comm -23 "$W/good-hosts" "$W/good-names" >"$W/out"
[ ! -s "$W/out" ] || fail "hosts served with the good certificate but not in its names"
ok

lap "before: HTTPS behaviours"
# ---- HTTPS behaviours (probe.py: http.client + ssl, no redirect followed) ----------------------
"$PYTHON" - "$HERE" "$H" "$MXD_HTTPS_PORT" "$MXD_CHECK_CA" "$S" >"$W/out" 2>&1 <<-'EOF' || fail "HTTPS behaviours"
	import http.client, json, os, socket, ssl, sys, time
	sys.dont_write_bytecode = True
	sys.path.insert(0, sys.argv[1])
	import probe
	addr, port, ca, S = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
	www = os.path.join(S, "gen", "www")
	P = "/.well-known/mta-sts.txt"
	def get(host, path=P, method="GET", body=None):
	    return probe.fetch(addr, port, ca, host, path, method, body)
	def check(r, what, **kw):
	    for k, v in kw.items():
	        got = r["headers"].get(k[2:].replace("_", "-")) if k.startswith("h_") else r[k]
	        assert got == v, "%s: %s = %r, want %r: %s" % (what, k, got, v, json.dumps(r))
	def policy(name):
	    return open(os.path.join(www, name), "rb").read()
	r = get("mta-sts.good.test")
	check(r, "good", status=200, h_content_type="text/plain", body=policy("good.test.policy").decode(), error=None)
	assert r["headers"]["content-length"] == str(len(policy("good.test.policy")))
	assert "mode: enforce\nmx: mx1.good.test\nmx: *.good.test\nmax_age: 604800\n" in r["body"]
	check(get("mta-sts.good.test", method="HEAD"), "HEAD", status=200, body_len=0)
	check(get("mta-sts.good.test", "/other"), "other path", status=404)
	check(get("mta-sts.good.test", method="POST", body=b"x"), "POST policy", status=405)
	for h in ("tlsrpt.good.test",):
	    check(get(h, "/v1", "POST", b"report-body\x00\x01"), "rua POST", status=200, body="OK\n")
	    check(get(h, "/v1", "HEAD"), "rua HEAD", status=200)
	    check(get(h, "/", "GET"), "rua GET", status=200)
	posts = sorted(os.listdir(os.path.join(S, "posts")))
	assert posts and open(os.path.join(S, "posts", posts[-1]), "rb").read() == b"report-body\x00\x01", posts
	r = get("tlsrpt.httpsbad.test", "/", "HEAD")
	assert r["verify_error"] == "self-signed certificate in certificate chain" and r["status"] is None, r
	check(get("mta-sts.sts404.test"), "404", status=404)
	r = get("mta-sts.stsredirect.test")
	check(r, "301", status=301, h_location="https://mta-sts.good.test/.well-known/mta-sts.txt")
	big = policy("big.policy")
	assert len(big) == 102400 and big.startswith(b"version: STSv1\nmode: enforce\n")
	r = get("mta-sts.stsbig.test")
	check(r, "chunked", status=200, body_len=102400, h_transfer_encoding="chunked", h_content_length=None, error=None)
	r = get("mta-sts.stsbig2.test")
	check(r, "big length", status=200, body_len=102400, h_content_length="102400", h_transfer_encoding=None, error=None)
	r = get("mta-sts.stsbigclose.test")
	check(r, "close-delimited", status=200, body_len=102400, h_content_length=None, h_transfer_encoding=None,
	      h_connection="close", error=None)
	r = get("mta-sts.stseof.test")
	check(r, "rawclose", status=200, h_content_length=None, h_transfer_encoding=None, h_connection="close",
	      body=policy("stseof.test.policy").decode(), error=None)
	check(get("mta-sts.stsctype.test"), "ctype", status=200, h_content_type="text/html")
	check(get("mta-sts.stscharset.test"), "charset", status=200, h_content_type="text/plain; charset=utf-8")
	r = get("mta-sts.stsexpired.test")
	assert r["verify_error"] == "certificate has expired" and r["status"] is None, r
	assert "mode: testing\n" in get("mta-sts.ststesting.test")["body"]
	assert "mode: none\n" in get("mta-sts.stsnone.test")["body"]
	r = get("mta-sts.stsuncovered.test")
	assert "mx: mx1.stsuncovered.test\n" in r["body"] and "mx3" not in r["body"], r
	check(get("mta-sts.stsnotxt.test"), "notxt", status=200)
	r = get("mta-sts.stscrlf.test")
	assert r["body"] == "version: STSv1\r\nmode: enforce\r\nmx: mx1.stscrlf.test\r\nmax_age: 604800\r\n", r
	t = time.monotonic()
	r = get("mta-sts.stsslow.test")
	took = time.monotonic() - t
	check(r, "stall", status=200, error="timeout reading the body")
	assert r["headers"]["content-length"] == str(len(policy("stsslow.test.policy"))) and 2.5 < took < 6, (took, r)
	# Host and SNI differ: 421
	ctx = ssl.create_default_context(cafile=ca)
	c = probe.Conn(addr, int(port), "mta-sts.good.test", ctx, 3)
	c.putrequest("GET", P, skip_host=True)
	c.putheader("Host", "mta-sts.sts404.test")
	c.endheaders()
	assert c.getresponse().status == 421
	c.close()
	# A client that never sends its ClientHello blocks nobody.
	idle = socket.create_connection((addr, int(port)), 3)
	check(get("mta-sts.good.test"), "while a client idles", status=200)
	idle.close()
	time.sleep(0.3)
	import re
	log = open(os.path.join(S, "https.log")).read()
	for want in (r"GET /\.well-known/mta-sts\.txt host=mta-sts\.good\.test(:\d+)? sni=mta-sts\.good\.test -> 200 length body=79",
	             r"POST /v1 host=tlsrpt\.good\.test(:\d+)? sni=tlsrpt\.good\.test -> 200 sink body=13 ",
	             r"sni=tlsrpt\.httpsbad\.test\): \[SSL: TLSV1_ALERT_UNKNOWN_CA\]",
	             r"sni=mta-sts\.stsexpired\.test\): \[SSL: SSLV3_ALERT_CERTIFICATE_EXPIRED\]",
	             r"-> 200 stall: headers sent, no body", r"\* stall ended: closed by client",
	             r"host=mta-sts\.sts404\.test sni=mta-sts\.good\.test -> 421 \(host differs from sni\)",
	             r"\* TLS handshake failed from [0-9.:]+ \(sni=None\)"):
	    assert re.search(want, log), "not in https.log: %r" % want
EOF
ok

lap "before: SMTP: openssl"
# A close-delimited body ends with a close_notify (stsbigclose), or without one (stseof): OpenSSL 3
# reports the latter as "unexpected eof while reading".
for spec in "mta-sts.stsbigclose.test 0" "mta-sts.stseof.test 1"; do
	# shellcheck disable=SC2086
	set -- $spec
	printf 'GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: %s\r\n\r\n' "$1" | timeout 10 openssl s_client \
		-connect "$H:$MXD_HTTPS_PORT" -servername "$1" -CAfile "$MXD_CHECK_CA" -quiet -ign_eof >"$W/out" 2>&1 || true
	grep -q '^max_age: 604800' "$W/out" || grep -q '^pad0099: ' "$W/out" || fail "$1: no body via s_client"
	n=$(grep -c 'unexpected eof while reading' "$W/out" || true)
	[ "$n" = "$2" ] || fail "$1: 'unexpected eof' seen $n times, want $2"
	ok
done

# ---- SMTP: openssl s_client -starttls smtp per address, then the log --------------------------
SP=$MXD_SMTP_PORT
log_mark() { wc -c <"$S/smtp.log"; }
log_since() { tail -c +$(($1 + 1)) "$S/smtp.log"; }
# smtp ADDR NAME: s_client with SNI and host check NAME, QUIT after the handshake; output in $W/out
smtp() {
	printf 'QUIT\n' | timeout 10 openssl s_client -starttls smtp -connect "$1:$SP" -servername "$2" \
		-verify_hostname "$2" -CAfile "$MXD_CHECK_CA" -ign_eof -crlf >"$W/out" 2>&1 || true
}
verbs() {
	# the commands a connection's client sent, as "VERB VERB ..." (C = plain, C/tls = after TLS)
	log_since "$1" | awk '$5 == "C" || $5 == "C/tls" { printf "%s%s:%s", sep, $5, toupper($6); sep = " " }'
}
for spec in "127.0.1.1 mx1.good.test 0" "127.0.1.2 mx2.good.test 0" "127.0.1.1 mx.good.smtp.test 0" \
	"127.0.1.2 mx3.stsuncovered.test 0" "127.0.1.3 mx.expired.smtp.test 10" "127.0.1.4 mx.wrongname.smtp.test 62" \
	"127.0.1.5 mx.soon.smtp.test 0" "127.0.1.6 mx.otherca.smtp.test 19"; do
	# shellcheck disable=SC2086
	set -- $spec
	m=$(log_mark)
	smtp "$1" "$2"
	got=$(sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' "$W/out" | head -n1)
	[ "$got" = "$3" ] || fail "smtp $1 ($2): verify code $got, want $3"
	grep -q '^221 2.0.0 Bye' "$W/out" || fail "smtp $1: no 221 after QUIT"
	sleep 0.1
	[ "$(verbs "$m")" = "C:EHLO C:STARTTLS C/tls:QUIT" ] || fail "smtp $1: commands logged: $(verbs "$m")"
	log_since "$m" | grep -q "TLS ok: TLSv1.3 .* sni=$2 " || fail "smtp $1: no TLS ok with sni=$2 in the log"
	ok
done
# DANE, checked by OpenSSL's own TLSA matching with the records NSD serves.
for spec in "127.0.1.1 mx1.sec.test 0 matched EE certificate at depth 0" "127.0.1.2 mx2.sec.test 65 -" \
	"127.0.1.1 mx3.sec.test 0 matched TA certificate at depth 1"; do
	# shellcheck disable=SC2086
	set -- $spec
	tlsa=$(drill -p "$MXD_DNS_PORT" @127.0.0.1 "_25._tcp.$2" TLSA | awk '!/^;/ && $4 == "TLSA" { print $5, $6, $7, $8 }')
	[ -n "$tlsa" ] || fail "no TLSA for $2"
	printf 'QUIT\n' | timeout 10 openssl s_client -starttls smtp -connect "$1:$SP" -servername "$2" \
		-dane_tlsa_domain "$2" -dane_tlsa_rrdata "$tlsa" -ign_eof -crlf >"$W/out" 2>&1 || true
	got=$(sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' "$W/out" | head -n1)
	[ "$got" = "$3" ] || fail "DANE $2: verify code $got, want $3"
	name=$2
	shift 3
	[ "$*" = - ] || grep -q "^DANE TLSA .* $*\$" "$W/out" || fail "DANE $name: no '$*' in s_client's output"
	ok
done
# The soon certificate expires in 5 days and 3 to 6 hours.
smtp 127.0.1.5 mx.soon.smtp.test
openssl x509 -noout -checkend $((5 * 86400)) <"$W/out" >/dev/null || fail "soon: expires within 5 days"
! openssl x509 -noout -checkend $((5 * 86400 + 6 * 3600 + 60)) <"$W/out" >/dev/null || fail "soon: valid for too long"
ok
m=$(log_mark)
smtp 127.0.1.7 mx.nostarttls.smtp.test
grep -q "Didn't find STARTTLS" "$W/out" || fail "nostarttls: s_client found STARTTLS"
sleep 0.1
log_since "$m" | grep -q ' S 250 8BITMIME' || fail "nostarttls: no EHLO reply"
! log_since "$m" | grep -q 'S 250-STARTTLS' || fail "nostarttls: STARTTLS offered"
ok
m=$(log_mark)
smtp 127.0.1.8 mx.tlsreset.smtp.test
grep -qE 'errno=104|reset by peer' "$W/out" || fail "tlsreset: no reset seen by s_client"
sleep 0.1
log_since "$m" | grep -q '\* reset after [1-9][0-9]* bytes of the handshake' || fail "tlsreset: not in the log"
ok
m=$(log_mark)
"$PYTHON" - "$SP" >"$W/out" 2>&1 <<-'EOF' || fail "silent, garbage, busy, refused"
	import socket, sys, time
	port = int(sys.argv[1])
	# silent: accepts, says nothing
	s = socket.create_connection(("127.0.1.9", port), 3)
	s.settimeout(1.5)
	try:
	    got = s.recv(100)
	    raise SystemExit("silent sent %r" % got)
	except socket.timeout:
	    pass
	s.close()
	# garbage: "220 " and megabytes without a line end
	s = socket.create_connection(("127.0.1.10", port), 3)
	s.settimeout(5)
	data = b""
	while len(data) < 2 * 1024 * 1024:
	    chunk = s.recv(1 << 16)
	    assert chunk, "garbage closed after %d bytes" % len(data)
	    data += chunk
	assert data.startswith(b"220 xxxx") and b"\n" not in data, data[:40]
	s.close()
	# busy: 421 greeting, 221 to QUIT
	s = socket.create_connection(("127.0.1.11", port), 3)
	s.settimeout(3)
	f = s.makefile("rb")
	line = f.readline()
	assert line.startswith(b"421 4.3.2 "), line
	s.sendall(b"QUIT\r\n")
	assert f.readline().startswith(b"221 "), "no 221"
	s.close()
	# refused: nothing listens on 127.0.1.99
	try:
	    socket.create_connection(("127.0.1.99", port), 3).close()
	    raise SystemExit("127.0.1.99 accepted a connection")
	except ConnectionRefusedError:
	    pass
EOF
sleep 0.3
log_since "$m" >"$W/out"
grep -q '127.0.1.9 silent #[0-9]* \* closed by client (0 bytes received)' "$W/out" || fail "silent: log"
grep -qE '127.0.1.10 garbage #[0-9]* \* stopped after [0-9]+ bytes' "$W/out" || fail "garbage: log"
grep -q '127.0.1.11 busy #[0-9]* C QUIT' "$W/out" || fail "busy: log"
ok

lap "before: DNS timeouts"
# ---- DNS timeouts: nsd.sh pause ---------------------------------------------------------------
dns_answers() {
	"$PYTHON" - "$MXD_DNS_PORT" <<-'EOF'
		import socket, struct, sys
		q = struct.pack(">HHHHHH", 0x4d58, 0x0100, 1, 0, 0, 0) + b"\x04good\x04test\x00" + struct.pack(">HH", 6, 1)
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.settimeout(1.0)
		s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
		try:
		    r = s.recv(512)
		except socket.timeout:
		    sys.exit(1)
		sys.exit(0 if r[:2] == q[:2] else 2)
	EOF
}
dns_answers || fail "DNS does not answer before pause"
"$NSDSH" pause "$MXD_DNS_DIR" >"$W/out" 2>&1 || fail "nsd.sh pause"
rcp=0
dns_answers || rcp=$?
[ $rcp = 1 ] || fail "DNS answered while paused (rc $rcp)"
"$NSDSH" resume "$MXD_DNS_DIR" >"$W/out" 2>&1 || fail "nsd.sh resume"
dns_answers || fail "DNS does not answer after resume"
ok

lap "before: restart:"
# ---- restart: same keys, anchor, TLSA and ports; stop leaves nothing -----------------------------
instance_pids() {
	# PIDs whose command line mentions the instance directory (our servers, NSD), zombies left out.
	# The grep matches itself too; it is gone (no /proc/PID/stat) by the time the loop looks.
	local f p
	# shellcheck disable=SC2013 # /proc paths have no white space
	for f in $(grep -lsF "$S/" /proc/[0-9]*/cmdline); do
		p=${f#/proc/}
		p=${p%/cmdline}
		case $p in "$$" | "$BASHPID") continue ;; esac
		case $(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) in Z* | X* | "") ;; *) printf '%s ' "$p" ;; esac
	done
}
cp "$MXD_CHECK_ANCHOR" "$W/anchor.1"
cp "$S/gen/zones/sec.test.zone" "$W/sec.1"
ports1="$MXD_DNS_PORT $MXD_HTTPS_PORT $MXD_SMTP_PORT"
[ -n "$(instance_pids)" ] || fail "no instance processes found while running"
"$SRV" stop "$S" >"$W/out" 2>&1 || fail "servers.sh stop"
[ ! -s "$W/out" ] || fail "servers.sh stop printed something"
[ -z "$(instance_pids)" ] || fail "processes left after stop: $(instance_pids)"
[ ! -e "$S/env.sh" ] || fail "env.sh left after stop"
"$SRV" status "$S" && fail "status says running after stop"
"$SRV" stop "$S" >"$W/out" 2>&1 || fail "a second stop failed"
ok
t0=$(now_ms)
"$SRV" start "$S" >"$W/out" 2>&1 || fail "servers.sh start (restart)"
START2=$(($(now_ms) - t0))
# shellcheck disable=SC1091
. "$S/env.sh"
cmp -s "$W/anchor.1" "$MXD_CHECK_ANCHOR" || fail "the trust anchor changed on restart"
cmp -s "$W/sec.1" "$S/gen/zones/sec.test.zone" || fail "sec.test (TLSA) changed on restart"
[ "$ports1" = "$MXD_DNS_PORT $MXD_HTTPS_PORT $MXD_SMTP_PORT" ] || fail "ports changed on restart: $ports1 -> $MXD_DNS_PORT $MXD_HTTPS_PORT $MXD_SMTP_PORT"
chase "$W/sec.anchor" _smtp._tls.sec.test TXT || fail "sec.test does not validate after restart"
smtp 127.0.1.1 mx1.good.test
grep -q '^ *Verify return code: 0 ' "$W/out" || fail "smtp after restart"
ok
"$SRV" cleanup "$S" >"$W/out" 2>&1 || fail "servers.sh cleanup"
[ ! -e "$S" ] || fail "cleanup left $S"
[ -z "$(instance_pids)" ] || fail "processes left after cleanup: $(instance_pids)"
"$SRV" cleanup "$S" || fail "a second cleanup failed"
ok

lap end
printf 'selftest: OK, %d checks in %d ms (start %d ms, restart %d ms; %s)\n' "$CHECKS" \
	$(($(now_ms) - START_MS)) "$START1" "$START2" "$UB"
