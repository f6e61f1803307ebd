/* test_retry.c - jobs waiting for a retry: the receiver's heap of due
 * times under one timer, and what a waiting job costs.
 *
 * A sink type (no curl) gives each attempt its verdict, and the engine
 * reads a test clock that moves only when a test moves it: a job leaves
 * the heap when that clock reaches its due time, so which jobs are due is
 * never a matter of how fast the machine is. The libevent timer still runs
 * on real time (a few ms here); it fires, finds nothing due while the test
 * clock stands still, and re-arms. Every loop is bounded by a guard. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "helpers.h"
#include "loop.h"
#include "notifyd/engine.h"
#include "notifyd/log.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "notify_int.h"
#include "tap.h"

#define MAXJ 2000

/* ---- the test clock and the sink --------------------------------------- */

static int64_t clock_ns;

static int64_t test_now(void)
{
    return clock_ns;
}

/* What the sink answers: RETRY for the first `fails` attempts of a job
 * (always when < 0), with delay_ns[i] for job i (-1: the backoff), then
 * DELIVERED. */
static int fails;
static int64_t delay_ns[MAXJ];

/* The jobs, by submission index, and the sink's calls in order. */
static struct nd_notification *subs[MAXJ];
static int nsubs;
static int tries[MAXJ];
static int order[4 * MAXJ];
static int norder;

static int find_job(const struct nd_notification *n)
{
    int i;

    for (i = 0; i < nsubs; i++)
        if (subs[i] == n)
            return i;
    abort();
}

static void rs_sink(void *state, const struct nd_notification *n, struct nd_verdict *v)
{
    int i = find_job(n);

    (void)state;
    tries[i]++;
    if (norder < 4 * MAXJ)
        order[norder++] = i;
    if (fails < 0 || tries[i] <= fails) {
        v->kind = ND_VERDICT_RETRY;
        v->delay_ns = delay_ns[i];
        snprintf(v->reason, sizeof(v->reason), "target down");
    } else {
        v->kind = ND_VERDICT_DELIVERED;
    }
}

static const struct nd_receiver_type rs_type = {
    .name = "rsink",
    .configure = fx_configure_nostate,
    .sink = rs_sink,
};

/* A sink that judges every attempt as a 503 whose Retry-After is the last
 * second of the year 9999, through the generic HTTP rule. */
static void far_sink(void *state, const struct nd_notification *n, struct nd_verdict *v)
{
    struct nd_buf hdr, body;
    struct nd_response rsp;

    (void)state;
    tries[find_job(n)]++;
    nd_buf_init(&hdr, 1024);
    nd_buf_init(&body, 1024);
    nd_buf_adds(&hdr, "HTTP/1.1 503 Service Unavailable\r\n"
                      "Retry-After: Fri, 31 Dec 9999 23:59:59 GMT\r\n");
    memset(&rsp, 0, sizeof(rsp));
    rsp.curl_error = "";
    rsp.status = 503;
    rsp.body = &body;
    rsp.headers = &hdr;
    rsp.now_wall_ns = nd_now_wall_ns();
    nd_classify_http(&rsp, v);
    nd_buf_deinit(&hdr);
    nd_buf_deinit(&body);
}

static const struct nd_receiver_type far_type = {
    .name = "farsink",
    .configure = fx_configure_nostate,
    .sink = far_sink,
};

/* ---- helpers ------------------------------------------------------------ */

static struct nd_template_set *T;

struct ctx {
    struct event_base *base;
    struct nd_engine *e;
    struct nd_receiver *r;
};

/* A fresh engine on the test clock (at 1000 s: 0 means "no attempt yet"
 * to the engine) with one rsink receiver configured by `keys`. */
static void setup_type(struct ctx *c, const char *type, const char *keys);

static void setup(struct ctx *c, const char *keys)
{
    setup_type(c, "rsink", keys);
}

static void setup_type(struct ctx *c, const char *type, const char *keys)
{
    c->base = event_base_new();
    c->e = fx_engine(c->base, T, test_now);
    clock_ns = 1000 * ND_NS_PER_S;
    c->r = fx_receiver(c->e, "[receiver.rs]\ntype = %s\n%s", type, keys);
    nsubs = norder = 0;
    memset(tries, 0, sizeof(tries));
}

static void teardown(struct ctx *c)
{
    int i;

    nd_engine_free(c->e);
    event_base_free(c->base);
    for (i = 0; i < nsubs; i++)
        nd_notification_unref(subs[i]);
}

/* Submits n jobs; the test keeps a reference to each (see refs_back). */
static void submit(struct ctx *c, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        struct nd_notification *x = mk_simple("rs", "R");
        nd_notification_ref(x);
        subs[nsubs++] = x;
        nd_receiver_submit_take(c->r, x);
    }
}

/* Every job ended: the engine dropped each of its references. */
static int refs_back(void)
{
    int i;

    for (i = 0; i < nsubs; i++)
        if (subs[i]->refs != 1)
            return 0;
    return 1;
}

static int cond_never(void *ud)
{
    (void)ud;
    return 0;
}

static uint64_t want_retried;
static int cond_retried(void *ud)
{
    return nd_receiver_stats(ud)->retried >= want_retried;
}

static uint64_t want_ended;
static int cond_ended(void *ud)
{
    const struct nd_receiver_stats *st = nd_receiver_stats(ud);
    return st->delivered + st->failed >= want_ended;
}

/* Job indexes sorted by (delay, index): the order the heap must keep. */
static void expected_order(int n, int *out)
{
    int i, k;

    for (i = 0; i < n; i++) {
        int x = i;
        for (k = i; k > 0 && delay_ns[out[k - 1]] > delay_ns[x]; k--)
            out[k] = out[k - 1];
        out[k] = x;
    }
}

/* ---- tests ------------------------------------------------------------ */

static void test_job_size(void)
{
    /* Seven pointer-sized words: a 16-byte list entry (shared with the heap
     * index and the attempt pointer), the 16-byte backlog link, the
     * notification, the first start, the attempt count and the state: a
     * 64-byte malloc chunk on LP64. */
    ok(nd__job_size() <= 7 * sizeof(void *), "a waiting job is %zu bytes (<= %zu)", nd__job_size(),
       7 * sizeof(void *));
}

/* Many jobs with different due times (and ties) leave the heap in due
 * order, ties in the order they entered it, and not before the clock
 * reaches them. The sink sees the second attempts in that order. */
static void run_due_order(int n, const char *what)
{
    static int want[MAXJ];
    struct ctx c;
    size_t live, spare;
    int i, bad = -1;

    setup(&c, "max_in_flight = 4096\nretry_max_attempts = 5\n");
    fails = 1;
    submit(&c, n);
    want_retried = (uint64_t)n;
    ok(run_until_ms(c.base, cond_retried, c.r, 5000), "%s: %d first attempts failed", what, n);
    is_uint(nd__receiver_retry_waiting(c.r), n, "%s: all %d in the heap", what, n);
    is_uint(nd_receiver_stats(c.r)->queued, n, "%s: queued gauge counts them", what);
    nd__engine_attempts(c.e, &live, &spare);
    is_uint(live, 0, "%s: no attempt held while waiting", what);
    ok(spare >= 1 && spare <= 4096, "%s: ended attempts kept as spares (%zu)", what, spare);

    /* Real time passes every due time, the test clock does not. */
    run_until_ms(c.base, cond_never, NULL, 120);
    is_int(norder, n, "%s: no job left the heap before the clock reached it", what);
    is_uint(nd__receiver_retry_waiting(c.r), n, "%s: still %d in the heap", what, n);

    clock_ns += 3600 * ND_NS_PER_S;
    want_ended = (uint64_t)n;
    ok(run_until_ms(c.base, cond_ended, c.r, 5000), "%s: all delivered after the clock moved",
       what);
    expected_order(n, want);
    for (i = 0; i < n && bad < 0; i++)
        if (order[n + i] != want[i])
            bad = i;
    ok(norder == 2 * n && bad < 0, "%s: second attempts in due order, ties in push order", what);
    if (bad >= 0)
        printf("# position %d: job %d (delay %lld), want job %d (delay %lld)\n", bad,
               order[n + bad], (long long)delay_ns[order[n + bad]], want[bad],
               (long long)delay_ns[want[bad]]);
    is_uint(nd__receiver_retry_waiting(c.r), 0, "%s: heap empty", what);
    is_uint(nd_receiver_stats(c.r)->queued, 0, "%s: queued gauge back to 0", what);
    is_uint(nd_receiver_stats(c.r)->delivered, n, "%s: every job delivered", what);
    ok(refs_back(), "%s: every reference dropped", what);
    ok(nd__receiver_retry_capacity(c.r) <= 16, "%s: the heap array shrank back (%zu)", what,
       nd__receiver_retry_capacity(c.r));
    teardown(&c);
}

static void test_due_order(void)
{
    int i;

    /* 40 jobs, 8 distinct delays (Retry-After style, 5..40 ms), five jobs
     * on each: ties must keep push order. */
    for (i = 0; i < 40; i++)
        delay_ns[i] = (((i * 7) % 8) + 1) * 5 * ND_NS_PER_MS;
    run_due_order(40, "ties");
    /* 2000 jobs, pseudo-random delays (a few equal): exercises sifting
     * both ways and the array growing and shrinking. */
    for (i = 0; i < MAXJ; i++)
        delay_ns[i] = (int64_t)(((uint32_t)i * 2654435761u) % 997u + 1) * 37 * 1000;
    run_due_order(MAXJ, "random");
}

/* One job retried three times with the backoff schedule: into the heap
 * after each failed attempt, out only once the clock reaches the delay. */
static void test_retried_through_heap(void)
{
    struct ctx c;
    int k;

    setup(&c, "retry_initial = 20ms\nretry_factor = 2\nretry_max = 1s\nretry_jitter = 0\n");
    fails = 3;
    delay_ns[0] = -1;
    submit(&c, 1);
    for (k = 1; k <= 3; k++) {
        int64_t backoff = (20 * ND_NS_PER_MS) << (k - 1);

        want_retried = (uint64_t)k;
        ok(run_until_ms(c.base, cond_retried, c.r, 5000), "attempt %d failed", k);
        is_uint(nd__receiver_retry_waiting(c.r), 1, "after attempt %d: in the heap", k);
        is_uint(nd_receiver_stats(c.r)->queued, 1, "after attempt %d: counted queued", k);
        /* The timer fires after the backoff in real time, but the test
         * clock has not moved: not due. */
        run_until_ms(c.base, cond_never, NULL, 2 * (int)(backoff / ND_NS_PER_MS));
        is_int(tries[0], k, "after attempt %d: not retried while the clock stands", k);
        /* One ns short of the due time: still not due, however often the
         * timer fires (its last arming, then every ms). */
        clock_ns += backoff - 1;
        run_until_ms(c.base, cond_never, NULL, (int)(backoff / ND_NS_PER_MS) + 20);
        is_int(tries[0], k, "after attempt %d: not retried 1 ns before %lld ms", k,
               (long long)(backoff / ND_NS_PER_MS));
        clock_ns += 1;
    }
    want_ended = 1;
    ok(run_until_ms(c.base, cond_ended, c.r, 5000), "fourth attempt delivered");
    is_int(tries[0], 4, "four attempts");
    is_uint(nd_receiver_stats(c.r)->retried, 3, "three retries counted");
    is_uint(nd_receiver_stats(c.r)->delivered, 1, "delivered");
    is_uint(nd__receiver_retry_waiting(c.r), 0, "heap empty");
    ok(refs_back(), "reference dropped");
    teardown(&c);
}

/* On the real clock: retry limits still apply to jobs that go through the
 * heap (attempts, then age). */
static void test_limits_real_clock(void)
{
    struct ctx c;
    char *log = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&log, &len);

    nd_log_set_stream(f);
    setup(&c, "retry_initial = 5ms\nretry_jitter = 0\nretry_max_attempts = 3\n");
    nd__engine_set_clock(c.e, NULL);
    fails = -1;
    delay_ns[0] = -1;
    submit(&c, 1);
    want_ended = 1;
    ok(run_until_ms(c.base, cond_ended, c.r, 5000), "real clock: given up");
    is_int(tries[0], 3, "three attempts through the heap");
    is_uint(nd_receiver_stats(c.r)->retried, 2, "two retries");
    is_uint(nd_receiver_stats(c.r)->failed, 1, "counted failed");
    teardown(&c);

    setup(&c, "retry_max_age = 1s\n");
    nd__engine_set_clock(c.e, NULL);
    delay_ns[0] = 2 * ND_NS_PER_S; /* capped at retry_max_age, which it then passes */
    submit(&c, 1);
    want_ended = 1;
    ok(run_until_ms(c.base, cond_ended, c.r, 5000), "max age: given up");
    is_int(tries[0], 1, "max age: not retried past retry_max_age");
    is_uint(nd__receiver_retry_waiting(c.r), 0, "max age: never entered the heap");
    teardown(&c);
    nd_log_set_stream(NULL);
    fclose(f);
    has_str(log, "3 attempts made, last: target down", "attempts limit logged");
    has_str(log, "retry_max_age reached", "age limit logged");
    free(log);
}

/* A Retry-After near the largest retry_max_age on a clock that has run for
 * years: now + delay passes INT64_MAX. The age must come out as the delay
 * (capped at retry_max_age, so still within it) and the due time saturate:
 * the job waits in the heap. (The engine computes the age as (now - first)
 * + delay with saturation: now + delay - first would overflow, and a
 * compiler may reassociate it so that no sanitizer sees it.) */
static void test_age_no_overflow(void)
{
    struct ctx c;

    setup(&c, "retry_max_age = 2500000h\n");     /* 9.0e18 ns, near the key's maximum */
    clock_ns = INT64_C(400000000) * ND_NS_PER_S; /* about 12.7 years of uptime */
    fails = -1;
    delay_ns[0] = INT64_MAX / 2 + INT64_MAX / 4; /* capped at retry_max_age */
    submit(&c, 1);
    want_retried = 1;
    ok(run_until_ms(c.base, cond_retried, c.r, 5000), "huge Retry-After late in uptime: retried");
    is_int(tries[0], 1, "one attempt");
    is_uint(nd_receiver_stats(c.r)->failed, 0, "not given up: within retry_max_age");
    is_uint(nd__receiver_retry_waiting(c.r), 1, "waiting in the heap");
    teardown(&c);
}

/* A Retry-After in the year 9999 (past the int64 ns range) waits
 * retry_max_age, the longest any wait may be: not 0 (a wrapped
 * multiplication), not given up. The job leaves the heap only once the
 * clock has moved by retry_max_age. */
static void test_retry_after_year_9999(void)
{
    struct ctx c;
    int64_t max_age = 100 * ND_NS_PER_MS;

    /* Short enough that the retry timer, armed on real time, fires within
     * the test: it then finds nothing due until the test clock moves. */
    setup_type(&c, "farsink", "retry_max_age = 100ms\nretry_max_attempts = 2\n");
    submit(&c, 1);
    want_retried = 1;
    ok(run_until_ms(c.base, cond_retried, c.r, 5000), "year 9999: retried");
    run_until_ms(c.base, cond_never, NULL, 50);
    is_int(tries[0], 1, "year 9999: not retried at once");
    is_uint(nd_receiver_stats(c.r)->failed, 0, "year 9999: not given up");
    is_uint(nd__receiver_retry_waiting(c.r), 1, "year 9999: waiting in the heap");
    clock_ns += max_age - 1;
    run_until_ms(c.base, cond_never, NULL, 150);
    is_int(tries[0], 1, "year 9999: still waiting 1 ns before retry_max_age");
    clock_ns += 1 + 10 * ND_NS_PER_MS; /* the Retry-After pad */
    want_ended = 1;
    ok(run_until_ms(c.base, cond_ended, c.r, 5000),
       "year 9999: second attempt after retry_max_age");
    is_int(tries[0], 2, "year 9999: two attempts");
    teardown(&c);
}

/* A shutdown deadline with jobs in the heap gives every one up (logged,
 * counted, reference dropped); ASan checks that nothing leaks. */
static void test_shutdown_heap(void)
{
    enum { N = 1000 };
    struct ctx c;
    struct fx_idle ir = {0};
    char *log = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&log, &len);
    int i;

    setup(&c, "retry_max_attempts = 10\n");
    fails = -1;
    for (i = 0; i < N; i++)
        delay_ns[i] = (int64_t)(i % 13 + 1) * ND_NS_PER_S;
    submit(&c, N);
    want_retried = N;
    ok(run_until_ms(c.base, cond_retried, c.r, 5000), "shutdown: %d jobs waiting", N);
    is_uint(nd__receiver_retry_waiting(c.r), N, "shutdown: all in the heap");
    nd_log_set_stream(f);
    nd_engine_shutdown(c.e, 50 * ND_NS_PER_MS, fx_on_idle, &ir);
    ok(run_until_ms(c.base, fx_idle_seen, &ir, 5000), "shutdown: idle called after the deadline");
    nd_log_set_stream(NULL);
    fclose(f);
    is_uint(nd__receiver_retry_waiting(c.r), 0, "shutdown: heap emptied");
    is_uint(nd_receiver_stats(c.r)->failed, N, "shutdown: every job counted failed");
    is_uint(nd_receiver_stats(c.r)->queued, 0, "shutdown: queued gauge back to 0");
    is_uint(nd_engine_pending(c.e), 0, "shutdown: nothing pending");
    ok(refs_back(), "shutdown: every reference dropped");
    has_str(log, "shutdown: was waiting for a retry", "shutdown: reason logged");
    free(log);
    teardown(&c);
}

/* nd_engine_free with jobs in the heap and in the FIFO. */
static void test_free_with_heap(void)
{
    struct ctx c;
    int i;

    setup(&c, "max_in_flight = 1\n");
    fails = -1;
    for (i = 0; i < 100; i++)
        delay_ns[i] = (int64_t)(100 - i) * ND_NS_PER_S;
    submit(&c, 60);
    want_retried = 60;
    ok(run_until_ms(c.base, cond_retried, c.r, 5000), "free: 60 jobs waiting");
    /* These stay in the FIFO: the loop does not run again. */
    submit(&c, 40);
    is_uint(nd__receiver_retry_waiting(c.r), 60, "free: 60 in the heap");
    ok(nd_receiver_stats(c.r)->queued == 100, "free: 100 queued or waiting");
    nd_engine_free(c.e);
    c.e = NULL;
    ok(refs_back(), "free: every reference dropped");
    teardown(&c);
}

int main(void)
{
    nd_log_set_level(ND_LOG_WARN);
    T = nd_template_set_new();
    if (nd_receiver_type_register(&rs_type) != ND_OK ||
        nd_receiver_type_register(&far_type) != ND_OK)
        abort();
    test_job_size();
    test_due_order();
    test_retried_through_heap();
    test_limits_real_clock();
    test_age_no_overflow();
    test_retry_after_year_9999();
    test_shutdown_heap();
    test_free_with_heap();
    nd_template_set_free(T);
    return done_testing();
}
