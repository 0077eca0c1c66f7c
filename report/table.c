/*
 * table.c — aligned text tables: columns sized by display width (UTF-8,
 * wide characters count two), long cells cut with an ellipsis.
 */
#include <stdlib.h>
#include <string.h>

#include "report/report_p.h"
#include "util/buf.h"
#include "util/utf8.h"
#include "util/xalloc.h"

void
table_init(struct table *t, size_t ncols, const char **head,
	   enum col_align *align, size_t *maxw)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->head = head;
	t->align = align;
	t->maxw = maxw;
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
table_add(struct table *t, const char **cells)
{
	size_t i;

	t->cells = xgrow(t->cells, &t->cap, (t->nrows + 1) * t->ncols,
			 sizeof(char *));
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = clean_cell(cells[i]);
	t->nrows++;
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
	 size_t width, int last)
{
	size_t w = utf8_width(s), pad, n;
	size_t cap = t->maxw && t->maxw[col] ? t->maxw[col] : (size_t)-1;

	if (w > cap) {
		n = utf8_fit(s, cap - 1, &w);
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
	if (!last)
		for (pad = w; pad < width + 2; pad++)
			fputc(' ', out);
}

void
table_print(const struct table *t, FILE *out, int indent, int color)
{
	size_t *w = xcalloc(t->ncols, sizeof(size_t)), r, c;

	for (c = 0; c < t->ncols; c++)
		w[c] = cell_width(t, c, t->head[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t cw = cell_width(t, c, t->cells[r * t->ncols + c]);

			if (cw > w[c])
				w[c] = cw;
		}
	fprintf(out, "%*s", indent, "");
	if (color)
		fputs("\033[1m", out);
	for (c = 0; c < t->ncols; c++)
		put_cell(t, out, c, t->head[c], w[c], c + 1 == t->ncols);
	if (color)
		fputs("\033[0m", out);
	fputc('\n', out);
	for (r = 0; r < t->nrows; r++) {
		fprintf(out, "%*s", indent, "");
		for (c = 0; c < t->ncols; c++)
			put_cell(t, out, c, t->cells[r * t->ncols + c], w[c],
				 c + 1 == t->ncols);
		fputc('\n', out);
	}
	free(w);
}

void
table_release(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
