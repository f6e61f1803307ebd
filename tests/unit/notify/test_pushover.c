/* test_pushover.c - the Pushover receiver without the network: every
 * config error it reports (file:line:key), the recipients (user_keys and
 * profiles) as fan-out lanes, the exact request body of each lane, the
 * title cut at max_title_size characters, a blank message refused, and
 * the verdicts on Pushover's answers (https://pushover.net/api). */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "notifyd/config.h"
#include "notifyd/engine.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "notifyd/util.h"
#include "tap.h"

#define TOKEN "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
#define U1    "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
#define U2    "gznej3rKEVAvPUxu9vvNnqpmZpokzF"
#define U3    "pQiRzpo4DXghDmr9QzzfQu27cmVRs3"

static const char templates[] =
    "{{ define \"po.msg\" }}MSG {{ .CommonLabels.alertname }} <&>{{ end }}"
    "{{ define \"po.title\" }}T {{ len .Alerts }}{{ end }}"
    "{{ define \"po.long\" }}{{ range .Alerts }}{{ .Labels.t }}{{ end }}{{ end }}"
    "{{ define \"po.empty\" }}{{ if false }}x{{ end }}{{ end }}";

static struct nd_receiver_config *find_rc(struct nd_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nreceivers; i++)
        if (strcmp(c->receivers[i].name, name) == 0)
            return &c->receivers[i];
    return NULL;
}

static bool has_error(const struct nd_config_errors *e, const char *want)
{
    size_t i;

    for (i = 0; i < e->n; i++)
        if (strstr(e->msgs[i], want))
            return true;
    return false;
}

static void test_config_errors(struct nd_template_set *set)
{
    static const char ini[] = "[receiver.a]\n"                                /* 1 */
                              "type = pushover\n"                             /* 2 */
                              "[receiver.b]\n"                                /* 3 */
                              "type = pushover\n"                             /* 4 */
                              "token = short\n"                               /* 5 */
                              "user_keys = " U1 ", abc, " U1 "\n"             /* 6 */
                              "devices = phone, way-too-long-device-name-x\n" /* 7 */
                              "sound = honk\n"                                /* 8 */
                              "priority = 3\n"                                /* 9 */
                              "retry = 10s\n"                                 /* 10 */
                              "max_message_size = 10\n"                       /* 11 */
                              "max_title_size = 5\n"                          /* 12 */
                              "api_url = ftp://x\n"                           /* 13 */
                              "template = nope\n"                             /* 14 */
                              "profile.x!.user_key = " U2 "\n"                /* 15 */
                              "profile.y.devices = tab\n"                     /* 16 */
                              "profile.y.colour = red\n"                      /* 17 */
                              "[receiver.c]\n"                                /* 18 */
                              "type = pushover\n"                             /* 19 */
                              "token = env:NOTIFYD_PUSHOVER_TEST_UNSET\n"     /* 20 */
                              "profile.p.user_key = " U2 "\n"                 /* 21 */
                              "devices = phone\n"                             /* 22 */
                              "sound = siren\n"                               /* 23 */
                              "priority = 2\n"                                /* 24 */
                              "[receiver.d]\n"                                /* 25 */
                              "type = pushover\n"                             /* 26 */
                              "token = " TOKEN "\n"                           /* 27 */
                              "user_keys = " U1 "\n"                          /* 28 */
                              "priority = 2\n"                                /* 29 */
                              "retry = 29s\n"                                 /* 30 */
                              "expire = 3h1s\n"                               /* 31 */
                              "[receiver.e]\n"                                /* 32 */
                              "type = pushover\n"                             /* 33 */
                              "token = " TOKEN "\n"                           /* 34 */
                              "user_keys = " U1 "\n"                          /* 35 */
                              "priority = 2\n"                                /* 36 */
                              "retry = 30.5s\n"                               /* 37 */
                              "expire = 0s\n"                                 /* 38 */
                              "title_template = nope\n"                       /* 39 */
                              "[receiver.f]\n"                                /* 40 */
                              "type = pushover\n"                             /* 41 */
                              "token =\n"                                     /* 42 */
                              "user_keys = " U1 "\n"                          /* 43 */
                              "expire = 1h\n";                                /* 44 */
    static const char *const want[] = {
        "p.ini:1: [receiver.a] token: missing key",
        "p.ini:1: [receiver.a] user_keys: missing key: want user_keys or profile.NAME.user_key",
        "p.ini:5: [receiver.b] token: invalid application token: want 30 letters and digits",
        "p.ini:6: [receiver.b] user_keys: invalid user key \"abc\"",
        "p.ini:6: [receiver.b] user_keys: user key \"" U1 "\" listed twice",
        "p.ini:7: [receiver.b] devices: invalid device name \"way-too-long-device-name-x\"",
        "p.ini:8: [receiver.b] sound: unknown sound \"honk\"",
        "p.ini:9: [receiver.b] priority: invalid value \"3\": want -2, -1, 0, 1 or 2",
        "p.ini:10: [receiver.b] retry: only with priority = 2",
        "p.ini:11: [receiver.b] max_message_size: want at least 64 bytes",
        "p.ini:12: [receiver.b] max_title_size: want at least 32 characters",
        "p.ini:13: [receiver.b] api_url: want an http:// or https:// URL",
        "p.ini:14: [receiver.b] template: ",
        "p.ini:15: [receiver.b] profile.x!.user_key: invalid profile name \"x!\"",
        "p.ini:16: [receiver.b] profile.y.user_key: missing key: profile y needs a user or group "
        "key",
        "p.ini:17: [receiver.b] profile.y.colour: unknown key for type pushover",
        "p.ini:20: [receiver.c] token: ",
        "p.ini:22: [receiver.c] devices: applies to user_keys, which is not set",
        "p.ini:23: [receiver.c] sound: applies to user_keys, which is not set",
        "p.ini:24: [receiver.c] retry: missing key: priority = 2 (emergency) needs retry and "
        "expire",
        "p.ini:24: [receiver.c] expire: missing key",
        "p.ini:30: [receiver.d] retry: want whole seconds, at least 30s",
        "p.ini:31: [receiver.d] expire: want whole seconds, from 1s to 3h (10800s)",
        "p.ini:37: [receiver.e] retry: want whole seconds, at least 30s",
        "p.ini:38: [receiver.e] expire: want whole seconds, from 1s to 3h (10800s)",
        "p.ini:39: [receiver.e] title_template: ",
        "p.ini:42: [receiver.f] token: missing key",
        "p.ini:44: [receiver.f] expire: only with priority = 2",
    };
    static const char *const names[] = {"a", "b", "c", "d", "e", "f"};
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    size_t i;

    unsetenv("NOTIFYD_PUSHOVER_TEST_UNSET");
    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(ini, "p.ini", &c, &errs), ND_OK, "bad receivers: file loads");
    if (!c)
        return;
    for (i = 0; i < ND_ARRAY_LEN(names); i++)
        is_int(nd_receiver_check(find_rc(c, names[i]), &c->delivery, set, &errs), ND_EINVAL,
               "receiver %s refused", names[i]);
    for (i = 0; i < ND_ARRAY_LEN(want); i++)
        ok(has_error(&errs, want[i]), "error: %s", want[i]);
    for (i = 0; i < errs.n; i++)
        ok(strstr(errs.msgs[i], TOKEN) == NULL, "no token in: %s", errs.msgs[i]);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
}

static struct nd_notification *mk_two(const char *t)
{
    static const char *const group[] = {"alertname", "Disk", NULL};
    const char *l1[] = {"alertname", "Disk", "t", t, NULL};
    const char *l2[] = {"alertname", "Disk", "t", "b", NULL};
    struct nd_alert *a[2];

    a[0] = mk_alert(l1, NULL, "2026-11-26T10:00:00Z", NULL, NULL);
    a[1] = mk_alert(l2, NULL, "2026-11-26T10:00:00Z", NULL, NULL);
    return mk_notification("po", a, 2, group, group, NULL);
}

static void body_of(void *st, struct nd_notification *n, const struct nd_parts *p, uint32_t lane,
                    struct nd_request *req)
{
    const struct nd_receiver_type *t = &nd_receiver_type_pushover;
    struct nd_part part = {lane, 0, p->lanes, p->chunks, p->ud};
    char err[ND_ERRLEN] = "";

    nd_request_init(req);
    is_int(t->build_part(st, n, &part, NULL, req, err), ND_OK, "lane %u: built %s", lane, err);
}

static void test_requests(struct nd_template_set *set)
{
    static const char ini[] = "[receiver.po]\n"
                              "type = pushover\n"
                              "token = " TOKEN "\n"
                              "user_keys = " U1 ", " U2 "\n"
                              "devices = iphone, nexus_5\n"
                              "sound = siren\n"
                              "priority = 2\n"
                              "retry = 1m\n"
                              "expire = 1h\n"
                              "template = po.msg\n"
                              "title_template = po.title\n"
                              "api_url = http://127.0.0.1:1/1/\n"
                              "profile.ops.user_key = " U3 "\n"
                              "[receiver.plain]\n"
                              "type = pushover\n"
                              "token = " TOKEN "\n"
                              "profile.ops.user_key = " U3 "\n"
                              "profile.ops.sound = echo\n"
                              "profile.dev.devices = tab-1\n"
                              "profile.dev.user_key = " U1 "\n"
                              "template = po.long\n"
                              "title_template = po.long\n"
                              "max_title_size = 40\n"
                              "[receiver.empty]\n"
                              "type = pushover\n"
                              "token = " TOKEN "\n"
                              "user_keys = " U1 "\n"
                              "template = po.empty\n";
    const struct nd_receiver_type *t = &nd_receiver_type_pushover;
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    void *po = NULL, *plain = NULL, *empty = NULL;
    struct nd_notification *n;
    struct nd_parts p;
    struct nd_request req;
    char err[ND_ERRLEN] = "", longt[601];
    size_t i;

    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(ini, "p.ini", &c, &errs), ND_OK, "config loads");
    if (!c)
        return;
    is_int(t->configure(find_rc(c, "po"), set, &po, &errs), ND_OK, "po configured");
    is_int(t->configure(find_rc(c, "plain"), set, &plain, &errs), ND_OK, "plain configured");
    is_int(t->configure(find_rc(c, "empty"), set, &empty, &errs), ND_OK, "empty configured");
    is_int(errs.n, 0, "no config errors %s", errs.n ? errs.msgs[0] : "");
    if (!po || !plain || !empty)
        goto out;

    n = mk_two("a");
    memset(&p, 0, sizeof(p));
    is_int(t->parts(po, n, &p, err), ND_OK, "po: parts");
    is_int(p.lanes, 3, "po: a lane per user key and per profile");
    is_int(p.chunks, 1, "po: one chunk");
    body_of(po, n, &p, 0, &req);
    is_str(req.url, "http://127.0.0.1:1/1/messages.json", "po: URL (trailing / ignored)");
    is_str(req.method, "POST", "po: POST");
    is_str(nd_buf_cstr(&req.body),
           "{\"token\":\"" TOKEN "\",\"user\":\"" U1 "\",\"message\":\"MSG Disk \\u003c\\u0026"
           "\\u003e\",\"device\":\"iphone,nexus_5\",\"title\":\"T 2\",\"priority\":2,\"sound\":"
           "\"siren\",\"retry\":60,\"expire\":3600}",
           "po lane 0: the exact body, Go's escaping, emergency retry/expire in seconds");
    nd_request_deinit(&req);
    body_of(po, n, &p, 1, &req);
    has_str(nd_buf_cstr(&req.body), "\"user\":\"" U2 "\",", "po lane 1: the second user key");
    has_str(nd_buf_cstr(&req.body), "\"device\":\"iphone,nexus_5\"", "po lane 1: shared devices");
    nd_request_deinit(&req);
    body_of(po, n, &p, 2, &req);
    is_str(nd_buf_cstr(&req.body),
           "{\"token\":\"" TOKEN "\",\"user\":\"" U3 "\",\"message\":\"MSG Disk \\u003c\\u0026"
           "\\u003e\",\"title\":\"T 2\",\"priority\":2,\"retry\":60,\"expire\":3600}",
           "po lane 2 (profile without devices and sound): neither sent");
    nd_request_deinit(&req);
    t->free_parts(po, p.ud);
    nd_notification_unref(n);

    /* A title of 300 two-byte characters: 40 characters kept, mark included. */
    for (i = 0; i < 300; i++)
        memcpy(longt + 2 * i, "\xc3\xa9", 2);
    longt[600] = '\0';
    n = mk_two(longt);
    memset(&p, 0, sizeof(p));
    is_int(t->parts(plain, n, &p, err), ND_OK, "plain: parts");
    is_int(p.lanes, 2, "plain: two profiles, two lanes");
    body_of(plain, n, &p, 0, &req);
    has_str(nd_buf_cstr(&req.body), "\"user\":\"" U3 "\",\"message\":\"",
            "plain lane 0: profile ops first (file order)");
    has_str(nd_buf_cstr(&req.body), "\"sound\":\"echo\"}", "plain lane 0: the profile's sound");
    ok(strstr(nd_buf_cstr(&req.body), "\"priority\"") == NULL, "priority 0: not sent");
    {
        char want[200];
        size_t off = (size_t)snprintf(want, sizeof(want), "\"title\":\"");

        for (i = 0; i < 28; i++)
            off += (size_t)snprintf(want + off, sizeof(want) - off, "\xc3\xa9");
        snprintf(want + off, sizeof(want) - off, "\xe2\x80\xa6[truncated]\",");
        has_str(nd_buf_cstr(&req.body), want,
                "title cut to max_title_size characters (28 + the 12 of the mark)");
    }
    nd_request_deinit(&req);
    body_of(plain, n, &p, 1, &req);
    has_str(nd_buf_cstr(&req.body), "\"user\":\"" U1 "\"", "plain lane 1: profile dev");
    has_str(nd_buf_cstr(&req.body), "\"device\":\"tab-1\"", "plain lane 1: its device");
    ok(strstr(nd_buf_cstr(&req.body), "\"sound\"") == NULL, "plain lane 1: no sound");
    nd_request_deinit(&req);
    t->free_parts(plain, p.ud);
    nd_notification_unref(n);

    n = mk_two("a");
    memset(&p, 0, sizeof(p));
    err[0] = '\0';
    is_int(t->parts(empty, n, &p, err), ND_EINVAL, "blank message: the notification fails");
    has_str(err, "rendered an empty message", "blank message: said so");
    nd_notification_unref(n);
out:
    if (po)
        t->free_state(po);
    if (plain)
        t->free_state(plain);
    if (empty)
        t->free_state(empty);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
}

static void verdict(void *state, int curl_code, long status, const char *hdrs, const char *body,
                    int64_t now_wall, struct nd_verdict *v)
{
    struct nd_buf b, hdr;
    struct nd_response r;

    nd_buf_init(&b, ND_RESPONSE_BODY_MAX);
    nd_buf_init(&hdr, 1024);
    nd_buf_adds(&b, body);
    nd_buf_adds(&hdr, hdrs);
    memset(&r, 0, sizeof(r));
    r.curl_code = curl_code;
    r.curl_error = curl_code ? "Connection refused" : "";
    r.status = status;
    r.body = &b;
    r.headers = &hdr;
    r.now_wall_ns = now_wall;
    memset(v, 0, sizeof(*v));
    v->delay_ns = -1;
    nd_receiver_type_pushover.classify(state, &r, v);
    nd_buf_deinit(&b);
    nd_buf_deinit(&hdr);
}

static void test_verdicts(struct nd_template_set *set)
{
    static const char ini[] = "[receiver.po]\n"
                              "type = pushover\n"
                              "token = " TOKEN "\n"
                              "user_keys = " U1 "\n";
    const struct nd_receiver_type *t = &nd_receiver_type_pushover;
    /* 2026-05-31T23:00:00Z; the limit resets an hour later. */
    const int64_t now = INT64_C(1780268400) * ND_NS_PER_S;
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    struct nd_verdict v;
    void *po = NULL;

    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(ini, "p.ini", &c, &errs), ND_OK, "config loads");
    if (c)
        is_int(t->configure(&c->receivers[0], set, &po, &errs), ND_OK, "configured");
    if (!po)
        goto out;

    verdict(po, 0, 200, "", "{\"status\":1,\"request\":\"647d2300-702c-4b38-8b2f-d56326ae460b\"}",
            now, &v);
    is_int(v.kind, ND_VERDICT_DELIVERED, "200 + status 1: delivered");
    verdict(po, 0, 200, "", "{\"status\":0,\"errors\":[\"odd\"],\"request\":\"r\"}", now, &v);
    is_int(v.kind, ND_VERDICT_FAILED, "200 + status 0: failed");
    is_str(v.reason, "status 200: odd", "200 + status 0: the errors");
    verdict(po, 0, 200, "", "<html>", now, &v);
    is_int(v.kind, ND_VERDICT_FAILED, "200 with a body that is not JSON: failed");
    has_str(v.reason, "without \"status\": 1", "200 unreadable: said so");
    verdict(po, 0, 400, "",
            "{\"user\":\"invalid\",\"errors\":[\"user identifier is not a valid user, group, or "
            "subscribed user key\",\"device name is not valid for user\"],\"status\":0,"
            "\"request\":\"5042853c\"}",
            now, &v);
    is_int(v.kind, ND_VERDICT_FAILED, "400 + status 0: failed at once");
    is_str(v.reason,
           "status 400: user identifier is not a valid user, group, or subscribed user key; "
           "device name is not valid for user",
           "400: the errors joined by '; '");
    verdict(po, 0, 400, "", "{\"token\":\"invalid\",\"errors\":[\"token " TOKEN " is bad\"]}", now,
            &v);
    is_str(v.reason, "status 400: token <token> is bad", "an echoed token is scrubbed");
    verdict(po, 0, 401, "", "nope " TOKEN, now, &v);
    is_int(v.kind, ND_VERDICT_FAILED, "401 without JSON: failed (generic rule)");
    ok(strstr(v.reason, TOKEN) == NULL && strstr(v.reason, "nope <token>"),
       "the body excerpt is scrubbed too: %s", v.reason);
    verdict(po, 0, 500, "", "", now, &v);
    ok(v.kind == ND_VERDICT_RETRY && v.delay_ns == -1, "500: retried after the backoff");
    verdict(po, 0, 503, "", "{\"status\":0,\"errors\":[\"down for maintenance\"]}", now, &v);
    is_int(v.kind, ND_VERDICT_RETRY, "503 with errors: retried");
    is_str(v.reason, "status 503: down for maintenance", "503: Pushover's words in the reason");
    verdict(po, 7, 0, "", "", now, &v);
    ok(v.kind == ND_VERDICT_RETRY && strstr(v.reason, "Connection refused"),
       "connection error: retried");
    verdict(po, 0, 429,
            "X-Limit-App-Limit: 10000\r\nX-Limit-App-Remaining: 0\r\n"
            "X-Limit-App-Reset: 1780272000\r\n",
            "{\"errors\":[\"application is over its message limit\"],\"status\":0}", now, &v);
    is_int(v.kind, ND_VERDICT_RETRY, "429 with the reset time: retry");
    is_int(v.delay_ns, 3600 * ND_NS_PER_S, "429: at the reset time");
    is_str(v.reason,
           "status 429: application message limit reached, resets at 2026-06-01T00:00:00Z: "
           "application is over its message limit",
           "429: the reset time and the errors in the reason");
    verdict(po, 0, 429, "X-Limit-App-Reset: 1780268000\r\n", "{\"status\":0}", now, &v);
    ok(v.kind == ND_VERDICT_RETRY && v.delay_ns == -1, "429 with a reset in the past: backoff");
    verdict(po, 0, 429, "Retry-After: 7\r\nX-Limit-App-Reset: 1780272000\r\n", "", now, &v);
    is_int(v.delay_ns, 7 * ND_NS_PER_S, "429 with Retry-After: that wins");
    verdict(po, 0, 429, "", "", now, &v);
    ok(v.kind == ND_VERDICT_RETRY && v.delay_ns == -1, "429 without headers: the backoff");
out:
    if (po)
        t->free_state(po);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
}

int main(void)
{
    struct nd_template_set *set = nd_template_set_new();
    char err[ND_ERRLEN];

    ok(nd_receiver_type_find("pushover") == &nd_receiver_type_pushover,
       "type registered as pushover");
    ok(nd_template_set_add_defaults(set, err) == ND_OK, "default templates");
    ok(nd_template_set_parse(set, "po.tmpl", templates, strlen(templates), err) == ND_OK,
       "test templates %s", err);
    test_config_errors(set);
    test_requests(set);
    test_verdicts(set);
    nd_template_set_free(set);
    return done_testing();
}
