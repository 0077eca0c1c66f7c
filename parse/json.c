/*
 * json.c — RFC 8460 §4.4 report JSON (json-c) into struct tlsrpt.
 *
 * json-c runs in STRICT mode with UTF-8 validation and a depth cap; the
 * schema is then read field by field.  Required fields and wrong types are
 * errors naming the field path; the deviations real senders make
 * (docs/TOLERANCE.md) are accepted and recorded as TLSRPT_NOTE_* bits.
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse_p.h"
#include "util/count.h"
#include "util/strutil.h"
#include "util/timeutil.h"
#include "util/utf8.h"

struct jctx {
	struct arena *a;
	struct mxd_err *err;
	const struct parse_hints *hints;
	const char *report_id;	/* read first: a hint for policy-domain */
	uint32_t notes;
	char path[256];
	size_t plen;
	struct buf tmp;
};

static void
path_key(struct jctx *c, const char *key, size_t *save)
{
	int n;

	*save = c->plen;
	n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "%s%s",
		     c->plen ? "." : "", key);
	if (n > 0 && (size_t)n < sizeof(c->path) - c->plen)
		c->plen += (size_t)n;
}

static void
path_index(struct jctx *c, size_t i, size_t *save)
{
	int n;

	*save = c->plen;
	n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "[%zu]", i);
	if (n > 0 && (size_t)n < sizeof(c->path) - c->plen)
		c->plen += (size_t)n;
}

static void
path_pop(struct jctx *c, size_t save)
{
	c->plen = save;
	c->path[save] = '\0';
}

/* Error at the current path plus `key`. */
static int fail_at(struct jctx *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail_at(struct jctx *c, const char *key, const char *fmt, ...)
{
	char full[320], tail[384];
	va_list ap;

	snprintf(full, sizeof(full), "%.*s%s%s", (int)c->plen, c->path,
		 c->plen && key ? "." : "", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(tail, sizeof(tail), fmt, ap);
	va_end(ap);
	return mxd_err_set(c->err, MXD_E_SCHEMA, "report JSON: \"%s\" %s",
			   full[0] ? full : "(top level)", tail);
}

static const char *
type_name(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a fractional number";
	case json_type_int: return "a number";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "of unknown type";
}

/* Looks up key, then an alias (QUIRKS E4/E5).  json-c gives NULL for a
 * JSON null, so *present tells null from absent. */
static json_object *
member_p(struct jctx *c, json_object *obj, const char *key, const char *alias,
	 int *present)
{
	json_object *v = NULL;

	*present = 1;
	if (json_object_object_get_ex(obj, key, &v))
		return v;
	if (alias && json_object_object_get_ex(obj, alias, &v)) {
		c->notes |= TLSRPT_NOTE_KEY_ALIAS;
		return v;
	}
	*present = 0;
	return NULL;
}

static json_object *
member(struct jctx *c, json_object *obj, const char *key, const char *alias)
{
	int present;

	return member_p(c, obj, key, alias, &present);
}

/* "missing" or "is null" for a required member that has no value. */
static int
fail_absent(struct jctx *c, json_object *obj, const char *key)
{
	int present;

	member_p(c, obj, key, NULL, &present);
	return fail_at(c, key, present ? "is null" : "missing");
}

/* A cleaned arena copy: valid UTF-8 (json-c checked it), control
 * characters and NULs replaced by U+FFFD.  The scratch buffer has no cap
 * of its own: a string is at most the report's length, and its cleaned
 * copy at most three times that, so a value never comes out cut or empty
 * (the report's own size was capped before json-c saw it). */
static const char *
clean(struct jctx *c, const char *s, size_t n)
{
	int r;

	buf_reset(&c->tmp);
	r = utf8_clean(&c->tmp, s, n);
	if (r < 0)
		abort();	/* unreachable: the buffer has no cap */
	if (r > 0)
		c->notes |= TLSRPT_NOTE_CONTROL_CHARS;
	return arena_strndup(c->a, (const char *)c->tmp.data, c->tmp.len);
}

/*
 * Reads an optional string: absent gives NULL; null and "" give NULL with a
 * note (QUIRKS C4, E7); any other type is an error.  Returns -1 on error.
 */
static int
opt_string(struct jctx *c, json_object *obj, const char *key,
	   const char *alias, const char **out)
{
	int present;
	json_object *v = member_p(c, obj, key, alias, &present);

	*out = NULL;
	if (!present)
		return 0;
	if (!v) {
		c->notes |= TLSRPT_NOTE_NULL_VALUES;
		return 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return fail_at(c, key, "is %s, expected a string",
			       type_name(v));
	if (json_object_get_string_len(v) == 0) {
		c->notes |= TLSRPT_NOTE_NULL_VALUES;
		return 0;
	}
	*out = clean(c, json_object_get_string(v),
		     (size_t)json_object_get_string_len(v));
	return 0;
}

static int
req_string(struct jctx *c, json_object *obj, const char *key, const char **out)
{
	json_object *v = member(c, obj, key, NULL);

	if (!v)
		return fail_absent(c, obj, key);
	if (opt_string(c, obj, key, NULL, out) < 0)
		return -1;
	if (!*out)
		return fail_at(c, key, "is empty");
	return 0;
}

static int
all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* RFC 8460 §4.2: counts are integers.  Digit strings are accepted (noted);
 * negative, fractional and other values are errors. */
static int
req_count(struct jctx *c, json_object *obj, const char *key, uint64_t *out)
{
	json_object *v = member(c, obj, key, NULL);
	char what[64];
	int64_t i;

	if (!v)
		return fail_absent(c, obj, key);
	switch (json_object_get_type(v)) {
	case json_type_int:
		i = json_object_get_int64(v);
		if (i < 0) {
			snprintf(what, sizeof(what), "%lld", (long long)i);
			return fail_at(c, key,
				       "is negative (%s)", what);
		}
		if ((uint64_t)i > COUNT_MAX)
			return fail_at(c, key,
				       "is out of range");
		*out = (uint64_t)i;
		return 0;
	case json_type_double:
		snprintf(what, sizeof(what), "%s", json_object_get_string(v));
		return fail_at(c, key, "is not an integer (%s)",
			       what);
	case json_type_string:
		if (all_digits(json_object_get_string(v)) &&
		    json_object_get_string_len(v) <= 16) {
			unsigned long long u =
				strtoull(json_object_get_string(v), NULL, 10);

			if (u > COUNT_MAX)
				return fail_at(c, key,
					"is out of range");
			c->notes |= TLSRPT_NOTE_COUNT_STRING;
			*out = u;
			return 0;
		}
		return fail_at(c, key,
			       "is a string, expected a non-negative integer");
	default:
		return fail_at(c, key,
			       "is %s, expected a non-negative integer", type_name(v));
	}
}

static int
req_object(struct jctx *c, json_object *obj, const char *key, json_object **out)
{
	json_object *v = member(c, obj, key, NULL);

	if (!v)
		return fail_absent(c, obj, key);
	if (!json_object_is_type(v, json_type_object))
		return fail_at(c, key, "is %s, expected an object",
			       type_name(v));
	*out = v;
	return 0;
}

static int
req_datetime(struct jctx *c, json_object *obj, const char *key, int64_t *out)
{
	const char *s;
	unsigned flags;

	if (req_string(c, obj, key, &s) < 0)
		return -1;
	if (time_parse_rfc3339(s, out, &flags) < 0)
		return fail_at(c, key,
			       "is not a date-time: \"%s\"", s);
	if (flags & TIME_NO_ZONE)
		c->notes |= TLSRPT_NOTE_NO_ZONE;	/* QUIRKS C1: Microsoft 2023 */
	if (flags & ~TIME_NO_ZONE)
		c->notes |= TLSRPT_NOTE_TIME_FORMAT;
	return 0;
}

/* Lower case, no surrounding space, no trailing dot. */
static const char *
norm_domain(struct jctx *c, const char *d)
{
	char *s = arena_strdup(c->a, d);
	size_t n;
	int changed = 0;

	str_trim(s);
	n = strlen(s);
	while (n && s[n - 1] == '.') {
		s[--n] = '\0';
		changed = 1;
	}
	for (char *p = s; *p; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			*p = (char)(*p + 32);
			changed = 1;
		}
	}
	if (changed)
		c->notes |= TLSRPT_NOTE_DOMAIN_CASE;
	return s;
}

/* Reads a list of strings given as an array, a single string, "", null or
 * absent (QUIRKS D1, D3). */
/* A list element; with `trim`, surrounding white space and CRs go first
 * (QUIRKS B8: Google's policy-string lines end in "\r"). */
static const char *
list_elem(struct jctx *c, json_object *e, int trim)
{
	const char *s = json_object_get_string(e);
	size_t n = (size_t)json_object_get_string_len(e), b = 0;

	if (trim) {
		while (b < n && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' ||
				 s[b] == '\n'))
			b++;
		while (n > b && (s[n - 1] == ' ' || s[n - 1] == '\t' ||
				 s[n - 1] == '\r' || s[n - 1] == '\n'))
			n--;
		if (b || n != (size_t)json_object_get_string_len(e))
			c->notes |= TLSRPT_NOTE_POLICY_STRING_WS;
	}
	return clean(c, s + b, n - b);
}

static int
string_list(struct jctx *c, json_object *obj, const char *key, int trim,
	    const char ***out, size_t *n, int *shape_note)
{
	json_object *v = member(c, obj, key, NULL);
	size_t i, len, save;

	*out = NULL;
	*n = 0;
	*shape_note = 0;
	if (!v || json_object_is_type(v, json_type_null)) {
		*shape_note = 1;
		return 0;
	}
	if (json_object_is_type(v, json_type_string)) {
		*shape_note = 1;
		if (json_object_get_string_len(v) == 0)
			return 0;
		*out = arena_array(c->a, 1, sizeof(char *));
		(*out)[0] = list_elem(c, v, trim);
		*n = 1;
		return 0;
	}
	if (!json_object_is_type(v, json_type_array))
		return fail_at(c, key, "is %s, expected an array of strings", type_name(v));
	len = json_object_array_length(v);
	*out = arena_array(c->a, len ? len : 1, sizeof(char *));
	path_key(c, key, &save);
	for (i = 0; i < len; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		size_t s2;

		if (!json_object_is_type(e, json_type_string)) {
			path_index(c, i, &s2);
			fail_at(c, NULL, "is %s, expected a string",
				type_name(e));
			path_pop(c, save);
			return -1;
		}
		(*out)[(*n)++] = list_elem(c, e, trim);
	}
	path_pop(c, save);
	return 0;
}

/*
 * QUIRKS Top 6: Microsoft packs the TLSA RRset as a JSON array inside one
 * string; expand it into one line per record.
 */
static void
fix_policy_strings(struct jctx *c, struct tlsrpt_policy *p)
{
	size_t i, k, total = 0;
	const char **out;

	/* expand packed arrays */
	for (i = 0; i < p->n_strings; i++)
		if (p->strings[i][0] == '[')
			break;
	if (i == p->n_strings)
		return;
	{
		json_object **parsed = arena_array(c->a, p->n_strings,
						   sizeof(*parsed));

		for (i = 0; i < p->n_strings; i++) {
			json_object *v = NULL;

			if (p->strings[i][0] == '[') {
				v = json_tokener_parse(p->strings[i]);
				if (v && !json_object_is_type(v, json_type_array)) {
					json_object_put(v);
					v = NULL;
				}
				for (k = 0; v && k < json_object_array_length(v); k++)
					if (!json_object_is_type(
						    json_object_array_get_idx(v, k),
						    json_type_string)) {
						json_object_put(v);
						v = NULL;
					}
			}
			parsed[i] = v;
			total += v ? json_object_array_length(v) : 1;
		}
		out = arena_array(c->a, total ? total : 1, sizeof(char *));
		total = 0;
		for (i = 0; i < p->n_strings; i++) {
			if (!parsed[i]) {
				out[total++] = p->strings[i];
				continue;
			}
			c->notes |= TLSRPT_NOTE_TLSA_PACKED;
			for (k = 0; k < json_object_array_length(parsed[i]); k++) {
				json_object *e = json_object_array_get_idx(parsed[i], k);

				out[total++] = clean(c, json_object_get_string(e),
					(size_t)json_object_get_string_len(e));
			}
			json_object_put(parsed[i]);
		}
		p->strings = out;
		p->n_strings = total;
	}
}

static int
is_known_result(const char *t)
{
	static const char *const known[] = {
		"starttls-not-supported", "certificate-host-mismatch",
		"certificate-expired", "certificate-not-trusted",
		"validation-failure", "tlsa-invalid", "dnssec-invalid",
		"dane-required", "sts-policy-fetch-error", "sts-policy-invalid",
		"sts-webpki-invalid",
	};
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(t, known[i]) == 0)
			return 1;
	return 0;
}

static int
read_detail(struct jctx *c, json_object *d, struct tlsrpt_detail *out)
{
	if (!json_object_is_type(d, json_type_object))
		return fail_at(c, NULL, "is %s, expected an object",
			       type_name(d));
	if (req_string(c, d, "result-type", &out->result_type) < 0 ||
	    req_count(c, d, "failed-session-count", &out->count) < 0 ||
	    opt_string(c, d, "sending-mta-ip", NULL, &out->sending_ip) < 0 ||
	    opt_string(c, d, "receiving-mx-hostname", "receiving-mx-host-name",
		       &out->receiving_mx) < 0 ||
	    opt_string(c, d, "receiving-mx-helo", NULL, &out->receiving_helo) < 0 ||
	    opt_string(c, d, "receiving-ip", NULL, &out->receiving_ip) < 0 ||
	    opt_string(c, d, "additional-information", "additional-info-uri",
		       &out->additional_info) < 0 ||
	    opt_string(c, d, "failure-reason-code", NULL, &out->reason_code) < 0)
		return -1;
	if (!is_known_result(out->result_type))
		c->notes |= TLSRPT_NOTE_UNKNOWN_RESULT_TYPE;	/* QUIRKS E10 */
	if (out->receiving_mx)
		out->receiving_mx = norm_domain(c, out->receiving_mx);
	return 0;
}

/* The domain after the last '_' of a report-id, if it is one. */
static const char *
report_id_domain(struct jctx *c, const char *id)
{
	const char *u = id ? strrchr(id, '_') : NULL;

	if (!u || !parse_domain_ok(u + 1))
		return NULL;
	return arena_strdup(c->a, u + 1);
}

static int
recover_domain(struct jctx *c, struct tlsrpt_policy *p, struct arena *a)
{
	const struct parse_hints *h = c->hints;
	const char *d;

	/* QUIRKS D5: Postfix/sys4 omitted policy-domain for no-policy-found */
	if (h && h->report_domain && *h->report_domain) {
		p->domain = h->report_domain;
		p->domain_source = TLSRPT_DOMAIN_HEADER;
		c->notes |= TLSRPT_NOTE_DOMAIN_HEADER;
	} else if (h && h->subject_domain && *h->subject_domain) {
		p->domain = h->subject_domain;
		p->domain_source = TLSRPT_DOMAIN_SUBJECT;
		c->notes |= TLSRPT_NOTE_DOMAIN_SUBJECT;
	} else if (h && h->filename && (d = filename_domain(h->filename, a))) {
		p->domain = d;
		p->domain_source = TLSRPT_DOMAIN_FILENAME;
		c->notes |= TLSRPT_NOTE_DOMAIN_FILENAME;
	} else if ((d = report_id_domain(c, c->report_id))) {
		/* Google "<date>_<domain>", sys4 "<date>_idx<N>_<domain>" */
		p->domain = d;
		p->domain_source = TLSRPT_DOMAIN_REPORT_ID;
		c->notes |= TLSRPT_NOTE_DOMAIN_REPORT_ID;
	} else {
		return fail_at(c, "policy-domain",
			       "missing and not recoverable from a TLS-Report-Domain header, the Subject, the file name or the report-id");
	}
	p->domain = norm_domain(c, p->domain);
	if (!*p->domain)
		return fail_at(c, "policy-domain", "is empty");
	return 0;
}

static int
read_policy(struct jctx *c, json_object *e, struct tlsrpt_policy *p)
{
	json_object *pol, *sum, *fd;
	size_t save, i, len;
	uint64_t dsum = 0;
	int shape;

	if (!json_object_is_type(e, json_type_object))
		return fail_at(c, NULL, "is %s, expected an object",
			       type_name(e));
	if (req_object(c, e, "policy", &pol) < 0 ||
	    req_object(c, e, "summary", &sum) < 0)
		return -1;

	path_key(c, "policy", &save);
	if (req_string(c, pol, "policy-type", &p->type) < 0)
		return -1;
	if (!str_casecmp(p->type, "sts") || !str_casecmp(p->type, "tlsa") ||
	    !str_casecmp(p->type, "no-policy-found")) {
		char *t = arena_strdup(c->a, p->type);

		str_lower(t);
		p->type = t;
	} else {
		c->notes |= TLSRPT_NOTE_UNKNOWN_POLICY_TYPE;	/* QUIRKS D7 */
	}
	if (opt_string(c, pol, "policy-domain", NULL, &p->domain) < 0)
		return -1;
	if (p->domain) {
		p->domain = norm_domain(c, p->domain);
		p->domain_source = TLSRPT_DOMAIN_JSON;
	}
	if (!p->domain || !*p->domain) {
		if (recover_domain(c, p, c->a) < 0)
			return -1;
	}
	if (string_list(c, pol, "policy-string", 1, &p->strings, &p->n_strings,
			&shape) < 0)
		return -1;
	if (shape && strcmp(p->type, "no-policy-found") != 0)
		c->notes |= TLSRPT_NOTE_POLICY_STRING_SHAPE;	/* QUIRKS Top 5 */
	fix_policy_strings(c, p);
	{
		json_object *mx = member(c, pol, "mx-host", NULL);

		if (mx && json_object_is_type(mx, json_type_string))
			c->notes |= TLSRPT_NOTE_MX_HOST_STRING;	/* errata 6241 */
		if (string_list(c, pol, "mx-host", 1, &p->mx_hosts, &p->n_mx_hosts,
				&shape) < 0)
			return -1;
	}
	path_pop(c, save);

	path_key(c, "summary", &save);
	if (req_count(c, sum, "total-successful-session-count", &p->successful) < 0 ||
	    req_count(c, sum, "total-failure-session-count", &p->failed) < 0)
		return -1;
	path_pop(c, save);

	fd = member(c, e, "failure-details", NULL);
	if (fd && !json_object_is_type(fd, json_type_null)) {
		if (!json_object_is_type(fd, json_type_array))
			return fail_at(c, "failure-details", "is %s, expected an array", type_name(fd));
		len = json_object_array_length(fd);
		p->details = arena_array(c->a, len ? len : 1, sizeof(*p->details));
		path_key(c, "failure-details", &save);
		for (i = 0; i < len; i++) {
			size_t s2;

			path_index(c, i, &s2);
			if (read_detail(c, json_object_array_get_idx(fd, i),
					&p->details[i]) < 0)
				return -1;
			path_pop(c, s2);
			dsum += p->details[i].count;
		}
		path_pop(c, save);
		p->n_details = len;
	}
	/* QUIRKS Top 9: details may overlap; never "fix" the totals */
	if (p->n_details && dsum != p->failed)
		c->notes |= TLSRPT_NOTE_DETAIL_SUM;
	if (!p->n_details && p->failed)
		c->notes |= TLSRPT_NOTE_NO_SUMMARY_FAILURES;
	return 0;
}

static const char *
domain_of_address(const char *addr, struct arena *a)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;

	if (!at || !at[1])
		return NULL;
	return arena_strdup(a, at + 1);
}

static int
read_report(struct jctx *c, json_object *root, struct tlsrpt *r)
{
	json_object *dr, *pols, *v;
	size_t i, len, save;

	if (!json_object_is_type(root, json_type_object))
		return mxd_err_set(c->err, MXD_E_SCHEMA,
				   "report JSON: top level is %s, expected an object",
				   type_name(root));
	if (opt_string(c, root, "organization-name", NULL, &r->org) < 0)
		return -1;
	v = member(c, root, "contact-info", NULL);
	if (opt_string(c, root, "contact-info", NULL, &r->contact) < 0)
		return -1;
	if (!r->contact && (!v || json_object_is_type(v, json_type_null)))
		c->notes |= TLSRPT_NOTE_CONTACT_NULL;	/* QUIRKS C4: Stalwart */
	if (!r->org) {
		const struct parse_hints *h = c->hints;
		const char *o = h && h->submitter && *h->submitter ? h->submitter : NULL;

		if (!o)
			o = domain_of_address(r->contact, c->a);
		if (!o && h && h->filename)
			o = filename_submitter(h->filename, c->a);
		if (!o)
			return fail_at(c, "organization-name",
				       "missing, and no TLS-Report-Submitter or contact-info to use");
		r->org = o;
		c->notes |= TLSRPT_NOTE_ORG_RECOVERED;
	}
	if (req_string(c, root, "report-id", &r->report_id) < 0)
		return -1;
	c->report_id = r->report_id;
	if (req_object(c, root, "date-range", &dr) < 0)
		return -1;
	path_key(c, "date-range", &save);
	if (req_datetime(c, dr, "start-datetime", &r->start) < 0 ||
	    req_datetime(c, dr, "end-datetime", &r->end) < 0)
		return -1;
	if (r->end < r->start)
		return fail_at(c, "end-datetime",
			       "is before start-datetime");
	path_pop(c, save);

	pols = member(c, root, "policies", NULL);
	if (!pols)
		return fail_absent(c, root, "policies");
	if (!json_object_is_type(pols, json_type_array))
		return fail_at(c, "policies",
			       "is %s, expected an array",
			       type_name(pols));
	len = json_object_array_length(pols);
	if (!len)
		c->notes |= TLSRPT_NOTE_NO_POLICIES;	/* parsedmarc CHANGELOG */
	r->policies = arena_array(c->a, len ? len : 1, sizeof(*r->policies));
	path_key(c, "policies", &save);
	for (i = 0; i < len; i++) {
		size_t s2;

		path_index(c, i, &s2);
		if (read_policy(c, json_object_array_get_idx(pols, i),
				&r->policies[i]) < 0)
			return -1;
		path_pop(c, s2);
	}
	path_pop(c, save);
	r->n_policies = len;
	return 0;
}

struct tlsrpt *
parse_report_json(const char *json, size_t len, const struct parse_hints *hints,
		  const struct parse_limits *limits, struct arena *a,
		  struct mxd_err *err)
{
	struct parse_limits def;
	struct budget b;

	if (!limits) {
		parse_limits_default(&def);
		limits = &def;
	}
	budget_init(&b, limits);
	return json_read(json, len, hints, limits, &b, a, err);
}

struct tlsrpt *
json_read(const char *json, size_t len, const struct parse_hints *hints,
	  const struct parse_limits *limits, struct budget *b, struct arena *a,
	  struct mxd_err *err)
{
	struct json_tokener *tok;
	json_object *root;
	struct jctx c;
	struct tlsrpt *r;
	enum json_tokener_error jerr;
	size_t end;
	uint32_t notes = 0;
	size_t bom = 0, cost;

	/* QUIRKS B6: a UTF-8 byte-order mark */
	if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0) {
		json += 3;
		len -= 3;
		bom = 3;
		notes |= TLSRPT_NOTE_BOM;
	}
	if (len > limits->max_report) {
		mxd_err_set(err, MXD_E_TOOBIG, "report JSON: %zu bytes exceed the "
			    "%zu-byte cap", len, limits->max_report);
		return NULL;
	}
	if (len > INT32_MAX - 1) {
		mxd_err_set(err, MXD_E_TOOBIG, "report JSON: too large");
		return NULL;
	}
	/* json-c's tree can need 250 times the text ("{},{},..."): decide
	 * before it allocates anything */
	cost = json_cost(json, len);
	if (cost > b->max) {
		/* this report alone: its part fails, the message goes on */
		mxd_err_set(err, MXD_E_TOOBIG, "report JSON: reading it would need "
			    "about %zu bytes of memory, more than the %zu-byte "
			    "budget", cost, b->max);
		return NULL;
	}
	if (budget_take(b, cost) < 0) {
		mxd_err_set(err, MXD_E_TOOBIG, "report JSON: the message's budget "
			    "is spent");
		return NULL;
	}
	tok = json_tokener_new_ex(limits->max_depth);
	if (!tok) {
		mxd_err_set(err, MXD_E_INTERNAL, "json-c: cannot allocate a tokener");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, json, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!root && jerr == json_tokener_continue) {
		json_tokener_free(tok);
		mxd_err_set(err, MXD_E_JSON, "report JSON: truncated at byte %zu",
			    len + bom);
		return NULL;
	}
	if (!root || jerr != json_tokener_success) {
		json_tokener_free(tok);
		if (root)
			json_object_put(root);
		/* json-c stops past the bad byte: find it exactly */
		if (jerr == json_tokener_error_parse_utf8_string &&
		    utf8_check(json, len) < len)
			mxd_err_set(err, MXD_E_JSON, "report JSON: invalid UTF-8 at "
				    "byte %zu", utf8_check(json, len) + bom);
		else
			mxd_err_set(err, MXD_E_JSON, "report JSON: %s at byte %zu",
				    json_tokener_error_desc(jerr), end + bom);
		return NULL;
	}
	json_tokener_free(tok);
	/* only white space may follow the value */
	for (; end < len; end++) {
		char ch = json[end];

		if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n' && ch != '\0') {
			json_object_put(root);
			mxd_err_set(err, MXD_E_JSON,
				    "report JSON: unexpected data after the report at "
				    "byte %zu", end + bom);
			return NULL;
		}
	}

	memset(&c, 0, sizeof(c));
	c.a = a;
	c.err = err;
	c.hints = hints;
	c.notes = notes;
	buf_init(&c.tmp, BUF_NOCAP);
	r = arena_alloc(a, sizeof(*r));
	if (read_report(&c, root, r) < 0) {
		json_object_put(root);
		buf_release(&c.tmp);
		return NULL;
	}
	json_object_put(root);
	buf_release(&c.tmp);
	r->notes = c.notes;
	r->json_len = len;
	sha256(json, len, r->hash);
	tlsrpt_digest(r, r->digest);
	if (tlsrpt_count(r, a) < 0) {
		mxd_err_set(err, MXD_E_SCHEMA, "report JSON: its session counts add "
			    "up to more than 2^53 (%" PRIu64 ")", COUNT_MAX);
		return NULL;
	}
	return r;
}
