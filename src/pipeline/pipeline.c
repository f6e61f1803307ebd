/* pipeline.c - the stages over one batch (pipeline.h).
 *
 * Each stage is one function with one job, and they hand their results on
 * through the pipeline's scratch arrays (reused across batches, bounded by
 * the batch size times the number of receivers):
 *
 *   work[]        the batch's alerts still in play (borrowed pointers)
 *   routes[t]     the alerts receiver t gets
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
#include "notifyd/alert.h"
#include "notifyd/metrics.h"
#include "notifyd/notification.h"
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
    struct nd_aggregator *aggregator;
    nd_pipeline_notify_fn *notify;
    void *ud;
    struct nd_metrics *metrics;
    struct nd_silences *silences;
    struct nd_silstore *silstore;
    int running;
    int64_t created_ns; /* wall clock of the current run: the notifications' creation time */
    struct alert_list work;
    struct alert_list *routes; /* one per target */
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
    if (p->ntargets) {
        p->targets = nd_xmalloc(p->ntargets * sizeof *p->targets);
        memcpy(p->targets, cfg->targets, p->ntargets * sizeof *p->targets);
        p->routes = nd_xcalloc(p->ntargets, sizeof *p->routes);
    }
    p->aggregator = nd_aggregator_new(cfg->group_labels, cfg->ngroup_labels);
    p->notify = cfg->notify;
    p->ud = cfg->ud;
    p->metrics = cfg->metrics;
    p->silences = cfg->silences;
    p->silstore = cfg->silstore;
    return p;
}

void nd_pipeline_free(struct nd_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ntargets; i++)
        free(p->routes[i].v);
    free(p->routes);
    free(p->targets);
    free(p->work.v);
    free(p->outs);
    nd_aggregator_free(p->aggregator);
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

/* STAGE inhibit: not written yet (later issue; NM has none either). */
static void stage_inhibit(struct nd_pipeline *p)
{
    ND_UNUSED(p);
}

/* STAGE route: every alert goes to every receiver. A later issue replaces
 * this function only: its contract is to fill routes[t] from p->work, batch
 * order kept, each alert at most once per receiver. */
static void stage_route(struct nd_pipeline *p)
{
    for (size_t t = 0; t < p->ntargets; t++) {
        struct alert_list *r = &p->routes[t];
        list_reserve(r, p->work.n);
        memcpy(r->v, p->work.v, p->work.n * sizeof *r->v);
        r->n = p->work.n;
    }
}

/* STAGE filter: drops from routes[t] what receiver t's alert selector
 * excludes (NM's filter stage; tenant silences come with tenants). */
static void stage_filter(struct nd_pipeline *p)
{
    for (size_t t = 0; t < p->ntargets; t++) {
        struct nd_selector *sel = p->targets[t].alert_selector;
        struct alert_list *r = &p->routes[t];
        size_t k = 0;

        if (!sel)
            continue;
        for (size_t i = 0; i < r->n; i++)
            if (nd_selector_matches_alert(sel, r->v[i]))
                r->v[k++] = r->v[i];
        r->n = k;
    }
}

static void stage_aggregate(struct nd_pipeline *p)
{
    p->nouts = 0;
    for (size_t t = 0; t < p->ntargets; t++) {
        struct nd_notification **ns;
        size_t k = nd_aggregator_run(p->aggregator, p->targets[t].name, p->routes[t].v,
                                     p->routes[t].n, p->created_ns, &ns);
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

void nd_pipeline_run(struct nd_pipeline *p, struct nd_alert *const *alerts, size_t n)
{
    if (!n)
        return;
    if (p->running) {
        /* The scratch arrays are in use: a nested run is a wiring bug. */
        fputs("notifyd: nd_pipeline_run called from its own notify callback\n", stderr);
        abort();
    }
    p->running = 1;
    if (p->metrics)
        p->metrics->batches++;
    p->created_ns = nd_now_wall_ns();

    stage_input(p, alerts, n);
    stage_silence(p);
    stage_inhibit(p);
    stage_route(p);
    stage_filter(p);
    stage_aggregate(p);
    stage_notify(p);

    p->running = 0;
}

void nd_pipeline_batch_cb(struct nd_alert *const *alerts, size_t n, void *ud)
{
    nd_pipeline_run(ud, alerts, n);
}

/* ---- receiver routing keys --------------------------------------------- */

int nd_target_keys_parse(struct nd_receiver_config *rc, struct nd_target_keys *out,
                         struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct nd_config_kv *kv;

    out->enabled = true;
    out->alert_selector = NULL;
    nd_receiver_config_bool(rc, "enabled", &out->enabled, errs);
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
}
