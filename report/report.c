/* report.c — the renderer table. */
#include <string.h>

#include "report/report_p.h"
#include "util/timeutil.h"

static const struct report_renderer renderers[] = {
	{"text", report_render_text},
	{"json", report_render_json},
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
	return "text, json";
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
