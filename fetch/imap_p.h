/*
 * imap_p.h — internals shared by imap.c and tls.c: the transport of
 * fetch/net.h under libetpan.
 *
 * IMAP uses net_tls_start() only, which verifies the chain and the host
 * name inside the handshake, so implicit TLS and STARTTLS use the same
 * code and no byte of a credential can pass before verification.
 * net_low() wraps the connection in a libetpan mailstream_low driver
 * whose every read and write waits at most the timeout; from then on the
 * mailstream owns it (closing the stream closes and frees it).  Because
 * the driver sees every byte, it is also where the protocol is logged
 * (-D imap) and where credentials are redacted: libetpan's logger is
 * never used.
 */
#ifndef MXD_FETCH_IMAP_P_H
#define MXD_FETCH_IMAP_P_H

#include <libetpan/libetpan.h>
#include <stdint.h>

#include "fetch/net.h"

/* A line from the server (outside literals) may be this long at most:
 * IMAP lines are short, the longest we ask for are FETCH (UID
 * RFC822.SIZE FLAGS) answers and CAPABILITY. */
#define NET_MAX_LINE (1u << 20)

/* The mailstream_low driver; the low owns n from now on. */
mailstream_low *net_low(struct net *n);

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
/* While on, what the client sends is logged as "<tag> <command> [redacted]"
 * and continuation lines as "[redacted]". */
void net_set_redact(struct net *n, int on);
/* Any occurrence of this text is replaced by [redacted] in every log line
 * (copied; wiped when the connection is freed). */
void net_set_secret(struct net *n, const char *secret);

#endif
