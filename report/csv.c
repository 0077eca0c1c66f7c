/*
 * csv.c — one table of the view as CSV (RFC 4180): a header line of the
 * columns' keys, CRLF line ends, a field quoted when it holds a comma, a
 * quote, CR or LF, and quotes doubled inside.  UTF-8, no byte-order mark.
 * The columns are the view's for CSV and the workbook, in the same order.
 *
 * Formula injection: a spreadsheet opening the file would run a cell that
 * starts with = + - @ (or TAB or CR, which some strip first) as a formula,
 * and report fields come from anyone on the internet.  Such a text cell
 * gets a leading apostrophe ("'=HYPERLINK(...)"), which spreadsheets show
 * as text.  Numbers we compute are written bare: a negative change such as
 * "-12" or "-0.0480" is a number to every spreadsheet, not a formula.
 */
#include <stdio.h>
#include <string.h>

#include "report/report_p.h"
#include "report/view.h"

struct csv {
	FILE *f;
	const struct view_table *t;	/* whose columns */
	struct buf tmp, words;
};

static void
field(struct csv *c, const char *s)
{
	const char *p;
	int quote = 0;

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

/* A line of the table's columns for CSV: a header (cells NULL) or a row. */
static int
line(const struct view_cell *cells, void *ctx)
{
	struct csv *c = ctx;
	size_t i, n = 0;

	for (i = 0; i < c->t->ncols; i++) {
		if (!(c->t->cols[i]->flags & VIEW_SHEET))
			continue;
		if (n++)
			fputc(',', c->f);
		if (!cells)
			field(c, c->t->cols[i]->key);
		else if (view_numeric(c->t->cols[i]))
			fputs(view_cell_value(c->t->cols[i], &cells[i], &c->words),
			      c->f);
		else
			field(c, view_cell_value(c->t->cols[i], &cells[i],
						 &c->words));
	}
	fputs("\r\n", c->f);
	return ferror(c->f) ? 1 : 0;
}

int
report_write_csv(const struct view *v, const struct report_opts *o,
		 FILE *out, struct mxd_err *err)
{
	static const enum view_id by[] = {
		[REPORT_CSV_MX] = VIEW_T_MX, [REPORT_CSV_ORG] = VIEW_T_ORG,
		[REPORT_CSV_RESULT] = VIEW_T_RESULT,
		[REPORT_CSV_DOMAIN] = VIEW_T_DOMAIN,
		[REPORT_CSV_TYPE] = VIEW_T_PTYPE, [REPORT_CSV_IP] = VIEW_T_IP,
		[REPORT_CSV_DAY] = VIEW_T_DAILY,
		[REPORT_CSV_DETAIL] = VIEW_T_DETAILS,
		[REPORT_CSV_CONFIG] = VIEW_T_CONFIG_DATA,
	};
	struct csv c;
	size_t i;
	int rc = 0;

	c.f = out;
	c.t = &v->tables[by[o->csv_by]];
	buf_init(&c.tmp, BUF_NOCAP);
	buf_init(&c.words, BUF_NOCAP);
	line(NULL, &c);
	if (o->csv_by == REPORT_CSV_DETAIL)
		rc = view_details(v, line, &c, err);
	for (i = 0; i < c.t->nrows && !ferror(out); i++)
		if (!c.t->rows[i].part)
			line(c.t->rows[i].cells, &c);
	buf_release(&c.tmp);
	buf_release(&c.words);
	if (rc < 0)
		return -1;
	if (ferror(out))
		return mxd_err_set(err, MXD_E_IO, "cannot write the CSV digest");
	return 0;
}
