/*
 * check.c — the checks of one domain (see check.h).  RFC 8460 §3 (the
 * TLS-RPT record and its destinations), RFC 8461 §3 and §4.1 (MTA-STS
 * record, policy, MX matching), RFC 7505 (null MX), RFC 5321 §5.1 (the
 * A/AAAA fallback when there is no MX), RFC 7672 (DANE for SMTP).
 */
#include "check/check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/dane.h"
#include "check/https.h"
#include "check/record.h"
#include "check/smtp.h"
#include "dns/dns.h"
#include "util/buf.h"
#include "util/strutil.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define MAX_MX_PROBED 10	/* MX hosts looked at over SMTP and TLSA */
#define TEXT_MAX 600

/* One domain's run. */
struct run {
	const struct check_opts *o;
	struct check_result *r;
	const char *d;		/* the domain */
	int validating;
	int stopped;
};

const char *
check_level_name(enum check_level l)
{
	return l == CHECK_ERROR ? "error" : l == CHECK_WARNING ? "warning" : "ok";
}

int
check_level_parse(const char *s)
{
	if (strcmp(s, "ok") == 0)
		return CHECK_OK;
	if (strcmp(s, "warning") == 0)
		return CHECK_WARNING;
	if (strcmp(s, "error") == 0)
		return CHECK_ERROR;
	return -1;
}

const char *
check_dnssec_name(enum check_dnssec s)
{
	switch (s) {
	case CHECK_SECURE:
		return "secure";
	case CHECK_INSECURE:
		return "insecure";
	case CHECK_BOGUS:
		return "bogus";
	case CHECK_DNSSEC_NONE:
		break;
	}
	return "";
}

static char *
clean_dup(const char *s, size_t max)
{
	struct buf b;
	size_t n = strlen(s);
	char *out;

	buf_init(&b, max * 4 + 8);
	(void)utf8_clean_text(&b, s, n > max ? max : n, UTF8_TAB_SPACE);
	if (n > max)
		buf_adds(&b, "…");
	out = xstrdup(buf_cstr(&b));
	buf_release(&b);
	return out;
}

void
check_add(struct check_result *r, enum check_level level, const char *code,
	  enum check_dnssec dnssec, const char *subject, const char *fmt, ...)
{
	struct check_finding *f;
	char text[TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r->f = xgrow(r->f, &r->cap_f, r->n_f + 1, sizeof(*r->f));
	f = &r->f[r->n_f++];
	f->level = level;
	f->code = code;
	f->dnssec = dnssec;
	f->subject = clean_dup(subject ? subject : "", 253);
	f->text = clean_dup(text, TEXT_MAX);
	if (level > r->worst)
		r->worst = level;
}

void
check_add_datum(struct check_result *r, const char *kind, const char *name,
		const char *value)
{
	struct check_datum *d;

	r->d = xgrow(r->d, &r->cap_d, r->n_d + 1, sizeof(*r->d));
	d = &r->d[r->n_d++];
	d->kind = xstrdup(kind);
	d->name = clean_dup(name, 253);
	/* a policy is kept with its line ends: only other controls go */
	{
		struct buf b;

		buf_init(&b, 4 * REC_MAX_POLICY + 8);
		(void)utf8_clean_text(&b, value, strlen(value), UTF8_KEEP_NL);
		d->value = xstrdup(buf_cstr(&b));
		buf_release(&b);
	}
}

void
check_sort(struct check_result *r)
{
	size_t i, j;

	/* insertion sort: stable, and the lists are short */
	for (i = 1; i < r->n_f; i++) {
		struct check_finding t = r->f[i];

		for (j = i; j > 0 && r->f[j - 1].level < t.level; j--)
			r->f[j] = r->f[j - 1];
		r->f[j] = t;
	}
}

static enum check_dnssec
sec_of(const struct run *u, enum dns_status st, int secure)
{
	if (st == DNS_BOGUS)
		return CHECK_BOGUS;
	if (!u->validating)
		return CHECK_DNSSEC_NONE;
	return secure ? CHECK_SECURE : CHECK_INSECURE;
}

/*
 * The common answers to a failed lookup: bogus is an error (a validating
 * sender sees nothing), a timeout or SERVFAIL leaves the item unchecked.
 * Returns 1 when it added a finding (the caller goes no further).
 */
static int
lookup_failed(struct run *u, enum dns_status st, const char *name,
	      const char *type, const char *code_unchecked,
	      const struct mxd_err *err)
{
	switch (st) {
	case DNS_BOGUS:
		check_add(u->r, CHECK_ERROR, "dnssec.bogus", CHECK_BOGUS, name,
			  "%s %s: DNSSEC validation failed (%s): validating "
			  "senders see nothing; fix the zone's signatures or DS",
			  name, type, err->text);
		return 1;
	case DNS_TEMPFAIL:
		u->r->incomplete = 1;
		check_add(u->r, CHECK_ERROR, code_unchecked, CHECK_DNSSEC_NONE, name,
			  "%s %s: not checked: %s", name, type, err->text);
		return 1;
	case DNS_STOPPED:
		u->stopped = 1;
		u->r->incomplete = 1;
		return 1;
	default:
		return 0;
	}
}

static void
add_problems(struct run *u, const struct rec_problems *pr, const char *subject,
	     enum check_dnssec sec)
{
	size_t i;

	for (i = 0; i < pr->n; i++)
		check_add(u->r, pr->v[i].level == REC_ERROR ? CHECK_ERROR :
			  CHECK_WARNING, pr->v[i].code, sec, subject, "%s",
			  pr->v[i].text);
	if (pr->more)
		check_add(u->r, pr->worst == REC_ERROR ? CHECK_ERROR : CHECK_WARNING,
			  pr->v[pr->n - 1].code, sec, subject,
			  "and %zu more problems of this record", pr->more);
}

/* A TXT record worth a warning when it is not a candidate: one that
 * looks like it was meant to be (a version tag elsewhere, another case). */
static int
meant_as(const char *txt, const char *tag)
{
	return mem_casemem(txt, strlen(txt), tag) != NULL;
}

static int
is_fetched(const struct run *u, const char *address)
{
	size_t i;

	for (i = 0; i < u->o->n_fetched; i++)
		if (str_casecmp(u->o->fetched[i], address) == 0)
			return 1;
	return 0;
}

static void
check_mailto(struct run *u, const struct tlsrpt_rua *a)
{
	struct dns_mx mx;
	struct dns_addrs ad;
	struct mxd_err err;
	enum dns_status st;

	mxd_err_clear(&err);
	st = dns_mx(u->o->dns, a->host, &mx, &err);
	if (lookup_failed(u, st, a->host, "MX", "rua.unchecked", &err))
		return;
	if (st == DNS_OK) {
		if (mx.n == 1 && mx.v[0].host[0] == '\0')
			check_add(u->r, CHECK_ERROR, "rua.mailto-null-mx",
				  sec_of(u, st, mx.secure), a->uri,
				  "%s: %s publishes a null MX (RFC 7505): it accepts "
				  "no mail, so no report can arrive; use an address "
				  "whose domain receives mail", a->uri, a->host);
		else
			check_add(u->r, CHECK_OK, "rua.mailto-ok",
				  sec_of(u, st, mx.secure), a->uri,
				  "%s: %s receives mail (%zu MX record%s)", a->uri,
				  a->host, mx.n, mx.n == 1 ? "" : "s");
		dns_mx_release(&mx);
		return;
	}
	/* RFC 5321 §5.1: no MX, the address records stand in */
	mxd_err_clear(&err);
	st = dns_addrs(u->o->dns, a->host, &ad, &err);
	if (lookup_failed(u, st, a->host, "A/AAAA", "rua.unchecked", &err))
		return;
	if (st == DNS_OK)
		check_add(u->r, CHECK_OK, "rua.mailto-ok", sec_of(u, st, ad.secure),
			  a->uri, "%s: %s has no MX but an address (%s): mail is "
			  "delivered there (RFC 5321 §5.1)", a->uri, a->host,
			  ad.v[0]);
	else
		check_add(u->r, CHECK_ERROR, "rua.mailto-no-mx",
			  sec_of(u, st, ad.secure), a->uri, "%s: %s has %s: reports "
			  "mailed there bounce; publish an MX for it or use "
			  "another address", a->uri, a->host,
			  st == DNS_NXDOMAIN ? "no DNS entry at all" :
			  "neither MX nor address records");
	dns_addrs_release(&ad);
}

static int
https_port(const struct run *u, int port)
{
	return u->o->https_port ? u->o->https_port : port ? port : 443;
}

static void
check_https_rua(struct run *u, const struct tlsrpt_rua *a)
{
	struct dns_addrs ad;
	struct mxd_err err;
	enum dns_status st;
	struct https_opts ho;
	struct https_result hr;

	mxd_err_clear(&err);
	st = dns_addrs(u->o->dns, a->host, &ad, &err);
	if (lookup_failed(u, st, a->host, "A/AAAA", "rua.unchecked", &err))
		return;
	if (st != DNS_OK) {
		check_add(u->r, CHECK_ERROR, "rua.https-dns", sec_of(u, st, ad.secure),
			  a->uri, "%s: %s has no address: reports posted there are "
			  "lost", a->uri, a->host);
		return;
	}
	memset(&ho, 0, sizeof(ho));
	ho.host = a->host;
	ho.addr = ad.v[0];
	ho.port = https_port(u, a->port);
	ho.timeout_ms = u->o->timeout_ms;
	ho.ca_file = u->o->ca_file;
	ho.handshake_only = 1;
	ho.max_body = 1;
	ho.stop = u->o->stop;
	if (https_get(&ho, &hr) == 0)
		check_add(u->r, CHECK_OK, "rua.https-ok", sec_of(u, st, ad.secure),
			  a->uri, "%s: TLS handshake with %s (%s) verified", a->uri,
			  a->host, ad.v[0]);
	else if (hr.fail == HTTPS_STOPPED)
		u->stopped = 1;
	else if (hr.fail == HTTPS_TIMEOUT) {
		u->r->incomplete = 1;
		check_add(u->r, CHECK_ERROR, "rua.unchecked", CHECK_DNSSEC_NONE,
			  a->uri, "%s: not checked: %s", a->uri, hr.error);
	} else
		check_add(u->r, CHECK_ERROR, hr.fail == HTTPS_TLS ? "rua.https-tls" :
			  "rua.https-connect", sec_of(u, st, ad.secure), a->uri,
			  "%s: %s (%s): %s: senders cannot post reports there",
			  a->uri, a->host, ad.v[0], hr.error);
	https_result_release(&hr);
	dns_addrs_release(&ad);
}

static void
check_tlsrpt(struct run *u)
{
	char name[300];
	struct dns_txt t;
	struct mxd_err err;
	enum dns_status st;
	enum check_dnssec sec;
	struct tlsrpt_record rec;
	struct rec_problems pr;
	size_t i, cand = 0, which = 0, fetched = 0;
	struct buf list;

	snprintf(name, sizeof(name), "_smtp._tls.%s", u->d);
	mxd_err_clear(&err);
	st = dns_txt(u->o->dns, name, &t, &err);
	sec = sec_of(u, st, t.secure);
	if (lookup_failed(u, st, name, "TXT", "tlsrpt.unchecked", &err))
		return;
	for (i = 0; i < t.n; i++) {
		check_add_datum(u->r, "tlsrpt-txt", name, t.records[i]);
		if (tlsrpt_txt_candidate(t.records[i], strlen(t.records[i]))) {
			cand++;
			which = i;
		} else if (meant_as(t.records[i], "TLSRPT")) {
			char *q = clean_dup(t.records[i], 60);

			check_add(u->r, CHECK_WARNING, "tlsrpt.ignored", sec, name,
				  "\"%s\" does not begin with \"v=TLSRPTv1\": senders "
				  "ignore it (RFC 8460 §3); put the version first", q);
			free(q);
		}
	}
	if (cand == 0) {
		check_add(u->r, CHECK_ERROR, "tlsrpt.missing", sec, name,
			  "no TLS-RPT record at %s: senders send no reports; "
			  "publish a TXT record \"v=TLSRPTv1; rua=mailto:ADDRESS\"",
			  name);
		dns_txt_release(&t);
		return;
	}
	if (cand > 1) {
		check_add(u->r, CHECK_ERROR, "tlsrpt.multiple", sec, name,
			  "%zu TXT records at %s begin with \"v=TLSRPTv1\": senders "
			  "use none of them (RFC 8460 §3); keep one", cand, name);
		dns_txt_release(&t);
		return;
	}
	rec_problems_init(&pr);
	if (tlsrpt_record_parse(t.records[which], strlen(t.records[which]), &rec,
				&pr) == 0) {
		u->r->has_tlsrpt = 1;
		check_add(u->r, CHECK_OK, "tlsrpt.ok", sec, name, "TLS-RPT record: "
			  "%zu reporting address%s", rec.n_rua,
			  rec.n_rua == 1 ? "" : "es");
	}
	add_problems(u, &pr, name, sec);
	rec_problems_release(&pr);
	buf_init(&list, 4096);
	for (i = 0; i < rec.n_rua && !u->stopped; i++) {
		const struct tlsrpt_rua *a = &rec.rua[i];

		if (!a->usable)
			continue;
		if (a->kind == RUA_MAILTO && a->host) {
			check_mailto(u, a);
			if (a->address) {
				if (is_fetched(u, a->address))
					fetched++;
				buf_printf(&list, "%s%s", list.len ? ", " : "",
					   a->address);
			}
		} else if (a->kind == RUA_HTTPS && a->host) {
			check_https_rua(u, a);
		}
	}
	if (u->r->has_tlsrpt && u->o->n_fetched && !fetched)
		check_add(u->r, CHECK_WARNING, "rua.not-fetched", sec, name,
			  "no reporting address is a mailbox mxdigest fetches "
			  "(%s): reports go where mxdigest does not look; add it "
			  "to rua= or an [account] with address = it",
			  list.len ? buf_cstr(&list) : "no mailto: address");
	buf_release(&list);
	tlsrpt_record_release(&rec);
	dns_txt_release(&t);
}

static void
check_mx(struct run *u)
{
	struct dns_mx mx;
	struct mxd_err err;
	enum dns_status st;
	struct buf b;
	size_t i;

	mxd_err_clear(&err);
	st = dns_mx(u->o->dns, u->d, &mx, &err);
	if (lookup_failed(u, st, u->d, "MX", "mx.unchecked", &err))
		return;
	if (st == DNS_NXDOMAIN) {
		check_add(u->r, CHECK_ERROR, "mx.nxdomain", sec_of(u, st, mx.secure),
			  u->d, "%s does not exist in the DNS", u->d);
		return;
	}
	if (st != DNS_OK) {
		check_add(u->r, CHECK_WARNING, "mx.none", sec_of(u, st, mx.secure),
			  u->d, "%s has no MX record: senders deliver to its "
			  "address records, which MTA-STS cannot cover", u->d);
		return;
	}
	if (mx.n == 1 && mx.v[0].host[0] == '\0') {
		check_add(u->r, CHECK_WARNING, "mx.null", sec_of(u, st, mx.secure),
			  u->d, "%s publishes a null MX (RFC 7505): it receives "
			  "no mail, so there is nothing for TLS reports to say", u->d);
		dns_mx_release(&mx);
		return;
	}
	buf_init(&b, 8192);
	u->r->mx = xcalloc(mx.n, sizeof(*u->r->mx));
	for (i = 0; i < mx.n; i++) {
		char v[300];

		if (mx.v[i].host[0] == '\0')
			continue;	/* a null MX beside others: ignored */
		u->r->mx[u->r->n_mx].host = xstrdup(mx.v[i].host);
		u->r->mx[u->r->n_mx].pref = mx.v[i].pref;
		u->r->mx[u->r->n_mx].covered = -1;
		u->r->n_mx++;
		snprintf(v, sizeof(v), "%u %s", mx.v[i].pref, mx.v[i].host);
		check_add_datum(u->r, "mx", u->d, v);
		buf_printf(&b, "%s%s", b.len ? ", " : "", v);
	}
	check_add(u->r, CHECK_OK, "mx.ok", sec_of(u, st, mx.secure), u->d,
		  "MX: %s", buf_cstr(&b));
	buf_release(&b);
	dns_mx_release(&mx);
}

static int
is_text_plain(const char *ct)
{
	size_t n = strcspn(ct, ";");

	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n == 10 && str_ncasecmp(ct, "text/plain", 10) == 0;
}

/* Fetches and judges the policy; returns 1 when one was fetched. */
static int
fetch_policy(struct run *u, int announced)
{
	char host[300];
	struct dns_addrs ad;
	struct mxd_err err;
	enum dns_status st;
	struct https_opts ho;
	struct https_result hr;
	struct sts_policy pol;
	struct rec_problems pr;
	enum check_dnssec sec;
	size_t i, j;
	int got = 0;

	snprintf(host, sizeof(host), "mta-sts.%s", u->d);
	mxd_err_clear(&err);
	st = dns_addrs(u->o->dns, host, &ad, &err);
	if (!announced && st != DNS_OK) {
		dns_addrs_release(&ad);
		return 0;
	}
	if (lookup_failed(u, st, host, "A/AAAA", "sts.policy-unchecked", &err)) {
		u->r->policy_failed = 1;
		return 0;
	}
	sec = sec_of(u, st, ad.secure);
	if (st != DNS_OK) {
		u->r->policy_failed = 1;
		check_add(u->r, CHECK_ERROR, "sts.policy-dns", sec, host,
			  "%s has no address: senders cannot fetch the MTA-STS "
			  "policy the TXT record announces", host);
		return 0;
	}
	memset(&ho, 0, sizeof(ho));
	ho.host = host;
	ho.path = "/.well-known/mta-sts.txt";
	ho.addr = ad.v[0];
	ho.port = https_port(u, 443);
	ho.timeout_ms = u->o->timeout_ms;
	ho.ca_file = u->o->ca_file;
	ho.max_body = REC_MAX_POLICY;
	ho.stop = u->o->stop;
	(void)https_get(&ho, &hr);
	if (hr.fail == HTTPS_STOPPED) {
		u->stopped = 1;
		goto out;
	}
	if (!announced && (hr.fail != HTTPS_OK || hr.status != 200))
		goto out;	/* nothing there, and nothing promised */
	if (hr.fail != HTTPS_OK) {
		static const char *codes[] = {
			[HTTPS_CONNECT] = "sts.policy-connect",
			[HTTPS_TLS] = "sts.policy-tls",
			[HTTPS_TIMEOUT] = "sts.policy-timeout",
			[HTTPS_TOO_LARGE] = "sts.policy-too-large",
			[HTTPS_PROTOCOL] = "sts.policy-http",
		};

		u->r->policy_failed = 1;
		if (hr.fail == HTTPS_TIMEOUT)
			u->r->incomplete = 1;
		check_add(u->r, CHECK_ERROR, codes[hr.fail], sec, host,
			  "https://%s/.well-known/mta-sts.txt: %s: senders cannot "
			  "fetch the policy (they report sts-policy-fetch-error)",
			  host, hr.error);
		goto out;
	}
	if (hr.status >= 300 && hr.status < 400) {
		u->r->policy_failed = 1;
		check_add(u->r, CHECK_ERROR, "sts.policy-redirect", sec, host,
			  "https://%s/.well-known/mta-sts.txt answered %ld%s%s: "
			  "senders do not follow redirects (RFC 8461 §3.3); serve "
			  "the policy there", host, hr.status,
			  hr.location[0] ? " to " : "", hr.location);
		goto out;
	}
	if (hr.status != 200) {
		u->r->policy_failed = 1;
		check_add(u->r, CHECK_ERROR, "sts.policy-status", sec, host,
			  "https://%s/.well-known/mta-sts.txt answered HTTP %ld, "
			  "not 200", host, hr.status);
		goto out;
	}
	if (!is_text_plain(hr.content_type)) {
		u->r->policy_failed = 1;
		check_add(u->r, CHECK_ERROR, "sts.policy-content-type", sec, host,
			  "the policy comes as \"%s\", not text/plain (RFC 8461 "
			  "§3.2): senders refuse it", hr.content_type[0] ?
			  hr.content_type : "no Content-Type");
		goto out;
	}
	got = 1;
	if (!announced) {
		check_add(u->r, CHECK_WARNING, "sts.txt-missing", sec, host,
			  "a policy is served at https://%s/.well-known/mta-sts.txt"
			  " but there is no _mta-sts.%s TXT record: senders never "
			  "fetch it; publish \"v=STSv1; id=...\"", host, u->d);
	}
	check_add_datum(u->r, "sts-policy", host, hr.body);
	free(u->r->policy);
	u->r->policy = xstrdup(hr.body);
	rec_problems_init(&pr);
	if (sts_policy_parse(hr.body, hr.body_len, &pol, &pr) == 0 && announced) {
		check_add(u->r, pol.mode == STS_MODE_ENFORCE ? CHECK_OK : CHECK_WARNING,
			  pol.mode == STS_MODE_ENFORCE ? "sts.policy-ok" :
			  pol.mode == STS_MODE_TESTING ? "sts.policy-testing" :
			  "sts.policy-mode-none", sec, host,
			  pol.mode == STS_MODE_ENFORCE ?
			  "MTA-STS policy: mode enforce, max_age %lld, %zu mx" :
			  pol.mode == STS_MODE_TESTING ?
			  "MTA-STS policy in mode testing (max_age %lld, %zu mx): "
			  "senders report failures but deliver anyway; switch to "
			  "enforce once the reports are clean" :
			  "MTA-STS policy in mode none (max_age %lld, %zu mx): "
			  "senders apply no policy", pol.max_age, pol.n_mx);
	}
	add_problems(u, &pr, host, sec);
	rec_problems_release(&pr);
	if (pol.n_mx) {
		u->r->policy_mx = xcalloc(pol.n_mx, sizeof(char *));
		for (i = 0; i < pol.n_mx; i++)
			u->r->policy_mx[u->r->n_policy_mx++] = xstrdup(pol.mx[i]);
	}
	/* RFC 8461 §4.1: every MX must match a pattern */
	if (pol.mode == STS_MODE_ENFORCE || pol.mode == STS_MODE_TESTING) {
		for (i = 0; i < u->r->n_mx; i++) {
			struct check_mx *m = &u->r->mx[i];

			m->covered = 0;
			for (j = 0; j < pol.n_mx && !m->covered; j++)
				m->covered = sts_mx_match(pol.mx[j], m->host);
			if (!m->covered)
				check_add(u->r, pol.mode == STS_MODE_ENFORCE ?
					  CHECK_ERROR : CHECK_WARNING,
					  "sts.mx-uncovered", sec, m->host,
					  "MX %s matches no mx of the MTA-STS policy: "
					  "senders %s; add \"mx: %s\" to the policy",
					  m->host, pol.mode == STS_MODE_ENFORCE ?
					  "that enforce it will not deliver there" :
					  "report each delivery there as a failure",
					  m->host);
		}
	}
	sts_policy_release(&pol);
out:
	https_result_release(&hr);
	dns_addrs_release(&ad);
	return got;
}

static void
check_sts(struct run *u)
{
	char name[300];
	struct dns_txt t;
	struct mxd_err err;
	enum dns_status st;
	enum check_dnssec sec;
	struct sts_txt rec;
	struct rec_problems pr;
	size_t i, cand = 0, which = 0;

	snprintf(name, sizeof(name), "_mta-sts.%s", u->d);
	mxd_err_clear(&err);
	st = dns_txt(u->o->dns, name, &t, &err);
	sec = sec_of(u, st, t.secure);
	if (lookup_failed(u, st, name, "TXT", "sts.unchecked", &err))
		return;
	for (i = 0; i < t.n; i++) {
		check_add_datum(u->r, "sts-txt", name, t.records[i]);
		if (sts_txt_candidate(t.records[i], strlen(t.records[i]))) {
			cand++;
			which = i;
		}
	}
	if (cand == 0) {
		dns_txt_release(&t);
		if (!fetch_policy(u, 0) && !u->stopped)
			check_add(u->r, CHECK_WARNING, "sts.none", sec, name,
				  "no MTA-STS record at %s: senders may deliver "
				  "without TLS or to a forged MX; publish MTA-STS "
				  "(RFC 8461)", name);
		return;
	}
	if (cand > 1) {
		check_add(u->r, CHECK_ERROR, "sts.txt-multiple", sec, name,
			  "%zu TXT records at %s begin with \"v=STSv1\": senders "
			  "treat MTA-STS as absent (RFC 8461 §3.1); keep one",
			  cand, name);
		dns_txt_release(&t);
		return;
	}
	rec_problems_init(&pr);
	if (sts_txt_parse(t.records[which], strlen(t.records[which]), &rec, &pr) == 0)
		check_add(u->r, CHECK_OK, "sts.txt-ok", sec, name,
			  "MTA-STS record: id=%s", rec.id);
	add_problems(u, &pr, name, sec);
	rec_problems_release(&pr);
	sts_txt_release(&rec);
	dns_txt_release(&t);
	fetch_policy(u, 1);
}

static void
probe_mx(struct run *u, struct check_mx *m)
{
	struct dns_addrs ad;
	struct dns_tlsa tl;
	struct mxd_err err;
	enum dns_status st, tst = DNS_NODATA;
	struct smtp_probe_opts so;
	struct smtp_probe p;
	char tname[300], why[300], until[32];
	long long now = (long long)time(NULL);
	int probed = 0;

	memset(&p, 0, sizeof(p));
	memset(&tl, 0, sizeof(tl));
	memset(&ad, 0, sizeof(ad));
	/* RFC 7672 §2.2: TLSA at _25._tcp.HOST, used only when secure */
	if (u->validating) {
		snprintf(tname, sizeof(tname), "_25._tcp.%s", m->host);
		mxd_err_clear(&err);
		tst = dns_tlsa(u->o->dns, tname, &tl, &err);
		if (tst == DNS_BOGUS)
			(void)lookup_failed(u, tst, tname, "TLSA", "dane.unchecked",
					    &err);
		else if (tst == DNS_OK && !tl.secure)
			check_add(u->r, CHECK_WARNING, "dane.insecure", CHECK_INSECURE,
				  tname, "%s has TLSA records but no DNSSEC-signed "
				  "answer: senders ignore them (RFC 7672 §2.2)", tname);
	}
	if (!u->o->smtp)
		goto tlsa_only;
	mxd_err_clear(&err);
	st = dns_addrs(u->o->dns, m->host, &ad, &err);
	if (lookup_failed(u, st, m->host, "A/AAAA", "smtp.unchecked", &err))
		goto out;
	if (st != DNS_OK) {
		check_add(u->r, CHECK_ERROR, "smtp.dns", sec_of(u, st, ad.secure),
			  m->host, "MX %s has no address: senders cannot deliver "
			  "there", m->host);
		goto out;
	}
	memset(&so, 0, sizeof(so));
	so.host = m->host;
	so.addr = ad.v[0];
	so.port = u->o->smtp_port ? u->o->smtp_port : 25;
	so.timeout_ms = u->o->timeout_ms;
	so.ca_file = u->o->ca_file;
	so.helo = u->o->helo;
	so.stop = u->o->stop;
	if (smtp_probe(&so, &p) < 0) {
		const char *code = p.reached < SMTP_CONNECTED ? "smtp.connect" :
		    p.reached < SMTP_GREETED ? "smtp.greeting" :
		    p.reached < SMTP_EHLO ? "smtp.ehlo" :
		    !p.starttls_offered ? "smtp.no-starttls" :
		    p.reached < SMTP_STARTTLS ? "smtp.starttls" : "smtp.tls";

		if (u->o->stop && *u->o->stop) {
			u->stopped = 1;
			goto out;
		}
		check_add(u->r, CHECK_ERROR, code, CHECK_DNSSEC_NONE, m->host,
			  "MX %s (%s): %s%s", m->host, ad.v[0],
			  !p.starttls_offered && p.reached >= SMTP_EHLO ?
			  "STARTTLS is not offered: senders deliver in clear "
			  "text, or not at all under MTA-STS or DANE" : p.error,
			  "");
		goto out;
	}
	probed = 1;
	m->probed = 1;
	m->not_after = p.not_after;
	m->cert_expired = p.not_after && p.not_after < now;
	{
		time_t na = (time_t)p.not_after;
		struct tm tm;

		gmtime_r(&na, &tm);
		strftime(until, sizeof(until), "%Y-%m-%d", &tm);
	}
	{
		char v[800];

		snprintf(v, sizeof(v), "subject=%s; issuer=%s; not_after=%s; %s",
			 p.subject, p.issuer, until, p.tls_desc);
		check_add_datum(u->r, "cert", m->host, v);
	}
	if (m->cert_expired)
		check_add(u->r, CHECK_ERROR, "smtp.cert-expired", CHECK_DNSSEC_NONE,
			  m->host, "MX %s: the certificate expired on %s: senders "
			  "that verify (MTA-STS, DANE-TA) fail with "
			  "certificate-expired; renew it", m->host, until);
	else if (!p.chain_ok)
		check_add(u->r, CHECK_ERROR, "smtp.cert-untrusted", CHECK_DNSSEC_NONE,
			  m->host, "MX %s: the certificate does not verify (%s): "
			  "MTA-STS senders refuse it", m->host, p.verify_error);
	else if (!p.name_ok)
		check_add(u->r, CHECK_ERROR, "smtp.cert-name", CHECK_DNSSEC_NONE,
			  m->host, "MX %s: the certificate is not valid for the "
			  "name %s (%s): MTA-STS senders refuse it", m->host,
			  m->host, p.subject);
	else if (p.not_after - now < (long long)CHECK_CERT_WARN_DAYS * 86400)
		check_add(u->r, CHECK_WARNING, "smtp.cert-expiring",
			  CHECK_DNSSEC_NONE, m->host, "MX %s: the certificate "
			  "expires on %s, in %lld days: renew it", m->host, until,
			  (p.not_after - now) / 86400);
	else
		check_add(u->r, CHECK_OK, "smtp.ok", CHECK_DNSSEC_NONE, m->host,
			  "MX %s: STARTTLS, %s, certificate valid until %s",
			  m->host, p.tls_desc, until);
out:
	dns_addrs_release(&ad);
tlsa_only:
	if (tst == DNS_OK && tl.secure) {
		struct tlsa_rr rr[DNS_MAX_RRS];
		size_t i;
		char v[200];

		for (i = 0; i < tl.n && i < DNS_MAX_RRS; i++) {
			rr[i].usage = tl.v[i].usage;
			rr[i].selector = tl.v[i].selector;
			rr[i].mtype = tl.v[i].mtype;
			rr[i].data = tl.v[i].data;
			rr[i].len = tl.v[i].len;
			snprintf(v, sizeof(v), "%u %u %u (%zu bytes)", rr[i].usage,
				 rr[i].selector, rr[i].mtype, rr[i].len);
			check_add_datum(u->r, "tlsa", tname, v);
		}
		if (!probed) {
			if (!u->o->smtp)
				check_add(u->r, CHECK_OK, "dane.published", CHECK_SECURE,
					  tname, "%s: %zu TLSA record%s, signed "
					  "(not matched: use --smtp)", tname, tl.n,
					  tl.n == 1 ? "" : "s");
		} else {
			switch (dane_check(rr, i, &p, m->host, why, sizeof(why))) {
			case DANE_MATCH:
				check_add(u->r, CHECK_OK, "dane.ok", CHECK_SECURE, tname,
					  "MX %s: DANE: %s", m->host, why);
				break;
			case DANE_NOMATCH:
				check_add(u->r, CHECK_ERROR, "dane.mismatch",
					  CHECK_SECURE, tname, "MX %s: no TLSA record "
					  "matches the certificate (%s): DANE senders "
					  "do not deliver; publish the new TLSA before "
					  "a certificate change", m->host, why);
				break;
			case DANE_UNUSABLE:
				check_add(u->r, CHECK_WARNING, "dane.unusable",
					  CHECK_SECURE, tname, "MX %s: %s", m->host,
					  why);
				break;
			}
		}
	}
	dns_tlsa_release(&tl);
	smtp_probe_release(&p);
}

int
check_domain(const struct check_opts *o, const char *domain,
	     struct check_result *out)
{
	struct run u;
	struct check_opts oo = *o;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->domain = xstrdup(domain);
	str_lower(out->domain);
	out->at = (int64_t)time(NULL);
	if (!oo.timeout_ms)
		oo.timeout_ms = CHECK_DEFAULT_TIMEOUT_MS;
	memset(&u, 0, sizeof(u));
	u.o = &oo;
	u.r = out;
	u.d = out->domain;
	u.validating = dns_validating(o->dns);
	if (!check_hostname_valid(u.d)) {
		check_add(out, CHECK_ERROR, "domain.invalid", CHECK_DNSSEC_NONE, u.d,
			  "\"%s\" is not a domain name", u.d);
		return 0;
	}
	if (!u.validating)
		check_add(out, CHECK_WARNING, "dnssec.off", CHECK_DNSSEC_NONE, u.d,
			  "DNSSEC is not validated (%s): bogus answers go "
			  "unnoticed and DANE is not checked; use a resolver that "
			  "passes DNSSEC records on, or set trust_anchor",
			  dns_validation_note(o->dns)[0] ?
			  dns_validation_note(o->dns) : "no trust anchor");
	check_tlsrpt(&u);
	if (!u.stopped)
		check_mx(&u);
	if (!u.stopped)
		check_sts(&u);
	for (i = 0; i < out->n_mx && i < MAX_MX_PROBED && !u.stopped; i++)
		probe_mx(&u, &out->mx[i]);
	if (u.stopped)
		out->incomplete = 1;
	return u.stopped ? -1 : 0;
}

void
check_result_release(struct check_result *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_f; i++) {
		free(r->f[i].subject);
		free(r->f[i].text);
	}
	free(r->f);
	for (i = 0; i < r->n_d; i++) {
		free(r->d[i].kind);
		free(r->d[i].name);
		free(r->d[i].value);
	}
	free(r->d);
	for (i = 0; i < r->n_mx; i++)
		free(r->mx[i].host);
	free(r->mx);
	for (i = 0; i < r->n_policy_mx; i++)
		free(r->policy_mx[i]);
	free(r->policy_mx);
	free(r->policy);
	free(r->domain);
	memset(r, 0, sizeof(*r));
}
