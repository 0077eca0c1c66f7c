/*
 * dane.c — TLSA records against a probed chain: RFC 7672 §3.1 (which
 * usages SMTP uses and how), RFC 6698 §2.1 (selector, matching type),
 * RFC 7671 §5.2 (DANE-TA with the trust anchor in the chain).
 *
 * Each record is judged alone; the first that matches decides.  For
 * DANE-TA the chain below the matched certificate is verified by GnuTLS
 * with that certificate as the only trust anchor, its own dates unchecked
 * (a trust anchor is a key, RFC 5280 §6.1.1 (d)); the rest of the chain is
 * checked as PKIX does, dates included.
 */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check/cert_p.h"
#include "check/dane.h"
#include "util/buf.h"
#include "util/strutil.h"
#include "util/utf8.h"

/* 1 with why the record cannot be used for SMTP in text (RFC 7672
 * §3.1.3), or 0. */
static int
unusable(const struct tlsa_rr *rr, char *text, size_t size)
{
	if (rr->usage == 0 || rr->usage == 1)
		snprintf(text, size, "usage %u (%s) is not for SMTP", rr->usage,
			 rr->usage ? "PKIX-EE" : "PKIX-TA");
	else if (rr->usage > 3)
		snprintf(text, size, "unknown usage %u", rr->usage);
	else if (rr->selector > 1)
		snprintf(text, size, "unknown selector %u", rr->selector);
	else if (rr->mtype > 2)
		snprintf(text, size, "unknown matching type %u", rr->mtype);
	else if ((rr->mtype == 1 && rr->len != 32) ||
		 (rr->mtype == 2 && rr->len != 64) || (rr->mtype == 0 && rr->len == 0))
		snprintf(text, size, "%zu bytes of %s data", rr->len,
			 rr->mtype == 1 ? "SHA-256" : rr->mtype == 2 ? "SHA-512"
								: "certificate");
	else
		return 0;
	return 1;
}

/* The record's data against one certificate. */
static int
rr_matches(const struct tlsa_rr *rr, const struct smtp_cert *c)
{
	const unsigned char *data = c->der;
	unsigned char md[64];
	size_t len = c->len;
	gnutls_digest_algorithm_t alg;

	if (rr->selector == 1 && cert_spki(c->der, c->len, &data, &len) < 0)
		return 0;
	if (rr->mtype == 0)
		return len == rr->len && memcmp(data, rr->data, len) == 0;
	alg = rr->mtype == 1 ? GNUTLS_DIG_SHA256 : GNUTLS_DIG_SHA512;
	if (gnutls_hash_fast(alg, data, len, md) < 0)
		return 0;
	return memcmp(md, rr->data, rr->len) == 0;
}

static int
import(gnutls_x509_crt_t *crt, const struct smtp_cert *c)
{
	gnutls_datum_t d;

	if (gnutls_x509_crt_init(crt) < 0)
		return -1;
	d.data = c->der;
	d.size = (unsigned)c->len;
	if (gnutls_x509_crt_import(*crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(*crt);
		return -1;
	}
	return 0;
}

/* Does the chain below certificate `ta` lead to it?  0, or -1 with the
 * reason in text. */
static int
chains_to(const struct smtp_probe *p, size_t ta, char *text, size_t size)
{
	gnutls_x509_trust_list_t tl;
	gnutls_x509_crt_t anchor, below[SMTP_MAX_CERTS];
	unsigned status = 0;
	size_t i, n = 0;
	int r = -1;

	if (ta == 0)
		return 0;	/* the server's certificate is the anchor itself */
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		snprintf(text, size, "out of memory (GnuTLS)");
		return -1;
	}
	if (import(&anchor, &p->chain[ta]) < 0) {
		snprintf(text, size, "certificate %zu cannot be read", ta + 1);
		goto done;
	}
	/* the list owns the anchor from here on */
	if (gnutls_x509_trust_list_add_cas(tl, &anchor, 1, 0) != 1) {
		gnutls_x509_crt_deinit(anchor);
		snprintf(text, size, "certificate %zu is no usable trust anchor",
			 ta + 1);
		goto done;
	}
	for (n = 0; n < ta; n++)
		if (import(&below[n], &p->chain[n]) < 0) {
			snprintf(text, size, "certificate %zu cannot be read", n + 1);
			goto done;
		}
	if (gnutls_x509_trust_list_verify_crt2(tl, below, (unsigned)n, NULL, 0,
					       GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS,
					       &status, NULL) < 0) {
		snprintf(text, size, "the chain cannot be verified");
	} else if (status != 0) {
		gnutls_datum_t out = {NULL, 0};

		if (gnutls_certificate_verification_status_print(
			    status, GNUTLS_CRT_X509, &out, 0) == 0 && out.data)
			snprintf(text, size, "%s", (char *)out.data);
		else
			snprintf(text, size, "the chain does not lead to it");
		gnutls_free(out.data);
		str_trim(text);
	} else {
		r = 0;
	}
done:
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(below[i]);
	gnutls_x509_trust_list_deinit(tl, 1);
	return r;
}

/* One usable record: 1 with what it matched in text, or 0 with why not. */
static int
judge(const struct tlsa_rr *rr, const struct smtp_probe *p, const char *host,
      char *text, size_t size)
{
	char reason[200];
	size_t i;

	if (p->n_chain == 0) {
		snprintf(text, size, "no certificate to match");
		return 0;
	}
	if (rr->usage == 3) {
		/* §3.1.1: the names and the dates of the certificate do not
		 * matter; the key (or the certificate) does */
		if (rr_matches(rr, &p->chain[0])) {
			snprintf(text, size, "matches the server's certificate");
			return 1;
		}
		snprintf(text, size, "does not match the server's certificate");
		return 0;
	}
	for (i = 0; i < p->n_chain; i++) {
		if (!rr_matches(rr, &p->chain[i]))
			continue;
		if (chains_to(p, i, reason, sizeof(reason)) < 0) {
			snprintf(text, size, "matches certificate %zu of the chain, "
				 "but the server's certificate does not chain to "
				 "it: %s", i + 1, reason);
			return 0;
		}
		/* §3.2.2, §3.2.3: with DANE-TA the name counts */
		if (!cert_name_ok(p->chain[0].der, p->chain[0].len, host)) {
			snprintf(text, size, "matches certificate %zu of the chain, "
				 "but the server's certificate is not valid for "
				 "\"%s\"", i + 1, host);
			return 0;
		}
		snprintf(text, size, "matches certificate %zu of the chain, which "
			 "the server's certificate chains to", i + 1);
		return 1;
	}
	/* RFC 7672 §3.1.2: the server must send the trust anchor */
	snprintf(text, size, "matches no certificate of the chain (%zu sent)",
		 p->n_chain);
	return 0;
}

enum dane_result
dane_check(const struct tlsa_rr *rr, size_t n, const struct smtp_probe *p,
	   const char *host, char *why, size_t whylen)
{
	struct buf b;
	char text[400];
	size_t i, usable = 0;
	enum dane_result res;

	if (whylen == 0)
		why = NULL;
	buf_init(&b, 4096);
	for (i = 0; i < n; i++) {
		if (unusable(&rr[i], text, sizeof(text)))
			continue;
		usable++;
		if (judge(&rr[i], p, host, text, sizeof(text))) {
			if (why)
				snprintf(why, whylen, "TLSA %u %u %u (record %zu) %s",
					 rr[i].usage, rr[i].selector, rr[i].mtype,
					 i + 1, text);
			res = DANE_MATCH;
			goto done;
		}
		buf_printf(&b, "%sTLSA %u %u %u (record %zu) %s", usable > 1 ? "; " : "",
			   rr[i].usage, rr[i].selector, rr[i].mtype, i + 1, text);
	}
	if (usable == 0) {
		res = DANE_UNUSABLE;
		for (i = 0; i < n; i++) {
			unusable(&rr[i], text, sizeof(text));
			buf_printf(&b, "%s%u %u %u: %s", i ? "; " : "", rr[i].usage,
				   rr[i].selector, rr[i].mtype, text);
		}
		if (why)
			snprintf(why, whylen, "no usable TLSA record%s%s",
				 n ? ": " : "", buf_cstr(&b));
	} else {
		res = DANE_NOMATCH;
		if (why)
			snprintf(why, whylen, "no TLSA record matches: %s",
				 buf_cstr(&b));
	}
done:
	buf_release(&b);
	if (why)
		why[utf8_check(why, strlen(why))] = '\0';	/* a cut code point */
	return res;
}
