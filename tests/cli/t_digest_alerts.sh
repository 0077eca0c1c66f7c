#!/bin/sh
# Alert thresholds for cron: --fail-rate, --min-failures and --alert-on set
# exit status 1 when crossed (the digest is still printed and names the
# alert); --quiet-if-clean prints and writes nothing when nothing is
# crossed; usage errors for options that do not go together.
. "$(dirname "$0")/lib.sh"

mxd import "$SAMPLES"
W2="--from 2026-11-16 --to 2026-11-23"

# shellcheck disable=SC2086
{
mxd report $W2 --fail-rate 5
expect_rc 1 "14.0% is above --fail-rate 5"
expect_in "$out" "  Alert         failure rate 14.0% is above 5%" "the alert is named"
mxd report $W2 --fail-rate 14.5%
expect_rc 0 "14.0% is not above 14.5%"
expect_not_in "$out" "Alert" "no alert line"
mxd report $W2 --min-failures 3942
expect_rc 1 "3,942 failures reach --min-failures 3942"
expect_in "$out" "3,942 failed sessions (alert at 3,942)" "min-failures named"
mxd report $W2 --min-failures 3943
expect_rc 0 "3,942 failures stay below 3943"
mxd report $W2 --alert-on new
expect_rc 1 "week 2 has new failures"
mxd report --from 2026-11-09 --to 2026-11-16 --alert-on new
expect_rc 0 "week 1 has no history: nothing is new"
mxd report --from 2026-11-23 --to 2026-11-30 --alert-on silent
expect_rc 1 "week 3: everybody went silent"
mxd report $W2 --alert-on new,silent --format json
expect_rc 1 "JSON with an alert"
expect_eq "$(json 'd["alerts"]')" \
	"['new failures: 3 MX host and result type pairs, 3 organizations']" "alerts in JSON"

# --quiet-if-clean: nothing when clean, everything when not
mxd report $W2 --fail-rate 20 --quiet-if-clean
expect_rc 0 "clean"
expect_eq "$out" "" "quiet when clean"
mxd report $W2 --fail-rate 20 --quiet-if-clean -o "$TMP/clean.txt"
[ ! -e "$TMP/clean.txt" ] || fail "--quiet-if-clean wrote a file"
mxd report $W2 --fail-rate 5 --quiet-if-clean
expect_rc 1 "not clean"
expect_in "$out" "TLS-RPT digest" "the digest when a threshold is crossed"
mxd report $W2 --min-failures 1 --quiet-if-clean --format email --mail-to ops@example.org
expect_rc 1 "a mail when not clean"
expect_in "$out" "Subject: [ALERT] TLS-RPT digest 2026-11-16 to 2026-11-22" "alert in the subject"
mxd report $W2 --min-failures 5000 --quiet-if-clean --format email --mail-to ops@example.org
expect_eq "$out" "" "no mail when clean"

# usage errors: one line, exit 64
for args in "--quiet-if-clean" "--fail-rate abc" "--fail-rate 150" "--fail-rate -1" \
	    "--alert-on everything" "--min-failures 0" "--min-failures x" "--by mx" \
	    "--format csv --by nothing" "--mail-to a@example.org" "--subject hi" \
	    "--format email" "--format xlsx" "--to 2026-11-23 --until 2026-11-23" \
	    "--since 7d --to 2026-11-23" "--until yesterday"; do
	mxd report $W2 $args
	expect_rc 64 "report $args"
	expect_eq "$(lines "$err")" 1 "report $args: one line"
done
}
mxd report $W2 --format email --mail-to "$(printf 'a@example.org\nBcc: victim@example.org')"
expect_rc 64 "a newline in --mail-to"
mxd report $W2 --format email --mail-to ops@example.org --subject "$(printf 'hi\nBcc: x@example.org')"
expect_rc 64 "a newline in --subject"

finish
