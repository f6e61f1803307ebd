/* Tests of route.c: each policy with each kind of router selection (names,
 * regex, receiver selector, types, channels), tenant and global receivers,
 * rule_level against tenant_by_namespace_label, dedup, the groupings of
 * routers' group_labels, config errors (file:line key), and the pipeline
 * with a route: per-router grouping and tenant silences; the JSON view. */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "notifyd/config.h"
#include "notifyd/notification.h"
#include "notifyd/inhibit.h"
#include "notifyd/pipeline.h"
#include "notifyd/route.h"
#include "notifyd/silence.h"
#include "tap.h"

#define MAXR 16

struct fx {
    struct nd_config *cfg;
    struct nd_target_keys keys[MAXR];
    struct nd_route_receiver rr[MAXR];
    const char *tname[MAXR]; /* target index -> receiver name */
    size_t n, ntargets;
    struct nd_route *route;
};

/* Five receivers common to most tests, then `extra` (routing, tenants,
 * routers). ops is global; alice-mail and alice-pager belong to alice
 * (payments, shared); bob to bob (web, shared); off is alice's, disabled. */
static const char base_rcv[] = "[receiver.ops]\ntype = webhook\nurl = http://x/\n"
                               "labels = team=ops\n"
                               "[receiver.alice-mail]\ntype = email\nurl = x\ntenant = alice\n"
                               "labels = team=payments\n"
                               "[receiver.alice-pager]\ntype = webhook\nurl = x\ntenant = alice\n"
                               "labels = team=payments, pager=yes\n"
                               "[receiver.bob]\ntype = webhook\nurl = x\ntenant = bob\n"
                               "[receiver.off]\ntype = webhook\nurl = x\ntenant = alice\n"
                               "enabled = false\n"
                               "[tenant.alice]\nnamespaces = payments, shared\n"
                               "[tenant.bob]\nnamespaces = web, shared\n";

static int fx_init(struct fx *f, const char *extra)
{
    struct nd_config_errors errs;
    char *text = nd_xasprintf("%s%s", base_rcv, extra);
    int rc;

    memset(f, 0, sizeof *f);
    nd_config_errors_init(&errs);
    rc = nd_config_load_string(text, "r.ini", &f->cfg, &errs);
    free(text);
    if (rc != ND_OK) {
        for (size_t i = 0; i < errs.n; i++)
            printf("# %s\n", errs.msgs[i]);
        nd_config_errors_deinit(&errs);
        return rc;
    }
    for (size_t i = 0; i < f->cfg->nreceivers && i < MAXR; i++) {
        struct nd_receiver_config *rc_ = &f->cfg->receivers[i];
        /* Only the routing keys are read here: mark url as used. */
        nd_receiver_config_get(rc_, "url");
        nd_target_keys_parse(rc_, &f->keys[i], &errs);
        f->rr[i] =
            (struct nd_route_receiver){rc_->name, rc_->type, &f->keys[i], ND_ROUTE_NO_TARGET};
        if (f->keys[i].enabled) {
            f->tname[f->ntargets] = rc_->name;
            f->rr[i].target = f->ntargets++;
        }
        f->n++;
    }
    rc = nd_route_new(f->cfg, f->rr, f->n, f->ntargets, &f->route, &errs);
    for (size_t i = 0; i < errs.n; i++)
        printf("# %s\n", errs.msgs[i]);
    nd_config_errors_deinit(&errs);
    return rc;
}

/* fx_init, reporting a failure as a failed test. */
static bool fx_ok(struct fx *f, const char *extra)
{
    if (fx_init(f, extra) == ND_OK)
        return true;
    ok(0, "config");
    return false;
}

static void fx_deinit(struct fx *f)
{
    nd_route_free(f->route);
    for (size_t i = 0; i < f->n; i++)
        nd_target_keys_deinit(&f->keys[i]);
    nd_config_free(f->cfg);
}

static int cmp_s(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name name@G ..." sorted: who gets the alert (and its grouping when > 0). */
static const char *who(struct fx *f, struct nd_alert *a)
{
    static char out[512];
    char items[MAXR][64];
    char *p[MAXR];
    const struct nd_route_hit *h;
    size_t n = nd_route_eval(f->route, a, &h), len = 0;

    for (size_t i = 0; i < n && i < MAXR; i++) {
        if (h[i].grouping)
            snprintf(items[i], sizeof items[i], "%s@%u", f->tname[h[i].target], h[i].grouping);
        else
            snprintf(items[i], sizeof items[i], "%s", f->tname[h[i].target]);
        p[i] = items[i];
    }
    qsort(p, n, sizeof *p, cmp_s);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? " " : "", p[i]);
    nd_alert_unref(a);
    return out;
}

#define A(...) mk_alert(NULL, ND_ALERT_FIRING, __VA_ARGS__, NULL, NULL)

/* nd_route_tenant_ns for a, "-" for NULL (a is unreferenced). */
static const char *tns(struct fx *f, struct nd_alert *a)
{
    static char out[64];
    const char *ns = nd_route_tenant_ns(f->route, a);
    snprintf(out, sizeof out, "%s", ns ? ns : "-");
    nd_alert_unref(a);
    return out;
}

static void test_tenants(void)
{
    struct fx f;

    if (!fx_ok(&f, ""))
        return;
    is_str(who(&f, A("alertname", "x")), "ops", "no namespace: global only");
    is_str(who(&f, A("namespace", "payments")), "ops",
           "a namespace without rule_level=namespace: global only (NM's rule_level)");
    is_str(who(&f, A("namespace", "payments", "rule_level", "cluster")), "ops",
           "rule_level=cluster: global only");
    is_str(who(&f, A("namespace", "payments", "rule_level", "namespace")),
           "alice-mail alice-pager ops", "rule_level=namespace: the tenant's receivers + global");
    is_str(who(&f, A("namespace", "shared", "rule_level", "namespace")),
           "alice-mail alice-pager bob ops", "a shared namespace: both tenants");
    is_str(who(&f, A("namespace", "other", "rule_level", "namespace")), "ops",
           "a namespace nobody owns: global only");
    is_str(who(&f, A("namespace", "", "rule_level", "namespace")), "ops", "empty namespace");
    fx_deinit(&f);

    if (!fx_ok(&f, "[routing]\ntenant_by_namespace_label = true\n"))
        return;
    is_str(who(&f, A("namespace", "web")), "bob ops",
           "tenant_by_namespace_label: any alert with a namespace label");
    is_str(who(&f, A("alertname", "x")), "ops", "... but not without one");
    fx_deinit(&f);
}

/* A per-batch lookup: "web" -> alice (replacing bob), "payments" -> no
 * tenants, "gone" -> a tenant without a section, anything else -> the
 * static map. */
static int lookup(void *ud, const struct nd_alert *a, const char *ns, const char *const **tenants,
                  size_t *n)
{
    (void)a;
    static const char *const alice[] = {"alice"};
    static const char *const ghost[] = {"ghost", "bob"};
    int *calls = ud;
    (*calls)++;
    if (strcmp(ns, "web") == 0) {
        *tenants = alice;
        *n = 1;
        return ND_OK;
    }
    if (strcmp(ns, "payments") == 0) {
        *tenants = NULL;
        *n = 0;
        return ND_OK;
    }
    if (strcmp(ns, "gone") == 0) {
        *tenants = ghost;
        *n = 2;
        return ND_OK;
    }
    return ND_ERR;
}

static void test_tenant_lookup(void)
{
    struct fx f;
    int calls = 0;

    if (!fx_ok(&f, ""))
        return;
    nd_route_set_tenants(f.route, lookup, &calls);
    is_str(who(&f, A("namespace", "web", "rule_level", "namespace")), "alice-mail alice-pager ops",
           "the lookup's tenants replace the static map");
    is_str(who(&f, A("namespace", "payments", "rule_level", "namespace")), "ops",
           "an empty answer: global only");
    is_str(who(&f, A("namespace", "gone", "rule_level", "namespace")), "bob ops",
           "unknown tenant names skipped, known ones routed");
    is_str(who(&f, A("namespace", "shared", "rule_level", "namespace")),
           "alice-mail alice-pager bob ops", "no answer: the static map");
    calls = 0;
    is_str(who(&f, A("namespace", "web")), "ops", "no rule_level: no lookup");
    is_int(calls, 0, "the lookup is not asked without rule_level=namespace");
    is_str(tns(&f, A("namespace", "web")), "-", "nd_route_tenant_ns: none without rule_level");
    is_str(tns(&f, A("rule_level", "namespace")), "-",
           "nd_route_tenant_ns: none without namespace");
    nd_route_set_tenants(f.route, NULL, NULL);
    is_str(who(&f, A("namespace", "web", "rule_level", "namespace")), "bob ops",
           "cleared: the static map again");
    fx_deinit(&f);
}

static void test_tenant_default_namespace(void)
{
    struct fx f;
    if (!fx_ok(&f, "[receiver.kube]\ntype = webhook\nurl = x\ntenant = kube-system\n"
                   "[tenant.kube-system]\n"))
        return;
    is_str(who(&f, A("namespace", "kube-system", "rule_level", "namespace")), "kube ops",
           "a tenant without namespaces owns the namespace of its name");
    fx_deinit(&f);
}

static void test_routers(void)
{
    struct fx f;
    if (!fx_ok(&f, "[router.byname]\nalert_selector = r=name\nreceivers = bob, off\n"
                   "[router.byregex]\nalert_selector = r=regex\nreceiver_regex = ^alice\n"
                   "[router.regextype]\nalert_selector = r=regextype\n"
                   "receiver_regex = alice\nreceiver_types = webhook\n"
                   "[router.bysel]\nalert_selector = r=sel\nreceiver_selector = team=payments\n"
                   "[router.seltype]\nalert_selector = r=seltype\n"
                   "receiver_selector = team\nreceiver_types = email\n"
                   "[router.chan]\nalert_selector = r=chan\nchannels = bob\n"
                   "[router.chantype]\nalert_selector = r=chantype\n"
                   "channels = alice:email, bob:email\n"
                   "[router.chan2]\nalert_selector = r=chan2\n"
                   "channels = alice:webhook+email\n"
                   "[router.nametype]\nalert_selector = r=nametype\n"
                   "receivers = ops, alice-mail\nreceiver_types = email\n"
                   "[router.disabled]\nalert_selector = r=disabled\nreceivers = bob\n"
                   "enabled = false\n"
                   "[router.every]\nreceivers = bob\nalert_selector = r=every\n"))
        return;
    is_str(who(&f, A("r", "name")), "bob ops", "names (a disabled receiver is skipped) + global");
    is_str(who(&f, A("r", "regex")), "alice-mail alice-pager ops", "regex, unanchored RE2");
    is_str(who(&f, A("r", "regextype")), "alice-pager ops", "regex filtered by type");
    is_str(who(&f, A("r", "sel")), "alice-mail alice-pager ops", "receiver_selector on labels");
    is_str(who(&f, A("r", "seltype")), "alice-mail ops", "selector filtered by type");
    is_str(who(&f, A("r", "chan")), "bob ops", "channels: every type of a tenant");
    is_str(who(&f, A("r", "chantype")), "alice-mail ops", "channels with a type");
    is_str(who(&f, A("r", "chan2")), "alice-mail alice-pager ops", "channels with two types");
    is_str(who(&f, A("r", "nametype")), "alice-mail ops", "names filtered by type");
    is_str(who(&f, A("r", "disabled")), "ops", "a disabled router selects nothing");
    is_str(who(&f, A("r", "none")), "ops", "no router matches");
    is_uint(nd_route_nrouters(f.route), 11, "11 routers");
    fx_deinit(&f);
}

/* test_policies' alerts: of that severity, tenant-routed in payments or
 * without a namespace. */
static struct nd_alert *policy_alert(const char *severity, bool in_payments)
{
    return in_payments ? A("severity", severity, "namespace", "payments", "rule_level", "namespace")
                       : A("severity", severity);
}

static void test_policies(void)
{
    static const char routers[] =
        "[router.crit]\nalert_selector = severity=critical, namespace=payments\n"
        "receivers = alice-pager\n";
    /* Per policy: who gets a critical alert of payments (the router's) and
     * a warning one (no router; without a namespace for All). */
    static const struct {
        const char *routing;
        bool warn_ns;
        const char *crit, *crit_why, *warn, *warn_why;
        /* nd_route_tenant_ns of each: which alerts a tenant sidecar is asked about */
        const char *crit_tns, *warn_tns;
    } cases[] = {
        {"", false, "alice-mail alice-pager ops", "All: router + tenant + global, alice-pager once",
         "ops", "All: no router: global", "payments", "-"},
        {"[routing]\npolicy = RouterFirst\n", true, "alice-pager",
         "RouterFirst: the router's receivers only when it found one", "alice-mail alice-pager ops",
         "RouterFirst: else tenant + global", "-", "payments"},
        {"[routing]\npolicy = RouterOnly\n", true, "alice-pager",
         "RouterOnly: the router's receivers", "",
         "RouterOnly: nobody without a router (not even global receivers)", "-", "-"},
    };
    struct fx f;

    for (size_t i = 0; i < ND_ARRAY_LEN(cases); i++) {
        char *cfg = nd_xasprintf("%s%s", cases[i].routing, routers);
        bool loaded = fx_ok(&f, cfg);
        free(cfg);
        if (!loaded)
            return;
        is_str(who(&f, policy_alert("critical", true)), cases[i].crit, "%s", cases[i].crit_why);
        is_str(who(&f, policy_alert("warning", cases[i].warn_ns)), cases[i].warn, "%s",
               cases[i].warn_why);
        is_str(tns(&f, policy_alert("critical", true)), cases[i].crit_tns,
               "%s: tenant lookup for the critical alert", cases[i].crit_why);
        is_str(tns(&f, policy_alert("warning", cases[i].warn_ns)), cases[i].warn_tns,
               "%s: tenant lookup for the warning alert", cases[i].warn_why);
        fx_deinit(&f);
    }

    /* RouterFirst with a router that matched but found no enabled receiver */
    if (!fx_ok(&f, "[routing]\npolicy = RouterFirst\n"
                   "[router.offonly]\nreceivers = off\nalert_selector = a=b\n"))
        return;
    is_str(who(&f, A("a", "b")), "ops", "RouterFirst: a router with no receiver counts as none");
    is_str(tns(&f, A("a", "b", "namespace", "web", "rule_level", "namespace")), "web",
           "RouterFirst: such a router does not spare the tenant lookup");
    fx_deinit(&f);
}

static void test_dedup_and_groupings(void)
{
    struct fx f;
    size_t n;
    const char *const *gl;

    if (!fx_ok(&f, "[router.one]\nalert_selector = a=b\nreceivers = ops, bob\n"
                   "group_labels = alertname\n"
                   "[router.two]\nalert_selector = a\nreceivers = bob, alice-mail\n"
                   "group_labels = cluster, alertname\n"
                   "[router.three]\nalert_selector = a\nreceivers = alice-pager\n"
                   "group_labels = alertname, cluster\n"
                   "[router.four]\nreceivers = alice-pager\n"))
        return;
    is_uint(nd_route_ngroupings(f.route), 3, "batch + {alertname} + {alertname,cluster}");
    gl = nd_route_group_labels(f.route, 2, &n);
    ok(n == 2 && strcmp(gl[0], "alertname") == 0 && strcmp(gl[1], "cluster") == 0,
       "a grouping's labels, sorted");
    is_str(who(&f, A("a", "b")), "alice-mail@2 alice-pager@2 bob@1 ops@1",
           "each receiver once, grouped by the first router that found it");
    is_str(who(&f, A("a", "c")), "alice-mail@2 alice-pager@2 bob@2 ops",
           "a global receiver found by no router: [batch] grouping");
    is_str(who(&f, A("x", "y")), "alice-pager ops",
           "a router without alert_selector matches every alert; no group_labels = batch's");
    fx_deinit(&f);
}

/* Routers are indexed by their first k=v: the index must give the same
 * answers and keep file order for the grouping. */
static void test_router_index(void)
{
    struct fx f;
    if (!fx_ok(&f, "[router.any]\nalert_selector = b\nreceivers = bob\ngroup_labels = g1\n"
                   "[router.eq]\nalert_selector = a=1\nreceivers = bob, ops\n"
                   "group_labels = g2\n"
                   "[router.eq2]\nalert_selector = x!=y, a=1, c=3\nreceivers = alice-mail\n"
                   "group_labels = g3\n"
                   "[router.other]\nalert_selector = c=3\nreceivers = alice-pager, ops\n"
                   "group_labels = g4\n"
                   "[router.late]\nalert_selector = a=2\nreceivers = alice-pager\n"))
        return;
    is_str(who(&f, A("a", "1", "b", "x")), "bob@1 ops@2",
           "an unindexed router before an indexed one wins the grouping");
    is_str(who(&f, A("a", "1")), "bob@2 ops@2", "the indexed router alone");
    is_str(who(&f, A("a", "1", "c", "3")), "alice-mail@3 alice-pager@4 bob@2 ops@2",
           "two keys, the later requirements still checked, file order kept");
    is_str(who(&f, A("a", "1", "c", "4")), "bob@2 ops@2", "c=3 fails: eq2 and other not taken");
    is_str(who(&f, A("a", "2", "c", "3")), "alice-pager@4 ops@4",
           "other (c=3) before late (a=2): other's grouping");
    is_str(who(&f, A("a", "3")), "ops", "no router");
    fx_deinit(&f);
}

static void test_errors(void)
{
    static const char bad[] = "[receiver.a]\ntype = webhook\ntenant = carol\n"
                              "[tenant.t]\nnamespaces = ,\ncolour = red\n"
                              "[router.r]\nalert_selector = a=(\nreceivers = a, zed\n"
                              "receiver_regex = (x\nreceiver_selector = k in (\n"
                              "receiver_types = nosuch\nchannels = nobody, t:\n"
                              "group_labels = 1x\n"
                              "[router.empty]\nenabled = false\n";
    static const char *const want[] = {
        "r.ini:3: [receiver.a] tenant: unknown tenant \"carol\"",
        "r.ini:5: [tenant.t] namespaces: empty list",
        "r.ini:6: [tenant.t] colour: unknown key",
        "r.ini:8: [router.r] alert_selector: column 3:",
        "r.ini:9: [router.r] receivers: unknown receiver \"zed\"",
        "r.ini:10: [router.r] receiver_regex: error parsing regexp",
        "r.ini:11: [router.r] receiver_selector: column",
        "r.ini:12: [router.r] receiver_types: no receiver has type \"nosuch\"",
        "r.ini:13: [router.r] channels: unknown tenant \"nobody\"",
        "r.ini:13: [router.r] channels: no type after \"t:\"",
        "r.ini:14: [router.r] group_labels: invalid label name \"1x\"",
        "r.ini:15: [router.empty] receivers: the router selects no receiver",
    };
    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;
    struct nd_target_keys keys;
    struct nd_route *r = (struct nd_route *)1;

    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(bad, "r.ini", &cfg, &errs), ND_OK, "config loads (raw)");
    if (!cfg)
        return;
    nd_target_keys_parse(&cfg->receivers[0], &keys, &errs);
    struct nd_route_receiver rr = {"a", "webhook", &keys, 0};
    is_int(nd_route_new(cfg, &rr, 1, 1, &r, &errs), ND_EINVAL, "refused");
    ok(r == NULL, "nothing returned");
    for (size_t i = 0; i < ND_ARRAY_LEN(want); i++) {
        bool found = false;
        for (size_t k = 0; k < errs.n && !found; k++)
            found = strncmp(errs.msgs[k], want[i], strlen(want[i])) == 0;
        ok(found, "error: %s", want[i]);
    }
    is_uint(errs.total, ND_ARRAY_LEN(want), "no other error");
    for (size_t k = 0; k < errs.n; k++)
        printf("# %s\n", errs.msgs[k]);
    nd_target_keys_deinit(&keys);
    nd_config_errors_deinit(&errs);
    nd_config_free(cfg);

    /* The loader's part: [routing] values, receiver labels. */
    nd_config_errors_init(&errs);
    cfg = NULL;
    is_int(nd_config_load_string("[routing]\npolicy = Sometimes\n"
                                 "tenant_by_namespace_label = maybe\nfoo = 1\n"
                                 "[receiver.a]\ntype = console\n",
                                 "l.ini", &cfg, &errs),
           ND_ERR, "bad [routing] refused");
    ok(errs.n == 3 && strstr(errs.msgs[0], "l.ini:2: [routing] policy: invalid policy") &&
           strstr(errs.msgs[1], "l.ini:3: [routing] tenant_by_namespace_label: invalid") &&
           strstr(errs.msgs[2], "l.ini:4: [routing] foo: unknown key"),
       "[routing] errors name file:line key");
    nd_config_errors_deinit(&errs);
    nd_config_free(cfg);

    nd_config_errors_init(&errs);
    is_int(nd_config_load_string("[receiver.a]\ntype = console\nlabels = a=1, b, k8s.io/x=y, a=2\n",
                                 "k.ini", &cfg, &errs),
           ND_OK, "loads");
    nd_target_keys_parse(&cfg->receivers[0], &keys, &errs);
    ok(errs.n == 2 && strstr(errs.msgs[0], "k.ini:3: [receiver.a] labels: \"b\": want") &&
           strstr(errs.msgs[1], "label \"a\" given twice"),
       "receiver labels errors");
    is_uint(keys.nlabels, 2, "the good labels are kept");
    nd_target_keys_deinit(&keys);
    nd_config_errors_deinit(&errs);
    nd_config_free(cfg);
}

/* ---- the pipeline with a route ----------------------------------------- */

struct got {
    size_t n;
    size_t nalerts[16];
    char labels[16][128];
};

static void on_notify(void *target_ud, struct nd_notification *n, void *ud)
{
    struct got *g = target_ud;
    (void)ud;
    if (g->n < 16) {
        struct nd_kv tmp[8];
        g->nalerts[g->n] = n->nalerts;
        snprintf(g->labels[g->n], sizeof g->labels[g->n], "%s",
                 n->ngroup_labels <= 8 ? kvs(nd_notification_group_labels(n, tmp), n->ngroup_labels)
                                       : "");
        g->n++;
    }
    nd_notification_unref(n);
}

static void test_pipeline(void)
{
    struct fx f;
    struct nd_silences *sil = NULL;
    struct nd_config_errors errs;
    struct got got[MAXR];
    struct nd_pipeline_target pt[MAXR];
    const char *batch_labels[] = {"alertname", "namespace"};

    memset(got, 0, sizeof got);
    if (!fx_ok(&f, "[router.crit]\nalert_selector = severity=critical\n"
                   "receivers = alice-pager\ngroup_labels = severity\n"
                   "[silence.alice]\ntenant = alice\nselector = mute=yes\n"
                   "[silence.global]\nselector = mute=all\n"
                   "[inhibit.crit]\nsource_selector = severity=critical\n"
                   "target_selector = severity=info\nequal = namespace\n"))
        return;
    nd_config_errors_init(&errs);
    is_int(nd_silences_from_config(f.cfg, &sil, &errs), ND_OK, "silences with a tenant load");
    struct nd_inhibit *ih = NULL;
    is_int(nd_inhibit_from_config(f.cfg, &ih, &errs), ND_OK, "an inhibition rule loads");
    nd_config_errors_deinit(&errs);
    for (size_t t = 0; t < f.ntargets; t++) {
        size_t i = 0;
        while (strcmp(f.rr[i].name, f.tname[t]) != 0)
            i++;
        pt[t] = (struct nd_pipeline_target){f.tname[t], &got[t], NULL, f.keys[i].tenant};
    }
    struct nd_pipeline_config pc = {.targets = pt,
                                    .ntargets = f.ntargets,
                                    .group_labels = batch_labels,
                                    .ngroup_labels = 2,
                                    .notify = on_notify,
                                    .silences = sil,
                                    .inhibit = ih,
                                    .route = f.route};
    struct nd_pipeline *p = nd_pipeline_new(&pc);
    struct nd_alert *a[5] = {
        A("alertname", "A", "severity", "critical", "namespace", "payments", "rule_level",
          "namespace"),
        A("alertname", "B", "severity", "critical", "namespace", "web"),
        A("alertname", "C", "namespace", "payments", "rule_level", "namespace", "mute", "yes"),
        A("alertname", "D", "severity", "critical", "mute", "yes"),
        A("alertname", "E", "severity", "critical", "mute", "all"),
    };
    nd_pipeline_run(p, a, 5);
    /* targets: 0 ops, 1 alice-mail, 2 alice-pager, 3 bob */
    is_uint(got[0].n, 4, "ops: A B C D, one notification per alertname/namespace group");
    is_uint(got[2].n, 1, "alice-pager: one notification grouped by severity (the router's)");
    is_str(got[2].labels[0], "severity=critical", "... with the router's group labels");
    is_uint(got[2].nalerts[0], 2, "... A (router and tenant: once), B; D muted for alice");
    is_uint(got[1].n, 1, "alice-mail: A only (C muted by alice's silence)");
    is_uint(got[3].n, 0, "bob: nothing (no rule_level=namespace alert of web)");

    /* Read back for one receiver (overflow = spill): it alone gets them,
     * routed or not, silences applied, the route's grouping kept. */
    size_t sources = nd_inhibit_sources(ih);
    memset(got, 0, sizeof got);
    is_int(nd_pipeline_run_for(p, a, 5, &got[3]), ND_OK, "read back for bob");
    is_uint(got[3].n, 4, "bob gets A B C D though no route picks them (E: global silence)");
    is_uint(got[0].n + got[1].n + got[2].n, 0, "nobody else gets anything");
    is_int(nd_pipeline_run_for(p, a, 5, &got[2]), ND_OK, "read back for alice-pager");
    is_uint(got[2].n, 1, "alice-pager: one notification, in the router's grouping");
    is_str(got[2].labels[0], "severity=critical", "... by severity");
    is_uint(got[2].nalerts[0], 2, "... A and B (C and D muted for alice)");
    is_uint(nd_inhibit_sources(ih), sources, "read-back alerts teach inhibition nothing");
    struct nd_alert *fresh =
        A("alertname", "F", "severity", "critical", "namespace", "other", "rule_level", "x");
    nd_pipeline_run_for(p, &fresh, 1, &got[3]);
    is_uint(nd_inhibit_sources(ih), sources, "not even a source never seen");
    nd_pipeline_run(p, &fresh, 1);
    is_uint(nd_inhibit_sources(ih), sources + 1, "a plain run learns it");
    nd_alert_unref(fresh);
    is_int(nd_pipeline_run_for(p, a, 5, &errs), ND_EINVAL, "no target with that ud: EINVAL");
    ok(nd_pipeline_has_target(p, &got[1]) && !nd_pipeline_has_target(p, &errs),
       "nd_pipeline_has_target");
    nd_pipeline_free(p);
    for (size_t i = 0; i < 5; i++)
        nd_alert_unref(a[i]);
    nd_silences_free(sil);
    nd_inhibit_free(ih);
    fx_deinit(&f);
}

static void test_render(void)
{
    struct fx f;
    struct nd_buf b;
    char err[ND_ERRLEN];

    if (!fx_ok(&f, "[routing]\npolicy = RouterFirst\n"
                   "[router.crit]\nalert_selector = severity=critical, team=~\"a b\"\n"
                   "receivers = bob, off\ngroup_labels = severity\n"
                   "[router.all]\nchannels = alice:email\nenabled = false\n"))
        return;
    nd_buf_init(&b, 1 << 20);
    is_int(nd_route_render(f.route, &b, err), ND_OK, "renders");
    is_str(b.data,
           "{\"policy\":\"RouterFirst\",\"tenantByNamespaceLabel\":false,\"tenants\":["
           "{\"name\":\"alice\",\"namespaces\":[\"payments\",\"shared\"]},"
           "{\"name\":\"bob\",\"namespaces\":[\"web\",\"shared\"]}],\"routers\":["
           "{\"name\":\"crit\",\"enabled\":true,"
           "\"alertSelector\":\"severity=critical,team=~\\\"a b\\\"\",\"receivers\":[\"bob\"],"
           "\"groupLabels\":[\"severity\"]},"
           "{\"name\":\"all\",\"enabled\":false,\"alertSelector\":null,"
           "\"receivers\":[\"alice-mail\"],\"groupLabels\":null}]}",
           "the view: policy, tenants, routers with resolved receivers (no disabled one)");
    nd_buf_deinit(&b);
    fx_deinit(&f);
}

int main(void)
{
    test_tenants();
    test_tenant_default_namespace();
    test_tenant_lookup();
    test_routers();
    test_policies();
    test_dedup_and_groupings();
    test_router_index();
    test_errors();
    test_pipeline();
    test_render();
    return done_testing();
}
