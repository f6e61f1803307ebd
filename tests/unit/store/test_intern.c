/* test_intern.c - the string table and how alerts share it: references come
 * back to zero, handles are reused, the table shrinks and frees itself,
 * alerts built through it keep their fingerprints, and their references are
 * inline or interned as designed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/intern.h"
#include "notifyd/queue.h"
#include "notifyd/util.h"
#include "tap.h"

static uint32_t in(const char *s)
{
    return nd_intern(s, strlen(s), nd_intern_hash(s, strlen(s)));
}

static uint32_t find(const char *s)
{
    return nd_intern_find(s, strlen(s), nd_intern_hash(s, strlen(s)));
}

static void test_refcounts(void)
{
    uint32_t a = in("severity");
    uint32_t b = in("severity");
    ok(a == b, "same string, same handle");
    ok(a != ND_INTERN_EMPTY && a <= ND_INTERN_MAX_HANDLE, "a real handle, below the tag bit");
    is_int(nd_intern_refs(a), 2, "two references");
    is_uint(nd_intern_count(), 1, "one entry");
    ok(nd_intern_capacity() > 0, "table allocated");
    is_str(nd_intern_str(a), "severity", "NUL-terminated copy");
    is_uint(nd_intern_len(a), 8, "length kept");
    ok(find("nope") == ND_INTERN_NONE, "find of an absent string is ND_INTERN_NONE");
    is_uint(nd_intern_count(), 1, "and inserts nothing");
    uint32_t f = nd_intern_fast("severity", 8);
    ok(f == a, "the fast cache knows a string just interned");
    is_int(nd_intern_refs(a), 3, "fast hit takes a reference");
    nd_intern_unref(f);
    nd_intern_unref(b);
    is_int(nd_intern_refs(a), 1, "back to one");
    nd_intern_unref(a);
    is_uint(nd_intern_count(), 0, "last reference frees the entry");
    is_uint(nd_intern_capacity(), 0, "empty table frees its slots");
    is_uint(nd_intern_bytes(), 0, "no bytes held");
    ok(nd_intern_fast("severity", 8) == ND_INTERN_NONE, "a freed entry leaves the fast cache");

    uint32_t e = nd_intern("", 0, 0);
    ok(e == ND_INTERN_EMPTY, "empty string: the empty handle");
    is_str(nd_intern_str(e), "", "which reads as \"\" with an empty table");
    is_int(nd_intern_refs(e), 0, "the empty string is not counted");
    is_uint(nd_intern_len(e), 0, "and has length 0");
    is_uint(nd_intern_count(), 0, "and not in the table");
    nd_intern_unref(e);
    ok(nd_intern_find("", 0, 0) == e, "always the same static copy");
    ok(nd_intern_fast("", 0) == e, "also from the fast path");
}

/* A handle names one string while it lives; after its last unref the next
 * new string gets it (a stack of free handles), so the handle array stays
 * as large as the most strings live at once. */
static void test_handle_reuse(void)
{
    uint32_t keep = in("keep");
    uint32_t x = in("x-value");
    uint32_t y0 = in("y-value");
    ok(keep != x && x != y0 && keep != y0, "distinct strings, distinct handles");
    nd_intern_unref(x);
    is_str(nd_intern_str(keep), "keep", "other handles unaffected by a free");
    uint32_t z = in("z-value");
    ok(z == x, "the freed handle is reused (%u == %u)", z, x);
    is_str(nd_intern_str(z), "z-value", "and now names the new string");
    ok(find("x-value") == ND_INTERN_NONE, "the old string is gone");
    uint32_t z2 = find("z-value");
    ok(z2 == z, "the table finds the new string under the reused handle");
    nd_intern_unref(z2);
    /* Two frees, two reuses, most recent first. */
    nd_intern_unref(y0);
    nd_intern_unref(z);
    uint32_t p = in("p"), q = in("q");
    ok(p == z && q == y0, "freed handles come back last-freed first");
    size_t bytes = nd_intern_bytes();
    ok(bytes > 0, "table and handle array counted (%zu bytes)", bytes);
    nd_intern_unref(p);
    nd_intern_unref(q);
    nd_intern_unref(keep);
    is_uint(nd_intern_count(), 0, "all gone");
    is_uint(nd_intern_bytes(), 0, "handle array freed with the table");
    is_str(nd_intern_str(ND_INTERN_EMPTY), "", "the empty handle still reads");
    uint32_t again = in("again");
    ok(again == 1, "numbering restarts after the table emptied (%u)", again);
    nd_intern_unref(again);
}

/* Thousands of entries, removed in a scattered order: every survivor must
 * still be found (backward-shift deletion keeps probe runs whole), and the
 * table must shrink as it empties. */
static void test_grow_shrink(void)
{
    enum { N = 20000 };
    static uint32_t p[N];
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
        p[i] = ND_INTERN_NONE;
    }
    for (int i = 0; i < N; i++) {
        if (p[i] == ND_INTERN_NONE)
            continue;
        snprintf(s, sizeof s, "value-%d", i);
        uint32_t q = find(s);
        if (q != p[i] || strcmp(nd_intern_str(q), s) != 0)
            lost++;
        else
            nd_intern_unref(q);
    }
    is_int(lost, 0, "every survivor found after scattered removals");
    is_uint(nd_intern_count(), N / 10, "a tenth left");
    ok(nd_intern_capacity() <= peak / 4, "table shrank (%zu -> %zu slots)", peak,
       nd_intern_capacity());
    for (int i = 0; i < N; i++)
        if (p[i] != ND_INTERN_NONE)
            nd_intern_unref(p[i]);
    is_uint(nd_intern_count(), 0, "all gone");
    is_uint(nd_intern_capacity(), 0, "table freed");
}

/* The raw references of an alert (alert.h's layout): name, value per pair. */
static const uint32_t *refs_of(const struct nd_alert *a)
{
    return (const uint32_t *)(const void *)(a + 1);
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
    ok(nd_alert_label_at(a1, 0).name == nd_alert_label_at(a2, 0).name, "label names are shared");
    /* labels sorted: alertname, cluster, pod, severity; then the summary */
    const uint32_t *r1 = refs_of(a1), *r2 = refs_of(a2), *r3 = refs_of(a3);
    ok(r1[0] == r2[0] && !(r1[0] & ND_ALERT_REF_INLINE), "by one interned handle");
    ok(nd_intern_refs(r1[0]) >= 3, "counted per alert");
    const char *s2 = nd_alert_label(a2, "severity"), *s3 = nd_alert_label(a3, "severity");
    ok(s2 == s3, "a value seen again is shared");
    ok(r2[7] == r3[7] && !(r3[7] & ND_ALERT_REF_INLINE), "an interned reference");
    is_str(nd_intern_str(r3[7]), "critical", "whose handle reads the value");
    ok(nd_intern_refs(r3[7]) >= 2, "with a reference per alert");
    const char *p3 = nd_alert_label(a3, "pod");
    is_str(p3, "pod-3", "a unique value");
    ok(r3[5] & ND_ALERT_REF_INLINE, "an inline reference");
    ok(p3 == (const char *)a3 + (r3[5] & ~ND_ALERT_REF_INLINE), "the offset of its string");
    ok(p3 > (const char *)a3 && p3 < (const char *)a3 + 4096, "in its own alert block");
    ok(r1[0] != r1[4], "names of different labels, different handles");
    is_str(nd_alert_label(a3, "cluster"), "c1", "cluster label added");
    is_str(nd_alert_generator_url(a3), "http://prom/graph", "generatorURL");
    ok(!(a3->url_ref & ND_ALERT_REF_INLINE) && a3->url_ref == a2->url_ref,
       "a repeated generatorURL is interned");
    ok(a1->url_ref & ND_ALERT_REF_INLINE, "the first one stays inline");
    ok(a1->size >= sizeof *a1, "size covers at least the struct");
    /* logical size: struct, 4 labels + 1 annotation, every string with its NUL */
    size_t want = sizeof *a3 + 5 * 2 * sizeof(uint32_t) + sizeof "alertname" +
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

/* Fingerprints are Alertmanager's and must never change; they are those of
 * the one-block builder before interning (git 2b8fed5). IDs and sizes are
 * pinned for the compact layout: the ID changed once, from FNV-1a over the
 * fingerprint and annotations (2227548656852410963, 8306019165610792434,
 * 17650533509460506765) to the word-at-a-time hash, and must not change
 * again (notifiers may have stored them); sizes were 289/280/259 with 96-byte
 * structs and 16-byte pairs. */
static void test_ids_unchanged(void)
{
    static const char *const sets[][12] = {
        {"alertname", "HighCPU", "instance", "node1:9100", "severity", "critical", NULL},
        {"zeta", "1", "alertname", "A", "Beta", "2", "_x", "3", "alertname", "B", NULL},
        {"a", "", "b", "x\xc3\xa9y", "job", "api", NULL},
    };
    static const char *const fps[] = {"9cb550312d649b38", "50884f92a697f7d1", "69afde46be9b3a3f"};
    static const uint32_t sizes[] = {201, 184, 171};
    static const uint64_t ids[] = {UINT64_C(5262830940307116391), UINT64_C(16894488639372330103),
                                   UINT64_C(13971589264088027456)};
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
            nd_fingerprint_format(nd_alert_fingerprint(a), hex);
            is_str(hex, fps[i], "round %d set %d: fingerprint unchanged", round, i);
            is_uint(nd_alert_id(a), ids[i], "round %d set %d: id unchanged", round, i);
            is_uint(a->size, sizes[i], "round %d set %d: accounted size unchanged", round, i);
            struct nd_kv kv[8];
            for (size_t k = 0; k < a->nlabels; k++)
                kv[k] = nd_alert_label_at(a, k);
            is_uint(nd_alert_fingerprint(a), nd_fingerprint(kv, a->nlabels),
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
        if (strcmp(nd_alert_label_at(a, i - 1).name, nd_alert_label_at(a, i).name) >= 0)
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
    test_handle_reuse();
    test_grow_shrink();
    test_alerts_share();
    test_ids_unchanged();
    test_many_labels();
    return done_testing();
}
