#!/usr/bin/env python3
"""Delivery semantics against real HTTP targets: 500 then 200 is delivered exactly once after
a backoff; 429 + Retry-After: 2 delays the next attempt by >= 2 s; another 4xx fails at
once without retry; /metrics counts the deliveries."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ALERT = [{"labels": {"alertname": "RetryMe", "severity": "page"},
          "annotations": {"summary": "retry test"}}]


def body(tap):
    with h.Target([500, 200]) as flaky, \
            h.Target([{"status": 429, "headers": {"Retry-After": "2"}}, 200]) as limited, \
            h.Target([400, 200]) as rejecting, \
            h.Target([200]) as ok:
        cfg = h.config({"flaky": h.webhook(flaky.url + "/flaky"),
                        "limited": h.webhook(limited.url + "/limited"),
                        "rejecting": h.webhook(rejecting.url + "/rejecting"),
                        "ok": h.webhook(ok.url + "/ok")},
                       batch="max_wait = 100ms\n",
                       delivery="retry_initial = 500ms\nretry_factor = 2\nretry_jitter = 0.2\n")
        with h.Daemon(cfg) as d:
            d.start()
            r = d.post_alerts(ALERT)
            tap.eq(r.status, 200, "alert accepted")

            okr = ok.wait_for(1, 10)
            tap.eq(len(okr), 1, "healthy receiver delivered once")

            fl = flaky.wait_for(2, 10)
            tap.eq(len(fl), 2, "500 then 200: a second attempt was made")
            if len(fl) == 2:
                gap = fl[1].t - fl[0].t
                # retry_initial 500ms with jitter 0.2: at least 400 ms
                tap.ok(gap >= 0.39, "500: retried after a backoff (%.3fs >= 0.4s)" % gap)
                tap.eq(fl[1].body, fl[0].body, "500: the retry carries the same body")

            li = limited.wait_for(2, 15)
            tap.eq(len(li), 2, "429 then 200: a second attempt was made")
            if len(li) == 2:
                gap = li[1].t - li[0].t
                tap.ok(gap >= 1.98, "429 Retry-After: 2 honoured (%.3fs >= 2s)" % gap)
                tap.eq(li[1].body, li[0].body, "429: the retry carries the same body")

            # Quiet period: nothing more may arrive (exactly once, no retry of a 400).
            time.sleep(2.5)
            tap.eq(len(flaky.snapshot()), 2, "500 then 200: delivered exactly once (2 attempts)")
            tap.eq(len(limited.snapshot()), 2, "429 then 200: no further attempts")
            tap.eq(len(rejecting.snapshot()), 1, "400: failed at once, never retried")
            tap.eq(len(ok.snapshot()), 1, "200: delivered exactly once")

            for name, want in (("flaky", 1.0), ("limited", 1.0), ("ok", 1.0)):
                tap.eq(d.wait_metric("notifyd_notifications_delivered_total", want,
                                     receiver=name, type="webhook"), want,
                       "/metrics: notifyd_notifications_delivered_total{receiver=%s}" % name)
            m = d.metrics()
            tap.eq(h.metric(m, "notifyd_notifications_failed_total", receiver="rejecting",
                            type="webhook"), 1.0, "/metrics: the 400 counted failed")
            tap.eq(h.metric(m, "notifyd_notifications_delivered_total", receiver="rejecting",
                            type="webhook"), 0.0,
                   "/metrics: nothing delivered to the rejecting receiver")
            tap.eq(h.metric(m, "notifyd_alerts_accepted_total"), 1.0,
                   "/metrics: notifyd_alerts_accepted_total is 1")


if __name__ == "__main__":
    h.run_main(body, 60)
