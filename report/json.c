/*
 * json.c — the digest as JSON for scripts and jq (schema in docs/JSON.md).
 *
 * The shape is stable: fields are only ever added.  Arrays are sorted by
 * failed_sessions (descending), then by name.
 */
#include <stdio.h>

#include "report/report_p.h"
#include "util/timeutil.h"
#include "util/utf8.h"

#define JSON_SCHEMA_VERSION 1

void
report_json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', out);
	for (; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
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

int
report_render_json(const struct agg_digest *d, const struct report_opts *o,
		   FILE *out, struct mxd_err *err)
{
	char from[32], to[32], gen[32];
	size_t i, k;

	time_format_iso(d->from, from);
	time_format_iso(d->to, to);
	time_format_iso(o->generated, gen);
	fprintf(out, "{\"schema_version\":%d,", JSON_SCHEMA_VERSION);
	str(out, "generated", gen);
	fputs(",\"window\":{", out);
	str(out, "from", from);
	fputc(',', out);
	str(out, "to", to);
	fputs("},\"totals\":{", out);
	num(out, "reports", d->totals.reports);
	fputc(',', out);
	num(out, "organizations", d->totals.organizations);
	fputc(',', out);
	num(out, "successful_sessions", d->totals.successful);
	fputc(',', out);
	num(out, "failed_sessions", d->totals.failed);
	fputc(',', out);
	rate(out, "failure_rate", d->totals.successful, d->totals.failed);
	fputc(',', out);
	num(out, "quarantined", (uint64_t)d->totals.quarantined);
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
		fputc('}', out);
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
		fputs(",\"organizations\":[", out);
		for (k = 0; k < r->n_orgs; k++) {
			if (k)
				fputc(',', out);
			report_json_string(out, r->orgs[k]);
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
	fputs("]}\n", out);
	if (ferror(out))
		return mxd_err_set(err, MXD_E_IO, "cannot write the JSON digest");
	return 0;
}
