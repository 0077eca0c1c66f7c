/*
 * record.c — TLS-RPT and MTA-STS records read as senders read them (see
 * record.h): RFC 8460 §3 (the _smtp._tls TXT record), RFC 8461 §3.1 (the
 * _mta-sts TXT record), §3.2 (the policy file) and §4.1 (MX patterns), with
 * RFC 3986 (URI syntax), RFC 6068 (mailto:) and RFC 5321/5322 (addresses)
 * for the places reports go to.
 *
 * The inputs are split the way their grammars allow: a TXT record on ";"
 * (neither a URI nor an extension value may hold one unencoded), a rua
 * value on ",", a policy on LF.  Each piece is then held against its ABNF,
 * and the first thing wrong in it is said.
 */
#include "check/record.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/strutil.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define QUOTE_MAX 200			/* a quoted piece, NUL included */
#define QUOTE_SCAN (4 * REC_QUOTE_COLS)	/* input bytes looked at for one */
#define ELLIPSIS "\xe2\x80\xa6"
#define STS_MAX_AGE_MAX 31557600LL	/* RFC 8461 §3.2 */
#define STS_MAX_AGE_LOW 86400LL

/* Where the problems of one parse go, and how many errors it had. */
struct sink {
	struct rec_problems *pr;
	int errors;
};

static int
is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_alpha(c) || is_digit(c);
}

static int
is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 5234 WSP */
static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* ASCII case-insensitive equality of n bytes (no NUL needed). */
static int
mem_ieq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int
span_is(const char *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

/*
 * Room for element n of an array grown one at a time: capacities are the
 * powers of two from 8, so no capacity needs keeping.
 */
static void *
grow(void *v, size_t n, size_t size)
{
	if (n == 0)
		return xrealloc(v, 8 * size);
	if (n >= 8 && (n & (n - 1)) == 0)
		return xrealloc(v, 2 * n * size);
	return v;
}

static void
push_str(char ***v, size_t *n, char *s)
{
	*v = grow(*v, *n, sizeof(**v));
	(*v)[(*n)++] = s;
}

static void
free_strs(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A copy without control bytes or invalid UTF-8, for what we keep. */
static char *
clean_dup(const char *p, size_t n)
{
	struct buf b;

	buf_init(&b, 3 * n + 1);
	if (utf8_clean(&b, p, n) < 0)
		buf_reset(&b);
	return (char *)buf_detach(&b, NULL);
}

/* Cuts a text to `size` bytes with "…", on a code point boundary. */
static void
end_cut(char *s, size_t size)
{
	size_t k = size - sizeof(ELLIPSIS);

	while (k && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	memcpy(s + k, ELLIPSIS, sizeof(ELLIPSIS));
}

/*
 * Untrusted bytes as they may appear in a problem text: cleaned (no control
 * byte, valid UTF-8) and at most REC_QUOTE_COLS columns, "…" marking a cut.
 */
static const char *
quote(char *out, const void *p, size_t n)
{
	struct buf b;
	const char *s;
	size_t take = n < QUOTE_SCAN ? n : QUOTE_SCAN, k, w;
	int cut = take < n;

	buf_init(&b, 8 * take + 8);
	if (utf8_clean_text(&b, p, take, UTF8_TAB_SPACE) < 0)
		buf_reset(&b);
	s = buf_cstr(&b);
	k = utf8_fit(s, REC_QUOTE_COLS, &w);
	if (cut || k < b.len) {
		k = utf8_fit(s, REC_QUOTE_COLS - 1, &w);
		cut = 1;
	}
	/* zero-width characters take bytes but no columns */
	if (k > QUOTE_MAX - sizeof(ELLIPSIS)) {
		k = QUOTE_MAX - sizeof(ELLIPSIS);
		while (k && ((unsigned char)s[k] & 0xc0) == 0x80)
			k--;
		cut = 1;
	}
	memcpy(out, s, k);
	if (cut) {
		memcpy(out + k, ELLIPSIS, sizeof(ELLIPSIS) - 1);
		k += sizeof(ELLIPSIS) - 1;
	}
	out[k] = '\0';
	buf_release(&b);
	return out;
}

/* One byte named for a problem text: "\"!\"", "a space", "byte 0x00". */
static const char *
byte_name(char *out, size_t size, unsigned char c)
{
	if (c == ' ')
		return "a space";
	if (c == '\t')
		return "a tab";
	if (c > 0x20 && c < 0x7f)
		snprintf(out, size, "\"%c\"", c);
	else
		snprintf(out, size, "byte 0x%02x", c);
	return out;
}

static void problem(struct sink *s, enum rec_level level, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
problem(struct sink *s, enum rec_level level, const char *code,
	const char *fmt, ...)
{
	struct rec_problems *pr = s->pr;
	struct rec_problem *p;
	va_list ap;
	int r;

	if (level == REC_ERROR)
		s->errors++;
	if (!pr)
		return;
	if ((int)level > pr->worst)
		pr->worst = (int)level;
	if (pr->n >= REC_PROBLEMS_MAX) {
		pr->more++;
		return;
	}
	if (!pr->v)
		pr->v = xcalloc(REC_PROBLEMS_MAX, sizeof(*pr->v));
	p = &pr->v[pr->n++];
	p->level = level;
	p->code = code;
	va_start(ap, fmt);
	r = vsnprintf(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
	if (r < 0)
		p->text[0] = '\0';
	else if ((size_t)r >= sizeof(p->text))
		end_cut(p->text, sizeof(p->text));
}

void
rec_problems_init(struct rec_problems *pr)
{
	memset(pr, 0, sizeof(*pr));
}

void
rec_problems_release(struct rec_problems *pr)
{
	if (!pr)
		return;
	free(pr->v);
	memset(pr, 0, sizeof(*pr));
}

const struct rec_problem *
rec_problems_find(const struct rec_problems *pr, const char *code)
{
	size_t i;

	for (i = 0; pr && i < pr->n; i++)
		if (strcmp(pr->v[i].code, code) == 0)
			return &pr->v[i];
	return NULL;
}

const char *
rec_level_name(enum rec_level l)
{
	return l == REC_ERROR ? "error" : "warning";
}

const char *
sts_mode_name(enum sts_mode m)
{
	switch (m) {
	case STS_MODE_ENFORCE:
		return "enforce";
	case STS_MODE_TESTING:
		return "testing";
	case STS_MODE_NONE:
		return "none";
	case STS_MODE_UNKNOWN:
		break;
	}
	return "unknown";
}

int
check_hostname_valid(const char *name)
{
	size_t n, i, label = 0;

	if (!name)
		return 0;
	n = strnlen(name, 256);
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || name[i] == '.') {
			/* RFC 1035 §2.3.1: 1-63 octets, no hyphen at an end */
			if (label == 0 || label > 63 || name[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum((unsigned char)name[i]) && name[i] != '-')
			return 0;
		if (label == 0 && name[i] == '-')
			return 0;
		label++;
	}
	return 1;
}

int
sts_mx_match(const char *pat, const char *host)
{
	size_t pl, hl, sl, first;

	if (!pat || !host)
		return 0;
	pl = strnlen(pat, 256);
	hl = strnlen(host, 256);
	/* a trailing dot makes the name absolute, not another name */
	if (pl && pat[pl - 1] == '.')
		pl--;
	if (hl && host[hl - 1] == '.')
		hl--;
	if (!pl || !hl || memchr(host, '*', hl))
		return 0;
	if (pl > 2 && pat[0] == '*' && pat[1] == '.') {
		/* RFC 8461 §4.1: '*' matches the entire left-most label only */
		sl = pl - 1;
		if (hl <= sl || !mem_ieq(host + hl - sl, pat + 1, sl))
			return 0;
		first = hl - sl;
		return memchr(host, '.', first) == NULL;
	}
	if (memchr(pat, '*', pl))
		return 0;
	return pl == hl && mem_ieq(pat, host, pl);
}

/* A field of a TXT record, "name=value", split and trimmed. */
struct field {
	const char *name, *val;
	size_t nl, vl;
	int ws;			/* white space around the "=" */
};

static int
field_split(const char *f, size_t n, struct field *fl)
{
	const char *eq = memchr(f, '=', n);

	if (!eq)
		return -1;
	fl->name = f;
	fl->nl = (size_t)(eq - f);
	fl->val = eq + 1;
	fl->vl = n - fl->nl - 1;
	fl->ws = 0;
	while (fl->nl && is_wsp((unsigned char)fl->name[fl->nl - 1])) {
		fl->nl--;
		fl->ws = 1;
	}
	while (fl->vl && is_wsp((unsigned char)fl->val[0])) {
		fl->val++;
		fl->vl--;
		fl->ws = 1;
	}
	return 0;
}

/*
 * An extension field, the same in RFC 8460 §3 and RFC 8461 §3.1:
 *   ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *   ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
 * Returns -1 (with a problem) when it is not one.
 */
static int
ext_check(struct sink *s, const char *code, const char *rfc,
	  const struct field *fl)
{
	char qn[QUOTE_MAX], qv[QUOTE_MAX], b[24];
	size_t i;
	unsigned char c;

	quote(qn, fl->name, fl->nl);
	for (i = 0; i < fl->nl; i++) {
		c = (unsigned char)fl->name[i];
		if (is_alnum(c) || (i && (c == '_' || c == '-' || c == '.')))
			continue;
		if (i == 0)
			problem(s, REC_ERROR, code, "extension name \"%s\" "
				"must begin with a letter or digit (%s)", qn,
				rfc);
		else
			problem(s, REC_ERROR, code, "extension name \"%s\": "
				"%s is not allowed (letters, digits, \"_\", "
				"\"-\", \".\"; %s)", qn,
				byte_name(b, sizeof(b), c), rfc);
		return -1;
	}
	if (fl->nl > 32) {
		problem(s, REC_ERROR, code, "extension name \"%s\" is %zu "
			"characters, at most 32 (%s)", qn, fl->nl, rfc);
		return -1;
	}
	if (fl->vl == 0) {
		problem(s, REC_ERROR, code, "extension \"%s\" has an empty "
			"value (%s)", qn, rfc);
		return -1;
	}
	for (i = 0; i < fl->vl; i++) {
		c = (unsigned char)fl->val[i];
		if (c >= 0x21 && c <= 0x7e && c != ';' && c != '=')
			continue;
		problem(s, REC_ERROR, code, "extension \"%s\": %s is not "
			"allowed in its value \"%s\" (no \"=\", \";\", space, "
			"control or non-ASCII character; %s)", qn,
			byte_name(b, sizeof(b), c), quote(qv, fl->val, fl->vl),
			rfc);
		return -1;
	}
	return 0;
}

/*
 * The version that must open a TXT record ("v=TLSRPTv1", "v=STSv1") and
 * the ";" after it.  Returns the offset just past that ";" (or the length,
 * when nothing follows the version), or -1 when the record cannot be read
 * as one of ours at all.  *skipped is set when senders pass the record by:
 * RFC 8460 §3 and RFC 8461 §3.1 discard records that do not begin with
 * the version and ";", exactly so, whatever their ABNF allows.
 */
static long
txt_version(struct sink *s, const char *t, size_t len, const char *ver,
	    const char *code, const char *rfc, int *skipped)
{
	char qa[QUOTE_MAX], b[24];
	size_t vl = strlen(ver), p = 0, q;
	const char *at;

	if (len == 0) {
		problem(s, REC_ERROR, code, "the record is empty: it must "
			"begin with \"%s;\" (%s)", ver, rfc);
		*skipped = 1;
		return -1;
	}
	while (p < len && is_wsp((unsigned char)t[p]))
		p++;
	if (p) {
		problem(s, REC_ERROR, code, "white space before \"v=\": "
			"senders discard records that do not begin with "
			"\"%s;\" (%s)", ver, rfc);
		*skipped = 1;
	}
	if (len - p >= vl && memcmp(t + p, ver, vl) == 0) {
		p += vl;
	} else if (len - p >= vl && mem_ieq(t + p, ver, vl)) {
		problem(s, REC_ERROR, code, "\"%s\" is not \"%s\": the "
			"version is case-sensitive (%s)", quote(qa, t + p, vl),
			ver, rfc);
		*skipped = 1;
		p += vl;
	} else {
		at = mem_casemem(t, len, ver);
		if (at)
			problem(s, REC_ERROR, code, "the record does not "
				"begin with \"%s;\": \"%s\" is at byte %zu, "
				"but must come first (%s)", ver, ver,
				(size_t)(at - t) + 1, rfc);
		else
			problem(s, REC_ERROR, code, "the record does not begin "
				"with \"%s;\": it begins \"%s\" (%s)", ver,
				quote(qa, t, len), rfc);
		*skipped = 1;
		return -1;
	}
	if (p == len) {
		*skipped = 1;
		return (long)p;
	}
	if (t[p] == ';')
		return (long)p + 1;
	q = p;
	while (q < len && is_wsp((unsigned char)t[q]))
		q++;
	if (q > p && q < len && t[q] == ';') {
		problem(s, REC_ERROR, code, "white space between \"%s\" and "
			"\";\": the ABNF allows it, but senders discard "
			"records that do not begin with \"%s;\" (%s)", ver,
			ver, rfc);
		*skipped = 1;
		return (long)q + 1;
	}
	problem(s, REC_ERROR, code, "after \"%s\": expected \";\", found %s",
		ver, byte_name(b, sizeof(b), (unsigned char)t[p]));
	*skipped = 1;
	return -1;
}

/*
 * The fields after the version, split on ";" (field-delim = *WSP ";"
 * *WSP), each given trimmed to fn.  A trailing ";" is allowed; an empty
 * field and white space at the very end are not, but read plainly.
 */
static void
txt_fields(struct sink *s, const char *t, size_t len, size_t p,
	   const char *code, void (*fn)(void *, const char *, size_t),
	   void *arg)
{
	size_t e, a, z;
	int last;

	for (;;) {
		e = p;
		while (e < len && t[e] != ';')
			e++;
		last = e == len;
		a = p;
		z = e;
		while (a < z && is_wsp((unsigned char)t[a]))
			a++;
		while (z > a && is_wsp((unsigned char)t[z - 1]))
			z--;
		if (a == z) {
			if (!last)
				problem(s, REC_WARNING, code, "an empty field "
					"(\";\" after \";\"): the ABNF has "
					"none; most senders skip it");
		} else {
			if (last && z < e)
				problem(s, REC_WARNING, code, "white space at "
					"the end of the record: the ABNF "
					"allows it only around \";\"; most "
					"senders trim it");
			fn(arg, t + a, z - a);
		}
		if (last)
			return;
		p = e + 1;
	}
}

/* TLS-RPT */

struct tctx {
	struct sink s;
	struct tlsrpt_record *out;
	int fatal;		/* senders cannot use the record */
	int rua_fields;
	int rua_empty;
	int prev_rua;		/* the field before was rua= */
	char case_rua[QUOTE_MAX];	/* "RUA" or so, seen as an extension */
};

int
tlsrpt_txt_candidate(const char *txt, size_t len)
{
	return txt && len >= 11 && memcmp(txt, "v=TLSRPTv1;", 11) == 0;
}

/* RFC 3986 §2: unreserved, gen-delims and sub-delims ("%" apart) */
static int
is_uri_char(int c)
{
	return is_alnum(c) || (c && strchr("-._~:/?#[]@!$&'()*+,;=", c));
}

/* RFC 5322 §3.2.3 atext */
static int
is_atext(int c)
{
	return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/*
 * The addr-spec of a mailto: URI, percent-decoded (RFC 6068 §2): what SMTP
 * can carry (RFC 5321 §4.1.2), and a domain that is a host name.  A local
 * part that only a quoted form allows is a warning: many servers take it,
 * some refuse.
 */
static void
rua_address(struct tctx *c, struct tlsrpt_rua *r, const char *a, size_t n,
	    const char *qu)
{
	char qa[QUOTE_MAX], qd[QUOTE_MAX], b[24];
	size_t i, at, dl;
	unsigned char needs_quote = 0;
	int dots_ok = 1, utf8 = 0;
	char *dom;

	for (i = 0; i < n; i++)
		if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS,
				"\"%s\": the address holds %s once decoded",
				qu, byte_name(b, sizeof(b),
					      (unsigned char)a[i]));
			r->usable = 0;
			return;
		}
	if (utf8_check(a, n) != n || utf8_has_controls(a, n)) {
		problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS, "\"%s\": "
			"the address is not valid UTF-8, or holds a control "
			"character, once decoded", qu);
		r->usable = 0;
		return;
	}
	r->address = xstrndup(a, n);
	quote(qa, a, n);
	if (n && a[0] == '"') {
		/* RFC 5322 §3.2.4 quoted-string */
		for (i = 1; i < n && a[i] != '"'; i++)
			if (a[i] == '\\')
				i++;
		if (i >= n) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS,
				"\"%s\": the quoted local part has no closing "
				"quote", qu);
			r->usable = 0;
			return;
		}
		at = i + 1;
		if (at >= n || a[at] != '@') {
			problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS,
				"\"%s\": expected \"@\" after the quoted local "
				"part", qu);
			r->usable = 0;
			return;
		}
	} else {
		const char *p = memchr(a, '@', n);

		if (!p) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS,
				"\"%s\": the address has no \"@\"", qu);
			r->usable = 0;
			return;
		}
		at = (size_t)(p - a);
		if (memchr(p + 1, '@', n - at - 1)) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS,
				"\"%s\": the address has more than one \"@\"",
				qu);
			r->usable = 0;
			return;
		}
		if (at == 0) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS,
				"\"%s\": nothing before the \"@\"", qu);
			r->usable = 0;
			return;
		}
		/* RFC 5322 §3.4.1: dot-atom-text, or else quoted */
		if (a[0] == '.' || a[at - 1] == '.')
			dots_ok = 0;
		for (i = 0; i < at; i++) {
			unsigned char ch = (unsigned char)a[i];

			if (ch >= 0x80)
				utf8 = 1;
			else if (ch == '.' && i + 1 < at && a[i + 1] == '.')
				dots_ok = 0;
			else if (ch != '.' && !is_atext(ch) && !needs_quote)
				needs_quote = ch;
		}
		if (needs_quote)
			problem(&c->s, REC_WARNING, REC_TLSRPT_MAILTO_ADDRESS,
				"\"%s\": %s is allowed in a local part only "
				"within quotes (RFC 5322 §3.4.1), as in "
				"mailto:%%22…%%22@…; many servers refuse it "
				"bare", qa, byte_name(b, sizeof(b), needs_quote));
		else if (!dots_ok)
			problem(&c->s, REC_WARNING, REC_TLSRPT_MAILTO_ADDRESS,
				"\"%s\": a dot at the start or end of the "
				"local part, or two in a row, is allowed only "
				"within quotes (RFC 5322 §3.4.1)", qa);
		if (utf8)
			problem(&c->s, REC_WARNING, REC_TLSRPT_MAILTO_ADDRESS,
				"\"%s\": a non-ASCII local part reaches only "
				"senders with SMTPUTF8 (RFC 6531)", qa);
	}
	if (at > 64)
		problem(&c->s, REC_WARNING, REC_TLSRPT_MAILTO_ADDRESS,
			"\"%s\": the local part is %zu bytes, more than the "
			"64 of RFC 5321 §4.5.3.1.1", qa, at);
	dl = n - at - 1;
	if (dl == 0) {
		problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS, "\"%s\": "
			"no domain after the \"@\"", qu);
		r->usable = 0;
		return;
	}
	quote(qd, a + at + 1, dl);
	if (a[at + 1] == '[') {
		problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS, "\"%s\": "
			"the domain \"%s\" is an address literal, not a host "
			"name", qu, qd);
		r->usable = 0;
		return;
	}
	dom = xstrndup(a + at + 1, dl);
	if (dl > 254 || !check_hostname_valid(dom)) {
		problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS, "\"%s\": "
			"the domain \"%s\" is not a host name (labels of "
			"letters, digits and \"-\"; international names as "
			"\"xn--\" A-labels)", qu, qd);
		r->usable = 0;
		free(dom);
		return;
	}
	if (dom[dl - 1] == '.') {
		problem(&c->s, REC_WARNING, REC_TLSRPT_MAILTO_ADDRESS,
			"\"%s\": the domain ends in a dot, which an address "
			"does not have (RFC 5321 §4.1.2)", qa);
		dom[dl - 1] = '\0';
	}
	str_lower(dom);
	r->host = dom;
}

/* RFC 6068 §2: mailtoURI = "mailto:" [ to ] [ hfields ] */
static void
rua_mailto(struct tctx *c, struct tlsrpt_rua *r, const char *to, size_t n,
	   const char *qu)
{
	struct buf b;
	size_t e = 0, i;

	while (e < n && to[e] != '?' && to[e] != '#')
		e++;
	if (e == 0) {
		problem(&c->s, REC_ERROR, REC_TLSRPT_MAILTO_ADDRESS, "\"%s\": "
			"no address after \"mailto:\"", qu);
		r->usable = 0;
		return;
	}
	buf_init(&b, e);
	for (i = 0; i < e; i++) {
		int ch = (unsigned char)to[i];

		/* the URI's "%" were checked: two hex digits follow */
		if (ch == '%') {
			char hx[3] = { to[i + 1], to[i + 2], 0 };

			ch = (int)strtol(hx, NULL, 16);
			i += 2;
		}
		buf_addc(&b, ch);
	}
	rua_address(c, r, (const char *)b.data, b.len, qu);
	buf_release(&b);
}

/* RFC 3986 §3.2: "https:" "//" [ userinfo "@" ] host [ ":" port ] */
static void
rua_https(struct tctx *c, struct tlsrpt_rua *r, const char *h, size_t n,
	  const char *qu)
{
	char qh[QUOTE_MAX], ip[64];
	unsigned char bin[16];
	size_t e, a, hs, he, i;
	const char *port = NULL, *p;
	size_t portl = 0;
	long v = 443;

	if (n < 2 || h[0] != '/' || h[1] != '/') {
		problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\": "
			"expected \"//\" and a host after \"https:\"", qu);
		r->usable = 0;
		return;
	}
	a = 2;
	e = a;
	while (e < n && h[e] != '/' && h[e] != '?' && h[e] != '#')
		e++;
	hs = a;
	for (i = a; i < e; i++)
		if (h[i] == '@')
			hs = i + 1;
	he = e;
	if (hs < e && h[hs] == '[') {
		p = memchr(h + hs, ']', e - hs);
		if (!p || (size_t)(p - h - hs - 1) >= sizeof(ip)) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\": "
				"the IP literal has no closing \"]\"", qu);
			r->usable = 0;
			return;
		}
		memcpy(ip, h + hs + 1, (size_t)(p - h - hs - 1));
		ip[p - h - hs - 1] = '\0';
		he = (size_t)(p - h) + 1;
		if (inet_pton(AF_INET6, ip, bin) != 1) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\": "
				"\"%s\" is not an IPv6 address", qu,
				quote(qh, ip, strlen(ip)));
			r->usable = 0;
			return;
		}
		if (he < e && h[he] != ':') {
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\": "
				"expected \":\" or \"/\" after \"]\"", qu);
			r->usable = 0;
			return;
		}
		if (he < e) {
			port = h + he + 1;
			portl = e - he - 1;
		}
		r->host = xstrdup(ip);
		str_lower(r->host);
	} else {
		p = memchr(h + hs, ':', e - hs);
		if (p) {
			he = (size_t)(p - h);
			port = p + 1;
			portl = e - he - 1;
		}
		if (he == hs) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI,
				"\"%s\": no host after \"https://\"", qu);
			r->usable = 0;
			return;
		}
		r->host = xstrndup(h + hs, he - hs);
		if ((he - hs > 253 + 1 || !check_hostname_valid(r->host)) &&
		    inet_pton(AF_INET, r->host, bin) != 1) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\": "
				"the host \"%s\" is not a host name", qu,
				quote(qh, h + hs, he - hs));
			r->usable = 0;
			return;
		}
		he = strlen(r->host);
		if (he > 1 && r->host[he - 1] == '.')
			r->host[he - 1] = '\0';
		str_lower(r->host);
	}
	/* RFC 3986 §3.2.3: an empty port is the default */
	if (port && portl) {
		v = 0;
		for (i = 0; i < portl && v <= 65535; i++) {
			if (!is_digit((unsigned char)port[i])) {
				v = -1;
				break;
			}
			v = v * 10 + (port[i] - '0');
		}
		if (v < 1 || v > 65535) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\": "
				"the port \"%s\" is not a number from 1 to "
				"65535", qu, quote(qh, port, portl));
			r->usable = 0;
			return;
		}
	}
	r->port = (int)v;
}

/*
 * One URI of a rua= field.  RFC 8460 §3: tlsrpt-uri = URI (RFC 3986), with
 * ",", "!" and ";" encoded; "Two URI schemes are supported: "mailto" and
 * "https"".  after_comma: it followed a "," of the same field, so it may
 * be the rest of an address with an unencoded comma.
 */
static void
rua_uri(struct tctx *c, const char *u, size_t n, int after_comma)
{
	struct tlsrpt_record *rec = c->out;
	struct tlsrpt_rua *r;
	char qu[QUOTE_MAX], qs[QUOTE_MAX], b[24];
	size_t i = 0, k;
	int bad = 0;

	rec->rua = grow(rec->rua, rec->n_rua, sizeof(*rec->rua));
	r = &rec->rua[rec->n_rua++];
	memset(r, 0, sizeof(*r));
	r->kind = RUA_OTHER;
	r->usable = 1;
	r->uri = clean_dup(u, n);
	quote(qu, u, n);
	/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (is_alpha((unsigned char)u[0]))
		for (i = 1; i < n; i++)
			if (!is_alnum((unsigned char)u[i]) && u[i] != '+' &&
			    u[i] != '-' && u[i] != '.')
				break;
	if (i == 0 || i >= n || u[i] != ':') {
		if (after_comma)
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\" "
				"has no scheme: each URI needs its own "
				"\"mailto:\" or \"https:\", and a comma "
				"inside an address must be written %%2C (RFC "
				"8460 §3)", qu);
		else if (memchr(u, '@', n))
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\" "
				"has no scheme: write \"mailto:%s\" (RFC 8460 "
				"§3)", qu, qu);
		else
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\" "
				"has no scheme: expected \"mailto:\" or "
				"\"https:\" (RFC 8460 §3)", qu);
		r->usable = 0;
		return;
	}
	for (k = i + 1; k < n && !bad; k++) {
		unsigned char ch = (unsigned char)u[k];

		if (ch == '%') {
			if (k + 2 < n && is_hex((unsigned char)u[k + 1]) &&
			    is_hex((unsigned char)u[k + 2])) {
				k += 2;
				continue;
			}
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI,
				"\"%s\": a \"%%\" not followed by two hex "
				"digits (RFC 3986 §2.1)", qu);
			bad = 1;
		} else if (ch == '!') {
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\": "
				"\"!\" must be written %%21 (RFC 8460 §3)", qu);
			bad = 1;
		} else if (!is_uri_char(ch)) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI,
				"\"%s\": %s is not allowed in a URI (RFC 3986 "
				"§2): percent-encode it", qu,
				byte_name(b, sizeof(b), ch));
			bad = 1;
		}
	}
	if (bad)
		r->usable = 0;
	/* RFC 3986 §3.1: schemes are case-insensitive */
	if (i == 6 && mem_ieq(u, "mailto", 6)) {
		r->kind = RUA_MAILTO;
		if (!bad)
			rua_mailto(c, r, u + 7, n - 7, qu);
	} else if (i == 5 && mem_ieq(u, "https", 5)) {
		r->kind = RUA_HTTPS;
		if (!bad)
			rua_https(c, r, u + 6, n - 6, qu);
	} else if (i == 4 && mem_ieq(u, "http", 4)) {
		problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_SCHEME, "\"%s\": "
			"http: is not supported, use https: (RFC 8460 §3)", qu);
		r->usable = 0;
	} else {
		problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_SCHEME, "\"%s\": the "
			"scheme \"%s\" is not supported, only \"mailto\" and "
			"\"https\" (RFC 8460 §3)", qu, quote(qs, u, i));
		r->usable = 0;
	}
}

/* RFC 8460 §3: tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri) */
static void
tlsrpt_rua(struct tctx *c, const char *v, size_t n)
{
	size_t s = 0, e, a, z;
	int after_comma = 0;

	if (++c->rua_fields == 2)
		problem(&c->s, REC_WARNING, REC_TLSRPT_RUA_DUPLICATE, "a "
			"second rua= field: the ABNF allows it, but senders "
			"may read only one; list every URI in one rua=, "
			"separated by commas (RFC 8460 §3)");
	if (n == 0) {
		problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_EMPTY, "rua= has no "
			"URI (RFC 8460 §3: tlsrpt-rua holds at least one)");
		c->rua_empty = 1;
		c->fatal = 1;
		return;
	}
	for (;;) {
		e = s;
		while (e < n && v[e] != ',')
			e++;
		a = s;
		z = e;
		while (a < z && is_wsp((unsigned char)v[a]))
			a++;
		while (z > a && is_wsp((unsigned char)v[z - 1]))
			z--;
		if (a == z)
			problem(&c->s, REC_WARNING, REC_TLSRPT_RUA_URI, "an "
				"empty URI in rua= (a stray comma): the ABNF "
				"has none; most senders skip it");
		else
			rua_uri(c, v + a, z - a, after_comma);
		if (e == n)
			return;
		s = e + 1;
		after_comma = 1;
	}
}

static void
tlsrpt_field(void *arg, const char *f, size_t n)
{
	struct tctx *c = arg;
	struct field fl;
	char qa[QUOTE_MAX];
	int prev_rua = c->prev_rua;

	c->prev_rua = 0;
	if (field_split(f, n, &fl) < 0) {
		if (prev_rua) {
			problem(&c->s, REC_ERROR, REC_TLSRPT_RUA_URI, "\"%s\" "
				"after the rua= field is no field (no \"=\"): "
				"a \";\" inside a URI must be written %%3B "
				"(RFC 8460 §3)", quote(qa, f, n));
			c->prev_rua = 1;
		} else {
			problem(&c->s, REC_ERROR, REC_TLSRPT_SYNTAX, "field "
				"\"%s\": expected name=value (RFC 8460 §3)",
				quote(qa, f, n));
		}
		c->fatal = 1;
		return;
	}
	if (fl.nl == 0) {
		problem(&c->s, REC_ERROR, REC_TLSRPT_SYNTAX, "field \"%s\" "
			"has no name before \"=\"", quote(qa, f, n));
		c->fatal = 1;
		return;
	}
	if (fl.ws) {
		problem(&c->s, REC_ERROR, REC_TLSRPT_SYNTAX, "white space "
			"around \"=\" in \"%s\": the ABNF allows none (RFC "
			"8460 §3)", quote(qa, f, n));
		c->fatal = 1;
	}
	if (span_is(fl.name, fl.nl, "rua")) {
		tlsrpt_rua(c, fl.val, fl.vl);
		c->prev_rua = 1;
		return;
	}
	if (fl.nl == 3 && mem_ieq(fl.name, "rua", 3) && !c->case_rua[0])
		quote(c->case_rua, fl.name, fl.nl);
	/* RFC 8460 §3: "unknown fields SHALL be ignored", if well-formed */
	if (ext_check(&c->s, REC_TLSRPT_EXTENSION, "RFC 8460 §3", &fl) < 0)
		c->fatal = 1;
	push_str(&c->out->ext, &c->out->n_ext, clean_dup(fl.name, fl.nl));
}

int
tlsrpt_record_parse(const char *txt, size_t len, struct tlsrpt_record *out,
		    struct rec_problems *pr)
{
	struct tctx c;
	size_t i, usable = 0;
	long p;
	int skipped = 0;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.s.pr = pr;
	c.out = out;
	if (!txt)
		len = 0;
	if (len > REC_MAX_TXT) {
		problem(&c.s, REC_ERROR, REC_TLSRPT_SYNTAX, "the record is %zu "
			"bytes, more than %d", len, REC_MAX_TXT);
		return -1;
	}
	p = txt_version(&c.s, txt ? txt : "", len, "v=TLSRPTv1",
			REC_TLSRPT_SYNTAX, "RFC 8460 §3", &skipped);
	if (p < 0)
		return -1;
	if ((size_t)p < len)
		txt_fields(&c.s, txt, len, (size_t)p, REC_TLSRPT_SYNTAX,
			   tlsrpt_field, &c);
	if (!c.rua_fields) {
		if (c.case_rua[0])
			problem(&c.s, REC_ERROR, REC_TLSRPT_RUA_MISSING, "no "
				"rua= field: \"%s=\" is not \"rua=\", field "
				"names are case-sensitive (RFC 8460 §3)",
				c.case_rua);
		else
			problem(&c.s, REC_ERROR, REC_TLSRPT_RUA_MISSING, "no "
				"rua= field: senders have nowhere to send "
				"reports (RFC 8460 §3: \"the tlsrpt-rua "
				"record is required\")");
		c.fatal = 1;
	}
	for (i = 0; i < out->n_rua; i++)
		usable += out->rua[i].usable != 0;
	return c.fatal || skipped || !usable ? -1 : 0;
}

void
tlsrpt_record_release(struct tlsrpt_record *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_rua; i++) {
		free(r->rua[i].uri);
		free(r->rua[i].address);
		free(r->rua[i].host);
	}
	free(r->rua);
	free_strs(r->ext, r->n_ext);
	memset(r, 0, sizeof(*r));
}

/* MTA-STS TXT */

struct sctx {
	struct sink s;
	struct sts_txt *out;
	int ids;
	char case_id[QUOTE_MAX];
};

int
sts_txt_candidate(const char *txt, size_t len)
{
	return txt && len >= 8 && memcmp(txt, "v=STSv1;", 8) == 0;
}

static void
sts_txt_field(void *arg, const char *f, size_t n)
{
	struct sctx *c = arg;
	struct field fl;
	char qa[QUOTE_MAX], b[24];
	size_t i;

	if (field_split(f, n, &fl) < 0) {
		problem(&c->s, REC_ERROR, REC_STS_TXT_SYNTAX, "field \"%s\": "
			"expected name=value (RFC 8461 §3.1)", quote(qa, f, n));
		return;
	}
	if (fl.nl == 0) {
		problem(&c->s, REC_ERROR, REC_STS_TXT_SYNTAX, "field \"%s\" "
			"has no name before \"=\"", quote(qa, f, n));
		return;
	}
	if (fl.ws)
		problem(&c->s, REC_ERROR, REC_STS_TXT_SYNTAX, "white space "
			"around \"=\" in \"%s\": the ABNF allows none (RFC "
			"8461 §3.1)", quote(qa, f, n));
	if (span_is(fl.name, fl.nl, "id")) {
		quote(qa, fl.val, fl.vl);
		/* RFC 8461 §3.2: of a repeated field, the first counts */
		if (c->ids++) {
			problem(&c->s, REC_WARNING, REC_STS_TXT_ID, "a second "
				"id= field, \"%s\": senders use the first "
				"(RFC 8461 §3.2)", qa);
			return;
		}
		/* RFC 8461 §3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT) */
		if (fl.vl == 0) {
			problem(&c->s, REC_ERROR, REC_STS_TXT_ID, "id= is "
				"empty: it needs 1 to 32 letters and digits "
				"(RFC 8461 §3.1)");
			return;
		}
		for (i = 0; i < fl.vl; i++)
			if (!is_alnum((unsigned char)fl.val[i])) {
				problem(&c->s, REC_ERROR, REC_STS_TXT_ID, "id "
					"\"%s\" has %s: only letters and "
					"digits (RFC 8461 §3.1)", qa,
					byte_name(b, sizeof(b),
						  (unsigned char)fl.val[i]));
				return;
			}
		if (fl.vl > 32) {
			problem(&c->s, REC_ERROR, REC_STS_TXT_ID, "id \"%s\" "
				"is %zu characters, at most 32 (RFC 8461 §3.1)",
				qa, fl.vl);
			return;
		}
		memcpy(c->out->id, fl.val, fl.vl);
		c->out->id[fl.vl] = '\0';
		return;
	}
	if (fl.nl == 2 && mem_ieq(fl.name, "id", 2) && !c->case_id[0])
		quote(c->case_id, fl.name, fl.nl);
	ext_check(&c->s, REC_STS_TXT_SYNTAX, "RFC 8461 §3.1", &fl);
	push_str(&c->out->ext, &c->out->n_ext, clean_dup(fl.name, fl.nl));
}

int
sts_txt_parse(const char *txt, size_t len, struct sts_txt *out,
	      struct rec_problems *pr)
{
	struct sctx c;
	long p;
	int skipped = 0;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.s.pr = pr;
	c.out = out;
	if (!txt)
		len = 0;
	if (len > REC_MAX_TXT) {
		problem(&c.s, REC_ERROR, REC_STS_TXT_SYNTAX, "the record is "
			"%zu bytes, more than %d", len, REC_MAX_TXT);
		return -1;
	}
	/*
	 * RFC 8461 §3.1: "MTA-STS TXT records MUST be US-ASCII".  Every byte
	 * is in the version or a field, all of ASCII grammar, so a non-ASCII
	 * byte is reported where it is.
	 */
	p = txt_version(&c.s, txt ? txt : "", len, "v=STSv1",
			REC_STS_TXT_SYNTAX, "RFC 8461 §3.1", &skipped);
	if (p < 0)
		return -1;
	if ((size_t)p < len)
		txt_fields(&c.s, txt, len, (size_t)p, REC_STS_TXT_SYNTAX,
			   sts_txt_field, &c);
	if (!c.ids) {
		if (c.case_id[0])
			problem(&c.s, REC_ERROR, REC_STS_TXT_ID, "no id= "
				"field: \"%s=\" is not \"id=\", field names "
				"are case-sensitive (RFC 8461 §3.1)",
				c.case_id);
		else
			problem(&c.s, REC_ERROR, REC_STS_TXT_ID, "no id= field "
				"(RFC 8461 §3.1: \"id\" is required)");
	}
	return c.s.errors || skipped ? -1 : 0;
}

void
sts_txt_release(struct sts_txt *t)
{
	if (!t)
		return;
	free_strs(t->ext, t->n_ext);
	memset(t, 0, sizeof(*t));
}

/* MTA-STS policy */

enum { KEY_VERSION, KEY_MODE, KEY_MAX_AGE, KEY_MX, KEYS };

static const char *const key_names[KEYS] = { "version", "mode", "max_age",
					     "mx" };

struct pctx {
	struct sink s;
	struct sts_policy *out;
	size_t first[KEYS];	/* line of the first of each key; 0: none */
	char first_val[KEYS][QUOTE_MAX];
	char case_key[KEYS][QUOTE_MAX];	/* "Mode" for mode, and so on */
	size_t lf, crlf;
};

static int
key_find(const char *k, size_t n, int exact)
{
	int i;

	for (i = 0; i < KEYS; i++)
		if (n == strlen(key_names[i]) &&
		    (exact ? memcmp(k, key_names[i], n) == 0 :
			     mem_ieq(k, key_names[i], n)))
			return i;
	return -1;
}

/* RFC 8461 §3.2: sts-policy-mx-value = ["*."] Domain */
static void
policy_mx(struct pctx *c, const char *v, size_t n, size_t line)
{
	char qv[QUOTE_MAX], *name;
	size_t i, off = 0;

	push_str(&c->out->mx, &c->out->n_mx, clean_dup(v, n));
	quote(qv, v, n);
	if (n == 0) {
		problem(&c->s, REC_ERROR, REC_STS_POLICY_MX, "line %zu: mx "
			"has no value", line);
		return;
	}
	if (n > 2 && v[0] == '*' && v[1] == '.')
		off = 2;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] >= 0x80) {
			problem(&c->s, REC_ERROR, REC_STS_POLICY_MX, "line "
				"%zu: mx \"%s\" is not ASCII: international "
				"names go as \"xn--\" A-labels (RFC 8461 §3.2)",
				line, qv);
			return;
		}
	if (memchr(v + off, '*', n - off)) {
		problem(&c->s, REC_ERROR, REC_STS_POLICY_MX, "line %zu: mx "
			"\"%s\": a wildcard must be the whole leftmost label, "
			"as in \"*.example.com\" (RFC 8461 §4.1)", line, qv);
		return;
	}
	name = xstrndup(v + off, n - off);
	if (n - off > 254 || !check_hostname_valid(name)) {
		problem(&c->s, REC_ERROR, REC_STS_POLICY_MX, "line %zu: mx "
			"\"%s\" is not a host name (labels of letters, digits "
			"and \"-\")", line, qv);
	} else if (v[n - 1] == '.') {
		problem(&c->s, REC_WARNING, REC_STS_POLICY_MX, "line %zu: mx "
			"\"%s\" ends in a dot, which RFC 5321 domains do not "
			"have; a sender comparing names as written never "
			"matches it", line, qv);
	}
	free(name);
}

/* RFC 8461 §3.2 values are %s strings: a hint when only case differs. */
static const char *
value_case(const char *v, size_t n, const char *const *want)
{
	for (; *want; want++)
		if (n == strlen(*want) && mem_ieq(v, *want, n))
			return ": values are case-sensitive";
	return "";
}

static void
policy_value(struct pctx *c, int k, const char *v, size_t n, size_t line)
{
	static const char *const versions[] = { "STSv1", NULL };
	static const char *const modes[] = { "enforce", "testing", "none",
					     NULL };
	struct sts_policy *o = c->out;
	char qv[QUOTE_MAX];
	long long age = 0;
	size_t i;

	quote(qv, v, n);
	if (k == KEY_MX) {
		policy_mx(c, v, n, line);
		return;
	}
	/* RFC 8461 §3.2: of a repeated field other than mx, the first counts */
	if (c->first[k]) {
		problem(&c->s, REC_WARNING, REC_STS_POLICY_DUPLICATE, "line "
			"%zu: a second \"%s\" (\"%s\") is ignored: senders "
			"use the first, \"%s\" on line %zu (RFC 8461 §3.2)",
			line, key_names[k], qv, c->first_val[k], c->first[k]);
		return;
	}
	c->first[k] = line;
	memcpy(c->first_val[k], qv, sizeof(qv));
	switch (k) {
	case KEY_VERSION:
		if (span_is(v, n, "STSv1"))
			o->version_ok = 1;
		else
			problem(&c->s, REC_ERROR, REC_STS_POLICY_VERSION,
				"line %zu: version \"%s\" is not \"STSv1\"%s "
				"(RFC 8461 §3.2)", line, qv,
				value_case(v, n, versions));
		break;
	case KEY_MODE:
		if (span_is(v, n, "enforce"))
			o->mode = STS_MODE_ENFORCE;
		else if (span_is(v, n, "testing"))
			o->mode = STS_MODE_TESTING;
		else if (span_is(v, n, "none"))
			o->mode = STS_MODE_NONE;
		else
			problem(&c->s, REC_ERROR, REC_STS_POLICY_MODE, "line "
				"%zu: mode \"%s\" is none of \"enforce\", "
				"\"testing\", \"none\"%s (RFC 8461 §3.2)",
				line, qv, value_case(v, n, modes));
		break;
	case KEY_MAX_AGE:
		/* sts-policy-max-age-value = 1*10(DIGIT) */
		for (i = 0; i < n && is_digit((unsigned char)v[i]); i++)
			age = age * 10 + (v[i] - '0');
		if (n == 0 || n > 10 || i < n) {
			problem(&c->s, REC_ERROR, REC_STS_POLICY_MAX_AGE,
				"line %zu: max_age \"%s\" is not a number of "
				"1 to 10 digits (RFC 8461 §3.2)", line, qv);
			break;
		}
		o->max_age = age;
		if (age > STS_MAX_AGE_MAX)
			problem(&c->s, REC_ERROR, REC_STS_POLICY_MAX_AGE,
				"line %zu: max_age %lld is more than %lld (a "
				"year), the most RFC 8461 §3.2 allows", line,
				age, STS_MAX_AGE_MAX);
		else if (age < STS_MAX_AGE_LOW)
			problem(&c->s, REC_WARNING, REC_STS_POLICY_MAX_AGE,
				"line %zu: max_age %lld is under a day: "
				"senders re-fetch the policy often; RFC 8461 "
				"§3.2 expects weeks or more", line, age);
		break;
	}
}

/*
 * One line of a policy, without its line end.  RFC 8461 §3.2:
 *   sts-policy-field *WSP, a field being name ":" *WSP value,
 *   sts-policy-ext-name = alphanum *31(alphanum / "_" / "-" / "."),
 *   values of visible characters and UTF-8, no CTLs.
 */
static void
policy_line(struct pctx *c, const char *l, size_t n, size_t line)
{
	char qa[QUOTE_MAX], qk[QUOTE_MAX], b[24];
	const char *colon, *v;
	size_t i, nl, vl;
	int k;

	if (line == 1 && n >= 3 && memcmp(l, "\xef\xbb\xbf", 3) == 0) {
		problem(&c->s, REC_ERROR, REC_STS_POLICY_SYNTAX, "the policy "
			"begins with a byte order mark (U+FEFF): senders read "
			"it as part of the first key");
		l += 3;
		n -= 3;
	}
	for (i = 0; i < n && is_wsp((unsigned char)l[i]); i++)
		;
	if (i == n) {
		problem(&c->s, REC_WARNING, REC_STS_POLICY_SYNTAX, "line %zu "
			"is %s: the ABNF has no empty lines; most senders "
			"skip them", line, n ? "only white space" : "empty");
		return;
	}
	quote(qa, l, n);
	if (i) {
		problem(&c->s, REC_ERROR, REC_STS_POLICY_SYNTAX, "line %zu "
			"begins with white space: \"%s\"", line, qa);
		l += i;
		n -= i;
	}
	if ((i = utf8_check(l, n)) != n) {
		problem(&c->s, REC_ERROR, REC_STS_POLICY_SYNTAX, "line %zu is "
			"not valid UTF-8 (byte %zu): \"%s\"", line, i + 1, qa);
		return;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)l[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			problem(&c->s, REC_ERROR, REC_STS_POLICY_SYNTAX,
				"line %zu holds %s%s: \"%s\"", line,
				byte_name(b, sizeof(b), ch),
				ch == '\r' ? " (a CR not followed by LF)" : "",
				qa);
			return;
		}
	}
	colon = memchr(l, ':', n);
	if (!colon) {
		problem(&c->s, REC_ERROR, REC_STS_POLICY_SYNTAX, "line %zu: "
			"expected \"key: value\", found \"%s\"", line, qa);
		return;
	}
	nl = (size_t)(colon - l);
	if (nl && is_wsp((unsigned char)l[nl - 1])) {
		problem(&c->s, REC_ERROR, REC_STS_POLICY_SYNTAX, "line %zu: "
			"white space before \":\" in \"%s\" (RFC 8461 §3.2)",
			line, qa);
		while (nl && is_wsp((unsigned char)l[nl - 1]))
			nl--;
	}
	if (nl == 0) {
		problem(&c->s, REC_ERROR, REC_STS_POLICY_SYNTAX, "line %zu "
			"has no key before \":\": \"%s\"", line, qa);
		return;
	}
	for (i = 0; i < nl; i++)
		if (!is_alnum((unsigned char)l[i]) &&
		    (!i || (l[i] != '_' && l[i] != '-' && l[i] != '.')))
			break;
	if (i < nl || nl > 32) {
		problem(&c->s, REC_ERROR, REC_STS_POLICY_SYNTAX, "line %zu: "
			"\"%s\" is not a key (a letter or digit, then up to "
			"31 letters, digits, \"_\", \"-\", \".\"; RFC 8461 "
			"§3.2)", line, quote(qk, l, nl));
		return;
	}
	v = colon + 1;
	vl = (size_t)(l + n - v);
	while (vl && is_wsp((unsigned char)v[0])) {
		v++;
		vl--;
	}
	while (vl && is_wsp((unsigned char)v[vl - 1]))
		vl--;
	if ((k = key_find(l, nl, 1)) >= 0) {
		policy_value(c, k, v, vl, line);
		return;
	}
	if ((k = key_find(l, nl, 0)) >= 0 && !c->case_key[k][0])
		quote(c->case_key[k], l, nl);
	/* RFC 8461 §3.2: "unknown fields SHALL be ignored" */
	if (vl == 0)
		problem(&c->s, REC_ERROR, REC_STS_POLICY_SYNTAX, "line %zu: "
			"\"%s\" has no value (RFC 8461 §3.2)", line, qa);
	push_str(&c->out->ext, &c->out->n_ext, clean_dup(l, nl));
}

/* A hint for a key that is missing: it was there, in other case. */
static const char *
case_hint(struct pctx *c, int k, char *out, size_t size)
{
	if (!c->case_key[k][0])
		return "";
	snprintf(out, size, ": \"%s\" is not \"%s\", keys are case-sensitive",
		 c->case_key[k], key_names[k]);
	return out;
}

static int
policy_finish(struct pctx *c)
{
	struct sts_policy *o = c->out;
	char h[QUOTE_MAX + 64];

	if (!c->first[KEY_VERSION])
		problem(&c->s, REC_ERROR, REC_STS_POLICY_VERSION, "no "
			"\"version: STSv1\" line (RFC 8461 §3.2: required)%s",
			case_hint(c, KEY_VERSION, h, sizeof(h)));
	if (!c->first[KEY_MODE])
		problem(&c->s, REC_ERROR, REC_STS_POLICY_MODE, "no \"mode\" "
			"line (RFC 8461 §3.2: required, \"enforce\", "
			"\"testing\" or \"none\")%s",
			case_hint(c, KEY_MODE, h, sizeof(h)));
	if (!c->first[KEY_MAX_AGE])
		problem(&c->s, REC_ERROR, REC_STS_POLICY_MAX_AGE, "no "
			"\"max_age\" line (RFC 8461 §3.2: required)%s",
			case_hint(c, KEY_MAX_AGE, h, sizeof(h)));
	/* RFC 8461 §3.2: mx "required at least once, except when mode is
	 * "none"" */
	if (!o->n_mx && (o->mode == STS_MODE_ENFORCE ||
			 o->mode == STS_MODE_TESTING))
		problem(&c->s, REC_ERROR, REC_STS_POLICY_MX, "no \"mx\" line: "
			"with mode \"%s\" no MX host matches (RFC 8461 §3.2: "
			"required unless the mode is \"none\")%s",
			sts_mode_name(o->mode),
			case_hint(c, KEY_MX, h, sizeof(h)));
	if (c->lf && c->crlf)
		problem(&c->s, REC_WARNING, REC_STS_POLICY_LINE_ENDS, "mixed "
			"line ends: %zu lines end in CRLF, %zu in LF alone; "
			"RFC 8461 §3.2 allows either, but a sender may not "
			"expect both", c->crlf, c->lf);
	o->line_ends = (c->lf ? STS_LINES_LF : 0) |
		       (c->crlf ? STS_LINES_CRLF : 0);
	return c->s.errors ? -1 : 0;
}

static void
policy_start(struct pctx *c, struct sts_policy *out, struct rec_problems *pr)
{
	memset(out, 0, sizeof(*out));
	out->max_age = -1;
	memset(c, 0, sizeof(*c));
	c->s.pr = pr;
	c->out = out;
}

int
sts_policy_parse(const char *body, size_t len, struct sts_policy *out,
		 struct rec_problems *pr)
{
	struct pctx c;
	const char *nl;
	size_t p = 0, e, le, line = 0;

	policy_start(&c, out, pr);
	if (!body)
		len = 0;
	if (len > REC_MAX_POLICY) {
		problem(&c.s, REC_ERROR, REC_STS_POLICY_SYNTAX, "the policy "
			"is %zu bytes, more than %d (RFC 8461 §3.3 suggests "
			"senders stop at 64 kilobytes)", len, REC_MAX_POLICY);
		return -1;
	}
	if (len == 0) {
		problem(&c.s, REC_ERROR, REC_STS_POLICY_SYNTAX, "the policy is "
			"empty");
		return -1;
	}
	/* sts-policy-term = LF / CRLF; the last one may be left out */
	while (p < len) {
		nl = memchr(body + p, '\n', len - p);
		e = nl ? (size_t)(nl - body) : len;
		le = e;
		if (nl) {
			if (le > p && body[le - 1] == '\r') {
				le--;
				c.crlf++;
			} else {
				c.lf++;
			}
		}
		policy_line(&c, body + p, le - p, ++line);
		p = e + 1;
	}
	return policy_finish(&c);
}

int
sts_policy_parse_lines(const char *const *lines, size_t n,
		       struct sts_policy *out, struct rec_problems *pr)
{
	struct pctx c;
	size_t i, l, total = 0;

	policy_start(&c, out, pr);
	for (i = 0; i < n && total <= REC_MAX_POLICY; i++)
		if (lines[i])
			total += strnlen(lines[i], REC_MAX_POLICY + 1) + 1;
	if (total > REC_MAX_POLICY) {
		problem(&c.s, REC_ERROR, REC_STS_POLICY_SYNTAX, "the policy "
			"is more than %d bytes (RFC 8461 §3.3 suggests "
			"senders stop at 64 kilobytes)", REC_MAX_POLICY);
		return -1;
	}
	if (n == 0) {
		problem(&c.s, REC_ERROR, REC_STS_POLICY_SYNTAX, "the policy is "
			"empty");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const char *s = lines[i] ? lines[i] : "";

		l = strlen(s);
		/* a report's lines keep the CR of a CRLF policy (Google) */
		if (l && s[l - 1] == '\r') {
			l--;
			c.crlf++;
		}
		policy_line(&c, s, l, i + 1);
	}
	return policy_finish(&c);
}

/* An mx pattern for comparing: lower case, no trailing dot. */
static char *
mx_norm(const char *s)
{
	char *d = xstrdup(s);
	size_t n = strlen(d);

	if (n && d[n - 1] == '.')
		d[n - 1] = '\0';
	str_lower(d);
	return d;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted, distinct normalized patterns of p; returns their number. */
static size_t
mx_set(const struct sts_policy *p, char ***out)
{
	char **v = xcalloc(p->n_mx + 1, sizeof(*v));
	size_t i, k = 0;

	for (i = 0; i < p->n_mx; i++)
		v[i] = mx_norm(p->mx[i]);
	qsort(v, p->n_mx, sizeof(*v), cmp_str);
	for (i = 0; i < p->n_mx; i++) {
		if (k && strcmp(v[k - 1], v[i]) == 0) {
			free(v[i]);
			continue;
		}
		v[k++] = v[i];
	}
	*out = v;
	return k;
}

int
sts_policy_same(const struct sts_policy *a, const struct sts_policy *b)
{
	char **va, **vb;
	size_t na, nb, i;
	int same;

	if (!a || !b)
		return 0;
	if (a->version_ok != b->version_ok || a->mode != b->mode ||
	    a->max_age != b->max_age)
		return 0;
	na = mx_set(a, &va);
	nb = mx_set(b, &vb);
	same = na == nb;
	for (i = 0; same && i < na; i++)
		same = strcmp(va[i], vb[i]) == 0;
	free_strs(va, na);
	free_strs(vb, nb);
	return same;
}

void
sts_policy_release(struct sts_policy *p)
{
	if (!p)
		return;
	free_strs(p->mx, p->n_mx);
	free_strs(p->ext, p->n_ext);
	memset(p, 0, sizeof(*p));
	p->max_age = -1;
}
