#!/bin/sh
# The digest does not depend on the order the reports were stored in: the
# same mails imported in three orders (sorted by path, the reverse, and by
# file name across folders) into three stores give byte-identical digests
# in text, JSON, HTML, every CSV table, and every part of the XLSX
# workbook but the time it was written, for a whole month and for a week
# (which has a week before it: changes, new, silent).  Many reports start
# at the same second (00:00 UTC of their day), several from one
# organization (Google's example.org and shop.example.net), so the order
# of reports and failure details among them must come from what they are,
# not from their row ids.  On PostgreSQL, an SQLite store and a database
# with an ICU collation must give the same bytes too.  The broken samples
# are left out: the quarantine lists entries by id and time of import,
# which are the store's own.  DKIM is off, so that no verdict depends on
# the network.
. "$(dirname "$0")/lib.sh"

find "$SAMPLES" -type f ! -path '*/broken/*' ! -name README.md ! -name '.*' |
	LC_ALL=C sort >"$TMP/by-path"
LC_ALL=C sort -r "$TMP/by-path" >"$TMP/reverse"
awk -F/ '{ print $NF "\t" $0 }' "$TMP/by-path" | LC_ALL=C sort | cut -f2- >"$TMP/by-name"
n=$(grep -c . "$TMP/by-path")
[ "$n" -gt 40 ] || fail "only $n sample files found"

# A, B, C: the three orders; on PostgreSQL D (SQLite) and E (ICU) too
A=$DB
B=$(new_db reverse)
C=$(new_db by_name)
STORES="A B C"
if [ "$BACKEND" = pg ]; then
	# both backends give the same digest: an SQLite file too, and a
	# database whose collation is not bytes (ICU en-US sorts
	# "mail.kolibri.example.com" before "Microsoft Corporation", which
	# start on the same day)
	D=$TMP/sqlite.db
	icu=$(printf '%s_icu' "$TESTNAME" | cut -c1-60)
	psql -XAtq -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $icu" \
		-c "CREATE DATABASE $icu TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'" \
		>/dev/null 2>&1 || fail "could not create the ICU database $icu"
	# $DB with that database's name
	tail=${DB##*/}
	case $tail in
	*'?'*) E="${DB%/*}/$icu?${tail#*\?}" ;;
	*) E="${DB%/*}/$icu" ;;
	esac
	STORES="A B C D E"
fi
# import STORE LIST: the files of LIST, in that order
import() {
	xargs -d '\n' ${MXD_WRAPPER:-} "$MXDIGEST" --db "$1" import --dkim=off <"$2" \
		>"$TMP/import.out" 2>&1 || fail "import of $2 into $1: $(cat "$TMP/import.out")"
	expect_in "$(cat "$TMP/import.out")" "45 messages read, 45 new reports, 0 duplicates" \
		"import of $2"
}
import "$A" "$TMP/by-path"
import "$B" "$TMP/reverse"
import "$C" "$TMP/by-name"
if [ "$BACKEND" = pg ]; then
	import "$D" "$TMP/reverse"
	import "$E" "$TMP/reverse"
fi
for s in $STORES; do
	eval "DB=\$$s"
	mxd report --from 2026-11-01 --to 2026-12-01 --format json
	expect_eq "$(json 'd["totals"]["reports"]')" 45 "reports in store $s ($DB)"
done

# same WHAT ARGS...: `report ARGS` of every store, byte for byte
same() {
	what=$1
	shift
	for s in $STORES; do
		eval "DB=\$$s"
		case " $* " in
		*" xlsx "*)
			MXDIGEST_NOW=2026-11-23T09:30:00Z mxd report "$@" -o "$TMP/$s.out"
			;;
		*)
			MXDIGEST_NOW=2026-11-23T09:30:00Z mxd report "$@"
			cp "$TMP/out" "$TMP/$s.out"
			;;
		esac
		expect_rc 0 "report $* ($s)"
	done
	[ -s "$TMP/A.out" ] || fail "$what: empty output"
	for s in $STORES; do
		[ "$s" != A ] || continue
		case " $* " in
		*" xlsx "*)
			# every part of the workbook but docProps/core.xml,
			# which holds the time it was written
			/usr/bin/python3 - "$TMP/A.out" "$TMP/$s.out" <<-'EOF' || fail "$what: store $s gives another workbook than store A"
				import sys, zipfile
				a, b = (zipfile.ZipFile(p) for p in sys.argv[1:])
				names = [n for n in a.namelist() if n != "docProps/core.xml"]
				if a.namelist() != b.namelist():
				    sys.exit("parts differ: %s / %s" % (a.namelist(), b.namelist()))
				bad = [n for n in names if a.read(n) != b.read(n)]
				if bad:
				    sys.exit("parts that differ: " + ", ".join(bad))
			EOF
			continue
			;;
		esac
		if ! cmp -s "$TMP/A.out" "$TMP/$s.out"; then
			fail "$what: store $s gives another digest than store A"
			diff "$TMP/A.out" "$TMP/$s.out" | head -n 10 >&2
		fi
	done
}

for win in "--from 2026-11-01 --to 2026-12-01" "--from 2026-11-16 --to 2026-11-23"; do
	# shellcheck disable=SC2086
	{
		same "text, $win" $win --top 0
		same "text with --top 3, $win" $win --top 3
		same "JSON, $win" $win --format json
		same "HTML, $win" $win --format html --top 0
		same "XLSX, $win" $win --format xlsx
		for by in mx org result domain type ip day detail; do
			same "CSV --by $by, $win" $win --format csv --by $by
		done
		same "JSON, --domain example.org, $win" $win --format json --domain example.org
		same "CSV --by detail, --org \"Google Inc.\", $win" $win --format csv --by detail \
			--org "Google Inc."
	}
done

finish
