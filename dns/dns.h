/*
 * dns.h — the program's one resolver, on libunbound (nothing else includes
 * unbound.h).  DKIM key lookups go through it, and later the domain checks:
 * one place decides which server is asked, how long an answer may take,
 * and what an answer from the network may be.
 *
 * Every lookup has a deadline: libunbound's own ub_resolve() can wait for
 * minutes, so queries are asynchronous and the wait is a poll() in slices
 * that also look at the stop flag (SIGINT, SIGTERM).  Answers are cached
 * for the life of the handle (a run), so that a thousand reports signed
 * with one key ask for it once.  A handle may be used from several
 * threads: one lookup at a time, the rest wait for it.
 *
 * DNSSEC: with a trust anchor (dns_opts.trust_anchor) libunbound
 * validates every answer; each result says whether it was secure (the
 * chain from the anchor holds), and a failed validation is DNS_BOGUS,
 * never data.  Without one every answer is insecure.
 *
 * Everything a server returns is untrusted: records are capped in number
 * (DNS_MAX_RRS) and size, names are checked for host name syntax, and a
 * record that does not parse is dropped, not guessed at.
 *
 * Ownership: dns_open() gives a handle, dns_close() frees it (and accepts
 * NULL).  A result struct filled by dns_txt(), dns_mx(), dns_addrs() or
 * dns_tlsa() is the caller's, freed by the matching _release(), which
 * accepts a zeroed struct.
 */
#ifndef MXD_DNS_H
#define MXD_DNS_H

#include <stddef.h>

#include "util/err.h"

struct dns;

struct dns_opts {
	/* "ADDR", "ADDR@PORT", "ADDR:PORT" (IPv4) or "[ADDR]:PORT": every
	 * query goes to that server; NULL: the system's resolvers
	 * (/etc/resolv.conf) */
	const char *resolver;
	int timeout_ms;		/* per lookup; 0: DNS_DEFAULT_TIMEOUT_MS */
	/* a file of DS or DNSKEY records in zone-file syntax (Debian's
	 * /usr/share/dns/root.key, or a test zone's DS); NULL: no DNSSEC
	 * validation */
	const char *trust_anchor;
	/* ask for the root's DNSKEY first, and validate only if it comes
	 * back secure (the default root key: not every resolver passes
	 * DNSSEC records on) */
	int probe_anchor;
	const volatile int *stop;	/* non-zero: lookups give up */
};

/* Debian's root key (package dns-root-data): the default trust anchor. */
#define DNS_ROOT_ANCHOR "/usr/share/dns/root.key"
/* The most records of one type and name that are read. */
#define DNS_MAX_RRS 64

#define DNS_DEFAULT_TIMEOUT_MS 5000
/* The most text a TXT answer may bring (a DKIM key is under 1 KB). */
#define DNS_MAX_TXT 16384

enum dns_status {
	DNS_OK,
	DNS_NXDOMAIN,		/* the name does not exist */
	DNS_NODATA,		/* the name exists, without that type */
	DNS_TEMPFAIL,		/* timeout, SERVFAIL, no server: try later */
	DNS_BOGUS,		/* DNSSEC validation failed */
	DNS_STOPPED,		/* the stop flag */
};

/* The TXT records of a name, each record's character-strings joined. */
struct dns_txt {
	char **records;
	size_t n;
	int secure;		/* DNSSEC-validated */
};

/* MX records, as published (not sorted).  A null MX (RFC 7505) is one
 * record with host "" (the root). */
struct dns_mx {
	struct dns_mx_host {
		unsigned pref;
		char *host;	/* lower case, without the trailing dot */
	} *v;
	size_t n;
	int secure;
};

/* The addresses of a name: A records, then AAAA, as numeric strings. */
struct dns_addrs {
	char **v;
	size_t n;
	int secure;		/* every answer that had data was secure */
};

/* TLSA records (RFC 6698 §2.1). */
struct dns_tlsa {
	struct dns_tlsa_rr {
		unsigned usage, selector, mtype;
		unsigned char *data;
		size_t len;
	} *v;
	size_t n;
	int secure;
};

int dns_open(const struct dns_opts *o, struct dns **out, struct mxd_err *err);
void dns_close(struct dns *d);

/* TXT lookup (cached).  Returns its status; err says why for anything but
 * DNS_OK.  Records hold no NUL (a record with one is dropped). */
enum dns_status dns_txt(struct dns *d, const char *name, struct dns_txt *out,
			struct mxd_err *err);
void dns_txt_release(struct dns_txt *t);

/* MX, address and TLSA lookups, cached like dns_txt().  On any status
 * but DNS_OK the struct is empty except for `secure`: an NXDOMAIN or
 * NODATA that was secure is an authenticated denial.  dns_addrs() asks
 * for A and AAAA; DNS_OK when either has data, else the A status (a
 * temporary failure of either wins over a denial). */
enum dns_status dns_mx(struct dns *d, const char *name, struct dns_mx *out,
		       struct mxd_err *err);
void dns_mx_release(struct dns_mx *m);
enum dns_status dns_addrs(struct dns *d, const char *name, struct dns_addrs *out,
			  struct mxd_err *err);
void dns_addrs_release(struct dns_addrs *a);
enum dns_status dns_tlsa(struct dns *d, const char *name, struct dns_tlsa *out,
			 struct mxd_err *err);
void dns_tlsa_release(struct dns_tlsa *t);

/* Does the handle validate (a trust anchor was loaded)? */
int dns_validating(const struct dns *d);
/* Why it does not although an anchor was given (probe_anchor), or "". */
const char *dns_validation_note(const struct dns *d);
/* "ok", "no such name", "no data", "temporary failure", "DNSSEC bogus",
 * "interrupted" */
const char *dns_status_name(enum dns_status st);

/* "ADDR[:PORT]" as libunbound wants it ("ADDR@PORT"); -1 if malformed. */
int dns_resolver_parse(const char *s, char *out, size_t n);

#endif
