/* test_payload.c - the webhook JSON bytes, the plain text form, and what
 * the console sink prints (nm.default.text). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "notifyd/aggregate.h"
#include "notifyd/json.h"
#include "notifyd/payload.h"
#include "notifyd/config.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "tap.h"

static struct nd_notification *sample(struct nd_alert **a1_out, struct nd_alert **a2_out)
{
    static const char *const l1[] = {"instance", "a", "alertname", "Disk", NULL};
    static const char *const n1[] = {"summary", "<b>full</b> & \"quoted\"\n\x01", NULL};
    static const char *const l2[] = {"alertname", "Disk", "receiver", "other", NULL};
    static const char *const group[] = {"alertname", "Disk", NULL};
    static const char *const common[] = {"alertname", "Disk", "receiver", "ops", NULL};
    static const char *const common_ann[] = {NULL};
    struct nd_alert *a[2];

    a[0] =
        mk_alert(l1, n1, "2026-11-26T10:00:00.5+08:00", NULL, "http://prom/graph?g0.expr=up&x=1");
    a[1] = mk_alert(l2, NULL, "2026-11-26T02:00:00Z", "2026-11-26T03:00:00.123456789Z", NULL);
    *a1_out = a[0];
    *a2_out = a[1];
    return mk_notification("ops", a, 2, group, common, common_ann);
}

static void test_json(void)
{
    struct nd_alert *a1, *a2;
    struct nd_notification *n = sample(&a1, &a2);
    struct nd_buf b, small;
    char fp1[17], fp2[17];
    char *want;

    nd_fingerprint_format(nd_alert_fingerprint(a1), fp1);
    nd_fingerprint_format(nd_alert_fingerprint(a2), fp2);
    want = nd_xasprintf(
        "{\"alerts\":["
        "{\"id\":\"%" PRIu64 "\",\"status\":\"firing\","
        "\"labels\":{\"alertname\":\"Disk\",\"instance\":\"a\",\"receiver\":\"ops\"},"
        "\"annotations\":{\"summary\":"
        "\"\\u003cb\\u003efull\\u003c/b\\u003e \\u0026 \\\"quoted\\\"\\n\\u0001\"},"
        "\"startsAt\":\"2026-11-26T10:00:00.5+08:00\",\"endsAt\":\"0001-01-01T00:00:00Z\","
        "\"generatorURL\":\"http://prom/graph?g0.expr=up\\u0026x=1\",\"fingerprint\":\"%s\"},"
        "{\"id\":\"%" PRIu64 "\",\"status\":\"firing\","
        "\"labels\":{\"alertname\":\"Disk\",\"receiver\":\"other\"},"
        "\"annotations\":{},"
        "\"startsAt\":\"2026-11-26T02:00:00Z\",\"endsAt\":\"2026-11-26T03:00:00.123456789Z\","
        "\"generatorURL\":\"\",\"fingerprint\":\"%s\"}"
        "],\"groupLabels\":{\"alertname\":\"Disk\"},"
        "\"commonLabels\":{\"alertname\":\"Disk\",\"receiver\":\"ops\"},"
        "\"commonAnnotations\":{}}\n",
        nd_alert_id(a1), fp1, nd_alert_id(a2), fp2);

    nd_buf_init(&b, 1 << 20);
    is_int(nd_payload_webhook_json(n, &b), ND_OK, "json built");
    is_str(nd_buf_cstr(&b), want, "json bytes: order, escaping, receiver label, trailing newline");
    ok(strlen(fp1) == 16, "fingerprint is 16 hex digits");

    nd_buf_init(&small, 64);
    is_int(nd_payload_webhook_json(n, &small), ND_ETOOBIG, "bounded buffer: ND_ETOOBIG");
    nd_buf_deinit(&small);
    /* Escaped strings reserve their worst case (6 bytes per byte); a body
     * that fits exactly must still be written, one byte less must not. */
    nd_buf_init(&small, strlen(want));
    is_int(nd_payload_webhook_json(n, &small), ND_OK, "limit == body size: written");
    is_str(nd_buf_cstr(&small), want, "limit == body size: same bytes");
    nd_buf_deinit(&small);
    nd_buf_init(&small, strlen(want) - 1);
    nd_buf_adds(&small, "");
    is_int(nd_payload_webhook_json(n, &small), ND_ETOOBIG, "limit == body size - 1: ND_ETOOBIG");
    ok(small.len == 0, "a refused body leaves the buffer as it was");
    nd_buf_deinit(&small);
    {
        /* Appends after existing content, and the timestamp cache does not
         * leak a previous alert's time into the next one (a2 differs). */
        struct nd_buf pre;
        char *want2 = nd_xasprintf("prefix%s", want);
        nd_buf_init(&pre, 1 << 20);
        nd_buf_adds(&pre, "prefix");
        is_int(nd_payload_webhook_json(n, &pre), ND_OK, "append after a prefix");
        is_str(nd_buf_cstr(&pre), want2, "prefix kept, body appended");
        nd_buf_deinit(&pre);
        free(want2);
    }
    nd_buf_deinit(&b);
    free(want);
    nd_notification_unref(n);
}

static void extra_members(void *ud, size_t i, struct nd_json *j)
{
    int *calls = ud;
    (*calls)++;
    nd_json_kint(j, "index", (int64_t)i);
}

/* Members added after each alert's own (history): the same body otherwise. */
static void test_json_extra(void)
{
    struct nd_alert *a1, *a2;
    struct nd_notification *n = sample(&a1, &a2);
    struct nd_buf plain, x;
    int calls = 0;

    nd_buf_init(&plain, 1 << 20);
    nd_buf_init(&x, 1 << 20);
    nd_payload_webhook_json(n, &plain);
    is_int(nd_payload_webhook_json_x(n, extra_members, &calls, &x), ND_OK, "json with extras");
    is_int(calls, 2, "called once per alert");
    const char *p = strstr(nd_buf_cstr(&x), "\",\"index\":0},{");
    ok(p != NULL, "alert 0's extra member closes its object");
    ok(strstr(nd_buf_cstr(&x), "\",\"index\":1}],\"groupLabels\"") != NULL,
       "alert 1's extra member closes its object");
    is_uint(x.len, plain.len + 2 * strlen(",\"index\":0"), "nothing else differs in length");
    nd_buf_deinit(&plain);
    nd_buf_deinit(&x);
    nd_notification_unref(n);
}

/* Common annotations as the aggregator leaves them: names only, values read
 * from the first alert through the accessor (notification.h). */
static void test_common_annotations_by_name(void)
{
    static const char *const labels[] = {"alertname", "Disk", NULL};
    static const char *const ann1[] = {"runbook", "http://r", "summary", "full", NULL};
    static const char *const ann2[] = {"runbook", "http://r", "summary", "other", NULL};
    static const char *const common_ann[] = {"runbook", "placeholder", NULL};
    struct nd_alert *a[2];
    struct nd_notification *n;
    struct nd_buf b;

    a[0] = mk_alert(labels, ann1, "2026-11-26T10:00:00Z", NULL, NULL);
    a[1] = mk_alert(labels, ann2, "2026-11-26T10:00:00Z", NULL, NULL);
    n = mk_notification("ops", a, 2, NULL, NULL, common_ann);
    n->common_annotations[0].value = NULL; /* what aggregate.c writes */
    nd_buf_init(&b, 1 << 20);
    is_int(nd_payload_webhook_json(n, &b), ND_OK, "json built");
    ok(strstr(nd_buf_cstr(&b), "\"commonAnnotations\":{\"runbook\":\"http://r\"}}\n") != NULL,
       "a NULL common annotation value is the first alert's");
    ok(strstr(nd_buf_cstr(&b),
              "\"annotations\":{\"runbook\":\"http://r\",\"summary\":\"other\"}") != NULL,
       "each alert's annotations through the accessor");
    nd_buf_reset(&b);
    is_int(nd_payload_text(n, &b), ND_OK, "text built");
    ok(strstr(nd_buf_cstr(&b), "      summary: full\n") != NULL, "text: annotation values");
    nd_buf_deinit(&b);
    nd_notification_unref(n);
}

/* The webhook body's escaping (nd_json, ND_JSON_VALID_UTF8) must write
 * what nd_buf_add_json_escaped writes, for every byte value and for
 * U+2028/U+2029 (whole or cut). */
static void test_escape_all_bytes(void)
{
    static const char *const labels[] = {"alertname", "Esc", NULL};
    const char *ann[] = {"d", NULL, NULL};
    char raw[300];
    size_t n = 0;
    int c;
    struct nd_alert *a;
    struct nd_notification *nt;
    struct nd_buf body, want;

    for (c = 1; c < 256; c++)
        raw[n++] = (char)c;
    memcpy(raw + n, "\xe2\x80\xa8x\xe2\x80\xa9\xe2\x80", 9);
    n += 9;
    raw[n] = '\0';
    ann[1] = raw;
    a = mk_alert(labels, ann, "2026-11-26T10:00:00Z", NULL, NULL);
    nt = mk_notification("ops", &a, 1, NULL, NULL, NULL);
    nd_buf_init(&body, 1 << 20);
    nd_buf_init(&want, 1 << 20);
    nd_buf_adds(&want, "\"d\":");
    nd_buf_add_json_string(&want, raw);
    is_int(nd_payload_webhook_json(nt, &body), ND_OK, "all bytes: written");
    ok(strstr(nd_buf_cstr(&body), nd_buf_cstr(&want)) != NULL,
       "all bytes: escaped as nd_buf_add_json_escaped does");
    ok(strstr(nd_buf_cstr(&body), "\\u2028x\\u2029") != NULL, "U+2028/U+2029 escaped");
    nd_buf_deinit(&body);
    nd_buf_deinit(&want);
    nd_notification_unref(nt);
}

static const char want_text[] =
    "[firing] receiver=ops alerts=2\n"
    "  group: alertname=Disk\n"
    "  - [firing] alertname=Disk instance=a receiver=ops\n"
    "      summary: <b>full</b> & \"quoted\"\n\x01\n"
    "      starts: 2026-11-26T10:00:00.5+08:00  ends: 0001-01-01T00:00:00Z\n"
    "      generator: http://prom/graph?g0.expr=up&x=1\n"
    "  - [firing] alertname=Disk receiver=other\n"
    "      starts: 2026-11-26T02:00:00Z  ends: 2026-11-26T03:00:00.123456789Z\n"
    "\n";

static void test_text(void)
{
    struct nd_alert *a1, *a2;
    struct nd_notification *n = sample(&a1, &a2);
    struct nd_buf b;

    nd_buf_init(&b, 1 << 20);
    is_int(nd_payload_text(n, &b), ND_OK, "text built");
    is_str(nd_buf_cstr(&b), want_text, "console text");
    nd_buf_deinit(&b);

    nd_notification_unref(n);
}

/* The console sink prints nm.default.text (NM's Text(): trailing blanks
 * trimmed) and one newline, not the fixed text above. */
static void test_console_sink(void)
{
    struct nd_alert *a1, *a2;
    struct nd_notification *n = sample(&a1, &a2);
    const struct nd_receiver_type *t = nd_receiver_type_find("console");
    struct nd_template_set *set = nd_template_set_new();
    struct nd_template_data *d;
    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;
    struct nd_verdict v;
    struct nd_buf b;
    char err[ND_ERRLEN];
    char *mem = NULL, *want;
    size_t memlen = 0;
    void *state = NULL;
    FILE *f;

    ok(t != NULL && t->sink != NULL, "console type is a local sink");
    is_int(nd_template_set_add_defaults(set, err), ND_OK, "defaults compile");
    nd_config_errors_init(&errs);
    is_int(nd_config_load_string("[receiver.c]\ntype = console\n", "c.ini", &cfg, &errs), ND_OK,
           "config");
    is_int(t->configure(&cfg->receivers[0], set, &state, &errs), ND_OK, "console configured");
    f = open_memstream(&mem, &memlen);
    nd_console_set_stream(f);
    memset(&v, 0, sizeof(v));
    t->sink(state, n, &v);
    nd_console_set_stream(NULL);
    fclose(f);
    is_int(v.kind, ND_VERDICT_DELIVERED, "console sink: delivered");

    nd_buf_init(&b, 1 << 20);
    d = nd_template_data_from_notification(n, 0);
    is_int(nd_template_text(set, "nm.default.text", d, &b, err), ND_OK, "nm.default.text renders");
    want = nd_xasprintf("%s\n", nd_buf_cstr(&b));
    is_str(mem, want, "console sink wrote the nm.default.text rendering");
    has_str(mem, "[FIRING] <b>full</b> & \"quoted\"", "status and summary, not escaped");
    has_str(mem, "  instance: a\n", "a label line");
    ok(mem && strstr(mem, "starts:") == NULL, "not the old fixed text");
    free(want);
    free(mem);
    nd_buf_deinit(&b);
    nd_template_data_free(d);
    t->free_state(state);
    nd_config_errors_deinit(&errs);
    nd_config_free(cfg);
    nd_template_set_free(set);
    nd_notification_unref(n);
}

/* Annotations templated from labels are stored with back-references
 * (alert.h); every reader must see them expanded: the webhook bytes, the
 * text form, the template data, and the common annotations the aggregator
 * found equal across differently stored values. */
static void test_encoded_annotations(void)
{
    static const char *const l1[] = {"alertname", "PodCrash",          "namespace", "team-payload",
                                     "pod",       "api-7d9f-payload1", NULL};
    static const char *const l2[] = {"alertname", "PodCrash",          "namespace", "team-payload",
                                     "pod",       "api-7d9f-payload2", NULL};
    static const char *const n1[] = {"summary", "PodCrash on team-payload/api-7d9f-payload1",
                                     "team", "\"team-payload\" <owners>", NULL};
    static const char *const n2[] = {"summary", "PodCrash on team-payload/api-7d9f-payload2",
                                     "team", "\"team-payload\" <owners>", NULL};
    static const char *const group[] = {"alertname", "PodCrash", NULL};
    const char *gl[] = {"alertname"};
    struct nd_alert *a[2];
    struct nd_aggregator *ag = nd_aggregator_new(gl, 1);
    struct nd_notification **ns;
    struct nd_buf b;
    char fp1[17], fp2[17];
    char err[ND_ERRLEN];

    a[0] = mk_alert(l1, n1, "2026-11-26T10:00:00Z", NULL, NULL);
    a[1] = mk_alert(l2, n2, "2026-11-26T10:00:00Z", NULL, NULL);
    {
        const uint32_t *r = (const uint32_t *)(const void *)(a[0] + 1);
        ok((r[2 * 3 + 1] & ND_ALERT_REF_CODED) && (r[2 * 4 + 1] & ND_ALERT_REF_CODED),
           "both annotations of the first alert are stored encoded");
    }
    size_t k = nd_aggregator_run(ag, "ops", a, 2, 0, &ns);
    is_uint(k, 1, "one notification");
    nd_fingerprint_format(nd_alert_fingerprint(a[0]), fp1);
    nd_fingerprint_format(nd_alert_fingerprint(a[1]), fp2);
    char *want = nd_xasprintf(
        "{\"alerts\":["
        "{\"id\":\"%" PRIu64 "\",\"status\":\"firing\","
        "\"labels\":{\"alertname\":\"PodCrash\",\"namespace\":\"team-payload\","
        "\"pod\":\"api-7d9f-payload1\",\"receiver\":\"ops\"},"
        "\"annotations\":{\"summary\":\"PodCrash on team-payload/api-7d9f-payload1\","
        "\"team\":\"\\\"team-payload\\\" \\u003cowners\\u003e\"},"
        "\"startsAt\":\"2026-11-26T10:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
        "\"generatorURL\":\"\",\"fingerprint\":\"%s\"},"
        "{\"id\":\"%" PRIu64 "\",\"status\":\"firing\","
        "\"labels\":{\"alertname\":\"PodCrash\",\"namespace\":\"team-payload\","
        "\"pod\":\"api-7d9f-payload2\",\"receiver\":\"ops\"},"
        "\"annotations\":{\"summary\":\"PodCrash on team-payload/api-7d9f-payload2\","
        "\"team\":\"\\\"team-payload\\\" \\u003cowners\\u003e\"},"
        "\"startsAt\":\"2026-11-26T10:00:00Z\",\"endsAt\":\"0001-01-01T00:00:00Z\","
        "\"generatorURL\":\"\",\"fingerprint\":\"%s\"}"
        "],\"groupLabels\":{\"alertname\":\"PodCrash\"},"
        "\"commonLabels\":{\"alertname\":\"PodCrash\",\"namespace\":\"team-payload\","
        "\"receiver\":\"ops\"},"
        "\"commonAnnotations\":{\"team\":\"\\\"team-payload\\\" \\u003cowners\\u003e\"}}\n",
        nd_alert_id(a[0]), fp1, nd_alert_id(a[1]), fp2);
    nd_buf_init(&b, 1 << 20);
    if (k == 1) {
        is_int(nd_payload_webhook_json(ns[0], &b), ND_OK, "json built");
        is_str(nd_buf_cstr(&b), want, "webhook bytes: annotations expanded, common one found");
        nd_buf_reset(&b);
        is_int(nd_payload_text(ns[0], &b), ND_OK, "text built");
        has_str(nd_buf_cstr(&b), "      summary: PodCrash on team-payload/api-7d9f-payload2\n",
                "text: expanded");
        struct nd_template_set *set = nd_template_set_new();
        struct nd_template_data *d = nd_template_data_from_notification(ns[0], 0);
        const char *t = "{{ range .Alerts }}{{ .Annotations.summary }};{{ end }}"
                        "{{ .CommonAnnotations.team }}";
        nd_buf_reset(&b);
        is_int(nd_template_execute_text(set, "", t, strlen(t), d, &b, err), ND_OK,
               "template renders");
        is_str(nd_buf_cstr(&b),
               "PodCrash on team-payload/api-7d9f-payload1;"
               "PodCrash on team-payload/api-7d9f-payload2;\"team-payload\" <owners>",
               "template data: expanded values");
        nd_template_data_free(d);
        nd_template_set_free(set);
    }
    for (size_t i = 0; i < k; i++)
        nd_notification_unref(ns[i]);
    free(ns);
    nd_buf_deinit(&b);
    free(want);
    nd_aggregator_free(ag);

    /* the same annotation in a notification built by hand */
    struct nd_notification *n = mk_notification("ops", a, 2, group, NULL, NULL);
    nd_buf_init(&b, 1 << 20);
    is_int(nd_payload_webhook_json(n, &b), ND_OK, "hand-built: json built");
    has_str(nd_buf_cstr(&b), "\"summary\":\"PodCrash on team-payload/api-7d9f-payload1\"",
            "hand-built: expanded");
    nd_buf_deinit(&b);
    nd_notification_unref(n);
}

/* A notification of one alert has no common arrays (notification.h,
 * `derived`): its webhook bytes, text form and template data must be those
 * of the same notification with the arrays the aggregator used to build
 * (common labels = the alert's labels as the receiver sees them, common
 * annotations = every annotation, by name). Three receivers: named (the
 * virtual receiver label), unnamed (none), and an alert with its own. */
static void test_one_alert(void)
{
    static const char *const l1[] = {"alertname", "PodCrash", "namespace", "team-one",
                                     "pod",       "api-1",    NULL};
    static const char *const l2[] = {"alertname", "PodCrash", "receiver", "own",
                                     "zone",      "z1",       NULL};
    static const char *const n1[] = {"summary", "PodCrash on team-one/api-1", "team", "<owners>",
                                     NULL};
    static const char *const *const labels[] = {l1, l1, l2};
    static const char *const receivers[] = {"ops", "", "ops"};
    static const char *const want_common[] = {
        "\"commonLabels\":{\"alertname\":\"PodCrash\",\"namespace\":\"team-one\","
        "\"pod\":\"api-1\",\"receiver\":\"ops\"},",
        "\"commonLabels\":{\"alertname\":\"PodCrash\",\"namespace\":\"team-one\","
        "\"pod\":\"api-1\"},",
        "\"commonLabels\":{\"alertname\":\"PodCrash\",\"receiver\":\"own\","
        "\"zone\":\"z1\"},"};
    const char *gl[] = {"alertname"};
    struct nd_aggregator *ag = nd_aggregator_new(gl, 1);
    struct nd_template_set *set = nd_template_set_new();
    char err[ND_ERRLEN];
    struct nd_buf b1, b2;
    nd_buf_init(&b1, 1 << 20);
    nd_buf_init(&b2, 1 << 20);
    is_int(nd_template_set_add_defaults(set, err), ND_OK, "defaults compile");
    for (int c = 0; c < 3; c++) {
        struct nd_alert *a = mk_alert(labels[c], n1, "2026-11-26T10:00:00Z", NULL, NULL);
        struct nd_notification **ns;
        size_t k = nd_aggregator_run(ag, receivers[c], &a, 1, 0, &ns);
        if (k != 1 || !ns[0]->derived) {
            ok(0, "case %d: one derived notification", c);
            continue;
        }
        struct nd_notification *d = ns[0];
        /* the twin, with the arrays */
        struct nd_kv own[8];
        size_t nl = nd_notification_labels(d, a, own);
        struct nd_notification *t = nd_notification_new(1, d->ngroup_labels, nl, a->nannotations);
        t->receiver = d->receiver;
        t->status = d->status;
        t->group_key = d->group_key;
        nd_alert_ref(a);
        t->alerts[0] = a;
        nd_notification_group_labels(d, t->group_labels);
        memcpy(t->common_labels, own, nl * sizeof *own);
        for (size_t i = 0; i < a->nannotations; i++) {
            t->common_annotations[i].name = nd_alert_annotation_name(a, i);
            t->common_annotations[i].value = NULL;
        }
        is_uint(d->ncommon_labels, nl, "case %d: common label count", c);
        is_uint(d->ncommon_annotations, a->nannotations, "case %d: common annotation count", c);
        ok(nd_notification_derived_size(d->ngroup_labels) <
               nd_notification_block_size(1, t->ngroup_labels, nl, a->nannotations),
           "case %d: smaller block", c);

        nd_buf_reset(&b1);
        nd_buf_reset(&b2);
        is_int(nd_payload_webhook_json(d, &b1), ND_OK, "case %d: json built", c);
        is_int(nd_payload_webhook_json(t, &b2), ND_OK, "case %d: twin json built", c);
        is_str(nd_buf_cstr(&b1), nd_buf_cstr(&b2), "case %d: the same webhook bytes", c);
        has_str(nd_buf_cstr(&b1), want_common[c], "case %d: common labels", c);
        has_str(nd_buf_cstr(&b1), "\"groupLabels\":{\"alertname\":\"PodCrash\"},",
                "case %d: group labels", c);
        has_str(nd_buf_cstr(&b1),
                "\"commonAnnotations\":{\"summary\":\"PodCrash on team-one/api-1\","
                "\"team\":\"\\u003cowners\\u003e\"}}",
                "case %d: common annotations", c);
        nd_buf_reset(&b1);
        nd_buf_reset(&b2);
        is_int(nd_payload_text(d, &b1), ND_OK, "case %d: text built", c);
        is_int(nd_payload_text(t, &b2), ND_OK, "case %d: twin text built", c);
        is_str(nd_buf_cstr(&b1), nd_buf_cstr(&b2), "case %d: the same text", c);

        const char *tpl = "{{ .CommonLabels }}|{{ .CommonAnnotations }}|{{ .GroupLabels }}|"
                          "{{ .CommonLabels.SortedPairs }}|{{ template \"nm.default.text\" . }}";
        struct nd_template_data *dd = nd_template_data_from_notification(d, 0);
        struct nd_template_data *td = nd_template_data_from_notification(t, 0);
        nd_buf_reset(&b1);
        nd_buf_reset(&b2);
        is_int(nd_template_execute_text(set, "", tpl, strlen(tpl), dd, &b1, err), ND_OK,
               "case %d: template renders", c);
        is_int(nd_template_execute_text(set, "", tpl, strlen(tpl), td, &b2, err), ND_OK,
               "case %d: twin template renders", c);
        is_str(nd_buf_cstr(&b1), nd_buf_cstr(&b2), "case %d: the same template data", c);
        nd_template_data_free(dd);
        nd_template_data_free(td);
        nd_notification_unref(t);
        nd_notification_unref(d);
        free(ns);
        nd_alert_unref(a);
    }
    nd_buf_deinit(&b1);
    nd_buf_deinit(&b2);
    nd_template_set_free(set);
    nd_aggregator_free(ag);
}

int main(void)
{
    test_json();
    test_json_extra();
    test_common_annotations_by_name();
    test_escape_all_bytes();
    test_text();
    test_console_sink();
    test_encoded_annotations();
    test_one_alert();
    return done_testing();
}
