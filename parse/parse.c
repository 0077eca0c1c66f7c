/*
 * parse.c — the parse entry point: sniff the input, walk the MIME tree,
 * decompress and read each report candidate (see parse.h).
 */
#include <stdio.h>
#include <string.h>

#include "parse/parse_p.h"
#include "util/strutil.h"
#include "util/utf8.h"

void
parse_limits_default(struct parse_limits *l)
{
	l->max_message = PARSE_DEFAULT_MAX_MESSAGE;
	l->max_report = PARSE_DEFAULT_MAX_REPORT;
	l->max_depth = PARSE_DEFAULT_MAX_DEPTH;
}

static const char *const note_names[TLSRPT_NOTE_COUNT] = {
	"no-zone", "time-format", "mx-host-string", "domain-from-header",
	"domain-from-subject", "domain-from-filename", "org-recovered",
	"count-as-string", "tlsa-packed", "key-alias", "gzip-trailing",
	"gzip-multi", "not-gzip", "bom", "detail-sum", "null-values",
	"control-chars", "policy-string-ws", "policy-string-shape",
	"no-policies", "unknown-policy-type", "unknown-result-type",
	"failures-without-details", "domain-case", "zip", "contact-null",
	"mime-unclosed", "domain-from-report-id",
};

const char *
tlsrpt_note_name(unsigned bit)
{
	return bit < TLSRPT_NOTE_COUNT ? note_names[bit] : "?";
}

void
tlsrpt_notes_format(uint32_t notes, struct buf *out)
{
	unsigned i;
	int first = 1;

	for (i = 0; i < TLSRPT_NOTE_COUNT; i++) {
		if (!(notes & (1u << i)))
			continue;
		if (!first)
			buf_addc(out, ',');
		buf_adds(out, note_names[i]);
		first = 0;
	}
}

uint32_t
tlsrpt_notes_parse(const char *s)
{
	uint32_t notes = 0;
	unsigned i;

	while (s && *s) {
		size_t n = strcspn(s, ",");

		for (i = 0; i < TLSRPT_NOTE_COUNT; i++)
			if (strlen(note_names[i]) == n && !strncmp(s, note_names[i], n))
				notes |= 1u << i;
		s += n;
		if (*s == ',')
			s++;
	}
	return notes;
}

int
parse_domain_ok(const char *s)
{
	size_t label = 0, n = 0;
	int dots = 0;

	for (; *s; s++, n++) {
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
			dots++;
			continue;
		}
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_') ||
		    ++label > 63)
			return 0;
	}
	return dots > 0 && n <= 254;
}

/* Field `idx` of a TLS-RPT file name (RFC 8460 §5.1), or NULL. */
static const char *
filename_field(const char *name, int idx, struct arena *a)
{
	const char *base = strrchr(name, '/'), *p, *e;
	int i, fields = 1;

	base = base ? base + 1 : name;
	for (p = base; *p; p++)
		if (*p == '!')
			fields++;
	if (fields < 4)
		return NULL;
	p = base;
	for (i = 0; i < idx; i++)
		p = strchr(p, '!') + 1;
	e = strchr(p, '!');
	if (!e || e == p)
		return NULL;
	{
		char *r = arena_strndup(a, p, (size_t)(e - p));

		str_lower(r);
		return parse_domain_ok(r) ? r : NULL;
	}
}

const char *
filename_domain(const char *name, struct arena *a)
{
	return filename_field(name, 1, a);
}

const char *
filename_submitter(const char *name, struct arena *a)
{
	return filename_field(name, 0, a);
}

/* RFC 8460 §5.3: "Report Domain: <domain> Submitter: <s> Report-ID: <id>",
 * folded anywhere (QUIRKS A9). */
const char *
subject_domain(const char *subject, struct arena *a)
{
	char *s = arena_strdup(a, subject), *w, *r;
	const char *p;
	size_t n;

	/* collapse folding white space */
	for (w = s, p = subject; *p; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
			if (w > s && w[-1] != ' ')
				*w++ = ' ';
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	p = mem_casemem(s, strlen(s), "report domain:");
	if (!p)
		return NULL;
	p += strlen("report domain:");
	while (*p == ' ')
		p++;
	n = strcspn(p, " ;<>\"");
	if (!n)
		return NULL;
	r = arena_strndup(a, p, n);
	str_lower(r);
	return parse_domain_ok(r) ? r : NULL;
}

const char *
parse_clean(struct arena *a, const char *s, size_t n)
{
	struct buf b;
	const char *r;

	buf_init(&b, BUF_NOCAP);
	utf8_clean_text(&b, s, n, UTF8_TAB_SPACE);
	r = arena_strndup(a, buf_cstr(&b), b.len);
	buf_release(&b);
	return r;
}

static void
fail_part(struct parse_result *res, struct parse_part *p, enum mxd_status st,
	  const char *reason)
{
	p->report = NULL;
	p->status = st;
	p->reason = parse_clean(&res->arena, reason, strlen(reason));
	res->n_failed++;
}

static struct parse_part *
new_part(struct parse_result *res, size_t *cap, const char *name)
{
	struct parse_part *p;

	if (res->n_parts == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct parse_part *n = arena_array(&res->arena, ncap, sizeof(*n));

		if (res->n_parts)
			memcpy(n, res->parts, res->n_parts * sizeof(*n));
		res->parts = n;
		*cap = ncap;
	}
	p = &res->parts[res->n_parts];
	memset(p, 0, sizeof(*p));
	p->index = (unsigned)res->n_parts;
	p->name = name;
	res->n_parts++;
	return p;
}

static size_t
skip_ws_bom(const unsigned char *p, size_t n)
{
	size_t i = 0;

	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

static int
is_gzip(const unsigned char *p, size_t n)
{
	return n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static int
is_zip(const unsigned char *p, size_t n)
{
	return n >= 4 && p[0] == 'P' && p[1] == 'K' && p[2] == 3 && p[3] == 4;
}

/* A weak candidate counts only if its JSON mentions the RFC 8460 keys. */
static int
looks_like_tlsrpt(const unsigned char *p, size_t n)
{
	return mem_casemem((const char *)p, n, "\"policies\"") ||
	       mem_casemem((const char *)p, n, "\"date-range\"") ||
	       mem_casemem((const char *)p, n, "\"organization-name\"");
}

/* What read_candidate() works with besides the candidate. */
struct reader {
	struct parse_result *res;
	size_t cap;			/* of res->parts */
	const struct parse_limits *lim;
	struct budget budget;		/* of the whole message */
};

static int read_candidate(struct reader *rd, const struct mime_cand *c);

/*
 * A zip archive (QUIRKS Top 14): each .json or .json.gz entry (or the only
 * entry) is read as a candidate of its own; a zip inside is not opened.
 */
static int
read_zip(struct reader *rd, const struct mime_cand *c, const unsigned char *p,
	 size_t n)
{
	struct parse_result *res = rd->res;
	struct zip_entry *e;
	struct mxd_err err;
	size_t ne, i, before = res->n_parts;
	int any = 0;

	if (c->nested) {
		if (c->strength == CAND_WEAK)
			return 0;
		fail_part(res, new_part(res, &rd->cap, c->filename), MXD_E_DECODE,
			  "zip: an archive inside an archive is not opened");
		return 1;
	}
	mxd_err_clear(&err);
	if (zip_entries(p, n, rd->lim->max_report, &rd->budget, &res->arena, &e,
			&ne, &err) < 0) {
		if (rd->budget.over || c->strength == CAND_WEAK)
			return 0;
		fail_part(res, new_part(res, &rd->cap, c->filename ? c->filename
							   : c->media_type),
			  err.code, err.text);
		return 1;
	}
	for (i = 0; i < ne && !rd->budget.over; i++) {
		struct mime_cand sub = *c;

		sub.nested = 1;
		sub.filename = e[i].name;
		sub.media_type = "application/zip";
		sub.data = e[i].data;
		sub.len = e[i].len;
		if (!sub.hints.filename || strchr(e[i].name, '!'))
			sub.hints.filename = e[i].name;
		any |= read_candidate(rd, &sub);
	}
	for (i = before; i < res->n_parts; i++)
		if (res->parts[i].report)
			res->parts[i].report->notes |= TLSRPT_NOTE_ZIP;
	if (!any && c->strength == CAND_STRONG) {
		fail_part(res, new_part(res, &rd->cap, c->filename), MXD_E_NOTREPORT,
			  "zip: no report in the archive");
		return 1;
	}
	return any;
}

/*
 * Reads one candidate.  Returns 1 with the part filled, 0 when a weak
 * candidate turns out not to be a report (no part is added) or the
 * message's budget ran out (rd->budget.over).
 */
static int
read_candidate(struct reader *rd, const struct mime_cand *c)
{
	struct parse_result *res = rd->res;
	const struct parse_limits *lim = rd->lim;
	const unsigned char *data = c->data;
	size_t len = c->len, off, cap;
	struct parse_part *part;
	struct mxd_err err;
	struct buf out;
	uint32_t notes = 0;
	struct tlsrpt *r;
	int weak = c->strength == CAND_WEAK;
	const char *name = c->filename ? c->filename : c->media_type;

	if (c->error) {
		if (weak)
			return 0;
		fail_part(res, new_part(res, &rd->cap, name), MXD_E_DECODE, c->error);
		return 1;
	}
	/* the report's cap, or what is left of the message's budget */
	cap = lim->max_report < rd->budget.left ? lim->max_report
						: rd->budget.left;
	buf_init(&out, cap);
	off = skip_ws_bom(data, len);
	if (is_gzip(data + off, len - off)) {
		enum mxd_status st = parse_gunzip(data + off, len - off, &out,
						  &notes, &err);

		/* what was inflated counts, even when it ended at the cap */
		if (st == MXD_E_TOOBIG && (cap < lim->max_report ||
					   budget_take(&rd->budget, cap) < 0))
			rd->budget.over = 1;
		if (st == MXD_OK)
			budget_take(&rd->budget, out.len);
		if (st != MXD_OK || rd->budget.over) {
			buf_release(&out);
			if (weak || rd->budget.over)
				return 0;
			fail_part(res, new_part(res, &rd->cap, name), st, err.text);
			return 1;
		}
		data = out.data;
		len = out.len;
		off = skip_ws_bom(data, len);
	} else if (is_zip(data + off, len - off)) {
		buf_release(&out);
		return read_zip(rd, c, data + off, len - off);
	} else if (off < len && data[off] == '{') {
		/* QUIRKS B4: plain JSON inside a "+gzip" part */
		if (str_has_suffix_ci(c->media_type, "gzip") ||
		    (c->filename && str_has_suffix_ci(c->filename, ".gz")))
			notes |= TLSRPT_NOTE_NOT_GZIP;
	} else {
		buf_release(&out);
		if (weak)
			return 0;
		if (off >= len)
			fail_part(res, new_part(res, &rd->cap, name), MXD_E_EMPTY,
				  "report part is empty");
		else
			fail_part(res, new_part(res, &rd->cap, name), MXD_E_DECODE,
				  "report part is neither JSON nor gzip");
		return 1;
	}
	if (off >= len || data[off] != '{') {
		/* e.g. a DMARC XML report in a shared mailbox */
		buf_release(&out);
		if (weak)
			return 0;
		fail_part(res, new_part(res, &rd->cap, name), MXD_E_JSON,
			  off >= len ? "report is empty after decompression"
				     : "decompressed report is not JSON");
		return 1;
	}
	if (weak && !looks_like_tlsrpt(data, len)) {
		buf_release(&out);
		return 0;
	}
	mxd_err_clear(&err);
	r = json_read((const char *)data, len, &c->hints, lim, &rd->budget,
		      &res->arena, &err);
	buf_release(&out);
	if (rd->budget.over)
		return 0;
	part = new_part(res, &rd->cap, name);
	if (!r) {
		fail_part(res, part, err.code, err.text);
		return 1;
	}
	r->notes |= notes;
	part->report = r;
	part->status = MXD_OK;
	return 1;
}

/* The message ran out of budget: whatever was read, it is refused whole,
 * with one reason (a hundred "too large" parts would say nothing more). */
static void
over_budget(struct reader *rd)
{
	char msg[200];

	rd->res->n_parts = 0;
	rd->res->n_failed = 0;
	snprintf(msg, sizeof(msg), "message needs more than its %zu-byte budget "
		 "for decoded and decompressed parts and their JSON",
		 rd->budget.max);
	fail_part(rd->res, new_part(rd->res, &rd->cap, NULL), MXD_E_TOOBIG, msg);
}

int
parse_is_mail(const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t off = skip_ws_bom(p, len);

	if (off == len)
		return 0;
	return !(p[off] == '{' || p[off] == '[' || is_gzip(p + off, len - off) ||
		 is_zip(p + off, len - off));
}

enum mxd_status
parse_message(const void *data, size_t len, const struct parse_input *in,
	      struct parse_result *res)
{
	struct parse_limits def;
	const struct parse_limits *lim = in && in->limits ? in->limits : NULL;
	const unsigned char *p = data;
	const char *name = NULL;
	struct reader rd;
	struct mime_walk w;
	size_t off, i;
	char msg[160];

	memset(res, 0, sizeof(*res));
	arena_init(&res->arena);
	if (in && in->name)	/* after the memset: the arena is new */
		name = parse_clean(&res->arena, in->name, strlen(in->name));
	if (!lim) {
		parse_limits_default(&def);
		lim = &def;
	}
	memset(&rd, 0, sizeof(rd));
	rd.res = res;
	rd.lim = lim;
	budget_init(&rd.budget, lim);
	if (len == 0) {
		fail_part(res, new_part(res, &rd.cap, NULL), MXD_E_EMPTY,
			  "empty input");
		return MXD_OK;
	}
	if (len > lim->max_message) {
		snprintf(msg, sizeof(msg), "message of %zu bytes exceeds the %zu-byte cap",
			 len, lim->max_message);
		fail_part(res, new_part(res, &rd.cap, NULL), MXD_E_TOOBIG, msg);
		return MXD_OK;
	}
	off = skip_ws_bom(p, len);
	if (off == len) {
		fail_part(res, new_part(res, &rd.cap, NULL), MXD_E_EMPTY,
			  "input holds only white space");
		return MXD_OK;
	}
	/* A raw report (RFC 8460 §5.4 HTTPS body, or a saved attachment). */
	if (!parse_is_mail(p, len)) {
		struct mime_cand c;
		const char *base = name ? strrchr(name, '/') : NULL;

		memset(&c, 0, sizeof(c));
		c.strength = CAND_STRONG;
		c.media_type = is_gzip(p + off, len - off) ? "application/tlsrpt+gzip"
							    : "application/tlsrpt+json";
		c.filename = name ? (base ? base + 1 : name) : NULL;
		c.hints.filename = c.filename;
		c.data = p;
		c.len = len;
		if (p[off] == '[') {
			fail_part(res, new_part(res, &rd.cap, c.filename), MXD_E_SCHEMA,
				  "report JSON: top level is an array, expected an object");
			return MXD_OK;
		}
		read_candidate(&rd, &c);
		if (rd.budget.over)
			over_budget(&rd);
		return MXD_OK;
	}
	res->mail = 1;
	mime_walk((const char *)p, len, lim, name, &rd.budget, &res->arena, &w);
	if (rd.budget.over) {
		over_budget(&rd);
		return MXD_OK;
	}
	if (w.error) {
		fail_part(res, new_part(res, &rd.cap, NULL), MXD_E_MIME, w.error);
		return MXD_OK;
	}
	for (i = 0; i < w.n_cands && !rd.budget.over; i++) {
		if (!w.cands[i].hints.filename && name)
			w.cands[i].hints.filename = name;
		if (read_candidate(&rd, &w.cands[i]) &&
		    w.repaired && res->parts[res->n_parts - 1].report)
			res->parts[res->n_parts - 1].report->notes |=
				TLSRPT_NOTE_MIME_UNCLOSED;
	}
	if (rd.budget.over) {
		over_budget(&rd);
		return MXD_OK;
	}
	if (res->n_parts == 0 && w.tlsrpt_message) {
		/* TLS-RPT headers but no report part: keep it, say why */
		fail_part(res, new_part(res, &rd.cap, NULL), MXD_E_NOTREPORT,
			  "TLS-RPT mail without a report part");
		return MXD_OK;
	}
	return res->n_parts ? MXD_OK : MXD_E_NOTREPORT;
}

void
parse_result_release(struct parse_result *res)
{
	if (!res)
		return;
	arena_release(&res->arena);
	res->parts = NULL;
	res->n_parts = 0;
}
