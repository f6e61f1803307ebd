/* ingest.h - request bodies of POST /api/v2/alerts turned into alerts.
 *
 * Two shapes are accepted:
 *  (a) Alertmanager's webhook payload, an object whose "alerts" array holds
 *      {status, labels, annotations, startsAt, endsAt, generatorURL, ...};
 *  (b) a top-level array of Prometheus-style alerts {labels, annotations,
 *      startsAt, endsAt, generatorURL} (status derived by the builder).
 * Unknown keys are skipped whatever their value; a given "fingerprint" is
 * ignored (alert.h computes it).
 *
 * Parsing is all-or-nothing: on any error no alert survives, the error text
 * names the place ("alerts[3].labels: expected object") and a reason tells
 * /metrics why the request was refused. The yajl stream parser is used with
 * a nesting limit, so a body of a million '[' costs nothing but its bytes.
 */
#ifndef NOTIFYD_INGEST_H
#define NOTIFYD_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "notifyd/metrics.h"

struct evbuffer;
struct nd_alert;

#define ND_INGEST_DEFAULT_MAX_DEPTH 64

struct nd_ingest_opts {
    const char *cluster;    /* value of the cluster label added when missing (see alert.h) */
    uint32_t max_depth;     /* JSON nesting limit; 0 = ND_INGEST_DEFAULT_MAX_DEPTH */
    int64_t now_ns;         /* wall clock for status derivation; 0 = now */
    size_t max_alert_bytes; /* bound of one alert's strings; 0 = 1 MiB */
};

/* Parses a whole body. On ND_OK, *out is a new array (free it with
 * nd_ingest_alerts_free, or free() it after taking the references) of *nout
 * alerts with one reference each; *nout may be 0 for {"alerts":[]}.
 * On error (ND_EINVAL, or ND_ETOOBIG for an alert past max_alert_bytes)
 * *out is NULL, *nout 0, *reason and err are set, and nothing is left
 * allocated. `reason` may be NULL. */
int nd_ingest_parse(const struct nd_ingest_opts *o, const void *body, size_t len,
                    struct nd_alert ***out, size_t *nout, enum nd_reject_reason *reason, char *err);
/* The same over the chunks of an evbuffer, without copying it (evbuffer_peek);
 * the buffer is not drained. */
int nd_ingest_parse_evbuffer(const struct nd_ingest_opts *o, struct evbuffer *body,
                             struct nd_alert ***out, size_t *nout, enum nd_reject_reason *reason,
                             char *err);
/* The same parse fed piece by piece as the body arrives (the HTTP server
 * parses a body while reading it, without keeping it). A piece may end
 * anywhere, even inside a token; it need not outlive the feed call. */
struct nd_ingest_stream;
struct nd_ingest_stream *nd_ingest_stream_new(const struct nd_ingest_opts *o);
/* ND_OK, or the first error (kept; later feeds do nothing). The error text
 * and every alert are only handed over by nd_ingest_stream_end. */
int nd_ingest_stream_feed(struct nd_ingest_stream *st, const void *data, size_t len);
/* Ends the body and frees `st`; results as nd_ingest_parse. */
int nd_ingest_stream_end(struct nd_ingest_stream *st, struct nd_alert ***out, size_t *nout,
                         enum nd_reject_reason *reason, char *err);
/* Abandons a parse (connection gone, body refused): frees `st` and every
 * alert built so far. NULL is fine. */
void nd_ingest_stream_free(struct nd_ingest_stream *st);
/* Drops one reference of each alert and frees the array. NULL is fine. */
void nd_ingest_alerts_free(struct nd_alert **alerts, size_t n);

#endif
