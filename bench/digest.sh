#!/usr/bin/env bash
# bench/digest.sh — the digest benchmark of issue 5.
#
# Builds (once) a one-year store (bench/gen-maildir.py --days 365 --count
# 500000, 2026) and a one-month store of the same density (December 2026),
# then measures on a warm page cache:
#   - a 7-day text and JSON digest (--since 7d, clock pinned to 2026-12-29)
#     on each store, median of RUNS runs, and the ratio year / month;
#   - an XLSX of growing windows of the year store (about 100,000, 200,000
#     and all 335,000 failure-detail rows): time and peak RSS (GNU time).
# Prints Markdown for bench/RESULTS.md.
#
# usage: bench/digest.sh [MXDIGEST_BINARY] [WORK_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/mxdigest}
work=${2:-/tmp/mxd-digest-bench}
runs=${RUNS:-7}
py=/usr/bin/python3
export MXDIGEST_NOW=2026-12-29T06:00:00Z NO_COLOR=1
mkdir -p "$work"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

store() {	# name start days count seed
	if [ ! -f "$work/$1.db" ]; then
		[ -d "$work/$1" ] || "$py" "$here/gen-maildir.py" --start "$2" --days "$3" \
			--count "$4" --seed "$5" --out "$work/$1" --quiet
		"$bin" -q --db "$work/$1.db" import "$work/$1" || [ $? = 65 ]
	fi
}

timed() {	# db args... -> "seconds rss_kb" (median of runs)
	local db=$1 i s e t rss times=() rsss=()
	shift
	for i in $(seq "$runs"); do
		s=$EPOCHREALTIME
		/usr/bin/time -f '%M' -o "$work/time.txt" "$bin" --db "$work/$db.db" report "$@" >/dev/null
		e=$EPOCHREALTIME
		read -r rss < "$work/time.txt"
		t=$(awk -v s="$s" -v e="$e" 'BEGIN {print e - s}')
		times+=("$t")
		rsss+=("$rss")
	done
	printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | median)" \
		"$(printf '%s\n' "${rsss[@]}" | median)"
}

store month 2026-12-01 31 42466 2
store year 2026-01-01 365 500000 1
for db in month year; do	# warm the page cache
	"$bin" --db "$work/$db.db" report --since 7d >/dev/null
	"$bin" --db "$work/$db.db" report --since 7d --format json >/dev/null
done

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "mxdigest: $("$bin" --version); SQLite $(sqlite3 --version | cut -d' ' -f1)"
for db in month year; do
	printf 'store %s: %s reports, %s failure details, %s MB\n' "$db" \
		"$(sqlite3 "$work/$db.db" 'select count(*) from reports')" \
		"$(sqlite3 "$work/$db.db" 'select count(*) from details')" \
		"$(( $(stat -L -c %s "$work/$db.db") / 1000000 ))"
done
echo
echo "| 7-day digest (--since 7d) | one-month store (s) | one-year store (s) | year / month | peak RSS, year |"
echo "|---|--:|--:|--:|--:|"
for fmt in text json; do
	read -r tm _ < <(timed month --since 7d --format "$fmt")
	read -r ty ry < <(timed year --since 7d --format "$fmt")
	awk -v f="$fmt" -v a="$tm" -v b="$ty" -v r="$ry" 'BEGIN {
		printf "| %s | %.3f | %.3f | %.2f | %.1f MiB |\n", f, a, b, b / a, r / 1024 }'
done
echo
echo "| XLSX window | failure-detail rows | time (s) | peak RSS | peak RSS of --format json, same window | workbook |"
echo "|---|--:|--:|--:|--:|--:|"
for w in "2026-01-01 2026-02-01" "2026-01-01 2026-05-01" "2026-01-01 2026-08-10" "2026-01-01 2027-01-01"; do
	set -- $w
	rows=$(( $("$bin" --db "$work/year.db" report --from "$1" --to "$2" --format csv --by detail | wc -l) - 1 ))
	read -r t rss < <(runs=1 timed year --from "$1" --to "$2" --format xlsx -o "$work/d.xlsx")
	read -r _ jrss < <(runs=1 timed year --from "$1" --to "$2" --format json)
	size=$(stat -c %s "$work/d.xlsx")
	awk -v a="$1" -v b="$2" -v n="$rows" -v t="$t" -v r="$rss" -v j="$jrss" -v s="$size" 'BEGIN {
		printf "| %s to %s | %d | %.1f | %.1f MiB | %.1f MiB | %.1f MB |\n", a, b, n, t, r / 1024, j / 1024, s / 1e6 }'
done
