/*
 * log.h — verbosity and debug areas.
 *
 * Modules never print; they may log through mxd_log(), whose sink cli/
 * installs (stderr by default).  -v raises the level; -D AREA turns on a
 * debug area (imap, mime, sql, store).  Callers redact secrets before logging.
 */
#ifndef MXD_UTIL_LOG_H
#define MXD_UTIL_LOG_H

enum mxd_log_level { MXD_LOG_ERROR, MXD_LOG_WARN, MXD_LOG_INFO, MXD_LOG_DEBUG };

enum mxd_log_area {
	MXD_AREA_IMAP = 1 << 0,
	MXD_AREA_MIME = 1 << 1,
	MXD_AREA_SQL = 1 << 2,
	MXD_AREA_STORE = 1 << 3,	/* waits for other writers of a store */
};

typedef void (*mxd_log_sink)(enum mxd_log_level, const char *line);

void mxd_log_setup(int verbosity, unsigned areas, mxd_log_sink sink);
int mxd_log_enabled(enum mxd_log_level level);
int mxd_log_area(enum mxd_log_area area);
void mxd_log(enum mxd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Parses "imap", "mime", "sql", "store" (or "all"); 0 if unknown. */
unsigned mxd_log_area_parse(const char *name);

#endif
