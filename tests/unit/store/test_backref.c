/* test_backref.c - annotation values stored with back-references to the
 * alert's label values (alert_codec.c): whatever the bytes, a value reads
 * back exactly; it is encoded only when that saves bytes; an encoded value
 * that repeats across alerts (one rule's template) is shared, and still
 * reads each alert's own labels; the ID and the accounted size do not depend
 * on any of it; and what it saves on the bench alert. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/intern.h"
#include "notifyd/util.h"
#include "tap.h"

static const uint32_t *refs_of(const struct nd_alert *a)
{
    return (const uint32_t *)(const void *)(a + 1);
}

/* Encoded, in the block. */
static int coded(const struct nd_alert *a, size_t i)
{
    uint32_t r = refs_of(a)[2 * ((size_t)a->nlabels + i) + 1];
    return (r & (ND_ALERT_REF_INLINE | ND_ALERT_REF_CODED)) ==
           (ND_ALERT_REF_INLINE | ND_ALERT_REF_CODED);
}

/* Encoded, shared through the string table. */
static int shared(const struct nd_alert *a, size_t i)
{
    uint32_t r = refs_of(a)[2 * ((size_t)a->nlabels + i) + 1];
    return (r & (ND_ALERT_REF_INLINE | ND_ALERT_REF_CODED)) == ND_ALERT_REF_CODED;
}

static void lab(struct nd_alert_builder *b, const char *n, const char *v)
{
    nd_alert_builder_add_label(b, n, strlen(n), v, strlen(v));
}

static void ann(struct nd_alert_builder *b, const char *n, const char *v)
{
    nd_alert_builder_add_annotation(b, n, strlen(n), v, strlen(v));
}

static struct nd_alert *finish(struct nd_alert_builder *b, const char *cluster)
{
    char err[ND_ERRLEN];
    struct nd_alert *a = nd_alert_builder_finish(b, cluster, 0, err);
    if (!a) {
        printf("# finish: %s\n", err);
        abort();
    }
    return a;
}

/* What the block would be with every inline value stored plainly: the
 * struct, the references and each inline string with its NUL. */
static size_t plain_block(const struct nd_alert *a)
{
    struct nd_buf s;
    nd_buf_init(&s, SIZE_MAX / 2);
    const uint32_t *r = refs_of(a);
    size_t n = sizeof *a + 2 * ((size_t)a->nlabels + a->nannotations) * sizeof(uint32_t);
    for (size_t i = 0; i < a->nlabels; i++)
        if (r[2 * i + 1] & ND_ALERT_REF_INLINE)
            n += strlen(nd_alert_label_at(a, i).value) + 1;
    for (size_t i = 0; i < a->nannotations; i++)
        if (r[2 * (a->nlabels + i) + 1] & ND_ALERT_REF_INLINE)
            n += strlen(nd_alert_annotation_value(a, i, &s)) + 1;
    if (a->url_ref & ND_ALERT_REF_INLINE)
        n += strlen(nd_alert_generator_url(a)) + 1;
    nd_buf_deinit(&s);
    return n;
}

/* ---- fixed cases ---- */

static void test_cases(void)
{
    struct nd_alert_builder b;
    struct nd_buf s;
    nd_alert_builder_init(&b, 1 << 20);
    nd_buf_init(&s, SIZE_MAX / 2);

    /* a value that is a label value, and one that is two of them */
    lab(&b, "pod", "api-7d9f-x1");
    lab(&b, "ns", "team-01");
    ann(&b, "same", "api-7d9f-x1");
    ann(&b, "two", "team-01/api-7d9f-x1");
    ann(&b, "none", "nothing in common");
    struct nd_alert *a = finish(&b, NULL);
    is_str(nd_alert_annotation(a, "same", &s), "api-7d9f-x1", "a value equal to a label value");
    /* seen twice in one alert, it is interned (alert.c's filter) before
     * finish() could encode it: either way it takes no inline string */
    ok(!(refs_of(a)[2 * (a->nlabels + nd_alert_annotation_find(a, "same")) + 1] &
         ND_ALERT_REF_INLINE),
       "is shared, not stored again");
    is_str(nd_alert_annotation(a, "two", &s), "team-01/api-7d9f-x1", "two labels and a slash");
    ok(coded(a, nd_alert_annotation_find(a, "two")), "is stored encoded");
    is_str(nd_alert_annotation(a, "none", &s), "nothing in common", "a value without labels");
    ok(!coded(a, nd_alert_annotation_find(a, "none")), "is stored plainly");
    /* "two": 20 bytes -> label, "/", label, end = 7 */
    is_uint(plain_block(a) - nd_alert_block_size(a), 20 - 7, "bytes saved: %zu",
            plain_block(a) - nd_alert_block_size(a));
    nd_alert_unref(a);

    /* labels shorter than the threshold are never referenced */
    lab(&b, "c", "abc");
    ann(&b, "x", "abcabcabcabc");
    a = finish(&b, NULL);
    is_str(nd_alert_annotation(a, "x", &s), "abcabcabcabc", "short label value");
    ok(!coded(a, 0), "is not referenced");
    nd_alert_unref(a);

    /* encoded only when it saves a byte: a 4-byte label in a 5-byte value
     * saves 1 (6 bytes plainly, 5 encoded); none in a 4-byte tail */
    lab(&b, "k", "wxyz");
    ann(&b, "a", "wxyz!");
    ann(&b, "c", "!wxyz");
    ann(&b, "d", "wxyz----wxyz----wxyz");
    a = finish(&b, NULL);
    is_str(nd_alert_annotation(a, "a", &s), "wxyz!", "4-byte label at the start");
    ok(coded(a, 0), "encoded: a saving of one byte");
    is_str(nd_alert_annotation(a, "c", &s), "!wxyz", "4-byte label off the stride");
    ok(!coded(a, 1), "a label shorter than 7 bytes off the stride is not found");
    is_str(nd_alert_annotation(a, "d", &s), "wxyz----wxyz----wxyz", "on the stride, 3 times");
    ok(coded(a, 2), "encoded");
    is_uint(plain_block(a) - nd_alert_block_size(a), 1 + (21 - 16), "bytes saved");
    nd_alert_unref(a);

    /* a label value many times over, and marker bytes around it */
    char big[4096], want[4096];
    size_t n = 0;
    for (int i = 0; i < 200; i++) {
        memcpy(big + n, i % 3 ? "\x80\xff\x01" : "/", i % 3 ? 3 : 1);
        n += i % 3 ? 3 : 1;
        memcpy(big + n, "rep\xc3\xa9tition", 11);
        n += 11;
    }
    big[n] = '\0';
    memcpy(want, big, n + 1);
    lab(&b, "r", "rep\xc3\xa9tition");
    lab(&b, "m", "\x80\xff\x01\x80");
    ann(&b, "big", big);
    a = finish(&b, NULL);
    is_str(nd_alert_annotation(a, "big", &s), want, "a label 200 times, marker bytes around");
    ok(coded(a, 0), "encoded");
    ok(nd_alert_block_size(a) < plain_block(a) - 1500, "saves most of it (%zu of %zu)",
       nd_alert_block_size(a), plain_block(a));
    is_uint(a->size, sizeof *a + 3 * 8 + 2 + 12 + 2 + 5 + 4 + n + 1 + 1,
            "a->size counts the value expanded");
    nd_alert_unref(a);

    /* overlapping candidates: the leftmost, then the longest, and the rest
     * after it; whatever is chosen, the value reads back */
    lab(&b, "a", "abcdefgh");
    lab(&b, "b", "cdefghijkl");
    lab(&b, "c", "abcdefghijkl");
    ann(&b, "v", "xxabcdefghijklmnabcdefghcdefghijkl");
    a = finish(&b, NULL);
    is_str(nd_alert_annotation(a, "v", &s), "xxabcdefghijklmnabcdefghcdefghijkl",
           "overlapping label values");
    ok(coded(a, 0), "encoded");
    nd_alert_unref(a);

    /* the cluster label finish() adds is a label like the others, and the
     * labels after it shift: references name the final index */
    lab(&b, "alertname", "ClusterWide");
    lab(&b, "zone", "zone-eu-west-1");
    ann(&b, "s", "ClusterWide in prod-cluster-7 zone-eu-west-1");
    a = finish(&b, "prod-cluster-7");
    is_str(nd_alert_label(a, "cluster"), "prod-cluster-7", "cluster label added");
    is_str(nd_alert_annotation(a, "s", &s), "ClusterWide in prod-cluster-7 zone-eu-west-1",
           "references around the added cluster label");
    nd_alert_unref(a);

    /* an interned (shared) value is not encoded */
    uint32_t h = nd_intern("RepeatedRule fired", 18, nd_intern_hash("RepeatedRule fired", 18));
    for (int i = 0; i < 2; i++) {
        lab(&b, "alertname", "RepeatedRule");
        ann(&b, "summary", "RepeatedRule fired");
        a = finish(&b, NULL);
        is_str(nd_alert_annotation(a, "summary", &s), "RepeatedRule fired", "round %d", i);
        ok(refs_of(a)[3] == h, "round %d: the shared copy, not an encoding", i);
        nd_alert_unref(a);
    }
    nd_intern_unref(h);

    nd_buf_deinit(&s);
    nd_alert_builder_deinit(&b);
    is_uint(nd_intern_count(), 0, "no string left");
}

/* Label indices past 127 and 16383 take longer varints. */
static void test_far_labels(void)
{
    static const size_t counts[] = {200, 20000};
    struct nd_alert_builder b;
    struct nd_buf s;
    char name[32], v[48];
    nd_alert_builder_init(&b, 1 << 22);
    nd_buf_init(&s, SIZE_MAX / 2);
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < counts[k]; i++) {
            snprintf(name, sizeof name, "l%05zu", i);
            lab(&b, name, "x"); /* too short to be a candidate */
        }
        snprintf(v, sizeof v, "far-away-%zu", counts[k]);
        lab(&b, "zz", v);
        char want[64];
        snprintf(want, sizeof want, "[%s]", v);
        ann(&b, "a", want);
        struct nd_alert *a = finish(&b, NULL);
        is_str(nd_alert_annotation(a, "a", &s), want, "label %zu", counts[k]);
        ok(coded(a, 0), "referenced with a %d-byte varint", k ? 3 : 2);
        nd_alert_unref(a);
    }
    nd_buf_deinit(&s);
    nd_alert_builder_deinit(&b);
}

/* Many candidates sharing their first bytes and a long value full of
 * near-misses: bounded work, exact result. */
static void test_near_misses(void)
{
    struct nd_alert_builder b;
    struct nd_buf s;
    char name[16], v[64];
    nd_alert_builder_init(&b, 1 << 22);
    nd_buf_init(&s, SIZE_MAX / 2);
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "n%02d", i);
        snprintf(v, sizeof v, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%02d", i);
        lab(&b, name, v);
    }
    size_t n = 100000;
    char *big = nd_xmalloc(n + 1);
    memset(big, 'a', n);
    memcpy(big + n - 40, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa07", 40);
    big[n] = '\0';
    nd_alert_builder_add_annotation(&b, "big", 3, big, n);
    struct nd_alert *a = finish(&b, NULL);
    const char *got = nd_alert_annotation(a, "big", &s);
    ok(got && strlen(got) == n && memcmp(got, big, n) == 0, "100 KB of near-misses reads back");
    nd_alert_unref(a);
    free(big);
    nd_buf_deinit(&s);
    nd_alert_builder_deinit(&b);
}

/* ---- the ID, recomputed here from expanded values ---- */

/* alert.c reads encoded values piece by piece for the ID; this is the
 * plain algorithm over each value as a C string (alert.c's ID section), to
 * check that both give the same words. */
static uint64_t ref_le64(const unsigned char *p)
{
    uint64_t w = 0;
    for (int i = 7; i >= 0; i--)
        w = w << 8 | p[i];
    return w;
}

static uint64_t ref_word(uint64_t h, uint64_t w)
{
    h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
    return h ^ (h >> 29);
}

static uint64_t ref_str(uint64_t h, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    h = ref_word(h, n * UINT64_C(0x9e3779b97f4a7c15));
    for (; n >= 8; p += 8, n -= 8)
        h = ref_word(h, ref_le64(p));
    if (n) {
        unsigned char t[8] = {0};
        memcpy(t, p, n);
        h = ref_word(h, ref_le64(t) * UINT64_C(0xc4ceb9fe1a85ec53));
    }
    return h;
}

static uint64_t ref_id(const struct nd_alert *a)
{
    struct nd_buf s;
    nd_buf_init(&s, SIZE_MAX / 2);
    uint64_t h = ref_word(UINT64_C(0x9e3779b97f4a7c15), (uint64_t)a->nlabels |
                                                            (uint64_t)a->nannotations << 16 |
                                                            (uint64_t)a->status << 32);
    for (size_t i = 0; i < a->nlabels; i++) {
        h = ref_str(h, nd_alert_label_at(a, i).name);
        h = ref_str(h, nd_alert_label_at(a, i).value);
    }
    for (size_t i = 0; i < a->nannotations; i++) {
        h = ref_str(h, nd_alert_annotation_name(a, i));
        h = ref_str(h, nd_alert_annotation_value(a, i, &s));
    }
    nd_buf_deinit(&s);
    struct nd_time st = nd_alert_starts_at(a), e = nd_alert_ends_at(a);
    h = ref_word(h, (uint64_t)st.sec);
    h = ref_word(h, (uint64_t)st.nsec);
    h = ref_word(h, (uint64_t)e.sec);
    h = ref_word(h, (uint64_t)e.nsec);
    for (int i = 0; i < 2; i++) {
        h ^= h >> 32;
        h *= UINT64_C(0xd6e8feb86659fd93);
    }
    return h ^ (h >> 32);
}

/* ---- random round trips ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32) % n;
}

/* Bytes that make overlaps likely, and the ones an encoder might want as
 * markers. */
static const unsigned char alphabet[] = {'a',  'b',  'c',  '/',  ' ',  0x01, 0x02,
                                         0x7f, 0x80, 0x81, 0xc3, 0xfe, 0xff};

static size_t rnd_bytes(char *out, size_t max)
{
    size_t n = 1 + rnd((uint32_t)max);
    for (size_t i = 0; i < n; i++)
        out[i] = (char)alphabet[rnd(sizeof alphabet)];
    return n;
}

static void test_random(void)
{
    struct nd_alert_builder b;
    struct nd_buf s;
    char vals[160][48], name[16], value[4096];
    size_t vlen[160];
    int bad = 0, encoded = 0, total = 0;
    nd_alert_builder_init(&b, 1 << 20);
    nd_buf_init(&s, SIZE_MAX / 2);
    for (int iter = 0; iter < 3000 && !bad; iter++) {
        size_t nl = 1 + rnd(iter % 10 == 0 ? 160 : 12);
        for (size_t i = 0; i < nl; i++) {
            uint32_t kind = rnd(6);
            if (kind == 0 && i > 0) { /* a copy of an earlier value */
                size_t j = rnd((uint32_t)i);
                memcpy(vals[i], vals[j], vlen[j] + 1);
                vlen[i] = vlen[j];
            } else if (kind == 1 && i > 0) { /* a prefix of an earlier value */
                size_t j = rnd((uint32_t)i);
                vlen[i] = 1 + rnd((uint32_t)vlen[j]);
                memcpy(vals[i], vals[j], vlen[i]);
                vals[i][vlen[i]] = '\0';
            } else {
                vlen[i] = rnd_bytes(vals[i], kind == 2 ? 4 : 40);
                vals[i][vlen[i]] = '\0';
            }
            snprintf(name, sizeof name, "l%03zu", i);
            lab(&b, name, vals[i]);
        }
        size_t na = 1 + rnd(4);
        char want[4][4096];
        size_t wlen[4];
        for (size_t k = 0; k < na; k++) {
            size_t n = 0, pieces = rnd(10);
            if (rnd(8) == 0) { /* exactly a label value */
                size_t j = rnd((uint32_t)nl);
                memcpy(value, vals[j], vlen[j]);
                n = vlen[j];
            }
            for (size_t p = 0; p < pieces; p++) {
                size_t j = rnd((uint32_t)nl);
                switch (rnd(4)) {
                case 0:
                case 1: /* a whole label value, sometimes many times */
                    for (uint32_t t = rnd(5) == 0 ? 1 + rnd(30) : 1; t > 0; t--) {
                        memcpy(value + n, vals[j], vlen[j]);
                        n += vlen[j];
                    }
                    break;
                case 2: { /* part of one */
                    size_t from = rnd((uint32_t)vlen[j]);
                    size_t len = 1 + rnd((uint32_t)(vlen[j] - from));
                    memcpy(value + n, vals[j] + from, len);
                    n += len;
                    break;
                }
                default:
                    n += rnd_bytes(value + n, 16);
                }
            }
            if (n == 0)
                n = rnd_bytes(value, 8);
            value[n] = '\0';
            memcpy(want[k], value, n + 1);
            wlen[k] = n;
            snprintf(name, sizeof name, "a%zu", k);
            nd_alert_builder_add_annotation(&b, name, strlen(name), value, n);
        }
        struct nd_alert *a = finish(&b, rnd(2) ? "cl-\x80\xff-cluster" : NULL);
        for (size_t k = 0; k < na; k++) {
            snprintf(name, sizeof name, "a%zu", k);
            const char *got = nd_alert_annotation(a, name, &s);
            if (!got || strlen(got) != wlen[k] || memcmp(got, want[k], wlen[k]) != 0) {
                printf("# iteration %d, annotation %zu differs\n", iter, k);
                bad = 1;
            }
            size_t i = nd_alert_annotation_find(a, name);
            encoded += coded(a, i);
            total++;
        }
        if (nd_alert_id(a) != ref_id(a)) {
            printf("# iteration %d: id differs from the plain algorithm's\n", iter);
            bad = 1;
        }
        if (nd_alert_block_size(a) > plain_block(a)) {
            printf("# iteration %d: block %zu > plain %zu\n", iter, nd_alert_block_size(a),
                   plain_block(a));
            bad = 1;
        }
        nd_alert_unref(a);
    }
    ok(!bad, "3000 random alerts: every annotation reads back exactly, the ID is that of the "
             "expanded values, never a larger block");
    ok(encoded > total / 4, "%d of %d values were encoded", encoded, total);
    nd_buf_deinit(&s);
    nd_alert_builder_deinit(&b);
    is_uint(nd_intern_count(), 0, "no string left");
}

/* ---- the bench alert (bench/alerts.lua, tests/unit/ingest/bench_ingest.c) ---- */

static struct nd_alert *bench_alert(struct nd_alert_builder *b, unsigned n)
{
    char pod[80], inst[80], sum[200], desc[400];
    snprintf(pod, sizeof pod, "api-gateway-bench-%08x", n);
    snprintf(inst, sizeof inst, "node-%06x.bench:9100", n);
    snprintf(sum, sizeof sum, "KubePodCrashLooping on team-01/%s", pod);
    snprintf(desc, sizeof desc,
             "Pod team-01/%s (container sidecar) has been degraded for more than 15 minutes; "
             "check recent deploys and limits. Runbook: "
             "https://runbooks.example.com/KubePodCrashLooping",
             pod);
    lab(b, "alertname", "KubePodCrashLooping");
    lab(b, "severity", "warning");
    lab(b, "namespace", "team-01");
    lab(b, "pod", pod);
    lab(b, "instance", inst);
    lab(b, "job", "kube-state-metrics");
    lab(b, "container", "sidecar");
    lab(b, "cluster", "bench-cluster-1");
    ann(b, "summary", sum);
    ann(b, "description", desc);
    const char *url = "http://prometheus-k8s-0.monitoring.svc:9090/graph?g0.expr=rate%28kube_pod_"
                      "container_status_restarts_total%5B15m%5D%29+%3E+0&g0.tab=1";
    nd_alert_builder_set_generator_url(b, url, strlen(url));
    return finish(b, "default");
}

static void test_bench_alert(void)
{
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, 1 << 20);
    /* The values all bench alerts share are interned from their second
     * sighting on, unless alert.c's filter forgot one (its slots are seeded
     * per process): interned here, so that the figures below hold. */
    static const char *const common[] = {
        "KubePodCrashLooping",
        "warning",
        "team-01",
        "kube-state-metrics",
        "sidecar",
        "bench-cluster-1",
        "http://prometheus-k8s-0.monitoring.svc:9090/graph?g0.expr=rate%28kube_pod_"
        "container_status_restarts_total%5B15m%5D%29+%3E+0&g0.tab=1"};
    uint32_t held[7];
    for (size_t i = 0; i < 7; i++)
        held[i] =
            nd_intern(common[i], strlen(common[i]), nd_intern_hash(common[i], strlen(common[i])));
    /* The first alert of the rule: its encoded values are seen for the first
     * time and stay in its block. */
    struct nd_alert *a1 = bench_alert(&b, 3);
    /* inline: pod 27, instance 23, summary 58, description 194 bytes with NULs */
    is_uint(plain_block(a1), 56 + 20 * 4 + 27 + 23 + 58 + 194, "plain block: 438 bytes");
    /* summary: label " on " label "/" label, end = 13 bytes; description:
     * 134 literal bytes, 4 references and the end = 144 bytes */
    is_uint(nd_alert_block_size(a1), 56 + 20 * 4 + 27 + 23 + 13 + 144,
            "first of its rule: encoded block 343 bytes, 95 saved");
    ok(coded(a1, 0) && coded(a1, 1), "both annotations encoded in the block");
    /* The next ones encode to the same bytes (the references name label
     * positions): shared from the second sighting on. The filter is
     * direct-mapped and seeded per process, so this alert's own pod or
     * instance may have taken the slot: then the one after shares. */
    struct nd_alert *a2 = bench_alert(&b, 4);
    if (!shared(a2, 0) || !shared(a2, 1)) {
        printf("# filter slot clash, one more alert\n");
        nd_alert_unref(a2);
        a2 = bench_alert(&b, 5);
    }
    ok(shared(a2, 0) && shared(a2, 1), "both encoded annotations shared");
    is_uint(nd_alert_block_size(a2), 56 + 20 * 4 + 27 + 23,
            "shared: block 186 bytes, 157 less than the first");
    /* each reads its own labels through the shared bytes */
    struct nd_buf s1, s2;
    nd_buf_init(&s1, SIZE_MAX / 2);
    nd_buf_init(&s2, SIZE_MAX / 2);
    char want[200];
    snprintf(want, sizeof want, "KubePodCrashLooping on team-01/%s", nd_alert_label(a2, "pod"));
    is_str(nd_alert_annotation(a2, "summary", &s2), want, "shared summary reads its own pod");
    is_str(nd_alert_annotation(a1, "summary", &s1),
           "KubePodCrashLooping on team-01/api-gateway-bench-00000003",
           "the first alert's summary is unchanged");
    /* equal bytes, different values: not equal (the aggregator relies on it) */
    ok(!nd_alert_annotation_value_eq(a1, 0, a2, 0), "different pods: descriptions differ");
    /* the same shared bytes in two alerts are not the same value */
    struct nd_alert *a4 = bench_alert(&b, 7);
    ok(shared(a4, 0) && shared(a4, 1) && !nd_alert_annotation_value_eq(a2, 0, a4, 0) &&
           !nd_alert_annotation_value_eq(a4, 1, a2, 1),
       "two alerts sharing the encoded bytes: values differ by their labels");
    nd_alert_unref(a4);
    /* a1 again: its values, seen twice now, are interned as they read */
    struct nd_alert *a3 = bench_alert(&b, 3);
    ok(!shared(a3, 0) && !coded(a3, 0) && nd_alert_annotation_value_eq(a1, 0, a3, 0) &&
           nd_alert_annotation_value_eq(a3, 0, a1, 0) && nd_alert_annotation_value_eq(a2, 0, a2, 0),
       "equal values are equal however they are stored");
    is_uint(nd_alert_id(a3), nd_alert_id(a1), "and the ID does not depend on how it is stored");
    /* what the queue accounts does not change */
    is_uint(a2->size, a1->size, "a->size is the alert's own (%u)", a2->size);
    size_t live = nd_intern_count();
    nd_alert_unref(a1);
    nd_alert_unref(a2);
    nd_alert_unref(a3);
    ok(nd_intern_count() < live, "the shared bytes go with their last alert");
    for (size_t i = 0; i < 7; i++)
        nd_intern_unref(held[i]);
    nd_buf_deinit(&s1);
    nd_buf_deinit(&s2);
    nd_alert_builder_deinit(&b);
}

/* The ID hashes the values as readers see them: pinned against the builder
 * before back-references (computed with it). */
static void test_id_unchanged(void)
{
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, 1 << 20);
    for (int round = 0; round < 2; round++) {
        lab(&b, "alertname", "KubePodCrashLooping");
        lab(&b, "namespace", "team-01");
        lab(&b, "pod", "api-gateway-bench-00000002");
        lab(&b, "container", "sidecar");
        lab(&b, "severity", "warning");
        ann(&b, "summary", "KubePodCrashLooping on team-01/api-gateway-bench-00000002");
        ann(&b, "description",
            "Pod team-01/api-gateway-bench-00000002 (container sidecar) has been degraded for "
            "more than 15 minutes; check recent deploys and limits. Runbook: "
            "https://runbooks.example.com/KubePodCrashLooping");
        ann(&b, "cl", "c1c1c1 \x80\xff\x01 c1");
        struct nd_time st = {1700000000, 123456789, 3600}, e = nd_time_zero();
        nd_alert_builder_set_times(&b, &st, &e);
        struct nd_alert *a = finish(&b, "c1");
        /* the second time the values are interned, not encoded */
        ok(round == 1 || (coded(a, 1) && coded(a, 2) && !coded(a, 0)), "round %d: encoded", round);
        is_uint(nd_alert_id(a), UINT64_C(10506852565617280117), "round %d: id unchanged", round);
        is_uint(ref_id(a), UINT64_C(10506852565617280117), "round %d: the test's own ID agrees",
                round);
        is_uint(a->size, 543, "round %d: accounted size unchanged", round);
        nd_alert_unref(a);
    }
    nd_alert_builder_deinit(&b);
}

int main(void)
{
    test_cases();
    test_far_labels();
    test_near_misses();
    test_random();
    test_bench_alert();
    test_id_unchanged();
    return done_testing();
}
