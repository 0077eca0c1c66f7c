/* utf8.c — UTF-8 validation (RFC 3629), cleaning and display width. */
#include "util/utf8.h"

#include <string.h>

size_t
utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (!n)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

size_t
utf8_check(const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		k = utf8_decode(p + i, n - i, &cp);
		if (!k)
			return i;
		i += k;
	}
	return n;
}

static int
is_control(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

int
utf8_has_controls(const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i = 0, k;
	uint32_t cp;

	while (i < n) {
		k = utf8_decode(p + i, n - i, &cp);
		if (!k)
			return 1;
		if (is_control(cp))
			return 1;
		i += k;
	}
	return 0;
}

int
utf8_clean_text(struct buf *b, const void *data, size_t n, unsigned flags)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *p = data;
	size_t i = 0, k, run = 0, col = 0;
	uint32_t cp;
	int replaced = 0;

	while (i < n) {
		k = utf8_decode(p + i, n - i, &cp);
		if (k && !is_control(cp)) {
			i += k;
			run += k;
			col++;
			continue;
		}
		if (k && cp == '\n' && (flags & UTF8_KEEP_NL)) {
			i++;
			run++;
			col = 0;
			continue;
		}
		if (k && cp == '\r' && (flags & UTF8_KEEP_NL) && i + 1 < n &&
		    p[i + 1] == '\n') {
			i++;
			run++;
			continue;
		}
		if (buf_add(b, p + i - run, run) < 0)
			return -1;
		run = 0;
		if (k && cp == '\t' && (flags & UTF8_TAB_SPACE)) {
			do {
				if (buf_addc(b, ' ') < 0)
					return -1;
			} while (++col % 8);
		} else {
			if (buf_add(b, repl, 3) < 0)
				return -1;
			replaced++;
			col++;
		}
		i += k ? k : 1;
	}
	if (buf_add(b, p + i - run, run) < 0)
		return -1;
	return replaced;
}

int
utf8_clean(struct buf *b, const void *data, size_t n)
{
	return utf8_clean_text(b, data, n, 0);
}

/* Zero-width: combining marks and format characters commonly seen. */
static int
is_zero_width(uint32_t c)
{
	return (c >= 0x300 && c <= 0x36f) || (c >= 0x483 && c <= 0x489) ||
	       (c >= 0x591 && c <= 0x5bd) || (c >= 0x610 && c <= 0x61a) ||
	       (c >= 0x64b && c <= 0x65f) || (c >= 0x1ab0 && c <= 0x1aff) ||
	       (c >= 0x1dc0 && c <= 0x1dff) || (c >= 0x200b && c <= 0x200f) ||
	       (c >= 0x20d0 && c <= 0x20ff) || (c >= 0xfe00 && c <= 0xfe0f) ||
	       (c >= 0xfe20 && c <= 0xfe2f) || c == 0xfeff;
}

/* East Asian Wide and Fullwidth ranges (Unicode 15, main blocks). */
static int
is_wide(uint32_t c)
{
	return (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
	       (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	       (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
	       (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	       (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	       (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	       (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd);
}

static size_t
cp_width(uint32_t c)
{
	if (is_zero_width(c))
		return 0;
	return is_wide(c) ? 2 : 1;
}

size_t
utf8_width(const char *s)
{
	size_t w;

	utf8_fit(s, (size_t)-1, &w);
	return w;
}

size_t
utf8_fit(const char *s, size_t cols, size_t *width)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, w = 0, k, cw;
	uint32_t cp;

	while (i < n) {
		k = utf8_decode(p + i, n - i, &cp);
		if (!k) {
			k = 1;
			cp = '?';
		}
		cw = cp_width(cp);
		if (w + cw > cols)
			break;
		w += cw;
		i += k;
	}
	if (width)
		*width = w;
	return i;
}
