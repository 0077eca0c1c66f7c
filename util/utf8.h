/*
 * utf8.h — UTF-8 checks and cleaning for values that reach a terminal, a CSV
 * file or a spreadsheet.  Every string from a report passes utf8_clean()
 * before it is stored: invalid sequences and control characters (C0, DEL,
 * C1) become U+FFFD, so no escape sequence from a report can reach a
 * terminal and libxlsxwriter never sees invalid UTF-8.
 */
#ifndef MXD_UTIL_UTF8_H
#define MXD_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Decodes one code point; returns its length, or 0 if invalid at p. */
size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);
/* Offset of the first invalid byte, or n when all is valid UTF-8. */
size_t utf8_check(const void *p, size_t n);
/* True if the (valid) text holds a control character. */
int utf8_has_controls(const void *p, size_t n);
/* Appends a cleaned copy to b; returns the number of replacements, or -1
 * when b's cap is reached.  A cleaned copy is at most 3 * n bytes (every
 * byte may become U+FFFD): size caps for that. */
int utf8_clean(struct buf *b, const void *p, size_t n);
/*
 * The same, for text meant for people (a header shown by `quarantine show`,
 * a one-line message): UTF8_TAB_SPACE writes a TAB as spaces up to the
 * next multiple of 8 columns instead of U+FFFD (so the copy may reach
 * 8 * n bytes); UTF8_KEEP_NL keeps LF (and a CR right before it).  Other
 * control characters are replaced as by utf8_clean().
 */
#define UTF8_TAB_SPACE 1u
#define UTF8_KEEP_NL 2u
int utf8_clean_text(struct buf *b, const void *p, size_t n, unsigned flags);
/* Display columns of valid UTF-8 text (East Asian wide = 2, combining = 0). */
size_t utf8_width(const char *s);
/* Bytes of s that fit in `cols` columns (whole code points). */
size_t utf8_fit(const char *s, size_t cols, size_t *width);

#endif
