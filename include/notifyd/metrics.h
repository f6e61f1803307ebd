/* metrics.h - counters served at GET /metrics in Prometheus text format.
 *
 * Plain counters in structs owned by the daemon (one nd_metrics) and by each
 * receiver (one nd_receiver_stats): single-threaded, so no atomics. The
 * stats layer (src/stats) sits below ingest, pipeline and notify, which
 * all count into it; it depends only on store and libevent's evbuffer.
 */
#ifndef NOTIFYD_METRICS_H
#define NOTIFYD_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct nd_queue;

/* Why a request's alerts were rejected; label reason="..." in /metrics. */
enum nd_reject_reason {
    ND_REJECT_INVALID_JSON = 0, /* "invalid_json" */
    ND_REJECT_BAD_SHAPE,        /* "bad_shape": wrong types, missing/empty labels, bad times */
    ND_REJECT_TOO_DEEP,         /* "too_deep" */
    ND_REJECT_TOO_LARGE,        /* "too_large": body over max_body_size */
    ND_REJECT_QUEUE_FULL,       /* "queue_full" */
    ND_REJECT_SHUTTING_DOWN,    /* "shutting_down" */
    ND_REJECT__COUNT
};
const char *nd_reject_reason_str(enum nd_reject_reason r);

struct nd_metrics {
    uint64_t http_requests;   /* every request answered */
    uint64_t alerts_received; /* alerts in requests that parsed */
    uint64_t alerts_accepted; /* alerts queued */
    uint64_t requests_rejected[ND_REJECT__COUNT];
    uint64_t alerts_rejected[ND_REJECT__COUNT]; /* alerts counted when the body parsed */
    uint64_t batches;                           /* batches closed */
    uint64_t notifications;                     /* notifications built (all receivers) */
    uint64_t alerts_silenced;                   /* alerts muted by a global silence */
    uint64_t alerts_inhibited;                  /* alerts muted by an inhibition rule */
    uint64_t inhibit_sources;                   /* inhibition's sources remembered (gauge) */
    uint64_t inhibit_sources_dropped;           /* not remembered: max_inhibit_sources */
    uint64_t connections_evicted;               /* closed to make room at max_connections */
    uint64_t accept_errors;                     /* accept() failures (EMFILE and others) */
};

/* Delivery latency buckets in seconds (upper bounds); +Inf is implied. */
#define ND_LATENCY_BUCKETS 12
extern const double nd_latency_bounds[ND_LATENCY_BUCKETS];

struct nd_receiver_stats {
    uint64_t delivered; /* notifications delivered */
    uint64_t retried;   /* attempts that will be retried */
    uint64_t failed;    /* notifications given up (4xx, attempts or age exhausted, shutdown) */
    uint64_t in_flight; /* requests on the wire now (gauge) */
    uint64_t queued;    /* notifications waiting for a slot or a retry timer (gauge) */
    uint64_t dropped;   /* notifications given up to make room: overflow = drop_oldest */
    /* The backlog (gauges): notifications not finished yet (queued, waiting
     * for a retry, preparing or in flight), their alerts and the alerts'
     * bytes (a->size, as [queue] counts them), and the creation time (wall
     * ns) of the oldest, 0 when there is none. */
    uint64_t backlog_notifications;
    uint64_t backlog_alerts;
    uint64_t backlog_bytes;
    int64_t backlog_oldest_ns;
    uint64_t max_backlog; /* the receiver's limit (alerts), 0 = none */
    uint64_t latency_count;
    double latency_sum; /* seconds, from first attempt start to delivered */
    uint64_t latency_bucket[ND_LATENCY_BUCKETS]; /* cumulative is computed at render time */
};
void nd_receiver_stats_observe(struct nd_receiver_stats *s, double seconds);
/* Adds src's counters and gauges to dst (one series for several objects
 * of one receiver name): sums, the earlier non-zero oldest time, and dst's
 * max_backlog kept. */
void nd_receiver_stats_add(struct nd_receiver_stats *dst, const struct nd_receiver_stats *src);

struct nd_metrics_receiver {
    const char *name;
    const char *type;
    const struct nd_receiver_stats *stats;
};

/* Appends the whole exposition. */
void nd_metrics_render(const struct nd_metrics *m, const struct nd_queue *q,
                       const struct nd_metrics_receiver *rcv, size_t nrcv, struct evbuffer *out);

#endif
