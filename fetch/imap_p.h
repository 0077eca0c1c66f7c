/*
 * imap_p.h — internals shared by imap.c and tls.c: the transport under
 * libetpan.
 *
 * A struct net is one TCP connection, plain at first; net_tls_start() runs
 * a GnuTLS handshake on it that verifies the chain and the host name, so
 * implicit TLS and STARTTLS use the same code and no byte of a credential
 * can pass before verification.  net_low() wraps the connection in a
 * libetpan mailstream_low driver whose every read and write waits at most
 * the timeout; from then on the mailstream owns it (closing the stream
 * closes and frees it).  Because the driver sees every byte, it is also
 * where the protocol is logged (-D imap) and where credentials are
 * redacted: libetpan's logger is never used.
 */
#ifndef MXD_FETCH_IMAP_P_H
#define MXD_FETCH_IMAP_P_H

#include <libetpan/libetpan.h>

#include "util/err.h"

struct net;

struct net_opts {
	const char *name;	/* account, for log lines */
	const char *host;
	int port;
	int timeout_ms;
	const char *ca_file;	/* NULL: the system trust store */
	int insecure;
};

int net_connect(const struct net_opts *o, struct net **out, struct mxd_err *err);
/* Verified TLS handshake on the open connection (MXD_E_TLS, MXD_E_NET,
 * MXD_E_CONFIG for an unreadable ca_file). */
int net_tls_start(struct net *n, struct mxd_err *err);
int net_is_tls(const struct net *n);
/* "TLS1.3 ..., CN=... issued by CN=..." for -v, or "" */
const char *net_tls_desc(const struct net *n);
/* The mailstream_low driver; the low owns n from now on. */
mailstream_low *net_low(struct net *n);
/* Frees a connection not (yet) wrapped by net_low(). */
void net_free(struct net *n);

/* Waits until the connection is readable: 1, 0 after ms, -1 on error.
 * Bytes already decrypted and buffered by GnuTLS count as readable. */
int net_wait_readable(struct net *n, int ms);
/* Why the last read or write failed ("no answer in 60 s", "connection
 * closed by the server"), or "". */
const char *net_error(const struct net *n);

/* While on, what the client sends is logged as "<tag> <command> [redacted]"
 * and continuation lines as "[redacted]". */
void net_set_redact(struct net *n, int on);
/* Any occurrence of this text is replaced by [redacted] in every log line
 * (copied; wiped when the connection is freed). */
void net_set_secret(struct net *n, const char *secret);

#endif
