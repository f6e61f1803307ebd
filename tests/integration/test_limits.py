#!/usr/bin/env python3
"""Limits: retry_max_attempts stops retrying a target that always fails (and counts it failed);
408 is retried; 503 with an HTTP-date Retry-After is honoured; a batch closes at
[batch] max_size without waiting for max_wait; [queue] max_bytes answers 503 too."""

import email.utils
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def retries(tap):
    def date_in_3s():  # made when the request arrives
        return {"status": 503,
                "headers": {"Retry-After": email.utils.formatdate(time.time() + 3, usegmt=True)}}

    with h.Target([500]) as always, h.Target([408, 200]) as t408, \
            h.Target([date_in_3s, 200]) as t503:
        cfg = h.config({"always": h.webhook(always.url + "/a", "retry_max_attempts = 3\n"),
                        "t408": h.webhook(t408.url + "/b"),
                        "t503": h.webhook(t503.url + "/c")},
                       batch="max_wait = 100ms\n",
                       delivery="retry_initial = 200ms\nretry_factor = 2\nretry_jitter = 0\n")
        with h.Daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts([{"labels": {"alertname": "Lim"}}]).status, 200, "accepted")
            r = t408.wait_for(2, 10)
            tap.eq(len(r), 2, "408 is retried")
            r = always.wait_for(3, 10)
            tap.eq(len(r), 3, "always 500: 3 attempts (retry_max_attempts = 3)")
            r = t503.wait_for(2, 15)
            tap.eq(len(r), 2, "503 with Retry-After is retried")
            if len(r) == 2:
                gap = r[1].t - r[0].t
                # An HTTP date has 1 s resolution: at least ~2 s of the 3 s remain.
                tap.ok(gap >= 1.9, "503 Retry-After as HTTP date honoured (%.3fs)" % gap)
            time.sleep(1.5)
            tap.eq(len(always.snapshot()), 3, "no 4th attempt after retry_max_attempts")
            tap.eq(d.wait_metric("notifyd_notifications_failed_total", 1.0, receiver="always",
                                 type="webhook"), 1.0, "/metrics: the notification counted failed")
            tap.eq(d.wait_metric("notifyd_notifications_delivered_total", 1.0, receiver="t408",
                                 type="webhook"), 1.0, "/metrics: 408 then 200 counted delivered")


def batch_size(tap):
    with h.Target([200]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                       server="shutdown_timeout = 10s\n",
                       batch="max_size = 2\nmax_wait = 60s\ngroup_labels = alertname\n")
        with h.Daemon(cfg) as d:
            d.start()
            payload = [{"labels": {"alertname": "B", "i": str(i)}} for i in range(3)]
            tap.eq(d.post_alerts(payload).status, 200, "max_size: 3 alerts accepted")
            r = target.wait_for(1, 10)
            n = [len(q.json()["alerts"]) for q in r]
            tap.eq(n, [2], "max_size = 2: a batch of 2 closed without waiting for max_wait")
            time.sleep(0.5)
            tap.eq(len(target.snapshot()), 1, "the third alert waits in the open batch")
            d.signal(signal.SIGTERM)
            tap.eq(d.wait_exit(15), 0, "max_size: exit 0 after SIGTERM")
            r = target.snapshot()
            got = sorted(a["labels"]["i"] for q in r for a in q.json()["alerts"])
            tap.eq(got, ["0", "1", "2"], "the open batch was delivered at shutdown")


def max_bytes(tap):
    with h.Target([200]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                       queue="max_bytes = 64KiB\n",
                       batch="max_wait = 60s\n")
        with h.Daemon(cfg) as d:
            d.start()
            small = [{"labels": {"alertname": "Small"}}]
            tap.eq(d.post_alerts(small).status, 200, "max_bytes: a small alert fits")
            big = [{"labels": {"alertname": "Big", "i": str(i)},
                    "annotations": {"pad": "x" * 20000}} for i in range(4)]
            r = d.post_alerts(big)
            tap.eq(r.status, 503, "max_bytes = 64KiB: 80 KB of alerts rejected with 503", r)
            tap.ok("retry-after" in r.headers, "max_bytes 503 has Retry-After", r.headers)
            m = d.metrics()
            tap.eq(h.metric(m, "notifyd_alerts_accepted_total"), 1.0,
                   "max_bytes: only the small alert was accepted")


def body(tap):
    retries(tap)
    batch_size(tap)
    max_bytes(tap)


if __name__ == "__main__":
    h.run_main(body, 90)
