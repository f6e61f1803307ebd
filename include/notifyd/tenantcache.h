/* tenantcache.h - the answers of a tenant sidecar, cached per
 * (cluster, namespace), and the parser of one answer.
 *
 * A sidecar answers `GET <url>?cluster=C&namespace=N` with a JSON array of
 * tenant names. An entry holds either those names (fresh for the success
 * TTL) or a failure (fresh for the shorter failure TTL, so that a dead
 * sidecar is not asked again for every batch). The cache holds at most
 * `max_entries` entries: putting into a full cache first drops expired
 * entries, then the entry that expires first.
 *
 * This module is data only: no I/O, no clock of its own (callers pass
 * `now_ms`), so that it can be tested without a loop.
 */
#ifndef NOTIFYD_TENANTCACHE_H
#define NOTIFYD_TENANTCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/util.h"

/* Ceilings of one answer: more names, or a longer name, is a bad answer. */
#define ND_TCACHE_MAX_TENANTS 256
#define ND_TCACHE_MAX_NAME    253
#define ND_TCACHE_DEFAULT_MAX 4096

enum {
    ND_TCACHE_MISS = 1,   /* no fresh entry: ask the sidecar */
    ND_TCACHE_FAILED = 2, /* fresh failure: global receivers only */
};

struct nd_tcache;

struct nd_tcache *nd_tcache_new(size_t max_entries); /* max_entries >= 1 */
void nd_tcache_free(struct nd_tcache *c);            /* NULL is a no-op */

/* ND_OK with *tenants (borrowed until the next put or free) and *n set for a
 * fresh success, ND_TCACHE_FAILED for a fresh failure, ND_TCACHE_MISS when
 * absent or expired. */
int nd_tcache_get(const struct nd_tcache *c, const char *cluster, const char *ns, uint64_t now_ms,
                  const char *const **tenants, size_t *n);
/* Stores an answer (tenants may be NULL when n is 0), copying the names,
 * valid until now_ms + ttl_ms. Replaces an entry of the same key. */
void nd_tcache_put(struct nd_tcache *c, const char *cluster, const char *ns, uint64_t now_ms,
                   uint64_t ttl_ms, const char *const *tenants, size_t n);
/* Stores a failure valid until now_ms + ttl_ms. */
void nd_tcache_put_failed(struct nd_tcache *c, const char *cluster, const char *ns, uint64_t now_ms,
                          uint64_t ttl_ms);
size_t nd_tcache_size(const struct nd_tcache *c);
/* Moves the entries of src still fresh at now_ms into dst (a reload's new
 * cache), leaving src empty. Each keeps its expiry, cut to now_ms +
 * ttl_ms (fail_ttl_ms for a failure) when that comes sooner: the new
 * TTLs bound what is carried. dst's max_entries applies as for a put. */
void nd_tcache_move(struct nd_tcache *dst, struct nd_tcache *src, uint64_t now_ms, uint64_t ttl_ms,
                    uint64_t fail_ttl_ms);

/* Parses a sidecar answer: a JSON array of non-empty strings (at most
 * ND_TCACHE_MAX_TENANTS, each at most ND_TCACHE_MAX_NAME bytes; null is
 * taken as the empty array). ND_OK with out filled (the caller deinits it),
 * or ND_EINVAL/ND_ETOOBIG with err (ND_ERRLEN bytes) naming what is wrong
 * and out left empty. */
int nd_tcache_parse_answer(const char *body, size_t len, struct nd_strlist *out, char *err);

#endif
