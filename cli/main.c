/*
 * main.c — mxdigest's entry point: global options, configuration, and the
 * table of commands (as git.c's commands[]).
 */
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "parse/parse.h"
#include "util/log.h"
#include "util/xalloc.h"

static volatile int interrupted;

struct command {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"fetch", cmd_fetch, "fetch new report mails over IMAP into the database"},
	{"import", cmd_import, "read report mails and files into the database"},
	{"quarantine", cmd_quarantine, "list or show messages that could not be read"},
	{"reparse", cmd_reparse, "read every stored message again with this parser"},
	{"report", cmd_report, "print the digest for a time window"},
};

static void
usage(FILE *f)
{
	size_t i;

	fputs("usage: mxdigest [--db PATH] [--config FILE] [-q | -v] [-D AREA] "
	      "COMMAND [ARGS]\n"
	      "\n"
	      "Collects SMTP TLS reports (RFC 8460) and prints digests.\n"
	      "\n"
	      "Commands:\n", f);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Options:\n"
	      "  --db PATH        database (default $XDG_DATA_HOME/mxdigest/mxdigest.db)\n"
	      "  --config FILE    configuration file (default "
	      "$XDG_CONFIG_HOME/mxdigest/config)\n"
	      "  -q, --quiet      print errors only\n"
	      "  -v, --verbose    say more (repeat for more)\n"
	      "  -D AREA          debug output for AREA: imap, mime, sql, all\n"
	      "  -h, --help       this help; `mxdigest COMMAND --help` for a command\n"
	      "  --version        print the version\n"
	      "\n"
	      "See mxdigest(1) for the exit status and examples.\n", f);
}

static void
log_sink(enum mxd_log_level level, const char *line)
{
	fflush(stdout);
	fprintf(stderr, "mxdigest: %s%s\n", level == MXD_LOG_WARN ? "warning: " : "",
		line);
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"db", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cli c;
	struct mxd_err err;
	struct sigaction sa;
	unsigned areas = 0, a;
	const char *db = NULL;
	char *dbpath = NULL;
	size_t i;
	int ch, rc;

	setlocale(LC_CTYPE, "");
	memset(&c, 0, sizeof(c));
	c.interrupted = &interrupted;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:D:hqv", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': c.config_path = optarg; break;
		case 'd': db = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'q': c.quiet = 1; break;
		case 'v': c.verbose++; break;
		case 'V': printf("mxdigest %s\n", MXD_VERSION); return EXIT_OK;
		case 'D':
			a = mxd_log_area_parse(optarg);
			if (!a) {
				fprintf(stderr, "mxdigest: unknown debug area \"%s\" "
					"(imap, mime, sql, all)\n", optarg);
				return EXIT_USAGE;
			}
			areas |= a;
			break;
		default:
			if (optopt)
				fprintf(stderr, "mxdigest: option -%c: %s\n", optopt,
					strchr("cD", optopt) ? "needs an argument"
							     : "unknown");
			else
				fprintf(stderr, "mxdigest: unknown option \"%s\"\n",
					argv[optind - 1]);
			fputs("usage: mxdigest [OPTIONS] COMMAND [ARGS] "
			      "(see mxdigest --help)\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs("mxdigest: no command given (fetch, import, report, quarantine, reparse; "
		      "see mxdigest --help)\n", stderr);
		return EXIT_USAGE;
	}
	mxd_log_setup(c.quiet ? -1 : c.verbose, areas, log_sink);

	mxd_err_clear(&err);
	if (config_load(c.config_path, &c.cfg, &err) < 0) {
		config_release(&c.cfg);
		return cli_fail(&err);
	}
	if (db)
		c.db_path = db;
	else if (c.cfg.database)
		c.db_path = c.cfg.database;
	else
		c.db_path = dbpath = store_default_path();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = -1;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			rc = commands[i].fn(&c, argc - optind, argv + optind);
			break;
		}
	}
	if (rc < 0) {
		fprintf(stderr, "mxdigest: unknown command \"%s\" (see mxdigest "
			"--help)\n", argv[optind]);
		rc = EXIT_USAGE;
	}
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		cli_error(NULL, "cannot write the output");
		rc = EXIT_IOERR;
	}
	config_release(&c.cfg);
	free(dbpath);
	parse_thread_release();
	return rc;
}
