/* queue.c - counts what notifyd holds, so ingest can say 503 in time. */
#include "notifyd/queue.h"

#include <stdlib.h>

#include "notifyd/alert.h"
#include "notifyd/util.h"

struct nd_queue {
    uint64_t max_alerts;
    uint64_t max_bytes;
    uint64_t count; /* alert blocks alive */
    uint64_t bytes; /* their sizes */
};

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
}

void nd_queue_release(struct nd_queue *q, uint32_t size)
{
    q->count--;
    q->bytes -= size;
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
