/*
 * csv.c — one table of the digest as CSV (RFC 4180): a header line, CRLF
 * line ends, a field quoted when it holds a comma, a quote, CR or LF, and
 * quotes doubled inside.  UTF-8, no byte-order mark.
 *
 * Formula injection: a spreadsheet opening the file would run a cell that
 * starts with = + - @ (or TAB or CR, which some strip first) as a formula,
 * and report fields come from anyone on the internet.  Such a text cell
 * gets a leading apostrophe ("'=HYPERLINK(...)"), which spreadsheets show
 * as text.  Numbers we compute are written bare; none is negative.
 */
#include <stdio.h>
#include <string.h>

#include "report/report_p.h"
#include "util/timeutil.h"

struct csv {
	FILE *f;
	struct buf tmp;
	int first;		/* no comma before the next field */
};

static void
field(struct csv *c, const char *s)
{
	const char *p;
	int quote = 0;

	if (!c->first)
		fputc(',', c->f);
	c->first = 0;
	report_clean(&c->tmp, s);
	s = buf_cstr(&c->tmp);
	for (p = s; *p; p++)
		if (*p == ',' || *p == '"' || *p == '\r' || *p == '\n')
			quote = 1;
	if (quote)
		fputc('"', c->f);
	if (*s && strchr("=+-@\t\r", *s))
		fputc('\'', c->f);
	for (p = s; *p; p++) {
		if (*p == '"')
			fputc('"', c->f);
		fputc(*p, c->f);
	}
	if (quote)
		fputc('"', c->f);
}

static void
number(struct csv *c, uint64_t v)
{
	if (!c->first)
		fputc(',', c->f);
	c->first = 0;
	fprintf(c->f, "%llu", (unsigned long long)v);
}

static void
rate(struct csv *c, uint64_t ok, uint64_t bad)
{
	if (!c->first)
		fputc(',', c->f);
	c->first = 0;
	fprintf(c->f, "%.4f", agg_fail_rate(ok, bad));
}

static void
end_line(struct csv *c)
{
	fputs("\r\n", c->f);
	c->first = 1;
}

static void
header(struct csv *c, const char *const *names)
{
	for (; *names; names++)
		field(c, *names);
	end_line(c);
}

/* Names joined by "; " (the separator cannot start a formula). */
static void
joined(struct csv *c, const char *const *v, size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b, BUF_NOCAP);
	for (i = 0; i < n; i++) {
		if (i)
			buf_adds(&b, "; ");
		buf_adds(&b, v[i]);
	}
	field(c, buf_cstr(&b));
	buf_release(&b);
}

static void
date_field(struct csv *c, int64_t t)
{
	char iso[32];

	time_format_iso(t, iso);
	field(c, iso);
}

static int
on_detail(const struct store_detail_row *r, void *ctx)
{
	struct csv *c = ctx;

	field(c, r->report_id);
	field(c, r->org);
	date_field(c, r->start);
	date_field(c, r->end);
	field(c, r->domain);
	field(c, r->policy_type);
	field(c, r->result_type);
	field(c, r->sending_ip);
	field(c, r->receiving_mx);
	field(c, r->receiving_helo);
	field(c, r->receiving_ip);
	number(c, r->count);
	field(c, r->reason_code);
	field(c, r->additional_info);
	end_line(c);
	return ferror(c->f) ? 1 : 0;
}

int
report_render_csv(const struct agg_digest *d, const struct report_opts *o,
		  FILE *out, struct mxd_err *err)
{
	static const char *const h_mx[] = {"mx_host", "failed_sessions",
		"previous_failed_sessions", "top_result_type", "organizations", NULL};
	static const char *const h_org[] = {"organization", "reports",
		"successful_sessions", "failed_sessions", "failure_rate",
		"previous_reports", "previous_successful_sessions",
		"previous_failed_sessions", NULL};
	static const char *const h_result[] = {"result_type", "failed_sessions",
		"reports", "previous_failed_sessions", NULL};
	static const char *const h_domain[] = {"policy_domain", "policy_types",
		"successful_sessions", "failed_sessions", "failure_rate",
		"previous_successful_sessions", "previous_failed_sessions", NULL};
	static const char *const h_type[] = {"policy_type", "reports",
		"successful_sessions", "failed_sessions", "failure_rate",
		"previous_failed_sessions", NULL};
	static const char *const h_ip[] = {"sending_ip", "failed_sessions",
		"previous_failed_sessions", "top_result_type", "organizations", NULL};
	static const char *const h_day[] = {"day", "reports", "successful_sessions",
		"failed_sessions", "failure_rate", NULL};
	static const char *const h_detail[] = {"report_id", "organization",
		"start", "end", "policy_domain", "policy_type", "result_type",
		"sending_ip", "receiving_mx_hostname", "receiving_mx_helo",
		"receiving_ip", "failed_sessions", "failure_reason_code",
		"additional_information", NULL};
	struct csv c;
	char day[16];
	size_t i;
	int rc = 0;

	c.f = out;
	c.first = 1;
	buf_init(&c.tmp, BUF_NOCAP);
	switch (o->csv_by) {
	case REPORT_CSV_MX:
		header(&c, h_mx);
		for (i = 0; i < d->n_mx; i++) {
			field(&c, d->mx[i].mx);
			number(&c, d->mx[i].failed);
			number(&c, d->mx[i].prev_failed);
			field(&c, d->mx[i].top_result);
			joined(&c, d->mx[i].orgs, d->mx[i].n_orgs);
			end_line(&c);
		}
		break;
	case REPORT_CSV_ORG:
		header(&c, h_org);
		for (i = 0; i < d->n_orgs; i++) {
			const struct agg_org *r = &d->orgs[i];

			field(&c, r->org);
			number(&c, r->reports);
			number(&c, r->successful);
			number(&c, r->failed);
			rate(&c, r->successful, r->failed);
			number(&c, r->prev_reports);
			number(&c, r->prev_successful);
			number(&c, r->prev_failed);
			end_line(&c);
		}
		break;
	case REPORT_CSV_RESULT:
		header(&c, h_result);
		for (i = 0; i < d->n_results; i++) {
			field(&c, d->results[i].result_type);
			number(&c, d->results[i].failed);
			number(&c, d->results[i].reports);
			number(&c, d->results[i].prev_failed);
			end_line(&c);
		}
		break;
	case REPORT_CSV_DOMAIN:
		header(&c, h_domain);
		for (i = 0; i < d->n_domains; i++) {
			const struct agg_domain *r = &d->domains[i];

			field(&c, r->domain);
			field(&c, r->types);
			number(&c, r->successful);
			number(&c, r->failed);
			rate(&c, r->successful, r->failed);
			number(&c, r->prev_successful);
			number(&c, r->prev_failed);
			end_line(&c);
		}
		break;
	case REPORT_CSV_TYPE:
		header(&c, h_type);
		for (i = 0; i < d->n_ptypes; i++) {
			const struct agg_ptype *r = &d->ptypes[i];

			field(&c, r->type);
			number(&c, r->reports);
			number(&c, r->successful);
			number(&c, r->failed);
			rate(&c, r->successful, r->failed);
			number(&c, r->prev_failed);
			end_line(&c);
		}
		break;
	case REPORT_CSV_IP:
		header(&c, h_ip);
		for (i = 0; i < d->n_ips; i++) {
			field(&c, d->ips[i].ip);
			number(&c, d->ips[i].failed);
			number(&c, d->ips[i].prev_failed);
			field(&c, d->ips[i].top_result);
			joined(&c, d->ips[i].orgs, d->ips[i].n_orgs);
			end_line(&c);
		}
		break;
	case REPORT_CSV_DAY:
		header(&c, h_day);
		for (i = 0; i < d->n_days; i++) {
			const struct agg_day *r = &d->days[i];

			time_format_date(r->day, day);
			field(&c, day);
			number(&c, r->reports);
			number(&c, r->successful);
			number(&c, r->failed);
			rate(&c, r->successful, r->failed);
			end_line(&c);
		}
		break;
	case REPORT_CSV_DETAIL:
		header(&c, h_detail);
		rc = agg_digest_details(d, on_detail, &c, err);
		break;
	}
	buf_release(&c.tmp);
	if (rc < 0)
		return -1;
	if (ferror(out))
		return mxd_err_set(err, MXD_E_IO, "cannot write the CSV digest");
	return 0;
}
