/*
 * sha256-nettle.c — nettle's SHA-256 for bench/sha256-bench.c, in a file of
 * its own: nettle's sha256_* names are macros that clash with util/sha256.h.
 */
#include <stddef.h>

#include <nettle/sha2.h>

void bench_nettle_sha256(const void *p, size_t n, unsigned char *out);

void
bench_nettle_sha256(const void *p, size_t n, unsigned char *out)
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, n, p);
	sha256_digest(&c, SHA256_DIGEST_SIZE, out);
}
