/* inhibit.c - see include/notifyd/inhibit.h.
 *
 * One hash table holds every remembered source of every rule, chained per
 * bucket. An entry is keyed by (rule, hash of the rule's `equal` values;
 * the hash leaves the rule out so that a reload can renumber the rules of
 * the entries it carries over, the bucket mixes it in)
 * and keeps the source's fingerprint, its endsAt, whether it also matches
 * the rule's target selector, and a copy of its `equal` values (so that a
 * hash collision is told apart without the source alert, which is not
 * kept: remembering a source costs one small block, not the alert).
 */
#include "notifyd/inhibit.h"

#include <stdlib.h>
#include <string.h>

#include "notifyd/buf.h"
#include "notifyd/intern.h"
#include "notifyd/selector.h"
#include "notifyd/parse.h"

struct rule {
    char *name;
    struct nd_selector *source;
    struct nd_selector *target;
    uint32_t *nh; /* interned names of the `equal` labels (a reference each) */
    size_t nequal;
};

struct src {
    struct src *next; /* in the bucket */
    uint64_t fp;      /* the source alert's fingerprint */
    uint64_t key;     /* equal_key() */
    int64_t ends_ns;  /* endsAt, INT64_MAX when the alert has none */
    uint32_t rule;
    bool both;   /* the source matches the rule's target selector too */
    char vals[]; /* the `equal` values in rule order, each NUL-terminated ("" = absent) */
};

struct nd_inhibit {
    struct rule *rules;
    size_t nrules;
    struct src **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    size_t max;
    uint64_t dropped;
    int64_t next_expiry; /* no entry ends before this (INT64_MAX: none ends) */
    uint32_t empty_hash;
};

static void rule_deinit(struct rule *r)
{
    free(r->name);
    nd_selector_free(r->source);
    nd_selector_free(r->target);
    for (size_t i = 0; i < r->nequal; i++)
        nd_intern_unref(r->nh[i]);
    free(r->nh);
}

void nd_inhibit_free(struct nd_inhibit *ih)
{
    if (!ih)
        return;
    for (size_t i = 0; i < ih->nrules; i++)
        rule_deinit(&ih->rules[i]);
    free(ih->rules);
    for (size_t b = 0; b < ih->nbuckets; b++) {
        struct src *e = ih->buckets[b];
        while (e) {
            struct src *next = e->next;
            free(e);
            e = next;
        }
    }
    free(ih->buckets);
    free(ih);
}

size_t nd_inhibit_rules(const struct nd_inhibit *ih)
{
    return ih->nrules;
}

size_t nd_inhibit_sources(const struct nd_inhibit *ih)
{
    return ih->count;
}

uint64_t nd_inhibit_dropped(const struct nd_inhibit *ih)
{
    return ih->dropped;
}

/* ---- configuration ----------------------------------------------------- */

/* Prometheus label names: [a-zA-Z_][a-zA-Z0-9_]*. */
static bool valid_label_name(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static void parse_selector(struct nd_receiver_config *rc, const char *key, struct nd_selector **out,
                           struct nd_config_errors *errs)
{
    struct nd_config_kv *kv = nd_receiver_config_get(rc, key);
    char err[ND_ERRLEN];
    size_t col = 0;

    if (!kv) {
        nd_config_error_add(
            errs, rc->file, rc->line, rc->section, key, "missing required key (e.g. %s)",
            strcmp(key, "source_selector") == 0 ? "source_selector = severity=critical"
                                                : "target_selector = severity=warning");
        return;
    }
    if (nd_selector_parse(kv->value, out, &col, err) != ND_OK)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key, "column %zu: %s", col,
                            err);
}

static int configure_one(struct nd_receiver_config *rc, struct rule *out, bool *enabled,
                         struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct nd_strlist eq = {0};

    memset(out, 0, sizeof(*out));
    out->name = nd_xstrdup(rc->name);
    *enabled = true;
    nd_receiver_config_bool(rc, "enabled", enabled, errs);
    parse_selector(rc, "source_selector", &out->source, errs);
    parse_selector(rc, "target_selector", &out->target, errs);

    nd_receiver_config_list(rc, "equal", &eq);
    if (eq.n > ND_INHIBIT_MAX_EQUAL) {
        nd_config_error_add(errs, rc->file, nd_receiver_config_line(rc, "equal"), rc->section,
                            "equal", "%zu labels: at most %u", eq.n, ND_INHIBIT_MAX_EQUAL);
    } else {
        out->nh = nd_xcalloc(eq.n ? eq.n : 1, sizeof(*out->nh));
        for (size_t i = 0; i < eq.n; i++) {
            const char *n = eq.v[i];
            size_t len = strlen(n);
            if (!valid_label_name(n)) {
                nd_config_error_add(
                    errs, rc->file, nd_receiver_config_line(rc, "equal"), rc->section, "equal",
                    "invalid label name \"%s\" (item %zu): want [a-zA-Z_][a-zA-Z0-9_]*", n, i + 1);
                continue;
            }
            /* A name given twice would only be compared twice. */
            bool dup = false;
            for (size_t j = 0; j < i; j++)
                dup = dup || strcmp(eq.v[j], n) == 0;
            if (!dup)
                out->nh[out->nequal++] = nd_intern(n, len, nd_intern_hash(n, len));
        }
    }
    nd_strlist_deinit(&eq);
    nd_receiver_config_check_unused(rc, errs);
    return errs->total == before ? ND_OK : ND_EINVAL;
}

int nd_inhibit_from_config(struct nd_config *cfg, struct nd_inhibit **out,
                           struct nd_config_errors *errs)
{
    struct nd_inhibit *ih = nd_xcalloc(1, sizeof(*ih));
    int rc = ND_OK;

    *out = NULL;
    ih->rules = nd_xcalloc(cfg->ninhibits ? cfg->ninhibits : 1, sizeof(*ih->rules));
    ih->max = cfg->max_inhibit_sources;
    ih->next_expiry = INT64_MAX;
    ih->empty_hash = nd_intern_hash32(ND_INTERN_EMPTY);
    for (size_t i = 0; i < cfg->ninhibits; i++) {
        bool enabled = true;
        if (configure_one(&cfg->inhibits[i], &ih->rules[ih->nrules], &enabled, errs) != ND_OK) {
            rc = ND_EINVAL;
            rule_deinit(&ih->rules[ih->nrules]);
        } else if (!enabled) {
            rule_deinit(&ih->rules[ih->nrules]);
        } else {
            ih->nrules++;
        }
    }
    if (rc != ND_OK) {
        nd_inhibit_free(ih);
        return rc;
    }
    *out = ih;
    return ND_OK;
}

/* ---- the table --------------------------------------------------------- */

/* Not exposed: any hash equal values share will do, and the per-value
 * hashes come with the interned strings (seeded per process). */
static uint64_t equal_key(const struct nd_inhibit *ih, size_t r, const struct nd_alert *a)
{
    const struct rule *ru = &ih->rules[r];
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15);
    for (size_t i = 0; i < ru->nequal; i++) {
        size_t j = nd_alert_label_find_h(a, ru->nh[i]);
        h = nd_hash_word(h, j == SIZE_MAX ? ih->empty_hash : nd_alert_label_value_hash(a, j));
    }
    return h;
}

static size_t bucket_of(const struct nd_inhibit *ih, uint64_t key, uint32_t r)
{
    key ^= (uint64_t)r * UINT64_C(0x94d049bb133111eb);
    return (size_t)((key ^ (key >> 29)) * UINT64_C(0xbf58476d1ce4e5b9) >> 32) & (ih->nbuckets - 1);
}

static const char *equal_value(const struct nd_alert *a, uint32_t nh)
{
    size_t j = nd_alert_label_find_h(a, nh);
    return j == SIZE_MAX ? "" : nd_alert_label_at(a, j).value;
}

static bool same_values(const struct rule *ru, const struct src *e, const struct nd_alert *a)
{
    const char *v = e->vals;
    for (size_t i = 0; i < ru->nequal; i++) {
        const char *av = equal_value(a, ru->nh[i]);
        if (strcmp(v, av) != 0)
            return false;
        v += strlen(v) + 1;
    }
    return true;
}

static void grow(struct nd_inhibit *ih)
{
    size_t n = ih->nbuckets ? ih->nbuckets * 2 : 64;
    struct src **old = ih->buckets;
    size_t oldn = ih->nbuckets;

    ih->buckets = nd_xcalloc(n, sizeof(*ih->buckets));
    ih->nbuckets = n;
    for (size_t b = 0; b < oldn; b++) {
        struct src *e = old[b];
        while (e) {
            struct src *next = e->next;
            size_t nb = bucket_of(ih, e->key, e->rule);
            e->next = ih->buckets[nb];
            ih->buckets[nb] = e;
            e = next;
        }
    }
    free(old);
}

/* Links e (rule and key set) into the table and counts it. */
static void insert(struct nd_inhibit *ih, struct src *e)
{
    if (ih->count + 1 > ih->nbuckets)
        grow(ih);
    size_t b = bucket_of(ih, e->key, e->rule);
    e->next = ih->buckets[b];
    ih->buckets[b] = e;
    ih->count++;
    if (e->ends_ns < ih->next_expiry)
        ih->next_expiry = e->ends_ns;
}

void nd_inhibit_begin(struct nd_inhibit *ih, int64_t now_ns)
{
    int64_t next = INT64_MAX;

    if (now_ns < ih->next_expiry)
        return;
    for (size_t b = 0; b < ih->nbuckets; b++) {
        struct src **pp = &ih->buckets[b];
        while (*pp) {
            struct src *e = *pp;
            if (e->ends_ns <= now_ns) {
                *pp = e->next;
                free(e);
                ih->count--;
                continue;
            }
            if (e->ends_ns < next)
                next = e->ends_ns;
            pp = &e->next;
        }
    }
    ih->next_expiry = next;
}

/* The entry of (rule r, alert with this key and fingerprint), as the link
 * that points at it, or NULL. */
static struct src **find(struct nd_inhibit *ih, uint32_t r, uint64_t key, uint64_t fp)
{
    if (!ih->nbuckets)
        return NULL;
    for (struct src **pp = &ih->buckets[bucket_of(ih, key, r)]; *pp; pp = &(*pp)->next)
        if ((*pp)->key == key && (*pp)->rule == r && (*pp)->fp == fp)
            return pp;
    return NULL;
}

static int64_t ends_ns_of(const struct nd_alert *a)
{
    struct nd_time t = nd_alert_ends_at(a);
    if (nd_time_is_zero(&t))
        return INT64_MAX;
    if (t.sec >= INT64_MAX / ND_NS_PER_S)
        return INT64_MAX - 1;
    if (t.sec <= INT64_MIN / ND_NS_PER_S + 1)
        return INT64_MIN;
    return t.sec * ND_NS_PER_S + t.nsec;
}

void nd_inhibit_learn(struct nd_inhibit *ih, const struct nd_alert *a, int64_t now_ns)
{
    int64_t ends = ends_ns_of(a);
    bool firing = a->status == ND_ALERT_FIRING && ends > now_ns;
    uint64_t fp = 0;
    bool have_fp = false;

    for (uint32_t r = 0; r < ih->nrules; r++) {
        struct rule *ru = &ih->rules[r];
        if (!nd_selector_matches_alert(ru->source, a))
            continue;
        if (!have_fp) {
            fp = nd_alert_fingerprint(a);
            have_fp = true;
        }
        uint64_t key = equal_key(ih, r, a);
        struct src **pp = find(ih, r, key, fp);
        if (!firing) {
            if (pp) {
                struct src *e = *pp;
                *pp = e->next;
                free(e);
                ih->count--;
            }
            continue;
        }
        if (pp) {
            /* The same alert again: Prometheus pushes endsAt forward.
             * `both` is decided again: a reload that changed the target
             * selector left it at its cautious value. */
            (*pp)->ends_ns = ends;
            (*pp)->both = nd_selector_matches_alert(ru->target, a);
            if (ends < ih->next_expiry)
                ih->next_expiry = ends;
            continue;
        }
        if (ih->count >= ih->max) {
            ih->dropped++;
            continue;
        }
        size_t vlen = 0;
        for (size_t i = 0; i < ru->nequal; i++)
            vlen += strlen(equal_value(a, ru->nh[i])) + 1;
        struct src *e = nd_xmalloc(sizeof(*e) + (vlen ? vlen : 1));
        char *w = e->vals;
        for (size_t i = 0; i < ru->nequal; i++) {
            const char *v = equal_value(a, ru->nh[i]);
            size_t l = strlen(v) + 1;
            memcpy(w, v, l);
            w += l;
        }
        e->fp = fp;
        e->key = key;
        e->ends_ns = ends;
        e->rule = r;
        e->both = nd_selector_matches_alert(ru->target, a);
        insert(ih, e);
    }
}

bool nd_inhibit_muted(struct nd_inhibit *ih, const struct nd_alert *a, int64_t now_ns)
{
    if (!ih->count)
        return false;
    for (uint32_t r = 0; r < ih->nrules; r++) {
        struct rule *ru = &ih->rules[r];
        if (!nd_selector_matches_alert(ru->target, a))
            continue;
        /* Alertmanager: an alert on both sides of a rule is not muted by a
         * source on both sides (itself among them). */
        bool both = nd_selector_matches_alert(ru->source, a);
        uint64_t key = equal_key(ih, r, a);
        for (const struct src *e = ih->buckets[bucket_of(ih, key, r)]; e; e = e->next) {
            if (e->key != key || e->rule != r || e->ends_ns <= now_ns || (both && e->both))
                continue;
            if (same_values(ru, e, a))
                return true;
        }
    }
    return false;
}

/* ---- reload ------------------------------------------------------------ */

static bool same_selector(const struct nd_selector *a, const struct nd_selector *b)
{
    struct nd_buf fa, fb;
    /* A selector is one config value: far below this. Past it, the rule
     * counts as changed (its sources are forgotten, never misapplied). */
    nd_buf_init(&fa, 1 << 20);
    nd_buf_init(&fb, 1 << 20);
    bool same = nd_selector_format(a, &fa) == ND_OK && nd_selector_format(b, &fb) == ND_OK &&
                fa.len == fb.len && (fa.len == 0 || memcmp(fa.data, fb.data, fa.len) == 0);
    nd_buf_deinit(&fa);
    nd_buf_deinit(&fb);
    return same;
}

/* The rule of `to` that inherits the sources of rule `r` of `from`, or
 * UINT32_MAX: same name, same source selector, same `equal` labels in the
 * same order (the stored values and their hash follow that order). */
static uint32_t heir(const struct nd_inhibit *to, const struct nd_inhibit *from, uint32_t r,
                     bool *same_target)
{
    const struct rule *o = &from->rules[r];
    for (uint32_t i = 0; i < to->nrules; i++) {
        const struct rule *n = &to->rules[i];
        if (strcmp(n->name, o->name) != 0)
            continue;
        if (n->nequal != o->nequal || !same_selector(n->source, o->source))
            return UINT32_MAX;
        for (size_t j = 0; j < n->nequal; j++)
            if (n->nh[j] != o->nh[j])
                return UINT32_MAX;
        *same_target = same_selector(n->target, o->target);
        return i;
    }
    return UINT32_MAX;
}

void nd_inhibit_take_sources(struct nd_inhibit *ih, struct nd_inhibit *old)
{
    uint32_t *map = nd_xcalloc(old->nrules ? old->nrules : 1, sizeof *map);
    bool *same_target = nd_xcalloc(old->nrules ? old->nrules : 1, sizeof *same_target);

    for (uint32_t r = 0; r < old->nrules; r++)
        map[r] = heir(ih, old, r, &same_target[r]);
    ih->dropped += old->dropped;
    for (size_t b = 0; b < old->nbuckets; b++) {
        struct src *e = old->buckets[b];
        while (e) {
            struct src *next = e->next;
            uint32_t to = map[e->rule];
            if (to == UINT32_MAX) {
                free(e);
            } else if (ih->count >= ih->max) {
                /* a lower ceiling: as for a new source past it */
                ih->dropped++;
                free(e);
            } else {
                /* Unknown under a changed target selector: true can only
                 * mute less; the source's next arrival decides it. */
                if (!same_target[e->rule])
                    e->both = true;
                e->rule = to;
                insert(ih, e);
            }
            e = next;
        }
        old->buckets[b] = NULL;
    }
    old->count = 0;
    old->next_expiry = INT64_MAX;
    free(map);
    free(same_target);
}
