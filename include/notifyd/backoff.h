/* backoff.h - the retry schedule and Retry-After, as pure functions.
 *
 * Nothing here touches the clock or a global random source: the caller
 * passes "now" and the random draw, so that the unit tests can check exact
 * values.
 */
#ifndef NOTIFYD_BACKOFF_H
#define NOTIFYD_BACKOFF_H

#include <stdint.h>

struct nd_backoff {
    int64_t initial_ns; /* delay after the first failed attempt */
    double factor;      /* growth per attempt, >= 1 */
    int64_t max_ns;     /* cap of one delay, applied after the jitter */
    double jitter;      /* 0..1: the delay is spread uniformly over +-jitter */
};

/* A draw in [0, 1). NULL means "no randomness" (0.5, i.e. the middle). */
typedef double nd_backoff_rand_fn(void *ud);

/* Delay before attempt `failed + 1`, after `failed` (>= 1) failed attempts:
 * base = min(initial * factor^(failed-1), max), then
 * min(base * (1 + jitter * (2r - 1)), max), never negative. Saturates instead of overflowing for
 * large `failed` and for a max_ns up to INT64_MAX. */
int64_t nd_backoff_delay(const struct nd_backoff *b, uint32_t failed, nd_backoff_rand_fn *rnd,
                         void *ud);

/* The default random source (random(3)-free: a xorshift seeded from the
 * clock once). `ud` is ignored. */
double nd_backoff_rand(void *ud);

/* Retry-After (RFC 9110 10.2.3): delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", via curl_getdate). A date in the past
 * gives 0; a delay past INT64_MAX ns (about 292 years) gives INT64_MAX.
 * Leading/trailing blanks are ignored. ND_OK with *delay_ns set, or
 * ND_EINVAL for anything else, including delta-seconds past 2^64-1 (then
 * *delay_ns is untouched). */
int nd_retry_after_parse(const char *value, int64_t now_wall_ns, int64_t *delay_ns);

#endif
