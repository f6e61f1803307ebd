/* test_receiver_config.c - receiver sections: generic keys, webhook and
 * console keys (template and template_type included), errors naming
 * file:line, and --check-config. */
#include <event2/event.h>
#include <stdlib.h>

#include "notifyd/config.h"
#include "notifyd/util.h"
#include "notifyd/engine.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "tap.h"

static const char good_ini[] = "[receiver.hook]\n"                          /* 1 */
                               "type = webhook\n"                           /* 2 */
                               "url = https://example.com/hook\n"           /* 3 */
                               "timeout = 2s\n"                             /* 4 */
                               "max_in_flight = 3\n"                        /* 5 */
                               "retry_initial = 100ms\n"                    /* 6 */
                               "retry_factor = 3\n"                         /* 7 */
                               "retry_max = 10s\n"                          /* 8 */
                               "retry_jitter = 0\n"                         /* 9 */
                               "retry_max_attempts = 4\n"                   /* 10 */
                               "retry_max_age = 1m\n"                       /* 11 */
                               "headers = X-A: 1\n"                         /* 12 */
                               "  X-B: two words\n"                         /* 13 */
                               "basic_auth_user = u\n"                      /* 14 */
                               "basic_auth_password = env:ND_TEST_SECRET\n" /* 15 */
                               "bearer_token = literal-token\n"             /* 16 */
                               "tls_ca_file = /etc/ssl/certs/ca.pem\n"      /* 17 */
                               "tls_cert_file = /c.pem\n"                   /* 18 */
                               "tls_key_file = /k.pem\n"                    /* 19 */
                               "tls_server_name = internal.example\n"       /* 20 */
                               "tls_insecure_skip_verify = false\n"         /* 21 */
                               "proxy_url = http://proxy:3128\n"            /* 22 */
                               "\n"
                               "template = nm.default.markdown\n" /* 23 */
                               "\n"
                               "[receiver.out]\n"
                               "type = console\n"
                               "\n"
                               "[receiver.out2]\n"
                               "type = console\n"
                               "template = a template \"zz\": {{ template \"my.one\" . }}\n"
                               "template_type = html\n";

static const char bad_ini[] = "[receiver.a]\n"                         /* 1 */
                              "type = pigeon\n"                        /* 2 */
                              "[receiver.b]\n"                         /* 3 */
                              "type = webhook\n"                       /* 4 */
                              "timeout = 1s\n"                         /* 5 */
                              "[receiver.c]\n"                         /* 6 */
                              "type = webhook\n"                       /* 7 */
                              "url = ftp://example.com/x\n"            /* 8 */
                              "tls_cert_file = /c.pem\n"               /* 9 */
                              "colour = blue\n"                        /* 10 */
                              "[receiver.d]\n"                         /* 11 */
                              "type = webhook\n"                       /* 12 */
                              "url = http://example.com/\n"            /* 13 */
                              "max_in_flight = 0\n"                    /* 14 */
                              "retry_factor = 0.5\n"                   /* 15 */
                              "retry_jitter = 2\n"                     /* 16 */
                              "bearer_token = env:ND_NOT_SET_X\n"      /* 17 */
                              "headers = NoColonHere\n"                /* 18 */
                              "[receiver.e]\n"                         /* 19 */
                              "type = console\n"                       /* 20 */
                              "url = http://x/\n"                      /* 21 */
                              "[receiver.f]\n"                         /* 22 */
                              "type = webhook\n"                       /* 23 */
                              "url = http://x/\n"                      /* 24 */
                              "tls_key_file = /k.pem\n"                /* 25 */
                              "timeout = soon\n"                       /* 26 */
                              "[receiver.g]\n"                         /* 27 */
                              "type = webhook\n"                       /* 28 */
                              "url = http://x/\n"                      /* 29 */
                              "template = nm.no.such\n"                /* 30 */
                              "[receiver.h]\n"                         /* 31 */
                              "type = console\n"                       /* 32 */
                              "template = {{ template \"nope\" . }}\n" /* 33 */
                              "template_type = pdf\n"                  /* 34 */
                              "[receiver.i]\n"                         /* 35 */
                              "type = console\n"                       /* 36 */
                              "template = {{ template \"my.one\" . \n" /* 37 */
                              "[receiver.j]\n"                         /* 38 */
                              "type = webhook\n"                       /* 39 */
                              "url = http://x/\n"                      /* 40 */
                              "template_type = html\n"                 /* 41 */
                              "[receiver.k]\n"                         /* 42 */
                              "type = console\n"                       /* 43 */
                              "template =\n";                          /* 44 */

static int has_error(const struct nd_config_errors *e, const char *needle1, const char *needle2)
{
    size_t i;

    for (i = 0; i < e->n; i++)
        if (strstr(e->msgs[i], needle1) && (!needle2 || strstr(e->msgs[i], needle2)))
            return 1;
    return 0;
}

static struct nd_receiver_config *find_rc(struct nd_config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nreceivers; i++)
        if (strcmp(c->receivers[i].name, name) == 0)
            return &c->receivers[i];
    return NULL;
}

static void dump(const struct nd_config_errors *e)
{
    size_t i;

    for (i = 0; i < e->n; i++)
        printf("# %s\n", e->msgs[i]);
}

/* The delivery keys take one range, in [delivery] and in a receiver
 * section: a duration the [delivery] section refuses is refused in a
 * receiver too, and the largest one both accept still is. */
static void test_duration_range(const struct nd_template_set *set)
{
    static const char *const keys[] = {"timeout", "retry_max_age", "retry_initial", "retry_max"};
    /* INT64_MAX ns: what the duration syntax itself allows at most. */
    static const char huge[] = "2562047h47m16.854775807s";
    struct nd_config_errors errs;
    struct nd_config *c = NULL;
    size_t i;

    for (i = 0; i < ND_ARRAY_LEN(keys); i++) {
        char *glob = nd_xasprintf("[delivery]\n%s = %s\n", keys[i], huge);
        char *rcv = nd_xasprintf("[receiver.x]\ntype = console\n%s = %s\n", keys[i], huge);
        /* retry_max must stay >= retry_initial. */
        char *fine =
            nd_xasprintf("[receiver.x]\ntype = console\n%s = 2500000h\n%s", keys[i],
                         strcmp(keys[i], "retry_initial") == 0 ? "retry_max = 2500000h\n" : "");

        nd_config_errors_init(&errs);
        ok(nd_config_load_string(glob, "g.ini", &c, &errs) != ND_OK &&
               has_error(&errs, keys[i], NULL),
           "[delivery] %s = %s refused", keys[i], huge);
        nd_config_free(c);
        c = NULL;
        nd_config_errors_deinit(&errs);

        nd_config_errors_init(&errs);
        if (nd_config_load_string(rcv, "r.ini", &c, &errs) == ND_OK) {
            ok(nd_receiver_check(find_rc(c, "x"), &c->delivery, set, &errs) == ND_EINVAL &&
                   has_error(&errs, "r.ini:3:", keys[i]),
               "[receiver.x] %s = %s refused too, naming the line", keys[i], huge);
        } else {
            ok(0, "[receiver.x] %s: the file loads", keys[i]);
        }
        dump(&errs);
        nd_config_free(c);
        c = NULL;
        nd_config_errors_deinit(&errs);

        nd_config_errors_init(&errs);
        ok(nd_config_load_string(fine, "f.ini", &c, &errs) == ND_OK &&
               nd_receiver_check(find_rc(c, "x"), &c->delivery, set, &errs) == ND_OK,
           "[receiver.x] %s = 2500000h accepted", keys[i]);
        dump(&errs);
        nd_config_free(c);
        c = NULL;
        nd_config_errors_deinit(&errs);
        free(glob);
        free(rcv);
        free(fine);
    }
}

/* One config text: ND_OK or not, and the errors of its receivers too. */
static int load_check(const char *ini, const struct nd_template_set *set,
                      struct nd_config_errors *errs)
{
    struct nd_config *c = NULL;
    int rc = nd_config_load_string(ini, "b.ini", &c, errs);

    for (size_t i = 0; c && rc == ND_OK && i < c->nreceivers; i++)
        if (nd_receiver_check(&c->receivers[i], &c->delivery, set, errs) != ND_OK)
            rc = ND_EINVAL;
    nd_config_free(c);
    return rc;
}

/* max_backlog and overflow, in [delivery] and in receiver sections. */
static void test_backlog_keys(const struct nd_template_set *set)
{
    static const struct {
        const char *ini, *err1, *err2, *name;
    } cases[] = {
        {"[delivery]\nmax_backlog = 100\noverflow = drop_oldest\n"
         "[receiver.x]\ntype = console\n",
         NULL, NULL, "[delivery] drop_oldest with a limit"},
        {"[receiver.x]\ntype = console\nmax_backlog = 5\noverflow = backpressure\n", NULL, NULL,
         "receiver: backpressure with a limit"},
        {"[receiver.x]\ntype = console\nmax_backlog = 0\n", NULL, NULL,
         "receiver: max_backlog = 0 (no limit)"},
        {"[delivery]\nmax_backlog = 10\noverflow = spill\n[receiver.x]\ntype = console\n",
         "b.ini:3: [delivery] overflow", "spill needs [queue] wal_dir",
         "[delivery] spill without a log refused"},
        {"[receiver.x]\ntype = console\noverflow = spill\nmax_backlog = 3\n",
         "b.ini:3: [receiver.x] overflow", "spill needs [queue] wal_dir",
         "receiver: spill without a log refused"},
        {"[queue]\nwal_dir = /tmp/nd-wal\n[delivery]\nmax_backlog = 10\noverflow = spill\n"
         "[receiver.x]\ntype = console\n",
         NULL, NULL, "[delivery] spill with a log"},
        {"[queue]\nwal_dir = /tmp/nd-wal\n[receiver.x]\ntype = console\noverflow = spill\n"
         "max_backlog = 3\nspill_max_alerts = 100\n",
         NULL, NULL, "receiver: spill with a log"},
        {"[queue]\nwal_dir = /tmp/nd-wal\n[receiver.x]\ntype = console\noverflow = spill\n",
         "b.ini:5: [receiver.x] overflow", "spill needs max_backlog > 0",
         "receiver: spill without a limit"},
        {"[queue]\nwal_dir = /tmp/nd-wal\nmax_alerts = 100\n[delivery]\nmax_backlog = 100\n"
         "overflow = spill\n[receiver.x]\ntype = console\n",
         "b.ini:5: [delivery] max_backlog", "not below [queue] max_alerts 100",
         "[delivery] spill limit not below max_alerts"},
        {"[delivery]\nspill_max_alerts = 0\n[receiver.x]\ntype = console\n",
         "b.ini:2: [delivery] spill_max_alerts", NULL, "[delivery] spill_max_alerts = 0"},
        {"[receiver.x]\ntype = console\nspill_max_alerts = 0\n",
         "b.ini:3: [receiver.x] spill_max_alerts", "must be >= 1",
         "receiver: spill_max_alerts = 0"},
        {"[receiver.x]\ntype = console\noverflow = newest\n", "b.ini:3: [receiver.x] overflow",
         "want backpressure, drop_oldest or spill", "receiver: unknown policy"},
        {"[delivery]\noverflow = drop_oldest\n[receiver.x]\ntype = console\n",
         "b.ini:2: [delivery] overflow", "drop_oldest needs max_backlog > 0",
         "[delivery] drop_oldest without a limit"},
        {"[receiver.x]\ntype = console\noverflow = drop_oldest\n", "b.ini:3: [receiver.x] overflow",
         "drop_oldest needs max_backlog > 0", "receiver: drop_oldest without a limit"},
        {"[queue]\nmax_alerts = 1000\n[delivery]\nmax_backlog = 1000\noverflow = drop_oldest\n"
         "[receiver.x]\ntype = console\n",
         "b.ini:4: [delivery] max_backlog", "not below [queue] max_alerts 1000",
         "[delivery] limit not below max_alerts"},
        {"[receiver.x]\ntype = console\nmax_backlog = 2000\noverflow = drop_oldest\n"
         "[queue]\nmax_alerts = 1000\n",
         "b.ini:3: [receiver.x] max_backlog", "not below [queue] max_alerts 1000",
         "receiver: limit not below max_alerts ([queue] after it)"},
        {"[delivery]\nmax_backlog = -1\n[receiver.x]\ntype = console\n",
         "b.ini:2: [delivery] max_backlog", "invalid number", "[delivery] negative limit"},
        {"[receiver.x]\ntype = console\nmax_backlog = lots\n", "b.ini:3: [receiver.x] max_backlog",
         "invalid number", "receiver: bad limit"},
    };
    struct nd_config_errors errs;
    struct nd_config *c = NULL;

    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        int rc;
        nd_config_errors_init(&errs);
        rc = load_check(cases[i].ini, set, &errs);
        if (!cases[i].err1)
            ok(rc == ND_OK && errs.total == 0, "%s: accepted", cases[i].name);
        else
            ok(rc != ND_OK && has_error(&errs, cases[i].err1, cases[i].err2), "%s: %s",
               cases[i].name, errs.n ? errs.msgs[0] : "no error");
        dump(&errs);
        nd_config_errors_deinit(&errs);
    }

    /* The values reach the receiver: [delivery] defaults, overridden per section. */
    nd_config_errors_init(&errs);
    if (nd_config_load_string("[delivery]\nmax_backlog = 7\n[receiver.x]\ntype = console\n"
                              "[receiver.y]\ntype = console\nmax_backlog = 9\n"
                              "overflow = drop_oldest\n",
                              "v.ini", &c, &errs) == ND_OK) {
        struct event_base *base = event_base_new();
        char err[ND_ERRLEN];
        struct nd_engine *e = nd_engine_new(base, set, err);
        struct nd_receiver *x = nd_receiver_new(e, find_rc(c, "x"), &c->delivery, &errs);
        struct nd_receiver *y = nd_receiver_new(e, find_rc(c, "y"), &c->delivery, &errs);
        is_uint(c->delivery.max_backlog, 7, "[delivery] max_backlog read");
        is_uint(c->delivery.queue_max_alerts, 1000000, "[queue] max_alerts passed on");
        ok(x && nd_receiver_stats(x)->max_backlog == 7, "x: the [delivery] default");
        ok(y && nd_receiver_stats(y)->max_backlog == 9, "y: its own");
        nd_engine_free(e);
        event_base_free(base);
    } else {
        ok(0, "the values config loads");
    }
    dump(&errs);
    nd_config_free(c);
    nd_config_errors_deinit(&errs);
}

/* The error list stops at 100 messages; a receiver section must still be
 * found invalid once it is full (it is checked by comparing `total`), and
 * not be built from a half-parsed state: a section with only its type lacks
 * every required key. */
static void test_after_error_cap(const struct nd_template_set *set)
{
    static const struct nd_receiver_type *const types[] = {
        &nd_receiver_type_webhook, &nd_receiver_type_dingtalk, &nd_receiver_type_discord,
        &nd_receiver_type_slack,   &nd_receiver_type_telegram, &nd_receiver_type_pushover,
        &nd_receiver_type_wechat,  &nd_receiver_type_email,    &nd_receiver_type_feishu,
        &nd_receiver_type_sms,
    };
    struct nd_config_errors errs;
    struct nd_config *c = NULL;
    size_t i, k;

    for (i = 0; i < ND_ARRAY_LEN(types); i++) {
        char *ini = nd_xasprintf("[receiver.x]\ntype = %s\n", types[i]->name);
        nd_config_errors_init(&errs);
        if (nd_config_load_string(ini, "cap.ini", &c, &errs) != ND_OK) {
            ok(0, "%s: a section with only its type loads", types[i]->name);
            dump(&errs);
        } else {
            for (k = 0; k < 150; k++)
                nd_config_error_add(&errs, "cap.ini", (int)k + 1, NULL, NULL, "filler %zu", k);
            size_t n = errs.n, total = errs.total;
            ok(nd_receiver_check(find_rc(c, "x"), &c->delivery, set, &errs) == ND_EINVAL,
               "%s without its required keys: invalid with the error list full", types[i]->name);
            ok(errs.n == n && errs.total > total,
               "%s: errors counted in total (%zu -> %zu), not listed (n stays %zu)", types[i]->name,
               total, errs.total, n);
        }
        nd_config_free(c);
        c = NULL;
        nd_config_errors_deinit(&errs);
        free(ini);
    }
}

int main(void)
{
    struct nd_config *c = NULL;
    struct nd_config_errors errs;
    struct event_base *base = event_base_new();
    struct nd_engine *e;
    struct nd_receiver *r;
    char err[ND_ERRLEN];
    size_t i;
    struct nd_template_set *set = nd_template_set_new();
    static const char mine[] = "{{ define \"my.one\" }}one{{ end }}";

    ok(nd_template_set_add_defaults(set, err) == ND_OK &&
           nd_template_set_parse(set, "mine", mine, strlen(mine), err) == ND_OK,
       "template set");
    setenv("ND_TEST_SECRET", "s3cret", 1);
    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(good_ini, "good.ini", &c, &errs), ND_OK, "good config loads");
    dump(&errs);
    e = nd_engine_new(base, set, err);
    ok(e != NULL, "engine created");
    if (!c || !e)
        return done_testing();

    is_int(nd_receiver_check(find_rc(c, "hook"), &c->delivery, set, &errs), ND_OK,
           "check: full webhook section is valid");
    dump(&errs);
    r = nd_receiver_new(e, find_rc(c, "hook"), &c->delivery, &errs);
    ok(r != NULL, "webhook receiver created");
    is_int(errs.n, 0, "no errors");
    dump(&errs);
    if (r) {
        is_str(nd_receiver_name(r), "hook", "name");
        is_str(nd_receiver_type(r), "webhook", "type");
        is_uint(nd_receiver_stats(r)->delivered, 0, "stats start at 0");
    }
    r = nd_receiver_new(e, find_rc(c, "out"), &c->delivery, &errs);
    ok(r != NULL, "console receiver created");
    if (r)
        is_str(nd_receiver_type(r), "console", "console type");
    r = nd_receiver_new(e, find_rc(c, "out2"), &c->delivery, &errs);
    ok(r != NULL, "console with an invocation of a user template and template_type = html");
    is_int(errs.n, 0, "still no errors");
    dump(&errs);
    nd_config_free(c);
    c = NULL;

    is_int(nd_config_load_string(bad_ini, "bad.ini", &c, &errs), ND_OK,
           "bad receivers still load (keys are checked by notify)");
    dump(&errs);
    if (!c)
        return done_testing();
    nd_config_errors_deinit(&errs);
    for (i = 0; i < c->nreceivers; i++) {
        struct nd_receiver_config *rc = &c->receivers[i];
        ok(nd_receiver_new(e, rc, &c->delivery, &errs) == NULL, "receiver %s refused", rc->name);
    }
    dump(&errs);
    ok(has_error(&errs, "bad.ini:2:", "unknown receiver type \"pigeon\""),
       "unknown type names the line of the type key");
    ok(has_error(&errs, "bad.ini:3:", "url"), "missing url, at the section line");
    ok(has_error(&errs, "bad.ini:8:", "http or https"), "ftp scheme refused");
    ok(has_error(&errs, "bad.ini:9:", "tls_cert_file"), "cert without key");
    ok(has_error(&errs, "bad.ini:10:", "colour"), "unknown key reported");
    ok(has_error(&errs, "bad.ini:14:", "max_in_flight"), "max_in_flight 0");
    ok(has_error(&errs, "bad.ini:15:", "retry_factor"), "retry_factor < 1");
    ok(has_error(&errs, "bad.ini:16:", "retry_jitter"), "retry_jitter > 1");
    ok(has_error(&errs, "bad.ini:17:", "ND_NOT_SET_X"), "unset env secret");
    ok(has_error(&errs, "bad.ini:18:", "Name: value"), "header line without a colon");
    ok(has_error(&errs, "bad.ini:21:", "url"), "console has no url key");
    ok(has_error(&errs, "bad.ini:25:", "tls_key_file"), "key without cert");
    ok(has_error(&errs, "bad.ini:26:", "timeout"), "bad duration");
    ok(has_error(&errs, "bad.ini:30: [receiver.g] template: ", "no template named \"nm.no.such\""),
       "unknown template name at the key's line");
    ok(has_error(&errs, "bad.ini:33: [receiver.h] template: ", "no template named \"nope\""),
       "unknown template in an invocation");
    ok(has_error(&errs, "bad.ini:34: [receiver.h] template_type: ", "text or html"),
       "bad template_type");
    ok(has_error(&errs, "bad.ini:37: [receiver.i] template: ", "template: :1:"),
       "syntax error in an invocation, Go's message");
    ok(has_error(&errs, "bad.ini:41: [receiver.j] template_type: ", "needs the template key"),
       "template_type alone on a webhook");
    ok(has_error(&errs, "bad.ini:44: [receiver.k] template: ", "empty template name"),
       "empty template value");
    for (i = 0; i < errs.n; i++)
        if (strstr(errs.msgs[i], "s3cret") || strstr(errs.msgs[i], "literal-token"))
            break;
    is_uint(i, errs.n, "no secret in any message");

    /* --check-config gives the same verdicts without an engine. */
    nd_config_errors_deinit(&errs);
    is_int(nd_receiver_check(find_rc(c, "a"), &c->delivery, set, &errs), ND_EINVAL, "check: type");
    is_int(nd_receiver_check(find_rc(c, "d"), &c->delivery, set, &errs), ND_EINVAL,
           "check: values");
    ok(has_error(&errs, "bad.ini:15:", "retry_factor"), "check reports the same errors");
    is_int(nd_receiver_check(find_rc(c, "g"), &c->delivery, set, &errs), ND_EINVAL,
           "check: unknown template");
    ok(has_error(&errs, "bad.ini:30:", "nm.no.such"), "check names the template key's line");
    nd_config_errors_deinit(&errs);
    nd_config_free(c);
    test_duration_range(set);
    test_backlog_keys(set);
    test_after_error_cap(set);
    nd_engine_free(e);
    nd_template_set_free(set);
    event_base_free(base);
    return done_testing();
}
