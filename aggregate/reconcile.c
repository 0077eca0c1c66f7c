/*
 * reconcile.c — the reports of the last RECON_DAYS days of one domain
 * against its check (see reconcile.h).
 */
#include "aggregate/reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "check/record.h"
#include "util/hash.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define DAY 86400

/* What the failure rows say about one MX host. */
struct mxstat {
	uint64_t failed, expired, fetch_err;
	int64_t first_expired, last_expired, last_fetch_err;
	char host[256];
};

struct scan {
	struct hmap mx;		/* lower-case host -> struct mxstat */
	uint64_t fetch_err;
	int64_t last_fetch_err;
	uint64_t reports_quiet;	/* policy rows in the last quiet days */
	/* policy strings */
	const struct sts_policy *now;
	uint64_t differ, same;
	int64_t last_differ;
	char differ_org[128];
};

static int
on_fail(const struct store_fail_row *row, void *ctx)
{
	struct scan *sc = ctx;
	const char *h = row->receiving_mx ? row->receiving_mx : row->receiving_ip;
	char key[256];
	void **slot;
	int created;
	struct mxstat *m;
	size_t n;

	if (strcmp(row->result_type, "sts-policy-fetch-error") == 0) {
		sc->fetch_err += row->count;
		if (row->start > sc->last_fetch_err)
			sc->last_fetch_err = row->start;
	}
	if (!h || !*h)
		return 0;
	snprintf(key, sizeof(key), "%s", h);
	str_lower(key);
	n = strlen(key);
	while (n && key[n - 1] == '.')
		key[--n] = '\0';
	slot = hmap_slot(&sc->mx, key, &created);
	if (!*slot) {
		m = xcalloc(1, sizeof(*m));
		snprintf(m->host, sizeof(m->host), "%s", key);
		*slot = m;
	}
	m = *slot;
	m->failed += row->count;
	if (strcmp(row->result_type, "certificate-expired") == 0) {
		m->expired += row->count;
		if (!m->first_expired || row->start < m->first_expired)
			m->first_expired = row->start;
		if (row->start > m->last_expired)
			m->last_expired = row->start;
	}
	return 0;
}

static int
cmp_mxstat(const void *x, const void *y)
{
	const struct mxstat *a = *(const struct mxstat *const *)x;
	const struct mxstat *b = *(const struct mxstat *const *)y;

	return strcmp(a->host, b->host);
}

/* The hosts of the map, sorted: the findings come in the same order
 * whatever order the rows were stored in (the map's own order follows
 * the order of insertion where keys collide). */
static struct mxstat **
sorted_hosts(const struct hmap *m, size_t *n)
{
	struct mxstat **v = xcalloc(m->count ? m->count : 1, sizeof(*v));
	struct hmap_entry *e;
	size_t pos = 0;

	*n = 0;
	while ((e = hmap_next(m, &pos)))
		v[(*n)++] = e->value;
	qsort(v, *n, sizeof(*v), cmp_mxstat);
	return v;
}

static int
on_policy(const struct store_policy_row *row, void *ctx)
{
	struct scan *sc = ctx;

	(void)row;
	sc->reports_quiet++;
	return 0;
}

static int
on_pstring(const char *org, int64_t start, const char *strings, void *ctx)
{
	struct scan *sc = ctx;
	struct sts_policy p;
	struct rec_problems pr;
	char *copy = xstrdup(strings), **lines = NULL, *s, *nl;
	size_t n = 0, cap = 0;

	for (s = copy; s; s = nl) {
		nl = strchr(s, '\n');
		if (nl)
			*nl++ = '\0';
		lines = xgrow(lines, &cap, n + 1, sizeof(*lines));
		lines[n++] = s;
	}
	rec_problems_init(&pr);
	if (sts_policy_parse_lines((const char *const *)lines, n, &p, &pr) == 0 &&
	    !sts_policy_same(&p, sc->now)) {
		sc->differ++;
		if (start >= sc->last_differ) {
			sc->last_differ = start;
			snprintf(sc->differ_org, sizeof(sc->differ_org), "%s", org);
		}
	} else {
		sc->same++;
	}
	sts_policy_release(&p);
	rec_problems_release(&pr);
	free(lines);
	free(copy);
	return 0;
}

static void
day(int64_t t, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

/* Is host published (an MX record) or at least allowed by the policy? */
static int
known_mx(const struct check_result *r, const char *host)
{
	size_t i;

	for (i = 0; i < r->n_mx; i++)
		if (str_casecmp(r->mx[i].host, host) == 0)
			return 1;
	for (i = 0; i < r->n_policy_mx; i++)
		if (sts_mx_match(r->policy_mx[i], host))
			return 1;
	return 0;
}

int
agg_reconcile(struct store *s, struct check_result *r, int64_t now,
	      struct mxd_err *err)
{
	struct store_filter f;
	struct scan sc;
	struct sts_policy pol;
	struct rec_problems pr;
	struct hmap_entry *e;
	struct mxstat **hosts;
	size_t pos = 0, i, k, n_hosts;
	char a[16], b[16], n1[32];
	int rc = -1, have_pol = 0;

	memset(&sc, 0, sizeof(sc));
	hmap_init(&sc.mx);
	memset(&f, 0, sizeof(f));
	f.domain = r->domain;
	f.from = now - (int64_t)RECON_DAYS * DAY;
	f.to = now + DAY;
	if (store_scan_failures(s, &f, on_fail, &sc, err) < 0)
		goto out;
	f.from = now - (int64_t)RECON_QUIET_DAYS * DAY;
	if (store_scan_policies(s, &f, on_policy, &sc, err) < 0)
		goto out;
	f.from = now - (int64_t)RECON_DAYS * DAY;
	rec_problems_init(&pr);
	if (r->policy && sts_policy_parse(r->policy, strlen(r->policy), &pol,
					  &pr) == 0) {
		have_pol = 1;
		sc.now = &pol;
		if (store_scan_policy_strings(s, &f, on_pstring, &sc, err) < 0) {
			sts_policy_release(&pol);
			rec_problems_release(&pr);
			goto out;
		}
	}
	rec_problems_release(&pr);

	if (r->has_tlsrpt && sc.reports_quiet == 0)
		check_add(r, CHECK_WARNING, "recon.no-reports", CHECK_DNSSEC_NONE,
			  r->domain, "no report for %s in the last %d days although "
			  "its TLS-RPT record is in place: is the reporting mailbox "
			  "fetched, and do big senders deliver to it?", r->domain,
			  RECON_QUIET_DAYS);
	hosts = sorted_hosts(&sc.mx, &n_hosts);
	for (k = 0; k < n_hosts; k++) {
		struct mxstat *m = hosts[k];

		if ((r->n_mx || r->n_policy_mx) && !known_mx(r, m->host))
			check_add(r, CHECK_WARNING, "recon.mx-unknown",
				  CHECK_DNSSEC_NONE, m->host, "reports of the last "
				  "%d days name MX %s (%s failed sessions), which %s "
				  "does not publish now and its MTA-STS policy does not "
				  "name: senders still use an old MX (cached records?)",
				  RECON_DAYS, m->host, str_thousands(m->failed, n1),
				  r->domain);
		if (m->expired) {
			const struct check_mx *probe = NULL;

			for (i = 0; i < r->n_mx; i++)
				if (str_casecmp(r->mx[i].host, m->host) == 0)
					probe = &r->mx[i];
			day(m->first_expired, a);
			day(m->last_expired, b);
			if (probe && probe->probed && probe->cert_expired) {
				char exp[16];

				day(probe->not_after, exp);
				check_add(r, CHECK_ERROR, "recon.cert-expired",
					  CHECK_DNSSEC_NONE, m->host, "%s has failed "
					  "certificate-expired since %s (%s sessions, "
					  "last %s); its certificate expired on %s%s",
					  m->host, a, str_thousands(m->expired, n1), b,
					  exp, probe->covered == 1 ? "; it is still in "
					  "the MTA-STS policy" : "");
			} else if (probe && probe->probed) {
				check_add(r, CHECK_OK, "recon.cert-renewed",
					  CHECK_DNSSEC_NONE, m->host, "%s failed "
					  "certificate-expired from %s to %s (%s "
					  "sessions); its certificate is valid now",
					  m->host, a, b, str_thousands(m->expired, n1));
			}
		}
	}
	free(hosts);
	for (i = 0; i < r->n_mx; i++)
		if (!hmap_get(&sc.mx, r->mx[i].host) && sc.reports_quiet)
			check_add(r, CHECK_OK, "recon.mx-quiet", CHECK_DNSSEC_NONE,
				  r->mx[i].host, "no report of the last %d days names "
				  "MX %s: no failure seen there", RECON_DAYS,
				  r->mx[i].host);
	if (sc.fetch_err) {
		day(sc.last_fetch_err, a);
		if (r->policy_failed)
			check_add(r, CHECK_ERROR, "recon.policy-fetch",
				  CHECK_DNSSEC_NONE, r->domain, "senders report "
				  "sts-policy-fetch-error (%s sessions, last %s), and the "
				  "policy fetch fails now too (see above)",
				  str_thousands(sc.fetch_err, n1), a);
		else
			check_add(r, CHECK_WARNING, "recon.policy-fetch-past",
				  CHECK_DNSSEC_NONE, r->domain, "senders reported "
				  "sts-policy-fetch-error (%s sessions, last %s); the "
				  "policy fetch works now", str_thousands(sc.fetch_err, n1),
				  a);
	}
	if (sc.differ) {
		day(sc.last_differ, a);
		check_add(r, CHECK_WARNING, "recon.policy-changed", CHECK_DNSSEC_NONE,
			  r->domain, "%s report%s of the last %d days (last: %s, "
			  "%s) carry an MTA-STS policy that differs from the one "
			  "served now: the policy changed, or senders use a cached "
			  "one (did the TXT id change with it?)",
			  str_thousands(sc.differ, n1), sc.differ == 1 ? "" : "s",
			  RECON_DAYS, sc.differ_org, a);
	}
	rc = 0;
out:
	if (have_pol)
		sts_policy_release(&pol);
	pos = 0;
	while ((e = hmap_next(&sc.mx, &pos)))
		free(e->value);
	hmap_release(&sc.mx);
	return rc;
}
