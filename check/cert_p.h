/*
 * cert_p.h — certificate rules shared by smtp.c and dane.c: whether a
 * certificate is valid for an MX host name, and where its public key is.
 *
 * Both take a certificate as DER bytes the caller owns and keep nothing.
 */
#ifndef MXD_CHECK_CERT_P_H
#define MXD_CHECK_CERT_P_H

#include <stddef.h>

/*
 * 1 when a subjectAltName dNSName of the certificate matches host, by the
 * rules of RFC 8461 §4.2 and RFC 7672 §3.2.3 (after RFC 6125 §6.4): ASCII
 * case ignored, one trailing dot of host ignored, "*" only as the whole
 * leftmost label, matching exactly one label.  The subject CN is never
 * used.  0 otherwise, also for a certificate that cannot be read.
 */
int cert_name_ok(const unsigned char *der, size_t len, const char *host);
/* The DER SubjectPublicKeyInfo inside the certificate (RFC 5280 §4.1), as
 * the bytes it has there: 0, or -1 when the DER cannot be walked. */
int cert_spki(const unsigned char *der, size_t len, const unsigned char **spki,
	      size_t *spki_len);

#endif
