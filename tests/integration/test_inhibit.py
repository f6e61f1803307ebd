#!/usr/bin/env python3
"""[inhibit.NAME] with the real daemon and a recording webhook: a firing critical alert of
cluster x mutes the warning alert of cluster x but not the one of cluster y; a source and
its target in one request mute too (sources are learned before the stage drops anything);
once the source arrives resolved the cluster x warning is delivered again; a new source past
[queue] max_inhibit_sources is not remembered (counted, and its target is delivered); the
metrics count inhibited alerts and remembered sources; a reload (POST /-/reload) keeps the
sources of an unchanged rule (its target stays muted until the source resolves) and forgets
those of a renamed rule; --check-config names file, line, key and column of a bad rule."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

RULE = ("[inhibit.crit]\n"
        "source_selector = severity=critical\n"
        "target_selector = severity=warning\n"
        "equal = cluster\n")


def alert(name, cluster, severity, resolved=False):
    a = {"labels": {"alertname": name, "cluster": cluster, "severity": severity}}
    if resolved:
        a["endsAt"] = "2020-01-01T00:00:00Z"
    return a


def delivered(target):
    """(alertname, cluster, status) of every alert delivered so far, in order."""
    return [(a["labels"].get("alertname"), a["labels"].get("cluster"), a.get("status"))
            for a in h.received_alerts(target)]


def wait_delivered(target, want, timeout=10):
    return h.wait_until(lambda: delivered(target), lambda got: all(w in got for w in want),
                        timeout)


def post(tap, d, target, alerts, name, until, settle=0.0):
    """Posts alerts (checking the 200 as `name`), waits until the alert `until` (a
    delivered() tuple) has been delivered, then `settle` seconds more (for a muted alert
    of the same batches to have had its chance), and returns delivered()."""
    tap.eq(d.post_alerts(alerts).status, 200, name)
    wait_delivered(target, [until])
    time.sleep(settle)
    return delivered(target)


def run(tap):
    with h.Target([200]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                       queue="max_inhibit_sources = 2\n",
                       batch="max_wait = 50ms\ngroup_labels = alertname, cluster\n") + RULE
        with h.Daemon(cfg) as d:
            d.start()
            post(tap, d, target, [alert("NodeDown", "x", "critical")],
                 "critical source of cluster x accepted", ("NodeDown", "x", "firing"))
            # A muted x would have gone out in the same batch as y.
            got = post(tap, d, target, [alert("DiskSlow", "x", "warning"),
                                        alert("DiskSlow", "y", "warning")],
                       "warnings of clusters x and y accepted", ("DiskSlow", "y", "firing"),
                       settle=0.3)
            tap.ok(("NodeDown", "x", "firing") in got, "the source itself is delivered")
            tap.ok(("DiskSlow", "y", "firing") in got, "cluster y warning delivered")
            tap.ok(("DiskSlow", "x", "firing") not in got, "cluster x warning muted", got)

            # A source and its target in the same request.
            got = post(tap, d, target, [alert("DiskSlow", "z", "warning"),
                                        alert("NodeDown", "z", "critical")],
                       "cluster z warning and its critical source in one request",
                       ("NodeDown", "z", "firing"), settle=0.2)
            tap.ok(("DiskSlow", "z", "firing") not in got,
                   "the same batch's source mutes the target", got)
            m = d.metrics()
            tap.eq(h.metric(m, "notifyd_alerts_inhibited_total"), 2.0, "two alerts inhibited")
            tap.eq(h.metric(m, "notifyd_inhibit_sources"), 2.0, "two sources remembered")

            # Past the ceiling: not remembered, its target goes out.
            post(tap, d, target, [alert("NodeDown", "w", "critical")], "a third source accepted",
                 ("NodeDown", "w", "firing"))
            got = post(tap, d, target, [alert("DiskSlow", "w", "warning")], "its target accepted",
                       ("DiskSlow", "w", "firing"))
            tap.ok(("DiskSlow", "w", "firing") in got,
                   "max_inhibit_sources = 2: the third source mutes nothing")
            tap.eq(h.metric(d.metrics(), "notifyd_inhibit_sources_dropped_total"), 1.0,
                   "one source dropped at the ceiling")

            # The source resolves: the cluster x warning goes out again.
            post(tap, d, target, [alert("NodeDown", "x", "critical", resolved=True)],
                 "the source resolved", ("NodeDown", "x", "resolved"))
            tap.eq(h.metric(d.metrics(), "notifyd_inhibit_sources"), 1.0,
                   "the resolved source is forgotten")
            got = post(tap, d, target, [alert("DiskSlow", "x", "warning")],
                       "cluster x warning again", ("DiskSlow", "x", "firing"))
            tap.ok(("DiskSlow", "x", "firing") in got,
                   "after the source resolved, the cluster x warning is delivered", got)
            tap.eq(h.metric(d.metrics(), "notifyd_alerts_inhibited_total"), 2.0,
                   "still two alerts inhibited")


def reload_keeps_sources(tap):
    with h.Target([200]) as target:
        def cfg(max_wait, rule=RULE):
            return h.config({"hook": h.webhook(target.url + "/hook")},
                            batch="max_wait = %s\ngroup_labels = alertname, cluster\n" % max_wait
                            ) + rule
        with h.Daemon(cfg("50ms")) as d:
            d.start()
            post(tap, d, target, [alert("NodeDown", "x", "critical")],
                 "reload: critical source of cluster x accepted", ("NodeDown", "x", "firing"))
            d.write_config(cfg("60ms"))
            tap.ok(d.reload(), "reload: a harmless change (batch max_wait) is reloaded")
            tap.eq(h.metric(d.metrics(), "notifyd_inhibit_sources"), 1.0,
                   "reload: the source is still remembered after the swap")
            got = post(tap, d, target, [alert("DiskSlow", "x", "warning"),
                                        alert("DiskSlow", "y", "warning")],
                       "reload: warnings of clusters x and y accepted after the reload",
                       ("DiskSlow", "y", "firing"), settle=0.3)
            tap.ok(("DiskSlow", "x", "firing") not in got,
                   "reload: the source learned before the reload still mutes its target", got)
            tap.eq(h.metric(d.metrics(), "notifyd_alerts_inhibited_total"), 1.0,
                   "reload: one alert inhibited")
            post(tap, d, target, [alert("NodeDown", "x", "critical", resolved=True)],
                 "reload: the source resolved", ("NodeDown", "x", "resolved"))
            got = post(tap, d, target, [alert("DiskSlow", "x", "warning")],
                       "reload: cluster x warning again", ("DiskSlow", "x", "firing"))
            tap.ok(("DiskSlow", "x", "firing") in got,
                   "reload: after the carried source resolved, the target is delivered", got)

            # A renamed rule is a new rule: it starts without sources.
            post(tap, d, target, [alert("NodeDown", "v", "critical")],
                 "reload: critical source of cluster v accepted", ("NodeDown", "v", "firing"))
            d.write_config(cfg("60ms", RULE.replace("[inhibit.crit]", "[inhibit.crit2]")))
            tap.ok(d.reload(), "reload: the rule renamed")
            tap.eq(h.metric(d.metrics(), "notifyd_inhibit_sources"), 0.0,
                   "reload: the renamed rule remembers nothing")
            got = post(tap, d, target, [alert("DiskSlow", "v", "warning")],
                       "reload: cluster v warning accepted", ("DiskSlow", "v", "firing"))
            tap.ok(("DiskSlow", "v", "firing") in got,
                   "reload: a renamed rule's target is delivered until the source comes again",
                   got)


def check_config(tap):
    bad = h.config({"r": "type = console\n"}, queue="max_inhibit_sources = 0\n") + (
        "[inhibit.x]\nsource_selector = severity in (a\ntarget_selector = team=db\n"
        "equal = cluster, not-a-label\n")
    with h.Daemon(bad) as d:
        r = subprocess.run([h.NOTIFYD, "--check-config", d.config_path], capture_output=True,
                           text=True, timeout=20)
        tap.eq(r.returncode, 1, "--check-config refuses a bad inhibit rule")
        for want in ("notifyd.ini:6: [queue] max_inhibit_sources:",
                     "notifyd.ini:11: [inhibit.x] source_selector: column 15:",
                     "notifyd.ini:13: [inhibit.x] equal: invalid label name \"not-a-label\""):
            tap.ok(want in r.stderr, "names it: " + want, r.stderr)
    good = h.config({"r": "type = console\n"}) + RULE
    with h.Daemon(good) as d:
        r = subprocess.run([h.NOTIFYD, "--check-config", d.config_path], capture_output=True,
                           text=True, timeout=20)
        tap.eq(r.returncode, 0, "--check-config accepts a good rule", r.stderr)


def body(tap):
    run(tap)
    reload_keeps_sources(tap)
    check_config(tap)


if __name__ == "__main__":
    h.run_main(body, 80)
