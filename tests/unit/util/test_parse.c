/* test_parse.c - the config value syntaxes of parse.h. */
#include "notifyd/parse.h"

#include <locale.h>
#include <stdint.h>

#include "notifyd/util.h"
#include "tap.h"

static void good_duration(const char *s, int64_t want)
{
    int64_t got = -42;
    int rc = nd_parse_duration(s, &got);
    is_int(rc, ND_OK, "duration \"%s\" accepted", s);
    is_int(got, want, "duration \"%s\" value", s);
}

static void bad_duration(const char *s)
{
    int64_t got = -42;
    int rc = nd_parse_duration(s, &got);
    is_int(rc, ND_EINVAL, "duration \"%s\" rejected", s);
    is_int(got, -42, "duration \"%s\" leaves output alone", s);
}

static void test_durations(void)
{
    const int64_t ms = ND_NS_PER_MS, sec = ND_NS_PER_S;
    good_duration("0", 0);
    good_duration("+0", 0);
    good_duration("0s", 0);
    good_duration("500ms", 500 * ms);
    good_duration("5s", 5 * sec);
    good_duration("1m30s", 90 * sec);
    good_duration("2h", 7200 * sec);
    good_duration("1.5h", 5400 * sec);
    good_duration("2h45m", (2 * 3600 + 45 * 60) * sec);
    good_duration("300us", 300000);
    good_duration("300\xc2\xb5s", 300000);
    good_duration("300\xce\xbcs", 300000);
    good_duration("7ns", 7);
    good_duration("1.5s", 1500 * ms);
    good_duration(".5s", 500 * ms);
    good_duration("1.s", sec);
    good_duration("1.0000000001s", sec); /* below 1 ns: dropped like Go */
    good_duration("1h1m1s1ms1us1ns", 3661 * sec + ms + 1000 + 1);
    good_duration("9223372036854775807ns", INT64_MAX);
    good_duration("2562047h", INT64_C(2562047) * 3600 * sec);
    bad_duration("");
    bad_duration("5");
    bad_duration("5x");
    bad_duration("-1s");
    bad_duration("-0");
    bad_duration("1s5");
    bad_duration(" 5s");
    bad_duration("5s ");
    bad_duration("5 s");
    bad_duration(".s");
    bad_duration("s");
    bad_duration("1e3s");
    bad_duration("5S");
    bad_duration("9223372036854775808ns");
    bad_duration("2562048h");
    bad_duration("99999999999999999999s");
    bad_duration("2562047h47m17s");
    bad_duration("1.5");
    bad_duration("+");
}

static void good_size(const char *s, uint64_t want)
{
    uint64_t got = 42;
    int rc = nd_parse_size(s, &got);
    is_int(rc, ND_OK, "size \"%s\" accepted", s);
    is_uint(got, want, "size \"%s\" value", s);
}

static void bad_size(const char *s)
{
    uint64_t got = 42;
    int rc = nd_parse_size(s, &got);
    is_int(rc, ND_EINVAL, "size \"%s\" rejected", s);
    is_uint(got, 42, "size \"%s\" leaves output alone", s);
}

static void test_sizes(void)
{
    good_size("0", 0);
    good_size("512", 512);
    good_size("512B", 512);
    good_size("8MiB", 8u << 20);
    good_size("1GiB", UINT64_C(1) << 30);
    good_size("2TiB", UINT64_C(2) << 40);
    good_size("10KB", 10000);
    good_size("3KiB", 3072);
    good_size("5MB", 5000000);
    good_size("7GB", UINT64_C(7000000000));
    good_size("18446744073709551615", UINT64_MAX);
    bad_size("");
    bad_size("MiB");
    bad_size("8 MiB");
    bad_size("8mib");
    bad_size("8Mi");
    bad_size("8MiBx");
    bad_size("-1");
    bad_size("+1");
    bad_size("1.5GiB");
    bad_size("18446744073709551616");
    bad_size("16777216TiB");
    bad_size("abc");
}

static void test_bools(void)
{
    const char *yes[] = {"true", "TRUE", "yes", "on", "1", "True"};
    const char *no[] = {"false", "no", "off", "0", "OFF"};
    const char *bad[] = {"", "2", "y", "truex", " true", "enabled"};
    for (size_t i = 0; i < ND_ARRAY_LEN(yes); i++) {
        bool b = false;
        is_int(nd_parse_bool(yes[i], &b), ND_OK, "bool \"%s\" accepted", yes[i]);
        ok(b == true, "bool \"%s\" is true", yes[i]);
    }
    for (size_t i = 0; i < ND_ARRAY_LEN(no); i++) {
        bool b = true;
        is_int(nd_parse_bool(no[i], &b), ND_OK, "bool \"%s\" accepted", no[i]);
        ok(b == false, "bool \"%s\" is false", no[i]);
    }
    for (size_t i = 0; i < ND_ARRAY_LEN(bad); i++) {
        bool b = true;
        is_int(nd_parse_bool(bad[i], &b), ND_EINVAL, "bool \"%s\" rejected", bad[i]);
        ok(b == true, "bool \"%s\" leaves output alone", bad[i]);
    }
}

static void test_uints(void)
{
    uint64_t v = 7;
    is_int(nd_parse_uint("0", 10, &v), ND_OK, "uint 0");
    is_uint(v, 0, "uint 0 value");
    is_int(nd_parse_uint("10", 10, &v), ND_OK, "uint at max");
    is_uint(v, 10, "uint at max value");
    is_int(nd_parse_uint("007", 10, &v), ND_OK, "uint leading zeros");
    is_uint(v, 7, "uint leading zeros value");
    is_int(nd_parse_uint("18446744073709551615", UINT64_MAX, &v), ND_OK, "uint64 max");
    is_uint(v, UINT64_MAX, "uint64 max value");
    v = 99;
    is_int(nd_parse_uint("11", 10, &v), ND_EINVAL, "uint over max");
    is_int(nd_parse_uint("100", 10, &v), ND_EINVAL, "uint far over max");
    is_int(nd_parse_uint("5", 3, &v), ND_EINVAL, "single digit over max");
    is_int(nd_parse_uint("18446744073709551616", UINT64_MAX, &v), ND_EINVAL, "uint64 overflow");
    is_int(nd_parse_uint("", 10, &v), ND_EINVAL, "uint empty");
    is_int(nd_parse_uint("-1", 10, &v), ND_EINVAL, "uint negative");
    is_int(nd_parse_uint("+1", 10, &v), ND_EINVAL, "uint plus");
    is_int(nd_parse_uint("1 ", 10, &v), ND_EINVAL, "uint trailing blank");
    is_int(nd_parse_uint("0x10", 100, &v), ND_EINVAL, "uint hex");
    is_uint(v, 99, "rejected uints leave output alone");
}

static void test_doubles(void)
{
    double d = -1;
    is_int(nd_parse_double("2", &d), ND_OK, "double 2");
    ok(d == 2.0, "double 2 value");
    is_int(nd_parse_double("0.2", &d), ND_OK, "double 0.2");
    ok(d == 0.2, "double 0.2 value");
    is_int(nd_parse_double("-1.5e2", &d), ND_OK, "double exponent");
    ok(d == -150.0, "double exponent value");
    is_int(nd_parse_double(".5", &d), ND_OK, "double .5");
    ok(d == 0.5, "double .5 value");
    /* A locale with a decimal comma must not change the syntax. Not every
     * machine has one installed; the check still runs in the C locale. */
    const char *loc = setlocale(LC_NUMERIC, "de_DE.UTF-8");
    is_int(nd_parse_double("1.25", &d), ND_OK, "double with decimal point (locale %s)",
           loc ? loc : "C");
    ok(d == 1.25, "double 1.25 value under that locale");
    is_int(nd_parse_double("1,25", &d), ND_EINVAL, "decimal comma rejected");
    setlocale(LC_NUMERIC, "C");
    d = 9;
    const char *bad[] = {"",      "abc", "1.2.3", "1e", "1e+", "inf",   "nan",
                         "0x1p3", " 1",  "1 ",    ".",  "-",   "1e999", "--1"};
    for (size_t i = 0; i < ND_ARRAY_LEN(bad); i++)
        is_int(nd_parse_double(bad[i], &d), ND_EINVAL, "double \"%s\" rejected", bad[i]);
    ok(d == 9, "rejected doubles leave output alone");
}

static void fmt_is(int64_t ns, const char *want)
{
    char out[32];
    nd_format_duration(ns, out);
    is_str(out, want, "format %lld", (long long)ns);
}

static void test_format(void)
{
    const int64_t ms = ND_NS_PER_MS, sec = ND_NS_PER_S;
    fmt_is(0, "0s");
    fmt_is(1, "1ns");
    fmt_is(999, "999ns");
    fmt_is(1000, "1\xc2\xb5s");
    fmt_is(1500, "1.5\xc2\xb5s");
    fmt_is(300000, "300\xc2\xb5s");
    fmt_is(500 * ms, "500ms");
    fmt_is(1500 * ms + 1, "1.500000001s");
    fmt_is(1500 * ms, "1.5s");
    fmt_is(5 * sec, "5s");
    fmt_is(90 * sec, "1m30s");
    fmt_is(60 * sec, "1m0s");
    fmt_is(7200 * sec, "2h0m0s");
    fmt_is(5400 * sec, "1h30m0s");
    fmt_is(-5 * sec, "-5s");
    fmt_is(-1500, "-1.5\xc2\xb5s");
    fmt_is(INT64_MAX, "2562047h47m16.854775807s");
    fmt_is(INT64_MIN, "-2562047h47m16.854775808s");
    /* Round trip: what we print, we parse back to the same value. */
    const int64_t rt[] = {1, 1500, 500 * ms, 90 * sec, 5400 * sec + 1, INT64_MAX};
    for (size_t i = 0; i < ND_ARRAY_LEN(rt); i++) {
        char out[32];
        int64_t back = -1;
        nd_format_duration(rt[i], out);
        is_int(nd_parse_duration(out, &back), ND_OK, "parse back \"%s\"", out);
        is_int(back, rt[i], "round trip of %s", out);
    }
}

int main(void)
{
    test_durations();
    test_sizes();
    test_bools();
    test_uints();
    test_doubles();
    test_format();
    return done_testing();
}
