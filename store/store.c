/*
 * store.c — SQLite schema, migrations, locking and every statement.
 *
 * Schema (version 5; check.c has the tables of `mxdigest check`):
 *   meta            key/value: schema_version, created
 *   messages        raw bytes of each message that carried a report or was
 *                   quarantined, keyed by its identity
 *                   (store_message_ident()); `truncated` is the size the
 *                   message had when only its start was kept (0: whole);
 *                   `codec` and `dict` say how data is compressed (codec.c)
 *   dicts           the zstd dictionaries rows were compressed with
 *   texts           each distinct policy-string set and MX host list once
 *                   (policies.strings_id, mx_id): a domain's policy is the
 *                   same text in every report of every sender
 *   dkim            the DKIM verdict of a message, taken when it came
 *   reports         one row per report copy: content hash unique; the
 *                   copies of one identity (org, report_id, start) have
 *                   `counts` 0 but one (see schema_v3)
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
 */
#include "store/store.h"

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

#include "dkim/dkim.h"
#include "store/store_p.h"
#include "util/log.h"
#include "util/sha256.h"
#include "util/strutil.h"
#include "util/xalloc.h"


static const char *const stmt_sql[Q_COUNT] = {
	[Q_MSG_FIND] = "SELECT id FROM messages WHERE sha256 = ?1",
	[Q_MSG_PUT] = "INSERT INTO messages (sha256, source, size, received, codec,"
		      " data, truncated, dict) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		      " ?8)",
	[Q_MSG_AUTH_GET] = "SELECT result, domain, selector, detail, at FROM dkim"
			   " WHERE message_id = ?1",
	[Q_MSG_AUTH_SET] = "INSERT OR REPLACE INTO dkim (message_id, result,"
			   " domain, selector, detail, at)"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_MSG_GET] = "SELECT codec, data, source, size, truncated, dict FROM"
		      " messages WHERE id = ?1",
	[Q_MSG_OUTCOME_R] = "SELECT count(*) FROM reports WHERE message_id = ?1",
	[Q_MSG_OUTCOME_Q] = "SELECT count(*) FROM quarantine WHERE message_id = ?1",
	[Q_REP_BY_ID] = "SELECT digest, successful, failed, counts FROM reports"
			" WHERE org = ?1 AND report_id = ?2 AND start = ?3",
	[Q_REP_BY_SHA] = "SELECT 1 FROM reports WHERE sha256 = ?1",
	[Q_REP_PUT] = "INSERT INTO reports (message_id, part, org,"
		      " report_id, contact, start, end_, sha256, notes, successful,"
		      " failed, imported, counts, digest)"
		      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
	[Q_POL_PUT] = "INSERT INTO policies (report, idx, type, domain,"
		      " domain_source, strings_id, mx_id, successful, failed)"
		      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
	[Q_TEXT_FIND] = "SELECT id FROM texts WHERE text = ?1",
	[Q_TEXT_PUT] = "INSERT INTO texts (text) VALUES (?1)",
	[Q_DET_PUT] = "INSERT INTO details (policy, result_type, sending_ip,"
		      " receiving_mx, receiving_helo, receiving_ip, count,"
		      " additional_info, reason_code)"
		      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
	[Q_DOM_PUT] = "INSERT INTO domain_counts (report, start, org, domain, types,"
		      " successful, failed, counts)"
		      " VALUES (?1,?2,?3,?4,?5,?6,?7,?8)",
	[Q_FAIL_PUT] = "INSERT INTO failure_counts (report, start, org, domain,"
		       " result_type, sending_ip, receiving_mx, receiving_ip,"
		       " count, counts) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
	/* the copy of an identity that counts: the first whose mail
	 * verified, else the first (in message order, which reparse keeps) */
	[Q_REP_WINNER] = "SELECT r.id, coalesce(d.result = ?4, 0) FROM reports r"
			 " LEFT JOIN dkim d ON d.message_id = r.message_id"
			 " WHERE r.org = ?1 AND r.report_id = ?2 AND r.start = ?3"
			 " ORDER BY 2 DESC, r.message_id, r.part LIMIT 1",
	[Q_REP_SETTLE] = "UPDATE reports SET counts = CASE WHEN id = ?4 THEN ?5"
			 " ELSE 0 END WHERE org = ?1 AND report_id = ?2"
			 " AND start = ?3",
	[Q_DOM_SETTLE] = "UPDATE domain_counts SET counts = CASE WHEN report = ?4"
			 " THEN ?5 ELSE 0 END WHERE report IN (SELECT id FROM"
			 " reports WHERE org = ?1 AND report_id = ?2 AND start = ?3)",
	[Q_FAIL_SETTLE] = "UPDATE failure_counts SET counts = CASE WHEN report ="
			  " ?4 THEN ?5 ELSE 0 END WHERE report IN (SELECT id FROM"
			  " reports WHERE org = ?1 AND report_id = ?2"
			  " AND start = ?3)",
	[Q_REP_OF_MSG] = "SELECT org, report_id, start FROM reports"
			 " WHERE message_id = ?1",
	[Q_REP_OTHER] = "SELECT m.source, r.counts FROM reports r JOIN messages m"
			" ON m.id = r.message_id WHERE r.org = ?1 AND"
			" r.report_id = ?2 AND r.start = ?3 AND r.id != ?4"
			" ORDER BY r.counts DESC, r.message_id LIMIT 1",
	[Q_QUA_PUT] = "INSERT OR IGNORE INTO quarantine (message_id, part, name,"
		      " status, reason, created) VALUES (?1,?2,?3,?4,?5,?6)",
	[Q_QUA_LIST] = "SELECT q.id, q.message_id, q.part, q.name, m.source,"
		       " q.status, q.reason, q.created, m.size FROM quarantine q"
		       " JOIN messages m ON m.id = q.message_id ORDER BY q.id",
	[Q_QUA_GET] = "SELECT q.id, q.message_id, q.part, q.name, m.source,"
		      " q.status, q.reason, q.created, m.size FROM quarantine q"
		      " JOIN messages m ON m.id = q.message_id WHERE q.id = ?1",
	[Q_QUA_LIST_MSG] = "SELECT q.id, q.message_id, q.part, q.name, m.source,"
			   " q.status, q.reason, q.created, m.size FROM quarantine q"
			   " JOIN messages m ON m.id = q.message_id"
			   " WHERE q.message_id = ?1 ORDER BY q.part",
	[Q_QUA_COUNT] = "SELECT count(*) FROM quarantine",
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
};

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

/*
 * Header fields that a mail store or an IMAP server adds or rewrites while
 * a message sits in a mailbox (mbox status and UID bookkeeping: Mailutils
 * writes X-IMAPbase, X-UID and Status, Dovecot and mutt X-Status,
 * X-Keywords, Content-Length, Thunderbird X-Mozilla-*).  None is part of
 * the message as its sender wrote it, so none is part of its identity.
 */
static const char *const volatile_fields[] = {
	"status", "x-status", "x-keywords", "x-uid", "x-imap", "x-imapbase",
	"content-length", "lines", "x-mozilla-status", "x-mozilla-status2",
	"x-mozilla-keys",
};

static int
volatile_field(const char *line, size_t n)
{
	size_t i, k;

	for (i = 0; i < sizeof(volatile_fields) / sizeof(volatile_fields[0]); i++) {
		k = strlen(volatile_fields[i]);
		if (n > k && line[k] == ':' &&
		    str_ncasecmp(line, volatile_fields[i], k) == 0)
			return 1;
	}
	return 0;
}

void
store_message_ident(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
	const char *p = data, *end = p + len, *line, *nl;
	struct sha256 c;
	int header = 1, skip = 0;

	sha256_init(&c);
	/* an mbox "From " line that a server left in front */
	if (len > 5 && memcmp(p, "From ", 5) == 0 && (nl = memchr(p, '\n', len)))
		p = nl + 1;
	for (line = p; line < end; line = nl) {
		size_t n;

		nl = memchr(line, '\n', (size_t)(end - line));
		nl = nl ? nl + 1 : end;
		n = (size_t)(nl - line);
		if (header) {
			if (n == 1 || (n == 2 && line[0] == '\r'))
				header = 0;
			else if (line[0] != ' ' && line[0] != '\t')
				skip = volatile_field(line, n);
			if (header && skip)
				continue;
		}
		/* CRLF and LF are the same line end (IMAP sends CRLF, a
		 * Maildir file may hold LF) */
		if (n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n') {
			sha256_update(&c, line, n - 2);
			sha256_update(&c, "\n", 1);
		} else {
			sha256_update(&c, line, n);
		}
	}
	sha256_final(&c, out);
}

/* Version 2 keys messages by their identity: recompute every key.  Two
 * messages that turn out to be one keep their own rows (the later keeps
 * its old key); nothing is lost. */
static int
rekey_messages(struct store *s, struct mxd_err *err)
{
	sqlite3_stmt *sel = NULL, *upd = NULL;
	struct buf raw;
	unsigned char id[SHA256_LEN];
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT id FROM messages ORDER BY id", -1,
			       &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "UPDATE OR IGNORE messages SET sha256 = ?1"
			       " WHERE id = ?2", -1, &upd, NULL) != SQLITE_OK) {
		sqlite3_finalize(sel);
		return store_db_error(s, err, "upgrading the schema");
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
			store_db_error(s, err, "upgrading the schema");
			break;
		}
		sqlite3_reset(upd);
	}
	buf_release(&raw);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	return rc == SQLITE_DONE ? 0 : -1;
}


int
store_db_error(struct store *s, struct mxd_err *err, const char *what)
{
	int code = sqlite3_extended_errcode(s->db);

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return mxd_err_set(err, MXD_E_LOCKED, "\"%s\": %s: database is busy",
				   s->path, what);
	return mxd_err_set(err, MXD_E_STORE, "\"%s\": %s: %s", s->path, what,
			   sqlite3_errmsg(s->db));
}

static sqlite3_stmt *
stmt(struct store *s, enum stmt_id id, struct mxd_err *err)
{
	if (!s->st[id]) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
				       &s->st[id], NULL) != SQLITE_OK) {
			store_db_error(s, err, "prepare");
			return NULL;
		}
	}
	sqlite3_reset(s->st[id]);
	sqlite3_clear_bindings(s->st[id]);
	return s->st[id];
}

static int
exec(struct store *s, const char *sql, struct mxd_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		mxd_err_set(err, sqlite3_errcode(s->db) == SQLITE_BUSY ? MXD_E_LOCKED
								       : MXD_E_STORE,
			    "\"%s\": %s", s->path, msg ? msg : "SQL error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

static void
sql_trace(void *ctx, const char *sql)
{
	(void)ctx;
	mxd_log(MXD_LOG_DEBUG, "sql: %s", sql);
}

char *
store_default_path(void)
{
	const char *x = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (x && *x == '/')
		return xasprintf("%s/mxdigest/mxdigest.db", x);
	if (!home || !*home)
		home = ".";
	return xasprintf("%s/.local/share/mxdigest/mxdigest.db", home);
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
take_lock(struct store *s, int wait_ms, struct mxd_err *err)
{
	char *lp = xasprintf("%s.lock", s->path);
	int waited = 0;

	s->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd >= 0)
		(void)fchmod(s->lock_fd, 0600);	/* exactly, whatever the umask */
	if (s->lock_fd < 0) {
		mxd_err_set(err, MXD_E_STORE, "\"%s\": cannot open: %s", lp,
			    strerror(errno));
		free(lp);
		return -1;
	}
	while (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			mxd_err_set(err, MXD_E_STORE, "\"%s\": cannot lock: %s", lp,
				    strerror(errno));
			free(lp);
			return -1;
		}
		if (waited >= wait_ms) {
			mxd_err_set(err, MXD_E_LOCKED,
				    "\"%s\": another mxdigest is writing to this "
				    "database (waited %d ms)", s->path, waited);
			free(lp);
			return -1;
		}
		usleep(50 * 1000);
		waited += 50;
	}
	free(lp);
	return 0;
}

static int
schema_version(struct store *s, int *version, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*version = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master WHERE"
			       " type = 'table' AND name = 'meta'", -1, &st,
			       NULL) != SQLITE_OK)
		return store_db_error(s, err, "schema");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return store_db_error(s, err, "schema");
	}
	if (sqlite3_column_int(st, 0) == 0) {
		sqlite3_finalize(st);
		return 0;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE key ="
			       " 'schema_version'", -1, &st, NULL) != SQLITE_OK)
		return store_db_error(s, err, "schema");
	if (sqlite3_step(st) == SQLITE_ROW)
		*version = atoi(col_text(st, 0));
	sqlite3_finalize(st);
	return 0;
}

/* After a rebuild: every reference still finds its row. */
static int
foreign_keys_ok(struct store *s, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st,
			       NULL) != SQLITE_OK)
		return store_db_error(s, err, "upgrade");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		mxd_err_set(err, MXD_E_STORE, "\"%s\": the upgrade left table %s "
			    "with a row that refers to nothing", s->path,
			    col_text(st, 0));
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_error(s, err, "upgrade");
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

/* Creates or upgrades the schema; migrations from older versions go here.
 * Returns 1 when a read-only store finds an older schema. */
static int
migrate(struct store *s, enum store_mode mode, struct mxd_err *err)
{
	int v;
	char sql[160];

	if (schema_version(s, &v, err) < 0)
		return -1;
	if (v == STORE_SCHEMA_VERSION)
		return 0;
	if (v > STORE_SCHEMA_VERSION)
		return mxd_err_set(err, MXD_E_STORE,
				   "\"%s\": database schema %d is newer than this "
				   "mxdigest (%d): upgrade mxdigest", s->path, v,
				   STORE_SCHEMA_VERSION);
	if (mode != STORE_WRITE && v > 0)
		return 1;	/* older: store_open() upgrades it first */
	if (mode != STORE_WRITE)
		return mxd_err_set(err, MXD_E_STORE,
				   "\"%s\": empty database: import or fetch reports "
				   "first", s->path);
	/* version 3 rebuilds reports, which others reference: with foreign
	 * keys on, DROP TABLE would delete their rows too (the pragma is a
	 * no-op inside a transaction, hence here) */
	if (exec(s, "PRAGMA foreign_keys=OFF", err) < 0 ||
	    exec(s, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (v == 0 && (exec(s, schema_v1, err) < 0 || exec(s, schema_v2, err) < 0 ||
		       exec(s, schema_v3, err) < 0 || exec(s, schema_v4, err) < 0 ||
		       exec(s, schema_v5, err) < 0))
		goto fail;
	if (v > 0)
		mxd_log(MXD_LOG_INFO, "\"%s\": upgrading the database from schema "
			"version %d to %d", s->path, v, STORE_SCHEMA_VERSION);
	if (v == 1 && exec(s, schema_v2, err) < 0)
		goto fail;
	if (v >= 1 && v <= 2 && exec(s, schema_v3, err) < 0)
		goto fail;
	if (v >= 1 && v <= 3 && exec(s, schema_v4, err) < 0)
		goto fail;
	if (v >= 1 && v <= 4 && exec(s, schema_v5, err) < 0)
		goto fail;
	/* new keys last: reading a message needs the columns of every
	 * version (store_message_get) */
	if (v == 1 && rekey_messages(s, err) < 0)
		goto fail;
	if (v >= 1 && v <= 4)
		mxd_log(MXD_LOG_INFO, "\"%s\": the raw copies stored so far stay "
			"zlib; `mxdigest reparse --recompress` makes them smaller",
			s->path);
	if (foreign_keys_ok(s, err) < 0)
		goto fail;
	snprintf(sql, sizeof(sql),
		 "INSERT OR REPLACE INTO meta VALUES ('schema_version', '%d');"
		 "INSERT OR IGNORE INTO meta VALUES ('created', '%lld');",
		 STORE_SCHEMA_VERSION, (long long)time(NULL));
	if (exec(s, sql, err) < 0 || exec(s, "COMMIT", err) < 0)
		goto fail;
	return exec(s, "PRAGMA foreign_keys=ON", err);
fail:
	exec(s, "ROLLBACK", NULL);
	exec(s, "PRAGMA foreign_keys=ON", NULL);
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

int
store_open(const char *path, enum store_mode mode, int lock_wait_ms,
	   struct store **out, struct mxd_err *err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int flags = mode == STORE_WRITE ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
					: SQLITE_OPEN_READONLY;
	sqlite3_stmt *st;
	struct stat sb;
	int rc;

	*out = NULL;
	s->path = xstrdup(path);
	s->lock_fd = -1;
	if (mode == STORE_READ && stat(path, &sb) < 0) {
		mxd_err_set(err, MXD_E_STORE, "\"%s\": no database here (%s): import "
			    "or fetch reports first, or give --db", path,
			    strerror(errno));
		store_close(s);
		return -1;
	}
	if (mode == STORE_WRITE &&
	    (make_parent(path, err) < 0 || take_lock(s, lock_wait_ms, err) < 0 ||
	     create_private(path, err) < 0)) {
		store_close(s);
		return -1;
	}
	if (sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		mxd_err_set(err, MXD_E_STORE, "\"%s\": cannot open database: %s", path,
			    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return -1;
	}
	sqlite3_busy_timeout(s->db, 5000);
	sqlite3_extended_result_codes(s->db, 1);
	if (mxd_log_area(MXD_AREA_SQL))
		sqlite3_trace(s->db, sql_trace, NULL);
	if (mode == STORE_WRITE) {
		/* 8 KiB pages for a new database (a no-op on one that has
		 * tables): a compressed raw copy is 1-3 KB, and two or three
		 * of them in a 4 KiB page left a quarter of it empty (measured
		 * in bench/RESULTS.md, Space) */
		if (exec(s, "PRAGMA page_size=8192", err) < 0) {
			store_close(s);
			return -1;
		}
		/* WAL: readers never wait for the writer; check it took */
		if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st,
				       NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW) {
			store_db_error(s, err, "journal_mode");
			sqlite3_finalize(st);
			store_close(s);
			return -1;
		}
		if (strcmp(col_text(st, 0), "wal") != 0) {
			mxd_err_set(err, MXD_E_STORE, "\"%s\": cannot use WAL mode (%s)",
				    path, col_text(st, 0));
			sqlite3_finalize(st);
			store_close(s);
			return -1;
		}
		sqlite3_finalize(st);
		if (exec(s, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
			 /* 16 MiB of page cache at most (SQLite's default is
			  * 2 MiB): the indexes an import probes stay in it
			  * instead of 48,000 preads for 20,000 mails, a third
			  * of the import's system time (bench/RESULTS.md) */
			 " PRAGMA cache_size=-16384;"
			 /* a checkpoint every 10,000 pages (80 MB of WAL on
			  * 8 KiB pages) instead of 1,000: a batch of 1,000 mails
			  * dirties a page per entry of each content-hash index
			  * once they outgrow the cache, so the default
			  * checkpointed after nearly every commit and copied the
			  * same pages again (200,000 mails: 33 s -> 27 s, a
			  * third fewer writes; bench/RESULTS.md, Scale) */
			 " PRAGMA wal_autocheckpoint=10000;",
			 err) < 0) {
			store_close(s);
			return -1;
		}
	}
	rc = migrate(s, mode, err);
	if (rc < 0) {
		store_close(s);
		return -1;
	}
	if (rc == 1) {
		/* a reader of an older database: upgrade it once as a writer
		 * (waiting for one that is busy), then read */
		struct store *w;

		store_close(s);
		if (store_open(path, STORE_WRITE, 5000, &w, err) < 0)
			return -1;
		store_close(w);
		return store_open(path, mode, lock_wait_ms, out, err);
	}
	if (codec_open(s, err) < 0) {
		store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}


void
store_close(struct store *s)
{
	int i;

	if (!s)
		return;
	if (s->in_tx)
		store_rollback(s);
	codec_close(s);
	for (i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);	/* releases the flock */
	free(s->path);
	free(s);
}

const char *
store_path(const struct store *s)
{
	return s->path;
}

static int
step_done(struct store *s, sqlite3_stmt *st, struct mxd_err *err, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		store_db_error(s, err, what);
		sqlite3_reset(st);
		return -1;
	}
	return 0;
}

int
store_begin(struct store *s, struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_BEGIN, err);

	if (!st || step_done(s, st, err, "begin") < 0)
		return -1;
	s->in_tx = 1;
	return 0;
}

int
store_commit(struct store *s, struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_COMMIT, err);

	if (!st || step_done(s, st, err, "commit") < 0)
		return -1;
	s->in_tx = 0;
	return 0;
}

void
store_rollback(struct store *s)
{
	sqlite3_stmt *st;

	if (!s->in_tx)
		return;
	st = stmt(s, Q_ROLLBACK, NULL);
	if (st)
		sqlite3_step(st);
	s->in_tx = 0;
}

int
store_in_transaction(const struct store *s)
{
	return s->in_tx;
}

int
store_message_find(struct store *s, const unsigned char sha[SHA256_LEN],
		   int64_t *id, struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_MSG_FIND, err);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, sha, SHA256_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		return 1;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "find message");
	return 0;
}

static void
bind_auth(sqlite3_stmt *st, int at, const struct store_auth *a)
{
	sqlite3_bind_int(st, at, a->result);
	bind_text(st, at + 1, a->domain && *a->domain ? a->domain : NULL);
	bind_text(st, at + 2, a->selector && *a->selector ? a->selector : NULL);
	bind_text(st, at + 3, a->detail && *a->detail ? a->detail : NULL);
	sqlite3_bind_int64(st, at + 4, a->at);
}

static int
put_auth(struct store *s, int64_t id, const struct store_auth *a,
	 struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_MSG_AUTH_SET, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	bind_auth(st, 2, a);
	return step_done(s, st, err, "store the DKIM verdict");
}

int
store_message_put(struct store *s, const unsigned char sha[SHA256_LEN],
		  const char *source, size_t size, size_t truncated,
		  const struct store_blob *blob, const struct store_auth *auth,
		  int64_t now, int64_t *id, struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_MSG_PUT, err);

	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, sha, SHA256_LEN, SQLITE_STATIC);
	bind_text(st, 2, source);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)size);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int(st, 5, blob->codec);
	sqlite3_bind_blob64(st, 6, blob->data.len ? (const void *)blob->data.data : "",
			    blob->data.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)truncated);
	if (blob->dict)
		sqlite3_bind_int64(st, 8, blob->dict);
	else
		sqlite3_bind_null(st, 8);
	if (step_done(s, st, err, "store message") < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	codec_stored(s);
	if (auth && auth->result >= 0 && put_auth(s, *id, auth, err) < 0)
		return -1;
	return 0;
}

int
store_message_get(struct store *s, int64_t id, struct buf *out, char **source,
		  size_t *truncated, struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_MSG_GET, err);
	int rc, codec;
	const void *blob;
	size_t n;
	int64_t size;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return mxd_err_set(err, MXD_E_STORE, "message %lld not found",
					   (long long)id);
		return store_db_error(s, err, "read message");
	}
	codec = sqlite3_column_int(st, 0);
	blob = sqlite3_column_blob(st, 1);
	n = (size_t)sqlite3_column_bytes(st, 1);
	size = sqlite3_column_int64(st, 3);
	if (truncated)
		*truncated = (size_t)sqlite3_column_int64(st, 4);
	if (codec_decode(s, codec, sqlite3_column_int64(st, 5), blob, n,
			 (size_t)size, out, err) < 0) {
		sqlite3_reset(st);
		mxd_err_prefix(err, "stored message %lld", (long long)id);
		return -1;
	}
	if (source)
		*source = xstrdup(col_text(st, 2) ? col_text(st, 2) : "");
	sqlite3_reset(st);
	return 0;
}

static int
count_query(struct store *s, enum stmt_id id, int64_t arg, int64_t *out,
	    struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, id, err);

	if (!st)
		return -1;
	if (id != Q_QUA_COUNT)
		sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return store_db_error(s, err, "count");
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

int
store_message_auth(struct store *s, int64_t id, struct store_auth *a,
		   struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_MSG_AUTH_GET, err);
	int rc;

	if (!st)
		return -1;
	memset(a, 0, sizeof(*a));
	a->result = -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL)
			a->result = sqlite3_column_int(st, 0);
		snprintf(a->domain_buf, sizeof(a->domain_buf), "%s",
			 col_text(st, 1) ? col_text(st, 1) : "");
		snprintf(a->selector_buf, sizeof(a->selector_buf), "%s",
			 col_text(st, 2) ? col_text(st, 2) : "");
		snprintf(a->detail_buf, sizeof(a->detail_buf), "%s",
			 col_text(st, 3) ? col_text(st, 3) : "");
		a->domain = a->domain_buf;
		a->selector = a->selector_buf;
		a->detail = a->detail_buf;
		a->at = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(s, err, "read the DKIM verdict");
	return 0;	/* no row: no verdict taken */
}

int
store_message_set_auth(struct store *s, int64_t id, const struct store_auth *a,
		       struct mxd_err *err)
{
	if (put_auth(s, id, a, err) < 0)
		return -1;
	return store_message_settle(s, id, err);
}

int
store_message_outcome(struct store *s, int64_t id, unsigned *reports,
		      unsigned *quarantined, struct mxd_err *err)
{
	int64_t r, q;

	if (count_query(s, Q_MSG_OUTCOME_R, id, &r, err) < 0 ||
	    count_query(s, Q_MSG_OUTCOME_Q, id, &q, err) < 0)
		return -1;
	*reports = (unsigned)r;
	*quarantined = (unsigned)q;
	return 0;
}

int
store_report_known(struct store *s, const struct tlsrpt *r, int verified,
		   struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_REP_BY_ID, err);
	int rc, copies = 0, same = 0, any_verified = 0;

	if (!st)
		return -1;
	bind_text(st, 1, r->org);
	bind_text(st, 2, r->report_id);
	sqlite3_bind_int64(st, 3, r->start);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		copies++;
		if (sqlite3_column_int(st, 3) == STORE_COUNTS_VERIFIED)
			any_verified = 1;
		if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
			/* stored before digests: the same totals */
			if ((uint64_t)sqlite3_column_int64(st, 1) == r->successful &&
			    (uint64_t)sqlite3_column_int64(st, 2) == r->failed)
				same = 1;
		} else if (sqlite3_column_bytes(st, 0) == SHA256_LEN &&
			   memcmp(sqlite3_column_blob(st, 0), r->digest,
				  SHA256_LEN) == 0) {
			same = 1;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "find report");
	if (same)
		return verified && !any_verified ? STORE_REPORT_VERIFIED_COPY
						 : STORE_REPORT_DUPLICATE;
	if (copies)
		return STORE_REPORT_CONFLICT;
	/* the same bytes under another identity (one taken from a header or
	 * a file name) are the same report */
	if (!(st = stmt(s, Q_REP_BY_SHA, err)))
		return -1;
	sqlite3_bind_blob(st, 1, r->hash, SHA256_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return STORE_REPORT_DUPLICATE;
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "find report");
	return STORE_REPORT_NEW;
}

static void
bind_ident(sqlite3_stmt *st, const char *org, const char *report_id,
	   int64_t start)
{
	bind_text(st, 1, org);
	bind_text(st, 2, report_id);
	sqlite3_bind_int64(st, 3, start);
}

/* Decides which copy of an identity counts (Q_REP_WINNER) and marks it,
 * in reports and in the counted tables. */
static int
settle(struct store *s, const char *org, const char *report_id, int64_t start,
       struct mxd_err *err)
{
	static const enum stmt_id upd[] = {Q_REP_SETTLE, Q_DOM_SETTLE,
					   Q_FAIL_SETTLE};
	sqlite3_stmt *st = stmt(s, Q_REP_WINNER, err);
	int64_t winner;
	int verified, rc;
	size_t i;

	if (!st)
		return -1;
	bind_ident(st, org, report_id, start);
	sqlite3_bind_int(st, 4, DKIMV_PASS);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE ? 0 : store_db_error(s, err, "settle");
	}
	winner = sqlite3_column_int64(st, 0);
	verified = sqlite3_column_int(st, 1);
	sqlite3_reset(st);
	for (i = 0; i < sizeof(upd) / sizeof(upd[0]); i++) {
		if (!(st = stmt(s, upd[i], err)))
			return -1;
		bind_ident(st, org, report_id, start);
		sqlite3_bind_int64(st, 4, winner);
		sqlite3_bind_int(st, 5, verified ? STORE_COUNTS_VERIFIED
						 : STORE_COUNTS_COUNTED);
		if (step_done(s, st, err, "settle") < 0)
			return -1;
	}
	return 0;
}

int
store_report_settle(struct store *s, const char *org, const char *report_id,
		    int64_t start, struct mxd_err *err)
{
	return settle(s, org, report_id, start, err);
}

int
store_message_settle(struct store *s, int64_t message_id, struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_REP_OF_MSG, err);
	struct ident { char *org, *id; int64_t start; } *v = NULL;
	size_t n = 0, cap = 0, i;
	int rc;

	if (!st)
		return -1;
	/* collected first: settling updates the rows being read */
	sqlite3_bind_int64(st, 1, message_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xgrow(v, &cap, n + 1, sizeof(*v));
		v[n].org = xstrdup(col_text(st, 0));
		v[n].id = xstrdup(col_text(st, 1));
		v[n].start = sqlite3_column_int64(st, 2);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		rc = store_db_error(s, err, "settle");
	else
		rc = 0;
	for (i = 0; i < n; i++) {
		if (rc == 0)
			rc = settle(s, v[i].org, v[i].id, v[i].start, err);
		free(v[i].org);
		free(v[i].id);
	}
	free(v);
	return rc;
}

/* The verdict of a message as it decides what counts: verified or not. */
static int
message_verified(struct store *s, int64_t id, struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_MSG_AUTH_GET, err);
	int rc, pass = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		pass = sqlite3_column_int(st, 0) == DKIMV_PASS;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(s, err, "read the DKIM verdict");
	return pass;
}

/* After a conflict: whether report rid counts now, and where the other
 * copy (the counted one, if this one is not) came from. */
static int
conflict_outcome(struct store *s, int64_t rid, const struct tlsrpt *r,
		 struct store_put_info *info, struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_REP_OTHER, err);
	int rc;

	if (!st)
		return -1;
	bind_ident(st, r->org, r->report_id, r->start);
	sqlite3_bind_int64(st, 4, rid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(info->other, sizeof(info->other), "%s", col_text(st, 0));
		info->counted = sqlite3_column_int(st, 1) == STORE_COUNTS_NOT;
		info->other_verified = sqlite3_column_int(st, 1) ==
			STORE_COUNTS_VERIFIED;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_error(s, err, "find report");
	return 0;
}

static char *
join_lines(const char **v, size_t n)
{
	struct buf b;
	size_t i;

	if (!n)
		return NULL;
	buf_init(&b, BUF_NOCAP);
	for (i = 0; i < n; i++) {
		if (i)
			buf_addc(&b, '\n');
		buf_adds(&b, v[i]);
	}
	return (char *)buf_detach(&b, NULL);
}

/* The id of text t in `texts`, stored now if new; 0 for NULL. */
static int
text_id(struct store *s, const char *t, int64_t *id, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc;

	*id = 0;
	if (!t)
		return 0;
	if (!(st = stmt(s, Q_TEXT_FIND, err)))
		return -1;
	bind_text(st, 1, t);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "find a policy text");
	if (!(st = stmt(s, Q_TEXT_PUT, err)))
		return -1;
	bind_text(st, 1, t);
	if (step_done(s, st, err, "store a policy text") < 0)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static void
bind_id(sqlite3_stmt *st, int at, int64_t id)
{
	if (id)
		sqlite3_bind_int64(st, at, id);
	else
		sqlite3_bind_null(st, at);
}

static int
put_policy(struct store *s, int64_t rid, size_t idx, const struct tlsrpt_policy *p,
	   struct mxd_err *err)
{
	sqlite3_stmt *st;
	char *strings, *mx;
	int64_t pid, sid, mid;
	size_t i;
	int rc;

	strings = join_lines(p->strings, p->n_strings);
	mx = join_lines(p->mx_hosts, p->n_mx_hosts);
	rc = text_id(s, strings, &sid, err) < 0 || text_id(s, mx, &mid, err) < 0;
	free(strings);
	free(mx);
	if (rc || !(st = stmt(s, Q_POL_PUT, err)))
		return -1;
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)idx);
	bind_text(st, 3, p->type);
	bind_text(st, 4, p->domain);
	sqlite3_bind_int(st, 5, (int)p->domain_source);
	bind_id(st, 6, sid);
	bind_id(st, 7, mid);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)p->successful);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)p->failed);
	if (step_done(s, st, err, "store policy") < 0)
		return -1;
	pid = sqlite3_last_insert_rowid(s->db);
	for (i = 0; i < p->n_details; i++) {
		const struct tlsrpt_detail *d = &p->details[i];

		if (!(st = stmt(s, Q_DET_PUT, err)))
			return -1;
		sqlite3_bind_int64(st, 1, pid);
		bind_text(st, 2, d->result_type);
		bind_text(st, 3, d->sending_ip);
		bind_text(st, 4, d->receiving_mx);
		bind_text(st, 5, d->receiving_helo);
		bind_text(st, 6, d->receiving_ip);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)d->count);
		bind_text(st, 8, d->additional_info);
		bind_text(st, 9, d->reason_code);
		if (step_done(s, st, err, "store failure detail") < 0)
			return -1;
	}
	return 0;
}

int
store_report_put(struct store *s, int64_t message_id, unsigned part,
		 const struct tlsrpt *r, int64_t now, struct store_put_info *info,
		 struct mxd_err *err)
{
	sqlite3_stmt *st;
	struct buf notes;
	int64_t rid;
	int known, counts, verified;
	size_t i;

	memset(info, 0, sizeof(*info));
	if ((verified = message_verified(s, message_id, err)) < 0)
		return -1;
	known = store_report_known(s, r, verified, err);
	if (known < 0 || known == STORE_REPORT_DUPLICATE)
		return known;
	if (known == STORE_REPORT_NEW)
		counts = verified ? STORE_COUNTS_VERIFIED : STORE_COUNTS_COUNTED;
	else
		counts = STORE_COUNTS_NOT;	/* settle() decides */
	if (!(st = stmt(s, Q_REP_PUT, err)))
		return -1;
	buf_init(&notes, BUF_NOCAP);
	tlsrpt_notes_format(r->notes, &notes);
	sqlite3_bind_int64(st, 1, message_id);
	sqlite3_bind_int(st, 2, (int)part);
	bind_text(st, 3, r->org);
	bind_text(st, 4, r->report_id);
	bind_text(st, 5, r->contact);
	sqlite3_bind_int64(st, 6, r->start);
	sqlite3_bind_int64(st, 7, r->end);
	sqlite3_bind_blob(st, 8, r->hash, SHA256_LEN, SQLITE_STATIC);
	bind_text(st, 9, buf_cstr(&notes));
	sqlite3_bind_int64(st, 10, (sqlite3_int64)r->successful);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)r->failed);
	sqlite3_bind_int64(st, 12, now);
	sqlite3_bind_int(st, 13, counts);
	sqlite3_bind_blob(st, 14, r->digest, SHA256_LEN, SQLITE_STATIC);
	if (step_done(s, st, err, "store report") < 0) {
		buf_release(&notes);
		return -1;
	}
	buf_release(&notes);
	rid = sqlite3_last_insert_rowid(s->db);
	for (i = 0; i < r->n_policies; i++)
		if (put_policy(s, rid, i, &r->policies[i], err) < 0)
			return -1;
	for (i = 0; i < r->n_domains; i++) {
		const struct tlsrpt_domain *d = &r->domains[i];

		if (!(st = stmt(s, Q_DOM_PUT, err)))
			return -1;
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_int64(st, 2, r->start);
		bind_text(st, 3, r->org);
		bind_text(st, 4, d->domain);
		bind_text(st, 5, d->types);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)d->successful);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)d->failed);
		sqlite3_bind_int(st, 8, counts);
		if (step_done(s, st, err, "store counts") < 0)
			return -1;
	}
	for (i = 0; i < r->n_fails; i++) {
		const struct tlsrpt_fail *f = &r->fails[i];

		if (!(st = stmt(s, Q_FAIL_PUT, err)))
			return -1;
		sqlite3_bind_int64(st, 1, rid);
		sqlite3_bind_int64(st, 2, r->start);
		bind_text(st, 3, r->org);
		bind_text(st, 4, f->domain);
		bind_text(st, 5, f->result_type);
		bind_text(st, 6, f->sending_ip);
		bind_text(st, 7, f->receiving_mx);
		bind_text(st, 8, f->receiving_ip);
		sqlite3_bind_int64(st, 9, (sqlite3_int64)f->count);
		sqlite3_bind_int(st, 10, counts);
		if (step_done(s, st, err, "store counts") < 0)
			return -1;
	}
	if (known == STORE_REPORT_NEW) {
		info->counted = 1;
		return STORE_REPORT_NEW;
	}
	if (settle(s, r->org, r->report_id, r->start, err) < 0 ||
	    conflict_outcome(s, rid, r, info, err) < 0)
		return -1;
	return known;
}

int
store_quarantine_put(struct store *s, int64_t message_id, unsigned part,
		     const char *name, enum mxd_status status, const char *reason,
		     int64_t now, struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_QUA_PUT, err);

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, message_id);
	sqlite3_bind_int(st, 2, (int)part);
	bind_text(st, 3, name);
	sqlite3_bind_int(st, 4, (int)status);
	bind_text(st, 5, reason);
	sqlite3_bind_int64(st, 6, now);
	if (step_done(s, st, err, "quarantine") < 0)
		return -1;
	return sqlite3_changes(s->db) == 0;
}

static void
read_qitem(sqlite3_stmt *st, struct store_qitem *q)
{
	q->id = sqlite3_column_int64(st, 0);
	q->message_id = sqlite3_column_int64(st, 1);
	q->part = (unsigned)sqlite3_column_int(st, 2);
	q->name = col_text(st, 3);
	q->source = col_text(st, 4);
	q->status = sqlite3_column_int(st, 5);
	q->reason = col_text(st, 6);
	q->created = sqlite3_column_int64(st, 7);
	q->size = sqlite3_column_int64(st, 8);
}

static int
qlist(struct store *s, enum stmt_id id, int64_t arg, store_qitem_fn fn,
      void *ctx, struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, id, err);
	struct store_qitem q;
	int rc;

	if (!st)
		return -1;
	if (id == Q_QUA_LIST_MSG)
		sqlite3_bind_int64(st, 1, arg);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_qitem(st, &q);
		if (fn(&q, ctx)) {
			sqlite3_reset(st);
			return 0;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "quarantine");
	return 0;
}

int
store_quarantine_list(struct store *s, store_qitem_fn fn, void *ctx,
		      struct mxd_err *err)
{
	return qlist(s, Q_QUA_LIST, 0, fn, ctx, err);
}

int
store_quarantine_list_message(struct store *s, int64_t message_id,
			      store_qitem_fn fn, void *ctx, struct mxd_err *err)
{
	return qlist(s, Q_QUA_LIST_MSG, message_id, fn, ctx, err);
}

int
store_quarantine_get(struct store *s, int64_t id, struct store_qitem *q,
		     struct mxd_err *err)
{
	sqlite3_stmt *st = stmt(s, Q_QUA_GET, err);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_qitem(st, q);	/* valid until the next reset */
		return 0;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 1;
	return store_db_error(s, err, "quarantine");
}

int64_t
store_quarantine_count(struct store *s, struct mxd_err *err)
{
	int64_t n;

	if (count_query(s, Q_QUA_COUNT, 0, &n, err) < 0)
		return -1;
	return n;
}

/*
 * Window scans.  Filters are bound as parameters; a NULL filter matches
 * everything (`?3 IS NULL OR domain = ?3`), which keeps one statement per
 * scan and lets the start index drive every query.
 */
static int
scan_prepare(struct store *s, const char *sql, const struct store_filter *f,
	     sqlite3_stmt **st, struct mxd_err *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return store_db_error(s, err, "query");
	sqlite3_bind_int64(*st, 1, f->from);
	sqlite3_bind_int64(*st, 2, f->to);
	bind_text(*st, 3, f->domain);
	bind_text(*st, 4, f->org);
	bind_text(*st, 5, f->mx);
	/* the least `counts` that counts */
	sqlite3_bind_int(*st, 6, f->dkim_pass ? STORE_COUNTS_VERIFIED
					      : STORE_COUNTS_COUNTED);
	return 0;
}

static int
scan_finish(struct store *s, sqlite3_stmt *st, int rc, struct mxd_err *err)
{
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_db_error(s, err, "query");
	return 0;
}

int
store_scan_reports(struct store *s, const struct store_filter *f,
		   store_report_fn fn, void *ctx, struct mxd_err *err)
{
	static const char sql[] =
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
		"  x.receiving_ip) = ?5))"
		" ORDER BY r.start, r.id";
	sqlite3_stmt *st;
	struct store_report_row row;
	int rc;

	if (scan_prepare(s, sql, f, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.id = sqlite3_column_int64(st, 0);
		row.org = col_text(st, 1);
		row.report_id = col_text(st, 2);
		row.start = sqlite3_column_int64(st, 3);
		row.end = sqlite3_column_int64(st, 4);
		row.dkim = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1
			: sqlite3_column_int(st, 5);
		row.dkim_domain = col_text(st, 6);
		row.dkim_detail = col_text(st, 7);
		row.copies = (unsigned)sqlite3_column_int(st, 8);
		if (fn(&row, ctx))
			break;
	}
	return scan_finish(s, st, rc, err);
}

int
store_scan_domains(struct store *s, const struct store_filter *f,
		   store_domain_fn fn, void *ctx, struct mxd_err *err)
{
	static const char sql[] =
		"SELECT d.report, d.org, d.start, d.domain, d.types, d.successful,"
		" d.failed FROM domain_counts d"
		" WHERE d.start >= ?1 AND d.start < ?2 AND d.counts >= ?6"
		" AND (?3 IS NULL OR d.domain = ?3) AND (?4 IS NULL OR d.org = ?4)"
		" AND (?5 IS NULL OR EXISTS (SELECT 1 FROM failure_counts x"
		"  WHERE x.report = d.report AND x.domain = d.domain"
		"  AND coalesce(x.receiving_mx, x.receiving_ip) = ?5))"
		" ORDER BY d.start, d.report";
	sqlite3_stmt *st;
	struct store_domain_row row;
	int rc;

	if (scan_prepare(s, sql, f, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.report = sqlite3_column_int64(st, 0);
		row.org = col_text(st, 1);
		row.start = sqlite3_column_int64(st, 2);
		row.domain = col_text(st, 3);
		row.types = col_text(st, 4);
		row.successful = (uint64_t)sqlite3_column_int64(st, 5);
		row.failed = (uint64_t)sqlite3_column_int64(st, 6);
		if (fn(&row, ctx))
			break;
	}
	return scan_finish(s, st, rc, err);
}

int
store_scan_policies(struct store *s, const struct store_filter *f,
		    store_policy_fn fn, void *ctx, struct mxd_err *err)
{
	static const char sql[] =
		"SELECT r.id, r.org, r.start, p.domain, p.type, p.successful,"
		" p.failed FROM reports r JOIN policies p ON p.report = r.id"
		" WHERE r.start >= ?1 AND r.start < ?2 AND r.counts >= ?6"
		" AND (?3 IS NULL OR p.domain = ?3) AND (?4 IS NULL OR r.org = ?4)"
		" AND (?5 IS NULL OR EXISTS (SELECT 1 FROM failure_counts x"
		"  WHERE x.report = r.id AND x.domain = p.domain"
		"  AND coalesce(x.receiving_mx, x.receiving_ip) = ?5))"
		" ORDER BY r.start, r.id, p.idx";
	sqlite3_stmt *st;
	struct store_policy_row row;
	int rc;

	if (scan_prepare(s, sql, f, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.report = sqlite3_column_int64(st, 0);
		row.org = col_text(st, 1);
		row.start = sqlite3_column_int64(st, 2);
		row.domain = col_text(st, 3);
		row.type = col_text(st, 4);
		row.successful = (uint64_t)sqlite3_column_int64(st, 5);
		row.failed = (uint64_t)sqlite3_column_int64(st, 6);
		if (fn(&row, ctx))
			break;
	}
	return scan_finish(s, st, rc, err);
}

int
store_scan_failures(struct store *s, const struct store_filter *f,
		    store_fail_fn fn, void *ctx, struct mxd_err *err)
{
	static const char sql[] =
		"SELECT x.report, x.org, x.start, x.domain, x.result_type,"
		" x.sending_ip, x.receiving_mx, x.receiving_ip, x.count"
		" FROM failure_counts x"
		" WHERE x.start >= ?1 AND x.start < ?2 AND x.counts >= ?6"
		" AND (?3 IS NULL OR x.domain = ?3) AND (?4 IS NULL OR x.org = ?4)"
		" AND (?5 IS NULL OR coalesce(x.receiving_mx, x.receiving_ip) = ?5)"
		" ORDER BY x.start, x.report";
	sqlite3_stmt *st;
	struct store_fail_row row;
	int rc;

	if (scan_prepare(s, sql, f, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.report = sqlite3_column_int64(st, 0);
		row.org = col_text(st, 1);
		row.start = sqlite3_column_int64(st, 2);
		row.domain = col_text(st, 3);
		row.result_type = col_text(st, 4);
		row.sending_ip = col_text(st, 5);
		row.receiving_mx = col_text(st, 6);
		row.receiving_ip = col_text(st, 7);
		row.count = (uint64_t)sqlite3_column_int64(st, 8);
		if (fn(&row, ctx))
			break;
	}
	return scan_finish(s, st, rc, err);
}
