/* curlev.c - libcurl's multi_socket API driven by libevent.
 *
 * Rules this file keeps, from libcurl's man pages (https://curl.se/libcurl/c/):
 *   - the timer callback only arms a libevent timer; 0 ms is a 0 s timer,
 *     never a direct call into curl (CURLMOPT_TIMERFUNCTION(3): do not
 *     call libcurl from the callback when the timeout is zero; a new
 *     expire time replaces the former one, which re-adding a pending
 *     libevent timer does);
 *   - curl_multi_info_read is drained after every curl_multi_socket_action
 *     (curl_multi_socket_action(3): the running count does not say which
 *     transfer completed, and completions surface on any socket);
 *   - easy handles are removed and cleaned up only in the drain or from
 *     libevent callbacks, never inside a curl callback
 *     (curl_multi_remove_handle(3); from a callback it fails with
 *     CURLM_RECURSIVE_API_CALL, libcurl-errors(3));
 *   - the connection pool is the multi's: no connection caps inside curl,
 *     so that requests never wait inside curl and CURLOPT_TIMEOUT_MS
 *     measures only the attempt (CURLMOPT_MAX_HOST_CONNECTIONS(3): the
 *     timeout counts the time queued); the engine meters concurrency.
 */
#include "notify_int.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "notifyd/parse.h"
#include "notifyd/util.h"

/* Idle easy handles kept for reuse: creating one costs a large allocation
 * and curl's per-handle setup on every request. */
#define POOL_MAX 256

struct nd_curlev {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    int running;
    CURL *pool[POOL_MAX]; /* detached handles only: never one still in the multi */
    size_t npool;
    unsigned long created; /* curl_easy_init calls, for the tests */
};

/* Takes back a handle that is no longer in the multi. */
static void pool_put(struct nd_curlev *cv, CURL *e)
{
    if (cv->npool < POOL_MAX)
        cv->pool[cv->npool++] = e;
    else
        curl_easy_cleanup(e);
}

static CURL *pool_get(struct nd_curlev *cv)
{
    CURL *e;

    if (cv->npool > 0) {
        /* reset drops every option and the private pointer; the
         * connection pool lives in the multi, so nothing is lost. */
        e = cv->pool[--cv->npool];
        curl_easy_reset(e);
        return e;
    }
    e = curl_easy_init();
    if (e)
        cv->created++;
    return e;
}

struct sock {
    struct event *ev;
};

static void drain(struct nd_curlev *cv);

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
    /* arg is the curlev, not the struct sock: socket_action may free it. */
    struct nd_curlev *cv = arg;
    int fl = 0;

    if (what & EV_READ)
        fl |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        fl |= CURL_CSELECT_OUT;
    curl_multi_socket_action(cv->multi, fd, fl, &cv->running);
    drain(cv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct nd_curlev *cv = arg;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    curl_multi_socket_action(cv->multi, CURL_SOCKET_TIMEOUT, 0, &cv->running);
    drain(cv);
}

static int cb_timer(CURLM *m, long ms, void *ud)
{
    struct nd_curlev *cv = ud;
    struct timeval tv;

    ND_UNUSED(m);
    if (ms < 0) {
        evtimer_del(cv->timer);
        return 0;
    }
    /* Re-adding a pending timer replaces it, which is what curl asks for. */
    tv = nd_ns_to_timeval(ms > INT64_MAX / ND_NS_PER_MS ? INT64_MAX : (int64_t)ms * ND_NS_PER_MS);
    return evtimer_add(cv->timer, &tv) == 0 ? 0 : -1;
}

static int cb_sock(CURL *e, curl_socket_t s, int what, void *ud, void *sp)
{
    struct nd_curlev *cv = ud;
    struct sock *so = sp;
    short kind;

    ND_UNUSED(e);
    if (what == CURL_POLL_REMOVE) {
        /* REMOVE may come for a socket we never saw: then sp is NULL. */
        if (so) {
            event_free(so->ev);
            free(so);
            curl_multi_assign(cv->multi, s, NULL);
        }
        return 0;
    }
    kind = EV_PERSIST;
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    if (!so) {
        so = nd_xcalloc(1, sizeof(*so));
        curl_multi_assign(cv->multi, s, so);
    } else {
        event_free(so->ev);
    }
    so->ev = event_new(cv->base, s, kind, on_sock, cv);
    if (!so->ev)
        return -1;
    return event_add(so->ev, NULL) == 0 ? 0 : -1;
}

static void drain(struct nd_curlev *cv)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(cv->multi, &left))) {
        CURL *easy;
        CURLcode rc;
        char *priv = NULL;
        struct nd_xfer *x;
        long status = 0;
        struct nd_response rsp;

        if (m->msg != CURLMSG_DONE)
            continue;
        /* m dies with remove_handle: copy first. */
        easy = m->easy_handle;
        rc = m->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        x = (struct nd_xfer *)priv;
        curl_multi_remove_handle(cv->multi, easy);
        pool_put(cv, easy);
        x->easy = NULL;
        x->added = false;

        memset(&rsp, 0, sizeof(rsp));
        rsp.curl_code = (int)rc;
        rsp.curl_error = rc == CURLE_OK ? "" : x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
        rsp.status = rc == CURLE_OK ? status : 0;
        rsp.reply_code = status;
        rsp.body = &x->rsp_body;
        rsp.headers = &x->rsp_headers;
        rsp.now_wall_ns = nd_now_wall_ns();
        /* The callback may free x: nothing touches it afterwards. */
        x->done(x, &rsp);
    }
}

struct nd_curlev *nd_curlev_new(struct event_base *base, char *err)
{
    struct nd_curlev *cv;

    /* libcurl's global state is owned here and nowhere else: one init per
     * curlev, matched by the cleanup in nd_curlev_free. libcurl counts the
     * calls and frees its state at the last cleanup (curl_global_init(3));
     * the init is not thread-safe in every libcurl, and this process has
     * no threads. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        nd_seterr(err, ND_ERR, "curl_global_init failed");
        return NULL;
    }
    cv = nd_xcalloc(1, sizeof(*cv));
    cv->base = base;
    cv->multi = curl_multi_init();
    cv->timer = evtimer_new(base, on_timer, cv);
    if (!cv->multi || !cv->timer) {
        nd_seterr(err, ND_ERR, "cannot create the curl multi handle or its timer");
        nd_curlev_free(cv);
        return NULL;
    }
    curl_multi_setopt(cv->multi, CURLMOPT_SOCKETFUNCTION, cb_sock);
    curl_multi_setopt(cv->multi, CURLMOPT_SOCKETDATA, cv);
    curl_multi_setopt(cv->multi, CURLMOPT_TIMERFUNCTION, cb_timer);
    curl_multi_setopt(cv->multi, CURLMOPT_TIMERDATA, cv);
    return cv;
}

void nd_curlev_set_maxconnects(struct nd_curlev *cv, long n)
{
    /* curl's default pool is 4 x the handles attached at the moment a
     * connection is returned (CURLMOPT_MAXCONNECTS(3)); handles come and
     * go here, so that pool would shrink to a few and many requests would
     * pay for a new connection (docs/delivery.md has the measurement).
     * Keep one idle connection per slot instead. */
    curl_multi_setopt(cv->multi, CURLMOPT_MAXCONNECTS, n);
}

void nd_curlev_free(struct nd_curlev *cv)
{
    if (!cv)
        return;
    /* curl_multi_cleanup closes pooled connections and sends REMOVE for
     * their sockets, so the timer must still exist. */
    while (cv->npool > 0)
        curl_easy_cleanup(cv->pool[--cv->npool]);
    if (cv->multi)
        curl_multi_cleanup(cv->multi);
    if (cv->timer)
        event_free(cv->timer);
    free(cv);
    curl_global_cleanup();
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct nd_xfer *x = ud;
    size_t n = size * nmemb;
    size_t room = x->rsp_body.limit - x->rsp_body.len;

    /* Keep a prefix, read and drop the rest: the body is only for logs and
     * for classify(), and aborting would waste the connection. */
    nd_buf_add(&x->rsp_body, p, n < room ? n : room);
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct nd_xfer *x = ud;
    size_t n = size * nmemb;

    /* A new status line (100 Continue, redirects) starts a new block. */
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
        nd_buf_reset(&x->rsp_headers);
    nd_buf_add(&x->rsp_headers, p, n); /* past the limit: dropped */
    return n;
}

unsigned long nd_curlev_handles_created(const struct nd_curlev *cv)
{
    return cv->created;
}

size_t nd_curlev_handles_idle(const struct nd_curlev *cv)
{
    return cv->npool;
}

int nd_xfer_setup(struct nd_curlev *cv, struct nd_xfer *x, int64_t timeout_ns, char *err)
{
    CURL *e;
    long tmo_ms;
    const char *method = x->req.method;

    nd_buf_init(&x->rsp_body, ND_RESPONSE_BODY_MAX);
    nd_buf_init(&x->rsp_headers, ND_RESPONSE_HEADERS_MAX);
    x->errbuf[0] = '\0';
    x->added = false;
    x->cv = cv;
    x->easy = e = pool_get(cv);
    if (!e) {
        nd_buf_deinit(&x->rsp_body);
        nd_buf_deinit(&x->rsp_headers);
        return nd_seterr(err, ND_ERR, "curl_easy_init failed");
    }
    tmo_ms = (long)(timeout_ns / ND_NS_PER_MS);
    if (tmo_ms <= 0)
        tmo_ms = 1;
    curl_easy_setopt(e, CURLOPT_URL, x->req.url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, tmo_ms);
    /* SMTP: curl waits for the reply to QUIT without returning to the loop
     * and outside the transfer's timeout, for up to 120 s by default; bound
     * it by the attempt's timeout (whole seconds, at most what curl takes).
     * HTTP does not use it. */
    curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT,
                     tmo_ms / 1000 < INT_MAX / 1000 ? (tmo_ms + 999) / 1000
                                                    : (long)(INT_MAX / 1000));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    /* No CURLOPT_PIPEWAIT: it makes a new transfer wait on a connection
     * whose protocol is not known yet, so one hanging request would stall
     * every other receiver on the same host:port (seen in test_free_busy).
     * Known HTTP/2 connections are still multiplexed without it. */
    /* Only http(s); a type that speaks smtp widens it in its setopt(). */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (x->req.headers)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->req.headers);
    if (!method)
        method = x->req.body.len > 0 ? "POST" : "GET";
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        /* POSTFIELDS is not copied: the body lives in x until done. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.body.len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, nd_buf_cstr(&x->req.body));
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    return ND_OK;
}

int nd_xfer_start(struct nd_curlev *cv, struct nd_xfer *x, char *err)
{
    CURLMcode mc = curl_multi_add_handle(cv->multi, x->easy);

    if (mc != CURLM_OK)
        return nd_seterr(err, ND_ERR, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
    /* add_handle calls cb_timer(0), which kicks the transfer off from the
     * loop: no socket_action here. */
    x->added = true;
    return ND_OK;
}

void nd_xfer_cancel(struct nd_curlev *cv, struct nd_xfer *x)
{
    if (x->easy && x->added)
        curl_multi_remove_handle(cv->multi, x->easy);
    x->added = false;
}

void nd_xfer_deinit(struct nd_xfer *x)
{
    /* A cancelled transfer was removed from the multi already. */
    if (x->easy && !x->added)
        pool_put(x->cv, x->easy);
    else if (x->easy)
        curl_easy_cleanup(x->easy);
    x->easy = NULL;
    nd_request_deinit(&x->req);
    nd_buf_deinit(&x->rsp_body);
    nd_buf_deinit(&x->rsp_headers);
}
