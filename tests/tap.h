/* tap.h - a tiny TAP harness for the unit tests (meson protocol 'tap').
 *
 *   ok(cond, "name %d", i);   is_int(got, want, "name");   is_str(got, want, "name");
 *   return done_testing();
 *
 * Each check prints "ok N - name" or "not ok N - name" with the values on a
 * diagnostic line. done_testing() prints the plan "1..N" and returns the exit
 * status (1 if anything failed).
 */
#ifndef NOTIFYD_TESTS_TAP_H
#define NOTIFYD_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n_ = 0;
static int tap_failed_ = 0;

__attribute__((format(printf, 2, 3))) static int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_n_++;
    if (!cond)
        tap_failed_++;
    printf("%sok %d - ", cond ? "" : "not ", tap_n_);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    return cond;
}

#define is_int(got, want, ...)                                                                     \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (!ok(g_ == w_, __VA_ARGS__))                                                            \
            printf("# got %lld, want %lld\n", g_, w_);                                             \
    } while (0)

#define is_uint(got, want, ...)                                                                    \
    do {                                                                                           \
        unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want);        \
        if (!ok(g_ == w_, __VA_ARGS__))                                                            \
            printf("# got %llu, want %llu\n", g_, w_);                                             \
    } while (0)

#define is_str(got, want, ...)                                                                     \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (!ok(g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_, __VA_ARGS__))                           \
            printf("# got  \"%s\"\n# want \"%s\"\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)");      \
    } while (0)

/* The haystack contains the needle. */
#define has_str(hay, needle, ...)                                                                  \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!ok(h_ && strstr(h_, n_) != NULL, __VA_ARGS__))                                        \
            printf("# \"%s\"\n# does not contain \"%s\"\n", h_ ? h_ : "(null)", n_);               \
    } while (0)

static inline int done_testing(void)
{
    printf("1..%d\n", tap_n_);
    if (tap_failed_)
        printf("# %d of %d failed\n", tap_failed_, tap_n_);
    return tap_failed_ ? 1 : 0;
}

#endif
