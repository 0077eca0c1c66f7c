/*
 * ingest.c — messages in: parse them, store their reports, quarantine what
 * cannot be read, count duplicates; many messages per transaction.
 *
 * Work is split in two.  The pure part — SHA-256 of the message, the
 * parse, the compressed copy — runs on worker threads; the store part runs
 * on the calling thread, one message at a time in input order, so the
 * store has one writer and the outcome does not depend on timing.  At most
 * MAX_INFLIGHT messages are in the pipeline, which bounds memory whatever
 * the mailbox size.
 *
 * A message is stored (its raw bytes, compressed) only when it brings a new
 * report or a new quarantine entry.  A message whose SHA-256 is already
 * stored is reported with its earlier outcome.  Nothing is counted twice
 * and nothing replaces a stored report: the same report again is a
 * duplicate, and a report whose identity (organization, report-id, start)
 * is stored with other content is kept beside it as a conflict, with one
 * of the two counted (store.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dkim/dkim.h"
#include "store/ingest.h"
#include "store/store_p.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/sha256.h"
#include "util/xalloc.h"

#define MAX_INFLIGHT 64
#define MAX_THREADS 8
/* Raw bytes in the pipeline at most (one message may pass it alone): 64
 * messages of 25 MiB each would hold 1.6 GiB. */
#define MAX_INFLIGHT_BYTES ((size_t)64 << 20)

struct job {
	/* input */
	unsigned char *data;
	size_t len;
	char *source, *name;
	size_t truncated_from;
	/* output of the pure part */
	unsigned char sha[SHA256_LEN];
	enum mxd_status st;
	struct parse_result res;
	struct store_blob blob;	/* encoded raw bytes */
	struct dkimv_verdict verdict;	/* when the message brings a report */
	int has_verdict;
	int state;		/* JOB_QUEUED, JOB_RUNNING, JOB_DONE */
};

enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct ingest {
	struct store *s;
	struct parse_limits lim;
	unsigned batch, pending;
	ingest_event_fn fn;
	void *ctx;
	struct ingest_stats st;
	int failed;		/* a store error happened: refuse more */
	/* the pipeline: a ring of jobs in input order */
	struct job *ring[MAX_INFLIGHT];
	size_t head, count;	/* oldest, how many */
	size_t next;		/* next queued job for workers (ring offset) */
	size_t bytes;		/* raw bytes of the jobs in the ring */
	struct ingest_stats batch_st;	/* as the open batch began */
	pthread_t tid[MAX_THREADS];
	unsigned nthreads;
	int stopping;
	pthread_mutex_t mu;
	pthread_cond_t work;	/* a job was queued, or stop */
	pthread_cond_t done;	/* a job finished */
	struct dkimv *dkim;	/* NULL: dkim = off */
	/* dry run: nothing is written; what was seen is remembered here */
	int dry;
	struct hmap seen;	/* message SHA-256 -> struct seen_msg; report keys */
};

/* The outcome of a message seen in a dry run, to replay for a copy. */
struct seen_msg {
	unsigned reports, quarantined;
	char *reasons;		/* quarantine reasons, '\n'-separated */
};

static void
job_free(struct job *j)
{
	if (!j)
		return;
	free(j->data);
	free(j->source);
	free(j->name);
	parse_result_release(&j->res);
	buf_release(&j->blob.data);
	free(j);
}

/*
 * The DKIM verdict of a message that brings a report (dkim/dkim.h),
 * taken when it arrives: a report file has no mail to verify, and with
 * dkim = off nothing is looked up.
 */
static void
verdict(struct ingest *g, const void *data, size_t len, int mail,
	struct dkimv_verdict *v)
{
	if (mail && g->dkim) {
		dkimv_check(g->dkim, data, len, v);
		return;
	}
	memset(v, 0, sizeof(*v));
	v->result = mail ? DKIMV_SKIPPED : DKIMV_FILE;
	snprintf(v->detail, sizeof(v->detail), "%s", mail ? "dkim = off"
		 : "a report file, not a mail");
}

static void
verdict_auth(const struct dkimv_verdict *v, struct store_auth *a, int64_t now)
{
	memset(a, 0, sizeof(*a));
	a->result = v->result;
	a->domain = v->domain;
	a->selector = v->selector;
	a->detail = v->detail;
	a->at = now;
}

static int
job_verified(const struct job *j)
{
	return j->has_verdict && j->verdict.result == DKIMV_PASS;
}

/* The pure part: hash, parse, encode.  No store access. */
static void
job_run(struct ingest *g, struct job *j)
{
	struct parse_input in;

	store_message_ident(j->data, j->len, j->sha);
	memset(&in, 0, sizeof(in));
	in.name = j->name;
	in.limits = &g->lim;
	if (j->truncated_from) {
		/* read only in part: keep what was read, say why */
		memset(&j->res, 0, sizeof(j->res));
		arena_init(&j->res.arena);
		j->res.parts = arena_alloc(&j->res.arena, sizeof(*j->res.parts));
		j->res.n_parts = j->res.n_failed = 1;
		j->res.parts[0].status = MXD_E_TOOBIG;
		j->res.parts[0].reason = arena_printf(&j->res.arena,
			"message of %zu bytes exceeds the %zu-byte cap (first %zu "
			"bytes kept)", j->truncated_from, g->lim.max_message, j->len);
		j->st = MXD_OK;
	} else {
		j->st = parse_message(j->data, j->len, &in, &j->res);
	}
	buf_init(&j->blob.data, BUF_NOCAP);
	if (j->st == MXD_OK && !g->dry)
		store_message_encode(g->s, j->data, j->len, &j->blob);
	if (j->st == MXD_OK && j->res.n_parts > j->res.n_failed)
		verdict(g, j->data, j->len, j->res.mail, &j->verdict);
	j->has_verdict = j->st == MXD_OK && j->res.n_parts > j->res.n_failed;
}

static void *
worker(void *arg)
{
	struct ingest *g = arg;
	struct job *j;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (!g->stopping && g->next >= g->count)
			pthread_cond_wait(&g->work, &g->mu);
		if (g->stopping)
			break;
		j = g->ring[(g->head + g->next) % MAX_INFLIGHT];
		g->next++;
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&g->mu);
		job_run(g, j);
		pthread_mutex_lock(&g->mu);
		j->state = JOB_DONE;
		pthread_cond_broadcast(&g->done);
	}
	pthread_mutex_unlock(&g->mu);
	parse_thread_release();
	store_thread_release();
	return NULL;
}

struct ingest *
ingest_new(struct store *s, const struct parse_limits *lim, unsigned batch,
	   unsigned threads, ingest_event_fn fn, void *ctx)
{
	struct ingest *g = xcalloc(1, sizeof(*g));
	unsigned i;

	g->s = s;
	if (lim)
		g->lim = *lim;
	else
		parse_limits_default(&g->lim);
	g->batch = batch ? batch : 1;
	g->fn = fn;
	g->ctx = ctx;
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->work, NULL);
	pthread_cond_init(&g->done, NULL);
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	for (i = 0; i < threads; i++) {
		if (pthread_create(&g->tid[i], NULL, worker, g) != 0)
			break;	/* fewer workers; the caller's thread helps */
		g->nthreads++;
	}
	return g;
}

static void
event(struct ingest *g, enum ingest_event ev, const char *source,
      const char *detail)
{
	if (g->fn)
		g->fn(g->ctx, ev, source, detail);
}

/*
 * The quarantined parts of one message, told as one event: a mail of 200
 * broken parts is one line, "<reason> (and 199 more parts)".
 */
struct qnote {
	enum ingest_event ev;
	unsigned n;
	char label[512];	/* the part's label when one fails, else the source */
	char *first;		/* the first reason */
};

static void
qnote_add(struct qnote *q, const char *label, const char *reason)
{
	if (q->n++ == 0) {
		snprintf(q->label, sizeof(q->label), "%s", label);
		q->first = xstrdup(reason ? reason : "");
	}
}

static void
qnote_flush(struct ingest *g, struct qnote *q, const char *source)
{
	char *text;

	if (q->n == 1) {
		event(g, q->ev, q->label, q->first);
	} else if (q->n > 1) {
		text = xasprintf("%s (and %u more part%s)", q->first, q->n - 1,
				 q->n == 2 ? "" : "s");
		event(g, q->ev, source, text);
		free(text);
	}
	free(q->first);
	q->first = NULL;
	q->n = 0;
}

struct replay {
	struct ingest *g;
	struct qnote q;
	const char *source;
};

static int
replay_quarantined(const struct store_qitem *q, void *ctx)
{
	struct replay *r = ctx;

	r->g->st.already_quarantined++;
	qnote_add(&r->q, r->source, q->reason);
	return 0;
}

/* A message already stored: its reports count as duplicates, and its
 * quarantine entries are reported again, without parsing anything. */
static int
replay_stored(struct ingest *g, const struct job *j, int64_t msg_id,
	      struct mxd_err *err)
{
	struct replay rp;
	unsigned nr, nq, i;
	int rc = 0;

	memset(&rp, 0, sizeof(rp));
	rp.g = g;
	rp.source = j->source;
	rp.q.ev = INGEST_ALREADY_QUARANTINED;
	if (store_message_outcome(g->s, msg_id, &nr, &nq, err) < 0)
		return -1;
	g->st.duplicates += nr;
	for (i = 0; i < nr; i++)
		event(g, INGEST_DUPLICATE, j->source, NULL);
	if (nq && store_quarantine_list_message(g->s, msg_id, replay_quarantined,
						&rp, err) < 0)
		rc = -1;
	qnote_flush(g, &rp.q, j->source);
	return rc;
}

static int
open_batch(struct ingest *g, struct mxd_err *err)
{
	if (g->dry)
		return 0;
	if (!store_in_transaction(g->s) && store_begin(g->s, err) < 0)
		return -1;
	return 0;
}

/* A source label with the part, for messages with several candidates. */
static void
part_label(char *out, size_t n, const char *source,
	   const struct parse_result *res, const struct parse_part *p)
{
	if (res->n_parts > 1)
		snprintf(out, n, "%s[%u]", source, p->index);
	else
		snprintf(out, n, "%s", source);
}

/* A key seen in this dry run?  Remembers it either way. */
static int
seen_before(struct ingest *g, const char *key)
{
	int created;

	hmap_slot(&g->seen, key, &created);
	return !created;
}

/* The dry-run store part: classify as job_store() would, write nothing. */
static int
job_dry(struct ingest *g, struct job *j, struct mxd_err *err)
{
	char hex[2 * SHA256_LEN + 1], label[512], *key;
	struct qnote q = {INGEST_QUARANTINED, 0, "", NULL};
	struct seen_msg *m;
	void **slot;
	int64_t msg_id;
	size_t i;
	int created, known;

	if (g->s) {
		/* in the database: as a real import would say */
		known = store_message_find(g->s, j->sha, &msg_id, err);
		if (known < 0)
			return -1;
		if (known)
			return replay_stored(g, j, msg_id, err);
	}
	sha256_hex(j->sha, hex);
	slot = hmap_slot(&g->seen, hex, &created);
	if (!created) {
		/* the same bytes earlier in this run */
		m = *slot;
		g->st.duplicates += m->reports;
		for (i = 0; i < m->reports; i++)
			event(g, INGEST_DUPLICATE, j->source, NULL);
		if (m->reasons) {
			char *copy = xstrdup(m->reasons), *save = NULL, *r;
			struct qnote again = {INGEST_ALREADY_QUARANTINED, 0, "",
					      NULL};

			for (r = strtok_r(copy, "\n", &save); r;
			     r = strtok_r(NULL, "\n", &save)) {
				g->st.already_quarantined++;
				qnote_add(&again, j->source, r);
			}
			qnote_flush(g, &again, j->source);
			free(copy);
		}
		return 0;
	}
	m = xcalloc(1, sizeof(*m));
	*slot = m;
	if (j->st == MXD_E_NOTREPORT) {
		g->st.not_reports++;
		event(g, INGEST_NOT_REPORT, j->source, NULL);
		return 0;
	}
	for (i = 0; i < j->res.n_parts; i++) {
		const struct parse_part *p = &j->res.parts[i];
		int dup, conflict, r;

		part_label(label, sizeof(label), j->source, &j->res, p);
		if (!p->report) {
			char *nr = xasprintf("%s%s%s", m->reasons ? m->reasons : "",
					     m->reasons ? "\n" : "", p->reason);

			free(m->reasons);
			m->reasons = nr;
			m->quarantined++;
			g->st.quarantined++;
			qnote_add(&q, label, p->reason);
			continue;
		}
		/* as job_store() would: the same content is a duplicate, the
		 * same identity with other content a conflict */
		sha256_hex(p->report->hash, hex);
		key = xasprintf("report\n%s", hex);
		dup = seen_before(g, key);
		free(key);
		key = xasprintf("id\n%s\n%s\n%lld", p->report->org,
				p->report->report_id, (long long)p->report->start);
		conflict = seen_before(g, key) && !dup;
		free(key);
		if (!dup && !conflict && g->s) {
			r = store_report_known(g->s, p->report, job_verified(j),
					       err);
			if (r < 0) {
				free(q.first);
				return -1;
			}
			dup = r == STORE_REPORT_DUPLICATE ||
			      r == STORE_REPORT_VERIFIED_COPY;
			conflict = r == STORE_REPORT_CONFLICT;
		}
		if (dup) {
			g->st.duplicates++;
			event(g, INGEST_DUPLICATE, label, NULL);
		} else if (conflict) {
			m->reports++;
			g->st.conflicts++;
			event(g, INGEST_CONFLICT, label, "another report with this "
			      "organization, report-id and start, and other "
			      "content, is already in");
		} else {
			m->reports++;
			g->st.reports++;
			event(g, INGEST_REPORT, label, NULL);
		}
	}
	qnote_flush(g, &q, j->source);
	return 0;
}

/*
 * A message stored before without a verdict — a key that could not be
 * looked up (temperror), dkim = off then, or a database older than the
 * verdicts — is verified when it comes again: the next fetch or import
 * decides.  A verdict taken once stays (signatures expire: a later check
 * could fail for that alone), and a temperror is no verdict.
 */
static int
retry_verdict(struct ingest *g, const struct job *j, int64_t msg_id,
	      int64_t now, struct mxd_err *err)
{
	struct store_auth old, a;

	if (!g->dkim || !j->has_verdict || !j->res.mail)
		return 0;
	if (store_message_auth(g->s, msg_id, &old, err) < 0)
		return -1;
	if (!dkimv_pending(old.result) || j->verdict.result == DKIMV_TEMPERROR)
		return 0;
	verdict_auth(&j->verdict, &a, now);
	return store_message_set_auth(g->s, msg_id, &a, err);
}

/*
 * A report whose identity is stored with other content: both copies are
 * kept (store.h says which counts); the line says which, and why.
 */
static void
conflict_event(struct ingest *g, const char *label, const struct tlsrpt *r,
	       const struct job *j, const struct store_put_info *info)
{
	int pass = job_verified(j);
	const char *why;
	char *text;

	if (info->counted)
		why = "its mail verified, the other's did not";
	else if (info->other_verified)
		why = pass ? "both verified; it came first"
			   : "its mail verified, this one's did not";
	else
		why = "neither mail verified; it came first";
	text = xasprintf("report %s of %s differs from the copy from %s: both "
			 "kept, %s counts (%s)", r->report_id, r->org,
			 info->other[0] ? info->other : "an earlier message",
			 info->counted ? "this one" : "the other", why);
	event(g, INGEST_CONFLICT, label, text);
	free(text);
}

static int flush_batch(struct ingest *g, struct mxd_err *err);

/*
 * The locks of a shared store for job j (store_claim()).  When another
 * writer holds one, the batch so far is committed first, so that this
 * writer waits holding nothing: two writers never wait for each other.
 */
static const struct tlsrpt **
job_reports(const struct job *j, size_t *n)
{
	const struct tlsrpt **r = xcalloc(j->res.n_parts + 1, sizeof(*r));
	size_t i;

	*n = 0;
	for (i = 0; i < j->res.n_parts; i++)
		if (j->res.parts[i].report)
			r[(*n)++] = j->res.parts[i].report;
	return r;
}

/* The claims of the next jobs that are ready (parsed), as many as the
 * store keeps slots for, go out now: their lookups then run on the server
 * while this job's rows are written, and the server has the next
 * messages' work at hand instead of waiting for the writer. */
#define CLAIMS_AHEAD (DB_SLOTS - 1)

static int
claim_next(struct ingest *g, struct mxd_err *err)
{
	const struct tlsrpt **r;
	struct job *next[CLAIMS_AHEAD];
	size_t n, i, k = 0;
	int rc = 0;

	pthread_mutex_lock(&g->mu);
	for (i = 0; i < g->count && k < CLAIMS_AHEAD; i++) {
		struct job *j = g->ring[(g->head + i) % MAX_INFLIGHT];

		if (!j || j->state != JOB_DONE)
			break;		/* in order: the claims follow the jobs */
		next[k++] = j;
	}
	pthread_mutex_unlock(&g->mu);
	for (i = 0; i < k && rc == 0; i++) {
		r = job_reports(next[i], &n);
		rc = store_claim_ahead(g->s, next[i]->sha, r, n, err);
		free(r);
	}
	return rc;
}

static int
claim_job(struct ingest *g, struct job *j, struct mxd_err *err)
{
	const struct tlsrpt **r;
	size_t n;
	int rc;

	r = job_reports(j, &n);
	rc = store_claim(g->s, j->sha, r, n, 0, err);
	if (rc == 0) {
		if (mxd_log_area(MXD_AREA_STORE))
			mxd_log(MXD_LOG_DEBUG, "store: %s: another writer holds a "
				"lock of this message: committing, then waiting",
				j->source);
		if (flush_batch(g, err) < 0 || open_batch(g, err) < 0)
			rc = -1;
		else if ((rc = store_claim(g->s, j->sha, r, n, 1, err)) == 0)
			rc = mxd_err_set(err, MXD_E_LOCKED, "\"%s\": cannot take "
					 "the locks of a message",
					 store_path(g->s));
	}
	free(r);
	if (rc == 1)
		rc = claim_next(g, err);
	return rc < 0 ? -1 : 0;
}

/* The store part of one job, in input order, on the calling thread. */
static int
job_store(struct ingest *g, struct job *j, struct mxd_err *err)
{
	int64_t msg_id = 0, now = (int64_t)time(NULL);
	struct qnote q = {INGEST_QUARANTINED, 0, "", NULL};
	struct store_put_info info;
	size_t i;
	char label[512];
	int known, rc = 0;

	if (open_batch(g, err) < 0 || claim_job(g, j, err) < 0)
		return -1;
	known = store_message_find(g->s, j->sha, &msg_id, err);
	if (known < 0)
		return -1;
	if (known)
		return retry_verdict(g, j, msg_id, now, err) < 0 ? -1
			: replay_stored(g, j, msg_id, err);
	if (j->st == MXD_E_NOTREPORT) {
		g->st.not_reports++;
		event(g, INGEST_NOT_REPORT, j->source, NULL);
		return 0;
	}
	for (i = 0; i < j->res.n_parts && rc == 0; i++) {
		const struct parse_part *p = &j->res.parts[i];
		int r;

		part_label(label, sizeof(label), j->source, &j->res, p);
		if (p->report) {
			r = store_report_known(g->s, p->report, job_verified(j),
					       err);
			if (r < 0) {
				rc = -1;
				break;
			}
			if (r == STORE_REPORT_DUPLICATE) {
				g->st.duplicates++;
				event(g, INGEST_DUPLICATE, label, NULL);
				continue;
			}
		}
		if (!msg_id) {
			struct store_auth a;

			if (j->has_verdict)
				verdict_auth(&j->verdict, &a, now);
			/* 1: another writer stored it meanwhile (a shared
			 * store); its reports then come back as duplicates */
			if (store_message_put(g->s, j->sha, j->source, j->len,
					      j->truncated_from, &j->blob,
					      j->has_verdict ? &a : NULL, now,
					      &msg_id, err) < 0) {
				rc = -1;
				break;
			}
		}
		if (p->report) {
			r = store_report_put(g->s, msg_id, p->index, p->report, now,
					     &info, err);
			if (r < 0) {
				rc = -1;
				break;
			}
			if (r == STORE_REPORT_DUPLICATE) {
				/* the same report twice in one message */
				g->st.duplicates++;
				event(g, INGEST_DUPLICATE, label, NULL);
				continue;
			}
			if (r == STORE_REPORT_VERIFIED_COPY) {
				g->st.duplicates++;
				event(g, INGEST_DUPLICATE, label, "kept: this copy "
				      "verified, the stored one did not");
				continue;
			}
			if (j->has_verdict)
				g->st.dkim[j->verdict.result]++;
			if (r == STORE_REPORT_CONFLICT) {
				g->st.conflicts++;
				conflict_event(g, label, p->report, j, &info);
			} else {
				g->st.reports++;
				event(g, INGEST_REPORT, label, NULL);
			}
			continue;
		}
		r = store_quarantine_put(g->s, msg_id, p->index, p->name, p->status,
					 p->reason, now, err);
		if (r < 0) {
			rc = -1;
			break;
		}
		if (r == 1) {
			/* quarantined by another writer meanwhile */
			g->st.duplicates++;
			event(g, INGEST_DUPLICATE, label, NULL);
			continue;
		}
		g->st.quarantined++;
		qnote_add(&q, label, p->reason);
	}
	if (rc == 0)
		qnote_flush(g, &q, j->source);
	free(q.first);
	return rc;
}

/* Takes the oldest job once it is done (running it here if no worker
 * has), stores it, and commits when the batch is full. */
static int
retire_oldest(struct ingest *g, struct mxd_err *err)
{
	struct job *j;
	int rc;

	pthread_mutex_lock(&g->mu);
	j = g->ring[g->head];
	if (j->state == JOB_QUEUED && (g->nthreads == 0 || g->next == 0)) {
		/* nobody took it yet: do it here rather than wait */
		j->state = JOB_RUNNING;
		g->next++;
		pthread_mutex_unlock(&g->mu);
		job_run(g, j);
		pthread_mutex_lock(&g->mu);
		j->state = JOB_DONE;
	}
	while (j->state != JOB_DONE)
		pthread_cond_wait(&g->done, &g->mu);
	g->ring[g->head] = NULL;
	g->head = (g->head + 1) % MAX_INFLIGHT;
	g->count--;
	g->next--;
	g->bytes -= j->len;
	pthread_mutex_unlock(&g->mu);

	rc = g->failed ? -1 : g->dry ? job_dry(g, j, err) : job_store(g, j, err);
	job_free(j);
	if (rc < 0) {
		if (!g->failed && !g->dry)
			store_rollback(g->s);
		g->failed = 1;
		g->pending = 0;
		return -1;
	}
	if (++g->pending >= g->batch)
		return flush_batch(g, err);
	return 0;
}

static int
flush_batch(struct ingest *g, struct mxd_err *err)
{
	struct mxd_err e = { 0 };

	g->pending = 0;
	if (g->dry || !store_in_transaction(g->s))
		return 0;
	if (store_commit(g->s, err) < 0) {
		store_rollback(g->s);
		g->failed = 1;
		return -1;
	}
	/* the store's first dictionary, as soon as there is enough mail to
	 * train it; without one the raw copies are only larger.  A lost
	 * connection is not a warning: the next statement fails on it and
	 * that error ends the run */
	if (store_dict_due(g->s, &e) < 0 && e.code != MXD_E_NET)
		mxd_log(MXD_LOG_WARN, "cannot make a compression dictionary: %s",
			e.text);
	return 0;
}

int
ingest_message(struct ingest *g, const void *data, size_t len,
	       const char *source, const char *name, size_t truncated_from,
	       struct mxd_err *err)
{
	struct job *j;

	if (g->failed)
		return mxd_err_set(err, MXD_E_STORE, "the import stopped after a "
				   "database error");
	while (g->count == MAX_INFLIGHT ||
	       (g->count && g->bytes + len > MAX_INFLIGHT_BYTES))
		if (retire_oldest(g, err) < 0)
			return -1;
	j = xcalloc(1, sizeof(*j));
	j->data = xmalloc(len ? len : 1);
	if (len)
		memcpy(j->data, data, len);
	j->len = len;
	j->source = xstrdup(source);
	j->name = name ? xstrdup(name) : NULL;
	j->truncated_from = truncated_from;
	g->st.messages++;
	g->st.bytes += truncated_from ? truncated_from : len;

	pthread_mutex_lock(&g->mu);
	j->state = JOB_QUEUED;
	g->ring[(g->head + g->count) % MAX_INFLIGHT] = j;
	g->count++;
	g->bytes += len;
	pthread_cond_signal(&g->work);
	pthread_mutex_unlock(&g->mu);
	if (g->nthreads == 0)
		return retire_oldest(g, err);
	return 0;
}

void
ingest_set_dkim(struct ingest *g, struct dkimv *v)
{
	g->dkim = v;
}

void
ingest_set_dry_run(struct ingest *g)
{
	g->dry = 1;
	hmap_init(&g->seen);
}

int
ingest_begin(struct ingest *g, struct mxd_err *err)
{
	g->batch_st = g->st;
	return open_batch(g, err);
}

void
ingest_abort(struct ingest *g)
{
	pthread_mutex_lock(&g->mu);
	/* workers take jobs in ring order: wait for those they took */
	for (;;) {
		size_t i;
		int busy = 0;

		for (i = 0; i < g->next; i++)
			busy |= g->ring[(g->head + i) % MAX_INFLIGHT]->state != JOB_DONE;
		if (!busy)
			break;
		pthread_cond_wait(&g->done, &g->mu);
	}
	while (g->count) {
		job_free(g->ring[g->head]);
		g->ring[g->head] = NULL;
		g->head = (g->head + 1) % MAX_INFLIGHT;
		g->count--;
	}
	g->next = 0;
	g->bytes = 0;
	pthread_mutex_unlock(&g->mu);
	if (!g->dry && g->s && store_in_transaction(g->s))
		store_rollback(g->s);
	g->st = g->batch_st;
	g->pending = 0;
	g->failed = 0;
}

int
ingest_flush(struct ingest *g, struct mxd_err *err)
{
	while (g->count)
		if (retire_oldest(g, err) < 0)
			return -1;
	if (g->failed)
		return mxd_err_set(err, MXD_E_STORE, "the import stopped after a "
				   "database error");
	return flush_batch(g, err);
}

const struct ingest_stats *
ingest_stats(const struct ingest *g)
{
	return &g->st;
}

void
ingest_free(struct ingest *g)
{
	unsigned i;

	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stopping = 1;
	pthread_cond_broadcast(&g->work);
	pthread_mutex_unlock(&g->mu);
	for (i = 0; i < g->nthreads; i++)
		pthread_join(g->tid[i], NULL);
	while (g->count) {
		job_free(g->ring[g->head]);
		g->head = (g->head + 1) % MAX_INFLIGHT;
		g->count--;
	}
	if (g->dry) {
		size_t pos = 0;
		struct hmap_entry *e;

		while ((e = hmap_next(&g->seen, &pos))) {
			struct seen_msg *m = e->value;

			if (m)
				free(m->reasons);
			free(m);
		}
		hmap_release(&g->seen);
	} else if (store_in_transaction(g->s)) {
		store_rollback(g->s);
	}
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->work);
	pthread_cond_destroy(&g->done);
	free(g);
}
