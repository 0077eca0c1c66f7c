/*
 * structured.h — the message builder of fuzz_structured: the fuzz input is
 * read as a small stack program whose operations build a mail (or a raw
 * report) in memory, which then goes to parse_message().
 *
 * Why a program and not raw bytes: the shapes that break a MIME/gzip/zip/
 * JSON parser are large and regular (60,000 nested message/rfc822 headers, a
 * zip whose central directory points 64 times at one deflate stream, 32 MiB
 * of "{}," inside a gzip member) and a byte-level fuzzer with a few hundred
 * KiB of input never gets there.  Here one op and a count do it, and what is
 * built is well-formed enough (real boundaries, real deflate, valid CRCs) to
 * pass the outer layers and reach the inner ones.
 *
 * Program format (docs/FUZZING.md has the full table): one byte selects an
 * op (the letters of sb_ops[]; any other byte is op number byte % SB_NOPS),
 * and the op then reads its arguments from the bytes that follow: single
 * bytes (flags, table indexes) and counts (a byte below 0xc0, or a byte
 * from 0xc0 on and a LEB128 number) clamped to the op's maximum.  Reads
 * past the end give 0, so every byte string is a valid program and a
 * truncated one still builds something.  The ops work on a stack of byte
 * strings; the message is the top of the stack at the end.
 *
 * Bounds: the stack holds at most SB_LIVE_MAX bytes at any time and a
 * program writes at most SB_WORK_MAX bytes in all (deflate input included);
 * a write past either is refused and the op stops where it is, so a program
 * always ends quickly with a bounded message.
 *
 * Header-only (static functions): the libFuzzer target fuzz_structured.c and
 * the CTest replay replay.c both include it, and tests/CMakeLists.txt builds
 * test_fuzz_replay from replay.c alone.  zlib reaches that binary through
 * mxd_parse's link interface (a static library passes its private
 * libraries on).
 */
#ifndef MXD_FUZZ_STRUCTURED_H
#define MXD_FUZZ_STRUCTURED_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "parse/parse.h"
#include "util/buf.h"
#include "util/utf8.h"

/*
 * The builder is not the code under test: without coverage instrumentation
 * it runs several times faster (no comparison tracing in the encoders),
 * and libFuzzer's feedback is the parser's coverage, not the builder's.
 * AddressSanitizer stays on.
 */
#if defined(__clang__)
#pragma clang attribute push(__attribute__((no_sanitize("coverage"))), \
			     apply_to = function)
#endif

#define SB_LIVE_MAX ((size_t)64 << 20)	/* bytes on the stack at once */
#define SB_WORK_MAX ((size_t)256 << 20)	/* bytes written by one program */
#define SB_DEPTH 32			/* stack slots */
#define SB_STEPS 4096			/* ops run per program */
#define SB_NEST_MAX 100000		/* levels of one nesting op */

struct sb {
	const unsigned char *p;	/* the program not read yet */
	size_t n;
	struct buf stack[SB_DEPTH];
	int sp;
	size_t live;		/* bytes held by every buffer written */
	size_t work;		/* bytes written so far */
	int full;		/* a write was refused */
};

/* ---- reading the program ---- */

static unsigned
sb_u8(struct sb *s)
{
	if (!s->n)
		return 0;
	s->n--;
	return *s->p++;
}

/*
 * A count: a byte below 0xc0 is the count itself; from 0xc0 on, a LEB128
 * number follows, clamped (not reduced modulo) so that 0xff bytes reach
 * the maximum, which is where the interesting sizes are.  The escape keeps
 * large counts exact and easy to write but rare in random mutations (a
 * plain LEB128 made every other count huge, and runs slow).
 */
static uint64_t
sb_var(struct sb *s, uint64_t max)
{
	uint64_t v = 0;
	unsigned shift = 0, b = sb_u8(s);

	if (b < 0xc0)
		return b > max ? max : b;
	do {
		b = sb_u8(s);
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while ((b & 0x80) && shift < 70);
	return v > max ? max : v;
}

static uint64_t
sb_u64(struct sb *s)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)sb_u8(s) << (8 * i);
	return v;
}

/* Up to `want` bytes of the program itself, as literal data. */
static size_t
sb_bytes(struct sb *s, size_t want, const unsigned char **p)
{
	size_t n = want < s->n ? want : s->n;

	*p = s->p;
	s->p += n;
	s->n -= n;
	return n;
}

/* ---- bounded writing ---- */

/* Accounts for n bytes of work (output, or deflate input). */
static int
sb_spend(struct sb *s, size_t n)
{
	if (n > SB_WORK_MAX - s->work) {
		s->full = 1;
		return -1;
	}
	s->work += n;
	return 0;
}

static int
sb_put(struct sb *s, struct buf *b, const void *p, size_t n)
{
	if (n > SB_LIVE_MAX - s->live || sb_spend(s, n) < 0) {
		s->full = 1;
		return -1;
	}
	buf_add(b, p, n);	/* BUF_NOCAP: cannot fail */
	s->live += n;
	return 0;
}

static int
sb_puts(struct sb *s, struct buf *b, const char *str)
{
	return sb_put(s, b, str, strlen(str));
}

static int sb_printf(struct sb *s, struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
sb_printf(struct sb *s, struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	return sb_put(s, b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n
							   : sizeof(tmp) - 1);
}

/* Reserves room for about n more bytes (as far as the budget goes), so
 * that a large output grows once and not by doubling. */
static void
sb_expect(struct sb *s, struct buf *b, uint64_t n)
{
	size_t room = SB_LIVE_MAX - s->live;

	buf_reserve(b, n < room ? (size_t)n : room);
}

static int
sb_putc(struct sb *s, struct buf *b, int c)
{
	unsigned char ch = (unsigned char)c;

	return sb_put(s, b, &ch, 1);
}

/* An empty buffer whose data is never NULL: ops do pointer arithmetic
 * on it without a case for "nothing there yet". */
static void
sb_init_buf(struct buf *b)
{
	buf_init(b, BUF_NOCAP);
	buf_reserve(b, 0);
}

static void
sb_free(struct sb *s, struct buf *b)
{
	s->live -= b->len;
	buf_release(b);
}

/* Drops the tail of b past `len`. */
static void
sb_cut(struct sb *s, struct buf *b, size_t len)
{
	if (len >= b->len)
		return;
	s->live -= b->len - len;
	b->len = len;
	b->data[len] = '\0';
}

/*
 * Appends p[0..n) `count` times.  Short units are first tiled into a 64 KiB
 * block so that 32 MiB of one byte costs 512 appends, not 32 million.
 */
static int
sb_rep(struct sb *s, struct buf *b, const void *p, size_t n, uint64_t count)
{
	unsigned char tile[65536];
	size_t per = 1, i;

	if (!n || !count)
		return 0;
	sb_expect(s, b, count > UINT64_MAX / n ? UINT64_MAX : count * n);
	if (n <= sizeof(tile) / 2) {
		per = sizeof(tile) / n;
		for (i = 0; i < per; i++)
			memcpy(tile + i * n, p, n);
		p = tile;
	}
	while (count >= per) {
		if (sb_put(s, b, p, n * per) < 0)
			return -1;
		count -= per;
	}
	return count ? sb_put(s, b, p, n * (size_t)count) : 0;
}

/* ---- the stack ---- */

/* Moves the top into *out, or gives an empty buffer. */
static void
sb_pop(struct sb *s, struct buf *out)
{
	if (s->sp == 0) {
		sb_init_buf(out);
		return;
	}
	*out = s->stack[--s->sp];
}

/* Pushes b (ownership moves); a full stack loses its bottom slot. */
static void
sb_push(struct sb *s, struct buf *b)
{
	if (s->sp == SB_DEPTH) {
		sb_free(s, &s->stack[0]);
		memmove(s->stack, s->stack + 1,
			(SB_DEPTH - 1) * sizeof(s->stack[0]));
		s->sp--;
	}
	s->stack[s->sp++] = *b;
}

/* ---- tables ---- */

#define SB_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Tokens that the 'k' op pushes: MIME, JSON and archive syntax. */
static const char *const sb_tokens[] = {
	"\r\n", "\n", "\r\n\r\n", "--", ": ", "; ", "=", "\"", "\r\n ", "\t",
	"Content-Type: ", "Content-Transfer-Encoding: ",
	"Content-Disposition: ", "MIME-Version: 1.0\r\n", "Subject: ",
	"TLS-Report-Domain: ", "TLS-Report-Submitter: ", "boundary=",
	"boundary=\"", "report-type=tlsrpt", "filename=", "filename*=",
	"filename*0*=", "filename*1*=", "name=", "utf-8''", "iso-8859-1''",
	"=?utf-8?B?", "=?utf-8?Q?", "=?iso-8859-1?q?", "?=", "multipart/mixed",
	"multipart/report", "message/rfc822", "application/tlsrpt+gzip",
	"application/tlsrpt+json", "application/zip", "application/gzip",
	"application/octet-stream", "text/plain", "base64",
	"quoted-printable", "7bit", "8bit", "binary", "attachment", "inline",
	"{", "}", "[", "]", ",", ":", "null", "true", "\"\"", "\\u0000",
	"\\ud800", "\\\"", "\"organization-name\":", "\"contact-info\":",
	"\"report-id\":", "\"date-range\":", "\"start-datetime\":",
	"\"end-datetime\":", "\"policies\":", "\"policy\":", "\"policy-type\":",
	"\"policy-string\":", "\"policy-domain\":", "\"mx-host\":",
	"\"summary\":", "\"total-successful-session-count\":",
	"\"total-failure-session-count\":", "\"failure-details\":",
	"\"result-type\":", "\"failed-session-count\":",
	"\"2026-11-16T00:00:00Z\"", "18446744073709551615",
	"18446744073709551616", "9007199254740993", "\x1f\x8b\x08\x00",
	"PK\x03\x04", "PK\x01\x02", "PK\x05\x06", "\xef\xbb\xbf", "=\r\n",
	"=3D", "=00",
};

/* Content-Type values of a leaf part ("" means no Content-Type at all). */
static const char *const sb_ctypes[] = {
	"application/tlsrpt+gzip", "application/tlsrpt+json",
	"application/tlsrpt", "application/gzip", "application/x-gzip",
	"application/json", "application/zip", "application/x-zip-compressed",
	"application/tlsrpt+zip", "application/octet-stream", "text/plain",
	"text/html", "message/rfc822", "message/delivery-status",
	"multipart/mixed", "image/png", "APPLICATION/TLSRPT+GZIP",
	"application/pdf", "", "application", "application/", "x-foo/bar",
};

static const char *const sb_ctes[] = {
	NULL, "7bit", "8bit", "binary", "base64", "quoted-printable", "BASE64",
	"Quoted-Printable", "x-uuencode", "x-token", "",
};

/* File names: RFC 8460 §5.1 shapes and the deviations of QUIRKS.md. */
static const char *const sb_names[] = {
	"google.com!example.org!1763251200!1763337599!001.json.gz",
	"microsoft.com!example.org!1763251200!1763337600.json.gz",
	"example.net!example.org!1!2.json", "report.json", "report.json.gz",
	"report.zip", "example.net!EXAMPLE.ORG.!1!2!id.json.zip",
	"smime.p7s", "noext", "a!b!c!d.json", "!!!.json", "x.JSON.GZ",
	"dir/sub/google.com!example.org!1!2.json",
	"rapport \xc3\xa9t\xc3\xa9.json",
	"bad\xff\xfe.json", "sp ace!exa mple.org!1!2.json", "report.txt",
	"report.json.gz.zip", "",
};

static const char *const sb_subtypes[] = {
	"mixed", "report", "alternative", "related", "signed", "digest",
	"parallel", "REPORT", "x-unknown",
};

static const char *const sb_boundaries[] = {
	"=_b", "----=_Part_0_1234.5678", "b", "a b c", "--", "=?x?=",
	("01234567890123456789012345678901234"
	 "56789012345678901234567890123456789"),
	"'()+_,-./:=?", "\xc3\xa9", "b\tc",
};

static const char *const sb_hnames[] = {
	"Subject", "TLS-Report-Domain", "TLS-Report-Submitter", "From", "To",
	"Date", "Message-ID", "MIME-Version", "DKIM-Signature", "Received",
	"Content-Type", "Content-Disposition", "Content-Transfer-Encoding",
	"X-Junk", "ARC-Seal", "Content-ID", "Content-Description",
	"content-type", "TLS-REPORT-DOMAIN", "Return-Path",
};

static const char *const sb_hvalues[] = {
	"Report Domain: example.org Submitter: google.com Report-ID: "
	"<2026.11.16T00.00.00Z+example.org@google.com>",
	"Report\r\n Domain:\r\n\texample.org Submitter: google.com",
	"=?utf-8?Q?Report_Domain:_example.org?=",
	"=?utf-8?B?UmVwb3J0IERvbWFpbjogZXhhbXBsZS5vcmc=?=",
	"=?bogus-charset?B?UmVwb3J0?=", "=?utf-8?B?%%%?=", "=?utf-8?Q?=FF=FE?=",
	"example.org", "EXAMPLE.ORG.", "example.org; foo", "google.com",
	"1.0", "multipart/report; report-type=tlsrpt; boundary=\"=_b\"",
	"application/tlsrpt+gzip; name=\"r.json.gz\"",
	"attachment; filename=\"r.json.gz\"", "base64", "", " ", "(comment)",
	"\"quoted\"", "a\x01" "b", "caf\xc3\xa9",
};

/* JSON string values (raw; the writer escapes them). */
static const char *const sb_jstrings[] = {
	"example.org", "EXAMPLE.ORG.", " example.org ", "mx1.example.org",
	"*.example.org", "Google Inc.", "Microsoft Corporation",
	"smtp-tls-reporting@google.com", "mailto:tlsrpt@example.org",
	"2026-11-16T00:00:00Z_example.org",
	"2026-11-16T00:00:00Z_idx1_example.org",
	"", " ", "a\x01" "b", "\x7f", "caf\xc3\xa9", "\xff\xfe", "\xed\xa0\x80",
	"\xf4\x90\x80\x80", "\xc0\xaf", "192.0.2.1", "2001:db8::1", "sts",
	"tlsa", "no-policy-found", "STS", "validation-failure",
	"certificate-expired", "starttls-not-supported", "x-unknown",
	"550 5.7.1 no", "version: STSv1", "mode: enforce\r", "mx: *.example.org",
	"max_age: 604800\r\n", "3 1 1 abcd", "[\"3 1 1 aa\",\"3 1 1 bb\"]",
	"[\"3 1 1 aa\",1]", "[", "\x1b[31mred", "\xe2\x80\xae" "evil",
};

static const char *const sb_ptypes[] = {
	"sts", "tlsa", "no-policy-found", "STS", "TLSA", "dane", "",
};

static const char *const sb_results[] = {
	"starttls-not-supported", "certificate-host-mismatch",
	"certificate-expired", "certificate-not-trusted", "validation-failure",
	"tlsa-invalid", "dnssec-invalid", "dane-required",
	"sts-policy-fetch-error", "sts-policy-invalid", "sts-webpki-invalid",
	"x-new-type", "",
};

static const char *const sb_dates[] = {
	"2026-11-16T00:00:00Z", "2026-11-16T23:59:59Z", "2026-11-17T00:00:00Z",
	"2026-11-16T00:00:00", "2026-11-16T00:00:00.123456Z",
	"2026-11-16T00:00:00+02:00", "2026-11-16T00:00:00-00:00", "2026-11-16",
	"2026-11-16 00:00:00Z", "2026-11-16t00:00:00z", "1970-01-01T00:00:00Z",
	"1969-12-31T23:59:59Z", "9999-12-31T23:59:59Z", "0000-00-00T00:00:00Z",
	"2026-02-30T25:61:61Z", "2026-11-16T00:00:00+99:99", "", "now",
	"+292277026596-12-04T15:30:07Z",
};

/* Numbers as JSON text: the edges of int64, uint64, 2^53 and json-c. */
static const char *const sb_counts[] = {
	"0", "1", "2147483647", "2147483648", "4294967295", "4294967296",
	"9007199254740992", "9007199254740993", "9223372036854775807",
	"9223372036854775808", "18446744073709551615", "18446744073709551616",
	"-1", "-9223372036854775808", "-9223372036854775809", "1.5", "1e3",
	"1e308", "1e309", "-0", "0.0", "\"12\"", "\"12345678901234567\"", "\"\"",
	"\"-1\"", "\"0x10\"", "null", "true", "[]", "{}", "01", "1E2",
	"123456789012345678901234567890", "NaN", "Infinity",
};

/* ---- encodings ---- */

static const char sb_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Base64 with `line` characters per line (0: one line).  Flags: 1 LF line
 * ends, 2 no padding, 4 a junk character per line (QUIRKS A7 leniency),
 * 8 no final line end.
 */
static int
sb_enc_b64(struct sb *s, struct buf *o, const unsigned char *p, size_t n,
	   unsigned line, unsigned flags)
{
	char out[1024];
	size_t i, k = 0, col = 0;
	const char *eol = flags & 1 ? "\n" : "\r\n";

	sb_expect(s, o, (uint64_t)n / 3 * 4 + n / 32 + 8);
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		size_t left = n - i;

		if (left > 1)
			v |= (unsigned)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[k++] = sb_b64[v >> 18 & 63];
		out[k++] = sb_b64[v >> 12 & 63];
		if (left > 1)
			out[k++] = sb_b64[v >> 6 & 63];
		else if (!(flags & 2))
			out[k++] = '=';
		if (left > 2)
			out[k++] = sb_b64[v & 63];
		else if (!(flags & 2))
			out[k++] = '=';
		col += 4;
		if (line && col >= line) {
			if (flags & 4)
				out[k++] = '*';
			out[k++] = eol[0];
			if (eol[1])
				out[k++] = eol[1];
			col = 0;
		}
		if (k > sizeof(out) - 16) {
			if (sb_put(s, o, out, k) < 0)
				return -1;
			k = 0;
		}
	}
	if (!(flags & 8) && col) {
		out[k++] = eol[0];
		if (eol[1])
			out[k++] = eol[1];
	}
	return sb_put(s, o, out, k);
}

/*
 * Quoted-printable, soft line breaks at 76.  Flags: 1 LF line ends, 2
 * encode every byte, 4 keep CR LF as hard line breaks (text body).
 */
static int
sb_enc_qp(struct sb *s, struct buf *o, const unsigned char *p, size_t n,
	  unsigned flags)
{
	static const char hex[] = "0123456789ABCDEF";
	char out[1024];
	size_t i, k = 0, col = 0;
	const char *eol = flags & 1 ? "\n" : "\r\n";

	sb_expect(s, o, (uint64_t)n * 3 + n / 24);
	for (i = 0; i < n; i++) {
		unsigned c = p[i];

		if ((flags & 4) && c == '\r' && i + 1 < n && p[i + 1] == '\n') {
			out[k++] = eol[0];
			if (eol[1])
				out[k++] = eol[1];
			col = 0;
			i++;
		} else if (!(flags & 2) && c >= 33 && c <= 126 && c != '=') {
			out[k++] = (char)c;
			col++;
		} else {
			out[k++] = '=';
			out[k++] = hex[c >> 4];
			out[k++] = hex[c & 15];
			col += 3;
		}
		if (col >= 73) {
			out[k++] = '=';
			out[k++] = eol[0];
			if (eol[1])
				out[k++] = eol[1];
			col = 0;
		}
		if (k > sizeof(out) - 16) {
			if (sb_put(s, o, out, k) < 0)
				return -1;
			k = 0;
		}
	}
	return sb_put(s, o, out, k);
}

/*
 * zlib's deflate into o: wbits 31 gzip (with header h), 15 zlib, -15 raw.
 * With `sync`, a Z_SYNC_FLUSH halfway (QUIRKS B2: Go's writer does that).
 */
static int
sb_deflate(struct sb *s, struct buf *o, const unsigned char *p, size_t n,
	   int wbits, int level, int strategy, gz_header *h, int sync)
{
	unsigned char out[16384];
	z_stream z;
	size_t half = sync ? n / 2 : n;
	int rc = Z_OK, flush, ret = 0;

	if (sb_spend(s, n) < 0)
		return -1;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, wbits, 8, strategy) != Z_OK)
		return -1;
	if (h && deflateSetHeader(&z, h) != Z_OK) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)half;
	flush = sync ? Z_SYNC_FLUSH : Z_FINISH;
	for (;;) {
		z.next_out = out;
		z.avail_out = sizeof(out);
		rc = deflate(&z, flush);
		if (rc == Z_STREAM_ERROR ||
		    sb_put(s, o, out, sizeof(out) - z.avail_out) < 0) {
			ret = -1;
			break;
		}
		if (flush == Z_FINISH && rc == Z_STREAM_END)
			break;
		if (flush == Z_SYNC_FLUSH && z.avail_in == 0 && z.avail_out) {
			/* the second half, to the end */
			z.next_in = (Bytef *)(uintptr_t)(p + half);
			z.avail_in = (uInt)(n - half);
			flush = Z_FINISH;
		}
	}
	deflateEnd(&z);
	return ret;
}

static void
sb_le16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
sb_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* ---- JSON ---- */

/* A JSON string body (no quotes): quote, backslash and C0 escaped, other
 * bytes as they are (so invalid UTF-8 stays invalid). */
static int
sb_jesc(struct sb *s, struct buf *o, const unsigned char *p, size_t n)
{
	char out[1024];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		unsigned c = p[i];

		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c < 0x20) {
			k += (size_t)snprintf(out + k, 8, "\\u%04x", c);
		} else {
			out[k++] = (char)c;
		}
		if (k > sizeof(out) - 16) {
			if (sb_put(s, o, out, k) < 0)
				return -1;
			k = 0;
		}
	}
	return sb_put(s, o, out, k);
}

/* A string value, quotes included: from a table, literal program bytes
 * (escaped, or raw to break the syntax), a long run, or \u escapes. */
static int
sb_jstr(struct sb *s, struct buf *o, const char *const *tab, size_t ntab)
{
	static const char *const esc[] = {
		"\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u001f",
		"\\/", "\\b\\f\\n\\r\\t", "\\u00e9", "\\uffff", "\\x41",
	};
	const unsigned char *lit;
	unsigned c = sb_u8(s), ch;
	size_t n;
	uint64_t count;

	if (c < 0xa0) {
		const char *v = tab[c % ntab];

		return sb_putc(s, o, '"') < 0 ||
		       sb_jesc(s, o, (const unsigned char *)v, strlen(v)) < 0 ||
		       sb_putc(s, o, '"') < 0 ? -1 : 0;
	}
	if (c < 0xe0 || c >= 0xf0) {
		if (sb_putc(s, o, '"') < 0)
			return -1;
		if (c < 0xe0) {
			n = sb_bytes(s, (size_t)sb_var(s, 1024), &lit);
			if (sb_jesc(s, o, lit, n) < 0)
				return -1;
		} else if (c < 0xfc) {
			char unit[8];

			/* up to 32 MiB of one character: organization-name
			 * as large as a report may be.  The clamp stays 4 KiB
			 * under max_report, so that the report around the
			 * string still fits: "too big" is easy to reach
			 * anyway, a report right at the cap is not. */
			ch = sb_u8(s);
			count = sb_var(s, ((uint64_t)32 << 20) - 4096);
			if (ch == '"' || ch == '\\' || ch < 0x20) {
				n = (size_t)snprintf(unit, sizeof(unit),
						     "\\u%04x", ch);
			} else {
				unit[0] = (char)ch;
				n = 1;
			}
			if (sb_rep(s, o, unit, n, count) < 0)
				return -1;
		} else {
			const char *e = esc[sb_u8(s) % SB_NELEM(esc)];

			if (sb_rep(s, o, e, strlen(e), sb_var(s, 4096) + 1) < 0)
				return -1;
		}
		return sb_putc(s, o, '"');
	}
	/* raw: whatever the program says, quotes and all */
	n = sb_bytes(s, (size_t)sb_var(s, 1024), &lit);
	return sb_put(s, o, lit, n);
}

/* A count: small, from the edge table, a varint or any uint64. */
static int
sb_jcount(struct sb *s, struct buf *o)
{
	unsigned c = sb_u8(s);

	if (c < 0x40)
		return sb_printf(s, o, "%u", c);
	if (c < 0x80)
		return sb_puts(s, o,
			       sb_counts[(c - 0x40) % SB_NELEM(sb_counts)]);
	if (c < 0xc0)
		return sb_printf(s, o, "%llu",
				 (unsigned long long)sb_var(s, UINT64_MAX));
	return sb_printf(s, o, "%llu", (unsigned long long)sb_u64(s));
}

/* A key, quoted, and the colon; `pretty` puts a line break first. */
static int
sb_jkey(struct sb *s, struct buf *o, const char *key, int *first, int pretty)
{
	if (!*first && sb_putc(s, o, ',') < 0)
		return -1;
	*first = 0;
	if (pretty && sb_puts(s, o, pretty == 2 ? "\r\n  " : "\n  ") < 0)
		return -1;
	return sb_printf(s, o, "\"%s\":", key);
}

/*
 * Appends `rep` copies of one, comma-separated, after a comma if *any: a
 * million list elements are one tiled copy (sb_rep), not a million
 * appends.
 */
static void
sb_jrep(struct sb *s, struct buf *o, const struct buf *one, uint64_t rep,
	int *any)
{
	struct buf unit;

	if (!rep || (*any && sb_putc(s, o, ',') < 0) ||
	    sb_put(s, o, one->data, one->len) < 0)
		return;
	*any = 1;
	sb_init_buf(&unit);
	if (sb_putc(s, &unit, ',') == 0 &&
	    sb_put(s, &unit, one->data, one->len) == 0)
		sb_rep(s, o, unit.data, unit.len, rep - 1);
	sb_free(s, &unit);
}

/*
 * One failure-details entry.  df: which members are left out (bits 0-6),
 * bit 7 the alias key names (QUIRKS E4/E5).
 */
static void
sb_jdetail(struct sb *s, struct buf *o)
{
	unsigned df = sb_u8(s);
	int first = 1;

	sb_putc(s, o, '{');
	if (!(df & 1)) {
		sb_jkey(s, o, "result-type", &first, 0);
		sb_jstr(s, o, sb_results, SB_NELEM(sb_results));
	}
	if (!(df & 2)) {
		sb_jkey(s, o, "sending-mta-ip", &first, 0);
		sb_jstr(s, o, sb_jstrings, SB_NELEM(sb_jstrings));
	}
	if (!(df & 4)) {
		sb_jkey(s, o, df & 0x80 ? "receiving-mx-host-name"
					: "receiving-mx-hostname", &first, 0);
		sb_jstr(s, o, sb_jstrings, SB_NELEM(sb_jstrings));
	}
	if (!(df & 8)) {
		sb_jkey(s, o, "receiving-mx-helo", &first, 0);
		sb_jstr(s, o, sb_jstrings, SB_NELEM(sb_jstrings));
	}
	if (!(df & 0x10)) {
		sb_jkey(s, o, "receiving-ip", &first, 0);
		sb_jstr(s, o, sb_jstrings, SB_NELEM(sb_jstrings));
	}
	if (!(df & 0x20)) {
		sb_jkey(s, o, df & 0x80 ? "additional-info-uri"
					: "additional-information", &first, 0);
		sb_jstr(s, o, sb_jstrings, SB_NELEM(sb_jstrings));
		sb_jkey(s, o, "failure-reason-code", &first, 0);
		sb_jstr(s, o, sb_jstrings, SB_NELEM(sb_jstrings));
	}
	if (!(df & 0x40)) {
		sb_jkey(s, o, "failed-session-count", &first, 0);
		sb_jcount(s, o);
	}
	sb_putc(s, o, '}');
}

/* A list of strings: array, one string, "", null, absent (QUIRKS D1/D3). */
static void
sb_jlist(struct sb *s, struct buf *o, const char *key, int *first,
	 unsigned shape, uint64_t n)
{
	uint64_t i;

	if (shape == 3)
		return;
	sb_jkey(s, o, key, first, 0);
	if (shape == 1) {
		sb_jstr(s, o, sb_jstrings, SB_NELEM(sb_jstrings));
		return;
	}
	if (shape == 2) {
		sb_puts(s, o, n & 1 ? "null" : "\"\"");
		return;
	}
	sb_putc(s, o, '[');
	for (i = 0; i < n; i++) {
		if (i)
			sb_putc(s, o, ',');
		sb_jstr(s, o, sb_jstrings, SB_NELEM(sb_jstrings));
	}
	sb_putc(s, o, ']');
}

/*
 * One policies[] entry.  pf bits: 1 no "policy", 2 no "summary", 4 no
 * failure-details, 8 failure-details null, 0x10 no policy-type, 0x20
 * policy-domain null, 0x40 no policy-domain, 0x80 the entry is just {}.
 * pf2: bits 0-1 policy-string shape, 2-3 mx-host shape, 4 one count
 * missing, 5 an unknown key, 6 summary as an array.
 */
static void
sb_jpolicy(struct sb *s, struct buf *o)
{
	unsigned pf = sb_u8(s), pf2 = sb_u8(s);
	uint64_t i, nd, nps, nmx;
	int first = 1, pfirst = 1;

	if (pf & 0x80) {
		sb_puts(s, o, "{}");
		return;
	}
	sb_putc(s, o, '{');
	if (!(pf & 1)) {
		sb_jkey(s, o, "policy", &first, 0);
		sb_putc(s, o, '{');
		if (!(pf & 0x10)) {
			sb_jkey(s, o, "policy-type", &pfirst, 0);
			sb_jstr(s, o, sb_ptypes, SB_NELEM(sb_ptypes));
		}
		if (pf & 0x20) {
			sb_jkey(s, o, "policy-domain", &pfirst, 0);
			sb_puts(s, o, "null");
		} else if (!(pf & 0x40)) {
			sb_jkey(s, o, "policy-domain", &pfirst, 0);
			sb_jstr(s, o, sb_jstrings, SB_NELEM(sb_jstrings));
		}
		nps = sb_var(s, 64);
		sb_jlist(s, o, "policy-string", &pfirst, pf2 & 3, nps);
		nmx = sb_var(s, 64);
		sb_jlist(s, o, "mx-host", &pfirst, pf2 >> 2 & 3, nmx);
		if (pf2 & 0x20) {
			sb_jkey(s, o, "x-unknown", &pfirst, 0);
			sb_jstr(s, o, sb_jstrings, SB_NELEM(sb_jstrings));
		}
		sb_putc(s, o, '}');
	}
	if (!(pf & 2)) {
		int sfirst = 1;

		sb_jkey(s, o, "summary", &first, 0);
		sb_putc(s, o, pf2 & 0x40 ? '[' : '{');
		sb_jkey(s, o, "total-successful-session-count", &sfirst, 0);
		sb_jcount(s, o);
		if (!(pf2 & 0x10)) {
			sb_jkey(s, o, "total-failure-session-count", &sfirst, 0);
			sb_jcount(s, o);
		}
		sb_putc(s, o, pf2 & 0x40 ? ']' : '}');
	}
	if (pf & 8) {
		sb_jkey(s, o, "failure-details", &first, 0);
		sb_puts(s, o, "null");
	} else if (!(pf & 4)) {
		/* up to 8 detail shapes, each repeated: many details from a
		 * few program bytes */
		struct buf one;
		uint64_t rep;
		int any = 0;

		sb_jkey(s, o, "failure-details", &first, 0);
		sb_putc(s, o, '[');
		nd = sb_var(s, 8);
		for (i = 0; i < nd; i++) {
			sb_init_buf(&one);
			sb_jdetail(s, &one);
			rep = sb_var(s, (uint64_t)1 << 20);
			sb_jrep(s, o, &one, rep ? rep : 1, &any);
			sb_free(s, &one);
		}
		sb_putc(s, o, ']');
	}
	sb_putc(s, o, '}');
}

/*
 * 'j': an RFC 8460 report.  f: 1 BOM, 2 line breaks, 4 CRLF line breaks,
 * 8 organization-name null, 0x10 no organization-name, 0x20 contact-info
 * null, 0x40 no contact-info, 0x80 no report-id.  f2: 1 no date-range, 2
 * date-range a string, 4 policies an object, 8 no policies, 0x10 an unknown
 * key holding a deep value, 0x20 "policies" twice, 0x40 data after the
 * report, 0x80 the report inside an array.
 */
static void
op_json(struct sb *s)
{
	struct buf o, one;
	unsigned f = sb_u8(s), f2 = sb_u8(s);
	int first = 1, pretty = f & 2 ? (f & 4 ? 2 : 1) : 0, any = 0;
	uint64_t npt, i, rep, depth;

	sb_init_buf(&o);
	if (f & 1)
		sb_puts(s, &o, "\xef\xbb\xbf");
	if (f2 & 0x80)
		sb_putc(s, &o, '[');
	sb_putc(s, &o, '{');
	if (!(f & 0x10)) {
		sb_jkey(s, &o, "organization-name", &first, pretty);
		if (f & 8)
			sb_puts(s, &o, "null");
		else
			sb_jstr(s, &o, sb_jstrings, SB_NELEM(sb_jstrings));
	}
	if (!(f & 0x40)) {
		sb_jkey(s, &o, "contact-info", &first, pretty);
		if (f & 0x20)
			sb_puts(s, &o, "null");
		else
			sb_jstr(s, &o, sb_jstrings, SB_NELEM(sb_jstrings));
	}
	if (!(f & 0x80)) {
		sb_jkey(s, &o, "report-id", &first, pretty);
		sb_jstr(s, &o, sb_jstrings, SB_NELEM(sb_jstrings));
	}
	if (!(f2 & 1)) {
		int dfirst = 1;

		sb_jkey(s, &o, "date-range", &first, pretty);
		if (f2 & 2) {
			sb_jstr(s, &o, sb_dates, SB_NELEM(sb_dates));
		} else {
			sb_putc(s, &o, '{');
			sb_jkey(s, &o, "start-datetime", &dfirst, 0);
			sb_jstr(s, &o, sb_dates, SB_NELEM(sb_dates));
			sb_jkey(s, &o, "end-datetime", &dfirst, 0);
			sb_jstr(s, &o, sb_dates, SB_NELEM(sb_dates));
			sb_putc(s, &o, '}');
		}
	}
	if (f2 & 0x10) {
		/* nesting far past json-c's depth cap */
		depth = sb_var(s, (uint64_t)1 << 20);
		sb_jkey(s, &o, "x-deep", &first, pretty);
		if (sb_u8(s) & 1) {
			sb_rep(s, &o, "{\"a\":", 5, depth);
			sb_putc(s, &o, '1');
			sb_rep(s, &o, "}", 1, depth);
		} else {
			sb_rep(s, &o, "[", 1, depth);
			sb_rep(s, &o, "]", 1, depth);
		}
	}
	if (f2 & 0x20) {
		sb_jkey(s, &o, "policies", &first, pretty);
		sb_puts(s, &o, "[]");
	}
	if (!(f2 & 8)) {
		sb_jkey(s, &o, "policies", &first, pretty);
		sb_putc(s, &o, f2 & 4 ? '{' : '[');
		/* up to 8 policy shapes, each repeated up to 2^24 times: the
		 * "{},{},..." of 32 MiB is a shape of {} and a count */
		npt = sb_var(s, 8);
		for (i = 0; i < npt; i++) {
			sb_init_buf(&one);
			sb_jpolicy(s, &one);
			rep = sb_var(s, (uint64_t)1 << 24);
			sb_jrep(s, &o, &one, rep ? rep : 1, &any);
			sb_free(s, &one);
		}
		if (pretty)
			sb_puts(s, &o, pretty == 2 ? "\r\n" : "\n");
		sb_putc(s, &o, f2 & 4 ? '}' : ']');
	}
	sb_putc(s, &o, '}');
	if (f2 & 0x80)
		sb_putc(s, &o, ']');
	if (f2 & 0x40)
		sb_jstr(s, &o, sb_jstrings, SB_NELEM(sb_jstrings));
	sb_push(s, &o);
}

/* ---- gzip, zlib, zip ---- */

/*
 * 'g' (gzip) and 'z' (zlib): compresses the top.  a: bits 0-3 level (10+
 * default), 4-5 strategy, 6 FNAME and FCOMMENT, 7 FEXTRA and FHCRC.  b: 1
 * wrong CRC, 2 wrong size, 4 CRLF after (QUIRKS B3), 8 garbage after, 0x10
 * cut short, 0x20 white space and BOM before, 0x40 a sync flush inside
 * (QUIRKS B2), 0x80 a wrong method byte.  Then the number of members the
 * data is split into (QUIRKS B5) and how often the whole member sequence is
 * repeated: a few bytes of program make a bomb of 32 MiB x members.
 */
static void
op_gzip(struct sb *s, int gzip)
{
	static unsigned char name[] = "google.com!example.org!1!2.json";
	static unsigned char comment[] = "mxdigest fuzz";
	static unsigned char extra[] = "AP\x04\x00test";
	static const int strategies[] = {
		Z_DEFAULT_STRATEGY, Z_FILTERED, Z_HUFFMAN_ONLY, Z_RLE,
	};
	unsigned a = sb_u8(s), b = sb_u8(s);
	uint64_t members = sb_var(s, 64), rep = sb_var(s, 65536), m;
	int level = (a & 15) > 9 ? Z_DEFAULT_COMPRESSION : (int)(a & 15);
	struct buf in, seq, o;
	size_t per, off, start;
	gz_header h;

	sb_pop(s, &in);
	sb_init_buf(&seq);
	sb_init_buf(&o);
	if (!members)
		members = 1;
	if (!rep)
		rep = 1;
	per = in.len / members;
	for (m = 0, off = 0; m < members; m++) {
		size_t len = m + 1 == members ? in.len - off : per;

		memset(&h, 0, sizeof(h));
		h.os = 3;
		if (a & 0x40) {
			h.name = name;
			h.comment = comment;
		}
		if (a & 0x80) {
			h.extra = extra;
			h.extra_len = sizeof(extra) - 1;
			h.hcrc = 1;
		}
		start = seq.len;
		if (sb_deflate(s, &seq, in.data + off, len, gzip ? 31 : 15,
			       level, strategies[a >> 4 & 3], gzip ? &h : NULL,
			       b & 0x40) < 0)
			break;
		/* lies in the trailer of each member */
		if ((b & 1) && seq.len - start >= 8)
			seq.data[seq.len - (gzip ? 8 : 1)] ^= 0x55;
		if ((b & 2) && gzip && seq.len - start >= 4)
			seq.data[seq.len - 4] ^= 0x01;
		if ((b & 0x80) && seq.len - start >= 3)
			seq.data[start + (gzip ? 2 : 0)] ^= 0x0f;
		off += len;
	}
	if (b & 0x20)
		sb_puts(s, &o, "\xef\xbb\xbf \r\n");
	sb_rep(s, &o, seq.data, seq.len, rep);
	if (b & 0x10)
		sb_cut(s, &o, o.len - o.len / 3);
	if (b & 4)
		sb_puts(s, &o, "\r\n");
	if (b & 8)
		sb_puts(s, &o, "\x1f\x8b\x08garbage");
	sb_free(s, &seq);
	sb_free(s, &in);
	sb_push(s, &o);
}

struct sb_zitem {
	size_t off;		/* its local header */
	uint32_t crc, csize, usize;
	unsigned method, flags;
};

/*
 * 'Z': a zip archive of 1-8 items popped from the stack (a: number of
 * items, then one byte per item: bits 0-1 stored, deflated, deflated fast,
 * or stored but labelled bzip2; 4 a data descriptor, 8 an extra field in
 * the local header, 0x80 on the first item junk before the archive).
 * Then the number of central directory entries (modulo 81, so up to 80,
 * past the parser's 64; 0 means one per item) and three bytes per entry: which
 * item (bit 7: the encrypted flag), the name, and lies (1/2 size +1/-1, 4
 * compressed size +1, 8 CRC, 0x10 offset +1, 0x20 method, 0x40 size
 * 0xfffffffe, 0x80 offset of the directory).  Entries may share an
 * item: that is the overlap bomb, one stream inflated once per entry.
 * Last, z: 1 count +1, 2 ZIP64 count, 4 directory offset +1, 8 a fake end
 * record in the comment, 0x10 a 65535-byte comment, 0x40 no end record,
 * 0x80 cut in the middle.
 */
static void
op_zip(struct sb *s)
{
	struct sb_zitem item[8];
	struct buf data[8], o;
	unsigned char hdr[46];
	unsigned nitems = sb_u8(s) % 8 + 1, i, spec, z;
	uint64_t nent, e;
	size_t cdir, cdlen, base = 0;

	for (i = 0; i < nitems; i++)
		sb_pop(s, &data[nitems - 1 - i]);
	sb_init_buf(&o);
	for (i = 0; i < nitems; i++) {
		const char *name = sb_names[i % SB_NELEM(sb_names)];
		size_t nlen = strlen(name), csize_at;
		unsigned xlen;

		spec = sb_u8(s);
		if (i == 0 && (spec & 0x80)) {
			/* junk before the first local header */
			sb_puts(s, &o, "junk\r\n");
			base = o.len;
		}
		item[i].off = o.len;
		item[i].method = (spec & 3) == 3 ? 12 : (spec & 3) ? 8 : 0;
		item[i].flags = spec & 4 ? 8 : 0;
		item[i].usize = (uint32_t)data[i].len;
		item[i].crc = (uint32_t)crc32(0L, data[i].data,
					      (uInt)data[i].len);
		xlen = spec & 8 ? 8 : 0;
		sb_le32(hdr, 0x04034b50u);
		sb_le16(hdr + 4, 20);
		sb_le16(hdr + 6, item[i].flags);
		sb_le16(hdr + 8, item[i].method);
		sb_le16(hdr + 10, 0);
		sb_le16(hdr + 12, 0x21);
		sb_le32(hdr + 14, item[i].flags ? 0 : item[i].crc);
		sb_le32(hdr + 18, 0);
		sb_le32(hdr + 22, item[i].flags ? 0 : item[i].usize);
		sb_le16(hdr + 26, (unsigned)nlen);
		sb_le16(hdr + 28, xlen);
		csize_at = o.len + 18;
		sb_put(s, &o, hdr, 30);
		sb_put(s, &o, name, nlen);
		if (xlen)
			sb_put(s, &o, "\x99\x99\x04\x00zzzz", 8);
		{
			size_t before = o.len;

			if (item[i].method == 8)
				sb_deflate(s, &o, data[i].data, data[i].len, -15,
					   (spec & 3) == 2 ? 1 : 9,
					   Z_DEFAULT_STRATEGY, NULL, 0);
			else
				sb_put(s, &o, data[i].data, data[i].len);
			item[i].csize = (uint32_t)(o.len - before);
		}
		if (!item[i].flags && o.len >= csize_at + 4)
			sb_le32(o.data + csize_at, item[i].csize);
		if (item[i].flags) {
			sb_le32(hdr, 0x08074b50u);
			sb_le32(hdr + 4, item[i].crc);
			sb_le32(hdr + 8, item[i].csize);
			sb_le32(hdr + 12, item[i].usize);
			sb_put(s, &o, hdr, 16);
		}
		sb_free(s, &data[i]);
	}
	/* modulo, not clamped: a large count must not always mean 80, which
	 * is past the parser's 64 and so refused before anything is read */
	nent = sb_var(s, UINT64_MAX) % 81;
	if (!nent)
		nent = nitems;
	cdir = o.len;
	for (e = 0; e < nent; e++) {
		unsigned which = sb_u8(s), nm = sb_u8(s), lie = sb_u8(s);
		const struct sb_zitem *it = &item[(which & 0x7f) % nitems];
		const char *name = sb_names[nm % SB_NELEM(sb_names)];
		uint32_t usize = it->usize, csize = it->csize, crc = it->crc;
		size_t loff = it->off - base;
		unsigned method = it->method;

		if (lie & 1)
			usize++;
		if ((lie & 2) && usize)
			usize--;
		if (lie & 4)
			csize++;
		if (lie & 8)
			crc ^= 1;
		if (lie & 0x10)
			loff++;
		if (lie & 0x20)
			method = method == 8 ? 0 : 8;
		if (lie & 0x40)
			usize = 0xfffffffeu;
		if (lie & 0x80)
			loff = cdir - base;
		memset(hdr, 0, sizeof(hdr));
		sb_le32(hdr, 0x02014b50u);
		sb_le16(hdr + 4, 0x031e);
		sb_le16(hdr + 6, 20);
		sb_le16(hdr + 8, it->flags | (which & 0x80 ? 1 : 0));
		sb_le16(hdr + 10, method);
		sb_le16(hdr + 14, 0x21);
		sb_le32(hdr + 16, crc);
		sb_le32(hdr + 20, csize);
		sb_le32(hdr + 24, usize);
		sb_le16(hdr + 28, (unsigned)strlen(name));
		sb_le32(hdr + 42, (uint32_t)loff);
		if (sb_put(s, &o, hdr, 46) < 0 || sb_puts(s, &o, name) < 0)
			break;
	}
	cdlen = o.len - cdir;
	z = sb_u8(s);
	if (!(z & 0x40)) {
		unsigned count = z & 2 ? 0xffff : (unsigned)(nent + (z & 1));
		size_t clen = z & 0x10 ? 65535 : z & 8 ? 22 : 0;

		memset(hdr, 0, 22);
		sb_le32(hdr, 0x06054b50u);
		sb_le16(hdr + 8, count);
		sb_le16(hdr + 10, count);
		sb_le32(hdr + 12, (uint32_t)cdlen);
		sb_le32(hdr + 16, (uint32_t)(cdir - base + (z & 4 ? 1 : 0)));
		sb_le16(hdr + 20, (unsigned)clen);
		sb_put(s, &o, hdr, 22);
		if (clen == 22) {
			/* an end record that points nowhere, found first */
			sb_le32(hdr + 16, 0x7fffffffu);
			sb_le16(hdr + 20, 0);
			sb_put(s, &o, hdr, 22);
		} else if (clen) {
			sb_rep(s, &o, "PK", 2, clen / 2);
			sb_putc(s, &o, 'K');
		}
	}
	if (z & 0x80)
		sb_cut(s, &o, o.len / 2);
	sb_push(s, &o);
}

/* ---- MIME ---- */

/* The Content-Disposition of a part (d selects the shape, name the file
 * name): RFC 2183, RFC 2231 with continuations, RFC 2047 in a quoted
 * filename (not standard, but senders do it). */
static void
sb_disposition(struct sb *s, struct buf *o, unsigned d, const char *name,
	       const char *eol)
{
	size_t n = strlen(name), i;

	switch (d % 10) {
	case 0:
		return;
	case 1:
		sb_printf(s, o, "Content-Disposition: attachment; "
			  "filename=\"%s\"", name);
		break;
	case 2:
		sb_printf(s, o, "Content-Disposition: attachment; "
			  "filename=%s", name);
		break;
	case 3:
		sb_puts(s, o, "Content-Disposition: attachment; "
			"filename*=utf-8''");
		for (i = 0; i < n; i++)
			sb_printf(s, o, "%%%02X", (unsigned char)name[i]);
		break;
	case 4:
		/* two encoded segments */
		sb_printf(s, o, "Content-Disposition: attachment;%s "
			  "filename*0*=utf-8''", eol);
		for (i = 0; i < n / 2; i++)
			sb_printf(s, o, "%%%02X", (unsigned char)name[i]);
		sb_printf(s, o, ";%s filename*1*=", eol);
		for (; i < n; i++)
			sb_printf(s, o, "%%%02X", (unsigned char)name[i]);
		break;
	case 5:
		/* one segment per character: past the 64 segments kept */
		sb_puts(s, o, "Content-Disposition: attachment");
		for (i = 0; i < n; i++)
			sb_printf(s, o, ";%s filename*%zu=\"%c\"", eol, i,
				  name[i]);
		break;
	case 6:
		sb_puts(s, o, "Content-Disposition: attachment; "
			"filename=\"=?utf-8?B?");
		sb_enc_b64(s, o, (const unsigned char *)name, n, 0, 8);
		sb_puts(s, o, "?=\"");
		break;
	case 7:
		sb_puts(s, o, "Content-Disposition: attachment; "
			"filename*=iso-8859-1''r%E9p%E9.json");
		break;
	case 8:
		sb_printf(s, o, "Content-Disposition: inline; size=12; "
			  "creation-date=\"Mon, 16 Nov 2026 00:00:00 +0000\"; "
			  "filename=\"%s\"", name);
		break;
	default:
		sb_puts(s, o, "Content-Disposition: attachment; filename*0*=x'';"
			" filename*99*=y; filename*-1=z; filename*1=\"=?\"");
		break;
	}
	sb_puts(s, o, eol);
}

/*
 * 'P': the top becomes a MIME part (header, blank line, body).  a: media
 * type.  b: 1 a name= parameter, 2 report-type, 4 charset, 8 LF line ends,
 * 0x10 the Content-Type folded, 0x20 the body is not encoded (the header
 * lies), 0x40 MIME-Version, 0x80 Content-ID.  c: transfer encoding (base64
 * and quoted-printable encode the body).  d: disposition.  e: file name.
 */
static void
op_part(struct sb *s)
{
	unsigned a = sb_u8(s), b = sb_u8(s), c = sb_u8(s), d = sb_u8(s),
		 e = sb_u8(s);
	const char *ct = sb_ctypes[a % SB_NELEM(sb_ctypes)];
	const char *cte = sb_ctes[c % SB_NELEM(sb_ctes)];
	const char *name = sb_names[e % SB_NELEM(sb_names)];
	const char *eol = b & 8 ? "\n" : "\r\n";
	struct buf in, o;

	sb_pop(s, &in);
	sb_init_buf(&o);
	if (*ct) {
		sb_printf(s, &o, "Content-Type: %s", ct);
		if (b & 0x10)
			sb_puts(s, &o, eol);
		if (b & 1)
			sb_printf(s, &o, "; name=\"%s\"", name);
		if (b & 2)
			sb_puts(s, &o, "; report-type=tlsrpt");
		if (b & 4)
			sb_puts(s, &o, "; charset=utf-8");
		sb_puts(s, &o, eol);
	}
	if (cte)
		sb_printf(s, &o, "Content-Transfer-Encoding: %s%s", cte, eol);
	sb_disposition(s, &o, d, name, eol);
	if (b & 0x40)
		sb_printf(s, &o, "MIME-Version: 1.0%s", eol);
	if (b & 0x80)
		sb_printf(s, &o, "Content-ID: <part@fuzz>%s", eol);
	sb_puts(s, &o, eol);
	if (cte && !(b & 0x20) && (c % SB_NELEM(sb_ctes) == 4 ||
				   c % SB_NELEM(sb_ctes) == 6))
		sb_enc_b64(s, &o, in.data, in.len, 76, b & 8 ? 1 : 0);
	else if (cte && !(b & 0x20) && (c % SB_NELEM(sb_ctes) == 5 ||
					c % SB_NELEM(sb_ctes) == 7))
		sb_enc_qp(s, &o, in.data, in.len, b & 8 ? 1 : 0);
	else
		sb_put(s, &o, in.data, in.len);
	sb_free(s, &in);
	sb_push(s, &o);
}

/*
 * 'M': a multipart of the top n parts (the deepest first), the list
 * repeated `rep` times (200 gzip parts from one).  a: subtype, b:
 * boundary, c: 1 report-type=tlsrpt, 2 no closing delimiter (QUIRKS A3), 4
 * a preamble, 8 an epilogue, 0x10 LF line ends, 0x20 white space after the
 * delimiters, 0x40 no boundary parameter, 0x80 the boundary unquoted.
 */
static void
op_multi(struct sb *s)
{
	uint64_t n = sb_var(s, 16), rep = sb_var(s, 65536), r;
	unsigned a = sb_u8(s), b = sb_u8(s), c = sb_u8(s), i;
	const char *bd = sb_boundaries[b % SB_NELEM(sb_boundaries)];
	const char *eol = c & 0x10 ? "\n" : "\r\n";
	const char *pad = c & 0x20 ? " \t" : "";
	struct buf part[16], o;

	for (i = 0; i < n; i++)
		sb_pop(s, &part[n - 1 - i]);
	if (!rep)
		rep = 1;
	sb_init_buf(&o);
	sb_printf(s, &o, "Content-Type: multipart/%s",
		  sb_subtypes[a % SB_NELEM(sb_subtypes)]);
	if (c & 1)
		sb_puts(s, &o, "; report-type=tlsrpt");
	if (!(c & 0x40))
		sb_printf(s, &o, c & 0x80 ? "; boundary=%s"
					  : "; boundary=\"%s\"", bd);
	sb_printf(s, &o, "%s%s", eol, eol);
	if (c & 4)
		sb_printf(s, &o, "This is a multi-part message in MIME "
			  "format.%s", eol);
	for (r = 0; r < rep && !s->full; r++)
		for (i = 0; i < n; i++)
			if (sb_printf(s, &o, "--%s%s%s", bd, pad, eol) < 0 ||
			    sb_put(s, &o, part[i].data, part[i].len) < 0 ||
			    sb_puts(s, &o, eol) < 0)
				break;
	if (!(c & 2))
		sb_printf(s, &o, "--%s--%s%s", bd, pad, eol);
	if (c & 8)
		sb_printf(s, &o, "epilogue%s", eol);
	for (i = 0; i < n; i++)
		sb_free(s, &part[i]);
	sb_push(s, &o);
}

/*
 * 'N': k levels of message/rfc822 around the top, iteratively (the
 * builder must not recurse where the parser does).  f: 1 MIME-Version per
 * level, 2 a report Subject per level, 4 TLS-Report-Domain per level, 8 LF
 * line ends, 0x10 message/global, 0x20 a parameter on the type.
 */
static void
op_nest_msg(struct sb *s)
{
	uint64_t k = sb_var(s, SB_NEST_MAX), i;
	unsigned f = sb_u8(s);
	const char *eol = f & 8 ? "\n" : "\r\n";
	struct buf in, o, lvl;

	sb_pop(s, &in);
	sb_init_buf(&o);
	sb_init_buf(&lvl);
	if (f & 1)
		sb_printf(s, &lvl, "MIME-Version: 1.0%s", eol);
	if (f & 2)
		sb_printf(s, &lvl, "Subject: Report Domain: example.org "
			  "Submitter: google.com%s", eol);
	if (f & 4)
		sb_printf(s, &lvl, "TLS-Report-Domain: example.org%s", eol);
	sb_printf(s, &lvl, "Content-Type: message/%s%s%s%s",
		  f & 0x10 ? "global" : "rfc822",
		  f & 0x20 ? "; charset=us-ascii" : "", eol, eol);
	for (i = 0; i < k; i++)
		if (sb_put(s, &o, lvl.data, lvl.len) < 0)
			break;
	sb_put(s, &o, in.data, in.len);
	sb_free(s, &lvl);
	sb_free(s, &in);
	sb_push(s, &o);
}

/*
 * 'U': k levels of multipart around the top, each with its own boundary
 * (fixed width, so that none is a prefix of another).  f: 1 one boundary
 * for all levels, 2 LF, 4 no closing delimiters, 8 every other level a
 * message/rfc822, 0x10 multipart/report with report-type, 0x20 a text
 * sibling at each level, 0x40 a preamble per level.
 */
static void
op_nest_multi(struct sb *s)
{
	uint64_t k = sb_var(s, SB_NEST_MAX), i;
	unsigned f = sb_u8(s);
	const char *eol = f & 2 ? "\n" : "\r\n";
	struct buf in, o;

	sb_pop(s, &in);
	sb_init_buf(&o);
	for (i = 0; i < k; i++) {
		unsigned bd = f & 1 ? 0 : (unsigned)i;

		if ((f & 8) && (i & 1)) {
			if (sb_printf(s, &o, "Content-Type: message/rfc822%s%s",
				      eol, eol) < 0)
				break;
			continue;
		}
		if (sb_printf(s, &o, "Content-Type: multipart/%s; "
			      "boundary=\"=_%06x\"%s%s%s",
			      f & 0x10 ? "report; report-type=tlsrpt" : "mixed",
			      bd, eol, eol, f & 0x40 ? "preamble\r\n" : "") < 0)
			break;
		if ((f & 0x20) && sb_printf(s, &o, "--=_%06x%sContent-Type: "
					    "text/plain%s%shuman text%s", bd,
					    eol, eol, eol, eol) < 0)
			break;
		if (sb_printf(s, &o, "--=_%06x%s", bd, eol) < 0)
			break;
	}
	k = i;
	sb_put(s, &o, in.data, in.len);
	for (i = k; i-- > 0;) {
		if ((f & 8) && (i & 1))
			continue;
		if (!(f & 4) && sb_printf(s, &o, "%s--=_%06x--%s", eol,
					  f & 1 ? 0 : (unsigned)i, eol) < 0)
			break;
	}
	sb_free(s, &in);
	sb_push(s, &o);
}

/*
 * 'H': header fields in front of the top, `rep` times (a DKIM-Signature
 * past trim_headers' 2 KiB, a thousand Received lines).  a: name (0xff: a
 * literal name from the program).  b: value from the table, or (b >= 0xc0)
 * literal, or (b >= 0xf0) a long run.  c: 1 RFC 2047 B-encoded, 2
 * Q-encoded, 4 folded every 20 bytes, 8 LF, 0x10 no space after the colon.
 */
static void
op_header(struct sb *s)
{
	unsigned a = sb_u8(s), b = sb_u8(s), c;
	const unsigned char *lit, *v;
	const char *eol;
	struct buf in, o, line, val;
	size_t n, i;
	uint64_t rep;

	sb_init_buf(&line);
	sb_init_buf(&val);
	if (a == 0xff) {
		n = sb_bytes(s, (size_t)sb_var(s, 64), &lit);
		sb_put(s, &line, lit, n);
	} else {
		sb_puts(s, &line, sb_hnames[a % SB_NELEM(sb_hnames)]);
	}
	if (b >= 0xf0) {
		unsigned char ch = (unsigned char)sb_u8(s);

		sb_rep(s, &val, &ch, 1, sb_var(s, (uint64_t)1 << 20));
	} else if (b >= 0xc0) {
		n = sb_bytes(s, (size_t)sb_var(s, 4096), &lit);
		sb_put(s, &val, lit, n);
	} else {
		sb_puts(s, &val, sb_hvalues[b % SB_NELEM(sb_hvalues)]);
	}
	c = sb_u8(s);
	rep = sb_var(s, 100000);
	if (!rep)
		rep = 1;
	eol = c & 8 ? "\n" : "\r\n";
	sb_puts(s, &line, c & 0x10 ? ":" : ": ");
	v = val.data ? val.data : (const unsigned char *)"";
	if (c & 1) {
		sb_puts(s, &line, "=?utf-8?B?");
		sb_enc_b64(s, &line, v, val.len, 0, 8);
		sb_puts(s, &line, "?=");
	} else if (c & 2) {
		sb_puts(s, &line, "=?utf-8?Q?");
		for (i = 0; i < val.len; i++)
			if (v[i] > 32 && v[i] < 127 && v[i] != '=' &&
			    v[i] != '?' && v[i] != '_')
				sb_putc(s, &line, v[i]);
			else
				sb_printf(s, &line, "=%02X", v[i]);
		sb_puts(s, &line, "?=");
	} else if (c & 4) {
		for (i = 0; i < val.len; i += 20) {
			if (i)
				sb_printf(s, &line, "%s ", eol);
			sb_put(s, &line, v + i,
			       val.len - i < 20 ? val.len - i : 20);
		}
	} else {
		sb_put(s, &line, v, val.len);
	}
	sb_puts(s, &line, eol);
	sb_pop(s, &in);
	sb_init_buf(&o);
	sb_rep(s, &o, line.data, line.len, rep);
	sb_put(s, &o, in.data, in.len);
	sb_free(s, &val);
	sb_free(s, &line);
	sb_free(s, &in);
	sb_push(s, &o);
}

/*
 * 'E': the header of a report mail (RFC 8460 §5.3) in front of the top.
 * f: 1 no Subject, 2 no TLS-Report-Domain, 4 no TLS-Report-Submitter, 8 no
 * MIME-Version, 0x10 a 4 KiB DKIM-Signature (so trim_headers runs), 0x20
 * LF, 0x40 the Subject RFC 2047-encoded, 0x80 a header without a body
 * separator afterwards.
 */
static void
op_mail(struct sb *s)
{
	unsigned f = sb_u8(s);
	const char *eol = f & 0x20 ? "\n" : "\r\n";
	struct buf in, o;

	sb_pop(s, &in);
	sb_init_buf(&o);
	sb_printf(s, &o, "Return-Path: <noreply-smtp-tls-reporting@google.com>%s"
		  "From: noreply-smtp-tls-reporting@google.com%s"
		  "To: tlsrpt@example.org%s"
		  "Date: Tue, 17 Nov 2026 08:00:00 +0000%s"
		  "Message-ID: <fuzz@google.com>%s", eol, eol, eol, eol, eol);
	if (f & 0x10) {
		static const char fold[] = "\tAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n";

		sb_printf(s, &o, "DKIM-Signature: v=1; a=rsa-sha256; b=%s", eol);
		sb_rep(s, &o, fold, sizeof(fold) - 1, 64);
	}
	if (!(f & 1))
		sb_printf(s, &o, "Subject: %s%s", f & 0x40
			  ? "=?utf-8?Q?Report_Domain:_example.org_"
			    "Submitter:_google.com?="
			  : "Report Domain: example.org Submitter: google.com "
			    "Report-ID: "
			    "<2026.11.16T00.00.00Z+example.org@google.com>",
			  eol);
	if (!(f & 2))
		sb_printf(s, &o, "TLS-Report-Domain: example.org%s", eol);
	if (!(f & 4))
		sb_printf(s, &o, "TLS-Report-Submitter: google.com%s", eol);
	if (!(f & 8))
		sb_printf(s, &o, "MIME-Version: 1.0%s", eol);
	if (f & 0x80)
		sb_puts(s, &o, eol);
	sb_put(s, &o, in.data, in.len);
	sb_free(s, &in);
	sb_push(s, &o);
}

/* ---- bytes and the stack ---- */

/* 'b': base64 of the top; a: line length (0 none), b: sb_enc_b64 flags. */
static void
op_b64(struct sb *s)
{
	unsigned a = sb_u8(s), b = sb_u8(s);
	struct buf in, o;

	sb_pop(s, &in);
	sb_init_buf(&o);
	sb_enc_b64(s, &o, in.data, in.len, a & ~3u, b);
	sb_free(s, &in);
	sb_push(s, &o);
}

/* 'q': quoted-printable of the top; a: sb_enc_qp flags. */
static void
op_qp(struct sb *s)
{
	unsigned a = sb_u8(s);
	struct buf in, o;

	sb_pop(s, &in);
	sb_init_buf(&o);
	sb_enc_qp(s, &o, in.data, in.len, a);
	sb_free(s, &in);
	sb_push(s, &o);
}

/* 'l': literal bytes from the program (length, bytes). */
static void
op_lit(struct sb *s)
{
	const unsigned char *lit;
	size_t n = sb_bytes(s, (size_t)sb_var(s, 65535), &lit);
	struct buf o;

	sb_init_buf(&o);
	sb_put(s, &o, lit, n);
	sb_push(s, &o);
}

/* 'k': a token of the table. */
static void
op_token(struct sb *s)
{
	struct buf o;

	sb_init_buf(&o);
	sb_puts(s, &o, sb_tokens[sb_u8(s) % SB_NELEM(sb_tokens)]);
	sb_push(s, &o);
}

/* 'r': the top repeated n times (up to 64 Mi). */
static void
op_rep(struct sb *s)
{
	uint64_t n = sb_var(s, (uint64_t)64 << 20);
	struct buf in, o;

	sb_pop(s, &in);
	sb_init_buf(&o);
	sb_rep(s, &o, in.data, in.len, n);
	sb_free(s, &in);
	sb_push(s, &o);
}

/* 'c': pops the top and appends it to the one below. */
static void
op_cat(struct sb *s)
{
	struct buf a, b;

	sb_pop(s, &a);
	sb_pop(s, &b);
	if (a.len) {
		/* moving bytes, not writing new ones: live stays the same */
		s->live -= a.len;
		sb_put(s, &b, a.data, a.len);
	}
	buf_release(&a);
	sb_push(s, &b);
}

/* 'd': a copy of the top. */
static void
op_dup(struct sb *s)
{
	struct buf o;

	sb_init_buf(&o);
	if (s->sp)
		sb_put(s, &o, s->stack[s->sp - 1].data,
		       s->stack[s->sp - 1].len);
	sb_push(s, &o);
}

/* 'x': swaps the top two. */
static void
op_swap(struct sb *s)
{
	struct buf t;

	if (s->sp < 2)
		return;
	t = s->stack[s->sp - 1];
	s->stack[s->sp - 1] = s->stack[s->sp - 2];
	s->stack[s->sp - 2] = t;
}

/* 'p': drops the top. */
static void
op_drop(struct sb *s)
{
	struct buf t;

	if (!s->sp)
		return;
	sb_pop(s, &t);
	sb_free(s, &t);
}

/* 't': cuts n bytes off the end of the top. */
static void
op_trunc(struct sb *s)
{
	uint64_t n = sb_var(s, UINT64_MAX);
	struct buf *b;

	if (!s->sp)
		return;
	b = &s->stack[s->sp - 1];
	sb_cut(s, b, n >= b->len ? 0 : b->len - (size_t)n);
}

/* 'f': xors a byte of the top (where the program says, modulo length). */
static void
op_flip(struct sb *s)
{
	uint64_t pos = sb_var(s, UINT64_MAX);
	unsigned v = sb_u8(s);
	struct buf *b;

	if (!s->sp || !s->stack[s->sp - 1].len)
		return;
	b = &s->stack[s->sp - 1];
	b->data[pos % b->len] ^= (unsigned char)(v ? v : 0x80);
}

/* 'i': pops the top and inserts it into the one below at a position. */
static void
op_insert(struct sb *s)
{
	uint64_t pos = sb_var(s, UINT64_MAX);
	struct buf a, b, o;
	size_t at;

	sb_pop(s, &a);
	sb_pop(s, &b);
	at = (size_t)(pos % (b.len + 1));
	sb_init_buf(&o);
	sb_put(s, &o, b.data, at);
	sb_put(s, &o, a.data, a.len);
	sb_put(s, &o, b.data + at, b.len - at);
	sb_free(s, &a);
	sb_free(s, &b);
	sb_push(s, &o);
}

static void
op_gzip_g(struct sb *s)
{
	op_gzip(s, 1);
}

static void
op_gzip_z(struct sb *s)
{
	op_gzip(s, 0);
}

static const struct {
	char letter;
	void (*fn)(struct sb *);
} sb_ops[] = {
	{'l', op_lit}, {'k', op_token}, {'r', op_rep}, {'c', op_cat},
	{'d', op_dup}, {'x', op_swap}, {'p', op_drop}, {'t', op_trunc},
	{'f', op_flip}, {'i', op_insert}, {'b', op_b64}, {'q', op_qp},
	{'g', op_gzip_g}, {'z', op_gzip_z}, {'Z', op_zip}, {'j', op_json},
	{'P', op_part}, {'M', op_multi}, {'N', op_nest_msg},
	{'U', op_nest_multi}, {'H', op_header}, {'E', op_mail},
};
#define SB_NOPS SB_NELEM(sb_ops)

/*
 * Runs a program.  Returns 0 with *msg and *len the built message (owned
 * by s, valid until sb_release), or -1 when the program left the stack
 * empty.
 */
static int
sb_run(struct sb *s, const unsigned char *prog, size_t n,
       const unsigned char **msg, size_t *len)
{
	unsigned steps, op;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->p = prog;
	s->n = n;
	for (steps = 0; s->n && steps < SB_STEPS; steps++) {
		op = sb_u8(s);
		for (i = 0; i < SB_NOPS; i++)
			if (sb_ops[i].letter == (char)op)
				break;
		if (i == SB_NOPS)
			i = op % SB_NOPS;
		sb_ops[i].fn(s);
	}
	if (!s->sp)
		return -1;
	*msg = s->stack[s->sp - 1].data ? s->stack[s->sp - 1].data
					: (const unsigned char *)"";
	*len = s->stack[s->sp - 1].len;
	return 0;
}

static void
sb_release(struct sb *s)
{
	while (s->sp)
		sb_free(s, &s->stack[--s->sp]);
}

/* ---- what parse.h promises ---- */

static void
sb_check_str(const char *what, const char *v, int may_be_null)
{
	size_t n;

	if (!v) {
		if (may_be_null)
			return;
		fprintf(stderr, "parse.h contract: %s is NULL\n", what);
		abort();
	}
	n = strlen(v);
	if (utf8_check(v, n) != n || utf8_has_controls(v, n)) {
		fprintf(stderr, "parse.h contract: %s is not clean UTF-8\n",
			what);
		abort();
	}
}

/*
 * Aborts (a crash for libFuzzer) when a result breaks parse.h: a part with
 * both or neither of report and reason, a count of failures that does not
 * match, a string that is NULL where it may not be, or not valid UTF-8
 * without control characters.
 */
static void
sb_check(enum mxd_status st, const struct parse_result *res)
{
	size_t i, j, k, failed = 0;

	if ((st == MXD_OK) != (res->n_parts > 0)) {
		fprintf(stderr, "parse.h contract: status %d with %zu parts\n",
			(int)st, res->n_parts);
		abort();
	}
	for (i = 0; i < res->n_parts; i++) {
		const struct parse_part *p = &res->parts[i];
		const struct tlsrpt *r = p->report;

		if (!r) {
			failed++;
			if (p->status == MXD_OK || !p->reason) {
				fprintf(stderr, "parse.h contract: part %zu "
					"failed without a status or reason\n",
					i);
				abort();
			}
			continue;
		}
		if (p->status != MXD_OK) {
			fprintf(stderr, "parse.h contract: part %zu has a report "
				"and status %d\n", i, (int)p->status);
			abort();
		}
		sb_check_str("organization-name", r->org, 0);
		sb_check_str("contact-info", r->contact, 1);
		sb_check_str("report-id", r->report_id, 0);
		for (j = 0; j < r->n_policies; j++) {
			const struct tlsrpt_policy *pol = &r->policies[j];

			sb_check_str("policy-type", pol->type, 0);
			sb_check_str("policy-domain", pol->domain, 0);
			for (k = 0; k < pol->n_strings; k++)
				sb_check_str("policy-string", pol->strings[k], 0);
			for (k = 0; k < pol->n_mx_hosts; k++)
				sb_check_str("mx-host", pol->mx_hosts[k], 0);
			for (k = 0; k < pol->n_details; k++) {
				const struct tlsrpt_detail *d = &pol->details[k];

				sb_check_str("result-type", d->result_type, 0);
				sb_check_str("sending-mta-ip", d->sending_ip, 1);
				sb_check_str("receiving-mx-hostname",
					     d->receiving_mx, 1);
				sb_check_str("receiving-mx-helo",
					     d->receiving_helo, 1);
				sb_check_str("receiving-ip", d->receiving_ip, 1);
				sb_check_str("additional-information",
					     d->additional_info, 1);
				sb_check_str("failure-reason-code",
					     d->reason_code, 1);
			}
		}
		if (r->n_domains > r->n_policies) {
			fprintf(stderr, "parse.h contract: %zu domains from %zu "
				"policies\n", r->n_domains, r->n_policies);
			abort();
		}
	}
	if (failed != res->n_failed) {
		fprintf(stderr, "parse.h contract: n_failed %zu, %zu parts "
			"failed\n", res->n_failed, failed);
		abort();
	}
}

#if defined(__clang__)
#pragma clang attribute pop
#endif

#endif
