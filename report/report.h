/*
 * report.h — renderers of a digest: text (terminal, cron mail) and JSON
 * for scripts; XLSX, CSV and e-mail join the table later.
 *
 * A renderer is chosen by name from a small ops table
 * (report_renderer_find) and writes a struct agg_digest to a FILE.  It
 * never touches SQL or the store.  Every string it writes is valid UTF-8
 * without control characters (values are cleaned at ingest; renderers clean
 * again before writing).
 */
#ifndef MXD_REPORT_H
#define MXD_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "aggregate/aggregate.h"
#include "util/err.h"

struct report_opts {
	int color;		/* ANSI colour (only on a terminal, no NO_COLOR) */
	unsigned top;		/* rows per table, 0 = all */
	int64_t generated;	/* generation time, UTC seconds */
	const char *db_path;	/* for the footer, may be NULL */
};

struct report_renderer {
	const char *name;
	int (*render)(const struct agg_digest *d, const struct report_opts *o,
		      FILE *out, struct mxd_err *err);
};

const struct report_renderer *report_renderer_find(const char *name);
/* Names of all renderers, comma-separated, for --help and errors. */
const char *report_renderer_names(void);

/* JSON string escaping (RFC 8259) of valid UTF-8; used by renderers. */
void report_json_string(FILE *out, const char *s);

#endif
