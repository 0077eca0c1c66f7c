/*
 * table.c — aligned text tables: columns sized by display width (UTF-8,
 * wide characters count two), long cells cut with an ellipsis, and the
 * text columns narrowed when a table would be wider than its limit.
 */
#include <stdlib.h>
#include <string.h>

#include "report/report_p.h"
#include "util/buf.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define MIN_TEXT_COLS 8

static const char *const tint_on[] = {
	[TINT_NONE] = "", [TINT_RED] = "\033[31m", [TINT_GREEN] = "\033[32m",
	[TINT_BOLD] = "\033[1m",
};

void
table_init(struct table *t, size_t ncols, const char **head,
	   enum col_align *align, size_t *maxw)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->head = head;
	t->align = align;
	t->maxw = maxw;
	t->limit = REPORT_TEXT_WIDTH;
}

/* A cleaned copy (no control characters, valid UTF-8). */
static char *
clean_cell(const char *s)
{
	struct buf b;

	buf_init(&b, BUF_NOCAP);
	utf8_clean(&b, s ? s : "", strlen(s ? s : ""));
	return (char *)buf_detach(&b, NULL);
}

void
table_cell(struct table *t, const char *s, enum tint tint)
{
	t->cells = xgrow(t->cells, &t->cap, t->ncells + 1, sizeof(char *));
	t->tints = xgrow(t->tints, &t->tcap, t->ncells + 1, sizeof(*t->tints));
	t->cells[t->ncells] = clean_cell(s);
	t->tints[t->ncells++] = tint;
}

static size_t
cell_width(const struct table *t, size_t col, const char *s)
{
	size_t w = utf8_width(s);

	if (t->maxw && t->maxw[col] && w > t->maxw[col])
		w = t->maxw[col];
	return w;
}

static void
put_cell(const struct table *t, struct buf *line, size_t col, const char *s,
	 size_t width, int last, enum tint tint, int color)
{
	size_t w = utf8_width(s), pad, n;

	if (color && tint)
		buf_adds(line, tint_on[tint]);
	if (w > width) {
		n = utf8_fit(s, width - 1, &w);
		buf_add(line, s, n);
		buf_adds(line, "\xe2\x80\xa6");	/* … */
		w++;
	} else if (t->align[col] == COL_RIGHT) {
		for (pad = w; pad < width; pad++)
			buf_addc(line, ' ');
		buf_adds(line, s);
		w = width;
	} else {
		buf_adds(line, s);
	}
	if (color && tint)
		buf_adds(line, "\033[0m");
	if (!last)
		for (pad = w; pad < width + 2; pad++)
			buf_addc(line, ' ');
}

/* Narrows the widest text column until the table fits its limit. */
static void
fit(const struct table *t, size_t *w, int indent)
{
	size_t total = (size_t)indent, c;

	for (c = 0; c < t->ncols; c++)
		total += w[c] + (c ? 2 : 0);
	while (t->limit && total > t->limit) {
		size_t widest = t->ncols, cut;

		for (c = 0; c < t->ncols; c++)
			if (t->align[c] == COL_LEFT && w[c] > MIN_TEXT_COLS &&
			    (widest == t->ncols || w[c] > w[widest]))
				widest = c;
		if (widest == t->ncols)
			return;		/* numbers alone are too wide: let it be */
		cut = total - t->limit;
		/* never below the minimum: the excess can be wider than the
		 * column (counts of 22 digits in every other column) */
		if (cut > w[widest] - MIN_TEXT_COLS)
			cut = w[widest] - MIN_TEXT_COLS;
		w[widest] -= cut;
		total -= cut;
	}
}

/* Writes the header or a row without its trailing blanks (right-aligned
 * empty cells would leave some); tints NULL: the header's bold. */
static void
put_line(const struct table *t, FILE *out, struct buf *line, const size_t *w,
	 int indent, const char *const *cells, const enum tint *tints,
	 int color)
{
	size_t c;

	buf_reset(line);
	buf_printf(line, "%*s", indent, "");
	for (c = 0; c < t->ncols; c++)
		put_cell(t, line, c, cells[c], w[c], c + 1 == t->ncols,
			 tints ? tints[c] : TINT_BOLD, color);
	while (line->len && line->data[line->len - 1] == ' ')
		line->len--;
	fwrite(line->data, 1, line->len, out);
	fputc('\n', out);
}

void
table_print(const struct table *t, FILE *out, int indent, int color)
{
	size_t *w = xcalloc(t->ncols, sizeof(size_t)), r, c;
	size_t nrows = t->ncells / t->ncols;
	struct buf line;

	for (c = 0; c < t->ncols && !t->no_head; c++)
		w[c] = cell_width(t, c, t->head[c]);
	for (r = 0; r < nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t cw = cell_width(t, c, t->cells[r * t->ncols + c]);

			if (cw > w[c])
				w[c] = cw;
		}
	fit(t, w, indent);
	buf_init(&line, BUF_NOCAP);
	if (!t->no_head)
		put_line(t, out, &line, w, indent, t->head, NULL, color);
	for (r = 0; r < nrows; r++)
		put_line(t, out, &line, w, indent,
			 (const char *const *)&t->cells[r * t->ncols],
			 &t->tints[r * t->ncols], color);
	buf_release(&line);
	free(w);
}

void
table_release(struct table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->tints);
	memset(t, 0, sizeof(*t));
}
