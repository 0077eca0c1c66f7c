/*
 * aggregate.h — the digest: windows, group-by and totals (pure C, no I/O
 * of its own).
 *
 * agg_build() reads the counted rows of one window through store/'s scan
 * functions and returns plain structs: totals, and tables by organization,
 * MX host, result type, policy domain, and policy domain + type.  Every
 * number follows docs/COUNTING.md (the counted view computed at ingest).
 * Tables are sorted by failed sessions (descending), then by name, so that
 * output is deterministic.
 *
 * Memory: a struct agg_digest owns all its strings and arrays through one
 * arena; agg_digest_release() frees them.
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

struct agg_query {
	int64_t from, to;	/* [from, to), UTC seconds */
	const char *domain;	/* filters, or NULL */
	const char *org;
	const char *mx;
};

struct agg_totals {
	uint64_t reports;
	uint64_t organizations;
	uint64_t successful;
	uint64_t failed;
	int64_t quarantined;	/* messages in quarantine now, any window */
};

struct agg_org {
	const char *org;
	uint64_t reports;
	uint64_t successful, failed;
};

struct agg_mx {
	const char *mx;		/* receiving-mx-hostname, else the receiving IP;
				 * "" when the sender gave neither */
	uint64_t failed;	/* sum of counted failure-detail counts */
	const char *top_result;	/* the result type with most failures here */
	uint64_t top_result_failed;
	const char **orgs;	/* organizations that saw failures here, sorted */
	size_t n_orgs;
};

struct agg_result {
	const char *result_type;
	uint64_t failed;
	uint64_t reports;	/* reports that carried it */
};

struct agg_domain {
	const char *domain;
	const char *types;	/* policy types seen, e.g. "sts+tlsa" */
	uint64_t successful, failed;
};

struct agg_policy {
	const char *domain;
	const char *type;
	uint64_t reports;
	uint64_t successful, failed;	/* per-policy numbers as sent */
};

struct agg_digest {
	int64_t from, to;
	struct agg_totals totals;
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
	struct arena arena;
};

int agg_build(struct store *s, const struct agg_query *q, struct agg_digest *d,
	      struct mxd_err *err);
void agg_digest_release(struct agg_digest *d);

/* Failure rate in percent of all sessions (0 when there were none). */
double agg_fail_rate(uint64_t successful, uint64_t failed);

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
