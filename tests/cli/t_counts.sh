#!/bin/sh
# Counts near 2^53 (the largest a report may hold): sums saturate instead
# of wrapping, the alert fires, and the text digest does not break its
# table layout.  (The table code once computed a column width below zero
# here and tried to pad a cell to 2^64 columns.)
. "$(dirname "$0")/lib.sh"

IN="$TMP/in"
mkdir -p "$IN"
/usr/bin/python3 - "$IN" <<'PY'
import json, sys
names = ["Big Sender One Incorporated Worldwide Holdings",
         "Another Rather Long Organization Name GmbH",
         "A Third Sender With A Long Name Limited"]
dom = "a-very-long-policy-domain-name-for-testing.example.org"
for i, org in enumerate(names):
    d = {"organization-name": org,
         "date-range": {"start-datetime": "2026-11-10T00:00:00Z",
                        "end-datetime": "2026-11-10T23:59:59Z"},
         "report-id": "big-%d" % i,
         "policies": [{"policy": {"policy-type": "sts", "policy-domain": dom},
                       "summary": {"total-successful-session-count": 0,
                                   "total-failure-session-count": 2 ** 53},
                       "failure-details": [{
                           "result-type": "certificate-host-mismatch",
                           "sending-mta-ip": "2001:db8:ffff:ffff:ffff:ffff:ffff:%d" % i,
                           "receiving-mx-hostname": "mx-with-a-really-long-host-name-%d.%s" % (i, dom),
                           "failed-session-count": 2 ** 53}]}]}
    open("%s/big%d.json" % (sys.argv[1], i), "w").write(json.dumps(d))
PY
mxd import "$IN"
expect_rc 0 "three reports of 2^53 failures each are each valid"
expect_in "$out" "3 new reports" "imported"

# three times 2^53 does not fit: the sums stop one past 2^53
mxd report --from 2026-11-10 --to 2026-11-11 --format json
expect_rc 0 "json digest"
expect_eq "$(json 'd["totals"]["failed_sessions"]')" 9007199254740993 "failures saturate, not wrap"
mxd report --from 2026-11-10 --to 2026-11-11 --min-failures 1
expect_rc 1 "the alert still fires"
set +e
${MXD_WRAPPER:-} timeout -k 5 60 "$MXDIGEST" --db "$DB" report --from 2026-11-10 \
	--to 2026-11-11 >"$TMP/text" 2>"$TMP/err"
rc=$?
set -e
expect_rc 0 "text digest of saturated counts"
size=$(wc -c <"$TMP/text")
[ "$size" -lt 20000 ] || fail "text digest of $size bytes"
longest=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$TMP/text")
[ "$longest" -le 120 ] || fail "a line of $longest columns"
expect_in "$(cat "$TMP/text")" "9,007,199,254,740,993" "saturated count shown"
finish
