/* intern.h - shared, reference-counted strings (label names, repeated values).
 *
 * Alerts of one rule repeat the same label names and most of their values
 * (alertname, severity, namespace, job, ...). Each distinct string is kept
 * once, NUL-terminated, with a reference count, and named by a 32-bit
 * handle: alert blocks store handles, not pointers (alert.h), which halves
 * what a label costs there. A handle is stable while the string lives and is
 * reused for another string after its last reference goes. The table is
 * process-wide, like the event loop it serves: one thread only. It grows and
 * shrinks with its live entries and frees itself when the last one goes, so
 * its memory follows the alerts held.
 *
 * The hash is keyed by a per-process random seed so that crafted label sets
 * cannot line up on one probe chain.
 */
#ifndef NOTIFYD_INTERN_H
#define NOTIFYD_INTERN_H

#include <stddef.h>
#include <stdint.h>

/* The handle of "": static, never counted, valid even with an empty table. */
#define ND_INTERN_EMPTY 0u
/* Not a handle: what find/fast return when the string is absent. */
#define ND_INTERN_NONE UINT32_MAX
/* Handles stay at or below this, so that users may tag the top two bits
 * (alert.h does). */
#define ND_INTERN_MAX_HANDLE UINT32_C(0x3fffffff)

/* Hash of bytes, as the table uses it; pass it to the functions below. */
uint64_t nd_intern_hash(const void *s, size_t len);
/* The same, and *has_nul = whether s holds a NUL byte (for free, in the
 * same pass). */
uint64_t nd_intern_hash_checked(const void *s, size_t len, int *has_nul);
/* The handle of the shared copy of s[0..len), with one more reference
 * (created with one reference when absent). s must not contain NUL. len 0
 * gives ND_INTERN_EMPTY. */
uint32_t nd_intern(const char *s, size_t len, uint64_t hash);
/* The same for bytes that may hold NUL (alert.c's shared encoded annotation
 * values, which it reads by their own end mark: nd_intern_str() is then not
 * a C string of them). Strings are compared by length and bytes, so such an
 * entry never equals a string without NUL, and it never enters the cache of
 * nd_intern_fast(), whose hits are thus NUL-free. */
uint32_t nd_intern_raw(const char *s, size_t len, uint64_t hash);
/* Like nd_intern_raw, but ND_INTERN_NONE (and nothing changes) when absent. */
uint32_t nd_intern_find_raw(const char *s, size_t len, uint64_t hash);
/* Like nd_intern, but ND_INTERN_NONE (and nothing changes) when absent. */
uint32_t nd_intern_find(const char *s, size_t len, uint64_t hash);
/* A cheap first try for strings that repeat: the handle with one more
 * reference when a small cache knows it, else ND_INTERN_NONE (then use the
 * above). */
uint32_t nd_intern_fast(const char *s, size_t len);
/* h must be a live handle from one of the above. */
void nd_intern_ref(uint32_t h);
/* Drops one reference; the last one frees the entry and the handle. */
void nd_intern_unref(uint32_t h);
uint32_t nd_intern_refs(uint32_t h); /* 0 for ND_INTERN_EMPTY */
size_t nd_intern_len(uint32_t h);
/* The low 32 bits of nd_intern_hash() of the string of h, kept in its entry:
 * equal to (uint32_t)nd_intern_hash(s, len) for the same bytes. */
uint32_t nd_intern_hash32(uint32_t h);
/* Live entries, slots of the table (0 when empty), bytes of both and of the
 * handle array. */
size_t nd_intern_count(void);
size_t nd_intern_capacity(void);
size_t nd_intern_bytes(void);

/* The handle -> string array, owned by intern.c; read it only through
 * nd_intern_str(). Inline because every label read goes through it. */
extern const char *const *nd_intern_strs_;

/* The NUL-terminated string of a live handle; valid while it has a
 * reference. */
static inline const char *nd_intern_str(uint32_t h)
{
    return nd_intern_strs_[h];
}

/* glibc's malloc chunk for a request of n bytes (header and rounding): what
 * an allocation really costs, for honest accounting. */
static inline size_t nd_malloc_chunk(size_t n)
{
    size_t c = (n + 8 + 15) & ~(size_t)15;
    return c < 32 ? 32 : c;
}

#endif
