/*
 * query.c — the read queries of the digest that go beyond the counted
 * view: failure details as the senders wrote them (one row per detail, for
 * the spreadsheet and CSV), and whether the store holds anything older
 * than a window (for "new this window").
 *
 * Like the window scans of store.c, every query starts from an index range
 * on reports(start), so its cost follows the window, not the store.
 */
#include "store/store.h"

#include <string.h>

#include "store/store_p.h"

int
store_scan_details(struct store *s, const struct store_filter *f,
		   store_detail_fn fn, void *ctx, struct mxd_err *err)
{
	struct store_detail_row row;
	struct dbq *st;
	int rc;

	if (!(st = db_scan(s, DB_SCAN_DETAILS, f, err)))
		return -1;
	while ((rc = db_step(st)) == 1) {
		row.report_id = db_col_text(st, 0);
		row.org = db_col_text(st, 1);
		row.start = db_col_int(st, 2);
		row.end = db_col_int(st, 3);
		row.domain = db_col_text(st, 4);
		row.policy_type = db_col_text(st, 5);
		row.result_type = db_col_text(st, 6);
		row.sending_ip = db_col_text(st, 7);
		row.receiving_mx = db_col_text(st, 8);
		row.receiving_helo = db_col_text(st, 9);
		row.receiving_ip = db_col_text(st, 10);
		row.count = (uint64_t)db_col_int(st, 11);
		row.reason_code = db_col_text(st, 12);
		row.additional_info = db_col_text(st, 13);
		row.dkim = db_is_null(st, 14) ? -1
			: db_col_int(st, 14);
		row.dkim_domain = db_col_text(st, 15);
		if (fn(&row, ctx))
			break;
	}
	db_reset(st);
	if (rc < 0)
		return store_db_error(s, err, "query");
	return 0;
}

int
store_count_details(struct store *s, const struct store_filter *f,
		    uint64_t *n, struct mxd_err *err)
{
	struct dbq *st;

	if (!(st = db_scan(s, DB_COUNT_DETAILS, f, err)))
		return -1;
	if (db_step(st) != 1) {
		db_reset(st);
		return store_db_error(s, err, "query");
	}
	*n = (uint64_t)db_col_int(st, 0);
	db_reset(st);
	return 0;
}

int
store_has_reports_before(struct store *s, int64_t t, struct mxd_err *err)
{
	struct dbq *st;
	int rc;

	if (!(st = db_get(s, DB_HAS_BEFORE, err)))
		return -1;
	db_bind_int(st, 1, t);
	rc = db_step(st);
	db_reset(st);
	if (rc == 1)
		return 1;
	if (rc != 0)
		return store_db_error(s, err, "query");
	return 0;
}

int
store_failure_kinds(struct store *s, const struct store_filter *f,
		    store_fail_fn fn, void *ctx, struct mxd_err *err)
{
	struct store_fail_row row;
	struct dbq *st;
	int rc;

	if (!(st = db_scan(s, DB_FAIL_KINDS, f, err)))
		return -1;
	memset(&row, 0, sizeof(row));
	while ((rc = db_step(st)) == 1) {
		row.org = db_col_text(st, 0);
		row.result_type = db_col_text(st, 1);
		row.receiving_mx = db_col_text(st, 2);	/* or the IP */
		if (fn(&row, ctx))
			break;
	}
	return scan_finish(s, st, rc, err);
}

int
store_failing_orgs(struct store *s, const struct store_filter *f,
		   store_name_fn fn, void *ctx, struct mxd_err *err)
{
	struct dbq *st;
	int rc;

	if (!(st = db_scan(s, DB_FAILING_ORGS, f, err)))
		return -1;
	while ((rc = db_step(st)) == 1) {
		if (fn(db_col_text(st, 0), ctx))
			break;
	}
	return scan_finish(s, st, rc, err);
}
