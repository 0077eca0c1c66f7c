/*
 * view.h — the content of a digest, built once for every format (private to
 * report/; tests/unit/test_report.c reads it too).
 *
 * view_build() turns a struct agg_digest into what the renderers show: the
 * summary lines of the text and HTML digests, and every table as data — a
 * title, a list of columns (a heading for people, a key for JSON and CSV, a
 * type, and the formats that show it) and rows of typed cells.  --top, the
 * "others" row that sums the rows it leaves out, the wording of the
 * summary, and the case of no previous data (a null change) are decided
 * here and nowhere else: the writers (text.c, html.c, csv.c, json.c,
 * xlsx.c) only lay the view out, so every number of every format comes from
 * here and one unit test of the view covers them all.
 *
 * Memory: a view owns its rows, cells and strings (one arena) and points
 * into the digest for the strings of the reports: view_release() it before
 * the digest.  view_release() accepts a view that view_build() never saw
 * only if it was zeroed.
 */
#ifndef MXD_REPORT_VIEW_H
#define MXD_REPORT_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "aggregate/aggregate.h"
#include "report/report.h"
#include "util/arena.h"
#include "util/buf.h"

enum view_type {
	VIEW_TEXT,	/* a string; NULL is JSON null and empty elsewhere */
	VIEW_ADDRESS,	/* an MX host or IP, "" when the sender gave none:
			 * "(not given)" for people and in the workbook */
	VIEW_COUNT,	/* reports, sessions, ... */
	VIEW_RATE,	/* a percentage */
	VIEW_CHANGE,	/* against the previous window: of a count, or of a
			 * rate in points (VIEW_POINTS) */
	VIEW_DAY,	/* a UTC day (its 00:00) */
	VIEW_TIME,	/* a UTC time */
	VIEW_FLAG,	/* yes or no */
	VIEW_NAMES,	/* a sorted list of names */
	VIEW_ROWS,	/* a nested table, for JSON */
};

/* Which formats show a column, and how. */
#define VIEW_PEOPLE	0x01	/* the text and HTML digests */
#define VIEW_SHEET	0x02	/* CSV and the workbook */
#define VIEW_JSON	0x04
#define VIEW_DATA	(VIEW_SHEET | VIEW_JSON)
#define VIEW_ALL	(VIEW_PEOPLE | VIEW_DATA)
#define VIEW_POINTS	0x08	/* a change of a rate, in percentage points */
#define VIEW_PLAIN	0x10	/* a number without separators: an id */
#define VIEW_NOSUM	0x20	/* left empty in an "others" row: it does not add
				 * up (reports that carried a result type) */

struct view_col {
	const char *name;	/* heading for people (text, HTML, workbook) */
	const char *key;	/* JSON member and CSV heading */
	enum view_type type;
	unsigned flags;
	unsigned width;		/* text: at most this wide (0: any); the
				 * workbook: the column width (0: by type) */
	const char *unit;	/* after a count for people (" failed") */
	int src;		/* view.c: which number of its row it shows */
};

struct view_table;

/*
 * A cell.  `null` means there is no value: a change with nothing to compare
 * with (JSON null, empty in CSV and the workbook, "-" for people), a rate
 * of no sessions (its value is 0, which data formats write, as
 * docs/JSON.md says; "-" for people), a NULL string.  `blank` cells of an
 * "others" or breakdown row show nothing at all.  `tone` is how a person
 * should read it: +1 worse (red), -1 better (green).
 */
struct view_cell {
	unsigned char null;
	unsigned char blank;
	signed char tone;
	union {
		const char *s;		/* TEXT, ADDRESS */
		uint64_t n;		/* COUNT, FLAG */
		double r;		/* RATE (percent), CHANGE */
		int64_t t;		/* DAY, TIME */
		struct {
			const char *const *v;
			size_t n;
		} names;		/* NAMES */
		const struct view_table *rows;	/* ROWS */
	} v;
};

struct view_row {
	struct view_cell *cells;	/* one per column */
	int part;		/* a breakdown of the row above (a policy type
				 * of a domain): for people only */
};

struct view_table {
	const char *title;	/* heading for people */
	const char *key;	/* JSON member, or NULL */
	const struct view_col *const *cols;
	size_t ncols;
	struct view_row *rows;	/* every row, in aggregate's order */
	size_t nrows, cap;	/* cap: allocated rows (view.c's) */
	/* people see rows[0..shown), then `others` (the sum of the `more`
	 * rows --top left out), then the notes ("... and 5 more" first) */
	size_t shown;
	size_t more;
	struct view_row *others;	/* or NULL */
	int people;		/* a table of the text and HTML digests */
	const char *empty;	/* what to say when there are no rows */
	const char *message;	/* what people read instead of the rows (the
				 * `empty` text when there are none) */
	const char **notes;	/* lines under the table, for people */
	size_t nnotes;
};

enum view_id {
	/* the tables of the text and HTML digests, in their order */
	VIEW_T_MX, VIEW_T_ORG, VIEW_T_RESULT, VIEW_T_DOMAIN, VIEW_T_PTYPE,
	VIEW_T_IP, VIEW_T_DAILY, VIEW_T_NEW, VIEW_T_CONFIG, VIEW_T_FLAGGED,
	VIEW_T_QUARANTINE,
	/* tables of the data formats and of the workbook's summary */
	VIEW_T_POLICY, VIEW_T_NEW_ORGS, VIEW_T_SILENT, VIEW_T_WORST,
	VIEW_T_REPORTS,		/* every report of the window, with its DKIM */
	VIEW_T_CONFIG_DATA,	/* every finding of the configuration */
	VIEW_T_DETAILS,		/* columns only: rows come from view_details() */
	/* one row each */
	VIEW_T_WINDOW, VIEW_T_TOTALS, VIEW_T_PREV_WINDOW, VIEW_T_PREV_TOTALS,
	VIEW_T_COMPARED, VIEW_T_FILTERS,
	VIEW_T_COUNT
};

/* A summary line: a label and a text, or a small table in its place (the
 * worst MX hosts). */
struct view_line {
	const char *label;	/* "" continues the line above */
	const char *text;
	const struct view_table *table;
	int tone;
};

struct view {
	const struct agg_digest *d;	/* for view_details() */
	size_t top;		/* --top: rows of a table for people, 0 = all */
	int64_t generated;
	const char *title;	/* "TLS-RPT digest" */
	const char *window;	/* "2026-11-16 to 2026-11-22 (7 days, UTC)" */
	const char *only;	/* the filters in words, or NULL */
	const char *subject;	/* the mail's default subject */
	const char *caveat;	/* failure-detail counts need not add up */
	struct view_line *lines;
	size_t nlines, lcap;	/* lcap: allocated lines (view.c's) */
	struct view_table tables[VIEW_T_COUNT];
	int history;		/* the store has reports from before the window */
	const char *const *alerts;
	size_t nalerts;
	struct arena arena;
};

void view_build(struct view *v, const struct agg_digest *d,
		const struct report_opts *o);
void view_release(struct view *v);

/* A cell as people read it: "3,902", "14.0%", "▲ 13.9", "=", "-",
 * "(not given)", "2026-11-16", names joined by "; ".  The text is the
 * cell's own string or is written to b. */
const char *view_cell_text(const struct view_col *c, const struct view_cell *x,
			   struct buf *b);

/* A cell as the data formats (CSV, JSON) write it: "3902", "13.9911",
 * "-12", "true", "2026-11-16", a string as sent ("" for NULL), names
 * joined by "; ", "" for a null change. */
const char *view_cell_value(const struct view_col *c, const struct view_cell *x,
			    struct buf *b);
/* Counts, rates and changes: right-aligned for people, bare in data. */
int view_numeric(const struct view_col *c);

/* The failure details of the window, one call per detail with the cells
 * of VIEW_T_DETAILS' columns (valid during the call), in report order; a
 * non-zero return stops the scan. */
typedef int (*view_detail_fn)(const struct view_cell *cells, void *ctx);
int view_details(const struct view *v, view_detail_fn fn, void *ctx,
		 struct mxd_err *err);
int view_details_count(const struct view *v, uint64_t *n, struct mxd_err *err);

#endif
