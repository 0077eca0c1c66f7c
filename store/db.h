/*
 * db.h — what a store backend does: the driver interface of store/.
 *
 * The rules of the store (a message's identity, which copy of a report
 * counts, the dictionaries of the raw copies, reparse) are written once,
 * in the other files of store/, on top of this interface; a backend only
 * runs statements.
 * It says nothing of the rules, so that two backends cannot disagree on a
 * count.  Each backend is one file with its schema, its migrations and
 * one SQL text for every statement below (db_sqlite.c: the embedded
 * SQLite database, the default; db_pg.c: PostgreSQL, for a store shared
 * by several hosts).  Nothing outside store/ includes this header.
 *
 * A statement is named by an enum db_stmt and used as
 *
 *	q = db_get(s, DB_MSG_FIND, err);	(ready for binding)
 *	db_bind_blob(q, 1, sha, 32);
 *	while ((rc = db_step(q)) == 1) ... db_col_int(q, 0) ...
 *	db_reset(q);				(rc < 0: store_db_error())
 *
 * Parameters are numbered from 1, columns from 0.  Bound text and blobs
 * must stay valid until the first db_step(); column values until the next
 * db_step() or db_reset() of the statement.  A statement is not used
 * again before it is reset (the callers never nest one in itself); other
 * statements may run between the steps of one.  db_col_text() of NULL is
 * NULL.  Integers are 64-bit; every integer column and parameter below is
 * an int64 unless it says otherwise.
 *
 * The contract of each statement is the comment at its name: parameters
 * ?1..?n, then -> the columns of each row.  A statement that inserts a row
 * with an id returns it as its only row (RETURNING id).
 */
#ifndef MXD_STORE_DB_H
#define MXD_STORE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

enum db_stmt {
	/* ---- messages ---- */
	DB_MSG_FIND,		/* sha -> id */
	DB_MSG_PUT,		/* sha, source, size, received, codec, data(blob),
				 * truncated, dict(or NULL) -> id; no row when
				 * another writer stored sha meanwhile (a backend
				 * whose writers claim messages, store_claim(),
				 * may fail instead: none can then) */
	DB_MSG_GET,		/* id -> codec, data, source, size, truncated,
				 * dict(or NULL) */
	DB_MSG_SOME,		/* ids (text: decimal ids joined by ",") ->
				 * id, codec, data, size, dict(or NULL) of each
				 * that exists; by id */
	DB_MSG_REPORTS,		/* id -> count(*) of its reports */
	DB_MSG_QUARANTINED,	/* id -> count(*) of its quarantine entries */
	DB_AUTH_GET,		/* message id -> result, domain, selector, detail,
				 * at (no row: no verdict) */
	DB_AUTH_SET,		/* message id, result, domain, selector, detail, at:
				 * inserts or replaces */

	/* ---- reports (store.c) ---- */
	DB_REP_BY_IDENT,	/* org, report_id, start -> digest(or NULL),
				 * successful, failed, counts */
	DB_REP_BY_SHA,		/* sha -> 1 when a report has these bytes */
	DB_LOOKUP,		/* the three lookups of a message before it is
				 * stored, in one: sha, then org, report_id,
				 * start, sha of its first report (each NULL when
				 * it has none) -> kind, id, digest(or NULL),
				 * successful, failed, counts: kind 0 with the
				 * id of DB_MSG_FIND, kind 1 with the columns
				 * of each row of DB_REP_BY_IDENT, kind 2 when
				 * DB_REP_BY_SHA has its row; in no order */
	DB_REP_PUT,		/* message_id, part, org, report_id, contact, start,
				 * end, sha, notes, successful, failed, imported,
				 * counts, digest -> id */
	DB_POL_PUT,		/* report, idx, type, domain, domain_source,
				 * strings_id, mx_id (each or NULL), successful,
				 * failed -> id */
	DB_TEXT_FIND,		/* text -> id */
	DB_TEXT_PUT,		/* text -> id (a new text); no row when another
				 * writer stored it meanwhile (or fails, as
				 * DB_MSG_PUT) */
	DB_DET_PUT,		/* policy, result_type, sending_ip, receiving_mx,
				 * receiving_helo, receiving_ip, count,
				 * additional_info, reason_code; keeps their order */
	DB_DOM_PUT,		/* report, start, org, domain, types, successful,
				 * failed, counts */
	DB_FAIL_PUT,		/* report, start, org, domain, result_type,
				 * sending_ip, receiving_mx, receiving_ip, count,
				 * counts */
	DB_REP_WINNER,		/* org, report_id, start, DKIM pass value -> the
				 * copy that counts: id, 1 when its mail's verdict
				 * is pass else 0; ordered by that, then message id,
				 * then part; one row */
	DB_REP_SETTLE,		/* org, report_id, start, id, counts: the copy id
				 * gets counts, the others of the identity 0 */
	DB_DOM_SETTLE,		/* the same in domain_counts */
	DB_FAIL_SETTLE,		/* the same in failure_counts */
	DB_REP_OF_MSG,		/* message id -> org, report_id, start */
	DB_REP_OTHER,		/* org, report_id, start, id -> source of another
				 * copy's mail, its counts; the counted one first,
				 * then by message id; one row */

	/* ---- quarantine ---- */
	DB_QUA_PUT,		/* message_id, part, name, status, reason, created
				 * -> id; no row when (message, part) was there */
	DB_QUA_LIST,		/* -> id, message_id, part, name, source, status,
				 * reason, created, size (of the message); by id */
	DB_QUA_GET,		/* id -> the same columns */
	DB_QUA_LIST_MSG,	/* message id -> the same columns, by part */
	DB_QUA_COUNT,		/* -> count(*) */

	/* ---- window scans (store.c, query.c) ----
	 * Every scan takes ?1 from, ?2 to (start in [from, to)), ?3 policy
	 * domain, ?4 organization, ?5 MX host (each text or NULL: any), ?6
	 * the least `counts` that counts.
	 * A scan whose order reaches the digest as a list (details, policy
	 * strings) orders reports that start at once by identity: org, then
	 * report_id, compared as bytes; the same reports stored in another
	 * order give the same rows in the same order.  The counted view's
	 * scans (domains, policies, failures) only keep the rows of one
	 * report together, in start order; the reports come in no order:
	 * aggregate/ sums them and sorts what it shows. */
	DB_SCAN_REPORTS,	/* -> id, org, report_id, start, end, dkim result
				 * (or NULL), dkim domain, dkim detail, distinct
				 * contents of the identity; counted copies only
				 * (counts >= 1, ?6 unused); in no order */
	DB_SCAN_DOMAINS,	/* -> report, org, start, domain, types,
				 * successful, failed; by start, report */
	DB_SCAN_POLICIES,	/* -> report, org, start, domain, type,
				 * successful, failed; by start, report, idx */
	DB_SCAN_FAILURES,	/* -> report, org, start, domain, result_type,
				 * sending_ip, receiving_mx, receiving_ip, count;
				 * by start, report */
	DB_SCAN_DETAILS,	/* -> report_id, org, start, end, domain,
				 * policy type, result_type, sending_ip,
				 * receiving_mx, receiving_helo, receiving_ip,
				 * count, reason_code, additional_info, dkim result
				 * (or NULL), dkim domain; MX compared without
				 * case; by start, org, report_id, then policy
				 * idx, then the order of the report's details */
	DB_COUNT_DETAILS,	/* -> count(*) of the rows DB_SCAN_DETAILS gives */
	DB_HAS_BEFORE,		/* t -> 1 when some report starts before t */
	DB_FAIL_KINDS,		/* the rows of DB_SCAN_FAILURES -> org,
				 * result_type, MX host (receiving_mx, else
				 * receiving_ip, else NULL), each distinct once;
				 * in no order */
	DB_FAILING_ORGS,	/* the rows of DB_SCAN_DOMAINS with failed > 0
				 * -> org, each distinct once; in no order */

	/* ---- checks (check.c) ---- */
	DB_CHECK_PUT,		/* domain, at, worst, incomplete -> id */
	DB_FINDING_PUT,		/* check id, idx, level, code, subject, text,
				 * dnssec */
	DB_CHECK_DATA_PUT,	/* check id, kind, name, value */
	DB_FINDINGS_OF,		/* check id -> level, code, subject, text, dnssec;
				 * by idx */
	DB_CHECK_COMPLETE,	/* domain, before -> id, at of the complete runs
				 * before `before`, newest first (then id desc) */
	DB_FINDING_IN,		/* check id, code, subject -> 1 when there */
	DB_CHECK_LATEST,	/* domain, at -> id, domain, at, worst, incomplete
				 * of the two newest runs at or before `at` */
	DB_CHECK_DOMAINS,	/* from, to -> distinct domain checked, sorted */
	DB_POLICY_DOMAINS,	/* from, to -> distinct lower(policy domain) of
				 * counted reports, sorted */
	DB_POLICY_STRINGS,	/* from, to, domain -> org, start, policy strings
				 * of each counted sts policy of the domain (no
				 * case), by start, org, report_id, policy idx */

	/* ---- IMAP sync state (sync.c) ---- */
	DB_SYNC_GET,		/* account, mailbox -> uidvalidity, last_uid */
	DB_SYNC_PUT,		/* account, mailbox, uidvalidity, last_uid: the
				 * rules of store_sync_put() */
	DB_SYNC_SEEN,		/* account, mailbox, uidvalidity -> uv_changes:
				 * the rules of store_sync_seen() */

	/* ---- dictionaries (codec.c) ---- */
	DB_DICT_NEWEST,		/* -> id, ratio(double), data, packed of the
				 * newest */
	DB_DICT_GET,		/* id -> data */
	DB_DICT_PUT,		/* created, samples, ratio(double), data -> id
				 * (trained on packed forms) */
	DB_MSG_NEXT,		/* -> max(message id) + 1 (1 when none), 0 */
	DB_MSG_NEXT_COUNT,	/* -> the same, count(*) of messages */
	DB_DICT_USE,		/* first id, codec (and above), dict (or NULL) -> count(*),
				 * sum(size), sum(stored bytes) of the messages
				 * from `first` on with that codec and dict */
	DB_MSG_NEWEST,		/* n -> id, stored bytes of the n newest
				 * messages, newest first */
	/* the next RECOMPRESS_BATCH messages after id ?2 that need
	 * re-encoding with dictionary ?1 -> id, stored bytes; by id */
	DB_RECODE_UNDICTED,	/* zstd rows (packed or not) without a dictionary */
	DB_RECODE_OTHER,	/* zstd rows with another dictionary (or none) */
	DB_RECODE_OLD,		/* zlib rows and zstd rows with another dict */
	DB_RECODE_ZLIB,		/* zlib rows */
	DB_MSG_RECODE,		/* codec, dict (or NULL), data, id */

	/* ---- reparse and reverify (reparse.c) ---- */
	DB_REPARSE_OLD,		/* message id -> org, report_id, start, sha, notes,
				 * successful, failed, part of its reports */
	DB_REPARSE_QPARTS,	/* message id -> part of its quarantine entries */
	DB_FORGET_REPORTS,	/* message id: deletes its reports (and their
				 * policies, details and counted rows) */
	DB_FORGET_QUARANTINE,	/* message id: deletes its quarantine entries */
	DB_IDS_ALL,		/* -> every message id, ascending */
	DB_IDS_QUARANTINED,	/* -> distinct message ids of the quarantine */
	DB_IDS_REPORTED,	/* -> distinct message ids of the reports */
	DB_IDS_VERDICT,		/* result, before -> message ids whose verdict is
				 * `result`, taken before `before` */

	/* ---- store copy (copy.c) ----
	 * Every table is read from one store and written to another with its
	 * ids: the columns a _READ gives are the parameters ?1..?n of the
	 * table's _WRITE, in the same order (the list at the _READ), NULLs
	 * as NULLs.  A keyed read takes ?1 the key of the last row copied
	 * (the least int64 at first) and ?2 the most rows to give -> the rows
	 * whose key (the first column) is above ?1, by key.  A read by
	 * report (by check) takes ?1 < report <= ?2, the ids of a page of
	 * reports (checks) just copied -> their rows by report, then in the
	 * order they were stored where the backend keeps one (SQLite's rowid;
	 * PostgreSQL has none). */
	DB_COPY_ANY,		/* -> 1 when a table but meta has a row, else 0 */
	DB_COPY_MSG_SIZES,	/* keyed on id -> stored bytes of each message */
	DB_COPY_DICT_READ,	/* keyed: id, created, samples, ratio(double),
				 * data, packed */
	DB_COPY_DICT_WRITE,
	DB_COPY_MSG_READ,	/* keyed: id, sha, source, size, received, codec,
				 * data, truncated, dict(or NULL) */
	DB_COPY_MSG_WRITE,
	DB_COPY_DKIM_READ,	/* keyed: message_id, result, domain, selector,
				 * detail, at */
	DB_COPY_DKIM_WRITE,
	DB_COPY_TEXT_READ,	/* keyed: id, text */
	DB_COPY_TEXT_WRITE,
	DB_COPY_REP_READ,	/* keyed: id, message_id, part, org, report_id,
				 * contact, start, end, sha, notes, successful,
				 * failed, imported, counts, digest(or NULL) */
	DB_COPY_REP_WRITE,
	DB_COPY_DOM_READ,	/* by report: report, start, org, domain, types,
				 * successful, failed, counts */
	DB_COPY_DOM_WRITE,
	DB_COPY_FAIL_READ,	/* by report: report, start, org, domain,
				 * result_type, sending_ip, receiving_mx,
				 * receiving_ip, count, counts */
	DB_COPY_FAIL_WRITE,
	DB_COPY_POL_READ,	/* keyed: id, report, idx, type, domain,
				 * domain_source, strings_id, mx_id, successful,
				 * failed */
	DB_COPY_POL_WRITE,
	DB_COPY_DET_READ,	/* keyed on the order details were stored in (the
				 * key DB_SCAN_DETAILS orders by): that key,
				 * policy, result_type, sending_ip, receiving_mx,
				 * receiving_helo, receiving_ip, count,
				 * additional_info, reason_code */
	DB_COPY_DET_WRITE,
	DB_COPY_QUA_READ,	/* keyed: id, message_id, part, name, status,
				 * reason, created */
	DB_COPY_QUA_WRITE,
	DB_COPY_SYNC_READ,	/* -> every row: account, mailbox, uidvalidity,
				 * last_uid, uv_changes (one per mailbox
				 * fetched: read whole) */
	DB_COPY_SYNC_WRITE,
	DB_COPY_CHECK_READ,	/* keyed: id, domain, at, worst, incomplete */
	DB_COPY_CHECK_WRITE,
	DB_COPY_FINDING_READ,	/* by check: check_id, idx, level, code, subject,
				 * text, dnssec */
	DB_COPY_FINDING_WRITE,
	DB_COPY_CDATA_READ,	/* by check: check_id, kind, name, value */
	DB_COPY_CDATA_WRITE,
	DB_COPY_SEQUENCES,	/* after rows were written with their ids: the
				 * next id each table makes is above its largest
				 * (PostgreSQL moves the identity sequences; SQLite
				 * takes max(rowid) + 1 anyway: a no-op); any rows
				 * it gives mean nothing */

	DB_STMT_COUNT
};

/* Locks a backend takes for the store (store_lock()). */
enum db_lock {
	DB_LOCK_MAILBOX,	/* one (account, mailbox) being fetched */
	DB_LOCK_DICT,		/* training a dictionary, recompressing */
	DB_LOCK_IDENT,		/* one report identity, until the commit */
	DB_LOCK_MESSAGE,	/* one message (its SHA-256, in hex), the same */
	DB_LOCK_TEXT,		/* one text (policy, contact-info), the same */
};

/* A lock of claim(): which kind, and its name. */
struct db_key {
	enum db_lock kind;
	const char *key;
};

/* Copies of a statement a backend keeps per slot (get_slot()), apart from
 * get()'s: the message being stored and the next ones claimed ahead
 * (store_claim_ahead()). */
#define DB_SLOTS 4

struct db;			/* a backend's connection */
struct dbq;			/* a statement of it */

struct db_driver {
	const char *name;	/* "sqlite", "postgresql" */
	/*
	 * Opens the store at `where` (a path, a connection string), creates
	 * or upgrades its schema, and sets s->db and s->where (the name to
	 * show: never a password).  Returns 0, -1 with *err, or 1 when a
	 * reader found an older schema (store_open() then opens once as a
	 * writer to upgrade).
	 */
	int (*open)(struct store *s, const char *where, enum store_mode mode,
		    int lock_wait_ms, struct mxd_err *err);
	void (*close)(struct db *db);
	int (*begin)(struct db *db, struct mxd_err *err);
	/* Begins a read-only transaction (ended by commit or rollback) whose
	 * statements all see the store as it was at its start, whatever other
	 * writers commit meanwhile: the source of store_copy(). */
	int (*snapshot)(struct db *db, struct mxd_err *err);
	int (*commit)(struct db *db, struct mxd_err *err);
	void (*rollback)(struct db *db);
	struct dbq *(*get)(struct db *db, enum db_stmt id, struct mxd_err *err);
	void (*bind_int)(struct dbq *q, int i, int64_t v);
	void (*bind_double)(struct dbq *q, int i, double v);
	void (*bind_text)(struct dbq *q, int i, const char *v);	/* NULL ok */
	void (*bind_blob)(struct dbq *q, int i, const void *p, size_t n);
	void (*bind_null)(struct dbq *q, int i);
	int (*step)(struct dbq *q);	/* 1 a row, 0 done, -1 error */
	int (*is_null)(struct dbq *q, int i);
	int64_t (*col_int)(struct dbq *q, int i);
	double (*col_double)(struct dbq *q, int i);
	const char *(*col_text)(struct dbq *q, int i);
	const void *(*col_blob)(struct dbq *q, int i, size_t *n);
	void (*reset)(struct dbq *q);
	/* Fills err from the last failure ("what" says what was being done):
	 * MXD_E_LOCKED when another writer holds what it needed. */
	int (*error)(struct db *db, struct mxd_err *err, const char *what);
	/*
	 * Takes a lock named (kind, key) for other mxdigest processes on any
	 * host: DB_LOCK_IDENT until the transaction ends, the others until
	 * unlock() or close.  wait: 0 try once, else wait.  Returns 1 taken,
	 * 0 held by another (try), -1 error.  A backend with one writer at a
	 * time (SQLite) takes nothing and returns 1.
	 */
	int (*lock)(struct db *db, enum db_lock kind, const char *key, int wait,
		    struct mxd_err *err);
	void (*unlock)(struct db *db, enum db_lock kind, const char *key);

	/*
	 * The rest is optional (NULL: the store does without).
	 *
	 * claim: takes the n transaction locks (DB_LOCK_IDENT, _MESSAGE,
	 * _TEXT) a writer needs before it stores one message, all in one go.
	 * wait 0 tries each once and returns 0 when another writer holds any
	 * of them (the ones taken stay taken); wait 1 waits for each, in an
	 * order every writer shares, so two writers that only wait in a
	 * transaction holding nothing else cannot deadlock.  1 all taken,
	 * 0 (try) busy, -1 error.  Locks taken stay taken until the
	 * transaction ends; lock() of one of them then costs nothing.
	 * then: statements (bound) that run right after the locks, in the
	 * same round trip; their rows are read by step() as usual (reset
	 * them, unread, when the claim did not take everything).
	 */
	int (*claim)(struct db *db, const struct db_key *keys, size_t n,
		     int wait, struct dbq *const *then, size_t n_then,
		     struct mxd_err *err);
	/*
	 * run: executes q, whose rows the caller does not read: an INSERT,
	 * UPDATE or DELETE.  With id, q is an INSERT ... -> id and *id gets
	 * the new row's id.  In a transaction the backend may only queue q
	 * and return at once: an error then fails a later step() or the
	 * commit, and error() tells it with `what` (a string that lives as
	 * long as the program).  0, or -1 with the error remembered.
	 */
	int (*run)(struct dbq *q, int64_t *id, const char *what);
	/*
	 * send: starts q (bound) now; its rows are read by step() as usual,
	 * later.  Other statements may run meanwhile, but not q itself.
	 */
	void (*send)(struct dbq *q);
	/*
	 * get_slot: get() of a copy of the statement that is slot's own
	 * (0 .. DB_SLOTS - 1), never the one get() returns, so that the
	 * lookups of the next message can be in flight while this one's run
	 * (and its statements reuse get()'s freely).
	 */
	struct dbq *(*get_slot)(struct db *db, enum db_stmt id, int slot,
				struct mxd_err *err);
	/*
	 * claim_send: the try of claim() and then[], sent without waiting for
	 * the answer (slot: where it is kept); claim_read: that answer, as
	 * claim() would return it.  Only in a transaction.
	 */
	int (*claim_send)(struct db *db, const struct db_key *keys, size_t n,
			  struct dbq *const *then, size_t n_then, int slot,
			  struct mxd_err *err);
	int (*claim_read)(struct db *db, int slot, struct mxd_err *err);
	/*
	 * flush: a backend may keep the rows of run() back, to send several
	 * as one statement, and let the lookups of a message (DB_MSG_FIND,
	 * DB_REP_BY_IDENT, DB_REP_BY_SHA, DB_LOOKUP) go ahead of them; every other
	 * statement and the commit see them.  flush() sends them now, for a
	 * lookup of what the transaction itself wrote.  0, or -1.
	 */
	int (*flush)(struct db *db, struct mxd_err *err);
	/*
	 * compact (SQLite; NULL where the server reuses free space itself):
	 * rewrites the database without its free pages, at the page size of
	 * a new one; *before and *after get its size in bytes.  Outside a
	 * transaction.  1 done, 0 not now (readers have it open), -1 error.
	 */
	int (*compact)(struct db *db, uint64_t *before, uint64_t *after,
		       struct mxd_err *err);
};

struct dbq {
	const struct db_driver *drv;	/* first member of each backend's */
};

extern const struct db_driver db_sqlite_driver;
extern const struct db_driver db_pg_driver;
/* The SQL of each backend, for the test that every statement has one. */
extern const char *const db_sqlite_sql[DB_STMT_COUNT];
extern const char *const db_pg_sql[DB_STMT_COUNT];

/* s->drv->get() */
struct dbq *db_get(struct store *s, enum db_stmt id, struct mxd_err *err);

static inline void db_bind_int(struct dbq *q, int i, int64_t v)
{ q->drv->bind_int(q, i, v); }
static inline void db_bind_double(struct dbq *q, int i, double v)
{ q->drv->bind_double(q, i, v); }
static inline void db_bind_text(struct dbq *q, int i, const char *v)
{ q->drv->bind_text(q, i, v); }
static inline void db_bind_blob(struct dbq *q, int i, const void *p, size_t n)
{ q->drv->bind_blob(q, i, p, n); }
static inline void db_bind_null(struct dbq *q, int i)
{ q->drv->bind_null(q, i); }
/* an id, NULL for 0 */
static inline void db_bind_id(struct dbq *q, int i, int64_t id)
{ if (id) q->drv->bind_int(q, i, id); else q->drv->bind_null(q, i); }
static inline int db_step(struct dbq *q)
{ return q->drv->step(q); }
static inline int db_is_null(struct dbq *q, int i)
{ return q->drv->is_null(q, i); }
static inline int64_t db_col_int(struct dbq *q, int i)
{ return q->drv->col_int(q, i); }
static inline double db_col_double(struct dbq *q, int i)
{ return q->drv->col_double(q, i); }
static inline const char *db_col_text(struct dbq *q, int i)
{ return q->drv->col_text(q, i); }
static inline const void *db_col_blob(struct dbq *q, int i, size_t *n)
{ return q->drv->col_blob(q, i, n); }
static inline void db_reset(struct dbq *q)
{ q->drv->reset(q); }

#endif
