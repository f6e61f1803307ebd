/* Tests of src/ingest/server.c: one process, one event_base, the server on
 * 127.0.0.1 with a kernel-chosen port, driven by a raw HTTP/1.1 client so
 * that status lines, headers and bodies are checked byte for byte. Every
 * loop run is bounded by a 10 s loopexit. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "notifyd/alert.h"
#include "notifyd/intern.h"
#include "notifyd/log.h"
#include "notifyd/metrics.h"
#include "notifyd/server.h"
#include "notifyd/util.h"
#include "tap.h"

static struct event_base *base;
static struct nd_server *srv;
static struct nd_metrics metrics;

/* What the fake daemon does with submitted alerts. */
static struct {
    int mode; /* ND_OK, ND_EFULL or ND_ERR */
    int calls;
    size_t last_n;
    struct nd_alert *held[64];
    size_t nheld;
    struct nd_server_req *deferred; /* SUB_DEFER: the 200 the test answers */
} sub;
#define SUB_DEFER 77

static int submit(void *ud, struct nd_alert **alerts, size_t n, char *err)
{
    ND_UNUSED(ud);
    sub.calls++;
    sub.last_n = n;
    if (sub.mode == ND_EFULL)
        return ND_EFULL;
    if (sub.mode == ND_EFULL - 100)
        return nd_seterr(err, ND_EFULL, "queue full: 5 alerts held");
    if (sub.mode == SUB_DEFER)
        sub.deferred = nd_server_defer(srv);
    if (sub.mode != ND_OK && sub.mode != SUB_DEFER)
        return nd_seterr(err, ND_ERR, "store \"broken\"");
    for (size_t i = 0; i < n; i++) {
        if (sub.nheld < ND_ARRAY_LEN(sub.held))
            sub.held[sub.nheld++] = alerts[i];
        else
            nd_alert_unref(alerts[i]);
    }
    return ND_OK;
}

static void render(void *ud, struct evbuffer *out)
{
    ND_UNUSED(ud);
    evbuffer_add_printf(out, "# rendered by the daemon\n");
    nd_metrics_render(&metrics, NULL, NULL, 0, out);
}

struct client {
    struct bufferevent *bev;
    struct evbuffer *acc; /* bytes received, not yet consumed */
    bool closed, head;
    /* the last response */
    int status;
    char headers[2048];
    char body[65536];
    bool got;
    /* every response so far, for pipelining: statuses and bodies joined by '\n' */
    int statuses[256];
    int nresp;
    char all[65536];
    size_t alllen;
};

/* Complete response in acc? Then move it into status/headers/body. */
static bool take_response(struct client *c)
{
    size_t len = evbuffer_get_length(c->acc);
    if (len == 0)
        return false;
    char *p = (char *)evbuffer_pullup(c->acc, -1);
    if (!p)
        return false;
    char *end = memmem(p, len, "\r\n\r\n", 4);
    if (!end)
        return false;
    size_t hlen = (size_t)(end - p) + 4;
    size_t clen = 0;
    char *h = memmem(p, hlen, "Content-Length: ", 16);
    if (h)
        clen = strtoul(h + 16, NULL, 10);
    if (c->head)
        clen = 0;
    if (len < hlen + clen)
        return false;
    c->status = atoi(p + 9);
    size_t hcopy = hlen < sizeof c->headers ? hlen : sizeof c->headers - 1;
    memcpy(c->headers, p, hcopy);
    c->headers[hcopy] = '\0';
    size_t bcopy = clen < sizeof c->body ? clen : sizeof c->body - 1;
    memcpy(c->body, p + hlen, bcopy);
    c->body[bcopy] = '\0';
    evbuffer_drain(c->acc, hlen + clen);
    c->got = true;
    if (c->nresp < (int)ND_ARRAY_LEN(c->statuses))
        c->statuses[c->nresp++] = c->status;
    if (c->alllen + bcopy + 2 < sizeof c->all) {
        memcpy(c->all + c->alllen, c->body, bcopy);
        c->alllen += bcopy;
        c->all[c->alllen++] = '\n';
        c->all[c->alllen] = '\0';
    }
    return true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    evbuffer_add_buffer(c->acc, bufferevent_get_input(bev));
    bool any = false;
    while (take_response(c))
        any = true;
    if (any)
        event_base_loopbreak(base);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    ND_UNUSED(bev);
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        evbuffer_add_buffer(c->acc, bufferevent_get_input(bev));
        while (take_response(c))
            ;
        c->closed = true;
        event_base_loopbreak(base);
    }
}

static void client_open(struct client *c)
{
    memset(c, 0, sizeof *c);
    c->acc = evbuffer_new();
    c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(nd_server_port(srv));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bufferevent_socket_connect(c->bev, (struct sockaddr *)&sin, sizeof sin);
}

static void client_close(struct client *c)
{
    bufferevent_free(c->bev);
    evbuffer_free(c->acc);
}

/* Sends raw bytes and runs the loop until a response or EOF (10 s max). */
static int client_send(struct client *c, const char *raw, size_t len, bool head)
{
    c->got = false;
    c->status = 0;
    c->headers[0] = c->body[0] = '\0';
    c->head = head;
    bufferevent_write(c->bev, raw, len);
    if (!take_response(c)) {
        struct timeval tv = {10, 0};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    return c->status;
}

static struct client one;
static bool one_open;

static void request_done(void)
{
    if (one_open)
        client_close(&one);
    one_open = false;
}

/* One request on a fresh connection. */
static struct client *request(const char *method, const char *path, const char *body,
                              const char *extra_headers)
{
    struct client *c = &one;
    request_done();
    client_open(c);
    one_open = true;
    char *raw =
        nd_xasprintf("%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\n\r\n%s", method, path,
                     extra_headers ? extra_headers : "", body ? strlen(body) : 0, body ? body : "");
    client_send(c, raw, strlen(raw), strcmp(method, "HEAD") == 0);
    free(raw);
    return c;
}

static bool has_header(const struct client *c, const char *line)
{
    char want[256];
    snprintf(want, sizeof want, "\r\n%s\r\n", line);
    return strstr(c->headers, want) != NULL;
}

static const char accepted[] = "{\"Status\":200,\"Message\":\"Notification request accepted\"}";

static void test_alerts(void)
{
    sub.mode = ND_OK;
    struct client *c = request("POST", "/api/v2/alerts",
                               "{\"alerts\":[{\"labels\":{\"alertname\":\"A\"}},"
                               "{\"labels\":{\"alertname\":\"B\"}}]}",
                               "Content-Type: application/json\r\n");
    is_int(c->status, 200, "POST webhook payload: 200");
    is_str(c->body, accepted, "accepted body");
    ok(has_header(c, "Content-Type: application/json"), "JSON content type");
    is_int(sub.calls, 1, "submit called once");
    is_uint(sub.last_n, 2, "with two alerts");
    ok(sub.nheld == 2 && strcmp(nd_alert_label(sub.held[1], "alertname"), "B") == 0,
       "the alerts reached the daemon");
    ok(sub.nheld == 2 && strcmp(nd_alert_label(sub.held[0], "cluster"), "test-cluster") == 0,
       "cluster label from the options");

    c = request("POST", "/api/v2/alerts?debug=1", "[{\"labels\":{\"alertname\":\"C\"}}]", NULL);
    is_int(c->status, 200, "array shape, query string ignored: 200");
    is_uint(sub.nheld, 3, "third alert held");

    int calls = sub.calls;
    c = request("POST", "/api/v2/alerts", "{\"alerts\":[]}", NULL);
    is_int(c->status, 200, "no alerts: 200");
    is_int(sub.calls, calls, "submit not called for zero alerts");
}

static void test_bad_bodies(void)
{
    struct client *c = request("POST", "/api/v2/alerts", "{'a':1}", NULL);
    is_int(c->status, 400, "invalid JSON: 400");
    is_str(c->body,
           "{\"Status\":400,\"Message\":\"invalid JSON at byte 2: lexical error: invalid char in "
           "json text.\"}",
           "invalid JSON body");
    c = request("POST", "/api/v2/alerts", "[{\"labels\":{\"a\":\"b\"},\"status\":\"x\"}]", NULL);
    is_int(c->status, 400, "bad status: 400");
    is_str(c->body,
           "{\"Status\":400,\"Message\":\"alerts[0].status: expected \\\"firing\\\" or "
           "\\\"resolved\\\"\"}",
           "message JSON-escaped");
    c = request("POST", "/api/v2/alerts", "[{\"labels\":{}}]", NULL);
    is_str(c->body,
           "{\"Status\":400,\"Message\":\"alerts[0].labels: at least one label required\"}",
           "empty labels body");
    c = request("POST", "/api/v2/alerts", "", NULL);
    is_int(c->status, 400, "empty body: 400");
    is_str(c->body, "{\"Status\":400,\"Message\":\"invalid JSON at byte 0: empty body\"}",
           "empty body message");

    /* a million '[' under a skipped key: refused, and the server lives on */
    size_t big = 1000000;
    char *deep = malloc(big + 1);
    memset(deep, '[', big);
    memcpy(deep, "{\"x\":", 5);
    deep[big] = '\0';
    c = request("POST", "/api/v2/alerts", deep, NULL);
    free(deep);
    is_int(c->status, 400, "1,000,000 nested '[': 400");
    is_str(c->body, "{\"Status\":400,\"Message\":\"nesting deeper than 64 at byte 69\"}",
           "too deep body");
    c = request("GET", "/-/healthy", NULL, NULL);
    is_int(c->status, 200, "still answering after the deep body");
}

static void test_too_large(void)
{
    int calls = sub.calls;
    /* Content-Length over the limit: refused from the headers, body never sent */
    struct client c;
    client_open(&c);
    static const char hdr[] = "POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Length: "
                              "3000000\r\n\r\n";
    client_send(&c, hdr, strlen(hdr), false);
    is_int(c.status, 413, "Content-Length over max_body_size: 413");
    ok(has_header(&c, "Connection: close"), "and the connection closes");
    is_str(c.body, "{\"Status\":413,\"Message\":\"request body larger than 2097152 bytes\"}",
           "413 in our JSON envelope");
    client_close(&c);

    /* chunked: refused while reading */
    client_open(&c);
    static const char chdr[] = "POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                               "chunked\r\n\r\n";
    struct nd_buf b;
    nd_buf_init(&b, 4 << 20);
    nd_buf_adds(&b, chdr);
    for (int i = 0; i < 40; i++) {
        char chunk[65536 + 16];
        int n = snprintf(chunk, sizeof chunk, "%x\r\n", 65536);
        memset(chunk + n, ' ', 65536);
        memcpy(chunk + n + 65536, "\r\n", 2);
        nd_buf_add(&b, chunk, (size_t)n + 65536 + 2);
    }
    nd_buf_adds(&b, "0\r\n\r\n");
    client_send(&c, b.data, b.len, false);
    nd_buf_deinit(&b);
    is_int(c.status, 413, "chunked body over max_body_size: 413");
    client_close(&c);
    is_int(sub.calls, calls, "submit never called");
}

static void test_submit_failures(void)
{
    sub.mode = ND_EFULL;
    uint64_t rej = metrics.alerts_rejected[ND_REJECT_QUEUE_FULL];
    struct client *c = request("POST", "/api/v2/alerts",
                               "[{\"labels\":{\"a\":\"1\"}},{\"labels\":{\"a\":\"2\"}}]", NULL);
    is_int(c->status, 503, "queue full: 503");
    ok(has_header(c, "Retry-After: 7"), "Retry-After from the options");
    is_str(c->body, "{\"Status\":503,\"Message\":\"queue full, retry later\"}", "503 body");
    is_uint(metrics.alerts_rejected[ND_REJECT_QUEUE_FULL] - rej, 2, "two alerts rejected");

    sub.mode = ND_EFULL - 100; /* with a message */
    c = request("POST", "/api/v2/alerts", "[{\"labels\":{\"a\":\"1\"}}]", NULL);
    is_int(c->status, 503, "queue full with a message: 503");
    is_str(c->body, "{\"Status\":503,\"Message\":\"queue full: 5 alerts held\"}",
           "the daemon's message");

    sub.mode = ND_ERR;
    c = request("POST", "/api/v2/alerts", "[{\"labels\":{\"a\":\"1\"}}]", NULL);
    is_int(c->status, 500, "submit error: 500");
    is_str(c->body, "{\"Status\":500,\"Message\":\"store \\\"broken\\\"\"}", "500 body");
    sub.mode = ND_OK;
}

static void test_routes(void)
{
    struct client *c = request("GET", "/api/v2/alerts", NULL, NULL);
    is_int(c->status, 405, "GET on the alerts path: 405");
    ok(has_header(c, "Allow: POST"), "Allow: POST");
    is_str(c->body, "{\"Status\":405,\"Message\":\"method not allowed\"}", "405 body");
    c = request("DELETE", "/metrics", NULL, NULL);
    is_int(c->status, 405, "DELETE /metrics: 405 (not evhttp's 501)");
    ok(has_header(c, "Allow: GET, HEAD"), "Allow: GET, HEAD");
    c = request("POST", "/-/healthy", "{}", NULL);
    is_int(c->status, 405, "POST /-/healthy: 405");
    c = request("GET", "/nope", NULL, NULL);
    is_int(c->status, 404, "unknown path: 404");
    is_str(c->body, "{\"Status\":404,\"Message\":\"not found\"}", "404 body");
    c = request("POST", "/api/v2/alerts/", "[]", NULL);
    is_int(c->status, 404, "paths match exactly");

    c = request("GET", "/-/healthy", NULL, NULL);
    is_int(c->status, 200, "healthy");
    is_str(c->body, "{\"Status\":200,\"Message\":\"healthy\"}", "healthy body");
    c = request("HEAD", "/-/healthy", NULL, NULL);
    is_int(c->status, 200, "HEAD healthy");
    c = request("GET", "/-/ready", NULL, NULL);
    is_int(c->status, 503, "not ready before set_ready");
    is_str(c->body, "{\"Status\":503,\"Message\":\"not ready\"}", "not ready body");
    nd_server_set_ready(srv, true);
    c = request("GET", "/-/ready", NULL, NULL);
    is_int(c->status, 200, "ready");
    is_str(c->body, "{\"Status\":200,\"Message\":\"ready\"}", "ready body");
}

static void test_metrics_endpoint(void)
{
    uint64_t answered = metrics.http_requests;
    struct client *c = request("GET", "/metrics", NULL, NULL);
    is_int(c->status, 200, "/metrics: 200");
    ok(has_header(c, "Content-Type: text/plain; version=0.0.4; charset=utf-8"),
       "Prometheus content type");
    ok(strncmp(c->body, "# rendered by the daemon\n", 25) == 0, "the daemon's render callback");
    char want[128];
    snprintf(want, sizeof want, "\nnotifyd_http_requests_total %llu\n",
             (unsigned long long)answered);
    has_str(c->body, want, "requests answered so far");
    is_uint(metrics.http_requests, answered + 1, "the /metrics request counted too");
    has_str(c->body, "\nnotifyd_alerts_accepted_total 3\n", "accepted alerts");
    has_str(c->body, "\nnotifyd_alerts_received_total 7\n", "received = accepted + 503s + 500");
    has_str(c->body, "\nnotifyd_requests_rejected_total{reason=\"invalid_json\"} 2\n",
            "invalid JSON requests");
    has_str(c->body, "\nnotifyd_requests_rejected_total{reason=\"bad_shape\"} 2\n",
            "bad shape requests");
    has_str(c->body, "\nnotifyd_requests_rejected_total{reason=\"too_deep\"} 1\n", "too deep");
    has_str(c->body, "\nnotifyd_requests_rejected_total{reason=\"queue_full\"} 2\n", "queue full");
    has_str(c->body, "\nnotifyd_alerts_rejected_total{reason=\"queue_full\"} 3\n",
            "queue full alerts");
}

/* ---- HTTP/1.1 behaviour of the server itself (pipelining, chunked bodies,
 * 100-continue, split requests, limits). A "raw" client is a plain
 * non-blocking socket: bytes sent with send() are in the server's receive
 * queue at once, so a request can be cut exactly where the test wants. */

static uint16_t raw_port; /* 0 = srv's */

static int raw_open(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(raw_port ? raw_port : nd_server_port(srv));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* a loopback connect completes from the backlog, before the accept */
    if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Lets the server run its pending events without blocking. */
static void pump(int turns)
{
    for (int i = 0; i < turns; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
}

static void raw_send(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            pump(1);
            continue;
        }
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

/* Runs the server until c holds `n` responses or the peer closed (10 s max). */
static void raw_wait(int fd, struct client *c, int n)
{
    int64_t deadline = nd_now_mono_ms() + 10000;
    while (c->nresp < n && !c->closed && nd_now_mono_ms() < deadline) {
        pump(2);
        char tmp[16384];
        ssize_t r = recv(fd, tmp, sizeof tmp, 0);
        if (r > 0) {
            evbuffer_add(c->acc, tmp, (size_t)r);
            while (take_response(c))
                ;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            c->closed = true;
            break;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        poll(&pfd, 1, 2);
    }
}

/* Waits for EOF from the server (10 s max). */
static bool raw_closed(int fd, struct client *c)
{
    int64_t deadline = nd_now_mono_ms() + 10000;
    while (!c->closed && nd_now_mono_ms() < deadline) {
        int before = c->nresp;
        raw_wait(fd, c, c->nresp + 1);
        if (c->nresp == before && !c->closed)
            break;
    }
    return c->closed;
}

static void raw_client(struct client *c)
{
    memset(c, 0, sizeof *c);
    c->acc = evbuffer_new();
}

static const char alert1[] = "[{\"labels\":{\"alertname\":\"P\"}}]";

static char *post(const char *extra)
{
    return nd_xasprintf(
        "POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\n%sContent-Length: %zu\r\n\r\n%s", extra,
        strlen(alert1), alert1);
}

static void test_pipelining(void)
{
    struct client c;
    raw_client(&c);
    int fd = raw_open();
    char *p = post("");
    struct nd_buf b;
    nd_buf_init(&b, 1 << 20);
    /* 100 requests in one write, answered in order: alerts, healthy, 404, 405, ... */
    for (int i = 0; i < 25; i++) {
        nd_buf_adds(&b, p);
        nd_buf_adds(&b, "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n");
        nd_buf_adds(&b, "GET /nope HTTP/1.1\r\n\r\n");
        nd_buf_adds(&b, "DELETE /-/healthy HTTP/1.1\r\n\r\n");
    }
    free(p);
    int calls = sub.calls;
    raw_send(fd, b.data, b.len);
    nd_buf_deinit(&b);
    raw_wait(fd, &c, 100);
    static const int want[4] = {200, 200, 404, 405};
    int good = 0;
    for (int i = 0; i < c.nresp; i++)
        good += c.statuses[i] == want[i % 4];
    is_int(c.nresp, 100, "100 pipelined requests: 100 answers");
    is_int(good, 100, "in request order");
    is_int(sub.calls - calls, 25, "25 submits");
    ok(!c.closed, "connection kept open");
    close(fd);
    evbuffer_free(c.acc);
}

static void test_chunked(void)
{
    struct client c;
    raw_client(&c);
    int fd = raw_open();
    static const char req[] = "POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n"
                              "5\r\n[{\"la\r\n"
                              "1c;ext=1\r\nbels\":{\"alertname\":\"CHUNK\"}}\r\n"
                              "1\r\n]\r\n"
                              "0\r\nTrailer: x\r\n\r\n"
                              "GET /-/healthy HTTP/1.1\r\n\r\n";
    size_t held = sub.nheld;
    raw_send(fd, req, strlen(req));
    raw_wait(fd, &c, 2);
    is_int(c.nresp, 2, "chunked POST then a GET: two answers");
    is_int(c.statuses[0], 200, "chunked body accepted");
    ok(sub.nheld == held + 1 && strcmp(nd_alert_label(sub.held[held], "alertname"), "CHUNK") == 0,
       "the chunked alert reached the daemon");
    is_int(c.statuses[1], 200, "the next request on the connection");
    close(fd);
    evbuffer_free(c.acc);
}

static void test_expect_continue(void)
{
    struct client c;
    raw_client(&c);
    int fd = raw_open();
    char *hdr = nd_xasprintf("POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                             "Content-Length: %zu\r\n\r\n",
                             strlen(alert1));
    int calls = sub.calls;
    raw_send(fd, hdr, strlen(hdr));
    raw_wait(fd, &c, 1);
    is_int(c.nresp, 1, "headers with Expect: an interim answer");
    is_int(c.statuses[0], 100, "100 Continue before the body");
    is_int(sub.calls, calls, "nothing submitted yet");
    raw_send(fd, alert1, strlen(alert1));
    raw_wait(fd, &c, 2);
    is_int(c.statuses[1], 200, "then 200 for the body");
    is_int(sub.calls, calls + 1, "submitted once");
    close(fd);
    free(hdr);

    /* too large: 413 at once, no 100, no body expected */
    evbuffer_free(c.acc);
    raw_client(&c);
    fd = raw_open();
    static const char big[] = "POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                              "Content-Length: 99999999\r\n\r\n";
    raw_send(fd, big, strlen(big));
    raw_wait(fd, &c, 1);
    is_int(c.nresp ? c.statuses[0] : 0, 413, "Expect with a body over the limit: 413, no 100");
    ok(raw_closed(fd, &c), "and the connection closes");
    close(fd);
    evbuffer_free(c.acc);
}

/* One chunked POST with Expect and one GET, cut in two at every byte: the
 * parser state and ours must survive any boundary (request line, header
 * name, value, chunk size, chunk data, trailer, next request). */
static void test_split_everywhere(void)
{
    static const char req[] = "POST /api/v2/alerts?x=1 HTTP/1.1\r\nHost: x\r\n"
                              "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "a\r\n[{\"labels\"\r\n"
                              "14\r\n:{\"alertname\":\"S\"}}]\r\n"
                              "0\r\n\r\n"
                              "GET /-/ready HTTP/1.1\r\n\r\n";
    size_t len = strlen(req);
    int calls = sub.calls, good = 0;
    for (size_t cut = 1; cut < len; cut++) {
        struct client c;
        raw_client(&c);
        int fd = raw_open();
        raw_send(fd, req, cut);
        pump(3);
        raw_send(fd, req + cut, len - cut);
        raw_wait(fd, &c, 3);
        if (c.nresp == 3 && c.statuses[0] == 100 && c.statuses[1] == 200 && c.statuses[2] == 200)
            good++;
        else
            printf("# cut at %zu: %d answers, first %d\n", cut, c.nresp, c.statuses[0]);
        close(fd);
        evbuffer_free(c.acc);
    }
    is_int(good, (int)len - 1, "request cut at each of %zu places: answered right", len - 1);
    is_int(sub.calls - calls, (int)len - 1, "one submit per cut");

    /* one byte per read, the whole request */
    struct client c;
    raw_client(&c);
    int fd = raw_open();
    for (size_t i = 0; i < len; i++) {
        raw_send(fd, req + i, 1);
        pump(2);
    }
    raw_wait(fd, &c, 3);
    ok(c.nresp == 3 && c.statuses[0] == 100 && c.statuses[1] == 200 && c.statuses[2] == 200,
       "request trickled one byte at a time: answered");
    close(fd);
    evbuffer_free(c.acc);
}

static void expect_close(const char *raw, size_t len, int status, const char *what)
{
    struct client c;
    raw_client(&c);
    int fd = raw_open();
    raw_send(fd, raw, len);
    raw_wait(fd, &c, 1);
    is_int(c.nresp ? c.statuses[0] : 0, status, "%s: %d", what, status);
    ok(strstr(c.headers, "\r\nConnection: close\r\n") != NULL, "%s: Connection: close", what);
    has_str(c.body, "{\"Status\":", "%s: JSON envelope", what);
    ok(raw_closed(fd, &c), "%s: connection closed", what);
    close(fd);
    evbuffer_free(c.acc);
}

static void test_garbage(void)
{
    static const char *bad[] = {
        "GARBAGE\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "POST /api/v2/alerts HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        "POST /api/v2/alerts HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "POST /api/v2/alerts HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /-/healthy HTTP/1.1\r\nBad Header\r\n\r\n",
        "\x01\x02\x03\x04\r\n\r\n",
    };
    for (size_t i = 0; i < ND_ARRAY_LEN(bad); i++) {
        char what[64];
        snprintf(what, sizeof what, "garbage #%zu", i);
        expect_close(bad[i], strlen(bad[i]), 400, what);
    }
    /* a good request after garbage on the same write is not answered */
    static const char two[] = "XYZ\r\n\r\nGET /-/healthy HTTP/1.1\r\n\r\n";
    struct client c;
    raw_client(&c);
    int fd = raw_open();
    raw_send(fd, two, strlen(two));
    ok(raw_closed(fd, &c), "garbage then a good request: closed");
    is_int(c.nresp, 1, "only the 400 was sent");
    close(fd);
    evbuffer_free(c.acc);
}

static void test_header_limits(void)
{
    /* the test server's header limit is the default, 16 KiB */
    struct nd_buf b;
    nd_buf_init(&b, 1 << 20);
    nd_buf_adds(&b, "GET /-/healthy HTTP/1.1\r\nX-Big: ");
    for (int i = 0; i < 17 * 1024; i++)
        nd_buf_addc(&b, 'a');
    nd_buf_adds(&b, "\r\n\r\n");
    expect_close(b.data, b.len, 431, "one 17 KiB header");

    nd_buf_reset(&b);
    nd_buf_adds(&b, "GET /-/healthy HTTP/1.1\r\n");
    for (int i = 0; i < 2000; i++)
        nd_buf_printf(&b, "X-H%d: v\r\n", i);
    nd_buf_adds(&b, "\r\n");
    expect_close(b.data, b.len, 431, "2000 small headers");

    nd_buf_reset(&b);
    nd_buf_adds(&b, "GET /");
    for (int i = 0; i < 17 * 1024; i++)
        nd_buf_addc(&b, 'u');
    nd_buf_adds(&b, " HTTP/1.1\r\n\r\n");
    expect_close(b.data, b.len, 431, "a 17 KiB URL");

    /* just under the limit is fine */
    nd_buf_reset(&b);
    nd_buf_adds(&b, "GET /-/healthy HTTP/1.1\r\nX-Big: ");
    for (int i = 0; i < 15 * 1024; i++)
        nd_buf_addc(&b, 'a');
    nd_buf_adds(&b, "\r\n\r\n");
    struct client c;
    raw_client(&c);
    int fd = raw_open();
    raw_send(fd, b.data, b.len);
    raw_wait(fd, &c, 1);
    is_int(c.nresp ? c.statuses[0] : 0, 200, "a 15 KiB header: 200");
    close(fd);
    evbuffer_free(c.acc);
    nd_buf_deinit(&b);
}

static void test_connection_modes(void)
{
    static const char h10[] = "GET /-/healthy HTTP/1.0\r\n\r\n";
    struct client c;
    raw_client(&c);
    int fd = raw_open();
    raw_send(fd, h10, strlen(h10));
    raw_wait(fd, &c, 1);
    is_int(c.nresp ? c.statuses[0] : 0, 200, "HTTP/1.0: 200");
    ok(raw_closed(fd, &c), "HTTP/1.0 without keep-alive: closed after the answer");
    close(fd);
    evbuffer_free(c.acc);

    static const char h10ka[] = "GET /-/healthy HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    raw_client(&c);
    fd = raw_open();
    raw_send(fd, h10ka, strlen(h10ka));
    raw_wait(fd, &c, 1);
    ok(strstr(c.headers, "\r\nConnection: keep-alive\r\n") != NULL,
       "HTTP/1.0 keep-alive: Connection: keep-alive");
    raw_send(fd, h10ka, strlen(h10ka));
    raw_wait(fd, &c, 2);
    is_int(c.nresp, 2, "and a second request is served");
    close(fd);
    evbuffer_free(c.acc);

    /* absolute-form target: routed by its path */
    static const char absf[] = "GET http://x:9/-/healthy?q=1 HTTP/1.1\r\n\r\n";
    raw_client(&c);
    fd = raw_open();
    raw_send(fd, absf, strlen(absf));
    raw_wait(fd, &c, 1);
    is_int(c.nresp ? c.statuses[0] : 0, 200, "absolute-form request target: 200");
    close(fd);
    evbuffer_free(c.acc);

    /* an upgrade is never granted: answered, then closed */
    static const char upg[] = "GET /-/healthy HTTP/1.1\r\nConnection: upgrade\r\n"
                              "Upgrade: websocket\r\n\r\n";
    raw_client(&c);
    fd = raw_open();
    raw_send(fd, upg, strlen(upg));
    ok(raw_closed(fd, &c), "Upgrade: closed");
    is_int(c.nresp ? c.statuses[0] : 0, 200, "after a normal answer");
    close(fd);
    evbuffer_free(c.acc);
    static const char con[] = "CONNECT x:443 HTTP/1.1\r\n\r\n";
    raw_client(&c);
    fd = raw_open();
    raw_send(fd, con, strlen(con));
    ok(raw_closed(fd, &c), "CONNECT: closed");
    is_int(c.nresp ? c.statuses[0] : 0, 404, "after a 404");
    close(fd);
    evbuffer_free(c.acc);

    /* Connection: close on the first of two pipelined requests */
    static const char cl[] = "GET /-/healthy HTTP/1.1\r\nConnection: close\r\n\r\n"
                             "GET /-/healthy HTTP/1.1\r\n\r\n";
    raw_client(&c);
    fd = raw_open();
    raw_send(fd, cl, strlen(cl));
    ok(raw_closed(fd, &c), "Connection: close: closed");
    is_int(c.nresp, 1, "the request after it is not answered");
    ok(strstr(c.headers, "\r\nConnection: close\r\n") != NULL, "answer says Connection: close");
    close(fd);
    evbuffer_free(c.acc);
}

static void test_many_connections(void)
{
    enum { N = 300 };
    static int fds[N];
    static struct client cs[N];
    int opened = 0, answered = 0;
    size_t held = sub.nheld;
    int calls = sub.calls;
    char *p = post("");
    for (int i = 0; i < N; i++) {
        fds[i] = raw_open();
        if (fds[i] < 0)
            break;
        opened++;
        raw_client(&cs[i]);
        raw_send(fds[i], p, strlen(p));
        if (i % 50 == 0)
            pump(2);
    }
    free(p);
    for (int i = 0; i < opened; i++) {
        raw_wait(fds[i], &cs[i], 1);
        answered += cs[i].nresp == 1 && cs[i].statuses[0] == 200;
    }
    is_int(opened, N, "%d connections opened", N);
    is_int(answered, N, "every one answered 200");
    is_int(sub.calls - calls, N, "one submit each");
    ND_UNUSED(held);
    for (int i = 0; i < opened; i++) {
        close(fds[i]);
        evbuffer_free(cs[i].acc);
    }
    pump(5);
}

static void test_too_large_counted(void)
{
    uint64_t before = metrics.requests_rejected[ND_REJECT_TOO_LARGE];
    uint64_t answered = metrics.http_requests;
    static const char big[] = "POST /api/v2/alerts HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n";
    expect_close(big, strlen(big), 413, "Content-Length 99999999");
    is_uint(metrics.requests_rejected[ND_REJECT_TOO_LARGE] - before, 1, "413 counted as too_large");
    is_uint(metrics.http_requests - answered, 1, "and as an answered request");
}

/* ---- the body of an alerts POST is parsed while it arrives (server.c):
 * many reads per body, errors kept until the body ends, nothing held once
 * the request is over, however it ended. */

/* A body of `n` alerts whose label name `name` is used nowhere else, so
 * that nd_intern_count() shows whether a parse still holds them. */
static void alerts_body(struct nd_buf *b, int n, const char *name)
{
    nd_buf_adds(b, "{\"alerts\":[");
    for (int i = 0; i < n; i++)
        nd_buf_printf(b,
                      "%s{\"labels\":{\"alertname\":\"Stream\",\"%s\":\"%d\"},\"annotations\":"
                      "{\"d\":\"%0500d\"},\"startsAt\":\"2024-01-01T00:00:00Z\"}",
                      i ? "," : "", name, i, i);
    nd_buf_adds(b, "]}");
}

static char *post_head(size_t len)
{
    return nd_xasprintf("POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n",
                        len);
}

/* A raw connection without Nagle: each piece is sent at once, so the server
 * reads a body in many pieces (with Nagle, small writes wait for an ACK that
 * the server delays, and arrive together). */
static int raw_open_nodelay(void)
{
    int fd = raw_open(), on = 1;
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return fd;
}

/* Sends p[0..n) in pieces of `step` bytes, letting the server read each. */
static void raw_trickle(int fd, const char *p, size_t n, size_t step)
{
    for (size_t i = 0; i < n; i += step) {
        raw_send(fd, p + i, n - i < step ? n - i : step);
        pump(2);
    }
}

/* Runs the server until the string table holds `count` entries, or more
 * than `count` when `more` (10 s max). */
static bool interned_wait(size_t count, bool more)
{
    int64_t deadline = nd_now_mono_ms() + 10000;
    while ((more ? nd_intern_count() <= count : nd_intern_count() != count) &&
           nd_now_mono_ms() < deadline) {
        pump(2);
        struct pollfd none;
        poll(&none, 0, 2);
    }
    return more ? nd_intern_count() > count : nd_intern_count() == count;
}

static void test_streamed_bodies(void)
{
    struct nd_buf body;
    nd_buf_init(&body, 4 << 20);
    int calls = sub.calls;

    /* 150 alerts (~100 KB) in 1000-byte pieces: many reads, one parse */
    alerts_body(&body, 150, "stream_one");
    char *head = post_head(body.len);
    struct client c;
    raw_client(&c);
    int fd = raw_open_nodelay();
    raw_send(fd, head, strlen(head));
    raw_trickle(fd, body.data, body.len, 1000);
    raw_wait(fd, &c, 1);
    is_int(c.nresp ? c.statuses[0] : 0, 200, "150 alerts in 1000-byte pieces: 200");
    is_int(sub.calls - calls, 1, "submitted once");
    is_uint(sub.last_n, 150, "all 150 alerts");
    free(head);

    /* a bad alert at the start: the rest of the body is still read, the
     * answer comes when it is complete, and the connection stays usable */
    size_t interned = nd_intern_count();
    nd_buf_reset(&body);
    nd_buf_adds(&body, "[{\"labels\":{\"stream_bad\":1}},");
    nd_buf_adds(&body, "{\"labels\":{\"stream_bad\":\"x\"}},");
    struct nd_buf rest;
    nd_buf_init(&rest, 4 << 20);
    alerts_body(&rest, 100, "stream_two");
    /* its alerts, without the '{"alerts":[' before and the ']}' after them */
    nd_buf_add(&body, rest.data + 11, rest.len - 13);
    nd_buf_adds(&body, "]");
    nd_buf_deinit(&rest);
    head = post_head(body.len);
    raw_send(fd, head, strlen(head));
    raw_trickle(fd, body.data, body.len, 4000);
    raw_wait(fd, &c, 2);
    is_int(c.nresp > 1 ? c.statuses[1] : 0, 400, "a bad first alert in a long trickled body: 400");
    has_str(c.body, "\"alerts[0].labels.stream_bad: expected string\"", "naming the first error");
    ok(!c.closed, "connection kept");
    static const char ready[] = "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_send(fd, ready, strlen(ready));
    raw_wait(fd, &c, 3);
    is_int(c.nresp > 2 ? c.statuses[2] : 0, 200, "the next request is answered");
    is_int(sub.calls - calls, 1, "nothing more submitted");
    is_uint(nd_intern_count(), interned, "nothing of the refused body held");
    free(head);

    /* the client goes away in the middle of a body: what was built is freed */
    nd_buf_reset(&body);
    alerts_body(&body, 50, "stream_cut");
    head = post_head(body.len);
    raw_send(fd, head, strlen(head));
    raw_trickle(fd, body.data, body.len / 2, 2000);
    ok(interned_wait(interned, true), "half a body: its alerts are being built");
    close(fd);
    ok(interned_wait(interned, false), "connection closed mid-body: all of it freed");
    evbuffer_free(c.acc);
    free(head);

    /* a chunked body of alerts that passes max_body_size: 413, freed */
    raw_client(&c);
    fd = raw_open_nodelay();
    static const char chdr[] = "POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                               "chunked\r\n\r\n";
    raw_send(fd, chdr, strlen(chdr));
    nd_buf_reset(&body);
    alerts_body(&body, 3000, "stream_big"); /* ~1.7 MB, sent twice */
    for (int round = 0; round < 2 && !c.closed && c.nresp == 0; round++) {
        for (size_t i = 0; i < body.len; i += 60000) {
            size_t k = body.len - i < 60000 ? body.len - i : 60000;
            char size[16];
            int n = snprintf(size, sizeof size, "%zx\r\n", k);
            raw_send(fd, size, (size_t)n);
            raw_send(fd, body.data + i, k);
            raw_send(fd, "\r\n", 2);
            pump(2);
        }
    }
    raw_wait(fd, &c, 1);
    is_int(c.nresp ? c.statuses[0] : 0, 413, "chunked alerts past max_body_size: 413");
    ok(raw_closed(fd, &c), "and the connection closes");
    close(fd);
    evbuffer_free(c.acc);
    ok(interned_wait(interned, false), "the alerts parsed before the limit are freed");
    is_int(sub.calls - calls, 1, "nothing more submitted");
    nd_buf_deinit(&body);
}

static void test_http(void)
{
    test_pipelining();
    test_chunked();
    test_expect_continue();
    test_split_everywhere();
    test_garbage();
    test_header_limits();
    test_connection_modes();
    test_many_connections();
    test_too_large_counted();
    test_streamed_bodies();
}

/* A second server with a 1 s timeout: idle connections close, a request
 * trickled slower than that gets 408. No timing is asserted, only that
 * each happens (within the 10 s bound of raw_wait). */
static void test_timeouts(void)
{
    char err[ND_ERRLEN];
    struct nd_server_opts o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.timeout_s = 1;
    o.submit = submit;
    struct nd_server *s2 = nd_server_new(base, &o, err);
    ok(s2 != NULL, "server with timeout 1 s (%s)", err);
    if (!s2)
        return;
    raw_port = nd_server_port(s2);

    struct client c;
    raw_client(&c);
    int fd = raw_open();
    ok(raw_closed(fd, &c), "an idle connection is closed");
    is_int(c.nresp, 0, "without an answer");
    close(fd);
    evbuffer_free(c.acc);

    static const char part[] = "GET /-/healthy HTTP/1.1\r\nX-Slow: ";
    raw_client(&c);
    fd = raw_open();
    raw_send(fd, part, strlen(part));
    /* one byte every 100 ms keeps the connection busy but the request late */
    int64_t deadline = nd_now_mono_ms() + 10000;
    while (c.nresp == 0 && !c.closed && nd_now_mono_ms() < deadline) {
        raw_send(fd, "a", 1);
        int64_t next = nd_now_mono_ms() + 100;
        while (c.nresp == 0 && !c.closed && nd_now_mono_ms() < next) {
            pump(1);
            char tmp[4096];
            ssize_t r = recv(fd, tmp, sizeof tmp, 0);
            if (r > 0) {
                evbuffer_add(c.acc, tmp, (size_t)r);
                take_response(&c);
            } else if (r == 0) {
                c.closed = true;
            } else {
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                poll(&pfd, 1, 10);
            }
        }
    }
    is_int(c.nresp ? c.statuses[0] : 0, 408, "a request trickled for longer than the timeout: 408");
    ok(raw_closed(fd, &c), "and the connection closes");
    close(fd);
    evbuffer_free(c.acc);

    /* a client that sends part of a request and then stalls: 408 too, not a
     * silent close (part of the headers; then part of a body) */
    static const char *const stalls[] = {
        "GET /-/healthy HTTP/1.1\r\nX-Slow: ",
        "POST /api/v2/alerts HTTP/1.1\r\nContent-Length: 40\r\n\r\n[{\"labels\":",
    };
    for (size_t i = 0; i < ND_ARRAY_LEN(stalls); i++) {
        raw_client(&c);
        fd = raw_open();
        raw_send(fd, stalls[i], strlen(stalls[i]));
        raw_wait(fd, &c, 1);
        is_int(c.nresp ? c.statuses[0] : 0, 408, "stalled %s: 408",
               i ? "in the body" : "in the headers");
        is_str(c.body, "{\"Status\":408,\"Message\":\"request not received in time\"}",
               "in the JSON envelope");
        ok(has_header(&c, "Connection: close"), "with Connection: close");
        ok(raw_closed(fd, &c), "and the connection closes");
        close(fd);
        evbuffer_free(c.acc);
    }

    /* a client that stops reading: its answers pile up, the server stops
     * reading from it, and the stalled connection is dropped */
    raw_client(&c);
    fd = raw_open();
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct nd_buf b;
    nd_buf_init(&b, 8 << 20);
    for (int i = 0; i < 2000; i++)
        nd_buf_adds(&b, "GET /-/healthy HTTP/1.1\r\n\r\n");
    size_t sent = 0, off = 0;
    deadline = nd_now_mono_ms() + 10000;
    bool reset = false;
    while (nd_now_mono_ms() < deadline && !reset) {
        /* the same requests over and over until the server gives up */
        ssize_t w = send(fd, b.data + off, b.len - off, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            off = (off + (size_t)w) % b.len;
        } else if (errno != EAGAIN) {
            reset = true;
        }
        pump(1);
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        poll(&pfd, 1, 10);
        if (pfd.revents & (POLLERR | POLLHUP))
            reset = true;
    }
    nd_buf_deinit(&b);
    ok(reset, "a client that never reads is dropped (sent %zu bytes)", sent);
    close(fd);
    evbuffer_free(c.acc);

    raw_port = 0;
    nd_server_free(s2);
}

/* Lets the server accept and read what is pending, with a pause between so
 * that the next connection's timestamps differ. */
static void settle(void)
{
    pump(10);
    usleep(3000);
    pump(10);
}

/* A server with max_connections = 3: a fourth connection closes the one
 * whose state is oldest (a slow request before connections idle since
 * later), and a health check on the new one is answered. */
static void test_connection_limit(void)
{
    char err[ND_ERRLEN];
    struct nd_metrics m;
    memset(&m, 0, sizeof m);
    struct nd_server_opts o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.max_connections = 3;
    o.submit = submit;
    o.metrics = &m;
    struct nd_server *s3 = nd_server_new(base, &o, err);
    ok(s3 != NULL, "server with max_connections 3 (%s)", err);
    if (!s3)
        return;
    is_uint(nd_server_max_connections(s3), 3, "limit in force: 3");
    raw_port = nd_server_port(s3);

    struct client c[5];
    int fd[5];
    static const char slow[] = "POST /api/v2/alerts HTTP/1.1\r\nContent-Length: 40\r\n\r\n[";
    for (int i = 0; i < 3; i++) {
        raw_client(&c[i]);
        fd[i] = raw_open();
        if (i == 0)
            raw_send(fd[i], slow, strlen(slow)); /* a request in progress, oldest */
        settle();
    }
    is_uint(m.connections_evicted, 0, "three connections fit");

    static const char get[] = "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n";
    raw_client(&c[3]);
    fd[3] = raw_open();
    raw_send(fd[3], get, strlen(get));
    raw_wait(fd[3], &c[3], 1);
    is_int(c[3].nresp ? c[3].statuses[0] : 0, 200, "a health check at the limit: 200");
    is_uint(m.connections_evicted, 1, "one connection evicted");
    ok(raw_closed(fd[0], &c[0]), "the slow request, oldest, was closed");
    is_int(c[0].nresp, 0, "without an answer");
    settle();

    raw_client(&c[4]);
    fd[4] = raw_open();
    raw_send(fd[4], get, strlen(get));
    raw_wait(fd[4], &c[4], 1);
    is_int(c[4].nresp ? c[4].statuses[0] : 0, 200, "another health check: 200");
    is_uint(m.connections_evicted, 2, "a second connection evicted");
    ok(raw_closed(fd[1], &c[1]), "the connection idle for the longest time was closed");

    /* the third (idle since later) and the health checks' connections stay */
    raw_send(fd[2], get, strlen(get));
    raw_wait(fd[2], &c[2], 1);
    is_int(c[2].nresp ? c[2].statuses[0] : 0, 200, "a younger idle connection still works");
    for (int i = 0; i < 5; i++) {
        close(fd[i]);
        evbuffer_free(c[i].acc);
    }
    raw_port = 0;
    nd_server_free(s3);

    /* the fd limit lowers the budget: a quarter (at least 32) stays free */
    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    low.rlim_cur = 256;
    if (low.rlim_cur > old.rlim_max)
        low.rlim_cur = old.rlim_max;
    ok(setrlimit(RLIMIT_NOFILE, &low) == 0, "fd limit lowered to %llu",
       (unsigned long long)low.rlim_cur);
    o.max_connections = 0;
    s3 = nd_server_new(base, &o, err);
    setrlimit(RLIMIT_NOFILE, &old);
    ok(s3 != NULL, "server under the low fd limit (%s)", err);
    if (!s3)
        return;
    is_uint(nd_server_max_connections(s3), (size_t)low.rlim_cur - (size_t)low.rlim_cur / 4,
            "default 1024 lowered to the fd limit minus a quarter");
    nd_server_free(s3);
}

static size_t count_lines(char *log, size_t len, const char *needle)
{
    size_t n = 0;
    for (char *p = log; p && (p = memmem(p, len - (size_t)(p - log), needle, strlen(needle))); p++)
        n++;
    return n;
}

static void on_window(evutil_socket_t fd, short what, void *arg)
{
    ND_UNUSED(fd);
    ND_UNUSED(what);
    *(bool *)arg = true;
}

/* Runs the loop until `flag` is set by a 300 ms timer (or 10 s pass). */
static void run_for_300ms(void)
{
    bool fired = false;
    struct event *t = evtimer_new(base, on_window, &fired);
    struct timeval tv = {0, 300000}, guard = {10, 0};
    evtimer_add(t, &tv);
    event_base_loopexit(base, &guard);
    while (!fired && event_base_loop(base, EVLOOP_ONCE) == 0)
        ;
    event_free(t);
}

/* With the fd table full, accept() fails: the server must not spin on a
 * readable listener nor log every failure; it gives up its spare fd to
 * accept and close each waiting connection, and serves again once fds are
 * free. */
static void test_emfile(void)
{
    struct client keep;
    client_open(&keep);
    static const char get[] = "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n";
    is_int(client_send(&keep, get, strlen(get), false), 200, "connection opened before EMFILE");

    char *log = NULL;
    size_t loglen = 0;
    FILE *mem = open_memstream(&log, &loglen);
    nd_log_set_stream(mem);

    struct rlimit old, low;
    getrlimit(RLIMIT_NOFILE, &old);
    int probe = open("/dev/null", O_RDONLY);
    close(probe);
    low = old;
    low.rlim_cur = (rlim_t)probe + 8;
    setrlimit(RLIMIT_NOFILE, &low);

    int fillers[64], nf = 0;
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(nd_server_port(srv));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    while (nf < 64) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0)
            break;
        connect(fd, (struct sockaddr *)&sin, sizeof sin);
        fillers[nf++] = fd;
    }
    ok(nf > 0 && nf < 64, "%d client sockets fill the fd table", nf);

    run_for_300ms();
    fflush(mem);
    size_t fails = count_lines(log, loglen, "accept failed");
    /* a spinning listener logs hundreds of thousands of lines per second */
    is_uint(fails, 1, "accept failed with EMFILE: one log line in 300 ms (rate-limited)");
    ok(metrics.accept_errors >= 1, "each failure counted (%llu)",
       (unsigned long long)metrics.accept_errors);
    int refused = 0;
    for (int i = 0; i < nf; i++) {
        char b;
        if (recv(fillers[i], &b, 1, 0) == 0)
            refused++;
    }
    ok(refused > 0, "waiting connections accepted and closed with the spare fd (%d of %d)", refused,
       nf);

    for (int i = 0; i < nf; i++)
        close(fillers[i]);
    setrlimit(RLIMIT_NOFILE, &old);
    is_int(client_send(&keep, get, strlen(get), false), 200,
           "the kept-alive connection is still served");
    struct client *c = request("GET", "/-/healthy", NULL, NULL);
    is_int(c->status, 200, "new connections accepted again once fds are free");
    client_close(&keep);

    nd_log_set_stream(NULL);
    fclose(mem);
    free(log);
}

static void test_stop_accepting(void)
{
    struct client keep;
    client_open(&keep);
    static const char get[] = "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n";
    is_int(client_send(&keep, get, strlen(get), false), 200, "kept-alive connection works");
    uint64_t before = metrics.requests_rejected[ND_REJECT_SHUTTING_DOWN];

    /* a request whose headers and half its body came before the stop */
    struct client late;
    client_open(&late);
    static const char late_head[] = "POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Length: "
                                    "30\r\n\r\n[{\"labels\":";
    is_int(client_send(&late, get, strlen(get), false), 200, "second kept-alive connection works");
    bufferevent_write(late.bev, late_head, strlen(late_head));
    pump(20);
    int calls = sub.calls;

    uint16_t port = nd_server_port(srv);
    nd_server_stop_accepting(srv);
    nd_server_stop_accepting(srv); /* idempotent */
    static const char late_tail[] = "{\"alertname\":\"L\"}}]";
    is_int(client_send(&late, late_tail, strlen(late_tail), false), 503,
           "a body that completes after stop: 503");
    is_str(late.body, "{\"Status\":503,\"Message\":\"shutting down\"}",
           "its message: shutting down");
    ok(has_header(&late, "Connection: close"), "its connection closes");
    ok(!strstr(late.headers, "Retry-After"), "no Retry-After (not a full queue)");
    is_int(sub.calls, calls, "the daemon was not asked to queue it");
    is_uint(metrics.requests_rejected[ND_REJECT_SHUTTING_DOWN] - before, 1,
            "counted as shutting_down");
    is_uint(metrics.alerts_rejected[ND_REJECT_SHUTTING_DOWN], 1, "with its one alert");
    client_close(&late);
    before = metrics.requests_rejected[ND_REJECT_SHUTTING_DOWN];

    static const char post[] = "POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Length: "
                               "2\r\n\r\n[]";
    is_int(client_send(&keep, post, strlen(post), false), 503,
           "request on a kept-alive connection after stop: 503");
    is_str(keep.body, "{\"Status\":503,\"Message\":\"shutting down\"}", "shutting down body");
    ok(has_header(&keep, "Connection: close"), "connection closed after it");
    is_uint(metrics.requests_rejected[ND_REJECT_SHUTTING_DOWN] - before, 1,
            "counted as shutting_down");
    client_close(&keep);

    /* the listening socket is gone: a plain connect() is refused */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&sin, sizeof sin);
    ok(rc != 0 && errno == ECONNREFUSED, "new connections refused");
    close(fd);

    int sv[2];
    char err[ND_ERRLEN];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
        is_int(nd_server_adopt(srv, sv[0], err), ND_EINVAL, "adopt after stop: refused");
        has_str(err, "not accepting", "with a reason");
        ok(fcntl(sv[0], F_GETFD) == -1 && errno == EBADF, "and the fd is closed");
        close(sv[1]);
    }
}

/* A connected socket handed over (one end of a socketpair) is served like an
 * accepted one. */
static void test_adopt(void)
{
    int sv[2];
    char err[ND_ERRLEN];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        ok(0, "socketpair: %s", strerror(errno));
        return;
    }
    is_int(nd_server_adopt(srv, sv[0], err), ND_OK, "adopt one end of a socketpair");
    struct client c;
    memset(&c, 0, sizeof c);
    c.acc = evbuffer_new();
    evutil_make_socket_nonblocking(sv[1]);
    c.bev = bufferevent_socket_new(base, sv[1], BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(c.bev, on_read, NULL, on_event, &c);
    bufferevent_enable(c.bev, EV_READ | EV_WRITE);
    static const char get[] = "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n";
    is_int(client_send(&c, get, strlen(get), false), 200, "adopted: GET /-/healthy 200");
    sub.mode = ND_OK;
    int calls = sub.calls;
    static const char post[] = "POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Length: "
                               "31\r\n\r\n[{\"labels\":{\"alertname\":\"ad\"}}]";
    is_int(client_send(&c, post, strlen(post), false), 200, "adopted: POST alerts 200");
    is_int(sub.calls, calls + 1, "adopted: the alerts were submitted");
    client_close(&c);
}

static void test_bind_errors(void)
{
    char err[ND_ERRLEN];
    struct nd_server_opts o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.submit = submit;
    /* bind a port, then ask for it again */
    struct nd_server *a = nd_server_new(base, &o, err);
    ok(a != NULL, "second server on port 0");
    if (!a)
        return;
    o.port = nd_server_port(a);
    struct nd_server *b = nd_server_new(base, &o, err);
    ok(b == NULL, "same port twice fails");
    has_str(err, "Address already in use", "error names the cause");
    nd_server_free(b);
    nd_server_free(a);
    o.port = 0;
    o.host = "not a host name!";
    ok(nd_server_new(base, &o, err) == NULL, "bad host fails");
    has_str(err, "listen address not a host name!", "error names the address");
    o.host = "127.0.0.1";
    o.submit = NULL;
    ok(nd_server_new(base, &o, err) == NULL, "no submit callback fails");
}

/* ---- registered routes (nd_server_opts.routes) ------------------------- */

static struct nd_server_req *later; /* the request GET /later leaves unanswered */

static void h_echo(void *ud, struct nd_server_req *req)
{
    ND_UNUSED(ud);
    char a[16];
    int prc = nd_server_req_param(req, "a", a, sizeof a);
    size_t blen;
    const char *body = nd_server_req_body(req, &blen);
    char *out =
        nd_xasprintf("%s|%s|%s|%s|%d|%zu:%s", nd_server_req_method(req), nd_server_req_path(req),
                     nd_server_req_query(req), prc != ND_EINVAL ? a : "-", prc, blen, body);
    nd_server_req_reply(req, 200, "text/plain", out, strlen(out));
    free(out);
}

static void h_later(void *ud, struct nd_server_req *req)
{
    ND_UNUSED(ud);
    later = req;
}

static const struct nd_server_route test_routes_tab[] = {
    {"GET", "/echo", h_echo, NULL},
    {"POST", "/echo", h_echo, NULL},
    {"DELETE", "/items/", h_echo, NULL},
    {"GET", "/later", h_later, NULL},
};

/* Nothing arrives on fd while the server runs a few turns. */
static bool raw_silent(int fd)
{
    for (int i = 0; i < 20; i++) {
        pump(2);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 5) > 0)
            return false;
    }
    return true;
}

static void test_custom_routes(void)
{
    struct client *c = request("GET", "/echo?b=2&a=x%20y+z", NULL, NULL);
    is_int(c->status, 200, "registered GET route: 200");
    is_str(c->body, "GET|/echo|b=2&a=x%20y+z|x y z|0|0:", "method, path, query, decoded param");
    ok(has_header(c, "Content-Type: text/plain"), "the handler's content type");
    c = request("POST", "/echo?a=1", "hello", NULL);
    is_str(c->body, "POST|/echo|a=1|1|0|5:hello", "POST route gets the whole body");
    c = request("GET", "/echo?a=0123456789abcdefXYZ", NULL, NULL);
    is_str(c->body, "GET|/echo|a=0123456789abcdefXYZ|0123456789abcde|-4|0:",
           "a parameter longer than the buffer: ND_ETOOBIG and a truncated prefix");
    c = request("GET", "/echo", NULL, NULL);
    is_str(c->body, "GET|/echo||-|-5|0:", "absent parameter: ND_EINVAL, empty query");
    c = request("HEAD", "/echo", NULL, NULL);
    ok(c->status == 200 && c->body[0] == '\0', "HEAD on a GET route: 200 without a body");
    c = request("PUT", "/echo", "x", NULL);
    is_int(c->status, 405, "known path, other method: 405");
    ok(has_header(c, "Allow: GET, HEAD, POST"), "Allow lists the route's methods");
    c = request("DELETE", "/items/42", NULL, NULL);
    is_str(c->body, "DELETE|/items/42||-|-5|0:", "prefix route matches a path under it");
    c = request("DELETE", "/items", NULL, NULL);
    is_int(c->status, 404, "the prefix without its slash is another path: 404");
    c = request("GET", "/-/healthy", NULL, NULL);
    is_int(c->status, 200, "built-in routes still answer");
    request_done();

    /* A deferred answer holds the requests pipelined behind it. */
    struct client rc;
    raw_client(&rc);
    int fd = raw_open();
    static const char three[] = "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /echo?a=after HTTP/1.1\r\nHost: x\r\n\r\n";
    later = NULL;
    raw_send(fd, three, sizeof three - 1);
    ok(raw_silent(fd), "nothing is answered while the first request is pending");
    ok(later != NULL && !nd_server_req_gone(later), "the handler holds the request");
    if (later)
        nd_server_req_reply_msg(later, 202, "done later");
    later = NULL;
    raw_wait(fd, &rc, 3);
    is_int(rc.nresp, 3, "three answers once the first is given");
    ok(rc.nresp == 3 && rc.statuses[0] == 202 && rc.statuses[1] == 200 && rc.statuses[2] == 200,
       "in request order");
    ok(strstr(rc.all, "{\"Status\":202,\"Message\":\"done later\"}\n") == rc.all,
       "the deferred envelope first");
    ok(strstr(rc.all, "GET|/echo|a=after|after|0|0:") != NULL, "the pipelined request parsed");
    ok(!rc.closed, "connection kept open");
    close(fd);
    evbuffer_free(rc.acc);

    /* Deferred answer on a Connection: close request. */
    raw_client(&rc);
    fd = raw_open();
    static const char closing[] = "GET /later HTTP/1.1\r\nConnection: close\r\n\r\n";
    raw_send(fd, closing, sizeof closing - 1);
    ok(raw_silent(fd), "Connection: close request pending: no answer, no close");
    if (later)
        nd_server_req_reply_msg(later, 200, "late");
    later = NULL;
    ok(raw_closed(fd, &rc) && rc.nresp == 1 && rc.statuses[0] == 200, "answered, then closed");
    close(fd);
    evbuffer_free(rc.acc);

    /* The deferred 200 of an alerts request (nd_server_defer). */
    raw_client(&rc);
    fd = raw_open();
    char *p = post("");
    sub.mode = SUB_DEFER;
    sub.deferred = NULL;
    raw_send(fd, p, strlen(p));
    free(p);
    ok(raw_silent(fd), "deferred alerts request: no answer yet");
    sub.mode = ND_OK;
    ok(sub.deferred != NULL, "submit deferred its answer");
    if (sub.deferred)
        nd_server_req_reply_msg(sub.deferred, 200, "Notification request accepted");
    sub.deferred = NULL;
    raw_wait(fd, &rc, 1);
    ok(rc.nresp == 1 && strcmp(rc.body, accepted) == 0, "then the 200 envelope");
    close(fd);
    evbuffer_free(rc.acc);
}

/* A server freed with a request pending: the handler's reference stays
 * valid, reports the client gone, and answering only releases it. */
static void test_custom_orphan(void)
{
    char err[ND_ERRLEN] = "";
    struct nd_server_opts o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.submit = submit;
    o.routes = test_routes_tab;
    o.nroutes = ND_ARRAY_LEN(test_routes_tab);
    struct nd_server *s2 = nd_server_new(base, &o, err);
    ok(s2 != NULL, "second server (%s)", err);
    if (!s2)
        return;
    raw_port = nd_server_port(s2);
    int fd = raw_open();
    raw_port = 0;
    static const char req[] = "GET /later HTTP/1.1\r\n\r\n";
    later = NULL;
    raw_send(fd, req, sizeof req - 1);
    for (int i = 0; i < 50 && !later; i++) {
        pump(2);
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        poll(&pfd, 1, 2);
    }
    ok(later != NULL, "request pending");
    nd_server_free(s2);
    ok(later && nd_server_req_gone(later), "after the server is freed: gone");
    if (later)
        nd_server_req_reply_msg(later, 200, "nobody listens");
    later = NULL;
    close(fd);

    o.nroutes = ND_SERVER_MAX_ROUTES + 1;
    ok(nd_server_new(base, &o, err) == NULL && strstr(err, "routes"), "too many routes: %s", err);
    struct nd_server_route bad = {"GET", "no-slash", h_echo, NULL};
    o.routes = &bad;
    o.nroutes = 1;
    ok(nd_server_new(base, &o, err) == NULL, "a route path must start with '/': %s", err);
}

int main(void)
{
    base = event_base_new();
    char err[ND_ERRLEN] = "";
    struct nd_server_opts o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    o.port = 0;
    o.max_body_size = 2 << 20;
    o.retry_after_s = 7;
    o.ingest.cluster = "test-cluster";
    o.submit = submit;
    o.render = render;
    o.metrics = &metrics;
    o.routes = test_routes_tab;
    o.nroutes = ND_ARRAY_LEN(test_routes_tab);
    srv = nd_server_new(base, &o, err);
    ok(srv != NULL, "server starts (%s)", err);
    if (!srv)
        return done_testing();
    ok(nd_server_port(srv) != 0, "bound port %u", nd_server_port(srv));

    test_alerts();
    test_bad_bodies();
    test_too_large();
    test_submit_failures();
    test_routes();
    test_metrics_endpoint();
    test_http();
    test_custom_routes();
    test_custom_orphan();
    test_emfile();
    test_adopt();
    test_stop_accepting();
    test_bind_errors();
    test_timeouts();
    test_connection_limit();

    request_done();
    nd_server_free(srv);
    for (size_t i = 0; i < sub.nheld; i++)
        nd_alert_unref(sub.held[i]);
    event_base_free(base);
    return done_testing();
}
