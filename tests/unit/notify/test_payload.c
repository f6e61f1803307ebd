/* test_payload.c - the webhook JSON bytes and the console text. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"
#include "notifyd/payload.h"
#include "notifyd/receiver.h"
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

    nd_fingerprint_format(a1->fingerprint, fp1);
    nd_fingerprint_format(a2->fingerprint, fp2);
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
        a1->id, fp1, a2->id, fp2);

    nd_buf_init(&b, 1 << 20);
    is_int(nd_payload_webhook_json(n, &b), ND_OK, "json built");
    is_str(nd_buf_cstr(&b), want, "json bytes: order, escaping, receiver label, trailing newline");
    ok(strlen(fp1) == 16, "fingerprint is 16 hex digits");

    nd_buf_init(&small, 64);
    is_int(nd_payload_webhook_json(n, &small), ND_ETOOBIG, "bounded buffer: ND_ETOOBIG");
    nd_buf_deinit(&small);
    nd_buf_deinit(&b);
    free(want);
    nd_notification_unref(n);
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
    const struct nd_receiver_type *t = nd_receiver_type_find("console");
    struct nd_verdict v;
    char *mem = NULL;
    size_t memlen = 0;
    FILE *f;

    nd_buf_init(&b, 1 << 20);
    is_int(nd_payload_text(n, &b), ND_OK, "text built");
    is_str(nd_buf_cstr(&b), want_text, "console text");
    nd_buf_deinit(&b);

    /* The console sink writes the same text to its stream. */
    ok(t != NULL && t->sink != NULL, "console type is a local sink");
    f = open_memstream(&mem, &memlen);
    nd_console_set_stream(f);
    memset(&v, 0, sizeof(v));
    t->sink(NULL, n, &v);
    nd_console_set_stream(NULL);
    fclose(f);
    is_int(v.kind, ND_VERDICT_DELIVERED, "console sink: delivered");
    is_str(mem, want_text, "console sink wrote the text");
    free(mem);
    nd_notification_unref(n);
}

int main(void)
{
    test_json();
    test_text();
    return done_testing();
}
