/*
 * sha256-bench.c — the hand-written SHA-256 that util/sha256.c held until
 * commit 08f53d5 against nettle's (issue 12), over
 * the files named on the command line, read into memory first: each file
 * is hashed whole, as the store hashes a raw mail, ROUNDS times.  Prints
 * one line per implementation: total bytes, seconds of CPU (the best of
 * ROUNDS), MB/s and microseconds per file, and checks that both give the
 * same digests.
 *
 * Built and run by bench/sha256.sh (with sha256-nettle.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/sha256.h"

struct file {
	unsigned char *data;
	size_t len;
};

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
own(const struct file *f, unsigned char out[SHA256_LEN])
{
	sha256(f->data, f->len, out);
}

/* in sha256-nettle.c: nettle's names are macros that clash with ours */
void bench_nettle_sha256(const void *p, size_t n, unsigned char *out);

static void
lib(const struct file *f, unsigned char out[SHA256_LEN])
{
	bench_nettle_sha256(f->data, f->len, out);
}

static unsigned char
run(const char *name, void (*fn)(const struct file *, unsigned char *),
    const struct file *v, size_t n, size_t bytes, int rounds)
{
	unsigned char d[SHA256_LEN], x = 0;
	double best = 1e30, t;
	size_t i;
	int r;

	for (r = 0; r < rounds; r++) {
		t = cpu_now();
		for (i = 0; i < n; i++) {
			fn(&v[i], d);
			x ^= d[0];
		}
		t = cpu_now() - t;
		if (t < best)
			best = t;
	}
	printf("%-28s %zu files, %.1f MB, %.4f s CPU, %.0f MB/s, %.2f us/file\n",
	       name, n, (double)bytes / 1e6, best, (double)bytes / 1e6 / best,
	       best * 1e6 / (double)n);
	return x;
}

static int
read_file(const char *path, struct file *f)
{
	FILE *fp = fopen(path, "rb");
	long len;

	if (!fp)
		return -1;
	if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		return -1;
	}
	f->len = (size_t)len;
	if (!(f->data = malloc(f->len ? f->len : 1)) ||
	    fread(f->data, 1, f->len, fp) != f->len) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

int
main(int argc, char **argv)
{
	struct file *v;
	size_t n = 0, bytes = 0, i;
	int rounds = getenv("ROUNDS") ? atoi(getenv("ROUNDS")) : 5, bad = 0;
	unsigned char a[SHA256_LEN], b[SHA256_LEN];
	char line[4096];

	/* file names on stdin, one per line (there are tens of thousands) */
	(void)argc;
	(void)argv;
	if (!(v = calloc(1000000, sizeof *v)))
		return 1;
	while (n < 1000000 && fgets(line, sizeof line, stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (read_file(line, &v[n]) < 0) {
			fprintf(stderr, "sha256-bench: cannot read %s\n", line);
			return 1;
		}
		bytes += v[n++].len;
	}
	for (i = 0; i < n; i++) {
		own(&v[i], a);
		lib(&v[i], b);
		if (memcmp(a, b, sizeof a) != 0)
			bad++;
	}
	if (bad) {
		fprintf(stderr, "sha256-bench: %d files hash differently\n", bad);
		return 1;
	}
	sha256_use_accel(1);
	run("hand-written (SHA-NI)", own, v, n, bytes, rounds);
	sha256_use_accel(0);
	run("hand-written (portable)", own, v, n, bytes, rounds);
	sha256_use_accel(1);
	run("nettle sha256", lib, v, n, bytes, rounds);
	return 0;
}
