/* test_engine.c - the delivery engine against an evhttp server on
 * 127.0.0.1 (port 0) in the same event_base. Every loop is bounded by a
 * guard (event_base_loopexit) and by the number of requests it expects. */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
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
#include "notifyd/payload.h"
#include "notifyd/receiver.h"
#include "notifyd/template.h"
#include "notify_int.h"
#include "tap.h"

#define MAX_REQ 64

/* ---- the test server ------------------------------------------------ */

struct hit {
    char path[32];
    int64_t mono_ns;
    char auth[128];
    char xtest[64];
    char host[128];
    char ctype[64];
    char expect[64];
    int has_expect;
    size_t body_len;
    char body[4096];
};

struct srv {
    struct event_base *base;
    struct evhttp *http;
    int port;
    int nhits;
    struct hit hits[MAX_REQ];
    int concurrent, max_concurrent;
    int tokens_issued;
    struct delayed *delayed[MAX_REQ]; /* replies not sent yet */
};

static struct srv S;

struct delayed {
    int slot;
    struct evhttp_request *req;
    struct event *ev;
    int code;
    char body[64];
};

static int path_hits(const char *path)
{
    int i, n = 0;

    for (i = 0; i < S.nhits; i++)
        if (strcmp(S.hits[i].path, path) == 0)
            n++;
    return n;
}

static void reply(struct evhttp_request *req, int code, const char *body)
{
    struct evbuffer *b = evbuffer_new();

    evbuffer_add(b, body, strlen(body));
    evhttp_send_reply(req, code, code == 200 ? "OK" : "X", b);
    evbuffer_free(b);
}

static void on_delayed(evutil_socket_t fd, short what, void *arg)
{
    struct delayed *d = arg;

    (void)fd;
    (void)what;
    S.concurrent--;
    S.delayed[d->slot] = NULL;
    reply(d->req, d->code, d->body);
    event_free(d->ev);
    free(d);
}

static void later(struct evhttp_request *req, int ms, int code, const char *body)
{
    struct delayed *d = nd_xcalloc(1, sizeof(*d));
    struct timeval tv = {0, ms * 1000};

    d->slot = S.nhits - 1;
    S.delayed[d->slot] = d;
    d->req = req;
    d->code = code;
    snprintf(d->body, sizeof(d->body), "%s", body);
    d->ev = evtimer_new(S.base, on_delayed, d);
    S.concurrent++;
    if (S.concurrent > S.max_concurrent)
        S.max_concurrent = S.concurrent;
    evtimer_add(d->ev, &tv);
}

static void copy_header(struct evhttp_request *req, const char *name, char *out, size_t n)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), name);
    snprintf(out, n, "%s", v ? v : "");
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const char *uri = evhttp_request_get_uri(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct hit *h = S.nhits < MAX_REQ ? &S.hits[S.nhits++] : &S.hits[MAX_REQ - 1];
    int n;

    (void)arg;
    memset(h, 0, sizeof(*h));
    snprintf(h->path, sizeof(h->path), "%s", uri);
    h->mono_ns = nd_now_mono_ns();
    copy_header(req, "Authorization", h->auth, sizeof(h->auth));
    copy_header(req, "X-Test", h->xtest, sizeof(h->xtest));
    copy_header(req, "Host", h->host, sizeof(h->host));
    copy_header(req, "Content-Type", h->ctype, sizeof(h->ctype));
    copy_header(req, "Expect", h->expect, sizeof(h->expect));
    h->has_expect = evhttp_find_header(evhttp_request_get_input_headers(req), "Expect") != NULL;
    h->body_len = evbuffer_get_length(in);
    n = (int)evbuffer_copyout(in, h->body, sizeof(h->body) - 1);
    h->body[n > 0 ? n : 0] = '\0';
    n = path_hits(h->path);

    if (strcmp(uri, "/ok") == 0) {
        reply(req, 204, "");
    } else if (strcmp(uri, "/500then200") == 0) {
        reply(req, n == 1 ? 500 : 200, n == 1 ? "oops" : "fine");
    } else if (strcmp(uri, "/429") == 0) {
        if (n == 1)
            evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        reply(req, n == 1 ? 429 : 200, n == 1 ? "slow down" : "ok");
    } else if (strcmp(uri, "/404") == 0) {
        reply(req, 404, "no such hook");
    } else if (strcmp(uri, "/hang") == 0) {
        /* never answered: evhttp_free() cleans it up */
    } else if (strcmp(uri, "/slow") == 0) {
        later(req, 30, 200, "ok");
    } else if (strcmp(uri, "/token") == 0) {
        char tok[32];
        snprintf(tok, sizeof(tok), "tok-%d", ++S.tokens_issued);
        later(req, 50, 200, tok);
    } else if (strcmp(uri, "/tokenfail") == 0) {
        reply(req, 500, "token service down");
    } else if (strcmp(uri, "/tokrefuse") == 0) {
        reply(req, 401, "token refused");
    } else if (strcmp(uri, "/tokcheck") == 0) {
        /* the first token is "expired" */
        if (strcmp(h->auth, "Bearer tok-1") == 0)
            reply(req, 401, "token expired");
        else
            reply(req, 200, "ok");
    } else {
        reply(req, 400, "unknown path");
    }
}

/* Drops replies still waiting; evhttp_free() then frees their requests. */
static void srv_stop(void)
{
    int i;

    for (i = 0; i < MAX_REQ; i++) {
        if (S.delayed[i]) {
            event_free(S.delayed[i]->ev);
            free(S.delayed[i]);
            S.delayed[i] = NULL;
        }
    }
    evhttp_free(S.http);
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

/* ---- helpers ------------------------------------------------------------ */

struct ctx {
    struct event_base *base;
    struct nd_engine *e;
};

/* The set every engine of this file renders with: the defaults plus two
 * definitions of ours (one that fails at execution). */
static struct nd_template_set *T;

static const char test_templates[] = "{{ define \"t.short\" }}{{ len .Alerts }} alert(s) for "
                                     "{{ (index .Alerts 0).Labels.alertname }}  \n\n"
                                     "{{ end }}"
                                     "{{ define \"t.broken\" }}{{ index .Alerts 99 }}{{ end }}";

static void templates_init(void)
{
    char err[ND_ERRLEN];

    T = nd_template_set_new();
    if (nd_template_set_add_defaults(T, err) != ND_OK ||
        nd_template_set_parse(T, "test", test_templates, strlen(test_templates), err) != ND_OK) {
        printf("# %s\n", err);
        abort();
    }
}

/* What nd_template_text gives for n: the receivers must send exactly this. */
static char *render_text(const char *name, const struct nd_notification *n)
{
    struct nd_template_data *d = nd_template_data_from_notification(n, nd_now_wall_ns());
    struct nd_buf b;
    char err[ND_ERRLEN];
    char *s;

    nd_buf_init(&b, 1 << 20);
    if (nd_template_text(T, name, d, &b, err) != ND_OK)
        printf("# render %s: %s\n", name, err);
    s = nd_xstrdup(nd_buf_cstr(&b));
    nd_buf_deinit(&b);
    nd_template_data_free(d);
    return s;
}

static void setup(struct ctx *c)
{
    c->base = event_base_new();
    srv_start(c->base);
    c->e = fx_engine(c->base, T, NULL);
}

static void teardown(struct ctx *c)
{
    nd_engine_free(c->e);
    srv_stop();
    event_base_free(c->base);
}

/* A receiver from INI lines; `type` and, for webhooks, `url` from `path`. */
static struct nd_receiver *mk_rcv(struct ctx *c, const char *name, const char *type,
                                  const char *path, const char *extra)
{
    if (path)
        return fx_receiver(c->e, "[receiver.%s]\ntype = %s\nurl = http://127.0.0.1:%d%s\n%s", name,
                           type, S.port, path, extra);
    return fx_receiver(c->e, "[receiver.%s]\ntype = %s\n%s", name, type, extra);
}

static int cond_settled(void *ud)
{
    struct nd_engine *e = ud;
    return nd_engine_pending(e) == 0;
}

/* Submits a notification and keeps one reference of ours to check that
 * the engine drops exactly its own. */
static struct nd_notification *submit(struct nd_receiver *r, const char *name)
{
    struct nd_notification *n = mk_simple(nd_receiver_name(r), name);
    nd_notification_ref(n);
    nd_receiver_submit_take(r, n);
    return n;
}

/* ---- tests ------------------------------------------------------------ */

/* Large bodies make curl send "Expect: 100-continue" (over 1 KiB in older
 * curl, over 1 MiB in 7.88) and wait up to 1 s for a 100 that many servers
 * never send: the webhook must suppress it. */
static void test_no_expect(void)
{
    enum { NBIG = 400 };
    static const char *const labels[] = {"alertname", "Big", NULL};
    const char *ann[] = {"description", NULL, NULL};
    char big[3000];
    struct nd_alert *a[NBIG];
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n;
    size_t i;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ann[1] = big;
    setup(&c);
    r = mk_rcv(&c, "big", "webhook", "/ok", "");
    for (i = 0; i < NBIG; i++)
        a[i] = mk_alert(labels, ann, "2026-11-26T10:00:00Z", NULL, NULL);
    n = mk_notification("big", a, NBIG, NULL, NULL, NULL);
    nd_receiver_submit_take(r, n);
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "big body: settled");
    is_uint(nd_receiver_stats(r)->delivered, 1, "big body: delivered");
    is_int(S.nhits, 1, "big body: one request");
    ok(S.hits[0].body_len > 1024 * 1024, "big body: over 1 MiB on the wire (%zu bytes)",
       S.hits[0].body_len);
    ok(!S.hits[0].has_expect, "no Expect header on the wire (got \"%s\")", S.hits[0].expect);
    teardown(&c);
}

struct xdone {
    int n;
    long status[3];
};

static void on_xdone(struct nd_xfer *x, const struct nd_response *r)
{
    struct xdone *d = x->ud;

    d->status[d->n++] = r->status;
}

static int cond_xdone2(void *ud)
{
    return ((struct xdone *)ud)->n >= 2;
}

static int cond_xdone3(void *ud)
{
    return ((struct xdone *)ud)->n >= 3;
}

static void xfer_prep(struct nd_xfer *x, const char *path, struct xdone *d)
{
    memset(x, 0, sizeof(*x));
    nd_request_init(&x->req);
    x->req.url = nd_xasprintf("http://127.0.0.1:%d%s", S.port, path);
    x->req.method = "GET";
    x->done = on_xdone;
    x->ud = d;
}

/* Easy handles are reused, but never one that is still in the multi. */
static void test_handle_reuse(void)
{
    struct ctx c;
    struct nd_curlev *cv;
    struct nd_xfer x1, x2, x3, x4;
    struct xdone d = {0, {0}};
    char err[ND_ERRLEN];

    setup(&c);
    cv = nd_curlev_new(c.base, err);
    xfer_prep(&x1, "/slow", &d);
    xfer_prep(&x2, "/slow", &d);
    ok(nd_xfer_setup(cv, &x1, 5 * ND_NS_PER_S, err) == ND_OK &&
           nd_xfer_start(cv, &x1, err) == ND_OK,
       "x1 started");
    ok(nd_xfer_setup(cv, &x2, 5 * ND_NS_PER_S, err) == ND_OK &&
           nd_xfer_start(cv, &x2, err) == ND_OK,
       "x2 started");
    ok(x1.easy != x2.easy, "two attached transfers have two handles");
    is_uint(nd_curlev_handles_created(cv), 2, "two handles created");
    is_uint(nd_curlev_handles_idle(cv), 0, "none idle while both are attached");
    ok(run_until_ms(c.base, cond_xdone2, &d, 10000), "both done");
    is_int(d.status[0], 200, "x1: 200");
    is_int(d.status[1], 200, "x2: 200");
    is_uint(nd_curlev_handles_idle(cv), 2, "both handles back on the idle list");
    nd_xfer_deinit(&x1);
    nd_xfer_deinit(&x2);

    /* x3 reuses a handle (reset: options of x1/x2 do not leak). */
    xfer_prep(&x3, "/ok", &d);
    ok(nd_xfer_setup(cv, &x3, 5 * ND_NS_PER_S, err) == ND_OK, "x3 set up");
    is_uint(nd_curlev_handles_created(cv), 2, "x3: no new handle");
    is_uint(nd_curlev_handles_idle(cv), 1, "x3 took one idle handle");
    ok(nd_xfer_start(cv, &x3, err) == ND_OK, "x3 started");
    /* x4 is cancelled while attached: its handle comes back only then. */
    xfer_prep(&x4, "/hang", &d);
    ok(nd_xfer_setup(cv, &x4, 5 * ND_NS_PER_S, err) == ND_OK &&
           nd_xfer_start(cv, &x4, err) == ND_OK,
       "x4 started");
    ok(x4.easy != x3.easy, "x4 does not get x3's attached handle");
    is_uint(nd_curlev_handles_idle(cv), 0, "no idle handle left");
    ok(run_until_ms(c.base, cond_xdone3, &d, 10000), "x3 done");
    is_int(d.status[2], 204, "x3: 204 from a reused handle");
    nd_xfer_deinit(&x3);
    nd_xfer_cancel(cv, &x4);
    nd_xfer_deinit(&x4);
    is_uint(nd_curlev_handles_idle(cv), 2, "the cancelled handle is idle again");
    is_uint(nd_curlev_handles_created(cv), 2, "still two handles in all");
    nd_curlev_free(cv);
    teardown(&c);
}

static void test_retry_then_delivered(void)
{
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n;
    const struct nd_receiver_stats *st;
    struct nd_buf want;

    setup(&c);
    r = mk_rcv(&c, "r500", "webhook", "/500then200",
               "retry_initial = 50ms\nretry_jitter = 0\n"
               "headers = X-Test: yes\n  X-Other: 2\n"
               "basic_auth_user = u\nbasic_auth_password = p\nbearer_token = tok\n");
    n = submit(r, "A");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "500 then 200: settled");
    st = nd_receiver_stats(r);
    is_uint(st->delivered, 1, "delivered once");
    is_uint(st->retried, 1, "after one retry");
    is_uint(st->failed, 0, "not failed");
    is_uint(st->in_flight, 0, "in_flight gauge back to 0");
    is_uint(st->queued, 0, "queued gauge back to 0");
    is_uint(st->latency_count, 1, "latency observed once");
    is_int(path_hits("/500then200"), 2, "two requests at the server");
    is_int(n->refs, 1, "the engine dropped its reference");
    is_str(S.hits[0].auth, "Bearer tok", "bearer wins over basic auth");
    is_str(S.hits[0].xtest, "yes", "custom header sent");
    is_str(S.hits[0].ctype, "application/json", "content type");
    nd_buf_init(&want, 1 << 20);
    nd_payload_webhook_json(n, &want);
    is_str(S.hits[1].body, nd_buf_cstr(&want), "body is the webhook JSON");
    nd_buf_deinit(&want);
    nd_notification_unref(n);
    teardown(&c);
}

static void test_basic_auth_and_server_name(void)
{
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n;
    char want_host[64];

    setup(&c);
    /* tls_server_name on http still routes through CONNECT_TO: the URL
     * names a host that does not resolve and the request still arrives. */
    r = mk_rcv(&c, "basic", "webhook", "/ok",
               "basic_auth_user = u\nbasic_auth_password = p\n"
               "tls_server_name = name.invalid\n");
    n = submit(r, "A");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "basic auth: settled");
    is_uint(nd_receiver_stats(r)->delivered, 1, "204 counts as delivered");
    is_str(S.hits[0].auth, "Basic dTpw", "basic auth header");
    snprintf(want_host, sizeof(want_host), "127.0.0.1:%d", S.port);
    is_str(S.hits[0].host, want_host, "Host header keeps the URL's host");
    nd_notification_unref(n);
    teardown(&c);
}

static int cond_two_hits_429(void *ud)
{
    struct nd_engine *e = ud;
    return nd_engine_pending(e) == 0;
}

static void test_retry_after(void)
{
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n;
    int64_t gap;

    setup(&c);
    r = mk_rcv(&c, "r429", "webhook", "/429", "retry_initial = 10ms\nretry_jitter = 0\n");
    n = submit(r, "A");
    ok(run_until_ms(c.base, cond_two_hits_429, c.e, 10000), "429: settled");
    is_int(path_hits("/429"), 2, "two attempts");
    is_uint(nd_receiver_stats(r)->delivered, 1, "delivered");
    is_uint(nd_receiver_stats(r)->retried, 1, "one retry");
    gap = S.hits[1].mono_ns - S.hits[0].mono_ns;
    ok(gap >= ND_NS_PER_S, "second attempt >= 1 s later (Retry-After: 1), not after 10ms: %lld ms",
       (long long)(gap / ND_NS_PER_MS));
    nd_notification_unref(n);
    teardown(&c);
}

/* What the outcome hook saw, in call order. */
struct outcome_rec {
    int calls;
    const struct nd_notification *n[4];
    char failure[4][256]; /* "" = delivered */
    uint64_t delivered_then[4], failed_then[4];
};

static void on_outcome(void *ud, const struct nd_receiver *r, const struct nd_notification *n,
                       const char *failure)
{
    struct outcome_rec *o = ud;
    if (o->calls < 4) {
        o->n[o->calls] = n;
        snprintf(o->failure[o->calls], sizeof o->failure[0], "%s", failure ? failure : "");
        o->delivered_then[o->calls] = nd_receiver_stats(r)->delivered;
        o->failed_then[o->calls] = nd_receiver_stats(r)->failed;
    }
    o->calls++;
}

/* The outcome hook: once per notification, at its end only (not at a
 * retry), NULL for delivered, the give-up reason otherwise, with the
 * counters already updated. */
static void test_outcome_hook(void)
{
    struct ctx c;
    struct nd_receiver *ok_r, *bad_r;
    struct nd_notification *n1, *n2;
    struct outcome_rec o;

    memset(&o, 0, sizeof o);
    setup(&c);
    nd_engine_set_outcome(c.e, on_outcome, &o);
    ok_r = mk_rcv(&c, "hook_ok", "webhook", "/500then200", "retry_initial = 10ms\n");
    n1 = submit(ok_r, "A");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "hook, 500 then 200: settled");
    is_int(o.calls, 1, "called once for a notification delivered after a retry");
    ok(o.n[0] == n1, "with that notification");
    is_str(o.failure[0], "", "failure NULL: delivered");
    is_uint(o.delivered_then[0], 1, "delivered counted before the call");
    bad_r = mk_rcv(&c, "hook_bad", "webhook", "/404", "");
    n2 = submit(bad_r, "B");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "hook, 404: settled");
    is_int(o.calls, 2, "called once for a notification given up");
    ok(o.n[1] == n2, "with that notification");
    has_str(o.failure[1], "status 404: no such hook", "failure is the give-up reason");
    is_uint(o.failed_then[1], 1, "failed counted before the call");
    nd_notification_unref(n1);
    nd_notification_unref(n2);
    teardown(&c);
}

static int cond_receivers_1(void *ud)
{
    return nd__engine_receivers(ud) == 1;
}

struct order_rec {
    char seq[8];
    int n;
};

static void on_rcv_first(void *ud, const struct nd_receiver *r, const struct nd_notification *n,
                         const char *failure)
{
    struct order_rec *o = ud;
    (void)r;
    (void)n;
    (void)failure;
    if (o->n < 7)
        o->seq[o->n++] = 'r';
}

static void on_eng_second(void *ud, const struct nd_receiver *r, const struct nd_notification *n,
                          const char *failure)
{
    struct order_rec *o = ud;
    (void)r;
    (void)n;
    (void)failure;
    if (o->n < 7)
        o->seq[o->n++] = 'e';
}

/* A receiver's own outcome hook runs before the engine's; a retired
 * receiver lives until its notifications are finished, then is freed from
 * the loop (the ASan build checks that nothing touches it after). */
static void test_release(void)
{
    struct ctx c;
    struct order_rec o;

    memset(&o, 0, sizeof o);
    setup(&c);
    nd_engine_set_outcome(c.e, on_eng_second, &o);
    mk_rcv(&c, "stays", "webhook", "/ok", "");
    struct nd_receiver *r = mk_rcv(&c, "temp", "webhook", "/slow", "");
    nd_receiver_set_outcome(r, on_rcv_first, &o);
    struct nd_notification *n = submit(r, "A");
    nd_receiver_release(r);
    is_uint(nd__engine_receivers(c.e), 2, "retired with a notification: still there");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "retired receiver delivers");
    is_str(o.seq, "re", "the receiver's hook, then the engine's");
    ok(run_until_ms(c.base, cond_receivers_1, c.e, 5000), "then it is freed");
    nd_notification_unref(n);

    r = mk_rcv(&c, "idle", "webhook", "/ok", "");
    nd_receiver_release(r);
    nd_receiver_release(r); /* twice is once */
    ok(run_until_ms(c.base, cond_receivers_1, c.e, 5000), "retired without work: freed");
    teardown(&c);
}

static void test_404(void)
{
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n;
    char *log;

    setup(&c);
    log_capture();
    r = mk_rcv(&c, "r404", "webhook", "/404", "retry_initial = 10ms\n");
    n = submit(r, "A");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "404: settled");
    log = log_take();
    is_int(path_hits("/404"), 1, "one attempt only");
    is_uint(nd_receiver_stats(r)->failed, 1, "failed");
    is_uint(nd_receiver_stats(r)->retried, 0, "no retry");
    is_uint(nd_receiver_stats(r)->delivered, 0, "not delivered");
    has_str(log, "notification not delivered", "give-up is logged");
    has_str(log, "receiver=r404", "log names the receiver");
    has_str(log, "status 404: no such hook", "log has the status and the body");
    has_str(log, "alerts=1", "log has the alert count");
    free(log);
    is_int(n->refs, 1, "reference dropped on failure too");
    nd_notification_unref(n);
    teardown(&c);
}

/* ---- a type whose classify asks for a retry without a delay ------------- */

/* The contract (receiver.h): a RETRY verdict whose delay_ns the type left
 * alone waits for the backoff. This type's classify sets only the kind and
 * the reason, as a type that refines nd_classify_http's verdict without
 * calling it would. */
static void cr_classify(void *state, const struct nd_response *rsp, struct nd_verdict *v)
{
    (void)state;
    v->kind = ND_VERDICT_RETRY;
    snprintf(v->reason, sizeof(v->reason), "platform code says busy (status %ld)", rsp->status);
}

static int cr_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                        void **state, struct nd_config_errors *errs)
{
    const char *url = NULL;

    (void)templates;
    (void)errs;
    nd_receiver_config_string(rc, "url", &url);
    *state = nd_xstrdup(url ? url : "");
    return ND_OK;
}

static int cr_build(void *state, const struct nd_notification *n, const char *prepared,
                    struct nd_request *req, char *err)
{
    (void)n;
    (void)prepared;
    (void)err;
    req->url = nd_xstrdup(state);
    return ND_OK;
}

static const struct nd_receiver_type cr_type = {
    .name = "classretry",
    .configure = cr_configure,
    .free_state = free,
    .build = cr_build,
    .classify = cr_classify,
};

static int64_t test_clock_ns;

static int64_t test_clock(void)
{
    return test_clock_ns;
}

static int cond_retried_once(void *ud)
{
    return nd_receiver_stats(ud)->retried >= 1;
}

static int cond_never(void *ud)
{
    (void)ud;
    return 0;
}

/* The retry waits retry_initial (the backoff), measured on the engine's
 * clock (a test clock that only the test moves), not 0. */
static void test_classify_retry_uses_backoff(void)
{
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n;
    int64_t backoff = 200 * ND_NS_PER_MS;

    setup(&c);
    test_clock_ns = 1000 * ND_NS_PER_S;
    nd__engine_set_clock(c.e, test_clock);
    r = mk_rcv(&c, "cr", "classretry", "/ok",
               "retry_initial = 200ms\nretry_jitter = 0\nretry_max_attempts = 2\n");
    n = submit(r, "A");
    ok(run_until_ms(c.base, cond_retried_once, r, 10000), "classify retry: first attempt judged");
    /* The timer runs on real time: let it pass the backoff while the test
     * clock stands still. */
    run_until_ms(c.base, cond_never, NULL, 300);
    is_int(path_hits("/ok"), 1, "classify retry: not retried at once");
    is_uint(nd__receiver_retry_waiting(r), 1, "classify retry: waiting in the retry heap");
    is_uint(nd_receiver_stats(r)->failed, 0, "classify retry: not given up");
    test_clock_ns += backoff - 1;
    run_until_ms(c.base, cond_never, NULL, 30);
    is_int(path_hits("/ok"), 1, "classify retry: still waiting 1 ns before retry_initial");
    test_clock_ns += 1;
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "classify retry: settled");
    is_int(path_hits("/ok"), 2, "classify retry: second attempt once the backoff passed");
    is_uint(nd_receiver_stats(r)->failed, 1, "classify retry: given up after retry_max_attempts");
    nd_notification_unref(n);
    teardown(&c);
}

struct two {
    struct nd_receiver *hang, *ok;
};

static int cond_hang_done(void *ud)
{
    struct two *t = ud;
    return nd_receiver_stats(t->hang)->failed == 1 && nd_receiver_stats(t->ok)->delivered == 5;
}

static void test_hang_timeout(void)
{
    struct ctx c;
    struct two t;
    struct nd_notification *n[6];
    char *log;
    int i, second_hang = -1, last_ok = -1;

    setup(&c);
    log_capture();
    t.hang = mk_rcv(&c, "hang", "webhook", "/hang",
                    "timeout = 300ms\nretry_initial = 20ms\nretry_max_attempts = 2\n");
    t.ok = mk_rcv(&c, "fine", "webhook", "/ok", "");
    n[0] = submit(t.hang, "H");
    for (i = 1; i < 6; i++)
        n[i] = submit(t.ok, "O");
    ok(run_until_ms(c.base, cond_hang_done, &t, 10000), "hang: settled");
    log = log_take();
    is_int(path_hits("/hang"), 2, "hanging target: two attempts (retried after the timeout)");
    is_uint(nd_receiver_stats(t.hang)->retried, 1, "one retry");
    is_uint(nd_receiver_stats(t.hang)->failed, 1, "then given up");
    is_uint(nd_receiver_stats(t.ok)->delivered, 5, "the other receiver delivered all");
    for (i = 0; i < S.nhits; i++) {
        if (strcmp(S.hits[i].path, "/ok") == 0)
            last_ok = i;
        if (strcmp(S.hits[i].path, "/hang") == 0 && i > 0)
            second_hang = i;
    }
    ok(last_ok >= 0 && second_hang > last_ok,
       "the other receiver was served while the first attempt hung");
    has_str(log, "timed out", "timeout in the log");
    has_str(log, "2 attempts made", "attempts in the log");
    free(log);
    for (i = 0; i < 6; i++) {
        is_int(n[i]->refs, 1, "notification %d released", i);
        nd_notification_unref(n[i]);
    }
    teardown(&c);
}

struct mif {
    struct nd_receiver *r;
    uint64_t max_in_flight_seen;
};

static int cond_mif(void *ud)
{
    struct mif *m = ud;
    const struct nd_receiver_stats *st = nd_receiver_stats(m->r);
    if (st->in_flight > m->max_in_flight_seen)
        m->max_in_flight_seen = st->in_flight;
    return st->delivered == 10;
}

static void test_max_in_flight(void)
{
    struct ctx c;
    struct mif m = {NULL, 0};
    struct nd_notification *n[10];
    size_t live, spare;
    int i;

    setup(&c);
    m.r = mk_rcv(&c, "mif", "webhook", "/slow", "max_in_flight = 2\n");
    for (i = 0; i < 10; i++)
        n[i] = submit(m.r, "M");
    is_uint(nd_receiver_stats(m.r)->queued, 10, "all queued before the loop runs");
    ok(run_until_ms(c.base, cond_mif, &m, 10000), "max_in_flight: settled");
    is_int(path_hits("/slow"), 10, "10 requests");
    is_int(S.max_concurrent, 2, "never more than 2 concurrent at the server");
    ok(m.max_in_flight_seen <= 2, "in_flight gauge <= 2");
    is_uint(nd_receiver_stats(m.r)->queued, 0, "queue drained");
    /* Transfers live in per-attempt state, not in the jobs: given back
     * when each attempt ends, at most max_in_flight kept for reuse. */
    nd__engine_attempts(c.e, &live, &spare);
    is_uint(live, 0, "no attempt state left after the drain");
    ok(spare >= 1 && spare <= 2, "attempt states kept for reuse: %zu (max_in_flight 2)", spare);
    for (i = 0; i < 10; i++)
        nd_notification_unref(n[i]);
    teardown(&c);
}

struct idle_rec {
    int calls;
    uint64_t delivered_at_idle;
    size_t pending_at_idle;
    struct nd_receiver *r;
    struct nd_engine *e;
};

static void on_idle(void *ud)
{
    struct idle_rec *ir = ud;
    ir->calls++;
    ir->delivered_at_idle = nd_receiver_stats(ir->r)->delivered;
    ir->pending_at_idle = nd_engine_pending(ir->e);
}

static int cond_idle(void *ud)
{
    return ((struct idle_rec *)ud)->calls > 0;
}

static void test_shutdown(void)
{
    struct ctx c;
    struct idle_rec ir;
    struct nd_notification *n[5];
    char *log;
    int i;

    /* Graceful: queued jobs get delivered, then idle. */
    setup(&c);
    memset(&ir, 0, sizeof(ir));
    ir.e = c.e;
    ir.r = mk_rcv(&c, "sd", "webhook", "/slow", "max_in_flight = 1\n");
    for (i = 0; i < 5; i++)
        n[i] = submit(ir.r, "S");
    nd_engine_shutdown(c.e, 5 * ND_NS_PER_S, on_idle, &ir);
    is_int(ir.calls, 0, "idle not called synchronously");
    ok(run_until_ms(c.base, cond_idle, &ir, 10000), "shutdown: idle called");
    is_uint(ir.delivered_at_idle, 5, "all queued jobs delivered before idle");
    is_uint(ir.pending_at_idle, 0, "nothing pending at idle");
    run_until_ms(c.base, cond_settled, c.e, 1000);
    is_int(ir.calls, 1, "idle called once");
    for (i = 0; i < 5; i++)
        nd_notification_unref(n[i]);
    teardown(&c);

    /* Deadline: what hangs is aborted, logged and counted failed. */
    setup(&c);
    log_capture();
    memset(&ir, 0, sizeof(ir));
    ir.e = c.e;
    ir.r = mk_rcv(&c, "sdh", "webhook", "/hang", "timeout = 20s\nmax_in_flight = 1\n");
    n[0] = submit(ir.r, "H1");
    n[1] = submit(ir.r, "H2");
    nd_engine_shutdown(c.e, 300 * ND_NS_PER_MS, on_idle, &ir);
    ok(run_until_ms(c.base, cond_idle, &ir, 10000), "shutdown deadline: idle called");
    log = log_take();
    is_uint(nd_receiver_stats(ir.r)->failed, 2, "both counted failed");
    is_uint(nd_receiver_stats(ir.r)->in_flight, 0, "in_flight back to 0");
    is_uint(nd_receiver_stats(ir.r)->queued, 0, "queued back to 0");
    has_str(log, "shutdown: aborted in flight", "in-flight job logged");
    has_str(log, "shutdown: still queued", "queued job logged");
    free(log);
    is_int(n[0]->refs + n[1]->refs, 2, "references dropped");
    nd_notification_unref(n[0]);
    nd_notification_unref(n[1]);
    /* After the deadline, new work fails at once (and is logged). */
    log_capture();
    n[0] = submit(ir.r, "late");
    log = log_take();
    is_uint(nd_receiver_stats(ir.r)->failed, 3, "late submission counted failed");
    has_str(log, "shutdown: submitted after the deadline", "late submission logged");
    free(log);
    nd_notification_unref(n[0]);
    is_int(ir.calls, 1, "idle called once");
    teardown(&c);
}

/* ---- a fake type with a prepare step ------------------------------------ */

struct fake {
    char base[64];
    char key[32];        /* prepare key; "" = no prepare step */
    char token_path[32]; /* where the token comes from */
    char check_path[32]; /* where the requests go */
    int64_t gap_ns;      /* admit: minimum gap between sends, 0 = no throttle */
    int64_t next_ok_ns;
    int admit_waits; /* admit() answers that asked to wait */
    int prepare_calls;
    struct nd_prep *pending;
};
static struct fake *fake_states[4];
static int nfake;

static int fake_configure(struct nd_receiver_config *rc, const struct nd_template_set *templates,
                          void **state, struct nd_config_errors *errs)
{
    ND_UNUSED(templates);
    struct fake *f = nd_xcalloc(1, sizeof(*f));
    const char *b = "", *k = "fake:shared", *tp = "/token", *cp = "/tokcheck";
    uint64_t gap_ms = 0;

    nd_receiver_config_string(rc, "base", &b);
    nd_receiver_config_string(rc, "key", &k);
    nd_receiver_config_string(rc, "token_path", &tp);
    nd_receiver_config_string(rc, "check_path", &cp);
    nd_receiver_config_uint(rc, "gap_ms", 10000, &gap_ms, errs);
    snprintf(f->base, sizeof(f->base), "%s", b);
    snprintf(f->key, sizeof(f->key), "%s", k);
    snprintf(f->token_path, sizeof(f->token_path), "%s", tp);
    snprintf(f->check_path, sizeof(f->check_path), "%s", cp);
    f->gap_ns = (int64_t)gap_ms * ND_NS_PER_MS;
    *state = f;
    if (nfake < 4)
        fake_states[nfake++] = f;
    return ND_OK;
}

static void fake_free(void *state)
{
    free(state);
}

static const char *fake_key(void *state)
{
    struct fake *f = state;
    return f->key[0] ? f->key : NULL;
}

static int64_t fake_admit(void *state, int64_t now_ns)
{
    struct fake *f = state;

    if (f->gap_ns == 0)
        return 0;
    if (now_ns < f->next_ok_ns) {
        f->admit_waits++;
        return f->next_ok_ns - now_ns;
    }
    f->next_ok_ns = now_ns + f->gap_ns;
    return 0;
}

static void fake_token_done(const struct nd_response *r, void *ud)
{
    struct fake *f = ud;
    struct nd_prep *p = f->pending;

    f->pending = NULL;
    if (r->curl_code != 0 || r->status != 200)
        nd_prep_done(p, NULL, 0, "token fetch failed");
    else
        nd_prep_done(p, nd_buf_cstr(r->body), 3600 * ND_NS_PER_S, NULL);
}

static void fake_prepare(void *state, struct nd_engine *e, struct nd_prep *p)
{
    struct fake *f = state;
    struct nd_request req;

    f->prepare_calls++;
    f->pending = p;
    nd_request_init(&req);
    req.url = nd_xasprintf("%s%s", f->base, f->token_path);
    req.method = "GET";
    nd_engine_fetch_take(e, &req, 5 * ND_NS_PER_S, fake_token_done, f);
}

static int fake_build(void *state, const struct nd_notification *n, const char *prepared,
                      struct nd_request *req, char *err)
{
    struct fake *f = state;
    char *h;

    (void)n;
    (void)err;
    req->url = nd_xasprintf("%s%s", f->base, f->check_path);
    h = nd_xasprintf("Authorization: Bearer %s", prepared ? prepared : "(none)");
    req->headers = curl_slist_append(req->headers, h);
    free(h);
    nd_buf_adds(&req->body, "{}");
    return ND_OK;
}

static void fake_classify(void *state, const struct nd_response *r, struct nd_verdict *v)
{
    (void)state;
    nd_classify_http(r, v);
    if (r->status == 401) {
        v->kind = ND_VERDICT_RETRY;
        v->delay_ns = 0;
        v->reprepare = true;
    }
}

static const struct nd_receiver_type fake_type = {
    .name = "fake",
    .configure = fake_configure,
    .free_state = fake_free,
    .build = fake_build,
    .classify = fake_classify,
    .prepare_key = fake_key,
    .prepare_start = fake_prepare,
    .admit = fake_admit,
};

struct prep_ctx {
    struct nd_receiver *a, *b;
};

static int cond_prep(void *ud)
{
    struct prep_ctx *p = ud;
    return nd_receiver_stats(p->a)->delivered == 3 && nd_receiver_stats(p->b)->delivered == 3;
}

static void test_prepare(void)
{
    struct ctx c;
    struct prep_ctx p;
    struct nd_notification *n[6];
    char extra[96];
    int i, calls, with_tok2 = 0, with_tok1 = 0;

    is_int(nd_receiver_type_register(&fake_type), ND_OK, "fake type registered");
    setup(&c);
    snprintf(extra, sizeof(extra), "base = http://127.0.0.1:%d\nmax_in_flight = 3\n", S.port);
    p.a = mk_rcv(&c, "fa", "fake", NULL, extra);
    p.b = mk_rcv(&c, "fb", "fake", NULL, extra);
    for (i = 0; i < 3; i++) {
        n[2 * i] = submit(p.a, "P");
        n[2 * i + 1] = submit(p.b, "P");
    }
    ok(run_until_ms(c.base, cond_prep, &p, 10000), "prepare: all delivered");
    calls = fake_states[0]->prepare_calls + fake_states[1]->prepare_calls;
    /* One fetch for the 6 jobs of 2 receivers sharing the key, then one
     * more after the server rejected the first token. */
    is_int(calls, 2, "prepare ran once per needed token, shared by both receivers");
    is_int(S.tokens_issued, 2, "two token fetches at the server");
    is_int(path_hits("/token"), 2, "token endpoint hit twice");
    for (i = 0; i < S.nhits; i++) {
        if (strcmp(S.hits[i].path, "/tokcheck") != 0)
            continue;
        with_tok1 += strcmp(S.hits[i].auth, "Bearer tok-1") == 0;
        with_tok2 += strcmp(S.hits[i].auth, "Bearer tok-2") == 0;
    }
    is_int(with_tok2, 6, "every job delivered with the fresh token");
    ok(with_tok1 >= 1, "the first token was used and rejected (%d times)", with_tok1);
    ok(S.hits[0].path[1] == 't' && strcmp(S.hits[0].path, "/token") == 0,
       "no request was sent before the token arrived");
    is_uint(nd_receiver_stats(p.a)->retried + nd_receiver_stats(p.b)->retried, (uint64_t)with_tok1,
            "each rejection counted as a retry");
    for (i = 0; i < 6; i++)
        nd_notification_unref(n[i]);
    teardown(&c);
}

static void test_prepare_fails(void)
{
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n;
    char extra[160];
    char *log;
    struct fake *f;

    setup(&c);
    log_capture();
    snprintf(extra, sizeof(extra),
             "base = http://127.0.0.1:%d\nkey = fake:down\ntoken_path = /tokenfail\n"
             "retry_initial = 10ms\nretry_max_attempts = 2\n",
             S.port);
    nfake = 0;
    r = mk_rcv(&c, "fdown", "fake", NULL, extra);
    f = fake_states[0];
    n = submit(r, "P");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "prepare failure: settled");
    log = log_take();
    is_int(f->prepare_calls, 2, "one prepare per attempt while it fails");
    is_int(path_hits("/tokcheck"), 0, "nothing sent without the prepared value");
    is_uint(nd_receiver_stats(r)->failed, 1, "given up after the attempts");
    is_uint(nd_receiver_stats(r)->retried, 1, "the failed prepare was retried");
    has_str(log, "prepare: token fetch failed", "the reason names the prepare step");
    free(log);
    nd_notification_unref(n);
    teardown(&c);
}

/* A new token refused too: the job fails after its second attempt instead
 * of fetching tokens until retry_max_attempts. */
static void test_prepare_refused_twice(void)
{
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n;
    char extra[192];
    char *log;
    int before;

    setup(&c);
    before = S.tokens_issued;
    log_capture();
    snprintf(extra, sizeof(extra),
             "base = http://127.0.0.1:%d\nkey = fake:refused\ncheck_path = /tokrefuse\n"
             "retry_initial = 10ms\nretry_max_attempts = 10\n",
             S.port);
    nfake = 0;
    r = mk_rcv(&c, "frefused", "fake", NULL, extra);
    n = submit(r, "P");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "refused twice: settled");
    log = log_take();
    is_int(path_hits("/tokrefuse"), 2, "sent with the first token, then once with a new one");
    is_int(S.tokens_issued - before, 2, "two tokens fetched, no more");
    is_uint(nd_receiver_stats(r)->failed, 1, "then failed");
    is_uint(nd_receiver_stats(r)->retried, 1, "one retry");
    has_str(log, "(again with a new value)", "the reason says the new value was refused too");
    free(log);
    nd_notification_unref(n);
    teardown(&c);
}

static int cond_three(void *ud)
{
    return nd_receiver_stats(ud)->delivered == 3;
}

static void test_admit(void)
{
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n[3];
    char extra[160];
    struct fake *f;
    int i;

    setup(&c);
    snprintf(extra, sizeof(extra), "base = http://127.0.0.1:%d\nkey =\ngap_ms = 100\n", S.port);
    nfake = 0;
    r = mk_rcv(&c, "fthr", "fake", NULL, extra);
    f = fake_states[0];
    for (i = 0; i < 3; i++)
        n[i] = submit(r, "T");
    ok(run_until_ms(c.base, cond_three, r, 10000), "throttled: all delivered");
    is_int(path_hits("/tokcheck"), 3, "three sends");
    ok(f->admit_waits >= 2, "admit() held sends back (%d waits)", f->admit_waits);
    ok(S.hits[2].mono_ns - S.hits[0].mono_ns >= 150 * ND_NS_PER_MS,
       "three sends with a 100 ms gap span >= 150 ms (%lld ms)",
       (long long)((S.hits[2].mono_ns - S.hits[0].mono_ns) / ND_NS_PER_MS));
    is_str(S.hits[0].auth, "Bearer (none)", "no prepare step when the key is NULL");
    for (i = 0; i < 3; i++)
        nd_notification_unref(n[i]);
    teardown(&c);
}

static int cond_two_hits(void *ud)
{
    (void)ud;
    return S.nhits >= 2;
}

/* Freeing a busy engine: in flight, queued, waiting on a prepare whose
 * fetch is on the wire. ASan checks the rest. */
static void test_free_busy(void)
{
    struct ctx c;
    struct nd_receiver *h, *f;
    struct nd_notification *n[4];
    char extra[160];
    int i;

    setup(&c);
    h = mk_rcv(&c, "busy", "webhook", "/hang", "max_in_flight = 1\n");
    snprintf(extra, sizeof(extra), "base = http://127.0.0.1:%d\nkey = fake:busy\n", S.port);
    nfake = 0;
    f = mk_rcv(&c, "fbusy", "fake", NULL, extra);
    n[0] = submit(h, "B1");
    n[1] = submit(h, "B2");
    n[2] = submit(f, "B3");
    n[3] = submit(f, "B4");
    ok(run_until_ms(c.base, cond_two_hits, NULL, 5000), "hang and token requests on the wire");
    is_uint(nd_engine_pending(c.e), 4, "four pending");
    nd_engine_free(c.e);
    c.e = NULL;
    for (i = 0; i < 4; i++)
        is_int(n[i]->refs, 1, "free released notification %d", i);
    for (i = 0; i < 4; i++)
        nd_notification_unref(n[i]);
    srv_stop();
    event_base_free(c.base);
}

static void test_console(void)
{
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n;
    char *want, *joined;
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);

    setup(&c);
    nd_console_set_stream(f);
    r = mk_rcv(&c, "con", "console", NULL, "max_in_flight = 1\n");
    n = submit(r, "C");
    ok(run_until_ms(c.base, cond_settled, c.e, 5000), "console: settled");
    nd_console_set_stream(NULL);
    fclose(f);
    is_uint(nd_receiver_stats(r)->delivered, 1, "console counts delivered");
    want = render_text("nm.default.text", n);
    ok(strlen(want) > 0 && strstr(want, "alertname: C"), "nm.default.text lists the label");
    joined = nd_xasprintf("%s\n", want);
    is_str(mem, joined, "console printed the nm.default.text rendering and one newline");
    has_str(mem, "[FIRING] ", "the status line of nm.default.text");
    free(joined);
    free(want);
    free(mem);
    nd_notification_unref(n);
    teardown(&c);
}

/* `template` on the console: a name of ours, or an invocation. */
static void test_console_template(void)
{
    struct ctx c;
    struct nd_receiver *r1, *r2;
    struct nd_notification *n1, *n2;
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);

    setup(&c);
    nd_console_set_stream(f);
    r1 = mk_rcv(&c, "c1", "console", NULL, "template = t.short\n");
    r2 = mk_rcv(&c, "c2", "console", NULL, "template = <{{ template \"t.short\" . }}>\n");
    n1 = submit(r1, "Disk");
    ok(run_until_ms(c.base, cond_settled, c.e, 5000), "console template: settled");
    n2 = submit(r2, "Cpu");
    ok(run_until_ms(c.base, cond_settled, c.e, 5000), "console invocation: settled");
    nd_console_set_stream(NULL);
    fclose(f);
    /* Text() trims the trailing blanks of the rendering; the console adds
     * its newline after. */
    is_str(mem, "1 alert(s) for Disk\n<1 alert(s) for Cpu  \n\n>\n",
           "console renders the named template and the invocation");
    free(mem);
    nd_notification_unref(n1);
    nd_notification_unref(n2);
    teardown(&c);
}

/* A webhook with `template`: the body is the rendering, still sent as
 * JSON; without it, the raw JSON (test_retry_then_delivered). */
static void test_webhook_template(void)
{
    struct ctx c;
    struct nd_receiver *r;
    struct nd_notification *n;
    char *want;

    setup(&c);
    r = mk_rcv(&c, "wt", "webhook", "/ok", "template = nm.default.text\n");
    n = submit(r, "Mem");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "webhook template: settled");
    is_uint(nd_receiver_stats(r)->delivered, 1, "delivered");
    want = render_text("nm.default.text", n);
    is_str(S.hits[0].body, want, "body is the nm.default.text rendering");
    has_str(S.hits[0].body, "alertname: Mem", "the rendering lists the label");
    is_str(S.hits[0].ctype, "application/json", "content type stays application/json (NM)");
    free(want);
    nd_notification_unref(n);
    teardown(&c);
}

/* A template that fails at delivery: failed at once, logged with the
 * receiver and template, no retry, no request, no crash. */
static void test_render_error(void)
{
    struct ctx c;
    struct nd_receiver *rw, *rc;
    struct nd_notification *n1, *n2;
    const struct nd_receiver_stats *st;
    char *log;
    char *mem = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&mem, &len);

    setup(&c);
    log_capture();
    nd_console_set_stream(f);
    rw = mk_rcv(&c, "wbroken", "webhook", "/ok", "template = t.broken\nretry_initial = 10ms\n");
    rc = mk_rcv(&c, "cbroken", "console", NULL, "template = t.broken\nretry_initial = 10ms\n");
    n1 = submit(rw, "A");
    n2 = submit(rc, "B");
    ok(run_until_ms(c.base, cond_settled, c.e, 10000), "render error: settled");
    nd_console_set_stream(NULL);
    fclose(f);
    log = log_take();
    st = nd_receiver_stats(rw);
    is_uint(st->failed, 1, "webhook: counted failed");
    is_uint(st->retried, 0, "webhook: not retried");
    is_uint(st->delivered, 0, "webhook: not delivered");
    is_int(S.nhits, 0, "no request was sent");
    st = nd_receiver_stats(rc);
    is_uint(st->failed, 1, "console: counted failed");
    is_uint(st->retried, 0, "console: not retried");
    is_str(mem, "", "console printed nothing");
    has_str(log, "receiver=wbroken", "log names the webhook receiver");
    has_str(log, "receiver=cbroken", "log names the console receiver");
    has_str(log, "template t.broken", "log names the template");
    has_str(log, "index out of range", "log gives the engine's error");
    free(log);
    free(mem);
    nd_notification_unref(n1);
    nd_notification_unref(n2);
    teardown(&c);
}

/* ---- retiring a receiver (reload) ------------------------------------- */

static int cond_not_busy(void *ud)
{
    return !nd_receiver_busy(ud);
}

static int cond_in_flight(void *ud)
{
    return nd_receiver_stats(ud)->in_flight == 1;
}

/* A retired receiver keeps delivering what it holds; at its own deadline
 * the rest is given up with "receiver removed" reasons; once not busy it
 * is freed, and the engine goes on with its other receivers. */
static void test_retire(void)
{
    struct ctx c;
    struct nd_receiver *slow, *stuck, *stay;
    struct nd_notification *n1, *n2, *n3, *n4, *n5;
    char *log;

    setup(&c);
    log_capture();
    slow = mk_rcv(&c, "slow", "webhook", "/slow", "");
    stuck = mk_rcv(&c, "stuck", "webhook", "/hang", "max_in_flight = 1\ntimeout = 20s\n");
    stay = mk_rcv(&c, "stay", "webhook", "/ok", "");
    n1 = submit(slow, "A");
    n2 = submit(stuck, "B");
    n3 = submit(stuck, "C");
    ok(run_until_ms(c.base, cond_in_flight, stuck, 5000), "retire: stuck has one in flight");
    nd_receiver_retire(slow, 10 * ND_NS_PER_S);
    nd_receiver_retire(stuck, 200 * ND_NS_PER_MS);
    nd_receiver_retire(stuck, 10 * ND_NS_PER_S); /* ignored */
    ok(nd_receiver_busy(slow) && nd_receiver_busy(stuck), "retire: both busy at first");
    ok(run_until_ms(c.base, cond_not_busy, slow, 5000), "retire: slow finishes");
    is_uint(nd_receiver_stats(slow)->delivered, 1, "retire: what slow held was delivered");
    nd_receiver_free(slow);
    ok(run_until_ms(c.base, cond_not_busy, stuck, 5000), "retire: stuck ends at its deadline");
    is_uint(nd_receiver_stats(stuck)->failed, 2, "retire: both of stuck's given up");
    nd_receiver_free(stuck);
    log = log_take();
    has_str(log, "receiver removed: aborted in flight", "retire: in-flight reason logged");
    has_str(log, "receiver removed: still queued", "retire: queued reason logged");
    free(log);
    is_int(n1->refs, 1, "retire: references dropped (delivered)");
    is_int(n2->refs + n3->refs, 2, "retire: references dropped (given up)");
    n4 = submit(stay, "D");
    ok(run_until_ms(c.base, cond_settled, c.e, 5000), "retire: the other receiver delivers");
    is_uint(nd_receiver_stats(stay)->delivered, 1, "retire: delivered after the frees");
    ok(!nd_receiver_busy(stay), "retire: an idle receiver is not busy");
    n5 = submit(stay, "E");
    ok(nd_receiver_busy(stay), "retire: a queued job makes it busy");
    ok(run_until_ms(c.base, cond_settled, c.e, 5000), "retire: settled");
    nd_notification_unref(n1);
    nd_notification_unref(n2);
    nd_notification_unref(n3);
    nd_notification_unref(n4);
    nd_notification_unref(n5);
    teardown(&c);
}

int main(void)
{
    nd_log_set_level(ND_LOG_INFO);
    templates_init();
    if (nd_receiver_type_register(&cr_type) != ND_OK)
        abort();
    test_retry_then_delivered();
    test_no_expect();
    test_handle_reuse();
    test_basic_auth_and_server_name();
    test_retry_after();
    test_classify_retry_uses_backoff();
    test_404();
    test_outcome_hook();
    test_release();
    test_hang_timeout();
    test_max_in_flight();
    test_shutdown();
    test_prepare();
    test_prepare_fails();
    test_prepare_refused_twice();
    test_admit();
    test_free_busy();
    test_retire();
    test_console();
    test_console_template();
    test_webhook_template();
    test_render_error();
    nd_template_set_free(T);
    return done_testing();
}
