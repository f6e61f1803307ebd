/* Tests of jsonr.c: platforms' answers looked up by path, absent versus
 * wrong type, big numbers, non-object roots, malformed and hostile bodies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/jsonr.h"
#include "notifyd/util.h"
#include "tap.h"

static struct nd_jsonr *parse(const char *s)
{
    struct nd_jsonr *d = NULL;
    char err[ND_ERRLEN];
    int rc = nd_jsonr_parse(s, strlen(s), &d, err);
    if (!ok(rc == ND_OK && d, "parse %.40s", s))
        printf("# rc %d: %s\n", rc, err);
    return d;
}

static void test_platform_answers(void)
{
    struct nd_jsonr *d;
    int64_t i = -1;
    bool b = true;
    const char *s = NULL;
    size_t n = 0;

    d = parse("{\"errcode\":0,\"errmsg\":\"ok\"}");
    is_int(nd_jsonr_int(d, "errcode", &i), ND_OK, "DingTalk errcode");
    is_int(i, 0, "errcode value");
    is_int(nd_jsonr_str(d, "errmsg", &s), ND_OK, "errmsg");
    is_str(s, "ok", "errmsg value");
    is_int(nd_jsonr_int(d, "code", &i), ND_JSONR_EABSENT, "absent member");
    is_int(nd_jsonr_str(d, "errcode", &s), ND_JSONR_ETYPE, "number read as string: wrong type");
    is_str(s, "ok", "output untouched on error");
    nd_jsonr_free(d);

    d = parse("{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after "
              "5\",\"parameters\":{\"retry_after\":5}}");
    is_int(nd_jsonr_bool(d, "ok", &b), ND_OK, "Telegram ok");
    ok(!b, "ok is false");
    is_int(nd_jsonr_int(d, "parameters.retry_after", &i), ND_OK, "nested member");
    is_int(i, 5, "retry_after");
    is_int(nd_jsonr_int(d, "parameters.retry_after.x", &i), ND_JSONR_EABSENT,
           "path through a number: absent");
    is_int(nd_jsonr_int(d, "parameters.nope", &i), ND_JSONR_EABSENT, "absent nested member");
    is_int(nd_jsonr_bool(d, "error_code", &b), ND_JSONR_ETYPE, "number read as bool");
    is_int(nd_jsonr_len(d, "", &n), ND_OK, "root object length");
    is_int(n, 4, "four members");
    is_int(nd_jsonr_type(d, "parameters"), ND_JSONR_OBJECT, "type object");
    is_int(nd_jsonr_type(d, "missing"), ND_JSONR_NONE, "type of absent");
    nd_jsonr_free(d);

    d = parse("{\"Response\":{\"SendStatusSet\":[{\"Code\":\"Ok\",\"Fee\":1},"
              "{\"Code\":\"LimitExceeded.PhoneNumberDailyLimit\",\"Fee\":0}],"
              "\"RequestId\":\"a0aabda6\"}}");
    is_int(nd_jsonr_str(d, "Response.SendStatusSet[0].Code", &s), ND_OK, "bracket index");
    is_str(s, "Ok", "first Code");
    is_int(nd_jsonr_str(d, "Response.SendStatusSet.1.Code", &s), ND_OK, "dotted index");
    is_str(s, "LimitExceeded.PhoneNumberDailyLimit", "second Code");
    is_int(nd_jsonr_str(d, "Response.SendStatusSet[2].Code", &s), ND_JSONR_EABSENT,
           "index past the end");
    is_int(nd_jsonr_str(d, "Response.SendStatusSet.x", &s), ND_JSONR_EABSENT, "name on an array");
    is_int(nd_jsonr_str(d, "Response[0]", &s), ND_JSONR_EABSENT, "index on an object");
    is_int(nd_jsonr_str(d, "Response.SendStatusSet[0", &s), ND_JSONR_EABSENT, "unclosed bracket");
    is_int(nd_jsonr_len(d, "Response.SendStatusSet", &n), ND_OK, "array length");
    is_int(n, 2, "two statuses");
    is_int(nd_jsonr_len(d, "Response.RequestId", &n), ND_JSONR_ETYPE, "length of a string");
    nd_jsonr_free(d);

    d = parse("{\"a\":null,\"b\":true,\"0\":\"zero\",\"a\":1,\"k\\\"q\":\"\\u00fc\\n\"}");
    is_int(nd_jsonr_int(d, "a", &i), ND_JSONR_ETYPE, "null is a type of its own");
    is_int(nd_jsonr_type(d, "a"), ND_JSONR_NULL, "first duplicate counts (null)");
    is_int(nd_jsonr_bool(d, "b", &b), ND_OK, "true");
    ok(b, "true value");
    is_int(nd_jsonr_str(d, "0", &s), ND_OK, "a digit name on an object is a name");
    is_str(s, "zero", "its value");
    is_int(nd_jsonr_str(d, "k\"q", &s), ND_OK, "escaped name");
    is_str(s, "ü\n", "escapes decoded");
    nd_jsonr_free(d);
}

static void test_numbers(void)
{
    struct nd_jsonr *d = parse("{\"max\":9223372036854775807,\"min\":-9223372036854775808,"
                               "\"over\":9223372036854775808,\"under\":-9223372036854775809,"
                               "\"huge\":123456789012345678901234567890,\"frac\":1.5,\"exp\":1e3,"
                               "\"inf\":1e400,\"neg0\":-0}");
    int64_t i = 7;
    double x = 0;

    is_int(nd_jsonr_int(d, "max", &i), ND_OK, "INT64_MAX");
    ok(i == INT64_MAX, "INT64_MAX value");
    is_int(nd_jsonr_int(d, "min", &i), ND_OK, "INT64_MIN");
    ok(i == INT64_MIN, "INT64_MIN value");
    i = 7;
    is_int(nd_jsonr_int(d, "over", &i), ND_JSONR_ERANGE, "INT64_MAX + 1 out of range");
    is_int(nd_jsonr_int(d, "under", &i), ND_JSONR_ERANGE, "INT64_MIN - 1 out of range");
    is_int(nd_jsonr_int(d, "huge", &i), ND_JSONR_ERANGE, "30 digits out of range");
    is_int(i, 7, "output untouched");
    is_int(nd_jsonr_double(d, "huge", &x), ND_OK, "huge as double");
    ok(x > 1.2e29 && x < 1.3e29, "huge double value");
    is_int(nd_jsonr_int(d, "frac", &i), ND_JSONR_ETYPE, "1.5 is not an integer");
    is_int(nd_jsonr_double(d, "frac", &x), ND_OK, "1.5 as double");
    ok(x == 1.5, "1.5");
    is_int(nd_jsonr_int(d, "exp", &i), ND_JSONR_ETYPE, "1e3 is not an integer literal");
    nd_jsonr_double(d, "exp", &x);
    ok(x == 1000.0, "1e3 as double");
    is_int(nd_jsonr_double(d, "inf", &x), ND_OK, "1e400 as double");
    ok(isinf(x), "1e400 is infinite");
    is_int(nd_jsonr_int(d, "neg0", &i), ND_OK, "-0");
    is_int(i, 0, "-0 is 0");
    nd_jsonr_free(d);
}

static void test_roots(void)
{
    struct nd_jsonr *d;
    int64_t i = 0;
    const char *s = NULL;
    size_t n = 0;

    d = parse("[10,[20,{\"a\":30}]]");
    is_int(nd_jsonr_int(d, "[0]", &i), ND_OK, "array root, [0]");
    is_int(i, 10, "[0] value");
    is_int(nd_jsonr_int(d, "1.1.a", &i), ND_OK, "1.1.a");
    is_int(i, 30, "1.1.a value");
    is_int(nd_jsonr_int(d, "[1][1].a", &i), ND_OK, "[1][1].a");
    is_int(nd_jsonr_int(d, "errcode", &i), ND_JSONR_EABSENT, "a name on an array root");
    is_int(nd_jsonr_len(d, "", &n), ND_OK, "root length");
    is_int(n, 2, "two elements");
    nd_jsonr_free(d);

    d = parse("\"just text\"");
    is_int(nd_jsonr_str(d, "", &s), ND_OK, "string root");
    is_str(s, "just text", "string root value");
    is_int(nd_jsonr_int(d, "errcode", &i), ND_JSONR_EABSENT, "member of a string root");
    nd_jsonr_free(d);

    d = parse(" 42 ");
    is_int(nd_jsonr_int(d, "", &i), ND_OK, "number root");
    is_int(i, 42, "number root value");
    nd_jsonr_free(d);

    /* The body need not be NUL-terminated: only len bytes count. */
    const char body[] = "{\"a\":1}garbage";
    is_int(nd_jsonr_parse(body, 7, &d, NULL), ND_OK, "first len bytes only");
    is_int(nd_jsonr_int(d, "a", &i), ND_OK, "value read");
    nd_jsonr_free(d);
    nd_jsonr_free(NULL);
}

static void expect_bad(const char *s, size_t len, int want, const char *what)
{
    struct nd_jsonr *d = (struct nd_jsonr *)&d; /* must become NULL */
    char err[ND_ERRLEN] = "";
    int rc = nd_jsonr_parse(s, len, &d, err);
    is_int(rc, want, "%s refused", what);
    ok(d == NULL && err[0] && !strchr(err, '\n'), "%s: no doc, one-line error: %s", what, err);
    nd_jsonr_free(rc == ND_OK ? d : NULL);
}

#define BAD(lit, want) expect_bad((lit), sizeof(lit) - 1, (want), #lit)

static void test_malformed(void)
{
    BAD("", ND_EINVAL);
    BAD("   ", ND_EINVAL);
    BAD("{\"a\":1", ND_EINVAL);
    BAD("{\"a\":}", ND_EINVAL);
    BAD("{a:1}", ND_EINVAL);
    BAD("{\"a\":1} x", ND_EINVAL);
    BAD("{\"a\":1}{}", ND_EINVAL);
    BAD("[1,]", ND_EINVAL);
    BAD("nul", ND_EINVAL);
    BAD("<html>502 Bad Gateway</html>", ND_EINVAL);
    BAD("{\"a\":\"\xff\"}", ND_EINVAL);
    BAD("{\"a\":1}/*c*/", ND_EINVAL);
    BAD("// c\n{}", ND_EINVAL);
    BAD("{\"a\":1}\0", ND_EINVAL);
    BAD("{\"a\":\"x\0y\"}", ND_EINVAL);
}

/* n nested arrays, optionally with a string prefix that holds brackets. */
static char *nested(size_t n, const char *inner)
{
    size_t k = strlen(inner);
    char *s = malloc(2 * n + k + 1);
    memset(s, '[', n);
    memcpy(s + n, inner, k);
    memset(s + n + k, ']', n);
    s[2 * n + k] = '\0';
    return s;
}

static void test_limits(void)
{
    struct nd_jsonr *d = NULL;
    char err[ND_ERRLEN];
    char *s;
    size_t n = 0;

    s = nested(ND_JSONR_MAX_DEPTH, "1");
    is_int(nd_jsonr_parse(s, strlen(s), &d, err), ND_OK, "depth %d accepted", ND_JSONR_MAX_DEPTH);
    is_int(nd_jsonr_len(d, "0.0.0", &n), ND_OK, "deep path");
    nd_jsonr_free(d);
    free(s);
    s = nested(ND_JSONR_MAX_DEPTH + 1, "1");
    is_int(nd_jsonr_parse(s, strlen(s), &d, err), ND_ETOOBIG, "one level more refused");
    has_str(err, "nesting deeper than 64", "error names the limit");
    free(s);
    s = nested(60000, "");
    is_int(nd_jsonr_parse(s, strlen(s), &d, err), ND_ETOOBIG, "60000 levels refused");
    free(s);
    /* Brackets inside strings (and after escaped quotes) do not count. */
    s = nested(ND_JSONR_MAX_DEPTH, "\"\\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{"
                                   "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{\\\\\"");
    is_int(nd_jsonr_parse(s, strlen(s), &d, err), ND_OK, "brackets in strings do not count");
    nd_jsonr_free(d);
    free(s);

    /* Size: exactly ND_JSONR_MAX_BODY accepted, one byte more refused. */
    s = malloc(ND_JSONR_MAX_BODY + 2);
    memset(s, ' ', ND_JSONR_MAX_BODY + 1);
    s[0] = '"';
    s[ND_JSONR_MAX_BODY - 1] = '"';
    is_int(nd_jsonr_parse(s, ND_JSONR_MAX_BODY, &d, err), ND_OK, "a body of the limit");
    nd_jsonr_free(d);
    is_int(nd_jsonr_parse(s, ND_JSONR_MAX_BODY + 1, &d, err), ND_ETOOBIG, "one byte more");
    free(s);
}

int main(void)
{
    test_platform_answers();
    test_numbers();
    test_roots();
    test_malformed();
    test_limits();
    return done_testing();
}
