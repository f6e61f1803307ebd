/* test_data.c - NM's data model: Data, Alert, Alerts, KV, Pairs and times,
 * built from a webhook payload and from a notification. */
#include <stdlib.h>
#include <time.h>

#include "../../tap.h"
#include "notifyd/alert.h"
#include "notifyd/notification.h"
#include "tmpl_test.h"

#define J_ALERT(st) "{\"status\":\"" st "\",\"labels\":{\"alertname\":\"A\"}}"

static const char *status_of(const char *alerts_json)
{
    static char json[1024];
    snprintf(json, sizeof json, "{\"alerts\":[%s]}", alerts_json);
    return tt_render_full(NULL, "[{{.Status}}]", json, 1024);
}

static void test_status(void)
{
    is_str(status_of(J_ALERT("firing") "," J_ALERT("firing")), "[firing]", "all firing");
    is_str(status_of(J_ALERT("resolved")), "[resolved]", "all resolved");
    is_str(status_of(J_ALERT("firing") "," J_ALERT("resolved")), "[]", "mixed is empty");
    is_str(status_of(""), "[firing]", "no alerts counts as firing (NM's code)");
    is_str(status_of(J_ALERT("pending")), "[]", "an unknown status is neither");
}

static void test_alert_fields(void)
{
    T_IS("{{range .Alerts}}{{.Message}}/{{.MessageCN}}/{{.Fingerprint}}/{{.GeneratorURL}}|{{end}}",
         "cpu high/cpu high/fp1/http://g|disk full/cn//|");
    T_IS("{{(index .Alerts 0).StartsAt}}", "2024-05-01 10:00:00.123456789 +0800 +0800");
    T_IS("{{(index .Alerts 0).StartsAt.Local}}", "2024-05-01 02:00:00.123456789 +0000 UTC");
    T_IS("{{(index .Alerts 0).EndsAt}}|{{(index .Alerts 0).NotificationTime}}",
         "0001-01-01 00:00:00 +0000 UTC|0001-01-01 00:00:00 +0000 UTC");
    T_IS("{{(index .Alerts 1).EndsAt.Format \"15:04:05.000 Jan 2 2006\"}}",
         "03:04:05.500 May 1 2024");
    T_IS("{{(index .Alerts 0).StartsAt.UTC.Format \"2006-01-02T15:04:05Z07:00\"}}",
         "2024-05-01T02:00:00Z");
    T_IS("{{(index .Alerts 0).StartsAt.Format \"2006-01-02T15:04:05Z07:00\"}}",
         "2024-05-01T10:00:00+08:00");
    T_IS("{{(index .Alerts 0).StartsAt.Unix}}", "1714528800");
    const char *odd = "{\"alerts\":[{\"id\":\"abc\",\"status\":\"\",\"labels\":{},"
                      "\"notificationTime\":\"2024-01-02T03:04:05-05:30\"}]}";
    is_str(tt_render_full(NULL, "{{range .Alerts}}{{.ID}}|{{.Status}}|{{.NotificationTime}}{{end}}",
                          odd, 1024),
           "abc||2024-01-02 03:04:05 -0530 -0530", "NM's id and notificationTime are read");
}

static void test_kv_pairs(void)
{
    T_IS("{{(index .Alerts 0).Labels.SortedPairs.Names}}", "[alertname a b severity]");
    T_IS("{{(index .Alerts 0).Labels.Values}}", "[HighCPU 1 2 critical]");
    T_IS("{{range (index .Alerts 0).Annotations.SortedPairs.DefaultFilter}}{{.Name}}{{end}}", "");
    T_IS("{{(index .Alerts 0).Annotations.SortedPairs.Filter \"summary\"}}",
         "[{message cpu high} {runbook_url u}]");
    T_IS("{{(index .Alerts 0).Labels.Remove (stringSlice \"rule_id\" \"a\")}}",
         "map[alertname:HighCPU b:2 severity:critical]");
    T_IS("{{len (index .Alerts 0).Labels}} {{len (index .Alerts 0).Labels.SortedPairs}}", "5 4");
    T_IS("{{(index .Alerts 0).Labels.SortedPairs.Filter 1}}",
         "ERR: template: :1:46: executing \"\" at <1>: expected string; found 1");
    T_IS("{{.Alerts.Firing.Resolved}}", "[]");
}

static void test_json_errors(void)
{
    const char *o = tt_render_full(NULL, "x", "{\"alerts\":[", 64);
    ok(strncmp(o, "ERR: bad JSON data", 18) == 0, "truncated JSON: %s", o);
    o = tt_render_full(NULL, "x", "{\"commonLabels\":{\"a\":1}}", 64);
    is_str(o, "ERR: label and annotation values must be strings", "non-string label");
    o = tt_render_full(NULL, "x", "{\"alerts\":[{\"startsAt\":\"yesterday\"}]}", 64);
    is_str(o, "ERR: bad time in the data", "bad time");
    o = tt_render_full(NULL, "{{.CommonLabels.a}}", "{\"commonLabels\":{\"a\":\"1\",\"a\":\"2\"}}",
                       64);
    is_str(o, "2", "a repeated key keeps the last value");
    o = tt_render_full(NULL, "{{len .Alerts}}{{.Receiver}}",
                       "{\"x\":{\"alerts\":[1,[2]]},\"receiver\":\"r\"}", 64);
    is_str(o, "0r", "unknown members are skipped");
    char deep[400];
    memset(deep, '[', 200);
    snprintf(deep + 200, sizeof deep - 200, "%s", "]");
    o = tt_render_full(NULL, "x", deep, 64);
    is_str(o, "ERR: data nested too deep", "nesting is bounded");
}

static struct nd_alert *make_alert(struct nd_alert_builder *b, const char *name, const char *recv,
                                   int resolved)
{
    char err[ND_ERRLEN];
    nd_alert_builder_add_label(b, "alertname", 9, name, strlen(name));
    if (recv)
        nd_alert_builder_add_label(b, "receiver", 8, recv, strlen(recv));
    nd_alert_builder_add_annotation(b, "summary", 7, "s", 1);
    struct nd_time st;
    nd_time_parse_rfc3339("2024-05-01T10:00:00+08:00", 25, &st);
    nd_alert_builder_set_times(b, &st, NULL);
    nd_alert_builder_set_status(b, resolved ? ND_ALERT_RESOLVED : ND_ALERT_FIRING);
    nd_alert_builder_set_generator_url(b, "http://g", 8);
    return nd_alert_builder_finish(b, "c1", 0, err);
}

static void test_from_notification(void)
{
    struct nd_alert_builder b;
    nd_alert_builder_init(&b, 1 << 16);
    struct nd_alert *al[2] = {make_alert(&b, "A", NULL, 0), make_alert(&b, "B", "other", 1)};
    ok(al[0] && al[1], "alerts built");
    struct nd_kv group[] = {{"alertname", "A"}};
    struct nd_notification n = {0};
    n.refs = 1;
    n.receiver = "r1";
    n.nalerts = 2;
    n.alerts = al;
    n.ngroup_labels = 1;
    n.group_labels = group;
    struct nd_template_data *d =
        nd_template_data_from_notification(&n, INT64_C(1700000000) * 1000000000);
    struct nd_template_set *s = nd_template_set_new();
    struct nd_buf out;
    nd_buf_init(&out, 4096);
    char err[ND_ERRLEN];
    const char *t = "{{.Receiver}}|{{.Status}}|{{.GroupLabels}}|{{range .Alerts}}{{.Status}} "
                    "{{.Labels}} {{.Message}} {{.StartsAt}} {{.GeneratorURL}} "
                    "{{len .Fingerprint}} {{.NotificationTime.Unix}};{{end}}";
    is_int(nd_template_execute_text(s, "", t, strlen(t), d, &out, err), ND_OK, "render: %s", err);
    is_str(nd_buf_cstr(&out),
           "r1||map[alertname:A]|firing map[alertname:A cluster:c1 receiver:r1] s 2024-05-01 "
           "10:00:00 +0800 +0800 http://g 16 1700000000;resolved map[alertname:B cluster:c1 "
           "receiver:other] s 2024-05-01 10:00:00 +0800 +0800 http://g 16 1700000000;",
           "the notification's data as templates see it (receiver label added)");
    nd_buf_deinit(&out);
    nd_template_set_free(s);
    nd_template_data_free(d);
    nd_alert_unref(al[0]);
    nd_alert_unref(al[1]);
    nd_alert_builder_deinit(&b);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    test_status();
    test_alert_fields();
    test_kv_pairs();
    test_json_errors();
    test_from_notification();
    return done_testing();
}
