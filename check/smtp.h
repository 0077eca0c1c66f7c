/*
 * smtp.h — the probe of one MX host at one address: connect, greeting,
 * EHLO, STARTTLS, TLS handshake, and what the certificate is (RFC 5321,
 * RFC 3207, RFC 8461 §4.2 for the name).
 *
 * smtp_probe() speaks to the server through fetch/'s transport
 * (fetch/net.h) and sends EHLO, STARTTLS and QUIT, nothing else: no mail
 * is ever started.  Every wait is bounded by timeout_ms and the stop
 * flag; what the server sends is held to caps (line, lines per reply,
 * bytes per reply) and every string it sent is cleaned of control bytes
 * before it reaches the struct.
 *
 * The struct smtp_probe is filled whatever happens (zeroed first); it owns
 * the copies of the certificate chain, which smtp_probe_release() frees.
 * It may be released after a failed probe too, and twice.
 */
#ifndef MXD_CHECK_SMTP_H
#define MXD_CHECK_SMTP_H

#include <stddef.h>

struct smtp_probe_opts {
	const char *host;	/* MX name: SNI, name check, log lines */
	const char *addr;	/* numeric IPv4/IPv6 address to connect to (from the resolver) */
	int port;		/* 0: 25 */
	int timeout_ms;		/* each step: connect, each reply, handshake; 0: 30 s */
	const char *ca_file;	/* NULL: the system trust store */
	const char *helo;	/* EHLO name; NULL: gethostname() */
	const volatile int *stop;	/* non-zero: give up within 200 ms */
};

enum smtp_stage {
	SMTP_NONE,
	SMTP_CONNECTED,
	SMTP_GREETED,	/* a 220 greeting */
	SMTP_EHLO,	/* a 250 reply to EHLO */
	SMTP_STARTTLS,	/* a 220 reply to STARTTLS */
	SMTP_TLS,	/* the handshake completed */
};

/* The caps on what the probe takes from the server and keeps. */
#define SMTP_MAX_LINE 4096		/* RFC 5321 §4.5.3.1.5 says 512 */
#define SMTP_MAX_LINES 100		/* lines of one reply */
#define SMTP_MAX_REPLY (64 * 1024)	/* bytes of one reply */
#define SMTP_MAX_CERTS 10		/* certificates of the chain kept */
#define SMTP_MAX_CERT (64 * 1024)	/* bytes of one certificate kept */

struct smtp_cert {
	unsigned char *der;
	size_t len;
};

struct smtp_probe {
	enum smtp_stage reached;	/* the last stage completed */
	char error[256];	/* why it stopped before SMTP_TLS (cleaned text), "" */
	int reply_code;		/* the reply code when a reply stopped it (421, 454…), 0 */
	char banner[256];	/* first greeting line, cleaned */
	int starttls_offered;
	/* from here on, set once SMTP_TLS is reached */
	char tls_desc[128];	/* protocol, cipher: "TLS1.3, AES-256-GCM" */
	int chain_ok;		/* chains to a trusted root (ca_file or system), valid now */
	int name_ok;		/* the leaf is valid for host (RFC 8461 §4.2) */
	char verify_error[256];	/* GnuTLS's reason when !chain_ok */
	long long not_before, not_after;	/* leaf validity (Unix time) */
	char subject[256], issuer[256];	/* leaf DNs, cleaned */
	struct smtp_cert *chain;	/* as presented, leaf first, capped */
	size_t n_chain;
	size_t n_presented;	/* certificates the server sent (may exceed n_chain) */
};

/* 0: TLS reached (the certificate may still be bad: see chain_ok,
 * name_ok); -1: see out->error and out->reached. */
int smtp_probe(const struct smtp_probe_opts *o, struct smtp_probe *out);
void smtp_probe_release(struct smtp_probe *p);

#endif
