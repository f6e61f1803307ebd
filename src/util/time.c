/* time.c - RFC 3339 instants that remember the sender's offset.
 *
 * Calendar arithmetic is done here (proleptic Gregorian, days from
 * 1970-01-01) rather than with timegm()/gmtime_r(), which depend on the C
 * library's time_t range and on the TZ environment, and cannot represent
 * Go's zero time on every platform.
 */
#include "notifyd/time.h"

#include <stdio.h>
#include <string.h>

#include "notifyd/util.h"

#define NS_PER_SEC  INT64_C(1000000000)
#define SEC_PER_DAY INT64_C(86400)

/* Days since 1970-01-01 of a proleptic Gregorian date. Eras of 400 years
 * (146097 days) make the leap rules a matter of integer division; March is
 * taken as the first month so that the leap day is the last day of a year. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void nd_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

int nd_is_leap_year(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && nd_is_leap_year(y) ? 29 : dim[m - 1];
}

int64_t nd_time_unix_ns(const struct nd_time *t)
{
    if (t->sec > INT64_MAX / NS_PER_SEC - 1)
        return INT64_MAX;
    if (t->sec < INT64_MIN / NS_PER_SEC + 1)
        return INT64_MIN;
    return t->sec * NS_PER_SEC + t->nsec;
}

struct nd_time nd_time_from_unix_ns(int64_t ns)
{
    struct nd_time t;
    t.sec = ns / NS_PER_SEC;
    int64_t rem = ns % NS_PER_SEC;
    if (rem < 0) {
        rem += NS_PER_SEC;
        t.sec--;
    }
    t.nsec = (int32_t)rem;
    t.offset = 0;
    return t;
}

int nd_time_cmp(const struct nd_time *a, const struct nd_time *b)
{
    if (a->sec != b->sec)
        return a->sec < b->sec ? -1 : 1;
    if (a->nsec != b->nsec)
        return a->nsec < b->nsec ? -1 : 1;
    return 0;
}

/* Reads exactly n decimal digits; -1 when any is not a digit. */
static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int nd_time_parse_rfc3339(const char *s, size_t len, struct nd_time *out)
{
    /* The fixed part "YYYY-MM-DDTHH:MM:SS" is 19 bytes, the shortest zone 1. */
    if (len < 20)
        return ND_EINVAL;
    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
        s[16] != ':')
        return ND_EINVAL;
    int year = digits(s, 4), mon = digits(s + 5, 2), day = digits(s + 8, 2);
    int hour = digits(s + 11, 2), min = digits(s + 14, 2), sec = digits(s + 17, 2);
    if (year < 0 || mon < 1 || mon > 12 || day < 1 || hour < 0 || hour > 23 || min < 0 ||
        min > 59 || sec < 0 || sec > 59)
        return ND_EINVAL;
    if ((unsigned)day > days_in_month(year, (unsigned)mon))
        return ND_EINVAL;

    size_t i = 19;
    int32_t nsec = 0;
    if (s[i] == '.') {
        size_t start = ++i;
        int32_t scale = 100000000;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            /* Digits past the ninth are below a nanosecond: dropped like Go does. */
            nsec += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return ND_EINVAL;
    }
    if (i >= len)
        return ND_EINVAL;

    int32_t offset = 0;
    if (s[i] == 'Z' || s[i] == 'z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        if (len - i < 6 || s[i + 3] != ':')
            return ND_EINVAL;
        int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
        if (oh < 0 || om < 0 || oh > 23 || om > 59)
            return ND_EINVAL;
        offset = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return ND_EINVAL;
    }
    if (i != len)
        return ND_EINVAL;

    int64_t days = days_from_civil(year, (unsigned)mon, (unsigned)day);
    out->sec = days * SEC_PER_DAY + hour * 3600 + min * 60 + sec - offset;
    out->nsec = nsec;
    out->offset = offset;
    return ND_OK;
}

size_t nd_time_format_rfc3339(const struct nd_time *t, char out[ND_TIME_MAXLEN])
{
    /* The wall clock the sender saw: the instant shifted by its offset. */
    int64_t local = t->sec + t->offset;
    int64_t days = local / SEC_PER_DAY, rem = local % SEC_PER_DAY;
    if (rem < 0) {
        rem += SEC_PER_DAY;
        days--;
    }
    int64_t year;
    unsigned mon, day;
    nd_civil_from_days(days, &year, &mon, &day);

    char frac[11] = "";
    if (t->nsec > 0) {
        int32_t ns = t->nsec;
        int width = 9;
        while (ns % 10 == 0) {
            ns /= 10;
            width--;
        }
        snprintf(frac, sizeof frac, ".%0*d", width, (int)ns);
    }

    char zone[8] = "Z";
    if (t->offset != 0) {
        int32_t off = t->offset < 0 ? -t->offset : t->offset;
        snprintf(zone, sizeof zone, "%c%02d:%02d", t->offset < 0 ? '-' : '+',
                 (int)(off / 3600 % 100), (int)(off / 60 % 60));
    }

    int n =
        snprintf(out, ND_TIME_MAXLEN, "%04lld-%02u-%02uT%02d:%02d:%02d%s%s", (long long)year, mon,
                 day, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), frac, zone);
    if (n < 0)
        n = 0;
    return (size_t)n < ND_TIME_MAXLEN ? (size_t)n : ND_TIME_MAXLEN - 1;
}
