/* notifyapi.c - POST /api/v2/notifications, POST /api/v2/verify and
 * GET /receivers (notifyapi.h).
 *
 * A request that sends is a `struct call`: it counts the notifications it
 * submitted and collects the reasons of those given up, through each of
 * its receivers' outcome hook. The hook may run inside a curl callback, so
 * it only records and arms the call's timer at 0 s; the answer is written
 * from the timer. The same timer first waits for api_timeout. A call
 * answered by its deadline stays (without its request) until its last
 * notification is finished, so that no hook ever sees a freed call; its
 * receivers free themselves once their notifications are finished
 * (nd_receiver_release).
 */
#include "notifyd/notifyapi.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "notifyd/aggregate.h"
#include "notifyd/buf.h"
#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/json.h"
#include "notifyd/log.h"
#include "notifyd/nmspec.h"
#include "notifyd/notification.h"
#include "notifyd/parse.h"
#include "notifyd/pipeline.h"
#include "notifyd/util.h"
#include "daemon_int.h"

/* The reasons joined into one answer are cut here. */
#define ERRS_MAX (16u * 1024)
/* GET /receivers answers at most this much. */
#define VIEW_MAX (16u * 1024 * 1024)

#define REDACTED "<secret>"

struct call {
    TAILQ_ENTRY(call) link;
    struct nd_napi *a;
    struct nd_server_req *req; /* NULL once answered */
    bool verify;
    size_t outstanding; /* notifications submitted and not finished */
    struct nd_buf errs; /* reasons, joined with ',' */
    struct event *ev;   /* the deadline, then the answer (0 s) */
};

struct nd_napi {
    struct event_base *base;
    struct nd_engine *engine;
    const struct nd_config *cfg;
    struct nd_receiver *const *receivers;
    size_t nreceivers;
    TAILQ_HEAD(, call) calls;
    size_t ncalls;
};

static void call_free(struct call *c)
{
    TAILQ_REMOVE(&c->a->calls, c, link);
    c->a->ncalls--;
    event_free(c->ev);
    nd_buf_deinit(&c->errs);
    free(c);
}

static void add_reason(struct call *c, const char *type, const char *reason)
{
    if (c->errs.len)
        nd_buf_addc(&c->errs, ',');
    nd_buf_printf(&c->errs, "%s: %s", type, reason);
}

static void answer(struct call *c)
{
    if (!c->req)
        return;
    if (c->outstanding) {
        char tmo[32];
        nd_format_duration(c->a->cfg->api_timeout_ns, tmo);
        if (c->errs.len)
            nd_buf_addc(&c->errs, ',');
        nd_buf_printf(&c->errs, "%zu notification%s not finished after api_timeout %s",
                      c->outstanding, c->outstanding == 1 ? "" : "s", tmo);
    }
    if (c->errs.len)
        nd_server_req_reply_msg(c->req, 400, nd_buf_cstr(&c->errs));
    else
        nd_server_req_reply_msg(c->req, 200,
                                c->verify ? "Verify successfully" : "Send alerts successfully");
    c->req = NULL;
}

static void on_call_ev(evutil_socket_t fd, short what, void *ud)
{
    struct call *c = ud;
    (void)fd;
    (void)what;
    answer(c);
    if (c->outstanding == 0)
        call_free(c);
}

/* May run inside a curl callback: records, and lets the timer answer. */
static void on_outcome(void *ud, const struct nd_receiver *r, const struct nd_notification *n,
                       const char *failure)
{
    struct call *c = ud;
    (void)n;
    if (failure && c->req)
        add_reason(c, nd_receiver_type(r), failure);
    if (c->outstanding > 0 && --c->outstanding == 0) {
        struct timeval zero = {0, 0};
        evtimer_add(c->ev, &zero);
    }
}

/* ---- POST /api/v2/notifications, /api/v2/verify ------------------------- */

static void handle_send(struct nd_napi *a, struct nd_server_req *req, bool verify)
{
    const struct nd_config *cfg = a->cfg;
    char err[ND_ERRLEN];
    size_t len;
    const char *body = nd_server_req_body(req, &len);
    struct nd_nmspec *spec = NULL;

    if (a->ncalls >= cfg->api_max_requests) {
        snprintf(err, sizeof err, "too many requests waiting for deliveries (api_max_requests %u)",
                 (unsigned)cfg->api_max_requests);
        nd_server_req_reply_msg(req, 503, err);
        return;
    }
    struct nd_nmspec_opts so = {
        .want_alert = !verify,
        .alert = {.cluster = NULL, .max_depth = cfg->max_depth},
        .max_depth = cfg->max_depth,
    };
    if (nd_nmspec_parse(body, len, &so, &spec, err) != ND_OK) {
        nd_server_req_reply_msg(req, 400, err);
        return;
    }

    /* Deliveries end within the answer's wait: no retry is started after
     * it (each attempt still has its own timeout). */
    struct nd_delivery_config dc = cfg->delivery;
    if (dc.retry_max_age_ns > cfg->api_timeout_ns)
        dc.retry_max_age_ns = cfg->api_timeout_ns;
    struct nd_receiver **rs = nd_xcalloc(spec->nreceivers, sizeof *rs);
    struct nd_config_errors errs;
    nd_config_errors_init(&errs);
    size_t nr = 0;
    for (; nr < spec->nreceivers; nr++) {
        rs[nr] = nd_receiver_new(a->engine, &spec->receivers[nr].rc, &dc, &errs);
        if (!rs[nr])
            break;
    }
    if (nr < spec->nreceivers) {
        /* NM answers the first validation error. */
        nd_nmspec_explain(&spec->receivers[nr], errs.n ? errs.msgs[0] : "invalid receiver", err,
                          sizeof err);
        for (size_t i = 0; i < nr; i++)
            nd_receiver_release(rs[i]);
        nd_config_errors_deinit(&errs);
        free(rs);
        nd_nmspec_free(spec);
        nd_server_req_reply_msg(req, 400, err);
        return;
    }
    nd_config_errors_deinit(&errs);

    struct call *c = nd_xcalloc(1, sizeof *c);
    c->a = a;
    c->req = req;
    c->verify = verify;
    nd_buf_init(&c->errs, ERRS_MAX);
    c->ev = evtimer_new(a->base, on_call_ev, c);
    if (!c->ev)
        abort(); /* only on OOM */
    TAILQ_INSERT_TAIL(&a->calls, c, link);
    a->ncalls++;

    struct nd_aggregator *ag =
        verify ? NULL
               : nd_aggregator_new((const char *const *)cfg->group_labels, cfg->ngroup_labels);
    for (size_t i = 0; i < nr; i++) {
        nd_receiver_set_outcome(rs[i], on_outcome, c);
        if (verify) {
            c->outstanding++;
            nd_receiver_submit_take(rs[i], nd__verify_notification(nd_receiver_name(rs[i])));
        } else {
            struct nd_notification **ns = NULL;
            size_t nn = nd_aggregator_run(ag, nd_receiver_name(rs[i]), spec->alerts, spec->nalerts,
                                          nd_now_wall_ns(), &ns);
            c->outstanding += nn;
            for (size_t k = 0; k < nn; k++)
                nd_receiver_submit_take(rs[i], ns[k]);
            free(ns);
        }
        nd_receiver_release(rs[i]);
    }
    nd_aggregator_free(ag);
    free(rs);
    nd_nmspec_free(spec);

    struct timeval tv = nd_ns_to_timeval(c->outstanding ? cfg->api_timeout_ns : 0);
    evtimer_add(c->ev, &tv);
}

static void on_notifications(void *ud, struct nd_server_req *req)
{
    handle_send(ud, req, false);
}

static void on_verify(void *ud, struct nd_server_req *req)
{
    handle_send(ud, req, true);
}

/* ---- GET /receivers ----------------------------------------------------- */

static bool secret_name(const char *key)
{
    /* INI keys are lowercase. */
    static const char *const words[] = {"secret", "password", "token", "webhook"};
    for (size_t i = 0; i < ND_ARRAY_LEN(words); i++)
        if (strstr(key, words[i]))
            return true;
    return false;
}

/* A value shown: user info of a URL and header values are hidden. */
static void shown_value(struct nd_buf *out, const char *key, const char *v)
{
    if (strcmp(key, "headers") == 0) {
        /* Name: value per line; the values may be credentials. */
        const char *p = v;
        while (*p) {
            size_t ll = strcspn(p, "\n");
            const char *colon = memchr(p, ':', ll);
            if (colon) {
                nd_buf_add(out, p, (size_t)(colon - p));
                nd_buf_adds(out, ": " REDACTED);
            } else {
                nd_buf_add(out, p, ll);
            }
            p += ll;
            if (*p == '\n') {
                nd_buf_addc(out, '\n');
                p++;
            }
        }
        return;
    }
    const char *scheme = strstr(v, "://");
    if (scheme) {
        const char *host = scheme + 3;
        size_t auth = strcspn(host, "/?#");
        const char *at = memchr(host, '@', auth);
        if (at) {
            nd_buf_add(out, v, (size_t)(host - v));
            nd_buf_adds(out, REDACTED);
            nd_buf_adds(out, at);
            return;
        }
    }
    nd_buf_adds(out, v);
}

static const char *kv_value(const struct nd_receiver_config *rc, const char *key)
{
    for (size_t i = 0; i < rc->nkvs; i++)
        if (strcmp(rc->kvs[i].key, key) == 0)
            return rc->kvs[i].value;
    return NULL;
}

static void on_receivers(void *ud, struct nd_server_req *req)
{
    struct nd_napi *a = ud;
    char type[64] = "", tenant[256] = "";
    bool by_type = nd_server_req_param(req, "type", type, sizeof type) == ND_OK;
    bool by_tenant = nd_server_req_param(req, "tenant", tenant, sizeof tenant) == ND_OK;
    struct nd_buf out, v;
    struct nd_json j;
    char jerr[ND_ERRLEN];

    nd_buf_init(&out, VIEW_MAX);
    nd_buf_init(&v, 1u << 20);
    nd_json_init(&j, &out, 0);
    nd_json_arr_open(&j);
    for (size_t ri = 0; ri < a->cfg->nreceivers; ri++) {
        const struct nd_receiver_config *rc = &a->cfg->receivers[ri];
        const struct nd_receiver *r = NULL;
        for (size_t i = 0; i < a->nreceivers && !r; i++)
            if (strcmp(nd_receiver_name(a->receivers[i]), rc->name) == 0)
                r = a->receivers[i];
        /* The history receiver is the history module's, not a routed one. */
        bool history =
            !r && a->cfg->history_receiver && strcmp(a->cfg->history_receiver, rc->name) == 0;
        if (!r && !history)
            continue;
        const char *rtype = r ? nd_receiver_type(r) : rc->type;
        const char *t = kv_value(rc, "tenant");
        if (by_type && strcmp(type, rtype) != 0)
            continue;
        if (by_tenant && strcmp(tenant, t ? t : "") != 0)
            continue;
        nd_json_obj_open(&j);
        nd_json_kstr(&j, "name", rc->name);
        nd_json_kstr(&j, "type", rtype);
        if (t)
            nd_json_kstr(&j, "tenant", t);
        nd_json_kbool(&j, "enabled", r ? nd_receiver_target_keys(r)->enabled : true);
        if (history)
            nd_json_kbool(&j, "history", true);
        nd_json_key(&j, "settings");
        nd_json_obj_open(&j);
        for (size_t k = 0; k < rc->nkvs; k++) {
            const struct nd_config_kv *kv = &rc->kvs[k];
            nd_json_key(&j, kv->key);
            if (kv->secret || secret_name(kv->key)) {
                nd_json_str(&j, REDACTED);
                continue;
            }
            nd_buf_reset(&v);
            shown_value(&v, kv->key, kv->value);
            nd_json_strn(&j, nd_buf_cstr(&v), v.len);
        }
        nd_json_obj_close(&j);
        nd_json_obj_close(&j);
    }
    nd_json_arr_close(&j);
    if (nd_json_finish(&j, jerr) != ND_OK)
        nd_server_req_reply_msg(req, 500, "the receivers view is too large");
    else
        nd_server_req_reply(req, 200, NULL, nd_buf_cstr(&out), out.len);
    nd_buf_deinit(&v);
    nd_buf_deinit(&out);
}

/* ---- the module --------------------------------------------------------- */

struct nd_napi *nd_napi_new(const struct nd_napi_opts *o)
{
    struct nd_napi *a = nd_xcalloc(1, sizeof *a);
    a->base = o->base;
    a->engine = o->engine;
    a->cfg = o->cfg;
    a->receivers = o->receivers;
    a->nreceivers = o->nreceivers;
    TAILQ_INIT(&a->calls);
    return a;
}

void nd_napi_free(struct nd_napi *a)
{
    struct call *c;
    if (!a)
        return;
    while ((c = TAILQ_FIRST(&a->calls))) {
        /* Finished while the loop was stopping: the answer is known. */
        if (c->req && c->outstanding == 0)
            answer(c);
        if (c->req)
            nd_server_req_reply_msg(c->req, 503, "shutting down");
        call_free(c);
    }
    free(a);
}

size_t nd_napi_routes(struct nd_napi *a, struct nd_server_route *out, size_t cap)
{
    const struct nd_server_route r[] = {
        {"POST", "/api/v2/notifications", on_notifications, a},
        {"POST", "/api/v2/verify", on_verify, a},
        {"GET", "/receivers", on_receivers, a},
    };
    size_t n = ND_ARRAY_LEN(r) < cap ? ND_ARRAY_LEN(r) : cap;
    memcpy(out, r, n * sizeof *r);
    return n;
}

size_t nd_napi_pending(const struct nd_napi *a)
{
    return a->ncalls;
}

void nd_napi_set_config(struct nd_napi *a, const struct nd_config *cfg,
                        struct nd_receiver *const *receivers, size_t nreceivers)
{
    a->cfg = cfg;
    a->receivers = receivers;
    a->nreceivers = nreceivers;
}
