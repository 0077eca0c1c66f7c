/* Unit tests of util/: buffer cap, arena, SHA-256, time parsing, UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/sha256.h"
#include "util/strutil.h"
#include "util/timeutil.h"
#include "util/utf8.h"

static void
buf_cap_is_hard(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_add(&b, "12345678", 8), 0);
	assert_int_equal(buf_add(&b, "9", 1), -1);	/* past the cap */
	assert_int_equal(b.len, 8);			/* unchanged */
	assert_string_equal(buf_cstr(&b), "12345678");
	assert_int_equal(buf_printf(&b, "%d", 1), -1);
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%s-%d", "ab", 42), 0);
	assert_string_equal(buf_cstr(&b), "ab-42");
	buf_release(&b);
}

static void
arena_owns_everything(void **state)
{
	struct arena a;
	char *s;
	int i;

	(void)state;
	arena_init(&a);
	for (i = 0; i < 10000; i++) {
		s = arena_printf(&a, "string %d", i);
		assert_string_equal(s, i == 0 ? "string 0" : s);
	}
	s = arena_alloc(&a, 100000);	/* larger than a chunk */
	memset(s, 1, 100000);
	assert_non_null(arena_strndup(&a, "abc", 2));
	assert_string_equal(arena_strndup(&a, "abc", 2), "ab");
	arena_release(&a);
}

static void
sha256_check_vectors(void)
{
	unsigned char d[SHA256_LEN];
	char hex[65];
	struct sha256 c;
	int i;

	/* FIPS 180-4 examples */
	sha256("abc", 3, d);
	sha256_hex(d, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	sha256("", 0, d);
	sha256_hex(d, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
				 "27ae41e4649b934ca495991b7852b855");
	sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
	sha256_hex(d, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039"
				 "a33ce45964ff2167f6ecedd419db06c1");
	/* one million 'a', fed in odd pieces */
	sha256_init(&c);
	for (i = 0; i < 1000000 / 125; i++)
		sha256_update(&c, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			      125);
	sha256_final(&c, d);
	sha256_hex(d, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67"
				 "f1809a48a497200e046d39ccc7112cd0");
}

/* The FIPS 180-4 digests, and the same digest whatever pieces the data
 * comes in (the store hashes a message line by line). */
static void
sha256_vectors(void **state)
{
	unsigned char buf[300], a[SHA256_LEN], b[SHA256_LEN];
	struct sha256 c;
	size_t n, i;

	(void)state;
	sha256_check_vectors();
	for (n = 0; n < sizeof(buf); n++)
		buf[n] = (unsigned char)(n * 7 + 3);
	for (n = 0; n <= sizeof(buf); n++) {
		sha256(buf, n, a);
		sha256_init(&c);
		for (i = 0; i < n; i += 1 + i % 70)
			sha256_update(&c, buf + i, (1 + i % 70 < n - i) ? 1 + i % 70 : n - i);
		sha256_final(&c, b);
		assert_memory_equal(a, b, SHA256_LEN);
	}
}

static void
rfc3339_leniency(void **state)
{
	int64_t t;
	unsigned f;

	(void)state;
	assert_int_equal(time_parse_rfc3339("2026-11-09T00:00:00Z", &t, &f), 0);
	assert_int_equal(t, 1794182400);
	assert_int_equal(f, 0);
	/* Microsoft 2023: no zone, read as UTC */
	assert_int_equal(time_parse_rfc3339("2026-11-09T00:00:00", &t, &f), 0);
	assert_int_equal(t, 1794182400);
	assert_true(f & TIME_NO_ZONE);
	/* fractional seconds dropped, offsets converted */
	assert_int_equal(time_parse_rfc3339("2026-11-09T00:00:00.123Z", &t, &f), 0);
	assert_int_equal(t, 1794182400);
	assert_true(f & TIME_FRACTION);
	assert_int_equal(time_parse_rfc3339("2026-11-09T02:00:00+02:00", &t, &f), 0);
	assert_int_equal(t, 1794182400);
	assert_true(f & TIME_OFFSET);
	assert_int_equal(time_parse_rfc3339("2026-11-08T22:30:00-0130", &t, &f), 0);
	assert_int_equal(t, 1794182400);
	assert_int_equal(time_parse_rfc3339("2026-11-09", &t, &f), 0);
	assert_int_equal(t, 1794182400);
	assert_int_equal(time_parse_rfc3339("2026-11-08T23:59:60Z", &t, &f), 0);
	assert_int_equal(t, 1794182399);
	/* rejected */
	assert_int_equal(time_parse_rfc3339("2026-02-30T00:00:00Z", &t, &f), -1);
	assert_int_equal(time_parse_rfc3339("2026-11-09T24:00:00Z", &t, &f), -1);
	assert_int_equal(time_parse_rfc3339("yesterday", &t, &f), -1);
	assert_int_equal(time_parse_rfc3339("2026-11-09T00:00:00Zjunk", &t, &f), -1);
	assert_int_equal(time_parse_rfc3339("", &t, &f), -1);
}

static void
civil_roundtrip(void **state)
{
	int64_t d, y;
	unsigned m, dd;
	char s[32];

	(void)state;
	for (d = -800000; d < 800000; d += 37) {
		time_civil_from_days(d, &y, &m, &dd);
		assert_int_equal(time_days_from_civil(y, m, dd), d);
	}
	time_format_iso(1794182400 + 3661, s);
	assert_string_equal(s, "2026-11-09T01:01:01Z");
	time_format_iso(-1, s);
	assert_string_equal(s, "1969-12-31T23:59:59Z");
	assert_int_equal(time_day_floor(-1), -86400);
}

static void
utf8_cleaning(void **state)
{
	struct buf b;

	(void)state;
	assert_int_equal(utf8_check("caf\xc3\xa9", 5), 5);
	assert_int_equal(utf8_check("caf\xe9", 4), 3);		/* Latin-1 */
	assert_int_equal(utf8_check("\xc0\xaf", 2), 0);		/* overlong */
	assert_int_equal(utf8_check("\xed\xa0\x80", 3), 0);	/* surrogate */
	buf_init(&b, BUF_NOCAP);
	/* an escape sequence must not survive */
	assert_int_equal(utf8_clean(&b, "Evil\x1b[31mOrg", 12), 1);
	assert_string_equal(buf_cstr(&b), "Evil\xef\xbf\xbd[31mOrg");
	buf_reset(&b);
	assert_int_equal(utf8_clean(&b, "a\xe9z\xc2\x85", 5), 2);	/* + C1 NEL */
	assert_int_equal(utf8_check(b.data, b.len), b.len);
	assert_false(utf8_has_controls(b.data, b.len));
	buf_release(&b);
	assert_int_equal(utf8_width("abc"), 3);
	assert_int_equal(utf8_width("\xe6\x97\xa5\xe6\x9c\xac"), 4);	/* wide */
	assert_int_equal(utf8_width("e\xcc\x81"), 1);			/* combining */
}

static void
thousands(void **state)
{
	char s[32];

	(void)state;
	assert_string_equal(str_thousands(0, s), "0");
	assert_string_equal(str_thousands(999, s), "999");
	assert_string_equal(str_thousands(1000, s), "1,000");
	assert_string_equal(str_thousands(1234567, s), "1,234,567");
}

static void
hmap_many(void **state)
{
	struct hmap m;
	char key[32];
	int i, created;
	size_t pos = 0, n = 0;

	(void)state;
	hmap_init(&m);
	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		*hmap_slot(&m, key, &created) = (void *)(intptr_t)(i + 1);
		assert_true(created);
	}
	hmap_slot(&m, "k42", &created);
	assert_false(created);
	assert_int_equal((intptr_t)hmap_get(&m, "k4999"), 5000);
	assert_null(hmap_get(&m, "nope"));
	while (hmap_next(&m, &pos))
		n++;
	assert_int_equal(n, 5000);
	hmap_release(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_cap_is_hard),
		cmocka_unit_test(arena_owns_everything),
		cmocka_unit_test(sha256_vectors),
		cmocka_unit_test(rfc3339_leniency),
		cmocka_unit_test(civil_roundtrip),
		cmocka_unit_test(utf8_cleaning),
		cmocka_unit_test(thousands),
		cmocka_unit_test(hmap_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
