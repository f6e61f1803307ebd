/* alert_int.h - internals shared by the files of src/store that read alert
 * blocks: alert.c (building, reading), alert_codec.c (encoded annotation
 * values) and alert_hash.c (fingerprint, ID). Nothing outside src/store
 * includes it: readers use alert.h.
 */
#ifndef NOTIFYD_ALERT_INT_H
#define NOTIFYD_ALERT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/intern.h"

/* The references that follow the struct: name, value, for the labels then
 * the annotations. */
static inline const uint32_t *nd__alert_refs(const struct nd_alert *a)
{
    return (const uint32_t *)(const void *)(a + 1);
}

/* A value stored encoded (with back-references), inline or shared. */
static inline int nd__alert_ref_coded(uint32_t r)
{
    return (r & ND_ALERT_REF_CODED) != 0;
}

/* The encoded bytes of a coded reference: in the block or in the table. */
static inline const char *nd__alert_coded_bytes(const struct nd_alert *a, uint32_t r)
{
    return r & ND_ALERT_REF_INLINE ? (const char *)a + (r & ND_ALERT_REF_OFFSET)
                                   : nd_intern_str(r & ND_ALERT_REF_OFFSET);
}

/* The handle a reference holds a count on, or ND_INTERN_NONE for an inline
 * one. */
static inline uint32_t nd__alert_ref_handle(uint32_t r)
{
    return r & ND_ALERT_REF_INLINE ? ND_INTERN_NONE : r & ND_ALERT_REF_OFFSET;
}

/* A value as a sequence of pieces (literal runs and label values), so that
 * two values can be compared, or hashed, without expanding either. */
struct nd__pieces {
    const struct nd_alert *a;
    const char *p; /* the next piece, or NULL when plain and read */
    int coded;
};

void nd__pieces_init(struct nd__pieces *it, const struct nd_alert *a, uint32_t r);
/* The next non-empty piece into *s, *n; 0 at the end. */
int nd__pieces_next(struct nd__pieces *it, const char **s, size_t *n);

/* Encodes the inline annotation values of the alert being finished into
 * b->coded (clen, voff of the pairs) when that saves bytes. Labels are seen
 * in their final order: labs with the cluster label `cl` at cl_at (or none
 * at SIZE_MAX). */
void nd__alert_encode_annotations(struct nd_alert_builder *b, const struct nd_alert_pair *labs,
                                  size_t nl, const struct nd_alert_pair *cl, size_t cl_at,
                                  struct nd_alert_pair *anns, size_t na);
/* Appends the value of the encoded annotation at p to out (nd_buf keeps the
 * NUL after it). */
void nd__alert_expand_append(const struct nd_alert *a, const char *p, struct nd_buf *out);
/* The same into out from its start; returns out->data. */
const char *nd__alert_expand(const struct nd_alert *a, const char *p, struct nd_buf *out);
/* Bytes stored for the inline string at p (with its NUL or end mark). */
size_t nd__alert_stored_len(const char *p, int coded);

#endif
