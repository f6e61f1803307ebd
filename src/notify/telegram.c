/* telegram.c - the Telegram receiver: a bot's sendMessage to each channel.
 *
 * Keys are in docs/receivers.md. One notification is sent as lanes x
 * chunks (receiver.h's fan-out): one lane per channel, the message split
 * by whole alerts (nd_tmpl_split) below max_message_size. An alert that
 * alone does not fit is sent cut, ending in TRUNC_MARKER (escaped for the
 * parse mode like the rest of the text).
 *
 * Request (https://core.telegram.org/bots/api#sendmessage):
 * POST <api_url>/bot<token>/sendMessage with the JSON body
 * {"chat_id":..,"text":..[,"parse_mode":..]}.
 *
 * Size: Telegram counts the text in UTF-16 code units after entity
 * parsing. Chunks are measured by nd_tmpl_split in bytes of the text once
 * JSON-escaped, a cut alert in bytes of the text (escapes for parse_mode
 * included): both are at least the UTF-16 count, so never over the limit.
 *
 * Verdict (https://core.telegram.org/bots/api#making-requests): the answer
 * is {"ok":true,..} or {"ok":false,"error_code":N,"description":..}.
 * ok true is delivered; 429 (or error_code 429) retries after
 * parameters.retry_after seconds (else Retry-After, else the backoff);
 * 5xx and transport errors retry; anything else fails at once with
 * error_code and description in the reason. The token is part of the URL
 * path: it is scrubbed from every reason.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/chunks.h"
#include "notifyd/json.h"
#include "notifyd/jsonr.h"
#include "notifyd/receiver.h"
#include "notifyd/parse.h"
#include "notifyd/tmpl_split.h"
#include "notifyd/util.h"

#define DEFAULT_API_URL  "https://api.telegram.org"
#define DEFAULT_MAX_SIZE 4096
#define TRUNC_MARKER     "\xe2\x80\xa6[truncated]"
/* A retry_after beyond this is taken as this (the engine caps it too). */
#define RETRY_AFTER_MAX_S 3600

enum parse_mode { PM_NONE, PM_HTML, PM_MARKDOWNV2 };

struct telegram {
    char *token; /* secret: never logged */
    struct nd_strlist channels;
    struct nd_strlist mentions;
    enum parse_mode pm;
    char *api_url; /* without a trailing '/' */
    struct nd_receiver_template tmpl;
    uint64_t max_size;
    struct curl_slist *headers;
};

static void telegram_free(void *p)
{
    struct telegram *t = p;

    if (!t)
        return;
    if (t->token) {
        memset(t->token, 0, strlen(t->token));
        free(t->token);
    }
    nd_strlist_deinit(&t->channels);
    nd_strlist_deinit(&t->mentions);
    free(t->api_url);
    nd_receiver_template_deinit(&t->tmpl);
    if (t->headers)
        curl_slist_free_all(t->headers);
    free(t);
}

static int telegram_configure(struct nd_receiver_config *rc,
                              const struct nd_template_set *templates, void **state,
                              struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct telegram *t = nd_xcalloc(1, sizeof(*t));
    struct nd_config_kv *kv;

    t->token = nd_receiver_config_secret(rc, "token", false, errs);
    if (!t->token && !nd_receiver_config_get(rc, "token"))
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "token", "missing key");
    else if (t->token && strpbrk(t->token, "/?#% \t\r\n"))
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "token"), rc->section,
                            "token", "invalid token: want a bot token such as 123456:ABC-DEF");
    nd_receiver_config_list(rc, "channels", &t->channels);
    if (t->channels.n == 0)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "channels"), rc->section,
                            "channels",
                            "missing key: want chat ids or @channel names, comma-separated");
    else if (t->channels.n > ND_PARTS_LANES_MAX)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "channels"), rc->section,
                            "channels", "%zu channels, at most %u", t->channels.n,
                            ND_PARTS_LANES_MAX);
    nd_receiver_config_list(rc, "mentioned_users", &t->mentions);

    kv = nd_receiver_config_get(rc, "parse_mode");
    if (kv && strcmp(kv->value, "HTML") == 0)
        t->pm = PM_HTML;
    else if (kv && strcmp(kv->value, "MarkdownV2") == 0)
        t->pm = PM_MARKDOWNV2;
    else if (kv && kv->value[0])
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                            "invalid value \"%s\": want HTML or MarkdownV2 (or empty)", kv->value);

    t->api_url = nd_receiver_config_strdup(rc, "api_url");
    if (!t->api_url)
        t->api_url = nd_xstrdup(DEFAULT_API_URL);
    else if (strncmp(t->api_url, "http://", 7) != 0 && strncmp(t->api_url, "https://", 8) != 0)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "api_url"), rc->section,
                            "api_url", "want an http:// or https:// URL");
    while (strlen(t->api_url) > 0 && t->api_url[strlen(t->api_url) - 1] == '/')
        t->api_url[strlen(t->api_url) - 1] = '\0';

    nd_receiver_template_config(rc, templates, "nm.default.text", &t->tmpl, errs);
    t->max_size = DEFAULT_MAX_SIZE;
    nd_receiver_config_uint(rc, "max_message_size", ND_REQUEST_BODY_MAX / 8, &t->max_size, errs);
    if (t->max_size < 64)
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "max_message_size"),
                            rc->section, "max_message_size", "at least 64 bytes");

    if (errs->total != before) {
        telegram_free(t);
        *state = NULL;
        return ND_EINVAL;
    }
    t->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (t->headers)
        t->headers = curl_slist_append(t->headers, "Expect:");
    if (!t->headers)
        abort(); /* curl_slist_append fails only on OOM */
    *state = t;
    return ND_OK;
}

/* Appends s escaped for the parse mode: HTML needs <, > and & as entities;
 * MarkdownV2 needs each of _*[]()~`>#+-=|{}.! and the backslash itself
 * behind a backslash (https://core.telegram.org/bots/api#formatting-options). */
static int add_escaped(struct telegram *t, struct nd_buf *out, const char *s, size_t n)
{
    size_t i;
    int rc = ND_OK;

    if (t->pm == PM_NONE)
        return nd_buf_add(out, s, n);
    for (i = 0; i < n && rc == ND_OK; i++) {
        char c = s[i];
        if (t->pm == PM_HTML) {
            if (c == '<')
                rc = nd_buf_adds(out, "&lt;");
            else if (c == '>')
                rc = nd_buf_adds(out, "&gt;");
            else if (c == '&')
                rc = nd_buf_adds(out, "&amp;");
            else
                rc = nd_buf_addc(out, c);
        } else {
            if (strchr("_*[]()~`>#+-=|{}.!\\", c) && c != '\0')
                rc = nd_buf_addc(out, '\\');
            if (rc == ND_OK)
                rc = nd_buf_addc(out, c);
        }
    }
    return rc;
}

/* The mentions as the original appends them: "\n@u1 @u2 ". */
static int add_mentions(struct telegram *t, struct nd_buf *out)
{
    size_t i;
    int rc = ND_OK;

    if (t->mentions.n == 0)
        return ND_OK;
    rc = nd_buf_addc(out, '\n');
    for (i = 0; i < t->mentions.n && rc == ND_OK; i++) {
        const char *u = t->mentions.v[i];
        if (u[0] == '@')
            u++;
        rc = nd_buf_addc(out, '@');
        if (rc == ND_OK)
            rc = add_escaped(t, out, u, strlen(u));
        if (rc == ND_OK)
            rc = nd_buf_addc(out, ' ');
    }
    return rc;
}

struct render_ctx {
    struct telegram *t;
    const struct nd_notification *n;
};

/* The raw template text for alerts[0..count) of the notification: a
 * shallow copy with only those alerts (group and common labels of the
 * whole group hold for any part of it). */
static int render_raw(struct render_ctx *c, struct nd_alert *const *alerts, size_t count,
                      struct nd_buf *out, char *err)
{
    struct nd_notification sub = *c->n;

    sub.alerts = (struct nd_alert **)alerts;
    sub.nalerts = count;
    return nd_receiver_template_render(&c->t->tmpl, &sub, out, err);
}

static int render_chunk(void *ctx, struct nd_alert *const *alerts, size_t count, struct nd_buf *msg,
                        struct nd_buf *title, char err[ND_ERRLEN])
{
    struct render_ctx *c = ctx;
    struct nd_buf raw;
    int rc;

    ND_UNUSED(title);
    nd_buf_init(&raw, msg->limit);
    rc = render_raw(c, alerts, count, &raw, err);
    if (rc == ND_OK)
        rc = add_escaped(c->t, msg, raw.data ? raw.data : "", raw.len);
    if (rc == ND_OK)
        rc = add_mentions(c->t, msg);
    nd_buf_deinit(&raw);
    return rc;
}

/* The message of one alert that alone is too big: the longest prefix
 * (cut at a UTF-8 boundary) that, escaped, with the marker and the
 * mentions, fits in max_size bytes. */
static char *render_truncated(struct render_ctx *c, struct nd_alert *const *alert, char *err)
{
    struct nd_buf raw, out;
    size_t lo = 0, hi, best = 0;
    char *res;
    int rc;

    nd_buf_init(&raw, ND_REQUEST_BODY_MAX);
    rc = render_raw(c, alert, 1, &raw, err);
    if (rc != ND_OK) {
        nd_buf_deinit(&raw);
        return NULL;
    }
    nd_buf_init(&out, ND_REQUEST_BODY_MAX);
    hi = raw.len;
    /* Binary search on the cut: the escaped size grows with it. */
    while (lo <= hi) {
        size_t mid = lo + (hi - lo) / 2, cut = mid;
        while (cut > 0 && cut < raw.len && ((unsigned char)raw.data[cut] & 0xc0) == 0x80)
            cut--;
        nd_buf_reset(&out);
        add_escaped(c->t, &out, raw.data ? raw.data : "", cut);
        add_escaped(c->t, &out, TRUNC_MARKER, strlen(TRUNC_MARKER));
        add_mentions(c->t, &out);
        if (out.len <= c->t->max_size) {
            best = cut;
            lo = mid + 1;
        } else {
            if (mid == 0)
                break;
            hi = mid - 1;
        }
    }
    nd_buf_reset(&out);
    add_escaped(c->t, &out, raw.data ? raw.data : "", best);
    add_escaped(c->t, &out, TRUNC_MARKER, strlen(TRUNC_MARKER));
    add_mentions(c->t, &out);
    res = nd_xstrndup(out.data ? out.data : "", out.len);
    nd_buf_deinit(&raw);
    nd_buf_deinit(&out);
    return res;
}

/* nd_chunks_cut_fn: one alert that alone is too big, cut as above. */
static int cut_alert(void *ctx, struct nd_alert *const *alert, size_t limit, struct nd_buf *msg,
                     struct nd_buf *title, char err[ND_ERRLEN])
{
    char *s = render_truncated(ctx, alert, err);

    ND_UNUSED(limit);
    ND_UNUSED(title);
    if (!s)
        return ND_EINVAL;
    nd_buf_adds(msg, s);
    free(s);
    return ND_OK;
}

static int telegram_parts(void *state, const struct nd_notification *n, struct nd_parts *out,
                          char *err)
{
    struct telegram *t = state;
    struct render_ctx c = {t, n};
    struct nd_chunks_spec spec = {
        .limit = t->max_size,
        .render_limit = ND_REQUEST_BODY_MAX,
        .render = render_chunk,
        .cut = cut_alert,
        .ctx = &c,
    };
    struct nd_chunks *ch;
    int rc;

    rc = nd_chunks_split(n->alerts, n->nalerts, &spec, &ch, err);
    if (rc != ND_OK)
        return rc;
    out->lanes = (uint32_t)t->channels.n;
    out->chunks = (uint32_t)ch->n;
    out->ud = ch;
    return ND_OK;
}

static const char *pm_name(enum parse_mode pm)
{
    return pm == PM_HTML ? "HTML" : pm == PM_MARKDOWNV2 ? "MarkdownV2" : NULL;
}

static int telegram_build_part(void *state, const struct nd_notification *n,
                               const struct nd_part *part, const char *prepared,
                               struct nd_request *req, char *err)
{
    struct telegram *t = state;
    struct nd_chunks *ch = part->ud;
    struct nd_json j;
    int rc;

    ND_UNUSED(n);
    ND_UNUSED(prepared);
    if (part->lane >= t->channels.n || part->chunk >= ch->n)
        return nd_seterr(err, ND_EINVAL, "no such part");
    nd_json_init(&j, &req->body, ND_JSON_HTML);
    nd_json_obj_open(&j);
    nd_json_kstr(&j, "chat_id", t->channels.v[part->lane]);
    nd_json_kstr(&j, "text", ch->v[part->chunk].text);
    if (t->pm != PM_NONE)
        nd_json_kstr(&j, "parse_mode", pm_name(t->pm));
    nd_json_obj_close(&j);
    rc = nd_json_finish(&j, err);
    if (rc != ND_OK)
        return rc;
    req->url = nd_xasprintf("%s/bot%s/sendMessage", t->api_url, t->token);
    req->method = "POST";
    return ND_OK;
}

static int telegram_setopt(void *state, CURL *easy, struct nd_request *req, char *err)
{
    struct telegram *t = state;

    ND_UNUSED(req);
    ND_UNUSED(err);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t->headers);
    return ND_OK;
}

/* Replaces every occurrence of the token in the reason by "<token>". */
static void scrub(const struct telegram *t, char *reason)
{
    size_t tl = strlen(t->token);
    char *p;

    if (tl == 0)
        return;
    while ((p = strstr(reason, t->token)) != NULL) {
        static const char repl[] = "<token>";
        size_t rest = strlen(p + tl);
        if (tl >= sizeof(repl) - 1) {
            memcpy(p, repl, sizeof(repl) - 1);
            memmove(p + sizeof(repl) - 1, p + tl, rest + 1);
        } else {
            /* A token shorter than the marker: blank it in place. */
            memset(p, '*', tl);
        }
    }
}

static void telegram_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    struct telegram *t = state;
    struct nd_jsonr *doc = NULL;
    char err[ND_ERRLEN];
    const char *desc = "";
    int64_t code = 0, after = -1;
    bool ok = false;

    nd_classify_http(r, v);
    if (r->curl_code != 0)
        goto out;
    if (nd_jsonr_parse(r->body->data ? r->body->data : "", r->body->len, &doc, err) != ND_OK) {
        /* 5xx and 429 keep the HTTP verdict (retry); anything else without
         * a readable answer is not a delivery. */
        if (v->kind != ND_VERDICT_RETRY) {
            v->kind = ND_VERDICT_FAILED;
            snprintf(v->reason, sizeof(v->reason), "status %ld with an unreadable answer: %.180s",
                     r->status, err);
        }
        goto out;
    }
    nd_jsonr_bool(doc, "ok", &ok);
    if (ok && r->status == 200) {
        v->kind = ND_VERDICT_DELIVERED;
        goto out;
    }
    nd_jsonr_int(doc, "error_code", &code);
    nd_jsonr_str(doc, "description", &desc);
    if (r->status == 429 || code == 429) {
        v->kind = ND_VERDICT_RETRY;
        if (nd_jsonr_int(doc, "parameters.retry_after", &after) == ND_OK && after >= 0)
            v->delay_ns = (after > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : after) * ND_NS_PER_S;
    } else if (v->kind != ND_VERDICT_RETRY) {
        v->kind = ND_VERDICT_FAILED;
    }
    snprintf(v->reason, sizeof(v->reason), "status %ld, error_code %" PRId64 ": %.180s", r->status,
             code, desc);
out:
    nd_jsonr_free(doc);
    scrub(t, v->reason);
}

const struct nd_receiver_type nd_receiver_type_telegram = {
    .name = "telegram",
    .configure = telegram_configure,
    .free_state = telegram_free,
    .setopt = telegram_setopt,
    .classify = telegram_classify,
    .parts = telegram_parts,
    .build_part = telegram_build_part,
    .free_parts = nd_chunks_free_parts,
};
