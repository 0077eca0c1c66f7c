/*
 * json.c — the digest as JSON for scripts and jq (schema in docs/JSON.md).
 *
 * Every table of the view is an array of objects, a one-row table an
 * object; the members are the columns with a JSON key, in the view's order.
 * The shape is stable: fields are only ever added, after the ones already
 * there.
 */
#include <stdio.h>
#include <string.h>

#include "report/report_p.h"
#include "report/view.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define JSON_SCHEMA_VERSION 1

/* A JSON string (RFC 8259) of valid UTF-8. */
void
report_json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), k;
	uint32_t cp;

	fputc('"', out);
	for (; *p; p++, n--) {
		if (*p >= 0x80) {
			/* values are cleaned at ingest; a store written by
			 * something else must still give valid JSON */
			k = utf8_decode(p, n, &cp);
			if (!k || (cp >= 0x80 && cp <= 0x9f)) {
				k = k ? k : 1;
				p += k - 1;
				n -= k - 1;
				fputs("\\ufffd", out);
				continue;
			}
			fwrite(p, 1, k, out);
			p += k - 1;
			n -= k - 1;
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		default:
			/* a control character is replaced, as everywhere else:
			 * `jq -r` must not print an escape sequence */
			if (*p < 0x20 || *p == 0x7f)
				fputs("\\ufffd", out);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

/*
 * A small writer that puts the commas itself: `first` is set when an
 * object or array opens and cleared by the first member, so each member is
 * one call.
 */
struct jw {
	FILE *out;
	int first;
	struct buf words;
};

static void
sep(struct jw *w)
{
	if (!w->first)
		fputc(',', w->out);
	w->first = 0;
}

static void
key(struct jw *w, const char *k)
{
	sep(w);
	report_json_string(w->out, k);
	fputc(':', w->out);
}

static void
open_(struct jw *w, const char *k, int c)
{
	if (k)
		key(w, k);
	else
		sep(w);
	fputc(c, w->out);
	w->first = 1;
}

static void
end(struct jw *w, int c)
{
	fputc(c, w->out);
	w->first = 0;
}

static void table_array(struct jw *w, const struct view_table *t);

static void
cell(struct jw *w, const struct view_col *c, const struct view_cell *x)
{
	size_t i;

	if (c->type == VIEW_ROWS) {
		table_array(w, x->v.rows);
		return;
	}
	if (c->type == VIEW_NAMES) {
		open_(w, c->key, '[');
		for (i = 0; i < x->v.names.n; i++) {
			sep(w);
			report_json_string(w->out, x->v.names.v[i]);
		}
		end(w, ']');
		return;
	}
	key(w, c->key);
	/* a null rate is 0: no sessions (docs/JSON.md) */
	if (x->null && c->type != VIEW_RATE)
		fputs("null", w->out);
	else if (view_numeric(c) || c->type == VIEW_FLAG)
		fputs(view_cell_value(c, x, &w->words), w->out);
	else
		report_json_string(w->out, view_cell_value(c, x, &w->words));
}

static void
row_object(struct jw *w, const char *k, const struct view_table *t,
	   const struct view_row *r)
{
	size_t i;

	open_(w, k, '{');
	for (i = 0; i < t->ncols; i++)
		if (t->cols[i]->flags & VIEW_JSON)
			cell(w, t->cols[i], &r->cells[i]);
	end(w, '}');
}

/* Every row of a table (breakdowns are for people). */
static void
table_array(struct jw *w, const struct view_table *t)
{
	size_t i;

	open_(w, t->key, '[');
	for (i = 0; i < t->nrows; i++)
		if (!t->rows[i].part)
			row_object(w, NULL, t, &t->rows[i]);
	end(w, ']');
}

static void
table_object(struct jw *w, const struct view_table *t)
{
	row_object(w, t->key, t, &t->rows[0]);
}

/* A failure detail (view_details()) as one object. */
struct detail_writer {
	struct jw *w;
	const struct view_table *t;
};

static int
detail_object(const struct view_cell *cells, void *ctx)
{
	struct detail_writer *d = ctx;
	size_t i;

	open_(d->w, NULL, '{');
	for (i = 0; i < d->t->ncols; i++)
		if (d->t->cols[i]->flags & VIEW_JSON)
			cell(d->w, d->t->cols[i], &cells[i]);
	end(d->w, '}');
	return ferror(d->w->out) ? 1 : 0;
}

int
report_write_json(const struct view *v, const struct report_opts *o,
		  FILE *out, struct mxd_err *err)
{
	static const enum view_id tables[] = {VIEW_T_ORG, VIEW_T_MX,
		VIEW_T_RESULT, VIEW_T_DOMAIN, VIEW_T_POLICY, VIEW_T_PTYPE,
		VIEW_T_IP, VIEW_T_DAILY};
	const struct view_table *t = v->tables;
	struct jw w = {out, 1, {0}};
	struct detail_writer dw;
	char gen[32];
	size_t i;
	int rc;

	buf_init(&w.words, BUF_NOCAP);
	time_format_iso(v->generated, gen);
	open_(&w, NULL, '{');
	key(&w, "schema_version");
	fprintf(out, "%d", JSON_SCHEMA_VERSION);
	key(&w, "generated");
	report_json_string(out, gen);
	table_object(&w, &t[VIEW_T_WINDOW]);
	table_object(&w, &t[VIEW_T_TOTALS]);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		table_array(&w, &t[tables[i]]);
	/* added after schema 1 was first published */
	table_object(&w, &t[VIEW_T_PREV_WINDOW]);
	table_object(&w, &t[VIEW_T_PREV_TOTALS]);
	open_(&w, "new", '{');
	table_object(&w, &t[VIEW_T_COMPARED]);
	key(&w, "history");
	fputs(v->history ? "true" : "false", out);
	table_array(&w, &t[VIEW_T_NEW]);
	table_array(&w, &t[VIEW_T_NEW_ORGS]);
	end(&w, '}');
	table_array(&w, &t[VIEW_T_SILENT]);
	table_array(&w, &t[VIEW_T_QUARANTINE]);
	table_object(&w, &t[VIEW_T_FILTERS]);
	open_(&w, "alerts", '[');
	for (i = 0; i < v->nalerts; i++) {
		sep(&w);
		report_json_string(out, v->alerts[i]);
	}
	end(&w, ']');
	/* added with DKIM verification */
	table_array(&w, &t[VIEW_T_REPORTS]);
	/* added with mxdigest check */
	table_array(&w, &t[VIEW_T_CONFIG_DATA]);
	open_(&w, "failure_details", '[');
	dw.w = &w;
	dw.t = &t[VIEW_T_DETAILS];
	rc = view_details(v, detail_object, &dw, err);
	end(&w, ']');
	end(&w, '}');
	fputc('\n', out);
	buf_release(&w.words);
	if (rc < 0)
		return -1;
	if (ferror(out))
		return mxd_err_set(err, MXD_E_IO, "cannot write the JSON digest");
	return 0;
}
