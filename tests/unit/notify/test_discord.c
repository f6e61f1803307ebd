/* test_discord.c - the Discord receiver's verdicts on Discord's answers
 * (https://discord.com/developers/docs/topics/rate-limits and
 * .../topics/opcodes-and-status-codes#json), without the network. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/config.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "tap.h"

static const char ini[] = "[receiver.dc]\n"
                          "type = discord\n"
                          "webhook = http://127.0.0.1:1/api/webhooks/1/secret-token\n";

static void verdict(void *state, long status, const char *hdrs, const char *body,
                    struct nd_verdict *v)
{
    struct nd_buf b, hdr;
    struct nd_response r;

    nd_buf_init(&b, ND_RESPONSE_BODY_MAX);
    nd_buf_init(&hdr, 1024);
    nd_buf_adds(&b, body);
    nd_buf_adds(&hdr, hdrs);
    memset(&r, 0, sizeof(r));
    r.curl_error = "";
    r.status = status;
    r.body = &b;
    r.headers = &hdr;
    memset(v, 0, sizeof(*v));
    v->delay_ns = -1;
    nd_receiver_type_discord.classify(state, &r, v);
    nd_buf_deinit(&b);
    nd_buf_deinit(&hdr);
}

int main(void)
{
    const struct nd_receiver_type *t = &nd_receiver_type_discord;
    struct nd_template_set *set = nd_template_set_new();
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    void *dc = NULL;
    struct nd_verdict v;
    char err[ND_ERRLEN];

    ok(nd_receiver_type_find("discord") == t, "type registered as discord");
    ok(nd_template_set_add_defaults(set, err) == ND_OK, "template set");
    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(ini, "d.ini", &c, &errs), ND_OK, "config loads");
    if (c)
        is_int(t->configure(&c->receivers[0], set, &dc, &errs), ND_OK, "configured");
    if (!dc)
        goto out;

    verdict(dc, 204, "", "", &v);
    is_int(v.kind, ND_VERDICT_DELIVERED, "204: delivered");
    verdict(dc, 200, "", "{\"id\":\"1\"}", &v);
    is_int(v.kind, ND_VERDICT_DELIVERED, "200 (?wait=true): delivered");
    verdict(dc, 202, "", "", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "202: not a posted message, failed");
    verdict(dc, 429, "Retry-After: 2\r\n",
            "{\"message\":\"You are being rate limited.\",\"retry_after\":0.375,\"global\":false}",
            &v);
    is_int(v.kind, ND_VERDICT_RETRY, "429: retry");
    is_int(v.delay_ns, 375 * ND_NS_PER_MS, "429: after the body's fractional retry_after");
    verdict(dc, 429, "Retry-After: 3\r\n", "", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "429 without a body: retry");
    is_int(v.delay_ns, 3 * ND_NS_PER_S, "429 without a body: after Retry-After");
    verdict(dc, 429, "", "{\"retry_after\":1e300}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.delay_ns == 3600 * ND_NS_PER_S,
       "429 with a huge retry_after: capped at an hour");
    verdict(dc, 404, "", "{\"message\":\"Unknown Webhook\",\"code\":10015}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "404: failed");
    has_str(v.reason, "status 404: code 10015: Unknown Webhook", "404: code and message");
    verdict(dc, 400, "", "{\"message\":\"Invalid Form Body\",\"code\":50035}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "400: failed");
    has_str(v.reason, "code 50035: Invalid Form Body", "400: code and message");
    ok(strstr(v.reason, "secret-token") == NULL, "the token is not in the reason");
    verdict(dc, 503, "", "", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "503: retry (generic HTTP rule)");
out:
    if (dc)
        t->free_state(dc);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
    nd_template_set_free(set);
    return done_testing();
}
