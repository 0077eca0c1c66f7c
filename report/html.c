/*
 * html.c — the digest as one self-contained HTML document: the HTML
 * alternative of the digest mail, readable in any mail client (inline
 * styles only, no scripts, no external resources).  Same content and order
 * as the text digest; every value is escaped.
 */
#include <stdio.h>
#include <string.h>

#include "report/report_p.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define CELL "padding:2px 8px;border-bottom:1px solid #ddd"
#define NUM CELL ";text-align:right"
#define RED_TXT "color:#b00020"
#define GREEN_TXT "color:#1b7f3b"

struct html {
	FILE *f;
	const struct agg_digest *d;
	const struct report_opts *o;
	struct buf tmp;
};

static void
esc(struct html *h, const char *s)
{
	const char *p;

	report_clean(&h->tmp, s);
	for (p = buf_cstr(&h->tmp); *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", h->f); break;
		case '<': fputs("&lt;", h->f); break;
		case '>': fputs("&gt;", h->f); break;
		case '"': fputs("&quot;", h->f); break;
		case '\'': fputs("&#39;", h->f); break;
		default: fputc(*p, h->f);
		}
	}
}

static void
heading(struct html *h, const char *title)
{
	fputs("<h2 style=\"font-size:16px;margin:18px 0 6px\">", h->f);
	esc(h, title);
	fputs("</h2>\n", h->f);
}

static void
table_open(struct html *h, const char *const *head, const char *align)
{
	size_t i;

	fputs("<table style=\"border-collapse:collapse;font-size:13px\">\n<tr>", h->f);
	for (i = 0; head[i]; i++) {
		fprintf(h->f, "<th style=\"%s;background:#f2f2f2\">",
			align[i] == 'r' ? NUM : CELL);
		esc(h, head[i]);
		fputs("</th>", h->f);
	}
	fputs("</tr>\n", h->f);
}

static void
td(struct html *h, const char *s, int right, int worse)
{
	fprintf(h->f, "<td style=\"%s%s\">", right ? NUM : CELL,
		worse > 0 ? ";" RED_TXT : worse < 0 ? ";" GREEN_TXT : "");
	esc(h, s);
	fputs("</td>", h->f);
}

static void
td_num(struct html *h, uint64_t v)
{
	char n[32];

	td(h, str_thousands(v, n), 1, 0);
}

static size_t
limit(size_t n, const struct report_opts *o)
{
	return o->top && o->top < n ? o->top : n;
}

static void
others(struct html *h, const struct agg_rest *r, char *label, size_t n)
{
	snprintf(label, n, "(%zu other%s)", r->rows, r->rows == 1 ? "" : "s");
}

static void
summary_row(struct html *h, const char *label, const char *text, int red)
{
	fputs("<tr><th style=\"text-align:left;padding:2px 12px 2px 0;"
	      "vertical-align:top\">", h->f);
	esc(h, label);
	fprintf(h->f, "</th><td style=\"padding:2px 0%s\">", red ? ";" RED_TXT : "");
	esc(h, text);
	fputs("</td></tr>\n", h->f);
}

static void
summary(struct html *h)
{
	const struct agg_digest *d = h->d;
	const struct agg_totals *t = &d->totals, *p = &d->prev;
	char win[96], span[32], a[32], b[32], c[32], text[512], pct[16], chg[40];
	size_t i, used;
	int worse;

	report_window_label(d->from, d->to, win, sizeof(win));
	report_span_label(d->from, d->to, span, sizeof(span));
	fputs("<h1 style=\"font-size:20px;margin:0 0 4px\">TLS-RPT digest</h1>\n"
	      "<p style=\"margin:0 0 12px;color:#555\">", h->f);
	esc(h, win);
	fputs("</p>\n<table style=\"border-collapse:collapse;font-size:14px\">\n",
	      h->f);
	snprintf(text, sizeof(text), "%s from %s organizations (previous %s: %s)",
		 str_thousands(t->reports, a), str_thousands(t->organizations, b),
		 span, str_thousands(p->reports, c));
	summary_row(h, "Reports", text, 0);
	snprintf(text, sizeof(text), "%s: %s successful, %s failed",
		 str_thousands(t->successful + t->failed, a),
		 str_thousands(t->successful, b), str_thousands(t->failed, c));
	summary_row(h, "Sessions", text, t->failed != 0);
	worse = report_change_rate(t->successful, t->failed, p->successful,
				   p->failed, chg);
	snprintf(text, sizeof(text), "%s (change: %s; previous %s: %s)",
		 report_pct(t->successful, t->failed, pct), chg, span,
		 report_pct(p->successful, p->failed, a));
	summary_row(h, "Failure rate", text, worse > 0);
	for (i = 0; i < d->n_mx && i < 3 && d->mx[i].failed; i++) {
		snprintf(text, sizeof(text), "%s: %s failed, mostly %s",
			 report_mx_label(d->mx[i].mx), str_thousands(d->mx[i].failed, a),
			 d->mx[i].top_result ? d->mx[i].top_result : "-");
		summary_row(h, i ? "" : "Worst MX", text, 0);
	}
	if (!d->has_history)
		summary_row(h, "New", "- (no earlier reports to compare with)", 0);
	else if (!d->n_new_pairs && !d->n_new_orgs)
		summary_row(h, "New", "nothing", 0);
	for (i = 0; i < d->n_new_pairs; i++) {
		snprintf(text, sizeof(text), "%s on %s (%s failed)",
			 d->new_pairs[i].result_type,
			 report_mx_label(d->new_pairs[i].mx),
			 str_thousands(d->new_pairs[i].failed, a));
		summary_row(h, i ? "" : "New", text, 1);
	}
	if (d->n_new_orgs) {
		used = (size_t)snprintf(text, sizeof(text), "failures from ");
		for (i = 0; i < d->n_new_orgs && used < sizeof(text); i++)
			used += (size_t)snprintf(text + used, sizeof(text) - used,
						 "%s%s", i ? ", " : "",
						 d->new_orgs[i].org);
		summary_row(h, d->n_new_pairs ? "" : "New", text, 1);
	}
	if (!d->n_silent)
		summary_row(h, "Silent", "none", 0);
	for (i = 0; i < d->n_silent; i++) {
		snprintf(text, sizeof(text), "%s (%s reports in the previous %s)",
			 d->silent[i].org, str_thousands(d->silent[i].prev_reports, a),
			 span);
		summary_row(h, i ? "" : "Silent", text, 1);
	}
	snprintf(text, sizeof(text), "%s", d->totals.quarantined ? "" : "none");
	if (d->totals.quarantined)
		snprintf(text, sizeof(text), "%s messages could not be read "
			 "(mxdigest quarantine list)",
			 str_thousands((uint64_t)d->totals.quarantined, a));
	summary_row(h, "Quarantined", text, d->totals.quarantined != 0);
	for (i = 0; i < d->n_alerts; i++)
		summary_row(h, i ? "" : "Alert", d->alerts[i], 1);
	fputs("</table>\n", h->f);
}

static void
by_mx(struct html *h)
{
	static const char *const head[] = {"MX host", "Failed", "Change",
		"Top result type", "Organizations", NULL};
	const struct agg_digest *d = h->d;
	size_t i, k, n = limit(d->n_mx, h->o);
	struct agg_rest rest;
	char chg[40], label[32];
	struct buf orgs;

	heading(h, "Failures by MX host");
	if (!d->n_mx) {
		fputs("<p>No failure details reported.</p>\n", h->f);
		return;
	}
	buf_init(&orgs, BUF_NOCAP);
	table_open(h, head, "lrrll");
	for (i = 0; i < n; i++) {
		const struct agg_mx *m = &d->mx[i];
		int worse = report_change_count(m->failed, m->prev_failed, chg);

		buf_reset(&orgs);
		for (k = 0; k < m->n_orgs; k++)
			buf_printf(&orgs, "%s%s", k ? ", " : "", m->orgs[k]);
		fputs("<tr>", h->f);
		td(h, report_mx_label(m->mx), 0, 0);
		td_num(h, m->failed);
		td(h, chg, 1, worse);
		td(h, m->top_result ? m->top_result : "", 0, 0);
		td(h, buf_cstr(&orgs), 0, 0);
		fputs("</tr>\n", h->f);
	}
	agg_rest(d, AGG_T_MX, n, &rest);
	if (rest.rows) {
		int worse = report_change_count(rest.failed, rest.prev_failed, chg);

		others(h, &rest, label, sizeof(label));
		fputs("<tr>", h->f);
		td(h, label, 0, 0);
		td_num(h, rest.failed);
		td(h, chg, 1, worse);
		td(h, "", 0, 0);
		td(h, "", 0, 0);
		fputs("</tr>\n", h->f);
	}
	fputs("</table>\n", h->f);
	buf_release(&orgs);
}

static void
by_org(struct html *h)
{
	static const char *const head[] = {"Organization", "Reports", "Sessions",
		"Failed", "Rate", "Change", "Daily", NULL};
	const struct agg_digest *d = h->d;
	size_t i, n = limit(d->n_orgs, h->o);
	struct agg_rest rest;
	char chg[40], pct[16], spark[64], label[32];

	heading(h, "By sending organization");
	if (!d->n_orgs) {
		fputs("<p>No reports in this window.</p>\n", h->f);
		return;
	}
	table_open(h, head, "lrrrrrl");
	for (i = 0; i < n; i++) {
		const struct agg_org *r = &d->orgs[i];
		int worse = report_change_rate(r->successful, r->failed,
					       r->prev_successful, r->prev_failed,
					       chg);

		report_sparkline(d, r, spark, sizeof(spark));
		fputs("<tr>", h->f);
		td(h, r->org, 0, 0);
		td_num(h, r->reports);
		td_num(h, r->successful + r->failed);
		td_num(h, r->failed);
		td(h, report_pct(r->successful, r->failed, pct), 1, 0);
		td(h, chg, 1, worse);
		td(h, spark, 0, r->failed ? 1 : 0);
		fputs("</tr>\n", h->f);
	}
	agg_rest(d, AGG_T_ORG, n, &rest);
	if (rest.rows) {
		int worse = report_change_rate(rest.successful, rest.failed,
					       rest.prev_successful,
					       rest.prev_failed, chg);

		others(h, &rest, label, sizeof(label));
		fputs("<tr>", h->f);
		td(h, label, 0, 0);
		td_num(h, rest.reports);
		td_num(h, rest.successful + rest.failed);
		td_num(h, rest.failed);
		td(h, report_pct(rest.successful, rest.failed, pct), 1, 0);
		td(h, chg, 1, worse);
		td(h, "", 0, 0);
		fputs("</tr>\n", h->f);
	}
	fputs("</table>\n", h->f);
}

static void
by_result(struct html *h)
{
	static const char *const head[] = {"Result type", "Failed", "Change",
		"Reports", NULL};
	const struct agg_digest *d = h->d;
	size_t i, n = limit(d->n_results, h->o);
	struct agg_rest rest;
	char chg[40], label[32];

	heading(h, "Failures by result type");
	if (!d->n_results) {
		fputs("<p>No failure details reported.</p>\n", h->f);
		return;
	}
	table_open(h, head, "lrrr");
	for (i = 0; i < n; i++) {
		const struct agg_result *r = &d->results[i];
		int worse = report_change_count(r->failed, r->prev_failed, chg);

		fputs("<tr>", h->f);
		td(h, r->result_type, 0, 0);
		td_num(h, r->failed);
		td(h, chg, 1, worse);
		td_num(h, r->reports);
		fputs("</tr>\n", h->f);
	}
	agg_rest(d, AGG_T_RESULT, n, &rest);
	if (rest.rows) {
		int worse = report_change_count(rest.failed, rest.prev_failed, chg);

		others(h, &rest, label, sizeof(label));
		fputs("<tr>", h->f);
		td(h, label, 0, 0);
		td_num(h, rest.failed);
		td(h, chg, 1, worse);
		td_num(h, rest.reports);
		fputs("</tr>\n", h->f);
	}
	fputs("</table>\n", h->f);
}

static void
by_domain(struct html *h)
{
	static const char *const head[] = {"Policy domain", "Policy types",
		"Successful", "Failed", "Rate", "Change", NULL};
	const struct agg_digest *d = h->d;
	size_t i, n = limit(d->n_domains, h->o);
	char chg[40], pct[16];

	heading(h, "By policy domain");
	if (!d->n_domains) {
		fputs("<p>No policies reported.</p>\n", h->f);
		return;
	}
	table_open(h, head, "llrrrr");
	for (i = 0; i < n; i++) {
		const struct agg_domain *r = &d->domains[i];
		int worse = report_change_rate(r->successful, r->failed,
					       r->prev_successful, r->prev_failed,
					       chg);

		fputs("<tr>", h->f);
		td(h, r->domain, 0, 0);
		td(h, r->types, 0, 0);
		td_num(h, r->successful);
		td_num(h, r->failed);
		td(h, report_pct(r->successful, r->failed, pct), 1, 0);
		td(h, chg, 1, worse);
		fputs("</tr>\n", h->f);
	}
	fputs("</table>\n", h->f);
	if (n < d->n_domains)
		fprintf(h->f, "<p>... and %zu more.</p>\n", d->n_domains - n);
}

static void
daily(struct html *h)
{
	static const char *const head[] = {"Day", "Reports", "Successful",
		"Failed", "Rate", NULL};
	const struct agg_digest *d = h->d;
	char day[16], pct[16];
	size_t i;

	if (d->n_days > 62)
		return;
	heading(h, "Daily");
	table_open(h, head, "lrrrr");
	for (i = 0; i < d->n_days; i++) {
		const struct agg_day *r = &d->days[i];

		time_format_date(r->day, day);
		fputs("<tr>", h->f);
		td(h, day, 0, 0);
		td_num(h, r->reports);
		td_num(h, r->successful);
		td_num(h, r->failed);
		td(h, report_pct(r->successful, r->failed, pct), 1, 0);
		fputs("</tr>\n", h->f);
	}
	fputs("</table>\n", h->f);
}

int
report_render_html(const struct agg_digest *d, const struct report_opts *o,
		   FILE *out, struct mxd_err *err)
{
	struct html h;
	char gen[32];

	h.f = out;
	h.d = d;
	h.o = o;
	buf_init(&h.tmp, BUF_NOCAP);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<title>TLS-RPT digest</title>\n</head>\n"
	      "<body style=\"font-family:-apple-system,'Segoe UI',Helvetica,Arial,"
	      "sans-serif;color:#222\">\n", out);
	summary(&h);
	by_mx(&h);
	by_org(&h);
	by_result(&h);
	by_domain(&h);
	daily(&h);
	time_format_iso(o->generated, gen);
	fputs("<p style=\"color:#777;font-size:12px;margin-top:18px\">Generated by "
	      "mxdigest at ", out);
	esc(&h, gen);
	fputs(". Failure details may overlap or be missing; their sums need not "
	      "match the failed sessions of the summaries.</p>\n</body>\n</html>\n",
	      out);
	buf_release(&h.tmp);
	if (ferror(out))
		return mxd_err_set(err, MXD_E_IO, "cannot write the HTML digest");
	return 0;
}
