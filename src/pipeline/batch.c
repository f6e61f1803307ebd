/* batch.c - the batcher (batch.h).
 *
 * The open batch is an array of alert pointers that grows up to max_size. A
 * closed batch is detached before the callback runs, so the callback may push
 * (into a fresh batch) or flush without seeing a half-reset batcher; its
 * array comes back as the spare afterwards, so steady state allocates
 * nothing per batch.
 */
#include "notifyd/batch.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>

#include "notifyd/alert.h"
#include "notifyd/util.h"

struct nd_batcher {
    struct event *timer; /* one-shot, pending only while the open batch is non-empty */
    uint32_t max_size;
    int64_t max_wait_ns;
    nd_batch_cb *cb;
    void *ud;
    struct nd_alert **open; /* the open batch, one reference each */
    size_t n;
    size_t cap;
    struct nd_alert **spare; /* a closed batch's array, kept for reuse */
    size_t spare_cap;
    int64_t first_ns; /* monotonic time of the open batch's first alert */
    uint64_t closed;
};

static void close_batch(struct nd_batcher *b)
{
    if (b->n == 0)
        return;
    evtimer_del(b->timer);
    struct nd_alert **arr = b->open;
    size_t n = b->n, cap = b->cap;
    b->open = b->spare;
    b->cap = b->spare_cap;
    b->spare = NULL;
    b->spare_cap = 0;
    b->n = 0;
    b->closed++;

    b->cb(arr, n, b->ud);

    for (size_t i = 0; i < n; i++)
        nd_alert_unref(arr[i]);
    if (!b->spare) {
        b->spare = arr;
        b->spare_cap = cap;
    } else {
        free(arr); /* a nested close already returned its array */
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct nd_batcher *b = arg;
    ND_UNUSED(fd);
    ND_UNUSED(what);
    /* libevent's clock is coarse and its time is cached per loop iteration,
     * so it may fire a little early by our clock: wait out the rest rather
     * than close a batch before max_wait. */
    int64_t left = b->first_ns + b->max_wait_ns - nd_now_mono_ns();
    if (left > 0) {
        struct timeval tv = nd_ns_to_timeval(left);
        evtimer_add(b->timer, &tv);
        return;
    }
    close_batch(b);
}

struct nd_batcher *nd_batcher_new(struct event_base *base, uint32_t max_size, int64_t max_wait_ns,
                                  nd_batch_cb *cb, void *ud)
{
    struct nd_batcher *b = nd_xcalloc(1, sizeof *b);
    b->timer = evtimer_new(base, on_timer, b);
    if (!b->timer) {
        /* libevent fails here only when out of memory, and OOM aborts. */
        fputs("notifyd: out of memory (evtimer_new)\n", stderr);
        abort();
    }
    b->max_size = max_size ? max_size : 1;
    b->max_wait_ns = max_wait_ns > 0 ? max_wait_ns : 0;
    b->cb = cb;
    b->ud = ud;
    return b;
}

void nd_batcher_free(struct nd_batcher *b)
{
    if (!b)
        return;
    event_free(b->timer);
    for (size_t i = 0; i < b->n; i++)
        nd_alert_unref(b->open[i]);
    free(b->open);
    free(b->spare);
    free(b);
}

void nd_batcher_push_take(struct nd_batcher *b, struct nd_alert *a)
{
    if (b->n == b->cap) {
        /* Grows with input, so max_size is the ceiling. */
        size_t cap = b->cap ? b->cap * 2 : 16;
        if (cap > b->max_size)
            cap = b->max_size;
        b->open = nd_xrealloc(b->open, cap * sizeof *b->open);
        b->cap = cap;
    }
    b->open[b->n++] = a;
    if (b->n >= b->max_size) {
        close_batch(b);
        return;
    }
    if (b->n == 1) {
        struct timeval tv = nd_ns_to_timeval(b->max_wait_ns);
        b->first_ns = nd_now_mono_ns();
        evtimer_add(b->timer, &tv);
    }
}

void nd_batcher_flush(struct nd_batcher *b)
{
    close_batch(b);
}

size_t nd_batcher_open_count(const struct nd_batcher *b)
{
    return b->n;
}

uint64_t nd_batcher_closed_count(const struct nd_batcher *b)
{
    return b->closed;
}
