/* engine.c - delivery jobs: queueing, concurrency, attempts, retries,
 * shutdown. The retry queue is in retryq.c, the prepare cache and
 * one-off fetches in prep.c; the state they share is in engine_int.h.
 * The lifecycle is described in docs/delivery.md; in short:
 *
 *   submit -> QUEUED (receiver FIFO) -> [PREPARING] -> IN_FLIGHT
 *          -> delivered | RETRY_WAIT (receiver heap) -> QUEUED ... | given up
 *
 * A notification of a type with a `parts` hook is a struct fanout: one
 * job per lane (struct part_job, a struct job followed by its lane and
 * chunk), each going through the same states; a lane's job, once its
 * chunk is delivered, goes back to QUEUED with the next chunk. A plain
 * notification keeps its 56-byte job; `part` sits in the padding.
 *
 * A job occupies one of the receiver's max_in_flight slots while it is
 * PREPARING or IN_FLIGHT; QUEUED and RETRY_WAIT jobs wait in our memory,
 * never inside curl, so curl's timeout measures only the attempt.
 *
 * Memory: behind a receiver that is down, every notification waits as a
 * job for up to retry_max_age, so a waiting job holds only what it needs
 * between attempts (struct job, 56 bytes on LP64). What an attempt needs
 * (the transfer with its buffers and curl error buffer, the prepare value
 * it waits on or was built with) is a struct attempt, which exists only
 * while the job holds a slot: at most max_in_flight per receiver, reused
 * through a spare list. A RETRY_WAIT job has no timer of its own either:
 * it sits in its receiver's min-heap of due times, under one timer per
 * receiver armed for the earliest (retryq.c).
 *
 * Backlog: every notification a receiver holds is also on its backlog
 * list in submission order (the job, or lane 0 of a fanout), counted in
 * its stats until it ends. With overflow = drop_oldest a submission that
 * overfills it drops the oldest waiting notifications right away, so that
 * the alerts only this receiver held leave the global queue.
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

#include "notifyd/log.h"
#include "notifyd/parse.h"
#include "notifyd/util.h"
#include "engine_int.h"

/* See nd__job_finish_attempt: a Retry-After is a lower bound. */
#define RETRY_AFTER_PAD_NS (10 * ND_NS_PER_MS)

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

/* ---- backlog ----------------------------------------------------------- */

static uint64_t notification_bytes(const struct nd_notification *n)
{
    uint64_t b = 0;

    for (size_t i = 0; i < n->nalerts; i++)
        b += n->alerts[i]->size;
    return b;
}

/* Counts a notification the receiver now holds: j is its job, or lane 0
 * of its fanout. */
static void backlog_add(struct nd_receiver *r, struct job *j)
{
    struct nd_receiver_stats *s = &r->stats;

    if (TAILQ_EMPTY(&r->backlog))
        s->backlog_oldest_ns = j->n->created_ns;
    TAILQ_INSERT_TAIL(&r->backlog, j, backlog);
    s->backlog_notifications++;
    s->backlog_alerts += j->n->nalerts;
    s->backlog_bytes += notification_bytes(j->n);
}

/* The notification ended (delivered, given up, dropped or discarded):
 * called before its reference is dropped. */
static void backlog_remove(struct nd_receiver *r, struct job *j)
{
    struct nd_receiver_stats *s = &r->stats;
    bool was_oldest = TAILQ_FIRST(&r->backlog) == j;
    struct job *head;

    TAILQ_REMOVE(&r->backlog, j, backlog);
    s->backlog_notifications--;
    s->backlog_alerts -= j->n->nalerts;
    s->backlog_bytes -= notification_bytes(j->n);
    if (was_oldest) {
        head = TAILQ_FIRST(&r->backlog);
        s->backlog_oldest_ns = head ? head->n->created_ns : 0;
    }
}

/* ---- jobs -------------------------------------------------------------- */

static void fanout_free(struct nd_receiver *r, struct fanout *fo)
{
    backlog_remove(r, &fo->lane[0].j);
    if (fo->ud && r->t->free_parts)
        r->t->free_parts(r->state, fo->ud);
    nd_notification_unref(fo->n);
    free(fo);
}

/* Ends a lane (its job is done with); true when it was the last one, and
 * the fanout is freed. */
static bool lane_end(struct nd_receiver *r, struct part_job *pj)
{
    struct fanout *fo = pj->fo;

    if (--fo->live > 0)
        return false;
    fanout_free(r, fo);
    return true;
}

/* Frees a job without counting anything (nd_engine_free). */
static void job_discard(struct nd_receiver *r, struct job *j)
{
    if (j->part) {
        j->state = JOB_DONE;
        lane_end(r, (struct part_job *)j);
        return;
    }
    backlog_remove(r, j);
    nd_notification_unref(j->n);
    free(j);
}

static void job_end(struct nd_receiver *r, struct job *j)
{
    struct nd_engine *e = r->e;

    if (j->part) {
        j->state = JOB_DONE;
        if (!lane_end(r, (struct part_job *)j))
            return;
    } else {
        backlog_remove(r, j);
        nd_notification_unref(j->n);
        free(j);
    }
    e->pending--;
    r->pending--;
    /* A retired receiver is freed from its pump, never from here: the
     * callers of job_end still use r. */
    if (r->retired && r->pending == 0)
        nd__schedule_pump(r, 0);
    check_idle(e);
}

/* The outcome hook (engine.h), once per notification: when it is counted
 * delivered or failed. */
static void report_outcome(struct nd_receiver *r, const struct job *j, const char *failure)
{
    if (r->outcome)
        r->outcome(r->outcome_ud, r, j->n, failure);
    if (r->e->outcome)
        r->e->outcome(r->e->outcome_ud, r, j->n, failure);
}

static void log_give_up(const struct nd_receiver *r, const struct job *j, const char *msg,
                        const char *reason)
{
    const struct part_job *pj = (const struct part_job *)j;
    char alerts[24], attempts[16], lane[24], chunk[24];

    snprintf(alerts, sizeof(alerts), "%zu", j->n->nalerts);
    snprintf(attempts, sizeof(attempts), "%" PRIu32, j->attempts);
    if (!j->part) {
        nd_log(ND_LOG_WARN, msg, "receiver", r->name, "type", r->t->name, "alerts", alerts,
               "attempts", attempts, "reason", reason, NULL);
        return;
    }
    /* 1-based "k/n", as a reader counts chunks and lanes. */
    snprintf(lane, sizeof(lane), "%" PRIu32 "/%" PRIu32, pj->lane + 1, pj->fo->lanes);
    snprintf(chunk, sizeof(chunk), "%" PRIu32 "/%" PRIu32, pj->chunk + 1, pj->fo->chunks);
    nd_log(ND_LOG_WARN, msg, "receiver", r->name, "type", r->t->name, "alerts", alerts, "lane",
           lane, "chunk", chunk, "attempts", attempts, "reason", reason, NULL);
}

/* A part given up fails its notification once; the lane's later chunks
 * are never queued. A part of another lane given up after that is only
 * logged. */
static void job_give_up(struct nd_receiver *r, struct job *j, const char *reason)
{
    if (j->part && ((struct part_job *)j)->fo->failed) {
        log_give_up(r, j, "request not delivered (notification already failed)", reason);
    } else {
        if (j->part)
            ((struct part_job *)j)->fo->failed = true;
        r->stats.failed++;
        log_give_up(r, j, "notification not delivered", reason);
        report_outcome(r, j, reason);
    }
    job_end(r, j);
}

static void job_delivered(struct nd_receiver *r, struct job *j, int64_t now)
{
    struct part_job *pj;
    struct fanout *fo;

    if (!j->part) {
        r->stats.delivered++;
        nd_receiver_stats_observe(&r->stats, (double)(now - j->first_mono_ns) / 1e9);
        report_outcome(r, j, NULL);
        job_end(r, j);
        return;
    }
    pj = (struct part_job *)j;
    fo = pj->fo;
    if (pj->chunk + 1 < fo->chunks) {
        /* The lane's next chunk: a fresh job (own attempts, own age) at
         * the back of the FIFO; the pump is already scheduled. */
        pj->chunk++;
        j->attempts = 0;
        j->reprepared = 0;
        j->first_mono_ns = 0;
        j->state = JOB_QUEUED;
        TAILQ_INSERT_TAIL(&r->ready, j, u.fifo);
        r->stats.queued++;
        return;
    }
    if (fo->live == 1 && !fo->failed) {
        r->stats.delivered++;
        nd_receiver_stats_observe(&r->stats, (double)(now - fo->first_mono_ns) / 1e9);
        report_outcome(r, j, NULL);
    }
    job_end(r, j);
}

static void on_xfer_done(struct nd_xfer *x, const struct nd_response *rsp)
{
    struct attempt *a = x->ud;
    struct nd_receiver *r = a->r;
    struct nd_verdict v;

    /* A classify that says RETRY and leaves the delay alone gets the
     * backoff (receiver.h): -1, not 0, which would retry at once. */
    memset(&v, 0, sizeof(v));
    v.delay_ns = -1;
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
    /* A new value (a token) is worth one more try per job: refused again,
     * the fault is not the value's age, and retrying would only fetch
     * values in a loop. */
    if (v.reprepare && v.kind == ND_VERDICT_RETRY) {
        if (a->job->reprepared) {
            size_t len = strlen(v.reason);
            v.kind = ND_VERDICT_FAILED;
            snprintf(v.reason + len, sizeof(v.reason) - len, " (again with a new value)");
        }
        a->job->reprepared = 1;
    }
    nd_xfer_deinit(x);
    nd__job_finish_attempt(a, &v);
}

void nd__fail_verdict(struct nd_verdict *v, enum nd_verdict_kind kind, const char *what,
                      const char *err)
{
    memset(v, 0, sizeof(*v));
    v->kind = kind;
    v->delay_ns = -1;
    snprintf(v->reason, sizeof(v->reason), "%s: %s", what, err);
}

static int build_request(struct nd_receiver *r, const struct job *j, const char *prepared,
                         struct nd_request *req, char *err)
{
    const struct part_job *pj;
    struct nd_part part;

    if (!j->part)
        return r->t->build(r->state, j->n, prepared, req, err);
    pj = (const struct part_job *)j;
    part.lane = pj->lane;
    part.chunk = pj->chunk;
    part.lanes = pj->fo->lanes;
    part.chunks = pj->fo->chunks;
    part.ud = pj->fo->ud;
    return r->t->build_part(r->state, j->n, &part, prepared, req, err);
}

void nd__job_send(struct attempt *a, struct nd_prep *p)
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
    if (build_request(r, a->job, p ? p->value : NULL, &x->req, err) != ND_OK) {
        nd_request_deinit(&x->req);
        nd__fail_verdict(&v, ND_VERDICT_FAILED, "cannot build the request", err);
        nd__job_finish_attempt(a, &v);
        return;
    }
    if (nd_xfer_setup(r->e->cv, x, r->cfg.timeout_ns, err) != ND_OK) {
        nd_request_deinit(&x->req);
        nd__fail_verdict(&v, ND_VERDICT_RETRY, "curl", err);
        nd__job_finish_attempt(a, &v);
        return;
    }
    x->done = on_xfer_done;
    x->ud = a;
    if (r->t->setopt && r->t->setopt(r->state, x->easy, &x->req, err) != ND_OK) {
        nd_xfer_deinit(x);
        nd__fail_verdict(&v, ND_VERDICT_FAILED, "cannot set up the transfer", err);
        nd__job_finish_attempt(a, &v);
        return;
    }
    if (nd_xfer_start(r->e->cv, x, err) != ND_OK) {
        nd_xfer_deinit(x);
        nd__fail_verdict(&v, ND_VERDICT_RETRY, "curl", err);
        nd__job_finish_attempt(a, &v);
    }
}

static void job_start_attempt(struct nd_receiver *r, struct job *j)
{
    struct nd_engine *e = r->e;
    struct attempt *a;
    const char *key;
    struct nd_prep *p;

    j->attempts++;
    if (j->first_mono_ns == 0) {
        j->first_mono_ns = e->now();
        if (j->part && ((struct part_job *)j)->fo->first_mono_ns == 0)
            ((struct part_job *)j)->fo->first_mono_ns = j->first_mono_ns;
    }
    a = attempt_begin(r, j);

    if (r->t->sink) {
        struct nd_verdict v;
        memset(&v, 0, sizeof(v));
        v.delay_ns = -1;
        j->state = JOB_IN_FLIGHT;
        r->t->sink(r->state, j->n, &v);
        nd__job_finish_attempt(a, &v);
        return;
    }
    key = r->t->prepare_key ? r->t->prepare_key(r->state) : NULL;
    if (!key) {
        nd__job_send(a, NULL);
        return;
    }
    p = nd__prep_get(e, key);
    if (p->value && p->expires_mono_ns > e->now()) {
        nd__job_send(a, p);
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

void nd__job_finish_attempt(struct attempt *a, const struct nd_verdict *v)
{
    struct nd_receiver *r = a->r;
    struct job *j = a->job;
    struct nd_engine *e = r->e;
    int64_t now = e->now();
    int64_t delay, age;
    char reason[320];

    attempt_end(a);
    nd__schedule_pump(r, 0);

    switch (v->kind) {
    case ND_VERDICT_DELIVERED:
        job_delivered(r, j, now);
        return;
    case ND_VERDICT_FAILED:
        job_give_up(r, j, v->reason);
        return;
    case ND_VERDICT_RETRY:
        break;
    }
    if (e->deadline_passed) {
        snprintf(reason, sizeof(reason), ND_ENGINE_SHUTDOWN_REASON " after: %s", v->reason);
        job_give_up(r, j, reason);
        return;
    }
    if (j->attempts >= r->cfg.retry_max_attempts) {
        snprintf(reason, sizeof(reason), "%" PRIu32 " attempts made, last: %s", j->attempts,
                 v->reason);
        job_give_up(r, j, reason);
        return;
    }
    /* Whichever says how long (the server or the backoff), no wait is
     * longer than retry_max_age: the job would be given up by then. */
    delay = v->delay_ns >= 0 ? v->delay_ns
                             : nd_backoff_delay(&r->backoff, j->attempts, nd_backoff_rand, NULL);
    if (delay > r->cfg.retry_max_age_ns)
        delay = r->cfg.retry_max_age_ns;
    /* Saturated: a Retry-After may be near INT64_MAX, the clock large. */
    age = add_sat(now - j->first_mono_ns, delay);
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
    nd__retry_wait(r, j,
                   add_sat(now, v->delay_ns > 0 ? add_sat(delay, RETRY_AFTER_PAD_NS) : delay));
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
                nd__schedule_pump(r, d);
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
    struct nd_receiver *r = arg;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    if (r->retired && r->pending == 0) {
        /* Fewer slots: the idle pool shrinks with them. */
        nd_receiver_free(r);
        return;
    }
    pump(r);
}

void nd__schedule_pump(struct nd_receiver *r, int64_t delay_ns)
{
    struct timeval tv = nd_ns_to_timeval(delay_ns);

    /* A pending throttle wait is replaced by a sooner pump: the pump asks
     * admit() again and re-arms the wait if needed. */
    evtimer_add(r->pump_ev, &tv);
}

static void backlog_shed(struct nd_receiver *r, struct job *keep);

/* Asks the type for its parts and queues the first chunk of every lane.
 * false with `err` set when the notification cannot be sent (the caller
 * fails it). */
static bool submit_parts(struct nd_receiver *r, struct nd_notification *n, char *err)
{
    struct nd_parts ps = {0, 0, NULL};
    struct fanout *fo;
    uint32_t i;

    if (r->t->parts(r->state, n, &ps, err) != ND_OK)
        return false;
    if (ps.lanes < 1 || ps.lanes > ND_PARTS_LANES_MAX || ps.chunks < 1 ||
        ps.chunks > ND_PARTS_CHUNKS_MAX) {
        nd_seterr(err, ND_EINVAL, "%" PRIu32 " lanes x %" PRIu32 " chunks (1..%u x 1..%u)",
                  ps.lanes, ps.chunks, ND_PARTS_LANES_MAX, ND_PARTS_CHUNKS_MAX);
        if (ps.ud && r->t->free_parts)
            r->t->free_parts(r->state, ps.ud);
        return false;
    }
    fo = nd_xcalloc(1, sizeof(*fo) + ps.lanes * sizeof(fo->lane[0]));
    fo->n = n;
    fo->ud = ps.ud;
    fo->lanes = ps.lanes;
    fo->chunks = ps.chunks;
    fo->live = ps.lanes;
    for (i = 0; i < ps.lanes; i++) {
        struct part_job *pj = &fo->lane[i];
        pj->j.n = n;
        pj->j.state = JOB_QUEUED;
        pj->j.part = 1;
        pj->fo = fo;
        pj->lane = i;
        TAILQ_INSERT_TAIL(&r->ready, &pj->j, u.fifo);
        r->stats.queued++;
    }
    backlog_add(r, &fo->lane[0].j);
    return true;
}

void nd_receiver_submit_take(struct nd_receiver *r, struct nd_notification *n)
{
    char err[ND_ERRLEN] = "", reason[ND_ERRLEN + 32];
    bool split_failed = false;
    struct job *j;

    r->e->pending++;
    r->pending++;
    if (r->t->parts && !r->e->deadline_passed) {
        if (submit_parts(r, n, err)) {
            backlog_shed(r, TAILQ_LAST(&r->backlog, job_list));
            nd__schedule_pump(r, 0);
            return;
        }
        /* Failed as a plain job, so that it is logged and counted alike. */
        split_failed = true;
        snprintf(reason, sizeof(reason), "cannot split the notification: %s",
                 err[0] ? err : "no reason given");
    }
    j = nd_xcalloc(1, sizeof(*j));
    j->n = n;
    j->state = JOB_QUEUED;
    backlog_add(r, j);
    if (r->e->deadline_passed || split_failed) {
        job_give_up(r, j,
                    split_failed ? reason
                                 : ND_ENGINE_SHUTDOWN_REASON ": submitted after the deadline");
        return;
    }
    TAILQ_INSERT_TAIL(&r->ready, j, u.fifo);
    r->stats.queued++;
    backlog_shed(r, j);
    nd__schedule_pump(r, 0);
}

/* Takes a job out of whatever it waits on, without finishing it. Only from
 * libevent callbacks or plain code (it may remove a curl handle). */
static void job_detach(struct nd_receiver *r, struct job *j)
{
    struct attempt *a;

    switch ((enum job_state)j->state) {
    case JOB_QUEUED:
        TAILQ_REMOVE(&r->ready, j, u.fifo);
        r->stats.queued--;
        break;
    case JOB_RETRY_WAIT:
        nd__retry_remove(r, j);
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
    case JOB_DONE:
        break; /* an ended lane waits on nothing */
    }
}

/* ---- overflow = drop_oldest -------------------------------------------- */

/* The drop summary: one WARN line per second at most while drops go on,
 * never one per notification (a receiver that is down for hours would
 * fill the log). */
static void drop_log_flush(struct nd_receiver *r)
{
    char n[24], alerts[24], max[24];

    if (r->drop_log_n == 0)
        return;
    snprintf(n, sizeof(n), "%" PRIu64, r->drop_log_n);
    snprintf(alerts, sizeof(alerts), "%" PRIu64, r->drop_log_alerts);
    snprintf(max, sizeof(max), "%" PRIu64, r->cfg.max_backlog);
    nd_log(ND_LOG_WARN, "notifications dropped: backlog full", "receiver", r->name, "type",
           r->t->name, "notifications", n, "alerts", alerts, "max_backlog", max, "reason",
           "backlog_full", NULL);
    r->drop_log_n = 0;
    r->drop_log_alerts = 0;
}

static void on_drop_log(evutil_socket_t fd, short what, void *arg)
{
    struct nd_receiver *r = arg;
    struct timeval sec = {1, 0};

    ND_UNUSED(fd);
    ND_UNUSED(what);
    if (r->drop_log_n == 0)
        return; /* quiet for a second: the next drop logs within a second */
    drop_log_flush(r);
    evtimer_add(r->drop_log_ev, &sec);
}

static void drop_counted(struct nd_receiver *r, struct job *j)
{
    struct timeval sec = {1, 0};
    char reason[64];

    r->stats.dropped++;
    if (r->drop_log_n++ == 0 && !evtimer_pending(r->drop_log_ev, NULL))
        evtimer_add(r->drop_log_ev, &sec);
    r->drop_log_alerts += j->n->nalerts;
    snprintf(reason, sizeof(reason), "dropped: backlog full (max_backlog %" PRIu64 ")",
             r->cfg.max_backlog);
    report_outcome(r, j, reason);
}

/* A job that waits in our memory (not holding a slot) can be dropped. */
static bool job_waiting(const struct job *j)
{
    return j->state == JOB_QUEUED || j->state == JOB_RETRY_WAIT;
}

/* Drops the notification of backlog entry j when nothing of it holds a
 * slot: a request on the wire is left to finish (its answer may still be a
 * delivery), and a prepare in progress to end. true when it was dropped
 * (j is freed then). */
static bool backlog_drop(struct nd_receiver *r, struct job *j)
{
    struct fanout *fo;
    uint32_t i, left;

    if (!j->part) {
        if (!job_waiting(j))
            return false;
        job_detach(r, j);
        drop_counted(r, j);
        job_end(r, j);
        return true;
    }
    fo = ((struct part_job *)j)->fo;
    for (i = 0; i < fo->lanes; i++)
        if (fo->lane[i].j.state != JOB_DONE && !job_waiting(&fo->lane[i].j))
            return false;
    /* A notification already counted failed (a part given up) is not
     * counted again; its remaining lanes just end. */
    if (!fo->failed) {
        fo->failed = true;
        drop_counted(r, j);
    }
    /* The last lane_end frees fo: count the live lanes first. */
    left = fo->live;
    for (i = 0; left > 0; i++) {
        struct job *lj = &fo->lane[i].j;
        if (lj->state == JOB_DONE)
            continue;
        left--;
        job_detach(r, lj);
        job_end(r, lj);
    }
    return true;
}

/* overflow = drop_oldest: while the backlog holds more than max_backlog
 * alerts, drop its oldest notifications that do not hold a slot. `keep`
 * (the one just submitted) is never dropped, so a backlog may stay above
 * the limit by what is in flight plus that one notification. */
static void backlog_shed(struct nd_receiver *r, struct job *keep)
{
    struct job *j, *next;

    if (r->cfg.overflow != ND_OVERFLOW_DROP_OLDEST || r->cfg.max_backlog == 0)
        return;
    for (j = TAILQ_FIRST(&r->backlog);
         j && j != keep && r->stats.backlog_alerts > r->cfg.max_backlog; j = next) {
        /* Dropping j frees only j's notification, never the next one. */
        next = TAILQ_NEXT(j, backlog);
        backlog_drop(r, j);
    }
}

int nd_engine_admit(const struct nd_engine *e, char *err)
{
    const struct nd_receiver *r;

    TAILQ_FOREACH(r, &e->receivers, link)
    {
        /* spill without a log to spill to (a reload that added wal_dir,
         * which needs a restart) holds back like backpressure. */
        bool refuses = r->cfg.overflow == ND_OVERFLOW_BACKPRESSURE ||
                       (r->cfg.overflow == ND_OVERFLOW_SPILL && !e->spill_ok);
        if (!refuses || r->cfg.max_backlog == 0 || r->stats.backlog_alerts < r->cfg.max_backlog)
            continue;
        return nd_seterr(err, ND_EFULL,
                         "receiver %s: backlog full: %" PRIu64 " alerts held (max_backlog %" PRIu64
                         ", overflow = %s)",
                         r->name, r->stats.backlog_alerts, r->cfg.max_backlog,
                         nd_overflow_name(r->cfg.overflow));
    }
    return ND_OK;
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
            const char *why =
                j->state == JOB_IN_FLIGHT    ? ND_ENGINE_SHUTDOWN_REASON ": aborted in flight"
                : j->state == JOB_RETRY_WAIT ? ND_ENGINE_SHUTDOWN_REASON ": was waiting for a retry"
                : j->state == JOB_PREPARING  ? ND_ENGINE_SHUTDOWN_REASON ": was preparing"
                                             : ND_ENGINE_SHUTDOWN_REASON ": still queued";
            job_detach(r, j);
            job_give_up(r, j, why);
        }
    }
    check_idle(e);
}

void nd_engine_shutdown(struct nd_engine *e, int64_t timeout_ns, void (*idle)(void *ud), void *ud)
{
    struct timeval tv = nd_ns_to_timeval(timeout_ns);

    if (e->shutting_down)
        return;
    e->shutting_down = true;
    e->idle = idle;
    e->idle_ud = ud;
    evtimer_add(e->deadline_ev, &tv);
    check_idle(e);
}

void nd_engine_set_spill(struct nd_engine *e, bool on)
{
    e->spill_ok = on;
}

const struct nd_delivery_config *nd_receiver_delivery(const struct nd_receiver *r)
{
    return &r->cfg;
}

void nd_engine_set_outcome(struct nd_engine *e, nd_engine_outcome_cb *cb, void *ud)
{
    e->outcome = cb;
    e->outcome_ud = ud;
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

/* Frees a receiver that holds no job and is out of the engine's list. */
static void receiver_destroy(struct nd_receiver *r)
{
    drop_log_flush(r);
    if (r->state && r->t->free_state)
        r->t->free_state(r->state);
    event_free(r->drop_log_ev);
    event_free(r->pump_ev);
    event_free(r->retry_ev);
    if (r->retire_ev)
        event_free(r->retire_ev);
    nd__retry_deinit(&r->retry);
    free(r->name);
    nd_target_keys_deinit(&r->keys);
    free(r);
}

void nd_engine_free(struct nd_engine *e)
{
    struct nd_receiver *r;
    struct attempt *a;

    if (!e)
        return;
    /* Fetch callbacks first: they may report to preps and type states. */
    nd__fetches_abort(e);
    while ((r = TAILQ_FIRST(&e->receivers))) {
        struct job *j;
        TAILQ_REMOVE(&e->receivers, r, link);
        while ((j = any_job(r))) {
            job_detach(r, j);
            job_discard(r, j);
        }
        receiver_destroy(r);
    }
    while ((a = TAILQ_FIRST(&e->spares))) {
        TAILQ_REMOVE(&e->spares, a, link);
        free(a);
    }
    nd__preps_free(e);
    nd_curlev_free(e->cv);
    if (e->deadline_ev)
        event_free(e->deadline_ev);
    if (e->idle_ev)
        event_free(e->idle_ev);
    free(e);
}

struct nd_receiver *nd_receiver_new(struct nd_engine *e, struct nd_receiver_config *rc,
                                    const struct nd_delivery_config *defaults,
                                    struct nd_config_errors *errs)
{
    const struct nd_receiver_type *t;
    struct nd_receiver *r;
    struct nd_delivery_config cfg;
    void *state;

    struct nd_target_keys keys;

    if (nd__receiver_configure(rc, defaults, e->templates, &t, &cfg, &state, &keys, errs) != ND_OK)
        return NULL;
    r = nd_xcalloc(1, sizeof(*r));
    r->keys = keys;
    r->e = e;
    r->name = nd_xstrdup(rc->name);
    r->t = t;
    r->state = state;
    r->cfg = cfg;
    r->backoff.initial_ns = cfg.retry_initial_ns;
    r->backoff.factor = cfg.retry_factor;
    r->backoff.max_ns = cfg.retry_max_ns;
    r->backoff.jitter = cfg.retry_jitter;
    r->stats.max_backlog = cfg.max_backlog;
    TAILQ_INIT(&r->ready);
    TAILQ_INIT(&r->attempts);
    TAILQ_INIT(&r->backlog);
    r->pump_ev = evtimer_new(e->base, on_pump, r);
    r->retry_ev = evtimer_new(e->base, nd__retry_on_due, r);
    r->drop_log_ev = evtimer_new(e->base, on_drop_log, r);
    if (!r->pump_ev || !r->retry_ev || !r->drop_log_ev)
        abort(); /* only fails on OOM */
    TAILQ_INSERT_TAIL(&e->receivers, r, link);
    e->slots += (long)cfg.max_in_flight;
    /* + a few for one-off fetches (tokens) */
    nd_curlev_set_maxconnects(e->cv, e->slots + 8);
    return r;
}

void nd_receiver_set_outcome(struct nd_receiver *r, nd_engine_outcome_cb *cb, void *ud)
{
    r->outcome = cb;
    r->outcome_ud = ud;
}

void nd_receiver_release(struct nd_receiver *r)
{
    if (r->retired)
        return;
    r->retired = true;
    nd__schedule_pump(r, 0);
}

const struct nd_target_keys *nd_receiver_target_keys(const struct nd_receiver *r)
{
    return &r->keys;
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

void nd_engine_set_templates(struct nd_engine *e, const struct nd_template_set *templates)
{
    e->templates = templates;
}

/* ---- retiring a receiver ----------------------------------------------- */

static void on_retire_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct nd_receiver *r = arg;
    struct job *j;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    while ((j = any_job(r))) {
        const char *why = j->state == JOB_IN_FLIGHT    ? "receiver removed: aborted in flight"
                          : j->state == JOB_RETRY_WAIT ? "receiver removed: was waiting for a retry"
                          : j->state == JOB_PREPARING  ? "receiver removed: was preparing"
                                                       : "receiver removed: still queued";
        job_detach(r, j);
        job_give_up(r, j, why);
    }
}

void nd_receiver_retire(struct nd_receiver *r, int64_t timeout_ns)
{
    struct timeval tv = nd_ns_to_timeval(timeout_ns);

    if (r->retire_ev)
        return;
    r->retire_ev = evtimer_new(r->e->base, on_retire_deadline, r);
    if (!r->retire_ev)
        abort(); /* only fails on OOM */
    evtimer_add(r->retire_ev, &tv);
}

bool nd_receiver_busy(const struct nd_receiver *r)
{
    const char *key;
    struct nd_prep *p;

    if (any_job(r))
        return true;
    /* A fetch calls back into the type's state that started it; which
     * receiver that was is not recorded, so any fetch of the same key
     * keeps the receiver. */
    key = r->t->prepare_key ? r->t->prepare_key(r->state) : NULL;
    if (!key)
        return false;
    TAILQ_FOREACH(p, &r->e->preps, link)
    {
        if (p->fetching && strcmp(p->key, key) == 0)
            return true;
    }
    return false;
}

void nd_receiver_free(struct nd_receiver *r)
{
    struct nd_engine *e = r->e;

    TAILQ_REMOVE(&e->receivers, r, link);
    e->slots -= (long)r->cfg.max_in_flight;
    nd_curlev_set_maxconnects(e->cv, e->slots + 8);
    receiver_destroy(r);
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

void nd__fanout_sizes(size_t *fanout, size_t *part_job)
{
    *fanout = sizeof(struct fanout);
    *part_job = sizeof(struct part_job);
}

size_t nd__receiver_retry_waiting(const struct nd_receiver *r)
{
    return r->retry.n;
}

size_t nd__receiver_retry_capacity(const struct nd_receiver *r)
{
    return r->retry.cap;
}

size_t nd__engine_receivers(const struct nd_engine *e)
{
    const struct nd_receiver *r;
    size_t n = 0;

    TAILQ_FOREACH(r, &e->receivers, link)
    n++;
    return n;
}

void nd__engine_attempts(const struct nd_engine *e, size_t *live, size_t *spare)
{
    *live = e->nattempts;
    *spare = e->nspares;
}
