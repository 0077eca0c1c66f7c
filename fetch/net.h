/*
 * net.h — the program's one TCP + TLS transport (GnuTLS), for fetch/'s
 * IMAP and for check/'s SMTP probe.
 *
 * A struct net is one TCP connection, plain at first, made with a timeout
 * to a name it resolves or to a numeric address it is given.  Every wait
 * (connect, read, write, handshake) is bounded by the timeout and gives up
 * within 200 ms of *stop becoming non-zero.  Two TLS handshakes run on it:
 * net_tls_start() verifies chain and host name inside the handshake and
 * fails before any byte of the application can pass (IMAP: nothing secret
 * leaves before verification); net_tls_probe() completes the handshake
 * whatever the certificate, then says what verification found and keeps
 * the chain for a look (the SMTP probe reports, it does not deliver).
 *
 * Bytes go over it either through net_low() (imap_p.h: libetpan owns the
 * connection from then on) or through net_read_line()/net_write() here,
 * never both.  Strings returned (net_error(), net_tls_desc(), the peer's
 * DER) belong to the connection and live until net_free(); net_free()
 * accepts NULL.
 */
#ifndef MXD_FETCH_NET_H
#define MXD_FETCH_NET_H

#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"

struct net;

struct net_opts {
	const char *name;	/* account or host, for log lines */
	const char *host;	/* resolved unless addr is set; SNI and name checks */
	const char *addr;	/* numeric IPv4/IPv6 address to connect to, or NULL */
	int port;
	int timeout_ms;
	const char *ca_file;	/* NULL: the system trust store */
	int insecure;
	int loopback_only;	/* refuse unless every address is loopback */
	const volatile int *stop;	/* non-zero: give up within 200 ms */
	size_t max_literal;	/* largest literal the server may announce */
};

int net_connect(const struct net_opts *o, struct net **out, struct mxd_err *err);
/* Verified TLS handshake on the open connection (MXD_E_TLS, MXD_E_NET,
 * MXD_E_CONFIG for an unreadable ca_file). */
int net_tls_start(struct net *n, struct mxd_err *err);

/* What net_tls_probe() found. */
struct net_peer {
	char session[128];	/* "TLS1.3, AES-256-GCM" */
	int chain_ok;		/* the chain leads to a trusted root, all valid now */
	char chain_error[256];	/* GnuTLS's reason when !chain_ok */
	size_t n_certs;		/* certificates the server presented */
};
/*
 * A TLS handshake that completes whatever the certificate is, so that a
 * probe can report it; the chain is verified afterwards against ca_file or
 * the system store (GnuTLS's status, without the host name: the caller
 * applies its own name rules to the leaf).  -1 with err when no TLS
 * session came up (closed, reset, timeout, no common protocol).
 */
int net_tls_probe(struct net *n, struct net_peer *peer, struct mxd_err *err);
/* The i-th certificate the server presented (0: its own), DER; NULL past
 * the end.  Owned by n. */
const unsigned char *net_peer_cert(const struct net *n, size_t i, size_t *len);
int net_is_tls(const struct net *n);
/* "TLS1.3 ..., CN=... issued by CN=..." for -v, or "" */
const char *net_tls_desc(const struct net *n);
void net_free(struct net *n);

/*
 * Line I/O, in clear or over TLS.  net_read_line() resets `line` and reads
 * one line into it, without its LF (and a CR before it), within `ms`
 * milliseconds; -1 when the line passes `max` bytes, when no whole line
 * came in time, on end of stream, on error or on stop (net_error() says
 * which).  net_write() writes all of p or fails.  Bytes read past the line
 * wait for the next call; any still waiting when TLS starts were sent in
 * clear before the handshake, and the handshake refuses to run.
 */
int net_read_line(struct net *n, struct buf *line, size_t max, int ms);
int net_write(struct net *n, const void *p, size_t len);

/* Waits until the connection is readable: 1, 0 after ms, -1 on error.
 * Bytes already decrypted and buffered by GnuTLS count as readable. */
int net_wait_readable(struct net *n, int ms);
/* Why the connection failed: NET_FAIL_* (0 when it did not). */
enum {
	NET_FAIL_NONE,
	NET_FAIL_IO,		/* closed, reset, timed out */
	NET_FAIL_STOPPED,	/* *stop was set */
	NET_FAIL_HOSTILE,	/* a line or literal beyond the limits */
	NET_FAIL_BUDGET,	/* more bytes than the command's budget */
};
int net_failure(const struct net *n);
/* Why the last read or write failed ("no answer in 60 s", "connection
 * closed by the server"), or "". */
const char *net_error(const struct net *n);

#endif
