/* helpers.h - notifications built by hand for the notify unit tests. */
#ifndef NOTIFYD_TESTS_NOTIFY_HELPERS_H
#define NOTIFYD_TESTS_NOTIFY_HELPERS_H

#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/notification.h"
#include "notifyd/util.h"

/* An alert from "name=value" pairs (NULL-terminated) and annotations
 * (NULL-terminated, after a NULL separator is not needed: separate args). */
static struct nd_alert *mk_alert(const char *const *labels, const char *const *annotations,
                                 const char *starts, const char *ends, const char *gen)
{
    struct nd_alert_builder b;
    struct nd_alert *a;
    char err[ND_ERRLEN];
    size_t i;

    nd_alert_builder_init(&b, 1 << 20);
    for (i = 0; labels && labels[i]; i += 2)
        nd_alert_builder_add_label(&b, labels[i], strlen(labels[i]), labels[i + 1],
                                   strlen(labels[i + 1]));
    for (i = 0; annotations && annotations[i]; i += 2)
        nd_alert_builder_add_annotation(&b, annotations[i], strlen(annotations[i]),
                                        annotations[i + 1], strlen(annotations[i + 1]));
    if (starts || ends) {
        struct nd_time s = nd_time_zero(), e = nd_time_zero();
        if (starts)
            nd_time_parse_rfc3339(starts, strlen(starts), &s);
        if (ends)
            nd_time_parse_rfc3339(ends, strlen(ends), &e);
        nd_alert_builder_set_times(&b, &s, &e);
    }
    if (gen)
        nd_alert_builder_set_generator_url(&b, gen, strlen(gen));
    nd_alert_builder_set_status(&b, ND_ALERT_FIRING);
    a = nd_alert_builder_finish(&b, NULL, 0, err);
    nd_alert_builder_deinit(&b);
    if (!a)
        abort();
    return a;
}

static struct nd_kv *mk_kvs(const char *const *pairs, size_t *n)
{
    size_t i, k = 0;
    struct nd_kv *kv;

    for (i = 0; pairs && pairs[i]; i += 2)
        k++;
    kv = nd_xcalloc(k ? k : 1, sizeof(*kv));
    for (i = 0; i < k; i++) {
        kv[i].name = pairs[2 * i];
        kv[i].value = pairs[2 * i + 1];
    }
    *n = k;
    return kv;
}

/* Takes the alert references. Each array is its own malloc, as
 * notification.c frees them. */
static struct nd_notification *mk_notification(const char *receiver, struct nd_alert **alerts,
                                               size_t nalerts, const char *const *group,
                                               const char *const *common,
                                               const char *const *common_ann)
{
    struct nd_notification *n = nd_xcalloc(1, sizeof(*n));

    n->refs = 1;
    n->receiver = receiver;
    n->status = ND_ALERT_FIRING;
    n->nalerts = nalerts;
    n->alerts = nd_xcalloc(nalerts ? nalerts : 1, sizeof(*n->alerts));
    memcpy(n->alerts, alerts, nalerts * sizeof(*alerts));
    n->group_labels = mk_kvs(group, &n->ngroup_labels);
    n->common_labels = mk_kvs(common, &n->ncommon_labels);
    n->common_annotations = mk_kvs(common_ann, &n->ncommon_annotations);
    return n;
}

/* A one-alert notification with a given alertname. */
static inline struct nd_notification *mk_simple(const char *receiver, const char *alertname)
{
    static const char *const group[] = {"alertname", "x", NULL};
    const char *labels[] = {"alertname", alertname, NULL};
    struct nd_alert *a = mk_alert(labels, NULL, "2026-11-26T10:00:00Z", NULL, NULL);
    return mk_notification(receiver, &a, 1, group, NULL, NULL);
}

#endif
