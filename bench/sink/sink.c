/* sink.c - the benchmark's delivery target: answers every request 200 with
 * an empty body, as fast as one libevent loop can, and counts what it got.
 *
 *   bench-sink [-p PORT] [-t MAX_SECONDS]   listen on 127.0.0.1:PORT (0 = any
 *                                           free port), print "port=N", serve
 *   bench-sink --free-port                  print a free loopback port, exit
 *
 * GET /__sink/count answers "requests N\nbytes N\n" (the count request itself
 * excluded) so a benchmark can check that notifications really arrived. The
 * sink exits on SIGINT/SIGTERM, and after MAX_SECONDS (default 3600) so a
 * forgotten one cannot outlive a benchmark run by much.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

struct sink {
    struct event_base *base;
    uint64_t requests;
    uint64_t bytes;
};

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
        strcmp(uri, "/__sink/count") == 0) {
        evbuffer_add_printf(out, "requests %" PRIu64 "\nbytes %" PRIu64 "\n", s->requests,
                            s->bytes);
        evhttp_send_reply(req, 200, "OK", out);
        return;
    }
    s->requests++;
    s->bytes += evbuffer_get_length(in);
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct sink *s = arg;
    event_base_loopbreak(s->base);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-sink [-p PORT] [-t MAX_SECONDS] | --free-port\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0;
    long max_s = 3600;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--free-port") == 0) {
            int p = free_port();
            if (p < 0) {
                perror("bench-sink: free port");
                return 1;
            }
            printf("%d\n", p);
            return 0;
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

    fprintf(stderr, "bench-sink: requests=%" PRIu64 " bytes=%" PRIu64 "\n", s.requests, s.bytes);
    event_free(sigint);
    event_free(sigterm);
    event_free(deadline);
    evhttp_free(http);
    event_base_free(s.base);
    return 0;
}
