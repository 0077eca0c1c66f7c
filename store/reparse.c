/*
 * reparse.c — run the current parser over every stored message again
 * (see store_reparse() in store.h).
 *
 * For each message, in id order: remember what it gave before (its reports
 * and quarantine entries), parse its raw bytes, forget the old outcome and
 * store the new one with ingest's duplicate rules, then compare to say
 * what changed.  Batches of messages share a transaction; a failure rolls
 * back the open batch and leaves the earlier ones done, so a rerun
 * finishes the job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim/dkim.h"
#include "store/ingest.h"
#include "store/store_p.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define REPARSE_BATCH 500

/* What a message gave before. */
struct old_report {
	char *key;		/* org \n report-id \n start */
	char *org, *report_id;
	int64_t start;
	unsigned char sha[SHA256_LEN];
	char *notes;
	uint64_t successful, failed;
	unsigned part;
	int matched;
};

struct old_outcome {
	struct old_report *r;
	size_t n, cap;
	unsigned *qparts;	/* quarantined part indexes */
	size_t nq, qcap;
};

static char *
report_key(const char *org, const char *id, int64_t start)
{
	return xasprintf("%s\n%s\n%lld", org, id, (long long)start);
}

static void
old_release(struct old_outcome *o)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		free(o->r[i].key);
		free(o->r[i].org);
		free(o->r[i].report_id);
		free(o->r[i].notes);
	}
	free(o->r);
	free(o->qparts);
	memset(o, 0, sizeof(*o));
}

static int
load_old(struct store *s, int64_t msg, struct old_outcome *o,
	 struct mxd_err *err)
{
	struct dbq *st;
	int rc;

	memset(o, 0, sizeof(*o));
	if (!(st = db_get(s, DB_REPARSE_OLD, err)))
		return -1;
	db_bind_int(st, 1, msg);
	while ((rc = db_step(st)) == 1) {
		struct old_report *r;
		const void *sha;
		size_t n;

		o->r = xgrow(o->r, &o->cap, o->n + 1, sizeof(*o->r));
		r = &o->r[o->n++];
		memset(r, 0, sizeof(*r));
		r->org = xstrdup(db_col_text(st, 0));
		r->report_id = xstrdup(db_col_text(st, 1));
		r->start = db_col_int(st, 2);
		r->key = report_key(r->org, r->report_id, r->start);
		sha = db_col_blob(st, 3, &n);
		if (n == SHA256_LEN)
			memcpy(r->sha, sha, SHA256_LEN);
		r->notes = xstrdup(db_col_text(st, 4));
		r->successful = (uint64_t)db_col_int(st, 5);
		r->failed = (uint64_t)db_col_int(st, 6);
		r->part = (unsigned)db_col_int(st, 7);
	}
	db_reset(st);
	if (rc != 0)
		return store_db_error(s, err, "reparse");
	if (!(st = db_get(s, DB_REPARSE_QPARTS, err)))
		return -1;
	db_bind_int(st, 1, msg);
	while ((rc = db_step(st)) == 1) {
		o->qparts = xgrow(o->qparts, &o->qcap, o->nq + 1, sizeof(unsigned));
		o->qparts[o->nq++] = (unsigned)db_col_int(st, 0);
	}
	db_reset(st);
	if (rc != 0)
		return store_db_error(s, err, "reparse");
	return 0;
}

static int
forget(struct store *s, int64_t msg, struct mxd_err *err)
{
	static const enum db_stmt del[] = {DB_FORGET_REPORTS,
					   DB_FORGET_QUARANTINE};
	struct dbq *st;
	size_t i;

	for (i = 0; i < 2; i++) {
		if (!(st = db_get(s, del[i], err)))
			return -1;
		db_bind_int(st, 1, msg);
		if (db_run(s, st, err, "reparse") < 0)
			return -1;
	}
	return 0;
}

/* Ids of messages, ascending: one of DB_IDS_*, with DB_IDS_VERDICT's
 * result and time. */
static int64_t *
message_ids(struct store *s, enum db_stmt which, int result, int64_t before,
	    size_t *n, struct mxd_err *err)
{
	struct dbq *st;
	int64_t *ids = NULL;
	size_t cap = 0;
	int rc;

	*n = 0;
	if (!(st = db_get(s, which, err)))
		return NULL;
	if (which == DB_IDS_VERDICT) {
		db_bind_int(st, 1, result);
		db_bind_int(st, 2, before);
	}
	while ((rc = db_step(st)) == 1) {
		ids = xgrow(ids, &cap, *n + 1, sizeof(*ids));
		ids[(*n)++] = db_col_int(st, 0);
	}
	db_reset(st);
	if (rc != 0) {
		free(ids);
		store_db_error(s, err, "reparse");
		return NULL;
	}
	if (!ids)
		ids = xmalloc(sizeof(*ids));
	return ids;
}

static int
was_quarantined(const struct old_outcome *o, unsigned part)
{
	size_t i;

	for (i = 0; i < o->nq; i++)
		if (o->qparts[i] == part)
			return 1;
	return 0;
}

static void
event(reparse_event_fn fn, void *ctx, enum reparse_event ev, const char *src,
      const char *detail)
{
	if (fn)
		fn(ctx, ev, src, detail);
}

/* A mail that still waits for a verdict (dkimv_pending()) gets one. */
static int
take_verdict(struct store *s, int64_t msg, const struct buf *raw,
	     struct dkimv *dkim, int64_t now, struct reparse_stats *st,
	     struct mxd_err *err)
{
	struct store_auth old, a;
	struct dkimv_verdict v;

	if (store_message_auth(s, msg, &old, err) < 0)
		return -1;
	if (!dkimv_pending(old.result))
		return 0;
	dkimv_check(dkim, raw->data, raw->len, &v);
	if (v.result == DKIMV_TEMPERROR && old.result == DKIMV_TEMPERROR)
		return 0;
	memset(&a, 0, sizeof(a));
	a.result = v.result;
	a.domain = v.domain;
	a.selector = v.selector;
	a.detail = v.detail;
	a.at = now;
	st->verified++;
	return store_message_set_auth(s, msg, &a, err);
}

static int
reparse_one(struct store *s, int64_t msg, const struct parse_limits *lim,
	    struct dkimv *dkim, reparse_event_fn fn, void *ctx,
	    struct reparse_stats *st, struct buf *raw, struct mxd_err *err)
{
	struct old_outcome old;
	struct parse_result res;
	struct parse_input in;
	struct store_put_info info;
	struct buf notes;
	char *source = NULL, label[512];
	int64_t now = (int64_t)time(NULL);
	size_t i, k, truncated = 0;
	int rc = -1;

	if (store_message_get(s, msg, raw, &source, &truncated, err) < 0)
		return -1;
	if (load_old(s, msg, &old, err) < 0) {
		free(source);
		return -1;
	}
	if (truncated) {
		/* only the start of it was ever kept (it was over the size
		 * cap): no parser can read more from it, and its quarantine
		 * entry is all there is of it */
		st->messages++;
		st->still_quarantined += old.nq;
		event(fn, ctx, REPARSE_STILL_QUARANTINED, source,
		      "only the start of this message is stored");
		old_release(&old);
		free(source);
		return 0;
	}
	memset(&in, 0, sizeof(in));
	in.name = source;
	in.limits = lim;
	parse_message(raw->data ? (const void *)raw->data : "", raw->len, &in, &res);
	buf_init(&notes, BUF_NOCAP);
	if (dkim && res.mail && res.n_parts > res.n_failed &&
	    take_verdict(s, msg, raw, dkim, now, st, err) < 0)
		goto out;
	if (forget(s, msg, err) < 0)
		goto out;
	st->messages++;
	if (res.n_parts == 0) {
		st->not_reports++;
		event(fn, ctx, REPARSE_NOT_REPORT, source, NULL);
	}
	for (i = 0; i < res.n_parts; i++) {
		const struct parse_part *p = &res.parts[i];
		struct old_report *o = NULL;
		char *key;
		int r;

		if (res.n_parts > 1)
			snprintf(label, sizeof(label), "%s[%u]", source, p->index);
		else
			snprintf(label, sizeof(label), "%s", source);
		if (!p->report) {
			if (store_quarantine_put(s, msg, p->index, p->name, p->status,
						 p->reason, now, err) < 0)
				goto out;
			if (was_quarantined(&old, p->index)) {
				st->still_quarantined++;
				event(fn, ctx, REPARSE_STILL_QUARANTINED, label, p->reason);
			} else {
				st->quarantined++;
				event(fn, ctx, REPARSE_QUARANTINED, label, p->reason);
			}
			continue;
		}
		key = report_key(p->report->org, p->report->report_id,
				 p->report->start);
		for (k = 0; k < old.n; k++)
			if (!old.r[k].matched && strcmp(old.r[k].key, key) == 0)
				o = &old.r[k];
		free(key);
		r = store_report_put(s, msg, p->index, p->report, now, &info, err);
		if (r < 0)
			goto out;
		if (r == STORE_REPORT_DUPLICATE) {
			/* now a duplicate of a report stored from elsewhere */
			st->dropped++;
			continue;
		}
		buf_reset(&notes);
		tlsrpt_notes_format(p->report->notes, &notes);
		if (o) {
			o->matched = 1;
			if (memcmp(o->sha, p->report->hash, SHA256_LEN) == 0 &&
			    strcmp(o->notes, buf_cstr(&notes)) == 0 &&
			    o->successful == p->report->successful &&
			    o->failed == p->report->failed) {
				st->unchanged++;
			} else {
				st->updated++;
				event(fn, ctx, REPARSE_UPDATED, label, NULL);
			}
		} else if (was_quarantined(&old, p->index)) {
			st->recovered++;
			event(fn, ctx, REPARSE_RECOVERED, label, NULL);
		} else {
			st->new_reports++;
			event(fn, ctx, REPARSE_NEW, label, NULL);
		}
	}
	/* a report of this message that is gone may have been the copy that
	 * counted: another copy counts now */
	for (k = 0; k < old.n; k++)
		if (!old.r[k].matched &&
		    store_report_settle(s, old.r[k].org, old.r[k].report_id,
					old.r[k].start, err) < 0)
			goto out;
	rc = 0;
out:
	buf_release(&notes);
	parse_result_release(&res);
	old_release(&old);
	free(source);
	return rc;
}

int
store_reparse(struct store *s, const struct parse_limits *lim,
	      int quarantine_only, struct dkimv *dkim, reparse_event_fn fn,
	      void *ctx, struct reparse_stats *st, struct mxd_err *err)
{
	struct parse_limits def;
	struct buf raw;
	int64_t *ids;
	size_t n, i;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (!lim) {
		parse_limits_default(&def);
		lim = &def;
	}
	ids = message_ids(s, quarantine_only ? DB_IDS_QUARANTINED : DB_IDS_ALL, 0, 0,
			  &n, err);
	if (!ids)
		return -1;
	buf_init(&raw, BUF_NOCAP);
	for (i = 0; i < n && rc == 0; i++) {
		if (!store_in_transaction(s) && store_begin(s, err) < 0) {
			rc = -1;
			break;
		}
		rc = reparse_one(s, ids[i], lim, dkim, fn, ctx, st, &raw, err);
		if (rc == 0 && ((i + 1) % REPARSE_BATCH == 0 || i + 1 == n))
			rc = store_commit(s, err);
	}
	if (rc < 0)
		store_rollback(s);
	buf_release(&raw);
	free(ids);
	return rc;
}

/*
 * Verifying stored mails again (`mxdigest reverify`): those that still
 * wait for a verdict, or with `all` every mail that brought a report.  A
 * pass is never replaced; with `all`, a fail, none or permerror gives way
 * only to a pass (a key may have been published late; a signature that no
 * longer verifies because it expired says nothing new).
 */
static int
reverify_one(struct store *s, int64_t msg, struct dkimv *dkim,
	     enum reverify_scope scope,
	     reverify_event_fn fn, void *ctx, struct reverify_stats *st,
	     struct buf *raw, struct mxd_err *err)
{
	struct store_auth old, a;
	struct dkimv_verdict v;
	char *source = NULL;
	size_t truncated = 0;
	int64_t now = (int64_t)time(NULL);
	int replace;

	if (store_message_auth(s, msg, &old, err) < 0)
		return -1;
	if (old.result == DKIMV_PASS || old.result == DKIMV_FILE ||
	    (scope != REVERIFY_ALL && !dkimv_pending(old.result)) ||
	    (scope == REVERIFY_TEMPERROR && old.result != DKIMV_TEMPERROR))
		return 0;
	if (store_message_get(s, msg, raw, &source, &truncated, err) < 0)
		return -1;
	memset(&v, 0, sizeof(v));
	if (!parse_is_mail(raw->data ? (const void *)raw->data : "", raw->len)) {
		v.result = DKIMV_FILE;
		snprintf(v.detail, sizeof(v.detail), "a report file, not a mail");
	} else {
		dkimv_check(dkim, raw->data, raw->len, &v);
		st->checked++;
		st->results[v.result]++;
	}
	if (v.result == DKIMV_PASS || v.result == DKIMV_FILE)
		replace = 1;
	else if (dkimv_pending(old.result))
		replace = !(v.result == DKIMV_TEMPERROR &&
			    old.result == DKIMV_TEMPERROR);
	else
		replace = 0;
	if (fn && v.result != DKIMV_FILE)
		fn(ctx, source, &v, replace);
	free(source);
	if (!replace)
		return 0;
	memset(&a, 0, sizeof(a));
	a.result = v.result;
	a.domain = v.domain;
	a.selector = v.selector;
	a.detail = v.detail;
	a.at = now;
	st->changed++;
	return store_message_set_auth(s, msg, &a, err);
}

int
store_reverify(struct store *s, struct dkimv *dkim, enum reverify_scope scope,
	       int64_t before, reverify_event_fn fn, void *ctx,
	       struct reverify_stats *st, struct mxd_err *err)
{
	struct buf raw;
	int64_t *ids;
	size_t n, i;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	/* the messages that brought a report (or only the temperror ones,
	 * through the verdicts' table) */
	ids = message_ids(s, scope == REVERIFY_TEMPERROR ? DB_IDS_VERDICT
			  : DB_IDS_REPORTED, DKIMV_TEMPERROR, before, &n, err);
	if (!ids)
		return -1;
	buf_init(&raw, BUF_NOCAP);
	for (i = 0; i < n && rc == 0; i++) {
		if (!store_in_transaction(s) && store_begin(s, err) < 0) {
			rc = -1;
			break;
		}
		rc = reverify_one(s, ids[i], dkim, scope, fn, ctx, st, &raw, err);
		if (rc == 0 && ((i + 1) % REPARSE_BATCH == 0 || i + 1 == n))
			rc = store_commit(s, err);
	}
	if (rc < 0)
		store_rollback(s);
	buf_release(&raw);
	free(ids);
	return rc;
}
