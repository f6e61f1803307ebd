/* Tests of src/util/time.c: RFC 3339 parsing and Go's RFC3339Nano output. */
#include <string.h>

#include "notifyd/time.h"
#include "notifyd/util.h"
#include "tap.h"

static int parse(const char *s, struct nd_time *t)
{
    return nd_time_parse_rfc3339(s, strlen(s), t);
}

/* Parses `in` and formats it back; must give `want`. */
static void round_trip(const char *in, const char *want)
{
    struct nd_time t;
    char out[ND_TIME_MAXLEN];
    int rc = parse(in, &t);
    is_int(rc, ND_OK, "parse %s", in);
    size_t n = nd_time_format_rfc3339(&t, out);
    is_str(out, want, "format %s", in);
    is_uint(n, strlen(want), "length of %s", want);
}

static void test_round_trips(void)
{
    round_trip("2024-05-01T10:00:00.123456789+08:00", "2024-05-01T10:00:00.123456789+08:00");
    round_trip("2026-11-23T22:22:59.290219322Z", "2026-11-23T22:22:59.290219322Z");
    round_trip("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z");
    round_trip("2026-11-23T22:23:10Z", "2026-11-23T22:23:10Z");
    round_trip("2024-02-29T23:59:59-05:30", "2024-02-29T23:59:59-05:30");
    round_trip("2000-02-29T00:00:00+00:00", "2000-02-29T00:00:00Z");
    round_trip("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.5Z");
    round_trip("9999-12-31T23:59:59.999999999+23:59", "9999-12-31T23:59:59.999999999+23:59");
    round_trip("2024-01-01t00:00:00z", "2024-01-01T00:00:00Z");
    /* trailing zeros trimmed, Go style */
    round_trip("2024-01-01T00:00:00.120Z", "2024-01-01T00:00:00.12Z");
    round_trip("2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00Z");
    round_trip("2024-01-01T00:00:00.000000001Z", "2024-01-01T00:00:00.000000001Z");
    /* more than 9 digits: truncated, not rounded */
    round_trip("2024-01-01T00:00:00.1234567899999Z", "2024-01-01T00:00:00.123456789Z");
}

static void test_fraction_lengths(void)
{
    const char digits[] = "123456789012";
    for (int n = 1; n <= 12; n++) {
        char in[64], want[64];
        snprintf(in, sizeof in, "2024-03-04T05:06:07.%.*s+01:00", n, digits);
        int keep = n > 9 ? 9 : n;
        /* no digit of "123456789" is a zero, so nothing is trimmed */
        snprintf(want, sizeof want, "2024-03-04T05:06:07.%.*s+01:00", keep, digits);
        round_trip(in, want);
        struct nd_time t;
        parse(in, &t);
        int32_t ns = 0;
        for (int i = 0; i < 9; i++)
            ns = ns * 10 + (i < keep ? digits[i] - '0' : 0);
        is_int(t.nsec, ns, "nsec of %d fraction digits", n);
    }
}

static void test_instants(void)
{
    struct nd_time t, u;
    parse("1970-01-01T00:00:00Z", &t);
    is_int(t.sec, 0, "epoch");
    parse("0001-01-01T00:00:00Z", &t);
    is_int(t.sec, ND_TIME_ZERO_SEC, "zero time seconds");
    ok(nd_time_is_zero(&t), "zero time is zero");
    parse("2024-05-01T10:00:00+08:00", &t);
    is_int(t.sec, 1714528800, "offset applied to the instant");
    is_int(t.offset, 8 * 3600, "offset kept");
    parse("2024-05-01T02:00:00Z", &u);
    is_int(nd_time_cmp(&t, &u), 0, "same instant, different offsets compare equal");
    parse("2024-05-01T02:00:00.000000001Z", &u);
    is_int(nd_time_cmp(&t, &u), -1, "nanosecond later compares greater");
    is_int(nd_time_cmp(&u, &t), 1, "and the reverse");
    parse("2024-02-29T12:00:00Z", &t);
    is_int(t.sec, 1709208000, "leap day 2024");
    parse("2100-03-01T00:00:00Z", &t);
    is_int(t.sec, 4107542400, "2100 is not a leap year");
    parse("1900-01-01T00:00:00Z", &t);
    is_int(t.sec, -2208988800LL, "1900");

    parse("2024-05-01T02:00:00.5Z", &t);
    is_int(nd_time_unix_ns(&t), 1714528800500000000LL, "unix ns");
    struct nd_time f = nd_time_from_unix_ns(-1);
    is_int(f.sec, -1, "from -1 ns: sec");
    is_int(f.nsec, 999999999, "from -1 ns: nsec");
    char out[ND_TIME_MAXLEN];
    nd_time_format_rfc3339(&f, out);
    is_str(out, "1969-12-31T23:59:59.999999999Z", "format of -1 ns");
    struct nd_time z = nd_time_zero();
    ok(nd_time_unix_ns(&z) == INT64_MIN, "zero time saturates to INT64_MIN ns");
    nd_time_format_rfc3339(&z, out);
    is_str(out, "0001-01-01T00:00:00Z", "nd_time_zero formats as Go's zero time");
}

static void test_invalid(void)
{
    static const char *const bad[] = {
        "",
        "2024-05-01",
        "2024-05-01T10:00:00",       /* no zone */
        "2024-05-01 10:00:00Z",      /* space instead of T */
        "2024-13-01T10:00:00Z",      /* month 13 */
        "2024-00-01T10:00:00Z",      /* month 0 */
        "2024-01-00T10:00:00Z",      /* day 0 */
        "2023-02-29T10:00:00Z",      /* not a leap year */
        "1900-02-29T10:00:00Z",      /* century, not a leap year */
        "2024-04-31T10:00:00Z",      /* April has 30 days */
        "2024-05-01T24:00:00Z",      /* hour 24 */
        "2024-05-01T10:60:00Z",      /* minute 60 */
        "2024-05-01T10:00:60Z",      /* leap second: Go rejects it */
        "2024-05-01T10:00:00.Z",     /* empty fraction */
        "2024-05-01T10:00:00+0800",  /* offset without colon */
        "2024-05-01T10:00:00+08",    /* short offset */
        "2024-05-01T10:00:00+24:00", /* offset hour out of range */
        "2024-05-01T10:00:00+08:60", /* offset minute out of range */
        "2024-05-01T10:00:00Zjunk",  /* trailing bytes */
        "2024-05-01T10:00:00ZZ",
        "24-05-01T10:00:00Z",             /* short year */
        "2024-5-01T10:00:00Z",            /* short month */
        "2024-05-01T10:00:00.123+08:00x", /* trailing */
        "+024-05-01T10:00:00Z",
        "2024-05-01T1a:00:00Z",
    };
    for (size_t i = 0; i < ND_ARRAY_LEN(bad); i++) {
        struct nd_time t;
        is_int(parse(bad[i], &t), ND_EINVAL, "rejects \"%s\"", bad[i]);
    }
    /* the length given is what is parsed, not up to a NUL */
    struct nd_time t;
    is_int(nd_time_parse_rfc3339("2024-05-01T10:00:00Zxyz", 20, &t), ND_OK, "length-bounded");
    is_int(nd_time_parse_rfc3339("2024-05-01T10:00:00Z", 19, &t), ND_EINVAL, "cut zone");
}

/* Every day of 1999..2001 and 2399..2401 formats to what it parsed from,
 * which checks days_from_civil against civil_from_days across leap rules. */
static void test_calendar_sweep(void)
{
    int bad = 0, days = 0;
    static const int years[] = {1, 2, 1969, 1970, 1999, 2000, 2001, 2100, 2400, 9999};
    for (size_t yi = 0; yi < ND_ARRAY_LEN(years); yi++) {
        for (int m = 1; m <= 12; m++) {
            for (int d = 1; d <= 31; d++) {
                char in[40], out[ND_TIME_MAXLEN];
                snprintf(in, sizeof in, "%04d-%02d-%02dT12:34:56-01:00", years[yi], m, d);
                struct nd_time t;
                if (parse(in, &t) != ND_OK)
                    continue;
                days++;
                nd_time_format_rfc3339(&t, out);
                if (strcmp(in, out) != 0) {
                    printf("# %s -> %s\n", in, out);
                    bad++;
                }
            }
        }
    }
    is_int(bad, 0, "calendar sweep round trips");
    is_int(days, 8 * 365 + 2 * 366, "valid days in the swept years (2000 and 2400 leap)");
}

int main(void)
{
    test_round_trips();
    test_fraction_lengths();
    test_instants();
    test_invalid();
    test_calendar_sweep();
    return done_testing();
}
