/*
 * https.c — HTTPS probes with libcurl (see https.h).  RFC 8461 §3.3: the
 * policy host's certificate must be valid for it and chain to a trusted
 * root, HTTP 3xx are not followed, the media type is text/plain.
 * LIBRARY_NOTES: libcurl 7.88's CURLOPT_MAXFILESIZE does nothing when the
 * server does not announce the size, so the write callback enforces
 * max_body itself.
 */
#include "check/https.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/utf8.h"
#include "util/xalloc.h"

struct sink {
	struct buf body;
	size_t max;
	int too_large;
	const volatile int *stop;
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void
global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (s->body.len + len > s->max) {
		s->too_large = 1;
		return 0;	/* a short count ends the transfer */
	}
	if (buf_add(&s->body, p, len) < 0)
		return 0;
	return len;
}

static int
on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct sink *s = arg;

	(void)dt, (void)dn, (void)ut, (void)un;
	return s->stop && *s->stop;	/* non-zero aborts */
}

static void
clean_into(char *out, size_t cap, const char *s)
{
	struct buf b;

	buf_init(&b, cap * 4);
	if (utf8_clean_text(&b, s, strlen(s), 0) == 0 || b.len)
		snprintf(out, cap, "%s", buf_cstr(&b));
	buf_release(&b);
}

int
https_get(const struct https_opts *o, struct https_result *out)
{
	CURL *c;
	CURLcode rc;
	struct sink s;
	struct curl_slist *to = NULL;
	char url[600], pin[400], errbuf[CURL_ERROR_SIZE];
	const char *ct = NULL, *loc = NULL;
	int v6 = strchr(o->addr, ':') != NULL;

	memset(out, 0, sizeof(*out));
	pthread_once(&init_once, global_init);
	memset(&s, 0, sizeof(s));
	buf_init(&s.body, o->max_body + 1);
	s.max = o->max_body;
	s.stop = o->stop;
	snprintf(url, sizeof(url), "https://%s%s", o->host, o->path ? o->path : "/");
	/* CONNECT_TO: host:port of the URL -> the resolver's address and the
	 * probe's port; Host and SNI stay the URL's */
	snprintf(pin, sizeof(pin), "%s:443:%s%s%s:%d", o->host, v6 ? "[" : "",
		 o->addr, v6 ? "]" : "", o->port);
	to = curl_slist_append(NULL, pin);
	if (!(c = curl_easy_init()) || !to) {
		out->fail = HTTPS_PROTOCOL;
		snprintf(out->error, sizeof(out->error), "libcurl: cannot start");
		goto done;
	}
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECT_TO, to);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)o->timeout_ms);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mxdigest/" MXD_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
	/* no cookies, no auth, nothing cached between probes */
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	if (o->handshake_only)
		curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		clean_into(out->content_type, sizeof(out->content_type), ct);
	if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
		clean_into(out->location, sizeof(out->location), loc);
	if (rc == CURLE_OK) {
		out->fail = HTTPS_OK;
	} else {
		switch (rc) {
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
			out->fail = HTTPS_CONNECT;
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_INVALIDCERTSTATUS:
			out->fail = HTTPS_TLS;
			break;
		case CURLE_OPERATION_TIMEDOUT:
			out->fail = HTTPS_TIMEOUT;
			break;
		case CURLE_FILESIZE_EXCEEDED:
			out->fail = HTTPS_TOO_LARGE;
			break;
		case CURLE_WRITE_ERROR:
			out->fail = s.too_large ? HTTPS_TOO_LARGE : HTTPS_PROTOCOL;
			break;
		case CURLE_ABORTED_BY_CALLBACK:
			out->fail = HTTPS_STOPPED;
			break;
		default:
			out->fail = HTTPS_PROTOCOL;
			break;
		}
		if (out->fail == HTTPS_TOO_LARGE)
			snprintf(errbuf, sizeof(errbuf), "more than %zu bytes",
				 o->max_body);
		else if (out->fail == HTTPS_TIMEOUT)
			snprintf(errbuf, sizeof(errbuf), "no complete answer in %.1f s",
				 o->timeout_ms / 1000.0);
		clean_into(out->error, sizeof(out->error),
			   errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	if (!o->handshake_only) {
		buf_addc(&s.body, '\0');
		out->body = (char *)buf_detach(&s.body, &out->body_len);
		if (out->body_len)
			out->body_len--;
	}
done:
	buf_release(&s.body);
	curl_slist_free_all(to);
	if (c)
		curl_easy_cleanup(c);
	return out->fail == HTTPS_OK ? 0 : -1;
}

void
https_result_release(struct https_result *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}
