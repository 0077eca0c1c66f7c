#!/bin/sh
# The command line: help, version, usage errors (one line, exit 64),
# configuration errors (exit 78), windows and --since with a pinned clock.
. "$(dirname "$0")/lib.sh"
sqlite_only "where the SQLite file of --db, database = and XDG_DATA_HOME goes"

mxd --help
expect_rc 0 "--help"
expect_in "$out" "usage: mxdigest" "--help on stdout"
expect_eq "$err" "" "--help writes nothing to stderr"
mxd --version
expect_rc 0 "--version"
expect_in "$out" "mxdigest " "--version"
for c in import report quarantine; do
	mxd "$c" --help
	expect_rc 0 "$c --help"
	expect_in "$out" "usage: mxdigest $c" "$c --help on stdout"
done

mxd
expect_rc 64 "no command"
expect_eq "$(lines "$err")" 1 "no command: one line"
mxd frobnicate
expect_rc 64 "unknown command"
expect_in "$err" 'unknown command "frobnicate"' "unknown command named"
mxd --bogus report
expect_rc 64 "unknown global option"
mxd report --format yaml
expect_rc 64 "unknown format"
expect_eq "$(lines "$err")" 1 "usage error: one line"
expect_in "$err" 'unknown format "yaml"' "format named"
mxd report --since 7y
expect_rc 64 "bad --since"
mxd report --since 7d --from 2026-11-01
expect_rc 64 "--since with --from"
mxd report --from 2026-11-10 --to 2026-11-01
expect_rc 64 "empty window"
mxd report --from 2026-13-01
expect_rc 64 "bad date"
mxd import
expect_rc 64 "import without input"

# a report before any import: a clear error, not a crash
mxd report
expect_rc 74 "report without a database"
expect_in "$err" "no database here" "missing database explained"

# configuration: the database from the file; errors name file and line
printf 'database = %s/cfg.db\n' "$TMP" > "$TMP/config"
"$MXDIGEST" --config "$TMP/config" import "$SAMPLES/rfc8460" >/dev/null 2>&1
[ -f "$TMP/cfg.db" ] || fail "database key of the config file not used"
printf 'database = x\nbogus = 1\n' > "$TMP/bad"
set +e
"$MXDIGEST" --config "$TMP/bad" report 2>"$TMP/err" >/dev/null
rc=$?
set -e
expect_rc 78 "unknown config key"
expect_in "$(cat "$TMP/err")" "line 2: unknown key \"bogus\"" "config error names the line"
set +e
"$MXDIGEST" --config "$TMP/missing" report 2>/dev/null >/dev/null
rc=$?
set -e
expect_rc 78 "missing --config file"

# --since with a pinned clock: the 7 whole days before today
mxd import "$SAMPLES"
for now in 2026-11-23T00:00:00Z 2026-11-23T13:37:00Z 2026-11-23T23:59:59Z; do
	MXDIGEST_NOW=$now mxd report --since 7d --format json
	expect_eq "$(json 'd["window"]["from"], d["window"]["to"]')" \
		"2026-11-16T00:00:00Z 2026-11-23T00:00:00Z" "--since 7d at $now"
	expect_eq "$(json 'd["totals"]["reports"]')" 25 "week 2 reports at $now"
done
MXDIGEST_NOW=2026-11-23T08:00:00Z mxd report --since 2w --format json
expect_eq "$(json 'd["totals"]["reports"]')" 45 "--since 2w"
MXDIGEST_NOW=2026-11-17T08:30:00Z mxd report --since 12h --format json
expect_eq "$(json 'd["window"]["from"], d["window"]["to"]')" \
	"2026-11-16T20:00:00Z 2026-11-17T08:00:00Z" "--since 12h"
# --to alone: the 7 days before it
mxd report --to 2026-11-16 --format json
expect_eq "$(json 'd["totals"]["reports"]')" 20 "--to alone: week 1"
# filters
mxd report --from 2026-11-16 --to 2026-11-23 --domain shop.example.net --format json
expect_eq "$(json 'd["totals"]["failed_sessions"], len(d["by_policy_domain"])')" "0 1" "--domain"
mxd report --from 2026-11-16 --to 2026-11-23 --mx mx3.example.org --format json
expect_eq "$(json 'd["by_mx_host"][0]["mx_host"], d["by_mx_host"][0]["failed_sessions"]')" "mx3.example.org 17" "--mx"
mxd report --from 2026-11-16 --to 2026-11-23 --org "Mail.ru" --format json
expect_eq "$(json 'd["totals"]["organizations"], d["totals"]["reports"]')" "1 2" "--org"
# -o writes a file atomically
mxd report --from 2026-11-16 --to 2026-11-23 -o "$TMP/digest.txt"
expect_rc 0 "-o"
expect_in "$(cat "$TMP/digest.txt")" "TLS-RPT digest" "-o file written"
(umask 027; "$MXDIGEST" --db "$DB" report --from 2026-11-16 --to 2026-11-23 -o "$TMP/digest2.txt")
expect_eq "$(stat -c %a "$TMP/digest2.txt")" 640 "-o file gets the mode the umask gives, not mkstemp's 0600"
mxd report -o "$TMP/no/such/dir/x.txt" --from 2026-11-16
expect_rc 74 "-o into a missing directory"
# --top limits rows; NO_COLOR and a pipe mean no escapes
mxd report --from 2026-11-16 --to 2026-11-23 --top 1
expect_in "$out" "... and 6 more (use --top 0 to see all)" "--top 1"
if printf '%s' "$out" | grep -q "$(printf '\033')"; then fail "colour in a pipe"; fi

# Global options after the command name, as users type them; a command's
# own option values are never taken for global options.
rm -f "$TMP/g.db"
# run ARGS...: mxdigest without the test's --db; sets $rc
run() {
	set +e
	"$MXDIGEST" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	set -e
}
run import --db "$TMP/g.db" "$SAMPLES/google"
expect_rc 0 "import --db after the command"
[ -f "$TMP/g.db" ] || fail "import --db: the database is not where --db said"
run report --db "$TMP/g.db" --from 2026-11-01 --to 2026-12-01 -q \
	--format json
expect_rc 0 "report --db ... -q after the command"
expect_in "$(cat "$TMP/out")" '"schema_version"' "report with --db after the command"
run report --from 2026-11-01 --to 2026-12-01 --db="$TMP/g.db" \
	--format email --mail-to ops@example.org --subject -v
expect_rc 0 "a --subject of -v stays the subject"
expect_in "$(cat "$TMP/out")" "Subject: -v" "the subject"
printf 'max_message_size = 1k\n' >"$TMP/small.conf"
run import -n --config "$TMP/small.conf" "$SAMPLES/google"
expect_rc 65 "--config after the command is read (1k messages are too large)"
expect_in "$(cat "$TMP/err")" "exceeds the 1024-byte cap" "the small cap applies"
run report --help --db /nonexistent/x.db
expect_rc 0 "report --help needs no database"
expect_in "$(cat "$TMP/out")" "usage: mxdigest report" "report --help"
run --db /nonexistent/dir/x.db report --bogus
expect_rc 64 "a usage error before the store is opened"
expect_in "$(cat "$TMP/err")" 'unknown option "--bogus"' "said as a usage error"
finish
