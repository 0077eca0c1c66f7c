/*
 * sha256.h — SHA-256 (FIPS 180-4, nettle's), used for content hashes in
 * the store: a message or a report seen twice is recognised by its digest.
 */
#ifndef MXD_UTIL_SHA256_H
#define MXD_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* nettle's sha256_ctx (util/sha256.c checks that it fits) */
struct sha256 {
	union {
		unsigned char opaque[128];
		uint64_t align;
	} u;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *p, size_t n);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);
void sha256(const void *p, size_t n, unsigned char out[SHA256_LEN]);
/* 64 hex digits and a NUL. */
void sha256_hex(const unsigned char d[SHA256_LEN], char out[2 * SHA256_LEN + 1]);

#endif
