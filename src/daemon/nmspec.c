/* nmspec.c - NM's Receiver/Config objects to receiver sections (nmspec.h).
 *
 * The body is parsed with yajl's tree parser after the same prescan as the
 * JSON reader (nesting bounded before yajl recurses). The "alert" member is
 * written back to JSON and parsed by the ingest parser, so that its alerts
 * follow exactly the rules of POST /api/v2/alerts.
 */
#include "notifyd/nmspec.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/jsonr.h"
#include "notifyd/util.h"

enum kind {
    K_OBJ,       /* an object: its members are fields of their own */
    K_STR,       /* a string (or a number, written as given) */
    K_CRED,      /* NM's Credential: {value} (a plain string is taken too) */
    K_LIST,      /* an array of strings, joined with ", " (no item may hold a comma) */
    K_ADDRS,     /* an array of mail addresses, joined with ", " (parsed by email) */
    K_BOOL,      /* true or false */
    K_SMARTHOST, /* {host, port} -> host:port */
    K_PROFILES,  /* pushover profiles[] -> profile.pN.* */
    K_IGNORE,    /* accepted, unused */
    K_REJECT,    /* not supported: 400 with `why` */
};

/* ctx: 'r' = receiver.spec.TYPE, 'c' = config.spec.TYPE. */
struct field {
    const char *type;
    char ctx;
    const char *path; /* relative to spec.TYPE */
    enum kind kind;
    const char *ini; /* the INI key, or `why` for K_REJECT */
};

#define NO_FILES                                                                                   \
    "inline certificates are not supported: use the INI keys tls_ca_file, tls_cert_file"

static const struct field fields[] = {
    /* webhook */
    {"webhook", 'r', "url", K_STR, "url"},
    {"webhook", 'r', "service", K_REJECT,
     "Kubernetes services cannot be resolved by notifyd: give url"},
    {"webhook", 'r', "httpConfig", K_OBJ, NULL},
    {"webhook", 'r', "httpConfig.basicAuth", K_OBJ, NULL},
    {"webhook", 'r', "httpConfig.basicAuth.username", K_CRED, "basic_auth_user"},
    {"webhook", 'r', "httpConfig.basicAuth.password", K_CRED, "basic_auth_password"},
    {"webhook", 'r', "httpConfig.bearerToken", K_CRED, "bearer_token"},
    {"webhook", 'r', "httpConfig.proxyUrl", K_STR, "proxy_url"},
    {"webhook", 'r', "httpConfig.tlsConfig", K_OBJ, NULL},
    {"webhook", 'r', "httpConfig.tlsConfig.rootCA", K_REJECT, NO_FILES},
    {"webhook", 'r', "httpConfig.tlsConfig.clientCertificate", K_REJECT, NO_FILES},
    {"webhook", 'r', "httpConfig.tlsConfig.serverName", K_STR, "tls_server_name"},
    {"webhook", 'r', "httpConfig.tlsConfig.insecureSkipVerify", K_BOOL, "tls_insecure_skip_verify"},
    /* dingtalk */
    {"dingtalk", 'r', "chatbot", K_OBJ, NULL},
    {"dingtalk", 'r', "chatbot.webhook", K_CRED, "webhook"},
    {"dingtalk", 'r', "chatbot.secret", K_CRED, "secret"},
    {"dingtalk", 'r', "chatbot.keywords", K_LIST, "keywords"},
    {"dingtalk", 'r', "chatbot.atMobiles", K_LIST, "at_mobiles"},
    {"dingtalk", 'r', "chatbot.atUsers", K_LIST, "at_users"},
    {"dingtalk", 'r', "chatbot.atAll", K_BOOL, "at_all"},
    {"dingtalk", 'r', "conversation", K_OBJ, NULL},
    {"dingtalk", 'r', "conversation.chatids", K_LIST, "chat_ids"},
    {"dingtalk", 'r', "tmplType", K_STR, "template_type"},
    {"dingtalk", 'r', "titleTemplate", K_STR, "title_template"},
    {"dingtalk", 'c', "conversation", K_OBJ, NULL},
    {"dingtalk", 'c', "conversation.appkey", K_CRED, "app_key"},
    {"dingtalk", 'c', "conversation.appsecret", K_CRED, "app_secret"},
    /* email */
    {"email", 'r', "to", K_ADDRS, "to"},
    {"email", 'r', "tmplType", K_STR, "template_type"},
    {"email", 'r', "subjectTemplate", K_STR, "subject_template"},
    {"email", 'c', "from", K_STR, "from"},
    {"email", 'c', "smartHost", K_SMARTHOST, "smarthost"},
    {"email", 'c', "hello", K_STR, "hello"},
    {"email", 'c', "authUsername", K_STR, "auth_username"},
    {"email", 'c', "authIdentify", K_STR, "auth_identity"},
    {"email", 'c', "authPassword", K_CRED, "auth_password"},
    {"email", 'c', "authSecret", K_CRED, "auth_secret"},
    {"email", 'c', "requireTLS", K_BOOL, "require_tls"},
    {"email", 'c', "tls", K_OBJ, NULL},
    {"email", 'c', "tls.rootCA", K_REJECT, NO_FILES},
    {"email", 'c', "tls.clientCertificate", K_REJECT, NO_FILES},
    {"email", 'c', "tls.serverName", K_STR, "tls_server_name"},
    {"email", 'c', "tls.insecureSkipVerify", K_BOOL, "tls_insecure_skip_verify"},
    /* feishu */
    {"feishu", 'r', "user", K_LIST, "user"},
    {"feishu", 'r', "department", K_LIST, "department"},
    {"feishu", 'r', "chatbot", K_OBJ, NULL},
    {"feishu", 'r', "chatbot.webhook", K_CRED, "webhook"},
    {"feishu", 'r', "chatbot.secret", K_CRED, "secret"},
    {"feishu", 'r', "chatbot.keywords", K_LIST, "keywords"},
    {"feishu", 'r', "tmplType", K_STR, "template_type"},
    {"feishu", 'c', "appID", K_CRED, "app_id"},
    {"feishu", 'c', "appSecret", K_CRED, "app_secret"},
    /* pushover */
    {"pushover", 'r', "profiles", K_PROFILES, "profile"},
    {"pushover", 'r', "titleTemplate", K_STR, "title_template"},
    {"pushover", 'c', "pushoverTokenSecret", K_CRED, "token"},
    /* slack */
    {"slack", 'r', "channels", K_LIST, "channels"},
    {"slack", 'c', "slackTokenSecret", K_CRED, "token"},
    /* sms: only the chosen provider's keys are used (see sms_provider) */
    {"sms", 'r', "phoneNumbers", K_LIST, "phone_numbers"},
    {"sms", 'c', "defaultProvider", K_STR, "provider"},
    {"sms", 'c', "providers", K_OBJ, NULL},
    {"sms", 'c', "providers.aliyun", K_OBJ, NULL},
    {"sms", 'c', "providers.aliyun.signName", K_STR, "sign_name"},
    {"sms", 'c', "providers.aliyun.templateCode", K_STR, "template_code"},
    {"sms", 'c', "providers.aliyun.accessKeyId", K_CRED, "access_key_id"},
    {"sms", 'c', "providers.aliyun.accessKeySecret", K_CRED, "access_key_secret"},
    {"sms", 'c', "providers.tencent", K_OBJ, NULL},
    {"sms", 'c', "providers.tencent.sign", K_STR, "sign"},
    {"sms", 'c', "providers.tencent.templateID", K_STR, "template_id"},
    {"sms", 'c', "providers.tencent.smsSdkAppid", K_STR, "sms_sdk_app_id"},
    {"sms", 'c', "providers.tencent.secretId", K_CRED, "secret_id"},
    {"sms", 'c', "providers.tencent.secretKey", K_CRED, "secret_key"},
    {"sms", 'c', "providers.huawei", K_OBJ, NULL},
    {"sms", 'c', "providers.huawei.url", K_STR, "api_url"},
    {"sms", 'c', "providers.huawei.signature", K_STR, "signature"},
    {"sms", 'c', "providers.huawei.templateId", K_STR, "template_id"},
    {"sms", 'c', "providers.huawei.sender", K_STR, "sender"},
    {"sms", 'c', "providers.huawei.appKey", K_CRED, "app_key"},
    {"sms", 'c', "providers.huawei.appSecret", K_CRED, "app_secret"},
    {"sms", 'c', "providers.aws", K_OBJ, NULL},
    {"sms", 'c', "providers.aws.region", K_STR, "region"},
    {"sms", 'c', "providers.aws.accessKeyId", K_CRED, "access_key_id"},
    {"sms", 'c', "providers.aws.secretAccessKey", K_CRED, "secret_access_key"},
    /* wechat */
    {"wechat", 'r', "toUser", K_LIST, "to_user"},
    {"wechat", 'r', "toParty", K_LIST, "to_party"},
    {"wechat", 'r', "toTag", K_LIST, "to_tag"},
    {"wechat", 'r', "chatbot", K_OBJ, NULL},
    {"wechat", 'r', "chatbot.webhook", K_CRED, "webhook"},
    {"wechat", 'r', "chatbot.atUsers", K_LIST, "at_users"},
    {"wechat", 'r', "chatbot.atMobiles", K_LIST, "at_mobiles"},
    {"wechat", 'r', "tmplType", K_STR, "template_type"},
    {"wechat", 'c', "wechatApiUrl", K_STR, "api_url"},
    {"wechat", 'c', "wechatApiCorpId", K_CRED, "corp_id"},
    {"wechat", 'c', "wechatApiAgentId", K_STR, "agent_id"},
    {"wechat", 'c', "wechatApiSecret", K_CRED, "api_secret"},
    /* discord */
    {"discord", 'r', "webhook", K_CRED, "webhook"},
    {"discord", 'r', "type", K_STR, "message_type"},
    {"discord", 'r', "mentionedUsers", K_LIST, "mentioned_users"},
    {"discord", 'r', "mentionedRoles", K_LIST, "mentioned_roles"},
    /* telegram */
    {"telegram", 'r', "channels", K_LIST, "channels"},
    {"telegram", 'r', "mentionedUsers", K_LIST, "mentioned_users"},
    {"telegram", 'c', "telegramTokenSecret", K_CRED, "token"},
};

/* The types of receiver.spec, in NM's order, and the receiver keys that
 * make the Config's spec.TYPE apply: NM's Config carries an app's
 * credentials, which notifyd refuses next to a chatbot's webhook. NULL =
 * the Config always applies. */
static const struct {
    const char *type;
    const char *const *config_when;
    bool needs_config; /* NM's Validate: a Config is required (when config_when applies) */
} types[] = {
    {"dingtalk", (const char *const[]){"chat_ids", NULL}, true},
    {"email", NULL, true},
    {"feishu", (const char *const[]){"user", "department", NULL}, true},
    {"pushover", NULL, true},
    {"slack", NULL, true},
    {"sms", NULL, true},
    {"webhook", NULL, false},
    {"wechat", (const char *const[]){"to_user", "to_party", "to_tag", NULL}, true},
    {"discord", NULL, false},
    {"telegram", NULL, true},
};

#define MAX_KVS      256
#define MAX_PROFILES 1024

/* A section being built. */
struct build {
    const char *type;
    char ctx;
    const char *only_provider; /* sms: the provider whose keys are kept */
    size_t n;
    struct nd_config_kv kvs[MAX_KVS];
    char *paths[MAX_KVS];
    char *err; /* ND_ERRLEN */
};

static const struct field *find_field(const char *type, char ctx, const char *path)
{
    for (size_t i = 0; i < ND_ARRAY_LEN(fields); i++)
        if (fields[i].ctx == ctx && strcmp(fields[i].type, type) == 0 &&
            strcmp(fields[i].path, path) == 0)
            return &fields[i];
    return NULL;
}

static const char *prefix_of(char ctx)
{
    return ctx == 'r' ? "receiver.spec." : "config.spec.";
}

static int fail(struct build *b, const char *rel, const char *msg)
{
    return nd_seterr(b->err, ND_EINVAL, "%s%s%s%s: %s", prefix_of(b->ctx), b->type, *rel ? "." : "",
                     rel, msg);
}

static int add_kv(struct build *b, const char *rel, const char *key, const char *value)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->kvs[i].key, key) == 0) {
            /* The same key from the receiver and the Config: the receiver's. */
            return ND_OK;
        }
    if (b->n >= MAX_KVS)
        return fail(b, rel, "more than 256 settings");
    char path[512];
    snprintf(path, sizeof path, "%s%s%s%s", prefix_of(b->ctx), b->type, *rel ? "." : "", rel);
    b->kvs[b->n].key = nd_xstrdup(key);
    b->kvs[b->n].value = nd_xstrdup(value);
    b->kvs[b->n].line = (int)b->n + 1;
    b->kvs[b->n].used = false;
    b->kvs[b->n].secret = false;
    b->paths[b->n] = nd_xstrdup(path);
    b->n++;
    return ND_OK;
}

static const char *scalar(yajl_val v)
{
    if (YAJL_IS_STRING(v))
        return YAJL_GET_STRING(v);
    if (YAJL_IS_NUMBER(v))
        return YAJL_GET_NUMBER(v);
    return NULL;
}

static yajl_val member(yajl_val obj, const char *name)
{
    if (!YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], name) == 0)
            return obj->u.object.values[i];
    return NULL;
}

/* An array of strings joined with ", "; an item that would split (comma,
 * line end) is an error unless `addrs` (the e-mail parser reads quoted
 * commas itself). */
static int join_list(struct build *b, const char *rel, yajl_val v, bool addrs, struct nd_buf *out)
{
    if (!YAJL_IS_ARRAY(v))
        return fail(b, rel, "expected an array of strings");
    for (size_t i = 0; i < v->u.array.len; i++) {
        const char *s = scalar(v->u.array.values[i]);
        char at[300];
        snprintf(at, sizeof at, "%s[%zu]", rel, i);
        if (!s)
            return fail(b, at, "expected a string");
        if (strchr(s, '\n') || strchr(s, '\r') || (!addrs && strchr(s, ',')))
            return fail(b, at, "a comma or line end cannot be passed on");
        if (i)
            nd_buf_add(out, ", ", 2);
        nd_buf_adds(out, s);
    }
    return ND_OK;
}

static int cred(struct build *b, const char *rel, yajl_val v, const char **out)
{
    *out = scalar(v);
    if (*out)
        return ND_OK;
    if (!YAJL_IS_OBJECT(v))
        return fail(b, rel, "expected a credential {\"value\": \"...\"}");
    for (size_t i = 0; i < v->u.object.len; i++) {
        const char *k = v->u.object.keys[i];
        char at[300];
        snprintf(at, sizeof at, "%s.%.40s", rel, k);
        if (strcmp(k, "valueFrom") == 0)
            return fail(b, at,
                        "secret references cannot be resolved by notifyd: give the secret as "
                        "value");
        if (strcmp(k, "value") != 0)
            return fail(b, at, "unknown field");
    }
    yajl_val val = member(v, "value");
    *out = val ? scalar(val) : NULL;
    if (!*out)
        return fail(b, rel, "expected a string in value");
    return ND_OK;
}

/* NM's Transform: a bare name, or {{ template "NAME" . }}; the template
 * NAME, or NULL when the text is something else. */
static bool template_is(const char *t, const char *name)
{
    char squeezed[256];
    size_t n = 0;
    for (const char *p = t; *p && n + 1 < sizeof squeezed; p++)
        if (*p != ' ')
            squeezed[n++] = *p;
    squeezed[n] = '\0';
    if (strcmp(squeezed, name) == 0)
        return true;
    char inv[256];
    snprintf(inv, sizeof inv, "{{template\"%s\".}}", name);
    return strcmp(squeezed, inv) == 0;
}

static int walk(struct build *b, const char *prefix, yajl_val obj);

static int profiles(struct build *b, const char *rel, yajl_val v)
{
    if (!YAJL_IS_ARRAY(v))
        return fail(b, rel, "expected an array of profiles");
    if (v->u.array.len > MAX_PROFILES)
        return fail(b, rel, "more than 1024 profiles");
    for (size_t i = 0; i < v->u.array.len; i++) {
        yajl_val p = v->u.array.values[i];
        char at[300], key[64];
        snprintf(at, sizeof at, "%s[%zu]", rel, i);
        if (!YAJL_IS_OBJECT(p))
            return fail(b, at, "expected an object");
        for (size_t k = 0; k < p->u.object.len; k++) {
            const char *name = p->u.object.keys[k];
            yajl_val pv = p->u.object.values[k];
            char fld[400];
            snprintf(fld, sizeof fld, "%s.%.64s", at, name);
            if (YAJL_IS_NULL(pv) || strcmp(name, "title") == 0) /* NM ignores title */
                continue;
            if (strcmp(name, "userKey") == 0 || strcmp(name, "sound") == 0) {
                const char *s = scalar(pv);
                if (!s)
                    return fail(b, fld, "expected a string");
                snprintf(key, sizeof key, "profile.p%zu.%s", i,
                         name[0] == 'u' ? "user_key" : "sound");
                if (add_kv(b, fld, key, s) != ND_OK)
                    return ND_EINVAL;
            } else if (strcmp(name, "devices") == 0) {
                struct nd_buf l;
                nd_buf_init(&l, 1 << 20);
                int rc = join_list(b, fld, pv, false, &l);
                snprintf(key, sizeof key, "profile.p%zu.devices", i);
                if (rc == ND_OK)
                    rc = add_kv(b, fld, key, nd_buf_cstr(&l));
                nd_buf_deinit(&l);
                if (rc != ND_OK)
                    return rc;
            } else {
                return fail(b, fld, "unknown field");
            }
        }
    }
    return ND_OK;
}

static int one(struct build *b, const char *rel, yajl_val v)
{
    /* Fields every type has (receiver side). */
    if (b->ctx == 'r' && !strchr(rel, '.')) {
        char sel[64];
        snprintf(sel, sizeof sel, "%sConfigSelector", b->type);
        if (strcmp(rel, "enabled") == 0 || strcmp(rel, "alertSelector") == 0 ||
            strcmp(rel, sel) == 0)
            return ND_OK; /* enabled: read by the caller */
        if (strcmp(rel, "tmplText") == 0)
            return fail(b, rel,
                        "template configmaps are not supported: load the templates with "
                        "[template] files");
        if (strcmp(rel, "template") == 0) {
            const char *s = scalar(v);
            if (!s)
                return fail(b, rel, "expected a string");
            /* The webhook's default is NM's JSON, which is what notifyd's
             * webhook sends without a template. */
            if (strcmp(b->type, "webhook") == 0 &&
                (template_is(s, "webhook.default.message") || template_is(s, "nm.default.history")))
                return ND_OK;
            return add_kv(b, rel, "template", s);
        }
    }
    if (b->ctx == 'c' && strcmp(rel, "labels") == 0)
        return ND_OK; /* in NM's Config types, unused */

    const struct field *f = find_field(b->type, b->ctx, rel);
    if (!f)
        return fail(b, rel, "unknown field");
    if (f->kind == K_REJECT)
        return fail(b, rel, f->ini);
    if (YAJL_IS_NULL(v) || f->kind == K_IGNORE)
        return ND_OK;
    /* sms: keys of a provider other than the chosen one are left out. */
    if (strncmp(rel, "providers.", 10) == 0 && f->kind != K_OBJ) {
        const char *p = rel + 10;
        size_t n = strcspn(p, ".");
        if (!b->only_provider || strlen(b->only_provider) != n ||
            strncmp(p, b->only_provider, n) != 0)
            return ND_OK;
    }
    const char *s = NULL;
    switch (f->kind) {
    case K_OBJ:
        if (!YAJL_IS_OBJECT(v))
            return fail(b, rel, "expected an object");
        return walk(b, rel, v);
    case K_STR:
        s = scalar(v);
        if (!s)
            return fail(b, rel, "expected a string");
        return add_kv(b, rel, f->ini, s);
    case K_CRED:
        if (cred(b, rel, v, &s) != ND_OK)
            return ND_EINVAL;
        return add_kv(b, rel, f->ini, s);
    case K_BOOL:
        if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
            return fail(b, rel, "expected true or false");
        return add_kv(b, rel, f->ini, YAJL_IS_TRUE(v) ? "true" : "false");
    case K_LIST:
    case K_ADDRS: {
        struct nd_buf l;
        nd_buf_init(&l, 1 << 20);
        int rc = join_list(b, rel, v, f->kind == K_ADDRS, &l);
        if (rc == ND_OK && l.len) /* an empty list is an absent key */
            rc = add_kv(b, rel, f->ini, nd_buf_cstr(&l));
        nd_buf_deinit(&l);
        return rc;
    }
    case K_SMARTHOST: {
        yajl_val h = member(v, "host"), p = member(v, "port");
        if (!YAJL_IS_OBJECT(v))
            return fail(b, rel, "expected an object {host, port}");
        for (size_t i = 0; i < v->u.object.len; i++)
            if (strcmp(v->u.object.keys[i], "host") && strcmp(v->u.object.keys[i], "port")) {
                char at[300];
                snprintf(at, sizeof at, "%s.%.40s", rel, v->u.object.keys[i]);
                return fail(b, at, "unknown field");
            }
        const char *hs = h ? scalar(h) : NULL, *ps = p ? scalar(p) : NULL;
        if (!hs || !*hs)
            return fail(b, rel, "host: expected a string");
        if (!ps || !*ps)
            return fail(b, rel, "port: expected a number");
        char hp[600];
        if (strlen(hs) > 512)
            return fail(b, rel, "host: too long");
        snprintf(hp, sizeof hp, strchr(hs, ':') ? "[%s]:%s" : "%s:%s", hs, ps);
        return add_kv(b, rel, f->ini, hp);
    }
    case K_PROFILES:
        return profiles(b, rel, v);
    case K_IGNORE:
    case K_REJECT:
        break;
    }
    return ND_OK;
}

static int walk(struct build *b, const char *prefix, yajl_val obj)
{
    for (size_t i = 0; i < obj->u.object.len; i++) {
        char rel[256];
        int n =
            snprintf(rel, sizeof rel, "%s%s%s", prefix, *prefix ? "." : "", obj->u.object.keys[i]);
        if (n < 0 || (size_t)n >= sizeof rel)
            return fail(b, prefix, "field name too long");
        if (one(b, rel, obj->u.object.values[i]) != ND_OK)
            return ND_EINVAL;
    }
    return ND_OK;
}

static bool has_key(const struct build *b, const char *key)
{
    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->kvs[i].key, key) == 0)
            return true;
    return false;
}

/* NM's SMS Config: defaultProvider, else the only provider given. */
static const char *sms_provider(yajl_val cspec)
{
    yajl_val dp = member(cspec, "defaultProvider");
    if (dp && YAJL_IS_STRING(dp))
        return YAJL_GET_STRING(dp);
    yajl_val ps = member(cspec, "providers");
    const char *only = NULL;
    if (!YAJL_IS_OBJECT(ps))
        return NULL;
    for (size_t i = 0; i < ps->u.object.len; i++) {
        if (YAJL_IS_NULL(ps->u.object.values[i]))
            continue;
        if (only)
            return NULL;
        only = ps->u.object.keys[i];
    }
    return only;
}

static void build_discard(struct build *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->kvs[i].key);
        free(b->kvs[i].value);
        free(b->paths[i]);
    }
    b->n = 0;
}

/* One type of receiver.spec (rspec) with its Config part (cspec, may be
 * NULL) into a section. */
static int build_type(struct nd_nmspec *s, const char *type, const char *const *config_when,
                      bool needs_config, yajl_val rspec, yajl_val cspec, char *err)
{
    struct build *b = nd_xcalloc(1, sizeof *b);
    int rc;

    b->type = type;
    b->ctx = 'r';
    b->err = err;
    if (!YAJL_IS_OBJECT(rspec)) {
        rc = fail(b, "", "expected an object");
        goto out;
    }
    rc = walk(b, "", rspec);
    if (rc == ND_OK && strcmp(type, "email") == 0 && has_key(b, "to"))
        rc = add_kv(b, "to", "send_separately", "true"); /* NM: one session per recipient */
    bool applies = true;
    if (config_when) {
        applies = false;
        for (const char *const *k = config_when; *k; k++)
            applies |= has_key(b, *k);
    }
    bool use_config = cspec != NULL && applies;
    if (rc == ND_OK && !cspec && applies && needs_config) {
        b->ctx = 'c';
        rc = fail(b, "", "a Config with this type is required (credentials, server)");
    }
    if (rc == ND_OK && cspec && !YAJL_IS_OBJECT(cspec)) {
        b->ctx = 'c';
        rc = fail(b, "", "expected an object");
    }
    if (rc == ND_OK && use_config) {
        b->ctx = 'c';
        if (strcmp(type, "sms") == 0) {
            b->only_provider = sms_provider(cspec);
            if (b->only_provider && !member(cspec, "defaultProvider"))
                rc = add_kv(b, "providers", "provider", b->only_provider);
        }
        if (rc == ND_OK)
            rc = walk(b, "", cspec);
    }
    if (rc == ND_OK) {
        struct nd_nmspec_receiver *r;
        s->receivers = nd_xrealloc(s->receivers, (s->nreceivers + 1) * sizeof *s->receivers);
        r = &s->receivers[s->nreceivers++];
        memset(r, 0, sizeof *r);
        r->rc.name = nd_xstrdup(s->name);
        r->rc.type = nd_xstrdup(type);
        size_t sl = strlen(type) + 8;
        r->rc.section = nd_xmalloc(sl);
        snprintf(r->rc.section, sl, "spec.%s", type);
        r->rc.file = "request";
        r->rc.literal_secrets = true;
        r->rc.nkvs = b->n;
        r->rc.kvs = nd_xcalloc(b->n ? b->n : 1, sizeof *r->rc.kvs);
        r->paths = nd_xcalloc(b->n ? b->n : 1, sizeof *r->paths);
        memcpy(r->rc.kvs, b->kvs, b->n * sizeof *b->kvs);
        memcpy(r->paths, b->paths, b->n * sizeof *b->paths);
        b->n = 0;
    }
out:
    build_discard(b);
    free(b);
    return rc;
}

static void gen_tree(yajl_gen g, yajl_val v)
{
    switch (v->type) {
    case yajl_t_string:
        yajl_gen_string(g, (const unsigned char *)v->u.string, strlen(v->u.string));
        break;
    case yajl_t_number:
        yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
        break;
    case yajl_t_object:
        yajl_gen_map_open(g);
        for (size_t i = 0; i < v->u.object.len; i++) {
            const char *k = v->u.object.keys[i];
            yajl_gen_string(g, (const unsigned char *)k, strlen(k));
            gen_tree(g, v->u.object.values[i]);
        }
        yajl_gen_map_close(g);
        break;
    case yajl_t_array:
        yajl_gen_array_open(g);
        for (size_t i = 0; i < v->u.array.len; i++)
            gen_tree(g, v->u.array.values[i]);
        yajl_gen_array_close(g);
        break;
    case yajl_t_true:
        yajl_gen_bool(g, 1);
        break;
    case yajl_t_false:
        yajl_gen_bool(g, 0);
        break;
    default:
        yajl_gen_null(g);
        break;
    }
}

static int parse_alert(struct nd_nmspec *s, yajl_val a, const struct nd_nmspec_opts *o, char *err)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    const unsigned char *buf;
    size_t len;
    char e[ND_ERRLEN];
    int rc;

    if (!g)
        abort();
    gen_tree(g, a);
    yajl_gen_get_buf(g, &buf, &len);
    rc = nd_ingest_parse(&o->alert, buf, len, &s->alerts, &s->nalerts, NULL, e);
    yajl_gen_free(g);
    if (rc != ND_OK)
        return nd_seterr(err, ND_EINVAL, "alert: %s", e);
    return ND_OK;
}

int nd_nmspec_parse(const char *body, size_t len, const struct nd_nmspec_opts *o,
                    struct nd_nmspec **out, char *err)
{
    char yerr[ND_ERRLEN];
    yajl_val root;
    struct nd_nmspec *s;
    int rc;

    *out = NULL;
    rc = nd_jsonr_prescan(body, len, o->max_depth ? o->max_depth : 64, err);
    if (rc != ND_OK)
        return ND_EINVAL; /* err set by the prescan */
    char *text = nd_xstrndup(body, len);
    yerr[0] = '\0';
    root = yajl_tree_parse(text, yerr, sizeof yerr);
    free(text);
    if (!root) {
        char *nl = strchr(yerr, '\n');
        if (nl)
            *nl = '\0';
        return nd_seterr(err, ND_EINVAL, "%s", yerr[0] ? yerr : "malformed JSON");
    }
    if (!YAJL_IS_OBJECT(root)) {
        yajl_tree_free(root);
        return nd_seterr(err, ND_EINVAL, "expected a JSON object");
    }
    yajl_val recv = member(root, "receiver"), conf = member(root, "config");
    yajl_val alert = member(root, "alert");
    if (!recv || YAJL_IS_NULL(recv)) {
        yajl_tree_free(root);
        return nd_seterr(err, ND_EINVAL, "Receiver is nil");
    }
    if (o->want_alert && (!alert || YAJL_IS_NULL(alert))) {
        yajl_tree_free(root);
        return nd_seterr(err, ND_EINVAL, "alert is nil");
    }
    rc = ND_EINVAL;
    s = nd_xcalloc(1, sizeof *s);
    if (!YAJL_IS_OBJECT(recv)) {
        nd_seterr(err, ND_EINVAL, "receiver: expected an object");
        goto out;
    }
    if (conf && YAJL_IS_NULL(conf))
        conf = NULL;
    if (conf && !YAJL_IS_OBJECT(conf)) {
        nd_seterr(err, ND_EINVAL, "config: expected an object");
        goto out;
    }
    yajl_val name = member(member(recv, "metadata"), "name");
    if (name && !YAJL_IS_NULL(name)) {
        const char *nm = YAJL_IS_STRING(name) ? name->u.string : NULL;
        if (!nm || !*nm) {
            nd_seterr(err, ND_EINVAL, "receiver.metadata.name: expected a non-empty string");
            goto out;
        }
        if (strlen(nm) > ND_NMSPEC_NAME_MAX) {
            nd_seterr(err, ND_EINVAL, "receiver.metadata.name: longer than %d bytes",
                      ND_NMSPEC_NAME_MAX);
            goto out;
        }
        s->name = nd_xstrdup(nm);
    } else {
        s->name = nd_xstrdup("api");
    }
    yajl_val rspec = member(recv, "spec"), cspec = conf ? member(conf, "spec") : NULL;
    if (rspec && !YAJL_IS_NULL(rspec) && !YAJL_IS_OBJECT(rspec)) {
        nd_seterr(err, ND_EINVAL, "receiver.spec: expected an object");
        goto out;
    }
    if (cspec && !YAJL_IS_NULL(cspec) && !YAJL_IS_OBJECT(cspec)) {
        nd_seterr(err, ND_EINVAL, "config.spec: expected an object");
        goto out;
    }
    for (size_t i = 0; YAJL_IS_OBJECT(rspec) && i < rspec->u.object.len; i++) {
        const char *t = rspec->u.object.keys[i];
        yajl_val v = rspec->u.object.values[i];
        size_t k;
        for (k = 0; k < ND_ARRAY_LEN(types); k++)
            if (strcmp(types[k].type, t) == 0)
                break;
        if (k == ND_ARRAY_LEN(types)) {
            nd_seterr(err, ND_EINVAL,
                      "receiver.spec.%.64s: receiver type \"%.64s\" is not supported", t, t);
            goto out;
        }
        if (YAJL_IS_NULL(v))
            continue;
        yajl_val en = member(v, "enabled");
        if (en && !YAJL_IS_NULL(en) && !YAJL_IS_TRUE(en) && !YAJL_IS_FALSE(en)) {
            nd_seterr(err, ND_EINVAL, "receiver.spec.%s.enabled: expected true or false", t);
            goto out;
        }
        if (en && YAJL_IS_FALSE(en))
            continue; /* NM builds no receiver for a disabled type */
        yajl_val c = YAJL_IS_OBJECT(cspec) ? member(cspec, t) : NULL;
        if (c && YAJL_IS_NULL(c))
            c = NULL;
        if (build_type(s, t, types[k].config_when, types[k].needs_config, v, c, err) != ND_OK)
            goto out;
    }
    /* Config types the receiver lacks are ignored, but must be known. */
    for (size_t i = 0; YAJL_IS_OBJECT(cspec) && i < cspec->u.object.len; i++) {
        const char *t = cspec->u.object.keys[i];
        size_t k;
        for (k = 0; k < ND_ARRAY_LEN(types); k++)
            if (strcmp(types[k].type, t) == 0)
                break;
        if (k == ND_ARRAY_LEN(types)) {
            nd_seterr(err, ND_EINVAL, "config.spec.%.64s: receiver type \"%.64s\" is not supported",
                      t, t);
            goto out;
        }
    }
    if (s->nreceivers == 0) {
        nd_seterr(err, ND_EINVAL, "no receivers provided");
        goto out;
    }
    if (o->want_alert && parse_alert(s, alert, o, err) != ND_OK)
        goto out;
    rc = ND_OK;
out:
    yajl_tree_free(root);
    if (rc != ND_OK) {
        nd_nmspec_free(s);
        return rc;
    }
    *out = s;
    return ND_OK;
}

void nd_nmspec_free(struct nd_nmspec *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nreceivers; i++) {
        struct nd_nmspec_receiver *r = &s->receivers[i];
        for (size_t k = 0; k < r->rc.nkvs; k++) {
            free(r->rc.kvs[k].key);
            free(r->rc.kvs[k].value);
            free(r->paths[k]);
        }
        free(r->rc.kvs);
        free(r->paths);
        free(r->rc.name);
        free(r->rc.type);
        free(r->rc.section);
    }
    free(s->receivers);
    nd_ingest_alerts_free(s->alerts, s->nalerts);
    free(s->name);
    free(s);
}

void nd_nmspec_explain(const struct nd_nmspec_receiver *r, const char *msg, char *out, size_t outsz)
{
    const char *p = msg;
    long line = 0;

    if (strncmp(p, "request", 7) != 0) {
        snprintf(out, outsz, "%s", msg);
        return;
    }
    p += 7;
    if (*p == ':' && isdigit((unsigned char)p[1])) {
        line = strtol(p + 1, (char **)&p, 10);
    }
    if (strncmp(p, ": [", 3) != 0 || !(p = strchr(p, ']'))) {
        snprintf(out, outsz, "%s", msg);
        return;
    }
    p++;
    if (strncmp(p, ": ", 2) == 0) { /* no key */
        snprintf(out, outsz, "receiver.spec.%s: %s", r->rc.type, p + 2);
        return;
    }
    if (*p == ' ')
        p++;
    const char *ke = strstr(p, ": ");
    if (!ke) {
        snprintf(out, outsz, "%s", msg);
        return;
    }
    if (line >= 1 && (size_t)line <= r->rc.nkvs) {
        snprintf(out, outsz, "%s: %s", r->paths[line - 1], ke + 2);
        return;
    }
    /* An absent key: the field that would have given it. */
    char key[64];
    snprintf(key, sizeof key, "%.*s", (int)(ke - p), p);
    for (size_t i = 0; i < ND_ARRAY_LEN(fields); i++) {
        const struct field *f = &fields[i];
        if (f->kind != K_OBJ && f->kind != K_REJECT && f->ini && strcmp(f->type, r->rc.type) == 0 &&
            strcmp(f->ini, key) == 0) {
            snprintf(out, outsz, "%s%s.%s: %s", prefix_of(f->ctx), f->type, f->path, ke + 2);
            return;
        }
    }
    snprintf(out, outsz, "receiver.spec.%s (%s): %s", r->rc.type, key, ke + 2);
}
