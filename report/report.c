/*
 * report.c — the renderer table, and the labels and number formats that
 * the text, HTML and spreadsheet renderers share.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report_p.h"
#include "util/strutil.h"
#include "util/timeutil.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static const struct report_renderer renderers[] = {
	{"text", report_render_text, 0},
	{"json", report_render_json, 0},
	{"csv", report_render_csv, 0},
	{"html", report_render_html, 0},
	{"xlsx", report_render_xlsx, 1},
	{"email", report_render_email, 0},
};

const struct report_renderer *
report_renderer_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++)
		if (strcmp(renderers[i].name, name) == 0)
			return &renderers[i];
	return NULL;
}

const char *
report_renderer_names(void)
{
	return "text, json, csv, html, xlsx, email";
}

int
report_csv_table_parse(const char *name, enum report_csv_table *t)
{
	static const struct {
		const char *name;
		enum report_csv_table t;
	} names[] = {
		{"mx", REPORT_CSV_MX}, {"org", REPORT_CSV_ORG},
		{"result", REPORT_CSV_RESULT}, {"domain", REPORT_CSV_DOMAIN},
		{"type", REPORT_CSV_TYPE}, {"ip", REPORT_CSV_IP},
		{"day", REPORT_CSV_DAY}, {"detail", REPORT_CSV_DETAIL},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i].name, name) == 0) {
			*t = names[i].t;
			return 0;
		}
	return -1;
}

void
report_window_label(int64_t from, int64_t to, char *out, size_t n)
{
	char a[32], b[32];

	if (from % DAY_SECS == 0 && to % DAY_SECS == 0 && to > from) {
		int64_t days = (to - from) / DAY_SECS;

		time_format_date(from, a);
		time_format_date(to - DAY_SECS, b);
		if (days == 1)
			snprintf(out, n, "%s (1 day, UTC)", a);
		else
			snprintf(out, n, "%s to %s (%lld days, UTC)", a, b,
				 (long long)days);
		return;
	}
	time_format_iso(from, a);
	time_format_iso(to, b);
	snprintf(out, n, "%s to %s (end excluded)", a, b);
}

void
report_span_label(int64_t from, int64_t to, char *out, size_t n)
{
	int64_t len = to - from;

	if (len > 0 && len % DAY_SECS == 0)
		snprintf(out, n, "%lld day%s", (long long)(len / DAY_SECS),
			 len == DAY_SECS ? "" : "s");
	else if (len > 0 && len % 3600 == 0)
		snprintf(out, n, "%lld hour%s", (long long)(len / 3600),
			 len == 3600 ? "" : "s");
	else
		snprintf(out, n, "window");
}

const char *
report_pct(uint64_t ok, uint64_t bad, char out[16])
{
	if (!ok && !bad)
		snprintf(out, 16, "-");
	else
		snprintf(out, 16, "%.1f%%", agg_fail_rate(ok, bad));
	return out;
}

int
report_change_count(uint64_t now, uint64_t before, char out[40])
{
	char n[32];

	if (now == before) {
		snprintf(out, 40, "=");
		return 0;
	}
	if (now > before) {
		snprintf(out, 40, "\xe2\x96\xb2 %s", str_thousands(now - before, n));
		return 1;
	}
	snprintf(out, 40, "\xe2\x96\xbc %s", str_thousands(before - now, n));
	return -1;
}

int
report_change_rate(uint64_t ok, uint64_t bad, uint64_t prev_ok,
		   uint64_t prev_bad, char out[40])
{
	double d;

	if (!ok && !bad) {
		snprintf(out, 40, "-");
		return 0;
	}
	if (!prev_ok && !prev_bad) {
		snprintf(out, 40, "-");
		return 0;
	}
	d = agg_fail_rate(ok, bad) - agg_fail_rate(prev_ok, prev_bad);
	if (fabs(d) < 0.05) {
		snprintf(out, 40, "=");
		return 0;
	}
	snprintf(out, 40, "%s %.1f", d > 0 ? "\xe2\x96\xb2" : "\xe2\x96\xbc", fabs(d));
	return d > 0 ? 1 : -1;
}

void
report_sparkline(const struct agg_digest *d, const struct agg_org *o, char *out,
		 size_t n)
{
	/* U+2581..U+2588, lower one eighth block to full block */
	static const char *const bars[] = {
		"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
		"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
	};
	uint64_t cells[REPORT_SPARK_CELLS], max = 0;
	size_t k = agg_org_cells(d, o, cells, REPORT_SPARK_CELLS), i, used = 0;

	out[0] = '\0';
	for (i = 0; i < k; i++)
		if (cells[i] > max)
			max = cells[i];
	for (i = 0; i < k && used + 4 < n; i++) {
		/* zero is the floor; any failure shows at least one step up */
		size_t level = cells[i] ? 1 + (size_t)((cells[i] * 6 + max - 1) / max) : 0;

		if (level > 7)
			level = 7;
		memcpy(out + used, bars[level], 3);
		used += 3;
	}
	out[used] = '\0';
}

const char *
report_mx_label(const char *mx)
{
	return mx && *mx ? mx : "(not given)";
}

void
report_clean(struct buf *b, const char *s)
{
	buf_reset(b);
	utf8_clean(b, s ? s : "", s ? strlen(s) : 0);
}

char *
report_temp_file(const char *suffix, struct mxd_err *err)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	path = xasprintf("%s/mxdigest-XXXXXX%s", dir, suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	if (fd < 0) {
		mxd_err_set(err, MXD_E_IO, "\"%s\": cannot create a temporary file: %s",
			    dir, strerror(errno));
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}
