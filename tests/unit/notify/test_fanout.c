/* test_fanout.c - notifications sent as lanes x chunks requests (the
 * `parts` hook of receiver.h) against an evhttp server on 127.0.0.1
 * (port 0) in the same event_base. The server answers each request after
 * a delay that varies from request to request, so requests sent
 * concurrently would arrive shuffled; it records, per lane, how many
 * requests are open at once. Every loop is bounded by a guard. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "fixture.h"
#include "helpers.h"
#include "logcap.h"
#include "loop.h"
#include "notifyd/engine.h"
#include "notifyd/log.h"
#include "notifyd/parse.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "notify_int.h"
#include "tap.h"

#define MAX_HITS  256
#define MAX_LANES 8

/* ---- the test server ---------------------------------------------------- */

struct hit {
    char tag[32];
    int lane, chunk;
    char body[64];
};

/* A rule for one (lane, chunk) of every notification: answer `status`
 * the first `times` times (then 200), or never answer (`hang`). */
struct rule {
    int lane, chunk;
    int status, times;
    int hang;
};

struct reply {
    struct evhttp_request *req;
    struct event *ev;
    int lane, status;
    struct reply *next;
};

static struct {
    struct event_base *base;
    struct evhttp *http;
    int port;
    int nhits;
    struct hit hits[MAX_HITS];
    struct rule rules[4];
    int nrules;
    int open_lane[MAX_LANES], max_open_lane[MAX_LANES];
    int open, max_open;
    struct reply *replies; /* not sent yet */
    int gate;              /* > 0: hold chunk 1 replies until this many arrived */
    int gated;
} S;

static void send_reply(evutil_socket_t fd, short what, void *arg)
{
    struct reply *rp = arg, **pp;
    struct evbuffer *b = evbuffer_new();

    (void)fd;
    (void)what;
    for (pp = &S.replies; *pp != rp; pp = &(*pp)->next)
        ;
    *pp = rp->next;
    S.open--;
    S.open_lane[rp->lane]--;
    evbuffer_add(b, "x", 1);
    evhttp_send_reply(rp->req, rp->status, rp->status == 200 ? "OK" : "X", b);
    evbuffer_free(b);
    event_free(rp->ev);
    free(rp);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct hit *h;
    struct reply *rp;
    struct timeval tv;
    int i, status = 200, seen = 0, n;

    (void)arg;
    if (S.nhits >= MAX_HITS) {
        evhttp_send_reply(req, 400, "too many", NULL);
        return;
    }
    h = &S.hits[S.nhits++];
    memset(h, 0, sizeof(*h));
    if (sscanf(evhttp_request_get_uri(req), "/%31[^/]/%d/%d", h->tag, &h->lane, &h->chunk) != 3 ||
        h->lane < 0 || h->lane >= MAX_LANES) {
        evhttp_send_reply(req, 400, "bad path", NULL);
        return;
    }
    n = (int)evbuffer_copyout(in, h->body, sizeof(h->body) - 1);
    h->body[n > 0 ? n : 0] = '\0';
    for (i = 0; i < S.nhits; i++)
        if (strcmp(S.hits[i].tag, h->tag) == 0 && S.hits[i].lane == h->lane &&
            S.hits[i].chunk == h->chunk)
            seen++;
    S.open++;
    S.open_lane[h->lane]++;
    if (S.open > S.max_open)
        S.max_open = S.open;
    if (S.open_lane[h->lane] > S.max_open_lane[h->lane])
        S.max_open_lane[h->lane] = S.open_lane[h->lane];
    for (i = 0; i < S.nrules; i++) {
        const struct rule *ru = &S.rules[i];
        if (ru->lane != h->lane || ru->chunk != h->chunk)
            continue;
        if (ru->hang)
            return; /* never answered: evhttp_free() drops it */
        if (seen <= ru->times)
            status = ru->status;
    }
    rp = nd_xcalloc(1, sizeof(*rp));
    rp->req = req;
    rp->lane = h->lane;
    rp->status = status;
    rp->ev = evtimer_new(S.base, send_reply, rp);
    rp->next = S.replies;
    S.replies = rp;
    /* 1..13 ms, different for neighbours: concurrent requests would
     * overtake each other. */
    tv.tv_sec = 0;
    tv.tv_usec = (1 + (S.nhits * 7) % 13) * 1000;
    if (S.gate > 0 && h->chunk == 0) {
        /* Only lanes that run side by side can all get here. */
        if (++S.gated < S.gate)
            return;
        for (rp = S.replies; rp; rp = rp->next)
            evtimer_add(rp->ev, &tv);
        return;
    }
    evtimer_add(rp->ev, &tv);
}

static void srv_start(struct event_base *base)
{
    struct evhttp_bound_socket *bs;
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    memset(&S, 0, sizeof(S));
    S.base = base;
    S.http = evhttp_new(base);
    evhttp_set_gencb(S.http, on_request, NULL);
    bs = evhttp_bind_socket_with_handle(S.http, "127.0.0.1", 0);
    if (!bs || getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len) != 0)
        abort();
    S.port = ntohs(sin.sin_port);
}

static void srv_stop(void)
{
    struct reply *rp;

    while ((rp = S.replies)) {
        S.replies = rp->next;
        event_free(rp->ev);
        free(rp);
    }
    evhttp_free(S.http);
}

static void add_rule(int lane, int chunk, int status, int times, int hang)
{
    struct rule *ru = &S.rules[S.nrules++];

    ru->lane = lane;
    ru->chunk = chunk;
    ru->status = status;
    ru->times = times;
    ru->hang = hang;
}

/* The chunks of (tag, lane) in arrival order, as "0,1,1,2". */
static const char *arrivals(const char *tag, int lane)
{
    static char out[256];
    size_t len = 0;
    int i;

    out[0] = '\0';
    for (i = 0; i < S.nhits && len < sizeof(out) - 8; i++)
        if (strcmp(S.hits[i].tag, tag) == 0 && S.hits[i].lane == lane)
            len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%d", len ? "," : "",
                                    S.hits[i].chunk);
    return out;
}

/* ---- the test type: lanes x chunks, chunk texts as the parts' data ----- */

static uint32_t want_lanes = 3, want_chunks = 4;
static int parts_fail;    /* parts() returns an error */
static int parts_freed;   /* free_parts calls */
static int parts_made;    /* parts() calls that gave data */
static int build_on_part; /* build_part calls with a ud that is not ours */

struct chunks {
    uint32_t n;
    char text[8][32];
};

static int pt_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                        void **state, struct nd_config_errors *errs)
{
    const char *url = NULL;

    (void)templates;
    (void)errs;
    nd_receiver_config_string(rc, "url", &url);
    *state = nd_xstrdup(url ? url : "");
    return ND_OK;
}

static int pt_parts(void *state, const struct nd_notification *n, struct nd_parts *out, char *err)
{
    struct chunks *c;
    uint32_t i;

    (void)state;
    (void)n;
    if (parts_fail)
        return nd_seterr(err, ND_EINVAL, "no way to split this");
    out->lanes = want_lanes;
    out->chunks = want_chunks;
    if (want_chunks > 8)
        return ND_OK; /* the engine must refuse the counts; nothing to free */
    c = nd_xcalloc(1, sizeof(*c));
    c->n = want_chunks;
    for (i = 0; i < want_chunks; i++)
        snprintf(c->text[i], sizeof(c->text[i]), "chunk %" PRIu32 "/%" PRIu32, i + 1, want_chunks);
    out->ud = c;
    parts_made++;
    return ND_OK;
}

static int pt_build_part(void *state, const struct nd_notification *n, const struct nd_part *part,
                         const char *prepared, struct nd_request *req, char *err)
{
    const struct chunks *c = part->ud;

    (void)prepared;
    (void)err;
    if (!c || part->chunk >= c->n || part->chunks != c->n)
        build_on_part++;
    req->url = nd_xasprintf("%s/%s/%" PRIu32 "/%" PRIu32, (const char *)state,
                            nd_alert_label(n->alerts[0], "alertname"), part->lane, part->chunk);
    nd_buf_adds(&req->body, c->text[part->chunk]);
    return ND_OK;
}

static void pt_free_parts(void *state, void *ud)
{
    (void)state;
    parts_freed++;
    free(ud);
}

static const struct nd_receiver_type parts_type = {
    .name = "parts",
    .configure = pt_configure,
    .free_state = free,
    .parts = pt_parts,
    .build_part = pt_build_part,
    .free_parts = pt_free_parts,
};

/* ---- helpers ------------------------------------------------------------ */

struct ctx {
    struct event_base *base;
    struct nd_engine *e;
    struct nd_receiver *r;
};

static struct nd_template_set *T;

static void setup(struct ctx *c, const char *extra)
{
    want_lanes = 3;
    want_chunks = 4;
    parts_fail = 0;
    parts_freed = 0;
    parts_made = 0;
    build_on_part = 0;
    c->base = event_base_new();
    srv_start(c->base);
    c->e = fx_engine(c->base, T, NULL);
    c->r =
        fx_receiver(c->e,
                    "[receiver.p]\ntype = parts\nurl = http://127.0.0.1:%d\n"
                    "%sretry_jitter = 0\n%s",
                    S.port, strstr(extra, "retry_initial") ? "" : "retry_initial = 10ms\n", extra);
}

static void teardown(struct ctx *c)
{
    nd_engine_free(c->e);
    srv_stop();
    event_base_free(c->base);
}

static int cond_settled(void *ud)
{
    return nd_engine_pending(ud) == 0;
}

static struct nd_notification *submit(struct nd_receiver *r, const char *tag)
{
    struct nd_notification *n = mk_simple(nd_receiver_name(r), tag);
    nd_notification_ref(n);
    nd_receiver_submit_take(r, n);
    return n;
}

static int count_str(const char *hay, const char *needle)
{
    int n = 0;

    while (hay && (hay = strstr(hay, needle))) {
        n++;
        hay += strlen(needle);
    }
    return n;
}

/* ---- tests -------------------------------------------------------------- */

static void test_order(void)
{
    struct ctx c;
    struct nd_notification *n;
    int lane, i, bodies_ok = 1;

    setup(&c, "max_in_flight = 8\n");
    S.gate = 3;
    n = submit(c.r, "A");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "order: settled");
    is_int(S.nhits, 12, "order: 3 lanes x 4 chunks = 12 requests");
    for (lane = 0; lane < 3; lane++) {
        is_str(arrivals("A", lane), "0,1,2,3", "order: lane %d got chunks 1..4 in order", lane);
        is_int(S.max_open_lane[lane], 1, "order: lane %d had one request open at a time", lane);
    }
    for (i = 0; i < S.nhits; i++) {
        char want[32];
        snprintf(want, sizeof(want), "chunk %d/4", S.hits[i].chunk + 1);
        if (strcmp(S.hits[i].body, want) != 0)
            bodies_ok = 0;
    }
    ok(bodies_ok, "order: each request carries its chunk's text");
    is_int(S.gated, 3, "order: the 3 lanes' first chunks were open at once");
    is_uint(nd_receiver_stats(c.r)->delivered, 1, "order: delivered counted once");
    is_uint(nd_receiver_stats(c.r)->failed, 0, "order: nothing failed");
    is_uint(nd_receiver_stats(c.r)->queued, 0, "order: queued back to 0");
    is_uint(nd_receiver_stats(c.r)->in_flight, 0, "order: in_flight back to 0");
    is_int(parts_freed, 1, "order: free_parts called once");
    is_int(build_on_part, 0, "order: build_part got the parts' data and indices");
    is_int(n->refs, 1, "order: the engine dropped its reference");
    nd_notification_unref(n);
    teardown(&c);
}

/* Chunk 2 of lane B is refused (404): B's chunks 3 and 4 are never sent,
 * lanes A and C complete, and the notification is failed once. */
static void test_fail_stops_lane(void)
{
    struct ctx c;
    struct nd_notification *n;
    char *log;

    setup(&c, "max_in_flight = 8\n");
    add_rule(1, 1, 404, 100, 0);
    log_capture();
    n = submit(c.r, "F");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "fail: settled");
    log = log_take();
    is_str(arrivals("F", 0), "0,1,2,3", "fail: lane A complete");
    is_str(arrivals("F", 1), "0,1", "fail: lane B stops after its failed chunk 2");
    is_str(arrivals("F", 2), "0,1,2,3", "fail: lane C complete");
    is_uint(nd_receiver_stats(c.r)->failed, 1, "fail: failed counted once");
    is_uint(nd_receiver_stats(c.r)->delivered, 0, "fail: not counted delivered");
    is_int(count_str(log, "notification not delivered"), 1, "fail: one failure logged");
    has_str(log, "lane=2/3 chunk=2/4", "fail: the log names the lane and chunk");
    has_str(log, "status 404", "fail: the log gives the reason");
    is_int(parts_freed, 1, "fail: free_parts called once");
    is_int(n->refs, 1, "fail: the engine dropped its reference");
    free(log);
    nd_notification_unref(n);
    teardown(&c);
}

/* Two lanes give up: the notification is still failed once; the second
 * give-up is logged as a request of an already failed notification. */
static void test_two_lanes_fail(void)
{
    struct ctx c;
    struct nd_notification *n;
    char *log;

    setup(&c, "max_in_flight = 8\n");
    add_rule(0, 0, 404, 100, 0);
    add_rule(2, 3, 404, 100, 0);
    log_capture();
    n = submit(c.r, "G");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "two fail: settled");
    log = log_take();
    is_str(arrivals("G", 0), "0", "two fail: lane A stops at chunk 1");
    is_str(arrivals("G", 1), "0,1,2,3", "two fail: lane B complete");
    is_str(arrivals("G", 2), "0,1,2,3", "two fail: lane C reaches its chunk 4");
    is_uint(nd_receiver_stats(c.r)->failed, 1, "two fail: failed counted once");
    is_uint(nd_receiver_stats(c.r)->delivered, 0, "two fail: not delivered");
    is_int(count_str(log, "notification not delivered"), 1, "two fail: one notification failure");
    is_int(count_str(log, "request not delivered"), 1, "two fail: the other lane's failure logged");
    is_int(parts_freed, 1, "two fail: free_parts called once");
    free(log);
    nd_notification_unref(n);
    teardown(&c);
}

/* Chunk 2 of lane A gets 503 then 200: it is retried before chunk 3. */
static void test_retry_keeps_order(void)
{
    struct ctx c;
    struct nd_notification *n;

    setup(&c, "max_in_flight = 8\n");
    add_rule(0, 1, 503, 1, 0);
    n = submit(c.r, "R");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "retry: settled");
    is_str(arrivals("R", 0), "0,1,1,2,3", "retry: lane A retried chunk 2 before chunk 3");
    is_str(arrivals("R", 1), "0,1,2,3", "retry: lane B in order");
    is_uint(nd_receiver_stats(c.r)->retried, 1, "retry: one retry");
    is_uint(nd_receiver_stats(c.r)->delivered, 1, "retry: delivered once");
    is_uint(nd_receiver_stats(c.r)->failed, 0, "retry: nothing failed");
    nd_notification_unref(n);
    teardown(&c);
}

/* Many notifications under max_in_flight = 1: one request at a time, and
 * every lane of every notification in order. */
static void test_many_one_slot(void)
{
    enum { NN = 10 };
    struct ctx c;
    struct nd_notification *n[NN];
    char tag[NN][8];
    int i, lane, in_order = 1;

    setup(&c, "max_in_flight = 1\n");
    want_lanes = 2;
    want_chunks = 3;
    for (i = 0; i < NN; i++) {
        snprintf(tag[i], sizeof(tag[i]), "M%d", i);
        n[i] = submit(c.r, tag[i]);
    }
    add_rule(1, 2, 503, 1, 0); /* lane 2's last chunk of each retried once */
    ok(run_until_ms(c.base, cond_settled, c.e, 20000), "many: settled");
    for (i = 0; i < NN; i++)
        for (lane = 0; lane < 2; lane++)
            if (strcmp(arrivals(tag[i], lane), lane == 0 ? "0,1,2" : "0,1,2,2") != 0) {
                printf("# %s lane %d: %s\n", tag[i], lane, arrivals(tag[i], lane));
                in_order = 0;
            }
    ok(in_order, "many: every lane of every notification in order");
    is_int(S.nhits, NN * 7, "many: 10 x (2 x 3 + 1 retry) requests");
    is_int(S.max_open, 1, "many: one request at a time");
    is_uint(nd_receiver_stats(c.r)->delivered, NN, "many: each delivered once");
    is_uint(nd_receiver_stats(c.r)->failed, 0, "many: nothing failed");
    is_int(parts_freed, NN, "many: free_parts once each");
    for (i = 0; i < NN; i++) {
        is_int(n[i]->refs, 1, "many: reference %d dropped", i);
        nd_notification_unref(n[i]);
    }
    teardown(&c);
}

static int cond_hits(void *ud)
{
    return S.nhits >= *(int *)ud;
}

/* Shutdown while parts are pending: one lane hangs on its chunk 2; at the
 * deadline every pending part is given up, the notification is failed
 * once, and nothing leaks. Then nd_engine_free with parts still queued. */
static void test_shutdown(void)
{
    struct ctx c;
    struct nd_notification *n, *n2;
    struct fx_idle ir = {0};
    char *log;
    int want = 10;

    setup(&c, "max_in_flight = 8\ntimeout = 20s\n");
    add_rule(1, 1, 0, 0, 1);
    log_capture();
    n = submit(c.r, "S");
    ok(run_until_ms(c.base, cond_hits, &want, 10000), "shutdown: the other lanes went on");
    nd_engine_shutdown(c.e, 200 * ND_NS_PER_MS, fx_on_idle, &ir);
    ok(run_until_ms(c.base, fx_idle_seen, &ir, 10000), "shutdown: idle called");
    log = log_take();
    is_str(arrivals("S", 1), "0,1", "shutdown: the hanging lane sent chunks 1..2");
    is_uint(nd_receiver_stats(c.r)->failed, 1, "shutdown: failed counted once");
    is_uint(nd_receiver_stats(c.r)->delivered, 0, "shutdown: not delivered");
    is_uint(nd_receiver_stats(c.r)->in_flight, 0, "shutdown: in_flight back to 0");
    has_str(log, "shutdown: aborted in flight", "shutdown: logged");
    is_int(parts_freed, 1, "shutdown: free_parts called");
    is_int(n->refs, 1, "shutdown: reference dropped");
    is_uint(nd_engine_pending(c.e), 0, "shutdown: nothing pending");
    free(log);
    nd_notification_unref(n);
    teardown(&c);

    /* Freed with parts queued, in flight and hanging: no log, no count, no
     * leak (ASan), free_parts called. */
    setup(&c, "max_in_flight = 2\ntimeout = 20s\n");
    add_rule(0, 1, 0, 0, 1);
    n = submit(c.r, "X");
    n2 = submit(c.r, "Y");
    want = 2;
    ok(run_until_ms(c.base, cond_hits, &want, 10000), "free busy: requests under way");
    nd_engine_free(c.e);
    c.e = NULL;
    is_int(parts_freed, 2, "free busy: free_parts called for both");
    is_int(n->refs + n2->refs, 2, "free busy: references dropped");
    nd_notification_unref(n);
    nd_notification_unref(n2);
    srv_stop();
    event_base_free(c.base);
}

/* A notification the type cannot split fails at once (no request), as do
 * counts out of bounds. */
static void test_parts_errors(void)
{
    struct ctx c;
    struct nd_notification *n;
    char *log;

    setup(&c, "");
    parts_fail = 1;
    log_capture();
    n = submit(c.r, "E");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "parts error: settled");
    parts_fail = 0;
    want_lanes = 0;
    nd_notification_unref(n);
    n = submit(c.r, "Z");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "zero lanes: settled");
    want_lanes = 1;
    want_chunks = ND_PARTS_CHUNKS_MAX + 1;
    nd_notification_unref(n);
    n = submit(c.r, "B");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "too many chunks: settled");
    log = log_take();
    is_int(S.nhits, 0, "parts errors: no request sent");
    is_uint(nd_receiver_stats(c.r)->failed, 3, "parts errors: each counted failed");
    has_str(log, "cannot split the notification: no way to split this",
            "parts error: logged with the type's error");
    has_str(log, "0 lanes x 4 chunks", "zero lanes: logged");
    has_str(log, "1 lanes x 257 chunks", "too many chunks: logged");
    is_int(parts_freed, parts_made, "parts errors: data freed");
    free(log);
    nd_notification_unref(n);
    teardown(&c);
}

static int dummy_build(void *state, const struct nd_notification *n, const char *prepared,
                       struct nd_request *req, char *err)
{
    (void)state;
    (void)n;
    (void)prepared;
    (void)req;
    (void)err;
    return ND_OK;
}

static void test_register(void)
{
    size_t fo, pj;
    static const struct nd_receiver_type no_build_part = {
        .name = "nbp",
        .build = dummy_build,
        .parts = pt_parts,
    };

    is_int(nd_receiver_type_register(&no_build_part), ND_EINVAL,
           "a type with parts and no build_part is refused");
    /* A notification without parts keeps the plain job: the fan-out fields
     * live outside it. */
    ok(nd__job_size() <= 7 * sizeof(void *), "a plain job is still %zu bytes", nd__job_size());
    /* Fan-out costs one struct fanout (the notification, the type's data,
     * the first start, three counts and the failed flag) and one job plus
     * back pointer, lane and chunk per lane. */
    nd__fanout_sizes(&fo, &pj);
    ok(fo <= 5 * sizeof(void *), "a fanout header is %zu bytes (<= %zu)", fo, 5 * sizeof(void *));
    ok(pj <= nd__job_size() + 2 * sizeof(void *), "a lane is %zu bytes (<= job + %zu)", pj,
       2 * sizeof(void *));
}

static int cond_three_hits_two_waiting(void *ud)
{
    return S.nhits >= 3 && nd__receiver_retry_waiting(ud) >= 2;
}

/* overflow = drop_oldest on a fanned-out notification: dropped whole
 * (free_parts called, counted once) when none of its lanes holds a slot,
 * also when some lanes already ended; kept while one lane is in flight. */
static void test_drop_oldest(void)
{
    struct ctx c;
    struct nd_notification *a, *b, *x, *y;
    const struct nd_receiver_stats *st;
    int one = 1;

    /* One lane delivered (ended), two parked for a retry (503, an hour). */
    setup(&c, "max_backlog = 1\noverflow = drop_oldest\nretry_initial = 1h\n"
              "retry_max = 1h\nretry_max_age = 2h\n");
    want_chunks = 1;
    add_rule(1, 0, 503, 1000, 0);
    add_rule(2, 0, 503, 1000, 0);
    st = nd_receiver_stats(c.r);
    a = submit(c.r, "A");
    ok(run_until_ms(c.base, cond_three_hits_two_waiting, c.r, 5000),
       "drop: lane 0 delivered, lanes 1 and 2 wait for a retry");
    b = submit(c.r, "B");
    is_uint(st->dropped, 1, "drop: the older fanout is dropped");
    is_int(a->refs, 1, "drop: its reference is released");
    is_int(parts_freed, 1, "drop: free_parts called once");
    is_uint(nd__receiver_retry_waiting(c.r), 0, "drop: its lanes left the retry heap");
    is_uint(st->failed, 0, "drop: not counted failed");
    is_int(b->refs, 2, "drop: the new one is held");
    is_uint(st->backlog_notifications, 1, "drop: one notification held");
    is_uint(st->queued, 3, "drop: queued gauge = the new one's 3 lanes");
    teardown(&c);
    nd_notification_unref(a);
    nd_notification_unref(b);

    /* A lane on the wire keeps its notification. */
    setup(&c, "max_backlog = 1\noverflow = drop_oldest\nmax_in_flight = 1\n");
    want_chunks = 2;
    add_rule(0, 0, 0, 0, 1); /* lane 0's first chunk is never answered */
    st = nd_receiver_stats(c.r);
    a = submit(c.r, "A");
    run_until_ms(c.base, cond_hits, &one, 5000);
    is_uint(st->in_flight, 1, "in flight: one lane of A on the wire");
    x = submit(c.r, "X");
    is_uint(st->dropped, 0, "in flight: A kept, X kept (the newest)");
    y = submit(c.r, "Y");
    is_uint(st->dropped, 1, "in flight: X dropped (nothing of it on the wire)");
    ok(a->refs == 2 && x->refs == 1 && y->refs == 2, "in flight: A and Y held, X released");
    is_int(parts_freed, 1, "in flight: X's parts freed");
    teardown(&c);
    nd_notification_unref(a);
    nd_notification_unref(x);
    nd_notification_unref(y);
}

int main(void)
{
    char err[ND_ERRLEN];

    nd_log_set_level(ND_LOG_INFO);
    T = nd_template_set_new();
    if (nd_template_set_add_defaults(T, err) != ND_OK)
        abort();
    if (nd_receiver_type_register(&parts_type) != ND_OK)
        abort();
    test_register();
    test_order();
    test_fail_stops_lane();
    test_two_lanes_fail();
    test_retry_keeps_order();
    test_many_one_slot();
    test_shutdown();
    test_parts_errors();
    test_drop_oldest();
    nd_template_set_free(T);
    return done_testing();
}
