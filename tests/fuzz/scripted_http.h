/*
 * scripted_http.h - the HTTP transport of the fuzz targets: in place of
 * common/http.c (libcurl), cs_http_request() answers from a script that
 * the fuzz input supplies, so that a provider's whole path - its requests,
 * its parsing of the answers, its errors - runs without a network.
 *
 * A script is answers separated by FUZZ_HTTP_SEP. Each answer is a first
 * line "STATUS[ RETRY-AFTER]" (e.g. "200", "429 120",
 * "503 Wed, 21 Oct 2015 07:28:00 GMT"; a line that is not a status means
 * 200 and counts as body) and the body after it. A request past the last
 * answer fails as a dropped connection would (CS_EIO).
 *
 * Ownership: the script is borrowed until the next fuzz_http_script().
 */
#ifndef FUZZ_SCRIPTED_HTTP_H
#define FUZZ_SCRIPTED_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define FUZZ_HTTP_SEP "\n~~~\n"
#define FUZZ_HTTP_NOW 1445412480LL   /* "now" for Retry-After dates */

void fuzz_http_script(const uint8_t *data, size_t len);

/* Requests answered since the script was set. */
size_t fuzz_http_requests(void);

#endif
