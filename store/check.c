/*
 * check.c — the runs of `mxdigest check` (schema version 4): each run of a
 * domain with its findings and the raw records and policy it saw, so that
 * `check` and the digest can say what changed and since when; and the
 * policy strings the reports carried, for the reconciliation.
 */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "store/store_p.h"
#include "util/xalloc.h"

static const char *
col(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t ? t : "";
}

int
store_check_put(struct store *s, const struct check_result *r, int64_t *id,
		struct mxd_err *err)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO checks (domain, at, worst,"
			       " incomplete) VALUES (?1, ?2, ?3, ?4)", -1, &st,
			       NULL) != SQLITE_OK)
		return store_db_error(s, err, "check");
	sqlite3_bind_text(st, 1, r->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->at);
	sqlite3_bind_int(st, 3, (int)r->worst);
	sqlite3_bind_int(st, 4, r->incomplete);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return store_db_error(s, err, "check");
	*id = sqlite3_last_insert_rowid(s->db);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO check_findings (check_id, idx,"
			       " level, code, subject, text, dnssec) VALUES"
			       " (?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st,
			       NULL) != SQLITE_OK)
		return store_db_error(s, err, "check");
	for (i = 0; i < r->n_f; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sqlite3_bind_int(st, 3, (int)r->f[i].level);
		sqlite3_bind_text(st, 4, r->f[i].code, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, r->f[i].subject, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, r->f[i].text, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 7, (int)r->f[i].dnssec);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return store_db_error(s, err, "check");
		}
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s->db, "INSERT INTO check_data (check_id, kind,"
			       " name, value) VALUES (?1, ?2, ?3, ?4)", -1, &st,
			       NULL) != SQLITE_OK)
		return store_db_error(s, err, "check");
	for (i = 0; i < r->n_d; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_text(st, 2, r->d[i].kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, r->d[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, r->d[i].value, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return store_db_error(s, err, "check");
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* Loads the findings of run `id` into run->f. */
static int
load_findings(struct store *s, int64_t id, struct store_check_run *run,
	      struct mxd_err *err)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT level, code, subject, text, dnssec"
			       " FROM check_findings WHERE check_id = ?1"
			       " ORDER BY idx", -1, &st, NULL) != SQLITE_OK)
		return store_db_error(s, err, "check");
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_check_finding *f;

		run->f = xgrow(run->f, &cap, run->n_f + 1, sizeof(*run->f));
		f = &run->f[run->n_f++];
		f->level = sqlite3_column_int(st, 0);
		f->code = xstrdup(col(st, 1));
		f->subject = xstrdup(col(st, 2));
		f->text = xstrdup(col(st, 3));
		f->dnssec = sqlite3_column_int(st, 4);
		f->since = run->at;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_error(s, err, "check");
}

/*
 * Since when each finding has been there: walk back over the earlier runs
 * of the domain while they have it (same code and subject).  A run that
 * did not complete is stepped over, neither ending nor extending a streak.
 */
static int
fill_since(struct store *s, struct store_check_run *run, struct mxd_err *err)
{
	sqlite3_stmt *runs, *has;
	char *open;
	size_t i, left = run->n_f;
	int rc;

	if (!run->n_f)
		return 0;
	if (sqlite3_prepare_v2(s->db, "SELECT id, at FROM checks WHERE domain = ?1"
			       " AND at < ?2 AND incomplete = 0 ORDER BY at DESC,"
			       " id DESC", -1, &runs, NULL) != SQLITE_OK)
		return store_db_error(s, err, "check");
	if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM check_findings WHERE"
			       " check_id = ?1 AND code = ?2 AND subject = ?3",
			       -1, &has, NULL) != SQLITE_OK) {
		sqlite3_finalize(runs);
		return store_db_error(s, err, "check");
	}
	open = xcalloc(run->n_f, 1);
	memset(open, 1, run->n_f);
	sqlite3_bind_text(runs, 1, run->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(runs, 2, run->at);
	while (left && (rc = sqlite3_step(runs)) == SQLITE_ROW) {
		int64_t rid = sqlite3_column_int64(runs, 0), at =
		    sqlite3_column_int64(runs, 1);

		for (i = 0; i < run->n_f; i++) {
			if (!open[i])
				continue;
			sqlite3_reset(has);
			sqlite3_bind_int64(has, 1, rid);
			sqlite3_bind_text(has, 2, run->f[i].code, -1, SQLITE_STATIC);
			sqlite3_bind_text(has, 3, run->f[i].subject, -1,
					  SQLITE_STATIC);
			if (sqlite3_step(has) == SQLITE_ROW) {
				run->f[i].since = at;
			} else {
				open[i] = 0;
				left--;
			}
		}
	}
	free(open);
	sqlite3_finalize(has);
	sqlite3_finalize(runs);
	return 0;
}

int
store_check_runs(struct store *s, const char *domain, int64_t before,
		 struct store_check_run *latest, struct store_check_run *prev,
		 struct mxd_err *err)
{
	sqlite3_stmt *st;
	struct store_check_run *want[2] = {latest, prev};
	int i = 0, rc, found = 0;

	memset(latest, 0, sizeof(*latest));
	if (prev)
		memset(prev, 0, sizeof(*prev));
	if (sqlite3_prepare_v2(s->db, "SELECT id, domain, at, worst, incomplete"
			       " FROM checks WHERE domain = ?1 AND at <= ?2"
			       " ORDER BY at DESC, id DESC LIMIT 2", -1, &st,
			       NULL) != SQLITE_OK)
		return store_db_error(s, err, "check");
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, before);
	while (i < 2 && want[i] && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_check_run *r = want[i++];

		r->id = sqlite3_column_int64(st, 0);
		r->domain = xstrdup(col(st, 1));
		r->at = sqlite3_column_int64(st, 2);
		r->worst = sqlite3_column_int(st, 3);
		r->incomplete = sqlite3_column_int(st, 4);
		found++;
	}
	sqlite3_finalize(st);
	for (i = 0; i < found; i++)
		if (load_findings(s, want[i]->id, want[i], err) < 0)
			return -1;
	if (found && fill_since(s, latest, err) < 0)
		return -1;
	return found ? 1 : 0;
}

void
store_check_run_release(struct store_check_run *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n_f; i++) {
		free(r->f[i].code);
		free(r->f[i].subject);
		free(r->f[i].text);
	}
	free(r->f);
	free(r->domain);
	memset(r, 0, sizeof(*r));
}

int
store_check_domains(struct store *s, int64_t from, int64_t to,
		    store_name_fn fn, void *ctx, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT domain FROM checks WHERE"
			       " at >= ?1 AND at < ?2 ORDER BY domain", -1, &st,
			       NULL) != SQLITE_OK)
		return store_db_error(s, err, "check");
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = fn(col(st, 0), ctx)) != 0) {
			sqlite3_finalize(st);
			return rc;
		}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_error(s, err, "check");
}

int
store_policy_domains(struct store *s, int64_t from, int64_t to,
		     store_name_fn fn, void *ctx, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT lower(p.domain) FROM"
			       " reports r JOIN policies p ON p.report = r.id"
			       " WHERE r.start >= ?1 AND r.start < ?2 AND"
			       " r.counts >= 1 ORDER BY 1", -1, &st,
			       NULL) != SQLITE_OK)
		return store_db_error(s, err, "policy domains");
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = fn(col(st, 0), ctx)) != 0) {
			sqlite3_finalize(st);
			return rc;
		}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_error(s, err, "policy domains");
}

int
store_scan_policy_strings(struct store *s, const struct store_filter *f,
			  store_pstring_fn fn, void *ctx, struct mxd_err *err)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, "SELECT r.org, r.start, t.text FROM"
			       " reports r JOIN policies p ON p.report = r.id"
			       " JOIN texts t ON t.id = p.strings_id"
			       " WHERE r.start >= ?1 AND r.start < ?2 AND"
			       " lower(p.domain) = lower(?3) AND p.type = 'sts' AND"
			       " r.counts >= 1"
			       " ORDER BY r.start", -1, &st, NULL) != SQLITE_OK)
		return store_db_error(s, err, "policy strings");
	sqlite3_bind_int64(st, 1, f->from);
	sqlite3_bind_int64(st, 2, f->to);
	sqlite3_bind_text(st, 3, f->domain ? f->domain : "", -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((rc = fn(col(st, 0), sqlite3_column_int64(st, 1), col(st, 2),
			     ctx)) != 0) {
			sqlite3_finalize(st);
			return rc;
		}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_db_error(s, err, "policy strings");
}
