/*
 * text.c — the digest as text for a terminal or a cron mail: a short
 * summary, then tables, fitting 80 columns, in a deterministic order.
 */
#include <stdio.h>
#include <string.h>

#include "report/report_p.h"
#include "util/strutil.h"
#include "util/timeutil.h"

#define BOLD "\033[1m"
#define RED "\033[31m"
#define RESET "\033[0m"

static void
heading(FILE *out, const struct report_opts *o, const char *title)
{
	fprintf(out, "\n%s%s%s\n", o->color ? BOLD : "", title, o->color ? RESET : "");
}

static const char *
pct(uint64_t ok, uint64_t bad, char out[16])
{
	uint64_t total = ok + bad;

	if (!total)
		snprintf(out, 16, "-");
	else
		snprintf(out, 16, "%.1f%%", agg_fail_rate(ok, bad));
	return out;
}

static size_t
limit(size_t n, const struct report_opts *o)
{
	return o->top && o->top < n ? o->top : n;
}

static void
more(FILE *out, size_t shown, size_t n)
{
	if (shown < n)
		fprintf(out, "  ... and %zu more (use --top 0 to see all)\n", n - shown);
}

static void
by_mx(FILE *out, const struct agg_digest *d, const struct report_opts *o)
{
	static const char *head[] = {"MX host", "Failed", "Top result type",
				     "Seen by"};
	static enum col_align al[] = {COL_LEFT, COL_RIGHT, COL_LEFT, COL_LEFT};
	static size_t maxw[] = {28, 0, 26, 24};
	struct table t;
	size_t i, k, n = limit(d->n_mx, o);
	char failed[32], orgs[512];

	heading(out, o, "Failures by MX host");
	if (!d->n_mx) {
		fputs("  No failure details reported.\n", out);
		return;
	}
	table_init(&t, 4, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_mx *m = &d->mx[i];
		const char *row[4];
		size_t used = 0;

		orgs[0] = '\0';
		for (k = 0; k < m->n_orgs && used < sizeof(orgs) - 1; k++) {
			int w = snprintf(orgs + used, sizeof(orgs) - used, "%s%s",
					 k ? ", " : "", m->orgs[k]);

			if (w < 0)
				break;
			used += (size_t)w;
		}
		row[0] = m->mx[0] ? m->mx : "(not given)";
		row[1] = str_thousands(m->failed, failed);
		row[2] = m->top_result ? m->top_result : "";
		row[3] = orgs;
		table_add(&t, row);
	}
	table_print(&t, out, 2, o->color);
	table_release(&t);
	more(out, n, d->n_mx);
}

static void
by_org(FILE *out, const struct agg_digest *d, const struct report_opts *o)
{
	static const char *head[] = {"Organization", "Reports", "Successful",
				     "Failed", "Failed %"};
	static enum col_align al[] = {COL_LEFT, COL_RIGHT, COL_RIGHT, COL_RIGHT,
				      COL_RIGHT};
	static size_t maxw[] = {34, 0, 0, 0, 0};
	struct table t;
	size_t i, n = limit(d->n_orgs, o);
	char a[32], b[32], c[32], p[16];

	heading(out, o, "By sending organization");
	if (!d->n_orgs) {
		fputs("  No reports in this window.\n", out);
		return;
	}
	table_init(&t, 5, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_org *r = &d->orgs[i];
		const char *row[5] = {r->org, str_thousands(r->reports, a),
				      str_thousands(r->successful, b),
				      str_thousands(r->failed, c),
				      pct(r->successful, r->failed, p)};

		table_add(&t, row);
	}
	table_print(&t, out, 2, o->color);
	table_release(&t);
	more(out, n, d->n_orgs);
}

static void
by_result(FILE *out, const struct agg_digest *d, const struct report_opts *o)
{
	static const char *head[] = {"Result type", "Failed", "Reports"};
	static enum col_align al[] = {COL_LEFT, COL_RIGHT, COL_RIGHT};
	static size_t maxw[] = {40, 0, 0};
	struct table t;
	size_t i, n = limit(d->n_results, o);
	char a[32], b[32];

	heading(out, o, "Failures by result type");
	if (!d->n_results) {
		fputs("  No failure details reported.\n", out);
		return;
	}
	table_init(&t, 3, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_result *r = &d->results[i];
		const char *row[3] = {r->result_type, str_thousands(r->failed, a),
				      str_thousands(r->reports, b)};

		table_add(&t, row);
	}
	table_print(&t, out, 2, o->color);
	table_release(&t);
	more(out, n, d->n_results);
}

static void
by_domain(FILE *out, const struct agg_digest *d, const struct report_opts *o)
{
	static const char *head[] = {"Policy domain", "Policy", "Successful",
				     "Failed", "Failed %"};
	static enum col_align al[] = {COL_LEFT, COL_LEFT, COL_RIGHT, COL_RIGHT,
				      COL_RIGHT};
	static size_t maxw[] = {30, 22, 0, 0, 0};
	struct table t;
	size_t i, k, n = limit(d->n_domains, o);
	char a[32], b[32], p[16], type[64];

	heading(out, o, "By policy domain and policy type");
	if (!d->n_domains) {
		fputs("  No policies reported.\n", out);
		return;
	}
	table_init(&t, 5, head, al, maxw);
	for (i = 0; i < n; i++) {
		const struct agg_domain *r = &d->domains[i];
		const char *row[5] = {r->domain, r->types,
				      str_thousands(r->successful, a),
				      str_thousands(r->failed, b),
				      pct(r->successful, r->failed, p)};
		size_t types = 0;

		table_add(&t, row);
		for (k = 0; k < d->n_policies; k++)
			types += strcmp(d->policies[k].domain, r->domain) == 0;
		if (types < 2)
			continue;
		/* several types describe the same sessions: show each */
		for (k = 0; k < d->n_policies; k++) {
			const struct agg_policy *pp = &d->policies[k];

			if (strcmp(pp->domain, r->domain) != 0)
				continue;
			snprintf(type, sizeof(type), "  %s", pp->type);
			row[0] = "";
			row[1] = type;
			row[2] = str_thousands(pp->successful, a);
			row[3] = str_thousands(pp->failed, b);
			row[4] = pct(pp->successful, pp->failed, p);
			table_add(&t, row);
		}
	}
	table_print(&t, out, 2, o->color);
	table_release(&t);
	more(out, n, d->n_domains);
}

int
report_render_text(const struct agg_digest *d, const struct report_opts *o,
		   FILE *out, struct mxd_err *err)
{
	char win[96], a[32], b[32], c[32], p[16];
	const struct agg_totals *t = &d->totals;

	report_window_label(d->from, d->to, win, sizeof(win));
	fprintf(out, "%sTLS-RPT digest%s  %s\n\n", o->color ? BOLD : "",
		o->color ? RESET : "", win);
	fprintf(out, "  Reports     %s from %s organization%s\n",
		str_thousands(t->reports, a), str_thousands(t->organizations, b),
		t->organizations == 1 ? "" : "s");
	fprintf(out, "  Sessions    %s successful, %s%s failed%s (%s)\n",
		str_thousands(t->successful, a),
		o->color && t->failed ? RED : "", str_thousands(t->failed, b),
		o->color && t->failed ? RESET : "", pct(t->successful, t->failed, p));
	if (t->quarantined)
		fprintf(out, "  Quarantine  %s message%s could not be read "
			"(mxdigest quarantine list)\n",
			str_thousands((uint64_t)t->quarantined, c),
			t->quarantined == 1 ? "" : "s");
	else
		fputs("  Quarantine  empty\n", out);
	if (d->n_mx && d->mx[0].failed)
		fprintf(out, "  Worst MX    %s: %s failed session%s, mostly %s\n",
			d->mx[0].mx[0] ? d->mx[0].mx : "(not given)",
			str_thousands(d->mx[0].failed, a),
			d->mx[0].failed == 1 ? "" : "s",
			d->mx[0].top_result ? d->mx[0].top_result : "?");
	by_mx(out, d, o);
	by_org(out, d, o);
	by_result(out, d, o);
	by_domain(out, d, o);
	if (ferror(out))
		return mxd_err_set(err, MXD_E_IO, "cannot write the digest");
	return 0;
}
