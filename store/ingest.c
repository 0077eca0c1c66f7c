/*
 * ingest.c — one message in: parse it, store its reports, quarantine what
 * cannot be read, count duplicates; many messages per transaction.
 *
 * A message is stored (its raw bytes, compressed) only when it brings a new
 * report or a new quarantine entry.  A message whose SHA-256 is already
 * stored is not parsed again: its earlier outcome is reported.  Nothing is
 * counted twice: a report is new only if neither its identity
 * (organization, report-id, start) nor its content hash is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"
#include "util/sha256.h"
#include "util/xalloc.h"

struct ingest {
	struct store *s;
	struct parse_limits lim;
	unsigned batch, pending;
	ingest_event_fn fn;
	void *ctx;
	struct ingest_stats st;
};

struct ingest *
ingest_new(struct store *s, const struct parse_limits *lim, unsigned batch,
	   ingest_event_fn fn, void *ctx)
{
	struct ingest *g = xcalloc(1, sizeof(*g));

	g->s = s;
	if (lim)
		g->lim = *lim;
	else
		parse_limits_default(&g->lim);
	g->batch = batch ? batch : 1;
	g->fn = fn;
	g->ctx = ctx;
	return g;
}

static void
event(struct ingest *g, enum ingest_event ev, const char *source,
      const char *detail)
{
	if (g->fn)
		g->fn(g->ctx, ev, source, detail);
}

struct replay {
	struct ingest *g;
	const char *source;
};

static int
replay_quarantined(const struct store_qitem *q, void *ctx)
{
	struct replay *r = ctx;

	r->g->st.already_quarantined++;
	event(r->g, INGEST_ALREADY_QUARANTINED, r->source, q->reason);
	return 0;
}

static int
open_batch(struct ingest *g, struct mxd_err *err)
{
	if (!store_in_transaction(g->s) && store_begin(g->s, err) < 0)
		return -1;
	return 0;
}

/* A source label with the part, for messages with several candidates. */
static void
part_label(char *out, size_t n, const char *source, const struct parse_result *res,
	   const struct parse_part *p)
{
	if (res->n_parts > 1)
		snprintf(out, n, "%s[%u]", source, p->index);
	else
		snprintf(out, n, "%s", source);
}

int
ingest_message(struct ingest *g, const void *data, size_t len,
	       const char *source, const char *name, size_t truncated_from,
	       struct mxd_err *err)
{
	unsigned char sha[SHA256_LEN];
	struct parse_result res;
	struct parse_input in;
	int64_t msg_id = 0, now = (int64_t)time(NULL);
	enum mxd_status st;
	size_t i;
	char label[512];
	int known;

	g->st.messages++;
	g->st.bytes += truncated_from ? truncated_from : len;
	if (open_batch(g, err) < 0)
		return -1;
	sha256(data, len, sha);
	known = store_message_find(g->s, sha, &msg_id, err);
	if (known < 0)
		return -1;
	if (known) {
		unsigned nr, nq;
		struct replay rp = {g, source};

		if (store_message_outcome(g->s, msg_id, &nr, &nq, err) < 0)
			return -1;
		g->st.duplicates += nr;
		for (i = 0; i < nr; i++)
			event(g, INGEST_DUPLICATE, source, NULL);
		if (nq && store_quarantine_list_message(g->s, msg_id,
							replay_quarantined, &rp, err) < 0)
			return -1;
		goto done;
	}

	memset(&in, 0, sizeof(in));
	in.name = name;
	in.limits = &g->lim;
	if (truncated_from) {
		/* Read only in part: keep what was read, say why. */
		memset(&res, 0, sizeof(res));
		arena_init(&res.arena);
		res.parts = arena_alloc(&res.arena, sizeof(*res.parts));
		res.n_parts = res.n_failed = 1;
		res.parts[0].status = MXD_E_TOOBIG;
		res.parts[0].reason = arena_printf(&res.arena,
			"message of %zu bytes exceeds the %zu-byte cap (first %zu "
			"bytes kept)", truncated_from, g->lim.max_message, len);
		st = MXD_OK;
	} else {
		st = parse_message(data, len, &in, &res);
	}
	if (st == MXD_E_NOTREPORT) {
		g->st.not_reports++;
		event(g, INGEST_NOT_REPORT, source, NULL);
		parse_result_release(&res);
		goto done;
	}
	for (i = 0; i < res.n_parts; i++) {
		const struct parse_part *p = &res.parts[i];
		int r;

		part_label(label, sizeof(label), source, &res, p);
		if (p->report) {
			r = store_report_known(g->s, p->report, err);
			if (r < 0)
				goto fail;
			if (r) {
				g->st.duplicates++;
				event(g, INGEST_DUPLICATE, label, NULL);
				continue;
			}
		}
		if (!msg_id && store_message_put(g->s, sha, source, data, len, now,
						 &msg_id, err) < 0)
			goto fail;
		if (p->report) {
			r = store_report_put(g->s, msg_id, p->index, p->report, now, err);
			if (r < 0)
				goto fail;
			if (r) {	/* the same report twice in one message */
				g->st.duplicates++;
				event(g, INGEST_DUPLICATE, label, NULL);
			} else {
				g->st.reports++;
				event(g, INGEST_REPORT, label, NULL);
			}
			continue;
		}
		r = store_quarantine_put(g->s, msg_id, p->index, p->name, p->status,
					 p->reason, now, err);
		if (r < 0)
			goto fail;
		g->st.quarantined++;
		event(g, INGEST_QUARANTINED, label, p->reason);
	}
	parse_result_release(&res);
done:
	if (++g->pending >= g->batch)
		return ingest_flush(g, err);
	return 0;
fail:
	parse_result_release(&res);
	store_rollback(g->s);
	g->pending = 0;
	return -1;
}

int
ingest_begin(struct ingest *g, struct mxd_err *err)
{
	return open_batch(g, err);
}

int
ingest_flush(struct ingest *g, struct mxd_err *err)
{
	g->pending = 0;
	if (!store_in_transaction(g->s))
		return 0;
	if (store_commit(g->s, err) < 0) {
		store_rollback(g->s);
		return -1;
	}
	return 0;
}

const struct ingest_stats *
ingest_stats(const struct ingest *g)
{
	return &g->st;
}

void
ingest_free(struct ingest *g)
{
	if (!g)
		return;
	if (store_in_transaction(g->s))
		store_rollback(g->s);
	free(g);
}
