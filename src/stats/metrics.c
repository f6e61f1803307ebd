/* metrics.c - the Prometheus text exposition (format 0.0.4) of the counters.
 *
 * Every series is written even when it is zero, so that rate() works from
 * the first scrape and a reason that never happened is still visible.
 */
#include "notifyd/metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "notifyd/queue.h"
#include "notifyd/util.h"

const double nd_latency_bounds[ND_LATENCY_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};

static const char *const reason_names[ND_REJECT__COUNT] = {
    "invalid_json", "bad_shape", "too_deep", "too_large", "queue_full", "shutting_down",
};

const char *nd_reject_reason_str(enum nd_reject_reason r)
{
    return (unsigned)r < ND_REJECT__COUNT ? reason_names[r] : "unknown";
}

void nd_receiver_stats_observe(struct nd_receiver_stats *s, double seconds)
{
    if (!(seconds >= 0)) /* also catches NaN */
        seconds = 0;
    s->latency_count++;
    s->latency_sum += seconds;
    for (size_t i = 0; i < ND_LATENCY_BUCKETS; i++) {
        if (seconds <= nd_latency_bounds[i]) {
            s->latency_bucket[i]++;
            break;
        }
    }
}

void nd_receiver_stats_add(struct nd_receiver_stats *dst, const struct nd_receiver_stats *src)
{
    dst->delivered += src->delivered;
    dst->retried += src->retried;
    dst->failed += src->failed;
    dst->in_flight += src->in_flight;
    dst->queued += src->queued;
    dst->dropped += src->dropped;
    dst->backlog_notifications += src->backlog_notifications;
    dst->backlog_alerts += src->backlog_alerts;
    dst->backlog_bytes += src->backlog_bytes;
    if (src->backlog_oldest_ns &&
        (!dst->backlog_oldest_ns || src->backlog_oldest_ns < dst->backlog_oldest_ns))
        dst->backlog_oldest_ns = src->backlog_oldest_ns;
    dst->latency_count += src->latency_count;
    dst->latency_sum += src->latency_sum;
    for (size_t i = 0; i < ND_LATENCY_BUCKETS; i++)
        dst->latency_bucket[i] += src->latency_bucket[i];
}

/* Shortest "%g" form that reads back as the same double. Never setlocale()
 * in this program, so the decimal point is '.'. */
static void fmt_double(char out[32], double v)
{
    snprintf(out, 32, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, 32, "%.17g", v);
}

/* Label values may hold anything; the text format escapes \, " and newline. */
static void add_label_value(struct evbuffer *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '\\':
            evbuffer_add(out, "\\\\", 2);
            break;
        case '"':
            evbuffer_add(out, "\\\"", 2);
            break;
        case '\n':
            evbuffer_add(out, "\\n", 2);
            break;
        default:
            evbuffer_add(out, s, 1);
        }
    }
}

static void header(struct evbuffer *out, const char *name, const char *type, const char *help)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void scalar(struct evbuffer *out, const char *name, const char *type, const char *help,
                   uint64_t v)
{
    header(out, name, type, help);
    evbuffer_add_printf(out, "%s %llu\n", name, (unsigned long long)v);
}

static void by_reason(struct evbuffer *out, const char *name, const char *help,
                      const uint64_t v[ND_REJECT__COUNT])
{
    header(out, name, "counter", help);
    for (int r = 0; r < ND_REJECT__COUNT; r++)
        evbuffer_add_printf(out, "%s{reason=\"%s\"} %llu\n", name, reason_names[r],
                            (unsigned long long)v[r]);
}

enum rfield {
    R_DELIVERED,
    R_RETRIED,
    R_FAILED,
    R_IN_FLIGHT,
    R_QUEUED,
    R_BACKLOG_NOTIFICATIONS,
    R_BACKLOG_ALERTS,
    R_BACKLOG_BYTES,
    R_MAX_BACKLOG
};

static uint64_t rfield_get(const struct nd_receiver_stats *s, enum rfield f)
{
    switch (f) {
    case R_DELIVERED:
        return s->delivered;
    case R_RETRIED:
        return s->retried;
    case R_FAILED:
        return s->failed;
    case R_IN_FLIGHT:
        return s->in_flight;
    case R_QUEUED:
        return s->queued;
    case R_BACKLOG_NOTIFICATIONS:
        return s->backlog_notifications;
    case R_BACKLOG_ALERTS:
        return s->backlog_alerts;
    case R_BACKLOG_BYTES:
        return s->backlog_bytes;
    case R_MAX_BACKLOG:
        return s->max_backlog;
    }
    return 0;
}

static void per_receiver(struct evbuffer *out, const char *name, const char *type, const char *help,
                         const struct nd_metrics_receiver *rcv, size_t nrcv, enum rfield f,
                         int with_type)
{
    header(out, name, type, help);
    for (size_t i = 0; i < nrcv; i++) {
        evbuffer_add_printf(out, "%s{receiver=\"", name);
        add_label_value(out, rcv[i].name ? rcv[i].name : "");
        if (with_type) {
            evbuffer_add_printf(out, "\",type=\"");
            add_label_value(out, rcv[i].type ? rcv[i].type : "");
        }
        evbuffer_add_printf(out, "\"} %llu\n",
                            (unsigned long long)(rcv[i].stats ? rfield_get(rcv[i].stats, f) : 0));
    }
}

/* One series per receiver with an extra label, e.g. reason="backlog_full". */
static void per_receiver_reason(struct evbuffer *out, const char *name, const char *help,
                                const struct nd_metrics_receiver *rcv, size_t nrcv,
                                const char *reason,
                                uint64_t (*get)(const struct nd_receiver_stats *))
{
    header(out, name, "counter", help);
    for (size_t i = 0; i < nrcv; i++) {
        evbuffer_add_printf(out, "%s{receiver=\"", name);
        add_label_value(out, rcv[i].name ? rcv[i].name : "");
        evbuffer_add_printf(out, "\",reason=\"%s\"} %llu\n", reason,
                            (unsigned long long)(rcv[i].stats ? get(rcv[i].stats) : 0));
    }
}

static uint64_t get_dropped(const struct nd_receiver_stats *s)
{
    return s->dropped;
}

/* Seconds since the oldest notification of the backlog was created; 0
 * when the backlog is empty (or the clock went back). */
static void oldest_age(struct evbuffer *out, const struct nd_metrics_receiver *rcv, size_t nrcv)
{
    static const char name[] = "notifyd_receiver_backlog_oldest_age_seconds";
    int64_t now = nd_now_wall_ns();
    char num[32];

    header(out, name, "gauge", "Age of the oldest notification the receiver has not finished.");
    for (size_t i = 0; i < nrcv; i++) {
        int64_t t = rcv[i].stats ? rcv[i].stats->backlog_oldest_ns : 0;
        double age = t > 0 && now > t ? (double)(now - t) / 1e9 : 0.0;
        fmt_double(num, age);
        evbuffer_add_printf(out, "%s{receiver=\"", name);
        add_label_value(out, rcv[i].name ? rcv[i].name : "");
        evbuffer_add_printf(out, "\"} %s\n", num);
    }
}

static void latency(struct evbuffer *out, const struct nd_metrics_receiver *rcv, size_t nrcv)
{
    static const char name[] = "notifyd_delivery_latency_seconds";
    char num[32];
    header(out, name, "histogram",
           "Time from the first attempt of a notification to its delivery.");
    for (size_t i = 0; i < nrcv; i++) {
        static const struct nd_receiver_stats zero;
        const struct nd_receiver_stats *s = rcv[i].stats ? rcv[i].stats : &zero;
        const char *rn = rcv[i].name ? rcv[i].name : "";
        uint64_t cum = 0;
        for (size_t b = 0; b < ND_LATENCY_BUCKETS; b++) {
            cum += s->latency_bucket[b];
            fmt_double(num, nd_latency_bounds[b]);
            evbuffer_add_printf(out, "%s_bucket{receiver=\"", name);
            add_label_value(out, rn);
            evbuffer_add_printf(out, "\",le=\"%s\"} %llu\n", num, (unsigned long long)cum);
        }
        evbuffer_add_printf(out, "%s_bucket{receiver=\"", name);
        add_label_value(out, rn);
        evbuffer_add_printf(out, "\",le=\"+Inf\"} %llu\n", (unsigned long long)s->latency_count);
        fmt_double(num, s->latency_sum);
        evbuffer_add_printf(out, "%s_sum{receiver=\"", name);
        add_label_value(out, rn);
        evbuffer_add_printf(out, "\"} %s\n", num);
        evbuffer_add_printf(out, "%s_count{receiver=\"", name);
        add_label_value(out, rn);
        evbuffer_add_printf(out, "\"} %llu\n", (unsigned long long)s->latency_count);
    }
}

void nd_metrics_render(const struct nd_metrics *m, const struct nd_queue *q,
                       const struct nd_metrics_receiver *rcv, size_t nrcv, struct evbuffer *out)
{
    static const struct nd_metrics zero;
    if (!m)
        m = &zero;
    scalar(out, "notifyd_http_requests_total", "counter", "HTTP requests answered.",
           m->http_requests);
    scalar(out, "notifyd_alerts_received_total", "counter", "Alerts in request bodies that parsed.",
           m->alerts_received);
    scalar(out, "notifyd_alerts_accepted_total", "counter", "Alerts queued.", m->alerts_accepted);
    by_reason(out, "notifyd_requests_rejected_total", "Requests refused, by reason.",
              m->requests_rejected);
    by_reason(out, "notifyd_alerts_rejected_total", "Alerts of refused requests, by reason.",
              m->alerts_rejected);
    scalar(out, "notifyd_queue_alerts", "gauge", "Alerts held (queued or being delivered).",
           q ? nd_queue_count(q) : 0);
    scalar(out, "notifyd_queue_bytes", "gauge", "Bytes of the alerts held.",
           q ? nd_queue_bytes(q) : 0);
    scalar(out, "notifyd_queue_max_alerts", "gauge", "Limit of alerts held.",
           q ? nd_queue_max_alerts(q) : 0);
    scalar(out, "notifyd_queue_max_bytes", "gauge", "Limit of bytes held.",
           q ? nd_queue_max_bytes(q) : 0);
    scalar(out, "notifyd_http_connections_evicted_total", "counter",
           "Connections closed to make room for a new one at max_connections.",
           m->connections_evicted);
    scalar(out, "notifyd_http_accept_errors_total", "counter", "accept() failures, such as EMFILE.",
           m->accept_errors);
    scalar(out, "notifyd_batches_total", "counter", "Batches closed.", m->batches);
    scalar(out, "notifyd_notifications_total", "counter", "Notifications built.", m->notifications);
    scalar(out, "notifyd_alerts_silenced_total", "counter",
           "Alerts of closed batches muted by a global silence.", m->alerts_silenced);
    scalar(out, "notifyd_alerts_inhibited_total", "counter",
           "Alerts of closed batches muted by an inhibition rule.", m->alerts_inhibited);
    scalar(out, "notifyd_inhibit_sources", "gauge",
           "Source alerts remembered for inhibition (one per rule and alert).", m->inhibit_sources);
    scalar(out, "notifyd_inhibit_sources_dropped_total", "counter",
           "Source alerts not remembered because max_inhibit_sources was reached.",
           m->inhibit_sources_dropped);
    per_receiver(out, "notifyd_notifications_delivered_total", "counter",
                 "Notifications delivered.", rcv, nrcv, R_DELIVERED, 1);
    per_receiver(out, "notifyd_notifications_retried_total", "counter",
                 "Delivery attempts that will be retried.", rcv, nrcv, R_RETRIED, 1);
    per_receiver(out, "notifyd_notifications_failed_total", "counter", "Notifications given up.",
                 rcv, nrcv, R_FAILED, 1);
    per_receiver(out, "notifyd_delivery_in_flight", "gauge", "Requests on the wire.", rcv, nrcv,
                 R_IN_FLIGHT, 0);
    per_receiver(out, "notifyd_delivery_queued", "gauge",
                 "Notifications waiting for a slot or a retry.", rcv, nrcv, R_QUEUED, 0);
    per_receiver_reason(out, "notifyd_notifications_dropped_total",
                        "Notifications given up to make room in a full backlog "
                        "(overflow = drop_oldest).",
                        rcv, nrcv, "backlog_full", get_dropped);
    per_receiver(out, "notifyd_receiver_backlog_notifications", "gauge",
                 "Notifications the receiver has not finished (queued, retrying, in flight).", rcv,
                 nrcv, R_BACKLOG_NOTIFICATIONS, 0);
    per_receiver(out, "notifyd_receiver_backlog_alerts", "gauge",
                 "Alerts in the receiver's unfinished notifications.", rcv, nrcv, R_BACKLOG_ALERTS,
                 0);
    per_receiver(out, "notifyd_receiver_backlog_bytes", "gauge",
                 "Bytes of those alerts, counted as [queue] max_bytes counts them.", rcv, nrcv,
                 R_BACKLOG_BYTES, 0);
    per_receiver(out, "notifyd_receiver_backlog_max_alerts", "gauge",
                 "The receiver's max_backlog (0 = no limit of its own).", rcv, nrcv, R_MAX_BACKLOG,
                 0);
    oldest_age(out, rcv, nrcv);
    latency(out, rcv, nrcv);
}
