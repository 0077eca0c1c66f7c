/*
 * Unit tests of check/record: the TLS-RPT record (RFC 8460 §3), the MTA-STS
 * TXT record and policy (RFC 8461 §3.1, §3.2), MX patterns (§4.1).  A table
 * of inputs, each with the return and one problem code expected (or none at
 * all); every problem text of every input is checked to be clean one-line
 * UTF-8.  Then the fields read, hostile bytes, and the caps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "check/record.h"
#include "util/utf8.h"

static const char *const all_codes[] = {
	REC_TLSRPT_SYNTAX, REC_TLSRPT_RUA_MISSING, REC_TLSRPT_RUA_EMPTY,
	REC_TLSRPT_RUA_DUPLICATE, REC_TLSRPT_RUA_SCHEME, REC_TLSRPT_RUA_URI,
	REC_TLSRPT_MAILTO_ADDRESS, REC_TLSRPT_EXTENSION, REC_STS_TXT_SYNTAX,
	REC_STS_TXT_ID, REC_STS_POLICY_SYNTAX, REC_STS_POLICY_VERSION,
	REC_STS_POLICY_MODE, REC_STS_POLICY_MAX_AGE, REC_STS_POLICY_MX,
	REC_STS_POLICY_LINE_ENDS, REC_STS_POLICY_DUPLICATE,
};

/* Every text: kept codes, levels, valid UTF-8, no control byte, bounded. */
static void
check_texts(const struct rec_problems *pr, const char *input)
{
	size_t i, k, n;
	int known;

	assert_true(pr->n <= REC_PROBLEMS_MAX);
	for (i = 0; i < pr->n; i++) {
		const struct rec_problem *p = &pr->v[i];

		known = 0;
		for (k = 0; k < sizeof(all_codes) / sizeof(all_codes[0]); k++)
			known |= strcmp(p->code, all_codes[k]) == 0;
		if (!known || (p->level != REC_WARNING && p->level != REC_ERROR))
			fail_msg("input \"%s\": code \"%s\" level %d", input,
				 p->code, (int)p->level);
		n = strnlen(p->text, sizeof(p->text));
		assert_true(n > 0 && n < sizeof(p->text));
		assert_int_equal(utf8_check(p->text, n), n);
		assert_false(utf8_has_controls(p->text, n));
		for (k = 0; k < n; k++)
			assert_true((unsigned char)p->text[k] >= 0x20);
	}
}

enum what { TLSRPT, STSTXT, POLICY };

struct row {
	enum what what;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	int ret;
	const char *code;	/* expected; NULL: no problem at all */
	int level;		/* of code; 0: code must not be there */
};

#define B(s) s, sizeof(s) - 1

static const struct row rows[] = {
	/* TLS-RPT: good records */
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:tlsrpt@example.com", 0, 0, NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1;rua=mailto:reports@example.com", 0, 0, NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=https://reporting.example.com/v1/tlsrpt", 0,
	  0, NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com , https://r.example.net/x",
	  0, 0, NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com\t,\tmailto:b@example.org",
	  0, 0, NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=https://r.example.com:8443/tlsrpt;", 0, 0,
	  NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; ", 0, 0, NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:tlsrpt@example.com; ext1=val_1; "
		  "x.y-z=a:b/c", 0, 0, NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=MAILTO:Tlsrpt@Example.COM", 0, 0, NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:%22a%2Cb%22@example.com", 0, 0, NULL,
	  0 },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:first.last+tag@example.com", 0, 0,
	  NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=https://[2001:db8::1]/r", 0, 0, NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com?subject=tlsrpt", 0, 0,
	  NULL, 0 },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; "
		  "a234567890123456789012345678901b=1", 0, 0, NULL, 0 },
	/* tlsrpt.syntax */
	{ TLSRPT, "rua=mailto:a@example.com; v=TLSRPTv1", 0, -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, "v=tlsrptv1; rua=mailto:a@example.com", 0, -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, " v=TLSRPTv1; rua=mailto:a@example.com", 0, -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1 ; rua=mailto:a@example.com", 0, -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1, rua=mailto:a@example.com", 0, -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv2; rua=mailto:a@example.com", 0, -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua = mailto:a@example.com", 0, -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; junk; rua=mailto:a@example.com", 0, -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; =x; rua=mailto:a@example.com", 0, -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1;; rua=mailto:a@example.com", 0, 0,
	  REC_TLSRPT_SYNTAX, REC_WARNING },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com ", 0, 0,
	  REC_TLSRPT_SYNTAX, REC_WARNING },
	{ TLSRPT, "", 0, -1, REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com", 0, 0,
	  REC_TLSRPT_SYNTAX, 0 },
	/* tlsrpt.rua-missing */
	{ TLSRPT, "v=TLSRPTv1", 0, -1, REC_TLSRPT_RUA_MISSING, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1;", 0, -1, REC_TLSRPT_RUA_MISSING, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; RUA=mailto:a@example.com", 0, -1,
	  REC_TLSRPT_RUA_MISSING, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; ruf=mailto:a@example.com", 0, -1,
	  REC_TLSRPT_RUA_MISSING, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com", 0, 0,
	  REC_TLSRPT_RUA_MISSING, 0 },
	/* tlsrpt.rua-empty */
	{ TLSRPT, "v=TLSRPTv1; rua=", 0, -1, REC_TLSRPT_RUA_EMPTY, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=;", 0, -1, REC_TLSRPT_RUA_EMPTY, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com", 0, 0,
	  REC_TLSRPT_RUA_EMPTY, 0 },
	/* tlsrpt.rua-duplicate */
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com",
	  0, 0, REC_TLSRPT_RUA_DUPLICATE, REC_WARNING },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com,mailto:b@example.com", 0,
	  0, REC_TLSRPT_RUA_DUPLICATE, 0 },
	/* tlsrpt.rua-scheme */
	{ TLSRPT, "v=TLSRPTv1; rua=ftp://example.com/r", 0, -1,
	  REC_TLSRPT_RUA_SCHEME, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=http://example.com/r", 0, -1,
	  REC_TLSRPT_RUA_SCHEME, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=ftp://x.example/r,mailto:a@example.com", 0, 0,
	  REC_TLSRPT_RUA_SCHEME, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=https://example.com/r", 0, 0,
	  REC_TLSRPT_RUA_SCHEME, 0 },
	/* tlsrpt.rua-uri */
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a,b@example.com", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com,b@example.com", 0, 0,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a!b@example.com", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a;b@example.com", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=tlsrpt@example.com", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=https://exa mple.com/", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=https://example.com:99999/", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=https://example.com:0/", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=https:example.com", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=https://ex_ample.com/", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=https://[2001:db8::zz]/", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a%zz@example.com", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a%2@example.com", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com%", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com,,mailto:b@example.com", 0,
	  0, REC_TLSRPT_RUA_URI, REC_WARNING },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com,", 0, 0,
	  REC_TLSRPT_RUA_URI, REC_WARNING },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a%21b@example.com", 0, 0,
	  REC_TLSRPT_RUA_URI, 0 },
	/* tlsrpt.mailto-address */
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a%2Cb@example.com", 0, 0,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_WARNING },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:example.com", 0, -1,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@exa_mple.com", 0, -1,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@", 0, -1, REC_TLSRPT_MAILTO_ADDRESS,
	  REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:@example.com", 0, -1,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:", 0, -1, REC_TLSRPT_MAILTO_ADDRESS,
	  REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a%00b@example.com", 0, -1,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a%FFb@example.com", 0, -1,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@[192.0.2.1]", 0, -1,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@b@example.com", 0, -1,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:%22ab@example.com", 0, -1,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a..b@example.com", 0, 0,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_WARNING },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com.", 0, 0,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_WARNING },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:%C3%A9@example.com", 0, 0,
	  REC_TLSRPT_MAILTO_ADDRESS, REC_WARNING },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:"
		  "a2345678901234567890123456789012345678901234567890123456789012345"
		  "@example.com", 0, 0, REC_TLSRPT_MAILTO_ADDRESS, REC_WARNING },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com", 0, 0,
	  REC_TLSRPT_MAILTO_ADDRESS, 0 },
	/* tlsrpt.extension */
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; x=a=b", 0, -1,
	  REC_TLSRPT_EXTENSION, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; _x=1", 0, -1,
	  REC_TLSRPT_EXTENSION, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; x!=1", 0, -1,
	  REC_TLSRPT_EXTENSION, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; x=", 0, -1,
	  REC_TLSRPT_EXTENSION, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; x=a b", 0, -1,
	  REC_TLSRPT_EXTENSION, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; "
		  "a234567890123456789012345678901bc=1", 0, -1,
	  REC_TLSRPT_EXTENSION, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; x=\x1b[31m", 0, -1,
	  REC_TLSRPT_EXTENSION, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com; x=1", 0, 0,
	  REC_TLSRPT_EXTENSION, 0 },
	/* hostile bytes */
	{ TLSRPT, B("v=TLSRPTv1; rua=mailto:a@exa\0mple.com"), -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, B("v=TLSRPTv1\0; rua=mailto:a@example.com"), -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:\xff@example.com", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "v=TLSRPTv1; rua=mailto:a@example.com\r\n", 0, -1,
	  REC_TLSRPT_RUA_URI, REC_ERROR },
	{ TLSRPT, "\x1b]0;owned\x07v=TLSRPTv1; rua=mailto:a@example.com", 0, -1,
	  REC_TLSRPT_SYNTAX, REC_ERROR },

	/* MTA-STS TXT */
	{ STSTXT, "v=STSv1; id=20160831085700Z;", 0, 0, NULL, 0 },
	{ STSTXT, "v=STSv1; id=abc", 0, 0, NULL, 0 },
	{ STSTXT, "v=STSv1;id=1;ext=x", 0, 0, NULL, 0 },
	{ STSTXT, "v=STSv1; id=12345678901234567890123456789012", 0, 0, NULL, 0 },
	{ STSTXT, "id=123; v=STSv1", 0, -1, REC_STS_TXT_SYNTAX, REC_ERROR },
	{ STSTXT, "v=stsv1; id=1", 0, -1, REC_STS_TXT_SYNTAX, REC_ERROR },
	{ STSTXT, "v=STSv1 ; id=1", 0, -1, REC_STS_TXT_SYNTAX, REC_ERROR },
	{ STSTXT, "v=STSv1; id = 1", 0, -1, REC_STS_TXT_SYNTAX, REC_ERROR },
	{ STSTXT, "v=STSv1; id=1; x=a b", 0, -1, REC_STS_TXT_SYNTAX, REC_ERROR },
	{ STSTXT, "v=STSv1; id=1; junk", 0, -1, REC_STS_TXT_SYNTAX, REC_ERROR },
	{ STSTXT, "v=STSv1; id=1; x=\xc3\xa9", 0, -1, REC_STS_TXT_SYNTAX,
	  REC_ERROR },
	{ STSTXT, B("v=STSv1; id=1\0"), -1, REC_STS_TXT_ID, REC_ERROR },
	{ STSTXT, "v=STSv1; id=1;; ", 0, 0, REC_STS_TXT_SYNTAX, REC_WARNING },
	{ STSTXT, "v=STSv1; id=1", 0, 0, REC_STS_TXT_SYNTAX, 0 },
	{ STSTXT, "v=STSv1", 0, -1, REC_STS_TXT_ID, REC_ERROR },
	{ STSTXT, "v=STSv1;", 0, -1, REC_STS_TXT_ID, REC_ERROR },
	{ STSTXT, "v=STSv1; id=", 0, -1, REC_STS_TXT_ID, REC_ERROR },
	{ STSTXT, "v=STSv1; id=2024-01-01", 0, -1, REC_STS_TXT_ID, REC_ERROR },
	{ STSTXT, "v=STSv1; id=123456789012345678901234567890123", 0, -1,
	  REC_STS_TXT_ID, REC_ERROR },
	{ STSTXT, "v=STSv1; ID=1", 0, -1, REC_STS_TXT_ID, REC_ERROR },
	{ STSTXT, "v=STSv1; id=1; id=2", 0, 0, REC_STS_TXT_ID, REC_WARNING },
	{ STSTXT, "v=STSv1; id=1", 0, 0, REC_STS_TXT_ID, 0 },

	/* policy: good */
	{ POLICY, "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
		  "mx: *.example.net\r\nmx: backupmx.example.com\r\n"
		  "max_age: 604800\r\n", 0, 0, NULL, 0 },
	{ POLICY, "version: STSv1\nmode: testing\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, 0, NULL, 0 },
	{ POLICY, "version: STSv1\nmode: testing\nmx: mx.example.com\n"
		  "max_age: 86400", 0, 0, NULL, 0 },
	{ POLICY, "version:STSv1\nmode:testing\nmx:mx.example.com\nmax_age:86400",
	  0, 0, NULL, 0 },
	{ POLICY, "version: STSv1  \nmode:\tenforce\t\nmx: mx.example.com \n"
		  "max_age: 86400\n", 0, 0, NULL, 0 },
	{ POLICY, "max_age: 604800\nmx: mx.example.com\nmode: enforce\n"
		  "version: STSv1\n", 0, 0, NULL, 0 },
	{ POLICY, "version: STSv1\nmode: none\nmax_age: 86400\n", 0, 0, NULL, 0 },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\nx-note: made by hand, \xc3\xa9t\xc3\xa9\n", 0, 0,
	  NULL, 0 },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: xn--bcher-kva.example\n"
		  "max_age: 86400\n", 0, 0, NULL, 0 },
	/* sts.policy-syntax */
	{ POLICY, "version: STSv1\nmode enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_SYNTAX, REC_ERROR },
	{ POLICY, "version: STSv1\n mode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_SYNTAX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode : enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_SYNTAX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\rmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_SYNTAX, REC_ERROR },
	{ POLICY, B("version: STSv1\nmode: enforce\0\nmx: mx.example.com\n"
		    "max_age: 86400\n"), -1, REC_STS_POLICY_SYNTAX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\nnote: \xc3\x28\n", 0, -1, REC_STS_POLICY_SYNTAX,
	  REC_ERROR },
	{ POLICY, "\xef\xbb\xbfversion: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_SYNTAX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\nnote:\n", 0, -1, REC_STS_POLICY_SYNTAX,
	  REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n_x: 1\n", 0, -1, REC_STS_POLICY_SYNTAX,
	  REC_ERROR },
	{ POLICY, "", 0, -1, REC_STS_POLICY_SYNTAX, REC_ERROR },
	{ POLICY, "version: STSv1\n\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, 0, REC_STS_POLICY_SYNTAX, REC_WARNING },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n\n", 0, 0, REC_STS_POLICY_SYNTAX, REC_WARNING },
	/* sts.policy-version */
	{ POLICY, "mode: enforce\nmx: mx.example.com\nmax_age: 86400\n", 0, -1,
	  REC_STS_POLICY_VERSION, REC_ERROR },
	{ POLICY, "version: STSv2\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_VERSION, REC_ERROR },
	{ POLICY, "version: stsv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_VERSION, REC_ERROR },
	{ POLICY, "Version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_VERSION, REC_ERROR },
	{ POLICY, "mode: enforce\nversion: STSv1\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, 0, REC_STS_POLICY_VERSION, 0 },
	/* sts.policy-mode */
	{ POLICY, "version: STSv1\nmx: mx.example.com\nmax_age: 86400\n", 0, -1,
	  REC_STS_POLICY_MODE, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforcing\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_MODE, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: Enforce\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_MODE, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: report\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_MODE, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: testing\nmx: mx.example.com\n"
		  "max_age: 86400\n", 0, 0, REC_STS_POLICY_MODE, 0 },
	/* sts.policy-max-age */
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n", 0, -1,
	  REC_STS_POLICY_MAX_AGE, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 1w\n", 0, -1, REC_STS_POLICY_MAX_AGE, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: -1\n", 0, -1, REC_STS_POLICY_MAX_AGE, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 12345678901\n", 0, -1, REC_STS_POLICY_MAX_AGE,
	  REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 31557601\n", 0, -1, REC_STS_POLICY_MAX_AGE, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 3600\n", 0, 0, REC_STS_POLICY_MAX_AGE, REC_WARNING },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 31557600\n", 0, 0, REC_STS_POLICY_MAX_AGE, 0 },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 0000086400\n", 0, 0, REC_STS_POLICY_MAX_AGE, 0 },
	/* sts.policy-mx */
	{ POLICY, "version: STSv1\nmode: enforce\nmax_age: 86400\n", 0, -1,
	  REC_STS_POLICY_MX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: testing\nmax_age: 86400\n", 0, -1,
	  REC_STS_POLICY_MX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx*.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_MX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: *.*.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_MX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: *\nmax_age: 86400\n", 0, -1,
	  REC_STS_POLICY_MX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mail_1.example.com\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_MX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: b\xc3\xbc" "cher.example\n"
		  "max_age: 86400\n", 0, -1, REC_STS_POLICY_MX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx:\nmax_age: 86400\n", 0, -1,
	  REC_STS_POLICY_MX, REC_ERROR },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mail.example.com.\n"
		  "max_age: 86400\n", 0, 0, REC_STS_POLICY_MX, REC_WARNING },
	{ POLICY, "version: STSv1\nmode: none\nmax_age: 86400\n", 0, 0,
	  REC_STS_POLICY_MX, 0 },
	/* sts.policy-line-ends */
	{ POLICY, "version: STSv1\r\nmode: enforce\nmx: mx.example.com\r\n"
		  "max_age: 86400\r\n", 0, 0, REC_STS_POLICY_LINE_ENDS,
	  REC_WARNING },
	{ POLICY, "version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\n"
		  "max_age: 86400", 0, 0, REC_STS_POLICY_LINE_ENDS, 0 },
	/* sts.policy-duplicate */
	{ POLICY, "version: STSv1\nmode: enforce\nmode: testing\n"
		  "mx: mx.example.com\nmax_age: 86400\n", 0, 0,
	  REC_STS_POLICY_DUPLICATE, REC_WARNING },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: mx.example.com\n"
		  "max_age: 86400\nmax_age: 60\n", 0, 0, REC_STS_POLICY_DUPLICATE,
	  REC_WARNING },
	{ POLICY, "version: STSv1\nmode: enforce\nmx: a.example.com\n"
		  "mx: b.example.com\nmax_age: 86400\n", 0, 0,
	  REC_STS_POLICY_DUPLICATE, 0 },
};

static int
run(const struct row *r, struct rec_problems *pr)
{
	size_t len = r->len ? r->len : strlen(r->in);
	struct tlsrpt_record t;
	struct sts_txt s;
	struct sts_policy p;
	int ret = 0;

	switch (r->what) {
	case TLSRPT:
		ret = tlsrpt_record_parse(r->in, len, &t, pr);
		tlsrpt_record_release(&t);
		break;
	case STSTXT:
		ret = sts_txt_parse(r->in, len, &s, pr);
		sts_txt_release(&s);
		break;
	case POLICY:
		ret = sts_policy_parse(r->in, len, &p, pr);
		sts_policy_release(&p);
		break;
	}
	return ret;
}

static void
dump(const char *in, const struct rec_problems *pr)
{
	size_t i;

	print_message("input: \"%s\"\n", in);
	for (i = 0; i < pr->n; i++)
		print_message("  %s %s: %s\n", rec_level_name(pr->v[i].level),
			      pr->v[i].code, pr->v[i].text);
}

static void
table(void **state)
{
	const struct rec_problem *p;
	struct rec_problems pr;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		rec_problems_init(&pr);
		ret = run(r, &pr);
		check_texts(&pr, r->in);
		p = r->code ? rec_problems_find(&pr, r->code) : NULL;
		if (ret != r->ret || (!r->code && pr.n) ||
		    (r->code && r->level && (!p || (int)p->level != r->level)) ||
		    (r->code && !r->level && p)) {
			dump(r->in, &pr);
			fail_msg("row %zu: returned %d, wanted %d and %s %s", i,
				 ret, r->ret, r->level ? rec_level_name(
				 (enum rec_level)r->level) : "no",
				 r->code ? r->code : "problem");
		}
		rec_problems_release(&pr);
	}
}

static void
candidates(void **state)
{
	(void)state;
	assert_true(tlsrpt_txt_candidate(B("v=TLSRPTv1;")));
	assert_true(tlsrpt_txt_candidate(B("v=TLSRPTv1;rua=mailto:a@b.example")));
	assert_false(tlsrpt_txt_candidate(B("v=TLSRPTv1")));
	assert_false(tlsrpt_txt_candidate(B("v=TLSRPTv1 ;rua=x")));
	assert_false(tlsrpt_txt_candidate(B("v=tlsrptv1;rua=x")));
	assert_false(tlsrpt_txt_candidate(B(" v=TLSRPTv1;rua=x")));
	assert_false(tlsrpt_txt_candidate(B("rua=x; v=TLSRPTv1;")));
	assert_false(tlsrpt_txt_candidate(B("v=spf1 -all")));
	assert_false(tlsrpt_txt_candidate(NULL, 0));
	/* never past the length: the ";" is outside it */
	assert_false(tlsrpt_txt_candidate("v=TLSRPTv1;", 10));
	assert_true(sts_txt_candidate(B("v=STSv1; id=1")));
	assert_false(sts_txt_candidate(B("v=STSv1 ; id=1")));
	assert_false(sts_txt_candidate(B("v=stsv1; id=1")));
	assert_false(sts_txt_candidate(B("v=STSv1")));
	assert_false(sts_txt_candidate("v=STSv1;", 7));
}

static void
tlsrpt_fields(void **state)
{
	struct rec_problems pr;
	struct tlsrpt_record r;
	const char *rec = "v=TLSRPTv1; rua=mailto:TLSRPT@Example.COM, "
			  "https://R.Example.com:8443/x?y=1#z; ext1=v; b-2=w";

	(void)state;
	rec_problems_init(&pr);
	assert_int_equal(tlsrpt_record_parse(rec, strlen(rec), &r, &pr), 0);
	assert_int_equal(pr.n, 0);
	assert_int_equal(r.n_rua, 2);
	assert_int_equal(r.rua[0].kind, RUA_MAILTO);
	assert_true(r.rua[0].usable);
	assert_string_equal(r.rua[0].uri, "mailto:TLSRPT@Example.COM");
	assert_string_equal(r.rua[0].address, "TLSRPT@Example.COM");
	assert_string_equal(r.rua[0].host, "example.com");
	assert_int_equal(r.rua[0].port, 0);
	assert_int_equal(r.rua[1].kind, RUA_HTTPS);
	assert_true(r.rua[1].usable);
	assert_string_equal(r.rua[1].uri, "https://R.Example.com:8443/x?y=1#z");
	assert_null(r.rua[1].address);
	assert_string_equal(r.rua[1].host, "r.example.com");
	assert_int_equal(r.rua[1].port, 8443);
	assert_int_equal(r.n_ext, 2);
	assert_string_equal(r.ext[0], "ext1");
	assert_string_equal(r.ext[1], "b-2");
	tlsrpt_record_release(&r);
	assert_int_equal(r.n_rua, 0);
	tlsrpt_record_release(&r);	/* twice is fine */

	/* the default port, an IPv6 host, an empty port */
	rec = "v=TLSRPTv1; rua=https://r.example.com/,https://[2001:DB8::1]:/r";
	assert_int_equal(tlsrpt_record_parse(rec, strlen(rec), &r, &pr), 0);
	assert_int_equal(r.n_rua, 2);
	assert_int_equal(r.rua[0].port, 443);
	assert_string_equal(r.rua[1].host, "2001:db8::1");
	assert_int_equal(r.rua[1].port, 443);
	tlsrpt_record_release(&r);

	/* a percent-encoded comma is part of the address */
	rec = "v=TLSRPTv1; rua=mailto:a%2Cb@example.com";
	assert_int_equal(tlsrpt_record_parse(rec, strlen(rec), &r, &pr), 0);
	assert_int_equal(r.n_rua, 1);
	assert_string_equal(r.rua[0].address, "a,b@example.com");
	assert_true(r.rua[0].usable);
	tlsrpt_record_release(&r);
	rec_problems_release(&pr);

	/* an unencoded one splits the URI in two, neither usable */
	rec = "v=TLSRPTv1; rua=mailto:a,b@example.com";
	assert_int_equal(tlsrpt_record_parse(rec, strlen(rec), &r, &pr), -1);
	assert_int_equal(r.n_rua, 2);
	assert_false(r.rua[0].usable);
	assert_false(r.rua[1].usable);
	assert_int_equal(r.rua[1].kind, RUA_OTHER);
	assert_non_null(strstr(rec_problems_find(&pr, REC_TLSRPT_RUA_URI)->text,
			       "%2C"));
	tlsrpt_record_release(&r);
	rec_problems_release(&pr);

	/* one bad URI of two: the record still works, the URI does not */
	rec = "v=TLSRPTv1; rua=ftp://x.example/r , mailto:a@example.com; "
	      "rua=https://r.example.com/";
	assert_int_equal(tlsrpt_record_parse(rec, strlen(rec), &r, &pr), 0);
	assert_int_equal(r.n_rua, 3);
	assert_int_equal(r.rua[0].kind, RUA_OTHER);
	assert_false(r.rua[0].usable);
	assert_true(r.rua[1].usable);
	assert_true(r.rua[2].usable);
	assert_int_equal(pr.worst, REC_ERROR);
	assert_non_null(rec_problems_find(&pr, REC_TLSRPT_RUA_DUPLICATE));
	tlsrpt_record_release(&r);
	rec_problems_release(&pr);

	/* what the text says */
	rec = "v=TLSRPTv1, rua=mailto:a@example.com";
	assert_int_equal(tlsrpt_record_parse(rec, strlen(rec), &r, &pr), -1);
	assert_string_equal(pr.v[0].text, "after \"v=TLSRPTv1\": expected \";\", "
			    "found \",\"");
	tlsrpt_record_release(&r);
	rec_problems_release(&pr);
	rec = "v=TLSRPTv1; Rua=mailto:a@example.com";
	assert_int_equal(tlsrpt_record_parse(rec, strlen(rec), &r, &pr), -1);
	assert_non_null(strstr(rec_problems_find(&pr,
			       REC_TLSRPT_RUA_MISSING)->text, "case-sensitive"));
	tlsrpt_record_release(&r);
	rec_problems_release(&pr);
}

static void
sts_txt_fields(void **state)
{
	struct rec_problems pr;
	struct sts_txt t;
	const char *rec = "v=STSv1; id=20160831085700Z; foo=bar;";

	(void)state;
	rec_problems_init(&pr);
	assert_int_equal(sts_txt_parse(rec, strlen(rec), &t, &pr), 0);
	assert_string_equal(t.id, "20160831085700Z");
	assert_int_equal(t.n_ext, 1);
	assert_string_equal(t.ext[0], "foo");
	sts_txt_release(&t);
	/* RFC 8461 §3.2: of a repeated field, the first counts */
	rec = "v=STSv1; id=first; id=second";
	assert_int_equal(sts_txt_parse(rec, strlen(rec), &t, &pr), 0);
	assert_string_equal(t.id, "first");
	sts_txt_release(&t);
	rec = "v=STSv1; id=2024-01-01";
	assert_int_equal(sts_txt_parse(rec, strlen(rec), &t, &pr), -1);
	assert_string_equal(t.id, "");
	sts_txt_release(&t);
	rec_problems_release(&pr);
}

static void
policy_fields(void **state)
{
	struct rec_problems pr;
	struct sts_policy p;
	const char *body = "version: STSv1\r\nmode: enforce\r\n"
			   "mx: mail.example.com\r\nmx: *.example.net\r\n"
			   "mx: backupmx.example.com\r\nmax_age: 604800\r\n"
			   "x-extra: hello world\r\n";

	(void)state;
	rec_problems_init(&pr);
	assert_int_equal(sts_policy_parse(body, strlen(body), &p, &pr), 0);
	assert_int_equal(pr.n, 0);
	assert_true(p.version_ok);
	assert_int_equal(p.mode, STS_MODE_ENFORCE);
	assert_int_equal(p.max_age, 604800);
	assert_int_equal(p.n_mx, 3);
	assert_string_equal(p.mx[0], "mail.example.com");
	assert_string_equal(p.mx[1], "*.example.net");
	assert_string_equal(p.mx[2], "backupmx.example.com");
	assert_int_equal(p.n_ext, 1);
	assert_string_equal(p.ext[0], "x-extra");
	assert_int_equal(p.line_ends, STS_LINES_CRLF);
	sts_policy_release(&p);

	body = "version: STSv1\nmode: testing\nmode: enforce\nmax_age: 1w\n";
	assert_int_equal(sts_policy_parse(body, strlen(body), &p, &pr), -1);
	assert_int_equal(p.mode, STS_MODE_TESTING);	/* the first */
	assert_int_equal(p.max_age, -1);
	assert_int_equal(p.line_ends, STS_LINES_LF);
	assert_non_null(strstr(rec_problems_find(&pr,
			       REC_STS_POLICY_DUPLICATE)->text, "\"testing\""));
	sts_policy_release(&p);
	rec_problems_release(&pr);

	/* the line number is in the text */
	body = "version: STSv1\nmode: enforce\nmx mx.example.com\nmax_age: 86400\n";
	assert_int_equal(sts_policy_parse(body, strlen(body), &p, &pr), -1);
	assert_non_null(strstr(pr.v[0].text, "line 3"));
	sts_policy_release(&p);
	rec_problems_release(&pr);

	body = "version: STSv1\nMode: enforce\nmx: mx.example.com\nmax_age: 86400";
	assert_int_equal(sts_policy_parse(body, strlen(body), &p, &pr), -1);
	assert_non_null(strstr(rec_problems_find(&pr, REC_STS_POLICY_MODE)->text,
			       "\"Mode\" is not \"mode\""));
	sts_policy_release(&p);
	rec_problems_release(&pr);

	assert_string_equal(sts_mode_name(STS_MODE_TESTING), "testing");
	assert_string_equal(sts_mode_name(STS_MODE_UNKNOWN), "unknown");
}

/* Lines as reports carry them (RFC 8460 §4.5, corpus: Google with CR). */
static void
policy_lines(void **state)
{
	static const char *const google_cr[] = {
		"version: STSv1\r", "mode: enforce\r", "max_age: 2419200\r",
		"mx: digilicious.com\r",
	};
	static const char *const rfc_sample[] = {
		"version: STSv1", "mode: testing", "mx: mx1.example.com",
		"mx: mx2.example.com", "mx: mx.backup-example.com",
		"max_age: 604800",
	};
	static const char *const no_space[] = {
		"version:STSv1", "mode:enforce", "mx:mx.example.com",
		"max_age:86401",
	};
	static const char *const joined[] = { "version: STSv1\nmode: enforce",
					"mx: mx.example.com", "max_age: 86400" };
	static const char *const with_null[] = { "version: STSv1", NULL };
	const char *body = "version: STSv1\r\nmode: testing\r\n"
			   "mx: MX2.example.com.\r\nmx: mx1.example.com\r\n"
			   "mx: mx.backup-example.com\r\nmax_age: 604800\r\n";
	struct rec_problems pr;
	struct sts_policy a, b;

	(void)state;
	rec_problems_init(&pr);
	assert_int_equal(sts_policy_parse_lines(google_cr, 4, &a, &pr), 0);
	assert_int_equal(pr.n, 0);
	assert_int_equal(a.line_ends, STS_LINES_CRLF);
	assert_int_equal(a.mode, STS_MODE_ENFORCE);
	assert_int_equal(a.max_age, 2419200);
	assert_int_equal(a.n_mx, 1);
	assert_string_equal(a.mx[0], "digilicious.com");
	sts_policy_release(&a);

	assert_int_equal(sts_policy_parse_lines(rfc_sample, 6, &a, &pr), 0);
	assert_int_equal(a.line_ends, 0);
	assert_int_equal(a.n_mx, 3);
	/* the same policy as served: the same, though written otherwise */
	assert_int_equal(sts_policy_parse(body, strlen(body), &b, &pr), 0);
	assert_true(sts_policy_same(&a, &b));
	sts_policy_release(&b);
	sts_policy_release(&a);
	rec_problems_release(&pr);

	assert_int_equal(sts_policy_parse_lines(no_space, 4, &a, &pr), 0);
	assert_int_equal(pr.n, 0);
	sts_policy_release(&a);

	assert_int_equal(sts_policy_parse_lines(joined, 3, &a, &pr), -1);
	assert_non_null(rec_problems_find(&pr, REC_STS_POLICY_SYNTAX));
	sts_policy_release(&a);
	rec_problems_release(&pr);

	assert_int_equal(sts_policy_parse_lines(with_null, 2, &a, &pr), -1);
	check_texts(&pr, "with_null");
	sts_policy_release(&a);
	rec_problems_release(&pr);

	assert_int_equal(sts_policy_parse_lines(NULL, 0, &a, &pr), -1);
	assert_non_null(rec_problems_find(&pr, REC_STS_POLICY_SYNTAX));
	sts_policy_release(&a);
	rec_problems_release(&pr);
}

static void
policy_same(void **state)
{
	static const char *const base = "version: STSv1\nmode: enforce\n"
		"mx: a.example.com\nmx: *.b.example.com\nmax_age: 86400\n";
	static const struct {
		const char *body;
		int same;
	} other[] = {
		{ "version: STSv1\nmode: enforce\nmx: a.example.com\n"
		  "mx: *.b.example.com\nmax_age: 86400\n", 1 },
		{ "max_age: 86400\r\nmx: *.B.Example.COM\r\nmx: A.example.com.\r\n"
		  "mx: a.example.com\r\nmode: enforce\r\nversion: STSv1\r\n", 1 },
		{ "version: STSv1\nmode: enforce\nmx: a.example.com\n"
		  "mx: *.b.example.com\nmax_age: 86400\nx: y\n", 1 },
		{ "version: STSv1\nmode: testing\nmx: a.example.com\n"
		  "mx: *.b.example.com\nmax_age: 86400\n", 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.example.com\n"
		  "mx: *.b.example.com\nmax_age: 86401\n", 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.example.com\n"
		  "max_age: 86400\n", 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.example.com\n"
		  "mx: *.b.example.com\nmx: c.example.com\nmax_age: 86400\n", 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.example.com\n"
		  "mx: b.example.com\nmax_age: 86400\n", 0 },
		{ "version: STSv2\nmode: enforce\nmx: a.example.com\n"
		  "mx: *.b.example.com\nmax_age: 86400\n", 0 },
	};
	struct sts_policy a, b;
	size_t i;

	(void)state;
	sts_policy_parse(base, strlen(base), &a, NULL);
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		sts_policy_parse(other[i].body, strlen(other[i].body), &b, NULL);
		if (sts_policy_same(&a, &b) != other[i].same ||
		    sts_policy_same(&b, &a) != other[i].same)
			fail_msg("policy %zu: same should be %d", i,
				 other[i].same);
		sts_policy_release(&b);
	}
	assert_false(sts_policy_same(&a, NULL));
	sts_policy_release(&a);
}

static void
mx_match(void **state)
{
	static const struct {
		const char *pat, *host;
		int match;
	} m[] = {
		{ "*.example.com", "mx.example.com", 1 },
		{ "*.example.com", "a.b.example.com", 0 },
		{ "*.example.com", "example.com", 0 },
		{ "*.example.com", ".example.com", 0 },
		{ "*.example.com", "mxexample.com", 0 },
		{ "*.example.com", "MX.Example.COM", 1 },
		{ "*.EXAMPLE.com", "mx.example.com.", 1 },
		{ "*.example.com.", "mx.example.com", 1 },
		{ "mx.example.com", "mx.example.com", 1 },
		{ "mx.example.com", "MX.EXAMPLE.COM.", 1 },
		{ "mx.example.com.", "mx.example.com", 1 },
		{ "mx.example.com", "mx.example.org", 0 },
		{ "mx.example.com", "a.mx.example.com", 0 },
		{ "example.com", "mx.example.com", 0 },
		{ "mx*.example.com", "mx1.example.com", 0 },
		{ "*", "example", 0 },
		{ "*.", "example", 0 },
		{ "*.example.com", "*.example.com", 0 },
		{ "", "", 0 },
		{ "mx.example.com", NULL, 0 },
		{ NULL, "mx.example.com", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (sts_mx_match(m[i].pat, m[i].host) != m[i].match)
			fail_msg("\"%s\" against \"%s\": wanted %d",
				 m[i].pat ? m[i].pat : "(null)",
				 m[i].host ? m[i].host : "(null)", m[i].match);
}

static void
hostnames(void **state)
{
	char l63[64], l64[65], long_ok[254], long_bad[256];
	size_t i;

	(void)state;
	assert_true(check_hostname_valid("example.com"));
	assert_true(check_hostname_valid("example.com."));
	assert_true(check_hostname_valid("localhost"));
	assert_true(check_hostname_valid("xn--bcher-kva.example"));
	assert_true(check_hostname_valid("a-b.c0.example"));
	assert_true(check_hostname_valid("1.2.3.4"));
	assert_false(check_hostname_valid(""));
	assert_false(check_hostname_valid("."));
	assert_false(check_hostname_valid(NULL));
	assert_false(check_hostname_valid("-a.example"));
	assert_false(check_hostname_valid("a-.example"));
	assert_false(check_hostname_valid("a..example"));
	assert_false(check_hostname_valid(".example"));
	assert_false(check_hostname_valid("example.com.."));
	assert_false(check_hostname_valid("exa_mple.com"));
	assert_false(check_hostname_valid("*.example.com"));
	assert_false(check_hostname_valid("b\xc3\xbc" "cher.example"));
	memset(l63, 'a', 63);
	l63[63] = '\0';
	memset(l64, 'a', 64);
	l64[64] = '\0';
	assert_true(check_hostname_valid(l63));
	assert_false(check_hostname_valid(l64));
	/* 253 bytes: labels of 49 and dots */
	for (i = 0; i < 253; i++)
		long_ok[i] = i % 50 == 49 ? '.' : 'a';
	long_ok[253] = '\0';
	assert_true(check_hostname_valid(long_ok));
	memcpy(long_bad, long_ok, 253);
	long_bad[253] = 'a';
	long_bad[254] = '\0';
	assert_false(check_hostname_valid(long_bad));
	long_bad[254] = '.';
	long_bad[255] = '\0';
	assert_false(check_hostname_valid(long_bad));
}

/* Inputs at and past the caps, and texts of long input. */
static void
long_inputs(void **state)
{
	const char *head = "v=TLSRPTv1; rua=mailto:a@example.com; x=";
	struct rec_problems pr;
	struct tlsrpt_record r;
	struct sts_policy p;
	struct sts_txt t;
	const struct rec_problem *q;
	char *big, run[62];
	size_t hl = strlen(head), n;

	(void)state;
	rec_problems_init(&pr);
	big = malloc(REC_MAX_POLICY + 2);
	assert_non_null(big);
	memcpy(big, head, hl);
	memset(big + hl, 'a', REC_MAX_POLICY + 1 - hl);
	assert_int_equal(tlsrpt_record_parse(big, REC_MAX_TXT, &r, &pr), 0);
	assert_int_equal(pr.n, 0);
	tlsrpt_record_release(&r);
	assert_int_equal(tlsrpt_record_parse(big, REC_MAX_TXT + 1, &r, &pr), -1);
	assert_non_null(rec_problems_find(&pr, REC_TLSRPT_SYNTAX));
	tlsrpt_record_release(&r);
	assert_int_equal(sts_txt_parse(big, REC_MAX_TXT + 1, &t, &pr), -1);
	sts_txt_release(&t);
	assert_int_equal(sts_policy_parse(big, REC_MAX_POLICY + 1, &p, &pr), -1);
	assert_non_null(rec_problems_find(&pr, REC_STS_POLICY_SYNTAX));
	sts_policy_release(&p);
	check_texts(&pr, "big");
	rec_problems_release(&pr);

	/* a long bad value is quoted cut, with "…" */
	big[hl + 5000] = ' ';
	assert_int_equal(tlsrpt_record_parse(big, REC_MAX_TXT, &r, &pr), -1);
	q = rec_problems_find(&pr, REC_TLSRPT_EXTENSION);
	assert_non_null(q);
	memset(run, 'a', sizeof(run) - 1);
	run[sizeof(run) - 1] = '\0';
	assert_null(strstr(q->text, run));
	assert_non_null(strstr(q->text, "\xe2\x80\xa6"));
	tlsrpt_record_release(&r);
	rec_problems_release(&pr);

	/* wide characters count two columns each; invalid bytes one */
	n = 0;
	memcpy(big, "v=TLSRPTv1; rua=mailto:a@example.com; ", 38);
	n = 38;
	while (n < 38 + 3 * 100) {
		memcpy(big + n, "\xe6\xbc\xa2", 3);	/* 漢 */
		n += 3;
	}
	memcpy(big + n, "=1", 2);
	n += 2;
	assert_int_equal(tlsrpt_record_parse(big, n, &r, &pr), -1);
	q = rec_problems_find(&pr, REC_TLSRPT_EXTENSION);
	assert_non_null(q);
	assert_true(utf8_width(q->text) < 60 + 120);
	assert_non_null(strstr(q->text, "\xe2\x80\xa6"));
	tlsrpt_record_release(&r);
	rec_problems_release(&pr);
	free(big);
}

/* At most REC_PROBLEMS_MAX kept, the rest counted; a NULL list is fine. */
static void
problem_cap(void **state)
{
	char body[100 * 8 + 1];
	struct rec_problems pr;
	struct sts_policy p;
	size_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		memcpy(body + 8 * i, "garbage\n", 8);
	body[800] = '\0';
	rec_problems_init(&pr);
	assert_int_equal(sts_policy_parse(body, 800, &p, &pr), -1);
	assert_int_equal(pr.n, REC_PROBLEMS_MAX);
	assert_true(pr.more > 0);
	assert_int_equal(pr.worst, REC_ERROR);
	check_texts(&pr, "garbage");
	sts_policy_release(&p);
	rec_problems_release(&pr);
	assert_int_equal(sts_policy_parse(body, 800, &p, NULL), -1);
	sts_policy_release(&p);
	rec_problems_release(NULL);
	tlsrpt_record_release(NULL);
	sts_txt_release(NULL);
	sts_policy_release(NULL);
}

/* Random bytes, and random pieces of records, through every parser. */
static void
noise(void **state)
{
	static const char *const bits[] = {
		"v=TLSRPTv1;", "v=STSv1;", "rua=", "mailto:", "https://", "@",
		",", ";", "%", "%2C", "=", " ", "\t", "id=", "\r\n", "\n", ":",
		"version: STSv1\n", "mode: enforce\n", "mx: *.", "max_age: ",
		"[", "]", "\"", "\\", "example.com", "\xc3", "\xe2\x80\xa6", "\0",
		"\x1b[2J", "*", ".", "9999999999",
	};
	char buf[600];
	const char *lines[8];
	struct rec_problems pr;
	struct tlsrpt_record r;
	struct sts_policy p;
	struct sts_txt t;
	uint32_t x = 2463534242u;
	size_t i, n, k, len;

	(void)state;
	for (i = 0; i < 3000; i++) {
		n = 0;
		len = (x % 40) + 1;
		for (k = 0; k < len && n < sizeof(buf) - 20; k++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			if (x % 3 == 0) {
				buf[n++] = (char)(x >> 8);
			} else {
				const char *b = bits[(x >> 8) % (sizeof(bits) /
								 sizeof(bits[0]))];
				size_t bl = *b ? strlen(b) : 1;

				memcpy(buf + n, b, bl);
				n += bl;
			}
		}
		rec_problems_init(&pr);
		tlsrpt_record_parse(buf, n, &r, &pr);
		sts_txt_parse(buf, n, &t, &pr);
		sts_policy_parse(buf, n, &p, &pr);
		check_texts(&pr, "noise");
		tlsrpt_record_release(&r);
		sts_txt_release(&t);
		sts_policy_release(&p);
		rec_problems_release(&pr);
		/* the same bytes as lines, cut at NULs */
		buf[n] = '\0';
		for (k = 0; k < 8; k++)
			lines[k] = buf + (n * k) / 8;
		sts_policy_parse_lines(lines, 8, &p, &pr);
		check_texts(&pr, "noise lines");
		sts_policy_release(&p);
		rec_problems_release(&pr);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table),
		cmocka_unit_test(candidates),
		cmocka_unit_test(tlsrpt_fields),
		cmocka_unit_test(sts_txt_fields),
		cmocka_unit_test(policy_fields),
		cmocka_unit_test(policy_lines),
		cmocka_unit_test(policy_same),
		cmocka_unit_test(mx_match),
		cmocka_unit_test(hostnames),
		cmocka_unit_test(long_inputs),
		cmocka_unit_test(problem_cap),
		cmocka_unit_test(noise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
