/* payload.c - the webhook JSON and the console text of a notification. */
#include "notifyd/payload.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "notifyd/time.h"
#include "notifyd/util.h"

/* The webhook body is the hot path of delivery (one per notification, a few
 * KiB each): it is written straight into the buffer's memory, with one
 * capacity check per piece instead of one nd_buf_add per character, no
 * printf, and the timestamps of a notification (usually all the same)
 * formatted once. The bytes are those of nd_buf_add_json_escaped. */
struct jw {
    struct nd_buf *b;
    bool full; /* the buffer's limit was hit: the body is abandoned */
};

/* Room for n more bytes plus the NUL, growing like nd_buf (buf.h's fields
 * are public for this). NULL once the limit is hit. */
static char *jw_room(struct jw *w, size_t n)
{
    struct nd_buf *b = w->b;
    size_t need;

    /* n may exceed what is finally written (the escape's worst case), so
     * the ceiling check is on n; jw_string asks for the exact size when the
     * worst case would not fit. */
    if (w->full || n > b->limit || b->len > b->limit - n) {
        w->full = true;
        return NULL;
    }
    need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
            cap *= 2;
        b->data = nd_xrealloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

static inline void jw_put(struct jw *w, const char *p, size_t n)
{
    char *d = jw_room(w, n);

    if (!d)
        return;
    memcpy(d, p, n);
    w->b->len += n;
    d[n] = '\0';
}

#define JW_LIT(w, s) jw_put((w), (s), sizeof(s) - 1)

/* 1 for the bytes that need a look: control characters, '"', '\\', '<',
 * '>', '&' (escaped), and 0xe2 (maybe U+2028/U+2029). */
static const unsigned char esc_tab[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static inline bool needs_escape(unsigned char c)
{
    return esc_tab[c] != 0;
}

/* The exact escaped size, quotes included: only needed near the limit. */
static size_t escaped_len(const char *s, size_t n)
{
    size_t i, len = 2;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c))
            len++;
        else if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t')
            len += 2;
        else if (c == 0xe2)
            len += i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                           ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)
                       ? (i += 2, 6)
                       : 1;
        else
            len += 6;
    }
    return len;
}

/* A quoted JSON string, escaped as Go's encoder does (see buf.c). */
static void jw_string(struct jw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s), i;
    struct nd_buf *b = w->b;
    char *d, *o;

    /* Worst case: every byte becomes \u00XX; near the limit, the exact size
     * decides, so that a body that fits is never refused. */
    if (!w->full && b->limit - b->len >= 2 && n <= (b->limit - b->len - 2) / 6)
        d = jw_room(w, n * 6 + 2);
    else
        d = jw_room(w, escaped_len(s, n));
    o = d;
    if (!d)
        return;
    *o++ = '"';
    for (i = 0; i < n; i++) {
        size_t j = i;
        unsigned char c;

        /* Copy the run of plain bytes in one go. */
        while (j < n && !esc_tab[(unsigned char)s[j]])
            j++;
        memcpy(o, s + i, j - i);
        o += j - i;
        i = j;
        if (i == n)
            break;
        c = (unsigned char)s[i];
        switch (c) {
        case '"':
        case '\\':
            *o++ = '\\';
            *o++ = (char)c;
            break;
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            break;
        case '\t':
            *o++ = '\\';
            *o++ = 't';
            break;
        case 0xe2:
            if (i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
                memcpy(o, (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
                o += 6;
                i += 2;
            } else {
                *o++ = (char)c;
            }
            break;
        default:
            o[0] = '\\';
            o[1] = 'u';
            o[2] = '0';
            o[3] = '0';
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        }
    }
    *o++ = '"';
    *o = '\0';
    w->b->len += (size_t)(o - d);
}

static void add_map(struct jw *w, const struct nd_kv *kv, size_t n)
{
    size_t i;

    JW_LIT(w, "{");
    for (i = 0; i < n; i++) {
        if (i > 0)
            JW_LIT(w, ",");
        jw_string(w, kv[i].name);
        JW_LIT(w, ":");
        jw_string(w, kv[i].value);
    }
    JW_LIT(w, "}");
}

/* An alert's annotations, values as nd_alert_annotation_values() read them
 * (alert.h: they may be expanded; read once for the ID and the body). */
static void add_annotations(struct jw *w, const struct nd_alert *a, const char *const *values)
{
    JW_LIT(w, "{");
    for (size_t i = 0; i < a->nannotations; i++) {
        if (i > 0)
            JW_LIT(w, ",");
        jw_string(w, nd_alert_annotation_name(a, i));
        JW_LIT(w, ":");
        jw_string(w, values[i]);
    }
    JW_LIT(w, "}");
}

static void add_common_annotations(struct jw *w, const struct nd_notification *n,
                                   struct nd_buf *scratch)
{
    JW_LIT(w, "{");
    for (size_t i = 0; i < n->ncommon_annotations; i++) {
        struct nd_kv kv = nd_notification_common_annotation(n, i, scratch);
        if (i > 0)
            JW_LIT(w, ",");
        jw_string(w, kv.name);
        JW_LIT(w, ":");
        jw_string(w, kv.value);
    }
    JW_LIT(w, "}");
}

/* The last time formatted, as a quoted string: alerts of one notification
 * mostly share startsAt (and all firing ones the zero endsAt). */
struct time_cache {
    struct nd_time t;
    bool valid;
    size_t n;
    char s[ND_TIME_MAXLEN + 2];
};

static void add_time(struct jw *w, struct time_cache *c, const struct nd_time *t)
{
    if (!c->valid || c->t.sec != t->sec || c->t.nsec != t->nsec || c->t.offset != t->offset) {
        c->s[0] = '"';
        c->n = nd_time_format_rfc3339(t, c->s + 1) + 2;
        c->s[c->n - 1] = '"';
        c->t = *t;
        c->valid = true;
    }
    jw_put(w, c->s, c->n);
}

static void add_u64(struct jw *w, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    jw_put(w, tmp + sizeof(tmp) - n, n);
}

int nd_payload_webhook_json(const struct nd_notification *n, struct nd_buf *out)
{
    struct jw w = {out, false};
    struct time_cache starts = {0}, ends = {0};
    struct nd_kv *labels = NULL;
    const char **values = NULL;
    size_t cap = 0, vcap = 0, i;
    size_t len0 = out->len;
    struct nd_buf scratch;

    nd_buf_init(&scratch, SIZE_MAX / 2);

    {
        /* One allocation up front instead of doubling from 64 bytes (a
         * typical alert takes 600-900 bytes); never more than the limit. */
        size_t est = 512 + (size_t)1024 * n->nalerts;
        if (est > out->limit - out->len)
            est = out->limit - out->len;
        jw_room(&w, est);
    }
    JW_LIT(&w, "{\"alerts\":[");
    for (i = 0; i < n->nalerts && !w.full; i++) {
        const struct nd_alert *a = n->alerts[i];
        struct nd_time st, en;
        char fp[17];
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
        nd_fingerprint_format(nd_alert_fingerprint(a), fp);
        st = nd_alert_starts_at(a);
        en = nd_alert_ends_at(a);
        if (i > 0)
            JW_LIT(&w, ",");
        JW_LIT(&w, "{\"id\":\"");
        add_u64(&w, nd_alert_id_from(a, values));
        JW_LIT(&w, "\",\"status\":");
        jw_string(&w, nd_alert_status_str((enum nd_alert_status)a->status));
        JW_LIT(&w, ",\"labels\":");
        add_map(&w, labels, nl);
        JW_LIT(&w, ",\"annotations\":");
        add_annotations(&w, a, values);
        JW_LIT(&w, ",\"startsAt\":");
        add_time(&w, &starts, &st);
        JW_LIT(&w, ",\"endsAt\":");
        add_time(&w, &ends, &en);
        JW_LIT(&w, ",\"generatorURL\":");
        jw_string(&w, nd_alert_generator_url(a));
        JW_LIT(&w, ",\"fingerprint\":\"");
        jw_put(&w, fp, 16);
        JW_LIT(&w, "\"}");
    }
    free(values);
    /* one array for both, one after the other (each is written out at once) */
    if (n->ncommon_labels > cap || n->ngroup_labels > cap) {
        cap = n->ncommon_labels > n->ngroup_labels ? n->ncommon_labels : n->ngroup_labels;
        labels = nd_xrealloc(labels, cap * sizeof(*labels));
    }
    JW_LIT(&w, "],\"groupLabels\":");
    add_map(&w, nd_notification_group_labels(n, labels), n->ngroup_labels);
    JW_LIT(&w, ",\"commonLabels\":");
    add_map(&w, nd_notification_common_labels(n, labels), n->ncommon_labels);
    free(labels);
    JW_LIT(&w, ",\"commonAnnotations\":");
    add_common_annotations(&w, n, &scratch);
    JW_LIT(&w, "}\n");
    nd_buf_deinit(&scratch);
    if (w.full) {
        /* Leave the buffer as it was, like a failed nd_buf append. */
        out->len = len0;
        if (out->data)
            out->data[len0] = '\0';
        return ND_ETOOBIG;
    }
    return ND_OK;
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
