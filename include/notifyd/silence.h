/* silence.h - configured silences ([silence.NAME]) and the silence stage's
 * question: is this alert muted now?
 *
 * A silence has a selector (selector.h) and a time rule, Notification
 * Manager's Silence.IsActive():
 *
 *   enabled = false                  never active
 *   schedule, no duration            always active (the schedule is unused)
 *   schedule + duration              active when an activation T of the
 *                                    schedule has now - duration < T <= now
 *   starts_at, no duration           active from starts_at on
 *   starts_at + duration             active in [starts_at, starts_at + duration)
 *   neither schedule nor starts_at   always active (with or without duration)
 *
 * `schedule` wins over `starts_at` when both are set. A silence without
 * `tenant` is global: the silence stage drops what it matches for everybody.
 * One with `tenant = T` (a [tenant.T] section) mutes only the receivers of
 * tenant T, in the filter stage.
 */
#ifndef NOTIFYD_SILENCE_H
#define NOTIFYD_SILENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/alert.h"
#include "notifyd/buf.h"
#include "notifyd/config.h"

struct nd_cron;

/* The time rule of one silence. */
struct nd_silence_when {
    bool enabled;
    struct nd_cron *schedule; /* NULL = none */
    bool has_starts;
    int64_t starts_s; /* Unix seconds */
    bool has_duration;
    int64_t duration_ns;
};

/* The table above, at `now_ns` (Unix ns). */
bool nd_silence_when_active(const struct nd_silence_when *w, int64_t now_ns);

struct nd_silences;

/* Validates every [silence.NAME] of cfg (selector, enabled, starts_at,
 * duration, schedule), appending errors that name file, line and key.
 * ND_OK with *out set (possibly empty), or ND_EINVAL with *out NULL. */
int nd_silences_from_config(struct nd_config *cfg, struct nd_silences **out,
                            struct nd_config_errors *errs);
void nd_silences_free(struct nd_silences *s);
size_t nd_silences_count(const struct nd_silences *s);

/* Appends one JSON object per silence, in file order, each preceded by a
 * comma unless it is the first of the list (*first, updated): {"source":
 * "config", "name", "tenant" (null = global), "selector" (canonical
 * text), "enabled", "status": {"state": "active" | "inactive"}} as of
 * now_ns; only active ones when active_only. For GET /silences. ND_OK, or
 * ND_ETOOBIG when out's ceiling was hit. */
int nd_silences_view_json(const struct nd_silences *s, bool active_only, int64_t now_ns,
                          struct nd_buf *out, bool *first);

/* Computes which silences are active at now_ns; returns how many global
 * ones. Call once per batch, before nd_silences_mute(_tenant). */
size_t nd_silences_begin(struct nd_silences *s, int64_t now_ns);
/* Whether an active global silence (as of the last nd_silences_begin)
 * matches the alert's labels. */
bool nd_silences_mute(struct nd_silences *s, const struct nd_alert *a);
/* Whether a tenant silence was active at the last nd_silences_begin. */
bool nd_silences_tenant_active(const struct nd_silences *s);
/* Whether an active silence of `tenant` matches the alert's labels. */
bool nd_silences_mute_tenant(struct nd_silences *s, const char *tenant, const struct nd_alert *a);

#endif
