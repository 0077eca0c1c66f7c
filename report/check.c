/*
 * check.c — the output of `mxdigest check`: one block per domain, the
 * findings by level with the fix in words, since when each has been there
 * and what changed since the run before; or the same as JSON
 * (docs/JSON.md, "mxdigest check --format json").
 */
#include <stdio.h>
#include <string.h>

#include "aggregate/aggregate.h"
#include "report/report.h"
#include "report/report_p.h"
#include "util/buf.h"
#include "util/timeutil.h"

#define CHECK_JSON_SCHEMA 1

static const char *
level_name(int l)
{
	return l == 2 ? "error" : l == 1 ? "warning" : "ok";
}

static const char *
dnssec_name(int d)
{
	return d == 1 ? "secure" : d == 2 ? "insecure" : d == 3 ? "bogus" : NULL;
}

static const char *
change_name(enum agg_change c)
{
	return c == AGG_NEW ? "new" : c == AGG_RESOLVED ? "resolved" :
	    c == AGG_SAME ? "same" : NULL;
}

int
report_check_text(FILE *out, const struct agg_check *checks, size_t n, int color)
{
	static const char *head[] = {"Level", "Finding", "Since"};
	enum col_align align[] = {COL_LEFT, COL_LEFT, COL_LEFT};
	size_t maxw[] = {9, 0, 12};
	struct buf b;
	size_t i, j;

	buf_init(&b, 1 << 16);
	for (i = 0; i < n; i++) {
		const struct agg_check *c = &checks[i];
		struct table t;
		char at[32], since[32];

		time_format_iso(c->at, at);
		buf_reset(&b);
		report_clean(&b, c->domain);
		fprintf(out, "%s%s: ", i ? "\n" : "", buf_cstr(&b));
		if (!c->errors && !c->warnings)
			fputs("ok", out);
		if (c->errors)
			fprintf(out, "%zu error%s", c->errors, c->errors == 1 ? "" : "s");
		if (c->warnings)
			fprintf(out, "%s%zu warning%s", c->errors ? ", " : "",
				c->warnings, c->warnings == 1 ? "" : "s");
		fprintf(out, " (checked %s%s)\n", at, c->incomplete ?
			"; some checks did not complete" : "");
		table_init(&t, 3, head, align, maxw);
		t.no_head = 1;
		t.limit = 0;
		for (j = 0; j < c->n_items; j++) {
			const struct agg_check_item *it = &c->items[j];
			enum tint tint = it->change == AGG_RESOLVED ? TINT_GREEN :
			    it->level == 2 ? TINT_RED : it->level == 1 ? TINT_BOLD :
			    TINT_NONE;

			table_cell(&t, it->change == AGG_RESOLVED ? "resolved" :
				   level_name(it->level), tint);
			buf_reset(&b);
			buf_printf(&b, "%s [%s%s%s]", it->text, it->code,
				   dnssec_name(it->dnssec) ? ", DNSSEC " : "",
				   dnssec_name(it->dnssec) ? dnssec_name(it->dnssec)
							   : "");
			table_cell(&t, buf_cstr(&b), TINT_NONE);
			if (it->change == AGG_NEW) {
				table_cell(&t, "new", TINT_BOLD);
			} else if (it->change == AGG_SAME && it->since < c->at) {
				time_format_date(it->since, since);
				buf_reset(&b);
				buf_printf(&b, "since %s", since);
				table_cell(&t, buf_cstr(&b), TINT_NONE);
			} else {
				table_cell(&t, "", TINT_NONE);
			}
		}
		table_print(&t, out, 2, color);
		table_release(&t);
	}
	buf_release(&b);
	return ferror(out) ? -1 : 0;
}

static void
member(FILE *out, const char *k, const char *v, int comma)
{
	if (comma)
		fputc(',', out);
	report_json_string(out, k);
	fputc(':', out);
	if (v)
		report_json_string(out, v);
	else
		fputs("null", out);
}

int
report_check_json(FILE *out, const struct agg_check *checks, size_t n,
		  int64_t generated)
{
	char t[32];
	size_t i, j;

	time_format_iso(generated, t);
	fprintf(out, "{\"schema_version\":%d,\"generated\":\"%s\",\"domains\":[",
		CHECK_JSON_SCHEMA, t);
	for (i = 0; i < n; i++) {
		const struct agg_check *c = &checks[i];

		fputs(i ? ",{" : "{", out);
		member(out, "domain", c->domain, 0);
		time_format_iso(c->at, t);
		member(out, "checked", t, 1);
		member(out, "worst", level_name(c->worst), 1);
		fprintf(out, ",\"complete\":%s,\"errors\":%zu,\"warnings\":%zu",
			c->incomplete ? "false" : "true", c->errors, c->warnings);
		if (c->prev_at) {
			time_format_iso(c->prev_at, t);
			member(out, "previous_check", t, 1);
		} else {
			member(out, "previous_check", NULL, 1);
		}
		fputs(",\"findings\":[", out);
		for (j = 0; j < c->n_items; j++) {
			const struct agg_check_item *it = &c->items[j];

			fputs(j ? ",{" : "{", out);
			member(out, "level", level_name(it->level), 0);
			member(out, "code", it->code, 1);
			member(out, "subject", it->subject, 1);
			member(out, "text", it->text, 1);
			member(out, "dnssec", dnssec_name(it->dnssec), 1);
			if (it->change == AGG_RESOLVED) {
				member(out, "since", NULL, 1);
			} else {
				time_format_iso(it->since, t);
				member(out, "since", t, 1);
			}
			member(out, "change", change_name(it->change), 1);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
	return ferror(out) ? -1 : 0;
}
