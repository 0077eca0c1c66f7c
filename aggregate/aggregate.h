/*
 * aggregate.h — the digest: windows, filters, group-by, the previous window,
 * what is new and what went silent (pure C; it reads the store only through
 * store/'s scan functions and does no other I/O).
 *
 * agg_build() reads the counted rows of one window (docs/COUNTING.md) and
 * returns plain, sorted tables: totals; by organization, MX host, result
 * type, policy domain, policy domain + type, policy type and sending IP; a
 * daily series; the same numbers for the previous window of equal length
 * (the `prev_*` fields); the MX host + result type pairs and organizations
 * whose failures were not seen in the four windows before (`new_*`); the
 * organizations that reported in the previous window and not in this one
 * (`silent`); the quarantine; and the alerts that the query's thresholds
 * raise.  Tables are sorted by failed sessions (descending), then by name,
 * so that output is deterministic.
 *
 * Memory: a struct agg_digest owns all its strings and arrays through one
 * arena; agg_digest_release() frees them (and accepts NULL).  A digest keeps
 * a pointer to the store it was built from, for agg_digest_details(): the
 * store must stay open while the digest is used.
 *
 * Windows are half-open [from, to) in UTC; a report belongs to a window when
 * its date-range start lies in it.
 */
#ifndef MXD_AGGREGATE_H
#define MXD_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"
#include "util/err.h"

/* Alert thresholds; each one set is checked on its own (any one crossed
 * is an alert). */
struct agg_alert_rules {
	int fail_rate_set;
	double fail_rate;	/* alert when the failure rate (%) is above */
	uint64_t min_failures;	/* alert when failed sessions >= this (0: off) */
	int on_new;		/* alert when something is new this window */
	int on_silent;		/* alert when an organization went silent */
	int on_unverified;	/* alert when a report's mail did not verify */
	int on_conflict;	/* alert when a report came in two contents */
};

struct agg_query {
	int64_t from, to;	/* [from, to), UTC seconds */
	const char *domain;	/* filters, or NULL */
	const char *org;
	const char *mx;
	struct agg_alert_rules alerts;
	int dkim_require;	/* count only reports whose mail verified */
	int dkim_off;		/* dkim = off: verdicts are not shown */
	/* the Configuration section: the latest check of each domain checked
	 * in [from, checks_to); 0: the window's end */
	int64_t checks_to;
	/* agg_digest_details() will be asked for: the store may start its
	 * scan with the window's (a hint; the answer is the same) */
	int details;
};

/* DKIM: of the reports in a window, how many came in mail that verified
 * (pass), that did not (fail, none, temperror, permerror, or a report
 * file), and, with dkim = require, how many of those were left out of
 * every count (ignored: they are in no other number); and how many were
 * stored in more than one content (a conflict: one copy counts). */
struct agg_dkim {
	uint64_t verified, unverified, ignored, conflicts;
};

/* One report of the window: the copy that counts (or would, but for
 * dkim = require). */
struct agg_report {
	const char *org;
	const char *report_id;
	int64_t start, end;
	int dkim;		/* enum dkimv_result of its mail, -1: none taken */
	const char *dkim_domain;	/* d= that passed, or NULL */
	const char *dkim_detail;	/* why not, or NULL */
	int ignored;		/* not counted: dkim = require */
	unsigned contents;	/* > 1: in conflict */
};

struct agg_totals {
	uint64_t reports;
	struct agg_dkim dkim;
	uint64_t organizations;
	uint64_t successful;
	uint64_t failed;
	int64_t quarantined;	/* messages in quarantine now, any window */
};

/* One day of a series: sparse per-organization series keep only the days
 * with failures. */
struct agg_day {
	int64_t day;		/* 00:00 UTC */
	uint64_t reports;
	uint64_t successful, failed;
};

struct agg_org {
	const char *org;
	uint64_t reports;	/* counted (not the ignored ones) */
	struct agg_dkim dkim;
	uint64_t successful, failed;
	uint64_t prev_reports, prev_successful, prev_failed;
	int new_failures;	/* failures now, none in the four windows before */
	struct agg_day *daily;	/* days with failed sessions, ascending */
	size_t n_daily;
};

struct agg_mx_result {
	const char *result_type;
	uint64_t failed;
	int is_new;		/* not seen on this host in the four windows before */
};

struct agg_mx {
	const char *mx;		/* receiving-mx-hostname, else the receiving IP;
				 * "" when the sender gave neither */
	uint64_t failed;	/* sum of counted failure-detail counts */
	uint64_t prev_failed;
	const char *top_result;	/* the result type with most failures here */
	uint64_t top_result_failed;
	const char **orgs;	/* organizations that saw failures here, sorted */
	size_t n_orgs;
	struct agg_mx_result *results;	/* by failed, then name */
	size_t n_results;
};

struct agg_result {
	const char *result_type;
	uint64_t failed;
	uint64_t reports;	/* reports that carried it */
	uint64_t prev_failed;
};

struct agg_domain {
	const char *domain;
	const char *types;	/* policy types seen, e.g. "sts+tlsa" */
	uint64_t successful, failed;
	uint64_t prev_successful, prev_failed;
};

struct agg_policy {
	const char *domain;
	const char *type;
	uint64_t reports;
	uint64_t successful, failed;	/* per-policy numbers as sent */
};

/* Per policy type, the numbers as sent (an sts and a tlsa policy of one
 * domain describe the same sessions: do not add the rows up). */
struct agg_ptype {
	const char *type;
	uint64_t reports;
	uint64_t successful, failed;
	uint64_t prev_failed;
};

struct agg_ip {
	const char *ip;		/* sending-mta-ip; "" when not given */
	uint64_t failed;	/* counted failure-detail counts */
	uint64_t prev_failed;
	const char *top_result;
	const char **orgs;
	size_t n_orgs;
};

struct agg_new_pair {
	const char *mx;
	const char *result_type;
	uint64_t failed;
};

struct agg_new_org {
	const char *org;
	uint64_t failed;
};

struct agg_silent {
	const char *org;
	uint64_t prev_reports;
	int64_t last_start;	/* start of its last report in the previous window */
};

struct agg_qitem {
	int64_t id;
	int64_t created;
	int64_t size;
	const char *source;
	const char *name;	/* may be NULL */
	const char *reason;
};

/* The configuration: the latest `mxdigest check` of a domain in the
 * window, each finding with since when, and what changed against the run
 * before (a finding that is new, or one that went away). */
enum agg_change { AGG_SAME, AGG_NEW, AGG_RESOLVED, AGG_FIRST };
struct agg_check_item {
	int level;		/* enum check_level */
	const char *code, *subject, *text;
	int dnssec;		/* enum check_dnssec */
	int64_t since;		/* present in every complete run since then */
	enum agg_change change;	/* AGG_FIRST: no run before to compare with */
};
struct agg_check {
	const char *domain;
	int64_t at;
	int worst;		/* of the latest run */
	int incomplete;
	int64_t prev_at;	/* the run compared with, 0: none */
	struct agg_check_item *items;	/* the latest run's, then the resolved */
	size_t n_items;
	size_t errors, warnings;
};

struct agg_digest {
	int64_t from, to;
	int64_t prev_from, prev_to;	/* the previous window, same length */
	int64_t hist_from;		/* "new" compares with [hist_from, from) */
	int has_history;	/* the store holds reports from before `from` */
	int dkim_require;	/* counts are of verified reports only */
	int dkim_off;		/* the DKIM state is not of interest */
	const char *f_domain, *f_org, *f_mx;	/* the filters, or NULL */

	struct agg_totals totals;
	struct agg_totals prev;	/* quarantined is not used */

	struct agg_org *orgs;
	size_t n_orgs;
	struct agg_mx *mx;
	size_t n_mx;
	struct agg_result *results;
	size_t n_results;
	struct agg_domain *domains;
	size_t n_domains;
	struct agg_policy *policies;
	size_t n_policies;
	struct agg_ptype *ptypes;
	size_t n_ptypes;
	struct agg_ip *ips;
	size_t n_ips;
	struct agg_day *days;	/* every UTC day the window touches */
	size_t n_days;

	struct agg_new_pair *new_pairs;
	size_t n_new_pairs;
	struct agg_new_org *new_orgs;
	size_t n_new_orgs;
	struct agg_silent *silent;
	size_t n_silent;
	struct agg_qitem *quarantine;	/* oldest first */
	size_t n_quarantine;
	struct agg_report *reports;	/* of the window, by start */
	size_t n_reports;
	struct agg_check *checks;	/* domains checked in the window, by name */
	size_t n_checks;

	const char **alerts;	/* one line each, e.g. "failure rate 14.0% is above 5%" */
	size_t n_alerts;

	struct store *store;	/* for agg_digest_details() */
	struct arena arena;
};

int agg_build(struct store *s, const struct agg_query *q, struct agg_digest *d,
	      struct mxd_err *err);

struct check_result;
/* The latest stored check of `domain` at or before `before`, compared with
 * the one before it, into *out (strings in arena): 1, 0 when the domain
 * was never checked, -1 on error. */
int agg_check_latest(struct store *s, const char *domain, int64_t before,
		     struct arena *a, struct agg_check *out, struct mxd_err *err);
/* The same for a run that was not stored (check -n): no comparison. */
void agg_check_from_result(const struct check_result *r, struct arena *a,
			   struct agg_check *out);
void agg_digest_release(struct agg_digest *d);

/*
 * The failure details of the digest's window, as the senders wrote them,
 * one call per detail, in report start order (so a spreadsheet can write
 * them in ascending rows without holding them).  The row is valid during
 * the call; a non-zero return from fn stops the scan.  Rows are the
 * store's own (struct store_detail_row): aggregate adds nothing to them.
 */
typedef store_detail_fn agg_detail_fn;
int agg_digest_details(const struct agg_digest *d, agg_detail_fn fn, void *ctx,
		       struct mxd_err *err);
/* How many rows agg_digest_details() would give. */
int agg_digest_details_count(const struct agg_digest *d, uint64_t *n,
			     struct mxd_err *err);

/* Failure rate in percent of all sessions (0 when there were none). */
double agg_fail_rate(uint64_t successful, uint64_t failed);

/*
 * A sparkline's cells: the organization's failed sessions per day of the
 * window, in at most `ncells` cells (several days per cell when the window
 * is longer).  Returns the number of cells filled.
 */
size_t agg_org_cells(const struct agg_digest *d, const struct agg_org *o,
		     uint64_t *cells, size_t ncells);

/*
 * Windows.  agg_window_since(): "the N whole units before now" — for days
 * and weeks, ending at today's 00:00 UTC; for hours, at the start of the
 * current hour.  So a weekly `--since 7d` run tiles time.
 */
enum agg_unit { AGG_HOURS, AGG_DAYS, AGG_WEEKS };
void agg_window_since(int64_t now, int64_t n, enum agg_unit unit,
		      int64_t *from, int64_t *to);
/* Parses "12h", "7d", "2w" (a bare number is days); 0 or -1. */
int agg_parse_since(const char *spec, int64_t now, int64_t *from, int64_t *to);

#endif
