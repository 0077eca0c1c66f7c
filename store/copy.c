/*
 * copy.c — `mxdigest store copy`: every row of one store into an empty
 * one, with its ids, through the backends' statements (db.h, the section
 * "store copy"), so that SQLite and PostgreSQL stores can be moved into
 * each other.
 *
 * A table is described once, below: its statements and the type of each
 * column; one loop reads a page of it from the source and writes each row
 * to the target, the columns read bound as they came (NULL as NULL, a
 * blob as its bytes, a double as itself).  Tables with an id are read by
 * keyset (id > the last one copied), which costs the same on page 1 and
 * page 10,000; the tables keyed by their report or check only (the
 * counted view, findings, check data) are read with each page of their
 * parent, by its id range, which also keeps the foreign keys satisfied
 * inside every transaction.  imap_state, one row per mailbox fetched, is
 * read whole.  Ids are copied, so the reports, quarantine entries and
 * dictionaries that rows name are the same; then the target's sequences
 * are moved past them.
 */
#include "store/store.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/store_p.h"

/* rows of a page, and of the raw copies the bytes they may hold (a page
 * is one result in memory on PostgreSQL) */
#define COPY_PAGE		1000
#define COPY_PAGE_BYTES		(32u << 20)
/* a transaction of the target ends at the first page end past these */
#define COPY_TX_ROWS		5000
#define COPY_TX_BYTES		(64u << 20)

enum copy_how {
	COPY_KEYED,		/* ?1 after, ?2 n; the key is column 0 */
	COPY_BY_PARENT,		/* ?1 < parent <= ?2, with each parent page */
	COPY_WHOLE,		/* no parameter */
};

struct copy_table {
	enum store_copy_table id;
	const char *name;
	const char *what;		/* "copy: writing NAME" */
	enum db_stmt read, write;
	/* a letter per column of the read (the parameters of the write): i
	 * integer, d double, t text, b blob */
	const char *cols;
	enum copy_how how;
	int page;			/* COPY_KEYED: rows a read */
	enum store_copy_table parent;	/* COPY_BY_PARENT */
};

/* In the order of the foreign keys: a row is written after what it names. */
static const struct copy_table tables[] = {
	/* id created samples ratio data packed: a dictionary is ~100 KB */
	{ STORE_COPY_DICTS, "dicts", "copy: writing dicts",
	  DB_COPY_DICT_READ, DB_COPY_DICT_WRITE, "iiidbi",
	  COPY_KEYED, 16, 0 },
	/* id sha256 source size received codec data truncated dict; pages
	 * cut by DB_COPY_MSG_SIZES too */
	{ STORE_COPY_MESSAGES, "messages", "copy: writing messages",
	  DB_COPY_MSG_READ, DB_COPY_MSG_WRITE, "ibtiiibii",
	  COPY_KEYED, COPY_PAGE, 0 },
	/* message_id result domain selector detail at */
	{ STORE_COPY_DKIM, "dkim", "copy: writing dkim",
	  DB_COPY_DKIM_READ, DB_COPY_DKIM_WRITE, "iittti",
	  COPY_KEYED, COPY_PAGE, 0 },
	/* id text */
	{ STORE_COPY_TEXTS, "texts", "copy: writing texts",
	  DB_COPY_TEXT_READ, DB_COPY_TEXT_WRITE, "it",
	  COPY_KEYED, COPY_PAGE, 0 },
	/* id message_id part org report_id contact_id start end sha256 notes
	 * successful failed imported counts digest; a page of reports comes
	 * with its counted rows, a few to hundreds each */
	{ STORE_COPY_REPORTS, "reports", "copy: writing reports",
	  DB_COPY_REP_READ, DB_COPY_REP_WRITE, "iiittiiibtiiiib",
	  COPY_KEYED, 500, 0 },
	/* report start org domain types successful failed counts */
	{ STORE_COPY_DOMAIN_COUNTS, "domain_counts",
	  "copy: writing domain_counts",
	  DB_COPY_DOM_READ, DB_COPY_DOM_WRITE, "iitttiii",
	  COPY_BY_PARENT, 0, STORE_COPY_REPORTS },
	/* report start org domain result_type sending_ip receiving_mx
	 * receiving_ip count counts */
	{ STORE_COPY_FAILURE_COUNTS, "failure_counts",
	  "copy: writing failure_counts",
	  DB_COPY_FAIL_READ, DB_COPY_FAIL_WRITE, "iittttttii",
	  COPY_BY_PARENT, 0, STORE_COPY_REPORTS },
	/* id report idx type domain domain_source strings_id mx_id
	 * successful failed */
	{ STORE_COPY_POLICIES, "policies", "copy: writing policies",
	  DB_COPY_POL_READ, DB_COPY_POL_WRITE, "iiittiiiii",
	  COPY_KEYED, COPY_PAGE, 0 },
	/* key policy result_type sending_ip receiving_mx receiving_helo
	 * receiving_ip count additional_info reason_code */
	{ STORE_COPY_DETAILS, "details", "copy: writing details",
	  DB_COPY_DET_READ, DB_COPY_DET_WRITE, "iitttttitt",
	  COPY_KEYED, COPY_PAGE, 0 },
	/* id message_id part name status reason created */
	{ STORE_COPY_QUARANTINE, "quarantine", "copy: writing quarantine",
	  DB_COPY_QUA_READ, DB_COPY_QUA_WRITE, "iiititi",
	  COPY_KEYED, COPY_PAGE, 0 },
	/* account mailbox uidvalidity last_uid uv_changes */
	{ STORE_COPY_IMAP_STATE, "imap_state", "copy: writing imap_state",
	  DB_COPY_SYNC_READ, DB_COPY_SYNC_WRITE, "ttiii",
	  COPY_WHOLE, 0, 0 },
	/* id domain at worst incomplete; findings and data come with them */
	{ STORE_COPY_CHECKS, "checks", "copy: writing checks",
	  DB_COPY_CHECK_READ, DB_COPY_CHECK_WRITE, "itiii",
	  COPY_KEYED, 500, 0 },
	/* check_id idx level code subject text dnssec */
	{ STORE_COPY_CHECK_FINDINGS, "check_findings",
	  "copy: writing check_findings",
	  DB_COPY_FINDING_READ, DB_COPY_FINDING_WRITE, "iiittti",
	  COPY_BY_PARENT, 0, STORE_COPY_CHECKS },
	/* check_id kind name value */
	{ STORE_COPY_CHECK_DATA, "check_data", "copy: writing check_data",
	  DB_COPY_CDATA_READ, DB_COPY_CDATA_WRITE, "ittt",
	  COPY_BY_PARENT, 0, STORE_COPY_CHECKS },
};

#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

struct copy {
	struct store *from, *to;
	store_copy_fn fn;
	void *ctx;
	struct store_copy_stats *st;
	uint64_t tx_rows, tx_bytes;	/* in the target's open transaction */
};

const char *
store_copy_table_name(enum store_copy_table t)
{
	size_t i;

	for (i = 0; i < N_TABLES; i++)
		if (tables[i].id == t)
			return tables[i].name;
	return "?";
}

static int
read_error(struct copy *c, const struct copy_table *t, struct mxd_err *err)
{
	char what[64];

	snprintf(what, sizeof(what), "copy: reading %s", t->name);
	return store_db_error(c->from, err, what);
}

/* Writes the row q is on to the target, each column as it came. */
static int
put_row(struct copy *c, const struct copy_table *t, struct dbq *q,
	struct mxd_err *err)
{
	struct dbq *w = db_get(c->to, t->write, err);
	const void *p;
	size_t n;
	int i;

	if (!w)
		return -1;
	for (i = 0; t->cols[i]; i++) {
		if (db_is_null(q, i)) {
			db_bind_null(w, i + 1);
			continue;
		}
		switch (t->cols[i]) {
		case 'i':
			db_bind_int(w, i + 1, db_col_int(q, i));
			break;
		case 'd':
			db_bind_double(w, i + 1, db_col_double(q, i));
			break;
		case 't':
			db_bind_text(w, i + 1, db_col_text(q, i));
			break;
		case 'b':
			p = db_col_blob(q, i, &n);
			db_bind_blob(w, i + 1, p, n);
			c->st->bytes += n;
			c->tx_bytes += n;
			break;
		}
	}
	/* queued where the backend can (PostgreSQL's pipeline): a failure
	 * is told by a later statement or the commit, naming the table */
	if (db_run(c->to, w, err, t->what) < 0)
		return -1;
	c->st->rows[t->id]++;
	c->st->total++;
	c->tx_rows++;
	return 0;
}

/* Copies the rows read by q, bound and ready; *last gets the key of the
 * last one, *got their number. */
static int
put_rows(struct copy *c, const struct copy_table *t, struct dbq *q,
	 int64_t *last, int *got, struct mxd_err *err)
{
	int rc;

	*got = 0;
	while ((rc = db_step(q)) == 1) {
		if (last)
			*last = db_col_int(q, 0);
		if (put_row(c, t, q, err) < 0) {
			db_reset(q);
			return -1;
		}
		(*got)++;
	}
	db_reset(q);
	return rc < 0 ? read_error(c, t, err) : 0;
}

/* How many of the next `n` messages after `after` make a page: as many
 * as fit in COPY_PAGE_BYTES, one at least. */
static int
message_page(struct copy *c, const struct copy_table *t, int64_t after, int n,
	     int *out, struct mxd_err *err)
{
	struct dbq *q = db_get(c->from, DB_COPY_MSG_SIZES, err);
	uint64_t sum = 0;
	int rc, k = 0;

	if (!q)
		return -1;
	db_bind_int(q, 1, after);
	db_bind_int(q, 2, n);
	while ((rc = db_step(q)) == 1) {
		sum += (uint64_t)db_col_int(q, 0);
		if (k > 0 && sum > COPY_PAGE_BYTES)
			break;
		k++;
	}
	db_reset(q);
	if (rc < 0)
		return read_error(c, t, err);
	*out = k ? k : n;
	return 0;
}

/* The end of a page: the transaction ends when it is big enough, and
 * the caller hears of it. */
static int
page_done(struct copy *c, const struct copy_table *t, struct mxd_err *err)
{
	c->st->table = t->id;
	if (c->tx_rows >= COPY_TX_ROWS || c->tx_bytes >= COPY_TX_BYTES) {
		if (store_commit(c->to, err) < 0)
			return -1;
		c->st->committed = c->st->total;
		c->tx_rows = c->tx_bytes = 0;
		if (store_begin(c->to, err) < 0)
			return -1;
	}
	if (c->fn && c->fn(c->st, c->ctx) != 0)
		return mxd_err_set(err, MXD_E_INTERRUPTED, "\"%s\": copy "
				   "interrupted", store_path(c->to));
	return 0;
}

/* The rows of the tables whose parent is t, for its ids in (lo, hi]. */
static int
copy_children(struct copy *c, const struct copy_table *t, int64_t lo,
	      int64_t hi, struct mxd_err *err)
{
	struct dbq *q;
	size_t i;
	int got;

	for (i = 0; i < N_TABLES; i++) {
		if (tables[i].how != COPY_BY_PARENT || tables[i].parent != t->id)
			continue;
		if (!(q = db_get(c->from, tables[i].read, err)))
			return -1;
		db_bind_int(q, 1, lo);
		db_bind_int(q, 2, hi);
		if (put_rows(c, &tables[i], q, NULL, &got, err) < 0)
			return -1;
	}
	return 0;
}

static int
copy_table(struct copy *c, const struct copy_table *t, struct mxd_err *err)
{
	int64_t after = INT64_MIN, last;
	struct dbq *q;
	int n, got;

	if (t->how == COPY_WHOLE) {
		if (!(q = db_get(c->from, t->read, err)) ||
		    put_rows(c, t, q, NULL, &got, err) < 0)
			return -1;
		return page_done(c, t, err);
	}
	do {
		n = t->page;
		if (t->id == STORE_COPY_MESSAGES &&
		    message_page(c, t, after, n, &n, err) < 0)
			return -1;
		if (!(q = db_get(c->from, t->read, err)))
			return -1;
		db_bind_int(q, 1, after);
		db_bind_int(q, 2, n);
		last = after;
		if (put_rows(c, t, q, &last, &got, err) < 0)
			return -1;
		if (got && copy_children(c, t, after, last, err) < 0)
			return -1;
		after = last;
		if (page_done(c, t, err) < 0)
			return -1;
	} while (got == n);
	return 0;
}

/* 1 when the target holds a row (meta aside), 0 when not. */
static int
has_rows(struct store *s, struct mxd_err *err)
{
	struct dbq *q = db_get(s, DB_COPY_ANY, err);
	int rc, any = 0;

	if (!q)
		return -1;
	rc = db_step(q);
	if (rc == 1)
		any = db_col_int(q, 0) != 0;
	db_reset(q);
	if (rc < 0)
		return store_db_error(s, err, "copy: is the store empty");
	return any;
}

int
store_copy(struct store *from, struct store *to, store_copy_fn fn, void *ctx,
	   struct store_copy_stats *st, struct mxd_err *err)
{
	struct copy c = { from, to, fn, ctx, st, 0, 0 };
	struct dbq *q;
	size_t i;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = has_rows(to, err)) < 0)
		return -1;
	if (rc)
		return mxd_err_set(err, MXD_E_USAGE, "\"%s\": not an empty store: "
				   "store copy writes only into a new one (a new "
				   "SQLite file or an empty PostgreSQL database)",
				   store_path(to));
	/* one snapshot of the source: a report stored meanwhile would name a
	 * message that was read before it came */
	if (from->drv->snapshot(from->db, err) < 0)
		return -1;
	from->in_tx = 1;
	if (store_begin(to, err) < 0)
		goto fail;
	for (i = 0; i < N_TABLES; i++)
		if (tables[i].how != COPY_BY_PARENT &&
		    copy_table(&c, &tables[i], err) < 0)
			goto fail;
	if (!(q = db_get(to, DB_COPY_SEQUENCES, err)))
		goto fail;
	rc = db_step(q);
	db_reset(q);
	if (rc < 0) {
		store_db_error(to, err, "copy: moving the id sequences");
		goto fail;
	}
	if (store_commit(to, err) < 0)
		goto fail;
	st->committed = st->total;
	store_rollback(from);	/* it read only */
	return 0;
fail:
	store_rollback(to);
	store_rollback(from);
	return -1;
}
