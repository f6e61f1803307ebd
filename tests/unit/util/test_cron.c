/* Tests of cron.c: worked examples in UTC (expected instants computed with
 * Python's datetime, noted per case), descriptors, @every, a named zone,
 * parse errors, and a cross-check against a naive minute-by-minute matcher
 * written here from the rules in cron.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "notifyd/cron.h"
#include "tap.h"

static int64_t next_of(const char *spec, int64_t t)
{
    struct nd_cron *c;
    char err[ND_ERRLEN];
    int64_t r;

    if (nd_cron_parse(spec, &c, err) != ND_OK) {
        ok(0, "'%s' parses: %s", spec, err);
        return -1;
    }
    r = nd_cron_next(c, t);
    nd_cron_free(c);
    return r;
}

static void test_examples(void)
{
    /* 2026-12-04 is a Friday; 1796378400 = 2026-12-04T10:00:00Z. */
    const int64_t fri10 = 1796378400;

    is_int(next_of("0 9 * * MON-FRI", fri10), 1796634000, "weekdays 9:00 -> Monday 12-07 09:00");
    is_int(next_of("0 9 * * mon-fri", fri10), 1796634000, "names in any case");
    is_int(next_of("*/15 * * * *", 1796378850), 1796379300, "*/15 from 10:07:30 -> 10:15");
    is_int(next_of("5/20 * * * *", fri10 + 6 * 60), 1796379900, "5/20 = 5,25,45: 10:06 -> 10:25");
    is_int(next_of("0 0 1 1 *", fri10), 1798761600, "yearly by fields -> 2027-01-01");
    is_int(next_of("@yearly", fri10), 1798761600, "@yearly");
    is_int(next_of("@annually", fri10), 1798761600, "@annually");
    is_int(next_of("@daily", fri10), 1796428800, "@daily -> 2026-12-05 00:00");
    is_int(next_of("@midnight", fri10), 1796428800, "@midnight");
    is_int(next_of("@hourly", fri10), fri10 + 3600, "@hourly: strictly after t");
    is_int(next_of("@weekly", fri10), 1796515200, "@weekly -> Sunday 12-06 00:00");
    is_int(next_of("@monthly", fri10), 1798761600, "@monthly -> 2027-01-01");
    is_int(next_of("0 1 * * *", fri10), 1796432400, "01:00 -> next day");
    /* Both day fields restricted: either matches (the 11th is a Friday). */
    is_int(next_of("0 0 13 * FRI", fri10), 1796947200, "13th or Friday -> Fri 12-11");
    /* One day field is '*': both must match. */
    is_int(next_of("0 0 13 * *", fri10), 1797120000, "13th -> 12-13");
    is_int(next_of("0 0 ? * *", fri10), 1796428800, "'?' is '*'");
    is_int(next_of("0 0 30 2 *", fri10), ND_CRON_NEVER, "Feb 30: never");
    is_int(next_of("@every 90m", fri10 + 7), fri10 + 7 + 5400, "@every 90m: t + 90m");
    is_int(next_of("@every 1500ms", fri10), fri10 + 1, "@every rounds down to whole seconds");
    is_int(next_of("@every 100ms", fri10), fri10 + 1, "@every at least 1s");
    /* Asia/Shanghai is UTC+8 without DST: 09:00 there is 01:00Z. */
    is_int(next_of("CRON_TZ=Asia/Shanghai 0 9 * * *", fri10), 1796432400,
           "CRON_TZ=Asia/Shanghai 09:00 -> 01:00Z");
    is_int(next_of("TZ=UTC 0 9 * * *", fri10), 1796461200, "TZ=UTC 09:00");
    is_str(getenv("TZ"), "UTC", "the process's TZ is put back");
}

static void test_errors(void)
{
    static const char *const cases[][2] = {
        {"60 * * * *", "minute"},
        {"* 24 * * *", "hour"},
        {"* * 0 * *", "day of month"},
        {"* * * 13 *", "month"},
        {"* * * * 7", "day of week"},
        {"* * * *", "want 5 fields"},
        {"* * * * * *", "found more"},
        {"5-1 * * * *", "starts after its end"},
        {"*/0 * * * *", "positive"},
        {"a * * * *", "bad value"},
        {"1,,2 * * * *", "empty list item"},
        {"* * * FOO *", "bad value"},
        {"@fortnightly", "unknown descriptor"},
        {"@every soon", "bad duration"},
        {"CRON_TZ=Nowhere/City 0 0 * * *", "unknown time zone"},
        {"CRON_TZ=../../etc/passwd 0 0 * * *", "unknown time zone"},
        {"", "want 5 fields"},
    };
    size_t i;

    for (i = 0; i < ND_ARRAY_LEN(cases); i++) {
        struct nd_cron *c = (struct nd_cron *)1;
        char err[ND_ERRLEN] = "";

        is_int(nd_cron_parse(cases[i][0], &c, err), ND_EINVAL, "'%s' refused", cases[i][0]);
        ok(c == NULL, "'%s': nothing returned", cases[i][0]);
        has_str(err, cases[i][1], "'%s': reason", cases[i][0]);
    }
}

/* The naive matcher: minute by minute from t (UTC), up to `horizon`. */
struct naive {
    int min[60], hour[24], dom[32], mon[13], dow[7];
    int dom_star, dow_star;
};

static int64_t naive_next(const struct naive *n, int64_t t, int64_t horizon)
{
    int64_t m = t - ((t % 60) + 60) % 60 + 60;

    for (; m <= t + horizon; m += 60) {
        time_t tt = (time_t)m;
        struct tm tm;
        int dom, dow, day;

        gmtime_r(&tt, &tm);
        dom = n->dom[tm.tm_mday];
        dow = n->dow[tm.tm_wday];
        day = (n->dom_star || n->dow_star) ? dom && dow : dom || dow;
        if (n->min[tm.tm_min] && n->hour[tm.tm_hour] && n->mon[tm.tm_mon + 1] && day)
            return m;
    }
    return ND_CRON_NEVER;
}

static void test_cross_check(void)
{
    /* Each spec with its meaning spelled out for the naive matcher. */
    static const char *const specs[] = {
        "7,37 */5 * * *",      "0 0 * * 1-5",    "15 14 1 * *",    "0 22 * * SUN,3",
        "*/7 3-9/2 10-20 * *", "0 0 1,15 * MON", "30 6 * 2,4,6 *", "0 12 * * 6",
    };
    unsigned seed = 12345;
    size_t i, k;
    int bad = 0, checked = 0;

    for (i = 0; i < ND_ARRAY_LEN(specs); i++) {
        struct naive n;
        struct nd_cron *c;
        char err[ND_ERRLEN];
        int v;

        memset(&n, 0, sizeof(n));
        switch (i) {
        case 0:
            n.min[7] = n.min[37] = 1;
            for (v = 0; v < 24; v += 5)
                n.hour[v] = 1;
            n.dom_star = n.dow_star = 1;
            break;
        case 1:
            n.min[0] = n.hour[0] = 1;
            for (v = 1; v <= 5; v++)
                n.dow[v] = 1;
            n.dom_star = 1;
            break;
        case 2:
            n.min[15] = n.hour[14] = n.dom[1] = 1;
            n.dow_star = 1;
            break;
        case 3:
            n.min[0] = n.hour[22] = n.dow[0] = n.dow[3] = 1;
            n.dom_star = 1;
            break;
        case 4:
            for (v = 0; v < 60; v += 7)
                n.min[v] = 1;
            for (v = 3; v <= 9; v += 2)
                n.hour[v] = 1;
            for (v = 10; v <= 20; v++)
                n.dom[v] = 1;
            n.dow_star = 1;
            break;
        case 5:
            n.min[0] = n.hour[0] = n.dom[1] = n.dom[15] = n.dow[1] = 1;
            break;
        case 6:
            n.min[30] = n.hour[6] = 1;
            n.dom_star = n.dow_star = 1;
            break;
        case 7:
            n.min[0] = n.hour[12] = n.dow[6] = 1;
            n.dom_star = 1;
            break;
        }
        if (n.dom_star)
            for (v = 1; v <= 31; v++)
                n.dom[v] = 1;
        if (n.dow_star)
            for (v = 0; v < 7; v++)
                n.dow[v] = 1;
        for (v = 1; v <= 12; v++)
            n.mon[v] = i == 6 ? (v == 2 || v == 4 || v == 6) : 1;
        if (nd_cron_parse(specs[i], &c, err) != ND_OK) {
            ok(0, "'%s' parses: %s", specs[i], err);
            continue;
        }
        for (k = 0; k < 40; k++) {
            int64_t t, want, got;

            seed = seed * 1103515245u + 12345u;
            /* A start in 2026-2028, at any second. */
            t = 1767225600 + (int64_t)(seed % (3u * 365 * 86400));
            want = naive_next(&n, t, 200 * 86400);
            got = nd_cron_next(c, t);
            checked++;
            if (want != got) {
                if (bad++ < 5)
                    printf("# '%s' after %lld: got %lld, want %lld\n", specs[i], (long long)t,
                           (long long)got, (long long)want);
            }
        }
        nd_cron_free(c);
    }
    is_int(bad, 0, "%d random starts agree with the naive matcher", checked);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    test_examples();
    test_errors();
    test_cross_check();
    return done_testing();
}
