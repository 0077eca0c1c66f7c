/*
 * record.h — the records a domain publishes for TLS reporting, read as a
 * sender reads them: the TLS-RPT TXT record (RFC 8460 §3), the MTA-STS TXT
 * record (RFC 8461 §3.1) and policy file (RFC 8461 §3.2), and MX pattern
 * matching (RFC 8461 §4.1).  Pure parsers: no DNS, no HTTPS, no files.
 *
 * Every input is untrusted bytes from DNS or HTTPS, given as (pointer,
 * length): it need not be NUL-terminated, may hold NULs, control bytes and
 * invalid UTF-8, and is never read past its length.  Inputs longer than
 * REC_MAX_TXT (a TXT record) or REC_MAX_POLICY (a policy file) are refused
 * with a problem, unread.
 *
 * What is wrong is said in a struct rec_problems: a stable code (REC_* below,
 * for scripts and tests), a level, and one line of text for people.  Input
 * quoted in a text is cleaned (utf8_clean_text: no control byte, valid
 * UTF-8) and cut to REC_QUOTE_COLS columns with "…"; a text is at most
 * REC_TEXT_MAX - 1 bytes.  A parse appends to the problems it is given (so
 * one list may gather several records), keeping at most REC_PROBLEMS_MAX;
 * the rest are counted in `more`, and `worst` covers them all.  The list
 * may be NULL when only the verdict is wanted.
 *
 * Ownership: each parse fills a caller's struct (zeroed first, also on
 * failure) whose strings and arrays are the struct's own, freed by its
 * *_release(), which accepts a zeroed struct and leaves one.  The problem
 * list is the caller's: rec_problems_init(), rec_problems_release().
 * Problem codes are static strings.
 */
#ifndef MXD_CHECK_RECORD_H
#define MXD_CHECK_RECORD_H

#include <stddef.h>

#define REC_MAX_TXT 16384	/* as dns/'s DNS_MAX_TXT */
#define REC_MAX_POLICY 65536	/* RFC 8461 §3.3: "a suggested maximum policy
				 * size is 64 kilobytes" */
#define REC_PROBLEMS_MAX 32
#define REC_TEXT_MAX 320
#define REC_QUOTE_COLS 60

/* TLS-RPT record (RFC 8460 §3) */
#define REC_TLSRPT_SYNTAX "tlsrpt.syntax"	/* ABNF violated, version */
#define REC_TLSRPT_RUA_MISSING "tlsrpt.rua-missing"
#define REC_TLSRPT_RUA_EMPTY "tlsrpt.rua-empty"
#define REC_TLSRPT_RUA_DUPLICATE "tlsrpt.rua-duplicate"	/* two rua= fields */
#define REC_TLSRPT_RUA_SCHEME "tlsrpt.rua-scheme"	/* neither mailto: nor
							 * https: */
#define REC_TLSRPT_RUA_URI "tlsrpt.rua-uri"	/* not a URI as §3 wants */
#define REC_TLSRPT_MAILTO_ADDRESS "tlsrpt.mailto-address"
#define REC_TLSRPT_EXTENSION "tlsrpt.extension"
/* MTA-STS TXT record (RFC 8461 §3.1) */
#define REC_STS_TXT_SYNTAX "sts.txt-syntax"
#define REC_STS_TXT_ID "sts.txt-id"
/* MTA-STS policy file (RFC 8461 §3.2) */
#define REC_STS_POLICY_SYNTAX "sts.policy-syntax"
#define REC_STS_POLICY_VERSION "sts.policy-version"
#define REC_STS_POLICY_MODE "sts.policy-mode"
#define REC_STS_POLICY_MAX_AGE "sts.policy-max-age"
#define REC_STS_POLICY_MX "sts.policy-mx"
#define REC_STS_POLICY_LINE_ENDS "sts.policy-line-ends"
#define REC_STS_POLICY_DUPLICATE "sts.policy-duplicate"

/* One thing wrong with a record or policy (ERROR), or worth a look
 * (WARNING: senders still use it as meant). */
enum rec_level { REC_WARNING = 1, REC_ERROR = 2 };

struct rec_problem {
	enum rec_level level;
	const char *code;	/* one of REC_* above */
	char text[REC_TEXT_MAX];	/* one line, no control byte */
};

struct rec_problems {
	struct rec_problem *v;
	size_t n;		/* at most REC_PROBLEMS_MAX */
	size_t more;		/* further problems, not kept */
	int worst;		/* highest level seen, kept or not; 0: none */
};

void rec_problems_init(struct rec_problems *pr);
void rec_problems_release(struct rec_problems *pr);
/* The first kept problem with this code, or NULL. */
const struct rec_problem *rec_problems_find(const struct rec_problems *pr,
					    const char *code);
/* "warning", "error" */
const char *rec_level_name(enum rec_level l);

/*
 * TLS-RPT, RFC 8460 §3.
 *
 * tlsrpt_txt_candidate(): true when senders pick this TXT record among
 * those at _smtp._tls: "records that do not begin with "v=TLSRPTv1;" are
 * discarded" — case-sensitive, the ";" right after (white space before it,
 * which the ABNF allows, already makes a record not begin so).
 *
 * tlsrpt_record_parse() returns 0 when senders can use the record: it
 * begins as above, follows the ABNF (or strays from it only where the
 * meaning is plain: warnings), and at least one rua URI is one a sender can
 * deliver to.  Problems of one URI (scheme, address, URI syntax) make that
 * URI unusable, not the record, so 0 may come with ERROR problems.  -1
 * otherwise.  `out` holds what could be read either way.
 */
int tlsrpt_txt_candidate(const char *txt, size_t len);

enum rua_kind { RUA_MAILTO, RUA_HTTPS, RUA_OTHER };

struct tlsrpt_rua {
	enum rua_kind kind;
	int usable;		/* no ERROR problem in this URI */
	char *uri;		/* as written, cleaned */
	char *address;		/* mailto: the percent-decoded addr-spec, when
				 * it has no control byte; else NULL */
	char *host;		/* mailto: the address's domain; https: the
				 * host (no brackets), lower case; else NULL */
	int port;		/* https: the port, 443 by default; else 0 */
};

struct tlsrpt_record {
	struct tlsrpt_rua *rua;	/* every URI of every rua= field, in order */
	size_t n_rua;
	char **ext;		/* extension field names, cleaned, in order */
	size_t n_ext;
};

int tlsrpt_record_parse(const char *txt, size_t len, struct tlsrpt_record *out,
			struct rec_problems *pr);
void tlsrpt_record_release(struct tlsrpt_record *r);

/*
 * MTA-STS TXT record, RFC 8461 §3.1: candidate as above with "v=STSv1;".
 * sts_txt_parse() returns 0 when the record is syntactically valid (with
 * an id), -1 otherwise: §3.1 "if the resulting record is syntactically
 * invalid, senders MUST assume the recipient domain does not have an
 * available MTA-STS Policy".
 */
int sts_txt_candidate(const char *txt, size_t len);

struct sts_txt {
	char id[33];		/* 1 to 32 letters and digits; "" if none */
	char **ext;		/* extension field names, cleaned */
	size_t n_ext;
};

int sts_txt_parse(const char *txt, size_t len, struct sts_txt *out,
		  struct rec_problems *pr);
void sts_txt_release(struct sts_txt *t);

/*
 * MTA-STS policy file, RFC 8461 §3.2.  sts_policy_parse() takes the body as
 * served (LF or CRLF line ends); sts_policy_parse_lines() the same policy as
 * lines without their ends, as TLS-RPT reports carry it ("policy-string",
 * RFC 8460 §4.4); a line ending in CR counts as a CRLF line end.  Both
 * return 0 when senders can apply the policy (no ERROR problem), -1
 * otherwise.  Fields may come in any order; of a repeated field other than
 * mx the first counts (§3.2).
 */
enum sts_mode { STS_MODE_UNKNOWN, STS_MODE_ENFORCE, STS_MODE_TESTING,
		STS_MODE_NONE };

#define STS_LINES_LF 1
#define STS_LINES_CRLF 2

struct sts_policy {
	int version_ok;		/* "version: STSv1" */
	enum sts_mode mode;
	long long max_age;	/* seconds; -1 when missing or not a number */
	char **mx;		/* mx values as written (cleaned), in order */
	size_t n_mx;
	char **ext;		/* extension keys, cleaned */
	size_t n_ext;
	int line_ends;		/* STS_LINES_* seen */
};

int sts_policy_parse(const char *body, size_t len, struct sts_policy *out,
		     struct rec_problems *pr);
int sts_policy_parse_lines(const char *const *lines, size_t n,
			   struct sts_policy *out, struct rec_problems *pr);
/* The same version, mode, max_age and set of mx patterns (order, case,
 * repeats and a trailing dot ignored)?  Line ends and extensions aside. */
int sts_policy_same(const struct sts_policy *a, const struct sts_policy *b);
void sts_policy_release(struct sts_policy *p);
/* "enforce", "testing", "none", "unknown" */
const char *sts_mode_name(enum sts_mode m);

/*
 * RFC 8461 §4.1: does MX host `host` match policy pattern `pat`?  "*." as
 * the whole leftmost label of the pattern stands for exactly one label
 * ("*.example.com" matches "mx.example.com", not "example.com" or
 * "a.b.example.com"); ASCII case is ignored, and a trailing dot on either.
 */
int sts_mx_match(const char *pat, const char *host);

/* A DNS host name in LDH syntax: labels of 1-63 letters, digits and
 * hyphens, no hyphen first or last, at most 253 bytes, an optional
 * trailing dot. */
int check_hostname_valid(const char *name);

#endif
