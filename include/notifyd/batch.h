/* batch.h - the batcher: gathers accepted alerts into batches on the loop.
 *
 * Alerts are pushed one at a time. The open batch closes when it holds
 * max_size alerts (at once, inside the push that filled it) or when max_wait
 * has passed since its FIRST alert (a one-shot timer armed by that alert;
 * NM counts from the start of its Pull, which makes the wait of a lone alert
 * depend on when the previous batch closed: see docs/pipeline.md). Closing
 * calls the callback with the batch; the batcher holds one reference on each
 * alert until the callback returns, then drops it, so the callback refs
 * whatever it keeps. No timer is armed while the batch is empty.
 */
#ifndef NOTIFYD_BATCH_H
#define NOTIFYD_BATCH_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct nd_alert;
struct nd_batcher;

/* `alerts` (n >= 1, in push order) is borrowed for the call. The callback may
 * push into the batcher (the alerts go into the next batch) or flush it, but
 * must not free it. */
typedef void nd_batch_cb(struct nd_alert *const *alerts, size_t n, void *ud);

/* max_size 0 counts as 1; max_wait_ns < 0 counts as 0 (close on the next
 * loop iteration). The base must outlive the batcher. */
struct nd_batcher *nd_batcher_new(struct event_base *base, uint32_t max_size, int64_t max_wait_ns,
                                  nd_batch_cb *cb, void *ud);
/* Drops the open batch's references without calling back (flush first to
 * deliver them). NULL is a no-op. Not from inside the batch callback. */
void nd_batcher_free(struct nd_batcher *b);
/* Takes the caller's reference on `a`; may call the callback before it returns. */
void nd_batcher_push_take(struct nd_batcher *b, struct nd_alert *a);
/* Closes the open batch now (callback included) if it has alerts. */
void nd_batcher_flush(struct nd_batcher *b);
/* Alerts in the open batch. */
size_t nd_batcher_open_count(const struct nd_batcher *b);
/* Batches closed so far (any trigger). */
uint64_t nd_batcher_closed_count(const struct nd_batcher *b);

#endif
