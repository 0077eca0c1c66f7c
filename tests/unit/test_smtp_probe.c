/*
 * Unit tests of check/: the SMTP probe against small SMTP responders the
 * test forks on 127.0.0.1 (GnuTLS on the server side, certificates made
 * for each run by smtp-certs.sh), and DANE TLSA records judged on what the
 * probe saw (the TLSA data computed by openssl, not by the code tested).
 *
 * Each responder serves one connection and writes every command line it
 * received to a pipe, so a test can say that the probe sent EHLO, STARTTLS
 * and QUIT and nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check/dane.h"
#include "check/smtp.h"

#ifndef MXD_SMTP_CERTS
#error "MXD_SMTP_CERTS: the path of tests/unit/smtp-certs.sh"
#endif

#define GOOD_NOT_BEFORE 1704067200LL	/* 2024-01-01T00:00:00Z */
#define GOOD_NOT_AFTER 2208988800LL	/* 2040-01-01T00:00:00Z */
#define EXPIRED_NOT_AFTER 1609459200LL	/* 2021-01-01T00:00:00Z */
#define HELO "probe.example.test"
#define TIMEOUT_MS 10000	/* for servers that answer (valgrind is slow) */
#define SHORT_MS 1500		/* for servers that do not */

static char certdir[256];

enum mode {
	M_NORMAL,
	M_NO_STARTTLS,		/* EHLO reply without STARTTLS */
	M_STARTTLS_454,
	M_GREET_421,
	M_RESET_TLS,		/* reads the ClientHello, then a TCP reset */
	M_SILENT,		/* accepts, never says a word */
	M_SILENT_TLS,		/* 220 to STARTTLS, then silence */
	M_ENDLESS,		/* "220 " and then no end of line, ever */
	M_EHLO_LINES,		/* an EHLO reply of `lines` lines, STARTTLS last */
	M_INJECT,		/* a reply smuggled after the 220 to STARTTLS */
};

struct responder {
	enum mode mode;
	const char *cert;	/* in certdir: the leaf, or the leaf and a CA */
	const char *key;
	int lines;
	int width;		/* M_EHLO_LINES: bytes of each filler line */
	pid_t pid;
	int port;
	int log;		/* read end of the command log */
};

/* The responder (child side) ---------------------------------------- */

static int
say(int fd, gnutls_session_t tls, const char *s)
{
	size_t n = strlen(s);

	if (tls)
		return gnutls_record_send(tls, s, n) == (ssize_t)n ? 0 : -1;
	return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* One command line, byte by byte so that nothing after it is taken from
 * the socket (the ClientHello must stay there for the handshake). */
static int
hear(int fd, gnutls_session_t tls, int logfd, char *line, size_t size)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = tls ? gnutls_record_recv(tls, &c, 1) : recv(fd, &c, 1, 0);

		if (r == GNUTLS_E_AGAIN || (r < 0 && errno == EINTR))
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (c != '\r' && n + 1 < size)
			line[n++] = c;
	}
	line[n] = '\0';
	if (write(logfd, line, n) < 0 || write(logfd, "\n", 1) < 0)
		return -1;
	return 0;
}

static void
endless(int fd)
{
	char chunk[4096];
	size_t sent = 0;

	memset(chunk, 'A', sizeof(chunk));
	say(fd, NULL, "220 ");
	while (sent < ((size_t)64 << 20) &&
	       send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) > 0)
		sent += sizeof(chunk);
}

static void
ehlo_reply(int fd, const struct responder *r)
{
	char l[4096];
	int i;

	if (r->mode == M_EHLO_LINES) {
		say(fd, NULL, "250-mx.example.test\r\n");
		for (i = 2; i < r->lines; i++) {
			int k = snprintf(l, sizeof(l), "250-X-FILLER-%d ", i);

			memset(l + k, 'x', (size_t)r->width);
			memcpy(l + k + r->width, "\r\n", 3);
			say(fd, NULL, l);
		}
		say(fd, NULL, "250 STARTTLS\r\n");
		return;
	}
	say(fd, NULL, "250-mx.example.test greets " HELO "\r\n250-PIPELINING\r\n"
	    "250-SIZE 10240000\r\n");
	if (r->mode == M_NO_STARTTLS)
		say(fd, NULL, "250 8BITMIME\r\n");
	else
		say(fd, NULL, "250-8BITMIME\r\n250 starttls\r\n");
}

/* After STARTTLS was accepted: the handshake, then commands over TLS. */
static void
serve_tls(int fd, const struct responder *r, int logfd)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t tls;
	char path[2][320], line[1024];
	int ret;

	snprintf(path[0], sizeof(path[0]), "%s/%s", certdir, r->cert);
	snprintf(path[1], sizeof(path[1]), "%s/%s", certdir, r->key);
	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return;
	if (gnutls_certificate_set_x509_key_file(cred, path[0], path[1],
						 GNUTLS_X509_FMT_PEM) < 0) {
		fprintf(stderr, "responder: cannot load %s\n", path[0]);
		gnutls_certificate_free_credentials(cred);
		return;
	}
	gnutls_init(&tls, GNUTLS_SERVER | GNUTLS_NO_SIGNAL);
	gnutls_set_default_priority(tls);
	gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(tls, fd);
	do
		ret = gnutls_handshake(tls);
	while (ret < 0 && !gnutls_error_is_fatal(ret));
	while (ret == 0 && hear(fd, tls, logfd, line, sizeof(line)) == 0) {
		if (strcmp(line, "QUIT") == 0) {
			say(fd, tls, "221 2.0.0 bye\r\n");
			gnutls_bye(tls, GNUTLS_SHUT_WR);
			break;
		}
		say(fd, tls, "502 5.5.2 not here\r\n");
	}
	gnutls_deinit(tls);
	gnutls_certificate_free_credentials(cred);
}

static void
serve(int fd, const struct responder *r, int logfd)
{
	char line[1024];
	struct linger hard = {1, 0};

	switch (r->mode) {
	case M_SILENT:
		sleep(30);
		return;
	case M_GREET_421:
		say(fd, NULL, "421-4.3.2 mx.example.test busy\r\n"
		    "421 4.3.2 try again later\r\n");
		return;
	case M_ENDLESS:
		endless(fd);
		return;
	default:
		break;
	}
	/* an ESC in the banner: the probe must not keep it */
	say(fd, NULL, "220 mx.example.test ESMTP \x1b[31mtest\r\n");
	if (hear(fd, NULL, logfd, line, sizeof(line)) < 0)
		return;
	ehlo_reply(fd, r);
	while (hear(fd, NULL, logfd, line, sizeof(line)) == 0) {
		if (strcmp(line, "QUIT") == 0) {
			say(fd, NULL, "221 2.0.0 bye\r\n");
			return;
		}
		if (strcmp(line, "STARTTLS") != 0) {
			say(fd, NULL, "502 5.5.2 not here\r\n");
			continue;
		}
		switch (r->mode) {
		case M_STARTTLS_454:
			say(fd, NULL, "454 4.7.0 TLS not available due to temporary "
			    "reason\r\n");
			continue;
		case M_INJECT:
			say(fd, NULL, "220 2.0.0 go ahead\r\n250 2.0.0 forged\r\n");
			continue;
		case M_RESET_TLS:
			say(fd, NULL, "220 2.0.0 go ahead\r\n");
			if (recv(fd, line, 10, 0) > 0) {
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
				close(fd);
			}
			return;
		case M_SILENT_TLS:
			say(fd, NULL, "220 2.0.0 go ahead\r\n");
			sleep(30);
			return;
		default:
			say(fd, NULL, "220 2.0.0 go ahead\r\n");
			serve_tls(fd, r, logfd);
			return;
		}
	}
}

/* The parent side ---------------------------------------------------- */

static void
start(struct responder *r)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int lfd, p[2];

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
	r->port = ntohs(a.sin_port);
	assert_int_equal(pipe(p), 0);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		int fd;

		close(p[0]);
		alarm(30);	/* whatever happens, this child goes away */
		fd = accept(lfd, NULL, NULL);
		close(lfd);
		if (fd >= 0) {
			serve(fd, r, p[1]);
			close(fd);
		}
		close(p[1]);
		_exit(0);
	}
	close(lfd);
	close(p[1]);
	r->log = p[0];
}

/* Ends the responder and gives what it heard. */
static void
finish(struct responder *r, char *log, size_t size)
{
	size_t n = 0;
	ssize_t k;

	if (r->mode == M_SILENT || r->mode == M_SILENT_TLS)
		kill(r->pid, SIGKILL);
	while (n + 1 < size && (k = read(r->log, log + n, size - 1 - n)) > 0)
		n += (size_t)k;
	log[n] = '\0';
	close(r->log);
	waitpid(r->pid, NULL, 0);
}

static int
probe_helo(struct responder *r, const char *host, const char *helo,
	   int timeout_ms, const volatile int *stop, struct smtp_probe *p)
{
	struct smtp_probe_opts o;
	char ca[320];

	snprintf(ca, sizeof(ca), "%s/ca.pem", certdir);
	memset(&o, 0, sizeof(o));
	o.host = host;
	o.addr = "127.0.0.1";
	o.port = r->port;
	o.timeout_ms = timeout_ms;
	o.ca_file = ca;
	o.helo = helo;
	o.stop = stop;
	return smtp_probe(&o, p);
}

static int
probe_as(struct responder *r, const char *host, int timeout_ms,
	 const volatile int *stop, struct smtp_probe *p)
{
	return probe_helo(r, host, HELO, timeout_ms, stop, p);
}

/* Serves one connection in `mode` with the certificate `name`, probes it
 * as `host`, and gives the probe's answer and the command log. */
static int
run(enum mode mode, const char *name, const char *host, int timeout_ms,
    struct smtp_probe *p, char *log, size_t logsize)
{
	struct responder r;
	char cert[64], key[64];
	int rc;

	memset(&r, 0, sizeof(r));
	r.mode = mode;
	snprintf(cert, sizeof(cert), "%s.pem", name);
	/* "good-chain.pem" is served with "good.key" */
	snprintf(key, sizeof(key), "%.*s.key", (int)strcspn(name, "-"), name);
	r.cert = cert;
	r.key = key;
	start(&r);
	rc = probe_as(&r, host, timeout_ms, NULL, p);
	finish(&r, log, logsize);
	return rc;
}

static double
wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long
maxrss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

static int
has(const char *s, const char *part)
{
	if (!strstr(s, part)) {
		print_error("\"%s\" does not contain \"%s\"\n", s, part);
		return 0;
	}
	return 1;
}

/* The SMTP side ------------------------------------------------------ */

static void
good_certificate(void **state)
{
	struct smtp_probe p;
	char log[4096];

	(void)state;
	assert_int_equal(run(M_NORMAL, "good", "mx.example.test", TIMEOUT_MS, &p,
			     log, sizeof(log)), 0);
	assert_string_equal(p.error, "");
	assert_int_equal(p.reached, SMTP_TLS);
	assert_int_equal(p.starttls_offered, 1);	/* "starttls": any case */
	assert_int_equal(p.chain_ok, 1);
	assert_int_equal(p.name_ok, 1);
	assert_string_equal(p.verify_error, "");
	assert_int_equal(p.not_before, GOOD_NOT_BEFORE);
	assert_int_equal(p.not_after, GOOD_NOT_AFTER);
	assert_true(has(p.subject, "CN=mx.example.test"));
	assert_true(has(p.issuer, "CN=mxdigest test CA"));
	assert_true(has(p.tls_desc, "TLS1."));
	/* the ESC became U+FFFD */
	assert_string_equal(p.banner, "220 mx.example.test ESMTP \xef\xbf\xbd[31mtest");
	assert_int_equal(p.n_chain, 1);
	assert_int_equal(p.n_presented, 1);
	assert_true(p.chain[0].len > 100);
	/* nothing but these was sent: no MAIL, no RCPT */
	assert_string_equal(log, "EHLO " HELO "\nSTARTTLS\nQUIT\n");
	smtp_probe_release(&p);
	smtp_probe_release(&p);		/* twice is harmless */
	assert_null(p.chain);
}

static void
expired_certificate(void **state)
{
	struct smtp_probe p;
	char log[4096];

	(void)state;
	assert_int_equal(run(M_NORMAL, "expired", "mx.example.test", TIMEOUT_MS, &p,
			     log, sizeof(log)), 0);
	assert_int_equal(p.reached, SMTP_TLS);
	assert_int_equal(p.chain_ok, 0);
	assert_true(has(p.verify_error, "expired"));
	assert_int_equal(p.name_ok, 1);
	assert_int_equal(p.not_after, EXPIRED_NOT_AFTER);
	assert_true(p.not_after < (long long)time(NULL));
	assert_string_equal(log, "EHLO " HELO "\nSTARTTLS\nQUIT\n");
	smtp_probe_release(&p);
}

static void
wrong_name(void **state)
{
	struct smtp_probe p;
	char log[4096];

	(void)state;
	assert_int_equal(run(M_NORMAL, "wrongname", "mx.example.test", TIMEOUT_MS,
			     &p, log, sizeof(log)), 0);
	assert_int_equal(p.chain_ok, 1);
	assert_int_equal(p.name_ok, 0);
	assert_true(has(p.subject, "CN=other.example.test"));
	smtp_probe_release(&p);
}

static void
unknown_ca(void **state)
{
	struct smtp_probe p;
	char log[4096];

	(void)state;
	assert_int_equal(run(M_NORMAL, "otherca", "mx.example.test", TIMEOUT_MS, &p,
			     log, sizeof(log)), 0);
	assert_int_equal(p.chain_ok, 0);
	assert_true(has(p.verify_error, "issuer is unknown"));
	assert_int_equal(p.name_ok, 1);
	assert_true(has(p.issuer, "CN=mxdigest other CA"));
	smtp_probe_release(&p);
}

/* RFC 8461 §4.2 wants a DNS-ID: the subject CN alone does not do */
static void
cn_is_not_a_name(void **state)
{
	struct smtp_probe p;
	char log[4096];

	(void)state;
	assert_int_equal(run(M_NORMAL, "cnonly", "mx.example.test", TIMEOUT_MS, &p,
			     log, sizeof(log)), 0);
	assert_int_equal(p.chain_ok, 1);
	assert_true(has(p.subject, "CN=mx.example.test"));
	assert_int_equal(p.name_ok, 0);
	smtp_probe_release(&p);
}

static void
wildcard_rules(void **state)
{
	/* good.pem: mx.example.test, *.wild.example.test,
	 * mx.*.mid.example.test, *x.part.example.test */
	static const struct {
		const char *host;
		int ok;
	} t[] = {
		{"mx.example.test", 1},
		{"MX.Example.TEST", 1},		/* case does not matter */
		{"mx.example.test.", 1},	/* nor a final dot */
		{"a.wild.example.test", 1},	/* "*" is one label */
		{"A-1.Wild.Example.Test", 1},
		{"wild.example.test", 0},	/* not zero labels */
		{"a.b.wild.example.test", 0},	/* not two */
		{"mx.a.mid.example.test", 0},	/* only leftmost */
		{"xx.part.example.test", 0},	/* only a whole label */
		{"x.part.example.test", 0},
		{"other.example.test", 0},
		{"example.test", 0},
	};
	struct smtp_probe p;
	char log[4096];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(run(M_NORMAL, "good", t[i].host, TIMEOUT_MS, &p, log,
				     sizeof(log)), 0);
		if (p.name_ok != t[i].ok)
			fail_msg("%s: name_ok %d, want %d", t[i].host, p.name_ok,
				 t[i].ok);
		assert_int_equal(p.chain_ok, 1);
		smtp_probe_release(&p);
	}
}

static void
no_starttls(void **state)
{
	struct smtp_probe p;
	char log[4096];

	(void)state;
	assert_int_equal(run(M_NO_STARTTLS, "good", "mx.example.test", TIMEOUT_MS,
			     &p, log, sizeof(log)), -1);
	assert_int_equal(p.reached, SMTP_EHLO);
	assert_int_equal(p.starttls_offered, 0);
	assert_true(has(p.error, "STARTTLS is not offered"));
	assert_int_equal(p.n_chain, 0);
	assert_string_equal(log, "EHLO " HELO "\nQUIT\n");
	smtp_probe_release(&p);
}

static void
starttls_454(void **state)
{
	struct smtp_probe p;
	char log[4096];

	(void)state;
	assert_int_equal(run(M_STARTTLS_454, "good", "mx.example.test", TIMEOUT_MS,
			     &p, log, sizeof(log)), -1);
	assert_int_equal(p.reached, SMTP_EHLO);
	assert_int_equal(p.starttls_offered, 1);
	assert_int_equal(p.reply_code, 454);
	assert_true(has(p.error, "STARTTLS refused"));
	assert_true(has(p.error, "454 4.7.0 TLS not available"));
	assert_string_equal(log, "EHLO " HELO "\nSTARTTLS\nQUIT\n");
	smtp_probe_release(&p);
}

static void
greeting_421(void **state)
{
	struct smtp_probe p;
	char log[4096];

	(void)state;
	assert_int_equal(run(M_GREET_421, "good", "mx.example.test", TIMEOUT_MS, &p,
			     log, sizeof(log)), -1);
	assert_int_equal(p.reached, SMTP_CONNECTED);
	assert_int_equal(p.reply_code, 421);
	assert_string_equal(p.banner, "421-4.3.2 mx.example.test busy");
	assert_true(has(p.error, "refused the session"));
	assert_string_equal(log, "");	/* not even QUIT after a 421 */
	smtp_probe_release(&p);
}

static void
reset_in_handshake(void **state)
{
	struct smtp_probe p;
	char log[4096];
	double t0 = wall_s();

	(void)state;
	assert_int_equal(run(M_RESET_TLS, "good", "mx.example.test", TIMEOUT_MS, &p,
			     log, sizeof(log)), -1);
	assert_int_equal(p.reached, SMTP_STARTTLS);
	assert_true(has(p.error, "TLS handshake"));
	assert_true(has(p.error, "closed by the server"));
	assert_true(wall_s() - t0 < 5);		/* not a timeout */
	smtp_probe_release(&p);
}

/* A server that says nothing: the probe waits timeout_ms, asleep. */
static void
silent_server(void **state)
{
	struct smtp_probe p;
	char log[4096];
	double t0 = wall_s(), c0 = cpu_s(), wall, cpu;

	(void)state;
	assert_int_equal(run(M_SILENT, "good", "mx.example.test", SHORT_MS, &p, log,
			     sizeof(log)), -1);
	wall = wall_s() - t0;
	cpu = cpu_s() - c0;
	assert_int_equal(p.reached, SMTP_CONNECTED);
	assert_true(has(p.error, "greeting"));
	assert_true(has(p.error, "1500 ms"));
	if (wall < SHORT_MS / 1e3 - 0.05 || wall > SHORT_MS / 1e3 + 2.5)
		fail_msg("silent server: gave up after %.2f s", wall);
	if (cpu > wall / 4)
		fail_msg("silent server: %.2f s of CPU in %.2f s", cpu, wall);
	smtp_probe_release(&p);
}

static void
silent_in_handshake(void **state)
{
	struct smtp_probe p;
	char log[4096];
	double t0 = wall_s(), c0 = cpu_s(), wall, cpu;

	(void)state;
	assert_int_equal(run(M_SILENT_TLS, "good", "mx.example.test", SHORT_MS, &p,
			     log, sizeof(log)), -1);
	wall = wall_s() - t0;
	cpu = cpu_s() - c0;
	assert_int_equal(p.reached, SMTP_STARTTLS);
	assert_true(has(p.error, "TLS handshake"));
	/* GnuTLS's own handshake timer and ours are set alike; either may
	 * ring first */
	if (!strstr(p.error, "no answer in 1500 ms") && !strstr(p.error, "timed out"))
		fail_msg("silent handshake: \"%s\"", p.error);
	if (wall > 3 * SHORT_MS / 1e3 + 2.5)
		fail_msg("silent handshake: gave up after %.2f s", wall);
	if (cpu > wall / 4)
		fail_msg("silent handshake: %.2f s of CPU in %.2f s", cpu, wall);
	smtp_probe_release(&p);
}

static volatile int stop_flag;

static void
on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* The stop flag (SIGINT, SIGTERM in the CLI) ends a long wait at once. */
static void
stop_flag_ends_wait(void **state)
{
	struct itimerval it = {{0, 0}, {0, 300000}};
	struct responder r;
	struct smtp_probe p;
	char log[4096];
	double t0;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.mode = M_SILENT;
	start(&r);
	stop_flag = 0;
	signal(SIGALRM, on_alarm);
	t0 = wall_s();
	setitimer(ITIMER_REAL, &it, NULL);
	assert_int_equal(probe_as(&r, "mx.example.test", 20000, &stop_flag, &p), -1);
	signal(SIGALRM, SIG_DFL);
	finish(&r, log, sizeof(log));
	assert_true(has(p.error, "interrupted"));
	if (wall_s() - t0 > 2)
		fail_msg("stop: gave up after %.2f s", wall_s() - t0);
	smtp_probe_release(&p);
}

static void
endless_line(void **state)
{
	struct smtp_probe p;
	char log[4096];
	long rss0 = maxrss_kib();
	double t0 = wall_s();

	(void)state;
	assert_int_equal(run(M_ENDLESS, "good", "mx.example.test", TIMEOUT_MS, &p,
			     log, sizeof(log)), -1);
	assert_int_equal(p.reached, SMTP_CONNECTED);
	assert_true(has(p.error, "longer than 4096 bytes"));
	/* 64 MiB were on offer; the probe took a line's worth */
	if (maxrss_kib() - rss0 > 8 * 1024)
		fail_msg("endless line: peak memory grew by %ld KiB",
			 maxrss_kib() - rss0);
	assert_true(wall_s() - t0 < 8);
	smtp_probe_release(&p);
}

static void
long_ehlo_reply(void **state)
{
	struct responder r;
	struct smtp_probe p;
	char log[4096];

	(void)state;
	/* 100 lines is the cap and still fine */
	memset(&r, 0, sizeof(r));
	r.mode = M_EHLO_LINES;
	r.lines = SMTP_MAX_LINES;
	r.cert = "good.pem";
	r.key = "good.key";
	start(&r);
	assert_int_equal(probe_as(&r, "mx.example.test", TIMEOUT_MS, NULL, &p), 0);
	finish(&r, log, sizeof(log));
	assert_int_equal(p.reached, SMTP_TLS);
	assert_int_equal(p.starttls_offered, 1);
	smtp_probe_release(&p);

	/* 150 are not: the probe stops reading */
	r.lines = 150;
	start(&r);
	assert_int_equal(probe_as(&r, "mx.example.test", TIMEOUT_MS, NULL, &p), -1);
	finish(&r, log, sizeof(log));
	assert_int_equal(p.reached, SMTP_GREETED);
	assert_true(has(p.error, "more than 100 lines"));
	assert_string_equal(log, "EHLO " HELO "\n");
	smtp_probe_release(&p);

	/* 30 lines of 3000 bytes: each line is fine, the reply is too big */
	r.lines = 30;
	r.width = 3000;
	start(&r);
	assert_int_equal(probe_as(&r, "mx.example.test", TIMEOUT_MS, NULL, &p), -1);
	finish(&r, log, sizeof(log));
	assert_int_equal(p.reached, SMTP_GREETED);
	assert_true(has(p.error, "more than 65536 bytes"));
	smtp_probe_release(&p);
}

/* RFC 3207 §4.2: bytes after the 220 and before the handshake came in
 * clear from anyone: the probe does not take them as TLS */
static void
injection_after_starttls(void **state)
{
	struct smtp_probe p;
	char log[4096];

	(void)state;
	assert_int_equal(run(M_INJECT, "good", "mx.example.test", TIMEOUT_MS, &p,
			     log, sizeof(log)), -1);
	assert_int_equal(p.reached, SMTP_STARTTLS);
	assert_true(has(p.error, "injection"));
	smtp_probe_release(&p);
}

/* Without an EHLO name, this machine's name (or "localhost") */
static void
default_ehlo_name(void **state)
{
	struct responder r;
	struct smtp_probe p;
	char log[4096], host[256] = "", want[300];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.mode = M_NORMAL;
	r.cert = "good.pem";
	r.key = "good.key";
	start(&r);
	assert_int_equal(probe_helo(&r, "mx.example.test", NULL, TIMEOUT_MS, NULL,
				    &p), 0);
	finish(&r, log, sizeof(log));
	gethostname(host, sizeof(host) - 1);
	snprintf(want, sizeof(want), "EHLO %s\n", host);
	if (strncmp(log, want, strlen(want)) != 0 &&
	    strncmp(log, "EHLO localhost\n", 15) != 0)
		fail_msg("EHLO line: \"%s\"", log);
	smtp_probe_release(&p);
}

static void
bad_arguments(void **state)
{
	struct smtp_probe_opts o;
	struct smtp_probe p;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd;

	(void)state;
	memset(&o, 0, sizeof(o));
	o.host = "mx.example.test";
	o.addr = "127.0.0.1";
	o.helo = "evil\r\nMAIL FROM:<x>";	/* would inject a command */
	assert_int_equal(smtp_probe(&o, &p), -1);
	assert_int_equal(p.reached, SMTP_NONE);
	assert_true(has(p.error, "EHLO name"));
	smtp_probe_release(&p);

	o.helo = HELO;
	o.addr = "mx.example.test";	/* a name, not an address */
	assert_int_equal(smtp_probe(&o, &p), -1);
	assert_true(has(p.error, "not a numeric address"));
	smtp_probe_release(&p);

	/* a port where nobody listens */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	close(fd);
	o.addr = "127.0.0.1";
	o.port = ntohs(a.sin_port);
	o.timeout_ms = SHORT_MS;
	assert_int_equal(smtp_probe(&o, &p), -1);
	assert_int_equal(p.reached, SMTP_NONE);
	assert_true(has(p.error, "cannot connect"));
	smtp_probe_release(&p);
}

/* DANE ---------------------------------------------------------------- */

static unsigned
nibble(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned)(c - 'a' + 10);
	fail_msg("not a hex digit: %c", c);
	return 0;
}

/* The bytes of a hex file that smtp-certs.sh wrote. */
static size_t
hex_file(const char *name, unsigned char *out, size_t size)
{
	char path[320], hex[4096];
	size_t n = 0, i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", certdir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(hex, 1, sizeof(hex) - 1, f);
	fclose(f);
	while (n && (hex[n - 1] == '\n' || hex[n - 1] == ' '))
		n--;
	assert_true(n % 2 == 0 && n / 2 <= size);
	for (i = 0; i < n / 2; i++)
		out[i] = (unsigned char)(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
	return n / 2;
}

struct tlsa_data {
	unsigned char good_spki256[32], good_spki512[64], good_cert256[32];
	unsigned char good_der[2048], expired_spki256[32], wrong_spki256[32];
	unsigned char ca_cert256[32], ca_spki256[32], other_ca256[32];
	unsigned char impostor256[32];
	size_t good_der_len;
};

static void
tlsa_read(struct tlsa_data *d)
{
	hex_file("good.spki.sha256", d->good_spki256, 32);
	hex_file("good.spki.sha512", d->good_spki512, 64);
	hex_file("good.cert.sha256", d->good_cert256, 32);
	d->good_der_len = hex_file("good.cert.hex", d->good_der, sizeof(d->good_der));
	hex_file("expired.spki.sha256", d->expired_spki256, 32);
	hex_file("wrongname.spki.sha256", d->wrong_spki256, 32);
	hex_file("ca.cert.sha256", d->ca_cert256, 32);
	hex_file("ca.spki.sha256", d->ca_spki256, 32);
	hex_file("other-ca.cert.sha256", d->other_ca256, 32);
	hex_file("impostor.cert.sha256", d->impostor256, 32);
}

static enum dane_result
dane1(unsigned u, unsigned s, unsigned m, const unsigned char *data, size_t len,
      const struct smtp_probe *p, const char *host, char *why, size_t whylen)
{
	struct tlsa_rr rr;

	rr.usage = u;
	rr.selector = s;
	rr.mtype = m;
	rr.data = data;
	rr.len = len;
	return dane_check(&rr, 1, p, host, why, whylen);
}

static void
dane_ee(void **state)
{
	struct tlsa_data d;
	struct tlsa_rr two[2];
	struct smtp_probe p;
	char log[4096], why[512];
	const char *mx = "mx.example.test";

	(void)state;
	tlsa_read(&d);
	assert_int_equal(run(M_NORMAL, "good", mx, TIMEOUT_MS, &p, log, sizeof(log)), 0);

	assert_int_equal(dane1(3, 1, 1, d.good_spki256, 32, &p, mx, why, sizeof(why)),
			 DANE_MATCH);
	assert_true(has(why, "TLSA 3 1 1 (record 1) matches the server's certificate"));
	assert_int_equal(dane1(3, 1, 1, d.wrong_spki256, 32, &p, mx, why, sizeof(why)),
			 DANE_NOMATCH);
	assert_true(has(why, "does not match"));
	assert_int_equal(dane1(3, 0, 1, d.good_cert256, 32, &p, mx, why, sizeof(why)),
			 DANE_MATCH);
	assert_int_equal(dane1(3, 1, 2, d.good_spki512, 64, &p, mx, why, sizeof(why)),
			 DANE_MATCH);
	assert_int_equal(dane1(3, 0, 0, d.good_der, d.good_der_len, &p, mx, why,
			       sizeof(why)), DANE_MATCH);
	/* a certificate digest is not a key digest */
	assert_int_equal(dane1(3, 1, 1, d.good_cert256, 32, &p, mx, why, sizeof(why)),
			 DANE_NOMATCH);
	/* DANE-EE: the name is not looked at */
	assert_int_equal(dane1(3, 1, 1, d.good_spki256, 32, &p, "unrelated.example",
			       why, sizeof(why)), DANE_MATCH);
	/* a SHA-256 digest of 31 bytes cannot be used */
	assert_int_equal(dane1(3, 1, 1, d.good_spki256, 31, &p, mx, why, sizeof(why)),
			 DANE_UNUSABLE);
	assert_true(has(why, "31 bytes of SHA-256"));
	assert_int_equal(dane1(3, 2, 1, d.good_spki256, 32, &p, mx, why, sizeof(why)),
			 DANE_UNUSABLE);
	assert_int_equal(dane1(3, 1, 3, d.good_spki256, 32, &p, mx, why, sizeof(why)),
			 DANE_UNUSABLE);
	/* RFC 7672 §3.1.3: PKIX-TA and PKIX-EE are not for SMTP, even when
	 * they would match */
	assert_int_equal(dane1(1, 1, 1, d.good_spki256, 32, &p, mx, why, sizeof(why)),
			 DANE_UNUSABLE);
	assert_true(has(why, "usage 1 (PKIX-EE) is not for SMTP"));
	assert_int_equal(dane1(0, 0, 1, d.ca_cert256, 32, &p, mx, why, sizeof(why)),
			 DANE_UNUSABLE);
	assert_int_equal(dane_check(NULL, 0, &p, mx, why, sizeof(why)), DANE_UNUSABLE);

	/* an unusable record beside a usable one: the usable one decides */
	two[0] = (struct tlsa_rr){1, 1, 1, d.good_spki256, 32};
	two[1] = (struct tlsa_rr){3, 1, 1, d.wrong_spki256, 32};
	assert_int_equal(dane_check(two, 2, &p, mx, why, sizeof(why)), DANE_NOMATCH);
	two[1].data = d.good_spki256;
	assert_int_equal(dane_check(two, 2, &p, mx, why, sizeof(why)), DANE_MATCH);
	assert_true(has(why, "(record 2)"));
	/* the leaf alone was sent: no DANE-TA record can match */
	assert_int_equal(dane1(2, 0, 1, d.ca_cert256, 32, &p, mx, why, sizeof(why)),
			 DANE_NOMATCH);
	assert_true(has(why, "matches no certificate of the chain"));
	/* a short why is cut, not overrun */
	assert_int_equal(dane1(3, 1, 1, d.good_spki256, 32, &p, mx, why, 8),
			 DANE_MATCH);
	assert_string_equal(why, "TLSA 3 ");
	smtp_probe_release(&p);

	/* DANE-EE does not look at dates either */
	assert_int_equal(run(M_NORMAL, "expired", mx, TIMEOUT_MS, &p, log,
			     sizeof(log)), 0);
	assert_int_equal(p.chain_ok, 0);
	assert_int_equal(dane1(3, 1, 1, d.expired_spki256, 32, &p, mx, why,
			       sizeof(why)), DANE_MATCH);
	smtp_probe_release(&p);
}

static void
dane_ta(void **state)
{
	struct tlsa_data d;
	struct smtp_probe p;
	char log[4096], why[512];
	const char *mx = "mx.example.test";

	(void)state;
	tlsa_read(&d);
	/* the server sends its certificate and the CA's */
	assert_int_equal(run(M_NORMAL, "good-chain", mx, TIMEOUT_MS, &p, log,
			     sizeof(log)), 0);
	assert_int_equal(p.n_chain, 2);
	assert_int_equal(dane1(2, 0, 1, d.ca_cert256, 32, &p, mx, why, sizeof(why)),
			 DANE_MATCH);
	assert_true(has(why, "matches certificate 2 of the chain"));
	assert_int_equal(dane1(2, 1, 1, d.ca_spki256, 32, &p, mx, why, sizeof(why)),
			 DANE_MATCH);
	assert_int_equal(dane1(2, 0, 1, d.ca_cert256, 32, &p, "a.wild.example.test",
			       why, sizeof(why)), DANE_MATCH);
	/* DANE-TA: the name counts */
	assert_int_equal(dane1(2, 0, 1, d.ca_cert256, 32, &p, "other.example.test",
			       why, sizeof(why)), DANE_NOMATCH);
	assert_true(has(why, "not valid for \"other.example.test\""));
	assert_int_equal(dane1(2, 0, 1, d.other_ca256, 32, &p, mx, why, sizeof(why)),
			 DANE_NOMATCH);
	assert_int_equal(dane1(3, 1, 1, d.good_spki256, 32, &p, mx, why, sizeof(why)),
			 DANE_MATCH);
	smtp_probe_release(&p);

	/* the anchor sent has the issuer's name but not its key: the leaf
	 * does not chain to it */
	assert_int_equal(run(M_NORMAL, "otherca-impostor", mx, TIMEOUT_MS, &p, log,
			     sizeof(log)), 0);
	assert_int_equal(p.n_chain, 2);
	assert_int_equal(dane1(2, 0, 1, d.impostor256, 32, &p, mx, why, sizeof(why)),
			 DANE_NOMATCH);
	assert_true(has(why, "does not chain to it"));
	smtp_probe_release(&p);

	/* below the anchor, dates count as in PKIX */
	assert_int_equal(run(M_NORMAL, "expired-chain", mx, TIMEOUT_MS, &p, log,
			     sizeof(log)), 0);
	assert_int_equal(dane1(2, 0, 1, d.ca_cert256, 32, &p, mx, why, sizeof(why)),
			 DANE_NOMATCH);
	assert_true(has(why, "expired"));
	smtp_probe_release(&p);
}

/* Setup: fresh certificates in a temporary directory ------------------ */

static int
make_certs(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char cmd[1024];

	(void)state;
	snprintf(certdir, sizeof(certdir), "%s/mxd-smtp-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(certdir))
		return -1;
	snprintf(cmd, sizeof(cmd), "sh '%s' '%s'", MXD_SMTP_CERTS, certdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "%s failed (is openssl installed?)\n", cmd);
		return -1;
	}
	return 0;
}

static int
remove_certs(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_certificate),
		cmocka_unit_test(expired_certificate),
		cmocka_unit_test(wrong_name),
		cmocka_unit_test(unknown_ca),
		cmocka_unit_test(cn_is_not_a_name),
		cmocka_unit_test(wildcard_rules),
		cmocka_unit_test(no_starttls),
		cmocka_unit_test(starttls_454),
		cmocka_unit_test(greeting_421),
		cmocka_unit_test(reset_in_handshake),
		cmocka_unit_test(silent_server),
		cmocka_unit_test(silent_in_handshake),
		cmocka_unit_test(stop_flag_ends_wait),
		cmocka_unit_test(endless_line),
		cmocka_unit_test(long_ehlo_reply),
		cmocka_unit_test(injection_after_starttls),
		cmocka_unit_test(default_ehlo_name),
		cmocka_unit_test(bad_arguments),
		cmocka_unit_test(dane_ee),
		cmocka_unit_test(dane_ta),
	};

	return cmocka_run_group_tests(tests, make_certs, remove_certs);
}
