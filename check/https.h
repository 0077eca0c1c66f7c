/*
 * https.h — the HTTPS probes of `check` on libcurl (nothing else includes
 * curl.h): the MTA-STS policy fetch (RFC 8461 §3.3) and the TLS handshake
 * with an https: reporting endpoint of a TLS-RPT record (RFC 8460 §3).
 *
 * The connection goes to the address the program's resolver gave (the
 * caller's `addr`), never to one libcurl looks up: one resolver answers
 * everything, with its DNSSEC status.  Host and SNI stay the real host
 * name, and the certificate is verified for it.  No redirect is followed
 * (RFC 8461 §3.3), only https is spoken, no proxy is used, and the body
 * is cut at max_body whether or not the server announced its size.
 *
 * Ownership: a struct https_result is the caller's; https_result_release()
 * frees its body.
 */
#ifndef MXD_CHECK_HTTPS_H
#define MXD_CHECK_HTTPS_H

#include <stddef.h>

struct https_opts {
	const char *host;	/* the URL's host: SNI, Host, certificate */
	const char *path;	/* "/.well-known/mta-sts.txt" */
	const char *addr;	/* numeric address to connect to */
	int port;		/* 443, or check_https_port in tests */
	int timeout_ms;		/* the whole exchange */
	const char *ca_file;	/* NULL: the system trust store */
	size_t max_body;	/* RFC 8461 §3.2 suggests 64 KiB */
	int handshake_only;	/* connect and verify, no request */
	const volatile int *stop;
};

enum https_fail {
	HTTPS_OK,
	HTTPS_CONNECT,		/* refused, unreachable */
	HTTPS_TLS,		/* handshake or certificate */
	HTTPS_TIMEOUT,
	HTTPS_TOO_LARGE,	/* more than max_body */
	HTTPS_PROTOCOL,		/* not HTTP, or another failure */
	HTTPS_STOPPED,
};

struct https_result {
	enum https_fail fail;
	char error[256];	/* why, when fail != HTTPS_OK */
	long status;		/* HTTP status, 0 when none came */
	char content_type[128];	/* cleaned, "" */
	char location[256];	/* a redirect's target, cleaned, "" */
	char *body;		/* NUL-terminated (may hold NULs before) */
	size_t body_len;
};

int https_get(const struct https_opts *o, struct https_result *out);
void https_result_release(struct https_result *r);

#endif
