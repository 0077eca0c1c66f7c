/*
 * cmd_report.c — `mxdigest report`: the digest of a time window.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aggregate/aggregate.h"
#include "cli/cli.h"
#include "report/report.h"
#include "util/timeutil.h"
#include "util/xalloc.h"

static const char report_help[] =
	"usage: mxdigest report [--since N{h,d,w} | --from DATE [--to DATE]]\n"
	"                       [--domain D] [--org NAME] [--mx HOST]\n"
	"                       [--format text|json] [-o FILE] [--top N]\n"
	"                       [--color auto|always|never]\n"
	"\n"
	"Prints the digest of the reports whose date range starts in a window\n"
	"(UTC, start included, end excluded).\n"
	"\n"
	"  --since N{h,d,w}  the N whole hours, days or weeks before now (days\n"
	"                    and weeks end at today's 00:00 UTC); default 7d\n"
	"  --from DATE       window start, YYYY-MM-DD or an RFC 3339 date-time\n"
	"  --to DATE         window end (excluded); default: today 00:00 UTC\n"
	"  --domain D        only this policy domain\n"
	"  --org NAME        only this sending organization\n"
	"  --mx HOST         only reports with failures on this MX host\n"
	"  --format F        text (default) or json\n"
	"  -o, --output FILE write to FILE instead of standard output\n"
	"  --top N           rows per table in text (default 10, 0 = all)\n"
	"  --color WHEN      colour in text: auto (default), always, never\n"
	"  -h, --help        this help\n";

enum {
	OPT_SINCE = 256, OPT_FROM, OPT_TO, OPT_DOMAIN, OPT_ORG, OPT_MX,
	OPT_FORMAT, OPT_TOP, OPT_COLOR,
};

/* Writes to a temporary file beside `path`, renamed into place on success. */
static FILE *
open_output(const char *path, char **tmp)
{
	int fd;

	*tmp = xasprintf("%s.XXXXXX", path);
	fd = mkstemp(*tmp);
	if (fd < 0) {
		cli_error(path, "cannot create: %s", strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	return fdopen(fd, "w");
}

int
cmd_report(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"color", required_argument, NULL, OPT_COLOR},
		{"colour", required_argument, NULL, OPT_COLOR},
		{"domain", required_argument, NULL, OPT_DOMAIN},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"from", required_argument, NULL, OPT_FROM},
		{"help", no_argument, NULL, 'h'},
		{"mx", required_argument, NULL, OPT_MX},
		{"org", required_argument, NULL, OPT_ORG},
		{"output", required_argument, NULL, 'o'},
		{"since", required_argument, NULL, OPT_SINCE},
		{"to", required_argument, NULL, OPT_TO},
		{"top", required_argument, NULL, OPT_TOP},
		{NULL, 0, NULL, 0},
	};
	const char *since = NULL, *from = NULL, *to = NULL, *format = "text";
	const char *output = NULL, *color = "auto";
	const struct report_renderer *r;
	struct agg_query q;
	struct agg_digest d;
	struct report_opts ro;
	struct mxd_err err;
	struct store *s = NULL;
	int64_t now = (int64_t)time(NULL);
	char *tmp = NULL, *end;
	FILE *out = stdout;
	long top = 10;
	int ch, rc;

	memset(&q, 0, sizeof(q));
	/* tests pin the clock */
	if (getenv("MXDIGEST_NOW") && time_parse_user(getenv("MXDIGEST_NOW"), &now) < 0)
		return cli_usage("report", "MXDIGEST_NOW is not a date-time");
	optind = 0;	/* glibc: re-initialise after main()'s getopt */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+ho:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h': fputs(report_help, stdout); return EXIT_OK;
		case 'o': output = optarg; break;
		case OPT_SINCE: since = optarg; break;
		case OPT_FROM: from = optarg; break;
		case OPT_TO: to = optarg; break;
		case OPT_DOMAIN: q.domain = optarg; break;
		case OPT_ORG: q.org = optarg; break;
		case OPT_MX: q.mx = optarg; break;
		case OPT_FORMAT: format = optarg; break;
		case OPT_COLOR: color = optarg; break;
		case OPT_TOP:
			errno = 0;
			top = strtol(optarg, &end, 10);
			if (errno || *end || top < 0 || top > 1000000)
				return cli_usage("report", "--top needs a number, not "
						 "\"%s\"", optarg);
			break;
		default:
			return cli_usage("report", "unknown option or missing "
					 "argument \"%s\"", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage("report", "unexpected argument \"%s\"", argv[optind]);
	if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never"))
		return cli_usage("report", "--color is auto, always or never");
	if (!(r = report_renderer_find(format)))
		return cli_usage("report", "unknown format \"%s\" (%s)", format,
				 report_renderer_names());
	if (since && (from || to))
		return cli_usage("report", "--since cannot be combined with --from "
				 "or --to");
	if (since) {
		if (agg_parse_since(since, now, &q.from, &q.to) < 0)
			return cli_usage("report", "--since takes a number of hours, "
					 "days or weeks, like 12h, 7d or 2w, not "
					 "\"%s\"", since);
	} else {
		agg_window_since(now, 7, AGG_DAYS, &q.from, &q.to);
		if (to && time_parse_user(to, &q.to) < 0)
			return cli_usage("report", "--to takes YYYY-MM-DD or an RFC "
					 "3339 date-time, not \"%s\"", to);
		if (from && time_parse_user(from, &q.from) < 0)
			return cli_usage("report", "--from takes YYYY-MM-DD or an "
					 "RFC 3339 date-time, not \"%s\"", from);
		if (!from)
			q.from = q.to - 7 * DAY_SECS;
		if (q.to <= q.from)
			return cli_usage("report", "the window is empty: --to must "
					 "come after --from");
	}

	if ((rc = cli_open_store(c, STORE_READ, &s)))
		return rc;
	mxd_err_clear(&err);
	if (agg_build(s, &q, &d, &err) < 0) {
		rc = cli_fail(&err);
		store_close(s);
		return rc;
	}
	if (output && strcmp(output, "-") != 0 && !(out = open_output(output, &tmp))) {
		agg_digest_release(&d);
		store_close(s);
		return EXIT_IOERR;
	}
	memset(&ro, 0, sizeof(ro));
	ro.color = out == stdout && cli_use_color(stdout, color);
	ro.top = (unsigned)top;
	ro.generated = now;
	ro.db_path = store_path(s);
	rc = EXIT_OK;
	if (r->render(&d, &ro, out, &err) < 0)
		rc = cli_fail(&err);
	if (tmp) {
		if (fclose(out) != 0 && rc == EXIT_OK) {
			cli_error(output, "cannot write: %s", strerror(errno));
			rc = EXIT_IOERR;
		}
		if (rc == EXIT_OK && rename(tmp, output) < 0) {
			cli_error(output, "cannot write: %s", strerror(errno));
			rc = EXIT_IOERR;
		}
		if (rc != EXIT_OK)
			unlink(tmp);
		free(tmp);
	}
	agg_digest_release(&d);
	store_close(s);
	return rc;
}
