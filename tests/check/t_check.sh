#!/usr/bin/env bash
# mxdigest check end to end, against real servers on loopback
# (tests/check/servers.sh: NSD with a DNSSEC-signed and a bogus zone, an
# HTTPS server for policies and endpoints, an SMTP server with STARTTLS and
# good, expired, wrong-name and misbehaving hosts).  Each scenario domain's
# finding codes are asserted; then DNS timeouts, the reconciliation with
# imported reports, runs stored and compared (new, resolved, since), the
# digest's Configuration section in text and JSON, and report --check.
# Skipped (77) without nsd/ldnsutils, unless MXDIGEST_REQUIRE_NSD=1.
. "$SRCDIR/tests/cli/lib.sh"
set +e

PY=/usr/bin/python3
missing=""
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || missing="$missing nsd"
command -v ldns-signzone >/dev/null 2>&1 || missing="$missing ldnsutils"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
if [ -n "$missing" ]; then
	if [ "${MXDIGEST_REQUIRE_NSD:-0}" = 1 ]; then
		echo "FAIL: missing Debian packages:$missing (MXDIGEST_REQUIRE_NSD=1)" >&2
		exit 1
	fi
	echo "SKIP: missing Debian packages:$missing"
	exit 77
fi

SRV="$TMP/srv"
chmod 755 "$TMP"	# NSD drops privileges and must enter its directory
trap '"$SRCDIR/tests/check/servers.sh" cleanup "$SRV" >/dev/null 2>&1; rm -rf "$TMP"' EXIT
"$SRCDIR/tests/check/servers.sh" start "$SRV" || { fail "servers.sh start"; finish; }
. "$SRV/env.sh"
CONF="$TMP/mxdigest.conf"
cp "$MXD_CHECK_CONF" "$CONF"
echo "check_timeout = 3" >>"$CONF"
chmod 600 "$CONF"
DB="$TMP/check.db"

chk() {	# args... -> $rc $out $err; JSON in $TMP/out.json
	mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" check --format json "$@"
	printf '%s' "$out" >"$TMP/out.json"
}

# "code level" pairs of one domain's findings in the last JSON output
codes() {	# domain
	"$PY" - "$TMP/out.json" "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for x in d["domains"]:
    if x["domain"] == sys.argv[2]:
        for f in x["findings"]:
            print(f["code"], f["level"], f["change"] or "-", f["dnssec"] or "-")
EOF
}

has() {	# domain code level description
	case " $(codes "$1" | awk '{print $1 "/" $2}' | tr '\n' ' ') " in
	*" $2/$3 "*) ;;
	*) fail "$4: $1 has no $2 ($3): [$(codes "$1" | tr '\n' ';')]" ;;
	esac
}

hasnt() {	# domain code description
	case " $(codes "$1" | awk '{print $1}' | tr '\n' ' ') " in
	*" $2 "*) fail "$3: $1 has $2" ;;
	esac
}

mxd_run() {
	out=$("$@" 2>"$TMP/err"); rc=$?
	err=$(cat "$TMP/err")
}

# ---- the records and the policy, no SMTP -------------------------------
chk -n good.test norecord.test two.test notfirst.test norua.test emptyrua.test \
	badscheme.test comma.test split.test nomx.test aonly.test nullmx.test \
	httpsbad.test sts404.test stsredirect.test stsbig.test stsbig2.test \
	stsctype.test stsexpired.test ststesting.test stsuncovered.test \
	stsnotxt.test stscrlf.test sec.test bogus.test insecure.test
expect_rc 2 "check of the scenario domains: errors found"
expect_in "$(head -c 40 "$TMP/out.json")" '{"schema_version":1,' "JSON output"

has good.test tlsrpt.ok ok "good records"
has good.test rua.mailto-ok ok "a mailto: domain with MX"
has good.test rua.https-ok ok "an https: endpoint with a verified certificate"
has good.test sts.txt-ok ok "the MTA-STS record"
has good.test sts.policy-ok ok "an enforce policy"
has good.test mx.ok ok "the MX records"
for c in tlsrpt.missing tlsrpt.multiple sts.mx-uncovered dnssec.bogus; do
	hasnt good.test "$c" "good records"
done
expect_eq "$(codes good.test | awk '$2 != "ok" && $1 != "recon.no-reports"' | wc -l)" 0 \
	"good.test: no error or warning but the missing reports"
expect_eq "$(codes good.test | awk '$1 == "tlsrpt.ok" {print $4}')" insecure \
	"an unsigned zone under a validating resolver: insecure"

has norecord.test tlsrpt.missing error "no record"
has two.test tlsrpt.multiple error "two records"
has notfirst.test tlsrpt.missing error "v= not first: not a record"
has notfirst.test tlsrpt.ignored warning "v= not first: said why"
has norua.test tlsrpt.rua-missing error "rua missing"
has emptyrua.test tlsrpt.rua-empty error "rua empty"
has badscheme.test tlsrpt.rua-scheme error "bad scheme"
has comma.test tlsrpt.rua-uri error "unencoded comma"
hasnt comma.test tlsrpt.ok "unencoded comma: no usable address"
has split.test tlsrpt.ok ok "a record in two character-strings, joined"
has nomx.test rua.mailto-no-mx error "mailto domain with neither MX nor address"
has aonly.test rua.mailto-ok ok "mailto domain with an address only (RFC 5321 fallback)"
has nullmx.test rua.mailto-null-mx error "mailto domain with a null MX"
has httpsbad.test rua.https-tls error "https endpoint with a certificate of another CA"
has sts404.test sts.policy-status error "policy 404"
has stsredirect.test sts.policy-redirect error "policy redirect (not followed)"
has stsbig.test sts.policy-too-large error "policy too large, size not announced"
has stsbig2.test sts.policy-too-large error "policy too large, size announced"
has stsctype.test sts.policy-content-type error "policy as text/html"
has stsexpired.test sts.policy-tls error "policy host with an expired certificate"
has ststesting.test sts.policy-testing warning "mode testing"
has stsuncovered.test sts.mx-uncovered error "an MX the policy does not cover"
expect_eq "$(codes stsuncovered.test | grep -c sts.mx-uncovered)" 1 "only the uncovered MX"
has stsnotxt.test sts.txt-missing warning "a policy without its TXT record"
has stscrlf.test sts.policy-ok ok "a policy with CRLF line ends"
has sec.test tlsrpt.ok ok "the signed zone"
expect_eq "$(codes sec.test | awk '$1 == "tlsrpt.ok" {print $4}')" secure \
	"the signed zone validates"
has sec.test dane.published ok "signed TLSA, not matched without --smtp"
has bogus.test dnssec.bogus error "bogus DNSSEC"
hasnt bogus.test tlsrpt.ok "bogus data is no data"
hasnt insecure.test dane.published "TLSA in an unsigned zone"
has insecure.test dane.insecure warning "TLSA in an unsigned zone: ignored, said so"
# nothing was stored with -n
expect_eq "$(sqlite3 "$DB" 'SELECT count(*) FROM checks' 2>/dev/null || echo 0)" 0 "-n stores nothing"

# ---- SMTP ---------------------------------------------------------------
: >"$MXD_CHECK_SMTP_LOG.mark"
chk -n --smtp sec.test expired.smtp.test wrongname.smtp.test soon.smtp.test \
	otherca.smtp.test nostarttls.smtp.test tlsreset.smtp.test busy.smtp.test \
	refused.smtp.test noaddr.smtp.test good.smtp.test
has sec.test dane.ok ok "TLSA matching (DANE-EE and DANE-TA)"
has sec.test dane.mismatch error "TLSA not matching"
has good.smtp.test smtp.ok ok "a good MX"
has expired.smtp.test smtp.cert-expired error "an expired certificate"
has wrongname.smtp.test smtp.cert-name error "a certificate for another name"
has soon.smtp.test smtp.cert-expiring warning "a certificate that expires in days"
has otherca.smtp.test smtp.cert-untrusted error "a certificate of an unknown CA"
has nostarttls.smtp.test smtp.no-starttls error "no STARTTLS"
has tlsreset.smtp.test smtp.tls error "a reset in the handshake"
has busy.smtp.test smtp.greeting error "a 421 greeting"
has refused.smtp.test smtp.connect error "connection refused"
has noaddr.smtp.test smtp.dns error "an MX without an address"
# what the SMTP server heard: EHLO, STARTTLS, QUIT and nothing else
heard=$(awk '$5 == "C" {print $6}' "$MXD_CHECK_SMTP_LOG" | sort -u | tr '\n' ' ')
expect_eq "$heard" "EHLO QUIT STARTTLS " "only EHLO, STARTTLS and QUIT were sent"

# a silent server and an endless line end within the timeouts, without spinning
/usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$MXDIGEST" --config "$CONF" --db "$DB" \
	check -n --smtp --format json silent.smtp.test garbage.smtp.test >"$TMP/out.json" 2>/dev/null
read -r wall user sys rss < <(tail -n 1 "$TMP/time")
has silent.smtp.test smtp.greeting error "a silent server: no greeting"
has garbage.smtp.test smtp.greeting error "an endless line"
expect_eq "$(awk -v w="$wall" 'BEGIN {print (w < 20)}')" 1 "silent and endless: over in bounded time ($wall s)"
expect_eq "$(awk -v w="$wall" -v u="$user" -v s="$sys" 'BEGIN {print (u + s < w / 2)}')" 1 \
	"silent and endless: no spinning ($user + $sys s CPU in $wall s)"
expect_eq "$(( rss < 60000 ))" 1 "endless line: bounded memory (${rss} KB)"

# a policy server that stalls: a timeout, said so, the next domain goes on
chk -n stsslow.test good.test
has stsslow.test sts.policy-timeout error "a stalled policy fetch"
has good.test tlsrpt.ok ok "the domain after the stalled one"

# ---- DNS trouble -----------------------------------------------------------
# a name the server does not serve: it refuses, the resolver says SERVFAIL
chk -n unserved.example
has unserved.example tlsrpt.unchecked error "SERVFAIL: not checked, said so"
expect_rc 75 "only lookups that did not complete: exit 75"
# a server that does not answer at all: every lookup times out, bounded
"$SRCDIR/tests/dns/nsd.sh" pause "$MXD_DNS_DIR"
start=$(date +%s)
chk -n good.test two.test
"$SRCDIR/tests/dns/nsd.sh" resume "$MXD_DNS_DIR"
expect_rc 75 "DNS timeouts: exit 75"
has good.test tlsrpt.unchecked error "a timeout: said so"
has two.test tlsrpt.unchecked error "the other domain went on"
expect_eq "$(( $(date +%s) - start < 40 ))" 1 "DNS timeouts end in bounded time"
expect_eq "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["domains"][0]["complete"])' "$TMP/out.json")" \
	False "an incomplete run says so"

# ---- the reconciliation with the store -------------------------------------
# reports of two days ago: stale.test names an MX it no longer has;
# expired.smtp.test failed certificate-expired; good.test carries another
# policy; sts404.test's senders could not fetch the policy
"$PY" - "$TMP/reports" <<'EOF'
import json, os, sys, datetime
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
day = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0,
    microsecond=0) - datetime.timedelta(days=2)
def report(name, domain, strings, mx, details):
    r = {"organization-name": "Reporter " + name, "contact-info": "tlsrpt@reporter.test",
         "report-id": "check-" + name,
         "date-range": {"start-datetime": day.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "end-datetime": (day + datetime.timedelta(seconds=86399)).strftime("%Y-%m-%dT%H:%M:%SZ")},
         "policies": [{"policy": {"policy-type": "sts", "policy-string": strings,
                                  "policy-domain": domain, "mx-host": mx},
                       "summary": {"total-successful-session-count": 100,
                                   "total-failure-session-count": sum(d["failed-session-count"] for d in details)},
                       "failure-details": details}]}
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(r, f)
report("stale", "stale.test", ["version: STSv1", "mode: enforce", "mx: old-mx.stale.test", "max_age: 86400"],
       ["old-mx.stale.test"],
       [{"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.1",
         "receiving-mx-hostname": "old-mx.stale.test", "failed-session-count": 7}])
report("expired", "expired.smtp.test", ["version: STSv1", "mode: enforce", "mx: mx.expired.smtp.test", "max_age: 86400"],
       ["mx.expired.smtp.test"],
       [{"result-type": "certificate-expired", "sending-mta-ip": "192.0.2.2",
         "receiving-mx-hostname": "mx.expired.smtp.test", "failed-session-count": 42}])
report("good", "good.test", ["version: STSv1", "mode: testing", "mx: mx1.good.test", "max_age: 86400"],
       ["mx1.good.test"], [])
report("sts404", "sts404.test", ["version: STSv1", "mode: enforce", "mx: mx1.sts404.test", "max_age: 86400"],
       ["mx1.sts404.test"],
       [{"result-type": "sts-policy-fetch-error", "sending-mta-ip": "192.0.2.3",
         "failed-session-count": 3}])
EOF
mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" import --dkim=off "$TMP/reports"
expect_rc 0 "import of the reports"
chk --smtp stale.test expired.smtp.test good.test sts404.test
has stale.test recon.mx-unknown warning "a reported MX that DNS no longer has"
expect_in "$(codes stale.test)" "recon.mx-unknown" "stale"
expect_in "$(cat "$TMP/out.json")" "old-mx.stale.test" "the old MX named"
has expired.smtp.test recon.cert-expired error "certificate-expired explained by the expired certificate"
has good.test recon.policy-changed warning "a policy string that differs from the policy served"
hasnt good.test recon.no-reports "good.test has a report now"
has sts404.test recon.policy-fetch error "sts-policy-fetch-error while the fetch fails now"
expect_eq "$(sqlite3 "$DB" 'SELECT count(*) FROM checks')" 4 "four runs stored"
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM check_data WHERE kind = 'sts-policy'")" 1 \
	"the policy fetched is stored (good.test's; sts404.test's answer was a 404)"

# ---- runs compared: new, resolved, since -----------------------------------
chk comma.test
expect_eq "$(codes comma.test | awk '$1 == "tlsrpt.rua-uri" {print $3}')" - \
	"first run: nothing to compare with"
sed -i 's|"v=TLSRPTv1; rua=mailto:a,b@comma.test"|"v=TLSRPTv1; rua=mailto:tlsrpt@good.test"|' \
	"$MXD_CHECK_DIR/gen/zones/comma.test.zone"
"$SRCDIR/tests/dns/nsd.sh" reload "$MXD_DNS_DIR" || fail "nsd reload"
chk comma.test
expect_eq "$(codes comma.test | awk '$1 == "tlsrpt.rua-uri" {print $3}')" resolved \
	"the fixed record: the error is resolved"
expect_eq "$(codes comma.test | awk '$1 == "tlsrpt.ok" {print $3}')" new "the record is new"
expect_eq "$(codes comma.test | awk '$1 == "sts.none" {print $3}')" same "an unchanged finding"

# ---- hostile answers: control bytes in a record never reach the output ----
sed -i 's|^_smtp._tls.*|_smtp._tls	TXT	"v=TLSRPTv1; rua=mailto:\\027[2J\\027]0;owned\\007x@good.test,https://\\027[31m.test/"|' \
	"$MXD_CHECK_DIR/gen/zones/norua.test.zone"
"$SRCDIR/tests/dns/nsd.sh" reload "$MXD_DNS_DIR" || fail "nsd reload"
mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" check -n --color always norua.test
expect_in "$out" "tlsrpt.rua-uri" "a record with escape sequences: judged"
# colour is on, so ESC appears: only as the SGR sequences mxdigest writes
if printf '%s' "$out" | LC_ALL=C grep -q "$(printf '\033')\[2J\|$(printf '\033')\]0;\|$(printf '\007')"; then
	fail "an escape sequence from DNS reached the terminal"
fi
mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" check -n --format json norua.test
if printf '%s' "$out" | LC_ALL=C grep -q "$(printf '[\001-\010\013\014\016-\037\177]')"; then
	fail "a control byte from DNS in the JSON output"
fi

# ---- the digest's Configuration section -------------------------------------
mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" report --since 7d --top 0
expect_in "$out" "Configuration" "text digest: the Configuration section"
expect_in "$out" "recon.mx-unknown" "text digest: a finding's code"
expect_in "$out" "stale.test recon.mx-unknown: reports of the last" "text digest: the finding in words"
expect_in "$(printf '%s\n' "$out" | grep -A4 '^  Configuration ' | tr -s ' \n' '  ')" \
	"5 domains checked: " "text digest: the summary line"
mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" report --since 7d --format html
expect_in "$out" "errors in expired.smtp.test, sts404.test" \
	"HTML digest: the summary line names the domains with errors"
expect_in "$out" "Configuration (mxdigest check): what to fix" "HTML digest: the table"
mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" report --since 7d --format json
printf '%s' "$out" >"$TMP/digest.json"
expect_eq "$("$PY" - "$TMP/digest.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["configuration"]
print(sorted({x["domain"] for x in c}),
      [x["level"] for x in c if x["domain"] == "expired.smtp.test" and x["code"] == "smtp.cert-expired"],
      [x["change"] for x in c if x["domain"] == "comma.test" and x["code"] == "tlsrpt.rua-uri"])
EOF
)" "['comma.test', 'expired.smtp.test', 'good.test', 'stale.test', 'sts404.test'] ['error'] ['resolved']" \
	"JSON digest: the configuration of every checked domain"
mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" report --since 7d --format csv --by config
expect_in "$out" "domain,checked,level,code,subject,text,dnssec,since,change" "CSV --by config"
expect_in "$out" "comma.test," "CSV --by config: a domain's rows"
expect_in "$(mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" report --since 7d; printf '%s' "$out")" \
	"resolved: comma.test tlsrpt.rua-uri" "text digest: the resolved finding"

# a third run of comma.test: nothing changed, findings stand since the first
mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" check comma.test
expect_rc 0 "warnings only: exit 0"
expect_in "$out" "comma.test: 2 warnings" "text: the domain's headline"
expect_in "$out" "since 20" "text: since when a finding stands"
expect_not_in "$out" "resolved" "text: resolved once, not again"

# report --check: the weekly job checks first; exit 2 for an error
mxd_run "$MXDIGEST" --config "$CONF" --db "$DB" report --since 7d --check --domain sts404.test
expect_rc 2 "report --check with an error found"
expect_in "$out" "sts.policy-status" "report --check: the fresh check in the digest"
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM checks WHERE domain = 'sts404.test'")" 2 \
	"report --check stores its run"

# domains from the configuration
cp "$CONF" "$CONF.dom"
printf '[domain Good.Test.]\n[domain two.test]\n' >>"$CONF.dom"
mxd_run "$MXDIGEST" --config "$CONF.dom" --db "$DB" check -n
expect_in "$out" "good.test:" "[domain] sections: the first"
expect_in "$out" "two.test:" "[domain] sections: the second"
expect_not_in "$out" "stale.test" "[domain] sections, not the store's domains"

# no control byte from any server reached the output
if LC_ALL=C grep -q "$(printf '[\001-\010\013\014\016-\037\177]')" "$TMP/out.json" "$TMP/digest.json"; then
	fail "a control byte in the output"
fi

finish
