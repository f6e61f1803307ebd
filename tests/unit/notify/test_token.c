/* test_token.c - the gettoken helpers shared by DingTalk and WeCom: the
 * prepare key, how long a token is kept, and the start of a verdict on an
 * {"errcode":..} answer. The fetch itself runs against stand-ins in the
 * integration tests (test_dingtalk.py, test_wechat.py). */
#include <stdlib.h>
#include <string.h>

#include "notifyd/jsonr.h"
#include "notifyd/token.h"
#include "notifyd/util.h"
#include "tap.h"

#define S ND_NS_PER_S

static void test_key(void)
{
    char *k = nd_token_key("kind", "scope:x", "s");

    /* python3: hashlib.sha256(b"s").hexdigest()[:16] */
    is_str(k, "kind:scope:x:043a718774c572bd", "key: kind, scope, 16 hex digits of the hash");
    free(k);
    k = nd_token_key("kind", "scope:x", "t");
    ok(strcmp(k, "kind:scope:x:043a718774c572bd") != 0, "another secret, another key");
    free(k);
}

static void test_ttl(void)
{
    is_int(nd_token_ttl_ns(7200), 6900 * S, "7200 s: kept 5 minutes less");
    is_int(nd_token_ttl_ns(2), 3 * S / 2, "2 s: a quarter less (shorter than 5 minutes)");
    is_int(nd_token_ttl_ns(1200), 900 * S, "1200 s: a quarter = 5 minutes");
    is_int(nd_token_ttl_ns(0), 6900 * S, "0: the default 7200 s");
    is_int(nd_token_ttl_ns(-5), 6900 * S, "negative: the default");
    is_int(nd_token_ttl_ns(INT64_MAX), 6900 * S, "huge: the default, no overflow");
    is_int(nd_token_ttl_ns(30 * 86400), 30 * 86400 * S - 300 * S, "30 days: accepted");
}

static int answer(long status, int curl_code, const char *body, struct nd_verdict *v, int64_t *code)
{
    struct nd_buf b, hdr;
    struct nd_response r;
    struct nd_jsonr *doc = NULL;
    int rc;

    nd_buf_init(&b, ND_RESPONSE_BODY_MAX);
    nd_buf_init(&hdr, 1024);
    nd_buf_adds(&b, body);
    memset(&r, 0, sizeof(r));
    r.curl_code = curl_code;
    r.curl_error = curl_code ? "Connection refused" : "";
    r.status = status;
    r.body = &b;
    r.headers = &hdr;
    memset(v, 0, sizeof(*v));
    v->delay_ns = -1;
    *code = 12345;
    rc = nd_token_answer(&r, v, &doc, code);
    if (rc == ND_OK) {
        ok(doc != NULL, "ND_OK with a document");
        nd_token_reason(v, doc, *code);
        nd_jsonr_free(doc);
    } else {
        ok(doc == NULL, "an error leaves no document");
    }
    nd_buf_deinit(&b);
    nd_buf_deinit(&hdr);
    return rc;
}

static void test_answer(void)
{
    struct nd_verdict v;
    int64_t code;

    is_int(answer(200, 0, "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}", &v, &code),
           ND_OK, "200 with errcode: ok");
    is_int(code, 45009, "the errcode");
    is_str(v.reason, "errcode 45009: api freq out of limit", "the reason");
    is_int(answer(200, 0, "{\"errcode\":0}", &v, &code), ND_OK, "errcode 0 without errmsg");
    is_int(code, 0, "errcode 0");
    is_str(v.reason, "errcode 0: ", "no errmsg: empty");
    is_int(answer(200, 0, "{\"errcode\":\"0\"}", &v, &code), ND_ERR, "errcode a string: error");
    is_int(v.kind, ND_VERDICT_FAILED, "  failed");
    has_str(v.reason, "without errcode", "  reason");
    is_int(answer(200, 0, "oops", &v, &code), ND_ERR, "not JSON: error");
    is_int(v.kind, ND_VERDICT_FAILED, "  failed");
    has_str(v.reason, "unreadable answer", "  reason");
    is_int(answer(201, 0, "{\"errcode\":0}", &v, &code), ND_ERR, "201: error");
    is_int(v.kind, ND_VERDICT_FAILED, "  failed");
    is_str(v.reason, "status 201, want 200", "  reason");
    is_int(answer(503, 0, "", &v, &code), ND_ERR, "503: error");
    is_int(v.kind, ND_VERDICT_RETRY, "  retried (the HTTP rule)");
    is_int(answer(0, 7, "", &v, &code), ND_ERR, "curl error: error");
    is_int(v.kind, ND_VERDICT_RETRY, "  retried");
    is_int(answer(404, 0, "{\"errcode\":0}", &v, &code), ND_ERR, "404: error");
    is_int(v.kind, ND_VERDICT_FAILED, "  failed");
    is_int(code, 12345, "errcode untouched on error");
}

int main(void)
{
    test_key();
    test_ttl();
    test_answer();
    return done_testing();
}
