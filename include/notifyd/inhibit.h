/* inhibit.h - inhibition rules ([inhibit.NAME]) with Alertmanager's
 * semantics, and the memory of the source alerts they need.
 *
 * A rule has a source selector, a target selector (selector.h) and a list
 * of `equal` label names. An alert that matches the target selector is
 * muted while a firing source alert is remembered that matches the source
 * selector and has the same value for every `equal` label (a label missing
 * on both sides counts as equal: an empty label is an absent one). An alert
 * that matches both selectors of a rule is never muted by a remembered
 * source that also matches both, itself included (Alertmanager's rule, so
 * that a rule whose two sides overlap does not mute every alert of the
 * overlap).
 *
 * Sources are learned from every alert the pipeline sees: a firing alert
 * that matches a rule's source selector is remembered (per rule) under its
 * fingerprint, with its endsAt; it is forgotten when an alert with the same
 * labels arrives resolved, or once its endsAt has passed. At most
 * `max_sources` are remembered ([queue] max_inhibit_sources): a new source
 * past the ceiling is not remembered and is counted as dropped, so that
 * the ceiling can only let notifications through, never mute more.
 *
 * Asking whether an alert is muted does not allocate: the values of the
 * `equal` labels are hashed into a key, and a hash table keyed by (rule,
 * key) holds the remembered sources; equality is verified on each hit.
 */
#ifndef NOTIFYD_INHIBIT_H
#define NOTIFYD_INHIBIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notifyd/alert.h"
#include "notifyd/config.h"

/* Most labels in one rule's `equal` list. */
#define ND_INHIBIT_MAX_EQUAL 64u

struct nd_inhibit;

/* Validates every [inhibit.NAME] of cfg (source_selector, target_selector,
 * equal, enabled), appending errors that name file, line and key (and
 * column for a selector). ND_OK with *out set (possibly without rules), or
 * ND_EINVAL with *out NULL. The ceiling is cfg->max_inhibit_sources. */
int nd_inhibit_from_config(struct nd_config *cfg, struct nd_inhibit **out,
                           struct nd_config_errors *errs);
void nd_inhibit_free(struct nd_inhibit *ih); /* NULL is a no-op */

/* Enabled rules (disabled ones are validated, then left out). */
size_t nd_inhibit_rules(const struct nd_inhibit *ih);

/* Forgets the sources whose endsAt is at or before now_ns. Cheap when none
 * is due; call once per batch before learning and asking. */
void nd_inhibit_begin(struct nd_inhibit *ih, int64_t now_ns);
/* Learns from one alert: remembers it as a source of each rule whose
 * source selector it matches when it is firing at now_ns, forgets it when
 * it is resolved. */
void nd_inhibit_learn(struct nd_inhibit *ih, const struct nd_alert *a, int64_t now_ns);
/* Whether a remembered source mutes the alert at now_ns. No allocation. */
bool nd_inhibit_muted(struct nd_inhibit *ih, const struct nd_alert *a, int64_t now_ns);

/* Reload: moves into ih (a new rule set) the sources old remembers for
 * each rule that ih still has under the same name with the same source
 * selector and the same `equal` labels in the same order; the sources of
 * other rules (removed, disabled, or changed on those points) are
 * forgotten. Under a changed target selector a carried source counts as
 * one the target selector selects until it arrives again (this can only
 * mute less). ih's ceiling applies: what is past it is dropped and
 * counted. old's dropped count is added to ih's, so the counter goes on;
 * old is left without sources. */
void nd_inhibit_take_sources(struct nd_inhibit *ih, struct nd_inhibit *old);

/* Sources remembered now (one per rule and alert), and new sources not
 * remembered because of the ceiling since the start. */
size_t nd_inhibit_sources(const struct nd_inhibit *ih);
uint64_t nd_inhibit_dropped(const struct nd_inhibit *ih);

#endif
