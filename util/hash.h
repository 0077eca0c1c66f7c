/*
 * hash.h — a small open-addressing map from strings to pointers.
 *
 * Used for group-by in aggregate/ and for grouping policies in parse/.  The
 * map copies each key into its own arena; values are the caller's.  Iterate
 * with hmap_next() (insertion order is not kept: sort the result).
 */
#ifndef MXD_UTIL_HASH_H
#define MXD_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

struct hmap_entry {
	const char *key;
	uint64_t hash;
	void *value;
};

struct hmap {
	struct hmap_entry *slots;
	size_t cap;		/* power of two */
	size_t count;
	struct arena keys;
};

uint64_t hash_bytes(const void *p, size_t n);	/* FNV-1a 64 */
void hmap_init(struct hmap *m);
void hmap_release(struct hmap *m);
void *hmap_get(const struct hmap *m, const char *key);
/* Returns the slot for key, creating it (value NULL) if absent. */
void **hmap_slot(struct hmap *m, const char *key, int *created);
/* Iteration: start with *pos = 0; returns NULL at the end. */
struct hmap_entry *hmap_next(const struct hmap *m, size_t *pos);

#endif
