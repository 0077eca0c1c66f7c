/*
 * dns.c — lookups through libunbound with a deadline, cached for the run
 * (see dns.h).  RFC 1035 §3.3.14: a TXT record is one or more
 * <length><bytes> character-strings; RFC 6376 §3.6.2.2 and RFC 8460 §3
 * read a record as their concatenation.
 */
#include "dns/dns.h"

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unbound.h>

#include "util/hash.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define SLICE_MS 200		/* the longest wait between two looks at stop */
#define RR_TXT 16
#define CLASS_IN 1

/* A cached answer. */
struct answer {
	enum dns_status status;
	char **records;
	size_t n;
	int secure;
	char why[200];
};

struct dns {
	struct ub_ctx *ctx;
	int timeout_ms;
	const volatile int *stop;
	pthread_mutex_t mu;	/* one lookup at a time, and the cache */
	struct hmap cache;	/* name -> struct answer */
};

/* The state of one asynchronous query. */
struct query {
	int done, err;
	struct ub_result *res;
};

int
dns_resolver_parse(const char *s, char *out, size_t n)
{
	char addr[64], *end;
	const char *port = NULL, *p;
	unsigned char buf[sizeof(struct in6_addr)];
	size_t al;
	long v;

	if (!s || !*s)
		return -1;
	if (s[0] == '[') {
		p = strchr(s, ']');
		if (!p)
			return -1;
		al = (size_t)(p - s - 1);
		if (p[1] == ':' || p[1] == '@')
			port = p + 2;
		else if (p[1])
			return -1;
		s++;
	} else if ((p = strchr(s, '@'))) {
		al = (size_t)(p - s);
		port = p + 1;
	} else if ((p = strchr(s, ':')) && !strchr(p + 1, ':')) {
		al = (size_t)(p - s);	/* IPv4:PORT; a bare IPv6 has more */
		port = p + 1;
	} else {
		al = strlen(s);
	}
	if (al == 0 || al >= sizeof(addr))
		return -1;
	memcpy(addr, s, al);
	addr[al] = '\0';
	if (inet_pton(AF_INET, addr, buf) != 1 && inet_pton(AF_INET6, addr, buf) != 1)
		return -1;
	if (port) {
		v = strtol(port, &end, 10);
		if (end == port || *end || v < 1 || v > 65535)
			return -1;
		return snprintf(out, n, "%s@%ld", addr, v) < (int)n ? 0 : -1;
	}
	return snprintf(out, n, "%s", addr) < (int)n ? 0 : -1;
}

int
dns_open(const struct dns_opts *o, struct dns **out, struct mxd_err *err)
{
	struct dns *d;
	char fwd[80];
	int r;

	*out = NULL;
	d = xcalloc(1, sizeof(*d));
	d->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
	d->stop = o->stop;
	pthread_mutex_init(&d->mu, NULL);
	hmap_init(&d->cache);
	if (!(d->ctx = ub_ctx_create())) {
		dns_close(d);
		return mxd_err_set(err, MXD_E_INTERNAL, "libunbound: cannot create "
				   "a resolver");
	}
	if (o->resolver) {
		if (dns_resolver_parse(o->resolver, fwd, sizeof(fwd)) < 0) {
			dns_close(d);
			return mxd_err_set(err, MXD_E_CONFIG, "resolver \"%s\": not "
					   "ADDR, ADDR:PORT or [ADDR]:PORT",
					   o->resolver);
		}
		r = ub_ctx_set_fwd(d->ctx, fwd);
	} else {
		r = ub_ctx_resolvconf(d->ctx, NULL);
	}
	if (r != 0) {
		mxd_err_set(err, MXD_E_CONFIG, "resolver: %s", ub_strerror(r));
		dns_close(d);
		return -1;
	}
	/*
	 * RFC 6761 §6.2: libunbound answers every name under "test."
	 * NXDOMAIN itself, without asking anyone.  A lab or a test suite
	 * serves such names from its own server: let them through (a real
	 * resolver says NXDOMAIN for them anyway).  This call also
	 * finalizes the context, so it comes last.
	 */
	if ((r = ub_ctx_async(d->ctx, 1)) != 0 ||
	    (r = ub_ctx_zone_remove(d->ctx, "test")) != 0) {
		mxd_err_set(err, MXD_E_INTERNAL, "libunbound: %s", ub_strerror(r));
		dns_close(d);
		return -1;
	}
	*out = d;
	return 0;
}

static void
answer_free(struct answer *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		free(a->records[i]);
	free(a->records);
	free(a);
}

void
dns_close(struct dns *d)
{
	size_t pos = 0;
	struct hmap_entry *e;

	if (!d)
		return;
	while ((e = hmap_next(&d->cache, &pos)))
		answer_free(e->value);
	hmap_release(&d->cache);
	if (d->ctx)
		ub_ctx_delete(d->ctx);
	pthread_mutex_destroy(&d->mu);
	free(d);
}

static void
on_result(void *arg, int err, struct ub_result *res)
{
	struct query *q = arg;

	q->done = 1;
	q->err = err;
	q->res = res;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Splits the rdata of TXT records into joined strings. */
static void
read_txt(const struct ub_result *res, struct answer *a)
{
	size_t total = 0, cap = 0;
	int i;

	for (i = 0; res->data && res->data[i]; i++) {
		const unsigned char *p = (const unsigned char *)res->data[i];
		size_t len = (size_t)res->len[i], k = 0, o = 0;
		char *s = xmalloc(len + 1);
		int nul = 0;

		while (k < len) {
			size_t sl = p[k++];

			if (sl > len - k)
				break;	/* a truncated string: what came */
			memcpy(s + o, p + k, sl);
			nul |= memchr(p + k, '\0', sl) != NULL;
			o += sl;
			k += sl;
		}
		s[o] = '\0';
		total += o;
		if (nul || total > DNS_MAX_TXT) {
			free(s);
			continue;
		}
		a->records = xgrow(a->records, &cap, a->n + 1, sizeof(*a->records));
		a->records[a->n++] = s;
	}
}

static struct answer *
lookup(struct dns *d, const char *name, int rrtype)
{
	struct answer *a = xcalloc(1, sizeof(*a));
	struct query q = {0, 0, NULL};
	double start = now_ms(), left;
	int id, r;

	r = ub_resolve_async(d->ctx, name, rrtype, CLASS_IN, &q, on_result, &id);
	if (r != 0) {
		a->status = DNS_TEMPFAIL;
		snprintf(a->why, sizeof(a->why), "%s", ub_strerror(r));
		return a;
	}
	while (!q.done) {
		struct pollfd p;

		if (d->stop && *d->stop) {
			ub_cancel(d->ctx, id);
			a->status = DNS_STOPPED;
			snprintf(a->why, sizeof(a->why), "interrupted");
			return a;
		}
		left = d->timeout_ms - (now_ms() - start);
		if (left <= 0) {
			ub_cancel(d->ctx, id);
			a->status = DNS_TEMPFAIL;
			snprintf(a->why, sizeof(a->why), "no answer in %.1f s",
				 d->timeout_ms / 1000.0);
			return a;
		}
		p.fd = ub_fd(d->ctx);
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, left < SLICE_MS ? (int)left : SLICE_MS) > 0)
			ub_process(d->ctx);
	}
	if (q.err != 0) {
		a->status = DNS_TEMPFAIL;
		snprintf(a->why, sizeof(a->why), "%s", ub_strerror(q.err));
	} else if (q.res->bogus) {
		a->status = DNS_BOGUS;
		snprintf(a->why, sizeof(a->why), "DNSSEC: %s",
			 q.res->why_bogus ? q.res->why_bogus : "bogus");
	} else if (q.res->rcode == 3 || q.res->nxdomain) {
		a->status = DNS_NXDOMAIN;
		snprintf(a->why, sizeof(a->why), "no such name");
	} else if (q.res->rcode != 0) {
		a->status = DNS_TEMPFAIL;
		snprintf(a->why, sizeof(a->why), "the server answered rcode %d%s",
			 q.res->rcode, q.res->rcode == 2 ? " (SERVFAIL)" : "");
	} else if (!q.res->havedata) {
		a->status = DNS_NODATA;
		snprintf(a->why, sizeof(a->why), "no record of that type");
	} else {
		a->status = DNS_OK;
		a->secure = q.res->secure;
		read_txt(q.res, a);
		if (a->n == 0) {
			a->status = DNS_NODATA;
			snprintf(a->why, sizeof(a->why), "no usable record");
		}
	}
	ub_resolve_free(q.res);
	return a;
}

enum dns_status
dns_txt(struct dns *d, const char *name, struct dns_txt *out, struct mxd_err *err)
{
	struct answer *a;
	enum dns_status st;
	void **slot;
	char *key;
	size_t i;
	int created;

	memset(out, 0, sizeof(*out));
	key = xstrdup(name);
	str_lower(key);
	pthread_mutex_lock(&d->mu);
	slot = hmap_slot(&d->cache, key, &created);
	if (created || !*slot) {
		a = lookup(d, key, RR_TXT);
		/* an interruption is no answer: not kept */
		*slot = a->status == DNS_STOPPED ? NULL : a;
	} else {
		a = *slot;
	}
	out->secure = a->secure;
	if (a->status == DNS_OK) {
		out->records = xcalloc(a->n, sizeof(*out->records));
		for (i = 0; i < a->n; i++)
			out->records[i] = xstrdup(a->records[i]);
		out->n = a->n;
	} else {
		mxd_err_set(err, a->status == DNS_STOPPED ? MXD_E_INTERRUPTED
			    : MXD_E_NET, "%s TXT: %s", key, a->why);
	}
	st = a->status;
	if (!*slot)
		answer_free(a);
	pthread_mutex_unlock(&d->mu);
	free(key);
	return st;
}

void
dns_txt_release(struct dns_txt *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		free(t->records[i]);
	free(t->records);
	memset(t, 0, sizeof(*t));
}
