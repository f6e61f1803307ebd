/* payload.c - the webhook JSON and the console text of a notification. */
#include "notifyd/payload.h"

#include <inttypes.h>
#include <stdlib.h>

#include "notifyd/time.h"
#include "notifyd/util.h"

/* Every append below can hit the buffer's limit; chaining them with |=
 * keeps the code flat, and a failed append leaves the buffer unchanged, so
 * one check at the end is enough. */
static int add_map(struct nd_buf *b, const struct nd_kv *kv, size_t n)
{
    int rc = nd_buf_addc(b, '{');
    size_t i;

    for (i = 0; i < n; i++) {
        if (i > 0)
            rc |= nd_buf_addc(b, ',');
        rc |= nd_buf_add_json_string(b, kv[i].name);
        rc |= nd_buf_addc(b, ':');
        rc |= nd_buf_add_json_string(b, kv[i].value);
    }
    rc |= nd_buf_addc(b, '}');
    return rc;
}

static int add_time(struct nd_buf *b, const struct nd_time *t)
{
    char s[ND_TIME_MAXLEN];
    size_t n = nd_time_format_rfc3339(t, s);
    int rc = nd_buf_addc(b, '"');

    rc |= nd_buf_add(b, s, n);
    rc |= nd_buf_addc(b, '"');
    return rc;
}

int nd_payload_webhook_json(const struct nd_notification *n, struct nd_buf *out)
{
    int rc = nd_buf_adds(out, "{\"alerts\":[");
    struct nd_kv *labels = NULL;
    size_t cap = 0, i;

    for (i = 0; i < n->nalerts; i++) {
        const struct nd_alert *a = n->alerts[i];
        char fp[17];
        size_t nl;

        if ((size_t)a->nlabels + 1 > cap) {
            cap = (size_t)a->nlabels + 1;
            labels = nd_xrealloc(labels, cap * sizeof(*labels));
        }
        nl = nd_notification_labels(n, a, labels);
        nd_fingerprint_format(a->fingerprint, fp);
        if (i > 0)
            rc |= nd_buf_addc(out, ',');
        rc |= nd_buf_printf(out, "{\"id\":\"%" PRIu64 "\",\"status\":", a->id);
        rc |= nd_buf_add_json_string(out, nd_alert_status_str((enum nd_alert_status)a->status));
        rc |= nd_buf_adds(out, ",\"labels\":");
        rc |= add_map(out, labels, nl);
        rc |= nd_buf_adds(out, ",\"annotations\":");
        rc |= add_map(out, a->annotations, a->nannotations);
        rc |= nd_buf_adds(out, ",\"startsAt\":");
        rc |= add_time(out, &a->starts_at);
        rc |= nd_buf_adds(out, ",\"endsAt\":");
        rc |= add_time(out, &a->ends_at);
        rc |= nd_buf_adds(out, ",\"generatorURL\":");
        rc |= nd_buf_add_json_string(out, a->generator_url ? a->generator_url : "");
        rc |= nd_buf_printf(out, ",\"fingerprint\":\"%s\"}", fp);
    }
    free(labels);
    rc |= nd_buf_adds(out, "],\"groupLabels\":");
    rc |= add_map(out, n->group_labels, n->ngroup_labels);
    rc |= nd_buf_adds(out, ",\"commonLabels\":");
    rc |= add_map(out, n->common_labels, n->ncommon_labels);
    rc |= nd_buf_adds(out, ",\"commonAnnotations\":");
    rc |= add_map(out, n->common_annotations, n->ncommon_annotations);
    rc |= nd_buf_adds(out, "}\n");
    return rc ? ND_ETOOBIG : ND_OK;
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
    int rc;

    rc = nd_buf_printf(out, "[%s] receiver=%s alerts=%zu\n",
                       nd_alert_status_str((enum nd_alert_status)n->status),
                       n->receiver ? n->receiver : "", n->nalerts);
    rc |= nd_buf_adds(out, "  group: ");
    rc |= add_pairs(out, n->group_labels, n->ngroup_labels);
    rc |= nd_buf_addc(out, '\n');
    for (i = 0; i < n->nalerts; i++) {
        const struct nd_alert *a = n->alerts[i];
        char s1[ND_TIME_MAXLEN], s2[ND_TIME_MAXLEN];
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
            rc |= nd_buf_printf(out, "      %s: %s\n", a->annotations[k].name,
                                a->annotations[k].value);
        nd_time_format_rfc3339(&a->starts_at, s1);
        nd_time_format_rfc3339(&a->ends_at, s2);
        rc |= nd_buf_printf(out, "      starts: %s  ends: %s\n", s1, s2);
        if (a->generator_url && a->generator_url[0])
            rc |= nd_buf_printf(out, "      generator: %s\n", a->generator_url);
    }
    free(labels);
    rc |= nd_buf_addc(out, '\n');
    return rc ? ND_ETOOBIG : ND_OK;
}
