/*
 * main.c — mxdigest's entry point: the table of commands (as git.c's
 * commands[]), the global options, and the setup each command needs —
 * configuration, parser limits, the store — done once, here.
 */
#include <getopt.h>
#include <inttypes.h>
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

static const struct cli_command *const commands[] = {
	&cli_check, &cli_fetch, &cli_import, &cli_quarantine, &cli_reparse,
	&cli_report, &cli_reverify, &cli_store_cmd,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The options that mean the same for every command. */
struct globals {
	const char *config, *db;
	int quiet, verbose;
	unsigned areas;
};

static const struct option global_opts[] = {
	{"config", required_argument, NULL, 'c'},
	{"db", required_argument, NULL, 'd'},
	{"help", no_argument, NULL, 'h'},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
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
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\n"
	      "Options (before or after the command):\n"
	      "  --db PATH        database (default $XDG_DATA_HOME/mxdigest/mxdigest.db)\n"
	      "  --config FILE    configuration file (default "
	      "$XDG_CONFIG_HOME/mxdigest/config)\n"
	      "  -q, --quiet      print errors only\n"
	      "  -v, --verbose    say more (repeat for more)\n"
	      "  -D AREA          debug output for AREA: imap, mime, sql, store, all\n"
	      "  -h, --help       this help; `mxdigest COMMAND --help` for a command\n"
	      "  --version        print the version\n"
	      "\n"
	      "See mxdigest(1) for the exit status and examples.\n", f);
}

static int
bad_area(const char *a)
{
	fprintf(stderr, "mxdigest: unknown debug area \"%s\" (imap, mime, sql, "
		"store, all)\n", a);
	return -1;
}

/*
 * A global option at argv[i], after the command's name: returns how many
 * arguments it takes (1 or 2), 0 when argv[i] is not one, -1 after an
 * error.  Long names must be whole here: a prefix could be the command's.
 */
static int
global_at(int argc, char **argv, int i, struct globals *g)
{
	const char *a = argv[i], *v;
	unsigned area;
	size_t k;

	if (strncmp(a, "--db", 4) == 0 && (a[4] == '\0' || a[4] == '=')) {
		v = a[4] ? a + 5 : i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return -1;
		g->db = v;
		return a[4] ? 1 : 2;
	}
	if (strncmp(a, "--config", 8) == 0 && (a[8] == '\0' || a[8] == '=')) {
		v = a[8] ? a + 9 : i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return -1;
		g->config = v;
		return a[8] ? 1 : 2;
	}
	if (strcmp(a, "--quiet") == 0) {
		g->quiet = 1;
		return 1;
	}
	if (strcmp(a, "--verbose") == 0) {
		g->verbose++;
		return 1;
	}
	if (a[0] != '-' || a[1] == '-' || !a[1])
		return 0;
	if (a[1] == 'c' || a[1] == 'D') {
		v = a[2] ? a + 2 : i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			return -1;
		if (a[1] == 'c') {
			g->config = v;
		} else {
			if (!(area = mxd_log_area_parse(v)))
				return bad_area(v);
			g->areas |= area;
		}
		return a[2] ? 1 : 2;
	}
	/* a cluster of -q and -v only ("-vv") */
	for (k = 1; a[k]; k++)
		if (a[k] != 'q' && a[k] != 'v')
			return 0;
	for (k = 1; a[k]; k++) {
		if (a[k] == 'q')
			g->quiet = 1;
		else
			g->verbose++;
	}
	return 1;
}

/* How many arguments the command's option at argv[i] takes (its value
 * included), and its getopt value in *val ('n' if a cluster holds it); 1
 * and 0 for what it does not know (cli_getopt() will say so). */
static int
command_opt(const struct cli_command *cmd, int argc, char **argv, int i,
	    int *val)
{
	const char *a = argv[i];
	const struct option *o, *hit = NULL;
	const char *p;
	size_t n;
	int hits = 0;

	*val = 0;
	if (a[0] == '-' && a[1] == '-') {
		n = strcspn(a + 2, "=");
		if (n == 4 && strncmp(a + 2, "help", 4) == 0) {
			*val = 'h';
			return 1;
		}
		for (o = cmd->opts; o && o->name; o++) {
			if (strncmp(o->name, a + 2, n) != 0)
				continue;
			if (strlen(o->name) == n) {
				hit = o;
				hits = 1;
				break;
			}
			hit = o;
			hits++;
		}
		if (hits != 1)
			return 1;
		*val = hit->val;
		return hit->has_arg == required_argument && !a[2 + n] && i + 1 < argc
		       ? 2 : 1;
	}
	for (p = a + 1; *p; p++) {
		const char *s = *p == 'h' ? "h" : cmd->shortopts
			? strchr(cmd->shortopts, *p) : NULL;

		if (!s)
			return 1;
		if (*val == 0 || *p == 'n')
			*val = *p;
		if (s[1] == ':')
			return !p[1] && i + 1 < argc ? 2 : 1;
	}
	return 1;
}

/*
 * Takes the global options out of a command's arguments, so that
 * "mxdigest report --db x.db --since 7d" works as users type it; notes the
 * dry-run option, which changes how cli_store() opens the store.  Returns
 * the new argc, or -1 after a one-line error.
 */
static int
take_globals(const struct cli_command *cmd, int argc, char **argv,
	     struct globals *g, int *dry)
{
	int i = 1, j = 1, k, val;

	while (i < argc) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (argv[i][0] != '-' || !argv[i][1]) {
			argv[j++] = argv[i++];
			continue;
		}
		k = global_at(argc, argv, i, g);
		if (k < 0) {
			fprintf(stderr, "mxdigest %s: option \"%s\" needs a value\n",
				cmd->name, argv[i]);
			return -1;
		}
		if (k > 0) {
			i += k;
			continue;
		}
		k = command_opt(cmd, argc, argv, i, &val);
		*dry |= val == 'n' && cmd->needs == NEEDS_STORE_DRY;
		while (k--)
			argv[j++] = argv[i++];
	}
	argv[j] = NULL;
	return j;
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
	struct cli c;
	struct globals g;
	struct mxd_err err;
	struct sigaction sa;
	const struct cli_command *cmd = NULL;
	char *dbpath = NULL;
	size_t i;
	int ch, rc, cargc;
	unsigned a;

	setlocale(LC_CTYPE, "");
	memset(&c, 0, sizeof(c));
	c.dkim_opt = DKIM_MODE_UNSET;
	memset(&g, 0, sizeof(g));
	c.interrupted = &interrupted;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:D:hqv", global_opts, NULL)) != -1) {
		switch (ch) {
		case 'c': g.config = optarg; break;
		case 'd': g.db = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'q': g.quiet = 1; break;
		case 'v': g.verbose++; break;
		case 'V': printf("mxdigest %s\n", MXD_VERSION); return EXIT_OK;
		case 'D':
			a = mxd_log_area_parse(optarg);
			if (!a) {
				bad_area(optarg);
				return EXIT_USAGE;
			}
			g.areas |= a;
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
	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[optind], commands[i]->name) == 0)
			cmd = commands[i];
	if (!cmd) {
		fprintf(stderr, "mxdigest: unknown command \"%s\" (see mxdigest "
			"--help)\n", argv[optind]);
		return EXIT_USAGE;
	}
	c.cmd = cmd;
	argv += optind;
	cargc = take_globals(cmd, argc - optind, argv, &g, &c.dry);
	if (cargc < 0)
		return EXIT_USAGE;
	c.config_path = g.config;
	c.quiet = g.quiet;
	c.verbose = g.verbose;
	mxd_log_setup(c.quiet ? -1 : c.verbose, g.areas, log_sink);

	mxd_err_clear(&err);
	if (config_load(c.config_path, &c.cfg, &err) < 0) {
		config_release(&c.cfg);
		return cli_fail(&err);
	}
	if (g.db)
		c.db_path = g.db;
	else if (c.cfg.database)
		c.db_path = c.cfg.database;
	else
		c.db_path = dbpath = store_default_path();
	cli_parse_limits(&c, &c.lim);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	optind = 0;	/* glibc: the command's getopt starts afresh */
	opterr = 0;
	rc = cmd->fn(&c, cargc, argv);
	store_close(c.store);	/* opened by cli_store() */
	if (c.dkimv) {
		uint64_t decoded, reused;

		dkimv_key_stats(c.dkimv, &decoded, &reused);
		mxd_log(MXD_LOG_INFO, "DKIM: %" PRIu64 " key%s decoded, used again "
			"for %" PRIu64 " signature%s", decoded, decoded == 1 ? "" : "s",
			reused, reused == 1 ? "" : "s");
	}
	dkimv_free(c.dkimv);	/* made by cli_verifier() */
	dns_close(c.dns);
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		cli_error(NULL, "cannot write the output");
		rc = EXIT_IOERR;
	}
	config_release(&c.cfg);
	free(dbpath);
	parse_thread_release();
	return rc;
}
