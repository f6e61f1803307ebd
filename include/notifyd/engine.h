/* engine.h - the delivery engine: receivers, delivery jobs, retries.
 *
 * One engine per daemon, on the daemon's event_base, with one curl multi
 * handle (one connection pool) driven by libevent. Each receiver has its
 * own FIFO of jobs, its own concurrency cap (max_in_flight) and retry
 * policy. Nothing blocks the loop. See docs/delivery.md.
 *
 * None of these functions may be called from inside a curl callback; all
 * of them may be called from libevent callbacks (including idle()).
 */
#ifndef NOTIFYD_ENGINE_H
#define NOTIFYD_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/config.h"
#include "notifyd/metrics.h"
#include "notifyd/notification.h"

struct event_base;
struct nd_engine;
struct nd_template_set;
struct nd_receiver;
struct nd_target_keys;

/* NULL with `err` set when curl or libevent cannot be set up. The engine
 * owns libcurl's global state (through its curl multi wrapper): it calls
 * curl_global_init, and nd_engine_free the matching curl_global_cleanup;
 * no other code calls either, and no other thread may use curl.
 * `templates` is the config's compiled template set (never NULL): the
 * receivers render with it. Borrowed: it must outlive the engine. */
struct nd_engine *nd_engine_new(struct event_base *base, const struct nd_template_set *templates,
                                char *err);
/* Aborts whatever is pending without logging, unrefs the notifications and
 * frees the receivers. Fetch callbacks still pending are called (aborted). */
void nd_engine_free(struct nd_engine *e);

/* Creates a receiver from its section: the generic keys (timeout,
 * max_in_flight, retry_max_attempts, retry_max_age, retry_initial,
 * retry_factor, retry_max, retry_jitter, max_backlog, overflow: each
 * overrides `defaults`), then
 * the type's keys; unknown keys are errors. NULL with errors appended on
 * bad config. The engine owns the receiver (freed by nd_engine_free).
 * `rc` is only read during the call (the name is copied). */
struct nd_receiver *nd_receiver_new(struct nd_engine *e, struct nd_receiver_config *rc,
                                    const struct nd_delivery_config *defaults,
                                    struct nd_config_errors *errs);
/* The same validation without an engine (--check-config), against the
 * template set the engine would get. ND_OK or ND_EINVAL with errors
 * appended. It marks the kvs used. */
int nd_receiver_check(struct nd_receiver_config *rc, const struct nd_delivery_config *defaults,
                      const struct nd_template_set *templates, struct nd_config_errors *errs);
/* nd_receiver_check() that also hands back the routing keys (*keys is the
 * caller's to deinit; zeroed on error). */
int nd_receiver_check_keys(struct nd_receiver_config *rc, const struct nd_delivery_config *defaults,
                           const struct nd_template_set *templates, struct nd_target_keys *keys,
                           struct nd_config_errors *errs);

const char *nd_receiver_name(const struct nd_receiver *r);
/* The section's routing keys (pipeline.h), owned by the receiver. */
const struct nd_target_keys *nd_receiver_target_keys(const struct nd_receiver *r);
const char *nd_receiver_type(const struct nd_receiver *r);
const struct nd_receiver_stats *nd_receiver_stats(const struct nd_receiver *r);

/* Queues a notification for delivery and takes the caller's reference: the
 * engine unrefs it when its job ends, whatever the outcome. Never calls
 * back into the caller synchronously. With overflow = drop_oldest it may
 * end older notifications of r at once (counted dropped, the outcome hook
 * called for each) when this one overfills the backlog. */
void nd_receiver_submit_take(struct nd_receiver *r, struct nd_notification *n);

/* Graceful stop: keeps delivering what is queued, in flight or waiting for
 * a retry until `timeout_ns` has passed; then aborts the rest, logs each
 * notification not delivered (receiver, alerts, reason) and counts it
 * failed. Calls idle(ud) once, from the loop, as soon as nothing is
 * pending (possibly right away). Submissions after this call are still
 * delivered under the same deadline. A second call only replaces nothing:
 * it is ignored. */
void nd_engine_shutdown(struct nd_engine *e, int64_t timeout_ns, void (*idle)(void *ud), void *ud);

/* Outcome hook: called once for each notification this engine finishes,
 * after its counters are updated and before its reference is dropped:
 * `failure` is NULL when it was delivered, else the reason it was given up
 * (what the "notification not delivered" log line says; it starts with
 * ND_ENGINE_SHUTDOWN_REASON when the shutdown deadline ended the job, and
 * never otherwise). Not called for
 * what nd_engine_free aborts. It may run inside a curl callback, so it must
 * not call into the engine; recording the outcome or breaking the loop is
 * fine. NULL removes the hook. */
#define ND_ENGINE_SHUTDOWN_REASON "shutdown"
typedef void nd_engine_outcome_cb(void *ud, const struct nd_receiver *r,
                                  const struct nd_notification *n, const char *failure);
void nd_engine_set_outcome(struct nd_engine *e, nd_engine_outcome_cb *cb, void *ud);

/* Per-receiver backlogs (docs/delivery.md): ND_OK, or ND_EFULL with `err`
 * naming the first receiver whose overflow is backpressure and whose
 * backlog holds max_backlog alerts or more (ingest then answers 503).
 * Receivers with overflow = drop_oldest never refuse: they drop their
 * oldest waiting notifications when a new one overfills them; nor do those
 * with overflow = spill once nd_engine_set_spill(e, true). */
int nd_engine_admit(const struct nd_engine *e, char *err);
/* Whether receivers with overflow = spill have a write-ahead log to spill
 * to (the daemon spills for them, docs/delivery.md): the engine never
 * refuses for them then. Without it (the default) they refuse like
 * backpressure. */
void nd_engine_set_spill(struct nd_engine *e, bool on);
/* The receiver's delivery settings ([delivery] with its overrides). */
const struct nd_delivery_config *nd_receiver_delivery(const struct nd_receiver *r);
/* The same hook for one receiver's notifications only, called before the
 * engine's (same rules). NULL removes it. */
void nd_receiver_set_outcome(struct nd_receiver *r, nd_engine_outcome_cb *cb, void *ud);

/* Frees the receiver once its notifications are finished (at once, from
 * the loop, when it has none): for receivers made for one request (the
 * notifications API). Submitting to it after this call is a bug. The
 * receiver stays valid until then, so the outcome hooks may still use it;
 * its notifications are finished before it is freed. */
void nd_receiver_release(struct nd_receiver *r);
/* Receivers built from now on render with `templates` (never NULL),
 * borrowed: it must outlive them. Receivers already built keep the set
 * they were built with (a reload builds its new receivers against the new
 * set while the kept ones go on with theirs). */
void nd_engine_set_templates(struct nd_engine *e, const struct nd_template_set *templates);

/* Removal of a receiver while the engine runs (a reload dropped or
 * replaced it). The caller submits nothing more to it. What it holds
 * (queued, in flight, waiting for a retry) is still delivered until
 * `timeout_ns` has passed; then the rest is given up, logged and counted
 * failed with the reason "receiver removed: ...". The engine's shutdown
 * deadline applies to it as to every receiver. A second call is ignored. */
void nd_receiver_retire(struct nd_receiver *r, int64_t timeout_ns);
/* Whether r still holds a job, or a prepare fetch (token) it may have
 * started is still running: it cannot be freed yet. */
bool nd_receiver_busy(const struct nd_receiver *r);
/* Frees a retired receiver that is not busy and takes it out of the
 * engine. Never from one of the engine's own callbacks: the daemon polls
 * nd_receiver_busy from its own timer (mark and reap). */
void nd_receiver_free(struct nd_receiver *r);

/* Notifications not finished yet (queued, preparing, in flight, waiting
 * for a retry), all receivers. */
size_t nd_engine_pending(const struct nd_engine *e);

#endif
