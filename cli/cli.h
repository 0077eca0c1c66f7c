/*
 * cli.h — the command line: the only module that prints and exits.
 *
 * main.c parses the global options, reads the configuration, and runs one
 * command from its table; each cmd_*.c parses its own options.  Every
 * error is printed once, as `mxdigest: "<subject>": <reason>`, and mapped
 * to an exit code by cli_exit_code() (docs and mxdigest(1) list them).
 */
#ifndef MXD_CLI_H
#define MXD_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "cli/config.h"
#include "dkim/dkim.h"
#include "store/ingest.h"
#include "util/err.h"

/* Exit codes, sysexits(3) style; mxdigest(1) EXIT STATUS is the table. */
enum {
	EXIT_OK = 0,
	EXIT_ALERT = 1,		/* report: an alert threshold was crossed */
	EXIT_CHECK = 2,		/* check: a check found an error */
	EXIT_USAGE = 64,
	EXIT_DATAERR = 65,	/* partial: some inputs quarantined or unreadable */
	EXIT_NOINPUT = 66,	/* nothing could be read; no such entry */
	EXIT_UNAVAILABLE = 69,	/* IMAP server unavailable or connection lost */
	EXIT_SOFTWARE = 70,	/* internal error */
	EXIT_IOERR = 74,	/* database or output error */
	EXIT_TEMPFAIL = 75,	/* database locked by another run; interrupted */
	EXIT_PROTOCOL = 76,	/* TLS certificate or host name not verified */
	EXIT_NOPERM = 77,	/* authentication failed */
	EXIT_CONFIG = 78,	/* configuration error */
};

int cli_exit_code(enum mxd_status s);

/*
 * The table of commands (main.c, as git.c's commands[]): what each needs is
 * set up in one place — main() reads the configuration and the parser's
 * limits before the command runs, cli_store() opens the store in the mode
 * the table gives once the command's arguments are checked, main() closes
 * it — and each error of that setup is reported once, there.  The global options (--db, --config,
 * -q, -v, -D) are accepted before and after the command's name; main() takes
 * them out of the command's arguments, stepping over the values of the
 * command's own options.
 */
enum cli_needs {
	NEEDS_NOTHING,		/* opens what it needs itself (quarantine) */
	NEEDS_STORE_READ,
	NEEDS_STORE_WRITE,
	NEEDS_STORE_DRY,	/* write; with -n, read what exists (or none) */
};

struct cli;

struct cli_command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	enum cli_needs needs;
	const char *summary;	/* one line for mxdigest --help */
	const char *help;	/* the whole of mxdigest COMMAND --help */
	const char *shortopts;	/* getopt's, without "+" and 'h' */
	const struct option *opts;	/* without "help"; {NULL} ends */
	int permute;		/* options after the arguments too (quarantine
				 * show --raw 3); else they end at the first */
};

struct cli {
	const char *db_path;	/* --db, config, or the default */
	const char *config_path;
	struct config cfg;
	int verbose;		/* -v count; -1 with -q */
	int quiet;
	volatile int *interrupted;	/* set by SIGINT/SIGTERM */
	const struct cli_command *cmd;	/* the command running */
	struct store *store;	/* as cmd->needs asks (NULL: none, or a dry
				 * run without a database) */
	struct parse_limits lim;	/* the parser's, from the configuration */
	int dry;		/* the command's -n was given */
	enum dkim_mode dkim_opt;	/* --dkim, or DKIM_MODE_UNSET */
	struct dns *dns;	/* made by cli_dns(), freed by main() */
	struct dkimv *dkimv;
	int64_t dkim_since;	/* when the verifier was made: the run's start */
};

/* --dkim=MODE of fetch, import, reparse and report: CLI_OPT_DKIM. */
#define CLI_OPT_DKIM 0x1000
#define CLI_DKIM_OPTION {"dkim", required_argument, NULL, CLI_OPT_DKIM}
/* Takes --dkim's value: 0, or EXIT_USAGE after the usage line. */
int cli_dkim_option(struct cli *c, const char *value);
/* --dkim, else the configuration's dkim, else report. */
enum dkim_mode cli_dkim_mode(const struct cli *c);
/* The run's one resolver, with the resolver, dns_timeout and trust
 * anchor of the configuration (made once): 0 or an exit status. */
int cli_dns(struct cli *c, struct dns **out);
/* The trust anchor file to load, or NULL (trust_anchor = none, or no
 * root key installed). */
const char *cli_trust_anchor(const struct cli *c);
/*
 * The checks of `check` and `report --check`: the domains given, else the
 * configuration's, else the stored policy domains of the last 30 days;
 * each reconciled with the store (when open), stored as a run when asked,
 * and returned for printing (in arena).  Returns 0 with *status EXIT_OK,
 * EXIT_CHECK or EXIT_TEMPFAIL, or an exit status after the error line.
 */
struct arena;
struct agg_check;
int cli_check_domains(struct cli *c, const char *const *args, size_t nargs, int smtp,
		      int store_runs, struct arena *a, struct agg_check **out,
		      size_t *n_out, int *status);
/* The DKIM verifier for this run, with the resolver of the configuration
 * (made once; NULL in *out when the mode is off): 0 or an exit status. */
int cli_verifier(struct cli *c, struct dkimv **out);
/* The mails whose key lookup failed before are verified again (after a
 * fetch or an import); one line says what came of it, if there were any:
 * 0 or an exit status. */
int cli_retry_temperror(struct cli *c, struct dkimv *dkim);
/* "<what>3 mails verified: 2 pass, 1 temperror; 2 verdicts stored\n" */
void cli_reverify_summary(const char *what, const struct reverify_stats *st);

/*
 * getopt_long over the command's options, with -h/--help: returns the
 * option, -1 at the end, CLI_OPT_HELP after printing the help, or
 * CLI_OPT_USAGE after a one-line usage error.  main() resets getopt for
 * each command.
 */
#define CLI_OPT_HELP (-2)
#define CLI_OPT_USAGE (-3)
int cli_getopt(struct cli *c, int argc, char **argv);
/* The exit status for CLI_OPT_HELP or CLI_OPT_USAGE. */
int cli_opt_exit(int ch);

/*
 * Every string that comes from a mail, a server or the store reaches the
 * terminal through here: invalid UTF-8 and control characters become
 * U+FFFD, a TAB becomes spaces (it is white space to a person, and no
 * control byte but the caller's newlines is ever written).
 */
void cli_put_clean(FILE *f, const void *s, size_t n);
/* Prints `mxdigest: "<subject>": <text>` (or `mxdigest: <text>`). */
void cli_error(const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints err and returns its exit code. */
int cli_fail(const struct mxd_err *err);
/* One-line usage error for a command; returns EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The parser's limits: the defaults, with max_message_size and
 * max_report_size of the configuration. */
void cli_parse_limits(const struct cli *c, struct parse_limits *lim);
/* Opens c->store as the command's table entry says (once; main() closes
 * it): 0, or the exit status after the one error line.  Commands call it
 * once their arguments are known to be right. */
int cli_store(struct cli *c);
/* After a run that stored messages: the store's compression dictionary
 * made or renewed when due (store_dict_update()); a failure is a warning. */
void cli_store_tidy(struct cli *c);
/* Opens the store at cli->db_path; prints and returns an exit code on
 * failure, 0 on success. */
int cli_open_store(struct cli *c, enum store_mode mode, struct store **out);
/* The same for the store `where` names (store copy's FROM and TO); the
 * password command is used when that is cli->db_path. */
int cli_open_store_at(struct cli *c, const char *where, enum store_mode mode,
		      struct store **out);
/* For a command that writes, or (dry) only reads what exists: a dry run
 * gets the database read-only when there is one, else NULL. */
int cli_open_store_for(struct cli *c, int dry, struct store **out);
struct progress;
/* Prints an ingest event as import and fetch do: quarantine always (one
 * line naming the input), the rest with -v (skipped, already quarantined),
 * -vv (duplicates) or -vvv (new reports). */
void cli_ingest_event(const struct cli *c, struct progress *p,
		      enum ingest_event ev, const char *source,
		      const char *detail);
/* Starts the one summary line of an import or a fetch; the caller adds
 * what is its own and the newline:
 *   [label: ]1,234 messages <verb>[ (1.2 MB)], 45 new reports, 2 duplicates,
 *   1 not a report, 5 quarantined[ (3 already in quarantine)] */
void cli_ingest_summary(const char *label, const char *verb, int mb,
			const struct ingest_stats *st);
/* Worker threads for parsing: one per online CPU (at most 8). */
unsigned cli_worker_threads(void);
/* True when colour may be used on this stream (a TTY, NO_COLOR unset). */
int cli_use_color(FILE *f, const char *mode);

extern const struct cli_command cli_check, cli_fetch, cli_import, cli_quarantine,
	cli_reparse, cli_report, cli_reverify, cli_store_cmd;
/* Re-reads stored messages (reparse, quarantine retry) of a store opened
 * for writing. */
int reparse_run(struct cli *c, struct store *s, int quarantine_only);

#endif
