/*
 * err.h — the one status enum of mxdigest, its strerror, and an error carrier.
 *
 * Modules return a status and fill a struct mxd_err with the context a user
 * needs (file, UID, JSON path, byte offset); only cli/ prints, as
 *   mxdigest: "<subject>": <text>
 * and maps the status to an exit code (cli_exit_code() in cli/cli.h).
 * Statuses are graded
 * by how far they reach: MXD_E_DATA-class errors spoil one message (it is
 * quarantined and the batch goes on); I/O, store, network and config errors
 * end the run after what was done is saved.
 */
#ifndef MXD_UTIL_ERR_H
#define MXD_UTIL_ERR_H

#include <stdarg.h>

enum mxd_status {
	MXD_OK = 0,
	/* one message or input is bad: quarantine it, go on */
	MXD_E_TOOBIG,		/* over a size cap */
	MXD_E_MIME,		/* MIME structure unusable */
	MXD_E_DECODE,		/* base64/QP/gzip could not be decoded */
	MXD_E_JSON,		/* not well-formed JSON */
	MXD_E_SCHEMA,		/* JSON is not a valid RFC 8460 report */
	MXD_E_NOTREPORT,	/* not a TLS-RPT report at all */
	MXD_E_EMPTY,		/* an empty input */
	/* the run cannot go on as asked */
	MXD_E_USAGE,
	MXD_E_NOINPUT,		/* a named input cannot be opened/read */
	MXD_E_IO,
	MXD_E_STORE,		/* database error */
	MXD_E_LOCKED,		/* another writer holds the store */
	MXD_E_CONFIG,
	MXD_E_AUTH,
	MXD_E_TLS,		/* certificate or host name not verified */
	MXD_E_NET,		/* server unavailable, connection lost */
	MXD_E_PROTO,		/* unexpected server response */
	MXD_E_INTERNAL,
	MXD_E_INTERRUPTED,	/* SIGINT/SIGTERM */
};

const char *mxd_strerror(enum mxd_status s);
/* True for the statuses that spoil a single input (quarantine, go on). */
int mxd_status_is_data(enum mxd_status s);

struct mxd_err {
	enum mxd_status code;
	char text[512];		/* one line, no trailing newline */
};

void mxd_err_clear(struct mxd_err *e);
/* Sets code and text; returns -1 so that `return mxd_err_set(...)` reads well. */
int mxd_err_set(struct mxd_err *e, enum mxd_status code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int mxd_err_vset(struct mxd_err *e, enum mxd_status code, const char *fmt,
		 va_list ap);
/* Prepends "prefix: " to the existing text. */
void mxd_err_prefix(struct mxd_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
