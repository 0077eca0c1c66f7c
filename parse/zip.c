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
 *
 * A hostile archive can point many central-directory entries at one
 * deflate stream (64 entries of 32 MiB from 36 KB): the whole directory is
 * read and checked first — entries may not share or overlap their data —
 * and only the entries that could be reports are inflated, each taken from
 * the message's budget before a byte is written.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "parse/parse_p.h"
#include "util/strutil.h"
#include "util/xalloc.h"

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

/* An entry as the central directory describes it. */
struct cdir {
	const char *name;	/* cleaned, in the arena */
	unsigned method;
	uint32_t crc;
	size_t csize, usize;
	size_t loff, data;	/* local header, data */
};

static int
by_offset(const void *x, const void *y)
{
	const struct cdir *a = x, *b = y;

	return a->loff < b->loff ? -1 : a->loff > b->loff;
}

/* Names a report entry: the only entry, or a .json/.json.gz of several. */
static int
wanted(const struct cdir *c, size_t count)
{
	return count == 1 || str_has_suffix_ci(c->name, ".json") ||
	       str_has_suffix_ci(c->name, ".json.gz");
}

static int
read_directory(const unsigned char *p, size_t n, size_t off, size_t count,
	       struct arena *a, struct cdir *d, struct mxd_err *err)
{
	size_t i;

	for (i = 0; i < count; i++) {
		size_t nlen, xlen, clen;
		unsigned flags;

		if (off > n || n - off < 46 || le32(p + off) != CDIR_SIG)
			return mxd_err_set(err, MXD_E_DECODE, "zip: damaged central "
					   "directory at byte %zu", off);
		flags = le16(p + off + 8);
		d[i].method = le16(p + off + 10);
		d[i].crc = le32(p + off + 16);
		d[i].csize = le32(p + off + 20);
		d[i].usize = le32(p + off + 24);
		nlen = le16(p + off + 28);
		xlen = le16(p + off + 30);
		clen = le16(p + off + 32);
		d[i].loff = le32(p + off + 42);
		if (n - off - 46 < nlen)
			return mxd_err_set(err, MXD_E_DECODE, "zip: damaged central "
					   "directory at byte %zu", off);
		/* a name may hold anything, escape sequences included */
		d[i].name = parse_clean(a, (const char *)p + off + 46, nlen);
		off += 46 + nlen + xlen + clen;
		if (flags & 1)
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\" is "
					   "encrypted", d[i].name);
		if (d[i].loff > n || n - d[i].loff < 30 ||
		    le32(p + d[i].loff) != LOCAL_SIG)
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\": no local "
					   "header at byte %zu", d[i].name, d[i].loff);
		d[i].data = d[i].loff + 30 + le16(p + d[i].loff + 26) +
			    le16(p + d[i].loff + 28);
		if (d[i].data > n || n - d[i].data < d[i].csize)
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\" is "
					   "truncated", d[i].name);
		if (d[i].method != 0 && d[i].method != 8)
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\": "
					   "compression method %u is not "
					   "supported", d[i].name, d[i].method);
		if (d[i].method == 0 && d[i].csize != d[i].usize)
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\": "
					   "sizes differ", d[i].name);
	}
	return 0;
}

/* Entries must not share or overlap their local header and data. */
static int
check_disjoint(const struct cdir *d, size_t count, struct mxd_err *err)
{
	struct cdir *s = xmalloc(count * sizeof(*s));
	size_t i;
	int rc = 0;

	memcpy(s, d, count * sizeof(*s));
	qsort(s, count, sizeof(*s), by_offset);
	for (i = 1; i < count && rc == 0; i++)
		if (s[i].loff < s[i - 1].data + s[i - 1].csize)
			rc = mxd_err_set(err, MXD_E_DECODE, "zip: entries \"%s\" "
					 "and \"%s\" share their data at byte %zu "
					 "(a crafted archive)", s[i - 1].name,
					 s[i].name, s[i].loff);
	free(s);
	return rc;
}

int
zip_entries(const unsigned char *p, size_t n, size_t cap, struct budget *b,
	    struct arena *a, struct zip_entry **out, size_t *nout,
	    struct mxd_err *err)
{
	size_t i, k, eocd = 0, off, count;
	struct cdir *d;
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
	d = arena_array(a, count, sizeof(*d));
	if (read_directory(p, n, off, count, a, d, err) < 0 ||
	    check_disjoint(d, count, err) < 0)
		return -1;
	e = arena_array(a, count, sizeof(*e));
	for (i = k = 0; i < count; i++) {
		if (!wanted(&d[i], count))
			continue;
		if (d[i].usize > cap)
			return mxd_err_set(err, MXD_E_TOOBIG, "zip: an entry of %zu "
					   "bytes exceeds the %zu-byte cap",
					   d[i].usize, cap);
		if (budget_take(b, d[i].usize) < 0)
			return mxd_err_set(err, MXD_E_TOOBIG, "zip: the archive "
					   "needs more than the message's budget");
		e[k].name = d[i].name;
		if (d[i].method == 0) {
			e[k].data = (unsigned char *)arena_strndup(a,
				(const char *)p + d[i].data, d[i].usize);
		} else if (inflate_raw(p + d[i].data, d[i].csize, d[i].usize, cap,
				       a, &e[k].data, err) < 0) {
			return -1;
		}
		e[k].len = d[i].usize;
		if (crc32(0L, e[k].data, (uInt)d[i].usize) != d[i].crc)
			return mxd_err_set(err, MXD_E_DECODE, "zip: \"%s\": CRC "
					   "mismatch", d[i].name);
		k++;
	}
	*out = e;
	*nout = k;
	return 0;
}
