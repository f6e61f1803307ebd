/* engine_int.h - the delivery engine's state, shared by the files that
 * implement it (src/notify only):
 *
 *   engine.c  jobs, attempts, the receiver FIFO and pump, shutdown
 *   retryq.c  the receiver's retry queue: a min-heap of due times under
 *             one timer
 *   prep.c    the shared prepare values (tokens) and one-off fetches
 *
 * The lifecycle of a job is described at the top of engine.c and in
 * docs/delivery.md.
 */
#ifndef NOTIFYD_ENGINE_INT_H
#define NOTIFYD_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/util.h>

#include "notifyd/backoff.h"
#include "notifyd/engine.h"
#include "notifyd/receiver.h"
#include "notify_int.h"

/* JOB_DONE: a lane of a fanout whose job has ended while other lanes go
 * on (a plain job is freed when it ends). */
enum job_state { JOB_QUEUED, JOB_PREPARING, JOB_IN_FLIGHT, JOB_RETRY_WAIT, JOB_DONE };

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
 * FIFO, heap or attempts), and 8 bytes per waiting job are worth it.
 * `backlog` links every notification the receiver holds in submission
 * order, whatever its state: a plain job, or lane 0 of a fanout standing
 * for the whole notification. It is what finds the oldest notification
 * (its age, and which to drop first with overflow = drop_oldest) without
 * searching the FIFO and the retry heap, whose orders differ. */
struct job {
    union {
        TAILQ_ENTRY(job) fifo; /* QUEUED: the receiver's ready FIFO */
        struct attempt *att;   /* PREPARING, IN_FLIGHT */
        uint32_t heap_idx;     /* RETRY_WAIT: index in the receiver's retry heap */
    } u;
    TAILQ_ENTRY(job) backlog;  /* the receiver's backlog, oldest first */
    struct nd_notification *n; /* one reference, dropped in job_end */
    int64_t first_mono_ns;     /* start of the first attempt, 0 before */
    uint32_t attempts;         /* attempts started */
    uint8_t state;             /* enum job_state */
    uint8_t part;              /* 1: the head of a struct part_job (fits the padding) */
    uint8_t reprepared;        /* 1: a verdict already dropped its prepare value */
};
TAILQ_HEAD(job_list, job);

struct fanout;

/* One lane of a fanned-out notification: its current chunk's job. The
 * lane's job is reused chunk after chunk, so a lane has one job at most,
 * and a notification without fan-out never pays for these fields. */
struct part_job {
    struct job j; /* first: a struct job * of a part is a struct part_job * */
    struct fanout *fo;
    uint32_t lane, chunk;
};

/* A notification sent as lanes x chunks requests (receiver.h, parts): one
 * allocation with its lanes. j.n of each lane borrows `n`. */
struct fanout {
    struct nd_notification *n; /* the one reference, dropped when live is 0 */
    void *ud;                  /* the type's, for build_part and free_parts */
    int64_t first_mono_ns;     /* start of the first attempt of any part */
    uint32_t lanes, chunks;
    uint32_t live; /* lanes not finished */
    bool failed;   /* a part was given up: counted failed */
    struct part_job lane[];
};

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
    struct nd_target_keys keys; /* routing keys of the section, for the pipeline */
    struct nd_backoff backoff;
    struct nd_receiver_stats stats;
    struct job_list ready;         /* FIFO waiting for a slot */
    struct attempt_list attempts;  /* jobs holding a slot: PREPARING + IN_FLIGHT */
    struct retry_heap retry;       /* RETRY_WAIT jobs */
    uint32_t active;               /* slots used: PREPARING + IN_FLIGHT */
    struct event *pump_ev;         /* deferred pump, also the throttle's wait */
    struct event *retry_ev;        /* armed for the earliest due retry */
    size_t pending;                /* notifications submitted and not finished */
    nd_engine_outcome_cb *outcome; /* nd_receiver_set_outcome, or NULL */
    void *outcome_ud;
    bool retired;            /* nd_receiver_release: freed by the pump once pending is 0 */
    struct event *retire_ev; /* nd_receiver_retire's deadline, NULL until retired */
    struct job_list backlog; /* every notification held, oldest first (struct job) */
    /* Drops (overflow = drop_oldest) not logged yet: one summary line per
     * second at most, from drop_log_ev. */
    uint64_t drop_log_n, drop_log_alerts;
    struct event *drop_log_ev;
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
    int64_t (*now)(void);          /* monotonic ns: nd_now_mono_ns, or a test's clock */
    bool spill_ok;                 /* nd_engine_set_spill: overflow = spill has a log */
    nd_engine_outcome_cb *outcome; /* nd_engine_set_outcome, or NULL */
    void *outcome_ud;
};

/* ---- engine.c ---------------------------------------------------------- */

/* Builds and starts the request of an attempt holding a slot, with the
 * prepare value p (NULL when the type has none). */
void nd__job_send(struct attempt *a, struct nd_prep *p);
/* Ends the attempt with verdict v: delivered, given up or back to wait. */
void nd__job_finish_attempt(struct attempt *a, const struct nd_verdict *v);
/* A RETRY or FAILED verdict "what: err" with the backoff's delay. */
void nd__fail_verdict(struct nd_verdict *v, enum nd_verdict_kind kind, const char *what,
                      const char *err);
/* Runs the receiver's pump from the loop after delay_ns (0 = next turn). */
void nd__schedule_pump(struct nd_receiver *r, int64_t delay_ns);

/* ---- retryq.c ---------------------------------------------------------- */

/* Puts j in RETRY_WAIT until the engine's clock reaches due_ns. */
void nd__retry_wait(struct nd_receiver *r, struct job *j, int64_t due_ns);
/* Takes a RETRY_WAIT job out of the queue (it stays the caller's). */
void nd__retry_remove(struct nd_receiver *r, struct job *j);
/* The receiver's retry timer callback (arg = the receiver): every job due
 * moves to the back of the FIFO. */
void nd__retry_on_due(evutil_socket_t fd, short what, void *arg);
void nd__retry_deinit(struct retry_heap *h);

/* ---- prep.c ------------------------------------------------------------ */

/* The engine's prepare entry for key, created on first use. */
struct nd_prep *nd__prep_get(struct nd_engine *e, const char *key);
/* Frees every prepare entry (none may have waiters left). */
void nd__preps_free(struct nd_engine *e);
/* Calls every pending fetch's callback with an aborted response and frees
 * the fetch: the first step of nd_engine_free. */
void nd__fetches_abort(struct nd_engine *e);

#endif
