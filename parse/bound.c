/*
 * bound.c — limits checked before a library sees hostile bytes: the MIME
 * nesting that libetpan's recursive parser would follow, the memory json-c
 * would need for a JSON text, and the per-message budget of decoded,
 * decompressed and parsed bytes.
 *
 * libetpan parses a mail recursively, one C stack frame chain per level
 * of multipart or message/rfc822, so 60,000 nested message/rfc822 headers
 * (1.9 MB) overflow the stack before mime.c's own depth check can run, and
 * 20,000 nested multiparts take seconds (each level scans the rest of the
 * message for its boundary).  json-c builds a tree of about 800 bytes per
 * object, so 32 MiB of "{}," would need 9 GB.  Both are decided here with
 * one linear pass over the bytes.
 */
#include <string.h>

#include "parse/parse_p.h"
#include "util/strutil.h"

#define MAX_BOXES 64		/* > any max_depth we accept */
#define BOUNDARY_MAX 200	/* longer: treated as unknown */

int
budget_take(struct budget *b, size_t n)
{
	if (b->over || n > b->left) {
		b->over = 1;
		return -1;
	}
	b->left -= n;
	return 0;
}

void
budget_init(struct budget *b, const struct parse_limits *lim)
{
	b->max = lim->max_report > SIZE_MAX / 2 ? SIZE_MAX : 2 * lim->max_report;
	b->left = b->max;
	b->over = 0;
}

/*
 * The MIME nesting check.
 *
 * The aim is an upper bound on the depth libetpan will reach, computed
 * without trusting that we parse headers exactly as libetpan does; where
 * the two could disagree, the scan assumes the deeper reading.  libetpan
 * (mailmime_content.c) nests only at a Content-Type that is multipart with
 * a boundary, message/rfc822 (not base64 or quoted-printable), or a part
 * of multipart/digest without a Content-Type (a message by default).  A
 * header field starts after a LF; a part of a multipart ends at the next
 * line "--boundary" followed by blanks and a line break (a close
 * delimiter "--boundary--" does not end it: libetpan skips such lines
 * while it looks for the next part).
 *
 * So every line that starts with "Content-Type:" (any case, comments and
 * folding allowed where libetpan allows them) and names a message or
 * multipart type opens a box: it is nested in every open box, and it
 * stays open until the end of the part it is in — the next delimiter of
 * the enclosing multipart when its boundary is certain, else the end of
 * the enclosing box.  A boundary is certain only when it parses simply
 * and its field is alone in its header block (no other such field since
 * the last empty line): with two Content-Type fields libetpan uses the
 * first, and the scan cannot know which delimiters count.  A digest box
 * counts two levels (its parts are messages by default).  Boxes in a
 * preamble, in a text body or in a base64 part are counted too: extra
 * depth, never less.
 */
struct box {
	size_t end;		/* the box is open before this offset */
	int levels;		/* 1, or 2 for a digest */
	const char *bnd;	/* certain boundary, or NULL */
	size_t blen;
};

/* Skips white space, folding (a line break followed by a blank) and
 * RFC 5322 comments, nested, with quoted pairs, within [i, n). */
static size_t
skip_cfws(const char *p, size_t i, size_t n)
{
	size_t depth = 0;

	while (i < n) {
		char c = p[i];

		if (depth) {
			if (c == '\\' && i + 1 < n)
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')')
				depth--;
			i++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			i++;	/* within a field, line breaks are folding */
		else if (c == '(') {
			depth = 1;
			i++;
		} else {
			break;
		}
	}
	return i;
}

/* End of the header field starting at p: the first LF not followed by a
 * blank, or n. */
static size_t
field_end(const char *p, size_t n)
{
	const char *q = p, *end = p + n;

	while ((q = memchr(q, '\n', (size_t)(end - q)))) {
		if (q + 1 >= end || (q[1] != ' ' && q[1] != '\t'))
			return (size_t)(q - p);
		q++;
	}
	return n;
}

/* The boundary parameter of a Content-Type value, if it is certain: one
 * "boundary" in the value, a token or a quoted string without escapes. */
static int
find_boundary(const char *v, size_t n, const char **b, size_t *bl)
{
	const char *hit = NULL, *q;
	size_t i, k, left;

	for (q = v, left = n; (q = mem_casemem(q, left, "boundary"));
	     q += 8, left = n - (size_t)(q - v)) {
		if (hit)
			return 0;	/* twice: which one counts is unclear */
		hit = q;
	}
	if (!hit)
		return 0;
	i = skip_cfws(v, (size_t)(hit - v) + 8, n);
	if (i >= n || v[i] != '=')
		return 0;
	i = skip_cfws(v, i + 1, n);
	if (i >= n)
		return 0;
	if (v[i] == '"') {
		for (k = i + 1; k < n && v[k] != '"'; k++)
			if (v[k] == '\\' || v[k] == '\r' || v[k] == '\n')
				return 0;
		if (k >= n)
			return 0;
		*b = v + i + 1;
		*bl = k - i - 1;
	} else {
		for (k = i; k < n && v[k] > ' ' && v[k] != ';' && v[k] != '(' &&
			    v[k] != '"' && v[k] != 0x7f; k++)
			;
		*b = v + i;
		*bl = k - i;
	}
	return *bl > 0 && *bl <= BOUNDARY_MAX;
}

struct ct {
	int digest;
	int message;		/* message/..., not multipart/... */
	const char *bnd;
	size_t blen;
};

/* A Content-Type field naming a composite type, at p (a line start). */
static int
composite_field(const char *p, size_t n, struct ct *ct)
{
	size_t fe, i;

	if (n < 13 || str_ncasecmp(p, "content-type", 12) != 0)
		return 0;
	fe = field_end(p, n);
	i = skip_cfws(p, 12, fe);
	if (i >= fe || p[i] != ':')
		return 0;
	i = skip_cfws(p, i + 1, fe);
	memset(ct, 0, sizeof(*ct));
	if (fe - i >= 9 && str_ncasecmp(p + i, "multipart", 9) == 0) {
		if (!find_boundary(p + i + 9, fe - i - 9, &ct->bnd, &ct->blen))
			ct->bnd = NULL;
	} else if (fe - i < 7 || str_ncasecmp(p + i, "message", 7) != 0) {
		return 0;
	} else {
		ct->message = 1;
	}
	ct->digest = mem_casemem(p + i, fe - i, "digest") != NULL;
	return 1;
}

/* The next delimiter line of boundary b in [from, to): LF "--" b, blanks,
 * an optional CR, LF.  Returns its offset (the LF before it), or to. */
static size_t
next_delimiter(const char *msg, size_t from, size_t to, const char *b,
	       size_t bl)
{
	const char *q = msg + from, *end = msg + to;

	while ((q = memchr(q, '\n', (size_t)(end - q)))) {
		const char *r = q + 1;

		q++;
		if ((size_t)(end - r) < bl + 2 || r[0] != '-' || r[1] != '-' ||
		    memcmp(r + 2, b, bl) != 0)
			continue;
		r += bl + 2;
		while (r < end && (*r == ' ' || *r == '\t'))
			r++;
		if (r < end && *r == '\r')
			r++;
		if (r < end && *r == '\n')
			return (size_t)(q - 1 - msg);
	}
	return to;
}

int
mime_check_nesting(const char *msg, size_t len, int max_depth,
		   struct mxd_err *err)
{
	struct box st[MAX_BOXES];
	size_t x = 0, n = 0, composites = 0, delims = 0, last = (size_t)-1;
	size_t hbytes = 0;	/* of the header section being read */
	int depth = 0, blank = 1;
	/* in a header section: the mail's, a part's after a delimiter of a
	 * certain boundary, or a message's after its part header named a
	 * message type (hdr_msg); other parts' headers go uncounted */
	int hdr = 1, hdr_msg = 0;

	if (max_depth >= MAX_BOXES)
		max_depth = MAX_BOXES - 1;
	while (x < len) {
		const char *nl = memchr(msg + x, '\n', len - x);
		size_t eol = nl ? (size_t)(nl - msg) : len;
		struct ct ct;

		while (n && st[n - 1].end <= x)
			depth -= st[--n].levels;
		if (eol == x || (eol == x + 1 && msg[x] == '\r')) {
			blank = 1;
			hdr = hdr && hdr_msg;
			hdr_msg = 0;
			hbytes = 0;
			x = eol + 1;
			continue;
		}
		if (hdr && (hbytes += eol - x + 1) > MIME_MAX_HEADER)
			return mxd_err_set(err, MXD_E_MIME, "MIME: a header section "
					   "of more than %d bytes", MIME_MAX_HEADER);
		if (msg[x] == '-' && n && st[n - 1].bnd &&
		    eol - x >= st[n - 1].blen + 2 && msg[x + 1] == '-' &&
		    memcmp(msg + x + 2, st[n - 1].bnd, st[n - 1].blen) == 0) {
			/*
			 * A delimiter line of the innermost multipart: libetpan
			 * builds a part for each before mime.c's caps are seen
			 * (a 22 MB mail of empty parts took 229 MB and 1.4 s),
			 * so they are counted here.  A mail within the caps has
			 * at most one per leaf and two per composite part.
			 */
			if (++delims > MIME_MAX_LEAVES + 2 * MIME_MAX_COMPOSITE)
				return mxd_err_set(err, MXD_E_MIME, "MIME: more than "
						   "%d parts", MIME_MAX_LEAVES);
			hdr = 1;	/* the part's header follows */
			hdr_msg = 0;
			hbytes = 0;
		} else if ((msg[x] == 'c' || msg[x] == 'C') &&
			   composite_field(msg + x, len - x, &ct)) {
			size_t end = n ? st[n - 1].end : len;
			int levels = ct.digest ? 2 : 1;

			if (++composites > MIME_MAX_COMPOSITE)
				return mxd_err_set(err, MXD_E_MIME, "MIME: more than "
						   "%d multipart or message parts",
						   MIME_MAX_COMPOSITE);
			if (!blank && last < n)
				st[last].bnd = NULL;	/* one header, two types */
			if (n && st[n - 1].bnd)
				end = next_delimiter(msg, x, end, st[n - 1].bnd,
						     st[n - 1].blen);
			if (depth + levels > max_depth)
				return mxd_err_set(err, MXD_E_MIME, "MIME: parts "
						   "nested deeper than %d levels",
						   max_depth);
			st[n].end = end;
			st[n].levels = levels;
			st[n].bnd = blank ? ct.bnd : NULL;
			st[n].blen = ct.blen;
			last = n++;
			depth += levels;
			blank = 0;
			hdr_msg |= hdr && ct.message;
		}
		x = eol + 1;
	}
	return 0;
}

/*
 * What json-c will allocate for a JSON text, from its punctuation: per
 * object a hash table (about 780 bytes), per array about 150, per value
 * 64-96, per string its bytes plus 64, measured with glibc's mallinfo2 on
 * json-c 0.16 for each shape.  Values are counted from the separators
 * (every value but the first follows a ',' or a ':'), so the estimate is
 * an upper bound for any shape; a real report needs 7 to 14 times its
 * size.  Strings are skipped exactly (escapes included), so braces inside
 * them do not count.
 */
#define JC_OBJECT 800
#define JC_ARRAY 160
#define JC_VALUE 96
#define JC_MEMBER 48
#define JC_STRING 64

size_t
json_cost(const char *p, size_t n)
{
	size_t i, cost = JC_VALUE;

	for (i = 0; i < n; i++) {
		switch (p[i]) {
		case '{':
			cost += JC_OBJECT;
			break;
		case '[':
			cost += JC_ARRAY;
			break;
		case ',':
			cost += JC_VALUE;
			break;
		case ':':
			cost += JC_VALUE + JC_MEMBER;
			break;
		case '"': {
			size_t s = i + 1;

			while (s < n && p[s] != '"')
				s += p[s] == '\\' ? 2 : 1;
			cost += JC_STRING + (s - i);
			i = s;
			break;
		}
		default:
			break;
		}
	}
	return cost;
}
