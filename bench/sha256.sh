#!/usr/bin/env bash
# bench/sha256.sh — util/sha256.c against nettle's SHA-256 (issue 12).
#
# Builds bench/sha256-bench.c with the hand-written util/sha256.c that the
# program used until it switched to nettle (taken from git, commit OWN
# below) and with the system's nettle (Debian nettle-dev; nettle picks its
# SHA-NI code at run time), then hashes every file of a generated Maildir
# whole, as the store hashes each raw mail, and prints CPU time, MB/s and
# microseconds per mail for the hand-written code (with and without the SHA
# extensions) and for nettle.  On the import, the two were compared with
# bench/space.sh (bench/RESULTS.md, "SHA-256").
#
# usage: bench/sha256.sh [WORK_DIR]     env: N (default 20000), ROUNDS (5)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
work=${1:-/var/tmp/mxd-sha}
n=${N:-20000}
mkdir -p "$work"
if [ ! -d "$work/md" ]; then
	/usr/bin/python3 "$here/gen-maildir.py" --count "$n" --out "$work/md" --seed 1 --quiet
fi
own=08f53d5	# the last commit with the hand-written SHA-256
mkdir -p "$work/own/util"
git -C "$src" show "$own:util/sha256.c" > "$work/own/util/sha256.c"
git -C "$src" show "$own:util/sha256.h" > "$work/own/util/sha256.h"
cc -std=c11 -O2 -g -D_POSIX_C_SOURCE=200809L -I"$work/own" -o "$work/sha256-bench" \
	"$here/sha256-bench.c" "$here/sha256-nettle.c" "$work/own/util/sha256.c" -lnettle
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1),"\
	"nettle $(dpkg-query -W -f '${Version}' libnettle8 2>/dev/null || echo '?'), $(date -u +%FT%RZ)"
find "$work/md" -type f | sort | "$work/sha256-bench"
