/*
 * report_p.h — internals shared by the renderers.
 */
#ifndef MXD_REPORT_P_H
#define MXD_REPORT_P_H

#include "report/report.h"

int report_render_text(const struct agg_digest *d, const struct report_opts *o,
		       FILE *out, struct mxd_err *err);
int report_render_json(const struct agg_digest *d, const struct report_opts *o,
		       FILE *out, struct mxd_err *err);

/* "2026-11-16 to 2026-11-22 (7 days)" or ISO times for other windows. */
void report_window_label(int64_t from, int64_t to, char *out, size_t n);

/* A text table with columns aligned by display width. */
enum col_align { COL_LEFT, COL_RIGHT };

struct table {
	size_t ncols;
	const char **head;
	enum col_align *align;
	size_t *maxw;		/* column width cap (0 = none) */
	char **cells;		/* rows * ncols, owned */
	size_t nrows, cap;
};

void table_init(struct table *t, size_t ncols, const char **head,
		enum col_align *align, size_t *maxw);
void table_add(struct table *t, const char **cells);
/* Writes the table with `indent` spaces before each line. */
void table_print(const struct table *t, FILE *out, int indent, int color);
void table_release(struct table *t);

#endif
