/*
 * dkim_p.h — what dkim.c and keys.c share: the run's cache of decoded
 * public keys (keys.c says why it exists and how it reaches libopendkim).
 *
 * A struct dkim_keys is made by dkim_keys_new() with its verifier and
 * freed with it (dkim_keys_free() accepts NULL); it may serve several
 * threads at once.
 */
#ifndef MXD_DKIM_P_H
#define MXD_DKIM_P_H

#include <stdint.h>

struct dkim_keys;

struct dkim_keys *dkim_keys_new(void);
void dkim_keys_free(struct dkim_keys *k);
/* The cache that the calling thread's key decoding uses from now on;
 * NULL: none (every key is decoded, as OpenSSL alone does). */
void dkim_keys_use(struct dkim_keys *k);
/* Keys decoded, and decodings answered from the cache, so far. */
void dkim_keys_stats(struct dkim_keys *k, uint64_t *decoded, uint64_t *reused);

#endif
