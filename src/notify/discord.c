/* discord.c - the Discord receiver: an incoming webhook
 * (https://discord.com/developers/docs/resources/webhook#execute-webhook).
 *
 * Keys are in docs/receivers.md. One notification is split by whole
 * alerts (nd_tmpl_split) into messages under the limit (2000 characters
 * of content, 4096 of embed description, minus the mentions), sent in
 * order as fan-out chunks on one lane. An alert that alone is over the
 * limit is sent cut, ending with ND_CHUNK_MARK.
 *
 * Message: chunk + "\n" + <@user>... + <@&role>... (as NM), in `content`
 * or in `embeds[0].description` with an empty content.
 *
 * Verdict: 204 (or 200, answered with ?wait=true) is delivered; 429 is
 * retried after the answer's retry_after (seconds, fractional) or its
 * Retry-After header; transport errors and 5xx are retried with the
 * backoff; other statuses fail at once, logged with Discord's JSON `code`
 * and `message` (https://discord.com/developers/docs/topics/rate-limits,
 * .../topics/opcodes-and-status-codes#json).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/chunks.h"
#include "notifyd/json.h"
#include "notifyd/jsonr.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/tmpl_split.h"
#include "notifyd/util.h"

#define CONTENT_MAX_SIZE 2000
#define EMBED_MAX_SIZE   4096
/* Longest retry_after taken from an answer; the engine caps it again. */
#define RETRY_AFTER_MAX_S 3600.0

struct discord {
    char *webhook; /* secret: the URL carries the webhook's token */
    char *url;     /* webhook, with api_url as its base when set */
    bool embed;
    char *mentions; /* "<@u1><@&r1>", "" when none */
    struct nd_receiver_template tmpl;
    uint64_t max_size;
    struct curl_slist *headers;
};

static void discord_free(void *p)
{
    struct discord *d = p;

    if (!d)
        return;
    nd_secret_free(d->webhook);
    nd_secret_free(d->url);
    free(d->mentions);
    nd_receiver_template_deinit(&d->tmpl);
    if (d->headers)
        curl_slist_free_all(d->headers);
    free(d);
}

static bool http_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* Appends each comma-separated item of `key` as prefix + item + suffix;
 * "everyone" among users is @everyone, as NM renders it. */
static void mentions(struct nd_receiver_config *rc, const char *key, const char *prefix, bool users,
                     struct nd_buf *out)
{
    const char *s = NULL, *p;

    nd_receiver_config_string(rc, key, &s);
    if (!s)
        return;
    for (p = s; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *a = p;

        while (len > 0 && (*a == ' ' || *a == '\t')) {
            a++;
            len--;
        }
        while (len > 0 && (a[len - 1] == ' ' || a[len - 1] == '\t'))
            len--;
        if (users && len == 8 && strncmp(a, "everyone", 8) == 0) {
            nd_buf_adds(out, "@everyone");
        } else if (len > 0) {
            nd_buf_adds(out, prefix);
            nd_buf_add(out, a, len);
            nd_buf_adds(out, ">");
        }
        if (!end)
            break;
        p = end + 1;
    }
}

/* With api_url, the webhook's path from "/webhooks/" on is kept and its
 * base (https://discord.com/api) replaced. */
static char *effective_url(const char *webhook, const char *api_url)
{
    const char *path;
    size_t blen;

    if (!api_url)
        return nd_xstrdup(webhook);
    path = strstr(webhook, "/webhooks/");
    if (!path)
        return NULL;
    blen = strlen(api_url);
    while (blen > 0 && api_url[blen - 1] == '/')
        blen--;
    return nd_xasprintf("%.*s%s", (int)blen, api_url, path);
}

static int discord_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                             void **state, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct discord *d = nd_xcalloc(1, sizeof(*d));
    struct nd_config_kv *kv;
    struct nd_buf m;
    char *api_url;

    d->webhook = nd_receiver_config_secret(rc, "webhook", false, errs);
    api_url = nd_receiver_config_strdup(rc, "api_url");
    if (api_url && !http_url(api_url))
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "api_url"), rc->section,
                            "api_url", "want an http:// or https:// URL");
    if (!d->webhook) {
        if (!nd_receiver_config_get(rc, "webhook"))
            nd_config_error_add(errs, rc->file, rc->line, rc->section, "webhook", "missing key");
    } else if (!http_url(d->webhook)) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "webhook"), rc->section,
                            "webhook", "want an http:// or https:// URL");
    } else {
        d->url = effective_url(d->webhook, api_url);
        if (!d->url)
            nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "webhook"), rc->section,
                                "webhook",
                                "with api_url, want a webhook URL with /webhooks/ID/TOKEN");
    }
    free(api_url);

    kv = nd_receiver_config_get(rc, "message_type");
    if (kv && strcmp(kv->value, "embed") == 0)
        d->embed = true;
    else if (kv && strcmp(kv->value, "content") != 0)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                            "invalid value \"%s\": want content or embed", kv->value);

    /* Two config lines (64 KiB each) of one-character ids at most triple. */
    nd_buf_init(&m, 512 * 1024);
    mentions(rc, "mentioned_users", "<@", true, &m);
    mentions(rc, "mentioned_roles", "<@&", false, &m);
    d->mentions = nd_xstrdup(m.len ? nd_buf_cstr(&m) : "");
    nd_buf_deinit(&m);

    nd_receiver_template_config(rc, templates, "nm.default.text", &d->tmpl, errs);
    d->max_size = d->embed ? EMBED_MAX_SIZE : CONTENT_MAX_SIZE;
    nd_receiver_config_uint(rc, "max_message_size", ND_REQUEST_BODY_MAX / 8, &d->max_size, errs);
    /* Room for the mentions, the newline and the truncation mark. */
    if (d->max_size < strlen(d->mentions) + 1 + sizeof(ND_CHUNK_MARK) + 16)
        nd_config_error_add(errs, rc->file,
                            nd_receiver_config_line(rc, "max_message_size")
                                ? nd_receiver_config_line(rc, "max_message_size")
                                : rc->line,
                            rc->section, "max_message_size",
                            "%" PRIu64 " leaves no room for a message after the mentions",
                            d->max_size);
    if (errs->total != before) {
        discord_free(d);
        *state = NULL;
        return ND_EINVAL;
    }
    d->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
    if (d->headers)
        d->headers = curl_slist_append(d->headers, "Expect:");
    if (!d->headers)
        abort(); /* curl_slist_append fails only on OOM */
    *state = d;
    return ND_OK;
}

struct render_ctx {
    struct discord *d;
    const struct nd_notification *n;
};

/* Renders a run of the notification's alerts: a copy of the notification
 * whose alert array is the run (group and common labels are the whole
 * group's, which hold for every run). */
static int render_run(void *ctx, struct nd_alert *const *alerts, size_t count, struct nd_buf *msg,
                      struct nd_buf *title, char err[ND_ERRLEN])
{
    struct render_ctx *c = ctx;
    struct nd_notification sub = *c->n;

    ND_UNUSED(title);
    sub.alerts = (struct nd_alert **)alerts;
    sub.nalerts = count;
    return nd_receiver_template_render(&c->d->tmpl, &sub, msg, err);
}

static int discord_parts(void *state, const struct nd_notification *n, struct nd_parts *out,
                         char *err)
{
    struct discord *d = state;
    struct render_ctx rc = {d, n};
    struct nd_chunks_spec spec = {
        .limit = d->max_size - strlen(d->mentions) - (d->mentions[0] ? 1 : 0),
        .render = render_run,
        .ctx = &rc,
    };
    struct nd_chunks *c;
    int r;

    r = nd_chunks_split(n->alerts, n->nalerts, &spec, &c, err);
    if (r != ND_OK)
        return r;
    out->lanes = 1;
    out->chunks = (uint32_t)c->n;
    out->ud = c;
    return ND_OK;
}

static int discord_build_part(void *state, const struct nd_notification *n,
                              const struct nd_part *part, const char *prepared,
                              struct nd_request *req, char *err)
{
    struct discord *d = state;
    struct nd_chunks *c = part->ud;
    struct nd_buf msg;
    struct nd_json j;
    int r;

    ND_UNUSED(n);
    ND_UNUSED(prepared);
    nd_buf_init(&msg, ND_REQUEST_BODY_MAX);
    nd_buf_adds(&msg, c->v[part->chunk].text);
    if (d->mentions[0]) {
        nd_buf_adds(&msg, "\n");
        nd_buf_adds(&msg, d->mentions);
    }
    nd_json_init(&j, &req->body, 0);
    nd_json_obj_open(&j);
    if (d->embed) {
        nd_json_kstr(&j, "content", "");
        nd_json_key(&j, "embeds");
        nd_json_arr_open(&j);
        nd_json_obj_open(&j);
        nd_json_key(&j, "description");
        nd_json_strn(&j, msg.len ? msg.data : "", msg.len);
        nd_json_obj_close(&j);
        nd_json_arr_close(&j);
    } else {
        nd_json_key(&j, "content");
        nd_json_strn(&j, msg.len ? msg.data : "", msg.len);
    }
    nd_json_obj_close(&j);
    nd_buf_deinit(&msg);
    r = nd_json_finish(&j, err);
    if (r != ND_OK)
        return r;
    req->url = nd_xstrdup(d->url);
    req->method = "POST";
    return ND_OK;
}

static int discord_setopt(void *state, CURL *easy, struct nd_request *req, char *err)
{
    struct discord *d = state;

    ND_UNUSED(req);
    ND_UNUSED(err);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, d->headers);
    return ND_OK;
}

static void discord_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    struct nd_jsonr *doc = NULL;
    char err[ND_ERRLEN];
    const char *body = r->body->data ? r->body->data : "";
    const char *msg = "";
    int64_t code = 0;
    double ra;

    ND_UNUSED(state);
    nd_classify_http(r, v);
    if (r->curl_code != 0)
        return;
    if (r->status == 204 || r->status == 200) {
        v->kind = ND_VERDICT_DELIVERED;
        return;
    }
    if (nd_jsonr_parse(body, r->body->len, &doc, err) != ND_OK)
        doc = NULL;
    if (r->status == 429) {
        v->kind = ND_VERDICT_RETRY;
        /* The body's retry_after is more precise than the header's. */
        if (doc && nd_jsonr_double(doc, "retry_after", &ra) == ND_OK && ra >= 0 && isfinite(ra)) {
            if (ra > RETRY_AFTER_MAX_S)
                ra = RETRY_AFTER_MAX_S;
            v->delay_ns = (int64_t)(ra * (double)ND_NS_PER_S);
        }
        snprintf(v->reason, sizeof(v->reason), "status 429: rate limited, retry after %.3fs",
                 v->delay_ns >= 0 ? (double)v->delay_ns / (double)ND_NS_PER_S : -1.0);
    } else if (doc) {
        nd_jsonr_int(doc, "code", &code);
        nd_jsonr_str(doc, "message", &msg);
        if (v->kind == ND_VERDICT_DELIVERED)
            v->kind = ND_VERDICT_FAILED; /* another 2xx: not a message posted */
        snprintf(v->reason, sizeof(v->reason), "status %ld: code %" PRId64 ": %.180s", r->status,
                 code, msg);
    } else if (v->kind == ND_VERDICT_DELIVERED) {
        v->kind = ND_VERDICT_FAILED;
        snprintf(v->reason, sizeof(v->reason), "status %ld, want 204", r->status);
    }
    if (doc)
        nd_jsonr_free(doc);
}

const struct nd_receiver_type nd_receiver_type_discord = {
    .name = "discord",
    .configure = discord_configure,
    .free_state = discord_free,
    .setopt = discord_setopt,
    .classify = discord_classify,
    .parts = discord_parts,
    .build_part = discord_build_part,
    .free_parts = nd_chunks_free_parts,
};
