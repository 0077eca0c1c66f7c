/*
 * dkim.h — the DKIM verdict of a report mail (RFC 6376, RFC 8463 for
 * Ed25519), by libopendkim, with every key looked up through dns/.
 *
 * RFC 8460 §3: "Reports sent via SMTP MUST contain a valid DKIM signature
 * by the reporting domain ... DKIM signatures MUST NOT use the "l="
 * attribute".  A signature counts only when it verifies (header and body),
 * has no l=, and its d= is the From address's domain or a parent of it
 * with at least two labels (mail.reporter.example may be signed by
 * reporter.example, never by example or by another domain): that is what
 * makes a report "by the reporting domain".  Keys with s=tlsrpt, which
 * RFC 8460 §3 recommends for report keys, are accepted (libopendkim alone
 * refuses them as not e-mail keys).  With several signatures the verdict
 * is the best: pass, temperror, fail, permerror.
 *
 * The verdict is taken when the mail arrives and kept: signatures expire
 * (Google's carry x= seven days after t=), so a later check would fail for
 * that alone.  A temporary DNS failure is no verdict (TEMPERROR): it is
 * looked at again later.  Nothing else includes libopendkim's headers.
 *
 * A struct dkimv is made once per run (dkimv_new) and may verify from
 * several threads at once; dkimv_free() accepts NULL.
 */
#ifndef MXD_DKIMV_H
#define MXD_DKIMV_H

#include <stddef.h>
#include <stdint.h>

#include "dns/dns.h"
#include "util/err.h"

enum dkimv_result {
	DKIMV_NONE,		/* no DKIM-Signature at all */
	DKIMV_PASS,		/* a signature by the reporting domain verified */
	DKIMV_FAIL,		/* a signature did not verify (changed, expired),
				 * has l=, or is not by the reporting domain */
	DKIMV_TEMPERROR,	/* a key could not be looked up: ask again */
	DKIMV_PERMERROR,	/* none can be checked: no key (NXDOMAIN, no
				 * TXT), key revoked or not for mail, or a
				 * signature that cannot be read */
	DKIMV_SKIPPED,		/* not looked at (dkim = off) */
	DKIMV_FILE,		/* a report file: no mail, nothing to verify */
};
#define DKIMV_RESULTS 7

/* True when a mail with this stored result (-1: none stored) still
 * waits for a verdict: none stored, temperror, skipped. */
int dkimv_pending(int result);

/* "none", "pass", "fail", "temperror", "permerror", "skipped", "file" */
const char *dkimv_result_name(enum dkimv_result r);
/* The result named so, or -1. */
int dkimv_result_parse(const char *name);

struct dkimv_verdict {
	enum dkimv_result result;
	char domain[256];	/* d= of the signature that passed, else "" */
	char selector[64];	/* its s= */
	char from[256];		/* the From address's domain ("" if none) */
	char detail[512];	/* why the others did not count, one line */
};

struct dkimv;

/* dns: the resolver for key lookups (kept, not owned). */
int dkimv_new(struct dns *dns, struct dkimv **out, struct mxd_err *err);
void dkimv_free(struct dkimv *v);

/* Verifies one mail, as received (CRLF or LF line ends). */
void dkimv_check(struct dkimv *v, const void *msg, size_t len,
		 struct dkimv_verdict *out);

/* Public keys decoded so far, and signatures checked with a key decoded
 * before (each distinct key is decoded once per struct dkimv). */
void dkimv_key_stats(struct dkimv *v, uint64_t *decoded, uint64_t *reused);

/* True when d= may sign for mail From: this domain (see above). */
int dkimv_aligned(const char *d, const char *from_domain);

#endif
