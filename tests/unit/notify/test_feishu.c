/* test_feishu.c - the Feishu receiver without the network: the bot
 * signature against vectors computed independently (Python's hmac and
 * base64), the post rewriting, the config errors (file:line:key), the
 * request bodies of a bot and an app, and the verdicts on Feishu's answers. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/chunks.h"
#include "notifyd/config.h"
#include "notifyd/feishu.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "helpers.h"
#include "tap.h"

static void test_sign(void)
{
    /* python3: base64.b64encode(hmac.new(b"%d\n%s" % (ts, s), b"", sha256).digest())
     * - the key is timestamp + "\n" + secret, the message empty. */
    static const struct {
        const char *secret;
        int64_t ts;
        const char *want;
    } v[] = {
        {"SEC0123456789abcdef", INT64_C(1599360473),
         "o4rYuzS+vyYu0ScPJVg0TrKMaVksgOXu1MYbxvtUINE="},
        {"this is a secret", INT64_C(1700000000), "/WARn1GZwGRpXCxqlm0kJ/kHigZCpKxEBYBBemPBZks="},
    };
    size_t i;

    for (i = 0; i < ND_ARRAY_LEN(v); i++) {
        struct nd_buf b;
        char err[ND_ERRLEN] = "";

        nd_buf_init(&b, 1024);
        is_int(nd_feishu_sign(v[i].secret, v[i].ts, &b, err), ND_OK, "sign %zu: ok", i);
        is_str(nd_buf_cstr(&b), v[i].want, "sign %zu: python's hmac vector", i);
        nd_buf_deinit(&b);
    }
}

static int post(const char *json, const char *title, const char *kw, struct nd_buf *out, char *err)
{
    nd_buf_reset(out);
    err[0] = '\0';
    return nd_feishu_post(json, strlen(json), title, kw, out, err);
}

static void test_post(void)
{
    struct nd_buf out, text;
    char err[ND_ERRLEN], lang[64];

    nd_buf_init(&out, 64 * 1024);
    is_int(post("{\"en_us\":{\"content\":[[{\"tag\":\"text\",\"text\":\"a<b\"},"
                "{\"tag\":\"a\",\"text\":\"l\",\"href\":\"h\",\"n\":1.5e3,\"b\":true,\"z\":null}],"
                "[]]}}",
                "T&", "[Keywords] k", &out, err),
           ND_OK, "post: ok");
    is_str(nd_buf_cstr(&out),
           "{\"en_us\":{\"content\":[[{\"tag\":\"text\",\"text\":\"a\\u003cb\"},"
           "{\"tag\":\"a\",\"text\":\"l\",\"href\":\"h\",\"n\":1.5e3,\"b\":true,\"z\":null}],"
           "[],[{\"tag\":\"text\",\"text\":\"[Keywords] k\"}]],\"title\":\"T\\u0026\"}}",
           "post: written again, Go's escaping, keywords paragraph last, title added");
    is_int(post("{ \"zh_cn\" : {\"title\":\"mine\",\"content\":[]}, \"en_us\":{\"content\":[]}}",
                "T", "K", &out, err),
           ND_OK, "post: two languages");
    is_str(nd_buf_cstr(&out),
           "{\"zh_cn\":{\"title\":\"mine\",\"content\":[[{\"tag\":\"text\",\"text\":\"K\"}]]},"
           "\"en_us\":{\"content\":[[{\"tag\":\"text\",\"text\":\"K\"}]],\"title\":\"T\"}}",
           "post: the template's title kept, each language gets the keywords");
    is_int(post("{\"zh_cn\":{\"content\":[]}}", NULL, NULL, &out, err), ND_OK,
           "post: no title, no keywords");
    is_str(nd_buf_cstr(&out), "{\"zh_cn\":{\"content\":[]}}", "post: nothing added");

    is_int(post("{\"zh_cn\":{\"content\":[}", NULL, NULL, &out, err), ND_EINVAL,
           "invalid JSON refused");
    has_str(err, "post: invalid JSON", "invalid JSON: named");
    is_int(out.len, 0, "invalid JSON: out left empty");
    is_int(post("[1]", NULL, NULL, &out, err), ND_EINVAL, "an array refused");
    has_str(err, "want a JSON object of languages", "an array: named");
    is_int(post("{}", NULL, NULL, &out, err), ND_EINVAL, "no language refused");
    has_str(err, "no language", "no language: named");
    is_int(post("{\"zh_cn\":\"x\"}", NULL, NULL, &out, err), ND_EINVAL, "a string language");
    has_str(err, "language \"zh_cn\": want an object", "a string language: named");
    is_int(post("{\"zh_cn\":{\"title\":\"t\"}}", NULL, NULL, &out, err), ND_EINVAL,
           "no content refused");
    has_str(err, "language \"zh_cn\": no content", "no content: named");
    is_int(post("{\"zh_cn\":{\"content\":{}}}", NULL, NULL, &out, err), ND_EINVAL,
           "content an object refused");
    has_str(err, "content: want a list of paragraphs", "content an object: named");
    is_int(post("{\"zh_cn\":{\"content\":[\"x\"]}}", NULL, NULL, &out, err), ND_EINVAL,
           "a paragraph that is a string refused");
    has_str(err, "a paragraph: want a list of elements", "paragraph: named");
    is_int(post("{\"zh_cn\":{\"content\":[[\"x\"]]}}", NULL, NULL, &out, err), ND_EINVAL,
           "an element that is a string refused");
    has_str(err, "an element: want an object", "element: named");
    is_int(post("{\"zh_cn\":{\"content\":[],\"content\":[]}}", NULL, NULL, &out, err), ND_EINVAL,
           "content twice refused");
    is_int(post("{\"zh_cn\":{\"content\":[]}} {}", NULL, NULL, &out, err), ND_EINVAL,
           "trailing garbage refused");
    {
        char deep[200];
        size_t i, n = 0;

        n += (size_t)snprintf(deep, sizeof(deep), "{\"zh_cn\":{\"content\":[[{\"x\":");
        for (i = 0; i < 40; i++)
            deep[n++] = '[';
        deep[n] = '\0';
        is_int(post(deep, NULL, NULL, &out, err), ND_ETOOBIG, "nesting past 32 refused");
    }
    {
        struct nd_buf small;

        nd_buf_init(&small, 10);
        is_int(
            nd_feishu_post("{\"zh_cn\":{\"content\":[]}}", 24, "a long title", NULL, &small, err),
            ND_ETOOBIG, "out's ceiling: ND_ETOOBIG");
        is_int(small.len, 0, "out's ceiling: out left empty");
        nd_buf_deinit(&small);
    }

    nd_buf_init(&text, 1024);
    is_int(nd_feishu_post_text("{\"en_us\":{\"content\":[[{\"tag\":\"text\",\"text\":\"a\"},"
                               "{\"tag\":\"a\",\"text\":\"b\",\"href\":\"h\"}],[],"
                               "[{\"tag\":\"at\",\"user_id\":\"u\"}]]},"
                               "\"zh_cn\":{\"content\":[[{\"tag\":\"text\",\"text\":\"no\"}]]}}",
                               168, false, &text, lang, err),
           ND_OK, "post text: ok");
    is_str(nd_buf_cstr(&text), "ab\n\n\n", "post text: the first language, a line a paragraph");
    is_str(lang, "en_us", "post text: the first language's name");
    nd_buf_reset(&text);
    is_int(nd_feishu_post_text("{\"zh_cn\":{\"content\":[[{\"tag\":\"text\",\"text\":\"one\"}],"
                               "[{\"tag\":\"text\",\"text\":\"tw",
                               76, true, &text, lang, err),
           ND_OK, "post text, partial: ok");
    is_str(nd_buf_cstr(&text), "one\n", "post text, partial: what was complete");
    nd_buf_deinit(&text);
    nd_buf_deinit(&out);
}

static struct nd_receiver_config *find_rc(struct nd_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nreceivers; i++)
        if (strcmp(c->receivers[i].name, name) == 0)
            return &c->receivers[i];
    return NULL;
}

static bool has_error(const struct nd_config_errors *e, const char *want)
{
    size_t i;

    for (i = 0; i < e->n; i++)
        if (strstr(e->msgs[i], want))
            return true;
    return false;
}

static const char bad_ini[] = "[receiver.none]\n"                    /* 1 */
                              "type = feishu\n"                      /* 2 */
                              "[receiver.both]\n"                    /* 3 */
                              "type = feishu\n"                      /* 4 */
                              "webhook = http://h/hook\n"            /* 5 */
                              "user = u1\n"                          /* 6 */
                              "[receiver.app]\n"                     /* 7 */
                              "type = feishu\n"                      /* 8 */
                              "department = d1\n"                    /* 9 */
                              "secret = s\n"                         /* 10 */
                              "[receiver.bad]\n"                     /* 11 */
                              "type = feishu\n"                      /* 12 */
                              "webhook = ftp://h/hook\n"             /* 13 */
                              "template_type = markdown\n"           /* 14 */
                              "template = no.such\n"                 /* 15 */
                              "batch_size = 0\n"                     /* 16 */
                              "api_url = h\n"                        /* 17 */
                              "[receiver.small]\n"                   /* 18 */
                              "type = feishu\n"                      /* 19 */
                              "webhook = http://h/hook\n"            /* 20 */
                              "secret = s\n"                         /* 21 */
                              "max_message_size = 300\n"             /* 22 */
                              "[receiver.many]\n"                    /* 23 */
                              "type = feishu\n"                      /* 24 */
                              "app_id = a\n"                         /* 25 */
                              "app_secret = s\n"                     /* 26 */
                              "batch_size = 1\n"                     /* 27 */
                              "user = u1, u2\n"                      /* 28 */
                              "[receiver.envsec]\n"                  /* 29 */
                              "type = feishu\n"                      /* 30 */
                              "webhook = http://h/hook\n"            /* 31 */
                              "secret = env:NOTIFYD_NO_SUCH_VAR_X\n" /* 32 */
                              "[receiver.bigbatch]\n"                /* 33 */
                              "type = feishu\n"                      /* 34 */
                              "app_id = a\n"                         /* 35 */
                              "app_secret = s\n"                     /* 36 */
                              "department = d\n"                     /* 37 */
                              "batch_size = 201\n";                  /* 38 */

static void test_config_errors(void)
{
    const struct nd_receiver_type *t = &nd_receiver_type_feishu;
    struct nd_template_set *set = nd_template_set_new();
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    char err[ND_ERRLEN];
    static const char *const names[] = {"none",  "both",   "app",      "bad",
                                        "small", "envsec", "bigbatch", NULL};
    static const char *const want[] = {
        "f.ini:1: [receiver.none] webhook: missing key: want webhook (bot) or app_id",
        "f.ini:6: [receiver.both] user: webhook (bot) and user (app) in one receiver",
        "f.ini:10: [receiver.app] secret: only for a bot (webhook)",
        "f.ini:9: [receiver.app] app_id: missing key",
        "f.ini:9: [receiver.app] app_secret: missing key",
        "f.ini:13: [receiver.bad] webhook: want an http:// or https:// URL",
        "f.ini:14: [receiver.bad] template_type: invalid value \"markdown\": want post or text",
        "f.ini:15: [receiver.bad] template: ",
        "f.ini:16: [receiver.bad] batch_size: want 1..200",
        "f.ini:17: [receiver.bad] api_url: want an http:// or https:// URL",
        "f.ini:22: [receiver.small] max_message_size: 300 bytes leave less than 256",
        "f.ini:32: [receiver.envsec] secret:",
        "f.ini:38: [receiver.bigbatch] batch_size:",
        NULL,
    };
    size_t i;

    ok(nd_receiver_type_find("feishu") == t, "type registered as feishu");
    ok(nd_template_set_add_defaults(set, err) == ND_OK, "template set");
    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(bad_ini, "f.ini", &c, &errs), ND_OK, "config loads");
    if (!c)
        goto out;
    for (i = 0; names[i]; i++) {
        void *st = NULL;
        is_int(t->configure(find_rc(c, names[i]), set, &st, &errs), ND_EINVAL, "%s: refused",
               names[i]);
        ok(st == NULL, "%s: no state", names[i]);
    }
    for (i = 0; want[i]; i++)
        ok(has_error(&errs, want[i]), "error: %s", want[i]);
    {
        void *st = NULL;
        /* 2 users by 1: two batches, fine. */
        is_int(t->configure(find_rc(c, "many"), set, &st, &errs), ND_OK, "many: configured");
        t->free_state(st);
    }
    for (i = 0; i < errs.n; i++)
        printf("# %s\n", errs.msgs[i]);
    {
        /* 1025 users by 1: more batches than the fan-out's 1024 lanes. */
        struct nd_buf b;
        struct nd_config *c2 = NULL;
        struct nd_config_errors e2;
        void *st = NULL;

        nd_buf_init(&b, 1 << 20);
        nd_buf_adds(&b, "[receiver.lots]\ntype = feishu\napp_id = a\napp_secret = s\n"
                        "batch_size = 1\nuser = u0");
        for (i = 1; i < 1025; i++)
            nd_buf_printf(&b, ", u%zu", i);
        nd_buf_adds(&b, "\n");
        nd_config_errors_init(&e2);
        is_int(nd_config_load_string(nd_buf_cstr(&b), "l.ini", &c2, &e2), ND_OK,
               "1025 users: config loads");
        if (c2) {
            is_int(t->configure(find_rc(c2, "lots"), set, &st, &e2), ND_EINVAL,
                   "1025 users by 1: refused");
            ok(has_error(&e2, "l.ini:6: [receiver.lots] user: 1025 ids make more than 1024 "
                              "batches of 1"),
               "1025 users by 1: the error names the user line");
        }
        nd_config_free(c2);
        nd_config_errors_deinit(&e2);
        nd_buf_deinit(&b);
    }
out:
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
    nd_template_set_free(set);
}

static const char ini[] = "[receiver.bot]\n"
                          "type = feishu\n"
                          "webhook = http://127.0.0.1:1/open-apis/bot/v2/hook/x\n"
                          "secret = SEC0123456789abcdef\n"
                          "keywords = k1, k2\n"
                          "template_type = text\n"
                          "[receiver.botpost]\n"
                          "type = feishu\n"
                          "webhook = http://127.0.0.1:1/open-apis/bot/v2/hook/y\n"
                          "keywords = kw\n"
                          "[receiver.app]\n"
                          "type = feishu\n"
                          "app_id = cli_a\n"
                          "app_secret = app-secret\n"
                          "user = u1, u2, u3\n"
                          "department = d1\n"
                          "batch_size = 2\n"
                          "api_url = http://127.0.0.1:1/open-apis/\n"
                          "max_message_size = 2000\n";

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
    nd_receiver_type_feishu.classify(state, &r, v);
    nd_buf_deinit(&b);
    nd_buf_deinit(&hdr);
}

static struct nd_notification *mk_many(size_t n, size_t annlen)
{
    static const char *const group[] = {"alertname", "Many", NULL};
    struct nd_alert **a = nd_xcalloc(n, sizeof(*a));
    struct nd_notification *nt;
    char *ann = nd_xmalloc(annlen + 1);
    size_t i;

    memset(ann, 'x', annlen);
    ann[annlen] = '\0';
    for (i = 0; i < n; i++) {
        char idx[16];
        const char *labels[] = {"alertname", "Many", "idx", idx, NULL};
        const char *anns[] = {"summary", ann, NULL};

        snprintf(idx, sizeof(idx), "%03zu", i);
        a[i] = mk_alert(labels, anns, "2026-11-26T10:00:00Z", NULL, NULL);
    }
    nt = mk_notification("r", a, n, group, NULL, NULL);
    free(a);
    free(ann);
    return nt;
}

static void test_type(void)
{
    const struct nd_receiver_type *t = &nd_receiver_type_feishu;
    struct nd_template_set *set = nd_template_set_new();
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    void *bot = NULL, *botpost = NULL, *app = NULL;
    struct nd_verdict v;
    char err[ND_ERRLEN];

    ok(nd_template_set_add_defaults(set, err) == ND_OK, "template set");
    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(ini, "t.ini", &c, &errs), ND_OK, "config loads");
    if (!c)
        goto out;
    is_int(t->configure(find_rc(c, "bot"), set, &bot, &errs), ND_OK, "bot configured");
    is_int(t->configure(find_rc(c, "botpost"), set, &botpost, &errs), ND_OK,
           "bot (post) configured");
    is_int(t->configure(find_rc(c, "app"), set, &app, &errs), ND_OK, "app configured");
    is_int(errs.n, 0, "no config errors");
    if (!bot || !botpost || !app)
        goto out;

    ok(t->prepare_key(bot) == NULL, "bot: no token");
    /* python3: hashlib.sha256(b"app-secret").hexdigest()[:16] */
    is_str(t->prepare_key(app), "feishu:http://127.0.0.1:1/open-apis:cli_a:6c904c5190e8b45c",
           "app: a token per API and app id, the secret only as a hash");

    /* The bodies. */
    {
        struct nd_notification *n = mk_simple("r", "Disk");
        struct nd_parts parts;
        struct nd_part part = {0};
        struct nd_request req;
        int64_t before = nd_now_wall_ns() / ND_NS_PER_S;

        is_int(t->parts(bot, n, &parts, err), ND_OK, "bot: parts");
        is_int(parts.lanes, 1, "bot: one lane");
        is_int(parts.chunks, 1, "bot: one chunk");
        part.lanes = parts.lanes;
        part.chunks = parts.chunks;
        part.ud = parts.ud;
        nd_request_init(&req);
        is_int(t->build_part(bot, n, &part, NULL, &req, err), ND_OK, "bot: build");
        is_str(req.url, "http://127.0.0.1:1/open-apis/bot/v2/hook/x", "bot: the webhook");
        is_str(req.method, "POST", "bot: POST");
        {
            const char *b = nd_buf_cstr(&req.body);
            char want[128];
            struct nd_buf sig;

            has_str(b,
                    "{\"msg_type\":\"text\",\"content\":{\"text\":\"[FIRING] \\n  alertname: "
                    "Disk\\n",
                    "bot text: msg_type and content.text");
            has_str(b, "\\n\\n[Keywords] k1,k2\"},\"timestamp\":\"",
                    "bot text: keywords appended as NM does");
            /* The timestamp is now in seconds, and sign matches it. */
            {
                const char *ts = strstr(b, "\"timestamp\":\"");
                long long got = ts ? strtoll(ts + 13, NULL, 10) : 0;
                ok(got >= before && got <= before + 5, "bot: timestamp in seconds, now");
                nd_buf_init(&sig, 128);
                nd_feishu_sign("SEC0123456789abcdef", got, &sig, err);
                snprintf(want, sizeof(want), "\"timestamp\":\"%lld\",\"sign\":\"%s\"}", got,
                         nd_buf_cstr(&sig));
                has_str(b, want, "bot: sign of that timestamp, last");
                nd_buf_deinit(&sig);
            }
        }
        ok(req.headers &&
               strcmp(req.headers->data, "Content-Type: application/json; charset=utf-8") == 0,
           "bot: Content-Type");
        nd_request_deinit(&req);
        t->free_parts(bot, parts.ud);

        is_int(t->parts(app, n, &parts, err), ND_OK, "app: parts");
        is_int(parts.lanes, 2, "app: 3 users and 1 department by 2: two lanes");
        part.lanes = parts.lanes;
        part.chunks = parts.chunks;
        part.ud = parts.ud;
        nd_request_init(&req);
        is_int(t->build_part(app, n, &part, NULL, &req, err), ND_EINVAL, "app: no token, error");
        nd_request_deinit(&req);
        nd_request_init(&req);
        part.lane = 1;
        is_int(t->build_part(app, n, &part, "t-123", &req, err), ND_OK, "app: build lane 2");
        is_str(req.url, "http://127.0.0.1:1/open-apis/message/v4/batch_send/",
               "app: batch_send under api_url");
        has_str(nd_buf_cstr(&req.body), "}}},\"user_ids\":[\"u3\"]}",
                "app lane 2: the third user, no department left");
        has_str(
            nd_buf_cstr(&req.body),
            "{\"msg_type\":\"post\",\"content\":{\"post\":{\"en_us\":{\"content\":[[{"
            "\"tag\":\"text\",\"text\":\"[FIRING] \"}],[{\"tag\":\"text\",\"text\":\"  alertname: "
            "Disk\"}],",
            "app post: nm.feishu.post embedded as JSON");
        has_str(nd_buf_cstr(&req.body), "\"title\":\"[FIRING]\"}}}",
                "app post: the title (nm.default.subject)");
        {
            struct curl_slist *h = req.headers;
            bool found = false;
            for (; h; h = h->next)
                found |= strcmp(h->data, "Authorization: Bearer t-123") == 0;
            ok(found, "app: Authorization: Bearer token");
        }
        nd_request_deinit(&req);
        nd_request_init(&req);
        part.lane = 0;
        is_int(t->build_part(app, n, &part, "t-123", &req, err), ND_OK, "app: build lane 1");
        has_str(nd_buf_cstr(&req.body), "\"user_ids\":[\"u1\",\"u2\"],\"department_ids\":[\"d1\"]}",
                "app lane 1: two users and the department");
        nd_request_deinit(&req);
        t->free_parts(app, parts.ud);

        is_int(t->parts(botpost, n, &parts, err), ND_OK, "bot post: parts");
        part.lane = 0;
        part.lanes = parts.lanes;
        part.chunks = parts.chunks;
        part.ud = parts.ud;
        nd_request_init(&req);
        is_int(t->build_part(botpost, n, &part, NULL, &req, err), ND_OK, "bot post: build");
        has_str(nd_buf_cstr(&req.body), "[{\"tag\":\"text\",\"text\":\"[Keywords] kw\"}]]",
                "bot post: the keywords as the last paragraph");
        ok(!strstr(nd_buf_cstr(&req.body), "timestamp"), "bot without secret: no timestamp");
        nd_request_deinit(&req);
        t->free_parts(botpost, parts.ud);
        nd_notification_unref(n);
    }

    /* Split: every body within max_message_size (2000 for the app). */
    {
        struct nd_notification *n = mk_many(40, 300);
        struct nd_parts parts;
        struct nd_part part = {0};
        uint32_t k;
        size_t most = 0;
        bool all_ok = true;

        is_int(t->parts(app, n, &parts, err), ND_OK, "app, 40 alerts: parts");
        ok(parts.chunks > 5, "app, 40 alerts of 300 bytes under 2000: several chunks (%u)",
           parts.chunks);
        part.lanes = parts.lanes;
        part.chunks = parts.chunks;
        part.ud = parts.ud;
        for (part.lane = 0; part.lane < parts.lanes; part.lane++)
            for (k = 0; k < parts.chunks; k++) {
                struct nd_request req;

                part.chunk = k;
                nd_request_init(&req);
                all_ok &= t->build_part(app, n, &part, "tok", &req, err) == ND_OK;
                if (req.body.len > most)
                    most = req.body.len;
                nd_request_deinit(&req);
            }
        ok(all_ok, "app: every part built");
        ok(most <= 2000 && most > 1500, "app: the largest body %zu within 2000, not far below",
           most);
        t->free_parts(app, parts.ud);
        nd_notification_unref(n);

        /* One alert over the limit: cut, still a post. */
        n = mk_many(1, 5000);
        is_int(t->parts(app, n, &parts, err), ND_OK, "app, one big alert: parts");
        is_int(parts.chunks, 1, "app, one big alert: one chunk");
        part.lane = 0;
        part.chunk = 0;
        part.lanes = parts.lanes;
        part.chunks = parts.chunks;
        part.ud = parts.ud;
        {
            struct nd_request req;

            nd_request_init(&req);
            is_int(t->build_part(app, n, &part, "tok", &req, err), ND_OK, "big alert: build");
            ok(req.body.len <= 2000 && req.body.len > 1500, "big alert: body %zu within 2000",
               req.body.len);
            has_str(nd_buf_cstr(&req.body), "xxx" ND_CHUNK_MARK "\"}]]",
                    "big alert: a text paragraph ending with the mark");
            has_str(nd_buf_cstr(&req.body), "\"content\":{\"post\":{\"en_us\":{\"title\":\"",
                    "big alert: a post in the template's language, with a title");
            nd_request_deinit(&req);
        }
        t->free_parts(app, parts.ud);
        nd_notification_unref(n);
    }

    /* Verdicts. */
    verdict(bot, 200, "", "{\"code\":0,\"msg\":\"success\",\"data\":{}}", &v);
    is_int(v.kind, ND_VERDICT_DELIVERED, "code 0: delivered");
    verdict(bot, 200, "", "{\"Extra\":null,\"StatusCode\":0,\"StatusMessage\":\"success\"}", &v);
    is_int(v.kind, ND_VERDICT_DELIVERED, "StatusCode 0 (older bot answer): delivered");
    verdict(bot, 200, "", "{\"code\":19021,\"msg\":\"sign match fail\"}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "19021: failed");
    has_str(v.reason, "code 19021: sign match fail", "19021: code and msg in the reason");
    verdict(bot, 200, "", "{\"code\":19024,\"msg\":\"Key Words Not Found\"}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "19024: failed");
    has_str(v.reason, "code 19024: Key Words Not Found", "19024: in the reason");
    verdict(bot, 200, "", "{\"code\":9499,\"msg\":\"too many request\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.delay_ns == -1, "9499: retried after the backoff");
    verdict(bot, 200, "", "{\"code\":11232,\"msg\":\"frequency limited\"}", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "11232: retried");
    verdict(app, 429, "x-ogw-ratelimit-limit: 100\r\nx-ogw-ratelimit-reset: 7\r\n",
            "{\"code\":99991400,\"msg\":\"request trigger frequency limit\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.delay_ns == 7 * ND_NS_PER_S,
       "429 + 99991400: retried after x-ogw-ratelimit-reset");
    verdict(app, 400, "x-ogw-ratelimit-reset: 2\r\n",
            "{\"code\":99991400,\"msg\":\"request trigger frequency limit\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.delay_ns == 2 * ND_NS_PER_S,
       "400 + 99991400 (older APIs): retried after the reset too");
    verdict(app, 429, "Retry-After: 3\r\n", "{\"code\":99991400,\"msg\":\"limit\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.delay_ns >= 3 * ND_NS_PER_S && v.delay_ns < 4 * ND_NS_PER_S,
       "429 without the reset header: Retry-After");
    verdict(app, 400, "", "{\"code\":99991663,\"msg\":\"Invalid access token\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.reprepare && v.delay_ns == 0,
       "99991663 on an app: new token, resent at once");
    verdict(app, 400, "", "{\"code\":99991661,\"msg\":\"Missing access token\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.reprepare, "99991661 on an app: new token");
    verdict(app, 400, "", "{\"code\":99991671,\"msg\":\"Invalid access token\"}", &v);
    ok(v.kind == ND_VERDICT_RETRY && v.reprepare, "99991671 on an app: new token");
    verdict(bot, 400, "", "{\"code\":99991663,\"msg\":\"x\"}", &v);
    ok(v.kind == ND_VERDICT_FAILED && !v.reprepare, "99991663 on a bot: failed");
    verdict(app, 200, "",
            "{\"code\":0,\"data\":{\"message_id\":\"bm-1\",\"invalid_user_ids\":[\"u2\",\"u9\"],"
            "\"invalid_department_ids\":[]}}",
            &v);
    is_int(v.kind, ND_VERDICT_FAILED, "code 0 with invalid user ids: failed");
    has_str(v.reason, "invalid_user_ids: u2 u9", "invalid ids in the reason");
    verdict(app, 200, "",
            "{\"code\":0,\"data\":{\"message_id\":\"bm-1\",\"invalid_user_ids\":[],"
            "\"invalid_department_ids\":[]}}",
            &v);
    is_int(v.kind, ND_VERDICT_DELIVERED, "code 0, no invalid ids: delivered");
    verdict(app, 400, "", "{\"code\":10003,\"msg\":\"invalid param\"}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "400 + 10003: failed");
    has_str(v.reason, "code 10003: invalid param", "10003 in the reason");
    verdict(bot, 200, "", "not json", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "200, not JSON: failed");
    verdict(bot, 200, "", "{\"ok\":true}", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "200 without a code: failed");
    verdict(bot, 503, "", "", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "503: retried (the HTTP rule)");
    verdict(bot, 502, "", "{\"code\":1500,\"msg\":\"internal error\"}", &v);
    is_int(v.kind, ND_VERDICT_RETRY, "502 with a code: retried");
    has_str(v.reason, "code 1500", "502 with a code: the code in the reason");
    verdict(bot, 404, "", "404 page not found", &v);
    is_int(v.kind, ND_VERDICT_FAILED, "404: failed");
out:
    t->free_state(bot);
    t->free_state(botpost);
    t->free_state(app);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
    nd_template_set_free(set);
}

int main(void)
{
    test_sign();
    test_post();
    test_config_errors();
    test_type();
    return done_testing();
}
