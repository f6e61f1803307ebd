/* alert.c - building, sharing and reading alerts.
 *
 * The builder collects a request's strings in reusable buffers, then
 * finish() lays the alert out in one block:
 *
 *   struct nd_alert | uint32_t refs[2 * (nl + na)] | inline strings
 *
 * so an alert costs one malloc whatever its number of labels. Names, and
 * values that repeat, are handles into the string table (intern.h); the
 * inline strings are the values seen only once, referenced by their offset
 * in the block. a->size stays the logical size of the alert, as if nothing
 * were shared (alert.h, docs/memory.md). Encoded annotation values (the
 * back-references) are in alert_codec.c; the fingerprint and the ID, which
 * are not stored but computed when a payload needs them, in alert_hash.c.
 */
#include "notifyd/alert.h"

#include <assert.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/intern.h"
#include "notifyd/queue.h"
#include "notifyd/util.h"
#include "alert_int.h"

/* The layout docs/memory.md measures; a test prints it too. */
static_assert(sizeof(struct nd_alert) <= 56, "struct nd_alert grew past 56 bytes");
static_assert(alignof(struct nd_alert) >= alignof(uint32_t), "references follow the struct");
/* Inline offsets must fit below the tag bits: finish() bounds the block. */
#define MAX_BLOCK ND_ALERT_REF_OFFSET

/* Values seen once are remembered here by hash (a direct-mapped filter,
 * not a reference): a value is interned when it comes a second time. Unique
 * values (pod names, descriptions) thus stay in their alert's block, where
 * they cost no table slot and no entry header. */
#define SEEN_SLOTS 4096u
static uint32_t seen[SEEN_SLOTS];

/* Whether a string of hash h was seen before (then it is to be interned);
 * remembers it otherwise. */
static int seen_before(uint64_t h)
{
    uint32_t tag = (uint32_t)(h >> 32) | 1u;
    uint32_t *slot = &seen[(h >> 20) & (SEEN_SLOTS - 1)];
    if (*slot == tag)
        return 1;
    *slot = tag;
    return 0;
}

/* The handle of a value that repeats into *out, or ND_INTERN_NONE when it
 * is to stay inline. ND_EINVAL when it holds a NUL byte: the check rides on the
 * hash, and a cache hit proves there is none (the cache holds no string with one,
 * intern.h). */
static int intern_value(const char *s, size_t len, uint32_t *out)
{
    uint32_t p = nd_intern_fast(s, len);
    if (p == ND_INTERN_NONE) {
        int nul;
        uint64_t h = nd_intern_hash_checked(s, len, &nul);
        if (nul)
            return ND_EINVAL;
        p = nd_intern_find(s, len, h);
        if (p == ND_INTERN_NONE && seen_before(h))
            p = nd_intern(s, len, h);
    }
    *out = p;
    return ND_OK;
}

/* An encoded annotation value (alert_codec.c) names the labels it refers to
 * by position, so the alerts of one rule, whose labels have the same names,
 * encode a templated value to the same bytes whatever their label values:
 * the literal text of the template ("has been degraded for more than 15
 * minutes; check ...") and the positions. Such bytes repeat like a value
 * does and are shared the same way, from their second sighting on; a shared
 * one still reads each alert's own label values. The handle, or
 * ND_INTERN_NONE to keep the bytes inline. */
static uint32_t intern_coded(const char *s, size_t len)
{
    uint64_t h = nd_intern_hash(s, len);
    uint32_t p = nd_intern_find_raw(s, len, h);
    if (p == ND_INTERN_NONE && seen_before(h))
        p = nd_intern_raw(s, len, h);
    return p;
}

/* The handle of s, whether it repeats or not (label names). */
static int intern_any(const char *s, size_t len, uint32_t *out)
{
    uint32_t p = nd_intern_fast(s, len);
    if (p == ND_INTERN_NONE) {
        int nul;
        uint64_t h = nd_intern_hash_checked(s, len, &nul);
        if (nul)
            return ND_EINVAL;
        p = nd_intern(s, len, h);
    }
    *out = p;
    return ND_OK;
}

static struct nd_alert_pair *pairs(const struct nd_buf *index, size_t *n)
{
    *n = index->len / sizeof(struct nd_alert_pair);
    return (struct nd_alert_pair *)(void *)index->data;
}

static void pair_release(struct nd_alert_pair *p)
{
    nd_intern_unref(p->nh);
    if (p->vh != ND_INTERN_NONE)
        nd_intern_unref(p->vh);
}

static void release_all(struct nd_buf *index)
{
    size_t n;
    struct nd_alert_pair *p = pairs(index, &n);
    for (size_t i = 0; i < n; i++)
        pair_release(&p[i]);
    nd_buf_reset(index);
}

void nd_alert_builder_init(struct nd_alert_builder *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
    b->url_h = ND_INTERN_NONE;
    /* Values plus one generatorURL per call: the checks below keep it bounded. */
    nd_buf_init(&b->strings, limit > SIZE_MAX / 4 ? SIZE_MAX / 2 : limit * 2 + 2);
    nd_buf_init(&b->lab, SIZE_MAX / 2);
    nd_buf_init(&b->ann, SIZE_MAX / 2);
    nd_buf_init(&b->coded, SIZE_MAX / 2);
    nd_alert_builder_reset(b);
}

void nd_alert_builder_deinit(struct nd_alert_builder *b)
{
    nd_alert_builder_reset(b);
    nd_buf_deinit(&b->strings);
    nd_buf_deinit(&b->lab);
    nd_buf_deinit(&b->ann);
    nd_buf_deinit(&b->coded);
}

void nd_alert_builder_reset(struct nd_alert_builder *b)
{
    release_all(&b->lab);
    release_all(&b->ann);
    nd_buf_reset(&b->strings);
    nd_buf_reset(&b->coded);
    if (b->url_h != ND_INTERN_NONE)
        nd_intern_unref(b->url_h);
    b->url_h = ND_INTERN_NONE;
    b->url_off = b->url_len = 0;
    b->used = 0;
    b->sorted = 0;
    b->starts_at = nd_time_zero();
    b->ends_at = nd_time_zero();
    b->status = -1;
}

/* Appends s and a NUL to the builder's strings; the offset into *off. */
static int keep_inline(struct nd_alert_builder *b, const char *s, size_t len, uint32_t *off)
{
    if (b->strings.len > UINT32_MAX - len - 1)
        return ND_ETOOBIG;
    *off = (uint32_t)b->strings.len;
    int rc = nd_buf_add(&b->strings, s, len);
    if (rc == ND_OK)
        rc = nd_buf_addc(&b->strings, '\0');
    if (rc != ND_OK)
        b->strings.len = *off; /* the NUL did not fit: drop the half-added value */
    return rc;
}

/* The first 8 bytes of a name as a big-endian number, zero-padded: names
 * hold no NUL, so comparing these orders names as memcmp does, and equal
 * ones mean equal first 8 bytes (or, under 8, equal names). */
static uint64_t name_order(const char *s, size_t len)
{
    uint64_t w = 0;
    if (len >= 8) {
        memcpy(&w, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        return w;
    }
    for (size_t i = 0; i < len; i++)
        w |= (uint64_t)(unsigned char)s[i] << (56 - 8 * i);
    return w;
}

static int add_pair(struct nd_alert_builder *b, struct nd_buf *index, const char *name, size_t nlen,
                    const char *value, size_t vlen)
{
    if (index->len / sizeof(struct nd_alert_pair) >= ND_ALERT_MAX_PAIRS)
        return ND_ETOOBIG;
    if (nlen > b->limit || vlen > b->limit || nlen + vlen + 2 > b->limit - b->used)
        return ND_ETOOBIG;
    struct nd_alert_pair p;
    p.nlen = (uint32_t)nlen;
    p.vlen = (uint32_t)vlen;
    p.voff = 0;
    p.clen = 0;
    p.vh = ND_INTERN_NONE;
    int rc = intern_any(name, nlen, &p.nh);
    if (rc != ND_OK)
        return rc;
    p.name = nd_intern_str(p.nh);
    p.order = name_order(name, nlen);
    rc = intern_value(value, vlen, &p.vh);
    if (rc == ND_OK && p.vh == ND_INTERN_NONE)
        rc = keep_inline(b, value, vlen, &p.voff);
    if (rc != ND_OK) {
        nd_intern_unref(p.nh);
        if (p.vh != ND_INTERN_NONE)
            nd_intern_unref(p.vh);
        return rc;
    }
    /* The common case appends in place; nd_buf_add handles growth. */
    if (index->cap - index->len > sizeof p) {
        memcpy(index->data + index->len, &p, sizeof p);
        index->len += sizeof p;
        index->data[index->len] = '\0';
    } else if (nd_buf_add(index, &p, sizeof p) != ND_OK) {
        pair_release(&p);
        return ND_ETOOBIG;
    }
    b->used += nlen + vlen + 2;
    if (index == &b->lab)
        b->sorted = 0;
    return ND_OK;
}

int nd_alert_builder_add_label(struct nd_alert_builder *b, const char *name, size_t nlen,
                               const char *value, size_t vlen)
{
    return add_pair(b, &b->lab, name, nlen, value, vlen);
}

int nd_alert_builder_add_annotation(struct nd_alert_builder *b, const char *name, size_t nlen,
                                    const char *value, size_t vlen)
{
    return add_pair(b, &b->ann, name, nlen, value, vlen);
}

int nd_alert_builder_set_generator_url(struct nd_alert_builder *b, const char *s, size_t len)
{
    if (len > b->limit)
        return ND_ETOOBIG;
    uint32_t p;
    int rc = intern_value(s, len, &p);
    if (rc != ND_OK)
        return rc;
    if (b->url_h != ND_INTERN_NONE)
        nd_intern_unref(b->url_h);
    b->url_h = ND_INTERN_NONE;
    b->url_len = 0;
    if (p != ND_INTERN_NONE) {
        b->url_h = p;
    } else {
        rc = keep_inline(b, s, len, &b->url_off);
        if (rc != ND_OK)
            return rc;
    }
    b->url_len = (uint32_t)len;
    return ND_OK;
}

void nd_alert_builder_set_status(struct nd_alert_builder *b, enum nd_alert_status st)
{
    b->status = (int)st;
}

/* Bytewise, like strcmp and Go's string order. Interned names are equal
 * exactly when their handles are. */
static int name_cmp(const struct nd_alert_pair *a, const struct nd_alert_pair *b)
{
    if (a->nh == b->nh)
        return 0;
    if (a->order != b->order)
        return a->order < b->order ? -1 : 1;
    size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
    int c = memcmp(a->name, b->name, n);
    if (c)
        return c;
    return a->nlen < b->nlen ? -1 : 1;
}

static int pair_qcmp(const void *pa, const void *pb)
{
    const struct nd_alert_pair *a = pa, *b = pb;
    int c = name_cmp(a, b);
    if (c)
        return c;
    return a->voff < b->voff ? -1 : a->voff > b->voff; /* arrival order, see sort_pairs */
}

/* Stable sort by name: equal names keep their order of arrival, so the
 * last one is the one that wins. Insertion sort for the usual handful of
 * labels; qsort (made stable by the arrival index) past that, so that a
 * request with thousands of labels is not quadratic. */
static void sort_pairs(struct nd_alert_pair *p, size_t n)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            struct nd_alert_pair x = p[i];
            size_t j = i;
            while (j > 0 && name_cmp(&p[j - 1], &x) > 0) {
                p[j] = p[j - 1];
                j--;
            }
            p[j] = x;
        }
        return;
    }
    /* voff is only meaningful for inline values: borrow it for the arrival
     * index and put it back after. */
    uint32_t *saved = nd_xmalloc(n * sizeof *saved);
    for (size_t i = 0; i < n; i++) {
        saved[i] = p[i].voff;
        p[i].voff = (uint32_t)i;
    }
    qsort(p, n, sizeof *p, pair_qcmp);
    for (size_t i = 0; i < n; i++)
        p[i].voff = saved[p[i].voff];
    free(saved);
}

/* After sorting: keeps the last of each name, drops empty values when
 * asked, releases what it drops. Returns the new count. */
static size_t dedupe(struct nd_alert_pair *p, size_t n, int drop_empty)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if ((i + 1 < n && p[i].nh == p[i + 1].nh) || (drop_empty && p[i].vlen == 0)) {
            pair_release(&p[i]);
            continue;
        }
        p[w++] = p[i];
    }
    return w;
}

size_t nd_alert_builder_nlabels(struct nd_alert_builder *b)
{
    size_t n;
    struct nd_alert_pair *p = pairs(&b->lab, &n);
    if (!b->sorted) {
        sort_pairs(p, n);
        n = dedupe(p, n, 1);
        b->lab.len = n * sizeof *p;
        b->sorted = 1;
    }
    return n;
}

/* ---- times ---- */

#define NSEC      1000000000
#define OFF_BIAS  86400 /* offsets are stored biased, within +-24 h */
#define NSEC_MASK UINT32_C(0x3fffffff)

/* Nanoseconds outside [0, 1e9) are carried into the seconds and an offset
 * beyond +-24 h becomes 0 (UTC): the instant is kept; neither happens to a
 * parsed RFC 3339 time. */
static void pack_time(struct nd_alert *a, int i, struct nd_time t)
{
    if (t.nsec < 0 || t.nsec >= NSEC) {
        int64_t carry = t.nsec / NSEC - (t.nsec % NSEC < 0);
        int64_t sec;
        if (__builtin_add_overflow(t.sec, carry, &sec)) {
            t.nsec = 0; /* the end of time: keep the second */
        } else {
            t.sec = sec;
            t.nsec = (int32_t)(t.nsec - carry * NSEC);
        }
    }
    if (t.offset < -OFF_BIAS || t.offset > OFF_BIAS)
        t.offset = 0;
    uint32_t off = (uint32_t)(t.offset + OFF_BIAS); /* 0 .. 172800: 18 bits */
    a->t_sec[i] = t.sec;
    a->t_nsec[i] = (uint32_t)t.nsec | (off & 3) << 30;
    a->t_off[i] = (uint16_t)(off >> 2);
}

static struct nd_time unpack_time(const struct nd_alert *a, int i)
{
    struct nd_time t;
    t.sec = a->t_sec[i];
    t.nsec = (int32_t)(a->t_nsec[i] & NSEC_MASK);
    t.offset = (int32_t)((uint32_t)a->t_off[i] << 2 | a->t_nsec[i] >> 30) - OFF_BIAS;
    return t;
}

struct nd_time nd_alert_starts_at(const struct nd_alert *a)
{
    return unpack_time(a, 0);
}

struct nd_time nd_alert_ends_at(const struct nd_alert *a)
{
    return unpack_time(a, 1);
}

/* ---- finishing an alert ---- */

/* Fills the references from the pairs: inline values are copied to *strings
 * (moved on) and referenced by their offset in the block, interned ones
 * (shared encoded ones tagged) are handed over with the builder's
 * reference. Adds the strings' bytes (NULs included) to *logical. */
static void place_pairs(struct nd_alert *a, uint32_t *r, const struct nd_alert_pair *p, size_t n,
                        const char *pool, const char *coded, char **strings, size_t *logical)
{
    for (size_t i = 0; i < n; i++) {
        r[2 * i] = p[i].nh;
        *logical += (size_t)p[i].nlen + p[i].vlen + 2;
        if (p[i].vh != ND_INTERN_NONE) {
            r[2 * i + 1] = p[i].vh | (p[i].clen ? ND_ALERT_REF_CODED : 0);
        } else if (p[i].clen) {
            memcpy(*strings, coded + p[i].voff, p[i].clen);
            r[2 * i + 1] =
                ND_ALERT_REF_INLINE | ND_ALERT_REF_CODED | (uint32_t)(*strings - (char *)a);
            *strings += p[i].clen;
        } else {
            memcpy(*strings, pool + p[i].voff, (size_t)p[i].vlen + 1);
            r[2 * i + 1] = ND_ALERT_REF_INLINE | (uint32_t)(*strings - (char *)a);
            *strings += p[i].vlen + 1;
        }
    }
}

static size_t inline_bytes(const struct nd_alert_pair *p, size_t n)
{
    size_t sum = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].vh == ND_INTERN_NONE)
            sum += p[i].clen ? p[i].clen : (size_t)p[i].vlen + 1;
    return sum;
}

struct nd_alert *nd_alert_builder_finish(struct nd_alert_builder *b, const char *cluster,
                                         int64_t now_ns, char *err)
{
    size_t nl = nd_alert_builder_nlabels(b), na;
    struct nd_alert_pair *labs = (struct nd_alert_pair *)(void *)b->lab.data;
    struct nd_alert_pair *anns = pairs(&b->ann, &na);
    struct nd_alert *a = NULL;
    struct nd_alert_pair cl = {0};
    size_t cl_at = SIZE_MAX; /* where the cluster label goes, when added */

    sort_pairs(anns, na);
    na = dedupe(anns, na, 0);
    b->ann.len = na * sizeof *anns;
    if (nl == 0) {
        nd_seterr(err, ND_EINVAL, "at least one label required");
        goto out;
    }
    if (cluster && *cluster) {
        size_t clen = strlen(cluster);
        (void)intern_any("cluster", 7, &cl.nh);
        cl.name = nd_intern_str(cl.nh);
        cl.order = name_order("cluster", 7);
        cl.nlen = 7;
        size_t i = 0;
        while (i < nl && name_cmp(&labs[i], &cl) < 0)
            i++;
        if (i == nl || labs[i].nh != cl.nh) {
            if (intern_any(cluster, clen, &cl.vh) != ND_OK) {
                cl.vh = ND_INTERN_EMPTY; /* unreachable: C strings hold no NUL */
                clen = 0;
            }
            cl.vlen = (uint32_t)clen;
            cl.voff = 0;
            cl_at = i;
        } else {
            nd_intern_unref(cl.nh);
        }
    }
    size_t nlt = nl + (cl_at != SIZE_MAX);
    if (nlt > ND_ALERT_MAX_PAIRS || na > ND_ALERT_MAX_PAIRS) {
        nd_seterr(err, ND_ETOOBIG, "too many labels or annotations");
        if (cl_at != SIZE_MAX)
            pair_release(&cl);
        goto out;
    }
    nd__alert_encode_annotations(b, labs, nl, &cl, cl_at, anns, na);
    for (size_t i = 0; i < na; i++)
        if (anns[i].clen)
            anns[i].vh = intern_coded(b->coded.data + anns[i].voff, anns[i].clen);
    int url_inline = b->url_h == ND_INTERN_NONE && b->url_len;
    size_t nrefs = 2 * (nlt + na);
    size_t block = sizeof *a + nrefs * sizeof(uint32_t) + inline_bytes(labs, nl) +
                   inline_bytes(anns, na) + (url_inline ? b->url_len + 1 : 0);
    if (block > MAX_BLOCK) {
        nd_seterr(err, ND_ETOOBIG, "alert too large");
        if (cl_at != SIZE_MAX)
            pair_release(&cl);
        goto out;
    }
    a = nd_xmalloc(block);
    memset(a, 0, sizeof *a);
    a->refs = 1;
    a->nlabels = (uint16_t)nlt;
    a->nannotations = (uint16_t)na;
    uint32_t *r = (uint32_t *)(void *)(a + 1);
    char *strings = (char *)(r + nrefs);
    /* The accounted size is the logical one, see alert.h. */
    size_t logical = sizeof *a + nrefs * sizeof(uint32_t) + b->url_len + 1;
    const char *pool = b->strings.data, *coded = b->coded.data;
    if (cl_at == SIZE_MAX) {
        place_pairs(a, r, labs, nl, pool, NULL, &strings, &logical);
    } else {
        place_pairs(a, r, labs, cl_at, pool, NULL, &strings, &logical);
        place_pairs(a, r + 2 * cl_at, &cl, 1, NULL, NULL, &strings, &logical);
        place_pairs(a, r + 2 * (cl_at + 1), labs + cl_at, nl - cl_at, pool, NULL, &strings,
                    &logical);
    }
    place_pairs(a, r + 2 * nlt, anns, na, pool, coded, &strings, &logical);
    if (b->url_h != ND_INTERN_NONE) {
        a->url_ref = b->url_h;
        b->url_h = ND_INTERN_NONE; /* handed over */
    } else if (url_inline) {
        memcpy(strings, b->strings.data + b->url_off, (size_t)b->url_len + 1);
        a->url_ref = ND_ALERT_REF_INLINE | (uint32_t)(strings - (char *)a);
    } else {
        a->url_ref = ND_INTERN_EMPTY;
    }
    /* The references now belong to the alert. */
    b->lab.len = 0;
    b->ann.len = 0;
    a->size = logical > UINT32_MAX ? UINT32_MAX : (uint32_t)logical;
    pack_time(a, 0, b->starts_at);
    pack_time(a, 1, b->ends_at);
    if (b->status >= 0)
        a->status = (uint8_t)b->status;
    else
        a->status = !nd_time_is_zero(&b->ends_at) && nd_time_unix_ns(&b->ends_at) <= now_ns
                        ? ND_ALERT_RESOLVED
                        : ND_ALERT_FIRING;
out:
    nd_alert_builder_reset(b);
    return a;
}

void nd_alert_unref(struct nd_alert *a)
{
    if (!a || --a->refs > 0)
        return;
    if (a->queue)
        nd_queue_release(a->queue, a);
    const uint32_t *r = nd__alert_refs(a);
    size_t n = 2 * ((size_t)a->nlabels + a->nannotations);
    for (size_t i = 0; i < n; i++)
        if (!(r[i] & ND_ALERT_REF_INLINE))
            nd_intern_unref(nd__alert_ref_handle(r[i]));
    if (!(a->url_ref & ND_ALERT_REF_INLINE))
        nd_intern_unref(a->url_ref);
    free(a);
}

/* ---- reading ---- */

/* Index of `name` among n pairs from r (sorted by name), or SIZE_MAX. */
static size_t find(const uint32_t *r, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(nd_intern_str(r[2 * mid]), name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

const char *nd_alert_label(const struct nd_alert *a, const char *name)
{
    const uint32_t *r = nd__alert_refs(a);
    size_t i = find(r, a->nlabels, name);
    return i == SIZE_MAX ? NULL : nd_alert_str_(a, r[2 * i + 1]);
}

size_t nd_alert_label_find_h(const struct nd_alert *a, uint32_t name)
{
    const uint32_t *r = nd__alert_refs(a);
    /* A handful of labels: a scan of handles beats a search over strings. */
    if (a->nlabels > 32)
        return find(r, a->nlabels, nd_intern_str(name));
    for (size_t i = 0; i < a->nlabels; i++)
        if (r[2 * i] == name)
            return i;
    return SIZE_MAX;
}

/* Equal references are equal strings; two different handles are different
 * strings (the table keeps one copy of each). */
static int refs_eq(const struct nd_alert *a, uint32_t ra, const struct nd_alert *b, uint32_t rb,
                   int *known)
{
    *known = 1;
    /* A shared encoded value refers to each alert's own labels: equal
     * handles are equal values only within one alert. */
    const uint32_t own = ND_ALERT_REF_INLINE | ND_ALERT_REF_CODED;
    if (ra == rb && (!(ra & own) || a == b))
        return 1;
    if (!(ra & own) && !(rb & own))
        return 0;
    *known = 0;
    return 0;
}

int nd_alert_label_value_eq(const struct nd_alert *a, size_t i, const struct nd_alert *b, size_t j)
{
    uint32_t ra = nd__alert_refs(a)[2 * i + 1], rb = nd__alert_refs(b)[2 * j + 1];
    int known, eq = refs_eq(a, ra, b, rb, &known);
    return known ? eq : strcmp(nd_alert_str_(a, ra), nd_alert_str_(b, rb)) == 0;
}

uint32_t nd_alert_label_value_hash(const struct nd_alert *a, size_t i)
{
    uint32_t r = nd__alert_refs(a)[2 * i + 1];
    if (!(r & ND_ALERT_REF_INLINE))
        return nd_intern_hash32(r);
    const char *s = nd_alert_str_(a, r);
    return (uint32_t)nd_intern_hash(s, strlen(s));
}

const char *nd_alert_annotation_name(const struct nd_alert *a, size_t i)
{
    return nd_intern_str(nd__alert_refs(a)[2 * ((size_t)a->nlabels + i)]);
}

const char *nd_alert_annotation_value(const struct nd_alert *a, size_t i, struct nd_buf *scratch)
{
    uint32_t r = nd__alert_refs(a)[2 * ((size_t)a->nlabels + i) + 1];
    if (nd__alert_ref_coded(r))
        return nd__alert_expand(a, nd__alert_coded_bytes(a, r), scratch);
    return nd_alert_str_(a, r);
}

void nd_alert_annotation_values(const struct nd_alert *a, struct nd_buf *scratch,
                                const char **values)
{
    const uint32_t *r = nd__alert_refs(a) + 2 * (size_t)a->nlabels;
    /* Encoded values are expanded one after the other; scratch may move
     * while it grows, so their offsets wait in values' slots (memcpy: the
     * slots are pointers) until the end. */
    static_assert(sizeof(size_t) <= sizeof(const char *), "an offset fits in a slot");
    scratch->len = 0;
    for (size_t i = 0; i < a->nannotations; i++) {
        if (nd__alert_ref_coded(r[2 * i + 1])) {
            size_t off = scratch->len;
            memcpy(&values[i], &off, sizeof off);
            nd__alert_expand_append(a, nd__alert_coded_bytes(a, r[2 * i + 1]), scratch);
            (void)nd_buf_addc(scratch, '\0'); /* ends this value; the next goes after it */
        }
    }
    for (size_t i = 0; i < a->nannotations; i++) {
        if (nd__alert_ref_coded(r[2 * i + 1])) {
            size_t off;
            memcpy(&off, &values[i], sizeof off);
            values[i] = scratch->data + off;
        } else {
            values[i] = nd_alert_str_(a, r[2 * i + 1]);
        }
    }
}

struct nd_kv nd_alert_annotation_at(const struct nd_alert *a, size_t i, struct nd_buf *scratch)
{
    struct nd_kv kv = {nd_alert_annotation_name(a, i), nd_alert_annotation_value(a, i, scratch)};
    return kv;
}

size_t nd_alert_annotation_find(const struct nd_alert *a, const char *name)
{
    return find(nd__alert_refs(a) + 2 * (size_t)a->nlabels, a->nannotations, name);
}

const char *nd_alert_annotation(const struct nd_alert *a, const char *name, struct nd_buf *scratch)
{
    size_t i = nd_alert_annotation_find(a, name);
    return i == SIZE_MAX ? NULL : nd_alert_annotation_value(a, i, scratch);
}

int nd_alert_annotation_value_eq(const struct nd_alert *a, size_t i, const struct nd_alert *b,
                                 size_t j)
{
    uint32_t ra = nd__alert_refs(a)[2 * ((size_t)a->nlabels + i) + 1];
    uint32_t rb = nd__alert_refs(b)[2 * ((size_t)b->nlabels + j) + 1];
    int known, eq = refs_eq(a, ra, b, rb, &known);
    if (known)
        return eq;
    /* Piece by piece, up to the first difference: two templated values of
     * one rule usually differ early (a pod name), and nothing is copied. */
    struct nd__pieces pa, pb;
    nd__pieces_init(&pa, a, ra);
    nd__pieces_init(&pb, b, rb);
    const char *sa = NULL, *sb = NULL;
    size_t na = 0, nb = 0;
    for (;;) {
        if (!na && !nd__pieces_next(&pa, &sa, &na))
            return !nb && !nd__pieces_next(&pb, &sb, &nb);
        if (!nb && !nd__pieces_next(&pb, &sb, &nb))
            return 0;
        size_t m = na < nb ? na : nb;
        if (memcmp(sa, sb, m) != 0)
            return 0;
        sa += m;
        sb += m;
        na -= m;
        nb -= m;
    }
}

const char *nd_alert_generator_url(const struct nd_alert *a)
{
    return nd_alert_str_(a, a->url_ref);
}

static size_t ref_end(const struct nd_alert *a, uint32_t r)
{
    if (!(r & ND_ALERT_REF_INLINE))
        return 0;
    size_t off = r & ND_ALERT_REF_OFFSET;
    return off + nd__alert_stored_len((const char *)a + off, (r & ND_ALERT_REF_CODED) != 0);
}

size_t nd_alert_block_size(const struct nd_alert *a)
{
    const uint32_t *r = nd__alert_refs(a);
    size_t n = 2 * ((size_t)a->nlabels + a->nannotations);
    size_t end = sizeof *a + n * sizeof *r, e;
    for (size_t i = 1; i < n; i += 2)
        if ((e = ref_end(a, r[i])) > end)
            end = e;
    if ((e = ref_end(a, a->url_ref)) > end)
        end = e;
    return end;
}

const char *nd_alert_status_str(enum nd_alert_status st)
{
    return st == ND_ALERT_RESOLVED ? "resolved" : "firing";
}
