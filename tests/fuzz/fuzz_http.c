/* fuzz_http.c - the inbound HTTP path (src/ingest/server.c with the JSON
 * parser behind it): each input is the byte stream of one client
 * connection, written into one end of a socketpair whose other end the real
 * server serves (nd_server_adopt), on a real event loop. The input is sent,
 * then the write side is shut (EOF), and the loop runs until the server has
 * closed the connection, within a bound of loop turns.
 *
 * The submit callback accepts the alerts of one request and refuses the next
 * with ND_EFULL (503), so both answers are reached. Checks: every answer
 * starts with an HTTP/1.1 status line, and the connection is closed by the
 * server within the bound (a request cannot keep it open past EOF).
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "fuzz.h"
#include "notifyd/alert.h"
#include "notifyd/log.h"
#include "notifyd/metrics.h"
#include "notifyd/server.h"
#include "notifyd/util.h"

/* Loop turns per input. A turn with nothing to do returns at once; the
 * server needs a handful per request (read, answer, linger until EOF). */
#define MAX_TURNS 2000

static struct event_base *base;
static struct nd_server *srv;
static struct nd_metrics metrics;
static unsigned submits;

static int submit(void *ud, struct nd_alert **alerts, size_t n, char *err)
{
    (void)ud;
    if (submits++ % 2)
        return nd_seterr(err, ND_EFULL, "queue full (fuzz)");
    for (size_t i = 0; i < n; i++)
        nd_alert_unref(alerts[i]);
    return ND_OK;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[ND_ERRLEN];
    nd_log_set_level(ND_LOG_ERROR); /* the 503 summaries would only be noise */
    base = event_base_new();
    FUZZ_CHECK(base != NULL, "event_base_new");
    struct nd_server_opts o = {
        .host = "127.0.0.1",
        .port = 0,
        .max_body_size = 64u << 10,
        .max_headers_size = 4u << 10,
        .timeout_s = 5,
        .ingest = {.cluster = "fuzz", .max_depth = 32},
        .submit = submit,
        .metrics = &metrics,
    };
    srv = nd_server_new(base, &o, err);
    FUZZ_CHECK(srv != NULL, "nd_server_new: %s", err);
    return 0;
}

void fuzz_cleanup(void)
{
    nd_server_free(srv);
    event_base_free(base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int sv[2];
    char err[ND_ERRLEN];
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s", strerror(errno));
    FUZZ_CHECK(nd_server_adopt(srv, sv[0], err) == ND_OK, "adopt: %s", err);
    int cfd = sv[1];
    FUZZ_CHECK(fcntl(cfd, F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");

    size_t sent = 0, got = 0;
    char head[16];
    size_t nhead = 0;
    bool shut = false, eof = false;
    for (int turn = 0; turn < MAX_TURNS && !eof; turn++) {
        if (sent < size) {
            ssize_t n = send(cfd, data + sent, size - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                sent = size; /* the server closed: the rest cannot be sent */
        }
        if (sent == size && !shut) {
            shutdown(cfd, SHUT_WR);
            shut = true;
        }
        event_base_loop(base, EVLOOP_NONBLOCK);
        char buf[4096];
        for (;;) {
            ssize_t n = recv(cfd, buf, sizeof buf, 0);
            if (n > 0) {
                for (ssize_t i = 0; i < n && nhead < sizeof head; i++)
                    head[nhead++] = buf[i];
                got += (size_t)n;
                continue;
            }
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                eof = true;
            break;
        }
    }
    FUZZ_CHECK(eof,
               "the server kept the connection open %d loop turns after EOF (%zu of %zu "
               "bytes sent, %zu received)",
               MAX_TURNS, sent, size, got);
    if (got)
        FUZZ_CHECK(nhead >= 9 && memcmp(head, "HTTP/1.1 ", 9) == 0,
                   "an answer that is not HTTP/1.1: %.*s", (int)nhead, head);
    close(cfd);
    return 0;
}
