/*
 * The packed raw copies (store/pack.c, parse/regzip.c): a mail whose gzip
 * attachment zlib makes again is kept with the JSON instead, and every
 * byte comes back.
 *
 * usage: test_pack [DIR...]
 * Crafted mails first (each zlib level, LF and CRLF, line lengths, the
 * last line with and without its line end, gzip files with names and
 * trailing bytes, and what must not pack), then every file under each DIR
 * round trip.  With MXDIGEST_PACK_EXPECT=google,microsoft, every file
 * of the DIRs whose name starts with one of those senders and that holds
 * a gzip member must pack: the real corpus, where Google and Microsoft
 * deflate with zlib.  A DIR that is missing is skipped with a line, and
 * is a failure with MXDIGEST_REQUIRE_CORPUS=1.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "store/store_p.h"

static int failures;

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			failures++;					\
		}							\
	} while (0)

/* A report JSON with enough repeats that levels differ. */
static void
report(struct buf *j, int seed)
{
	buf_reset(j);
	buf_printf(j, "{\"organization-name\":\"Example %d\",\"date-range\":"
		   "{\"start-datetime\":\"2026-11-%02dT00:00:00Z\",\"end-datetime\":"
		   "\"2026-11-%02dT23:59:59Z\"},\"contact-info\":\"tls@example.com\","
		   "\"report-id\":\"r-%d\",\"policies\":[", seed, 1 + seed % 28,
		   1 + seed % 28, seed);
	for (int i = 0; i < 3 + seed % 7; i++)
		buf_printf(j, "%s{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
			   "\"d%d.example.org\"},\"summary\":{\"total-successful-"
			   "session-count\":%d,\"total-failure-session-count\":%d}}",
			   i ? "," : "", i * seed % 13, 100 + i * seed, i);
	buf_adds(j, "]}");
}

/* gzip of data: zlib at level (strategy, memLevel), header flags flg with
 * a file name when FNAME, then `trail` after the member. */
static void
gzip(const struct buf *data, int level, int mem, int strategy, int sync,
     unsigned flg, const char *trail, struct buf *out)
{
	unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0x10, 0x20, 0x30, 0x40,
				  0, 3 };
	z_stream z;
	uLong crc = crc32(0, data->data, (uInt)data->len);
	unsigned char t[8];
	size_t room = data->len + 1024;

	hdr[3] = (unsigned char)flg;
	hdr[8] = level == 9 ? 2 : level == 1 ? 4 : 0;
	buf_reset(out);
	buf_add(out, hdr, 10);
	if (flg & 8)
		buf_add(out, "report.json\0", 12);
	memset(&z, 0, sizeof(z));
	deflateInit2(&z, level, Z_DEFLATED, -15, mem, strategy);
	buf_reserve(out, room);
	z.next_in = data->data;
	z.avail_in = (uInt)data->len;
	z.next_out = out->data + out->len;
	z.avail_out = (uInt)room;
	if (sync)
		deflate(&z, Z_SYNC_FLUSH);
	deflate(&z, Z_FINISH);
	buf_commit(out, room - z.avail_out);
	deflateEnd(&z);
	for (int k = 0; k < 4; k++) {
		t[k] = (unsigned char)(crc >> (8 * k));
		t[4 + k] = (unsigned char)(data->len >> (8 * k));
	}
	buf_add(out, t, 8);
	buf_adds(out, trail);
}

static void
b64(const struct buf *in, size_t line, const char *eol, int last_eol,
    struct buf *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				"0123456789+/";
	size_t col = 0;

	for (size_t i = 0; i < in->len; i += 3) {
		unsigned v = (unsigned)in->data[i] << 16 |
			     (i + 1 < in->len ? (unsigned)in->data[i + 1] << 8 : 0) |
			     (i + 2 < in->len ? in->data[i + 2] : 0);
		char q[4] = { a[v >> 18 & 63], a[v >> 12 & 63],
			      i + 1 < in->len ? a[v >> 6 & 63] : '=',
			      i + 2 < in->len ? a[v & 63] : '=' };

		for (int k = 0; k < 4; k++) {
			if (col == line) {
				buf_adds(out, eol);
				col = 0;
			}
			buf_addc(out, q[k]);
			col++;
		}
	}
	if (last_eol)
		buf_adds(out, eol);
}

static void
mail(const struct buf *gz, size_t line, const char *eol, int last_eol,
     const char *after, struct buf *out)
{
	buf_reset(out);
	buf_printf(out, "From: tls@example.com%sSubject: Report%sMIME-Version: 1.0%s"
		   "Content-Type: multipart/report; boundary=\"b\"%s%s--b%s"
		   "Content-Type: text/plain%s%sA report.%s--b%s"
		   "Content-Type: application/tlsrpt+gzip%s"
		   "Content-Transfer-Encoding: base64%s%s", eol, eol, eol, eol,
		   eol, eol, eol, eol, eol, eol, eol, eol, eol);
	b64(gz, line, eol, last_eol, out);
	buf_adds(out, after);
}

/* Packs data, unpacks it, and checks the bytes: the packed flag. */
static int
roundtrip(const char *what, const void *data, size_t len)
{
	struct buf p, back;
	struct mxd_err err;
	int packed;

	buf_init(&p, BUF_NOCAP);
	buf_init(&back, BUF_NOCAP);
	packed = pack_message(data, len, &p);
	if (packed) {
		CHECK(unpack_message(p.data, p.len, &back, &err) == 0,
		      "%s: unpack: %s", what, err.text);
		CHECK(back.len == len && memcmp(back.data, data, len) == 0,
		      "%s: %zu bytes back of %zu, not the same", what, back.len, len);
	}
	buf_release(&p);
	buf_release(&back);
	return packed;
}

/* Every truncation and a flip of every byte of a packed form: an error or
 * other bytes, never a crash (the tests run under ASan in CI). */
static void
damage(const void *data, size_t len)
{
	struct buf p, back, bad;
	struct mxd_err err;

	buf_init(&p, BUF_NOCAP);
	buf_init(&back, BUF_NOCAP);
	buf_init(&bad, BUF_NOCAP);
	CHECK(pack_message(data, len, &p) == 1, "damage: does not pack");
	for (size_t n = 0; n < p.len; n++)
		CHECK(unpack_message(p.data, n, &back, &err) < 0,
		      "a packed form cut at %zu of %zu unpacked", n, p.len);
	for (size_t i = 0; i < p.len; i++) {
		buf_reset(&bad);
		buf_add(&bad, p.data, p.len);
		bad.data[i] ^= 0x41;
		if (unpack_message(bad.data, bad.len, &back, &err) == 0 &&
		    i >= 8 && back.len == len)
			/* a flip in the kept bytes changes those bytes only */
			CHECK(memcmp(back.data, data, len) != 0,
			      "a flip at %zu gave the same bytes", i);
	}
	buf_release(&p);
	buf_release(&back);
	buf_release(&bad);
}

static void
crafted(void)
{
	struct buf j, gz, m;
	static const size_t lines[] = { 76, 64, 72, 60, 4 };
	static const char *const eols[] = { "\r\n", "\n" };
	int n = 0;

	buf_init(&j, BUF_NOCAP);
	buf_init(&gz, BUF_NOCAP);
	buf_init(&m, BUF_NOCAP);
	for (int level = 1; level <= 9; level++) {
		report(&j, level * 7);
		gzip(&j, level, 8, Z_DEFAULT_STRATEGY, 0, 0, "", &gz);
		for (size_t li = 0; li < sizeof(lines) / sizeof(lines[0]); li++)
			for (int e = 0; e < 2; e++)
				for (int last = 0; last < 2; last++) {
					char what[80];
					int packed;

					/* without a last line end, the mail ends
					 * there */
					mail(&gz, lines[li], eols[e], last,
					     last ? e ? "--b--\n" : "--b--\r\n" : "", &m);
					snprintf(what, sizeof(what), "level %d, %zu a line, %s, "
						 "last eol %d", level, lines[li],
						 e ? "LF" : "CRLF", last);
					packed = roundtrip(what, m.data, m.len);
					/* levels 6, 9 and 1 are tried; others when
					 * they give the same bytes */
					if (level == 1 || level == 6 || level == 9)
						CHECK(packed, "%s: not packed", what);
					n += packed;
				}
	}
	CHECK(n >= 3 * 5 * 2 * 2, "%d crafted mails packed", n);

	/* a gzip file with a name and bytes after the member */
	report(&j, 3);
	gzip(&j, 6, 8, Z_DEFAULT_STRATEGY, 0, 8, "\r\n", &gz);
	CHECK(roundtrip("gzip file", gz.data, gz.len), "a gzip file did not pack");
	damage(gz.data, gz.len);
	mail(&gz, 76, "\r\n", 1, "--b--\r\n", &m);
	CHECK(roundtrip("FNAME in a mail", m.data, m.len), "FNAME mail not packed");
	damage(m.data, m.len);

	/* what must not pack, and still comes back as it was (nothing to
	 * check but that it is left alone) */
	report(&j, 5);
	gzip(&j, 6, 8, Z_DEFAULT_STRATEGY, 1, 0, "", &gz);	/* a sync flush */
	mail(&gz, 76, "\n", 1, "--b--\n", &m);
	CHECK(!roundtrip("sync flush", m.data, m.len), "a sync flush packed");
	gzip(&j, 6, 8, Z_FILTERED, 0, 0, "", &gz);	/* another strategy */
	mail(&gz, 76, "\n", 1, "--b--\n", &m);
	if (roundtrip("Z_FILTERED", m.data, m.len))
		printf("note: Z_FILTERED gave the default's bytes for this report\n");
	gzip(&j, 6, 8, Z_DEFAULT_STRATEGY, 0, 0, "", &gz);
	mail(&gz, 76, "\n", 1, "--b--\n", &m);
	CHECK(roundtrip("plain", m.data, m.len), "the plain mail did not pack");
	{
		/* a space at the end of a base64 line, one short line inside,
		 * a damaged member: each left alone */
		char *sp = strstr((char *)m.data, "Content-Transfer-Encoding: base64\n\n");
		size_t at = (size_t)(sp - (char *)m.data) + 35 + 76;
		struct buf v;

		buf_init(&v, BUF_NOCAP);
		buf_add(&v, m.data, at);
		buf_addc(&v, ' ');
		buf_add(&v, m.data + at, m.len - at);
		CHECK(!roundtrip("trailing space", v.data, v.len), "a space packed");
		buf_reset(&v);
		buf_add(&v, m.data, at - 1);
		buf_add(&v, m.data + at, m.len - at);
		CHECK(!roundtrip("short line", v.data, v.len), "a short line packed");
		buf_reset(&v);
		buf_add(&v, m.data, m.len);
		v.data[at + 40] = v.data[at + 40] == 'A' ? 'B' : 'A';
		CHECK(!roundtrip("damaged member", v.data, v.len),
		      "a damaged member packed");
		buf_release(&v);
	}
	/* gzip bombs: a file, and a mail of eight attachments, each 4 MiB of
	 * JSON white space in 4 KB; none is inflated to the end or deflated
	 * again (more than 64x its size is no report), so none packs */
	{
		struct buf big, many;

		buf_init(&big, BUF_NOCAP);
		buf_init(&many, BUF_NOCAP);
		buf_adds(&big, "{\"a\":1");
		buf_reserve(&big, (size_t)4 << 20);
		memset(big.data + big.len, ' ', ((size_t)4 << 20) - 16);
		big.len += ((size_t)4 << 20) - 16;
		buf_adds(&big, "}");
		gzip(&big, 9, 8, Z_DEFAULT_STRATEGY, 0, 0, "", &gz);
		CHECK(gz.len < 16384, "the bomb is %zu bytes", gz.len);
		CHECK(!roundtrip("gzip bomb", gz.data, gz.len), "a gzip bomb packed");
		mail(&gz, 76, "\n", 1, "", &m);
		for (int k = 0; k < 8; k++) {
			buf_add(&many, m.data, m.len);
			buf_adds(&many, "\n");
		}
		CHECK(!roundtrip("eight bombs", many.data, many.len),
		      "a mail of gzip bombs packed");
		buf_release(&big);
		buf_release(&many);
	}
	/* no attachment at all; too short; a line that only starts H4sI */
	buf_reset(&m);
	buf_adds(&m, "From: a@b\nSubject: H4sI\n\nH4sI is not a gzip member.\n");
	CHECK(!roundtrip("text", m.data, m.len), "text packed");
	CHECK(!roundtrip("empty", "", 0), "nothing packed");
	buf_release(&j);
	buf_release(&gz);
	buf_release(&m);
}

static int
holds_gzip(const struct buf *b)
{
	return (b->len >= 2 && b->data[0] == 0x1f && b->data[1] == 0x8b) ||
	       strstr((const char *)b->data, "\nH4sI");
}

static int
expected(const char *name)
{
	const char *want = getenv("MXDIGEST_PACK_EXPECT");
	char list[256], *tok, *save;

	if (!want)
		return 0;
	snprintf(list, sizeof(list), "%s", want);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (strncmp(name, tok, strlen(tok)) == 0 &&
		    (name[strlen(tok)] == '-' || name[strlen(tok)] == '/'))
			return 1;
	return 0;
}

/* Every regular file under dir, recursively: round trip. */
static void
tree(const char *dir, const char *top, int *files, int *packed)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		CHECK(0, "%s: cannot read", dir);
		return;
	}
	while ((e = readdir(d))) {
		char path[4096];
		struct stat st;
		struct buf b;
		FILE *f;
		int p;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			tree(path, top, files, packed);
			continue;
		}
		if (!S_ISREG(st.st_mode) || !(f = fopen(path, "rb")))
			continue;
		buf_init(&b, BUF_NOCAP);
		buf_reserve(&b, (size_t)st.st_size);
		b.len = fread(b.data, 1, (size_t)st.st_size, f);
		b.data[b.len] = '\0';
		fclose(f);
		p = roundtrip(path, b.data, b.len);
		if (expected(path + strlen(top) + 1) && holds_gzip(&b))
			CHECK(p, "%s: a %s report that did not pack", path,
			      getenv("MXDIGEST_PACK_EXPECT"));
		*files += 1;
		*packed += p;
		buf_release(&b);
	}
	closedir(d);
}

int
main(int argc, char **argv)
{
	const char *req = getenv("MXDIGEST_REQUIRE_CORPUS");
	int skipped = 0;

	crafted();
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int files = 0, packed = 0;

		if (stat(argv[i], &st) < 0) {
			if (req && strcmp(req, "1") == 0)
				CHECK(0, "%s is required but missing", argv[i]);
			else
				printf("%s not found: its files were NOT checked\n",
				       argv[i]);
			skipped = 1;
			continue;
		}
		tree(argv[i], argv[i], &files, &packed);
		printf("%s: %d files, %d packed, every one back byte for byte\n",
		       argv[i], files, packed);
		CHECK(files > 0, "%s: no files", argv[i]);
	}
	store_thread_release();
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : skipped ? 77 : 0;
}
