/* notification.c - the notification object (notification.h).
 *
 * The aggregator's notifications are one block (nd_notification_new, or
 * nd_notification_new_derived for one alert without common arrays); one
 * built by hand gives each array its own malloc. The strings in the arrays
 * are borrowed and never freed here.
 */
#include "notifyd/notification.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/util.h"

_Static_assert(sizeof(struct nd_notification) == 96, "struct nd_notification has padding");
_Static_assert(sizeof(struct nd_kv) % alignof(struct nd_alert *) == 0 &&
                   sizeof(struct nd_notification) % alignof(struct nd_kv) == 0,
               "the arrays follow the struct without padding");

size_t nd_notification_block_size(size_t nalerts, size_t ngroup_labels, size_t ncommon_labels,
                                  size_t ncommon_annotations)
{
    return sizeof(struct nd_notification) + nalerts * sizeof(struct nd_alert *) +
           (ngroup_labels + ncommon_labels + ncommon_annotations) * sizeof(struct nd_kv);
}

struct nd_notification *nd_notification_new(size_t nalerts, size_t ngroup_labels,
                                            size_t ncommon_labels, size_t ncommon_annotations)
{
    /* Counts are bounded by the batch and the labels of one alert. */
    if (nalerts > UINT32_MAX || ngroup_labels > UINT32_MAX || ncommon_labels > UINT32_MAX ||
        ncommon_annotations > UINT32_MAX)
        abort();
    struct nd_notification *n = nd_xmalloc(
        nd_notification_block_size(nalerts, ngroup_labels, ncommon_labels, ncommon_annotations));
    memset(n, 0, sizeof *n);
    n->refs = 1;
    n->packed = 1;
    /* kv arrays first: 16-byte elements keep the alert pointers aligned too */
    struct nd_kv *kv = (struct nd_kv *)(void *)(n + 1);
    n->ngroup_labels = ngroup_labels;
    n->group_labels = ngroup_labels ? kv : NULL;
    kv += ngroup_labels;
    n->ncommon_labels = ncommon_labels;
    n->common_labels = ncommon_labels ? kv : NULL;
    kv += ncommon_labels;
    n->ncommon_annotations = ncommon_annotations;
    n->common_annotations = ncommon_annotations ? kv : NULL;
    kv += ncommon_annotations;
    n->nalerts = nalerts;
    n->alerts = nalerts ? (struct nd_alert **)(void *)kv : NULL;
    return n;
}

size_t nd_notification_derived_size(size_t ngroup_labels)
{
    return sizeof(struct nd_notification) + sizeof(struct nd_alert *) +
           (ngroup_labels > ND_NOTIFICATION_GROUP_AT ? ngroup_labels * sizeof(uint16_t) : 0);
}

struct nd_notification *nd_notification_new_derived(size_t ngroup_labels)
{
    /* Positions index an alert's labels, which are fewer than 65536. */
    if (ngroup_labels > UINT16_MAX)
        abort();
    struct nd_notification *n = nd_xmalloc(nd_notification_derived_size(ngroup_labels));
    memset(n, 0, sizeof *n);
    n->refs = 1;
    n->packed = 1;
    n->derived = 1;
    n->nalerts = 1;
    n->alerts = (struct nd_alert **)(void *)(n + 1);
    n->ngroup_labels = ngroup_labels;
    return n;
}

static nd_notification_done_hook *done_hook;
static void *done_hook_ud;

void nd_notification_set_done_hook(nd_notification_done_hook *fn, void *ud)
{
    done_hook = fn;
    done_hook_ud = ud;
}

void nd_notification_unref(struct nd_notification *n)
{
    if (!n || --n->refs > 0)
        return;
    if (done_hook)
        done_hook(done_hook_ud, n);
    for (size_t i = 0; i < n->nalerts; i++)
        nd_alert_unref(n->alerts[i]);
    if (!n->packed) {
        free(n->alerts);
        free(n->group_labels);
        free(n->common_labels);
        free(n->common_annotations);
    }
    free(n);
}
