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

#include <stdio.h>

#include "cli/config.h"
#include "store/ingest.h"
#include "util/err.h"

/* Exit codes, sysexits(3) style; mxdigest(1) EXIT STATUS is the table. */
enum {
	EXIT_OK = 0,
	EXIT_ALERT = 1,		/* report: an alert threshold was crossed */
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

struct cli {
	const char *db_path;	/* --db, config, or the default */
	const char *config_path;
	struct config cfg;
	int verbose;		/* -v count; -1 with -q */
	int quiet;
	volatile int *interrupted;	/* set by SIGINT/SIGTERM */
};

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
/* Opens the store at cli->db_path; prints and returns an exit code on
 * failure, 0 on success. */
int cli_open_store(struct cli *c, enum store_mode mode, struct store **out);
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
/* Worker threads for parsing: one per online CPU (at most 8). */
unsigned cli_worker_threads(void);
/* True when colour may be used on this stream (a TTY, NO_COLOR unset). */
int cli_use_color(FILE *f, const char *mode);

int cmd_fetch(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_reparse(struct cli *c, int argc, char **argv);
int cmd_report(struct cli *c, int argc, char **argv);
int cmd_quarantine(struct cli *c, int argc, char **argv);
/* Re-reads stored messages (reparse, quarantine retry). */
int reparse_run(struct cli *c, int quarantine_only);

#endif
