/* test_aggregate.c - grouping, group labels, common labels and annotations. */
#include "helpers.h"
#include "notifyd/aggregate.h"
#include "notifyd/intern.h"
#include "notifyd/notification.h"
#include "tap.h"

#define F ND_ALERT_FIRING
#define R ND_ALERT_RESOLVED

static void free_all(struct nd_notification **ns, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nd_notification_unref(ns[i]);
    free(ns);
}

static void unref_all(struct nd_alert **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nd_alert_unref(a[i]);
}

/* "n=v,..." of a notification's group labels, through the accessor. */
static const char *groups(const struct nd_notification *nf)
{
    struct nd_kv buf[64];
    return kvs(nd_notification_group_labels(nf, buf), nf->ngroup_labels);
}

/* "n=v,n=v" of a notification's common annotations, through the accessor. */
static const char *common_ann(const struct nd_notification *nf)
{
    static char out[1024];
    struct nd_buf scratch;
    size_t len = 0;
    nd_buf_init(&scratch, SIZE_MAX / 2);
    out[0] = '\0';
    for (size_t i = 0; i < nf->ncommon_annotations && len < sizeof out; i++) {
        struct nd_kv kv = nd_notification_common_annotation(nf, i, &scratch);
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s=%s", i ? "," : "", kv.name,
                                kv.value);
    }
    nd_buf_deinit(&scratch);
    return out;
}

static void test_grouping(void)
{
    struct nd_queue *q = nd_queue_new(1000, 1 << 24);
    const char *gl[] = {"namespace", "alertname", "namespace"}; /* duplicate on purpose */
    struct nd_aggregator *ag = nd_aggregator_new(gl, 3);
    struct nd_alert *a[6] = {
        mk_alert(q, F, "alertname", "A", "namespace", "ns1", "i", "0", NULL, NULL),
        mk_alert(q, F, "alertname", "B", "namespace", "ns1", "i", "1", NULL, NULL),
        mk_alert(q, R, "alertname", "A", "namespace", "ns1", "i", "2", NULL, NULL),
        mk_alert(q, R, "alertname", "A", "i", "3", NULL, NULL), /* namespace missing */
        mk_alert(q, R, "alertname", "B", "namespace", "ns1", "i", "4", NULL, NULL),
        mk_alert(q, F, "alertname", "A", "namespace", "", "i", "5", NULL, NULL), /* empty */
    };
    struct nd_notification **ns;
    size_t n = nd_aggregator_run(ag, "ops", a, 6, 42, &ns);
    is_uint(n, 3, "three groups");
    if (n == 3) {
        is_uint(ns[0]->nalerts, 2, "group 1: A/ns1 has two alerts");
        ok(ns[0]->alerts[0] == a[0] && ns[0]->alerts[1] == a[2], "in batch order");
        is_str(groups(ns[0]), "alertname=A,namespace=ns1", "group labels sorted");
        is_int(ns[0]->status, F, "firing when any alert fires");
        is_str(ns[0]->receiver, "ops", "receiver set");
        is_int(ns[0]->created_ns, 42, "created_ns set");
        is_int(ns[0]->refs, 1, "one reference to the caller");

        is_uint(ns[1]->nalerts, 2, "group 2: B/ns1 (order of first alert)");
        ok(ns[1]->alerts[0] == a[1] && ns[1]->alerts[1] == a[4], "B alerts");
        is_int(ns[1]->status, F, "B: one firing");

        is_uint(ns[2]->nalerts, 2, "group 3: missing and empty namespace together");
        ok(ns[2]->alerts[0] == a[3] && ns[2]->alerts[1] == a[5], "A without namespace");
        is_str(groups(ns[2]), "alertname=A", "empty group label left out");

        ok(ns[0]->group_key != ns[2]->group_key && ns[0]->group_key != ns[1]->group_key,
           "distinct groups, distinct keys");
        is_int(a[0]->refs, 2, "notification holds a reference on its alerts");
    }
    free_all(ns, n);
    is_int(a[0]->refs, 1, "released with the notification");

    /* Reuse with a smaller and then a larger batch: the scratch is reset. */
    uint64_t key_b = 0;
    n = nd_aggregator_run(ag, "ops", a + 4, 1, 0, &ns);
    is_uint(n, 1, "a reused aggregator starts clean");
    if (n)
        key_b = ns[0]->group_key;
    free_all(ns, n);
    n = nd_aggregator_run(ag, "ops", a + 1, 1, 0, &ns);
    ok(n == 1 && ns[0]->group_key == key_b, "same group values, same key in another run");
    free_all(ns, n);
    n = nd_aggregator_run(ag, "ops", a, 0, 0, &ns);
    ok(n == 0 && ns == NULL, "no alerts: no notification");

    unref_all(a, 6);
    is_uint(nd_queue_count(q), 0, "nothing held");
    nd_aggregator_free(ag);
    nd_queue_free(q);
}

static void test_no_group_labels(void)
{
    struct nd_aggregator *ag = nd_aggregator_new(NULL, 0);
    struct nd_alert *a[3] = {
        mk_alert(NULL, R, "alertname", "A", NULL, NULL),
        mk_alert(NULL, R, "alertname", "B", NULL, NULL),
        mk_alert(NULL, R, "other", "x", NULL, NULL),
    };
    struct nd_notification **ns;
    size_t n = nd_aggregator_run(ag, "r", a, 3, 0, &ns);
    is_uint(n, 1, "no group labels: one group");
    is_uint(ns[0]->nalerts, 3, "with every alert");
    is_uint(ns[0]->ngroup_labels, 0, "and no group labels");
    is_int(ns[0]->status, R, "all resolved: resolved");
    is_str(kvs(ns[0]->common_labels, ns[0]->ncommon_labels), "receiver=r",
           "nothing in common but the receiver");
    free_all(ns, n);
    unref_all(a, 3);
    nd_aggregator_free(ag);
}

static void test_common(void)
{
    const char *gl[] = {"alertname"};
    struct nd_aggregator *ag = nd_aggregator_new(gl, 1);
    struct nd_alert *a[3] = {
        mk_alert(NULL, F, "alertname", "A", "severity", "critical", "instance", "n1", NULL,
                 "summary", "CPU high", "runbook", "http://r", "empty", "", "desc", "one", NULL),
        mk_alert(NULL, F, "alertname", "A", "severity", "critical", "instance", "n2", NULL,
                 "summary", "CPU high", "runbook", "http://r", "empty", "", "desc", "two", NULL),
        mk_alert(NULL, F, "alertname", "A", "severity", "critical", "zone", "z", NULL, "summary",
                 "CPU high", "runbook", "http://r", "empty", "", NULL),
    };
    struct nd_notification **ns;
    size_t n = nd_aggregator_run(ag, "ops", a, 3, 0, &ns);
    is_uint(n, 1, "one group");
    is_str(kvs(ns[0]->common_labels, ns[0]->ncommon_labels),
           "alertname=A,receiver=ops,severity=critical",
           "common labels: intersection plus the virtual receiver label");
    is_str(common_ann(ns[0]), "runbook=http://r,summary=CPU high",
           "common annotations: equal ones, empties left out");
    int none = 1;
    for (size_t i = 0; i < ns[0]->ncommon_annotations; i++)
        if (ns[0]->common_annotations[i].value)
            none = 0;
    ok(none, "no annotation value borrowed: read from the first alert (notification.h)");
    free_all(ns, n);

    /* The first alert lacks what the others share; the last differs. */
    n = nd_aggregator_run(ag, "ops", a + 1, 2, 0, &ns);
    is_str(common_ann(ns[0]), "runbook=http://r,summary=CPU high",
           "common annotations of alerts 2 and 3");
    free_all(ns, n);
    n = nd_aggregator_run(ag, "ops", a, 1, 0, &ns);
    is_str(common_ann(ns[0]), "desc=one,runbook=http://r,summary=CPU high",
           "one alert: all its non-empty annotations are common");
    free_all(ns, n);

    n = nd_aggregator_run(ag, "", a, 1, 0, &ns);
    is_str(kvs(ns[0]->common_labels, ns[0]->ncommon_labels),
           "alertname=A,instance=n1,severity=critical",
           "one alert: all its labels; unnamed receiver adds no label");
    free_all(ns, n);
    unref_all(a, 3);

    /* Alerts with their own receiver label keep it; the virtual one is only
     * for those without. */
    struct nd_alert *b[3] = {
        mk_alert(NULL, F, "alertname", "A", "receiver", "team", NULL, NULL),
        mk_alert(NULL, F, "alertname", "A", "receiver", "team", NULL, NULL),
        mk_alert(NULL, F, "alertname", "A", NULL, NULL),
    };
    n = nd_aggregator_run(ag, "ops", b, 2, 0, &ns);
    is_str(kvs(ns[0]->common_labels, ns[0]->ncommon_labels), "alertname=A,receiver=team",
           "same own receiver label on all: common, not overridden");
    free_all(ns, n);
    n = nd_aggregator_run(ag, "ops", b + 1, 2, 0, &ns);
    is_str(kvs(ns[0]->common_labels, ns[0]->ncommon_labels), "alertname=A",
           "own receiver label vs virtual one: not common");
    struct nd_kv out[4];
    size_t k = nd_notification_labels(ns[0], b[2], out);
    is_str(kvs(out, k), "alertname=A,receiver=ops", "notification_labels adds receiver");
    k = nd_notification_labels(ns[0], b[1], out);
    is_str(kvs(out, k), "alertname=A,receiver=team", "notification_labels keeps the alert's");
    free_all(ns, n);
    unref_all(b, 3);

    /* The virtual label sorts in among the alert's labels. */
    struct nd_alert *c =
        mk_alert(NULL, F, "a", "1", "rec", "2", "receiverz", "3", "z", "4", NULL, NULL);
    struct nd_notification nf = {.refs = 1, .receiver = "x"};
    struct nd_kv o2[5];
    k = nd_notification_labels(&nf, c, o2);
    is_str(kvs(o2, k), "a=1,rec=2,receiver=x,receiverz=3,z=4", "receiver label sorted in");
    nd_alert_unref(c);
    nd_aggregator_free(ag);
}

static void test_many_groups(void)
{
    /* More groups than the table's initial size: probing and growth. */
    struct nd_queue *q = nd_queue_new(10000, 1 << 26);
    const char *gl[] = {"g"};
    struct nd_aggregator *ag = nd_aggregator_new(gl, 1);
    enum { N = 500, G = 97 };
    struct nd_alert *a[N];
    for (int i = 0; i < N; i++) {
        char g[16], id[16];
        snprintf(g, sizeof g, "%d", i % G);
        snprintf(id, sizeof id, "%d", i);
        a[i] = mk_alert(q, F, "g", g, "id", id, NULL, NULL);
    }
    struct nd_notification **ns;
    size_t n = nd_aggregator_run(ag, "r", a, N, 0, &ns);
    is_uint(n, G, "97 groups");
    int good = 1;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        char g[32];
        snprintf(g, sizeof g, "%zu", i);
        total += ns[i]->nalerts;
        if (strcmp(nd_alert_label(ns[i]->alerts[0], "g"), g) != 0)
            good = 0;
        for (size_t j = 0; j < ns[i]->nalerts; j++)
            if (strcmp(nd_alert_label(ns[i]->alerts[j], "g"), g) != 0)
                good = 0;
    }
    ok(good, "groups in order of first alert, each alert in its group");
    is_uint(total, N, "every alert in exactly one group");
    free_all(ns, n);
    for (int i = 0; i < N; i++)
        nd_alert_unref(a[i]);
    is_uint(nd_queue_count(q), 0, "all released");
    nd_aggregator_free(ag);
    nd_queue_free(q);
}

/* The table is cleared for the batch at hand only: after a batch of 4000
 * alerts, a batch of 3 clears at most 16 slots (4000 would leave 8192 to
 * clear on every later run), and still groups right in the smaller table;
 * a large batch after it grows again. */
static void test_clear_bounded(void)
{
    struct nd_queue *q = nd_queue_new(10000, 1 << 26);
    const char *gl[] = {"g"};
    struct nd_aggregator *ag = nd_aggregator_new(gl, 1);
    enum { N = 4000, G = 1500 };
    static struct nd_alert *a[N];
    struct nd_notification **ns;
    size_t n;

    for (int i = 0; i < N; i++) {
        char g[16], id[16];
        snprintf(g, sizeof g, "%d", i % G);
        snprintf(id, sizeof id, "%d", i);
        a[i] = mk_alert(q, F, "g", g, "id", id, NULL, NULL);
    }
    n = nd_aggregator_run(ag, "r", a, N, 0, &ns);
    is_uint(n, G, "large batch: %d groups", G);
    ok(nd_aggregator_table_cleared(ag) >= 2 * N && nd_aggregator_table_cleared(ag) <= 4 * N,
       "large batch: cleared %zu slots (2n..4n)", nd_aggregator_table_cleared(ag));
    free_all(ns, n);

    /* a[0], a[1], a[G]: groups "0", "1", "0" */
    struct nd_alert *small[3] = {a[0], a[1], a[G]};
    n = nd_aggregator_run(ag, "r", small, 3, 0, &ns);
    ok(nd_aggregator_table_cleared(ag) <= 16, "small batch after it: cleared %zu slots (<= 16)",
       nd_aggregator_table_cleared(ag));
    is_uint(n, 2, "small batch: two groups");
    if (n == 2) {
        ok(ns[0]->nalerts == 2 && ns[0]->alerts[0] == a[0] && ns[0]->alerts[1] == a[G],
           "small batch: group 0 holds its two alerts");
        ok(ns[1]->nalerts == 1 && ns[1]->alerts[0] == a[1], "small batch: group 1 holds one");
    }
    free_all(ns, n);

    n = nd_aggregator_run(ag, "r", a, N, 0, &ns);
    is_uint(n, G, "large batch again: %d groups", G);
    free_all(ns, n);
    unref_all(a, N);
    is_uint(nd_queue_count(q), 0, "all released");
    nd_aggregator_free(ag);
    nd_queue_free(q);
}

/* Values are compared by reference where that is exact: the same string
 * stored inline in one alert (first seen) and interned in another (seen
 * again) must still group and be common; annotation values compare as
 * readers see them (expanded, alert.h), whatever their storage. */
static void test_storage_independent(void)
{
    const char *gl[] = {"namespace"};
    struct nd_aggregator *ag = nd_aggregator_new(gl, 1);
    struct nd_alert *a[3];
    /* first sighting: every value inline; the summary refers to labels */
    a[0] = mk_alert(NULL, F, "namespace", "ns-storage-test", "pod", "pod-storage-1", "owner",
                    "team-storage", NULL, "summary", "pod-storage-1 in ns-storage-test", "note",
                    "owned by team-storage", NULL);
    /* shared from now on (interned here rather than left to alert.c's
     * seen-twice filter, whose slots are seeded per process) */
    static const char *const shared[] = {"ns-storage-test", "team-storage",
                                         "owned by team-storage"};
    uint32_t held[3];
    for (size_t i = 0; i < 3; i++)
        held[i] =
            nd_intern(shared[i], strlen(shared[i]), nd_intern_hash(shared[i], strlen(shared[i])));
    a[1] = mk_alert(NULL, F, "namespace", "ns-storage-test", "pod", "pod-storage-2", "owner",
                    "team-storage", NULL, "summary", "pod-storage-2 in ns-storage-test", "note",
                    "owned by team-storage", NULL);
    /* no owner label: its note cannot refer to one */
    a[2] = mk_alert(NULL, F, "namespace", "ns-storage-test", "pod", "pod-storage-3", NULL, "note",
                    "owned by team-storage", NULL);
    for (size_t i = 0; i < 3; i++)
        nd_intern_unref(held[i]);
    const uint32_t *r0 = (const uint32_t *)(const void *)(a[0] + 1);
    const uint32_t *r1 = (const uint32_t *)(const void *)(a[1] + 1);
    ok((r0[1] & ND_ALERT_REF_INLINE) && !(r1[1] & ND_ALERT_REF_INLINE),
       "namespace inline in the first alert, interned in the second");
    ok((r0[2 * 3 + 1] & ND_ALERT_REF_CODED) && !(r1[2 * 3 + 1] & ND_ALERT_REF_INLINE),
       "note encoded in the first alert, interned in the second");
    struct nd_notification **ns;
    size_t n = nd_aggregator_run(ag, "ops", a, 3, 0, &ns);
    is_uint(n, 1, "one group whatever the storage of its value");
    if (n == 1) {
        is_uint(ns[0]->nalerts, 3, "with the three alerts");
        is_str(groups(ns[0]), "namespace=ns-storage-test", "group label");
        is_str(kvs(ns[0]->common_labels, ns[0]->ncommon_labels),
               "namespace=ns-storage-test,receiver=ops", "common labels");
        is_str(common_ann(ns[0]), "note=owned by team-storage",
               "an encoded and an interned value are equal");
    }
    free_all(ns, n);
    n = nd_aggregator_run(ag, "ops", a, 2, 0, &ns);
    is_str(kvs(ns[0]->common_labels, ns[0]->ncommon_labels),
           "namespace=ns-storage-test,owner=team-storage,receiver=ops",
           "inline and interned label values are equal");
    free_all(ns, n);
    unref_all(a, 3);
    nd_aggregator_free(ag);
}

/* More labels than the handle scan covers: the lookup falls back to a
 * search by name. */
static void test_many_labels(void)
{
    const char *gl[] = {"l40", "l07"};
    struct nd_aggregator *ag = nd_aggregator_new(gl, 2);
    struct nd_alert_builder b;
    char err[ND_ERRLEN], name[8], v[8];
    struct nd_alert *a[3];
    nd_alert_builder_init(&b, 1 << 16);
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 50; i++) {
            snprintf(name, sizeof name, "l%02d", i);
            snprintf(v, sizeof v, "v%d", i == 40 ? k / 2 : i);
            nd_alert_builder_add_label(&b, name, strlen(name), v, strlen(v));
        }
        a[k] = nd_alert_builder_finish(&b, NULL, 0, err);
    }
    nd_alert_builder_deinit(&b);
    struct nd_notification **ns;
    size_t n = nd_aggregator_run(ag, "", a, 3, 0, &ns);
    is_uint(n, 2, "50 labels: grouped by l40");
    if (n == 2) {
        is_str(groups(ns[0]), "l07=v7,l40=v0", "group labels");
        is_uint(ns[0]->nalerts, 2, "two alerts in the first group");
        is_uint(ns[0]->ncommon_labels, 50, "all 50 labels common");
    }
    free_all(ns, n);
    unref_all(a, 3);
    nd_aggregator_free(ag);
}

/* One allocation per notification: the arrays follow the struct. */
static void test_one_block(void)
{
    const char *gl[] = {"alertname"};
    struct nd_aggregator *ag = nd_aggregator_new(gl, 1);
    struct nd_alert *a[2] = {
        mk_alert(NULL, F, "alertname", "A", "x", "1", NULL, "s", "same", NULL),
        mk_alert(NULL, F, "alertname", "A", "x", "2", NULL, "s", "same", NULL),
    };
    struct nd_notification **ns;
    size_t n = nd_aggregator_run(ag, "ops", a, 2, 0, &ns);
    is_uint(sizeof(struct nd_notification), 96, "struct nd_notification: 96 bytes");
    if (n == 1) {
        const char *lo = (const char *)ns[0];
        const char *hi = lo + nd_notification_block_size(2, 1, 2, 1);
        ok(ns[0]->packed, "packed");
        ok((const char *)ns[0]->group_labels == lo + 96 &&
               (const char *)ns[0]->common_labels == lo + 96 + 16 &&
               (const char *)ns[0]->common_annotations == lo + 96 + 48 &&
               (const char *)ns[0]->alerts == lo + 96 + 64 &&
               (const char *)(ns[0]->alerts + 2) == hi,
           "group labels, common labels, common annotations, alerts: one block");
        is_uint(nd_notification_block_size(2, 1, 2, 1), 96 + 2 * 8 + 4 * 16,
                "block size: 176 bytes");
    }
    free_all(ns, n);
    unref_all(a, 2);
    nd_aggregator_free(ag);

    /* built by hand, arrays apart: unref frees each (ASan checks) */
    struct nd_notification *h = nd_xcalloc(1, sizeof *h);
    h->refs = 1;
    h->nalerts = 1;
    h->alerts = nd_xmalloc(sizeof *h->alerts);
    h->alerts[0] = mk_alert(NULL, F, "alertname", "A", NULL, NULL);
    h->ngroup_labels = 1;
    h->group_labels = nd_xcalloc(1, sizeof *h->group_labels);
    h->group_labels[0].name = "alertname";
    h->group_labels[0].value = "A";
    ok(!h->packed, "a notification built by hand is not packed");
    nd_notification_unref(h);
    nd_notification_unref(NULL);
    struct nd_notification *e = nd_notification_new(0, 0, 0, 0);
    ok(e->refs == 1 && e->packed && !e->alerts && !e->group_labels && !e->common_labels &&
           !e->common_annotations,
       "an empty one: no arrays");
    nd_notification_unref(e);
}

/* A one-alert group with every annotation non-empty keeps no common arrays
 * (notification.h): the readers derive them from the alert. */
static void test_derived(void)
{
    const char *gl[] = {"alertname"};
    struct nd_aggregator *ag = nd_aggregator_new(gl, 1);
    struct nd_alert *a[3] = {
        mk_alert(NULL, F, "alertname", "A", "zone", "z", NULL, "s", "one", NULL),
        mk_alert(NULL, F, "alertname", "B", NULL, "s", "two", "empty", "", NULL),
        mk_alert(NULL, F, "alertname", "C", NULL, "s", "three", NULL),
    };
    struct nd_alert *c2 = mk_alert(NULL, F, "alertname", "C", NULL, "s", "three", NULL);
    struct nd_alert *batch[4] = {a[0], a[1], a[2], c2};
    struct nd_notification **ns;
    size_t n = nd_aggregator_run(ag, "ops", batch, 4, 0, &ns);
    is_uint(n, 3, "three groups");
    if (n == 3) {
        struct nd_kv buf[4];
        ok(ns[0]->derived && !ns[0]->common_labels && !ns[0]->common_annotations,
           "one alert, all annotations set: derived, no arrays");
        is_str(groups(ns[0]), "alertname=A", "derived group labels: by position");
        is_uint(nd_notification_derived_size(1), 96 + 8,
                "its block: struct (one position inside), alert pointer");
        is_uint(nd_notification_derived_size(5), 96 + 8 + 10, "five positions follow");
        is_str(kvs(nd_notification_common_labels(ns[0], buf), ns[0]->ncommon_labels),
               "alertname=A,receiver=ops,zone=z",
               "derived common labels: the alert's, receiver in");
        is_str(common_ann(ns[0]), "s=one", "derived common annotations");
        ok(!ns[1]->derived, "an empty annotation: arrays (it is left out of the common ones)");
        is_str(common_ann(ns[1]), "s=two", "its common annotations");
        ok(!ns[2]->derived, "two alerts: arrays");
        is_str(kvs(nd_notification_common_labels(ns[2], buf), ns[2]->ncommon_labels),
               "alertname=C,receiver=ops", "their common labels");
    }
    free_all(ns, n);
    unref_all(a, 3);
    nd_alert_unref(c2);
    nd_aggregator_free(ag);
    /* more group labels than fit in the struct */
    const char *gl5[] = {"g1", "g2", "g3", "g4", "g5", "g6"};
    ag = nd_aggregator_new(gl5, 6);
    struct nd_alert *one = mk_alert(NULL, F, "g1", "1", "g2", "2", "g3", "3", "g4", "4", "g6", "6",
                                    "x", "x", NULL, NULL);
    n = nd_aggregator_run(ag, "", &one, 1, 0, &ns);
    if (n == 1) {
        ok(ns[0]->derived && ns[0]->ngroup_labels == 5, "derived, five group labels");
        is_str(groups(ns[0]), "g1=1,g2=2,g3=3,g4=4,g6=6", "positions after the alert pointer");
    }
    free_all(ns, n);
    nd_alert_unref(one);
    nd_aggregator_free(ag);
}

int main(void)
{
    test_derived();
    test_grouping();
    test_no_group_labels();
    test_common();
    test_many_groups();
    test_clear_bounded();
    test_storage_independent();
    test_many_labels();
    test_one_block();
    return done_testing();
}
