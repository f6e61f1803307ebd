/* engine.c - delivery jobs: queueing, concurrency, prepare, retries,
 * shutdown. The lifecycle is described in docs/delivery.md; in short:
 *
 *   submit -> QUEUED (receiver FIFO) -> [PREPARING] -> IN_FLIGHT
 *          -> delivered | RETRY_WAIT (receiver heap) -> QUEUED ... | given up
 *
 * A job occupies one of the receiver's max_in_flight slots while it is
 * PREPARING or IN_FLIGHT; QUEUED and RETRY_WAIT jobs wait in our memory,
 * never inside curl, so curl's timeout measures only the attempt.
 *
 * Memory: behind a receiver that is down, every notification waits as a
 * job for up to retry_max_age, so a waiting job holds only what it needs
 * between attempts (struct job, 40 bytes on LP64). What an attempt needs
 * (the transfer with its buffers and curl error buffer, the prepare value
 * it waits on or was built with) is a struct attempt, which exists only
 * while the job holds a slot: at most max_in_flight per receiver, reused
 * through a spare list. A RETRY_WAIT job has no timer of its own either:
 * it sits in its receiver's min-heap of due times, under one timer per
 * receiver armed for the earliest.
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

/* Smallest retry heap array, in entries: it never shrinks below this. */
#define RETRY_HEAP_MIN 16

enum job_state { JOB_QUEUED, JOB_PREPARING, JOB_IN_FLIGHT, JOB_RETRY_WAIT };

struct job;

/* One attempt of one job: from taking a slot to the verdict. */
struct attempt {
    TAILQ_ENTRY(attempt) link; /* receiver's attempts, or the engine's spares */
    TAILQ_ENTRY(attempt) wait; /* a prep's waiters, while PREPARING */
    struct nd_receiver *r;
    struct job *job;
    struct nd_prep *prep;      /* while PREPARING */
    struct nd_prep *used_prep; /* the value this attempt was built with, */
    uint64_t used_gen;         /* and its generation (see reprepare) */
    struct nd_xfer xfer;       /* while IN_FLIGHT */
};
TAILQ_HEAD(attempt_list, attempt);

/* A notification to deliver to one receiver. The job does not point to
 * its receiver: every path that reaches a job comes from the receiver (its
 * FIFO, heap or attempts), and 8 bytes per waiting job are worth it. */
struct job {
    union {
        TAILQ_ENTRY(job) fifo; /* QUEUED: the receiver's ready FIFO */
        struct attempt *att;   /* PREPARING, IN_FLIGHT */
        uint32_t heap_idx;     /* RETRY_WAIT: index in the receiver's retry heap */
    } u;
    struct nd_notification *n; /* one reference, dropped in job_end */
    int64_t first_mono_ns;     /* start of the first attempt, 0 before */
    uint32_t attempts;         /* attempts started */
    uint8_t state;             /* enum job_state */
};
TAILQ_HEAD(job_list, job);

/* The key lives in the array, so sifting compares without touching jobs. */
struct retry_slot {
    int64_t due_ns;
    uint64_t seq; /* push order: equal due times leave in the order they came */
    struct job *job;
};

/* Min-heap of RETRY_WAIT jobs by (due_ns, seq). */
struct retry_heap {
    struct retry_slot *v;
    uint32_t n, cap;
    uint64_t seq;
};

struct nd_receiver {
    TAILQ_ENTRY(nd_receiver) link;
    struct nd_engine *e;
    char *name;
    const struct nd_receiver_type *t;
    void *state;
    struct nd_delivery_config cfg;
    struct nd_backoff backoff;
    struct nd_receiver_stats stats;
    struct job_list ready;        /* FIFO waiting for a slot */
    struct attempt_list attempts; /* jobs holding a slot: PREPARING + IN_FLIGHT */
    struct retry_heap retry;      /* RETRY_WAIT jobs */
    uint32_t active;              /* slots used: PREPARING + IN_FLIGHT */
    struct event *pump_ev;        /* deferred pump, also the throttle's wait */
    struct event *retry_ev;       /* armed for the earliest due retry */
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
    struct attempt_list waiters;
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
    struct attempt_list spares; /* ended attempts kept for reuse, at most `slots` */
    size_t nspares;
    size_t nattempts; /* attempts holding a slot, every receiver */
    size_t pending;
    long slots; /* sum of max_in_flight: the idle connection pool's size */
    bool shutting_down;
    bool deadline_passed;
    bool idle_called;
    void (*idle)(void *ud);
    void *idle_ud;
    struct event *deadline_ev;
    struct event *idle_ev;
    int64_t (*now)(void); /* monotonic ns: nd_now_mono_ns, or a test's clock */
};

static void job_finish_attempt(struct attempt *a, const struct nd_verdict *v);
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

/* ns rounded up to a whole millisecond (0 when ns <= 0). */
static struct timeval ns_to_tv_ceil_ms(int64_t ns)
{
    struct timeval tv = {0, 0};
    int64_t ms;

    if (ns > 0) {
        ms = ns / ND_NS_PER_MS + (ns % ND_NS_PER_MS != 0);
        tv.tv_sec = (time_t)(ms / 1000);
        tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
    }
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

/* ---- the retry heap ---------------------------------------------------- */

static bool slot_before(const struct retry_slot *a, const struct retry_slot *b)
{
    return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void heap_put(struct retry_heap *h, uint32_t i, const struct retry_slot *s)
{
    h->v[i] = *s;
    s->job->u.heap_idx = i;
}

static void heap_up(struct retry_heap *h, uint32_t i)
{
    struct retry_slot s = h->v[i];

    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!slot_before(&s, &h->v[parent]))
            break;
        heap_put(h, i, &h->v[parent]);
        i = parent;
    }
    heap_put(h, i, &s);
}

static void heap_down(struct retry_heap *h, uint32_t i)
{
    struct retry_slot s = h->v[i];

    for (;;) {
        /* 64-bit: 2 * i + 1 may not fit in 32 bits near the top. */
        uint64_t c = 2 * (uint64_t)i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && slot_before(&h->v[c + 1], &h->v[c]))
            c++;
        if (!slot_before(&h->v[c], &s))
            break;
        heap_put(h, i, &h->v[c]);
        i = (uint32_t)c;
    }
    heap_put(h, i, &s);
}

static void heap_resize(struct retry_heap *h, uint32_t cap)
{
    h->v = nd_xrealloc(h->v, (size_t)cap * sizeof(*h->v));
    h->cap = cap;
}

static void heap_push(struct retry_heap *h, struct job *j, int64_t due_ns)
{
    struct retry_slot s = {due_ns, h->seq++, j};

    if (h->n == h->cap) {
        /* Doubling with no ceiling of its own: every entry is a job, and
         * jobs are bounded already, by [queue] max_alerts (a notification
         * holds at least one alert). 2^31 jobs would need hundreds of GiB
         * first, so running out of indexes is treated like OOM. */
        if (h->cap > UINT32_MAX / 2)
            abort();
        heap_resize(h, h->cap ? h->cap * 2 : RETRY_HEAP_MIN);
    }
    h->v[h->n] = s;
    heap_up(h, h->n++);
}

/* Removes the entry at i and returns its job. */
static struct job *heap_remove(struct retry_heap *h, uint32_t i)
{
    struct job *j = h->v[i].job;

    h->n--;
    if (i < h->n) {
        h->v[i] = h->v[h->n];
        if (i > 0 && slot_before(&h->v[i], &h->v[(i - 1) / 2]))
            heap_up(h, i);
        else
            heap_down(h, i);
    }
    /* Give memory back after a burst; halving at a quarter full keeps a
     * push/remove pair at the boundary from resizing every time. */
    if (h->cap > RETRY_HEAP_MIN && h->n <= h->cap / 4)
        heap_resize(h, h->cap / 2);
    return j;
}

/* Arms the receiver's retry timer for its earliest due job (or stops it).
 * Called whenever the heap's top changes. */
static void retry_arm(struct nd_receiver *r)
{
    struct retry_heap *h = &r->retry;
    int64_t wait;
    struct timeval tv;

    if (h->n == 0) {
        evtimer_del(r->retry_ev);
        return;
    }
    /* Rounded up to a millisecond: no retry needs finer, and a timer that
     * fires early (libevent measures from its cached loop time, on a
     * coarse monotonic clock) finds nothing due and re-arms for at least
     * 1 ms instead of spinning. Refreshing the cache keeps that rare. */
    wait = h->v[0].due_ns - r->e->now();
    tv = ns_to_tv_ceil_ms(wait);
    event_base_update_cache_time(r->e->base);
    evtimer_add(r->retry_ev, &tv);
}

static void retry_wait(struct nd_receiver *r, struct job *j, int64_t due_ns)
{
    j->state = JOB_RETRY_WAIT;
    heap_push(&r->retry, j, due_ns);
    if (j->u.heap_idx == 0)
        retry_arm(r);
}

/* Every job due moves to the back of the FIFO, earliest first. */
static void on_retry_due(evutil_socket_t fd, short what, void *arg)
{
    struct nd_receiver *r = arg;
    struct retry_heap *h = &r->retry;
    int64_t now = r->e->now();
    bool moved = false;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    while (h->n > 0 && h->v[0].due_ns <= now) {
        struct job *j = heap_remove(h, 0);
        /* Still counted in stats.queued: it moves from the heap to the FIFO. */
        j->state = JOB_QUEUED;
        TAILQ_INSERT_TAIL(&r->ready, j, u.fifo);
        moved = true;
    }
    retry_arm(r);
    if (moved)
        schedule_pump(r, 0);
}

/* ---- attempts ---------------------------------------------------------- */

/* Takes a slot for j: an attempt from the spares (or a new one). */
static struct attempt *attempt_begin(struct nd_receiver *r, struct job *j)
{
    struct nd_engine *e = r->e;
    struct attempt *a = TAILQ_FIRST(&e->spares);

    if (a) {
        TAILQ_REMOVE(&e->spares, a, link);
        e->nspares--;
        memset(a, 0, sizeof(*a));
    } else {
        a = nd_xcalloc(1, sizeof(*a));
    }
    a->r = r;
    a->job = j;
    j->u.att = a;
    TAILQ_INSERT_TAIL(&r->attempts, a, link);
    e->nattempts++;
    r->active++;
    r->stats.in_flight++;
    return a;
}

/* Gives the slot back; the job is the caller's again. The transfer must
 * be deinitialised (or never set up). */
static void attempt_end(struct attempt *a)
{
    struct nd_receiver *r = a->r;
    struct nd_engine *e = r->e;

    TAILQ_REMOVE(&r->attempts, a, link);
    e->nattempts--;
    r->active--;
    r->stats.in_flight--;
    /* Never more spares than slots: that many attempts can be live at
     * once anyway, and a spare saves a 488-byte calloc per attempt. */
    if (e->nspares < (size_t)e->slots) {
        TAILQ_INSERT_HEAD(&e->spares, a, link);
        e->nspares++;
    } else {
        free(a);
    }
}

/* ---- jobs -------------------------------------------------------------- */

static void job_end(struct nd_receiver *r, struct job *j)
{
    struct nd_engine *e = r->e;

    nd_notification_unref(j->n);
    free(j);
    e->pending--;
    check_idle(e);
}

static void log_give_up(const struct nd_receiver *r, const struct job *j, const char *reason)
{
    char alerts[24], attempts[16];

    snprintf(alerts, sizeof(alerts), "%zu", j->n->nalerts);
    snprintf(attempts, sizeof(attempts), "%" PRIu32, j->attempts);
    nd_log(ND_LOG_WARN, "notification not delivered", "receiver", r->name, "type", r->t->name,
           "alerts", alerts, "attempts", attempts, "reason", reason, NULL);
}

static void job_give_up(struct nd_receiver *r, struct job *j, const char *reason)
{
    r->stats.failed++;
    log_give_up(r, j, reason);
    job_end(r, j);
}

static void on_xfer_done(struct nd_xfer *x, const struct nd_response *rsp)
{
    struct attempt *a = x->ud;
    struct nd_receiver *r = a->r;
    struct nd_verdict v;

    memset(&v, 0, sizeof(v));
    if (r->t->classify)
        r->t->classify(r->state, rsp, &v);
    else
        nd_classify_http(rsp, &v);
    /* Drop the value only if it is still the one this attempt used: a
     * newer one may have arrived while this request was on the wire. */
    if (v.reprepare && a->used_prep && a->used_prep->gen == a->used_gen) {
        free(a->used_prep->value);
        a->used_prep->value = NULL;
    }
    nd_xfer_deinit(x);
    job_finish_attempt(a, &v);
}

static void fail_verdict(struct nd_verdict *v, enum nd_verdict_kind kind, const char *what,
                         const char *err)
{
    memset(v, 0, sizeof(*v));
    v->kind = kind;
    v->delay_ns = -1;
    snprintf(v->reason, sizeof(v->reason), "%s: %s", what, err);
}

static void job_send(struct attempt *a, struct nd_prep *p)
{
    struct nd_receiver *r = a->r;
    struct nd_xfer *x = &a->xfer;
    char err[ND_ERRLEN] = "";
    struct nd_verdict v;

    a->job->state = JOB_IN_FLIGHT;
    memset(x, 0, sizeof(*x));
    nd_request_init(&x->req);
    a->used_prep = p;
    a->used_gen = p ? p->gen : 0;
    if (r->t->build(r->state, a->job->n, p ? p->value : NULL, &x->req, err) != ND_OK) {
        nd_request_deinit(&x->req);
        fail_verdict(&v, ND_VERDICT_FAILED, "cannot build the request", err);
        job_finish_attempt(a, &v);
        return;
    }
    if (nd_xfer_setup(r->e->cv, x, r->cfg.timeout_ns, err) != ND_OK) {
        nd_request_deinit(&x->req);
        fail_verdict(&v, ND_VERDICT_RETRY, "curl", err);
        job_finish_attempt(a, &v);
        return;
    }
    x->done = on_xfer_done;
    x->ud = a;
    if (r->t->setopt && r->t->setopt(r->state, x->easy, &x->req, err) != ND_OK) {
        nd_xfer_deinit(x);
        fail_verdict(&v, ND_VERDICT_FAILED, "cannot set up the transfer", err);
        job_finish_attempt(a, &v);
        return;
    }
    if (nd_xfer_start(r->e->cv, x, err) != ND_OK) {
        nd_xfer_deinit(x);
        fail_verdict(&v, ND_VERDICT_RETRY, "curl", err);
        job_finish_attempt(a, &v);
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
    struct attempt *a;

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
        p->expires_mono_ns = p->e->now() + p->result_ttl_ns;
    }
    while ((a = TAILQ_FIRST(&p->waiters))) {
        TAILQ_REMOVE(&p->waiters, a, wait);
        a->prep = NULL;
        if (p->result_err) {
            struct nd_verdict v;
            fail_verdict(&v, ND_VERDICT_RETRY, "prepare", p->result_err);
            job_finish_attempt(a, &v);
        } else {
            job_send(a, p);
        }
    }
    free(p->result_err);
    p->result_err = NULL;
}

static void job_start_attempt(struct nd_receiver *r, struct job *j)
{
    struct nd_engine *e = r->e;
    struct attempt *a;
    const char *key;
    struct nd_prep *p;

    j->attempts++;
    if (j->first_mono_ns == 0)
        j->first_mono_ns = e->now();
    a = attempt_begin(r, j);

    if (r->t->sink) {
        struct nd_verdict v;
        memset(&v, 0, sizeof(v));
        v.delay_ns = -1;
        j->state = JOB_IN_FLIGHT;
        r->t->sink(r->state, j->n, &v);
        job_finish_attempt(a, &v);
        return;
    }
    key = r->t->prepare_key ? r->t->prepare_key(r->state) : NULL;
    if (!key) {
        job_send(a, NULL);
        return;
    }
    p = prep_get(e, key);
    if (!p)
        p = prep_new(e, key);
    if (p->value && p->expires_mono_ns > e->now()) {
        job_send(a, p);
        return;
    }
    j->state = JOB_PREPARING;
    a->prep = p;
    TAILQ_INSERT_TAIL(&p->waiters, a, wait);
    if (!p->fetching) {
        /* One fetch per key: later jobs just wait on it. */
        p->fetching = true;
        r->t->prepare_start(r->state, e, p);
    }
}

/* a + b for a due time, saturated: retry_max_age may be close to INT64_MAX. */
static int64_t add_sat(int64_t a, int64_t b)
{
    return b > INT64_MAX - a ? INT64_MAX : a + b;
}

static void job_finish_attempt(struct attempt *a, const struct nd_verdict *v)
{
    struct nd_receiver *r = a->r;
    struct job *j = a->job;
    struct nd_engine *e = r->e;
    int64_t now = e->now();
    int64_t delay, age;
    char reason[320];

    attempt_end(a);
    schedule_pump(r, 0);

    switch (v->kind) {
    case ND_VERDICT_DELIVERED:
        r->stats.delivered++;
        nd_receiver_stats_observe(&r->stats, (double)(now - j->first_mono_ns) / 1e9);
        job_end(r, j);
        return;
    case ND_VERDICT_FAILED:
        job_give_up(r, j, v->reason);
        return;
    case ND_VERDICT_RETRY:
        break;
    }
    if (e->deadline_passed) {
        snprintf(reason, sizeof(reason), "shutdown after: %s", v->reason);
        job_give_up(r, j, reason);
        return;
    }
    if (j->attempts >= r->cfg.retry_max_attempts) {
        snprintf(reason, sizeof(reason), "%" PRIu32 " attempts made, last: %s", j->attempts,
                 v->reason);
        job_give_up(r, j, reason);
        return;
    }
    if (v->delay_ns >= 0)
        delay = v->delay_ns < r->cfg.retry_max_age_ns ? v->delay_ns : r->cfg.retry_max_age_ns;
    else
        delay = nd_backoff_delay(&r->backoff, j->attempts, nd_backoff_rand, NULL);
    age = add_sat(now - j->first_mono_ns,
                  delay); /* no signed overflow: delay may be near INT64_MAX */
    if (age > r->cfg.retry_max_age_ns) {
        snprintf(reason, sizeof(reason), "retry_max_age reached, last: %s", v->reason);
        job_give_up(r, j, reason);
        return;
    }
    r->stats.retried++;
    r->stats.queued++;
    /* A delay the server asked for (Retry-After) is a lower bound: pad it
     * by a coarse clock tick so that the retry never lands inside the
     * server's window, whoever's clock rounds. */
    retry_wait(r, j, add_sat(now, v->delay_ns > 0 ? add_sat(delay, RETRY_AFTER_PAD_NS) : delay));
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
            int64_t d = r->t->admit(r->state, r->e->now());
            if (d > 0) {
                schedule_pump(r, d);
                return;
            }
        }
        TAILQ_REMOVE(&r->ready, j, u.fifo);
        r->stats.queued--;
        job_start_attempt(r, j);
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

    j->n = n;
    j->state = JOB_QUEUED;
    r->e->pending++;
    if (r->e->deadline_passed) {
        job_give_up(r, j, "shutting down");
        return;
    }
    TAILQ_INSERT_TAIL(&r->ready, j, u.fifo);
    r->stats.queued++;
    schedule_pump(r, 0);
}

/* Takes a job out of whatever it waits on, without finishing it. Only from
 * libevent callbacks or plain code (it may remove a curl handle). */
static void job_detach(struct nd_receiver *r, struct job *j)
{
    struct attempt *a;
    uint32_t i;

    switch ((enum job_state)j->state) {
    case JOB_QUEUED:
        TAILQ_REMOVE(&r->ready, j, u.fifo);
        r->stats.queued--;
        break;
    case JOB_RETRY_WAIT:
        i = j->u.heap_idx;
        heap_remove(&r->retry, i);
        if (i == 0)
            retry_arm(r);
        r->stats.queued--;
        break;
    case JOB_PREPARING:
        a = j->u.att;
        TAILQ_REMOVE(&a->prep->waiters, a, wait);
        attempt_end(a);
        break;
    case JOB_IN_FLIGHT:
        a = j->u.att;
        nd_xfer_cancel(r->e->cv, &a->xfer);
        nd_xfer_deinit(&a->xfer);
        attempt_end(a);
        break;
    }
}

/* Some job of r, or NULL when it has none. Jobs in the heap are taken from
 * its end, which removes them without sifting. */
static struct job *any_job(const struct nd_receiver *r)
{
    if (!TAILQ_EMPTY(&r->attempts))
        return TAILQ_FIRST(&r->attempts)->job;
    if (!TAILQ_EMPTY(&r->ready))
        return TAILQ_FIRST(&r->ready);
    if (r->retry.n > 0)
        return r->retry.v[r->retry.n - 1].job;
    return NULL;
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
        while ((j = any_job(r))) {
            const char *why = j->state == JOB_IN_FLIGHT    ? "shutdown: aborted in flight"
                              : j->state == JOB_RETRY_WAIT ? "shutdown: was waiting for a retry"
                              : j->state == JOB_PREPARING  ? "shutdown: was preparing"
                                                           : "shutdown: still queued";
            job_detach(r, j);
            job_give_up(r, j, why);
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
    e->now = nd_now_mono_ns;
    TAILQ_INIT(&e->receivers);
    TAILQ_INIT(&e->preps);
    TAILQ_INIT(&e->fetches);
    TAILQ_INIT(&e->spares);
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
    struct attempt *a;

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
        while ((j = any_job(r))) {
            job_detach(r, j);
            nd_notification_unref(j->n);
            free(j);
        }
        if (r->state && r->t->free_state)
            r->t->free_state(r->state);
        event_free(r->pump_ev);
        event_free(r->retry_ev);
        free(r->retry.v);
        free(r->name);
        free(r);
    }
    while ((a = TAILQ_FIRST(&e->spares))) {
        TAILQ_REMOVE(&e->spares, a, link);
        free(a);
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
    TAILQ_INIT(&r->attempts);
    r->pump_ev = evtimer_new(e->base, on_pump, r);
    r->retry_ev = evtimer_new(e->base, on_retry_due, r);
    if (!r->pump_ev || !r->retry_ev)
        abort(); /* only fails on OOM */
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

/* ---- probes for the tests (notify_int.h) ------------------------------- */

void nd__engine_set_clock(struct nd_engine *e, int64_t (*now)(void))
{
    e->now = now ? now : nd_now_mono_ns;
}

size_t nd__job_size(void)
{
    return sizeof(struct job);
}

size_t nd__receiver_retry_waiting(const struct nd_receiver *r)
{
    return r->retry.n;
}

size_t nd__receiver_retry_capacity(const struct nd_receiver *r)
{
    return r->retry.cap;
}

void nd__engine_attempts(const struct nd_engine *e, size_t *live, size_t *spare)
{
    *live = e->nattempts;
    *spare = e->nspares;
}
