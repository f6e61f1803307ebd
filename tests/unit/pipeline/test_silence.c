/* Tests of silence.c: every row of the activity table (silence.h), the
 * [silence.NAME] keys with their errors (file:line key), and muting by
 * selector among active silences only. Times are fixed instants; the
 * process runs in UTC so that schedules are read in UTC. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"
#include "notifyd/config.h"
#include "notifyd/cron.h"
#include "notifyd/silence.h"
#include "tap.h"

#define S INT64_C(1000000000)
/* 2026-12-04T10:00:00Z */
#define T0 INT64_C(1796378400)

static void test_table(void)
{
    struct nd_silence_when w;
    char err[ND_ERRLEN];
    struct nd_cron *c = NULL;

    memset(&w, 0, sizeof(w));
    w.enabled = false;
    ok(!nd_silence_when_active(&w, T0 * S), "enabled = false: never");
    w.enabled = true;
    ok(nd_silence_when_active(&w, T0 * S), "neither schedule nor starts_at: always");
    w.has_duration = true;
    w.duration_ns = 60 * S;
    ok(nd_silence_when_active(&w, T0 * S), "neither, with a duration: always");

    /* schedule "30 10 * * *" = 10:30 daily. */
    if (nd_cron_parse("30 10 * * *", &c, err) != ND_OK) {
        ok(0, "cron parses: %s", err);
        return;
    }
    memset(&w, 0, sizeof(w));
    w.enabled = true;
    w.schedule = c;
    ok(nd_silence_when_active(&w, T0 * S), "schedule without duration: always");
    w.has_starts = true;
    w.starts_s = T0 + 86400; /* ignored: the schedule wins */
    w.has_duration = true;
    w.duration_ns = 15 * 60 * S;
    ok(!nd_silence_when_active(&w, (T0 + 29 * 60 + 59) * S), "10:29:59: not yet");
    ok(nd_silence_when_active(&w, (T0 + 30 * 60) * S), "10:30:00: active (T <= now)");
    ok(nd_silence_when_active(&w, (T0 + 44 * 60 + 59) * S), "10:44:59: still active");
    ok(!nd_silence_when_active(&w, (T0 + 45 * 60) * S), "10:45:00: over (now - duration < T)");
    ok(nd_silence_when_active(&w, (T0 + 86400 + 31 * 60) * S), "next day 10:31: active again");
    w.enabled = false;
    ok(!nd_silence_when_active(&w, (T0 + 30 * 60) * S), "disabled schedule: never");
    nd_cron_free(c);

    memset(&w, 0, sizeof(w));
    w.enabled = true;
    w.has_starts = true;
    w.starts_s = T0;
    ok(!nd_silence_when_active(&w, T0 * S - 1), "starts_at, no duration: not before");
    ok(nd_silence_when_active(&w, T0 * S), "starts_at, no duration: from starts_at");
    ok(nd_silence_when_active(&w, (T0 + 10 * 365 * 86400) * S), "starts_at, no duration: forever");
    w.has_duration = true;
    w.duration_ns = 3600 * S;
    ok(nd_silence_when_active(&w, (T0 + 3599) * S), "starts_at + duration: inside");
    ok(!nd_silence_when_active(&w, (T0 + 3600) * S), "starts_at + duration: end excluded");
    ok(!nd_silence_when_active(&w, (T0 - 1) * S), "starts_at + duration: not before");
}

static const char ini[] = "[receiver.r]\n"
                          "type = console\n"
                          "[silence.maint]\n"
                          "selector = namespace=payments\n"
                          "starts_at = 2026-12-04T10:00:00Z\n"
                          "duration = 1h\n"
                          "[silence.watchdog]\n"
                          "selector = alertname in (Watchdog, InfoInhibitor)\n"
                          "[silence.off]\n"
                          "selector = alertname=DiskFull\n"
                          "enabled = false\n";

static void test_mute(void)
{
    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;
    struct nd_silences *s = NULL;
    struct nd_alert *pay, *wd, *disk, *other;

    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(ini, "s.ini", &cfg, &errs), ND_OK, "config loads");
    if (!cfg)
        goto out;
    is_uint(cfg->nsilences, 3, "three silence sections");
    is_int(nd_silences_from_config(cfg, &s, &errs), ND_OK, "silences valid");
    is_uint(errs.n, 0, "no errors");
    if (!s)
        goto out;
    is_uint(nd_silences_count(s), 3, "three silences");
    pay = mk_alert(NULL, ND_ALERT_FIRING, "alertname", "Lag", "namespace", "payments", NULL, NULL);
    wd = mk_alert(NULL, ND_ALERT_FIRING, "alertname", "Watchdog", NULL, NULL);
    disk = mk_alert(NULL, ND_ALERT_FIRING, "alertname", "DiskFull", NULL, NULL);
    other = mk_alert(NULL, ND_ALERT_FIRING, "alertname", "Lag", "namespace", "web", NULL, NULL);

    is_uint(nd_silences_begin(s, (T0 - 1) * S), 1, "before the window: only watchdog active");
    ok(!nd_silences_mute(s, pay), "payments not muted before its window");
    ok(nd_silences_mute(s, wd), "watchdog muted");
    ok(!nd_silences_mute(s, disk), "disabled silence mutes nothing");
    is_uint(nd_silences_begin(s, (T0 + 60) * S), 2, "in the window: two active");
    ok(nd_silences_mute(s, pay), "payments muted in its window");
    ok(!nd_silences_mute(s, other), "another namespace is not");
    is_uint(nd_silences_begin(s, (T0 + 3600) * S), 1, "after the window: one");
    ok(!nd_silences_mute(s, pay), "payments delivered again");
    nd_alert_unref(pay);
    nd_alert_unref(wd);
    nd_alert_unref(disk);
    nd_alert_unref(other);
out:
    nd_silences_free(s);
    nd_config_free(cfg);
    nd_config_errors_deinit(&errs);
}

static void test_errors(void)
{
    static const char bad[] = "[receiver.r]\n"
                              "type = console\n"
                              "[silence.a]\n"
                              "starts_at = yesterday\n"
                              "[silence.b]\n"
                              "selector = a in ()\n"
                              "schedule = 61 * * * *\n"
                              "duration = soon\n"
                              "[silence.c]\n"
                              "selector = a\n"
                              "tenant = alice\n"
                              "colour = red\n"
                              "enabled = maybe\n";
    static const char *const want[] = {
        "s.ini:3: [silence.a] selector: missing required key",
        "s.ini:4: [silence.a] starts_at: invalid time",
        "s.ini:6: [silence.b] selector: column 7: empty value set",
        "s.ini:7: [silence.b] schedule: minute",
        "s.ini:8: [silence.b] duration:",
        "s.ini:11: [silence.c] tenant: unknown tenant \"alice\"",
        "s.ini:12: [silence.c] colour: unknown key",
        "s.ini:13: [silence.c] enabled: invalid boolean",
    };
    struct nd_config *cfg = NULL;
    struct nd_config_errors errs;
    struct nd_silences *s = (struct nd_silences *)1;
    size_t i, k;

    nd_config_errors_init(&errs);
    is_int(nd_config_load_string(bad, "s.ini", &cfg, &errs), ND_OK, "config loads (raw)");
    if (!cfg)
        return;
    is_int(nd_silences_from_config(cfg, &s, &errs), ND_EINVAL, "silences refused");
    ok(s == NULL, "nothing returned");
    for (i = 0; i < ND_ARRAY_LEN(want); i++) {
        bool found = false;
        for (k = 0; k < errs.n; k++)
            found = found || strstr(errs.msgs[k], want[i]) != NULL;
        ok(found, "error: %s", want[i]);
    }
    is_uint(errs.n, ND_ARRAY_LEN(want), "no other errors");
    for (k = 0; k < errs.n; k++)
        printf("# %s\n", errs.msgs[k]);
    nd_config_free(cfg);
    nd_config_errors_deinit(&errs);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    test_table();
    test_mute();
    test_errors();
    return done_testing();
}
