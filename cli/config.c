/*
 * config.c — read the INI configuration with libinih (see config.h).
 */
#include "cli/config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/store.h"
#include "util/strutil.h"
#include "util/xalloc.h"

struct load {
	struct config *cfg;
	char error[256];
	size_t cap, dcap;
};

char *
config_expand_path(const char *p)
{
	const char *home = getenv("HOME");

	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0') && home)
		return xasprintf("%s%s", home, p + 1);
	return xstrdup(p);
}

static int
parse_size(const char *v, size_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -1;
	if (*end == 'k' || *end == 'K')
		n <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		n <<= 20, end++;
	else if (*end == 'G' || *end == 'g')
		n <<= 30, end++;
	if (*end || n == 0)
		return -1;
	*out = (size_t)n;
	return 0;
}

static int
parse_int(const char *v, int lo, int hi, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return -1;
	*out = (int)n;
	return 0;
}

static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static struct account *
current_account(struct load *l, const char *section)
{
	struct config *c = l->cfg;
	const char *name = section + strlen("account");
	size_t i;

	while (*name == ' ' || *name == '\t')
		name++;
	for (i = 0; i < c->n_accounts; i++)
		if (strcmp(c->accounts[i].name, name) == 0)
			return &c->accounts[i];
	c->accounts = xgrow(c->accounts, &l->cap, c->n_accounts + 1,
			    sizeof(*c->accounts));
	memset(&c->accounts[c->n_accounts], 0, sizeof(*c->accounts));
	c->accounts[c->n_accounts].name = xstrdup(name);
	return &c->accounts[c->n_accounts++];
}

static int
account_key(struct load *l, struct account *a, const char *k, const char *v)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
		{"host", offsetof(struct account, host)},
		{"security", offsetof(struct account, security)},
		{"user", offsetof(struct account, user)},
		{"auth", offsetof(struct account, auth)},
		{"password_command", offsetof(struct account, password_command)},
		{"password_file", offsetof(struct account, password_file)},
		{"password_env", offsetof(struct account, password_env)},
		{"oauth2_token_command", offsetof(struct account, oauth2_token_command)},
		{"mailbox", offsetof(struct account, mailbox)},
		{"archive_mailbox", offsetof(struct account, archive_mailbox)},
		{"quarantine_mailbox", offsetof(struct account, quarantine_mailbox)},
		{"ca_file", offsetof(struct account, ca_file)},
		{"address", offsetof(struct account, address)},
	};
	static const struct {
		const char *key;
		size_t off;
		int min, max;
		const char *unit;
	} ints[] = {
		{"port", offsetof(struct account, port), 1, 65535, "a TCP port"},
		{"timeout", offsetof(struct account, timeout), 1, 3600, "seconds"},
		/* RFC 2177 §3: IDLE must end before 29 minutes */
		{"idle_interval", offsetof(struct account, idle_interval), 1, 1740,
		 "seconds"},
	};
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strcmp(k, strs[i].key) == 0) {
			set_str((char **)((char *)a + strs[i].off), v);
			return 1;
		}
	}
	if (strcmp(k, "password") == 0) {
		snprintf(l->error, sizeof(l->error), "[account %s]: \"password\" is "
			 "not accepted in the file: use password_command, "
			 "password_file or password_env", a->name);
		return 0;
	}
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (strcmp(k, ints[i].key) != 0)
			continue;
		if (parse_int(v, ints[i].min, ints[i].max,
			      (int *)(void *)((char *)a + ints[i].off)) == 0)
			return 1;
		snprintf(l->error, sizeof(l->error), "[account %s]: bad %s \"%s\" "
			 "(%s, %d to %d)", a->name, k, v, ints[i].unit, ints[i].min,
			 ints[i].max);
		return 0;
	}
	if (strcmp(k, "max_message_size") == 0) {
		if (parse_size(v, &a->max_message_size) == 0)
			return 1;
		snprintf(l->error, sizeof(l->error), "[account %s]: bad "
			 "max_message_size \"%s\"", a->name, v);
		return 0;
	}
	snprintf(l->error, sizeof(l->error), "[account %s]: unknown key \"%s\"",
		 a->name, k);
	return 0;
}

/* The [domain NAME] section of that name, created on first sight. */
static struct cfg_domain *
current_domain(struct load *l, const char *section)
{
	struct config *c = l->cfg;
	const char *name = section + strlen("domain");
	size_t i, n;
	char *d;

	while (*name == ' ' || *name == '\t')
		name++;
	d = xstrdup(name);
	str_lower(d);
	n = strlen(d);
	while (n > 0 && (d[n - 1] == '.' || d[n - 1] == ' ' || d[n - 1] == '\t'))
		d[--n] = '\0';
	for (i = 0; i < c->n_domains; i++) {
		if (strcmp(c->domains[i].name, d) == 0) {
			free(d);
			return &c->domains[i];
		}
	}
	c->domains = xgrow(c->domains, &l->dcap, c->n_domains + 1,
			   sizeof(*c->domains));
	memset(&c->domains[c->n_domains], 0, sizeof(*c->domains));
	c->domains[c->n_domains].name = d;
	return &c->domains[c->n_domains++];
}

static int
is_section(const char *section, const char *kind)
{
	size_t n = strlen(kind);

	return strncmp(section, kind, n) == 0 &&
	    (section[n] == ' ' || section[n] == '\t') && section[n + 1];
}

static int
parse_bool(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
		 strcmp(v, "0") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int
domain_key(struct load *l, struct cfg_domain *d, const char *k, const char *v)
{
	if (strcmp(k, "smtp") == 0) {
		if (parse_bool(v, &d->smtp) == 0)
			return 1;
		snprintf(l->error, sizeof(l->error), "[domain %s]: smtp \"%s\": "
			 "use yes or no", d->name, v);
		return 0;
	}
	snprintf(l->error, sizeof(l->error), "[domain %s]: unknown key \"%s\"",
		 d->name, k);
	return 0;
}

static int
general_int(struct load *l, const char *k, const char *v, int *out)
{
	static const struct {
		const char *key;
		int min, max;
		const char *unit;
	} ints[] = {
		{"dns_timeout", 1, 300, "seconds"},
		{"check_timeout", 1, 300, "seconds"},
		{"check_https_port", 1, 65535, "a TCP port"},
		{"check_smtp_port", 1, 65535, "a TCP port"},
	};
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		if (strcmp(k, ints[i].key) != 0)
			continue;
		if (parse_int(v, ints[i].min, ints[i].max, out) == 0)
			return 1;
		snprintf(l->error, sizeof(l->error), "bad %s \"%s\" (%s, %d to %d)",
			 k, v, ints[i].unit, ints[i].min, ints[i].max);
		return 0;
	}
	return -1;
}

static int
handler(void *user, const char *section, const char *k, const char *v)
{
	struct load *l = user;
	int r;

	if (!*section || strcmp(section, "general") == 0) {
		if (strcmp(k, "database") == 0) {
			free(l->cfg->database);
			/* a PostgreSQL connection string is kept as it is */
			l->cfg->database = store_is_remote(v) ? xstrdup(v)
							      : config_expand_path(v);
			return 1;
		}
		if (strcmp(k, "database_password_command") == 0) {
			free(l->cfg->database_password_command);
			l->cfg->database_password_command = xstrdup(v);
			return 1;
		}
		if (strcmp(k, "max_message_size") == 0) {
			if (parse_size(v, &l->cfg->max_message_size) == 0)
				return 1;
			snprintf(l->error, sizeof(l->error),
				 "bad max_message_size \"%s\"", v);
			return 0;
		}
		if (strcmp(k, "resolver") == 0) {
			free(l->cfg->resolver);
			l->cfg->resolver = xstrdup(v);
			return 1;
		}
		if (strcmp(k, "trust_anchor") == 0 || strcmp(k, "ca_file") == 0) {
			char **dst = k[0] == 't' ? &l->cfg->trust_anchor :
			    &l->cfg->ca_file;

			free(*dst);
			*dst = strcmp(v, "none") == 0 && k[0] == 't' ? xstrdup(v) :
			    config_expand_path(v);
			return 1;
		}
		r = general_int(l, k, v,
				strcmp(k, "dns_timeout") == 0 ? &l->cfg->dns_timeout :
				strcmp(k, "check_timeout") == 0 ? &l->cfg->check_timeout :
				strcmp(k, "check_https_port") == 0 ?
				&l->cfg->check_https_port : &l->cfg->check_smtp_port);
		if (r >= 0)
			return r;
		if (strcmp(k, "dkim") == 0) {
			if ((l->cfg->dkim = config_dkim_mode(v)) != DKIM_MODE_UNSET)
				return 1;
			snprintf(l->error, sizeof(l->error), "dkim \"%s\": use require, "
				 "report or off", v);
			return 0;
		}
		if (strcmp(k, "max_report_size") == 0) {
			if (parse_size(v, &l->cfg->max_report_size) == 0)
				return 1;
			snprintf(l->error, sizeof(l->error),
				 "bad max_report_size \"%s\"", v);
			return 0;
		}
		snprintf(l->error, sizeof(l->error), "unknown key \"%s\"", k);
		return 0;
	}
	if (is_section(section, "account")) {
		if (!l->error[0])
			return account_key(l, current_account(l, section), k, v);
		return 0;
	}
	if (is_section(section, "domain")) {
		if (!l->error[0])
			return domain_key(l, current_domain(l, section), k, v);
		return 0;
	}
	snprintf(l->error, sizeof(l->error), "unknown section [%s]", section);
	return 0;
}

enum dkim_mode
config_dkim_mode(const char *s)
{
	if (strcmp(s, "require") == 0)
		return DKIM_MODE_REQUIRE;
	if (strcmp(s, "report") == 0)
		return DKIM_MODE_REPORT;
	if (strcmp(s, "off") == 0)
		return DKIM_MODE_OFF;
	return DKIM_MODE_UNSET;
}

/*
 * libinih calls the handler for keys only: a [domain NAME] section with
 * no key in it is found by a second look at the section lines.
 */
static void
empty_domains(struct load *l, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024], *s, *e;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s != '[' || !(e = strchr(s, ']')))
			continue;
		*e = '\0';
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (is_section(s, "domain"))
			(void)current_domain(l, s);
	}
	fclose(f);
}

/* True when some account has a command that the shell runs. */
static int
runs_commands(const struct config *cfg)
{
	size_t i;

	if (cfg->database_password_command)
		return 1;
	for (i = 0; i < cfg->n_accounts; i++)
		if (cfg->accounts[i].password_command ||
		    cfg->accounts[i].oauth2_token_command)
			return 1;
	return 0;
}

static char *
default_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (x && *x == '/')
		return xasprintf("%s/mxdigest/config", x);
	if (home && *home)
		return xasprintf("%s/.config/mxdigest/config", home);
	return NULL;
}

int
config_load(const char *path, struct config *cfg, struct mxd_err *err)
{
	struct load l;
	char *p = path ? xstrdup(path) : default_path();
	struct stat st;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->dkim = DKIM_MODE_UNSET;
	memset(&l, 0, sizeof(l));
	l.cfg = cfg;
	if (!p)
		return 0;
	if (stat(p, &st) < 0) {
		if (!path && errno == ENOENT) {
			free(p);
			return 0;
		}
		mxd_err_set(err, MXD_E_CONFIG, "\"%s\": cannot read: %s", p,
			    strerror(errno));
		free(p);
		return -1;
	}
	cfg->path = p;
	rc = ini_parse(p, handler, &l);
	if (rc == 0)
		empty_domains(&l, p);
	if (rc < 0)
		mxd_err_set(err, MXD_E_CONFIG, "\"%s\": cannot read: %s", p,
			    strerror(errno));
	else if (rc > 0)
		mxd_err_set(err, MXD_E_CONFIG, "\"%s\": line %d: %s", p, rc,
			    l.error[0] ? l.error : "syntax error");
	if (rc == 0 && (st.st_mode & (S_IWGRP | S_IWOTH)) && runs_commands(cfg)) {
		mxd_err_set(err, MXD_E_CONFIG, "\"%s\": other users may write this "
			    "file, and it has commands that mxdigest runs "
			    "(password_command, oauth2_token_command, "
			    "database_password_command): chmod go-w it",
			    p);
		rc = -1;
	}
	if (rc != 0) {
		/* the caller gets nothing to release on failure */
		config_release(cfg);
		return -1;
	}
	return 0;
}

void
config_release(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_accounts; i++) {
		struct account *a = &cfg->accounts[i];

		free(a->name);
		free(a->host);
		free(a->security);
		free(a->user);
		free(a->auth);
		free(a->password_command);
		free(a->password_file);
		free(a->password_env);
		free(a->oauth2_token_command);
		free(a->mailbox);
		free(a->archive_mailbox);
		free(a->quarantine_mailbox);
		free(a->ca_file);
		free(a->address);
	}
	free(cfg->accounts);
	for (i = 0; i < cfg->n_domains; i++)
		free(cfg->domains[i].name);
	free(cfg->domains);
	free(cfg->trust_anchor);
	free(cfg->ca_file);
	free(cfg->database);
	free(cfg->database_password_command);
	free(cfg->resolver);
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}
