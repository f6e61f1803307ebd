/* url.h - percent-encoding and query strings for receivers' URLs and
 * signed requests. Which function for what:
 *
 *   nd_url_encode        RFC 3986 section 2: every byte but the unreserved
 *                        ALPHA DIGIT '-' '.' '_' '~' becomes %XX (uppercase
 *                        hex), space as %20. This is the "percentEncode" of
 *                        Aliyun's RPC signature (Java's URLEncoder with '+'
 *                        -> %20, '*' -> %2A, %7E -> '~' gives the same) and
 *                        the UriEncode of AWS Signature Version 4 for query
 *                        names and values.
 *   nd_url_query_escape  Go's url.QueryEscape: as above, but space as '+'
 *                        (form encoding), which is what Go clients such as
 *                        Notification Manager put in query strings, and what
 *                        DingTalk's and others' signature examples expect.
 *   nd_url_query_build   "k1=v1&k2=v2" from pairs, in their order or sorted
 *                        by key like Go's url.Values.Encode().
 *   nd_url_append_query  adds such a query to a URL that may already have one.
 *
 * Input is bytes (UTF-8 is encoded byte by byte, as Go and RFC 3986 do).
 * Output is appended to a bounded nd_buf: ND_ETOOBIG at its limit, with the
 * buffer left as it was.
 */
#ifndef NOTIFYD_URL_H
#define NOTIFYD_URL_H

#include <stddef.h>

#include "notifyd/buf.h"

enum nd_url_flags {
    ND_URL_SORT = 1,    /* sort pairs by key (bytewise, stable: equal keys keep their order) */
    ND_URL_RFC3986 = 2, /* encode with nd_url_encode (space %20) instead of '+' */
};

struct nd_url_param {
    const char *key;
    const char *value; /* NULL is written like "" ("k=") */
};

int nd_url_encode(struct nd_buf *b, const char *s, size_t n);
int nd_url_query_escape(struct nd_buf *b, const char *s, size_t n);
/* Appends the n pairs joined by '&', each as key=value, both encoded as
 * flags say; n == 0 appends nothing. */
int nd_url_query_build(struct nd_buf *b, const struct nd_url_param *p, size_t n, unsigned flags);
/* Appends url with query added: after '?' when url has no query, after
 * '&' when it has one (nothing when it ends in '?' or '&'), before a
 * '#fragment'. An empty query appends url unchanged. */
int nd_url_append_query(struct nd_buf *b, const char *url, const char *query);

#endif
