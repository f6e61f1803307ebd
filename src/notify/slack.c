/* slack.c - the Slack receiver: the Web API (chat.postMessage with a bot
 * token, one request per channel) or an incoming webhook.
 *
 * Keys are in docs/receivers.md. A notification is split by whole alerts
 * (nd_tmpl_split) so that each message's JSON-escaped text stays below
 * max_message_size (Slack truncates `text` past 40000 characters,
 * https://api.slack.com/methods/chat.postMessage). An alert too big on its
 * own is sent alone, cut, with ND_CHUNK_MARK at the end. Fan-out: one lane per
 * channel (one lane for a webhook), the chunks in order on each lane.
 *
 * Verdict (Web API): HTTP 200 with "ok": true is delivered; HTTP 429 or
 * "error": "ratelimited" retries after Retry-After (else the backoff); any
 * other error fails at once with Slack's error string in the reason.
 * Incoming webhooks answer the plain text "ok" on success, 429 when rate
 * limited, and an error string (invalid_payload, channel_not_found...)
 * with a 4xx otherwise (https://api.slack.com/messaging/webhooks).
 */
#include <stdlib.h>
#include <string.h>

#include "notifyd/chunks.h"
#include "notifyd/json.h"
#include "notifyd/jsonr.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/util.h"

#define DEFAULT_API_URL  "https://slack.com/api"
#define DEFAULT_MAX_SIZE 40000
#define MIN_MAX_SIZE     256
/* Block Kit: a section's text is at most 3000 characters, a message has at
 * most 50 blocks (https://api.slack.com/reference/block-kit/blocks). */
#define SECTION_MAX       3000
#define BLOCKS_MAX        50
#define RETRY_AFTER_MAX_S 3600

struct slack {
    char *token;   /* secret */
    char *webhook; /* secret: the URL is the credential */
    struct nd_strlist channels;
    char *api_url; /* without a trailing '/' */
    bool blocks;
    char *tmpl;
    const struct nd_template_set *set;
    uint64_t max_size;
    struct curl_slist *headers;
};

static void slack_free(void *p)
{
    struct slack *s = p;

    if (!s)
        return;
    nd_secret_free(s->token);
    nd_secret_free(s->webhook);
    nd_strlist_deinit(&s->channels);
    free(s->api_url);
    free(s->tmpl);
    if (s->headers)
        curl_slist_free_all(s->headers);
    free(s);
}

static bool http_url(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

static int slack_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                           void **state, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct slack *s = nd_xcalloc(1, sizeof(*s));
    struct nd_config_kv *kv;
    char err[ND_ERRLEN];

    s->set = templates;
    s->token = nd_receiver_config_secret(rc, "token", false, errs);
    s->webhook = nd_receiver_config_secret(rc, "webhook", false, errs);
    nd_receiver_config_list(rc, "channels", &s->channels);
    s->api_url = nd_receiver_config_strdup(rc, "api_url");
    if (!s->api_url)
        s->api_url = nd_xstrdup(DEFAULT_API_URL);
    else if (!http_url(s->api_url))
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "api_url"), rc->section,
                            "api_url", "want an http:// or https:// URL");
    while (strlen(s->api_url) > 0 && s->api_url[strlen(s->api_url) - 1] == '/')
        s->api_url[strlen(s->api_url) - 1] = '\0';

    kv = nd_receiver_config_get(rc, "template_type");
    if (kv && strcmp(kv->value, "blocks") == 0)
        s->blocks = true;
    else if (kv && strcmp(kv->value, "text") != 0)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                            "invalid value \"%s\": want text or blocks", kv->value);
    kv = nd_receiver_config_get(rc, "template");
    if (kv && nd_template_check_ref(templates, kv->value, err) != ND_OK)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key, "%s", err);
    s->tmpl = nd_xstrdup(kv ? kv->value : "nm.default.text");

    s->max_size = DEFAULT_MAX_SIZE;
    nd_receiver_config_uint(rc, "max_message_size", ND_REQUEST_BODY_MAX / 8, &s->max_size, errs);
    if (s->max_size < MIN_MAX_SIZE)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "max_message_size"),
                            rc->section, "max_message_size", "want at least %d bytes",
                            MIN_MAX_SIZE);

    if (s->webhook && (s->token || s->channels.n)) {
        nd_config_error_add(
            errs, rc->file, nd_receiver_config_line(rc, "webhook"), rc->section, "webhook",
            "webhook and token/channels in one receiver: use one receiver for each");
    } else if (s->webhook) {
        if (!http_url(s->webhook))
            nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "webhook"), rc->section,
                                "webhook", "want an http:// or https:// URL");
    } else if (!s->token && !s->channels.n) {
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "token",
                            "missing key: want token and channels (Web API) or webhook");
    } else if (!s->token) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "channels"), rc->section,
                            "token", "missing key (channels needs token)");
    } else if (!s->channels.n) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "token"), rc->section,
                            "channels", "missing key (token needs at least one channel)");
    } else if (s->channels.n > ND_PARTS_LANES_MAX) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "channels"), rc->section,
                            "channels", "at most %u channels", ND_PARTS_LANES_MAX);
    }
    if (errs->total != before) {
        slack_free(s);
        *state = NULL;
        return ND_EINVAL;
    }
    s->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    if (s->headers)
        s->headers = curl_slist_append(s->headers, "Expect:");
    if (s->headers && s->token) {
        char *h = nd_xasprintf("Authorization: Bearer %s", s->token);
        s->headers = curl_slist_append(s->headers, h);
        memset(h, 0, strlen(h));
        free(h);
    }
    if (!s->headers)
        abort(); /* curl_slist_append fails only on OOM */
    *state = s;
    return ND_OK;
}

struct render_ctx {
    struct slack *s;
    const struct nd_notification *n;
};

/* Renders alerts[0..k) as if they were the whole notification: the group
 * and common labels of the notification stay true for any subset. */
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
    rc = nd_template_text(c->s->set, c->s->tmpl, data, msg, e);
    nd_template_data_free(data);
    if (rc != ND_OK)
        return nd_seterr(err, rc, "template %s: %s", c->s->tmpl, e);
    return ND_OK;
}

static int slack_parts(void *state, const struct nd_notification *n, struct nd_parts *out,
                       char *err)
{
    struct slack *s = state;
    struct render_ctx ctx = {s, n};
    struct nd_chunks_spec spec = {.limit = s->max_size, .render = render_alerts, .ctx = &ctx};
    struct nd_chunks *c;
    int rc;

    rc = nd_chunks_split(n->alerts, n->nalerts, &spec, &c, err);
    if (rc != ND_OK)
        return rc;
    out->lanes = s->webhook ? 1 : (uint32_t)s->channels.n;
    out->chunks = (uint32_t)c->n;
    out->ud = c;
    return ND_OK;
}

/* Section blocks of at most SECTION_MAX bytes (so at most as many
 * characters), cut after a newline when there is one in the second half. */
static void json_blocks(struct nd_json *j, const char *t)
{
    size_t len = strlen(t), off = 0, nb = 0;

    nd_json_key(j, "blocks");
    nd_json_arr_open(j);
    while (off < len && nb < BLOCKS_MAX) {
        size_t n = len - off;

        if (n > SECTION_MAX && nb + 1 < BLOCKS_MAX) {
            size_t k = SECTION_MAX;

            while (k > SECTION_MAX / 2 && t[off + k - 1] != '\n')
                k--;
            if (t[off + k - 1] != '\n') {
                k = SECTION_MAX;
                while (k > 0 && ((unsigned char)t[off + k] & 0xc0) == 0x80)
                    k--;
            }
            n = k;
        }
        nd_json_obj_open(j);
        nd_json_kstr(j, "type", "section");
        nd_json_key(j, "text");
        nd_json_obj_open(j);
        nd_json_kstr(j, "type", "mrkdwn");
        nd_json_key(j, "text");
        nd_json_strn(j, t + off, n);
        nd_json_obj_close(j);
        nd_json_obj_close(j);
        off += n;
        nb++;
    }
    nd_json_arr_close(j);
}

static int slack_build_part(void *state, const struct nd_notification *n,
                            const struct nd_part *part, const char *prepared,
                            struct nd_request *req, char *err)
{
    struct slack *s = state;
    struct nd_chunks *c = part->ud;
    const char *text = c->v[part->chunk].text;
    struct nd_json j;
    int rc;

    ND_UNUSED(n);
    ND_UNUSED(prepared);
    nd_json_init(&j, &req->body, ND_JSON_HTML);
    nd_json_obj_open(&j);
    if (!s->webhook)
        nd_json_kstr(&j, "channel", s->channels.v[part->lane]);
    nd_json_kstr(&j, "text", text);
    if (s->blocks && text[0])
        json_blocks(&j, text);
    nd_json_obj_close(&j);
    rc = nd_json_finish(&j, err);
    if (rc != ND_OK)
        return rc;
    req->url =
        s->webhook ? nd_xstrdup(s->webhook) : nd_xasprintf("%s/chat.postMessage", s->api_url);
    req->method = "POST";
    return ND_OK;
}

static int slack_build(void *state, const struct nd_notification *n, const char *prepared,
                       struct nd_request *req, char *err)
{
    ND_UNUSED(state);
    ND_UNUSED(n);
    ND_UNUSED(prepared);
    ND_UNUSED(req);
    return nd_seterr(err, ND_EINVAL, "slack sends through parts");
}

static int slack_setopt(void *state, CURL *easy, struct nd_request *req, char *err)
{
    struct slack *s = state;

    ND_UNUSED(req);
    ND_UNUSED(err);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, s->headers);
    return ND_OK;
}

/* Retry-After in seconds, or -1 (the backoff) when absent or unreadable. */
static int64_t retry_after(const struct nd_response *r)
{
    char v[32];
    char *end;
    long secs;

    if (!nd_response_header(r, "Retry-After", v, sizeof(v)))
        return -1;
    secs = strtol(v, &end, 10);
    if (end == v || *end || secs < 0 || secs > RETRY_AFTER_MAX_S)
        return -1;
    return (int64_t)secs * ND_NS_PER_S;
}

/* The first bytes of a plain-text answer, non-printable bytes as blanks. */
static void body_text(const struct nd_response *r, char *out, size_t outlen)
{
    size_t n = r->body->len < outlen - 1 ? r->body->len : outlen - 1;
    size_t i;

    for (i = 0; i < n; i++) {
        char ch = r->body->data[i];

        out[i] = (ch >= 0x20 && ch < 0x7f) ? ch : ' ';
    }
    out[n] = '\0';
}

static void slack_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    struct slack *s = state;
    struct nd_jsonr *doc = NULL;
    char err[ND_ERRLEN], text[128];
    const char *error = NULL;
    bool ok = false;

    nd_classify_http(r, v);
    if (r->curl_code != 0 || v->kind == ND_VERDICT_RETRY)
        return;
    if (s->webhook) {
        body_text(r, text, sizeof(text));
        if (r->status == 200 && strcmp(text, "ok") == 0) {
            v->kind = ND_VERDICT_DELIVERED;
            return;
        }
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "status %ld: error %s", r->status, text);
        return;
    }
    if (r->status != 200) {
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "status %ld, want 200", r->status);
        return;
    }
    if (nd_jsonr_parse(r->body->data ? r->body->data : "", r->body->len, &doc, err) != ND_OK) {
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "status 200 with an unreadable answer: %.180s", err);
        return;
    }
    if (nd_jsonr_bool(doc, "ok", &ok) == ND_OK && ok) {
        v->kind = ND_VERDICT_DELIVERED;
    } else {
        if (nd_jsonr_str(doc, "error", &error) != ND_OK)
            error = "(none)";
        if (strcmp(error, "ratelimited") == 0) {
            v->kind = ND_VERDICT_RETRY;
            v->delay_ns = retry_after(r);
        } else {
            v->kind = ND_VERDICT_FAILED;
        }
        snprintf(v->reason, sizeof(v->reason), "error %.200s", error);
    }
    nd_jsonr_free(doc);
}

const struct nd_receiver_type nd_receiver_type_slack = {
    .name = "slack",
    .configure = slack_configure,
    .free_state = slack_free,
    .build = slack_build,
    .setopt = slack_setopt,
    .classify = slack_classify,
    .parts = slack_parts,
    .build_part = slack_build_part,
    .free_parts = nd_chunks_free_parts,
};
