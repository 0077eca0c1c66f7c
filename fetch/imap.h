/*
 * imap.h — the IMAP source: one session with one server (IMAP4rev1,
 * RFC 3501), spoken through libetpan over a transport of our own (TCP with
 * a timeout on every step, TLS by GnuTLS with the certificate chain and
 * host name verified before any credential is sent: RFC 8314 implicit TLS
 * or RFC 2595 STARTTLS, never a silent downgrade).
 *
 * A session is opened (connect, TLS, login), then a mailbox is selected
 * (EXAMINE unless the caller will move messages), the sizes of the messages
 * from a UID on are listed, and messages are fetched by UID set, many per
 * command, with BODY.PEEK[] (\Seen untouched).  Moves use UID MOVE
 * (RFC 6851) or UID COPY + UID STORE \Deleted + UID EXPUNGE (RFC 4315);
 * a plain EXPUNGE is never sent.  imap_idle() waits for new mail (RFC 2177).
 *
 * The module knows nothing of reports or the store: fetched bytes go to a
 * callback and are valid only during the call.  Errors fill a struct mxd_err
 * (MXD_E_NET: unreachable or connection lost; MXD_E_TLS: certificate not
 * verified or STARTTLS impossible; MXD_E_AUTH: login refused; MXD_E_PROTO:
 * unexpected response or a server beyond the limits of the transport;
 * MXD_E_CONFIG: no such mailbox, or a NO to a command that changes the
 * mailbox: permissions, not the network; MXD_E_INTERRUPTED: *stop was set
 * while waiting).  After a network or
 * protocol error the session is unusable: close it (imap_close() then drops
 * the connection without waiting for a LOGOUT answer).  Protocol steps are
 * logged at MXD_LOG_INFO, the protocol itself under -D imap, with
 * credentials redacted; libetpan's own logging is never switched on.
 */
#ifndef MXD_FETCH_IMAP_H
#define MXD_FETCH_IMAP_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum imap_security {
	IMAP_SEC_IMAPS,		/* TLS from the first byte (RFC 8314), port 993 */
	IMAP_SEC_STARTTLS,	/* RFC 2595/3501 STARTTLS, required, port 143 */
	IMAP_SEC_NONE,		/* no TLS: loopback only (the caller checks) */
};

enum imap_auth {
	IMAP_AUTH_LOGIN,	/* LOGIN command */
	IMAP_AUTH_PLAIN,	/* AUTHENTICATE PLAIN (SASL, RFC 4616) */
	IMAP_AUTH_XOAUTH2,	/* AUTHENTICATE XOAUTH2 with a bearer token */
};

struct imap_conf {
	const char *name;	/* the account, for log lines */
	const char *host;	/* a DNS name or an IP literal; verified */
	int port;
	enum imap_security security;
	enum imap_auth auth;
	const char *user;
	const char *secret;	/* password or token; never logged */
	const char *ca_file;	/* PEM trust anchors, or NULL: the system's */
	int insecure;		/* tests only: skip certificate verification */
	int timeout;		/* seconds, for each network step */
	size_t max_literal;	/* the largest message body the server may send */
	const volatile int *stop;	/* set by a signal: every wait ends */
};

#define IMAP_CAP_MOVE (1u << 0)		/* RFC 6851 */
#define IMAP_CAP_UIDPLUS (1u << 1)	/* RFC 4315 */
#define IMAP_CAP_IDLE (1u << 2)		/* RFC 2177 */

struct imap_box {
	uint32_t uidvalidity;
	uint32_t uidnext;	/* 0 when the server did not say */
	uint32_t exists;
	int read_only;		/* the server opened it read-only */
};

/* UIDs and sizes of messages, in UID order; grows as needed. */
struct imap_size {
	uint32_t uid;
	uint32_t size;		/* RFC822.SIZE */
};

struct imap_list {
	struct imap_size *v;
	size_t n, cap;
	uint64_t bytes;		/* sum of the sizes */
	size_t deleted;		/* left out: flagged \Deleted */
};

struct imap_msg {
	uint32_t uid;
	const void *data;
	size_t len;
};

/* Returns 0 to go on; non-zero stops the fetch (imap_fetch returns it). */
typedef int (*imap_msg_fn)(const struct imap_msg *m, void *ctx);

struct imap;

/* Connects, secures, logs in.  On failure *out is NULL. */
int imap_open(const struct imap_conf *c, struct imap **out, struct mxd_err *err);
/* LOGOUT (or a plain close after an error), then frees; accepts NULL. */
void imap_close(struct imap *im);
/* IMAP_CAP_* of the server, as it announced them after login. */
unsigned imap_caps(const struct imap *im);

/* EXAMINE (read_only) or SELECT a mailbox. */
int imap_select(struct imap *im, const char *mailbox, int read_only,
		struct imap_box *box, struct mxd_err *err);

/*
 * Appends the UID and size of every message whose UID is >= first, in UID
 * order: `UID FETCH lo:hi (UID RFC822.SIZE)` over windows of UIDs up to
 * `uidnext` (from imap_select), then `lo:*` for what arrived since.  With
 * skip_deleted, FLAGS are asked for too and messages flagged \Deleted are
 * left out (counted in out->deleted): they are on their way out, e.g.
 * copied by an earlier move that could not expunge them.  Memory is 8
 * bytes per message in the list plus one window's answer.
 */
int imap_list_sizes(struct imap *im, uint32_t first, uint32_t uidnext,
		    int skip_deleted, struct imap_list *out, struct mxd_err *err);
void imap_list_release(struct imap_list *l);

/*
 * Fetches the messages uids[0..n) (ascending) in one UID FETCH: whole
 * (BODY.PEEK[]) when head_max is 0, else their header, at most head_max
 * bytes of it (BODY.PEEK[HEADER]<0.head_max>).  Calls fn once per message
 * received with a body; a UID expunged meanwhile, or answered without its
 * body, is not (the caller sees it missing).  The answer may be at most
 * `expect` bytes (0: the transport's default): sizes from the listing are
 * hints, and a server that sends more ends the fetch with MXD_E_PROTO and
 * imap_overflowed() true.  Returns 0, -1 with err, or fn's non-zero value.
 */
int imap_fetch(struct imap *im, const uint32_t *uids, size_t n, size_t head_max,
	       uint64_t expect, imap_msg_fn fn, void *ctx, struct mxd_err *err);
/*
 * The same in two steps, so that one thread can download the next batch
 * while another stores this one: imap_fetch_get() sends the UID FETCH and
 * keeps the whole answer (in libetpan's structures, no copy);
 * imap_fetched_each() calls fn for its messages as imap_fetch() does, and
 * needs no connection; imap_fetched_free() accepts NULL.  A connection is
 * used by one thread at a time: nothing else may run on `im` while
 * imap_fetch_get() does.
 */
struct imap_fetched;
int imap_fetch_get(struct imap *im, const uint32_t *uids, size_t n, size_t head_max,
		   uint64_t expect, struct imap_fetched **out, struct mxd_err *err);
int imap_fetched_each(const struct imap_fetched *b, imap_msg_fn fn, void *ctx);
void imap_fetched_free(struct imap_fetched *b);
/* True when the last failure was a server sending more than expected. */
int imap_overflowed(const struct imap *im);
/*
 * Which of uids[0..n) still exist (UID FETCH set (UID)): their bits in
 * `exists` (n bytes, 1 or 0) are set.  For UIDs that a fetch did not
 * return: expunged meanwhile, or not sent by the server.
 */
int imap_exists(struct imap *im, const uint32_t *uids, size_t n,
		unsigned char *exists, struct mxd_err *err);

/*
 * Checks that `mailbox` exists and can hold messages (LIST), before
 * anything is fetched for a move to it.  When it does not, the error is
 * MXD_E_CONFIG and names the mailbox the server probably means: the same
 * name under the personal namespace (NAMESPACE, RFC 2342; Cyrus and
 * Courier keep user mailboxes under "INBOX."), or a mailbox whose last
 * name part matches.
 */
int imap_check_mailbox(struct imap *im, const char *mailbox,
		       struct mxd_err *err);

/*
 * Moves uids[0..n) (ascending) to `mailbox`: UID MOVE, else UID COPY, UID
 * STORE +FLAGS.SILENT (\Deleted) and UID EXPUNGE of exactly those UIDs.
 * A server with neither MOVE nor UIDPLUS is refused (MXD_E_CONFIG): only a
 * plain EXPUNGE could finish the move there, and it would also remove
 * other clients' \Deleted mail.  Returns 0, or -1 with err.
 */
int imap_move(struct imap *im, const uint32_t *uids, size_t n,
	      const char *mailbox, struct mxd_err *err);

/*
 * IDLE for at most max_wait seconds (callers re-issue it before the 29
 * minutes of RFC 2177 §3), then DONE and a NOOP: some servers push
 * nothing during IDLE and tell of new mail only then.  Returns 1 when the
 * server announced new mail (an EXISTS response), 0 when the time ran out
 * or *stop became non-zero (checked every second) — keep-alive lines such
 * as "* OK Still here" do not end the wait — or -1 with err.  Without the
 * IDLE capability it sleeps max_wait and sends NOOP, with the same
 * results.
 */
int imap_idle(struct imap *im, int max_wait, const volatile int *stop,
	      struct mxd_err *err);

#endif
