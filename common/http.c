/*
 * http.c - the providers' HTTP transport: one reused libcurl easy handle
 * per cs_http, capped bodies, Retry-After read, errors without secrets
 * (see http.h). What does not touch the network is in http_text.c.
 */
#include "http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include <curl/curl.h>

#include "observe.h"
#include "queue.h"
#include "banned.h"

struct cs_http {
	CURL *curl;
	long timeout_ms;
	char *ca_file;                 /* NULL: system store only */
	char errbuf[CURL_ERROR_SIZE];
	cs_http_response *resp;        /* the answer being received */
	bool over_cap;                 /* it passed the body cap */
	cs_http_guard_fn guard;        /* asked before every request but a read */
	void *guard_ctx;
	const char *label;             /* provider of the requests, for the metrics */
	const cs_http_opts *opts;      /* of the request being sent, or NULL */
	bool refused_addr;             /* its address was refused (opts) */
	atomic_bool in_flight;
	cs_http_pace_fn pace;          /* asked before and after every request */
	void *pace_ctx;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void global_init(void)
{
	/* never cleaned up: other threads may still use curl at exit */
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int cs_http_new(cs_http **out, long timeout_ms, const char *ca_file, cs_err *err)
{
	cs_http *h;

	*out = NULL;
	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return cs_err_set(err, CS_EIO, false, "libcurl init failed: %s",
				  curl_easy_strerror(global_rc));
	h = calloc(1, sizeof(*h));
	if (!h)
		return cs_err_set(err, CS_ENOMEM, false, "out of memory");
	h->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	if (ca_file && *ca_file && !(h->ca_file = strdup(ca_file)))
		goto oom;
	h->curl = curl_easy_init();
	if (!h->curl) {
		cs_http_free(h);
		return cs_err_set(err, CS_EIO, false, "curl_easy_init failed");
	}
	*out = h;
	return 0;
oom:
	cs_http_free(h);
	return cs_err_set(err, CS_ENOMEM, false, "out of memory");
}

void cs_http_free(cs_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h);
}

void cs_http_set_guard(cs_http *h, cs_http_guard_fn fn, void *ctx)
{
	h->guard = fn;
	h->guard_ctx = ctx;
}

void cs_http_set_label(cs_http *h, const char *provider)
{
	if (h)
		h->label = provider;
}

bool cs_http_in_flight(const cs_http *h)
{
	return atomic_load(&h->in_flight);
}

void cs_http_set_pacer(cs_http *h, cs_http_pace_fn fn, void *ctx)
{
	h->pace = fn;
	h->pace_ctx = ctx;
}

int cs_http_pace(cs_http *h, bool start, int retry_after_ms, cs_err *err)
{
	return h->pace ? h->pace(h->pace_ctx, start, retry_after_ms, err) : 0;
}

void cs_http_set_in_flight(cs_http *h, bool on)
{
	atomic_store(&h->in_flight, on);
}

/* ---- one request ------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	cs_http *h = arg;
	size_t n = size * nmemb;

	if (cs_dynbuf_add(&h->resp->body, data, n, NULL)) {
		h->over_cap = true;
		return 0;   /* libcurl stops with CURLE_WRITE_ERROR */
	}
	return n;
}

static void read_retry_after(cs_http *h, cs_http_response *resp)
{
	struct curl_header *hdr = NULL;

	if (curl_easy_header(h->curl, "Retry-After", 0, CURLH_HEADER, -1, &hdr) == CURLHE_OK &&
	    hdr && hdr->value)
		resp->retry_after_ms = cs_http_parse_retry_after(hdr->value, (long long)time(NULL));
}

/* Open the socket only to an address the request's options allow. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	cs_http *h = arg;

	(void)purpose;
	if (h->opts && !h->opts->allow_private && cs_http_addr_private(&a->addr)) {
		h->refused_addr = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static bool is_read(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "PROPFIND") == 0 ||
	       strcmp(method, "REPORT") == 0;
}

static int set_options(cs_http *h, const char *method, const char *url,
		       struct curl_slist *hdrs, const char *body, size_t body_len)
{
	CURLcode rc = CURLE_OK;
	long connect_ms = h->timeout_ms < 10000 ? h->timeout_ms : 10000;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(h->curl, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, h->opts && !h->opts->allow_http ? "https" : "http,https");
	SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
	SET(CURLOPT_OPENSOCKETDATA, h);
	if (h->opts && h->opts->username) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, h->opts->username);
		SET(CURLOPT_PASSWORD, h->opts->password ? h->opts->password : "");
	}
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file)
		SET(CURLOPT_CAINFO, h->ca_file);
	SET(CURLOPT_TIMEOUT_MS, h->timeout_ms);
	SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_USERAGENT, "calsync/1 (Family Hub)");
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, h);
	SET(CURLOPT_HTTPHEADER, hdrs);
	if (strcmp(method, "GET") == 0) {
		SET(CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(method, "POST") != 0)
			SET(CURLOPT_CUSTOMREQUEST, method);
		if (body || strcmp(method, "POST") == 0) {
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
			SET(CURLOPT_POSTFIELDS, body ? body : "");
		}
	}
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

static int transport_error(cs_http *h, CURLcode rc, const char *what, cs_err *err)
{
	const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
	size_t n = strcspn(why, "?\r\n");   /* never a query string */

	switch (rc) {
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_SSL_CACERT_BADFILE:
		return cs_err_set(err, CS_EINVAL, false, "%s: %.*s", what, (int)n, why);
	case CURLE_OPERATION_TIMEDOUT:
		return cs_err_set(err, CS_EIO, true, "%s: timed out after %ld ms (%.*s)",
				  what, h->timeout_ms, (int)n, why);
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return cs_err_set(err, CS_EIO, true, "%s: connection dropped (%.*s)",
				  what, (int)n, why);
	default:
		return cs_err_set(err, CS_EIO, true, "%s: %.*s", what, (int)n, why);
	}
}

int cs_http_request(cs_http *h, const char *method, const char *url,
		    const char *const *headers, const char *body, size_t body_len,
		    cs_http_response *resp, cs_err *err)
{
	return cs_http_request_opt(h, NULL, method, url, headers, body, body_len, resp, err);
}

int cs_http_header(cs_http *h, const char *name, char *buf, size_t n)
{
	struct curl_header *hdr = NULL;
	size_t len;

	buf[0] = '\0';
	if (curl_easy_header(h->curl, name, 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK ||
	    !hdr || !hdr->value)
		return -1;
	/* the last of several of that name */
	if (hdr->amount > 1 &&
	    curl_easy_header(h->curl, name, hdr->amount - 1, CURLH_HEADER, -1, &hdr) != CURLHE_OK)
		return -1;
	len = strlen(hdr->value);
	if (len >= n)
		return -1;
	memcpy(buf, hdr->value, len + 1);
	return 0;
}

int cs_http_request_opt(cs_http *h, const cs_http_opts *opts, const char *method,
			const char *url, const char *const *headers, const char *body,
			size_t body_len, cs_http_response *resp, cs_err *err)
{
	struct curl_slist *hdrs = NULL, *tmp;
	char what[300];
	long long started;
	CURLcode rc;
	int ret = -1;

	cs_dynbuf_reset(&resp->body);
	resp->status = 0;
	resp->retry_after_ms = -1;
	h->errbuf[0] = '\0';
	cs_http_describe(method, url, what, sizeof(what));
	if (!is_read(method) && h->guard && h->guard(h->guard_ctx, err))
		return cs_err_prefix(err, "%s not sent", what);

	/* "Expect:" off: no 100-continue round trip before a body */
	if (!(hdrs = curl_slist_append(NULL, "Expect:")))
		goto oom;
	for (size_t i = 0; headers && headers[i]; i++) {
		if (!(tmp = curl_slist_append(hdrs, headers[i])))
			goto oom;
		hdrs = tmp;
	}
	if (cs_http_pace(h, true, -1, err)) {
		cs_err_prefix(err, "%s not sent", what);
		goto done;
	}
	curl_easy_reset(h->curl);   /* keeps the live connections */
	h->resp = resp;
	h->over_cap = false;
	h->opts = opts;
	h->refused_addr = false;
	if (set_options(h, method, url, hdrs, body, body_len)) {
		cs_err_set(err, CS_EINVAL, false, "%s: libcurl refused an option", what);
		goto done;
	}
	atomic_store(&h->in_flight, true);
	started = cs_now_ms();
	rc = curl_easy_perform(h->curl);
	atomic_store(&h->in_flight, false);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	cs_observe_provider_request(h->label, resp->status, (double)(cs_now_ms() - started) / 1000);
	if (rc == CURLE_WRITE_ERROR && h->over_cap) {
		cs_err_set(err, CS_EPROTO, false, "%s: the answer is larger than %zu bytes",
			   what, resp->body.cap);
		goto done;
	}
	if (rc != CURLE_OK && h->refused_addr) {
		cs_err_set(err, CS_EINVAL, false,
			   "%s: refused to connect to a loopback, link-local or private address", what);
		goto done;
	}
	if (rc == CURLE_UNSUPPORTED_PROTOCOL && opts && !opts->allow_http) {
		cs_err_set(err, CS_EINVAL, false, "%s: only https:// is allowed", what);
		goto done;
	}
	if (rc != CURLE_OK) {
		transport_error(h, rc, what, err);
		goto done;
	}
	read_retry_after(h, resp);
	ret = 0;
	goto done;
oom:
	cs_err_set(err, CS_ENOMEM, false, "out of memory");
done:
	if (h->resp)   /* the request was sent: the pacer learns how it was answered */
		cs_http_pace(h, false, resp->retry_after_ms, NULL);
	h->resp = NULL;
	h->opts = NULL;
	/* the header list may hold "Authorization: Bearer ...": wipe copies */
	for (tmp = hdrs; tmp; tmp = tmp->next)
		memset(tmp->data, 0, strlen(tmp->data));
	curl_slist_free_all(hdrs);
	return ret;
}
