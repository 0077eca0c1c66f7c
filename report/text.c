/*
 * text.c — the digest as text for a terminal or a cron mail: one screen of
 * summary (window, volume, failure rate and its change, the worst MX hosts,
 * what is new, what went silent, the quarantine, alerts), then the tables.
 * Every line fits 80 columns (tables narrow their text columns); the order
 * is deterministic so that golden files can compare it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_p.h"
#include "util/strutil.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define BOLD "\033[1m"
#define RED "\033[31m"
#define GREEN "\033[32m"
#define RESET "\033[0m"

#define LABEL_COLS 16		/* "  Failure rate  " */
#define SUMMARY_ITEMS 3		/* worst MX hosts, new pairs, silent orgs shown */
#define DAILY_TABLE_DAYS 31	/* longer windows: no daily table in text */

struct out {
	FILE *f;
	const struct report_opts *o;
	const struct agg_digest *d;
	char span[32];		/* "7 days" */
};

static void
heading(struct out *w, const char *title)
{
	fprintf(w->f, "\n%s%s%s\n", w->o->color ? BOLD : "", title,
		w->o->color ? RESET : "");
}

static const char *
tint_code(int worse)
{
	return worse > 0 ? RED : worse < 0 ? GREEN : "";
}

/*
 * One summary line: a label, then text cut to fit 80 columns.  `pre` and
 * `post` wrap the text in colour when it is on.
 */
static void
line(struct out *w, const char *label, const char *text, const char *color)
{
	size_t room = REPORT_TEXT_WIDTH - LABEL_COLS, width, n;
	int paint = w->o->color && color && *color;
	struct buf clean;

	/* names come from reports: no escape sequence reaches a terminal */
	buf_init(&clean, BUF_NOCAP);
	report_clean(&clean, text);
	text = buf_cstr(&clean);
	fprintf(w->f, "  %-*s", LABEL_COLS - 2, label);
	if (paint)
		fputs(color, w->f);
	if (utf8_width(text) > room) {
		n = utf8_fit(text, room - 1, &width);
		fwrite(text, 1, n, w->f);
		fputs("\xe2\x80\xa6", w->f);
	} else {
		fputs(text, w->f);
	}
	if (paint)
		fputs(RESET, w->f);
	fputc('\n', w->f);
	buf_release(&clean);
}

/* Prints text word-wrapped to 80 columns, every line indented. */
static void
wrap(FILE *f, const char *text, int indent)
{
	size_t room = REPORT_TEXT_WIDTH - (size_t)indent, col = 0, ww;
	struct buf clean;
	const char *p;

	buf_init(&clean, BUF_NOCAP);
	report_clean(&clean, text);
	p = buf_cstr(&clean);

	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t len = sp ? (size_t)(sp - p) : strlen(p);
		char *word = strndup(p, len);

		ww = utf8_width(word);
		if (col && col + 1 + ww > room) {
			fputc('\n', f);
			col = 0;
		}
		if (!col)
			fprintf(f, "%*s", indent, "");
		else
			fputc(' ', f);
		fputs(word, f);
		col += (col ? 1 : 0) + ww;
		free(word);
		p += len;
		while (*p == ' ')
			p++;
	}
	if (col)
		fputc('\n', f);
	buf_release(&clean);
}

static enum tint
tint_of(int worse)
{
	return worse > 0 ? TINT_RED : worse < 0 ? TINT_GREEN : TINT_NONE;
}

static size_t
limit(size_t n, const struct report_opts *o)
{
	return o->top && o->top < n ? o->top : n;
}

static void
others_label(size_t rows, char *out, size_t n)
{
	char num[32];

	snprintf(out, n, "(%s other%s)", str_thousands(rows, num),
		 rows == 1 ? "" : "s");
}

static void
more(FILE *out, const struct agg_rest *r)
{
	if (r->rows)
		fprintf(out, "  ... and %zu more (use --top 0 to see all)\n", r->rows);
	/* the wording is the foundation's; scripts and tests look for it */
}

/* ---- summary ----------------------------------------------------------- */

static void
summary_volume(struct out *w)
{
	const struct agg_digest *d = w->d;
	const struct agg_totals *t = &d->totals, *p = &d->prev;
	char a[32], b[32], c[32], e[32], text[256], pct[16], chg[40];
	int worse;

	snprintf(text, sizeof(text), "%s from %s organization%s (previous %s: %s "
		 "from %s)", str_thousands(t->reports, a),
		 str_thousands(t->organizations, b), t->organizations == 1 ? "" : "s",
		 w->span, str_thousands(p->reports, c),
		 str_thousands(p->organizations, e));
	line(w, "Reports", text, NULL);
	snprintf(text, sizeof(text), "%s: %s successful, %s failed",
		 str_thousands(t->successful + t->failed, a),
		 str_thousands(t->successful, b), str_thousands(t->failed, c));
	line(w, "Sessions", text, t->failed ? RED : NULL);
	if (!t->successful && !t->failed) {
		line(w, "Failure rate", "- (no sessions)", NULL);
		return;
	}
	worse = report_change_rate(t->successful, t->failed, p->successful,
				   p->failed, chg);
	if (!p->successful && !p->failed)
		snprintf(text, sizeof(text), "%s (no sessions in the previous %s)",
			 report_pct(t->successful, t->failed, pct), w->span);
	else if (!worse)
		snprintf(text, sizeof(text), "%s, unchanged from the previous %s",
			 report_pct(t->successful, t->failed, pct), w->span);
	else
		snprintf(text, sizeof(text), "%s  %s points (previous %s: %.1f%%)",
			 report_pct(t->successful, t->failed, pct), chg, w->span,
			 agg_fail_rate(p->successful, p->failed));
	line(w, "Failure rate", text, tint_code(worse));
}

static void
summary_worst(struct out *w)
{
	static const char *head[] = {"", "", ""};
	static enum col_align al[] = {COL_LEFT, COL_RIGHT, COL_LEFT};
	static size_t maxw[] = {32, 0, 28};
	const struct agg_digest *d = w->d;
	size_t i, n = d->n_mx < SUMMARY_ITEMS ? d->n_mx : SUMMARY_ITEMS;
	struct table t;
	char failed[SUMMARY_ITEMS][48];

	if (!n || !d->mx[0].failed) {
		line(w, "Worst MX", "none: no failure details reported", NULL);
		return;
	}
	fprintf(w->f, "  %-*s", LABEL_COLS - 2, "Worst MX");
	table_init(&t, 3, head, al, maxw);
	t.no_head = 1;
	t.limit = REPORT_TEXT_WIDTH;
	for (i = 0; i < n; i++) {
		char num[32];
		const char *row[3];

		snprintf(failed[i], sizeof(failed[i]), "%s failed",
			 str_thousands(d->mx[i].failed, num));
		row[0] = report_mx_label(d->mx[i].mx);
		row[1] = failed[i];
		row[2] = d->mx[i].top_result ? d->mx[i].top_result : "";
		table_add(&t, row);
	}
	/* the first row continues the label's line */
	{
		char *tmp;
		size_t len;
		FILE *m = open_memstream(&tmp, &len);

		table_print(&t, m, LABEL_COLS, w->o->color);
		fclose(m);
		fputs(tmp + LABEL_COLS, w->f);
		free(tmp);
	}
	table_release(&t);
}

/*
 * "a, b, c and 4 more": as many names as fit the summary line, then how
 * many were left out.
 */
static void
fit_names(struct out *w, const char *label, const char *prefix,
	  const char *const *names, size_t stride, size_t n, const char *color)
{
	size_t room = REPORT_TEXT_WIDTH - LABEL_COLS, k, i;
	struct buf b;

	buf_init(&b, BUF_NOCAP);
	for (k = n; k >= 1; k--) {
		buf_reset(&b);
		buf_adds(&b, prefix);
		for (i = 0; i < k; i++)
			buf_printf(&b, "%s%s", i ? ", " : "",
				   *(const char *const *)((const char *)names +
							  i * stride));
		if (k < n)
			buf_printf(&b, " and %zu more", n - k);
		if (utf8_width(buf_cstr(&b)) <= room || k == 1)
			break;
	}
	line(w, label, buf_cstr(&b), color);
	buf_release(&b);
}

static void
summary_new(struct out *w)
{
	const struct agg_digest *d = w->d;
	size_t i, shown = 0, total = d->n_new_pairs + (d->n_new_orgs ? 1 : 0);
	char text[512], num[32];

	if (!d->has_history) {
		line(w, "New", "- (no earlier reports to compare with)", NULL);
		return;
	}
	if (!d->n_new_pairs && !d->n_new_orgs) {
		char span[32];

		report_span_label(d->hist_from, d->from, span, sizeof(span));
		snprintf(text, sizeof(text), "nothing: every failure was seen in the "
			 "%s before", span);
		line(w, "New", text, NULL);
		return;
	}
	for (i = 0; i < d->n_new_pairs && shown < SUMMARY_ITEMS; i++, shown++) {
		snprintf(text, sizeof(text), "%s on %s (%s failed)",
			 d->new_pairs[i].result_type,
			 report_mx_label(d->new_pairs[i].mx),
			 str_thousands(d->new_pairs[i].failed, num));
		line(w, shown ? "" : "New", text, RED);
	}
	if (d->n_new_orgs && shown < SUMMARY_ITEMS + 1) {
		fit_names(w, shown ? "" : "New", "failures from ", &d->new_orgs[0].org,
			  sizeof(d->new_orgs[0]), d->n_new_orgs, RED);
		shown++;
	}
	if (shown < total) {
		snprintf(text, sizeof(text), "... and %zu more (see \"New this "
			 "window\" below)", total - shown);
		line(w, "", text, NULL);
	}
}

static void
summary_silent(struct out *w)
{
	const struct agg_digest *d = w->d;
	char text[128];

	if (!d->n_silent) {
		snprintf(text, sizeof(text), "none: every organization of the "
			 "previous %s reported again", w->span);
		line(w, "Silent", d->prev.organizations ? text : "none", NULL);
		return;
	}
	fit_names(w, "Silent", "", &d->silent[0].org, sizeof(d->silent[0]),
		  d->n_silent, RED);
}

static void
summary(struct out *w)
{
	const struct agg_digest *d = w->d;
	char win[96], text[256], num[32];
	size_t i;

	report_window_label(d->from, d->to, win, sizeof(win));
	fprintf(w->f, "%sTLS-RPT digest%s  %s\n", w->o->color ? BOLD : "",
		w->o->color ? RESET : "", win);
	if (d->f_domain || d->f_org || d->f_mx) {
		char *only = NULL;
		size_t len;
		FILE *m = open_memstream(&only, &len);

		fprintf(m, "Only%s%s%s%s%s%s", d->f_domain ? " policy domain " : "",
			d->f_domain ? d->f_domain : "",
			d->f_org ? " organization " : "", d->f_org ? d->f_org : "",
			d->f_mx ? " MX host " : "", d->f_mx ? d->f_mx : "");
		fclose(m);
		wrap(w->f, only, 0);
		free(only);
	}
	fputc('\n', w->f);
	summary_volume(w);
	summary_worst(w);
	summary_new(w);
	summary_silent(w);
	if (d->totals.quarantined) {
		snprintf(text, sizeof(text), "%s message%s could not be read "
			 "(mxdigest quarantine list)",
			 str_thousands((uint64_t)d->totals.quarantined, num),
			 d->totals.quarantined == 1 ? "" : "s");
		line(w, "Quarantined", text, RED);
	} else {
		line(w, "Quarantined", "none", NULL);
	}
	for (i = 0; i < d->n_alerts; i++)
		line(w, i ? "" : "Alert", d->alerts[i], RED);
}

/* ---- tables ------------------------------------------------------------ */

static void
by_mx(struct out *w)
{
	static const char *head[] = {"MX host", "Failed", "Change",
				     "Top result type", "Orgs"};
	static enum col_align al[] = {COL_LEFT, COL_RIGHT, COL_RIGHT, COL_LEFT,
				      COL_RIGHT};
	static size_t maxw[] = {40, 0, 0, 26, 0};
	const struct agg_digest *d = w->d;
	size_t i, n = limit(d->n_mx, w->o);
	char failed[32], chg[40], orgs[32], label[32];
	struct agg_rest rest;
	struct table t;

	heading(w, "Failures by MX host");
	if (!d->n_mx) {
		fputs("  No failure details reported.\n", w->f);
		return;
	}
	table_init(&t, 5, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_mx *m = &d->mx[i];
		enum tint tints[5] = {0};
		const char *row[5];

		tints[2] = tint_of(report_change_count(m->failed, m->prev_failed, chg));
		row[0] = report_mx_label(m->mx);
		row[1] = str_thousands(m->failed, failed);
		row[2] = chg;
		row[3] = m->top_result ? m->top_result : "";
		row[4] = str_thousands(m->n_orgs, orgs);
		table_add_tinted(&t, row, tints);
	}
	agg_rest(d, AGG_T_MX, n, &rest);
	if (rest.rows) {
		enum tint tints[5] = {0};
		const char *row[5];

		others_label(rest.rows, label, sizeof(label));
		tints[2] = tint_of(report_change_count(rest.failed, rest.prev_failed,
						       chg));
		row[0] = label;
		row[1] = str_thousands(rest.failed, failed);
		row[2] = chg;
		row[3] = "";
		row[4] = "";
		table_add_tinted(&t, row, tints);
	}
	table_print(&t, w->f, 2, w->o->color);
	table_release(&t);
	more(w->f, &rest);
}

static void
by_org(struct out *w)
{
	static const char *head[] = {"Organization", "Reports", "Sessions",
				     "Failed", "Rate", "Change", "Daily"};
	static enum col_align al[] = {COL_LEFT, COL_RIGHT, COL_RIGHT, COL_RIGHT,
				      COL_RIGHT, COL_RIGHT, COL_LEFT};
	static size_t maxw[] = {34, 0, 0, 0, 0, 0, 0};
	const struct agg_digest *d = w->d;
	size_t i, n = limit(d->n_orgs, w->o);
	char a[32], b[32], c[32], p[16], chg[40], spark[64], label[32];
	struct agg_rest rest;
	struct table t;

	heading(w, "By sending organization");
	if (!d->n_orgs) {
		fputs("  No reports in this window.\n", w->f);
		return;
	}
	table_init(&t, 7, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_org *r = &d->orgs[i];
		enum tint tints[7] = {0};
		const char *row[7];

		tints[5] = tint_of(report_change_rate(r->successful, r->failed,
						      r->prev_successful,
						      r->prev_failed, chg));
		report_sparkline(d, r, spark, sizeof(spark));
		tints[6] = r->failed ? TINT_RED : TINT_NONE;
		row[0] = r->org;
		row[1] = str_thousands(r->reports, a);
		row[2] = str_thousands(r->successful + r->failed, b);
		row[3] = str_thousands(r->failed, c);
		row[4] = report_pct(r->successful, r->failed, p);
		row[5] = chg;
		row[6] = spark;
		table_add_tinted(&t, row, tints);
	}
	agg_rest(d, AGG_T_ORG, n, &rest);
	if (rest.rows) {
		enum tint tints[7] = {0};
		const char *row[7];

		others_label(rest.rows, label, sizeof(label));
		tints[5] = tint_of(report_change_rate(rest.successful, rest.failed,
						      rest.prev_successful,
						      rest.prev_failed, chg));
		row[0] = label;
		row[1] = str_thousands(rest.reports, a);
		row[2] = str_thousands(rest.successful + rest.failed, b);
		row[3] = str_thousands(rest.failed, c);
		row[4] = report_pct(rest.successful, rest.failed, p);
		row[5] = chg;
		row[6] = "";
		table_add_tinted(&t, row, tints);
	}
	table_print(&t, w->f, 2, w->o->color);
	table_release(&t);
	more(w->f, &rest);
}

static void
by_result(struct out *w)
{
	static const char *head[] = {"Result type", "Failed", "Change", "Share",
				     "Reports"};
	static enum col_align al[] = {COL_LEFT, COL_RIGHT, COL_RIGHT, COL_RIGHT,
				      COL_RIGHT};
	static size_t maxw[] = {40, 0, 0, 0, 0};
	const struct agg_digest *d = w->d;
	size_t i, n = limit(d->n_results, w->o);
	uint64_t all = 0;
	char a[32], b[32], chg[40], share[16], label[32];
	struct agg_rest rest;
	struct table t;

	heading(w, "Failures by result type");
	if (!d->n_results) {
		fputs("  No failure details reported.\n", w->f);
		return;
	}
	for (i = 0; i < d->n_results; i++)
		all += d->results[i].failed;
	table_init(&t, 5, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_result *r = &d->results[i];
		enum tint tints[5] = {0};
		const char *row[5];

		tints[2] = tint_of(report_change_count(r->failed, r->prev_failed, chg));
		snprintf(share, sizeof(share), "%.1f%%",
			 all ? 100.0 * (double)r->failed / (double)all : 0.0);
		row[0] = r->result_type;
		row[1] = str_thousands(r->failed, a);
		row[2] = chg;
		row[3] = share;
		row[4] = str_thousands(r->reports, b);
		table_add_tinted(&t, row, tints);
	}
	agg_rest(d, AGG_T_RESULT, n, &rest);
	if (rest.rows) {
		enum tint tints[5] = {0};
		const char *row[5];

		others_label(rest.rows, label, sizeof(label));
		tints[2] = tint_of(report_change_count(rest.failed, rest.prev_failed,
						       chg));
		snprintf(share, sizeof(share), "%.1f%%",
			 all ? 100.0 * (double)rest.failed / (double)all : 0.0);
		row[0] = label;
		row[1] = str_thousands(rest.failed, a);
		row[2] = chg;
		row[3] = share;
		row[4] = "";
		table_add_tinted(&t, row, tints);
	}
	table_print(&t, w->f, 2, w->o->color);
	table_release(&t);
	more(w->f, &rest);
	fputs("  Failure details may overlap or be missing: their sum need not "
	      "match the\n  failed sessions of the summaries.\n", w->f);
}

static void
by_domain(struct out *w)
{
	static const char *head[] = {"Policy domain", "Policy", "Successful",
				     "Failed", "Rate", "Change"};
	static enum col_align al[] = {COL_LEFT, COL_LEFT, COL_RIGHT, COL_RIGHT,
				      COL_RIGHT, COL_RIGHT};
	static size_t maxw[] = {34, 22, 0, 0, 0, 0};
	const struct agg_digest *d = w->d;
	size_t i, k, n = limit(d->n_domains, w->o);
	char a[32], b[32], p[16], type[64], chg[40], label[32];
	struct agg_rest rest;
	struct table t;

	heading(w, "By policy domain and policy type");
	if (!d->n_domains) {
		fputs("  No policies reported.\n", w->f);
		return;
	}
	table_init(&t, 6, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_domain *r = &d->domains[i];
		enum tint tints[6] = {0};
		const char *row[6];
		size_t types = 0;

		tints[5] = tint_of(report_change_rate(r->successful, r->failed,
						      r->prev_successful,
						      r->prev_failed, chg));
		row[0] = r->domain;
		row[1] = r->types;
		row[2] = str_thousands(r->successful, a);
		row[3] = str_thousands(r->failed, b);
		row[4] = report_pct(r->successful, r->failed, p);
		row[5] = chg;
		table_add_tinted(&t, row, tints);
		for (k = 0; k < d->n_policies; k++)
			types += strcmp(d->policies[k].domain, r->domain) == 0;
		if (types < 2)
			continue;
		/* several types describe the same sessions: show each */
		for (k = 0; k < d->n_policies; k++) {
			const struct agg_policy *pp = &d->policies[k];

			if (strcmp(pp->domain, r->domain) != 0)
				continue;
			snprintf(type, sizeof(type), "  %s", pp->type);
			row[0] = "";
			row[1] = type;
			row[2] = str_thousands(pp->successful, a);
			row[3] = str_thousands(pp->failed, b);
			row[4] = report_pct(pp->successful, pp->failed, p);
			row[5] = "";
			table_add(&t, row);
		}
	}
	agg_rest(d, AGG_T_DOMAIN, n, &rest);
	if (rest.rows) {
		enum tint tints[6] = {0};
		const char *row[6];

		others_label(rest.rows, label, sizeof(label));
		tints[5] = tint_of(report_change_rate(rest.successful, rest.failed,
						      rest.prev_successful,
						      rest.prev_failed, chg));
		row[0] = label;
		row[1] = "";
		row[2] = str_thousands(rest.successful, a);
		row[3] = str_thousands(rest.failed, b);
		row[4] = report_pct(rest.successful, rest.failed, p);
		row[5] = chg;
		table_add_tinted(&t, row, tints);
	}
	table_print(&t, w->f, 2, w->o->color);
	table_release(&t);
	more(w->f, &rest);
}

static void
by_ptype(struct out *w)
{
	static const char *head[] = {"Policy type", "Reports", "Successful",
				     "Failed", "Rate", "Change"};
	static enum col_align al[] = {COL_LEFT, COL_RIGHT, COL_RIGHT, COL_RIGHT,
				      COL_RIGHT, COL_RIGHT};
	static size_t maxw[] = {30, 0, 0, 0, 0, 0};
	const struct agg_digest *d = w->d;
	size_t i, n = limit(d->n_ptypes, w->o);
	char a[32], b[32], c[32], p[16], chg[40], label[32];
	struct agg_rest rest;
	struct table t;

	if (!d->n_ptypes)
		return;
	heading(w, "By policy type (as sent)");
	table_init(&t, 6, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_ptype *r = &d->ptypes[i];
		enum tint tints[6] = {0};
		const char *row[6];

		tints[5] = tint_of(report_change_count(r->failed, r->prev_failed, chg));
		row[0] = r->type;
		row[1] = str_thousands(r->reports, a);
		row[2] = str_thousands(r->successful, b);
		row[3] = str_thousands(r->failed, c);
		row[4] = report_pct(r->successful, r->failed, p);
		row[5] = chg;
		table_add_tinted(&t, row, tints);
	}
	agg_rest(d, AGG_T_PTYPE, n, &rest);
	if (rest.rows) {
		const char *row[6];

		others_label(rest.rows, label, sizeof(label));
		report_change_count(rest.failed, rest.prev_failed, chg);
		row[0] = label;
		row[1] = str_thousands(rest.reports, a);
		row[2] = str_thousands(rest.successful, b);
		row[3] = str_thousands(rest.failed, c);
		row[4] = report_pct(rest.successful, rest.failed, p);
		row[5] = chg;
		table_add(&t, row);
	}
	table_print(&t, w->f, 2, w->o->color);
	table_release(&t);
	more(w->f, &rest);
	if (d->n_ptypes > 1)
		fputs("  An sts and a tlsa policy of one domain describe the same "
		      "sessions.\n", w->f);
}

static void
by_ip(struct out *w)
{
	static const char *head[] = {"Sending IP", "Failed", "Change",
				     "Top result type", "Orgs"};
	static enum col_align al[] = {COL_LEFT, COL_RIGHT, COL_RIGHT, COL_LEFT,
				      COL_RIGHT};
	static size_t maxw[] = {39, 0, 0, 26, 0};
	const struct agg_digest *d = w->d;
	size_t i, n = limit(d->n_ips, w->o);
	char a[32], chg[40], orgs[32], label[32];
	struct agg_rest rest;
	struct table t;

	if (!d->n_ips)
		return;
	heading(w, "Failures by sending IP");
	table_init(&t, 5, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_ip *r = &d->ips[i];
		enum tint tints[5] = {0};
		const char *row[5];

		tints[2] = tint_of(report_change_count(r->failed, r->prev_failed, chg));
		row[0] = r->ip[0] ? r->ip : "(not given)";
		row[1] = str_thousands(r->failed, a);
		row[2] = chg;
		row[3] = r->top_result ? r->top_result : "";
		row[4] = str_thousands(r->n_orgs, orgs);
		table_add_tinted(&t, row, tints);
	}
	agg_rest(d, AGG_T_IP, n, &rest);
	if (rest.rows) {
		const char *row[5];

		others_label(rest.rows, label, sizeof(label));
		report_change_count(rest.failed, rest.prev_failed, chg);
		row[0] = label;
		row[1] = str_thousands(rest.failed, a);
		row[2] = chg;
		row[3] = "";
		row[4] = "";
		table_add(&t, row);
	}
	table_print(&t, w->f, 2, w->o->color);
	table_release(&t);
	more(w->f, &rest);
}

static void
daily(struct out *w)
{
	static const char *head[] = {"Day", "Reports", "Successful", "Failed",
				     "Rate", "Failed sessions"};
	static enum col_align al[] = {COL_LEFT, COL_RIGHT, COL_RIGHT, COL_RIGHT,
				      COL_RIGHT, COL_LEFT};
	static size_t maxw[] = {0, 0, 0, 0, 0, 0};
	const struct agg_digest *d = w->d;
	uint64_t max = 0;
	size_t i, k;
	char day[16], a[32], b[32], c[32], p[16], bar[24 * 3 + 1];
	struct table t;

	heading(w, "Daily");
	if (d->n_days > DAILY_TABLE_DAYS) {
		fprintf(w->f, "  %zu days: the daily series is in --format json, "
			"csv --by day and xlsx.\n", d->n_days);
		return;
	}
	for (i = 0; i < d->n_days; i++)
		if (d->days[i].failed > max)
			max = d->days[i].failed;
	table_init(&t, 6, head, al, maxw);
	for (i = 0; i < d->n_days; i++) {
		const struct agg_day *r = &d->days[i];
		size_t cells = max ? (size_t)((r->failed * 20 + max - 1) / max) : 0;
		enum tint tints[6] = {0};
		const char *row[6];

		for (k = 0; k < cells; k++)
			memcpy(bar + 3 * k, "\xe2\x96\x88", 3);	/* █ */
		bar[3 * cells] = '\0';
		tints[5] = TINT_RED;
		time_format_date(r->day, day);
		row[0] = day;
		row[1] = str_thousands(r->reports, a);
		row[2] = str_thousands(r->successful, b);
		row[3] = str_thousands(r->failed, c);
		row[4] = report_pct(r->successful, r->failed, p);
		row[5] = bar;
		table_add_tinted(&t, row, tints);
	}
	table_print(&t, w->f, 2, w->o->color);
	table_release(&t);
}

static void
new_table(struct out *w)
{
	static const char *head[] = {"MX host", "Result type", "Failed"};
	static enum col_align al[] = {COL_LEFT, COL_LEFT, COL_RIGHT};
	static size_t maxw[] = {40, 30, 0};
	const struct agg_digest *d = w->d;
	size_t i, n;
	char a[32];
	struct table t;

	/* the summary showed them all */
	if (d->n_new_pairs + (d->n_new_orgs ? 1 : 0) <= SUMMARY_ITEMS + 1 &&
	    d->n_new_pairs <= SUMMARY_ITEMS)
		return;
	heading(w, "New this window");
	n = limit(d->n_new_pairs, w->o);
	if (n) {
		table_init(&t, 3, head, al, maxw);
		for (i = 0; i < n; i++) {
			const char *row[3] = {report_mx_label(d->new_pairs[i].mx),
					      d->new_pairs[i].result_type,
					      str_thousands(d->new_pairs[i].failed, a)};

			table_add(&t, row);
		}
		table_print(&t, w->f, 2, w->o->color);
		table_release(&t);
		if (n < d->n_new_pairs)
			fprintf(w->f, "  ... and %zu more\n", d->n_new_pairs - n);
	}
	if (d->n_new_orgs) {
		struct buf b;

		buf_init(&b, BUF_NOCAP);
		for (i = 0; i < d->n_new_orgs; i++)
			buf_printf(&b, "%s%s", i ? ", " : "New failures from: ",
				   d->new_orgs[i].org);
		wrap(w->f, buf_cstr(&b), 2);
		buf_release(&b);
	}
}

static void
quarantine(struct out *w)
{
	static const char *head[] = {"ID", "Reason"};
	static enum col_align al[] = {COL_RIGHT, COL_LEFT};
	static size_t maxw[] = {0, 72};
	const struct agg_digest *d = w->d;
	size_t i, n = limit(d->n_quarantine, w->o);
	char id[32];
	struct table t;

	if (!d->n_quarantine)
		return;
	heading(w, "Quarantine (mxdigest quarantine show ID)");
	table_init(&t, 2, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_qitem *q = &d->quarantine[i];
		const char *row[2];

		snprintf(id, sizeof(id), "%lld", (long long)q->id);
		row[0] = id;
		row[1] = q->reason;
		table_add(&t, row);
	}
	table_print(&t, w->f, 2, w->o->color);
	table_release(&t);
	if (n < d->n_quarantine)
		fprintf(w->f, "  ... and %zu more\n", d->n_quarantine - n);
}

int
report_render_text(const struct agg_digest *d, const struct report_opts *o,
		   FILE *out, struct mxd_err *err)
{
	struct out w;

	w.f = out;
	w.o = o;
	w.d = d;
	report_span_label(d->from, d->to, w.span, sizeof(w.span));
	summary(&w);
	by_mx(&w);
	by_org(&w);
	by_result(&w);
	by_domain(&w);
	by_ptype(&w);
	by_ip(&w);
	daily(&w);
	new_table(&w);
	quarantine(&w);
	if (ferror(out))
		return mxd_err_set(err, MXD_E_IO, "cannot write the digest");
	return 0;
}
