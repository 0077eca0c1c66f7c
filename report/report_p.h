/*
 * report_p.h — internals shared by the renderers: the renderer functions,
 * labels and number formats shared by text, HTML and the spreadsheet, the
 * text table, and the temporary-file helper of the binary formats.
 */
#ifndef MXD_REPORT_P_H
#define MXD_REPORT_P_H

#include "report/report.h"
#include "util/buf.h"

#define REPORT_TEXT_WIDTH 80	/* the text digest fits a terminal of 80 columns */
#define REPORT_SPARK_CELLS 7	/* cells of the per-organization sparkline */

int report_render_text(const struct agg_digest *d, const struct report_opts *o,
		       FILE *out, struct mxd_err *err);
int report_render_json(const struct agg_digest *d, const struct report_opts *o,
		       FILE *out, struct mxd_err *err);
int report_render_csv(const struct agg_digest *d, const struct report_opts *o,
		      FILE *out, struct mxd_err *err);
int report_render_html(const struct agg_digest *d, const struct report_opts *o,
		       FILE *out, struct mxd_err *err);
int report_render_xlsx(const struct agg_digest *d, const struct report_opts *o,
		       FILE *out, struct mxd_err *err);
int report_render_email(const struct agg_digest *d, const struct report_opts *o,
			FILE *out, struct mxd_err *err);

/* Writes the workbook to `path` (libxlsxwriter needs a file name). */
int report_xlsx_write(const struct agg_digest *d, const struct report_opts *o,
		      const char *path, struct mxd_err *err);
/* A new empty file in $TMPDIR (or /tmp); returns its malloc'd path, or
 * NULL with err set. */
char *report_temp_file(const char *suffix, struct mxd_err *err);

/* "2026-11-16 to 2026-11-22 (7 days, UTC)" or ISO times for other windows. */
void report_window_label(int64_t from, int64_t to, char *out, size_t n);
/* "7 days", "12 hours" or "window": the length of a window, for "previous …". */
void report_span_label(int64_t from, int64_t to, char *out, size_t n);
/* "14.0%", or "-" without sessions. */
const char *report_pct(uint64_t ok, uint64_t bad, char out[16]);
/*
 * Changes against the previous window: report_change_count() gives
 * "▲ 3,902", "▼ 12" or "="; report_change_rate() the change of a failure
 * rate in points, "▲ 13.9", "▼ 2.1", "=", or "-" when there was nothing to
 * compare with.  Both return +1 when worse, -1 when better, 0 otherwise.
 */
int report_change_count(uint64_t now, uint64_t before, char out[40]);
int report_change_rate(uint64_t ok, uint64_t bad, uint64_t prev_ok,
		       uint64_t prev_bad, char out[40]);
/* A sparkline of the organization's daily failures (UTF-8 blocks). */
void report_sparkline(const struct agg_digest *d, const struct agg_org *o,
		      char *out, size_t n);
/* The MX host as shown to people: "(not given)" for "". */
const char *report_mx_label(const char *mx);
/* Cleans a value for output (valid UTF-8, no control characters). */
void report_clean(struct buf *b, const char *s);

/* A text table with columns aligned by display width. */
enum col_align { COL_LEFT, COL_RIGHT };
enum tint { TINT_NONE, TINT_RED, TINT_GREEN, TINT_BOLD };

struct table {
	size_t ncols;
	const char **head;
	enum col_align *align;
	size_t *maxw;		/* column width cap (0 = none) */
	size_t limit;		/* total width; text columns narrow to fit */
	int no_head;		/* print no header line */
	char **cells;		/* rows * ncols, owned */
	enum tint *tints;
	size_t nrows, cap, tcap;
};

void table_init(struct table *t, size_t ncols, const char **head,
		enum col_align *align, size_t *maxw);
void table_add(struct table *t, const char **cells);
void table_add_tinted(struct table *t, const char **cells, const enum tint *tints);
/* Writes the table with `indent` spaces before each line. */
void table_print(const struct table *t, FILE *out, int indent, int color);
void table_release(struct table *t);

#endif
