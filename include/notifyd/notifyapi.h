/* notifyapi.h - Notification Manager's send-now endpoints and the receivers
 * view, on the daemon's HTTP server (routes of server.h):
 *
 *   POST /api/v2/notifications  the body's receiver object (nmspec.h) gets
 *                               the body's alerts, grouped as the pipeline
 *                               groups them, straight away (no silence,
 *                               routing or filter, as NM)
 *   POST /api/v2/verify         the same receiver gets NM's verify alert
 *   GET  /receivers             the configured receivers, secrets redacted
 *
 * The receivers a request describes are built for it (nd_receiver_new, the
 * config file's validation), submitted to the daemon's engine and retired
 * at once (freed once their notifications are finished). The answer waits,
 * without blocking the loop, until every notification is delivered or
 * given up, or until [server] api_timeout: NM's 200 "Send alerts
 * successfully" / "Verify successfully", or 400 with the reasons joined by
 * ','. docs/api.md has the details.
 */
#ifndef NOTIFYD_NOTIFYAPI_H
#define NOTIFYD_NOTIFYAPI_H

#include <stddef.h>

#include "notifyd/server.h"

struct event_base;
struct nd_config;
struct nd_engine;
struct nd_receiver;
struct nd_napi;

struct nd_napi_opts {
    struct event_base *base;
    struct nd_engine *engine;
    /* Borrowed, must outlive the module: the delivery defaults, group
     * labels, api_timeout, api_max_requests, max_depth and the receiver
     * sections (GET /receivers shows their keys). */
    const struct nd_config *cfg;
    /* The daemon's receivers (borrowed), for their enabled state. */
    struct nd_receiver *const *receivers;
    size_t nreceivers;
};

struct nd_napi *nd_napi_new(const struct nd_napi_opts *o);
/* Answers every request still waiting with 503 "shutting down" and frees
 * the module. Call it after nd_engine_free (so that no delivery reports to
 * it any more). NULL is fine. */
void nd_napi_free(struct nd_napi *a);
/* The module's routes, for nd_server_opts.routes: fills at most cap of
 * `out` and returns how many (3). */
size_t nd_napi_routes(struct nd_napi *a, struct nd_server_route *out, size_t cap);
/* After a reload: the new configuration and receivers (borrowed as in
 * the options). Requests already waiting keep the receivers built for them. */
void nd_napi_set_config(struct nd_napi *a, const struct nd_config *cfg,
                        struct nd_receiver *const *receivers, size_t nreceivers);
/* Requests answered later still waiting for their deliveries. */
size_t nd_napi_pending(const struct nd_napi *a);

#endif
