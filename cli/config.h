/*
 * config.h — the configuration file (INI, read with libinih):
 * $XDG_CONFIG_HOME/mxdigest/config, or ~/.config/mxdigest/config, or
 * --config FILE.  See mxdigest.conf(5).
 *
 * Top-level keys (or [general]): database, max_message_size,
 * max_report_size, dkim, resolver, dns_timeout.
 * [account NAME] sections describe IMAP accounts.
 * A struct config owns its strings; config_release() frees them.
 */
#ifndef MXD_CLI_CONFIG_H
#define MXD_CLI_CONFIG_H

#include <stddef.h>

#include "util/err.h"

struct account {
	char *name;
	char *host;
	int port;		/* 0: the default for `security` */
	char *security;		/* imaps | starttls | none */
	char *user;
	char *auth;		/* login | plain | xoauth2 */
	char *password_command;
	char *password_file;
	char *password_env;
	char *oauth2_token_command;
	char *mailbox;
	char *archive_mailbox;
	char *quarantine_mailbox;
	char *ca_file;
	char *address;		/* the report address it receives; NULL: user if it has an @ */
	int timeout;		/* seconds */
	int idle_interval;	/* seconds; 0: the default */
	size_t max_message_size;
	int line;		/* where the section starts, for messages */
};

/* dkim = require | report | off (mxdigest.conf(5)) */
enum dkim_mode { DKIM_MODE_UNSET = -1, DKIM_MODE_OFF, DKIM_MODE_REPORT,
		 DKIM_MODE_REQUIRE };

/* A [domain NAME] section: a domain that `check` looks at. */
struct cfg_domain {
	char *name;		/* lower case, without a trailing dot */
	int smtp;		/* probe its MX hosts (like check --smtp) */
};

struct config {
	char *path;		/* the file read, or NULL */
	char *database;
	char *database_password_command;	/* PostgreSQL password */
	char *resolver;		/* ADDR[:PORT], or NULL: the system's */
	char *trust_anchor;	/* FILE or "none"; NULL: DNS_ROOT_ANCHOR if present */
	char *ca_file;		/* CA for the check probes; NULL: the system's */
	int dns_timeout;	/* seconds; 0: the default */
	int check_timeout;	/* seconds per connection of check; 0: default */
	int check_https_port;	/* test-only: HTTPS probes go here, not 443 */
	int check_smtp_port;	/* test-only: SMTP probes go here, not 25 */
	enum dkim_mode dkim;
	size_t max_message_size;	/* 0: default */
	size_t max_report_size;		/* 0: default */
	struct account *accounts;
	size_t n_accounts;
	struct cfg_domain *domains;
	size_t n_domains;
};

/*
 * Reads `path`, or the default file when path is NULL (a missing default
 * file is not an error).  Returns 0, or -1 with err (MXD_E_CONFIG) naming
 * the file and line.  A file that holds a password_command or an
 * oauth2_token_command (run through the shell) is refused when its group
 * or others may write it.
 */
int config_load(const char *path, struct config *cfg, struct mxd_err *err);
void config_release(struct config *cfg);
/* "require", "report", "off": the mode, or DKIM_MODE_UNSET. */
enum dkim_mode config_dkim_mode(const char *s);
/* ~/ expanded; malloc'd. */
char *config_expand_path(const char *p);

#endif
