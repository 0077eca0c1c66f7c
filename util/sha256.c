/*
 * sha256.c — SHA-256 for the store's content hashes, from nettle.
 *
 * nettle comes with GnuTLS (fetch/tls.c), so it costs no new dependency,
 * and Debian builds it "fat": at run time it picks the CPU's SHA
 * extensions where there are any.  Measured on the import's mails
 * (bench/sha256.sh): 3.7 µs per 5.8 KB mail, against 4.7 µs for the
 * hand-written SHA-NI code this file held before.
 *
 * nettle's names are macros (sha256_init is nettle_sha256_init): they are
 * undone here, the only file that includes <nettle/sha2.h>, and struct
 * sha256 holds nettle's context in storage of the right size and
 * alignment.
 */
#include "util/sha256.h"

#include <string.h>

#include <nettle/sha2.h>
#undef sha256_init
#undef sha256_update

_Static_assert(sizeof(struct sha256_ctx) <= sizeof(((struct sha256 *)0)->u.opaque),
	       "struct sha256 is too small for nettle's context");
_Static_assert(_Alignof(struct sha256_ctx) <= _Alignof(struct sha256),
	       "struct sha256 is not aligned for nettle's context");

static struct sha256_ctx *
ctx(struct sha256 *c)
{
	return (struct sha256_ctx *)(void *)c->u.opaque;
}

void
sha256_init(struct sha256 *c)
{
	nettle_sha256_init(ctx(c));
}

void
sha256_update(struct sha256 *c, const void *p, size_t n)
{
	nettle_sha256_update(ctx(c), n, p);
}

void
sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN])
{
	nettle_sha256_digest(ctx(c), SHA256_LEN, out);
}

void
sha256(const void *p, size_t n, unsigned char out[SHA256_LEN])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, p, n);
	sha256_final(&c, out);
}

void
sha256_hex(const unsigned char d[SHA256_LEN], char out[2 * SHA256_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < SHA256_LEN; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * SHA256_LEN] = '\0';
}
