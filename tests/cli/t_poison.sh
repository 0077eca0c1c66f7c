#!/bin/sh
# Poison messages (tests/fixtures/make-poison.py): each one, imported alone,
# gives the documented exit status and one error line, stays in quarantine
# with its raw bytes, and takes bounded memory and time.  No control byte
# reaches stderr or the quarantine listing.
. "$(dirname "$0")/lib.sh"

P="$TMP/poison"
/usr/bin/python3 "$SRCDIR/tests/fixtures/make-poison.py" "$P"
# Memory and time are measured on the plain build only: valgrind
# (MXD_WRAPPER) and the sanitizers (run-all sets ASAN_OPTIONS for them)
# multiply both.
measure=1
[ -z "${MXD_WRAPPER:-}" ] && [ -z "${ASAN_OPTIONS:-}" ] && [ -x /usr/bin/time ] ||
	measure=0

# has_controls FILE: true when FILE holds a control byte other than LF
has_controls() {
	LC_ALL=C tr -d '\n' <"$1" | LC_ALL=C grep -q '[[:cntrl:]]'
}

tab=$(printf '\t')
while IFS="$tab" read -r name want reason rss secs; do
	f="$P/$name"
	fresh_db
	set +e
	if [ "$measure" = 1 ]; then
		/usr/bin/time -f '%M %e' -o "$TMP/time" "$MXDIGEST" --db "$DB" \
			import "$f" >"$TMP/out" 2>"$TMP/err"
	else
		${MXD_WRAPPER:-} "$MXDIGEST" --db "$DB" import "$f" >"$TMP/out" 2>"$TMP/err"
	fi
	rc=$?
	set -e
	err=$(cat "$TMP/err")
	expect_rc "$want" "$name: exit status"
	if [ "$want" = 0 ]; then
		expect_eq "$(lines "$err")" 0 "$name: no error line"
	else
		expect_eq "$(lines "$err")" 1 "$name: one error line"
		expect_in "$err" "mxdigest: \"$f\": " "$name: the line names the input"
		expect_in "$err" "$reason" "$name: the reason"
	fi
	if has_controls "$TMP/err"; then fail "$name: a control byte on stderr"; fi
	if [ "$measure" = 1 ]; then
		read -r kb wall <<-EOT
		$(tail -n 1 "$TMP/time")
		EOT
		[ "$kb" -le $((rss * 1024)) ] || fail "$name: peak RSS $kb KiB, more than $rss MiB"
		awk -v w="$wall" -v s="$secs" 'BEGIN { exit !(w <= s) }' ||
			fail "$name: $wall s, more than $secs s"
	fi
	[ "$want" = 0 ] && continue
	mxd quarantine list
	expect_in "$out" "$name" "$name: listed in quarantine"
	if has_controls "$TMP/out"; then fail "$name: a control byte in quarantine list"; fi
	mxd quarantine show 1
	if has_controls "$TMP/out"; then fail "$name: a control byte in quarantine show"; fi
	"$MXDIGEST" --db "$DB" quarantine show --raw 1 >"$TMP/raw" 2>/dev/null || true
	cmp -s "$TMP/raw" "$f" || fail "$name: the raw bytes in quarantine differ from the input"
done <"$P/poison.tsv"

# All of them at once, three times over, with every worker busy: memory
# stays within a few budgets, one line per poisoned message (the copies are
# the same messages: known, counted, not said again).
mkdir -p "$TMP/all"
for k in 1 2 3; do
	for f in "$P"/*; do
		case $f in *.tsv) ;; *) cp "$f" "$TMP/all/$k-$(basename "$f")" ;; esac
	done
done
fresh_db
set +e
if [ "$measure" = 1 ]; then
	/usr/bin/time -f '%M %e' -o "$TMP/time" "$MXDIGEST" --db "$DB" import "$TMP/all" \
		>"$TMP/out" 2>"$TMP/err"
else
	${MXD_WRAPPER:-} "$MXDIGEST" --db "$DB" import "$TMP/all" >"$TMP/out" 2>"$TMP/err"
fi
rc=$?
set -e
expect_rc 65 "all the poison at once"
bad=$(awk -F'\t' '$2 != 0' "$P/poison.tsv" | wc -l)
expect_eq "$(lines "$(cat "$TMP/err")")" "$bad" "one line per poisoned message"
q=$(sed -n 's/.* \([0-9]*\) quarantined.*/\1/p' "$TMP/out")
expect_in "$(cat "$TMP/out")" "$q quarantined ($((q * 2)) already in quarantine)" \
	"the copies recognised"
if [ "$measure" = 1 ]; then
	read -r kb wall <<-EOT
	$(tail -n 1 "$TMP/time")
	EOT
	[ "$kb" -le $((256 * 1024)) ] || fail "all at once: peak RSS $kb KiB, more than 256 MiB"
fi

# The escape sequences of a zip entry name are replaced, not passed on, and
# do not become a policy domain.
fresh_db
mxd import "$P/zip-escape-name.eml"
mxd quarantine list
expect_in "$out" "sender!evil" "zip name shown, cleaned"
expect_not_in "$out" "$(printf '\033')" "no ESC in the listing"

# A TAB that folds a header line is white space to show, not U+FFFD.
fresh_db
printf 'From: reports@example.net\nSubject: Report Domain: example.org\n\tSubmitter: example.net\nTLS-Report-Domain: example.org\nContent-Type: application/tlsrpt+json\n\n{"broken": \n' >"$TMP/tab.eml"
mxd import "$TMP/tab.eml"
expect_rc 65 "the folded mail is quarantined"
mxd quarantine show 1
expect_in "$out" "$(printf 'Subject: Report Domain: example.org\n        Submitter: example.net')" \
	"the TAB shown as spaces"
expect_not_in "$out" "$(printf '\357\277\275')" "no U+FFFD for a TAB"

# A required field made of control characters stays whole when cleaned.
fresh_db
mxd import "$P/control-id.json"
expect_rc 0 "control-id imported"
expect_eq "$(sql 'select length(report_id) from reports')" 2000 \
	"stored report-id: 2000 characters, none lost"
finish
