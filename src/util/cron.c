/* cron.c - see include/notifyd/cron.h.
 *
 * The search walks civil time (year, month, day, hour, minute) in the
 * schedule's zone field by field, as robfig/cron does: a field that does
 * not match advances to its next value and resets the smaller ones. Civil
 * arithmetic is zone-free (days from the civil date); only the start time
 * and the result are converted between an instant and the zone's civil
 * time, with localtime_r/mktime under the zone's TZ (the daemon has one
 * thread; the previous TZ is put back).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notifyd/cron.h"
#include "notifyd/parse.h"

#define STAR (UINT64_C(1) << 63)

enum field { F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, NFIELDS };

static const struct {
    const char *name;
    unsigned min, max;
} bounds[NFIELDS] = {
    {"minute", 0, 59}, {"hour", 0, 23},       {"day of month", 1, 31},
    {"month", 1, 12},  {"day of week", 0, 6},
};

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                     "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const weekdays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct nd_cron {
    uint64_t bits[NFIELDS];
    int64_t every_s; /* > 0: @every */
    char *zone;      /* NULL = the process's local zone */
};

/* ---- civil time without zones ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's algorithm: days since 1970-01-01. */
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

struct civil {
    int64_t year;
    unsigned mon, mday, hour, min; /* mon 1-12 */
};

static unsigned weekday(const struct civil *c)
{
    int64_t d = days_from_civil(c->year, c->mon, c->mday);
    return (unsigned)(((d % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
}

/* ---- zones ---- */

static bool zone_ok(const char *z)
{
    char path[512];

    if (strcmp(z, "UTC") == 0 || strcmp(z, "Local") == 0)
        return true;
    if (!*z || z[0] == '/' || strstr(z, "..") || strlen(z) > 200)
        return false;
    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", z);
    return access(path, R_OK) == 0;
}

struct tzsave {
    char *old;
    bool had;
    bool switched;
};

static void tz_enter(const char *zone, struct tzsave *s)
{
    const char *cur = getenv("TZ");

    s->switched = zone && strcmp(zone, "Local") != 0;
    if (!s->switched)
        return;
    s->had = cur != NULL;
    s->old = cur ? nd_xstrdup(cur) : NULL;
    setenv("TZ", strcmp(zone, "UTC") == 0 ? "UTC0" : zone, 1);
    tzset();
}

static void tz_leave(struct tzsave *s)
{
    if (!s->switched)
        return;
    if (s->had)
        setenv("TZ", s->old, 1);
    else
        unsetenv("TZ");
    free(s->old);
    tzset();
}

/* ---- parsing ---- */

static int name_value(const char *s, size_t n, enum field f, unsigned *out)
{
    const char *const *names = f == F_MON ? months : f == F_DOW ? weekdays : NULL;
    size_t count = f == F_MON ? 12 : 7;
    size_t i;

    if (n == 0)
        return ND_EINVAL;
    if (isdigit((unsigned char)s[0])) {
        unsigned v = 0;
        for (i = 0; i < n; i++) {
            if (!isdigit((unsigned char)s[i]) || v > 100000)
                return ND_EINVAL;
            v = v * 10 + (unsigned)(s[i] - '0');
        }
        *out = v;
        return ND_OK;
    }
    for (i = 0; names && i < count; i++) {
        if (n == 3 && strncasecmp(s, names[i], 3) == 0) {
            *out = (unsigned)i + (f == F_MON ? 1 : 0);
            return ND_OK;
        }
    }
    return ND_EINVAL;
}

/* One comma-separated item of a field: *, ?, N, N-M, with /STEP. */
static int parse_range(const char *s, size_t n, enum field f, uint64_t *bits, char *err)
{
    const char *slash = memchr(s, '/', n);
    size_t rn = slash ? (size_t)(slash - s) : n;
    unsigned lo, hi, step = 1, v;
    uint64_t extra = 0;
    bool single = false;

    if ((rn == 1 && (s[0] == '*' || s[0] == '?'))) {
        lo = bounds[f].min;
        hi = bounds[f].max;
        extra = STAR;
    } else {
        const char *dash = memchr(s, '-', rn);
        if (name_value(s, dash ? (size_t)(dash - s) : rn, f, &lo) != ND_OK)
            return nd_seterr(err, ND_EINVAL, "%s: bad value \"%.*s\"", bounds[f].name, (int)n, s);
        if (dash) {
            if (name_value(dash + 1, rn - (size_t)(dash + 1 - s), f, &hi) != ND_OK)
                return nd_seterr(err, ND_EINVAL, "%s: bad range \"%.*s\"", bounds[f].name, (int)n,
                                 s);
        } else {
            hi = lo;
            single = true;
        }
    }
    if (slash) {
        if (name_value(slash + 1, n - rn - 1, F_MIN, &step) != ND_OK)
            return nd_seterr(err, ND_EINVAL, "%s: bad step \"%.*s\"", bounds[f].name, (int)n, s);
        if (single)
            hi = bounds[f].max; /* "N/S" is "N-max/S" */
        if (step > 1)
            extra = 0;
    }
    if (lo < bounds[f].min || hi > bounds[f].max)
        return nd_seterr(err, ND_EINVAL, "%s: \"%.*s\" is outside %u-%u", bounds[f].name, (int)n, s,
                         bounds[f].min, bounds[f].max);
    if (lo > hi)
        return nd_seterr(err, ND_EINVAL, "%s: range \"%.*s\" starts after its end", bounds[f].name,
                         (int)n, s);
    if (step == 0)
        return nd_seterr(err, ND_EINVAL, "%s: step of \"%.*s\" must be positive", bounds[f].name,
                         (int)n, s);
    for (v = lo; v <= hi; v += step)
        *bits |= UINT64_C(1) << v;
    *bits |= extra;
    return ND_OK;
}

static int parse_field(const char *s, size_t n, enum field f, uint64_t *bits, char *err)
{
    *bits = 0;
    while (n > 0) {
        const char *comma = memchr(s, ',', n);
        size_t k = comma ? (size_t)(comma - s) : n;
        int rc;

        if (k == 0)
            return nd_seterr(err, ND_EINVAL, "%s: empty list item", bounds[f].name);
        rc = parse_range(s, k, f, bits, err);
        if (rc != ND_OK)
            return rc;
        if (!comma)
            break;
        s += k + 1;
        n -= k + 1;
        if (n == 0)
            return nd_seterr(err, ND_EINVAL, "%s: empty list item", bounds[f].name);
    }
    return ND_OK;
}

static const struct {
    const char *name;
    const char *spec;
} descriptors[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

static int parse_fields(struct nd_cron *c, const char *s, char *err)
{
    const char *p = s;
    int f;

    for (f = 0; f < NFIELDS; f++) {
        const char *a;
        int rc;

        while (*p == ' ' || *p == '\t')
            p++;
        a = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (p == a)
            return nd_seterr(err, ND_EINVAL,
                             "want 5 fields (minute hour day-of-month month "
                             "day-of-week), found %d",
                             f);
        rc = parse_field(a, (size_t)(p - a), (enum field)f, &c->bits[f], err);
        if (rc != ND_OK)
            return rc;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        return nd_seterr(err, ND_EINVAL, "want 5 fields, found more: \"%s\"", p);
    return ND_OK;
}

int nd_cron_parse(const char *spec, struct nd_cron **out, char err[ND_ERRLEN])
{
    struct nd_cron *c = nd_xcalloc(1, sizeof(*c));
    const char *s = spec;
    size_t i;
    int rc = ND_OK;

    *out = NULL;
    while (*s == ' ' || *s == '\t')
        s++;
    if (strncmp(s, "CRON_TZ=", 8) == 0 || strncmp(s, "TZ=", 3) == 0) {
        const char *z = strchr(s, '=') + 1;
        const char *e = z;

        while (*e && *e != ' ' && *e != '\t')
            e++;
        c->zone = nd_xstrndup(z, (size_t)(e - z));
        if (!zone_ok(c->zone)) {
            rc = nd_seterr(err, ND_EINVAL, "unknown time zone \"%s\"", c->zone);
            goto out;
        }
        s = e;
        while (*s == ' ' || *s == '\t')
            s++;
    }
    if (*s == '@') {
        if (strncmp(s, "@every", 6) == 0 && (s[6] == ' ' || s[6] == '\t')) {
            int64_t ns;
            const char *d = s + 6;
            while (*d == ' ' || *d == '\t')
                d++;
            if (nd_parse_duration(d, &ns) != ND_OK || ns < 0) {
                rc = nd_seterr(err, ND_EINVAL, "@every: bad duration \"%s\"", d);
                goto out;
            }
            c->every_s = ns / ND_NS_PER_S;
            if (c->every_s < 1)
                c->every_s = 1;
            goto out;
        }
        for (i = 0; i < ND_ARRAY_LEN(descriptors); i++)
            if (strcmp(s, descriptors[i].name) == 0)
                break;
        if (i == ND_ARRAY_LEN(descriptors)) {
            rc = nd_seterr(err, ND_EINVAL, "unknown descriptor \"%s\"", s);
            goto out;
        }
        s = descriptors[i].spec;
    }
    rc = parse_fields(c, s, err);
out:
    if (rc != ND_OK) {
        nd_cron_free(c);
        return rc;
    }
    *out = c;
    return ND_OK;
}

void nd_cron_free(struct nd_cron *c)
{
    if (!c)
        return;
    free(c->zone);
    free(c);
}

/* ---- next activation ---- */

static bool has(uint64_t bits, unsigned v)
{
    return (bits >> v) & 1;
}

static bool day_matches(const struct nd_cron *c, const struct civil *t)
{
    bool dom = has(c->bits[F_DOM], t->mday);
    bool dow = has(c->bits[F_DOW], weekday(t));

    if ((c->bits[F_DOM] & STAR) || (c->bits[F_DOW] & STAR))
        return dom && dow;
    return dom || dow;
}

static void next_month(struct civil *t)
{
    t->mday = 1;
    t->hour = 0;
    t->min = 0;
    if (++t->mon > 12) {
        t->mon = 1;
        t->year++;
    }
}

static void next_day(struct civil *t)
{
    t->hour = 0;
    t->min = 0;
    if (++t->mday > days_in_month(t->year, t->mon)) {
        t->mday = 1;
        if (++t->mon > 12) {
            t->mon = 1;
            t->year++;
        }
    }
}

int64_t nd_cron_next(const struct nd_cron *c, int64_t t)
{
    struct tzsave save = {0};
    struct civil cv;
    struct tm tm;
    time_t tt;
    int64_t limit, res = ND_CRON_NEVER;

    if (c->every_s > 0)
        return t > INT64_MAX - c->every_s ? ND_CRON_NEVER : t + c->every_s;
    if (t >= INT64_MAX / 2 || t <= INT64_MIN / 2)
        return ND_CRON_NEVER;
    /* The first candidate is the next whole minute after t. */
    tt = (time_t)(t - (((t % 60) + 60) % 60) + 60);
    tz_enter(c->zone, &save);
    if (!localtime_r(&tt, &tm))
        goto done;
    cv.year = (int64_t)tm.tm_year + 1900;
    cv.mon = (unsigned)tm.tm_mon + 1;
    cv.mday = (unsigned)tm.tm_mday;
    cv.hour = (unsigned)tm.tm_hour;
    cv.min = (unsigned)tm.tm_min;
    limit = cv.year + ND_CRON_SEARCH_YEARS;
    while (cv.year <= limit) {
        if (!has(c->bits[F_MON], cv.mon)) {
            next_month(&cv);
            continue;
        }
        if (!day_matches(c, &cv)) {
            next_day(&cv);
            continue;
        }
        if (!has(c->bits[F_HOUR], cv.hour)) {
            cv.min = 0;
            if (++cv.hour > 23)
                next_day(&cv);
            continue;
        }
        if (!has(c->bits[F_MIN], cv.min)) {
            if (++cv.min > 59) {
                cv.min = 0;
                if (++cv.hour > 23)
                    next_day(&cv);
            }
            continue;
        }
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = (int)(cv.year - 1900);
        tm.tm_mon = (int)cv.mon - 1;
        tm.tm_mday = (int)cv.mday;
        tm.tm_hour = (int)cv.hour;
        tm.tm_min = (int)cv.min;
        tm.tm_isdst = -1;
        tt = mktime(&tm);
        /* A civil time skipped by a DST change lands after the gap; one
         * that does not lie after t (a repeated hour) is passed over. */
        if (tt != (time_t)-1 && (int64_t)tt > t) {
            res = (int64_t)tt;
            break;
        }
        if (++cv.min > 59) {
            cv.min = 0;
            if (++cv.hour > 23)
                next_day(&cv);
        }
    }
done:
    tz_leave(&save);
    return res;
}
