/*
 * text.c — the digest as text for a terminal or a cron mail: the view's
 * summary in one screen (window, volume, failure rate and its change, the
 * worst MX hosts, what is new, what went silent, the quarantine, alerts),
 * then its tables.  Every line fits 80 columns (tables narrow their text
 * columns, summary lines are cut); the order is the view's, so that golden
 * files can compare it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_p.h"
#include "report/view.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define BOLD "\033[1m"
#define RED "\033[31m"
#define GREEN "\033[32m"
#define RESET "\033[0m"

#define NOTE_WIDTH 76		/* prose under a table: lines a mail reader keeps */

struct out {
	FILE *f;
	int color;
	struct buf cell;	/* the text of one cell */
	struct buf clean;
};

static void
heading(struct out *w, const char *title)
{
	fprintf(w->f, "\n%s%s%s\n", w->color ? BOLD : "", title,
		w->color ? RESET : "");
}

/* One summary line: a label, then text cut to fit 80 columns. */
static void
line(struct out *w, const char *label, const char *text, int tone)
{
	size_t room = REPORT_TEXT_WIDTH - REPORT_LABEL_COLS, width, n;
	const char *color = tone > 0 ? RED : tone < 0 ? GREEN : NULL;

	/* names come from reports: no escape sequence reaches a terminal */
	report_clean(&w->clean, text);
	text = buf_cstr(&w->clean);
	fprintf(w->f, "  %-*s", REPORT_LABEL_COLS - 2, label);
	if (w->color && color)
		fputs(color, w->f);
	if (utf8_width(text) > room) {
		n = utf8_fit(text, room - 1, &width);
		fwrite(text, 1, n, w->f);
		fputs("\xe2\x80\xa6", w->f);
	} else {
		fputs(text, w->f);
	}
	if (w->color && color)
		fputs(RESET, w->f);
	fputc('\n', w->f);
}

/* Prints text word-wrapped to `width` columns, every line indented. */
static void
wrap(struct out *w, const char *text, int indent, size_t width)
{
	size_t room = width - (size_t)indent, col = 0, ww;
	const char *p;

	report_clean(&w->clean, text);
	p = buf_cstr(&w->clean);
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t len = sp ? (size_t)(sp - p) : strlen(p);
		char *word = xstrndup(p, len);

		ww = utf8_width(word);
		if (col && col + 1 + ww > room) {
			fputc('\n', w->f);
			col = 0;
		}
		if (!col)
			fprintf(w->f, "%*s", indent, "");
		else
			fputc(' ', w->f);
		fputs(word, w->f);
		col += (col ? 1 : 0) + ww;
		free(word);
		p += len;
		while (*p == ' ')
			p++;
	}
	if (col)
		fputc('\n', w->f);
}

/* A view table's columns for people as a text table. */
struct layout {
	struct table tb;
	const char **head;
	enum col_align *align;
	size_t *maxw;
	size_t *col;		/* the view's column of each */
};

static void
layout_init(struct layout *l, const struct view_table *t)
{
	size_t i, n = 0;

	l->head = xcalloc(t->ncols, sizeof(*l->head));
	l->align = xcalloc(t->ncols, sizeof(*l->align));
	l->maxw = xcalloc(t->ncols, sizeof(*l->maxw));
	l->col = xcalloc(t->ncols, sizeof(*l->col));
	for (i = 0; i < t->ncols; i++) {
		const struct view_col *c = t->cols[i];

		if (!(c->flags & VIEW_PEOPLE))
			continue;
		l->head[n] = c->name;
		l->align[n] = view_numeric(c) ? COL_RIGHT : COL_LEFT;
		l->maxw[n] = c->width;
		l->col[n++] = i;
	}
	table_init(&l->tb, n, l->head, l->align, l->maxw);
}

static void
layout_row(struct out *w, struct layout *l, const struct view_table *t,
	   const struct view_row *r)
{
	size_t k;

	for (k = 0; k < l->tb.ncols; k++) {
		const struct view_col *c = t->cols[l->col[k]];
		const struct view_cell *x = &r->cells[l->col[k]];
		const char *s = view_cell_text(c, x, &w->cell);

		/* a breakdown is indented under its row (a text cell's
		 * string is its own, not w->cell's) */
		if (r->part && c->type == VIEW_TEXT && !x->blank) {
			buf_printf(&w->cell, "  %s", s);
			s = buf_cstr(&w->cell);
		}
		table_cell(&l->tb, s, x->tone > 0 ? TINT_RED :
				      x->tone < 0 ? TINT_GREEN : TINT_NONE);
	}
}

static void
layout_release(struct layout *l)
{
	table_release(&l->tb);
	free(l->head);
	free(l->align);
	free(l->maxw);
	free(l->col);
}

/* The rows people see, the "others" row, with `indent` spaces. */
static void
print_rows(struct out *w, const struct view_table *t, FILE *f, int indent,
	   int no_head)
{
	struct layout l;
	size_t i;

	layout_init(&l, t);
	l.tb.no_head = no_head;
	for (i = 0; i < t->shown; i++)
		layout_row(w, &l, t, &t->rows[i]);
	if (t->others)
		layout_row(w, &l, t, t->others);
	table_print(&l.tb, f, indent, w->color);
	layout_release(&l);
}

static void
print_table(struct out *w, const struct view_table *t)
{
	size_t i;

	if (!t->people)
		return;
	heading(w, t->title);
	if (t->message)
		fprintf(w->f, "  %s\n", t->message);
	else if (t->nrows)
		print_rows(w, t, w->f, 2, 0);
	for (i = 0; i < t->nnotes; i++)
		wrap(w, t->notes[i], 2, NOTE_WIDTH);
}

/* A small table in place of a summary line's text: its first row
 * continues the label's line. */
static void
summary_table(struct out *w, const char *label, const struct view_table *t)
{
	char *tmp;
	size_t len;
	FILE *m = open_memstream(&tmp, &len);

	fprintf(w->f, "  %-*s", REPORT_LABEL_COLS - 2, label);
	print_rows(w, t, m, REPORT_LABEL_COLS, 1);
	fclose(m);
	fputs(tmp + REPORT_LABEL_COLS, w->f);
	free(tmp);
}

int
report_write_text(const struct view *v, const struct report_opts *o,
		  FILE *out, struct mxd_err *err)
{
	struct out w;
	size_t i;

	w.f = out;
	w.color = o->color;
	buf_init(&w.cell, BUF_NOCAP);
	buf_init(&w.clean, BUF_NOCAP);
	fprintf(out, "%s%s%s  %s\n", w.color ? BOLD : "", v->title,
		w.color ? RESET : "", v->window);
	if (v->only)
		wrap(&w, v->only, 0, REPORT_TEXT_WIDTH);
	fputc('\n', out);
	for (i = 0; i < v->nlines; i++) {
		const struct view_line *l = &v->lines[i];

		if (l->table)
			summary_table(&w, l->label, l->table);
		else
			line(&w, l->label, l->text, l->tone);
	}
	for (i = 0; i < VIEW_T_COUNT; i++)
		print_table(&w, &v->tables[i]);
	buf_release(&w.cell);
	buf_release(&w.clean);
	if (ferror(out))
		return mxd_err_set(err, MXD_E_IO, "cannot write the digest");
	return 0;
}
