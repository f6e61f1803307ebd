/* tenantcache.c - see tenantcache.h. A flat array searched linearly: the
 * cache is bounded and looked up once per distinct namespace of a batch,
 * not per alert. */
#include "notifyd/tenantcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/jsonr.h"

struct entry {
    char *cluster;
    char *ns;
    struct nd_strlist tenants;
    uint64_t expires_ms;
    bool failed;
};

struct nd_tcache {
    struct entry *e;
    size_t n, max;
};

struct nd_tcache *nd_tcache_new(size_t max_entries)
{
    struct nd_tcache *c = nd_xcalloc(1, sizeof *c);
    c->max = max_entries ? max_entries : 1;
    c->e = nd_xcalloc(c->max, sizeof *c->e);
    return c;
}

static void entry_deinit(struct entry *e)
{
    free(e->cluster);
    free(e->ns);
    nd_strlist_deinit(&e->tenants);
    memset(e, 0, sizeof *e);
}

void nd_tcache_free(struct nd_tcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        entry_deinit(&c->e[i]);
    free(c->e);
    free(c);
}

size_t nd_tcache_size(const struct nd_tcache *c)
{
    return c->n;
}

static struct entry *find(const struct nd_tcache *c, const char *cluster, const char *ns)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->e[i].ns, ns) == 0 && strcmp(c->e[i].cluster, cluster) == 0)
            return &c->e[i];
    return NULL;
}

int nd_tcache_get(const struct nd_tcache *c, const char *cluster, const char *ns, uint64_t now_ms,
                  const char *const **tenants, size_t *n)
{
    const struct entry *e = find(c, cluster, ns);
    if (!e || now_ms >= e->expires_ms)
        return ND_TCACHE_MISS;
    if (e->failed)
        return ND_TCACHE_FAILED;
    *tenants = (const char *const *)e->tenants.v;
    *n = e->tenants.n;
    return ND_OK;
}

static void remove_at(struct nd_tcache *c, size_t i)
{
    entry_deinit(&c->e[i]);
    c->e[i] = c->e[--c->n];
    memset(&c->e[c->n], 0, sizeof c->e[c->n]); /* the moved entry has one owner */
}

/* A slot for a new key: expired entries go first; in a cache still full,
 * the entry that expires first. */
static struct entry *slot(struct nd_tcache *c, const char *cluster, const char *ns, uint64_t now_ms)
{
    struct entry *e = find(c, cluster, ns);
    if (e) {
        entry_deinit(e);
    } else {
        if (c->n == c->max) {
            for (size_t i = c->n; i-- > 0;)
                if (now_ms >= c->e[i].expires_ms)
                    remove_at(c, i);
        }
        if (c->n == c->max) {
            size_t first = 0;
            for (size_t i = 1; i < c->n; i++)
                if (c->e[i].expires_ms < c->e[first].expires_ms)
                    first = i;
            remove_at(c, first);
        }
        e = &c->e[c->n++];
    }
    e->cluster = nd_xstrdup(cluster);
    e->ns = nd_xstrdup(ns);
    return e;
}

void nd_tcache_put(struct nd_tcache *c, const char *cluster, const char *ns, uint64_t now_ms,
                   uint64_t ttl_ms, const char *const *tenants, size_t n)
{
    struct entry *e = slot(c, cluster, ns, now_ms);
    for (size_t i = 0; i < n; i++)
        nd_strlist_add(&e->tenants, tenants[i], strlen(tenants[i]));
    e->expires_ms = now_ms + ttl_ms;
    e->failed = false;
}

void nd_tcache_put_failed(struct nd_tcache *c, const char *cluster, const char *ns, uint64_t now_ms,
                          uint64_t ttl_ms)
{
    struct entry *e = slot(c, cluster, ns, now_ms);
    e->expires_ms = now_ms + ttl_ms;
    e->failed = true;
}

void nd_tcache_move(struct nd_tcache *dst, struct nd_tcache *src, uint64_t now_ms, uint64_t ttl_ms,
                    uint64_t fail_ttl_ms)
{
    for (size_t i = 0; i < src->n; i++) {
        struct entry *from = &src->e[i];
        if (now_ms >= from->expires_ms)
            continue;
        uint64_t cap = now_ms + (from->failed ? fail_ttl_ms : ttl_ms);
        struct entry *to = slot(dst, from->cluster, from->ns, now_ms);
        nd_strlist_deinit(&to->tenants);
        to->tenants = from->tenants;
        memset(&from->tenants, 0, sizeof from->tenants);
        to->expires_ms = from->expires_ms < cap ? from->expires_ms : cap;
        to->failed = from->failed;
    }
    for (size_t i = 0; i < src->n; i++)
        entry_deinit(&src->e[i]);
    src->n = 0;
}

int nd_tcache_parse_answer(const char *body, size_t len, struct nd_strlist *out, char *err)
{
    struct nd_jsonr *doc = NULL;
    size_t n = 0;
    int rc = nd_jsonr_parse(body, len, &doc, err);
    if (rc != ND_OK)
        return rc;
    enum nd_jsonr_type t = nd_jsonr_type(doc, "");
    if (t == ND_JSONR_NULL) {
        nd_jsonr_free(doc);
        return ND_OK;
    }
    if (t != ND_JSONR_ARRAY) {
        nd_jsonr_free(doc);
        return nd_seterr(err, ND_EINVAL, "answer is not a JSON array of tenant names");
    }
    nd_jsonr_len(doc, "", &n);
    if (n > ND_TCACHE_MAX_TENANTS) {
        nd_jsonr_free(doc);
        return nd_seterr(err, ND_ETOOBIG, "answer has %zu tenants (at most %d)", n,
                         ND_TCACHE_MAX_TENANTS);
    }
    for (size_t i = 0; i < n; i++) {
        char path[32];
        const char *s = NULL;
        snprintf(path, sizeof path, "%zu", i);
        if (nd_jsonr_str(doc, path, &s) != ND_OK || !*s || strlen(s) > ND_TCACHE_MAX_NAME) {
            nd_strlist_deinit(out);
            nd_jsonr_free(doc);
            return nd_seterr(err, ND_EINVAL,
                             "answer element %zu is not a tenant name (a string of 1 to %d bytes)",
                             i, ND_TCACHE_MAX_NAME);
        }
        nd_strlist_add(out, s, strlen(s));
    }
    nd_jsonr_free(doc);
    return ND_OK;
}
