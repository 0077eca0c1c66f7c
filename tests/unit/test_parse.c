/*
 * Unit tests of parse/: the JSON layer, gzip, the MIME walk and the
 * counting rules, on inputs written here (one per quirk of QUIRKS.md that
 * the corpus lacks or that needs a precise check).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "parse/parse.h"
#include "util/buf.h"

/* A valid Google-shaped report; %s slots: policies array. */
#define REPORT_HEAD                                                        \
	"{\"organization-name\":\"Google Inc.\",\"date-range\":{"           \
	"\"start-datetime\":\"2026-11-09T00:00:00Z\",\"end-datetime\":"      \
	"\"2026-11-09T23:59:59Z\"},\"contact-info\":\"smtp-tls-reporting@"  \
	"google.com\",\"report-id\":\"2026-11-09T00:00:00Z_example.org\","   \
	"\"policies\":"

static char *
report_with(const char *policies)
{
	size_t n = strlen(REPORT_HEAD) + strlen(policies) + 2;
	char *s = malloc(n);

	snprintf(s, n, "%s%s}", REPORT_HEAD, policies);
	return s;
}

static const char sts_ok[] =
	"[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":[\"version: STSv1\","
	"\"mode: enforce\",\"mx: mx1.example.org\",\"max_age: 86400\"],"
	"\"policy-domain\":\"example.org\",\"mx-host\":[\"mx1.example.org\"]},"
	"\"summary\":{\"total-successful-session-count\":100,"
	"\"total-failure-session-count\":0}}]";

struct parsed {
	struct arena a;
	struct mxd_err err;
	struct tlsrpt *r;
};

static struct tlsrpt *
json_parse(struct parsed *p, const char *json, const struct parse_hints *h)
{
	arena_init(&p->a);
	mxd_err_clear(&p->err);
	p->r = parse_report_json(json, strlen(json), h, NULL, &p->a, &p->err);
	return p->r;
}

static void
parsed_release(struct parsed *p)
{
	arena_release(&p->a);
}

/* Parses a report with the given policies and expects an error text. */
static void
expect_error(const char *policies, const char *text)
{
	struct parsed p;
	char *j = report_with(policies);

	assert_null(json_parse(&p, j, NULL));
	if (!strstr(p.err.text, text))
		fail_msg("error \"%s\" does not contain \"%s\"", p.err.text, text);
	parsed_release(&p);
	free(j);
}

static void
json_valid_report(void **state)
{
	struct parsed p;
	char *j = report_with(sts_ok);
	struct tlsrpt *r;

	(void)state;
	r = json_parse(&p, j, NULL);
	assert_non_null(r);
	assert_string_equal(r->org, "Google Inc.");
	assert_string_equal(r->report_id, "2026-11-09T00:00:00Z_example.org");
	assert_int_equal(r->start, 1794182400);
	assert_int_equal(r->end, 1794182400 + 86399);
	assert_int_equal(r->n_policies, 1);
	assert_string_equal(r->policies[0].type, "sts");
	assert_string_equal(r->policies[0].domain, "example.org");
	assert_int_equal(r->policies[0].n_strings, 4);
	assert_int_equal(r->policies[0].n_mx_hosts, 1);
	assert_int_equal(r->successful, 100);
	assert_int_equal(r->failed, 0);
	assert_int_equal(r->notes, 0);
	parsed_release(&p);
	free(j);
}

static void
json_errors_name_the_path(void **state)
{
	struct parsed p;

	(void)state;
	expect_error("[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"a.b\"},"
		     "\"summary\":{\"total-successful-session-count\":1}}]",
		     "\"policies[0].summary.total-failure-session-count\" missing");
	expect_error("[{\"policy\":{\"policy-domain\":\"a.b\"},\"summary\":{}}]",
		     "\"policies[0].policy.policy-type\" missing");
	expect_error("[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"a.b\"},"
		     "\"summary\":{\"total-successful-session-count\":1,"
		     "\"total-failure-session-count\":1},\"failure-details\":[{"
		     "\"result-type\":\"certificate-expired\"}]}]",
		     "\"policies[0].failure-details[0].failed-session-count\" missing");
	expect_error("{}", "\"policies\" is an object, expected an array");
	/* date-range missing */
	assert_null(json_parse(&p, "{\"organization-name\":\"X\",\"report-id\":\"1\","
			       "\"policies\":[]}", NULL));
	assert_string_equal(p.err.text, "report JSON: \"date-range\" missing");
	assert_int_equal(p.err.code, MXD_E_SCHEMA);
	parsed_release(&p);
	/* syntax errors give a byte offset */
	assert_null(json_parse(&p, "{\"organization-name\":\"X\" \"report-id\":1}",
			       NULL));
	assert_int_equal(p.err.code, MXD_E_JSON);
	assert_non_null(strstr(p.err.text, "at byte 25"));
	parsed_release(&p);
	assert_null(json_parse(&p, "{\"organization-name\":", NULL));
	assert_non_null(strstr(p.err.text, "truncated"));
	parsed_release(&p);
	/* an organization name that is not UTF-8 */
	assert_null(json_parse(&p, "{\"organization-name\":\"Soci\xe9t\xe9\"}", NULL));
	assert_int_equal(p.err.code, MXD_E_JSON);
	assert_non_null(strstr(p.err.text, "at byte 26"));
	parsed_release(&p);
	/* trailing data after the report */
	{
		char *j = report_with(sts_ok);
		char *k = malloc(strlen(j) + 8);

		sprintf(k, "%s\n{}", j);
		assert_null(json_parse(&p, k, NULL));
		assert_non_null(strstr(p.err.text, "byte"));
		parsed_release(&p);
		sprintf(k, "%s \r\n", j);	/* white space is fine */
		assert_non_null(json_parse(&p, k, NULL));
		parsed_release(&p);
		free(j);
		free(k);
	}
}

static const char *
policy_with_counts(const char *ok, const char *bad)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
		 "[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"a.example\"},"
		 "\"summary\":{\"total-successful-session-count\":%s,"
		 "\"total-failure-session-count\":%s}}]", ok, bad);
	return buf;
}

static void
json_counts(void **state)
{
	struct parsed p;
	char *j;

	(void)state;
	/* above 2^31 */
	j = report_with(policy_with_counts("4294967296", "3000000000"));
	assert_non_null(json_parse(&p, j, NULL));
	assert_int_equal(p.r->successful, 4294967296ULL);
	assert_int_equal(p.r->failed, 3000000000ULL);
	parsed_release(&p);
	free(j);
	/* digit strings: accepted and noted */
	j = report_with(policy_with_counts("\"12\"", "0"));
	assert_non_null(json_parse(&p, j, NULL));
	assert_int_equal(p.r->successful, 12);
	assert_true(p.r->notes & TLSRPT_NOTE_COUNT_STRING);
	parsed_release(&p);
	free(j);
	expect_error(policy_with_counts("-1", "0"), "is negative (-1)");
	expect_error(policy_with_counts("1.5", "0"), "is not an integer (1.5)");
	expect_error(policy_with_counts("\"12abc\"", "0"), "is a string");
	expect_error(policy_with_counts("null", "0"), "is null");
	expect_error(policy_with_counts("true", "0"), "is a boolean");
	expect_error(policy_with_counts("18014398509481985", "0"), "out of range");
}

static void
json_mx_host_shapes(void **state)
{
	static const char *shapes[] = {
		"\"mx-host\":\"*.mail.example\"", "\"mx-host\":[\"a.example\",\"b.example\"]",
		"\"mx-host\":[]", "\"mx-host\":null", "\"x\":1",
	};
	static const size_t counts[] = {1, 2, 0, 0, 0};
	struct parsed p;
	char pol[512], *j;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		snprintf(pol, sizeof(pol),
			 "[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
			 "\"example.org\",%s},\"summary\":{\"total-successful-session-"
			 "count\":1,\"total-failure-session-count\":0}}]", shapes[i]);
		j = report_with(pol);
		assert_non_null(json_parse(&p, j, NULL));
		assert_int_equal(p.r->policies[0].n_mx_hosts, counts[i]);
		if (i == 0)
			assert_true(p.r->notes & TLSRPT_NOTE_MX_HOST_STRING);
		parsed_release(&p);
		free(j);
	}
	expect_error("[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"a.b\","
		     "\"mx-host\":[1]},\"summary\":{\"total-successful-session-count\""
		     ":1,\"total-failure-session-count\":0}}]",
		     "\"policies[0].policy.mx-host[0]\" is a number");
}

static void
json_policy_strings(void **state)
{
	struct parsed p;
	char *j;

	(void)state;
	/* Google: lines ending in \r */
	j = report_with("[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":["
			"\"version: STSv1\\r\",\"mode: testing\\r\"],\"policy-domain\":"
			"\"example.org\"},\"summary\":{\"total-successful-session-count\""
			":1,\"total-failure-session-count\":0}}]");
	assert_non_null(json_parse(&p, j, NULL));
	assert_string_equal(p.r->policies[0].strings[0], "version: STSv1");
	assert_string_equal(p.r->policies[0].strings[1], "mode: testing");
	assert_true(p.r->notes & TLSRPT_NOTE_POLICY_STRING_WS);
	assert_false(p.r->notes & TLSRPT_NOTE_CONTROL_CHARS);
	parsed_release(&p);
	free(j);
	/* Microsoft: a TLSA RRset packed into one string */
	j = report_with("[{\"policy\":{\"policy-type\":\"tlsa\",\"policy-string\":["
			"\"[\\\"3 1 1 AB12\\\",\\\"3 1 1 CD34\\\"]\"],\"policy-domain\":"
			"\"example.org\"},\"summary\":{\"total-successful-session-count\""
			":1,\"total-failure-session-count\":0}}]");
	assert_non_null(json_parse(&p, j, NULL));
	assert_int_equal(p.r->policies[0].n_strings, 2);
	assert_string_equal(p.r->policies[0].strings[1], "3 1 1 CD34");
	assert_true(p.r->notes & TLSRPT_NOTE_TLSA_PACKED);
	parsed_release(&p);
	free(j);
	/* absent, "" and [] */
	j = report_with("[{\"policy\":{\"policy-type\":\"sts\",\"policy-string\":\"\","
			"\"policy-domain\":\"example.org\"},\"summary\":{\"total-"
			"successful-session-count\":1,\"total-failure-session-count\":0}}]");
	assert_non_null(json_parse(&p, j, NULL));
	assert_int_equal(p.r->policies[0].n_strings, 0);
	assert_true(p.r->notes & TLSRPT_NOTE_POLICY_STRING_SHAPE);
	parsed_release(&p);
	free(j);
}

static void
json_tolerances(void **state)
{
	struct parsed p;
	char *j;

	(void)state;
	/* contact-info null, date-time without zone, next-midnight end,
	 * unknown keys, misspelled keys, unknown types, details not adding up */
	j = strdup("\xef\xbb\xbf{\"organization-name\":\"mx.relay.example\","
		   "\"date-range\":{\"start-datetime\":\"2026-11-12T00:00:00\","
		   "\"end-datetime\":\"2026-11-13T00:00:00Z\"},\"contact-info\":null,"
		   "\"report-id\":\"1762905600_42\",\"x-extension\":{\"a\":[1,2]},"
		   "\"policies\":[{\"policy\":{\"policy-type\":\"dane-only\","
		   "\"policy-domain\":\"Example.ORG.\"},\"summary\":{"
		   "\"total-successful-session-count\":5,"
		   "\"total-failure-session-count\":3},\"failure-details\":[{"
		   "\"result-type\":\"future-failure\",\"failed-session-count\":1,"
		   "\"receiving-mx-host-name\":\"MX2.example.org\","
		   "\"additional-info-uri\":\"https://x.example/\","
		   "\"sending-mta-ip\":\"\",\"failure-reason-code\":null}]}]}");
	assert_non_null(json_parse(&p, j, NULL));
	assert_null(p.r->contact);
	assert_int_equal(p.r->start, 1794441600);
	assert_int_equal(p.r->end, 1794441600 + 86400);
	assert_string_equal(p.r->policies[0].type, "dane-only");
	assert_string_equal(p.r->policies[0].domain, "example.org");
	assert_string_equal(p.r->policies[0].details[0].receiving_mx, "mx2.example.org");
	assert_string_equal(p.r->policies[0].details[0].additional_info,
			    "https://x.example/");
	assert_null(p.r->policies[0].details[0].sending_ip);
	assert_null(p.r->policies[0].details[0].reason_code);
	assert_true(p.r->notes & TLSRPT_NOTE_BOM);
	assert_true(p.r->notes & TLSRPT_NOTE_NO_ZONE);
	assert_true(p.r->notes & TLSRPT_NOTE_CONTACT_NULL);
	assert_true(p.r->notes & TLSRPT_NOTE_KEY_ALIAS);
	assert_true(p.r->notes & TLSRPT_NOTE_UNKNOWN_POLICY_TYPE);
	assert_true(p.r->notes & TLSRPT_NOTE_UNKNOWN_RESULT_TYPE);
	assert_true(p.r->notes & TLSRPT_NOTE_DETAIL_SUM);
	assert_true(p.r->notes & TLSRPT_NOTE_DOMAIN_CASE);
	assert_true(p.r->notes & TLSRPT_NOTE_NULL_VALUES);
	parsed_release(&p);
	free(j);
	/* control characters in a name never survive */
	j = strdup("{\"organization-name\":\"Evil\\u001b[2JCorp\\u0000\",\"date-range\":{"
		   "\"start-datetime\":\"2026-11-12T00:00:00Z\",\"end-datetime\":"
		   "\"2026-11-12T23:59:59Z\"},\"report-id\":\"r\",\"policies\":[]}");
	assert_non_null(json_parse(&p, j, NULL));
	assert_null(strchr(p.r->org, '\x1b'));
	assert_string_equal(p.r->org, "Evil\xef\xbf\xbd[2JCorp\xef\xbf\xbd");
	assert_true(p.r->notes & TLSRPT_NOTE_CONTROL_CHARS);
	assert_true(p.r->notes & TLSRPT_NOTE_NO_POLICIES);
	parsed_release(&p);
	free(j);
	/* end before start */
	assert_null(json_parse(&p, "{\"organization-name\":\"X\",\"report-id\":\"1\","
			       "\"date-range\":{\"start-datetime\":\"2026-11-12T00:00:00Z\","
			       "\"end-datetime\":\"2026-11-11T00:00:00Z\"},\"policies\":[]}",
			       NULL));
	assert_non_null(strstr(p.err.text, "before start-datetime"));
	parsed_release(&p);
}

static void
json_domain_recovery(void **state)
{
	static const char pol[] =
		"[{\"policy\":{\"policy-type\":\"no-policy-found\"},\"summary\":{"
		"\"total-successful-session-count\":7,\"total-failure-session-count\":0}}]";
	struct parse_hints h;
	struct parsed p;
	char *j = report_with(pol);

	char *opaque = strdup(j), *id = strstr(opaque, "2026-11-09T00:00:00Z_example.org");

	(void)state;
	memset(&h, 0, sizeof(h));
	/* the report-id ends in the domain (Google, sys4): the last resort */
	assert_non_null(json_parse(&p, j, &h));
	assert_string_equal(p.r->policies[0].domain, "example.org");
	assert_int_equal(p.r->policies[0].domain_source, TLSRPT_DOMAIN_REPORT_ID);
	assert_true(p.r->notes & TLSRPT_NOTE_DOMAIN_REPORT_ID);
	parsed_release(&p);
	/* nothing to recover it from */
	memcpy(id, "00000000000000000000000000000000", 32);
	assert_null(json_parse(&p, opaque, &h));
	assert_non_null(strstr(p.err.text, "\"policies[0].policy.policy-domain\" "
				"missing and not recoverable"));
	parsed_release(&p);
	free(opaque);
	h.filename = "mta.example.net!shop.example.net!1794182400!1794268799.json.gz";
	assert_non_null(json_parse(&p, j, &h));
	assert_string_equal(p.r->policies[0].domain, "shop.example.net");
	assert_int_equal(p.r->policies[0].domain_source, TLSRPT_DOMAIN_FILENAME);
	assert_true(p.r->notes & TLSRPT_NOTE_DOMAIN_FILENAME);
	parsed_release(&p);
	h.subject_domain = "subject.example";
	assert_non_null(json_parse(&p, j, &h));
	assert_string_equal(p.r->policies[0].domain, "subject.example");
	parsed_release(&p);
	h.report_domain = "Header.Example";
	assert_non_null(json_parse(&p, j, &h));
	assert_string_equal(p.r->policies[0].domain, "header.example");
	assert_true(p.r->notes & TLSRPT_NOTE_DOMAIN_HEADER);
	parsed_release(&p);
	free(j);
}

/* gzip helpers */
static size_t
gzip(const void *in, size_t n, unsigned char *out, size_t cap, int flush_mid)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (flush_mid) {
		z.avail_in = (uInt)(n / 2);
		assert_int_equal(deflate(&z, Z_SYNC_FLUSH), Z_OK);	/* Go style */
		z.avail_in = (uInt)(n - n / 2);
	} else {
		z.avail_in = (uInt)n;
	}
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return cap - z.avail_out;
}

static void
gunzip_variants(void **state)
{
	static const char text[] = "{\"hello\": \"gzip world, gzip world\"}";
	unsigned char gz[512];
	struct buf out;
	struct mxd_err err;
	uint32_t notes = 0;
	size_t n, m;

	(void)state;
	buf_init(&out, 1 << 20);
	/* sync flush inside */
	n = gzip(text, strlen(text), gz, sizeof(gz), 1);
	assert_int_equal(parse_gunzip(gz, n, &out, &notes, &err), MXD_OK);
	assert_string_equal(buf_cstr(&out), text);
	assert_int_equal(notes, 0);
	/* two members */
	m = gzip(text, strlen(text), gz + n, sizeof(gz) - n, 0);
	buf_reset(&out);
	assert_int_equal(parse_gunzip(gz, n + m, &out, &notes, &err), MXD_OK);
	assert_int_equal(out.len, 2 * strlen(text));
	assert_true(notes & TLSRPT_NOTE_GZIP_MULTI);
	/* trailing CRLF (Mimecast) */
	memcpy(gz + n, "\r\n", 2);
	notes = 0;
	buf_reset(&out);
	assert_int_equal(parse_gunzip(gz, n + 2, &out, &notes, &err), MXD_OK);
	assert_true(notes & TLSRPT_NOTE_GZIP_TRAILING);
	/* truncated */
	buf_reset(&out);
	assert_int_equal(parse_gunzip(gz, n - 6, &out, &notes, &err), MXD_E_DECODE);
	assert_non_null(strstr(err.text, "truncated"));
	/* corrupt */
	gz[12] ^= 0xff;
	buf_reset(&out);
	assert_int_equal(parse_gunzip(gz, n, &out, &notes, &err), MXD_E_DECODE);
	buf_release(&out);
}

static void
gunzip_bomb_stops_at_cap(void **state)
{
	unsigned char *zeros = calloc(1, 8 << 20), *gz = malloc(64 << 10);
	struct buf out;
	struct mxd_err err;
	size_t n;

	(void)state;
	n = gzip(zeros, 8 << 20, gz, 64 << 10, 0);	/* 8 MiB of zeros */
	buf_init(&out, 1 << 20);			/* cap 1 MiB */
	assert_int_equal(parse_gunzip(gz, n, &out, NULL, &err), MXD_E_TOOBIG);
	assert_non_null(strstr(err.text, "cap"));
	assert_true(out.cap <= (1 << 20) + 65536 + 1);
	buf_release(&out);
	free(zeros);
	free(gz);
}

/* MIME */
static const char *
b64(const unsigned char *in, size_t n, char *out)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0, col = 0;

	for (i = 0; i < n; i += 3) {
		unsigned v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);

		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
		if ((col += 4) == 76) {
			out[o++] = '\n';
			col = 0;
		}
	}
	out[o] = '\0';
	return out;
}

struct mail {
	char *text;
	struct parse_result res;
	enum mxd_status st;
};

static void
parse_mail(struct mail *m, const char *text)
{
	m->text = strdup(text);
	m->st = parse_message(m->text, strlen(m->text), NULL, &m->res);
}

static void
mail_release(struct mail *m)
{
	parse_result_release(&m->res);
	free(m->text);
}

static char *
report_mail(const char *headers, const char *part_headers, int gz, const char *tail)
{
	char *json = report_with(sts_ok), *mail;
	unsigned char z[4096];
	char enc[8192];
	size_t n = gz ? gzip(json, strlen(json), z, sizeof(z), 0) : strlen(json);

	b64(gz ? z : (unsigned char *)json, n, enc);
	n = strlen(enc) + 4096;
	mail = malloc(n);
	snprintf(mail, n,
		"From: noreply@example.com\n%s"
		"Subject: Report Domain: example.org Submitter: google.com\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; boundary=\"B\"; report-type=tlsrpt\n\n"
		"--B\nContent-Type: text/plain\n\nThis is a report.\n\n"
		"--B\n%sContent-Transfer-Encoding: base64\n\n%s\n%s",
		headers, part_headers, enc, tail);
	free(json);
	return mail;
}

static void
mime_finds_reports(void **state)
{
	struct mail m;
	char *s;

	(void)state;
	s = report_mail("", "Content-Type: application/tlsrpt+gzip;\n\tname=\"x.json.gz\"\n",
			1, "--B--\n");
	parse_mail(&m, s);
	assert_int_equal(m.st, MXD_OK);
	assert_int_equal(m.res.n_parts, 1);
	assert_non_null(m.res.parts[0].report);
	assert_int_equal(m.res.parts[0].report->successful, 100);
	mail_release(&m);
	free(s);
	/* plain JSON inside a +gzip part */
	s = report_mail("", "Content-Type: application/tlsrpt+gzip\n", 0, "--B--\n");
	parse_mail(&m, s);
	assert_non_null(m.res.parts[0].report);
	assert_true(m.res.parts[0].report->notes & TLSRPT_NOTE_NOT_GZIP);
	mail_release(&m);
	free(s);
	/* no closing boundary (mail.ru) */
	s = report_mail("", "Content-Type: application/tlsrpt+gzip\n", 1, "--B\n\n\n");
	parse_mail(&m, s);
	assert_int_equal(m.res.n_parts, 1);
	assert_non_null(m.res.parts[0].report);
	assert_true(m.res.parts[0].report->notes & TLSRPT_NOTE_MIME_UNCLOSED);
	mail_release(&m);
	free(s);
	/* application/octet-stream named by RFC 2231, with continuations */
	s = report_mail("", "Content-Type: application/octet-stream\n"
			"Content-Disposition: attachment;\n"
			" filename*0*=utf-8''google.com%21example.org%21;\n"
			" filename*1=\"1794182400!1794268799!001.json.gz\"\n", 1, "--B--\n");
	parse_mail(&m, s);
	assert_int_equal(m.res.n_parts, 1);
	assert_string_equal(m.res.parts[0].name,
			    "google.com!example.org!1794182400!1794268799!001.json.gz");
	mail_release(&m);
	free(s);
	/* RFC 2047 encoded filename */
	s = report_mail("", "Content-Type: application/gzip\n"
			"Content-Disposition: attachment; filename=\"=?UTF-8?B?"
			"cmVwb3J0Lmpzb24uZ3o=?=\"\n", 1, "--B--\n");
	parse_mail(&m, s);
	assert_string_equal(m.res.parts[0].name, "report.json.gz");
	mail_release(&m);
	free(s);
}

static void
mime_hard_shapes(void **state)
{
	struct mail m;
	char *s, *fwd;

	(void)state;
	/* a TLS-RPT mail whose report part is garbage: quarantined */
	parse_mail(&m, "TLS-Report-Domain: example.org\nContent-Type: multipart/report;"
		   " report-type=tlsrpt; boundary=X\n\n--X\nContent-Type: "
		   "application/tlsrpt+gzip\nContent-Transfer-Encoding: base64\n\n"
		   "H4sIAAAAAAAAA6tWSs7PS8tMBwBhnXvuBwAAAA==\n--X--\n");
	assert_int_equal(m.st, MXD_OK);
	assert_int_equal(m.res.n_parts, 1);
	assert_null(m.res.parts[0].report);
	mail_release(&m);
	/* TLS-RPT headers but no report part at all */
	parse_mail(&m, "TLS-Report-Domain: example.org\nSubject: x\n\nhello\n");
	assert_int_equal(m.res.n_parts, 1);
	assert_string_equal(m.res.parts[0].reason, "TLS-RPT mail without a report part");
	mail_release(&m);
	/* a newsletter is not a report */
	parse_mail(&m, "From: a@b\nSubject: news\nContent-Type: text/plain\n\nHello {x}\n");
	assert_int_equal(m.st, MXD_E_NOTREPORT);
	assert_int_equal(m.res.n_parts, 0);
	mail_release(&m);
	/* a DMARC aggregate report (gzip'd XML) is not ours */
	{
		static const char xml[] = "<?xml version=\"1.0\"?><feedback></feedback>";
		unsigned char z[512];
		char enc[1024], mail[2048];
		size_t n = gzip(xml, strlen(xml), z, sizeof(z), 0);

		snprintf(mail, sizeof(mail), "Subject: Report domain: example.org\n"
			 "Content-Type: multipart/mixed; boundary=Q\n\n--Q\n"
			 "Content-Type: application/gzip; name=\"google.com!example.org!"
			 "1!2.xml.gz\"\nContent-Transfer-Encoding: base64\n\n%s\n--Q--\n",
			 b64(z, n, enc));
		parse_mail(&m, mail);
		assert_int_equal(m.st, MXD_E_NOTREPORT);
		mail_release(&m);
	}
	/* a forwarded report (message/rfc822) */
	s = report_mail("TLS-Report-Domain: example.org\n",
			"Content-Type: application/tlsrpt+gzip\n", 1, "--B--\n");
	fwd = malloc(strlen(s) + 512);
	snprintf(fwd, strlen(s) + 512, "From: admin@example.org\nSubject: Fwd: report\nContent-Type: "
		"multipart/mixed; boundary=F\n\n--F\nContent-Type: text/plain\n\nsee "
		"below\n--F\nContent-Type: message/rfc822\n\n%s\n--F--\n", s);
	parse_mail(&m, fwd);
	assert_int_equal(m.res.n_parts, 1);
	assert_non_null(m.res.parts[0].report);
	mail_release(&m);
	free(fwd);
	free(s);
	/* the report as the top-level body of a non-multipart mail */
	{
		char *json = report_with(sts_ok), enc[8192], *mail;

		b64((unsigned char *)json, strlen(json), enc);
		size_t n = strlen(enc) + 256;

		mail = malloc(n);
		snprintf(mail, n, "Subject: r\nContent-Type: application/tlsrpt+json\n"
			"Content-Transfer-Encoding: base64\n\n%s\n", enc);
		parse_mail(&m, mail);
		assert_int_equal(m.res.n_parts, 1);
		assert_non_null(m.res.parts[0].report);
		mail_release(&m);
		free(mail);
		free(json);
	}
	/* empty input and white space only */
	assert_int_equal(parse_message("", 0, NULL, &m.res), MXD_OK);
	assert_int_equal(m.res.parts[0].status, MXD_E_EMPTY);
	parse_result_release(&m.res);
	assert_int_equal(parse_message(" \n\n", 3, NULL, &m.res), MXD_OK);
	assert_int_equal(m.res.parts[0].status, MXD_E_EMPTY);
	parse_result_release(&m.res);
}

static void
mime_two_reports_in_one_mail(void **state)
{
	char *j1 = report_with(sts_ok), *mail;
	struct mail m;
	char enc1[8192];
	size_t n;

	(void)state;
	b64((unsigned char *)j1, strlen(j1), enc1);
	n = 2 * strlen(enc1) + 1024;
	mail = malloc(n);
	snprintf(mail, n, "Content-Type: multipart/report; report-type=tlsrpt; boundary=B\n\n"
		"--B\nContent-Type: application/tlsrpt+json\nContent-Transfer-Encoding: "
		"base64\n\n%s\n--B\nContent-Type: application/tlsrpt+json\n\n"
		"{\"broken\":\n--B--\n", enc1);
	parse_mail(&m, mail);
	assert_int_equal(m.res.n_parts, 2);
	assert_non_null(m.res.parts[0].report);
	assert_null(m.res.parts[1].report);
	assert_int_equal(m.res.parts[1].index, 1);
	assert_int_equal(m.res.n_failed, 1);
	mail_release(&m);
	free(mail);
	free(j1);
}

/* Counting rules (docs/COUNTING.md). */
static void
count_sts_and_tlsa_are_the_same_sessions(void **state)
{
	struct parsed p;
	char *j;

	(void)state;
	/* Microsoft: sts and tlsa for one domain, the same failure under both */
	j = report_with(
		"[{\"policy\":{\"policy-type\":\"tlsa\",\"policy-domain\":\"example.org\"},"
		"\"summary\":{\"total-successful-session-count\":90,"
		"\"total-failure-session-count\":10},\"failure-details\":[{"
		"\"result-type\":\"certificate-expired\",\"sending-mta-ip\":\"192.0.2.1\","
		"\"receiving-mx-hostname\":\"mx2.example.org\",\"receiving-ip\":"
		"\"198.51.100.2\",\"failed-session-count\":10}]},"
		"{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"example.org\"},"
		"\"summary\":{\"total-successful-session-count\":88,"
		"\"total-failure-session-count\":12},\"failure-details\":[{"
		"\"result-type\":\"certificate-expired\",\"sending-mta-ip\":\"192.0.2.1\","
		"\"receiving-mx-hostname\":\"mx2.example.org\",\"receiving-ip\":"
		"\"198.51.100.2\",\"failed-session-count\":12},{\"result-type\":"
		"\"starttls-not-supported\",\"receiving-mx-hostname\":\"mx3.example.org\","
		"\"failed-session-count\":1}]}]");
	assert_non_null(json_parse(&p, j, NULL));
	assert_int_equal(p.r->n_domains, 1);
	assert_string_equal(p.r->domains[0].types, "sts+tlsa");
	/* sessions: max(100, 100) = 100; failed: max(10, 12) = 12 */
	assert_int_equal(p.r->domains[0].failed, 12);
	assert_int_equal(p.r->domains[0].successful, 88);
	/* the repeated detail counts once, at its larger count */
	assert_int_equal(p.r->n_fails, 2);
	assert_string_equal(p.r->fails[0].result_type, "certificate-expired");
	assert_int_equal(p.r->fails[0].count, 12);
	assert_int_equal(p.r->fails[1].count, 1);
	assert_null(p.r->fails[1].sending_ip);
	parsed_release(&p);
	free(j);
}

static void
count_same_type_adds_up(void **state)
{
	struct parsed p;
	char *j;

	(void)state;
	/* Google 2020: two sts policies for one domain (policy changed) plus a
	 * no-policy-found for another, and a tlsa for the first */
	j = report_with(
		"[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"a.example\"},"
		"\"summary\":{\"total-successful-session-count\":10,"
		"\"total-failure-session-count\":2},\"failure-details\":[{"
		"\"result-type\":\"validation-failure\",\"receiving-ip\":\"192.0.2.9\","
		"\"failed-session-count\":2}]},"
		"{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":\"a.example\"},"
		"\"summary\":{\"total-successful-session-count\":20,"
		"\"total-failure-session-count\":3},\"failure-details\":[{"
		"\"result-type\":\"validation-failure\",\"receiving-ip\":\"192.0.2.9\","
		"\"failed-session-count\":3}]},"
		"{\"policy\":{\"policy-type\":\"tlsa\",\"policy-domain\":\"a.example\"},"
		"\"summary\":{\"total-successful-session-count\":31,"
		"\"total-failure-session-count\":4},\"failure-details\":[{"
		"\"result-type\":\"validation-failure\",\"receiving-ip\":\"192.0.2.9\","
		"\"failed-session-count\":4}]},"
		"{\"policy\":{\"policy-type\":\"no-policy-found\",\"policy-domain\":"
		"\"b.example\"},\"summary\":{\"total-successful-session-count\":7,"
		"\"total-failure-session-count\":0}}]");
	assert_non_null(json_parse(&p, j, NULL));
	assert_int_equal(p.r->n_domains, 2);
	/* a.example: sts adds up to 30+5=35 sessions, tlsa 35: max 35;
	 * failed max(5, 4) = 5 */
	assert_string_equal(p.r->domains[0].domain, "a.example");
	assert_int_equal(p.r->domains[0].failed, 5);
	assert_int_equal(p.r->domains[0].successful, 30);
	assert_string_equal(p.r->domains[1].domain, "b.example");
	assert_int_equal(p.r->domains[1].successful, 7);
	assert_int_equal(p.r->successful, 37);
	assert_int_equal(p.r->failed, 5);
	/* the detail: sts 2+3 = 5, tlsa 4: once, at 5 */
	assert_int_equal(p.r->n_fails, 1);
	assert_int_equal(p.r->fails[0].count, 5);
	parsed_release(&p);
	free(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_valid_report),
		cmocka_unit_test(json_errors_name_the_path),
		cmocka_unit_test(json_counts),
		cmocka_unit_test(json_mx_host_shapes),
		cmocka_unit_test(json_policy_strings),
		cmocka_unit_test(json_tolerances),
		cmocka_unit_test(json_domain_recovery),
		cmocka_unit_test(gunzip_variants),
		cmocka_unit_test(gunzip_bomb_stops_at_cap),
		cmocka_unit_test(mime_finds_reports),
		cmocka_unit_test(mime_hard_shapes),
		cmocka_unit_test(mime_two_reports_in_one_mail),
		cmocka_unit_test(count_sts_and_tlsa_are_the_same_sessions),
		cmocka_unit_test(count_same_type_adds_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
