#!/usr/bin/env python3
"""[silence.NAME] with the real daemon: a scheduled silence is active from its cron minute
for its duration and not before or after (three silences around the current minute), a
starts_at window mutes exactly between its start and its end, muted alerts are never
delivered and are counted (notifyd_alerts_silenced_total), other alerts are delivered, and
--check-config names file, line and key of a bad silence."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def alert(name):
    return [{"labels": {"alertname": name, "job": "silence-test"}}]


def delivered_names(target):
    return sorted(h.received_label(target, "alertname"))


def wait_delivered(target, names, timeout):
    return h.wait_until(lambda: delivered_names(target), lambda got: all(n in got for n in names),
                        timeout)


def scheduled(tap):
    # Away from a minute boundary, so that "the current minute" stays the same while the
    # alerts go through (bounded: at most one wait of 6 s).
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)
    now = time.gmtime()
    cur = (now.tm_hour, now.tm_min)

    def at(delta_min):
        t = time.gmtime(time.time() + delta_min * 60)
        return "%d %d * * *" % (t.tm_min, t.tm_hour)

    silences = (
        # Triggered at the start of this minute, for 2 minutes: active now.
        "[silence.now]\nselector = alertname=InWindow\nschedule = %s\nduration = 2m\n"
        % at(0)
        # Triggers at the start of the next minute: not active yet.
        + "[silence.later]\nselector = alertname=BeforeWindow\nschedule = %s\nduration = 2m\n"
        % at(1)
        # Triggered 3 minutes ago for 1 minute: over.
        + "[silence.past]\nselector = alertname=AfterWindow\nschedule = %s\nduration = 1m\n"
        % at(-3)
        # Same trigger as "now", but in Asia/Shanghai: 8 hours off, not active.
        + "[silence.zone]\nselector = alertname=OtherZone\n"
          "schedule = CRON_TZ=Asia/Shanghai %s\nduration = 2m\n" % at(0)
    )
    with h.Target([200]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                       batch="max_wait = 50ms\n") + silences
        with h.Daemon(cfg, env=dict(os.environ, TZ="UTC")) as d:
            d.start()
            for name in ("InWindow", "BeforeWindow", "AfterWindow", "OtherZone", "Unrelated"):
                tap.eq(d.post_alerts(alert(name)).status, 200, "%s accepted" % name)
            got = wait_delivered(target, ["BeforeWindow", "AfterWindow", "OtherZone",
                                          "Unrelated"], 10)
            time.sleep(0.3)
            got = delivered_names(target)
            tap.diag("minute %02d:%02d UTC, delivered %s" % (cur[0], cur[1], got))
            tap.ok("InWindow" not in got, "schedule of this minute + 2m: muted")
            tap.ok("BeforeWindow" in got, "schedule of the next minute: not active yet")
            tap.ok("AfterWindow" in got, "schedule 3 minutes ago + 1m: over")
            tap.ok("OtherZone" in got, "CRON_TZ=Asia/Shanghai: the same minute 8 h away")
            tap.ok("Unrelated" in got, "an alert no silence selects is delivered")
            tap.eq(h.metric(d.metrics(), "notifyd_alerts_silenced_total"), 1.0,
                   "one alert counted as silenced")


def window(tap):
    start = int(time.time()) + 3
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
    sil = ("[silence.maint]\nselector = namespace in (payments, billing)\n"
           "starts_at = %s\nduration = 3s\n" % stamp)
    with h.Target([200]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                       batch="max_wait = 50ms\n") + sil

        def post(name, ns):
            return d.post_alerts([{"labels": {"alertname": name, "namespace": ns}}]).status

        with h.Daemon(cfg) as d:
            d.start()
            tap.eq(post("Before", "payments"), 200, "before the window: accepted")
            wait_delivered(target, ["Before"], 5)
            while time.time() < start + 0.3:
                time.sleep(0.05)
            tap.eq(post("During", "payments"), 200, "in the window: accepted")
            tap.eq(post("OtherNs", "web"), 200, "another namespace in the window")
            wait_delivered(target, ["OtherNs"], 5)
            while time.time() < start + 3.3:
                time.sleep(0.05)
            tap.eq(post("After", "billing"), 200, "after the window: accepted")
            got = wait_delivered(target, ["After"], 5)
            time.sleep(0.2)
            got = delivered_names(target)
            tap.eq(got, ["After", "Before", "OtherNs"],
                   "muted only between starts_at and starts_at + duration")


def check_config(tap):
    bad = h.config({"r": "type = console\n"}) + (
        "[silence.x]\nselector = severity in ()\nschedule = 0 25 * * *\nwhatever = 1\n")
    with h.Daemon(bad) as d:
        r = subprocess.run([h.NOTIFYD, "--check-config", d.config_path], capture_output=True,
                           text=True, timeout=20)
        tap.eq(r.returncode, 1, "--check-config refuses a bad silence")
        for want in ("notifyd.ini:8: [silence.x] selector: column 14:",
                     "notifyd.ini:9: [silence.x] schedule: hour",
                     "notifyd.ini:10: [silence.x] whatever: unknown key"):
            tap.ok(want in r.stderr, "names it: " + want, r.stderr)


def body(tap):
    scheduled(tap)
    window(tap)
    check_config(tap)


if __name__ == "__main__":
    h.run_main(body, 80)
