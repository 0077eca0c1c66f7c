/*
 * cmd_check.c — `mxdigest check [DOMAIN...]`: the domain side (check/),
 * reconciled with the stored reports (aggregate/reconcile.c), stored as a
 * run (store/check.c) and printed (report/check.c).  `report --check`
 * runs the same before its digest (cli_check_domains()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aggregate/reconcile.h"
#include "check/check.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "report/report.h"
#include "util/arena.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static const char check_help[] =
	"usage: mxdigest check [--smtp] [--format text|json] [-n] [--color WHEN]\n"
	"                      [DOMAIN...]\n"
	"\n"
	"Checks what each domain publishes for the senders that report to it:\n"
	"the TLS-RPT record at _smtp._tls.DOMAIN and each reporting address,\n"
	"MTA-STS (the _mta-sts record and the policy over HTTPS), the MX records\n"
	"and, with --smtp, each MX host: STARTTLS, its certificate and its DANE\n"
	"TLSA records.  Findings are then set against the reports of the last 30\n"
	"days (MX hosts that reports name but DNS no longer has, policies that\n"
	"changed, certificate-expired explained by an expired certificate).\n"
	"Each run is stored: the output says since when a finding stands and\n"
	"what changed since the run before, and the digest shows the latest.\n"
	"\n"
	"Domains: the arguments, else the [domain NAME] sections of the\n"
	"configuration, else the policy domains of the last 30 days of reports.\n"
	"\n"
	"  --smtp            connect to port 25 of each MX host (EHLO, STARTTLS,\n"
	"                    QUIT: nothing is sent); also `smtp = yes` in a\n"
	"                    [domain] section\n"
	"  --format FORMAT   text (default) or json\n"
	"  -n, --dry-run     store nothing (and compare with nothing)\n"
	"  --color WHEN      auto (default), always, never\n"
	"  -h, --help        this help\n"
	"\n"
	"Exit status: 0 no error found, 2 a check found an error, 75 a lookup or\n"
	"connection did not complete (and nothing else was wrong), 66 no domain\n"
	"to check, 64 usage, 78 configuration.\n";

enum { OPT_FORMAT = 0x100, OPT_COLOR, OPT_SMTP };

static const struct option check_opts[] = {
	{"color", required_argument, NULL, OPT_COLOR},
	{"colour", required_argument, NULL, OPT_COLOR},
	{"dry-run", no_argument, NULL, 'n'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"smtp", no_argument, NULL, OPT_SMTP},
	{NULL, 0, NULL, 0},
};

struct names {
	char **v;
	size_t n, cap;
};

static void
names_add(struct names *l, const char *name)
{
	size_t i;
	char *d = xstrdup(name);
	size_t n = strlen(d);

	str_lower(d);
	while (n > 0 && d[n - 1] == '.')
		d[--n] = '\0';
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], d) == 0) {
			free(d);
			return;
		}
	}
	l->v = xgrow(l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = d;
}

static int
on_domain(const char *name, void *ctx)
{
	names_add(ctx, name);
	return 0;
}

static void
names_release(struct names *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* The report addresses of the accounts: `address`, else a user with @. */
static void
fetched_addresses(const struct config *cfg, struct names *out)
{
	size_t i;

	for (i = 0; i < cfg->n_accounts; i++) {
		const struct account *a = &cfg->accounts[i];

		if (a->address)
			names_add(out, a->address);
		else if (a->user && strchr(a->user, '@'))
			names_add(out, a->user);
	}
}

static int
domain_smtp(const struct config *cfg, const char *d)
{
	size_t i;

	for (i = 0; i < cfg->n_domains; i++)
		if (strcmp(cfg->domains[i].name, d) == 0)
			return cfg->domains[i].smtp;
	return 0;
}

/* An error that is more than a check that could not be done. */
static int
real_error(const struct check_result *r)
{
	size_t i;

	for (i = 0; i < r->n_f; i++)
		if (r->f[i].level == CHECK_ERROR &&
		    !str_has_suffix_ci(r->f[i].code, "unchecked") &&
		    !str_has_suffix_ci(r->f[i].code, "-timeout"))
			return 1;
	return 0;
}

int
cli_check_domains(struct cli *c, const char *const *args, size_t nargs, int smtp,
		  int store_runs, struct arena *a, struct agg_check **out,
		  size_t *n_out, int *status)
{
	struct names doms = {NULL, 0, 0}, fetched = {NULL, 0, 0};
	struct check_opts o;
	struct progress pg;
	struct mxd_err err;
	struct dns *dns;
	size_t i;
	int rc, errors = 0, incomplete = 0;
	int64_t now = (int64_t)time(NULL);

	*out = NULL;
	*n_out = 0;
	*status = EXIT_OK;
	for (i = 0; i < nargs; i++)
		names_add(&doms, args[i]);
	for (i = 0; !nargs && i < c->cfg.n_domains; i++)
		names_add(&doms, c->cfg.domains[i].name);
	mxd_err_clear(&err);
	if (!doms.n && c->store &&
	    store_policy_domains(c->store, now - (int64_t)RECON_DAYS * 86400,
				 now + 86400, on_domain, &doms, &err) < 0)
		return cli_fail(&err);
	if (!doms.n) {
		cli_error(NULL, "no domain to check: name one, add a [domain NAME] "
			  "section to the configuration, or fetch reports first");
		return EXIT_NOINPUT;
	}
	if ((rc = cli_dns(c, &dns)) != 0) {
		names_release(&doms);
		return rc;
	}
	fetched_addresses(&c->cfg, &fetched);
	memset(&o, 0, sizeof(o));
	o.dns = dns;
	o.ca_file = c->cfg.ca_file;
	o.https_port = c->cfg.check_https_port;
	o.smtp_port = c->cfg.check_smtp_port;
	o.timeout_ms = c->cfg.check_timeout * 1000;
	o.fetched = fetched.v;
	o.n_fetched = fetched.n;
	o.stop = c->interrupted;
	*out = arena_array(a, doms.n, sizeof(**out));
	progress_init(&pg, "domains checked", doms.n > 1 && c->verbose >= 0);
	progress_set_total(&pg, doms.n);
	rc = 0;
	for (i = 0; i < doms.n && rc == 0; i++) {
		struct check_result r;
		int64_t id;

		o.smtp = smtp || domain_smtp(&c->cfg, doms.v[i]);
		if (check_domain(&o, doms.v[i], &r) < 0 && *c->interrupted) {
			check_result_release(&r);
			rc = EXIT_TEMPFAIL;
			break;
		}
		mxd_err_clear(&err);
		if (c->store && agg_reconcile(c->store, &r, r.at, &err) < 0) {
			check_result_release(&r);
			rc = cli_fail(&err);
			break;
		}
		check_sort(&r);
		errors += real_error(&r);
		incomplete += r.incomplete;
		if (store_runs && c->store) {
			if (store_begin(c->store, &err) < 0 ||
			    store_check_put(c->store, &r, &id, &err) < 0 ||
			    store_commit(c->store, &err) < 0) {
				store_rollback(c->store);
				check_result_release(&r);
				rc = cli_fail(&err);
				break;
			}
			if (agg_check_latest(c->store, r.domain, r.at, a,
					     &(*out)[*n_out], &err) < 0) {
				check_result_release(&r);
				rc = cli_fail(&err);
				break;
			}
		} else {
			agg_check_from_result(&r, a, &(*out)[*n_out]);
		}
		(*n_out)++;
		check_result_release(&r);
		progress_update(&pg, i + 1, 0);
	}
	progress_clear(&pg);
	names_release(&doms);
	names_release(&fetched);
	if (rc)
		return rc;
	*status = errors ? EXIT_CHECK : incomplete ? EXIT_TEMPFAIL : EXIT_OK;
	return 0;
}

static int
cmd_check(struct cli *c, int argc, char **argv)
{
	const char *format = "text", *color = "auto";
	struct agg_check *res;
	struct arena a;
	size_t n;
	int ch, smtp = 0, status, rc, dry = 0;

	while ((ch = cli_getopt(c, argc, argv)) >= 0) {
		switch (ch) {
		case 'n': dry = 1; break;
		case OPT_FORMAT: format = optarg; break;
		case OPT_COLOR: color = optarg; break;
		case OPT_SMTP: smtp = 1; break;
		}
	}
	if (ch != -1)
		return cli_opt_exit(ch);
	if (strcmp(format, "text") && strcmp(format, "json"))
		return cli_usage("check", "--format is text or json");
	if (strcmp(color, "auto") && strcmp(color, "always") && strcmp(color, "never"))
		return cli_usage("check", "--color is auto, always or never");
	c->dry = dry;
	if ((rc = cli_store(c)))
		return rc;
	arena_init(&a);
	rc = cli_check_domains(c, (const char *const *)(argv + optind),
			       (size_t)(argc - optind), smtp,
			       !dry, &a, &res, &n, &status);
	if (rc == 0) {
		if (strcmp(format, "json") == 0)
			rc = report_check_json(stdout, res, n, (int64_t)time(NULL));
		else
			rc = report_check_text(stdout, res, n,
					       cli_use_color(stdout, color));
		if (rc < 0 || fflush(stdout) != 0) {
			cli_error(NULL, "writing the output failed");
			rc = EXIT_IOERR;
		} else {
			rc = status;
		}
	}
	arena_release(&a);
	return rc;
}

const struct cli_command cli_check = {
	.name = "check",
	.fn = cmd_check,
	.needs = NEEDS_STORE_DRY,
	.summary = "check a domain's TLS-RPT, MTA-STS, MX and DANE records",
	.help = check_help,
	.shortopts = "n",
	.opts = check_opts,
	.permute = 1,
};
