/* alert.h - one alert, stored compactly, shared by reference.
 *
 * An alert is one heap block: the struct, its label and annotation
 * references and its own strings (no malloc per label):
 *
 *   struct nd_alert | uint32_t refs[2 * (nlabels + nannotations)] | inline strings
 *
 * Each label or annotation is two 32-bit string references, name then
 * value. A reference is either the handle of a shared string (intern.h:
 * label names always, values that repeat across alerts) or, with the top bit
 * (ND_ALERT_REF_INLINE), the offset of a string inside this block (values
 * seen once). Nothing outside alert.c reads references: the accessors below
 * give C strings (see docs/memory.md). Labels and annotations are sorted by
 * name and unique.
 *
 * Annotation values are read only through nd_alert_annotation_value() (or
 * nd_alert_annotation_at(), nd_alert_annotation_values(), or compared with
 * nd_alert_annotation_value_eq()), which may expand the value into a
 * caller's scratch buffer: an annotation value that contains the alert's own
 * label values (Prometheus annotations are templated from labels) is stored
 * as literal runs and back-references to those labels (ND_ALERT_REF_CODED),
 * in the block or, when those bytes repeat across alerts (one rule's
 * template), shared through the string table, so that no C string of it
 * exists. Label names and values, annotation names
 * and the generatorURL are always C strings that live as long as the alert.
 *
 * a->size, what the queue accounts, is the alert's logical size: the struct,
 * the reference array and every string with its NUL, as if nothing were
 * shared or encoded (the size of this layout without interning, annotation
 * values counted expanded). It depends on the alert alone, not on what else
 * is held, so a request is admitted or refused the same way whatever the
 * history. Once names and common values are shared and annotations encoded
 * it is above the real heap cost (nd_alert_block_size(); docs/memory.md has
 * both). Alerts are
 * immutable once built and reference-counted: a batch, and each notification
 * that carries the alert, hold one reference. When the last one goes, the
 * block is freed and its size is given back to the queue that held it (see
 * queue.h), which is how "alerts held" covers both queued and not-yet-delivered
 * alerts.
 */
#ifndef NOTIFYD_ALERT_H
#define NOTIFYD_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "notifyd/buf.h"
#include "notifyd/intern.h"
#include "notifyd/time.h"

struct nd_queue;

enum nd_alert_status { ND_ALERT_FIRING = 0, ND_ALERT_RESOLVED = 1 };

/* A label or annotation as readers see it (by value, from the accessors
 * below; also the element of a notification's arrays). */
struct nd_kv {
    const char *name;  /* NUL-terminated; labels never contain NUL bytes */
    const char *value; /* NUL-terminated */
};

/* The fixed part of the block: 56 bytes. Times are packed (exact for
 * nanoseconds in [0, 1e9) and offsets within +-24 h, which is all RFC 3339
 * can say); read them, the strings, the fingerprint and the ID through the
 * functions below, never through the fields marked private. */
struct nd_alert {
    uint32_t refs;          /* owners; the block is freed at 0 */
    uint32_t size;          /* logical bytes: what the queue accounts (above) */
    uint16_t nlabels;       /* >= 1 */
    uint16_t nannotations;  /* may be 0 */
    uint32_t url_ref;       /* private: generatorURL reference */
    struct nd_queue *queue; /* who accounts for this block, or NULL */
    int64_t t_sec[2];       /* private: startsAt, endsAt Unix seconds */
    uint32_t t_nsec[2];     /* private: nanoseconds | low 2 bits of the biased offset << 30 */
    uint16_t t_off[2];      /* private: (offset + 86400) >> 2 */
    uint8_t status;         /* enum nd_alert_status */
};

/* A reference with this bit is an offset into the alert's own block; without
 * it, an intern handle (intern.h keeps handles below the two top bits). */
#define ND_ALERT_REF_INLINE UINT32_C(0x80000000)
/* An encoded annotation value (literal runs and label back-references, see
 * alert_codec.c), not a C string: with ND_ALERT_REF_INLINE, its bytes are in
 * the block at the offset; without, they are the interned string of the
 * handle r & ND_ALERT_REF_OFFSET, shared by every alert whose value encodes
 * to the same bytes (the alerts of one rule, whose labels have the same
 * names). Only annotation values are ever encoded. */
#define ND_ALERT_REF_CODED UINT32_C(0x40000000)
/* The offset of an inline reference (blocks stay below 1 GiB), or the handle
 * of a shared one (intern.h keeps handles within these bits). */
#define ND_ALERT_REF_OFFSET UINT32_C(0x3fffffff)

/* Limits of one alert, enforced by the builder (ND_ETOOBIG). */
#define ND_ALERT_MAX_PAIRS 65535u

/* A label or annotation while it is being built: the name is interned
 * (intern.h), the value is interned when it repeats, else kept in the
 * builder's strings until finish() copies it into the block. */
struct nd_alert_pair {
    const char *name; /* the interned name's string, for sorting */
    uint64_t order;   /* its first 8 bytes big-endian, zero-padded: most compares end here */
    uint32_t nh;      /* the name's handle; the builder holds a reference */
    uint32_t vh;      /* the value's handle (a reference held), or ND_INTERN_NONE: at voff */
    uint32_t nlen, vlen;
    uint32_t voff; /* offset in strings, when the value is not interned; in coded when clen */
    uint32_t clen; /* annotations: bytes of the encoded value in the builder's coded, or 0;
                    * with vh set, vh is the handle of those bytes (shared) */
};

/* Builds alerts one at a time; reused across the alerts of a request. */
struct nd_alert_builder {
    struct nd_buf strings; /* values not interned, each NUL-terminated */
    struct nd_buf lab;     /* struct nd_alert_pair, one per label */
    struct nd_buf ann;     /* struct nd_alert_pair, one per annotation */
    struct nd_buf coded;   /* encoded annotation values of the alert being finished */
    size_t limit;          /* bound of the alert's strings */
    size_t used;           /* bytes of names and values so far, NULs included */
    uint32_t url_h;        /* interned, or ND_INTERN_NONE: at url_off in strings (when url_len) */
    uint32_t url_off, url_len;
    int sorted; /* lab is sorted and deduplicated (nd_alert_builder_nlabels) */
    struct nd_time starts_at, ends_at;
    int status; /* -1 = not given: derived from ends_at */
};

/* `limit` bounds the strings of one alert (use the request body limit). */
void nd_alert_builder_init(struct nd_alert_builder *b, size_t limit);
void nd_alert_builder_deinit(struct nd_alert_builder *b);
void nd_alert_builder_reset(struct nd_alert_builder *b);
/* Copies or interns the strings. A label name given twice keeps the last value (as Go's
 * JSON decoding into a map does). ND_EINVAL if a string contains a NUL byte,
 * ND_ETOOBIG past the limits. */
int nd_alert_builder_add_label(struct nd_alert_builder *b, const char *name, size_t nlen,
                               const char *value, size_t vlen);
int nd_alert_builder_add_annotation(struct nd_alert_builder *b, const char *name, size_t nlen,
                                    const char *value, size_t vlen);
int nd_alert_builder_set_generator_url(struct nd_alert_builder *b, const char *s, size_t len);
void nd_alert_builder_set_status(struct nd_alert_builder *b, enum nd_alert_status st);
/* Labels the alert will have (distinct names, non-empty values), cluster not
 * counted. Sorts the labels in place, which finish() then reuses. */
size_t nd_alert_builder_nlabels(struct nd_alert_builder *b);
/* Finishes one alert and resets the builder. Labels with an empty value are
 * dropped (Prometheus semantics: an empty label is an absent one). The label
 * `cluster=<cluster>` is added when the alert has none (NM). Without an
 * explicit status, the alert is resolved when ends_at is set and <= now_ns.
 * Returns a new alert with refs = 1, or NULL with `err` set when the alert
 * has no label left. */
struct nd_alert *nd_alert_builder_finish(struct nd_alert_builder *b, const char *cluster,
                                         int64_t now_ns, char *err);
/* Sets the times; used by the builder's caller while parsing. */
static inline void nd_alert_builder_set_times(struct nd_alert_builder *b,
                                              const struct nd_time *starts,
                                              const struct nd_time *ends)
{
    if (starts)
        b->starts_at = *starts;
    if (ends)
        b->ends_at = *ends;
}

static inline void nd_alert_ref(struct nd_alert *a)
{
    a->refs++;
}
/* Drops one reference; the last one frees the block and releases its size
 * from a->queue. */
void nd_alert_unref(struct nd_alert *a);

/* A reference that is not ND_ALERT_REF_CODED as a C string. */
static inline const char *nd_alert_str_(const struct nd_alert *a, uint32_t r)
{
    return r & ND_ALERT_REF_INLINE ? (const char *)a + (r & ND_ALERT_REF_OFFSET) : nd_intern_str(r);
}

/* Label i (< a->nlabels), sorted by name. Both strings live as long as the
 * alert. */
static inline struct nd_kv nd_alert_label_at(const struct nd_alert *a, size_t i)
{
    const uint32_t *r = (const uint32_t *)(const void *)(a + 1) + 2 * i;
    struct nd_kv kv = {nd_intern_str(r[0]), nd_alert_str_(a, r[1])};
    return kv;
}
/* Value of a label, or NULL. Binary search. */
const char *nd_alert_label(const struct nd_alert *a, const char *name);

/* The same by reference, for hot loops (the aggregator): names are interned,
 * so a label is found by its name's handle without a string compare, and
 * two interned values are equal exactly when their handles are. */
static inline uint32_t nd_alert_label_name_h(const struct nd_alert *a, size_t i)
{
    return ((const uint32_t *)(const void *)(a + 1))[2 * i];
}
/* Index of the label whose name has handle `name` (a live handle: the caller
 * holds a reference), or SIZE_MAX. */
size_t nd_alert_label_find_h(const struct nd_alert *a, uint32_t name);
/* Whether label i of a and label j of b have equal values: equal references
 * are, two different handles are not, anything inline takes a strcmp. */
int nd_alert_label_value_eq(const struct nd_alert *a, size_t i, const struct nd_alert *b, size_t j);
/* A hash of the value of label i that is the same for equal values however
 * they are stored: the string table's seeded hash (intern.h), so it differs
 * between processes and must not be shown or stored. */
uint32_t nd_alert_label_value_hash(const struct nd_alert *a, size_t i);

/* Name of annotation i (< a->nannotations); lives as long as the alert. */
const char *nd_alert_annotation_name(const struct nd_alert *a, size_t i);
/* Value of annotation i. The pointer is valid until `scratch` is next
 * changed (or the alert freed): the value may be expanded into scratch, which
 * is then overwritten from its start; give it a limit of SIZE_MAX / 2. Two
 * values needed at once take two scratch buffers. */
const char *nd_alert_annotation_value(const struct nd_alert *a, size_t i, struct nd_buf *scratch);
/* Both, as one view (the value as above). */
struct nd_kv nd_alert_annotation_at(const struct nd_alert *a, size_t i, struct nd_buf *scratch);
/* Every annotation value at once, for a reader that needs them all and the
 * ID (payloads, template data): values[i] (a->nannotations entries) points
 * at value i, valid until scratch is next changed; encoded values are
 * expanded into scratch one after the other, the others are not copied. */
void nd_alert_annotation_values(const struct nd_alert *a, struct nd_buf *scratch,
                                const char **values);
/* Index of the annotation with this name, or SIZE_MAX. Binary search. */
size_t nd_alert_annotation_find(const struct nd_alert *a, const char *name);
/* Value of an annotation (as nd_alert_annotation_value), or NULL. */
const char *nd_alert_annotation(const struct nd_alert *a, const char *name, struct nd_buf *scratch);
/* Whether annotation i of a and annotation j of b have equal values (as
 * read). Equal references are and two different handles are not; otherwise
 * the stored pieces are compared up to the first difference, without
 * expanding either value. */
int nd_alert_annotation_value_eq(const struct nd_alert *a, size_t i, const struct nd_alert *b,
                                 size_t j);
/* Whether annotation i's value is "" (stored as the empty handle: no need to
 * read it). */
static inline int nd_alert_annotation_empty(const struct nd_alert *a, size_t i)
{
    return ((const uint32_t *)(const void *)(a + 1))[2 * ((size_t)a->nlabels + i) + 1] ==
           ND_INTERN_EMPTY;
}

/* "" when absent; lives as long as the alert. */
const char *nd_alert_generator_url(const struct nd_alert *a);
/* Bytes of the alert's block (struct, references, inline strings as
 * stored), without malloc's overhead: what the alert really costs on top of
 * the shared strings. Walks the references; for tests and figures. */
size_t nd_alert_block_size(const struct nd_alert *a);
/* Zero time when absent. */
struct nd_time nd_alert_starts_at(const struct nd_alert *a);
struct nd_time nd_alert_ends_at(const struct nd_alert *a);

/* Alertmanager's fingerprint: FNV-1a 64 over the sorted labels, as
 * nd_fingerprint. Computed on each call (a few hundred bytes of FNV): the
 * block does not keep it. */
uint64_t nd_alert_fingerprint(const struct nd_alert *a);
/* NM's alert ID: a hash of labels, annotations, status and both instants,
 * computed on each call. Deterministic (no per-process seed): the same alert
 * has the same ID in every process and after restarts. */
uint64_t nd_alert_id(const struct nd_alert *a);
/* The same from the values nd_alert_annotation_values() gave, so that a
 * renderer that writes them too reads them once. */
uint64_t nd_alert_id_from(const struct nd_alert *a, const char *const *values);

/* Alertmanager's fingerprint of a sorted label set. */
uint64_t nd_fingerprint(const struct nd_kv *sorted, size_t n);
/* "9cb550312d649b38": 16 lowercase hex digits + NUL. */
void nd_fingerprint_format(uint64_t fp, char out[17]);
const char *nd_alert_status_str(enum nd_alert_status st); /* "firing" | "resolved" */

#endif
