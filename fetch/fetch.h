/*
 * fetch.h — where messages come from: files, directories, Maildir folders,
 * mbox files, standard input (and IMAP, fetch/imap.h).
 *
 * The fetch module reads bytes and hands each message to a callback with
 * its origin; it knows nothing of reports or the store (it depends on util
 * only).  A source is chosen by name from a small ops table
 * (fetch_source_find), or detected from a path by fetch_local().
 *
 * Memory: the bytes passed to the callback belong to the source and are
 * valid only during the call.  Read errors of one input (an unreadable
 * file or directory) are reported through the error callback and the walk
 * goes on; only a failing callback stops it.
 */
#ifndef MXD_FETCH_H
#define MXD_FETCH_H

#include <stddef.h>

#include "util/err.h"

/* One message as read. */
struct fetch_msg {
	const void *data;
	size_t len;
	const char *source;	/* "path", "path#3" (mbox), "-" (stdin) */
	const char *name;	/* file name, for report-name hints; or NULL */
	size_t truncated_from;	/* > 0: only the first len of this many bytes */
};

/* Returns 0 to go on, non-zero to stop the walk (fetch returns that). */
typedef int (*fetch_msg_fn)(const struct fetch_msg *m, void *ctx);
/* An input that could not be read: source and a one-line reason. */
typedef void (*fetch_err_fn)(const char *source, const char *reason, void *ctx);

struct fetch_local_opts {
	size_t read_cap;	/* bytes read per message at most */
	fetch_msg_fn on_msg;
	fetch_err_fn on_error;
	void *ctx;
};

/* A local source kind: probes a path, then walks it. */
struct fetch_source_ops {
	const char *name;	/* "maildir", "mbox", "dir", "file", "stdin" */
	/* 1 if this source reads `path` (already stat'ed as st_mode) */
	int (*probe)(const char *path, unsigned st_mode);
	int (*walk)(const char *path, const struct fetch_local_opts *o);
};

const struct fetch_source_ops *fetch_source_find(const char *name);

/*
 * Reads every message under `path` ("-" for standard input): a file is a
 * message or an mbox (by its first line), a directory with cur/ and new/
 * is a Maildir, any other directory is walked recursively (sorted, dot
 * files skipped).  Returns 0, or the callback's non-zero value.
 */
int fetch_local(const char *path, const struct fetch_local_opts *o);

#endif
