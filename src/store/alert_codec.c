/* alert_codec.c - encoded annotation values: how finish() finds the alert's
 * own label values in its inline annotation values and stores references to
 * them, and how readers walk (pieces) or expand an encoded value. The block
 * layout and the reference tags are in alert.h; the encoding is below.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/intern.h"
#include "notifyd/util.h"
#include "alert_int.h"

/* ---- pieces of a value ---- */

void nd__pieces_init(struct nd__pieces *it, const struct nd_alert *a, uint32_t r)
{
    it->a = a;
    it->coded = nd__alert_ref_coded(r);
    it->p = it->coded ? nd__alert_coded_bytes(a, r) : nd_alert_str_(a, r);
}

/* The next non-empty piece into *s, *n; 0 at the end. */
int nd__pieces_next(struct nd__pieces *it, const char **s, size_t *n)
{
    if (!it->coded) {
        if (!it->p || !*it->p)
            return 0;
        *s = it->p;
        *n = strlen(it->p);
        it->p = NULL;
        return 1;
    }
    if (*it->p) { /* a literal run, up to the next escape */
        *s = it->p;
        *n = strlen(it->p);
        it->p += *n;
        return 1;
    }
    it->p++;
    if (!*it->p)
        return 0; /* the end mark */
    uint32_t x = 0;
    unsigned sh = 0;
    unsigned char c;
    do {
        c = (unsigned char)*it->p++;
        x |= (uint32_t)(c & 0x7f) << sh;
        sh += 7;
    } while (c & 0x80);
    assert(x >= 1 && x <= it->a->nlabels);
    *s = nd_alert_str_(it->a, nd__alert_refs(it->a)[2 * (x - 1) + 1]);
    *n = strlen(*s);
    return 1; /* label values are never empty */
}

/* ---- annotation back-references ----
 *
 * Prometheus annotations are templated from labels ("Pod {{ $labels.pod }}
 * is ..."), so an inline annotation value often repeats the alert's own
 * label values. finish() stores such a value encoded: its bytes with the
 * occurrences of label values that the scan below finds replaced by
 * references to those labels. Values never contain NUL, so NUL is the
 * escape and every other byte is literal:
 *
 *   byte b != 0        the byte b
 *   0, varint(i + 1)   the value of label i (7 bits a byte, low group first,
 *                      0x80 = more follow; i + 1 >= 1, so never a 0 byte)
 *   0, 0               the end
 *
 * The reference to it carries ND_ALERT_REF_CODED, and readers get the value
 * from nd_alert_annotation_value(), which expands it into their scratch. A
 * value is stored encoded only when that is shorter than the string with its
 * NUL. a->size does not change: it counts the value expanded.
 *
 * The scan looks at every SCAN_STEP-th position of the value only: the 4
 * bytes there are looked up in a small direct-mapped table that holds, for
 * each candidate label value (REF_MIN bytes or more), its 4-byte windows at
 * offsets 0 .. SCAN_STEP - 1 with that offset. An occurrence of a value of
 * REF_MIN + SCAN_STEP - 1 bytes or more covers one looked-up position
 * wherever it starts, so it is always found (unless another window took its
 * slot); a shorter one only when it starts on the stride. A hit is verified
 * with memcmp, the verified occurrence is taken and the scan goes on after
 * it. So a 200-byte description costs ~50 table lookups, not one memmem per
 * label. Work is bounded: at most MAX_CANDS candidates, one slot per lookup,
 * and the bytes compared by failed verifications are capped per value (past
 * that the rest stays literal). The result depends on the alert alone. */
#define REF_MIN   4
#define SCAN_STEP 4
#define MAX_CANDS 32
#define SCAN_BITS 10 /* 1024 slots for at most MAX_CANDS * SCAN_STEP entries */

struct cand {
    const char *s;
    uint32_t len;
    uint32_t label; /* index in the finished alert */
};

/* One thread (the event loop's), one alert at a time: kept across alerts so
 * that nothing is allocated. Direct-mapped: a window that lands on a slot
 * already taken replaces it (the earlier one is then not found: rare, and
 * only a lost saving; the result depends on the alert alone). A key of 0 is
 * a free slot: windows of values never hold a NUL byte, so no window is 0.
 * The table is split so that a lookup that finds nothing, the usual case,
 * reads only scan_key; scan_end() frees exactly the slots used. */
static struct cand cands[MAX_CANDS];
static uint32_t scan_key[1u << SCAN_BITS];
static uint16_t scan_what[1u << SCAN_BITS]; /* candidate << 8 | offset of the window */
static uint16_t scan_used[MAX_CANDS * SCAN_STEP];
static size_t ncands, nused;

static size_t scan_slot(uint32_t w)
{
    return (size_t)((w * UINT32_C(0x9e3779b1)) >> (32 - SCAN_BITS));
}

static void scan_end(void)
{
    for (size_t k = 0; k < nused; k++)
        scan_key[scan_used[k]] = 0;
    nused = ncands = 0;
}

/* Bytes of a reference to label `label`: the escape and the varint. */
static size_t ref_cost(uint32_t label)
{
    uint32_t x = label + 1;
    size_t n = 2;
    while (x >= 0x80) {
        x >>= 7;
        n++;
    }
    return n;
}

static void scan_add(const char *s, size_t len, uint32_t label)
{
    if (len < REF_MIN || len <= ref_cost(label) || ncands == MAX_CANDS || len > UINT32_MAX)
        return;
    struct cand *c = &cands[ncands];
    c->s = s;
    c->len = (uint32_t)len;
    c->label = label;
    for (size_t o = 0; o < SCAN_STEP && o + 4 <= len; o++) {
        uint32_t w;
        memcpy(&w, s + o, 4);
        size_t i = scan_slot(w);
        scan_key[i] = w;
        scan_what[i] = (uint16_t)(ncands << 8 | o);
        scan_used[nused++] = (uint16_t)i;
    }
    ncands++;
}

/* Appends the encoded v[0..len) to out and returns its size, or leaves out
 * as it was and returns 0 when encoding would not save a byte. A reference
 * replaces more bytes than it takes, so the encoding never needs more than
 * len + 2 bytes (the end mark). */
static size_t encode_value(struct nd_buf *out, const char *v, size_t len)
{
    if (nd_buf_reserve(out, len + 2) != ND_OK)
        return 0; /* past the builder's ceiling: keep the value literal */
    char *o0 = out->data + out->len, *o = o0;
    size_t lit = 0, q = 0;
    size_t budget = 2 * len + 64; /* bytes compared by failed verifications */
    while (q + 4 <= len) {
        uint32_t w;
        memcpy(&w, v + q, 4);
        size_t i = scan_slot(w);
        if (scan_key[i] != w) {
            q += SCAN_STEP; /* the usual case: no candidate has these 4 bytes */
            continue;
        }
        size_t off = scan_what[i] & 0xff, s = q - off;
        const struct cand *c = &cands[scan_what[i] >> 8];
        if (off > q - lit || c->len > len - s) {
            q += SCAN_STEP; /* it would start inside what is done, or end past the value */
            continue;
        }
        if (memcmp(v + s, c->s, c->len) != 0) {
            if (budget < c->len)
                break; /* a pathological value: keep the rest literal */
            budget -= c->len;
            q += SCAN_STEP;
            continue;
        }
        memcpy(o, v + lit, s - lit);
        o += s - lit;
        uint32_t x = c->label + 1;
        *o++ = 0;
        while (x >= 0x80) {
            *o++ = (char)(x | 0x80);
            x >>= 7;
        }
        *o++ = (char)x;
        lit = q = s + c->len;
    }
    if (o == o0)
        return 0; /* no reference */
    memcpy(o, v + lit, len - lit);
    o += len - lit;
    *o++ = 0;
    *o++ = 0;
    size_t n = (size_t)(o - o0);
    if (n >= len + 1)
        return 0;
    out->len += n;
    out->data[out->len] = '\0';
    return n;
}

/* Encodes the inline annotation values of the alert being finished into
 * b->coded (clen, voff of the pairs) when that saves bytes. Labels are seen
 * in their final order: labs with the cluster label `cl` at cl_at (or none
 * at SIZE_MAX). */
void nd__alert_encode_annotations(struct nd_alert_builder *b, const struct nd_alert_pair *labs,
                                  size_t nl, const struct nd_alert_pair *cl, size_t cl_at,
                                  struct nd_alert_pair *anns, size_t na)
{
    size_t i, k;
    for (i = 0; i < na; i++)
        if (anns[i].vh == ND_INTERN_NONE && anns[i].vlen > REF_MIN)
            break;
    if (i == na)
        return;
    size_t nlt = nl + (cl_at != SIZE_MAX);
    for (i = k = 0; i < nlt && ncands < MAX_CANDS; i++) {
        const struct nd_alert_pair *p = i == cl_at ? cl : &labs[k++];
        const char *v = p->vh != ND_INTERN_NONE ? nd_intern_str(p->vh) : b->strings.data + p->voff;
        scan_add(v, p->vlen, (uint32_t)i);
    }
    for (i = 0; i < na && ncands; i++) {
        struct nd_alert_pair *p = &anns[i];
        if (p->vh != ND_INTERN_NONE || p->vlen <= REF_MIN)
            continue;
        size_t off = b->coded.len;
        size_t n = encode_value(&b->coded, b->strings.data + p->voff, p->vlen);
        if (n && off <= UINT32_MAX && n <= UINT32_MAX) {
            p->voff = (uint32_t)off;
            p->clen = (uint32_t)n;
        }
    }
    scan_end();
}

/* Appends the value of the encoded annotation at p to out (nd_buf keeps the
 * NUL after it). */
void nd__alert_expand_append(const struct nd_alert *a, const char *p, struct nd_buf *out)
{
    struct nd__pieces it = {a, p, 1};
    const char *s;
    size_t n;
    (void)nd_buf_add(out, "", 0); /* NUL-terminated even if nothing follows */
    while (nd__pieces_next(&it, &s, &n))
        if (nd_buf_add(out, s, n) != ND_OK)
            break; /* a scratch with too small a limit: alert.h asks for SIZE_MAX / 2 */
}

const char *nd__alert_expand(const struct nd_alert *a, const char *p, struct nd_buf *out)
{
    out->len = 0;
    nd__alert_expand_append(a, p, out);
    return out->data;
}

/* Bytes stored for the inline string at p (with its NUL or end mark). */
size_t nd__alert_stored_len(const char *p, int coded)
{
    const char *s = p;
    if (!coded)
        return strlen(p) + 1;
    for (;;) {
        p += strlen(p) + 1;
        if (!*p)
            return (size_t)(p + 1 - s);
        while ((unsigned char)*p++ & 0x80)
            ;
    }
}
