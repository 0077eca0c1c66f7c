/*
 * pack.c — the packed form of a raw copy: a report mail whose gzip
 * attachment is kept as the JSON it inflates to.
 *
 * A compressed raw copy is mostly what no dictionary can predict: the
 * signatures, and the report's gzip attachment, which deflate has already
 * made dense (about 360 B of a bench mail's 1.9 KB compressed).  Inflated,
 * that attachment is JSON of keys, dates and domain names the store's
 * dictionary knows: about 100 B once compressed with it.  So when zlib
 * makes the member again byte for byte (parse/regzip.c: true of Google's
 * and Microsoft's reports), the copy keeps the mail without the
 * attachment, the JSON, and what it takes to make the attachment again
 * (the gzip header and trailer as they were, the zlib level, the base64
 * line layout).  Nothing is dropped: pack_message() builds the attachment
 * again from what it keeps and packs only when that gives the very bytes
 * of the mail; anything else (another compressor, odd line lengths,
 * spaces in the base64) is kept as it came.
 *
 * Layout (integers are LEB128 varints unless said):
 *   "MXP\1"  form (1 byte: 1 base64 attachment of a mail, 2 a gzip file)
 *   level, crlf, last_eol (1 byte each)
 *   line, off, hlen, dlen, tail, json, rest; crc (4 bytes, little end)
 *   the mail before the attachment (off bytes), the mail after it (rest),
 *   the gzip header (hlen), the trailer and any bytes after the member
 *   (tail), the JSON.
 * `line` is the base64 characters of each line but the last, `crlf` the
 * line ends, `last_eol` whether the last line has one; dlen and crc are
 * those of the deflate stream, so that a zlib that deflates otherwise
 * (zlib-ng) is told, not trusted.
 */
#include <stdint.h>
#include <string.h>

#include "parse/parse.h"
#include "store/store_p.h"

#define MAGIC "MXP\001"
#define MAGIC_LEN 4
/* Base64 runs that start like gzip ("H4sI") looked at in one mail. */
#define SPANS_MAX 8

enum { FORM_B64 = 1, FORM_GZIP = 2 };

struct layout {
	int form, level, crlf, last_eol;
	size_t off, span, line;
	struct gzip_split gz;
};

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
is_b64(unsigned char c)
{
	return b64_value(c) >= 0 || c == '=';
}

/* Decodes the base64 characters of p[0..n), skipping line ends, into
 * out: 0, or -1 when it is not whole groups of four. */
static int
b64_decode(const unsigned char *p, size_t n, struct buf *out)
{
	unsigned v = 0;
	int bits = 0, pad = 0;

	buf_reset(out);
	if (buf_reserve(out, n / 4 * 3 + 3) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int x;

		if (p[i] == '\r' || p[i] == '\n')
			continue;
		if (p[i] == '=') {
			pad++;
			continue;
		}
		if (pad || (x = b64_value(p[i])) < 0)
			return -1;
		v = v << 6 | (unsigned)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->data[out->len++] = (unsigned char)(v >> bits);
		}
	}
	return 0;
}

/* Appends the base64 of p[0..n) to out in lines of `line` characters. */
static int
b64_encode(const unsigned char *p, size_t n, size_t line, int crlf,
	   int last_eol, struct buf *out)
{
	size_t chars = (n + 2) / 3 * 4, col = 0;
	size_t lines = chars / line + 2;

	if (buf_reserve(out, chars + lines * 2) < 0)
		return -1;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		for (int k = 0; k < 4; k++) {
			if (col == line) {
				if (crlf)
					out->data[out->len++] = '\r';
				out->data[out->len++] = '\n';
				col = 0;
			}
			out->data[out->len++] = (unsigned char)q[k];
			col++;
		}
	}
	if (last_eol) {
		if (crlf)
			out->data[out->len++] = '\r';
		out->data[out->len++] = '\n';
	}
	out->data[out->len] = '\0';
	return 0;
}

/*
 * The base64 run at p[pos..): lines of base64 characters, all as long as
 * the first but the last, which ends it (or is followed by a line that is
 * not base64).  Fills lay's off, span, line, crlf and last_eol.
 */
static void
find_span(const unsigned char *p, size_t len, size_t pos, struct layout *lay)
{
	size_t i = pos, end = pos;

	lay->off = pos;
	lay->line = 0;
	lay->crlf = lay->last_eol = 0;
	while (i < len) {
		size_t j = i, e = 0;

		while (j < len && is_b64(p[j]))
			j++;
		if (j == i || (lay->line && j - i > lay->line))
			break;
		if (j + 1 < len && p[j] == '\r' && p[j + 1] == '\n')
			e = 2;
		else if (j < len && p[j] == '\n')
			e = 1;
		else if (j < len)
			break;	/* something else on the line */
		if (!lay->line) {
			lay->line = j - i;
			lay->crlf = e == 2;
		}
		end = j + e;
		lay->last_eol = e != 0;
		if (j - i < lay->line || e == 0)
			break;
		i = end;
	}
	lay->span = end - pos;
}

/*
 * Whether the gzip member g[0..n) of lay packs; json gets its JSON.  A
 * member that inflates to more than RATIO_MAX times its size is a bomb,
 * not a report (reports deflate 2-20x): it is not inflated further, nor
 * deflated three times over, and is kept as it came.
 */
#define RATIO_MAX 64
static int
member_packs(const unsigned char *g, size_t n, struct layout *lay,
	     struct buf *json)
{
	json->max = n < PACK_JSON_MAX / RATIO_MAX ? n * RATIO_MAX : PACK_JSON_MAX;
	return parse_gzip_split(g, n, json, &lay->gz) == 1;
}

static void
put_varint(struct buf *b, uint64_t v)
{
	do {
		unsigned char c = v & 0x7f;

		v >>= 7;
		if (v)
			c |= 0x80;
		buf_addc(b, c);
	} while (v);
}

static int
get_varint(const unsigned char **p, const unsigned char *end, size_t *v)
{
	uint64_t x = 0;

	for (int shift = 0; shift < 64 && *p < end; shift += 7) {
		unsigned char c = *(*p)++;

		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			if (x > SIZE_MAX)
				return -1;
			*v = (size_t)x;
			return 0;
		}
	}
	return -1;
}

static void
write_pack(const unsigned char *raw, size_t len, const struct layout *lay,
	   const unsigned char *g, size_t gn, const struct buf *json,
	   struct buf *out)
{
	size_t tail = gn - lay->gz.hlen - lay->gz.dlen;
	size_t rest = len - lay->off - lay->span;
	unsigned char crc[4];

	buf_reset(out);
	buf_add(out, MAGIC, MAGIC_LEN);
	buf_addc(out, lay->form);
	buf_addc(out, lay->gz.level);
	buf_addc(out, lay->crlf);
	buf_addc(out, lay->last_eol);
	put_varint(out, lay->line);
	put_varint(out, lay->off);
	put_varint(out, lay->gz.hlen);
	put_varint(out, lay->gz.dlen);
	put_varint(out, tail);
	put_varint(out, json->len);
	put_varint(out, rest);
	for (int k = 0; k < 4; k++)
		crc[k] = (unsigned char)(lay->gz.crc >> (8 * k));
	buf_add(out, crc, 4);
	buf_add(out, raw, lay->off);
	buf_add(out, raw + lay->off + lay->span, rest);
	buf_add(out, g, lay->gz.hlen);
	buf_add(out, g + lay->gz.hlen + lay->gz.dlen, tail);
	buf_add(out, json->data, json->len);
}

/* a thread's buffers, reused: the decoded member, its JSON, the base64
 * made again */
static _Thread_local struct buf tl_g, tl_json, tl_again;
static _Thread_local int tl_ready;

void
pack_thread_release(void)
{
	if (tl_ready) {
		buf_release(&tl_g);
		buf_release(&tl_json);
		buf_release(&tl_again);
	}
	tl_ready = 0;
}

int
pack_message(const void *data, size_t len, struct buf *out)
{
	const unsigned char *raw = data;
	struct buf *g = &tl_g, *json = &tl_json, *again = &tl_again;
	struct layout lay;
	int packed = 0;

	if (len < 32 || len > UINT32_MAX)
		return 0;
	if (!tl_ready) {
		buf_init(g, BUF_NOCAP);
		buf_init(json, PACK_JSON_MAX);
		buf_init(again, BUF_NOCAP);
		tl_ready = 1;
	}
	if (raw[0] == 0x1f && raw[1] == 0x8b) {
		memset(&lay, 0, sizeof(lay));
		lay.form = FORM_GZIP;
		lay.span = len;
		if (member_packs(raw, len, &lay, json)) {
			write_pack(raw, len, &lay, raw, len, json, out);
			packed = 1;
		}
		return packed;
	}
	/* base64 of a gzip member starts "H4sI" (1f 8b 08), at a line's start */
	for (size_t pos = 0, tries = 0; !packed && tries < SPANS_MAX;) {
		const unsigned char *nl = memchr(raw + pos, '\n', len - pos);

		if (!nl)
			break;
		pos = (size_t)(nl - raw) + 1;
		if (len - pos < 4 || memcmp(raw + pos, "H4sI", 4) != 0)
			continue;
		tries++;
		memset(&lay, 0, sizeof(lay));
		lay.form = FORM_B64;
		find_span(raw, len, pos, &lay);
		if (b64_decode(raw + pos, lay.span, g) < 0 ||
		    !member_packs(g->data, g->len, &lay, json))
			continue;
		buf_reset(again);
		if (b64_encode(g->data, g->len, lay.line, lay.crlf, lay.last_eol,
			       again) < 0 ||
		    again->len != lay.span ||
		    memcmp(again->data, raw + pos, lay.span) != 0)
			continue;
		write_pack(raw, len, &lay, g->data, g->len, json, out);
		packed = 1;
	}
	return packed;
}

static int
pack_is_packed(const void *data, size_t n)
{
	return n >= MAGIC_LEN && memcmp(data, MAGIC, MAGIC_LEN) == 0;
}

int
unpack_message(const void *data, size_t n, struct buf *out,
	       struct mxd_err *err)
{
	const unsigned char *p = data, *end = p + n;
	size_t line, off, hlen, dlen, tail, jlen, rest;
	struct buf gz;
	int form, level, crlf, last_eol, rc = -1;
	uint32_t crc, want;

	if (!pack_is_packed(data, n) || n < MAGIC_LEN + 4)
		return mxd_err_set(err, MXD_E_STORE, "packed copy: bad header");
	p += MAGIC_LEN;
	form = *p++;
	level = *p++;
	crlf = *p++;
	last_eol = *p++;
	if (get_varint(&p, end, &line) < 0 || get_varint(&p, end, &off) < 0 ||
	    get_varint(&p, end, &hlen) < 0 || get_varint(&p, end, &dlen) < 0 ||
	    get_varint(&p, end, &tail) < 0 || get_varint(&p, end, &jlen) < 0 ||
	    get_varint(&p, end, &rest) < 0 || end - p < 4 ||
	    (form != FORM_B64 && form != FORM_GZIP) || crlf > 1 || last_eol > 1 ||
	    (form == FORM_B64 && line == 0) ||
	    (form == FORM_GZIP && (line || off || rest || crlf || last_eol)))
		return mxd_err_set(err, MXD_E_STORE, "packed copy: bad header");
	want = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
	p += 4;
	if (off > (size_t)(end - p) || rest > (size_t)(end - p) - off ||
	    hlen > (size_t)(end - p) - off - rest ||
	    tail > (size_t)(end - p) - off - rest - hlen ||
	    jlen != (size_t)(end - p) - off - rest - hlen - tail)
		return mxd_err_set(err, MXD_E_STORE, "packed copy: sizes do not "
				   "add up");
	buf_init(&gz, BUF_NOCAP);
	buf_add(&gz, p + off + rest, hlen);
	if (parse_deflate_at(p + off + rest + hlen + tail, jlen, level, &gz,
			     &crc) < 0) {
		mxd_err_set(err, MXD_E_STORE, "packed copy: cannot deflate");
		goto out;
	}
	if (gz.len - hlen != dlen || crc != want) {
		mxd_err_set(err, MXD_E_STORE, "packed copy: this zlib (%s) deflates "
			    "the report otherwise than the one that stored it; "
			    "read the store where zlib is zlib",
			    parse_zlib_version());
		goto out;
	}
	buf_add(&gz, p + off + rest + hlen, tail);
	buf_reset(out);
	if (form == FORM_GZIP) {
		if (buf_add(out, gz.data, gz.len) < 0)
			goto toobig;
	} else if (buf_add(out, p, off) < 0 ||
		   b64_encode(gz.data, gz.len, line, crlf, last_eol, out) < 0 ||
		   buf_add(out, p + off, rest) < 0) {
		goto toobig;
	}
	rc = 0;
	goto out;
toobig:
	mxd_err_set(err, MXD_E_TOOBIG, "packed copy: too large");
out:
	buf_release(&gz);
	return rc;
}
