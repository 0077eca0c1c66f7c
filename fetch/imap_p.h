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
#include <stdint.h>

#include "util/err.h"

struct net;

struct net_opts {
	const char *name;	/* account, for log lines */
	const char *host;
	int port;
	int timeout_ms;
	const char *ca_file;	/* NULL: the system trust store */
	int insecure;
	int loopback_only;	/* refuse unless every address is loopback */
	const volatile int *stop;	/* non-zero: give up within 200 ms */
	size_t max_literal;	/* largest literal the server may announce */
};

/* A line from the server (outside literals) may be this long at most:
 * IMAP lines are short, the longest we ask for are FETCH (UID
 * RFC822.SIZE FLAGS) answers and CAPABILITY. */
#define NET_MAX_LINE (1u << 20)

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
/*
 * What the server sends is checked as it arrives, before libetpan
 * allocates anything for it: a literal ("{N}" at the end of a line)
 * larger than max_literal, a line longer than NET_MAX_LINE, or more bytes
 * for one command than its budget fail the read (net_error() says why).
 * The budget is NET_DEFAULT_BUDGET unless net_set_budget() arms another
 * for the next command (it takes effect when that command is written).
 */
#define NET_DEFAULT_BUDGET ((uint64_t)4 << 20)
void net_set_budget(struct net *n, uint64_t bytes);
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

/* While on, what the client sends is logged as "<tag> <command> [redacted]"
 * and continuation lines as "[redacted]". */
void net_set_redact(struct net *n, int on);
/* Any occurrence of this text is replaced by [redacted] in every log line
 * (copied; wiped when the connection is freed). */
void net_set_secret(struct net *n, const char *secret);

#endif
