/* aggregate.c - grouping one receiver's alerts (aggregate.h).
 *
 * One pass over the batch assigns each alert to a group through an
 * open-addressing table keyed by the group key; groups chain their alerts
 * through a `next` array, so grouping allocates nothing per alert. All
 * scratch arrays live in the aggregator and only grow to the largest batch
 * seen (itself bounded by the batcher's max_size); a run clears and probes
 * only the part of the table its own batch needs. Only the notifications
 * themselves are allocated per run, one block each (notification.h).
 *
 * Everything here works on string references (alert.h) rather than
 * strings: the group label names are interned once, so a label is found by
 * its name's handle; two interned values are equal exactly when their
 * handles are (inline ones still take a strcmp); and the group key combines
 * per-value hashes that interned strings already carry. Grouping an alert
 * then costs a few integer compares, no string search and no hash over its
 * bytes.
 */
#include "notifyd/aggregate.h"

#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/intern.h"
#include "notifyd/notification.h"
#include "notifyd/util.h"

#define NIL UINT32_MAX

struct group {
    uint64_t key;   /* hash of the group label values, missing = "" */
    uint32_t first; /* index of the first alert; it stands for the group's values */
    uint32_t last;
    uint32_t count;
};

struct nd_aggregator {
    char **names; /* group label names, sorted, unique */
    uint32_t *nh; /* their intern handles (one reference each) */
    size_t nnames;
    uint32_t receiver_h; /* handle of "receiver" (one reference) */
    uint32_t empty_hash; /* the value hash of "": a missing label */
    /* Per-run scratch, grown to the largest batch. */
    uint32_t *next; /* next alert of the same group, or NIL */
    struct group *groups;
    size_t alerts_cap;
    uint32_t *table;   /* group index + 1; 0 = free slot */
    size_t table_cap;  /* allocated slots: the largest batch's power of two */
    size_t table_used; /* slots of this run: a power of two <= table_cap */
    /* Common labels: indices into the first alert's labels; common
     * annotations: the same for its annotations. */
    uint32_t *lab;
    size_t lab_cap;
    uint32_t *ann;
    size_t ann_cap;
};

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint32_t intern_str(const char *s)
{
    size_t len = strlen(s);
    return nd_intern(s, len, nd_intern_hash(s, len));
}

struct nd_aggregator *nd_aggregator_new(const char *const *group_labels, size_t n)
{
    struct nd_aggregator *ag = nd_xcalloc(1, sizeof *ag);
    ag->receiver_h = intern_str("receiver");
    ag->empty_hash = nd_intern_hash32(ND_INTERN_EMPTY);
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
        ag->nh = nd_xmalloc(w * sizeof *ag->nh);
        for (size_t i = 0; i < w; i++)
            ag->nh[i] = intern_str(ag->names[i]);
    }
    return ag;
}

void nd_aggregator_free(struct nd_aggregator *ag)
{
    if (!ag)
        return;
    for (size_t i = 0; i < ag->nnames; i++) {
        nd_intern_unref(ag->nh[i]);
        free(ag->names[i]);
    }
    nd_intern_unref(ag->receiver_h);
    free(ag->names);
    free(ag->nh);
    free(ag->next);
    free(ag->groups);
    free(ag->table);
    free(ag->lab);
    free(ag->ann);
    free(ag);
}

/* Sizes the scratch for a batch of n. The table array keeps the largest
 * size seen, but a run uses (and clears) only the power of two its own
 * batch needs: clearing the whole array would cost every small batch as
 * much as the largest one ever grouped. */
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
    ag->table_used = want;
    memset(ag->table, 0, want * sizeof *ag->table);
}

static uint32_t *grow(uint32_t *p, size_t *cap, size_t n)
{
    if (n <= *cap)
        return p;
    *cap = n;
    return nd_xrealloc(p, n * sizeof *p);
}

/* Not exposed (notification.h): any hash that equal values share will do,
 * and the per-value hashes come with the interned strings. */
static uint64_t group_key(const struct nd_aggregator *ag, const struct nd_alert *a)
{
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ ag->nnames;
    for (size_t i = 0; i < ag->nnames; i++) {
        size_t j = nd_alert_label_find_h(a, ag->nh[i]);
        uint32_t v = j == SIZE_MAX ? ag->empty_hash : nd_alert_label_value_hash(a, j);
        h = nd_hash_word(h, v);
    }
    return h;
}

/* The key is a hash: equal keys still need equal values to share a group.
 * Labels are never empty (alert.h), so missing matches only missing. */
static int same_group(const struct nd_aggregator *ag, const struct nd_alert *a,
                      const struct nd_alert *b)
{
    for (size_t i = 0; i < ag->nnames; i++) {
        size_t ia = nd_alert_label_find_h(a, ag->nh[i]);
        size_t ib = nd_alert_label_find_h(b, ag->nh[i]);
        if (ia == SIZE_MAX || ib == SIZE_MAX) {
            if (ia != ib)
                return 0;
        } else if (!nd_alert_label_value_eq(a, ia, b, ib)) {
            return 0;
        }
    }
    return 1;
}

/* The receiver label of alert `a` as the notification's receiver sees it
 * (nd_notification_labels): its own, or the virtual receiver=<name>, or
 * none (NULL). */
static const char *seen_receiver(const struct nd_aggregator *ag, const char *receiver,
                                 const struct nd_alert *a)
{
    size_t j = nd_alert_label_find_h(a, ag->receiver_h);
    if (j != SIZE_MAX)
        return nd_alert_label_at(a, j).value;
    return receiver && receiver[0] ? receiver : NULL;
}

/* Common labels of the group, over the labels as the receiver sees them, so
 * that the receiver label is common exactly when every alert shows the same
 * one: indices of a0's labels into ag->lab, and *virt = whether a0's
 * virtual receiver label is common. Returns the count (virtual excluded). */
static size_t common_labels(struct nd_aggregator *ag, const char *receiver,
                            struct nd_alert *const *alerts, const struct group *g, int *virt)
{
    const struct nd_alert *a0 = alerts[g->first];
    const char *r0 = seen_receiver(ag, receiver, a0);
    size_t own = nd_alert_label_find_h(a0, ag->receiver_h);
    ag->lab = grow(ag->lab, &ag->lab_cap, a0->nlabels);
    size_t nc = 0;
    for (uint32_t j = 0; j < a0->nlabels; j++)
        if (nd_alert_label_at(a0, j).value[0])
            ag->lab[nc++] = j;
    *virt = own == SIZE_MAX && r0 != NULL;
    for (uint32_t i = ag->next[g->first]; i != NIL && (nc || *virt); i = ag->next[i]) {
        const struct nd_alert *b = alerts[i];
        int same = 0; /* b shows the receiver label a0 shows */
        if (r0) {
            const char *rb = seen_receiver(ag, receiver, b);
            same = rb && (rb == r0 || strcmp(rb, r0) == 0);
        }
        size_t w = 0, hint = 0;
        for (size_t k = 0; k < nc; k++) {
            uint32_t j = ag->lab[k];
            if (j == own) {
                if (same)
                    ag->lab[w++] = j;
                continue;
            }
            /* Alerts of a group mostly have the same label names, in the
             * same order: try the position after the last match first. */
            uint32_t h = nd_alert_label_name_h(a0, j);
            size_t jb = hint < b->nlabels && nd_alert_label_name_h(b, hint) == h
                            ? hint
                            : nd_alert_label_find_h(b, h);
            if (jb == SIZE_MAX)
                continue;
            hint = jb + 1;
            if (nd_alert_label_value_eq(a0, j, b, jb))
                ag->lab[w++] = j;
        }
        nc = w;
        if (!same)
            *virt = 0;
    }
    return nc;
}

/* Keeps the indices of a0's annotations (sorted by name) that `b` has too,
 * with an equal value. Returns the new count. */
static size_t intersect_ann(const struct nd_alert *a0, uint32_t *idx, size_t n,
                            const struct nd_alert *b)
{
    size_t k = 0, j = 0, w = 0;
    while (k < n && j < b->nannotations) {
        const char *n0 = nd_alert_annotation_name(a0, idx[k]);
        const char *n1 = nd_alert_annotation_name(b, j);
        int c = n0 == n1 ? 0 : strcmp(n0, n1); /* interned: equal names, one pointer */
        if (c < 0) {
            k++;
        } else if (c > 0) {
            j++;
        } else {
            if (nd_alert_annotation_value_eq(a0, idx[k], b, j))
                idx[w++] = idx[k];
            k++;
            j++;
        }
    }
    return w;
}

/* Common annotations, as indices of a0's into ag->ann: a notification keeps
 * names only (notification.h says why). Empty values are left out. */
static size_t common_annotations(struct nd_aggregator *ag, struct nd_alert *const *alerts,
                                 const struct group *g)
{
    const struct nd_alert *a0 = alerts[g->first];
    ag->ann = grow(ag->ann, &ag->ann_cap, a0->nannotations);
    size_t nc = 0;
    for (uint32_t j = 0; j < a0->nannotations; j++)
        if (!nd_alert_annotation_empty(a0, j))
            ag->ann[nc++] = j;
    for (uint32_t i = ag->next[g->first]; i != NIL && nc; i = ag->next[i])
        nc = intersect_ann(a0, ag->ann, nc, alerts[i]);
    return nc;
}

static struct nd_notification *build(struct nd_aggregator *ag, const char *receiver,
                                     struct nd_alert *const *alerts, const struct group *g,
                                     int64_t created_ns)
{
    const struct nd_alert *a0 = alerts[g->first];
    size_t ngl = 0;
    for (size_t i = 0; i < ag->nnames; i++)
        ngl += nd_alert_label_find_h(a0, ag->nh[i]) != SIZE_MAX;
    int virt;
    size_t ncl = common_labels(ag, receiver, alerts, g, &virt);
    size_t nca = common_annotations(ag, alerts, g);

    /* One alert with every annotation common: the common arrays would copy
     * alerts[0]'s labels and annotations; readers derive them instead
     * (notification.h). */
    int derived = g->count == 1 && ncl == a0->nlabels && nca == a0->nannotations;
    struct nd_notification *nf = derived
                                     ? nd_notification_new_derived(ngl)
                                     : nd_notification_new(g->count, ngl, ncl + (size_t)virt, nca);
    nf->ncommon_labels = ncl + (size_t)virt;
    nf->ncommon_annotations = nca;
    nf->receiver = receiver;
    nf->status = ND_ALERT_RESOLVED;
    nf->group_key = g->key;
    nf->created_ns = created_ns;
    size_t k = 0;
    for (uint32_t i = g->first; i != NIL; i = ag->next[i]) {
        struct nd_alert *a = alerts[i];
        nd_alert_ref(a);
        nf->alerts[k++] = a;
        if (a->status == ND_ALERT_FIRING)
            nf->status = ND_ALERT_FIRING;
    }
    /* group labels: sorted by name as ag->names is, missing ones left out
     * (a0's labels are sorted too, so positions come in increasing order) */
    k = 0;
    for (size_t i = 0; i < ag->nnames; i++) {
        size_t j = nd_alert_label_find_h(a0, ag->nh[i]);
        if (j == SIZE_MAX)
            continue;
        if (derived)
            nd_notification_group_at(nf)[k++] = (uint16_t)j;
        else
            nf->group_labels[k++] = nd_alert_label_at(a0, j);
    }
    if (derived)
        return nf;
    /* common labels: a0's order (sorted) with the virtual one sorted in */
    k = 0;
    for (size_t i = 0; i < ncl; i++) {
        struct nd_kv kv = nd_alert_label_at(a0, ag->lab[i]);
        if (virt && strcmp(kv.name, "receiver") > 0) {
            nf->common_labels[k].name = "receiver";
            nf->common_labels[k++].value = receiver;
            virt = 0;
        }
        nf->common_labels[k++] = kv;
    }
    if (virt) {
        nf->common_labels[k].name = "receiver";
        nf->common_labels[k].value = receiver;
    }
    for (size_t i = 0; i < nca; i++) {
        nf->common_annotations[i].name = nd_alert_annotation_name(a0, ag->ann[i]);
        nf->common_annotations[i].value = NULL;
    }
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

    size_t ngroups = 0, mask = ag->table_used - 1;
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

size_t nd_aggregator_table_cleared(const struct nd_aggregator *ag)
{
    return ag->table_used;
}
