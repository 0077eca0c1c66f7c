/*
 * json.c — the digest as JSON for scripts and jq (schema in docs/JSON.md).
 *
 * The shape is stable: fields are only ever added.  Arrays are sorted by
 * failed_sessions (descending), then by name.
 */
#include <stdio.h>
#include <string.h>

#include "report/report_p.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define JSON_SCHEMA_VERSION 1

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

static void
key(FILE *out, const char *k)
{
	report_json_string(out, k);
	fputc(':', out);
}

static void
num(FILE *out, const char *k, uint64_t v)
{
	key(out, k);
	fprintf(out, "%llu", (unsigned long long)v);
}

static void
str(FILE *out, const char *k, const char *v)
{
	key(out, k);
	if (v)
		report_json_string(out, v);
	else
		fputs("null", out);
}

static void
rate(FILE *out, const char *k, uint64_t ok, uint64_t bad)
{
	key(out, k);
	fprintf(out, "%.4f", agg_fail_rate(ok, bad));
}

static void
time_field(FILE *out, const char *k, int64_t t)
{
	char iso[32];

	time_format_iso(t, iso);
	str(out, k, iso);
}

static void
day_field(FILE *out, const char *k, int64_t t)
{
	char day[16];

	time_format_date(t, day);
	str(out, k, day);
}

static void
strings(FILE *out, const char *k, const char *const *v, size_t n)
{
	size_t i;

	key(out, k);
	fputc('[', out);
	for (i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		report_json_string(out, v[i]);
	}
	fputc(']', out);
}

static void
window(FILE *out, const char *k, int64_t from, int64_t to)
{
	key(out, k);
	fputc('{', out);
	time_field(out, "from", from);
	fputc(',', out);
	time_field(out, "to", to);
	fputc('}', out);
}

/* Fields added after schema 1 was published come after the original ones,
 * so that the first fields of every object stay where they were. */
static void
previous(FILE *out, const struct agg_digest *d)
{
	const struct agg_totals *p = &d->prev;

	window(out, "previous_window", d->prev_from, d->prev_to);
	fputs(",\"previous_totals\":{", out);
	num(out, "reports", p->reports);
	fputc(',', out);
	num(out, "organizations", p->organizations);
	fputc(',', out);
	num(out, "successful_sessions", p->successful);
	fputc(',', out);
	num(out, "failed_sessions", p->failed);
	fputc(',', out);
	rate(out, "failure_rate", p->successful, p->failed);
	fputc('}', out);
}

int
report_render_json(const struct agg_digest *d, const struct report_opts *o,
		   FILE *out, struct mxd_err *err)
{
	const struct agg_totals *t = &d->totals;
	size_t i, k;

	fprintf(out, "{\"schema_version\":%d,", JSON_SCHEMA_VERSION);
	time_field(out, "generated", o->generated);
	fputc(',', out);
	window(out, "window", d->from, d->to);
	fputs(",\"totals\":{", out);
	num(out, "reports", t->reports);
	fputc(',', out);
	num(out, "organizations", t->organizations);
	fputc(',', out);
	num(out, "successful_sessions", t->successful);
	fputc(',', out);
	num(out, "failed_sessions", t->failed);
	fputc(',', out);
	rate(out, "failure_rate", t->successful, t->failed);
	fputc(',', out);
	num(out, "quarantined", (uint64_t)t->quarantined);
	fputc(',', out);
	key(out, "failure_rate_change");
	fprintf(out, "%.4f", agg_fail_rate(t->successful, t->failed) -
		agg_fail_rate(d->prev.successful, d->prev.failed));
	fputs("},\"by_organization\":[", out);
	for (i = 0; i < d->n_orgs; i++) {
		const struct agg_org *r = &d->orgs[i];

		fputs(i ? ",{" : "{", out);
		str(out, "organization", r->org);
		fputc(',', out);
		num(out, "reports", r->reports);
		fputc(',', out);
		num(out, "successful_sessions", r->successful);
		fputc(',', out);
		num(out, "failed_sessions", r->failed);
		fputc(',', out);
		rate(out, "failure_rate", r->successful, r->failed);
		fputc(',', out);
		num(out, "previous_reports", r->prev_reports);
		fputc(',', out);
		num(out, "previous_successful_sessions", r->prev_successful);
		fputc(',', out);
		num(out, "previous_failed_sessions", r->prev_failed);
		fputc(',', out);
		key(out, "new_failures");
		fputs(r->new_failures ? "true" : "false", out);
		fputs(",\"daily_failed_sessions\":[", out);
		for (k = 0; k < r->n_daily; k++) {
			fputs(k ? ",{" : "{", out);
			day_field(out, "day", r->daily[k].day);
			fputc(',', out);
			num(out, "failed_sessions", r->daily[k].failed);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("],\"by_mx_host\":[", out);
	for (i = 0; i < d->n_mx; i++) {
		const struct agg_mx *r = &d->mx[i];

		fputs(i ? ",{" : "{", out);
		str(out, "mx_host", r->mx);
		fputc(',', out);
		num(out, "failed_sessions", r->failed);
		fputc(',', out);
		str(out, "top_result_type", r->top_result);
		fputc(',', out);
		strings(out, "organizations", r->orgs, r->n_orgs);
		fputc(',', out);
		num(out, "previous_failed_sessions", r->prev_failed);
		fputs(",\"result_types\":[", out);
		for (k = 0; k < r->n_results; k++) {
			fputs(k ? ",{" : "{", out);
			str(out, "result_type", r->results[k].result_type);
			fputc(',', out);
			num(out, "failed_sessions", r->results[k].failed);
			fputc(',', out);
			key(out, "new");
			fputs(r->results[k].is_new ? "true" : "false", out);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("],\"by_result_type\":[", out);
	for (i = 0; i < d->n_results; i++) {
		const struct agg_result *r = &d->results[i];

		fputs(i ? ",{" : "{", out);
		str(out, "result_type", r->result_type);
		fputc(',', out);
		num(out, "failed_sessions", r->failed);
		fputc(',', out);
		num(out, "reports", r->reports);
		fputc(',', out);
		num(out, "previous_failed_sessions", r->prev_failed);
		fputc('}', out);
	}
	fputs("],\"by_policy_domain\":[", out);
	for (i = 0; i < d->n_domains; i++) {
		const struct agg_domain *r = &d->domains[i];

		fputs(i ? ",{" : "{", out);
		str(out, "policy_domain", r->domain);
		fputc(',', out);
		str(out, "policy_types", r->types);
		fputc(',', out);
		num(out, "successful_sessions", r->successful);
		fputc(',', out);
		num(out, "failed_sessions", r->failed);
		fputc(',', out);
		rate(out, "failure_rate", r->successful, r->failed);
		fputc(',', out);
		num(out, "previous_successful_sessions", r->prev_successful);
		fputc(',', out);
		num(out, "previous_failed_sessions", r->prev_failed);
		fputc('}', out);
	}
	fputs("],\"by_policy\":[", out);
	for (i = 0; i < d->n_policies; i++) {
		const struct agg_policy *r = &d->policies[i];

		fputs(i ? ",{" : "{", out);
		str(out, "policy_domain", r->domain);
		fputc(',', out);
		str(out, "policy_type", r->type);
		fputc(',', out);
		num(out, "reports", r->reports);
		fputc(',', out);
		num(out, "successful_sessions", r->successful);
		fputc(',', out);
		num(out, "failed_sessions", r->failed);
		fputc('}', out);
	}
	fputs("],\"by_policy_type\":[", out);
	for (i = 0; i < d->n_ptypes; i++) {
		const struct agg_ptype *r = &d->ptypes[i];

		fputs(i ? ",{" : "{", out);
		str(out, "policy_type", r->type);
		fputc(',', out);
		num(out, "reports", r->reports);
		fputc(',', out);
		num(out, "successful_sessions", r->successful);
		fputc(',', out);
		num(out, "failed_sessions", r->failed);
		fputc(',', out);
		rate(out, "failure_rate", r->successful, r->failed);
		fputc(',', out);
		num(out, "previous_failed_sessions", r->prev_failed);
		fputc('}', out);
	}
	fputs("],\"by_sending_ip\":[", out);
	for (i = 0; i < d->n_ips; i++) {
		const struct agg_ip *r = &d->ips[i];

		fputs(i ? ",{" : "{", out);
		str(out, "sending_ip", r->ip);
		fputc(',', out);
		num(out, "failed_sessions", r->failed);
		fputc(',', out);
		num(out, "previous_failed_sessions", r->prev_failed);
		fputc(',', out);
		str(out, "top_result_type", r->top_result);
		fputc(',', out);
		strings(out, "organizations", r->orgs, r->n_orgs);
		fputc('}', out);
	}
	fputs("],\"daily\":[", out);
	for (i = 0; i < d->n_days; i++) {
		const struct agg_day *r = &d->days[i];

		fputs(i ? ",{" : "{", out);
		day_field(out, "day", r->day);
		fputc(',', out);
		num(out, "reports", r->reports);
		fputc(',', out);
		num(out, "successful_sessions", r->successful);
		fputc(',', out);
		num(out, "failed_sessions", r->failed);
		fputc(',', out);
		rate(out, "failure_rate", r->successful, r->failed);
		fputc('}', out);
	}
	fputs("],", out);
	previous(out, d);
	fputs(",\"new\":{", out);
	window(out, "compared_with", d->hist_from, d->from);
	fputc(',', out);
	key(out, "history");
	fputs(d->has_history ? "true" : "false", out);
	fputs(",\"mx_result_types\":[", out);
	for (i = 0; i < d->n_new_pairs; i++) {
		fputs(i ? ",{" : "{", out);
		str(out, "mx_host", d->new_pairs[i].mx);
		fputc(',', out);
		str(out, "result_type", d->new_pairs[i].result_type);
		fputc(',', out);
		num(out, "failed_sessions", d->new_pairs[i].failed);
		fputc('}', out);
	}
	fputs("],\"organizations\":[", out);
	for (i = 0; i < d->n_new_orgs; i++) {
		fputs(i ? ",{" : "{", out);
		str(out, "organization", d->new_orgs[i].org);
		fputc(',', out);
		num(out, "failed_sessions", d->new_orgs[i].failed);
		fputc('}', out);
	}
	fputs("]},\"silent_reporters\":[", out);
	for (i = 0; i < d->n_silent; i++) {
		fputs(i ? ",{" : "{", out);
		str(out, "organization", d->silent[i].org);
		fputc(',', out);
		num(out, "previous_reports", d->silent[i].prev_reports);
		fputc(',', out);
		time_field(out, "last_report_start", d->silent[i].last_start);
		fputc('}', out);
	}
	fputs("],\"quarantine\":[", out);
	for (i = 0; i < d->n_quarantine; i++) {
		const struct agg_qitem *q = &d->quarantine[i];

		fputs(i ? ",{" : "{", out);
		/* not the id, time or source: they depend on how and when the
		 * store was filled (`mxdigest quarantine list` has them), and two
		 * stores of the same reports give the same digest */
		str(out, "name", q->name);
		fputc(',', out);
		num(out, "size", (uint64_t)q->size);
		fputc(',', out);
		str(out, "reason", q->reason);
		fputc('}', out);
	}
	fputs("],\"filters\":{", out);
	str(out, "domain", d->f_domain);
	fputc(',', out);
	str(out, "organization", d->f_org);
	fputc(',', out);
	str(out, "mx_host", d->f_mx);
	fputs("},", out);
	strings(out, "alerts", d->alerts, d->n_alerts);
	fputs("}\n", out);
	if (ferror(out))
		return mxd_err_set(err, MXD_E_IO, "cannot write the JSON digest");
	return 0;
}
