/* standin.c - a fake notifyd for testing the benchmark scripts, never for
 * figures. It speaks the contract run.sh relies on and nothing more:
 *
 *   bench-standin -c FILE
 *     [server] listen = HOST:PORT (0 = a free port; logged as
 *              "msg=listening addr=HOST:PORT" on stderr)
 *     [queue]  max_alerts = N      (503 past it)
 *     [batch]  max_wait = Ns|Nms|Nm|Nh  (held alerts are dropped after it,
 *              which stands in for delivery)
 *   POST /api/v2/alerts  counts alerts as occurrences of "startsAt", keeps a
 *                        copy of the body (so RSS grows with held alerts), 200
 *   GET /metrics         notifyd_queue_alerts, notifyd_queue_bytes,
 *                        notifyd_alerts_accepted_total,
 *                        notifyd_notifications_delivered_total{receiver="standin"}
 *
 * STANDIN_LOSE_EVERY=N in the environment silently drops every Nth body instead
 * of delivering it (counted as delivered): bench/selftest.sh checks that run.sh
 * notices the loss.
 *
 * Exits on SIGINT/SIGTERM and after one hour.
 */
/* memmem: without it declared, its pointer result would be cut to an int */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#define NSLOTS 8

struct held {
    struct held *next;
    double at;
    double retry_at;
    int inflight;
    int done;
    uint64_t alerts;
    size_t len;
    char *body;
};

struct standin {
    struct event_base *base;
    char host[64];
    int port;
    uint64_t max_alerts;
    double max_wait_s;
    struct held *head, *tail;
    uint64_t held_alerts, held_bytes, accepted, delivered;
    char rhost[64];
    int rport;
    char rpath[256];
    struct event *kick;
    unsigned long lose_every, sends;
    struct slot {
        struct standin *s;
        struct evhttp_connection *conn;
        struct held *h;
    } slots[NSLOTS];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static double parse_duration(const char *v)
{
    char *end;
    double x = strtod(v, &end);
    if (strcmp(end, "ms") == 0)
        return x / 1000;
    if (strcmp(end, "m") == 0)
        return x * 60;
    if (strcmp(end, "h") == 0)
        return x * 3600;
    return x;
}

static int load_config(struct standin *s, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char line[1024], section[128] = "";
    while (fgets(line, sizeof line, f)) {
        char *l = trim(line);
        if (*l == '[') {
            snprintf(section, sizeof section, "%s", l);
            continue;
        }
        char *eq = strchr(l, '=');
        if (!eq || *l == '#' || *l == ';')
            continue;
        *eq = '\0';
        char *key = trim(l), *val = trim(eq + 1);
        if (strcmp(section, "[server]") == 0 && strcmp(key, "listen") == 0) {
            char *colon = strrchr(val, ':');
            if (!colon)
                continue;
            *colon = '\0';
            snprintf(s->host, sizeof s->host, "%s", val);
            s->port = atoi(colon + 1);
        } else if (strcmp(section, "[queue]") == 0 && strcmp(key, "max_alerts") == 0) {
            s->max_alerts = strtoull(val, NULL, 10);
        } else if (strcmp(section, "[batch]") == 0 && strcmp(key, "max_wait") == 0) {
            s->max_wait_s = parse_duration(val);
        } else if (strncmp(section, "[receiver.", 10) == 0 && strcmp(key, "url") == 0 &&
                   s->rport == 0 && strncmp(val, "http://", 7) == 0) {
            char *hp = val + 7, *slash = strchr(hp, '/'), *colon;
            snprintf(s->rpath, sizeof s->rpath, "%s", slash ? slash : "/");
            if (slash)
                *slash = '\0';
            colon = strrchr(hp, ':');
            if (!colon)
                continue;
            *colon = '\0';
            snprintf(s->rhost, sizeof s->rhost, "%s", hp);
            s->rport = atoi(colon + 1);
        }
    }
    fclose(f);
    return 0;
}

static uint64_t count_alerts(const char *body, size_t len)
{
    static const char needle[] = "\"startsAt\"";
    uint64_t n = 0;
    const char *p = body, *end = body + len;
    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), needle, sizeof needle - 1);
        if (!hit)
            break;
        n++;
        p = hit + sizeof needle - 1;
    }
    return n;
}

static void on_alerts(struct standin *s, struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char *body = malloc(len + 1);
    if (!body)
        abort();
    evbuffer_remove(in, body, len);
    body[len] = '\0';
    uint64_t n = count_alerts(body, len);
    if (n == 0) {
        free(body);
        evhttp_send_reply(req, 400, "Bad Request", NULL);
        return;
    }
    if (s->held_alerts + n > s->max_alerts) {
        free(body);
        evhttp_send_reply(req, 503, "Service Unavailable", NULL);
        return;
    }
    struct held *h = calloc(1, sizeof *h);
    if (!h)
        abort();
    *h = (struct held){.at = now_s(), .alerts = n, .len = len, .body = body};
    if (s->tail)
        s->tail->next = h;
    else
        s->head = h;
    s->tail = h;
    s->held_alerts += n;
    s->held_bytes += len;
    s->accepted += n;
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct standin *s = arg;
    const char *uri = evhttp_request_get_uri(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd == EVHTTP_REQ_POST && strcmp(uri, "/api/v2/alerts") == 0) {
        on_alerts(s, req);
        return;
    }
    if (cmd == EVHTTP_REQ_GET && strcmp(uri, "/metrics") == 0) {
        struct evbuffer *out = evhttp_request_get_output_buffer(req);
        evbuffer_add_printf(out,
                            "notifyd_queue_alerts %" PRIu64 "\nnotifyd_queue_bytes %" PRIu64
                            "\nnotifyd_alerts_accepted_total %" PRIu64
                            "\nnotifyd_notifications_delivered_total{receiver=\"standin\"} %" PRIu64
                            "\n",
                            s->held_alerts, s->held_bytes, s->accepted, s->delivered);
        evhttp_send_reply(req, 200, "OK", out);
        return;
    }
    evhttp_send_reply(req, 404, "Not Found", NULL);
}

static void on_sent(struct evhttp_request *req, void *arg)
{
    struct slot *sl = arg;
    struct held *h = sl->h;
    sl->h = NULL;
    h->inflight = 0;
    if (req && evhttp_request_get_response_code(req) == 200) {
        h->done = 1;
        sl->s->held_alerts -= h->alerts;
        sl->s->held_bytes -= h->len;
        sl->s->delivered++;
    } else {
        h->retry_at = now_s() + 0.1;
    }
    /* the next body goes out now, not at the next tick; not from here, where
     * libevent still holds this request */
    event_active(sl->s->kick, 0, 0);
}

static void send_held(struct standin *s, struct slot *sl, struct held *h)
{
    if (s->lose_every && ++s->sends % s->lose_every == 0) {
        h->done = 1;
        s->held_alerts -= h->alerts;
        s->held_bytes -= h->len;
        s->delivered++;
        return;
    }
    if (!sl->conn) {
        sl->conn = evhttp_connection_base_new(s->base, NULL, s->rhost, (ev_uint16_t)s->rport);
        if (!sl->conn)
            abort();
        evhttp_connection_set_timeout(sl->conn, 5);
    }
    struct evhttp_request *req = evhttp_request_new(on_sent, sl);
    if (!req)
        abort();
    struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
    evhttp_add_header(hdr, "Host", s->rhost);
    evhttp_add_header(hdr, "Content-Type", "application/json");
    evbuffer_add(evhttp_request_get_output_buffer(req), h->body, h->len);
    sl->h = h;
    h->inflight = 1;
    if (evhttp_make_request(sl->conn, req, EVHTTP_REQ_POST, s->rpath) != 0) {
        sl->h = NULL;
        h->inflight = 0;
        h->retry_at = now_s() + 0.1;
    }
}

/* Completed bodies are only marked in on_sent (its caller still holds the
 * request); they are unlinked and freed here. */
static void deliver(struct standin *s)
{
    double now = now_s(), limit = now - s->max_wait_s;
    struct held **pp = &s->head, *prev = NULL;
    int nfree = 0;
    for (int i = 0; i < NSLOTS; i++)
        nfree += !s->slots[i].h;
    while (*pp) {
        struct held *h = *pp;
        if (h->done) {
            *pp = h->next;
            if (s->tail == h)
                s->tail = prev;
            free(h->body);
            free(h);
            continue;
        }
        if (h->at > limit || nfree == 0)
            break;
        if (!h->inflight && h->retry_at <= now) {
            for (int i = 0; i < NSLOTS; i++) {
                if (!s->slots[i].h) {
                    send_held(s, &s->slots[i], h);
                    nfree -= h->inflight;
                    break;
                }
            }
        }
        prev = h;
        pp = &h->next;
    }
}

/* Without a receiver url, dropping held bodies after max_wait stands in for
 * delivery. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct standin *s = arg;
    if (s->rport > 0 && s->max_wait_s >= 0) {
        deliver(s);
        return;
    }
    double limit = now_s() - s->max_wait_s;
    while (s->head && s->head->at <= limit) {
        struct held *h = s->head;
        s->head = h->next;
        if (!s->head)
            s->tail = NULL;
        s->held_alerts -= h->alerts;
        s->held_bytes -= h->len;
        s->delivered++;
        free(h->body);
        free(h);
    }
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    event_base_loopbreak(((struct standin *)arg)->base);
}

int main(int argc, char **argv)
{
    struct standin s = {.max_alerts = UINT64_MAX, .max_wait_s = 1};
    snprintf(s.host, sizeof s.host, "127.0.0.1");
    if (argc != 3 || strcmp(argv[1], "-c") != 0) {
        fprintf(stderr, "usage: bench-standin -c FILE\n");
        return 2;
    }
    if (load_config(&s, argv[2]) != 0)
        return 1;
    if (getenv("STANDIN_LOSE_EVERY"))
        s.lose_every = strtoul(getenv("STANDIN_LOSE_EVERY"), NULL, 10);

    signal(SIGPIPE, SIG_IGN);
    s.base = event_base_new();
    struct evhttp *http = s.base ? evhttp_new(s.base) : NULL;
    if (!http)
        return 1;
    evhttp_set_max_body_size(http, 64 * 1024 * 1024);
    evhttp_set_gencb(http, on_request, &s);
    struct evhttp_bound_socket *b = evhttp_bind_socket_with_handle(http, s.host, s.port);
    if (!b) {
        fprintf(stderr, "level=error msg=\"cannot listen\" addr=%s:%d\n", s.host, s.port);
        return 1;
    }
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&sa, &len);
    fprintf(stderr, "level=info msg=listening addr=%s:%d\n", s.host, ntohs(sa.sin_port));

    struct event *tick = event_new(s.base, -1, EV_PERSIST, on_tick, &s);
    struct event *sigint = evsignal_new(s.base, SIGINT, on_stop, &s);
    struct event *sigterm = evsignal_new(s.base, SIGTERM, on_stop, &s);
    struct event *deadline = evtimer_new(s.base, on_stop, &s);
    struct timeval tick_tv = {0, 20000}, hour = {3600, 0};
    for (int i = 0; i < NSLOTS; i++)
        s.slots[i].s = &s;
    s.kick = event_new(s.base, -1, 0, on_tick, &s);
    if (!s.kick)
        return 1;
    if (!tick || !sigint || !sigterm || !deadline || event_add(tick, &tick_tv) != 0 ||
        evsignal_add(sigint, NULL) != 0 || evsignal_add(sigterm, NULL) != 0 ||
        evtimer_add(deadline, &hour) != 0)
        return 1;
    event_base_dispatch(s.base);

    for (int i = 0; i < NSLOTS; i++)
        if (s.slots[i].conn)
            evhttp_connection_free(s.slots[i].conn);
    s.max_wait_s = -1;
    on_tick(-1, 0, &s);
    event_free(tick);
    event_free(s.kick);
    event_free(sigint);
    event_free(sigterm);
    event_free(deadline);
    evhttp_free(http);
    event_base_free(s.base);
    return 0;
}
