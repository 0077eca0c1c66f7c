/*
 * cmd_reparse.c — `mxdigest reparse`: read every stored message again with
 * this version's parser (after an upgrade that reads more senders' quirks,
 * or to retry the quarantine); `mxdigest reverify`: verify the DKIM
 * signatures of stored mails that have no verdict yet.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/strutil.h"

static const char reparse_help[] =
	"usage: mxdigest reparse [--quarantine-only] [--dkim=MODE]\n"
	"       mxdigest reparse --recompress\n"
	"\n"
	"Reads every stored message again with the current parser: the raw bytes\n"
	"of each message that brought a report or was quarantined are kept, so a\n"
	"newer mxdigest can re-read them.  Reports are updated, quarantined\n"
	"messages that can now be read move into the reports, and nothing is\n"
	"counted twice.  One summary line says what changed.  Mails that have\n"
	"no DKIM verdict yet (see mxdigest reverify) get one, unless MODE is off.\n"
	"\n"
	"  --quarantine-only  re-read only the quarantined messages (the same as\n"
	"                     `mxdigest quarantine retry`)\n"
	"  --recompress       parse nothing: store every raw copy again with zstd\n"
	"                     and the store's dictionary (trained first when there\n"
	"                     is none or the mail has changed); converts the zlib\n"
	"                     copies of databases from before schema 5\n"
	"  --dkim=MODE        report, require: verify mails without a verdict;\n"
	"                     off: look nothing up (default: the configuration)\n"
	"  -h, --help         this help\n";

static const char reverify_help[] =
	"usage: mxdigest reverify [--all] [--dkim=MODE]\n"
	"\n"
	"Verifies again the DKIM signatures of stored report mails that have no\n"
	"verdict yet: a key lookup that failed (temperror), mail fetched with\n"
	"dkim = off, or a database from before verdicts.  Verdicts are taken\n"
	"when mail arrives and kept (signatures expire, so a later check can fail\n"
	"for that alone): a pass is never replaced.  Which copy of a report in\n"
	"conflict counts is decided again.  One summary line says what was found.\n"
	"\n"
	"  -a, --all         also mails whose verdict is fail, none or permerror\n"
	"                    (only a pass replaces those)\n"
	"      --dkim=MODE   report or require (off, from the configuration,\n"
	"                    would look nothing up)\n"
	"  -h, --help        this help\n"
	"\n"
	"Exit status: 0 done, 75 some mails still have no verdict (temperror).\n";

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

	struct dkimv *dkim;
	int rc;

	if ((rc = cli_verifier(c, &dkim)))
		return rc;
	mxd_err_clear(&err);
	if (store_reparse(s, &c->lim, quarantine_only, dkim, on_event, &x, &st,
			  &err) < 0)
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
		if (st.verified)
			printf(", %s DKIM verdict%s taken", str_thousands(st.verified, a),
			       st.verified == 1 ? "" : "s");
		putchar('\n');
	}
	return st.quarantined ? EXIT_DATAERR : EXIT_OK;
}

/* reparse --recompress */
static int
recompress(struct cli *c)
{
	struct store_dict_stats ds;
	struct mxd_err err;
	char a[32], b[32], d[32];
	uint64_t before, after;
	int compacted;

	mxd_err_clear(&err);
	if (store_recompress(c->store, &ds, &err) < 0 ||
	    (compacted = store_compact(c->store, &before, &after, &err)) < 0)
		return cli_fail(&err);
	if (c->quiet)
		return EXIT_OK;
	printf("%s raw cop%s recompressed", str_thousands(ds.recompressed, a),
	       ds.recompressed == 1 ? "y" : "ies");
	if (ds.recompressed)
		printf(": %s bytes, were %s", str_thousands(ds.bytes_after, b),
		       str_thousands(ds.bytes_before, d));
	if (ds.dict)
		printf("; dictionary %lld (%.1fx on held-out mail)",
		       (long long)ds.dict, ds.ratio);
	else
		printf("; no dictionary yet (too few messages)");
	putchar('\n');
	if (compacted && after < before)
		printf("database compacted: %s bytes, were %s\n",
		       str_thousands(after, a), str_thousands(before, b));
	else if (!compacted && before)
		printf("database not compacted: other mxdigest processes have it "
		       "open; run again to compact it\n");
	return EXIT_OK;
}

static const struct option reparse_opts[] = {
	CLI_DKIM_OPTION,
	{"quarantine-only", no_argument, NULL, 'Q'},
	{"recompress", no_argument, NULL, 'R'},
	{NULL, 0, NULL, 0},
};

static int
cmd_reparse(struct cli *c, int argc, char **argv)
{
	int ch, qonly = 0, recomp = 0;

	while ((ch = cli_getopt(c, argc, argv)) >= 0) {
		if (ch == 'Q')
			qonly = 1;
		else if (ch == 'R')
			recomp = 1;
		else if (ch == CLI_OPT_DKIM && cli_dkim_option(c, optarg))
			return EXIT_USAGE;
	}
	if (ch != -1)
		return cli_opt_exit(ch);
	if (optind < argc)
		return cli_usage("reparse", "unexpected argument \"%s\"", argv[optind]);
	if (recomp && qonly)
		return cli_usage("reparse", "--recompress parses nothing: it cannot go "
				 "with --quarantine-only");
	if ((ch = cli_store(c)))
		return ch;
	if (recomp)
		return recompress(c);
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

static void
on_verdict(void *ctx, const char *source, const struct dkimv_verdict *v,
	   int taken)
{
	struct cli *c = ctx;

	if (v->result == DKIMV_PASS) {
		if (c->verbose > 0)
			cli_error(source, "DKIM pass (d=%s, s=%s)", v->domain,
				  v->selector);
	} else if (c->verbose > 0 || (v->result == DKIMV_TEMPERROR && !c->quiet)) {
		cli_error(source, "DKIM %s%s: %s", dkimv_result_name(v->result),
			  taken ? "" : " (the stored verdict stays)", v->detail);
	}
}

static const struct option reverify_opts[] = {
	CLI_DKIM_OPTION,
	{"all", no_argument, NULL, 'a'},
	{NULL, 0, NULL, 0},
};

static int
cmd_reverify(struct cli *c, int argc, char **argv)
{
	struct reverify_stats st;
	struct dkimv *dkim;
	struct mxd_err err;
	int ch, all = 0;

	while ((ch = cli_getopt(c, argc, argv)) >= 0) {
		if (ch == 'a')
			all = 1;
		else if (ch == CLI_OPT_DKIM && cli_dkim_option(c, optarg))
			return EXIT_USAGE;
	}
	if (ch != -1)
		return cli_opt_exit(ch);
	if (optind < argc)
		return cli_usage("reverify", "unexpected argument \"%s\"",
				 argv[optind]);
	if (cli_dkim_mode(c) == DKIM_MODE_OFF)
		return cli_usage("reverify", "dkim = off: nothing would be looked up "
				 "(give --dkim=report)");
	if ((ch = cli_store(c)) || (ch = cli_verifier(c, &dkim)))
		return ch;
	mxd_err_clear(&err);
	if (store_reverify(c->store, dkim, all ? REVERIFY_ALL : REVERIFY_PENDING, 0,
			   on_verdict, c, &st, &err) < 0)
		return cli_fail(&err);
	if (!c->quiet)
		cli_reverify_summary("", &st);
	return st.results[DKIMV_TEMPERROR] ? EXIT_TEMPFAIL : EXIT_OK;
}

const struct cli_command cli_reverify = {
	.name = "reverify",
	.fn = cmd_reverify,
	.needs = NEEDS_STORE_WRITE,
	.summary = "verify the DKIM signatures of stored mails without a verdict",
	.help = reverify_help,
	.shortopts = "a",
	.opts = reverify_opts,
};
