/* test_backlog.c - per-receiver backlogs: what a receiver holds (counted on
 * submission, released when a notification is delivered, given up or
 * dropped), overflow = drop_oldest (oldest first, never what holds a slot,
 * the alerts released, counted and logged as a summary) and the
 * backpressure signal ingest asks for (nd_engine_admit).
 *
 * A sink type (no curl) gives each attempt the verdict the test sets, on a
 * test clock that stands still, so a RETRY verdict parks the job in the
 * retry heap for as long as the test wants. The in-flight case uses a
 * webhook aimed at a listening socket that never accepts: its request
 * stays on the wire. Every loop is bounded. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "helpers.h"
#include "logcap.h"
#include "loop.h"
#include "notifyd/engine.h"
#include "notifyd/log.h"
#include "notifyd/parse.h"
#include "notifyd/queue.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "notify_int.h"
#include "tap.h"

#define MAXN 64

static int64_t clock_ns;

static int64_t test_now(void)
{
    return clock_ns;
}

/* The sink's verdict for every attempt. */
static enum nd_verdict_kind verdict = ND_VERDICT_RETRY;
/* The retry delay a RETRY asks for. The retry timer runs on real time for
 * that delay and then compares the test clock: 1 ms lets a test release
 * the parked jobs by moving the clock; an hour keeps them parked. */
static int64_t sink_delay_ns;
static int sink_calls;

static void bl_sink(void *state, const struct nd_notification *n, struct nd_verdict *v)
{
    (void)state;
    (void)n;
    sink_calls++;
    v->kind = verdict;
    v->delay_ns = sink_delay_ns;
    snprintf(v->reason, sizeof(v->reason), verdict == ND_VERDICT_FAILED ? "refused" : "down");
}

static const struct nd_receiver_type bl_type = {
    .name = "blsink",
    .configure = fx_configure_nostate,
    .sink = bl_sink,
};

/* The outcome hook's record: which notifications ended, and why. */
static const struct nd_notification *ended[4 * MAXN];
static char ended_why[4 * MAXN][96];
static int nended;

static void on_outcome(void *ud, const struct nd_receiver *r, const struct nd_notification *n,
                       const char *failure)
{
    (void)ud;
    (void)r;
    if (nended < 4 * MAXN) {
        ended[nended] = n;
        snprintf(ended_why[nended], sizeof(ended_why[0]), "%s", failure ? failure : "delivered");
        nended++;
    }
}

static struct nd_template_set *T;

struct ctx {
    struct event_base *base;
    struct nd_engine *e;
    struct nd_receiver *r;
    struct nd_notification *subs[MAXN];
    int nsubs;
};

static struct nd_receiver *add_receiver(struct ctx *c, const char *name, const char *type,
                                        const char *keys)
{
    return fx_receiver(c->e, "[receiver.%s]\ntype = %s\n%s", name, type, keys);
}

static void setup(struct ctx *c, const char *keys)
{
    memset(c, 0, sizeof(*c));
    c->base = event_base_new();
    c->e = fx_engine(c->base, T, test_now);
    clock_ns = 1000 * ND_NS_PER_S;
    nd_engine_set_outcome(c->e, on_outcome, NULL);
    c->r = add_receiver(c, "bl", "blsink", keys);
    verdict = ND_VERDICT_RETRY;
    sink_delay_ns = 3600 * ND_NS_PER_S;
    sink_calls = 0;
    nended = 0;
}

/* Each notification gets its creation time from its index, so that the
 * oldest one is visible in backlog_oldest_ns. */
static struct nd_notification *mk_n(struct ctx *c, size_t nalerts)
{
    static const char *const group[] = {"alertname", "x", NULL};
    struct nd_alert *a[8];
    struct nd_notification *n;
    char id[16];
    size_t i;

    for (i = 0; i < nalerts; i++) {
        const char *labels[] = {"alertname", "B", "id", id, NULL};
        snprintf(id, sizeof(id), "%d.%zu", c->nsubs, i);
        a[i] = mk_alert(labels, NULL, "2026-11-26T10:00:00Z", NULL, NULL);
    }
    n = mk_notification("bl", a, nalerts, group, NULL, NULL);
    n->created_ns = (int64_t)(c->nsubs + 1) * ND_NS_PER_S;
    return n;
}

/* Submits a notification of `nalerts` alerts; the test keeps one
 * reference (refs 2 while the engine holds it, 1 once it let go). */
static struct nd_notification *submit(struct ctx *c, size_t nalerts)
{
    struct nd_notification *n = mk_n(c, nalerts);

    nd_notification_ref(n);
    c->subs[c->nsubs++] = n;
    nd_receiver_submit_take(c->r, n);
    return n;
}

static void teardown(struct ctx *c)
{
    int i;

    nd_engine_free(c->e);
    event_base_free(c->base);
    for (i = 0; i < c->nsubs; i++)
        nd_notification_unref(c->subs[i]);
}

static int held(const struct ctx *c, int i)
{
    return c->subs[i]->refs == 2;
}

static int cond_never(void *ud)
{
    (void)ud;
    return 0;
}

static uint64_t want_ended;
static int cond_ended(void *ud)
{
    const struct nd_receiver_stats *st = nd_receiver_stats(ud);
    return st->delivered + st->failed + st->dropped >= want_ended;
}

static uint64_t want_queued_heap;
static int cond_parked(void *ud)
{
    return nd__receiver_retry_waiting(ud) >= want_queued_heap;
}

static uint64_t alerts_bytes(const struct nd_notification *n)
{
    uint64_t b = 0;
    for (size_t i = 0; i < n->nalerts; i++)
        b += n->alerts[i]->size;
    return b;
}

/* ---- tests ------------------------------------------------------------ */

/* Counted on submission, whatever the state; released at the end of each
 * outcome: delivered, given up. */
static void test_accounting(void)
{
    struct ctx c;
    const struct nd_receiver_stats *st;
    uint64_t bytes;

    setup(&c, "max_in_flight = 1\n");
    sink_delay_ns = ND_NS_PER_MS;
    st = nd_receiver_stats(c.r);
    is_uint(st->backlog_notifications, 0, "empty: no notification");
    is_uint(st->backlog_oldest_ns, 0, "empty: no oldest");
    submit(&c, 3);
    submit(&c, 2);
    bytes = alerts_bytes(c.subs[0]) + alerts_bytes(c.subs[1]);
    is_uint(st->backlog_notifications, 2, "submit: 2 notifications");
    is_uint(st->backlog_alerts, 5, "submit: 5 alerts");
    is_uint(st->backlog_bytes, bytes, "submit: bytes = the alerts' sizes (%llu)",
            (unsigned long long)bytes);
    ok(bytes > 0, "alerts have a size");
    is_uint(st->backlog_oldest_ns, 1 * ND_NS_PER_S, "submit: the oldest is the first");

    /* Both attempted and parked in the retry heap: still the backlog. */
    want_queued_heap = 2;
    ok(run_until_ms(c.base, cond_parked, c.r, 5000), "retry: both wait for a retry");
    is_uint(st->backlog_alerts, 5, "retry wait: still 5 alerts");

    /* Delivered: the clock reaches the retry, the sink delivers. */
    verdict = ND_VERDICT_DELIVERED;
    clock_ns += 7200 * ND_NS_PER_S;
    want_ended = 2;
    ok(run_until_ms(c.base, cond_ended, c.r, 5000), "both delivered");
    is_uint(st->backlog_notifications, 0, "delivered: no notification left");
    is_uint(st->backlog_alerts, 0, "delivered: no alert left");
    is_uint(st->backlog_bytes, 0, "delivered: no byte left");
    is_uint(st->backlog_oldest_ns, 0, "delivered: no oldest");
    ok(!held(&c, 0) && !held(&c, 1), "delivered: references dropped");

    /* Given up (a FAILED verdict). */
    verdict = ND_VERDICT_FAILED;
    submit(&c, 4);
    is_uint(st->backlog_alerts, 4, "submit after: 4 alerts");
    is_uint(st->backlog_oldest_ns, 3 * ND_NS_PER_S, "the oldest is the new one");
    want_ended = 3;
    ok(run_until_ms(c.base, cond_ended, c.r, 5000), "given up");
    is_uint(st->failed, 1, "counted failed");
    is_uint(st->backlog_alerts, 0, "given up: released");
    is_uint(st->backlog_bytes, 0, "given up: bytes released");
    is_uint(st->dropped, 0, "nothing dropped without drop_oldest");
    teardown(&c);
}

/* The oldest goes first, whether it waits in the FIFO or in the retry
 * heap, and the new notification is never the one dropped. */
static void test_drop_oldest_order(void)
{
    struct ctx c;
    const struct nd_receiver_stats *st;
    int i;

    setup(&c, "max_in_flight = 2\nmax_backlog = 4\noverflow = drop_oldest\n");
    st = nd_receiver_stats(c.r);
    /* 0..3 parked in the retry heap. */
    for (i = 0; i < 4; i++)
        submit(&c, 1);
    want_queued_heap = 4;
    ok(run_until_ms(c.base, cond_parked, c.r, 5000), "4 notifications wait for a retry");
    is_uint(st->dropped, 0, "at the limit: nothing dropped");
    /* 4 and 5 queued (the loop does not run): 0 and 1 go, in that order. */
    submit(&c, 1);
    is_uint(st->dropped, 1, "one over: one dropped");
    ok(!held(&c, 0) && held(&c, 1), "the oldest (0) was dropped, 1 kept");
    submit(&c, 1);
    is_uint(st->dropped, 2, "two over: two dropped");
    ok(!held(&c, 1) && held(&c, 2) && held(&c, 5), "then 1; 2..5 kept");
    is_uint(st->backlog_alerts, 4, "backlog back at 4 alerts");
    is_uint(st->backlog_oldest_ns, 3 * ND_NS_PER_S, "the oldest is now 2 (created at 3 s)");
    ok(nended == 2 && ended[0] == c.subs[0] && ended[1] == c.subs[1], "outcome hook: 0 then 1");
    ok(nended >= 1 && strstr(ended_why[0], "dropped: backlog full (max_backlog 4)") != NULL,
       "outcome reason: %s", nended ? ended_why[0] : "");
    is_uint(st->failed, 0, "a drop is not counted failed");
    /* Queued jobs (4, 5, never attempted) are newer than the parked ones:
     * a two-alert notification makes room by dropping 2 and 3 (heap). */
    submit(&c, 2);
    is_uint(st->dropped, 4, "a 2-alert notification drops two");
    ok(!held(&c, 2) && !held(&c, 3) && held(&c, 4) && held(&c, 5) && held(&c, 6),
       "2 and 3 dropped from the retry heap; 4, 5, 6 kept");
    is_uint(nd__receiver_retry_waiting(c.r), 0, "the heap is empty");
    is_uint(st->queued, 3, "queued gauge: the 3 left");
    is_uint(st->backlog_alerts, 4, "4 alerts held");
    /* A notification bigger than the limit on its own is kept. */
    submit(&c, 6);
    ok(held(&c, 7), "a 6-alert notification over max_backlog 4 is kept");
    ok(!held(&c, 4) && !held(&c, 5) && !held(&c, 6), "everything older made room");
    is_uint(st->backlog_alerts, 6, "backlog: that one notification");
    is_uint(st->dropped, 7, "7 dropped in all");
    is_uint(nd_engine_pending(c.e), 1, "pending: 1");
    teardown(&c);
}

/* Dropping releases the alerts: the global queue's count goes down when
 * the receiver held their last reference. */
static void test_drop_releases_alerts(void)
{
    struct ctx c;
    struct nd_queue *q = nd_queue_new(1000, 1 << 30);
    const struct nd_receiver_stats *st;
    int i;

    setup(&c, "max_backlog = 10\noverflow = drop_oldest\n");
    st = nd_receiver_stats(c.r);
    for (i = 0; i < 30; i++) {
        struct nd_notification *n = mk_n(&c, 2);
        for (size_t k = 0; k < n->nalerts; k++)
            nd_queue_hold(q, n->alerts[k]);
        c.nsubs++;
        nd_receiver_submit_take(c.r, n); /* the test keeps no reference */
    }
    is_uint(st->dropped, 25, "30 notifications of 2, max_backlog 10: 25 dropped");
    is_uint(st->backlog_alerts, 10, "10 alerts held");
    is_uint(nd_queue_count(q), 10, "the global queue holds 10 alerts, not 60");
    c.nsubs = 0;
    teardown(&c);
    is_uint(nd_queue_count(q), 0, "engine freed: nothing held");
    nd_queue_free(q);
}

/* One WARN summary line, not one per notification; it comes from a timer
 * and is flushed at nd_engine_free. */
static void test_drop_log(void)
{
    struct ctx c;
    char *log;
    const char *p;
    int lines = 0, i;

    log_capture();
    setup(&c, "max_backlog = 2\noverflow = drop_oldest\n");
    for (i = 0; i < 50; i++)
        submit(&c, 1);
    teardown(&c);
    log = log_take();
    for (p = log; (p = strstr(p, "notifications dropped: backlog full")); p++)
        lines++;
    is_int(lines, 1, "48 drops: one summary line");
    ok(strstr(log, "notifications=48") && strstr(log, "alerts=48") && strstr(log, "receiver=bl") &&
           strstr(log, "max_backlog=2"),
       "it names the receiver and counts notifications and alerts");
    ok(!strstr(log, "notification not delivered"), "no line per notification");
    if (lines != 1)
        printf("# %s\n", log);
    free(log);
}

/* A request on the wire is never dropped, even when it is the oldest. */
static void test_in_flight_kept(void)
{
    struct ctx c;
    const struct nd_receiver_stats *st;
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    char keys[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Listening, never accepting: the kernel completes the connection,
     * the request is sent and no answer ever comes. */
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
        abort();
    setup(&c, "");
    snprintf(keys, sizeof(keys),
             "url = http://127.0.0.1:%d/\nmax_in_flight = 1\ntimeout = 60s\n"
             "max_backlog = 1\noverflow = drop_oldest\n",
             ntohs(sa.sin_port));
    c.r = add_receiver(&c, "hook", "webhook", keys);
    st = nd_receiver_stats(c.r);
    submit(&c, 1);
    run_until_ms(c.base, cond_never, NULL, 50);
    is_uint(st->in_flight, 1, "the first notification is in flight");
    submit(&c, 1);
    is_uint(st->dropped, 0, "the second overfills, but the oldest is in flight: kept");
    ok(held(&c, 0) && held(&c, 1), "both held (backlog over the limit by what is in flight)");
    is_uint(st->backlog_alerts, 2, "2 alerts held");
    submit(&c, 1);
    is_uint(st->dropped, 1, "the third drops the waiting one");
    ok(held(&c, 0) && !held(&c, 1) && held(&c, 2), "in flight kept, the waiting one dropped");
    is_uint(st->in_flight, 1, "still in flight");
    teardown(&c);
    close(fd);
}

/* overflow = backpressure: the signal ingest asks for. */
static void test_backpressure(void)
{
    struct ctx c;
    char err[ND_ERRLEN] = "";
    struct nd_receiver *other;

    setup(&c, "max_backlog = 3\n");
    other = add_receiver(&c, "other", "blsink", "max_backlog = 1\noverflow = drop_oldest\n");
    is_int(nd_engine_admit(c.e, err), ND_OK, "empty: admitted");
    submit(&c, 2);
    is_int(nd_engine_admit(c.e, err), ND_OK, "2 of 3: admitted");
    submit(&c, 1);
    is_int(nd_engine_admit(c.e, err), ND_EFULL, "3 of 3: full");
    ok(strstr(err, "receiver bl") && strstr(err, "max_backlog 3"), "the error names it: %s", err);
    is_uint(nd_receiver_stats(c.r)->dropped, 0, "backpressure drops nothing");
    submit(&c, 1);
    ok(held(&c, 2), "a notification over the limit is still taken (it was accepted)");
    is_uint(nd_receiver_stats(c.r)->backlog_alerts, 4, "4 alerts held");
    /* The drop_oldest receiver never says full. */
    for (int i = 0; i < 3; i++) {
        struct nd_notification *n = mk_n(&c, 1);
        n->receiver = "other";
        nd_receiver_submit_take(other, n);
    }
    is_uint(nd_receiver_stats(other)->dropped, 2, "other: 2 dropped");
    verdict = ND_VERDICT_DELIVERED;
    want_ended = 3;
    if (!ok(run_until_ms(c.base, cond_ended, c.r, 5000), "bl delivers its 3"))
        printf("# delivered %llu failed %llu dropped %llu queued %llu sink calls %d\n",
               (unsigned long long)nd_receiver_stats(c.r)->delivered,
               (unsigned long long)nd_receiver_stats(c.r)->failed,
               (unsigned long long)nd_receiver_stats(c.r)->dropped,
               (unsigned long long)nd_receiver_stats(c.r)->queued, sink_calls);
    err[0] = '\0';
    is_int(nd_engine_admit(c.e, err), ND_OK, "delivered: admitted again (%s)", err);
    teardown(&c);

    /* max_backlog = 0: no limit of its own. */
    setup(&c, "");
    for (int i = 0; i < 20; i++)
        submit(&c, 1);
    is_int(nd_engine_admit(c.e, err), ND_OK, "max_backlog = 0: never full");
    teardown(&c);
}

/* overflow = spill: the engine never refuses for the receiver once the
 * daemon says there is a log to spill to; without one, it holds back like
 * backpressure. Spilling itself is the daemon's (test_spill.py). */
static void test_spill_admit(void)
{
    struct ctx c;
    char err[ND_ERRLEN] = "";

    setup(&c, "max_backlog = 2\noverflow = spill\n[queue]\nwal_dir = /nonexistent-wal\n");
    is_uint(nd_receiver_delivery(c.r)->overflow, ND_OVERFLOW_SPILL, "overflow = spill read");
    is_uint(nd_receiver_delivery(c.r)->spill_max_alerts, 1000000, "spill_max_alerts default");
    submit(&c, 2);
    is_int(nd_engine_admit(c.e, err), ND_EFULL, "no log yet: full refuses");
    ok(strstr(err, "receiver bl") && strstr(err, "overflow = spill"), "the error says so: %s", err);
    nd_engine_set_spill(c.e, true);
    err[0] = '\0';
    is_int(nd_engine_admit(c.e, err), ND_OK, "with a log: never refuses (%s)", err);
    submit(&c, 3);
    is_int(nd_engine_admit(c.e, err), ND_OK, "over the limit: still admitted");
    is_uint(nd_receiver_stats(c.r)->dropped, 0, "spill drops nothing in the engine");
    teardown(&c);
}

int main(void)
{
    nd_log_set_level(ND_LOG_WARN);
    T = nd_template_set_new();
    if (nd_receiver_type_register(&bl_type) != ND_OK)
        abort();
    test_accounting();
    test_drop_oldest_order();
    test_drop_releases_alerts();
    test_drop_log();
    test_in_flight_kept();
    test_backpressure();
    test_spill_admit();
    nd_template_set_free(T);
    return done_testing();
}
