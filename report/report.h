/*
 * report.h — renderers of a digest: text (terminal, cron mail), JSON for
 * scripts, CSV (one table), HTML, an XLSX workbook (libxlsxwriter), and a
 * complete MIME mail that carries the text, the HTML and the workbook.
 *
 * report_render() builds the digest's content once (report/view.h: the
 * summary and every table as typed cells, --top applied) and hands it to
 * the renderer chosen by name from a small ops table
 * (report_renderer_find), which lays it out on a FILE.  Nothing here
 * touches SQL or the store: the failure details as sent are streamed
 * through agg_digest_details().  Every string written is valid UTF-8
 * without control characters (values are cleaned at ingest; renderers
 * clean again before writing).  Errors come back as -1 with err set
 * (MXD_E_IO for output, MXD_E_INTERNAL for the spreadsheet library,
 * MXD_E_USAGE for a mail without a usable recipient).
 */
#ifndef MXD_REPORT_H
#define MXD_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "aggregate/aggregate.h"
#include "util/err.h"

/* The table a CSV file holds (--by). */
enum report_csv_table {
	REPORT_CSV_MX, REPORT_CSV_ORG, REPORT_CSV_RESULT, REPORT_CSV_DOMAIN,
	REPORT_CSV_TYPE, REPORT_CSV_IP, REPORT_CSV_DAY, REPORT_CSV_DETAIL,
	REPORT_CSV_CONFIG,
};

struct report_opts {
	int color;		/* ANSI colour (only on a terminal, no NO_COLOR) */
	unsigned top;		/* rows per table in text and HTML, 0 = all */
	int64_t generated;	/* generation time, UTC seconds */
	enum report_csv_table csv_by;
	/* e-mail: addresses as given (RFC 5322 addr-spec or name-addr) */
	const char *mail_to;
	const char *mail_from;
	const char *subject;	/* NULL: a subject made from the digest */
	const char *hostname;	/* for Message-ID and the default From */
	/* xlsx: workbooks with more failure details than this are written in
	 * libxlsxwriter's constant-memory mode (0: the default) */
	uint64_t xlsx_stream_rows;
};

struct view;			/* report/view.h, private to report/ */

/* A renderer lays out a digest's view on out; 0, or -1 with err set. */
typedef int report_write_fn(const struct view *v, const struct report_opts *o,
			    FILE *out, struct mxd_err *err);

struct report_renderer {
	const char *name;
	report_write_fn *write;
	int binary;		/* not for a terminal */
};

const struct report_renderer *report_renderer_find(const char *name);
/* 1 when r with o lists the failure details (agg_digest_details()): JSON,
 * XLSX, the e-mail (its workbook), CSV by detail. */
int report_reads_details(const struct report_renderer *r,
			 const struct report_opts *o);
/* Names of all renderers, comma-separated, for --help and errors. */
const char *report_renderer_names(void);
/* "mx", "org", ... to a CSV table; 0 or -1. */
int report_csv_table_parse(const char *name, enum report_csv_table *t);
/* Writes the digest with renderer r; 0, or -1 with err set. */
int report_render(const struct report_renderer *r, const struct agg_digest *d,
		  const struct report_opts *o, FILE *out, struct mxd_err *err);

/* The output of `mxdigest check` (report/check.c): text blocks, one per
 * domain, or JSON; 0, or -1 when writing failed. */
struct agg_check;
int report_check_text(FILE *out, const struct agg_check *c, size_t n, int color);
int report_check_json(FILE *out, const struct agg_check *c, size_t n,
		      int64_t generated);

#endif
