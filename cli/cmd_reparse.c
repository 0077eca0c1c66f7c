/*
 * cmd_reparse.c — `mxdigest reparse`: read every stored message again with
 * this version's parser (after an upgrade that reads more senders' quirks,
 * or to retry the quarantine).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/strutil.h"

static const char reparse_help[] =
	"usage: mxdigest reparse [--quarantine-only]\n"
	"\n"
	"Reads every stored message again with the current parser: the raw bytes\n"
	"of each message that brought a report or was quarantined are kept, so a\n"
	"newer mxdigest can re-read them.  Reports are updated, quarantined\n"
	"messages that can now be read move into the reports, and nothing is\n"
	"counted twice.  One summary line says what changed.\n"
	"\n"
	"  --quarantine-only  re-read only the quarantined messages (the same as\n"
	"                     `mxdigest quarantine retry`)\n"
	"  -h, --help         this help\n";

struct reparse_ctx {
	struct cli *c;
};

static void
on_event(void *ctx, enum reparse_event ev, const char *source, const char *detail)
{
	struct reparse_ctx *x = ctx;

	switch (ev) {
	case REPARSE_QUARANTINED:
		cli_error(source, "now quarantined: %s", detail);
		break;
	case REPARSE_STILL_QUARANTINED:
		if (x->c->verbose > 0)
			cli_error(source, "still quarantined: %s", detail);
		break;
	case REPARSE_RECOVERED:
		if (x->c->verbose > 0)
			cli_error(source, "read now, out of quarantine");
		break;
	case REPARSE_UPDATED:
		if (x->c->verbose > 0)
			cli_error(source, "report updated");
		break;
	case REPARSE_NEW:
	case REPARSE_NOT_REPORT:
		if (x->c->verbose > 1)
			cli_error(source, ev == REPARSE_NEW ? "new report"
							    : "not a report any more");
		break;
	}
}

int
reparse_run(struct cli *c, struct store *s, int quarantine_only)
{
	struct reparse_ctx x = {c};
	struct reparse_stats st;
	struct mxd_err err;
	char a[32], b[32], d[32], e[32], f[32], g[32];

	mxd_err_clear(&err);
	if (store_reparse(s, &c->lim, quarantine_only, on_event, &x, &st, &err) < 0)
		return cli_fail(&err);
	if (!c->quiet) {
		printf("%s message%s re-read: %s report%s unchanged, %s updated, "
		       "%s recovered from quarantine, %s newly quarantined, %s "
		       "still quarantined",
		       str_thousands(st.messages, a), st.messages == 1 ? "" : "s",
		       str_thousands(st.unchanged, b), st.unchanged == 1 ? "" : "s",
		       str_thousands(st.updated, d), str_thousands(st.recovered, e),
		       str_thousands(st.quarantined, f),
		       str_thousands(st.still_quarantined, g));
		if (st.new_reports)
			printf(", %s new", str_thousands(st.new_reports, a));
		if (st.dropped)
			printf(", %s now duplicates", str_thousands(st.dropped, a));
		if (st.not_reports)
			printf(", %s not a report", str_thousands(st.not_reports, a));
		putchar('\n');
	}
	return st.quarantined ? EXIT_DATAERR : EXIT_OK;
}

static const struct option reparse_opts[] = {
	{"quarantine-only", no_argument, NULL, 'Q'},
	{NULL, 0, NULL, 0},
};

static int
cmd_reparse(struct cli *c, int argc, char **argv)
{
	int ch, qonly = 0;

	while ((ch = cli_getopt(c, argc, argv)) >= 0)
		if (ch == 'Q')
			qonly = 1;
	if (ch != -1)
		return cli_opt_exit(ch);
	if (optind < argc)
		return cli_usage("reparse", "unexpected argument \"%s\"", argv[optind]);
	if ((ch = cli_store(c)))
		return ch;
	return reparse_run(c, c->store, qonly);
}

const struct cli_command cli_reparse = {
	.name = "reparse",
	.fn = cmd_reparse,
	.needs = NEEDS_STORE_WRITE,
	.summary = "read every stored message again with this parser",
	.help = reparse_help,
	.shortopts = "",
	.opts = reparse_opts,
};
