/* alert.c - building, sharing and hashing alerts.
 *
 * The builder collects a request's strings in reusable buffers, then
 * finish() lays the alert out in one block:
 *
 *   struct nd_alert | nd_kv labels[nl] | nd_kv annotations[na] | strings...
 *
 * so an alert costs one malloc whatever its number of labels, and freeing it
 * is one free. The block size is what the queue accounts for.
 */
#include "notifyd/alert.h"

#include <stdlib.h>
#include <string.h>

#include "notifyd/queue.h"
#include "notifyd/util.h"

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME  UINT64_C(1099511628211)

void nd_alert_builder_init(struct nd_alert_builder *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    nd_buf_init(&b->strings, limit);
    nd_buf_init(&b->lab, limit);
    nd_buf_init(&b->ann, limit);
    nd_alert_builder_reset(b);
}

void nd_alert_builder_deinit(struct nd_alert_builder *b)
{
    nd_buf_deinit(&b->strings);
    nd_buf_deinit(&b->lab);
    nd_buf_deinit(&b->ann);
    free(b->generator_url);
    b->generator_url = NULL;
}

void nd_alert_builder_reset(struct nd_alert_builder *b)
{
    nd_buf_reset(&b->strings);
    nd_buf_reset(&b->lab);
    nd_buf_reset(&b->ann);
    free(b->generator_url);
    b->generator_url = NULL;
    b->generator_url_len = 0;
    b->starts_at = nd_time_zero();
    b->ends_at = nd_time_zero();
    b->status = -1;
}

static int add_pair(struct nd_alert_builder *b, struct nd_buf *index, const char *name, size_t nlen,
                    const char *value, size_t vlen)
{
    if (memchr(name, '\0', nlen) || memchr(value, '\0', vlen))
        return ND_EINVAL;
    if (index->len / sizeof(uint32_t) >= ND_ALERT_MAX_PAIRS)
        return ND_ETOOBIG;
    if (b->strings.len > UINT32_MAX - nlen - vlen - 2)
        return ND_ETOOBIG;
    uint32_t off = (uint32_t)b->strings.len;
    int rc = nd_buf_add(&b->strings, name, nlen);
    if (!rc)
        rc = nd_buf_addc(&b->strings, '\0');
    if (!rc)
        rc = nd_buf_add(&b->strings, value, vlen);
    if (!rc)
        rc = nd_buf_addc(&b->strings, '\0');
    if (!rc)
        rc = nd_buf_add(index, &off, sizeof off);
    return rc;
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
    if (memchr(s, '\0', len))
        return ND_EINVAL;
    if (len > b->strings.limit)
        return ND_ETOOBIG;
    free(b->generator_url);
    b->generator_url = nd_xstrndup(s, len);
    b->generator_url_len = len;
    return ND_OK;
}

void nd_alert_builder_set_status(struct nd_alert_builder *b, enum nd_alert_status st)
{
    b->status = (int)st;
}

/* A pair during finish(): pointers into the builder's strings, plus the
 * order of arrival so that the last of equal names wins. */
struct pair {
    const char *name;
    const char *value;
    uint32_t seq;
};

static int pair_cmp(const void *pa, const void *pb)
{
    const struct pair *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Sorts by name and keeps the last value of each name; drops empty values
 * when asked. Returns the new count. */
static size_t collect(const struct nd_alert_builder *b, const struct nd_buf *index,
                      struct pair *out, int drop_empty)
{
    size_t n = index->len / sizeof(uint32_t), k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t off;
        memcpy(&off, index->data + i * sizeof off, sizeof off);
        const char *name = b->strings.data + off;
        out[k].name = name;
        out[k].value = name + strlen(name) + 1;
        out[k].seq = (uint32_t)i;
        k++;
    }
    if (k > 1)
        qsort(out, k, sizeof *out, pair_cmp);
    size_t w = 0;
    for (size_t i = 0; i < k; i++) {
        if (i + 1 < k && strcmp(out[i].name, out[i + 1].name) == 0)
            continue; /* a later duplicate follows: it wins */
        if (drop_empty && out[i].value[0] == '\0')
            continue;
        out[w++] = out[i];
    }
    return w;
}

size_t nd_alert_builder_nlabels(const struct nd_alert_builder *b)
{
    size_t n = b->lab.len / sizeof(uint32_t);
    if (!n)
        return 0;
    struct pair *tmp = nd_xmalloc(n * sizeof *tmp);
    size_t k = collect(b, &b->lab, tmp, 1);
    free(tmp);
    return k;
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

uint64_t nd_fingerprint(const struct nd_kv *sorted, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        h = fnv_sep(fnv_bytes(h, sorted[i].name, strlen(sorted[i].name)));
        h = fnv_sep(fnv_bytes(h, sorted[i].value, strlen(sorted[i].value)));
    }
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
 * annotations, status and both times. */
static uint64_t alert_id(const struct nd_alert *a)
{
    uint64_t h = fnv_bytes(FNV_OFFSET, &a->fingerprint, sizeof a->fingerprint);
    for (size_t i = 0; i < a->nannotations; i++) {
        h = fnv_sep(fnv_bytes(h, a->annotations[i].name, strlen(a->annotations[i].name)));
        h = fnv_sep(fnv_bytes(h, a->annotations[i].value, strlen(a->annotations[i].value)));
    }
    int64_t v[5] = {a->status, a->starts_at.sec, a->starts_at.nsec, a->ends_at.sec,
                    a->ends_at.nsec};
    return fnv_bytes(h, v, sizeof v);
}

static char *copy_kvs(struct nd_kv *dst, const struct pair *src, size_t n, char *strings)
{
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(src[i].name) + 1, vl = strlen(src[i].value) + 1;
        memcpy(strings, src[i].name, nl);
        dst[i].name = strings;
        strings += nl;
        memcpy(strings, src[i].value, vl);
        dst[i].value = strings;
        strings += vl;
    }
    return strings;
}

static size_t pairs_bytes(const struct pair *p, size_t n)
{
    size_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += strlen(p[i].name) + strlen(p[i].value) + 2;
    return sum;
}

struct nd_alert *nd_alert_builder_finish(struct nd_alert_builder *b, const char *cluster,
                                         int64_t now_ns, char *err)
{
    size_t nl_raw = b->lab.len / sizeof(uint32_t), na_raw = b->ann.len / sizeof(uint32_t);
    /* One extra slot for the cluster label. */
    struct pair *labs = nd_xmalloc((nl_raw + 1) * sizeof *labs);
    struct pair *anns = nd_xmalloc((na_raw + 1) * sizeof *anns);
    size_t nl = collect(b, &b->lab, labs, 1);
    size_t na = collect(b, &b->ann, anns, 0);
    struct nd_alert *a = NULL;

    if (nl == 0) {
        nd_seterr(err, ND_EINVAL, "at least one label required");
        goto out;
    }
    if (cluster && *cluster) {
        size_t i = 0;
        while (i < nl && strcmp(labs[i].name, "cluster") < 0)
            i++;
        if (i == nl || strcmp(labs[i].name, "cluster") != 0) {
            memmove(labs + i + 1, labs + i, (nl - i) * sizeof *labs);
            labs[i].name = "cluster";
            labs[i].value = cluster;
            labs[i].seq = 0;
            nl++;
        }
    }
    if (nl > ND_ALERT_MAX_PAIRS || na > ND_ALERT_MAX_PAIRS) {
        nd_seterr(err, ND_ETOOBIG, "too many labels or annotations");
        goto out;
    }
    size_t size = sizeof *a + (nl + na) * sizeof(struct nd_kv) + pairs_bytes(labs, nl) +
                  pairs_bytes(anns, na) + b->generator_url_len + 1;
    if (size > UINT32_MAX) {
        nd_seterr(err, ND_ETOOBIG, "alert too large");
        goto out;
    }
    a = nd_xmalloc(size);
    memset(a, 0, sizeof *a);
    a->refs = 1;
    a->size = (uint32_t)size;
    a->nlabels = (uint16_t)nl;
    a->nannotations = (uint16_t)na;
    struct nd_kv *kv = (struct nd_kv *)(a + 1);
    char *strings = (char *)(kv + nl + na);
    strings = copy_kvs(kv, labs, nl, strings);
    strings = copy_kvs(kv + nl, anns, na, strings);
    memcpy(strings, b->generator_url ? b->generator_url : "", b->generator_url_len);
    strings[b->generator_url_len] = '\0';
    a->labels = kv;
    a->annotations = kv + nl;
    a->generator_url = strings;
    a->starts_at = b->starts_at;
    a->ends_at = b->ends_at;
    if (b->status >= 0)
        a->status = (uint8_t)b->status;
    else
        a->status = !nd_time_is_zero(&b->ends_at) && nd_time_unix_ns(&b->ends_at) <= now_ns
                        ? ND_ALERT_RESOLVED
                        : ND_ALERT_FIRING;
    a->fingerprint = nd_fingerprint(a->labels, nl);
    a->id = alert_id(a);
out:
    free(labs);
    free(anns);
    nd_alert_builder_reset(b);
    return a;
}

void nd_alert_unref(struct nd_alert *a)
{
    if (!a || --a->refs > 0)
        return;
    if (a->queue)
        nd_queue_release(a->queue, a->size);
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
