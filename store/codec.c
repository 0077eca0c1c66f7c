/*
 * codec.c — how the raw copy of each message is kept: zstd with a
 * dictionary trained from the store's own messages.
 *
 * Report mails of one sender share most of their header: the same
 * Received chain, DKIM-Signature tags, MIME boilerplate and JSON keys.
 * Compressed one by one, each mail pays for them again; a dictionary
 * trained on the store's messages holds them once.  On the bench corpus a
 * message compresses 1.7x with deflate, 1.9x with zstd alone and about 4x
 * with zstd and a 64 KiB dictionary (bench/RESULTS.md, Space).
 *
 * Before it is compressed, a mail whose gzip attachment zlib makes again
 * byte for byte is packed (pack.c, codec 3): the JSON instead of the
 * gzip, which the dictionary knows far better.  Dictionaries made since
 * schema 6 are trained on packed forms (dicts.packed); copies are packed
 * only without a dictionary or with one of those, so an upgraded store
 * trains one in its first run of RETRAIN_MIN messages (dict_update()) and
 * `reparse --recompress` moves the older rows to it.
 *
 * Rows: messages.codec says how data is encoded (store_p.h), and
 * messages.dict names the dictionary it needs (NULL: none).  Dictionaries
 * are rows of `dicts`, never deleted: every row can always be read.  Rows
 * of schema 4 and older are zlib (codec 1) and stay readable; `reparse
 * --recompress` converts them.
 *
 * When a dictionary is made (store_dict_update(), at the end of a run
 * that stored messages, and store_recompress()):
 *   - the first one once the store holds TRAIN_MIN messages;
 *   - a new one when the senders' mix has changed: the messages of a run
 *     (at least RETRAIN_MIN of them) compress less than RETRAIN_RATIO of
 *     what the dictionary achieved on its own held-out messages.
 * Training reads the newest TRAIN_SAMPLES messages (the first SAMPLE_MAX
 * bytes of each, SAMPLES_MAX in all; every eighth is held out to measure
 * the result): a run that trains peaks about 18 MiB higher than one that
 * does not (the samples and ZDICT's tables), whatever the store's size.  A new
 * dictionary is kept only when it beats the current one on the held-out
 * messages.  After the first dictionary, the rows stored without one are
 * recompressed with it; after a retrain, the rows of the run.
 *
 * Compression runs on ingest's workers: the dictionary in use (a
 * ZSTD_CDict, read-only once made) changes only in store_dict_update() and
 * store_recompress(), which run when no ingest does.  Each thread keeps
 * its own ZSTD_CCtx and ZSTD_DCtx (store_thread_release() frees them).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zdict.h>
#include <zstd.h>

#include "parse/parse.h"
#include "store/store_p.h"
#include "util/log.h"
#include "util/xalloc.h"

/* level 5: on packed forms 3.4 % fewer bytes than level 3 for 11 us more
 * a mail (1,587 against 1,643 B; 6 and 7 gain 1 % more for twice that:
 * bench/RESULTS.md, Space) */
#define ZSTD_LEVEL 5
#define DICT_MAX (64 * 1024)
#define TRAIN_MIN 1000
#define TRAIN_SAMPLES 2000
#define SAMPLE_MAX (16 * 1024)
#define SAMPLES_MAX ((size_t)8 << 20)	/* bytes of samples in all */
#define HELD_OUT_MAX ((size_t)4 << 20)
#define RETRAIN_MIN 500
#define RETRAIN_RATIO 0.8
/* below this a message is kept as it is */
#define MIN_COMPRESS 64
#define RECOMPRESS_BATCH 500	/* the LIMIT of the DB_RECODE_* statements */

struct ddict {
	int64_t id;
	ZSTD_DDict *d;
	struct ddict *next;
};

/* A dictionary for writing; once published, never changed or freed
 * before the store is closed (a worker may be using it). */
struct cdict {
	int64_t id;
	ZSTD_CDict *d;
	double ratio;		/* what it achieved on its held-out messages */
	int packed;		/* trained on packed forms: copies are packed */
	struct cdict *older;
};

struct codec {
	_Atomic(struct cdict *) cur;	/* the dictionary in use, NULL: none */
	struct ddict *ddicts;	/* dictionaries loaded for reading */
	int64_t run_first;	/* the first message id of this run */
	int64_t undicted;	/* messages in the store while it has none */
	int first_failed;	/* no first dictionary this run: do not retry */
};

static _Thread_local ZSTD_CCtx *tl_cctx;
static _Thread_local ZSTD_DCtx *tl_dctx;
/* the packed form of the message being encoded, or of the row being read */
static _Thread_local struct buf tl_pack;
static _Thread_local int tl_pack_ready;

void
store_thread_release(void)
{
	ZSTD_freeCCtx(tl_cctx);
	ZSTD_freeDCtx(tl_dctx);
	tl_cctx = NULL;
	tl_dctx = NULL;
	if (tl_pack_ready)
		buf_release(&tl_pack);
	tl_pack_ready = 0;
	pack_thread_release();
	parse_thread_release();
}

static struct buf *
pack_buf(void)
{
	if (!tl_pack_ready) {
		buf_init(&tl_pack, BUF_NOCAP);
		tl_pack_ready = 1;
	}
	return &tl_pack;
}

static ZSTD_CCtx *
cctx(void)
{
	if (!tl_cctx && !(tl_cctx = ZSTD_createCCtx()))
		xalloc_die(0);
	return tl_cctx;
}

static ZSTD_DCtx *
dctx(void)
{
	if (!tl_dctx && !(tl_dctx = ZSTD_createDCtx()))
		xalloc_die(0);
	return tl_dctx;
}

static ZSTD_CDict *
make_cdict(const void *dict, size_t n)
{
	ZSTD_CDict *c = ZSTD_createCDict(dict, n, ZSTD_LEVEL);

	if (!c)
		xalloc_die(0);
	return c;
}

static struct cdict *
current(const struct store *s)
{
	return atomic_load_explicit(&s->codec->cur, memory_order_acquire);
}

/* Makes d the dictionary in use (the one before stays alive). */
static void
publish(struct store *s, int64_t id, ZSTD_CDict *d, double ratio, int packed)
{
	struct cdict *c = xcalloc(1, sizeof(*c));

	c->id = id;
	c->d = d;
	c->ratio = ratio;
	c->packed = packed;
	c->older = current(s);
	atomic_store_explicit(&s->codec->cur, c, memory_order_release);
}

/* The newest of `dicts` in use, if it is not already (on a shared store,
 * another host may have made one since this one looked). */
static int
newest_dict(struct store *s, struct mxd_err *err)
{
	struct cdict *c = current(s);
	struct dbq *st;
	int rc;

	if (!(st = db_get(s, DB_DICT_NEWEST, err)))
		return -1;
	rc = db_step(st);
	if (rc == 1 && (!c || db_col_int(st, 0) > c->id)) {
		size_t n;
		const void *d = db_col_blob(st, 2, &n);

		publish(s, db_col_int(st, 0), make_cdict(d, n),
			db_col_double(st, 1), db_col_int(st, 3) != 0);
	}
	db_reset(st);
	if (rc < 0)
		return store_db_error(s, err, "read the dictionary");
	return 0;
}

/* The dictionary in use: the newest of `dicts`. */
int
codec_open(struct store *s, struct mxd_err *err)
{
	struct dbq *st;

	s->codec = xcalloc(1, sizeof(*s->codec));
	if (newest_dict(s, err) < 0)
		return -1;
	/* the count only matters until there is a dictionary */
	if (!(st = db_get(s, current(s) ? DB_MSG_NEXT : DB_MSG_NEXT_COUNT, err)))
		return -1;
	if (db_step(st) == 1) {
		s->codec->run_first = db_col_int(st, 0);
		s->codec->undicted = db_col_int(st, 1);
	}
	db_reset(st);
	return 0;
}

void
codec_close(struct store *s)
{
	struct ddict *d, *next;
	struct cdict *c, *older;

	if (!s->codec)
		return;
	for (d = s->codec->ddicts; d; d = next) {
		next = d->next;
		ZSTD_freeDDict(d->d);
		free(d);
	}
	for (c = current(s); c; c = older) {
		older = c->older;
		ZSTD_freeCDict(c->d);
		free(c);
	}
	free(s->codec);
	s->codec = NULL;
	store_thread_release();
}

int64_t
store_dict_current(const struct store *s)
{
	struct cdict *c = s->codec ? current(s) : NULL;

	return c ? c->id : 0;
}

static void
encode_with(ZSTD_CDict *cd, int64_t id, int pack, const void *data, size_t len,
	    struct store_blob *out)
{
	struct buf *pk = pack_buf();
	const void *src = data;
	size_t cap, n, srcn = len;
	int codec = CODEC_ZSTD;

	buf_reset(&out->data);
	out->codec = CODEC_RAW;
	out->dict = 0;
	if (len >= MIN_COMPRESS) {
		if (pack && pack_message(data, len, pk) == 1) {
			src = pk->data;
			srcn = pk->len;
			codec = CODEC_PACKED;
		}
		cap = ZSTD_compressBound(srcn);
		if (buf_reserve(&out->data, cap) == 0) {
			n = cd ? ZSTD_compress_usingCDict(cctx(), out->data.data, cap,
							  src, srcn, cd)
			       : ZSTD_compressCCtx(cctx(), out->data.data, cap, src,
						   srcn, ZSTD_LEVEL);
			if (!ZSTD_isError(n) && n < len) {
				buf_commit(&out->data, n);
				out->codec = codec;
				out->dict = cd ? id : 0;
				return;
			}
		}
	}
	buf_add(&out->data, data, len);
}

void
store_message_encode(struct store *s, const void *data, size_t len,
		     struct store_blob *out)
{
	struct cdict *c = current(s);

	/* packed without a dictionary (those rows are recompressed when the
	 * first one is made) or with one trained on packed forms */
	encode_with(c ? c->d : NULL, c ? c->id : 0, !c || c->packed, data, len,
		    out);
}

void
codec_stored(struct store *s)
{
	s->codec->undicted++;
}

/* The reading side of dictionary id, loaded once. */
static ZSTD_DDict *
ddict(struct store *s, int64_t id, struct mxd_err *err)
{
	struct ddict *d;
	struct dbq *st;
	ZSTD_DDict *dd = NULL;

	if (!s->codec) {	/* during an upgrade: no zstd row yet */
		mxd_err_set(err, MXD_E_STORE, "dictionary %lld before the store is "
			    "open", (long long)id);
		return NULL;
	}
	for (d = s->codec->ddicts; d; d = d->next)
		if (d->id == id)
			return d->d;
	if (!(st = db_get(s, DB_DICT_GET, err)))
		return NULL;
	db_bind_int(st, 1, id);
	if (db_step(st) == 1) {
		size_t n;
		const void *p = db_col_blob(st, 0, &n);

		dd = ZSTD_createDDict(p, n);
	} else
		mxd_err_set(err, MXD_E_STORE, "dictionary %lld is missing",
			    (long long)id);
	db_reset(st);
	if (!dd)
		return NULL;
	d = xmalloc(sizeof(*d));
	d->id = id;
	d->d = dd;
	d->next = s->codec->ddicts;
	s->codec->ddicts = d;
	return dd;
}

int
codec_decode(struct store *s, int codec, int64_t dict, const void *blob,
	     size_t n, size_t size, struct buf *out, struct mxd_err *err)
{
	unsigned long long fsize;
	ZSTD_DDict *dd = NULL;
	struct buf *into;
	size_t save, got;

	buf_reset(out);
	switch (codec) {
	case CODEC_RAW:
		if (buf_add(out, blob ? blob : "", n) < 0)
			return mxd_err_set(err, MXD_E_TOOBIG, "too large");
		return 0;
	case CODEC_ZLIB:
		save = out->max;
		out->max = size;
		if (parse_inflate(blob, n, out, err) != MXD_OK) {
			out->max = save;
			return -1;
		}
		out->max = save;
		return 0;
	case CODEC_ZSTD:
	case CODEC_PACKED:
		/* a packed row holds JSON where the mail had its gzip: at most
		 * PACK_JSON_MAX more than the mail */
		fsize = ZSTD_getFrameContentSize(blob, n);
		if (codec == CODEC_ZSTD ? fsize != size
					: fsize > size + PACK_JSON_MAX + 64)
			return mxd_err_set(err, MXD_E_STORE, "zstd frame of %llu bytes, "
					   "%zu expected", fsize, size);
		if (dict && !(dd = ddict(s, dict, err)))
			return -1;
		into = codec == CODEC_ZSTD ? out : pack_buf();
		buf_reset(into);
		if (buf_reserve(into, (size_t)fsize) < 0)
			return mxd_err_set(err, MXD_E_TOOBIG, "too large");
		got = dd ? ZSTD_decompress_usingDDict(dctx(), into->data, fsize, blob,
						      n, dd)
			 : ZSTD_decompressDCtx(dctx(), into->data, fsize, blob, n);
		if (ZSTD_isError(got) || got != fsize)
			return mxd_err_set(err, MXD_E_STORE, "zstd: %s",
					   ZSTD_isError(got) ? ZSTD_getErrorName(got)
							     : "short frame");
		buf_commit(into, (size_t)fsize);
		if (codec == CODEC_ZSTD)
			return 0;
		if (unpack_message(into->data, into->len, out, err) < 0)
			return -1;
		if (out->len != size)
			return mxd_err_set(err, MXD_E_STORE, "packed copy of %zu bytes, "
					   "%zu expected", out->len, size);
		return 0;
	default:
		return mxd_err_set(err, MXD_E_STORE, "unknown codec %d", codec);
	}
}

/* Sum of the sizes and of the stored bytes of the messages compressed with
 * dictionary id and stored from message first on. */
static int
ratio_since(struct store *s, int64_t id, int64_t first, int64_t *count,
	    double *ratio, struct mxd_err *err)
{
	struct dbq *st;
	int64_t size = 0, stored = 0;

	*count = 0;
	if (!(st = db_get(s, DB_DICT_USE, err)))
		return -1;
	db_bind_int(st, 1, first);
	db_bind_int(st, 2, CODEC_ZSTD);
	db_bind_id(st, 3, id);
	if (db_step(st) == 1) {
		*count = db_col_int(st, 0);
		size = db_col_int(st, 1);
		stored = db_col_int(st, 2);
	}
	db_reset(st);
	*ratio = stored > 0 ? (double)size / (double)stored : 0;
	return 0;
}

/* The compression ratio of a dictionary (NULL: none) on messages. */
static double
measure(ZSTD_CDict *cd, int pack, const struct buf *msgs, const size_t *sizes,
	size_t n)
{
	struct store_blob b;
	size_t i, off = 0, in = 0, outn = 0;

	buf_init(&b.data, BUF_NOCAP);
	for (i = 0; i < n; i++) {
		encode_with(cd, 1, pack, msgs->data + off, sizes[i], &b);
		in += sizes[i];
		outn += b.data.len;
		off += sizes[i];
	}
	buf_release(&b.data);
	return outn ? (double)in / (double)outn : 0;
}

/* train()'s samples, and the messages held out to measure them */
struct sampling {
	struct buf *samples, *held;
	size_t *ssz, *hsz, ns, nh;
};

/* message i of the newest: every eighth held out */
static int
sample_one(size_t i, const struct buf *raw, void *ctx, struct mxd_err *err)
{
	struct sampling *sm = ctx;
	struct buf *pk = pack_buf();

	(void)err;
	if (i % 8 == 7 && sm->held->len + raw->len <= HELD_OUT_MAX) {
		buf_add(sm->held, raw->data, raw->len);
		sm->hsz[sm->nh++] = raw->len;
	} else if (sm->samples->len < SAMPLES_MAX) {
		/* what the dictionary will compress: the packed form if any */
		const struct buf *b = pack_message(raw->data, raw->len, pk) ? pk : raw;
		size_t k = b->len < SAMPLE_MAX ? b->len : SAMPLE_MAX;

		buf_add(sm->samples, b->data, k);
		sm->ssz[sm->ns++] = k;
	}
	return 0;
}

/*
 * Trains a dictionary on the newest messages and keeps it when it beats
 * the one in use on the held-out messages: *made is set then.
 */
static int
train(struct store *s, struct store_dict_stats *ds, int *made,
      struct mxd_err *err)
{
	struct buf samples, held;
	size_t *ssz = NULL, *hsz = NULL, ns = 0, nh = 0, dn;
	struct dbq *st;
	void *dict = NULL;
	double ratio, cur;
	ZSTD_CDict *cd;
	struct cdict *in_use = current(s);
	struct timespec t0, t1;
	int rc = -1;

	*made = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	buf_init(&samples, BUF_NOCAP);
	buf_init(&held, BUF_NOCAP);
	if (!(st = db_get(s, DB_MSG_NEWEST, err)))
		goto out;
	db_bind_int(st, 1, TRAIN_SAMPLES);
	ssz = xcalloc(TRAIN_SAMPLES, sizeof(*ssz));
	hsz = xcalloc(TRAIN_SAMPLES / 8 + 1, sizeof(*hsz));
	/* the ids first, then the messages a few dozen at a time (an
	 * unreadable row teaches nothing: left out) */
	{
		int64_t *ids = xcalloc(TRAIN_SAMPLES, sizeof(*ids));
		int64_t *lens = xcalloc(TRAIN_SAMPLES, sizeof(*lens));
		struct sampling sm = { &samples, &held, ssz, hsz, 0, 0 };
		size_t nid = 0;
		int r;

		while (nid < TRAIN_SAMPLES && db_step(st) == 1) {
			ids[nid] = db_col_int(st, 0);
			lens[nid++] = db_col_int(st, 1);
		}
		db_reset(st);
		r = store_messages_each(s, ids, lens, nid, 1, sample_one, &sm,
					err);
		free(ids);
		free(lens);
		if (r < 0)
			goto out;
		ns = sm.ns;
		nh = sm.nh;
	}
	dict = xmalloc(DICT_MAX);
	dn = ZDICT_trainFromBuffer(dict, DICT_MAX, samples.data, ssz, (unsigned)ns);
	if (ZDICT_isError(dn)) {
		/* too few or too alike samples: no dictionary this time */
		mxd_log(MXD_LOG_DEBUG, "store: no dictionary from %zu messages: %s",
			ns, ZDICT_getErrorName(dn));
		rc = 0;
		goto out;
	}
	cd = make_cdict(dict, dn);
	ratio = measure(cd, 1, &held, hsz, nh);
	cur = measure(in_use ? in_use->d : NULL, !in_use || in_use->packed, &held,
		      hsz, nh);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ds->train_ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		       (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ds->samples = ns;
	/* a dictionary of packed forms replaces one of mails as they came
	 * unless it does worse (else every run would train again) */
	if (nh && (in_use && !in_use->packed ? ratio < cur * 0.98
					      : ratio <= cur * 1.05)) {
		/* no better than what is in use */
		mxd_log(MXD_LOG_DEBUG, "store: a new dictionary gives %.2fx, the one "
			"in use %.2fx: kept", ratio, cur);
		ZSTD_freeCDict(cd);
		rc = 0;
		goto out;
	}
	if (!(st = db_get(s, DB_DICT_PUT, err))) {
		ZSTD_freeCDict(cd);
		goto out;
	}
	db_bind_int(st, 1, (int64_t)time(NULL));
	db_bind_int(st, 2, (int64_t)ns);
	db_bind_double(st, 3, ratio);
	db_bind_blob(st, 4, dict, dn);
	if (db_insert(s, st, &ds->dict, err, "store a dictionary") < 0) {
		ZSTD_freeCDict(cd);
		goto out;
	}
	ds->ratio = ratio;
	publish(s, ds->dict, cd, ratio, 1);
	ds->bytes = dn;
	*made = 1;
	rc = 0;
out:
	free(dict);
	free(ssz);
	free(hsz);
	buf_release(&samples);
	buf_release(&held);
	return rc;
}

/* One message of a batch of recompress_where() re-encoded, its row updated
 * (queued where the backend queues) */
struct recode {
	struct store *s;
	struct dbq *upd;
	struct store_blob b;
	const int64_t *ids, *lens;
	uint64_t *done, *before, *after;
};

static int
recode_one(size_t i, const struct buf *raw, void *ctx, struct mxd_err *err)
{
	struct recode *rc = ctx;

	store_message_encode(rc->s, raw->data, raw->len, &rc->b);
	db_bind_int(rc->upd, 1, rc->b.codec);
	db_bind_id(rc->upd, 2, rc->b.dict);
	db_bind_blob(rc->upd, 3, rc->b.data.data, rc->b.data.len);
	db_bind_int(rc->upd, 4, rc->ids[i]);
	if (db_run(rc->s, rc->upd, err, "recompress") < 0)
		return -1;
	*rc->before += (uint64_t)rc->lens[i];
	*rc->after += rc->b.data.len;
	++*rc->done;
	return 0;
}

/*
 * Re-encodes with the dictionary in use every message from `from` on that
 * statement `which` selects (one of DB_RECODE_*: ?1 the dictionary in use,
 * ?2 the id after which to go on), RECOMPRESS_BATCH per transaction; the
 * messages are read a few dozen per statement (store_messages_each()).
 */
static int
recompress_where(struct store *s, enum db_stmt which, int64_t from, uint64_t *done,
		 uint64_t *before, uint64_t *after, struct mxd_err *err)
{
	int64_t ids[RECOMPRESS_BATCH], lens[RECOMPRESS_BATCH];
	struct recode rc = { s, NULL, { 0 }, ids, lens, done, before, after };
	struct dbq *sel = NULL;
	int64_t last = from > 0 ? from - 1 : 0;
	int ret = -1, n;

	buf_init(&rc.b.data, BUF_NOCAP);
	if (!(sel = db_get(s, which, err)) ||
	    !(rc.upd = db_get(s, DB_MSG_RECODE, err)))
		goto out;
	for (;;) {
		db_bind_int(sel, 1, store_dict_current(s));
		db_bind_int(sel, 2, last);
		for (n = 0; n < RECOMPRESS_BATCH && db_step(sel) == 1; n++) {
			ids[n] = db_col_int(sel, 0);
			lens[n] = db_col_int(sel, 1);
		}
		db_reset(sel);
		if (n == 0)
			break;
		if (store_begin(s, err) < 0)
			goto out;
		if (store_messages_each(s, ids, lens, (size_t)n, 0, recode_one,
					&rc, err) < 0) {
			store_rollback(s);
			goto out;
		}
		if (store_commit(s, err) < 0)
			goto out;
		last = ids[n - 1];
	}
	ret = 0;
out:
	if (sel)
		db_reset(sel);
	if (rc.upd)
		db_reset(rc.upd);
	buf_release(&rc.b.data);
	return ret;
}

/* train() in a transaction of its own; *made when a dictionary was kept */
static int
train_tx(struct store *s, struct store_dict_stats *ds, int *made,
	 struct mxd_err *err)
{
	if (store_begin(s, err) < 0)
		return -1;
	if (train(s, ds, made, err) < 0) {
		store_rollback(s);
		return -1;
	}
	if (store_commit(s, err) < 0)
		return -1;
	if (*made)
		mxd_log(MXD_LOG_INFO, "store: dictionary %lld made from %zu messages "
			"in %lld ms (%zu bytes, %.2fx on held-out messages)",
			(long long)ds->dict, ds->samples, ds->train_ms, ds->bytes,
			ds->ratio);
	return 0;
}

/* The first dictionary, and the rows stored before it: every zstd row
 * without one (stored since the store was made or upgraded, so about
 * TRAIN_MIN and what was in the pipeline). */
static int
first_dict(struct store *s, struct store_dict_stats *ds, struct mxd_err *err)
{
	int made;

	if (train_tx(s, ds, &made, err) < 0)
		return -1;
	if (!made) {
		s->codec->first_failed = 1;
		return 0;
	}
	return recompress_where(s, DB_RECODE_UNDICTED, 0, &ds->recompressed,
				&ds->bytes_before, &ds->bytes_after, err);
}

static int
dict_due(struct store *s, struct store_dict_stats *ds, struct mxd_err *err)
{
	if (current(s))		/* another host made it meanwhile */
		return 0;
	return first_dict(s, ds, err);
}

static int
dict_update(struct store *s, struct store_dict_stats *ds, struct mxd_err *err)
{
	struct cdict *c = current(s);
	int64_t nrun;
	double rrun;
	int made;

	memset(ds, 0, sizeof(*ds));
	if (!c) {
		if (s->codec->first_failed || s->codec->undicted < TRAIN_MIN)
			return 0;
		return first_dict(s, ds, err);
	}
	ds->dict = c->id;
	ds->ratio = c->ratio;
	/* what was in the pipeline when the first dictionary was made */
	if (recompress_where(s, DB_RECODE_UNDICTED, s->codec->run_first,
			     &ds->recompressed, &ds->bytes_before, &ds->bytes_after,
			     err) < 0)
		return -1;
	if (ratio_since(s, c->id, s->codec->run_first, &nrun, &rrun, err) < 0)
		return -1;
	if (nrun < RETRAIN_MIN || (c->packed && rrun >= RETRAIN_RATIO * c->ratio))
		return 0;
	if (!c->packed)
		mxd_log(MXD_LOG_INFO, "store: dictionary %lld was trained on mails as "
			"they came (schema 5): training one on packed forms",
			(long long)c->id);
	else
		mxd_log(MXD_LOG_INFO, "store: the messages of this run compress %.2fx "
			"with dictionary %lld (%.2fx when it was made): training a "
			"new one", rrun, (long long)c->id, c->ratio);
	if (train_tx(s, ds, &made, err) < 0)
		return -1;
	if (!made)
		return 0;
	/* the rows of this run; older rows keep their dictionary */
	return recompress_where(s, DB_RECODE_OTHER, s->codec->run_first,
				&ds->recompressed, &ds->bytes_before,
				&ds->bytes_after, err);
}

static int
recompress(struct store *s, struct store_dict_stats *ds, struct mxd_err *err)
{
	struct cdict *c = current(s);
	int64_t n = 0, first;
	double r = 0;
	int made = 0;

	memset(ds, 0, sizeof(*ds));
	/* a dictionary when there is none, when the one in use was not
	 * trained on packed forms, or when the newest messages have moved away
	 * from it */
	if (c) {
		first = s->codec->run_first - TRAIN_SAMPLES;
		if (ratio_since(s, c->id, first > 0 ? first : 0, &n, &r, err) < 0)
			return -1;
	}
	if ((!c || !c->packed || (n >= RETRAIN_MIN && r < RETRAIN_RATIO * c->ratio)) &&
	    train_tx(s, ds, &made, err) < 0)
		return -1;
	if ((c = current(s))) {
		ds->dict = c->id;
		ds->ratio = c->ratio;
	}
	/* zlib rows, and zstd rows without the dictionary in use (raw rows
	 * were too small or did not compress) */
	return recompress_where(s, c ? DB_RECODE_OLD : DB_RECODE_ZLIB, 0, &ds->recompressed,
				&ds->bytes_before, &ds->bytes_after, err);
}

/*
 * One host at a time trains and recompresses (DB_LOCK_DICT; on SQLite the
 * writer's lock): the others go on with the dictionary they have, and
 * take the new one when they next look (newest_dict()).
 */
static int
dict_locked(struct store *s, int wait,
	    int (*fn)(struct store *, struct store_dict_stats *, struct mxd_err *),
	    struct store_dict_stats *ds, struct mxd_err *err)
{
	int rc = store_lock(s, STORE_LOCK_DICT, "dictionary", wait, err);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (mxd_log_area(MXD_AREA_STORE))
			mxd_log(MXD_LOG_DEBUG, "store: another mxdigest is training "
				"a dictionary: left to it");
		return 0;
	}
	rc = newest_dict(s, err) < 0 ? -1 : fn(s, ds, err);
	store_unlock(s, STORE_LOCK_DICT, "dictionary");
	return rc;
}

int
store_dict_due(struct store *s, struct mxd_err *err)
{
	struct store_dict_stats ds;

	if (current(s) || s->codec->first_failed ||
	    s->codec->undicted < TRAIN_MIN)
		return 0;
	return dict_locked(s, 0, dict_due, &ds, err);
}

int
store_dict_update(struct store *s, struct store_dict_stats *ds,
		  struct mxd_err *err)
{
	memset(ds, 0, sizeof(*ds));
	return dict_locked(s, 0, dict_update, ds, err);
}

int
store_recompress(struct store *s, struct store_dict_stats *ds,
		 struct mxd_err *err)
{
	memset(ds, 0, sizeof(*ds));
	return dict_locked(s, 1, recompress, ds, err);
}
