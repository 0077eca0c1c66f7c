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
 * Ownership: dns_open() gives a handle, dns_close() frees it (and accepts
 * NULL).  A struct dns_txt filled by dns_txt() is the caller's, freed by
 * dns_txt_release().
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
	const volatile int *stop;	/* non-zero: lookups give up */
};

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

int dns_open(const struct dns_opts *o, struct dns **out, struct mxd_err *err);
void dns_close(struct dns *d);

/* TXT lookup (cached).  Returns its status; err says why for anything but
 * DNS_OK.  Records hold no NUL (a record with one is dropped). */
enum dns_status dns_txt(struct dns *d, const char *name, struct dns_txt *out,
			struct mxd_err *err);
void dns_txt_release(struct dns_txt *t);

/* "ADDR[:PORT]" as libunbound wants it ("ADDR@PORT"); -1 if malformed. */
int dns_resolver_parse(const char *s, char *out, size_t n);

#endif
