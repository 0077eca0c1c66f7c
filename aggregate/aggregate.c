/*
 * aggregate.c — group the counted rows of a window, compare with the
 * window before and the four before that (see aggregate.h).
 *
 * One window is built by scan_window(): four scans through store/ (reports,
 * per-domain counts, policies as sent, counted failure details), grouped
 * with string maps into accumulators, then copied into sorted arena arrays.
 * agg_build() builds the window and the previous one the same way, joins
 * them by name for the deltas, and scans the four previous windows once
 * more for the keys of past failures ("new this window").
 */
#include "aggregate/aggregate.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "dkim/dkim.h"
#include "util/buf.h"
#include "util/count.h"
#include "util/hash.h"
#include "util/strutil.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

/* How many windows before this one "new this window" looks at. */
#define AGG_HISTORY_WINDOWS 4

/* Sums of counts stop at COUNT_OVER (util/count.h), so a window with
 * implausible reports shows a huge count, never a wrapped small one. */
double
agg_fail_rate(uint64_t successful, uint64_t failed)
{
	double total = (double)successful + (double)failed;

	return total > 0 ? 100.0 * (double)failed / total : 0.0;
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

/* ---- accumulators of one window ---------------------------------------- */

/*
 * Failures grouped by MX host or by sending IP.  A year holds tens of
 * thousands of sending IPs, so an accumulator is two small arrays of
 * interned strings (compared by pointer), not maps of its own.
 */
struct fail_result {
	const char *type;	/* interned */
	uint64_t failed;
};

struct fail_acc {
	uint64_t failed;
	struct fail_result *results;
	size_t n_results, cap_results;
	const char **orgs;	/* interned */
	size_t n_orgs, cap_orgs;
};

struct org_acc {
	struct agg_org o;
	uint64_t detail_failed;	/* failure-detail counts, for "with failures" */
	int64_t last_start;
	struct agg_day *daily;	/* xgrow'd, days with failures, ascending */
	size_t n_daily, cap_daily;
};

/*
 * "How many reports carried X" needs the distinct (X, report) pairs.  The
 * scans return the rows of one report together (they are ordered by start,
 * then report), so a set of the current report's keys, emptied when the
 * report changes, is enough: memory follows one report, not the window.
 */
struct per_report {
	int64_t report;
	struct hmap seen;
};

struct build {
	struct agg_digest *d;
	int with_days;
	struct hmap orgs;	/* org -> struct org_acc* */
	struct hmap mx;		/* mx -> struct fail_acc* */
	struct hmap ips;	/* sending ip -> struct fail_acc* */
	struct hmap results;	/* result type -> struct agg_result* */
	struct hmap domains;	/* domain -> struct agg_domain* */
	struct hmap policies;	/* "domain\ntype" -> struct agg_policy* */
	struct hmap ptypes;	/* type -> struct agg_ptype* */
	struct per_report pol;	/* "domain\ntype", "\ntype" of this report */
	struct per_report fail;	/* result types of this report */
	struct hmap intern;	/* string -> its copy in the digest's arena */
	struct agg_report *reports;	/* malloc'd while scanning */
	size_t n_reports, cap_reports;
};

static const char *
intern(struct build *b, const char *s)
{
	int created;
	void **slot = hmap_slot(&b->intern, s, &created);

	if (created)
		*slot = arena_strdup(&b->d->arena, s);
	return *slot;
}

/* True the first time `key` is seen within report `report`. */
static int
first_in_report(struct per_report *p, int64_t report, const char *key)
{
	int created;

	if (p->report != report) {
		hmap_release(&p->seen);
		hmap_init(&p->seen);
		p->report = report;
	}
	hmap_slot(&p->seen, key, &created);
	return created;
}

static void
build_init(struct build *b, struct agg_digest *d, int with_days)
{
	memset(b, 0, sizeof(*b));
	b->d = d;
	b->with_days = with_days;
	hmap_init(&b->orgs);
	hmap_init(&b->mx);
	hmap_init(&b->ips);
	hmap_init(&b->results);
	hmap_init(&b->domains);
	hmap_init(&b->policies);
	hmap_init(&b->ptypes);
	hmap_init(&b->pol.seen);
	hmap_init(&b->fail.seen);
	hmap_init(&b->intern);
	b->pol.report = b->fail.report = -1;
}

static void
free_fail_accs(struct hmap *m)
{
	size_t pos = 0;
	struct hmap_entry *e;

	while ((e = hmap_next(m, &pos))) {
		struct fail_acc *a = e->value;

		free(a->results);
		free(a->orgs);
		free(a);
	}
	hmap_release(m);
}

static void
build_release(struct build *b)
{
	size_t pos = 0;
	struct hmap_entry *e;

	while ((e = hmap_next(&b->orgs, &pos))) {
		struct org_acc *o = e->value;

		free(o->daily);
	}
	hmap_release(&b->orgs);
	free_fail_accs(&b->mx);
	free_fail_accs(&b->ips);
	hmap_release(&b->results);
	hmap_release(&b->domains);
	hmap_release(&b->policies);
	hmap_release(&b->ptypes);
	hmap_release(&b->pol.seen);
	hmap_release(&b->fail.seen);
	hmap_release(&b->intern);
	free(b->reports);
}

static struct org_acc *
org_entry(struct build *b, const char *org)
{
	int created;
	void **slot = hmap_slot(&b->orgs, org, &created);

	if (created) {
		struct org_acc *o = arena_alloc(&b->d->arena, sizeof(*o));

		o->o.org = arena_strdup(&b->d->arena, org);
		*slot = o;
	}
	return *slot;
}

static struct agg_day *
day_of(struct build *b, int64_t start)
{
	int64_t i = (time_day_floor(start) - time_day_floor(b->d->from)) / DAY_SECS;

	if (!b->with_days || i < 0 || (size_t)i >= b->d->n_days)
		return NULL;
	return &b->d->days[i];
}

static int
on_report(const struct store_report_row *r, void *ctx)
{
	struct build *b = ctx;
	struct org_acc *o;
	struct agg_day *day;

	struct agg_report *ar;
	int ignored;

	/* one row per report: the copy that counts */
	o = org_entry(b, r->org);
	/* RFC 8460 §3: a report without a valid signature "MUST be ignored" */
	ignored = b->d->dkim_require && r->dkim != DKIMV_PASS;
	b->reports = xgrow(b->reports, &b->cap_reports, b->n_reports + 1,
			   sizeof(*b->reports));
	ar = &b->reports[b->n_reports++];
	ar->org = o->o.org;
	ar->report_id = arena_strdup(&b->d->arena, r->report_id);
	ar->start = r->start;
	ar->end = r->end;
	ar->dkim = r->dkim;
	ar->dkim_domain = r->dkim_domain ? intern(b, r->dkim_domain) : NULL;
	ar->dkim_detail = r->dkim_detail ? intern(b, r->dkim_detail) : NULL;
	ar->ignored = ignored;
	ar->contents = r->copies;
	if (r->copies > 1) {
		o->o.dkim.conflicts++;
		b->d->totals.dkim.conflicts++;
	}
	if (r->dkim == DKIMV_PASS) {
		o->o.dkim.verified++;
		b->d->totals.dkim.verified++;
	} else {
		o->o.dkim.unverified++;
		b->d->totals.dkim.unverified++;
	}
	if (ignored) {
		o->o.dkim.ignored++;
		b->d->totals.dkim.ignored++;
		return 0;
	}
	b->d->totals.reports++;
	o->o.reports++;
	if (r->start > o->last_start)
		o->last_start = r->start;
	if ((day = day_of(b, r->start)))
		day->reports++;
	return 0;
}

/* The union of two sorted "a+b" type lists, sorted; x itself when y adds
 * nothing (most rows), so that the arena does not grow per row. */
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
	r = strcmp(buf_cstr(&out), x) == 0 ? x : arena_strndup(a, buf_cstr(&out),
								 out.len);
	buf_release(&out);
	free(all);
	return r;
}

static int
on_domain(const struct store_domain_row *r, void *ctx)
{
	struct build *b = ctx;
	struct org_acc *o = org_entry(b, r->org);
	struct agg_domain *d;
	struct agg_day *day, *last;
	int created;
	void **slot;

	o->o.successful = count_add(o->o.successful, r->successful);
	o->o.failed = count_add(o->o.failed, r->failed);
	b->d->totals.successful = count_add(b->d->totals.successful,
					    r->successful);
	b->d->totals.failed = count_add(b->d->totals.failed, r->failed);
	if ((day = day_of(b, r->start))) {
		day->successful = count_add(day->successful, r->successful);
		day->failed = count_add(day->failed, r->failed);
		if (r->failed) {
			/* rows come in start order: days only grow */
			if (!o->n_daily || o->daily[o->n_daily - 1].day != day->day) {
				o->daily = xgrow(o->daily, &o->cap_daily,
						 o->n_daily + 1, sizeof(*o->daily));
				memset(&o->daily[o->n_daily], 0, sizeof(*o->daily));
				o->daily[o->n_daily++].day = day->day;
			}
			last = &o->daily[o->n_daily - 1];
			last->failed = count_add(last->failed, r->failed);
		}
	}
	slot = hmap_slot(&b->domains, r->domain, &created);
	if (created) {
		d = arena_alloc(&b->d->arena, sizeof(*d));
		d->domain = arena_strdup(&b->d->arena, r->domain);
		d->types = arena_strdup(&b->d->arena, r->types);
		*slot = d;
	}
	d = *slot;
	d->successful = count_add(d->successful, r->successful);
	d->failed = count_add(d->failed, r->failed);
	if (strcmp(d->types, r->types) != 0)
		d->types = merge_types(&b->d->arena, d->types, r->types);
	return 0;
}

static int
on_policy(const struct store_policy_row *r, void *ctx)
{
	struct build *b = ctx;
	char *key = xasprintf("%s\n%s", r->domain, r->type);
	char *tkey = xasprintf("\n%s", r->type);	/* no domain has a "" name */
	int created;
	void **slot = hmap_slot(&b->policies, key, &created);
	struct agg_policy *p;
	struct agg_ptype *t;

	if (created) {
		p = arena_alloc(&b->d->arena, sizeof(*p));
		p->domain = arena_strdup(&b->d->arena, r->domain);
		p->type = arena_strdup(&b->d->arena, r->type);
		*slot = p;
	}
	p = *slot;
	p->successful = count_add(p->successful, r->successful);
	p->failed = count_add(p->failed, r->failed);
	if (first_in_report(&b->pol, r->report, key))
		p->reports++;

	slot = hmap_slot(&b->ptypes, r->type, &created);
	if (created) {
		t = arena_alloc(&b->d->arena, sizeof(*t));
		t->type = arena_strdup(&b->d->arena, r->type);
		*slot = t;
	}
	t = *slot;
	t->successful = count_add(t->successful, r->successful);
	t->failed = count_add(t->failed, r->failed);
	if (first_in_report(&b->pol, r->report, tkey))
		t->reports++;
	free(key);
	free(tkey);
	return 0;
}

static void
fail_add(struct build *b, struct hmap *m, const char *key,
	 const struct store_fail_row *r)
{
	const char *type = intern(b, r->result_type), *org = intern(b, r->org);
	int created;
	void **slot = hmap_slot(m, key, &created);
	struct fail_acc *a;
	size_t i;

	if (created)
		*slot = xcalloc(1, sizeof(*a));
	a = *slot;
	a->failed = count_add(a->failed, r->count);
	for (i = 0; i < a->n_results && a->results[i].type != type; i++)
		;
	if (i == a->n_results) {
		a->results = xgrow(a->results, &a->cap_results, i + 1,
				   sizeof(*a->results));
		a->results[i].type = type;
		a->results[i].failed = 0;
		a->n_results++;
	}
	a->results[i].failed = count_add(a->results[i].failed, r->count);
	for (i = 0; i < a->n_orgs && a->orgs[i] != org; i++)
		;
	if (i == a->n_orgs) {
		a->orgs = xgrow(a->orgs, &a->cap_orgs, i + 1, sizeof(*a->orgs));
		a->orgs[a->n_orgs++] = org;
	}
}

static const char *
mx_of(const struct store_fail_row *r)
{
	return r->receiving_mx ? r->receiving_mx
	       : r->receiving_ip ? r->receiving_ip : "";
}

static int
on_failure(const struct store_fail_row *r, void *ctx)
{
	struct build *b = ctx;
	struct agg_result *res;
	int created;
	void **slot;

	fail_add(b, &b->mx, mx_of(r), r);
	fail_add(b, &b->ips, r->sending_ip ? r->sending_ip : "", r);
	{
		struct org_acc *oe = org_entry(b, r->org);

		oe->detail_failed = count_add(oe->detail_failed, r->count);
	}

	slot = hmap_slot(&b->results, r->result_type, &created);
	if (created) {
		res = arena_alloc(&b->d->arena, sizeof(*res));
		res->result_type = arena_strdup(&b->d->arena, r->result_type);
		*slot = res;
	}
	res = *slot;
	res->failed = count_add(res->failed, r->count);
	if (first_in_report(&b->fail, r->report, r->result_type))
		res->reports++;
	return 0;
}

/* ---- sorting ----------------------------------------------------------- */

#define BY_FAILED(a, b) \
	if ((a)->failed != (b)->failed) return (a)->failed < (b)->failed ? 1 : -1

/* By start, then identity (organization, report-id, as bytes: the same
 * reports stored in another order, or in another store, list alike; a
 * window holds one counted copy of an identity). */
static int
cmp_report(const void *x, const void *y)
{
	const struct agg_report *a = x, *b = y;
	int c;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if ((c = strcmp(a->org, b->org)))
		return c;
	return strcmp(a->report_id, b->report_id);
}

static int
cmp_org(const void *x, const void *y)
{
	const struct agg_org *a = x, *b = y;

	BY_FAILED(a, b);
	return strcmp(a->org, b->org);
}

static int
cmp_mx(const void *x, const void *y)
{
	const struct agg_mx *a = x, *b = y;

	BY_FAILED(a, b);
	return strcmp(a->mx, b->mx);
}

static int
cmp_ip(const void *x, const void *y)
{
	const struct agg_ip *a = x, *b = y;

	BY_FAILED(a, b);
	return strcmp(a->ip, b->ip);
}

static int
cmp_mx_result(const void *x, const void *y)
{
	const struct agg_mx_result *a = x, *b = y;

	BY_FAILED(a, b);
	return strcmp(a->result_type, b->result_type);
}

static int
cmp_result(const void *x, const void *y)
{
	const struct agg_result *a = x, *b = y;

	BY_FAILED(a, b);
	return strcmp(a->result_type, b->result_type);
}

static int
cmp_domain(const void *x, const void *y)
{
	const struct agg_domain *a = x, *b = y;

	BY_FAILED(a, b);
	return strcmp(a->domain, b->domain);
}

static int
cmp_policy(const void *x, const void *y)
{
	const struct agg_policy *a = x, *b = y;
	int c;

	BY_FAILED(a, b);
	if ((c = strcmp(a->domain, b->domain)))
		return c;
	return strcmp(a->type, b->type);
}

static int
cmp_ptype(const void *x, const void *y)
{
	const struct agg_ptype *a = x, *b = y;

	BY_FAILED(a, b);
	return strcmp(a->type, b->type);
}

static int
cmp_new_pair(const void *x, const void *y)
{
	const struct agg_new_pair *a = x, *b = y;
	int c;

	BY_FAILED(a, b);
	if ((c = strcmp(a->mx, b->mx)))
		return c;
	return strcmp(a->result_type, b->result_type);
}

static int
cmp_new_org(const void *x, const void *y)
{
	const struct agg_new_org *a = x, *b = y;

	BY_FAILED(a, b);
	return strcmp(a->org, b->org);
}

static int
cmp_silent(const void *x, const void *y)
{
	const struct agg_silent *a = x, *b = y;

	if (a->prev_reports != b->prev_reports)
		return a->prev_reports < b->prev_reports ? 1 : -1;
	return strcmp(a->org, b->org);
}

/* ---- from accumulators to sorted arrays -------------------------------- */

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

/* The result types of one accumulator, sorted. */
static struct agg_mx_result *
fail_results(struct arena *ar, const struct fail_acc *a, size_t *n)
{
	struct agg_mx_result *v = arena_array(ar, a->n_results ? a->n_results : 1,
					      sizeof(*v));
	size_t k;

	for (k = 0; k < a->n_results; k++) {
		v[k].result_type = a->results[k].type;
		v[k].failed = a->results[k].failed;
	}
	qsort(v, a->n_results, sizeof(*v), cmp_mx_result);
	*n = a->n_results;
	return v;
}

static const char **
fail_orgs(struct arena *ar, const struct fail_acc *a, size_t *n)
{
	const char **v = arena_array(ar, a->n_orgs ? a->n_orgs : 1, sizeof(char *));

	memcpy(v, a->orgs, a->n_orgs * sizeof(char *));
	qsort(v, a->n_orgs, sizeof(char *), cmp_str_p);
	*n = a->n_orgs;
	return v;
}

static void
finish_mx(struct build *b)
{
	struct agg_digest *d = b->d;
	struct hmap_entry *e;
	size_t pos = 0, i = 0;

	d->mx = arena_array(&d->arena, b->mx.count ? b->mx.count : 1, sizeof(*d->mx));
	while ((e = hmap_next(&b->mx, &pos))) {
		struct fail_acc *a = e->value;
		struct agg_mx *x = &d->mx[i++];

		x->mx = arena_strdup(&d->arena, e->key);
		x->failed = a->failed;
		x->results = fail_results(&d->arena, a, &x->n_results);
		if (x->n_results) {
			x->top_result = x->results[0].result_type;
			x->top_result_failed = x->results[0].failed;
		}
		x->orgs = fail_orgs(&d->arena, a, &x->n_orgs);
	}
	d->n_mx = i;
	qsort(d->mx, d->n_mx, sizeof(*d->mx), cmp_mx);
}

static void
finish_ips(struct build *b)
{
	struct agg_digest *d = b->d;
	struct hmap_entry *e;
	size_t pos = 0, i = 0, n;

	d->ips = arena_array(&d->arena, b->ips.count ? b->ips.count : 1,
			     sizeof(*d->ips));
	while ((e = hmap_next(&b->ips, &pos))) {
		struct fail_acc *a = e->value;
		struct agg_ip *x = &d->ips[i++];
		struct agg_mx_result *res = fail_results(&d->arena, a, &n);

		x->ip = arena_strdup(&d->arena, e->key);
		x->failed = a->failed;
		x->top_result = n ? res[0].result_type : NULL;
		x->orgs = fail_orgs(&d->arena, a, &x->n_orgs);
	}
	d->n_ips = i;
	qsort(d->ips, d->n_ips, sizeof(*d->ips), cmp_ip);
}

static void
finish_orgs(struct build *b)
{
	struct agg_digest *d = b->d;
	struct hmap_entry *e;
	size_t pos = 0, i = 0;

	d->orgs = arena_array(&d->arena, b->orgs.count ? b->orgs.count : 1,
			      sizeof(*d->orgs));
	while ((e = hmap_next(&b->orgs, &pos))) {
		struct org_acc *o = e->value;
		struct agg_org *x = &d->orgs[i++];

		*x = o->o;
		if (o->n_daily) {
			x->daily = arena_array(&d->arena, o->n_daily, sizeof(*x->daily));
			memcpy(x->daily, o->daily, o->n_daily * sizeof(*x->daily));
			x->n_daily = o->n_daily;
		}
	}
	d->n_orgs = i;
	qsort(d->orgs, d->n_orgs, sizeof(*d->orgs), cmp_org);
	d->totals.organizations = d->n_orgs;
}

static void
store_filter_of(const struct agg_query *q, int64_t from, int64_t to,
		struct store_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->dkim_pass = q->dkim_require;
	f->from = from;
	f->to = to;
	f->domain = q->domain;
	f->org = q->org;
	f->mx = q->mx;
}

/* Tells the store which scans scan_window() of [from, to) will ask for,
 * with the same filters. */
static int
window_ahead(struct store *s, const struct agg_query *q, int64_t from,
	     int64_t to, struct mxd_err *err)
{
	struct store_filter f;

	store_filter_of(q, from, to, &f);
	f.dkim_pass = 0;
	if (store_scan_ahead(s, &f, STORE_AHEAD_REPORTS, err) < 0)
		return -1;
	f.dkim_pass = q->dkim_require;
	return store_scan_ahead(s, &f, STORE_AHEAD_DOMAINS |
				STORE_AHEAD_POLICIES | STORE_AHEAD_FAILURES,
				err);
}

/*
 * Builds the tables of [from, to) into d (whose arena must be set up);
 * `b` is left for the caller to read (the org accumulators) and release.
 */
static int
scan_window(struct store *s, const struct agg_query *q, int64_t from, int64_t to,
	    int with_days, struct agg_digest *d, struct build *b,
	    struct mxd_err *err)
{
	struct store_filter f;
	size_t i;

	d->from = from;
	d->to = to;
	if (with_days && to > from) {
		int64_t first = time_day_floor(from), last = time_day_floor(to - 1);

		d->n_days = (size_t)((last - first) / DAY_SECS + 1);
		d->days = arena_array(&d->arena, d->n_days, sizeof(*d->days));
		for (i = 0; i < d->n_days; i++)
			d->days[i].day = first + (int64_t)i * DAY_SECS;
	}
	build_init(b, d, with_days && d->n_days);
	d->dkim_require = q->dkim_require;
	d->dkim_off = q->dkim_off;
	store_filter_of(q, from, to, &f);
	/* every report, to count the ignored ones too; the rest only what
	 * is counted */
	f.dkim_pass = 0;
	if (store_scan_reports(s, &f, on_report, b, err) < 0)
		return -1;
	f.dkim_pass = q->dkim_require;
	if (store_scan_domains(s, &f, on_domain, b, err) < 0 ||
	    store_scan_policies(s, &f, on_policy, b, err) < 0 ||
	    store_scan_failures(s, &f, on_failure, b, err) < 0)
		return -1;

	finish_orgs(b);
	d->n_reports = b->n_reports;
	d->reports = arena_array(&d->arena, b->n_reports ? b->n_reports : 1,
				 sizeof(*d->reports));
	if (b->n_reports)
		memcpy(d->reports, b->reports, b->n_reports * sizeof(*d->reports));
	/* the store gives them in no order: by what they are */
	qsort(d->reports, d->n_reports, sizeof(*d->reports), cmp_report);
	d->results = collect(&d->arena, &b->results, sizeof(*d->results),
			     &d->n_results);
	qsort(d->results, d->n_results, sizeof(*d->results), cmp_result);
	d->domains = collect(&d->arena, &b->domains, sizeof(*d->domains),
			     &d->n_domains);
	qsort(d->domains, d->n_domains, sizeof(*d->domains), cmp_domain);
	d->policies = collect(&d->arena, &b->policies, sizeof(*d->policies),
			      &d->n_policies);
	qsort(d->policies, d->n_policies, sizeof(*d->policies), cmp_policy);
	d->ptypes = collect(&d->arena, &b->ptypes, sizeof(*d->ptypes),
			    &d->n_ptypes);
	qsort(d->ptypes, d->n_ptypes, sizeof(*d->ptypes), cmp_ptype);
	finish_mx(b);
	finish_ips(b);
	return 0;
}

/* ---- the previous window: deltas and silent reporters ------------------ */

/* name -> index into an array of structs whose first member is the name */
static void
index_names(struct hmap *m, void *rows, size_t n, size_t elem)
{
	size_t i;

	hmap_init(m);
	for (i = 0; i < n; i++) {
		const char *name = *(const char *const *)
			((const unsigned char *)rows + i * elem);

		*hmap_slot(m, name, NULL) = (unsigned char *)rows + i * elem;
	}
}

static void
join_previous(struct agg_digest *d, struct agg_digest *p,
	      const struct build *pb)
{
	struct hmap m;
	size_t i;

	d->prev = p->totals;
	d->prev.quarantined = 0;

	index_names(&m, p->orgs, p->n_orgs, sizeof(*p->orgs));
	for (i = 0; i < d->n_orgs; i++) {
		const struct agg_org *o = hmap_get(&m, d->orgs[i].org);

		if (o) {
			d->orgs[i].prev_reports = o->reports;
			d->orgs[i].prev_successful = o->successful;
			d->orgs[i].prev_failed = o->failed;
		}
	}
	hmap_release(&m);

	/* silent: reported before, not now */
	index_names(&m, d->orgs, d->n_orgs, sizeof(*d->orgs));
	d->silent = arena_array(&d->arena, p->n_orgs ? p->n_orgs : 1,
				sizeof(*d->silent));
	for (i = 0; i < p->n_orgs; i++) {
		const struct agg_org *o = &p->orgs[i];
		const struct org_acc *acc = hmap_get(&pb->orgs, o->org);
		struct agg_silent *x;

		if (!o->reports || hmap_get(&m, o->org))
			continue;
		x = &d->silent[d->n_silent++];
		x->org = arena_strdup(&d->arena, o->org);
		x->prev_reports = o->reports;
		x->last_start = acc ? acc->last_start : 0;
	}
	qsort(d->silent, d->n_silent, sizeof(*d->silent), cmp_silent);
	hmap_release(&m);

	index_names(&m, p->mx, p->n_mx, sizeof(*p->mx));
	for (i = 0; i < d->n_mx; i++) {
		const struct agg_mx *x = hmap_get(&m, d->mx[i].mx);

		d->mx[i].prev_failed = x ? x->failed : 0;
	}
	hmap_release(&m);

	index_names(&m, p->ips, p->n_ips, sizeof(*p->ips));
	for (i = 0; i < d->n_ips; i++) {
		const struct agg_ip *x = hmap_get(&m, d->ips[i].ip);

		d->ips[i].prev_failed = x ? x->failed : 0;
	}
	hmap_release(&m);

	index_names(&m, p->results, p->n_results, sizeof(*p->results));
	for (i = 0; i < d->n_results; i++) {
		const struct agg_result *x = hmap_get(&m, d->results[i].result_type);

		d->results[i].prev_failed = x ? x->failed : 0;
	}
	hmap_release(&m);

	index_names(&m, p->domains, p->n_domains, sizeof(*p->domains));
	for (i = 0; i < d->n_domains; i++) {
		const struct agg_domain *x = hmap_get(&m, d->domains[i].domain);

		if (x) {
			d->domains[i].prev_successful = x->successful;
			d->domains[i].prev_failed = x->failed;
		}
	}
	hmap_release(&m);

	index_names(&m, p->ptypes, p->n_ptypes, sizeof(*p->ptypes));
	for (i = 0; i < d->n_ptypes; i++) {
		const struct agg_ptype *x = hmap_get(&m, d->ptypes[i].type);

		d->ptypes[i].prev_failed = x ? x->failed : 0;
	}
	hmap_release(&m);
}

/* ---- history: what failed in the four windows before ------------------- */

struct history {
	struct hmap pairs;	/* "mx\nresult" -> 1 */
	struct hmap orgs;	/* org with failures -> 1 */
};

static int
hist_failure(const struct store_fail_row *r, void *ctx)
{
	struct history *h = ctx;
	char *key = xasprintf("%s\n%s", mx_of(r), r->result_type);

	/* a present key must have a non-NULL value for hmap_get() */
	*hmap_slot(&h->pairs, key, NULL) = h;
	*hmap_slot(&h->orgs, r->org, NULL) = h;
	free(key);
	return 0;
}

static int
hist_org(const char *org, void *ctx)
{
	struct history *h = ctx;

	*hmap_slot(&h->orgs, org, NULL) = h;
	return 0;
}

static int
find_new(struct store *s, const struct agg_query *q, struct agg_digest *d,
	 const struct build *b, struct mxd_err *err)
{
	struct history h;
	struct store_filter f;
	size_t i, k, n;
	int rc = -1;

	hmap_init(&h.pairs);
	hmap_init(&h.orgs);
	store_filter_of(q, d->hist_from, d->from, &f);
	if (store_failure_kinds(s, &f, hist_failure, &h, err) < 0 ||
	    store_failing_orgs(s, &f, hist_org, &h, err) < 0)
		goto out;

	for (n = 0, i = 0; i < d->n_mx; i++)
		n += d->mx[i].n_results;
	d->new_pairs = arena_array(&d->arena, n ? n : 1, sizeof(*d->new_pairs));
	for (i = 0; i < d->n_mx; i++) {
		struct agg_mx *m = &d->mx[i];

		for (k = 0; k < m->n_results; k++) {
			char *key = xasprintf("%s\n%s", m->mx, m->results[k].result_type);

			if (!hmap_get(&h.pairs, key)) {
				struct agg_new_pair *p = &d->new_pairs[d->n_new_pairs++];

				m->results[k].is_new = 1;
				p->mx = m->mx;
				p->result_type = m->results[k].result_type;
				p->failed = m->results[k].failed;
			}
			free(key);
		}
	}
	qsort(d->new_pairs, d->n_new_pairs, sizeof(*d->new_pairs), cmp_new_pair);

	d->new_orgs = arena_array(&d->arena, d->n_orgs ? d->n_orgs : 1,
				  sizeof(*d->new_orgs));
	for (i = 0; i < d->n_orgs; i++) {
		struct agg_org *o = &d->orgs[i];
		const struct org_acc *acc = hmap_get(&b->orgs, o->org);
		uint64_t detail = acc ? acc->detail_failed : 0;

		if ((o->failed || detail) && !hmap_get(&h.orgs, o->org)) {
			struct agg_new_org *x = &d->new_orgs[d->n_new_orgs++];

			o->new_failures = 1;
			x->org = o->org;
			x->failed = o->failed ? o->failed : detail;
		}
	}
	qsort(d->new_orgs, d->n_new_orgs, sizeof(*d->new_orgs), cmp_new_org);
	rc = 0;
out:
	hmap_release(&h.pairs);
	hmap_release(&h.orgs);
	return rc;
}

/* ---- quarantine and alerts --------------------------------------------- */

struct qlist {
	struct agg_digest *d;
	struct agg_qitem *v;
	size_t n, cap;
};

static int
on_qitem(const struct store_qitem *q, void *ctx)
{
	struct qlist *l = ctx;
	struct arena *a = &l->d->arena;
	struct agg_qitem *x;

	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	x = &l->v[l->n++];
	x->id = q->id;
	x->created = q->created;
	x->size = q->size;
	x->source = arena_strdup(a, q->source ? q->source : "");
	x->name = q->name ? arena_strdup(a, q->name) : NULL;
	x->reason = arena_strdup(a, q->reason ? q->reason : "");
	return 0;
}

static int
read_quarantine(struct store *s, struct agg_digest *d, struct mxd_err *err)
{
	struct qlist l = {d, NULL, 0, 0};
	int rc = store_quarantine_list(s, on_qitem, &l, err);

	if (rc == 0 && l.n) {
		d->quarantine = arena_array(&d->arena, l.n, sizeof(*l.v));
		memcpy(d->quarantine, l.v, l.n * sizeof(*l.v));
		d->n_quarantine = l.n;
	}
	free(l.v);
	return rc;
}

static void
check_alerts(struct agg_digest *d, const struct agg_alert_rules *r)
{
	const struct agg_totals *t = &d->totals;
	double rate = agg_fail_rate(t->successful, t->failed);
	char a[32], b[32];

	d->alerts = arena_array(&d->arena, 8, sizeof(char *));
	if (r->fail_rate_set && t->failed && rate > r->fail_rate)
		d->alerts[d->n_alerts++] = arena_printf(&d->arena,
			"failure rate %.1f%% is above %g%%", rate, r->fail_rate);
	if (r->min_failures && t->failed >= r->min_failures)
		d->alerts[d->n_alerts++] = arena_printf(&d->arena,
			"%s failed sessions (alert at %s)",
			str_thousands(t->failed, a), str_thousands(r->min_failures, b));
	if (r->on_new && (d->n_new_pairs || d->n_new_orgs))
		d->alerts[d->n_alerts++] = arena_printf(&d->arena,
			"new failures: %zu MX host and result type pair%s, "
			"%zu organization%s", d->n_new_pairs,
			d->n_new_pairs == 1 ? "" : "s", d->n_new_orgs,
			d->n_new_orgs == 1 ? "" : "s");
	if (r->on_silent && d->n_silent)
		d->alerts[d->n_alerts++] = arena_printf(&d->arena,
			"%zu organization%s stopped reporting", d->n_silent,
			d->n_silent == 1 ? "" : "s");
	if (r->on_unverified && t->dkim.unverified)
		d->alerts[d->n_alerts++] = arena_printf(&d->arena,
			"%s report%s from mail without a valid DKIM signature%s",
			str_thousands(t->dkim.unverified, a),
			t->dkim.unverified == 1 ? "" : "s",
			t->dkim.ignored ? " (ignored)" : "");
	if (r->on_conflict && t->dkim.conflicts)
		d->alerts[d->n_alerts++] = arena_printf(&d->arena,
			"%s report%s in conflict: another copy with other content "
			"came", str_thousands(t->dkim.conflicts, a),
			t->dkim.conflicts == 1 ? "" : "s");
}

/* ---- configuration (the runs of check) -------------------------------- */

struct names {
	char **v;
	size_t n, cap;
};

static int
on_name(const char *name, void *ctx)
{
	struct names *l = ctx;

	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = xstrdup(name);
	return 0;
}

static int
has_finding(const struct store_check_run *r, const struct store_check_finding *f)
{
	size_t i;

	for (i = 0; i < r->n_f; i++)
		if (strcmp(r->f[i].code, f->code) == 0 &&
		    strcmp(r->f[i].subject, f->subject) == 0)
			return 1;
	return 0;
}

static void
check_item(struct arena *a, struct agg_check_item *it,
	   const struct store_check_finding *f, enum agg_change ch)
{
	it->level = f->level;
	it->code = arena_strdup(a, f->code);
	it->subject = arena_strdup(a, f->subject);
	it->text = arena_strdup(a, f->text);
	it->dnssec = f->dnssec;
	it->since = f->since;
	it->change = ch;
}

int
agg_check_latest(struct store *s, const char *domain, int64_t before,
		 struct arena *a, struct agg_check *c, struct mxd_err *err)
{
	struct store_check_run last, prev;
	size_t j, n;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = store_check_runs(s, domain, before, &last, &prev, err)) <= 0) {
		store_check_run_release(&last);
		store_check_run_release(&prev);
		return rc;
	}
	c->domain = arena_strdup(a, last.domain);
	c->at = last.at;
	c->worst = last.worst;
	c->incomplete = last.incomplete;
	c->prev_at = prev.id ? prev.at : 0;
	c->items = arena_array(a, last.n_f + prev.n_f + 1, sizeof(*c->items));
	for (j = 0; j < last.n_f; j++) {
		const struct store_check_finding *f = &last.f[j];

		check_item(a, &c->items[c->n_items++], f, !prev.id ? AGG_FIRST :
			   has_finding(&prev, f) ? AGG_SAME : AGG_NEW);
		if (f->level == 2)
			c->errors++;
		else if (f->level == 1)
			c->warnings++;
	}
	/* what the run before found wrong and this one does not */
	for (j = 0, n = prev.id ? prev.n_f : 0; j < n; j++)
		if (prev.f[j].level > 0 && !has_finding(&last, &prev.f[j]))
			check_item(a, &c->items[c->n_items++], &prev.f[j],
				   AGG_RESOLVED);
	store_check_run_release(&last);
	store_check_run_release(&prev);
	return 1;
}

void
agg_check_from_result(const struct check_result *r, struct arena *a,
		      struct agg_check *c)
{
	size_t j;

	memset(c, 0, sizeof(*c));
	c->domain = arena_strdup(a, r->domain);
	c->at = r->at;
	c->worst = (int)r->worst;
	c->incomplete = r->incomplete;
	c->items = arena_array(a, r->n_f + 1, sizeof(*c->items));
	for (j = 0; j < r->n_f; j++) {
		struct agg_check_item *it = &c->items[c->n_items++];

		it->level = (int)r->f[j].level;
		it->code = arena_strdup(a, r->f[j].code);
		it->subject = arena_strdup(a, r->f[j].subject);
		it->text = arena_strdup(a, r->f[j].text);
		it->dnssec = (int)r->f[j].dnssec;
		it->since = r->at;
		it->change = AGG_FIRST;
		if (it->level == CHECK_ERROR)
			c->errors++;
		else if (it->level == CHECK_WARNING)
			c->warnings++;
	}
}

static int
read_checks(struct store *s, struct agg_digest *d, int64_t to,
	    struct mxd_err *err)
{
	struct names l = {NULL, 0, 0};
	size_t i;
	int rc = 0;

	if (store_check_domains(s, d->from, to, on_name, &l, err) < 0)
		rc = -1;
	d->checks = arena_array(&d->arena, l.n ? l.n : 1, sizeof(*d->checks));
	for (i = 0; i < l.n && rc == 0; i++) {
		if (d->f_domain && str_casecmp(d->f_domain, l.v[i]) != 0)
			continue;
		if (agg_check_latest(s, l.v[i], to - 1, &d->arena,
				     &d->checks[d->n_checks], err) < 0)
			rc = -1;
		else
			d->n_checks++;
	}
	for (i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return rc;
}

/* The filter of agg_digest_details() */
static void
digest_filter(const struct agg_digest *d, struct store_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->dkim_pass = d->dkim_require;
	f->from = d->from;
	f->to = d->to;
	f->domain = d->f_domain;
	f->org = d->f_org;
	f->mx = d->f_mx;
}

int
agg_build(struct store *s, const struct agg_query *q, struct agg_digest *d,
	  struct mxd_err *err)
{
	struct agg_digest p;
	struct build b, pb;
	int64_t len = q->to - q->from;
	int rc = -1, hist;

	memset(d, 0, sizeof(*d));
	memset(&p, 0, sizeof(p));
	arena_init(&d->arena);
	arena_init(&p.arena);
	d->store = s;
	d->prev_from = q->from - len;
	d->prev_to = q->from;
	d->hist_from = q->from - AGG_HISTORY_WINDOWS * len;
	d->f_domain = q->domain ? arena_strdup(&d->arena, q->domain) : NULL;
	d->f_org = q->org ? arena_strdup(&d->arena, q->org) : NULL;
	d->f_mx = q->mx ? arena_strdup(&d->arena, q->mx) : NULL;

	/* every scan below at once: on a server, it works on the next while
	 * the rows of one are read (find_new() is asked for the weeks
	 * before even when there are none: then they cost nothing) */
	{
		struct store_filter hf;

		store_filter_of(q, d->hist_from, q->from, &hf);
		if (window_ahead(s, q, q->from, q->to, err) < 0 ||
		    window_ahead(s, q, d->prev_from, d->prev_to, err) < 0 ||
		    store_scan_ahead(s, &hf, STORE_AHEAD_FAIL_KINDS |
				     STORE_AHEAD_FAILING_ORGS, err) < 0)
			goto out;
		/* scan_window() sets the same again */
		d->from = q->from;
		d->to = q->to;
		d->dkim_require = q->dkim_require;
		digest_filter(d, &hf);
		if (q->details &&
		    store_scan_ahead(s, &hf, STORE_AHEAD_DETAILS, err) < 0)
			goto out;
	}
	if (scan_window(s, q, q->from, q->to, 1, d, &b, err) < 0) {
		build_release(&b);
		goto out;
	}
	if (scan_window(s, q, d->prev_from, d->prev_to, 0, &p, &pb, err) < 0) {
		build_release(&pb);
		build_release(&b);
		goto out;
	}
	join_previous(d, &p, &pb);
	build_release(&pb);

	if ((hist = store_has_reports_before(s, q->from, err)) < 0) {
		build_release(&b);
		goto out;
	}
	d->has_history = hist;
	if (hist && find_new(s, q, d, &b, err) < 0) {
		build_release(&b);
		goto out;
	}
	build_release(&b);

	d->totals.quarantined = store_quarantine_count(s, err);
	if (d->totals.quarantined < 0 || read_quarantine(s, d, err) < 0)
		goto out;
	d->from = q->from;
	d->to = q->to;
	if (read_checks(s, d, q->checks_to > q->to ? q->checks_to : q->to, err) < 0)
		goto out;
	check_alerts(d, &q->alerts);
	rc = 0;
out:
	arena_release(&p.arena);
	if (rc < 0)
		agg_digest_release(d);
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

/* ---- details as sent --------------------------------------------------- */

int
agg_digest_details(const struct agg_digest *d, agg_detail_fn fn, void *ctx,
		   struct mxd_err *err)
{
	struct store_filter f;

	digest_filter(d, &f);
	return store_scan_details(d->store, &f, fn, ctx, err);
}

int
agg_digest_details_count(const struct agg_digest *d, uint64_t *n,
			 struct mxd_err *err)
{
	struct store_filter f;

	digest_filter(d, &f);
	return store_count_details(d->store, &f, n, err);
}

size_t
agg_org_cells(const struct agg_digest *d, const struct agg_org *o,
	      uint64_t *cells, size_t ncells)
{
	size_t per, n, i;
	int64_t first;

	if (!d->n_days || !ncells)
		return 0;
	per = (d->n_days + ncells - 1) / ncells;
	n = (d->n_days + per - 1) / per;
	memset(cells, 0, n * sizeof(*cells));
	first = d->days[0].day;
	for (i = 0; i < o->n_daily; i++) {
		size_t k = (size_t)((o->daily[i].day - first) / DAY_SECS) / per;

		if (k < n)
			cells[k] = count_add(cells[k], o->daily[i].failed);
	}
	return n;
}
