/* test_pipeline.c - the stages end to end: batcher -> pipeline -> notify. */
#include <event2/event.h>

#include "helpers.h"
#include "notifyd/batch.h"
#include "notifyd/metrics.h"
#include "notifyd/notification.h"
#include "notifyd/pipeline.h"
#include "notifyd/selector.h"
#include "tap.h"

struct target {
    const char *name;
    struct nd_notification *got[32];
    size_t n;
};

struct sink {
    int calls;
    int bad_receiver;
};

static void on_notify(void *target_ud, struct nd_notification *n, void *ud)
{
    struct target *t = target_ud;
    struct sink *s = ud;
    s->calls++;
    if (strcmp(n->receiver, t->name) != 0)
        s->bad_receiver = 1;
    if (t->n < 32)
        t->got[t->n++] = n; /* kept: released at the end, like a delivery would */
    else
        nd_notification_unref(n);
}

static int has_alert(const struct target *t, const struct nd_alert *a)
{
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = 0; j < t->got[i]->nalerts; j++)
            if (t->got[i]->alerts[j] == a)
                return 1;
    return 0;
}

static void release(struct target *t)
{
    for (size_t i = 0; i < t->n; i++)
        nd_notification_unref(t->got[i]);
    t->n = 0;
}

static void test_every_receiver_gets_every_alert(void)
{
    struct event_base *base = event_base_new();
    struct nd_queue *q = nd_queue_new(1000, 1 << 24);
    struct nd_metrics m = {0};
    struct sink s = {0};
    struct target t[3] = {{.name = "ops"}, {.name = "dev"}, {.name = "audit"}};
    struct nd_pipeline_target pt[3] = {
        {"ops", &t[0], NULL, NULL}, {"dev", &t[1], NULL, NULL}, {"audit", &t[2], NULL, NULL}};
    const char *gl[] = {"alertname"};
    struct nd_pipeline_config cfg = {.targets = pt,
                                     .ntargets = 3,
                                     .group_labels = gl,
                                     .ngroup_labels = 1,
                                     .notify = on_notify,
                                     .ud = &s,
                                     .metrics = &m};
    struct nd_pipeline *p = nd_pipeline_new(&cfg);
    struct nd_batcher *b = nd_batcher_new(base, 4, INT64_C(3600000000000), nd_pipeline_batch_cb, p);

    struct nd_alert *a[4] = {
        mk_alert(q, ND_ALERT_FIRING, "alertname", "A", "i", "0", NULL, NULL),
        mk_alert(q, ND_ALERT_FIRING, "alertname", "B", "i", "1", NULL, NULL),
        mk_alert(q, ND_ALERT_RESOLVED, "alertname", "A", "i", "2", NULL, NULL),
        mk_alert(q, ND_ALERT_FIRING, "alertname", "C", "i", "3", NULL, NULL),
    };
    for (int i = 0; i < 4; i++)
        nd_batcher_push_take(b, a[i]); /* the batch's references are the only ones */
    is_uint(m.batches, 1, "one batch counted");
    is_int(s.calls, 9, "3 receivers x 3 groups = 9 notifications");
    is_uint(m.notifications, 9, "notifications counted");
    ok(!s.bad_receiver, "each notification names the receiver it was handed to");
    for (int r = 0; r < 3; r++) {
        int all = 1;
        for (int i = 0; i < 4; i++)
            all &= has_alert(&t[r], a[i]);
        ok(all, "receiver %s got every alert", t[r].name);
        is_uint(t[r].n, 3, "receiver %s: one notification per group", t[r].name);
    }
    is_str(nd_alert_label(t[0].got[0]->alerts[0], "alertname"), "A", "groups in batch order");
    is_uint(t[0].got[0]->nalerts, 2, "group A has two alerts");
    is_int(a[0]->refs, 3, "after the batch: one reference per receiver");
    is_uint(nd_queue_count(q), 4, "all alerts still held by notifications");

    release(&t[0]);
    release(&t[1]);
    is_uint(nd_queue_count(q), 4, "held while any notification carries them");
    release(&t[2]);
    is_uint(nd_queue_count(q), 0, "queue count back to 0 after the last notification");
    is_uint(nd_queue_bytes(q), 0, "queue bytes back to 0");

    /* A second batch through the same pipeline (scratch reuse), via flush. */
    nd_batcher_push_take(b, mk_alert(q, ND_ALERT_FIRING, "alertname", "Z", NULL, NULL));
    nd_batcher_flush(b);
    is_uint(m.batches, 2, "second batch counted");
    is_int(s.calls, 12, "one notification per receiver");
    is_str(t[2].got[0]->receiver, "audit", "for each receiver");
    release(&t[0]);
    release(&t[1]);
    release(&t[2]);
    is_uint(nd_queue_count(q), 0, "released again");

    nd_batcher_free(b);
    nd_pipeline_free(p);
    nd_queue_free(q);
    event_base_free(base);
}

static void on_notify_unref(void *target_ud, struct nd_notification *n, void *ud)
{
    ND_UNUSED(target_ud);
    (*(int *)ud)++;
    nd_notification_unref(n); /* delivered synchronously */
}

static void test_no_receivers_and_sync_delivery(void)
{
    struct nd_queue *q = nd_queue_new(1000, 1 << 24);
    int calls = 0;
    struct nd_pipeline_config cfg = {.notify = on_notify_unref, .ud = &calls};
    struct nd_pipeline *p = nd_pipeline_new(&cfg); /* no metrics, no receivers */
    struct nd_alert *a = mk_alert(q, ND_ALERT_FIRING, "alertname", "A", NULL, NULL);
    nd_pipeline_run(p, &a, 1);
    is_int(calls, 0, "no receivers: no notification");
    nd_pipeline_free(p);

    struct nd_pipeline_target pt[2] = {{"one", NULL, NULL, NULL}, {"two", NULL, NULL, NULL}};
    cfg.targets = pt;
    cfg.ntargets = 2;
    p = nd_pipeline_new(&cfg);
    nd_pipeline_run(p, &a, 1);
    is_int(calls, 2, "no group labels: one notification per receiver");
    is_int(a->refs, 1, "synchronous delivery released the notification references");
    nd_pipeline_run(p, &a, 0);
    is_int(calls, 2, "empty batch: nothing");
    nd_alert_unref(a);
    is_uint(nd_queue_count(q), 0, "queue empty");
    nd_pipeline_free(p);
    nd_queue_free(q);
}

/* The filter stage: a receiver with an alert_selector gets only the alerts
 * it selects; one without gets everything; a receiver that selects nothing
 * of the batch gets no notification. */
static void test_alert_selector(void)
{
    struct nd_queue *q = nd_queue_new(1000, 1 << 24);
    struct nd_metrics m = {0};
    struct sink s = {0};
    struct target t[3] = {{.name = "crit"}, {.name = "all"}, {.name = "none"}};
    struct nd_selector *crit = NULL, *none = NULL;
    size_t col;
    char err[ND_ERRLEN];

    if (nd_selector_parse("severity=critical,namespace!=test", &crit, &col, err) != ND_OK ||
        nd_selector_parse("team=nobody", &none, &col, err) != ND_OK) {
        ok(0, "selectors parse: %s", err);
        return;
    }
    struct nd_pipeline_target pt[3] = {
        {"crit", &t[0], crit, NULL}, {"all", &t[1], NULL, NULL}, {"none", &t[2], none, NULL}};
    struct nd_pipeline_config cfg = {
        .targets = pt, .ntargets = 3, .notify = on_notify, .ud = &s, .metrics = &m};
    struct nd_pipeline *p = nd_pipeline_new(&cfg);
    struct nd_alert *a[3] = {
        mk_alert(q, ND_ALERT_FIRING, "alertname", "A", "severity", "critical", "namespace", "prod",
                 NULL, NULL),
        mk_alert(q, ND_ALERT_FIRING, "alertname", "B", "severity", "warning", NULL, NULL),
        mk_alert(q, ND_ALERT_FIRING, "alertname", "C", "severity", "critical", "namespace", "test",
                 NULL, NULL),
    };

    nd_pipeline_run(p, a, 3);
    ok(has_alert(&t[0], a[0]) && !has_alert(&t[0], a[1]) && !has_alert(&t[0], a[2]),
       "crit: only the critical alert outside namespace test");
    ok(has_alert(&t[1], a[0]) && has_alert(&t[1], a[1]) && has_alert(&t[1], a[2]),
       "no selector: every alert");
    is_uint(t[2].n, 0, "a receiver that selects nothing gets no notification");
    is_int(s.calls, 2, "two notifications");
    release(&t[0]);
    release(&t[1]);
    for (int i = 0; i < 3; i++)
        nd_alert_unref(a[i]);
    nd_pipeline_free(p);
    nd_selector_free(crit);
    nd_selector_free(none);
    is_uint(nd_queue_count(q), 0, "nothing held");
    nd_queue_free(q);
}

int main(void)
{
    test_every_receiver_gets_every_alert();
    test_alert_selector();
    test_no_receivers_and_sync_delivery();
    return done_testing();
}
