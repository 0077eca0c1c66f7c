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
#include "util/hash.h"
#include "util/sha256.h"
#include "util/strutil.h"
#include "util/xalloc.h"

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
	/* dry run */
	int dry;
	struct ingest_stats dry_st;
	struct parse_limits lim;
	struct store *ro;	/* the database, if any, to spot duplicates */
	struct hmap seen;	/* identities and hashes seen in this run */
};

static void
on_event(void *ctx, enum ingest_event ev, const char *source, const char *detail)
{
	struct import_ctx *x = ctx;

	switch (ev) {
	case INGEST_QUARANTINED:
		progress_clear(&x->prog);
		cli_error(source, "%s", detail);
		break;
	case INGEST_ALREADY_QUARANTINED:
		if (x->c->verbose > 0) {
			progress_clear(&x->prog);
			cli_error(source, "already in quarantine: %s", detail);
		}
		break;
	case INGEST_DUPLICATE:
		if (x->c->verbose > 1) {
			progress_clear(&x->prog);
			cli_error(source, "duplicate report");
		}
		break;
	case INGEST_NOT_REPORT:
		if (x->c->verbose > 0) {
			progress_clear(&x->prog);
			cli_error(source, "not a TLS-RPT report, skipped");
		}
		break;
	case INGEST_REPORT:
		break;
	}
}

/* A report seen before, in this run or in the database. */
static int
dry_duplicate(struct import_ctx *x, const struct tlsrpt *r)
{
	char hex[2 * SHA256_LEN + 1], *id;
	int created, known = 0;
	struct mxd_err err;

	sha256_hex(r->hash, hex);
	id = xasprintf("%s\n%s\n%lld", r->org, r->report_id, (long long)r->start);
	hmap_slot(&x->seen, id, &created);
	if (!created)
		known = 1;
	hmap_slot(&x->seen, hex, &created);
	if (!created)
		known = 1;
	free(id);
	if (!known && x->ro && store_report_known(x->ro, r, &err) == 1)
		known = 1;
	return known;
}

/* --dry-run: parse only, classify as import would, store nothing. */
static void
dry_message(struct import_ctx *x, const struct fetch_msg *m)
{
	struct parse_result res;
	struct parse_input in = {m->name, &x->lim};
	size_t i;

	x->dry_st.messages++;
	x->dry_st.bytes += m->len;
	if (m->truncated_from) {
		x->dry_st.quarantined++;
		cli_error(m->source, "message of %zu bytes exceeds the %zu-byte cap",
			  m->truncated_from, x->lim.max_message);
		return;
	}
	if (parse_message(m->data, m->len, &in, &res) == MXD_E_NOTREPORT) {
		x->dry_st.not_reports++;
		on_event(x, INGEST_NOT_REPORT, m->source, NULL);
	}
	for (i = 0; i < res.n_parts; i++) {
		if (res.parts[i].report && dry_duplicate(x, res.parts[i].report)) {
			x->dry_st.duplicates++;
		} else if (res.parts[i].report) {
			x->dry_st.reports++;
		} else {
			x->dry_st.quarantined++;
			cli_error(m->source, "%s", res.parts[i].reason);
		}
	}
	parse_result_release(&res);
}

static int
on_msg(const struct fetch_msg *m, void *ctx)
{
	struct import_ctx *x = ctx;

	if (*x->c->interrupted)
		return 1;
	if (x->dry) {
		dry_message(x, m);
		return 0;
	}
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
	parse_limits_default(&x.lim);
	if (c->cfg.max_message_size)
		x.lim.max_message = c->cfg.max_message_size;

	hmap_init(&x.seen);
	if (x.dry) {
		struct mxd_err e;

		/* an existing database tells what is already stored */
		if (access(c->db_path, F_OK) == 0 &&
		    store_open(c->db_path, STORE_READ, 0, &x.ro, &e) < 0)
			x.ro = NULL;
	} else {
		if ((rc = cli_open_store(c, STORE_WRITE, &s)))
			return rc;
		x.g = ingest_new(s, &x.lim, IMPORT_BATCH, cli_worker_threads(),
				 on_event, &x);
	}
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

	if (!x.dry) {
		if (!x.store_failed && ingest_flush(x.g, &x.err) < 0)
			x.store_failed = 1;
		st = ingest_stats(x.g);
	} else {
		st = &x.dry_st;
	}
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
	store_close(x.ro);
	hmap_release(&x.seen);
	return rc;
}
