/*
 * cmd_report.c — `mxdigest report`: the digest of a time window, as text,
 * JSON, CSV, HTML, XLSX or a ready-to-send mail, with alert thresholds for
 * cron (exit status 1 when one is crossed).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aggregate/aggregate.h"
#include "cli/cli.h"
#include "report/report.h"
#include "util/strutil.h"
#include "util/timeutil.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static const char report_help[] =
	"usage: mxdigest report [--since N{h,d,w} [--until DATE] |\n"
	"                        --from DATE [--to DATE | --until DATE]]\n"
	"                       [--domain D] [--org NAME] [--mx HOST]\n"
	"                       [--format text|json|csv|html|xlsx|email] [-o FILE]\n"
	"                       [--by mx|org|result|domain|type|ip|day|detail]\n"
	"                       [--top N] [--color auto|always|never]\n"
	"                       [--mail-to ADDR [--mail-from ADDR] [--subject TEXT]]\n"
	"                       [--fail-rate PCT] [--min-failures N]\n"
	"                       [--alert-on new,silent,unverified,conflict]\n"
	"                       [--quiet-if-clean] [--dkim=MODE] [--check [--smtp]]\n"
	"\n"
	"Prints the digest of the reports whose date range starts in a window\n"
	"(UTC, start included, end excluded), compared with the window before.\n"
	"\n"
	"  --since N{h,d,w}  the N whole hours, days or weeks before now (days\n"
	"                    and weeks end at today's 00:00 UTC); default 7d\n"
	"  --until DATE      end of the window instead of now: with --since, the\n"
	"                    window that --since gives when run at DATE; else\n"
	"                    the same as --to\n"
	"  --from DATE       window start, YYYY-MM-DD or an RFC 3339 date-time\n"
	"  --to DATE         window end (excluded); default: today 00:00 UTC\n"
	"  --domain D        only this policy domain\n"
	"  --org NAME        only this sending organization\n"
	"  --mx HOST         only reports with failures on this MX host\n"
	"  --format F        text (default), json, csv, html, xlsx (needs -o) or\n"
	"                    email (a MIME mail for sendmail -t)\n"
	"  -o, --output FILE write to FILE (atomically) instead of standard output\n"
	"  --by TABLE        the table of --format csv (default mx)\n"
	"  --top N           rows per table in text and HTML (default 10, 0 = all)\n"
	"  --color WHEN      colour in text: auto (default), always, never\n"
	"  --mail-to ADDR    email: the recipients (comma-separated)\n"
	"  --mail-from ADDR  email: the sender (default mxdigest@HOSTNAME)\n"
	"  --subject TEXT    email: the subject (default: made from the digest)\n"
	"  --fail-rate PCT   alert when the failure rate is above PCT percent\n"
	"  --min-failures N  alert when at least N sessions failed\n"
	"  --alert-on WHAT   alert on new failures (new), organizations that\n"
	"                    stopped reporting (silent), reports whose mail has no\n"
	"                    valid DKIM signature (unverified) or that came in two\n"
	"                    contents (conflict); comma-separated\n"
	"  --dkim=MODE       report: count every report, show its DKIM state;\n"
	"                    require: count only reports whose mail verified (RFC\n"
	"                    8460); off: as report (default: the configuration)\n"
	"  --quiet-if-clean  print nothing when no alert threshold is crossed\n"
	"  --check           run mxdigest check on the domains first (stored:\n"
	"                    the digest's Configuration section shows it)\n"
	"  --smtp            with --check: probe the MX hosts on port 25 too\n"
	"  -h, --help        this help\n"
	"\n"
	"Exit status 1 means an alert threshold was crossed, 2 (with --check,\n"
	"and no alert) that a check found an error; the digest is still printed.\n";

enum {
	OPT_SINCE = 256, OPT_FROM, OPT_TO, OPT_UNTIL, OPT_DOMAIN, OPT_ORG, OPT_MX,
	OPT_FORMAT, OPT_TOP, OPT_COLOR, OPT_BY, OPT_MAIL_TO, OPT_MAIL_FROM,
	OPT_SUBJECT, OPT_FAIL_RATE, OPT_MIN_FAILURES, OPT_ALERT_ON, OPT_QUIET_CLEAN,
	OPT_CHECK, OPT_SMTP,
};

/* Writes to a temporary file beside `path`, renamed into place on success. */
static FILE *
open_output(const char *path, char **tmp)
{
	mode_t mask;
	int fd;
	FILE *f;

	*tmp = xasprintf("%s.XXXXXX", path);
	fd = mkstemp(*tmp);
	if (fd < 0) {
		cli_error(path, "cannot create: %s", strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	/* mkstemp makes it 0600: give the file the mode any new file gets */
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	if (!(f = fdopen(fd, "w"))) {
		cli_error(path, "cannot create: %s", strerror(errno));
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return f;
}

/* Closes the -o file and moves it into place if the digest was written;
 * returns the exit code. */
static int
close_output(FILE *out, const char *output, char *tmp, int rc)
{
	if (fclose(out) != 0 && rc != EXIT_IOERR) {
		cli_error(output, "cannot write: %s", strerror(errno));
		rc = EXIT_IOERR;
	}
	if ((rc == EXIT_OK || rc == EXIT_ALERT) && rename(tmp, output) < 0) {
		cli_error(output, "cannot write: %s", strerror(errno));
		rc = EXIT_IOERR;
	}
	if (rc != EXIT_OK && rc != EXIT_ALERT)
		unlink(tmp);
	free(tmp);
	return rc;
}

static int
parse_alert_on(const char *spec, struct agg_alert_rules *r)
{
	char *copy = xstrdup(spec), *tok, *save = NULL;
	int rc = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		str_trim(tok);
		if (strcmp(tok, "new") == 0)
			r->on_new = 1;
		else if (strcmp(tok, "silent") == 0)
			r->on_silent = 1;
		else if (strcmp(tok, "unverified") == 0)
			r->on_unverified = 1;
		else if (strcmp(tok, "conflict") == 0)
			r->on_conflict = 1;
		else
			rc = -1;
	}
	free(copy);
	return rc;
}

struct window_opts {
	const char *since, *from, *to, *until;
};

/* The window from the options; a usage error is printed. */
static int
window(const struct window_opts *w, int64_t now, struct agg_query *q)
{
	int64_t until = now;

	if (w->since && (w->from || w->to))
		return cli_usage("report", "--since cannot be combined with --from "
				 "or --to");
	if (w->to && w->until)
		return cli_usage("report", "--until and --to say the same thing: "
				 "give one");
	if (w->until && time_parse_user(w->until, &until) < 0)
		return cli_usage("report", "--until takes YYYY-MM-DD or an RFC 3339 "
				 "date-time, not \"%s\"", w->until);
	if (w->since) {
		if (agg_parse_since(w->since, until, &q->from, &q->to) < 0)
			return cli_usage("report", "--since takes a number of hours, "
					 "days or weeks, like 12h, 7d or 2w, not "
					 "\"%s\"", w->since);
		return 0;
	}
	q->to = time_day_floor(now);
	if (w->until)
		q->to = until;
	if (w->to && time_parse_user(w->to, &q->to) < 0)
		return cli_usage("report", "--to takes YYYY-MM-DD or an RFC 3339 "
				 "date-time, not \"%s\"", w->to);
	q->from = q->to - 7 * DAY_SECS;
	if (w->from && time_parse_user(w->from, &q->from) < 0)
		return cli_usage("report", "--from takes YYYY-MM-DD or an RFC 3339 "
				 "date-time, not \"%s\"", w->from);
	if (q->to <= q->from)
		return cli_usage("report", "the window is empty: its end must come "
				 "after its start");
	return 0;
}

static int
parse_count(const char *opt, const char *arg, long long max, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || *out < 0 || *out > max)
		return cli_usage("report", "%s needs a number, not \"%s\"", opt, arg);
	return 0;
}

/* Everything the command line says, before anything is opened. */
struct report_args {
	struct window_opts w;
	struct agg_query q;
	struct report_opts ro;
	const char *format, *output, *color, *by;
	long long top;
	int quiet_clean;
	int help;
	int64_t now;
	const struct report_renderer *r;
	char *mx;		/* --mx in lower case, owned */
	int check, smtp;	/* --check, --smtp */
	char host[256];
};

static const struct option report_opts[] = {
	CLI_DKIM_OPTION,
	{"alert-on", required_argument, NULL, OPT_ALERT_ON},
	{"by", required_argument, NULL, OPT_BY},
	{"check", no_argument, NULL, OPT_CHECK},
	{"color", required_argument, NULL, OPT_COLOR},
	{"colour", required_argument, NULL, OPT_COLOR},
	{"domain", required_argument, NULL, OPT_DOMAIN},
	{"fail-rate", required_argument, NULL, OPT_FAIL_RATE},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"from", required_argument, NULL, OPT_FROM},
	{"mail-from", required_argument, NULL, OPT_MAIL_FROM},
	{"mail-to", required_argument, NULL, OPT_MAIL_TO},
	{"min-failures", required_argument, NULL, OPT_MIN_FAILURES},
	{"mx", required_argument, NULL, OPT_MX},
	{"org", required_argument, NULL, OPT_ORG},
	{"output", required_argument, NULL, 'o'},
	{"quiet-if-clean", no_argument, NULL, OPT_QUIET_CLEAN},
	{"since", required_argument, NULL, OPT_SINCE},
	{"smtp", no_argument, NULL, OPT_SMTP},
	{"subject", required_argument, NULL, OPT_SUBJECT},
	{"to", required_argument, NULL, OPT_TO},
	{"top", required_argument, NULL, OPT_TOP},
	{"until", required_argument, NULL, OPT_UNTIL},
	{NULL, 0, NULL, 0},
};

static int
report_parse(struct cli *c, struct report_args *a, int argc, char **argv)
{
	struct agg_alert_rules *al = &a->q.alerts;
	long long n;
	char *end;
	int ch;

	while ((ch = cli_getopt(c, argc, argv)) >= 0) {
		switch (ch) {
		case 'o': a->output = optarg; break;
		case OPT_SINCE: a->w.since = optarg; break;
		case OPT_FROM: a->w.from = optarg; break;
		case OPT_TO: a->w.to = optarg; break;
		case OPT_UNTIL: a->w.until = optarg; break;
		case OPT_DOMAIN: a->q.domain = optarg; break;
		case OPT_ORG: a->q.org = optarg; break;
		case OPT_MX: a->q.mx = optarg; break;
		case OPT_FORMAT: a->format = optarg; break;
		case OPT_COLOR: a->color = optarg; break;
		case OPT_BY: a->by = optarg; break;
		case OPT_MAIL_TO: a->ro.mail_to = optarg; break;
		case OPT_MAIL_FROM: a->ro.mail_from = optarg; break;
		case OPT_SUBJECT: a->ro.subject = optarg; break;
		case OPT_QUIET_CLEAN: a->quiet_clean = 1; break;
		case OPT_CHECK: a->check = 1; break;
		case OPT_SMTP: a->smtp = 1; break;
		case OPT_TOP:
			if (parse_count("--top", optarg, 1000000, &a->top))
				return EXIT_USAGE;
			break;
		case OPT_MIN_FAILURES:
			if (parse_count("--min-failures", optarg, INT64_MAX, &n))
				return EXIT_USAGE;
			if (n == 0)
				return cli_usage("report", "--min-failures needs a "
						 "number of at least 1");
			al->min_failures = (uint64_t)n;
			break;
		case OPT_FAIL_RATE:
			errno = 0;
			al->fail_rate = strtod(optarg, &end);
			if (errno || end == optarg || (*end && strcmp(end, "%")) ||
			    !isfinite(al->fail_rate) || al->fail_rate < 0 ||
			    al->fail_rate >= 100)
				return cli_usage("report", "--fail-rate needs a "
						 "percentage from 0 to 100, not "
						 "\"%s\"", optarg);
			al->fail_rate_set = 1;
			break;
		case OPT_ALERT_ON:
			if (parse_alert_on(optarg, al) < 0)
				return cli_usage("report", "--alert-on takes new, "
						 "silent, unverified or conflict, "
						 "not \"%s\"", optarg);
			break;
		case CLI_OPT_DKIM:
			if (cli_dkim_option(c, optarg))
				return EXIT_USAGE;
			break;
		}
	}
	if (ch != -1) {
		a->help = ch == CLI_OPT_HELP;
		return a->help ? 0 : EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage("report", "unexpected argument \"%s\"", argv[optind]);
	return 0;
}

static int
has_control(const char *s)
{
	return s && utf8_has_controls(s, strlen(s));
}

/* The options that do not go together, the window, and what the run
 * needs from the environment. */
static int
report_check(struct report_args *a)
{
	const struct agg_alert_rules *al = &a->q.alerts;
	const char *env;
	int rc;

	if (strcmp(a->color, "auto") && strcmp(a->color, "always") &&
	    strcmp(a->color, "never"))
		return cli_usage("report", "--color is auto, always or never");
	if (!(a->r = report_renderer_find(a->format)))
		return cli_usage("report", "unknown format \"%s\" (%s)", a->format,
				 report_renderer_names());
	if (a->by && strcmp(a->format, "csv") != 0)
		return cli_usage("report", "--by is for --format csv");
	if (a->by && report_csv_table_parse(a->by, &a->ro.csv_by) < 0)
		return cli_usage("report", "--by takes mx, org, result, domain, type, "
				 "ip, day or detail, not \"%s\"", a->by);
	if (strcmp(a->format, "email") == 0) {
		if (!a->ro.mail_to || !*a->ro.mail_to)
			return cli_usage("report", "--format email needs --mail-to");
		if (has_control(a->ro.mail_to) || has_control(a->ro.mail_from) ||
		    has_control(a->ro.subject))
			return cli_usage("report", "--mail-to, --mail-from and "
					 "--subject cannot hold control characters "
					 "or invalid UTF-8");
	} else if (a->ro.mail_to || a->ro.mail_from || a->ro.subject) {
		return cli_usage("report", "--mail-to, --mail-from and --subject are "
				 "for --format email (--from and --to set the "
				 "window)");
	}
	if (a->r->binary && (!a->output ||
			     (strcmp(a->output, "-") == 0 && isatty(1))))
		return cli_usage("report", "--format %s writes a binary file: give "
				 "-o FILE", a->format);
	if (a->quiet_clean && !al->fail_rate_set && !al->min_failures &&
	    !al->on_new && !al->on_silent && !al->on_unverified &&
	    !al->on_conflict)
		return cli_usage("report", "--quiet-if-clean needs a threshold "
				 "(--fail-rate, --min-failures or --alert-on)");
	if (a->smtp && !a->check)
		return cli_usage("report", "--smtp is for --check");
	if ((rc = window(&a->w, a->now, &a->q)))
		return rc;
	if (a->q.mx) {
		/* host names compare in lower case (the counted view's) */
		a->mx = xstrdup(a->q.mx);
		str_lower(a->mx);
		a->q.mx = a->mx;
	}
	if ((env = getenv("MXDIGEST_XLSX_STREAM_ROWS")))
		a->ro.xlsx_stream_rows = strtoull(env, NULL, 10);
	if (gethostname(a->host, sizeof(a->host)) < 0 || !a->host[0])
		snprintf(a->host, sizeof(a->host), "localhost");
	a->host[sizeof(a->host) - 1] = '\0';
	a->ro.hostname = a->host;
	a->ro.top = (unsigned)a->top;
	a->ro.generated = a->now;
	/* a digest up to today shows the configuration as checked now */
	if (a->q.to >= a->now - 86400)
		a->q.checks_to = a->now + 1;
	return 0;
}

static int
report_run(struct cli *c, struct report_args *a)
{
	int check_status = EXIT_OK;
	struct agg_digest d;
	struct mxd_err err;
	char *tmp = NULL;
	FILE *out = stdout;
	int rc;

	memset(&d, 0, sizeof(d));
	mxd_err_clear(&err);
	if (a->check) {
		/* the checks are stored: a writer */
		struct arena ar;
		struct agg_check *res;
		size_t n;
		const char *dom[1];

		if ((rc = cli_open_store(c, STORE_WRITE, &c->store)))
			return rc;
		dom[0] = a->q.domain;
		arena_init(&ar);
		rc = cli_check_domains(c, dom, a->q.domain ? 1 : 0, a->smtp, 1, &ar,
				       &res, &n, &check_status);
		arena_release(&ar);
		if (rc)
			return rc;
	}
	if ((rc = cli_store(c)))
		return rc;
	a->q.dkim_require = cli_dkim_mode(c) == DKIM_MODE_REQUIRE;
	a->q.dkim_off = cli_dkim_mode(c) == DKIM_MODE_OFF;
	a->q.details = report_reads_details(a->r, &a->ro);
	if (agg_build(c->store, &a->q, &d, &err) < 0) {
		rc = cli_fail(&err);
		goto out;
	}
	if (a->quiet_clean && !d.n_alerts)
		goto out;
	if (a->output && strcmp(a->output, "-") != 0 &&
	    !(out = open_output(a->output, &tmp))) {
		rc = EXIT_IOERR;
		goto out;
	}
	a->ro.color = out == stdout && strcmp(a->format, "text") == 0 &&
		      cli_use_color(stdout, a->color);
	rc = d.n_alerts ? EXIT_ALERT : check_status == EXIT_CHECK ? EXIT_CHECK :
	    EXIT_OK;
	if (report_render(a->r, &d, &a->ro, out, &err) < 0)
		rc = cli_fail(&err);
	if (tmp)
		rc = close_output(out, a->output, tmp, rc);
out:
	agg_digest_release(&d);
	return rc;
}

static int
cmd_report(struct cli *c, int argc, char **argv)
{
	struct report_args a;
	const char *now;
	int rc;

	memset(&a, 0, sizeof(a));
	a.format = "text";
	a.color = "auto";
	a.top = 10;
	a.now = (int64_t)time(NULL);
	/* tests pin the clock */
	if ((now = getenv("MXDIGEST_NOW")) && time_parse_user(now, &a.now) < 0)
		return cli_usage("report", "MXDIGEST_NOW is not a date-time");
	if ((rc = report_parse(c, &a, argc, argv)) == 0 && a.help)
		fputs(report_help, stdout);
	else if (rc == 0 && (rc = report_check(&a)) == 0)
		rc = report_run(c, &a);
	free(a.mx);
	return rc;
}

const struct cli_command cli_report = {
	.name = "report",
	.fn = cmd_report,
	.needs = NEEDS_STORE_READ,
	.summary = "print the digest for a time window",
	.help = report_help,
	.shortopts = "o:",
	.opts = report_opts,
};
