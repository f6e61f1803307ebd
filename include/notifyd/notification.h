/* notification.h - one group of alerts for one receiver: what gets rendered
 * and delivered. Built by the aggregate stage (pipeline), consumed by the
 * delivery engine (notify).
 *
 * A notification holds one reference on each of its alerts. Its arrays are
 * its own, but the strings in them are borrowed from the alerts (or from the
 * receiver name), which outlive it. The aggregator makes each notification
 * one allocation, the struct followed by its arrays (nd_notification_new()):
 * with the bench's grouping (~5 alerts a notification, 1,000,000 held behind
 * a receiver that is down) four or five allocations a notification cost
 * ~10 bytes per held alert in headers and rounding alone. A notification
 * built by hand (tests) may still give each array its own malloc: `packed`
 * tells which. The counts stay size_t for those hand-built ones (they are
 * filled through size_t pointers) and for readers that print them with %zu.
 *
 * Common annotations borrow no value: an annotation value may not exist as
 * a C string (alert.h), so the aggregator leaves each value NULL, meaning
 * "the value of alerts[0]'s annotation of this name" (equal in every alert,
 * that is what makes it common). Read them with
 * nd_notification_common_annotation(), which also accepts arrays built by
 * hand with the values filled in. Why not copies: with small groups (one
 * alert per group is common) every annotation is common, and copies would
 * double what annotations cost per held alert.
 *
 * The label receiver=<name> that NM adds to every alert sent to a named
 * receiver is not written into the shared alert blocks: it is virtual, and
 * nd_notification_labels() merges it in. common_labels already contains it.
 *
 * A notification of one alert whose annotations are all non-empty (the
 * usual case when groups are small) has no common label and annotation
 * arrays (`derived`): its common labels are its alert's labels as the
 * receiver sees them and its common annotations are all its alert's, so
 * nothing is stored for them. Behind a receiver that is down, with alerts
 * of many groups, a million such notifications wait at once: the arrays
 * (16 bytes a label or annotation) cost as much as the alert. Its group
 * labels are kept as positions in the alert's labels (2 bytes each: up to
 * four in place of the group_labels pointer, which keeps the block at 104
 * bytes, a 112-byte malloc chunk; more after the alert pointer). The counts are kept; read the
 * entries with nd_notification_group_labels(),
 * nd_notification_common_labels() and nd_notification_common_annotation(),
 * which serve both forms.
 */
#ifndef NOTIFYD_NOTIFICATION_H
#define NOTIFYD_NOTIFICATION_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "notifyd/alert.h"

/* Group label positions a derived notification keeps in its struct. */
#define ND_NOTIFICATION_GROUP_AT 4

/* 96 bytes, no padding. */
struct nd_notification {
    uint32_t refs;
    uint8_t status;       /* firing when any alert fires, else resolved */
    uint8_t packed;       /* the arrays live in this block (nd_notification_new) */
    uint8_t derived;      /* one alert, no common arrays: they are alerts[0]'s (above) */
    const char *receiver; /* receiver name, borrowed (lives as long as the daemon) */
    size_t nalerts;
    struct nd_alert **alerts; /* one reference each, in batch order */
    size_t ngroup_labels;
    union {
        struct nd_kv *group_labels; /* sorted; empty values left out */
        /* derived: the positions of up to ND_NOTIFICATION_GROUP_AT group
         * labels; more follow the alert pointer (nd_notification_group_at) */
        uint16_t group_at[4];
    };
    size_t ncommon_labels;
    struct nd_kv *common_labels; /* sorted; equal across all alerts; receiver label included;
                                  * NULL when derived */
    size_t ncommon_annotations;
    struct nd_kv *common_annotations; /* sorted; value NULL = alerts[0]'s (above); NULL when
                                       * derived */
    /* The group's identity within this process: a hash of the group label
     * values (missing = ""), seeded per process (alert.h's value hash). It
     * is rendered nowhere; equal keys do not prove equal groups. */
    uint64_t group_key;
    int64_t created_ns; /* wall clock when the batch closed */
};

/* One block: the struct (refs = 1, packed, everything else zero but the
 * counts) followed by the arrays, whose pointers are set (NULL for an empty
 * one). The caller fills the arrays; nd_notification_unref frees the block. */
struct nd_notification *nd_notification_new(size_t nalerts, size_t ngroup_labels,
                                            size_t ncommon_labels, size_t ncommon_annotations);
/* A derived notification of one alert (above): the struct, the alert
 * pointer and ngroup_labels positions (nd_notification_group_at()), which
 * the caller fills; refs = 1, packed, derived, nalerts = 1, the alert
 * pointer to fill too, the other counts zero. */
struct nd_notification *nd_notification_new_derived(size_t ngroup_labels);
/* Its bytes (for figures and tests). */
size_t nd_notification_derived_size(size_t ngroup_labels);
/* The positions of a derived notification's group labels in alerts[0]'s
 * labels, sorted by name as the labels are. */
static inline uint16_t *nd_notification_group_at(struct nd_notification *n)
{
    if (n->ngroup_labels <= ND_NOTIFICATION_GROUP_AT)
        return n->group_at;
    return (uint16_t *)(void *)(n->alerts + 1);
}
/* The bytes of that block (for figures and tests). */
size_t nd_notification_block_size(size_t nalerts, size_t ngroup_labels, size_t ncommon_labels,
                                  size_t ncommon_annotations);

static inline void nd_notification_ref(struct nd_notification *n)
{
    n->refs++;
}
/* The last reference drops the alert references and frees the block (and
 * the arrays of one built by hand). */
void nd_notification_unref(struct nd_notification *n);
/* Called with each notification as its last reference goes, before its
 * alerts are released: delivered, given up or dropped, its receiver is done
 * with it (the write-ahead log records that). One hook per process (one
 * daemon); fn NULL removes it. */
typedef void nd_notification_done_hook(void *ud, const struct nd_notification *n);
void nd_notification_set_done_hook(nd_notification_done_hook *fn, void *ud);
/* The labels of alert `a` as this notification's receiver sees them: the
 * alert's own labels plus receiver=<name> when the alert has no `receiver`
 * label. `out` needs a->nlabels + 1 entries; returns how many were written,
 * sorted by name. Inline, like the accessors below. */
static inline size_t nd_notification_labels(const struct nd_notification *n,
                                            const struct nd_alert *a, struct nd_kv *out)
{
    /* NM adds receiver=<name> only for named receivers, and never overrides
     * a receiver label the alert already carries. */
    int add = n->receiver && n->receiver[0] && !nd_alert_label(a, "receiver");
    size_t k = 0;
    for (size_t i = 0; i < a->nlabels; i++) {
        struct nd_kv kv = nd_alert_label_at(a, i);
        if (add && strcmp(kv.name, "receiver") > 0) {
            out[k].name = "receiver";
            out[k].value = n->receiver;
            k++;
            add = 0;
        }
        out[k++] = kv;
    }
    if (add) {
        out[k].name = "receiver";
        out[k].value = n->receiver;
        k++;
    }
    return k;
}
/* The group labels (n->ngroup_labels of them, sorted): the array, or for a
 * derived notification alerts[0]'s labels at the stored positions, written
 * into `out` (n->ngroup_labels entries). */
static inline const struct nd_kv *nd_notification_group_labels(const struct nd_notification *n,
                                                               struct nd_kv *out)
{
    if (!n->derived)
        return n->group_labels;
    const uint16_t *at = n->ngroup_labels <= ND_NOTIFICATION_GROUP_AT
                             ? n->group_at
                             : (const uint16_t *)(const void *)(n->alerts + 1);
    for (size_t i = 0; i < n->ngroup_labels; i++)
        out[i] = nd_alert_label_at(n->alerts[0], at[i]);
    return out;
}
/* The common labels (n->ncommon_labels of them, sorted): the array, or for a
 * derived notification alerts[0]'s labels as the receiver sees them, written
 * into `out` (n->ncommon_labels entries). Valid while `out` and n are. */
static inline const struct nd_kv *nd_notification_common_labels(const struct nd_notification *n,
                                                                struct nd_kv *out)
{
    if (!n->derived)
        return n->common_labels;
    nd_notification_labels(n, n->alerts[0], out);
    return out;
}
/* Common annotation i (< n->ncommon_annotations). The value is valid until
 * `scratch` next changes (see nd_alert_annotation_value). Inline, so that
 * readers outside the pipeline layer (templates) need only the store. */
static inline struct nd_kv nd_notification_common_annotation(const struct nd_notification *n,
                                                             size_t i, struct nd_buf *scratch)
{
    if (n->derived)
        return nd_alert_annotation_at(n->alerts[0], i, scratch);
    struct nd_kv kv = n->common_annotations[i];
    if (!kv.value) {
        size_t j = n->nalerts ? nd_alert_annotation_find(n->alerts[0], kv.name) : SIZE_MAX;
        /* Not found cannot happen for what the aggregator built; "" rather
         * than a crash for a notification built by hand that got it wrong. */
        kv.value = j == SIZE_MAX ? "" : nd_alert_annotation_value(n->alerts[0], j, scratch);
    }
    return kv;
}

#endif
