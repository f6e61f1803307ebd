/* alert.h - one alert, stored compactly, shared by reference.
 *
 * An alert is one heap block: the struct, its label and annotation arrays
 * and all their strings (an arena per alert: no malloc per label). Labels and
 * annotations are sorted by name and unique. Alerts are immutable once built
 * and reference-counted: a batch, and each notification that carries the
 * alert, hold one reference. When the last one goes, the block is freed and
 * its size is given back to the queue that held it (see queue.h), which is
 * how "alerts held" covers both queued and not-yet-delivered alerts.
 */
#ifndef NOTIFYD_ALERT_H
#define NOTIFYD_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "notifyd/buf.h"
#include "notifyd/time.h"

struct nd_queue;

enum nd_alert_status { ND_ALERT_FIRING = 0, ND_ALERT_RESOLVED = 1 };

struct nd_kv {
    const char *name;  /* NUL-terminated; labels never contain NUL bytes */
    const char *value; /* NUL-terminated */
};

struct nd_alert {
    uint32_t refs;                   /* owners; the block is freed at 0 */
    uint32_t size;                   /* bytes of the block: what the queue accounts */
    uint16_t nlabels;                /* >= 1 */
    uint16_t nannotations;           /* may be 0 */
    uint8_t status;                  /* enum nd_alert_status */
    uint64_t fingerprint;            /* Alertmanager's: FNV-1a 64 over sorted labels */
    uint64_t id;                     /* NM's alert ID: hash of labels, annotations, status, times */
    struct nd_time starts_at;        /* zero time when absent */
    struct nd_time ends_at;          /* zero time when absent */
    const char *generator_url;       /* "" when absent */
    const struct nd_kv *labels;      /* sorted by name */
    const struct nd_kv *annotations; /* sorted by name */
    struct nd_queue *queue;          /* who accounts for this block, or NULL */
};

/* Limits of one alert, enforced by the builder (ND_ETOOBIG). */
#define ND_ALERT_MAX_PAIRS 65535u

/* Builds alerts one at a time; reused across the alerts of a request. */
struct nd_alert_builder {
    struct nd_buf strings; /* name\0value\0 ... for labels, then annotations */
    struct nd_buf lab;     /* uint32_t offsets into strings, one per label */
    struct nd_buf ann;     /* uint32_t offsets, one per annotation */
    char *generator_url;
    size_t generator_url_len;
    struct nd_time starts_at, ends_at;
    int status; /* -1 = not given: derived from ends_at */
};

/* `limit` bounds the strings of one alert (use the request body limit). */
void nd_alert_builder_init(struct nd_alert_builder *b, size_t limit);
void nd_alert_builder_deinit(struct nd_alert_builder *b);
void nd_alert_builder_reset(struct nd_alert_builder *b);
/* Copies the strings. A label name given twice keeps the last value (as Go's
 * JSON decoding into a map does). ND_EINVAL if a string contains a NUL byte,
 * ND_ETOOBIG past the limits. */
int nd_alert_builder_add_label(struct nd_alert_builder *b, const char *name, size_t nlen,
                               const char *value, size_t vlen);
int nd_alert_builder_add_annotation(struct nd_alert_builder *b, const char *name, size_t nlen,
                                    const char *value, size_t vlen);
int nd_alert_builder_set_generator_url(struct nd_alert_builder *b, const char *s, size_t len);
void nd_alert_builder_set_status(struct nd_alert_builder *b, enum nd_alert_status st);
size_t nd_alert_builder_nlabels(const struct nd_alert_builder *b); /* non-empty values only */
/* Finishes one alert and resets the builder. Labels with an empty value are
 * dropped (Prometheus semantics: an empty label is an absent one). The label
 * `cluster=<cluster>` is added when the alert has none (NM). Without an
 * explicit status, the alert is resolved when ends_at is set and <= now_ns.
 * Returns a new alert with refs = 1, or NULL with `err` set when the alert
 * has no label left. */
struct nd_alert *nd_alert_builder_finish(struct nd_alert_builder *b, const char *cluster,
                                         int64_t now_ns, char *err);
/* Sets the times; used by the builder's caller while parsing. */
static inline void nd_alert_builder_set_times(struct nd_alert_builder *b,
                                              const struct nd_time *starts,
                                              const struct nd_time *ends)
{
    if (starts)
        b->starts_at = *starts;
    if (ends)
        b->ends_at = *ends;
}

static inline void nd_alert_ref(struct nd_alert *a)
{
    a->refs++;
}
/* Drops one reference; the last one frees the block and releases its size
 * from a->queue. */
void nd_alert_unref(struct nd_alert *a);

/* Value of a label, or NULL. Binary search. */
const char *nd_alert_label(const struct nd_alert *a, const char *name);
const char *nd_alert_annotation(const struct nd_alert *a, const char *name);
/* Alertmanager's fingerprint of a sorted label set. */
uint64_t nd_fingerprint(const struct nd_kv *sorted, size_t n);
/* "9cb550312d649b38": 16 lowercase hex digits + NUL. */
void nd_fingerprint_format(uint64_t fp, char out[17]);
const char *nd_alert_status_str(enum nd_alert_status st); /* "firing" | "resolved" */

#endif
