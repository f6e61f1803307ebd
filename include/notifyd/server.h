/* server.h - the inbound HTTP/1.1 server: libevent events on raw sockets + http-parser.
 *
 *   POST /api/v2/alerts  parse (ingest.h), hand the alerts to `submit`
 *   GET  /-/healthy      200
 *   GET  /-/ready        200 once nd_server_set_ready(s, true), else 503
 *   GET  /metrics        Prometheus text from `render`
 *   any path in `routes`: its handler (other modules' endpoints), which may
 *                        answer at once or later (nd_server_req_reply)
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

/* One request to a registered route, whole (headers and body read). The
 * handler answers it at once or later, from any callback of the loop, with
 * nd_server_req_reply*(), which releases it. Until then the connection
 * reads no further request (pipelined requests wait their turn) and is
 * exempt from the idle timeout: the handler bounds its own wait. If the
 * client goes away first, the request stays valid and the answer is dropped. */
struct nd_server_req;
typedef void nd_server_handler_fn(void *ud, struct nd_server_req *req);

struct nd_server_route {
    const char *method; /* "GET", "POST", "DELETE"...; GET also serves HEAD */
    const char *path;   /* exact path, or every path under it when it ends in '/' */
    nd_server_handler_fn *handler;
    void *ud;
};

/* Most routes; a longer table is a wiring bug (nd_server_new fails). */
#define ND_SERVER_MAX_ROUTES 64

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
    /* Extra endpoints, looked up after the built-in ones, in order: the
     * first route whose method and path match serves the request; a path
     * known only with other methods gets 405 with Allow. The table is
     * copied (the strings are not: they must outlive the server). The
     * body of such a request is kept whole, up to max_body_size. */
    const struct nd_server_route *routes;
    size_t nroutes;
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
/* The request's method ("GET"...), path (no query, not decoded) and query
 * (what follows '?', "" when none). NUL-terminated, valid until answered. */
const char *nd_server_req_method(const struct nd_server_req *r);
const char *nd_server_req_path(const struct nd_server_req *r);
const char *nd_server_req_query(const struct nd_server_req *r);
/* The body (NUL-terminated; *len its length without the NUL). */
const char *nd_server_req_body(const struct nd_server_req *r, size_t *len);
/* The first query parameter `name`, percent- and '+'-decoded, into out.
 * ND_OK; ND_EINVAL when absent; ND_ETOOBIG when it does
 * not fit in outsz (out then holds a truncated, terminated prefix). */
int nd_server_req_param(const struct nd_server_req *r, const char *name, char *out, size_t outsz);
/* Whether the client has gone: the answer would be dropped. */
bool nd_server_req_gone(const struct nd_server_req *r);
/* Answers and releases req. ctype NULL = "application/json". */
void nd_server_req_reply(struct nd_server_req *r, int code, const char *ctype, const char *body,
                         size_t len);
/* Answers NM's envelope {"Status":code,"Message":msg} and releases req. */
void nd_server_req_reply_msg(struct nd_server_req *r, int code, const char *msg);

/* Called only from inside the submit callback: the 200 of the request
 * being submitted is deferred. The submit callback still returns ND_OK (the
 * alerts are taken); the caller answers later with nd_server_req_reply_msg
 * (200 "Notification request accepted", or an error: the alerts stay
 * taken). For an answer that waits for something, such as a log's fsync. */
struct nd_server_req *nd_server_defer(struct nd_server *s);

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
