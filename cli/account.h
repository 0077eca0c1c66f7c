/*
 * account.h — an [account NAME] section of the configuration made ready
 * for `mxdigest fetch`: checked, defaults filled in, the TLS policy applied
 * (security = none only for a loopback host: an address at once, a name
 * when it resolves), and its secret read from
 * password_command, password_file, password_env or oauth2_token_command —
 * never from the command line.  See mxdigest.conf(5).
 *
 * A struct account_plan points into the struct account it was made from;
 * the secret is a separate malloc'd string, wiped by account_secret_free().
 */
#ifndef MXD_CLI_ACCOUNT_H
#define MXD_CLI_ACCOUNT_H

#include <stddef.h>

#include "cli/config.h"
#include "fetch/imap.h"
#include "util/err.h"

#define ACCOUNT_DEFAULT_TIMEOUT 60
#define ACCOUNT_SECRET_MAX 65536

struct account_plan {
	const struct account *a;
	struct imap_conf imap;	/* .secret is NULL: see account_secret() */
	const char *mailbox;
	const char *archive;	/* NULL: processed mail stays */
	const char *quarantine;	/* NULL: quarantined mail stays */
	size_t max_message;	/* 0: the parser's default */
	int idle_interval;	/* seconds between looks at the mailbox in
				 * --watch; 0: the default */
	char ca_file[4096];	/* ca_file with ~/ expanded */
};

/* The account called `name`; MXD_E_CONFIG when there is none. */
int account_find(const struct config *cfg, const char *name,
		 const struct account **out, struct mxd_err *err);
/* Checks a section and fills *p.  Errors are MXD_E_CONFIG. */
int account_plan(const struct config *cfg, const struct account *a, int insecure,
		 struct account_plan *p, struct mxd_err *err);
/* Reads the secret; returns a malloc'd string without its trailing newline.
 * Errors are MXD_E_CONFIG. */
int account_secret(const struct account *a, char **out, struct mxd_err *err);
/* Wipes and frees; accepts NULL. */
void account_secret_free(char *secret);
/* The output of a password command (key names it in messages), as
 * account_secret() reads it; free with account_secret_free(). */
int secret_from_command(const char *key, const char *cmd, char **out,
			struct mxd_err *err);
/* "localhost", 127.0.0.0/8, ::1 */
int account_host_is_loopback(const char *host);
/* An IPv4 or IPv6 address rather than a name. */
int account_host_is_address(const char *host);

#endif
