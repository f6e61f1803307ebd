/* aggregate.c - grouping one receiver's alerts (aggregate.h).
 *
 * One pass over the batch assigns each alert to a group through an
 * open-addressing table keyed by the group key; groups chain their alerts
 * through a `next` array, so grouping allocates nothing per alert. All
 * scratch arrays live in the aggregator and only grow to the largest batch
 * seen (itself bounded by the batcher's max_size). Only the notifications
 * themselves are allocated per run.
 */
#include "notifyd/aggregate.h"

#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/notification.h"
#include "notifyd/util.h"

#define NIL UINT32_MAX

struct group {
    uint64_t key;   /* nd_fingerprint of the group labels, missing = "" */
    uint32_t first; /* index of the first alert; it stands for the group's values */
    uint32_t last;
    uint32_t count;
};

struct nd_aggregator {
    char **names; /* group label names, sorted, unique */
    size_t nnames;
    struct nd_kv *keykv; /* nnames entries: the current alert's group labels */
    /* Per-run scratch, grown to the largest batch. */
    uint32_t *next; /* next alert of the same group, or NIL */
    struct group *groups;
    size_t alerts_cap;
    uint32_t *table;  /* group index + 1; 0 = free slot */
    size_t table_cap; /* power of two */
    /* Label-set scratch for the common-labels intersection. */
    struct nd_kv *common;
    struct nd_kv *other;
    size_t kv_cap;
};

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct nd_aggregator *nd_aggregator_new(const char *const *group_labels, size_t n)
{
    struct nd_aggregator *ag = nd_xcalloc(1, sizeof *ag);
    if (n) {
        ag->names = nd_xmalloc(n * sizeof *ag->names);
        for (size_t i = 0; i < n; i++)
            ag->names[i] = nd_xstrdup(group_labels[i]);
        qsort(ag->names, n, sizeof *ag->names, cmp_name);
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            if (w && strcmp(ag->names[w - 1], ag->names[i]) == 0)
                free(ag->names[i]);
            else
                ag->names[w++] = ag->names[i];
        }
        ag->nnames = w;
        ag->keykv = nd_xmalloc(w * sizeof *ag->keykv);
    }
    return ag;
}

void nd_aggregator_free(struct nd_aggregator *ag)
{
    if (!ag)
        return;
    for (size_t i = 0; i < ag->nnames; i++)
        free(ag->names[i]);
    free(ag->names);
    free(ag->keykv);
    free(ag->next);
    free(ag->groups);
    free(ag->table);
    free(ag->common);
    free(ag->other);
    free(ag);
}

static void reserve(struct nd_aggregator *ag, size_t n)
{
    if (n > ag->alerts_cap) {
        ag->next = nd_xrealloc(ag->next, n * sizeof *ag->next);
        ag->groups = nd_xrealloc(ag->groups, n * sizeof *ag->groups);
        ag->alerts_cap = n;
    }
    size_t want = 16;
    while (want < 2 * n) /* load factor <= 1/2 keeps probes short */
        want *= 2;
    if (want > ag->table_cap) {
        free(ag->table);
        ag->table = nd_xmalloc(want * sizeof *ag->table);
        ag->table_cap = want;
    }
    memset(ag->table, 0, ag->table_cap * sizeof *ag->table);
}

static void reserve_kv(struct nd_aggregator *ag, size_t n)
{
    if (n <= ag->kv_cap)
        return;
    ag->common = nd_xrealloc(ag->common, n * sizeof *ag->common);
    ag->other = nd_xrealloc(ag->other, n * sizeof *ag->other);
    ag->kv_cap = n;
}

static const char *label_or_empty(const struct nd_alert *a, const char *name)
{
    const char *v = nd_alert_label(a, name);
    return v ? v : "";
}

static uint64_t group_key(struct nd_aggregator *ag, const struct nd_alert *a)
{
    for (size_t i = 0; i < ag->nnames; i++) {
        ag->keykv[i].name = ag->names[i];
        ag->keykv[i].value = label_or_empty(a, ag->names[i]);
    }
    return nd_fingerprint(ag->keykv, ag->nnames);
}

/* The key is a hash: equal keys still need equal values to share a group. */
static int same_group(const struct nd_aggregator *ag, const struct nd_alert *a,
                      const struct nd_alert *b)
{
    for (size_t i = 0; i < ag->nnames; i++)
        if (strcmp(label_or_empty(a, ag->names[i]), label_or_empty(b, ag->names[i])) != 0)
            return 0;
    return 1;
}

/* Keeps the entries of `cur` whose name and value are also in `other`; both
 * sorted by name. Returns the new count of `cur`. */
static size_t intersect(struct nd_kv *cur, size_t ncur, const struct nd_kv *other, size_t nother)
{
    size_t i = 0, j = 0, w = 0;
    while (i < ncur && j < nother) {
        int c = strcmp(cur[i].name, other[j].name);
        if (c < 0) {
            i++;
        } else if (c > 0) {
            j++;
        } else {
            if (strcmp(cur[i].value, other[j].value) == 0)
                cur[w++] = cur[i];
            i++;
            j++;
        }
    }
    return w;
}

/* A malloc'd copy of the non-empty entries, or NULL when there are none. */
static struct nd_kv *copy_nonempty(const struct nd_kv *kv, size_t n, size_t *nout)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += kv[i].value[0] != '\0';
    *nout = k;
    if (!k)
        return NULL;
    struct nd_kv *out = nd_xmalloc(k * sizeof *out);
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (kv[i].value[0])
            out[k++] = kv[i];
    return out;
}

static void set_common(struct nd_aggregator *ag, struct nd_notification *nf)
{
    size_t maxl = 0, maxa = 0;
    for (size_t i = 0; i < nf->nalerts; i++) {
        if (nf->alerts[i]->nlabels > maxl)
            maxl = nf->alerts[i]->nlabels;
        if (nf->alerts[i]->nannotations > maxa)
            maxa = nf->alerts[i]->nannotations;
    }
    reserve_kv(ag, (maxl > maxa ? maxl : maxa) + 1);

    /* Over the labels as the receiver sees them, so that the virtual
     * receiver label is common exactly when every alert shows the same one. */
    size_t nc = nd_notification_labels(nf, nf->alerts[0], ag->common);
    for (size_t i = 1; i < nf->nalerts && nc; i++) {
        size_t no = nd_notification_labels(nf, nf->alerts[i], ag->other);
        nc = intersect(ag->common, nc, ag->other, no);
    }
    nf->common_labels = copy_nonempty(ag->common, nc, &nf->ncommon_labels);

    const struct nd_alert *a0 = nf->alerts[0];
    memcpy(ag->common, a0->annotations, a0->nannotations * sizeof *ag->common);
    nc = a0->nannotations;
    for (size_t i = 1; i < nf->nalerts && nc; i++)
        nc = intersect(ag->common, nc, nf->alerts[i]->annotations, nf->alerts[i]->nannotations);
    nf->common_annotations = copy_nonempty(ag->common, nc, &nf->ncommon_annotations);
}

static struct nd_notification *build(struct nd_aggregator *ag, const char *receiver,
                                     struct nd_alert *const *alerts, const struct group *g,
                                     int64_t created_ns)
{
    struct nd_notification *nf = nd_xcalloc(1, sizeof *nf);
    nf->refs = 1;
    nf->receiver = receiver;
    nf->status = ND_ALERT_RESOLVED;
    nf->group_key = g->key;
    nf->created_ns = created_ns;
    nf->alerts = nd_xmalloc(g->count * sizeof *nf->alerts);
    for (uint32_t i = g->first; i != NIL; i = ag->next[i]) {
        struct nd_alert *a = alerts[i];
        nd_alert_ref(a);
        nf->alerts[nf->nalerts++] = a;
        if (a->status == ND_ALERT_FIRING)
            nf->status = ND_ALERT_FIRING;
    }

    const struct nd_alert *first = alerts[g->first];
    for (size_t i = 0; i < ag->nnames; i++) {
        ag->keykv[i].name = ag->names[i];
        ag->keykv[i].value = label_or_empty(first, ag->names[i]);
    }
    nf->group_labels = copy_nonempty(ag->keykv, ag->nnames, &nf->ngroup_labels);
    set_common(ag, nf);
    return nf;
}

size_t nd_aggregator_run(struct nd_aggregator *ag, const char *receiver,
                         struct nd_alert *const *alerts, size_t n, int64_t created_ns,
                         struct nd_notification ***out)
{
    *out = NULL;
    if (!n)
        return 0;
    /* Batches are bounded far below this; the indices are 32-bit. */
    if (n >= NIL)
        abort();
    reserve(ag, n);

    size_t ngroups = 0, mask = ag->table_cap - 1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t key = group_key(ag, alerts[i]);
        size_t slot = (size_t)(key ^ (key >> 32)) & mask;
        struct group *g = NULL;
        while (ag->table[slot]) {
            struct group *cand = &ag->groups[ag->table[slot] - 1];
            if (cand->key == key && same_group(ag, alerts[cand->first], alerts[i])) {
                g = cand;
                break;
            }
            slot = (slot + 1) & mask;
        }
        ag->next[i] = NIL;
        if (g) {
            ag->next[g->last] = i;
            g->last = i;
            g->count++;
        } else {
            g = &ag->groups[ngroups++];
            g->key = key;
            g->first = g->last = i;
            g->count = 1;
            ag->table[slot] = (uint32_t)ngroups;
        }
    }

    struct nd_notification **res = nd_xmalloc(ngroups * sizeof *res);
    for (size_t i = 0; i < ngroups; i++)
        res[i] = build(ag, receiver, alerts, &ag->groups[i], created_ns);
    *out = res;
    return ngroups;
}
