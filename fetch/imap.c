/*
 * imap.c — the IMAP source (see imap.h): session, mailbox, size listing,
 * batched fetches, moves and IDLE, on libetpan's IMAP client.
 *
 * RFCs: 3501 (IMAP4rev1: UIDs, UIDVALIDITY, EXAMINE/SELECT, UID FETCH with
 * BODY.PEEK[] and RFC822.SIZE, STARTTLS §6.2.1), 2595 and 8314 (TLS),
 * 2177 (IDLE), 6851 (MOVE), 4315 (UIDPLUS: UID EXPUNGE), 4616 (PLAIN).
 *
 * IDLE is spoken here on the raw stream rather than through libetpan's
 * mailimap_idle(): in libetpan 1.9.4 an untagged response that arrives
 * before the "+ idling" continuation makes that call block until the
 * stream times out (dinhvh/libetpan#393) and the response is thrown away.
 * Reading the lines ourselves keeps every EXISTS and tells the server's
 * keep-alive ("* OK Still here") apart from new mail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fetch/imap.h"
#include "fetch/imap_p.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define STREAM_BUFFER 65536	/* libetpan's read and write buffers */
#define LIST_WINDOW 2000	/* UIDs per size-listing command, to start */
#define LIST_WINDOW_MAX (1u << 22)

struct imap {
	char *name;
	mailimap *s;
	struct net *net;	/* owned by s's stream once connected */
	int net_owned;		/* not yet wrapped in a stream */
	int broken;		/* stream unusable: close, never LOGOUT */
	int overflowed;		/* the last failure: more than expected */
	unsigned caps;
	uint32_t exists;	/* of the selected mailbox */
	MMAPString *line;	/* IDLE lines */
};

static void
oom(void)
{
	fputs("mxdigest: out of memory\n", stderr);
	abort();
}

/* Server text cleaned for a one-line message: no control characters. */
static const char *
clean(const char *t, char *out, size_t n)
{
	size_t i, j = 0;

	for (i = 0; t[i] && t[i] != '\r' && t[i] != '\n' && j + 1 < n; i++)
		out[j++] = (unsigned char)t[i] >= 0x20 && t[i] != 0x7f ? t[i] : '?';
	out[j] = '\0';
	while (j && out[j - 1] == ' ')
		out[--j] = '\0';
	return j ? out : "(no reason given)";
}

/* The text of the server's last tagged answer. */
static const char *
server_text(struct imap *im, char *out, size_t n)
{
	return clean(im->s && im->s->imap_response ? im->s->imap_response : "",
		     out, n);
}

/*
 * Turns libetpan's result r of step `what` into err.  Stream, parse and
 * fatal errors leave the connection unusable (libetpan cannot resync,
 * dinhvh/libetpan#90): the session is marked broken so that imap_close()
 * drops it without a LOGOUT that would wait a whole timeout.  A plain
 * NO answer gets `no_code`.
 */
static int
fail(struct imap *im, int r, enum mxd_status no_code, const char *what,
     struct mxd_err *err)
{
	char text[300];
	const char *why;

	switch (r) {
	case MAILIMAP_ERROR_STREAM:
		im->broken = 1;
		why = net_error(im->net);
		switch (net_failure(im->net)) {
		case NET_FAIL_STOPPED:
			return mxd_err_set(err, MXD_E_INTERRUPTED, "%s: interrupted",
					   what);
		case NET_FAIL_BUDGET:
			im->overflowed = 1;
			/* FALLTHROUGH */
		case NET_FAIL_HOSTILE:
			return mxd_err_set(err, MXD_E_PROTO, "%s: %s", what, why);
		default:
			break;
		}
		return mxd_err_set(err, MXD_E_NET, "%s: connection lost: %s", what,
				   *why ? why : "connection closed by the server");
	case MAILIMAP_ERROR_PARSE:
		im->broken = 1;
		return mxd_err_set(err, MXD_E_PROTO, "%s: unreadable answer from "
				   "the server", what);
	case MAILIMAP_ERROR_FATAL:
		im->broken = 1;
		return mxd_err_set(err, MXD_E_NET, "%s: the server ended the "
				   "session: %s", what,
				   server_text(im, text, sizeof(text)));
	case MAILIMAP_ERROR_PROTOCOL:
		/* BAD, or a tagged answer to another command: out of step */
		im->broken = 1;
		return mxd_err_set(err, MXD_E_PROTO, "%s: rejected as a bad "
				   "command: %s", what,
				   server_text(im, text, sizeof(text)));
	case MAILIMAP_ERROR_MEMORY:
		oom();
		return -1;
	default:
		return mxd_err_set(err, no_code, "%s: %s", what,
				   server_text(im, text, sizeof(text)));
	}
}

static int
has_cap(mailimap *s, const char *name)
{
	clistiter *it;

	if (!s->imap_connection_info || !s->imap_connection_info->imap_capability)
		return 0;
	for (it = clist_begin(s->imap_connection_info->imap_capability->cap_list);
	     it; it = clist_next(it)) {
		struct mailimap_capability *c = clist_content(it);

		if (c->cap_type == MAILIMAP_CAPABILITY_NAME &&
		    str_casecmp(c->cap_data.cap_name, name) == 0)
			return 1;
	}
	return 0;
}

/* CAPABILITY, so that the cached list is the current one. */
static int
refresh_caps(struct imap *im, struct mxd_err *err)
{
	struct mailimap_capability_data *cd = NULL;
	int r = mailimap_capability(im->s, &cd);

	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, MXD_E_PROTO, "CAPABILITY", err);
	mailimap_capability_data_free(cd);
	im->caps = (has_cap(im->s, "MOVE") ? IMAP_CAP_MOVE : 0) |
		   (has_cap(im->s, "UIDPLUS") ? IMAP_CAP_UIDPLUS : 0) |
		   (has_cap(im->s, "IDLE") ? IMAP_CAP_IDLE : 0);
	return 0;
}

static int
login(struct imap *im, const struct imap_conf *c, struct mxd_err *err)
{
	char text[300];
	int r;

	if (c->auth == IMAP_AUTH_LOGIN && has_cap(im->s, "LOGINDISABLED"))
		return mxd_err_set(err, MXD_E_AUTH, "the server does not accept "
				   "LOGIN here (LOGINDISABLED); try auth = plain");
	net_set_secret(im->net, c->secret);
	net_set_redact(im->net, 1);
	switch (c->auth) {
	case IMAP_AUTH_PLAIN:
		r = mailimap_authenticate(im->s, "PLAIN", c->host, NULL, NULL,
					  c->user, c->user, c->secret, NULL);
		break;
	case IMAP_AUTH_XOAUTH2:
		r = mailimap_oauth2_authenticate(im->s, c->user, c->secret);
		break;
	case IMAP_AUTH_LOGIN:
	default:
		r = mailimap_login(im->s, c->user, c->secret);
		break;
	}
	net_set_redact(im->net, 0);
	if (r == MAILIMAP_NO_ERROR)
		return 0;
	if (r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE ||
	    r == MAILIMAP_ERROR_FATAL || r == MAILIMAP_ERROR_MEMORY)
		return fail(im, r, MXD_E_AUTH, "login", err);
	if (r == MAILIMAP_ERROR_PROTOCOL)
		im->broken = 1;
	if (c->auth == IMAP_AUTH_PLAIN && r != MAILIMAP_ERROR_LOGIN &&
	    r != MAILIMAP_ERROR_PROTOCOL)
		return mxd_err_set(err, MXD_E_AUTH, "AUTHENTICATE PLAIN as \"%s\" "
				   "failed: %s (is libsasl2-modules installed?)",
				   c->user, server_text(im, text, sizeof(text)));
	return mxd_err_set(err, MXD_E_AUTH, "login as \"%s\" failed: %s", c->user,
			   server_text(im, text, sizeof(text)));
}

int
imap_open(const struct imap_conf *c, struct imap **out, struct mxd_err *err)
{
	struct net_opts no;
	struct imap *im;
	mailstream *st;
	int r, preauth;

	*out = NULL;
	/* libetpan's debug file would hold the password: keep it off */
	mailstream_debug = 0;
	im = xcalloc(1, sizeof(*im));
	im->name = xstrdup(c->name);
	memset(&no, 0, sizeof(no));
	no.name = c->name;
	no.host = c->host;
	no.port = c->port;
	no.timeout_ms = c->timeout * 1000;
	no.ca_file = c->ca_file;
	no.insecure = c->insecure;
	no.loopback_only = c->security == IMAP_SEC_NONE;
	no.stop = c->stop;
	/* a body, plus room for the FETCH line around it */
	no.max_literal = c->max_literal ? c->max_literal + 65536 : 0;
	if (net_connect(&no, &im->net, err) < 0)
		goto fail;
	im->net_owned = 1;
	if (c->security == IMAP_SEC_IMAPS) {
		if (net_tls_start(im->net, err) < 0)
			goto fail;
		mxd_log(MXD_LOG_INFO, "\"%s\": TLS: %s%s", c->name,
			net_tls_desc(im->net), c->insecure ? " (NOT verified)"
							   : ", verified");
	}
	if (!(im->s = mailimap_new(0, NULL)))
		oom();
	mailimap_set_timeout(im->s, c->timeout);
	if (!(st = mailstream_new(net_low(im->net), STREAM_BUFFER)))
		oom();
	im->net_owned = 0;
	r = mailimap_connect(im->s, st);
	if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED &&
	    r != MAILIMAP_NO_ERROR_AUTHENTICATED) {
		if (r == MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION)
			r = MAILIMAP_ERROR_FATAL;
		fail(im, r, MXD_E_PROTO, "greeting", err);
		im->broken = 1;
		goto fail;
	}
	preauth = r == MAILIMAP_NO_ERROR_AUTHENTICATED;
	if (preauth && c->security == IMAP_SEC_STARTTLS) {
		/* RFC 3501 §6.2.1: STARTTLS only before authentication */
		im->broken = 1;
		mxd_err_set(err, MXD_E_TLS, "the server authenticated the session "
			    "in clear (PREAUTH), so STARTTLS is impossible: refusing");
		goto fail;
	}
	if (c->security == IMAP_SEC_STARTTLS) {
		/* RFC 2595 §3.1 / RFC 3501 §6.2.1: required, never skipped */
		r = mailimap_starttls(im->s);
		/* anything already buffered was sent before the handshake, in
		 * clear, by someone: CVE-2020-15953 style injection (Debian's
		 * libetpan refuses it too, as a STARTTLS error) */
		if ((r == MAILIMAP_NO_ERROR || r == MAILIMAP_ERROR_STARTTLS) &&
		    im->s->imap_stream && im->s->imap_stream->read_buffer_len != 0) {
			im->broken = 1;
			mxd_err_set(err, MXD_E_TLS, "the server sent data after "
				    "accepting STARTTLS and before the TLS "
				    "handshake (a possible injection): giving up");
			goto fail;
		}
		if (r != MAILIMAP_NO_ERROR) {
			fail(im, r, MXD_E_TLS, "STARTTLS", err);
			if (err->code == MXD_E_TLS || err->code == MXD_E_PROTO)
				mxd_err_prefix(err, "the server refused TLS "
					       "(security = starttls)");
			err->code = err->code == MXD_E_NET ? MXD_E_NET : MXD_E_TLS;
			goto fail;
		}
		if (net_tls_start(im->net, err) < 0) {
			im->broken = 1;
			goto fail;
		}
		mxd_log(MXD_LOG_INFO, "\"%s\": STARTTLS: %s%s", c->name,
			net_tls_desc(im->net), c->insecure ? " (NOT verified)"
							   : ", verified");
	}
	/* capabilities seen before TLS may have been forged (RFC 3501
	 * §6.2.1): ask again */
	if (refresh_caps(im, err) < 0)
		goto fail;
	if (!preauth) {
		if (login(im, c, err) < 0)
			goto fail;
		/* MOVE, UIDPLUS, IDLE may be announced only after login */
		if (refresh_caps(im, err) < 0)
			goto fail;
	}
	mxd_log(MXD_LOG_INFO, "\"%s\": logged in as \"%s\"%s%s%s", c->name, c->user,
		im->caps & IMAP_CAP_MOVE ? ", MOVE" : "",
		im->caps & IMAP_CAP_UIDPLUS ? ", UIDPLUS" : "",
		im->caps & IMAP_CAP_IDLE ? ", IDLE" : "");
	*out = im;
	return 0;
fail:
	imap_close(im);
	return -1;
}

void
imap_close(struct imap *im)
{
	if (!im)
		return;
	if (im->s) {
		if (im->s->imap_stream && im->broken) {
			/* mailimap_free() would send LOGOUT and wait for it */
			mailstream_close(im->s->imap_stream);
			im->s->imap_stream = NULL;
		} else if (im->s->imap_stream) {
			mailimap_logout(im->s);
		}
		mailimap_free(im->s);
	}
	if (im->net_owned)
		net_free(im->net);
	if (im->line)
		mmap_string_free(im->line);
	free(im->name);
	free(im);
}

unsigned
imap_caps(const struct imap *im)
{
	return im->caps;
}

static uint32_t
status_uidnext(struct imap *im, const char *mailbox)
{
	struct mailimap_status_att_list *sl = mailimap_status_att_list_new_empty();
	struct mailimap_mailbox_data_status *res = NULL;
	uint32_t v = 0;
	clistiter *it;

	if (!sl)
		oom();
	mailimap_status_att_list_add(sl, MAILIMAP_STATUS_ATT_UIDNEXT);
	if (mailimap_status(im->s, mailbox, sl, &res) == MAILIMAP_NO_ERROR && res) {
		for (it = clist_begin(res->st_info_list); it; it = clist_next(it)) {
			struct mailimap_status_info *si = clist_content(it);

			if (si->st_att == MAILIMAP_STATUS_ATT_UIDNEXT)
				v = si->st_value;
		}
	}
	if (res)
		mailimap_mailbox_data_status_free(res);
	mailimap_status_att_list_free(sl);
	return v;
}

int
imap_select(struct imap *im, const char *mailbox, int read_only,
	    struct imap_box *box, struct mxd_err *err)
{
	struct mailimap_selection_info *sel;
	char what[300];
	int r;

	snprintf(what, sizeof(what), "%s \"%s\"", read_only ? "EXAMINE" : "SELECT",
		 mailbox);
	r = read_only ? mailimap_examine(im->s, mailbox)
		      : mailimap_select(im->s, mailbox);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, MXD_E_CONFIG, what, err);
	sel = im->s->imap_selection_info;
	memset(box, 0, sizeof(*box));
	box->uidvalidity = sel->sel_uidvalidity;
	box->uidnext = sel->sel_uidnext;
	box->exists = sel->sel_exists;
	box->read_only = sel->sel_perm == MAILIMAP_MAILBOX_READONLY;
	im->exists = box->exists;
	if (box->uidvalidity == 0)
		return mxd_err_set(err, MXD_E_PROTO, "%s: no UIDVALIDITY in the "
				   "answer", what);
	if (box->uidnext == 0)	/* optional in the answer: ask for it */
		box->uidnext = status_uidnext(im, mailbox);
	mxd_log(MXD_LOG_INFO, "\"%s\": %s: %u message%s, UIDVALIDITY %u, UIDNEXT %u%s",
		im->name, what, box->exists, box->exists == 1 ? "" : "s",
		box->uidvalidity, box->uidnext, box->read_only ? ", read-only" : "");
	return 0;
}

/* A libetpan UID set from ascending UIDs, runs merged into intervals. */
static struct mailimap_set *
uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t i = 0, j;

	if (!set)
		oom();
	while (i < n) {
		for (j = i; j + 1 < n && uids[j + 1] == uids[j] + 1; j++)
			;
		if (mailimap_set_add_interval(set, uids[i], uids[j]) != MAILIMAP_NO_ERROR)
			oom();
		i = j + 1;
	}
	return set;
}

/* The static attributes of one FETCH response that we ask for. */
struct fetched {
	uint32_t uid, size;
	int has_size;
	int deleted;			/* \Deleted among its FLAGS */
	const char *body;
	size_t body_len;
	int has_body;
};

static void
read_msg_att(const struct mailimap_msg_att *ma, struct fetched *f)
{
	clistiter *it;

	memset(f, 0, sizeof(*f));
	for (it = clist_begin(ma->att_list); it; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);
		struct mailimap_msg_att_static *st;

		if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			clistiter *fi;

			if (!item->att_data.att_dyn || !item->att_data.att_dyn->att_list)
				continue;
			for (fi = clist_begin(item->att_data.att_dyn->att_list); fi;
			     fi = clist_next(fi)) {
				struct mailimap_flag_fetch *ff = clist_content(fi);

				if (ff->fl_type == MAILIMAP_FLAG_FETCH_OTHER && ff->fl_flag &&
				    ff->fl_flag->fl_type == MAILIMAP_FLAG_DELETED)
					f->deleted = 1;
			}
			continue;
		}
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		st = item->att_data.att_static;
		switch (st->att_type) {
		case MAILIMAP_MSG_ATT_UID:
			f->uid = st->att_data.att_uid;
			break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			f->size = st->att_data.att_rfc822_size;
			f->has_size = 1;
			break;
		case MAILIMAP_MSG_ATT_BODY_SECTION:
			if (st->att_data.att_body_section) {
				f->body = st->att_data.att_body_section->sec_body_part;
				f->body_len = st->att_data.att_body_section->sec_length;
				f->has_body = 1;
			}
			break;
		default:
			break;
		}
	}
}

static int
size_cmp(const void *a, const void *b)
{
	const struct imap_size *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* UID FETCH lo:hi (UID RFC822.SIZE [FLAGS]); hi 0 means "*". */
static int
list_range(struct imap *im, uint32_t lo, uint32_t hi, int skip_deleted,
	   struct imap_list *out, struct mxd_err *err)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	struct mailimap_set *set = mailimap_set_new_interval(lo, hi);
	clist *res = NULL;
	clistiter *it;
	int r;

	if (!ft || !set)
		oom();
	/* one short line per message: about 80 bytes with FLAGS */
	net_set_budget(im->net, ((uint64_t)(hi ? hi - lo + 1 : im->exists) + 1000) *
				256 + NET_DEFAULT_BUDGET);
	if (mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid()) ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft,
						       mailimap_fetch_att_new_rfc822_size()) ||
	    (skip_deleted &&
	     mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_flags())))
		oom();
	r = mailimap_uid_fetch(im->s, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, MXD_E_PROTO, "UID FETCH (RFC822.SIZE)", err);
	for (it = clist_begin(res); it; it = clist_next(it)) {
		struct fetched f;

		read_msg_att(clist_content(it), &f);
		/* "lo:*" names the highest UID even below lo (RFC 3501 §6.4.8):
		 * keep only what was asked; unsolicited FLAGS have no size */
		if (!f.uid || !f.has_size || f.uid < lo || (hi && f.uid > hi))
			continue;
		if (skip_deleted && f.deleted) {
			out->deleted++;
			continue;
		}
		out->v = xgrow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
		out->v[out->n].uid = f.uid;
		out->v[out->n].size = f.size;
		out->n++;
		out->bytes += f.size;
	}
	mailimap_fetch_list_free(res);
	return 0;
}

int
imap_list_sizes(struct imap *im, uint32_t first, uint32_t uidnext,
		int skip_deleted, struct imap_list *out, struct mxd_err *err)
{
	uint64_t lo = first ? first : 1, hi;
	uint32_t window = LIST_WINDOW;
	size_t i, j, before;

	while (uidnext && lo < uidnext) {
		hi = lo + window - 1;
		if (hi >= uidnext)
			hi = uidnext - 1;
		before = out->n;
		if (list_range(im, (uint32_t)lo, (uint32_t)hi, skip_deleted, out,
			       err) < 0)
			return -1;
		/* sparse UIDs (after many moves): widen the window */
		if (out->n - before < window / 8 && window < LIST_WINDOW_MAX)
			window *= 2;
		lo = hi + 1;
	}
	/* what arrived after SELECT (or everything, UIDNEXT unknown) */
	if (lo <= UINT32_MAX &&
	    list_range(im, (uint32_t)lo, 0, skip_deleted, out, err) < 0)
		return -1;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), size_cmp);
	for (i = j = 0; i < out->n; i++)	/* a UID answered twice */
		if (j == 0 || out->v[i].uid != out->v[j - 1].uid)
			out->v[j++] = out->v[i];
		else
			out->bytes -= out->v[i].size;
	out->n = j;
	mxd_log(MXD_LOG_INFO, "\"%s\": %zu message%s from UID %u on, %.1f MB%s",
		im->name, out->n, out->n == 1 ? "" : "s", first ? first : 1,
		(double)out->bytes / 1e6, out->deleted ? " (flagged \\Deleted ones "
		"left out)" : "");
	return 0;
}

void
imap_list_release(struct imap_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
uid_wanted(const uint32_t *uids, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uids[mid] == uid)
			return 1;
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* A FETCH answer, held until its messages are handed on. */
struct imap_fetched {
	clist *res;
	uint32_t *uids;		/* what was asked for, ascending */
	size_t n;
};

int
imap_fetch_get(struct imap *im, const uint32_t *uids, size_t n, size_t head_max,
	       uint64_t expect, struct imap_fetched **out, struct mxd_err *err)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_fetch_att *body;
	struct mailimap_set *set;
	struct imap_fetched *b;
	clist *res = NULL;
	int r;

	*out = NULL;
	b = xcalloc(1, sizeof(*b));
	if (n == 0) {
		*out = b;
		return 0;
	}
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	/* .PEEK: fetching must not set \Seen (RFC 3501 §6.4.5) */
	if (head_max)
		body = mailimap_fetch_att_new_body_peek_section_partial(
			mailimap_section_new_header(), 0, (uint32_t)head_max);
	else
		body = mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL));
	if (!ft || !body ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid()) ||
	    mailimap_fetch_type_new_fetch_att_list_add(ft, body))
		oom();
	set = uid_set(uids, n);
	im->overflowed = 0;
	if (expect)
		net_set_budget(im->net, expect);
	r = mailimap_uid_fetch(im->s, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		free(b);
		return fail(im, r, MXD_E_PROTO, head_max ? "UID FETCH (BODY.PEEK[HEADER])"
							  : "UID FETCH (BODY.PEEK[])", err);
	}
	b->res = res;
	b->uids = xmalloc(n * sizeof(*uids));
	memcpy(b->uids, uids, n * sizeof(*uids));
	b->n = n;
	*out = b;
	return 0;
}

int
imap_fetched_each(const struct imap_fetched *b, imap_msg_fn fn, void *ctx)
{
	clistiter *it;
	int rc = 0;

	if (!b->res)
		return 0;
	for (it = clist_begin(b->res); it && rc == 0; it = clist_next(it)) {
		struct fetched f;
		struct imap_msg m;

		read_msg_att(clist_content(it), &f);
		/* a UID not asked for, or an answer without the body (NIL):
		 * nothing to store, and the UID stays to be asked again */
		if (!f.uid || !f.has_body || !f.body || !uid_wanted(b->uids, b->n, f.uid))
			continue;
		m.uid = f.uid;
		m.data = f.body;
		m.len = f.body_len;
		rc = fn(&m, ctx);
	}
	return rc;
}

void
imap_fetched_free(struct imap_fetched *b)
{
	if (!b)
		return;
	if (b->res)
		mailimap_fetch_list_free(b->res);
	free(b->uids);
	free(b);
}

int
imap_fetch(struct imap *im, const uint32_t *uids, size_t n, size_t head_max,
	   uint64_t expect, imap_msg_fn fn, void *ctx, struct mxd_err *err)
{
	struct imap_fetched *b;
	int rc;

	if (imap_fetch_get(im, uids, n, head_max, expect, &b, err) < 0)
		return -1;
	rc = imap_fetched_each(b, fn, ctx);
	imap_fetched_free(b);
	return rc;
}

int
imap_overflowed(const struct imap *im)
{
	return im->overflowed;
}

int
imap_exists(struct imap *im, const uint32_t *uids, size_t n,
	    unsigned char *exists, struct mxd_err *err)
{
	struct mailimap_fetch_type *ft;
	struct mailimap_set *set;
	clist *res = NULL;
	clistiter *it;
	size_t i, lo, hi;
	int r;

	memset(exists, 0, n);
	if (n == 0)
		return 0;
	ft = mailimap_fetch_type_new_fetch_att_list_empty();
	if (!ft || mailimap_fetch_type_new_fetch_att_list_add(ft,
					mailimap_fetch_att_new_uid()))
		oom();
	set = uid_set(uids, n);
	net_set_budget(im->net, (uint64_t)n * 256 + NET_DEFAULT_BUDGET);
	r = mailimap_uid_fetch(im->s, set, ft, &res);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, MXD_E_PROTO, "UID FETCH (UID)", err);
	for (it = clist_begin(res); it; it = clist_next(it)) {
		struct fetched f;

		read_msg_att(clist_content(it), &f);
		for (lo = 0, hi = n; lo < hi;) {	/* uids ascend */
			i = lo + (hi - lo) / 2;
			if (uids[i] == f.uid) {
				exists[i] = 1;
				break;
			}
			if (uids[i] < f.uid)
				lo = i + 1;
			else
				hi = i;
		}
	}
	mailimap_fetch_list_free(res);
	return 0;
}

/* The LIST entry of a mailbox name, if it is selectable. */
static int
selectable(const struct mailimap_mailbox_list *mb)
{
	clistiter *it;

	if (!mb->mb_flag)
		return 1;
	if (mb->mb_flag->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG &&
	    mb->mb_flag->mbf_sflag == MAILIMAP_MBX_LIST_SFLAG_NOSELECT)
		return 0;
	for (it = clist_begin(mb->mb_flag->mbf_oflags); it; it = clist_next(it)) {
		struct mailimap_mbx_list_oflag *o = clist_content(it);

		/* RFC 5258: \NonExistent; some servers say \Noselect here */
		if (o->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT && o->of_flag_ext &&
		    (str_casecmp(o->of_flag_ext, "NonExistent") == 0 ||
		     str_casecmp(o->of_flag_ext, "Noselect") == 0))
			return 0;
	}
	return 1;
}

/* LIST "" pattern: 1 when a selectable mailbox named `want` is in the
 * answer (exactly), 0 when not, -1 on error.  With `leaf`, the name of a
 * selectable mailbox whose last part is `want` goes there (malloc'd). */
static int
list_has(struct imap *im, const char *pattern, const char *want, char **leaf,
	 struct mxd_err *err)
{
	clist *res = NULL;
	clistiter *it;
	int r, found = 0;

	r = mailimap_list(im->s, "", pattern, &res);
	if (r != MAILIMAP_NO_ERROR && r != MAILIMAP_ERROR_LIST)
		return fail(im, r, MXD_E_PROTO, "LIST", err);
	if (r != MAILIMAP_NO_ERROR)
		return 0;	/* a NO: nothing by that name */
	for (it = clist_begin(res); it; it = clist_next(it)) {
		struct mailimap_mailbox_list *mb = clist_content(it);
		const char *last;

		if (!mb->mb_name || !selectable(mb))
			continue;
		if (strcmp(mb->mb_name, want) == 0)
			found = 1;
		last = mb->mb_delimiter ? strrchr(mb->mb_name, mb->mb_delimiter)
					: NULL;
		last = last ? last + 1 : mb->mb_name;
		if (leaf && !*leaf && str_casecmp(last, want) == 0 &&
		    strcmp(mb->mb_name, want) != 0)
			*leaf = xstrdup(mb->mb_name);
	}
	mailimap_list_result_free(res);
	return found;
}

int
imap_check_mailbox(struct imap *im, const char *mailbox, struct mxd_err *err)
{
	struct mailimap_namespace_data *ns = NULL;
	char *guess = NULL, *pref = NULL;
	int r;

	r = list_has(im, mailbox, mailbox, NULL, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	/* RFC 2342: Cyrus and Courier keep a user's mailboxes under "INBOX." */
	if (mailimap_has_namespace(im->s) &&
	    mailimap_namespace(im->s, &ns) == MAILIMAP_NO_ERROR && ns &&
	    ns->ns_personal && clist_begin(ns->ns_personal->ns_data_list)) {
		struct mailimap_namespace_info *p =
			clist_content(clist_begin(ns->ns_personal->ns_data_list));

		if (p->ns_prefix && *p->ns_prefix &&
		    strncmp(mailbox, p->ns_prefix, strlen(p->ns_prefix)) != 0) {
			pref = xasprintf("%s%s", p->ns_prefix, mailbox);
			if ((r = list_has(im, pref, pref, NULL, err)) < 0)
				goto out;
			if (r) {
				guess = pref;
				pref = NULL;
			}
		}
	}
	if (!guess && (r = list_has(im, "*", mailbox, &guess, err)) < 0)
		goto out;
	if (guess)
		mxd_err_set(err, MXD_E_CONFIG, "mailbox \"%s\" does not exist on the "
			    "server: did you mean \"%s\"?", mailbox, guess);
	else
		mxd_err_set(err, MXD_E_CONFIG, "mailbox \"%s\" does not exist on the "
			    "server (create it, or change the configuration)",
			    mailbox);
out:
	if (ns)
		mailimap_namespace_data_free(ns);
	free(guess);
	free(pref);
	return -1;
}

int
imap_move(struct imap *im, const uint32_t *uids, size_t n, const char *mailbox,
	  struct mxd_err *err)
{
	struct mailimap_store_att_flags *fl;
	struct mailimap_flag_list *flags;
	struct mailimap_set *set;
	char what[300];
	int r, trycreate;

	if (n == 0)
		return 0;
	if (!(im->caps & (IMAP_CAP_MOVE | IMAP_CAP_UIDPLUS)))
		/* only a plain EXPUNGE could finish a COPY: never */
		return mxd_err_set(err, MXD_E_CONFIG, "the server has neither MOVE "
				   "nor UIDPLUS, so messages cannot be moved without "
				   "expunging other clients' deleted mail: remove "
				   "archive_mailbox and quarantine_mailbox");
	set = uid_set(uids, n);
	if (im->caps & IMAP_CAP_MOVE) {
		snprintf(what, sizeof(what), "UID MOVE to \"%s\"", mailbox);
		r = mailimap_uid_move(im->s, set, mailbox);
	} else {
		snprintf(what, sizeof(what), "UID COPY to \"%s\"", mailbox);
		r = mailimap_uid_copy(im->s, set, mailbox);
	}
	trycreate = r != MAILIMAP_NO_ERROR && im->s->imap_response_info &&
		    im->s->imap_response_info->rsp_trycreate;
	if (r != MAILIMAP_NO_ERROR) {
		mailimap_set_free(set);
		/* a NO here is about the mailbox or the rights on it: going
		 * through the network again would not change it */
		fail(im, r, MXD_E_CONFIG, what, err);
		if (trycreate)
			mxd_err_set(err, MXD_E_CONFIG, "%s: the mailbox does not "
				    "exist (create it, or change the configuration)",
				    what);
		return -1;
	}
	if (!(im->caps & IMAP_CAP_MOVE)) {
		flags = mailimap_flag_list_new_empty();
		if (!flags || mailimap_flag_list_add(flags, mailimap_flag_new_deleted()))
			oom();
		fl = mailimap_store_att_flags_new_add_flags_silent(flags);
		if (!fl)
			oom();
		r = mailimap_uid_store(im->s, set, fl);
		mailimap_store_att_flags_free(fl);
		if (r != MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			return fail(im, r, MXD_E_CONFIG, "UID STORE +FLAGS.SILENT (\\Deleted)",
				    err);
		}
		/* RFC 4315 §2.1: only these UIDs, whatever else is \Deleted */
		r = mailimap_uid_expunge(im->s, set);
		if (r != MAILIMAP_NO_ERROR) {
			mailimap_set_free(set);
			return fail(im, r, MXD_E_CONFIG, "UID EXPUNGE", err);
		}
	}
	mailimap_set_free(set);
	mxd_log(MXD_LOG_INFO, "\"%s\": moved %zu message%s to \"%s\"", im->name, n,
		n == 1 ? "" : "s", mailbox);
	return 0;
}

/* IDLE ------------------------------------------------------------------ */

/* Reads one response line (and skips any literal it announces); NULL
 * when the stream failed (the session is then broken). */
static const char *
idle_line(struct imap *im)
{
	mailstream *st = im->s->imap_stream;
	char *l;
	size_t len, lit;

	if (!im->line && !(im->line = mmap_string_new("")))
		oom();
	l = mailstream_read_line(st, im->line);
	for (;;) {
		/* at the end of the stream libetpan returns what it has, even
		 * "": a line without its LF means the connection is gone */
		if (!l || im->line->len == 0 || l[im->line->len - 1] != '\n') {
			im->broken = 1;
			return NULL;
		}
		len = strlen(l);
		while (len && (l[len - 1] == '\n' || l[len - 1] == '\r'))
			len--;
		lit = 0;
		if (len >= 3 && l[len - 1] == '}') {
			size_t i = len - 1;

			while (i > 0 && l[i - 1] >= '0' && l[i - 1] <= '9')
				i--;
			if (i > 0 && l[i - 1] == '{' && i < len - 1)
				lit = strtoul(l + i, NULL, 10);
		}
		if (!lit)
			return l;
		while (lit) {	/* not used in IDLE answers we know; skip */
			char junk[4096];
			ssize_t got = mailstream_read(st, junk, lit < sizeof(junk)
							     ? lit : sizeof(junk));
			if (got <= 0) {
				im->broken = 1;
				return NULL;
			}
			lit -= (size_t)got;
		}
		l = mailstream_read_line_append(st, im->line);
	}
}

/* "* 12 EXISTS" (RFC 3501 §7.3.1) */
static int
is_exists(const char *l)
{
	const char *p = l;

	if (p[0] != '*' || p[1] != ' ')
		return 0;
	p += 2;
	if (*p < '0' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	return str_ncasecmp(p, " EXISTS", 7) == 0 &&
	       (p[7] == '\0' || p[7] == '\r' || p[7] == '\n');
}

static int
is_bye(const char *l)
{
	return str_ncasecmp(l, "* BYE", 5) == 0;
}

static int
stream_error(struct imap *im, const char *what, struct mxd_err *err)
{
	const char *why = net_error(im->net);

	im->broken = 1;
	return mxd_err_set(err, MXD_E_NET, "%s: connection lost: %s", what,
			   *why ? why : "connection closed by the server");
}

static int
send_line(struct imap *im, const char *text)
{
	mailstream *st = im->s->imap_stream;

	if (mailstream_write(st, text, strlen(text)) < 0 || mailstream_flush(st) < 0) {
		im->broken = 1;
		return -1;
	}
	return 0;
}

/* Without IDLE: wait, then NOOP (RFC 3501 §6.1.2), whose answer carries
 * any EXISTS. */
static int
noop_wait(struct imap *im, int max_wait, const volatile int *stop,
	  struct mxd_err *err)
{
	time_t end = time(NULL) + max_wait;
	int r;

	while (!*stop && time(NULL) < end)
		sleep(1);
	if (*stop)
		return 0;
	im->s->imap_selection_info->sel_has_exists = 0;
	r = mailimap_noop(im->s);
	if (r != MAILIMAP_NO_ERROR)
		return fail(im, r, MXD_E_PROTO, "NOOP", err);
	return im->s->imap_selection_info->sel_has_exists ? 1 : 0;
}

int
imap_idle(struct imap *im, int max_wait, const volatile int *stop,
	  struct mxd_err *err)
{
	char cmd[32], tag[16];
	const char *l;
	time_t end;
	int news = 0, r;
	size_t tl;

	if (!(im->caps & IMAP_CAP_IDLE))
		return noop_wait(im, max_wait, stop, err);
	/* the next tag of libetpan's counter, so that its next command
	 * stays in step */
	im->s->imap_tag++;
	snprintf(tag, sizeof(tag), "%d", im->s->imap_tag);
	tl = strlen(tag);
	snprintf(cmd, sizeof(cmd), "%s IDLE\r\n", tag);
	if (send_line(im, cmd) < 0)
		return stream_error(im, "IDLE", err);
	for (;;) {	/* RFC 2177 §3: "+ idling", or a refusal */
		if (!(l = idle_line(im)))
			return stream_error(im, "IDLE", err);
		if (l[0] == '+')
			break;
		if (strncmp(l, tag, tl) == 0 && l[tl] == ' ') {
			char text[300];

			im->broken = 1;
			return mxd_err_set(err, MXD_E_PROTO, "IDLE refused: %s",
					   clean(l + tl + 1, text, sizeof(text)));
		}
		if (is_bye(l))
			return stream_error(im, "IDLE", err);
		news |= is_exists(l);
	}
	mxd_log(MXD_LOG_INFO, "\"%s\": idling (up to %d s)", im->name, max_wait);
	end = time(NULL) + max_wait;
	while (!news && !*stop && time(NULL) < end) {
		if (im->s->imap_stream->read_buffer_len == 0) {
			r = net_wait_readable(im->net, 1000);
			if (r < 0)
				return stream_error(im, "IDLE", err);
			if (r == 0)
				continue;
		}
		if (!(l = idle_line(im)))
			return stream_error(im, "IDLE", err);
		if (is_bye(l))
			return stream_error(im, "IDLE", err);
		if (is_exists(l))
			news = 1;
		/* anything else ("* OK Still here", EXPUNGE, FETCH flags) is
		 * not new mail: keep waiting */
	}
	if (send_line(im, "DONE\r\n") < 0)
		return stream_error(im, "IDLE DONE", err);
	for (;;) {
		if (!(l = idle_line(im)))
			return stream_error(im, "IDLE DONE", err);
		if (strncmp(l, tag, tl) == 0 && l[tl] == ' ')
			break;
		news |= is_exists(l);
	}
	if (str_ncasecmp(l + tl + 1, "OK", 2) != 0) {
		char text[300];

		im->broken = 1;
		return mxd_err_set(err, MXD_E_PROTO, "IDLE ended with: %s",
				   clean(l + tl + 1, text, sizeof(text)));
	}
	if (!news && !*stop) {
		/* some servers look at the mailbox only when asked (Courier
		 * every 60 s during IDLE, Mailutils only after DONE) */
		im->s->imap_selection_info->sel_has_exists = 0;
		r = mailimap_noop(im->s);
		if (r != MAILIMAP_NO_ERROR)
			return fail(im, r, MXD_E_PROTO, "NOOP", err);
		news = im->s->imap_selection_info->sel_has_exists;
	}
	if (news)
		mxd_log(MXD_LOG_INFO, "\"%s\": new mail announced", im->name);
	return news;
}
