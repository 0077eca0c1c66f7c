/*
 * test_corpus.c — every file of the real-world corpus against its expected
 * outcome (tests/corpus/expected.tsv): ingested with which organization,
 * report-id, counted totals, failure rows and tolerance notes, or
 * quarantined with which reason, or not a report.
 *
 * usage: test_corpus CORPUS_DIR EXPECTED_TSV
 * A file in the corpus without a row, or a row without a file, fails.
 * Without the corpus directory the test says so and exits 77 (skipped),
 * unless MXDIGEST_REQUIRE_CORPUS=1, when it fails.
 * MXDIGEST_CORPUS_PRINT=1 prints the table as the parser sees it.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse/parse.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define SKIP 77

struct row {
	char *fields[9];
	int seen;
};

static int failures;

static void
failf(const char *file, const char *what, const char *want, const char *got)
{
	fprintf(stderr, "FAIL %s: %s: expected \"%s\", got \"%s\"\n", file, what,
		want, got);
	failures++;
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t r;

	if (!f)
		return NULL;
	buf_init(&b, BUF_NOCAP);
	while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, r);
	fclose(f);
	return (char *)buf_detach(&b, n);
}

/* The outcome of one file, in the table's columns. */
static void
describe(const char *dir, const char *name, char out[9][512])
{
	char *path = xasprintf("%s/%s", dir, name), *data;
	struct parse_result res;
	struct parse_input in;
	struct buf notes;
	size_t n;
	enum mxd_status st;
	int i;

	for (i = 0; i < 9; i++)
		strcpy(out[i], "-");
	snprintf(out[0], 512, "%s", name);
	data = slurp(path, &n);
	if (!data) {
		strcpy(out[1], "unreadable");
		free(path);
		return;
	}
	memset(&in, 0, sizeof(in));
	in.name = path;
	st = parse_message(data, n, &in, &res);
	if (st == MXD_E_NOTREPORT) {
		strcpy(out[1], "not-report");
	} else if (res.n_parts != 1) {
		snprintf(out[1], 512, "parts=%zu", res.n_parts);
	} else if (!res.parts[0].report) {
		strcpy(out[1], "quarantine");
		snprintf(out[8], 512, "%s", res.parts[0].reason);
	} else {
		const struct tlsrpt *r = res.parts[0].report;

		strcpy(out[1], "report");
		snprintf(out[2], 512, "%s", r->org);
		snprintf(out[3], 512, "%s", r->report_id);
		snprintf(out[4], 512, "%llu", (unsigned long long)r->successful);
		snprintf(out[5], 512, "%llu", (unsigned long long)r->failed);
		snprintf(out[6], 512, "%zu", r->n_fails);
		buf_init(&notes, BUF_NOCAP);
		tlsrpt_notes_format(r->notes, &notes);
		snprintf(out[7], 512, "%s", notes.len ? buf_cstr(&notes) : "-");
		buf_release(&notes);
	}
	parse_result_release(&res);
	free(data);
	free(path);
}

static struct row *
load_table(const char *path, size_t *n)
{
	char *text = slurp(path, NULL), *line, *save = NULL;
	struct row *rows = NULL;
	size_t cap = 0;

	*n = 0;
	if (!text) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(1);
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f, *s2 = NULL;
		int k = 0;

		if (line[0] == '#' || !line[0])
			continue;
		rows = xgrow(rows, &cap, *n + 1, sizeof(*rows));
		memset(&rows[*n], 0, sizeof(*rows));
		for (f = strtok_r(line, "\t", &s2); f && k < 9;
		     f = strtok_r(NULL, "\t", &s2))
			rows[*n].fields[k++] = xstrdup(f);
		if (k != 9) {
			fprintf(stderr, "%s: row \"%s\" has %d fields, not 9\n", path,
				rows[*n].fields[0], k);
			exit(1);
		}
		(*n)++;
	}
	free(text);
	return rows;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
keep(const struct dirent *d)
{
	return d->d_name[0] != '.' && strcmp(d->d_name, "SOURCES.md") != 0;
}

int
main(int argc, char **argv)
{
	static const char *const cols[9] = {
		"file", "outcome", "organization", "report-id", "successful",
		"failed", "failure rows", "notes", "reason",
	};
	const char *req = getenv("MXDIGEST_REQUIRE_CORPUS");
	struct dirent **names;
	struct row *rows;
	size_t nrows, r;
	char got[9][512];
	int n, i, k, checked = 0;
	struct stat st;

	if (argc != 3) {
		fprintf(stderr, "usage: test_corpus CORPUS_DIR EXPECTED_TSV\n");
		return 2;
	}
	if (stat(argv[1], &st) < 0) {
		if (req && strcmp(req, "1") == 0) {
			fprintf(stderr, "FAIL: the corpus is required but missing at %s\n",
				argv[1]);
			return 1;
		}
		printf("corpus not found at %s: the real-world corpus tests did NOT "
		       "run\n", argv[1]);
		return SKIP;
	}
	n = scandir(argv[1], &names, keep, by_name);
	if (n < 0) {
		perror(argv[1]);
		return 1;
	}
	if (getenv("MXDIGEST_CORPUS_PRINT")) {
		for (i = 0; i < n; i++) {
			describe(argv[1], names[i]->d_name, got);
			for (k = 0; k < 9; k++)
				printf("%s%s", got[k], k == 8 ? "\n" : "\t");
			free(names[i]);
		}
		free(names);
		return 0;
	}
	rows = load_table(argv[2], &nrows);
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		struct row *row = NULL;

		for (r = 0; r < nrows; r++)
			if (strcmp(rows[r].fields[0], name) == 0)
				row = &rows[r];
		if (!row) {
			fprintf(stderr, "FAIL %s: no expected outcome in %s\n", name,
				argv[2]);
			failures++;
			continue;
		}
		row->seen = 1;
		describe(argv[1], name, got);
		for (k = 1; k < 9; k++) {
			/* the reason column holds a substring of the reason */
			if (k == 8 ? !strstr(got[k], row->fields[k])
				   : strcmp(got[k], row->fields[k]) != 0)
				failf(name, cols[k], row->fields[k], got[k]);
		}
		checked++;
	}
	for (r = 0; r < nrows; r++) {
		if (!rows[r].seen) {
			fprintf(stderr, "FAIL %s: expected but not in the corpus\n",
				rows[r].fields[0]);
			failures++;
		}
	}
	printf("%d corpus files checked, %d mismatches\n", checked, failures);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	for (r = 0; r < nrows; r++)
		for (k = 0; k < 9; k++)
			free(rows[r].fields[k]);
	free(rows);
	return failures ? 1 : 0;
}
