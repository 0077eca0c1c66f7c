/*
 * dkim.c — DKIM verification with libopendkim (see dkim.h).
 *
 * The mail is fed to the library as it came, with line ends made CRLF
 * (RFC 5322 §2.3: a Maildir file may hold LF; signers hashed CRLF).  Keys
 * come from our own lookup (dkim_set_key_lookup): the one resolver of the
 * program, its deadline and cache; s=tlsrpt is made acceptable there; a
 * DNS failure that may pass is noted per key and reported as such instead
 * of as "no key" (the library knows only found or not found).  Each
 * distinct key is decoded once per run (keys.c).
 */
#include "dkim/dkim.h"

#include <opendkim/dkim.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim_p.h"
#include "util/buf.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define MAX_NOTES 16

/* libopendkim takes tag names as u_char * */
static u_char tag_l[] = "l";

struct dkimv {
	DKIM_LIB *lib;
	struct dns *dns;
	struct dkim_keys *keys;
};

/* What our key lookup saw for one signature of the mail in hand. */
struct key_note {
	char domain[256], selector[64];
	int tempfail;
	char why[600];
};

struct check {
	struct dkimv *v;
	struct key_note notes[MAX_NOTES];
	size_t n;
};

static const char *const result_names[DKIMV_RESULTS] = {
	"none", "pass", "fail", "temperror", "permerror", "skipped", "file",
};

const char *
dkimv_result_name(enum dkimv_result r)
{
	return (unsigned)r < DKIMV_RESULTS ? result_names[r] : "?";
}

int
dkimv_pending(int result)
{
	return result < 0 || result == DKIMV_TEMPERROR || result == DKIMV_SKIPPED;
}

int
dkimv_result_parse(const char *name)
{
	int i;

	for (i = 0; i < DKIMV_RESULTS; i++)
		if (name && strcmp(name, result_names[i]) == 0)
			return i;
	return -1;
}

int
dkimv_aligned(const char *d, const char *from)
{
	size_t dl = strlen(d), fl = strlen(from);

	/* at least two labels: "example" alone would be every domain in it */
	if (!dl || !strchr(d, '.') || d[0] == '.' || d[dl - 1] == '.')
		return 0;
	if (str_casecmp(d, from) == 0)
		return 1;
	return fl > dl + 1 && from[fl - dl - 1] == '.' &&
	       str_casecmp(from + fl - dl, d) == 0;
}

/*
 * A key record as the library will take it.  libopendkim accepts a key
 * only for s= absent, "*" or "email"; RFC 8460 §3 says report keys SHOULD
 * say s=tlsrpt.  Such a record gets its s= tag dropped; any other service
 * list is left for the library to refuse.
 */
static void
admit_tlsrpt(char *rec)
{
	char *p = rec, *tag, *end;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		tag = p;
		end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		if (tag[0] == 's' && (tag[1] == '=' || tag[1] == ' ' || tag[1] == '\t')) {
			char list[128];
			size_t n = (size_t)(end - tag);
			int tlsrpt, email;

			if (n >= sizeof(list))
				return;
			memcpy(list, tag, n);
			list[n] = '\0';
			tlsrpt = strstr(list, "tlsrpt") != NULL;
			email = strstr(list, "email") != NULL || strchr(list, '*');
			if (tlsrpt && !email) {
				if (*end == ';')
					end++;
				memmove(tag, end, strlen(end) + 1);
			}
			return;
		}
		p = end;
	}
}

static struct key_note *
note_for(struct check *c, const char *d, const char *s)
{
	struct key_note *k;

	if (c->n == MAX_NOTES)
		return NULL;
	k = &c->notes[c->n++];
	memset(k, 0, sizeof(*k));
	snprintf(k->domain, sizeof(k->domain), "%s", d);
	snprintf(k->selector, sizeof(k->selector), "%s", s);
	return k;
}

static const struct key_note *
find_note(const struct check *c, const char *d, const char *s)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (str_casecmp(c->notes[i].domain, d) == 0 &&
		    strcmp(c->notes[i].selector, s) == 0)
			return &c->notes[i];
	return NULL;
}

static DKIM_CBSTAT
key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct check *c = dkim_get_user_context(dkim);
	const char *d = (const char *)dkim_sig_getdomain(sig);
	const char *s = (const char *)dkim_sig_getselector(sig);
	struct key_note *k;
	struct dns_txt txt;
	struct mxd_err err;
	enum dns_status st;
	char name[512];

	if (!c || !d || !s)
		return DKIM_CBSTAT_ERROR;
	k = note_for(c, d, s);
	/* RFC 6376 §3.6.2.1 */
	snprintf(name, sizeof(name), "%s._domainkey.%s", s, d);
	mxd_err_clear(&err);
	st = dns_txt(c->v->dns, name, &txt, &err);
	if (st != DNS_OK) {
		if (k && (st == DNS_TEMPFAIL || st == DNS_STOPPED)) {
			k->tempfail = 1;
			snprintf(k->why, sizeof(k->why), "%s", err.text);
		} else if (k) {
			snprintf(k->why, sizeof(k->why), "%s", err.text);
		}
		/* the library knows no per-key temporary failure: a key not
		 * found, and the note says why */
		return DKIM_CBSTAT_NOTFOUND;
	}
	/* RFC 6376 §3.6.2.2: several records make the key unusable */
	if (txt.n != 1) {
		if (k)
			snprintf(k->why, sizeof(k->why), "%s: %zu key records", name,
				 txt.n);
		dns_txt_release(&txt);
		return DKIM_CBSTAT_NOTFOUND;
	}
	if (strlen(txt.records[0]) >= buflen) {
		dns_txt_release(&txt);
		return DKIM_CBSTAT_NOTFOUND;
	}
	memcpy(buf, txt.records[0], strlen(txt.records[0]) + 1);
	admit_tlsrpt((char *)buf);
	dns_txt_release(&txt);
	return DKIM_CBSTAT_CONTINUE;
}

int
dkimv_new(struct dns *dns, struct dkimv **out, struct mxd_err *err)
{
	struct dkimv *v = xcalloc(1, sizeof(*v));

	*out = NULL;
	v->dns = dns;
	if (!(v->lib = dkim_init(NULL, NULL))) {
		free(v);
		return mxd_err_set(err, MXD_E_INTERNAL, "libopendkim: cannot start");
	}
	dkim_set_key_lookup(v->lib, key_lookup);
	v->keys = dkim_keys_new();
	*out = v;
	return 0;
}

void
dkimv_free(struct dkimv *v)
{
	if (!v)
		return;
	if (v->lib)
		dkim_close(v->lib);
	dkim_keys_free(v->keys);
	free(v);
}

void
dkimv_key_stats(struct dkimv *v, uint64_t *decoded, uint64_t *reused)
{
	dkim_keys_stats(v->keys, decoded, reused);
}

/* The domain of the first address of the From field, lower case. */
static void
from_domain(const char *hdr, size_t n, char *out, size_t outn)
{
	const char *p = hdr + 5, *end = hdr + n, *lt, *at = NULL, *q, *e;
	size_t k;

	out[0] = '\0';
	lt = memchr(p, '<', (size_t)(end - p));
	if (lt) {
		e = memchr(lt, '>', (size_t)(end - lt));
		p = lt + 1;
		end = e ? e : end;
	} else {
		/* addr-spec, perhaps a list: the first one */
		e = memchr(p, ',', (size_t)(end - p));
		end = e ? e : end;
	}
	for (q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (!at)
		return;
	at++;
	for (k = 0; at + k < end && k + 1 < outn; k++) {
		char ch = at[k];

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
		    ch == '(' || ch == ';' || ch == '>')
			break;
		out[k] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	out[k] = '\0';
	while (k && out[k - 1] == '.')
		out[--k] = '\0';
}

/* The mail with CRLF line ends; *hend: where its header ends (past the
 * empty line), or the length when there is none. */
static void
to_crlf(const unsigned char *p, size_t n, struct buf *b, size_t *hend)
{
	const unsigned char *q, *nl, *end = p + n;
	size_t seg;

	/* room for a CR every 16 bytes: mail lines are longer, so one
	 * allocation as a rule */
	buf_reserve(b, n + n / 16 + 64);
	*hend = (size_t)-1;
	for (q = p; (nl = memchr(q, '\n', (size_t)(end - q))); q = nl + 1) {
		seg = (size_t)(nl - q);
		buf_add(b, q, seg - (seg && nl[-1] == '\r'));
		buf_add(b, "\r\n", 2);
		if (*hend == (size_t)-1 && b->len >= 4 &&
		    memcmp(b->data + b->len - 4, "\r\n\r\n", 4) == 0)
			*hend = b->len;
		else if (*hend == (size_t)-1 && b->len == 2)
			*hend = 2;	/* an empty header */
	}
	buf_add(b, q, (size_t)(end - q));
	if (*hend == (size_t)-1)
		*hend = b->len;
}

static void
add_detail(struct dkimv_verdict *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
add_detail(struct dkimv_verdict *out, const char *fmt, ...)
{
	size_t l = strlen(out->detail);
	va_list ap;

	if (l + 3 >= sizeof(out->detail))
		return;
	if (l) {
		out->detail[l++] = ';';
		out->detail[l++] = ' ';
		out->detail[l] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(out->detail + l, sizeof(out->detail) - l, fmt, ap);
	va_end(ap);
}

/*
 * Errors that say nothing against the mail, only that it cannot be
 * checked: the signature cannot be read, or its key is missing, revoked,
 * not for mail or unreadable (RFC 8601 permerror).  A signature that
 * verifies wrong, expired, or uses a key too small fails instead.
 */
static int
perm_error(int e)
{
	switch (e) {
	case DKIM_SIGERROR_NOKEY: case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY: case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH: case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING: case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYREVOKED: case DKIM_SIGERROR_KEYDECODE:
	case DKIM_SIGERROR_MISSING_V: case DKIM_SIGERROR_EMPTY_V:
	case DKIM_SIGERROR_VERSION: case DKIM_SIGERROR_DOMAIN:
	case DKIM_SIGERROR_TIMESTAMPS: case DKIM_SIGERROR_INVALID_HC:
	case DKIM_SIGERROR_INVALID_BC: case DKIM_SIGERROR_MISSING_A:
	case DKIM_SIGERROR_INVALID_A: case DKIM_SIGERROR_MISSING_H:
	case DKIM_SIGERROR_INVALID_L: case DKIM_SIGERROR_INVALID_Q:
	case DKIM_SIGERROR_INVALID_QO: case DKIM_SIGERROR_MISSING_D:
	case DKIM_SIGERROR_EMPTY_D: case DKIM_SIGERROR_MISSING_S:
	case DKIM_SIGERROR_EMPTY_S: case DKIM_SIGERROR_MISSING_B:
	case DKIM_SIGERROR_EMPTY_B: case DKIM_SIGERROR_CORRUPT_B:
	case DKIM_SIGERROR_MISSING_BH: case DKIM_SIGERROR_EMPTY_BH:
	case DKIM_SIGERROR_CORRUPT_BH: case DKIM_SIGERROR_EMPTY_H:
	case DKIM_SIGERROR_INVALID_H:
		return 1;
	default:
		return 0;
	}
}

/* Looks at each signature once the library is done with the mail. */
static void
judge(struct check *c, DKIM *d, struct dkimv_verdict *out)
{
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0, i, temp = 0, perm = 0, other = 0;

	if (dkim_getsiglist(d, &sigs, &nsigs) != DKIM_STAT_OK || nsigs == 0) {
		out->result = DKIMV_PERMERROR;
		add_detail(out, "no readable DKIM-Signature");
		return;
	}
	for (i = 0; i < nsigs; i++) {
		DKIM_SIGINFO *s = sigs[i];
		const char *sd = (const char *)dkim_sig_getdomain(s);
		const char *ss = (const char *)dkim_sig_getselector(s);
		const struct key_note *k;
		int e = dkim_sig_geterror(s);

		sd = sd ? sd : "?";
		ss = ss ? ss : "?";
		if ((dkim_sig_getflags(s) & DKIM_SIGFLAG_PASSED) &&
		    dkim_sig_getbh(s) == DKIM_SIGBH_MATCH) {
			if (dkim_sig_gettagvalue(s, 0, tag_l)) {
				/* RFC 8460 §3: MUST NOT use l= */
				add_detail(out, "d=%s: uses l=", sd);
				other++;
			} else if (!dkimv_aligned(sd, out->from)) {
				add_detail(out, "d=%s: not the reporting domain %s", sd,
					   out->from[0] ? out->from : "(no From)");
				other++;
			} else if (out->result != DKIMV_PASS) {
				out->result = DKIMV_PASS;
				snprintf(out->domain, sizeof(out->domain), "%s", sd);
				snprintf(out->selector, sizeof(out->selector), "%s", ss);
			}
			continue;
		}
		k = find_note(c, sd, ss);
		if (k && k->tempfail) {
			add_detail(out, "d=%s s=%s: %s", sd, ss, k->why);
			temp++;
		} else if (k && k->why[0]) {
			/* no key: NXDOMAIN, no TXT, several records */
			add_detail(out, "d=%s s=%s: %s", sd, ss, k->why);
			perm++;
		} else if (dkim_sig_getbh(s) == DKIM_SIGBH_MISMATCH) {
			add_detail(out, "d=%s: the body changed after signing", sd);
			other++;
		} else if (perm_error(e)) {
			add_detail(out, "d=%s s=%s: %s", sd, ss, dkim_sig_geterrorstr(e));
			perm++;
		} else {
			add_detail(out, "d=%s: %s", sd, e > 0 ? dkim_sig_geterrorstr(e)
						      : "signature not verified");
			other++;
		}
	}
	if (out->result == DKIMV_PASS)
		return;
	/* with several signatures: pass, else temperror (ask again), else
	 * fail, else permerror */
	out->result = temp ? DKIMV_TEMPERROR : other ? DKIMV_FAIL
		      : perm ? DKIMV_PERMERROR : DKIMV_FAIL;
}

void
dkimv_check(struct dkimv *v, const void *msg, size_t len,
	    struct dkimv_verdict *out)
{
	struct check c;
	struct buf b;
	DKIM *d;
	DKIM_STAT st;
	const unsigned char *nl;
	size_t hend, i, start;
	int sawsig = 0;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.v = v;
	buf_init(&b, BUF_NOCAP);
	to_crlf(msg, len, &b, &hend);
	d = dkim_verify(v->lib, (const u_char *)"mxdigest", NULL, &st);
	if (!d) {
		out->result = DKIMV_TEMPERROR;
		add_detail(out, "libopendkim: %s", dkim_getresultstr(st));
		buf_release(&b);
		return;
	}
	dkim_set_user_context(d, &c);
	dkim_keys_use(v->keys);
	/* header fields, each with its folded lines, without the last CRLF;
	 * i: the CR of each line end (to_crlf made every LF end a CRLF) */
	for (start = 0, nl = memchr(b.data, '\n', hend); nl;
	     nl = memchr(nl + 1, '\n', hend - (size_t)(nl + 1 - b.data))) {
		i = (size_t)(nl - b.data) - 1;
		if (i + 2 < hend && (b.data[i + 2] == ' ' || b.data[i + 2] == '\t'))
			continue;	/* folding */
		if (i > start) {
			const char *f = (const char *)b.data + start;

			if (str_ncasecmp(f, "from:", 5) == 0 && !out->from[0])
				from_domain(f, i - start, out->from, sizeof(out->from));
			if (str_ncasecmp(f, "dkim-signature:", 15) == 0)
				sawsig = 1;
			st = dkim_header(d, b.data + start, i - start);
			if (st != DKIM_STAT_OK)
				break;
		}
		start = i + 2;
		if (start + 2 <= hend && b.data[start] == '\r' &&
		    b.data[start + 1] == '\n')
			break;	/* the empty line */
	}
	if (!sawsig) {
		out->result = DKIMV_NONE;
		add_detail(out, "no DKIM-Signature");
		goto out;
	}
	st = dkim_eoh(d);
	if (st == DKIM_STAT_OK && hend < b.len)
		st = dkim_body(d, b.data + hend, b.len - hend);
	if (st == DKIM_STAT_OK)
		st = dkim_eom(d, NULL);
	switch (st) {
	case DKIM_STAT_OK:
	case DKIM_STAT_BADSIG:
	case DKIM_STAT_NOKEY:
	case DKIM_STAT_CANTVRFY:
	case DKIM_STAT_REVOKED:
	case DKIM_STAT_KEYFAIL:
		judge(&c, d, out);
		break;
	case DKIM_STAT_NOSIG:
		/* only signatures the library could not read */
		out->result = DKIMV_PERMERROR;
		add_detail(out, "no usable DKIM-Signature (%s)",
			   dkim_geterror(d) ? dkim_geterror(d) : "syntax");
		break;
	case DKIM_STAT_SYNTAX:
		out->result = DKIMV_PERMERROR;
		add_detail(out, "%s", dkim_geterror(d) ? dkim_geterror(d)
						       : "the mail cannot be read");
		break;
	default:
		out->result = DKIMV_TEMPERROR;
		add_detail(out, "libopendkim: %s", dkim_getresultstr(st));
		break;
	}
out:
	dkim_free(d);
	dkim_keys_use(NULL);
	buf_release(&b);
}
