/*
 * ingest.h — messages into the store: the ingest pipeline shared by
 * `import` and `fetch`, and `reparse` (re-reading what is stored).
 *
 * Ingest parses each message (parse/) and stores what it carries through
 * store.h, batching many messages per transaction; the pure part (hash,
 * parse, compression) runs on worker threads and the results are written
 * in input order by the calling thread, so the store keeps one writer.
 * Data errors never fail a call: the message is quarantined and the event
 * callback hears about it.  Store errors return -1 with *err filled.
 */
#ifndef MXD_STORE_INGEST_H
#define MXD_STORE_INGEST_H

#include "dkim/dkim.h"
#include "store/store.h"

/*
 * Re-reading stored messages with the current parser (`mxdigest reparse`):
 * every message whose raw bytes are stored (those that brought a report and
 * those in quarantine) is parsed again; its reports and quarantine entries
 * are replaced by the new outcome in one pass, in message order, with the
 * same duplicate rules as ingest.  Nothing is lost (the raw bytes stay) and
 * nothing is counted twice.
 */
struct reparse_stats {
	uint64_t messages;	/* re-read */
	uint64_t unchanged;	/* reports read the same as before */
	uint64_t updated;	/* reports whose numbers or notes changed */
	uint64_t recovered;	/* reports out of quarantine */
	uint64_t new_reports;	/* other reports not stored before */
	uint64_t quarantined;	/* reports that now fail: quarantined */
	uint64_t still_quarantined;
	uint64_t dropped;	/* reports now found elsewhere (duplicates) */
	uint64_t not_reports;	/* messages that are now not a report */
	uint64_t verified;	/* mails that got a DKIM verdict now */
};

enum reparse_event {
	REPARSE_UPDATED, REPARSE_RECOVERED, REPARSE_NEW, REPARSE_QUARANTINED,
	REPARSE_STILL_QUARANTINED, REPARSE_NOT_REPORT,
};

typedef void (*reparse_event_fn)(void *ctx, enum reparse_event ev,
				 const char *source, const char *detail);

struct dkimv;
/* dkim: verify the mails that still wait for a verdict (dkimv_pending());
 * NULL: none is looked at. */
int store_reparse(struct store *s, const struct parse_limits *lim,
		  int quarantine_only, struct dkimv *dkim, reparse_event_fn fn,
		  void *ctx, struct reparse_stats *st, struct mxd_err *err);

/*
 * Verifying the stored mails again (`mxdigest reverify`): every mail that
 * brought a report and still waits for a verdict (dkimv_pending()), only
 * the temperror ones, or every one whose verdict is not pass.  A pass is never
 * replaced; a fail, none or permerror (REVERIFY_ALL) gives way only to a
 * pass.  Each new verdict decides again which copies of its reports count.
 * The callback hears each mail checked, and whether its verdict was taken.
 */
struct reverify_stats {
	uint64_t checked;	/* mails verified */
	uint64_t results[DKIMV_RESULTS];	/* ... by result */
	uint64_t changed;	/* stored verdicts replaced */
};
typedef void (*reverify_event_fn)(void *ctx, const char *source,
				  const struct dkimv_verdict *v, int taken);
enum reverify_scope {
	REVERIFY_TEMPERROR,	/* only mails whose lookup failed (fetch and
				 * import run this after their messages) */
	REVERIFY_PENDING,	/* every mail without a verdict */
	REVERIFY_ALL,		/* and fail, none, permerror (for a pass) */
};
/* REVERIFY_TEMPERROR looks only at verdicts taken before `before` (the
 * run's start: not the ones it just took). */
int store_reverify(struct store *s, struct dkimv *dkim, enum reverify_scope scope,
		   int64_t before, reverify_event_fn fn, void *ctx,
		   struct reverify_stats *st, struct mxd_err *err);

/*
 * Ingest: parse a message and store what it carries, batching many
 * messages per transaction.  Data errors never fail the call: the message
 * is quarantined and the outcome callback hears about it.  Only store
 * errors return -1 (and roll back the open batch).
 */
struct ingest_stats {
	uint64_t messages;	/* inputs read */
	uint64_t bytes;
	uint64_t reports;	/* new reports stored */
	uint64_t duplicates;	/* reports already stored */
	uint64_t conflicts;	/* reports stored whose identity was, with
				 * other content (both kept, one counts) */
	uint64_t dkim[DKIMV_RESULTS];	/* new reports and conflicts by the
					 * verdict of their mail */
	uint64_t not_reports;	/* inputs that are not TLS-RPT */
	uint64_t quarantined;	/* report candidates newly quarantined */
	uint64_t already_quarantined;
};

enum ingest_event {
	INGEST_REPORT,		/* a new report */
	INGEST_DUPLICATE,
	INGEST_CONFLICT,	/* detail: which copy counts, and why */
	INGEST_NOT_REPORT,
	INGEST_QUARANTINED,	/* detail: the reason */
	INGEST_ALREADY_QUARANTINED,
};

typedef void (*ingest_event_fn)(void *ctx, enum ingest_event ev,
				const char *source, const char *detail);

struct ingest;

/*
 * `threads` workers parse, hash and compress messages while the calling
 * thread reads the next ones and writes results to the store, in input
 * order (0: do everything in the calling thread).  Events are delivered in
 * input order, from the calling thread, during ingest_message() or
 * ingest_flush().
 */
struct ingest *ingest_new(struct store *s, const struct parse_limits *lim,
			  unsigned batch, unsigned threads, ingest_event_fn fn,
			  void *ctx);
/*
 * One message (the bytes are copied).  `source` names it in messages and
 * in the store ("inbox/12", a path); `name` is a file name hint for missing
 * fields (may be NULL).  `truncated_from` > 0 says the input was larger than
 * what was read (the message is quarantined as too large with the bytes
 * kept).  With workers, the message is stored by a later call or by
 * ingest_flush(); a store error may so surface one call late.
 */
int ingest_message(struct ingest *g, const void *data, size_t len,
		   const char *source, const char *name, size_t truncated_from,
		   struct mxd_err *err);
/* DKIM verification (dkim/dkim.h) of every mail that brings a report,
 * with its verdict stored; NULL (the default): dkim = off, nothing looked
 * up, the verdict "skipped". */
void ingest_set_dkim(struct ingest *g, struct dkimv *v);
/* Dry run (call right after ingest_new): everything is parsed and
 * classified, with the same events and counts, and nothing is written.
 * The store may then be NULL, or opened read-only to recognise what is
 * already stored; duplicates within the run are recognised too. */
void ingest_set_dry_run(struct ingest *g);
/* Opens the batch's transaction if none is open (so that a caller can
 * write its own state, e.g. IMAP sync state, in the same transaction). */
int ingest_begin(struct ingest *g, struct mxd_err *err);
/*
 * Gives up the batch begun by ingest_begin(): messages still in the
 * pipeline are dropped without a word (their events never come), the
 * transaction is rolled back, and the counters are what they were at
 * ingest_begin().  The pipeline can take the next batch, as after a
 * connection lost in the middle of a fetch.
 */
void ingest_abort(struct ingest *g);
/* Waits for every message given so far, stores it, and commits. */
int ingest_flush(struct ingest *g, struct mxd_err *err);
const struct ingest_stats *ingest_stats(const struct ingest *g);
/* Rolls back anything not flushed and frees; accepts NULL. */
void ingest_free(struct ingest *g);

#endif
