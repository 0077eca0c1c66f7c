/*
 * cmd_store.c — `mxdigest store copy FROM TO`: the whole of one store into
 * a new one, SQLite and PostgreSQL either way (store_copy()).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "util/log.h"
#include "util/strutil.h"

static const char store_help[] =
	"usage: mxdigest store copy FROM TO\n"
	"\n"
	"Copies the whole store FROM into the new store TO: every raw copy as\n"
	"stored, the reports, the quarantine, the dictionaries, the checks and\n"
	"the IMAP sync state, with their ids.  TO then gives the same digests\n"
	"and quarantine, reparse works on it, and fetch goes on where FROM was.\n"
	"FROM and TO are what --db takes: a path (SQLite) or a PostgreSQL\n"
	"connection (a postgresql:// URI or \"host=... dbname=...\"), so a store\n"
	"moves from SQLite to PostgreSQL and back.  FROM is read in one\n"
	"snapshot; stop fetch and import on it for the copy to be the latest.\n"
	"\n"
	"TO must be empty: a new SQLite file, or a PostgreSQL database without\n"
	"mxdigest's tables (or with them and no rows).  A store with rows is\n"
	"refused (exit status 64) and left as it is.  If the copy fails midway,\n"
	"TO holds part of FROM: drop it and copy again into a new one.\n"
	"\n"
	"One line on stdout says what was copied and how long it took.\n"
	"\n"
	"  -h, --help   this help\n";

struct copy_ctx {
	struct cli *c;
	struct progress prog;
	char what[64];
};

static int
on_page(const struct store_copy_stats *st, void *ctx)
{
	struct copy_ctx *x = ctx;

	snprintf(x->what, sizeof(x->what), "copying %s",
		 store_copy_table_name(st->table));
	x->prog.what = x->what;
	progress_update(&x->prog, st->total, st->bytes);
	return *x->c->interrupted;
}

static void
summary(const struct store_copy_stats *st, double seconds)
{
	const uint64_t *n = st->rows;
	char a[32], b[32], d[32], e[32], f[32], g[32], h[32];

	printf("copied %s message%s (%.1f MB stored), %s report%s, %s quarantine "
	       "entr%s, %s dictionar%s, %s check run%s, %s mailbox%s: %s rows in "
	       "%.1f s\n",
	       str_thousands(n[STORE_COPY_MESSAGES], a),
	       n[STORE_COPY_MESSAGES] == 1 ? "" : "s", (double)st->bytes / 1e6,
	       str_thousands(n[STORE_COPY_REPORTS], b),
	       n[STORE_COPY_REPORTS] == 1 ? "" : "s",
	       str_thousands(n[STORE_COPY_QUARANTINE], d),
	       n[STORE_COPY_QUARANTINE] == 1 ? "y" : "ies",
	       str_thousands(n[STORE_COPY_DICTS], e),
	       n[STORE_COPY_DICTS] == 1 ? "y" : "ies",
	       str_thousands(n[STORE_COPY_CHECKS], f),
	       n[STORE_COPY_CHECKS] == 1 ? "" : "s",
	       str_thousands(n[STORE_COPY_IMAP_STATE], g),
	       n[STORE_COPY_IMAP_STATE] == 1 ? "" : "es",
	       str_thousands(st->total, h), seconds);
}

/* After a failure: what TO holds now. */
static void
what_is_left(struct store *to, const struct store_copy_stats *st)
{
	char a[32];

	if (!st->committed) {
		cli_error(store_path(to), "nothing was written: it is still empty");
		return;
	}
	cli_error(store_path(to), "incomplete: it holds the first %s rows of "
		  "the copy; drop this store and copy again into a new one (a "
		  "copy into a store that is not empty is refused)",
		  str_thousands(st->committed, a));
}

static int
copy(struct cli *c, const char *from_where, const char *to_where)
{
	struct store *from = NULL, *to = NULL;
	struct store_copy_stats st;
	struct copy_ctx x;
	struct mxd_err err;
	char a[32];
	double t0;
	int rc, i;

	if (strcmp(from_where, to_where) == 0)
		return cli_usage("store", "FROM and TO are the same store");
	/* FROM first: a FROM that is not there must not leave a new TO */
	if ((rc = cli_open_store_at(c, from_where, STORE_READ, &from)))
		return rc;
	if ((rc = cli_open_store_at(c, to_where, STORE_WRITE, &to))) {
		store_close(from);
		return rc;
	}
	memset(&x, 0, sizeof(x));
	x.c = c;
	progress_init(&x.prog, "copying", !c->quiet);
	x.prog.unit = "rows";
	mxd_err_clear(&err);
	t0 = progress_now();
	rc = store_copy(from, to, on_page, &x, &st, &err);
	progress_clear(&x.prog);
	if (rc < 0) {
		rc = cli_fail(&err);
		if (err.code != MXD_E_USAGE)	/* not empty: left as it was */
			what_is_left(to, &st);
		store_close(to);
		store_close(from);
		return rc;
	}
	/* closed first: on SQLite the close checkpoints, part of the copy */
	store_close(to);
	store_close(from);
	for (i = 0; i < STORE_COPY_TABLES; i++)
		mxd_log(MXD_LOG_INFO, "%s: %s row%s",
			store_copy_table_name((enum store_copy_table)i),
			str_thousands(st.rows[i], a), st.rows[i] == 1 ? "" : "s");
	if (!c->quiet)
		summary(&st, progress_now() - t0);
	return EXIT_OK;
}

static int
cmd_store(struct cli *c, int argc, char **argv)
{
	const char *sub;
	int ch;

	while ((ch = cli_getopt(c, argc, argv)) >= 0)
		;
	if (ch != -1)
		return cli_opt_exit(ch);
	if (optind >= argc)
		return cli_usage("store", "no subcommand given (copy)");
	sub = argv[optind];
	if (strcmp(sub, "copy") != 0)
		return cli_usage("store", "unknown subcommand \"%s\" (copy)", sub);
	if (argc - optind != 3)
		return cli_usage("store", "copy takes two stores: FROM TO");
	return copy(c, argv[optind + 1], argv[optind + 2]);
}

const struct cli_command cli_store_cmd = {
	.name = "store",
	.fn = cmd_store,
	.needs = NEEDS_NOTHING,
	.summary = "copy a whole store, between SQLite and PostgreSQL",
	.help = store_help,
	.shortopts = "",
	.opts = NULL,
};
