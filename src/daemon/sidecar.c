/* sidecar.c - see sidecar.h. */
#include "notifyd/sidecar.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "notifyd/buf.h"
#include "notifyd/log.h"
#include "notifyd/receiver.h"
#include "notifyd/route.h"
#include "notifyd/tenantcache.h"
#include "notifyd/url.h"
#include "notifyd/util.h"

/* Failure logs: at most one per this interval, with the number left out. */
#define LOG_EVERY_MS 10000

struct key {
    char *cluster;
    char *ns;
};

/* One lookup out. It outlives its sidecar when the sidecar is freed
 * first: s is then NULL and the answer is dropped. */
struct lookup {
    struct nd_sidecar *s;
    struct key k;
    TAILQ_ENTRY(lookup) link;
};

struct held {
    struct nd_alert **v; /* one reference each */
    size_t n;
    struct key *wait; /* the lookups it waits for */
    size_t nwait;
    TAILQ_ENTRY(held) link;
};

struct nd_sidecar {
    struct nd_engine *engine;
    char *url;
    int64_t ttl_ms, fail_ttl_ms, timeout_ns;
    struct nd_route *route;
    struct nd_tcache *cache;
    nd_batch_cb *run;
    void *run_ud;
    uint64_t *errors;
    TAILQ_HEAD(, lookup) out;
    TAILQ_HEAD(, held) held;
    size_t nheld;
    int64_t last_log_ms;
    uint64_t unlogged;
    bool draining;
};

struct nd_sidecar *nd_sidecar_new(struct nd_engine *e, const struct nd_sidecar_config *c,
                                  nd_batch_cb *run, void *run_ud, uint64_t *errors)
{
    struct nd_sidecar *s = nd_xcalloc(1, sizeof *s);
    s->engine = e;
    s->url = nd_xstrdup(c->url);
    s->ttl_ms = c->ttl_ns / 1000000;
    s->fail_ttl_ms = c->fail_ttl_ns / 1000000;
    s->timeout_ns = c->timeout_ns;
    s->route = c->route;
    s->cache = nd_tcache_new(c->max_entries);
    s->run = run;
    s->run_ud = run_ud;
    s->errors = errors;
    s->last_log_ms = -LOG_EVERY_MS;
    TAILQ_INIT(&s->out);
    TAILQ_INIT(&s->held);
    return s;
}

static const char *cluster_of(const struct nd_alert *a)
{
    const char *c = nd_alert_label(a, "cluster");
    return c ? c : "";
}

static bool key_eq(const struct key *k, const char *cluster, const char *ns)
{
    return strcmp(k->ns, ns) == 0 && strcmp(k->cluster, cluster) == 0;
}

static struct lookup *find_out(struct nd_sidecar *s, const char *cluster, const char *ns)
{
    struct lookup *l;
    TAILQ_FOREACH(l, &s->out, link)
    if (key_eq(&l->k, cluster, ns))
        return l;
    return NULL;
}

static void fail_log(struct nd_sidecar *s, const struct key *k, const char *why)
{
    int64_t now = nd_now_mono_ms();
    (*s->errors)++;
    if (now - s->last_log_ms < LOG_EVERY_MS) {
        s->unlogged++;
        return;
    }
    char left[32];
    snprintf(left, sizeof left, "%llu", (unsigned long long)s->unlogged);
    nd_log(ND_LOG_WARN, "tenant sidecar lookup failed: global receivers only", "cluster",
           k->cluster, "namespace", k->ns, "error", why, "failures_not_logged", left, NULL);
    s->last_log_ms = now;
    s->unlogged = 0;
}

static void held_free(struct held *h)
{
    for (size_t i = 0; i < h->n; i++)
        nd_alert_unref(h->v[i]);
    for (size_t i = 0; i < h->nwait; i++) {
        free(h->wait[i].cluster);
        free(h->wait[i].ns);
    }
    free(h->wait);
    free(h->v);
    free(h);
}

static bool held_ready(struct nd_sidecar *s, const struct held *h)
{
    for (size_t i = 0; i < h->nwait; i++)
        if (find_out(s, h->wait[i].cluster, h->wait[i].ns))
            return false;
    return true;
}

/* Runs the held batches from the front while ready (all with force). */
static void drain(struct nd_sidecar *s, bool force)
{
    struct held *h;
    if (s->draining)
        return;
    s->draining = true;
    while ((h = TAILQ_FIRST(&s->held)) && (force || held_ready(s, h))) {
        TAILQ_REMOVE(&s->held, h, link);
        s->nheld--;
        s->run(h->v, h->n, s->run_ud);
        held_free(h);
    }
    s->draining = false;
}

static void on_answer(const struct nd_response *r, void *ud)
{
    struct lookup *l = ud;
    struct nd_sidecar *s = l->s;

    if (s) {
        int64_t now = nd_now_mono_ms();
        char err[ND_ERRLEN];
        struct nd_strlist names = {0};
        TAILQ_REMOVE(&s->out, l, link);
        if (r->curl_code != 0) {
            fail_log(s, &l->k, r->curl_error && *r->curl_error ? r->curl_error : "no answer");
            nd_tcache_put_failed(s->cache, l->k.cluster, l->k.ns, (uint64_t)now,
                                 (uint64_t)s->fail_ttl_ms);
        } else if (r->status != 200) {
            snprintf(err, sizeof err, "HTTP status %ld", r->status);
            fail_log(s, &l->k, err);
            nd_tcache_put_failed(s->cache, l->k.cluster, l->k.ns, (uint64_t)now,
                                 (uint64_t)s->fail_ttl_ms);
        } else if (!r->body || nd_tcache_parse_answer(r->body->data ? r->body->data : "",
                                                      r->body->len, &names, err) != ND_OK) {
            fail_log(s, &l->k, err);
            nd_tcache_put_failed(s->cache, l->k.cluster, l->k.ns, (uint64_t)now,
                                 (uint64_t)s->fail_ttl_ms);
        } else {
            nd_tcache_put(s->cache, l->k.cluster, l->k.ns, (uint64_t)now, (uint64_t)s->ttl_ms,
                          (const char *const *)names.v, names.n);
        }
        nd_strlist_deinit(&names);
        drain(s, false);
    }
    free(l->k.cluster);
    free(l->k.ns);
    free(l);
}

static void start_lookup(struct nd_sidecar *s, const char *cluster, const char *ns)
{
    struct lookup *l = nd_xcalloc(1, sizeof *l);
    struct nd_request req;
    struct nd_buf q, u;
    struct nd_url_param p[2] = {{"cluster", cluster}, {"namespace", ns}};

    l->s = s;
    l->k.cluster = nd_xstrdup(cluster);
    l->k.ns = nd_xstrdup(ns);
    TAILQ_INSERT_TAIL(&s->out, l, link);
    nd_buf_init(&q, 4096);
    nd_buf_init(&u, 8192);
    nd_url_query_build(&q, p, 2, ND_URL_RFC3986);
    nd_url_append_query(&u, s->url, nd_buf_cstr(&q));
    nd_request_init(&req);
    req.method = "GET";
    req.url = nd_buf_take(&u, NULL);
    req.headers = curl_slist_append(NULL, "Accept: application/json");
    nd_buf_deinit(&q);
    nd_buf_deinit(&u);
    nd_engine_fetch_take(s->engine, &req, s->timeout_ns, on_answer, l);
}

void nd_sidecar_take_cache(struct nd_sidecar *s, struct nd_sidecar *old)
{
    if (strcmp(s->url, old->url) != 0)
        return;
    nd_tcache_move(s->cache, old->cache, (uint64_t)nd_now_mono_ms(), (uint64_t)s->ttl_ms,
                   (uint64_t)s->fail_ttl_ms);
}

/* Whether the route would ask about a's namespace and the cache has no
 * fresh entry for it: *cl and *ns then name the lookup it needs. */
static bool needs_lookup(struct nd_sidecar *s, const struct nd_alert *a, int64_t now,
                         const char **cl, const char **ns)
{
    const char *const *t;
    size_t nt;
    *ns = nd_route_tenant_ns(s->route, a);
    if (!*ns)
        return false;
    *cl = cluster_of(a);
    return nd_tcache_get(s->cache, *cl, *ns, (uint64_t)now, &t, &nt) == ND_TCACHE_MISS;
}

size_t nd_sidecar_prefetch(struct nd_sidecar *s, struct nd_alert *const *alerts, size_t n)
{
    int64_t now = nd_now_mono_ms();
    for (size_t i = 0; i < n; i++) {
        const char *cl, *ns;
        if (needs_lookup(s, alerts[i], now, &cl, &ns) && !find_out(s, cl, ns))
            start_lookup(s, cl, ns);
    }
    return nd_sidecar_lookups_out(s);
}

size_t nd_sidecar_lookups_out(const struct nd_sidecar *s)
{
    size_t out = 0;
    const struct lookup *l;
    TAILQ_FOREACH(l, &s->out, link)
    out++;
    return out;
}

void nd_sidecar_batch_cb(struct nd_alert *const *alerts, size_t n, void *ud)
{
    struct nd_sidecar *s = ud;
    int64_t now = nd_now_mono_ms();
    struct key *wait = NULL;
    size_t nwait = 0;

    for (size_t i = 0; i < n; i++) {
        const char *ns, *cl;
        bool dup = false;
        if (!needs_lookup(s, alerts[i], now, &cl, &ns))
            continue;
        for (size_t j = 0; j < nwait && !dup; j++)
            dup = key_eq(&wait[j], cl, ns);
        if (dup)
            continue;
        if (!find_out(s, cl, ns))
            start_lookup(s, cl, ns);
        wait = nd_xrealloc(wait, (nwait + 1) * sizeof *wait);
        wait[nwait].cluster = nd_xstrdup(cl);
        wait[nwait].ns = nd_xstrdup(ns);
        nwait++;
    }
    if (!nwait && TAILQ_EMPTY(&s->held)) {
        s->run(alerts, n, s->run_ud);
        return;
    }
    struct held *h = nd_xcalloc(1, sizeof *h);
    h->v = nd_xmalloc((n ? n : 1) * sizeof *h->v);
    for (size_t i = 0; i < n; i++) {
        nd_alert_ref(alerts[i]);
        h->v[i] = alerts[i];
    }
    h->n = n;
    h->wait = wait;
    h->nwait = nwait;
    TAILQ_INSERT_TAIL(&s->held, h, link);
    s->nheld++;
}

int nd_sidecar_tenants(void *ud, const struct nd_alert *a, const char *ns,
                       const char *const **tenants, size_t *n)
{
    struct nd_sidecar *s = ud;
    /* Expired since the batch was let through, failed or never asked: no
     * tenants, as for a failed lookup. */
    if (nd_tcache_get(s->cache, cluster_of(a), ns, (uint64_t)nd_now_mono_ms(), tenants, n) !=
        ND_OK) {
        *tenants = NULL;
        *n = 0;
    }
    return ND_OK;
}

size_t nd_sidecar_held(const struct nd_sidecar *s)
{
    return s->nheld;
}

void nd_sidecar_flush(struct nd_sidecar *s)
{
    drain(s, true);
}

void nd_sidecar_free(struct nd_sidecar *s)
{
    struct lookup *l;
    if (!s)
        return;
    drain(s, true);
    while ((l = TAILQ_FIRST(&s->out))) {
        TAILQ_REMOVE(&s->out, l, link);
        l->s = NULL;
    }
    nd_tcache_free(s->cache);
    free(s->url);
    free(s);
}
