/*
 * Unit tests of the limits parse/ checks before a library sees hostile
 * bytes (parse/bound.c): the MIME nesting bound, checked against the depth
 * libetpan itself reaches; the JSON memory estimate; the per-message
 * budget; zip archives that share their data; sums past 2^53.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libetpan/libetpan.h>
#include <zlib.h>
#include <cmocka.h>

#include "parse/parse_p.h"
#include "util/buf.h"
#include "util/count.h"

/* The depth of libetpan's MIME tree: what its recursion reached. */
static int
etpan_depth(struct mailmime *m)
{
	clistiter *it;
	int d = 0, k;

	if (!m)
		return 0;
	if (m->mm_type == MAILMIME_MULTIPLE) {
		for (it = clist_begin(m->mm_data.mm_multipart.mm_mp_list); it;
		     it = clist_next(it))
			if ((k = etpan_depth(clist_content(it))) > d)
				d = k;
	} else if (m->mm_type == MAILMIME_MESSAGE) {
		d = etpan_depth(m->mm_data.mm_message.mm_msg_mime);
	}
	return d + 1;
}

static int
libetpan_depth(const char *msg, size_t len)
{
	struct mailmime *m = NULL;
	size_t idx = 0;
	int d;

	if (mailmime_parse(msg, len, &idx, &m) != MAILIMF_NO_ERROR)
		return 0;
	d = etpan_depth(m);
	mailmime_free(m);
	return d;
}

/* Passes the nesting check with max_depth, and libetpan stays within it
 * (plus the top-level message itself). */
static int
nesting_ok(const char *msg, int max_depth)
{
	struct mxd_err err;

	mxd_err_clear(&err);
	return mime_check_nesting(msg, strlen(msg), max_depth, &err) == 0;
}

static void
append(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

static char *
nested_messages(int levels)
{
	struct buf b;
	int i;

	buf_init(&b, BUF_NOCAP);
	append(&b, "Subject: x\r\nContent-Type: message/rfc822\r\n\r\n");
	for (i = 1; i < levels; i++)
		append(&b, "Content-Type: message/rfc822\r\n\r\n");
	append(&b, "body\r\n");
	return (char *)buf_detach(&b, NULL);
}

static char *
nested_multiparts(int levels)
{
	struct buf b;
	int i;

	buf_init(&b, BUF_NOCAP);
	for (i = 0; i < levels; i++)
		append(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n"
		       "--b%d\r\n", i, i);
	append(&b, "Content-Type: text/plain\r\n\r\nx\r\n");
	for (i = levels - 1; i >= 0; i--)
		append(&b, "--b%d--\r\n", i);
	return (char *)buf_detach(&b, NULL);
}

static void
nesting_depth_limits(void **state)
{
	char *m;

	(void)state;
	m = nested_messages(20);
	assert_true(nesting_ok(m, 20));
	free(m);
	m = nested_messages(21);
	assert_false(nesting_ok(m, 20));
	free(m);
	m = nested_messages(60000);
	assert_false(nesting_ok(m, 20));
	free(m);
	m = nested_multiparts(20);
	assert_true(nesting_ok(m, 20));
	free(m);
	m = nested_multiparts(21);
	assert_false(nesting_ok(m, 20));
	free(m);
}

/* Siblings are not nesting: a mail of 200 forwarded reports passes. */
static void
nesting_siblings(void **state)
{
	struct buf b;
	int i;

	(void)state;
	buf_init(&b, BUF_NOCAP);
	append(&b, "Content-Type: multipart/mixed; boundary=\"OUT\"\r\n\r\n");
	for (i = 0; i < 200; i++)
		append(&b, "--OUT\r\nContent-Type: message/rfc822\r\n\r\n"
		       "Subject: r%d\r\nContent-Type: multipart/report; "
		       "report-type=tlsrpt; boundary=\"in%d\"\r\n\r\n--in%d\r\n"
		       "Content-Type: application/tlsrpt+json\r\n\r\n{}\r\n"
		       "--in%d--\r\n", i, i, i, i);
	append(&b, "--OUT--\r\n");
	assert_true(nesting_ok(buf_cstr(&b), 20));
	assert_true(libetpan_depth(buf_cstr(&b), b.len) <= 5);
	/* ... but more than 1,000 composite parts is not a report mail */
	for (i = 0; i < 700; i++)
		append(&b, "--OUT\r\nContent-Type: message/rfc822\r\n\r\nx\r\n");
	assert_false(nesting_ok(buf_cstr(&b), 20));
	buf_release(&b);
}

/*
 * The tricks that could make a scan see less than libetpan does: fields
 * hidden behind comments, folding and case; a header with two
 * Content-Type fields (libetpan uses the first); delimiter look-alikes
 * ("--bX", a close delimiter before the last part); a digest whose parts
 * are messages by default.  Each must count at least libetpan's depth.
 */
static void
nesting_tricks(void **state)
{
	struct buf b;
	int i;

	(void)state;
	/* case, white space before the colon, folding, a comment: libetpan
	 * nests at each of these */
	buf_init(&b, BUF_NOCAP);
	for (i = 0; i < 25; i++)
		append(&b, i % 2 ? "cOnTeNt-TyPe :\r\n\tMessage/RFC822\r\n\r\n"
				 : "Content-Type:(c)message/rfc822\r\n (x)\r\n\r\n");
	append(&b, "x\r\n");
	assert_true(libetpan_depth(buf_cstr(&b), b.len) > 20);
	assert_false(nesting_ok(buf_cstr(&b), 20));
	buf_release(&b);
	/* comments where libetpan does not take them: counted anyway */
	buf_init(&b, BUF_NOCAP);
	for (i = 0; i < 25; i++)
		append(&b, "Content-Type (a (nested)) : (c) message/rfc822\r\n\r\n");
	append(&b, "x\r\n");
	assert_false(nesting_ok(buf_cstr(&b), 20));
	buf_release(&b);

	/* a digest: a part whose header has no Content-Type is a message */
	buf_init(&b, BUF_NOCAP);
	for (i = 0; i < 20; i++)
		append(&b, "Content-Type: multipart/digest; boundary=\"d%d\"\r\n\r\n"
		       "--d%d\r\nX-Part: %d\r\n\r\n", i, i, i);
	append(&b, "x\r\n");
	assert_true(libetpan_depth(buf_cstr(&b), b.len) > 20);
	assert_false(nesting_ok(buf_cstr(&b), 20));
	buf_release(&b);

	/* two Content-Type fields in one header: libetpan uses the first,
	 * and the scan cannot tell which delimiters end a part, so it
	 * counts both (deeper, never shallower) */
	buf_init(&b, BUF_NOCAP);
	for (i = 0; i < 12; i++)
		append(&b, "Content-Type: multipart/mixed; boundary=\"X%d\"\r\n"
		       "Content-Type: multipart/mixed; boundary=\"Y%d\"\r\n\r\n"
		       "--X%d\r\n", i, i, i);
	for (i = 0; i < 12; i++)
		append(&b, "\r\n--Y%d\r\n", i);
	append(&b, "x\r\n");
	assert_true(libetpan_depth(buf_cstr(&b), b.len) >= 12);
	assert_false(nesting_ok(buf_cstr(&b), 20));
	buf_release(&b);

	/* "--bX" lines do not end a part of "b" for libetpan (nor does
	 * "--b--" when a delimiter follows it) */
	buf_init(&b, BUF_NOCAP);
	append(&b, "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n");
	for (i = 0; i < 40; i++)
		append(&b, "Content-Type: multipart/mixed; boundary=\"c%d\"\r\n\r\n"
		       "--bX\r\n--c%d\r\n", i, i);
	append(&b, "x\r\n--b--\r\n");
	assert_true(libetpan_depth(buf_cstr(&b), b.len) > 20);
	assert_false(nesting_ok(buf_cstr(&b), 20));
	buf_release(&b);
}

/* A tiny deterministic generator of hostile structures: whatever it
 * makes, the scan's verdict is never "fine" when libetpan goes deeper
 * than the limit. */
static uint32_t rng = 2463534242u;

static uint32_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static void
gen(struct buf *b, int level, int *counter)
{
	static const char *const types[] = {
		"multipart/mixed", "multipart/digest", "message/rfc822",
		"text/plain", "application/json", "multipart/report",
	};
	int k, parts, id = (*counter)++;
	const char *t = types[next() % 6];

	if (level > 30 || *counter > 200) {
		append(b, "\r\nleaf\r\n");
		return;
	}
	if (next() % 12 == 0)
		append(b, "Content-Type: text/plain\r\n");	/* shadows what follows */
	if (next() % 3 == 0)
		append(b, "Content-Type:(c)\r\n %s", t);
	else
		append(b, "Content-Type: %s", t);
	if (t[0] == 'm' && t[1] == 'u')
		append(b, "; boundary=\"%c%d\"", next() % 8 ? 'b' : 'c', id % 4);
	append(b, "\r\n");
	if (next() % 10 == 0)
		append(b, "Content-Type: multipart/mixed; boundary=\"z%d\"\r\n", id);
	if (next() % 15 == 0)
		append(b, "garbage line\r\n");
	append(b, "\r\n");
	if (!strncmp(t, "message", 7)) {
		gen(b, level + 1, counter);
	} else if (!strncmp(t, "multipart", 9)) {
		parts = (int)(next() % 3) + 1;
		for (k = 0; k < parts; k++) {
			/* mostly the right delimiter; sometimes a look-alike */
			append(b, "--%c%d%s\r\n", next() % 8 ? 'b' : 'c', id % 4,
			       next() % 9 == 0 ? "--" : next() % 9 == 0 ? "X" : "");
			if (next() % 5 == 0)
				append(b, "X-Part: %d\r\n", k);	/* digest: a message */
			if (next() % 8)
				gen(b, level + 1, counter);
			else
				append(b, "\r\nbody\r\n");
		}
		if (next() % 4)
			append(b, "--b%d--\r\n", id % 4);
	} else {
		append(b, "text\r\n");
	}
}

static void
nesting_never_below_libetpan(void **state)
{
	int i, deeper = 0;

	(void)state;
	for (i = 0; i < 3000; i++) {
		struct buf b;
		int counter = 0, limit = (int)(next() % 7) + 2, ld;

		buf_init(&b, BUF_NOCAP);
		gen(&b, 0, &counter);
		ld = libetpan_depth(buf_cstr(&b), b.len);
		/* libetpan's tree counts the top-level message and the
		 * leaf as levels of their own */
		if (nesting_ok(buf_cstr(&b), limit) && ld > limit + 2)
			fail_msg("case %d: scan passed at %d levels, libetpan went "
				 "%d deep:\n%s", i, limit, ld, buf_cstr(&b));
		deeper += ld > limit + 2;
		buf_release(&b);
	}
	/* the generator must make deep cases, or this proves nothing */
	print_message("%d of 3000 cases deeper than their limit\n", deeper);
	assert_true(deeper > 100);
}

static void
json_cost_bounds(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	/* "{}," is 3 bytes and about 780 bytes of json-c */
	buf_init(&b, BUF_NOCAP);
	buf_adds(&b, "{\"p\":[");
	for (i = 0; i < 100000; i++)
		buf_adds(&b, "{},");
	buf_adds(&b, "{}]}");
	assert_true(json_cost(buf_cstr(&b), b.len) >= 780u * 100000);
	buf_release(&b);
	/* braces inside strings are text, escapes included */
	assert_true(json_cost("{\"a\":\"{{{{\\\"{{{{\"}", 18) < 2 * 800);
}

/* A minimal zip archive: entries point at the data of entry `target`. */
static size_t
zip_shared(unsigned char *out, int entries, int share)
{
	static const char data[] = "{\"x\":1}";
	size_t off = 0, cd, i, n = sizeof(data) - 1, loff[4];
	uint32_t crc = (uint32_t)crc32(0L, (const unsigned char *)data, (uInt)n);
	int e;

#define LE16(v) (out[off++] = (unsigned char)(v), out[off++] = (unsigned char)((v) >> 8))
#define LE32(v) (LE16((v) & 0xffff), LE16(((uint32_t)(v)) >> 16))
	for (e = 0; e < entries; e++) {
		loff[e] = off;
		LE32(0x04034b50u); LE16(20); LE16(0); LE16(0); LE16(0); LE16(0);
		LE32(crc); LE32(n); LE32(n); LE16(6); LE16(0);
		memcpy(out + off, "r0.json", 6);
		out[off + 1] = (unsigned char)('0' + e);
		off += 6;
		memcpy(out + off, data, n);
		off += n;
	}
	cd = off;
	for (e = 0; e < entries; e++) {
		LE32(0x02014b50u); LE16(20); LE16(20); LE16(0); LE16(0); LE16(0);
		LE16(0); LE32(crc); LE32(n); LE32(n); LE16(6); LE16(0); LE16(0);
		LE16(0); LE16(0); LE32(0);
		LE32(share ? loff[0] : loff[e]);
		memcpy(out + off, "r0.jso", 6);
		out[off + 1] = (unsigned char)('0' + e);
		off += 6;
	}
	i = off - cd;
	LE32(0x06054b50u); LE16(0); LE16(0); LE16(entries); LE16(entries);
	LE32(i); LE32(cd); LE16(0);
#undef LE16
#undef LE32
	return off;
}

static void
zip_shared_data_refused(void **state)
{
	unsigned char z[1024];
	struct parse_limits lim;
	struct budget b;
	struct arena a;
	struct zip_entry *e;
	struct mxd_err err;
	size_t n, ne;

	(void)state;
	parse_limits_default(&lim);
	arena_init(&a);
	budget_init(&b, &lim);
	/* names do not end in .json: several entries, none wanted ... */
	n = zip_shared(z, 3, 0);
	assert_int_equal(zip_entries(z, n, lim.max_report, &b, &a, &e, &ne, &err), 0);
	assert_int_equal(ne, 0);
	/* ... and nothing was inflated or taken from the budget */
	assert_int_equal(b.left, b.max);
	/* three entries on one local header: refused before inflating */
	n = zip_shared(z, 3, 1);
	assert_int_equal(zip_entries(z, n, lim.max_report, &b, &a, &e, &ne, &err), -1);
	assert_non_null(strstr(err.text, "share their data"));
	assert_int_equal(b.left, b.max);
	arena_release(&a);
}

static void
budget_spans_the_message(void **state)
{
	struct parse_limits lim;
	struct budget b;

	(void)state;
	parse_limits_default(&lim);
	lim.max_report = 1000;
	budget_init(&b, &lim);
	assert_int_equal(b.max, 2000);
	assert_int_equal(budget_take(&b, 1500), 0);
	assert_int_equal(budget_take(&b, 600), -1);
	assert_true(b.over);
	assert_int_equal(budget_take(&b, 1), -1);	/* spent stays spent */
}

static void
check_parse(const char *json, int ok, const char *why)
{
	struct arena a;
	struct mxd_err err;
	struct tlsrpt *r;

	arena_init(&a);
	mxd_err_clear(&err);
	r = parse_report_json(json, strlen(json), NULL, NULL, &a, &err);
	if (ok && !r)
		fail_msg("%s: refused: %s", why, err.text);
	if (!ok && r)
		fail_msg("%s: accepted", why);
	if (!ok && !strstr(err.text, "more than 2^53"))
		fail_msg("%s: wrong reason: %s", why, err.text);
	arena_release(&a);
}

static char *
policies_json(int n, const char *type2, uint64_t failed)
{
	struct buf b;
	int i;

	buf_init(&b, BUF_NOCAP);
	append(&b, "{\"organization-name\":\"O\",\"date-range\":{\"start-datetime\":"
	       "\"2026-11-01T00:00:00Z\",\"end-datetime\":\"2026-11-01T23:59:59Z\"},"
	       "\"report-id\":\"r\",\"policies\":[");
	for (i = 0; i < n; i++)
		append(&b, "%s{\"policy\":{\"policy-type\":\"%s\",\"policy-domain\":"
		       "\"example.org\"},\"summary\":{\"total-successful-session-"
		       "count\":0,\"total-failure-session-count\":%llu}}",
		       i ? "," : "", i % 2 && type2 ? type2 : "sts",
		       (unsigned long long)failed);
	append(&b, "]}");
	return (char *)buf_detach(&b, NULL);
}

static void
counts_past_2p53(void **state)
{
	char *j;

	(void)state;
	/* 2,048 policies of 2^53: a 64-bit sum wraps to 0 */
	j = policies_json(2048, NULL, COUNT_MAX);
	check_parse(j, 0, "2048 x 2^53");
	free(j);
	/* two halves add up to exactly 2^53: fine */
	j = policies_json(2, NULL, COUNT_MAX / 2);
	check_parse(j, 1, "2 x 2^52");
	free(j);
	j = policies_json(2, NULL, COUNT_MAX / 2 + 1);
	check_parse(j, 0, "2 x (2^52 + 1)");
	free(j);
	/* sts and tlsa are the same sessions: the largest, not the sum */
	j = policies_json(2, "tlsa", COUNT_MAX);
	check_parse(j, 1, "sts + tlsa of 2^53");
	free(j);
	assert_int_equal(count_add(COUNT_MAX, 1), COUNT_OVER);
	assert_int_equal(count_add(COUNT_OVER, 0), COUNT_OVER);
	assert_int_equal(count_add(UINT64_MAX, UINT64_MAX), COUNT_OVER);
	assert_int_equal(count_add(3, 4), 7);
}

static void
hints_must_be_domains(void **state)
{
	(void)state;
	assert_true(parse_domain_ok("example.org"));
	assert_true(parse_domain_ok("mx_1.example-2.org"));
	assert_false(parse_domain_ok("example"));
	assert_false(parse_domain_ok("evil\xef\xbf\xbd[31m.example"));
	assert_false(parse_domain_ok("a..b"));
	assert_false(parse_domain_ok("a b.org"));
	assert_false(parse_domain_ok(".org"));
}

/* A header section past MIME_MAX_HEADER is refused before libetpan reads
 * it (the mail's own, a part's, an embedded message's); a body of that
 * size is not, whatever its lines look like. */
static void
header_sections_bounded(void **state)
{
	const size_t big = MIME_MAX_HEADER + 4096;
	struct buf b;
	struct mxd_err err;
	size_t i;
	int kind;

	(void)state;
	for (kind = 0; kind < 6; kind++) {
		buf_init(&b, BUF_NOCAP);
		switch (kind) {
		case 0:	/* one long Subject, folded */
		case 3:	/* the same, within the limit */
			buf_adds(&b, "From: a@example.com\nSubject: x");
			for (i = 0; b.len < (kind == 0 ? big : MIME_MAX_HEADER - 200); i++)
				buf_adds(&b, "\n a long folded subject line of the header");
			buf_adds(&b, "\n\nbody\n");
			break;
		case 1:	/* a part's header */
			buf_adds(&b, "Content-Type: multipart/mixed; boundary=\"b\"\n\n"
				 "--b\nContent-Type: text/plain\n");
			while (b.len < big)
				buf_adds(&b, "X-Filler: 0123456789012345678901234567890123456789\n");
			buf_adds(&b, "\nx\n--b--\n");
			break;
		case 2:	/* an embedded message's header */
			buf_adds(&b, "Content-Type: message/rfc822\n\n");
			while (b.len < big)
				buf_adds(&b, "Received: from somewhere by somewhere else; 1 Jan\n");
			buf_adds(&b, "\nx\n");
			break;
		case 4:	/* a large body of indented lines (pretty-printed JSON) */
		case 5:	/* the same in a part */
			buf_adds(&b, kind == 4 ? "Content-Type: application/json\n\n{\n" :
				 "Content-Type: multipart/mixed; boundary=\"b\"\n\n--b\n"
				 "Content-Type: application/json\n\n{\n");
			while (b.len < 2 * big)
				buf_adds(&b, "    \"failed-session-count\": 1,\n");
			buf_adds(&b, kind == 4 ? "}\n" : "}\n--b--\n");
			break;
		}
		mxd_err_clear(&err);
		if (kind < 3) {
			assert_int_equal(mime_check_nesting((char *)b.data, b.len, 10, &err), -1);
			assert_non_null(strstr(err.text, "header section of more than"));
		} else {
			assert_int_equal(mime_check_nesting((char *)b.data, b.len, 10, &err), 0);
		}
		buf_release(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nesting_depth_limits),
		cmocka_unit_test(nesting_siblings),
		cmocka_unit_test(nesting_tricks),
		cmocka_unit_test(nesting_never_below_libetpan),
		cmocka_unit_test(json_cost_bounds),
		cmocka_unit_test(zip_shared_data_refused),
		cmocka_unit_test(budget_spans_the_message),
		cmocka_unit_test(counts_past_2p53),
		cmocka_unit_test(hints_must_be_domains),
		cmocka_unit_test(header_sections_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
