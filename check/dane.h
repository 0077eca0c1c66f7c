/*
 * dane.h — DANE TLSA records (RFC 6698, RFC 7671) against the certificate
 * chain an SMTP probe saw, by the rules for SMTP (RFC 7672 §3).
 *
 * dane_check() reads the records and the probe and keeps nothing; the
 * caller owns both, and the record data may point into a DNS answer.  It
 * judges the certificates only: that the records were DNSSEC-validated
 * (RFC 7672 §2.2) is for the caller to know before asking.
 */
#ifndef MXD_CHECK_DANE_H
#define MXD_CHECK_DANE_H

#include <stddef.h>

#include "check/smtp.h"

/* One TLSA record: certificate usage, selector, matching type, data. */
struct tlsa_rr {
	unsigned usage, selector, mtype;
	const unsigned char *data;
	size_t len;
};

enum dane_result {
	DANE_MATCH,
	DANE_NOMATCH,	/* usable records, none matches */
	DANE_UNUSABLE,	/* no usable record (RFC 7672 §3.1.3) */
};

/*
 * RFC 7672 §3.1.1: a DANE-EE(3) record matches the server's own
 * certificate (selector 0: the whole certificate, 1: its public key;
 * matching type 0: exact, 1: SHA-256, 2: SHA-512); its names and dates
 * are not looked at.  §3.1.2: a DANE-TA(2) record matches a certificate
 * of the presented chain, the server's certificate must chain to it (it
 * as the only trust anchor), and be valid for host, the TLSA base domain
 * (§3.2.2: the MX host name).  Usages PKIX-TA(0) and PKIX-EE(1), unknown
 * usages, selectors and matching types, and digests of the wrong length
 * are unusable (§3.1.3).  `why` (may be NULL) says which record matched,
 * or why none did.
 */
enum dane_result dane_check(const struct tlsa_rr *rr, size_t n,
			    const struct smtp_probe *p, const char *host,
			    char *why, size_t whylen);

#endif
