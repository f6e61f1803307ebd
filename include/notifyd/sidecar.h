/* sidecar.h - tenants from a tenant sidecar, looked up without blocking
 * the loop (docs/routing.md, "Tenant sidecar").
 *
 * Sits between a generation's batcher and its pipeline. A batch whose
 * alerts that the route would look tenants up for (nd_route_tenant_ns:
 * not under RouterOnly, nor under RouterFirst when a router gets the
 * alert) name a (cluster, namespace) with no
 * fresh cache entry is held (its alerts referenced) while
 * `GET <url>?cluster=C&namespace=N` runs through the engine's curl multi;
 * it goes through the pipeline when every lookup it waits for has answered
 * or failed. Batches keep their order: one arriving behind a held batch is
 * held too. The route evaluates tenants through nd_sidecar_tenants over the
 * cache: a namespace the sidecar answered gets the answer's tenants in
 * place of the [tenant.*] map; one whose lookup failed gets none (global
 * receivers only). Failures are cached for `fail_ttl_ns`.
 */
#ifndef NOTIFYD_SIDECAR_H
#define NOTIFYD_SIDECAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/alert.h"
#include "notifyd/batch.h"

struct nd_engine;
struct nd_route;

struct nd_sidecar_config {
    const char *url; /* http(s) URL, copied */
    int64_t ttl_ns;
    int64_t fail_ttl_ns;
    int64_t timeout_ns;
    size_t max_entries;
    /* Which alerts need a lookup (nd_route_tenant_ns): borrowed, outlives
     * the sidecar. */
    struct nd_route *route;
};

struct nd_sidecar;

/* `run(alerts, n, run_ud)` is the pipeline; `errors` a counter the
 * sidecar increments per failed lookup (it outlives the sidecar). */
struct nd_sidecar *nd_sidecar_new(struct nd_engine *e, const struct nd_sidecar_config *c,
                                  nd_batch_cb *run, void *run_ud, uint64_t *errors);
/* Runs the held batches now (lookups still out count as failed), as at
 * reload and shutdown. */
void nd_sidecar_flush(struct nd_sidecar *s);
/* A reload: s (the new configuration's sidecar) takes the fresh answers
 * old has cached when both ask the same URL (nd_tcache_move: the new
 * TTLs and max_entries bound them), so a reload does not send a burst
 * of lookups. Lookups still out of old do not come over. */
void nd_sidecar_take_cache(struct nd_sidecar *s, struct nd_sidecar *old);
/* Flushes, then frees; lookups still out finish later without it. */
void nd_sidecar_free(struct nd_sidecar *s);
/* The batcher's callback (ud = the sidecar). */
void nd_sidecar_batch_cb(struct nd_alert *const *alerts, size_t n, void *ud);
/* The route's tenant lookup (nd_route_set_tenants, ud = the sidecar). */
int nd_sidecar_tenants(void *ud, const struct nd_alert *a, const char *ns,
                       const char *const **tenants, size_t *n);
/* Starts the lookups the alerts need (as a batch of them would), without
 * holding anything; returns how many lookups are out now, 0 when every
 * answer is cached. The replay at start runs the loop until they end, so
 * that replayed alerts meet their tenants. */
size_t nd_sidecar_prefetch(struct nd_sidecar *s, struct nd_alert *const *alerts, size_t n);
/* Lookups out now, for any batch or prefetch. */
size_t nd_sidecar_lookups_out(const struct nd_sidecar *s);
/* Held batches, lookups out (for tests and logs). */
size_t nd_sidecar_held(const struct nd_sidecar *s);

#endif
