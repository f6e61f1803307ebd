/* test_aggregate.c - grouping, group labels, common labels and annotations. */
#include "helpers.h"
#include "notifyd/aggregate.h"
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
        is_str(kvs(ns[0]->group_labels, ns[0]->ngroup_labels), "alertname=A,namespace=ns1",
               "group labels sorted");
        is_int(ns[0]->status, F, "firing when any alert fires");
        is_str(ns[0]->receiver, "ops", "receiver set");
        is_int(ns[0]->created_ns, 42, "created_ns set");
        is_int(ns[0]->refs, 1, "one reference to the caller");

        is_uint(ns[1]->nalerts, 2, "group 2: B/ns1 (order of first alert)");
        ok(ns[1]->alerts[0] == a[1] && ns[1]->alerts[1] == a[4], "B alerts");
        is_int(ns[1]->status, F, "B: one firing");

        is_uint(ns[2]->nalerts, 2, "group 3: missing and empty namespace together");
        ok(ns[2]->alerts[0] == a[3] && ns[2]->alerts[1] == a[5], "A without namespace");
        is_str(kvs(ns[2]->group_labels, ns[2]->ngroup_labels), "alertname=A",
               "empty group label left out");

        struct nd_kv key[2] = {{"alertname", "A"}, {"namespace", ""}};
        is_uint(ns[2]->group_key, nd_fingerprint(key, 2), "group key: fingerprint with empties");
        ok(ns[0]->group_key != ns[2]->group_key, "distinct groups, distinct keys");
        is_int(a[0]->refs, 2, "notification holds a reference on its alerts");
    }
    free_all(ns, n);
    is_int(a[0]->refs, 1, "released with the notification");

    /* Reuse with a smaller and then a larger batch: the scratch is reset. */
    n = nd_aggregator_run(ag, "ops", a + 4, 1, 0, &ns);
    is_uint(n, 1, "a reused aggregator starts clean");
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
    is_str(kvs(ns[0]->common_annotations, ns[0]->ncommon_annotations),
           "runbook=http://r,summary=CPU high", "common annotations: equal ones, empties left out");
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

int main(void)
{
    test_grouping();
    test_no_group_labels();
    test_common();
    test_many_groups();
    return done_testing();
}
