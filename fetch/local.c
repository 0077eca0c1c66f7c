/*
 * local.c — local message sources: a file, an mbox (mboxo/mboxrd), a
 * Maildir (cur/ and new/, never tmp/), a directory tree, standard input.
 *
 * Files are read whole up to the read cap; a larger file is passed with its
 * first `read_cap` bytes and truncated_from set, so the caller can
 * quarantine it without holding it in memory.  mbox files are mapped, so a
 * large mbox costs address space, not memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch/fetch.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define MAX_DEPTH 32
#define STDIN_CAP ((size_t)1 << 32)

struct walker {
	const struct fetch_local_opts *o;
	struct buf buf;		/* file contents, reused */
	struct buf msg;		/* one mbox message, reused */
	dev_t dev[MAX_DEPTH];	/* directories being walked, against loops */
	ino_t ino[MAX_DEPTH];
	int depth;
};

/* "what: strerror(e)", or just "what" when e is 0. */
static void
report_error(struct walker *w, const char *source, const char *what, int e)
{
	char reason[256];

	if (e)
		snprintf(reason, sizeof(reason), "%s: %s", what, strerror(e));
	else
		snprintf(reason, sizeof(reason), "%s", what);
	if (w->o->on_error)
		w->o->on_error(source, reason, w->o->ctx);
}

static int
emit(struct walker *w, const void *data, size_t len, const char *source,
     const char *name, size_t truncated_from)
{
	struct fetch_msg m;

	m.data = data;
	m.len = len;
	m.source = source;
	m.name = name;
	m.truncated_from = truncated_from;
	return w->o->on_msg(&m, w->o->ctx);
}

static int
is_from_line(const unsigned char *p, size_t n)
{
	return n >= 5 && memcmp(p, "From ", 5) == 0;
}

/* One mbox message: unescape ">From " lines, cap, emit. */
static int
mbox_message(struct walker *w, const unsigned char *p, size_t n,
	     const char *path, size_t no)
{
	size_t i = 0, cap = w->o->read_cap;
	char *source;
	int rc;

	buf_reset(&w->msg);
	while (i < n && w->msg.len < cap) {
		const unsigned char *e = memchr(p + i, '\n', n - i);
		const unsigned char *line = p + i;
		size_t ll = e ? (size_t)(e - line) + 1 : n - i, adv = ll, gt = 0;

		while (gt < ll && line[gt] == '>')
			gt++;
		if (gt && is_from_line(line + gt, ll - gt)) {
			line++;	/* drop one '>' */
			ll--;
		}
		if (ll > cap - w->msg.len)
			ll = cap - w->msg.len;
		buf_add(&w->msg, line, ll);
		i += adv;
	}
	source = xasprintf("%s#%zu", path, no);
	rc = emit(w, w->msg.data ? (const void *)w->msg.data : "", w->msg.len,
		  source, NULL, i < n ? n : 0);
	free(source);
	return rc;
}

/*
 * Splits an mbox: a message starts at a "From " line at the start of the
 * data or after an empty line; that line is dropped, and ">From " lines
 * (any number of '>') lose one '>' (mboxrd; harmless for mboxo).
 */
static int
walk_mbox_data(struct walker *w, const unsigned char *p, size_t n,
	       const char *path)
{
	size_t pos = 0, start, end, no = 0;
	int rc = 0;

	while (pos < n && rc == 0) {
		/* skip the From_ line */
		const unsigned char *nl = memchr(p + pos, '\n', n - pos);

		start = nl ? (size_t)(nl - p) + 1 : n;
		/* find the next separator: "\n\nFrom " */
		for (end = start; end < n; end++) {
			if (p[end] == '\n' && end + 1 < n && p[end + 1] == '\n' &&
			    is_from_line(p + end + 2, n - end - 2))
				break;
		}
		pos = end < n ? end + 2 : n;
		if (end < n)
			end++;	/* keep the message's last newline */
		no++;
		rc = mbox_message(w, p + start, end - start, path, no);
	}
	return rc;
}

static int
walk_mbox(struct walker *w, const char *path, int fd, size_t size)
{
	void *map;
	int rc;

	if (size == 0)
		return emit(w, "", 0, path, path, 0);
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		report_error(w, path, "cannot map the mbox", errno);
		return 0;
	}
	rc = walk_mbox_data(w, map, size, path);
	munmap(map, size);
	return rc;
}

/* Reads up to cap bytes of fd into w->buf; *total gets the full size. */
static int
read_fd(struct walker *w, int fd, size_t cap, size_t *total)
{
	ssize_t r;
	size_t want;

	buf_reset(&w->buf);
	*total = 0;
	for (;;) {
		want = 65536;
		if (w->buf.len >= cap) {
			/* count what is left without keeping it */
			char sink[65536];

			while ((r = read(fd, sink, sizeof(sink))) > 0)
				*total += (size_t)r;
			if (r < 0 && errno == EINTR)
				continue;
			return r < 0 ? -1 : 0;
		}
		if (cap - w->buf.len < want)
			want = cap - w->buf.len;
		if (buf_reserve(&w->buf, want) < 0)
			return -1;
		r = read(fd, w->buf.data + w->buf.len, want);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		buf_commit(&w->buf, (size_t)r);
		*total += (size_t)r;
	}
}

static int
walk_file(struct walker *w, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), rc;
	struct stat st;
	size_t total;

	if (fd < 0) {
		report_error(w, path, "cannot open", errno);
		return 0;
	}
	if (read_fd(w, fd, w->o->read_cap, &total) < 0) {
		report_error(w, path, "cannot read", errno);
		close(fd);
		return 0;
	}
	if (is_from_line(w->buf.data ? w->buf.data : (const unsigned char *)"",
			 w->buf.len)) {
		/* an mbox: split what was read, or map it when it is larger */
		if (total == w->buf.len)
			rc = walk_mbox_data(w, w->buf.data, w->buf.len, path);
		else if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
			rc = walk_mbox(w, path, fd, (size_t)st.st_size);
		else
			rc = emit(w, w->buf.data, w->buf.len, path, path, total);
		close(fd);
		return rc;
	}
	close(fd);
	return emit(w, w->buf.data ? (const void *)w->buf.data : "", w->buf.len,
		    path, path, total > w->buf.len ? total : 0);
}

static int
no_dots(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int walk_path(struct walker *w, const char *path);

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
is_maildir(const char *path)
{
	char *cur = xasprintf("%s/cur", path), *new = xasprintf("%s/new", path);
	int r = is_dir(cur) && is_dir(new);

	free(cur);
	free(new);
	return r;
}

/* Regular files of one directory, sorted; subdirectories if `recurse`. */
static int
walk_dir_entries(struct walker *w, const char *path, int recurse)
{
	struct dirent **names;
	int n, i, rc = 0;

	n = scandir(path, &names, no_dots, alphasort);
	if (n < 0) {
		report_error(w, path, "cannot read directory", errno);
		return 0;
	}
	for (i = 0; i < n; i++) {
		char *child = xasprintf("%s%s%s", path,
					path[strlen(path) - 1] == '/' ? "" : "/",
					names[i]->d_name);
		struct stat st;

		if (rc == 0) {
			if (stat(child, &st) < 0)
				report_error(w, child, "cannot stat", errno);
			else if (S_ISDIR(st.st_mode) && recurse)
				rc = walk_path(w, child);
			else if (S_ISREG(st.st_mode))
				rc = walk_file(w, child);
			else if (!S_ISDIR(st.st_mode))
				report_error(w, child, "not a regular file", 0);
		}
		free(child);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int
walk_maildir(struct walker *w, const char *path)
{
	char *cur = xasprintf("%s/cur", path), *new = xasprintf("%s/new", path);
	int rc = walk_dir_entries(w, cur, 0);

	if (rc == 0)
		rc = walk_dir_entries(w, new, 0);
	free(cur);
	free(new);
	return rc;
}

static int
walk_path(struct walker *w, const char *path)
{
	struct stat st;
	int i, rc;

	if (stat(path, &st) < 0) {
		report_error(w, path, "cannot open", errno);
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return walk_file(w, path);
	for (i = 0; i < w->depth; i++) {
		if (w->dev[i] == st.st_dev && w->ino[i] == st.st_ino) {
			report_error(w, path, "directory loop, skipped", 0);
			return 0;
		}
	}
	if (w->depth >= MAX_DEPTH) {
		report_error(w, path, "directories nested too deeply, skipped", 0);
		return 0;
	}
	w->dev[w->depth] = st.st_dev;
	w->ino[w->depth] = st.st_ino;
	w->depth++;
	if (access(path, R_OK | X_OK) < 0)
		report_error(w, path, "cannot read directory", errno), rc = 0;
	else if (is_maildir(path))
		rc = walk_maildir(w, path);
	else
		rc = walk_dir_entries(w, path, 1);
	w->depth--;
	return rc;
}

static int
walk_stdin(struct walker *w)
{
	size_t total;

	if (read_fd(w, STDIN_FILENO, STDIN_CAP, &total) < 0) {
		report_error(w, "-", "cannot read standard input", errno);
		return 0;
	}
	if (is_from_line(w->buf.data ? w->buf.data : (const unsigned char *)"",
			 w->buf.len))
		return walk_mbox_data(w, w->buf.data, w->buf.len, "-");
	if (w->buf.len > w->o->read_cap)
		return emit(w, w->buf.data, w->o->read_cap, "-", NULL, w->buf.len);
	return emit(w, w->buf.data ? (const void *)w->buf.data : "", w->buf.len,
		    "-", NULL, total > w->buf.len ? total : 0);
}

static void
walker_init(struct walker *w, const struct fetch_local_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->o = o;
	buf_init(&w->buf, BUF_NOCAP);
	buf_init(&w->msg, BUF_NOCAP);
}

static void
walker_release(struct walker *w)
{
	buf_release(&w->buf);
	buf_release(&w->msg);
}

/* The ops table: one entry per source kind. */
static int
probe_maildir(const char *path, unsigned mode)
{
	return S_ISDIR(mode) && is_maildir(path);
}

static int
probe_dir(const char *path, unsigned mode)
{
	return S_ISDIR(mode);
}

static int
probe_file(const char *path, unsigned mode)
{
	return !S_ISDIR(mode);
}

static int
probe_stdin(const char *path, unsigned mode)
{
	return strcmp(path, "-") == 0;
}

#define WALKER_OP(fn, body)						\
	static int fn(const char *path, const struct fetch_local_opts *o) \
	{								\
		struct walker w;					\
		int rc;							\
		walker_init(&w, o);					\
		rc = body;						\
		walker_release(&w);					\
		return rc;						\
	}

WALKER_OP(op_maildir, walk_maildir(&w, path))
WALKER_OP(op_dir, walk_path(&w, path))
WALKER_OP(op_file, walk_file(&w, path))
WALKER_OP(op_stdin, ((void)path, walk_stdin(&w)))

static const struct fetch_source_ops sources[] = {
	{"stdin", probe_stdin, op_stdin},
	{"maildir", probe_maildir, op_maildir},
	{"dir", probe_dir, op_dir},
	{"file", probe_file, op_file},	/* a message or an mbox */
};

const struct fetch_source_ops *
fetch_source_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (strcmp(sources[i].name, name) == 0)
			return &sources[i];
	return NULL;
}

int
fetch_local(const char *path, const struct fetch_local_opts *o)
{
	struct stat st;
	size_t i;

	if (strcmp(path, "-") == 0)
		return sources[0].walk(path, o);
	if (stat(path, &st) < 0) {
		char reason[256];

		snprintf(reason, sizeof(reason), "cannot open: %s", strerror(errno));
		if (o->on_error)
			o->on_error(path, reason, o->ctx);
		return 0;
	}
	for (i = 1; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (sources[i].probe(path, st.st_mode))
			return sources[i].walk(path, o);
	return 0;
}
