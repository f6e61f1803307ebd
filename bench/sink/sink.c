/* sink.c - the benchmark's delivery target: answers every request 200 with
 * an empty body, as fast as one libevent loop can, and counts what it got.
 *
 *   bench-sink [-p PORT] [-t MAX_SECONDS]   listen on 127.0.0.1:PORT (0 = any
 *                                           free port), print "port=N", serve
 *   bench-sink --free-port                  print a free loopback port, exit
 *   bench-sink --hold [-t MAX_SECONDS]      listen on a free loopback port,
 *                                           print "port=N", accept nothing
 *
 * --hold is a receiver that takes connections and never answers: the kernel
 * completes the handshakes (up to the listen backlog) and keeps what is sent,
 * so a client's request stays in flight until its own timeout.
 *
 * GET /__sink/count answers "requests N\nbytes N\nalerts N\ndistinct N\n
 * duplicates N\nlast_ms N\npaused N\n" (control requests excluded) so a
 * benchmark can check that notifications really arrived, once each. Alerts are
 * counted as occurrences of "fingerprint":"VALUE" in the body (notifyd's and
 * Alertmanager's webhook payloads carry one per alert); VALUE is remembered, so
 * a second delivery of the same alert counts as a duplicate. last_ms is the
 * wall clock (ms since the epoch) of the last request that carried an alert.
 * GET /__sink/pause makes every other request get 503 (not counted) until
 * GET /__sink/resume; GET /__sink/reset zeroes every counter.
 * The sink exits on SIGINT/SIGTERM, and after MAX_SECONDS (default 3600) so a
 * forgotten one cannot outlive a benchmark run by much.
 */
/* memmem: without it declared, its pointer result would be cut to an int */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

/* Open-addressing set of 64-bit hashes of the fingerprint values; 0 marks an
 * empty slot. It stops growing at SET_MAX_SLOTS (1 GiB): past that, alerts are
 * still counted but no longer checked for duplicates (reported as overflow). */
#define SET_MAX_SLOTS (UINT64_C(1) << 27)

struct sink {
    struct event_base *base;
    uint64_t requests;
    uint64_t bytes;
    uint64_t alerts;
    uint64_t distinct;
    uint64_t duplicates;
    uint64_t overflow;
    uint64_t last_ms;
    int paused;
    uint64_t *slots;
    uint64_t nslots;
};

static uint64_t hash_key(const char *p, size_t n)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= UINT64_C(1099511628211);
    }
    return h ? h : 1;
}

static int set_insert(uint64_t *slots, uint64_t nslots, uint64_t h)
{
    uint64_t i = h & (nslots - 1);
    while (slots[i]) {
        if (slots[i] == h)
            return 0;
        i = (i + 1) & (nslots - 1);
    }
    slots[i] = h;
    return 1;
}

static void set_grow(struct sink *s)
{
    uint64_t n = s->nslots ? s->nslots * 2 : 1 << 16;
    uint64_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        abort();
    for (uint64_t i = 0; i < s->nslots; i++)
        if (s->slots[i])
            set_insert(slots, n, s->slots[i]);
    free(s->slots);
    s->slots = slots;
    s->nslots = n;
}

static void record_alert(struct sink *s, const char *key, size_t n)
{
    s->alerts++;
    if (s->distinct * 2 >= s->nslots) {
        if (s->nslots >= SET_MAX_SLOTS) {
            s->overflow++;
            return;
        }
        set_grow(s);
    }
    if (set_insert(s->slots, s->nslots, hash_key(key, n)))
        s->distinct++;
    else
        s->duplicates++;
}

static void count_body(struct sink *s, const char *body, size_t len)
{
    static const char needle[] = "\"fingerprint\":\"";
    const char *p = body, *end = body + len;
    int any = 0;
    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), needle, sizeof needle - 1);
        if (!hit)
            break;
        const char *v = hit + sizeof needle - 1;
        const char *q = memchr(v, '"', (size_t)(end - v));
        if (!q)
            break;
        record_alert(s, v, (size_t)(q - v));
        any = 1;
        p = q + 1;
    }
    if (any) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s->last_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    }
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
        port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct sink *s = arg;
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct evbuffer *out = evhttp_request_get_output_buffer(req);

    if (evhttp_request_get_command(req) == EVHTTP_REQ_GET && uri &&
        strncmp(uri, "/__sink/", 8) == 0) {
        const char *what = uri + 8;
        if (strcmp(what, "pause") == 0) {
            s->paused = 1;
        } else if (strcmp(what, "resume") == 0) {
            s->paused = 0;
        } else if (strcmp(what, "reset") == 0) {
            s->requests = s->bytes = s->alerts = s->distinct = s->duplicates = 0;
            s->overflow = s->last_ms = 0;
            if (s->slots)
                memset(s->slots, 0, s->nslots * sizeof *s->slots);
        } else if (strcmp(what, "count") != 0) {
            evhttp_send_reply(req, 404, "Not Found", NULL);
            return;
        }
        evbuffer_add_printf(out,
                            "requests %" PRIu64 "\nbytes %" PRIu64 "\nalerts %" PRIu64
                            "\ndistinct %" PRIu64 "\nduplicates %" PRIu64 "\noverflow %" PRIu64
                            "\nlast_ms %" PRIu64 "\npaused %d\n",
                            s->requests, s->bytes, s->alerts, s->distinct, s->duplicates,
                            s->overflow, s->last_ms, s->paused);
        evhttp_send_reply(req, 200, "OK", out);
        return;
    }
    if (s->paused) {
        evhttp_send_reply(req, 503, "Paused", NULL);
        return;
    }
    s->requests++;
    size_t len = evbuffer_get_length(in);
    s->bytes += len;
    if (len > 0) {
        const char *body = (const char *)evbuffer_pullup(in, -1);
        if (body)
            count_body(s, body, len);
    }
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct sink *s = arg;
    event_base_loopbreak(s->base);
}

/* --hold: a listening socket that is never accepted from, for max_s seconds
 * (or until a signal ends the process). */
static int hold_port(long max_s)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4096) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("bench-sink: hold");
        return 1;
    }
    printf("port=%d\n", ntohs(sa.sin_port));
    fflush(stdout);
    /* sleep() returns what is left when a handled signal interrupts it */
    for (unsigned left = (unsigned)(max_s > 86400 ? 86400 : max_s); left > 0;)
        left = sleep(left);
    close(fd);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-sink [-p PORT] [-t MAX_SECONDS] | --hold [-t MAX_SECONDS] | "
                    "--free-port\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0;
    long max_s = 3600;
    int hold = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--free-port") == 0) {
            int p = free_port();
            if (p < 0) {
                perror("bench-sink: free port");
                return 1;
            }
            printf("%d\n", p);
            return 0;
        } else if (strcmp(argv[i], "--hold") == 0) {
            hold = 1;
        } else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
            max_s = atol(argv[++i]);
        } else {
            usage();
        }
    }
    if (port < 0 || port > 65535 || max_s <= 0)
        usage();
    if (hold)
        return hold_port(max_s);

    signal(SIGPIPE, SIG_IGN);
    struct sink s = {0};
    s.base = event_base_new();
    struct evhttp *http = s.base ? evhttp_new(s.base) : NULL;
    if (!http) {
        fprintf(stderr, "bench-sink: libevent init failed\n");
        return 1;
    }
    /* Webhook bodies of 100-alert notifications run to ~100 KB; leave room. */
    evhttp_set_max_body_size(http, 64 * 1024 * 1024);
    evhttp_set_gencb(http, on_request, &s);
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", port);
    if (!bound) {
        fprintf(stderr, "bench-sink: bind 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    if (getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &len) != 0) {
        perror("bench-sink: getsockname");
        return 1;
    }
    printf("port=%d\n", ntohs(sa.sin_port));
    fflush(stdout);

    struct event *sigint = evsignal_new(s.base, SIGINT, on_stop, &s);
    struct event *sigterm = evsignal_new(s.base, SIGTERM, on_stop, &s);
    struct event *deadline = evtimer_new(s.base, on_stop, &s);
    struct timeval tv = {.tv_sec = max_s, .tv_usec = 0};
    if (!sigint || !sigterm || !deadline || evsignal_add(sigint, NULL) != 0 ||
        evsignal_add(sigterm, NULL) != 0 || evtimer_add(deadline, &tv) != 0) {
        fprintf(stderr, "bench-sink: event setup failed\n");
        return 1;
    }

    event_base_dispatch(s.base);

    fprintf(stderr,
            "bench-sink: requests=%" PRIu64 " bytes=%" PRIu64 " alerts=%" PRIu64
            " distinct=%" PRIu64 " duplicates=%" PRIu64 "\n",
            s.requests, s.bytes, s.alerts, s.distinct, s.duplicates);
    free(s.slots);
    event_free(sigint);
    event_free(sigterm);
    event_free(deadline);
    evhttp_free(http);
    event_base_free(s.base);
    return 0;
}
