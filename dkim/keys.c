/*
 * keys.c — each distinct public key decoded once per run, and shared by
 * every signature made with it (see dkim_p.h).
 *
 * libopendkim turns the key of each RSA signature into an EVP_PKEY with
 * d2i_PUBKEY_bio() (dkim_sig_process), for every mail anew, and offers no
 * way to hand it a key already decoded: its key lookup callback returns
 * the TXT record.  On OpenSSL 3.0 that call builds a decoder chain out of
 * every provider's decoders each time: 130-200 µs of CPU per call on the
 * bench VM, where the RSA-2048 verification itself takes 18-28 µs with a
 * key decoded once (whose RSA copy and Montgomery context OpenSSL keeps).
 * It was 55 % of the CPU time of verifying (bench/RESULTS.md, DKIM).
 *
 * So this file defines d2i_PUBKEY_bio() for the program.  A definition in
 * the executable comes first in the dynamic linker's search order, so
 * libopendkim's call lands here (as with any symbol a program defines).
 *   - While dkimv_check() runs on the thread (dkim_keys_use), for a memory
 *     BIO (the one libopendkim makes of the decoded p= bytes) and no object
 *     to reuse, the exact bytes are looked up in the run's cache: found,
 *     the caller gets another reference to the key decoded from them
 *     before (the BIO is not read; libopendkim frees it next).
 *   - Otherwise, and to decode a key the first time, libcrypto's own
 *     d2i_PUBKEY_bio() does the work (dlsym RTLD_NEXT): any other caller
 *     sees OpenSSL unchanged.
 * The same bytes give the same key, so no verdict can differ: the library
 * still checks the key size, verifies, and frees its reference.  An
 * EVP_PKEY is reference-counted, and several threads may verify with one
 * key at once as long as nobody modifies it (libopendkim only reads it;
 * EVP_PKEY_get1_RSA keeps its RSA copy under the key's lock).
 *
 * Ed25519 keys are made with EVP_PKEY_new_raw_public_key(): 6 µs, left
 * alone.
 */
#define _GNU_SOURCE		/* RTLD_NEXT */
#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim_p.h"
#include "util/hash.h"
#include "util/xalloc.h"

/* Distinct keys kept at most; past that a key is decoded each time (a
 * mailbox of many signers stays right, only slower). */
#define MAX_KEYS 256
/* The SubjectPublicKeyInfo of an RSA-8192 key is about 1.1 KB. */
#define MAX_DER 4096

struct key {
	uint64_t hash;
	size_t len;
	unsigned char *der;
	EVP_PKEY *pkey;
};

struct dkim_keys {
	pthread_mutex_t mu;
	struct key keys[MAX_KEYS];
	size_t n;
	uint64_t decoded, reused;
};

static _Thread_local struct dkim_keys *current;

typedef EVP_PKEY *d2i_fn(BIO *, EVP_PKEY **);
static d2i_fn *libcrypto_d2i;
static pthread_once_t libcrypto_once = PTHREAD_ONCE_INIT;

static void
find_libcrypto(void)
{
	void *p = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");

	/* POSIX: a function's address from dlsym (ISO C has no such cast) */
	memcpy(&libcrypto_d2i, &p, sizeof(p));
}

struct dkim_keys *
dkim_keys_new(void)
{
	struct dkim_keys *k = xcalloc(1, sizeof(*k));

	pthread_mutex_init(&k->mu, NULL);
	return k;
}

void
dkim_keys_free(struct dkim_keys *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n; i++) {
		free(k->keys[i].der);
		EVP_PKEY_free(k->keys[i].pkey);
	}
	pthread_mutex_destroy(&k->mu);
	free(k);
}

void
dkim_keys_use(struct dkim_keys *k)
{
	current = k;
}

void
dkim_keys_stats(struct dkim_keys *k, uint64_t *decoded, uint64_t *reused)
{
	pthread_mutex_lock(&k->mu);
	*decoded = k->decoded;
	*reused = k->reused;
	pthread_mutex_unlock(&k->mu);
}

/* The entry of the key decoded from these bytes, or NULL.  Called with
 * k->mu held. */
static struct key *
find(struct dkim_keys *k, uint64_t h, const void *der, size_t len)
{
	size_t i;

	for (i = 0; i < k->n; i++) {
		struct key *e = &k->keys[i];

		if (e->hash == h && e->len == len && memcmp(e->der, der, len) == 0)
			return e;
	}
	return NULL;
}

EVP_PKEY *
d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
	struct dkim_keys *k = current;
	struct key *e;
	EVP_PKEY *pkey;
	unsigned char *der;
	char *data = NULL;
	long len = 0;
	uint64_t h;

	pthread_once(&libcrypto_once, find_libcrypto);
	if (!libcrypto_d2i)
		return NULL;
	if (!k || a || !bp || BIO_method_type(bp) != BIO_TYPE_MEM ||
	    (len = BIO_get_mem_data(bp, &data)) <= 0 || len > MAX_DER || !data)
		return libcrypto_d2i(bp, a);

	h = hash_bytes(data, (size_t)len);
	/* held while a new key is decoded: each key is decoded once, and the
	 * wait (a few first keys of the run) is short */
	pthread_mutex_lock(&k->mu);
	if ((e = find(k, h, data, (size_t)len))) {
		pkey = EVP_PKEY_up_ref(e->pkey) == 1 ? e->pkey : NULL;
		k->reused += pkey != NULL;
	} else {
		/* the bytes before the BIO is read: they are the cache's key */
		der = xmalloc((size_t)len);
		memcpy(der, data, (size_t)len);
		pkey = libcrypto_d2i(bp, NULL);
		k->decoded += pkey != NULL;
		/* a key that does not decode is not kept: the library says why
		 * each time */
		if (pkey && k->n < MAX_KEYS && EVP_PKEY_up_ref(pkey) == 1) {
			e = &k->keys[k->n++];
			e->hash = h;
			e->len = (size_t)len;
			e->der = der;
			e->pkey = pkey;
			der = NULL;
		}
		free(der);
	}
	pthread_mutex_unlock(&k->mu);
	return pkey;
}
