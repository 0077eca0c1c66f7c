/*
 * account.c — checking an [account] section and reading its secret (see
 * account.h).  The secret comes from a command run by /bin/sh (as msmtp's
 * passwordeval and isync's PassCmd), a file only its owner can read, or an
 * environment variable; one trailing newline (LF or CRLF) is dropped.
 */
#include "cli/account.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/strutil.h"
#include "util/xalloc.h"

int
account_find(const struct config *cfg, const char *name,
	     const struct account **out, struct mxd_err *err)
{
	size_t i;

	for (i = 0; i < cfg->n_accounts; i++) {
		if (strcmp(cfg->accounts[i].name, name) == 0) {
			*out = &cfg->accounts[i];
			return 0;
		}
	}
	return mxd_err_set(err, MXD_E_CONFIG, "\"%s\": no such account in %s",
			   name, cfg->path ? cfg->path : "the configuration (none "
			   "was found; see mxdigest.conf(5))");
}

int
account_host_is_address(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

int
account_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (str_casecmp(host, "localhost") == 0 ||
	    str_has_suffix_ci(host, ".localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int
account_plan(const struct config *cfg, const struct account *a, int insecure,
	     struct account_plan *p, struct mxd_err *err)
{
	int sources;

	memset(p, 0, sizeof(*p));
	p->a = a;
	if (!a->host || !*a->host)
		return mxd_err_set(err, MXD_E_CONFIG, "no host");
	if (!a->user || !*a->user)
		return mxd_err_set(err, MXD_E_CONFIG, "no user");
	p->imap.name = a->name;
	p->imap.host = a->host;
	p->imap.user = a->user;
	p->imap.insecure = insecure;
	p->imap.timeout = a->timeout ? a->timeout : ACCOUNT_DEFAULT_TIMEOUT;

	if (!a->security || strcmp(a->security, "imaps") == 0 ||
	    strcmp(a->security, "tls") == 0) {
		p->imap.security = IMAP_SEC_IMAPS;
	} else if (strcmp(a->security, "starttls") == 0) {
		p->imap.security = IMAP_SEC_STARTTLS;
	} else if (strcmp(a->security, "none") == 0) {
		/* the password would cross the network in clear: an address
		 * is checked here, a name when it resolves (fetch/tls.c:
		 * every address it has must be loopback) */
		if (account_host_is_address(a->host) &&
		    !account_host_is_loopback(a->host))
			return mxd_err_set(err, MXD_E_CONFIG, "security = none is "
					   "only allowed for a loopback host, not "
					   "\"%s\" (use imaps or starttls)", a->host);
		p->imap.security = IMAP_SEC_NONE;
	} else {
		return mxd_err_set(err, MXD_E_CONFIG, "security \"%s\": use imaps, "
				   "starttls or none", a->security);
	}
	p->imap.port = a->port ? a->port
			       : p->imap.security == IMAP_SEC_IMAPS ? 993 : 143;

	if (!a->auth || strcmp(a->auth, "login") == 0)
		p->imap.auth = IMAP_AUTH_LOGIN;
	else if (strcmp(a->auth, "plain") == 0)
		p->imap.auth = IMAP_AUTH_PLAIN;
	else if (strcmp(a->auth, "xoauth2") == 0)
		p->imap.auth = IMAP_AUTH_XOAUTH2;
	else
		return mxd_err_set(err, MXD_E_CONFIG, "auth \"%s\": use login, plain "
				   "or xoauth2", a->auth);

	sources = !!a->password_command + !!a->password_file + !!a->password_env;
	if (p->imap.auth == IMAP_AUTH_XOAUTH2) {
		if (!a->oauth2_token_command || sources)
			return mxd_err_set(err, MXD_E_CONFIG, "auth = xoauth2 takes "
					   "its token from oauth2_token_command "
					   "(and no password_* key)");
	} else {
		if (a->oauth2_token_command)
			return mxd_err_set(err, MXD_E_CONFIG, "oauth2_token_command "
					   "needs auth = xoauth2");
		if (sources == 0)
			return mxd_err_set(err, MXD_E_CONFIG, "no password source: set "
					   "password_command, password_file or "
					   "password_env");
		if (sources > 1)
			return mxd_err_set(err, MXD_E_CONFIG, "more than one of "
					   "password_command, password_file and "
					   "password_env");
	}

	if (a->ca_file) {
		char *ca = config_expand_path(a->ca_file);

		if (strlen(ca) >= sizeof(p->ca_file) || access(ca, R_OK) < 0) {
			mxd_err_set(err, MXD_E_CONFIG, "ca_file \"%s\": %s", ca,
				    strlen(ca) >= sizeof(p->ca_file)
				    ? "path too long" : strerror(errno));
			free(ca);
			return -1;
		}
		snprintf(p->ca_file, sizeof(p->ca_file), "%s", ca);
		free(ca);
		p->imap.ca_file = p->ca_file;
	}
	p->mailbox = a->mailbox && *a->mailbox ? a->mailbox : "INBOX";
	p->archive = a->archive_mailbox && *a->archive_mailbox ? a->archive_mailbox
							       : NULL;
	p->quarantine = a->quarantine_mailbox && *a->quarantine_mailbox
			? a->quarantine_mailbox : NULL;
	if ((p->archive && strcmp(p->archive, p->mailbox) == 0) ||
	    (p->quarantine && strcmp(p->quarantine, p->mailbox) == 0))
		return mxd_err_set(err, MXD_E_CONFIG, "archive_mailbox and "
				   "quarantine_mailbox must differ from mailbox "
				   "\"%s\"", p->mailbox);
	p->max_message = a->max_message_size ? a->max_message_size
					     : cfg->max_message_size;
	p->idle_interval = a->idle_interval;
	return 0;
}

static void
strip_newline(struct buf *b)
{
	if (b->len && b->data[b->len - 1] == '\n') {
		b->len--;
		if (b->len && b->data[b->len - 1] == '\r')
			b->len--;
		b->data[b->len] = '\0';
	}
}

static void
wipe(struct buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	buf_release(b);
}

/* Runs `cmd` with /bin/sh -c; its standard output is the secret. */
static int
secret_command(const char *key, const char *cmd, struct buf *b,
	       struct mxd_err *err)
{
	char chunk[4096];
	FILE *f;
	size_t n;
	int st, too_big = 0;

	fflush(NULL);
	if (!(f = popen(cmd, "r")))
		return mxd_err_set(err, MXD_E_CONFIG, "%s: cannot run: %s", key,
				   strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(b, chunk, n) < 0)
			too_big = 1;
	explicit_bzero(chunk, sizeof(chunk));
	st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (st != -1 && WIFEXITED(st))
			return mxd_err_set(err, MXD_E_CONFIG, "%s failed (exit status "
					   "%d)", key, WEXITSTATUS(st));
		return mxd_err_set(err, MXD_E_CONFIG, "%s failed", key);
	}
	if (too_big)
		return mxd_err_set(err, MXD_E_CONFIG, "%s: output longer than %d "
				   "bytes", key, ACCOUNT_SECRET_MAX);
	return 0;
}

static int
secret_file(const char *path, struct buf *b, struct mxd_err *err)
{
	char *p = config_expand_path(path), chunk[4096];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		mxd_err_set(err, MXD_E_CONFIG, "password_file \"%s\": %s", p,
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		mxd_err_set(err, MXD_E_CONFIG, "password_file \"%s\": not a regular "
			    "file", p);
		goto out;
	}
	/* as ssh does with keys: a secret others can read is no secret */
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		mxd_err_set(err, MXD_E_CONFIG, "password_file \"%s\": readable or "
			    "writable by group or others (mode %04o): refused; "
			    "chmod 600 it", p, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (buf_add(b, chunk, (size_t)n) < 0) {
			mxd_err_set(err, MXD_E_CONFIG, "password_file \"%s\": longer "
				    "than %d bytes", p, ACCOUNT_SECRET_MAX);
			goto out;
		}
	}
	if (n < 0) {
		mxd_err_set(err, MXD_E_CONFIG, "password_file \"%s\": %s", p,
			    strerror(errno));
		goto out;
	}
	rc = 0;
out:
	explicit_bzero(chunk, sizeof(chunk));
	if (fd >= 0)
		close(fd);
	free(p);
	return rc;
}

/* The secret in b, checked and copied out; b is wiped. */
static int
secret_out(struct buf *b, int rc, char **out, struct mxd_err *err)
{
	if (rc < 0) {
		wipe(b);
		return -1;
	}
	strip_newline(b);
	if (b->len == 0 || memchr(b->data, '\0', b->len)) {
		mxd_err_set(err, MXD_E_CONFIG, "%s", b->len ? "the secret holds a NUL "
			    "byte" : "the secret is empty");
		wipe(b);
		return -1;
	}
	*out = xstrndup((const char *)b->data, b->len);
	wipe(b);
	return 0;
}

int
secret_from_command(const char *key, const char *cmd, char **out,
		    struct mxd_err *err)
{
	struct buf b;

	*out = NULL;
	buf_init(&b, ACCOUNT_SECRET_MAX);
	return secret_out(&b, secret_command(key, cmd, &b, err), out, err);
}

int
account_secret(const struct account *a, char **out, struct mxd_err *err)
{
	struct buf b;
	const char *v;
	int rc;

	*out = NULL;
	buf_init(&b, ACCOUNT_SECRET_MAX);
	if (a->oauth2_token_command) {
		rc = secret_command("oauth2_token_command", a->oauth2_token_command,
				    &b, err);
	} else if (a->password_command) {
		rc = secret_command("password_command", a->password_command, &b, err);
	} else if (a->password_file) {
		rc = secret_file(a->password_file, &b, err);
	} else if (a->password_env) {
		v = getenv(a->password_env);
		rc = v ? buf_adds(&b, v) : mxd_err_set(err, MXD_E_CONFIG,
						       "password_env: $%s is not "
						       "set", a->password_env);
		if (rc < 0 && v)
			mxd_err_set(err, MXD_E_CONFIG, "password_env: $%s is too "
				    "long", a->password_env);
	} else {
		rc = mxd_err_set(err, MXD_E_CONFIG, "no password source");
	}
	return secret_out(&b, rc, out, err);
}

void
account_secret_free(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}
