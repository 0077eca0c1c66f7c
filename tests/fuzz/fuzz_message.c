/*
 * fuzz_message.c — libFuzzer target: the whole parse entry point, raw
 * message bytes in, reports or a reason out (tests/fuzz/README.md).
 */
#include <stddef.h>
#include <stdint.h>

#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_limits lim;
	struct parse_input in = {"fuzz!example.org!1!2.json.gz", &lim};
	struct parse_result res;
	struct buf notes;
	size_t i;

	parse_limits_default(&lim);
	lim.max_report = 1 << 20;	/* keep each run fast */
	parse_message(data, size, &in, &res);
	buf_init(&notes, BUF_NOCAP);
	for (i = 0; i < res.n_parts; i++)
		if (res.parts[i].report)
			tlsrpt_notes_format(res.parts[i].report->notes, &notes);
	buf_release(&notes);
	parse_result_release(&res);
	return 0;
}
