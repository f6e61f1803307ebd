/* pipeline.h - the stages one closed batch goes through (NM's dispatcher
 * worker): silence -> inhibit -> route -> filter -> aggregate -> notify.
 *
 * Silence drops the alerts an active global silence matches (silence.h) or
 * an active API silence (silstore.h);
 * inhibit drops the alerts a remembered source alert mutes (inhibit.h:
 * sources are learned from every alert of the batch first);
 * route decides who gets what (route.h; without one, every receiver gets
 * every alert); filter applies each receiver's tenant silences and alert
 * selector; aggregate groups by [batch] group_labels or by the group_labels
 * of the router that selected the receiver. The pipeline knows
 * receivers only as opaque targets and hands each notification to the
 * notify callback. It runs synchronously inside nd_pipeline_run(): the batch
 * references are the caller's, each notification holds its own.
 */
#ifndef NOTIFYD_PIPELINE_H
#define NOTIFYD_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nd_alert;
struct nd_metrics;
struct nd_notification;
struct nd_pipeline;
struct nd_config_errors;
struct nd_inhibit;
struct nd_receiver_config;
struct nd_selector;
struct nd_route;
struct nd_silstore;

/* A receiver as the pipeline sees it. `name` is borrowed and must outlive
 * the pipeline and every notification (it is the notification's receiver). */
struct nd_pipeline_target {
    const char *name;
    void *ud;                           /* handed back to the notify callback */
    struct nd_selector *alert_selector; /* borrowed; NULL = every alert */
    const char *tenant;                 /* borrowed; NULL = a global receiver */
};

/* The routing keys of a receiver section: `enabled` (default true; a
 * disabled receiver is no target), `alert_selector` (selector.h: the
 * filter stage gives the receiver only the alerts it selects), `tenant`
 * (absent = a global receiver; route.h checks that the tenant exists) and
 * `labels = k=v, ...` (what a router's receiver_selector matches). Read by
 * the notify layer's configure so that every receiver type knows them. */
#define ND_TARGET_LABELS_MAX 64u
struct nd_target_keys {
    bool enabled;
    struct nd_selector *alert_selector; /* owned; NULL = none */
    char *tenant;                       /* owned; NULL = global */
    int tenant_line;                    /* of the `tenant` key */
    size_t nlabels;
    char **label_names; /* owned, parallel to label_values */
    char **label_values;
};
/* Reads (and marks used) the keys. ND_OK, or ND_EINVAL with errors naming
 * file, line, key (and column for a selector). *out is always initialised. */
int nd_target_keys_parse(struct nd_receiver_config *rc, struct nd_target_keys *out,
                         struct nd_config_errors *errs);
void nd_target_keys_deinit(struct nd_target_keys *k);

/* Takes the notification's reference. May deliver synchronously and unref
 * at once; must not free the pipeline. */
typedef void nd_pipeline_notify_fn(void *target_ud, struct nd_notification *n, void *ud);

struct nd_pipeline_config {
    const struct nd_pipeline_target *targets; /* copied */
    size_t ntargets;
    const char *const *group_labels; /* copied; NULL/0 = one group per receiver */
    size_t ngroup_labels;
    nd_pipeline_notify_fn *notify;
    void *ud;                     /* for notify */
    struct nd_metrics *metrics;   /* batches and notifications are counted; may be NULL */
    struct nd_silences *silences; /* borrowed, outlives the pipeline; NULL = none */
    struct nd_inhibit *inhibit;   /* borrowed, outlives the pipeline; NULL = none */
    /* borrowed, outlives the pipeline, built over these targets; NULL =
     * every alert to every target */
    struct nd_route *route;
    struct nd_silstore *silstore; /* API silences (silstore.h); borrowed; NULL = none */
};

struct nd_pipeline *nd_pipeline_new(const struct nd_pipeline_config *cfg);
void nd_pipeline_free(struct nd_pipeline *p); /* NULL is a no-op */

/* Runs the stages over one batch (alerts borrowed). Not reentrant: the
 * notify callback must not run the same pipeline. */
void nd_pipeline_run(struct nd_pipeline *p, struct nd_alert *const *alerts, size_t n);

/* A read-back run (overflow = spill): the alerts were routed to the target
 * whose ud is target_ud when they were accepted, so they go to it alone,
 * whatever the routing (or a tenant sidecar's cache) says now, in the
 * grouping the route gives it (0 when it would not pick it). The
 * silences, inhibition, the target's tenant silences and alert selector
 * still apply; inhibition learns nothing from them (they are old) and no
 * batch is counted. ND_EINVAL (nothing run) when no target has that ud. */
int nd_pipeline_run_for(struct nd_pipeline *p, struct nd_alert *const *alerts, size_t n,
                        const void *target_ud);
/* Whether a target of p has that ud (nd_pipeline_run_for would run). */
bool nd_pipeline_has_target(const struct nd_pipeline *p, const void *target_ud);

/* nd_pipeline_run() with the signature of nd_batch_cb (batch.h), `ud` being
 * the pipeline: nd_batcher_new(base, size, wait, nd_pipeline_batch_cb, p). */
void nd_pipeline_batch_cb(struct nd_alert *const *alerts, size_t n, void *ud);

#endif
