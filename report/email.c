/*
 * email.c — the digest as a complete mail, ready for `sendmail -t`:
 * RFC 5322 headers (From, To, Subject, Date, Message-ID), MIME (RFC 2045-
 * 2049) multipart/mixed holding a multipart/alternative of the text digest
 * and its HTML version, and the XLSX workbook attached: the text, HTML and
 * workbook writers over one view, so the three parts say the same.
 *
 *   - Header values that are not ASCII are written as RFC 2047 encoded
 *     words (UTF-8, "B" encoding), each at most 75 characters, never
 *     splitting a character; long ASCII values are folded at spaces.
 *   - Bodies are quoted-printable (RFC 2045 §6.7: lines at most 76
 *     characters, soft breaks "=") and the workbook base64 (76 per line),
 *     so no line comes near RFC 5322's 998-character limit and the message
 *     is 7-bit clean.  A line that starts with "." or "From " has that
 *     character encoded, so neither sendmail's end-of-input dot nor an mbox
 *     "From " escape can touch it.
 *   - Boundaries contain "=_", which neither encoding can produce.
 *   - Lines end in LF, as sendmail(1) and other local submission programs
 *     read them; the MTA sends CRLF on the wire.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report/report_p.h"
#include "report/view.h"
#include "util/strutil.h"
#include "util/timeutil.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define HEADER_FOLD 78
#define QP_LINE 76
#define B64_LINE 76
#define EW_MAX 75		/* RFC 2047 §2: an encoded word's length */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
b64_block(const unsigned char *in, size_t n, char out[4])
{
	unsigned v = (unsigned)in[0] << 16 | (n > 1 ? (unsigned)in[1] << 8 : 0) |
		     (n > 2 ? in[2] : 0);

	out[0] = b64[v >> 18 & 63];
	out[1] = b64[v >> 12 & 63];
	out[2] = n > 1 ? b64[v >> 6 & 63] : '=';
	out[3] = n > 2 ? b64[v & 63] : '=';
}

static int
is_ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/*
 * Writes `name: value` folded.  ASCII values are folded at spaces;
 * anything else becomes a run of encoded words separated by folding white
 * space.  `used` is the column after "Name: ".
 */
static void
header_text(FILE *f, const char *name, const char *value)
{
	size_t col = strlen(name) + 2;
	struct buf clean;
	const char *v;

	buf_init(&clean, BUF_NOCAP);
	report_clean(&clean, value);	/* no CR, LF or other controls */
	v = buf_cstr(&clean);
	fprintf(f, "%s: ", name);
	if (is_ascii_printable(v) && !strstr(v, "=?")) {
		while (*v) {
			const char *sp = strchr(v, ' ');
			size_t word = sp ? (size_t)(sp - v) : strlen(v);

			if (col + word > HEADER_FOLD && col > strlen(name) + 2) {
				fputs("\n ", f);
				col = 1;
			}
			fwrite(v, 1, word, f);
			col += word;
			v += word;
			while (*v == ' ') {
				if (col + 1 < HEADER_FOLD) {
					fputc(' ', f);
					col++;
				}
				v++;
			}
		}
	} else {
		const unsigned char *p = (const unsigned char *)v;
		size_t n = strlen(v), i = 0;
		/* "=?UTF-8?B?" + "?=" is 12; 4 characters per 3 bytes */
		size_t max_bytes = (EW_MAX - 12) / 4 * 3;

		while (i < n) {
			size_t take = 0, k, room, lead = i ? 1 : 0;
			uint32_t cp;
			char quad[4];

			/* a word must fit the line with its separator; else fold */
			if (col + lead + 12 + 8 > HEADER_FOLD) {
				fputs("\n", f);
				col = 0;
				lead = 1;
			}
			room = (HEADER_FOLD - col - lead - 12) / 4 * 3;
			if (room > max_bytes)
				room = max_bytes;
			while (i + take < n) {
				k = utf8_decode(p + i + take, n - i - take, &cp);
				if (!k)
					k = 1;
				if (take + k > room)
					break;
				take += k;
			}
			if (!take)	/* cannot happen with room >= 6 */
				take = 1;
			if (lead)
				fputc(' ', f);
			fputs("=?UTF-8?B?", f);
			for (k = 0; k < take; k += 3) {
				b64_block(p + i + k, take - k > 3 ? 3 : take - k, quad);
				fwrite(quad, 1, 4, f);
			}
			fputs("?=", f);
			col += lead + 12 + (take + 2) / 3 * 4;
			i += take;
		}
	}
	fputc('\n', f);
	buf_release(&clean);
}

/*
 * An address list as given ("a@example.org, Ops <ops@example.org>"): each
 * display name that is not ASCII is encoded; the list is folded after
 * commas.
 */
/* The next address of a comma-separated list; commas inside a quoted
 * display name ("Müller, Zoë" <z@example.org>) do not split. */
static char *
next_address(char **cursor)
{
	char *start = *cursor, *p;
	int quoted = 0;

	if (!start)
		return NULL;
	for (p = start; *p; p++) {
		if (*p == '"' && (p == start || p[-1] != '\\'))
			quoted = !quoted;
		else if (*p == ',' && !quoted)
			break;
	}
	*cursor = *p ? p + 1 : NULL;
	*p = '\0';
	return start;
}

static void
header_addresses(FILE *f, const char *name, const char *list)
{
	char *copy = xstrdup(list), *cursor = copy, *tok, **pieces = NULL;
	size_t col = strlen(name) + 2, n = 0, cap = 0, i, need;

	while ((tok = next_address(&cursor))) {
		char *addr = str_trim(tok), *lt = strrchr(addr, '<');

		if (!*addr)
			continue;
		pieces = xgrow(pieces, &cap, n + 1, sizeof(*pieces));
		if (lt && lt > addr && !is_ascii_printable(addr)) {
			/* an encoded display name, then the angle address */
			FILE *m;
			char *enc = NULL, *nm;
			size_t len;

			*lt = '\0';
			nm = str_trim(addr);
			if (*nm == '"' && strlen(nm) > 1 && nm[strlen(nm) - 1] == '"') {
				nm[strlen(nm) - 1] = '\0';
				nm++;
			}
			m = open_memstream(&enc, &len);
			header_text(m, "X", nm);
			fclose(m);
			/* header_text wrote "X: words\n": keep the words */
			enc[len - 1] = '\0';
			pieces[n++] = xasprintf("%s <%s", enc + 3, lt + 1);
			free(enc);
		} else {
			pieces[n++] = xstrdup(addr);
		}
	}
	fprintf(f, "%s: ", name);
	for (i = 0; i < n; i++) {
		/* the piece and its comma must fit the line */
		need = strlen(pieces[i]) + (i + 1 < n ? 1 : 0);
		if (i) {
			if (col + 1 + need > HEADER_FOLD) {
				fputs("\n", f);
				col = 0;
			}
			fputc(' ', f);
			col++;
		}
		fputs(pieces[i], f);
		if (i + 1 < n)
			fputc(',', f);
		col += need;
		free(pieces[i]);
	}
	fputc('\n', f);
	free(pieces);
	free(copy);
}

/* Quoted-printable (RFC 2045 §6.7) of text whose lines end in LF. */
static void
qp_write(FILE *f, const unsigned char *p, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned c = p[i];
		char enc[4];
		size_t w;
		int at_eol = i + 1 == n || p[i + 1] == '\n';

		if (c == '\n') {
			fputc('\n', f);
			col = 0;
			continue;
		}
		if (c == '\r' && i + 1 < n && p[i + 1] == '\n')
			continue;
		if ((c >= 33 && c <= 126 && c != '=' &&
		     !(col == 0 && c == '.') &&
		     !(col == 0 && c == 'F' && n - i >= 5 &&
		       memcmp(p + i, "From ", 5) == 0)) ||
		    ((c == ' ' || c == '\t') && !at_eol)) {
			enc[0] = (char)c;
			enc[1] = '\0';
			w = 1;
		} else {
			snprintf(enc, sizeof(enc), "=%02X", c);
			w = 3;
		}
		/* keep room for the soft break's "=" */
		if (col + w > QP_LINE - 1 && !(at_eol && col + w <= QP_LINE)) {
			fputs("=\n", f);
			col = 0;
			if (w == 1 && (c == '.' || c == 'F')) {
				/* the character now starts a line */
				snprintf(enc, sizeof(enc), "=%02X", c);
				w = 3;
			}
		}
		fputs(enc, f);
		col += w;
	}
	if (col)
		fputc('\n', f);
}

static int
b64_file(FILE *f, const char *path, struct mxd_err *err)
{
	FILE *in = fopen(path, "rb");
	unsigned char buf[B64_LINE / 4 * 3];
	char quad[4];
	size_t n, k;

	if (!in)
		return mxd_err_set(err, MXD_E_IO, "\"%s\": %s", path, strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		for (k = 0; k < n; k += 3) {
			b64_block(buf + k, n - k > 3 ? 3 : n - k, quad);
			fwrite(quad, 1, 4, f);
		}
		fputc('\n', f);
	}
	if (ferror(in)) {
		fclose(in);
		return mxd_err_set(err, MXD_E_IO, "\"%s\": cannot read", path);
	}
	fclose(in);
	return 0;
}

static void
random_hex(char *out, size_t bytes)
{
	unsigned char r[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	size_t i;

	if (bytes > sizeof(r))
		bytes = sizeof(r);
	if (fd < 0 || read(fd, r, bytes) != (ssize_t)bytes) {
		unsigned long v = (unsigned long)getpid() * 2654435761u ^
				  (unsigned long)time(NULL) ^ (unsigned long)clock();

		for (i = 0; i < bytes; i++)
			r[i] = (unsigned char)(v >> (8 * (i % 8)));
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < bytes; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* RFC 5322 §3.3 date-time, in UTC. */
static void
rfc5322_date(int64_t t, char out[48])
{
	static const char *const wd[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue",
					 "Wed"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May",
					  "Jun", "Jul", "Aug", "Sep", "Oct",
					  "Nov", "Dec"};
	int64_t days = time_day_floor(t) / DAY_SECS, rem = t - days * DAY_SECS, y;
	unsigned m, d;

	time_civil_from_days(days, &y, &m, &d);
	snprintf(out, 48, "%s, %u %s %lld %02d:%02d:%02d +0000",
		 wd[((days % 7) + 7) % 7], d, mon[m - 1], (long long)y,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

static int
has_controls(const char *s)
{
	return s && utf8_has_controls(s, strlen(s));
}

/* Writes one part into memory. */
static int
write_mem(report_write_fn *fn, const struct view *v,
	  const struct report_opts *o, char **out, size_t *len,
	  struct mxd_err *err)
{
	FILE *m = open_memstream(out, len);
	int rc;

	if (!m)
		return mxd_err_set(err, MXD_E_IO, "out of memory");
	rc = fn(v, o, m, err);
	if (fclose(m) != 0 && rc == 0)
		rc = mxd_err_set(err, MXD_E_IO, "cannot render the mail");
	return rc;
}

int
report_write_email(const struct view *v, const struct report_opts *o,
		   FILE *out, struct mxd_err *err)
{
	struct report_opts po = *o;
	char *text = NULL, *html = NULL, *xlsx = NULL, *from = NULL;
	size_t tlen = 0, hlen = 0;
	char date[48], id[33], day[16];
	const char *host = o->hostname && *o->hostname ? o->hostname : "localhost";
	int rc = -1;

	if (!o->mail_to || !*o->mail_to)
		return mxd_err_set(err, MXD_E_USAGE, "the mail needs a recipient "
				   "(--mail-to)");
	if (has_controls(o->mail_to) || has_controls(o->mail_from) ||
	    has_controls(o->hostname))
		return mxd_err_set(err, MXD_E_USAGE, "a mail address holds a "
				   "control character or invalid UTF-8");
	po.color = 0;
	if (write_mem(report_write_text, v, &po, &text, &tlen, err) < 0 ||
	    write_mem(report_write_html, v, &po, &html, &hlen, err) < 0)
		goto out;
	if (!(xlsx = report_temp_file(".xlsx", err)) ||
	    report_xlsx_file(v, o, xlsx, err) < 0)
		goto out;

	from = o->mail_from && *o->mail_from ? xstrdup(o->mail_from)
					     : xasprintf("mxdigest@%s", host);
	rfc5322_date(o->generated, date);
	random_hex(id, 16);
	/* the attachment is named after the window's first day */
	time_format_date(v->tables[VIEW_T_WINDOW].rows[0].cells[0].v.t, day);

	header_addresses(out, "From", from);
	header_addresses(out, "To", o->mail_to);
	header_text(out, "Subject", o->subject ? o->subject : v->subject);
	fprintf(out, "Date: %s\n", date);
	fprintf(out, "Message-ID: <mxdigest.%s@%s>\n", id, host);
	fputs("MIME-Version: 1.0\n"
	      "Auto-Submitted: auto-generated\n", out);
	fprintf(out, "Content-Type: multipart/mixed;\n boundary=\"=_mxd_%s_m\"\n\n",
		id);
	fputs("This is a MIME message: the TLS-RPT digest as text and HTML, "
	      "with a workbook.\n", out);
	fprintf(out, "\n--=_mxd_%s_m\n", id);
	fprintf(out, "Content-Type: multipart/alternative;\n boundary=\"=_mxd_%s_a\"\n",
		id);
	fprintf(out, "\n--=_mxd_%s_a\n", id);
	fputs("Content-Type: text/plain; charset=utf-8\n"
	      "Content-Transfer-Encoding: quoted-printable\n\n", out);
	qp_write(out, (const unsigned char *)text, tlen);
	fprintf(out, "\n--=_mxd_%s_a\n", id);
	fputs("Content-Type: text/html; charset=utf-8\n"
	      "Content-Transfer-Encoding: quoted-printable\n\n", out);
	qp_write(out, (const unsigned char *)html, hlen);
	fprintf(out, "\n--=_mxd_%s_a--\n", id);
	fprintf(out, "\n--=_mxd_%s_m\n", id);
	fprintf(out, "Content-Type:\n application/vnd.openxmlformats-officedocument."
		"spreadsheetml.sheet;\n name=\"tlsrpt-digest-%s.xlsx\"\n"
		"Content-Disposition: attachment;\n filename=\"tlsrpt-digest-%s.xlsx\"\n"
		"Content-Transfer-Encoding: base64\n\n", day, day);
	if (b64_file(out, xlsx, err) < 0)
		goto out;
	fprintf(out, "\n--=_mxd_%s_m--\n", id);
	if (ferror(out)) {
		mxd_err_set(err, MXD_E_IO, "cannot write the mail");
		goto out;
	}
	rc = 0;
out:
	if (xlsx) {
		unlink(xlsx);
		free(xlsx);
	}
	free(text);
	free(html);
	free(from);
	return rc;
}
