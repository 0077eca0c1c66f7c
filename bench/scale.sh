#!/usr/bin/env bash
# bench/scale.sh — how the store and the weekly digest grow with time
# (issue 12, "scale on paper"): a large host receiving 1,500 reports a day,
# kept for one month, one year and three years.
#
# Builds three stores from bench/gen-maildir.py mails (DKIM off: this is
# parsing and storing), each ending on 2026-12-31:
#   month   46,500 reports over December 2026
#   year    547,500 reports over 2026
#   3years  1,644,000 reports over 2024-2026, imported one year at a time
#           into one store (each year's Maildir is deleted once imported)
# and prints per store: reports, file size, bytes per report, the time to
# import 20,000 more mails into a copy of it (the next two weeks of a larger
# host: how the weekly import grows with the store; median of 3, in seconds
# per 1,000 mails), and the 7-day digest (text and JSON, --since 7d with
# the clock pinned to 2026-12-29T06:00Z) as the median of RUNS runs on a warm
# page cache, with its ratio to the one-month store and its peak RSS.
#
# usage: bench/scale.sh MXDIGEST_BINARY [WORK_DIR]     env: RUNS (7)
# Needs about 25 GB of disk in WORK_DIR (the largest Maildir is 3.2 GB, the
# three-year store 5.5 GB) and an hour on two cores.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "$1")
work=${2:-/var/tmp/mxd-scale}
runs=${RUNS:-7}
py=/usr/bin/python3
per_day=1500
export MXDIGEST_NOW=2026-12-29T06:00:00Z NO_COLOR=1
mkdir -p "$work"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# import_part DB START DAYS SEED: generates the mails, imports them, prints
# "seconds mails", deletes the Maildir
import_part() {
	local db=$1 start=$2 days=$3 seed=$4 n md s e
	n=$(( days * per_day ))
	md="$work/md-$seed"
	rm -rf "$md"
	"$py" "$here/gen-maildir.py" --start "$start" --days "$days" --count "$n" \
		--seed "$seed" --out "$md" --quiet
	find "$md" -type f -exec cat {} + >/dev/null
	s=$EPOCHREALTIME
	# stderr: the conflicts between reports of different seeds that share
	# an identity (about 1 in 35), one line each
	"$bin" -q --db "$work/$db.db" import --dkim=off "$md" 2>>"$work/$db.log"
	e=$EPOCHREALTIME
	rm -rf "$md"
	awk -v s="$s" -v e="$e" -v n="$n" 'BEGIN {print e - s, n}'
}

# build NAME PART...: each PART is START:DAYS:SEED; appends the total
# import seconds and mails to NAME.import (once: a store kept from an
# earlier run is reused)
build() {
	local name=$1 part t n tt=0 nn=0
	shift
	[ -f "$work/$name.db" ] && [ -f "$work/$name.import" ] && return 0
	rm -f "$work/$name.db" "$work/$name.db-wal" "$work/$name.db-shm"
	for part in "$@"; do
		IFS=: read -r start days seed <<<"$part"
		read -r t n < <(import_part "$name" "$start" "$days" "$seed")
		tt=$(awk -v a="$tt" -v b="$t" 'BEGIN {print a + b}')
		nn=$(( nn + n ))
	done
	sqlite3 "$work/$name.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
	echo "$tt $nn" > "$work/$name.import"
}

# more DB -> seconds: 20,000 new mails imported into a copy of DB (median
# of 3 runs on a warm page cache)
more() {
	local i s e times=()
	if [ ! -d "$work/md-next" ]; then
		"$py" "$here/gen-maildir.py" --start 2027-01-01 --days 14 --count 20000 \
			--seed 98 --out "$work/md-next" --quiet
	fi
	for i in 1 2 3; do
		rm -f "$work/copy.db" "$work/copy.db-wal" "$work/copy.db-shm"
		cp "$work/$1.db" "$work/copy.db"
		find "$work/md-next" -type f -exec cat {} + >/dev/null
		sync
		s=$EPOCHREALTIME
		"$bin" -q --db "$work/copy.db" import --dkim=off "$work/md-next" 2>>"$work/more.log"
		e=$EPOCHREALTIME
		times+=("$(awk -v s="$s" -v e="$e" 'BEGIN {print e - s}')")
	done
	rm -f "$work/copy.db" "$work/copy.db-wal" "$work/copy.db-shm" "$work/copy.db.lock"
	printf '%s\n' "${times[@]}" | median
}

timed() {	# db args... -> "seconds rss_kb" (median of runs)
	local db=$1 i s e times=() rsss=() rss
	shift
	for i in $(seq "$runs"); do
		s=$EPOCHREALTIME
		/usr/bin/time -f '%M' -o "$work/time.txt" "$bin" --db "$work/$db.db" report "$@" >/dev/null
		e=$EPOCHREALTIME
		read -r rss < "$work/time.txt"
		times+=("$(awk -v s="$s" -v e="$e" 'BEGIN {print e - s}')")
		rsss+=("$rss")
	done
	printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | median)" \
		"$(printf '%s\n' "${rsss[@]}" | median)"
}

build month 2026-12-01:31:11
build year 2026-01-01:365:12
build 3years 2024-01-01:365:13 2025-01-01:365:14 2026-01-01:365:15

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "mxdigest: $("$bin" --version); SQLite $(sqlite3 --version | cut -d' ' -f1); $(date -u +%FT%RZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for db in month year 3years; do	# warm the page cache
	"$bin" --db "$work/$db.db" report --since 7d >/dev/null
	"$bin" --db "$work/$db.db" report --since 7d --format json >/dev/null
done
echo "| store | reports | file (MB) | bytes/report | 20,000 more mails (s per 1,000) | 7-day text (s) | 7-day JSON (s) | text / month | JSON / month | peak RSS (JSON) |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
# the digests first, all on a quiet page cache; the imports into copies
# after them (copying 7 GB disturbs the cache and the disk for a while)
declare -A TT TJ RJ IT
for db in month year 3years; do
	read -r TT[$db] _ < <(timed "$db" --since 7d)
	read -r TJ[$db] RJ[$db] < <(timed "$db" --since 7d --format json)
done
for db in month year 3years; do
	IT[$db]=$(more "$db")
done
for db in month year 3years; do
	reports=$(sqlite3 "$work/$db.db" 'SELECT count(*) FROM reports')
	size=$(stat -c %s "$work/$db.db")
	awk -v d="$db" -v r="$reports" -v sz="$size" -v it="${IT[$db]}" \
	    -v tt="${TT[$db]}" -v tj="${TJ[$db]}" -v mt="${TT[month]}" -v mj="${TJ[month]}" \
	    -v rj="${RJ[$db]}" 'BEGIN {
		printf "| %s | %d | %.0f | %.0f | %.2f | %.3f | %.3f | %.2f | %.2f | %.1f MiB |\n",
			d, r, sz / 1e6, sz / r, it / 20, tt, tj, tt / mt, tj / mj, rj / 1024 }'
done
