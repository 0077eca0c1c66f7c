#!/usr/bin/env bash
# bench/dkim.sh — what DKIM verification costs an import (issue 10: at most
# 20 % slower on 20,000 mails, keys answered by a local DNS server).
#
# Generates N mails (bench/gen-maildir.py --seed 1), signs each with a real
# key of its From domain (bench/dkim-sign.py), serves the keys from a
# throwaway NSD on 127.0.0.1 (tests/dns/nsd.sh), and times in one run, on a
# warm page cache, `mxdigest import` of the signed Maildir into a fresh
# database with --dkim=off and with verification (the resolver the NSD),
# RUNS times each (median), alternating.  Checks that every mail verified.
# Prints a Markdown table for bench/RESULTS.md.
#
# usage: bench/dkim.sh [MXDIGEST_BINARY] [WORK_DIR]   (N=20000 RUNS=5)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/mxdigest}
work=${2:-/tmp/mxd-bench-dkim}
n=${N:-20000}
runs=${RUNS:-5}
py=/usr/bin/python3
nsdsh="$here/../tests/dns/nsd.sh"
mkdir -p "$work"
chmod 755 "$work"	# NSD drops privileges and must enter its directory
work=$(cd "$work" && pwd -P)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

if [ ! -d "$work/signed$n" ]; then
	rm -rf "$work/md$n" "$work/keys" "$work/zones"
	"$py" "$here/gen-maildir.py" --count "$n" --out "$work/md$n" --seed 1 --quiet
	"$py" "$here/dkim-sign.py" "$work/md$n" "$work/signed$n.tmp" "$work/keys" \
		"$work/zones"
	mv "$work/signed$n.tmp" "$work/signed$n"
fi
find "$work/signed$n" -type f -exec cat {} + >/dev/null

trap '"$nsdsh" cleanup "$work/ns" >/dev/null 2>&1 || true' EXIT
"$nsdsh" start "$work/ns" "$work"/zones/*.zone
. "$work/ns/env.sh"
printf 'resolver = 127.0.0.1:%s\ndns_timeout = 5\ntrust_anchor = none\n' \
	"$MXD_DNS_PORT" >"$work/conf"
chmod 600 "$work/conf"

one() {	# off|report -> seconds
	rm -f "$work/db.db" "$work/db.db-wal" "$work/db.db-shm"
	/usr/bin/time -f '%e %U %S' -o "$work/time.txt" \
		"$bin" -q --config "$work/conf" --db "$work/db.db" import --dkim="$1" \
		"$work/signed$n"
	cat "$work/time.txt"
}

off=() on=() offcpu=() oncpu=()
for i in $(seq "$runs"); do
	read -r t u s < <(one off)
	off+=("$t"); offcpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')")
	read -r t u s < <(one report)
	on+=("$t"); oncpu+=("$(awk -v u="$u" -v s="$s" 'BEGIN {print u + s}')")
done
pass=$(sqlite3 "$work/db.db" "SELECT count(*) FROM dkim WHERE result = 1")
all=$(sqlite3 "$work/db.db" "SELECT count(*) FROM dkim")
toff=$(printf '%s\n' "${off[@]}" | median)
ton=$(printf '%s\n' "${on[@]}" | median)
coff=$(printf '%s\n' "${offcpu[@]}" | median)
con=$(printf '%s\n' "${oncpu[@]}" | median)

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "mxdigest: $("$bin" --version); $n mails, $(ls "$work/zones" | wc -l) signing domains; verified: $pass of $all pass"
echo
echo "| mails | --dkim=off (s) | verifying (s) | slowdown | CPU off (s) | CPU verifying (s) |"
echo "|------:|---------------:|--------------:|---------:|------------:|------------------:|"
awk -v n="$n" -v a="$toff" -v b="$ton" -v c="$coff" -v d="$con" 'BEGIN {
	printf "| %d | %.2f | %.2f | %+.1f %% | %.2f | %.2f |\n", n, a, b,
		100 * (b - a) / a, c, d }'
[ "$pass" = "$all" ] || { echo "bench/dkim.sh: not every mail verified" >&2; exit 1; }
