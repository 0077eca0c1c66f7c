/*
 * common.c — what every command shares: one error style, the exit-code
 * map, opening the store, the colour decision.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/account.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/utf8.h"
#include "util/xalloc.h"

void
cli_put_clean(FILE *f, const void *s, size_t n)
{
	struct buf b;

	buf_init(&b, BUF_NOCAP);
	utf8_clean_text(&b, s, n, UTF8_TAB_SPACE);
	fwrite(buf_cstr(&b), 1, b.len, f);
	buf_release(&b);
}

static void
put_clean(FILE *f, const char *s)
{
	cli_put_clean(f, s, strlen(s));
}

void
cli_error(const char *subject, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fputs("mxdigest: ", stderr);
	if (subject) {
		fputc('"', stderr);
		put_clean(stderr, subject);
		fputs("\": ", stderr);
	}
	put_clean(stderr, text);
	fputc('\n', stderr);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("mxdigest: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_exit_code(enum mxd_status s)
{
	switch (s) {
	case MXD_OK:
		return EXIT_OK;
	case MXD_E_TOOBIG: case MXD_E_MIME: case MXD_E_DECODE: case MXD_E_JSON:
	case MXD_E_SCHEMA: case MXD_E_NOTREPORT: case MXD_E_EMPTY:
		return EXIT_DATAERR;
	case MXD_E_USAGE:
		return EXIT_USAGE;
	case MXD_E_NOINPUT:
		return EXIT_NOINPUT;
	case MXD_E_IO: case MXD_E_STORE:
		return EXIT_IOERR;
	case MXD_E_LOCKED: case MXD_E_INTERRUPTED:
		return EXIT_TEMPFAIL;
	case MXD_E_CONFIG:
		return EXIT_CONFIG;
	case MXD_E_AUTH:
		return EXIT_NOPERM;
	case MXD_E_TLS:
		return EXIT_PROTOCOL;
	case MXD_E_NET: case MXD_E_PROTO:
		return EXIT_UNAVAILABLE;
	case MXD_E_INTERNAL:
		return EXIT_SOFTWARE;
	}
	return EXIT_SOFTWARE;
}

int
cli_fail(const struct mxd_err *err)
{
	cli_error(NULL, "%s", err->text[0] ? err->text : mxd_strerror(err->code));
	return cli_exit_code(err->code);
}

int
cli_getopt(struct cli *c, int argc, char **argv)
{
	static struct option *all;
	static char shorts[64];
	const struct cli_command *cmd = c->cmd;
	size_t n = 0;
	int ch;

	if (!all) {
		while (cmd->opts && cmd->opts[n].name)
			n++;
		all = xcalloc(n + 2, sizeof(*all));
		if (n)
			memcpy(all, cmd->opts, n * sizeof(*all));
		all[n].name = "help";
		all[n].has_arg = no_argument;
		all[n].val = 'h';
		/* "+": stop at the first argument; ":": tell a missing value */
		snprintf(shorts, sizeof(shorts), "%s:h%s", cmd->permute ? "" : "+",
			 cmd->shortopts ? cmd->shortopts : "");
	}
	ch = getopt_long(argc, argv, shorts, all, NULL);
	switch (ch) {
	case 'h':
		fputs(cmd->help, stdout);
		return CLI_OPT_HELP;
	case ':':
		cli_usage(cmd->name, "option \"%s\" needs a value", argv[optind - 1]);
		return CLI_OPT_USAGE;
	case '?':
		if (optopt)
			cli_usage(cmd->name, "unknown option \"-%c\"", optopt);
		else
			cli_usage(cmd->name, "unknown option \"%s\"", argv[optind - 1]);
		return CLI_OPT_USAGE;
	default:
		return ch;
	}
}

int
cli_opt_exit(int ch)
{
	return ch == CLI_OPT_HELP ? EXIT_OK : EXIT_USAGE;
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "mxdigest %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see mxdigest %s --help)\n", cmd);
	return EXIT_USAGE;
}

void
cli_parse_limits(const struct cli *c, struct parse_limits *lim)
{
	parse_limits_default(lim);
	if (c->cfg.max_message_size)
		lim->max_message = c->cfg.max_message_size;
	if (c->cfg.max_report_size)
		lim->max_report = c->cfg.max_report_size;
}

/*
 * database_password_command, read once, for the PostgreSQL store that
 * c->db_path names: set while that store opens, and only then (`store
 * copy` opens another, which must not be sent its password).
 */
static int
store_password(struct cli *c, const char *where, struct mxd_err *err)
{
	static char *pw;

	store_pg_password = NULL;
	if (!c->cfg.database_password_command || !store_is_remote(where) ||
	    strcmp(where, c->db_path) != 0)
		return 0;
	if (!pw && secret_from_command("database_password_command",
				       c->cfg.database_password_command, &pw,
				       err) < 0)
		return -1;
	store_pg_password = pw;
	return 0;
}

int
cli_open_store_at(struct cli *c, const char *where, enum store_mode mode,
		  struct store **out)
{
	struct mxd_err err;
	int rc;

	mxd_err_clear(&err);
	rc = store_password(c, where, &err) < 0 ||
	     store_open(where, mode, 5000, out, &err) < 0;
	store_pg_password = NULL;
	return rc ? cli_fail(&err) : 0;
}

int
cli_open_store(struct cli *c, enum store_mode mode, struct store **out)
{
	return cli_open_store_at(c, c->db_path, mode, out);
}

int
cli_open_store_for(struct cli *c, int dry, struct store **out)
{
	struct mxd_err err;

	*out = NULL;
	if (!dry)
		return cli_open_store(c, STORE_WRITE, out);
	/* a dry run reads an existing database to tell what is stored */
	mxd_err_clear(&err);
	if ((store_is_remote(c->db_path) || access(c->db_path, F_OK) == 0) &&
	    (store_password(c, c->db_path, &err) < 0 ||
	     store_open(c->db_path, STORE_READ, 0, out, &err) < 0))
		*out = NULL;
	store_pg_password = NULL;
	return 0;
}

int
cli_dkim_option(struct cli *c, const char *value)
{
	c->dkim_opt = config_dkim_mode(value);
	if (c->dkim_opt == DKIM_MODE_UNSET)
		return cli_usage(c->cmd->name, "--dkim takes require, report or "
				 "off, not \"%s\"", value);
	return 0;
}

enum dkim_mode
cli_dkim_mode(const struct cli *c)
{
	if (c->dkim_opt != DKIM_MODE_UNSET)
		return c->dkim_opt;
	if (c->cfg.dkim != DKIM_MODE_UNSET)
		return c->cfg.dkim;
	return DKIM_MODE_REPORT;
}

/*
 * The trust anchor: the config's, none for "none", else Debian's root key
 * when it is installed (without it nothing validates: every answer is
 * insecure, which `check` says).
 */
const char *
cli_trust_anchor(const struct cli *c)
{
	const char *t = c->cfg.trust_anchor;

	if (t)
		return strcmp(t, "none") == 0 ? NULL : t;
	return access(DNS_ROOT_ANCHOR, R_OK) == 0 ? DNS_ROOT_ANCHOR : NULL;
}

int
cli_dns(struct cli *c, struct dns **out)
{
	struct dns_opts o;
	struct mxd_err err;

	if (!c->dns) {
		memset(&o, 0, sizeof(o));
		o.resolver = c->cfg.resolver;
		o.timeout_ms = c->cfg.dns_timeout * 1000;
		o.trust_anchor = cli_trust_anchor(c);
		/* only the default root key is probed: a configured anchor is
		 * the user's statement that the resolver can validate */
		o.probe_anchor = !c->cfg.trust_anchor;
		o.stop = c->interrupted;
		mxd_err_clear(&err);
		if (dns_open(&o, &c->dns, &err) < 0)
			return cli_fail(&err);
	}
	*out = c->dns;
	return 0;
}

int
cli_verifier(struct cli *c, struct dkimv **out)
{
	struct mxd_err err;
	struct dns *dns;
	int rc;

	*out = NULL;
	if (cli_dkim_mode(c) == DKIM_MODE_OFF)
		return 0;
	if (!c->dkimv) {
		if ((rc = cli_dns(c, &dns)) != 0)
			return rc;
		mxd_err_clear(&err);
		if (dkimv_new(dns, &c->dkimv, &err) < 0)
			return cli_fail(&err);
		c->dkim_since = (int64_t)time(NULL);
	}
	*out = c->dkimv;
	return 0;
}

void
cli_reverify_summary(const char *what, const struct reverify_stats *st)
{
	char n[32];
	int i, first = 1;

	printf("%s%s mail%s verified", what, str_thousands(st->checked, n),
	       st->checked == 1 ? "" : "s");
	for (i = 0; i < DKIMV_RESULTS; i++) {
		if (!st->results[i])
			continue;
		printf("%s %s %s", first ? ":" : ",", str_thousands(st->results[i], n),
		       dkimv_result_name((enum dkimv_result)i));
		first = 0;
	}
	printf("; %s verdict%s stored\n", str_thousands(st->changed, n),
	       st->changed == 1 ? "" : "s");
}

int
cli_retry_temperror(struct cli *c, struct dkimv *dkim)
{
	struct reverify_stats st;
	struct mxd_err err;

	if (!dkim || !c->store || c->dry || *c->interrupted)
		return 0;
	mxd_err_clear(&err);
	if (store_reverify(c->store, dkim, REVERIFY_TEMPERROR, c->dkim_since, NULL,
			   NULL, &st, &err) < 0)
		return cli_fail(&err);
	if (st.checked && !c->quiet)
		cli_reverify_summary("after a failed key lookup: ", &st);
	return 0;
}

void
cli_store_tidy(struct cli *c)
{
	struct store_dict_stats ds;
	struct mxd_err err;

	if (!c->store || c->dry || *c->interrupted)
		return;
	mxd_err_clear(&err);
	if (store_dict_update(c->store, &ds, &err) < 0) {
		/* the messages are stored: only their copies stay larger */
		cli_warn("cannot make a compression dictionary: %s", err.text);
		return;
	}
	if (ds.recompressed)
		mxd_log(MXD_LOG_INFO, "%llu raw copies recompressed with dictionary "
			"%lld: %llu bytes, were %llu", (unsigned long long)ds.recompressed,
			(long long)ds.dict, (unsigned long long)ds.bytes_after,
			(unsigned long long)ds.bytes_before);
}

int
cli_store(struct cli *c)
{
	if (c->store)
		return 0;
	switch (c->cmd->needs) {
	case NEEDS_STORE_READ:
		return cli_open_store(c, STORE_READ, &c->store);
	case NEEDS_STORE_WRITE:
		return cli_open_store(c, STORE_WRITE, &c->store);
	case NEEDS_STORE_DRY:
		return cli_open_store_for(c, c->dry, &c->store);
	case NEEDS_NOTHING:
	default:
		return 0;
	}
}

int
cli_use_color(FILE *f, const char *mode)
{
	const char *nc = getenv("NO_COLOR");

	if (mode && strcmp(mode, "always") == 0)
		return 1;
	if (mode && strcmp(mode, "never") == 0)
		return 0;
	if (nc && *nc)
		return 0;
	return isatty(fileno(f));
}

unsigned
cli_worker_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 0;
	return n > 8 ? 8 : (unsigned)n;
}

/* "; DKIM: 10 pass, 2 temperror" over the reports stored, when anything
 * was verified. */
static void
dkim_summary(const struct ingest_stats *st)
{
	static const enum dkimv_result order[] = {
		DKIMV_PASS, DKIMV_FAIL, DKIMV_NONE, DKIMV_TEMPERROR,
		DKIMV_PERMERROR,
	};
	char n[32];
	size_t i;
	int first = 1;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!st->dkim[order[i]])
			continue;
		printf("%s %s %s", first ? "; DKIM:" : ",",
		       str_thousands(st->dkim[order[i]], n),
		       dkimv_result_name(order[i]));
		first = 0;
	}
}

void
cli_ingest_summary(const char *label, const char *verb, int mb,
		   const struct ingest_stats *st)
{
	char a[32], b[32], c[32], d[32], e[32];

	if (label)
		printf("%s: ", label);
	printf("%s message%s %s", str_thousands(st->messages, a),
	       st->messages == 1 ? "" : "s", verb);
	if (mb)
		printf(" (%.1f MB)", (double)st->bytes / 1e6);
	printf(", %s new report%s, %s duplicate%s, %s not a report, %s quarantined",
	       str_thousands(st->reports, b), st->reports == 1 ? "" : "s",
	       str_thousands(st->duplicates, c), st->duplicates == 1 ? "" : "s",
	       str_thousands(st->not_reports, d), str_thousands(st->quarantined, e));
	if (st->already_quarantined)
		printf(" (%s already in quarantine)",
		       str_thousands(st->already_quarantined, a));
	if (st->conflicts)
		printf(", %s in conflict with a stored report (both kept)",
		       str_thousands(st->conflicts, a));
	dkim_summary(st);
}

void
cli_ingest_event(const struct cli *c, struct progress *p, enum ingest_event ev,
		 const char *source, const char *detail)
{
	/* quarantine always; the rest by verbosity */
	static const int level[] = {
		[INGEST_REPORT] = 3,
		[INGEST_DUPLICATE] = 2,
		[INGEST_CONFLICT] = 0,
		[INGEST_NOT_REPORT] = 1,
		[INGEST_QUARANTINED] = 0,
		[INGEST_ALREADY_QUARANTINED] = 1,
	};

	if (c->verbose < level[ev] ||
	    (c->quiet && ev != INGEST_QUARANTINED && ev != INGEST_CONFLICT))
		return;
	progress_clear(p);
	switch (ev) {
	case INGEST_QUARANTINED:
		cli_error(source, "%s", detail);
		break;
	case INGEST_ALREADY_QUARANTINED:
		cli_error(source, "already in quarantine: %s", detail);
		break;
	case INGEST_DUPLICATE:
		cli_error(source, "duplicate report");
		break;
	case INGEST_CONFLICT:
		cli_error(source, "%s", detail);
		break;
	case INGEST_NOT_REPORT:
		cli_error(source, "not a TLS-RPT report, skipped");
		break;
	case INGEST_REPORT:
		cli_error(source, "new report");
		break;
	}
}
