/*
 * xlsx.c — the view as an XLSX workbook (libxlsxwriter 1.1.4; the only
 * user of that library).
 *
 * Sheets: Summary (the totals of both windows, the worst MX hosts, what is
 * new, what went silent, alerts), By MX host, By organization, By result
 * type, By sending IP, By policy domain (and per policy and per policy type,
 * as sent), Daily (with a chart), Failure details, Quarantine.  A sheet
 * holds every row of its view table (no --top) in the columns of CSV.
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
 * view_details() (agg_digest_details() underneath).
 *
 * Traps of libxlsxwriter 1.1.4 handled here (each was tried): strings are not
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
#include "report/view.h"
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
	const struct view *v;
	int stream;		/* constant-memory mode: no tables */
	lxw_error first;	/* first library error */
	const char *where;	/* the sheet it happened on */
	struct buf tmp, cell;
	lxw_format *head, *title, *count, *pct, *day, *time, *text, *bold,
		   *points, *delta;
	/* details */
	lxw_worksheet *ws;
	lxw_row_t row;
	uint64_t dropped;
};

/* The sheets of view tables, in order; a NULL name puts the table under
 * the one before, on the same sheet. */
static const struct sheet {
	const char *name;
	enum view_id id;
	const char *table;	/* the Excel table's name */
} sheets[] = {
	{"By MX host", VIEW_T_MX, "MXHosts"},
	{"By organization", VIEW_T_ORG, "Organizations"},
	{"By result type", VIEW_T_RESULT, "ResultTypes"},
	{"By sending IP", VIEW_T_IP, "SendingIPs"},
	{"By policy domain", VIEW_T_DOMAIN, "PolicyDomains"},
	{NULL, VIEW_T_POLICY, "Policies"},
	{NULL, VIEW_T_PTYPE, "PolicyTypes"},
	{"Daily", VIEW_T_DAILY, "Daily"},
	{"Failure details", VIEW_T_DETAILS, "FailureDetails"},
	{"Reports", VIEW_T_REPORTS, "Reports"},
	{"Configuration", VIEW_T_CONFIG_DATA, "Configuration"},
	{"Quarantine", VIEW_T_QUARANTINE, "Quarantine"},
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

static void
cell(struct xlsx *x, lxw_worksheet *ws, lxw_row_t r, lxw_col_t c,
     const struct view_col *col, const struct view_cell *v)
{
	switch (col->type) {
	case VIEW_TEXT:
		str(x, ws, r, c, v->v.s, NULL);
		break;
	case VIEW_ADDRESS:
	case VIEW_NAMES:
	case VIEW_FLAG:
		str(x, ws, r, c, view_cell_text(col, v, &x->cell), NULL);
		break;
	case VIEW_COUNT:
		num(x, ws, r, c, (double)v->v.n,
		    col->flags & VIEW_PLAIN ? NULL : x->count);
		break;
	case VIEW_RATE:
		num(x, ws, r, c, v->v.r / 100.0, x->pct);
		break;
	case VIEW_CHANGE:
		/* nothing to compare with: an empty cell */
		if (!v->null)
			num(x, ws, r, c, v->v.r,
			    col->flags & VIEW_POINTS ? x->points : x->delta);
		break;
	case VIEW_DAY:
		num(x, ws, r, c, excel_time(v->v.t), x->day);
		break;
	case VIEW_TIME:
		num(x, ws, r, c, excel_time(v->v.t), x->time);
		break;
	case VIEW_ROWS:
		break;
	}
}

/* The workbook's row of a view row: its columns for CSV and the workbook. */
static void
row(struct xlsx *x, lxw_worksheet *ws, lxw_row_t r, const struct view_table *t,
    const struct view_cell *cells)
{
	size_t i;
	lxw_col_t c = 0;

	for (i = 0; i < t->ncols; i++)
		if (t->cols[i]->flags & VIEW_SHEET)
			cell(x, ws, r, c++, t->cols[i], &cells[i]);
}

static size_t
sheet_cols(const struct view_table *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->ncols; i++)
		n += (t->cols[i]->flags & VIEW_SHEET) != 0;
	return n;
}

/* The workbook column of the column with `key`. */
static lxw_col_t
sheet_col(const struct view_table *t, const char *key)
{
	size_t i;
	lxw_col_t c = 0;

	for (i = 0; i < t->ncols; i++) {
		if (!(t->cols[i]->flags & VIEW_SHEET))
			continue;
		if (strcmp(t->cols[i]->key, key) == 0)
			break;
		c++;
	}
	return c;
}

static double
width(const struct view_col *c)
{
	if (c->width)
		return c->width;
	switch (c->type) {
	case VIEW_DAY: return 12;
	case VIEW_TIME: return 19;
	case VIEW_RATE:
	case VIEW_CHANGE: return 10;
	case VIEW_COUNT: return 12;
	default: return 30;
	}
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
 * A header row at `r`; the first table of a sheet (`main`) sets the column
 * widths and has its header frozen.
 */
static void
header(struct xlsx *x, lxw_worksheet *ws, lxw_row_t r,
       const struct view_table *t, int main)
{
	size_t i;
	lxw_col_t c = 0;

	for (i = 0; i < t->ncols; i++) {
		if (!(t->cols[i]->flags & VIEW_SHEET))
			continue;
		str(x, ws, r, c, t->cols[i]->name, x->head);
		if (main)
			check(x, worksheet_set_column(ws, c, c, width(t->cols[i]),
						      NULL), "column");
		c++;
	}
	if (main) {
		worksheet_freeze_panes(ws, r + 1, 0);
		/* printed (or converted to PDF): landscape, one page wide */
		worksheet_set_landscape(ws);
		worksheet_fit_to_pages(ws, 1, 0);
		worksheet_repeat_rows(ws, r, r);
	}
}

/* After the rows: the block becomes an Excel table or, in constant-memory
 * mode, gets an autofilter; `filter` for the first table of a sheet. */
static void
finish_table(struct xlsx *x, lxw_worksheet *ws, const char *name, lxw_row_t top,
	     lxw_row_t last, const struct view_table *t, int filter)
{
	size_t n = sheet_cols(t), i, k = 0;
	lxw_table_column *tc, **ptrs;
	lxw_table_options opt;

	if (last <= top || x->stream) {
		if (filter)
			check(x, worksheet_autofilter(ws, top, 0, last,
						      (lxw_col_t)(n - 1)), name);
		return;
	}
	tc = xcalloc(n, sizeof(*tc));
	ptrs = xcalloc(n + 1, sizeof(*ptrs));
	for (i = 0; i < t->ncols; i++) {
		if (!(t->cols[i]->flags & VIEW_SHEET))
			continue;
		tc[k].header = (char *)(uintptr_t)t->cols[i]->name;
		tc[k].header_format = x->head;
		ptrs[k] = &tc[k];
		k++;
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

/* A header and every row of t (not the breakdowns, which are for
 * people) from row `top`; returns the row after. */
static lxw_row_t
block(struct xlsx *x, lxw_worksheet *ws, lxw_row_t top,
      const struct view_table *t, const char *name, int main)
{
	lxw_row_t r = top + 1;
	size_t i;

	header(x, ws, top, t, main);
	for (i = 0; i < t->nrows; i++)
		if (!t->rows[i].part)
			row(x, ws, r++, t, t->rows[i].cells);
	if (name)
		finish_table(x, ws, name, top, r - 1, t, main);
	return r;
}

static lxw_format *
number_format(struct xlsx *x, const char *spec)
{
	lxw_format *f = workbook_add_format(x->wb);

	format_set_num_format(f, spec);
	return f;
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
	x->text = workbook_add_format(x->wb);
	format_set_align(x->text, LXW_ALIGN_LEFT);
	x->count = number_format(x, "#,##0");
	x->pct = number_format(x, "0.00%");
	x->points = number_format(x, "+0.00;-0.00;0.00");
	x->delta = number_format(x, "+#,##0;-#,##0;0");
	x->day = number_format(x, "yyyy-mm-dd");
	x->time = number_format(x, "yyyy-mm-dd hh:mm:ss");
}

/* ---- Summary ----------------------------------------------------------- */

/* A one-row table as label and value rows. */
static lxw_row_t
pairs(struct xlsx *x, lxw_worksheet *ws, lxw_row_t r, enum view_id id)
{
	const struct view_table *t = &x->v->tables[id];
	size_t i;

	for (i = 0; i < t->ncols; i++, r++) {
		str(x, ws, r, 0, t->cols[i]->name, NULL);
		cell(x, ws, r, 1, t->cols[i], &t->rows[0].cells[i]);
	}
	return r;
}

static lxw_row_t
section(struct xlsx *x, lxw_worksheet *ws, lxw_row_t r, const char *title)
{
	str(x, ws, r + 1, 0, title, x->bold);
	return r + 2;
}

static void
summary(struct xlsx *x)
{
	static const enum view_id lists[] = {VIEW_T_WORST, VIEW_T_NEW,
		VIEW_T_NEW_ORGS, VIEW_T_SILENT};
	const struct view *v = x->v;
	lxw_worksheet *ws = sheet(x, "Summary");
	lxw_row_t r = 0;
	size_t i;

	if (!ws)
		return;
	worksheet_set_column(ws, 0, 0, 34, NULL);
	worksheet_set_column(ws, 1, 1, 40, x->text);
	worksheet_set_column(ws, 2, 2, 14, NULL);
	str(x, ws, r++, 0, v->title, x->title);
	str(x, ws, r++, 0, v->window, NULL);
	r = pairs(x, ws, r + 1, VIEW_T_WINDOW);
	str(x, ws, r, 0, "Generated (UTC)", NULL);
	num(x, ws, r++, 1, excel_time(v->generated), x->time);
	r = pairs(x, ws, r, VIEW_T_FILTERS);
	r = section(x, ws, r, v->tables[VIEW_T_TOTALS].title);
	r = pairs(x, ws, r, VIEW_T_TOTALS);
	r = section(x, ws, r, v->tables[VIEW_T_PREV_TOTALS].title);
	r = pairs(x, ws, r, VIEW_T_PREV_WINDOW);
	r = pairs(x, ws, r, VIEW_T_PREV_TOTALS);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		const struct view_table *t = &v->tables[lists[i]];

		if (!t->nrows && !t->empty)
			continue;
		r = section(x, ws, r, t->title);
		if (t->nrows)
			r = block(x, ws, r, t, NULL, 0);
		else
			str(x, ws, r++, 0, t->empty, NULL);
	}
	if (v->nalerts)
		r = section(x, ws, r, "Alerts");
	for (i = 0; i < v->nalerts; i++, r++) {
		str(x, ws, r, 0, "Alert", NULL);
		str(x, ws, r, 1, v->alerts[i], NULL);
	}
	str(x, ws, ++r, 0, "Note", NULL);
	str(x, ws, r, 1, v->caveat, NULL);
}

/* ---- the data sheets --------------------------------------------------- */

static void
chart(struct xlsx *x, lxw_worksheet *ws, const struct view_table *t,
      lxw_row_t last)
{
	lxw_chart_fill green = {0x70AD47, 0, 0}, red = {0xC00000, 0, 0};
	lxw_col_t day = sheet_col(t, "day");
	lxw_col_t ok = sheet_col(t, "successful_sessions");
	lxw_col_t bad = sheet_col(t, "failed_sessions");
	lxw_chart_series *s;
	lxw_chart *ch;

	if (!t->nrows)
		return;
	ch = workbook_add_chart(x->wb, LXW_CHART_COLUMN_STACKED);
	if (!ch) {
		check(x, LXW_ERROR_MEMORY_MALLOC_FAILED, "chart");
		return;
	}
	chart_title_set_name(ch, "Sessions per day (UTC)");
	s = chart_add_series(ch, NULL, NULL);
	chart_series_set_name(s, "Successful sessions");
	chart_series_set_categories(s, "Daily", 1, day, last, day);
	chart_series_set_values(s, "Daily", 1, ok, last, ok);
	chart_series_set_fill(s, &green);
	s = chart_add_series(ch, NULL, NULL);
	chart_series_set_name(s, "Failed sessions");
	chart_series_set_categories(s, "Daily", 1, day, last, day);
	chart_series_set_values(s, "Daily", 1, bad, last, bad);
	chart_series_set_fill(s, &red);
	chart_axis_set_num_format(chart_axis_get(ch, LXW_CHART_AXIS_TYPE_X),
				  "yyyy-mm-dd");
	chart_axis_set_num_format(chart_axis_get(ch, LXW_CHART_AXIS_TYPE_Y),
				  "#,##0");
	chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
	check(x, worksheet_insert_chart(ws, 1, (lxw_col_t)(sheet_cols(t) + 1), ch),
	      "chart");
}

static int
on_detail(const struct view_cell *cells, void *ctx)
{
	struct xlsx *x = ctx;

	if (x->row >= XLSX_MAX_ROW) {
		x->dropped++;
		return 0;
	}
	row(x, x->ws, x->row++, &x->v->tables[VIEW_T_DETAILS], cells);
	return x->first != LXW_NO_ERROR;
}

static int
details(struct xlsx *x, lxw_worksheet *ws, const struct sheet *s,
	struct mxd_err *err)
{
	const struct view_table *t = &x->v->tables[VIEW_T_DETAILS];
	char n[32], note[128];

	header(x, ws, 0, t, 1);
	x->ws = ws;
	x->row = 1;
	if (view_details(x->v, on_detail, x, err) < 0)
		return -1;
	if (x->dropped) {
		/* the last row says what Excel's limit left out */
		snprintf(note, sizeof(note), "%s more failure details: see "
			 "--format csv --by detail", str_thousands(x->dropped, n));
		x->row = XLSX_MAX_ROW;
		str(x, ws, x->row++, 0, note, x->bold);
	}
	finish_table(x, ws, s->table, 0, x->row - 1, t, 1);
	return 0;
}

static int
data_sheets(struct xlsx *x, struct mxd_err *err)
{
	lxw_worksheet *ws = NULL;
	lxw_row_t r = 0;
	size_t i;

	for (i = 0; i < sizeof(sheets) / sizeof(sheets[0]); i++) {
		const struct sheet *s = &sheets[i];
		const struct view_table *t = &x->v->tables[s->id];

		if (s->name) {
			if (!(ws = sheet(x, s->name)))
				continue;
			r = 0;
		} else if (ws) {
			/* another table of the sheet, under its title */
			str(x, ws, ++r, 0, t->title, x->bold);
			r++;
		} else {
			continue;
		}
		if (s->id == VIEW_T_DETAILS) {
			if (details(x, ws, s, err) < 0)
				return -1;
			continue;
		}
		r = block(x, ws, r, t, s->table, s->name != NULL);
		if (s->id == VIEW_T_DAILY)
			chart(x, ws, t, r - 1);
	}
	return 0;
}

int
report_xlsx_file(const struct view *v, const struct report_opts *o,
		 const char *path, struct mxd_err *err)
{
	lxw_workbook_options wo;
	uint64_t limit = o->xlsx_stream_rows ? o->xlsx_stream_rows
					     : STREAM_ROWS_DEFAULT, rows;
	struct xlsx x;
	lxw_error e;
	int rc;

	if (view_details_count(v, &rows, err) < 0)
		return -1;
	memset(&x, 0, sizeof(x));
	x.v = v;
	x.stream = rows > limit;
	buf_init(&x.tmp, BUF_NOCAP);
	buf_init(&x.cell, BUF_NOCAP);
	memset(&wo, 0, sizeof(wo));
	wo.constant_memory = x.stream ? LXW_TRUE : LXW_FALSE;
	x.wb = workbook_new_opt(path, &wo);
	if (!x.wb) {
		buf_release(&x.tmp);
		buf_release(&x.cell);
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
	rc = data_sheets(&x, err);
	/* workbook_close() writes the file; it also frees the workbook */
	e = workbook_close(x.wb);
	buf_release(&x.tmp);
	buf_release(&x.cell);
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
report_write_xlsx(const struct view *v, const struct report_opts *o,
		  FILE *out, struct mxd_err *err)
{
	char *path = report_temp_file(".xlsx", err);
	int rc;

	if (!path)
		return -1;
	rc = report_xlsx_file(v, o, path, err);
	if (rc == 0)
		rc = copy_file(path, out, err);
	unlink(path);
	free(path);
	return rc;
}
