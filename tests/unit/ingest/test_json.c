/* Tests of src/ingest/json.c: both payload shapes, every error path, the
 * nesting limit, chunked input and the all-or-nothing rule. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "notifyd/alert.h"
#include "notifyd/ingest.h"
#include "notifyd/intern.h"
#include "notifyd/util.h"
#include "tap.h"

#define NOW_NS INT64_C(1800000000000000000) /* 2027-01-15T08:00:00Z */

/* A webhook body as Alertmanager 0.25 sends it (captured from a running
 * instance; the fields are type Message in notify/webhook/webhook.go and types
 * Data and Alert in template/template.go of github.com/prometheus/alertmanager),
 * plus unknown keys. */
static const char am_payload[] =
    "{\"receiver\":\"hook\",\"status\":\"firing\",\"alerts\":[\n"
    " {\"status\":\"firing\",\"labels\":{\"severity\":\"critical\",\"instance\":\"node1:9100\","
    "\"alertname\":\"HighCPU\"},"
    "  \"annotations\":{\"summary\":\"CPU > 90%\"},\"startsAt\":\"2026-11-23T22:22:59.290219322Z\","
    "  \"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://prom:9090/graph?g0.expr=up\","
    "\"fingerprint\":\"0000000000000000\"},\n"
    " {\"status\":\"resolved\",\"labels\":{\"alertname\":\"HighCPU\",\"instance\":\"node2:9100\","
    "\"severity\":\"critical\"},"
    "  \"annotations\":{\"summary\":\"CPU > "
    "90%\"},\"startsAt\":\"2024-05-01T10:00:00.123456789+08:00\","
    "  \"endsAt\":\"2024-05-01T11:00:00.5-02:30\",\"generatorURL\":\"\",\"fingerprint\":\"x\"}],\n"
    " \"groupLabels\":{\"alertname\":\"HighCPU\"},\"commonLabels\":{\"alertname\":\"HighCPU\","
    "\"severity\":\"critical\"},"
    " \"commonAnnotations\":{\"summary\":\"CPU > 90%\"},\"externalURL\":\"http://vm:19093\","
    "\"version\":\"4\","
    " \"groupKey\":\"{}:{alertname=\\\"HighCPU\\\"}\",\"truncatedAlerts\":0}\n";

static struct nd_ingest_opts opts(const char *cluster)
{
    struct nd_ingest_opts o = {cluster, 0, NOW_NS, 0};
    return o;
}

static int parse_str(const struct nd_ingest_opts *o, const char *body, struct nd_alert ***out,
                     size_t *n, enum nd_reject_reason *why, char *err)
{
    return nd_ingest_parse(o, body, strlen(body), out, n, why, err);
}

static const char *fp(const struct nd_alert *a, char buf[17])
{
    nd_fingerprint_format(nd_alert_fingerprint(a), buf);
    return buf;
}

static const char *tfmt(struct nd_time t, char buf[ND_TIME_MAXLEN])
{
    nd_time_format_rfc3339(&t, buf);
    return buf;
}

static bool zero_time(struct nd_time t)
{
    return nd_time_is_zero(&t);
}

/* An annotation's value (alert.h: values are read through a scratch buffer). */
static const char *ann(const struct nd_alert *a, const char *name)
{
    static struct nd_buf scratch = {NULL, 0, 0, SIZE_MAX / 2};
    return nd_alert_annotation(a, name, &scratch);
}

static void test_webhook_shape(void)
{
    struct nd_ingest_opts o = opts(NULL);
    struct nd_alert **al = NULL;
    size_t n = 0;
    char err[ND_ERRLEN] = "", f[17], tb[ND_TIME_MAXLEN];
    int rc = parse_str(&o, am_payload, &al, &n, NULL, err);
    is_int(rc, ND_OK, "AM payload parses (%s)", err);
    is_uint(n, 2, "two alerts");
    if (rc != ND_OK || n != 2)
        return;
    struct nd_alert *a = al[0], *b = al[1];
    is_uint(a->nlabels, 3, "three labels");
    is_str(nd_alert_label_at(a, 0).name, "alertname", "labels sorted [0]");
    is_str(nd_alert_label_at(a, 1).name, "instance", "labels sorted [1]");
    is_str(nd_alert_label_at(a, 2).name, "severity", "labels sorted [2]");
    is_str(nd_alert_label_at(a, 2).value, "critical", "label value");
    is_str(fp(a, f), "9cb550312d649b38", "fingerprint computed, given one ignored");
    is_str(fp(b, f), "697c04359f1d70a5", "fingerprint of node2");
    is_int(a->status, ND_ALERT_FIRING, "status firing");
    is_int(b->status, ND_ALERT_RESOLVED, "explicit status resolved");
    is_str(tfmt(nd_alert_starts_at(a), tb), "2026-11-23T22:22:59.290219322Z", "startsAt kept");
    ok(zero_time(nd_alert_ends_at(a)), "endsAt zero time");
    is_str(tfmt(nd_alert_starts_at(b), tb), "2024-05-01T10:00:00.123456789+08:00",
           "startsAt keeps offset and nanoseconds");
    is_str(tfmt(nd_alert_ends_at(b), tb), "2024-05-01T11:00:00.5-02:30", "endsAt keeps offset");
    is_str(nd_alert_generator_url(a), "http://prom:9090/graph?g0.expr=up", "generatorURL");
    is_str(nd_alert_generator_url(b), "", "empty generatorURL");
    is_uint(a->nannotations, 1, "one annotation");
    is_str(ann(a, "summary"), "CPU > 90%", "annotation value");
    is_int(a->refs, 1, "one reference each");
    nd_ingest_alerts_free(al, n);

    /* cluster label added when missing, kept when present */
    o = opts("prod");
    rc = parse_str(&o,
                   "{\"alerts\":[{\"labels\":{\"a\":\"1\"}},"
                   "{\"labels\":{\"a\":\"1\",\"cluster\":\"east\"}}]}",
                   &al, &n, NULL, err);
    is_int(rc, ND_OK, "cluster payload parses");
    if (rc == ND_OK && n == 2) {
        is_str(nd_alert_label(al[0], "cluster"), "prod", "cluster added");
        is_str(nd_alert_label(al[1], "cluster"), "east", "cluster kept");
        nd_ingest_alerts_free(al, n);
    }
}

static void test_unknown_keys(void)
{
    struct nd_ingest_opts o = opts(NULL);
    struct nd_alert **al = NULL;
    size_t n = 0;
    char err[ND_ERRLEN] = "";
    const char *body =
        "{\"x\":{\"alerts\":{\"labels\":5},\"y\":[[[{\"z\":[1,2,{\"w\":null}]}]]]},"
        "\"n\":123456789012345678901234567890,\"d\":-1.5e300,\"b\":true,\"nil\":null,"
        "\"arr\":[{\"labels\":1}],"
        "\"alerts\":[{\"extra\":{\"deep\":[{\"labels\":\"no\"}]},\"labels\":{\"a\":\"b\"},"
        "\"fingerprint\":{\"nested\":[1]},\"more\":[true,false,null,\"s\",0.1]}],"
        "\"after\":[{},[]]}";
    int rc = parse_str(&o, body, &al, &n, NULL, err);
    is_int(rc, ND_OK, "unknown keys skipped at any depth (%s)", err);
    is_uint(n, 1, "one alert");
    if (rc == ND_OK && n == 1) {
        is_str(nd_alert_label(al[0], "a"), "b", "its label");
        is_uint(al[0]->nlabels, 1, "only that label");
    }
    nd_ingest_alerts_free(al, n);

    /* Go matches field names case-insensitively */
    rc = parse_str(&o, "{\"Alerts\":[{\"LABELS\":{\"a\":\"b\"},\"Status\":\"resolved\"}]}", &al, &n,
                   NULL, err);
    is_int(rc, ND_OK, "case-insensitive keys");
    if (rc == ND_OK && n == 1)
        is_int(al[0]->status, ND_ALERT_RESOLVED, "Status read");
    nd_ingest_alerts_free(al, n);
}

static void test_array_shape(void)
{
    struct nd_ingest_opts o = opts(NULL);
    struct nd_alert **al = NULL;
    size_t n = 0;
    char err[ND_ERRLEN] = "", tb[ND_TIME_MAXLEN];
    const char *body =
        "[{\"labels\":{\"alertname\":\"Past\"},\"endsAt\":\"2020-01-01T00:00:00Z\","
        "\"startsAt\":\"2019-12-31T23:00:00+01:00\",\"generatorURL\":\"http://g\"},"
        " {\"labels\":{\"alertname\":\"Future\"},\"endsAt\":\"2099-01-01T00:00:00Z\"},"
        " {\"labels\":{\"alertname\":\"NoEnd\"},\"annotations\":{\"d\":\"x\"}},"
        " {\"labels\":{\"alertname\":\"Override\"},\"endsAt\":\"2099-01-01T00:00:00Z\","
        "\"status\":\"resolved\"},"
        " {\"labels\":{\"alertname\":\"Exact\"},\"endsAt\":\"2027-01-15T08:00:00Z\"}]";
    int rc = parse_str(&o, body, &al, &n, NULL, err);
    is_int(rc, ND_OK, "array shape parses (%s)", err);
    is_uint(n, 5, "five alerts");
    if (rc != ND_OK || n != 5)
        return;
    is_int(al[0]->status, ND_ALERT_RESOLVED, "endsAt in the past -> resolved");
    is_int(al[1]->status, ND_ALERT_FIRING, "endsAt in the future -> firing");
    is_int(al[2]->status, ND_ALERT_FIRING, "no endsAt -> firing");
    is_int(al[3]->status, ND_ALERT_RESOLVED, "explicit status wins");
    is_int(al[4]->status, ND_ALERT_RESOLVED, "endsAt == now -> resolved");
    is_str(tfmt(nd_alert_starts_at(al[0]), tb), "2019-12-31T23:00:00+01:00", "startsAt");
    is_str(nd_alert_generator_url(al[0]), "http://g", "generatorURL");
    ok(zero_time(nd_alert_starts_at(al[2])), "absent startsAt is zero time");
    is_str(ann(al[2], "d"), "x", "annotation");
    nd_ingest_alerts_free(al, n);
}

static void test_nulls(void)
{
    struct nd_ingest_opts o = opts(NULL);
    struct nd_alert **al = NULL;
    size_t n = 0;
    char err[ND_ERRLEN] = "";
    int rc = parse_str(&o,
                       "[{\"labels\":{\"a\":\"b\",\"gone\":null,\"empty\":\"\"},"
                       "\"annotations\":null,\"generatorURL\":null,\"startsAt\":null,"
                       "\"endsAt\":null,\"status\":null},"
                       " {\"labels\":{\"a\":\"x\",\"a\":\"y\"},\"annotations\":{\"k\":null}}]",
                       &al, &n, NULL, err);
    is_int(rc, ND_OK, "nulls are absent (%s)", err);
    if (rc != ND_OK || n != 2)
        return;
    is_uint(al[0]->nlabels, 1, "null and empty label values dropped");
    is_uint(al[0]->nannotations, 0, "null annotations");
    is_str(nd_alert_generator_url(al[0]), "", "null generatorURL");
    ok(zero_time(nd_alert_starts_at(al[0])) && zero_time(nd_alert_ends_at(al[0])), "null times");
    is_int(al[0]->status, ND_ALERT_FIRING, "null status derived");
    is_str(nd_alert_label(al[1], "a"), "y", "duplicate label keeps the last value");
    nd_ingest_alerts_free(al, n);

    rc = parse_str(&o, "{\"alerts\":[]}", &al, &n, NULL, err);
    is_int(rc, ND_OK, "empty alerts array is fine");
    is_uint(n, 0, "no alert");
    nd_ingest_alerts_free(al, n);
    rc = parse_str(&o, " []\n", &al, &n, NULL, err);
    is_int(rc, ND_OK, "empty top array is fine");
    nd_ingest_alerts_free(al, n);
}

struct bad_case {
    const char *body;
    size_t len; /* 0 = strlen */
    enum nd_reject_reason why;
    const char *msg;
};

static const struct bad_case bad_cases[] = {
    {"", 0, ND_REJECT_INVALID_JSON, "invalid JSON at byte 0: empty body"},
    {"   ", 0, ND_REJECT_INVALID_JSON, "invalid JSON at byte 3: parse error: premature EOF"},
    {"{\"alerts\":[", 0, ND_REJECT_INVALID_JSON,
     "invalid JSON at byte 11: parse error: premature EOF"},
    {"{\"alerts\" 1}", 0, ND_REJECT_INVALID_JSON,
     "invalid JSON at byte 11: parse error: object key and value must be separated by a colon "
     "(':')"},
    {"{\"alerts\":[],}", 0, ND_REJECT_INVALID_JSON,
     "invalid JSON at byte 14: parse error: invalid object key (must be a string)"},
    {"{\"alerts\":[]} x", 0, ND_REJECT_INVALID_JSON,
     "invalid JSON at byte 15: parse error: trailing garbage"},
    {"[{\"labels\":{\"a\":\"\xff\"}}]", 0, ND_REJECT_INVALID_JSON,
     "invalid JSON at byte 18: lexical error: invalid bytes in UTF8 string."},
    {"{'a':1}", 0, ND_REJECT_INVALID_JSON,
     "invalid JSON at byte 2: lexical error: invalid char in json text."},
    {"\"str\"", 0, ND_REJECT_BAD_SHAPE, "body: expected object or array"},
    {"42", 0, ND_REJECT_BAD_SHAPE, "body: expected object or array"},
    {"null", 0, ND_REJECT_BAD_SHAPE, "body: expected object or array"},
    {"{}", 0, ND_REJECT_BAD_SHAPE, "body: missing \"alerts\""},
    {"{\"alerts\":{}}", 0, ND_REJECT_BAD_SHAPE, "alerts: expected array"},
    {"{\"alerts\":null}", 0, ND_REJECT_BAD_SHAPE, "alerts: expected array"},
    {"{\"alerts\":[],\"alerts\":[]}", 0, ND_REJECT_BAD_SHAPE, "alerts: duplicate key"},
    {"{\"alerts\":[1]}", 0, ND_REJECT_BAD_SHAPE, "alerts[0]: expected object"},
    {"[{\"labels\":{\"a\":\"1\"}},null]", 0, ND_REJECT_BAD_SHAPE, "alerts[1]: expected object"},
    {"{\"alerts\":[{\"labels\":{\"a\":\"1\"}},{\"labels\":{\"a\":\"1\"}},{\"labels\":{\"a\":\"1\"}}"
     ","
     "{\"labels\":\"x\"}]}",
     0, ND_REJECT_BAD_SHAPE, "alerts[3].labels: expected object"},
    {"[{\"labels\":[]}]", 0, ND_REJECT_BAD_SHAPE, "alerts[0].labels: expected object"},
    {"[{\"labels\":{\"severity\":1}}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].labels.severity: expected string"},
    {"[{\"labels\":{\"severity\":true}}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].labels.severity: expected string"},
    {"[{\"labels\":{\"a\":\"b\"},\"annotations\":{\"n\":{}}}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].annotations.n: expected string"},
    {"[{\"labels\":{\"a\":\"b\"},\"annotations\":3}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].annotations: expected object"},
    {"[{\"labels\":{\"a\":\"1\"}},{\"labels\":{\"a\":\"1\"}},{\"labels\":{}}]", 0,
     ND_REJECT_BAD_SHAPE, "alerts[2].labels: at least one label required"},
    {"[{\"labels\":{\"a\":\"\"}}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].labels: at least one label required"},
    {"[{\"labels\":null}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].labels: at least one label required"},
    {"[{\"annotations\":{\"a\":\"b\"}}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].labels: at least one label required"},
    {"[{\"labels\":{\"a\":\"1\"}},{\"labels\":{\"a\":\"1\"},\"startsAt\":\"2024-13-01T00:00:00Z\"}"
     "]",
     0, ND_REJECT_BAD_SHAPE, "alerts[1].startsAt: invalid RFC 3339 time \"2024-13-01T00:00:00Z\""},
    {"[{\"labels\":{\"a\":\"1\"},\"endsAt\":\"\"}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].endsAt: invalid RFC 3339 time \"\""},
    {"[{\"labels\":{\"a\":\"1\"},\"endsAt\":\"a\\nb\"}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].endsAt: invalid RFC 3339 time \"a\\u000ab\""},
    {"[{\"labels\":{\"a\":\"1\"},\"endsAt\":1700000000}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].endsAt: expected string"},
    {"[{\"labels\":{\"a\":\"1\"},\"generatorURL\":[]}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].generatorURL: expected string"},
    {"[{\"labels\":{\"a\":\"1\"},\"status\":\"pending\"}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].status: expected \"firing\" or \"resolved\""},
    {"[{\"labels\":{\"a\":\"1\"},\"status\":1}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].status: expected string"},
    {"[{\"labels\":{\"a\":\"x\\u0000y\"}}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].labels.a: contains a NUL byte"},
    {"[{\"labels\":{\"a\\u0000b\":\"x\"}}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].labels.a\\u0000b: contains a NUL byte"},
    {"[{\"labels\":{\"a\":\"b\"},\"annotations\":{\"d\":\"\\u0000\"}}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].annotations.d: contains a NUL byte"},
    {"[{\"labels\":{\"a\":\"b\"},\"generatorURL\":\"http://x/\\u0000\"}]", 0, ND_REJECT_BAD_SHAPE,
     "alerts[0].generatorURL: contains a NUL byte"},
    {"[{\"labels\":{\"a\":\"b\"}},{\"labels\":{\"\":\"x\"},\"annotations\":{\"\":3}}]", 0,
     ND_REJECT_BAD_SHAPE, "alerts[1].annotations.: expected string"},
    {"{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 0,
     ND_REJECT_TOO_DEEP, "nesting deeper than 64 at byte 69"},
    {"{\"alerts\":[{\"labels\":{\"a\":\"b\"},\"x\":"
     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]}",
     0, ND_REJECT_TOO_DEEP, "nesting deeper than 64 at byte 97"},
};

static void test_errors(void)
{
    struct nd_ingest_opts o = opts("c");
    for (size_t i = 0; i < ND_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct nd_alert **al = (struct nd_alert **)&al; /* must be reset to NULL */
        size_t n = 99;
        enum nd_reject_reason why = ND_REJECT__COUNT;
        char err[ND_ERRLEN] = "";
        size_t len = c->len ? c->len : strlen(c->body);
        int rc = nd_ingest_parse(&o, c->body, len, &al, &n, &why, err);
        ok(rc != ND_OK, "case %zu rejected", i);
        is_str(err, c->msg, "case %zu message", i);
        is_int(why, c->why, "case %zu reason %s", i, nd_reject_reason_str(c->why));
        ok(al == NULL && n == 0, "case %zu: no alerts out", i);
    }
}

static void test_limits(void)
{
    struct nd_ingest_opts o = opts(NULL);
    struct nd_alert **al = NULL;
    size_t n = 0;
    enum nd_reject_reason why = ND_REJECT__COUNT;
    char err[ND_ERRLEN] = "";

    /* a million '[': the second one is already a bad alert */
    size_t big = 1000000;
    char *deep = malloc(big);
    memset(deep, '[', big);
    int rc = nd_ingest_parse(&o, deep, big, &al, &n, &why, err);
    ok(rc != ND_OK, "1,000,000 '[' rejected");
    is_str(err, "alerts[0]: expected object", "as a bad shape");
    /* where unknown keys may nest: refused at depth 65, no crash, no stack growth */
    memcpy(deep, "{\"x\":", 5);
    rc = nd_ingest_parse(&o, deep, big, &al, &n, &why, err);
    ok(rc != ND_OK, "{\"x\": and 999,995 '[' rejected");
    is_int(why, ND_REJECT_TOO_DEEP, "reason too_deep");
    is_str(err, "nesting deeper than 64 at byte 69", "too deep message");
    /* the same with '{"a":' so that keys are involved */
    size_t unit = 5, reps = big / unit;
    for (size_t i = 0; i < reps; i++)
        memcpy(deep + i * unit, "{\"a\":", unit);
    rc = nd_ingest_parse(&o, deep, reps * unit, &al, &n, &why, err);
    is_int(why, ND_REJECT_TOO_DEEP, "deep objects rejected as too_deep");
    free(deep);

    /* a configured depth */
    o.max_depth = 3;
    rc = parse_str(&o, "[{\"labels\":{\"a\":\"b\"}}]", &al, &n, &why, err);
    is_int(rc, ND_OK, "depth 3 within max_depth 3");
    nd_ingest_alerts_free(al, n);
    rc = parse_str(&o, "[{\"labels\":{\"a\":\"b\"},\"x\":[[]]}]", &al, &n, &why, err);
    ok(rc != ND_OK, "depth 4 over max_depth 3 rejected");
    is_str(err, "nesting deeper than 3 at byte 27", "depth 4 over max_depth 3");

    /* one alert larger than max_alert_bytes */
    o = opts(NULL);
    o.max_alert_bytes = 64;
    rc = parse_str(&o,
                   "[{\"labels\":{\"a\":\"b\"}},{\"labels\":{\"a\":\"b\"},\"annotations\":{\"d\":"
                   "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}}]",
                   &al, &n, &why, err);
    is_int(rc, ND_ETOOBIG, "alert over max_alert_bytes");
    is_int(why, ND_REJECT_TOO_LARGE, "reason too_large");
    is_str(err, "alerts[1]: alert larger than 64 bytes", "too large message");
    ok(al == NULL && n == 0, "nothing out");

    /* 65,536 labels (0.9 MB) pass no byte limit: the count is the limit,
     * named as such; 65,535 fit, unless the cluster label is added */
    struct nd_buf many;
    nd_buf_init(&many, 8 << 20);
    for (int k = 0; k < 4; k++) {
        static const unsigned counts[] = {65536, 65535, 65535, 70000};
        const char *field = k == 3 ? "annotations" : "labels";
        nd_buf_reset(&many);
        nd_buf_adds(&many,
                    k == 3 ? "[{\"labels\":{\"a\":\"b\"},\"annotations\":{" : "[{\"labels\":{");
        for (unsigned j = 0; j < counts[k]; j++)
            nd_buf_printf(&many, "%s\"l%u\":\"v\"", j ? "," : "", j);
        nd_buf_adds(&many, "}}]");
        o = opts(k == 2 ? "c" : NULL);
        rc = nd_ingest_parse(&o, many.data, many.len, &al, &n, &why, err);
        if (k == 1) {
            is_int(rc, ND_OK, "65,535 labels, no cluster added: accepted (%s)", err);
            ok(n == 1 && al[0]->nlabels == 65535, "all 65,535 kept");
            nd_ingest_alerts_free(al, n);
            continue;
        }
        is_int(rc, ND_ETOOBIG, "%u %s in a %zu-byte body: refused", counts[k], field, many.len);
        is_int(why, ND_REJECT_TOO_LARGE, "as too_large");
        is_str(err,
               k == 0   ? "alerts[0].labels: more than 65535 labels"
               : k == 2 ? "alerts[0].labels: more than 65535 labels with the cluster label"
                        : "alerts[0].annotations: more than 65535 annotations",
               "the message names the count limit");
    }
    nd_buf_deinit(&many);

    /* quoted input is cut at a UTF-8 character boundary */
    o = opts(NULL);
    char body[256];
    snprintf(body, sizeof body, "[{\"labels\":{\"a\":\"b\"},\"startsAt\":\"%s\"}]",
             "2024-\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
             "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
             "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9");
    rc = parse_str(&o, body, &al, &n, &why, err);
    is_str(err,
           "alerts[0].startsAt: invalid RFC 3339 time \"2024-\xc3\xa9\xc3\xa9\xc3\xa9"
           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9..."
           "\"",
           "long quoted value cut between characters");
}

/* Alerts 0..4 are built before alerts[5] fails: none may survive. The heap
 * in use must be back where it was (and LeakSanitizer checks it too). */
static void test_all_or_nothing(void)
{
    struct nd_ingest_opts o = opts("c");
    struct nd_alert **al = NULL;
    size_t n = 0;
    enum nd_reject_reason why;
    char err[ND_ERRLEN];
    char body[4096] = "{\"alerts\":[";
    for (int i = 0; i < 5; i++)
        snprintf(body + strlen(body), sizeof body - strlen(body),
                 "{\"labels\":{\"alertname\":\"A%d\",\"x\":\"%0200d\"},\"annotations\":"
                 "{\"s\":\"t\"},\"generatorURL\":\"http://x\"},",
                 i, i);
    strcat(body, "{\"labels\":{\"alertname\":\"bad\"},\"startsAt\":\"yesterday\"}]}");

    /* warm up whatever the C library caches on first use */
    nd_ingest_parse(&o, body, strlen(body), &al, &n, &why, err);
    struct mallinfo2 before = mallinfo2();
    int rc = nd_ingest_parse(&o, body, strlen(body), &al, &n, &why, err);
    struct mallinfo2 after = mallinfo2();
    ok(rc != ND_OK, "alerts[5] fails the request");
    is_str(err, "alerts[5].startsAt: invalid RFC 3339 time \"yesterday\"", "its message");
    ok(al == NULL && n == 0, "no alert handed out");
    /* glibc's tcache keeps freed chunks counted as in use: the check needs
     * it off (meson sets GLIBC_TUNABLES); ASan's leak check covers it too. */
    const char *tun = getenv("GLIBC_TUNABLES");
    if (tun && strstr(tun, "tcache_count=0"))
        is_int(after.uordblks, before.uordblks,
               "heap in use unchanged: the 5 built alerts were freed");
    else
        ok(1, "heap in use unchanged # SKIP needs GLIBC_TUNABLES=glibc.malloc.tcache_count=0");

    /* and the good prefix alone is 5 alerts, so they really had been built */
    char *cut = strstr(body, ",{\"labels\":{\"alertname\":\"bad\"");
    strcpy(cut, "]}");
    rc = nd_ingest_parse(&o, body, strlen(body), &al, &n, &why, err);
    is_int(rc, ND_OK, "the first five alone parse");
    is_uint(n, 5, "five");
    nd_ingest_alerts_free(al, n);
}

static void noop_cleanup(const void *data, size_t len, void *arg)
{
    ND_UNUSED(data);
    ND_UNUSED(len);
    ND_UNUSED(arg);
}

/* One evbuffer chain per `step` bytes: the parser sees many chunks. */
static struct evbuffer *chunked(const char *s, size_t len, size_t step)
{
    struct evbuffer *b = evbuffer_new();
    for (size_t i = 0; i < len; i += step)
        evbuffer_add_reference(b, s + i, len - i < step ? len - i : step, noop_cleanup, NULL);
    return b;
}

static void test_evbuffer(void)
{
    struct nd_ingest_opts o = opts(NULL);
    struct nd_alert **al = NULL;
    size_t n = 0;
    enum nd_reject_reason why;
    char err[ND_ERRLEN] = "", f[17];
    static const size_t steps[] = {1, 3, 7, 64, 100000};
    for (size_t i = 0; i < ND_ARRAY_LEN(steps); i++) {
        struct evbuffer *b = chunked(am_payload, strlen(am_payload), steps[i]);
        int rc = nd_ingest_parse_evbuffer(&o, b, &al, &n, &why, err);
        is_int(rc, ND_OK, "evbuffer in %zu-byte chunks parses (%s)", steps[i], err);
        if (rc == ND_OK && n == 2) {
            is_str(fp(al[0], f), "9cb550312d649b38", "fingerprint via chunks of %zu", steps[i]);
            is_str(ann(al[1], "summary"), "CPU > 90%", "annotation via chunks");
        } else {
            ok(0, "two alerts via chunks of %zu", steps[i]);
        }
        nd_ingest_alerts_free(al, n);
        is_uint(evbuffer_get_length(b), strlen(am_payload), "buffer not drained");
        evbuffer_free(b);
    }
    /* error byte offsets count across chunks */
    for (size_t i = 0; i < ND_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct evbuffer *b = chunked(c->body, strlen(c->body), 2);
        nd_ingest_parse_evbuffer(&o, b, &al, &n, &why, err);
        if (c->why == ND_REJECT_INVALID_JSON || c->why == ND_REJECT_TOO_DEEP)
            is_str(err, c->msg, "chunked case %zu message", i);
        evbuffer_free(b);
    }
    struct evbuffer *empty = evbuffer_new();
    int rc = nd_ingest_parse_evbuffer(&o, empty, &al, &n, &why, err);
    ok(rc != ND_OK, "empty evbuffer rejected");
    is_str(err, "invalid JSON at byte 0: empty body", "empty evbuffer message");
    evbuffer_free(empty);
}

/* Every truncation of a valid payload is invalid JSON (it ends in "}\n"),
 * and byte mutations never crash, leak (ASan) or hand out alerts on error. */
static void test_mutations(void)
{
    struct nd_ingest_opts o = opts("c");
    struct nd_alert **al = NULL;
    size_t n = 0, len = strlen(am_payload);
    enum nd_reject_reason why;
    char err[ND_ERRLEN];
    size_t bad_prefix = 0;
    for (size_t cut = 0; cut + 1 < len; cut++) {
        int rc = nd_ingest_parse(&o, am_payload, cut, &al, &n, &why, err);
        if (rc == ND_OK || why != ND_REJECT_INVALID_JSON || al || n) {
            printf("# prefix %zu: rc %d, %s\n", cut, rc, err);
            bad_prefix++;
        }
        nd_ingest_alerts_free(al, n);
    }
    is_uint(bad_prefix, 0, "all %zu truncations rejected as invalid JSON", len - 1);
    int rc = nd_ingest_parse(&o, am_payload, len - 1, &al, &n, &why, err);
    is_int(rc, ND_OK, "without its final newline it parses");
    nd_ingest_alerts_free(al, n);

    static const char subst[] = {'"', '{', '}', '[', ']', ',', ':', '0', '\\', 'x', '\x80', '\0'};
    char *copy = malloc(len);
    size_t accepted = 0, rejected = 0, inconsistent = 0;
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof subst; k++) {
            memcpy(copy, am_payload, len);
            copy[i] = subst[k];
            err[0] = '\0';
            rc = nd_ingest_parse(&o, copy, len, &al, &n, &why, err);
            if (rc == ND_OK) {
                accepted++;
                nd_ingest_alerts_free(al, n);
            } else {
                rejected++;
                if (al || n || !err[0])
                    inconsistent++;
            }
        }
    }
    free(copy);
    ok(accepted > 0 && rejected > 0, "mutations: %zu accepted, %zu rejected", accepted, rejected);
    is_uint(inconsistent, 0, "every rejection has a message and no alerts");
}

/* One alert as text, everything a reader can see: two parses of the same
 * body must give the same text. */
static void dump_alert(const struct nd_alert *a, struct nd_buf *out)
{
    static struct nd_buf scratch = {NULL, 0, 0, SIZE_MAX / 2};
    char f[17], t1[ND_TIME_MAXLEN], t2[ND_TIME_MAXLEN];
    nd_buf_printf(out, "%s %s %s %s %s|", fp(a, f), nd_alert_status_str(a->status),
                  tfmt(nd_alert_starts_at(a), t1), tfmt(nd_alert_ends_at(a), t2),
                  nd_alert_generator_url(a));
    for (size_t i = 0; i < a->nlabels; i++) {
        struct nd_kv kv = nd_alert_label_at(a, i);
        nd_buf_printf(out, "%s=%s,", kv.name, kv.value);
    }
    nd_buf_adds(out, "|");
    for (size_t i = 0; i < a->nannotations; i++) {
        struct nd_kv kv = nd_alert_annotation_at(a, i, &scratch);
        nd_buf_printf(out, "%s=%s,", kv.name, kv.value);
    }
    nd_buf_adds(out, "\n");
}

/* The alerts of a parse as text, or the error ("ERR reason: message"). */
static void dump_result(int rc, struct nd_alert **al, size_t n, enum nd_reject_reason why,
                        const char *err, struct nd_buf *out)
{
    nd_buf_reset(out);
    if (rc != ND_OK) {
        nd_buf_printf(out, "ERR %d %s: %s%s", rc, nd_reject_reason_str(why), err,
                      al || n ? " (and alerts out)" : "");
        return;
    }
    for (size_t i = 0; i < n; i++)
        dump_alert(al[i], out);
    nd_ingest_alerts_free(al, n);
}

/* Feeds `body` to a stream `step` bytes at a time from a scratch buffer that
 * is overwritten after each feed: nothing may point into a piece after its
 * feed returned (a label name whose value comes in the next piece). */
static void parse_stream(const struct nd_ingest_opts *o, const char *body, size_t len, size_t step,
                         struct nd_buf *out)
{
    struct nd_ingest_stream *st = nd_ingest_stream_new(o);
    char *piece = malloc(step);
    int rc = ND_OK;
    for (size_t i = 0; i < len; i += step) {
        size_t k = len - i < step ? len - i : step;
        memcpy(piece, body + i, k);
        rc = nd_ingest_stream_feed(st, piece, k);
        memset(piece, '#', k);
    }
    free(piece);
    struct nd_alert **al = (struct nd_alert **)&al;
    size_t n = 99;
    enum nd_reject_reason why = ND_REJECT__COUNT;
    char err[ND_ERRLEN] = "";
    int rc2 = nd_ingest_stream_end(st, &al, &n, &why, err);
    if (rc != ND_OK && rc2 != rc)
        nd_buf_printf(out, "feed said %d, end said %d", rc, rc2);
    dump_result(rc2, al, n, why, err, out);
}

/* Label and annotation names with escapes (yajl decodes them into its own
 * buffer), long names and values, both shapes: the cases where the parser
 * must copy a name rather than point at it. */
static const char stream_body[] =
    "{\"alerts\":[{\"labels\":{\"alert\\u006eame\":\"Esc\",\"a\\\"q\":\"x\\ny\","
    "\"a_rather_long_label_name_that_spans_pieces\":\"and_a_value_that_is_long_too_0123456789\","
    "\"severity\":\"warning\",\"empty\":\"\",\"nul\":null},\"annotations\":{\"summary\":"
    "\"s\\u00e9 \\ud83d\\ude00\",\"d\\u00e9\":\"v\"},\"startsAt\":\"2024-05-01T10:00:00+08:00\","
    "\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://g/\\u0041\"},"
    "{\"labels\":{\"alertname\":\"Esc\",\"b\":\"2\"},\"startsAt\":\"2024-05-01T10:00:00+08:00\","
    "\"endsAt\":\"2024-05-01T11:00:00Z\",\"Status\":\"firing\"}]}";

static void test_stream(void)
{
    struct nd_ingest_opts o = opts("c");
    struct nd_buf whole, part;
    nd_buf_init(&whole, 1 << 20);
    nd_buf_init(&part, 1 << 20);
    const char *bodies[] = {am_payload, stream_body};
    static const size_t steps[] = {1, 2, 3, 5, 7, 11, 64, 100000};
    for (size_t b = 0; b < ND_ARRAY_LEN(bodies); b++) {
        struct nd_alert **al = NULL;
        size_t n = 0;
        enum nd_reject_reason why = ND_REJECT__COUNT;
        char err[ND_ERRLEN] = "";
        size_t len = strlen(bodies[b]);
        int rc = nd_ingest_parse(&o, bodies[b], len, &al, &n, &why, err);
        is_int(rc, ND_OK, "body %zu parses whole (%s)", b, err);
        dump_result(rc, al, n, why, err, &whole);
        size_t same = 0;
        for (size_t i = 0; i < ND_ARRAY_LEN(steps); i++) {
            parse_stream(&o, bodies[b], len, steps[i], &part);
            if (strcmp(nd_buf_cstr(&part), nd_buf_cstr(&whole)) == 0)
                same++;
            else
                printf("# body %zu in %zu-byte pieces:\n# %s\n# whole:\n# %s\n", b, steps[i],
                       nd_buf_cstr(&part), nd_buf_cstr(&whole));
        }
        is_uint(same, ND_ARRAY_LEN(steps), "body %zu fed in pieces of 1..100000 bytes: same alerts",
                b);
    }
    /* the escaped and long names really came through */
    {
        struct nd_alert **al = NULL;
        size_t n = 0;
        char err[ND_ERRLEN] = "";
        int rc = nd_ingest_parse(&o, stream_body, strlen(stream_body), &al, &n, NULL, err);
        if (rc == ND_OK && n == 2) {
            is_str(nd_alert_label(al[0], "alertname"), "Esc", "escaped label name");
            is_str(nd_alert_label(al[0], "a\"q"), "x\ny", "escaped name and value");
            is_str(nd_alert_label(al[0], "a_rather_long_label_name_that_spans_pieces"),
                   "and_a_value_that_is_long_too_0123456789", "long name");
            is_str(ann(al[0], "d\xc3\xa9"), "v", "annotation name with \\u00e9");
            is_str(ann(al[0], "summary"), "s\xc3\xa9 \xf0\x9f\x98\x80", "surrogate pair decoded");
        } else {
            ok(0, "stream body parses (%s)", err);
        }
        nd_ingest_alerts_free(al, n);
    }

    /* every error: the same message whole and in pieces (byte offsets count
     * across pieces, paths and names are kept) */
    size_t same = 0;
    for (size_t i = 0; i < ND_ARRAY_LEN(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len = c->len ? c->len : strlen(c->body);
        struct nd_alert **al = NULL;
        size_t n = 0;
        enum nd_reject_reason why = ND_REJECT__COUNT;
        char err[ND_ERRLEN] = "";
        int rc = nd_ingest_parse(&o, c->body, len, &al, &n, &why, err);
        dump_result(rc, al, n, why, err, &whole);
        size_t ok_steps = 0;
        for (size_t k = 1; k <= 3; k++) {
            parse_stream(&o, c->body, len, k, &part);
            if (strcmp(nd_buf_cstr(&part), nd_buf_cstr(&whole)) == 0)
                ok_steps++;
            else
                printf("# case %zu in %zu-byte pieces: %s\n# whole: %s\n", i, k, nd_buf_cstr(&part),
                       nd_buf_cstr(&whole));
        }
        same += ok_steps == 3;
    }
    is_uint(same, ND_ARRAY_LEN(bad_cases), "every bad case: same error in 1, 2, 3-byte pieces");

    /* after an error, feeds do nothing and keep it */
    struct nd_ingest_stream *st = nd_ingest_stream_new(&o);
    is_int(nd_ingest_stream_feed(st, "[{\"labels\":{\"a\":1}}", 19), ND_EINVAL, "error at once");
    is_int(nd_ingest_stream_feed(st, "]", 1), ND_EINVAL, "kept by the next feed");
    struct nd_alert **al = NULL;
    size_t n = 0;
    enum nd_reject_reason why = ND_REJECT__COUNT;
    char err[ND_ERRLEN] = "";
    is_int(nd_ingest_stream_end(st, &al, &n, &why, err), ND_EINVAL, "and by the end");
    is_str(err, "alerts[0].labels.a: expected string", "with the first message");
    ok(al == NULL && n == 0, "no alerts out");

    /* an empty stream is an empty body */
    st = nd_ingest_stream_new(&o);
    is_int(nd_ingest_stream_end(st, &al, &n, &why, err), ND_EINVAL, "empty stream rejected");
    is_str(err, "invalid JSON at byte 0: empty body", "as an empty body");

    /* abandoned with alerts built and a name pending: all freed (the string
     * table is back to its size; LeakSanitizer checks the blocks) */
    size_t interned = nd_intern_count();
    st = nd_ingest_stream_new(&o);
    nd_ingest_stream_feed(st, stream_body, 400);
    ok(nd_intern_count() > interned, "a stream holds strings while it builds");
    nd_ingest_stream_free(st);
    is_uint(nd_intern_count(), interned, "freeing it releases them");
    nd_ingest_stream_free(NULL);
    nd_buf_deinit(&whole);
    nd_buf_deinit(&part);
}

/* Field names: exact, other cases, and keys that are almost one (same
 * length, same first letter) are skipped as unknown. */
static void test_field_names(void)
{
    struct nd_ingest_opts o = opts(NULL);
    struct nd_alert **al = NULL;
    size_t n = 0;
    char err[ND_ERRLEN] = "", tb[ND_TIME_MAXLEN];
    int rc = parse_str(&o,
                       "[{\"LABELS\":{\"a\":\"b\"},\"ANNOTATIONS\":{\"s\":\"t\"},"
                       "\"STARTSAT\":\"2024-01-01T00:00:00Z\",\"endsat\":\"2024-01-02T00:00:00Z\","
                       "\"GeneratorUrl\":\"http://g\",\"sTATUS\":\"firing\"},"
                       "{\"labels\":{\"a\":\"c\"},\"labelz\":5,\"annotationz\":[],"
                       "\"startsAd\":1,\"endsA\\u0074\":\"2024-01-03T00:00:00Z\","
                       "\"generatorUR\":{},\"st@tus\":\"resolved\",\"statu\":0,"
                       "\"\\u017ftatus\":\"resolved\",\"lab\\u0065ls\":{\"d\":\"e\"}}]",
                       &al, &n, NULL, err);
    is_int(rc, ND_OK, "field names in any case (%s)", err);
    if (rc == ND_OK && n == 2) {
        is_str(nd_alert_label(al[0], "a"), "b", "LABELS");
        is_str(ann(al[0], "s"), "t", "ANNOTATIONS");
        is_str(tfmt(nd_alert_starts_at(al[0]), tb), "2024-01-01T00:00:00Z", "STARTSAT");
        is_str(tfmt(nd_alert_ends_at(al[0]), tb), "2024-01-02T00:00:00Z", "endsat");
        is_str(nd_alert_generator_url(al[0]), "http://g", "GeneratorUrl");
        is_int(al[0]->status, ND_ALERT_FIRING, "sTATUS (over the past endsAt)");
        is_str(nd_alert_label(al[1], "d"), "e", "an escaped name is matched once decoded");
        is_str(nd_alert_label(al[1], "a"), "c",
               "merged with the first labels, as Go's decoder does");
        is_str(tfmt(nd_alert_ends_at(al[1]), tb), "2024-01-03T00:00:00Z", "escaped endsAt");
        is_int(al[1]->status, ND_ALERT_RESOLVED, "st@tus, statu and \\u017ftatus skipped");
        is_uint(al[1]->nannotations, 0, "annotationz skipped");
        ok(zero_time(nd_alert_starts_at(al[1])), "startsAd skipped");
        is_str(nd_alert_generator_url(al[1]), "", "generatorUR skipped");
    }
    nd_ingest_alerts_free(al, n);
}

/* A time string repeated across alerts is parsed once; every alert still
 * gets its own value, and a different string is parsed again. */
static void test_repeated_times(void)
{
    struct nd_ingest_opts o = opts(NULL);
    struct nd_alert **al = NULL;
    size_t n = 0;
    enum nd_reject_reason why;
    char err[ND_ERRLEN] = "", tb[ND_TIME_MAXLEN];
    int rc = parse_str(&o,
                       "[{\"labels\":{\"a\":\"1\"},\"startsAt\":\"2024-05-01T10:00:00.5+08:00\","
                       "\"endsAt\":\"0001-01-01T00:00:00Z\"},"
                       "{\"labels\":{\"a\":\"2\"},\"startsAt\":\"2024-05-01T10:00:00.5+08:00\","
                       "\"endsAt\":\"2024-05-01T10:00:00.5+08:00\"},"
                       "{\"labels\":{\"a\":\"3\"},\"startsAt\":\"2024-05-01T10:00:00.5+08:01\","
                       "\"endsAt\":\"0001-01-01T00:00:00Z\"},"
                       "{\"labels\":{\"a\":\"4\"},\"startsAt\":\"2024-05-01T10:00:00.5+08:00\"}]",
                       &al, &n, &why, err);
    is_int(rc, ND_OK, "repeated times parse (%s)", err);
    if (rc == ND_OK && n == 4) {
        is_str(tfmt(nd_alert_starts_at(al[0]), tb), "2024-05-01T10:00:00.5+08:00", "startsAt 0");
        is_str(tfmt(nd_alert_starts_at(al[1]), tb), "2024-05-01T10:00:00.5+08:00", "startsAt 1");
        is_str(tfmt(nd_alert_ends_at(al[1]), tb), "2024-05-01T10:00:00.5+08:00",
               "endsAt 1 (the startsAt string, in the other field)");
        is_str(tfmt(nd_alert_starts_at(al[2]), tb), "2024-05-01T10:00:00.5+08:01",
               "startsAt 2 differs in its last byte");
        ok(zero_time(nd_alert_ends_at(al[2])), "endsAt 2 zero again");
        is_str(tfmt(nd_alert_starts_at(al[3]), tb), "2024-05-01T10:00:00.5+08:00", "startsAt 3");
        ok(zero_time(nd_alert_ends_at(al[3])), "absent endsAt stays zero");
    }
    nd_ingest_alerts_free(al, n);

    rc = parse_str(&o,
                   "[{\"labels\":{\"a\":\"1\"},\"startsAt\":\"2024-01-01T00:00:00Z\"},"
                   "{\"labels\":{\"a\":\"2\"},\"startsAt\":\"2024-01-01T00:00:00Z \"}]",
                   &al, &n, &why, err);
    ok(rc != ND_OK, "a good time then the same with a trailing space");
    is_str(err, "alerts[1].startsAt: invalid RFC 3339 time \"2024-01-01T00:00:00Z \"",
           "is still refused");
}

/* yajl 2.1 checks only the shape of UTF-8 sequences in raw bytes: a lead
 * byte followed by the right number of continuation bytes. Invalid bytes are
 * refused as invalid JSON with yajl's message and offset; overlong forms,
 * surrogates and code points above U+10FFFF (lead bytes up to 0xf7) pass, as
 * they always have here. Pinned so that any change (our own validation, a
 * newer yajl) is deliberate. */
static void test_utf8(void)
{
#define FFFD "\xef\xbf\xbd"
    /* What yajl 2.1 lets through but is not UTF-8 becomes one U+FFFD per
     * byte, as Go's encoding/json decodes it: these very values, POSTed to
     * Alertmanager 0.25, came back so. */
    static const struct {
        const char *s; /* put into a label value and into a label name */
        const char *what;
        int ok;
        const char *go; /* the decoded string, when ok */
    } cases[] = {
        {"\xc3\xa9", "2-byte", 1, "\xc3\xa9"},
        {"\xe2\x82\xac", "3-byte", 1, "\xe2\x82\xac"},
        {"\xf0\x9f\x98\x80", "4-byte", 1, "\xf0\x9f\x98\x80"},
        {"\xc0\x80", "overlong NUL", 1, FFFD FFFD},
        {"\xc1\xbf", "overlong 2-byte", 1, FFFD FFFD},
        {"\xe0\x80\xaf", "overlong 3-byte", 1, FFFD FFFD FFFD},
        {"\xed\xa0\x80", "UTF-16 surrogate", 1, FFFD FFFD FFFD},
        {"\xf4\x90\x80\x80", "above U+10FFFF", 1, FFFD FFFD FFFD FFFD},
        {"\xf5\x80\x80\x80", "lead byte 0xf5", 1, FFFD FFFD FFFD FFFD},
        {"\xed\x9f\xbf", "U+D7FF, below the surrogates", 1, "\xed\x9f\xbf"},
        {"\xf4\x8f\xbf\xbf", "U+10FFFF", 1, "\xf4\x8f\xbf\xbf"},
        {"\xff", "0xff", 0, NULL},
        {"\xfe", "0xfe", 0, NULL},
        {"\xf8\x88\x80\x80\x80", "5-byte", 0, NULL},
        {"\x80", "lone continuation byte", 0, NULL},
        {"\xc3", "truncated 2-byte", 0, NULL},
        {"\xe2\x82", "truncated 3-byte", 0, NULL},
        {"\xf0\x9f\x98", "truncated 4-byte", 0, NULL},
        {"\xe2x\xac", "3-byte broken by ASCII", 0, NULL},
    };
    struct nd_ingest_opts o = opts(NULL);
    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        for (int in_name = 0; in_name < 2; in_name++) {
            char body[128];
            /* the bad byte is at offset 12 (name) or 16 (value) */
            if (in_name)
                snprintf(body, sizeof body, "[{\"labels\":{\"%sx\":\"v\"}}]", cases[i].s);
            else
                snprintf(body, sizeof body, "[{\"labels\":{\"a\":\"%sx\"}}]", cases[i].s);
            struct nd_alert **al = NULL;
            size_t n = 0;
            enum nd_reject_reason why = ND_REJECT__COUNT;
            char err[ND_ERRLEN] = "";
            int rc = nd_ingest_parse(&o, body, strlen(body), &al, &n, &why, err);
            const char *where = in_name ? "name" : "value";
            if (cases[i].ok) {
                is_int(rc, ND_OK, "%s in a label %s: accepted (%s)", cases[i].what, where, err);
                if (rc == ND_OK && n == 1) {
                    char want[32];
                    snprintf(want, sizeof want, "%sx", cases[i].go);
                    if (in_name)
                        is_str(nd_alert_label(al[0], want), "v", "%s name as Go decodes it",
                               cases[i].what);
                    else
                        is_str(nd_alert_label(al[0], "a"), want, "%s value as Go decodes it",
                               cases[i].what);
                }
                nd_ingest_alerts_free(al, n);
            } else {
                ok(rc != ND_OK && why == ND_REJECT_INVALID_JSON && !al && !n,
                   "%s in a label %s: invalid JSON", cases[i].what, where);
                ok(strstr(err, "lexical error: invalid bytes in UTF8 string.") != NULL &&
                       strncmp(err, "invalid JSON at byte ", 21) == 0,
                   "%s in a label %s: yajl's message (%s)", cases[i].what, where, err);
            }
        }
    }
}

/* Escaped UTF-16 surrogates decode as Go's encoding/json decodes them
 * (U+FFFD for one that is not half of a pair), so fingerprints equal
 * Alertmanager's. Each body is {"alertname":"Sur","case":"I","v":"RAW"};
 * the decoded value and the fingerprint were read back from Alertmanager
 * 0.25 (Debian's prometheus-alertmanager) after POSTing these very bodies
 * to its /api/v2/alerts. */
static void test_surrogates(void)
{
    static const struct {
        const char *raw; /* JSON text of the value */
        const char *want;
        const char *fp;
    } cases[] = {
        {"\\ud800", "\xef\xbf\xbd", "9ee7c6ff046fcffd"},
        {"\\ud800x", "\xef\xbf\xbdx", "40f4cacb4c19c2e2"},
        {"\\udc00", "\xef\xbf\xbd", "a31d3ea447cc3787"},
        {"\\ud800\\u0041",
         "\xef\xbf\xbd"
         "A",
         "48bfd19278605051"},
        {"\\ud83d\\ude00", "\xf0\x9f\x98\x80", "5c546e36052f619f"},
        {"a\\udbff\\udfffb",
         "a\xf4\x8f\xbf\xbf"
         "b",
         "238891c629280bb1"},
        {"\\udc00\\ud800\\udc00", "\xef\xbf\xbd\xf0\x90\x80\x80", "d11c3ce658fbbbbb"},
        {"\\ud800\\ud800\\udc00", "\xef\xbf\xbd\xf0\x90\x80\x80", "0b33a1fa228678ca"},
        {"\\ud800\\n", "\xef\xbf\xbd\n", "830df80f59cbd61b"},
        {"\\uD800\\\\u0041", "\xef\xbf\xbd\\u0041", "03f9c52ef08d5860"},
        {"x\\uDBFF", "x\xef\xbf\xbd", "edf06078f9c63e98"},
        {"\\uDFFF\\uD800", "\xef\xbf\xbd\xef\xbf\xbd", "51cafdf164c9acb2"},
        {"\\ud800\\udbff", "\xef\xbf\xbd\xef\xbf\xbd", "6d2385a25caf0d8f"},
    };
    struct nd_ingest_opts o = opts(NULL);
    struct nd_buf whole, part;
    nd_buf_init(&whole, 1 << 20);
    nd_buf_init(&part, 1 << 20);
    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        char body[256], id[8], f[17];
        snprintf(id, sizeof id, "%zu", i);
        snprintf(body, sizeof body,
                 "[{\"labels\":{\"alertname\":\"Sur\",\"case\":\"%s\",\"v\":\"%s\"}}]", id,
                 cases[i].raw);
        struct nd_alert **al = NULL;
        size_t n = 0;
        enum nd_reject_reason why = ND_REJECT__COUNT;
        char err[ND_ERRLEN] = "";
        int rc = nd_ingest_parse(&o, body, strlen(body), &al, &n, &why, err);
        is_int(rc, ND_OK, "\"%s\" parses (%s)", cases[i].raw, err);
        if (rc != ND_OK || n != 1)
            continue;
        is_str(nd_alert_label(al[0], "v"), cases[i].want, "\"%s\": decoded as Go does",
               cases[i].raw);
        is_str(fp(al[0], f), cases[i].fp, "\"%s\": Alertmanager's fingerprint", cases[i].raw);
        dump_result(rc, al, n, why, err, &whole);
        /* cut anywhere, even inside an escape or between the two of a pair */
        size_t same = 0, steps = 0;
        for (size_t step = 1; step <= 14; step++, steps++) {
            parse_stream(&o, body, strlen(body), step, &part);
            if (strcmp(nd_buf_cstr(&part), nd_buf_cstr(&whole)) == 0)
                same++;
            else
                printf("# %zu-byte pieces:\n# %s\n# whole:\n# %s\n", step, nd_buf_cstr(&part),
                       nd_buf_cstr(&whole));
        }
        is_uint(same, steps, "\"%s\" in pieces of 1..14 bytes: the same", cases[i].raw);
    }

    /* in a label name too; a bad escape is still yajl's error, at its byte */
    struct nd_alert **al = NULL;
    size_t n = 0;
    enum nd_reject_reason why = ND_REJECT__COUNT;
    char err[ND_ERRLEN] = "";
    int rc = parse_str(&o, "[{\"labels\":{\"n\\udc01\":\"x\"}}]", &al, &n, &why, err);
    is_int(rc, ND_OK, "lone surrogate in a label name: accepted (%s)", err);
    if (rc == ND_OK && n == 1)
        is_str(nd_alert_label(al[0], "n\xef\xbf\xbd"), "x", "name decoded as Go does");
    nd_ingest_alerts_free(al, n);
    rc = parse_str(&o, "[{\"labels\":{\"n\":\"\\ud800\\u12\"}}]", &al, &n, &why, err);
    ok(rc != ND_OK && why == ND_REJECT_INVALID_JSON, "bad escape after a high surrogate: invalid");
    has_str(err, "invalid JSON at byte ", "yajl's message (%s)", err);
    rc = parse_str(&o, "[{\"labels\":{\"n\":\"x\"}}]\\ud800", &al, &n, &why, err);
    ok(rc != ND_OK && why == ND_REJECT_INVALID_JSON, "surrogate escape after the body: invalid");
    rc = parse_str(&o, "[{\"labels\":{\"n\":\"\\ud8", &al, &n, &why, err);
    ok(rc != ND_OK && why == ND_REJECT_INVALID_JSON, "body ending inside an escape: invalid");
    nd_buf_deinit(&whole);
    nd_buf_deinit(&part);
}

#undef FFFD

/* Fingerprints of labels with bytes that are not UTF-8, as Alertmanager 0.25
 * computed them for {"alertname":"Raw","case":"I","v":"RAW"}. */
static void test_raw_utf8_fingerprints(void)
{
    static const struct {
        const char *raw, *fp;
    } cases[] = {
        {"\xc0\x80", "aed9e795cde3d446"},
        {"\xe0\x80\xaf", "a85343d5db559d42"},
        {"\xed\xa0\x80", "dca0ba61ffe79289"},
        {"\xf4\x90\x80\x80", "ab56897c27fe6179"},
        {"a\xf5\x80\x80\x80"
         "b",
         "133c7b862cb308b9"},
        {"\xc3\xa9ok", "b98dfa2489230891"},
        {"\xc1\xbf", "704f6af39fa76f88"},
    };
    struct nd_ingest_opts o = opts(NULL);
    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        char body[128], f[17];
        snprintf(body, sizeof body,
                 "[{\"labels\":{\"alertname\":\"Raw\",\"case\":\"%zu\",\"v\":\"%s\"}}]", i,
                 cases[i].raw);
        struct nd_alert **al = NULL;
        size_t n = 0;
        char err[ND_ERRLEN] = "";
        int rc = nd_ingest_parse(&o, body, strlen(body), &al, &n, NULL, err);
        is_int(rc, ND_OK, "raw case %zu parses (%s)", i, err);
        if (rc == ND_OK && n == 1)
            is_str(fp(al[0], f), cases[i].fp, "raw case %zu: Alertmanager's fingerprint", i);
        nd_ingest_alerts_free(al, n);
    }
}

int main(void)
{
    test_webhook_shape();
    test_unknown_keys();
    test_array_shape();
    test_nulls();
    test_errors();
    test_limits();
    test_all_or_nothing();
    test_evbuffer();
    test_mutations();
    test_stream();
    test_field_names();
    test_repeated_times();
    test_utf8();
    test_surrogates();
    test_raw_utf8_fingerprints();
    return done_testing();
}
