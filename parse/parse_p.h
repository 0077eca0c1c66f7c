/*
 * parse_p.h — internals shared by the files of parse/.
 */
#ifndef MXD_PARSE_P_H
#define MXD_PARSE_P_H

#include "parse/parse.h"

/* Candidate strength: how sure we are that a MIME part is a TLS-RPT report. */
enum cand_strength {
	CAND_NONE,	/* not a candidate */
	CAND_WEAK,	/* a report only if its content says so */
	CAND_STRONG,	/* a report, or a failure to quarantine */
};

/* A report candidate found by the MIME walk, with its decoded bytes. */
struct mime_cand {
	enum cand_strength strength;
	const char *media_type;	/* "application/tlsrpt+gzip", lower case */
	const char *filename;	/* decoded, may be NULL */
	const unsigned char *data;	/* decoded body (arena) */
	size_t len;
	struct parse_hints hints;	/* of the enclosing message */
	const char *error;	/* set when the part could not be decoded */
	int nested;		/* taken out of a zip archive */
};

struct mime_walk {
	struct mime_cand *cands;
	size_t n_cands, cap;
	int tlsrpt_message;	/* TLS-RPT headers or report-type=tlsrpt seen */
	int repaired;		/* a missing closing boundary was added */
	const char *error;	/* the message as a whole is unusable */
};

/* Walks a mail with libetpan and collects report candidates into w
 * (allocated from a). */
void mime_walk(const char *msg, size_t len, const struct parse_limits *lim,
	       const char *name_hint, struct arena *a, struct mime_walk *w);

/* One entry of a zip archive, extracted (zip.c). */
struct zip_entry {
	const char *name;
	unsigned char *data;
	size_t len;
};

/* Extracts every entry (at most 64, each within cap) into `a`; 0 or -1. */
int zip_entries(const unsigned char *p, size_t n, size_t cap, struct arena *a,
		struct zip_entry **out, size_t *nout, struct mxd_err *err);

/* Policy domain from a TLS-RPT file name "sub!domain!start!end[!id].ext". */
const char *filename_domain(const char *name, struct arena *a);
const char *filename_submitter(const char *name, struct arena *a);
/* "Report Domain: X" in a (decoded) Subject. */
const char *subject_domain(const char *subject, struct arena *a);

#endif
