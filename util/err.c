/* err.c — status strings and the error carrier. */
#include "util/err.h"

#include <stdio.h>
#include <string.h>

const char *
mxd_strerror(enum mxd_status s)
{
	switch (s) {
	case MXD_OK:		return "success";
	case MXD_E_TOOBIG:	return "too large";
	case MXD_E_MIME:	return "unusable MIME structure";
	case MXD_E_DECODE:	return "cannot decode";
	case MXD_E_JSON:	return "invalid JSON";
	case MXD_E_SCHEMA:	return "not a valid TLS-RPT report";
	case MXD_E_NOTREPORT:	return "not a TLS-RPT report";
	case MXD_E_EMPTY:	return "empty input";
	case MXD_E_USAGE:	return "usage error";
	case MXD_E_NOINPUT:	return "cannot read input";
	case MXD_E_IO:		return "input/output error";
	case MXD_E_STORE:	return "database error";
	case MXD_E_LOCKED:	return "database locked by another process";
	case MXD_E_CONFIG:	return "configuration error";
	case MXD_E_AUTH:	return "authentication failed";
	case MXD_E_TLS:		return "TLS verification failed";
	case MXD_E_NET:		return "server unavailable";
	case MXD_E_PROTO:	return "protocol error";
	case MXD_E_INTERNAL:	return "internal error";
	case MXD_E_INTERRUPTED:	return "interrupted";
	}
	return "unknown error";
}

int
mxd_status_is_data(enum mxd_status s)
{
	return s >= MXD_E_TOOBIG && s <= MXD_E_EMPTY;
}

void
mxd_err_clear(struct mxd_err *e)
{
	e->code = MXD_OK;
	e->text[0] = '\0';
}

int
mxd_err_vset(struct mxd_err *e, enum mxd_status code, const char *fmt,
	     va_list ap)
{
	if (!e)
		return -1;
	e->code = code;
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	return -1;
}

int
mxd_err_set(struct mxd_err *e, enum mxd_status code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mxd_err_vset(e, code, fmt, ap);
	va_end(ap);
	return -1;
}

void
mxd_err_prefix(struct mxd_err *e, const char *fmt, ...)
{
	char pre[256], old[sizeof(e->text)];
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->text, sizeof(old));
	{
		size_t np = strlen(pre), no = strlen(old), cap = sizeof(e->text) - 1;

		if (np > cap)
			np = cap;
		memcpy(e->text, pre, np);
		if (np + 2 <= cap) {
			memcpy(e->text + np, ": ", 2);
			np += 2;
		}
		if (no > cap - np)
			no = cap - np;
		memcpy(e->text + np, old, no);
		e->text[np + no] = '\0';
	}
}
