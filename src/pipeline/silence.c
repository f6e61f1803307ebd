/* silence.c - see include/notifyd/silence.h. */
#include <stdlib.h>
#include <string.h>

#include "notifyd/cron.h"
#include "notifyd/parse.h"
#include "notifyd/selector.h"
#include "notifyd/silence.h"
#include "notifyd/time.h"

struct silence {
    char *name;
    char *tenant; /* NULL = global */
    struct nd_selector *sel;
    struct nd_silence_when when;
    bool active; /* as of the last nd_silences_begin */
};

struct nd_silences {
    struct silence *v;
    size_t n;
    size_t tenant_active; /* active tenant silences, as of the last begin */
};

static int64_t floor_s(int64_t ns)
{
    return ns >= 0 ? ns / ND_NS_PER_S : -((-ns + ND_NS_PER_S - 1) / ND_NS_PER_S);
}

bool nd_silence_when_active(const struct nd_silence_when *w, int64_t now_ns)
{
    if (!w->enabled)
        return false;
    if (w->schedule) {
        if (!w->has_duration)
            return true;
        /* Next(now) != Next(now - duration): an activation in
         * (now - duration, now]. Whole seconds, as the scheduler has. */
        return nd_cron_next(w->schedule, floor_s(now_ns)) !=
               nd_cron_next(w->schedule, floor_s(now_ns - w->duration_ns));
    }
    if (w->has_starts) {
        int64_t start_ns = w->starts_s * ND_NS_PER_S;
        if (now_ns < start_ns)
            return false;
        return !w->has_duration || now_ns - start_ns < w->duration_ns;
    }
    return true;
}

static void silence_deinit(struct silence *s)
{
    free(s->name);
    free(s->tenant);
    nd_selector_free(s->sel);
    nd_cron_free(s->when.schedule);
}

void nd_silences_free(struct nd_silences *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->n; i++)
        silence_deinit(&s->v[i]);
    free(s->v);
    free(s);
}

size_t nd_silences_count(const struct nd_silences *s)
{
    return s->n;
}

int nd_silences_view_json(const struct nd_silences *s, bool active_only, int64_t now_ns,
                          struct nd_buf *out, bool *first)
{
    int rc = ND_OK;
    for (size_t i = 0; s && i < s->n && rc == ND_OK; i++) {
        const struct silence *x = &s->v[i];
        bool active = nd_silence_when_active(&x->when, now_ns);
        if (active_only && !active)
            continue;
        rc |= nd_buf_adds(out, *first ? "{\"source\":\"config\",\"name\":"
                                      : ",{\"source\":\"config\",\"name\":");
        *first = false;
        rc |= nd_buf_add_json_string(out, x->name);
        rc |= nd_buf_adds(out, ",\"tenant\":");
        rc |= x->tenant ? nd_buf_add_json_string(out, x->tenant) : nd_buf_adds(out, "null");
        rc |= nd_buf_adds(out, ",\"selector\":\"");
        struct nd_buf sel;
        nd_buf_init(&sel, ND_SELECTOR_MAX_LEN * 2);
        if (x->sel)
            nd_selector_format(x->sel, &sel);
        rc |= nd_buf_add_json_escaped(out, nd_buf_cstr(&sel), sel.len);
        nd_buf_deinit(&sel);
        rc |= nd_buf_printf(out, "\",\"enabled\":%s,\"status\":{\"state\":\"%s\"}}",
                            x->when.enabled ? "true" : "false", active ? "active" : "inactive");
    }
    return rc == ND_OK ? ND_OK : ND_ETOOBIG;
}

static int configure_one(const struct nd_config *cfg, struct nd_receiver_config *rc,
                         struct silence *out, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct nd_config_kv *kv;
    char err[ND_ERRLEN];

    memset(out, 0, sizeof(*out));
    out->name = nd_xstrdup(rc->name);
    out->when.enabled = true;
    nd_receiver_config_bool(rc, "enabled", &out->when.enabled, errs);

    kv = nd_receiver_config_get(rc, "selector");
    if (!kv) {
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "selector",
                            "missing required key (e.g. selector = alertname=Watchdog)");
    } else {
        size_t col = 0;
        if (nd_selector_parse(kv->value, &out->sel, &col, err) != ND_OK)
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key, "column %zu: %s",
                                col, err);
    }

    kv = nd_receiver_config_get(rc, "starts_at");
    if (kv) {
        struct nd_time t;
        if (nd_time_parse_rfc3339(kv->value, strlen(kv->value), &t) != ND_OK) {
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "invalid time \"%s\": want RFC 3339, e.g. 2026-01-02T03:04:05Z",
                                kv->value);
        } else {
            /* A fraction of a second starts at the next whole second:
             * never earlier than written. */
            out->when.has_starts = true;
            out->when.starts_s = t.sec + (t.nsec > 0 ? 1 : 0);
        }
    }
    kv = nd_receiver_config_get(rc, "duration");
    if (kv && nd_receiver_config_duration(rc, "duration", &out->when.duration_ns, errs) == ND_OK)
        out->when.has_duration = true;

    kv = nd_receiver_config_get(rc, "schedule");
    if (kv && nd_cron_parse(kv->value, &out->when.schedule, err) != ND_OK)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key, "%s", err);

    kv = nd_receiver_config_get(rc, "tenant");
    if (kv) {
        bool known = false;
        for (size_t i = 0; i < cfg->ntenants && !known; i++)
            known = strcmp(cfg->tenants[i].name, kv->value) == 0;
        if (!known)
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "unknown tenant \"%s\": add a [tenant.%s] section", kv->value,
                                kv->value);
        else
            out->tenant = nd_xstrdup(kv->value);
    }
    nd_receiver_config_check_unused(rc, errs);
    return errs->total == before ? ND_OK : ND_EINVAL;
}

int nd_silences_from_config(struct nd_config *cfg, struct nd_silences **out,
                            struct nd_config_errors *errs)
{
    struct nd_silences *s = nd_xcalloc(1, sizeof(*s));
    int rc = ND_OK;
    size_t i;

    *out = NULL;
    s->v = nd_xcalloc(cfg->nsilences ? cfg->nsilences : 1, sizeof(*s->v));
    for (i = 0; i < cfg->nsilences; i++) {
        if (configure_one(cfg, &cfg->silences[i], &s->v[s->n], errs) != ND_OK) {
            silence_deinit(&s->v[s->n]);
            rc = ND_EINVAL;
            continue;
        }
        s->n++;
    }
    if (rc != ND_OK) {
        nd_silences_free(s);
        return rc;
    }
    *out = s;
    return ND_OK;
}

size_t nd_silences_begin(struct nd_silences *s, int64_t now_ns)
{
    size_t i, n = 0;

    s->tenant_active = 0;
    for (i = 0; i < s->n; i++) {
        s->v[i].active = nd_silence_when_active(&s->v[i].when, now_ns);
        if (s->v[i].tenant)
            s->tenant_active += s->v[i].active;
        else
            n += s->v[i].active;
    }
    return n;
}

bool nd_silences_tenant_active(const struct nd_silences *s)
{
    return s->tenant_active > 0;
}

bool nd_silences_mute_tenant(struct nd_silences *s, const char *tenant, const struct nd_alert *a)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].active && s->v[i].tenant && strcmp(s->v[i].tenant, tenant) == 0 &&
            nd_selector_matches_alert(s->v[i].sel, a))
            return true;
    return false;
}

bool nd_silences_mute(struct nd_silences *s, const struct nd_alert *a)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (s->v[i].active && !s->v[i].tenant && nd_selector_matches_alert(s->v[i].sel, a))
            return true;
    return false;
}
