/*
 * Unit tests of report/view.c, the content every format writes: the
 * summary lines and the tables of samples/ (week 1 has no previous window,
 * week 2 is the full digest of samples/README.md, week 3 is empty), --top
 * and its "others" rows, the null change without previous data, and the
 * cases where the renderers used to disagree (worst MX hosts, singulars,
 * long windows, capped new pairs, silent reporters).  Renderers only lay
 * the view out, so what is checked here is what every format shows.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "aggregate/aggregate.h"
#include "fetch/fetch.h"
#include "report/view.h"
#include "store/ingest.h"
#include "util/timeutil.h"

#define WEEK1 1794182400	/* 2026-11-09, a Monday */
#define WEEK2 (WEEK1 + 7 * DAY_SECS)
#define WEEK3 (WEEK2 + 7 * DAY_SECS)

/* A table of the view under test. */
#define TABLE(id) (&view.tables[VIEW_T_##id])

static char dir[64], dbpath[128];
static struct store *store;
static struct agg_digest digest;
static struct view view;
static struct buf words;

static int
on_msg(const struct fetch_msg *m, void *ctx)
{
	struct mxd_err err;

	return ingest_message(ctx, m->data, m->len, m->source, m->name,
			      m->truncated_from, &err) < 0;
}

/* A store of samples/, as `mxdigest import samples` makes it. */
static int
setup(void **state)
{
	struct fetch_local_opts fo;
	struct parse_limits lim;
	struct ingest *g;
	struct mxd_err err;
	int rc;

	(void)state;
	strcpy(dir, "/tmp/mxd-report-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/samples.db", dir);
	if (store_open(dbpath, STORE_WRITE, 100, &store, &err) < 0)
		return -1;
	parse_limits_default(&lim);
	g = ingest_new(store, &lim, 100, 0, NULL, NULL);
	memset(&fo, 0, sizeof(fo));
	fo.read_cap = 32u << 20;
	fo.on_msg = on_msg;
	fo.ctx = g;
	rc = fetch_local(MXD_SAMPLES, &fo) || ingest_flush(g, &err) < 0;
	ingest_free(g);
	buf_init(&words, BUF_NOCAP);
	return rc ? -1 : 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	buf_release(&words);
	store_close(store);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The view of [from, to) with --top and --org as given. */
static void
build(int64_t from, int64_t to, unsigned top, const char *org)
{
	struct report_opts o;
	struct agg_query q;
	struct mxd_err err;

	view_release(&view);
	agg_digest_release(&digest);
	memset(&q, 0, sizeof(q));
	q.from = from;
	q.to = to;
	q.org = org;
	assert_int_equal(agg_build(store, &q, &digest, &err), 0);
	memset(&o, 0, sizeof(o));
	o.top = top;
	view_build(&view, &digest, &o);
}

static int
release(void **state)
{
	(void)state;
	view_release(&view);
	agg_digest_release(&digest);
	return 0;
}

/* The column with this JSON key, else with this heading. */
static size_t
col(const struct view_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if ((t->cols[i]->key && strcmp(t->cols[i]->key, name) == 0) ||
		    strcmp(t->cols[i]->name, name) == 0)
			return i;
	fail_msg("no column \"%s\" in \"%s\"", name, t->title);
	return 0;
}

static const struct view_cell *
cell(const struct view_row *r, const struct view_table *t, const char *name)
{
	return &r->cells[col(t, name)];
}

/* What people read in a cell. */
static const char *
shows(const struct view_row *r, const struct view_table *t, const char *name)
{
	size_t i = col(t, name);

	return view_cell_text(t->cols[i], &r->cells[i], &words);
}

static const struct view_row *
row(enum view_id id, size_t i)
{
	assert_true(i < view.tables[id].nrows);
	return &view.tables[id].rows[i];
}

/* The text of the n-th summary line with this label. */
static const char *
line(const char *label)
{
	size_t i;

	for (i = 0; i < view.nlines; i++)
		if (strcmp(view.lines[i].label, label) == 0)
			return view.lines[i].text;
	fail_msg("no summary line \"%s\"", label);
	return NULL;
}

static void
week2(void **state)
{
	const struct view_table *mx = TABLE(MX), *org = TABLE(ORG);
	const struct view_table *dom = TABLE(DOMAIN), *tot = TABLE(TOTALS);
	const struct view_table *w = TABLE(WORST);
	const char *json[8];
	size_t i, n = 0;

	(void)state;
	build(WEEK2, WEEK3, 10, NULL);
	assert_int_equal(cell(row(VIEW_T_TOTALS, 0), tot, "reports")->v.n, 25);
	assert_int_equal(cell(row(VIEW_T_TOTALS, 0), tot, "failed_sessions")->v.n,
			 3942);
	assert_true(fabs(cell(row(VIEW_T_TOTALS, 0), tot, "failure_rate")->v.r -
			 13.9911) < 1e-4);
	assert_false(cell(row(VIEW_T_TOTALS, 0), tot, "failure_rate_change")->null);
	assert_true(fabs(cell(row(VIEW_T_TOTALS, 0), tot,
			      "failure_rate_change")->v.r - 13.9431) < 1e-4);
	assert_string_equal(view.window, "2026-11-16 to 2026-11-22 (7 days, UTC)");

	/* the summary, as tests/cli/expected/week2.txt has it */
	assert_string_equal(line("Reports"),
			    "25 from 7 organizations (previous 7 days: 20 from 6)");
	assert_string_equal(line("Sessions"),
			    "28,175: 24,233 successful, 3,942 failed");
	assert_string_equal(line("Failure rate"),
			    "14.0%  \xe2\x96\xb2 13.9 points (previous 7 days: 0.0%)");
	assert_string_equal(line("New"),
			    "certificate-expired on mx2.example.org (3,899 failed)");
	assert_string_equal(line("Silent"), "none: every organization of the "
			    "previous 7 days reported again");
	assert_string_equal(line("Quarantined"),
			    "5 messages could not be read (mxdigest quarantine list)");
	/* the worst MX hosts: three, in every format */
	assert_null(line("Worst MX"));
	assert_int_equal(w->nrows, 3);
	assert_string_equal(shows(&w->rows[2], w, "MX host"), "mx3.example.org");
	assert_string_equal(shows(&w->rows[0], w, "Failed sessions"),
			    "3,902 failed");

	/* by MX host: every row for people, changes against week 1 */
	assert_int_equal(mx->nrows, 4);
	assert_int_equal(mx->shown, 4);
	assert_int_equal(mx->more, 0);
	assert_null(mx->others);
	assert_string_equal(shows(row(VIEW_T_MX, 2), mx, "mx_host"),
			    "mx3.example.org");
	assert_string_equal(shows(row(VIEW_T_MX, 2), mx, "Change"),
			    "\xe2\x96\xb2 10");
	assert_string_equal(shows(row(VIEW_T_MX, 3), mx, "mx_host"), "(not given)");
	assert_string_equal(cell(row(VIEW_T_MX, 3), mx, "mx_host")->v.s, "");
	/* the JSON members are docs/JSON.md's, in its order */
	for (i = 0; i < mx->ncols; i++)
		if (mx->cols[i]->flags & VIEW_JSON)
			json[n++] = mx->cols[i]->key;
	assert_int_equal(n, 6);
	assert_string_equal(json[0], "mx_host");
	assert_string_equal(json[2], "top_result_type");
	assert_string_equal(json[4], "previous_failed_sessions");
	assert_string_equal(json[5], "result_types");

	/* Company-X did not report in week 1: no rate change, not +10.8 */
	assert_string_equal(row(VIEW_T_ORG, 2)->cells[0].v.s, "Company-X");
	assert_true(cell(row(VIEW_T_ORG, 2), org, "failure_rate_change")->null);
	assert_string_equal(shows(row(VIEW_T_ORG, 2), org, "Change"), "-");
	assert_string_equal(shows(row(VIEW_T_ORG, 6), org, "Change"), "=");
	assert_string_equal(shows(row(VIEW_T_ORG, 0), org, "Daily"),
			    "\xe2\x96\x83\xe2\x96\x83\xe2\x96\x88\xe2\x96\x88"
			    "\xe2\x96\x87\xe2\x96\x86\xe2\x96\x86");

	/* example.org has sts and tlsa: each under it, for people only */
	assert_int_equal(dom->nrows, 4);
	assert_false(dom->rows[0].part);
	assert_true(dom->rows[1].part && dom->rows[2].part);
	assert_string_equal(shows(&dom->rows[2], dom, "policy_types"), "tlsa");
	assert_string_equal(shows(&dom->rows[2], dom, "Successful"), "6,538");
	assert_string_equal(shows(&dom->rows[2], dom, "Change"), "");

	/* the summary shows every new pair: no table of them for people */
	assert_int_equal(view.tables[VIEW_T_NEW].nrows, 3);
	assert_false(view.tables[VIEW_T_NEW].people);
	assert_int_equal(view.tables[VIEW_T_NEW_ORGS].nrows, 3);
	assert_int_equal(view.tables[VIEW_T_RESULT].nnotes, 1);
	assert_string_equal(view.tables[VIEW_T_RESULT].notes[0], view.caveat);
	assert_int_equal(view.tables[VIEW_T_DAILY].nrows, 7);
	assert_null(view.tables[VIEW_T_DAILY].message);
	assert_string_equal(view.subject, "TLS-RPT digest 2026-11-16 to "
			    "2026-11-22 (7 days, UTC): 3,942 failed sessions "
			    "(14.0%)");
}

/* Week 1 has nothing before it: every change is null, for every format. */
static void
no_previous_window(void **state)
{
	const struct view_table *tot = TABLE(TOTALS), *mx = TABLE(MX);
	const struct view_table *org = TABLE(ORG);
	const struct view_col *c;
	size_t i;

	(void)state;
	build(WEEK1, WEEK2, 10, NULL);
	assert_int_equal(cell(row(VIEW_T_PREV_TOTALS, 0),
			      &view.tables[VIEW_T_PREV_TOTALS], "reports")->v.n, 0);
	i = col(tot, "failure_rate_change");
	c = tot->cols[i];
	assert_true(tot->rows[0].cells[i].null);
	/* JSON null; CSV and the workbook write nothing */
	assert_string_equal(view_cell_value(c, &tot->rows[0].cells[i], &words), "");
	assert_string_equal(line("Failure rate"),
			    "0.0% (no sessions in the previous 7 days)");
	for (i = 0; i < mx->nrows; i++)
		assert_true(cell(&mx->rows[i], mx, "Change")->null);
	for (i = 0; i < org->nrows; i++)
		assert_string_equal(shows(&org->rows[i], org, "Change"), "-");
	assert_string_equal(line("New"), "- (no earlier reports to compare with)");
	assert_string_equal(view.tables[VIEW_T_NEW].empty,
			    "- (no earlier reports to compare with)");
	assert_false(view.history);
	/* nobody reported before: nobody went silent */
	assert_string_equal(line("Silent"), "none");
}

static void
empty_window(void **state)
{
	const struct view_table *tot = TABLE(TOTALS), *day = TABLE(DAILY);

	(void)state;
	build(WEEK3, WEEK3 + 7 * DAY_SECS, 10, NULL);
	assert_int_equal(view.tables[VIEW_T_MX].nrows, 0);
	assert_true(view.tables[VIEW_T_MX].people);
	assert_string_equal(view.tables[VIEW_T_MX].message,
			    "No failure details reported.");
	assert_string_equal(view.tables[VIEW_T_ORG].message,
			    "No reports in this window.");
	assert_false(view.tables[VIEW_T_PTYPE].people);
	/* the quarantine is of no window */
	assert_int_equal(view.tables[VIEW_T_QUARANTINE].nrows, 5);
	/* no sessions now: no change either */
	assert_true(cell(row(VIEW_T_TOTALS, 0), tot, "failure_rate_change")->null);
	assert_string_equal(line("Failure rate"), "- (no sessions)");
	assert_string_equal(line("Worst MX"), "none: no failure details reported");
	assert_string_equal(line("Silent"),
			    "Google Inc., Microsoft Corporation and 5 more");
	assert_int_equal(view.tables[VIEW_T_SILENT].nrows, 7);
	assert_int_equal(day->nrows, 7);
	/* a rate of no sessions: "-" for people, 0 for scripts */
	assert_string_equal(shows(&day->rows[0], day, "Rate"), "-");
	assert_string_equal(view_cell_value(day->cols[col(day, "Rate")],
					    cell(&day->rows[0], day, "Rate"), &words),
			    "0.0000");
	assert_string_equal(shows(&day->rows[0], day, "Failed sessions"), "");
}

/* --top: the rows left out are summed in one row, in one place for every
 * table of the text and HTML digests; the data formats keep every row. */
static void
top_n_others(void **state)
{
	const struct view_table *mx = TABLE(MX), *org = TABLE(ORG);
	const struct view_table *res = TABLE(RESULT), *dom = TABLE(DOMAIN);
	const struct view_table *q = TABLE(QUARANTINE);

	(void)state;
	build(WEEK2, WEEK3, 2, NULL);
	assert_int_equal(mx->nrows, 4);
	assert_int_equal(mx->shown, 2);
	assert_int_equal(mx->more, 2);
	assert_non_null(mx->others);
	assert_string_equal(shows(mx->others, mx, "MX host"), "(2 others)");
	assert_string_equal(shows(mx->others, mx, "Failed"), "23");
	/* (17 + 6) now against (7 + 5) before */
	assert_string_equal(shows(mx->others, mx, "Change"), "\xe2\x96\xb2 11");
	assert_true(cell(mx->others, mx, "Orgs")->blank);
	assert_string_equal(mx->notes[0], "... and 2 more (use --top 0 to see all)");

	assert_int_equal(org->shown, 2);
	assert_int_equal(org->more, 5);
	assert_string_equal(shows(org->others, org, "Organization"), "(5 others)");
	assert_string_equal(shows(org->others, org, "Reports"), "10");
	assert_string_equal(shows(org->others, org, "Sessions"), "624");
	assert_string_equal(shows(org->others, org, "Failed"), "90");
	assert_string_equal(shows(org->others, org, "Rate"), "14.4%");
	assert_string_equal(shows(org->others, org, "Daily"), "");

	/* reports that carried a result type do not add up */
	assert_string_equal(shows(res->others, res, "Reports"), "");
	assert_string_equal(shows(res->others, res, "Share"), "0.2%");
	assert_int_equal(res->nnotes, 2);
	assert_string_equal(res->notes[0], "... and 2 more (use --top 0 to see all)");
	assert_string_equal(res->notes[1], view.caveat);

	/* a domain's breakdown is shown with it, not counted by --top */
	assert_int_equal(dom->shown, 4);
	assert_int_equal(dom->more, 0);
	build(WEEK2, WEEK3, 1, NULL);
	assert_int_equal(dom->shown, 3);
	assert_int_equal(dom->more, 1);
	assert_string_equal(shows(dom->others, dom, "Successful"), "436");
	assert_string_equal(shows(dom->others, dom, "Policy"), "");
	/* no sum of quarantine entries: only how many more there are */
	assert_int_equal(q->shown, 1);
	assert_int_equal(q->more, 4);
	assert_null(q->others);
	/* the daily series is never cut */
	assert_int_equal(view.tables[VIEW_T_DAILY].shown, 7);
}

/* Where the renderers used to differ. */
static void
drifts(void **state)
{
	(void)state;
	/* singulars, in the text and the HTML digest alike */
	build(WEEK2, WEEK3, 10, "Mail.ru");
	assert_string_equal(line("Reports"),
			    "2 from 1 organization (previous 7 days: 2 from 1)");
	assert_string_equal(view.only, "Only organization Mail.ru");
	/* a long window: the daily table gives way to a message (31 days) */
	build(WEEK1 - 8 * DAY_SECS, WEEK3 + 18 * DAY_SECS, 10, NULL);
	assert_int_equal(view.tables[VIEW_T_DAILY].nrows, 40);
	assert_string_equal(view.tables[VIEW_T_DAILY].message, "40 days: the daily "
			    "series is in --format json, csv --by day and xlsx.");
	build(WEEK1, WEEK1 + 31 * DAY_SECS, 10, NULL);
	assert_null(view.tables[VIEW_T_DAILY].message);
}

/* A digest made by hand: more new pairs than the summary shows. */
static void
new_capped(void **state)
{
	static struct agg_new_pair pairs[] = {
		{"mx1.example.org", "certificate-expired", 50},
		{"mx2.example.org", "certificate-expired", 40},
		{"mx3.example.org", "starttls-not-supported", 30},
		{"", "sts-policy-fetch-error", 20},
		{"mx4.example.org", "validation-failure", 10},
	};
	static struct agg_new_org orgs[] = {{"Google Inc.", 90}, {"Mail.ru", 5}};
	struct agg_digest d;
	struct report_opts o;
	struct view v;
	size_t i, n = 0;

	(void)state;
	memset(&d, 0, sizeof(d));
	memset(&o, 0, sizeof(o));
	d.from = WEEK2;
	d.to = WEEK3;
	d.prev_from = WEEK1;
	d.prev_to = WEEK2;
	d.hist_from = WEEK2 - 28 * DAY_SECS;
	d.has_history = 1;
	d.new_pairs = pairs;
	d.n_new_pairs = 5;
	d.new_orgs = orgs;
	d.n_new_orgs = 2;
	o.top = 4;
	view_build(&v, &d, &o);
	for (i = 0; i < v.nlines; i++)
		if (strcmp(v.lines[i].label, "New") == 0 ||
		    (n && !*v.lines[i].label))
			n++;
		else if (n)
			break;
	/* three pairs, the organizations, and a pointer to the table */
	assert_int_equal(n, 5);
	assert_string_equal(v.lines[i - 2].text, "failures from Google Inc., Mail.ru");
	assert_string_equal(v.lines[i - 1].text,
			    "... and 2 more (see \"New this window\" below)");
	assert_true(v.tables[VIEW_T_NEW].people);
	assert_int_equal(v.tables[VIEW_T_NEW].shown, 4);
	assert_string_equal(v.tables[VIEW_T_NEW].notes[0],
			    "... and 1 more (use --top 0 to see all)");
	assert_string_equal(v.tables[VIEW_T_NEW].notes[1],
			    "New failures from: Google Inc., Mail.ru");
	view_release(&v);

	/* one pair, but more organizations than fit a line: the table too */
	d.n_new_pairs = 1;
	d.new_orgs = (struct agg_new_org[]){
		{"A very long organization name, Inc.", 1},
		{"Another very long organization name, Ltd.", 1},
		{"Yet another organization", 1}};
	d.n_new_orgs = 3;
	view_build(&v, &d, &o);
	assert_true(v.tables[VIEW_T_NEW].people);
	view_release(&v);
	d.n_new_orgs = 1;
	view_build(&v, &d, &o);
	assert_false(v.tables[VIEW_T_NEW].people);
	view_release(&v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(week2, release),
		cmocka_unit_test_teardown(no_previous_window, release),
		cmocka_unit_test_teardown(empty_window, release),
		cmocka_unit_test_teardown(top_n_others, release),
		cmocka_unit_test_teardown(drifts, release),
		cmocka_unit_test(new_capped),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
