/* test_silstore.c - run-time silences (silstore.h): matching, validation,
 * Alertmanager's update rules, expiry, retention, bounds, the file. */
#include "notifyd/silstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "notifyd/alert.h"
#include "tap.h"

#define S    INT64_C(1000000000)
#define NOW  (INT64_C(1893456000) * S) /* 2030-01-01T00:00:00Z */
#define HOUR (3600 * S)

static char tmpdir[256];

static struct nd_alert *mk(const char *n1, const char *v1, const char *n2, const char *v2)
{
    struct nd_alert_builder b;
    char err[ND_ERRLEN];
    struct nd_alert *a;

    nd_alert_builder_init(&b, 1 << 16);
    nd_alert_builder_add_label(&b, n1, strlen(n1), v1, strlen(v1));
    if (n2)
        nd_alert_builder_add_label(&b, n2, strlen(n2), v2, strlen(v2));
    a = nd_alert_builder_finish(&b, NULL, 0, err);
    nd_alert_builder_deinit(&b);
    if (!a)
        abort();
    return a;
}

/* RFC 3339 of NOW + off seconds. */
static const char *at(int64_t off_s)
{
    static char buf[4][32];
    static int k;
    time_t t = (time_t)(NOW / S + off_s);
    struct tm tm;
    char *b = buf[k++ % 4];
    gmtime_r(&t, &tm);
    strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

/* A body with the given matchers JSON and times (seconds from NOW). */
static char *body(const char *id, const char *matchers, int64_t start, int64_t end,
                  const char *comment)
{
    return nd_xasprintf("{%s%s%s\"matchers\":%s,\"startsAt\":\"%s\",\"endsAt\":\"%s\","
                        "\"createdBy\":\"me\",\"comment\":\"%s\"}",
                        id ? "\"id\":\"" : "", id ? id : "", id ? "\"," : "", matchers, at(start),
                        at(end), comment);
}

static int post(struct nd_silstore *s, int64_t now, char *b, char id[ND_SILSTORE_IDLEN],
                char err[ND_ERRLEN])
{
    int rc = nd_silstore_post(s, b, strlen(b), now, id, err);
    free(b);
    return rc;
}

static struct nd_silstore *mkstore(const char *path, size_t max)
{
    struct nd_silstore_opts o = {.path = path, .max_silences = max};
    struct nd_silstore *s;
    char err[ND_ERRLEN];
    if (nd_silstore_new(&o, NOW, &s, err) != ND_OK) {
        printf("# %s\n", err);
        abort();
    }
    return s;
}

static bool muted(struct nd_silstore *s, int64_t now, struct nd_alert *a)
{
    nd_silstore_begin(s, now);
    return nd_silstore_mute(s, a);
}

static char *state_of(struct nd_silstore *s, const char *id, int64_t now)
{
    static char st[32];
    struct nd_buf b;
    const char *p;
    nd_buf_init(&b, 1 << 20);
    st[0] = 0;
    if (nd_silstore_get_json(s, id, now, &b) == ND_OK && (p = strstr(b.data, "\"state\":\"")))
        sscanf(p + 9, "%31[a-z]", st);
    nd_buf_deinit(&b);
    return st;
}

static void test_matching(void)
{
    struct nd_silstore *s = mkstore(NULL, 0);
    char id[ND_SILSTORE_IDLEN], err[ND_ERRLEN];
    struct nd_alert *api = mk("job", "api", NULL, NULL);
    struct nd_alert *apisrv = mk("job", "api-server", NULL, NULL);
    struct nd_alert *prod = mk("env", "prod", "job", "db1");
    struct nd_alert *dev = mk("env", "dev", "job", "db1");

    is_int(post(s, NOW,
                body(NULL, "[{\"name\":\"job\",\"value\":\"api\",\"isRegex\":true}]", 0, 60, "c"),
                id, err),
           ND_OK, "regex silence created");
    is_int(strlen(id), 36, "UUID text");
    ok(id[14] == '4' && strchr("89ab", id[19]), "UUID version 4, RFC 4122 variant: %s", id);
    ok(muted(s, NOW, api), "job=~api matches job=api");
    ok(!muted(s, NOW, apisrv), "job=~api is anchored: not job=api-server");
    nd_silstore_expire(s, id, NOW, err);
    ok(!muted(s, NOW + S, api), "expired: mutes nothing");

    is_int(post(s, NOW,
                body(NULL,
                     "[{\"name\":\"env\",\"value\":\"prod\",\"isRegex\":false,\"isEqual\":false},{"
                     "\"name\":\"job\",\"value\":\"db.*\",\"isRegex\":true}]",
                     0, 60, "c"),
                id, err),
           ND_OK, "negated matcher");
    ok(muted(s, NOW, dev), "env!=prod, job=~db.*: matches env=dev job=db1");
    ok(!muted(s, NOW, prod), "env!=prod: not env=prod");
    ok(!muted(s, NOW, api), "job=~db.*: not job=api");
    nd_silstore_expire(s, id, NOW, err);

    is_int(post(s, NOW,
                body(NULL,
                     "[{\"name\":\"job\",\"value\":\"api\",\"isRegex\":false},{\"name\":\"env\","
                     "\"value\":\"prod\",\"isRegex\":false,\"isEqual\":false}]",
                     0, 60, "c"),
                id, err),
           ND_OK, "absent label");
    ok(muted(s, NOW, api), "env!=prod matches an alert without env (empty value)");
    nd_silstore_expire(s, id, NOW, err);

    is_int(post(s, NOW,
                body(NULL,
                     "[{\"name\":\"job\",\"value\":\"api.*\",\"isRegex\":true,\"isEqual\":false},{"
                     "\"name\":\"job\",\"value\":\".+\",\"isRegex\":true}]",
                     0, 60, "c"),
                id, err),
           ND_OK, "negated regex");
    ok(!muted(s, NOW, apisrv) && !muted(s, NOW, api) && muted(s, NOW, dev), "job!~api.*");
    nd_silstore_expire(s, id, NOW, err);

    is_int(
        post(s, NOW,
             body(NULL, "[{\"name\":\"job\",\"value\":\"api\",\"isRegex\":false}]", 100, 200, "c"),
             id, err),
        ND_OK, "pending silence");
    ok(!muted(s, NOW, api), "pending: not yet");
    ok(muted(s, NOW + 100 * S, api), "active at startsAt");
    ok(!muted(s, NOW + 200 * S, api), "expired at endsAt");

    nd_alert_unref(api);
    nd_alert_unref(apisrv);
    nd_alert_unref(prod);
    nd_alert_unref(dev);
    nd_silstore_free(s);
}

static void bad(struct nd_silstore *s, char *b, int want_rc, const char *want)
{
    char id[ND_SILSTORE_IDLEN], err[ND_ERRLEN] = "";
    int rc = post(s, NOW, b, id, err);
    is_int(rc, want_rc, "refused: %s", want);
    has_str(err, want, "message: %s", want);
}

static void test_validation(void)
{
    struct nd_silstore_opts o = {.max_matchers = 2, .max_size = 100};
    struct nd_silstore *s;
    char err[ND_ERRLEN];
    const char *m1 = "[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}]";

    nd_silstore_new(&o, NOW, &s, err);
    bad(s, body(NULL, "[]", 0, 60, "c"), ND_EINVAL,
        "invalid silence: at least one matcher required");
    bad(s, body(NULL, "[{\"name\":\"\",\"value\":\"b\",\"isRegex\":false}]", 0, 60, "c"), ND_EINVAL,
        "invalid label matcher 0: invalid label name \"\"");
    bad(s, body(NULL, "[{\"name\":\"a\",\"value\":\"(x\",\"isRegex\":true}]", 0, 60, "c"),
        ND_EINVAL, "invalid regular expression \"(x\": error parsing regexp");
    bad(s,
        body(NULL,
             "[{\"name\":\"a\",\"value\":\"x|\",\"isRegex\":true},{\"name\":\"b\",\"value\":\"\","
             "\"isRegex\":false}]",
             0, 60, "c"),
        ND_EINVAL, "at least one matcher must not match the empty string");
    bad(s,
        body(NULL, "[{\"name\":\"a\",\"value\":\"x\",\"isRegex\":false,\"isEqual\":false}]", 0, 60,
             "c"),
        ND_EINVAL, "at least one matcher must not match the empty string");
    bad(s, body(NULL, m1, 60, 0, "c"), ND_EINVAL,
        "invalid silence: end time must not be before start time");
    bad(s, body(NULL, m1, -120, -60, "c"), ND_EINVAL, "end time can't be in the past");
    bad(s,
        body(NULL,
             "[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false},{\"name\":\"c\",\"value\":\"b\","
             "\"isRegex\":false},{\"name\":\"d\",\"value\":\"b\",\"isRegex\":false}]",
             0, 60, "c"),
        ND_EINVAL, "3 matchers, more than max_silence_matchers (2)");
    bad(s,
        body(NULL, m1, 0, 60,
             "a long comment a long comment a long comment a long comment a long comment a long "
             "comment a long comment a long comment a long comment a long comment a long comment a "
             "long comment"),
        ND_EINVAL, "more than max_silence_size (100)");
    bad(s, nd_xstrdup("{\"matchers\":[]"), ND_EINVAL, "invalid JSON");
    bad(s, nd_xstrdup("[]"), ND_EINVAL, "a silence must be a JSON object");
    bad(s,
        nd_xasprintf("{\"matchers\":%s,\"startsAt\":\"%s\",\"endsAt\":\"%s\",\"comment\":\"c\"}",
                     m1, at(0), at(60)),
        ND_EINVAL, "createdBy in body is required");
    bad(s,
        nd_xasprintf("{\"matchers\":%s,\"startsAt\":\"yesterday\",\"endsAt\":\"%s\",\"createdBy\":"
                     "\"x\",\"comment\":\"c\"}",
                     m1, at(60)),
        ND_EINVAL, "startsAt in body must be of type date-time");
    bad(s, body(NULL, "[{\"name\":\"a\",\"value\":\"b\"}]", 0, 60, "c"), ND_EINVAL,
        "matchers.0.isRegex in body is required");
    bad(s, body(NULL, "[{\"name\":\"a\",\"value\":1,\"isRegex\":false}]", 0, 60, "c"), ND_EINVAL,
        "matchers.0.value in body is required and must be a string");
    bad(s, body("6a1c8f0e-0000-4000-8000-000000000000", m1, 0, 60, "c"), ND_SILSTORE_ENOTFOUND,
        "silence not found");
    bad(s, nd_xstrdup("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
        ND_EINVAL, "nesting deeper");
    is_int(nd_silstore_count(s), 0, "nothing was stored");
    is_int(nd_silstore_expire(s, "nope", NOW, err), ND_SILSTORE_ENOTFOUND,
           "expire of an unknown ID");
    nd_silstore_free(s);
}

static void test_update(void)
{
    struct nd_silstore *s = mkstore(NULL, 0);
    char id[ND_SILSTORE_IDLEN], id2[ND_SILSTORE_IDLEN], err[ND_ERRLEN];
    const char *m1 = "[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}]";
    const char *m2 = "[{\"name\":\"a\",\"value\":\"c\",\"isRegex\":false}]";

    /* Active: new endsAt and comment, same startsAt: in place. */
    post(s, NOW, body(NULL, m1, -10, 60, "one"), id, err);
    /* A startsAt in the past is moved to now on creation. */
    is_int(post(s, NOW, body(id, m1, 0, 120, "two"), id2, err), ND_OK, "update posted");
    is_str(id2, id, "active, only endsAt/comment changed: same ID");
    is_int(nd_silstore_count(s), 1, "still one silence");
    /* Active: matchers change: old expired, new ID. */
    is_int(post(s, NOW + S, body(id, m2, 1, 120, "three"), id2, err), ND_OK, "matchers changed");
    ok(strcmp(id2, id) != 0, "matchers changed: a new ID");
    is_str(state_of(s, id, NOW + S), "expired", "the old one is expired");
    is_str(state_of(s, id2, NOW + S), "active", "the new one is active");
    /* Active: startsAt changes: new ID. */
    strcpy(id, id2);
    is_int(post(s, NOW + 2 * S, body(id, m2, 100, 200, "c"), id2, err), ND_OK, "startsAt moved");
    ok(strcmp(id2, id) != 0, "active with a new startsAt: a new ID");
    is_str(state_of(s, id2, NOW + 2 * S), "pending", "the new one is pending");
    /* Pending: startsAt moved, still in the future: in place. */
    strcpy(id, id2);
    is_int(post(s, NOW + 3 * S, body(id, m2, 50, 200, "c"), id2, err), ND_OK, "pending update");
    is_str(id2, id, "pending, startsAt still in the future: same ID");
    /* Expired: a new ID, the old one stays expired. */
    nd_silstore_expire(s, id, NOW + 4 * S, err);
    is_str(state_of(s, id, NOW + 4 * S), "expired", "expiring a pending silence");
    is_int(nd_silstore_expire(s, id, NOW + 5 * S, err), ND_EINVAL, "expiring it twice");
    has_str(err, "already expired", "says so");
    is_int(post(s, NOW + 5 * S, body(id, m2, 10, 200, "c"), id2, err), ND_OK,
           "update of an expired one");
    ok(strcmp(id2, id) != 0, "expired: a new ID");
    nd_silstore_free(s);
}

static void test_retention_and_bounds(void)
{
    struct nd_silstore_opts o = {.max_silences = 2, .retention_ns = HOUR};
    struct nd_silstore *s;
    char id[ND_SILSTORE_IDLEN], a[ND_SILSTORE_IDLEN], err[ND_ERRLEN];
    const char *m1 = "[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}]";
    size_t p, ac, e;

    nd_silstore_new(&o, NOW, &s, err);
    post(s, NOW, body(NULL, m1, 0, 60, "c"), a, err);
    post(s, NOW, body(NULL, m1, 0, 60, "c"), id, err);
    is_int(post(s, NOW, body(NULL, m1, 0, 60, "c"), id, err), ND_EINVAL, "full of active silences");
    has_str(err, "exceeded maximum number of silences: 2 (limit: 2)", "Alertmanager's message");
    nd_silstore_expire(s, a, NOW, err);
    nd_silstore_counts(s, NOW + S, &p, &ac, &e);
    ok(p == 0 && ac == 1 && e == 1, "counts by state: 0 pending, 1 active, 1 expired");
    is_int(post(s, NOW + S, body(NULL, m1, 0, 60, "c"), id, err), ND_OK,
           "an expired one makes room");
    is_str(state_of(s, a, NOW + S), "", "the expired one went");
    is_int(nd_silstore_count(s), 2, "still two");
    nd_silstore_expire(s, id, NOW + 2 * S, err);
    is_int(nd_silstore_gc(s, NOW + 2 * S + HOUR - 1), 0, "kept until the retention has passed");
    is_int(nd_silstore_gc(s, NOW + 2 * S + HOUR), 1, "dropped once it has");
    is_int(nd_silstore_count(s), 1, "the active one stays");
    nd_silstore_free(s);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b = nd_xcalloc(1, 1 << 20);
    if (f) {
        size_t n = fread(b, 1, (1 << 20) - 1, f);
        b[n] = 0;
        fclose(f);
    }
    return b;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
}

static void test_file(void)
{
    char *path = nd_xasprintf("%s/sil.json", tmpdir);
    char *tmp = nd_xasprintf("%s.tmp", path);
    struct nd_silstore *s = mkstore(path, 0);
    struct nd_silstore_opts o = {.path = path};
    char id[ND_SILSTORE_IDLEN], id2[ND_SILSTORE_IDLEN], err[ND_ERRLEN];
    struct nd_buf l1, l2;
    char *before, *after;
    struct nd_alert *x = mk("alertname", "X", NULL, NULL);

    is_int(nd_silstore_count(s), 0, "a missing file is an empty store");
    post(s, NOW,
         body(NULL, "[{\"name\":\"alertname\",\"value\":\"X|Y\",\"isRegex\":true}]", 0, 600,
              "first \\\"quoted\\\""),
         id, err);
    post(s, NOW,
         body(NULL,
              "[{\"name\":\"alertname\",\"value\":\"Z\",\"isRegex\":false,\"isEqual\":false},"
              "{\"name\":\"env\",\"value\":\"prod\",\"isRegex\":false}]",
              100, 600, "second"),
         id2, err);
    nd_silstore_expire(s, id2, NOW + S, err);
    nd_buf_init(&l1, 1 << 20);
    nd_buf_init(&l2, 1 << 20);
    nd_silstore_list_json(s, NULL, false, NOW + S, &l1);
    nd_silstore_free(s);
    s = mkstore(path, 0);
    nd_silstore_list_json(s, NULL, false, NOW + S, &l2);
    is_str(l2.data, l1.data, "round trip: the same silences after reading the file");
    ok(muted(s, NOW + S, x), "a silence read back mutes");

    /* A failed write leaves the old file and the store as they were. */
    before = slurp(path);
    mkdir(tmp, 0700);
    is_int(post(s, NOW + S,
                body(NULL, "[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}]", 0, 60, "c"), id2,
                err),
           ND_ERR, "write failure reported");
    has_str(err, path, "the error names the file");
    is_int(nd_silstore_count(s), 2, "the new silence was not kept");
    is_int(nd_silstore_expire(s, id, NOW + S, err), ND_ERR, "expire: write failure reported");
    ok(muted(s, NOW + S, x), "the failed expire was undone");
    is_int(
        post(s, NOW + S,
             body(id, "[{\"name\":\"alertname\",\"value\":\"X|Y\",\"isRegex\":true}]", 0, 900, "c"),
             id2, err),
        ND_ERR, "update: write failure reported");
    after = slurp(path);
    is_str(after, before, "the old file is intact");
    nd_buf_reset(&l2);
    nd_silstore_list_json(s, NULL, false, NOW + S, &l2);
    is_str(l2.data, l1.data, "the store is as it was");
    rmdir(tmp);
    free(before);
    free(after);
    nd_silstore_free(s);

    /* Corrupt files: start errors naming the file. */
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"[{\"id\":", "invalid JSON"},
        {"{}", "not a JSON array of silences"},
        {"[{\"id\":\"ab\"}]", "silence 0: matchers in body is required"},
        {"[1]", "silence 0: a silence must be a JSON object"},
    };
    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        struct nd_silstore *c = NULL;
        spit(path, cases[i].text);
        is_int(nd_silstore_new(&o, NOW, &c, err), ND_ERR, "corrupt file %zu refused", i);
        ok(c == NULL, "no store");
        has_str(err, path, "names the file");
        has_str(err, cases[i].want, "says what: %s", cases[i].want);
    }
    /* The same ID twice. */
    {
        char *one = slurp(tmp); /* empty: just a buffer */
        struct nd_silstore *c = NULL;
        free(one);
        nd_buf_reset(&l1);
        s = mkstore(NULL, 0);
        post(s, NOW, body(NULL, "[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}]", 0, 60, "c"),
             id, err);
        nd_silstore_list_json(s, NULL, false, NOW, &l1);
        nd_silstore_free(s);
        char *twice =
            nd_xasprintf("[%.*s,%.*s]", (int)l1.len - 2, l1.data + 1, (int)l1.len - 2, l1.data + 1);
        spit(path, twice);
        is_int(nd_silstore_new(&o, NOW, &c, err), ND_ERR, "an ID given twice is refused");
        has_str(err, "given twice", "says so");
        free(twice);
    }
    unlink(path);
    nd_buf_deinit(&l1);
    nd_buf_deinit(&l2);
    nd_alert_unref(x);
    free(path);
    free(tmp);
}

static void test_filter(void)
{
    struct nd_silstore *s = mkstore(NULL, 0);
    struct nd_silstore_filter *f = NULL;
    char id[ND_SILSTORE_IDLEN], err[ND_ERRLEN];
    struct nd_buf b;

    post(s, NOW,
         body(NULL,
              "[{\"name\":\"alertname\",\"value\":\"Disk\",\"isRegex\":false},{\"name\":\"env\","
              "\"value\":\"prod\",\"isRegex\":false}]",
              0, 60, "c"),
         id, err);
    post(s, NOW,
         body(NULL, "[{\"name\":\"alertname\",\"value\":\"Cpu\",\"isRegex\":false}]", 0, 60, "c"),
         id, err);
    nd_buf_init(&b, 1 << 20);
    is_int(nd_silstore_filter_add(&f, "alertname=\"Disk\"", err), ND_OK, "quoted filter");
    nd_silstore_list_json(s, f, false, NOW, &b);
    ok(strstr(b.data, "Disk") && !strstr(b.data, "Cpu"), "filter alertname=\"Disk\"");
    nd_silstore_filter_free(f);
    f = NULL;
    nd_buf_reset(&b);
    is_int(nd_silstore_filter_add(&f, "{alertname=~\"D.*|Cpu\", env != prod}", err), ND_OK,
           "braces, regex, bare value");
    nd_silstore_list_json(s, f, false, NOW, &b);
    is_str(b.data, "[]", "env!=prod excludes the Disk silence, Cpu has no env matcher");
    nd_silstore_filter_free(f);
    f = NULL;
    nd_buf_reset(&b);
    is_int(nd_silstore_filter_add(&f, "alertname=~C.*", err), ND_OK, "bare regex");
    nd_silstore_list_json(s, f, false, NOW, &b);
    ok(strstr(b.data, "Cpu") && !strstr(b.data, "Disk"), "filter alertname=~C.* is anchored");
    nd_silstore_filter_free(f);
    f = NULL;
    is_int(nd_silstore_filter_add(&f, "alertname", err), ND_EINVAL, "no operator");
    has_str(err, "expected =, !=, =~ or !~", "says so");
    is_int(nd_silstore_filter_add(&f, "a=~\"(\"", err), ND_EINVAL, "bad regex");
    is_int(nd_silstore_filter_add(&f, "{a=\"b\"", err), ND_EINVAL, "unbalanced brace");
    is_int(nd_silstore_filter_add(&f, "a=\"b", err), ND_EINVAL, "unterminated quote");
    nd_silstore_filter_free(f);
    nd_buf_deinit(&b);
    nd_silstore_free(s);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_silstore.XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    test_matching();
    test_validation();
    test_update();
    test_retention_and_bounds();
    test_file();
    test_filter();
    rmdir(tmpdir);
    return done_testing();
}
