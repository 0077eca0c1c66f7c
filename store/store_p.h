/*
 * store_p.h — internals shared by the files of store/.  The statements
 * and schemas live in the backends (db_sqlite.c, db_pg.c) behind the
 * driver interface of db.h; the other files hold the rules.
 */
#ifndef MXD_STORE_P_H
#define MXD_STORE_P_H

#include "store/db.h"
#include "store/store.h"
#include "util/hash.h"

struct textcache;

/* A stored copy of a report identity, as store_report_known() weighs it */
struct store_copy {
	int digest;		/* 0: none (stored before digests), 1: in
				 * sha[], 2: one of another length */
	unsigned char sha[32];
	uint64_t successful, failed;
	int64_t counts;
};

/* Scans sent ahead at once at most: the digest's two windows of four, the
 * two of the weeks before and the failure details. */
#define STORE_AHEAD_MAX 12

struct store {
	const struct db_driver *drv;
	struct db *db;
	char *where;		/* the path or connection, as shown */
	int in_tx;
	struct codec *codec;	/* codec.c: the dictionary in use */
	/*
	 * What a writer knows without asking the database again, each
	 * forgotten when its transaction ends (store.c):
	 *  pre      the lookups store_claim() started for one message: the
	 *           message by its hash, its first report by identity and by
	 *           hash (sent with the locks, read by the functions that
	 *           would have asked)
	 *  known    store_report_known()'s answer, for store_report_put() of
	 *           the same report right after
	 *  verdict  whether the message just stored verified
	 *  texts    the ids of policy texts seen (kept over commits: a text
	 *           is never deleted; dropped by a rollback)
	 */
	struct store_pre {
		int used;
		int pending;	/* claim_send() done, claim_read() not yet */
		unsigned char sha[32];
		const struct tlsrpt *r;	/* its first report, or NULL */
		struct dbq *look;	/* DB_LOOKUP, its rows not read yet */
		/* what it answered (pre_read()), until asked for or stale */
		int have_msg, have_rep;
		int64_t msg_id;		/* 0: no such message */
		int rep_sha;		/* a report has r's bytes */
		struct store_copy *copies;	/* of r's identity */
		size_t n_copies, cap_copies;
	} pre[DB_SLOTS];	/* [1]: the next message's, while this one's
				 * rows go out (store_claim_ahead()) */
	struct {
		const struct tlsrpt *r;
		int verified, result;
	} known;
	struct {
		int64_t id;
		int pass;
	} verdict;
	struct textcache *texts;
	/* what this transaction wrote that a lookup sent ahead of the rows
	 * a backend keeps back would not see (db.h, flush()): "m" and a
	 * message's hash, "i" and a report's identity, "h" and its hash */
	struct hmap *written;
	/* scans sent ahead (store_scan_ahead()), until their store_scan_*() */
	struct store_ahead {
		enum db_stmt id;
		struct store_filter f;
		struct dbq *q;
		int slot;	/* get_slot()'s */
	} ahead[STORE_AHEAD_MAX];
	size_t n_ahead;
};

/* Codecs of messages.data: CODEC_PACKED is zstd over pack.c's form */
enum { CODEC_RAW = 0, CODEC_ZLIB = 1, CODEC_ZSTD = 2, CODEC_PACKED = 3 };

/*
 * pack.c: a report mail (or gzip file) whose gzip attachment zlib makes
 * again byte for byte, kept with the JSON instead of the attachment.
 * pack_message() puts the packed form of data[0..len) in out and returns
 * 1, or returns 0 (out undefined) when it does not pack.  unpack_message()
 * makes the bytes again into out: 0, or -1 with err.
 */
#define PACK_JSON_MAX ((size_t)4 << 20)	/* larger JSON is not packed */
int pack_message(const void *data, size_t len, struct buf *out);
int unpack_message(const void *packed, size_t n, struct buf *out,
		   struct mxd_err *err);
/* Frees the calling thread's buffers of pack_message(). */
void pack_thread_release(void);

/* codec.c: the dictionary in use, read at open; freed by codec_close(). */
int codec_open(struct store *s, struct mxd_err *err);
void codec_close(struct store *s);
/* A message row was stored (counts toward the first dictionary). */
void codec_stored(struct store *s);
/* ingest, after each batch: the first dictionary once the store holds
 * enough messages (store_dict_update() says more). */
int store_dict_due(struct store *s, struct mxd_err *err);
/* Decodes a stored row into out: `size` bytes, as the row says. */
int codec_decode(struct store *s, int codec, int64_t dict, const void *blob,
		 size_t n, size_t size, struct buf *out, struct mxd_err *err);

/*
 * Reads the messages ids[0..n) (sizes[]: their stored bytes) a few dozen at
 * a time, in one statement each (at most MSG_SOME_MAX of them and
 * MSG_SOME_BYTES stored, but always one), and calls fn(i, raw) with each
 * one's bytes, i its index in ids[], in the order of their ids.  A message
 * gone meanwhile is left out; one that does not decode is left out with
 * skip_bad, else it fails the read.  0, or -1 with err (fn's too).
 */
#define MSG_SOME_MAX 64
#define MSG_SOME_BYTES ((int64_t)4 << 20)
typedef int (*store_raw_fn)(size_t i, const struct buf *raw, void *ctx,
			    struct mxd_err *err);
int store_messages_each(struct store *s, const int64_t *ids,
			const int64_t *sizes, size_t n, int skip_bad,
			store_raw_fn fn, void *ctx, struct mxd_err *err);

/* Fills err from the backend's last error; returns -1. */
int store_db_error(struct store *s, struct mxd_err *err, const char *what);
/* Steps q, which gives no row, and resets it: 0, or -1 with err. */
int db_run(struct store *s, struct dbq *q, struct mxd_err *err,
	   const char *what);
/* A window scan (db.h) with the filters of f bound: the one
 * store_scan_ahead() sent for the same scan and filter when there is one. */
struct dbq *db_scan(struct store *s, enum db_stmt id, const struct store_filter *f,
		    struct mxd_err *err);
/* Ends a scan: resets st; 0, or -1 with err when rc (its last step) < 0. */
int scan_finish(struct store *s, struct dbq *st, int rc, struct mxd_err *err);
/* Steps q, an INSERT ... RETURNING id: *id, or 0 when it inserted nothing
 * (id NULL: db_run()).  Through the backend's run() when it has one, which
 * may only queue q (its error then comes later, told with `what`). */
int db_insert(struct store *s, struct dbq *q, int64_t *id, struct mxd_err *err,
	      const char *what);

#endif
