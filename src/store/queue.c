/* queue.c - counts what notifyd holds, so ingest can say 503 in time.
 *
 * It also gives memory back: alert blocks are small heap chunks, so after a
 * backlog drains (a receiver came back) glibc keeps the freed pages in its
 * heap. When the bytes held fall to a quarter of their peak, and that peak
 * was big, malloc_trim() returns the free pages to the kernel. Trimming
 * walks the heap, so it is rare by construction: once per big drain.
 */
#include "notifyd/queue.h"

#include <malloc.h>
#include <stdlib.h>

#include "notifyd/alert.h"
#include "notifyd/util.h"

struct nd_queue {
    uint64_t max_alerts;
    uint64_t max_bytes;
    uint64_t count; /* alert blocks alive */
    uint64_t bytes; /* their sizes */
    uint64_t peak;  /* most bytes held since the last trim */
    uint64_t trims;
    nd_queue_release_hook *hook;
    void *hook_ud;
};

#define TRIM_MIN_PEAK (UINT64_C(64) << 20)

struct nd_queue *nd_queue_new(uint64_t max_alerts, uint64_t max_bytes)
{
    struct nd_queue *q = nd_xcalloc(1, sizeof *q);
    q->max_alerts = max_alerts;
    q->max_bytes = max_bytes;
    return q;
}

void nd_queue_free(struct nd_queue *q)
{
    free(q);
}

int nd_queue_admit(const struct nd_queue *q, size_t n, uint64_t bytes)
{
    if (n > q->max_alerts - q->count || q->count > q->max_alerts)
        return ND_EFULL;
    if (bytes > q->max_bytes - q->bytes || q->bytes > q->max_bytes)
        return ND_EFULL;
    return ND_OK;
}

void nd_queue_hold(struct nd_queue *q, struct nd_alert *a)
{
    a->queue = q;
    q->count++;
    q->bytes += a->size;
    if (q->bytes > q->peak)
        q->peak = q->bytes;
}

void nd_queue_set_release_hook(struct nd_queue *q, nd_queue_release_hook *fn, void *ud)
{
    q->hook = fn;
    q->hook_ud = ud;
}

void nd_queue_release(struct nd_queue *q, const struct nd_alert *a)
{
    if (q->hook)
        q->hook(q->hook_ud, a);
    q->count--;
    q->bytes -= a->size;
    if (q->peak >= TRIM_MIN_PEAK && q->bytes <= q->peak / 4) {
        malloc_trim(0);
        q->trims++;
        q->peak = q->bytes;
    }
}

uint64_t nd_queue_trims(const struct nd_queue *q)
{
    return q->trims;
}

uint64_t nd_queue_count(const struct nd_queue *q)
{
    return q->count;
}

uint64_t nd_queue_bytes(const struct nd_queue *q)
{
    return q->bytes;
}

uint64_t nd_queue_max_alerts(const struct nd_queue *q)
{
    return q->max_alerts;
}

uint64_t nd_queue_max_bytes(const struct nd_queue *q)
{
    return q->max_bytes;
}

void nd_queue_set_limits(struct nd_queue *q, uint64_t max_alerts, uint64_t max_bytes)
{
    q->max_alerts = max_alerts;
    q->max_bytes = max_bytes;
}
