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

#include "parse/parse_p.h"

#define CHUNK 65536

/*
 * One inflate stream per thread, reset between uses (inflateInit allocates
 * its window each time).  parse_thread_release() frees it.
 */
static _Thread_local z_stream inf;
static _Thread_local int inf_ready;

void
parse_thread_release(void)
{
	if (inf_ready)
		inflateEnd(&inf);
	inf_ready = 0;
	regzip_release();
}

enum mxd_status
parse_gunzip(const void *in, size_t n, struct buf *out, uint32_t *notes,
	     struct mxd_err *err)
{
	z_stream *zp = &inf;
	int rc, members = 0;
	size_t start = out->len;

	/* 15 + 32: a zlib or gzip header, detected automatically */
	if (!inf_ready) {
		memset(&inf, 0, sizeof(inf));
		if (inflateInit2(&inf, 15 + 32) != Z_OK) {
			mxd_err_set(err, MXD_E_INTERNAL, "zlib: inflateInit2 failed");
			return MXD_E_INTERNAL;
		}
		inf_ready = 1;
	} else {
		inflateReset(&inf);
	}
	zp->next_in = (unsigned char *)(uintptr_t)in;
	zp->avail_in = (uInt)(n > UINT32_MAX ? UINT32_MAX : n);
	for (;;) {
		size_t room = CHUNK;

		if (out->max - out->len < room)
			room = out->max - out->len;
		if (room == 0 || buf_reserve(out, room) < 0) {
			out->len = start;
			mxd_err_set(err, MXD_E_TOOBIG,
				    "gzip: decompressed size exceeds the %zu-byte cap",
				    out->max);
			return MXD_E_TOOBIG;
		}
		zp->next_out = out->data + out->len;
		zp->avail_out = (uInt)room;
		rc = inflate(zp, Z_NO_FLUSH);
		buf_commit(out, room - zp->avail_out);
		if (rc == Z_STREAM_END) {
			members++;
			if (zp->avail_in >= 2 && zp->next_in[0] == 0x1f &&
			    zp->next_in[1] == 0x8b) {
				inflateReset(zp);
				continue;
			}
			/* QUIRKS B3: Mimecast appends CRLF; ignore any tail */
			if (zp->avail_in && notes)
				*notes |= TLSRPT_NOTE_GZIP_TRAILING;
			break;
		}
		if (rc == Z_OK)
			continue;
		if (rc == Z_BUF_ERROR && zp->avail_in == 0) {
			mxd_err_set(err, MXD_E_DECODE,
				    "gzip: truncated after %zu compressed bytes",
				    (size_t)zp->total_in);
			out->len = start;
			return MXD_E_DECODE;
		}
		if (rc == Z_BUF_ERROR)
			continue;	/* output full: loop grows it */
		mxd_err_set(err, MXD_E_DECODE, "gzip: %s at compressed byte %zu",
			    zp->msg ? zp->msg : "corrupt data",
			    (size_t)(n - zp->avail_in));
		out->len = start;
		return MXD_E_DECODE;
	}
	if (members > 1 && notes)
		*notes |= TLSRPT_NOTE_GZIP_MULTI;
	if (out->data)
		out->data[out->len] = '\0';
	return MXD_OK;
}

enum mxd_status
parse_inflate(const void *in, size_t n, struct buf *out, struct mxd_err *err)
{
	return parse_gunzip(in, n, out, NULL, err);
}
