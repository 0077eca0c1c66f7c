/*
 * cmd_import.c — `mxdigest import PATH...|-`: files, directories, Maildir
 * folders, mbox files and standard input into the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "fetch/fetch.h"
#include "util/strutil.h"

#define IMPORT_BATCH 1000
#define READ_CAP ((size_t)256 << 20)

static const char import_help[] =
	"usage: mxdigest import [-n] [--dkim=MODE] PATH... | -\n"
	"\n"
	"Reads TLS-RPT reports into the database: mail files (.eml), raw .json\n"
	"and .json.gz reports, directories (recursively), Maildir folders (cur/\n"
	"and new/), mbox files, or standard input (-).  Reports already stored\n"
	"are counted as duplicates; inputs that look like reports but cannot be\n"
	"read are kept in quarantine (mxdigest quarantine list).\n"
	"\n"
	"  -n, --dry-run   parse and report, store nothing\n"
	"      --dkim=MODE verify DKIM signatures (report, require) or not (off);\n"
	"                  default: the configuration's dkim, else report\n"
	"  -h, --help      this help\n"
	"\n"
	"Exit status: 0 all read, 65 some inputs quarantined or unreadable,\n"
	"66 nothing could be read, 74 database error, 75 database locked.\n";

struct import_ctx {
	struct cli *c;
	struct ingest *g;
	struct progress prog;
	struct mxd_err err;
	int store_failed;
	uint64_t unreadable;
	int dry;
};

static void
on_event(void *ctx, enum ingest_event ev, const char *source, const char *detail)
{
	struct import_ctx *x = ctx;

	cli_ingest_event(x->c, &x->prog, ev, source, detail);
}

static int
on_msg(const struct fetch_msg *m, void *ctx)
{
	struct import_ctx *x = ctx;

	if (*x->c->interrupted)
		return 1;
	if (ingest_message(x->g, m->data, m->len, m->source, m->name,
			   m->truncated_from, &x->err) < 0) {
		x->store_failed = 1;
		return 1;
	}
	progress_update(&x->prog, ingest_stats(x->g)->messages,
			ingest_stats(x->g)->bytes);
	return 0;
}

static void
on_read_error(const char *source, const char *reason, void *ctx)
{
	struct import_ctx *x = ctx;

	progress_clear(&x->prog);
	x->unreadable++;
	cli_error(source, "%s", reason);
}

static const struct option import_opts[] = {
	CLI_DKIM_OPTION,
	{"dry-run", no_argument, NULL, 'n'},
	{NULL, 0, NULL, 0},
};

static int
cmd_import(struct cli *c, int argc, char **argv)
{
	struct import_ctx x;
	struct fetch_local_opts fo;
	const struct ingest_stats *st;
	struct dkimv *dkim;
	int ch, i, rc = EXIT_OK;

	memset(&x, 0, sizeof(x));
	x.c = c;
	while ((ch = cli_getopt(c, argc, argv)) >= 0) {
		if (ch == 'n')
			x.dry = 1;
		else if (ch == CLI_OPT_DKIM && cli_dkim_option(c, optarg))
			return EXIT_USAGE;
	}
	if (ch != -1)
		return cli_opt_exit(ch);
	if (optind >= argc)
		return cli_usage("import", "no input given (a path, or - for "
				 "standard input)");
	/* for writing, or read-only (or none) for a dry run */
	if ((rc = cli_store(c)) || (rc = cli_verifier(c, &dkim)))
		return rc;
	x.g = ingest_new(c->store, &c->lim, IMPORT_BATCH, cli_worker_threads(),
			 on_event, &x);
	ingest_set_dkim(x.g, dkim);
	if (x.dry)
		ingest_set_dry_run(x.g);
	progress_init(&x.prog, "import", !c->quiet);
	memset(&fo, 0, sizeof(fo));
	/* an oversized message is read whole (up to READ_CAP) so that the
	 * quarantine keeps all of it */
	fo.read_cap = READ_CAP > c->lim.max_message ? READ_CAP
						    : c->lim.max_message + 1;
	fo.on_msg = on_msg;
	fo.on_error = on_read_error;
	fo.ctx = &x;
	for (i = optind; i < argc && !x.store_failed && !*c->interrupted; i++)
		fetch_local(argv[i], &fo);
	progress_clear(&x.prog);

	if (!x.store_failed && ingest_flush(x.g, &x.err) < 0)
		x.store_failed = 1;
	st = ingest_stats(x.g);
	if (x.store_failed) {
		rc = cli_fail(&x.err);
		cli_error(NULL, "import stopped: the last batch was not saved; run "
			  "it again (nothing is counted twice)");
	} else {
		if (!c->quiet) {
			char n[32];

			cli_ingest_summary(NULL, "read", 0, st);
			if (x.unreadable)
				printf(", %s unreadable", str_thousands(x.unreadable, n));
			printf("%s\n", x.dry ? " (dry run: nothing stored)" : "");
		}
		if (!x.dry && (i = cli_retry_temperror(c, dkim)))
			rc = i;
		if (*c->interrupted) {
			cli_error(NULL, "interrupted: what was read so far is saved");
			rc = EXIT_TEMPFAIL;
		} else if (st->messages == 0 && x.unreadable) {
			rc = EXIT_NOINPUT;
		} else if (st->quarantined || x.unreadable) {
			rc = EXIT_DATAERR;
		}
	}
	ingest_free(x.g);
	if (!x.store_failed && !x.dry)
		cli_store_tidy(c);
	return rc;
}

const struct cli_command cli_import = {
	.name = "import",
	.fn = cmd_import,
	.needs = NEEDS_STORE_DRY,
	.summary = "read report mails and files into the database",
	.help = import_help,
	.shortopts = "n",
	.opts = import_opts,
};
