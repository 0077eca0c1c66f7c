/*
 * cmd_fetch.c — `mxdigest fetch [ACCOUNT] [--watch] [--dry-run]
 * [--insecure]`: new report mails from IMAP accounts into the database.
 *
 * Per account: log in (fetch/imap.h), EXAMINE the mailbox (SELECT when a
 * move is configured), compare its UIDVALIDITY with the stored sync state,
 * list the sizes of the messages after the last UID done, then fetch them
 * in batches (many UIDs per command).  Each batch is one transaction:
 * ingest_begin(), ingest_message() per message, store_sync_put() with the
 * batch's highest UID, ingest_flush().  Only after that COMMIT are the
 * batch's messages moved (processed ones to archive_mailbox, quarantined
 * ones to quarantine_mailbox), so a crash can lose a move, never a report:
 * with a move configured every message still in the mailbox is looked at
 * again on the next run, and the store recognises what it already holds.
 * A message larger than max_message_size is never downloaded whole: its
 * header is kept and it is quarantined as too large.
 *
 * Network and work overlap: while a batch is parsed and stored, a thread
 * of its own downloads the next one (struct prefetch).  The connection is
 * used by one thread at a time: whatever else the batch needs from the
 * server (the check of missing UIDs, the moves) waits for that download
 * first.  Two batches are in memory at most.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/account.h"
#include "cli/cli.h"
#include "cli/progress.h"
#include "fetch/imap.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define BATCH_MSGS 500			/* UIDs per FETCH and per transaction */
#define BATCH_BYTES ((size_t)8 << 20)	/* and bytes */
#define HEAD_MAX 65536			/* header bytes kept of an oversized mail */
#define IDLE_MAX (25 * 60)		/* re-IDLE well before RFC 2177's 29 min */
#define NOOP_EVERY 60			/* without IDLE: NOOP this often */
#define BACKOFF_MAX 300			/* seconds between reconnections, at most */

static const char fetch_help[] =
	"usage: mxdigest fetch [-n] [--watch] [--dkim=MODE] [--insecure] [ACCOUNT]\n"
	"\n"
	"Fetches new report mails from the IMAP accounts of the configuration\n"
	"(every [account] section, or only ACCOUNT) into the database.  The\n"
	"server's certificate and host name are verified before the password is\n"
	"sent.  Messages are read with BODY.PEEK[] (they stay unread); with\n"
	"archive_mailbox or quarantine_mailbox set, they are moved there once\n"
	"stored.  See mxdigest.conf(5) for the [account] keys.\n"
	"\n"
	"  -n, --dry-run   fetch and parse, store and move nothing\n"
	"      --dkim=MODE verify DKIM signatures (report, require) or not (off);\n"
	"                  default: the configuration's dkim, else report\n"
	"  -w, --watch     stay connected and fetch new mail as it arrives (IMAP\n"
	"                  IDLE); one account; SIGINT or SIGTERM ends it cleanly\n"
	"      --insecure  do not verify the TLS certificate (for tests only)\n"
	"  -h, --help      this help\n"
	"\n"
	"Exit status: 0 success, 65 some messages quarantined, 69 server\n"
	"unavailable or connection lost, 74 database error, 75 database locked\n"
	"(or interrupted), 76 TLS certificate not verified, 77 login refused,\n"
	"78 configuration error.\n";

struct uids {
	uint32_t *v;
	size_t n, cap;
};

/* The next batch, downloaded on a thread of its own (run_batch()). */
struct prefetch {
	pthread_t tid;
	int running;			/* started and not joined yet */
	int held;			/* joined: rc, err and got are this batch's */
	size_t from, to;		/* the batch: list[from, to) */
	struct uids whole;		/* its UIDs fetched whole, ascending */
	uint64_t expect;
	struct imap *im;
	struct imap_fetched *got;
	int rc;
	struct mxd_err err;
};

struct fetch {
	struct cli *c;
	struct store *s;		/* NULL in a dry run without a database */
	int dry, watch, insecure;
	struct parse_limits lim;
	struct dkimv *dkim;		/* NULL: dkim = off */

	/* the account being fetched */
	struct account_plan p;
	struct imap *im;
	struct ingest *g;
	struct progress prog;
	char what[300];			/* "fetch <account>", the progress label */
	struct imap_box box;
	const struct imap_list *list;	/* sizes of the current run */
	int moving;
	int head_mode;			/* fetching headers of oversized mail */

	/* the current message and batch */
	char prefix[512];		/* "<account>/<mailbox>/", sources */
	size_t prefix_len;
	struct uids got, ok, bad;	/* outcome of the batch, for moves */
	uint64_t done, done_bytes;	/* of the current listing */
	uint32_t hold;			/* lowest UID asked for and not sent */
	size_t batch_max;		/* UIDs per batch: BATCH_MSGS, or 1 */
	struct prefetch pre;		/* the next batch's download */
	int checked;			/* move targets checked (connection) */
	int uv_warned;

	/* what happened */
	uint64_t archived, qmoved, vanished;
	struct mxd_err err;		/* the error that ended the account */
	int failed;
	struct mxd_err move_err;	/* moves stopped, fetching went on */
	int move_failed;
};

static void
uids_add(struct uids *u, uint32_t uid)
{
	u->v = xgrow(u->v, &u->cap, u->n + 1, sizeof(*u->v));
	u->v[u->n++] = uid;
}

static void
uids_release(struct uids *u)
{
	free(u->v);
	memset(u, 0, sizeof(*u));
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The message an event is about: its source is "<prefix><uid>", with
 * "[part]" after it for a message with several report parts.  (Events come
 * in input order but may come later than the ingest_message() call, when
 * workers parse: hence the UID from the name, not "the current message".)
 */
static void
mark_quarantined(struct fetch *f, const char *source)
{
	char *end;
	unsigned long uid;

	if (strncmp(source, f->prefix, f->prefix_len) != 0)
		return;
	uid = strtoul(source + f->prefix_len, &end, 10);
	if (uid && uid <= UINT32_MAX && (*end == '\0' || *end == '['))
		uids_add(&f->bad, (uint32_t)uid);
}

/* Ingest events: quarantine is printed, and marks the message. */
static void
on_event(void *ctx, enum ingest_event ev, const char *source, const char *detail)
{
	struct fetch *f = ctx;

	if (ev == INGEST_QUARANTINED || ev == INGEST_ALREADY_QUARANTINED)
		mark_quarantined(f, source);
	cli_ingest_event(f->c, &f->prog, ev, source, detail);
}

/* The size of a UID in the (sorted) size listing, 0 if absent. */
static uint32_t
listed_size(const struct imap_list *l, uint32_t uid)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid].uid == uid)
			return l->v[mid].size;
		if (l->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* One fetched message (or the header of an oversized one). */
static int
on_msg(const struct imap_msg *m, void *ctx)
{
	struct fetch *f = ctx;
	char source[sizeof(f->prefix) + 16];
	uint32_t size = listed_size(f->list, m->uid);
	size_t truncated_from = 0;

	if (f->head_mode)
		truncated_from = size > m->len ? size : m->len + 1;
	snprintf(source, sizeof(source), "%s%u", f->prefix, m->uid);
	if (ingest_message(f->g, m->data, m->len, source, NULL, truncated_from,
			   &f->err) < 0) {
		f->failed = 1;
		return 1;
	}
	uids_add(&f->got, m->uid);
	f->done++;
	f->done_bytes += size ? size : m->len;
	progress_update(&f->prog, f->done, f->done_bytes);
	return 0;
}

/* After the flush every event is in: ok = fetched and not quarantined. */
static void
split_outcome(struct fetch *f)
{
	size_t i, j, k;

	if (f->got.n > 1)
		qsort(f->got.v, f->got.n, sizeof(*f->got.v), uid_cmp);
	if (f->bad.n > 1)
		qsort(f->bad.v, f->bad.n, sizeof(*f->bad.v), uid_cmp);
	for (i = k = 0; i < f->bad.n; i++)	/* several parts, one message */
		if (k == 0 || f->bad.v[i] != f->bad.v[k - 1])
			f->bad.v[k++] = f->bad.v[i];
	f->bad.n = k;
	for (i = j = 0; i < f->got.n; i++) {
		while (j < f->bad.n && f->bad.v[j] < f->got.v[i])
			j++;
		if (j == f->bad.n || f->bad.v[j] != f->got.v[i])
			uids_add(&f->ok, f->got.v[i]);
	}
}

/* Moves after the batch's COMMIT; a refused move stops moving, not
 * fetching (the messages are stored; the next run moves them). */
static int
move_batch(struct fetch *f)
{
	struct {
		struct uids *u;
		const char *box;
		uint64_t *count;
	} m[2] = {{&f->ok, f->p.archive, &f->archived},
		  {&f->bad, f->p.quarantine, &f->qmoved}};
	int i, r;

	for (i = 0; i < 2 && f->moving; i++) {
		if (!m[i].box || m[i].u->n == 0)
			continue;
		r = imap_move(f->im, m[i].u->v, m[i].u->n, m[i].box, &f->move_err);
		if (r < 0) {
			if (f->move_err.code == MXD_E_NET || f->move_err.code == MXD_E_PROTO) {
				f->err = f->move_err;
				f->failed = 1;
				return -1;
			}
			f->move_failed = 1;
			f->moving = 0;
			return 0;
		}
		*m[i].count += m[i].u->n;
	}
	return 0;
}

/*
 * The UIDs of list[from, to) that the fetch did not return: gone (another
 * client expunged them meanwhile), or still there, answered without a
 * body or not at all.  Those are asked for again next run: the sync state
 * stops below the lowest of them (f->hold).
 */
static int
check_missing(struct fetch *f, size_t from, size_t to)
{
	const struct imap_list *l = f->list;
	struct uids miss = {NULL, 0, 0};
	unsigned char *there;
	size_t i, j, kept = 0;
	int rc;

	if (f->got.n > 1)
		qsort(f->got.v, f->got.n, sizeof(*f->got.v), uid_cmp);
	for (i = from, j = 0; i < to; i++) {
		while (j < f->got.n && f->got.v[j] < l->v[i].uid)
			j++;
		if (j == f->got.n || f->got.v[j] != l->v[i].uid)
			uids_add(&miss, l->v[i].uid);
	}
	if (miss.n == 0)
		return 0;
	there = xmalloc(miss.n);
	rc = imap_exists(f->im, miss.v, miss.n, there, &f->err);
	for (i = 0; rc == 0 && i < miss.n; i++) {
		if (!there[i]) {
			f->vanished++;
			continue;
		}
		if (!f->hold || miss.v[i] < f->hold)
			f->hold = miss.v[i];
		kept++;
	}
	if (rc == 0 && kept)
		cli_warn("\"%s\": the server sent %zu message%s without %s body "
			 "(UID %u%s): asked for again next run", f->p.a->name, kept,
			 kept == 1 ? "" : "s", kept == 1 ? "its" : "their", f->hold,
			 kept > 1 ? " and more" : "");
	if (rc == 0 && miss.n > kept)
		mxd_log(MXD_LOG_INFO, "\"%s\": %zu message%s gone before being "
			"fetched", f->p.a->name, miss.n - kept,
			miss.n - kept == 1 ? "" : "s");
	free(there);
	uids_release(&miss);
	return rc;
}

/* What the server may send for these messages: their listed sizes are
 * hints (each capped at what a message may be), plus room for the FETCH
 * lines.  One message alone may be as large as a message may be. */
static uint64_t
expected_bytes(const struct fetch *f, const struct uids *u, size_t head_max)
{
	uint64_t sum = (uint64_t)1 << 20;
	size_t i;

	if (u->n == 1 && !head_max)
		return sum + f->lim.max_message;
	for (i = 0; i < u->n; i++) {
		uint64_t sz = head_max ? head_max : listed_size(f->list, u->v[i]);

		sum += (sz < f->lim.max_message ? sz : f->lim.max_message) + 8192;
	}
	return sum;
}

/* The end of the batch that starts at list[i]: at most batch_max UIDs
 * and BATCH_BYTES (by the listed sizes), one message at least. */
static size_t
batch_end(const struct fetch *f, size_t i)
{
	const struct imap_list *l = f->list;
	size_t j, bytes = 0;

	for (j = i; j < l->n && j - i < f->batch_max; j++) {
		size_t sz = l->v[j].size > f->lim.max_message ? HEAD_MAX : l->v[j].size;

		if (j > i && bytes + sz > BATCH_BYTES)
			break;
		bytes += sz;
	}
	return j;
}

/* The UIDs of list[from, to) to fetch whole, and those too large to (their
 * header only; head may be NULL when only the whole ones are wanted). */
static void
split_batch(const struct fetch *f, size_t from, size_t to, struct uids *whole,
	    struct uids *head)
{
	size_t i;

	for (i = from; i < to; i++) {
		int big = f->list->v[i].size > f->lim.max_message;

		if (!big)
			uids_add(whole, f->list->v[i].uid);
		else if (head)
			uids_add(head, f->list->v[i].uid);
	}
}

static void *
prefetch_run(void *arg)
{
	struct prefetch *p = arg;

	p->rc = imap_fetch_get(p->im, p->whole.v, p->whole.n, 0, p->expect,
			       &p->got, &p->err);
	return NULL;
}

/* Starts downloading list[from, to) whole (its oversized messages are left
 * to run_batch()).  Without a thread it is simply not started. */
static void
prefetch_start(struct fetch *f, size_t from, size_t to)
{
	struct prefetch *p = &f->pre;
	sigset_t all, old;
	int r;

	p->from = from;
	p->to = to;
	p->whole.n = 0;
	split_batch(f, from, to, &p->whole, NULL);
	p->expect = expected_bytes(f, &p->whole, 0);
	p->im = f->im;
	p->got = NULL;
	p->rc = 0;
	mxd_err_clear(&p->err);
	/* signals go to the main thread, which watches the stop flag too */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&p->tid, NULL, prefetch_run, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	p->running = r == 0;
}

/* Waits for the download in flight, if any, and keeps its answer: the
 * connection is free again. */
static void
prefetch_wait(struct fetch *f)
{
	struct prefetch *p = &f->pre;

	if (!p->running)
		return;
	pthread_join(p->tid, NULL);
	p->running = 0;
	p->held = 1;
}

/* Forgets the download (after waiting for it): nothing of it was stored. */
static void
prefetch_drop(struct fetch *f)
{
	struct prefetch *p = &f->pre;

	prefetch_wait(f);
	imap_fetched_free(p->got);
	p->got = NULL;
	p->held = 0;
}

/* One batch: list[from, to) fetched, stored with the sync state, moved;
 * the next batch's download runs meanwhile when there is one. */
static int
run_batch(struct fetch *f, size_t from, size_t to)
{
	struct uids whole = {NULL, 0, 0}, head = {NULL, 0, 0};
	struct imap_fetched *bw = NULL, *bh = NULL;
	const struct imap_list *l = f->list;
	uint32_t top = l->v[to - 1].uid;
	size_t got;
	int rc = -1;

	split_batch(f, from, to, &whole, &head);
	f->got.n = f->ok.n = f->bad.n = 0;
	if (ingest_begin(f->g, &f->err) < 0) {
		f->failed = 1;
		prefetch_drop(f);
		goto out;
	}
	/* the whole messages: downloaded while the batch before was stored,
	 * or now */
	prefetch_wait(f);
	if (f->pre.held && f->pre.from == from && f->pre.to == to) {
		bw = f->pre.got;
		f->pre.got = NULL;
		f->pre.held = 0;
		if (f->pre.rc < 0) {
			f->err = f->pre.err;
			goto abort;
		}
	} else {
		prefetch_drop(f);
		if (imap_fetch_get(f->im, whole.v, whole.n, 0,
				   expected_bytes(f, &whole, 0), &bw, &f->err) < 0)
			goto abort;
	}
	if (imap_fetch_get(f->im, head.v, head.n, HEAD_MAX,
			   expected_bytes(f, &head, HEAD_MAX), &bh, &f->err) < 0)
		goto abort;
	/* the connection is free until the next command: download the next
	 * batch while this one is parsed and stored (not when fetching one
	 * message at a time after a server sent more than it announced) */
	if (to < l->n && f->batch_max > 1 && !*f->c->interrupted)
		prefetch_start(f, to, batch_end(f, to));
	f->head_mode = 0;
	if (imap_fetched_each(bw, on_msg, f) != 0)
		goto abort;
	f->head_mode = 1;
	if (imap_fetched_each(bh, on_msg, f) != 0)
		goto abort;
	imap_fetched_free(bw);
	imap_fetched_free(bh);
	bw = bh = NULL;
	got = f->got.n;
	if (got < to - from) {
		prefetch_wait(f);	/* check_missing() asks the server */
		if (check_missing(f, from, to) < 0)
			goto abort;
	}
	if (f->hold && f->hold <= top)
		top = f->hold - 1;
	if (f->dry) {
		/* nothing to write: hear every message's outcome */
		if (ingest_flush(f->g, &f->err) < 0) {
			f->failed = 1;
			prefetch_drop(f);
			goto out;
		}
	} else {
		/* the same transaction as the batch's reports */
		if (store_sync_put(f->s, f->p.a->name, f->p.mailbox,
				   f->box.uidvalidity, top, &f->err) < 0 ||
		    ingest_flush(f->g, &f->err) < 0) {
			f->failed = 1;
			prefetch_drop(f);
			goto out;
		}
		mxd_log(MXD_LOG_INFO, "\"%s\": stored %zu message%s, UIDs %u to %u",
			f->p.a->name, got, got == 1 ? "" : "s", l->v[from].uid,
			l->v[to - 1].uid);
	}
	split_outcome(f);
	if (f->moving && (f->ok.n || f->bad.n))
		prefetch_wait(f);	/* the moves are commands too */
	rc = move_batch(f);
	if (rc < 0)
		prefetch_drop(f);
	goto out;
abort:
	/* nothing of a batch cut short is kept, counted or moved: the next
	 * run (or the next round of --watch) fetches it again */
	f->failed = 1;
	prefetch_drop(f);
	ingest_abort(f->g);
	f->done -= f->got.n;
	f->got.n = f->ok.n = f->bad.n = 0;
out:
	imap_fetched_free(bw);
	imap_fetched_free(bh);
	uids_release(&whole);
	uids_release(&head);
	return rc;
}

static int connect_account(struct fetch *f);

/* UIDVALIDITY as found, against the stored state: 0, or -1 with f->err. */
static int
note_uidvalidity(struct fetch *f, int found, uint32_t was)
{
	int changes;

	if (!f->s || f->dry)
		return 0;
	changes = store_sync_seen(f->s, f->p.a->name, f->p.mailbox,
				  f->box.uidvalidity, &f->err);
	if (changes < 0)
		return -1;
	if (!found || was == f->box.uidvalidity)
		return 0;
	/* RFC 3501 §2.3.1.1: the old UIDs mean nothing now */
	if (changes == 3 && !f->uv_warned) {
		f->uv_warned = 1;
		cli_warn("\"%s\": the UIDVALIDITY of \"%s\" changed on each of the "
			 "last %d runs: the server does not keep UIDs (GNU Mailutils "
			 "on an mbox that other programs deliver to does this), so "
			 "every run reads the whole mailbox again; nothing is stored "
			 "twice", f->p.a->name, f->p.mailbox, changes);
	} else {
		mxd_log(changes == 1 ? MXD_LOG_WARN : MXD_LOG_INFO, "\"%s\": "
			"UIDVALIDITY of \"%s\" changed (%u, was %u): looking at "
			"every message again; nothing is stored twice",
			f->p.a->name, f->p.mailbox, f->box.uidvalidity, was);
	}
	return 0;
}

/* Before the first batch: a move target that does not exist would make
 * every run fetch everything and fail at the end. */
static int
check_targets(struct fetch *f)
{
	if (!f->moving || f->checked)
		return 0;
	if ((f->p.archive && imap_check_mailbox(f->im, f->p.archive, &f->err) < 0) ||
	    (f->p.quarantine &&
	     imap_check_mailbox(f->im, f->p.quarantine, &f->err) < 0)) {
		if (f->err.code == MXD_E_CONFIG)
			mxd_err_prefix(&f->err, "%s_mailbox",
				       f->p.archive && strstr(f->err.text, f->p.archive)
				       ? "archive" : "quarantine");
		f->failed = 1;
		return -1;
	}
	f->checked = 1;
	return 0;
}

/* After a server sent more than it announced: again, one message per
 * FETCH, on a new connection (the old one is out of step). */
static int
reconnect_one_by_one(struct fetch *f)
{
	uint32_t uv = f->box.uidvalidity;
	struct mxd_err why = f->err;

	cli_warn("\"%s\": %s; fetching one message at a time", f->p.a->name,
		 why.text);
	f->batch_max = 1;
	imap_close(f->im);
	f->im = NULL;
	f->failed = 0;
	if (connect_account(f) < 0 ||
	    imap_select(f->im, f->p.mailbox, !f->moving, &f->box, &f->err) < 0) {
		f->failed = 1;
		return -1;
	}
	if (f->box.uidvalidity != uv) {
		mxd_err_set(&f->err, MXD_E_PROTO, "UIDVALIDITY of \"%s\" changed "
			    "while reconnecting", f->p.mailbox);
		f->failed = 1;
		return -1;
	}
	return 0;
}

/* Select, compare UIDVALIDITY, list, fetch in batches.  0, or -1 with
 * f->err (f->failed set). */
static int
sync_mailbox(struct fetch *f)
{
	struct imap_list l;
	uint32_t uv = 0, last = 0, first = 1;
	size_t i, j;
	int found = 0, rc = 0;

	f->moving = !f->dry && !f->move_failed && (f->p.archive || f->p.quarantine);
	if (f->moving && !(imap_caps(f->im) & (IMAP_CAP_MOVE | IMAP_CAP_UIDPLUS))) {
		/* only a plain EXPUNGE could finish a COPY there: fetch
		 * read-only and say why nothing moves */
		mxd_err_set(&f->move_err, MXD_E_CONFIG, "the server has neither MOVE "
			    "nor UIDPLUS, so messages cannot be moved without "
			    "expunging other clients' deleted mail: remove "
			    "archive_mailbox and quarantine_mailbox");
		f->move_failed = 1;
		f->moving = 0;
	}
	if (imap_select(f->im, f->p.mailbox, !f->moving, &f->box, &f->err) < 0) {
		f->failed = 1;
		return -1;
	}
	if (f->moving && f->box.read_only) {
		mxd_err_set(&f->move_err, MXD_E_CONFIG, "\"%s\" is read-only for this "
			    "user: nothing can be moved", f->p.mailbox);
		f->move_failed = 1;
		f->moving = 0;
	}
	if (check_targets(f) < 0)
		return -1;
	if (f->s) {
		found = store_sync_get(f->s, f->p.a->name, f->p.mailbox, &uv, &last,
				       &f->err);
		if (found < 0 || note_uidvalidity(f, found, uv) < 0) {
			f->failed = 1;
			return -1;
		}
	}
	if (found && uv == f->box.uidvalidity && !f->moving) {
		if (last == UINT32_MAX)
			return 0;
		first = last + 1;
	}
	/* with a move configured, whatever is still in the mailbox is new or
	 * was left by an interrupted move: look at all of it */
	memset(&l, 0, sizeof(l));
	if (imap_list_sizes(f->im, first, f->box.uidnext, f->moving, &l,
			    &f->err) < 0) {
		f->failed = 1;
		imap_list_release(&l);
		return -1;
	}
	f->list = &l;
	f->done = f->done_bytes = 0;
	f->hold = 0;
	progress_set_total(&f->prog, l.n);
	for (i = 0; i < l.n && rc == 0; i = j) {
		if (*f->c->interrupted)
			break;
		j = batch_end(f, i);
		rc = run_batch(f, i, j);
		if (rc < 0 && f->im && imap_overflowed(f->im) && f->batch_max > 1 &&
		    !*f->c->interrupted) {
			rc = reconnect_one_by_one(f);
			j = i;		/* this batch again */
		}
	}
	prefetch_drop(f);	/* interrupted: the next batch is not stored */
	progress_clear(&f->prog);
	f->list = NULL;
	imap_list_release(&l);
	return rc;
}

static int
retryable(enum mxd_status s)
{
	return s == MXD_E_NET || s == MXD_E_PROTO;
}

/* Reads the secret, logs in, wipes the secret. */
static int
connect_account(struct fetch *f)
{
	char *secret = NULL;
	int rc;

	if (account_secret(f->p.a, &secret, &f->err) < 0) {
		f->failed = 1;
		return -1;
	}
	f->p.imap.secret = secret;
	f->p.imap.stop = f->c->interrupted;
	f->p.imap.max_literal = f->lim.max_message;
	f->checked = 0;
	rc = imap_open(&f->p.imap, &f->im, &f->err);
	f->p.imap.secret = NULL;
	account_secret_free(secret);
	if (rc < 0)
		f->failed = 1;
	return rc;
}

/* Sleeps up to `secs`, waking up for SIGINT/SIGTERM. */
static void
nap(struct fetch *f, int secs)
{
	time_t end = time(NULL) + secs;

	while (!*f->c->interrupted && time(NULL) < end)
		sleep(1);
}

/* How long --watch waits before it asks the server again. */
static int
idle_wait(const struct fetch *f)
{
	if (f->p.idle_interval)
		return f->p.idle_interval;
	return imap_caps(f->im) & IMAP_CAP_IDLE ? IDLE_MAX : NOOP_EVERY;
}

/*
 * --watch: sync, then IDLE until new mail, again and again.  A lost
 * connection (or a server that stopped answering: every step has a
 * timeout) is retried with a growing pause; a refused certificate or
 * password is not.
 */
static void
watch_account(struct fetch *f)
{
	int backoff = 1, r;

	while (!*f->c->interrupted) {
		f->failed = 0;
		if (connect_account(f) == 0 && sync_mailbox(f) == 0) {
			backoff = 1;
			while (!*f->c->interrupted) {
				r = imap_idle(f->im, idle_wait(f), f->c->interrupted,
					      &f->err);
				if (r < 0) {
					f->failed = 1;
					break;
				}
				if (r == 1 && sync_mailbox(f) < 0)
					break;
			}
		}
		imap_close(f->im);
		f->im = NULL;
		if (!f->failed || *f->c->interrupted)
			break;
		if (!retryable(f->err.code))
			return;
		progress_clear(&f->prog);
		cli_error(f->p.a->name, "%s; trying again in %d s", f->err.text,
			  backoff);
		nap(f, backoff);
		backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
	}
	f->failed = 0;
}

static void
print_summary(const struct fetch *f, const struct ingest_stats *st)
{
	char a[32];

	cli_ingest_summary(f->p.a->name, "fetched", 1, st);
	if (f->archived)
		printf(", %s moved to \"%s\"", str_thousands(f->archived, a),
		       f->p.archive);
	if (f->qmoved)
		printf(", %s moved to \"%s\"", str_thousands(f->qmoved, a),
		       f->p.quarantine);
	if (f->vanished)
		printf(", %s gone before being fetched", str_thousands(f->vanished, a));
	printf("%s\n", f->dry ? " (dry run: nothing stored)" : "");
}

/*
 * On a store shared by several hosts (PostgreSQL), one mxdigest at a time
 * fetches a mailbox: the others skip it (a cron job on each host), or with
 * --watch wait to take over.  The lock lasts until the store is closed.
 * 1 taken, 0 skipped, -1 error (f->err).
 */
static int
lock_mailbox(struct fetch *f, const char *key)
{
	int r, said = 0;

	if (!f->s)
		return 1;	/* a dry run stores nothing */
	while ((r = store_lock(f->s, STORE_LOCK_MAILBOX, key, 0, &f->err)) == 0) {
		if (!f->watch) {
			if (!f->c->quiet)
				printf("%s: skipped: another mxdigest is fetching "
				       "\"%s\" into this store\n", f->p.a->name,
				       f->p.mailbox);
			return 0;
		}
		if (!said++)
			cli_error(f->p.a->name, "another mxdigest is fetching \"%s\" "
				  "into this store: waiting to take over",
				  f->p.mailbox);
		nap(f, 30);
		if (*f->c->interrupted)
			return 0;
	}
	return r;
}

/* One account; returns its exit status. */
static int
fetch_account(struct fetch *f, const struct account *a)
{
	char key[600];
	int locked;

	const struct ingest_stats *st;
	int rc = EXIT_OK;

	memset(&f->p, 0, sizeof(f->p));
	f->archived = f->qmoved = f->vanished = 0;
	f->batch_max = BATCH_MSGS;
	f->uv_warned = 0;
	f->failed = f->move_failed = 0;
	mxd_err_clear(&f->err);
	mxd_err_clear(&f->move_err);
	if (account_plan(&f->c->cfg, a, f->insecure, &f->p, &f->err) < 0) {
		cli_error(a->name, "%s", f->err.text);
		return EXIT_CONFIG;
	}
	snprintf(key, sizeof(key), "%s%c%s", a->name, '\x1f', f->p.mailbox);
	if ((locked = lock_mailbox(f, key)) <= 0) {
		if (locked == 0)
			return EXIT_OK;
		cli_error(a->name, "%s", f->err.text);
		return cli_exit_code(f->err.code);
	}
	cli_parse_limits(f->c, &f->lim);
	if (f->p.max_message)
		f->lim.max_message = f->p.max_message;
	/* flushed by run_batch() only, with the sync state */
	f->g = ingest_new(f->s, &f->lim, (unsigned)-1, cli_worker_threads(),
			  on_event, f);
	ingest_set_dkim(f->g, f->dkim);
	if (f->dry)
		ingest_set_dry_run(f->g);
	snprintf(f->prefix, sizeof(f->prefix), "%s/%s/", a->name, f->p.mailbox);
	f->prefix_len = strlen(f->prefix);
	snprintf(f->what, sizeof(f->what), "fetch %s", a->name);
	progress_init(&f->prog, f->what, !f->c->quiet);

	if (f->watch) {
		watch_account(f);
	} else if (connect_account(f) == 0) {
		sync_mailbox(f);
		imap_close(f->im);
		f->im = NULL;
	}
	progress_clear(&f->prog);

	st = ingest_stats(f->g);
	if (f->failed) {
		cli_error(a->name, "%s", f->err.text[0] ? f->err.text
							: mxd_strerror(f->err.code));
		rc = cli_exit_code(f->err.code);
		if (st->messages && !f->dry)
			cli_error(a->name, "the batches stored before the error are "
				  "kept; run fetch again to go on");
	}
	if (!f->c->quiet && (!f->failed || st->messages))
		print_summary(f, st);
	if (f->move_failed) {
		cli_error(a->name, "%s", f->move_err.text);
		if (rc == EXIT_OK)
			rc = cli_exit_code(f->move_err.code);
	}
	if (rc == EXIT_OK && *f->c->interrupted && !f->watch) {
		cli_error(a->name, "interrupted: what was fetched so far is saved");
		rc = EXIT_TEMPFAIL;
	}
	if (rc == EXIT_OK && st->quarantined)
		rc = EXIT_DATAERR;
	ingest_free(f->g);
	f->g = NULL;
	if (f->s)
		store_unlock(f->s, STORE_LOCK_MAILBOX, key);
	return rc;
}

/* The worst of two statuses: a hard error beats "partial" beats success. */
static int
worse(int a, int b)
{
	if (a == EXIT_OK || (a == EXIT_DATAERR && b != EXIT_OK))
		return b;
	return a;
}

static const struct option fetch_opts[] = {
	CLI_DKIM_OPTION,
	{"dry-run", no_argument, NULL, 'n'},
	{"insecure", no_argument, NULL, 'I'},
	{"watch", no_argument, NULL, 'w'},
	{NULL, 0, NULL, 0},
};

static int
cmd_fetch(struct cli *c, int argc, char **argv)
{
	const struct account *one = NULL;
	struct account_plan check;
	struct fetch f;
	struct mxd_err err;
	size_t i;
	int ch, rc = EXIT_OK;

	memset(&f, 0, sizeof(f));
	f.c = c;
	while ((ch = cli_getopt(c, argc, argv)) >= 0) {
		switch (ch) {
		case 'n': f.dry = 1; break;
		case 'w': f.watch = 1; break;
		case 'I': f.insecure = 1; break;
		case CLI_OPT_DKIM:
			if (cli_dkim_option(c, optarg))
				return EXIT_USAGE;
			break;
		}
	}
	if (ch != -1)
		return cli_opt_exit(ch);
	if (argc - optind > 1)
		return cli_usage("fetch", "one account at most");
	mxd_err_clear(&err);
	if (optind < argc && account_find(&c->cfg, argv[optind], &one, &err) < 0)
		return cli_fail(&err);
	if (c->cfg.n_accounts == 0) {
		cli_error(c->cfg.path, "no [account NAME] section: nothing to fetch "
			  "(see mxdigest.conf(5))");
		return EXIT_CONFIG;
	}
	if (f.watch && !one) {
		if (c->cfg.n_accounts > 1)
			return cli_usage("fetch", "--watch follows one account: name it");
		one = &c->cfg.accounts[0];
	}
	/* every account is checked before anything is fetched */
	for (i = 0; i < c->cfg.n_accounts; i++) {
		const struct account *a = &c->cfg.accounts[i];

		if (one && a != one)
			continue;
		if (account_plan(&c->cfg, a, f.insecure, &check, &err) < 0) {
			cli_error(a->name, "%s", err.text);
			return EXIT_CONFIG;
		}
	}
	if (f.insecure)
		cli_warn("--insecure: the server's TLS certificate is NOT verified "
			 "(for tests only)");

	/* for writing, or in a dry run read-only if there is a database
	 * (NULL if not: then everything looks new) */
	if ((rc = cli_store(c)) || (rc = cli_verifier(c, &f.dkim)))
		return rc;
	f.s = c->store;
	for (i = 0; i < c->cfg.n_accounts; i++) {
		const struct account *a = &c->cfg.accounts[i];

		if (one && a != one)
			continue;
		if (*c->interrupted)
			break;
		rc = worse(rc, fetch_account(&f, a));
		if (rc == EXIT_IOERR || rc == EXIT_TEMPFAIL)
			break;	/* the store is unusable: other accounts too */
	}
	if (rc != EXIT_IOERR && rc != EXIT_TEMPFAIL && !f.dry)
		rc = worse(rc, cli_retry_temperror(c, f.dkim));
	if (rc != EXIT_IOERR && !f.dry)
		cli_store_tidy(c);
	uids_release(&f.got);
	uids_release(&f.ok);
	uids_release(&f.bad);
	uids_release(&f.pre.whole);
	return rc;
}

const struct cli_command cli_fetch = {
	.name = "fetch",
	.fn = cmd_fetch,
	.needs = NEEDS_STORE_DRY,
	.summary = "fetch new report mails over IMAP into the database",
	.help = fetch_help,
	.shortopts = "nw",
	.opts = fetch_opts,
};
