/*
 * tls.c — the transport under libetpan: a TCP connection with a timeout on
 * every step, and TLS by GnuTLS that verifies the server before anything
 * secret is sent (RFC 8314 §5, RFC 2595 §2.4, host name rules of RFC 6125
 * as GnuTLS applies them), as a libetpan mailstream_low driver.
 *
 * Why our own driver: Debian's libetpan runs its GnuTLS handshake without
 * loading trust anchors or calling a verify function (an unknown CA was
 * accepted, and LOGIN then sent the password); its
 * timeouts do not reach the TLS layer; and its logger hands the LOGIN line,
 * password included, to the log callback.  Here the handshake fails unless
 * gnutls_session_set_verify_cert() accepts the chain and the name, every
 * wait is a poll() bounded by the timeout, and logging happens on the
 * bytes themselves with credentials redacted.
 *
 * The driver is also where a hostile server is held to limits, because it
 * sees the bytes before libetpan does: a line longer than NET_MAX_LINE, a
 * literal larger than max_literal (libetpan would allocate whatever
 * "{4000000000}" says), and more literal bytes than the command in flight
 * may bring fail the read.  End of stream is an error here: libetpan takes
 * a 0 from read() as "try again" and would spin on a closed connection.
 * Every wait is cut in slices of at most STOP_SLICE_MS and gives up when
 * the caller's stop flag is set (SIGINT, SIGTERM).
 *
 * check/'s SMTP probe uses the same connection without libetpan (net.h):
 * to a numeric address the resolver gave it, with line reads that are
 * capped and timed, and with net_tls_probe(), a handshake that completes
 * whatever the certificate and verifies it afterwards, so that a broken
 * certificate becomes a finding rather than a failed handshake.
 */
#define _GNU_SOURCE	/* getaddrinfo_a: name resolution that can be stopped */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fetch/imap_p.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define LOG_LINE_MAX 400	/* bytes of one protocol line shown by -D imap */
#define STOP_SLICE_MS 200	/* the longest wait between two looks at stop */
#define TAIL_MAX 24		/* enough for "{18446744073709551615}\r" */
#define RBUF_SIZE 4096		/* bytes read ahead by net_read_line() */

/* What the protocol logger is in the middle of, per direction. */
struct logdir {
	struct buf line;	/* the current line, capped */
	size_t literal;		/* bytes of a literal still to skip */
	int cut;		/* the line passed LOG_LINE_MAX */
};

/* What the server is in the middle of sending, for the limits. */
struct inbound {
	uint64_t literal;	/* bytes of a literal still to come */
	size_t line;		/* bytes of the current line so far */
	char tail[TAIL_MAX];	/* its last bytes, for a "{N}" at its end */
	size_t tail_len;
	uint64_t budget;	/* bytes the command may still bring */
	uint64_t limit;		/* what it could bring in all */
	uint64_t armed;		/* the next command's budget, or 0 */
};

struct net {
	int fd;
	char *name;
	char *host;
	int timeout_ms;
	char *ca_file;
	int insecure;
	int loopback_only;
	const volatile int *stop;
	size_t max_literal;
	struct inbound inb;
	int failure;		/* NET_FAIL_* */
	gnutls_session_t tls;
	gnutls_certificate_credentials_t cred;
	char tls_desc[512];
	char error[200];
	int log;		/* -D imap */
	int redact;
	char *secret;
	struct logdir in, out;
	unsigned char rbuf[RBUF_SIZE];	/* net_read_line(): read, not yet used */
	size_t roff, rlen;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Protocol logging ---------------------------------------------------- */

/* Replaces every occurrence of the secret with [redacted], in place. */
static void
scrub(struct net *n, struct buf *b)
{
	size_t sl, i;
	struct buf t;

	if (!n->secret || !*n->secret || b->len == 0)
		return;
	sl = strlen(n->secret);
	buf_init(&t, BUF_NOCAP);
	for (i = 0; i < b->len;) {
		if (b->len - i >= sl && memcmp(b->data + i, n->secret, sl) == 0) {
			buf_adds(&t, "[redacted]");
			i += sl;
		} else {
			buf_addc(&t, b->data[i++]);
		}
	}
	buf_reset(b);
	buf_add(b, t.data, t.len);
	explicit_bzero(t.data, t.len);
	buf_release(&t);
}

/* A literal announced at the end of a line: "{123}" or "{123+}". */
static size_t
literal_size(const unsigned char *p, size_t n)
{
	size_t i, v = 0, mul = 1;

	if (n < 3 || p[n - 1] != '}')
		return 0;
	i = n - 1;
	if (p[i - 1] == '+')
		i--;
	while (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9') {
		if (mul > (size_t)1e15)
			return 0;
		v += (size_t)(p[i - 1] - '0') * mul;
		mul *= 10;
		i--;
	}
	if (i == 0 || p[i - 1] != '{' || mul == 1)
		return 0;
	return v;
}

/* An IMAP command name: letters only. */
static int
is_word(const unsigned char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z')))
			return 0;
	return 1;
}

static void
emit_line(struct net *n, struct logdir *d, const char *dir)
{
	struct buf shown;
	size_t i;
	int is_client = dir[0] == 'C';

	while (d->line.len && (d->line.data[d->line.len - 1] == '\n' ||
			       d->line.data[d->line.len - 1] == '\r'))
		d->line.len--;
	if (!d->cut)
		d->literal = literal_size(d->line.data, d->line.len);
	if (is_client && n->redact) {
		/* keep "<tag> <COMMAND>" of a command line, nothing of the rest */
		const unsigned char *p = d->line.data;
		size_t sp1 = 0, sp2;

		while (sp1 < d->line.len && p[sp1] != ' ')
			sp1++;
		sp2 = sp1 + 1;
		while (sp2 < d->line.len && p[sp2] != ' ')
			sp2++;
		if (sp1 < d->line.len && is_word(p + sp1 + 1, sp2 - sp1 - 1))
			d->line.len = sp2;
		else
			d->line.len = 0;
		buf_adds(&d->line, d->line.len ? " [redacted]" : "[redacted]");
	}
	scrub(n, &d->line);
	buf_init(&shown, BUF_NOCAP);
	for (i = 0; i < d->line.len; i++) {
		unsigned char c = d->line.data[i];

		if (c >= 0x20 && c < 0x7f)
			buf_addc(&shown, c);
		else
			buf_printf(&shown, "\\x%02x", c);
	}
	mxd_log(MXD_LOG_DEBUG, "imap \"%s\" %s %s%s", n->name, dir,
		buf_cstr(&shown), d->cut ? " [...]" : "");
	buf_release(&shown);
	if (d->line.data)
		explicit_bzero(d->line.data, d->line.cap);
	buf_reset(&d->line);
	d->cut = 0;
}

static void
log_bytes(struct net *n, struct logdir *d, const char *dir,
	  const unsigned char *p, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const unsigned char *nl;
		size_t take;

		if (d->literal) {
			take = len - i < d->literal ? len - i : d->literal;
			d->literal -= take;
			i += take;
			continue;
		}
		nl = memchr(p + i, '\n', len - i);
		take = nl ? (size_t)(nl - (p + i)) + 1 : len - i;
		if (d->line.len < LOG_LINE_MAX) {
			size_t room = LOG_LINE_MAX - d->line.len;

			buf_add(&d->line, p + i, take < room ? take : room);
			if (take > room)
				d->cut = 1;
		} else {
			d->cut = 1;
		}
		i += take;
		if (nl)
			emit_line(n, d, dir);
	}
}

/* Socket and poll ------------------------------------------------------ */

/* "60 s", or "250 ms" for a timeout that is not whole seconds */
static const char *
span(char out[32], int ms)
{
	if (ms % 1000 == 0)
		snprintf(out, 32, "%d s", ms / 1000);
	else
		snprintf(out, 32, "%d ms", ms);
	return out;
}

static int
stopped(struct net *n)
{
	if (!n->stop || !*n->stop)
		return 0;
	snprintf(n->error, sizeof(n->error), "interrupted");
	n->failure = NET_FAIL_STOPPED;
	return 1;
}

/* Says the wait of `ms` is over. */
static int
timed_out(struct net *n, int ms)
{
	char t[32];

	snprintf(n->error, sizeof(n->error), "no answer from the server in %s",
		 span(t, ms));
	n->failure = NET_FAIL_IO;
	return -1;
}

/* Waits for `events` on the socket until the deadline (now_ms() time) of
 * a wait of `ms`, looking at the stop flag every STOP_SLICE_MS. */
static int
wait_fd_until(struct net *n, short events, double deadline, int ms)
{
	struct pollfd p;
	double left;
	int r;

	for (;;) {
		if (stopped(n))
			return -1;
		left = deadline - now_ms();
		if (left <= 0)
			return timed_out(n, ms);
		p.fd = n->fd;
		p.events = events;
		p.revents = 0;
		r = poll(&p, 1, left < STOP_SLICE_MS ? (int)left : STOP_SLICE_MS);
		if (r > 0)
			return 0;	/* also POLLERR/POLLHUP: the call says why */
		if (r < 0 && errno != EINTR) {
			snprintf(n->error, sizeof(n->error), "poll: %s",
				 strerror(errno));
			n->failure = NET_FAIL_IO;
			return -1;
		}
	}
}

/* Waits for `events` for at most the connection's timeout. */
static int
wait_fd(struct net *n, short events)
{
	return wait_fd_until(n, events, now_ms() + n->timeout_ms, n->timeout_ms);
}

int
net_wait_readable(struct net *n, int ms)
{
	struct pollfd p;
	int r;

	if (n->roff < n->rlen)
		return 1;
	if (n->tls && gnutls_record_check_pending(n->tls) > 0)
		return 1;
	p.fd = n->fd;
	p.events = POLLIN;
	p.revents = 0;
	r = poll(&p, 1, ms);
	if (r < 0 && errno == EINTR)
		return 0;
	if (r < 0) {
		snprintf(n->error, sizeof(n->error), "poll: %s", strerror(errno));
		return -1;
	}
	return r > 0;
}

const char *
net_error(const struct net *n)
{
	return n->error;
}

int
net_failure(const struct net *n)
{
	return n->failure;
}

void
net_set_budget(struct net *n, uint64_t bytes)
{
	n->inb.armed = bytes;
}

/* A command goes out: from now on the server's answer counts against
 * its budget. */
static void
start_budget(struct net *n)
{
	n->inb.budget = n->inb.armed ? n->inb.armed : NET_DEFAULT_BUDGET;
	n->inb.limit = n->inb.budget;
	n->inb.armed = 0;
}

static int
hostile(struct net *n, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
hostile(struct net *n, int kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(n->error, sizeof(n->error), fmt, ap);
	va_end(ap);
	n->failure = kind;
	return -1;
}

/* The literal announced at the end of a line: "{123}", "{123+}", "~{123}". */
static int
tail_literal(const struct inbound *in, uint64_t *size)
{
	size_t i = in->tail_len;
	uint64_t v = 0, mul = 1;

	if (i && in->tail[i - 1] == '\r')
		i--;
	if (i < 3 || in->tail[i - 1] != '}')
		return 0;
	i--;
	if (in->tail[i - 1] == '+')
		i--;
	while (i > 0 && in->tail[i - 1] >= '0' && in->tail[i - 1] <= '9') {
		if (mul > UINT64_MAX / 10 || v > UINT64_MAX - mul * 9)
			return -1;	/* no literal is that large */
		v += (uint64_t)(in->tail[i - 1] - '0') * mul;
		mul *= 10;
		i--;
	}
	if (i == 0 || in->tail[i - 1] != '{' || mul == 1)
		return 0;
	*size = v;
	return 1;
}

/* Follows the bytes the server sent: lines, and literals in them. */
static int
track_inbound(struct net *n, const unsigned char *p, size_t len)
{
	struct inbound *in = &n->inb;
	size_t i = 0;

	if (len > in->budget)
		return hostile(n, NET_FAIL_BUDGET, "the server sent more than "
			       "the %llu bytes expected in answer to one command",
			       (unsigned long long)in->limit);
	in->budget -= len;
	while (i < len) {
		const unsigned char *nl;
		size_t take;
		uint64_t lit;
		int r;

		if (in->literal) {
			take = len - i < in->literal ? len - i : (size_t)in->literal;
			in->literal -= take;
			i += take;
			continue;
		}
		nl = memchr(p + i, '\n', len - i);
		take = nl ? (size_t)(nl - (p + i)) : len - i;
		in->line += take;
		if (in->line > NET_MAX_LINE)
			return hostile(n, NET_FAIL_HOSTILE, "the server sent a line "
				       "longer than %u bytes", NET_MAX_LINE);
		if (take >= TAIL_MAX) {
			memcpy(in->tail, p + i + take - TAIL_MAX, TAIL_MAX);
			in->tail_len = TAIL_MAX;
		} else {
			if (in->tail_len + take > TAIL_MAX) {
				size_t drop = in->tail_len + take - TAIL_MAX;

				memmove(in->tail, in->tail + drop, in->tail_len - drop);
				in->tail_len -= drop;
			}
			memcpy(in->tail + in->tail_len, p + i, take);
			in->tail_len += take;
		}
		i += take;
		if (!nl)
			break;
		i++;	/* the LF */
		r = tail_literal(in, &lit);
		in->line = 0;
		in->tail_len = 0;
		if (r == 0)
			continue;
		if (r < 0)
			return hostile(n, NET_FAIL_HOSTILE, "the server announced a "
				       "literal of more than 2^64 bytes");
		if (lit > n->max_literal)
			return hostile(n, NET_FAIL_HOSTILE, "the server announced a "
				       "literal of %llu bytes, more than the %zu "
				       "allowed", (unsigned long long)lit,
				       n->max_literal);
		in->literal = lit;
	}
	return 0;
}

static int
is_ip_literal(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

static void
tune_socket(int fd)
{
	int on = 1, idle = 60, intvl = 15, cnt = 4;

	/* commands are small and wait for answers: no Nagle delay */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	/* a dead peer during a long IDLE shows up in minutes, not hours */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Non-blocking connect bounded by the timeout. */
static int
connect_one(struct net *n, const struct addrinfo *ai, char *why, size_t whyn)
{
	int fd, e = 0;
	socklen_t el = sizeof(e);

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, whyn, "%s", strerror(errno));
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			snprintf(why, whyn, "%s", strerror(errno));
			close(fd);
			return -1;
		}
		n->fd = fd;
		if (wait_fd(n, POLLOUT) < 0) {
			snprintf(why, whyn, "%s", n->error);
			n->fd = -1;
			close(fd);
			return -1;
		}
		n->fd = -1;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e) {
			snprintf(why, whyn, "%s", strerror(e ? e : errno));
			close(fd);
			return -1;
		}
	}
	tune_socket(fd);
	return fd;
}

/* Resolves host with getaddrinfo_a, so that a stop or the timeout ends
 * the wait (a blocking getaddrinfo can take 30 s on a dead resolver).  A
 * request still running when we give up keeps its memory: glibc writes
 * into it when it finishes. */
static int
resolve(struct net *n, const char *host, int port, struct addrinfo **res,
	struct mxd_err *err)
{
	struct gaicb *req = xcalloc(1, sizeof(*req));
	struct addrinfo *hints = xcalloc(1, sizeof(*hints));
	struct gaicb *reqs[1];
	const struct gaicb *list[1];
	struct timespec slice = {0, STOP_SLICE_MS * 1000000L};
	char *port_s = xasprintf("%d", port);
	double start = now_ms();
	int rc;

	hints->ai_family = AF_UNSPEC;
	hints->ai_socktype = SOCK_STREAM;
	req->ar_name = n->host;
	req->ar_service = port_s;
	req->ar_request = hints;
	reqs[0] = req;
	list[0] = req;
	rc = getaddrinfo_a(GAI_NOWAIT, reqs, 1, NULL);
	if (rc != 0) {
		free(port_s);
		free(hints);
		free(req);
		return mxd_err_set(err, MXD_E_NET, "cannot resolve \"%s\": %s",
				   host, gai_strerror(rc));
	}
	while ((rc = gai_error(req)) == EAI_INPROGRESS) {
		if (stopped(n) || now_ms() - start > n->timeout_ms) {
			if (gai_cancel(req) == EAI_CANCELED) {
				free(port_s);
				free(hints);
				free(req);
			}
			if (n->failure == NET_FAIL_STOPPED)
				return mxd_err_set(err, MXD_E_INTERRUPTED,
						   "interrupted while resolving "
						   "\"%s\"", host);
			return mxd_err_set(err, MXD_E_NET, "cannot resolve \"%s\": "
					   "no answer in %d s", host,
					   n->timeout_ms / 1000);
		}
		gai_suspend(list, 1, &slice);
	}
	*res = req->ar_result;
	free(port_s);
	free(hints);
	free(req);
	if (rc != 0)
		return mxd_err_set(err, MXD_E_NET, "cannot resolve \"%s\": %s",
				   host, rc == EAI_SYSTEM ? strerror(errno)
							  : gai_strerror(rc));
	return 0;
}

/* The address the caller resolved itself (an MX host's A or AAAA): no
 * lookup, so nothing to wait for. */
static int
numeric_addr(const char *addr, int port, struct addrinfo **res,
	     struct mxd_err *err)
{
	struct addrinfo hints;
	char port_s[16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(port_s, sizeof(port_s), "%d", port);
	rc = getaddrinfo(addr, port_s, &hints, res);
	if (rc != 0)
		return mxd_err_set(err, MXD_E_CONFIG, "\"%s\" is not a numeric "
				   "address: %s", addr, gai_strerror(rc));
	return 0;
}

static int
is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)
			      ->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
			&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		return IN6_IS_ADDR_LOOPBACK(a) ||
		       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

int
net_connect(const struct net_opts *o, struct net **out, struct mxd_err *err)
{
	struct addrinfo *res = NULL, *ai;
	char why[200] = "no address";
	struct net *n;

	*out = NULL;
	n = xcalloc(1, sizeof(*n));
	n->fd = -1;
	n->name = xstrdup(o->name);
	n->host = xstrdup(o->host);
	n->timeout_ms = o->timeout_ms;
	n->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
	n->insecure = o->insecure;
	n->loopback_only = o->loopback_only;
	n->stop = o->stop;
	n->max_literal = o->max_literal ? o->max_literal : SIZE_MAX;
	n->inb.budget = n->inb.limit = NET_DEFAULT_BUDGET;	/* the greeting */
	n->log = mxd_log_area(MXD_AREA_IMAP);
	buf_init(&n->in.line, BUF_NOCAP);
	buf_init(&n->out.line, BUF_NOCAP);

	if ((o->addr ? numeric_addr(o->addr, o->port, &res, err)
		     : resolve(n, o->host, o->port, &res, err)) < 0) {
		net_free(n);
		return -1;
	}
	/* security = none sends the password in clear: only to this machine,
	 * whatever the name says */
	for (ai = res; n->loopback_only && ai; ai = ai->ai_next) {
		if (!is_loopback(ai->ai_addr)) {
			char addr[INET6_ADDRSTRLEN + 8] = "?";

			getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr),
				    NULL, 0, NI_NUMERICHOST);
			freeaddrinfo(res);
			net_free(n);
			return mxd_err_set(err, MXD_E_CONFIG, "security = none: "
					   "\"%s\" resolves to %s, which is not "
					   "this machine (use imaps or starttls)",
					   o->host, addr);
		}
	}
	for (ai = res; ai; ai = ai->ai_next) {
		char addr[INET6_ADDRSTRLEN + 8] = "?";
		int fd;

		getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0,
			    NI_NUMERICHOST);
		mxd_log(MXD_LOG_INFO, "\"%s\": connecting to %s port %d (%s)",
			n->name, o->host, o->port, addr);
		fd = connect_one(n, ai, why, sizeof(why));
		if (fd >= 0) {
			n->fd = fd;
			break;
		}
		if (n->failure == NET_FAIL_STOPPED)
			break;
	}
	freeaddrinfo(res);
	if (n->fd < 0) {
		if (n->failure == NET_FAIL_STOPPED)
			mxd_err_set(err, MXD_E_INTERRUPTED, "interrupted while "
				    "connecting to %s port %d", o->host, o->port);
		else
			mxd_err_set(err, MXD_E_NET, "cannot connect to %s port %d: %s",
				    o->host, o->port, why);
		net_free(n);
		return -1;
	}
	*out = n;
	return 0;
}

/* TLS ---------------------------------------------------------------- */

static void
describe_peer(struct net *n)
{
	const gnutls_datum_t *certs;
	unsigned int count = 0;
	char *desc = gnutls_session_get_desc(n->tls);
	gnutls_x509_crt_t crt;
	gnutls_datum_t dn = {NULL, 0}, issuer = {NULL, 0};

	certs = gnutls_certificate_get_peers(n->tls, &count);
	if (certs && count && gnutls_x509_crt_init(&crt) == 0) {
		if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0) {
			gnutls_x509_crt_get_dn3(crt, &dn, 0);
			gnutls_x509_crt_get_issuer_dn3(crt, &issuer, 0);
		}
		gnutls_x509_crt_deinit(crt);
	}
	snprintf(n->tls_desc, sizeof(n->tls_desc), "%s, certificate \"%s\" issued "
		 "by \"%s\"", desc ? desc : "TLS", dn.data ? (char *)dn.data : "?",
		 issuer.data ? (char *)issuer.data : "?");
	gnutls_free(desc);
	gnutls_free(dn.data);
	gnutls_free(issuer.data);
}

static int tls_fail(struct net *n, struct mxd_err *err, enum mxd_status code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fills err and drops the half-made TLS session (the fd stays). */
static int
tls_fail(struct net *n, struct mxd_err *err, enum mxd_status code,
	 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mxd_err_vset(err, code, fmt, ap);
	va_end(ap);
	if (n->tls) {
		gnutls_deinit(n->tls);
		n->tls = NULL;
	}
	return -1;
}

/*
 * Credentials and session for a handshake on the open connection: trust
 * anchors when `trust` is set, the verification inside the handshake when
 * `verify` is set (net_tls_start), and the GnuTLS session flags.
 */
static int
tls_setup(struct net *n, int trust, int verify, unsigned flags,
	  struct mxd_err *err)
{
	const char *errpos = NULL;
	int r;

	/* RFC 3207 §4.2 / RFC 2595 §3.1: what came in clear after the
	 * server's go-ahead is not part of the TLS session (an injection) */
	if (n->roff < n->rlen)
		return mxd_err_set(err, MXD_E_TLS, "the server sent data after "
				   "accepting STARTTLS and before the TLS "
				   "handshake (a possible injection)");
	if (gnutls_certificate_allocate_credentials(&n->cred) < 0)
		return mxd_err_set(err, MXD_E_INTERNAL, "out of memory (GnuTLS)");
	if (trust) {
		if (n->ca_file) {
			r = gnutls_certificate_set_x509_trust_file(n->cred, n->ca_file,
								   GNUTLS_X509_FMT_PEM);
			if (r <= 0)
				return mxd_err_set(err, MXD_E_CONFIG, "ca_file \"%s\": no "
						   "CA certificate could be read%s%s",
						   n->ca_file, r < 0 ? ": " : "",
						   r < 0 ? gnutls_strerror(r) : "");
		} else {
			r = gnutls_certificate_set_x509_system_trust(n->cred);
			if (r <= 0)
				return mxd_err_set(err, MXD_E_TLS, "no trusted CA "
						   "certificates in the system store "
						   "(install ca-certificates, or set "
						   "ca_file)");
		}
	}
	if (gnutls_init(&n->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK | flags) < 0)
		return mxd_err_set(err, MXD_E_INTERNAL, "out of memory (GnuTLS)");
	/* RFC 8314 §4.1 and RFC 8996: TLS 1.2 or later */
	r = gnutls_set_default_priority_append(n->tls, "-VERS-TLS1.0:-VERS-TLS1.1",
					       &errpos, 0);
	if (r < 0)
		return tls_fail(n, err, MXD_E_INTERNAL, "TLS priorities for \"%s\": %s",
				n->host, gnutls_strerror(r));
	gnutls_credentials_set(n->tls, GNUTLS_CRD_CERTIFICATE, n->cred);
	/* SNI carries DNS names only (RFC 6066 §3) */
	if (!is_ip_literal(n->host))
		gnutls_server_name_set(n->tls, GNUTLS_NAME_DNS, n->host,
				       strlen(n->host));
	/* chain and host name are checked inside the handshake: it fails
	 * before a single byte of a credential can be written */
	if (verify)
		gnutls_session_set_verify_cert(n->tls, n->host, 0);
	gnutls_transport_set_int(n->tls, n->fd);
	gnutls_handshake_set_timeout(n->tls, (unsigned)n->timeout_ms);
	return 0;
}

static int
tls_handshake(struct net *n, struct mxd_err *err)
{
	double start;
	int r;

	start = now_ms();
	while ((r = gnutls_handshake(n->tls)) < 0) {
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
			int left = n->timeout_ms - (int)(now_ms() - start);
			struct pollfd p;
			char t[32];

			if (stopped(n))
				return tls_fail(n, err, MXD_E_INTERRUPTED, "interrupted "
						"during the TLS handshake with \"%s\"",
						n->host);
			if (left <= 0)
				return tls_fail(n, err, MXD_E_NET, "TLS handshake "
						"with \"%s\": no answer in %s",
						n->host, span(t, n->timeout_ms));
			p.fd = n->fd;
			p.events = gnutls_record_get_direction(n->tls) ? POLLOUT : POLLIN;
			p.revents = 0;
			poll(&p, 1, left < STOP_SLICE_MS ? left : STOP_SLICE_MS);
			continue;
		}
		if (gnutls_error_is_fatal(r) == 0 && r != GNUTLS_E_AGAIN)
			continue;
		if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR ||
		    r == GNUTLS_E_CERTIFICATE_ERROR) {
			unsigned status = gnutls_session_get_verify_cert_status(n->tls);
			gnutls_datum_t out = {NULL, 0};
			char text[300];

			if (gnutls_certificate_verification_status_print(
				    status, GNUTLS_CRT_X509, &out, 0) == 0 && out.data)
				snprintf(text, sizeof(text), "%s", (char *)out.data);
			else
				snprintf(text, sizeof(text), "%s", gnutls_strerror(r));
			gnutls_free(out.data);
			str_trim(text);
			return tls_fail(n, err, MXD_E_TLS, "certificate of \"%s\" not "
					"verified: %s", n->host, text);
		}
		if (r == GNUTLS_E_PREMATURE_TERMINATION || r == GNUTLS_E_PULL_ERROR ||
		    r == GNUTLS_E_PUSH_ERROR)
			return tls_fail(n, err, MXD_E_NET, "TLS handshake with "
					"\"%s\": connection closed by the server (%s)",
					n->host, gnutls_strerror(r));
		return tls_fail(n, err, MXD_E_TLS, "TLS handshake with \"%s\" "
				"failed: %s", n->host, gnutls_strerror(r));
	}
	describe_peer(n);
	return 0;
}

int
net_tls_start(struct net *n, struct mxd_err *err)
{
	if (tls_setup(n, !n->insecure, !n->insecure, 0, err) < 0)
		return -1;
	return tls_handshake(n, err);
}

int
net_tls_probe(struct net *n, struct net_peer *peer, struct mxd_err *err)
{
	unsigned status = 0, count = 0;
	int r;

	memset(peer, 0, sizeof(*peer));
	/* no verification inside the handshake: the probe wants to see the
	 * certificate even when it would be refused; nothing is sent over
	 * the session that needs it to be verified */
	if (tls_setup(n, 1, 0, GNUTLS_NO_SIGNAL, err) < 0)
		return -1;
	if (tls_handshake(n, err) < 0)
		return -1;
	snprintf(peer->session, sizeof(peer->session), "%s, %s",
		 gnutls_protocol_get_name(gnutls_protocol_get_version(n->tls)),
		 gnutls_cipher_get_name(gnutls_cipher_get(n->tls)));
	if (gnutls_certificate_get_peers(n->tls, &count) == NULL)
		count = 0;
	peer->n_certs = count;
	/* the chain alone: the caller matches the name by its own rules
	 * (MTA-STS, DANE) */
	r = gnutls_certificate_verify_peers3(n->tls, NULL, &status);
	if (r < 0) {
		snprintf(peer->chain_error, sizeof(peer->chain_error), "%s",
			 gnutls_strerror(r));
	} else if (status != 0) {
		gnutls_datum_t out = {NULL, 0};

		if (gnutls_certificate_verification_status_print(
			    status, GNUTLS_CRT_X509, &out, 0) == 0 && out.data)
			snprintf(peer->chain_error, sizeof(peer->chain_error), "%s",
				 (char *)out.data);
		else
			snprintf(peer->chain_error, sizeof(peer->chain_error),
				 "not verified (status 0x%x)", status);
		gnutls_free(out.data);
		str_trim(peer->chain_error);
	} else {
		peer->chain_ok = 1;
	}
	return 0;
}

const unsigned char *
net_peer_cert(const struct net *n, size_t i, size_t *len)
{
	const gnutls_datum_t *certs;
	unsigned count = 0;

	*len = 0;
	if (!n->tls)
		return NULL;
	certs = gnutls_certificate_get_peers(n->tls, &count);
	if (!certs || i >= count)
		return NULL;
	*len = certs[i].size;
	return certs[i].data;
}

int
net_is_tls(const struct net *n)
{
	return n->tls != NULL;
}

const char *
net_tls_desc(const struct net *n)
{
	return n->tls ? n->tls_desc : "";
}

void
net_set_redact(struct net *n, int on)
{
	n->redact = on;
}

void
net_set_secret(struct net *n, const char *secret)
{
	if (n->secret) {
		explicit_bzero(n->secret, strlen(n->secret));
		free(n->secret);
	}
	n->secret = secret ? xstrdup(secret) : NULL;
}

void
net_free(struct net *n)
{
	if (!n)
		return;
	if (n->tls)
		gnutls_deinit(n->tls);
	if (n->cred)
		gnutls_certificate_free_credentials(n->cred);
	if (n->fd >= 0)
		close(n->fd);
	net_set_secret(n, NULL);
	if (n->out.line.data)
		explicit_bzero(n->out.line.data, n->out.line.cap);
	buf_release(&n->in.line);
	buf_release(&n->out.line);
	free(n->ca_file);
	free(n->host);
	free(n->name);
	free(n);
}

/* Line I/O (net.h) ------------------------------------------------------ */

/* Reads what is there into rbuf, by the deadline of a wait of `ms`: 0, or
 * -1 with n->error. */
static int
fill(struct net *n, double deadline, int ms)
{
	ssize_t r;

	n->roff = n->rlen = 0;
	for (;;) {
		/* a server that trickles bytes is held to the deadline too */
		if (now_ms() >= deadline)
			return timed_out(n, ms);
		if (n->tls) {
			r = gnutls_record_recv(n->tls, n->rbuf, sizeof(n->rbuf));
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
				if (wait_fd_until(n, POLLIN, deadline, ms) < 0)
					return -1;
				continue;
			}
			if (r < 0) {
				snprintf(n->error, sizeof(n->error), "%s",
					 r == GNUTLS_E_PREMATURE_TERMINATION ||
					 r == GNUTLS_E_PULL_ERROR
					 ? "connection closed by the server"
					 : gnutls_strerror((int)r));
				n->failure = NET_FAIL_IO;
				return -1;
			}
		} else {
			r = recv(n->fd, n->rbuf, sizeof(n->rbuf), 0);
			if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (wait_fd_until(n, POLLIN, deadline, ms) < 0)
					return -1;
				continue;
			}
			if (r < 0) {
				snprintf(n->error, sizeof(n->error), "%s",
					 errno == ECONNRESET
					 ? "connection reset by the server"
					 : strerror(errno));
				n->failure = NET_FAIL_IO;
				return -1;
			}
		}
		if (r == 0) {
			snprintf(n->error, sizeof(n->error),
				 "connection closed by the server");
			n->failure = NET_FAIL_IO;
			return -1;
		}
		n->rlen = (size_t)r;
		return 0;
	}
}

int
net_read_line(struct net *n, struct buf *line, size_t max, int ms)
{
	double deadline = now_ms() + ms;

	buf_reset(line);
	for (;;) {
		const unsigned char *p = n->rbuf + n->roff, *nl;
		size_t avail = n->rlen - n->roff, take;

		nl = memchr(p, '\n', avail);
		take = nl ? (size_t)(nl - p) : avail;
		if (take > max - line->len || buf_add(line, p, take) < 0) {
			snprintf(n->error, sizeof(n->error), "the server sent a line "
				 "longer than %zu bytes", max);
			n->failure = NET_FAIL_HOSTILE;
			return -1;
		}
		n->roff += take;
		if (nl) {
			n->roff++;
			if (line->len && line->data[line->len - 1] == '\r')
				line->data[--line->len] = '\0';
			return 0;
		}
		if (fill(n, deadline, ms) < 0)
			return -1;
	}
}

int
net_write(struct net *n, const void *p, size_t len)
{
	const unsigned char *b = p;
	ssize_t r;

	while (len > 0) {
		if (n->tls) {
			r = gnutls_record_send(n->tls, b, len);
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
				if (wait_fd(n, POLLOUT) < 0)
					return -1;
				continue;
			}
			if (r < 0) {
				snprintf(n->error, sizeof(n->error), "%s",
					 gnutls_strerror((int)r));
				n->failure = NET_FAIL_IO;
				return -1;
			}
		} else {
			/* no SIGPIPE from a server that went away */
			r = send(n->fd, b, len, MSG_NOSIGNAL);
			if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (wait_fd(n, POLLOUT) < 0)
					return -1;
				continue;
			}
			if (r < 0) {
				snprintf(n->error, sizeof(n->error), "%s",
					 errno == EPIPE || errno == ECONNRESET
					 ? "connection closed by the server"
					 : strerror(errno));
				n->failure = NET_FAIL_IO;
				return -1;
			}
		}
		b += r;
		len -= (size_t)r;
	}
	return 0;
}

/* The mailstream_low driver ------------------------------------------- */

static ssize_t
low_read(mailstream_low *s, void *buf, size_t count)
{
	struct net *n = s->data;
	ssize_t r;

	for (;;) {
		if (n->tls) {
			r = gnutls_record_recv(n->tls, buf, count);
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
				if (wait_fd(n, POLLIN) < 0)
					return -1;
				continue;
			}
			if (r < 0) {
				snprintf(n->error, sizeof(n->error), "%s",
					 r == GNUTLS_E_PREMATURE_TERMINATION ||
					 r == GNUTLS_E_PULL_ERROR
					 ? "connection closed by the server"
					 : gnutls_strerror((int)r));
				n->failure = NET_FAIL_IO;
				return -1;
			}
		} else {
			r = read(n->fd, buf, count);
			if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (wait_fd(n, POLLIN) < 0)
					return -1;
				continue;
			}
			if (r < 0) {
				snprintf(n->error, sizeof(n->error), "%s",
					 errno == ECONNRESET
					 ? "connection closed by the server"
					 : strerror(errno));
				n->failure = NET_FAIL_IO;
				return -1;
			}
		}
		if (r == 0) {
			/* libetpan would read again, forever */
			snprintf(n->error, sizeof(n->error),
				 "connection closed by the server");
			n->failure = NET_FAIL_IO;
			return -1;
		}
		if (n->log)
			log_bytes(n, &n->in, "S:", buf, (size_t)r);
		if (track_inbound(n, buf, (size_t)r) < 0)
			return -1;
		return r;
	}
}

static ssize_t
low_write(mailstream_low *s, const void *buf, size_t count)
{
	struct net *n = s->data;
	ssize_t r;

	start_budget(n);
	for (;;) {
		if (n->tls) {
			r = gnutls_record_send(n->tls, buf, count);
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
				if (wait_fd(n, POLLOUT) < 0)
					return -1;
				continue;
			}
			if (r < 0) {
				snprintf(n->error, sizeof(n->error), "%s",
					 gnutls_strerror((int)r));
				return -1;
			}
		} else {
			r = write(n->fd, buf, count);
			if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
				if (wait_fd(n, POLLOUT) < 0)
					return -1;
				continue;
			}
			if (r < 0) {
				snprintf(n->error, sizeof(n->error), "%s",
					 errno == EPIPE || errno == ECONNRESET
					 ? "connection closed by the server"
					 : strerror(errno));
				return -1;
			}
		}
		if (n->log)
			log_bytes(n, &n->out, "C:", buf, (size_t)r);
		return r;
	}
}

static int
low_close(mailstream_low *s)
{
	struct net *n = s->data;

	if (n->tls)
		gnutls_bye(n->tls, GNUTLS_SHUT_WR);	/* one try, never waits */
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
	return 0;
}

static int
low_get_fd(mailstream_low *s)
{
	struct net *n = s->data;

	return n->fd;
}

static void
low_free(mailstream_low *s)
{
	net_free(s->data);
	free(s);
}

static struct mailstream_cancel *
low_get_cancel(mailstream_low *s)
{
	(void)s;
	return NULL;
}

static carray *
low_get_chain(mailstream_low *s)
{
	(void)s;
	return NULL;
}

static int
low_no_idle(mailstream_low *s)
{
	(void)s;
	return -1;	/* "not implemented, use select()" */
}

static mailstream_low_driver net_driver = {
	.mailstream_read = low_read,
	.mailstream_write = low_write,
	.mailstream_close = low_close,
	.mailstream_get_fd = low_get_fd,
	.mailstream_free = low_free,
	.mailstream_cancel = NULL,
	.mailstream_get_cancel = low_get_cancel,
	.mailstream_get_certificate_chain = low_get_chain,
	.mailstream_setup_idle = low_no_idle,
	.mailstream_unsetup_idle = low_no_idle,
	.mailstream_interrupt_idle = low_no_idle,
};

mailstream_low *
net_low(struct net *n)
{
	mailstream_low *low = mailstream_low_new(n, &net_driver);

	if (!low) {
		fputs("mxdigest: out of memory\n", stderr);
		abort();
	}
	return low;
}
