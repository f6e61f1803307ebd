/* pipeline.c - the stages over one batch (pipeline.h).
 *
 * Each stage is one function with one job, and they hand their results on
 * through the pipeline's scratch arrays (reused across batches, bounded by
 * the batch size times the number of receivers):
 *
 *   work[]        the batch's alerts still in play (borrowed pointers)
 *   routes[t*G+g] the alerts receiver t gets grouped by grouping g (G =
 *                 the route's groupings, 1 without routers' group_labels)
 *   outs[]        the notifications built, with their receiver
 *
 * A stage that drops an alert only drops the pointer: the batch's reference
 * keeps the alert alive until the batcher releases it after the run.
 */
#include "notifyd/pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/aggregate.h"
#include "notifyd/config.h"
#include "notifyd/inhibit.h"
#include "notifyd/alert.h"
#include "notifyd/metrics.h"
#include "notifyd/notification.h"
#include "notifyd/route.h"
#include "notifyd/selector.h"
#include "notifyd/silence.h"
#include "notifyd/silstore.h"
#include "notifyd/util.h"

struct alert_list {
    struct nd_alert **v;
    size_t n;
    size_t cap;
};

struct out {
    size_t target;
    struct nd_notification *n;
};

struct nd_pipeline {
    struct nd_pipeline_target *targets;
    size_t ntargets;
    struct nd_aggregator **aggregators; /* one per grouping */
    size_t ngroupings;
    struct nd_route *route;
    nd_pipeline_notify_fn *notify;
    void *ud;
    struct nd_metrics *metrics;
    struct nd_silences *silences;
    struct nd_inhibit *inhibit;
    struct nd_silstore *silstore;
    int running;
    size_t pin;         /* a read-back run (nd_pipeline_run_for): its target + 1, else 0 */
    int64_t created_ns; /* wall clock of the current run: the notifications' creation time */
    struct alert_list work;
    struct alert_list *routes; /* one per target and grouping */
    struct out *outs;
    size_t nouts;
    size_t outs_cap;
};

static void list_reserve(struct alert_list *l, size_t n)
{
    if (n <= l->cap)
        return;
    l->v = nd_xrealloc(l->v, n * sizeof *l->v);
    l->cap = n;
}

struct nd_pipeline *nd_pipeline_new(const struct nd_pipeline_config *cfg)
{
    struct nd_pipeline *p = nd_xcalloc(1, sizeof *p);
    p->ntargets = cfg->ntargets;
    p->route = cfg->route;
    p->ngroupings = p->route ? nd_route_ngroupings(p->route) : 1;
    if (p->ntargets) {
        p->targets = nd_xmalloc(p->ntargets * sizeof *p->targets);
        memcpy(p->targets, cfg->targets, p->ntargets * sizeof *p->targets);
        p->routes = nd_xcalloc(p->ntargets * p->ngroupings, sizeof *p->routes);
    }
    p->aggregators = nd_xcalloc(p->ngroupings, sizeof *p->aggregators);
    p->aggregators[0] = nd_aggregator_new(cfg->group_labels, cfg->ngroup_labels);
    for (size_t g = 1; g < p->ngroupings; g++) {
        size_t n;
        const char *const *labels = nd_route_group_labels(p->route, g, &n);
        p->aggregators[g] = nd_aggregator_new(labels, n);
    }
    p->notify = cfg->notify;
    p->ud = cfg->ud;
    p->metrics = cfg->metrics;
    p->silences = cfg->silences;
    p->inhibit = cfg->inhibit;
    p->silstore = cfg->silstore;
    return p;
}

void nd_pipeline_free(struct nd_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ntargets * p->ngroupings; i++)
        free(p->routes[i].v);
    free(p->routes);
    free(p->targets);
    free(p->work.v);
    free(p->outs);
    for (size_t g = 0; g < p->ngroupings; g++)
        nd_aggregator_free(p->aggregators[g]);
    free(p->aggregators);
    free(p);
}

/* ---- stages ------------------------------------------------------------ */

static void stage_input(struct nd_pipeline *p, struct nd_alert *const *alerts, size_t n)
{
    list_reserve(&p->work, n);
    memcpy(p->work.v, alerts, n * sizeof *alerts);
    p->work.n = n;
}

/* STAGE silence: drops from p->work the alerts an active global silence
 * ([silence.NAME]) or an active API silence (silstore.h) matches. Which
 * silences are active is decided once per batch, at the batch's time. */
static void stage_silence(struct nd_pipeline *p)
{
    size_t i, k = 0;
    bool cfg = p->silences && nd_silences_begin(p->silences, p->created_ns) > 0;
    bool api = p->silstore && nd_silstore_begin(p->silstore, p->created_ns) > 0;

    if (!cfg && !api)
        return;
    for (i = 0; i < p->work.n; i++)
        if (!(cfg && nd_silences_mute(p->silences, p->work.v[i])) &&
            !(api && nd_silstore_mute(p->silstore, p->work.v[i])))
            p->work.v[k++] = p->work.v[i];
    if (p->metrics)
        p->metrics->alerts_silenced += p->work.n - k;
    p->work.n = k;
}

/* Inhibition learns its sources from every alert of the batch, silenced
 * or not (as Alertmanager's inhibitor sees every alert), before any stage
 * drops one. */
static void stage_learn(struct nd_pipeline *p)
{
    if (!p->inhibit || nd_inhibit_rules(p->inhibit) == 0)
        return;
    nd_inhibit_begin(p->inhibit, p->created_ns);
    for (size_t i = 0; i < p->work.n; i++)
        nd_inhibit_learn(p->inhibit, p->work.v[i], p->created_ns);
    if (p->metrics) {
        p->metrics->inhibit_sources = nd_inhibit_sources(p->inhibit);
        p->metrics->inhibit_sources_dropped = nd_inhibit_dropped(p->inhibit);
    }
}

/* STAGE inhibit: drops from p->work the alerts a remembered source mutes
 * (inhibit.h). Inhibition does not depend on the receiver, so deciding it
 * once per alert here is the same as deciding it on each receiver's routes
 * after routing and filtering. */
static void stage_inhibit(struct nd_pipeline *p)
{
    size_t i, k = 0;

    if (!p->inhibit || nd_inhibit_sources(p->inhibit) == 0)
        return;
    for (i = 0; i < p->work.n; i++)
        if (!nd_inhibit_muted(p->inhibit, p->work.v[i], p->created_ns))
            p->work.v[k++] = p->work.v[i];
    if (p->metrics)
        p->metrics->alerts_inhibited += p->work.n - k;
    p->work.n = k;
}

/* STAGE route: fills routes[t*G+g] from p->work, batch order kept, each
 * alert at most once per receiver (route.h decides; without a route every
 * receiver gets every alert). */
static void stage_route(struct nd_pipeline *p)
{
    size_t nl = p->ntargets * p->ngroupings;

    for (size_t i = 0; i < nl; i++)
        p->routes[i].n = 0;
    if (p->pin) {
        /* Read back for one target: it gets every alert, in the grouping
         * the route gives it now (0 when the route would not pick it). */
        size_t t = p->pin - 1;
        for (size_t i = 0; i < p->work.n; i++) {
            uint32_t g = 0;
            if (p->route) {
                const struct nd_route_hit *h;
                size_t k = nd_route_eval(p->route, p->work.v[i], &h);
                for (size_t j = 0; j < k; j++)
                    if (h[j].target == t)
                        g = h[j].grouping;
            }
            struct alert_list *r = &p->routes[t * p->ngroupings + g];
            list_reserve(r, p->work.n);
            r->v[r->n++] = p->work.v[i];
        }
        return;
    }
    if (!p->route) {
        for (size_t t = 0; t < p->ntargets; t++) {
            struct alert_list *r = &p->routes[t * p->ngroupings];
            list_reserve(r, p->work.n);
            memcpy(r->v, p->work.v, p->work.n * sizeof *r->v);
            r->n = p->work.n;
        }
        return;
    }
    /* A list grows only as alerts reach it (doubling, at most the batch
     * size): the groupings do not multiply the scratch memory. */
    for (size_t i = 0; i < p->work.n; i++) {
        const struct nd_route_hit *h;
        size_t k = nd_route_eval(p->route, p->work.v[i], &h);
        for (size_t j = 0; j < k; j++) {
            struct alert_list *r = &p->routes[h[j].target * p->ngroupings + h[j].grouping];
            if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 16;
                list_reserve(r, cap < p->work.n ? cap : p->work.n);
            }
            r->v[r->n++] = p->work.v[i];
        }
    }
}

/* STAGE filter: drops from each receiver's lists what the active silences
 * of its tenant match (NM's receiver-level silence) and what its alert
 * selector excludes (NM's filter stage). */
static void stage_filter(struct nd_pipeline *p)
{
    bool tenant_silences = p->silences && nd_silences_tenant_active(p->silences);

    for (size_t t = 0; t < p->ntargets; t++) {
        struct nd_selector *sel = p->targets[t].alert_selector;
        const char *tenant = tenant_silences ? p->targets[t].tenant : NULL;

        if (!sel && !tenant)
            continue;
        for (size_t g = 0; g < p->ngroupings; g++) {
            struct alert_list *r = &p->routes[t * p->ngroupings + g];
            size_t k = 0;

            for (size_t i = 0; i < r->n; i++) {
                if (tenant && nd_silences_mute_tenant(p->silences, tenant, r->v[i])) {
                    if (p->metrics)
                        p->metrics->alerts_silenced++;
                    continue;
                }
                if (sel && !nd_selector_matches_alert(sel, r->v[i]))
                    continue;
                r->v[k++] = r->v[i];
            }
            r->n = k;
        }
    }
}

static void stage_aggregate(struct nd_pipeline *p)
{
    p->nouts = 0;
    for (size_t l = 0; l < p->ntargets * p->ngroupings; l++) {
        size_t t = l / p->ngroupings, g = l % p->ngroupings;
        struct nd_notification **ns;
        if (!p->routes[l].n)
            continue;
        size_t k = nd_aggregator_run(p->aggregators[g], p->targets[t].name, p->routes[l].v,
                                     p->routes[l].n, p->created_ns, &ns);
        if (p->nouts + k > p->outs_cap) {
            size_t cap = p->outs_cap ? p->outs_cap * 2 : 16;
            while (cap < p->nouts + k)
                cap *= 2;
            p->outs = nd_xrealloc(p->outs, cap * sizeof *p->outs);
            p->outs_cap = cap;
        }
        for (size_t i = 0; i < k; i++) {
            p->outs[p->nouts].target = t;
            p->outs[p->nouts].n = ns[i];
            p->nouts++;
        }
        free(ns);
    }
}

static void stage_notify(struct nd_pipeline *p)
{
    for (size_t i = 0; i < p->nouts; i++) {
        if (p->metrics)
            p->metrics->notifications++;
        p->notify(p->targets[p->outs[i].target].ud, p->outs[i].n, p->ud);
        p->outs[i].n = NULL; /* taken */
    }
    p->nouts = 0;
}

/* ---- driver ------------------------------------------------------------ */

static void run(struct nd_pipeline *p, struct nd_alert *const *alerts, size_t n, size_t pin)
{
    if (!n)
        return;
    if (p->running) {
        /* The scratch arrays are in use: a nested run is a wiring bug. */
        fputs("notifyd: nd_pipeline_run called from its own notify callback\n", stderr);
        abort();
    }
    p->running = 1;
    p->pin = pin;
    if (p->metrics && !pin)
        p->metrics->batches++;
    p->created_ns = nd_now_wall_ns();

    stage_input(p, alerts, n);
    if (!pin) /* read-back alerts are old news: they must not move the sources */
        stage_learn(p);
    stage_silence(p);
    stage_inhibit(p);
    stage_route(p);
    stage_filter(p);
    stage_aggregate(p);
    stage_notify(p);

    p->pin = 0;
    p->running = 0;
}

void nd_pipeline_run(struct nd_pipeline *p, struct nd_alert *const *alerts, size_t n)
{
    run(p, alerts, n, 0);
}

/* The index of the target whose ud is target_ud, or p->ntargets. */
static size_t target_of(const struct nd_pipeline *p, const void *target_ud)
{
    size_t t = 0;
    while (t < p->ntargets && p->targets[t].ud != target_ud)
        t++;
    return t;
}

bool nd_pipeline_has_target(const struct nd_pipeline *p, const void *target_ud)
{
    return target_of(p, target_ud) < p->ntargets;
}

int nd_pipeline_run_for(struct nd_pipeline *p, struct nd_alert *const *alerts, size_t n,
                        const void *target_ud)
{
    size_t t = target_of(p, target_ud);
    if (t == p->ntargets)
        return ND_EINVAL;
    run(p, alerts, n, t + 1);
    return ND_OK;
}

void nd_pipeline_batch_cb(struct nd_alert *const *alerts, size_t n, void *ud)
{
    nd_pipeline_run(ud, alerts, n);
}

/* ---- receiver routing keys --------------------------------------------- */

static bool label_name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-' || c == '/'))
            return false;
    }
    return true;
}

/* labels = k=v, ...: the receiver's own labels, for receiver_selector. */
static void parse_labels(struct nd_receiver_config *rc, struct nd_config_kv *kv,
                         struct nd_target_keys *out, struct nd_config_errors *errs)
{
    struct nd_strlist l = {0};

    nd_strlist_split(&l, kv->value);
    for (size_t i = 0; i < l.n; i++) {
        const char *item = l.v[i], *eq = strchr(item, '=');
        size_t nlen;

        if (!eq) {
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "\"%s\": want name=value", item);
            continue;
        }
        nlen = (size_t)(eq - item);
        while (nlen && (item[nlen - 1] == ' ' || item[nlen - 1] == '\t'))
            nlen--;
        const char *val = eq + 1;
        while (*val == ' ' || *val == '\t')
            val++;
        if (!label_name_ok(item, nlen)) {
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "invalid label name \"%.*s\": use letters, digits, _ . - /",
                                (int)nlen, item);
            continue;
        }
        bool dup = false;
        for (size_t j = 0; j < out->nlabels; j++)
            if (strlen(out->label_names[j]) == nlen && memcmp(out->label_names[j], item, nlen) == 0)
                dup = true;
        if (dup) {
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "label \"%.*s\" given twice", (int)nlen, item);
            continue;
        }
        if (out->nlabels >= ND_TARGET_LABELS_MAX) {
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "too many labels (at most %u)", ND_TARGET_LABELS_MAX);
            break;
        }
        out->label_names =
            nd_xrealloc(out->label_names, (out->nlabels + 1) * sizeof *out->label_names);
        out->label_values =
            nd_xrealloc(out->label_values, (out->nlabels + 1) * sizeof *out->label_values);
        out->label_names[out->nlabels] = nd_xstrndup(item, nlen);
        out->label_values[out->nlabels] = nd_xstrdup(val);
        out->nlabels++;
    }
    nd_strlist_deinit(&l);
}

int nd_target_keys_parse(struct nd_receiver_config *rc, struct nd_target_keys *out,
                         struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct nd_config_kv *kv;

    out->enabled = true;
    out->alert_selector = NULL;
    out->tenant = NULL;
    out->tenant_line = 0;
    out->nlabels = 0;
    out->label_names = out->label_values = NULL;
    nd_receiver_config_bool(rc, "enabled", &out->enabled, errs);
    kv = nd_receiver_config_get(rc, "tenant");
    if (kv) {
        if (kv->value[0] == '\0')
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "empty value: name a [tenant.NAME] section, or leave the key out "
                                "for a global receiver");
        else
            out->tenant = nd_xstrdup(kv->value);
        out->tenant_line = kv->line;
    }
    kv = nd_receiver_config_get(rc, "labels");
    if (kv)
        parse_labels(rc, kv, out, errs);
    kv = nd_receiver_config_get(rc, "alert_selector");
    if (kv) {
        char err[ND_ERRLEN];
        size_t col = 0;

        if (nd_selector_parse(kv->value, &out->alert_selector, &col, err) != ND_OK)
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key, "column %zu: %s",
                                col, err);
    }
    return errs->total == before ? ND_OK : ND_EINVAL;
}

void nd_target_keys_deinit(struct nd_target_keys *k)
{
    nd_selector_free(k->alert_selector);
    k->alert_selector = NULL;
    free(k->tenant);
    k->tenant = NULL;
    for (size_t i = 0; i < k->nlabels; i++) {
        free(k->label_names[i]);
        free(k->label_values[i]);
    }
    free(k->label_names);
    free(k->label_values);
    k->label_names = k->label_values = NULL;
    k->nlabels = 0;
}
