/* test_dingtalk.c - the DingTalk receiver without the network: the robot
 * signature against vectors computed independently (Python's hmac and
 * base64), the verdicts on DingTalk's answers, and the shared throttle. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/config.h"
#include "notifyd/dingtalk.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "tap.h"

#define S ND_NS_PER_S

static void test_sign(void)
{
    /* python3: base64.b64encode(hmac.new(s, b"%d\n%s" % (ts, s), sha256).digest()) */
    static const struct {
        const char *secret;
        int64_t ts;
        const char *want;
    } v[] = {
        {"SEC0123456789abcdef", INT64_C(1577836800000),
         "VIkrYXpqM66nY2agvTap17lAqEfAZw77OqD62+Mh1G0="},
        {"this is a secret", INT64_C(1700000000123),
         "rGmG8nr3OK9Ji3MdykCXuiHqcjDT1hYly5eMoBVBMZg="},
    };
    size_t i;

    for (i = 0; i < ND_ARRAY_LEN(v); i++) {
        struct nd_buf b;
        char err[ND_ERRLEN] = "";
        nd_buf_init(&b, 1024);
        is_int(nd_dingtalk_sign(v[i].secret, v[i].ts, &b, err), ND_OK, "sign %zu: ok", i);
        is_str(nd_buf_cstr(&b), v[i].want, "sign %zu: python's hmac vector", i);
        nd_buf_deinit(&b);
    }
}

static const char ini[] = "[receiver.bot]\n"
                          "type = dingtalk\n"
                          "webhook = http://127.0.0.1:1/robot/send?access_token=x\n"
                          "throttle = 3/1s\n"
                          "[receiver.bot2]\n"
                          "type = dingtalk\n"
                          "webhook = http://127.0.0.1:1/robot/send?access_token=x\n"
                          "rate_limit_delay = 2500ms\n"
                          "[receiver.conv]\n"
                          "type = dingtalk\n"
                          "chat_ids = c1\n"
                          "app_key = k\n"
                          "app_secret = s\n";

static struct nd_receiver_config *find_rc(struct nd_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nreceivers; i++)
        if (strcmp(c->receivers[i].name, name) == 0)
            return &c->receivers[i];
    return NULL;
}

static void verdict(void *state, long status, const char *body, struct nd_verdict *v)
{
    struct nd_buf b, hdr;
    struct nd_response r;

    nd_buf_init(&b, ND_RESPONSE_BODY_MAX);
    nd_buf_init(&hdr, 1024);
    nd_buf_adds(&b, body);
    memset(&r, 0, sizeof(r));
    r.curl_error = "";
    r.status = status;
    r.body = &b;
    r.headers = &hdr;
    memset(v, 0, sizeof(*v));
    v->delay_ns = -1;
    nd_receiver_type_dingtalk.classify(state, &r, v);
    nd_buf_deinit(&b);
    nd_buf_deinit(&hdr);
}

static void test_type(void)
{
    const struct nd_receiver_type *t = &nd_receiver_type_dingtalk;
    struct nd_template_set *set = nd_template_set_new();
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    void *bot = NULL, *bot2 = NULL, *conv = NULL;
    struct nd_verdict v;
    char err[ND_ERRLEN];

    ok(nd_receiver_type_find("dingtalk") == t, "type registered as dingtalk");
    ok(nd_template_set_add_defaults(set, err) == ND_OK, "template set");
    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(ini, "d.ini", &c, &errs), ND_OK, "config loads");
    if (!c)
        return;
    is_int(t->configure(find_rc(c, "bot"), set, &bot, &errs), ND_OK, "chatbot configured");
    is_int(t->configure(find_rc(c, "bot2"), set, &bot2, &errs), ND_OK, "chatbot 2 configured");
    is_int(t->configure(find_rc(c, "conv"), set, &conv, &errs), ND_OK, "conversation configured");
    is_int(errs.n, 0, "no config errors");
    if (!bot || !bot2 || !conv)
        goto out;

    ok(t->prepare_key(bot) == NULL, "chatbot: no token");
    /* python3: hashlib.sha256(b"s").hexdigest()[:16] */
    is_str(t->prepare_key(conv), "dingtalk:k:043a718774c572bd",
           "conversation: a token per app key, the secret only as a hash");
    verdict(bot, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", &v);
    is_int(v.kind, ND_VERDICT_DELIVERED, "200 + errcode 0: delivered");
    verdict(bot, 200, "{\"errcode\":0,\"status\":1}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "errcode 0 with status 1: failed");
    verdict(bot, 200, "{\"errcode\":310000,\"errmsg\":\"sign not match\"}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "310000: failed");
    has_str(v.reason, "errcode 310000: sign not match", "310000: code and errmsg in reason");
    verdict(bot, 200, "{\"errcode\":130101,\"errmsg\":\"send too fast\"}", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "130101: retry");
    is_int(v.delay_ns, INT64_C(60000000000), "130101: after rate_limit_delay's default, 1m");
    verdict(bot2, 200, "{\"errcode\":130101,\"errmsg\":\"send too fast\"}", &v);
    is_int(v.delay_ns, INT64_C(2500000000), "130101: after rate_limit_delay as configured");
    verdict(bot, 200, "{\"errcode\":42001,\"errmsg\":\"expired\"}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "42001 on a chatbot (its token is static): failed");
    verdict(conv, 200, "{\"errcode\":42001,\"errmsg\":\"expired\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.reprepare && v.delay_ns == 0,
       "42001 on a conversation: new token, resend at once");
    verdict(conv, 200, "{\"errcode\":40014,\"errmsg\":\"invalid\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.reprepare, "40014 on a conversation: new token");
    verdict(bot, 200, "not json", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "unreadable answer: failed");
    verdict(bot, 204, "", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "204: not 200, failed");
    verdict(bot, 503, "", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "503: retry (generic HTTP rule)");

    /* 3/1s shared by both chatbots (same webhook URL). */
    is_int(t->admit(bot, 10 * S), 0, "admit 1");
    is_int(t->admit(bot2, 10 * S), 0, "admit 2 (other receiver, same webhook)");
    is_int(t->admit(bot, 10 * S + S / 2), 0, "admit 3");
    is_int(t->admit(bot2, 10 * S + S / 2), S / 2, "4th within 1 s waits 0.5 s (shared window)");
    is_int(t->admit(bot, 11 * S), 0, "1 s after the first: admitted");
    is_int(t->admit(bot, 11 * S), 0, "and 1 s after the second");
    is_int(t->admit(bot, 11 * S), S / 2, "then the window is full again until 11.5 s");
    is_int(t->admit(conv, 11 * S), 0, "conversation: its own window");
out:
    t->free_state(bot);
    t->free_state(bot2);
    t->free_state(conv);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
    nd_template_set_free(set);
}

int main(void)
{
    test_sign();
    test_type();
    return done_testing();
}
