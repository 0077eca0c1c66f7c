/*
 * smtp.c — the MX probe: greeting, EHLO and STARTTLS as RFC 5321 (§4.1.1.1,
 * §4.2, §4.3.2) and RFC 3207 (§4, §5) have them, the TLS handshake by
 * fetch/'s transport, and a look at the certificate the server presented
 * (RFC 8461 §4.2).
 *
 * The probe is a client that never delivers: it sends EHLO, STARTTLS and
 * QUIT.  The server is not trusted with anything: a reply is read line by
 * line within one deadline, a line may be SMTP_MAX_LINE bytes, a reply
 * SMTP_MAX_LINES lines and SMTP_MAX_REPLY bytes, and past any of them the
 * probe stops and says so.  Text from the server (the banner, a refusal,
 * the certificate's names) is cleaned of control characters and invalid
 * UTF-8 before it is kept.
 */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check/cert_p.h"
#include "check/smtp.h"
#include "fetch/net.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/strutil.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define DEFAULT_PORT 25
#define DEFAULT_TIMEOUT_MS 30000
#define QUIT_MS 1000		/* the longest wait for the answer to QUIT */
#define EHLO_NAME_MAX 255	/* RFC 5321 §4.5.3.1.2 */

struct reply {
	int code;
	int starttls;		/* an EHLO keyword line said STARTTLS */
	char first[256];	/* the first line, cleaned */
};

struct session {
	const struct smtp_probe_opts *o;
	struct smtp_probe *out;
	struct net *net;
	struct buf line;
	int timeout_ms;
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Drops a code point that snprintf() cut in two at the end of s (the rest
 * is valid UTF-8: our text, and cleaned server text). */
static void
utf8_cut(char *s)
{
	s[utf8_check(s, strlen(s))] = '\0';
}

/* A cleaned copy of server bytes in dst, cut at a code point if long. */
static void
clean_copy(char *dst, size_t size, const void *p, size_t n)
{
	struct buf b;

	/* every byte becomes at most eight (a TAB as spaces) */
	buf_init(&b, 8 * n + 1);
	utf8_clean_text(&b, p, n, UTF8_TAB_SPACE);
	snprintf(dst, size, "%s", buf_cstr(&b));
	utf8_cut(dst);
	buf_release(&b);
}

static int fail(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The probe stops here: why, in out->error; -1. */
static int
fail(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->out->error, sizeof(s->out->error), fmt, ap);
	va_end(ap);
	utf8_cut(s->out->error);
	return -1;
}

/* "250-STARTTLS" or "250 starttls": an EHLO keyword line (RFC 5321
 * §4.1.1.1, keywords are case-insensitive; RFC 3207 §4). */
static int
is_starttls(const unsigned char *text, size_t n)
{
	static const char kw[] = "STARTTLS";
	size_t k = sizeof(kw) - 1;

	return n >= k && str_ncasecmp((const char *)text, kw, k) == 0 &&
	       (n == k || text[k] == ' ');
}

/*
 * One reply (RFC 5321 §4.2): lines "DDD-text" then "DDD text" (or "DDD"),
 * all with the same code, read by one deadline.  `what` names it in
 * errors.
 */
static int
read_reply(struct session *s, struct reply *r, const char *what)
{
	double deadline = now_ms() + s->timeout_ms;
	size_t bytes = 0, lines;

	memset(r, 0, sizeof(*r));
	for (lines = 0;; lines++) {
		const unsigned char *l;
		char shown[128];
		/* rounded up, so that the transport's deadline is not before
		 * ours */
		int left = (int)(deadline - now_ms()) + 1, code;

		if (lines == SMTP_MAX_LINES)
			return fail(s, "%s: more than %d lines", what, SMTP_MAX_LINES);
		if (now_ms() >= deadline ||
		    net_read_line(s->net, &s->line, SMTP_MAX_LINE, left) < 0) {
			if (now_ms() >= deadline &&
			    net_failure(s->net) != NET_FAIL_STOPPED)
				return fail(s, "%s: no complete reply in %d ms", what,
					    s->timeout_ms);
			return fail(s, "%s: %s", what, net_error(s->net));
		}
		bytes += s->line.len + 2;
		if (bytes > SMTP_MAX_REPLY)
			return fail(s, "%s: more than %d bytes", what, SMTP_MAX_REPLY);
		l = s->line.data;
		if (s->line.len < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' ||
		    l[1] > '9' || l[2] < '0' || l[2] > '9' ||
		    (s->line.len > 3 && l[3] != ' ' && l[3] != '-')) {
			clean_copy(shown, sizeof(shown), l, s->line.len);
			return fail(s, "%s: not an SMTP reply: \"%s\"", what, shown);
		}
		code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		if (lines == 0) {
			r->code = code;
			clean_copy(r->first, sizeof(r->first), l, s->line.len);
		} else if (code != r->code) {
			/* RFC 5321 §4.2.1: one code for every line of a reply */
			return fail(s, "%s: lines with codes %d and %d in one reply",
				    what, r->code, code);
		} else if (s->line.len > 4 && is_starttls(l + 4, s->line.len - 4)) {
			r->starttls = 1;
		}
		if (s->line.len == 3 || l[3] == ' ')
			return 0;
	}
}

static int
send_line(struct session *s, const char *cmd, const char *what)
{
	if (net_write(s->net, cmd, strlen(cmd)) < 0)
		return fail(s, "%s: %s", what, net_error(s->net));
	return 0;
}

/* RFC 5321 §4.1.1.10: QUIT after a complete exchange; the answer is not
 * waited for long, and nothing depends on it. */
static void
quit(struct session *s)
{
	int ms = s->timeout_ms < QUIT_MS ? s->timeout_ms : QUIT_MS;

	if (net_write(s->net, "QUIT\r\n", 6) == 0)
		(void)net_read_line(s->net, &s->line, SMTP_MAX_LINE, ms);
}

/* A domain or an address literal (RFC 5321 §4.1.3), in characters that
 * cannot end the command line early. */
static int
ehlo_name_ok(const char *name)
{
	size_t i, n = strlen(name);
	int literal = n > 2 && name[0] == '[' && name[n - 1] == ']';

	if (n == 0 || n > EHLO_NAME_MAX)
		return 0;
	for (i = literal; i < n - (size_t)literal; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' ||
		      (literal ? c == ':' : c == '-')))
			return 0;
	}
	return 1;
}

static int
ehlo_name(const char *want, char *out, size_t size)
{
	if (want) {
		if (!ehlo_name_ok(want))
			return -1;
		snprintf(out, size, "%s", want);
		return 0;
	}
	if (gethostname(out, size) < 0 || !memchr(out, '\0', size) ||
	    !ehlo_name_ok(out))
		snprintf(out, size, "localhost");
	return 0;
}

/* The leaf's dates and names, and the copies of the chain. */
static void
take_certs(struct session *s, const struct net_peer *peer)
{
	struct smtp_probe *out = s->out;
	const unsigned char *der;
	gnutls_x509_crt_t crt;
	gnutls_datum_t d, dn;
	size_t i, len;

	out->n_presented = peer->n_certs;
	for (i = 0; i < peer->n_certs && i < SMTP_MAX_CERTS; i++) {
		der = net_peer_cert(s->net, i, &len);
		if (!der || len > SMTP_MAX_CERT)
			break;
		out->chain = xrealloc(out->chain, (i + 1) * sizeof(*out->chain));
		out->chain[i].der = xmalloc(len);
		memcpy(out->chain[i].der, der, len);
		out->chain[i].len = len;
		out->n_chain = i + 1;
	}
	der = net_peer_cert(s->net, 0, &len);
	if (!der || gnutls_x509_crt_init(&crt) < 0)
		return;
	d.data = (unsigned char *)(uintptr_t)der;
	d.size = (unsigned)len;
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0) {
		out->not_before = (long long)gnutls_x509_crt_get_activation_time(crt);
		out->not_after = (long long)gnutls_x509_crt_get_expiration_time(crt);
		if (gnutls_x509_crt_get_dn3(crt, &dn, 0) == 0) {
			clean_copy(out->subject, sizeof(out->subject), dn.data, dn.size);
			gnutls_free(dn.data);
		}
		if (gnutls_x509_crt_get_issuer_dn3(crt, &dn, 0) == 0) {
			clean_copy(out->issuer, sizeof(out->issuer), dn.data, dn.size);
			gnutls_free(dn.data);
		}
		out->name_ok = cert_name_ok(der, len, s->o->host);
	}
	gnutls_x509_crt_deinit(crt);
}

/* A reply that is not the one wanted: keep its code, and say goodbye
 * unless the server already did (421, RFC 5321 §3.8). */
static int
refused(struct session *s, const struct reply *r, const char *what)
{
	s->out->reply_code = r->code;
	fail(s, "%s: \"%s\"", what, r->first);
	if (r->code != 421)
		quit(s);
	return -1;
}

static int
converse(struct session *s, const char *helo)
{
	struct smtp_probe *out = s->out;
	struct net_peer peer;
	struct mxd_err err;
	struct reply r;
	char cmd[EHLO_NAME_MAX + 16];

	/* RFC 5321 §4.3.2: 220 greets; 554 refuses, 421 closes */
	if (read_reply(s, &r, "greeting") < 0)
		return -1;
	snprintf(out->banner, sizeof(out->banner), "%s", r.first);
	if (r.code != 220)
		return refused(s, &r, "the server refused the session");
	out->reached = SMTP_GREETED;

	snprintf(cmd, sizeof(cmd), "EHLO %s\r\n", helo);
	if (send_line(s, cmd, "EHLO") < 0 ||
	    read_reply(s, &r, "reply to EHLO") < 0)
		return -1;
	/* no fallback to HELO: without EHLO there is no STARTTLS */
	if (r.code != 250)
		return refused(s, &r, "EHLO refused");
	out->reached = SMTP_EHLO;
	out->starttls_offered = r.starttls;
	if (!r.starttls) {
		quit(s);
		return fail(s, "STARTTLS is not offered in the reply to EHLO");
	}

	if (send_line(s, "STARTTLS\r\n", "STARTTLS") < 0 ||
	    read_reply(s, &r, "reply to STARTTLS") < 0)
		return -1;
	/* RFC 3207 §4: 220 to go ahead; 454 and 501 refuse */
	if (r.code != 220)
		return refused(s, &r, "STARTTLS refused");
	out->reached = SMTP_STARTTLS;

	mxd_err_clear(&err);
	if (net_tls_probe(s->net, &peer, &err) < 0)
		return fail(s, "%s", err.text);
	out->reached = SMTP_TLS;
	snprintf(out->tls_desc, sizeof(out->tls_desc), "%s", peer.session);
	out->chain_ok = peer.chain_ok;
	if (!peer.chain_ok)
		clean_copy(out->verify_error, sizeof(out->verify_error),
			   peer.chain_error, strlen(peer.chain_error));
	take_certs(s, &peer);
	/* RFC 3207 §4.2: the session starts over; QUIT is all we say */
	quit(s);
	return 0;
}

int
smtp_probe(const struct smtp_probe_opts *o, struct smtp_probe *out)
{
	struct session s;
	struct net_opts no;
	struct mxd_err err;
	char helo[EHLO_NAME_MAX + 1];
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	s.o = o;
	s.out = out;
	s.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (!o->host || !*o->host || !o->addr || !*o->addr)
		return fail(&s, "no host name or no address to probe");
	if (ehlo_name(o->helo, helo, sizeof(helo)) < 0)
		return fail(&s, "EHLO name is not a domain or an address literal");

	memset(&no, 0, sizeof(no));
	no.name = o->host;
	no.host = o->host;
	no.addr = o->addr;
	no.port = o->port > 0 ? o->port : DEFAULT_PORT;
	no.timeout_ms = s.timeout_ms;
	no.ca_file = o->ca_file;
	no.stop = o->stop;
	mxd_err_clear(&err);
	if (net_connect(&no, &s.net, &err) < 0)
		return fail(&s, "%s", err.text);
	out->reached = SMTP_CONNECTED;
	buf_init(&s.line, SMTP_MAX_LINE);
	rc = converse(&s, helo);
	buf_release(&s.line);
	net_free(s.net);
	return rc;
}

void
smtp_probe_release(struct smtp_probe *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n_chain; i++)
		free(p->chain[i].der);
	free(p->chain);
	p->chain = NULL;
	p->n_chain = 0;
}
