/* receiver.c - the type registry, the generic receiver keys, the HTTP
 * classification rule, and --check-config validation. */
#include "notifyd/receiver.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notifyd/backoff.h"
#include "notifyd/engine.h"
#include "notifyd/parse.h"
#include "notifyd/util.h"
#include "notify_int.h"

#define MAX_REGISTERED 32

static const struct nd_receiver_type *registered[MAX_REGISTERED];
static size_t nregistered;

const struct nd_receiver_type *nd_receiver_type_find(const char *name)
{
    static const struct nd_receiver_type *const builtin[] = {
        &nd_receiver_type_webhook,  &nd_receiver_type_console, &nd_receiver_type_dingtalk,
        &nd_receiver_type_discord,  &nd_receiver_type_slack,   &nd_receiver_type_telegram,
        &nd_receiver_type_pushover, &nd_receiver_type_wechat,  &nd_receiver_type_email,
        &nd_receiver_type_sms,      &nd_receiver_type_feishu,
    };
    size_t i;

    if (!name)
        return NULL;
    for (i = 0; i < ND_ARRAY_LEN(builtin); i++)
        if (strcmp(builtin[i]->name, name) == 0)
            return builtin[i];
    for (i = 0; i < nregistered; i++)
        if (strcmp(registered[i]->name, name) == 0)
            return registered[i];
    return NULL;
}

int nd_receiver_type_register(const struct nd_receiver_type *t)
{
    if (t->parts && (!t->build_part || t->sink))
        return ND_EINVAL;
    if (nregistered >= MAX_REGISTERED)
        return ND_ETOOBIG;
    registered[nregistered++] = t;
    return ND_OK;
}

void nd_request_init(struct nd_request *req)
{
    memset(req, 0, sizeof(*req));
    nd_buf_init(&req->body, ND_REQUEST_BODY_MAX);
}

void nd_request_deinit(struct nd_request *req)
{
    free(req->url);
    req->url = NULL;
    if (req->headers)
        curl_slist_free_all(req->headers);
    req->headers = NULL;
    if (req->mail_rcpt)
        curl_slist_free_all(req->mail_rcpt);
    req->mail_rcpt = NULL;
    nd_buf_deinit(&req->body);
}

const char *nd_response_header(const struct nd_response *r, const char *name, char *out,
                               size_t outlen)
{
    const char *p = r->headers ? nd_buf_cstr(r->headers) : "";
    size_t nlen = strlen(name);

    while (*p) {
        const char *eol = strchr(p, '\n');
        const char *end = eol ? eol : p + strlen(p);

        if ((size_t)(end - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            size_t n;

            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
            n = (size_t)(end - v);
            if (outlen == 0)
                return NULL;
            if (n >= outlen)
                n = outlen - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return out;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return NULL;
}

/* The first bytes of a body for a log line: printable ASCII only, so that
 * a binary or multi-line answer cannot break the logfmt line. */
static void body_excerpt(const struct nd_buf *b, char *out, size_t outlen)
{
    size_t i, n = 0;
    const char *s = b ? nd_buf_cstr(b) : "";
    size_t len = b ? b->len : 0;

    for (i = 0; i < len && i < 200 && n + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
    }
    out[n] = '\0';
}

void nd_classify_http(const struct nd_response *r, struct nd_verdict *v)
{
    char body[201];
    char ra[128];

    v->delay_ns = -1;
    v->reprepare = false;
    if (r->curl_code != CURLE_OK) {
        v->kind = ND_VERDICT_RETRY;
        snprintf(v->reason, sizeof(v->reason), "%s", r->curl_error);
        return;
    }
    if (r->status >= 200 && r->status <= 299) {
        v->kind = ND_VERDICT_DELIVERED;
        snprintf(v->reason, sizeof(v->reason), "status %ld", r->status);
        return;
    }
    body_excerpt(r->body, body, sizeof(body));
    snprintf(v->reason, sizeof(v->reason), "status %ld: %s", r->status, body);
    if (r->status == 408 || r->status == 429 || (r->status >= 500 && r->status <= 599)) {
        v->kind = ND_VERDICT_RETRY;
        if ((r->status == 429 || r->status == 503) &&
            nd_response_header(r, "Retry-After", ra, sizeof(ra))) {
            int64_t d;
            if (nd_retry_after_parse(ra, r->now_wall_ns, &d) == ND_OK)
                v->delay_ns = d;
        }
        return;
    }
    v->kind = ND_VERDICT_FAILED;
}

static void key_error(struct nd_receiver_config *rc, const char *key, struct nd_config_errors *errs,
                      const char *msg)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);

    nd_config_error_add(errs, rc->file, kv ? kv->line : rc->line, rc->section, key, "%s", msg);
}

/* The range the [delivery] section gives the same key (config.h). */
static void check_duration(struct nd_receiver_config *rc, const char *key, int64_t ns,
                           struct nd_config_errors *errs)
{
    char msg[96], hi[32];

    if ((double)ns < ND_DELIVERY_DURATION_MIN_NS) {
        key_error(rc, key, errs, "must be > 0");
    } else if ((double)ns > ND_DELIVERY_DURATION_MAX_NS) {
        nd_format_duration((int64_t)ND_DELIVERY_DURATION_MAX_NS, hi);
        snprintf(msg, sizeof(msg), "out of range: at most %s", hi);
        key_error(rc, key, errs, msg);
    }
}

/* As the loader checks [delivery] (config.c), for a section that sets
 * max_backlog or overflow itself: drop_oldest and spill need a limit, and
 * one below [queue] max_alerts, or the global queue fills before the
 * receiver drops or spills; spill needs the write-ahead log. */
static void check_backlog(struct nd_receiver_config *rc, const struct nd_delivery_config *d,
                          struct nd_config_errors *errs)
{
    char msg[256];
    const char *name = nd_overflow_name(d->overflow);

    if (d->overflow == ND_OVERFLOW_BACKPRESSURE)
        return;
    if (!nd_receiver_config_get(rc, "overflow") && !nd_receiver_config_get(rc, "max_backlog"))
        return; /* both from [delivery]: checked there */
    if (d->overflow == ND_OVERFLOW_SPILL && !d->wal && nd_receiver_config_get(rc, "overflow"))
        key_error(rc, "overflow", errs, "spill needs [queue] wal_dir (a write-ahead log)");
    if (d->max_backlog == 0) {
        snprintf(msg, sizeof(msg), "%s needs max_backlog > 0", name);
        key_error(rc, nd_receiver_config_get(rc, "overflow") ? "overflow" : "max_backlog", errs,
                  msg);
    } else if (d->queue_max_alerts && d->max_backlog >= d->queue_max_alerts) {
        snprintf(msg, sizeof(msg),
                 "%llu is not below [queue] max_alerts %llu: with overflow = %s the "
                 "global queue would fill before the receiver does",
                 (unsigned long long)d->max_backlog, (unsigned long long)d->queue_max_alerts, name);
        key_error(rc, "max_backlog", errs, msg);
    }
}

int nd__receiver_generic_config(struct nd_receiver_config *rc,
                                const struct nd_delivery_config *defaults,
                                struct nd_delivery_config *out, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct nd_config_kv *overflow;
    uint64_t u;

    *out = *defaults;
    nd_receiver_config_duration(rc, "timeout", &out->timeout_ns, errs);
    u = out->max_in_flight;
    if (nd_receiver_config_uint(rc, "max_in_flight", 4096, &u, errs) == ND_OK)
        out->max_in_flight = (uint32_t)u;
    u = out->retry_max_attempts;
    if (nd_receiver_config_uint(rc, "retry_max_attempts", 1000, &u, errs) == ND_OK)
        out->retry_max_attempts = (uint32_t)u;
    nd_receiver_config_duration(rc, "retry_max_age", &out->retry_max_age_ns, errs);
    nd_receiver_config_duration(rc, "retry_initial", &out->retry_initial_ns, errs);
    nd_receiver_config_double(rc, "retry_factor", &out->retry_factor, errs);
    nd_receiver_config_duration(rc, "retry_max", &out->retry_max_ns, errs);
    nd_receiver_config_double(rc, "retry_jitter", &out->retry_jitter, errs);
    u = out->max_backlog;
    if (nd_receiver_config_uint(rc, "max_backlog", UINT64_C(1000000000000000), &u, errs) == ND_OK)
        out->max_backlog = u;
    u = out->spill_max_alerts;
    if (nd_receiver_config_uint(rc, "spill_max_alerts", UINT64_C(1000000000000), &u, errs) == ND_OK)
        out->spill_max_alerts = u;
    overflow = nd_receiver_config_get(rc, "overflow");
    if (overflow) {
        char err[ND_ERRLEN];
        if (nd_overflow_parse(overflow->value, &out->overflow, err) != ND_OK)
            key_error(rc, "overflow", errs, err);
    }
    if (errs->total != before)
        return ND_EINVAL;

    check_duration(rc, "timeout", out->timeout_ns, errs);
    if (out->max_in_flight < 1)
        key_error(rc, "max_in_flight", errs, "must be >= 1");
    if (out->retry_max_attempts < 1)
        key_error(rc, "retry_max_attempts", errs, "must be >= 1");
    if (out->spill_max_alerts < 1)
        key_error(rc, "spill_max_alerts", errs, "must be >= 1");
    check_duration(rc, "retry_max_age", out->retry_max_age_ns, errs);
    check_duration(rc, "retry_initial", out->retry_initial_ns, errs);
    if (!(out->retry_factor >= 1.0 && out->retry_factor <= 100.0))
        key_error(rc, "retry_factor", errs, "must be between 1 and 100");
    check_duration(rc, "retry_max", out->retry_max_ns, errs);
    if (out->retry_max_ns < out->retry_initial_ns)
        key_error(rc, "retry_max", errs, "must be >= retry_initial");
    if (!(out->retry_jitter >= 0.0 && out->retry_jitter <= 1.0))
        key_error(rc, "retry_jitter", errs, "must be between 0 and 1");
    check_backlog(rc, out, errs);
    return errs->total == before ? ND_OK : ND_EINVAL;
}

int nd__receiver_configure(struct nd_receiver_config *rc, const struct nd_delivery_config *defaults,
                           const struct nd_template_set *templates,
                           const struct nd_receiver_type **type_out, struct nd_delivery_config *cfg,
                           void **state_out, struct nd_target_keys *keys,
                           struct nd_config_errors *errs)
{
    size_t before = errs->total;
    const struct nd_receiver_type *t;
    void *state = NULL;

    *state_out = NULL;
    if (!rc->type) {
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "type", "missing key");
        return ND_EINVAL;
    }
    t = nd_receiver_type_find(rc->type);
    if (!t) {
        nd_config_error_add(errs, rc->file, rc->type_line ? rc->type_line : rc->line, rc->section,
                            "type", "unknown receiver type \"%s\"", rc->type);
        return ND_EINVAL;
    }
    nd__receiver_generic_config(rc, defaults, cfg, errs);
    nd_target_keys_parse(rc, keys, errs);
    if (t->configure(rc, templates, &state, errs) != ND_OK)
        state = NULL;
    nd_receiver_config_check_unused(rc, errs);
    if (errs->total != before) {
        if (state && t->free_state)
            t->free_state(state);
        nd_target_keys_deinit(keys);
        return ND_EINVAL;
    }
    *type_out = t;
    *state_out = state;
    return ND_OK;
}

int nd_receiver_check_keys(struct nd_receiver_config *rc, const struct nd_delivery_config *defaults,
                           const struct nd_template_set *templates, struct nd_target_keys *keys,
                           struct nd_config_errors *errs)
{
    const struct nd_receiver_type *t;
    struct nd_delivery_config cfg;
    void *state;

    memset(keys, 0, sizeof *keys);
    int rc_ = nd__receiver_configure(rc, defaults, templates, &t, &cfg, &state, keys, errs);
    if (rc_ == ND_OK && state && t->free_state)
        t->free_state(state);
    return rc_;
}

int nd_receiver_check(struct nd_receiver_config *rc, const struct nd_delivery_config *defaults,
                      const struct nd_template_set *templates, struct nd_config_errors *errs)
{
    struct nd_target_keys keys;
    int rc_ = nd_receiver_check_keys(rc, defaults, templates, &keys, errs);
    nd_target_keys_deinit(&keys);
    return rc_;
}

int nd_receiver_template_config(struct nd_receiver_config *rc, const struct nd_template_set *set,
                                const char *def, struct nd_receiver_template *out,
                                struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, "template");
    struct nd_config_kv *tk = nd_receiver_config_get(rc, "template_type");
    char err[ND_ERRLEN];
    int ret = ND_OK;

    memset(out, 0, sizeof(*out));
    out->set = set;
    out->mode = ND_TEMPLATE_TEXT;
    if (tk) {
        if (strcmp(tk->value, "html") == 0) {
            out->mode = ND_TEMPLATE_HTML;
        } else if (strcmp(tk->value, "text") != 0) {
            nd_config_error_add(errs, rc->file, tk->line, rc->section, tk->key,
                                "invalid value \"%s\": want text or html", tk->value);
            ret = ND_EINVAL;
        }
        if (!kv && !def) {
            nd_config_error_add(errs, rc->file, tk->line, rc->section, tk->key,
                                "needs the template key");
            ret = ND_EINVAL;
        }
    }
    if (!kv) {
        out->name = def ? nd_xstrdup(def) : NULL;
        return ret;
    }
    if (nd_template_check_ref(set, kv->value, err) != ND_OK) {
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key, "%s", err);
        return ND_EINVAL;
    }
    out->name = nd_xstrdup(kv->value);
    return ret;
}

void nd_receiver_template_deinit(struct nd_receiver_template *t)
{
    free(t->name);
    t->name = NULL;
}

int nd_receiver_template_render(const struct nd_receiver_template *t,
                                const struct nd_notification *n, struct nd_buf *out, char *err)
{
    char msg[ND_ERRLEN];
    struct nd_template_data *d = nd_template_data_from_notification(n, nd_now_wall_ns());
    int rc = t->mode == ND_TEMPLATE_HTML ? nd_template_html(t->set, t->name, d, out, msg)
                                         : nd_template_text(t->set, t->name, d, out, msg);

    nd_template_data_free(d);
    if (rc != ND_OK)
        nd_seterr(err, rc, "template %s: %s", t->name, msg);
    return rc;
}
