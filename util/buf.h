/*
 * buf.h — a growable byte buffer with a hard cap.
 *
 * Every buffer that holds untrusted bytes is a struct buf with a cap: growth
 * past `max` fails with -1 and leaves the buffer unchanged, so a decompression
 * bomb or a huge mail becomes a data error, never an allocation of its size.
 * `data` is always NUL-terminated (one byte past `len`), so text can be used
 * as a C string, but the contents may hold NULs: use `len`.
 *
 * Lifecycle: buf_init() on an embedded struct, buf_release() frees the bytes
 * and leaves an empty buffer that may be reused.  buf_detach() hands the
 * bytes to the caller (free() them).
 */
#ifndef MXD_UTIL_BUF_H
#define MXD_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#define BUF_NOCAP ((size_t)-1)

struct buf {
	unsigned char *data;
	size_t len;
	size_t cap;	/* allocated, including the NUL */
	size_t max;	/* hard limit on len */
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);	/* len = 0, keeps the memory */
/* Makes room for `extra` more bytes; -1 when that would pass the cap. */
int buf_reserve(struct buf *b, size_t extra);
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addc(struct buf *b, int c);
int buf_adds(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Called after writing n bytes into the reserved space past len. */
void buf_commit(struct buf *b, size_t n);
unsigned char *buf_detach(struct buf *b, size_t *len);
static inline const char *buf_cstr(const struct buf *b)
{
	return b->data ? (const char *)b->data : "";
}

#endif
