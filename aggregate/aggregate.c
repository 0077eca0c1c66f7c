/*
 * aggregate.c — group the counted rows of a window (see aggregate.h).
 */
#include "aggregate/aggregate.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/hash.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

double
agg_fail_rate(uint64_t successful, uint64_t failed)
{
	uint64_t total = successful + failed;

	return total ? 100.0 * (double)failed / (double)total : 0.0;
}

void
agg_window_since(int64_t now, int64_t n, enum agg_unit unit, int64_t *from,
		 int64_t *to)
{
	switch (unit) {
	case AGG_HOURS:
		*to = now - ((now % 3600) + 3600) % 3600;
		*from = *to - n * 3600;
		break;
	case AGG_WEEKS:
		n *= 7;
		/* FALLTHROUGH */
	case AGG_DAYS:
		*to = time_day_floor(now);
		*from = *to - n * DAY_SECS;
		break;
	}
}

int
agg_parse_since(const char *spec, int64_t now, int64_t *from, int64_t *to)
{
	enum agg_unit unit = AGG_DAYS;
	char *end;
	long long n;

	if (!isdigit((unsigned char)*spec))
		return -1;
	errno = 0;
	n = strtoll(spec, &end, 10);
	if (errno || n <= 0 || n > 100000)
		return -1;
	if (*end) {
		switch (*end) {
		case 'h': unit = AGG_HOURS; break;
		case 'd': unit = AGG_DAYS; break;
		case 'w': unit = AGG_WEEKS; break;
		default: return -1;
		}
		if (end[1])
			return -1;
	}
	agg_window_since(now, n, unit, from, to);
	return 0;
}

static int
cmp_str_p(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Group-by state while scanning. */
struct mx_acc {
	uint64_t failed;
	struct hmap results;	/* result type -> uint64_t* */
	struct hmap orgs;	/* org -> (void *)1 */
};

struct build {
	struct agg_digest *d;
	struct hmap orgs;	/* org -> struct agg_org* */
	struct hmap reports;	/* report id -> org (distinct reports) */
	struct hmap mx;		/* mx -> struct mx_acc* */
	struct hmap results;	/* result type -> struct agg_result* */
	struct hmap result_reports;	/* "type\nreport" -> 1 */
	struct hmap domains;	/* domain -> struct agg_domain* */
	struct hmap policies;	/* "domain\ntype" -> struct agg_policy* */
	struct hmap policy_reports;	/* "domain\ntype\nreport" -> 1 */
};

static struct agg_org *
org_entry(struct build *b, const char *org)
{
	int created;
	void **slot = hmap_slot(&b->orgs, org, &created);

	if (created) {
		struct agg_org *o = arena_alloc(&b->d->arena, sizeof(*o));

		o->org = arena_strdup(&b->d->arena, org);
		*slot = o;
	}
	return *slot;
}

static int
on_report(const struct store_report_row *r, void *ctx)
{
	struct build *b = ctx;
	char key[32];
	int created;

	snprintf(key, sizeof(key), "%lld", (long long)r->id);
	hmap_slot(&b->reports, key, &created);
	if (created) {
		b->d->totals.reports++;
		org_entry(b, r->org)->reports++;
	}
	return 0;
}

/* The union of two sorted "a+b" type lists, sorted. */
static const char *
merge_types(struct arena *a, const char *x, const char *y)
{
	const char *v[32];
	char *all = xasprintf("%s+%s", x, y), *tok, *save = NULL;
	size_t n = 0, i, j;
	struct buf out;
	const char *r;

	for (tok = strtok_r(all, "+", &save); tok && n < 32;
	     tok = strtok_r(NULL, "+", &save))
		v[n++] = tok;
	qsort(v, n, sizeof(v[0]), cmp_str_p);
	buf_init(&out, BUF_NOCAP);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(v[j], v[i]) == 0; j++)
			;
		if (out.len)
			buf_addc(&out, '+');
		buf_adds(&out, v[i]);
	}
	r = arena_strndup(a, buf_cstr(&out), out.len);
	buf_release(&out);
	free(all);
	return r;
}

static int
on_domain(const struct store_domain_row *r, void *ctx)
{
	struct build *b = ctx;
	struct agg_org *o = org_entry(b, r->org);
	int created;
	void **slot;
	struct agg_domain *d;

	o->successful += r->successful;
	o->failed += r->failed;
	b->d->totals.successful += r->successful;
	b->d->totals.failed += r->failed;
	slot = hmap_slot(&b->domains, r->domain, &created);
	if (created) {
		d = arena_alloc(&b->d->arena, sizeof(*d));
		d->domain = arena_strdup(&b->d->arena, r->domain);
		d->types = arena_strdup(&b->d->arena, r->types);
		*slot = d;
	}
	d = *slot;
	d->successful += r->successful;
	d->failed += r->failed;
	if (strcmp(d->types, r->types) != 0)
		d->types = merge_types(&b->d->arena, d->types, r->types);
	return 0;
}

static int
on_policy(const struct store_policy_row *r, void *ctx)
{
	struct build *b = ctx;
	char *key = xasprintf("%s\n%s", r->domain, r->type);
	char *rkey = xasprintf("%s\n%lld", key, (long long)r->report);
	int created;
	void **slot = hmap_slot(&b->policies, key, &created);
	struct agg_policy *p;

	if (created) {
		p = arena_alloc(&b->d->arena, sizeof(*p));
		p->domain = arena_strdup(&b->d->arena, r->domain);
		p->type = arena_strdup(&b->d->arena, r->type);
		*slot = p;
	}
	p = *slot;
	p->successful += r->successful;
	p->failed += r->failed;
	hmap_slot(&b->policy_reports, rkey, &created);
	if (created)
		p->reports++;
	free(key);
	free(rkey);
	return 0;
}

static int
on_failure(const struct store_fail_row *r, void *ctx)
{
	struct build *b = ctx;
	const char *mx = r->receiving_mx ? r->receiving_mx
			 : r->receiving_ip ? r->receiving_ip : "";
	int created;
	void **slot = hmap_slot(&b->mx, mx, &created);
	struct mx_acc *m;
	struct agg_result *res;
	uint64_t *cnt;
	char *rkey;

	if (created) {
		m = xcalloc(1, sizeof(*m));
		hmap_init(&m->results);
		hmap_init(&m->orgs);
		*slot = m;
	}
	m = *slot;
	m->failed += r->count;
	slot = hmap_slot(&m->results, r->result_type, &created);
	if (created)
		*slot = arena_alloc(&b->d->arena, sizeof(uint64_t));
	cnt = *slot;
	*cnt += r->count;
	hmap_slot(&m->orgs, r->org, NULL);

	slot = hmap_slot(&b->results, r->result_type, &created);
	if (created) {
		res = arena_alloc(&b->d->arena, sizeof(*res));
		res->result_type = arena_strdup(&b->d->arena, r->result_type);
		*slot = res;
	}
	res = *slot;
	res->failed += r->count;
	rkey = xasprintf("%s\n%lld", r->result_type, (long long)r->report);
	hmap_slot(&b->result_reports, rkey, &created);
	if (created)
		res->reports++;
	free(rkey);
	return 0;
}

static int
cmp_name(const char *a, const char *b)
{
	return strcmp(a, b);
}

static int
cmp_org(const void *x, const void *y)
{
	const struct agg_org *a = x, *b = y;

	if (a->failed != b->failed)
		return a->failed < b->failed ? 1 : -1;
	return cmp_name(a->org, b->org);
}

static int
cmp_mx(const void *x, const void *y)
{
	const struct agg_mx *a = x, *b = y;

	if (a->failed != b->failed)
		return a->failed < b->failed ? 1 : -1;
	return cmp_name(a->mx, b->mx);
}

static int
cmp_result(const void *x, const void *y)
{
	const struct agg_result *a = x, *b = y;

	if (a->failed != b->failed)
		return a->failed < b->failed ? 1 : -1;
	return cmp_name(a->result_type, b->result_type);
}

static int
cmp_domain(const void *x, const void *y)
{
	const struct agg_domain *a = x, *b = y;

	if (a->failed != b->failed)
		return a->failed < b->failed ? 1 : -1;
	return cmp_name(a->domain, b->domain);
}

static int
cmp_policy(const void *x, const void *y)
{
	const struct agg_policy *a = x, *b = y;
	int c;

	if (a->failed != b->failed)
		return a->failed < b->failed ? 1 : -1;
	if ((c = cmp_name(a->domain, b->domain)))
		return c;
	return cmp_name(a->type, b->type);
}


/* Copies the values of a map of pointers into an arena array. */
static void *
collect(struct arena *a, const struct hmap *m, size_t elem, size_t *n)
{
	unsigned char *out = arena_array(a, m->count ? m->count : 1, elem);
	struct hmap_entry *e;
	size_t pos = 0, i = 0;

	while ((e = hmap_next(m, &pos)))
		memcpy(out + elem * i++, e->value, elem);
	*n = i;
	return out;
}

static void
finish_mx(struct build *b)
{
	struct agg_digest *d = b->d;
	struct hmap_entry *e, *r;
	size_t pos = 0, i = 0;

	d->mx = arena_array(&d->arena, b->mx.count ? b->mx.count : 1, sizeof(*d->mx));
	while ((e = hmap_next(&b->mx, &pos))) {
		struct mx_acc *m = e->value;
		struct agg_mx *x = &d->mx[i++];
		size_t p2 = 0, k = 0;

		x->mx = arena_strdup(&d->arena, e->key);
		x->failed = m->failed;
		while ((r = hmap_next(&m->results, &p2))) {
			uint64_t c = *(uint64_t *)r->value;

			if (!x->top_result || c > x->top_result_failed ||
			    (c == x->top_result_failed &&
			     strcmp(r->key, x->top_result) < 0)) {
				x->top_result = r->key;
				x->top_result_failed = c;
			}
		}
		if (x->top_result)
			x->top_result = arena_strdup(&d->arena, x->top_result);
		x->orgs = arena_array(&d->arena, m->orgs.count ? m->orgs.count : 1,
				      sizeof(char *));
		p2 = 0;
		while ((r = hmap_next(&m->orgs, &p2)))
			x->orgs[k++] = arena_strdup(&d->arena, r->key);
		x->n_orgs = k;
		qsort(x->orgs, k, sizeof(char *), cmp_str_p);
		hmap_release(&m->results);
		hmap_release(&m->orgs);
		free(m);
	}
	d->n_mx = i;
	qsort(d->mx, d->n_mx, sizeof(*d->mx), cmp_mx);
}

int
agg_build(struct store *s, const struct agg_query *q, struct agg_digest *d,
	  struct mxd_err *err)
{
	struct store_filter f;
	struct build b;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	arena_init(&d->arena);
	d->from = q->from;
	d->to = q->to;
	memset(&b, 0, sizeof(b));
	b.d = d;
	hmap_init(&b.orgs);
	hmap_init(&b.reports);
	hmap_init(&b.mx);
	hmap_init(&b.results);
	hmap_init(&b.result_reports);
	hmap_init(&b.domains);
	hmap_init(&b.policies);
	hmap_init(&b.policy_reports);

	f.from = q->from;
	f.to = q->to;
	f.domain = q->domain;
	f.org = q->org;
	f.mx = q->mx;
	if (store_scan_reports(s, &f, on_report, &b, err) < 0 ||
	    store_scan_domains(s, &f, on_domain, &b, err) < 0 ||
	    store_scan_policies(s, &f, on_policy, &b, err) < 0 ||
	    store_scan_failures(s, &f, on_failure, &b, err) < 0)
		goto out;
	d->totals.quarantined = store_quarantine_count(s, err);
	if (d->totals.quarantined < 0)
		goto out;

	d->orgs = collect(&d->arena, &b.orgs, sizeof(*d->orgs), &d->n_orgs);
	qsort(d->orgs, d->n_orgs, sizeof(*d->orgs), cmp_org);
	d->totals.organizations = d->n_orgs;
	d->results = collect(&d->arena, &b.results, sizeof(*d->results),
			     &d->n_results);
	qsort(d->results, d->n_results, sizeof(*d->results), cmp_result);
	d->domains = collect(&d->arena, &b.domains, sizeof(*d->domains),
			     &d->n_domains);
	qsort(d->domains, d->n_domains, sizeof(*d->domains), cmp_domain);
	d->policies = collect(&d->arena, &b.policies, sizeof(*d->policies),
			      &d->n_policies);
	qsort(d->policies, d->n_policies, sizeof(*d->policies), cmp_policy);
	finish_mx(&b);
	rc = 0;
out:
	if (rc < 0) {
		size_t pos = 0;
		struct hmap_entry *e;

		while ((e = hmap_next(&b.mx, &pos))) {
			struct mx_acc *m = e->value;

			hmap_release(&m->results);
			hmap_release(&m->orgs);
			free(m);
		}
	}
	hmap_release(&b.orgs);
	hmap_release(&b.reports);
	hmap_release(&b.mx);
	hmap_release(&b.results);
	hmap_release(&b.result_reports);
	hmap_release(&b.domains);
	hmap_release(&b.policies);
	hmap_release(&b.policy_reports);
	return rc;
}

void
agg_digest_release(struct agg_digest *d)
{
	if (!d)
		return;
	arena_release(&d->arena);
	memset(d, 0, sizeof(*d));
}
