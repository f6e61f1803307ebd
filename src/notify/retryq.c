/* retryq.c - a receiver's jobs waiting for a retry (RETRY_WAIT).
 *
 * A waiting job has no timer of its own: it sits in its receiver's
 * min-heap of due times, under one timer per receiver armed for the
 * earliest. Due jobs go back to the receiver's FIFO (engine.c).
 */
#include <stdbool.h>
#include <stdlib.h>

#include <event2/event.h>

#include "notifyd/parse.h"
#include "notifyd/util.h"
#include "engine_int.h"

/* Smallest retry heap array, in entries: it never shrinks below this. */
#define RETRY_HEAP_MIN 16

/* ns rounded up to a whole millisecond (0 when ns <= 0), saturated. */
static int64_t ceil_ms(int64_t ns)
{
    int64_t rem;

    if (ns <= 0)
        return 0;
    rem = ns % ND_NS_PER_MS;
    if (rem == 0)
        return ns;
    return ns > INT64_MAX - ND_NS_PER_MS ? INT64_MAX : ns - rem + ND_NS_PER_MS;
}

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
    tv = nd_ns_to_timeval(ceil_ms(wait));
    event_base_update_cache_time(r->e->base);
    evtimer_add(r->retry_ev, &tv);
}

void nd__retry_wait(struct nd_receiver *r, struct job *j, int64_t due_ns)
{
    j->state = JOB_RETRY_WAIT;
    heap_push(&r->retry, j, due_ns);
    if (j->u.heap_idx == 0)
        retry_arm(r);
}

/* Every job due moves to the back of the FIFO, earliest first. */
void nd__retry_on_due(evutil_socket_t fd, short what, void *arg)
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
        nd__schedule_pump(r, 0);
}

void nd__retry_remove(struct nd_receiver *r, struct job *j)
{
    uint32_t i = j->u.heap_idx;

    heap_remove(&r->retry, i);
    if (i == 0)
        retry_arm(r);
}

void nd__retry_deinit(struct retry_heap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
