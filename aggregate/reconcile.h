/*
 * reconcile.h — what the reports say, set against what a domain publishes
 * now (the findings of check/): MX hosts that failures name but the
 * domain no longer publishes, or that it publishes and no report names;
 * policy strings in reports that differ from the policy served now; and
 * result types that a finding explains (certificate-expired and an
 * expired certificate, sts-policy-fetch-error and a failing fetch); a
 * record with no report lately.
 *
 * agg_reconcile() adds its findings ("recon.*" codes, documented in
 * docs/CHECK.md) to the result; it reads the store through its scan
 * functions only.
 */
#ifndef MXD_AGGREGATE_RECONCILE_H
#define MXD_AGGREGATE_RECONCILE_H

#include <stdint.h>

#include "store/store.h"
#include "util/err.h"

struct check_result;

/* Days of reports looked at, and the days in which a report should have
 * come for a domain with a TLS-RPT record. */
#define RECON_DAYS 30
#define RECON_QUIET_DAYS 7

int agg_reconcile(struct store *s, struct check_result *r, int64_t now,
		  struct mxd_err *err);

#endif
