/*
 * check.h — the domain side: what a domain publishes for the senders that
 * report to it, checked as those senders would (`mxdigest check`).
 *
 * For one domain check_domain() looks up and judges, in order: the
 * TLS-RPT record at _smtp._tls (RFC 8460 §3), each reporting destination
 * (a mailto: domain that can receive mail, an https: endpoint with a
 * verified TLS handshake), MTA-STS (the _mta-sts TXT record and the
 * policy over HTTPS, RFC 8461), the MX records and, when asked, each MX
 * host over SMTP with STARTTLS, its certificate and its DANE TLSA records
 * (RFC 7672).  Every lookup goes through the program's one resolver
 * (dns/), whose DNSSEC status each finding carries.
 *
 * The result is data: findings (a level, a stable code for scripts and
 * tests, a subject, one line that says what to fix), the raw records and
 * policy that were seen (stored with the run), and the facts that the
 * store's reports are reconciled with (aggregate/'s agg_reconcile()).
 * Nothing here prints or touches the store.  Everything a server sends
 * is untrusted: capped, and cleaned of control bytes before it lands in
 * a finding.
 *
 * Ownership: check_domain() fills a struct check_result the caller frees
 * with check_result_release().  The options are the caller's.
 */
#ifndef MXD_CHECK_CHECK_H
#define MXD_CHECK_CHECK_H

#include <stddef.h>
#include <stdint.h>

struct dns;

enum check_level { CHECK_OK, CHECK_WARNING, CHECK_ERROR };
/* What DNSSEC said of the data behind a finding. */
enum check_dnssec { CHECK_DNSSEC_NONE, CHECK_SECURE, CHECK_INSECURE,
		    CHECK_BOGUS };

struct check_finding {
	enum check_level level;
	const char *code;	/* static: "tlsrpt.missing", ... */
	char *subject;		/* the name, URI or host it is about; "" */
	char *text;		/* one line, cleaned */
	enum check_dnssec dnssec;
};

/* Raw data seen: kind "tlsrpt-txt", "sts-txt", "sts-policy", "mx",
 * "tlsa", "cert"; name the DNS name or host; value the record. */
struct check_datum {
	char *kind, *name, *value;
};

/* What one MX host showed (for the reconciliation). */
struct check_mx {
	char *host;
	unsigned pref;
	int covered;		/* matched by the MTA-STS policy (-1: no policy) */
	int probed;		/* --smtp reached the TLS handshake */
	int cert_expired;	/* the certificate had expired */
	long long not_after;	/* its end, 0 if unknown */
};

struct check_result {
	char *domain;
	int64_t at;
	struct check_finding *f;
	size_t n_f, cap_f;
	struct check_datum *d;
	size_t n_d, cap_d;
	enum check_level worst;
	int incomplete;		/* a lookup or connection timed out / failed */
	int has_tlsrpt;		/* exactly one usable TLS-RPT record */
	struct check_mx *mx;
	size_t n_mx;
	/* MTA-STS: the policy fetched now (raw, NULL when none) */
	char *policy;
	int policy_failed;	/* a TXT record announced it, the fetch failed */
	char **policy_mx;	/* its mx patterns */
	size_t n_policy_mx;
};

struct check_opts {
	struct dns *dns;
	const char *ca_file;	/* NULL: the system trust store */
	int https_port;		/* 0: 443 */
	int smtp_port;		/* 0: 25 */
	int timeout_ms;		/* per connection; 0: CHECK_DEFAULT_TIMEOUT_MS */
	int smtp;		/* probe the MX hosts */
	const char *helo;	/* EHLO name; NULL: the host name */
	/* the report addresses mxdigest fetches (accounts), lower case */
	char *const *fetched;
	size_t n_fetched;
	const volatile int *stop;
};

#define CHECK_DEFAULT_TIMEOUT_MS 10000
/* Days under which a certificate's coming expiry is a warning. */
#define CHECK_CERT_WARN_DAYS 14

/* 0; -1 only when stopped (the result holds what was done). */
int check_domain(const struct check_opts *o, const char *domain,
		 struct check_result *out);
void check_result_release(struct check_result *r);

/* Adds a finding (text printf-style, cleaned). */
void check_add(struct check_result *r, enum check_level level, const char *code,
	       enum check_dnssec dnssec, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void check_add_datum(struct check_result *r, const char *kind, const char *name,
		     const char *value);
/* Sorts findings: errors first, then warnings, then ok; stable. */
void check_sort(struct check_result *r);

const char *check_level_name(enum check_level l);	/* ok warning error */
const char *check_dnssec_name(enum check_dnssec s);	/* "" secure ... */
/* "ok" -> CHECK_OK ...; -1 */
int check_level_parse(const char *s);

#endif
