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

/* "n=v,n=v" of an alert's labels or annotations, for compact comparisons. */
static const char *kvs(const struct nd_alert *a, int annotations)
{
    static char out[1024];
    struct nd_buf scratch;
    size_t len = 0, n = annotations ? a->nannotations : a->nlabels;
    nd_buf_init(&scratch, SIZE_MAX / 2);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        struct nd_kv kv =
            annotations ? nd_alert_annotation_at(a, i, &scratch) : nd_alert_label_at(a, i);
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s=%s", i ? "," : "", kv.name,
                                kv.value);
    }
    nd_buf_deinit(&scratch);
    return out;
}
#define labels(a)      kvs(a, 0)
#define annotations(a) kvs(a, 1)

static bool zero_time(struct nd_time t)
{
    return nd_time_is_zero(&t);
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
    is_str(labels(a), "Beta=2,_x=3,alertname=B,cluster=c1,zeta=1",
           "labels sorted bytewise, last duplicate kept, cluster added");
    is_str(annotations(a), "description=d2,empty=,summary=s",
           "annotations sorted, last duplicate kept, empty annotation kept");
    is_str(nd_alert_label(a, "alertname"), "B", "label lookup");
    ok(nd_alert_label(a, "nope") == NULL, "missing label is NULL");
    struct nd_buf scratch;
    nd_buf_init(&scratch, SIZE_MAX / 2);
    is_str(nd_alert_annotation(a, "summary", &scratch), "s", "annotation lookup");
    ok(nd_alert_annotation(a, "alertname", &scratch) == NULL, "labels are not annotations");
    is_uint(nd_alert_annotation_find(a, "summary"), 2, "annotation index by name");
    ok(nd_alert_annotation_find(a, "zzz") == SIZE_MAX, "missing annotation: SIZE_MAX");
    is_str(nd_alert_annotation_name(a, 0), "description", "annotation name by index");
    is_str(nd_alert_annotation_value(a, 1, &scratch), "", "an empty annotation value");
    struct nd_kv kv[5];
    for (size_t i = 0; i < a->nlabels; i++)
        kv[i] = nd_alert_label_at(a, i);
    is_uint(nd_alert_fingerprint(a), nd_fingerprint(kv, a->nlabels), "fingerprint over labels");
    nd_buf_deinit(&scratch);
    is_int(a->refs, 1, "new alert has one reference");
    nd_alert_unref(a);
    nd_alert_builder_deinit(&b);
}

/* The sort compares the first 8 bytes of names as one number before any
 * memcmp: names that share them, that are shorter, or that hold bytes above
 * 0x7f must still come out in bytewise (strcmp) order, also past the
 * insertion sort (more than 16 labels). */
static void test_sort_order(void)
{
    static const char *const names[] = {"container_id",
                                        "container",
                                        "containers",
                                        "containe",
                                        "contain",
                                        "c",
                                        "cluster_x",
                                        "\xc3\xa9t\xc3\xa9",
                                        "\x7f",
                                        "z",
                                        "a",
                                        "alertname",
                                        "alertnamf",
                                        "alertnamd",
                                        "instance_long_name_1",
                                        "instance_long_name_0",
                                        "instance",
                                        "job",
                                        "B",
                                        "_"};
    struct nd_alert_builder b;
    char err[ND_ERRLEN] = "";
    nd_alert_builder_init(&b, 1 << 16);
    for (size_t n = 8; n <= 20; n += 12) { /* insertion sort, then qsort */
        for (size_t i = 0; i < n; i++)
            add_l(&b, names[(i * 7) % 20 < n ? (i * 7) % 20 : i], "v");
        struct nd_alert *a = nd_alert_builder_finish(&b, NULL, NOW, err);
        int sorted = a != NULL;
        for (size_t i = 1; a && i < a->nlabels; i++)
            if (strcmp(nd_alert_label_at(a, i - 1).name, nd_alert_label_at(a, i).name) >= 0)
                sorted = 0;
        ok(sorted, "%zu names sharing prefixes: strcmp order", n);
        int found = a != NULL;
        for (size_t i = 0; a && i < a->nlabels; i++)
            if (nd_alert_label(a, nd_alert_label_at(a, i).name) != nd_alert_label_at(a, i).value)
                found = 0;
        ok(found, "%zu names: each found by binary search", n);
        nd_alert_unref(a);
    }
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
    is_str(labels(a), "alertname=A,cluster=default,kept=k", "empty-valued label dropped");
    nd_alert_unref(a);

    add_l(&b, "alertname", "A");
    add_l(&b, "cluster", "mine");
    a = nd_alert_builder_finish(&b, "default", NOW, err);
    is_str(labels(a), "alertname=A,cluster=mine", "existing cluster label is kept");
    nd_alert_unref(a);

    add_l(&b, "alertname", "A");
    add_l(&b, "cluster", "");
    a = nd_alert_builder_finish(&b, "default", NOW, err);
    is_str(labels(a), "alertname=A,cluster=default", "empty cluster label counts as missing");
    nd_alert_unref(a);

    add_l(&b, "alertname", "A");
    a = nd_alert_builder_finish(&b, NULL, NOW, err);
    is_str(labels(a), "alertname=A", "no cluster configured: none added");
    nd_alert_unref(a);

    add_l(&b, "only", "");
    err[0] = '\0';
    a = nd_alert_builder_finish(&b, "default", NOW, err);
    ok(a == NULL, "no label left: rejected");
    ok(err[0] != '\0', "and the error says why: %s", err);

    /* The builder resets after a failure: the next alert starts clean. */
    add_l(&b, "x", "1");
    a = nd_alert_builder_finish(&b, NULL, NOW, err);
    is_str(labels(a), "x=1", "builder reset after a rejected alert");
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
    ok(zero_time(nd_alert_starts_at(a)) && zero_time(nd_alert_ends_at(a)), "absent times are zero");
    is_str(nd_alert_generator_url(a), "", "absent generatorURL is empty");
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
    struct nd_time got = nd_alert_starts_at(a);
    ok(nd_time_cmp(&got, &past) == 0, "startsAt kept");
    nd_alert_unref(a);

    add_l(&b, "a", "1");
    nd_alert_builder_set_times(&b, NULL, &future);
    nd_alert_builder_set_status(&b, ND_ALERT_RESOLVED);
    nd_alert_builder_set_generator_url(&b, "http://prom/graph", 17);
    a = nd_alert_builder_finish(&b, NULL, NOW, err);
    is_int(a->status, ND_ALERT_RESOLVED, "explicit status wins over endsAt");
    is_str(nd_alert_generator_url(a), "http://prom/graph", "generatorURL kept");
    is_str(nd_alert_status_str(a->status), "resolved", "status string");
    nd_alert_unref(a);

    /* The ID changes with status; the fingerprint does not. */
    add_l(&b, "a", "1");
    struct nd_alert *f = nd_alert_builder_finish(&b, NULL, NOW, err);
    add_l(&b, "a", "1");
    nd_alert_builder_set_status(&b, ND_ALERT_RESOLVED);
    struct nd_alert *r = nd_alert_builder_finish(&b, NULL, NOW, err);
    ok(nd_alert_fingerprint(f) == nd_alert_fingerprint(r), "same labels, same fingerprint");
    ok(nd_alert_id(f) != nd_alert_id(r), "different status, different ID");
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
    ok(a->size >= sizeof *a + 3 * 2 * sizeof(uint32_t), "size covers the whole block");
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

/* The fixed part of the block: 96 bytes before the compact layout (two
 * 8-byte hashes, three pointers, two 16-byte times), 56 after. */
static void test_block_size(void)
{
    is_uint(sizeof(struct nd_alert), 56, "struct nd_alert is 56 bytes");
    struct nd_alert_builder b;
    char err[ND_ERRLEN];
    nd_alert_builder_init(&b, 4096);
    add_l(&b, "a", "1");
    struct nd_alert *a = nd_alert_builder_finish(&b, NULL, NOW, err);
    /* struct + one pair of references + "a" + "1" + "" (the absent URL) */
    is_uint(a->size, 56 + 8 + 2 + 2 + 1, "logical size of a one-label alert");
    nd_alert_unref(a);
    nd_alert_builder_deinit(&b);
}

/* The accessors at the edges: no annotation, one label, and the most pairs
 * an alert may have (inline offsets far into a ~2 MB block). */
static void test_accessor_edges(void)
{
    struct nd_alert_builder b;
    struct nd_buf scratch;
    char err[ND_ERRLEN];
    nd_buf_init(&scratch, SIZE_MAX / 2);
    nd_alert_builder_init(&b, 1 << 24);

    add_l(&b, "only", "one");
    struct nd_alert *a = nd_alert_builder_finish(&b, NULL, NOW, err);
    is_uint(a->nlabels, 1, "one label");
    is_uint(a->nannotations, 0, "no annotation");
    struct nd_kv kv = nd_alert_label_at(a, 0);
    is_str(kv.name, "only", "label_at(0) name");
    is_str(kv.value, "one", "label_at(0) value");
    is_str(nd_alert_label(a, "only"), "one", "lookup of the one label");
    ok(nd_alert_label(a, "a") == NULL && nd_alert_label(a, "z") == NULL,
       "lookups before and after it miss");
    ok(nd_alert_annotation_find(a, "only") == SIZE_MAX, "no annotation to find");
    ok(nd_alert_annotation(a, "x", &scratch) == NULL, "annotation lookup: NULL");
    is_uint(nd_alert_fingerprint(a), nd_fingerprint(&kv, 1), "fingerprint of one label");
    ok(nd_alert_id(a) != 0, "an ID without annotations");
    nd_alert_unref(a);

    char n[16], v[16];
    int rc = ND_OK;
    for (unsigned i = 0; i < ND_ALERT_MAX_PAIRS && rc == ND_OK; i++) {
        snprintf(n, sizeof n, "l%05u", i);
        snprintf(v, sizeof v, "v%u", i);
        rc = add_l(&b, n, v);
        snprintf(n, sizeof n, "a%05u", i);
        snprintf(v, sizeof v, "w%u", i);
        if (rc == ND_OK)
            rc = add_a(&b, n, v);
    }
    is_int(rc, ND_OK, "65535 labels and 65535 annotations added");
    a = nd_alert_builder_finish(&b, NULL, NOW, err);
    ok(a != NULL, "the largest alert is built (%s)", a ? "" : err);
    if (a) {
        is_uint(a->nlabels, ND_ALERT_MAX_PAIRS, "65535 labels");
        is_uint(a->nannotations, ND_ALERT_MAX_PAIRS, "65535 annotations");
        is_str(nd_alert_label_at(a, 0).value, "v0", "first label");
        kv = nd_alert_label_at(a, ND_ALERT_MAX_PAIRS - 1);
        is_str(kv.name, "l65534", "last label name");
        is_str(kv.value, "v65534", "last label value");
        is_str(nd_alert_label(a, "l65534"), "v65534", "lookup of the last label");
        is_str(nd_alert_label(a, "l32767"), "v32767", "lookup in the middle");
        kv = nd_alert_annotation_at(a, ND_ALERT_MAX_PAIRS - 1, &scratch);
        is_str(kv.name, "a65534", "last annotation name");
        is_str(kv.value, "w65534", "last annotation value");
        is_uint(nd_alert_annotation_find(a, "a65534"), ND_ALERT_MAX_PAIRS - 1,
                "last annotation found by name");
        is_str(nd_alert_annotation_value(a, 0, &scratch), "w0", "first annotation value");
        is_str(nd_alert_annotation(a, "a00001", &scratch), "w1", "lookup of an annotation");
        nd_alert_unref(a);
    }
    /* The cluster label would be one label too many. */
    for (unsigned i = 0; i < ND_ALERT_MAX_PAIRS; i++) {
        snprintf(n, sizeof n, "l%05u", i);
        add_l(&b, n, "v");
    }
    err[0] = '\0';
    ok(nd_alert_builder_finish(&b, "c1", NOW, err) == NULL, "65535 labels + cluster: refused");
    ok(strstr(err, "too many") != NULL, "too many labels (%s)", err);
    nd_alert_builder_deinit(&b);
    nd_buf_deinit(&scratch);
}

static struct nd_time mk_time(int64_t sec, int32_t nsec, int32_t offset)
{
    struct nd_time t = {sec, nsec, offset};
    return t;
}

/* Times are packed into 28 bytes for two: exact for every time RFC 3339 can
 * write, and otherwise the instant is kept. */
static void test_packed_times(void)
{
    static const struct {
        int64_t sec;
        int32_t nsec, offset;
    } exact[] = {
        {ND_TIME_ZERO_SEC, 0, 0},
        {1700000000, 999999999, 86400},
        {1700000000, 1, -86400},
        {-1, 123456789, -(23 * 3600 + 59 * 60)},
        {INT64_C(253402300799), 500000000, 23 * 3600 + 59 * 60},
        {0, 0, 19800},
        {1, 2, -1}, /* an odd second: the low bits of the offset */
        {INT64_MAX, 999999999, 3},
        {INT64_MIN, 0, -3},
    };
    struct nd_alert_builder b;
    char err[ND_ERRLEN];
    nd_alert_builder_init(&b, 4096);
    for (size_t i = 0; i < ND_ARRAY_LEN(exact); i++) {
        struct nd_time s = mk_time(exact[i].sec, exact[i].nsec, exact[i].offset);
        struct nd_time e = mk_time(exact[i].sec / 2, exact[i].nsec / 3, -exact[i].offset);
        add_l(&b, "a", "1");
        nd_alert_builder_set_times(&b, &s, &e);
        nd_alert_builder_set_status(&b, ND_ALERT_FIRING);
        struct nd_alert *a = nd_alert_builder_finish(&b, NULL, NOW, err);
        struct nd_time gs = nd_alert_starts_at(a), ge = nd_alert_ends_at(a);
        ok(gs.sec == s.sec && gs.nsec == s.nsec && gs.offset == s.offset,
           "startsAt %zu exact (%lld.%09d %+d)", i, (long long)gs.sec, gs.nsec, gs.offset);
        ok(ge.sec == e.sec && ge.nsec == e.nsec && ge.offset == e.offset, "endsAt %zu exact", i);
        nd_alert_unref(a);
    }
    struct nd_time s = mk_time(100, 1500000000, 90000), e = mk_time(100, -1, -90000);
    add_l(&b, "a", "1");
    nd_alert_builder_set_times(&b, &s, &e);
    struct nd_alert *a = nd_alert_builder_finish(&b, NULL, NOW, err);
    struct nd_time gs = nd_alert_starts_at(a), ge = nd_alert_ends_at(a);
    ok(gs.sec == 101 && gs.nsec == 500000000, "nanoseconds past a second carried");
    ok(ge.sec == 99 && ge.nsec == 999999999, "negative nanoseconds borrowed");
    ok(gs.offset == 0 && ge.offset == 0, "offsets beyond 24 h become UTC");
    nd_alert_unref(a);
    nd_alert_builder_deinit(&b);
}

/* The ID covers annotations and both instants, not only labels. */
static void test_id_covers(void)
{
    struct nd_alert_builder b;
    char err[ND_ERRLEN];
    uint64_t ids[5];
    nd_alert_builder_init(&b, 4096);
    for (int i = 0; i < 5; i++) {
        struct nd_time s = mk_time(1700000000, 0, 0), e = nd_time_zero();
        add_l(&b, "alertname", "A");
        add_a(&b, "summary", i == 1 ? "other" : "s");
        if (i == 2)
            s.nsec = 1;
        if (i == 3)
            e = mk_time(1700000001, 0, 0);
        if (i == 4)
            add_a(&b, "summarz", "s");
        nd_alert_builder_set_times(&b, &s, &e);
        nd_alert_builder_set_status(&b, ND_ALERT_FIRING);
        struct nd_alert *a = nd_alert_builder_finish(&b, NULL, NOW, err);
        ids[i] = nd_alert_id(a);
        ok(nd_alert_id(a) == ids[i], "ID %d is the same on every call", i);
        nd_alert_unref(a);
    }
    ok(ids[1] != ids[0], "an annotation value changes the ID");
    ok(ids[2] != ids[0], "startsAt changes the ID");
    ok(ids[3] != ids[0], "endsAt changes the ID");
    ok(ids[4] != ids[0], "one more annotation changes the ID");
    nd_alert_builder_deinit(&b);
}

int main(void)
{
    test_sorting_and_duplicates();
    test_sort_order();
    test_empty_values_and_cluster();
    test_nul_and_limits();
    test_status_and_times();
    test_refcount_and_queue();
    test_block_size();
    test_accessor_edges();
    test_packed_times();
    test_id_covers();
    return done_testing();
}
