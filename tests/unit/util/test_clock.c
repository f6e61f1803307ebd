/* test_clock.c - nd_ns_to_timeval: the one conversion of a wait in ns to
 * the timeval libevent timers take. */
#include "notifyd/parse.h"
#include "notifyd/util.h"
#include "tap.h"

static void check(int64_t ns, long long sec, long long usec, const char *what)
{
    struct timeval tv = nd_ns_to_timeval(ns);

    ok((long long)tv.tv_sec == sec && (long long)tv.tv_usec == usec, "%s: {%lld, %lld}", what,
       (long long)tv.tv_sec, (long long)tv.tv_usec);
}

int main(void)
{
    check(0, 0, 0, "0");
    check(-1, 0, 0, "negative: 0");
    check(INT64_MIN, 0, 0, "INT64_MIN: 0");
    check(1, 0, 1, "1 ns rounds up to 1 us");
    check(1000, 0, 1, "1 us exactly");
    check(1001, 0, 2, "1.001 us rounds up");
    check(1500 * ND_NS_PER_MS, 1, 500000, "1.5 s");
    check(ND_NS_PER_S - 1, 1, 0, "1 ns short of 1 s rounds up to 1 s");
    check(90 * ND_NS_PER_S, 90, 0, "90 s");
    /* 9223372036.854775807 s: the fraction rounds up to 854776 us */
    check(INT64_MAX, 9223372036LL, 854776, "INT64_MAX without overflow");
    return done_testing();
}
