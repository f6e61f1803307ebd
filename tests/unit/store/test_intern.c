/* test_intern.c - the string table and how alerts share it: references come
 * back to zero, the table shrinks and frees itself, alerts built through it
 * keep the fingerprints and IDs of the one-block layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/intern.h"
#include "notifyd/queue.h"
#include "notifyd/util.h"
#include "tap.h"

static const char *in(const char *s)
{
    return nd_intern(s, strlen(s), nd_intern_hash(s, strlen(s)));
}

static const char *find(const char *s)
{
    return nd_intern_find(s, strlen(s), nd_intern_hash(s, strlen(s)));
}

static void test_refcounts(void)
{
    const char *a = in("severity");
    const char *b = in("severity");
    ok(a == b, "same string, same copy");
    is_int(nd_intern_refs(a), 2, "two references");
    is_uint(nd_intern_count(), 1, "one entry");
    ok(nd_intern_capacity() > 0, "table allocated");
    is_str(a, "severity", "NUL-terminated copy");
    is_uint(nd_intern_len(a), 8, "length kept");
    ok(find("nope") == NULL, "find of an absent string is NULL");
    is_uint(nd_intern_count(), 1, "and inserts nothing");
    const char *f = nd_intern_fast("severity", 8);
    ok(f == a, "the fast cache knows a string just interned");
    is_int(nd_intern_refs(a), 3, "fast hit takes a reference");
    nd_intern_unref(f);
    nd_intern_unref(b);
    is_int(nd_intern_refs(a), 1, "back to one");
    nd_intern_unref(a);
    is_uint(nd_intern_count(), 0, "last reference frees the entry");
    is_uint(nd_intern_capacity(), 0, "empty table frees its slots");
    is_uint(nd_intern_bytes(), 0, "no bytes held");
    ok(nd_intern_fast("severity", 8) == NULL, "a freed entry leaves the fast cache");

    const char *e = nd_intern("", 0, 0);
    is_str(e, "", "empty string");
    is_int(nd_intern_refs(e), 0, "the empty string is not counted");
    is_uint(nd_intern_count(), 0, "and not in the table");
    nd_intern_unref(e);
    ok(nd_intern_find("", 0, 0) == e, "always the same static copy");
}

/* Thousands of entries, removed in a scattered order: every survivor must
 * still be found (backward-shift deletion keeps probe runs whole), and the
 * table must shrink as it empties. */
static void test_grow_shrink(void)
{
    enum { N = 20000 };
    static const char *p[N];
    char s[32];
    for (int i = 0; i < N; i++) {
        snprintf(s, sizeof s, "value-%d", i);
        p[i] = in(s);
    }
    is_uint(nd_intern_count(), N, "all entries live");
    size_t peak = nd_intern_capacity();
    ok(peak >= N * 4 / 3, "load factor at most 3/4 (capacity %zu)", peak);
    int lost = 0;
    for (int i = 0; i < N; i++) {
        if ((i * 7919) % 10 == 0)
            continue; /* keep a tenth */
        nd_intern_unref(p[i]);
        p[i] = NULL;
    }
    for (int i = 0; i < N; i++) {
        if (!p[i])
            continue;
        snprintf(s, sizeof s, "value-%d", i);
        const char *q = find(s);
        if (q != p[i])
            lost++;
        else
            nd_intern_unref(q);
    }
    is_int(lost, 0, "every survivor found after scattered removals");
    is_uint(nd_intern_count(), N / 10, "a tenth left");
    ok(nd_intern_capacity() <= peak / 4, "table shrank (%zu -> %zu slots)", peak,
       nd_intern_capacity());
    for (int i = 0; i < N; i++)
        if (p[i])
            nd_intern_unref(p[i]);
    is_uint(nd_intern_count(), 0, "all gone");
    is_uint(nd_intern_capacity(), 0, "table freed");
}

static struct nd_alert *build(struct nd_alert_builder *b, const char *pod, const char *sev)
{
    char err[ND_ERRLEN];
    nd_alert_builder_add_label(b, "alertname", 9, "KubePodCrashLooping", 19);
    nd_alert_builder_add_label(b, "pod", 3, pod, strlen(pod));
    nd_alert_builder_add_label(b, "severity", 8, sev, strlen(sev));
    nd_alert_builder_add_annotation(b, "summary", 7, pod, strlen(pod));
    nd_alert_builder_set_generator_url(b, "http://prom/graph", 17);
    return nd_alert_builder_finish(b, "c1", 0, err);
}

static void test_alerts_share(void)
{
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, 4096);
    struct nd_queue *q = nd_queue_new(100, 1 << 20);
    struct nd_alert *a1 = build(&b, "pod-1", "critical");
    struct nd_alert *a2 = build(&b, "pod-2", "critical");
    struct nd_alert *a3 = build(&b, "pod-3", "critical");
    ok(a1 && a2 && a3, "three alerts built");
    if (!a1 || !a2 || !a3)
        return;
    ok(a1->labels[0].name == a2->labels[0].name, "label names are shared");
    ok(nd_intern_refs(a1->labels[0].name) >= 3, "and counted per alert");
    const char *s2 = nd_alert_label(a2, "severity"), *s3 = nd_alert_label(a3, "severity");
    ok(s2 == s3, "a value seen again is shared");
    ok(nd_intern_refs(s3) >= 2, "with a reference per alert");
    const char *p3 = nd_alert_label(a3, "pod");
    is_str(p3, "pod-3", "a unique value");
    ok(p3 > (const char *)a3 && p3 < (const char *)a3 + 4096, "lives in its own alert block");
    is_str(nd_alert_label(a3, "cluster"), "c1", "cluster label added");
    is_str(a3->generator_url, "http://prom/graph", "generatorURL");
    ok(a1->size >= sizeof *a1, "size covers at least the struct");
    /* logical size: struct, 4 labels + 1 annotation, every string with its NUL */
    size_t want = sizeof *a3 + 5 * sizeof(struct nd_kv) + sizeof "alertname" +
                  sizeof "KubePodCrashLooping" + sizeof "pod" + sizeof "pod-3" + sizeof "severity" +
                  sizeof "critical" + sizeof "cluster" + sizeof "c1" + sizeof "summary" +
                  sizeof "pod-3" + sizeof "http://prom/graph";
    is_uint(a3->size, want, "size is the logical size");
    is_uint(a1->size, a3->size, "whatever is shared (%u == %u)", a1->size, a3->size);

    nd_queue_hold(q, a1);
    nd_queue_hold(q, a2);
    nd_queue_hold(q, a3);
    is_uint(nd_queue_bytes(q), (uint64_t)a1->size + a2->size + a3->size, "queue counts sizes");
    nd_alert_unref(a1);
    nd_alert_unref(a2);
    ok(nd_intern_count() > 0, "strings of the live alert remain");
    is_str(nd_alert_label(a3, "severity"), "critical", "and stay readable");
    nd_alert_unref(a3);
    is_uint(nd_queue_bytes(q), 0, "queue bytes back to 0");
    is_uint(nd_intern_count(), 0, "last alert gone: no entry left");
    is_uint(nd_intern_capacity(), 0, "table freed");

    /* strings of an alert that never finishes are released by reset/deinit */
    nd_alert_builder_add_label(&b, "alertname", 9, "x", 1);
    nd_alert_builder_add_annotation(&b, "a", 1, "b", 1);
    nd_alert_builder_set_generator_url(&b, "u", 1);
    ok(nd_intern_count() > 0, "builder holds references");
    nd_alert_builder_reset(&b);
    is_uint(nd_intern_count(), 0, "reset releases them");
    /* duplicates and empty values dropped at finish release theirs too */
    nd_alert_builder_add_label(&b, "alertname", 9, "first", 5);
    nd_alert_builder_add_label(&b, "alertname", 9, "second", 6);
    nd_alert_builder_add_label(&b, "empty", 5, "", 0);
    char err[ND_ERRLEN];
    struct nd_alert *d = nd_alert_builder_finish(&b, NULL, 0, err);
    is_str(nd_alert_label(d, "alertname"), "second", "last duplicate wins");
    is_uint(d->nlabels, 1, "empty label dropped");
    nd_alert_unref(d);
    is_uint(nd_intern_count(), 0, "nothing left after dropped pairs");
    nd_alert_builder_add_label(&b, "only", 4, "", 0);
    ok(nd_alert_builder_finish(&b, NULL, 0, err) == NULL, "no label left: no alert");
    is_uint(nd_intern_count(), 0, "and nothing held");
    nd_alert_builder_deinit(&b);
    nd_queue_free(q);
}

/* Fingerprints, IDs and sizes computed by the one-block builder before interning
 * (git 2b8fed5), for the same inputs: they must not change. */
static void test_ids_unchanged(void)
{
    static const char *const sets[][12] = {
        {"alertname", "HighCPU", "instance", "node1:9100", "severity", "critical", NULL},
        {"zeta", "1", "alertname", "A", "Beta", "2", "_x", "3", "alertname", "B", NULL},
        {"a", "", "b", "x\xc3\xa9y", "job", "api", NULL},
    };
    static const char *const fps[] = {"9cb550312d649b38", "50884f92a697f7d1", "69afde46be9b3a3f"};
    static const uint32_t sizes[] = {289, 280, 259};
    static const uint64_t ids[] = {UINT64_C(2227548656852410963), UINT64_C(8306019165610792434),
                                   UINT64_C(17650533509460506765)};
    struct nd_alert_builder b;
    char err[ND_ERRLEN], hex[17];
    nd_alert_builder_init(&b, 1 << 16);
    /* twice: the second round goes through shared (interned) values */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 3; i++) {
            for (int j = 0; sets[i][j]; j += 2)
                nd_alert_builder_add_label(&b, sets[i][j], strlen(sets[i][j]), sets[i][j + 1],
                                           strlen(sets[i][j + 1]));
            nd_alert_builder_add_annotation(&b, "summary", 7, "CPU > 90%", 9);
            nd_alert_builder_add_annotation(&b, "description", 11, "d1", 2);
            nd_alert_builder_add_annotation(&b, "empty", 5, "", 0);
            struct nd_time s = {1700000000, 123456789, 3600}, e = nd_time_zero();
            nd_alert_builder_set_times(&b, &s, &e);
            if (i == 1)
                nd_alert_builder_set_status(&b, ND_ALERT_RESOLVED);
            struct nd_alert *a = nd_alert_builder_finish(&b, i == 2 ? "c1" : NULL, 0, err);
            nd_fingerprint_format(a->fingerprint, hex);
            is_str(hex, fps[i], "round %d set %d: fingerprint unchanged", round, i);
            is_uint(a->id, ids[i], "round %d set %d: id unchanged", round, i);
            is_uint(a->size, sizes[i], "round %d set %d: accounted size unchanged", round, i);
            is_uint(a->fingerprint, nd_fingerprint(a->labels, a->nlabels),
                    "round %d set %d: nd_fingerprint agrees", round, i);
            nd_alert_unref(a);
        }
    }
    nd_alert_builder_deinit(&b);
    is_uint(nd_intern_count(), 0, "no entry left");
}

/* More labels than the insertion sort handles: the qsort path must keep
 * the last duplicate and give the same order. */
static void test_many_labels(void)
{
    struct nd_alert_builder b;
    char err[ND_ERRLEN], n[16], v[16];
    nd_alert_builder_init(&b, 1 << 20);
    for (int i = 99; i >= 0; i--) {
        snprintf(n, sizeof n, "l%03d", i % 50);
        snprintf(v, sizeof v, "v%d", i);
        nd_alert_builder_add_label(&b, n, strlen(n), v, strlen(v));
    }
    struct nd_alert *a = nd_alert_builder_finish(&b, NULL, 0, err);
    is_uint(a->nlabels, 50, "50 distinct names");
    int sorted = 1;
    for (size_t i = 1; i < a->nlabels; i++)
        if (strcmp(a->labels[i - 1].name, a->labels[i].name) >= 0)
            sorted = 0;
    ok(sorted, "sorted and unique");
    is_str(nd_alert_label(a, "l007"), "v7", "the later of two values wins");
    nd_alert_unref(a);
    nd_alert_builder_deinit(&b);
    is_uint(nd_intern_count(), 0, "no entry left");
}

int main(void)
{
    test_refcounts();
    test_grow_shrink();
    test_alerts_share();
    test_ids_unchanged();
    test_many_labels();
    return done_testing();
}
