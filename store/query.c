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

#include <sqlite3.h>

#include "store/store_p.h"

/* Filters bound as in store.c: a NULL filter matches everything.  The MX
 * filter compares case-insensitively: details keep the sender's case. */
#define DETAIL_FROM_WHERE						\
	" FROM reports r LEFT JOIN dkim k ON k.message_id = r.message_id" \
	" JOIN policies p ON p.report = r.id"				\
	" JOIN details x ON x.policy = p.id"				\
	" WHERE r.start >= ?1 AND r.start < ?2"				\
	" AND (?3 IS NULL OR p.domain = ?3) AND (?4 IS NULL OR r.org = ?4)" \
	" AND (?5 IS NULL OR lower(coalesce(x.receiving_mx,"		\
	"  x.receiving_ip)) = lower(?5))"				\
	" AND r.counts >= ?6"

static void
bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int
prepare(struct store *s, const char *sql, const struct store_filter *f,
	sqlite3_stmt **st, struct mxd_err *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return store_db_error(s, err, "query");
	sqlite3_bind_int64(*st, 1, f->from);
	sqlite3_bind_int64(*st, 2, f->to);
	bind_opt(*st, 3, f->domain);
	bind_opt(*st, 4, f->org);
	bind_opt(*st, 5, f->mx);
	sqlite3_bind_int(*st, 6, f->dkim_pass ? STORE_COUNTS_VERIFIED
					      : STORE_COUNTS_COUNTED);
	return 0;
}

static const char *
text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int
store_scan_details(struct store *s, const struct store_filter *f,
		   store_detail_fn fn, void *ctx, struct mxd_err *err)
{
	/* (start, id) is unique per report and policies/details are read
	 * through their (report)/(policy) indexes, in insertion order: the
	 * rows stream without a sort */
	static const char sql[] =
		"SELECT r.report_id, r.org, r.start, r.end_, p.domain, p.type,"
		" x.result_type, x.sending_ip, x.receiving_mx, x.receiving_helo,"
		" x.receiving_ip, x.count, x.reason_code, x.additional_info,"
		" k.result, k.domain"
		DETAIL_FROM_WHERE
		" ORDER BY r.start, r.id, p.id, x.rowid";
	struct store_detail_row row;
	sqlite3_stmt *st;
	int rc;

	if (prepare(s, sql, f, &st, err) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.report_id = text(st, 0);
		row.org = text(st, 1);
		row.start = sqlite3_column_int64(st, 2);
		row.end = sqlite3_column_int64(st, 3);
		row.domain = text(st, 4);
		row.policy_type = text(st, 5);
		row.result_type = text(st, 6);
		row.sending_ip = text(st, 7);
		row.receiving_mx = text(st, 8);
		row.receiving_helo = text(st, 9);
		row.receiving_ip = text(st, 10);
		row.count = (uint64_t)sqlite3_column_int64(st, 11);
		row.reason_code = text(st, 12);
		row.additional_info = text(st, 13);
		row.dkim = sqlite3_column_type(st, 14) == SQLITE_NULL ? -1
			: sqlite3_column_int(st, 14);
		row.dkim_domain = text(st, 15);
		if (fn(&row, ctx))
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_db_error(s, err, "query");
	return 0;
}

int
store_count_details(struct store *s, const struct store_filter *f,
		    uint64_t *n, struct mxd_err *err)
{
	static const char sql[] = "SELECT count(*)" DETAIL_FROM_WHERE;
	sqlite3_stmt *st;

	if (prepare(s, sql, f, &st, err) < 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return store_db_error(s, err, "query");
	}
	*n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

int
store_has_reports_before(struct store *s, int64_t t, struct mxd_err *err)
{
	static const char sql[] = "SELECT 1 FROM reports WHERE start < ?1 LIMIT 1";
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return store_db_error(s, err, "query");
	sqlite3_bind_int64(st, 1, t);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "query");
	return 0;
}
