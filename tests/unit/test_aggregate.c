/*
 * Unit tests of aggregate/ (and store/query.c under it): windows that tile
 * on generated data (totals, per MX host, per organization, daily series),
 * the previous window and its deltas, "new this window", silent reporters,
 * alerts, top-N rests, sparkline cells, and the failure details as sent.
 */
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
#include "store/ingest.h"
#include "util/hash.h"
#include "util/timeutil.h"

#define DAY0 1794182400	/* 2026-11-09, a Monday */

static char dir[64];
static char dbpath[256];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/mxd-agg-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * A report starting at `start` with one sts policy for `domain` and, when
 * `bad` > 0, one failure detail of `bad` sessions on `mx` (type `result`).
 */
static char *
report(const char *org, const char *id, int64_t start, const char *domain,
       unsigned ok, unsigned bad, const char *mx, const char *result)
{
	char s[32], e[32], details[512] = "";
	char *j = malloc(4096);

	time_format_iso(start, s);
	time_format_iso(start + DAY_SECS - 1, e);
	if (bad)
		snprintf(details, sizeof(details),
			 ",\"failure-details\":[{\"result-type\":\"%s\","
			 "\"sending-mta-ip\":\"192.0.2.%u\","
			 "\"receiving-mx-hostname\":\"%s\","
			 "\"failed-session-count\":%u}]", result, bad % 200, mx, bad);
	snprintf(j, 4096,
		 "{\"organization-name\":\"%s\",\"report-id\":\"%s\","
		 "\"date-range\":{\"start-datetime\":\"%s\",\"end-datetime\":\"%s\"},"
		 "\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
		 "\"%s\"},\"summary\":{\"total-successful-session-count\":%u,"
		 "\"total-failure-session-count\":%u}%s}]}",
		 org, id, s, e, domain, ok, bad, details);
	return j;
}

/* Each test has its own database; `details` reads the one before it. */
static struct store *
open_w(const char *name)
{
	struct store *s = NULL;
	struct mxd_err err;

	snprintf(dbpath, sizeof(dbpath), "%s/%s.db", dir, name);
	assert_int_equal(store_open(dbpath, STORE_WRITE, 100, &s, &err), 0);
	return s;
}

static void
put(struct ingest *g, char *json)
{
	struct mxd_err err;

	assert_int_equal(ingest_message(g, json, strlen(json), "test", NULL, 0, &err), 0);
	free(json);
}

static void
build(struct store *s, int64_t from, int64_t to, struct agg_digest *d)
{
	struct agg_query q;
	struct mxd_err err;

	memset(&q, 0, sizeof(q));
	q.from = from;
	q.to = to;
	assert_int_equal(agg_build(s, &q, d, &err), 0);
}

static const char *orgs[] = {"Google Inc.", "Microsoft Corporation", "Mail.ru",
			     "Mimecast", "Stalwart"};
static const char *mxs[] = {"mx1.example.org", "mx2.example.org", "MX3.Example.Org"};
static const char *results[] = {"certificate-expired", "starttls-not-supported",
				"validation-failure"};

/* Reports at random hours over ten weeks (and one before and one at the
 * very first and last second of a week). */
static void
generated(void **state)
{
	struct store *s = open_w("generated");
	struct ingest *g = ingest_new(s, NULL, 200, 2, NULL, NULL);
	struct agg_digest all, w;
	struct mxd_err err;
	uint64_t reports = 0, failed = 0, ok = 0, mx2 = 0, google = 0, days = 0;
	uint64_t day_failed = 0, org_daily = 0;
	int64_t from, to;
	size_t i, k;
	int n;

	(void)state;
	srand(11);
	for (n = 0; n < 600; n++) {
		char id[32];
		int64_t start = DAY0 + (int64_t)(rand() % (70 * 24)) * 3600 +
				rand() % 3600;
		unsigned bad = (unsigned)(rand() % 4 ? 0 : 1 + rand() % 50);

		if (n == 0)
			start = DAY0 + 7 * DAY_SECS;		/* first second */
		if (n == 1)
			start = DAY0 + 14 * DAY_SECS - 1;	/* last second */
		snprintf(id, sizeof(id), "g-%d", n);
		put(g, report(orgs[rand() % 5], id, start,
			      rand() % 3 ? "example.org" : "shop.example.net",
			      (unsigned)(rand() % 500), bad, mxs[rand() % 3],
			      results[rand() % 3]));
	}
	assert_int_equal(ingest_flush(g, &err), 0);
	ingest_free(g);

	build(s, DAY0, DAY0 + 70 * DAY_SECS, &all);
	assert_int_equal(all.totals.reports, 600);
	assert_int_equal(all.n_days, 70);
	/* weekly --since 7d runs, each at some hour of a Monday, tile time */
	for (n = 1; n <= 10; n++) {
		int64_t now = DAY0 + (int64_t)n * 7 * DAY_SECS + 3600 * (n % 24) + n;

		assert_int_equal(agg_parse_since("7d", now, &from, &to), 0);
		build(s, from, to, &w);
		assert_int_equal(w.n_days, 7);
		reports += w.totals.reports;
		failed += w.totals.failed;
		ok += w.totals.successful;
		for (i = 0; i < w.n_mx; i++)
			if (strcmp(w.mx[i].mx, "mx2.example.org") == 0)
				mx2 += w.mx[i].failed;
		for (i = 0; i < w.n_orgs; i++) {
			if (strcmp(w.orgs[i].org, "Google Inc.") == 0)
				google += w.orgs[i].failed;
			for (k = 0; k < w.orgs[i].n_daily; k++)
				org_daily += w.orgs[i].daily[k].failed;
		}
		for (i = 0; i < w.n_days; i++) {
			days += w.days[i].reports;
			day_failed += w.days[i].failed;
		}
		/* the previous window is the week before, same length */
		assert_int_equal(w.prev_to, w.from);
		assert_int_equal(w.prev_to - w.prev_from, w.to - w.from);
		agg_digest_release(&w);
	}
	assert_int_equal(reports, all.totals.reports);
	assert_int_equal(failed, all.totals.failed);
	assert_int_equal(ok, all.totals.successful);
	assert_int_equal(days, all.totals.reports);
	assert_int_equal(day_failed, all.totals.failed);
	assert_int_equal(org_daily, all.totals.failed);
	for (i = 0; i < all.n_mx; i++)
		if (strcmp(all.mx[i].mx, "mx2.example.org") == 0)
			assert_int_equal(mx2, all.mx[i].failed);
	for (i = 0; i < all.n_orgs; i++)
		if (strcmp(all.orgs[i].org, "Google Inc.") == 0)
			assert_int_equal(google, all.orgs[i].failed);
	/* host names are counted in lower case */
	for (i = 0; i < all.n_mx; i++)
		assert_string_not_equal(all.mx[i].mx, "MX3.Example.Org");
	agg_digest_release(&all);

	/* hourly windows tile too: 24 times 1h = one day */
	build(s, DAY0 + 20 * DAY_SECS, DAY0 + 21 * DAY_SECS, &all);
	reports = 0;
	for (n = 1; n <= 24; n++) {
		assert_int_equal(agg_parse_since("1h", DAY0 + 20 * DAY_SECS +
						 (int64_t)n * 3600 + 59, &from, &to), 0);
		build(s, from, to, &w);
		reports += w.totals.reports;
		assert_int_equal(w.n_days, 1);
		agg_digest_release(&w);
	}
	assert_int_equal(reports, all.totals.reports);
	agg_digest_release(&all);
	store_close(s);
}

/*
 * Week 1: Google fails on mx1 (expired), Mail.ru reports clean, Stalwart
 * reports.  Week 2: Google fails on mx1 (expired) and on mx2 (starttls),
 * Mimecast fails for the first time, Stalwart is silent.
 */
static void
previous_new_silent(void **state)
{
	struct store *s = open_w("weeks");
	struct ingest *g = ingest_new(s, NULL, 200, 0, NULL, NULL);
	int64_t w1 = DAY0 + 7 * DAY_SECS, w2 = DAY0 + 14 * DAY_SECS;
	struct agg_digest d;
	struct agg_query q;
	struct mxd_err err;
	uint64_t cells[7];
	size_t i;

	(void)state;
	put(g, report("Google Inc.", "p1", w1 + 3600, "example.org", 90, 10,
		      "mx1.example.org", "certificate-expired"));
	put(g, report("Mail.ru", "p2", w1 + 2 * DAY_SECS, "example.org", 50, 0, "", ""));
	put(g, report("Stalwart", "p3", w1 + 3 * DAY_SECS, "example.org", 5, 0, "", ""));
	put(g, report("Stalwart", "p4", w1 + 5 * DAY_SECS, "example.org", 5, 0, "", ""));
	put(g, report("Google Inc.", "n1", w2 + 3600, "example.org", 80, 20,
		      "mx1.example.org", "certificate-expired"));
	put(g, report("Google Inc.", "n2", w2 + 6 * DAY_SECS, "example.org", 70, 30,
		      "mx2.example.org", "starttls-not-supported"));
	put(g, report("Mail.ru", "n3", w2 + DAY_SECS, "example.org", 60, 0, "", ""));
	put(g, report("Mimecast", "n4", w2 + 2 * DAY_SECS, "example.org", 9, 1,
		      "mx1.example.org", "certificate-expired"));
	assert_int_equal(ingest_flush(g, &err), 0);
	ingest_free(g);

	memset(&q, 0, sizeof(q));
	q.from = w2;
	q.to = w2 + 7 * DAY_SECS;
	q.alerts.fail_rate_set = 1;
	q.alerts.fail_rate = 5;
	q.alerts.min_failures = 52;
	q.alerts.on_new = 1;
	q.alerts.on_silent = 1;
	assert_int_equal(agg_build(s, &q, &d, &err), 0);
	assert_int_equal(d.totals.reports, 4);
	assert_int_equal(d.totals.failed, 51);
	assert_int_equal(d.prev.reports, 4);
	assert_int_equal(d.prev.failed, 10);
	assert_int_equal(d.prev_from, w1);
	assert_true(d.has_history);
	/* deltas */
	assert_string_equal(d.mx[0].mx, "mx2.example.org");
	assert_int_equal(d.mx[0].prev_failed, 0);
	assert_string_equal(d.mx[1].mx, "mx1.example.org");
	assert_int_equal(d.mx[1].failed, 21);
	assert_int_equal(d.mx[1].prev_failed, 10);
	assert_string_equal(d.orgs[0].org, "Google Inc.");
	assert_int_equal(d.orgs[0].prev_failed, 10);
	assert_int_equal(d.orgs[0].prev_reports, 1);
	/* new: starttls on mx2 (expired on mx1 was seen); Mimecast */
	assert_int_equal(d.n_new_pairs, 1);
	assert_string_equal(d.new_pairs[0].mx, "mx2.example.org");
	assert_string_equal(d.new_pairs[0].result_type, "starttls-not-supported");
	assert_int_equal(d.new_pairs[0].failed, 30);
	assert_int_equal(d.n_new_orgs, 1);
	assert_string_equal(d.new_orgs[0].org, "Mimecast");
	for (i = 0; i < d.n_orgs; i++)
		assert_int_equal(d.orgs[i].new_failures,
				 strcmp(d.orgs[i].org, "Mimecast") == 0);
	/* silent: Stalwart, with its two reports and the last start */
	assert_int_equal(d.n_silent, 1);
	assert_string_equal(d.silent[0].org, "Stalwart");
	assert_int_equal(d.silent[0].prev_reports, 2);
	assert_int_equal(d.silent[0].last_start, w1 + 5 * DAY_SECS);
	/* alerts: rate 51/270 = 18.9% > 5%; 51 < 52 failures; new; silent */
	assert_int_equal(d.n_alerts, 3);
	assert_non_null(strstr(d.alerts[0], "failure rate 18.9% is above 5%"));
	assert_non_null(strstr(d.alerts[1], "new failures"));
	assert_non_null(strstr(d.alerts[2], "1 organization stopped reporting"));
	/* Google's failures per day: day 0 and day 6 */
	assert_int_equal(agg_org_cells(&d, &d.orgs[0], cells, 7), 7);
	assert_int_equal(cells[0], 20);
	assert_int_equal(cells[6], 30);
	assert_int_equal(cells[3], 0);
	/* fewer cells than days: three days per cell */
	assert_int_equal(agg_org_cells(&d, &d.orgs[0], cells, 3), 3);
	assert_int_equal(cells[0], 20);
	assert_int_equal(cells[2], 30);
	agg_digest_release(&d);

	/* no history before week 1: nothing can be new */
	build(s, w1, w2, &d);
	assert_false(d.has_history);
	assert_int_equal(d.n_new_pairs, 0);
	assert_int_equal(d.n_new_orgs, 0);
	assert_int_equal(d.n_alerts, 0);
	agg_digest_release(&d);
	agg_digest_release(NULL);
	store_close(s);
}

struct seen {
	size_t n;
	int64_t last;
	uint64_t sum;
	int ordered;
};

static int
on_detail(const struct store_detail_row *r, void *ctx)
{
	struct seen *s = ctx;

	if (r->start < s->last)
		s->ordered = 0;
	s->last = r->start;
	s->sum += r->count;
	s->n++;
	return 0;
}

static void
details(void **state)
{
	struct store *s = open_w("weeks");
	struct agg_digest d;
	struct agg_query q;
	struct mxd_err err;
	struct seen seen = {0, 0, 0, 1};
	uint64_t n = 0;

	(void)state;
	/* the database of the test before: four details in week 2 */
	memset(&q, 0, sizeof(q));
	q.from = DAY0 + 14 * DAY_SECS;
	q.to = q.from + 7 * DAY_SECS;
	assert_int_equal(agg_build(s, &q, &d, &err), 0);
	assert_int_equal(agg_digest_details_count(&d, &n, &err), 0);
	assert_int_equal(agg_digest_details(&d, on_detail, &seen, &err), 0);
	assert_int_equal(seen.n, n);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.sum, 51);
	assert_true(seen.ordered);
	agg_digest_release(&d);
	/* the MX filter on details ignores case, like the counted view */
	q.mx = "mx2.example.org";
	assert_int_equal(agg_build(s, &q, &d, &err), 0);
	assert_int_equal(agg_digest_details_count(&d, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(d.totals.failed, 30);
	agg_digest_release(&d);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(generated),
		cmocka_unit_test(previous_new_silent),
		cmocka_unit_test(details),
	};
	int rc;

	if (setup(NULL) < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	teardown(NULL);
	return rc;
}
