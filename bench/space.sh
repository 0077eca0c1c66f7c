#!/usr/bin/env bash
# bench/space.sh — the store's size and the import time of issue 12, for
# two builds side by side in one run (before and after a change).
#
# For each corpus of bench/gen-maildir.py (the default mails of about
# 5.8 KB, and --bare mails without the receiving side's headers) it imports
# N mails into a fresh database with each binary (RUNS times, median; DKIM
# off: this measures parsing and storing) and prints the import time, the
# gzip -dc floor over the same reports, the database size, the bytes per
# stored report and the raw copies' share of the file.  YEAR=1 adds one
# import of a year of a large host (500,000 reports over 365 days) per
# binary, size only.
#
# usage: bench/space.sh OLD_BINARY NEW_BINARY [WORK_DIR]
#   env: N (default 20000), RUNS (default 3), YEAR (default 0)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
old=$1 new=$2
work=${3:-/var/tmp/mxd-space}
n=${N:-20000}
runs=${RUNS:-3}
year=${YEAR:-0}
py=/usr/bin/python3
mkdir -p "$work"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

gen() {	# name count extra-args...
	local name=$1 count=$2
	shift 2
	if [ ! -d "$work/md-$name" ]; then
		"$py" "$here/gen-maildir.py" --count "$count" --out "$work/md-$name" \
			--gz-dir "$work/gz-$name" --seed 1 --quiet "$@"
	fi
	find "$work/md-$name" "$work/gz-$name" -type f -exec cat {} + >/dev/null
}

floor() {	# name -> seconds (median)
	local i s e times=()
	for i in $(seq "$runs"); do
		s=$(date +%s.%N)
		find "$work/gz-$1" -name '*.json.gz' -print0 | xargs -0 gzip -dc >/dev/null
		e=$(date +%s.%N)
		times+=("$(awk -v s="$s" -v e="$e" 'BEGIN {print e - s}')")
	done
	printf '%s\n' "${times[@]}" | median
}

# import bin db maildir -> "seconds rss_kb cpu_s" (median of RUNS)
import() {
	local bin=$1 db=$2 md=$3 i t rss u s times=() rsss=() cpus=()
	for i in $(seq "$4"); do
		rm -f "$db" "$db"-wal "$db"-shm "$db".lock
		sync
		/usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" \
			"$bin" -q --db "$db" import --dkim=off "$md"
		read -r t rss u s < "$work/time.txt"
		times+=("$t")
		rsss+=("$rss")
		cpus+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')")
	done
	printf '%s %s %s\n' "$(printf '%s\n' "${times[@]}" | median)" \
		"$(printf '%s\n' "${rsss[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)"
}

# size db -> "file_bytes reports raw_bytes"
size() {
	sqlite3 "$1" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	printf '%s %s %s\n' "$(stat -c %s "$1")" \
		"$(sqlite3 "$1" 'SELECT count(*) FROM reports')" \
		"$(sqlite3 "$1" 'SELECT coalesce(sum(length(data)), 0) FROM messages')"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "old: $old ($("$old" --version))"
echo "new: $new ($("$new" --version))"
echo "N=$n RUNS=$runs, $(date -u +%Y-%m-%dT%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| corpus | build | import (s) | CPU (s) | peak RSS | gzip -dc floor (s) | ratio to floor | file (MB) | bytes/report | raw copies |"
echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
for corpus in full bare; do
	if [ "$corpus" = bare ]; then gen bare "$n" --bare; else gen full "$n"; fi
	f=$(floor "$corpus")
	mails=$(find "$work/md-$corpus" -type f | wc -l)
	bytes=$(find "$work/md-$corpus" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
	for b in old new; do
		bin=$old
		[ "$b" = new ] && bin=$new
		db=$work/$corpus-$b.db
		read -r t rss cpu < <(import "$bin" "$db" "$work/md-$corpus" "$runs")
		read -r fs reps raw < <(size "$db")
		awk -v c="$corpus ($((bytes / mails)) B/mail)" -v b="$b" -v t="$t" -v cpu="$cpu" \
			-v rss="$rss" -v f="$f" -v fs="$fs" -v reps="$reps" -v raw="$raw" 'BEGIN {
			printf "| %s | %s | %.2f | %.2f | %.1f MiB | %.3f | %.1f | %.1f | %.0f | %.0f %% |\n",
				c, b, t, cpu, rss / 1024, f, t / f, fs / 1e6, fs / reps, 100 * raw / fs }'
	done
done

if [ "$year" = 1 ]; then
	gen year 500000 --days 365
	echo
	echo "| year store (500,000 reports) | build | import (s) | file (MB) | bytes/report | raw copies |"
	echo "|---|---|--:|--:|--:|--:|"
	for b in old new; do
		bin=$old
		[ "$b" = new ] && bin=$new
		db=$work/year-$b.db
		read -r t rss cpu < <(import "$bin" "$db" "$work/md-year" 1)
		read -r fs reps raw < <(size "$db")
		awk -v b="$b" -v t="$t" -v fs="$fs" -v reps="$reps" -v raw="$raw" 'BEGIN {
			printf "| %d reports | %s | %.1f | %.0f | %.0f | %.0f %% |\n",
				reps, b, t, fs / 1e6, fs / reps, 100 * raw / fs }'
	done
fi
