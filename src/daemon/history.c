/* history.c - NM's history webhook (history.h).
 *
 * The history receiver is a webhook whose body is the history JSON: it is
 * built with a receiver type of its own ("history") that configures,
 * sends, sets curl options and judges answers exactly as the webhook type
 * (it calls the webhook's hooks on the webhook's state) and only replaces
 * the body. The JSON needs, per alert, what the history module knows (when
 * it was first delivered, to which receivers): build() finds the record
 * of the notification it is asked for among the module's sends.
 *
 * Outcome hooks may run inside a curl callback: they only take a reference
 * and arm a 0 s timer; the history notification is made and submitted from
 * the timer.
 */
#include "notifyd/history.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/json.h"
#include "notifyd/log.h"
#include "notifyd/notification.h"
#include "notifyd/payload.h"
#include "notifyd/receiver.h"
#include "notifyd/time.h"
#include "notifyd/util.h"

/* One outcome waiting for the next history notification. */
struct pending {
    TAILQ_ENTRY(pending) link;
    struct nd_notification *n; /* one reference */
    const char *rname, *rtype; /* the daemon's receiver: lives as long as the daemon */
    char *failure;             /* NULL = delivered */
    int64_t at_ns;             /* wall clock of the outcome */
};

struct result {
    const char *rname, *rtype;
    char *failure;
};

struct halert {
    struct nd_alert *a; /* borrowed from the history notification */
    int64_t first_ok_ns;
    size_t nres;
    struct result *res;
};

/* A history notification on its way to the history receiver. */
struct send {
    TAILQ_ENTRY(send) link;
    const struct nd_notification *n; /* the engine holds it; only compared */
    size_t nalerts;
    struct halert *alerts;
};

struct nd_history {
    struct event_base *base;
    struct nd_receiver *target;
    uint32_t max_pending;
    int64_t max_wait_ns;
    TAILQ_HEAD(, pending) pending;
    size_t npending;
    TAILQ_HEAD(, send) sends;
    struct event *flush_ev;
    uint64_t sent, dropped;
    bool drop_logged;
};

struct hstate {
    void *w; /* the webhook's state */
    struct nd_history *h;
};

/* The module whose receiver is being configured (nd_history_new): the
 * type's configure has no user pointer. One loop thread. */
static struct nd_history *configuring;

static void send_free(struct send *s)
{
    for (size_t i = 0; i < s->nalerts; i++) {
        for (size_t k = 0; k < s->alerts[i].nres; k++)
            free(s->alerts[i].res[k].failure);
        free(s->alerts[i].res);
    }
    free(s->alerts);
    free(s);
}

static struct send *find_send(struct nd_history *h, const struct nd_notification *n)
{
    struct send *s;
    TAILQ_FOREACH(s, &h->sends, link)
    if (s->n == n)
        return s;
    return NULL;
}

/* ---- the "history" receiver type: the webhook's, another body ---------- */

static int h_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                       void **state, struct nd_config_errors *errs)
{
    void *w = NULL;
    /* Registered for nd_history_new only: `type = history` in a section is
     * as unknown as it is to --check-config. */
    if (!configuring) {
        nd_config_error_add(errs, rc->file, rc->type_line ? rc->type_line : rc->line, rc->section,
                            "type", "unknown receiver type \"history\"");
        return ND_EINVAL;
    }
    /* A template is refused by nd_history_check: the body is fixed. */
    if (nd_receiver_type_webhook.configure(rc, templates, &w, errs) != ND_OK)
        return ND_EINVAL;
    struct hstate *hs = nd_xcalloc(1, sizeof *hs);
    hs->w = w;
    hs->h = configuring;
    *state = hs;
    return ND_OK;
}

static void h_free_state(void *state)
{
    struct hstate *hs = state;
    if (nd_receiver_type_webhook.free_state)
        nd_receiver_type_webhook.free_state(hs->w);
    free(hs);
}

struct extra_ctx {
    const struct send *s;
};

static void add_extra(void *ud, size_t i, struct nd_json *j)
{
    const struct send *s = ((struct extra_ctx *)ud)->s;
    const struct halert *ha = &s->alerts[i];
    char t[ND_TIME_MAXLEN];
    struct nd_time nt = nd_time_from_unix_ns(ha->first_ok_ns);

    if (ha->first_ok_ns) { /* delivered nowhere: no notificationTime */
        nd_time_format_rfc3339(&nt, t);
        nd_json_kstr(j, "notificationTime", t);
    }
    nd_json_key(j, "receiver");
    nd_json_obj_open(j);
    for (size_t k = 0; k < ha->nres; k++) {
        nd_json_key(j, ha->res[k].rname);
        nd_json_obj_open(j);
        nd_json_key(j, ha->res[k].rtype);
        nd_json_obj_open(j);
        nd_json_kbool(j, "delivered", ha->res[k].failure == NULL);
        if (ha->res[k].failure)
            nd_json_kstr(j, "reason", ha->res[k].failure);
        nd_json_obj_close(j);
        nd_json_obj_close(j);
    }
    nd_json_obj_close(j);
}

static int h_build(void *state, const struct nd_notification *n, const char *prepared,
                   struct nd_request *req, char *err)
{
    struct hstate *hs = state;
    if (nd_receiver_type_webhook.build(hs->w, n, prepared, req, err) != ND_OK)
        return ND_ERR;
    struct send *s = find_send(hs->h, n);
    if (!s)
        return nd_seterr(err, ND_ERR, "no history record for this notification");
    struct extra_ctx x = {s};
    nd_buf_reset(&req->body);
    if (nd_payload_webhook_json_x(n, add_extra, &x, &req->body) != ND_OK)
        return nd_seterr(err, ND_ETOOBIG, "history body larger than %zu bytes", req->body.limit);
    return ND_OK;
}

static int h_setopt(void *state, CURL *easy, struct nd_request *req, char *err)
{
    struct hstate *hs = state;
    if (!nd_receiver_type_webhook.setopt)
        return ND_OK;
    return nd_receiver_type_webhook.setopt(hs->w, easy, req, err);
}

static void h_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    struct hstate *hs = state;
    if (nd_receiver_type_webhook.classify)
        nd_receiver_type_webhook.classify(hs->w, r, v);
    else
        nd_classify_http(r, v);
}

static const struct nd_receiver_type history_type = {
    .name = "history",
    .configure = h_configure,
    .free_state = h_free_state,
    .build = h_build,
    .setopt = h_setopt,
    .classify = h_classify,
};

/* ---- collecting outcomes ----------------------------------------------- */

/* May run inside a curl callback: only records. */
static void on_outcome(void *ud, const struct nd_receiver *r, const struct nd_notification *n,
                       const char *failure)
{
    struct nd_history *h = ud;
    if (h->npending >= h->max_pending) {
        h->dropped++;
        if (!h->drop_logged) {
            char max[16];
            snprintf(max, sizeof max, "%u", (unsigned)h->max_pending);
            nd_log(ND_LOG_WARN, "history: outcomes not reported, max_pending reached",
                   "max_pending", max, NULL);
            h->drop_logged = true;
        }
        return;
    }
    struct pending *p = nd_xcalloc(1, sizeof *p);
    /* The engine drops its reference after this hook: ours keeps n. */
    nd_notification_ref((struct nd_notification *)n);
    p->n = (struct nd_notification *)n;
    p->rname = nd_receiver_name(r);
    p->rtype = nd_receiver_type(r);
    p->failure = failure ? nd_xstrdup(failure) : NULL;
    p->at_ns = nd_now_wall_ns();
    TAILQ_INSERT_TAIL(&h->pending, p, link);
    if (h->npending++ == 0) {
        /* The notifications of one batch end about together: one payload. */
        struct timeval tv = nd_ns_to_timeval(h->max_wait_ns);
        evtimer_add(h->flush_ev, &tv);
    }
}

/* The history receiver's own outcomes: its send record is done. */
static void on_target_outcome(void *ud, const struct nd_receiver *r,
                              const struct nd_notification *n, const char *failure)
{
    struct nd_history *h = ud;
    (void)r;
    (void)failure;
    struct send *s = find_send(h, n);
    if (s) {
        TAILQ_REMOVE(&h->sends, s, link);
        send_free(s);
    }
}

static void pending_free(struct pending *p)
{
    nd_notification_unref(p->n);
    free(p->failure);
    free(p);
}

static struct halert *find_alert(struct halert *v, size_t n, const struct nd_alert *a)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].a == a)
            return &v[i];
    return NULL;
}

static void add_result(struct halert *ha, const struct pending *p)
{
    for (size_t k = 0; k < ha->nres; k++)
        if (ha->res[k].rname == p->rname)
            return; /* a second notification for the same receiver (another group) */
    ha->res = nd_xrealloc(ha->res, (ha->nres + 1) * sizeof *ha->res);
    ha->res[ha->nres].rname = p->rname;
    ha->res[ha->nres].rtype = p->rtype;
    ha->res[ha->nres].failure = p->failure ? nd_xstrdup(p->failure) : NULL;
    ha->nres++;
    if (!p->failure && (ha->first_ok_ns == 0 || p->at_ns < ha->first_ok_ns))
        ha->first_ok_ns = p->at_ns;
}

static void on_flush(evutil_socket_t fd, short what, void *ud)
{
    struct nd_history *h = ud;
    struct pending *p;
    struct halert *v = NULL;
    size_t n = 0, cap = 0;
    (void)fd;
    (void)what;

    TAILQ_FOREACH(p, &h->pending, link)
    {
        for (size_t i = 0; i < p->n->nalerts; i++) {
            struct halert *ha = find_alert(v, n, p->n->alerts[i]);
            if (!ha) {
                if (n == cap) {
                    cap = cap ? 2 * cap : 16;
                    v = nd_xrealloc(v, cap * sizeof *v);
                }
                ha = &v[n++];
                memset(ha, 0, sizeof *ha);
                ha->a = p->n->alerts[i];
            }
            add_result(ha, p);
        }
    }
    /* Every alert with an outcome in the window, delivered or not: NM
     * reports only delivered ones, but a failure known after the window of
     * the alert's delivery would then never be reported. */
    size_t keep = n;
    if (keep) {
        struct nd_notification *hn = nd_notification_new(keep, 0, 0, 0);
        hn->status = ND_ALERT_RESOLVED;
        for (size_t i = 0; i < keep; i++) {
            nd_alert_ref(v[i].a);
            hn->alerts[i] = v[i].a;
            if (v[i].a->status == ND_ALERT_FIRING)
                hn->status = ND_ALERT_FIRING;
        }
        hn->receiver = NULL; /* NM's history alerts carry no receiver label */
        hn->created_ns = nd_now_wall_ns();
        struct send *s = nd_xcalloc(1, sizeof *s);
        s->n = hn;
        s->nalerts = keep;
        s->alerts = v;
        v = NULL;
        TAILQ_INSERT_TAIL(&h->sends, s, link);
        h->sent++;
        nd_receiver_submit_take(h->target, hn);
    }
    free(v);
    while ((p = TAILQ_FIRST(&h->pending))) {
        TAILQ_REMOVE(&h->pending, p, link);
        pending_free(p);
    }
    h->npending = 0;
    h->drop_logged = false;
}

/* ---- the module -------------------------------------------------------- */

static struct nd_receiver_config *find_section(const struct nd_config *cfg)
{
    for (size_t i = 0; i < cfg->nreceivers; i++)
        if (strcmp(cfg->receivers[i].name, cfg->history_receiver) == 0)
            return &cfg->receivers[i];
    return NULL;
}

int nd_history_check(const struct nd_config *cfg, struct nd_config_errors *errs)
{
    if (!cfg->history_receiver)
        return ND_OK;
    const struct nd_receiver_config *rc = find_section(cfg);
    if (!rc) {
        nd_config_error_add(errs, cfg->path, cfg->history_receiver_line, "history", "receiver",
                            "no receiver named \"%s\" ([receiver.%s])", cfg->history_receiver,
                            cfg->history_receiver);
        return ND_EINVAL;
    }
    if (!rc->type || strcmp(rc->type, "webhook") != 0) {
        nd_config_error_add(errs, cfg->path, cfg->history_receiver_line, "history", "receiver",
                            "receiver \"%s\" is of type %s: the history receiver must be a "
                            "webhook",
                            cfg->history_receiver, rc->type ? rc->type : "(none)");
        return ND_EINVAL;
    }
    for (size_t i = 0; i < rc->nkvs; i++)
        if (strcmp(rc->kvs[i].key, "template") == 0 ||
            strcmp(rc->kvs[i].key, "template_type") == 0) {
            nd_config_error_add(errs, rc->file, rc->kvs[i].line, rc->section, rc->kvs[i].key,
                                "not used by the history receiver ([history] receiver = %s): "
                                "its body is the history JSON",
                                cfg->history_receiver);
            return ND_EINVAL;
        }
    return ND_OK;
}

struct nd_history *nd_history_new(struct event_base *base, struct nd_engine *e,
                                  struct nd_config *cfg, struct nd_config_errors *errs)
{
    if (nd_history_check(cfg, errs) != ND_OK)
        return NULL;
    if (!nd_receiver_type_find(history_type.name) &&
        nd_receiver_type_register(&history_type) != ND_OK) {
        nd_config_error_add(errs, cfg->path, cfg->history_receiver_line, "history", "receiver",
                            "cannot register the history receiver type");
        return NULL;
    }
    struct nd_receiver_config *rc = find_section(cfg);
    struct nd_history *h = nd_xcalloc(1, sizeof *h);
    h->base = base;
    h->max_pending = cfg->history_max_pending;
    h->max_wait_ns = cfg->history_max_wait_ns;
    TAILQ_INIT(&h->pending);
    TAILQ_INIT(&h->sends);
    h->flush_ev = evtimer_new(base, on_flush, h);
    if (!h->flush_ev)
        abort(); /* only on OOM */

    /* The section as a "history" receiver: same keys, same name. */
    struct nd_receiver_config copy = *rc;
    char htype[] = "history";
    copy.type = htype;
    configuring = h;
    h->target = nd_receiver_new(e, &copy, &cfg->delivery, errs);
    configuring = NULL;
    if (!h->target) {
        event_free(h->flush_ev);
        free(h);
        return NULL;
    }
    nd_receiver_set_outcome(h->target, on_target_outcome, h);
    return h;
}

void nd_history_watch(struct nd_history *h, struct nd_receiver *r)
{
    if (h && r != h->target)
        nd_receiver_set_outcome(r, on_outcome, h);
}

void nd_history_free(struct nd_history *h)
{
    struct pending *p;
    struct send *s;
    if (!h)
        return;
    while ((p = TAILQ_FIRST(&h->pending))) {
        TAILQ_REMOVE(&h->pending, p, link);
        pending_free(p);
    }
    while ((s = TAILQ_FIRST(&h->sends))) {
        TAILQ_REMOVE(&h->sends, s, link);
        send_free(s);
    }
    event_free(h->flush_ev);
    free(h);
}

const struct nd_receiver *nd_history_receiver(const struct nd_history *h)
{
    return h->target;
}

uint64_t nd_history_sent(const struct nd_history *h)
{
    return h->sent;
}

uint64_t nd_history_dropped(const struct nd_history *h)
{
    return h->dropped;
}
