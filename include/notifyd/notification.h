/* notification.h - one group of alerts for one receiver: what gets rendered
 * and delivered. Built by the aggregate stage (pipeline), consumed by the
 * delivery engine (notify).
 *
 * A notification holds one reference on each of its alerts. Its key/value
 * arrays are its own allocations, but the strings in them are borrowed from
 * the alerts (or from the receiver name), which outlive it.
 *
 * The label receiver=<name> that NM adds to every alert sent to a named
 * receiver is not written into the shared alert blocks: it is virtual, and
 * nd_notification_labels() merges it in. common_labels already contains it.
 */
#ifndef NOTIFYD_NOTIFICATION_H
#define NOTIFYD_NOTIFICATION_H

#include <stddef.h>
#include <stdint.h>

#include "notifyd/alert.h"

struct nd_notification {
    uint32_t refs;
    const char *receiver; /* receiver name, borrowed (lives as long as the daemon) */
    uint8_t status;       /* firing when any alert fires, else resolved */
    size_t nalerts;
    struct nd_alert **alerts; /* one reference each, in batch order */
    size_t ngroup_labels;
    struct nd_kv *group_labels; /* sorted; empty values left out */
    size_t ncommon_labels;
    struct nd_kv *common_labels; /* sorted; equal across all alerts; receiver label included */
    size_t ncommon_annotations;
    struct nd_kv *common_annotations; /* sorted */
    uint64_t group_key;               /* fingerprint of the group labels (with empties) */
    int64_t created_ns;               /* wall clock when the batch closed */
};

static inline void nd_notification_ref(struct nd_notification *n)
{
    n->refs++;
}
/* The last reference frees the arrays and drops the alert references. */
void nd_notification_unref(struct nd_notification *n);
/* The labels of alert `a` as this notification's receiver sees them: the
 * alert's own labels plus receiver=<name> when the alert has no `receiver`
 * label. `out` needs a->nlabels + 1 entries; returns how many were written,
 * sorted by name. */
size_t nd_notification_labels(const struct nd_notification *n, const struct nd_alert *a,
                              struct nd_kv *out);

#endif
