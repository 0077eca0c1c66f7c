/*
 * store.c — the rules of the store, on top of a backend (db.h): opening
 * the right one, transactions, messages and their identity, which copy of
 * a report counts, the quarantine and the window scans.  The schema and
 * every SQL text are in the backends (db_sqlite.c, db_pg.c).
 *
 * `database =` (or --db) names the store: a path is an SQLite database, a
 * postgresql:// or postgres:// URI or a libpq keyword string
 * ("host=... dbname=...") a PostgreSQL one.
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim.h"
#include "store/store_p.h"
#include "util/log.h"
#include "util/sha256.h"
#include "util/strutil.h"
#include "util/xalloc.h"

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

int
store_db_error(struct store *s, struct mxd_err *err, const char *what)
{
	return s->drv->error(s->db, err, what);
}

struct dbq *
db_get(struct store *s, enum db_stmt id, struct mxd_err *err)
{
	return s->drv->get(s->db, id, err);
}

int
db_insert(struct store *s, struct dbq *q, int64_t *id, struct mxd_err *err,
	  const char *what)
{
	int rc;

	if (s->drv->run) {
		/* the backend may queue it: see db.h */
		rc = s->drv->run(q, id, what) < 0 ? -1 : 0;
	} else {
		rc = db_step(q);
		if (id)
			*id = rc == 1 ? db_col_int(q, 0) : 0;
	}
	db_reset(q);
	if (rc < 0)
		return store_db_error(s, err, what);
	return 0;
}

int
db_run(struct store *s, struct dbq *q, struct mxd_err *err, const char *what)
{
	return db_insert(s, q, NULL, err, what);
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

int
store_is_remote(const char *where)
{
	size_t n = strspn(where, "abcdefghijklmnopqrstuvwxyz_");

	return strncmp(where, "postgresql://", 13) == 0 ||
	       strncmp(where, "postgres://", 11) == 0 || (n > 0 && where[n] == '=');
}

int
store_open(const char *where, enum store_mode mode, int lock_wait_ms,
	   struct store **out, struct mxd_err *err)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	s->drv = store_is_remote(where) ? &db_pg_driver : &db_sqlite_driver;
	rc = s->drv->open(s, where, mode, lock_wait_ms, err);
	if (rc < 0) {
		store_close(s);
		return -1;
	}
	if (rc == 1) {
		/* a reader of an older database: upgrade it once as a writer
		 * (waiting for one that is busy), then read */
		struct store *w;

		store_close(s);
		if (store_open(where, STORE_WRITE, 5000, &w, err) < 0)
			return -1;
		store_close(w);
		return store_open(where, mode, lock_wait_ms, out, err);
	}
	if (codec_open(s, err) < 0) {
		store_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

static void texts_clear(struct store *s);

void
store_close(struct store *s)
{
	if (!s)
		return;
	if (s->in_tx)
		store_rollback(s);
	texts_clear(s);
	codec_close(s);
	if (s->db)
		s->drv->close(s->db);
	free(s->where);
	free(s);
}

const char *
store_path(const struct store *s)
{
	return s->where;
}

const char *
store_backend(const struct store *s)
{
	return s->drv->name;
}

/* ---- what a writer remembers (store_p.h) ---------------------------- */

#define TEXTS_MOST 8192		/* texts remembered, then forgotten at once */

struct textcache {
	struct text_ent {
		char *t;
		uint64_t h;
		int64_t id;
	} *v;
	size_t cap, n;		/* cap: a power of two */
};

static uint64_t
text_hash(const char *t)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *t; t++)
		h = (h ^ (unsigned char)*t) * UINT64_C(1099511628211);
	return h;
}

static void
texts_clear(struct store *s)
{
	struct textcache *c = s->texts;
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->cap; i++)
		free(c->v[i].t);
	free(c->v);
	free(c);
	s->texts = NULL;
}

/* The slot of t in c: its entry, or the empty one where it goes. */
static struct text_ent *
texts_slot(struct textcache *c, const char *t, uint64_t h)
{
	size_t i = (size_t)h & (c->cap - 1);

	while (c->v[i].t && (c->v[i].h != h || strcmp(c->v[i].t, t) != 0))
		i = (i + 1) & (c->cap - 1);
	return &c->v[i];
}

static int64_t
texts_get(struct store *s, const char *t)
{
	struct text_ent *e;

	if (!s->texts)
		return 0;
	e = texts_slot(s->texts, t, text_hash(t));
	return e->t ? e->id : 0;
}

static void
texts_put(struct store *s, const char *t, int64_t id)
{
	struct textcache *c;
	struct text_ent *e;
	uint64_t h = text_hash(t);

	if (s->texts && s->texts->n >= TEXTS_MOST)
		texts_clear(s);
	if (!(c = s->texts)) {
		c = s->texts = xcalloc(1, sizeof(*c));
		c->cap = 2 * TEXTS_MOST;
		c->v = xcalloc(c->cap, sizeof(*c->v));
	}
	e = texts_slot(c, t, h);
	if (e->t)
		return;
	e->t = xstrdup(t);
	e->h = h;
	e->id = id;
	c->n++;
}

static void
pre_reset(struct dbq **q)
{
	if (*q)
		db_reset(*q);		/* its rows go unread */
	*q = NULL;
}

static void
pre_drop_slot(struct store *s, int k)
{
	struct store_pre *p = &s->pre[k];
	struct mxd_err e = { 0 };

	if (p->pending)		/* the answer must not land in a later claim */
		(void)s->drv->claim_read(s->db, k, &e);
	pre_reset(&p->look);
	free(p->copies);
	memset(p, 0, sizeof(*p));
}

/* The copies a DB_REP_BY_IDENT or DB_LOOKUP row names (its columns from
 * at: digest, successful, failed, counts), appended to *v. */
static void
copy_add(struct dbq *st, int at, struct store_copy **v, size_t *n, size_t *cap)
{
	struct store_copy *c;
	const void *d;
	size_t len;

	*v = xgrow(*v, cap, *n + 1, sizeof(**v));
	c = &(*v)[(*n)++];
	memset(c, 0, sizeof(*c));
	if (!db_is_null(st, at)) {
		d = db_col_blob(st, at, &len);
		c->digest = len == SHA256_LEN ? 1 : 2;
		if (c->digest == 1)
			memcpy(c->sha, d, SHA256_LEN);
	}
	c->successful = (uint64_t)db_col_int(st, at + 1);
	c->failed = (uint64_t)db_col_int(st, at + 2);
	c->counts = db_col_int(st, at + 3);
}

/* Reads the answer of p's DB_LOOKUP (sent with its claim): 0, or -1. */
static int
pre_read(struct store *s, struct store_pre *p, struct mxd_err *err)
{
	int rc;

	if (!p->look)
		return 0;
	p->msg_id = 0;
	p->rep_sha = 0;
	p->n_copies = 0;
	while ((rc = db_step(p->look)) == 1) {
		switch (db_col_int(p->look, 0)) {
		case 0:
			p->msg_id = db_col_int(p->look, 1);
			break;
		case 1:
			copy_add(p->look, 2, &p->copies, &p->n_copies,
				 &p->cap_copies);
			break;
		default:
			p->rep_sha = 1;
			break;
		}
	}
	pre_reset(&p->look);
	if (rc < 0)
		return store_db_error(s, err, "find message");
	p->have_msg = 1;
	p->have_rep = p->r != NULL;
	return 0;
}

static void
pre_drop(struct store *s)
{
	int k;

	for (k = 0; k < DB_SLOTS; k++)
		if (s->pre[k].used)
			pre_drop_slot(s, k);
}

/* Same identity. */
static int
same_ident(const struct tlsrpt *a, const char *org, const char *report_id,
	   int64_t start)
{
	return a->start == start && strcmp(a->org, org) == 0 &&
	       strcmp(a->report_id, report_id) == 0;
}

/* A write that may change the answer of lookups in flight: they are
 * asked again when wanted.  sha: a message stored; r: a report stored;
 * org...: an identity settled. */
static void
pre_stale(struct store *s, const unsigned char *sha, const struct tlsrpt *r,
	  const char *org, const char *report_id, int64_t start)
{
	int k;

	for (k = 0; k < DB_SLOTS; k++) {
		struct store_pre *p = &s->pre[k];
		int msg, rep;

		if (!p->used)
			continue;
		msg = sha && memcmp(p->sha, sha, SHA256_LEN) == 0;
		rep = p->r &&
		      ((r && (same_ident(p->r, r->org, r->report_id, r->start) ||
			      memcmp(p->r->hash, r->hash, SHA256_LEN) == 0)) ||
		       (org && same_ident(p->r, org, report_id, start)));
		if (!msg && !rep)
			continue;
		/* an answer not read yet goes whole: both are asked again */
		if (p->look) {
			pre_reset(&p->look);
			p->have_msg = p->have_rep = 0;
			p->r = NULL;
		}
		if (msg)
			p->have_msg = 0;
		if (rep) {
			p->have_rep = 0;
			p->r = NULL;
		}
	}
}

/* s->written: key k of kind (m, i, h) */
static char *
written_key(char kind, const char *k)
{
	return xasprintf("%c%s", kind, k);
}

static void
wrote(struct store *s, char kind, const char *k)
{
	char *key;

	if (!s->drv->flush)
		return;		/* nothing is kept back */
	if (!s->written) {
		s->written = xcalloc(1, sizeof(*s->written));
		hmap_init(s->written);
	}
	key = written_key(kind, k);
	*hmap_slot(s->written, key, NULL) = s->written;	/* any non-NULL */
	free(key);
}

static int
has_written(const struct store *s, char kind, const char *k)
{
	char *key;
	int rc;

	if (!s->written)
		return 0;
	key = written_key(kind, k);
	rc = hmap_get(s->written, key) != NULL;
	free(key);
	return rc;
}

static void
wrote_hash(struct store *s, char kind, const unsigned char h[SHA256_LEN])
{
	char hex[2 * SHA256_LEN + 1];

	if (!s->drv->flush)
		return;
	sha256_hex(h, hex);
	wrote(s, kind, hex);
}

static int
has_written_hash(const struct store *s, char kind,
		 const unsigned char h[SHA256_LEN])
{
	char hex[2 * SHA256_LEN + 1];

	if (!s->written)
		return 0;
	sha256_hex(h, hex);
	return has_written(s, kind, hex);
}

/* Before a lookup of what this transaction wrote: the rows kept back go
 * out.  0, or -1. */
static int
see_written(struct store *s, struct mxd_err *err)
{
	return s->drv->flush(s->db, err);
}

static void
written_forget(struct store *s)
{
	if (s->written) {
		hmap_release(s->written);
		free(s->written);
		s->written = NULL;
	}
}

/* A transaction ends or begins: what it knew may no longer hold. */
static void
tx_forget(struct store *s)
{
	pre_drop(s);
	written_forget(s);
	s->known.r = NULL;
	s->verdict.id = 0;
}

int
store_compact(struct store *s, uint64_t *before, uint64_t *after,
	      struct mxd_err *err)
{
	*before = *after = 0;
	return s->drv->compact ? s->drv->compact(s->db, before, after, err) : 0;
}

int
store_begin(struct store *s, struct mxd_err *err)
{
	tx_forget(s);
	/* what was sent ahead and not asked for goes unread */
	s->n_ahead = 0;
	if (s->drv->begin(s->db, err) < 0)
		return -1;
	s->in_tx = 1;
	return 0;
}

int
store_commit(struct store *s, struct mxd_err *err)
{
	tx_forget(s);
	if (s->drv->commit(s->db, err) < 0)
		return -1;
	s->in_tx = 0;
	return 0;
}

void
store_rollback(struct store *s)
{
	if (!s->in_tx)
		return;
	tx_forget(s);
	texts_clear(s);		/* ids of texts stored in it are gone */
	s->drv->rollback(s->db);
	s->in_tx = 0;
}

int
store_in_transaction(const struct store *s)
{
	return s->in_tx;
}

int
store_lock(struct store *s, enum store_lock kind, const char *key, int wait,
	   struct mxd_err *err)
{
	return s->drv->lock(s->db, (enum db_lock)kind, key, wait, err);
}

void
store_unlock(struct store *s, enum store_lock kind, const char *key)
{
	s->drv->unlock(s->db, (enum db_lock)kind, key);
}

int
store_message_find(struct store *s, const unsigned char sha[SHA256_LEN],
		   int64_t *id, struct mxd_err *err)
{
	struct dbq *st;
	int rc;

	s->known.r = NULL;		/* a new message: an older answer is stale */
	if (has_written_hash(s, 'm', sha)) {
		/* an answer sent ahead did not see it */
		pre_stale(s, sha, NULL, NULL, NULL, 0);
		if (see_written(s, err) < 0)
			return -1;
	}
	for (rc = 0; rc < DB_SLOTS; rc++) {
		struct store_pre *p = &s->pre[rc];

		if (!p->used || p->pending || (!p->look && !p->have_msg) ||
		    memcmp(p->sha, sha, SHA256_LEN) != 0)
			continue;
		/* sent by store_claim() */
		if (pre_read(s, p, err) < 0)
			return -1;
		p->have_msg = 0;
		*id = p->msg_id;
		return p->msg_id != 0;
	}
	if (!(st = db_get(s, DB_MSG_FIND, err)))
		return -1;
	db_bind_blob(st, 1, sha, SHA256_LEN);
	rc = db_step(st);
	if (rc == 1) {
		*id = db_col_int(st, 0);
		db_reset(st);
		return 1;
	}
	db_reset(st);
	if (rc != 0)
		return store_db_error(s, err, "find message");
	return 0;
}

static void
bind_auth(struct dbq *st, int at, const struct store_auth *a)
{
	db_bind_int(st, at, a->result);
	db_bind_text(st, at + 1, a->domain && *a->domain ? a->domain : NULL);
	db_bind_text(st, at + 2, a->selector && *a->selector ? a->selector : NULL);
	db_bind_text(st, at + 3, a->detail && *a->detail ? a->detail : NULL);
	db_bind_int(st, at + 4, a->at);
}

static int
put_auth(struct store *s, int64_t id, const struct store_auth *a,
	 struct mxd_err *err)
{
	struct dbq *st = db_get(s, DB_AUTH_SET, err);

	if (!st)
		return -1;
	db_bind_int(st, 1, id);
	bind_auth(st, 2, a);
	return db_run(s, st, err, "store the DKIM verdict");
}

int
store_message_put(struct store *s, const unsigned char sha[SHA256_LEN],
		  const char *source, size_t size, size_t truncated,
		  const struct store_blob *blob, const struct store_auth *auth,
		  int64_t now, int64_t *id, struct mxd_err *err)
{
	struct dbq *st = db_get(s, DB_MSG_PUT, err);

	if (!st)
		return -1;
	db_bind_blob(st, 1, sha, SHA256_LEN);
	db_bind_text(st, 2, source);
	db_bind_int(st, 3, (int64_t)size);
	db_bind_int(st, 4, now);
	db_bind_int(st, 5, blob->codec);
	db_bind_blob(st, 6, blob->data.data, blob->data.len);
	db_bind_int(st, 7, (int64_t)truncated);
	db_bind_id(st, 8, blob->dict);
	if (db_insert(s, st, id, err, "store message") < 0)
		return -1;
	if (!*id) {
		/* a writer on another host stored it since our look (it
		 * committed: the insert waited for it) */
		int found = store_message_find(s, sha, id, err);

		if (found == 0)
			mxd_err_set(err, MXD_E_STORE, "\"%s\": a message vanished "
				    "while it was stored", s->where);
		return found == 1 ? 1 : -1;
	}
	codec_stored(s);
	pre_stale(s, sha, NULL, NULL, NULL, 0);
	wrote_hash(s, 'm', sha);
	if (auth && auth->result >= 0 && put_auth(s, *id, auth, err) < 0)
		return -1;
	s->verdict.id = *id;
	s->verdict.pass = auth && auth->result == DKIMV_PASS;
	return 0;
}

int
store_message_get(struct store *s, int64_t id, struct buf *out, char **source,
		  size_t *truncated, struct mxd_err *err)
{
	struct dbq *st = db_get(s, DB_MSG_GET, err);
	int rc, codec;
	const void *blob;
	size_t n;
	int64_t size;

	if (!st)
		return -1;
	db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc != 1) {
		db_reset(st);
		if (rc == 0)
			return mxd_err_set(err, MXD_E_STORE, "message %lld not found",
					   (long long)id);
		return store_db_error(s, err, "read message");
	}
	codec = db_col_int(st, 0);
	blob = db_col_blob(st, 1, &n);
	size = db_col_int(st, 3);
	if (truncated)
		*truncated = (size_t)db_col_int(st, 4);
	if (codec_decode(s, codec, db_col_int(st, 5), blob, n,
			 (size_t)size, out, err) < 0) {
		db_reset(st);
		mxd_err_prefix(err, "stored message %lld", (long long)id);
		return -1;
	}
	if (source)
		*source = xstrdup(db_col_text(st, 2) ? db_col_text(st, 2) : "");
	db_reset(st);
	return 0;
}

int
store_messages_each(struct store *s, const int64_t *ids, const int64_t *sizes,
		    size_t n, int skip_bad, store_raw_fn fn, void *ctx,
		    struct mxd_err *err)
{
	struct buf list, raw;
	struct dbq *st;
	size_t i = 0, j, k;
	int64_t bytes;
	int rc = 0, failed = 0;

	buf_init(&list, BUF_NOCAP);
	buf_init(&raw, BUF_NOCAP);
	while (i < n && !failed) {
		buf_reset(&list);
		for (j = i, bytes = 0; j < n && j - i < MSG_SOME_MAX &&
		     (j == i || bytes + sizes[j] <= MSG_SOME_BYTES); j++) {
			bytes += sizes[j];
			buf_printf(&list, "%s%lld", j > i ? "," : "",
				   (long long)ids[j]);
		}
		if (!(st = db_get(s, DB_MSG_SOME, err))) {
			failed = 1;
			break;
		}
		db_bind_text(st, 1, buf_cstr(&list));
		while (!failed && (rc = db_step(st)) == 1) {
			int64_t id = db_col_int(st, 0);
			const void *blob;
			size_t len;

			for (k = i; k < j && ids[k] != id; k++)
				;
			if (k == j)
				continue;	/* not asked for: cannot be */
			blob = db_col_blob(st, 2, &len);
			if (codec_decode(s, (int)db_col_int(st, 1),
					 db_col_int(st, 4), blob, len,
					 (size_t)db_col_int(st, 3), &raw, err) < 0) {
				if (skip_bad)
					continue;
				mxd_err_prefix(err, "stored message %lld",
					       (long long)id);
				failed = 1;
			} else if (fn(k, &raw, ctx, err) < 0) {
				failed = 1;
			}
		}
		db_reset(st);
		if (!failed && rc < 0)
			failed = store_db_error(s, err, "read messages") < 0;
		i = j;
	}
	buf_release(&list);
	buf_release(&raw);
	return failed ? -1 : 0;
}

static int
count_query(struct store *s, enum db_stmt id, int64_t arg, int64_t *out,
	    struct mxd_err *err)
{
	struct dbq *st = db_get(s, id, err);

	if (!st)
		return -1;
	if (id != DB_QUA_COUNT)
		db_bind_int(st, 1, arg);
	if (db_step(st) != 1) {
		db_reset(st);
		return store_db_error(s, err, "count");
	}
	*out = db_col_int(st, 0);
	db_reset(st);
	return 0;
}

int
store_message_auth(struct store *s, int64_t id, struct store_auth *a,
		   struct mxd_err *err)
{
	struct dbq *st = db_get(s, DB_AUTH_GET, err);
	int rc;

	if (!st)
		return -1;
	memset(a, 0, sizeof(*a));
	a->result = -1;
	db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == 1) {
		if (!db_is_null(st, 0))
			a->result = db_col_int(st, 0);
		snprintf(a->domain_buf, sizeof(a->domain_buf), "%s",
			 db_col_text(st, 1) ? db_col_text(st, 1) : "");
		snprintf(a->selector_buf, sizeof(a->selector_buf), "%s",
			 db_col_text(st, 2) ? db_col_text(st, 2) : "");
		snprintf(a->detail_buf, sizeof(a->detail_buf), "%s",
			 db_col_text(st, 3) ? db_col_text(st, 3) : "");
		a->domain = a->domain_buf;
		a->selector = a->selector_buf;
		a->detail = a->detail_buf;
		a->at = db_col_int(st, 4);
	}
	db_reset(st);
	if (rc != 1 && rc != 0)
		return store_db_error(s, err, "read the DKIM verdict");
	return 0;	/* no row: no verdict taken */
}

int
store_message_set_auth(struct store *s, int64_t id, const struct store_auth *a,
		       struct mxd_err *err)
{
	if (s->verdict.id == id)
		s->verdict.id = 0;
	if (put_auth(s, id, a, err) < 0)
		return -1;
	return store_message_settle(s, id, err);
}

int
store_message_outcome(struct store *s, int64_t id, unsigned *reports,
		      unsigned *quarantined, struct mxd_err *err)
{
	int64_t r = 0, q = 0;

	if (count_query(s, DB_MSG_REPORTS, id, &r, err) < 0 ||
	    count_query(s, DB_MSG_QUARANTINED, id, &q, err) < 0)
		return -1;
	*reports = (unsigned)r;
	*quarantined = (unsigned)q;
	return 0;
}

static int lookup_known(struct store *s, const struct tlsrpt *r, int verified,
			struct mxd_err *err);
static char *ident_key(const struct tlsrpt *r);

int
store_report_known(struct store *s, const struct tlsrpt *r, int verified,
		   struct mxd_err *err)
{
	int rc = lookup_known(s, r, verified, err);

	if (rc >= 0) {
		s->known.r = r;
		s->known.verified = verified;
		s->known.result = rc;
	}
	return rc;
}

/* What the stored copies of r's identity say of r (lookup_known()): a
 * STORE_REPORT_* other than NEW, or 0 when there is none. */
static int
judge_copies(const struct tlsrpt *r, int verified, const struct store_copy *c,
	     size_t n)
{
	int same = 0, any_verified = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (c[i].counts == STORE_COUNTS_VERIFIED)
			any_verified = 1;
		if (c[i].digest == 0) {
			/* stored before digests: the same totals */
			if (c[i].successful == r->successful &&
			    c[i].failed == r->failed)
				same = 1;
		} else if (c[i].digest == 1 &&
			   memcmp(c[i].sha, r->digest, SHA256_LEN) == 0) {
			same = 1;
		}
	}
	if (same)
		return verified && !any_verified ? STORE_REPORT_VERIFIED_COPY
						 : STORE_REPORT_DUPLICATE;
	return n ? STORE_REPORT_CONFLICT : 0;
}

static int
lookup_known(struct store *s, const struct tlsrpt *r, int verified,
	     struct mxd_err *err)
{
	struct store_copy *v = NULL;
	size_t n = 0, cap = 0;
	struct dbq *st;
	int rc, k;
	char *key;

	if (s->written) {
		key = ident_key(r);
		rc = has_written(s, 'i', key) || has_written_hash(s, 'h', r->hash);
		free(key);
		if (rc) {
			/* an answer sent ahead did not see it */
			pre_stale(s, NULL, r, NULL, NULL, 0);
			if (see_written(s, err) < 0)
				return -1;
		}
	}
	for (k = 0; k < DB_SLOTS; k++) {
		struct store_pre *p = &s->pre[k];

		if (!p->used || p->pending || p->r != r ||
		    (!p->look && !p->have_rep))
			continue;
		/* sent by store_claim() */
		if (pre_read(s, p, err) < 0)
			return -1;
		p->have_rep = 0;
		p->r = NULL;
		rc = judge_copies(r, verified, p->copies, p->n_copies);
		return rc ? rc : p->rep_sha ? STORE_REPORT_DUPLICATE
					    : STORE_REPORT_NEW;
	}
	if (!(st = db_get(s, DB_REP_BY_IDENT, err)))
		return -1;
	db_bind_text(st, 1, r->org);
	db_bind_text(st, 2, r->report_id);
	db_bind_int(st, 3, r->start);
	while ((rc = db_step(st)) == 1)
		copy_add(st, 0, &v, &n, &cap);
	db_reset(st);
	if (rc != 0) {
		free(v);
		return store_db_error(s, err, "find report");
	}
	rc = judge_copies(r, verified, v, n);
	free(v);
	if (rc)
		return rc;
	/* the same bytes under another identity (one taken from a header or
	 * a file name) are the same report */
	if (!(st = db_get(s, DB_REP_BY_SHA, err)))
		return -1;
	db_bind_blob(st, 1, r->hash, SHA256_LEN);
	rc = db_step(st);
	db_reset(st);
	if (rc == 1)
		return STORE_REPORT_DUPLICATE;
	if (rc != 0)
		return store_db_error(s, err, "find report");
	return STORE_REPORT_NEW;
}

static void
bind_ident(struct dbq *st, const char *org, const char *report_id,
	   int64_t start)
{
	db_bind_text(st, 1, org);
	db_bind_text(st, 2, report_id);
	db_bind_int(st, 3, start);
}

/* Decides which copy of an identity counts (DB_REP_WINNER) and marks it,
 * in reports and in the counted tables. */
static int
settle(struct store *s, const char *org, const char *report_id, int64_t start,
       struct mxd_err *err)
{
	static const enum db_stmt upd[] = {DB_REP_SETTLE, DB_DOM_SETTLE,
					   DB_FAIL_SETTLE};
	struct dbq *st = db_get(s, DB_REP_WINNER, err);
	int64_t winner;
	int verified, rc;
	size_t i;

	s->known.r = NULL;
	pre_stale(s, NULL, NULL, org, report_id, start);
	if (!st)
		return -1;
	bind_ident(st, org, report_id, start);
	db_bind_int(st, 4, DKIMV_PASS);
	rc = db_step(st);
	if (rc != 1) {
		db_reset(st);
		return rc == 0 ? 0 : store_db_error(s, err, "settle");
	}
	winner = db_col_int(st, 0);
	verified = db_col_int(st, 1);
	db_reset(st);
	for (i = 0; i < sizeof(upd) / sizeof(upd[0]); i++) {
		if (!(st = db_get(s, upd[i], err)))
			return -1;
		bind_ident(st, org, report_id, start);
		db_bind_int(st, 4, winner);
		db_bind_int(st, 5, verified ? STORE_COUNTS_VERIFIED
						 : STORE_COUNTS_COUNTED);
		if (db_run(s, st, err, "settle") < 0)
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
	struct dbq *st = db_get(s, DB_REP_OF_MSG, err);
	struct ident { char *org, *id; int64_t start; } *v = NULL;
	size_t n = 0, cap = 0, i;
	int rc;

	if (!st)
		return -1;
	/* collected first: settling updates the rows being read */
	db_bind_int(st, 1, message_id);
	while ((rc = db_step(st)) == 1) {
		v = xgrow(v, &cap, n + 1, sizeof(*v));
		v[n].org = xstrdup(db_col_text(st, 0));
		v[n].id = xstrdup(db_col_text(st, 1));
		v[n].start = db_col_int(st, 2);
		n++;
	}
	db_reset(st);
	if (rc != 0)
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
	struct dbq *st;
	int rc, pass = 0;

	if (s->verdict.id == id)
		return s->verdict.pass;
	if (!(st = db_get(s, DB_AUTH_GET, err)))
		return -1;
	db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == 1)
		pass = db_col_int(st, 0) == DKIMV_PASS;
	db_reset(st);
	if (rc != 1 && rc != 0)
		return store_db_error(s, err, "read the DKIM verdict");
	return pass;
}

/* After a conflict: whether report rid counts now, and where the other
 * copy (the counted one, if this one is not) came from. */
static int
conflict_outcome(struct store *s, int64_t rid, const struct tlsrpt *r,
		 struct store_put_info *info, struct mxd_err *err)
{
	struct dbq *st = db_get(s, DB_REP_OTHER, err);
	int rc;

	if (!st)
		return -1;
	bind_ident(st, r->org, r->report_id, r->start);
	db_bind_int(st, 4, rid);
	rc = db_step(st);
	if (rc == 1) {
		snprintf(info->other, sizeof(info->other), "%s", db_col_text(st, 0));
		info->counted = db_col_int(st, 1) == STORE_COUNTS_NOT;
		info->other_verified = db_col_int(st, 1) ==
			STORE_COUNTS_VERIFIED;
	}
	db_reset(st);
	if (rc != 1 && rc != 0)
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

/* The name of a report identity's lock. */
static char *
ident_key(const struct tlsrpt *r)
{
	return xasprintf("%s\x1f%s\x1f%lld", r->org, r->report_id,
			 (long long)r->start);
}

/* The locks of one message (store_claim()). */
struct claimset {
	struct db_key *k;
	char **own;
	size_t nk, no;
	char hex[2 * SHA256_LEN + 1];
};

static void
claimset_make(struct store *s, struct claimset *c,
	      const unsigned char sha[SHA256_LEN], const struct tlsrpt *const *r,
	      size_t n)
{
	static const char hexdig[] = "0123456789abcdef";
	size_t cap = 1, i, j;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < n; i++)
		cap += 2 + 2 * r[i]->n_policies;
	c->k = xcalloc(cap, sizeof(*c->k));
	c->own = xcalloc(cap, sizeof(*c->own));
	for (i = 0; i < SHA256_LEN; i++) {
		c->hex[2 * i] = hexdig[sha[i] >> 4];
		c->hex[2 * i + 1] = hexdig[sha[i] & 15];
	}
	c->k[c->nk].kind = DB_LOCK_MESSAGE;
	c->k[c->nk++].key = c->hex;
	for (i = 0; i < n; i++) {
		c->k[c->nk].kind = DB_LOCK_IDENT;
		c->k[c->nk++].key = c->own[c->no++] = ident_key(r[i]);
		/* the texts it may store: its contact-info, its policies' */
		if (r[i]->contact && !texts_get(s, r[i]->contact)) {
			c->k[c->nk].kind = DB_LOCK_TEXT;
			c->k[c->nk++].key = c->own[c->no++] = xstrdup(r[i]->contact);
		}
		for (j = 0; j < r[i]->n_policies; j++) {
			const struct tlsrpt_policy *p = &r[i]->policies[j];
			char *t[2];
			size_t m;

			t[0] = join_lines(p->strings, p->n_strings);
			t[1] = join_lines(p->mx_hosts, p->n_mx_hosts);
			for (m = 0; m < 2; m++) {
				if (!t[m])
					continue;
				c->own[c->no++] = t[m];
				if (texts_get(s, t[m]))
					continue;	/* stored: nothing to race for */
				c->k[c->nk].kind = DB_LOCK_TEXT;
				c->k[c->nk++].key = t[m];
			}
		}
	}
}

static void
claimset_free(struct claimset *c)
{
	size_t i;

	for (i = 0; i < c->no; i++)
		free(c->own[i]);
	free(c->own);
	free(c->k);
}

/* Binds the lookups of a message (DB_LOOKUP) in slot k, into then[0]: 1,
 * or -1. */
static int
pre_fill(struct store *s, int k, const unsigned char sha[SHA256_LEN],
	 const struct tlsrpt *const *r, size_t n, struct dbq **then,
	 struct mxd_err *err)
{
	struct store_pre *p = &s->pre[k];

	p->used = 1;
	if (!(p->look = s->drv->get_slot(s->db, DB_LOOKUP, k, err)))
		return -1;
	memcpy(p->sha, sha, SHA256_LEN);
	db_bind_blob(p->look, 1, p->sha, SHA256_LEN);
	if (n) {
		db_bind_text(p->look, 2, r[0]->org);
		db_bind_text(p->look, 3, r[0]->report_id);
		db_bind_int(p->look, 4, r[0]->start);
		db_bind_blob(p->look, 5, r[0]->hash, SHA256_LEN);
		p->r = r[0];
	} else {
		db_bind_null(p->look, 2);
		db_bind_null(p->look, 3);
		db_bind_null(p->look, 4);
		db_bind_null(p->look, 5);
	}
	then[0] = p->look;
	return 1;
}

int
store_claim(struct store *s, const unsigned char sha[SHA256_LEN],
	    const struct tlsrpt *const *r, size_t n, int wait,
	    struct mxd_err *err)
{
	struct claimset c;
	struct dbq *then[1];
	int k, nthen = 0, rc = -1;

	s->known.r = NULL;
	if (!s->drv->claim)
		return 1;	/* one writer at a time: nothing to take */
	for (k = 0; k < DB_SLOTS && !wait; k++) {
		struct store_pre *p = &s->pre[k];
		int o;

		if (!p->used || !p->pending || memcmp(p->sha, sha, SHA256_LEN))
			continue;
		/* claimed ahead (store_claim_ahead()): its answer; the slots
		 * of the messages before go, those claimed for the next stay */
		for (o = 0; o < DB_SLOTS; o++)
			if (o != k && s->pre[o].used && !s->pre[o].pending)
				pre_drop_slot(s, o);
		p->pending = 0;
		rc = s->drv->claim_read(s->db, k, err);
		if (rc != 1)
			pre_drop_slot(s, k);
		return rc;
	}
	pre_drop(s);
	claimset_make(s, &c, sha, r, n);
	/* the lookups the message needs first go in the same round trip,
	 * after the locks */
	if (s->drv->send && s->drv->get_slot &&
	    (nthen = pre_fill(s, 0, sha, r, n, then, err)) < 0)
		goto out;
	rc = s->drv->claim(s->db, c.k, c.nk, wait, then, (size_t)nthen, err);
out:
	if (rc != 1)
		pre_drop(s);
	claimset_free(&c);
	return rc;
}

int
store_claim_ahead(struct store *s, const unsigned char sha[SHA256_LEN],
		  const struct tlsrpt *const *r, size_t n, struct mxd_err *err)
{
	struct claimset c;
	struct dbq *then[1];
	int k, nthen, rc;

	if (!s->drv->claim_send || !s->drv->get_slot || !s->drv->send)
		return 0;
	for (k = 0; k < DB_SLOTS; k++) {
		if (s->pre[k].used && memcmp(s->pre[k].sha, sha, SHA256_LEN) == 0)
			return 0;	/* the same message: already asked */
	}
	for (k = 0; k < DB_SLOTS && s->pre[k].used; k++)
		;
	if (k == DB_SLOTS)
		return 0;
	claimset_make(s, &c, sha, r, n);
	rc = nthen = pre_fill(s, k, sha, r, n, then, err);
	if (rc >= 0)
		rc = s->drv->claim_send(s->db, c.k, c.nk, then, (size_t)nthen, k,
					err);
	if (rc < 0)
		pre_drop_slot(s, k);
	else
		s->pre[k].pending = 1;
	claimset_free(&c);
	return rc < 0 ? -1 : 0;
}

/* The id of text t in `texts`, stored now if new; 0 for NULL. */
static int
text_id(struct store *s, const char *t, int64_t *id, struct mxd_err *err)
{
	struct dbq *st;
	int rc;

	*id = 0;
	if (!t)
		return 0;
	if ((*id = texts_get(s, t)))
		return 0;
	if (!(st = db_get(s, DB_TEXT_FIND, err)))
		return -1;
	db_bind_text(st, 1, t);
	rc = db_step(st);
	if (rc == 1)
		*id = db_col_int(st, 0);
	db_reset(st);
	if (rc == 1) {
		texts_put(s, t, *id);
		return 0;
	}
	if (rc != 0)
		return store_db_error(s, err, "find a text");
	if (!(st = db_get(s, DB_TEXT_PUT, err)))
		return -1;
	db_bind_text(st, 1, t);
	if (db_insert(s, st, id, err, "store a text") < 0)
		return -1;
	if (*id) {
		texts_put(s, t, *id);
		return 0;
	}
	/* stored meanwhile by another writer (PostgreSQL) */
	if (!(st = db_get(s, DB_TEXT_FIND, err)))
		return -1;
	db_bind_text(st, 1, t);
	rc = db_step(st);
	*id = rc == 1 ? db_col_int(st, 0) : 0;
	db_reset(st);
	if (rc != 1)
		return rc < 0 ? store_db_error(s, err, "find a text")
			      : mxd_err_set(err, MXD_E_STORE, "\"%s\": a policy "
					    "text vanished", s->where);
	return 0;
}

static int
put_policy(struct store *s, int64_t rid, size_t idx, const struct tlsrpt_policy *p,
	   struct mxd_err *err)
{
	struct dbq *st;
	char *strings, *mx;
	int64_t pid, sid, mid;
	size_t i;
	int rc;

	strings = join_lines(p->strings, p->n_strings);
	mx = join_lines(p->mx_hosts, p->n_mx_hosts);
	rc = text_id(s, strings, &sid, err) < 0 || text_id(s, mx, &mid, err) < 0;
	free(strings);
	free(mx);
	if (rc || !(st = db_get(s, DB_POL_PUT, err)))
		return -1;
	db_bind_int(st, 1, rid);
	db_bind_int(st, 2, (int64_t)idx);
	db_bind_text(st, 3, p->type);
	db_bind_text(st, 4, p->domain);
	db_bind_int(st, 5, (int)p->domain_source);
	db_bind_id(st, 6, sid);
	db_bind_id(st, 7, mid);
	db_bind_int(st, 8, (int64_t)p->successful);
	db_bind_int(st, 9, (int64_t)p->failed);
	if (db_insert(s, st, &pid, err, "store policy") < 0)
		return -1;
	for (i = 0; i < p->n_details; i++) {
		const struct tlsrpt_detail *d = &p->details[i];

		if (!(st = db_get(s, DB_DET_PUT, err)))
			return -1;
		db_bind_int(st, 1, pid);
		db_bind_text(st, 2, d->result_type);
		db_bind_text(st, 3, d->sending_ip);
		db_bind_text(st, 4, d->receiving_mx);
		db_bind_text(st, 5, d->receiving_helo);
		db_bind_text(st, 6, d->receiving_ip);
		db_bind_int(st, 7, (int64_t)d->count);
		db_bind_text(st, 8, d->additional_info);
		db_bind_text(st, 9, d->reason_code);
		if (db_run(s, st, err, "store failure detail") < 0)
			return -1;
	}
	return 0;
}

int
store_report_put(struct store *s, int64_t message_id, unsigned part,
		 const struct tlsrpt *r, int64_t now, struct store_put_info *info,
		 struct mxd_err *err)
{
	struct dbq *st;
	struct buf notes;
	int64_t rid, cid;
	int known, counts, verified, rc;
	char *key;
	size_t i;

	memset(info, 0, sizeof(*info));
	/* writers on other hosts decide about one identity one at a time,
	 * until the commit (PostgreSQL; SQLite has one writer); a writer
	 * that claimed it (store_claim()) holds it already */
	key = ident_key(r);
	rc = s->drv->lock(s->db, DB_LOCK_IDENT, key, 1, err);
	free(key);
	if (rc < 0)
		return -1;
	if ((verified = message_verified(s, message_id, err)) < 0)
		return -1;
	if (s->known.r == r && s->known.verified == verified)
		known = s->known.result;	/* asked just before */
	else
		known = store_report_known(s, r, verified, err);
	s->known.r = NULL;
	if (known < 0 || known == STORE_REPORT_DUPLICATE)
		return known;
	if (known == STORE_REPORT_NEW)
		counts = verified ? STORE_COUNTS_VERIFIED : STORE_COUNTS_COUNTED;
	else
		counts = STORE_COUNTS_NOT;	/* settle() decides */
	if (text_id(s, r->contact, &cid, err) < 0 ||
	    !(st = db_get(s, DB_REP_PUT, err)))
		return -1;
	buf_init(&notes, BUF_NOCAP);
	tlsrpt_notes_format(r->notes, &notes);
	db_bind_int(st, 1, message_id);
	db_bind_int(st, 2, (int)part);
	db_bind_text(st, 3, r->org);
	db_bind_text(st, 4, r->report_id);
	db_bind_id(st, 5, cid);
	db_bind_int(st, 6, r->start);
	db_bind_int(st, 7, r->end);
	db_bind_blob(st, 8, r->hash, SHA256_LEN);
	db_bind_text(st, 9, buf_cstr(&notes));
	db_bind_int(st, 10, (int64_t)r->successful);
	db_bind_int(st, 11, (int64_t)r->failed);
	db_bind_int(st, 12, now);
	db_bind_int(st, 13, counts);
	db_bind_blob(st, 14, r->digest, SHA256_LEN);
	rc = db_insert(s, st, &rid, err, "store report");
	buf_release(&notes);
	if (rc < 0)
		return -1;
	pre_stale(s, NULL, r, NULL, NULL, 0);
	if (s->drv->flush) {
		key = ident_key(r);
		wrote(s, 'i', key);
		free(key);
		wrote_hash(s, 'h', r->hash);
	}
	for (i = 0; i < r->n_policies; i++)
		if (put_policy(s, rid, i, &r->policies[i], err) < 0)
			return -1;
	for (i = 0; i < r->n_domains; i++) {
		const struct tlsrpt_domain *d = &r->domains[i];

		if (!(st = db_get(s, DB_DOM_PUT, err)))
			return -1;
		db_bind_int(st, 1, rid);
		db_bind_int(st, 2, r->start);
		db_bind_text(st, 3, r->org);
		db_bind_text(st, 4, d->domain);
		db_bind_text(st, 5, d->types);
		db_bind_int(st, 6, (int64_t)d->successful);
		db_bind_int(st, 7, (int64_t)d->failed);
		db_bind_int(st, 8, counts);
		if (db_run(s, st, err, "store counts") < 0)
			return -1;
	}
	for (i = 0; i < r->n_fails; i++) {
		const struct tlsrpt_fail *f = &r->fails[i];

		if (!(st = db_get(s, DB_FAIL_PUT, err)))
			return -1;
		db_bind_int(st, 1, rid);
		db_bind_int(st, 2, r->start);
		db_bind_text(st, 3, r->org);
		db_bind_text(st, 4, f->domain);
		db_bind_text(st, 5, f->result_type);
		db_bind_text(st, 6, f->sending_ip);
		db_bind_text(st, 7, f->receiving_mx);
		db_bind_text(st, 8, f->receiving_ip);
		db_bind_int(st, 9, (int64_t)f->count);
		db_bind_int(st, 10, counts);
		if (db_run(s, st, err, "store counts") < 0)
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
	struct dbq *st = db_get(s, DB_QUA_PUT, err);
	int64_t id;

	if (!st)
		return -1;
	db_bind_int(st, 1, message_id);
	db_bind_int(st, 2, (int)part);
	db_bind_text(st, 3, name);
	db_bind_int(st, 4, (int)status);
	db_bind_text(st, 5, reason);
	db_bind_int(st, 6, now);
	if (db_insert(s, st, &id, err, "quarantine") < 0)
		return -1;
	return id == 0;	/* nothing inserted: it was there */
}

static void
read_qitem(struct dbq *st, struct store_qitem *q)
{
	q->id = db_col_int(st, 0);
	q->message_id = db_col_int(st, 1);
	q->part = (unsigned)db_col_int(st, 2);
	q->name = db_col_text(st, 3);
	q->source = db_col_text(st, 4);
	q->status = db_col_int(st, 5);
	q->reason = db_col_text(st, 6);
	q->created = db_col_int(st, 7);
	q->size = db_col_int(st, 8);
}

static int
qlist(struct store *s, enum db_stmt id, int64_t arg, store_qitem_fn fn,
      void *ctx, struct mxd_err *err)
{
	struct dbq *st = db_get(s, id, err);
	struct store_qitem q;
	int rc;

	if (!st)
		return -1;
	if (id == DB_QUA_LIST_MSG)
		db_bind_int(st, 1, arg);
	while ((rc = db_step(st)) == 1) {
		read_qitem(st, &q);
		if (fn(&q, ctx)) {
			db_reset(st);
			return 0;
		}
	}
	db_reset(st);
	if (rc != 0)
		return store_db_error(s, err, "quarantine");
	return 0;
}

int
store_quarantine_list(struct store *s, store_qitem_fn fn, void *ctx,
		      struct mxd_err *err)
{
	return qlist(s, DB_QUA_LIST, 0, fn, ctx, err);
}

int
store_quarantine_list_message(struct store *s, int64_t message_id,
			      store_qitem_fn fn, void *ctx, struct mxd_err *err)
{
	return qlist(s, DB_QUA_LIST_MSG, message_id, fn, ctx, err);
}

int
store_quarantine_get(struct store *s, int64_t id, struct store_qitem *q,
		     struct mxd_err *err)
{
	struct dbq *st = db_get(s, DB_QUA_GET, err);
	int rc;

	if (!st)
		return -1;
	db_bind_int(st, 1, id);
	rc = db_step(st);
	if (rc == 1) {
		read_qitem(st, q);	/* valid until the next reset */
		return 0;
	}
	db_reset(st);
	if (rc == 0)
		return 1;
	return store_db_error(s, err, "quarantine");
}

int64_t
store_quarantine_count(struct store *s, struct mxd_err *err)
{
	int64_t n = 0;

	if (count_query(s, DB_QUA_COUNT, 0, &n, err) < 0)
		return -1;
	return n;
}

/*
 * Window scans: the filters are the parameters of each scan statement
 * (db.h); a NULL filter matches everything.
 */
static void
scan_bind(struct dbq *st, const struct store_filter *f)
{
	db_bind_int(st, 1, f->from);
	db_bind_int(st, 2, f->to);
	db_bind_text(st, 3, f->domain);
	db_bind_text(st, 4, f->org);
	db_bind_text(st, 5, f->mx);
	/* the least `counts` that counts */
	db_bind_int(st, 6, f->dkim_pass ? STORE_COUNTS_VERIFIED
					: STORE_COUNTS_COUNTED);
}

static int
same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int
same_filter(const struct store_filter *a, const struct store_filter *b)
{
	return a->from == b->from && a->to == b->to &&
	       same_text(a->domain, b->domain) && same_text(a->org, b->org) &&
	       same_text(a->mx, b->mx) && !a->dkim_pass == !b->dkim_pass;
}

struct dbq *
db_scan(struct store *s, enum db_stmt id, const struct store_filter *f,
	     struct mxd_err *err)
{
	struct dbq *st;
	size_t i;

	for (i = 0; i < s->n_ahead; i++) {
		if (s->ahead[i].id != id || !same_filter(&s->ahead[i].f, f))
			continue;
		st = s->ahead[i].q;
		memmove(&s->ahead[i], &s->ahead[i + 1],
			(s->n_ahead - i - 1) * sizeof(s->ahead[0]));
		s->n_ahead--;
		return st;
	}
	if (!(st = db_get(s, id, err)))
		return NULL;
	scan_bind(st, f);
	return st;
}

int
store_scan_ahead(struct store *s, const struct store_filter *f,
		 unsigned scans, struct mxd_err *err)
{
	static const enum db_stmt of[] = {
		DB_SCAN_REPORTS, DB_SCAN_DOMAINS, DB_SCAN_POLICIES,
		DB_SCAN_FAILURES, DB_FAIL_KINDS, DB_FAILING_ORGS,
		DB_SCAN_DETAILS,
	};
	size_t i, k;
	int slot;

	if (!s->drv->send || !s->drv->get_slot || s->in_tx)
		return 0;
	for (slot = 0; slot < DB_SLOTS; slot++)
		if (s->pre[slot].used)
			return 0;	/* a writer's slots are its claims' */
	for (k = 0; k < sizeof(of) / sizeof(of[0]); k++) {
		struct dbq *st;

		if (!(scans & (1u << k)) || s->n_ahead == STORE_AHEAD_MAX)
			continue;
		/* a copy of the statement that no scan sent ahead holds */
		for (slot = 0; slot < DB_SLOTS; slot++) {
			for (i = 0; i < s->n_ahead; i++)
				if (s->ahead[i].id == of[k] &&
				    s->ahead[i].slot == slot)
					break;
			if (i == s->n_ahead)
				break;
		}
		if (slot == DB_SLOTS)
			continue;
		if (!(st = s->drv->get_slot(s->db, of[k], slot, err)))
			return -1;
		scan_bind(st, f);
		s->drv->send(st);
		s->ahead[s->n_ahead].id = of[k];
		s->ahead[s->n_ahead].f = *f;
		s->ahead[s->n_ahead].q = st;
		s->ahead[s->n_ahead].slot = slot;
		s->n_ahead++;
	}
	return 0;
}

int
scan_finish(struct store *s, struct dbq *st, int rc, struct mxd_err *err)
{
	db_reset(st);
	if (rc < 0)
		return store_db_error(s, err, "query");
	return 0;
}

int
store_scan_reports(struct store *s, const struct store_filter *f,
		   store_report_fn fn, void *ctx, struct mxd_err *err)
{
	struct dbq *st;
	struct store_report_row row;
	int rc;

	if (!(st = db_scan(s, DB_SCAN_REPORTS, f, err)))
		return -1;
	while ((rc = db_step(st)) == 1) {
		row.id = db_col_int(st, 0);
		row.org = db_col_text(st, 1);
		row.report_id = db_col_text(st, 2);
		row.start = db_col_int(st, 3);
		row.end = db_col_int(st, 4);
		row.dkim = db_is_null(st, 5) ? -1
			: db_col_int(st, 5);
		row.dkim_domain = db_col_text(st, 6);
		row.dkim_detail = db_col_text(st, 7);
		row.copies = (unsigned)db_col_int(st, 8);
		if (fn(&row, ctx))
			break;
	}
	return scan_finish(s, st, rc, err);
}

int
store_scan_domains(struct store *s, const struct store_filter *f,
		   store_domain_fn fn, void *ctx, struct mxd_err *err)
{
	struct dbq *st;
	struct store_domain_row row;
	int rc;

	if (!(st = db_scan(s, DB_SCAN_DOMAINS, f, err)))
		return -1;
	while ((rc = db_step(st)) == 1) {
		row.report = db_col_int(st, 0);
		row.org = db_col_text(st, 1);
		row.start = db_col_int(st, 2);
		row.domain = db_col_text(st, 3);
		row.types = db_col_text(st, 4);
		row.successful = (uint64_t)db_col_int(st, 5);
		row.failed = (uint64_t)db_col_int(st, 6);
		if (fn(&row, ctx))
			break;
	}
	return scan_finish(s, st, rc, err);
}

int
store_scan_policies(struct store *s, const struct store_filter *f,
		    store_policy_fn fn, void *ctx, struct mxd_err *err)
{
	struct dbq *st;
	struct store_policy_row row;
	int rc;

	if (!(st = db_scan(s, DB_SCAN_POLICIES, f, err)))
		return -1;
	while ((rc = db_step(st)) == 1) {
		row.report = db_col_int(st, 0);
		row.org = db_col_text(st, 1);
		row.start = db_col_int(st, 2);
		row.domain = db_col_text(st, 3);
		row.type = db_col_text(st, 4);
		row.successful = (uint64_t)db_col_int(st, 5);
		row.failed = (uint64_t)db_col_int(st, 6);
		if (fn(&row, ctx))
			break;
	}
	return scan_finish(s, st, rc, err);
}

int
store_scan_failures(struct store *s, const struct store_filter *f,
		    store_fail_fn fn, void *ctx, struct mxd_err *err)
{
	struct dbq *st;
	struct store_fail_row row;
	int rc;

	if (!(st = db_scan(s, DB_SCAN_FAILURES, f, err)))
		return -1;
	while ((rc = db_step(st)) == 1) {
		row.report = db_col_int(st, 0);
		row.org = db_col_text(st, 1);
		row.start = db_col_int(st, 2);
		row.domain = db_col_text(st, 3);
		row.result_type = db_col_text(st, 4);
		row.sending_ip = db_col_text(st, 5);
		row.receiving_mx = db_col_text(st, 6);
		row.receiving_ip = db_col_text(st, 7);
		row.count = (uint64_t)db_col_int(st, 8);
		if (fn(&row, ctx))
			break;
	}
	return scan_finish(s, st, rc, err);
}
