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
col(struct dbq *st, int i)
{
	const char *t = db_col_text(st, i);

	return t ? t : "";
}

int
store_check_put(struct store *s, const struct check_result *r, int64_t *id,
		struct mxd_err *err)
{
	struct dbq *st = NULL;
	size_t i;

	if (!(st = db_get(s, DB_CHECK_PUT, err)))
		return -1;
	db_bind_text(st, 1, r->domain);
	db_bind_int(st, 2, r->at);
	db_bind_int(st, 3, (int)r->worst);
	db_bind_int(st, 4, r->incomplete);
	if (db_insert(s, st, id, err, "check") < 0)
		return -1;
	if (!(st = db_get(s, DB_FINDING_PUT, err)))
		return -1;
	for (i = 0; i < r->n_f; i++) {
		db_reset(st);
		db_bind_int(st, 1, *id);
		db_bind_int(st, 2, (int64_t)i);
		db_bind_int(st, 3, (int)r->f[i].level);
		db_bind_text(st, 4, r->f[i].code);
		db_bind_text(st, 5, r->f[i].subject);
		db_bind_text(st, 6, r->f[i].text);
		db_bind_int(st, 7, (int)r->f[i].dnssec);
		if (db_step(st) != 0) {
			db_reset(st);
			return store_db_error(s, err, "check");
		}
	}
	db_reset(st);
	if (!(st = db_get(s, DB_CHECK_DATA_PUT, err)))
		return -1;
	for (i = 0; i < r->n_d; i++) {
		db_reset(st);
		db_bind_int(st, 1, *id);
		db_bind_text(st, 2, r->d[i].kind);
		db_bind_text(st, 3, r->d[i].name);
		db_bind_text(st, 4, r->d[i].value);
		if (db_step(st) != 0) {
			db_reset(st);
			return store_db_error(s, err, "check");
		}
	}
	db_reset(st);
	return 0;
}

/* Loads the findings of run `id` into run->f. */
static int
load_findings(struct store *s, int64_t id, struct store_check_run *run,
	      struct mxd_err *err)
{
	struct dbq *st;
	size_t cap = 0;
	int rc;

	if (!(st = db_get(s, DB_FINDINGS_OF, err)))
		return -1;
	db_bind_int(st, 1, id);
	while ((rc = db_step(st)) == 1) {
		struct store_check_finding *f;

		run->f = xgrow(run->f, &cap, run->n_f + 1, sizeof(*run->f));
		f = &run->f[run->n_f++];
		f->level = db_col_int(st, 0);
		f->code = xstrdup(col(st, 1));
		f->subject = xstrdup(col(st, 2));
		f->text = xstrdup(col(st, 3));
		f->dnssec = db_col_int(st, 4);
		f->since = run->at;
	}
	db_reset(st);
	return rc == 0 ? 0 : store_db_error(s, err, "check");
}

/*
 * Since when each finding has been there: walk back over the earlier runs
 * of the domain while they have it (same code and subject).  A run that
 * did not complete is stepped over, neither ending nor extending a streak.
 */
static int
fill_since(struct store *s, struct store_check_run *run, struct mxd_err *err)
{
	struct dbq *runs, *has;
	char *open;
	size_t i, left = run->n_f;
	int rc;

	if (!run->n_f)
		return 0;
	if (!(runs = db_get(s, DB_CHECK_COMPLETE, err)))
		return -1;
	if (!(has = db_get(s, DB_FINDING_IN, err)))
		return -1;
	open = xcalloc(run->n_f, 1);
	memset(open, 1, run->n_f);
	db_bind_text(runs, 1, run->domain);
	db_bind_int(runs, 2, run->at);
	while (left && (rc = db_step(runs)) == 1) {
		int64_t rid = db_col_int(runs, 0), at =
		    db_col_int(runs, 1);

		for (i = 0; i < run->n_f; i++) {
			if (!open[i])
				continue;
			db_reset(has);
			db_bind_int(has, 1, rid);
			db_bind_text(has, 2, run->f[i].code);
			db_bind_text(has, 3, run->f[i].subject);
			if (db_step(has) == 1) {
				run->f[i].since = at;
			} else {
				open[i] = 0;
				left--;
			}
		}
	}
	free(open);
	db_reset(has);
	db_reset(runs);
	return 0;
}

int
store_check_runs(struct store *s, const char *domain, int64_t before,
		 struct store_check_run *latest, struct store_check_run *prev,
		 struct mxd_err *err)
{
	struct dbq *st;
	struct store_check_run *want[2] = {latest, prev};
	int i = 0, rc, found = 0;

	memset(latest, 0, sizeof(*latest));
	if (prev)
		memset(prev, 0, sizeof(*prev));
	if (!(st = db_get(s, DB_CHECK_LATEST, err)))
		return -1;
	db_bind_text(st, 1, domain);
	db_bind_int(st, 2, before);
	while (i < 2 && want[i] && (rc = db_step(st)) == 1) {
		struct store_check_run *r = want[i++];

		r->id = db_col_int(st, 0);
		r->domain = xstrdup(col(st, 1));
		r->at = db_col_int(st, 2);
		r->worst = db_col_int(st, 3);
		r->incomplete = db_col_int(st, 4);
		found++;
	}
	db_reset(st);
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
	struct dbq *st;
	int rc;

	if (!(st = db_get(s, DB_CHECK_DOMAINS, err)))
		return -1;
	db_bind_int(st, 1, from);
	db_bind_int(st, 2, to);
	while ((rc = db_step(st)) == 1)
		if ((rc = fn(col(st, 0), ctx)) != 0) {
			db_reset(st);
			return rc;
		}
	db_reset(st);
	return rc == 0 ? 0 : store_db_error(s, err, "check");
}

int
store_policy_domains(struct store *s, int64_t from, int64_t to,
		     store_name_fn fn, void *ctx, struct mxd_err *err)
{
	struct dbq *st;
	int rc;

	if (!(st = db_get(s, DB_POLICY_DOMAINS, err)))
		return -1;
	db_bind_int(st, 1, from);
	db_bind_int(st, 2, to);
	while ((rc = db_step(st)) == 1)
		if ((rc = fn(col(st, 0), ctx)) != 0) {
			db_reset(st);
			return rc;
		}
	db_reset(st);
	return rc == 0 ? 0 : store_db_error(s, err, "policy domains");
}

int
store_scan_policy_strings(struct store *s, const struct store_filter *f,
			  store_pstring_fn fn, void *ctx, struct mxd_err *err)
{
	struct dbq *st;
	int rc;

	if (!(st = db_get(s, DB_POLICY_STRINGS, err)))
		return -1;
	db_bind_int(st, 1, f->from);
	db_bind_int(st, 2, f->to);
	db_bind_text(st, 3, f->domain ? f->domain : "");
	while ((rc = db_step(st)) == 1)
		if ((rc = fn(col(st, 0), db_col_int(st, 1), col(st, 2),
			     ctx)) != 0) {
			db_reset(st);
			return rc;
		}
	db_reset(st);
	return rc == 0 ? 0 : store_db_error(s, err, "policy strings");
}
