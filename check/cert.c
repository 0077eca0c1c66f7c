/*
 * cert.c — an MX host name against a certificate (RFC 8461 §4.2, RFC 7672
 * §3.2.3, RFC 6125 §6.4), and the SubjectPublicKeyInfo a TLSA record with
 * selector 1 hashes (RFC 6698 §2.1.2).
 *
 * The name rule is ours rather than gnutls_x509_crt_check_hostname2()'s
 * because MTA-STS is stricter than what GnuTLS accepts: GnuTLS reads the
 * subject CN when there is no dNSName, and lets "*" stand for part of a
 * label ("*x.example.com"); RFC 8461 §4.2 wants a DNS-ID in
 * subjectAltName and a wildcard only as the whole leftmost label.
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdint.h>
#include <string.h>

#include "check/cert_p.h"
#include "util/strutil.h"

#define SAN_MAX 256	/* a DNS name is at most 253 bytes */
#define SAN_LIMIT 1000	/* subjectAltName entries looked at */

static int
same_ci(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && str_ncasecmp(a, b, alen) == 0;
}

/* One DNS-ID against the host (both without a trailing dot). */
static int
name_match(const char *id, size_t idlen, const char *host, size_t hlen)
{
	const char *dot;

	if (idlen && id[idlen - 1] == '.')
		idlen--;
	if (idlen == 0 || memchr(id, '\0', idlen))
		return 0;
	if (!memchr(id, '*', idlen))
		return same_ci(id, idlen, host, hlen);
	/* RFC 6125 §6.4.3, RFC 8461 §4.2: "*." then at least two labels, and
	 * no other wildcard; "*" matches one whole label, never an empty one,
	 * never several */
	if (idlen < 2 || id[0] != '*' || id[1] != '.' ||
	    memchr(id + 1, '*', idlen - 1) || !memchr(id + 2, '.', idlen - 2))
		return 0;
	dot = memchr(host, '.', hlen);
	if (!dot || dot == host)
		return 0;
	return same_ci(id + 1, idlen - 1, dot, hlen - (size_t)(dot - host));
}

int
cert_name_ok(const unsigned char *der, size_t len, const char *host)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	size_t hlen = strlen(host);
	unsigned i;
	int ok = 0;

	if (hlen && host[hlen - 1] == '.')
		hlen--;
	if (hlen == 0 || memchr(host, '*', hlen) || gnutls_x509_crt_init(&crt) < 0)
		return 0;
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return 0;
	}
	for (i = 0; !ok && i < SAN_LIMIT; i++) {
		char id[SAN_MAX];
		size_t idlen = sizeof(id) - 1;
		int type;

		type = gnutls_x509_crt_get_subject_alt_name(crt, i, id, &idlen, NULL);
		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		if (type == GNUTLS_E_SHORT_MEMORY_BUFFER || type < 0)
			continue;	/* too long to be a host name */
		if (type == GNUTLS_SAN_DNSNAME && idlen < sizeof(id))
			ok = name_match(id, idlen, host, hlen);
	}
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* One DER element at *p: its tag, where its contents start and how long
 * they are; *p moves past it.  -1 when it does not fit in end. */
static int
der_next(const unsigned char **p, const unsigned char *end, unsigned *tag,
	 const unsigned char **body, size_t *blen)
{
	const unsigned char *q = *p;
	size_t l, k;

	if (end - q < 2 || (q[0] & 0x1f) == 0x1f)
		return -1;	/* no multi-byte tags in a certificate's frame */
	*tag = q[0];
	l = q[1];
	q += 2;
	if (l & 0x80) {
		k = l & 0x7f;
		if (k == 0 || k > 4 || (size_t)(end - q) < k)
			return -1;
		for (l = 0; k > 0; k--)
			l = (l << 8) | *q++;
	}
	if (l > (size_t)(end - q))
		return -1;
	*body = q;
	*blen = l;
	*p = q + l;
	return 0;
}

int
cert_spki(const unsigned char *der, size_t len, const unsigned char **spki,
	  size_t *spki_len)
{
	const unsigned char *p = der, *end = der + len, *body, *start;
	size_t blen;
	unsigned tag;
	int i;

	/* Certificate ::= SEQUENCE { tbsCertificate, ... } */
	if (der_next(&p, end, &tag, &body, &blen) < 0 || tag != 0x30)
		return -1;
	p = body;
	end = body + blen;
	if (der_next(&p, end, &tag, &body, &blen) < 0 || tag != 0x30)
		return -1;
	p = body;
	end = body + blen;
	/* TBSCertificate: [0] version (optional), serialNumber, signature,
	 * issuer, validity, subject, subjectPublicKeyInfo */
	start = p;
	if (der_next(&p, end, &tag, &body, &blen) < 0)
		return -1;
	if (tag != 0xa0)
		p = start;
	for (i = 0; i < 5; i++)
		if (der_next(&p, end, &tag, &body, &blen) < 0)
			return -1;
	start = p;
	if (der_next(&p, end, &tag, &body, &blen) < 0 || tag != 0x30)
		return -1;
	*spki = start;
	*spki_len = (size_t)(p - start);
	return 0;
}
