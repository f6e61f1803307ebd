/* prep.c - shared prepare values and one-off fetches (receiver.h).
 *
 * One value per key (e.g. an access token), cached until it expires and
 * fetched once at a time: attempts that need it while a fetch is under
 * way wait on the entry and are woken, from the loop, when the type
 * reports the result with nd_prep_done. A fetch is a one-off request
 * through the engine's curl multi, outside the receivers' slots.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "notifyd/util.h"
#include "engine_int.h"

static struct nd_prep *prep_find(struct nd_engine *e, const char *key)
{
    struct nd_prep *p;

    TAILQ_FOREACH(p, &e->preps, link)
    {
        if (strcmp(p->key, key) == 0)
            return p;
    }
    return NULL;
}

static void on_prep_wake(evutil_socket_t fd, short what, void *arg);

static struct nd_prep *prep_new(struct nd_engine *e, const char *key)
{
    struct nd_prep *p = nd_xcalloc(1, sizeof(*p));

    p->e = e;
    p->key = nd_xstrdup(key);
    TAILQ_INIT(&p->waiters);
    p->wake = evtimer_new(e->base, on_prep_wake, p);
    if (!p->wake)
        abort(); /* only fails on OOM */
    TAILQ_INSERT_TAIL(&e->preps, p, link);
    return p;
}

static void prep_free(struct nd_prep *p)
{
    event_free(p->wake);
    free(p->key);
    free(p->value);
    free(p->result_value);
    free(p->result_err);
    free(p);
}

void nd_prep_done(struct nd_prep *p, const char *value, int64_t ttl_ns, const char *err)
{
    struct timeval zero = {0, 0};

    /* Only record here: the hook may be calling us from inside
     * prepare_start, and the waiters start transfers. */
    free(p->result_value);
    free(p->result_err);
    p->result_value = value && !err ? nd_xstrdup(value) : NULL;
    p->result_err = err || !value ? nd_xstrdup(err ? err : "no value") : NULL;
    p->result_ttl_ns = ttl_ns;
    p->result_ready = true;
    evtimer_add(p->wake, &zero);
}

const char *nd_prep_key(const struct nd_prep *p)
{
    return p->key;
}

static void on_prep_wake(evutil_socket_t fd, short what, void *arg)
{
    struct nd_prep *p = arg;
    struct attempt *a;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    if (!p->result_ready)
        return;
    p->result_ready = false;
    p->fetching = false;
    if (p->result_value) {
        free(p->value);
        p->value = p->result_value;
        p->result_value = NULL;
        p->gen++;
        p->expires_mono_ns = p->e->now() + p->result_ttl_ns;
    }
    while ((a = TAILQ_FIRST(&p->waiters))) {
        TAILQ_REMOVE(&p->waiters, a, wait);
        a->prep = NULL;
        if (p->result_err) {
            struct nd_verdict v;
            nd__fail_verdict(&v, ND_VERDICT_RETRY, "prepare", p->result_err);
            nd__job_finish_attempt(a, &v);
        } else {
            nd__job_send(a, p);
        }
    }
    free(p->result_err);
    p->result_err = NULL;
}

struct nd_prep *nd__prep_get(struct nd_engine *e, const char *key)
{
    struct nd_prep *p = prep_find(e, key);

    return p ? p : prep_new(e, key);
}

void nd__preps_free(struct nd_engine *e)
{
    struct nd_prep *p;

    while ((p = TAILQ_FIRST(&e->preps))) {
        TAILQ_REMOVE(&e->preps, p, link);
        prep_free(p);
    }
}

static void fetch_end(struct fetch *f, const struct nd_response *rsp)
{
    struct nd_engine *e = f->e;

    TAILQ_REMOVE(&e->fetches, f, link);
    f->cb(rsp, f->ud);
    nd_xfer_deinit(&f->xfer);
    if (f->fail_ev)
        event_free(f->fail_ev);
    free(f);
}

static void fake_response(struct nd_response *rsp, int code, const char *msg)
{
    memset(rsp, 0, sizeof(*rsp));
    rsp->curl_code = code;
    rsp->curl_error = msg;
    rsp->now_wall_ns = nd_now_wall_ns();
}

void nd__fetches_abort(struct nd_engine *e)
{
    struct fetch *f;

    while ((f = TAILQ_FIRST(&e->fetches))) {
        struct nd_response rsp;
        fake_response(&rsp, CURLE_ABORTED_BY_CALLBACK, "engine freed");
        nd_xfer_cancel(e->cv, &f->xfer);
        fetch_end(f, &rsp);
    }
}

static void on_fetch_done(struct nd_xfer *x, const struct nd_response *rsp)
{
    fetch_end(x->ud, rsp);
}

static void on_fetch_fail(evutil_socket_t fd, short what, void *arg)
{
    struct fetch *f = arg;
    struct nd_response rsp;

    ND_UNUSED(fd);
    ND_UNUSED(what);
    fake_response(&rsp, CURLE_FAILED_INIT, f->err);
    fetch_end(f, &rsp);
}

void nd_engine_fetch_take(struct nd_engine *e, struct nd_request *req, int64_t timeout_ns,
                          nd_fetch_cb *done, void *ud)
{
    struct fetch *f = nd_xcalloc(1, sizeof(*f));
    struct timeval zero = {0, 0};

    f->e = e;
    f->cb = done;
    f->ud = ud;
    f->xfer.req = *req;
    memset(req, 0, sizeof(*req));
    f->xfer.done = on_fetch_done;
    f->xfer.ud = f;
    TAILQ_INSERT_TAIL(&e->fetches, f, link);
    if (nd_xfer_setup(e->cv, &f->xfer, timeout_ns, f->err) == ND_OK &&
        nd_xfer_start(e->cv, &f->xfer, f->err) == ND_OK)
        return;
    /* The caller must not be called back from inside this call. */
    f->fail_ev = evtimer_new(e->base, on_fetch_fail, f);
    if (!f->fail_ev)
        abort();
    evtimer_add(f->fail_ev, &zero);
}
