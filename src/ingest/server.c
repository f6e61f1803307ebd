/* server.c - the inbound HTTP server on libevent's evhttp.
 *
 * Every method is allowed at the evhttp level so that a wrong method on a
 * known path gets a real 405 with Allow from us (evhttp would answer 501).
 * One generic callback routes by exact path: evhttp_set_cb would leave 404
 * and 405 to evhttp. Every request is answered before its callback returns,
 * so there is never a reply pending when the server is freed.
 */
#include "notifyd/server.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/log.h"
#include "notifyd/util.h"

#define DEFAULT_MAX_BODY    (UINT64_C(1) << 20)
#define DEFAULT_MAX_HEADERS (16u << 10)
#define DEFAULT_TIMEOUT_S   30
#define DEFAULT_BACKLOG     1024
#define ACCEPT_BACKOFF_MS   100

struct nd_server {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound; /* NULL once stop_accepting closed it */
    struct evconnlistener *listener;   /* owned by `bound` (evhttp frees it) */
    struct event *backoff;             /* re-enables accept after EMFILE */
    struct nd_server_opts o;           /* host and ingest.cluster owned */
    uint16_t port;
    bool ready, stopping;
    struct nd_server *next; /* in `servers` */
};

/* evhttp_bind_listener() makes the listener's callback argument evhttp's
 * own pointer, and the error callback gets that same argument: it cannot
 * carry ours. The error callback finds its server in this list instead
 * (one loop, one thread: a plain list is enough). */
static struct nd_server *servers;

static struct nd_server *server_of(const struct evconnlistener *l)
{
    for (struct nd_server *s = servers; s; s = s->next)
        if (s->listener == l)
            return s;
    return NULL;
}

static void count_reject(struct nd_server *s, enum nd_reject_reason r, size_t nalerts)
{
    if (!s->o.metrics)
        return;
    s->o.metrics->requests_rejected[r]++;
    s->o.metrics->alerts_rejected[r] += nalerts;
}

/* Answers with NM's envelope, plus one header when hname is not NULL. */
static void reply(struct nd_server *s, struct evhttp_request *req, int code, const char *msg,
                  const char *hname, const char *hvalue)
{
    struct nd_buf b;
    nd_buf_init(&b, ND_ERRLEN * 8);
    nd_buf_printf(&b, "{\"Status\":%d,\"Message\":\"", code);
    nd_buf_add_json_escaped(&b, msg, strlen(msg));
    nd_buf_adds(&b, "\"}");

    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    if (hname)
        evhttp_add_header(h, hname, hvalue);
    struct evbuffer *body = evbuffer_new();
    evbuffer_add(body, nd_buf_cstr(&b), b.len);
    nd_buf_deinit(&b);
    if (s->o.metrics)
        s->o.metrics->http_requests++;
    evhttp_send_reply(req, code, NULL, body);
    evbuffer_free(body);
}

static void on_alerts(struct nd_server *s, struct evhttp_request *req)
{
    char err[ND_ERRLEN];
    struct evbuffer *in = evhttp_request_get_input_buffer(req);

    /* evhttp enforces the same limit before reading; this guards a server
     * whose evhttp limit and ours disagree. */
    const char *cl = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Length");
    if ((cl && strtoull(cl, NULL, 10) > s->o.max_body_size) ||
        evbuffer_get_length(in) > s->o.max_body_size) {
        count_reject(s, ND_REJECT_TOO_LARGE, 0);
        snprintf(err, sizeof err, "request body larger than %llu bytes",
                 (unsigned long long)s->o.max_body_size);
        reply(s, req, 413, err, "Connection", "close");
        return;
    }

    struct nd_alert **alerts = NULL;
    size_t n = 0;
    enum nd_reject_reason why = ND_REJECT_INVALID_JSON;
    int rc = nd_ingest_parse_evbuffer(&s->o.ingest, in, &alerts, &n, &why, err);
    if (rc != ND_OK) {
        count_reject(s, why, 0);
        reply(s, req, why == ND_REJECT_TOO_LARGE ? 413 : 400, err, NULL, NULL);
        return;
    }
    if (s->o.metrics)
        s->o.metrics->alerts_received += n;

    err[0] = '\0';
    rc = n ? s->o.submit(s->o.ud, alerts, n, err) : ND_OK;
    if (rc == ND_OK) {
        if (s->o.metrics)
            s->o.metrics->alerts_accepted += n;
        free(alerts); /* the references went to the submit callback */
        reply(s, req, 200, "Notification request accepted", NULL, NULL);
        return;
    }
    nd_ingest_alerts_free(alerts, n);
    if (rc == ND_EFULL) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", s->o.retry_after_s);
        count_reject(s, ND_REJECT_QUEUE_FULL, n);
        reply(s, req, 503, err[0] ? err : "queue full, retry later", "Retry-After", ra);
        return;
    }
    reply(s, req, 500, err[0] ? err : "internal error", NULL, NULL);
}

static void on_metrics(struct nd_server *s, struct evhttp_request *req)
{
    struct evbuffer *body = evbuffer_new();
    if (s->o.render)
        s->o.render(s->o.ud, body);
    else
        nd_metrics_render(s->o.metrics, NULL, NULL, 0, body);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    if (s->o.metrics)
        s->o.metrics->http_requests++;
    evhttp_send_reply(req, 200, NULL, body);
    evbuffer_free(body);
}

enum route { R_ALERTS, R_HEALTHY, R_READY, R_METRICS, R_NONE };

static const struct {
    const char *path;
    int methods; /* evhttp_cmd_type bits */
    const char *allow;
} routes[] = {
    [R_ALERTS] = {"/api/v2/alerts", EVHTTP_REQ_POST, "POST"},
    [R_HEALTHY] = {"/-/healthy", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD"},
    [R_READY] = {"/-/ready", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD"},
    [R_METRICS] = {"/metrics", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, "GET, HEAD"},
};

static void on_request(struct evhttp_request *req, void *arg)
{
    struct nd_server *s = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum route r = R_NONE;
    for (size_t i = 0; path && i < ND_ARRAY_LEN(routes); i++) {
        if (strcmp(path, routes[i].path) == 0) {
            r = (enum route)i;
            break;
        }
    }

    if (s->stopping) {
        count_reject(s, ND_REJECT_SHUTTING_DOWN, 0);
        reply(s, req, 503, "shutting down", "Connection", "close");
        return;
    }
    if (r == R_NONE) {
        reply(s, req, 404, "not found", NULL, NULL);
        return;
    }
    if (!((int)evhttp_request_get_command(req) & routes[r].methods)) {
        reply(s, req, 405, "method not allowed", "Allow", routes[r].allow);
        return;
    }
    switch (r) {
    case R_ALERTS:
        on_alerts(s, req);
        break;
    case R_HEALTHY:
        reply(s, req, 200, "healthy", NULL, NULL);
        break;
    case R_READY:
        if (s->ready)
            reply(s, req, 200, "ready", NULL, NULL);
        else
            reply(s, req, 503, "not ready", NULL, NULL);
        break;
    case R_METRICS:
        on_metrics(s, req);
        break;
    case R_NONE:
        break;
    }
}

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
    struct nd_server *s = arg;
    ND_UNUSED(fd);
    ND_UNUSED(what);
    if (s->listener && !s->stopping)
        evconnlistener_enable(s->listener);
}

/* Without this, a full fd table makes accept() fail on every loop turn: the
 * listening socket stays readable and the process spins. Pause instead. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
    ND_UNUSED(arg); /* evhttp's, see `servers` */
    struct nd_server *s = server_of(l);
    int e = EVUTIL_SOCKET_ERROR();
    nd_log(ND_LOG_WARN, "accept failed", "error", evutil_socket_error_to_string(e), NULL);
    if (s && (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)) {
        evconnlistener_disable(l);
        struct timeval tv = {0, ACCEPT_BACKOFF_MS * 1000};
        evtimer_add(s->backoff, &tv);
    }
}

static int bind_listener(struct nd_server *s, char *err)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)s->o.port);
    const char *host = s->o.host && *s->o.host ? s->o.host : NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0)
        return nd_seterr(err, ND_ERR, "listen address %s: %s", host ? host : "*",
                         gai_strerror(gai));

    int e = 0;
    for (struct addrinfo *ai = res; ai && !s->listener; ai = ai->ai_next) {
        s->listener = evconnlistener_new_bind(
            s->base, NULL, NULL, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
            s->o.backlog, ai->ai_addr, (int)ai->ai_addrlen);
        if (!s->listener)
            e = errno;
    }
    freeaddrinfo(res);
    if (!s->listener)
        return nd_seterr(err, ND_ERR, "listen on %s:%u: %s", host ? host : "*", (unsigned)s->o.port,
                         strerror(e));

    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET)
            s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            s->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    evconnlistener_set_error_cb(s->listener, on_accept_error);
    s->bound = evhttp_bind_listener(s->http, s->listener);
    if (!s->bound) {
        evconnlistener_free(s->listener);
        s->listener = NULL;
        return nd_seterr(err, ND_ERR, "evhttp_bind_listener failed");
    }
    return ND_OK;
}

struct nd_server *nd_server_new(struct event_base *base, const struct nd_server_opts *o, char *err)
{
    if (!o->submit) {
        nd_seterr(err, ND_EINVAL, "server: no submit callback");
        return NULL;
    }
    struct nd_server *s = nd_xcalloc(1, sizeof *s);
    s->base = base;
    s->o = *o;
    s->o.host = o->host ? nd_xstrdup(o->host) : NULL;
    s->o.ingest.cluster = o->ingest.cluster ? nd_xstrdup(o->ingest.cluster) : NULL;
    if (!s->o.max_body_size)
        s->o.max_body_size = DEFAULT_MAX_BODY;
    if (!s->o.max_headers_size)
        s->o.max_headers_size = DEFAULT_MAX_HEADERS;
    if (s->o.timeout_s <= 0)
        s->o.timeout_s = DEFAULT_TIMEOUT_S;
    if (s->o.retry_after_s <= 0)
        s->o.retry_after_s = 1;
    if (s->o.backlog <= 0)
        s->o.backlog = DEFAULT_BACKLOG;
    if (!s->o.ingest.max_alert_bytes)
        s->o.ingest.max_alert_bytes = (size_t)s->o.max_body_size;

    s->http = evhttp_new(base);
    s->backoff = evtimer_new(base, on_backoff, s);
    if (!s->http || !s->backoff) {
        nd_seterr(err, ND_ERR, "evhttp_new failed");
        nd_server_free(s);
        return NULL;
    }
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_body_size(s->http, (ev_ssize_t)s->o.max_body_size);
    evhttp_set_max_headers_size(s->http, (ev_ssize_t)s->o.max_headers_size);
    evhttp_set_timeout(s->http, s->o.timeout_s);
    evhttp_set_gencb(s->http, on_request, s);
    s->next = servers;
    servers = s;
    if (bind_listener(s, err) != ND_OK) {
        nd_server_free(s);
        return NULL;
    }
    return s;
}

void nd_server_free(struct nd_server *s)
{
    if (!s)
        return;
    for (struct nd_server **pp = &servers; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    if (s->backoff)
        event_free(s->backoff);
    if (s->http)
        evhttp_free(s->http); /* also frees the bound listener */
    free((char *)s->o.host);
    free((char *)s->o.ingest.cluster);
    free(s);
}

uint16_t nd_server_port(const struct nd_server *s)
{
    return s->port;
}

void nd_server_set_ready(struct nd_server *s, bool ready)
{
    s->ready = ready;
}

void nd_server_stop_accepting(struct nd_server *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    s->ready = false;
    evtimer_del(s->backoff);
    if (s->bound) {
        evhttp_del_accept_socket(s->http, s->bound); /* frees the listener, closes the fd */
        s->bound = NULL;
        s->listener = NULL;
    }
}
