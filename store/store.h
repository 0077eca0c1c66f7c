/*
 * store.h — the store: SQLite (embedded, the default) or PostgreSQL.
 *
 * The store keeps the raw bytes of every message that carried a report or
 * was quarantined (compressed), the parsed reports with their policies and
 * failure details, the counted view of each report (docs/COUNTING.md) in
 * two tables indexed by report start time, the quarantine, and the IMAP sync
 * state.  Only store/ knows a backend (store/db.h); aggregate/ reads the
 * store through the store_scan_*() functions below.  The write path that
 * parses messages into the store (ingest, reparse) is in store/ingest.h.
 *
 * Ownership: a struct store is opened with store_open() and freed with
 * store_close() (which accepts NULL).  Rows handed to scan callbacks point
 * into the backend's buffers and are valid only during the callback.  Functions
 * return 0 on success and -1 with *err filled (MXD_E_STORE, MXD_E_LOCKED).
 *
 * Concurrency: on SQLite one writer.  A store opened with STORE_WRITE holds
 * an exclusive lock on "<db>.lock" until it is closed; a second writer waits
 * up to lock_wait_ms and then fails with MXD_E_LOCKED.  Readers use WAL and
 * never wait for the writer.  On PostgreSQL several writers share the
 * store: store_lock() and the backend's per-identity lock keep them apart
 * (store/db.h, store/db_pg.c).
 */
#ifndef MXD_STORE_H
#define MXD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "parse/parse.h"
#include "util/buf.h"
#include "util/err.h"

#define STORE_SCHEMA_VERSION 6

struct store;

enum store_mode { STORE_READ, STORE_WRITE };

/* Default database path: $XDG_DATA_HOME/mxdigest/mxdigest.db, falling back
 * to ~/.local/share/mxdigest/mxdigest.db.  Returns a malloc'd string. */
char *store_default_path(void);

/*
 * Opens the store `where` names: a path (SQLite), or a PostgreSQL
 * connection, a postgresql:// (postgres://) URI or a libpq keyword string
 * ("host=db.example dbname=mxdigest"; store_is_remote() tells).  A
 * PostgreSQL store takes no lock of its own: several writers on several
 * hosts share it (store_lock()).  lock_wait_ms is how long a writer waits
 * for another that holds what it needs beyond a transaction: SQLite's
 * writer lock; on PostgreSQL the schema lock (another host creating or
 * upgrading it) and a store_lock() that waits (lock_timeout), not the
 * locks writers meet within their batches (store/db_pg.c, bound_wait()).
 */
int store_open(const char *where, enum store_mode mode, int lock_wait_ms,
	       struct store **out, struct mxd_err *err);
void store_close(struct store *s);
/* The path or the connection as shown to a user (never a password). */
const char *store_path(const struct store *s);
/* "sqlite" or "postgresql" */
const char *store_backend(const struct store *s);
int store_is_remote(const char *where);
/* The password of a PostgreSQL store when it is not in ~/.pgpass or
 * PGPASSFILE (password_command); NULL: libpq finds it. */
extern const char *store_pg_password;

/*
 * Locks between the writers of a store shared by several hosts: one
 * (account, mailbox) fetched at a time, one dictionary training at a time.
 * wait: 0 try once, else wait.  Returns 1 taken, 0 held by another
 * process, -1 error.  On SQLite the single writer's lock covers both, and
 * they return 1.  A lock is held until store_unlock() or store_close().
 */
enum store_lock { STORE_LOCK_MAILBOX, STORE_LOCK_DICT };
int store_lock(struct store *s, enum store_lock kind, const char *key, int wait,
	       struct mxd_err *err);
void store_unlock(struct store *s, enum store_lock kind, const char *key);

int store_begin(struct store *s, struct mxd_err *err);
int store_commit(struct store *s, struct mxd_err *err);
void store_rollback(struct store *s);
int store_in_transaction(const struct store *s);

/*
 * Messages (raw bytes, compressed inside), found by their identity: the
 * SHA-256 of the message without the header fields that mail stores and
 * IMAP servers add or rewrite (Status, X-Status, X-Keywords, X-UID, X-IMAP,
 * X-IMAPbase, Content-Length, Lines, X-Mozilla-*) and with CRLF read as
 * LF, so that a server that rewrites them, or changes UIDVALIDITY, does
 * not make an old message new (and its quarantine entries twice).
 */
void store_message_ident(const void *data, size_t len,
			 unsigned char out[SHA256_LEN]);
int store_message_find(struct store *s, const unsigned char sha[SHA256_LEN],
		       int64_t *id, struct mxd_err *err);	/* 1 found, 0 not */
/*
 * A message's raw bytes as stored: compressed with zstd and the store's
 * dictionary when that helps (store/codec.c).  store_message_encode() is
 * thread-safe (ingest's workers call it while the caller writes); a thread
 * that used it calls store_thread_release() before it ends.
 */
struct store_blob {
	int codec;		/* how data is encoded */
	int64_t dict;		/* the dictionary it needs, 0: none */
	struct buf data;
};
void store_message_encode(struct store *s, const void *data, size_t len,
			  struct store_blob *out);
void store_thread_release(void);
/*
 * The DKIM verdict of a message as the store keeps it (dkim/dkim.h takes
 * it): result is an enum dkimv_result, or -1 when none was taken; the
 * strings may be NULL or "".  Filled by store_message_auth() into its own
 * buffers.
 */
struct store_auth {
	int result;
	const char *domain, *selector, *detail;
	int64_t at;		/* when it was taken */
	char domain_buf[256], selector_buf[64], detail_buf[512];
};

/* Stores a message encoded by store_message_encode(): `size` bytes kept,
 * of `truncated` when only its start was (0: the whole message), with its
 * DKIM verdict (NULL: none).  Returns 0, or 1 when another writer (on
 * PostgreSQL) stored the same message since store_message_find() said
 * it was not there: *id is then that one. */
int store_message_put(struct store *s, const unsigned char sha[SHA256_LEN],
		      const char *source, size_t size, size_t truncated,
		      const struct store_blob *blob,
		      const struct store_auth *auth, int64_t now, int64_t *id,
		      struct mxd_err *err);
/* The verdict of message id (result -1: none taken), and a new one for
 * it, which decides again which copies of its reports count. */
int store_message_auth(struct store *s, int64_t id, struct store_auth *a,
		       struct mxd_err *err);
int store_message_set_auth(struct store *s, int64_t id,
			   const struct store_auth *a, struct mxd_err *err);
/* The message's raw bytes into out (decompressed), a malloc'd source, and
 * the size it had if only its start was kept (each may be NULL). */
int store_message_get(struct store *s, int64_t id, struct buf *out,
		      char **source, size_t *truncated, struct mxd_err *err);
/* How many reports and quarantine entries came from a message. */
int store_message_outcome(struct store *s, int64_t id, unsigned *reports,
			  unsigned *quarantined, struct mxd_err *err);

/*
 * Reports.  A report's identity is (organization, report-id, start); its
 * content is what it says (tlsrpt_digest()).  The same content again is a
 * duplicate and is not stored — unless its mail verified and no stored
 * copy's did: then it is kept as a copy, and counts instead.  The same
 * identity with other content is a conflict (a forged report, or a sender
 * that changed its mind): both copies are kept and exactly one counts —
 * the first whose mail verified (DKIM pass), else the first, in message
 * order.  A new verdict for a message (store_message_set_auth()) decides
 * again.
 */
enum store_report_status {
	STORE_REPORT_NEW,
	STORE_REPORT_DUPLICATE,
	STORE_REPORT_CONFLICT,
	STORE_REPORT_VERIFIED_COPY,	/* a duplicate, kept because verified */
};
/* reports.counts and the counted tables' copy of it */
enum {
	STORE_COUNTS_NOT,	/* another copy of the identity counts */
	STORE_COUNTS_COUNTED,	/* counts; its mail did not verify */
	STORE_COUNTS_VERIFIED,	/* counts; its mail verified */
};
/*
 * Before a writer stores a message (sha) with reports r[0..n-1] in its
 * transaction: takes the locks that keep other writers of a shared store
 * (PostgreSQL) from storing the same message, report identity or policy
 * text at the same time, and starts the message's first lookups with
 * them.  wait 0 tries: 0 means another writer holds one of them, and the
 * caller commits what it has, begins again and claims with wait 1, which
 * waits in an order every writer shares (so no two writers deadlock).
 * 1 claimed, -1 error.  SQLite has one writer at a time: always 1.
 */
int store_claim(struct store *s, const unsigned char sha[SHA256_LEN],
		const struct tlsrpt *const *r, size_t n, int wait,
		struct mxd_err *err);
/* The same for the message that comes next, without waiting for the
 * answer: store_claim() of it reads it, and finds its lookups done (they
 * run while this message's rows are written).  0 (also when the backend
 * has nothing to claim), -1 error. */
int store_claim_ahead(struct store *s, const unsigned char sha[SHA256_LEN],
		      const struct tlsrpt *const *r, size_t n,
		      struct mxd_err *err);
/* Which of the four a report would be, from a mail that verified or not
 * (nothing is written). */
int store_report_known(struct store *s, const struct tlsrpt *r, int verified,
		       struct mxd_err *err);
struct store_put_info {
	int counted;		/* this copy is the one that counts */
	char other[256];	/* conflict: where another copy came from (the
				 * counted one when this one is not) */
	int other_verified;	/* that copy counts and its mail verified */
};
/* Stores a report with its policies, details and counted view (the DKIM
 * verdict of its message, if any, stored first); returns a status. */
int store_report_put(struct store *s, int64_t message_id, unsigned part,
		     const struct tlsrpt *r, int64_t now,
		     struct store_put_info *info, struct mxd_err *err);
/* Decides again which copy counts for each report of a message, or for
 * one identity. */
int store_message_settle(struct store *s, int64_t message_id,
			 struct mxd_err *err);
int store_report_settle(struct store *s, const char *org, const char *report_id,
			int64_t start, struct mxd_err *err);

/* Quarantine. */
struct store_qitem {
	int64_t id;
	int64_t message_id;
	unsigned part;
	const char *name;	/* part file name or media type, may be NULL */
	const char *source;	/* where the message came from */
	int status;		/* enum mxd_status */
	const char *reason;
	int64_t created;
	int64_t size;		/* raw message bytes */
};
/* Adds an entry; returns 1 when (message, part) was already quarantined. */
int store_quarantine_put(struct store *s, int64_t message_id, unsigned part,
			 const char *name, enum mxd_status status,
			 const char *reason, int64_t now, struct mxd_err *err);
typedef int (*store_qitem_fn)(const struct store_qitem *q, void *ctx);
int store_quarantine_list(struct store *s, store_qitem_fn fn, void *ctx,
			  struct mxd_err *err);
/* One entry by id, 0 found / 1 not found; strings valid until the next
 * store call. */
int store_quarantine_get(struct store *s, int64_t id, struct store_qitem *q,
			 struct mxd_err *err);
int store_quarantine_list_message(struct store *s, int64_t message_id,
				  store_qitem_fn fn, void *ctx,
				  struct mxd_err *err);
int64_t store_quarantine_count(struct store *s, struct mxd_err *err);

/* Window scans for aggregate/: rows whose report starts in [from, to). */
struct store_filter {
	int64_t from, to;
	const char *domain;	/* policy domain, or NULL */
	const char *org;	/* organization, or NULL */
	const char *mx;		/* MX host (failure rows only), or NULL */
	int dkim_pass;		/* only reports from mail whose DKIM verdict
				 * is pass (dkim = require); the report scan
				 * ignores it (it tells the ignored ones) */
};

struct store_report_row {
	int64_t id;
	const char *org;
	const char *report_id;
	int64_t start, end;
	int dkim;		/* the mail's verdict (enum dkimv_result), -1:
				 * none taken */
	const char *dkim_domain;	/* d= of the passing signature, or NULL */
	const char *dkim_detail;	/* why the others did not count, or NULL */
	unsigned copies;	/* different contents stored for this identity
				 * (> 1: a conflict); the row is the copy
				 * that counts */
};

struct store_domain_row {
	int64_t report;
	const char *org;
	int64_t start;
	const char *domain;
	const char *types;
	uint64_t successful, failed;
};

struct store_policy_row {
	int64_t report;
	const char *org;
	int64_t start;
	const char *domain;
	const char *type;
	uint64_t successful, failed;
};

struct store_fail_row {
	int64_t report;
	const char *org;
	int64_t start;
	const char *domain;
	const char *result_type;
	const char *sending_ip;
	const char *receiving_mx;
	const char *receiving_ip;
	uint64_t count;
};

typedef int (*store_report_fn)(const struct store_report_row *, void *);
typedef int (*store_domain_fn)(const struct store_domain_row *, void *);
typedef int (*store_policy_fn)(const struct store_policy_row *, void *);
typedef int (*store_fail_fn)(const struct store_fail_row *, void *);
typedef int (*store_name_fn)(const char *name, void *ctx);

/* The counted copy of each report of the window, in no order; the rows
 * of the other scans come report by report, in start order. */
int store_scan_reports(struct store *s, const struct store_filter *f,
		       store_report_fn fn, void *ctx, struct mxd_err *err);
int store_scan_domains(struct store *s, const struct store_filter *f,
		       store_domain_fn fn, void *ctx, struct mxd_err *err);
int store_scan_policies(struct store *s, const struct store_filter *f,
			store_policy_fn fn, void *ctx, struct mxd_err *err);
int store_scan_failures(struct store *s, const struct store_filter *f,
			store_fail_fn fn, void *ctx, struct mxd_err *err);

/* The scans of store_scan_ahead() */
enum {
	STORE_AHEAD_REPORTS = 1 << 0,	/* store_scan_reports() */
	STORE_AHEAD_DOMAINS = 1 << 1,	/* store_scan_domains() */
	STORE_AHEAD_POLICIES = 1 << 2,	/* store_scan_policies() */
	STORE_AHEAD_FAILURES = 1 << 3,	/* store_scan_failures() */
	STORE_AHEAD_FAIL_KINDS = 1 << 4,	/* store_failure_kinds() */
	STORE_AHEAD_FAILING_ORGS = 1 << 5,	/* store_failing_orgs() */
	STORE_AHEAD_DETAILS = 1 << 6,	/* store_scan_details() */
};
/*
 * A hint, outside a transaction: the scans named in `scans` (in the
 * order of the enum), with filter f, will be asked for soon.  A backend
 * on a server (PostgreSQL) sends them now, so that the server works on
 * them while the rows of the scans before are read; the scan functions
 * with the same filter then read their answer.  The strings of f must
 * stay valid until then.  Scans the store cannot send ahead (more than
 * two of one kind at once, or the backend runs in-process) simply run when
 * asked for.  0, or -1 with err.
 */
int store_scan_ahead(struct store *s, const struct store_filter *f,
		     unsigned scans, struct mxd_err *err);

/* ---- digest queries (store/query.c) ---------------------------------- */

/* A failure detail as the sender wrote it, with its report and policy. */
struct store_detail_row {
	const char *report_id;
	const char *org;
	int64_t start, end;
	const char *domain;
	const char *policy_type;
	const char *result_type;
	const char *sending_ip;		/* NULL when not given */
	const char *receiving_mx;	/* as sent (case kept), or NULL */
	const char *receiving_helo;
	const char *receiving_ip;
	uint64_t count;
	const char *reason_code;
	const char *additional_info;
	int dkim;			/* the mail's verdict, -1: none */
	const char *dkim_domain;	/* d= that passed, or NULL */
};
typedef int (*store_detail_fn)(const struct store_detail_row *, void *);

/* Every failure detail of the reports that start in [from, to), in report
 * start order (then report, policy and detail order); the MX filter
 * compares the detail's MX host (name, else IP) case-insensitively. */
int store_scan_details(struct store *s, const struct store_filter *f,
		       store_detail_fn fn, void *ctx, struct mxd_err *err);
int store_count_details(struct store *s, const struct store_filter *f,
			uint64_t *n, struct mxd_err *err);
/* 1 when some report starts before t, 0 when none, -1 on error. */
int store_has_reports_before(struct store *s, int64_t t, struct mxd_err *err);
/*
 * What "new this window" asks of the windows before it, each answer once
 * and in no order: the kinds of failure store_scan_failures() would give
 * for f (each distinct org, result_type and MX host: receiving_mx is
 * the host's name, else its IP, else NULL; the row's other members are 0
 * and NULL), and the organizations of the
 * rows store_scan_domains() would give with failed > 0.  The store makes
 * them distinct, so that four windows of rows need not reach the digest.
 */
int store_failure_kinds(struct store *s, const struct store_filter *f,
			store_fail_fn fn, void *ctx, struct mxd_err *err);
int store_failing_orgs(struct store *s, const struct store_filter *f,
		       store_name_fn fn, void *ctx, struct mxd_err *err);

/* ---- end of digest queries ------------------------------------------- */

/* ---- domain checks (store/check.c) ----------------------------------- */

struct check_result;

/* Stores one run of `check` (its findings and the data it saw) inside the
 * caller's transaction; *id is the run. */
int store_check_put(struct store *s, const struct check_result *r, int64_t *id,
		    struct mxd_err *err);

/* A stored finding, with since when it has been there without a break
 * (runs that did not complete are stepped over). */
struct store_check_finding {
	int level;		/* enum check_level */
	char *code, *subject, *text;
	int dnssec;		/* enum check_dnssec */
	int64_t since;
};
struct store_check_run {
	int64_t id;
	char *domain;
	int64_t at;
	int worst, incomplete;
	struct store_check_finding *f;
	size_t n_f;
};
/* The latest run of `domain` at or before `before`, and the one before it
 * (prev may be NULL): 1 found, 0 none, -1 error.  Release both (a run not
 * found is zeroed). */
int store_check_runs(struct store *s, const char *domain, int64_t before,
		     struct store_check_run *latest, struct store_check_run *prev,
		     struct mxd_err *err);
void store_check_run_release(struct store_check_run *r);

/* The domains checked in [from, to), sorted. */
int store_check_domains(struct store *s, int64_t from, int64_t to,
			store_name_fn fn, void *ctx, struct mxd_err *err);
/* The policy domains (lower case) of counted reports starting in [from, to). */
int store_policy_domains(struct store *s, int64_t from, int64_t to,
			 store_name_fn fn, void *ctx, struct mxd_err *err);
/* The policy-string (lines joined by \n) of every counted sts policy of
 * f->domain in reports starting in [f->from, f->to). */
typedef int (*store_pstring_fn)(const char *org, int64_t start,
				const char *strings, void *ctx);
int store_scan_policy_strings(struct store *s, const struct store_filter *f,
			      store_pstring_fn fn, void *ctx, struct mxd_err *err);

/*
 * IMAP sync state per (account, mailbox): the mailbox's UIDVALIDITY and the
 * highest UID done.  store_sync_get() returns 1 and fills both, or 0 when
 * nothing is recorded.  store_sync_put() is meant to run inside the batch's
 * transaction (after ingest_begin(), before ingest_flush()); within one
 * UIDVALIDITY the recorded UID never decreases, and a new UIDVALIDITY
 * replaces the old state.
 */
int store_sync_get(struct store *s, const char *account, const char *mailbox,
		   uint32_t *uidvalidity, uint32_t *last_uid, struct mxd_err *err);
int store_sync_put(struct store *s, const char *account, const char *mailbox,
		   uint32_t uidvalidity, uint32_t last_uid, struct mxd_err *err);
/*
 * Records the UIDVALIDITY a SELECT found, before anything is fetched: a
 * new one resets the highest UID done (the old UIDs mean nothing) and
 * counts one more selection in a row with a new UIDVALIDITY; the same one
 * resets the count.  Returns the count (0: unchanged, or first seen), or
 * -1.  A server that cannot keep UIDs (Mailutils on an mbox that other
 * programs deliver to) raises it on every run.
 */
int store_sync_seen(struct store *s, const char *account, const char *mailbox,
		    uint32_t uidvalidity, struct mxd_err *err);

/*
 * Dictionaries of the raw copies (store/codec.c).  store_dict_update(),
 * at the end of a run that stored messages, makes the first dictionary
 * once the store holds enough messages, or a new one when the messages of
 * the run compress much worse than the one in use did when it was made;
 * it then recompresses the rows that need it.  store_recompress() (reparse
 * --recompress) does the same for the whole store: every zlib row and
 * every row compressed without the dictionary in use.  Neither may run
 * while an ingest does.
 */
struct store_dict_stats {
	int64_t dict;		/* the dictionary made (or in use), 0: none */
	size_t samples, bytes;	/* what it was trained on, its size */
	double ratio;		/* its compression ratio on held-out mail */
	long long train_ms;
	uint64_t recompressed;	/* rows re-encoded */
	uint64_t bytes_before, bytes_after;	/* their stored bytes */
};
int store_dict_update(struct store *s, struct store_dict_stats *ds,
		      struct mxd_err *err);
int store_recompress(struct store *s, struct store_dict_stats *ds,
		     struct mxd_err *err);
int64_t store_dict_current(const struct store *s);
/* After a recompress: the file rewritten without its free pages, at the
 * page size of a new store (SQLite; on PostgreSQL nothing to do: 0 and
 * sizes 0).  1 done (*before, *after its size in bytes), 0 not done
 * (readers have it open, or nothing to do), -1 with err. */
int store_compact(struct store *s, uint64_t *before, uint64_t *after,
		  struct mxd_err *err);

/* ---- copying a store (store/copy.c) ----------------------------------- */

/*
 * store_copy() copies every row of `from` into `to` with its ids, as
 * stored (raw copies are not recompressed, dictionaries and doubles are
 * copied bit for bit), between any two backends: `to` then gives the
 * same digests, quarantine and reparse, and fetch goes on where `from`
 * was.  `to` must be empty (just opened for writing, no row in any table
 * but meta): otherwise nothing is written and it fails with MXD_E_USAGE.
 * `from` is read in one snapshot (other writers may go on), page by page
 * in id order, and `to` written in transactions of a few thousand rows,
 * so memory does not grow with the store.  fn (may be NULL) is called
 * after each page; a non-zero return stops the copy (MXD_E_INTERRUPTED).
 * On a failure the transaction under way is rolled back and st->committed
 * says how many rows `to` holds: 0, it is still empty; else it is
 * incomplete, and a second copy into it is refused.  The codec state of
 * `to` is not refreshed: close it after.
 */
enum store_copy_table {
	STORE_COPY_DICTS, STORE_COPY_MESSAGES, STORE_COPY_DKIM, STORE_COPY_TEXTS,
	STORE_COPY_REPORTS, STORE_COPY_DOMAIN_COUNTS, STORE_COPY_FAILURE_COUNTS,
	STORE_COPY_POLICIES, STORE_COPY_DETAILS, STORE_COPY_QUARANTINE,
	STORE_COPY_IMAP_STATE, STORE_COPY_CHECKS, STORE_COPY_CHECK_FINDINGS,
	STORE_COPY_CHECK_DATA,
	STORE_COPY_TABLES
};
struct store_copy_stats {
	uint64_t rows[STORE_COPY_TABLES];	/* copied, per table */
	uint64_t total;		/* the sum */
	uint64_t committed;	/* of them, committed in `to` */
	uint64_t bytes;		/* stored bytes of raw copies and dictionaries */
	enum store_copy_table table;	/* the table being copied */
};
/* The table's name in the schema ("messages"). */
const char *store_copy_table_name(enum store_copy_table t);
typedef int (*store_copy_fn)(const struct store_copy_stats *st, void *ctx);
int store_copy(struct store *from, struct store *to, store_copy_fn fn,
	       void *ctx, struct store_copy_stats *st, struct mxd_err *err);

#endif
