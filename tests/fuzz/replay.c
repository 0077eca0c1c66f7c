/*
 * replay.c — runs every file of the given directories through both fuzz
 * entry points, without libFuzzer: the regression test for inputs that
 * once crashed (tests/fuzz/regressions/) and a sanitizer pass over the
 * samples and fixtures.  Exits 0 when nothing crashed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse/parse.h"
#include "util/xalloc.h"

static size_t files;

static void
one(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct parse_result res;
	struct parse_input in = {path, NULL};
	struct mxd_err err;
	struct arena a;
	unsigned char *buf;
	long n;

	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	parse_message(buf, (size_t)n, &in, &res);
	parse_result_release(&res);
	arena_init(&a);
	parse_report_json((const char *)buf, (size_t)n, NULL, NULL, &a, &err);
	arena_release(&a);
	free(buf);
	files++;
}

static void
walk(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	if (!d) {
		one(dir);
		return;
	}
	while ((e = readdir(d))) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			walk(p);
		else if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
			one(p);
		free(p);
	}
	closedir(d);
}

int
main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		walk(argv[i]);
	printf("%zu files replayed\n", files);
	parse_thread_release();
	return 0;
}
