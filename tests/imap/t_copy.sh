#!/usr/bin/env bash
# Moves on a server without MOVE (Dovecot told to hide it): UID COPY, UID
# STORE \Deleted and UID EXPUNGE of exactly the fetched UIDs, so another
# client's \Deleted message survives (and is not fetched); on a server with
# neither MOVE nor UIDPLUS nothing is moved, and the run says why (78).
. "$(dirname "$0")/lib.sh"

export MXD_IMAP_CAPABILITY="IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE UIDPLUS"
srv_start

# another client's message, flagged \Deleted and not expunged (LOGOUT, not
# CLOSE, which would expunge it)
"$H" append "$SRV" INBOX "$SAMPLES/google/2026-11-09_example.org.eml" || die "APPEND failed"
"$PYTHON" - <<'PY' || die "cannot flag the foreign message"
import imaplib, os
m = imaplib.IMAP4("127.0.0.1", int(os.environ["MXD_IMAP_PORT"]))
m.login(os.environ["MXD_IMAP_USER"], os.environ["MXD_IMAP_PASS"])
m.select("INBOX")
typ, _ = m.uid("STORE", "1", "+FLAGS.SILENT", "(\\Deleted)")
assert typ == "OK"
m.logout()
PY

mapfile -t MAILS < <(find "$SAMPLES/microsoft" "$SAMPLES/broken" -name '*.eml' | sort)
deliver "${MAILS[@]}"
n=${#MAILS[@]}
reference "$TMP/ref.db" "${MAILS[@]}"
nq=$(qlist "$TMP/ref.db" | grep -c '^[0-9]')

conf archive_mailbox=Archive quarantine_mailbox=Quarantine
mxd -v -D imap fetch
expect_rc 65 "moves without MOVE"
expect_in "$out" "test: $n messages fetched" "the foreign \\Deleted message is not fetched"
expect_in "$err" "(flagged \\Deleted ones left out)" "and -v says so"
expect_in "$out" "$((n - nq)) moved to \"Archive\", $nq moved to \"Quarantine\"" "moves in the summary"
expect_not_in "$err" "UID MOVE" "no UID MOVE without the capability"
expect_in "$err" "UID COPY" "UID COPY"
expect_in "$err" "UID STORE" "UID STORE"
expect_in "$err" "UID EXPUNGE" "UID EXPUNGE"
if printf '%s\n' "$err" | grep -q 'C: [0-9]* EXPUNGE'; then
	fail "a plain EXPUNGE was sent"
fi
expect_eq "$(count INBOX)" 1 "only the foreign \\Deleted message is left"
expect_eq "$(count Archive)" $((n - nq)) "the archive"
expect_eq "$(count Quarantine)" "$nq" "the quarantine mailbox"
mxd fetch
expect_rc 0 "second fetch"
expect_in "$out" "test: 0 messages fetched" "nothing left to fetch"

# neither MOVE nor UIDPLUS: fetched and stored read-only, nothing moved
sed -i 's/^imap_capability = .*/imap_capability = IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE/' \
	"$MXD_DOVECOT_CONF"
"$H" restart "$SRV" || die "restart failed"
"$PYTHON" "$SRCDIR/bench/gen-maildir.py" --count 3 --seed 11 --out "$TMP/three" --quiet
"$H" deliver-dir "$SRV" "$TMP/three" || die "deliver-dir failed"
mxd -D imap fetch
expect_rc 78 "moves on a server with neither MOVE nor UIDPLUS"
expect_in "$err" "the server has neither MOVE nor UIDPLUS, so messages cannot be moved" "why nothing moves"
expect_in "$out" "test: 3 messages fetched (0.0 MB), 3 new reports" "the new messages are stored all the same"
expect_in "$err" "C: 4 EXAMINE INBOX" "examined read-only"
expect_not_in "$err" "UID COPY" "nothing copied"
expect_eq "$(count INBOX)" 4 "the inbox keeps them (and the foreign message)"

finish
