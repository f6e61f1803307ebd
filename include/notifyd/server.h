/* server.h - the inbound HTTP/1.1 server: libevent events on raw sockets + http-parser.
 *
 *   POST /api/v2/alerts  parse (ingest.h), hand the alerts to `submit`
 *   GET  /-/healthy      200
 *   GET  /-/ready        200 once nd_server_set_ready(s, true), else 503
 *   GET  /metrics        Prometheus text from `render`
 *
 * Every answer but /metrics is NM's envelope {"Status":N,"Message":"..."},
 * Content-Type application/json: 400 bad body, 404 unknown path, 405 with
 * Allow for a wrong method on a known path, 413 body too large, 503 queue
 * full (with Retry-After) or shutting down (Connection: close, also for a
 * body that completes after shutdown began), 500 when submit failed otherwise.
 * Protocol errors are envelopes too, each followed by Connection: close:
 * 413 (body over max_body_size, from Content-Length or while reading a
 * chunked body; counted as too_large), 431 (headers over the limit), 400
 * (unparsable request), 408 (request incomplete after the timeout, whether
 * the client trickles or stalled). The
 * choice of http-parser over evhttp, with figures, is in docs/http.md.
 *
 * The server knows neither queues nor receivers: the daemon passes callbacks.
 * All calls and callbacks run on the event loop's thread.
 */
#ifndef NOTIFYD_SERVER_H
#define NOTIFYD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/ingest.h"
#include "notifyd/metrics.h"

struct event_base;
struct evbuffer;
struct nd_alert;
struct nd_server;

/* Queues the alerts of one request, all or none. ND_OK: the callee now owns
 * the references in alerts[0..n) (not the array, which the server frees).
 * ND_EFULL: nothing was queued (503 + Retry-After; `err`, if set, is the
 * message; the server logs these refusals as one warning per second with
 * their count, not one line each). Any other status: nothing was queued, `err` says why (500). On
 * failure the server unrefs the alerts. Never called with n == 0, nor after
 * nd_server_stop_accepting (such a request gets 503 "shutting down"). */
typedef int nd_server_submit_cb(void *ud, struct nd_alert **alerts, size_t n, char *err);
/* Appends the Prometheus exposition (e.g. with nd_metrics_render). */
typedef void nd_server_render_cb(void *ud, struct evbuffer *out);

struct nd_server_opts {
    const char *host;             /* address or name to bind; NULL or "" = all interfaces */
    uint16_t port;                /* 0 = pick a free one (see nd_server_port) */
    uint64_t max_body_size;       /* 0 = 1 MiB */
    size_t max_headers_size;      /* 0 = 16 KiB */
    int timeout_s;                /* read/write/keep-alive idle timeout; 0 = 30 */
    int retry_after_s;            /* Retry-After of a queue-full 503; 0 = 1 */
    int backlog;                  /* listen() backlog; 0 = 1024 */
    size_t max_connections;       /* open connections; 0 = 1024; lowered to RLIMIT_NOFILE
                                     minus a quarter (at least 32) kept for other descriptors.
                                     At the limit a new connection closes the oldest one */
    struct nd_ingest_opts ingest; /* cluster, max_depth; leave now_ns 0 (read per request);
                                     max_alert_bytes 0 = max_body_size */
    nd_server_submit_cb *submit;  /* required */
    nd_server_render_cb *render;  /* NULL = nd_metrics_render(metrics, no queue, no receivers) */
    void *ud;                     /* for submit and render */
    struct nd_metrics *metrics;   /* counters updated per request; may be NULL */
};

/* Binds and starts serving on `base`. The options are copied (host and
 * ingest.cluster are duplicated). Returns NULL with err set on failure. */
struct nd_server *nd_server_new(struct event_base *base, const struct nd_server_opts *o, char *err);
/* Closes the listener and every connection; pending replies are not kept
 * (the server answers synchronously, so none is pending between events). */
void nd_server_free(struct nd_server *s);
/* Serves `fd`, a connected stream socket (TCP or AF_UNIX, e.g. one end of a
 * socketpair), exactly like an accepted connection, limits included; the
 * server owns and closes it. The fuzz target of the HTTP path
 * (tests/fuzz/fuzz_http.c) drives the server through it. After
 * nd_server_stop_accepting the fd is closed and ND_EINVAL returned. */
int nd_server_adopt(struct nd_server *s, int fd, char *err);
/* The bound port (useful after port 0). */
uint16_t nd_server_port(const struct nd_server *s);
/* The connection limit in force (max_connections after the fd limit). */
size_t nd_server_max_connections(const struct nd_server *s);
void nd_server_set_ready(struct nd_server *s, bool ready);
/* Shutdown, step one: closes the listening socket (new connections are
 * refused by the kernel) and answers 503 shutting down to any request that
 * still arrives on a kept-alive connection. Idempotent. */
void nd_server_stop_accepting(struct nd_server *s);

#endif
