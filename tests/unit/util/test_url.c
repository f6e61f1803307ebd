/* Tests of url.c: exact strings (expected values from Python's
 * urllib.parse.quote(s, safe='') for RFC 3986 and quote_plus for Go's
 * url.QueryEscape, which agree on every byte used here). */
#include <string.h>

#include "notifyd/buf.h"
#include "notifyd/url.h"
#include "notifyd/util.h"
#include "tap.h"

static const char *mixed = "告警 a+b/c?d=e&f~g*h%i_j.k-l";

static void test_encode(void)
{
    struct nd_buf b;

    nd_buf_init(&b, 1024);
    is_int(nd_url_encode(&b, mixed, strlen(mixed)), ND_OK, "encode");
    is_str(nd_buf_cstr(&b), "%E5%91%8A%E8%AD%A6%20a%2Bb%2Fc%3Fd%3De%26f~g%2Ah%25i_j.k-l",
           "RFC 3986: UTF-8 by byte, space %%20, '*' %%2A, '~' kept, uppercase hex");
    nd_buf_reset(&b);
    nd_url_query_escape(&b, mixed, strlen(mixed));
    is_str(nd_buf_cstr(&b), "%E5%91%8A%E8%AD%A6+a%2Bb%2Fc%3Fd%3De%26f~g%2Ah%25i_j.k-l",
           "QueryEscape: the same but space as '+'");
    nd_buf_reset(&b);
    nd_url_encode(&b, "AZaz09-._~", 10);
    is_str(nd_buf_cstr(&b), "AZaz09-._~", "unreserved characters kept");
    nd_buf_reset(&b);
    nd_url_encode(&b, "\x00\x7f\xff", 3);
    is_str(nd_buf_cstr(&b), "%00%7F%FF", "NUL, DEL and 0xFF bytes");
    nd_buf_reset(&b);
    is_int(nd_url_encode(&b, "", 0), ND_OK, "empty input");
    is_str(nd_buf_cstr(&b), "", "empty output");
    nd_buf_deinit(&b);

    nd_buf_init(&b, 8);
    nd_buf_adds(&b, "ab");
    is_int(nd_url_encode(&b, "x y", 3), ND_OK, "5 more bytes fit in 8");
    is_str(nd_buf_cstr(&b), "abx%20y", "appended");
    is_int(nd_url_encode(&b, "/", 1), ND_ETOOBIG, "3 more do not");
    is_str(nd_buf_cstr(&b), "abx%20y", "buffer unchanged after ND_ETOOBIG");
    nd_buf_deinit(&b);
}

static void test_query(void)
{
    const struct nd_url_param p[] = {
        {"z", "1"}, {"a b", "x y"}, {"m", ""}, {"a", "2"}, {"a", "1"}, {"n", NULL},
    };
    const struct nd_url_param ali[] = {
        {"Action", "SendSms"},
        {"SignName", "阿里云"},
        {"PhoneNumbers", "1380000,1390000"},
        {"TemplateParam", "{\"code\":\"1 2*\"}"},
    };
    struct nd_buf b;

    nd_buf_init(&b, 1024);
    is_int(nd_url_query_build(&b, p, ND_ARRAY_LEN(p), 0), ND_OK, "build in order");
    is_str(nd_buf_cstr(&b), "z=1&a+b=x+y&m=&a=2&a=1&n=", "pairs in the caller's order");
    nd_buf_reset(&b);
    nd_url_query_build(&b, p, ND_ARRAY_LEN(p), ND_URL_SORT);
    is_str(nd_buf_cstr(&b), "a=2&a=1&a+b=x+y&m=&n=&z=1",
           "sorted by key like url.Values.Encode, equal keys in their order");
    is_str(p[0].key, "z", "the caller's array is not reordered");
    nd_buf_reset(&b);
    nd_url_query_build(&b, ali, ND_ARRAY_LEN(ali), ND_URL_SORT | ND_URL_RFC3986);
    is_str(nd_buf_cstr(&b),
           "Action=SendSms&PhoneNumbers=1380000%2C1390000&SignName=%E9%98%BF%E9%87%8C%E4%BA%91"
           "&TemplateParam=%7B%22code%22%3A%221%202%2A%22%7D",
           "Aliyun's canonicalized query: sorted, RFC 3986 (%%20, %%2A)");
    nd_buf_reset(&b);
    is_int(nd_url_query_build(&b, p, 0, ND_URL_SORT), ND_OK, "no pairs");
    is_str(nd_buf_cstr(&b), "", "no pairs, nothing appended");
    nd_buf_deinit(&b);

    nd_buf_init(&b, 12);
    nd_buf_adds(&b, "q=");
    is_int(nd_url_query_build(&b, p, ND_ARRAY_LEN(p), 0), ND_ETOOBIG, "over the limit");
    is_str(nd_buf_cstr(&b), "q=", "buffer restored after a partly written query");
    nd_buf_deinit(&b);
}

static void test_append(void)
{
    static const char *const cases[][3] = {
        {"https://h/robot/send", "a=1", "https://h/robot/send?a=1"},
        {"https://h/robot/send?access_token=T", "timestamp=1&sign=S",
         "https://h/robot/send?access_token=T&timestamp=1&sign=S"},
        {"https://h/p?", "a=1", "https://h/p?a=1"},
        {"https://h/p?x=1&", "a=1", "https://h/p?x=1&a=1"},
        {"https://h/p#frag", "a=1", "https://h/p?a=1#frag"},
        {"https://h/p?x=1#f?g", "a=1", "https://h/p?x=1&a=1#f?g"},
        {"https://h/p?x=1", "", "https://h/p?x=1"},
    };
    struct nd_buf b;

    nd_buf_init(&b, 1024);
    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        nd_buf_reset(&b);
        is_int(nd_url_append_query(&b, cases[i][0], cases[i][1]), ND_OK, "append to %s",
               cases[i][0]);
        is_str(nd_buf_cstr(&b), cases[i][2], "%s + %s", cases[i][0], cases[i][1]);
    }
    nd_buf_deinit(&b);
    nd_buf_init(&b, 10);
    nd_buf_adds(&b, "u:");
    is_int(nd_url_append_query(&b, "https://h/p", "a=1"), ND_ETOOBIG, "over the limit");
    is_str(nd_buf_cstr(&b), "u:", "buffer restored");
    nd_buf_deinit(&b);
}

int main(void)
{
    test_encode();
    test_query();
    test_append();
    return done_testing();
}
