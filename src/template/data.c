/* data.c - Notification Manager's template data model (pkg/template/types.go)
 * and how it is built: from a notification, or from an Alertmanager webhook
 * payload (JSON) for `notifyd template render`.
 *
 * Go type names follow NM's package ("template.KV", "*template.Alert") so
 * that error messages read as NM's would.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_parse.h>

#include "notifyd/time.h"
#include "tmpl_int.h"

struct tpair {
    struct tstr name, value;
};

struct talert {
    struct tstr id, status, fingerprint, generator_url;
    struct tmap labels, annotations;
    struct tv starts_at, ends_at, notification_time;
};

struct nd_template_data {
    struct tarena arena;
    struct tlist alerts;
    struct tmap group_labels, common_labels, common_annotations;
    struct tstr receiver, external_url;
};

static void *da(struct tarena *a, size_t n)
{
    void *p = nd_tmpl__arena_alloc(a, n);
    if (!p)
        abort();
    memset(p, 0, n);
    return p;
}

/* ---- value constructors ---- */

static struct tv map_value(const struct tmap *m)
{
    struct tv v = {0};
    v.k = TK_MAP;
    v.t = &nd_tmpl__type_kv;
    v.u.m = m;
    return v;
}

struct tv nd_tmpl__strslice(struct texec *x, const struct tstr *items, size_t n)
{
    struct tlist *l = nd_tmpl__exec_alloc(x, sizeof(*l));
    struct tv *v = nd_tmpl__exec_alloc(x, (n + 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = nd_tmpl__val_str(items[i].p, items[i].n);
    l->n = n;
    l->v = v;
    struct tv r = {0};
    r.k = TK_LIST;
    r.t = &nd_tmpl__type_strslice;
    r.u.l = l;
    return r;
}

static struct tv pairs_value(struct texec *x, const struct tpair *const *p, size_t n)
{
    struct tlist *l = nd_tmpl__exec_alloc(x, sizeof(*l));
    struct tv *v = nd_tmpl__exec_alloc(x, (n + 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        v[i].k = TK_OBJ;
        v[i].t = &nd_tmpl__type_pair;
        v[i].u.o = p[i];
    }
    l->n = n;
    l->v = v;
    struct tv r = {0};
    r.k = TK_LIST;
    r.t = &nd_tmpl__type_pairs;
    r.u.l = l;
    return r;
}

static bool tstr_eq(struct tstr a, const char *b)
{
    size_t n = strlen(b);
    return a.n == n && memcmp(a.p, b, n) == 0;
}

/* ---- Pair ---- */

static struct tv pair_name(struct texec *x, const void *o)
{
    const struct tpair *p = o;
    return nd_tmpl__val_str(p->name.p, p->name.n);
}

static struct tv pair_value(struct texec *x, const void *o)
{
    const struct tpair *p = o;
    return nd_tmpl__val_str(p->value.p, p->value.n);
}

static const struct tfield pair_fields[] = {{"Name", pair_name}, {"Value", pair_value}};

const struct ttype nd_tmpl__type_pair = {.name = "template.Pair",
                                         .kind = TK_OBJ,
                                         .fields = pair_fields,
                                         .nfields = ND_ARRAY_LEN(pair_fields)};

/* ---- Pairs ---- */

static int pairs_names_values(struct texec *x, const struct tv *recv, struct tv *out, bool names)
{
    size_t n = recv->u.l ? recv->u.l->n : 0;
    struct tstr *s = nd_tmpl__exec_alloc(x, (n + 1) * sizeof(*s));
    for (size_t i = 0; i < n; i++) {
        const struct tpair *p = recv->u.l->v[i].u.o;
        s[i] = names ? p->name : p->value;
    }
    *out = nd_tmpl__strslice(x, s, n);
    return 0;
}

static int m_pairs_names(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                         struct tv *out, char *err)
{
    return pairs_names_values(x, recv, out, true);
}

static int m_pairs_values(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                          struct tv *out, char *err)
{
    return pairs_names_values(x, recv, out, false);
}

static struct tv pairs_filter(struct texec *x, const struct tv *recv, const struct tstr *keys,
                              size_t nkeys)
{
    size_t n = recv->u.l ? recv->u.l->n : 0;
    const struct tpair **p = nd_tmpl__exec_alloc(x, (n + 1) * sizeof(*p));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct tpair *pp = recv->u.l->v[i].u.o;
        bool drop = false;
        for (size_t j = 0; j < nkeys && !drop; j++)
            drop = pp->name.n == keys[j].n && memcmp(pp->name.p, keys[j].p, keys[j].n) == 0;
        if (!drop)
            p[k++] = pp;
    }
    return pairs_value(x, p, k);
}

static int m_pairs_filter(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                          struct tv *out, char *err)
{
    struct tstr *keys = nd_tmpl__exec_alloc(x, (size_t)(n + 1) * sizeof(*keys));
    for (int i = 0; i < n; i++)
        keys[i] = a[i].u.s;
    *out = pairs_filter(x, recv, keys, (size_t)n);
    return 0;
}

static int m_pairs_default_filter(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                                  struct tv *out, char *err)
{
    static const struct tstr keys[] = {
        {"rule_id", 7}, {"runbook_url", 11}, {"message", 7}, {"summary", 7}, {"summary_cn", 10}};
    *out = pairs_filter(x, recv, keys, ND_ARRAY_LEN(keys));
    return 0;
}

static const struct tfunc pairs_methods[] = {
    {"DefaultFilter", m_pairs_default_filter, 0, false, {NULL}, false, false},
    {"Filter", m_pairs_filter, 1, true, {&nd_tmpl__type_string}, false, false},
    {"Names", m_pairs_names, 0, false, {NULL}, false, false},
    {"Values", m_pairs_values, 0, false, {NULL}, false, false},
};

const struct ttype nd_tmpl__type_pairs = {.name = "template.Pairs",
                                          .kind = TK_LIST,
                                          .elem = &nd_tmpl__type_pair,
                                          .methods = pairs_methods,
                                          .nmethods = ND_ARRAY_LEN(pairs_methods)};

/* ---- KV ---- */

/* NM's SortedPairs: alertname first, rule_id left out, the rest sorted. */
static struct tv kv_sorted_pairs(struct texec *x, const struct tmap *m)
{
    size_t n = m ? m->n : 0;
    const struct tpair **p = nd_tmpl__exec_alloc(x, (n + 1) * sizeof(*p));
    struct tpair *all = nd_tmpl__exec_alloc(x, (n + 1) * sizeof(*all));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (tstr_eq(m->k[i], "alertname")) {
            all[i].name = m->k[i];
            all[i].value = m->v[i];
            p[k++] = &all[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (tstr_eq(m->k[i], "alertname") || tstr_eq(m->k[i], "rule_id"))
            continue;
        all[i].name = m->k[i];
        all[i].value = m->v[i];
        p[k++] = &all[i];
    }
    return pairs_value(x, p, k);
}

static int m_kv_sorted_pairs(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                             struct tv *out, char *err)
{
    *out = kv_sorted_pairs(x, recv->u.m);
    return 0;
}

static int m_kv_names(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                      struct tv *out, char *err)
{
    struct tv p = kv_sorted_pairs(x, recv->u.m);
    return pairs_names_values(x, &p, out, true);
}

static int m_kv_values(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                       struct tv *out, char *err)
{
    struct tv p = kv_sorted_pairs(x, recv->u.m);
    return pairs_names_values(x, &p, out, false);
}

static int m_kv_remove(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                       struct tv *out, char *err)
{
    const struct tmap *m = recv->u.m;
    size_t cnt = m ? m->n : 0;
    struct tmap *r = nd_tmpl__exec_alloc(x, sizeof(*r));
    struct tstr *k = nd_tmpl__exec_alloc(x, (cnt + 1) * sizeof(*k));
    struct tstr *v = nd_tmpl__exec_alloc(x, (cnt + 1) * sizeof(*v));
    size_t j = 0;
    const struct tlist *keys = a[0].u.l;
    for (size_t i = 0; i < cnt; i++) {
        bool drop = false;
        for (size_t q = 0; keys && q < keys->n && !drop; q++)
            drop = keys->v[q].u.s.n == m->k[i].n &&
                   memcmp(keys->v[q].u.s.p, m->k[i].p, m->k[i].n) == 0;
        if (!drop) {
            k[j] = m->k[i];
            v[j] = m->v[i];
            j++;
        }
    }
    r->n = j;
    r->k = k;
    r->v = v;
    *out = map_value(r);
    return 0;
}

static const struct tfunc kv_methods[] = {
    {"Names", m_kv_names, 0, false, {NULL}, false, false},
    {"Remove", m_kv_remove, 1, false, {&nd_tmpl__type_strslice}, false, false},
    {"SortedPairs", m_kv_sorted_pairs, 0, false, {NULL}, false, false},
    {"Values", m_kv_values, 0, false, {NULL}, false, false},
};

const struct ttype nd_tmpl__type_kv = {.name = "template.KV",
                                       .kind = TK_MAP,
                                       .elem = &nd_tmpl__type_string,
                                       .methods = kv_methods,
                                       .nmethods = ND_ARRAY_LEN(kv_methods)};

/* ---- Alert ---- */

#define ALERT_STR_FIELD(fname, member)                                                             \
    static struct tv fname(struct texec *x, const void *o)                                         \
    {                                                                                              \
        const struct talert *a = o;                                                                \
        return nd_tmpl__val_str(a->member.p, a->member.n);                                         \
    }
ALERT_STR_FIELD(alert_id, id)
ALERT_STR_FIELD(alert_status, status)
ALERT_STR_FIELD(alert_fingerprint, fingerprint)
ALERT_STR_FIELD(alert_generator_url, generator_url)

static struct tv alert_labels(struct texec *x, const void *o)
{
    return map_value(&((const struct talert *)o)->labels);
}

static struct tv alert_annotations(struct texec *x, const void *o)
{
    return map_value(&((const struct talert *)o)->annotations);
}

static struct tv alert_starts_at(struct texec *x, const void *o)
{
    return ((const struct talert *)o)->starts_at;
}

static struct tv alert_ends_at(struct texec *x, const void *o)
{
    return ((const struct talert *)o)->ends_at;
}

static struct tv alert_ntime(struct texec *x, const void *o)
{
    return ((const struct talert *)o)->notification_time;
}

static struct tstr ann(const struct talert *a, const char *name)
{
    for (size_t i = 0; i < a->annotations.n; i++)
        if (tstr_eq(a->annotations.k[i], name))
            return a->annotations.v[i];
    return (struct tstr){"", 0};
}

static struct tstr first_of(const struct talert *a, const char *n1, const char *n2, const char *n3)
{
    struct tstr s = ann(a, n1);
    if (s.n == 0)
        s = ann(a, n2);
    if (s.n == 0)
        s = ann(a, n3);
    return s;
}

static int m_alert_message(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                           struct tv *out, char *err)
{
    struct tstr s = first_of(recv->u.o, "message", "summary", "summaryCn");
    *out = nd_tmpl__val_str(s.p, s.n);
    return 0;
}

static int m_alert_message_cn(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                              struct tv *out, char *err)
{
    struct tstr s = first_of(recv->u.o, "summaryCn", "message", "summary");
    *out = nd_tmpl__val_str(s.p, s.n);
    return 0;
}

static const struct tfield alert_fields[] = {
    {"ID", alert_id},
    {"Status", alert_status},
    {"Labels", alert_labels},
    {"Annotations", alert_annotations},
    {"StartsAt", alert_starts_at},
    {"EndsAt", alert_ends_at},
    {"NotificationTime", alert_ntime},
    {"GeneratorURL", alert_generator_url},
    {"Fingerprint", alert_fingerprint},
};

static const struct tfunc alert_methods[] = {
    {"Message", m_alert_message, 0, false, {NULL}, false, false},
    {"MessageCN", m_alert_message_cn, 0, false, {NULL}, false, false},
};

const struct ttype nd_tmpl__type_alert = {.name = "*template.Alert",
                                          .kind = TK_OBJ,
                                          .pointer = true,
                                          .fields = alert_fields,
                                          .nfields = ND_ARRAY_LEN(alert_fields),
                                          .methods = alert_methods,
                                          .nmethods = ND_ARRAY_LEN(alert_methods)};

/* ---- Alerts ---- */

static int alerts_by_status(struct texec *x, const struct tv *recv, struct tv *out,
                            const char *status)
{
    size_t n = recv->u.l ? recv->u.l->n : 0;
    struct tv *v = nd_tmpl__exec_alloc(x, (n + 1) * sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct talert *a = recv->u.l->v[i].u.o;
        if (a && tstr_eq(a->status, status))
            v[k++] = recv->u.l->v[i];
    }
    struct tlist *l = nd_tmpl__exec_alloc(x, sizeof(*l));
    l->n = k;
    l->v = v;
    *out = *recv;
    out->u.l = l;
    return 0;
}

static int m_alerts_firing(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                           struct tv *out, char *err)
{
    return alerts_by_status(x, recv, out, "firing");
}

static int m_alerts_resolved(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                             struct tv *out, char *err)
{
    return alerts_by_status(x, recv, out, "resolved");
}

static const struct tfunc alerts_methods[] = {
    {"Firing", m_alerts_firing, 0, false, {NULL}, false, false},
    {"Resolved", m_alerts_resolved, 0, false, {NULL}, false, false},
};

const struct ttype nd_tmpl__type_alerts = {.name = "template.Alerts",
                                           .kind = TK_LIST,
                                           .elem = &nd_tmpl__type_alert,
                                           .methods = alerts_methods,
                                           .nmethods = ND_ARRAY_LEN(alerts_methods)};

/* ---- Data ---- */

static struct tv data_alerts(struct texec *x, const void *o)
{
    const struct nd_template_data *d = o;
    struct tv v = {0};
    v.k = TK_LIST;
    v.t = &nd_tmpl__type_alerts;
    v.u.l = &d->alerts;
    return v;
}

static struct tv data_group_labels(struct texec *x, const void *o)
{
    return map_value(&((const struct nd_template_data *)o)->group_labels);
}

static struct tv data_common_labels(struct texec *x, const void *o)
{
    return map_value(&((const struct nd_template_data *)o)->common_labels);
}

static struct tv data_common_annotations(struct texec *x, const void *o)
{
    return map_value(&((const struct nd_template_data *)o)->common_annotations);
}

static struct tv data_receiver(struct texec *x, const void *o)
{
    const struct nd_template_data *d = o;
    return nd_tmpl__val_str(d->receiver.p, d->receiver.n);
}

static struct tv data_external_url(struct texec *x, const void *o)
{
    const struct nd_template_data *d = o;
    return nd_tmpl__val_str(d->external_url.p, d->external_url.n);
}

/* NM's Data.Status(): "firing" when every alert fires, "resolved" when every
 * alert is resolved, else "" (so an empty group counts as firing). */
static int m_data_status(struct texec *x, const struct tv *recv, const struct tv *a, int n,
                         struct tv *out, char *err)
{
    const struct nd_template_data *d = recv->u.o;
    size_t firing = 0, resolved = 0;
    for (size_t i = 0; i < d->alerts.n; i++) {
        const struct talert *al = d->alerts.v[i].u.o;
        if (tstr_eq(al->status, "firing"))
            firing++;
        else if (tstr_eq(al->status, "resolved"))
            resolved++;
    }
    if (firing == d->alerts.n)
        *out = nd_tmpl__val_str("firing", 6);
    else if (resolved == d->alerts.n)
        *out = nd_tmpl__val_str("resolved", 8);
    else
        *out = nd_tmpl__val_str("", 0);
    return 0;
}

static const struct tfield data_fields[] = {
    {"Receiver", data_receiver},
    {"Alerts", data_alerts},
    {"GroupLabels", data_group_labels},
    {"CommonLabels", data_common_labels},
    {"CommonAnnotations", data_common_annotations},
    {"ExternalURL", data_external_url},
};

static const struct tfunc data_methods[] = {
    {"Status", m_data_status, 0, false, {NULL}, false, false},
};

const struct ttype nd_tmpl__type_data = {.name = "*template.Data",
                                         .kind = TK_OBJ,
                                         .pointer = true,
                                         .fields = data_fields,
                                         .nfields = ND_ARRAY_LEN(data_fields),
                                         .methods = data_methods,
                                         .nmethods = ND_ARRAY_LEN(data_methods)};

/* The struct types behind the pointers, for printing a dereferenced value
 * ({...} rather than &{...}) as text/template's printableValue does. */
static const struct ttype T_ALERT_STRUCT = {.name = "template.Alert",
                                            .kind = TK_OBJ,
                                            .fields = alert_fields,
                                            .nfields = ND_ARRAY_LEN(alert_fields)};
static const struct ttype T_DATA_STRUCT = {.name = "template.Data",
                                           .kind = TK_OBJ,
                                           .fields = data_fields,
                                           .nfields = ND_ARRAY_LEN(data_fields)};

struct tv nd_tmpl__deref(const struct tv *v)
{
    struct tv r = *v;
    if (v->k == TK_OBJ && v->u.o && v->t == &nd_tmpl__type_alert)
        r.t = &T_ALERT_STRUCT;
    else if (v->k == TK_OBJ && v->u.o && v->t == &nd_tmpl__type_data)
        r.t = &T_DATA_STRUCT;
    return r;
}

struct tv nd_tmpl__data_root(const struct nd_template_data *d)
{
    struct tv v = {0};
    v.k = TK_OBJ;
    v.t = &nd_tmpl__type_data;
    v.u.o = d;
    return v;
}

void nd_template_data_free(struct nd_template_data *d)
{
    if (!d)
        return;
    struct tarena a = d->arena;
    nd_tmpl__arena_free(&a);
}

static struct nd_template_data *data_new(void)
{
    struct tarena a;
    nd_tmpl__arena_init(&a, 0);
    struct nd_template_data *d = da(&a, sizeof(*d));
    d->arena = a;
    return d;
}

static struct tstr dstr(struct nd_template_data *d, const char *s, size_t n)
{
    char *p = da(&d->arena, n + 1);
    if (n)
        memcpy(p, s, n);
    return (struct tstr){p, n};
}

/* ---- times ---- */

static int32_t local_offset(int64_t sec, char *name, size_t n)
{
    time_t t = (time_t)sec;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    if (name)
        snprintf(name, n, "%s", tm.tm_zone ? tm.tm_zone : "");
    return (int32_t)tm.tm_gmtoff;
}

/* As time.Parse(RFC3339) places a time: "Z" is UTC, an offset equal to the
 * local zone's at that instant is Local, any other a nameless fixed zone. */
static struct tv time_value(const struct nd_time *t, bool zulu)
{
    struct tv v = {0};
    v.k = TK_TIME;
    v.t = &nd_tmpl__type_time;
    v.u.tm.sec = t->sec;
    v.u.tm.nsec = t->nsec;
    v.u.tm.off = t->offset;
    if (zulu) {
        v.zone = TZ_UTC;
        v.u.tm.off = 0;
    } else if (local_offset(t->sec, NULL, 0) == t->offset) {
        v.zone = TZ_LOCAL;
    } else {
        v.zone = TZ_FIXED;
    }
    return v;
}

static struct tv zero_time(void)
{
    struct nd_time z = nd_time_zero();
    return time_value(&z, true);
}

static struct tv time_from_ns(int64_t ns)
{
    struct nd_time t = nd_time_from_unix_ns(ns);
    struct tv v = time_value(&t, false);
    v.zone = TZ_LOCAL;
    v.u.tm.off = local_offset(t.sec, NULL, 0);
    return v;
}

/* ---- maps ---- */

struct kvtmp {
    struct tstr *k, *v;
    size_t n, cap;
};

static void kvtmp_add(struct kvtmp *t, struct tstr k, struct tstr v)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->k = nd_xrealloc(t->k, t->cap * sizeof(*t->k));
        t->v = nd_xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    t->k[t->n] = k;
    t->v[t->n] = v;
    t->n++;
}

static int tstr_cmp(const struct tstr *a, const struct tstr *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    if (c)
        return c;
    return a->n < b->n ? -1 : a->n > b->n ? 1 : 0;
}

/* Sorts by key and keeps the last value of a repeated key (Go's JSON into a
 * map); the result is allocated in the data arena. */
static void kvtmp_finish(struct nd_template_data *d, struct kvtmp *t, struct tmap *out)
{
    size_t n = t->n;
    size_t *idx = nd_xmalloc((n + 1) * sizeof(*idx));
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    /* insertion sort, stable: label sets are small */
    for (size_t i = 1; i < n; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && tstr_cmp(&t->k[idx[j - 1]], &t->k[v]) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = v;
    }
    struct tstr *k = da(&d->arena, (n + 1) * sizeof(*k));
    struct tstr *v = da(&d->arena, (n + 1) * sizeof(*v));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && tstr_cmp(&k[m - 1], &t->k[idx[i]]) == 0) {
            v[m - 1] = t->v[idx[i]];
            continue;
        }
        k[m] = t->k[idx[i]];
        v[m] = t->v[idx[i]];
        m++;
    }
    out->n = m;
    out->k = k;
    out->v = v;
    free(idx);
    free(t->k);
    free(t->v);
    memset(t, 0, sizeof(*t));
}

static void map_from_kv(struct nd_template_data *d, const struct nd_kv *kv, size_t n,
                        struct tmap *out)
{
    struct kvtmp t = {0};
    for (size_t i = 0; i < n; i++)
        kvtmp_add(&t, dstr(d, kv[i].name, strlen(kv[i].name)),
                  dstr(d, kv[i].value, strlen(kv[i].value)));
    kvtmp_finish(d, &t, out);
}

/* Values as nd_alert_annotation_values() read them (alert.h: they may be
 * expanded into a scratch); dstr copies each one. */
static void map_from_annotations(struct nd_template_data *d, const struct nd_alert *a,
                                 const char *const *values, struct tmap *out)
{
    struct kvtmp t = {0};
    for (size_t i = 0; i < a->nannotations; i++) {
        const char *k = nd_alert_annotation_name(a, i);
        kvtmp_add(&t, dstr(d, k, strlen(k)), dstr(d, values[i], strlen(values[i])));
    }
    kvtmp_finish(d, &t, out);
}

static void map_from_common_annotations(struct nd_template_data *d, const struct nd_notification *n,
                                        struct nd_buf *scratch, struct tmap *out)
{
    struct kvtmp t = {0};
    for (size_t i = 0; i < n->ncommon_annotations; i++) {
        struct nd_kv kv = nd_notification_common_annotation(n, i, scratch);
        kvtmp_add(&t, dstr(d, kv.name, strlen(kv.name)), dstr(d, kv.value, strlen(kv.value)));
    }
    kvtmp_finish(d, &t, out);
}

/* ---- from a notification ---- */

/* The labels a receiver sees (nd_notification_labels' rule, kept here so
 * that this layer needs no more than the store): the alert's own plus
 * receiver=<name> when the alert has no receiver label. Unsorted is fine:
 * kvtmp_finish sorts. */
static size_t notification_labels(const struct nd_notification *n, const struct nd_alert *a,
                                  struct nd_kv *out)
{
    size_t k = 0;
    bool has_receiver = false;
    for (size_t i = 0; i < a->nlabels; i++) {
        struct nd_kv kv = nd_alert_label_at(a, i);
        if (strcmp(kv.name, "receiver") == 0)
            has_receiver = true;
        out[k++] = kv;
    }
    if (!has_receiver && n->receiver) {
        out[k].name = "receiver";
        out[k].value = n->receiver;
        k++;
    }
    return k;
}

struct nd_template_data *nd_template_data_from_notification(const struct nd_notification *n,
                                                            int64_t now_ns)
{
    struct nd_template_data *d = data_new();
    d->receiver = dstr(d, n->receiver ? n->receiver : "", n->receiver ? strlen(n->receiver) : 0);
    d->external_url = dstr(d, "", 0);
    struct nd_kv *cl = nd_xmalloc((n->ncommon_labels + n->ngroup_labels + 1) * sizeof(*cl));
    map_from_kv(d, nd_notification_group_labels(n, cl), n->ngroup_labels, &d->group_labels);
    map_from_kv(d, nd_notification_common_labels(n, cl), n->ncommon_labels, &d->common_labels);
    free(cl);
    struct nd_buf scratch;
    nd_buf_init(&scratch, SIZE_MAX / 2);
    map_from_common_annotations(d, n, &scratch, &d->common_annotations);
    struct tv *v = da(&d->arena, (n->nalerts + 1) * sizeof(*v));
    size_t maxl = 0;
    for (size_t i = 0; i < n->nalerts; i++)
        if (n->alerts[i]->nlabels > maxl)
            maxl = n->alerts[i]->nlabels;
    struct nd_kv *labels = nd_xmalloc((maxl + 2) * sizeof(*labels));
    const char **values = NULL;
    size_t vcap = 0;
    for (size_t i = 0; i < n->nalerts; i++) {
        const struct nd_alert *al = n->alerts[i];
        struct talert *a = da(&d->arena, sizeof(*a));
        size_t nl = notification_labels(n, al, labels);
        map_from_kv(d, labels, nl, &a->labels);
        /* read once, for the annotations and the ID */
        if (al->nannotations > vcap) {
            vcap = al->nannotations;
            values = nd_xrealloc(values, vcap * sizeof(*values));
        }
        nd_alert_annotation_values(al, &scratch, values);
        map_from_annotations(d, al, values, &a->annotations);
        const char *st = nd_alert_status_str((enum nd_alert_status)al->status);
        a->status = dstr(d, st, strlen(st));
        char fp[17];
        nd_fingerprint_format(nd_alert_fingerprint(al), fp);
        a->fingerprint = dstr(d, fp, 16);
        nd_fingerprint_format(nd_alert_id_from(al, values), fp);
        a->id = dstr(d, fp, 16);
        const char *gen = nd_alert_generator_url(al);
        a->generator_url = dstr(d, gen, strlen(gen));
        struct nd_time starts = nd_alert_starts_at(al), ends = nd_alert_ends_at(al);
        a->starts_at =
            nd_time_is_zero(&starts) ? zero_time() : time_value(&starts, starts.offset == 0);
        a->ends_at = nd_time_is_zero(&ends) ? zero_time() : time_value(&ends, ends.offset == 0);
        a->notification_time = time_from_ns(now_ns);
        v[i].k = TK_OBJ;
        v[i].t = &nd_tmpl__type_alert;
        v[i].u.o = a;
    }
    free(labels);
    free(values);
    nd_buf_deinit(&scratch);
    d->alerts.n = n->nalerts;
    d->alerts.v = v;
    return d;
}

/* ---- from JSON (yajl's callback parser) ---- */

enum jfield {
    JF_NONE,
    JF_RECEIVER,
    JF_EXTERNAL_URL,
    JF_ALERTS,
    JF_GROUP_LABELS,
    JF_COMMON_LABELS,
    JF_COMMON_ANNOTATIONS,
};
enum afield {
    AF_NONE,
    AF_ID,
    AF_STATUS,
    AF_LABELS,
    AF_ANNOTATIONS,
    AF_STARTS,
    AF_ENDS,
    AF_NTIME,
    AF_FP,
    AF_GURL,
};

struct jalert {
    struct talert a;
    struct kvtmp labels, annotations;
};

struct jctx {
    struct nd_template_data *d;
    int depth;
    int field;  /* enum jfield of the current top-level key */
    int afield; /* enum afield of the current alert key */
    int skip;   /* depth at which an ignored value started, 0 = none */
    struct kvtmp kv[3];
    struct tstr key; /* the current key inside a label map */
    struct jalert *alerts;
    size_t nalerts, capalerts;
    char *err;
    bool bad;
};

static struct kvtmp *cur_map(struct jctx *c)
{
    if (c->depth == 2) {
        if (c->field == JF_GROUP_LABELS)
            return &c->kv[0];
        if (c->field == JF_COMMON_LABELS)
            return &c->kv[1];
        if (c->field == JF_COMMON_ANNOTATIONS)
            return &c->kv[2];
    }
    if (c->depth == 4 && c->field == JF_ALERTS && c->nalerts > 0) {
        struct jalert *a = &c->alerts[c->nalerts - 1];
        if (c->afield == AF_LABELS)
            return &a->labels;
        if (c->afield == AF_ANNOTATIONS)
            return &a->annotations;
    }
    return NULL;
}

static int j_bad(struct jctx *c, const char *msg)
{
    if (!c->bad)
        snprintf(c->err, ND_ERRLEN, "%s", msg);
    c->bad = true;
    return 0;
}

static int j_time(struct jctx *c, const char *s, size_t n, struct tv *out)
{
    struct nd_time t;
    if (nd_time_parse_rfc3339(s, n, &t) != ND_OK)
        return j_bad(c, "bad time in the data");
    *out = time_value(&t, n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z'));
    return 1;
}

static int j_string(void *ctx, const unsigned char *sv, size_t n)
{
    struct jctx *c = ctx;
    const char *s = (const char *)sv;
    if (c->skip)
        return 1;
    struct kvtmp *m = cur_map(c);
    if (m) {
        kvtmp_add(m, c->key, dstr(c->d, s, n));
        return 1;
    }
    if (c->depth == 1) {
        if (c->field == JF_RECEIVER)
            c->d->receiver = dstr(c->d, s, n);
        else if (c->field == JF_EXTERNAL_URL)
            c->d->external_url = dstr(c->d, s, n);
        return 1;
    }
    if (c->depth == 3 && c->field == JF_ALERTS && c->nalerts > 0) {
        struct talert *a = &c->alerts[c->nalerts - 1].a;
        switch (c->afield) {
        case AF_ID:
            a->id = dstr(c->d, s, n);
            break;
        case AF_STATUS:
            a->status = dstr(c->d, s, n);
            break;
        case AF_FP:
            a->fingerprint = dstr(c->d, s, n);
            break;
        case AF_GURL:
            a->generator_url = dstr(c->d, s, n);
            break;
        case AF_STARTS:
            return j_time(c, s, n, &a->starts_at);
        case AF_ENDS:
            return j_time(c, s, n, &a->ends_at);
        case AF_NTIME:
            return j_time(c, s, n, &a->notification_time);
        }
    }
    return 1;
}

static int j_scalar(void *ctx)
{
    struct jctx *c = ctx;
    if (c->skip)
        return 1;
    if (cur_map(c))
        return j_bad(c, "label and annotation values must be strings");
    return 1;
}

static int j_bool(void *ctx, int b)
{
    return j_scalar(ctx);
}

static int j_number(void *ctx, const char *s, size_t n)
{
    return j_scalar(ctx);
}

static int j_null(void *ctx)
{
    return j_scalar(ctx);
}

static bool key_is(const unsigned char *k, size_t n, const char *s)
{
    return strlen(s) == n && memcmp(k, s, n) == 0;
}

static int j_key(void *ctx, const unsigned char *k, size_t n)
{
    struct jctx *c = ctx;
    if (c->skip)
        return 1;
    if (c->depth == 1) {
        c->field = key_is(k, n, "receiver")            ? JF_RECEIVER
                   : key_is(k, n, "externalURL")       ? JF_EXTERNAL_URL
                   : key_is(k, n, "alerts")            ? JF_ALERTS
                   : key_is(k, n, "groupLabels")       ? JF_GROUP_LABELS
                   : key_is(k, n, "commonLabels")      ? JF_COMMON_LABELS
                   : key_is(k, n, "commonAnnotations") ? JF_COMMON_ANNOTATIONS
                                                       : JF_NONE;
    } else if (c->depth == 3 && c->field == JF_ALERTS) {
        c->afield = key_is(k, n, "id")                 ? AF_ID
                    : key_is(k, n, "status")           ? AF_STATUS
                    : key_is(k, n, "labels")           ? AF_LABELS
                    : key_is(k, n, "annotations")      ? AF_ANNOTATIONS
                    : key_is(k, n, "startsAt")         ? AF_STARTS
                    : key_is(k, n, "endsAt")           ? AF_ENDS
                    : key_is(k, n, "notificationTime") ? AF_NTIME
                    : key_is(k, n, "fingerprint")      ? AF_FP
                    : key_is(k, n, "generatorURL")     ? AF_GURL
                                                       : AF_NONE;
    } else {
        c->key = dstr(c->d, (const char *)k, n);
    }
    return 1;
}

#define J_MAX_DEPTH 64

static int j_start_map(void *ctx)
{
    struct jctx *c = ctx;
    c->depth++;
    if (c->depth > J_MAX_DEPTH)
        return j_bad(c, "data nested too deep");
    if (c->skip)
        return 1;
    bool known = c->depth == 1 || cur_map(c) != NULL || (c->depth == 3 && c->field == JF_ALERTS);
    if (!known) {
        c->skip = c->depth;
        return 1;
    }
    if (c->depth == 3) {
        if (c->nalerts == c->capalerts) {
            c->capalerts = c->capalerts ? c->capalerts * 2 : 8;
            c->alerts = nd_xrealloc(c->alerts, c->capalerts * sizeof(*c->alerts));
        }
        struct jalert *a = &c->alerts[c->nalerts++];
        memset(a, 0, sizeof(*a));
        a->a.id = a->a.status = a->a.fingerprint = a->a.generator_url = dstr(c->d, "", 0);
        a->a.starts_at = a->a.ends_at = a->a.notification_time = zero_time();
        c->afield = AF_NONE;
    }
    return 1;
}

static int j_end(void *ctx)
{
    struct jctx *c = ctx;
    if (c->skip == c->depth)
        c->skip = 0;
    c->depth--;
    return 1;
}

static int j_start_array(void *ctx)
{
    struct jctx *c = ctx;
    c->depth++;
    if (c->depth > J_MAX_DEPTH)
        return j_bad(c, "data nested too deep");
    if (c->skip)
        return 1;
    if (!(c->depth == 2 && c->field == JF_ALERTS))
        c->skip = c->depth;
    return 1;
}

static const yajl_callbacks jcb = {
    .yajl_null = j_null,
    .yajl_boolean = j_bool,
    .yajl_number = j_number,
    .yajl_string = j_string,
    .yajl_start_map = j_start_map,
    .yajl_map_key = j_key,
    .yajl_end_map = j_end,
    .yajl_start_array = j_start_array,
    .yajl_end_array = j_end,
};

struct nd_template_data *nd_template_data_from_json(const char *json, size_t len, char *err)
{
    struct jctx c = {0};
    c.d = data_new();
    c.err = err;
    c.d->receiver = c.d->external_url = dstr(c.d, "", 0);
    yajl_handle h = yajl_alloc(&jcb, NULL, &c);
    yajl_status st = yajl_parse(h, (const unsigned char *)json, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    if (st != yajl_status_ok && !c.bad) {
        unsigned char *m = yajl_get_error(h, 0, (const unsigned char *)json, len);
        snprintf(err, ND_ERRLEN, "bad JSON data: %s", (const char *)m);
        yajl_free_error(h, m);
        c.bad = true;
    }
    yajl_free(h);
    struct nd_template_data *d = c.d;
    if (!c.bad) {
        kvtmp_finish(d, &c.kv[0], &d->group_labels);
        kvtmp_finish(d, &c.kv[1], &d->common_labels);
        kvtmp_finish(d, &c.kv[2], &d->common_annotations);
        struct tv *v = da(&d->arena, (c.nalerts + 1) * sizeof(*v));
        for (size_t i = 0; i < c.nalerts; i++) {
            struct talert *a = da(&d->arena, sizeof(*a));
            *a = c.alerts[i].a;
            kvtmp_finish(d, &c.alerts[i].labels, &a->labels);
            kvtmp_finish(d, &c.alerts[i].annotations, &a->annotations);
            v[i].k = TK_OBJ;
            v[i].t = &nd_tmpl__type_alert;
            v[i].u.o = a;
        }
        d->alerts.n = c.nalerts;
        d->alerts.v = v;
        /* encoding/json grows a slice by half, from 4: slice bounds see it */
        size_t cap = 0;
        while (cap < c.nalerts)
            cap = cap + cap / 2 < 4 ? 4 : cap + cap / 2;
        d->alerts.cap = cap;
    }
    for (size_t i = 0; i < c.nalerts; i++) {
        free(c.alerts[i].labels.k);
        free(c.alerts[i].labels.v);
        free(c.alerts[i].annotations.k);
        free(c.alerts[i].annotations.v);
    }
    for (int i = 0; i < 3; i++) {
        free(c.kv[i].k);
        free(c.kv[i].v);
    }
    free(c.alerts);
    if (c.bad) {
        nd_template_data_free(d);
        return NULL;
    }
    return d;
}
