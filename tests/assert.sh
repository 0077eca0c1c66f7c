# assert.sh — the checks shared by the shell tests (sourced by
# tests/cli/lib.sh and tests/imap/lib.sh).  Each check that fails prints one
# FAIL line and counts; finish() exits 1 if any failed.  Commands set $rc,
# $out and $err before the checks look at them.
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

expect_rc() {	# expected description
	[ "$rc" = "$1" ] || { fail "$2: exit status $rc, expected $1"; printf '%s\n' "$err" | tail -n 20 >&2; }
}

expect_eq() {	# got expected description
	[ "$1" = "$2" ] || fail "$3: got [$1], expected [$2]"
}

expect_in() {	# haystack needle description
	case "$1" in
	*"$2"*) ;;
	*) fail "$3: [$2] not found in [$(printf '%s' "$1" | tail -c 2000)]" ;;
	esac
}

expect_not_in() {	# haystack needle description
	case "$1" in
	*"$2"*) fail "$3: [$2] found" ;;
	*) ;;
	esac
}

finish() {
	if [ "$failures" -gt 0 ]; then
		echo "$failures check(s) failed" >&2
		exit 1
	fi
	echo "ok"
	exit 0
}
