/*
 * arena.h — a bump allocator: many small allocations, one release.
 *
 * A parsed report owns every string and array it points to through one arena
 * (as libxlsxwriter's workbook owns its sheets): arena_release() frees them
 * all at once.  Allocations are 16-byte aligned and never freed one by one.
 * An embedded struct arena is set up with arena_init() (or zeroed).
 */
#ifndef MXD_UTIL_ARENA_H
#define MXD_UTIL_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
	size_t used;	/* bytes handed out, for statistics */
};

void arena_init(struct arena *a);
void arena_release(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);		/* zeroed */
void *arena_array(struct arena *a, size_t nmemb, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
