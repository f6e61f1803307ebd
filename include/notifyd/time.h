/* time.h - instants as alert payloads carry them.
 *
 * An nd_time keeps the instant (Unix seconds + nanoseconds) and the UTC
 * offset the sender wrote, so that a timestamp is re-emitted as Go would:
 * RFC 3339 with the original offset and the fraction without trailing
 * zeros ("2024-05-01T10:00:00.123456789+08:00"). The zero time is Go's
 * 0001-01-01T00:00:00Z.
 */
#ifndef NOTIFYD_TIME_H
#define NOTIFYD_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ND_TIME_ZERO_SEC INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */
#define ND_TIME_MAXLEN   40                    /* formatted length incl. NUL */

struct nd_time {
    int64_t sec;    /* Unix seconds */
    int32_t nsec;   /* 0..999999999 */
    int32_t offset; /* sender's UTC offset in seconds (for formatting only) */
};

static inline struct nd_time nd_time_zero(void)
{
    struct nd_time t = {ND_TIME_ZERO_SEC, 0, 0};
    return t;
}
static inline bool nd_time_is_zero(const struct nd_time *t)
{
    return t->sec == ND_TIME_ZERO_SEC && t->nsec == 0;
}
/* Nanoseconds since the Unix epoch; saturates for far dates (year 1 fits). */
int64_t nd_time_unix_ns(const struct nd_time *t);
struct nd_time nd_time_from_unix_ns(int64_t ns); /* offset 0 */
/* <0, 0, >0 as instants compare; the offset does not matter. */
int nd_time_cmp(const struct nd_time *a, const struct nd_time *b);
/* Proleptic Gregorian calendar: days since 1970-01-01 -> year, month
 * (1-12), day (1-31); and whether a year is a leap year. Shared by the
 * RFC 3339 code here and the template layer's Go time formatting. */
void nd_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);
int nd_is_leap_year(int64_t year);
/* RFC 3339: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)"; 't'/'z' accepted,
 * any number of fraction digits (beyond 9 truncated). ND_OK or ND_EINVAL. */
int nd_time_parse_rfc3339(const char *s, size_t len, struct nd_time *out);
/* Go's RFC3339Nano form; returns the length written (no NUL counted). */
size_t nd_time_format_rfc3339(const struct nd_time *t, char out[ND_TIME_MAXLEN]);

#endif
