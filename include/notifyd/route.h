/* route.h - who gets an alert: tenants, routers and the routing policy
 * (Notification Manager's route stage, docs/routing.md).
 *
 * Built once at start from [routing], [tenant.NAME], [router.NAME] and the
 * receivers; everything a decision needs is precomputed (each router's
 * receivers, the namespace -> tenant receivers index, the global
 * receivers, the routers indexed by the first k=v of their alert
 * selector), so routing one alert evaluates only the selectors of the
 * routers that can match and copies precomputed lists, without allocating:
 *
 *   1. every enabled router whose alert_selector matches the alert adds its
 *      receivers (names, receiver_regex and receiver_selector, those three
 *      filtered by receiver_types, plus channels);
 *   2. unless policy = RouterOnly, or policy = RouterFirst and step 1 found a
 *      receiver, the global receivers are added, and, when the alert's
 *      rule_level label is "namespace" (or, with tenant_by_namespace_label,
 *      whenever it has a namespace label), the receivers of every tenant whose
 *      namespaces hold the alert's namespace;
 *   3. a receiver found several times gets the alert once, grouped by the
 *      group_labels of the first router (in config order) that found it, or
 *      by [batch] group_labels when no router with group_labels did.
 */
#ifndef NOTIFYD_ROUTE_H
#define NOTIFYD_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/config.h"
#include "notifyd/pipeline.h"

#define ND_ROUTE_NO_TARGET SIZE_MAX

/* One configured receiver as routing sees it. */
struct nd_route_receiver {
    const char *name;                  /* borrowed */
    const char *type;                  /* borrowed; the `type` key */
    const struct nd_target_keys *keys; /* borrowed; NULL = it failed to configure (its
                                          errors are reported elsewhere): a known name
                                          that is never selected */
    size_t target;                     /* pipeline target index; ND_ROUTE_NO_TARGET when
                                          disabled or failed */
};

/* One decision: pipeline target `target` gets the alert, grouped by
 * grouping `grouping` (0 = [batch] group_labels). */
struct nd_route_hit {
    uint32_t target;
    uint32_t grouping;
};

struct nd_route;

/* Validates [tenant.*] and [router.*] of cfg against the receivers (unknown
 * receiver or tenant names, selectors with their column, regexes, types,
 * channels, group_labels) and the receivers' `tenant` keys, appending
 * errors that name file, line and key. ND_OK with *out set, or ND_EINVAL
 * with *out NULL. `ntargets` is the number of pipeline targets. */
int nd_route_new(struct nd_config *cfg, const struct nd_route_receiver *rcv, size_t nrcv,
                 size_t ntargets, struct nd_route **out, struct nd_config_errors *errs);
void nd_route_free(struct nd_route *r); /* NULL is a no-op */

size_t nd_route_nrouters(const struct nd_route *r);
/* Groupings: 0 is [batch] group_labels; 1.. are the distinct group_labels
 * of routers. At least 1. */
size_t nd_route_ngroupings(const struct nd_route *r);
/* The labels of grouping g >= 1 (borrowed). */
const char *const *nd_route_group_labels(const struct nd_route *r, size_t g, size_t *n);

/* The targets that get `a`, each once, in the order found. *hits points
 * into the route's scratch space, valid until the next call. Not
 * reentrant (the scratch space and the selectors' regex scratch). */
size_t nd_route_eval(struct nd_route *r, const struct nd_alert *a,
                     const struct nd_route_hit **hits);

/* A per-batch source of tenants (a tenant sidecar's cached answers): for
 * namespace ns of alert a, ND_OK with the names of its tenants (borrowed; valid
 * during the call), or any other value to use the [tenant.*] namespaces
 * map for ns. An answer replaces the static map for that namespace; names
 * that are no [tenant.NAME] section have no receivers and are skipped. The
 * function must not allocate per call if evaluation is to stay
 * allocation-free. */
typedef int (*nd_route_tenants_fn)(void *ud, const struct nd_alert *a, const char *ns,
                                   const char *const **tenants, size_t *n);
/* Sets (fn NULL: clears) the source used by nd_route_eval from now on. */
void nd_route_set_tenants(struct nd_route *r, nd_route_tenants_fn fn, void *ud);
/* The namespace nd_route_eval would ask the tenant source about for a, or
 * NULL when it would not ask (no tenant routing, the rule_level rule, the
 * policy: RouterOnly, or RouterFirst with a router that gets a). Uses the
 * same scratch space as nd_route_eval. */
const char *nd_route_tenant_ns(struct nd_route *r, const struct nd_alert *a);

/* The read-only view (GET /routers) appended to out as JSON: the policy,
 * the tenants and their namespaces, and each router with its formatted
 * alert selector, the enabled receivers it resolved to and its group labels
 * (null: [batch] group_labels). Receiver secrets are never part of it.
 * ND_OK, or ND_ETOOBIG when out's ceiling is hit (out restored). */
int nd_route_render(const struct nd_route *r, struct nd_buf *out, char err[ND_ERRLEN]);

#endif
