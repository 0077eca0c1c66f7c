/* hash.c — FNV-1a and a linear-probing string map. */
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

uint64_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
hmap_init(struct hmap *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
	arena_init(&m->keys);
}

void
hmap_release(struct hmap *m)
{
	free(m->slots);
	arena_release(&m->keys);
	m->slots = NULL;
	m->cap = m->count = 0;
}

/* The slot of key in a table that has slots: its entry or the empty one
 * where it goes. */
static struct hmap_entry *
probe(const struct hmap *m, const char *key, uint64_t h)
{
	size_t i;

	for (i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct hmap_entry *e = &m->slots[i];

		if (!e->key || (e->hash == h && strcmp(e->key, key) == 0))
			return e;
	}
}

static struct hmap_entry *
find(const struct hmap *m, const char *key, uint64_t h)
{
	return m->cap ? probe(m, key, h) : NULL;
}

static void
grow(struct hmap *m)
{
	struct hmap_entry *old = m->slots;
	size_t oldcap = m->cap, i;

	m->cap = oldcap ? oldcap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (i = 0; i < oldcap; i++) {
		if (old[i].key) {
			struct hmap_entry *e = probe(m, old[i].key, old[i].hash);
			*e = old[i];
		}
	}
	free(old);
}

void *
hmap_get(const struct hmap *m, const char *key)
{
	struct hmap_entry *e = find(m, key, hash_bytes(key, strlen(key)));

	return e && e->key ? e->value : NULL;
}

void **
hmap_slot(struct hmap *m, const char *key, int *created)
{
	uint64_t h = hash_bytes(key, strlen(key));
	struct hmap_entry *e;

	if (created)
		*created = 0;
	if ((m->count + 1) * 4 > m->cap * 3)
		grow(m);
	e = probe(m, key, h);	/* grow() made room */
	if (!e->key) {
		e->key = arena_strdup(&m->keys, key);
		e->hash = h;
		e->value = NULL;
		m->count++;
		if (created)
			*created = 1;
	}
	return &e->value;
}

struct hmap_entry *
hmap_next(const struct hmap *m, size_t *pos)
{
	while (*pos < m->cap) {
		struct hmap_entry *e = &m->slots[(*pos)++];

		if (e->key)
			return e;
	}
	return NULL;
}
