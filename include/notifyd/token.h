/* token.h - for the platforms whose APIs work the same way (DingTalk,
 * WeCom): app access tokens of the "gettoken" kind,
 *
 *   GET <url>?<credentials>  ->  {"errcode":0,"errmsg":"ok",
 *                                 "access_token":"...","expires_in":7200}
 *
 * and answers that carry {"errcode":N,"errmsg":"..."} in an HTTP 200.
 *
 * A type calls the token functions from its prepare hooks (receiver.h):
 * nd_token_key in configure for prepare_key, nd_token_fetch in
 * prepare_start. The engine then keeps one token per key, fetched once at
 * a time. nd_token_answer starts its classify.
 */
#ifndef NOTIFYD_TOKEN_H
#define NOTIFYD_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "notifyd/jsonr.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/url.h"

/* One fetch is given this long. */
#define ND_TOKEN_FETCH_TIMEOUT_NS (10 * ND_NS_PER_S)
/* A token is used until expires_in minus this margin (or minus a quarter
 * of expires_in when that is shorter), so that no request carries a token
 * that expires on the way. */
#define ND_TOKEN_MARGIN_NS (300 * ND_NS_PER_S)
/* expires_in when the answer has none, or one outside 1 s .. 30 days. */
#define ND_TOKEN_DEFAULT_EXPIRES_S 7200

/* The prepare key "<kind>:<scope>:<16 hex digits of SHA-256(secret)>",
 * heap: receivers with the same app share its token, and the secret is in
 * the key only as a hash. */
char *nd_token_key(const char *kind, const char *scope, const char *secret);

/* How long a token with this expires_in (seconds, as answered) is kept:
 * the margin above taken off; the default for an out-of-range value. */
int64_t nd_token_ttl_ns(int64_t expires_s);

/* Starts GET <url>?<params> (the n pairs query-encoded in their order)
 * through the engine and reports to p with nd_prep_done: the access_token
 * with nd_token_ttl_ns(expires_in), or an error starting with "gettoken: "
 * (curl's error, the status, or errcode and errmsg). Neither the URL nor
 * the params appear in an error. */
void nd_token_fetch(struct nd_engine *e, struct nd_prep *p, const char *url,
                    const struct nd_url_param *params, size_t n);

/* The start of a verdict: runs nd_classify_http, then wants HTTP 200 with
 * a JSON body holding an integer "errcode". ND_OK with *doc (the caller
 * frees it) and *errcode set, v untouched beyond nd_classify_http; or
 * ND_ERR with *v final: the HTTP rule's verdict, or FAILED for another
 * 2xx, an unreadable body or one without errcode. */
int nd_token_answer(const struct nd_response *r, struct nd_verdict *v, struct nd_jsonr **doc,
                    int64_t *errcode);
/* v->reason = "errcode N: <errmsg, at most 200 bytes>". */
void nd_token_reason(struct nd_verdict *v, const struct nd_jsonr *doc, int64_t errcode);

#endif
