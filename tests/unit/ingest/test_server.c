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
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "notifyd/alert.h"
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
} sub;

static int submit(void *ud, struct nd_alert **alerts, size_t n, char *err)
{
    ND_UNUSED(ud);
    sub.calls++;
    sub.last_n = n;
    if (sub.mode == ND_EFULL)
        return ND_EFULL;
    if (sub.mode == ND_EFULL - 100)
        return nd_seterr(err, ND_EFULL, "queue full: 5 alerts held");
    if (sub.mode != ND_OK)
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
    return true;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct client *c = arg;
    evbuffer_add_buffer(c->acc, bufferevent_get_input(bev));
    if (take_response(c))
        event_base_loopbreak(base);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct client *c = arg;
    ND_UNUSED(bev);
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        evbuffer_add_buffer(c->acc, bufferevent_get_input(bev));
        take_response(c);
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

/* With the fd table full, accept() fails: the server must pause accepting
 * (not spin on a readable listener) and serve again once fds are free. */
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
    ok(fails >= 1, "accept failed with EMFILE (%zu log lines)", fails);
    /* a spinning listener logs hundreds of thousands of lines per second */
    ok(fails <= 20, "accept paused instead of spinning (%zu log lines in 300 ms)", fails);

    for (int i = 0; i < nf; i++)
        close(fillers[i]);
    setrlimit(RLIMIT_NOFILE, &old);
    is_int(client_send(&keep, get, strlen(get), false), 200,
           "the kept-alive connection is still served");
    struct client *c = request("GET", "/-/healthy", NULL, NULL);
    is_int(c->status, 200, "new connections accepted again after the pause");
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

    uint16_t port = nd_server_port(srv);
    nd_server_stop_accepting(srv);
    nd_server_stop_accepting(srv); /* idempotent */
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
    test_emfile();
    test_stop_accepting();
    test_bind_errors();

    request_done();
    nd_server_free(srv);
    for (size_t i = 0; i < sub.nheld; i++)
        nd_alert_unref(sub.held[i]);
    event_base_free(base);
    return done_testing();
}
