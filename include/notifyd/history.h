/* history.h - Notification Manager's history stage: `[history] receiver =
 * NAME` names a webhook receiver section that gets, after deliveries, NM's
 * history payload: the alerts whose notifications ended, each once, with
 * `notificationTime` (its first delivery, absent when delivered nowhere)
 * and `receiver` (every receiver it was sent to, with the result).
 *
 *   receivers' outcome hooks -> pending (a reference on each notification,
 *   at most max_pending) -> max_wait after the first: one history
 *   notification of the alerts of every outcome since the last one -> the
 *   history receiver (the webhook's keys, URL, auth, TLS, retries; its body
 *   the history JSON)
 *
 * The history receiver is built from its section here and is not a
 * routing target (NM's history webhook is not a receiver either). See
 * docs/pipeline.md ("History").
 */
#ifndef NOTIFYD_HISTORY_H
#define NOTIFYD_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct nd_config;
struct nd_config_errors;
struct nd_delivery_config;
struct nd_engine;
struct nd_receiver;
struct nd_history;

/* Checks [history] receiver: it must name a [receiver.NAME] section of
 * type webhook. ND_OK (also when unset) or ND_EINVAL with an error naming
 * the key's line. */
int nd_history_check(const struct nd_config *cfg, struct nd_config_errors *errs);

/* Builds the history receiver from cfg's section (validated as a webhook)
 * on `e`. NULL with errors appended. */
struct nd_history *nd_history_new(struct event_base *base, struct nd_engine *e,
                                  struct nd_config *cfg, struct nd_config_errors *errs);
/* Reports r's outcomes to the history (sets r's outcome hook). */
void nd_history_watch(struct nd_history *h, struct nd_receiver *r);
/* The history receiver (for its metrics). */
const struct nd_receiver *nd_history_receiver(const struct nd_history *h);
/* After nd_engine_free: drops what is pending. NULL is fine. */
void nd_history_free(struct nd_history *h);

/* Counters: history notifications submitted, and delivered notifications
 * not reported because max_pending were waiting. */
uint64_t nd_history_sent(const struct nd_history *h);
uint64_t nd_history_dropped(const struct nd_history *h);

#endif
