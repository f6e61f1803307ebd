/* test_alert.c - the alert builder, lookups and reference counting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/queue.h"
#include "notifyd/util.h"
#include "tap.h"

#define NOW INT64_C(1700000000000000000)

static int add_l(struct nd_alert_builder *b, const char *n, const char *v)
{
    return nd_alert_builder_add_label(b, n, strlen(n), v, strlen(v));
}

static int add_a(struct nd_alert_builder *b, const char *n, const char *v)
{
    return nd_alert_builder_add_annotation(b, n, strlen(n), v, strlen(v));
}

/* "n=v,n=v" of a kv array, for compact comparisons. */
static const char *kvs(const struct nd_kv *kv, size_t n)
{
    static char out[1024];
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s=%s", i ? "," : "", kv[i].name,
                                kv[i].value);
    return out;
}

static void test_sorting_and_duplicates(void)
{
    struct nd_alert_builder b;
    char err[ND_ERRLEN] = "";
    nd_alert_builder_init(&b, 4096);
    add_l(&b, "zeta", "1");
    add_l(&b, "alertname", "A");
    add_l(&b, "Beta", "2");
    add_l(&b, "_x", "3");
    add_l(&b, "alertname", "B"); /* later duplicate wins */
    add_a(&b, "summary", "s");
    add_a(&b, "description", "d1");
    add_a(&b, "description", "d2");
    add_a(&b, "empty", "");
    struct nd_alert *a = nd_alert_builder_finish(&b, "c1", NOW, err);
    ok(a != NULL, "alert built");
    is_str(kvs(a->labels, a->nlabels), "Beta=2,_x=3,alertname=B,cluster=c1,zeta=1",
           "labels sorted bytewise, last duplicate kept, cluster added");
    is_str(kvs(a->annotations, a->nannotations), "description=d2,empty=,summary=s",
           "annotations sorted, last duplicate kept, empty annotation kept");
    is_str(nd_alert_label(a, "alertname"), "B", "label lookup");
    ok(nd_alert_label(a, "nope") == NULL, "missing label is NULL");
    is_str(nd_alert_annotation(a, "summary"), "s", "annotation lookup");
    ok(nd_alert_annotation(a, "alertname") == NULL, "labels are not annotations");
    is_uint(a->fingerprint, nd_fingerprint(a->labels, a->nlabels), "fingerprint over labels");
    is_int(a->refs, 1, "new alert has one reference");
    nd_alert_unref(a);
    nd_alert_builder_deinit(&b);
}

static void test_empty_values_and_cluster(void)
{
    struct nd_alert_builder b;
    char err[ND_ERRLEN] = "";
    nd_alert_builder_init(&b, 4096);

    add_l(&b, "alertname", "A");
    add_l(&b, "gone", "");
    add_l(&b, "kept", "k");
    is_int(nd_alert_builder_nlabels(&b), 2, "nlabels counts non-empty values only");
    struct nd_alert *a = nd_alert_builder_finish(&b, "default", NOW, err);
    is_str(kvs(a->labels, a->nlabels), "alertname=A,cluster=default,kept=k",
           "empty-valued label dropped");
    nd_alert_unref(a);

    add_l(&b, "alertname", "A");
    add_l(&b, "cluster", "mine");
    a = nd_alert_builder_finish(&b, "default", NOW, err);
    is_str(kvs(a->labels, a->nlabels), "alertname=A,cluster=mine",
           "existing cluster label is kept");
    nd_alert_unref(a);

    add_l(&b, "alertname", "A");
    add_l(&b, "cluster", "");
    a = nd_alert_builder_finish(&b, "default", NOW, err);
    is_str(kvs(a->labels, a->nlabels), "alertname=A,cluster=default",
           "empty cluster label counts as missing");
    nd_alert_unref(a);

    add_l(&b, "alertname", "A");
    a = nd_alert_builder_finish(&b, NULL, NOW, err);
    is_str(kvs(a->labels, a->nlabels), "alertname=A", "no cluster configured: none added");
    nd_alert_unref(a);

    add_l(&b, "only", "");
    err[0] = '\0';
    a = nd_alert_builder_finish(&b, "default", NOW, err);
    ok(a == NULL, "no label left: rejected");
    ok(err[0] != '\0', "and the error says why: %s", err);

    /* The builder resets after a failure: the next alert starts clean. */
    add_l(&b, "x", "1");
    a = nd_alert_builder_finish(&b, NULL, NOW, err);
    is_str(kvs(a->labels, a->nlabels), "x=1", "builder reset after a rejected alert");
    nd_alert_unref(a);
    nd_alert_builder_deinit(&b);
}

static void test_nul_and_limits(void)
{
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, 32);
    is_int(nd_alert_builder_add_label(&b, "a\0b", 3, "v", 1), ND_EINVAL, "NUL in a name");
    is_int(nd_alert_builder_add_label(&b, "a", 1, "v\0", 2), ND_EINVAL, "NUL in a value");
    is_int(nd_alert_builder_add_annotation(&b, "a", 1, "\0", 1), ND_EINVAL, "NUL in an annotation");
    is_int(nd_alert_builder_set_generator_url(&b, "http://x\0", 9), ND_EINVAL, "NUL in a URL");
    is_int(add_l(&b, "n", "0123456789012345678901234567890123456789"), ND_ETOOBIG,
           "strings past the limit");
    is_int(add_l(&b, "n", "short"), ND_OK, "a fitting label is still accepted");
    nd_alert_builder_deinit(&b);

    /* The pair count is bounded too: 16-bit counts in the alert. */
    nd_alert_builder_init(&b, 1 << 22);
    int rc = ND_OK;
    for (unsigned i = 0; i < ND_ALERT_MAX_PAIRS && rc == ND_OK; i++) {
        char name[16];
        snprintf(name, sizeof name, "l%u", i);
        rc = add_l(&b, name, "v");
    }
    is_int(rc, ND_OK, "ND_ALERT_MAX_PAIRS labels accepted");
    is_int(add_l(&b, "one_more", "v"), ND_ETOOBIG, "one label more is too many");
    is_int(add_a(&b, "ann", "v"), ND_OK, "annotations have their own count");
    nd_alert_builder_deinit(&b);
}

static void test_status_and_times(void)
{
    struct nd_alert_builder b;
    char err[ND_ERRLEN];
    nd_alert_builder_init(&b, 4096);

    add_l(&b, "a", "1");
    struct nd_alert *a = nd_alert_builder_finish(&b, NULL, NOW, err);
    is_int(a->status, ND_ALERT_FIRING, "no endsAt: firing");
    ok(nd_time_is_zero(&a->starts_at) && nd_time_is_zero(&a->ends_at), "absent times are zero");
    is_str(a->generator_url, "", "absent generatorURL is empty");
    nd_alert_unref(a);

    struct nd_time past = nd_time_from_unix_ns(NOW - 1000);
    struct nd_time future = nd_time_from_unix_ns(NOW + 1000);
    add_l(&b, "a", "1");
    nd_alert_builder_set_times(&b, NULL, &past);
    a = nd_alert_builder_finish(&b, NULL, NOW, err);
    is_int(a->status, ND_ALERT_RESOLVED, "endsAt in the past: resolved");
    nd_alert_unref(a);

    add_l(&b, "a", "1");
    nd_alert_builder_set_times(&b, &past, &future);
    a = nd_alert_builder_finish(&b, NULL, NOW, err);
    is_int(a->status, ND_ALERT_FIRING, "endsAt in the future: firing");
    ok(nd_time_cmp(&a->starts_at, &past) == 0, "startsAt kept");
    nd_alert_unref(a);

    add_l(&b, "a", "1");
    nd_alert_builder_set_times(&b, NULL, &future);
    nd_alert_builder_set_status(&b, ND_ALERT_RESOLVED);
    nd_alert_builder_set_generator_url(&b, "http://prom/graph", 17);
    a = nd_alert_builder_finish(&b, NULL, NOW, err);
    is_int(a->status, ND_ALERT_RESOLVED, "explicit status wins over endsAt");
    is_str(a->generator_url, "http://prom/graph", "generatorURL kept");
    is_str(nd_alert_status_str(a->status), "resolved", "status string");
    nd_alert_unref(a);

    /* The ID changes with status; the fingerprint does not. */
    add_l(&b, "a", "1");
    struct nd_alert *f = nd_alert_builder_finish(&b, NULL, NOW, err);
    add_l(&b, "a", "1");
    nd_alert_builder_set_status(&b, ND_ALERT_RESOLVED);
    struct nd_alert *r = nd_alert_builder_finish(&b, NULL, NOW, err);
    ok(f->fingerprint == r->fingerprint, "same labels, same fingerprint");
    ok(f->id != r->id, "different status, different ID");
    nd_alert_unref(f);
    nd_alert_unref(r);
    nd_alert_builder_deinit(&b);
}

static void test_refcount_and_queue(void)
{
    struct nd_alert_builder b;
    char err[ND_ERRLEN];
    struct nd_queue *q = nd_queue_new(10, 1 << 20);
    nd_alert_builder_init(&b, 4096);
    add_l(&b, "alertname", "A");
    add_a(&b, "summary", "some text");
    struct nd_alert *a = nd_alert_builder_finish(&b, "c", NOW, err);
    ok(a->size >= sizeof *a + 3 * sizeof(struct nd_kv), "size covers the whole block");
    nd_queue_hold(q, a);
    ok(a->queue == q, "hold records the queue");
    is_uint(nd_queue_count(q), 1, "held: count 1");
    is_uint(nd_queue_bytes(q), a->size, "held: bytes = block size");
    nd_alert_ref(a);
    nd_alert_ref(a);
    is_int(a->refs, 3, "three references");
    nd_alert_unref(a);
    nd_alert_unref(a);
    is_uint(nd_queue_count(q), 1, "still held while a reference remains");
    nd_alert_unref(a); /* freed: ASan would catch a use after this */
    is_uint(nd_queue_count(q), 0, "last unref releases the count");
    is_uint(nd_queue_bytes(q), 0, "last unref releases the bytes");
    nd_alert_unref(NULL);
    ok(1, "unref(NULL) is a no-op");
    nd_alert_builder_deinit(&b);
    nd_queue_free(q);
}

int main(void)
{
    test_sorting_and_duplicates();
    test_empty_values_and_cluster();
    test_nul_and_limits();
    test_status_and_times();
    test_refcount_and_queue();
    return done_testing();
}
