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

/*
 * A small writer that puts the commas itself: `first` is set when an
 * object or array opens and cleared by the first member, so each member is
 * one call.
 */
struct jw {
	FILE *out;
	int first;
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
obj(struct jw *w, const char *k)
{
	open_(w, k, '{');
}

static void
arr(struct jw *w, const char *k)
{
	open_(w, k, '[');
}

static void
end(struct jw *w, int c)
{
	fputc(c, w->out);
	w->first = 0;
}

static void
num(struct jw *w, const char *k, uint64_t v)
{
	key(w, k);
	fprintf(w->out, "%llu", (unsigned long long)v);
}

static void
real(struct jw *w, const char *k, double v)
{
	key(w, k);
	fprintf(w->out, "%.4f", v);
}

static void
boolean(struct jw *w, const char *k, int v)
{
	key(w, k);
	fputs(v ? "true" : "false", w->out);
}

static void
str(struct jw *w, const char *k, const char *v)
{
	key(w, k);
	if (v)
		report_json_string(w->out, v);
	else
		fputs("null", w->out);
}

static void
rate(struct jw *w, const char *k, uint64_t ok, uint64_t bad)
{
	real(w, k, agg_fail_rate(ok, bad));
}

static void
time_field(struct jw *w, const char *k, int64_t t)
{
	char iso[32];

	time_format_iso(t, iso);
	str(w, k, iso);
}

static void
day_field(struct jw *w, const char *k, int64_t t)
{
	char day[16];

	time_format_date(t, day);
	str(w, k, day);
}

static void
strings(struct jw *w, const char *k, const char *const *v, size_t n)
{
	size_t i;

	arr(w, k);
	for (i = 0; i < n; i++) {
		sep(w);
		report_json_string(w->out, v[i]);
	}
	end(w, ']');
}

static void
window(struct jw *w, const char *k, int64_t from, int64_t to)
{
	obj(w, k);
	time_field(w, "from", from);
	time_field(w, "to", to);
	end(w, '}');
}

/* reports, organizations, successful, failed and rate of some totals */
static void
totals(struct jw *w, const struct agg_totals *t)
{
	num(w, "reports", t->reports);
	num(w, "organizations", t->organizations);
	num(w, "successful_sessions", t->successful);
	num(w, "failed_sessions", t->failed);
	rate(w, "failure_rate", t->successful, t->failed);
}

static void
by_organization(struct jw *w, const struct agg_digest *d)
{
	size_t i, k;

	arr(w, "by_organization");
	for (i = 0; i < d->n_orgs; i++) {
		const struct agg_org *r = &d->orgs[i];

		obj(w, NULL);
		str(w, "organization", r->org);
		num(w, "reports", r->reports);
		num(w, "successful_sessions", r->successful);
		num(w, "failed_sessions", r->failed);
		rate(w, "failure_rate", r->successful, r->failed);
		num(w, "previous_reports", r->prev_reports);
		num(w, "previous_successful_sessions", r->prev_successful);
		num(w, "previous_failed_sessions", r->prev_failed);
		boolean(w, "new_failures", r->new_failures);
		arr(w, "daily_failed_sessions");
		for (k = 0; k < r->n_daily; k++) {
			obj(w, NULL);
			day_field(w, "day", r->daily[k].day);
			num(w, "failed_sessions", r->daily[k].failed);
			end(w, '}');
		}
		end(w, ']');
		end(w, '}');
	}
	end(w, ']');
}

static void
by_mx_host(struct jw *w, const struct agg_digest *d)
{
	size_t i, k;

	arr(w, "by_mx_host");
	for (i = 0; i < d->n_mx; i++) {
		const struct agg_mx *r = &d->mx[i];

		obj(w, NULL);
		str(w, "mx_host", r->mx);
		num(w, "failed_sessions", r->failed);
		str(w, "top_result_type", r->top_result);
		strings(w, "organizations", r->orgs, r->n_orgs);
		num(w, "previous_failed_sessions", r->prev_failed);
		arr(w, "result_types");
		for (k = 0; k < r->n_results; k++) {
			obj(w, NULL);
			str(w, "result_type", r->results[k].result_type);
			num(w, "failed_sessions", r->results[k].failed);
			boolean(w, "new", r->results[k].is_new);
			end(w, '}');
		}
		end(w, ']');
		end(w, '}');
	}
	end(w, ']');
}

/* The tables whose rows are flat objects. */
static void
flat_tables(struct jw *w, const struct agg_digest *d)
{
	size_t i;

	arr(w, "by_result_type");
	for (i = 0; i < d->n_results; i++) {
		const struct agg_result *r = &d->results[i];

		obj(w, NULL);
		str(w, "result_type", r->result_type);
		num(w, "failed_sessions", r->failed);
		num(w, "reports", r->reports);
		num(w, "previous_failed_sessions", r->prev_failed);
		end(w, '}');
	}
	end(w, ']');
	arr(w, "by_policy_domain");
	for (i = 0; i < d->n_domains; i++) {
		const struct agg_domain *r = &d->domains[i];

		obj(w, NULL);
		str(w, "policy_domain", r->domain);
		str(w, "policy_types", r->types);
		num(w, "successful_sessions", r->successful);
		num(w, "failed_sessions", r->failed);
		rate(w, "failure_rate", r->successful, r->failed);
		num(w, "previous_successful_sessions", r->prev_successful);
		num(w, "previous_failed_sessions", r->prev_failed);
		end(w, '}');
	}
	end(w, ']');
	arr(w, "by_policy");
	for (i = 0; i < d->n_policies; i++) {
		const struct agg_policy *r = &d->policies[i];

		obj(w, NULL);
		str(w, "policy_domain", r->domain);
		str(w, "policy_type", r->type);
		num(w, "reports", r->reports);
		num(w, "successful_sessions", r->successful);
		num(w, "failed_sessions", r->failed);
		end(w, '}');
	}
	end(w, ']');
	arr(w, "by_policy_type");
	for (i = 0; i < d->n_ptypes; i++) {
		const struct agg_ptype *r = &d->ptypes[i];

		obj(w, NULL);
		str(w, "policy_type", r->type);
		num(w, "reports", r->reports);
		num(w, "successful_sessions", r->successful);
		num(w, "failed_sessions", r->failed);
		rate(w, "failure_rate", r->successful, r->failed);
		num(w, "previous_failed_sessions", r->prev_failed);
		end(w, '}');
	}
	end(w, ']');
	arr(w, "by_sending_ip");
	for (i = 0; i < d->n_ips; i++) {
		const struct agg_ip *r = &d->ips[i];

		obj(w, NULL);
		str(w, "sending_ip", r->ip);
		num(w, "failed_sessions", r->failed);
		num(w, "previous_failed_sessions", r->prev_failed);
		str(w, "top_result_type", r->top_result);
		strings(w, "organizations", r->orgs, r->n_orgs);
		end(w, '}');
	}
	end(w, ']');
	arr(w, "daily");
	for (i = 0; i < d->n_days; i++) {
		const struct agg_day *r = &d->days[i];

		obj(w, NULL);
		day_field(w, "day", r->day);
		num(w, "reports", r->reports);
		num(w, "successful_sessions", r->successful);
		num(w, "failed_sessions", r->failed);
		rate(w, "failure_rate", r->successful, r->failed);
		end(w, '}');
	}
	end(w, ']');
}

/* Fields added after schema 1 was published come after the original ones,
 * so that the first fields of every object stay where they were. */
static void
changes(struct jw *w, const struct agg_digest *d)
{
	size_t i;

	window(w, "previous_window", d->prev_from, d->prev_to);
	obj(w, "previous_totals");
	totals(w, &d->prev);
	end(w, '}');
	obj(w, "new");
	window(w, "compared_with", d->hist_from, d->from);
	boolean(w, "history", d->has_history);
	arr(w, "mx_result_types");
	for (i = 0; i < d->n_new_pairs; i++) {
		obj(w, NULL);
		str(w, "mx_host", d->new_pairs[i].mx);
		str(w, "result_type", d->new_pairs[i].result_type);
		num(w, "failed_sessions", d->new_pairs[i].failed);
		end(w, '}');
	}
	end(w, ']');
	arr(w, "organizations");
	for (i = 0; i < d->n_new_orgs; i++) {
		obj(w, NULL);
		str(w, "organization", d->new_orgs[i].org);
		num(w, "failed_sessions", d->new_orgs[i].failed);
		end(w, '}');
	}
	end(w, ']');
	end(w, '}');
	arr(w, "silent_reporters");
	for (i = 0; i < d->n_silent; i++) {
		obj(w, NULL);
		str(w, "organization", d->silent[i].org);
		num(w, "previous_reports", d->silent[i].prev_reports);
		time_field(w, "last_report_start", d->silent[i].last_start);
		end(w, '}');
	}
	end(w, ']');
	arr(w, "quarantine");
	for (i = 0; i < d->n_quarantine; i++) {
		const struct agg_qitem *q = &d->quarantine[i];

		/* not the id, time or source: they depend on how and when the
		 * store was filled (`mxdigest quarantine list` has them), and two
		 * stores of the same reports give the same digest */
		obj(w, NULL);
		str(w, "name", q->name);
		num(w, "size", (uint64_t)q->size);
		str(w, "reason", q->reason);
		end(w, '}');
	}
	end(w, ']');
	obj(w, "filters");
	str(w, "domain", d->f_domain);
	str(w, "organization", d->f_org);
	str(w, "mx_host", d->f_mx);
	end(w, '}');
	strings(w, "alerts", d->alerts, d->n_alerts);
}

int
report_render_json(const struct agg_digest *d, const struct report_opts *o,
		   FILE *out, struct mxd_err *err)
{
	const struct agg_totals *t = &d->totals;
	struct jw w = {out, 1};

	obj(&w, NULL);
	num(&w, "schema_version", JSON_SCHEMA_VERSION);
	time_field(&w, "generated", o->generated);
	window(&w, "window", d->from, d->to);
	obj(&w, "totals");
	totals(&w, t);
	num(&w, "quarantined", (uint64_t)t->quarantined);
	real(&w, "failure_rate_change", agg_fail_rate(t->successful, t->failed) -
	     agg_fail_rate(d->prev.successful, d->prev.failed));
	end(&w, '}');
	by_organization(&w, d);
	by_mx_host(&w, d);
	flat_tables(&w, d);
	changes(&w, d);
	end(&w, '}');
	fputc('\n', out);
	if (ferror(out))
		return mxd_err_set(err, MXD_E_IO, "cannot write the JSON digest");
	return 0;
}
