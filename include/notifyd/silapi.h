/* silapi.h - Alertmanager's v2 silence API on notifyd's HTTP server, over a
 * silence store (silstore.h):
 *
 *   GET    /api/v2/silences        every silence; filter=MATCHER (repeatable)
 *   POST   /api/v2/silences        create or update; {"silenceID":"..."}
 *   GET    /api/v2/silence/{id}    one silence
 *   DELETE /api/v2/silence/{id}    expire it
 *
 * (GET /silences, the operator view, is served by the daemon: it lists the
 * configured [silence.NAME] sections of the running generation too.)
 *
 * Errors are answered as Alertmanager does: a JSON string with the message
 * (400 bad silence or filter, 404 unknown ID, 500 the file could not be
 * written). Every change is logged.
 */
#ifndef NOTIFYD_SILAPI_H
#define NOTIFYD_SILAPI_H

#include <stddef.h>

struct evbuffer;
struct nd_server_route;
struct nd_silstore;

/* Routes of the endpoints above, written to out (at most max; returns how
 * many). The store must outlive the server. */
#define ND_SILAPI_NROUTES 4
size_t nd_silapi_routes(struct nd_silstore *s, struct nd_server_route *out, size_t max);

/* Appends the gauge notifyd_silences{state=...} (Prometheus text). */
void nd_silapi_render_metrics(struct nd_silstore *s, struct evbuffer *out);

#endif
