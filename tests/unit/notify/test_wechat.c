/* test_wechat.c - the WeCom receiver without the network: config errors
 * (each naming file:line:key), the token's prepare key, the verdicts on
 * WeCom's answers, the recipient batches (lanes) and the request bodies. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/config.h"
#include "notifyd/jsonr.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "helpers.h"
#include "tap.h"

static struct nd_receiver_config *find_rc(struct nd_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nreceivers; i++)
        if (strcmp(c->receivers[i].name, name) == 0)
            return &c->receivers[i];
    return NULL;
}

static bool has_error(const struct nd_config_errors *errs, const char *want)
{
    size_t i;

    for (i = 0; i < errs->n; i++)
        if (strstr(errs->msgs[i], want))
            return true;
    return false;
}

/* Configures every receiver of `ini` (file name w.ini); returns the errors. */
static void configure_all(const char *ini, struct nd_config_errors *errs)
{
    const struct nd_receiver_type *t = &nd_receiver_type_wechat;
    struct nd_template_set *set = nd_template_set_new();
    struct nd_config *c = NULL;
    char err[ND_ERRLEN];
    size_t i;

    if (nd_template_set_add_defaults(set, err) != ND_OK)
        abort();
    nd_config_errors_init(errs);
    if (nd_config_load_string(ini, "w.ini", &c, errs) != ND_OK || !c) {
        printf("# %s\n", errs->n ? errs->msgs[0] : "load failed");
        abort();
    }
    for (i = 0; i < c->nreceivers; i++) {
        void *state = NULL;
        if (t->configure(&c->receivers[i], set, &state, errs) == ND_OK)
            t->free_state(state);
        else
            ok(state == NULL, "%s: no state on error", c->receivers[i].name);
        nd_receiver_config_check_unused(&c->receivers[i], errs);
    }
    nd_config_free(c);
    nd_template_set_free(set);
}

static void test_config_errors(void)
{
    static const char ini[] = "[receiver.none]\n"                  /* 1 */
                              "type = wechat\n"                    /* 2 */
                              "[receiver.nocred]\n"                /* 3 */
                              "type = wechat\n"                    /* 4 */
                              "to_party = 2\n"                     /* 5 */
                              "[receiver.both]\n"                  /* 6 */
                              "type = wechat\n"                    /* 7 */
                              "corp_id = c\n"                      /* 8 */
                              "at_users = u\n"                     /* 9 */
                              "[receiver.norcpt]\n"                /* 10 */
                              "type = wechat\n"                    /* 11 */
                              "corp_id = c\n"                      /* 12 */
                              "agent_id = 12x\n"                   /* 13 */
                              "api_secret = env:NOTIFYD_NO_SUCH\n" /* 14 */
                              "[receiver.bot]\n"                   /* 15 */
                              "type = wechat\n"                    /* 16 */
                              "webhook = ftp://x\n"                /* 17 */
                              "api_url = http://y\n"               /* 18 */
                              "template_type = card\n"             /* 19 */
                              "template = no.such.template\n"      /* 20 */
                              "[receiver.md]\n"                    /* 21 */
                              "type = wechat\n"                    /* 22 */
                              "at_mobiles = 138\n"                 /* 23 */
                              "template_type = markdown\n"         /* 24 */
                              "at_users = u\n"                     /* 25 */
                              "max_message_size = 140\n"           /* 26 */
                              "rate_limit_delay = 0s\n"            /* 27 */
                              "[receiver.mentions]\n"              /* 28 */
                              "type = wechat\n"                    /* 29 */
                              "webhook = http://x/send?key=k\n"    /* 30 */
                              "title_template = nm.default.text\n" /* 31 */
                              "[receiver.url]\n"                   /* 32 */
                              "type = wechat\n"                    /* 33 */
                              "to_user = a\n"                      /* 34 */
                              "corp_id = c\n"                      /* 35 */
                              "agent_id = 1\n"                     /* 36 */
                              "api_secret = s\n"                   /* 37 */
                              "api_url = qyapi.weixin.qq.com\n"    /* 38 */
                              "[receiver.zero]\n"                  /* 39 */
                              "type = wechat\n"                    /* 40 */
                              "to_user = a\n"                      /* 41 */
                              "corp_id = c\n"                      /* 42 */
                              "agent_id = 0\n"                     /* 43 */
                              "api_secret = s\n";                  /* 44 */
    static const char *const want[] = {
        "w.ini:1: [receiver.none] webhook: missing key: want webhook (group robot) or to_user",
        "w.ini:5: [receiver.nocred] corp_id: missing key (to_party needs corp_id, agent_id and "
        "api_secret)",
        "w.ini:5: [receiver.nocred] agent_id: missing key",
        "w.ini:5: [receiver.nocred] api_secret: missing key",
        "w.ini:9: [receiver.both] at_users: group robot (webhook) and app message (corp_id) in "
        "one receiver",
        "w.ini:13: [receiver.norcpt] agent_id:",
        "w.ini:14: [receiver.norcpt] api_secret:",
        "w.ini:10: [receiver.norcpt] to_user: missing value: an app message wants to_user, "
        "to_party or to_tag",
        "w.ini:17: [receiver.bot] webhook: want an http:// or https:// URL",
        "w.ini:18: [receiver.bot] api_url: an app message key",
        "w.ini:19: [receiver.bot] template_type: invalid value \"card\": want text or markdown",
        "w.ini:20: [receiver.bot] template:",
        "w.ini:21: [receiver.md] webhook: missing key (at_users and at_mobiles are for a group "
        "robot)",
        "w.ini:23: [receiver.md] at_mobiles: a markdown message cannot mention by phone number",
        "w.ini:26: [receiver.md] max_message_size: 140 is too small: want at least 144 bytes",
        "w.ini:27: [receiver.md] rate_limit_delay:",
        "w.ini:31: [receiver.mentions] title_template: unknown key",
        "w.ini:38: [receiver.url] api_url: want an http:// or https:// URL",
        "w.ini:43: [receiver.zero] agent_id: want the app's AgentId, from 1",
    };
    struct nd_config_errors errs;
    size_t i;

    configure_all(ini, &errs);
    for (i = 0; i < ND_ARRAY_LEN(want); i++)
        ok(has_error(&errs, want[i]), "error: %s", want[i]);
    is_int((int)errs.n, (int)ND_ARRAY_LEN(want), "no other error");
    for (i = 0; i < errs.n; i++)
        printf("# %s\n", errs.msgs[i]);
    nd_config_errors_deinit(&errs);
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
    nd_receiver_type_wechat.classify(state, &r, v);
    nd_buf_deinit(&b);
    nd_buf_deinit(&hdr);
}

#define WC_MSG "{{ define \"wc.msg\" }}{{ range .Alerts }}{{ .Labels.alertname }}{{ end }}{{ end }}"

static const char ini_ok[] = "[receiver.app]\n"
                             "type = wechat\n"
                             "corp_id = ww01\n"
                             "agent_id = 1000002\n"
                             "api_secret = s\n"
                             "api_url = http://127.0.0.1:1/cgi-bin/\n"
                             "to_party = 1, 2\n"
                             "template = wc.msg\n"
                             "[receiver.app2]\n"
                             "type = wechat\n"
                             "corp_id = ww01\n"
                             "agent_id = 1000003\n"
                             "api_secret = s\n"
                             "api_url = http://127.0.0.1:1/cgi-bin\n"
                             "to_user = x\n"
                             "rate_limit_delay = 5s\n"
                             "[receiver.bot]\n"
                             "type = wechat\n"
                             "webhook = http://127.0.0.1:1/cgi-bin/webhook/send?key=k\n"
                             "template_type = markdown\n"
                             "at_users = u1, u2\n"
                             "template = wc.msg\n";

struct built {
    struct nd_parts parts;
    struct nd_request req;
    struct nd_jsonr *doc;
};

/* parts(), then build_part() for (lane, chunk 0); the request and its
 * parsed body stay in *b (built_free). */
static int build(void *state, struct nd_notification *n, uint32_t lane, const char *token,
                 struct built *b)
{
    const struct nd_receiver_type *t = &nd_receiver_type_wechat;
    struct nd_part part;
    char err[ND_ERRLEN] = "";
    int rc;

    memset(b, 0, sizeof(*b));
    nd_request_init(&b->req);
    rc = t->parts(state, n, &b->parts, err);
    if (rc != ND_OK) {
        printf("# parts: %s\n", err);
        return rc;
    }
    part.lane = lane;
    part.chunk = 0;
    part.lanes = b->parts.lanes;
    part.chunks = b->parts.chunks;
    part.ud = b->parts.ud;
    rc = t->build_part(state, n, &part, token, &b->req, err);
    if (rc != ND_OK) {
        printf("# build_part: %s\n", err);
        return rc;
    }
    return nd_jsonr_parse(b->req.body.data, b->req.body.len, &b->doc, err);
}

static void built_free(void *state, struct built *b)
{
    if (b->parts.ud)
        nd_receiver_type_wechat.free_parts(state, b->parts.ud);
    nd_request_deinit(&b->req);
    nd_jsonr_free(b->doc);
}

static const char *jstr(const struct nd_jsonr *doc, const char *path)
{
    const char *s = NULL;

    return doc && nd_jsonr_str(doc, path, &s) == ND_OK ? s : "(absent)";
}

static void test_type(void)
{
    const struct nd_receiver_type *t = &nd_receiver_type_wechat;
    struct nd_template_set *set = nd_template_set_new();
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    void *app = NULL, *app2 = NULL, *bot = NULL;
    struct nd_notification *n;
    struct nd_verdict v;
    struct built b;
    char err[ND_ERRLEN];
    int64_t agent = 0;
    size_t len = 0;

    ok(nd_receiver_type_find("wechat") == t, "type registered as wechat");
    ok(nd_template_set_add_defaults(set, err) == ND_OK, "template set");
    ok(nd_template_set_parse(set, "wc", WC_MSG, strlen(WC_MSG), err) == ND_OK, "wc.msg");
    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(ini_ok, "w.ini", &c, &errs), ND_OK, "config loads");
    if (!c)
        return;
    is_int(t->configure(find_rc(c, "app"), set, &app, &errs), ND_OK, "app configured");
    is_int(t->configure(find_rc(c, "app2"), set, &app2, &errs), ND_OK, "app 2 configured");
    is_int(t->configure(find_rc(c, "bot"), set, &bot, &errs), ND_OK, "bot configured");
    is_int((int)errs.n, 0, "no config errors");
    if (!app || !app2 || !bot)
        goto out;

    /* python3: hashlib.sha256(b"s").hexdigest()[:16] */
    is_str(t->prepare_key(app), "wechat:http://127.0.0.1:1/cgi-bin:ww01:043a718774c572bd",
           "app: a token per API, corp and secret (the secret only as a hash)");
    is_str(t->prepare_key(app2), t->prepare_key(app),
           "another agent of the same app shares the token");
    ok(t->prepare_key(bot) == NULL, "bot: no token");

    verdict(app, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"\"}", &v);
    is_int(v.kind, ND_VERDICT_DELIVERED, "errcode 0, no invalid recipients: delivered");
    verdict(app, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"invalidparty\":\"2\"}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "invalidparty: failed");
    has_str(v.reason, "invalidparty \"2\"", "invalidparty: named in the reason");
    verdict(bot, 200, "{\"errcode\":0,\"errmsg\":\"ok\",\"invaliduser\":\"x\"}", &v);
    is_int(v.kind, ND_VERDICT_DELIVERED, "bot: invaliduser is not its field");
    verdict(app, 200, "{\"errcode\":42001,\"errmsg\":\"access_token expired\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.reprepare && v.delay_ns == 0,
       "42001: new token, send again at once");
    has_str(v.reason, "errcode 42001: access_token expired", "42001: code and errmsg");
    verdict(app, 200, "{\"errcode\":40014,\"errmsg\":\"invalid access_token\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.reprepare, "40014: new token");
    verdict(app, 200, "{\"errcode\":41001,\"errmsg\":\"access_token missing\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.reprepare, "41001: new token");
    verdict(bot, 200, "{\"errcode\":42001,\"errmsg\":\"x\"}", &v);
    ok(v.kind == ND_VERDICT_FAILED && !v.reprepare, "42001 on a bot (no token): failed");
    verdict(app, 200, "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && !v.reprepare, "45009: retry");
    ok(v.delay_ns == 60 * ND_NS_PER_S, "45009: after the default rate_limit_delay, 60 s");
    verdict(app2, 200, "{\"errcode\":45009,\"errmsg\":\"x\"}", &v);
    ok(v.delay_ns == 5 * ND_NS_PER_S, "45009: after rate_limit_delay = 5s");
    verdict(bot, 200, "{\"errcode\":45009,\"errmsg\":\"x\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.delay_ns == 60 * ND_NS_PER_S, "45009 on a bot: retry");
    verdict(bot, 200, "{\"errcode\":-1,\"errmsg\":\"system busy\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.delay_ns == -1, "-1: retry after the backoff");
    verdict(bot, 200, "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "93000: failed");
    has_str(v.reason, "errcode 93000: invalid webhook url", "93000: code and errmsg");
    verdict(bot, 200, "<html>", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "not JSON: failed");
    verdict(bot, 200, "{\"errmsg\":\"ok\"}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "no errcode: failed");
    verdict(bot, 204, "", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "204: not 200, failed");
    verdict(bot, 502, "", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "502: retry (the HTTP rule)");
    verdict(bot, 403, "{\"errcode\":0}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "403: failed whatever the body");

    n = mk_simple("app", "Disk<&>");
    if (build(app, n, 0, "TOK EN", &b) == ND_OK) {
        is_uint(b.parts.lanes, 1, "app, 2 parties: one lane");
        is_str(b.req.url, "http://127.0.0.1:1/cgi-bin/message/send?access_token=TOK+EN",
               "app: the URL with the token, query-encoded");
        is_str(b.req.method, "POST", "app: POST");
        is_str(jstr(b.doc, "toparty"), "1|2", "app: toparty joined by |");
        ok(nd_jsonr_type(b.doc, "touser") == ND_JSONR_NONE, "app: no empty touser");
        is_str(jstr(b.doc, "msgtype"), "text", "app: msgtype text");
        ok(nd_jsonr_int(b.doc, "agentid", &agent) == ND_OK && agent == 1000002,
           "app: agentid an integer");
        is_str(jstr(b.doc, "text.content"), "Disk<&>", "app: text.content");
        ok(strstr(b.req.body.data, "Disk\\u003c\\u0026\\u003e") != NULL,
           "app: <, &, > escaped as Go does");
        ok(nd_jsonr_len(b.doc, "", &len) == ND_OK && len == 4,
           "app: toparty, msgtype, agentid, text and nothing else");
    }
    built_free(app, &b);
    {
        struct nd_part part = {0};
        struct nd_request req;
        nd_request_init(&req);
        is_int(t->parts(app, n, &b.parts, err), ND_OK, "parts");
        part.ud = b.parts.ud;
        part.lanes = part.chunks = 1;
        is_int(t->build_part(app, n, &part, NULL, &req, err), ND_EINVAL,
               "app without a token: build error");
        nd_request_deinit(&req);
        t->free_parts(app, b.parts.ud);
    }
    nd_notification_unref(n);

    n = mk_simple("bot", "Disk");
    if (build(bot, n, 0, NULL, &b) == ND_OK) {
        is_str(b.req.url, "http://127.0.0.1:1/cgi-bin/webhook/send?key=k", "bot: the webhook");
        is_str(jstr(b.doc, "msgtype"), "markdown", "bot: msgtype markdown");
        is_str(jstr(b.doc, "markdown.content"), "Disk\n<@u1><@u2>",
               "bot markdown: the mentions after the content");
        ok(nd_jsonr_len(b.doc, "", &len) == ND_OK && len == 2, "bot: msgtype and markdown only");
    }
    built_free(bot, &b);
    nd_notification_unref(n);
out:
    t->free_state(app);
    t->free_state(app2);
    t->free_state(bot);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
    nd_template_set_free(set);
}

/* "<c>from|<c>from+1|...|<c>to-1" into b. */
static void joined(struct nd_buf *b, char c, size_t from, size_t to)
{
    size_t i;

    nd_buf_reset(b);
    for (i = from; i < to; i++)
        nd_buf_printf(b, "%s%c%zu", i > from ? "|" : "", c, i);
}

/* 2500 users and 150 parties: three lanes, the i-th slice of each list. */
static void test_lanes(void)
{
    const struct nd_receiver_type *t = &nd_receiver_type_wechat;
    struct nd_template_set *set = nd_template_set_new();
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    struct nd_buf ini, want;
    struct nd_notification *n;
    void *st = NULL;
    char err[ND_ERRLEN];
    uint32_t lane;
    size_t i;

    ok(nd_template_set_add_defaults(set, err) == ND_OK, "template set");
    nd_buf_init(&want, 64 * 1024);
    nd_buf_init(&ini, 1024 * 1024);
    nd_buf_adds(&ini, "[receiver.many]\ntype = wechat\ncorp_id = c\nagent_id = 1\n"
                      "api_secret = s\nto_user = u0");
    for (i = 1; i < 2500; i++)
        nd_buf_printf(&ini, ",u%zu", i);
    nd_buf_adds(&ini, "\nto_party = p0");
    for (i = 1; i < 150; i++)
        nd_buf_printf(&ini, ",p%zu", i);
    nd_buf_adds(&ini, "\n");
    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(nd_buf_cstr(&ini), "w.ini", &c, &errs), ND_OK, "config loads");
    if (!c)
        goto out;
    is_int(t->configure(&c->receivers[0], set, &st, &errs), ND_OK, "configured");
    if (!st)
        goto out;
    n = mk_simple("many", "A");
    for (lane = 0; lane < 3; lane++) {
        struct built b;
        const char *u, *p;
        if (build(st, n, lane, "tok", &b) != ND_OK) {
            ok(0, "lane %u built", lane);
            built_free(st, &b);
            continue;
        }
        is_uint(b.parts.lanes, 3, "lane %u: 3 lanes", lane);
        u = jstr(b.doc, "touser");
        p = jstr(b.doc, "toparty");
        joined(&want, 'u', lane * 1000, lane < 2 ? lane * 1000 + 1000 : 2500);
        is_str(u, nd_buf_cstr(&want), "lane %u: its 1000 users (500 in the last) joined by |",
               lane);
        if (lane < 2) {
            joined(&want, 'p', lane * 100, lane ? 150 : 100);
            is_str(p, nd_buf_cstr(&want), "lane %u: its parties", lane);
        } else {
            ok(nd_jsonr_type(b.doc, "toparty") == ND_JSONR_NONE, "lane 2: no parties left");
        }
        built_free(st, &b);
    }
    nd_notification_unref(n);
out:
    t->free_state(st);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
    nd_template_set_free(set);
    nd_buf_deinit(&ini);
    nd_buf_deinit(&want);
}

int main(void)
{
    test_config_errors();
    test_type();
    test_lanes();
    return done_testing();
}
