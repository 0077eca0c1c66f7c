#!/usr/bin/env bash
# bench/import.sh — the import benchmark of issue 2.
#
# Generates N realistic report mails as a Maildir (bench/gen-maildir.py),
# then times, on a warm page cache, in one run:
#   - `mxdigest import` of the Maildir into a fresh database (3 runs, median),
#     with its peak RSS (GNU time), at 2,000 and 20,000 mails (COUNTS);
#   - the floor: `gzip -dc` over the same reports stored as .json.gz files.
# DKIM is off (bench/dkim.sh measures it): this is parsing and storing.
# Prints a Markdown table for bench/RESULTS.md.
#
# usage: bench/import.sh [MXDIGEST_BINARY] [WORK_DIR]
# environment: RUNS (3), COUNTS ("2000 20000"; the scale table of
# bench/RESULTS.md adds 200000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/mxdigest}
work=${2:-/tmp/mxd-bench}
runs=${RUNS:-3}
counts=${COUNTS:-2000 20000}
py=/usr/bin/python3
mkdir -p "$work"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

gen() {	# n
	if [ ! -d "$work/md$1" ]; then
		"$py" "$here/gen-maildir.py" --count "$1" --out "$work/md$1" \
			--gz-dir "$work/gz$1" --seed 1 --quiet
	fi
	find "$work/md$1" "$work/gz$1" -type f -exec cat {} + >/dev/null
}

time_import() {	# n -> "seconds rss_kb"
	local t rss i times=() rsss=()
	for i in $(seq "$runs"); do
		rm -f "$work/db$1.db" "$work/db$1.db-wal" "$work/db$1.db-shm"
		/usr/bin/time -f '%e %M' -o "$work/time.txt" \
			"$bin" -q --db "$work/db$1.db" import --dkim=off "$work/md$1"
		read -r t rss < "$work/time.txt"
		times+=("$t")
		rsss+=("$rss")
	done
	printf '%s %s\n' "$(printf '%s\n' "${times[@]}" | median)" \
		"$(printf '%s\n' "${rsss[@]}" | median)"
}

time_floor() {	# n -> seconds
	local i s e times=()
	for i in $(seq "$runs"); do
		s=$(date +%s.%N)
		find "$work/gz$1" -name '*.json.gz' -print0 | xargs -0 gzip -dc >/dev/null
		e=$(date +%s.%N)
		times+=("$(awk -v s="$s" -v e="$e" 'BEGIN {print e - s}')")
	done
	printf '%s\n' "${times[@]}" | median
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "mxdigest: $("$bin" --version), $(nproc) worker threads"
echo
echo "| mails | import (s) | mails/s | µs per mail | peak RSS | gzip -dc floor (s) | ratio to floor |"
echo "|------:|-----------:|--------:|------------:|---------:|-------------------:|---------------:|"
for n in $counts; do
	gen "$n"
	read -r t rss < <(time_import "$n")
	f=$(time_floor "$n")
	awk -v n="$n" -v t="$t" -v rss="$rss" -v f="$f" 'BEGIN {
		printf "| %d | %.2f | %.0f | %.0f | %.1f MiB | %.3f | %.1f |\n",
			n, t, n / t, t * 1e6 / n, rss / 1024, f, t / f }'
done
