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
#define RR_A 1
#define RR_MX 15
#define RR_TXT 16
#define RR_AAAA 28
#define RR_TLSA 52
#define RR_DNSKEY 48
#define CLASS_IN 1
#define MAX_RDATA 4096		/* the longest rdata kept (TXT: DNS_MAX_TXT) */

/* A cached answer: the rdata of each record, parsed when asked. */
struct answer {
	enum dns_status status;
	unsigned char **rd;
	size_t *rdlen;
	size_t n;
	int secure;
	char why[200];
};

struct dns {
	struct ub_ctx *ctx;
	int validating;
	char note[300];		/* why validation is off, or "" */
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

static struct answer *lookup(struct dns *d, const char *name, int rrtype);
static void answer_free(struct answer *a);

/* A libunbound context for o, with `anchor` (NULL: none): 0 or -1. */
static int
make_ctx(struct dns *d, const struct dns_opts *o, const char *anchor,
	 struct mxd_err *err)
{
	char fwd[80];
	int r;

	if (!(d->ctx = ub_ctx_create()))
		return mxd_err_set(err, MXD_E_INTERNAL, "libunbound: cannot create "
				   "a resolver");
	if (o->resolver) {
		if (dns_resolver_parse(o->resolver, fwd, sizeof(fwd)) < 0)
			return mxd_err_set(err, MXD_E_CONFIG, "resolver \"%s\": not "
					   "ADDR, ADDR:PORT or [ADDR]:PORT",
					   o->resolver);
		r = ub_ctx_set_fwd(d->ctx, fwd);
	} else {
		r = ub_ctx_resolvconf(d->ctx, NULL);
	}
	if (r != 0)
		return mxd_err_set(err, MXD_E_CONFIG, "resolver: %s", ub_strerror(r));
	if (anchor) {
		if ((r = ub_ctx_add_ta_file(d->ctx, anchor)) != 0)
			return mxd_err_set(err, MXD_E_CONFIG, "trust anchor \"%s\": %s",
					   anchor, ub_strerror(r));
		d->validating = 1;
	}
	/*
	 * RFC 6761 §6.2: libunbound answers every name under "test."
	 * NXDOMAIN itself, without asking anyone.  A lab or a test suite
	 * serves such names from its own server: let them through (a real
	 * resolver says NXDOMAIN for them anyway).  This call also
	 * finalizes the context, so it comes last.
	 */
	if ((r = ub_ctx_async(d->ctx, 1)) != 0 ||
	    (r = ub_ctx_zone_remove(d->ctx, "test")) != 0)
		return mxd_err_set(err, MXD_E_INTERNAL, "libunbound: %s",
				   ub_strerror(r));
	return 0;
}

int
dns_open(const struct dns_opts *o, struct dns **out, struct mxd_err *err)
{
	struct dns *d;

	*out = NULL;
	d = xcalloc(1, sizeof(*d));
	d->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
	d->stop = o->stop;
	pthread_mutex_init(&d->mu, NULL);
	hmap_init(&d->cache);
	if (make_ctx(d, o, o->trust_anchor, err) < 0) {
		dns_close(d);
		return -1;
	}
	/*
	 * The root key by default: validation needs a resolver that passes
	 * DNSSEC records on.  Many do not (a forwarder that strips them, a
	 * lab server for private names), and then every answer would be
	 * bogus and every DKIM key a permerror.  So the root's DNSKEY is
	 * asked for once: unless it comes back secure, validation is off
	 * for the run and dns_validation_note() says why.
	 */
	if (o->trust_anchor && o->probe_anchor) {
		struct answer *a = lookup(d, ".", RR_DNSKEY);

		if (a->status != DNS_OK || !a->secure) {
			snprintf(d->note, sizeof(d->note), "the resolver gives no "
				 "validated root key: %s",
				 a->status == DNS_OK ? "insecure" : a->why);
			ub_ctx_delete(d->ctx);
			d->ctx = NULL;
			d->validating = 0;
			if (make_ctx(d, o, NULL, err) < 0) {
				answer_free(a);
				dns_close(d);
				return -1;
			}
		}
		answer_free(a);
	}
	*out = d;
	return 0;
}

const char *
dns_validation_note(const struct dns *d)
{
	return d->note;
}

static void
answer_free(struct answer *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		free(a->rd[i]);
	free(a->rd);
	free(a->rdlen);
	free(a);
}

int
dns_validating(const struct dns *d)
{
	return d->validating;
}

const char *
dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK:
		return "ok";
	case DNS_NXDOMAIN:
		return "no such name";
	case DNS_NODATA:
		return "no data";
	case DNS_TEMPFAIL:
		return "temporary failure";
	case DNS_BOGUS:
		return "DNSSEC bogus";
	case DNS_STOPPED:
		return "interrupted";
	}
	return "?";
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

/* Keeps the rdata of each record, up to DNS_MAX_RRS records. */
static void
keep_rdata(const struct ub_result *res, struct answer *a)
{
	int i;

	for (i = 0; res->data && res->data[i]; i++) {
		size_t len = (size_t)res->len[i];

		if (a->n >= DNS_MAX_RRS)
			break;
		if (len > MAX_RDATA + DNS_MAX_TXT)
			continue;
		a->rd = xrealloc(a->rd, (a->n + 1) * sizeof(*a->rd));
		a->rdlen = xrealloc(a->rdlen, (a->n + 1) * sizeof(*a->rdlen));
		a->rd[a->n] = xmalloc(len ? len : 1);
		memcpy(a->rd[a->n], res->data[i], len);
		a->rdlen[a->n++] = len;
	}
}

/*
 * RFC 1035 §3.3.14: the character-strings of one TXT record, joined; NULL
 * for a record with a NUL in it or beyond DNS_MAX_TXT.
 */
static char *
txt_join(const unsigned char *p, size_t len)
{
	size_t k = 0, o = 0;
	char *s;

	if (len > DNS_MAX_TXT + DNS_MAX_TXT / 255 + 1)
		return NULL;
	s = xmalloc(len + 1);
	while (k < len) {
		size_t sl = p[k++];

		if (sl > len - k)
			break;	/* a truncated string: what came */
		if (memchr(p + k, '\0', sl)) {
			free(s);
			return NULL;
		}
		memcpy(s + o, p + k, sl);
		o += sl;
		k += sl;
	}
	s[o] = '\0';
	if (o > DNS_MAX_TXT) {
		free(s);
		return NULL;
	}
	return s;
}

/*
 * A domain name in wire format (RFC 1035 §3.1; libunbound hands rdata
 * uncompressed) as lower-case text without the final dot: "" for the
 * root.  Returns the bytes read, 0 for a malformed name or one with
 * characters no host name has (letters, digits, '-', '_', '*').
 */
static size_t
wire_name(const unsigned char *p, size_t len, char *out, size_t cap)
{
	size_t k = 0, o = 0;

	for (;;) {
		size_t ll, j;

		if (k >= len)
			return 0;
		ll = p[k++];
		if (ll == 0)
			break;
		if (ll > 63 || ll > len - k || o + ll + 2 > cap)
			return 0;
		if (o)
			out[o++] = '.';
		for (j = 0; j < ll; j++) {
			unsigned char c = p[k + j];

			if (c >= 'A' && c <= 'Z')
				c = (unsigned char)(c - 'A' + 'a');
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			      c == '-' || c == '_' || c == '*'))
				return 0;
			out[o++] = (char)c;
		}
		k += ll;
	}
	out[o] = '\0';
	return k;
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
		q.res = NULL;
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
		keep_rdata(q.res, a);
		if (a->n == 0) {
			a->status = DNS_NODATA;
			snprintf(a->why, sizeof(a->why), "no usable record");
		}
	}
	a->secure = q.res && q.res->secure && !q.res->bogus;
	ub_resolve_free(q.res);
	return a;
}

/*
 * The cached answer for (name, type), looked up on a miss; called with
 * the lock held.  An interruption is no answer and is not kept: the
 * caller frees what *tmp points to.
 */
static struct answer *
cached(struct dns *d, const char *name, int rrtype, struct answer **tmp)
{
	char key[300];
	void **slot;
	int created;
	struct answer *a;

	*tmp = NULL;
	snprintf(key, sizeof(key), "%d/%s", rrtype, name);
	slot = hmap_slot(&d->cache, key, &created);
	if (!created && *slot)
		return *slot;
	a = lookup(d, name, rrtype);
	if (a->status == DNS_STOPPED)
		*tmp = a;
	else
		*slot = a;
	return a;
}

/* The lower-cased name; -1 (err) when it is too long to be one. */
static int
norm_name(const char *name, char *out, size_t cap, struct mxd_err *err)
{
	size_t n = strlen(name);

	if (n == 0 || n >= cap || n > 254) {
		mxd_err_set(err, MXD_E_NET, "\"%.60s\": not a domain name", name);
		return -1;
	}
	memcpy(out, name, n + 1);
	str_lower(out);
	return 0;
}

static enum dns_status
failed(const struct answer *a, const char *name, const char *type,
       struct mxd_err *err)
{
	mxd_err_set(err, a->status == DNS_STOPPED ? MXD_E_INTERRUPTED : MXD_E_NET,
		    "%s %s: %s", name, type, a->why);
	return a->status;
}

enum dns_status
dns_txt(struct dns *d, const char *name, struct dns_txt *out, struct mxd_err *err)
{
	struct answer *a, *tmp;
	enum dns_status st;
	char key[256];
	size_t i;

	memset(out, 0, sizeof(*out));
	if (norm_name(name, key, sizeof(key), err) < 0)
		return DNS_NXDOMAIN;
	pthread_mutex_lock(&d->mu);
	a = cached(d, key, RR_TXT, &tmp);
	out->secure = a->secure;
	if (a->status == DNS_OK) {
		out->records = xcalloc(a->n, sizeof(*out->records));
		for (i = 0; i < a->n; i++) {
			char *s = txt_join(a->rd[i], a->rdlen[i]);

			if (s)
				out->records[out->n++] = s;
		}
		st = DNS_OK;
		if (out->n == 0) {
			free(out->records);
			out->records = NULL;
			st = DNS_NODATA;
			mxd_err_set(err, MXD_E_NET, "%s TXT: no usable record", key);
		}
	} else {
		st = failed(a, key, "TXT", err);
	}
	pthread_mutex_unlock(&d->mu);
	answer_free(tmp);
	return st;
}

enum dns_status
dns_mx(struct dns *d, const char *name, struct dns_mx *out, struct mxd_err *err)
{
	struct answer *a, *tmp;
	enum dns_status st = DNS_OK;
	char key[256], host[256];
	size_t i;

	memset(out, 0, sizeof(*out));
	if (norm_name(name, key, sizeof(key), err) < 0)
		return DNS_NXDOMAIN;
	pthread_mutex_lock(&d->mu);
	a = cached(d, key, RR_MX, &tmp);
	out->secure = a->secure;
	if (a->status != DNS_OK) {
		st = failed(a, key, "MX", err);
	} else {
		out->v = xcalloc(a->n, sizeof(*out->v));
		for (i = 0; i < a->n; i++) {
			const unsigned char *p = a->rd[i];
			size_t len = a->rdlen[i];

			/* RFC 1035 §3.3.9: PREFERENCE (16 bits), EXCHANGE */
			if (len < 3 || wire_name(p + 2, len - 2, host, sizeof(host)) == 0)
				continue;
			out->v[out->n].pref = (unsigned)p[0] << 8 | p[1];
			out->v[out->n++].host = xstrdup(host);
		}
		if (out->n == 0) {
			st = DNS_NODATA;
			mxd_err_set(err, MXD_E_NET, "%s MX: no usable record", key);
		}
	}
	pthread_mutex_unlock(&d->mu);
	answer_free(tmp);
	return st;
}

void
dns_mx_release(struct dns_mx *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n; i++)
		free(m->v[i].host);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static void
add_addrs(const struct answer *a, int af, struct dns_addrs *out)
{
	char s[INET6_ADDRSTRLEN];
	size_t i, want = af == AF_INET ? 4 : 16;

	for (i = 0; i < a->n && out->n < DNS_MAX_RRS; i++) {
		if (a->rdlen[i] != want || !inet_ntop(af, a->rd[i], s, sizeof(s)))
			continue;
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = xstrdup(s);
	}
}

enum dns_status
dns_addrs(struct dns *d, const char *name, struct dns_addrs *out,
	  struct mxd_err *err)
{
	struct answer *a4, *a6, *t4, *t6;
	enum dns_status st;
	char key[256];

	memset(out, 0, sizeof(*out));
	if (norm_name(name, key, sizeof(key), err) < 0)
		return DNS_NXDOMAIN;
	pthread_mutex_lock(&d->mu);
	a4 = cached(d, key, RR_A, &t4);
	a6 = a4->status == DNS_STOPPED ? a4 : cached(d, key, RR_AAAA, &t6);
	if (a6 == a4)
		t6 = NULL;
	if (a4->status == DNS_OK)
		add_addrs(a4, AF_INET, out);
	if (a6->status == DNS_OK)
		add_addrs(a6, AF_INET6, out);
	out->secure = (a4->status == DNS_OK || a6->status == DNS_OK) ?
	    (a4->status != DNS_OK || a4->secure) && (a6->status != DNS_OK || a6->secure) :
	    a4->secure && a6->secure;
	if (out->n) {
		st = DNS_OK;
	} else if (a4->status == DNS_STOPPED || a4->status == DNS_TEMPFAIL ||
		   a4->status == DNS_BOGUS) {
		st = failed(a4, key, "A", err);
	} else if (a6->status == DNS_STOPPED || a6->status == DNS_TEMPFAIL ||
		   a6->status == DNS_BOGUS) {
		st = failed(a6, key, "AAAA", err);
	} else if (a4->status == DNS_OK || a6->status == DNS_OK) {
		st = DNS_NODATA;
		mxd_err_set(err, MXD_E_NET, "%s A/AAAA: no usable record", key);
	} else {
		st = failed(a4, key, "A/AAAA", err);
	}
	pthread_mutex_unlock(&d->mu);
	answer_free(t4);
	answer_free(t6);
	return st;
}

void
dns_addrs_release(struct dns_addrs *a)
{
	size_t i;

	if (!a)
		return;
	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

enum dns_status
dns_tlsa(struct dns *d, const char *name, struct dns_tlsa *out,
	 struct mxd_err *err)
{
	struct answer *a, *tmp;
	enum dns_status st = DNS_OK;
	char key[256];
	size_t i;

	memset(out, 0, sizeof(*out));
	if (norm_name(name, key, sizeof(key), err) < 0)
		return DNS_NXDOMAIN;
	pthread_mutex_lock(&d->mu);
	a = cached(d, key, RR_TLSA, &tmp);
	out->secure = a->secure;
	if (a->status != DNS_OK) {
		st = failed(a, key, "TLSA", err);
	} else {
		out->v = xcalloc(a->n, sizeof(*out->v));
		for (i = 0; i < a->n; i++) {
			const unsigned char *p = a->rd[i];
			size_t len = a->rdlen[i];
			struct dns_tlsa_rr *r;

			/* RFC 6698 §2.1: usage, selector, matching type, data */
			if (len < 4 || len > MAX_RDATA)
				continue;
			r = &out->v[out->n++];
			r->usage = p[0];
			r->selector = p[1];
			r->mtype = p[2];
			r->len = len - 3;
			r->data = xmalloc(r->len);
			memcpy(r->data, p + 3, r->len);
		}
		if (out->n == 0) {
			st = DNS_NODATA;
			mxd_err_set(err, MXD_E_NET, "%s TLSA: no usable record", key);
		}
	}
	pthread_mutex_unlock(&d->mu);
	answer_free(tmp);
	return st;
}

void
dns_tlsa_release(struct dns_tlsa *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		free(t->v[i].data);
	free(t->v);
	memset(t, 0, sizeof(*t));
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
