/*
 * report_p.h — internals shared by the files of report/: the writers, each
 * of which lays out a view (view.h), the text table, and the helpers of the
 * binary formats.
 */
#ifndef MXD_REPORT_P_H
#define MXD_REPORT_P_H

#include "report/report.h"
#include "util/buf.h"

#define REPORT_TEXT_WIDTH 80	/* the text digest fits a terminal of 80 columns */
#define REPORT_LABEL_COLS 16	/* "  Failure rate  ": the summary's labels */

/* The renderers of report.c's table; the mail composes the first three. */
report_write_fn report_write_text, report_write_html, report_write_xlsx,
	report_write_json, report_write_csv, report_write_email;

/* Writes the workbook to `path` (libxlsxwriter needs a file name). */
int report_xlsx_file(const struct view *v, const struct report_opts *o,
		     const char *path, struct mxd_err *err);
/* A new empty file in $TMPDIR (or /tmp); returns its malloc'd path, or
 * NULL with err set. */
char *report_temp_file(const char *suffix, struct mxd_err *err);
/* A JSON string (quoted, escaped; invalid UTF-8 as U+FFFD). */
void report_json_string(FILE *out, const char *s);
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
	size_t ncells, cap, tcap;
};

void table_init(struct table *t, size_t ncols, const char **head,
		enum col_align *align, size_t *maxw);
/* Appends a cell (a cleaned copy); rows fill from left to right. */
void table_cell(struct table *t, const char *s, enum tint tint);
/* Writes the table with `indent` spaces before each line. */
void table_print(const struct table *t, FILE *out, int indent, int color);
void table_release(struct table *t);

#endif
