/* test_batch.c - the batcher's size and time triggers, flush and refcounts. */
#include <event2/event.h>

#include "helpers.h"
#include "notifyd/batch.h"
#include "tap.h"

#define MS INT64_C(1000000)

struct rec {
    int calls;
    size_t sizes[16];
    char first_names[16][16];     /* alertname of each batch's first alert */
    int64_t closed_at[16];        /* monotonic */
    struct nd_alert *kept;        /* one alert the callback keeps a reference on */
    struct nd_batcher *push_back; /* push this alert into the batcher from the callback */
    struct nd_alert *push_alert;
    int order_ok;
};

static void on_batch(struct nd_alert *const *alerts, size_t n, void *ud)
{
    struct rec *r = ud;
    if (r->calls < 16) {
        r->sizes[r->calls] = n;
        snprintf(r->first_names[r->calls], sizeof r->first_names[0], "%s",
                 nd_alert_label(alerts[0], "alertname"));
        r->closed_at[r->calls] = nd_now_mono_ns();
    }
    r->calls++;
    r->order_ok = 1;
    for (size_t i = 1; i < n; i++)
        if (strcmp(nd_alert_label(alerts[i - 1], "i"), nd_alert_label(alerts[i], "i")) >= 0)
            r->order_ok = 0;
    if (!r->kept) {
        r->kept = alerts[0];
        nd_alert_ref(r->kept);
    }
    if (r->push_back && r->push_alert) {
        struct nd_alert *a = r->push_alert;
        r->push_alert = NULL;
        nd_batcher_push_take(r->push_back, a);
    }
}

static struct nd_alert *alert_i(struct nd_queue *q, const char *name, int i)
{
    char s[16];
    snprintf(s, sizeof s, "%03d", i);
    return mk_alert(q, ND_ALERT_FIRING, "alertname", name, "i", s, NULL, NULL);
}

static void test_size_trigger(void)
{
    struct event_base *base = event_base_new();
    struct nd_queue *q = nd_queue_new(1000, 1 << 24);
    struct rec r = {0};
    /* A long wait: only the size can close the batch in this test. */
    struct nd_batcher *b = nd_batcher_new(base, 3, 3600 * 1000 * MS, on_batch, &r);

    nd_batcher_push_take(b, alert_i(q, "s", 1));
    nd_batcher_push_take(b, alert_i(q, "s", 2));
    is_int(r.calls, 0, "2 of 3: no batch yet");
    is_uint(nd_batcher_open_count(b), 2, "two alerts open");
    is_uint(nd_queue_count(q), 2, "open alerts are held");
    nd_batcher_push_take(b, alert_i(q, "s", 3));
    is_int(r.calls, 1, "3 of 3: exactly one batch, inside the push");
    is_uint(r.sizes[0], 3, "of 3 alerts");
    ok(r.order_ok, "in push order");
    is_uint(nd_batcher_open_count(b), 0, "nothing open after the close");
    is_uint(nd_queue_count(q), 1, "batcher dropped its references; the kept one remains");
    ok(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 0, "no timer left armed");

    for (int i = 0; i < 7; i++)
        nd_batcher_push_take(b, alert_i(q, "t", 10 + i));
    is_int(r.calls, 3, "7 more alerts: two more full batches");
    is_uint(nd_batcher_open_count(b), 1, "and one open");
    is_uint(nd_batcher_closed_count(b), 3, "closed count");

    nd_batcher_flush(b);
    is_int(r.calls, 4, "flush closes the open batch");
    is_uint(r.sizes[3], 1, "of one alert");
    nd_batcher_flush(b);
    is_int(r.calls, 4, "flush when empty: no callback");
    ok(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 0, "no timer after flush");

    nd_alert_unref(r.kept);
    is_uint(nd_queue_count(q), 0, "all alerts released");
    nd_batcher_free(b);
    nd_queue_free(q);
    event_base_free(base);
}

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
    ND_UNUSED(fd);
    ND_UNUSED(what);
    *(int *)arg = 1;
}

static void test_time_trigger(void)
{
    struct event_base *base = event_base_new();
    struct nd_queue *q = nd_queue_new(1000, 1 << 24);
    struct rec r = {0};
    const int64_t wait = 50 * MS;
    struct nd_batcher *b = nd_batcher_new(base, 100, wait, on_batch, &r);

    event_base_loop(base, EVLOOP_NONBLOCK);
    is_int(r.calls, 0, "empty batcher: the loop has nothing to close");
    ok(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 0, "no timer while empty");

    int64_t t0 = nd_now_mono_ns();
    nd_batcher_push_take(b, alert_i(q, "w", 1));
    nd_batcher_push_take(b, alert_i(q, "w", 2));
    ok(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 1, "first alert armed a timer");

    /* Bounded: a guard timer ends the loop after 10 s whatever happens. */
    int guard_fired = 0;
    struct event *guard = evtimer_new(base, on_guard, &guard_fired);
    struct timeval gtv = {10, 0};
    evtimer_add(guard, &gtv);
    for (int i = 0; i < 1000 && r.calls == 0 && !guard_fired; i++)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(guard);

    is_int(r.calls, 1, "the batch closed on time");
    is_uint(r.sizes[0], 2, "with both alerts");
    ok(r.closed_at[0] - t0 >= wait, "not before max_wait (%lld ms >= 50 ms)",
       (long long)((r.closed_at[0] - t0) / MS));
    ok(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 0, "timer gone after close");

    /* The wait counts from the first alert of each batch, not from the
     * previous close: a new alert arms a fresh timer. */
    int64_t t1 = nd_now_mono_ns();
    nd_batcher_push_take(b, alert_i(q, "x", 3));
    guard_fired = 0;
    guard = evtimer_new(base, on_guard, &guard_fired);
    evtimer_add(guard, &gtv);
    for (int i = 0; i < 1000 && r.calls == 1 && !guard_fired; i++)
        event_base_loop(base, EVLOOP_ONCE);
    event_free(guard);
    is_int(r.calls, 2, "second batch closed on time");
    ok(r.closed_at[1] - t1 >= wait, "second wait measured from its first alert");
    is_str(r.first_names[1], "x", "second batch holds the new alert");

    nd_alert_unref(r.kept);
    is_uint(nd_queue_count(q), 0, "all alerts released");
    nd_batcher_free(b);
    nd_queue_free(q);
    event_base_free(base);
}

static void test_push_from_callback_and_free(void)
{
    struct event_base *base = event_base_new();
    struct nd_queue *q = nd_queue_new(1000, 1 << 24);
    struct rec r = {0};
    struct nd_batcher *b = nd_batcher_new(base, 2, 3600 * 1000 * MS, on_batch, &r);
    r.push_back = b;
    r.push_alert = alert_i(q, "late", 9);

    nd_batcher_push_take(b, alert_i(q, "p", 1));
    nd_batcher_push_take(b, alert_i(q, "p", 2));
    is_int(r.calls, 1, "one batch closed");
    is_uint(nd_batcher_open_count(b), 1, "the alert pushed from the callback opened a new batch");
    ok(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 1, "and armed its timer");

    nd_batcher_push_take(b, alert_i(q, "p", 3));
    is_int(r.calls, 2, "the new batch fills and closes");
    is_uint(r.sizes[1], 2, "with the late alert and the next one");
    is_str(r.first_names[1], "late", "late alert first");

    nd_batcher_push_take(b, alert_i(q, "q", 4));
    nd_batcher_free(b); /* drops the open alert without a callback */
    is_int(r.calls, 2, "free does not call back");
    nd_alert_unref(r.kept);
    is_uint(nd_queue_count(q), 0, "free released the open alert");
    nd_queue_free(q);
    event_base_free(base);
}

static void test_degenerate_limits(void)
{
    struct event_base *base = event_base_new();
    struct rec r = {0};
    /* max_size 0 counts as 1: every push is a batch. */
    struct nd_batcher *b = nd_batcher_new(base, 0, 3600 * 1000 * MS, on_batch, &r);
    nd_batcher_push_take(b, alert_i(NULL, "z", 1));
    is_int(r.calls, 1, "max_size 0: closes at one alert");
    nd_batcher_free(b);
    nd_alert_unref(r.kept);

    /* max_wait 0: the batch closes on the next loop iteration, not inside push. */
    struct rec r2 = {0};
    b = nd_batcher_new(base, 100, 0, on_batch, &r2);
    nd_batcher_push_take(b, alert_i(NULL, "z", 1));
    nd_batcher_push_take(b, alert_i(NULL, "z", 2));
    is_int(r2.calls, 0, "max_wait 0: not inside push");
    for (int i = 0; i < 100 && r2.calls == 0; i++)
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    is_int(r2.calls, 1, "max_wait 0: closed by the loop");
    is_uint(r2.sizes[0], 2, "with both alerts");
    nd_batcher_free(b);
    nd_alert_unref(r2.kept);
    event_base_free(base);
}

int main(void)
{
    test_size_trigger();
    test_time_trigger();
    test_push_from_callback_and_free();
    test_degenerate_limits();
    return done_testing();
}
