/*
 * report.c — the renderer table, report_render(), and the helpers of
 * several writers: the cleaning of values and temporary files.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report_p.h"
#include "report/view.h"
#include "util/utf8.h"
#include "util/xalloc.h"

static const struct report_renderer renderers[] = {
	{"text", report_write_text, 0},
	{"json", report_write_json, 0},
	{"csv", report_write_csv, 0},
	{"html", report_write_html, 0},
	{"xlsx", report_write_xlsx, 1},
	{"email", report_write_email, 0},
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

int
report_reads_details(const struct report_renderer *r,
		     const struct report_opts *o)
{
	if (r->write == report_write_csv)
		return o->csv_by == REPORT_CSV_DETAIL;
	return r->write == report_write_json || r->write == report_write_xlsx ||
	       r->write == report_write_email;
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
		{"config", REPORT_CSV_CONFIG},
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i].name, name) == 0) {
			*t = names[i].t;
			return 0;
		}
	return -1;
}

int
report_render(const struct report_renderer *r, const struct agg_digest *d,
	      const struct report_opts *o, FILE *out, struct mxd_err *err)
{
	struct view v;
	int rc;

	view_build(&v, d, o);
	rc = r->write(&v, o, out, err);
	view_release(&v);
	return rc;
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
