/*
 * gunzip.c — gzip (RFC 1952) and zlib (RFC 1950) with zlib, under a cap.
 *
 * Reports arrive as gzip with every header variant (QUIRKS B1), with a
 * sync-flush block inside (B2, Go), with trailing bytes after the member
 * (B3, Mimecast) and possibly several members (B5).  Output grows a capped
 * struct buf, so a decompression bomb stops at the cap.
 */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "parse/parse.h"

#define CHUNK 65536

enum mxd_status
parse_gunzip(const void *in, size_t n, struct buf *out, uint32_t *notes,
	     struct mxd_err *err)
{
	z_stream z;
	int rc, members = 0;
	size_t start = out->len;

	memset(&z, 0, sizeof(z));
	/* 15 + 32: a zlib or gzip header, detected automatically */
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return mxd_err_set(err, MXD_E_INTERNAL, "zlib: inflateInit2 failed"),
		       MXD_E_INTERNAL;
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
	for (;;) {
		size_t room = CHUNK;

		if (out->max - out->len < room)
			room = out->max - out->len;
		if (room == 0 || buf_reserve(out, room) < 0) {
			inflateEnd(&z);
			out->len = start;
			mxd_err_set(err, MXD_E_TOOBIG,
				    "gzip: decompressed size exceeds the %zu-byte cap",
				    out->max);
			return MXD_E_TOOBIG;
		}
		z.next_out = out->data + out->len;
		z.avail_out = (uInt)room;
		rc = inflate(&z, Z_NO_FLUSH);
		buf_commit(out, room - z.avail_out);
		if (rc == Z_STREAM_END) {
			members++;
			if (z.avail_in >= 2 && z.next_in[0] == 0x1f &&
			    z.next_in[1] == 0x8b) {
				inflateReset(&z);
				continue;
			}
			/* QUIRKS B3: Mimecast appends CRLF; ignore any tail */
			if (z.avail_in && notes)
				*notes |= TLSRPT_NOTE_GZIP_TRAILING;
			break;
		}
		if (rc == Z_OK)
			continue;
		if (rc == Z_BUF_ERROR && z.avail_in == 0) {
			inflateEnd(&z);
			mxd_err_set(err, MXD_E_DECODE,
				    "gzip: truncated after %zu compressed bytes",
				    (size_t)z.total_in);
			out->len = start;
			return MXD_E_DECODE;
		}
		if (rc == Z_BUF_ERROR)
			continue;	/* output full: loop grows it */
		mxd_err_set(err, MXD_E_DECODE, "gzip: %s at compressed byte %zu",
			    z.msg ? z.msg : "corrupt data",
			    (size_t)(n - z.avail_in));
		inflateEnd(&z);
		out->len = start;
		return MXD_E_DECODE;
	}
	if (members > 1 && notes)
		*notes |= TLSRPT_NOTE_GZIP_MULTI;
	inflateEnd(&z);
	if (out->data)
		out->data[out->len] = '\0';
	return MXD_OK;
}

int
parse_deflate(const void *in, size_t n, int level, struct buf *out)
{
	uLong bound = compressBound((uLong)n);
	uLongf dlen = bound;

	if (buf_reserve(out, bound) < 0)
		return -1;
	if (compress2(out->data + out->len, &dlen, in, (uLong)n, level) != Z_OK)
		return -1;
	buf_commit(out, dlen);
	return 0;
}

enum mxd_status
parse_inflate(const void *in, size_t n, struct buf *out, struct mxd_err *err)
{
	return parse_gunzip(in, n, out, NULL, err);
}
