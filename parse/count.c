/*
 * count.c — the counting rules of docs/COUNTING.md, applied to one report.
 *
 * Policies of one type for one domain add up: they cover different sessions
 * (Google 2020 sent two "sts" policies on the day its policy changed).
 * Different policy types for one domain describe the same sessions
 * (Microsoft sends "sts" and "tlsa"): the domain's sessions are the largest
 * total among its types, its failures the largest failure total, and a
 * failure detail repeated under two types counts once, at its larger count.
 * "no-policy-found" is not a policy: a session that found none cannot also
 * have applied one, so those sessions add to the rest (the same Google report
 * has a no-policy-found entry beside its two "sts" entries).
 *
 * Every sum goes through count_add(): a report whose sums pass 2^53 (2,048
 * policies of 2^53 sessions would wrap a 64-bit total to 0) is refused by
 * the caller instead of being counted.
 */
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"
#include "util/buf.h"
#include "util/count.h"
#include "util/sha256.h"
#include "util/xalloc.h"

static int
is_no_policy(const char *type)
{
	return strcmp(type, "no-policy-found") == 0;
}

static int
cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

struct dom_ent {
	const char *domain, *type;
	uint64_t successful, failed;
};

static int
cmp_dom(const void *x, const void *y)
{
	const struct dom_ent *a = x, *b = y;
	int c = strcmp(a->domain, b->domain);

	return c ? c : strcmp(a->type, b->type);
}

struct fail_ent {
	const char *domain, *type;
	const struct tlsrpt_detail *d;
};

static int
cmp_fail_key(const struct fail_ent *a, const struct fail_ent *b)
{
	int c;

	if ((c = strcmp(a->domain, b->domain)) ||
	    (c = strcmp(a->d->result_type, b->d->result_type)) ||
	    (c = cmp_str(a->d->sending_ip, b->d->sending_ip)) ||
	    (c = cmp_str(a->d->receiving_mx, b->d->receiving_mx)) ||
	    (c = cmp_str(a->d->receiving_ip, b->d->receiving_ip)))
		return c;
	return 0;
}

static int
cmp_fail(const void *x, const void *y)
{
	const struct fail_ent *a = x, *b = y;
	int c = cmp_fail_key(a, b);

	return c ? c : strcmp(a->type, b->type);
}

static int
count_domains(struct tlsrpt *r, struct arena *a)
{
	struct dom_ent *e;
	size_t i, j, n = r->n_policies, nd = 0;
	struct buf types;
	int over = 0;

	r->domains = arena_array(a, n ? n : 1, sizeof(*r->domains));
	r->n_domains = 0;
	r->successful = r->failed = 0;
	if (!n)
		return 0;
	e = xmalloc(n * sizeof(*e));
	for (i = 0; i < n; i++) {
		e[i].domain = r->policies[i].domain;
		e[i].type = r->policies[i].type;
		e[i].successful = r->policies[i].successful;
		e[i].failed = r->policies[i].failed;
	}
	qsort(e, n, sizeof(*e), cmp_dom);
	buf_init(&types, BUF_NOCAP);
	for (i = 0; i < n; i = j) {
		uint64_t sessions = 0, failed = 0, np_s = 0, np_f = 0;
		struct tlsrpt_domain *d = &r->domains[nd++];

		buf_reset(&types);
		for (j = i; j < n && strcmp(e[j].domain, e[i].domain) == 0;) {
			size_t k;
			uint64_t s = 0, f = 0;

			/* same type: add up */
			for (k = j; k < n && strcmp(e[k].domain, e[i].domain) == 0 &&
				    strcmp(e[k].type, e[j].type) == 0; k++) {
				s = count_add(s, e[k].successful);
				f = count_add(f, e[k].failed);
			}
			if (is_no_policy(e[j].type)) {
				np_s = count_add(np_s, s);
				np_f = count_add(np_f, f);
			} else {
				/* different types: the same sessions, take the
				 * largest */
				sessions = count_max(sessions, count_add(s, f));
				failed = count_max(failed, f);
			}
			if (types.len)
				buf_addc(&types, '+');
			buf_adds(&types, e[j].type);
			j = k;
		}
		d->domain = e[i].domain;
		d->types = arena_strndup(a, buf_cstr(&types), types.len);
		d->failed = count_add(failed, np_f);
		/* sessions >= failed: the largest total includes its failures */
		d->successful = sessions > COUNT_MAX ? COUNT_OVER
			: count_add(sessions - failed, np_s);
		if (count_add(d->successful, d->failed) > COUNT_MAX)
			over = 1;
		r->successful = count_add(r->successful, d->successful);
		r->failed = count_add(r->failed, d->failed);
	}
	buf_release(&types);
	r->n_domains = nd;
	free(e);
	return over || count_add(r->successful, r->failed) > COUNT_MAX ? -1 : 0;
}

static int
count_failures(struct tlsrpt *r, struct arena *a)
{
	struct fail_ent *e;
	size_t i, j, k, n = 0, nf = 0;
	int over = 0;

	for (i = 0; i < r->n_policies; i++)
		n += r->policies[i].n_details;
	r->fails = arena_array(a, n ? n : 1, sizeof(*r->fails));
	r->n_fails = 0;
	if (!n)
		return 0;
	e = xmalloc(n * sizeof(*e));
	for (i = 0, k = 0; i < r->n_policies; i++) {
		const struct tlsrpt_policy *p = &r->policies[i];

		for (j = 0; j < p->n_details; j++, k++) {
			e[k].domain = p->domain;
			e[k].type = p->type;
			e[k].d = &p->details[j];
		}
	}
	qsort(e, n, sizeof(*e), cmp_fail);
	for (i = 0; i < n; i = j) {
		uint64_t best = 0, none = 0;

		for (j = i; j < n && cmp_fail_key(&e[j], &e[i]) == 0;) {
			uint64_t sum = 0;

			for (k = j; k < n && cmp_fail_key(&e[k], &e[i]) == 0 &&
				    strcmp(e[k].type, e[j].type) == 0; k++)
				sum = count_add(sum, e[k].d->count);
			if (is_no_policy(e[j].type))
				none = count_add(none, sum);
			else
				best = count_max(best, sum);
			j = k;
		}
		best = count_add(best, none);
		if (best > COUNT_MAX)
			over = 1;
		r->fails[nf].domain = e[i].domain;
		r->fails[nf].result_type = e[i].d->result_type;
		r->fails[nf].sending_ip = e[i].d->sending_ip;
		r->fails[nf].receiving_mx = e[i].d->receiving_mx;
		r->fails[nf].receiving_ip = e[i].d->receiving_ip;
		r->fails[nf].count = best;
		nf++;
	}
	r->n_fails = nf;
	free(e);
	return over ? -1 : 0;
}

int
tlsrpt_count(struct tlsrpt *r, struct arena *a)
{
	int d = count_domains(r, a), f = count_failures(r, a);

	return d < 0 || f < 0 ? -1 : 0;
}

/*
 * The content digest: every field read from the report, in order, each
 * with its length (a NULL string apart from ""), so that two reports that
 * say the same thing in other bytes (white space, key order, gzip) have one
 * digest and two that differ in anything they say do not.
 */
static void
dig_str(struct sha256 *c, const char *s)
{
	unsigned char n[9];
	size_t len = s ? strlen(s) : 0;
	int i;

	n[0] = s ? 1 : 0;
	for (i = 0; i < 8; i++)
		n[1 + i] = (unsigned char)((uint64_t)len >> (8 * i));
	sha256_update(c, n, sizeof(n));
	if (len)
		sha256_update(c, s, len);
}

static void
dig_u64(struct sha256 *c, uint64_t v)
{
	unsigned char n[8];
	int i;

	for (i = 0; i < 8; i++)
		n[i] = (unsigned char)(v >> (8 * i));
	sha256_update(c, n, sizeof(n));
}

void
tlsrpt_digest(const struct tlsrpt *r, unsigned char out[SHA256_LEN])
{
	struct sha256 c;
	size_t i, k;

	sha256_init(&c);
	dig_str(&c, r->org);
	dig_str(&c, r->contact);
	dig_str(&c, r->report_id);
	dig_u64(&c, (uint64_t)r->start);
	dig_u64(&c, (uint64_t)r->end);
	dig_u64(&c, r->n_policies);
	for (i = 0; i < r->n_policies; i++) {
		const struct tlsrpt_policy *p = &r->policies[i];

		dig_str(&c, p->type);
		dig_str(&c, p->domain);
		dig_u64(&c, p->n_strings);
		for (k = 0; k < p->n_strings; k++)
			dig_str(&c, p->strings[k]);
		dig_u64(&c, p->n_mx_hosts);
		for (k = 0; k < p->n_mx_hosts; k++)
			dig_str(&c, p->mx_hosts[k]);
		dig_u64(&c, p->successful);
		dig_u64(&c, p->failed);
		dig_u64(&c, p->n_details);
		for (k = 0; k < p->n_details; k++) {
			const struct tlsrpt_detail *d = &p->details[k];

			dig_str(&c, d->result_type);
			dig_str(&c, d->sending_ip);
			dig_str(&c, d->receiving_mx);
			dig_str(&c, d->receiving_helo);
			dig_str(&c, d->receiving_ip);
			dig_str(&c, d->additional_info);
			dig_str(&c, d->reason_code);
			dig_u64(&c, d->count);
		}
	}
	sha256_final(&c, out);
}
