/*
 * replay.c — runs every file of the given directories through the fuzz
 * entry points, without libFuzzer: the regression test for inputs that
 * once crashed (tests/fuzz/regressions/) and a sanitizer pass over the
 * samples and fixtures.  Exits 0 when nothing crashed.
 *
 *	test_fuzz_replay [-v] [-s PATH] [-b PROGRAM] PATH ...
 *
 * A file is a raw input (a mail, a report, a gzip or zip file) and goes
 * through both parse_message() and parse_report_json(), as fuzz_message
 * and fuzz_json would run it — unless it is a fuzz_structured program:
 * a file whose name ends in ".prog", or any file under a PATH given with
 * -s (libFuzzer names its artifacts crash-<sha1>, without a suffix).  A
 * program is built into a message by structured.h and that message goes
 * through parse_message(), as fuzz_structured runs it.  -b PROGRAM writes
 * the message a program builds to standard output and exits, to look at
 * it or to hand it to fuzz_message.  -v prints what parse_message() made
 * of each input, one line per part.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse/parse.h"
#include "tests/fuzz/structured.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static size_t files, programs;
static int verbose;

static void
show(const char *path, enum mxd_status st, const struct parse_result *res)
{
	struct buf notes;
	size_t i;

	if (!verbose)
		return;
	printf("%s: status %d, %zu parts\n", path, (int)st, res->n_parts);
	for (i = 0; i < res->n_parts; i++) {
		const struct parse_part *p = &res->parts[i];

		if (!p->report) {
			printf("  part %zu: %s\n", i, p->reason);
			continue;
		}
		buf_init(&notes, BUF_NOCAP);
		tlsrpt_notes_format(p->report->notes, &notes);
		printf("  part %zu: report of %s, %zu policies, %zu bytes of JSON"
		       " [%s]\n", i, p->report->org, p->report->n_policies,
		       p->report->json_len, buf_cstr(&notes));
		buf_release(&notes);
	}
}

/* The whole file, or NULL when it cannot be read. */
static unsigned char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if (n < 0) {
		fclose(f);
		return NULL;
	}
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
raw(const char *path, const unsigned char *buf, size_t n)
{
	struct parse_result res;
	struct parse_input in = {path, NULL};
	struct mxd_err err;
	struct arena a;

	show(path, parse_message(buf, n, &in, &res), &res);
	parse_result_release(&res);
	arena_init(&a);
	parse_report_json((const char *)buf, n, NULL, NULL, &a, &err);
	arena_release(&a);
	files++;
}

/* As fuzz_structured runs it: default limits, the parse.h checks. */
static void
program(const char *path, const unsigned char *buf, size_t n)
{
	struct parse_input in = {"fuzz!example.org!1!2.json.gz", NULL};
	struct parse_result res;
	const unsigned char *msg;
	enum mxd_status st;
	struct sb s;
	size_t len;

	if (sb_run(&s, buf, n, &msg, &len) == 0) {
		st = parse_message(msg, len, &in, &res);
		sb_check(st, &res);
		show(path, st, &res);
		parse_result_release(&res);
	}
	sb_release(&s);
	programs++;
}

static void
one(const char *path, int structured)
{
	unsigned char *buf;
	size_t n;

	if (!(buf = slurp(path, &n)))
		return;
	if (structured || str_has_suffix_ci(path, ".prog"))
		program(path, buf, n);
	else
		raw(path, buf, n);
	free(buf);
}

static void
walk(const char *dir, int structured)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	if (!d) {
		one(dir, structured);
		return;
	}
	while ((e = readdir(d))) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			walk(p, structured);
		else if (stat(p, &st) == 0 && S_ISREG(st.st_mode) &&
			 !(structured && str_has_suffix_ci(p, ".md")))
			one(p, structured);	/* a README is no program */
		free(p);
	}
	closedir(d);
}

/* -b: the message a program builds, to standard output. */
static int
build_only(const char *path)
{
	const unsigned char *msg;
	unsigned char *buf;
	struct sb s;
	size_t n, len;
	int rc = 0;

	if (!(buf = slurp(path, &n))) {
		perror(path);
		return 1;
	}
	if (sb_run(&s, buf, n, &msg, &len) == 0)
		rc = fwrite(msg, 1, len, stdout) == len ? 0 : 1;
	else
		fprintf(stderr, "%s: the program builds nothing\n", path);
	sb_release(&s);
	free(buf);
	return rc;
}

int
main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-b") == 0 && i + 1 < argc)
			return build_only(argv[i + 1]);
		if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			walk(argv[++i], 1);
		else
			walk(argv[i], 0);
	}
	printf("%zu files replayed, %zu fuzz_structured programs\n", files,
	       programs);
	parse_thread_release();
	return 0;
}
