/* alert_hash.c - the two hashes of an alert that leave the process:
 * Alertmanager's fingerprint (rendered in every webhook alert) and NM's
 * alert ID. Neither is stored in the block: both are computed when a
 * payload needs them (alert.h).
 */
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/intern.h"
#include "notifyd/util.h"
#include "alert_int.h"

#define FNV_OFFSET UINT64_C(14695981039346656037)
#define FNV_PRIME  UINT64_C(1099511628211)

/* ---- fingerprint (Alertmanager's) ---- */

/* FNV-1a over a NUL-terminated string, then the 0xff separator that
 * Alertmanager puts after every name and value. */
static uint64_t fnv_str_sep(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= FNV_PRIME;
    }
    h ^= 0xff;
    return h * FNV_PRIME;
}

uint64_t nd_fingerprint(const struct nd_kv *sorted, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++)
        h = fnv_str_sep(fnv_str_sep(h, sorted[i].name), sorted[i].value);
    return h;
}

uint64_t nd_alert_fingerprint(const struct nd_alert *a)
{
    const uint32_t *r = nd__alert_refs(a);
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < a->nlabels; i++)
        h = fnv_str_sep(fnv_str_sep(h, nd_intern_str(r[2 * i])), nd_alert_str_(a, r[2 * i + 1]));
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

/* ---- ID ---- */

/* NM's alert ID is a hash of the whole alert, printed in decimal. Ours
 * covers what makes the alert distinct: labels, annotations, status and both
 * instants. It was FNV-1a (byte-serial, ~4 cycles a byte, and 16 stored
 * bytes); now it reads 8 bytes a step and is computed when needed. No seed:
 * IDs must not change across restarts, and words are read little-endian so
 * that they do not change across machines either. */
#define ID_K1 UINT64_C(0x9e3779b97f4a7c15)
#define ID_K3 UINT64_C(0xc4ceb9fe1a85ec53)

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

/* The length goes in first, so that ("ab", "c") and ("a", "bc") differ. */
static uint64_t id_str(uint64_t h, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), len = n;
    h = nd_hash_word(h, len * ID_K1);
    while (n >= 8) {
        h = nd_hash_word(h, load_le64(p));
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w;
        if (len >= 8) {
            /* the last 8 bytes, shifted so that only the unread ones remain */
            w = load_le64(p + n - 8) >> ((8 - n) * 8);
        } else {
            w = 0;
            for (size_t i = 0; i < n; i++)
                w |= (uint64_t)p[i] << (8 * i);
        }
        h = nd_hash_word(h, w * ID_K3);
    }
    return h;
}

uint64_t nd_alert_id_from(const struct nd_alert *a, const char *const *values)
{
    const uint32_t *r = nd__alert_refs(a);
    uint64_t h = nd_hash_word(ID_K1, (uint64_t)a->nlabels | (uint64_t)a->nannotations << 16 |
                                         (uint64_t)a->status << 32);
    for (size_t i = 0; i < a->nlabels; i++) {
        h = id_str(h, nd_intern_str(r[2 * i]));
        h = id_str(h, nd_alert_str_(a, r[2 * i + 1]));
    }
    /* The values as read: the ID must not depend on how a value is stored. */
    for (size_t i = 0; i < a->nannotations; i++) {
        h = id_str(h, nd_alert_annotation_name(a, i));
        h = id_str(h, values[i]);
    }
    struct nd_time s = nd_alert_starts_at(a), e = nd_alert_ends_at(a);
    h = nd_hash_word(h, (uint64_t)s.sec);
    h = nd_hash_word(h, (uint64_t)s.nsec);
    h = nd_hash_word(h, (uint64_t)e.sec);
    h = nd_hash_word(h, (uint64_t)e.nsec);
    return nd_hash_mix64(h);
}

uint64_t nd_alert_id(const struct nd_alert *a)
{
    /* Kept across calls (one thread): fresh ones grew by reallocs for every
     * alert of every rendering. */
    static struct nd_buf scratch = {NULL, 0, 0, SIZE_MAX / 2};
    static const char **values;
    static size_t cap;
    if (a->nannotations > cap) {
        cap = a->nannotations;
        values = nd_xrealloc(values, cap * sizeof *values);
    }
    nd_alert_annotation_values(a, &scratch, values);
    return nd_alert_id_from(a, values);
}
