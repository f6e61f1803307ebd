/* wechat.c - the WeCom (企业微信, WeChat Work) receiver: app messages to
 * users, departments and tags through an app's access token, or a group
 * robot's webhook.
 *
 * Keys are in docs/receivers.md. A notification is split by whole alerts
 * (nd_chunks_split) so that each message's JSON-escaped content stays below
 * max_message_size; an alert that alone exceeds it is sent cut, ending
 * with ND_CHUNK_MARK, never dropped.
 *
 * App: GET <api_url>/gettoken?corpid=&corpsecret= through the engine's
 * prepare step (one token per app, shared by receivers, kept for
 * expires_in less a margin), then POST <api_url>/message/send?access_token=
 * with {"touser":"a|b","toparty":..,"totag":..,"msgtype":..,"agentid":N,
 * "text"|"markdown":{"content":..}}
 * (https://developer.work.weixin.qq.com/document/path/90236). WeCom takes
 * at most 1000 users, 100 departments and 100 tags per request: lane i of
 * the fan-out carries the i-th slice of each list.
 * Robot: POST <webhook> with {"msgtype":"text","text":{"content":..,
 * "mentioned_list":[..],"mentioned_mobile_list":[..]}} or, in markdown,
 * the mentions as <@userid> after the content
 * (https://developer.work.weixin.qq.com/document/path/91770).
 *
 * Verdict: HTTP 200 with errcode 0 is delivered (an app message also
 * wants no invaliduser/invalidparty/invalidtag); errcode -1 (busy) retries
 * after the backoff, 45009 (over the rate limit) after rate_limit_delay
 * (WeCom's answer carries no delay); 40014/41001/42001 (bad, missing or
 * expired token) on an app drop the token and send again at once with a
 * new one (once per message, see receiver.h); any other errcode fails at
 * once with the code and errmsg in the reason
 * (https://developer.work.weixin.qq.com/document/path/90313).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/chunks.h"
#include "notifyd/json.h"
#include "notifyd/jsonr.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/token.h"
#include "notifyd/url.h"
#include "notifyd/util.h"

#define DEFAULT_API_URL "https://qyapi.weixin.qq.com/cgi-bin"
/* WeCom's content limits in bytes: 2048 for text (app and robot) and for
 * an app's markdown, 4096 for a robot's markdown. */
#define TEXT_MAX_SIZE         2048
#define BOT_MARKDOWN_MAX_SIZE 4096
#define MIN_MAX_SIZE          128
/* Recipients per message/send request, WeCom's limits. */
#define USERS_PER_REQUEST   1000
#define PARTIES_PER_REQUEST 100
#define TAGS_PER_REQUEST    100
#define AGENT_ID_MAX        INT64_C(9007199254740991) /* exact in any JSON reader */
#define RATE_LIMIT_DELAY_NS (60 * ND_NS_PER_S)

#define ERR_BUSY          (-1)
#define ERR_TOKEN_INVALID 40014
#define ERR_TOKEN_MISSING 41001
#define ERR_TOKEN_EXPIRED 42001
#define ERR_RATE_LIMIT    45009

struct wechat {
    bool app; /* app message (else group robot) */
    char *corp_id;
    char *api_secret;
    int64_t agent_id;
    struct nd_strlist to_user, to_party, to_tag;
    uint32_t lanes;
    char *webhook; /* secret: it carries the robot's key */
    struct nd_strlist at_users, at_mobiles;
    char *suffix;  /* robot markdown: the <@userid> mentions after the content */
    char *api_url; /* without a trailing '/' */
    char *prep_key;
    bool markdown;
    char *tmpl;
    const struct nd_template_set *set;
    uint64_t max_size;
    int64_t rate_limit_delay_ns;
    struct curl_slist *headers;
};

static void wechat_free(void *p)
{
    struct wechat *w = p;

    if (!w)
        return;
    nd_secret_free(w->corp_id);
    nd_secret_free(w->api_secret);
    nd_secret_free(w->webhook);
    nd_strlist_deinit(&w->to_user);
    nd_strlist_deinit(&w->to_party);
    nd_strlist_deinit(&w->to_tag);
    nd_strlist_deinit(&w->at_users);
    nd_strlist_deinit(&w->at_mobiles);
    free(w->suffix);
    free(w->api_url);
    free(w->prep_key);
    free(w->tmpl);
    if (w->headers)
        curl_slist_free_all(w->headers);
    free(w);
}

static bool http_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static size_t batches(size_t n, size_t per)
{
    return (n + per - 1) / per;
}

/* The first of the keys that the section has (whatever its value), NULL
 * when none: what decides the mode and names the line of an error. */
static const char *first_key(struct nd_receiver_config *rc, const char *const *keys, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (nd_receiver_config_get(rc, keys[i]))
            return keys[i];
    return NULL;
}

static void configure_app(struct wechat *w, struct nd_receiver_config *rc, bool have_agent,
                          struct nd_config_errors *errs)
{
    static const char *const recipients[] = {"to_user", "to_party", "to_tag"};
    const char *rk = first_key(rc, recipients, ND_ARRAY_LEN(recipients));
    size_t lanes;

    if (w->to_user.n + w->to_party.n + w->to_tag.n == 0)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, rk ? rk : "to_user"),
                            rc->section, rk ? rk : "to_user",
                            "missing value: an app message wants to_user, to_party or to_tag");
    if (!rk)
        rk = "to_user";
    /* A key that is there but unreadable (env:, file:) has its own error. */
    if (!w->corp_id && nd_receiver_config_line(rc, "corp_id") == rc->line)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, rk), rc->section, "corp_id",
                            "missing key (%s needs corp_id, agent_id and api_secret)", rk);
    if (!have_agent)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, rk), rc->section,
                            "agent_id", "missing key (%s needs corp_id, agent_id and api_secret)",
                            rk);
    if (!w->api_secret && nd_receiver_config_line(rc, "api_secret") == rc->line)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, rk), rc->section,
                            "api_secret", "missing key (%s needs corp_id, agent_id and api_secret)",
                            rk);
    lanes = batches(w->to_user.n, USERS_PER_REQUEST);
    if (batches(w->to_party.n, PARTIES_PER_REQUEST) > lanes)
        lanes = batches(w->to_party.n, PARTIES_PER_REQUEST);
    if (batches(w->to_tag.n, TAGS_PER_REQUEST) > lanes)
        lanes = batches(w->to_tag.n, TAGS_PER_REQUEST);
    if (lanes > ND_PARTS_LANES_MAX)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, rk), rc->section, rk,
                            "too many recipients: %zu requests per message, at most %u "
                            "(%d users, %d departments, %d tags per request)",
                            lanes, ND_PARTS_LANES_MAX, USERS_PER_REQUEST, PARTIES_PER_REQUEST,
                            TAGS_PER_REQUEST);
    w->lanes = lanes ? (uint32_t)lanes : 1;
    if (w->corp_id && w->api_secret) {
        /* One token per app (its secret) at one API. */
        char *scope = nd_xasprintf("%s:%s", w->api_url, w->corp_id);
        w->prep_key = nd_token_key("wechat", scope, w->api_secret);
        free(scope);
    }
}

static void configure_bot(struct wechat *w, struct nd_receiver_config *rc,
                          struct nd_config_errors *errs)
{
    int line = nd_receiver_config_line(rc, "webhook");
    size_t i;

    w->lanes = 1;
    if (!w->webhook)
        nd_config_error_add(errs, rc->file, line, rc->section, "webhook",
                            "missing key (at_users and at_mobiles are for a group robot)");
    else if (!http_url(w->webhook))
        nd_config_error_add(errs, rc->file, line, rc->section, "webhook",
                            "want an http:// or https:// URL");
    if (w->api_url)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "api_url"), rc->section,
                            "api_url", "an app message key: a group robot is its webhook URL");
    if (w->markdown && w->at_mobiles.n > 0)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "at_mobiles"), rc->section,
                            "at_mobiles",
                            "a markdown message cannot mention by phone number (WeCom takes "
                            "only <@userid> there): use at_users or template_type = text");
    if (w->markdown && w->at_users.n > 0) {
        struct nd_buf b;

        nd_buf_init(&b, ND_REQUEST_BODY_MAX);
        nd_buf_adds(&b, "\n");
        for (i = 0; i < w->at_users.n; i++) {
            nd_buf_adds(&b, "<@");
            nd_buf_adds(&b, w->at_users.v[i]);
            nd_buf_adds(&b, ">");
        }
        w->suffix = nd_buf_take(&b, NULL);
        nd_buf_deinit(&b);
    }
}

static int wechat_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                            void **state, struct nd_config_errors *errs)
{
    static const char *const app_keys[] = {"corp_id", "agent_id", "api_secret",
                                           "to_user", "to_party", "to_tag"};
    static const char *const bot_keys[] = {"webhook", "at_users", "at_mobiles"};
    size_t before = errs->total;
    struct wechat *w = nd_xcalloc(1, sizeof(*w));
    struct nd_config_kv *kv;
    const char *ak, *bk;
    uint64_t agent = 0;
    bool have_agent;
    char err[ND_ERRLEN];

    w->set = templates;
    w->corp_id = nd_receiver_config_secret(rc, "corp_id", false, errs);
    w->api_secret = nd_receiver_config_secret(rc, "api_secret", false, errs);
    have_agent = nd_receiver_config_get(rc, "agent_id") != NULL;
    if (nd_receiver_config_uint(rc, "agent_id", (uint64_t)AGENT_ID_MAX, &agent, errs) == ND_OK &&
        have_agent && agent == 0)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "agent_id"), rc->section,
                            "agent_id", "want the app's AgentId, from 1");
    w->agent_id = (int64_t)agent;
    nd_receiver_config_list(rc, "to_user", &w->to_user);
    nd_receiver_config_list(rc, "to_party", &w->to_party);
    nd_receiver_config_list(rc, "to_tag", &w->to_tag);
    w->webhook = nd_receiver_config_secret(rc, "webhook", false, errs);
    w->api_url = nd_receiver_config_strdup(rc, "api_url");
    nd_receiver_config_list(rc, "at_users", &w->at_users);
    nd_receiver_config_list(rc, "at_mobiles", &w->at_mobiles);

    kv = nd_receiver_config_get(rc, "template_type");
    if (kv && strcmp(kv->value, "markdown") == 0)
        w->markdown = true;
    else if (kv && strcmp(kv->value, "text") != 0)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                            "invalid value \"%s\": want text or markdown", kv->value);
    kv = nd_receiver_config_get(rc, "template");
    if (kv && nd_template_check_ref(templates, kv->value, err) != ND_OK)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key, "%s", err);
    w->tmpl = nd_xstrdup(kv ? kv->value : w->markdown ? "nm.default.markdown" : "nm.default.text");

    w->rate_limit_delay_ns = RATE_LIMIT_DELAY_NS;
    if (nd_receiver_config_duration(rc, "rate_limit_delay", &w->rate_limit_delay_ns, errs) ==
            ND_OK &&
        w->rate_limit_delay_ns <= 0)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "rate_limit_delay"),
                            rc->section, "rate_limit_delay", "want a duration above 0");

    ak = first_key(rc, app_keys, ND_ARRAY_LEN(app_keys));
    bk = first_key(rc, bot_keys, ND_ARRAY_LEN(bot_keys));
    w->app = ak != NULL;
    if (ak && bk) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, bk), rc->section, bk,
                            "group robot (webhook) and app message (%s) in one receiver: use "
                            "one receiver for each",
                            ak);
    } else if (!ak && !bk) {
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "webhook",
                            "missing key: want webhook (group robot) or to_user, to_party, "
                            "to_tag with corp_id, agent_id, api_secret (app message)");
    }
    if (w->app) {
        if (!w->api_url)
            w->api_url = nd_xstrdup(DEFAULT_API_URL);
        else if (!http_url(w->api_url))
            nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "api_url"), rc->section,
                                "api_url", "want an http:// or https:// URL");
        while (strlen(w->api_url) > 0 && w->api_url[strlen(w->api_url) - 1] == '/')
            w->api_url[strlen(w->api_url) - 1] = '\0';
        if (!bk)
            configure_app(w, rc, have_agent, errs);
    } else if (bk) {
        configure_bot(w, rc, errs);
    }

    w->max_size = !w->app && w->markdown ? BOT_MARKDOWN_MAX_SIZE : TEXT_MAX_SIZE;
    if (nd_receiver_config_uint(rc, "max_message_size", ND_REQUEST_BODY_MAX / 8, &w->max_size,
                                errs) == ND_OK) {
        size_t sfx = w->suffix ? nd_tmpl_json_len(w->suffix, strlen(w->suffix)) : 0;
        if (w->max_size < MIN_MAX_SIZE + sfx)
            nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "max_message_size"),
                                rc->section, "max_message_size",
                                "%" PRIu64 " is too small: want at least %zu bytes%s", w->max_size,
                                MIN_MAX_SIZE + sfx,
                                sfx ? " (room for a message after the at_users mentions)" : "");
    }

    if (errs->total != before) {
        wechat_free(w);
        *state = NULL;
        return ND_EINVAL;
    }
    w->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (w->headers)
        w->headers = curl_slist_append(w->headers, "Expect:");
    if (!w->headers)
        abort(); /* curl_slist_append fails only on OOM */
    *state = w;
    return ND_OK;
}

struct render_ctx {
    struct wechat *w;
    const struct nd_notification *n;
};

/* Renders alerts[0..k) as if they were the whole notification: the group
 * and common labels of the notification stay true for any subset, the
 * status is the subset's. */
static int render_alerts(void *ctx, struct nd_alert *const *alerts, size_t k, struct nd_buf *msg,
                         struct nd_buf *title, char err[ND_ERRLEN])
{
    struct render_ctx *c = ctx;
    struct nd_notification sub = *c->n;
    struct nd_template_data *data;
    char e[ND_ERRLEN];
    size_t i;
    int rc;

    ND_UNUSED(title);
    sub.alerts = (struct nd_alert **)alerts;
    sub.nalerts = k;
    sub.status = ND_ALERT_RESOLVED;
    for (i = 0; i < k; i++)
        if (alerts[i]->status == ND_ALERT_FIRING)
            sub.status = ND_ALERT_FIRING;
    data = nd_template_data_from_notification(&sub, nd_now_wall_ns());
    rc = nd_template_text(c->w->set, c->w->tmpl, data, msg, e);
    nd_template_data_free(data);
    if (rc != ND_OK)
        return nd_seterr(err, rc, "template %s: %s", c->w->tmpl, e);
    return ND_OK;
}

static int wechat_parts(void *state, const struct nd_notification *n, struct nd_parts *out,
                        char *err)
{
    struct wechat *w = state;
    struct render_ctx ctx = {w, n};
    struct nd_chunks_spec spec = {
        .render = render_alerts,
        .render_limit = ND_REQUEST_BODY_MAX / 2,
        .ctx = &ctx,
    };
    struct nd_chunks *c;
    int rc;

    /* Every message carries the suffix: the content before it gets the
     * rest (configure checked that there is some). */
    spec.limit = w->max_size - (w->suffix ? nd_tmpl_json_len(w->suffix, strlen(w->suffix)) : 0);
    rc = nd_chunks_split(n->alerts, n->nalerts, &spec, &c, err);
    if (rc != ND_OK)
        return rc;
    out->lanes = w->lanes;
    out->chunks = (uint32_t)c->n;
    out->ud = c;
    return ND_OK;
}

/* Lane `lane`'s slice of l (`per` a lane) joined by '|', as a key; nothing
 * when the slice is empty. */
static void json_slice(struct nd_json *j, const char *key, const struct nd_strlist *l,
                       uint32_t lane, size_t per)
{
    size_t from = (size_t)lane * per, to, i;
    struct nd_buf b;

    if (from >= l->n)
        return;
    to = from + per < l->n ? from + per : l->n;
    nd_buf_init(&b, ND_REQUEST_BODY_MAX);
    for (i = from; i < to; i++) {
        if (i > from)
            nd_buf_adds(&b, "|");
        nd_buf_adds(&b, l->v[i]);
    }
    nd_json_key(j, key);
    nd_json_strn(j, b.data ? b.data : "", b.len);
    nd_buf_deinit(&b);
}

static void json_strlist(struct nd_json *j, const char *key, const struct nd_strlist *l)
{
    size_t i;

    if (l->n == 0)
        return;
    nd_json_key(j, key);
    nd_json_arr_open(j);
    for (i = 0; i < l->n; i++)
        nd_json_str(j, l->v[i]);
    nd_json_arr_close(j);
}

static int wechat_build_part(void *state, const struct nd_notification *n,
                             const struct nd_part *part, const char *prepared,
                             struct nd_request *req, char *err)
{
    struct wechat *w = state;
    const struct nd_chunks *c = part->ud;
    const struct nd_chunk *k = &c->v[part->chunk];
    struct nd_json j;
    int rc;

    ND_UNUSED(n);
    if (w->app && !prepared)
        return nd_seterr(err, ND_EINVAL, "no access token");
    nd_json_init(&j, &req->body, ND_JSON_HTML);
    nd_json_obj_open(&j);
    if (w->app) {
        json_slice(&j, "touser", &w->to_user, part->lane, USERS_PER_REQUEST);
        json_slice(&j, "toparty", &w->to_party, part->lane, PARTIES_PER_REQUEST);
        json_slice(&j, "totag", &w->to_tag, part->lane, TAGS_PER_REQUEST);
    }
    nd_json_kstr(&j, "msgtype", w->markdown ? "markdown" : "text");
    if (w->app)
        nd_json_kint(&j, "agentid", w->agent_id);
    nd_json_key(&j, w->markdown ? "markdown" : "text");
    nd_json_obj_open(&j);
    nd_json_key(&j, "content");
    if (w->suffix) {
        struct nd_buf msg;

        nd_buf_init(&msg, ND_REQUEST_BODY_MAX);
        nd_buf_add(&msg, k->text, k->len);
        nd_buf_adds(&msg, w->suffix);
        nd_json_strn(&j, msg.data ? msg.data : "", msg.len);
        nd_buf_deinit(&msg);
    } else {
        nd_json_strn(&j, k->text, k->len);
    }
    if (!w->app && !w->markdown) {
        json_strlist(&j, "mentioned_list", &w->at_users);
        json_strlist(&j, "mentioned_mobile_list", &w->at_mobiles);
    }
    nd_json_obj_close(&j);
    nd_json_obj_close(&j);
    rc = nd_json_finish(&j, err);
    if (rc != ND_OK)
        return rc;

    if (w->app) {
        struct nd_url_param p[] = {{"access_token", prepared}};
        struct nd_buf q, url;
        char *base = nd_xasprintf("%s/message/send", w->api_url);

        nd_buf_init(&q, 64 * 1024);
        nd_buf_init(&url, 64 * 1024);
        rc = nd_url_query_build(&q, p, 1, 0);
        if (rc == ND_OK)
            rc = nd_url_append_query(&url, base, nd_buf_cstr(&q));
        if (rc == ND_OK)
            req->url = nd_buf_take(&url, NULL);
        free(base);
        nd_buf_deinit(&q);
        nd_buf_deinit(&url);
        if (rc != ND_OK)
            return nd_seterr(err, rc, "URL too long");
    } else {
        req->url = nd_xstrdup(w->webhook);
    }
    req->method = "POST";
    return ND_OK;
}

static int wechat_setopt(void *state, CURL *easy, struct nd_request *req, char *err)
{
    struct wechat *w = state;

    ND_UNUSED(req);
    ND_UNUSED(err);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, w->headers);
    return ND_OK;
}

/* An app message that WeCom took but could not give to some of the
 * recipients (unknown ids, or outside the app's visible range). */
static bool invalid_recipients(const struct nd_jsonr *doc, struct nd_verdict *v)
{
    static const char *const keys[] = {"invaliduser", "invalidparty", "invalidtag"};
    size_t i, len = 0;
    const char *s;

    for (i = 0; i < ND_ARRAY_LEN(keys); i++) {
        if (nd_jsonr_str(doc, keys[i], &s) != ND_OK || !s[0])
            continue;
        if (len == 0)
            len = (size_t)snprintf(v->reason, sizeof(v->reason), "errcode 0 but");
        if (len < sizeof(v->reason))
            len += (size_t)snprintf(v->reason + len, sizeof(v->reason) - len, " %s \"%.60s\"",
                                    keys[i], s);
    }
    return len > 0;
}

static void wechat_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    struct wechat *w = state;
    struct nd_jsonr *doc;
    int64_t code;

    if (nd_token_answer(r, v, &doc, &code) != ND_OK)
        return;
    if (code == 0) {
        if (w->app && invalid_recipients(doc, v))
            v->kind = ND_VERDICT_FAILED; /* sending again would repeat it to the others */
        else
            v->kind = ND_VERDICT_DELIVERED;
    } else if (code == ERR_BUSY) {
        v->kind = ND_VERDICT_RETRY;
        v->delay_ns = -1;
        nd_token_reason(v, doc, code);
    } else if (code == ERR_RATE_LIMIT) {
        v->kind = ND_VERDICT_RETRY;
        v->delay_ns = w->rate_limit_delay_ns;
        nd_token_reason(v, doc, code);
    } else if (w->app && (code == ERR_TOKEN_INVALID || code == ERR_TOKEN_MISSING ||
                          code == ERR_TOKEN_EXPIRED)) {
        v->kind = ND_VERDICT_RETRY;
        v->delay_ns = 0;
        v->reprepare = true;
        nd_token_reason(v, doc, code);
    } else {
        v->kind = ND_VERDICT_FAILED;
        nd_token_reason(v, doc, code);
    }
    nd_jsonr_free(doc);
}

static const char *wechat_prepare_key(void *state)
{
    struct wechat *w = state;

    return w->app ? w->prep_key : NULL;
}

static void wechat_prepare_start(void *state, struct nd_engine *e, struct nd_prep *p)
{
    struct wechat *w = state;
    struct nd_url_param params[] = {{"corpid", w->corp_id}, {"corpsecret", w->api_secret}};
    char *url = nd_xasprintf("%s/gettoken", w->api_url);

    nd_token_fetch(e, p, url, params, ND_ARRAY_LEN(params));
    free(url);
}

const struct nd_receiver_type nd_receiver_type_wechat = {
    .name = "wechat",
    .configure = wechat_configure,
    .free_state = wechat_free,
    .parts = wechat_parts,
    .build_part = wechat_build_part,
    .free_parts = nd_chunks_free_parts,
    .setopt = wechat_setopt,
    .classify = wechat_classify,
    .prepare_key = wechat_prepare_key,
    .prepare_start = wechat_prepare_start,
};
