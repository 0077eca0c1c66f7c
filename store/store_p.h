/*
 * store_p.h — internals shared by the files of store/ (statements live
 * next to the code that runs them; only store/ includes sqlite3.h).
 */
#ifndef MXD_STORE_P_H
#define MXD_STORE_P_H

#include <sqlite3.h>

#include "store/store.h"

enum stmt_id {
	Q_MSG_FIND, Q_MSG_PUT, Q_MSG_GET, Q_MSG_OUTCOME_R, Q_MSG_OUTCOME_Q,
	Q_MSG_AUTH_GET, Q_MSG_AUTH_SET,
	Q_REP_BY_ID, Q_REP_BY_SHA, Q_REP_PUT, Q_POL_PUT, Q_TEXT_FIND, Q_TEXT_PUT,
	Q_DET_PUT, Q_DOM_PUT,
	Q_FAIL_PUT, Q_REP_WINNER, Q_REP_SETTLE, Q_DOM_SETTLE, Q_FAIL_SETTLE,
	Q_REP_OF_MSG, Q_REP_OTHER,
	Q_QUA_PUT, Q_QUA_LIST, Q_QUA_GET, Q_QUA_LIST_MSG, Q_QUA_COUNT,
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
	Q_COUNT
};

struct store {
	sqlite3 *db;
	char *path;
	int lock_fd;
	int in_tx;
	sqlite3_stmt *st[Q_COUNT];
	struct codec *codec;	/* codec.c: the dictionary in use */
};

/* Codecs of messages.data */
enum { CODEC_RAW = 0, CODEC_ZLIB = 1, CODEC_ZSTD = 2 };

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

/* Fills err from the database's last error; returns -1. */
int store_db_error(struct store *s, struct mxd_err *err, const char *what);

#endif
