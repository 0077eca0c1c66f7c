#!/usr/bin/env bash
# The Dovecot harness itself (selftest.sh): certificates, ports, delivery,
# UIDVALIDITY reset, cutproxy.py, as the other imap tests rely on them.
. "$(dirname "$0")/lib.sh"

need_dovecot
"$HERE/selftest.sh" "$TMP" || fail "tests/imap/selftest.sh failed"
finish
