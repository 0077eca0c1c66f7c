/*
 * mime.c — find the report parts of a mail (RFC 5322, RFC 2045-2049,
 * RFC 6522 multipart/report, RFC 8460 §5.3) with libetpan's MIME parser.
 *
 * Every leaf of the tree is considered (QUIRKS A2: the report is not always
 * the second part; Microsoft puts HTML first), including the leaves of a
 * forwarded message/rfc822.  A part is a report candidate by media type
 * first, then by file name, then by the mail's TLS-RPT headers; parse.c
 * then decides by content (QUIRKS Top 13-14).  Bodies are decoded here
 * (base64 leniently, QUIRKS A7; quoted-printable) and copied into the
 * caller's arena, so nothing points into libetpan's structures afterwards.
 */
#include <libetpan/libetpan.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse_p.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define RFC2231_SEGS 64

/* libetpan takes parameter names as char * */
static char param_name[] = "name";
static char param_report_type[] = "report-type";
static char param_boundary[] = "boundary";

struct walk_ctx {
	struct arena *a;
	struct mime_walk *w;
	const struct parse_limits *lim;
	struct budget *budget;
	int part_no;
};

/* Valid, cleaned UTF-8 copy of a header or parameter value. */
static const char *
clean_copy(struct arena *a, const char *s, size_t n)
{
	return parse_clean(a, s, n);
}

/* Decodes RFC 2047 encoded words into UTF-8 (raw 8-bit kept as UTF-8),
 * unfolding the value first (RFC 5322 §2.2.3). */
static const char *
decode_words(struct arena *a, const char *raw)
{
	size_t idx = 0;
	char *out = NULL, *s, *p;
	const char *r;

	if (!raw)
		return NULL;
	s = arena_strdup(a, raw);
	for (p = s; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	if (!strstr(s, "=?"))
		return clean_copy(a, s, strlen(s));
	if (mailmime_encoded_phrase_parse("utf-8", s, strlen(s), &idx, "utf-8",
					  &out) != MAILIMF_NO_ERROR || !out)
		return clean_copy(a, s, strlen(s));
	r = clean_copy(a, out, strlen(out));
	free(out);
	return r;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Appends an RFC 2231 value segment, percent-decoding when `encoded`. */
static void
rfc2231_add(struct buf *b, const char *v, int encoded)
{
	for (; *v; v++) {
		if (encoded && v[0] == '%' && hexval(v[1]) >= 0 && hexval(v[2]) >= 0) {
			buf_addc(b, hexval(v[1]) << 4 | hexval(v[2]));
			v += 2;
		} else {
			buf_addc(b, *v);
		}
	}
}

/* Latin-1 to UTF-8, for RFC 2231 values in ISO-8859-1. */
static void
latin1_to_utf8(struct buf *b)
{
	struct buf o;
	size_t i;

	buf_init(&o, b->max * 2);
	for (i = 0; i < b->len; i++) {
		unsigned char ch = b->data[i];

		if (ch < 0x80) {
			buf_addc(&o, ch);
		} else {
			buf_addc(&o, 0xc0 | ch >> 6);
			buf_addc(&o, 0x80 | (ch & 0x3f));
		}
	}
	buf_release(b);
	*b = o;
}

/*
 * The file name of a part: Content-Disposition filename (RFC 2047 words
 * decoded here: libetpan leaves them), RFC 2231 filename* and its
 * continuations (unsupported by libetpan), else Content-Type name (which
 * libetpan has already decoded), else NULL.
 */
static const char *
part_filename(struct arena *a, struct mailmime *m)
{
	struct mailmime_disposition *disp = NULL;
	clistiter *it;
	struct buf b;
	const char *r = NULL, *charset = NULL;

	if (m->mm_mime_fields) {
		for (it = clist_begin(m->mm_mime_fields->fld_list); it;
		     it = clist_next(it)) {
			struct mailmime_field *f = clist_content(it);

			if (f->fld_type == MAILMIME_FIELD_DISPOSITION)
				disp = f->fld_data.fld_disposition;
		}
	}
	if (disp) {
		/* RFC 2231: filename*=charset'lang'pct or filename*0*, *1, ... */
		const char *seg[RFC2231_SEGS] = {NULL};
		int seg_enc[RFC2231_SEGS] = {0}, nseg = 0, i;

		for (it = clist_begin(disp->dsp_parms); it; it = clist_next(it)) {
			struct mailmime_disposition_parm *p = clist_content(it);
			const char *name, *rest;
			char *end;
			long k;

			if (p->pa_type != MAILMIME_DISPOSITION_PARM_PARAMETER)
				continue;
			name = p->pa_data.pa_parameter->pa_name;
			if (!name || str_ncasecmp(name, "filename*", 9) != 0)
				continue;
			rest = name + 9;
			if (*rest == '\0') {
				seg[0] = p->pa_data.pa_parameter->pa_value;
				seg_enc[0] = 1;
				nseg = nseg > 1 ? nseg : 1;
				continue;
			}
			k = strtol(rest, &end, 10);
			if (end == rest || k < 0 || k >= RFC2231_SEGS ||
			    (*end && strcmp(end, "*") != 0))
				continue;
			seg[k] = p->pa_data.pa_parameter->pa_value;
			seg_enc[k] = *end == '*';
			if (k + 1 > nseg)
				nseg = (int)k + 1;
		}
		if (nseg && seg[0]) {
			buf_init(&b, 4096);
			for (i = 0; i < nseg && seg[i]; i++) {
				const char *v = seg[i];

				/* the first encoded segment starts with charset'lang' */
				if (i == 0 && seg_enc[0]) {
					const char *q1 = strchr(v, '\''), *q2;

					if (q1 && (q2 = strchr(q1 + 1, '\''))) {
						charset = arena_strndup(a, v,
							(size_t)(q1 - v));
						v = q2 + 1;
					}
				}
				rfc2231_add(&b, v, seg_enc[i]);
			}
			if (charset && (str_casecmp(charset, "iso-8859-1") == 0 ||
					str_casecmp(charset, "latin1") == 0))
				latin1_to_utf8(&b);
			r = clean_copy(a, buf_cstr(&b), b.len);
			buf_release(&b);
			if (r && *r)
				return r;
		}
		for (it = clist_begin(disp->dsp_parms); it; it = clist_next(it)) {
			struct mailmime_disposition_parm *p = clist_content(it);

			if (p->pa_type == MAILMIME_DISPOSITION_PARM_FILENAME &&
			    p->pa_data.pa_filename)
				return decode_words(a, p->pa_data.pa_filename);
		}
	}
	if (m->mm_content_type) {
		const char *name = mailmime_content_param_get(m->mm_content_type,
							      param_name);

		if (name)
			return clean_copy(a, name, strlen(name));
	}
	return NULL;
}

static const char *
media_type(struct arena *a, struct mailmime_content *ct)
{
	const char *type = "text", *sub;
	char *r;

	if (!ct || !ct->ct_type)
		return "text/plain";	/* RFC 2045 §5.2 default */
	if (ct->ct_type->tp_type == MAILMIME_TYPE_DISCRETE_TYPE) {
		struct mailmime_discrete_type *d = ct->ct_type->tp_data.tp_discrete_type;

		switch (d->dt_type) {
		case MAILMIME_DISCRETE_TYPE_TEXT: type = "text"; break;
		case MAILMIME_DISCRETE_TYPE_IMAGE: type = "image"; break;
		case MAILMIME_DISCRETE_TYPE_AUDIO: type = "audio"; break;
		case MAILMIME_DISCRETE_TYPE_VIDEO: type = "video"; break;
		case MAILMIME_DISCRETE_TYPE_APPLICATION: type = "application"; break;
		default: type = d->dt_extension ? d->dt_extension : "x-unknown";
		}
	} else {
		struct mailmime_composite_type *c = ct->ct_type->tp_data.tp_composite_type;

		switch (c->ct_type) {
		case MAILMIME_COMPOSITE_TYPE_MESSAGE: type = "message"; break;
		case MAILMIME_COMPOSITE_TYPE_MULTIPART: type = "multipart"; break;
		default: type = c->ct_token ? c->ct_token : "x-unknown";
		}
	}
	sub = ct->ct_subtype ? ct->ct_subtype : "";
	r = arena_printf(a, "%s/%s", type, sub);
	str_lower(r);
	return clean_copy(a, r, strlen(r));
}

/* The headers of a (possibly forwarded) message, as hints. */
static int
message_hints(struct walk_ctx *c, struct mailimf_fields *f,
	      struct parse_hints *h)
{
	clistiter *it;
	int tlsrpt = 0;

	memset(h, 0, sizeof(*h));
	if (!f)
		return 0;
	for (it = clist_begin(f->fld_list); it; it = clist_next(it)) {
		struct mailimf_field *fld = clist_content(it);

		if (fld->fld_type == MAILIMF_FIELD_SUBJECT &&
		    fld->fld_data.fld_subject) {
			const char *s = decode_words(c->a,
				fld->fld_data.fld_subject->sbj_value);

			if (s)
				h->subject_domain = subject_domain(s, c->a);
		} else if (fld->fld_type == MAILIMF_FIELD_OPTIONAL_FIELD &&
			   fld->fld_data.fld_optional_field) {
			struct mailimf_optional_field *o = fld->fld_data.fld_optional_field;
			char *v;

			if (str_casecmp(o->fld_name, "TLS-Report-Domain") == 0) {
				v = arena_strdup(c->a, o->fld_value);
				v[strcspn(v, " \t\r\n;(")] = '\0';
				if (parse_domain_ok(v))
					h->report_domain = clean_copy(c->a, v, strlen(v));
				tlsrpt = 1;
			} else if (str_casecmp(o->fld_name, "TLS-Report-Submitter") == 0) {
				v = arena_strdup(c->a, o->fld_value);
				str_trim(v);
				v[strcspn(v, " \t\r\n;(")] = '\0';
				if (*v)
					h->submitter = clean_copy(c->a, v, strlen(v));
				tlsrpt = 1;
			}
		}
	}
	return tlsrpt;
}

static enum cand_strength
classify(const char *mt, const char *fn, int in_tlsrpt)
{
	int named_report = 0;

	/* RFC 8460 §6: application/tlsrpt+gzip, +json; also bare tlsrpt */
	if (str_has_prefix_ci(mt, "application/tlsrpt"))
		return CAND_STRONG;
	if (str_has_prefix_ci(mt, "text/") || str_has_prefix_ci(mt, "multipart/") ||
	    str_has_prefix_ci(mt, "message/") || str_has_prefix_ci(mt, "image/") ||
	    str_has_prefix_ci(mt, "audio/") || str_has_prefix_ci(mt, "video/"))
		return CAND_NONE;
	if (fn) {
		/* RFC 8460 §5.1: submitter!domain!begin!end[!id].json[.gz] */
		named_report = strchr(fn, '!') &&
			(str_has_suffix_ci(fn, ".json") ||
			 str_has_suffix_ci(fn, ".json.gz") ||
			 str_has_suffix_ci(fn, ".json.zip"));
	}
	if (named_report || in_tlsrpt)
		return CAND_STRONG;
	if (!str_casecmp(mt, "application/json") ||
	    !str_casecmp(mt, "application/gzip") ||
	    !str_casecmp(mt, "application/x-gzip") ||
	    !str_casecmp(mt, "application/octet-stream") ||
	    !str_casecmp(mt, "application/zip") ||
	    !str_casecmp(mt, "application/x-zip-compressed") ||
	    (fn && (str_has_suffix_ci(fn, ".json") || str_has_suffix_ci(fn, ".gz"))))
		return CAND_WEAK;
	return CAND_NONE;
}

static int
part_encoding(struct mailmime *m)
{
	clistiter *it;

	if (!m->mm_mime_fields)
		return MAILMIME_MECHANISM_8BIT;
	for (it = clist_begin(m->mm_mime_fields->fld_list); it; it = clist_next(it)) {
		struct mailmime_field *f = clist_content(it);

		if (f->fld_type == MAILMIME_FIELD_TRANSFER_ENCODING &&
		    f->fld_data.fld_encoding)
			return f->fld_data.fld_encoding->enc_type;
	}
	return MAILMIME_MECHANISM_8BIT;
}

static void
add_cand(struct walk_ctx *c, const struct mime_cand *cand)
{
	struct mime_walk *w = c->w;

	if (w->n_cands == w->cap) {
		size_t ncap = w->cap ? w->cap * 2 : 4;
		struct mime_cand *n = arena_array(c->a, ncap, sizeof(*n));

		if (w->n_cands)
			memcpy(n, w->cands, w->n_cands * sizeof(*n));
		w->cands = n;
		w->cap = ncap;
	}
	w->cands[w->n_cands++] = *cand;
}

#define PART_PAD 8	/* zero bytes after a part given to a decoder */

static void
visit_leaf(struct walk_ctx *c, struct mailmime *m, const struct parse_hints *h,
	   int in_tlsrpt)
{
	struct mime_cand cand;
	struct mailmime_data *d = m->mm_data.mm_single;
	char *dec = NULL;
	size_t idx = 0, dlen = 0;
	int enc;

	memset(&cand, 0, sizeof(cand));
	cand.media_type = media_type(c->a, m->mm_content_type);
	cand.filename = part_filename(c->a, m);
	cand.strength = classify(cand.media_type, cand.filename, in_tlsrpt);
	if (mxd_log_area(MXD_AREA_MIME))
		mxd_log(MXD_LOG_DEBUG, "mime: part %d %s name=%s: %s", c->part_no,
			cand.media_type, cand.filename ? cand.filename : "-",
			cand.strength == CAND_STRONG ? "report" :
			cand.strength == CAND_WEAK ? "maybe a report" : "skipped");
	if (++c->part_no > MIME_MAX_LEAVES) {
		c->w->error = "MIME: more than 1000 parts";
		return;
	}
	if (cand.strength == CAND_NONE)
		return;
	cand.hints = *h;
	if (!cand.hints.filename)
		cand.hints.filename = cand.filename;
	if (!d || d->dt_type != MAILMIME_DATA_TEXT) {
		cand.data = (const unsigned char *)"";
		cand.len = 0;
		add_cand(c, &cand);
		return;
	}
	enc = part_encoding(m);
	if (enc == MAILMIME_MECHANISM_BASE64 ||
	    enc == MAILMIME_MECHANISM_QUOTED_PRINTABLE) {
		/*
		 * libetpan's decoders read up to two bytes past the end of a
		 * part that ends in the middle of an escape ("=4" at the end
		 * of the message: a heap overread the fuzzer found), so they
		 * get a copy with zero bytes after it.
		 */
		size_t plen = d->dt_data.dt_text.dt_length;
		char *pad = xmalloc(plen + PART_PAD);
		int pr;

		memcpy(pad, d->dt_data.dt_text.dt_data, plen);
		memset(pad + plen, 0, PART_PAD);
		pr = mailmime_part_parse(pad, plen, &idx, enc, &dec, &dlen);
		free(pad);
		if (pr != MAILIMF_NO_ERROR) {
			cand.error = enc == MAILMIME_MECHANISM_BASE64
				? "cannot decode the base64 report part"
				: "cannot decode the quoted-printable report part";
			add_cand(c, &cand);
			return;
		}
		if (budget_take(c->budget, dlen) == 0)
			cand.data = (const unsigned char *)arena_strndup(c->a, dec,
									 dlen);
		cand.len = dlen;
		mailmime_decoded_part_free(dec);
	} else {
		cand.len = d->dt_data.dt_text.dt_length;
		if (budget_take(c->budget, cand.len) == 0)
			cand.data = (const unsigned char *)arena_strndup(c->a,
				d->dt_data.dt_text.dt_data, cand.len);
	}
	if (c->budget->over)
		return;		/* the message is refused whole */
	add_cand(c, &cand);
}

static void
visit(struct walk_ctx *c, struct mailmime *m, const struct parse_hints *h,
      int in_tlsrpt, int depth)
{
	clistiter *it;

	if (!m)
		return;
	if (c->w->error || c->budget->over)
		return;
	if (depth > c->lim->max_depth) {
		c->w->error = "MIME: parts nested too deeply";
		return;
	}
	switch (m->mm_type) {
	case MAILMIME_SINGLE:
		visit_leaf(c, m, h, in_tlsrpt);
		break;
	case MAILMIME_MULTIPLE: {
		const char *rt = m->mm_content_type
			? mailmime_content_param_get(m->mm_content_type,
						     param_report_type)
			: NULL;

		/* RFC 8460 §5.3: multipart/report; report-type="tlsrpt" */
		if (rt && str_casecmp(rt, "tlsrpt") == 0) {
			in_tlsrpt = 1;
			c->w->tlsrpt_message = 1;
		}
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it;
		     it = clist_next(it))
			visit(c, clist_content(it), h, in_tlsrpt, depth + 1);
		break;
	}
	case MAILMIME_MESSAGE: {
		struct parse_hints inner;
		int t = message_hints(c, m->mm_data.mm_message.mm_fields, &inner);

		/* a forwarded message carries its own headers (QUIRKS: rfc822) */
		if (t)
			c->w->tlsrpt_message = 1;
		visit(c, m->mm_data.mm_message.mm_msg_mime, &inner, t, depth + 1);
		break;
	}
	}
}

/* The boundary of the first multipart without parts, or NULL. */
static const char *
empty_multipart(struct mailmime *m, int depth)
{
	clistiter *it;
	const char *b;

	if (!m || depth > 64)
		return NULL;
	switch (m->mm_type) {
	case MAILMIME_MULTIPLE:
		if (clist_count(m->mm_data.mm_multipart.mm_mp_list) == 0 &&
		    m->mm_content_type)
			return mailmime_content_param_get(m->mm_content_type,
							  param_boundary);
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it;
		     it = clist_next(it))
			if ((b = empty_multipart(clist_content(it), depth + 1)))
				return b;
		return NULL;
	case MAILMIME_MESSAGE:
		return empty_multipart(m->mm_data.mm_message.mm_msg_mime, depth + 1);
	default:
		return NULL;
	}
}

/* Header fields of the top-level message that the walk uses. */
static int
wanted_field(const char *p, size_t n)
{
	static const char *const keep[] = {
		"content-", "mime-version:", "subject:", "tls-report-",
	};
	size_t i, k;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		k = strlen(keep[i]);
		if (n >= k && str_ncasecmp(p, keep[i], k) == 0)
			return 1;
	}
	return 0;
}

/*
 * A copy of the message without the top-level header fields the walk does
 * not use (DKIM-Signature, ARC-*, Received: most of a report mail's bytes).
 * libetpan parses every field character by character, so this halves the
 * MIME parse.  Returns NULL when the header is small or has no end.
 */
static char *
trim_headers(const char *msg, size_t len, size_t *out_len)
{
	const char *p = msg, *end = msg + len, *line, *nl;
	char *out, *o;
	int keep = 0;

	if (len < 2048)
		return NULL;
	out = malloc(len);
	if (!out)
		return NULL;
	o = out;
	for (line = p; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			break;
		if (nl == line || (nl == line + 1 && *line == '\r')) {
			/* end of the header: the rest unchanged */
			memcpy(o, line, (size_t)(end - line));
			o += end - line;
			*out_len = (size_t)(o - out);
			return out;
		}
		if (*line != ' ' && *line != '\t')
			keep = wanted_field(line, (size_t)(nl - line));
		if (keep) {
			memcpy(o, line, (size_t)(nl - line) + 1);
			o += nl - line + 1;
		}
	}
	free(out);
	return NULL;
}

void
mime_walk(const char *msg, size_t len, const struct parse_limits *lim,
	  const char *name_hint, struct budget *b, struct arena *a,
	  struct mime_walk *w)
{
	struct mxd_err err;
	char *trimmed;
	size_t tlen = 0;
	struct mailmime *mime = NULL;
	struct walk_ctx c;
	struct parse_hints none;
	const char *boundary;
	char *fixed = NULL;
	size_t idx = 0;

	memset(w, 0, sizeof(*w));
	memset(&none, 0, sizeof(none));
	none.filename = name_hint;
	c.a = a;
	c.w = w;
	c.lim = lim;
	c.budget = b;
	c.part_no = 0;
	trimmed = trim_headers(msg, len, &tlen);
	if (trimmed) {
		msg = trimmed;
		len = tlen;
	}
	/* libetpan recurses once per level: bound the levels first */
	mxd_err_clear(&err);
	if (mime_check_nesting(msg, len, lim->max_depth, &err) < 0) {
		w->error = arena_strdup(a, err.text);
		free(trimmed);
		return;
	}
	if (mailmime_parse(msg, len, &idx, &mime) != MAILIMF_NO_ERROR || !mime) {
		w->error = "MIME: cannot parse the message";
		free(trimmed);
		return;
	}
	/*
	 * QUIRKS A3: mail.ru omits the closing boundary, and libetpan then
	 * returns the multipart with no parts at all.  Close it and parse
	 * again (once).
	 */
	boundary = empty_multipart(mime, 0);
	if (boundary && strlen(boundary) < 200) {
		size_t bl = strlen(boundary), n = len + bl + 12;

		fixed = malloc(n);
		if (fixed) {
			memcpy(fixed, msg, len);
			/* a blank line first: libetpan loses an empty last
			 * part that ends right at the delimiter */
			n = len + (size_t)snprintf(fixed + len, bl + 12,
				memchr(msg, '\r', len) ? "\r\n\r\n--%s--\r\n"
							   : "\n\n--%s--\n",
				boundary);
			mailmime_free(mime);
			mime = NULL;
			idx = 0;
			if (mailmime_parse(fixed, n, &idx, &mime) != MAILIMF_NO_ERROR ||
			    !mime) {
				free(fixed);
				free(trimmed);
				w->error = "MIME: cannot parse the message";
				return;
			}
			w->repaired = 1;
		}
	}
	visit(&c, mime, &none, 0, 0);
	mailmime_free(mime);
	free(fixed);
	free(trimmed);
}
