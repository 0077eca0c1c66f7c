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
table_add_tinted(struct table *t, const char **cells, const enum tint *tints)
{
	size_t i, base = t->nrows * t->ncols;

	t->cells = xgrow(t->cells, &t->cap, base + t->ncols, sizeof(char *));
	t->tints = xgrow(t->tints, &t->tcap, base + t->ncols, sizeof(*t->tints));
	for (i = 0; i < t->ncols; i++) {
		t->cells[base + i] = clean_cell(cells[i]);
		t->tints[base + i] = tints ? tints[i] : TINT_NONE;
	}
	t->nrows++;
}

void
table_add(struct table *t, const char **cells)
{
	table_add_tinted(t, cells, NULL);
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
put_cell(const struct table *t, FILE *out, size_t col, const char *s,
	 size_t width, int last, enum tint tint, int color)
{
	size_t w = utf8_width(s), pad, n;

	if (color && tint)
		fputs(tint_on[tint], out);
	if (w > width) {
		n = utf8_fit(s, width - 1, &w);
		fwrite(s, 1, n, out);
		fputs("\xe2\x80\xa6", out);	/* … */
		w++;
	} else if (t->align[col] == COL_RIGHT) {
		for (pad = w; pad < width; pad++)
			fputc(' ', out);
		fputs(s, out);
		w = width;
	} else {
		fputs(s, out);
	}
	if (color && tint)
		fputs("\033[0m", out);
	if (!last)
		for (pad = w; pad < width + 2; pad++)
			fputc(' ', out);
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

/* Writes one line without its trailing blanks (right-aligned empty cells
 * would leave some). */
static void
flush_line(FILE *out, struct buf *line)
{
	while (line->len && line->data[line->len - 1] == ' ')
		line->len--;
	fwrite(line->data, 1, line->len, out);
	fputc('\n', out);
	buf_reset(line);
}

void
table_print(const struct table *t, FILE *out, int indent, int color)
{
	size_t *w = xcalloc(t->ncols, sizeof(size_t)), r, c;
	struct buf line;
	char *mem = NULL;
	size_t memlen = 0;
	FILE *f;

	for (c = 0; c < t->ncols && !t->no_head; c++)
		w[c] = cell_width(t, c, t->head[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t cw = cell_width(t, c, t->cells[r * t->ncols + c]);

			if (cw > w[c])
				w[c] = cw;
		}
	fit(t, w, indent);
	buf_init(&line, BUF_NOCAP);
	if (!t->no_head) {
		f = open_memstream(&mem, &memlen);
		fprintf(f, "%*s", indent, "");
		for (c = 0; c < t->ncols; c++)
			put_cell(t, f, c, t->head[c], w[c], c + 1 == t->ncols,
				 TINT_BOLD, color);
		fclose(f);
		buf_add(&line, mem, memlen);
		free(mem);
		flush_line(out, &line);
	}
	for (r = 0; r < t->nrows; r++) {
		f = open_memstream(&mem, &memlen);
		fprintf(f, "%*s", indent, "");
		for (c = 0; c < t->ncols; c++)
			put_cell(t, f, c, t->cells[r * t->ncols + c], w[c],
				 c + 1 == t->ncols, t->tints[r * t->ncols + c],
				 color);
		fclose(f);
		buf_add(&line, mem, memlen);
		free(mem);
		flush_line(out, &line);
	}
	buf_release(&line);
	free(w);
}

void
table_release(struct table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->tints);
	memset(t, 0, sizeof(*t));
}
