#!/usr/bin/env python3
"""Receiver routing keys with the real daemon: `alert_selector` gives a receiver only the
alerts it selects (the others still get everything), `enabled = false` takes a receiver out
of routing, and --check-config names file, line, key and column of a bad selector."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def names(target):
    return sorted(h.received_label(target, "alertname"))


def body(tap):
    with h.Target([200]) as crit, h.Target([200]) as every, h.Target([200]) as off:
        cfg = h.config({
            "crit": h.webhook(crit.url + "/c",
                              "alert_selector = severity in (critical, page), "
                              "alertname!~\"^Test\"\n"),
            "every": h.webhook(every.url + "/e"),
            "off": h.webhook(off.url + "/o", "enabled = false\n"),
        }, batch="max_wait = 50ms\n")
        with h.Daemon(cfg) as d:
            d.start()
            alerts = [{"labels": {"alertname": n, "severity": s}} for n, s in
                      (("DiskFull", "critical"), ("Slow", "warning"), ("TestAlert", "critical"),
                       ("Pager", "page"))]
            tap.eq(d.post_alerts(alerts).status, 200, "4 alerts accepted")
            h.wait_until(lambda: names(every), lambda got: len(got) >= 4, 10)
            time.sleep(0.3)
            tap.eq(names(every), ["DiskFull", "Pager", "Slow", "TestAlert"],
                   "a receiver without alert_selector gets every alert")
            tap.eq(names(crit), ["DiskFull", "Pager"],
                   "alert_selector: severity in (critical, page) and not ^Test")
            tap.eq(len(off.snapshot()), 0, "enabled = false: nothing sent")
            tap.ok("receiver disabled" in d.stderr_text(), "the disabled receiver is logged")

    bad = h.config({"r": "type = console\nalert_selector = severity in (a b)\nenabled = perhaps\n"})
    with h.Daemon(bad) as d:
        r = subprocess.run([h.NOTIFYD, "--check-config", d.config_path], capture_output=True,
                           text=True, timeout=20)
        tap.eq(r.returncode, 1, "--check-config refuses them")
        tap.ok("notifyd.ini:7: [receiver.r] alert_selector: column 16: expected ',' or ')'"
               in r.stderr, "bad selector named with its column", r.stderr)
        tap.ok("notifyd.ini:8: [receiver.r] enabled: invalid boolean" in r.stderr,
               "bad enabled named", r.stderr)


if __name__ == "__main__":
    h.run_main(body, 60)
