/* aggregate.h - the aggregation stage: one receiver's alerts of one batch
 * become one notification per group (NM's pkg/aggregation).
 *
 * The group of an alert is the tuple of its values of the configured group
 * labels, a missing label counting as "" (so "absent" and "empty" group
 * together, as in NM). No group labels = one group for the whole batch.
 * Groups come out in the order of their first alert in the batch; alerts
 * keep batch order inside a group. See docs/pipeline.md for the labels a
 * notification carries.
 */
#ifndef NOTIFYD_AGGREGATE_H
#define NOTIFYD_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

struct nd_alert;
struct nd_notification;
struct nd_aggregator;

/* Copies the label names (duplicates are ignored). Reuses its scratch space
 * across runs: keep one per pipeline. */
struct nd_aggregator *nd_aggregator_new(const char *const *group_labels, size_t n);
void nd_aggregator_free(struct nd_aggregator *ag); /* NULL is a no-op */

/* Groups `alerts` (borrowed; each notification takes its own references) for
 * the receiver `receiver` (borrowed by the notifications: it must outlive
 * them; NULL or "" = no virtual receiver label). Returns the number of
 * notifications and sets *out to a malloc'd array of them (the caller frees
 * the array and owns one reference on each), or to NULL when n is 0. */
size_t nd_aggregator_run(struct nd_aggregator *ag, const char *receiver,
                         struct nd_alert *const *alerts, size_t n, int64_t created_ns,
                         struct nd_notification ***out);

/* Slots of the group table the last run cleared (for the tests): the
 * smallest power of two >= max(16, 2n) for a batch of n, whatever batches
 * came before. */
size_t nd_aggregator_table_cleared(const struct nd_aggregator *ag);

#endif
