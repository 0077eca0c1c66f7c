/* progress.c — terminal progress line (see progress.h). */
#include "cli/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "util/strutil.h"

double
progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
progress_init(struct progress *p, const char *what, int enabled)
{
	p->on = enabled && isatty(STDERR_FILENO);
	p->what = what;
	p->unit = "messages";
	p->start = p->last = progress_now();
	p->total = 0;
	p->drawn = 0;
}

void
progress_set_total(struct progress *p, uint64_t total)
{
	p->total = total;
}

void
progress_update(struct progress *p, uint64_t done, uint64_t bytes)
{
	double now, el, rate;
	char n[32], t[32];

	if (!p->on)
		return;
	now = progress_now();
	if (now - p->last < 0.2)
		return;
	p->last = now;
	el = now - p->start;
	rate = el > 0 ? (double)done / el : 0;
	fprintf(stderr, "\r\033[K%s: %s", p->what, str_thousands(done, n));
	if (p->total)
		fprintf(stderr, "/%s", str_thousands(p->total, t));
	fprintf(stderr, " %s, %.1f MB, %.0f/s", p->unit, (double)bytes / 1e6, rate);
	if (p->total && rate > 0 && done < p->total)
		fprintf(stderr, ", %.0f s left", (double)(p->total - done) / rate);
	p->drawn = 1;
}

void
progress_clear(struct progress *p)
{
	if (p->on && p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = 0;
}
