/* backoff.c - exponential backoff with jitter, and Retry-After. */
#include "notifyd/backoff.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "notifyd/parse.h"
#include "notifyd/util.h"

int64_t nd_backoff_delay(const struct nd_backoff *b, uint32_t failed, nd_backoff_rand_fn *rnd,
                         void *ud)
{
    double d = (double)b->initial_ns;
    double r = rnd ? rnd(ud) : 0.5;
    double j = b->jitter < 0 ? 0 : b->jitter > 1 ? 1 : b->jitter;
    uint32_t i;

    if (failed < 1)
        failed = 1;
    /* Stop multiplying at the cap: keeps the double finite for any
     * `failed`. The jitter spreads around the capped base, and the result
     * is capped again, so retry_max really is the longest wait. */
    for (i = 1; i < failed && d < (double)b->max_ns; i++)
        d *= b->factor;
    if (d > (double)b->max_ns)
        d = (double)b->max_ns;
    d *= 1.0 + j * (2.0 * r - 1.0);
    /* Compared as doubles but returned as the integer: a cap near
     * INT64_MAX rounds up to 2^63 as a double, which no int64 holds
     * (converting it is undefined behaviour, C11 6.3.1.4). */
    if (d >= (double)b->max_ns)
        return b->max_ns;
    if (d < 0)
        d = 0;
    return (int64_t)d;
}

double nd_backoff_rand(void *ud)
{
    static uint64_t s;

    ND_UNUSED(ud);
    if (s == 0)
        s = (uint64_t)nd_now_mono_ns() * UINT64_C(0x9E3779B97F4A7C15) | 1;
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return (double)(s >> 11) / 9007199254740992.0; /* 2^53 */
}

/* Seconds to ns, saturated at the int64 ends: Retry-After may name a
 * date in the year 9999 (2.5e20 ns away), and the engine caps every wait
 * at retry_max_age anyway. */
static int64_t secs_to_ns_sat(int64_t secs)
{
    if (secs > INT64_MAX / ND_NS_PER_S)
        return INT64_MAX;
    if (secs < INT64_MIN / ND_NS_PER_S)
        return INT64_MIN;
    return secs * ND_NS_PER_S;
}

int nd_retry_after_parse(const char *value, int64_t now_wall_ns, int64_t *delay_ns)
{
    char tmp[128];
    size_t len;
    const char *p = value;
    time_t t;

    if (!value)
        return ND_EINVAL;
    while (*p == ' ' || *p == '\t')
        p++;
    len = strlen(p);
    while (len > 0 &&
           (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' || p[len - 1] == '\n'))
        len--;
    if (len == 0 || len >= sizeof(tmp))
        return ND_EINVAL;
    memcpy(tmp, p, len);
    tmp[len] = '\0';

    if (isdigit((unsigned char)tmp[0])) {
        uint64_t secs;
        if (nd_parse_uint(tmp, UINT64_MAX, &secs) != ND_OK)
            return ND_EINVAL;
        *delay_ns = secs_to_ns_sat((int64_t)(secs > INT64_MAX ? INT64_MAX : secs));
        return ND_OK;
    }
    /* An HTTP-date must name a day and a time; curl_getdate is lenient
     * (it accepts a lone word like "tomorrow" as -1 but also odd forms),
     * so demand at least a digit and a colon. */
    if (!strchr(tmp, ':') || !strpbrk(tmp, "0123456789"))
        return ND_EINVAL;
    t = curl_getdate(tmp, NULL);
    if (t == (time_t)-1)
        return ND_EINVAL;
    {
        int64_t at = secs_to_ns_sat((int64_t)t);
        /* A date past the int64 ns range is as far as a wait goes; below
         * it, at - now in int64 only when it cannot pass INT64_MAX. */
        if (at == INT64_MAX || (now_wall_ns < 0 && at > INT64_MAX + now_wall_ns))
            *delay_ns = INT64_MAX;
        else
            *delay_ns = at > now_wall_ns ? at - now_wall_ns : 0;
    }
    return ND_OK;
}
