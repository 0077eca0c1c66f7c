/*
 * regzip.c — gzip members that zlib makes again, byte for byte.
 *
 * The store keeps every raw byte of a report mail, and after the
 * signatures most of what is left of a mail's entropy is its gzip
 * attachment: deflate has already squeezed the JSON, so a dictionary
 * cannot do better on it.  The JSON itself, on the other hand, is almost
 * all keys, dates and domain names a dictionary knows.  When deflating the
 * inflated JSON again gives the very bytes of the member, the store may
 * keep the JSON and the level instead of the deflate stream
 * (store/pack.c).
 *
 * A member counts as reproducible when zlib, at one of LEVELS (memLevel 8,
 * a 32 KiB window, the default strategy: what gzip(1), Python, Java and
 * most libraries use), gives the same deflate stream.  On the real reports
 * this holds for Google's and Microsoft's (level 6; on reports this small
 * any of 4-9 gives the same bytes); Go's compress/flate is not zlib
 * (mail.ru) and its members are kept as they came.  zlib-ng deflates
 * differently too: a store packed with zlib is read back only where zlib
 * deflates as it did, and parse_deflate_at()'s CRC lets the store say so
 * instead of returning other bytes.
 */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "parse/parse_p.h"

/* a thread's streams and the buffer for deflating again, reused */
static _Thread_local z_stream rinf, rdef;
static _Thread_local int rinf_ready, rdef_ready;
static _Thread_local struct buf again;
static _Thread_local int again_ready;

void
regzip_release(void)
{
	if (rinf_ready)
		inflateEnd(&rinf);
	if (rdef_ready)
		deflateEnd(&rdef);
	if (again_ready)
		buf_release(&again);
	rinf_ready = rdef_ready = again_ready = 0;
}

const char *
parse_zlib_version(void)
{
	return zlibVersion();
}

/* Length of the gzip header at gz[0..n) (RFC 1952 2.3), 0 when there is
 * none that this reads. */
static size_t
header_len(const unsigned char *gz, size_t n)
{
	size_t off = 10;
	unsigned flg;

	if (n < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8)
		return 0;
	flg = gz[3];
	if (flg & 0xe0)
		return 0;
	if (flg & 4) {		/* FEXTRA */
		if (n - off < 2)
			return 0;
		off += 2 + (size_t)(gz[off] | gz[off + 1] << 8);
	}
	for (unsigned bit = 8; bit <= 16; bit <<= 1) {	/* FNAME, FCOMMENT */
		if (!(flg & bit))
			continue;
		while (off < n && gz[off])
			off++;
		off++;
	}
	if (flg & 2)		/* FHCRC */
		off += 2;
	return off < n ? off : 0;
}

/* Whether the 4 bytes k occur in p[0..n). */
static int
memmem_4(const unsigned char *p, size_t n, const char *k)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if (p[i] == (unsigned char)k[0] && memcmp(p + i, k, 4) == 0)
			return 1;
	return 0;
}

static int
deflater(int level)
{
	if (!rdef_ready) {
		memset(&rdef, 0, sizeof(rdef));
		if (deflateInit2(&rdef, level, Z_DEFLATED, -15, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK)
			return -1;
		rdef_ready = 1;
		return 0;
	}
	if (deflateReset(&rdef) != Z_OK ||
	    deflateParams(&rdef, level, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	return 0;
}

int
parse_deflate_at(const void *data, size_t n, int level, struct buf *out,
		 uint32_t *crc)
{
	size_t start = out->len, room;
	int rc;

	if (level < 1 || level > 9 || n > UINT32_MAX || deflater(level) < 0)
		return -1;
	room = deflateBound(&rdef, (uLong)n);
	if (buf_reserve(out, room) < 0)
		return -1;
	rdef.next_in = (unsigned char *)(uintptr_t)data;
	rdef.avail_in = (uInt)n;
	rdef.next_out = out->data + start;
	rdef.avail_out = (uInt)room;
	rc = deflate(&rdef, Z_FINISH);
	if (rc != Z_STREAM_END)
		return -1;
	buf_commit(out, room - rdef.avail_out);
	*crc = (uint32_t)crc32(0, out->data + start, (uInt)(out->len - start));
	return 0;
}

/* Inflates the raw deflate stream at p[0..n) into out (at most out->max
 * bytes): the length of the stream, 0 when it does not end well. */
static size_t
inflate_raw(const unsigned char *p, size_t n, struct buf *out)
{
	int rc;

	if (!rinf_ready) {
		memset(&rinf, 0, sizeof(rinf));
		if (inflateInit2(&rinf, -15) != Z_OK)
			return 0;
		rinf_ready = 1;
	} else if (inflateReset(&rinf) != Z_OK)
		return 0;
	rinf.next_in = (unsigned char *)(uintptr_t)p;
	rinf.avail_in = (uInt)n;
	do {
		size_t room = out->max - out->len < 16384 ? out->max - out->len
							  : 16384;

		if (room == 0 || buf_reserve(out, room) < 0)
			return 0;
		rinf.next_out = out->data + out->len;
		rinf.avail_out = (uInt)room;
		rc = inflate(&rinf, Z_NO_FLUSH);
		buf_commit(out, room - rinf.avail_out);
	} while (rc == Z_OK);
	return rc == Z_STREAM_END ? n - rinf.avail_in : 0;
}

int
parse_gzip_split(const void *gz, size_t n, struct buf *out,
		 struct gzip_split *sp)
{
	/* the likeliest first: 6 is zlib's default; gzip's XFL 2 says the
	 * slowest level (9), 4 the fastest (1) */
	static const int order[3][3] = { { 6, 9, 1 }, { 9, 6, 1 }, { 1, 6, 9 } };
	const unsigned char *p = gz;
	const int *lv;
	size_t h, d;
	uint32_t crc;
	int found = 0;

	memset(sp, 0, sizeof(*sp));
	if (n > UINT32_MAX || !(h = header_len(p, n)))
		return 0;
	buf_reset(out);
	if (!(d = inflate_raw(p + h, n - h, out)) || n - h - d < 8)
		return 0;
	/* an empty stored block (00 00 ff ff): the writer flushed (Go's
	 * gzip.Writer.Flush, mail.ru), which deflating at any level does not
	 * do; saves three tries that cannot match (or, where those bytes
	 * occur by chance, one member that is kept as it came) */
	if (memmem_4(p + h, d, "\0\0\377\377"))
		return 0;
	lv = order[p[8] == 2 ? 1 : p[8] == 4 ? 2 : 0];
	if (!again_ready) {
		buf_init(&again, BUF_NOCAP);
		again_ready = 1;
	}
	for (int i = 0; i < 3 && !found; i++) {
		buf_reset(&again);
		if (parse_deflate_at(out->data, out->len, lv[i], &again, &crc) == 0 &&
		    again.len == d && memcmp(again.data, p + h, d) == 0) {
			sp->level = lv[i];
			sp->crc = crc;
			found = 1;
		}
	}
	sp->hlen = h;
	sp->dlen = d;
	return found;
}
