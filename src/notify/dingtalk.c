/* dingtalk.c - the DingTalk receiver: a custom robot (chatbot webhook) or
 * a group conversation through an app's access token.
 *
 * Keys are in docs/receivers.md. A notification is split by whole alerts
 * (nd_tmpl_split) at the mode's size limit and sent through the engine's
 * fan-out: one lane per target (the chatbot webhook, or each chat id), the
 * chunks of a lane in order. An alert that alone exceeds the limit is sent
 * cut, ending with ND_CHUNK_MARK, never dropped.
 *
 * Chatbot: POST <webhook>[&timestamp=MS&sign=SIG] with the message; with
 * a secret, each attempt is signed again, since DingTalk refuses a
 * timestamp more than an hour old.
 * Conversation: GET <api_url>/gettoken?appkey=&appsecret= through the
 * engine's prepare step (one token per app, shared by receivers), then
 * POST <api_url>/chat/send?access_token=TOKEN with {"chatid", "msg"}.
 *
 * Verdict: HTTP 200 with errcode 0 is delivered; errcode 130101 (sending
 * too fast) retries after rate_limit_delay (default 1m: the limit's window); 40014/42001 (bad or
 * expired token) on a conversation drop the token and retry at once with a new one; any other
 * errcode fails at once with the code and errmsg in the reason.
 *
 * Throttle: at most N sends per DURATION per webhook URL (chatbot) or per
 * app key (conversation), shared by every receiver with that URL or key:
 * a process-wide table of sliding windows. A send over the limit waits in
 * the receiver's queue (admit()), it is never dropped.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/crypto.h"
#include "notifyd/dingtalk.h"
#include "notifyd/chunks.h"
#include "notifyd/json.h"
#include "notifyd/jsonr.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/tmpl_split.h"
#include "notifyd/token.h"
#include "notifyd/url.h"
#include "notifyd/util.h"

#define DEFAULT_API_URL       "https://oapi.dingtalk.com"
#define CHATBOT_MAX_SIZE      19960
#define CONVERSATION_MAX_SIZE 5000
#define THROTTLE_MAX_N        10000

/* DingTalk's errcodes (https://open.dingtalk.com/document/orgapp/server-api-error-codes-1). */
#define ERR_RATE_LIMIT 130101
/* DingTalk answers 130101 without a delay; its limit is per minute. */
#define RATE_LIMIT_DELAY_NS (60 * INT64_C(1000000000))
#define ERR_TOKEN_INVALID   40014
#define ERR_TOKEN_EXPIRED   42001

/* One sliding window: the times of the last n sends. */
struct throttle {
    char *key;
    unsigned n;
    int64_t unit_ns;
    int64_t *times; /* ring of n */
    unsigned head, count;
    unsigned refs;
    struct throttle *next;
};

static struct throttle *throttles;

struct dingtalk {
    bool conv;
    char *webhook; /* secret: it carries the robot's access_token */
    char *secret;
    struct nd_strlist keywords, at_mobiles, at_users;
    bool at_all;
    struct nd_strlist chat_ids;
    char *app_key;
    char *app_secret;
    char *api_url; /* without a trailing '/' */
    char *prep_key;
    bool markdown;
    char *tmpl, *title_tmpl;
    const struct nd_template_set *set;
    uint64_t max_size;
    struct throttle *thr;
    int64_t rate_limit_delay_ns; /* wait after errcode 130101 */
    struct curl_slist *headers;
};

static struct throttle *throttle_get(const char *key, unsigned n, int64_t unit_ns)
{
    struct throttle *t;

    /* The first receiver configured with a key sets its limit. */
    for (t = throttles; t; t = t->next)
        if (strcmp(t->key, key) == 0) {
            t->refs++;
            return t;
        }
    t = nd_xcalloc(1, sizeof(*t));
    t->key = nd_xstrdup(key);
    t->n = n;
    t->unit_ns = unit_ns;
    t->times = nd_xcalloc(n, sizeof(*t->times));
    t->refs = 1;
    t->next = throttles;
    throttles = t;
    return t;
}

static void throttle_put(struct throttle *t)
{
    struct throttle **pp;

    if (!t || --t->refs > 0)
        return;
    for (pp = &throttles; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    memset(t->key, 0, strlen(t->key)); /* a chatbot key is its webhook URL */
    free(t->key);
    free(t->times);
    free(t);
}

static int64_t throttle_admit(struct throttle *t, int64_t now)
{
    int64_t age;

    if (t->count < t->n) {
        t->times[(t->head + t->count) % t->n] = now;
        t->count++;
        return 0;
    }
    age = now - t->times[t->head];
    if (age >= t->unit_ns) {
        t->times[t->head] = now;
        t->head = (t->head + 1) % t->n;
        return 0;
    }
    return t->unit_ns - age;
}

static void dingtalk_free(void *p)
{
    struct dingtalk *d = p;

    if (!d)
        return;
    nd_secret_free(d->webhook);
    nd_secret_free(d->secret);
    nd_secret_free(d->app_secret);
    nd_strlist_deinit(&d->keywords);
    nd_strlist_deinit(&d->at_mobiles);
    nd_strlist_deinit(&d->at_users);
    nd_strlist_deinit(&d->chat_ids);
    free(d->app_key);
    free(d->api_url);
    free(d->prep_key);
    free(d->tmpl);
    free(d->title_tmpl);
    throttle_put(d->thr);
    if (d->headers)
        curl_slist_free_all(d->headers);
    free(d);
}

static bool http_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* "N/DURATION", such as 20/1m. */
static void opt_throttle(struct nd_receiver_config *rc, const char *key, unsigned *n,
                         int64_t *unit_ns, struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    const char *slash;
    char *end;
    unsigned long v;
    int64_t d;

    if (!kv)
        return;
    slash = strchr(kv->value, '/');
    v = strtoul(kv->value, &end, 10);
    if (!slash || end != slash || kv->value[0] < '0' || kv->value[0] > '9' || v < 1 ||
        v > THROTTLE_MAX_N || nd_parse_duration(slash + 1, &d) != ND_OK || d <= 0) {
        nd_config_error_add(errs, rc->file, kv->line, rc->section, key,
                            "invalid value \"%s\": want N/DURATION with N in 1..%u, such as 20/1m",
                            kv->value, THROTTLE_MAX_N);
        return;
    }
    *n = (unsigned)v;
    *unit_ns = d;
}

static void opt_template(struct nd_receiver_config *rc, const struct nd_template_set *set,
                         const char *key, const char *def, char **out,
                         struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    char err[ND_ERRLEN];

    if (!kv) {
        *out = nd_xstrdup(def);
        return;
    }
    if (nd_template_check_ref(set, kv->value, err) != ND_OK) {
        nd_config_error_add(errs, rc->file, kv->line, rc->section, key, "%s", err);
        return;
    }
    *out = nd_xstrdup(kv->value);
}

static void configure_chatbot(struct dingtalk *d, struct nd_receiver_config *rc,
                              struct nd_config_errors *errs)
{
    if (d->webhook && !http_url(d->webhook))
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "webhook"), rc->section,
                            "webhook", "want an http:// or https:// URL");
}

static void configure_conversation(struct dingtalk *d, struct nd_receiver_config *rc,
                                   struct nd_strlist *chat_ids, struct nd_config_errors *errs)
{
    int line = nd_receiver_config_line(rc, "chat_ids");

    if (chat_ids->n > ND_PARTS_LANES_MAX)
        nd_config_error_add(errs, rc->file, line, rc->section, "chat_ids",
                            "%zu chat ids, at most %u", chat_ids->n, ND_PARTS_LANES_MAX);
    /* One fan-out lane per chat id. */
    d->chat_ids = *chat_ids;
    chat_ids->v = NULL;
    chat_ids->n = 0;
    if (!d->app_key)
        nd_config_error_add(errs, rc->file, line, rc->section, "app_key",
                            "missing key (chat_ids needs app_key and app_secret)");
    if (!d->app_secret)
        nd_config_error_add(errs, rc->file, line, rc->section, "app_secret",
                            "missing key (chat_ids needs app_key and app_secret)");
    if (d->app_key && d->app_secret)
        d->prep_key = nd_token_key("dingtalk", d->app_key, d->app_secret);
}

static int dingtalk_configure(struct nd_receiver_config *rc,
                              const struct nd_template_set *templates, void **state,
                              struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct dingtalk *d = nd_xcalloc(1, sizeof(*d));
    struct nd_strlist chat_ids = {0};
    struct nd_config_kv *tk;
    unsigned n;
    int64_t unit;
    uint64_t conv_max = CONVERSATION_MAX_SIZE;
    char *key;

    d->set = templates;
    d->webhook = nd_receiver_config_secret(rc, "webhook", false, errs);
    d->secret = nd_receiver_config_secret(rc, "secret", false, errs);
    nd_receiver_config_list(rc, "keywords", &d->keywords);
    nd_receiver_config_list(rc, "at_mobiles", &d->at_mobiles);
    nd_receiver_config_list(rc, "at_users", &d->at_users);
    nd_receiver_config_bool(rc, "at_all", &d->at_all, errs);
    nd_receiver_config_list(rc, "chat_ids", &chat_ids);
    d->app_key = nd_receiver_config_secret(rc, "app_key", false, errs);
    d->app_secret = nd_receiver_config_secret(rc, "app_secret", false, errs);
    d->api_url = nd_receiver_config_strdup(rc, "api_url");
    if (!d->api_url)
        d->api_url = nd_xstrdup(DEFAULT_API_URL);
    else if (!http_url(d->api_url))
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "api_url"), rc->section,
                            "api_url", "want an http:// or https:// URL");
    while (strlen(d->api_url) > 0 && d->api_url[strlen(d->api_url) - 1] == '/')
        d->api_url[strlen(d->api_url) - 1] = '\0';

    tk = nd_receiver_config_get(rc, "template_type");
    if (tk && strcmp(tk->value, "markdown") == 0)
        d->markdown = true;
    else if (tk && strcmp(tk->value, "text") != 0)
        nd_config_error_add(errs, rc->file, tk->line, rc->section, tk->key,
                            "invalid value \"%s\": want text or markdown", tk->value);
    opt_template(rc, templates, "template", d->markdown ? "nm.default.markdown" : "nm.default.text",
                 &d->tmpl, errs);
    opt_template(rc, templates, "title_template", "nm.default.subject", &d->title_tmpl, errs);

    d->rate_limit_delay_ns = RATE_LIMIT_DELAY_NS;
    nd_receiver_config_duration(rc, "rate_limit_delay", &d->rate_limit_delay_ns, errs);

    d->max_size = CHATBOT_MAX_SIZE;
    nd_receiver_config_uint(rc, "max_message_size", ND_REQUEST_BODY_MAX / 2, &d->max_size, errs);
    nd_receiver_config_uint(rc, "conversation_max_message_size", ND_REQUEST_BODY_MAX / 2, &conv_max,
                            errs);

    d->conv = chat_ids.n > 0 || d->app_key || d->app_secret;
    if (d->webhook && d->conv) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "chat_ids"), rc->section,
                            "chat_ids",
                            "webhook (chatbot) and chat_ids (conversation) in one receiver: "
                            "use one receiver for each");
    } else if (!d->webhook && chat_ids.n == 0) {
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "webhook",
                            "missing key: want webhook (chatbot) or chat_ids (conversation)");
    } else if (d->conv) {
        configure_conversation(d, rc, &chat_ids, errs);
        d->max_size = conv_max;
    } else {
        configure_chatbot(d, rc, errs);
    }

    /* Both are read (and checked) whatever the mode; the mode picks one. */
    n = 20;
    unit = 60 * ND_NS_PER_S;
    opt_throttle(rc, "throttle", &n, &unit, errs);
    {
        unsigned cn = 25;
        int64_t cunit = ND_NS_PER_S;
        opt_throttle(rc, "conversation_throttle", &cn, &cunit, errs);
        if (d->conv) {
            n = cn;
            unit = cunit;
        }
    }
    nd_strlist_deinit(&chat_ids);
    if (errs->total != before) {
        dingtalk_free(d);
        *state = NULL;
        return ND_EINVAL;
    }
    key = d->conv ? nd_xasprintf("conversation:%s", d->app_key)
                  : nd_xasprintf("chatbot:%s", d->webhook);
    d->thr = throttle_get(key, n, unit);
    memset(key, 0, strlen(key));
    free(key);
    d->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (d->headers)
        d->headers = curl_slist_append(d->headers, "Expect:");
    if (!d->headers)
        abort(); /* curl_slist_append fails only on OOM */
    *state = d;
    return ND_OK;
}

int nd_dingtalk_sign(const char *secret, int64_t ts_ms, struct nd_buf *out, char *err)
{
    unsigned char mac[ND_SHA256_LEN];
    struct nd_buf msg;
    int rc;

    nd_buf_init(&msg, 64 * 1024 + 32);
    rc = nd_buf_printf(&msg, "%" PRId64 "\n%s", ts_ms, secret);
    if (rc != ND_OK) {
        nd_buf_deinit(&msg);
        return nd_seterr(err, rc, "secret too long");
    }
    rc = nd_crypto_hmac_sha256(secret, strlen(secret), msg.data, msg.len, mac, err);
    memset(msg.data, 0, msg.len);
    nd_buf_deinit(&msg);
    if (rc != ND_OK)
        return rc;
    if (nd_crypto_base64(out, mac, sizeof(mac)) != ND_OK)
        return nd_seterr(err, ND_ETOOBIG, "signature does not fit");
    return ND_OK;
}

static void join(struct nd_buf *b, const struct nd_strlist *l, const char *prefix)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (i > 0)
            nd_buf_adds(b, ", ");
        nd_buf_adds(b, prefix);
        nd_buf_adds(b, l->v[i]);
    }
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

/* The chatbot's keywords and @mobiles, appended to every message. */
static void suffix(struct dingtalk *d, struct nd_buf *out)
{
    if (!d->conv && d->keywords.n > 0) {
        nd_buf_adds(out, "\n\n[Keywords] ");
        join(out, &d->keywords, "");
    }
    if (!d->conv && d->markdown && d->at_mobiles.n > 0) {
        nd_buf_adds(out, " ");
        join(out, &d->at_mobiles, "@");
    }
}

struct render_ctx {
    struct dingtalk *d;
    const struct nd_notification *n;
};

/* Renders the message (and the title for markdown) for a run of the
 * notification's alerts; the group's labels stay those of the whole
 * notification. */
static int render_run(void *ctx, struct nd_alert *const *alerts, size_t count, struct nd_buf *msg,
                      struct nd_buf *title, char err[ND_ERRLEN])
{
    struct render_ctx *c = ctx;
    struct dingtalk *d = c->d;
    struct nd_notification sub = *c->n;
    struct nd_template_data *data;
    char e[ND_ERRLEN];
    int rc;

    sub.alerts = (struct nd_alert **)alerts;
    sub.nalerts = count;
    data = nd_template_data_from_notification(&sub, nd_now_wall_ns());
    rc = nd_template_text(d->set, d->tmpl, data, msg, e);
    if (rc != ND_OK) {
        nd_template_data_free(data);
        return nd_seterr(err, rc, "template %s: %s", d->tmpl, e);
    }
    if (title && (rc = nd_template_text(d->set, d->title_tmpl, data, title, e)) != ND_OK) {
        nd_template_data_free(data);
        return nd_seterr(err, rc, "title_template %s: %s", d->title_tmpl, e);
    }
    nd_template_data_free(data);
    return ND_OK;
}

static int dingtalk_parts(void *state, const struct nd_notification *n, struct nd_parts *out,
                          char *err)
{
    struct dingtalk *d = state;
    struct render_ctx c = {d, n};
    struct nd_chunks_spec spec = {
        .with_title = d->markdown,
        .render_limit = ND_REQUEST_BODY_MAX / 2,
        .render = render_run,
        .ctx = &c,
    };
    struct nd_chunks *p;
    struct nd_buf sfx;
    size_t sfx_len;
    int rc;

    nd_buf_init(&sfx, 64 * 1024);
    suffix(d, &sfx);
    /* As NM: the message's escaped length, less the suffix's, must stay
     * below the limit. */
    sfx_len = nd_tmpl_json_len(nd_buf_cstr(&sfx), sfx.len);
    nd_buf_deinit(&sfx);
    if (sfx_len + 64 >= d->max_size)
        return nd_seterr(err, ND_EINVAL, "keywords and at_mobiles leave no room under %" PRIu64,
                         d->max_size);
    spec.limit = d->max_size - sfx_len;
    rc = nd_chunks_split(n->alerts, n->nalerts, &spec, &p, err);
    if (rc != ND_OK)
        return rc;
    out->lanes = d->conv ? (uint32_t)d->chat_ids.n : 1;
    out->chunks = (uint32_t)p->n;
    out->ud = p;
    return ND_OK;
}

static void json_message(struct dingtalk *d, struct nd_json *j, const struct nd_buf *msg,
                         const struct nd_buf *title)
{
    nd_json_kstr(j, "msgtype", d->markdown ? "markdown" : "text");
    if (d->markdown) {
        nd_json_key(j, "markdown");
        nd_json_obj_open(j);
        nd_json_key(j, "title");
        nd_json_strn(j, title->len ? title->data : "", title->len);
        nd_json_key(j, "text");
        nd_json_strn(j, msg->len ? msg->data : "", msg->len);
        nd_json_obj_close(j);
    } else {
        nd_json_key(j, "text");
        nd_json_obj_open(j);
        nd_json_key(j, "content");
        nd_json_strn(j, msg->len ? msg->data : "", msg->len);
        nd_json_obj_close(j);
    }
}

static int build_url(struct dingtalk *d, const char *token, struct nd_buf *url, char *err)
{
    struct nd_buf q, sig;
    char ts[24];
    int rc = ND_OK;

    nd_buf_init(&q, 64 * 1024);
    nd_buf_init(&sig, 256);
    if (d->conv) {
        struct nd_url_param p[] = {{"access_token", token}};
        char *base = nd_xasprintf("%s/chat/send", d->api_url);
        rc = nd_url_query_build(&q, p, 1, 0);
        if (rc == ND_OK)
            rc = nd_url_append_query(url, base, nd_buf_cstr(&q));
        free(base);
    } else if (d->secret) {
        /* Signed per attempt: the timestamp must be fresh. */
        int64_t ms = nd_now_wall_ns() / ND_NS_PER_MS;
        snprintf(ts, sizeof(ts), "%" PRId64, ms);
        rc = nd_dingtalk_sign(d->secret, ms, &sig, err);
        if (rc == ND_OK) {
            struct nd_url_param p[] = {{"timestamp", ts}, {"sign", nd_buf_cstr(&sig)}};
            rc = nd_url_query_build(&q, p, 2, 0);
            if (rc == ND_OK)
                rc = nd_url_append_query(url, d->webhook, nd_buf_cstr(&q));
        }
    } else {
        rc = nd_buf_adds(url, d->webhook);
    }
    nd_buf_deinit(&sig);
    nd_buf_deinit(&q);
    if (rc == ND_ETOOBIG)
        nd_seterr(err, rc, "URL too long");
    return rc;
}

static int dingtalk_build_part(void *state, const struct nd_notification *n,
                               const struct nd_part *part, const char *prepared,
                               struct nd_request *req, char *err)
{
    struct dingtalk *d = state;
    const struct nd_chunks *p = part->ud;
    const struct nd_chunk *pc = &p->v[part->chunk];
    struct nd_buf msg, title, url;
    struct nd_json j;
    int rc;

    ND_UNUSED(n);
    if (d->conv && !prepared)
        return nd_seterr(err, ND_EINVAL, "no access token");
    nd_buf_init(&msg, ND_REQUEST_BODY_MAX);
    nd_buf_init(&title, 64 * 1024);
    nd_buf_add(&msg, pc->text, pc->len);
    suffix(d, &msg);
    if (pc->title)
        nd_buf_adds(&title, pc->title);

    nd_json_init(&j, &req->body, ND_JSON_HTML);
    nd_json_obj_open(&j);
    if (d->conv) {
        nd_json_kstr(&j, "chatid", d->chat_ids.v[part->lane]);
        nd_json_key(&j, "msg");
        nd_json_obj_open(&j);
        json_message(d, &j, &msg, &title);
        nd_json_obj_close(&j);
    } else {
        json_message(d, &j, &msg, &title);
        if (d->at_mobiles.n || d->at_users.n || d->at_all) {
            nd_json_key(&j, "at");
            nd_json_obj_open(&j);
            json_strlist(&j, "atMobiles", &d->at_mobiles);
            json_strlist(&j, "atUserIds", &d->at_users);
            if (d->at_all)
                nd_json_kbool(&j, "isAtAll", true);
            nd_json_obj_close(&j);
        }
    }
    nd_json_obj_close(&j);
    rc = nd_json_finish(&j, err);
    if (rc != ND_OK)
        goto out;

    nd_buf_init(&url, 64 * 1024);
    rc = build_url(d, prepared, &url, err);
    if (rc == ND_OK) {
        req->url = nd_buf_take(&url, NULL);
        req->method = "POST";
    }
    nd_buf_deinit(&url);
out:
    nd_buf_deinit(&msg);
    nd_buf_deinit(&title);
    return rc;
}

static int dingtalk_setopt(void *state, CURL *easy, struct nd_request *req, char *err)
{
    struct dingtalk *d = state;

    ND_UNUSED(req);
    ND_UNUSED(err);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, d->headers);
    return ND_OK;
}

static void dingtalk_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    struct dingtalk *d = state;
    struct nd_jsonr *doc;
    int64_t code, status = 0;

    if (nd_token_answer(r, v, &doc, &code) != ND_OK)
        return;
    if (code == 0) {
        /* NM also wants "status" (present in some answers) to be 0. */
        if (nd_jsonr_int(doc, "status", &status) == ND_OK && status != 0) {
            v->kind = ND_VERDICT_FAILED;
            snprintf(v->reason, sizeof(v->reason), "errcode 0 with status %" PRId64, status);
        } else {
            v->kind = ND_VERDICT_DELIVERED;
        }
    } else if (code == ERR_RATE_LIMIT) {
        v->kind = ND_VERDICT_RETRY;
        v->delay_ns = d->rate_limit_delay_ns;
        nd_token_reason(v, doc, code);
    } else if (d->conv && (code == ERR_TOKEN_INVALID || code == ERR_TOKEN_EXPIRED)) {
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

static const char *dingtalk_prepare_key(void *state)
{
    struct dingtalk *d = state;

    return d->conv ? d->prep_key : NULL;
}

static void dingtalk_prepare_start(void *state, struct nd_engine *e, struct nd_prep *p)
{
    struct dingtalk *d = state;
    struct nd_url_param params[] = {{"appkey", d->app_key}, {"appsecret", d->app_secret}};
    char *url = nd_xasprintf("%s/gettoken", d->api_url);

    nd_token_fetch(e, p, url, params, ND_ARRAY_LEN(params));
    free(url);
}

static int64_t dingtalk_admit(void *state, int64_t now_mono_ns)
{
    struct dingtalk *d = state;

    return throttle_admit(d->thr, now_mono_ns);
}

const struct nd_receiver_type nd_receiver_type_dingtalk = {
    .name = "dingtalk",
    .configure = dingtalk_configure,
    .free_state = dingtalk_free,
    .parts = dingtalk_parts,
    .build_part = dingtalk_build_part,
    .free_parts = nd_chunks_free_parts,
    .setopt = dingtalk_setopt,
    .classify = dingtalk_classify,
    .prepare_key = dingtalk_prepare_key,
    .prepare_start = dingtalk_prepare_start,
    .admit = dingtalk_admit,
};
