/* payload.c - the webhook JSON and the console text of a notification. */
#include "notifyd/payload.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/json.h"
#include "notifyd/time.h"
#include "notifyd/util.h"

/* The webhook body is the hot path of delivery (one per notification, a few
 * KiB each): nd_json writes it straight into the buffer's memory, and the
 * timestamps of a notification (usually all the same) are formatted once.
 * ND_JSON_VALID_UTF8: every string comes from an ingested alert, which yajl
 * checked, or from the configuration; the bytes are then exactly those of
 * nd_buf_add_json_escaped. */
enum { WEBHOOK_JSON = ND_JSON_HTML | ND_JSON_VALID_UTF8 | ND_JSON_NEWLINE };

static void add_map(struct nd_json *j, const struct nd_kv *kv, size_t n)
{
    nd_json_obj_open(j);
    for (size_t i = 0; i < n; i++) {
        nd_json_key(j, kv[i].name);
        nd_json_str(j, kv[i].value);
    }
    nd_json_obj_close(j);
}

/* An alert's annotations, values as nd_alert_annotation_values() read them
 * (alert.h: they may be expanded; read once for the ID and the body). */
static void add_annotations(struct nd_json *j, const struct nd_alert *a, const char *const *values)
{
    nd_json_obj_open(j);
    for (size_t i = 0; i < a->nannotations; i++) {
        nd_json_key(j, nd_alert_annotation_name(a, i));
        nd_json_str(j, values[i]);
    }
    nd_json_obj_close(j);
}

static void add_common_annotations(struct nd_json *j, const struct nd_notification *n,
                                   struct nd_buf *scratch)
{
    nd_json_obj_open(j);
    for (size_t i = 0; i < n->ncommon_annotations; i++) {
        struct nd_kv kv = nd_notification_common_annotation(n, i, scratch);
        nd_json_key(j, kv.name);
        nd_json_str(j, kv.value);
    }
    nd_json_obj_close(j);
}

/* The last time formatted, as a quoted string: alerts of one notification
 * mostly share startsAt (and all firing ones the zero endsAt). */
struct time_cache {
    struct nd_time t;
    bool valid;
    size_t n;
    char s[ND_TIME_MAXLEN + 2];
};

static void add_time(struct nd_json *j, struct time_cache *c, const struct nd_time *t)
{
    if (!c->valid || c->t.sec != t->sec || c->t.nsec != t->nsec || c->t.offset != t->offset) {
        c->s[0] = '"';
        c->n = nd_time_format_rfc3339(t, c->s + 1) + 2;
        c->s[c->n - 1] = '"';
        c->t = *t;
        c->valid = true;
    }
    nd_json_raw(j, c->s, c->n);
}

/* The alert ID as NM writes it: a decimal number in a JSON string. */
static void add_id(struct nd_json *j, uint64_t v)
{
    char tmp[22], *p = tmp + sizeof(tmp);

    *--p = '"';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    *--p = '"';
    nd_json_raw(j, p, (size_t)(tmp + sizeof(tmp) - p));
}

int nd_payload_webhook_json(const struct nd_notification *n, struct nd_buf *out)
{
    return nd_payload_webhook_json_x(n, NULL, NULL, out);
}

int nd_payload_webhook_json_x(const struct nd_notification *n, nd_payload_alert_fn *extra, void *ud,
                              struct nd_buf *out)
{
    struct nd_json j;
    struct time_cache starts = {0}, ends = {0};
    struct nd_kv *labels = NULL;
    const char **values = NULL;
    size_t cap = 0, vcap = 0, i;
    struct nd_buf scratch;
    int rc;

    {
        /* One allocation up front instead of doubling from 64 bytes (a
         * typical alert takes 600-900 bytes); never more than the limit. */
        size_t est = 512 + (size_t)1024 * n->nalerts;
        if (est > out->limit - out->len)
            est = out->limit - out->len;
        nd_buf_reserve(out, est);
    }
    nd_buf_init(&scratch, SIZE_MAX / 2);
    nd_json_init(&j, out, WEBHOOK_JSON);
    nd_json_obj_open(&j);
    ND_JSON_KEY_LIT(&j, "alerts");
    nd_json_arr_open(&j);
    /* j.err is sticky: once the limit is hit, stop building. */
    for (i = 0; i < n->nalerts && !j.err; i++) {
        const struct nd_alert *a = n->alerts[i];
        struct nd_time st, en;
        char fp[19];
        size_t nl;

        if ((size_t)a->nlabels + 1 > cap) {
            cap = (size_t)a->nlabels + 1;
            labels = nd_xrealloc(labels, cap * sizeof(*labels));
        }
        nl = nd_notification_labels(n, a, labels);
        if (a->nannotations > vcap) {
            vcap = a->nannotations;
            values = nd_xrealloc(values, vcap * sizeof(*values));
        }
        nd_alert_annotation_values(a, &scratch, values);
        fp[0] = '"';
        nd_fingerprint_format(nd_alert_fingerprint(a), fp + 1);
        fp[17] = '"';
        st = nd_alert_starts_at(a);
        en = nd_alert_ends_at(a);
        nd_json_obj_open(&j);
        ND_JSON_KEY_LIT(&j, "id");
        add_id(&j, nd_alert_id_from(a, values));
        ND_JSON_KEY_LIT(&j, "status");
        nd_json_str(&j, nd_alert_status_str((enum nd_alert_status)a->status));
        ND_JSON_KEY_LIT(&j, "labels");
        add_map(&j, labels, nl);
        ND_JSON_KEY_LIT(&j, "annotations");
        add_annotations(&j, a, values);
        ND_JSON_KEY_LIT(&j, "startsAt");
        add_time(&j, &starts, &st);
        ND_JSON_KEY_LIT(&j, "endsAt");
        add_time(&j, &ends, &en);
        ND_JSON_KEY_LIT(&j, "generatorURL");
        nd_json_str(&j, nd_alert_generator_url(a));
        ND_JSON_KEY_LIT(&j, "fingerprint");
        nd_json_raw(&j, fp, 18);
        if (extra)
            extra(ud, i, &j);
        nd_json_obj_close(&j);
    }
    free(values);
    /* one array for both, one after the other (each is written out at once) */
    if (n->ncommon_labels > cap || n->ngroup_labels > cap) {
        cap = n->ncommon_labels > n->ngroup_labels ? n->ncommon_labels : n->ngroup_labels;
        labels = nd_xrealloc(labels, cap * sizeof(*labels));
    }
    nd_json_arr_close(&j);
    ND_JSON_KEY_LIT(&j, "groupLabels");
    add_map(&j, nd_notification_group_labels(n, labels), n->ngroup_labels);
    ND_JSON_KEY_LIT(&j, "commonLabels");
    add_map(&j, nd_notification_common_labels(n, labels), n->ncommon_labels);
    free(labels);
    ND_JSON_KEY_LIT(&j, "commonAnnotations");
    add_common_annotations(&j, n, &scratch);
    nd_json_obj_close(&j);
    nd_buf_deinit(&scratch);
    /* On error the buffer is left as it was, like a failed nd_buf append;
     * with the calls above, the only error is the limit. */
    rc = nd_json_finish(&j, NULL);
    return rc == ND_OK ? ND_OK : ND_ETOOBIG;
}

static int add_pairs(struct nd_buf *b, const struct nd_kv *kv, size_t n)
{
    int rc = 0;
    size_t i;

    for (i = 0; i < n; i++)
        rc |= nd_buf_printf(b, "%s%s=%s", i ? " " : "", kv[i].name, kv[i].value);
    return rc;
}

int nd_payload_text(const struct nd_notification *n, struct nd_buf *out)
{
    struct nd_kv *labels = NULL;
    size_t cap = 0, i, k;
    struct nd_buf scratch;
    int rc;

    nd_buf_init(&scratch, SIZE_MAX / 2);
    rc = nd_buf_printf(out, "[%s] receiver=%s alerts=%zu\n",
                       nd_alert_status_str((enum nd_alert_status)n->status),
                       n->receiver ? n->receiver : "", n->nalerts);
    rc |= nd_buf_adds(out, "  group: ");
    if (n->ngroup_labels) {
        cap = n->ngroup_labels;
        labels = nd_xmalloc(cap * sizeof(*labels));
    }
    rc |= add_pairs(out, nd_notification_group_labels(n, labels), n->ngroup_labels);
    rc |= nd_buf_addc(out, '\n');
    for (i = 0; i < n->nalerts; i++) {
        const struct nd_alert *a = n->alerts[i];
        char s1[ND_TIME_MAXLEN], s2[ND_TIME_MAXLEN];
        struct nd_time st = nd_alert_starts_at(a), en = nd_alert_ends_at(a);
        const char *gen = nd_alert_generator_url(a);
        size_t nl;

        if ((size_t)a->nlabels + 1 > cap) {
            cap = (size_t)a->nlabels + 1;
            labels = nd_xrealloc(labels, cap * sizeof(*labels));
        }
        nl = nd_notification_labels(n, a, labels);
        rc |= nd_buf_printf(out, "  - [%s] ", nd_alert_status_str((enum nd_alert_status)a->status));
        rc |= add_pairs(out, labels, nl);
        rc |= nd_buf_addc(out, '\n');
        for (k = 0; k < a->nannotations; k++)
            rc |= nd_buf_printf(out, "      %s: %s\n", nd_alert_annotation_name(a, k),
                                nd_alert_annotation_value(a, k, &scratch));
        nd_time_format_rfc3339(&st, s1);
        nd_time_format_rfc3339(&en, s2);
        rc |= nd_buf_printf(out, "      starts: %s  ends: %s\n", s1, s2);
        if (gen[0])
            rc |= nd_buf_printf(out, "      generator: %s\n", gen);
    }
    free(labels);
    nd_buf_deinit(&scratch);
    rc |= nd_buf_addc(out, '\n');
    return rc ? ND_ETOOBIG : ND_OK;
}
