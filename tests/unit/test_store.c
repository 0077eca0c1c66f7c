/*
 * Unit tests of store/ and aggregate/: schema, raw messages, duplicates,
 * quarantine, the writer lock, ingest, window scans and the digest tables.
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
#include "util/timeutil.h"

#define DAY0 1794182400	/* 2026-11-09 */

static char dir[] = "/tmp/mxd-store-XXXXXX";
static char dbpath[256];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/mxd-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/sub/t.db", dir);
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

static struct store *
open_w(void)
{
	struct store *s = NULL;
	struct mxd_err err;

	assert_int_equal(store_open(dbpath, STORE_WRITE, 100, &s, &err), 0);
	return s;
}

/* A report JSON for day `day` (0-based from DAY0) from `org`. */
static char *
report_json(const char *org, const char *id, int day, const char *domain,
	    unsigned ok, unsigned bad, const char *mx)
{
	char start[32], *j = malloc(2048);

	time_format_iso(DAY0 + (int64_t)day * DAY_SECS, start);
	snprintf(j, 2048,
		 "{\"organization-name\":\"%s\",\"report-id\":\"%s\","
		 "\"date-range\":{\"start-datetime\":\"%s\",\"end-datetime\":\"%s\"},"
		 "\"policies\":[{\"policy\":{\"policy-type\":\"sts\",\"policy-domain\":"
		 "\"%s\"},\"summary\":{\"total-successful-session-count\":%u,"
		 "\"total-failure-session-count\":%u}%s%s%s}]}",
		 org, id, start, start, domain, ok, bad,
		 bad ? ",\"failure-details\":[{\"result-type\":\"certificate-expired\","
		       "\"receiving-mx-hostname\":\"" : "",
		 bad ? mx : "", bad ? "\",\"failed-session-count\":1}]" : "");
	if (bad) {
		/* set the detail count to `bad` */
		char *p = strstr(j, "\"failed-session-count\":1}");

		snprintf(p, 2048 - (size_t)(p - j), "\"failed-session-count\":%u}]}]}",
			 bad);
	}
	return j;
}

static void
schema_and_messages(void **state)
{
	struct store *s = open_w(), *r = NULL;
	struct mxd_err err;
	struct buf msg;
	unsigned char sha[SHA256_LEN];
	int64_t id, id2;
	char *src = NULL, text[5000];
	struct store_blob enc;
	int i;

	(void)state;
	for (i = 0; i < (int)sizeof(text) - 1; i++)
		text[i] = "Received: from x\n"[i % 17];
	text[sizeof(text) - 1] = '\0';
	sha256(text, strlen(text), sha);
	buf_init(&enc.data, BUF_NOCAP);
	store_message_encode(s, text, strlen(text), &enc);
	assert_int_equal(enc.codec, 2);		/* zstd */
	assert_int_equal(enc.dict, 0);		/* no dictionary yet */
	assert_true(enc.data.len < strlen(text) / 4);
	assert_int_equal(store_message_find(s, sha, &id, &err), 0);
	assert_int_equal(store_begin(s, &err), 0);
	assert_int_equal(store_message_put(s, sha, "inbox/1", strlen(text), 0,
					   &enc, NULL, 1, &id, &err), 0);
	assert_int_equal(store_commit(s, &err), 0);
	assert_int_equal(store_message_find(s, sha, &id2, &err), 1);
	assert_int_equal(id, id2);
	buf_init(&msg, BUF_NOCAP);
	assert_int_equal(store_message_get(s, id, &msg, &src, NULL, &err), 0);
	assert_int_equal(msg.len, strlen(text));
	assert_memory_equal(msg.data, text, msg.len);
	assert_string_equal(src, "inbox/1");
	free(src);
	buf_release(&msg);
	buf_release(&enc.data);
	store_close(s);
	/* a reader opens the existing database; a missing one is an error */
	assert_int_equal(store_open(dbpath, STORE_READ, 0, &r, &err), 0);
	store_close(r);
	assert_int_equal(store_open("/nonexistent/x.db", STORE_READ, 0, &r, &err), -1);
	assert_non_null(strstr(err.text, "no database here"));
}

static void
writer_lock(void **state)
{
	struct store *a = open_w(), *b = NULL;
	struct mxd_err err;

	(void)state;
	assert_int_equal(store_open(dbpath, STORE_WRITE, 150, &b, &err), -1);
	assert_int_equal(err.code, MXD_E_LOCKED);
	assert_non_null(strstr(err.text, "another mxdigest is writing"));
	store_close(a);
	b = open_w();	/* free again */
	store_close(b);
}

struct counter {
	int reports, dups, quarantined, not_reports, already, conflicts;
};

static int
count_row(const struct store_report_row *r, void *ctx)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

/* Every report in the store, whatever its date. */
static int
stored_reports(struct store *s)
{
	struct store_filter f;
	struct mxd_err err;
	int n = 0;

	memset(&f, 0, sizeof(f));
	f.from = INT64_MIN;
	f.to = INT64_MAX;
	assert_int_equal(store_scan_reports(s, &f, count_row, &n, &err), 0);
	return n;
}

static void
count_event(void *ctx, enum ingest_event ev, const char *src, const char *d)
{
	struct counter *c = ctx;

	(void)src;
	(void)d;
	switch (ev) {
	case INGEST_REPORT: c->reports++; break;
	case INGEST_DUPLICATE: c->dups++; break;
	case INGEST_CONFLICT: c->conflicts++; break;
	case INGEST_QUARANTINED: c->quarantined++; break;
	case INGEST_NOT_REPORT: c->not_reports++; break;
	case INGEST_ALREADY_QUARANTINED: c->already++; break;
	}
}

static void
ingest_counts_once(void **state)
{
	struct store *s = open_w();
	struct ingest *g;
	struct counter c;
	struct mxd_err err;
	unsigned threads;
	char *a = report_json("Org A", "r1", 0, "example.org", 10, 2, "mx1.example.org");
	char *a2 = report_json("Org A", "r1", 0, "example.org", 10, 2, "mx1.example.org");
	/* same identity, different bytes: a resend */
	char *resend = malloc(strlen(a) + 2);

	(void)state;
	sprintf(resend, " %s", a);
	for (threads = 0; threads <= 2; threads += 2) {
		char bad[] = "{\"organization-name\":";
		char news[] = "Subject: hi\n\nhello\n";

		memset(&c, 0, sizeof(c));
		g = ingest_new(s, NULL, 2, threads, count_event, &c);
		assert_int_equal(ingest_message(g, a, strlen(a), "a", NULL, 0, &err), 0);
		assert_int_equal(ingest_message(g, a2, strlen(a2), "a2", NULL, 0, &err), 0);
		assert_int_equal(ingest_message(g, resend, strlen(resend), "r", NULL, 0,
						&err), 0);
		assert_int_equal(ingest_message(g, bad, strlen(bad), "bad", NULL, 0,
						&err), 0);
		assert_int_equal(ingest_message(g, news, strlen(news), "n", NULL, 0,
						&err), 0);
		assert_int_equal(ingest_flush(g, &err), 0);
		if (threads == 0) {
			/* first pass: one new report, the rest duplicates */
			assert_int_equal(c.reports, 1);
			assert_int_equal(c.dups, 2);
			assert_int_equal(c.quarantined, 1);
		} else {
			/* second pass, threaded: nothing new */
			assert_int_equal(c.reports, 0);
			assert_int_equal(c.dups, 3);
			assert_int_equal(c.quarantined, 0);
			assert_int_equal(c.already, 1);
		}
		assert_int_equal(c.not_reports, 1);
		assert_int_equal(ingest_stats(g)->messages, 5);
		ingest_free(g);
	}
	assert_int_equal(store_quarantine_count(s, &err), 1);
	free(a);
	free(a2);
	free(resend);
	store_close(s);
}

static void
ingest_many_threaded_in_order(void **state)
{
	struct store *s = open_w();
	struct ingest *g;
	struct counter c;
	struct mxd_err err;
	int i;

	(void)state;
	memset(&c, 0, sizeof(c));
	g = ingest_new(s, NULL, 50, 3, count_event, &c);
	for (i = 0; i < 500; i++) {
		char id[32], *j;

		snprintf(id, sizeof(id), "many-%d", i % 400);	/* 100 dups */
		j = report_json("Org M", id, (i % 400) % 30, "m.example", 5, 0, NULL);
		assert_int_equal(ingest_message(g, j, strlen(j), id, NULL, 0, &err), 0);
		free(j);
	}
	assert_int_equal(ingest_flush(g, &err), 0);
	assert_int_equal(c.reports, 400);
	assert_int_equal(c.dups, 100);
	ingest_free(g);
	assert_int_equal(stored_reports(s), 400);
	store_close(s);
}

/* Windows are half-open and weekly windows tile: every report is in
 * exactly one of consecutive windows. */
static void
windows_tile(void **state)
{
	struct store *s = open_w();
	struct ingest *g;
	struct agg_query q;
	struct agg_digest d;
	struct mxd_err err;
	uint64_t reports = 0, failed = 0, ok = 0;
	int64_t from, to;
	int i;

	(void)state;
	g = ingest_new(s, NULL, 100, 2, NULL, NULL);
	srand(7);
	for (i = 0; i < 300; i++) {
		char id[32], *j;
		int day = rand() % 63;

		snprintf(id, sizeof(id), "t-%d", i);
		j = report_json(i % 3 ? "Google Inc." : "Microsoft Corporation", id, day,
				i % 2 ? "a.example" : "b.example", (unsigned)(rand() % 100),
				(unsigned)(rand() % 5), i % 4 ? "mx1.a.example" : "mx2.a.example");
		assert_int_equal(ingest_message(g, j, strlen(j), id, NULL, 0, &err), 0);
		free(j);
	}
	assert_int_equal(ingest_flush(g, &err), 0);
	ingest_free(g);

	memset(&q, 0, sizeof(q));
	q.from = DAY0;
	q.to = DAY0 + 63 * DAY_SECS;
	assert_int_equal(agg_build(s, &q, &d, &err), 0);
	assert_int_equal(d.totals.reports, 300);
	assert_int_equal(d.totals.organizations, 2);
	/* weekly --since 7d runs from a Monday onwards */
	for (i = 1; i <= 9; i++) {
		struct agg_digest w;
		int64_t now = DAY0 + (int64_t)i * 7 * DAY_SECS + 3600 * (i % 20);

		assert_int_equal(agg_parse_since("7d", now, &from, &to), 0);
		assert_int_equal(to - from, 7 * DAY_SECS);
		q.from = from;
		q.to = to;
		assert_int_equal(agg_build(s, &q, &w, &err), 0);
		reports += w.totals.reports;
		failed += w.totals.failed;
		ok += w.totals.successful;
		agg_digest_release(&w);
	}
	assert_int_equal(reports, d.totals.reports);
	assert_int_equal(failed, d.totals.failed);
	assert_int_equal(ok, d.totals.successful);
	agg_digest_release(&d);

	/* a report starting exactly at `to` is excluded, at `from` included */
	q.from = DAY0;
	q.to = DAY0 + DAY_SECS;
	assert_int_equal(agg_build(s, &q, &d, &err), 0);
	reports = d.totals.reports;
	agg_digest_release(&d);
	q.from = DAY0 + DAY_SECS;
	q.to = DAY0 + 2 * DAY_SECS;
	assert_int_equal(agg_build(s, &q, &d, &err), 0);
	q.from = DAY0;
	q.to = DAY0 + 2 * DAY_SECS;
	{
		struct agg_digest both;

		assert_int_equal(agg_build(s, &q, &both, &err), 0);
		assert_int_equal(reports + d.totals.reports, both.totals.reports);
		agg_digest_release(&both);
	}
	agg_digest_release(&d);
	store_close(s);
}

static void
since_parsing(void **state)
{
	int64_t from, to, now = DAY0 + 5 * 3600 + 17;

	(void)state;
	assert_int_equal(agg_parse_since("7d", now, &from, &to), 0);
	assert_int_equal(to, DAY0);
	assert_int_equal(from, DAY0 - 7 * DAY_SECS);
	assert_int_equal(agg_parse_since("2w", now, &from, &to), 0);
	assert_int_equal(from, DAY0 - 14 * DAY_SECS);
	assert_int_equal(agg_parse_since("12h", now, &from, &to), 0);
	assert_int_equal(to, DAY0 + 5 * 3600);
	assert_int_equal(from, DAY0 - 7 * 3600);
	assert_int_equal(agg_parse_since("3", now, &from, &to), 0);
	assert_int_equal(from, DAY0 - 3 * DAY_SECS);
	assert_int_equal(agg_parse_since("7x", now, &from, &to), -1);
	assert_int_equal(agg_parse_since("-1d", now, &from, &to), -1);
	assert_int_equal(agg_parse_since("0d", now, &from, &to), -1);
	assert_int_equal(agg_parse_since("d", now, &from, &to), -1);
}

/* What "new this window" asks of the weeks before, as "a|b|c" lines. */
struct names {
	char v[8][128];
	size_t n;
};

static int
add_kind(const struct store_fail_row *r, void *ctx)
{
	struct names *k = ctx;

	assert_true(k->n < 8);
	assert_null(r->receiving_ip);	/* the MX host is in receiving_mx */
	assert_int_equal(r->count, 0);
	snprintf(k->v[k->n++], sizeof(k->v[0]), "%s|%s|%s", r->org,
		 r->result_type, r->receiving_mx ? r->receiving_mx : "-");
	return 0;
}

static int
add_name(const char *name, void *ctx)
{
	struct names *k = ctx;

	assert_true(k->n < 8);
	snprintf(k->v[k->n++], sizeof(k->v[0]), "%s", name);
	return 0;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
expect_names(struct names *k, const char *const *want, size_t n)
{
	size_t i;

	qsort(k->v, k->n, sizeof(k->v[0]), cmp_name);
	assert_int_equal(k->n, n);
	for (i = 0; i < n; i++)
		assert_string_equal(k->v[i], want[i]);
	k->n = 0;
}

/* The two reports of digest_tables_sorted_and_filtered(): each kind of
 * failure once (the sts and tlsa policies of Zeta name the same one), each
 * failing organization once, with the filters of the scans. */
static void
weeks_before_distinct(struct store *s)
{
	static const char *const all[] = {
		"Alpha|certificate-expired|mx2.a.example",
		"Zeta|certificate-expired|mx2.a.example",
		"Zeta|starttls-not-supported|192.0.2.3",
	};
	static const char *const by_ip[] = { "Zeta|starttls-not-supported|192.0.2.3" };
	static const char *const orgs[] = { "Alpha", "Zeta" };
	struct store_filter f;
	struct names k;
	struct mxd_err err;

	memset(&f, 0, sizeof(f));
	memset(&k, 0, sizeof(k));
	f.from = DAY0;
	f.to = DAY0 + 7 * DAY_SECS;
	assert_int_equal(store_failure_kinds(s, &f, add_kind, &k, &err), 0);
	expect_names(&k, all, 3);
	assert_int_equal(store_failing_orgs(s, &f, add_name, &k, &err), 0);
	expect_names(&k, orgs, 2);
	f.mx = "192.0.2.3";
	assert_int_equal(store_failure_kinds(s, &f, add_kind, &k, &err), 0);
	expect_names(&k, by_ip, 1);
	assert_int_equal(store_failing_orgs(s, &f, add_name, &k, &err), 0);
	expect_names(&k, orgs + 1, 1);
	f.mx = NULL;
	f.domain = "b.example";
	assert_int_equal(store_failure_kinds(s, &f, add_kind, &k, &err), 0);
	expect_names(&k, all, 1);
	assert_int_equal(store_failing_orgs(s, &f, add_name, &k, &err), 0);
	expect_names(&k, orgs, 1);
	f.domain = NULL;
	f.to = DAY0;	/* nothing before the reports */
	assert_int_equal(store_failure_kinds(s, &f, add_kind, &k, &err), 0);
	expect_names(&k, all, 0);
	assert_int_equal(store_failing_orgs(s, &f, add_name, &k, &err), 0);
	expect_names(&k, orgs, 0);
}

static void
digest_tables_sorted_and_filtered(void **state)
{
	struct store *s = open_w();
	struct ingest *g;
	struct agg_query q;
	struct agg_digest d;
	struct mxd_err err;
	const char *js[] = {
		"{\"organization-name\":\"Zeta\",\"report-id\":\"z1\",\"date-range\":{"
		"\"start-datetime\":\"2026-11-10T00:00:00Z\",\"end-datetime\":"
		"\"2026-11-10T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":"
		"\"sts\",\"policy-domain\":\"a.example\"},\"summary\":{"
		"\"total-successful-session-count\":90,\"total-failure-session-count\":"
		"10},\"failure-details\":[{\"result-type\":\"certificate-expired\","
		"\"receiving-mx-hostname\":\"mx2.a.example\",\"failed-session-count\":"
		"7},{\"result-type\":\"starttls-not-supported\",\"receiving-ip\":"
		"\"192.0.2.3\",\"failed-session-count\":3}]},{\"policy\":{"
		"\"policy-type\":\"tlsa\",\"policy-domain\":\"a.example\"},\"summary\":"
		"{\"total-successful-session-count\":95,\"total-failure-session-count\""
		":5},\"failure-details\":[{\"result-type\":\"certificate-expired\","
		"\"receiving-mx-hostname\":\"mx2.a.example\",\"failed-session-count\":5}]}]}",
		"{\"organization-name\":\"Alpha\",\"report-id\":\"a1\",\"date-range\":{"
		"\"start-datetime\":\"2026-11-11T00:00:00Z\",\"end-datetime\":"
		"\"2026-11-11T23:59:59Z\"},\"policies\":[{\"policy\":{\"policy-type\":"
		"\"no-policy-found\",\"policy-domain\":\"b.example\"},\"summary\":{"
		"\"total-successful-session-count\":40,\"total-failure-session-count\":"
		"10},\"failure-details\":[{\"result-type\":\"certificate-expired\","
		"\"receiving-mx-hostname\":\"mx2.a.example\",\"failed-session-count\":"
		"10}]}]}",
	};
	size_t i;

	(void)state;
	g = ingest_new(s, NULL, 10, 0, NULL, NULL);
	for (i = 0; i < 2; i++)
		assert_int_equal(ingest_message(g, js[i], strlen(js[i]), "x", NULL, 0,
						&err), 0);
	assert_int_equal(ingest_flush(g, &err), 0);
	ingest_free(g);
	memset(&q, 0, sizeof(q));
	q.from = DAY0;
	q.to = DAY0 + 7 * DAY_SECS;
	assert_int_equal(agg_build(s, &q, &d, &err), 0);
	assert_int_equal(d.totals.reports, 2);
	assert_int_equal(d.totals.failed, 20);	/* 10 (sts/tlsa max) + 10 */
	assert_int_equal(d.totals.successful, 130);
	/* by org: equal failures (10 each): name order */
	assert_int_equal(d.n_orgs, 2);
	assert_string_equal(d.orgs[0].org, "Alpha");
	/* by MX: mx2 = 7 (once, not 7+5) + 10; then the IP */
	assert_int_equal(d.n_mx, 2);
	assert_string_equal(d.mx[0].mx, "mx2.a.example");
	assert_int_equal(d.mx[0].failed, 17);
	assert_string_equal(d.mx[0].top_result, "certificate-expired");
	assert_int_equal(d.mx[0].n_orgs, 2);
	assert_string_equal(d.mx[0].orgs[0], "Alpha");
	assert_string_equal(d.mx[1].mx, "192.0.2.3");
	assert_int_equal(d.n_results, 2);
	assert_int_equal(d.results[0].failed, 17);
	assert_int_equal(d.results[0].reports, 2);
	assert_int_equal(d.n_domains, 2);
	assert_string_equal(d.domains[0].domain, "a.example");
	assert_string_equal(d.domains[0].types, "sts+tlsa");
	assert_int_equal(d.n_policies, 3);
	agg_digest_release(&d);

	q.domain = "b.example";
	assert_int_equal(agg_build(s, &q, &d, &err), 0);
	assert_int_equal(d.totals.reports, 1);
	assert_int_equal(d.totals.failed, 10);
	assert_int_equal(d.n_domains, 1);
	agg_digest_release(&d);
	q.domain = NULL;
	q.mx = "192.0.2.3";
	assert_int_equal(agg_build(s, &q, &d, &err), 0);
	assert_int_equal(d.totals.reports, 1);
	assert_int_equal(d.n_mx, 1);
	assert_int_equal(d.mx[0].failed, 3);
	agg_digest_release(&d);
	q.mx = NULL;
	q.org = "Zeta";
	assert_int_equal(agg_build(s, &q, &d, &err), 0);
	assert_int_equal(d.totals.organizations, 1);
	assert_int_equal(d.totals.failed, 10);
	agg_digest_release(&d);
	weeks_before_distinct(s);
	store_close(s);
}

/* ---- copies of one report: which one counts -------------------------- */

struct copy_scan {
	unsigned rows, copies;
	int dkim;
	uint64_t failed;
};

static int
copy_report(const struct store_report_row *r, void *ctx)
{
	struct copy_scan *c = ctx;

	c->rows++;
	c->copies = r->copies;
	c->dkim = r->dkim;
	return 0;
}

static int
copy_failure(const struct store_fail_row *r, void *ctx)
{
	((struct copy_scan *)ctx)->failed += r->count;
	return 0;
}

/* The one counted row of the window, its copies, its verdict, its
 * failures (with dkim = require when `require`). */
static struct copy_scan
counted(struct store *s, int require)
{
	struct store_filter f;
	struct copy_scan c;
	struct mxd_err err;

	memset(&f, 0, sizeof(f));
	memset(&c, 0, sizeof(c));
	f.from = INT64_MIN;
	f.to = INT64_MAX;
	f.dkim_pass = require;
	assert_int_equal(store_scan_reports(s, &f, copy_report, &c, &err), 0);
	assert_int_equal(store_scan_failures(s, &f, copy_failure, &c, &err), 0);
	return c;
}

/* A message with one report (JSON text) and a verdict (-1: none). */
static int
put_copy(struct store *s, const char *json, int verdict, int64_t *msg,
	 struct store_put_info *info)
{
	struct parse_result res;
	struct store_auth a;
	struct store_blob b;
	unsigned char sha[SHA256_LEN];
	struct mxd_err err;
	int rc;

	assert_int_equal(parse_message(json, strlen(json), NULL, &res), MXD_OK);
	assert_non_null(res.parts[0].report);
	memset(&a, 0, sizeof(a));
	a.result = verdict;
	a.detail = "test";
	sha256(json, strlen(json), sha);
	/* the same bytes twice would be one message: tell them apart */
	sha[0] ^= (unsigned char)(*msg + 1);
	b.codec = 0;	/* raw */
	b.dict = 0;
	buf_init(&b.data, BUF_NOCAP);
	buf_add(&b.data, json, strlen(json));
	rc = store_message_put(s, sha, "test", strlen(json), 0, &b, &a, 0, msg,
			       &err);
	buf_release(&b.data);
	assert_int_equal(rc, 0);
	rc = store_report_put(s, *msg, 0, res.parts[0].report, 0, info, &err);
	parse_result_release(&res);
	return rc;
}

static void
conflicts_count_one(void **state)
{
	struct store *s = open_w();
	char *forged = report_json("Org C", "c-1", 3, "example.org", 10, 40, "mx1");
	char *genuine = report_json("Org C", "c-1", 3, "example.org", 60, 7, "mx2");
	/* the genuine one in other bytes: the same content */
	char *spaced = malloc(strlen(genuine) + 4);
	struct store_put_info info;
	struct copy_scan c;
	struct mxd_err err;
	int64_t m1 = 0, m2 = 1, m3 = 2, m4 = 3;

	(void)state;
	sprintf(spaced, "  %s\n", genuine);
	assert_int_equal(store_begin(s, &err), 0);
	/* an unverified forgery first: it counts until a verified copy */
	assert_int_equal(put_copy(s, forged, DKIMV_NONE, &m1, &info),
			 STORE_REPORT_NEW);
	c = counted(s, 0);
	assert_int_equal(c.failed, 40);
	assert_int_equal(counted(s, 1).rows, 1);	/* listed, */
	assert_int_equal(counted(s, 1).failed, 0);	/* not counted */
	/* the genuine report, verified: both kept, it counts */
	assert_int_equal(put_copy(s, genuine, DKIMV_PASS, &m2, &info),
			 STORE_REPORT_CONFLICT);
	assert_true(info.counted);
	assert_string_equal(info.other, "test");
	c = counted(s, 0);
	assert_int_equal(c.rows, 1);
	assert_int_equal(c.copies, 2);
	assert_int_equal(c.dkim, DKIMV_PASS);
	assert_int_equal(c.failed, 7);
	assert_int_equal(counted(s, 1).failed, 7);
	/* the genuine one again, in other bytes: a duplicate */
	assert_int_equal(put_copy(s, spaced, -1, &m3, &info),
			 STORE_REPORT_DUPLICATE);
	/* the forgery again, unverified: a duplicate of its first copy */
	assert_int_equal(put_copy(s, forged, DKIMV_FAIL, &m4, &info),
			 STORE_REPORT_DUPLICATE);
	assert_int_equal(counted(s, 0).failed, 7);
	/* a later verdict decides again: now both verified, the first
	 * (the forgery's message) stays -- between equals the first */
	memset(&info, 0, sizeof(info));
	{
		struct store_auth a;

		memset(&a, 0, sizeof(a));
		a.result = DKIMV_PASS;
		assert_int_equal(store_message_set_auth(s, m1, &a, &err), 0);
	}
	assert_int_equal(counted(s, 0).failed, 40);
	assert_int_equal(counted(s, 1).failed, 40);
	assert_int_equal(store_commit(s, &err), 0);
	/* re-reading keeps who counts (message order, not row order) */
	{
		struct reparse_stats st;

		assert_int_equal(store_reparse(s, NULL, 0, NULL, NULL, NULL, &st,
					       &err), 0);
		/* the two duplicates' messages (stored here, unlike ingest
		 * would) bring nothing */
		assert_int_equal(st.dropped, 2);
	}
	c = counted(s, 0);
	assert_int_equal(c.rows, 1);
	assert_int_equal(c.copies, 2);
	assert_int_equal(c.failed, 40);
	free(forged);
	free(genuine);
	free(spaced);
	store_close(s);
}

/* A verified copy of the same content, after an unverified one, is kept
 * so that dkim = require counts the report. */
static void
verified_copy_kept(void **state)
{
	struct store *s = open_w();
	char *j = report_json("Org V", "v-1", 4, "example.org", 5, 3, "mx1");
	struct store_put_info info;
	struct mxd_err err;
	int64_t m1 = 0, m2 = 1;

	(void)state;
	assert_int_equal(store_begin(s, &err), 0);
	assert_int_equal(put_copy(s, j, DKIMV_FAIL, &m1, &info), STORE_REPORT_NEW);
	assert_int_equal(counted(s, 1).failed, 0);
	assert_int_equal(put_copy(s, j, DKIMV_PASS, &m2, &info),
			 STORE_REPORT_VERIFIED_COPY);
	assert_int_equal(counted(s, 1).failed, 3);
	assert_int_equal(counted(s, 0).failed, 3);	/* once */
	assert_int_equal(counted(s, 0).copies, 1);	/* no conflict */
	assert_int_equal(store_commit(s, &err), 0);
	free(j);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(schema_and_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(writer_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(ingest_counts_once, setup, teardown),
		cmocka_unit_test_setup_teardown(conflicts_count_one, setup, teardown),
		cmocka_unit_test_setup_teardown(verified_copy_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(ingest_many_threaded_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(windows_tile, setup, teardown),
		cmocka_unit_test(since_parsing),
		cmocka_unit_test_setup_teardown(digest_tables_sorted_and_filtered,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
