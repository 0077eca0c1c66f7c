/*
 * zip.c — the entries of a zip archive (PKWARE APPNOTE 6.3: local file
 * headers, central directory, end of central directory), stored or
 * deflated, under a size cap.
 *
 * Some senders and gateways zip reports (QUIRKS Top 14: application/zip,
 * application/x-zip-compressed, Stalwart's tlsrpt+zip).  The central
 * directory gives the sizes (they may be missing from local headers when a
 * data descriptor follows the data); ZIP64, encryption and other methods
 * are refused.  Each entry's CRC-32 is checked, so a truncated archive is
 * an error, not a short report.
 */
#include <string.h>
#include <zlib.h>

#include "parse/parse_p.h"

#define EOCD_SIG 0x06054b50u
#define CDIR_SIG 0x02014b50u
#define LOCAL_SIG 0x04034b50u
#define MAX_ENTRIES 64

static unsigned
le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int
inflate_raw(const unsigned char *in, size_t n, size_t usize, size_t cap,
	    struct arena *a, unsigned char **out, struct mxd_err *err)
{
	z_stream z;
	int rc;

	if (usize > cap)
		return mxd_err_set(err, MXD_E_TOOBIG, "zip: an entry of %zu bytes "
				   "exceeds the %zu-byte cap", usize, cap);
	*out = arena_alloc(a, usize + 1);
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, -15) != Z_OK)
		return mxd_err_set(err, MXD_E_INTERNAL, "zlib: inflateInit2 failed");
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = *out;
	z.avail_out = (uInt)usize;
	rc = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (rc != Z_STREAM_END || z.total_out != usize)
		return mxd_err_set(err, MXD_E_DECODE, "zip: entry data %s",
				   rc == Z_BUF_ERROR ? "truncated or larger than "
						       "declared" : "corrupt");
	return 0;
}

int
zip_entries(const unsigned char *p, size_t n, size_t cap, struct arena *a,
	    struct zip_entry **out, size_t *nout, struct mxd_err *err)
{
	size_t i, eocd = 0, off, count;
	struct zip_entry *e;
	int found = 0;

	*out = NULL;
	*nout = 0;
	/* the end record is in the last 22 + 65535 bytes */
	for (i = n >= 22 ? n - 22 : 0; n >= 22; i--) {
		if (le32(p + i) == EOCD_SIG) {
			eocd = i;
			found = 1;
			break;
		}
		if (i == 0 || n - i > 22 + 65535)
			break;
	}
	if (!found)
		return mxd_err_set(err, MXD_E_DECODE, "zip: no end of central "
				   "directory (truncated archive?)");
	count = le16(p + eocd + 10);
	off = le32(p + eocd + 16);
	if (count == 0xffff || off == 0xffffffffu)
		return mxd_err_set(err, MXD_E_DECODE, "zip: ZIP64 archives are not "
				   "supported");
	if (count == 0)
		return mxd_err_set(err, MXD_E_EMPTY, "zip: the archive is empty");
	if (count > MAX_ENTRIES)
		return mxd_err_set(err, MXD_E_DECODE, "zip: %zu entries, more than "
				   "the %d a report archive may have", count,
				   MAX_ENTRIES);
	e = arena_array(a, count, sizeof(*e));
	for (i = 0; i < count; i++) {
		size_t nlen, xlen, clen, csize, usize, loff, data;
		unsigned flags, method;
		uint32_t crc;

		if (off > n || n - off < 46 || le32(p + off) != CDIR_SIG)
			return mxd_err_set(err, MXD_E_DECODE, "zip: damaged central "
					   "directory at byte %zu", off);
		flags = le16(p + off + 8);
		method = le16(p + off + 10);
		crc = le32(p + off + 16);
		csize = le32(p + off + 20);
		usize = le32(p + off + 24);
		nlen = le16(p + off + 28);
		xlen = le16(p + off + 30);
		clen = le16(p + off + 32);
		loff = le32(p + off + 42);
		if (n - off - 46 < nlen)
			return mxd_err_set(err, MXD_E_DECODE, "zip: damaged central "
					   "directory at byte %zu", off);
		e[i].name = arena_strndup(a, (const char *)p + off + 46, nlen);
		off += 46 + nlen + xlen + clen;
		if (flags & 1)
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\" is "
					   "encrypted", e[i].name);
		if (loff > n || n - loff < 30 || le32(p + loff) != LOCAL_SIG)
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\": no local "
					   "header at byte %zu", e[i].name, loff);
		data = loff + 30 + le16(p + loff + 26) + le16(p + loff + 28);
		if (data > n || n - data < csize)
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\" is "
					   "truncated", e[i].name);
		if (method == 0) {
			if (csize != usize)
				return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\": "
						   "sizes differ", e[i].name);
			if (usize > cap)
				return mxd_err_set(err, MXD_E_TOOBIG, "zip: an entry "
						   "of %zu bytes exceeds the "
						   "%zu-byte cap", usize, cap);
			e[i].data = (unsigned char *)arena_strndup(a,
				(const char *)p + data, usize);
		} else if (method == 8) {
			if (inflate_raw(p + data, csize, usize, cap, a, &e[i].data,
					err) < 0)
				return -1;
		} else {
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\": "
					   "compression method %u is not "
					   "supported", e[i].name, method);
		}
		e[i].len = usize;
		if (crc32(0L, e[i].data, (uInt)usize) != crc)
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\": CRC "
					   "mismatch", e[i].name);
	}
	*out = e;
	*nout = count;
	return 0;
}
