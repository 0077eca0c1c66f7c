/* log.c — leveled logging through a sink chosen by cli/. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int verbosity;		/* 0 = errors and warnings */
static unsigned debug_areas;
static mxd_log_sink log_sink;

void
mxd_log_setup(int v, unsigned areas, mxd_log_sink sink)
{
	verbosity = v;
	debug_areas = areas;
	log_sink = sink;
}

int
mxd_log_enabled(enum mxd_log_level level)
{
	return level <= MXD_LOG_WARN || (int)level - MXD_LOG_WARN <= verbosity ||
	       (level == MXD_LOG_DEBUG && debug_areas);
}

int
mxd_log_area(enum mxd_log_area area)
{
	return (debug_areas & area) != 0;
}

void
mxd_log(enum mxd_log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (!mxd_log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_sink)
		log_sink(level, line);
	else
		fprintf(stderr, "mxdigest: %s\n", line);
}

unsigned
mxd_log_area_parse(const char *name)
{
	if (strcmp(name, "imap") == 0)
		return MXD_AREA_IMAP;
	if (strcmp(name, "mime") == 0)
		return MXD_AREA_MIME;
	if (strcmp(name, "sql") == 0)
		return MXD_AREA_SQL;
	if (strcmp(name, "store") == 0)
		return MXD_AREA_STORE;
	if (strcmp(name, "all") == 0)
		return MXD_AREA_IMAP | MXD_AREA_MIME | MXD_AREA_SQL |
		       MXD_AREA_STORE;
	return 0;
}
