/* Tests of src/stats/metrics.c: the Prometheus text exposition. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "notifyd/metrics.h"
#include "notifyd/queue.h"
#include "notifyd/util.h"
#include "tap.h"

static char *render(const struct nd_metrics *m, const struct nd_queue *q,
                    const struct nd_metrics_receiver *r, size_t nr)
{
    struct evbuffer *b = evbuffer_new();
    nd_metrics_render(m, q, r, nr, b);
    size_t len = evbuffer_get_length(b);
    char *s = malloc(len + 1);
    evbuffer_remove(b, s, len);
    s[len] = '\0';
    evbuffer_free(b);
    return s;
}

/* Checks the text format line by line: every sample's family has a TYPE
 * line before it, names are valid, values are numbers. Returns the number
 * of samples, or -1 with a diagnostic. */
static int validate(const char *text)
{
    char typed[64][64];
    int ntyped = 0, samples = 0;
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        if (!eol) {
            printf("# no newline at the end\n");
            return -1;
        }
        char line[512];
        size_t len = (size_t)(eol - p);
        if (len >= sizeof line)
            return -1;
        memcpy(line, p, len);
        line[len] = '\0';
        p = eol + 1;
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char name[64], type[32];
            if (sscanf(line + 7, "%63s %31s", name, type) != 2 || ntyped == 64)
                return -1;
            if (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram")) {
                printf("# bad type: %s\n", line);
                return -1;
            }
            strcpy(typed[ntyped++], name);
            continue;
        }
        if (strncmp(line, "# HELP ", 7) == 0)
            continue;
        size_t n = strspn(line, "abcdefghijklmnopqrstuvwxyz_:ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        if (n == 0 || isdigit((unsigned char)line[0])) {
            printf("# bad name: %s\n", line);
            return -1;
        }
        int known = 0;
        for (int i = 0; i < ntyped; i++) {
            size_t tl = strlen(typed[i]);
            if (strncmp(line, typed[i], tl) == 0 &&
                (n == tl || strcmp(line + tl, "_bucket") == 0 ||
                 !strncmp(line + tl, "_bucket", 7) || !strncmp(line + tl, "_sum", 4) ||
                 !strncmp(line + tl, "_count", 6)))
                known = 1;
        }
        if (!known) {
            printf("# sample without TYPE: %s\n", line);
            return -1;
        }
        const char *v = strrchr(line, ' ');
        char *end;
        if (!v || (strtod(v + 1, &end), *end != '\0')) {
            printf("# bad value: %s\n", line);
            return -1;
        }
        samples++;
    }
    return samples;
}

static void test_reasons_and_bounds(void)
{
    is_str(nd_reject_reason_str(ND_REJECT_INVALID_JSON), "invalid_json", "invalid_json");
    is_str(nd_reject_reason_str(ND_REJECT_BAD_SHAPE), "bad_shape", "bad_shape");
    is_str(nd_reject_reason_str(ND_REJECT_TOO_DEEP), "too_deep", "too_deep");
    is_str(nd_reject_reason_str(ND_REJECT_TOO_LARGE), "too_large", "too_large");
    is_str(nd_reject_reason_str(ND_REJECT_QUEUE_FULL), "queue_full", "queue_full");
    is_str(nd_reject_reason_str(ND_REJECT_SHUTTING_DOWN), "shutting_down", "shutting_down");
    is_str(nd_reject_reason_str(ND_REJECT__COUNT), "unknown", "out of range");
    ok(nd_latency_bounds[0] == 0.005, "first bound 5 ms");
    ok(nd_latency_bounds[ND_LATENCY_BUCKETS - 1] == 30, "last bound 30 s");
    int sorted = 1;
    for (int i = 1; i < ND_LATENCY_BUCKETS; i++)
        sorted &= nd_latency_bounds[i] > nd_latency_bounds[i - 1];
    ok(sorted, "bounds increase");
}

static void test_observe(void)
{
    struct nd_receiver_stats s;
    memset(&s, 0, sizeof s);
    nd_receiver_stats_observe(&s, 0.003);
    nd_receiver_stats_observe(&s, 0.005); /* le is inclusive */
    nd_receiver_stats_observe(&s, 0.2);
    nd_receiver_stats_observe(&s, 100); /* only +Inf */
    nd_receiver_stats_observe(&s, -1);  /* clock oddity: counted as 0 */
    is_uint(s.latency_count, 5, "count");
    ok(s.latency_sum > 100.2079 && s.latency_sum < 100.2081, "sum %g", s.latency_sum);
    is_uint(s.latency_bucket[0], 3, "bucket 0.005");
    is_uint(s.latency_bucket[5], 1, "bucket 0.25");
    uint64_t total = 0;
    for (int i = 0; i < ND_LATENCY_BUCKETS; i++)
        total += s.latency_bucket[i];
    is_uint(total, 4, "100 s falls in no finite bucket");
}

/* One series for several objects of one receiver name (a reload). */
static void test_add(void)
{
    struct nd_receiver_stats a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.delivered = 3;
    a.failed = 1;
    a.in_flight = 1;
    a.backlog_notifications = 2;
    a.backlog_bytes = 100;
    a.max_backlog = 50;
    b.delivered = 4;
    b.retried = 2;
    b.dropped = 5;
    b.queued = 7;
    b.backlog_notifications = 1;
    b.backlog_oldest_ns = 500;
    b.max_backlog = 9;
    nd_receiver_stats_observe(&a, 0.003);
    nd_receiver_stats_observe(&b, 0.2);
    nd_receiver_stats_add(&a, &b);
    ok(a.delivered == 7 && a.retried == 2 && a.failed == 1 && a.dropped == 5,
       "counters are summed");
    ok(a.in_flight == 1 && a.queued == 7 && a.backlog_notifications == 3 && a.backlog_bytes == 100,
       "gauges are summed");
    is_int(a.backlog_oldest_ns, 500, "an oldest time beats none");
    b.backlog_oldest_ns = 900;
    a.backlog_oldest_ns = 600;
    nd_receiver_stats_add(&a, &b);
    is_int(a.backlog_oldest_ns, 600, "the earlier oldest time is kept");
    is_uint(a.max_backlog, 50, "max_backlog stays the destination's");
    ok(a.latency_count == 3 && a.latency_bucket[0] == 1 && a.latency_bucket[5] == 2,
       "latency histograms are summed");
}

static void test_render(void)
{
    struct nd_metrics m;
    memset(&m, 0, sizeof m);
    m.http_requests = 7;
    m.alerts_received = 5;
    m.alerts_accepted = 3;
    m.requests_rejected[ND_REJECT_QUEUE_FULL] = 1;
    m.alerts_rejected[ND_REJECT_QUEUE_FULL] = 2;
    m.requests_rejected[ND_REJECT_BAD_SHAPE] = 4;
    m.batches = 2;
    m.notifications = 6;
    struct nd_receiver_stats a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.delivered = 4;
    a.retried = 2;
    a.failed = 1;
    a.in_flight = 3;
    a.queued = 9;
    a.dropped = 11;
    a.backlog_notifications = 5;
    a.backlog_alerts = 50;
    a.backlog_bytes = 4000;
    a.max_backlog = 64;
    a.backlog_oldest_ns = nd_now_wall_ns() - INT64_C(3600000000000); /* an hour ago */
    nd_receiver_stats_observe(&a, 0.02);
    nd_receiver_stats_observe(&a, 0.7);
    b.delivered = 1;
    struct nd_metrics_receiver rcv[] = {{"ops", "webhook", &a}, {"we\"ird\\", "console", &b}};
    struct nd_queue *q = nd_queue_new(100, 4096);

    char *t = render(&m, q, rcv, 2);
    has_str(t, "# HELP notifyd_http_requests_total ", "HELP line");
    has_str(t, "# TYPE notifyd_http_requests_total counter\nnotifyd_http_requests_total 7\n",
            "requests");
    has_str(t, "\nnotifyd_alerts_received_total 5\n", "received");
    has_str(t, "# TYPE notifyd_alerts_accepted_total counter\nnotifyd_alerts_accepted_total 3\n",
            "accepted");
    has_str(t, "\nnotifyd_requests_rejected_total{reason=\"queue_full\"} 1\n", "rejected req");
    has_str(t, "\nnotifyd_requests_rejected_total{reason=\"bad_shape\"} 4\n", "rejected shape");
    has_str(t, "\nnotifyd_requests_rejected_total{reason=\"shutting_down\"} 0\n", "zero reasons");
    has_str(t, "\nnotifyd_alerts_rejected_total{reason=\"queue_full\"} 2\n", "rejected alerts");
    has_str(t, "# TYPE notifyd_queue_alerts gauge\nnotifyd_queue_alerts 0\n", "queue gauge");
    has_str(t, "\nnotifyd_queue_bytes 0\n", "queue bytes");
    has_str(t, "\nnotifyd_queue_max_alerts 100\n", "max alerts");
    has_str(t, "\nnotifyd_queue_max_bytes 4096\n", "max bytes");
    has_str(t, "\nnotifyd_batches_total 2\n", "batches");
    has_str(t, "\nnotifyd_notifications_total 6\n", "notifications");
    has_str(t, "\nnotifyd_notifications_delivered_total{receiver=\"ops\",type=\"webhook\"} 4\n",
            "delivered");
    has_str(
        t,
        "\nnotifyd_notifications_delivered_total{receiver=\"we\\\"ird\\\\\",type=\"console\"} 1\n",
        "label value escaped");
    has_str(t, "\nnotifyd_notifications_retried_total{receiver=\"ops\",type=\"webhook\"} 2\n",
            "retried");
    has_str(t, "\nnotifyd_notifications_failed_total{receiver=\"ops\",type=\"webhook\"} 1\n",
            "failed");
    has_str(
        t,
        "# TYPE notifyd_delivery_in_flight gauge\nnotifyd_delivery_in_flight{receiver=\"ops\"} 3\n",
        "in flight");
    has_str(t, "\nnotifyd_delivery_queued{receiver=\"ops\"} 9\n", "queued");
    has_str(t, "# TYPE notifyd_delivery_latency_seconds histogram\n", "histogram type");
    has_str(t, "\nnotifyd_delivery_latency_seconds_bucket{receiver=\"ops\",le=\"0.01\"} 0\n",
            "bucket below");
    has_str(t, "\nnotifyd_delivery_latency_seconds_bucket{receiver=\"ops\",le=\"0.025\"} 1\n",
            "bucket 0.025");
    has_str(t, "\nnotifyd_delivery_latency_seconds_bucket{receiver=\"ops\",le=\"0.5\"} 1\n",
            "cumulative 0.5");
    has_str(t, "\nnotifyd_delivery_latency_seconds_bucket{receiver=\"ops\",le=\"1\"} 2\n",
            "cumulative 1");
    has_str(t, "\nnotifyd_delivery_latency_seconds_bucket{receiver=\"ops\",le=\"30\"} 2\n",
            "cumulative 30");
    has_str(t, "\nnotifyd_delivery_latency_seconds_bucket{receiver=\"ops\",le=\"+Inf\"} 2\n",
            "+Inf");
    has_str(t, "\nnotifyd_delivery_latency_seconds_sum{receiver=\"ops\"} 0.72\n", "sum");
    has_str(t, "\nnotifyd_delivery_latency_seconds_count{receiver=\"ops\"} 2\n", "count");
    has_str(t,
            "# TYPE notifyd_notifications_dropped_total counter\n"
            "notifyd_notifications_dropped_total{receiver=\"ops\",reason=\"backlog_full\"} 11\n",
            "dropped, by receiver and reason");
    has_str(t,
            "\nnotifyd_notifications_dropped_total{receiver=\"we\\\"ird\\\\\","
            "reason=\"backlog_full\"} 0\n",
            "dropped: zero written, label escaped");
    has_str(t, "\nnotifyd_receiver_backlog_notifications{receiver=\"ops\"} 5\n",
            "backlog notifications");
    has_str(t,
            "# TYPE notifyd_receiver_backlog_alerts gauge\n"
            "notifyd_receiver_backlog_alerts{receiver=\"ops\"} 50\n",
            "backlog alerts");
    has_str(t, "\nnotifyd_receiver_backlog_bytes{receiver=\"ops\"} 4000\n", "backlog bytes");
    has_str(t, "\nnotifyd_receiver_backlog_max_alerts{receiver=\"ops\"} 64\n", "max_backlog");
    has_str(t, "\nnotifyd_receiver_backlog_oldest_age_seconds{receiver=\"we\\\"ird\\\\\"} 0\n",
            "oldest age 0 with an empty backlog");
    {
        const char *p =
            strstr(t, "\nnotifyd_receiver_backlog_oldest_age_seconds{receiver=\"ops\"} ");
        double age = p ? strtod(strchr(p, '}') + 2, NULL) : -1;
        ok(age >= 3600 && age < 3600 + 600, "oldest age about an hour (%g s)", age);
    }
    int samples = validate(t);
    /* 3 + 6 + 6 + 4 + 2 + 2 scalars/series, 3x2 per-receiver counters, 2x2 gauges,
     * 2 x (12 buckets + Inf + sum + count), 2 x (dropped + 5 backlog gauges),
     * 3 of inhibition (two counters, a gauge) */
    is_int(samples, 3 + 12 + 4 + 2 + 3 + 3 + 6 + 4 + 2 * 15 + 2 * 6,
           "every line valid, sample count");
    free(t);

    /* no metrics struct, no queue, no receiver: still a valid document */
    t = render(NULL, NULL, NULL, 0);
    has_str(t, "\nnotifyd_queue_max_alerts 0\n", "absent queue gives zeros");
    has_str(t, "\nnotifyd_http_connections_evicted_total 0\n", "evictions counter");
    has_str(t, "\nnotifyd_http_accept_errors_total 0\n", "accept errors counter");
    has_str(t, "\nnotifyd_alerts_silenced_total 0\n", "silenced counter");
    has_str(t, "\nnotifyd_alerts_inhibited_total 0\n", "inhibited counter");
    has_str(t, "\nnotifyd_inhibit_sources 0\n", "inhibition sources gauge");
    has_str(t, "\nnotifyd_inhibit_sources_dropped_total 0\n", "inhibition drops counter");
    is_int(validate(t), 3 + 12 + 4 + 2 + 3 + 3, "bare document valid");
    free(t);
    nd_queue_free(q);
}

int main(void)
{
    test_reasons_and_bounds();
    test_observe();
    test_add();
    test_render();
    return done_testing();
}
