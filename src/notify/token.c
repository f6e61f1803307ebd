/* token.c - see include/notifyd/token.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/crypto.h"
#include "notifyd/jsonr.h"
#include "notifyd/token.h"
#include "notifyd/util.h"

char *nd_token_key(const char *kind, const char *scope, const char *secret)
{
    unsigned char h[ND_SHA256_LEN];
    char hex[2 * ND_SHA256_LEN + 1];

    if (nd_crypto_sha256(secret, strlen(secret), h, NULL) != ND_OK)
        abort(); /* SHA-256 of memory fails only if mbedtls is broken */
    nd_crypto_hex(h, 8, hex);
    return nd_xasprintf("%s:%s:%s", kind, scope, hex);
}

int64_t nd_token_ttl_ns(int64_t expires_s)
{
    int64_t ttl, margin;

    if (expires_s < 1 || expires_s > 30 * 86400)
        expires_s = ND_TOKEN_DEFAULT_EXPIRES_S;
    ttl = expires_s * ND_NS_PER_S;
    margin = ttl / 4 < ND_TOKEN_MARGIN_NS ? ttl / 4 : ND_TOKEN_MARGIN_NS;
    return ttl - margin;
}

static void on_token(const struct nd_response *r, void *ud)
{
    struct nd_prep *p = ud;
    struct nd_jsonr *doc = NULL;
    char err[ND_ERRLEN], msg[ND_ERRLEN];
    const char *token = NULL, *errmsg = "";
    int64_t code = 0, expires = ND_TOKEN_DEFAULT_EXPIRES_S;
    int rc;

    if (r->curl_code == CURLE_ABORTED_BY_CALLBACK)
        return; /* the engine is being freed, and the prepare entry with it */
    if (r->curl_code != 0) {
        snprintf(msg, sizeof(msg), "gettoken: %s", r->curl_error);
        nd_prep_done(p, NULL, 0, msg);
        return;
    }
    if (r->status != 200) {
        snprintf(msg, sizeof(msg), "gettoken: status %ld", r->status);
        nd_prep_done(p, NULL, 0, msg);
        return;
    }
    if (nd_jsonr_parse(r->body->data ? r->body->data : "", r->body->len, &doc, err) != ND_OK) {
        snprintf(msg, sizeof(msg), "gettoken: unreadable answer: %.180s", err);
        nd_prep_done(p, NULL, 0, msg);
        return;
    }
    /* An answer without errcode counts as 0 when it has a token. */
    rc = nd_jsonr_int(doc, "errcode", &code);
    if (rc != ND_OK && rc != ND_JSONR_EABSENT)
        code = -1;
    nd_jsonr_str(doc, "errmsg", &errmsg);
    if (code != 0 || nd_jsonr_str(doc, "access_token", &token) != ND_OK || !token[0]) {
        snprintf(msg, sizeof(msg), "gettoken: errcode %" PRId64 ": %.200s", code, errmsg);
        nd_prep_done(p, NULL, 0, msg);
        nd_jsonr_free(doc);
        return;
    }
    nd_jsonr_int(doc, "expires_in", &expires);
    nd_prep_done(p, token, nd_token_ttl_ns(expires), NULL);
    nd_jsonr_free(doc);
}

void nd_token_fetch(struct nd_engine *e, struct nd_prep *p, const char *url,
                    const struct nd_url_param *params, size_t n)
{
    struct nd_request req;
    struct nd_buf u, q;
    int rc;

    nd_request_init(&req);
    nd_buf_init(&u, 64 * 1024);
    nd_buf_init(&q, 64 * 1024);
    rc = nd_url_query_build(&q, params, n, 0);
    if (rc == ND_OK)
        rc = nd_url_append_query(&u, url, nd_buf_cstr(&q));
    if (q.data)
        memset(q.data, 0, q.len);
    nd_buf_deinit(&q);
    if (rc != ND_OK) {
        nd_buf_deinit(&u);
        nd_request_deinit(&req);
        nd_prep_done(p, NULL, 0, "gettoken: URL too long");
        return;
    }
    req.url = nd_buf_take(&u, NULL);
    req.method = "GET";
    nd_buf_deinit(&u);
    nd_engine_fetch_take(e, &req, ND_TOKEN_FETCH_TIMEOUT_NS, on_token, p);
}

int nd_token_answer(const struct nd_response *r, struct nd_verdict *v, struct nd_jsonr **doc,
                    int64_t *errcode)
{
    char err[ND_ERRLEN];

    *doc = NULL;
    nd_classify_http(r, v);
    if (r->curl_code != 0 || r->status != 200) {
        /* These platforms answer 200; another 2xx is not a delivery. */
        if (v->kind == ND_VERDICT_DELIVERED) {
            v->kind = ND_VERDICT_FAILED;
            snprintf(v->reason, sizeof(v->reason), "status %ld, want 200", r->status);
        }
        return ND_ERR;
    }
    if (nd_jsonr_parse(r->body->data ? r->body->data : "", r->body->len, doc, err) != ND_OK) {
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "status 200 with an unreadable answer: %.180s", err);
        return ND_ERR;
    }
    if (nd_jsonr_int(*doc, "errcode", errcode) != ND_OK) {
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "status 200 without errcode");
        nd_jsonr_free(*doc);
        *doc = NULL;
        return ND_ERR;
    }
    return ND_OK;
}

void nd_token_reason(struct nd_verdict *v, const struct nd_jsonr *doc, int64_t errcode)
{
    const char *m = "";

    nd_jsonr_str(doc, "errmsg", &m);
    snprintf(v->reason, sizeof(v->reason), "errcode %" PRId64 ": %.200s", errcode, m);
}
