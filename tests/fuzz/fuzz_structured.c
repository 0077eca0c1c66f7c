/*
 * fuzz_structured.c — libFuzzer target: the input is a program for the
 * message builder of structured.h (nested multiparts and message/rfc822,
 * base64/QP, real gzip and zip, RFC 8460 JSON of any size), and the message
 * it builds goes through parse_message() with the default limits, the ones
 * a real import runs with.  docs/FUZZING.md describes the program format.
 */
#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/structured.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_input in = {"fuzz!example.org!1!2.json.gz", NULL};
	struct parse_result res;
	enum mxd_status st;
	const unsigned char *msg;
	struct buf notes;
	struct sb s;
	size_t len, i;

	if (sb_run(&s, data, size, &msg, &len) == 0) {
		st = parse_message(msg, len, &in, &res);
		sb_check(st, &res);
		buf_init(&notes, BUF_NOCAP);
		for (i = 0; i < res.n_parts; i++)
			if (res.parts[i].report)
				tlsrpt_notes_format(res.parts[i].report->notes,
						    &notes);
		buf_release(&notes);
		parse_result_release(&res);
	}
	sb_release(&s);
	return 0;
}
