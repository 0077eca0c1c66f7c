/*
 * fuzz_json.c — libFuzzer target: the JSON layer alone (RFC 8460 report
 * text into struct tlsrpt, with the counting rules).
 */
#include <stddef.h>
#include <stdint.h>

#include "parse/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_hints h = {"example.org", "fuzz.example", NULL,
				"fuzz.example!example.net!1!2.json"};
	struct mxd_err err;
	struct arena a;

	arena_init(&a);
	parse_report_json((const char *)data, size, &h, NULL, &a, &err);
	arena_release(&a);
	return 0;
}
