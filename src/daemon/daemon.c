/* daemon.c - one event loop, the layers wired in order, a graceful stop,
 * and reloads.
 *
 * Lifecycle:
 *   start    config -> validated as --check-config does -> the engine and
 *            the queue and the API silence store (they live as long as the
 *            process) -> the first generation (gen_build: templates,
 *            silences, inhibition rules, receivers, routing, pipeline,
 *            batcher) -> the history module, the write-ahead log (whose
 *            replay runs through that pipeline), the notifications API ->
 *            HTTP server; "ready" once the listener is up.
 *   running  POST /api/v2/alerts -> submit(): admit the whole request or
 *            answer 503 -> hold each alert in the queue -> the current
 *            generation's batcher -> pipeline -> one notification per
 *            receiver and group -> engine.
 *   reload   SIGHUP or POST /-/reload: the file is read and validated; a
 *            bad one changes nothing. A good one becomes a new generation
 *            (gen_build), then gen_swap: the old batcher is flushed through
 *            the old pipeline, the new generation is current, receivers
 *            the new one no longer uses are retired (they finish what they
 *            hold within shutdown_timeout) and reaped by a timer once idle.
 *            See docs/reload.md.
 *   stopping SIGTERM/SIGINT: stop accepting, close the open batch, let the
 *            engine deliver what is queued or in flight for at most
 *            shutdown_timeout, then leave the loop and free everything.
 */
#include "notifyd/daemon.h"

#include <event2/event.h>
#include <event2/buffer.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>

#include "notifyd/alert.h"
#include "notifyd/batch.h"
#include "notifyd/buf.h"
#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/history.h"
#include "notifyd/inhibit.h"
#include "notifyd/log.h"
#include "notifyd/metrics.h"
#include "notifyd/notification.h"
#include "notifyd/notifyapi.h"
#include "notifyd/parse.h"
#include "notifyd/pipeline.h"
#include "notifyd/queue.h"
#include "notifyd/reload.h"
#include "notifyd/route.h"
#include "notifyd/sidecar.h"
#include "notifyd/server.h"
#include "notifyd/silapi.h"
#include "notifyd/silence.h"
#include "notifyd/silstore.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "notifyd/wal.h"

/* How often retired receivers are checked for being idle. */
#define REAP_INTERVAL_NS (100 * ND_NS_PER_MS)

/* A compiled template set, shared by the generation that compiled it and
 * by every receiver built against it (their states borrow it), so it lives
 * until the last of them is gone. */
struct tset {
    struct nd_template_set *set;
    char *fp; /* nd_reload_template_fp of the inputs */
    unsigned refs;
};

/* One receiver object, tracked across generations. */
struct rslot {
    TAILQ_ENTRY(rslot) link; /* d->retiring, once retired */
    struct nd_receiver *r;   /* owned by the engine */
    char *fp;                /* nd_reload_receiver_fp of its settings */
    struct tset *ts;         /* the templates it renders with */
    uint64_t gen_id;         /* the newest generation using it */
    bool fresh;              /* built by a generation not yet current */
    /* What earlier objects of this receiver name counted before they were
     * freed (replaced by this one, then reaped): /metrics adds it, so the
     * name's counters do not fall back when a replaced object goes. */
    struct nd_receiver_stats carried;
};
TAILQ_HEAD(rslot_list, rslot);

/* Everything built from one config file: what a reload replaces whole. */
struct gen {
    uint64_t id;
    struct nd_config *cfg;
    struct tset *ts;
    struct nd_silences *silences; /* [silence.*]; outlives the pipeline */
    struct nd_inhibit *inhibit;   /* [inhibit.*]; outlives the pipeline */
    struct nd_route *route;       /* [routing], [tenant.*], [router.*]; outlives the pipeline */
    size_t nrcv;
    struct rslot **rcv;             /* in config order */
    struct nd_receiver **receivers; /* parallel to rcv (for the notifications API) */
    struct nd_pipeline *pipeline;
    struct nd_sidecar *sidecar; /* NULL without [routing] tenant_sidecar_url */
    struct nd_batcher *batcher;
};

struct nd_daemon {
    struct nd_config *boot_cfg; /* what the server was started with: the keys that need a
                                   restart are compared with it */
    struct event_base *base;
    struct nd_metrics metrics;
    struct nd_queue *queue;
    struct nd_engine *engine;
    uint64_t sidecar_errors; /* tenant sidecar lookups that failed, all generations */
    struct gen *gen;         /* current */
    uint64_t next_gen_id;
    struct rslot_list retiring; /* removed or replaced receivers finishing their work */
    struct event *reap_ev;
    struct nd_server *server;
    /* Process-lifetime modules, built from the startup config ([history]
     * and [routing] silence_file need a restart, docs/reload.md). */
    struct nd_silstore *silstore; /* API silences; outlives pipelines and server */
    struct nd_napi *api;          /* /api/v2/notifications, /api/v2/verify, /receivers */
    struct nd_history *history;   /* [history] receiver; NULL when unset */
    struct tset *history_ts;      /* the templates the history receiver renders with */
    /* Template sets replaced by a reload while notifications API requests
     * were waiting: their receivers borrow them (they are not slots), so
     * they are kept until exit. One per such reload. */
    struct tset **api_ts;
    size_t napi_ts;
    struct nd_wal *wal; /* NULL without wal_dir */
    int replaying;      /* the pipeline runs the alerts read back from the log */
    /* overflow = spill: the pipeline runs alerts read back for the receiver
     * that spilled them (nd_pipeline_run_for), and the timer that reads
     * them back (docs/delivery.md). */
    bool reading_back;
    struct event *spill_ev;
    struct event *sig_term, *sig_int, *sig_hup;
    struct event *stop_guard; /* leaves the loop if the drain overruns */
    int stopping;
    int reload_ok;       /* notifyd_config_last_reload_successful */
    double reload_ok_ts; /* ..._success_timestamp_seconds */
};

/* Ingest hands over a parsed request. All or nothing: either every alert
 * is held and batched, or none is and the client gets 503. Never called
 * once stopping: begin_stop stops the server first, which then answers
 * 503 "shutting down" itself (server.h). */
static void on_durable(void *ud, int rc)
{
    struct nd_server_req *req = ud;
    if (rc == ND_OK)
        nd_server_req_reply_msg(req, 200, "Notification request accepted");
    else
        nd_server_req_reply_msg(req, 503, "write-ahead log: the alerts may not be on disk");
}

static int on_submit(void *ud, struct nd_alert **alerts, size_t n, char *err)
{
    struct nd_daemon *d = ud;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += alerts[i]->size;
    /* The server logs refusals as a count per second, not one line each.
     * A receiver with overflow = backpressure and a full backlog refuses
     * for everybody, as the global queue does (docs/delivery.md). */
    if (nd_engine_admit(d->engine, err) != ND_OK)
        return ND_EFULL;
    if (nd_queue_admit(d->queue, n, bytes) != ND_OK) {
        return nd_seterr(err, ND_EFULL,
                         "queue full: %llu alerts / %llu bytes held (max %llu / %llu)",
                         (unsigned long long)nd_queue_count(d->queue),
                         (unsigned long long)nd_queue_bytes(d->queue),
                         (unsigned long long)nd_queue_max_alerts(d->queue),
                         (unsigned long long)nd_queue_max_bytes(d->queue));
    }
    for (size_t i = 0; i < n; i++)
        nd_queue_hold(d->queue, alerts[i]);
    uint64_t lsn = 0;
    if (d->wal && nd_wal_append_alerts(d->wal, alerts, n, &lsn, err) != ND_OK) {
        /* Not logged, so not accepted: the server unrefs them (503). */
        return ND_EFULL;
    }
    for (size_t i = 0; i < n; i++)
        nd_batcher_push_take(d->gen->batcher, alerts[i]);
    /* fsync = always: the 200 waits for the helper's fdatasync. */
    if (d->wal && d->boot_cfg->wal_fsync == ND_FSYNC_ALWAYS)
        nd_wal_wait(d->wal, lsn, on_durable, nd_server_defer(d->server));
    return ND_OK;
}

/* One series per receiver name: the current generation's receivers, then
 * the retiring ones not among them (removed), each name's count being the
 * sum of its current object, its retiring objects (replaced, still
 * finishing) and what freed ones left (rslot.carried); then the history
 * receiver. Two series with the same labels would be invalid. */
static void on_render(void *ud, struct evbuffer *out)
{
    struct nd_daemon *d = ud;
    struct gen *g = d->gen;
    struct rslot *s;
    size_t cap = g->nrcv + 1, n = 0;

    for (s = TAILQ_FIRST(&d->retiring); s; s = TAILQ_NEXT(s, link))
        cap++;
    struct nd_metrics_receiver *mr = nd_xcalloc(cap, sizeof *mr);
    struct nd_receiver_stats *st = nd_xcalloc(cap, sizeof *st);
    for (size_t i = 0; i < g->nrcv; i++, n++) {
        s = g->rcv[i];
        st[n] = *nd_receiver_stats(s->r);
        nd_receiver_stats_add(&st[n], &s->carried);
        mr[n] =
            (struct nd_metrics_receiver){nd_receiver_name(s->r), nd_receiver_type(s->r), &st[n]};
    }
    for (s = TAILQ_FIRST(&d->retiring); s; s = TAILQ_NEXT(s, link)) {
        const char *name = nd_receiver_name(s->r);
        size_t j = 0;
        while (j < n && strcmp(mr[j].name, name) != 0)
            j++;
        if (j == n) {
            st[n] = *nd_receiver_stats(s->r);
            mr[n] = (struct nd_metrics_receiver){name, nd_receiver_type(s->r), &st[n]};
            n++;
        } else {
            nd_receiver_stats_add(&st[j], nd_receiver_stats(s->r));
        }
        nd_receiver_stats_add(&st[j], &s->carried);
    }
    if (d->history) {
        const struct nd_receiver *hr = nd_history_receiver(d->history);
        mr[n++] = (struct nd_metrics_receiver){nd_receiver_name(hr), nd_receiver_type(hr),
                                               nd_receiver_stats(hr)};
    }
    nd_metrics_render(&d->metrics, d->queue, mr, n, out);
    free(mr);
    free(st);
    nd_silapi_render_metrics(d->silstore, out);
    evbuffer_add_printf(out,
                        "# HELP notifyd_tenant_sidecar_errors_total Tenant sidecar lookups that "
                        "failed (their namespaces got the global receivers only).\n"
                        "# TYPE notifyd_tenant_sidecar_errors_total counter\n"
                        "notifyd_tenant_sidecar_errors_total %llu\n",
                        (unsigned long long)d->sidecar_errors);
    if (d->wal)
        nd_wal_render(d->wal, out);
    evbuffer_add_printf(out,
                        "# HELP notifyd_config_last_reload_successful Whether the last "
                        "configuration reload attempt was successful.\n"
                        "# TYPE notifyd_config_last_reload_successful gauge\n"
                        "notifyd_config_last_reload_successful %d\n"
                        "# HELP notifyd_config_last_reload_success_timestamp_seconds Timestamp "
                        "of the last successful configuration reload (or of the start).\n"
                        "# TYPE notifyd_config_last_reload_success_timestamp_seconds gauge\n"
                        "notifyd_config_last_reload_success_timestamp_seconds %.3f\n",
                        d->reload_ok, d->reload_ok_ts);
}

/* GET /routers: the routing as configured (route.h), read-only. */
static void on_routers(void *ud, struct nd_server_req *req)
{
    struct nd_daemon *d = ud;
    struct nd_buf b;
    char err[ND_ERRLEN];

    nd_buf_init(&b, 64u << 20);
    if (nd_route_render(d->gen->route, &b, err) != ND_OK)
        nd_server_req_reply_msg(req, 500, err);
    else
        nd_server_req_reply(req, 200, NULL, b.data, b.len);
    nd_buf_deinit(&b);
}

/* GET /silences[?active=true]: the API silences (Alertmanager's shape,
 * silstore.h), then the configured [silence.NAME] ones of the running
 * generation ({"source":"config",...}, silence.h), in one array. */
static void on_silences(void *ud, struct nd_server_req *req)
{
    struct nd_daemon *d = ud;
    char v[8];
    bool active = false;
    int rc = nd_server_req_param(req, "active", v, sizeof v);
    if (rc == ND_OK && strcmp(v, "true") == 0) {
        active = true;
    } else if (rc != ND_EINVAL && !(rc == ND_OK && strcmp(v, "false") == 0)) {
        nd_server_req_reply_msg(req, 400, "active: want true or false");
        return;
    }
    int64_t now = nd_now_wall_ns();
    struct nd_buf b;
    nd_buf_init(&b, 256u << 20);
    nd_silstore_gc(d->silstore, now);
    rc = nd_silstore_list_json(d->silstore, NULL, active, now, &b);
    if (rc == ND_OK && b.len && b.data[b.len - 1] == ']') {
        bool first = b.len == 2; /* "[]" */
        b.data[--b.len] = '\0';
        rc = nd_silences_view_json(d->gen->silences, active, now, &b, &first);
        if (rc == ND_OK)
            rc = nd_buf_addc(&b, ']');
    }
    if (rc != ND_OK)
        nd_server_req_reply_msg(req, 500, "the list of silences is too large");
    else
        nd_server_req_reply(req, 200, NULL, b.data, b.len);
    nd_buf_deinit(&b);
}

/* ---- overflow = spill ---------------------------------------------------
 *
 * A receiver with overflow = spill whose backlog would go past max_backlog,
 * or that still owes spilled alerts (so that they keep their order), does
 * not get the notification: the log records the alerts as owed by it and
 * the notification is dropped without a DONE record. The spill timer reads
 * the oldest back once its backlog is at half its limit or less, and runs
 * them through the pipeline for that receiver only. */

#define SPILL_POLL_NS (20 * ND_NS_PER_MS)

static void spill_arm(struct nd_daemon *d, int64_t ns)
{
    if (!d->spill_ev || evtimer_pending(d->spill_ev, NULL))
        return;
    struct timeval tv = nd_ns_to_timeval(ns);
    evtimer_add(d->spill_ev, &tv);
}

static bool spill_now(struct nd_daemon *d, struct nd_receiver *r, struct nd_notification *n)
{
    const struct nd_delivery_config *c = nd_receiver_delivery(r);
    if (c->overflow != ND_OVERFLOW_SPILL || !c->max_backlog || !n->receiver)
        return false;
    uint64_t held = nd_receiver_stats(r)->backlog_alerts;
    if (!nd_wal_spilled(d->wal, n->receiver) && held + n->nalerts <= c->max_backlog)
        return false;
    if (nd_wal_spill(d->wal, n->receiver, c->spill_max_alerts, n) != ND_OK)
        return false;
    nd_notification_unref(n);
    spill_arm(d, SPILL_POLL_NS);
    return true;
}

static struct nd_receiver *find_receiver(struct nd_daemon *d, const char *name)
{
    struct gen *g = d->gen;
    for (size_t i = 0; i < g->nrcv; i++)
        if (!strcmp(nd_receiver_name(g->rcv[i]->r), name))
            return g->rcv[i]->r;
    if (d->history && !strcmp(nd_receiver_name(nd_history_receiver(d->history)), name))
        return (struct nd_receiver *)nd_history_receiver(d->history);
    return NULL;
}

static void on_spill(evutil_socket_t fd, short what, void *ud)
{
    struct nd_daemon *d = ud;
    struct gen *g = d->gen;
    bool owed = false;
    ND_UNUSED(fd);
    ND_UNUSED(what);
    if (d->stopping || !g->pipeline)
        return; /* what is owed stays on disk for the next start */
    for (size_t i = 0; i < nd_wal_spill_count(d->wal); i++) {
        uint64_t n;
        const char *name = nd_wal_spill_at(d->wal, i, &n);
        if (!n)
            continue;
        struct nd_receiver *r = find_receiver(d, name);
        if (!r || !nd_pipeline_has_target(g->pipeline, r)) {
            /* A reload removed it (or disabled it): nothing will read its
             * alerts back. */
            nd_wal_spill_give_up(d->wal, name);
            continue;
        }
        owed = true;
        const struct nd_delivery_config *c = nd_receiver_delivery(r);
        /* A reload may have taken the limit away: read back a batch at a
         * time then. */
        uint64_t limit = c->max_backlog ? c->max_backlog : g->cfg->batch_max_size;
        uint64_t held = nd_receiver_stats(r)->backlog_alerts;
        if (held > limit / 2)
            continue;
        uint64_t room = limit - held;
        if (g->cfg->batch_max_size && room > g->cfg->batch_max_size)
            room = g->cfg->batch_max_size;
        struct nd_alert **alerts;
        size_t k;
        nd_wal_readback(d->wal, name, (size_t)room, &alerts, &k);
        if (!k)
            continue;
        for (size_t j = 0; j < k; j++)
            nd_queue_hold(d->queue, alerts[j]);
        d->reading_back = true;
        nd_pipeline_run_for(g->pipeline, alerts, k, r);
        d->reading_back = false;
        for (size_t j = 0; j < k; j++)
            nd_alert_unref(alerts[j]);
        free(alerts);
    }
    if (owed)
        spill_arm(d, SPILL_POLL_NS);
}

/* A receiver finished a notification: its backlog may have room for what
 * it spilled. Runs inside engine callbacks: it only arms a timer, or marks
 * the notification. While stopping, what any receiver gives up because the
 * shutdown deadline came (ND_ENGINE_SHUTDOWN_REASON) stays
 * owed: no DONE and no FREED, so the next start delivers it, as after a
 * crash. What it gives up for its own reasons (a 4xx, retries exhausted)
 * gets its DONE as at any other time. */
static void on_outcome(void *ud, const struct nd_receiver *r, const struct nd_notification *n,
                       const char *failure)
{
    struct nd_daemon *d = ud;
    if (!d->wal)
        return;
    /* The history receiver's payloads are a record of other deliveries:
     * not worth replaying (and keeping them would keep alerts every other
     * receiver is done with). */
    bool history = d->history && r == nd_history_receiver(d->history);
    if (d->stopping && failure && !history &&
        !strncmp(failure, ND_ENGINE_SHUTDOWN_REASON, strlen(ND_ENGINE_SHUTDOWN_REASON)))
        nd_wal_keep(d->wal, n);
    if (nd_wal_spill_count(d->wal) && nd_wal_spilled(d->wal, nd_receiver_name(r)))
        spill_arm(d, 0);
}

static void on_notify(void *target_ud, struct nd_notification *n, void *ud)
{
    struct nd_daemon *d = ud;
    if (d->reading_back) {
        /* nd_pipeline_run_for made it for the receiver that spilled these
         * alerts: it goes to its backlog, not back to the log. */
        nd_receiver_submit_take(target_ud, n);
        return;
    }
    if (d->replaying) {
        /* A receiver done with every alert of this notification before the
         * restart does not get it again; one with any left gets it whole
         * (at least once). */
        size_t i = 0;
        while (i < n->nalerts && nd_wal_replay_done(d->wal, n->alerts[i], n->receiver))
            i++;
        if (i == n->nalerts) {
            nd_notification_unref(n);
            return;
        }
    }
    if (d->wal && spill_now(d, target_ud, n))
        return;
    nd_receiver_submit_take(target_ud, n);
}

/* ---- generations ------------------------------------------------------- */

static void tset_unref(struct tset *ts)
{
    if (!ts || --ts->refs > 0)
        return;
    nd_template_set_free(ts->set);
    free(ts->fp);
    free(ts);
}

/* A slot whose receiver is gone (freed by the engine or by the reaper). */
static void rslot_free(struct rslot *s)
{
    tset_unref(s->ts);
    free(s->fp);
    free(s);
}

/* The old generation's slot that can serve `rc` unchanged, if any. */
static struct rslot *find_kept(const struct gen *old, const struct nd_receiver_config *rc,
                               const char *fp, const struct tset *ts, uint64_t id)
{
    for (size_t i = 0; old && i < old->nrcv; i++) {
        struct rslot *s = old->rcv[i];
        if (s->gen_id != id && s->ts == ts && strcmp(nd_receiver_name(s->r), rc->name) == 0 &&
            strcmp(s->fp, fp) == 0)
            return s;
    }
    return NULL;
}

/* Frees what a generation owns itself: not its receivers (a kept slot
 * lives on in the next generation, a dropped one is retired by gen_swap,
 * a fresh one of a generation that failed is freed by gen_build). */
static void gen_free(struct nd_daemon *d, struct gen *g)
{
    if (!g)
        return;
    if (g->batcher)
        nd_batcher_free(g->batcher);
    nd_sidecar_free(g->sidecar);
    nd_pipeline_free(g->pipeline);
    nd_route_free(g->route);
    nd_silences_free(g->silences);
    nd_inhibit_free(g->inhibit);
    tset_unref(g->ts);
    free(g->rcv);
    free(g->receivers);
    if (g->cfg != d->boot_cfg)
        nd_config_free(g->cfg);
    free(g);
}

/* The templates of cfg: the old generation's set when its inputs (keys and
 * file contents) are unchanged, else a newly compiled one. */
static struct tset *gen_templates(const struct nd_config *cfg, const struct gen *old,
                                  struct nd_config_errors *errs)
{
    char *fp = nd_reload_template_fp(&cfg->tmpl);
    if (old && strcmp(old->ts->fp, fp) == 0) {
        free(fp);
        old->ts->refs++;
        return old->ts;
    }
    struct nd_template_set *set = nd_template_set_from_config(cfg, errs);
    if (!set) {
        free(fp);
        return NULL;
    }
    struct tset *ts = nd_xcalloc(1, sizeof *ts);
    ts->set = set;
    ts->fp = fp;
    ts->refs = 1;
    return ts;
}

/* Receivers of cfg: the old generation's object when the settings and the
 * templates are unchanged (it keeps its queue, tokens, retries, transfers),
 * else a new one. Every error is collected. */
static int gen_receivers(struct nd_daemon *d, struct gen *g, const struct gen *old,
                         struct nd_config_errors *errs)
{
    struct nd_config *cfg = g->cfg;
    size_t before = errs->total;

    g->rcv = nd_xcalloc(cfg->nreceivers ? cfg->nreceivers : 1, sizeof *g->rcv);
    nd_engine_set_templates(d->engine, g->ts->set);
    const char *hname = d->boot_cfg->history_receiver;
    for (size_t i = 0; i < cfg->nreceivers; i++) {
        struct nd_receiver_config *rc = &cfg->receivers[i];
        /* The history receiver is the history module's, not routed to. */
        if (hname && strcmp(rc->name, hname) == 0)
            continue;
        char *fp = nd_reload_receiver_fp(rc, &cfg->delivery);
        struct rslot *s = find_kept(old, rc, fp, g->ts, g->id);
        if (s) {
            free(fp);
            s->gen_id = g->id;
            g->rcv[g->nrcv++] = s;
            continue;
        }
        struct nd_receiver *r = nd_receiver_new(d->engine, rc, &cfg->delivery, errs);
        if (!r) {
            free(fp);
            continue;
        }
        s = nd_xcalloc(1, sizeof *s);
        s->r = r;
        s->fp = fp;
        s->ts = g->ts;
        s->ts->refs++;
        s->gen_id = g->id;
        s->fresh = true;
        g->rcv[g->nrcv++] = s;
    }
    return errs->total == before ? ND_OK : ND_ERR;
}

/* The routing over the enabled receivers, then the pipeline. ND_ERR with
 * errors appended when the routing refers to what does not exist. */
static int gen_pipeline(struct nd_daemon *d, struct gen *g, struct nd_config_errors *errs)
{
    struct nd_config *cfg = g->cfg;
    size_t n = g->nrcv ? g->nrcv : 1;
    struct nd_pipeline_target *targets = nd_xcalloc(n, sizeof *targets);
    struct nd_route_receiver *rr = nd_xcalloc(n, sizeof *rr);
    size_t ntargets = 0;

    g->receivers = nd_xcalloc(n, sizeof *g->receivers);
    for (size_t i = 0; i < g->nrcv; i++) {
        struct nd_receiver *r = g->rcv[i]->r;
        g->receivers[i] = r;
        const struct nd_target_keys *k = nd_receiver_target_keys(r);
        rr[i] = (struct nd_route_receiver){nd_receiver_name(r), nd_receiver_type(r), k,
                                           ND_ROUTE_NO_TARGET};
        if (!k->enabled) {
            nd_log(ND_LOG_INFO, "receiver disabled (enabled = false)", "receiver",
                   nd_receiver_name(r), NULL);
            continue;
        }
        rr[i].target = ntargets;
        targets[ntargets].name = nd_receiver_name(r);
        targets[ntargets].ud = r;
        targets[ntargets].alert_selector = k->alert_selector;
        targets[ntargets].tenant = k->tenant;
        ntargets++;
    }
    nd_route_new(cfg, rr, g->nrcv, ntargets, &g->route, errs);
    free(rr);
    if (!g->route) {
        free(targets);
        return ND_ERR;
    }
    struct nd_pipeline_config pc = {
        .targets = targets,
        .ntargets = ntargets,
        .group_labels = (const char *const *)cfg->group_labels,
        .ngroup_labels = cfg->ngroup_labels,
        .notify = on_notify,
        .ud = d,
        .metrics = &d->metrics,
        .silences = g->silences,
        .inhibit = g->inhibit,
        .route = g->route,
        .silstore = d->silstore,
    };
    g->pipeline = nd_pipeline_new(&pc);
    free(targets);
    return ND_OK;
}

/* [routing] tenant_sidecar_url: empty, or an http(s) URL. */
static void check_sidecar_url(const struct nd_config *cfg, struct nd_config_errors *errs)
{
    const char *u = cfg->routing.tenant_sidecar_url;
    if (!u || !*u)
        return;
    if ((strncmp(u, "http://", 7) != 0 || !u[7]) && (strncmp(u, "https://", 8) != 0 || !u[8]))
        nd_config_error_add(errs, cfg->path, cfg->routing.tenant_sidecar_url_line, "routing",
                            "tenant_sidecar_url", "\"%s\" is not an http:// or https:// URL", u);
}

/* The builder: everything made from one config file, in order. Takes cfg.
 * NULL with errors appended when a step fails; then nothing of the running
 * generation has changed. */
static struct gen *gen_build(struct nd_daemon *d, struct nd_config *cfg, const struct gen *old,
                             struct nd_config_errors *errs)
{
    struct gen *g = nd_xcalloc(1, sizeof *g);
    g->id = ++d->next_gen_id;
    g->cfg = cfg;

    /* 1. templates (compiled once per change; receivers borrow them) */
    g->ts = gen_templates(cfg, old, errs);
    if (!g->ts)
        goto fail;
    /* 2. configured silences (global and tenant) */
    if (nd_silences_from_config(cfg, &g->silences, errs) != ND_OK)
        goto fail;
    /* 3. inhibition rules (gen_swap hands them the remembered sources) */
    if (nd_inhibit_from_config(cfg, &g->inhibit, errs) != ND_OK)
        goto fail;
    /* 4. receivers: kept or new */
    if (gen_receivers(d, g, old, errs) != ND_OK)
        goto fail;
    /* 5. the routing and the pipeline over the enabled receivers */
    size_t before = errs->total;
    check_sidecar_url(cfg, errs);
    if (errs->total != before || gen_pipeline(d, g, errs) != ND_OK)
        goto fail;
    /* 6. the batcher feeding it */
    if (cfg->routing.tenant_sidecar_url && *cfg->routing.tenant_sidecar_url) {
        struct nd_sidecar_config sc = {
            .url = cfg->routing.tenant_sidecar_url,
            .ttl_ns = cfg->routing.tenant_cache_ttl_ns,
            .fail_ttl_ns = cfg->routing.tenant_sidecar_retry_ns,
            .timeout_ns = cfg->routing.tenant_sidecar_timeout_ns,
            .max_entries = cfg->routing.tenant_cache_max_entries,
            .route = g->route,
        };
        g->sidecar =
            nd_sidecar_new(d->engine, &sc, nd_pipeline_batch_cb, g->pipeline, &d->sidecar_errors);
        nd_route_set_tenants(g->route, nd_sidecar_tenants, g->sidecar);
        g->batcher = nd_batcher_new(d->base, cfg->batch_max_size, cfg->batch_max_wait_ns,
                                    nd_sidecar_batch_cb, g->sidecar);
    } else {
        g->batcher = nd_batcher_new(d->base, cfg->batch_max_size, cfg->batch_max_wait_ns,
                                    nd_pipeline_batch_cb, g->pipeline);
    }
    return g;

fail:
    /* The engine must not keep a pointer to a set freed below. */
    if (old)
        nd_engine_set_templates(d->engine, old->ts->set);
    for (size_t i = 0; i < g->nrcv; i++) {
        struct rslot *s = g->rcv[i];
        if (s->fresh) {
            /* never given a notification: nothing to finish */
            nd_receiver_free(s->r);
            rslot_free(s);
        } else {
            s->gen_id = old->id;
        }
    }
    g->nrcv = 0;
    gen_free(d, g);
    return NULL;
}

/* The object that carries on a name's counts once a retiring one of that
 * name is freed: the current one, else another retiring one, else none
 * (a removed receiver: its series goes). */
static struct rslot *same_name(struct nd_daemon *d, const char *name)
{
    struct rslot *s;
    for (size_t i = 0; i < d->gen->nrcv; i++)
        if (strcmp(nd_receiver_name(d->gen->rcv[i]->r), name) == 0)
            return d->gen->rcv[i];
    for (s = TAILQ_FIRST(&d->retiring); s; s = TAILQ_NEXT(s, link))
        if (strcmp(nd_receiver_name(s->r), name) == 0)
            return s;
    return NULL;
}

static void on_reap(evutil_socket_t fd, short what, void *ud)
{
    struct nd_daemon *d = ud;
    struct rslot *s, *next;
    (void)fd;
    (void)what;
    for (s = TAILQ_FIRST(&d->retiring); s; s = next) {
        next = TAILQ_NEXT(s, link);
        if (nd_receiver_busy(s->r))
            continue;
        nd_log(ND_LOG_INFO, "removed receiver finished, freed", "receiver", nd_receiver_name(s->r),
               "type", nd_receiver_type(s->r), NULL);
        TAILQ_REMOVE(&d->retiring, s, link);
        struct rslot *heir = same_name(d, nd_receiver_name(s->r));
        if (heir) {
            nd_receiver_stats_add(&heir->carried, nd_receiver_stats(s->r));
            nd_receiver_stats_add(&heir->carried, &s->carried);
        }
        nd_receiver_free(s->r);
        rslot_free(s);
    }
    if (!TAILQ_EMPTY(&d->retiring)) {
        struct timeval tv = nd_ns_to_timeval(REAP_INTERVAL_NS);
        evtimer_add(d->reap_ev, &tv);
    }
}

/* Makes g current. Alerts in the open batch were accepted under the old
 * config: they go through the old pipeline first, so nothing accepted is
 * lost or routed twice. */
static void gen_swap(struct nd_daemon *d, struct gen *g, size_t *kept, size_t *retired)
{
    struct gen *old = d->gen;
    struct nd_config *cfg = g->cfg;

    nd_batcher_flush(old->batcher);
    if (old->sidecar)
        nd_sidecar_flush(old->sidecar);
    if (old->sidecar && g->sidecar)
        nd_sidecar_take_cache(g->sidecar, old->sidecar);
    /* After the flush, so that the sources of the last old batch come too;
     * not in gen_build, which may still fail and keep the old generation. */
    nd_inhibit_take_sources(g->inhibit, old->inhibit);
    d->metrics.inhibit_sources = nd_inhibit_sources(g->inhibit);
    d->metrics.inhibit_sources_dropped = nd_inhibit_dropped(g->inhibit);
    d->gen = g;
    nd_queue_set_limits(d->queue, cfg->max_alerts, cfg->max_bytes);
    nd_log_set_level((enum nd_log_level)cfg->log_level);
    nd_log_set_format((enum nd_log_format)cfg->log_format);
    *kept = *retired = 0;
    for (size_t i = 0; i < old->nrcv; i++) {
        struct rslot *s = old->rcv[i];
        if (s->gen_id == g->id) {
            (*kept)++;
            continue;
        }
        nd_log(ND_LOG_INFO, "receiver removed or changed: finishing what it holds", "receiver",
               nd_receiver_name(s->r), "type", nd_receiver_type(s->r), NULL);
        nd_receiver_retire(s->r, cfg->shutdown_timeout_ns);
        TAILQ_INSERT_TAIL(&d->retiring, s, link);
        (*retired)++;
    }
    for (size_t i = 0; i < g->nrcv; i++) {
        if (g->rcv[i]->fresh && d->history)
            nd_history_watch(d->history, g->rcv[i]->r);
        g->rcv[i]->fresh = false;
    }
    if (d->api)
        nd_napi_set_config(d->api, cfg, g->receivers, g->nrcv);
    if (*retired) {
        struct timeval tv = nd_ns_to_timeval(REAP_INTERVAL_NS);
        evtimer_add(d->reap_ev, &tv);
    }
    if (d->api && nd_napi_pending(d->api) && old->ts != g->ts) {
        old->ts->refs++;
        d->api_ts = nd_xrealloc(d->api_ts, (d->napi_ts + 1) * sizeof *d->api_ts);
        d->api_ts[d->napi_ts++] = old->ts;
    }
    gen_free(d, old);
}

/* ---- validation and reload ----------------------------------------------- */

/* Every check --check-config makes. *out is the config when it is valid,
 * else NULL; every problem is in errs. */
static void validate_config(const char *path, struct nd_config **out, struct nd_config_errors *errs)
{
    struct nd_config *cfg = NULL;
    size_t before = errs->total;

    *out = NULL;
    if (strcmp(path, "<default>") == 0)
        nd_config_load_string(nd_config_default_text, "<default>", &cfg, errs);
    else
        /* Receiver sections are checked even when the fixed sections have
         * errors: one run shows every problem of the file. */
        nd_config_load_file_partial(path, &cfg, errs);
    /* Without a compiled set (template errors, already reported) the
     * receivers are checked against the defaults and the template files
     * that did compile, so that their other keys are still validated. */
    struct nd_template_set *tmpl = cfg ? nd_template_set_from_config(cfg, errs) : NULL;
    if (cfg && !tmpl) {
        char err[ND_ERRLEN];
        tmpl = nd_template_set_new();
        nd_template_set_add_defaults(tmpl, err);
        for (size_t i = 0; i < cfg->tmpl.nfiles; i++)
            nd_template_set_parse_file(tmpl, cfg->tmpl.files[i], err);
    }
    size_t ncfg = cfg ? cfg->nreceivers : 0, nr = 0, ntargets = 0;
    struct nd_target_keys *keys = nd_xcalloc(ncfg ? ncfg : 1, sizeof *keys);
    struct nd_route_receiver *rr = nd_xcalloc(ncfg ? ncfg : 1, sizeof *rr);
    for (size_t i = 0; i < ncfg; i++) {
        struct nd_receiver_config *rc = &cfg->receivers[i];
        struct nd_target_keys *k = &keys[nr];
        /* The history receiver is checked but, as when running, routed to
         * by nobody. A missing type is already reported. */
        bool history = cfg->history_receiver && strcmp(rc->name, cfg->history_receiver) == 0;
        if (!rc->type || nd_receiver_check_keys(rc, &cfg->delivery, tmpl, k, errs) != ND_OK) {
            nd_target_keys_deinit(k); /* whatever a failed check left (idempotent) */
            if (!history)
                rr[nr++] = (struct nd_route_receiver){rc->name, rc->type, NULL, ND_ROUTE_NO_TARGET};
            continue;
        }
        if (history) {
            nd_target_keys_deinit(k);
            continue;
        }
        rr[nr] = (struct nd_route_receiver){rc->name, rc->type, k, ND_ROUTE_NO_TARGET};
        if (k->enabled)
            rr[nr].target = ntargets++;
        nr++;
    }
    nd_template_set_free(tmpl);
    if (cfg) {
        nd_history_check(cfg, errs);
        struct nd_silences *sil = NULL;
        nd_silences_from_config(cfg, &sil, errs);
        nd_silences_free(sil);
        struct nd_inhibit *ih = NULL;
        nd_inhibit_from_config(cfg, &ih, errs);
        nd_inhibit_free(ih);
        struct nd_route *route = NULL;
        nd_route_new(cfg, rr, nr, ntargets, &route, errs);
        nd_route_free(route);
        check_sidecar_url(cfg, errs);
        /* The silence file must read back as the daemon would read it. */
        struct nd_silstore_opts so = {
            .path = cfg->routing.silence_file,
            .retention_ns = cfg->routing.silence_retention_ns,
            .max_silences = cfg->routing.max_silences,
            .max_matchers = cfg->routing.max_silence_matchers,
            .max_size = (size_t)cfg->routing.max_silence_size,
        };
        struct nd_silstore *ss = NULL;
        char serr[ND_ERRLEN];
        if (nd_silstore_new(&so, nd_now_wall_ns(), &ss, serr) != ND_OK)
            nd_config_error_add(errs, cfg->path, cfg->routing.silence_file_line, "routing",
                                "silence_file", "%s", serr);
        nd_silstore_free(ss);
    }
    for (size_t i = 0; i < nr; i++)
        nd_target_keys_deinit(&keys[i]);
    free(keys);
    free(rr);
    if (errs->total != before) {
        nd_config_free(cfg);
        return;
    }
    *out = cfg;
}

/* Reads, validates and swaps in the config file. On failure the running
 * generation is untouched and `msg` gets the errors, one a line. */
static int reload(struct nd_daemon *d, const char *via, struct nd_buf *msg)
{
    struct nd_config_errors errs;
    struct nd_config *cfg;
    struct gen *g = NULL;
    int rc = ND_ERR;

    nd_config_errors_init(&errs);
    nd_log(ND_LOG_INFO, "reloading configuration", "via", via, "config", d->boot_cfg->path, NULL);
    validate_config(d->boot_cfg->path, &cfg, &errs);
    if (cfg)
        g = gen_build(d, cfg, d->gen, &errs);
    if (!g) {
        for (size_t i = 0; i < errs.n; i++) {
            nd_log(ND_LOG_ERROR, "configuration reload failed", "error", errs.msgs[i], NULL);
            if (i)
                nd_buf_addc(msg, '\n');
            nd_buf_adds(msg, errs.msgs[i]);
        }
        if (errs.n == 0)
            nd_buf_adds(msg, "configuration reload failed");
        nd_log(ND_LOG_ERROR, "configuration reload failed: the running configuration is kept",
               NULL);
        d->reload_ok = 0;
        goto out;
    }
    const char *keys[32];
    size_t nk = nd_reload_restart_keys(d->boot_cfg, cfg, keys, 32);
    for (size_t i = 0; i < nk; i++)
        nd_log(ND_LOG_WARN,
               "configuration key changed but needs a restart: keeping the running value", "key",
               keys[i], NULL);
    size_t kept, retired, total = g->nrcv;
    gen_swap(d, g, &kept, &retired);
    char nt[24], nk_[24], nn[24], nr[24];
    snprintf(nt, sizeof nt, "%zu", total);
    snprintf(nk_, sizeof nk_, "%zu", kept);
    snprintf(nn, sizeof nn, "%zu", total - kept);
    snprintf(nr, sizeof nr, "%zu", retired);
    nd_log(ND_LOG_INFO, "configuration reloaded", "via", via, "receivers", nt, "kept", nk_, "new",
           nn, "retiring", nr, NULL);
    d->reload_ok = 1;
    d->reload_ok_ts = (double)nd_now_wall_ns() / 1e9;
    rc = ND_OK;
out:
    nd_config_errors_deinit(&errs);
    return rc;
}

static void on_reload_req(void *ud, struct nd_server_req *req)
{
    struct nd_daemon *d = ud;
    struct nd_buf msg;

    if (d->stopping) {
        nd_server_req_reply_msg(req, 503, "shutting down");
        return;
    }
    /* The config error list is capped (config.h), so is this. */
    nd_buf_init(&msg, 1 << 20);
    if (reload(d, "POST /-/reload", &msg) == ND_OK)
        nd_server_req_reply_msg(req, 200, "configuration reloaded");
    else
        nd_server_req_reply_msg(req, 500, nd_buf_cstr(&msg));
    nd_buf_deinit(&msg);
}

/* ---- start, stop ----------------------------------------------------------- */

static void on_drained(void *ud)
{
    struct nd_daemon *d = ud;
    nd_log(ND_LOG_INFO, "drained, exiting", NULL);
    event_base_loopbreak(d->base);
}

static void on_stop_guard(evutil_socket_t fd, short what, void *ud)
{
    struct nd_daemon *d = ud;
    (void)fd;
    (void)what;
    nd_log(ND_LOG_ERROR, "shutdown did not finish in time, exiting", NULL);
    event_base_loopbreak(d->base);
}

static void begin_stop(struct nd_daemon *d, const char *why)
{
    if (d->stopping) {
        nd_log(ND_LOG_WARN, "second signal: exiting without waiting for deliveries", "signal", why,
               NULL);
        event_base_loopbreak(d->base);
        return;
    }
    d->stopping = 1;
    int64_t timeout_ns = d->gen->cfg->shutdown_timeout_ns;
    char tmo[32];
    nd_format_duration(timeout_ns, tmo);
    nd_log(ND_LOG_INFO, "shutting down", "signal", why, "shutdown_timeout", tmo, NULL);
    nd_server_set_ready(d->server, false);
    nd_server_stop_accepting(d->server);
    /* Alerts still waiting in an open batch were accepted: send them now. */
    nd_batcher_flush(d->gen->batcher);
    if (d->gen->sidecar)
        nd_sidecar_flush(d->gen->sidecar); /* held for lookups: sent with what is known */
    /* The engine's own deadline decides what is given up; the guard only
     * protects against a drain that never reports back. */
    int64_t guard_ns = timeout_ns + 5 * ND_NS_PER_S;
    struct timeval tv = nd_ns_to_timeval(guard_ns);
    d->stop_guard = evtimer_new(d->base, on_stop_guard, d);
    evtimer_add(d->stop_guard, &tv);
    nd_engine_shutdown(d->engine, timeout_ns, on_drained, d);
}

static void on_signal(evutil_socket_t sig, short what, void *ud)
{
    struct nd_daemon *d = ud;
    (void)what;
    if (sig == SIGHUP) {
        if (d->stopping) {
            nd_log(ND_LOG_WARN, "SIGHUP ignored: shutting down", NULL);
            return;
        }
        struct nd_buf msg;
        nd_buf_init(&msg, 1 << 20);
        reload(d, "SIGHUP", &msg); /* the outcome is logged */
        nd_buf_deinit(&msg);
        return;
    }
    begin_stop(d, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* Each connection is one fd; a busy ingest endpoint needs more than the
 * usual soft limit of 1024. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static const char *const *replay_keys;

static int cmp_replay(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(replay_keys[x], replay_keys[y]);
    return c ? c : (x > y) - (x < y);
}

/* Runs the alerts read back from the log through the pipeline, taking
 * their references. Alerts that the same receivers are done with run
 * together (in chunks of batch max_size), so that on_notify can leave out
 * exactly those receivers. */
static void replay(struct nd_daemon *d, struct nd_alert **alerts, size_t n)
{
    struct gen *g = d->gen;
    char **keys = nd_xcalloc(n ? n : 1, sizeof *keys);
    size_t *order = nd_xcalloc(n ? n : 1, sizeof *order);
    for (size_t i = 0; i < n; i++) {
        keys[i] = nd_xmalloc(g->nrcv + 1);
        for (size_t r = 0; r < g->nrcv; r++)
            keys[i][r] =
                nd_wal_replay_done(d->wal, alerts[i], nd_receiver_name(g->rcv[r]->r)) ? '1' : '0';
        keys[i][g->nrcv] = '\0';
        order[i] = i;
        nd_queue_hold(d->queue, alerts[i]);
    }
    replay_keys = (const char *const *)keys;
    qsort(order, n, sizeof *order, cmp_replay);
    replay_keys = NULL;
    struct nd_alert **chunk = nd_xcalloc(n ? n : 1, sizeof *chunk);
    size_t max = g->cfg->batch_max_size ? g->cfg->batch_max_size : 1;
    d->replaying = 1;
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        const char *key = keys[order[i]];
        while (i < n && k < max && !strcmp(keys[order[i]], key))
            chunk[k++] = alerts[order[i++]];
        nd_pipeline_run(g->pipeline, chunk, k);
    }
    d->replaying = 0;
    for (size_t i = 0; i < n; i++) {
        nd_alert_unref(alerts[i]);
        free(keys[i]);
    }
    free(chunk);
    free(keys);
    free(order);
}

static void on_prefetch_deadline(evutil_socket_t fd, short what, void *ud)
{
    ND_UNUSED(fd);
    ND_UNUSED(what);
    *(bool *)ud = true;
}

/* Replayed alerts that a tenant sidecar routes meet their tenants: the
 * lookups they need run first, the loop turning until they have answered
 * or failed (each bounded by tenant_sidecar_timeout; the listener is not
 * open yet). Without this, an empty cache would send them to the global
 * receivers only. */
static void prefetch_tenants(struct nd_daemon *d, struct nd_alert **alerts, size_t n)
{
    struct nd_sidecar *s = d->gen->sidecar;
    if (!n || !s || !nd_sidecar_prefetch(s, alerts, n))
        return;
    bool late = false;
    struct event *t = evtimer_new(d->base, on_prefetch_deadline, &late);
    struct timeval tv =
        nd_ns_to_timeval(d->boot_cfg->routing.tenant_sidecar_timeout_ns + INT64_C(1000000000));
    evtimer_add(t, &tv);
    while (!late && nd_sidecar_lookups_out(s))
        event_base_loop(d->base, EVLOOP_ONCE);
    event_free(t);
}

/* Opens the log (forking its fsync helper before any socket exists) and
 * runs what it still owes through the pipeline, before the listener opens. */
static int open_wal(struct nd_daemon *d)
{
    struct nd_config *cfg = d->boot_cfg;
    char err[ND_ERRLEN];
    struct nd_wal_opts wo = {
        .dir = cfg->wal_dir,
        .fsync = cfg->wal_fsync,
        .fsync_interval_ns = cfg->wal_fsync_interval_ns,
        .segment_size = cfg->wal_segment_size,
        .cluster = cfg->cluster,
        .max_alert_bytes = cfg->max_body_size,
    };
    d->wal = nd_wal_open(d->base, &wo, err);
    if (!d->wal) {
        nd_log(ND_LOG_ERROR, "cannot open the write-ahead log", "err", err, NULL);
        return ND_ERR;
    }
    nd_queue_set_release_hook(d->queue, nd_wal_on_release, d->wal);
    nd_notification_set_done_hook(nd_wal_on_done, d->wal);
    /* Before the replay: receivers with overflow = spill spill from it. */
    nd_engine_set_spill(d->engine, true);
    d->spill_ev = evtimer_new(d->base, on_spill, d);
    nd_engine_set_outcome(d->engine, on_outcome, d);
    struct nd_alert **alerts;
    size_t n;
    nd_wal_replay_take(d->wal, &alerts, &n);
    prefetch_tenants(d, alerts, n);
    replay(d, alerts, n);
    free(alerts);
    nd_wal_replay_end(d->wal);
    struct nd_wal_stats st;
    nd_wal_get_stats(d->wal, &st);
    char cnt[32], bad[32];
    snprintf(cnt, sizeof cnt, "%zu", n);
    snprintf(bad, sizeof bad, "%llu", (unsigned long long)st.corrupt);
    static const char *const pol[] = {"always", "batch", "none"};
    nd_log(ND_LOG_INFO, "write-ahead log open", "dir", cfg->wal_dir, "fsync", pol[cfg->wal_fsync],
           "replayed_alerts", cnt, "corrupt", bad, NULL);
    return ND_OK;
}

static int start(struct nd_daemon *d, struct nd_config *cfg)
{
    char err[ND_ERRLEN];
    struct nd_config_errors errs;

    d->base = event_base_new();
    if (!d->base) {
        nd_log(ND_LOG_ERROR, "cannot create the event loop", NULL);
        return ND_ERR;
    }
    d->reap_ev = evtimer_new(d->base, on_reap, d);
    /* The engine and the queue live as long as the process; every
     * generation's receivers are built in the engine. The template set is
     * the generation's (gen_build sets it). */
    d->engine = nd_engine_new(d->base, NULL, err);
    if (!d->engine) {
        nd_log(ND_LOG_ERROR, "cannot start the delivery engine", "err", err, NULL);
        return ND_ERR;
    }
    d->queue = nd_queue_new(cfg->max_alerts, cfg->max_bytes);
    struct nd_silstore_opts sopts = {
        .path = cfg->routing.silence_file,
        .retention_ns = cfg->routing.silence_retention_ns,
        .max_silences = cfg->routing.max_silences,
        .max_matchers = cfg->routing.max_silence_matchers,
        .max_size = (size_t)cfg->routing.max_silence_size,
    };
    if (nd_silstore_new(&sopts, nd_now_wall_ns(), &d->silstore, err) != ND_OK) {
        nd_log(ND_LOG_ERROR, "cannot read the silences", "err", err, NULL);
        return ND_ERR;
    }

    nd_config_errors_init(&errs);
    d->gen = gen_build(d, cfg, NULL, &errs);
    /* The history receiver renders with the first generation's templates
     * (a reference kept until exit); NULL with an error appended. */
    if (d->gen && cfg->history_receiver) {
        d->history = nd_history_new(d->base, d->engine, cfg, &errs);
        d->history_ts = d->gen->ts;
        d->history_ts->refs++;
    }
    if (!d->gen || errs.total) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        nd_config_errors_deinit(&errs);
        return ND_ERR;
    }
    nd_config_errors_deinit(&errs);
    for (size_t i = 0; d->history && i < d->gen->nrcv; i++)
        nd_history_watch(d->history, d->gen->rcv[i]->r);
    if (cfg->wal_dir && *cfg->wal_dir && open_wal(d) != ND_OK)
        return ND_ERR;
    struct nd_napi_opts ao = {
        .base = d->base,
        .engine = d->engine,
        .cfg = cfg,
        .receivers = d->gen->receivers,
        .nreceivers = d->gen->nrcv,
    };
    d->api = nd_napi_new(&ao);
    d->reload_ok = 1;
    d->reload_ok_ts = (double)nd_now_wall_ns() / 1e9;

    /* The daemon's own endpoints, then each module's. */
    struct nd_server_route rt[3 + ND_SILAPI_NROUTES + 8];
    size_t nrt = 0;
    rt[nrt++] = (struct nd_server_route){"POST", "/-/reload", on_reload_req, d};
    rt[nrt++] = (struct nd_server_route){"GET", "/routers", on_routers, d};
    rt[nrt++] = (struct nd_server_route){"GET", "/silences", on_silences, d};
    nrt += nd_silapi_routes(d->silstore, rt + nrt, ND_ARRAY_LEN(rt) - nrt);
    nrt += nd_napi_routes(d->api, rt + nrt, ND_ARRAY_LEN(rt) - nrt);
    struct nd_server_opts so = {
        .host = cfg->listen_host,
        .port = (uint16_t)cfg->listen_port,
        .max_body_size = cfg->max_body_size,
        .max_headers_size = (size_t)cfg->max_headers_size,
        .timeout_s = (int)((cfg->read_timeout_ns + ND_NS_PER_S - 1) / ND_NS_PER_S),
        .retry_after_s = (int)((cfg->retry_after_ns + ND_NS_PER_S - 1) / ND_NS_PER_S),
        .backlog = (int)cfg->listen_backlog,
        .max_connections = cfg->max_connections,
        .ingest = {.cluster = cfg->cluster, .max_depth = cfg->max_depth},
        .submit = on_submit,
        .render = on_render,
        .ud = d,
        .metrics = &d->metrics,
        .routes = rt,
        .nroutes = nrt,
    };
    d->server = nd_server_new(d->base, &so, err);
    if (!d->server) {
        nd_log(ND_LOG_ERROR, "cannot listen", "listen",
               cfg->listen_host && *cfg->listen_host ? cfg->listen_host : "*", "err", err, NULL);
        return ND_ERR;
    }

    d->sig_term = evsignal_new(d->base, SIGTERM, on_signal, d);
    d->sig_int = evsignal_new(d->base, SIGINT, on_signal, d);
    d->sig_hup = evsignal_new(d->base, SIGHUP, on_signal, d);
    evsignal_add(d->sig_term, NULL);
    evsignal_add(d->sig_int, NULL);
    evsignal_add(d->sig_hup, NULL);

    char addr[300];
    snprintf(addr, sizeof addr, "%s:%u",
             cfg->listen_host && *cfg->listen_host ? cfg->listen_host : "0.0.0.0",
             (unsigned)nd_server_port(d->server));
    char nrcv[32];
    snprintf(nrcv, sizeof nrcv, "%zu", d->gen->nrcv);
    nd_log(ND_LOG_INFO, "listening", "addr", addr, "config", cfg->path, "receivers", nrcv, NULL);
    nd_server_set_ready(d->server, true);
    return ND_OK;
}

static void stop(struct nd_daemon *d)
{
    /* Order matters: the server first (no new alerts), then the batcher and
     * pipeline (no new notifications), then the engine, whose receivers
     * drop the last alert references, then the slots and the template
     * sets the receivers rendered with, and the queue those references
     * report to last of all. The log stops listening first: what the
     * engine drops at exit was not delivered and stays owed. */
    if (d->wal) {
        nd_notification_set_done_hook(NULL, NULL);
        nd_queue_set_release_hook(d->queue, NULL, NULL);
    }
    if (d->spill_ev)
        event_free(d->spill_ev);
    if (d->engine)
        nd_engine_set_outcome(d->engine, NULL, NULL);
    if (d->server)
        nd_server_free(d->server);
    struct gen *g = d->gen;
    if (g) {
        nd_batcher_free(g->batcher);
        g->batcher = NULL;
        nd_sidecar_free(g->sidecar);
        g->sidecar = NULL;
        nd_pipeline_free(g->pipeline);
        g->pipeline = NULL;
    }
    if (d->reap_ev)
        event_free(d->reap_ev);
    if (d->engine)
        nd_engine_free(d->engine);
    /* After the engine: no delivery reports to them any more. */
    nd_napi_free(d->api);
    nd_history_free(d->history);
    tset_unref(d->history_ts);
    for (size_t i = 0; i < d->napi_ts; i++)
        tset_unref(d->api_ts[i]);
    free(d->api_ts);
    nd_silstore_free(d->silstore);
    nd_wal_free(d->wal);
    struct rslot *s;
    while ((s = TAILQ_FIRST(&d->retiring))) {
        TAILQ_REMOVE(&d->retiring, s, link);
        rslot_free(s);
    }
    for (size_t i = 0; g && i < g->nrcv; i++)
        rslot_free(g->rcv[i]);
    gen_free(d, g);
    if (d->queue) {
        if (nd_queue_count(d->queue)) {
            char cnt[32];
            snprintf(cnt, sizeof cnt, "%llu", (unsigned long long)nd_queue_count(d->queue));
            nd_log(ND_LOG_ERROR, "alerts still held at exit", "alerts", cnt, NULL);
        }
        nd_queue_free(d->queue);
    }
    if (d->sig_term)
        event_free(d->sig_term);
    if (d->sig_int)
        event_free(d->sig_int);
    if (d->sig_hup)
        event_free(d->sig_hup);
    if (d->stop_guard)
        event_free(d->stop_guard);
    if (d->base)
        event_base_free(d->base);
}

int nd_daemon_run_take(struct nd_config *cfg)
{
    struct nd_daemon d;
    memset(&d, 0, sizeof d);
    d.boot_cfg = cfg;
    TAILQ_INIT(&d.retiring);

    nd_log_set_level((enum nd_log_level)cfg->log_level);
    nd_log_set_format((enum nd_log_format)cfg->log_format);
    /* libevent writes with writev and does not suppress SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    int rc = 1;
    if (start(&d, cfg) == ND_OK) {
        event_base_dispatch(d.base);
        rc = 0;
    }
    stop(&d);
    nd_config_free(cfg);
    return rc;
}

int nd_daemon_check_config(const char *path, FILE *errout)
{
    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;
    nd_config_errors_init(&errs);
    validate_config(path, &cfg, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(errout, "%s\n", errs.msgs[i]);
    int rc = errs.total ? 1 : 0;
    nd_config_errors_deinit(&errs);
    nd_config_free(cfg);
    return rc;
}
