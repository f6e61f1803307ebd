/* Tests of inhibit.c: the `equal` labels (match, mismatch, missing on one
 * or both sides), several rules, release on resolution and on endsAt (the
 * clock is the now_ns argument), Alertmanager's exclusion of alerts on both
 * sides of a rule, the ceiling of remembered sources, and the
 * [inhibit.NAME] keys with their errors (file:line key, column). */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "notifyd/config.h"
#include "notifyd/inhibit.h"
#include "notifyd/metrics.h"
#include "notifyd/notification.h"
#include "notifyd/pipeline.h"
#include "notifyd/silence.h"
#include "tap.h"

#define S INT64_C(1000000000)
/* 2026-12-04T10:00:00Z */
#define T0  INT64_C(1796378400)
#define NOW (T0 * S)

static const char *base_ini = "[receiver.c]\ntype = console\n";

static struct nd_inhibit *load(const char *rules, uint64_t max)
{
    struct nd_config_errors errs;
    struct nd_config *cfg = NULL;
    struct nd_inhibit *ih = NULL;
    char *ini = malloc(strlen(base_ini) + strlen(rules) + 1);

    strcpy(ini, base_ini);
    strcat(ini, rules);
    nd_config_errors_init(&errs);
    if (nd_config_load_string(ini, "i.ini", &cfg, &errs) != ND_OK) {
        for (size_t k = 0; k < errs.n; k++)
            printf("# %s\n", errs.msgs[k]);
        abort();
    }
    if (max)
        cfg->max_inhibit_sources = max;
    if (nd_inhibit_from_config(cfg, &ih, &errs) != ND_OK) {
        for (size_t k = 0; k < errs.n; k++)
            printf("# %s\n", errs.msgs[k]);
        abort();
    }
    nd_config_errors_deinit(&errs);
    nd_config_free(cfg);
    free(ini);
    return ih;
}

/* An alert with labels (pairs, NULL-terminated), status, and endsAt in
 * Unix seconds (0 = none). */
static struct nd_alert *mk(enum nd_alert_status st, int64_t ends_s, ...)
{
    struct nd_alert_builder b;
    char err[ND_ERRLEN];
    va_list ap;
    const char *n;

    nd_alert_builder_init(&b, 1 << 16);
    va_start(ap, ends_s);
    while ((n = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        nd_alert_builder_add_label(&b, n, strlen(n), v, strlen(v));
    }
    va_end(ap);
    if (ends_s) {
        struct nd_time t = {ends_s, 0, 0};
        nd_alert_builder_set_times(&b, NULL, &t);
    }
    nd_alert_builder_set_status(&b, st);
    struct nd_alert *a = nd_alert_builder_finish(&b, NULL, 0, err);
    nd_alert_builder_deinit(&b);
    if (!a)
        abort();
    return a;
}

#define FIRING   ND_ALERT_FIRING
#define RESOLVED ND_ALERT_RESOLVED

static const char *rule_cluster = "[inhibit.crit]\n"
                                  "source_selector = severity=critical\n"
                                  "target_selector = severity=warning\n"
                                  "equal = cluster, alertname\n";

static void test_equal(void)
{
    struct nd_inhibit *ih = load(rule_cluster, 0);
    struct nd_alert *src =
        mk(FIRING, 0, "alertname", "Down", "cluster", "x", "severity", "critical", NULL);
    struct nd_alert *tx = mk(FIRING, 0, "alertname", "Down", "cluster", "x", "severity", "warning",
                             "instance", "a", NULL);
    struct nd_alert *ty =
        mk(FIRING, 0, "alertname", "Down", "cluster", "y", "severity", "warning", NULL);
    struct nd_alert *tnone = mk(FIRING, 0, "alertname", "Down", "severity", "warning", NULL);
    struct nd_alert *other =
        mk(FIRING, 0, "alertname", "Down", "cluster", "x", "severity", "info", NULL);

    is_uint(nd_inhibit_rules(ih), 1, "one rule");
    ok(!nd_inhibit_muted(ih, tx, NOW), "no source known: not muted");
    nd_inhibit_begin(ih, NOW);
    nd_inhibit_learn(ih, tx, NOW);
    is_uint(nd_inhibit_sources(ih), 0, "a target is not a source");
    nd_inhibit_learn(ih, src, NOW);
    is_uint(nd_inhibit_sources(ih), 1, "the critical alert is remembered");
    nd_inhibit_learn(ih, src, NOW);
    is_uint(nd_inhibit_sources(ih), 1, "learning it again keeps one entry");
    ok(nd_inhibit_muted(ih, tx, NOW), "cluster x warning: muted (equal values)");
    ok(!nd_inhibit_muted(ih, ty, NOW), "cluster y warning: not muted (different value)");
    ok(!nd_inhibit_muted(ih, tnone, NOW), "warning without cluster: not muted (missing vs x)");
    ok(!nd_inhibit_muted(ih, other, NOW), "not a target: not muted");
    ok(!nd_inhibit_muted(ih, src, NOW), "the source itself is no target");

    /* Missing on both sides counts as equal. */
    struct nd_alert *src2 = mk(FIRING, 0, "alertname", "Down", "severity", "critical", NULL);
    nd_inhibit_learn(ih, src2, NOW);
    ok(nd_inhibit_muted(ih, tnone, NOW), "cluster missing on both: muted");
    ok(!nd_inhibit_muted(ih, ty, NOW), "cluster y still not muted");

    /* Resolution releases. */
    struct nd_alert *src_res =
        mk(RESOLVED, 0, "alertname", "Down", "cluster", "x", "severity", "critical", NULL);
    nd_inhibit_learn(ih, src_res, NOW);
    is_uint(nd_inhibit_sources(ih), 1, "the resolved source is forgotten");
    ok(!nd_inhibit_muted(ih, tx, NOW), "cluster x warning delivered again");
    ok(nd_inhibit_muted(ih, tnone, NOW), "the other source still mutes");

    nd_alert_unref(src_res);
    nd_alert_unref(src2);
    nd_alert_unref(src);
    nd_alert_unref(tx);
    nd_alert_unref(ty);
    nd_alert_unref(tnone);
    nd_alert_unref(other);
    nd_inhibit_free(ih);
}

static void test_no_equal_and_rules(void)
{
    struct nd_inhibit *ih = load("[inhibit.all]\n"
                                 "source_selector = alertname=Maintenance\n"
                                 "target_selector = team=db\n"
                                 "[inhibit.off]\n"
                                 "source_selector = alertname=Other\n"
                                 "target_selector = team=web\n"
                                 "enabled = false\n"
                                 "[inhibit.web]\n"
                                 "source_selector = alertname=WebDown\n"
                                 "target_selector = team=web, severity!=critical\n"
                                 "equal = dc\n",
                                 0);
    struct nd_alert *maint = mk(FIRING, 0, "alertname", "Maintenance", NULL);
    struct nd_alert *other = mk(FIRING, 0, "alertname", "Other", NULL);
    struct nd_alert *webdown = mk(FIRING, 0, "alertname", "WebDown", "dc", "fra", NULL);
    struct nd_alert *db = mk(FIRING, 0, "alertname", "Slow", "team", "db", "dc", "ams", NULL);
    struct nd_alert *web = mk(FIRING, 0, "alertname", "Slow", "team", "web", "dc", "fra", NULL);
    struct nd_alert *webcrit = mk(FIRING, 0, "alertname", "Slow", "team", "web", "dc", "fra",
                                  "severity", "critical", NULL);
    struct nd_alert *webams = mk(FIRING, 0, "alertname", "Slow", "team", "web", "dc", "ams", NULL);

    is_uint(nd_inhibit_rules(ih), 2, "the disabled rule is left out");
    nd_inhibit_learn(ih, other, NOW);
    is_uint(nd_inhibit_sources(ih), 0, "a disabled rule learns nothing");
    ok(!nd_inhibit_muted(ih, web, NOW), "a disabled rule mutes nothing");
    nd_inhibit_learn(ih, maint, NOW);
    ok(nd_inhibit_muted(ih, db, NOW), "no equal labels: any source mutes the target");
    ok(!nd_inhibit_muted(ih, web, NOW), "rule 'all' does not select team=web");
    nd_inhibit_learn(ih, webdown, NOW);
    is_uint(nd_inhibit_sources(ih), 2, "one source per rule");
    ok(nd_inhibit_muted(ih, web, NOW), "rule 'web': dc=fra muted");
    ok(!nd_inhibit_muted(ih, webcrit, NOW), "rule 'web': critical is no target");
    ok(!nd_inhibit_muted(ih, webams, NOW), "rule 'web': dc=ams not muted");

    nd_alert_unref(maint);
    nd_alert_unref(other);
    nd_alert_unref(webdown);
    nd_alert_unref(db);
    nd_alert_unref(web);
    nd_alert_unref(webcrit);
    nd_alert_unref(webams);
    nd_inhibit_free(ih);
}

static void test_expiry(void)
{
    struct nd_inhibit *ih = load(rule_cluster, 0);
    struct nd_alert *src =
        mk(FIRING, T0 + 60, "alertname", "Down", "cluster", "x", "severity", "critical", NULL);
    struct nd_alert *later =
        mk(FIRING, T0 + 300, "alertname", "Down", "cluster", "x", "severity", "critical", NULL);
    struct nd_alert *stale =
        mk(FIRING, T0 - 1, "alertname", "Down", "cluster", "y", "severity", "critical", NULL);
    struct nd_alert *tx =
        mk(FIRING, 0, "alertname", "Down", "cluster", "x", "severity", "warning", NULL);

    nd_inhibit_begin(ih, NOW);
    nd_inhibit_learn(ih, stale, NOW);
    is_uint(nd_inhibit_sources(ih), 0, "endsAt already passed: not a firing source");
    nd_inhibit_learn(ih, src, NOW);
    ok(nd_inhibit_muted(ih, tx, NOW + 59 * S), "before endsAt: muted");
    ok(!nd_inhibit_muted(ih, tx, NOW + 60 * S), "at endsAt: no longer muted");
    nd_inhibit_begin(ih, NOW + 59 * S);
    is_uint(nd_inhibit_sources(ih), 1, "begin before endsAt keeps it");
    nd_inhibit_begin(ih, NOW + 61 * S);
    is_uint(nd_inhibit_sources(ih), 0, "begin after endsAt forgets it");

    /* A refreshed source (later endsAt) lives on. */
    nd_inhibit_learn(ih, src, NOW);
    nd_inhibit_learn(ih, later, NOW);
    is_uint(nd_inhibit_sources(ih), 1, "the same alert refreshed: one entry");
    nd_inhibit_begin(ih, NOW + 61 * S);
    is_uint(nd_inhibit_sources(ih), 1, "refreshed endsAt: still remembered at +61s");
    ok(nd_inhibit_muted(ih, tx, NOW + 200 * S), "still muted at +200s");
    nd_inhibit_begin(ih, NOW + 300 * S);
    is_uint(nd_inhibit_sources(ih), 0, "forgotten at the refreshed endsAt");

    nd_alert_unref(src);
    nd_alert_unref(later);
    nd_alert_unref(stale);
    nd_alert_unref(tx);
    nd_inhibit_free(ih);
}

static void test_both_sides(void)
{
    /* Every team=db alert is both source and target. */
    struct nd_inhibit *ih = load("[inhibit.db]\n"
                                 "source_selector = team=db\n"
                                 "target_selector = team=db, severity=warning\n"
                                 "equal = team\n",
                                 0);
    struct nd_alert *w1 =
        mk(FIRING, 0, "alertname", "A", "team", "db", "severity", "warning", NULL);
    struct nd_alert *w2 =
        mk(FIRING, 0, "alertname", "B", "team", "db", "severity", "warning", NULL);
    struct nd_alert *crit =
        mk(FIRING, 0, "alertname", "C", "team", "db", "severity", "critical", NULL);

    nd_inhibit_learn(ih, w1, NOW);
    ok(!nd_inhibit_muted(ih, w1, NOW), "an alert on both sides does not mute itself");
    nd_inhibit_learn(ih, w2, NOW);
    ok(!nd_inhibit_muted(ih, w2, NOW), "nor is it muted by another alert on both sides");
    nd_inhibit_learn(ih, crit, NOW);
    ok(nd_inhibit_muted(ih, w1, NOW), "a source on the source side only mutes it");
    ok(!nd_inhibit_muted(ih, crit, NOW), "the source-only alert is no target");

    nd_alert_unref(w1);
    nd_alert_unref(w2);
    nd_alert_unref(crit);
    nd_inhibit_free(ih);
}

static void test_ceiling(void)
{
    struct nd_inhibit *ih = load(rule_cluster, 3);
    struct nd_alert *s[5];
    char cl[5][8];

    for (int i = 0; i < 5; i++) {
        snprintf(cl[i], sizeof cl[i], "c%d", i);
        s[i] = mk(FIRING, 0, "alertname", "Down", "cluster", cl[i], "severity", "critical", NULL);
        nd_inhibit_learn(ih, s[i], NOW);
    }
    is_uint(nd_inhibit_sources(ih), 3, "at most max_inhibit_sources remembered");
    is_uint(nd_inhibit_dropped(ih), 2, "the two beyond it are counted as dropped");
    struct nd_alert *t3 =
        mk(FIRING, 0, "alertname", "Down", "cluster", "c3", "severity", "warning", NULL);
    struct nd_alert *t0 =
        mk(FIRING, 0, "alertname", "Down", "cluster", "c0", "severity", "warning", NULL);
    ok(!nd_inhibit_muted(ih, t3, NOW), "a dropped source mutes nothing (fails open)");
    ok(nd_inhibit_muted(ih, t0, NOW), "a remembered one does");
    struct nd_alert *r0 =
        mk(RESOLVED, 0, "alertname", "Down", "cluster", "c0", "severity", "critical", NULL);
    nd_inhibit_learn(ih, r0, NOW);
    nd_inhibit_learn(ih, s[3], NOW);
    is_uint(nd_inhibit_sources(ih), 3, "room again after a resolution");
    ok(nd_inhibit_muted(ih, t3, NOW), "the new source is remembered");
    for (int i = 0; i < 5; i++)
        nd_alert_unref(s[i]);
    nd_alert_unref(t3);
    nd_alert_unref(t0);
    nd_alert_unref(r0);
    nd_inhibit_free(ih);
}

/* A reload: sources move to the new rule set for the rules kept under the
 * same name, source selector and equal labels (whatever their position),
 * and are forgotten for the others; the ceiling and the counter go on. */
static void test_take_sources(void)
{
    struct nd_inhibit *old = load("[inhibit.gone]\n"
                                  "source_selector = alertname=Gone\n"
                                  "target_selector = severity=warning\n"
                                  "[inhibit.crit]\n"
                                  "source_selector = severity=critical\n"
                                  "target_selector = severity=warning\n"
                                  "equal = cluster, alertname\n"
                                  "[inhibit.eq]\n"
                                  "source_selector = severity=page\n"
                                  "target_selector = severity=info\n"
                                  "equal = cluster\n"
                                  "[inhibit.db]\n"
                                  "source_selector = team=db\n"
                                  "target_selector = team=db, severity=warning\n"
                                  "equal = team\n",
                                  0);
    struct nd_alert *sx =
        mk(FIRING, 0, "alertname", "Down", "cluster", "x", "severity", "critical", NULL);
    struct nd_alert *sy =
        mk(FIRING, 0, "alertname", "Down", "cluster", "y", "severity", "critical", NULL);
    struct nd_alert *tx =
        mk(FIRING, 0, "alertname", "Down", "cluster", "x", "severity", "warning", NULL);
    struct nd_alert *ty =
        mk(FIRING, 0, "alertname", "Down", "cluster", "y", "severity", "warning", NULL);
    struct nd_alert *gone = mk(FIRING, 0, "alertname", "Gone", NULL);
    struct nd_alert *page =
        mk(FIRING, 0, "alertname", "P", "cluster", "x", "severity", "page", NULL);
    struct nd_alert *info =
        mk(FIRING, 0, "alertname", "I", "cluster", "x", "severity", "info", NULL);
    struct nd_alert *dbc = mk(FIRING, 0, "alertname", "C", "team", "db", "severity", "error", NULL);
    struct nd_alert *dbw =
        mk(FIRING, 0, "alertname", "W", "team", "db", "severity", "warning", NULL);
    struct nd_alert *rx =
        mk(RESOLVED, 0, "alertname", "Down", "cluster", "x", "severity", "critical", NULL);

    nd_inhibit_learn(old, sx, NOW);
    nd_inhibit_learn(old, sy, NOW);
    nd_inhibit_learn(old, gone, NOW);
    nd_inhibit_learn(old, page, NOW);
    nd_inhibit_learn(old, dbc, NOW);
    is_uint(nd_inhibit_sources(old), 5, "before the reload: five sources");
    ok(nd_inhibit_muted(old, info, NOW), "before: the page source mutes the info alert");
    ok(nd_inhibit_muted(old, dbw, NOW), "before: the db source mutes the db warning");

    /* crit moves (a new rule before it), gone is removed, eq's equal
     * labels change, db's target selector changes. */
    struct nd_inhibit *ih = load("[inhibit.new]\n"
                                 "source_selector = alertname=New\n"
                                 "target_selector = severity=warning\n"
                                 "[inhibit.eq]\n"
                                 "source_selector = severity=page\n"
                                 "target_selector = severity=info\n"
                                 "equal = alertname\n"
                                 "[inhibit.crit]\n"
                                 "source_selector = severity=critical\n"
                                 "target_selector = severity=warning\n"
                                 "equal = cluster, alertname\n"
                                 "[inhibit.db]\n"
                                 "source_selector = team=db\n"
                                 "target_selector = team=db, severity=~warning|notice\n"
                                 "equal = team\n",
                                 0);
    nd_inhibit_take_sources(ih, old);
    is_uint(nd_inhibit_sources(old), 0, "the old set is left without sources");
    is_uint(nd_inhibit_sources(ih), 3, "crit's two sources and db's are carried");
    ok(nd_inhibit_muted(ih, tx, NOW), "after: cluster x warning still muted (rule moved)");
    ok(nd_inhibit_muted(ih, ty, NOW), "after: cluster y warning still muted");
    ok(!nd_inhibit_muted(ih, info, NOW), "a rule whose equal labels changed starts empty");
    ok(!nd_inhibit_muted(ih, dbw, NOW),
       "changed target selector: a carried source counts as on both sides (mutes less)");
    nd_inhibit_learn(ih, dbc, NOW);
    is_uint(nd_inhibit_sources(ih), 3, "the db source arriving again is the same entry");
    ok(nd_inhibit_muted(ih, dbw, NOW), "its arrival decides `both` again: muted");
    nd_inhibit_learn(ih, rx, NOW);
    ok(!nd_inhibit_muted(ih, tx, NOW), "a carried source resolved: released");
    ok(nd_inhibit_muted(ih, ty, NOW), "the other carried source still mutes");
    is_uint(nd_inhibit_sources(ih), 2, "two left");

    /* A lower ceiling in the new file: the excess is dropped and counted,
     * and the old count carries on. */
    struct nd_inhibit *small = load(rule_cluster, 1);
    nd_inhibit_learn(small, sx, NOW);
    nd_inhibit_learn(small, sy, NOW);
    is_uint(nd_inhibit_dropped(small), 1, "ceiling 1: one dropped");
    struct nd_inhibit *two = load(rule_cluster, 0);
    nd_inhibit_learn(two, sx, NOW);
    nd_inhibit_learn(two, sy, NOW);
    struct nd_inhibit *small2 = load(rule_cluster, 1);
    nd_inhibit_take_sources(small2, two);
    is_uint(nd_inhibit_sources(small2), 1, "a lower ceiling keeps one of the two");
    is_uint(nd_inhibit_dropped(small2), 1, "and counts the other as dropped");
    nd_inhibit_take_sources(small, small2);
    is_uint(nd_inhibit_dropped(small), 3, "the dropped counter adds up across reloads");
    is_uint(nd_inhibit_sources(small), 1, "a full set takes nothing beyond its ceiling");

    struct nd_alert *all[] = {sx, sy, tx, ty, gone, page, info, dbc, dbw, rx};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        nd_alert_unref(all[i]);
    nd_inhibit_free(old);
    nd_inhibit_free(ih);
    nd_inhibit_free(small);
    nd_inhibit_free(small2);
    nd_inhibit_free(two);
}

/* Many sources in one rule: the table grows and keeps them apart. */
static void test_many(void)
{
    struct nd_inhibit *ih = load(rule_cluster, 0);
    enum { N = 2000 };
    char cl[16];

    for (int i = 0; i < N; i++) {
        snprintf(cl, sizeof cl, "k%d", i);
        struct nd_alert *a =
            mk(FIRING, 0, "alertname", "Down", "cluster", cl, "severity", "critical", NULL);
        nd_inhibit_learn(ih, a, NOW);
        nd_alert_unref(a);
    }
    is_uint(nd_inhibit_sources(ih), N, "all remembered");
    int muted = 0, wrong = 0;
    for (int i = 0; i < N; i++) {
        snprintf(cl, sizeof cl, "k%d", i);
        struct nd_alert *t =
            mk(FIRING, 0, "alertname", "Down", "cluster", cl, "severity", "warning", NULL);
        muted += nd_inhibit_muted(ih, t, NOW);
        nd_alert_unref(t);
        snprintf(cl, sizeof cl, "z%d", i);
        t = mk(FIRING, 0, "alertname", "Down", "cluster", cl, "severity", "warning", NULL);
        wrong += nd_inhibit_muted(ih, t, NOW);
        nd_alert_unref(t);
    }
    is_int(muted, N, "every matching target muted");
    is_int(wrong, 0, "no other target muted");
    nd_inhibit_free(ih);
}

static void test_errors(void)
{
    const char *bad = "[receiver.c]\ntype = console\n"
                      "[inhibit.a]\n"                      /* 3 */
                      "source_selector = severity in (a\n" /* 4 */
                      "target_selector = team=db\n"        /* 5 */
                      "equal = cluster, bad-name, 9x\n"    /* 6 */
                      "enabled = maybe\n"                  /* 7 */
                      "colour = blue\n"                    /* 8 */
                      "[inhibit.b]\n"                      /* 9 */
                      "target_selector = a=~\"(\"\n";      /* 10 */
    static const char *const want[] = {
        "i.ini:4: [inhibit.a] source_selector: column 15: ",
        "i.ini:6: [inhibit.a] equal: invalid label name \"bad-name\" (item 2)",
        "i.ini:6: [inhibit.a] equal: invalid label name \"9x\" (item 3)",
        "i.ini:7: [inhibit.a] enabled:",
        "i.ini:8: [inhibit.a] colour: unknown key",
        "i.ini:9: [inhibit.b] source_selector: missing required key",
        "i.ini:10: [inhibit.b] target_selector: column 4:",
    };
    struct nd_config_errors errs;
    struct nd_config *cfg = NULL;
    struct nd_inhibit *ih = (struct nd_inhibit *)1;

    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(bad, "i.ini", &cfg, &errs), ND_OK, "config loads (raw)");
    size_t before = errs.total;
    is_int(nd_inhibit_from_config(cfg, &ih, &errs), ND_EINVAL, "inhibit rules refused");
    ok(ih == NULL, "no object on error");
    for (size_t i = 0; i < ND_ARRAY_LEN(want); i++) {
        int found = 0;
        for (size_t k = 0; k < errs.n; k++)
            found = found || strstr(errs.msgs[k], want[i]) != NULL;
        ok(found, "error: %s", want[i]);
    }
    is_uint(errs.total - before, ND_ARRAY_LEN(want), "no other errors");
    for (size_t k = 0; k < errs.n; k++)
        printf("# %s\n", errs.msgs[k]);
    nd_config_errors_deinit(&errs);
    nd_config_free(cfg);

    /* The ceiling key of [queue]. */
    nd_config_errors_init(&errs);
    cfg = NULL;
    is_int(nd_config_load_string("[queue]\nmax_inhibit_sources = 0\n[receiver.c]\ntype = console\n",
                                 "q.ini", &cfg, &errs),
           ND_ERR, "max_inhibit_sources = 0 refused");
    ok(errs.n && strstr(errs.msgs[0], "q.ini:2: [queue] max_inhibit_sources") != NULL,
       "the error names file:line key");
    nd_config_errors_deinit(&errs);
    nd_config_errors_init(&errs);
    cfg = NULL;
    is_int(nd_config_load_string("[queue]\nmax_inhibit_sources = 5\n[receiver.c]\ntype = console\n",
                                 "q.ini", &cfg, &errs),
           ND_OK, "max_inhibit_sources = 5 loads");
    is_uint(cfg ? cfg->max_inhibit_sources : 0, 5, "and is read");
    nd_config_free(cfg);
    nd_config_errors_deinit(&errs);
}

struct got {
    size_t nalerts;
    char names[8][32];
};

static void on_notify(void *target_ud, struct nd_notification *n, void *ud)
{
    struct got *g = ud;
    (void)target_ud;
    for (size_t i = 0; i < n->nalerts && g->nalerts < 8; i++)
        snprintf(g->names[g->nalerts++], sizeof g->names[0], "%s/%s",
                 nd_alert_label(n->alerts[i], "alertname"),
                 nd_alert_label(n->alerts[i], "cluster"));
    nd_notification_unref(n);
}

static int got_has(const struct got *g, const char *name)
{
    for (size_t i = 0; i < g->nalerts; i++)
        if (strcmp(g->names[i], name) == 0)
            return 1;
    return 0;
}

/* In the pipeline: sources are learned before the silence stage drops
 * anything, so a silenced source still inhibits, and a source inhibits its
 * targets of the same batch. */
static void test_pipeline(void)
{
    const char *ini = "[receiver.c]\ntype = console\n"
                      "[silence.quiet]\nselector = alertname=Down, cluster=x\n"
                      "[inhibit.crit]\nsource_selector = severity=critical\n"
                      "target_selector = severity=warning\nequal = cluster\n";
    struct nd_config_errors errs;
    struct nd_config *cfg = NULL;
    struct nd_silences *sil = NULL;
    struct nd_inhibit *ih = NULL;
    struct nd_metrics m = {0};
    struct got g = {0};
    int t = 0;

    nd_config_errors_init(&errs);
    if (nd_config_load_string(ini, "p.ini", &cfg, &errs) != ND_OK ||
        nd_silences_from_config(cfg, &sil, &errs) != ND_OK ||
        nd_inhibit_from_config(cfg, &ih, &errs) != ND_OK) {
        ok(0, "config loads: %s", errs.n ? errs.msgs[0] : "?");
        return;
    }
    struct nd_pipeline_target pt = {"c", &t, NULL, NULL};
    struct nd_pipeline_config pc = {.targets = &pt,
                                    .ntargets = 1,
                                    .notify = on_notify,
                                    .ud = &g,
                                    .metrics = &m,
                                    .silences = sil,
                                    .inhibit = ih};
    struct nd_pipeline *p = nd_pipeline_new(&pc);
    struct nd_alert *a[4] = {
        mk(FIRING, 0, "alertname", "Slow", "cluster", "x", "severity", "warning", NULL),
        mk(FIRING, 0, "alertname", "Down", "cluster", "x", "severity", "critical", NULL),
        mk(FIRING, 0, "alertname", "Slow", "cluster", "y", "severity", "warning", NULL),
        mk(FIRING, 0, "alertname", "Other", "cluster", "x", "severity", "info", NULL),
    };
    nd_pipeline_run(p, a, 4);
    ok(!got_has(&g, "Down/x"), "the source is silenced");
    ok(!got_has(&g, "Slow/x"), "the silenced source still inhibits its target of the same batch");
    ok(got_has(&g, "Slow/y"), "the target of another cluster is delivered");
    ok(got_has(&g, "Other/x"), "an alert no rule targets is delivered");
    is_uint(g.nalerts, 2, "two alerts delivered");
    is_uint(m.alerts_silenced, 1, "one silenced");
    is_uint(m.alerts_inhibited, 1, "one inhibited");
    is_uint(m.inhibit_sources, 1, "one source remembered (gauge)");
    is_uint(m.inhibit_sources_dropped, 0, "none dropped");

    for (int i = 0; i < 4; i++)
        nd_alert_unref(a[i]);
    nd_pipeline_free(p);
    nd_inhibit_free(ih);
    nd_silences_free(sil);
    nd_config_free(cfg);
    nd_config_errors_deinit(&errs);
}

int main(void)
{
    test_equal();
    test_no_equal_and_rules();
    test_expiry();
    test_both_sides();
    test_ceiling();
    test_take_sources();
    test_many();
    test_errors();
    test_pipeline();
    return done_testing();
}
