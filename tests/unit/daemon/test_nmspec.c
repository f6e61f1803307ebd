/* Unit tests of nmspec.c: NM's Receiver/Config objects mapped to receiver
 * sections for every type (then validated by the receivers' own code), and
 * the 400 messages naming the request's fields. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/nmspec.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "tap.h"

static struct nd_template_set *tmpl;
static struct nd_delivery_config defaults;

static struct nd_nmspec *parse(const char *body, bool want_alert, char *err)
{
    struct nd_nmspec_opts o = {.want_alert = want_alert};
    struct nd_nmspec *s = NULL;
    err[0] = '\0';
    if (nd_nmspec_parse(body, strlen(body), &o, &s, err) != ND_OK)
        return NULL;
    return s;
}

static const char *kv(const struct nd_nmspec_receiver *r, const char *key)
{
    for (size_t i = 0; i < r->rc.nkvs; i++)
        if (strcmp(r->rc.kvs[i].key, key) == 0)
            return r->rc.kvs[i].value;
    return NULL;
}

static const struct nd_config_kv *kvp(const struct nd_nmspec_receiver *r, const char *key)
{
    for (size_t i = 0; i < r->rc.nkvs; i++)
        if (strcmp(r->rc.kvs[i].key, key) == 0)
            return &r->rc.kvs[i];
    return NULL;
}

/* The section passes the receiver's own validation; else the explained
 * first error, into msg. */
static bool check(struct nd_nmspec_receiver *r, char *msg, size_t cap)
{
    struct nd_config_errors errs;
    nd_config_errors_init(&errs);
    nd_receiver_check(&r->rc, &defaults, tmpl, &errs);
    bool good = errs.total == 0;
    msg[0] = '\0';
    if (!good)
        nd_nmspec_explain(r, errs.msgs[0], msg, cap);
    nd_config_errors_deinit(&errs);
    return good;
}

struct want {
    const char *key, *value;
};

/* One type: parses, compares the keys, validates. */
static void type_case(const char *what, const char *body, const char *type, const struct want *w,
                      size_t nw)
{
    char err[ND_ERRLEN], msg[ND_ERRLEN];
    struct nd_nmspec *s = parse(body, false, err);
    if (!ok(s != NULL, "%s: parsed", what)) {
        printf("# %s\n", err);
        return;
    }
    is_uint(s->nreceivers, 1, "%s: one receiver", what);
    struct nd_nmspec_receiver *r = &s->receivers[0];
    is_str(r->rc.type, type, "%s: type", what);
    is_uint(r->rc.nkvs, nw, "%s: %zu keys", what, nw);
    for (size_t i = 0; i < nw; i++)
        is_str(kv(r, w[i].key), w[i].value, "%s: %s", what, w[i].key);
    ok(check(r, msg, sizeof msg), "%s: valid for the %s receiver", what, type);
    if (msg[0])
        printf("# %s\n", msg);
    nd_nmspec_free(s);
}

static void types(void)
{
    type_case(
        "webhook",
        "{\"receiver\":{\"metadata\":{\"name\":\"h\"},\"spec\":{\"webhook\":{\"enabled\":true,"
        "\"url\":\"http://127.0.0.1:9/x\",\"template\":\"webhook.default.message\","
        "\"alertSelector\":{\"matchLabels\":{\"a\":\"b\"}},"
        "\"httpConfig\":{\"basicAuth\":{\"username\":\"u\",\"password\":{\"value\":\"p\"}},"
        "\"bearerToken\":{\"value\":\"t\"},\"proxyUrl\":\"http://proxy:3128\","
        "\"tlsConfig\":{\"serverName\":\"sn\",\"insecureSkipVerify\":true}}}}}}",
        "webhook",
        (const struct want[]){{"url", "http://127.0.0.1:9/x"},
                              {"basic_auth_user", "u"},
                              {"basic_auth_password", "p"},
                              {"bearer_token", "t"},
                              {"proxy_url", "http://proxy:3128"},
                              {"tls_server_name", "sn"},
                              {"tls_insecure_skip_verify", "true"}},
        7);
    type_case(
        "dingtalk chatbot",
        "{\"receiver\":{\"spec\":{\"dingtalk\":{\"chatbot\":{\"webhook\":{\"value\":"
        "\"https://oapi.dingtalk.com/robot/send?access_token=x\"},\"secret\":{\"value\":"
        "\"SEC\"},\"keywords\":[\"k1\",\"k2\"],\"atMobiles\":[\"138\"],\"atAll\":true},"
        "\"tmplType\":\"markdown\",\"titleTemplate\":\"nm.default.subject\"}}},"
        "\"config\":{\"spec\":{\"dingtalk\":{\"conversation\":{\"appkey\":{\"value\":"
        "\"k\"},\"appsecret\":{\"value\":\"s\"}}}}}}",
        "dingtalk",
        (const struct want[]){{"webhook", "https://oapi.dingtalk.com/robot/send?access_token=x"},
                              {"secret", "SEC"},
                              {"keywords", "k1, k2"},
                              {"at_mobiles", "138"},
                              {"at_all", "true"},
                              {"template_type", "markdown"},
                              {"title_template", "nm.default.subject"}},
        7);
    type_case("dingtalk conversation",
              "{\"receiver\":{\"spec\":{\"dingtalk\":{\"conversation\":{\"chatids\":[\"c1\"]}}}},"
              "\"config\":{\"spec\":{\"dingtalk\":{\"conversation\":{\"appkey\":{\"value\":"
              "\"k\"},\"appsecret\":{\"value\":\"s\"}}}}}}",
              "dingtalk",
              (const struct want[]){{"chat_ids", "c1"}, {"app_key", "k"}, {"app_secret", "s"}}, 3);
    type_case("email",
              "{\"receiver\":{\"spec\":{\"email\":{\"to\":[\"a@example.com\",\"\\\"Doe, J\\\" "
              "<jd@example.com>\"],\"tmplType\":\"text\",\"subjectTemplate\":"
              "\"nm.default.subject\"}}},\"config\":{\"spec\":{\"email\":{\"from\":"
              "\"n@example.com\",\"smartHost\":{\"host\":\"smtp.example.com\",\"port\":587},"
              "\"hello\":\"me.example.com\",\"authUsername\":\"u\",\"authPassword\":{\"value\":"
              "\"pw\"},\"requireTLS\":true,\"tls\":{\"serverName\":\"smtp\"}}}}}",
              "email",
              (const struct want[]){{"to", "a@example.com, \"Doe, J\" <jd@example.com>"},
                                    {"send_separately", "true"},
                                    {"template_type", "text"},
                                    {"subject_template", "nm.default.subject"},
                                    {"from", "n@example.com"},
                                    {"smarthost", "smtp.example.com:587"},
                                    {"hello", "me.example.com"},
                                    {"auth_username", "u"},
                                    {"auth_password", "pw"},
                                    {"require_tls", "true"},
                                    {"tls_server_name", "smtp"}},
              11);
    type_case("feishu app",
              "{\"receiver\":{\"spec\":{\"feishu\":{\"user\":[\"u1\"],\"department\":[\"d1\"],"
              "\"tmplType\":\"text\"}}},\"config\":{\"spec\":{\"feishu\":{\"appID\":{\"value\":"
              "\"id\"},\"appSecret\":{\"value\":\"sec\"}}}}}",
              "feishu",
              (const struct want[]){{"user", "u1"},
                                    {"department", "d1"},
                                    {"template_type", "text"},
                                    {"app_id", "id"},
                                    {"app_secret", "sec"}},
              5);
    type_case("feishu chatbot (the Config's app keys do not apply)",
              "{\"receiver\":{\"spec\":{\"feishu\":{\"chatbot\":{\"webhook\":{\"value\":"
              "\"https://open.feishu.cn/open-apis/bot/v2/hook/x\"},\"keywords\":[\"k\"]}}}},"
              "\"config\":{\"spec\":{\"feishu\":{\"appID\":{\"value\":\"id\"},\"appSecret\":"
              "{\"value\":\"sec\"}}}}}",
              "feishu",
              (const struct want[]){{"webhook", "https://open.feishu.cn/open-apis/bot/v2/hook/x"},
                                    {"keywords", "k"}},
              2);
    type_case("pushover",
              "{\"receiver\":{\"spec\":{\"pushover\":{\"profiles\":[{\"userKey\":"
              "\"uQiRzpo4DXghDmr9QzzfQu27cmVRsG\",\"devices\":[\"iphone\"],\"sound\":\"siren\","
              "\"title\":\"x\"}]}}},\"config\":{\"spec\":{\"pushover\":{\"pushoverTokenSecret\":"
              "{\"value\":\"azGDORePK8gMaC0QOYAMyEEuzJnyUi\"}}}}}",
              "pushover",
              (const struct want[]){{"profile.p0.user_key", "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"},
                                    {"profile.p0.devices", "iphone"},
                                    {"profile.p0.sound", "siren"},
                                    {"token", "azGDORePK8gMaC0QOYAMyEEuzJnyUi"}},
              4);
    type_case("slack",
              "{\"receiver\":{\"spec\":{\"slack\":{\"channels\":[\"#a\",\"C01\"]}}},\"config\":"
              "{\"spec\":{\"slack\":{\"slackTokenSecret\":{\"value\":\"xoxb-1\"}}}}}",
              "slack", (const struct want[]){{"channels", "#a, C01"}, {"token", "xoxb-1"}}, 2);
    type_case("sms (the only provider given)",
              "{\"receiver\":{\"spec\":{\"sms\":{\"phoneNumbers\":[\"+8613800000000\"]}}},"
              "\"config\":{\"spec\":{\"sms\":{\"providers\":{\"tencent\":{\"sign\":\"S\","
              "\"templateID\":\"1\",\"smsSdkAppid\":\"140\",\"secretId\":{\"value\":\"id\"},"
              "\"secretKey\":{\"value\":\"k\"}}}}}}}",
              "sms",
              (const struct want[]){{"phone_numbers", "+8613800000000"},
                                    {"provider", "tencent"},
                                    {"sign", "S"},
                                    {"template_id", "1"},
                                    {"sms_sdk_app_id", "140"},
                                    {"secret_id", "id"},
                                    {"secret_key", "k"}},
              7);
    type_case("sms (defaultProvider; the other provider's keys left out)",
              "{\"receiver\":{\"spec\":{\"sms\":{\"phoneNumbers\":[\"+15555550100\"]}}},"
              "\"config\":{\"spec\":{\"sms\":{\"defaultProvider\":\"aws\",\"providers\":{"
              "\"aliyun\":{\"signName\":\"x\"},\"aws\":{\"region\":\"us-east-1\","
              "\"accessKeyId\":{\"value\":\"AK\"},\"secretAccessKey\":{\"value\":\"SK\"}}}}}}}",
              "sms",
              (const struct want[]){{"phone_numbers", "+15555550100"},
                                    {"provider", "aws"},
                                    {"region", "us-east-1"},
                                    {"access_key_id", "AK"},
                                    {"secret_access_key", "SK"}},
              5);
    type_case("wechat app",
              "{\"receiver\":{\"spec\":{\"wechat\":{\"toUser\":[\"u\"],\"toParty\":[\"1\"],"
              "\"toTag\":[\"2\"],\"tmplType\":\"markdown\"}}},\"config\":{\"spec\":{\"wechat\":{"
              "\"wechatApiUrl\":\"https://qyapi.weixin.qq.com/cgi-bin/\",\"wechatApiCorpId\":"
              "\"corp\",\"wechatApiAgentId\":\"1000002\",\"wechatApiSecret\":{\"value\":\"s\"}}}}}",
              "wechat",
              (const struct want[]){{"to_user", "u"},
                                    {"to_party", "1"},
                                    {"to_tag", "2"},
                                    {"template_type", "markdown"},
                                    {"api_url", "https://qyapi.weixin.qq.com/cgi-bin/"},
                                    {"corp_id", "corp"},
                                    {"agent_id", "1000002"},
                                    {"api_secret", "s"}},
              8);
    type_case(
        "wechat chatbot",
        "{\"receiver\":{\"spec\":{\"wechat\":{\"chatbot\":{\"webhook\":{\"value\":"
        "\"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k\"},\"atUsers\":[\"u\"],"
        "\"atMobiles\":[\"138\"]}}}}}",
        "wechat",
        (const struct want[]){{"webhook", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
                              {"at_users", "u"},
                              {"at_mobiles", "138"}},
        3);
    type_case("discord",
              "{\"receiver\":{\"spec\":{\"discord\":{\"webhook\":{\"value\":"
              "\"https://discord.com/api/webhooks/1/t\"},\"type\":\"embed\",\"mentionedUsers\":"
              "[\"everyone\"],\"mentionedRoles\":[\"9\"],\"template\":\"nm.default.text\"}}}}",
              "discord",
              (const struct want[]){{"webhook", "https://discord.com/api/webhooks/1/t"},
                                    {"message_type", "embed"},
                                    {"mentioned_users", "everyone"},
                                    {"mentioned_roles", "9"},
                                    {"template", "nm.default.text"}},
              5);
    type_case("telegram",
              "{\"receiver\":{\"spec\":{\"telegram\":{\"channels\":[\"-100\"],\"mentionedUsers\":"
              "[\"bob\"]}}},\"config\":{\"spec\":{\"telegram\":{\"telegramTokenSecret\":{"
              "\"value\":\"123:ABC\"}}}}}",
              "telegram",
              (const struct want[]){
                  {"channels", "-100"}, {"mentioned_users", "bob"}, {"token", "123:ABC"}},
              3);
}

static void several_types_and_alerts(void)
{
    char err[ND_ERRLEN];
    struct nd_nmspec *s =
        parse("{\"receiver\":{\"metadata\":{\"name\":\"both\"},\"spec\":{\"webhook\":{\"url\":"
              "\"http://a/\"},\"discord\":{\"enabled\":false,\"webhook\":{\"value\":\"x\"}},"
              "\"slack\":null}},\"alert\":{\"alerts\":[{\"labels\":{\"alertname\":\"A\"}},"
              "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"B\"}}]}}",
              true, err);
    if (!ok(s != NULL, "webhook + disabled discord + alerts: parsed"))
        printf("# %s\n", err);
    if (!s)
        return;
    is_uint(s->nreceivers, 1, "a disabled type and a null one build nothing");
    is_str(s->receivers[0].rc.name, "both", "the name is metadata.name");
    is_uint(s->nalerts, 2, "the alerts of alert.alerts");
    is_str(nd_alert_label(s->alerts[0], "alertname"), "A", "first alert");
    ok(nd_alert_label(s->alerts[0], "cluster") == NULL, "no cluster label added");
    nd_nmspec_free(s);

    s = parse("{\"receiver\":{\"spec\":{\"webhook\":{\"url\":\"http://a/\"}}}}", false, err);
    ok(s && strcmp(s->name, "api") == 0, "no metadata.name: the name is api");
    nd_nmspec_free(s);
}

static void secrets(void)
{
    char err[ND_ERRLEN], msg[ND_ERRLEN];
    /* env: in a credential is a literal: the daemon's environment is not read. */
    struct nd_nmspec *s = parse("{\"receiver\":{\"spec\":{\"webhook\":{\"url\":\"http://a/\","
                                "\"httpConfig\":{\"bearerToken\":{\"value\":"
                                "\"env:NOTIFYD_TEST_SURELY_UNSET\"}}}}}}",
                                false, err);
    if (!s) {
        ok(0, "literal secret body parsed: %s", err);
        return;
    }
    ok(s->receivers[0].rc.literal_secrets, "sections from a request take secrets literally");
    ok(check(&s->receivers[0], msg, sizeof msg), "env:VAR is not resolved (valid literal) %s", msg);
    const struct nd_config_kv *k = kvp(&s->receivers[0], "bearer_token");
    ok(k && k->secret, "the key read as a secret is marked secret");
    k = kvp(&s->receivers[0], "url");
    ok(k && !k->secret, "a plain key is not marked");
    nd_nmspec_free(s);
}

struct err_case {
    const char *what, *body, *want;
    bool want_alert;
};

static void errors(void)
{
    static const struct err_case cases[] = {
        {"not JSON", "{", "", false},
        {"not an object", "[]", "expected a JSON object", false},
        {"no receiver", "{\"alert\":{}}", "Receiver is nil", true},
        {"no alert", "{\"receiver\":{\"spec\":{\"webhook\":{\"url\":\"http://a/\"}}}}",
         "alert is nil", true},
        {"receiver not an object", "{\"receiver\":3}", "receiver: expected an object", false},
        {"config not an object", "{\"receiver\":{},\"config\":[]}", "config: expected an object",
         false},
        {"empty spec", "{\"receiver\":{\"spec\":{}}}", "no receivers provided", false},
        {"unknown type", "{\"receiver\":{\"spec\":{\"msteams\":{}}}}",
         "receiver.spec.msteams: receiver type \"msteams\" is not supported", false},
        {"unknown type in the config",
         "{\"receiver\":{\"spec\":{\"webhook\":{\"url\":\"http://a/\"}}},\"config\":{\"spec\":{"
         "\"msteams\":{}}}}",
         "config.spec.msteams: receiver type", false},
        {"unknown field", "{\"receiver\":{\"spec\":{\"webhook\":{\"url\":\"http://a/\",\"x\":1}}}}",
         "receiver.spec.webhook.x: unknown field", false},
        {"unknown nested field",
         "{\"receiver\":{\"spec\":{\"dingtalk\":{\"chatbot\":{\"hook\":\"x\"}}}}}",
         "receiver.spec.dingtalk.chatbot.hook: unknown field", false},
        {"service", "{\"receiver\":{\"spec\":{\"webhook\":{\"service\":{\"name\":\"s\"}}}}}",
         "receiver.spec.webhook.service: Kubernetes services", false},
        {"tmplText",
         "{\"receiver\":{\"spec\":{\"webhook\":{\"url\":\"http://a/\",\"tmplText\":{\"name\":"
         "\"cm\"}}}}}",
         "receiver.spec.webhook.tmplText: template configmaps", false},
        {"rootCA",
         "{\"receiver\":{\"spec\":{\"webhook\":{\"url\":\"http://a/\",\"httpConfig\":{"
         "\"tlsConfig\":{\"rootCA\":{\"value\":\"PEM\"}}}}}}}",
         "receiver.spec.webhook.httpConfig.tlsConfig.rootCA: inline certificates", false},
        {"secretKeyRef",
         "{\"receiver\":{\"spec\":{\"discord\":{\"webhook\":{\"valueFrom\":{\"secretKeyRef\":{"
         "\"name\":\"s\",\"key\":\"k\"}}}}}}}",
         "receiver.spec.discord.webhook.valueFrom: secret references", false},
        {"credential of the wrong shape",
         "{\"receiver\":{\"spec\":{\"discord\":{\"webhook\":{\"val\":\"x\"}}}}}",
         "receiver.spec.discord.webhook.val: unknown field", false},
        {"a list item with a comma",
         "{\"receiver\":{\"spec\":{\"slack\":{\"channels\":[\"a,b\"]}}},\"config\":{\"spec\":{"
         "\"slack\":{}}}}",
         "receiver.spec.slack.channels[0]: a comma", false},
        {"a list that is no array", "{\"receiver\":{\"spec\":{\"slack\":{\"channels\":\"a\"}}}}",
         "receiver.spec.slack.channels: expected an array", false},
        {"a bool that is a string",
         "{\"receiver\":{\"spec\":{\"webhook\":{\"url\":\"http://a/\",\"enabled\":\"yes\"}}}}",
         "receiver.spec.webhook.enabled: expected true or false", false},
        {"Config required", "{\"receiver\":{\"spec\":{\"telegram\":{\"channels\":[\"1\"]}}}}",
         "config.spec.telegram: a Config with this type is required", false},
        {"unknown Config field",
         "{\"receiver\":{\"spec\":{\"slack\":{\"channels\":[\"a\"]}}},\"config\":{\"spec\":{"
         "\"slack\":{\"token\":\"x\"}}}}",
         "config.spec.slack.token: unknown field", false},
        {"smartHost without port",
         "{\"receiver\":{\"spec\":{\"email\":{\"to\":[\"a@b.c\"]}}},\"config\":{\"spec\":{"
         "\"email\":{\"smartHost\":{\"host\":\"h\"}}}}}",
         "config.spec.email.smartHost: port", false},
        {"pushover profile field",
         "{\"receiver\":{\"spec\":{\"pushover\":{\"profiles\":[{\"user\":\"x\"}]}}},\"config\":{"
         "\"spec\":{\"pushover\":{}}}}",
         "receiver.spec.pushover.profiles[0].user: unknown field", false},
        {"bad name", "{\"receiver\":{\"metadata\":{\"name\":5},\"spec\":{}}}",
         "receiver.metadata.name: expected a non-empty string", false},
        {"bad alert",
         "{\"receiver\":{\"spec\":{\"webhook\":{\"url\":\"http://a/\"}}},\"alert\":{\"alerts\":"
         "[{\"labels\":[]}]}}",
         "alert: alerts[0].labels", true},
    };
    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        char err[ND_ERRLEN];
        struct nd_nmspec *s = parse(cases[i].body, cases[i].want_alert, err);
        ok(s == NULL, "%s: refused", cases[i].what);
        nd_nmspec_free(s);
        if (cases[i].want[0]) {
            if (!ok(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0,
                    "%s: the message names the field", cases[i].what))
                printf("# got \"%s\"\n# want \"%s...\"\n", err, cases[i].want);
        }
    }

    /* Deep nesting is refused before the tree parser recurses. */
    char deep[400];
    strcpy(deep, "{\"receiver\":");
    for (int i = 0; i < 100; i++)
        strcat(deep, "[");
    struct nd_nmspec *s = NULL;
    char err[ND_ERRLEN];
    struct nd_nmspec_opts o = {.max_depth = 64};
    ok(nd_nmspec_parse(deep, strlen(deep), &o, &s, err) != ND_OK && s == NULL,
       "nesting over max_depth refused");
    has_str(err, "nesting deeper than 64", "the message says why");
}

/* Errors of the receiver's own validation name the request field. */
static void explained(void)
{
    char err[ND_ERRLEN], msg[ND_ERRLEN];
    struct nd_nmspec *s =
        parse("{\"receiver\":{\"spec\":{\"webhook\":{\"url\":\"ftp://a/\"}}}}", false, err);
    ok(s && !check(&s->receivers[0], msg, sizeof msg), "ftp url refused by the webhook");
    has_str(msg, "receiver.spec.webhook.url: ", "the error names receiver.spec.webhook.url");
    nd_nmspec_free(s);

    /* A key missing from the section: the field that would give it. */
    s = parse("{\"receiver\":{\"spec\":{\"email\":{\"to\":[\"a@example.com\"]}}},\"config\":{"
              "\"spec\":{\"email\":{\"smartHost\":{\"host\":\"h\",\"port\":25}}}}}",
              false, err);
    ok(s && !check(&s->receivers[0], msg, sizeof msg), "email without from refused");
    has_str(msg, "config.spec.email.from: ", "the error names config.spec.email.from");
    nd_nmspec_free(s);

    s = parse("{\"receiver\":{\"spec\":{\"pushover\":{\"profiles\":[{\"userKey\":\"short\"}]}}},"
              "\"config\":{\"spec\":{\"pushover\":{\"pushoverTokenSecret\":{\"value\":"
              "\"azGDORePK8gMaC0QOYAMyEEuzJnyUi\"}}}}}",
              false, err);
    ok(s && !check(&s->receivers[0], msg, sizeof msg), "bad user key refused");
    has_str(msg, "receiver.spec.pushover.profiles[0].userKey: ", "the error names the profile");
    nd_nmspec_free(s);

    /* A message that is not one of the section's is passed on as it is. */
    struct nd_nmspec_receiver r = {.rc = {.type = "webhook"}};
    nd_nmspec_explain(&r, "something else", msg, sizeof msg);
    is_str(msg, "something else", "foreign message unchanged");
}

int main(void)
{
    char err[ND_ERRLEN];
    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;

    nd_config_errors_init(&errs);
    if (nd_config_load_string(nd_config_default_text, "<default>", &cfg, &errs) != ND_OK)
        return 1;
    defaults = cfg->delivery;
    nd_config_free(cfg);
    nd_config_errors_deinit(&errs);
    tmpl = nd_template_set_new();
    if (nd_template_set_add_defaults(tmpl, err) != ND_OK)
        return 1;

    types();
    several_types_and_alerts();
    secrets();
    errors();
    explained();

    nd_template_set_free(tmpl);
    return done_testing();
}
