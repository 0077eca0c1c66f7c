/*
 * parse.h — from raw bytes to RFC 8460 reports.
 *
 * The parse module turns one input (a mail as bytes, or a raw .json/.json.gz
 * report) into zero or more struct tlsrpt.  It knows nothing of IMAP, files
 * or SQL: parse_message() takes (bytes, length) and can be unit-tested and
 * fuzzed alone.  It owns three external libraries: libetpan for the MIME
 * walk, zlib for gzip, json-c for JSON; nothing else includes them (the store
 * reads the zlib copies of older databases through parse_inflate).
 *
 * Memory: a struct parse_result owns everything it points to through one
 * arena; parse_result_release() frees it all.  The input bytes are not
 * referenced after parse_message() returns.
 *
 * Tolerance: every leniency taken while reading a report is recorded as a
 * TLSRPT_NOTE_* bit in tlsrpt.notes (docs/TOLERANCE.md lists them and who
 * needs them).  What cannot be read becomes a failed part with a status and a
 * one-line reason naming the JSON field path or the byte offset.
 *
 * Counting: parse_message() also fills each report's counted view (domains[]
 * and fails[]) by the rules of docs/COUNTING.md, so that every consumer
 * counts the same way.
 */
#ifndef MXD_PARSE_H
#define MXD_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/sha256.h"

/* Caps on untrusted input; parse_limits_default() gives sane values. */
struct parse_limits {
	size_t max_message;	/* raw message bytes */
	size_t max_report;	/* decompressed report bytes */
	int max_depth;		/* JSON nesting, and MIME nesting */
};

#define PARSE_DEFAULT_MAX_MESSAGE (25u << 20)
#define PARSE_DEFAULT_MAX_REPORT (32u << 20)
#define PARSE_DEFAULT_MAX_DEPTH 20

void parse_limits_default(struct parse_limits *l);

/* Tolerances applied while reading a report (docs/TOLERANCE.md). */
enum tlsrpt_note {
	TLSRPT_NOTE_NO_ZONE = 1u << 0,		/* date-time without zone */
	TLSRPT_NOTE_TIME_FORMAT = 1u << 1,	/* fraction, offset, ' ', date only */
	TLSRPT_NOTE_MX_HOST_STRING = 1u << 2,	/* mx-host as one string */
	TLSRPT_NOTE_DOMAIN_HEADER = 1u << 3,	/* policy-domain from TLS-Report-Domain */
	TLSRPT_NOTE_DOMAIN_SUBJECT = 1u << 4,	/* ... from the Subject */
	TLSRPT_NOTE_DOMAIN_FILENAME = 1u << 5,	/* ... from the file name */
	TLSRPT_NOTE_ORG_RECOVERED = 1u << 6,	/* organization-name missing/null */
	TLSRPT_NOTE_COUNT_STRING = 1u << 7,	/* a count given as "123" */
	TLSRPT_NOTE_TLSA_PACKED = 1u << 8,	/* JSON array inside one policy-string */
	TLSRPT_NOTE_KEY_ALIAS = 1u << 9,	/* receiving-mx-host-name, additional-info-uri */
	TLSRPT_NOTE_GZIP_TRAILING = 1u << 10,	/* bytes after the gzip member */
	TLSRPT_NOTE_GZIP_MULTI = 1u << 11,	/* several gzip members */
	TLSRPT_NOTE_NOT_GZIP = 1u << 12,	/* plain JSON in a +gzip part */
	TLSRPT_NOTE_BOM = 1u << 13,		/* UTF-8 byte-order mark */
	TLSRPT_NOTE_DETAIL_SUM = 1u << 14,	/* details do not add up to the total */
	TLSRPT_NOTE_NULL_VALUES = 1u << 15,	/* null or "" where a string belongs */
	TLSRPT_NOTE_CONTROL_CHARS = 1u << 16,	/* control characters replaced */
	TLSRPT_NOTE_POLICY_STRING_WS = 1u << 17, /* trailing CR/space trimmed */
	TLSRPT_NOTE_POLICY_STRING_SHAPE = 1u << 18, /* absent, "" or not an array */
	TLSRPT_NOTE_NO_POLICIES = 1u << 19,	/* "policies": [] */
	TLSRPT_NOTE_UNKNOWN_POLICY_TYPE = 1u << 20,
	TLSRPT_NOTE_UNKNOWN_RESULT_TYPE = 1u << 21,
	TLSRPT_NOTE_NO_SUMMARY_FAILURES = 1u << 22, /* failures with no details */
	TLSRPT_NOTE_DOMAIN_CASE = 1u << 23,	/* upper case or trailing dot */
	TLSRPT_NOTE_ZIP = 1u << 24,		/* report inside a zip archive */
	TLSRPT_NOTE_CONTACT_NULL = 1u << 25,	/* contact-info null or missing */
	TLSRPT_NOTE_MIME_UNCLOSED = 1u << 26,	/* no closing MIME boundary */
	TLSRPT_NOTE_DOMAIN_REPORT_ID = 1u << 27, /* policy-domain from report-id */
};
#define TLSRPT_NOTE_COUNT 28

/* The SHA-256 of everything a report says (its fields, not its bytes):
 * two copies of one report in other formatting have the same digest. */
struct tlsrpt;
void tlsrpt_digest(const struct tlsrpt *r, unsigned char out[SHA256_LEN]);

/* Short names of the note bits ("no-zone", ...), for the store and humans. */
const char *tlsrpt_note_name(unsigned bit_index);
/* Appends the names of the set bits, comma-separated. */
void tlsrpt_notes_format(uint32_t notes, struct buf *out);
/* Parses what tlsrpt_notes_format wrote (unknown names ignored). */
uint32_t tlsrpt_notes_parse(const char *s);

/* How a policy-domain was obtained. */
enum tlsrpt_domain_source {
	TLSRPT_DOMAIN_JSON,
	TLSRPT_DOMAIN_HEADER,
	TLSRPT_DOMAIN_SUBJECT,
	TLSRPT_DOMAIN_FILENAME,
	TLSRPT_DOMAIN_REPORT_ID,
};

/* Every string is valid UTF-8 without control characters; absent, null or
 * empty optional values are NULL. */
struct tlsrpt_detail {
	const char *result_type;	/* never NULL */
	const char *sending_ip;
	const char *receiving_mx;	/* receiving-mx-hostname */
	const char *receiving_helo;
	const char *receiving_ip;
	const char *additional_info;
	const char *reason_code;	/* failure-reason-code, free text */
	uint64_t count;			/* failed-session-count */
};

struct tlsrpt_policy {
	const char *type;	/* "sts", "tlsa", "no-policy-found" or as sent */
	const char *domain;	/* lower case, no trailing dot; never NULL */
	enum tlsrpt_domain_source domain_source;
	const char **strings;	/* policy-string lines */
	size_t n_strings;
	const char **mx_hosts;
	size_t n_mx_hosts;
	uint64_t successful;	/* total-successful-session-count */
	uint64_t failed;	/* total-failure-session-count */
	struct tlsrpt_detail *details;
	size_t n_details;
};

/* Counted view of one policy domain of a report (docs/COUNTING.md). */
struct tlsrpt_domain {
	const char *domain;
	const char *types;	/* "sts", "sts+tlsa", ... sorted */
	uint64_t successful;
	uint64_t failed;	/* sessions = successful + failed */
};

/* Counted failure detail: same-type details add up, a detail repeated under
 * two policy types of one domain counts once at its larger count. */
struct tlsrpt_fail {
	const char *domain;
	const char *result_type;
	const char *sending_ip;		/* NULL when not given */
	const char *receiving_mx;	/* NULL when not given */
	const char *receiving_ip;	/* NULL when not given */
	uint64_t count;
};

struct tlsrpt {
	const char *org;		/* organization-name */
	const char *contact;		/* contact-info, may be NULL */
	const char *report_id;
	int64_t start, end;		/* date-range, UTC seconds */
	struct tlsrpt_policy *policies;
	size_t n_policies;
	uint32_t notes;			/* TLSRPT_NOTE_* */
	unsigned char hash[SHA256_LEN];	/* SHA-256 of the report JSON */
	unsigned char digest[SHA256_LEN];	/* of what it says: tlsrpt_digest() */
	size_t json_len;		/* bytes of report JSON read */
	/* counted view */
	struct tlsrpt_domain *domains;
	size_t n_domains;
	struct tlsrpt_fail *fails;
	size_t n_fails;
	/* totals of the counted view */
	uint64_t successful, failed;
};

/* Facts from outside the JSON that may fill a missing field. */
struct parse_hints {
	const char *report_domain;	/* TLS-Report-Domain header */
	const char *submitter;		/* TLS-Report-Submitter header */
	const char *subject_domain;	/* "Report Domain: X" in the Subject */
	const char *filename;		/* attachment or file name */
};

/* One report candidate in a message: a report, or why it is not one. */
struct parse_part {
	unsigned index;			/* order among the message's candidates */
	const char *name;		/* file name or media type, may be NULL */
	struct tlsrpt *report;		/* NULL when it failed */
	enum mxd_status status;		/* MXD_OK when report != NULL */
	const char *reason;		/* one line when it failed */
};

struct parse_result {
	struct parse_part *parts;
	size_t n_parts;
	size_t n_failed;
	int mail;		/* read as a mail, not as a report file */
	struct arena arena;
};

/* What the caller knows about the input. */
struct parse_input {
	const char *name;	/* file name, for hints (may be NULL) */
	const struct parse_limits *limits;	/* NULL: defaults */
};

/*
 * Parses one input: a mail (RFC 5322 + MIME), a raw report JSON, or a gzip'd
 * report.  Returns MXD_OK with n_parts >= 1 when the input is or carries a
 * report candidate (each part then has a report or a failure), or
 * MXD_E_NOTREPORT with n_parts == 0 when it is not a TLS-RPT input at all.
 * A fault of the whole input (too large, empty, a TLS-RPT mail without a
 * report part) is returned as one failed part.  Initialises *res in all
 * cases; release it with parse_result_release().
 */
enum mxd_status parse_message(const void *data, size_t len,
			      const struct parse_input *in,
			      struct parse_result *res);
void parse_result_release(struct parse_result *res);
/* Whether parse_message() reads the input as a mail (else as a report
 * file: JSON, gzip or zip, after white space and a BOM). */
int parse_is_mail(const void *data, size_t len);

/*
 * The JSON layer alone: reads one report from JSON text (after any gzip),
 * using the hints for missing fields.  Allocates from `a`; on failure
 * returns NULL and fills err (status MXD_E_JSON or MXD_E_SCHEMA).
 */
struct tlsrpt *parse_report_json(const char *json, size_t len,
				 const struct parse_hints *hints,
				 const struct parse_limits *limits,
				 struct arena *a, struct mxd_err *err);

/* Applies the counting rules to r (fills domains, fails, totals).  Returns
 * -1 when a policy domain's sessions, a counted failure or the report's
 * totals pass 2^53 (util/count.h): such a report cannot be counted. */
int tlsrpt_count(struct tlsrpt *r, struct arena *a);

/*
 * gzip and zlib, for reports and the store's copies of schema 4 and older.
 * parse_gunzip() reads gzip (several members, trailing bytes tolerated) or
 * zlib data into out, failing with MXD_E_TOOBIG past out->max; *notes gets
 * TLSRPT_NOTE_GZIP_* bits.  parse_inflate() reads the zlib format those
 * copies used.
 */
enum mxd_status parse_gunzip(const void *in, size_t n, struct buf *out,
			     uint32_t *notes, struct mxd_err *err);
enum mxd_status parse_inflate(const void *in, size_t n, struct buf *out,
			      struct mxd_err *err);
/*
 * gzip members that zlib makes again byte for byte (regzip.c), for the
 * store's packed raw copies (store/pack.c).  parse_gzip_split() reads the
 * member gz[0..n): its header of hlen bytes, a deflate stream of dlen
 * bytes, then the trailer and anything after it; it inflates the stream
 * into out (reset first; at most out->max bytes) and returns 1 when zlib
 * at `level` deflates out back into the same dlen bytes, whose CRC-32 is
 * `crc`; 0 when not (or it is no gzip this reads).  parse_deflate_at()
 * appends that deflate stream of data to out, with its CRC-32: 0, or -1.
 */
struct gzip_split {
	size_t hlen, dlen;
	int level;
	uint32_t crc;
};
int parse_gzip_split(const void *gz, size_t n, struct buf *out,
		     struct gzip_split *sp);
int parse_deflate_at(const void *data, size_t n, int level, struct buf *out,
		     uint32_t *crc);
const char *parse_zlib_version(void);
/* Frees the calling thread's reusable zlib streams (call before a thread
 * ends, and at exit to keep leak checkers quiet). */
void parse_thread_release(void);

#endif
