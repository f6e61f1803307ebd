/* intern.h - shared, reference-counted strings (label names, repeated values).
 *
 * Alerts of one rule repeat the same label names and most of their values
 * (alertname, severity, namespace, job, ...). Each distinct string is kept
 * once, NUL-terminated, with a reference count; alert blocks point at it
 * (alert.h). The table is process-wide, like the event loop it serves: one
 * thread only. It grows and shrinks with its live entries and frees itself
 * when the last one goes, so its memory follows the alerts held.
 *
 * The hash is keyed by a per-process random seed so that crafted label sets
 * cannot line up on one probe chain.
 */
#ifndef NOTIFYD_INTERN_H
#define NOTIFYD_INTERN_H

#include <stddef.h>
#include <stdint.h>

/* Hash of bytes, as the table uses it; pass it to the functions below. */
uint64_t nd_intern_hash(const void *s, size_t len);
/* The same, and *has_nul = whether s holds a NUL byte (for free, in the
 * same pass). */
uint64_t nd_intern_hash_checked(const void *s, size_t len, int *has_nul);
/* The shared copy of s[0..len), with one more reference (created with one
 * reference when absent). s must not contain NUL. len 0 gives a static ""
 * that is never counted. */
const char *nd_intern(const char *s, size_t len, uint64_t hash);
/* Like nd_intern, but NULL (and nothing changes) when the string is absent. */
const char *nd_intern_find(const char *s, size_t len, uint64_t hash);
/* A cheap first try for strings that repeat: the shared copy with one more
 * reference when a small cache knows it, else NULL (then use the above). */
const char *nd_intern_fast(const char *s, size_t len);
/* p must come from one of the above. */
void nd_intern_ref(const char *p);
/* Drops one reference; the last one frees the entry. */
void nd_intern_unref(const char *p);
uint32_t nd_intern_refs(const char *p); /* 0 for the static "" */
size_t nd_intern_len(const char *p);
/* Live entries, slots of the table (0 when empty), bytes of both. */
size_t nd_intern_count(void);
size_t nd_intern_capacity(void);
size_t nd_intern_bytes(void);

/* glibc's malloc chunk for a request of n bytes (header and rounding): what
 * an allocation really costs, for honest accounting. */
static inline size_t nd_malloc_chunk(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

#endif
