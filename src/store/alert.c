/* alert.c - building, sharing and hashing alerts.
 *
 * The builder collects a request's strings in reusable buffers, then
 * finish() lays the alert out in one block:
 *
 *   struct nd_alert | nd_kv labels[nl] | nd_kv annotations[na] | inline strings
 *
 * so an alert costs one malloc whatever its number of labels. Names, and
 * values that repeat, point into the string table instead (intern.h); the
 * inline strings are the values seen only once. a->size stays the logical
 * size of the alert, as if nothing were shared (alert.h, docs/memory.md).
 */
#include "notifyd/alert.h"

#include <stdlib.h>
#include <string.h>

#include "notifyd/intern.h"
#include "notifyd/queue.h"
#include "notifyd/util.h"

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME  UINT64_C(1099511628211)

/* Values seen once are remembered here by hash (a direct-mapped filter,
 * not a reference): a value is interned when it comes a second time. Unique
 * values (pod names, descriptions) thus stay in their alert's block, where
 * they cost no table slot and no entry header. */
#define SEEN_SLOTS 4096u
static uint32_t seen[SEEN_SLOTS];

/* The shared copy of a value that repeats into *out, or NULL when it is to
 * stay inline. ND_EINVAL when it holds a NUL byte: the check rides on the
 * hash, and a cache hit proves there is none (the cached copy has none). */
static int intern_value(const char *s, size_t len, const char **out)
{
    const char *p = nd_intern_fast(s, len);
    if (!p) {
        int nul;
        uint64_t h = nd_intern_hash_checked(s, len, &nul);
        if (nul)
            return ND_EINVAL;
        p = nd_intern_find(s, len, h);
        if (!p) {
            uint32_t tag = (uint32_t)(h >> 32) | 1u;
            uint32_t *slot = &seen[(h >> 20) & (SEEN_SLOTS - 1)];
            if (*slot == tag)
                p = nd_intern(s, len, h);
            else
                *slot = tag;
        }
    }
    *out = p;
    return ND_OK;
}

/* The shared copy of s, whether it repeats or not (label names). */
static int intern_any(const char *s, size_t len, const char **out)
{
    const char *p = nd_intern_fast(s, len);
    if (!p) {
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
    nd_intern_unref(p->name);
    if (p->value)
        nd_intern_unref(p->value);
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
    /* Values plus one generatorURL per call: the checks below keep it bounded. */
    nd_buf_init(&b->strings, limit > SIZE_MAX / 4 ? SIZE_MAX / 2 : limit * 2 + 2);
    nd_buf_init(&b->lab, SIZE_MAX / 2);
    nd_buf_init(&b->ann, SIZE_MAX / 2);
    nd_alert_builder_reset(b);
}

void nd_alert_builder_deinit(struct nd_alert_builder *b)
{
    nd_alert_builder_reset(b);
    nd_buf_deinit(&b->strings);
    nd_buf_deinit(&b->lab);
    nd_buf_deinit(&b->ann);
}

void nd_alert_builder_reset(struct nd_alert_builder *b)
{
    release_all(&b->lab);
    release_all(&b->ann);
    nd_buf_reset(&b->strings);
    if (b->generator_url)
        nd_intern_unref(b->generator_url);
    b->generator_url = NULL;
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
    int rc = intern_any(name, nlen, &p.name);
    if (rc != ND_OK)
        return rc;
    rc = intern_value(value, vlen, &p.value);
    if (rc == ND_OK && !p.value)
        rc = keep_inline(b, value, vlen, &p.voff);
    if (rc != ND_OK) {
        nd_intern_unref(p.name);
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
    const char *p;
    int rc = intern_value(s, len, &p);
    if (rc != ND_OK)
        return rc;
    if (b->generator_url)
        nd_intern_unref(b->generator_url);
    b->generator_url = NULL;
    b->url_len = 0;
    if (p) {
        b->generator_url = p;
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
 * exactly when their pointers are. */
static int name_cmp(const struct nd_alert_pair *a, const struct nd_alert_pair *b)
{
    if (a->name == b->name)
        return 0;
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
        if ((i + 1 < n && p[i].name == p[i + 1].name) || (drop_empty && p[i].vlen == 0)) {
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

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= FNV_PRIME;
    }
    return h;
}

static uint64_t fnv_sep(uint64_t h)
{
    h ^= 0xff;
    return h * FNV_PRIME;
}

static uint64_t fnv_pair(uint64_t h, const char *name, size_t nlen, const char *value, size_t vlen)
{
    h = fnv_sep(fnv_bytes(h, name, nlen));
    return fnv_sep(fnv_bytes(h, value, vlen));
}

uint64_t nd_fingerprint(const struct nd_kv *sorted, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++)
        h = fnv_pair(h, sorted[i].name, strlen(sorted[i].name), sorted[i].value,
                     strlen(sorted[i].value));
    return h;
}

void nd_fingerprint_format(uint64_t fp, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[fp & 15];
        fp >>= 4;
    }
    out[16] = '\0';
}

/* NM's alert ID is a hash of the whole alert, printed in decimal. Ours
 * covers what makes the alert distinct: labels (via the fingerprint),
 * annotations (hashed by the caller into h), status and both times. */
static uint64_t alert_id(const struct nd_alert *a, uint64_t h)
{
    int64_t v[5] = {a->status, a->starts_at.sec, a->starts_at.nsec, a->ends_at.sec,
                    a->ends_at.nsec};
    return fnv_bytes(h, v, sizeof v);
}

/* Fills kv from the pairs: inline values are copied to *strings (moved on),
 * interned ones are handed over with the builder's reference. Returns the
 * FNV state after hashing every pair, and adds the strings' bytes (NULs
 * included) to *logical. */
static uint64_t place_pairs(struct nd_kv *kv, const struct nd_alert_pair *p, size_t n,
                            const char *pool, char **strings, uint64_t h, size_t *logical)
{
    for (size_t i = 0; i < n; i++) {
        kv[i].name = p[i].name;
        *logical += (size_t)p[i].nlen + p[i].vlen + 2;
        if (p[i].value) {
            kv[i].value = p[i].value;
        } else {
            memcpy(*strings, pool + p[i].voff, (size_t)p[i].vlen + 1);
            kv[i].value = *strings;
            *strings += p[i].vlen + 1;
        }
        h = fnv_pair(h, kv[i].name, p[i].nlen, kv[i].value, p[i].vlen);
    }
    return h;
}

static size_t inline_bytes(const struct nd_alert_pair *p, size_t n)
{
    size_t sum = 0;
    for (size_t i = 0; i < n; i++)
        if (!p[i].value)
            sum += p[i].vlen + 1;
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
        (void)intern_any("cluster", 7, &cl.name);
        cl.nlen = 7;
        size_t i = 0;
        while (i < nl && name_cmp(&labs[i], &cl) < 0)
            i++;
        if (i == nl || labs[i].name != cl.name) {
            if (intern_any(cluster, clen, &cl.value) != ND_OK) {
                cl.value = nd_intern("", 0, 0); /* unreachable: C strings hold no NUL */
                clen = 0;
            }
            cl.vlen = (uint32_t)clen;
            cl.voff = 0;
            cl_at = i;
        } else {
            nd_intern_unref(cl.name);
        }
    }
    size_t nlt = nl + (cl_at != SIZE_MAX);
    if (nlt > ND_ALERT_MAX_PAIRS || na > ND_ALERT_MAX_PAIRS) {
        nd_seterr(err, ND_ETOOBIG, "too many labels or annotations");
        if (cl_at != SIZE_MAX)
            pair_release(&cl);
        goto out;
    }
    int url_inline = !b->generator_url && b->url_len;
    size_t block = sizeof *a + (nlt + na) * sizeof(struct nd_kv) + inline_bytes(labs, nl) +
                   inline_bytes(anns, na) + (url_inline ? b->url_len + 1 : 0);
    if (block > UINT32_MAX / 2) {
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
    struct nd_kv *kv = (struct nd_kv *)(a + 1);
    char *strings = (char *)(kv + nlt + na);
    /* The accounted size is the logical one, see alert.h. */
    size_t logical = sizeof *a + (nlt + na) * sizeof(struct nd_kv) + b->url_len + 1;
    uint64_t fp = FNV_OFFSET;
    if (cl_at == SIZE_MAX) {
        fp = place_pairs(kv, labs, nl, b->strings.data, &strings, fp, &logical);
    } else {
        fp = place_pairs(kv, labs, cl_at, b->strings.data, &strings, fp, &logical);
        fp = place_pairs(kv + cl_at, &cl, 1, NULL, &strings, fp, &logical);
        fp = place_pairs(kv + cl_at + 1, labs + cl_at, nl - cl_at, b->strings.data, &strings, fp,
                         &logical);
    }
    uint64_t idh = fnv_bytes(FNV_OFFSET, &fp, sizeof fp);
    idh = place_pairs(kv + nlt, anns, na, b->strings.data, &strings, idh, &logical);
    if (b->generator_url) {
        a->generator_url = b->generator_url;
        b->generator_url = NULL; /* handed over */
    } else if (url_inline) {
        memcpy(strings, b->strings.data + b->url_off, (size_t)b->url_len + 1);
        a->generator_url = strings;
    } else {
        a->generator_url = nd_intern("", 0, 0);
    }
    /* The references now belong to the alert. */
    b->lab.len = 0;
    b->ann.len = 0;
    a->size = logical > UINT32_MAX ? UINT32_MAX : (uint32_t)logical;
    a->labels = kv;
    a->annotations = kv + nlt;
    a->starts_at = b->starts_at;
    a->ends_at = b->ends_at;
    if (b->status >= 0)
        a->status = (uint8_t)b->status;
    else
        a->status = !nd_time_is_zero(&b->ends_at) && nd_time_unix_ns(&b->ends_at) <= now_ns
                        ? ND_ALERT_RESOLVED
                        : ND_ALERT_FIRING;
    a->fingerprint = fp;
    a->id = alert_id(a, idh);
out:
    nd_alert_builder_reset(b);
    return a;
}

/* Inline strings were laid out in kv order right after the kv array, so a
 * cursor walking them tells them apart from interned ones (which live in
 * other heap chunks and can never sit at the cursor). */
static void release_strings(struct nd_alert *a)
{
    size_t n = (size_t)a->nlabels + a->nannotations;
    const struct nd_kv *kv = a->labels;
    const char *cur = (const char *)(kv + n);
    for (size_t i = 0; i < n; i++) {
        nd_intern_unref(kv[i].name);
        if (kv[i].value == cur)
            cur += strlen(cur) + 1;
        else
            nd_intern_unref(kv[i].value);
    }
    if (a->generator_url != cur)
        nd_intern_unref(a->generator_url);
}

void nd_alert_unref(struct nd_alert *a)
{
    if (!a || --a->refs > 0)
        return;
    if (a->queue)
        nd_queue_release(a->queue, a->size);
    release_strings(a);
    free(a);
}

static const char *find(const struct nd_kv *kv, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(kv[mid].name, name);
        if (c == 0)
            return kv[mid].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const char *nd_alert_label(const struct nd_alert *a, const char *name)
{
    return find(a->labels, a->nlabels, name);
}

const char *nd_alert_annotation(const struct nd_alert *a, const char *name)
{
    return find(a->annotations, a->nannotations, name);
}

const char *nd_alert_status_str(enum nd_alert_status st)
{
    return st == ND_ALERT_RESOLVED ? "resolved" : "firing";
}
