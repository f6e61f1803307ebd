/* daemon.c - one event loop, the layers wired in order, a graceful stop.
 *
 * Lifecycle:
 *   start    config -> templates (compiled once) -> receivers (validated,
 *            their template names checked) -> queue -> pipeline -> batcher
 *            -> write-ahead log, if any (its fsync helper forked, what it
 *            still owes replayed: docs/wal.md) -> HTTP server; "ready" once
 *            the listener is up.
 *   running  POST /api/v2/alerts -> submit(): admit the whole request or
 *            answer 503 -> hold each alert in the queue -> batcher ->
 *            pipeline -> one notification per receiver and group -> engine.
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
#include <sys/resource.h>

#include "notifyd/alert.h"
#include "notifyd/batch.h"
#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/history.h"
#include "notifyd/log.h"
#include "notifyd/metrics.h"
#include "notifyd/notifyapi.h"
#include "notifyd/parse.h"
#include "notifyd/pipeline.h"
#include "notifyd/queue.h"
#include "notifyd/server.h"
#include "notifyd/inhibit.h"
#include "notifyd/route.h"
#include "notifyd/silapi.h"
#include "notifyd/silence.h"
#include "notifyd/silstore.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "notifyd/wal.h"

struct nd_daemon {
    struct nd_config *cfg;
    struct nd_template_set *templates; /* compiled once; outlives the engine */
    struct event_base *base;
    struct nd_metrics metrics;
    struct nd_queue *queue;
    struct nd_engine *engine;
    size_t nreceivers;
    struct nd_receiver **receivers;
    struct nd_metrics_receiver *metrics_rcv; /* parallel to receivers */
    struct nd_silences *silences;            /* [silence.*]; outlives the pipeline */
    struct nd_inhibit *inhibit;              /* [inhibit.*]; outlives the pipeline */
    struct nd_route *route;                  /* outlives the pipeline */
    struct nd_silstore *silstore;            /* API silences; outlives pipeline and server */
    struct nd_pipeline *pipeline;
    struct nd_batcher *batcher;
    struct nd_server *server;
    struct nd_napi *api;        /* /api/v2/notifications, /api/v2/verify, /receivers */
    struct nd_history *history; /* [history] receiver; NULL when unset */
    struct nd_wal *wal;         /* NULL without wal_dir */
    int replaying;              /* the pipeline runs the alerts read back from the log */
    struct event *sig_term, *sig_int, *sig_hup;
    struct event *stop_guard; /* leaves the loop if the drain overruns */
    int stopping;
};

static void on_durable(void *ud, int rc)
{
    struct nd_server_req *req = ud;
    if (rc == ND_OK)
        nd_server_req_reply_msg(req, 200, "Notification request accepted");
    else
        nd_server_req_reply_msg(req, 503, "write-ahead log: the alerts may not be on disk");
}

/* Ingest hands over a parsed request. All or nothing: either every alert
 * is held and batched, or none is and the client gets 503. Never called
 * once stopping: begin_stop stops the server first, which then answers
 * 503 "shutting down" itself (server.h). */
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
        nd_batcher_push_take(d->batcher, alerts[i]);
    /* fsync = always: the 200 waits for the helper's fdatasync. */
    if (d->wal && d->cfg->wal_fsync == ND_FSYNC_ALWAYS)
        nd_wal_wait(d->wal, lsn, on_durable, nd_server_defer(d->server));
    return ND_OK;
}

static void on_render(void *ud, struct evbuffer *out)
{
    struct nd_daemon *d = ud;
    /* The history receiver, when there is one, follows the routed ones. */
    nd_metrics_render(&d->metrics, d->queue, d->metrics_rcv, d->nreceivers + (d->history != NULL),
                      out);
    nd_silapi_render_metrics(d->silstore, out);
    if (d->wal)
        nd_wal_render(d->wal, out);
}

/* GET /routers: the routing as configured (route.h), read-only. */
static void on_routers(void *ud, struct nd_server_req *req)
{
    struct nd_daemon *d = ud;
    struct nd_buf b;
    char err[ND_ERRLEN];

    nd_buf_init(&b, 64u << 20);
    if (nd_route_render(d->route, &b, err) != ND_OK)
        nd_server_req_reply_msg(req, 500, err);
    else
        nd_server_req_reply(req, 200, NULL, b.data, b.len);
    nd_buf_deinit(&b);
}

static void on_notify(void *target_ud, struct nd_notification *n, void *ud)
{
    struct nd_daemon *d = ud;
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
    nd_receiver_submit_take(target_ud, n);
}

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
    char tmo[32];
    nd_format_duration(d->cfg->shutdown_timeout_ns, tmo);
    nd_log(ND_LOG_INFO, "shutting down", "signal", why, "shutdown_timeout", tmo, NULL);
    nd_server_set_ready(d->server, false);
    nd_server_stop_accepting(d->server);
    /* Alerts still waiting in an open batch were accepted: send them now. */
    nd_batcher_flush(d->batcher);
    /* The engine's own deadline decides what is given up; the guard only
     * protects against a drain that never reports back. */
    int64_t guard_ns = d->cfg->shutdown_timeout_ns + 5 * ND_NS_PER_S;
    struct timeval tv = nd_ns_to_timeval(guard_ns);
    d->stop_guard = evtimer_new(d->base, on_stop_guard, d);
    evtimer_add(d->stop_guard, &tv);
    nd_engine_shutdown(d->engine, d->cfg->shutdown_timeout_ns, on_drained, d);
}

static void on_signal(evutil_socket_t sig, short what, void *ud)
{
    struct nd_daemon *d = ud;
    (void)what;
    if (sig == SIGHUP) {
        nd_log(ND_LOG_WARN, "SIGHUP ignored: configuration reload is not supported yet", NULL);
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

static int build_receivers(struct nd_daemon *d, struct nd_config_errors *errs)
{
    struct nd_config *cfg = d->cfg;
    d->receivers = nd_xcalloc(cfg->nreceivers, sizeof *d->receivers);
    d->metrics_rcv = nd_xcalloc(cfg->nreceivers, sizeof *d->metrics_rcv);
    for (size_t i = 0; i < cfg->nreceivers; i++) {
        /* The history receiver is built by the history module, not routed to. */
        if (cfg->history_receiver && strcmp(cfg->receivers[i].name, cfg->history_receiver) == 0)
            continue;
        struct nd_receiver *r =
            nd_receiver_new(d->engine, &cfg->receivers[i], &cfg->delivery, errs);
        if (!r)
            continue;
        d->receivers[d->nreceivers] = r;
        d->metrics_rcv[d->nreceivers].name = nd_receiver_name(r);
        d->metrics_rcv[d->nreceivers].type = nd_receiver_type(r);
        d->metrics_rcv[d->nreceivers].stats = nd_receiver_stats(r);
        d->nreceivers++;
    }
    return errs->n ? ND_ERR : ND_OK;
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
    char **keys = nd_xcalloc(n ? n : 1, sizeof *keys);
    size_t *order = nd_xcalloc(n ? n : 1, sizeof *order);
    for (size_t i = 0; i < n; i++) {
        keys[i] = nd_xmalloc(d->nreceivers + 1);
        for (size_t r = 0; r < d->nreceivers; r++)
            keys[i][r] = nd_wal_replay_done(d->wal, alerts[i], nd_receiver_name(d->receivers[r]))
                             ? '1'
                             : '0';
        keys[i][d->nreceivers] = '\0';
        order[i] = i;
        nd_queue_hold(d->queue, alerts[i]);
    }
    replay_keys = (const char *const *)keys;
    qsort(order, n, sizeof *order, cmp_replay);
    replay_keys = NULL;
    struct nd_alert **chunk = nd_xcalloc(n ? n : 1, sizeof *chunk);
    size_t max = d->cfg->batch_max_size ? d->cfg->batch_max_size : 1;
    d->replaying = 1;
    for (size_t i = 0; i < n;) {
        size_t k = 0;
        const char *key = keys[order[i]];
        while (i < n && k < max && !strcmp(keys[order[i]], key))
            chunk[k++] = alerts[order[i++]];
        nd_pipeline_run(d->pipeline, chunk, k);
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

/* Opens the log (forking its fsync helper before any socket exists) and
 * runs what it still owes through the pipeline, before the listener opens. */
static int open_wal(struct nd_daemon *d)
{
    struct nd_config *cfg = d->cfg;
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
    struct nd_alert **alerts;
    size_t n;
    nd_wal_replay_take(d->wal, &alerts, &n);
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

static int start(struct nd_daemon *d)
{
    struct nd_config *cfg = d->cfg;
    char err[ND_ERRLEN];
    struct nd_config_errors errs;

    d->base = event_base_new();
    if (!d->base) {
        nd_log(ND_LOG_ERROR, "cannot create the event loop", NULL);
        return ND_ERR;
    }
    nd_config_errors_init(&errs);
    d->templates = nd_template_set_from_config(cfg, &errs);
    if (!d->templates) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        nd_config_errors_deinit(&errs);
        return ND_ERR;
    }
    if (nd_silences_from_config(cfg, &d->silences, &errs) != ND_OK) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        nd_config_errors_deinit(&errs);
        return ND_ERR;
    }
    if (nd_inhibit_from_config(cfg, &d->inhibit, &errs) != ND_OK) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        nd_config_errors_deinit(&errs);
        return ND_ERR;
    }
    nd_config_errors_deinit(&errs);
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
    d->engine = nd_engine_new(d->base, d->templates, err);
    if (!d->engine) {
        nd_log(ND_LOG_ERROR, "cannot start the delivery engine", "err", err, NULL);
        return ND_ERR;
    }
    nd_config_errors_init(&errs);
    /* NULL with an error appended, which fails the start below. */
    if (cfg->history_receiver)
        d->history = nd_history_new(d->base, d->engine, cfg, &errs);
    if (build_receivers(d, &errs) != ND_OK) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        nd_config_errors_deinit(&errs);
        return ND_ERR;
    }
    nd_config_errors_deinit(&errs);
    for (size_t i = 0; i < d->nreceivers; i++)
        nd_history_watch(d->history, d->receivers[i]);
    if (d->history) { /* its section was skipped: its slot is free */
        const struct nd_receiver *hr = nd_history_receiver(d->history);
        d->metrics_rcv[d->nreceivers].name = nd_receiver_name(hr);
        d->metrics_rcv[d->nreceivers].type = nd_receiver_type(hr);
        d->metrics_rcv[d->nreceivers].stats = nd_receiver_stats(hr);
    }

    d->queue = nd_queue_new(cfg->max_alerts, cfg->max_bytes);

    struct nd_pipeline_target *targets = nd_xcalloc(d->nreceivers, sizeof *targets);
    struct nd_route_receiver *rr = nd_xcalloc(d->nreceivers, sizeof *rr);
    size_t ntargets = 0;
    for (size_t i = 0; i < d->nreceivers; i++) {
        const struct nd_target_keys *k = nd_receiver_target_keys(d->receivers[i]);
        rr[i] =
            (struct nd_route_receiver){nd_receiver_name(d->receivers[i]),
                                       nd_receiver_type(d->receivers[i]), k, ND_ROUTE_NO_TARGET};
        if (!k->enabled) {
            nd_log(ND_LOG_INFO, "receiver disabled (enabled = false)", "receiver",
                   nd_receiver_name(d->receivers[i]), NULL);
            continue;
        }
        rr[i].target = ntargets;
        targets[ntargets].name = nd_receiver_name(d->receivers[i]);
        targets[ntargets].ud = d->receivers[i];
        targets[ntargets].alert_selector = k->alert_selector;
        targets[ntargets].tenant = k->tenant;
        ntargets++;
    }
    nd_config_errors_init(&errs);
    nd_route_new(cfg, rr, d->nreceivers, ntargets, &d->route, &errs);
    free(rr);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.msgs[i]);
    nd_config_errors_deinit(&errs);
    if (!d->route) {
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
        .silences = d->silences,
        .inhibit = d->inhibit,
        .route = d->route,
        .silstore = d->silstore,
    };
    d->pipeline = nd_pipeline_new(&pc);
    free(targets);
    d->batcher = nd_batcher_new(d->base, cfg->batch_max_size, cfg->batch_max_wait_ns,
                                nd_pipeline_batch_cb, d->pipeline);
    if (cfg->wal_dir && *cfg->wal_dir && open_wal(d) != ND_OK)
        return ND_ERR;

    struct nd_napi_opts ao = {
        .base = d->base,
        .engine = d->engine,
        .cfg = cfg,
        .receivers = d->receivers,
        .nreceivers = d->nreceivers,
    };
    d->api = nd_napi_new(&ao);
    /* The daemon's own endpoints, then each module's. */
    struct nd_server_route routes[1 + ND_SILAPI_NROUTES + 8];
    size_t nroutes = 0;
    routes[nroutes++] = (struct nd_server_route){"GET", "/routers", on_routers, d};
    nroutes += nd_silapi_routes(d->silstore, routes + nroutes, ND_ARRAY_LEN(routes) - nroutes);
    nroutes += nd_napi_routes(d->api, routes + nroutes, ND_ARRAY_LEN(routes) - nroutes);

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
        .routes = routes,
        .nroutes = nroutes,
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
    snprintf(nrcv, sizeof nrcv, "%zu", d->nreceivers);
    nd_log(ND_LOG_INFO, "listening", "addr", addr, "config", cfg->path, "receivers", nrcv, NULL);
    nd_server_set_ready(d->server, true);
    return ND_OK;
}

static void stop(struct nd_daemon *d)
{
    /* Order matters: the server first (no new alerts), then the batcher and
     * pipeline (no new notifications), then the engine, whose receivers
     * drop the last alert references, and the queue those references
     * report to last of all. The log stops listening first: what the
     * engine drops at exit was not delivered and stays owed. */
    if (d->wal) {
        nd_notification_set_done_hook(NULL, NULL);
        nd_queue_set_release_hook(d->queue, NULL, NULL);
    }
    if (d->server)
        nd_server_free(d->server);
    if (d->batcher)
        nd_batcher_free(d->batcher);
    nd_pipeline_free(d->pipeline);
    nd_route_free(d->route);
    nd_silences_free(d->silences);
    nd_inhibit_free(d->inhibit);
    nd_silstore_free(d->silstore);
    if (d->engine)
        nd_engine_free(d->engine);
    /* After the engine: no delivery reports to it any more. */
    nd_napi_free(d->api);
    nd_history_free(d->history);
    nd_template_set_free(d->templates);
    nd_wal_free(d->wal);
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
    free(d->receivers);
    free(d->metrics_rcv);
}

int nd_daemon_run_take(struct nd_config *cfg)
{
    struct nd_daemon d;
    memset(&d, 0, sizeof d);
    d.cfg = cfg;

    nd_log_set_level((enum nd_log_level)cfg->log_level);
    nd_log_set_format((enum nd_log_format)cfg->log_format);
    /* libevent writes with writev and does not suppress SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    int rc = 1;
    if (start(&d) == ND_OK) {
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
    /* Receiver sections are checked even when the fixed sections have
     * errors: one run shows every problem of the file. */
    nd_config_load_file_partial(path, &cfg, &errs);
    /* Without a compiled set (template errors, already reported) the
     * receivers are checked against the defaults and the template files
     * that did compile, so that their other keys are still validated. */
    struct nd_template_set *tmpl = cfg ? nd_template_set_from_config(cfg, &errs) : NULL;
    if (cfg && !tmpl) {
        char err[ND_ERRLEN];
        tmpl = nd_template_set_new();
        nd_template_set_add_defaults(tmpl, err);
        for (size_t i = 0; i < cfg->tmpl.nfiles; i++)
            nd_template_set_parse_file(tmpl, cfg->tmpl.files[i], err);
    }
    size_t nr = cfg ? cfg->nreceivers : 0, ntargets = 0;
    struct nd_target_keys *keys = nd_xcalloc(nr ? nr : 1, sizeof *keys);
    struct nd_route_receiver *rr = nd_xcalloc(nr ? nr : 1, sizeof *rr);
    for (size_t i = 0; i < nr; i++) {
        struct nd_receiver_config *rc = &cfg->receivers[i];
        rr[i] = (struct nd_route_receiver){rc->name, rc->type, NULL, ND_ROUTE_NO_TARGET};
        /* a missing type is already reported */
        if (rc->type &&
            nd_receiver_check_keys(rc, &cfg->delivery, tmpl, &keys[i], &errs) == ND_OK) {
            rr[i].keys = &keys[i];
            if (keys[i].enabled)
                rr[i].target = ntargets++;
        }
    }
    nd_template_set_free(tmpl);
    if (cfg)
        nd_history_check(cfg, &errs);
    if (cfg) {
        struct nd_silences *sil = NULL;
        nd_silences_from_config(cfg, &sil, &errs);
        nd_silences_free(sil);
        struct nd_inhibit *ih = NULL;
        nd_inhibit_from_config(cfg, &ih, &errs);
        nd_inhibit_free(ih);
        struct nd_route *route = NULL;
        nd_route_new(cfg, rr, nr, ntargets, &route, &errs);
        nd_route_free(route);
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
            nd_config_error_add(&errs, cfg->path, 0, "routing", "silence_file", "%s", serr);
        nd_silstore_free(ss);
    }
    for (size_t i = 0; i < nr; i++)
        nd_target_keys_deinit(&keys[i]);
    free(keys);
    free(rr);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(errout, "%s\n", errs.msgs[i]);
    int rc = errs.n ? 1 : 0;
    nd_config_errors_deinit(&errs);
    nd_config_free(cfg);
    return rc;
}
