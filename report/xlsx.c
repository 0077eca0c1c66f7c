/*
 * xlsx.c — the digest as an XLSX workbook (libxlsxwriter 1.1.4; the only
 * user of that library).
 *
 * Sheets: Summary, By MX host, By organization, By result type, By sending
 * IP, By policy domain, Daily (with a chart), Failure details, Quarantine.
 * Every data sheet has a formatted, frozen header row and a filter: an
 * Excel table while the workbook is small, an autofilter in
 * constant-memory mode.
 *
 * Constant memory: the failure-detail sheet can hold hundreds of thousands
 * of rows.  Past `xlsx_stream_rows` details the workbook is opened in
 * libxlsxwriter's constant-memory mode, where each row goes to a temporary
 * file as soon as the next one starts, so memory stays flat; the library
 * then refuses tables and rows written out of order, so every sheet here
 * is written top to bottom, and the details arrive in that order from
 * agg_digest_details().
 *
 * Library traps handled here (docs: LIBRARY_NOTES.md): strings are not
 * checked for UTF-8, so every string is cleaned first; worksheet_write_string
 * never makes a formula, so "=HYPERLINK(...)" from a report stays text;
 * strings are cut at 32,767 characters; numbers are doubles (exact below
 * 2^53); workbook_close() does the writing and its error is checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "report/report_p.h"
#include "util/strutil.h"
#include "util/timeutil.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#if LXW_VERSION_ID < 100
#error "libxlsxwriter 1.0 or later is needed (tables, charts, constant memory)"
#endif

#define STREAM_ROWS_DEFAULT 20000
#define XLSX_MAX_ROW 1048575		/* Excel's last row, 0-based */
#define XLSX_STR_MAX 32767		/* characters per cell */
#define EXCEL_EPOCH_DAYS 25569		/* 1970-01-01 as an Excel serial */

struct xlsx {
	lxw_workbook *wb;
	const struct agg_digest *d;
	const struct report_opts *o;
	int stream;		/* constant-memory mode: no tables */
	lxw_error first;	/* first library error */
	const char *where;	/* the sheet it happened on */
	struct buf tmp;
	lxw_format *head, *title, *count, *pct, *day, *time, *text, *bold,
		   *points;
	/* details */
	lxw_worksheet *ws;
	lxw_row_t row;
	uint64_t dropped;
};

static void
check(struct xlsx *x, lxw_error e, const char *where)
{
	if (e != LXW_NO_ERROR && x->first == LXW_NO_ERROR) {
		x->first = e;
		x->where = where;
	}
}

/* Valid UTF-8 without control characters, at most XLSX_STR_MAX characters. */
static const char *
clean(struct xlsx *x, const char *s)
{
	const unsigned char *p;
	size_t i = 0, chars = 0, k;
	uint32_t cp;

	report_clean(&x->tmp, s);
	p = x->tmp.data ? x->tmp.data : (const unsigned char *)"";
	while (i < x->tmp.len) {
		if (chars == XLSX_STR_MAX) {
			x->tmp.data[i] = '\0';
			x->tmp.len = i;
			break;
		}
		k = utf8_decode(p + i, x->tmp.len - i, &cp);
		i += k ? k : 1;
		chars++;
	}
	return buf_cstr(&x->tmp);
}

static void
str(struct xlsx *x, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, const char *s,
    lxw_format *f)
{
	if (!s || !*s) {
		if (f)
			check(x, worksheet_write_blank(ws, r, c, f), "blank");
		return;
	}
	check(x, worksheet_write_string(ws, r, c, clean(x, s), f), "string");
}

static void
num(struct xlsx *x, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c, double v,
    lxw_format *f)
{
	check(x, worksheet_write_number(ws, r, c, v, f), "number");
}

static double
excel_time(int64_t t)
{
	return (double)t / DAY_SECS + EXCEL_EPOCH_DAYS;
}

static double
frac(uint64_t ok, uint64_t bad)
{
	return agg_fail_rate(ok, bad) / 100.0;
}

static lxw_worksheet *
sheet(struct xlsx *x, const char *name)
{
	lxw_worksheet *ws = workbook_add_worksheet(x->wb, name);

	if (!ws)
		check(x, LXW_ERROR_MEMORY_MALLOC_FAILED, name);
	return ws;
}

/*
 * A header row at row 0, frozen; widths per column; after the rows are
 * written, finish_table() turns the block into a table or an autofilter.
 */
struct col {
	const char *name;
	double width;
};

static void
header(struct xlsx *x, lxw_worksheet *ws, lxw_row_t r, const struct col *cols,
       size_t n, int freeze)
{
	size_t i;

	for (i = 0; i < n; i++) {
		str(x, ws, r, (lxw_col_t)i, cols[i].name, x->head);
		check(x, worksheet_set_column(ws, (lxw_col_t)i, (lxw_col_t)i,
					      cols[i].width, NULL), "column");
	}
	if (freeze) {
		worksheet_freeze_panes(ws, r + 1, 0);
		/* printed (or converted to PDF): landscape, one page wide */
		worksheet_set_landscape(ws);
		worksheet_fit_to_pages(ws, 1, 0);
		worksheet_repeat_rows(ws, r, r);
	}
}

static void
finish_table(struct xlsx *x, lxw_worksheet *ws, const char *name, lxw_row_t top,
	     lxw_row_t last, const struct col *cols, size_t n, int filter)
{
	lxw_table_column *tc, **ptrs;
	lxw_table_options opt;
	size_t i;

	if (last <= top) {
		if (filter)
			check(x, worksheet_autofilter(ws, top, 0, top,
						      (lxw_col_t)(n - 1)), name);
		return;
	}
	if (x->stream) {
		if (filter)
			check(x, worksheet_autofilter(ws, top, 0, last,
						      (lxw_col_t)(n - 1)), name);
		return;
	}
	tc = xcalloc(n, sizeof(*tc));
	ptrs = xcalloc(n + 1, sizeof(*ptrs));
	for (i = 0; i < n; i++) {
		tc[i].header = (char *)(uintptr_t)cols[i].name;
		tc[i].header_format = x->head;
		ptrs[i] = &tc[i];
	}
	memset(&opt, 0, sizeof(opt));
	opt.name = (char *)(uintptr_t)name;
	opt.style_type = LXW_TABLE_STYLE_TYPE_LIGHT;
	opt.style_type_number = 9;
	opt.columns = ptrs;
	opt.no_autofilter = !filter;
	check(x, worksheet_add_table(ws, top, 0, last, (lxw_col_t)(n - 1), &opt),
	      name);
	free(ptrs);
	free(tc);
}

static void
formats(struct xlsx *x)
{
	x->head = workbook_add_format(x->wb);
	format_set_bold(x->head);
	format_set_bg_color(x->head, 0xD9E1F2);
	format_set_bottom(x->head, LXW_BORDER_THIN);
	format_set_text_wrap(x->head);
	format_set_align(x->head, LXW_ALIGN_VERTICAL_TOP);
	x->title = workbook_add_format(x->wb);
	format_set_bold(x->title);
	format_set_font_size(x->title, 16);
	x->bold = workbook_add_format(x->wb);
	format_set_bold(x->bold);
	x->count = workbook_add_format(x->wb);
	format_set_num_format(x->count, "#,##0");
	x->pct = workbook_add_format(x->wb);
	format_set_num_format(x->pct, "0.00%");
	x->points = workbook_add_format(x->wb);
	format_set_num_format(x->points, "+0.00;-0.00;0.00");
	x->day = workbook_add_format(x->wb);
	format_set_num_format(x->day, "yyyy-mm-dd");
	x->time = workbook_add_format(x->wb);
	format_set_num_format(x->time, "yyyy-mm-dd hh:mm:ss");
	x->text = workbook_add_format(x->wb);
	format_set_align(x->text, LXW_ALIGN_LEFT);
}

/* ---- Summary ----------------------------------------------------------- */

struct kv {
	struct xlsx *x;
	lxw_worksheet *ws;
	lxw_row_t row;
};

static void
kv_num(struct kv *k, const char *label, double v, lxw_format *f)
{
	str(k->x, k->ws, k->row, 0, label, NULL);
	num(k->x, k->ws, k->row++, 1, v, f);
}

static void
kv_str(struct kv *k, const char *label, const char *v)
{
	str(k->x, k->ws, k->row, 0, label, NULL);
	str(k->x, k->ws, k->row++, 1, v, NULL);
}

static void
kv_section(struct kv *k, const char *title)
{
	k->row++;
	str(k->x, k->ws, k->row++, 0, title, k->x->bold);
}

static void
summary(struct xlsx *x)
{
	const struct agg_digest *d = x->d;
	const struct agg_totals *t = &d->totals, *p = &d->prev;
	lxw_worksheet *ws = sheet(x, "Summary");
	struct kv k = {x, ws, 0};
	char win[96], text[512], n[32];
	size_t i;

	if (!ws)
		return;
	worksheet_set_column(ws, 0, 0, 34, NULL);
	worksheet_set_column(ws, 1, 1, 40, x->text);
	worksheet_set_column(ws, 2, 2, 14, NULL);
	str(x, ws, k.row++, 0, "TLS-RPT digest", x->title);
	report_window_label(d->from, d->to, win, sizeof(win));
	str(x, ws, k.row++, 0, win, NULL);
	k.row++;
	kv_num(&k, "Window start (UTC)", excel_time(d->from), x->time);
	kv_num(&k, "Window end (UTC, excluded)", excel_time(d->to), x->time);
	kv_num(&k, "Generated (UTC)", excel_time(x->o->generated), x->time);
	snprintf(text, sizeof(text), "%s%s%s%s%s%s",
		 d->f_domain ? "policy domain " : "", d->f_domain ? d->f_domain : "",
		 d->f_org ? " organization " : "", d->f_org ? d->f_org : "",
		 d->f_mx ? " MX host " : "", d->f_mx ? d->f_mx : "");
	kv_str(&k, "Filters", text[0] ? text : "none");

	kv_section(&k, "This window");
	kv_num(&k, "Reports", (double)t->reports, x->count);
	kv_num(&k, "Organizations", (double)t->organizations, x->count);
	kv_num(&k, "Successful sessions", (double)t->successful, x->count);
	kv_num(&k, "Failed sessions", (double)t->failed, x->count);
	kv_num(&k, "Failure rate", frac(t->successful, t->failed), x->pct);
	kv_num(&k, "Quarantined messages", (double)t->quarantined, x->count);

	kv_section(&k, "Previous window");
	kv_num(&k, "Previous window start (UTC)", excel_time(d->prev_from), x->time);
	kv_num(&k, "Previous reports", (double)p->reports, x->count);
	kv_num(&k, "Previous organizations", (double)p->organizations, x->count);
	kv_num(&k, "Previous successful sessions", (double)p->successful, x->count);
	kv_num(&k, "Previous failed sessions", (double)p->failed, x->count);
	kv_num(&k, "Previous failure rate", frac(p->successful, p->failed), x->pct);
	kv_num(&k, "Failure rate change (points)",
	       agg_fail_rate(t->successful, t->failed) -
	       agg_fail_rate(p->successful, p->failed), x->points);

	kv_section(&k, "Worst MX hosts");
	for (i = 0; i < d->n_mx && i < 5; i++) {
		snprintf(text, sizeof(text), "%s (mostly %s)",
			 report_mx_label(d->mx[i].mx),
			 d->mx[i].top_result ? d->mx[i].top_result : "-");
		kv_num(&k, text, (double)d->mx[i].failed, x->count);
	}
	kv_section(&k, "New this window");
	if (!d->has_history)
		kv_str(&k, "(no earlier reports to compare with)", "");
	for (i = 0; i < d->n_new_pairs; i++) {
		snprintf(text, sizeof(text), "%s on %s", d->new_pairs[i].result_type,
			 report_mx_label(d->new_pairs[i].mx));
		kv_num(&k, text, (double)d->new_pairs[i].failed, x->count);
	}
	for (i = 0; i < d->n_new_orgs; i++) {
		snprintf(text, sizeof(text), "failures from %s", d->new_orgs[i].org);
		kv_num(&k, text, (double)d->new_orgs[i].failed, x->count);
	}
	kv_section(&k, "Silent reporters (reported in the previous window only)");
	for (i = 0; i < d->n_silent; i++) {
		snprintf(text, sizeof(text), "%s reports",
			 str_thousands(d->silent[i].prev_reports, n));
		kv_str(&k, d->silent[i].org, text);
	}
	if (d->n_alerts) {
		kv_section(&k, "Alerts");
		for (i = 0; i < d->n_alerts; i++)
			kv_str(&k, "Alert", d->alerts[i]);
	}
	k.row++;
	kv_str(&k, "Note", "Failure-detail counts may overlap or be missing: "
	       "their sums need not match the failed sessions.");
}

/* ---- the tables -------------------------------------------------------- */

static const char *
joined(struct xlsx *x, struct buf *b, const char *const *v, size_t n)
{
	size_t i;

	(void)x;
	buf_reset(b);
	for (i = 0; i < n; i++) {
		if (i)
			buf_adds(b, ", ");
		buf_adds(b, v[i]);
	}
	return buf_cstr(b);
}

static void
by_mx(struct xlsx *x)
{
	static const struct col cols[] = {
		{"MX host", 30}, {"Failed sessions", 12},
		{"Previous failed sessions", 12}, {"Top result type", 26},
		{"Top result type failed", 12}, {"Organizations", 40},
		{"New result types", 30},
	};
	const struct agg_digest *d = x->d;
	lxw_worksheet *ws = sheet(x, "By MX host");
	struct buf b, nb;
	lxw_row_t r = 1;
	size_t i, k;

	if (!ws)
		return;
	buf_init(&b, BUF_NOCAP);
	buf_init(&nb, BUF_NOCAP);
	header(x, ws, 0, cols, 7, 1);
	for (i = 0; i < d->n_mx; i++, r++) {
		const struct agg_mx *m = &d->mx[i];

		buf_reset(&nb);
		for (k = 0; k < m->n_results; k++)
			if (m->results[k].is_new)
				buf_printf(&nb, "%s%s", nb.len ? ", " : "",
					   m->results[k].result_type);
		str(x, ws, r, 0, report_mx_label(m->mx), NULL);
		num(x, ws, r, 1, (double)m->failed, x->count);
		num(x, ws, r, 2, (double)m->prev_failed, x->count);
		str(x, ws, r, 3, m->top_result, NULL);
		num(x, ws, r, 4, (double)m->top_result_failed, x->count);
		str(x, ws, r, 5, joined(x, &b, m->orgs, m->n_orgs), NULL);
		str(x, ws, r, 6, buf_cstr(&nb), NULL);
	}
	finish_table(x, ws, "MXHosts", 0, r - 1, cols, 7, 1);
	buf_release(&b);
	buf_release(&nb);
}

static void
by_org(struct xlsx *x)
{
	static const struct col cols[] = {
		{"Organization", 32}, {"Reports", 10}, {"Successful sessions", 12},
		{"Failed sessions", 12}, {"Failure rate", 10},
		{"Previous reports", 10}, {"Previous successful sessions", 12},
		{"Previous failed sessions", 12}, {"Previous failure rate", 10},
		{"New failures", 10},
	};
	const struct agg_digest *d = x->d;
	lxw_worksheet *ws = sheet(x, "By organization");
	lxw_row_t r = 1;
	size_t i;

	if (!ws)
		return;
	header(x, ws, 0, cols, 10, 1);
	for (i = 0; i < d->n_orgs; i++, r++) {
		const struct agg_org *o = &d->orgs[i];

		str(x, ws, r, 0, o->org, NULL);
		num(x, ws, r, 1, (double)o->reports, x->count);
		num(x, ws, r, 2, (double)o->successful, x->count);
		num(x, ws, r, 3, (double)o->failed, x->count);
		num(x, ws, r, 4, frac(o->successful, o->failed), x->pct);
		num(x, ws, r, 5, (double)o->prev_reports, x->count);
		num(x, ws, r, 6, (double)o->prev_successful, x->count);
		num(x, ws, r, 7, (double)o->prev_failed, x->count);
		num(x, ws, r, 8, frac(o->prev_successful, o->prev_failed), x->pct);
		str(x, ws, r, 9, o->new_failures ? "yes" : "no", NULL);
	}
	finish_table(x, ws, "Organizations", 0, r - 1, cols, 10, 1);
}

static void
by_result(struct xlsx *x)
{
	static const struct col cols[] = {
		{"Result type", 30}, {"Failed sessions", 12}, {"Reports", 10},
		{"Previous failed sessions", 12},
	};
	const struct agg_digest *d = x->d;
	lxw_worksheet *ws = sheet(x, "By result type");
	lxw_row_t r = 1;
	size_t i;

	if (!ws)
		return;
	header(x, ws, 0, cols, 4, 1);
	for (i = 0; i < d->n_results; i++, r++) {
		str(x, ws, r, 0, d->results[i].result_type, NULL);
		num(x, ws, r, 1, (double)d->results[i].failed, x->count);
		num(x, ws, r, 2, (double)d->results[i].reports, x->count);
		num(x, ws, r, 3, (double)d->results[i].prev_failed, x->count);
	}
	finish_table(x, ws, "ResultTypes", 0, r - 1, cols, 4, 1);
}

static void
by_ip(struct xlsx *x)
{
	static const struct col cols[] = {
		{"Sending IP", 28}, {"Failed sessions", 12},
		{"Previous failed sessions", 12}, {"Top result type", 26},
		{"Organizations", 40},
	};
	const struct agg_digest *d = x->d;
	lxw_worksheet *ws = sheet(x, "By sending IP");
	lxw_row_t r = 1;
	struct buf b;
	size_t i;

	if (!ws)
		return;
	buf_init(&b, BUF_NOCAP);
	header(x, ws, 0, cols, 5, 1);
	for (i = 0; i < d->n_ips; i++, r++) {
		const struct agg_ip *p = &d->ips[i];

		str(x, ws, r, 0, p->ip[0] ? p->ip : "(not given)", NULL);
		num(x, ws, r, 1, (double)p->failed, x->count);
		num(x, ws, r, 2, (double)p->prev_failed, x->count);
		str(x, ws, r, 3, p->top_result, NULL);
		str(x, ws, r, 4, joined(x, &b, p->orgs, p->n_orgs), NULL);
	}
	finish_table(x, ws, "SendingIPs", 0, r - 1, cols, 5, 1);
	buf_release(&b);
}

static void
by_domain(struct xlsx *x)
{
	static const struct col cols[] = {
		{"Policy domain", 30}, {"Policy types", 18},
		{"Successful sessions", 12}, {"Failed sessions", 12},
		{"Failure rate", 10}, {"Previous successful sessions", 12},
		{"Previous failed sessions", 12},
	};
	static const struct col pcols[] = {
		{"Policy domain", 30}, {"Policy type", 18}, {"Reports", 12},
		{"Successful sessions", 12}, {"Failed sessions", 10},
	};
	static const struct col tcols[] = {
		{"Policy type", 30}, {"Reports", 18}, {"Successful sessions", 12},
		{"Failed sessions", 12}, {"Failure rate", 10},
		{"Previous failed sessions", 12},
	};
	const struct agg_digest *d = x->d;
	lxw_worksheet *ws = sheet(x, "By policy domain");
	lxw_row_t r = 1, top;
	size_t i;

	if (!ws)
		return;
	header(x, ws, 0, cols, 7, 1);
	for (i = 0; i < d->n_domains; i++, r++) {
		const struct agg_domain *p = &d->domains[i];

		str(x, ws, r, 0, p->domain, NULL);
		str(x, ws, r, 1, p->types, NULL);
		num(x, ws, r, 2, (double)p->successful, x->count);
		num(x, ws, r, 3, (double)p->failed, x->count);
		num(x, ws, r, 4, frac(p->successful, p->failed), x->pct);
		num(x, ws, r, 5, (double)p->prev_successful, x->count);
		num(x, ws, r, 6, (double)p->prev_failed, x->count);
	}
	finish_table(x, ws, "PolicyDomains", 0, r - 1, cols, 7, 1);

	/* the numbers as sent: an sts and a tlsa policy of one domain
	 * describe the same sessions */
	r += 1;
	str(x, ws, r++, 0, "Per policy, as sent (an sts and a tlsa policy of one "
	    "domain describe the same sessions)", x->bold);
	top = r;
	header(x, ws, r++, pcols, 5, 0);
	for (i = 0; i < d->n_policies; i++, r++) {
		const struct agg_policy *p = &d->policies[i];

		str(x, ws, r, 0, p->domain, NULL);
		str(x, ws, r, 1, p->type, NULL);
		num(x, ws, r, 2, (double)p->reports, x->count);
		num(x, ws, r, 3, (double)p->successful, x->count);
		num(x, ws, r, 4, (double)p->failed, x->count);
	}
	finish_table(x, ws, "Policies", top, r - 1, pcols, 5, 0);

	r += 1;
	str(x, ws, r++, 0, "Per policy type, as sent", x->bold);
	top = r;
	header(x, ws, r++, tcols, 6, 0);
	for (i = 0; i < d->n_ptypes; i++, r++) {
		const struct agg_ptype *p = &d->ptypes[i];

		str(x, ws, r, 0, p->type, NULL);
		num(x, ws, r, 1, (double)p->reports, x->count);
		num(x, ws, r, 2, (double)p->successful, x->count);
		num(x, ws, r, 3, (double)p->failed, x->count);
		num(x, ws, r, 4, frac(p->successful, p->failed), x->pct);
		num(x, ws, r, 5, (double)p->prev_failed, x->count);
	}
	finish_table(x, ws, "PolicyTypes", top, r - 1, tcols, 6, 0);
	/* the first block's widths win */
	worksheet_set_column(ws, 0, 0, 30, NULL);
}

static void
daily(struct xlsx *x)
{
	static const struct col cols[] = {
		{"Day (UTC)", 12}, {"Reports", 10}, {"Successful sessions", 12},
		{"Failed sessions", 12}, {"Failure rate", 10},
	};
	const struct agg_digest *d = x->d;
	lxw_worksheet *ws = sheet(x, "Daily");
	lxw_chart_series *s;
	lxw_chart_fill green = {0x70AD47, 0, 0}, red = {0xC00000, 0, 0};
	lxw_chart *ch;
	lxw_row_t r = 1;
	size_t i;

	if (!ws)
		return;
	header(x, ws, 0, cols, 5, 1);
	for (i = 0; i < d->n_days; i++, r++) {
		const struct agg_day *p = &d->days[i];

		num(x, ws, r, 0, excel_time(p->day), x->day);
		num(x, ws, r, 1, (double)p->reports, x->count);
		num(x, ws, r, 2, (double)p->successful, x->count);
		num(x, ws, r, 3, (double)p->failed, x->count);
		num(x, ws, r, 4, frac(p->successful, p->failed), x->pct);
	}
	finish_table(x, ws, "Daily", 0, r - 1, cols, 5, 1);
	if (!d->n_days)
		return;
	ch = workbook_add_chart(x->wb, LXW_CHART_COLUMN_STACKED);
	if (!ch) {
		check(x, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart");
		return;
	}
	chart_title_set_name(ch, "Sessions per day (UTC)");
	s = chart_add_series(ch, NULL, NULL);
	chart_series_set_name(s, "Successful sessions");
	chart_series_set_categories(s, "Daily", 1, 0, r - 1, 0);
	chart_series_set_values(s, "Daily", 1, 2, r - 1, 2);
	chart_series_set_fill(s, &green);
	s = chart_add_series(ch, NULL, NULL);
	chart_series_set_name(s, "Failed sessions");
	chart_series_set_categories(s, "Daily", 1, 0, r - 1, 0);
	chart_series_set_values(s, "Daily", 1, 3, r - 1, 3);
	chart_series_set_fill(s, &red);
	chart_axis_set_num_format(chart_axis_get(ch, LXW_CHART_AXIS_TYPE_X),
				  "yyyy-mm-dd");
	chart_axis_set_num_format(chart_axis_get(ch, LXW_CHART_AXIS_TYPE_Y),
				  "#,##0");
	chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
	check(x, worksheet_insert_chart(ws, 1, 6, ch), "chart");
}

static const struct col detail_cols[] = {
	{"Report ID", 34}, {"Organization", 26}, {"Start (UTC)", 19},
	{"End (UTC)", 19}, {"Policy domain", 24}, {"Policy type", 12},
	{"Sending IP", 22}, {"Receiving MX host", 26}, {"Receiving MX HELO", 22},
	{"Receiving IP", 22}, {"Result type", 26}, {"Failed sessions", 10},
	{"Reason code", 22}, {"Additional information", 40},
};
#define DETAIL_COLS (sizeof(detail_cols) / sizeof(detail_cols[0]))

static int
on_detail(const struct store_detail_row *p, void *ctx)
{
	struct xlsx *x = ctx;
	lxw_worksheet *ws = x->ws;
	lxw_row_t r;

	if (x->row >= XLSX_MAX_ROW) {
		x->dropped++;
		return 0;
	}
	r = x->row++;
	str(x, ws, r, 0, p->report_id, NULL);
	str(x, ws, r, 1, p->org, NULL);
	num(x, ws, r, 2, excel_time(p->start), x->time);
	num(x, ws, r, 3, excel_time(p->end), x->time);
	str(x, ws, r, 4, p->domain, NULL);
	str(x, ws, r, 5, p->policy_type, NULL);
	str(x, ws, r, 6, p->sending_ip, NULL);
	str(x, ws, r, 7, p->receiving_mx, NULL);
	str(x, ws, r, 8, p->receiving_helo, NULL);
	str(x, ws, r, 9, p->receiving_ip, NULL);
	str(x, ws, r, 10, p->result_type, NULL);
	num(x, ws, r, 11, (double)p->count, x->count);
	str(x, ws, r, 12, p->reason_code, NULL);
	str(x, ws, r, 13, p->additional_info, NULL);
	return x->first != LXW_NO_ERROR;
}

static int
details(struct xlsx *x, struct mxd_err *err)
{
	lxw_worksheet *ws = sheet(x, "Failure details");
	char n[32], note[128];

	if (!ws)
		return 0;
	header(x, ws, 0, detail_cols, DETAIL_COLS, 1);
	x->ws = ws;
	x->row = 1;
	if (agg_digest_details(x->d, on_detail, x, err) < 0)
		return -1;
	if (x->dropped) {
		/* the last row says what Excel's limit left out */
		snprintf(note, sizeof(note), "%s more failure details: see "
			 "--format csv --by detail", str_thousands(x->dropped, n));
		x->row = XLSX_MAX_ROW;
		str(x, ws, x->row++, 0, note, x->bold);
	}
	finish_table(x, ws, "FailureDetails", 0, x->row - 1, detail_cols,
		     DETAIL_COLS, 1);
	return 0;
}

static void
quarantine(struct xlsx *x)
{
	static const struct col cols[] = {
		{"ID", 6}, {"Quarantined (UTC)", 19}, {"Source", 50},
		{"Part", 24}, {"Size (bytes)", 12}, {"Reason", 60},
	};
	const struct agg_digest *d = x->d;
	lxw_worksheet *ws = sheet(x, "Quarantine");
	lxw_row_t r = 1;
	size_t i;

	if (!ws)
		return;
	header(x, ws, 0, cols, 6, 1);
	for (i = 0; i < d->n_quarantine; i++, r++) {
		const struct agg_qitem *q = &d->quarantine[i];

		num(x, ws, r, 0, (double)q->id, NULL);
		num(x, ws, r, 1, excel_time(q->created), x->time);
		str(x, ws, r, 2, q->source, NULL);
		str(x, ws, r, 3, q->name, NULL);
		num(x, ws, r, 4, (double)q->size, x->count);
		str(x, ws, r, 5, q->reason, NULL);
	}
	finish_table(x, ws, "Quarantine", 0, r - 1, cols, 6, 1);
}

int
report_xlsx_write(const struct agg_digest *d, const struct report_opts *o,
		  const char *path, struct mxd_err *err)
{
	lxw_workbook_options wo;
	uint64_t limit = o->xlsx_stream_rows ? o->xlsx_stream_rows
					     : STREAM_ROWS_DEFAULT, rows;
	struct xlsx x;
	lxw_error e;
	int rc = 0;

	if (agg_digest_details_count(d, &rows, err) < 0)
		return -1;
	memset(&x, 0, sizeof(x));
	x.d = d;
	x.o = o;
	x.stream = rows > limit;
	buf_init(&x.tmp, BUF_NOCAP);
	memset(&wo, 0, sizeof(wo));
	wo.constant_memory = x.stream ? LXW_TRUE : LXW_FALSE;
	x.wb = workbook_new_opt(path, &wo);
	if (!x.wb) {
		buf_release(&x.tmp);
		return mxd_err_set(err, MXD_E_IO, "\"%s\": cannot create the workbook",
				   path);
	}
	{
		/* the library's struct has char *, it copies the strings */
		char title[] = "TLS-RPT digest", author[] = "mxdigest";
		lxw_doc_properties props;

		memset(&props, 0, sizeof(props));
		props.title = title;
		props.author = author;
		workbook_set_properties(x.wb, &props);
	}
	formats(&x);
	summary(&x);
	by_mx(&x);
	by_org(&x);
	by_result(&x);
	by_ip(&x);
	by_domain(&x);
	daily(&x);
	if (details(&x, err) < 0)
		rc = -1;
	quarantine(&x);
	/* workbook_close() writes the file; it also frees the workbook */
	e = workbook_close(x.wb);
	buf_release(&x.tmp);
	if (rc < 0)
		return -1;
	if (x.first != LXW_NO_ERROR)
		return mxd_err_set(err, MXD_E_INTERNAL, "\"%s\": spreadsheet (%s): %s",
				   path, x.where ? x.where : "?",
				   lxw_strerror(x.first));
	if (e != LXW_NO_ERROR)
		return mxd_err_set(err, MXD_E_IO, "\"%s\": cannot write the workbook: %s",
				   path, lxw_strerror(e));
	return 0;
}

/* Copies a file's bytes to out. */
static int
copy_file(const char *path, FILE *out, struct mxd_err *err)
{
	FILE *in = fopen(path, "rb");
	char buf[65536];
	size_t n;

	if (!in)
		return mxd_err_set(err, MXD_E_IO, "\"%s\": %s", path, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	if (ferror(in) || ferror(out)) {
		fclose(in);
		return mxd_err_set(err, MXD_E_IO, "cannot write the workbook");
	}
	fclose(in);
	return 0;
}

int
report_render_xlsx(const struct agg_digest *d, const struct report_opts *o,
		   FILE *out, struct mxd_err *err)
{
	char *path = report_temp_file(".xlsx", err);
	int rc;

	if (!path)
		return -1;
	rc = report_xlsx_write(d, o, path, err);
	if (rc == 0)
		rc = copy_file(path, out, err);
	unlink(path);
	free(path);
	return rc;
}
