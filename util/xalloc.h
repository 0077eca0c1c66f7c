/*
 * xalloc.h — allocation that cannot fail.
 *
 * Running out of memory is not a data error: these wrappers abort with a
 * message (as OpenSMTPD's xmalloc does).  Limits on untrusted input are
 * enforced elsewhere (struct buf's cap, parse limits) and return errors.
 */
#ifndef MXD_UTIL_XALLOC_H
#define MXD_UTIL_XALLOC_H

#include <stddef.h>

/* Says "out of memory" and aborts: for libraries' own constructors that
 * fail only when memory is exhausted (n: what was asked, 0: unknown). */
void xalloc_die(size_t n) __attribute__((noreturn));
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows *p to hold at least `need` elements of `size` bytes, doubling. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
