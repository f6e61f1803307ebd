/* queue.h - admission control: how many alerts and bytes notifyd holds.
 *
 * "Held" means accepted and not yet finished: waiting in an open batch, or
 * part of a notification that is queued, in flight or waiting for a retry.
 * An alert block is counted from nd_queue_hold() until its last reference is
 * dropped (alert.h). A request is admitted whole or not at all: ingest asks
 * nd_queue_admit() for all its alerts before holding any of them.
 *
 * The bytes of an alert are its a->size, its logical size: the struct, its
 * references and every string with its NUL as if nothing were shared,
 * interned or encoded (annotation values counted expanded). It depends on
 * the alert alone, so the same request is admitted or refused whatever else
 * is held; it is above what the alert really costs on the heap, and it
 * leaves out what notifications and delivery jobs cost (alert.h,
 * docs/memory.md has both figures). nd_queue_release() may give free heap
 * pages back to the kernel after a large drain (queue.c).
 */
#ifndef NOTIFYD_QUEUE_H
#define NOTIFYD_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct nd_alert;
struct nd_queue;

struct nd_queue *nd_queue_new(uint64_t max_alerts, uint64_t max_bytes);
/* The queue must outlive every alert it holds. */
void nd_queue_free(struct nd_queue *q);
/* ND_OK when n more alerts of `bytes` in total fit, else ND_EFULL. Changes nothing. */
int nd_queue_admit(const struct nd_queue *q, size_t n, uint64_t bytes);
/* Counts the alert as held and remembers the queue in it. */
void nd_queue_hold(struct nd_queue *q, struct nd_alert *a);
/* Called by nd_alert_unref() when a held block is about to be freed. */
void nd_queue_release(struct nd_queue *q, const struct nd_alert *a);
/* Called with each held alert as its last reference goes (the write-ahead
 * log records it as complete); fn NULL removes the hook. */
typedef void nd_queue_release_hook(void *ud, const struct nd_alert *a);
void nd_queue_set_release_hook(struct nd_queue *q, nd_queue_release_hook *fn, void *ud);
uint64_t nd_queue_count(const struct nd_queue *q);
uint64_t nd_queue_bytes(const struct nd_queue *q);
uint64_t nd_queue_max_alerts(const struct nd_queue *q);
uint64_t nd_queue_max_bytes(const struct nd_queue *q);
/* New limits (a reload): only admissions from now on are checked against
 * them; alerts already held stay, even above a lowered limit. */
void nd_queue_set_limits(struct nd_queue *q, uint64_t max_alerts, uint64_t max_bytes);
/* How many times a drain gave free heap pages back (malloc_trim, see queue.c). */
uint64_t nd_queue_trims(const struct nd_queue *q);

#endif
