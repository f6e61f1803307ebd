/* engine.c - delivery jobs: queueing, concurrency, prepare, retries,
 * shutdown. The lifecycle is described in docs/delivery.md; in short:
 *
 *   submit -> QUEUED (receiver FIFO) -> [PREPARING] -> IN_FLIGHT
 *          -> delivered | RETRY_WAIT -> QUEUED ... | given up
 *
 * A job occupies one of the receiver's max_in_flight slots while it is
 * PREPARING or IN_FLIGHT; QUEUED and RETRY_WAIT jobs wait in our memory,
 * never inside curl, so curl's timeout measures only the attempt.
 *
 * Re-entrancy: every transition that may start work (pumping a FIFO,
 * waking prepare waiters, calling idle) goes through a 0 s libevent
 * timer, so no hook and no caller of the public API is ever called back
 * from inside itself.
 */
#include "notifyd/engine.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "notifyd/backoff.h"
#include "notifyd/log.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/util.h"
#include "notify_int.h"

/* See job_finish_attempt: a Retry-After is a lower bound. */
#define RETRY_AFTER_PAD_NS (10 * ND_NS_PER_MS)

enum job_state { JOB_QUEUED, JOB_PREPARING, JOB_IN_FLIGHT, JOB_RETRY_WAIT };

struct job {
    TAILQ_ENTRY(job) wait; /* receiver's ready FIFO, or a prep's waiters */
    TAILQ_ENTRY(job) all;  /* receiver's list of every job */
    struct nd_receiver *r;
    struct nd_notification *n; /* one reference, dropped in job_end */
    enum job_state state;
    uint32_t attempts;         /* attempts started */
    int64_t first_mono_ns;     /* start of the first attempt, 0 before */
    struct event *timer;       /* retry wait */
    struct nd_prep *prep;      /* while PREPARING */
    struct nd_prep *used_prep; /* the value this attempt was built with, */
    uint64_t used_gen;         /* and its generation (see reprepare) */
    struct nd_xfer xfer;       /* while IN_FLIGHT */
};
TAILQ_HEAD(job_list, job);

struct nd_receiver {
    TAILQ_ENTRY(nd_receiver) link;
    struct nd_engine *e;
    char *name;
    const struct nd_receiver_type *t;
    void *state;
    struct nd_delivery_config cfg;
    struct nd_backoff backoff;
    struct nd_receiver_stats stats;
    struct job_list ready; /* FIFO waiting for a slot */
    struct job_list jobs;  /* all jobs of this receiver */
    uint32_t active;       /* slots used: PREPARING + IN_FLIGHT */
    struct event *pump_ev; /* deferred pump, also the throttle's wait */
};

struct nd_prep {
    TAILQ_ENTRY(nd_prep) link;
    struct nd_engine *e;
    char *key;
    char *value;             /* NULL until fetched */
    int64_t expires_mono_ns; /* value valid before this */
    uint64_t gen;            /* bumped with each new value */
    bool fetching;           /* prepare_start called, nd_prep_done not yet */
    bool result_ready;       /* nd_prep_done called, waiters not woken yet */
    char *result_value, *result_err;
    int64_t result_ttl_ns;
    struct job_list waiters;
    struct event *wake;
};

struct fetch {
    TAILQ_ENTRY(fetch) link;
    struct nd_engine *e;
    struct nd_xfer xfer;
    nd_fetch_cb *cb;
    void *ud;
    struct event *fail_ev; /* setup failed: report from the loop */
    char err[ND_ERRLEN];
};

struct nd_engine {
    struct event_base *base;
    const struct nd_template_set *templates; /* borrowed: the daemon's */
    struct nd_curlev *cv;
    TAILQ_HEAD(, nd_receiver) receivers;
    TAILQ_HEAD(, nd_prep) preps;
    TAILQ_HEAD(, fetch) fetches;
    size_t pending;
    long slots; /* sum of max_in_flight: the idle connection pool's size */
    bool shutting_down;
    bool deadline_passed;
    bool idle_called;
    void (*idle)(void *ud);
    void *idle_ud;
    struct event *deadline_ev;
    struct event *idle_ev;
};

static void job_finish_attempt(struct job *j, const struct nd_verdict *v);
static void schedule_pump(struct nd_receiver *r, int64_t delay_ns);

static struct timeval ns_to_tv(int64_t ns)
{
    struct timeval tv;

    if (ns < 0)
        ns = 0;
    tv.tv_sec = (time_t)(ns / ND_NS_PER_S);
    tv.tv_usec = (suseconds_t)((ns % ND_NS_PER_S) / 1000);
    return tv;
}

static void check_idle(struct nd_engine *e)
{
    struct timeval zero = {0, 0};

    if (e->shutting_down && !e->idle_called && e->pending == 0)
        evtimer_add(e->idle_ev, &zero);
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
    struct nd_engine *e = arg;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    /* A submission may have arrived between scheduling and now. */
    if (e->idle_called || e->pending != 0)
        return;
    e->idle_called = true;
    evtimer_del(e->deadline_ev);
    if (e->idle)
        e->idle(e->idle_ud);
}

static void job_end(struct job *j)
{
    struct nd_receiver *r = j->r;
    struct nd_engine *e = r->e;

    TAILQ_REMOVE(&r->jobs, j, all);
    event_free(j->timer);
    nd_notification_unref(j->n);
    free(j);
    e->pending--;
    check_idle(e);
}

static void log_give_up(struct job *j, const char *reason)
{
    char alerts[24], attempts[16];

    snprintf(alerts, sizeof(alerts), "%zu", j->n->nalerts);
    snprintf(attempts, sizeof(attempts), "%" PRIu32, j->attempts);
    nd_log(ND_LOG_WARN, "notification not delivered", "receiver", j->r->name, "type", j->r->t->name,
           "alerts", alerts, "attempts", attempts, "reason", reason, NULL);
}

static void job_give_up(struct job *j, const char *reason)
{
    j->r->stats.failed++;
    log_give_up(j, reason);
    job_end(j);
}

static void on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
    struct job *j = arg;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    /* Still counted in stats.queued: it moves from the timer to the FIFO. */
    j->state = JOB_QUEUED;
    TAILQ_INSERT_TAIL(&j->r->ready, j, wait);
    schedule_pump(j->r, 0);
}

static void on_xfer_done(struct nd_xfer *x, const struct nd_response *rsp)
{
    struct job *j = x->ud;
    struct nd_receiver *r = j->r;
    struct nd_verdict v;

    memset(&v, 0, sizeof(v));
    if (r->t->classify)
        r->t->classify(r->state, rsp, &v);
    else
        nd_classify_http(rsp, &v);
    /* Drop the value only if it is still the one this attempt used: a
     * newer one may have arrived while this request was on the wire. */
    if (v.reprepare && j->used_prep && j->used_prep->gen == j->used_gen) {
        free(j->used_prep->value);
        j->used_prep->value = NULL;
    }
    nd_xfer_deinit(x);
    job_finish_attempt(j, &v);
}

static void fail_verdict(struct nd_verdict *v, enum nd_verdict_kind kind, const char *what,
                         const char *err)
{
    memset(v, 0, sizeof(*v));
    v->kind = kind;
    v->delay_ns = -1;
    snprintf(v->reason, sizeof(v->reason), "%s: %s", what, err);
}

static void job_send(struct job *j, struct nd_prep *p)
{
    struct nd_receiver *r = j->r;
    struct nd_xfer *x = &j->xfer;
    char err[ND_ERRLEN] = "";
    struct nd_verdict v;

    j->state = JOB_IN_FLIGHT;
    memset(x, 0, sizeof(*x));
    nd_request_init(&x->req);
    j->used_prep = p;
    j->used_gen = p ? p->gen : 0;
    if (r->t->build(r->state, j->n, p ? p->value : NULL, &x->req, err) != ND_OK) {
        nd_request_deinit(&x->req);
        fail_verdict(&v, ND_VERDICT_FAILED, "cannot build the request", err);
        job_finish_attempt(j, &v);
        return;
    }
    if (nd_xfer_setup(r->e->cv, x, r->cfg.timeout_ns, err) != ND_OK) {
        nd_request_deinit(&x->req);
        fail_verdict(&v, ND_VERDICT_RETRY, "curl", err);
        job_finish_attempt(j, &v);
        return;
    }
    x->done = on_xfer_done;
    x->ud = j;
    if (r->t->setopt && r->t->setopt(r->state, x->easy, &x->req, err) != ND_OK) {
        nd_xfer_deinit(x);
        fail_verdict(&v, ND_VERDICT_FAILED, "cannot set up the transfer", err);
        job_finish_attempt(j, &v);
        return;
    }
    if (nd_xfer_start(r->e->cv, x, err) != ND_OK) {
        nd_xfer_deinit(x);
        fail_verdict(&v, ND_VERDICT_RETRY, "curl", err);
        job_finish_attempt(j, &v);
    }
}

static struct nd_prep *prep_get(struct nd_engine *e, const char *key)
{
    struct nd_prep *p;

    TAILQ_FOREACH(p, &e->preps, link)
    {
        if (strcmp(p->key, key) == 0)
            return p;
    }
    return NULL;
}

static void on_prep_wake(evutil_socket_t fd, short what, void *arg);

static struct nd_prep *prep_new(struct nd_engine *e, const char *key)
{
    struct nd_prep *p = nd_xcalloc(1, sizeof(*p));

    p->e = e;
    p->key = nd_xstrdup(key);
    TAILQ_INIT(&p->waiters);
    p->wake = evtimer_new(e->base, on_prep_wake, p);
    if (!p->wake)
        abort(); /* only fails on OOM */
    TAILQ_INSERT_TAIL(&e->preps, p, link);
    return p;
}

static void prep_free(struct nd_prep *p)
{
    event_free(p->wake);
    free(p->key);
    free(p->value);
    free(p->result_value);
    free(p->result_err);
    free(p);
}

void nd_prep_done(struct nd_prep *p, const char *value, int64_t ttl_ns, const char *err)
{
    struct timeval zero = {0, 0};

    /* Only record here: the hook may be calling us from inside
     * prepare_start, and the waiters start transfers. */
    free(p->result_value);
    free(p->result_err);
    p->result_value = value && !err ? nd_xstrdup(value) : NULL;
    p->result_err = err || !value ? nd_xstrdup(err ? err : "no value") : NULL;
    p->result_ttl_ns = ttl_ns;
    p->result_ready = true;
    evtimer_add(p->wake, &zero);
}

const char *nd_prep_key(const struct nd_prep *p)
{
    return p->key;
}

static void on_prep_wake(evutil_socket_t fd, short what, void *arg)
{
    struct nd_prep *p = arg;
    struct job *j;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    if (!p->result_ready)
        return;
    p->result_ready = false;
    p->fetching = false;
    if (p->result_value) {
        free(p->value);
        p->value = p->result_value;
        p->result_value = NULL;
        p->gen++;
        p->expires_mono_ns = nd_now_mono_ns() + p->result_ttl_ns;
    }
    while ((j = TAILQ_FIRST(&p->waiters))) {
        TAILQ_REMOVE(&p->waiters, j, wait);
        j->prep = NULL;
        if (p->result_err) {
            struct nd_verdict v;
            fail_verdict(&v, ND_VERDICT_RETRY, "prepare", p->result_err);
            job_finish_attempt(j, &v);
        } else {
            job_send(j, p);
        }
    }
    free(p->result_err);
    p->result_err = NULL;
}

static void job_start_attempt(struct job *j)
{
    struct nd_receiver *r = j->r;
    const char *key;
    struct nd_prep *p;

    j->attempts++;
    if (j->first_mono_ns == 0)
        j->first_mono_ns = nd_now_mono_ns();
    r->active++;
    r->stats.in_flight++;

    if (r->t->sink) {
        struct nd_verdict v;
        memset(&v, 0, sizeof(v));
        v.delay_ns = -1;
        j->state = JOB_IN_FLIGHT;
        r->t->sink(r->state, j->n, &v);
        job_finish_attempt(j, &v);
        return;
    }
    key = r->t->prepare_key ? r->t->prepare_key(r->state) : NULL;
    if (!key) {
        job_send(j, NULL);
        return;
    }
    p = prep_get(r->e, key);
    if (!p)
        p = prep_new(r->e, key);
    if (p->value && p->expires_mono_ns > nd_now_mono_ns()) {
        job_send(j, p);
        return;
    }
    j->state = JOB_PREPARING;
    j->prep = p;
    TAILQ_INSERT_TAIL(&p->waiters, j, wait);
    if (!p->fetching) {
        /* One fetch per key: later jobs just wait on it. */
        p->fetching = true;
        r->t->prepare_start(r->state, r->e, p);
    }
}

static void job_finish_attempt(struct job *j, const struct nd_verdict *v)
{
    struct nd_receiver *r = j->r;
    struct nd_engine *e = r->e;
    int64_t now = nd_now_mono_ns();
    int64_t delay, age;
    struct timeval tv;
    char reason[320];

    r->active--;
    r->stats.in_flight--;
    schedule_pump(r, 0);

    switch (v->kind) {
    case ND_VERDICT_DELIVERED:
        r->stats.delivered++;
        nd_receiver_stats_observe(&r->stats, (double)(now - j->first_mono_ns) / 1e9);
        job_end(j);
        return;
    case ND_VERDICT_FAILED:
        job_give_up(j, v->reason);
        return;
    case ND_VERDICT_RETRY:
        break;
    }
    if (e->deadline_passed) {
        snprintf(reason, sizeof(reason), "shutdown after: %s", v->reason);
        job_give_up(j, reason);
        return;
    }
    if (j->attempts >= r->cfg.retry_max_attempts) {
        snprintf(reason, sizeof(reason), "%" PRIu32 " attempts made, last: %s", j->attempts,
                 v->reason);
        job_give_up(j, reason);
        return;
    }
    if (v->delay_ns >= 0)
        delay = v->delay_ns < r->cfg.retry_max_age_ns ? v->delay_ns : r->cfg.retry_max_age_ns;
    else
        delay = nd_backoff_delay(&r->backoff, j->attempts, nd_backoff_rand, NULL);
    age = now + delay - j->first_mono_ns;
    if (age > r->cfg.retry_max_age_ns) {
        snprintf(reason, sizeof(reason), "retry_max_age reached, last: %s", v->reason);
        job_give_up(j, reason);
        return;
    }
    r->stats.retried++;
    r->stats.queued++;
    j->state = JOB_RETRY_WAIT;
    /* libevent measures timers from its cached loop time, on a coarse
     * monotonic clock (a few ms per tick): refresh the cache, and pad a
     * delay the server asked for by a tick so that it is never cut short. */
    event_base_update_cache_time(e->base);
    tv = ns_to_tv(v->delay_ns > 0 ? delay + RETRY_AFTER_PAD_NS : delay);
    evtimer_add(j->timer, &tv);
    if (nd_log_enabled(ND_LOG_INFO)) {
        char ms[24], att[16];
        snprintf(ms, sizeof(ms), "%" PRId64, delay / ND_NS_PER_MS);
        snprintf(att, sizeof(att), "%" PRIu32, j->attempts);
        nd_log(ND_LOG_INFO, "delivery will be retried", "receiver", r->name, "attempts", att,
               "delay_ms", ms, "reason", v->reason, NULL);
    }
}

static void pump(struct nd_receiver *r)
{
    struct job *j;

    while (r->active < r->cfg.max_in_flight && (j = TAILQ_FIRST(&r->ready))) {
        if (r->t->admit) {
            int64_t d = r->t->admit(r->state, nd_now_mono_ns());
            if (d > 0) {
                schedule_pump(r, d);
                return;
            }
        }
        TAILQ_REMOVE(&r->ready, j, wait);
        r->stats.queued--;
        job_start_attempt(j);
    }
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
    ND_UNUSED(fd);
    ND_UNUSED(what);
    pump(arg);
}

static void schedule_pump(struct nd_receiver *r, int64_t delay_ns)
{
    struct timeval tv = ns_to_tv(delay_ns);

    /* A pending throttle wait is replaced by a sooner pump: the pump asks
     * admit() again and re-arms the wait if needed. */
    evtimer_add(r->pump_ev, &tv);
}

void nd_receiver_submit_take(struct nd_receiver *r, struct nd_notification *n)
{
    struct job *j = nd_xcalloc(1, sizeof(*j));

    j->r = r;
    j->n = n;
    j->state = JOB_QUEUED;
    j->timer = evtimer_new(r->e->base, on_retry_timer, j);
    if (!j->timer)
        abort(); /* only fails on OOM */
    TAILQ_INSERT_TAIL(&r->jobs, j, all);
    r->e->pending++;
    if (r->e->deadline_passed) {
        job_give_up(j, "shutting down");
        return;
    }
    TAILQ_INSERT_TAIL(&r->ready, j, wait);
    r->stats.queued++;
    schedule_pump(r, 0);
}

/* Takes a job out of whatever it waits on, without finishing it. Only from
 * libevent callbacks or plain code (it may remove a curl handle). */
static void job_detach(struct job *j)
{
    struct nd_receiver *r = j->r;

    switch (j->state) {
    case JOB_QUEUED:
        TAILQ_REMOVE(&r->ready, j, wait);
        r->stats.queued--;
        break;
    case JOB_RETRY_WAIT:
        evtimer_del(j->timer);
        r->stats.queued--;
        break;
    case JOB_PREPARING:
        TAILQ_REMOVE(&j->prep->waiters, j, wait);
        j->prep = NULL;
        r->active--;
        r->stats.in_flight--;
        break;
    case JOB_IN_FLIGHT:
        nd_xfer_cancel(r->e->cv, &j->xfer);
        nd_xfer_deinit(&j->xfer);
        r->active--;
        r->stats.in_flight--;
        break;
    }
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct nd_engine *e = arg;
    struct nd_receiver *r;
    struct job *j;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    e->deadline_passed = true;
    TAILQ_FOREACH(r, &e->receivers, link)
    {
        while ((j = TAILQ_FIRST(&r->jobs))) {
            const char *why = j->state == JOB_IN_FLIGHT    ? "shutdown: aborted in flight"
                              : j->state == JOB_RETRY_WAIT ? "shutdown: was waiting for a retry"
                              : j->state == JOB_PREPARING  ? "shutdown: was preparing"
                                                           : "shutdown: still queued";
            job_detach(j);
            job_give_up(j, why);
        }
    }
    check_idle(e);
}

void nd_engine_shutdown(struct nd_engine *e, int64_t timeout_ns, void (*idle)(void *ud), void *ud)
{
    struct timeval tv = ns_to_tv(timeout_ns);

    if (e->shutting_down)
        return;
    e->shutting_down = true;
    e->idle = idle;
    e->idle_ud = ud;
    evtimer_add(e->deadline_ev, &tv);
    check_idle(e);
}

size_t nd_engine_pending(const struct nd_engine *e)
{
    return e->pending;
}

struct nd_engine *nd_engine_new(struct event_base *base, const struct nd_template_set *templates,
                                char *err)
{
    struct nd_engine *e = nd_xcalloc(1, sizeof(*e));

    e->base = base;
    e->templates = templates;
    TAILQ_INIT(&e->receivers);
    TAILQ_INIT(&e->preps);
    TAILQ_INIT(&e->fetches);
    e->cv = nd_curlev_new(base, err);
    if (!e->cv) {
        free(e);
        return NULL;
    }
    e->deadline_ev = evtimer_new(base, on_deadline, e);
    e->idle_ev = evtimer_new(base, on_idle, e);
    if (!e->deadline_ev || !e->idle_ev) {
        nd_seterr(err, ND_ERR, "cannot create engine timers");
        nd_engine_free(e);
        return NULL;
    }
    return e;
}

static void fetch_end(struct fetch *f, const struct nd_response *rsp)
{
    struct nd_engine *e = f->e;

    TAILQ_REMOVE(&e->fetches, f, link);
    f->cb(rsp, f->ud);
    nd_xfer_deinit(&f->xfer);
    if (f->fail_ev)
        event_free(f->fail_ev);
    free(f);
}

static void fake_response(struct nd_response *rsp, int code, const char *msg)
{
    memset(rsp, 0, sizeof(*rsp));
    rsp->curl_code = code;
    rsp->curl_error = msg;
    rsp->now_wall_ns = nd_now_wall_ns();
}

void nd_engine_free(struct nd_engine *e)
{
    struct nd_receiver *r;
    struct nd_prep *p;
    struct fetch *f;

    if (!e)
        return;
    /* Fetch callbacks first: they may report to preps and type states. */
    while ((f = TAILQ_FIRST(&e->fetches))) {
        struct nd_response rsp;
        fake_response(&rsp, CURLE_ABORTED_BY_CALLBACK, "engine freed");
        nd_xfer_cancel(e->cv, &f->xfer);
        fetch_end(f, &rsp);
    }
    while ((r = TAILQ_FIRST(&e->receivers))) {
        struct job *j;
        TAILQ_REMOVE(&e->receivers, r, link);
        while ((j = TAILQ_FIRST(&r->jobs))) {
            job_detach(j);
            TAILQ_REMOVE(&r->jobs, j, all);
            event_free(j->timer);
            nd_notification_unref(j->n);
            free(j);
        }
        if (r->state && r->t->free_state)
            r->t->free_state(r->state);
        event_free(r->pump_ev);
        free(r->name);
        free(r);
    }
    while ((p = TAILQ_FIRST(&e->preps))) {
        TAILQ_REMOVE(&e->preps, p, link);
        prep_free(p);
    }
    nd_curlev_free(e->cv);
    if (e->deadline_ev)
        event_free(e->deadline_ev);
    if (e->idle_ev)
        event_free(e->idle_ev);
    free(e);
}

static void on_fetch_done(struct nd_xfer *x, const struct nd_response *rsp)
{
    fetch_end(x->ud, rsp);
}

static void on_fetch_fail(evutil_socket_t fd, short what, void *arg)
{
    struct fetch *f = arg;
    struct nd_response rsp;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    fake_response(&rsp, CURLE_FAILED_INIT, f->err);
    fetch_end(f, &rsp);
}

void nd_engine_fetch_take(struct nd_engine *e, struct nd_request *req, int64_t timeout_ns,
                          nd_fetch_cb *done, void *ud)
{
    struct fetch *f = nd_xcalloc(1, sizeof(*f));
    struct timeval zero = {0, 0};

    f->e = e;
    f->cb = done;
    f->ud = ud;
    f->xfer.req = *req;
    memset(req, 0, sizeof(*req));
    f->xfer.done = on_fetch_done;
    f->xfer.ud = f;
    TAILQ_INSERT_TAIL(&e->fetches, f, link);
    if (nd_xfer_setup(e->cv, &f->xfer, timeout_ns, f->err) == ND_OK &&
        nd_xfer_start(e->cv, &f->xfer, f->err) == ND_OK)
        return;
    /* The caller must not be called back from inside this call. */
    f->fail_ev = evtimer_new(e->base, on_fetch_fail, f);
    if (!f->fail_ev)
        abort();
    evtimer_add(f->fail_ev, &zero);
}

struct nd_receiver *nd_receiver_new(struct nd_engine *e, struct nd_receiver_config *rc,
                                    const struct nd_delivery_config *defaults,
                                    struct nd_config_errors *errs)
{
    const struct nd_receiver_type *t;
    struct nd_receiver *r;
    struct nd_delivery_config cfg;
    void *state;

    if (nd__receiver_configure(rc, defaults, e->templates, &t, &cfg, &state, errs) != ND_OK)
        return NULL;
    r = nd_xcalloc(1, sizeof(*r));
    r->e = e;
    r->name = nd_xstrdup(rc->name);
    r->t = t;
    r->state = state;
    r->cfg = cfg;
    r->backoff.initial_ns = cfg.retry_initial_ns;
    r->backoff.factor = cfg.retry_factor;
    r->backoff.max_ns = cfg.retry_max_ns;
    r->backoff.jitter = cfg.retry_jitter;
    TAILQ_INIT(&r->ready);
    TAILQ_INIT(&r->jobs);
    r->pump_ev = evtimer_new(e->base, on_pump, r);
    if (!r->pump_ev)
        abort();
    TAILQ_INSERT_TAIL(&e->receivers, r, link);
    e->slots += (long)cfg.max_in_flight;
    /* + a few for one-off fetches (tokens) */
    nd_curlev_set_maxconnects(e->cv, e->slots + 8);
    return r;
}

const char *nd_receiver_name(const struct nd_receiver *r)
{
    return r->name;
}

const char *nd_receiver_type(const struct nd_receiver *r)
{
    return r->t->name;
}

const struct nd_receiver_stats *nd_receiver_stats(const struct nd_receiver *r)
{
    return &r->stats;
}
