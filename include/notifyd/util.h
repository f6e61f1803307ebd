/* util.h - status codes, allocation that aborts on OOM, small string helpers.
 *
 * Every module returns an int status: ND_OK (0) or a negative ND_E* code.
 * Error detail goes into a caller-supplied buffer of ND_ERRLEN bytes.
 * Out of memory is not an error path: nd_x* print a message and abort().
 */
#ifndef NOTIFYD_UTIL_H
#define NOTIFYD_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#define ND_ERRLEN 256

enum {
    ND_OK = 0,
    ND_ERR = -1,     /* generic failure, detail in the error buffer */
    ND_EAGAIN = -2,  /* queued / not ready yet: the callback will be called later */
    ND_ENOMEM = -3,  /* never returned: OOM aborts; kept for completeness */
    ND_ETOOBIG = -4, /* a bounded buffer or a queue limit was hit */
    ND_EINVAL = -5,  /* bad input */
    ND_EFULL = -6,   /* queue over max_alerts / max_bytes: answer 503 */
};

#define ND_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ND_UNUSED(x)    ((void)(x))

void *nd_xmalloc(size_t n);
void *nd_xcalloc(size_t nmemb, size_t size);
void *nd_xrealloc(void *p, size_t n);
char *nd_xstrdup(const char *s);
char *nd_xstrndup(const char *s, size_t n);
/* Frees a heap string that held a credential, wiping it first. NULL is
 * fine. */
void nd_secret_free(char *s);

/* A list of heap strings, e.g. a config list value. */
struct nd_strlist {
    char **v;
    size_t n;
};
/* Appends the items of `s` split at commas and newlines (a config list may
 * go on over indented lines), blanks around items trimmed, empty items
 * skipped. */
void nd_strlist_split(struct nd_strlist *l, const char *s);
void nd_strlist_add(struct nd_strlist *l, const char *s, size_t len);
void nd_strlist_deinit(struct nd_strlist *l);

/* printf into a new heap string; the caller frees it. */
char *nd_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* snprintf into an error buffer of ND_ERRLEN bytes; returns `rc` so that
 * callers can write `return nd_seterr(err, ND_EINVAL, "bad %s", x);`. */
int nd_seterr(char *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Monotonic clock in milliseconds / nanoseconds, wall clock in nanoseconds. */
int64_t nd_now_mono_ms(void);
int64_t nd_now_mono_ns(void);
int64_t nd_now_wall_ns(void);

/* A wait in ns as the struct timeval libevent timers take: negative counts
 * as 0, and a fraction of a microsecond rounds up, so that a timer never
 * fires before the wait has passed. Any int64_t fits (time_t is 64-bit on
 * every platform we build for). */
struct timeval nd_ns_to_timeval(int64_t ns);

/* One step of the word-at-a-time hashes (string table, alert ID, group
 * key): folds the word w into the state h. Part of the alert ID: do not
 * change it. */
static inline uint64_t nd_hash_word(uint64_t h, uint64_t w)
{
    h = (h ^ w) * UINT64_C(0xff51afd7ed558ccd);
    return h ^ (h >> 29);
}

/* Final avalanche of a 64-bit hash (xor-shift, multiply, twice): every input
 * bit affects every output bit. Shared by the string table's hash and the
 * alert ID, which must stay stable across builds: do not change it. */
static inline uint64_t nd_hash_mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    return x;
}

#endif
