/*
 * cmd_import.c — `mxdigest import PATH...|-`: files, directories, Maildir
 * folders, mbox files and standard input into the database.
 */
#include <getopt.h>
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
	"usage: mxdigest import [-n] PATH... | -\n"
	"\n"
	"Reads TLS-RPT reports into the database: mail files (.eml), raw .json\n"
	"and .json.gz reports, directories (recursively), Maildir folders (cur/\n"
	"and new/), mbox files, or standard input (-).  Reports already stored\n"
	"are counted as duplicates; inputs that look like reports but cannot be\n"
	"read are kept in quarantine (mxdigest quarantine list).\n"
	"\n"
	"  -n, --dry-run   parse and report, store nothing\n"
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
	struct parse_limits lim;
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

static void
print_summary(const struct import_ctx *x, const struct ingest_stats *st)
{
	char a[32], b[32], c[32], d[32], e[32];

	printf("%s message%s read, %s new report%s, %s duplicate%s, %s not a "
	       "report, %s quarantined",
	       str_thousands(st->messages, a), st->messages == 1 ? "" : "s",
	       str_thousands(st->reports, b), st->reports == 1 ? "" : "s",
	       str_thousands(st->duplicates, c), st->duplicates == 1 ? "" : "s",
	       str_thousands(st->not_reports, d), str_thousands(st->quarantined, e));
	if (st->already_quarantined)
		printf(" (%s already in quarantine)",
		       str_thousands(st->already_quarantined, a));
	if (x->unreadable)
		printf(", %s unreadable", str_thousands(x->unreadable, a));
	if (x->dry)
		printf(" (dry run: nothing stored)");
	putchar('\n');
}

int
cmd_import(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct import_ctx x;
	struct fetch_local_opts fo;
	struct store *s = NULL;
	const struct ingest_stats *st;
	int ch, i, rc = EXIT_OK;

	memset(&x, 0, sizeof(x));
	x.c = c;
	optind = 0;	/* glibc: re-initialise after main()'s getopt */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+hn", opts, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(import_help, stdout); return EXIT_OK;
		case 'n': x.dry = 1; break;
		default: return cli_usage("import", "unknown option \"%s\"",
					  argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage("import", "no input given (a path, or - for "
				 "standard input)");
	cli_parse_limits(c, &x.lim);

	if ((rc = cli_open_store_for(c, x.dry, &s)))
		return rc;
	x.g = ingest_new(s, &x.lim, IMPORT_BATCH, cli_worker_threads(), on_event,
			 &x);
	if (x.dry)
		ingest_set_dry_run(x.g);
	progress_init(&x.prog, "import", !c->quiet);
	memset(&fo, 0, sizeof(fo));
	/* an oversized message is read whole (up to READ_CAP) so that the
	 * quarantine keeps all of it */
	fo.read_cap = READ_CAP > x.lim.max_message ? READ_CAP : x.lim.max_message + 1;
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
		if (!c->quiet)
			print_summary(&x, st);
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
	store_close(s);
	return rc;
}
