#!/bin/sh
# A database of schema version 1 (keys = SHA-256 of the bytes as
# received) is upgraded on first use, by a writer or a reader: messages get
# their identity (status headers left out), so the same mail served again
# with X-UID and Status is recognised, not quarantined twice.  Version 3
# rebuilds the reports table: every report, policy, detail and count stays.
. "$(dirname "$0")/lib.sh"
sqlite_only "upgrades of SQLite stores of older schema versions"

MSG="$SAMPLES/broken/2026-11-16_mailgw.example.com_invalid-json.eml"
# The version 1 schema, as mxdigest 0.1 created it (frozen here).
v1() {
	sqlite3 "$1" <<SQL
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE messages (id INTEGER PRIMARY KEY, sha256 BLOB NOT NULL UNIQUE,
  source TEXT NOT NULL, size INTEGER NOT NULL, received INTEGER NOT NULL,
  codec INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE reports (id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL
  REFERENCES messages(id), part INTEGER NOT NULL, org TEXT NOT NULL,
  report_id TEXT NOT NULL, contact TEXT, start INTEGER NOT NULL,
  end_ INTEGER NOT NULL, sha256 BLOB NOT NULL UNIQUE, notes TEXT NOT NULL,
  successful INTEGER NOT NULL, failed INTEGER NOT NULL,
  imported INTEGER NOT NULL, UNIQUE (org, report_id, start));
CREATE INDEX reports_start ON reports(start);
CREATE INDEX reports_message ON reports(message_id);
CREATE TABLE policies (id INTEGER PRIMARY KEY, report INTEGER NOT NULL
  REFERENCES reports(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
  type TEXT NOT NULL, domain TEXT NOT NULL, domain_source INTEGER NOT NULL,
  strings TEXT, mx_hosts TEXT, successful INTEGER NOT NULL,
  failed INTEGER NOT NULL);
CREATE INDEX policies_report ON policies(report);
CREATE TABLE details (policy INTEGER NOT NULL REFERENCES policies(id)
  ON DELETE CASCADE, result_type TEXT NOT NULL, sending_ip TEXT,
  receiving_mx TEXT, receiving_helo TEXT, receiving_ip TEXT,
  count INTEGER NOT NULL, additional_info TEXT, reason_code TEXT);
CREATE INDEX details_policy ON details(policy);
CREATE TABLE domain_counts (report INTEGER NOT NULL REFERENCES reports(id)
  ON DELETE CASCADE, start INTEGER NOT NULL, org TEXT NOT NULL,
  domain TEXT NOT NULL, types TEXT NOT NULL, successful INTEGER NOT NULL,
  failed INTEGER NOT NULL);
CREATE INDEX domain_counts_start ON domain_counts(start);
CREATE INDEX domain_counts_report ON domain_counts(report);
CREATE TABLE failure_counts (report INTEGER NOT NULL REFERENCES reports(id)
  ON DELETE CASCADE, start INTEGER NOT NULL, org TEXT NOT NULL,
  domain TEXT NOT NULL, result_type TEXT NOT NULL, sending_ip TEXT,
  receiving_mx TEXT, receiving_ip TEXT, count INTEGER NOT NULL);
CREATE INDEX failure_counts_start ON failure_counts(start);
CREATE INDEX failure_counts_report ON failure_counts(report);
CREATE TABLE quarantine (id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL
  REFERENCES messages(id), part INTEGER NOT NULL, name TEXT,
  status INTEGER NOT NULL, reason TEXT NOT NULL, created INTEGER NOT NULL,
  UNIQUE (message_id, part));
CREATE TABLE imap_state (account TEXT NOT NULL, mailbox TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL,
  PRIMARY KEY (account, mailbox)) WITHOUT ROWID;
INSERT INTO meta VALUES ('schema_version', '1'), ('created', '1790000000');
INSERT INTO messages VALUES (1, randomblob(32), 'inbox/7', $(wc -c <"$MSG"),
  1790000000, 0, readfile('$MSG'));
INSERT INTO quarantine VALUES (1, 1, 0, NULL, 4, 'report JSON: broken',
  1790000000);
INSERT INTO imap_state VALUES ('test', 'INBOX', 7, 42);
INSERT INTO messages VALUES (2, randomblob(32), 'inbox/8', 10, 1790000000, 0,
  'not shown');
INSERT INTO reports VALUES (1, 2, 0, 'Old Org', 'old-1', 'tls@old.example', 1793836800,
  1793923199, randomblob(32), '', 90, 10, 1790000000);
INSERT INTO policies VALUES (1, 1, 0, 'sts', 'example.org', 0,
  'version: STSv1' || char(10) || 'mode: enforce', 'mx1.example.org', 90, 10);
INSERT INTO details VALUES (1, 'certificate-expired', '192.0.2.1',
  'mx1.example.org', NULL, NULL, 10, NULL, NULL);
INSERT INTO domain_counts VALUES (1, 1793836800, 'Old Org', 'example.org',
  'sts', 90, 10);
INSERT INTO failure_counts VALUES (1, 1793836800, 'Old Org', 'example.org',
  'certificate-expired', '192.0.2.1', 'mx1.example.org', NULL, 10);
SQL
}

# the same mail as a server hands it out again: status headers in front
{ printf 'Status: RO\r\nX-UID: 7\r\nX-IMAPbase: 1 8\r\n'; cat "$MSG"; } >"$TMP/again.eml"

v1 "$DB"
chmod 600 "$DB"
mxd -v import "$TMP/again.eml"
expect_rc 0 "the old quarantined message"
expect_in "$err" "already in quarantine" "recognised after the upgrade"
expect_in "$out" "0 quarantined (1 already in quarantine)" "counted as known"
expect_eq "$(sqlite3 "$DB" 'SELECT count(*) FROM quarantine')" 1 "one entry still"
expect_eq "$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'schema_version'")" 6 \
	"schema version 6"
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM checks")" 0 \
	"version 4's table of check runs is there, empty"
expect_eq "$(sqlite3 "$DB" 'SELECT count(*) FROM policies')|$(sqlite3 "$DB" \
	'SELECT count(*) FROM details')|$(sqlite3 "$DB" \
	'SELECT count(*) FROM failure_counts')" "1|1|1" \
	"the rebuild of reports kept its policies, details and counts"
expect_eq "$(sqlite3 "$DB" "SELECT replace(s.text, char(10), '|') || ' ' || m.text FROM policies p
	JOIN texts s ON s.id = p.strings_id JOIN texts m ON m.id = p.mx_id")" \
	"version: STSv1|mode: enforce mx1.example.org" "policy strings and MX hosts moved to texts"
expect_eq "$(sqlite3 "$DB" "SELECT t.text FROM reports r JOIN texts t ON t.id = r.contact_id")" \
	"tls@old.example" "the contact-info moved to texts (schema 6)"
expect_eq "$(sqlite3 "$DB" "SELECT count(*) FROM sqlite_schema WHERE name IN
	('messages_sha8', 'reports_sha8', 'reports_ident') OR sql LIKE '%UNIQUE%sha256%'")" 3 \
	"the narrower hash and identity indexes, no UNIQUE of a full hash"
expect_eq "$(sqlite3 "$DB" "SELECT packed FROM dicts")" "" "no dictionary yet"
mxd report --format json --from 2026-11-01 --to 2026-12-01
expect_in "$out" '"totals":{"reports":1,' "the old report counts"
expect_in "$out" '"dkim_verified":0,"dkim_unverified":1,"dkim_ignored":0,"conflicts":0' \
	"without a verdict"
expect_in "$out" '"successful_sessions":90,"failed_sessions":10' "its numbers"
expect_eq "$(sqlite3 "$DB" 'SELECT last_uid, uv_changes FROM imap_state')" "42|0" \
	"sync state kept, with the new column"

# a reader (report, quarantine list) upgrades it too
rm -f "$DB" "$DB"-*
v1 "$DB"
chmod 600 "$DB"
mxd quarantine list
expect_rc 0 "quarantine list on a version 1 database"
expect_in "$out" "inbox/7" "the old entry listed"
expect_eq "$(sqlite3 "$DB" "SELECT value FROM meta WHERE key = 'schema_version'")" 6 \
	"upgraded by a reader"

# a new database is private whatever the umask; an old readable one is
# said to be
rm -f "$DB" "$DB"-*
(umask 000 && "$MXDIGEST" --db "$DB" import "$SAMPLES/google" >/dev/null 2>&1)
for f in "$DB" "$DB-wal" "$DB-shm" "$DB.lock"; do
	[ ! -e "$f" ] || expect_eq "$(stat -c %a "$f")" 600 "$(basename "$f") mode"
done
chmod 644 "$DB"
mxd import "$SAMPLES/google"
expect_in "$err" "other users can read it (mode 0644): chmod 600 it" "warned"
finish
