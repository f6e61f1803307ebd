/* route.c - see include/notifyd/route.h and docs/routing.md. */
#include "notifyd/route.h"

#include <stdlib.h>
#include <string.h>

#include "notifyd/json.h"
#include "notifyd/regex.h"
#include "notifyd/selector.h"
#include "notifyd/util.h"

/* Most channels of one router and most types in one list. */
#define MAX_CHANNELS 256u
#define MAX_TYPES    64u

struct router {
    char *name;
    bool enabled;
    struct nd_selector *sel; /* NULL = every alert */
    uint32_t *targets;       /* sorted, unique */
    size_t ntargets;
    uint32_t grouping;
};

/* The tenant receivers of one namespace. */
struct ns_entry {
    char *ns;
    uint32_t *targets;
    size_t ntargets;
};

struct grouping {
    char **labels; /* sorted */
    size_t n;
};

/* Routers indexed by the first `k=v` of their alert selector: for label k,
 * the (value, router) pairs sorted by value. An alert can only match the
 * routers filed under its own value of k, so routing looks the label up
 * once per key instead of evaluating every router's selector. */
struct eq_entry {
    const char *value; /* borrowed from the router's selector */
    uint32_t router;
};

struct eq_index {
    const char *key; /* borrowed */
    struct eq_entry *v;
    size_t n;
};

/* The receivers of one tenant, for tenants named by a per-batch lookup. */
struct tenant_entry {
    char *name;
    uint32_t *targets;
    size_t ntargets;
};

/* For the read-only view. */
struct tenant_view {
    char *name;
    struct nd_strlist namespaces;
};

struct nd_route {
    int policy;
    char **tnames; /* target index -> receiver name */
    struct tenant_view *tenants;
    size_t ntenants;
    bool by_ns_label;
    struct router *routers;
    size_t nrouters;
    uint32_t *globals;
    size_t nglobals;
    struct ns_entry *ns; /* sorted by ns */
    size_t nns;
    struct tenant_entry *tidx; /* sorted by name */
    size_t ntidx;
    nd_route_tenants_fn tenants_fn;
    void *tenants_ud;
    struct grouping *groupings; /* [0] unused: [batch] group_labels */
    size_t ngroupings;
    size_t ntargets;
    struct eq_index *eqs;
    size_t neqs;
    uint32_t *always; /* enabled routers outside the index, in order */
    size_t nalways;
    uint32_t *cand;  /* per-alert scratch: candidate routers (nrouters) */
    uint32_t *stamp; /* per target: the generation that last got a hit */
    uint32_t gen;
    struct nd_route_hit *hits; /* ntargets */
};

struct tenant {
    const char *name;
    struct nd_strlist namespaces;
};

struct channel {
    const char *tenant;
    struct nd_strlist types; /* empty = every type */
};

void nd_route_free(struct nd_route *r)
{
    if (!r)
        return;
    for (size_t i = 0; r->tnames && i < r->ntargets; i++)
        free(r->tnames[i]);
    free(r->tnames);
    for (size_t i = 0; i < r->ntenants; i++) {
        free(r->tenants[i].name);
        nd_strlist_deinit(&r->tenants[i].namespaces);
    }
    free(r->tenants);
    for (size_t i = 0; i < r->ntidx; i++) {
        free(r->tidx[i].name);
        free(r->tidx[i].targets);
    }
    free(r->tidx);
    for (size_t i = 0; i < r->nrouters; i++) {
        free(r->routers[i].name);
        nd_selector_free(r->routers[i].sel);
        free(r->routers[i].targets);
    }
    free(r->routers);
    for (size_t i = 0; i < r->neqs; i++)
        free(r->eqs[i].v);
    free(r->eqs);
    free(r->always);
    free(r->cand);
    free(r->globals);
    for (size_t i = 0; i < r->nns; i++) {
        free(r->ns[i].ns);
        free(r->ns[i].targets);
    }
    free(r->ns);
    for (size_t g = 1; g < r->ngroupings; g++) {
        for (size_t i = 0; i < r->groupings[g].n; i++)
            free(r->groupings[g].labels[i]);
        free(r->groupings[g].labels);
    }
    free(r->groupings);
    free(r->stamp);
    free(r->hits);
    free(r);
}

size_t nd_route_nrouters(const struct nd_route *r)
{
    return r->nrouters;
}

size_t nd_route_ngroupings(const struct nd_route *r)
{
    return r->ngroupings;
}

const char *const *nd_route_group_labels(const struct nd_route *r, size_t g, size_t *n)
{
    *n = r->groupings[g].n;
    return (const char *const *)r->groupings[g].labels;
}

static bool in_list(const struct nd_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

static const struct tenant *find_tenant(const struct tenant *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].name, name) == 0)
            return &t[i];
    return NULL;
}

static struct nd_receiver_config *find_section(struct nd_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nreceivers; i++)
        if (strcmp(cfg->receivers[i].name, name) == 0)
            return &cfg->receivers[i];
    return NULL;
}

static bool group_label_ok(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts and removes duplicates; returns the new count. */
static size_t uniq_u32(uint32_t *v, size_t n)
{
    size_t k = 0;
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, cmp_u32);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    return k;
}

/* The grouping index of a router's group_labels (sorted, unique), added
 * when new. Takes the list's strings. */
static uint32_t grouping_of(struct nd_route *r, struct nd_strlist *l)
{
    if (l->n > 1) /* l->v is NULL for an empty list: qsort must not see it */
        qsort(l->v, l->n, sizeof *l->v, cmp_str);
    for (size_t g = 1; g < r->ngroupings; g++) {
        struct grouping *gr = &r->groupings[g];
        bool eq = gr->n == l->n;
        for (size_t i = 0; eq && i < l->n; i++)
            eq = strcmp(gr->labels[i], l->v[i]) == 0;
        if (eq) {
            nd_strlist_deinit(l);
            return (uint32_t)g;
        }
    }
    r->groupings = nd_xrealloc(r->groupings, (r->ngroupings + 1) * sizeof *r->groupings);
    r->groupings[r->ngroupings] = (struct grouping){.labels = l->v, .n = l->n};
    l->v = NULL;
    l->n = 0;
    return (uint32_t)r->ngroupings++;
}

static const char *keys_lookup(const void *labels, const char *name)
{
    const struct nd_target_keys *k = labels;
    for (size_t i = 0; i < k->nlabels; i++)
        if (strcmp(k->label_names[i], name) == 0)
            return k->label_values[i];
    return NULL;
}

static void parse_tenants(struct nd_config *cfg, struct tenant *t, struct nd_config_errors *errs)
{
    for (size_t i = 0; i < cfg->ntenants; i++) {
        struct nd_receiver_config *rc = &cfg->tenants[i];
        t[i].name = rc->name;
        memset(&t[i].namespaces, 0, sizeof t[i].namespaces);
        struct nd_config_kv *kv = nd_receiver_config_get(rc, "namespaces");
        if (kv) {
            nd_strlist_split(&t[i].namespaces, kv->value);
            if (t[i].namespaces.n == 0)
                nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                    "empty list: name at least one namespace, or leave the key "
                                    "out for the namespace \"%s\"",
                                    rc->name);
        } else {
            /* As the original without a tenant sidecar: the tenant of a
             * namespace is the namespace itself. */
            nd_strlist_add(&t[i].namespaces, rc->name, strlen(rc->name));
        }
        nd_receiver_config_check_unused(rc, errs);
    }
}

static void check_receiver_tenants(struct nd_config *cfg, const struct nd_route_receiver *rcv,
                                   size_t nrcv, const struct tenant *t,
                                   struct nd_config_errors *errs)
{
    for (size_t i = 0; i < nrcv; i++) {
        const struct nd_target_keys *k = rcv[i].keys;
        if (!k || !k->tenant || find_tenant(t, cfg->ntenants, k->tenant))
            continue;
        struct nd_receiver_config *rc = find_section(cfg, rcv[i].name);
        nd_config_error_add(
            errs, rc ? rc->file : cfg->path, k->tenant_line, rc ? rc->section : NULL, "tenant",
            "unknown tenant \"%s\": add a [tenant.%s] section", k->tenant, k->tenant);
    }
}

/* Parses `channels = TENANT:type+type, ...`. */
static size_t parse_channels(struct nd_receiver_config *rc, struct nd_config_kv *kv,
                             const struct tenant *t, size_t nt, struct channel *out,
                             struct nd_config_errors *errs)
{
    struct nd_strlist items = {0};
    size_t n = 0;

    nd_strlist_split(&items, kv->value);
    for (size_t i = 0; i < items.n; i++) {
        char *item = items.v[i];
        char *colon = strchr(item, ':');
        if (colon)
            *colon = '\0';
        const struct tenant *ten = find_tenant(t, nt, item);
        if (!ten) {
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "unknown tenant \"%s\" (want TENANT or TENANT:type+type)", item);
            continue;
        }
        if (n >= MAX_CHANNELS) {
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "too many channels (at most %u)", MAX_CHANNELS);
            break;
        }
        out[n].tenant = ten->name;
        memset(&out[n].types, 0, sizeof out[n].types);
        if (colon) {
            for (char *p = colon + 1; *p;) {
                size_t len = strcspn(p, "+");
                char *s = p, *e = p + len;
                p = *e ? e + 1 : e;
                while (s < e && (*s == ' ' || *s == '\t'))
                    s++;
                while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                    e--;
                if (s < e)
                    nd_strlist_add(&out[n].types, s, (size_t)(e - s));
            }
            if (out[n].types.n == 0)
                nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                    "no type after \"%s:\" (want TENANT:type+type, or TENANT "
                                    "for every type)",
                                    ten->name);
        }
        n++;
    }
    nd_strlist_deinit(&items);
    return n;
}

static bool type_known(const struct nd_route_receiver *rcv, size_t nrcv, const char *type)
{
    for (size_t i = 0; i < nrcv; i++)
        if (rcv[i].type && strcmp(rcv[i].type, type) == 0)
            return true;
    return false;
}

static void check_types(struct nd_receiver_config *rc, struct nd_config_kv *kv,
                        const struct nd_strlist *types, const struct nd_route_receiver *rcv,
                        size_t nrcv, struct nd_config_errors *errs)
{
    for (size_t i = 0; i < types->n; i++)
        if (!type_known(rcv, nrcv, types->v[i]))
            nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                "no receiver has type \"%s\"", types->v[i]);
}

static void parse_router(struct nd_route *r, struct nd_receiver_config *rc,
                         const struct nd_route_receiver *rcv, size_t nrcv, const struct tenant *t,
                         size_t nt, struct router *out, struct nd_config_errors *errs)
{
    struct nd_config_kv *kv, *kv_names, *kv_regex, *kv_sel, *kv_types, *kv_chan;
    struct nd_strlist names = {0}, types = {0};
    struct nd_selector *rsel = NULL;
    struct nd_re *re = NULL;
    struct channel *chans = NULL;
    size_t nchans = 0;
    char err[ND_ERRLEN];
    size_t col = 0;

    memset(out, 0, sizeof *out);
    out->name = nd_xstrdup(rc->name);
    out->enabled = true;
    nd_receiver_config_bool(rc, "enabled", &out->enabled, errs);
    kv = nd_receiver_config_get(rc, "alert_selector");
    if (kv && nd_selector_parse(kv->value, &out->sel, &col, err) != ND_OK)
        nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key, "column %zu: %s", col,
                            err);

    kv_names = nd_receiver_config_get(rc, "receivers");
    if (kv_names) {
        nd_strlist_split(&names, kv_names->value);
        for (size_t i = 0; i < names.n; i++) {
            bool known = false;
            for (size_t j = 0; j < nrcv && !known; j++)
                known = strcmp(rcv[j].name, names.v[i]) == 0;
            if (!known)
                nd_config_error_add(errs, rc->file, kv_names->line, rc->section, kv_names->key,
                                    "unknown receiver \"%s\"", names.v[i]);
        }
    }
    kv_regex = nd_receiver_config_get(rc, "receiver_regex");
    if (kv_regex && nd_re_compile(&re, kv_regex->value, strlen(kv_regex->value), err) != ND_OK)
        nd_config_error_add(errs, rc->file, kv_regex->line, rc->section, kv_regex->key, "%s", err);
    kv_sel = nd_receiver_config_get(rc, "receiver_selector");
    if (kv_sel && nd_selector_parse(kv_sel->value, &rsel, &col, err) != ND_OK)
        nd_config_error_add(errs, rc->file, kv_sel->line, rc->section, kv_sel->key,
                            "column %zu: %s", col, err);
    kv_types = nd_receiver_config_get(rc, "receiver_types");
    if (kv_types) {
        nd_strlist_split(&types, kv_types->value);
        if (types.n > MAX_TYPES)
            nd_config_error_add(errs, rc->file, kv_types->line, rc->section, kv_types->key,
                                "too many types (at most %u)", MAX_TYPES);
        check_types(rc, kv_types, &types, rcv, nrcv, errs);
    }
    kv_chan = nd_receiver_config_get(rc, "channels");
    if (kv_chan) {
        chans = nd_xcalloc(MAX_CHANNELS, sizeof *chans);
        nchans = parse_channels(rc, kv_chan, t, nt, chans, errs);
        for (size_t i = 0; i < nchans; i++)
            check_types(rc, kv_chan, &chans[i].types, rcv, nrcv, errs);
    }
    if (!kv_names && !kv_regex && !kv_sel && !kv_chan)
        nd_config_error_add(errs, rc->file, rc->line, rc->section, "receivers",
                            "the router selects no receiver: set receivers, receiver_regex, "
                            "receiver_selector or channels");

    kv = nd_receiver_config_get(rc, "group_labels");
    if (kv) {
        struct nd_strlist gl = {0};
        bool ok = true;
        nd_strlist_split(&gl, kv->value);
        for (size_t i = 0; i < gl.n; i++) {
            if (!group_label_ok(gl.v[i])) {
                nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                    "invalid label name \"%s\": want [a-zA-Z_][a-zA-Z0-9_]*",
                                    gl.v[i]);
                ok = false;
            }
            for (size_t j = 0; j < i; j++)
                if (strcmp(gl.v[i], gl.v[j]) == 0) {
                    nd_config_error_add(errs, rc->file, kv->line, rc->section, kv->key,
                                        "label \"%s\" listed twice", gl.v[i]);
                    ok = false;
                }
        }
        if (ok)
            out->grouping = grouping_of(r, &gl);
        nd_strlist_deinit(&gl);
    }
    nd_receiver_config_check_unused(rc, errs);

    /* The router's receivers, fixed from now on. */
    out->targets = nd_xmalloc((nrcv ? nrcv : 1) * sizeof *out->targets);
    for (size_t i = 0; i < nrcv; i++) {
        const struct nd_route_receiver *x = &rcv[i];
        bool pick = false;
        int m = 0;

        if (x->target == ND_ROUTE_NO_TARGET || !x->keys)
            continue;
        if (in_list(&names, x->name))
            pick = true;
        if (!pick && re && nd_re_match(re, x->name, strlen(x->name), &m, err) == ND_OK && m)
            pick = true;
        if (!pick && rsel && nd_selector_matches(rsel, keys_lookup, x->keys))
            pick = true;
        if (pick && types.n && !in_list(&types, x->type))
            pick = false;
        for (size_t c = 0; !pick && c < nchans; c++)
            pick = x->keys->tenant && strcmp(x->keys->tenant, chans[c].tenant) == 0 &&
                   (chans[c].types.n == 0 || in_list(&chans[c].types, x->type));
        if (pick)
            out->targets[out->ntargets++] = (uint32_t)x->target;
    }
    out->ntargets = uniq_u32(out->targets, out->ntargets);

    nd_strlist_deinit(&names);
    nd_strlist_deinit(&types);
    for (size_t i = 0; i < nchans; i++)
        nd_strlist_deinit(&chans[i].types);
    free(chans);
    nd_selector_free(rsel);
    nd_re_free(re);
}

static int cmp_eq(const void *a, const void *b)
{
    const struct eq_entry *x = a, *y = b;
    int c = strcmp(x->value, y->value);
    return c ? c : (x->router < y->router ? -1 : x->router > y->router);
}

static void build_router_index(struct nd_route *r)
{
    r->always = nd_xcalloc(r->nrouters ? r->nrouters : 1, sizeof *r->always);
    r->cand = nd_xcalloc(r->nrouters ? r->nrouters : 1, sizeof *r->cand);
    for (size_t i = 0; i < r->nrouters; i++) {
        const struct router *ro = &r->routers[i];
        const char *key, *value;
        struct eq_index *x = NULL;

        if (!ro->enabled || !ro->ntargets)
            continue;
        if (!nd_selector_first_eq(ro->sel, &key, &value)) {
            r->always[r->nalways++] = (uint32_t)i;
            continue;
        }
        for (size_t k = 0; k < r->neqs && !x; k++)
            if (strcmp(r->eqs[k].key, key) == 0)
                x = &r->eqs[k];
        if (!x) {
            r->eqs = nd_xrealloc(r->eqs, (r->neqs + 1) * sizeof *r->eqs);
            x = &r->eqs[r->neqs++];
            *x = (struct eq_index){.key = key, .v = NULL, .n = 0};
        }
        x->v = nd_xrealloc(x->v, (x->n + 1) * sizeof *x->v);
        x->v[x->n++] = (struct eq_entry){value, (uint32_t)i};
    }
    for (size_t k = 0; k < r->neqs; k++)
        qsort(r->eqs[k].v, r->eqs[k].n, sizeof *r->eqs[k].v, cmp_eq);
}

struct ns_pair {
    const char *ns;
    uint32_t target;
};

static int cmp_pair(const void *a, const void *b)
{
    const struct ns_pair *x = a, *y = b;
    int c = strcmp(x->ns, y->ns);
    return c ? c : (x->target < y->target ? -1 : x->target > y->target);
}

static void build_ns_index(struct nd_route *r, const struct nd_route_receiver *rcv, size_t nrcv,
                           const struct tenant *t, size_t nt)
{
    struct ns_pair *pairs = NULL;
    size_t n = 0, cap = 0;

    for (size_t i = 0; i < nrcv; i++) {
        const struct nd_target_keys *k = rcv[i].keys;
        const struct tenant *ten;
        if (rcv[i].target == ND_ROUTE_NO_TARGET || !k || !k->tenant)
            continue;
        ten = find_tenant(t, nt, k->tenant);
        if (!ten)
            continue;
        for (size_t j = 0; j < ten->namespaces.n; j++) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                pairs = nd_xrealloc(pairs, cap * sizeof *pairs);
            }
            pairs[n++] = (struct ns_pair){ten->namespaces.v[j], (uint32_t)rcv[i].target};
        }
    }
    if (n)
        qsort(pairs, n, sizeof *pairs, cmp_pair);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        struct ns_entry *e;
        r->ns = nd_xrealloc(r->ns, (r->nns + 1) * sizeof *r->ns);
        e = &r->ns[r->nns++];
        e->ns = nd_xstrdup(pairs[i].ns);
        e->targets = NULL;
        e->ntargets = 0;
        while (j < n && strcmp(pairs[j].ns, pairs[i].ns) == 0)
            j++;
        e->targets = nd_xmalloc((j - i) * sizeof *e->targets);
        for (size_t k = i; k < j; k++)
            if (e->ntargets == 0 || e->targets[e->ntargets - 1] != pairs[k].target)
                e->targets[e->ntargets++] = pairs[k].target;
        i = j;
    }
    free(pairs);
}

static int cmp_tenant_entry(const void *a, const void *b)
{
    return strcmp(((const struct tenant_entry *)a)->name, ((const struct tenant_entry *)b)->name);
}

/* tenant name -> its enabled receivers, for nd_route_set_tenants. */
static void build_tenant_index(struct nd_route *r, const struct nd_route_receiver *rcv, size_t nrcv,
                               const struct tenant *t, size_t nt)
{
    r->tidx = nd_xcalloc(nt ? nt : 1, sizeof *r->tidx);
    for (size_t i = 0; i < nt; i++) {
        struct tenant_entry *e = &r->tidx[r->ntidx++];
        e->name = nd_xstrdup(t[i].name);
        e->targets = nd_xmalloc((nrcv ? nrcv : 1) * sizeof *e->targets);
        for (size_t j = 0; j < nrcv; j++) {
            const struct nd_target_keys *k = rcv[j].keys;
            if (rcv[j].target == ND_ROUTE_NO_TARGET || !k || !k->tenant ||
                strcmp(k->tenant, t[i].name) != 0)
                continue;
            bool seen = false;
            for (size_t m = 0; m < e->ntargets; m++)
                seen = seen || e->targets[m] == (uint32_t)rcv[j].target;
            if (!seen)
                e->targets[e->ntargets++] = (uint32_t)rcv[j].target;
        }
    }
    if (r->ntidx)
        qsort(r->tidx, r->ntidx, sizeof *r->tidx, cmp_tenant_entry);
}

void nd_route_set_tenants(struct nd_route *r, nd_route_tenants_fn fn, void *ud)
{
    r->tenants_fn = fn;
    r->tenants_ud = ud;
}

int nd_route_new(struct nd_config *cfg, const struct nd_route_receiver *rcv, size_t nrcv,
                 size_t ntargets, struct nd_route **out, struct nd_config_errors *errs)
{
    size_t before = errs->total;
    struct nd_route *r = nd_xcalloc(1, sizeof *r);
    struct tenant *t = nd_xcalloc(cfg->ntenants ? cfg->ntenants : 1, sizeof *t);

    *out = NULL;
    r->policy = cfg->route_policy;
    r->by_ns_label = cfg->tenant_by_namespace_label;
    r->ntargets = ntargets;
    r->groupings = nd_xcalloc(1, sizeof *r->groupings);
    r->ngroupings = 1;

    parse_tenants(cfg, t, errs);
    check_receiver_tenants(cfg, rcv, nrcv, t, errs);
    r->routers = nd_xcalloc(cfg->nrouters ? cfg->nrouters : 1, sizeof *r->routers);
    for (size_t i = 0; i < cfg->nrouters; i++)
        parse_router(r, &cfg->routers[i], rcv, nrcv, t, cfg->ntenants, &r->routers[r->nrouters++],
                     errs);
    build_ns_index(r, rcv, nrcv, t, cfg->ntenants);
    build_tenant_index(r, rcv, nrcv, t, cfg->ntenants);
    build_router_index(r);

    r->globals = nd_xmalloc((nrcv ? nrcv : 1) * sizeof *r->globals);
    for (size_t i = 0; i < nrcv; i++)
        if (rcv[i].target != ND_ROUTE_NO_TARGET && rcv[i].keys && !rcv[i].keys->tenant)
            r->globals[r->nglobals++] = (uint32_t)rcv[i].target;
    r->stamp = nd_xcalloc(ntargets ? ntargets : 1, sizeof *r->stamp);
    r->hits = nd_xcalloc(ntargets ? ntargets : 1, sizeof *r->hits);

    r->tnames = nd_xcalloc(ntargets ? ntargets : 1, sizeof *r->tnames);
    for (size_t i = 0; i < nrcv; i++)
        if (rcv[i].target != ND_ROUTE_NO_TARGET && rcv[i].target < ntargets &&
            !r->tnames[rcv[i].target])
            r->tnames[rcv[i].target] = nd_xstrdup(rcv[i].name);
    r->tenants = nd_xcalloc(cfg->ntenants ? cfg->ntenants : 1, sizeof *r->tenants);
    r->ntenants = cfg->ntenants;
    for (size_t i = 0; i < cfg->ntenants; i++) {
        r->tenants[i].name = nd_xstrdup(t[i].name);
        r->tenants[i].namespaces = t[i].namespaces; /* taken */
    }
    free(t);
    if (errs->total != before) {
        nd_route_free(r);
        return ND_EINVAL;
    }
    *out = r;
    return ND_OK;
}

static size_t add(struct nd_route *r, size_t n, const uint32_t *targets, size_t nt,
                  uint32_t grouping)
{
    for (size_t i = 0; i < nt; i++) {
        uint32_t x = targets[i];
        if (r->stamp[x] == r->gen)
            continue;
        r->stamp[x] = r->gen;
        r->hits[n].target = x;
        r->hits[n].grouping = grouping;
        n++;
    }
    return n;
}

static int cmp_tenant_key(const void *key, const void *elem)
{
    return strcmp(key, ((const struct tenant_entry *)elem)->name);
}

static int cmp_ns_key(const void *key, const void *elem)
{
    return strcmp(key, ((const struct ns_entry *)elem)->ns);
}

/* Step 1: starts a new evaluation (the dedup stamps) and adds the targets
 * of the routers that match a; returns how many. */
static size_t eval_routers(struct nd_route *r, const struct nd_alert *a)
{
    size_t n = 0;

    if (++r->gen == 0) {
        memset(r->stamp, 0, r->ntargets * sizeof *r->stamp);
        r->gen = 1;
    }
    /* The candidate routers: those outside the index, and those filed
     * under the alert's values of the indexed labels. */
    size_t nc = 0;
    memcpy(r->cand, r->always, r->nalways * sizeof *r->cand);
    nc = r->nalways;
    for (size_t k = 0; k < r->neqs; k++) {
        const struct eq_index *x = &r->eqs[k];
        const char *v = nd_alert_label(a, x->key);
        size_t lo = 0, hi = x->n;

        if (!v)
            continue;
        while (lo < hi) { /* the first entry with value >= v */
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(x->v[mid].value, v) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (; lo < x->n && strcmp(x->v[lo].value, v) == 0; lo++) {
            /* insertion keeps file order: the first router wins the grouping */
            size_t j = nc++;
            while (j > 0 && r->cand[j - 1] > x->v[lo].router) {
                r->cand[j] = r->cand[j - 1];
                j--;
            }
            r->cand[j] = x->v[lo].router;
        }
    }
    for (size_t c = 0; c < nc; c++) {
        struct router *ro = &r->routers[r->cand[c]];
        if (ro->sel && !nd_selector_matches_alert(ro->sel, a))
            continue;
        n = add(r, n, ro->targets, ro->ntargets, ro->grouping);
    }
    return n;
}

/* The namespace whose tenants step 2 adds for a, if tenant routing applies
 * to it at all (a map or a lookup, and the rule_level rule), else NULL. */
static const char *tenant_ns(const struct nd_route *r, const struct nd_alert *a)
{
    if (!r->nns && !r->tenants_fn)
        return NULL;
    if (!r->by_ns_label) {
        const char *level = nd_alert_label(a, "rule_level");
        if (!level || strcmp(level, "namespace") != 0)
            return NULL;
    }
    const char *ns = nd_alert_label(a, "namespace");
    return ns && *ns ? ns : NULL;
}

const char *nd_route_tenant_ns(struct nd_route *r, const struct nd_alert *a)
{
    const char *ns = r->policy == ND_ROUTE_POLICY_ROUTER_ONLY ? NULL : tenant_ns(r, a);
    if (ns && r->policy == ND_ROUTE_POLICY_ROUTER_FIRST && eval_routers(r, a))
        return NULL;
    return ns;
}

size_t nd_route_eval(struct nd_route *r, const struct nd_alert *a, const struct nd_route_hit **hits)
{
    *hits = r->hits;
    size_t n = eval_routers(r, a);
    if (r->policy == ND_ROUTE_POLICY_ROUTER_ONLY ||
        (r->policy == ND_ROUTE_POLICY_ROUTER_FIRST && n))
        return n;
    n = add(r, n, r->globals, r->nglobals, 0);
    const char *ns = tenant_ns(r, a);
    if (!ns)
        return n;
    const char *const *names;
    size_t nn;
    if (r->tenants_fn && r->tenants_fn(r->tenants_ud, a, ns, &names, &nn) == ND_OK) {
        /* The lookup's answer replaces the static map for this namespace. */
        for (size_t i = 0; i < nn; i++) {
            const struct tenant_entry *te =
                bsearch(names[i], r->tidx, r->ntidx, sizeof *r->tidx, cmp_tenant_key);
            if (te)
                n = add(r, n, te->targets, te->ntargets, 0);
        }
        return n;
    }
    const struct ns_entry *e = bsearch(ns, r->ns, r->nns, sizeof *r->ns, cmp_ns_key);
    if (e)
        n = add(r, n, e->targets, e->ntargets, 0);
    return n;
}

static const char *policy_name(int p)
{
    return p == ND_ROUTE_POLICY_ROUTER_ONLY    ? "RouterOnly"
           : p == ND_ROUTE_POLICY_ROUTER_FIRST ? "RouterFirst"
                                               : "All";
}

int nd_route_render(const struct nd_route *r, struct nd_buf *out, char err[ND_ERRLEN])
{
    struct nd_json j;
    struct nd_buf sel;

    nd_buf_init(&sel, ND_SELECTOR_MAX_LEN * 2);
    nd_json_init(&j, out, ND_JSON_VALID_UTF8);
    nd_json_obj_open(&j);
    nd_json_kstr(&j, "policy", policy_name(r->policy));
    nd_json_kbool(&j, "tenantByNamespaceLabel", r->by_ns_label);
    nd_json_key(&j, "tenants");
    nd_json_arr_open(&j);
    for (size_t i = 0; i < r->ntenants; i++) {
        nd_json_obj_open(&j);
        nd_json_kstr(&j, "name", r->tenants[i].name);
        nd_json_key(&j, "namespaces");
        nd_json_arr_open(&j);
        for (size_t k = 0; k < r->tenants[i].namespaces.n; k++)
            nd_json_str(&j, r->tenants[i].namespaces.v[k]);
        nd_json_arr_close(&j);
        nd_json_obj_close(&j);
    }
    nd_json_arr_close(&j);
    nd_json_key(&j, "routers");
    nd_json_arr_open(&j);
    for (size_t i = 0; i < r->nrouters; i++) {
        const struct router *ro = &r->routers[i];
        nd_json_obj_open(&j);
        nd_json_kstr(&j, "name", ro->name);
        nd_json_kbool(&j, "enabled", ro->enabled);
        nd_json_key(&j, "alertSelector");
        if (ro->sel) {
            nd_buf_reset(&sel);
            nd_selector_format(ro->sel, &sel);
            nd_json_strn(&j, sel.data ? sel.data : "", sel.len);
        } else {
            nd_json_null(&j);
        }
        nd_json_key(&j, "receivers");
        nd_json_arr_open(&j);
        for (size_t k = 0; k < ro->ntargets; k++)
            nd_json_str(&j, r->tnames[ro->targets[k]] ? r->tnames[ro->targets[k]] : "");
        nd_json_arr_close(&j);
        nd_json_key(&j, "groupLabels");
        if (ro->grouping) {
            const struct grouping *g = &r->groupings[ro->grouping];
            nd_json_arr_open(&j);
            for (size_t k = 0; k < g->n; k++)
                nd_json_str(&j, g->labels[k]);
            nd_json_arr_close(&j);
        } else {
            nd_json_null(&j);
        }
        nd_json_obj_close(&j);
    }
    nd_json_arr_close(&j);
    nd_json_obj_close(&j);
    nd_buf_deinit(&sel);
    return nd_json_finish(&j, err);
}
