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

/*
 * One budget per message (bound.c) for every byte decoded from a MIME part,
 * decompressed from gzip or zip, and for the memory the JSON parser will
 * need (json_cost()): twice max_report.  Running out spoils the whole
 * message (it is quarantined with one reason), so an archive of many
 * entries or a mail of many parts cannot multiply the per-report cap.
 */
struct budget {
	size_t max;
	size_t left;
	int over;		/* a take failed */
};

void budget_init(struct budget *b, const struct parse_limits *lim);
/* Takes n bytes: 0, or -1 (and over set) when fewer are left. */
int budget_take(struct budget *b, size_t n);

/* At most this many multipart and message/rfc822 parts in one mail. */
#define MIME_MAX_COMPOSITE 1000
/* At most this many leaf parts in one mail. */
#define MIME_MAX_LEAVES 1000
/* At most this many bytes in one header section (the mail's, or a part's):
 * libetpan's header parser took 2.9 s and 140 MB for a 13.6 MB Subject;
 * a report mail's header is a few kilobytes. */
#define MIME_MAX_HEADER (1024 * 1024)

/* Refuses a mail whose multipart/message nesting could pass max_depth,
 * before libetpan's recursive parser sees it (bound.c): 0 or -1. */
int mime_check_nesting(const char *msg, size_t len, int max_depth,
		       struct mxd_err *err);
/* An upper bound on the bytes json-c allocates for a JSON text. */
size_t json_cost(const char *p, size_t n);

/* Walks a mail with libetpan and collects report candidates into w
 * (allocated from a); decoded bodies are taken from b. */
void mime_walk(const char *msg, size_t len, const struct parse_limits *lim,
	       const char *name_hint, struct budget *b, struct arena *a,
	       struct mime_walk *w);

/* parse_report_json() with the message's budget (json.c). */
struct tlsrpt *json_read(const char *json, size_t len,
			 const struct parse_hints *hints,
			 const struct parse_limits *limits, struct budget *b,
			 struct arena *a, struct mxd_err *err);

/* A string as it may leave parse/: valid UTF-8, a TAB as spaces, every
 * other control character U+FFFD (arena copy; never NULL). */
const char *parse_clean(struct arena *a, const char *s, size_t n);

/* One entry of a zip archive, extracted (zip.c). */
struct zip_entry {
	const char *name;
	unsigned char *data;
	size_t len;
};

/*
 * The report entries of a zip archive (at most 64 entries, each within
 * cap): the only entry, or every .json and .json.gz entry of several.
 * Archives whose entries share or overlap their data are refused before
 * anything is inflated; every byte inflated is taken from b first (on
 * running out, -1 with b->over set).  Names are cleaned.  0 or -1.
 */
int zip_entries(const unsigned char *p, size_t n, size_t cap, struct budget *b,
		struct arena *a, struct zip_entry **out, size_t *nout,
		struct mxd_err *err);

/* A host name a policy-domain may be recovered as: LDH labels (and '_'),
 * at least two, a trailing dot allowed.  Anything a hint offers that is
 * not one is not used. */
int parse_domain_ok(const char *s);

/* Policy domain from a TLS-RPT file name "sub!domain!start!end[!id].ext". */
const char *filename_domain(const char *name, struct arena *a);
const char *filename_submitter(const char *name, struct arena *a);
/* "Report Domain: X" in a (decoded) Subject. */
const char *subject_domain(const char *subject, struct arena *a);

/* regzip.c: frees its thread's streams (parse_thread_release()). */
void regzip_release(void);

#endif
