/*
 * db_sqlite.c — the embedded SQLite backend (the default store).
 *
 * Schema (version 6; the tables of `mxdigest check` are schema_v4):
 *   meta            key/value: schema_version, created
 *   messages        raw bytes of each message that carried a report or was
 *                   quarantined, keyed by its identity
 *                   (store_message_ident()); `truncated` is the size the
 *                   message had when only its start was kept (0: whole);
 *                   `codec` and `dict` say how data is compressed (codec.c)
 *   dicts           the zstd dictionaries rows were compressed with
 *   texts           each distinct policy-string set, MX host list and
 *                   contact-info once (policies.strings_id, mx_id,
 *                   reports.contact_id): a domain's policy is the same text
 *                   in every report of every sender
 *   dkim            the DKIM verdict of a message, taken when it came
 *   reports         one row per report copy; the copies of one identity
 *                   (org, report_id, start) have `counts` 0 but one (see
 *                   schema_v3)
 *   policies        per-policy numbers as sent
 *   details         failure details as sent
 *   domain_counts   counted view per (report, policy domain), with start
 *   failure_counts  counted failure details, with start
 *   quarantine      (message, part) that could not be read, and why
 *   imap_state      per (account, mailbox): uidvalidity, last uid, and
 *                   how many runs in a row found a new uidvalidity
 *
 * Version 1 lacked messages.truncated and imap_state.uv_changes, and keyed
 * messages by the SHA-256 of their bytes as received: migrate() adds the
 * columns and recomputes every key.  Version 2 had no DKIM verdicts and
 * allowed one copy per report identity.
 * The counted tables repeat the report's start and organization so that a
 * window query reads one index range and joins nothing.
 *
 * One writer at a time: a writer holds an exclusive flock on "<db>.lock"
 * from open to close (a second one waits lock_wait_ms, then gives up with
 * MXD_E_LOCKED); readers use WAL and never wait.  So lock() has nothing to
 * take.
 */
#include "store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_p.h"
#include "util/log.h"
#include "util/xalloc.h"

/*
 * An INSERT ... RETURNING id is prepared without its RETURNING clause, and
 * the id it would have returned is the row's rowid, read once it is done:
 * SQLite runs RETURNING as a trigger, and a statement with a trigger keeps
 * a statement journal, which copied every page an insert touched to a
 * temporary file (207,742 pages of 32 KiB, 6.8 GB of writes, for 20,000
 * mails; bench/RESULTS.md).  `gave` is 1 once that row was given.
 */
#define RETURNING_ID " RETURNING id"

struct sq {
	struct dbq base;
	struct db *db;
	sqlite3_stmt *st;
	int returning_id, gave;
	sqlite3_int64 id;
};

struct db {
	sqlite3 *h;
	char *path;
	int lock_fd;
	struct sq q[DB_STMT_COUNT];
};

/* The counted view of DB_SCAN_DETAILS and DB_COUNT_DETAILS */
#define DETAIL_FROM_WHERE						\
	" FROM reports r LEFT JOIN dkim k ON k.message_id = r.message_id" \
	" JOIN policies p ON p.report = r.id"				\
	" JOIN details x ON x.policy = p.id"				\
	" WHERE r.start >= ?1 AND r.start < ?2"				\
	" AND (?3 IS NULL OR p.domain = ?3) AND (?4 IS NULL OR r.org = ?4)" \
	" AND (?5 IS NULL OR lower(coalesce(x.receiving_mx,"		\
	"  x.receiving_ip)) = lower(?5))"				\
	" AND r.counts >= ?6"

/* the messages recompress_where() (codec.c) reads, RECOMPRESS_BATCH
 * (500) at a time */
#define RECODE(cond)							\
	"SELECT id, length(data) FROM messages WHERE id > ?2 AND (" cond \
	") ORDER BY id LIMIT 500"

const char *const db_sqlite_sql[DB_STMT_COUNT] = {
	/* messages_sha8 and reports_sha8 hold the first 8 bytes of each hash
	 * (schema_v6) */
	[DB_MSG_FIND] = "SELECT id FROM messages WHERE substr(sha256, 1, 8) ="
			" substr(?1, 1, 8) AND sha256 = ?1",
	[DB_MSG_PUT] = "INSERT INTO messages (sha256, source, size, received, codec,"
		       " data, truncated, dict) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		       " ?8) RETURNING id",
	[DB_MSG_GET] = "SELECT codec, data, source, size, truncated, dict FROM"
		       " messages WHERE id = ?1",
	[DB_MSG_SOME] = "SELECT id, codec, data, size, dict FROM messages"
			" WHERE id IN (SELECT value FROM json_each('[' || ?1 || ']'))"
			" ORDER BY id",
	[DB_MSG_REPORTS] = "SELECT count(*) FROM reports WHERE message_id = ?1",
	[DB_MSG_QUARANTINED] = "SELECT count(*) FROM quarantine WHERE message_id = ?1",
	[DB_AUTH_GET] = "SELECT result, domain, selector, detail, at FROM dkim"
			" WHERE message_id = ?1",
	[DB_AUTH_SET] = "INSERT OR REPLACE INTO dkim (message_id, result,"
			" domain, selector, detail, at)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",

	[DB_REP_BY_IDENT] = "SELECT digest, successful, failed, counts FROM reports"
			    " WHERE org = ?1 AND report_id = ?2 AND start = ?3",
	[DB_REP_BY_SHA] = "SELECT 1 FROM reports WHERE substr(sha256, 1, 8) ="
			  " substr(?1, 1, 8) AND sha256 = ?1",
	[DB_LOOKUP] = "SELECT 0, id, NULL, 0, 0, 0 FROM messages"
		      " WHERE substr(sha256, 1, 8) = substr(?1, 1, 8) AND sha256 = ?1"
		      " UNION ALL SELECT 1, 0, digest, successful, failed, counts"
		      " FROM reports WHERE org = ?2 AND report_id = ?3"
		      " AND start = ?4"
		      " UNION ALL SELECT * FROM (SELECT 2, 0, NULL, 0, 0, 0"
		      " FROM reports WHERE substr(sha256, 1, 8) = substr(?5, 1, 8)"
		      " AND sha256 = ?5 LIMIT 1)",
	[DB_REP_PUT] = "INSERT INTO reports (message_id, part, org,"
		       " report_id, contact_id, start, end_, sha256, notes, successful,"
		       " failed, imported, counts, digest)"
		       " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"
		       " RETURNING id",
	[DB_POL_PUT] = "INSERT INTO policies (report, idx, type, domain,"
		       " domain_source, strings_id, mx_id, successful, failed)"
		       " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) RETURNING id",
	[DB_TEXT_FIND] = "SELECT id FROM texts WHERE text = ?1",
	[DB_TEXT_PUT] = "INSERT INTO texts (text) VALUES (?1) RETURNING id",
	[DB_DET_PUT] = "INSERT INTO details (policy, result_type, sending_ip,"
		       " receiving_mx, receiving_helo, receiving_ip, count,"
		       " additional_info, reason_code)"
		       " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
	[DB_DOM_PUT] = "INSERT INTO domain_counts (report, start, org, domain, types,"
		       " successful, failed, counts)"
		       " VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
	[DB_FAIL_PUT] = "INSERT INTO failure_counts (report, start, org, domain,"
			" result_type, sending_ip, receiving_mx, receiving_ip,"
			" count, counts) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
	[DB_REP_WINNER] = "SELECT r.id, coalesce(d.result = ?4, 0) FROM reports r"
			  " LEFT JOIN dkim d ON d.message_id = r.message_id"
			  " WHERE r.org = ?1 AND r.report_id = ?2 AND r.start = ?3"
			  " ORDER BY 2 DESC, r.message_id, r.part LIMIT 1",
	[DB_REP_SETTLE] = "UPDATE reports SET counts = CASE WHEN id = ?4 THEN ?5"
			  " ELSE 0 END WHERE org = ?1 AND report_id = ?2"
			  " AND start = ?3",
	[DB_DOM_SETTLE] = "UPDATE domain_counts SET counts = CASE WHEN report = ?4"
			  " THEN ?5 ELSE 0 END WHERE report IN (SELECT id FROM"
			  " reports WHERE org = ?1 AND report_id = ?2 AND start = ?3)",
	[DB_FAIL_SETTLE] = "UPDATE failure_counts SET counts = CASE WHEN report ="
			   " ?4 THEN ?5 ELSE 0 END WHERE report IN (SELECT id FROM"
			   " reports WHERE org = ?1 AND report_id = ?2"
			   " AND start = ?3)",
	[DB_REP_OF_MSG] = "SELECT org, report_id, start FROM reports"
			  " WHERE message_id = ?1",
	[DB_REP_OTHER] = "SELECT m.source, r.counts FROM reports r JOIN messages m"
			 " ON m.id = r.message_id WHERE r.org = ?1 AND"
			 " r.report_id = ?2 AND r.start = ?3 AND r.id != ?4"
			 " ORDER BY r.counts DESC, r.message_id LIMIT 1",

	[DB_QUA_PUT] = "INSERT OR IGNORE INTO quarantine (message_id, part, name,"
		       " status, reason, created) VALUES (?1,?2,?3,?4,?5,?6)"
		       " RETURNING id",
	[DB_QUA_LIST] = "SELECT q.id, q.message_id, q.part, q.name, m.source,"
			" q.status, q.reason, q.created, m.size FROM quarantine q"
			" JOIN messages m ON m.id = q.message_id ORDER BY q.id",
	[DB_QUA_GET] = "SELECT q.id, q.message_id, q.part, q.name, m.source,"
		       " q.status, q.reason, q.created, m.size FROM quarantine q"
		       " JOIN messages m ON m.id = q.message_id WHERE q.id = ?1",
	[DB_QUA_LIST_MSG] = "SELECT q.id, q.message_id, q.part, q.name, m.source,"
			    " q.status, q.reason, q.created, m.size FROM quarantine q"
			    " JOIN messages m ON m.id = q.message_id"
			    " WHERE q.message_id = ?1 ORDER BY q.part",
	[DB_QUA_COUNT] = "SELECT count(*) FROM quarantine",

	/* a NULL filter matches everything (`?3 IS NULL OR domain = ?3`):
	 * one statement per scan, and the start index drives each */
	[DB_SCAN_REPORTS] =
		"SELECT r.id, r.org, r.report_id, r.start, r.end_, k.result,"
		" k.domain, k.detail, (SELECT count(DISTINCT coalesce(c.digest,"
		"  c.sha256)) FROM reports c WHERE c.org = r.org"
		"  AND c.report_id = r.report_id AND c.start = r.start)"
		" FROM reports r LEFT JOIN dkim k ON k.message_id = r.message_id"
		" WHERE r.start >= ?1 AND r.start < ?2 AND r.counts >= 1"
		" AND (?4 IS NULL OR r.org = ?4)"
		" AND (?3 IS NULL OR EXISTS (SELECT 1 FROM domain_counts d"
		"  WHERE d.report = r.id AND d.domain = ?3))"
		" AND (?5 IS NULL OR EXISTS (SELECT 1 FROM failure_counts x"
		"  WHERE x.report = r.id AND coalesce(x.receiving_mx,"
		"  x.receiving_ip) = ?5))",
	[DB_SCAN_DOMAINS] =
		"SELECT d.report, d.org, d.start, d.domain, d.types, d.successful,"
		" d.failed FROM domain_counts d"
		" WHERE d.start >= ?1 AND d.start < ?2 AND d.counts >= ?6"
		" AND (?3 IS NULL OR d.domain = ?3) AND (?4 IS NULL OR d.org = ?4)"
		" AND (?5 IS NULL OR EXISTS (SELECT 1 FROM failure_counts x"
		"  WHERE x.report = d.report AND x.domain = d.domain"
		"  AND coalesce(x.receiving_mx, x.receiving_ip) = ?5))"
		" ORDER BY d.start, d.report",
	[DB_SCAN_POLICIES] =
		"SELECT r.id, r.org, r.start, p.domain, p.type, p.successful,"
		" p.failed FROM reports r JOIN policies p ON p.report = r.id"
		" WHERE r.start >= ?1 AND r.start < ?2 AND r.counts >= ?6"
		" AND (?3 IS NULL OR p.domain = ?3) AND (?4 IS NULL OR r.org = ?4)"
		" AND (?5 IS NULL OR EXISTS (SELECT 1 FROM failure_counts x"
		"  WHERE x.report = r.id AND x.domain = p.domain"
		"  AND coalesce(x.receiving_mx, x.receiving_ip) = ?5))"
		" ORDER BY r.start, r.id, p.idx",
	[DB_SCAN_FAILURES] =
		"SELECT x.report, x.org, x.start, x.domain, x.result_type,"
		" x.sending_ip, x.receiving_mx, x.receiving_ip, x.count"
		" FROM failure_counts x"
		" WHERE x.start >= ?1 AND x.start < ?2 AND x.counts >= ?6"
		" AND (?3 IS NULL OR x.domain = ?3) AND (?4 IS NULL OR x.org = ?4)"
		" AND (?5 IS NULL OR coalesce(x.receiving_mx, x.receiving_ip) = ?5)"
		" ORDER BY x.start, x.report",
	/* the start index gives the order of start; the rest is sorted
	 * within each start ("temp b-tree for right part of ORDER BY"), so
	 * memory follows the reports of one start, not the window; a
	 * policy's details keep the order of the report (rowid) */
	[DB_SCAN_DETAILS] =
		"SELECT r.report_id, r.org, r.start, r.end_, p.domain, p.type,"
		" x.result_type, x.sending_ip, x.receiving_mx, x.receiving_helo,"
		" x.receiving_ip, x.count, x.reason_code, x.additional_info,"
		" k.result, k.domain"
		DETAIL_FROM_WHERE
		" ORDER BY r.start, r.org, r.report_id, r.id, p.idx, x.rowid",
	[DB_COUNT_DETAILS] = "SELECT count(*)" DETAIL_FROM_WHERE,
	[DB_HAS_BEFORE] = "SELECT 1 FROM reports WHERE start < ?1 LIMIT 1",
	[DB_FAIL_KINDS] =
		"SELECT DISTINCT x.org, x.result_type,"
		" coalesce(x.receiving_mx, x.receiving_ip) FROM failure_counts x"
		" WHERE x.start >= ?1 AND x.start < ?2 AND x.counts >= ?6"
		" AND (?3 IS NULL OR x.domain = ?3) AND (?4 IS NULL OR x.org = ?4)"
		" AND (?5 IS NULL OR coalesce(x.receiving_mx, x.receiving_ip) = ?5)",
	[DB_FAILING_ORGS] =
		"SELECT DISTINCT d.org FROM domain_counts d"
		" WHERE d.start >= ?1 AND d.start < ?2 AND d.counts >= ?6"
		" AND d.failed > 0"
		" AND (?3 IS NULL OR d.domain = ?3) AND (?4 IS NULL OR d.org = ?4)"
		" AND (?5 IS NULL OR EXISTS (SELECT 1 FROM failure_counts x"
		"  WHERE x.report = d.report AND x.domain = d.domain"
		"  AND coalesce(x.receiving_mx, x.receiving_ip) = ?5))",

	[DB_CHECK_PUT] = "INSERT INTO checks (domain, at, worst, incomplete)"
			 " VALUES (?1, ?2, ?3, ?4) RETURNING id",
	[DB_FINDING_PUT] = "INSERT INTO check_findings (check_id, idx, level, code,"
			   " subject, text, dnssec) VALUES (?1, ?2, ?3, ?4, ?5,"
			   " ?6, ?7)",
	[DB_CHECK_DATA_PUT] = "INSERT INTO check_data (check_id, kind, name, value)"
			      " VALUES (?1, ?2, ?3, ?4)",
	[DB_FINDINGS_OF] = "SELECT level, code, subject, text, dnssec"
			   " FROM check_findings WHERE check_id = ?1 ORDER BY idx",
	[DB_CHECK_COMPLETE] = "SELECT id, at FROM checks WHERE domain = ?1"
			      " AND at < ?2 AND incomplete = 0 ORDER BY at DESC,"
			      " id DESC",
	[DB_FINDING_IN] = "SELECT 1 FROM check_findings WHERE check_id = ?1"
			  " AND code = ?2 AND subject = ?3",
	[DB_CHECK_LATEST] = "SELECT id, domain, at, worst, incomplete FROM checks"
			    " WHERE domain = ?1 AND at <= ?2"
			    " ORDER BY at DESC, id DESC LIMIT 2",
	[DB_CHECK_DOMAINS] = "SELECT DISTINCT domain FROM checks WHERE"
			     " at >= ?1 AND at < ?2 ORDER BY domain",
	[DB_POLICY_DOMAINS] = "SELECT DISTINCT lower(p.domain) FROM"
			      " reports r JOIN policies p ON p.report = r.id"
			      " WHERE r.start >= ?1 AND r.start < ?2 AND"
			      " r.counts >= 1 ORDER BY 1",
	[DB_POLICY_STRINGS] = "SELECT r.org, r.start, t.text FROM"
			      " reports r JOIN policies p ON p.report = r.id"
			      " JOIN texts t ON t.id = p.strings_id"
			      " WHERE r.start >= ?1 AND r.start < ?2 AND"
			      " lower(p.domain) = lower(?3) AND p.type = 'sts' AND"
			      " r.counts >= 1"
			      " ORDER BY r.start, r.org, r.report_id, r.id, p.idx",

	[DB_SYNC_GET] = "SELECT uidvalidity, last_uid FROM imap_state"
			" WHERE account = ?1 AND mailbox = ?2",
	/* within one UIDVALIDITY the highest UID done only grows; a new
	 * UIDVALIDITY replaces the old state */
	[DB_SYNC_PUT] = "INSERT INTO imap_state (account, mailbox, uidvalidity,"
			" last_uid) VALUES (?1, ?2, ?3, ?4)"
			" ON CONFLICT (account, mailbox) DO UPDATE SET"
			" last_uid = CASE WHEN uidvalidity = excluded.uidvalidity"
			" THEN max(last_uid, excluded.last_uid)"
			" ELSE excluded.last_uid END,"
			" uidvalidity = excluded.uidvalidity",
	[DB_SYNC_SEEN] = "INSERT INTO imap_state (account, mailbox, uidvalidity,"
			 " last_uid, uv_changes) VALUES (?1, ?2, ?3, 0, 0)"
			 " ON CONFLICT (account, mailbox) DO UPDATE SET"
			 " uv_changes = CASE WHEN uidvalidity = excluded.uidvalidity"
			 " THEN 0 ELSE uv_changes + 1 END,"
			 " last_uid = CASE WHEN uidvalidity = excluded.uidvalidity"
			 " THEN last_uid ELSE 0 END,"
			 " uidvalidity = excluded.uidvalidity"
			 " RETURNING uv_changes",

	[DB_DICT_NEWEST] = "SELECT id, ratio, data, packed FROM dicts ORDER BY id DESC"
			   " LIMIT 1",
	[DB_DICT_GET] = "SELECT data FROM dicts WHERE id = ?1",
	[DB_DICT_PUT] = "INSERT INTO dicts (created, samples, ratio, data,"
			" packed) VALUES (?1, ?2, ?3, ?4, 1) RETURNING id",
	[DB_MSG_NEXT] = "SELECT coalesce(max(id), 0) + 1, 0 FROM messages",
	[DB_MSG_NEXT_COUNT] = "SELECT coalesce(max(id), 0) + 1, count(*) FROM"
			      " messages",
	[DB_DICT_USE] = "SELECT count(*), coalesce(sum(size), 0),"
			" coalesce(sum(length(data)), 0) FROM messages WHERE"
			" id >= ?1 AND codec >= ?2 AND dict IS ?3",
	[DB_MSG_NEWEST] = "SELECT id, length(data) FROM messages"
			  " ORDER BY id DESC LIMIT ?1",
	/* one lower bound on the rowid, so that SQLite starts there: with a
	 * second one in the condition it chose the first and read every row
	 * of a 5 GB store (the dict column lies after each blob) */
	[DB_RECODE_UNDICTED] = RECODE("codec >= 2 AND dict IS NULL"),
	[DB_RECODE_OTHER] = RECODE("codec >= 2 AND dict IS NOT ?1"),
	[DB_RECODE_OLD] = RECODE("codec = 1 OR (codec >= 2 AND dict IS NOT ?1)"),
	[DB_RECODE_ZLIB] = RECODE("codec = 1"),
	[DB_MSG_RECODE] = "UPDATE messages SET codec = ?1, dict = ?2, data = ?3"
			  " WHERE id = ?4",

	[DB_REPARSE_OLD] = "SELECT org, report_id, start, sha256, notes, successful,"
			   " failed, part FROM reports WHERE message_id = ?1",
	[DB_REPARSE_QPARTS] = "SELECT part FROM quarantine WHERE message_id = ?1",
	[DB_FORGET_REPORTS] = "DELETE FROM reports WHERE message_id = ?1",
	[DB_FORGET_QUARANTINE] = "DELETE FROM quarantine WHERE message_id = ?1",
	[DB_IDS_ALL] = "SELECT id FROM messages ORDER BY id",
	[DB_IDS_QUARANTINED] = "SELECT DISTINCT message_id FROM quarantine"
			       " ORDER BY 1",
	[DB_IDS_REPORTED] = "SELECT DISTINCT message_id FROM reports ORDER BY 1",
	[DB_IDS_VERDICT] = "SELECT message_id FROM dkim WHERE result = ?1"
			   " AND at < ?2 ORDER BY 1",

	/* the counted tables and check_data have no key but the rowid, in
	 * the order the rows were stored: read in it, written in it */
	[DB_COPY_ANY] = "SELECT EXISTS (SELECT 1 FROM dicts)"
			" OR EXISTS (SELECT 1 FROM messages)"
			" OR EXISTS (SELECT 1 FROM dkim)"
			" OR EXISTS (SELECT 1 FROM texts)"
			" OR EXISTS (SELECT 1 FROM reports)"
			" OR EXISTS (SELECT 1 FROM policies)"
			" OR EXISTS (SELECT 1 FROM details)"
			" OR EXISTS (SELECT 1 FROM domain_counts)"
			" OR EXISTS (SELECT 1 FROM failure_counts)"
			" OR EXISTS (SELECT 1 FROM quarantine)"
			" OR EXISTS (SELECT 1 FROM imap_state)"
			" OR EXISTS (SELECT 1 FROM checks)"
			" OR EXISTS (SELECT 1 FROM check_findings)"
			" OR EXISTS (SELECT 1 FROM check_data)",
	/* length() reads the record header, not the blob */
	[DB_COPY_MSG_SIZES] = "SELECT length(data) FROM messages WHERE id > ?1"
			      " ORDER BY id LIMIT ?2",
	[DB_COPY_DICT_READ] = "SELECT id, created, samples, ratio, data, packed"
			      " FROM dicts WHERE id > ?1 ORDER BY id LIMIT ?2",
	[DB_COPY_DICT_WRITE] = "INSERT INTO dicts (id, created, samples, ratio,"
			       " data, packed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[DB_COPY_MSG_READ] = "SELECT id, sha256, source, size, received, codec,"
			     " data, truncated, dict FROM messages WHERE id > ?1"
			     " ORDER BY id LIMIT ?2",
	[DB_COPY_MSG_WRITE] = "INSERT INTO messages (id, sha256, source, size,"
			      " received, codec, data, truncated, dict)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[DB_COPY_DKIM_READ] = "SELECT message_id, result, domain, selector, detail,"
			      " at FROM dkim WHERE message_id > ?1"
			      " ORDER BY message_id LIMIT ?2",
	[DB_COPY_DKIM_WRITE] = "INSERT INTO dkim (message_id, result, domain,"
			       " selector, detail, at)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[DB_COPY_TEXT_READ] = "SELECT id, text FROM texts WHERE id > ?1"
			      " ORDER BY id LIMIT ?2",
	[DB_COPY_TEXT_WRITE] = "INSERT INTO texts (id, text) VALUES (?1, ?2)",
	[DB_COPY_REP_READ] = "SELECT id, message_id, part, org, report_id,"
			     " contact_id, start, end_, sha256, notes, successful,"
			     " failed, imported, counts, digest FROM reports"
			     " WHERE id > ?1 ORDER BY id LIMIT ?2",
	[DB_COPY_REP_WRITE] = "INSERT INTO reports (id, message_id, part, org,"
			      " report_id, contact_id, start, end_, sha256, notes,"
			      " successful, failed, imported, counts, digest)"
			      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,"
			      "?14,?15)",
	[DB_COPY_DOM_READ] = "SELECT report, start, org, domain, types, successful,"
			     " failed, counts FROM domain_counts"
			     " WHERE report > ?1 AND report <= ?2"
			     " ORDER BY report, rowid",
	[DB_COPY_DOM_WRITE] = "INSERT INTO domain_counts (report, start, org,"
			      " domain, types, successful, failed, counts)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[DB_COPY_FAIL_READ] = "SELECT report, start, org, domain, result_type,"
			      " sending_ip, receiving_mx, receiving_ip, count,"
			      " counts FROM failure_counts"
			      " WHERE report > ?1 AND report <= ?2"
			      " ORDER BY report, rowid",
	[DB_COPY_FAIL_WRITE] = "INSERT INTO failure_counts (report, start, org,"
			       " domain, result_type, sending_ip, receiving_mx,"
			       " receiving_ip, count, counts)"
			       " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
	[DB_COPY_POL_READ] = "SELECT id, report, idx, type, domain, domain_source,"
			     " strings_id, mx_id, successful, failed FROM policies"
			     " WHERE id > ?1 ORDER BY id LIMIT ?2",
	[DB_COPY_POL_WRITE] = "INSERT INTO policies (id, report, idx, type, domain,"
			      " domain_source, strings_id, mx_id, successful,"
			      " failed) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
	[DB_COPY_DET_READ] = "SELECT rowid, policy, result_type, sending_ip,"
			     " receiving_mx, receiving_helo, receiving_ip, count,"
			     " additional_info, reason_code FROM details"
			     " WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
	[DB_COPY_DET_WRITE] = "INSERT INTO details (rowid, policy, result_type,"
			      " sending_ip, receiving_mx, receiving_helo,"
			      " receiving_ip, count, additional_info, reason_code)"
			      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
	[DB_COPY_QUA_READ] = "SELECT id, message_id, part, name, status, reason,"
			     " created FROM quarantine WHERE id > ?1"
			     " ORDER BY id LIMIT ?2",
	[DB_COPY_QUA_WRITE] = "INSERT INTO quarantine (id, message_id, part, name,"
			      " status, reason, created)"
			      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[DB_COPY_SYNC_READ] = "SELECT account, mailbox, uidvalidity, last_uid,"
			      " uv_changes FROM imap_state ORDER BY account, mailbox",
	[DB_COPY_SYNC_WRITE] = "INSERT INTO imap_state (account, mailbox,"
			       " uidvalidity, last_uid, uv_changes)"
			       " VALUES (?1, ?2, ?3, ?4, ?5)",
	[DB_COPY_CHECK_READ] = "SELECT id, domain, at, worst, incomplete FROM checks"
			       " WHERE id > ?1 ORDER BY id LIMIT ?2",
	[DB_COPY_CHECK_WRITE] = "INSERT INTO checks (id, domain, at, worst,"
				" incomplete) VALUES (?1, ?2, ?3, ?4, ?5)",
	[DB_COPY_FINDING_READ] = "SELECT check_id, idx, level, code, subject, text,"
				 " dnssec FROM check_findings"
				 " WHERE check_id > ?1 AND check_id <= ?2"
				 " ORDER BY check_id, idx",
	[DB_COPY_FINDING_WRITE] = "INSERT INTO check_findings (check_id, idx,"
				  " level, code, subject, text, dnssec)"
				  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[DB_COPY_CDATA_READ] = "SELECT check_id, kind, name, value FROM check_data"
			       " WHERE check_id > ?1 AND check_id <= ?2"
			       " ORDER BY check_id, rowid",
	[DB_COPY_CDATA_WRITE] = "INSERT INTO check_data (check_id, kind, name,"
				" value) VALUES (?1, ?2, ?3, ?4)",
	/* INTEGER PRIMARY KEY without AUTOINCREMENT: a new row gets
	 * max(rowid) + 1 */
	[DB_COPY_SEQUENCES] = "SELECT 1 WHERE 0",
};

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static int
sq_error(struct db *d, struct mxd_err *err, const char *what)
{
	int code = sqlite3_extended_errcode(d->h);

	if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED)
		return mxd_err_set(err, MXD_E_LOCKED, "\"%s\": %s: database is busy",
				   d->path, what);
	return mxd_err_set(err, MXD_E_STORE, "\"%s\": %s: %s", d->path, what,
			   sqlite3_errmsg(d->h));
}

static int
exec(struct db *d, const char *sql, struct mxd_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(d->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		mxd_err_set(err, sqlite3_errcode(d->h) == SQLITE_BUSY ? MXD_E_LOCKED
								      : MXD_E_STORE,
			    "\"%s\": %s", d->path, msg ? msg : "SQL error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* ---- statements -------------------------------------------------------- */

static struct dbq *
sq_get(struct db *d, enum db_stmt id, struct mxd_err *err)
{
	struct sq *q = &d->q[id];

	if (!q->st) {
		const char *sql = db_sqlite_sql[id];
		size_t n = strlen(sql), k = strlen(RETURNING_ID);

		q->returning_id = n > k && strncmp(sql, "INSERT", 6) == 0 &&
				  strcmp(sql + n - k, RETURNING_ID) == 0;
		if (sqlite3_prepare_v3(d->h, sql,
				       (int)(q->returning_id ? n - k : n),
				       SQLITE_PREPARE_PERSISTENT, &q->st,
				       NULL) != SQLITE_OK) {
			sq_error(d, err, "prepare");
			q->st = NULL;
			return NULL;
		}
	}
	sqlite3_reset(q->st);
	sqlite3_clear_bindings(q->st);
	q->gave = 0;
	return &q->base;
}

#define SQ(q) (((struct sq *)(void *)(q))->st)

static void
sq_bind_int(struct dbq *q, int i, int64_t v)
{
	sqlite3_bind_int64(SQ(q), i, v);
}

static void
sq_bind_double(struct dbq *q, int i, double v)
{
	sqlite3_bind_double(SQ(q), i, v);
}

static void
sq_bind_text(struct dbq *q, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(SQ(q), i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(SQ(q), i);
}

static void
sq_bind_blob(struct dbq *q, int i, const void *p, size_t n)
{
	/* an empty blob is a blob, not NULL */
	sqlite3_bind_blob64(SQ(q), i, n ? p : "", n, SQLITE_STATIC);
}

static void
sq_bind_null(struct dbq *q, int i)
{
	sqlite3_bind_null(SQ(q), i);
}

static int
sq_step(struct dbq *q)
{
	struct sq *s = (struct sq *)(void *)q;

	if (s->returning_id && s->gave)
		return 0;
	switch (sqlite3_step(SQ(q))) {
	case SQLITE_ROW:
		return 1;
	case SQLITE_DONE:
		/* the row RETURNING id would give; none when OR IGNORE did
		 * not insert */
		if (s->returning_id && sqlite3_changes(s->db->h) > 0) {
			s->id = sqlite3_last_insert_rowid(s->db->h);
			s->gave = 1;
			return 1;
		}
		return 0;
	default:
		return -1;
	}
}

static int
sq_is_null(struct dbq *q, int i)
{
	if (((struct sq *)(void *)q)->gave)
		return i != 0;
	return sqlite3_column_type(SQ(q), i) == SQLITE_NULL;
}

static int64_t
sq_col_int(struct dbq *q, int i)
{
	struct sq *s = (struct sq *)(void *)q;

	if (s->returning_id && s->gave)
		return i == 0 ? s->id : 0;
	return sqlite3_column_int64(SQ(q), i);
}

static double
sq_col_double(struct dbq *q, int i)
{
	return sqlite3_column_double(SQ(q), i);
}

static const char *
sq_col_text(struct dbq *q, int i)
{
	return col_text(SQ(q), i);
}

static const void *
sq_col_blob(struct dbq *q, int i, size_t *n)
{
	const void *p = sqlite3_column_blob(SQ(q), i);

	*n = (size_t)sqlite3_column_bytes(SQ(q), i);
	return p;
}

static void
sq_reset(struct dbq *q)
{
	((struct sq *)(void *)q)->gave = 0;
	sqlite3_reset(SQ(q));
}

static int
sq_begin(struct db *d, struct mxd_err *err)
{
	return exec(d, "BEGIN IMMEDIATE", err);
}

/* deferred: the first read takes the WAL snapshot, kept to the end */
static int
sq_snapshot(struct db *d, struct mxd_err *err)
{
	return exec(d, "BEGIN", err);
}

static int
sq_commit(struct db *d, struct mxd_err *err)
{
	return exec(d, "COMMIT", err);
}

static void
sq_rollback(struct db *d)
{
	exec(d, "ROLLBACK", NULL);
}

static int
sq_lock(struct db *d, enum db_lock kind, const char *key, int wait,
	struct mxd_err *err)
{
	(void)d, (void)kind, (void)key, (void)wait, (void)err;
	return 1;	/* the writer's flock covers it all */
}

static void
sq_unlock(struct db *d, enum db_lock kind, const char *key)
{
	(void)d, (void)kind, (void)key;
}

/* ---- schema ---------------------------------------------------------- */

static const char schema_v1[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
	"  WITHOUT ROWID;"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  sha256 BLOB NOT NULL UNIQUE,"
	"  source TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  codec INTEGER NOT NULL,"		/* 0 raw, 1 zlib, 2 zstd */
	"  data BLOB NOT NULL);"
	"CREATE TABLE reports ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER NOT NULL REFERENCES messages(id),"
	"  part INTEGER NOT NULL,"
	"  org TEXT NOT NULL,"
	"  report_id TEXT NOT NULL,"
	"  contact TEXT,"
	"  start INTEGER NOT NULL,"
	"  end_ INTEGER NOT NULL,"
	"  sha256 BLOB NOT NULL UNIQUE,"
	"  notes TEXT NOT NULL,"
	"  successful INTEGER NOT NULL,"
	"  failed INTEGER NOT NULL,"
	"  imported INTEGER NOT NULL,"
	"  UNIQUE (org, report_id, start));"
	"CREATE INDEX reports_start ON reports(start);"
	"CREATE INDEX reports_message ON reports(message_id);"
	"CREATE TABLE policies ("
	"  id INTEGER PRIMARY KEY,"
	"  report INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,"
	"  idx INTEGER NOT NULL,"
	"  type TEXT NOT NULL,"
	"  domain TEXT NOT NULL,"
	"  domain_source INTEGER NOT NULL,"
	"  strings TEXT,"			/* lines joined by \n */
	"  mx_hosts TEXT,"
	"  successful INTEGER NOT NULL,"
	"  failed INTEGER NOT NULL);"
	"CREATE INDEX policies_report ON policies(report);"
	"CREATE TABLE details ("
	"  policy INTEGER NOT NULL REFERENCES policies(id) ON DELETE CASCADE,"
	"  result_type TEXT NOT NULL,"
	"  sending_ip TEXT, receiving_mx TEXT, receiving_helo TEXT,"
	"  receiving_ip TEXT,"
	"  count INTEGER NOT NULL,"
	"  additional_info TEXT, reason_code TEXT);"
	"CREATE INDEX details_policy ON details(policy);"
	"CREATE TABLE domain_counts ("
	"  report INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,"
	"  start INTEGER NOT NULL, org TEXT NOT NULL, domain TEXT NOT NULL,"
	"  types TEXT NOT NULL,"
	"  successful INTEGER NOT NULL, failed INTEGER NOT NULL);"
	"CREATE INDEX domain_counts_start ON domain_counts(start);"
	"CREATE INDEX domain_counts_report ON domain_counts(report);"
	"CREATE TABLE failure_counts ("
	"  report INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,"
	"  start INTEGER NOT NULL, org TEXT NOT NULL, domain TEXT NOT NULL,"
	"  result_type TEXT NOT NULL,"
	"  sending_ip TEXT, receiving_mx TEXT, receiving_ip TEXT,"
	"  count INTEGER NOT NULL);"
	"CREATE INDEX failure_counts_start ON failure_counts(start);"
	"CREATE INDEX failure_counts_report ON failure_counts(report);"
	"CREATE TABLE quarantine ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER NOT NULL REFERENCES messages(id),"
	"  part INTEGER NOT NULL,"
	"  name TEXT,"
	"  status INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  created INTEGER NOT NULL,"
	"  UNIQUE (message_id, part));"
	"CREATE TABLE imap_state ("
	"  account TEXT NOT NULL, mailbox TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL,"
	"  PRIMARY KEY (account, mailbox)) WITHOUT ROWID;";

/* From version 1 to 2 (the keys of messages are recomputed in C). */
static const char schema_v2[] =
	"ALTER TABLE messages ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE imap_state ADD COLUMN uv_changes INTEGER NOT NULL"
	"  DEFAULT 0;";

/*
 * From version 2 to 3: DKIM verdicts, and copies of a report.
 *
 * dkim holds the verdict of a message (an enum dkimv_result), taken when
 * it arrived; a message without a row was never looked at (every message
 * of version 2).  It is a table of its own because a column of messages
 * would sit behind the raw bytes, and reading it would walk the blob.
 *
 * A report identity (organization, report-id, start) may now have several
 * copies: with other content (a forged one and the genuine one), or with
 * the same content in a verified mail after an unverified one.  All are
 * kept, and `counts` says which one counts: 0 for the other copies, 1 for
 * the counted copy, 2 for the counted copy when its mail verified.  The
 * counted tables repeat it, so that `dkim = require` (counts = 2) and the
 * default (counts >= 1) read one column.  `digest` is what the report
 * says (tlsrpt_digest()), sha256 its bytes; rows of version 2 have no
 * digest.  Version 2 had the identity and sha256 UNIQUE, so the table is
 * rebuilt (with foreign keys off: see migrate()).
 */
static const char schema_v3[] =
	"CREATE TABLE dkim ("
	"  message_id INTEGER PRIMARY KEY REFERENCES messages(id),"
	"  result INTEGER NOT NULL,"
	"  domain TEXT, selector TEXT, detail TEXT,"
	"  at INTEGER NOT NULL);"
	"CREATE TABLE reports_v3 ("
	"  id INTEGER PRIMARY KEY,"
	"  message_id INTEGER NOT NULL REFERENCES messages(id),"
	"  part INTEGER NOT NULL,"
	"  org TEXT NOT NULL,"
	"  report_id TEXT NOT NULL,"
	"  contact TEXT,"
	"  start INTEGER NOT NULL,"
	"  end_ INTEGER NOT NULL,"
	"  sha256 BLOB NOT NULL,"
	"  notes TEXT NOT NULL,"
	"  successful INTEGER NOT NULL,"
	"  failed INTEGER NOT NULL,"
	"  imported INTEGER NOT NULL,"
	"  counts INTEGER NOT NULL DEFAULT 1,"
	"  digest BLOB);"
	"INSERT INTO reports_v3 (id, message_id, part, org, report_id, contact,"
	"  start, end_, sha256, notes, successful, failed, imported)"
	"  SELECT id, message_id, part, org, report_id, contact, start, end_,"
	"  sha256, notes, successful, failed, imported FROM reports;"
	"DROP TABLE reports;"
	"ALTER TABLE reports_v3 RENAME TO reports;"
	"CREATE INDEX reports_start ON reports(start);"
	"CREATE INDEX reports_message ON reports(message_id);"
	"CREATE INDEX reports_ident ON reports(org, report_id, start);"
	"CREATE INDEX reports_sha ON reports(sha256);"
	"ALTER TABLE domain_counts ADD COLUMN counts INTEGER NOT NULL DEFAULT 1;"
	"ALTER TABLE failure_counts ADD COLUMN counts INTEGER NOT NULL"
	"  DEFAULT 1;";

/* Version 2 keys messages by their identity: recompute every key.  Two
 * messages that turn out to be one keep their own rows (the later keeps
 * its old key); nothing is lost. */
static int
rekey_messages(struct db *d, struct store *s, struct mxd_err *err)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	struct buf raw;
	unsigned char id[SHA256_LEN];
	int rc;

	if (sqlite3_prepare_v2(d->h, "SELECT id FROM messages ORDER BY id", -1,
			       &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d->h, "UPDATE messages SET sha256 = ?1 WHERE id = ?2"
			       " AND NOT EXISTS (SELECT 1 FROM messages WHERE"
			       " substr(sha256, 1, 8) = substr(?1, 1, 8) AND"
			       " sha256 = ?1)", -1, &upd, NULL) != SQLITE_OK) {
		sqlite3_finalize(sel);
		return sq_error(d, err, "upgrading the schema");
	}
	buf_init(&raw, BUF_NOCAP);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		int64_t mid = sqlite3_column_int64(sel, 0);

		if (store_message_get(s, mid, &raw, NULL, NULL, err) < 0)
			break;
		store_message_ident(raw.data ? (const void *)raw.data : "", raw.len, id);
		sqlite3_bind_blob(upd, 1, id, SHA256_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(upd, 2, mid);
		if (sqlite3_step(upd) != SQLITE_DONE) {
			sq_error(d, err, "upgrading the schema");
			break;
		}
		sqlite3_reset(upd);
	}
	buf_release(&raw);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return rc == SQLITE_DONE ? 0 : -1;
}


static int
schema_version(struct db *d, int *version, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*version = 0;
	if (sqlite3_prepare_v2(d->h, "SELECT count(*) FROM sqlite_master WHERE"
			       " type = 'table' AND name = 'meta'", -1, &st,
			       NULL) != SQLITE_OK)
		return sq_error(d, err, "schema");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return sq_error(d, err, "schema");
	}
	if (sqlite3_column_int(st, 0) == 0) {
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(d->h, "SELECT value FROM meta WHERE key ="
			       " 'schema_version'", -1, &st, NULL) != SQLITE_OK)
		return sq_error(d, err, "schema");
	if (sqlite3_step(st) == SQLITE_ROW)
		*version = atoi(col_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

/* After a rebuild: every reference still finds its row. */
static int
foreign_keys_ok(struct db *d, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(d->h, "PRAGMA foreign_key_check", -1, &st,
			       NULL) != SQLITE_OK)
		return sq_error(d, err, "upgrade");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		mxd_err_set(err, MXD_E_STORE, "\"%s\": the upgrade left table %s "
			    "with a row that refers to nothing", d->path,
			    col_text(st, 0));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_error(d, err, "upgrade");
}

/*
 * From version 3 to 4: the runs of `mxdigest check`.  A run is one domain
 * at one time, with its worst level and whether every lookup and
 * connection completed; its findings keep their order; check_data holds
 * the raw records and the policy it saw (kind: tlsrpt-txt, sts-txt,
 * sts-policy, mx, tlsa, cert).
 */
static const char schema_v4[] =
	"CREATE TABLE checks ("
	"  id INTEGER PRIMARY KEY,"
	"  domain TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  worst INTEGER NOT NULL,"
	"  incomplete INTEGER NOT NULL);"
	"CREATE INDEX checks_domain ON checks(domain, at);"
	"CREATE INDEX checks_at ON checks(at);"
	"CREATE TABLE check_findings ("
	"  check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,"
	"  idx INTEGER NOT NULL,"
	"  level INTEGER NOT NULL,"
	"  code TEXT NOT NULL,"
	"  subject TEXT NOT NULL,"
	"  text TEXT NOT NULL,"
	"  dnssec INTEGER NOT NULL,"
	"  PRIMARY KEY (check_id, idx)) WITHOUT ROWID;"
	"CREATE INDEX check_findings_code ON check_findings(code, subject);"
	"CREATE TABLE check_data ("
	"  check_id INTEGER NOT NULL REFERENCES checks(id) ON DELETE CASCADE,"
	"  kind TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  value TEXT NOT NULL);"
	"CREATE INDEX check_data_check ON check_data(check_id);";

/*
 * From version 4 to 5: raw copies in zstd with dictionaries trained from
 * the store's messages (codec.c).  A dictionary is never deleted while a
 * row names it; rows of version 4 stay zlib until `reparse --recompress`.
 * And the policy strings and MX host lists, 160 bytes of every policy row
 * and the same text for every report of a domain, are kept once in
 * `texts` (a text no policy uses any more after a reparse stays: there
 * are few).
 */
static const char schema_v5[] =
	"CREATE TABLE dicts ("
	"  id INTEGER PRIMARY KEY,"
	"  created INTEGER NOT NULL,"
	"  samples INTEGER NOT NULL,"
	"  ratio REAL NOT NULL,"
	"  data BLOB NOT NULL);"
	"ALTER TABLE messages ADD COLUMN dict INTEGER REFERENCES dicts(id);"
	"CREATE TABLE texts ("
	"  id INTEGER PRIMARY KEY,"
	"  text TEXT NOT NULL UNIQUE);"
	"ALTER TABLE policies ADD COLUMN strings_id INTEGER REFERENCES texts(id);"
	"ALTER TABLE policies ADD COLUMN mx_id INTEGER REFERENCES texts(id);"
	"INSERT OR IGNORE INTO texts (text) SELECT strings FROM policies"
	"  WHERE strings IS NOT NULL;"
	"INSERT OR IGNORE INTO texts (text) SELECT mx_hosts FROM policies"
	"  WHERE mx_hosts IS NOT NULL;"
	"UPDATE policies SET"
	"  strings_id = (SELECT id FROM texts WHERE text = policies.strings),"
	"  mx_id = (SELECT id FROM texts WHERE text = policies.mx_hosts);"
	"ALTER TABLE policies DROP COLUMN strings;"
	"ALTER TABLE policies DROP COLUMN mx_hosts;";

/*
 * From version 5 to 6: packed raw copies (store/pack.c, codec 3).  A
 * dictionary trained on packed forms says so (dicts.packed); one of
 * version 5 was trained on mails as they came, and copies are packed
 * only once a dictionary of packed forms is in use.  Narrower indexes:
 * the hashes (a message's identity, a report's content) by their first 8
 * bytes, the full hash compared in the row (about 45 B of index each a
 * report, now 15-18); the report identity by (report_id, start), the
 * organization compared in the row (a sender's report ids are its own in
 * practice; one that reuses an id still has one row a day).  messages is
 * rebuilt for it (UNIQUE (sha256) was its own index), with the blob last
 * so that reading dict or truncated does not walk past it.  Nothing but
 * the one writer inserts into messages, after store_message_find() said
 * the message is not there; PostgreSQL, with writers side by side, keeps
 * UNIQUE (sha256).  A report's contact-info is one text per sender: kept
 * once in texts, as the policy texts are (reports.contact_id).
 */
static const char schema_v6[] =
	"ALTER TABLE dicts ADD COLUMN packed INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE messages_v6 ("
	"  id INTEGER PRIMARY KEY,"
	"  sha256 BLOB NOT NULL,"
	"  source TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  received INTEGER NOT NULL,"
	"  codec INTEGER NOT NULL,"
	"  truncated INTEGER NOT NULL DEFAULT 0,"
	"  dict INTEGER REFERENCES dicts(id),"
	"  data BLOB NOT NULL);"
	"INSERT INTO messages_v6 (id, sha256, source, size, received, codec,"
	"  truncated, dict, data) SELECT id, sha256, source, size, received,"
	"  codec, truncated, dict, data FROM messages;"
	"DROP TABLE messages;"
	"ALTER TABLE messages_v6 RENAME TO messages;"
	"CREATE INDEX messages_sha8 ON messages(substr(sha256, 1, 8));"
	"DROP INDEX reports_sha;"
	"CREATE INDEX reports_sha8 ON reports(substr(sha256, 1, 8));"
	"DROP INDEX reports_ident;"
	"CREATE INDEX reports_ident ON reports(report_id, start);"
	"ALTER TABLE reports ADD COLUMN contact_id INTEGER REFERENCES texts(id);"
	"INSERT OR IGNORE INTO texts (text) SELECT contact FROM reports"
	"  WHERE contact IS NOT NULL;"
	"UPDATE reports SET contact_id = (SELECT id FROM texts"
	"  WHERE text = reports.contact) WHERE contact IS NOT NULL;"
	"ALTER TABLE reports DROP COLUMN contact;";

/* Creates or upgrades the schema; migrations from older versions go here.
 * Returns 1 when a read-only store finds an older schema. */
static int
migrate(struct db *d, struct store *s, enum store_mode mode, struct mxd_err *err)
{
	int v;
	char sql[160];

	if (schema_version(d, &v, err) < 0)
		return -1;
	if (v == STORE_SCHEMA_VERSION)
		return 0;
	if (v > STORE_SCHEMA_VERSION)
		return mxd_err_set(err, MXD_E_STORE,
				   "\"%s\": database schema %d is newer than this "
				   "mxdigest (%d): upgrade mxdigest", d->path, v,
				   STORE_SCHEMA_VERSION);
	if (mode != STORE_WRITE && v > 0)
		return 1;	/* older: store_open() upgrades it first */
	if (mode != STORE_WRITE)
		return mxd_err_set(err, MXD_E_STORE,
				   "\"%s\": empty database: import or fetch reports "
				   "first", d->path);
	/* version 3 rebuilds reports, which others reference: with foreign
	 * keys on, DROP TABLE would delete their rows too (the pragma is a
	 * no-op inside a transaction, hence here) */
	if (exec(d, "PRAGMA foreign_keys=OFF", err) < 0 ||
	    exec(d, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (v == 0 && (exec(d, schema_v1, err) < 0 || exec(d, schema_v2, err) < 0 ||
		       exec(d, schema_v3, err) < 0 || exec(d, schema_v4, err) < 0 ||
		       exec(d, schema_v5, err) < 0 || exec(d, schema_v6, err) < 0))
		goto fail;
	if (v > 0)
		mxd_log(MXD_LOG_INFO, "\"%s\": upgrading the database from schema "
			"version %d to %d", d->path, v, STORE_SCHEMA_VERSION);
	if (v == 1 && exec(d, schema_v2, err) < 0)
		goto fail;
	if (v >= 1 && v <= 2 && exec(d, schema_v3, err) < 0)
		goto fail;
	if (v >= 1 && v <= 3 && exec(d, schema_v4, err) < 0)
		goto fail;
	if (v >= 1 && v <= 4 && exec(d, schema_v5, err) < 0)
		goto fail;
	if (v >= 1 && v <= 5 && exec(d, schema_v6, err) < 0)
		goto fail;
	/* new keys last: reading a message needs the columns of every
	 * version (store_message_get) */
	if (v == 1 && rekey_messages(d, s, err) < 0)
		goto fail;
	if (v >= 1 && v <= 5)
		mxd_log(MXD_LOG_INFO, "\"%s\": the raw copies stored so far stay "
			"as they were (%s); `mxdigest reparse --recompress` packs "
			"them and compacts the file", d->path,
			v <= 4 ? "zlib" : "not packed");
	if (foreign_keys_ok(d, err) < 0)
		goto fail;
	snprintf(sql, sizeof(sql),
		 "INSERT OR REPLACE INTO meta VALUES ('schema_version', '%d');"
		 "INSERT OR IGNORE INTO meta VALUES ('created', '%lld');",
		 STORE_SCHEMA_VERSION, (long long)time(NULL));
	if (exec(d, sql, err) < 0 || exec(d, "COMMIT", err) < 0)
		goto fail;
	return exec(d, "PRAGMA foreign_keys=ON", err);
fail:
	exec(d, "ROLLBACK", NULL);
	exec(d, "PRAGMA foreign_keys=ON", NULL);
	return -1;
}

/*
 * The database holds every raw mail: it is created 0600 whatever the
 * umask (SQLite gives its -wal and -shm files the mode of the database
 * file).  An existing one that others can read is kept as it is, with a
 * warning.
 */
static int
create_private(const char *path, struct mxd_err *err)
{
	struct stat sb;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd >= 0) {
		if (fchmod(fd, 0600) < 0) {
			mxd_err_set(err, MXD_E_STORE, "\"%s\": chmod: %s", path,
				    strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST)
		return mxd_err_set(err, MXD_E_STORE, "\"%s\": cannot create: %s",
				   path, strerror(errno));
	if (stat(path, &sb) == 0 && (sb.st_mode & 077))
		mxd_log(MXD_LOG_WARN, "\"%s\" holds raw mail and other users can "
			"read it (mode %04o): chmod 600 it", path,
			(unsigned)(sb.st_mode & 07777));
	return 0;
}


/* ---- open and close ---------------------------------------------------- */

static void
sql_trace(void *ctx, const char *sql)
{
	(void)ctx;
	mxd_log(MXD_LOG_DEBUG, "sql: %s", sql);
}

/* mkdir -p of the database's directory, mode 0700 for new directories. */
static int
make_parent(const char *path, struct mxd_err *err)
{
	char *d = xstrdup(path), *p;

	for (p = d + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(d, 0700) < 0 && errno != EEXIST) {
			mxd_err_set(err, MXD_E_STORE, "\"%s\": cannot create directory: %s",
				    d, strerror(errno));
			free(d);
			return -1;
		}
		*p = '/';
	}
	free(d);
	return 0;
}

static int
take_lock(struct db *d, int wait_ms, struct mxd_err *err)
{
	char *lp = xasprintf("%s.lock", d->path);
	int waited = 0;

	d->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd >= 0)
		(void)fchmod(d->lock_fd, 0600);	/* exactly, whatever the umask */
	if (d->lock_fd < 0) {
		mxd_err_set(err, MXD_E_STORE, "\"%s\": cannot open: %s", lp,
			    strerror(errno));
		free(lp);
		return -1;
	}
	while (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			mxd_err_set(err, MXD_E_STORE, "\"%s\": cannot lock: %s", lp,
				    strerror(errno));
			free(lp);
			return -1;
		}
		if (waited >= wait_ms) {
			mxd_err_set(err, MXD_E_LOCKED,
				    "\"%s\": another mxdigest is writing to this "
				    "database (waited %d ms)", d->path, waited);
			free(lp);
			return -1;
		}
		usleep(50 * 1000);
		waited += 50;
	}
	free(lp);
	return 0;
}

static void
sq_close(struct db *d)
{
	int i;

	if (!d)
		return;
	for (i = 0; i < DB_STMT_COUNT; i++)
		sqlite3_finalize(d->q[i].st);
	if (d->h)
		sqlite3_close(d->h);
	if (d->lock_fd >= 0)
		close(d->lock_fd);	/* releases the flock */
	free(d->path);
	free(d);
}

#define PAGE_SIZE "32768"

/* The pragmas of a writer. */
static int
writer_setup(struct db *d, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int ok;

	/* 32 KiB pages for a new database (a no-op on one that has tables): a
	 * compressed raw copy is 1-3 KB, and a page holds whole rows only, so
	 * the end of each page is left empty: a quarter of a 4 KiB page, 15 %
	 * of an 8 KiB one, 3 % of a 32 KiB one (bench/RESULTS.md, Space) */
	if (exec(d, "PRAGMA page_size=" PAGE_SIZE, err) < 0)
		return -1;
	/* WAL: readers never wait for the writer; check it took */
	if (sqlite3_prepare_v2(d->h, "PRAGMA journal_mode=WAL", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		sq_error(d, err, "journal_mode");
		sqlite3_finalize(st);
		return -1;
	}
	ok = strcmp(col_text(st, 0), "wal") == 0;
	if (!ok)
		mxd_err_set(err, MXD_E_STORE, "\"%s\": cannot use WAL mode (%s)",
			    d->path, col_text(st, 0));
	sqlite3_finalize(st);
	if (!ok)
		return -1;
	return exec(d, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
		    /* 64 MiB of page cache at most (SQLite's default is 2 MiB):
		     * the indexes an import probes stay in it instead of 48,000
		     * preads for 20,000 mails, a third of the import's system
		     * time (bench/RESULTS.md); with 32 KiB pages 16 MiB were
		     * 512 pages, too few for the hash indexes of a year's
		     * store, and its import took twice as long */
		    " PRAGMA cache_size=-65536;"
		    /* a checkpoint every 2,500 pages (80 MB of WAL on 32 KiB
		     * pages; the WAL file keeps the size it reached) instead of
		     * 1,000 pages of 8 KiB before: a batch of 1,000 mails dirties a
		     * page per entry of each content-hash index once they
		     * outgrow the cache, so the default checkpointed after
		     * nearly every commit and copied the same pages again
		     * (200,000 mails: 33 s -> 27 s, a third fewer writes;
		     * bench/RESULTS.md, Scale) */
		    " PRAGMA wal_autocheckpoint=2500;", err);
}

static int
sq_open(struct store *s, const char *path, enum store_mode mode, int lock_wait_ms,
	struct mxd_err *err)
{
	struct db *d = xcalloc(1, sizeof(*d));
	int flags = mode == STORE_WRITE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
					: SQLITE_OPEN_READONLY;
	struct stat sb;
	int i, rc;

	d->path = xstrdup(path);
	d->lock_fd = -1;
	for (i = 0; i < DB_STMT_COUNT; i++) {
		d->q[i].base.drv = &db_sqlite_driver;
		d->q[i].db = d;
	}
	if (mode == STORE_READ && stat(path, &sb) < 0) {
		mxd_err_set(err, MXD_E_STORE, "\"%s\": no database here (%s): import "
			    "or fetch reports first, or give --db", path,
			    strerror(errno));
		goto fail;
	}
	if (mode == STORE_WRITE &&
	    (make_parent(path, err) < 0 || take_lock(d, lock_wait_ms, err) < 0 ||
	     create_private(path, err) < 0))
		goto fail;
	if (sqlite3_open_v2(path, &d->h, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		mxd_err_set(err, MXD_E_STORE, "\"%s\": cannot open database: %s", path,
			    d->h ? sqlite3_errmsg(d->h) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(d->h, 5000);
	sqlite3_extended_result_codes(d->h, 1);
	if (mxd_log_area(MXD_AREA_SQL))
		sqlite3_trace(d->h, sql_trace, NULL);
	if (mode == STORE_WRITE && writer_setup(d, err) < 0)
		goto fail;
	/* the migration reads messages through the store (rekey) */
	s->db = d;
	s->where = xstrdup(path);
	rc = migrate(d, s, mode, err);
	if (rc != 0) {
		sq_close(d);
		s->db = NULL;
		return rc;
	}
	return 0;
fail:
	sq_close(d);
	return -1;
}

static uint64_t
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

/*
 * VACUUM, after the WAL is folded in, at the page size of a new store
 * (which a database in WAL mode cannot change: the journal is switched to
 * DELETE for it and back).  A reader holding the database open makes the
 * switch fail with SQLITE_BUSY: 0, and the store stays as it was.
 */
static int
sq_compact(struct db *d, uint64_t *before, uint64_t *after,
	   struct mxd_err *err)
{
	sqlite3_stmt *st;
	int64_t free_pages = 0, page = 0;
	int rc, switched;

	if (exec(d, "PRAGMA wal_checkpoint(TRUNCATE)", err) < 0)
		return -1;
	*before = *after = file_size(d->path);
	/* nothing to gain: the page size of a new store, under 5 % free */
	if (sqlite3_prepare_v2(d->h, "SELECT * FROM pragma_freelist_count,"
			       " pragma_page_size", -1, &st, NULL) != SQLITE_OK)
		return sq_error(d, err, "compact");
	if (sqlite3_step(st) == SQLITE_ROW) {
		free_pages = sqlite3_column_int64(st, 0);
		page = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (page == atoi(PAGE_SIZE) &&
	    (uint64_t)(free_pages * page) * 20 < *before)
		return 1;
	/* the pragma answers the mode it is in: still "wal" when others
	 * have the database open */
	if (sqlite3_prepare_v2(d->h, "PRAGMA journal_mode=DELETE", -1, &st,
			       NULL) != SQLITE_OK)
		return sq_error(d, err, "compact");
	rc = sqlite3_step(st);
	switched = rc == SQLITE_ROW && strcmp(col_text(st, 0), "delete") == 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
		return sq_error(d, err, "compact");
	if (!switched)
		return 0;
	rc = exec(d, "PRAGMA page_size=" PAGE_SIZE "; VACUUM", err);
	if (exec(d, "PRAGMA journal_mode=WAL", rc < 0 ? NULL : err) < 0)
		return -1;
	if (rc < 0)
		return -1;
	*after = file_size(d->path);
	return 1;
}

const struct db_driver db_sqlite_driver = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.begin = sq_begin,
	.snapshot = sq_snapshot,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.get = sq_get,
	.bind_int = sq_bind_int,
	.bind_double = sq_bind_double,
	.bind_text = sq_bind_text,
	.bind_blob = sq_bind_blob,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.is_null = sq_is_null,
	.col_int = sq_col_int,
	.col_double = sq_col_double,
	.col_text = sq_col_text,
	.col_blob = sq_col_blob,
	.reset = sq_reset,
	.error = sq_error,
	.lock = sq_lock,
	.unlock = sq_unlock,
	.compact = sq_compact,
};
