/* helpers.h - building alerts for the pipeline tests. */
#ifndef NOTIFYD_TESTS_PIPELINE_HELPERS_H
#define NOTIFYD_TESTS_PIPELINE_HELPERS_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/alert.h"
#include "notifyd/queue.h"
#include "notifyd/util.h"

/* An alert from "name", "value", ..., NULL label pairs, then (after the NULL)
 * "name", "value", ..., NULL annotation pairs; held by q when q is not NULL. */
static inline struct nd_alert *mk_alert(struct nd_queue *q, enum nd_alert_status st, ...)
{
    struct nd_alert_builder b;
    char err[ND_ERRLEN];
    va_list ap;
    const char *n;
    nd_alert_builder_init(&b, 1 << 16);
    va_start(ap, st);
    while ((n = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        nd_alert_builder_add_label(&b, n, strlen(n), v, strlen(v));
    }
    while ((n = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        nd_alert_builder_add_annotation(&b, n, strlen(n), v, strlen(v));
    }
    va_end(ap);
    nd_alert_builder_set_status(&b, st);
    struct nd_alert *a = nd_alert_builder_finish(&b, NULL, 0, err);
    nd_alert_builder_deinit(&b);
    if (!a) {
        fprintf(stderr, "mk_alert: %s\n", err);
        abort();
    }
    if (q)
        nd_queue_hold(q, a);
    return a;
}

/* "n=v,n=v" of a kv array. */
static inline const char *kvs(const struct nd_kv *kv, size_t n)
{
    static char out[2048];
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < sizeof out; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s=%s", i ? "," : "", kv[i].name,
                                kv[i].value);
    return out;
}

#endif
