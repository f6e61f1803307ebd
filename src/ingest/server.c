/* server.c - the inbound HTTP/1.1 server: libevent events on raw non-blocking
 * sockets, requests parsed by nodejs http-parser 2.9 (libhttp-parser-dev).
 *
 * Why not evhttp: on this ingest path evhttp cost more than the JSON parse
 * and the store together (see docs/http.md for the figures): a request object,
 * header lists and two evbuffers malloc'ed per request, epoll_ctl calls to
 * toggle read/write per request, and its 413/400 answers bypass us.
 *
 * Shape: one struct conn per socket. A persistent read event feeds every
 * recv() straight into the parser from one static buffer (one loop, one
 * thread: nothing else uses it between two calls). The parser callbacks only
 * copy what we need (path, Expect) and answer complete requests
 * synchronously into the connection's output evbuffer, so pipelined requests
 * are answered in order. The output is written once per read event; a write
 * event is armed only while the kernel buffer is full.
 *
 * The body of POST /api/v2/alerts is never kept: each piece goes from the
 * read buffer straight into the streaming JSON parser (ingest.h), which
 * builds the alerts as the bytes arrive. A 100-alert body spans several
 * reads; keeping it would cost a copy, a large malloc and a second pass over
 * bytes no longer in cache. The parse stays all-or-nothing: the alerts are
 * submitted, or the first error answered, when the body is complete.
 *
 * Parser callbacks never free the connection (only a body's parse state):
 * they set `closing` and pause the parser; the event callbacks decide,
 * after the parser returned, whether the connection dies (mark and reap).
 * A connection that must close writes its answer, shuts down its write
 * side, and then reads and drops what the client still sends for a short
 * while ("lingering close"): closing with unread input would make the
 * kernel send RST, and the client could lose our answer (a 413 while it is
 * still sending a large body, for instance).
 *
 * Time limits are enforced by one sweeper timer per server rather than one
 * timer per connection: re-arming a timer on every read would cost more than
 * the check.
 */
#include "notifyd/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <http_parser.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/log.h"
#include "notifyd/util.h"

#define DEFAULT_MAX_BODY    (UINT64_C(1) << 20)
#define DEFAULT_MAX_HEADERS (16u << 10)
#define DEFAULT_TIMEOUT_S   30
#define DEFAULT_BACKLOG     1024
#define ACCEPT_BACKOFF_MS   100
#define DEFAULT_MAX_CONNS   1024
/* Descriptors left to everything but inbound connections (deliveries,
 * files, the listener, the spare): a quarter of RLIMIT_NOFILE, at least
 * this many. */
#define FD_HEADROOM_MIN 32
#define RATELOG_MS      10000
/* Queue-full refusals are summed over this window into one log line. */
#define REFUSED_LOG_MS 1000
#define SWEEP_MS       500
/* How long a closing connection keeps reading (and dropping) input. */
#define LINGER_MS 2000
/* Output above this stops reading: a client that pipelines without reading
 * our answers must not make us buffer without bound. */
#define OUT_HIGH_WATER (256u << 10)
/* Copies of split URLs above this are not kept between requests:
 * an idle keep-alive connection should cost little. */
#define SPAN_KEEP  (4u << 10)
#define READ_CHUNK (64u << 10)

/* R_CUSTOM: one of the routes of nd_server_opts (conn.custom says which). */
enum route { R_ALERTS, R_HEALTHY, R_READY, R_METRICS, R_CUSTOM, R_NONE };

static const struct {
    const char *path;
    unsigned methods; /* bits (1 << enum http_method) */
    const char *allow;
} routes[] = {
    [R_ALERTS] = {"/api/v2/alerts", 1u << HTTP_POST, "POST"},
    [R_HEALTHY] = {"/-/healthy", 1u << HTTP_GET | 1u << HTTP_HEAD, "GET, HEAD"},
    [R_READY] = {"/-/ready", 1u << HTTP_GET | 1u << HTTP_HEAD, "GET, HEAD"},
    [R_METRICS] = {"/metrics", 1u << HTTP_GET | 1u << HTTP_HEAD, "GET, HEAD"},
};

/* conn.custom when the path is a registered one but not with this method. */
#define CUSTOM_NO_METHOD SIZE_MAX
/* Longest path of a registered route's request kept with it. */
#define REQ_TARGET_MAX (8u << 10)

/* Bytes the parser hands over in pieces (the URL). While they come in one
 * piece they are used where they lie, in the read buffer: no copy, no malloc
 * on the usual path. A second piece, or the end of a read with the request
 * unfinished (the read buffer is reused), moves them into `copy`. */
struct span {
    const char *p; /* in the read buffer, valid until the parser returns; or NULL */
    size_t n;
    struct nd_buf copy;
};

static void span_reset(struct span *sp)
{
    sp->p = NULL;
    sp->n = 0;
    if (sp->copy.cap > SPAN_KEEP) {
        size_t limit = sp->copy.limit;
        nd_buf_deinit(&sp->copy);
        nd_buf_init(&sp->copy, limit);
    } else {
        nd_buf_reset(&sp->copy);
    }
}

static void span_keep(struct span *sp)
{
    if (sp->p) {
        nd_buf_add(&sp->copy, sp->p, sp->n);
        sp->p = NULL;
    }
}

static void span_add(struct span *sp, const char *at, size_t len)
{
    if (!sp->p && sp->copy.len == 0) {
        sp->p = at;
        sp->n = len;
        return;
    }
    span_keep(sp);
    nd_buf_add(&sp->copy, at, len); /* cannot fail: the callers check the limit first */
}

static size_t span_len(const struct span *sp)
{
    return sp->p ? sp->n : sp->copy.len;
}

static const char *span_data(const struct span *sp)
{
    return sp->p ? sp->p : nd_buf_cstr(&sp->copy);
}

struct conn {
    struct nd_server *s;
    evutil_socket_t fd;
    struct event *rev, *wev;
    struct evbuffer *out;
    http_parser p;
    struct span url;
    enum route route;              /* of the current request, from its headers */
    size_t custom;                 /* R_CUSTOM: index in s->routes, or CUSTOM_NO_METHOD */
    struct nd_buf body;            /* R_CUSTOM: the body so far (bounded by max_body_size) */
    struct nd_server_req *pending; /* a request whose handler has not answered yet */
    struct nd_buf held;            /* input read past a pending request, parsed after it */
    bool dispatching;  /* inside a handler: an answer now must not re-enter the parser */
    uint64_t body_len; /* body bytes of the current request so far */
    struct nd_ingest_stream *parse; /* its alerts being parsed, or NULL */
    size_t hbytes;                  /* header bytes of the current request */
    char hname[8];                  /* the current header's name, if short enough to matter */
    size_t hname_len;               /* its full length */
    bool hname_done;                /* the next on_header_field starts a new header */
    char expect[12];                /* the value of an Expect header, if short enough to matter */
    size_t expect_len;              /* its full length */
    bool in_request;                /* between message begin and complete */
    bool head;                      /* the current request is a HEAD: answers carry no body */
    bool closing;                   /* answer what is queued, then close */
    bool shut;                      /* write side shut down, lingering */
    bool dead;                      /* free after the current callback */
    bool wev_on, rev_on;
    int64_t last_ms;  /* last progress (read or written bytes) */
    int64_t start_ms; /* the current request's first byte, or the linger start */
    struct conn *prev, *next;
};

/* A warning that a flood could repeat on every event: logged at most once
 * per RATELOG_MS, with the number of occurrences left unlogged since. */
struct ratelog {
    int64_t next_ms;
    uint64_t suppressed;
};

/* Queue-full 503s are reported as a count, not one line each: under
 * backpressure the log must not grow with the load. The first refusal opens
 * a window of REFUSED_LOG_MS; its end (or shutdown) logs one line with the
 * number of requests and alerts refused in it. */
struct refused_log {
    struct event *ev;     /* the end of the open window */
    int64_t since_ms;     /* its start */
    uint64_t requests;    /* refused in it */
    uint64_t alerts;      /* in those requests */
    char last[ND_ERRLEN]; /* the last refusal's message (the queue's state) */
};

struct nd_server {
    struct event_base *base;
    struct evconnlistener *listener; /* NULL once stop_accepting closed it */
    struct event *backoff;           /* re-enables accept after EMFILE */
    struct event *sweep;             /* time limits of every connection */
    struct nd_server_opts o;         /* host and ingest.cluster owned */
    uint16_t port;
    bool ready, stopping;
    struct conn *conns;
    size_t nconns;    /* in `conns` */
    size_t max_conns; /* o.max_connections, lowered to fit RLIMIT_NOFILE */
    int spare_fd;     /* /dev/null, given up for a moment to accept and close at EMFILE; or -1 */
    struct ratelog log_accept, log_evict;
    struct refused_log refused;
    struct nd_server_route *routes; /* o.routes copied */
    struct conn *submitting;        /* the connection inside o.submit, for nd_server_defer */
};

struct nd_server_req {
    struct conn *c; /* NULL once the connection is gone */
    bool head;      /* answer without a body */
    char method[16];
    char *target; /* "PATH\0QUERY\0" */
    const char *query;
    struct nd_buf body;
};

static char rbuf[READ_CHUNK];
/* The monotonic clock in ms, read once per event callback: the clock is
 * cheap, but not free at this request rate. */
static int64_t now_ms;

static void conn_free(struct conn *c);
static void conn_flush(struct conn *c);
static void conn_feed(struct conn *c, const char *data, size_t n);
static void on_custom(struct conn *c);

static void count_reject(struct nd_server *s, enum nd_reject_reason r, size_t nalerts)
{
    if (!s->o.metrics)
        return;
    s->o.metrics->requests_rejected[r]++;
    s->o.metrics->alerts_rejected[r] += nalerts;
}

static const char *reason_phrase(int code)
{
    switch (code) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Payload Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

static char *put(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

static char *put_u(char *p, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* The status line and headers of one answer. snprintf would be the obvious
 * tool; it shows up in profiles at this request rate. */
static void put_head(struct conn *c, int code, const char *ctype, size_t clen, const char *hname,
                     const char *hvalue)
{
    char h[512];
    char *p = put(h, "HTTP/1.1 ");
    p = put_u(p, (uint64_t)code);
    *p++ = ' ';
    p = put(p, reason_phrase(code));
    p = put(p, "\r\nContent-Type: ");
    p = put(p, ctype);
    p = put(p, "\r\nContent-Length: ");
    p = put_u(p, clen);
    p = put(p, "\r\n");
    if (hname && strlen(hname) + strlen(hvalue) < 128) {
        p = put(p, hname);
        p = put(p, ": ");
        p = put(p, hvalue);
        p = put(p, "\r\n");
    }
    if (c->closing)
        p = put(p, "Connection: close\r\n");
    else if (c->p.http_major == 1 && c->p.http_minor == 0)
        p = put(p, "Connection: keep-alive\r\n");
    p = put(p, "\r\n");
    evbuffer_add(c->out, h, (size_t)(p - h));
}

/* Our messages hold no character JSON must escape; parse errors may. */
static bool plain(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20)
            return false;
    return true;
}

/* Answers with NM's envelope, plus one header when hname is not NULL. */
static void reply(struct conn *c, int code, const char *msg, const char *hname, const char *hvalue)
{
    char small[ND_ERRLEN + 64];
    struct nd_buf b;
    nd_buf_init(&b, ND_ERRLEN * 8);
    const char *body = small;
    size_t mlen = strlen(msg), blen;
    if (mlen < ND_ERRLEN && plain(msg, mlen)) {
        char *p = put(small, "{\"Status\":");
        p = put_u(p, (uint64_t)code);
        p = put(p, ",\"Message\":\"");
        memcpy(p, msg, mlen);
        p = put(p + mlen, "\"}");
        blen = (size_t)(p - small);
    } else {
        nd_buf_printf(&b, "{\"Status\":%d,\"Message\":\"", code);
        nd_buf_add_json_escaped(&b, msg, mlen);
        nd_buf_adds(&b, "\"}");
        body = nd_buf_cstr(&b);
        blen = b.len;
    }
    put_head(c, code, "application/json", blen, hname, hvalue);
    if (!c->head)
        evbuffer_add(c->out, body, blen);
    nd_buf_deinit(&b);
    if (c->s->o.metrics)
        c->s->o.metrics->http_requests++;
}

static void drop_parse(struct conn *c)
{
    nd_ingest_stream_free(c->parse);
    c->parse = NULL;
}

/* Answers, then closes: the rest of the input is not parsed. */
static void reply_close(struct conn *c, int code, const char *msg)
{
    c->closing = true;
    c->in_request = false;
    drop_parse(c); /* a lingering connection holds no alerts */
    reply(c, code, msg, NULL, NULL);
    /* the pause stops the parser; one in error (garbage) has stopped already
     * and asserts if paused */
    if (HTTP_PARSER_ERRNO(&c->p) == HPE_OK)
        http_parser_pause(&c->p, 1);
}

static void refused_flush(struct nd_server *s)
{
    struct refused_log *r = &s->refused;
    if (r->ev)
        evtimer_del(r->ev);
    if (!r->requests)
        return;
    int64_t span = nd_now_mono_ms() - r->since_ms;
    char msg[128], reqs[24], alerts[24];
    snprintf(msg, sizeof msg,
             "refused %llu request%s with 503 (queue full) in the last %lld.%lld s",
             (unsigned long long)r->requests, r->requests == 1 ? "" : "s", (long long)(span / 1000),
             (long long)(span % 1000 / 100));
    snprintf(reqs, sizeof reqs, "%llu", (unsigned long long)r->requests);
    snprintf(alerts, sizeof alerts, "%llu", (unsigned long long)r->alerts);
    nd_log(ND_LOG_WARN, msg, "requests", reqs, "alerts", alerts, "last", r->last, NULL);
    r->requests = 0;
    r->alerts = 0;
}

static void on_refused_window(evutil_socket_t fd, short what, void *arg)
{
    ND_UNUSED(fd);
    ND_UNUSED(what);
    refused_flush(arg);
}

static void refused_note(struct nd_server *s, size_t nalerts, const char *msg)
{
    struct refused_log *r = &s->refused;
    if (!r->requests) {
        r->since_ms = nd_now_mono_ms();
        struct timeval tv = {REFUSED_LOG_MS / 1000, (REFUSED_LOG_MS % 1000) * 1000};
        evtimer_add(r->ev, &tv);
    }
    r->requests++;
    r->alerts += nalerts;
    snprintf(r->last, sizeof r->last, "%s", msg);
}

static void on_alerts(struct conn *c)
{
    struct nd_server *s = c->s;
    char err[ND_ERRLEN];
    struct nd_alert **alerts = NULL;
    size_t n = 0;
    enum nd_reject_reason why = ND_REJECT_INVALID_JSON;
    if (!c->parse) /* not reached: on_headers_complete started it */
        c->parse = nd_ingest_stream_new(&s->o.ingest);
    int rc = nd_ingest_stream_end(c->parse, &alerts, &n, &why, err);
    c->parse = NULL;
    /* The body was still arriving when shutdown began: answered as a request
     * that arrives after it (docs/api.md), whatever the body holds. */
    if (s->stopping) {
        nd_ingest_alerts_free(alerts, n);
        count_reject(s, ND_REJECT_SHUTTING_DOWN, n);
        reply_close(c, 503, "shutting down");
        return;
    }
    if (rc != ND_OK) {
        count_reject(s, why, 0);
        reply(c, why == ND_REJECT_TOO_LARGE ? 413 : 400, err, NULL, NULL);
        return;
    }
    if (s->o.metrics)
        s->o.metrics->alerts_received += n;

    err[0] = '\0';
    s->submitting = c;
    rc = n ? s->o.submit(s->o.ud, alerts, n, err) : ND_OK;
    s->submitting = NULL;
    if (rc == ND_OK) {
        if (s->o.metrics)
            s->o.metrics->alerts_accepted += n;
        free(alerts);    /* the references went to the submit callback */
        if (!c->pending) /* else nd_server_defer: the submitter answers */
            reply(c, 200, "Notification request accepted", NULL, NULL);
        return;
    }
    nd_ingest_alerts_free(alerts, n);
    if (rc == ND_EFULL) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", s->o.retry_after_s);
        count_reject(s, ND_REJECT_QUEUE_FULL, n);
        refused_note(s, n, err[0] ? err : "queue full");
        reply(c, 503, err[0] ? err : "queue full, retry later", "Retry-After", ra);
        return;
    }
    reply(c, 500, err[0] ? err : "internal error", NULL, NULL);
}

static void on_metrics(struct conn *c)
{
    struct nd_server *s = c->s;
    struct evbuffer *body = evbuffer_new();
    if (s->o.render)
        s->o.render(s->o.ud, body);
    else
        nd_metrics_render(s->o.metrics, NULL, NULL, 0, body);
    if (s->o.metrics)
        s->o.metrics->http_requests++;
    put_head(c, 200, "text/plain; version=0.0.4; charset=utf-8", evbuffer_get_length(body), NULL,
             NULL);
    if (!c->head)
        evbuffer_add_buffer(c->out, body);
    evbuffer_free(body);
}

/* The path of the request target: origin form "/p?q", or absolute form
 * "http://h/p?q". Returns its length, 0 when there is none ("*"). */
static size_t target_path(const char *url, size_t len, const char **path)
{
    if (len && url[0] == '/') {
        size_t n = 0;
        while (n < len && url[n] != '?' && url[n] != '#')
            n++;
        *path = url;
        return n;
    }
    struct http_parser_url u;
    http_parser_url_init(&u);
    if (http_parser_parse_url(url, len, 0, &u) != 0 || !(u.field_set & (1 << UF_PATH)))
        return 0;
    *path = url + u.field_data[UF_PATH].off;
    return u.field_data[UF_PATH].len;
}

static bool custom_path_matches(const struct nd_server_route *r, const char *path, size_t n)
{
    size_t rn = strlen(r->path);
    if (rn && r->path[rn - 1] == '/')
        return n >= rn && memcmp(path, r->path, rn) == 0;
    return rn == n && memcmp(path, r->path, n) == 0;
}

static bool custom_method_matches(const struct nd_server_route *r, enum http_method m)
{
    if (m == HTTP_HEAD && strcmp(r->method, "GET") == 0)
        return true;
    return strcmp(r->method, http_method_str(m)) == 0;
}

static enum route route_of(struct conn *c)
{
    const char *path = NULL;
    size_t n = target_path(span_data(&c->url), span_len(&c->url), &path);
    if (!n)
        return R_NONE;
    for (size_t i = 0; i < ND_ARRAY_LEN(routes); i++)
        if (routes[i].path && strlen(routes[i].path) == n && memcmp(path, routes[i].path, n) == 0)
            return (enum route)i;
    bool known = false;
    for (size_t i = 0; i < c->s->o.nroutes; i++) {
        const struct nd_server_route *r = &c->s->routes[i];
        if (!custom_path_matches(r, path, n))
            continue;
        known = true;
        if (custom_method_matches(r, (enum http_method)c->p.method)) {
            c->custom = i;
            return R_CUSTOM;
        }
    }
    if (known) {
        c->custom = CUSTOM_NO_METHOD;
        return R_CUSTOM;
    }
    return R_NONE;
}

static void reply_too_large(struct conn *c)
{
    char err[ND_ERRLEN];
    snprintf(err, sizeof err, "request body larger than %llu bytes",
             (unsigned long long)c->s->o.max_body_size);
    count_reject(c->s, ND_REJECT_TOO_LARGE, 0);
    reply_close(c, 413, err);
}

static int header_bytes(struct conn *c, size_t n)
{
    c->hbytes += n;
    if (c->hbytes <= c->s->o.max_headers_size)
        return 0;
    char err[ND_ERRLEN];
    snprintf(err, sizeof err, "request headers larger than %zu bytes", c->s->o.max_headers_size);
    reply_close(c, 431, err);
    return 0; /* the pause stops the parser */
}

static int on_message_begin(http_parser *p)
{
    struct conn *c = p->data;
    c->in_request = true;
    c->start_ms = now_ms;
    c->hbytes = 0;
    c->hname_len = 0;
    c->hname_done = false;
    c->expect_len = 0;
    c->head = false;
    c->route = R_NONE;
    c->body_len = 0;
    nd_buf_reset(&c->body);
    drop_parse(c);
    span_reset(&c->url);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (header_bytes(c, len) != 0 || c->closing)
        return 0;
    span_add(&c->url, at, len);
    return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (c->hname_done) {
        c->hname_len = 0;
        c->hname_done = false;
    }
    for (size_t i = 0; i < len; i++, c->hname_len++)
        if (c->hname_len < sizeof c->hname)
            c->hname[c->hname_len] = at[i];
    return header_bytes(c, len + 4); /* ": " and CRLF */
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    c->hname_done = true;
    /* Only "Expect" matters: Content-Length, Transfer-Encoding and
     * Connection are the parser's. The value may come in pieces. */
    if (c->hname_len == 6 && strncasecmp(c->hname, "expect", 6) == 0) {
        for (size_t i = 0; i < len; i++, c->expect_len++)
            if (c->expect_len < sizeof c->expect)
                c->expect[c->expect_len] = at[i];
    }
    return header_bytes(c, len);
}

static int on_headers_complete(http_parser *p)
{
    struct conn *c = p->data;
    if (c->closing)
        return 0;
    c->head = p->method == HTTP_HEAD;
    if (p->http_major != 1) {
        reply_close(c, 400, "bad request: unsupported HTTP version");
        return 0;
    }
    if (c->s->stopping) {
        count_reject(c->s, ND_REJECT_SHUTTING_DOWN, 0);
        reply_close(c, 503, "shutting down");
        return 0;
    }
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > c->s->o.max_body_size) {
        reply_too_large(c);
        return 0;
    }
    if (c->expect_len == 12 && strncasecmp(c->expect, "100-continue", 12) == 0 &&
        p->http_major == 1 && p->http_minor >= 1 &&
        ((p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length > 0)))
        evbuffer_add(c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    /* The URL is complete: a POST of alerts is parsed while its body arrives. */
    c->route = route_of(c);
    if (c->route == R_ALERTS && p->method == HTTP_POST)
        c->parse = nd_ingest_stream_new(&c->s->o.ingest);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    struct conn *c = p->data;
    if (c->closing)
        return 0;
    if (c->body_len + len > c->s->o.max_body_size) {
        reply_too_large(c);
        return 0;
    }
    c->body_len += len;
    /* The built-in routes other than alerts ignore their body. A parse
     * error is kept for the answer, which waits for the whole body. */
    if (c->parse)
        nd_ingest_stream_feed(c->parse, at, len);
    else if (c->route == R_CUSTOM)
        nd_buf_add(&c->body, at, len); /* within max_body_size, checked above */
    return 0;
}

static void dispatch(struct conn *c)
{
    struct nd_server *s = c->s;
    enum route r = c->route;
    if (r == R_NONE) {
        reply(c, 404, "not found", NULL, NULL);
        return;
    }
    if (r == R_CUSTOM) {
        on_custom(c);
        return;
    }
    if (c->p.method >= 32 || !((1u << c->p.method) & routes[r].methods)) {
        reply(c, 405, "method not allowed", "Allow", routes[r].allow);
        return;
    }
    switch (r) {
    case R_ALERTS:
        on_alerts(c);
        break;
    case R_HEALTHY:
        reply(c, 200, "healthy", NULL, NULL);
        break;
    case R_READY:
        if (s->ready)
            reply(c, 200, "ready", NULL, NULL);
        else
            reply(c, 503, "not ready", NULL, NULL);
        break;
    case R_METRICS:
        on_metrics(c);
        break;
    case R_CUSTOM:
    case R_NONE:
        break;
    }
}

/* ---- registered routes and deferred answers ---------------------------- */

static struct nd_server_req *req_new(struct conn *c)
{
    struct nd_server_req *r = nd_xcalloc(1, sizeof *r);
    const char *url = span_data(&c->url), *path = NULL;
    size_t ulen = span_len(&c->url);
    size_t plen = target_path(url, ulen, &path);
    const char *q = NULL;
    size_t qlen = 0;
    if (plen > REQ_TARGET_MAX)
        plen = REQ_TARGET_MAX;
    if (path) {
        const char *end = url + ulen, *p = path + plen;
        if (p < end && *p == '?') {
            q = p + 1;
            while (q + qlen < end && q[qlen] != '#')
                qlen++;
            if (qlen > REQ_TARGET_MAX)
                qlen = REQ_TARGET_MAX;
        }
    }
    r->c = c;
    r->head = c->head;
    snprintf(r->method, sizeof r->method, "%s", http_method_str((enum http_method)c->p.method));
    r->target = nd_xmalloc(plen + qlen + 2);
    if (plen)
        memcpy(r->target, path, plen);
    r->target[plen] = '\0';
    if (qlen)
        memcpy(r->target + plen + 1, q, qlen);
    r->target[plen + 1 + qlen] = '\0';
    r->query = r->target + plen + 1;
    /* The body moves to the request: an idle connection keeps no copy. */
    r->body = c->body;
    nd_buf_init(&c->body, (size_t)c->s->o.max_body_size);
    c->pending = r;
    return r;
}

static void req_free(struct nd_server_req *r)
{
    free(r->target);
    nd_buf_deinit(&r->body);
    free(r);
}

static void on_custom(struct conn *c)
{
    struct nd_server *s = c->s;
    if (c->custom == CUSTOM_NO_METHOD) {
        const char *path = NULL;
        size_t n = target_path(span_data(&c->url), span_len(&c->url), &path);
        char allow[128];
        size_t len = 0;
        allow[0] = '\0';
        for (size_t i = 0; i < s->o.nroutes; i++) {
            const struct nd_server_route *r = &s->routes[i];
            if (!custom_path_matches(r, path, n) || strstr(allow, r->method))
                continue;
            int k = snprintf(allow + len, sizeof allow - len, "%s%s%s", len ? ", " : "", r->method,
                             strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
            if (k < 0 || (size_t)k >= sizeof allow - len)
                break;
            len += (size_t)k;
        }
        reply(c, 405, "method not allowed", "Allow", allow);
        return;
    }
    const struct nd_server_route *r = &s->routes[c->custom];
    r->handler(r->ud, req_new(c));
}

/* After a deferred answer: parse what arrived behind the request. */
static void conn_resume(struct conn *c)
{
    now_ms = nd_now_mono_ms();
    if (HTTP_PARSER_ERRNO(&c->p) == HPE_PAUSED)
        http_parser_pause(&c->p, 0);
    if (!c->closing && c->held.len) {
        struct nd_buf in = c->held;
        nd_buf_init(&c->held, READ_CHUNK);
        conn_feed(c, in.data, in.len);
        nd_buf_deinit(&in);
    }
    conn_flush(c);
    if (c->dead)
        conn_free(c);
}

static void req_answer(struct nd_server_req *r)
{
    struct conn *c = r->c;
    c->pending = NULL;
    c->last_ms = nd_now_mono_ms();
    if (c->s->o.metrics)
        c->s->o.metrics->http_requests++;
    /* Inside the handler the parser is still running: it goes on by itself. */
    if (!c->dispatching)
        conn_resume(c);
}

void nd_server_req_reply(struct nd_server_req *r, int code, const char *ctype, const char *body,
                         size_t len)
{
    struct conn *c = r->c;
    if (c) {
        put_head(c, code, ctype ? ctype : "application/json", len, NULL, NULL);
        if (!r->head && len)
            evbuffer_add(c->out, body, len);
        req_answer(r);
    }
    req_free(r);
}

void nd_server_req_reply_msg(struct nd_server_req *r, int code, const char *msg)
{
    struct conn *c = r->c;
    if (c) {
        bool head = c->head;
        c->head = r->head;
        reply(c, code, msg, NULL, NULL);
        c->head = head;
        if (c->s->o.metrics) /* reply() counted it; req_answer counts again */
            c->s->o.metrics->http_requests--;
        req_answer(r);
    }
    req_free(r);
}

struct nd_server_req *nd_server_defer(struct nd_server *s)
{
    struct conn *c = s->submitting;
    if (!c || c->pending)
        abort(); /* only once, from inside the submit callback: a wiring bug */
    return req_new(c);
}

const char *nd_server_req_method(const struct nd_server_req *r)
{
    return r->method;
}

const char *nd_server_req_path(const struct nd_server_req *r)
{
    return r->target;
}

const char *nd_server_req_query(const struct nd_server_req *r)
{
    return r->query;
}

const char *nd_server_req_body(const struct nd_server_req *r, size_t *len)
{
    if (len)
        *len = r->body.len;
    return nd_buf_cstr(&r->body);
}

bool nd_server_req_gone(const struct nd_server_req *r)
{
    return r->c == NULL;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes [p, end) (percent escapes, '+' = blank) into out. */
static int param_decode(const char *p, const char *end, char *out, size_t outsz)
{
    size_t k = 0;
    int rc = ND_OK;
    while (p < end) {
        char ch = *p++;
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%' && end - p >= 2 && hexval(p[0]) >= 0 && hexval(p[1]) >= 0) {
            ch = (char)(hexval(p[0]) * 16 + hexval(p[1]));
            p += 2;
        }
        if (k + 1 >= outsz) {
            rc = ND_ETOOBIG;
            break;
        }
        out[k++] = ch;
    }
    if (outsz)
        out[k] = '\0';
    return rc;
}

int nd_server_req_param(const struct nd_server_req *r, const char *name, char *out, size_t outsz)
{
    size_t nlen = strlen(name);
    const char *p = r->query;
    while (*p) {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        /* Names are compared decoded only when they hold no escape: ours never do. */
        if ((size_t)(kend - p) == nlen && memcmp(p, name, nlen) == 0)
            return param_decode(eq ? eq + 1 : end, end, out, outsz);
        p = amp ? amp + 1 : end;
    }
    if (outsz)
        out[0] = '\0';
    return ND_EINVAL;
}

static int on_message_complete(http_parser *p)
{
    struct conn *c = p->data;
    if (c->closing)
        return 0;
    c->in_request = false;
    if (!http_should_keep_alive(p) || p->upgrade)
        c->closing = true;
    c->dispatching = true;
    dispatch(c);
    c->dispatching = false;
    drop_parse(c);
    span_reset(&c->url);
    /* A deferred answer holds the parser at this request's end: pipelined
     * requests are parsed only once it is written, so answers keep their order. */
    if (c->closing || c->pending)
        http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void set_read(struct conn *c, bool on)
{
    if (on == c->rev_on)
        return;
    c->rev_on = on;
    if (on)
        event_add(c->rev, NULL);
    else
        event_del(c->rev);
}

static void set_write(struct conn *c, bool on)
{
    if (on == c->wev_on)
        return;
    c->wev_on = on;
    if (on)
        event_add(c->wev, NULL);
    else
        event_del(c->wev);
}

/* Writes what is queued; arms the write event for the rest. */
static void conn_flush(struct conn *c)
{
    size_t left = evbuffer_get_length(c->out);
    while (left) {
        int n = evbuffer_write(c->out, c->fd);
        if (n < 0) {
            int e = EVUTIL_SOCKET_ERROR();
            if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
                break;
            c->dead = true; /* peer gone: nothing more to say */
            return;
        }
        c->last_ms = now_ms;
        left = evbuffer_get_length(c->out);
    }
    set_write(c, left > 0);
    if (left == 0 && c->closing && !c->shut && !c->pending) {
        shutdown(c->fd, SHUT_WR);
        c->shut = true;
        c->start_ms = now_ms;
        set_read(c, true); /* drain the client's leftovers until EOF */
        return;
    }
    if (!c->shut)
        set_read(c, !c->closing && !c->pending && left < OUT_HIGH_WATER);
}

static void bad_request(struct conn *c)
{
    enum http_errno e = HTTP_PARSER_ERRNO(&c->p);
    if (e == HPE_HEADER_OVERFLOW) {
        char err[ND_ERRLEN];
        snprintf(err, sizeof err, "request headers larger than %zu bytes",
                 c->s->o.max_headers_size);
        reply_close(c, 431, err);
        return;
    }
    char err[ND_ERRLEN];
    snprintf(err, sizeof err, "bad request: %s", http_errno_description(e));
    reply_close(c, 400, err);
}

/* Parses input. What follows a request whose answer is deferred is kept
 * for when it is answered. */
static void conn_feed(struct conn *c, const char *data, size_t n)
{
    size_t used = http_parser_execute(&c->p, &settings, data, n);
    if (c->in_request) /* data is about to be reused (the body parser copies what it keeps) */
        span_keep(&c->url);
    if (c->pending && !c->closing) {
        /* Bounded: reading is off while a request is pending, so this is at
         * most the rest of one read. */
        nd_buf_add(&c->held, data + used, n - used);
        return;
    }
    if (!c->closing && (HTTP_PARSER_ERRNO(&c->p) != HPE_OK || used != n))
        bad_request(c);
    if (c->p.upgrade)
        c->closing = true;
}

static void on_conn_read(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    ND_UNUSED(what);
    now_ms = nd_now_mono_ms();
    ssize_t n = recv(fd, rbuf, sizeof rbuf, 0);
    if (n < 0) {
        int e = errno;
        if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR)
            return;
        conn_free(c);
        return;
    }
    if (n == 0) { /* EOF: answer what is queued, then close */
        if (c->shut || evbuffer_get_length(c->out) == 0) {
            conn_free(c);
            return;
        }
        c->closing = true;
        set_read(c, false);
        conn_flush(c);
        if (c->dead)
            conn_free(c);
        return;
    }
    c->last_ms = now_ms;
    if (c->closing || c->shut)
        return; /* lingering: drop it */
    conn_feed(c, rbuf, (size_t)n);
    conn_flush(c);
    if (c->dead)
        conn_free(c);
}

static void on_conn_write(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    ND_UNUSED(fd);
    ND_UNUSED(what);
    now_ms = nd_now_mono_ms();
    conn_flush(c);
    if (c->dead)
        conn_free(c);
}

static void conn_free(struct conn *c)
{
    c->s->nconns--;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    event_free(c->rev);
    event_free(c->wev);
    evbuffer_free(c->out);
    nd_buf_deinit(&c->url.copy);
    nd_buf_deinit(&c->body);
    nd_buf_deinit(&c->held);
    if (c->pending)
        c->pending->c = NULL; /* its handler still holds it; the answer is dropped */
    nd_ingest_stream_free(c->parse);
    evutil_closesocket(c->fd);
    free(c);
}

/* The sweeper runs only while there are connections: an idle daemon sleeps. */
static void arm_sweep(struct nd_server *s)
{
    if (s->conns && !evtimer_pending(s->sweep, NULL)) {
        struct timeval tv = {0, SWEEP_MS * 1000};
        evtimer_add(s->sweep, &tv);
    }
}

/* Logs `msg` unless it was logged less than RATELOG_MS ago: a flood of
 * connections must not become a flood of log lines. */
static void log_limited(struct ratelog *rl, const char *msg, const char *k, const char *v)
{
    if (now_ms < rl->next_ms) {
        rl->suppressed++;
        return;
    }
    char n[24];
    snprintf(n, sizeof n, "%llu", (unsigned long long)rl->suppressed);
    nd_log(ND_LOG_WARN, msg, k, v, "suppressed", n, NULL);
    rl->suppressed = 0;
    rl->next_ms = now_ms + RATELOG_MS;
}

/* Frees the connection most likely to be abusive or useless, to make room
 * for a new one: one lingering after its answer if any, else the one whose
 * current state is oldest: the request in progress for the longest time (a
 * slow or stalled client), or the connection idle for the longest time. A
 * request that is quick, such as a health check, is never that old unless
 * max_connections connections arrived after it. */
static void evict_oldest(struct nd_server *s)
{
    struct conn *victim = NULL;
    int64_t oldest = INT64_MAX;
    for (struct conn *c = s->conns; c; c = c->next) {
        int64_t since = c->shut ? INT64_MIN : c->in_request ? c->start_ms : c->last_ms;
        if (since <= oldest) { /* <=: the list is newest first, so ties go to the older */
            oldest = since;
            victim = c;
        }
    }
    if (!victim)
        return;
    if (s->o.metrics)
        s->o.metrics->connections_evicted++;
    char max[24];
    snprintf(max, sizeof max, "%zu", s->max_conns);
    log_limited(&s->log_evict, "connection limit reached, closing the oldest connection",
                "max_connections", max);
    conn_free(victim);
}

/* Serves a connected, non-blocking socket. */
static void conn_start(struct nd_server *s, evutil_socket_t fd)
{
    while (s->nconns >= s->max_conns && s->conns)
        evict_oldest(s);
    int one = 1;
    /* Answers are written whole; Nagle would only hold a final answer back
     * behind an unacknowledged "100 Continue". */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    struct conn *c = nd_xcalloc(1, sizeof *c);
    c->s = s;
    c->fd = fd;
    c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_conn_read, c);
    c->wev = event_new(s->base, fd, EV_WRITE | EV_PERSIST, on_conn_write, c);
    c->out = evbuffer_new();
    if (!c->rev || !c->wev || !c->out)
        abort(); /* libevent fails these only when malloc does: OOM aborts */
    nd_buf_init(&c->url.copy, s->o.max_headers_size);
    nd_buf_init(&c->body, (size_t)s->o.max_body_size);
    nd_buf_init(&c->held, READ_CHUNK);
    http_parser_init(&c->p, HTTP_REQUEST);
    c->p.data = c;
    c->last_ms = now_ms;
    s->nconns++;
    c->next = s->conns;
    if (c->next)
        c->next->prev = c;
    s->conns = c;
    set_read(c, true);
    arm_sweep(s);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    ND_UNUSED(l);
    ND_UNUSED(sa);
    ND_UNUSED(salen);
    now_ms = nd_now_mono_ms();
    conn_start(arg, fd);
}

int nd_server_adopt(struct nd_server *s, int fd, char *err)
{
    if (s->stopping) {
        evutil_closesocket(fd);
        return nd_seterr(err, ND_EINVAL, "server: not accepting connections");
    }
    if (evutil_make_socket_nonblocking(fd) != 0) {
        int e = EVUTIL_SOCKET_ERROR();
        evutil_closesocket(fd);
        return nd_seterr(err, ND_ERR, "server: O_NONBLOCK: %s", evutil_socket_error_to_string(e));
    }
    now_ms = nd_now_mono_ms();
    conn_start(s, fd);
    return ND_OK;
}

/* The time limits: a request not complete timeout_s after its first byte
 * gets 408, whether its client trickles bytes or stalled (no progress since
 * implies a request that old); a connection with no progress for timeout_s
 * and no request in progress (idle keep-alive, stalled write of our answer)
 * closes without an answer; a lingering close ends after LINGER_MS. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct nd_server *s = arg;
    ND_UNUSED(fd);
    ND_UNUSED(what);
    now_ms = nd_now_mono_ms();
    int64_t now = now_ms, limit = (int64_t)s->o.timeout_s * 1000;
    struct conn *next;
    for (struct conn *c = s->conns; c; c = next) {
        next = c->next;
        if (c->pending) /* its handler bounds the wait */
            continue;
        if (c->shut) {
            if (now - c->start_ms > LINGER_MS)
                conn_free(c);
        } else if (c->in_request && !c->closing && now - c->start_ms > limit) {
            reply_close(c, 408, "request not received in time");
            conn_flush(c);
            if (c->dead)
                conn_free(c);
        } else if (now - c->last_ms > limit) {
            conn_free(c);
        }
    }
    arm_sweep(s);
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
 * listening socket stays readable and the process spins. max_connections
 * keeps inbound connections below the fd limit, so this is for descriptors
 * taken by everything else. At EMFILE/ENFILE the spare descriptor is given
 * up for a moment to accept the waiting connection and close it at once:
 * the client learns at once, and the backlog drains instead of spinning.
 * Without a spare (or on ENOBUFS/ENOMEM), accepting pauses for
 * ACCEPT_BACKOFF_MS. */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
    struct nd_server *s = arg;
    int e = EVUTIL_SOCKET_ERROR();
    now_ms = nd_now_mono_ms();
    if (s->o.metrics)
        s->o.metrics->accept_errors++;
    log_limited(&s->log_accept, "accept failed", "error", evutil_socket_error_to_string(e));
    if ((e == EMFILE || e == ENFILE) && s->spare_fd >= 0) {
        close(s->spare_fd);
        int fd = accept(evconnlistener_get_fd(l), NULL, NULL);
        if (fd >= 0)
            close(fd);
        s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        return;
    }
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
        evconnlistener_disable(l);
        struct timeval tv = {0, ACCEPT_BACKOFF_MS * 1000};
        evtimer_add(s->backoff, &tv);
    }
}

/* The budget of inbound connections: what the options ask, within the fd
 * limit minus the headroom. */
static size_t conn_budget(size_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return want;
    uint64_t cur = (uint64_t)rl.rlim_cur;
    uint64_t keep = cur / 4 > FD_HEADROOM_MIN ? cur / 4 : FD_HEADROOM_MIN;
    uint64_t fit = cur > keep + 1 ? cur - keep : 1;
    return fit < want ? (size_t)fit : want;
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
        s->listener = evconnlistener_new_bind(s->base, on_accept, s,
                                              LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
                                                  LEV_OPT_CLOSE_ON_EXEC,
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
    return ND_OK;
}

struct nd_server *nd_server_new(struct event_base *base, const struct nd_server_opts *o, char *err)
{
    if (!o->submit) {
        nd_seterr(err, ND_EINVAL, "server: no submit callback");
        return NULL;
    }
    if (o->nroutes > ND_SERVER_MAX_ROUTES) {
        nd_seterr(err, ND_EINVAL, "server: %zu routes (at most %u)", o->nroutes,
                  ND_SERVER_MAX_ROUTES);
        return NULL;
    }
    for (size_t i = 0; i < o->nroutes; i++) {
        const struct nd_server_route *r = &o->routes[i];
        if (!r->method || !r->path || r->path[0] != '/' || !r->handler) {
            nd_seterr(err, ND_EINVAL, "server: route %zu incomplete", i);
            return NULL;
        }
    }
    struct nd_server *s = nd_xcalloc(1, sizeof *s);
    s->spare_fd = -1;
    s->base = base;
    s->o = *o;
    if (o->nroutes) {
        s->routes = nd_xmalloc(o->nroutes * sizeof *s->routes);
        memcpy(s->routes, o->routes, o->nroutes * sizeof *s->routes);
    }
    s->o.routes = s->routes;
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
    if (!s->o.max_connections)
        s->o.max_connections = DEFAULT_MAX_CONNS;
    s->max_conns = conn_budget(s->o.max_connections);
    if (s->max_conns < s->o.max_connections) {
        char want[24], got[24];
        snprintf(want, sizeof want, "%zu", s->o.max_connections);
        snprintf(got, sizeof got, "%zu", s->max_conns);
        nd_log(ND_LOG_WARN, "max_connections lowered to fit the open file limit (RLIMIT_NOFILE)",
               "max_connections", want, "effective", got, NULL);
    }
    s->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    /* http-parser's own header ceiling is global and 80 KiB by default; ours
     * is per server and checked in the callbacks, so only raise the global. */
    if (s->o.max_headers_size + 1024 > (80u << 10))
        http_parser_set_max_header_size((uint32_t)(s->o.max_headers_size + 1024));

    s->backoff = evtimer_new(base, on_backoff, s);
    s->sweep = evtimer_new(base, on_sweep, s);
    s->refused.ev = evtimer_new(base, on_refused_window, s);
    if (!s->backoff || !s->sweep || !s->refused.ev) {
        nd_seterr(err, ND_ERR, "event_new failed");
        nd_server_free(s);
        return NULL;
    }
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
    while (s->conns)
        conn_free(s->conns);
    refused_flush(s);
    if (s->refused.ev)
        event_free(s->refused.ev);
    if (s->backoff)
        event_free(s->backoff);
    if (s->sweep)
        event_free(s->sweep);
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->spare_fd >= 0)
        close(s->spare_fd);
    free((char *)s->o.host);
    free((char *)s->o.ingest.cluster);
    free(s->routes);
    free(s);
}

uint16_t nd_server_port(const struct nd_server *s)
{
    return s->port;
}

size_t nd_server_max_connections(const struct nd_server *s)
{
    return s->max_conns;
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
    /* No queue-full 503 comes after this (requests get "shutting down"). */
    refused_flush(s);
    evtimer_del(s->backoff);
    if (s->listener) {
        evconnlistener_free(s->listener); /* closes the fd */
        s->listener = NULL;
    }
}
