/* test_backoff.c - the retry schedule, Retry-After, and HTTP classification. */
#include <curl/curl.h>

#include "notifyd/backoff.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/util.h"
#include "tap.h"

#define MS ND_NS_PER_MS
#define S  ND_NS_PER_S

static double fixed_draw(void *ud)
{
    return *(double *)ud;
}

static void test_schedule(void)
{
    struct nd_backoff b = {500 * MS, 2.0, 60 * S, 0.0};
    double r;
    uint32_t n;

    is_int(nd_backoff_delay(&b, 1, NULL, NULL), 500 * MS, "attempt 1: initial");
    is_int(nd_backoff_delay(&b, 2, NULL, NULL), 1000 * MS, "attempt 2: x2");
    is_int(nd_backoff_delay(&b, 3, NULL, NULL), 2000 * MS, "attempt 3: x4");
    is_int(nd_backoff_delay(&b, 7, NULL, NULL), 32 * S, "attempt 7: x64");
    is_int(nd_backoff_delay(&b, 8, NULL, NULL), 60 * S, "attempt 8: capped at retry_max");
    is_int(nd_backoff_delay(&b, 4000000000u, NULL, NULL), 60 * S, "huge attempt: no overflow");
    is_int(nd_backoff_delay(&b, 0, NULL, NULL), 500 * MS, "attempt 0 treated as 1");

    b.factor = 1.5;
    is_int(nd_backoff_delay(&b, 3, NULL, NULL), 1125 * MS, "factor 1.5: 500*1.5^2");

    /* Jitter: +-20 % around the base, never above the cap. */
    b.factor = 2.0;
    b.jitter = 0.2;
    r = 0.0;
    is_int(nd_backoff_delay(&b, 2, fixed_draw, &r), 800 * MS, "draw 0: -20 %%");
    r = 0.5;
    is_int(nd_backoff_delay(&b, 2, fixed_draw, &r), 1000 * MS, "draw 0.5: the base");
    r = 0.75;
    is_int(nd_backoff_delay(&b, 2, fixed_draw, &r), 1100 * MS, "draw 0.75: +10 %%");
    r = 0.999999;
    ok(nd_backoff_delay(&b, 9, fixed_draw, &r) == 60 * S, "jitter never exceeds retry_max");
    r = 0.0;
    is_int(nd_backoff_delay(&b, 9, fixed_draw, &r), 48 * S, "at the cap, jitter only takes away");
    for (n = 1; n <= 12; n++) {
        int i, in = 1;
        double base = 500.0 * MS;
        uint32_t k;
        for (k = 1; k < n; k++)
            base *= 2;
        if (base > 60.0 * S)
            base = 60.0 * S;
        for (i = 0; i < 200; i++) {
            int64_t d = nd_backoff_delay(&b, n, nd_backoff_rand, NULL);
            if ((double)d < base * 0.8 - 1 || (double)d > base * 1.2 + 1 || d > 60 * S)
                in = 0;
        }
        ok(in, "attempt %u: 200 random delays within +-20 %% and <= max", n);
    }
    for (n = 0; n < 1000; n++) {
        double d = nd_backoff_rand(NULL);
        if (d < 0 || d >= 1)
            break;
    }
    is_int(n, 1000, "nd_backoff_rand stays in [0,1)");
}

static void test_retry_after(void)
{
    /* 2015-10-21T07:28:00Z */
    int64_t now = INT64_C(1445412480) * S;
    int64_t d = -7;

    is_int(nd_retry_after_parse("120", now, &d), ND_OK, "delta-seconds");
    is_int(d, 120 * S, "120 s");
    is_int(nd_retry_after_parse(" 0 ", now, &d), ND_OK, "0 with blanks");
    is_int(d, 0, "0 s");
    is_int(nd_retry_after_parse("Wed, 21 Oct 2015 07:28:30 GMT", now, &d), ND_OK, "HTTP-date");
    is_int(d, 30 * S, "date 30 s ahead");
    is_int(nd_retry_after_parse("Wed, 21 Oct 2015 07:00:00 GMT", now, &d), ND_OK,
           "HTTP-date in the past");
    is_int(d, 0, "past date: 0");
    is_int(nd_retry_after_parse("Wednesday, 21-Oct-15 07:29:00 GMT", now, &d), ND_OK,
           "RFC 850 date");
    is_int(d, 60 * S, "RFC 850: 60 s ahead");
    d = -7;
    is_int(nd_retry_after_parse("soon", now, &d), ND_EINVAL, "junk word");
    is_int(nd_retry_after_parse("", now, &d), ND_EINVAL, "empty");
    is_int(nd_retry_after_parse("-5", now, &d), ND_EINVAL, "negative");
    is_int(nd_retry_after_parse("12abc", now, &d), ND_EINVAL, "digits then junk");
    is_int(nd_retry_after_parse("1.5", now, &d), ND_EINVAL, "fraction");
    is_int(nd_retry_after_parse("99999999999999999999", now, &d), ND_EINVAL, "overflow of 64 bits");
    is_int(nd_retry_after_parse(NULL, now, &d), ND_EINVAL, "NULL");
    is_int(d, -7, "failures leave the output alone");
}

/* Waits too long for int64 nanoseconds saturate instead of overflowing:
 * the year 9999 is 2.5e20 ns away, and the engine caps any wait at
 * retry_max_age anyway. */
static void test_retry_after_far(void)
{
    int64_t now = INT64_C(1445412480) * S; /* 2015-10-21T07:28:00Z */
    int64_t d = -7;
    time_t t = curl_getdate("Fri, 31 Dec 9999 23:59:59 GMT", NULL);

    ok(t > 0 && (int64_t)t > INT64_MAX / S, "curl_getdate reads the year 9999 (%lld)",
       (long long)t);
    is_int(nd_retry_after_parse("Fri, 31 Dec 9999 23:59:59 GMT", now, &d), ND_OK,
           "HTTP-date in the year 9999");
    is_int(d, INT64_MAX, "the year 9999: saturated, not wrapped");
    d = -7;
    is_int(nd_retry_after_parse("Fri, 31 Dec 9999 23:59:59 GMT", INT64_MIN + 1, &d), ND_OK,
           "the year 9999 from a clock at the bottom of int64");
    is_int(d, INT64_MAX, "still saturated");
    d = -7;
    is_int(nd_retry_after_parse("9300000000", now, &d), ND_OK, "delta-seconds past int64 ns");
    is_int(d, INT64_MAX, "delta-seconds saturated");
}

/* A backoff whose cap is near INT64_MAX: the double of the cap rounds up
 * to 2^63, which no int64 holds; the delay comes out as the cap. */
static void test_schedule_huge(void)
{
    struct nd_backoff b = {INT64_MAX, 2.0, INT64_MAX, 0.0};
    double r = 0.999999;

    is_int(nd_backoff_delay(&b, 1, NULL, NULL), INT64_MAX, "cap INT64_MAX: the cap, not wrapped");
    is_int(nd_backoff_delay(&b, 5, fixed_draw, &r), INT64_MAX, "with jitter: still the cap");
    b.initial_ns = INT64_MAX / 4;
    b.jitter = 0.0;
    is_int(nd_backoff_delay(&b, 3, NULL, NULL), INT64_MAX, "grown to the cap: the cap");
    ok(nd_backoff_delay(&b, 1, NULL, NULL) > 0, "below the cap: positive");
}

static void rsp_init(struct nd_response *r, struct nd_buf *body, struct nd_buf *hdr, long st,
                     const char *headers, const char *text)
{
    nd_buf_reset(body);
    nd_buf_reset(hdr);
    nd_buf_adds(body, text);
    nd_buf_adds(hdr, headers);
    memset(r, 0, sizeof(*r));
    r->status = st;
    r->curl_error = "";
    r->body = body;
    r->headers = hdr;
    r->now_wall_ns = INT64_C(1445412480) * S;
}

static void test_classify(void)
{
    struct nd_buf body, hdr;
    struct nd_response r;
    struct nd_verdict v;
    char big[400];
    static const long ok_codes[] = {200, 201, 202, 204, 299};
    static const long retry_codes[] = {408, 429, 500, 502, 503, 504, 599};
    static const long fail_codes[] = {300, 301, 400, 401, 403, 404, 405, 413, 422, 499, 600};
    char val[64];
    size_t i;

    nd_buf_init(&body, 1 << 16);
    nd_buf_init(&hdr, 1 << 16);
    for (i = 0; i < ND_ARRAY_LEN(ok_codes); i++) {
        rsp_init(&r, &body, &hdr, ok_codes[i], "HTTP/1.1 x\r\n", "");
        nd_classify_http(&r, &v);
        is_int(v.kind, ND_VERDICT_DELIVERED, "%ld delivered (NM wanted exactly 200)", ok_codes[i]);
    }
    for (i = 0; i < ND_ARRAY_LEN(retry_codes); i++) {
        rsp_init(&r, &body, &hdr, retry_codes[i], "HTTP/1.1 x\r\n", "busy");
        nd_classify_http(&r, &v);
        is_int(v.kind, ND_VERDICT_RETRY, "%ld retried", retry_codes[i]);
        is_int(v.delay_ns, -1, "%ld: backoff schedule", retry_codes[i]);
    }
    for (i = 0; i < ND_ARRAY_LEN(fail_codes); i++) {
        rsp_init(&r, &body, &hdr, fail_codes[i], "HTTP/1.1 x\r\n", "nope");
        nd_classify_http(&r, &v);
        is_int(v.kind, ND_VERDICT_FAILED, "%ld failed at once", fail_codes[i]);
    }
    rsp_init(&r, &body, &hdr, 404, "", "no such hook\nline2");
    nd_classify_http(&r, &v);
    is_str(v.reason, "status 404: no such hook line2", "reason has the status and the body");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    rsp_init(&r, &body, &hdr, 400, "", big);
    nd_classify_http(&r, &v);
    is_int(strlen(v.reason), strlen("status 400: ") + 200, "the reason keeps the first 200 bytes");

    rsp_init(&r, &body, &hdr, 429, "HTTP/1.1 429 Too Many\r\nretry-after:  7 \r\nX: y\r\n", "");
    nd_classify_http(&r, &v);
    is_int(v.kind, ND_VERDICT_RETRY, "429 retried");
    is_int(v.delay_ns, 7 * S, "429 honours Retry-After (case-insensitive)");
    rsp_init(&r, &body, &hdr, 503,
             "HTTP/1.1 503 x\r\nRetry-After: Wed, 21 Oct 2015 07:28:05 GMT\r\n", "");
    nd_classify_http(&r, &v);
    is_int(v.delay_ns, 5 * S, "503 honours an HTTP-date Retry-After");
    rsp_init(&r, &body, &hdr, 429, "HTTP/1.1 429 x\r\nRetry-After: later\r\n", "");
    nd_classify_http(&r, &v);
    is_int(v.delay_ns, -1, "junk Retry-After: backoff schedule");
    rsp_init(&r, &body, &hdr, 500, "HTTP/1.1 500 x\r\nRetry-After: 9\r\n", "");
    nd_classify_http(&r, &v);
    is_int(v.delay_ns, -1, "Retry-After ignored on 500");

    rsp_init(&r, &body, &hdr, 0, "", "");
    r.curl_code = CURLE_OPERATION_TIMEDOUT;
    r.curl_error = "Operation timed out after 200 milliseconds";
    nd_classify_http(&r, &v);
    is_int(v.kind, ND_VERDICT_RETRY, "timeout retried");
    has_str(v.reason, "timed out", "timeout reason");
    r.curl_code = CURLE_COULDNT_CONNECT;
    r.curl_error = "Connection refused";
    nd_classify_http(&r, &v);
    is_int(v.kind, ND_VERDICT_RETRY, "connection refused retried");

    rsp_init(&r, &body, &hdr, 200, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n", "");
    is_str(nd_response_header(&r, "content-type", val, sizeof(val)), "text/plain", "header lookup");
    ok(nd_response_header(&r, "Content", val, sizeof(val)) == NULL, "prefix is not a match");
    ok(nd_response_header(&r, "X-None", val, sizeof(val)) == NULL, "absent header");
    nd_buf_deinit(&body);
    nd_buf_deinit(&hdr);
}

int main(void)
{
    test_schedule();
    test_retry_after();
    test_retry_after_far();
    test_schedule_huge();
    test_classify();
    return done_testing();
}
