#!/usr/bin/env bash
# bench/imap-fetch.sh — the IMAP fetch benchmark of issue 3.
#
# For each mailbox size (default 2,000 and 20,000 report mails from
# bench/gen-maildir.py), loads the mails into a throwaway Dovecot
# (tests/imap/dovecot.sh), warms it up (index, page cache), then times, side
# by side in one run, RUNS times each (median):
#   - mxdigest fetch: IMAPS download, parse and store into a fresh database;
#   - mbsync (Debian's isync) into a fresh Maildir, with its default
#     fsync, and with "FSync no";
#   - the ceiling: tests/imap/imap_ceiling.py, one UID FETCH 1:* BODY.PEEK[]
#     whose bytes are thrown away;
#   - for reference, mxdigest import of the same files (no IMAP at all).
# All four use IMAPS to localhost (127.0.0.1), verified against the test CA.
# Wall time, CPU time (user + system, of the client only: Dovecot's share is
# not in it) and peak RSS come from GNU time (package "time").  Prints
# Markdown for bench/RESULTS.md.
#
# DKIM is off in both mxdigest runs (bench/dkim.sh measures it).  With
# OLD=BINARY, a second mxdigest build is timed in the same rounds (a row
# "mxdigest fetch, OLD build"), for before/after comparisons.
#
# usage: bench/imap-fetch.sh [MXDIGEST_BINARY] [WORK_DIR]
# environment: COUNTS ("2000 20000"), RUNS (3), OLD (unset)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
bin=$(realpath "${1:-$src/build/mxdigest}")
work=${2:-/tmp/mxd-imap-bench}
counts=${COUNTS:-2000 20000}
runs=${RUNS:-3}
old=${OLD:+$(realpath "$OLD")}
py=/usr/bin/python3
H="$src/tests/imap/dovecot.sh"
export NO_COLOR=1

for t in /usr/bin/time mbsync "$py"; do
	command -v "$t" >/dev/null || { echo "imap-fetch.sh: $t is missing (Debian: time, isync, python3)" >&2; exit 1; }
done
[ -x "$bin" ] || { echo "imap-fetch.sh: no mxdigest at $bin" >&2; exit 1; }
mkdir -p "$work"
work=$(cd "$work" && pwd)
srv="$work/srv"
trap '"$H" cleanup "$srv" >/dev/null 2>&1 || true' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# timed NAME CMD...: runs CMD under GNU time; appends "secs rss_kb cpu_s" to
# $work/NAME.times; the command's output goes to $work/NAME.out.  Dirty
# pages of the run before are written out first (sync), so that no client
# pays for another's writeback: without it, mbsync's 120 MB of new files
# after a previous run's made its time vary from 1.5 to 6 s.
timed() {
	local name=$1
	shift
	sync
	/usr/bin/time -f '%e %M %U %S' -o "$work/time.txt" "$@" >"$work/$name.out" 2>&1 ||
		{ echo "imap-fetch.sh: $name failed:" >&2; tail -5 "$work/$name.out" >&2; exit 1; }
	awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$work/time.txt" >>"$work/$name.times"
}

run_mxdigest() {	# [NAME BINARY]: the build under test, or OLD
	rm -f "$work/bench.db" "$work/bench.db-wal" "$work/bench.db-shm" "$work/bench.db.lock"
	timed "${1:-mxdigest}" "${2:-$bin}" -q --config "$work/mxdigest.conf" fetch --dkim=off
}

run_import() {	# the same files without IMAP: what parsing and storing cost alone
	rm -f "$work/import.db" "$work/import.db-wal" "$work/import.db-shm" "$work/import.db.lock"
	timed import "$bin" -q --db "$work/import.db" import --dkim=off "$work/mails-$n"
}

run_mbsync() {	# NAME CONFIG
	rm -rf "$work/maildir"
	mkdir -p "$work/maildir"
	timed "$1" mbsync -q -c "$2" bench
}

run_ceiling() {
	timed ceiling "$py" "$src/tests/imap/imap_ceiling.py"
}

write_configs() {
	printf '%s\n' "$MXD_IMAP_PASS" >"$work/password"
	chmod 600 "$work/password"
	cat >"$work/mxdigest.conf" <<-EOF
		database = $work/bench.db
		[account bench]
		host = localhost
		port = $MXD_IMAPS_PORT
		user = $MXD_IMAP_USER
		password_file = $work/password
		ca_file = $MXD_CA
	EOF
	for fs in default no; do
		{
			[ "$fs" = no ] && printf 'FSync no\n\n'
			cat <<-EOF
				IMAPAccount bench
				Host localhost
				Port $MXD_IMAPS_PORT
				User $MXD_IMAP_USER
				PassCmd "cat $work/password"
				SSLType IMAPS
				CertificateFile $MXD_CA

				IMAPStore bench-far
				Account bench

				MaildirStore bench-near
				Path $work/maildir/
				Inbox $work/maildir/INBOX

				Channel bench
				Far :bench-far:
				Near :bench-near:
				Sync Pull
				Create Near
				SyncState *
			EOF
		} >"$work/mbsyncrc.$fs"
	done
}

echo "## IMAP fetch"
echo
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "software: $("$bin" --version), Dovecot $(dovecot --version | cut -d' ' -f1), $(mbsync --version), Python $("$py" -c 'import platform; print(platform.python_version())')"
echo "runs: median of $runs; IMAPS to localhost (127.0.0.1); mails from bench/gen-maildir.py"
echo

for n in $counts; do
	"$H" cleanup "$srv" >/dev/null 2>&1 || true
	rm -f "$work"/*.times
	"$H" start "$srv"
	# shellcheck disable=SC1091
	. "$srv/env.sh"
	[ -d "$work/mails-$n" ] || "$py" "$here/gen-maildir.py" --count "$n" --seed 1 \
		--out "$work/mails-$n" --quiet
	"$H" deliver-dir "$srv" "$work/mails-$n"
	write_configs
	bytes=$(du -sb "$work/mails-$n" | cut -f1)
	# warm up: Dovecot's index and cache, the page cache, our binary
	run_ceiling
	run_mxdigest
	run_mbsync mbsync-nofsync "$work/mbsyncrc.no"
	rm -f "$work"/*.times
	for i in $(seq "$runs"); do
		run_ceiling
		run_mxdigest
		[ -z "$old" ] || run_mxdigest mxdigest-old "$old"
		run_mbsync mbsync-nofsync "$work/mbsyncrc.no"
		run_mbsync mbsync "$work/mbsyncrc.default"
		run_import
	done
	got=$(sed -n 's/^bench: \([0-9,]*\) messages fetched.*/\1/p' "$work/mxdigest.out" | tr -d ,)
	[ -n "$got" ] || got=$("$bin" --db "$work/bench.db" report --from 2000-01-01 --to 2100-01-01 --format json |
		"$py" -c 'import json,sys; print(json.load(sys.stdin)["totals"]["reports"])')
	[ "$got" = "$n" ] || { echo "imap-fetch.sh: mxdigest stored $got of $n" >&2; exit 1; }
	[ "$(find "$work/maildir/INBOX/cur" "$work/maildir/INBOX/new" -type f | wc -l)" = "$n" ] ||
		{ echo "imap-fetch.sh: mbsync did not copy all $n mails" >&2; exit 1; }

	ceil=$(awk '{print $1}' "$work/ceiling.times" | median)
	echo "### $n messages ($((bytes / 1000000)) MB as files)"
	echo
	echo "| client | wall time (s) | messages/s | vs ceiling | client CPU (s) | peak RSS (MB) |"
	echo "|---|---:|---:|---:|---:|---:|"
	clients="ceiling mxdigest ${old:+mxdigest-old} mbsync-nofsync mbsync import"
	for t in $clients; do
		s=$(awk '{print $1}' "$work/$t.times" | median)
		r=$(awk '{print $2}' "$work/$t.times" | median)
		u=$(awk '{print $3}' "$work/$t.times" | median)
		case $t in
		ceiling) label="ceiling (imap_ceiling.py, UID FETCH 1:* BODY.PEEK[])" ;;
		mxdigest) label="mxdigest fetch (download, parse, store)" ;;
		mxdigest-old) label="mxdigest fetch, OLD build" ;;
		mbsync-nofsync) label="mbsync, FSync no" ;;
		mbsync) label="mbsync, default fsync" ;;
		import) label="(reference: mxdigest import of the same files, no IMAP)" ;;
		esac
		awk -v l="$label" -v s="$s" -v r="$r" -v u="$u" -v n="$n" -v c="$ceil" 'BEGIN {
			printf "| %s | %.2f | %.0f | %.2fx | %.2f | %.1f |\n", l, s, n / s, s / c, u, r / 1024 }'
	done
	echo
	echo "runs (s): $(for t in $clients; do printf '%s %s; ' "$t" "$(awk '{printf "%s ", $1}' "$work/$t.times")"; done)"
	echo
done
