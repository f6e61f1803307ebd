/* alert.h - one alert, stored compactly, shared by reference.
 *
 * An alert is one heap block: the struct, its label and annotation arrays
 * and its own strings (no malloc per label). Label names and values that
 * repeat across alerts are not copied into the block but shared through the
 * string table (intern.h); see docs/memory.md. Labels and annotations are
 * sorted by name and unique.
 *
 * a->size, what the queue accounts, is the alert's logical size: the struct,
 * the two arrays and every string with its NUL, as if nothing were shared
 * (the size of the one-block layout before interning). It depends on the
 * alert alone, not on what else is held, so a request is admitted or
 * refused the same way whatever the history. Once names and common values
 * are shared it is above the real heap cost (docs/memory.md has both). Alerts are immutable once
 * built and reference-counted: a batch, and each notification that carries the alert, hold one
 * reference. When the last one goes, the block is freed and its size is given back to the queue
 * that held it (see queue.h), which is how "alerts held" covers both queued and not-yet-delivered
 * alerts.
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
    uint32_t size;                   /* logical bytes: what the queue accounts (below) */
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

/* A label or annotation while it is being built: the name is interned
 * (intern.h), the value is interned when it repeats, else kept in the
 * builder's strings until finish() copies it into the block. */
struct nd_alert_pair {
    const char *name;  /* interned; the builder holds a reference */
    const char *value; /* interned (a reference held), or NULL: at voff in strings */
    uint32_t nlen, vlen;
    uint32_t voff;
};

/* Builds alerts one at a time; reused across the alerts of a request. */
struct nd_alert_builder {
    struct nd_buf strings;     /* values not interned, each NUL-terminated */
    struct nd_buf lab;         /* struct nd_alert_pair, one per label */
    struct nd_buf ann;         /* struct nd_alert_pair, one per annotation */
    size_t limit;              /* bound of the alert's strings */
    size_t used;               /* bytes of names and values so far, NULs included */
    const char *generator_url; /* interned, or NULL: at url_off in strings (when url_len) */
    uint32_t url_off, url_len;
    int sorted; /* lab is sorted and deduplicated (nd_alert_builder_nlabels) */
    struct nd_time starts_at, ends_at;
    int status; /* -1 = not given: derived from ends_at */
};

/* `limit` bounds the strings of one alert (use the request body limit). */
void nd_alert_builder_init(struct nd_alert_builder *b, size_t limit);
void nd_alert_builder_deinit(struct nd_alert_builder *b);
void nd_alert_builder_reset(struct nd_alert_builder *b);
/* Copies or interns the strings. A label name given twice keeps the last value (as Go's
 * JSON decoding into a map does). ND_EINVAL if a string contains a NUL byte,
 * ND_ETOOBIG past the limits. */
int nd_alert_builder_add_label(struct nd_alert_builder *b, const char *name, size_t nlen,
                               const char *value, size_t vlen);
int nd_alert_builder_add_annotation(struct nd_alert_builder *b, const char *name, size_t nlen,
                                    const char *value, size_t vlen);
int nd_alert_builder_set_generator_url(struct nd_alert_builder *b, const char *s, size_t len);
void nd_alert_builder_set_status(struct nd_alert_builder *b, enum nd_alert_status st);
/* Labels the alert will have (distinct names, non-empty values), cluster not
 * counted. Sorts the labels in place, which finish() then reuses. */
size_t nd_alert_builder_nlabels(struct nd_alert_builder *b);
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
