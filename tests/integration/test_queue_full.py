#!/usr/bin/env python3
"""[queue] max_alerts: a request that would exceed it is rejected whole with 503 and
Retry-After, and nothing of it is ever delivered; requests that fit are still accepted and
delivered (here: at shutdown, since max_wait is long)."""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def alerts(*names):
    return [{"labels": {"alertname": "Q", "instance": n}} for n in names]


def delivered_instances(reqs):
    return sorted(h.received_label(reqs, "instance"))


def body(tap):
    with h.Target([200]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                       server="shutdown_timeout = 10s\nretry_after = 3s\n",
                       queue="max_alerts = 4\n",
                       batch="max_size = 100\nmax_wait = 60s\n")
        with h.Daemon(cfg) as d:
            d.start()
            r = d.post_alerts(alerts("a1", "a2", "a3"))
            tap.eq(r.status, 200, "3 alerts of 4 accepted")

            r = d.post_alerts(alerts("r1", "r2"))
            tap.eq(r.status, 503, "2 more would exceed max_alerts = 4: 503", r)
            tap.ok("retry-after" in r.headers, "503 carries Retry-After", r.headers)
            tap.eq(r.headers.get("retry-after"), "3", "Retry-After is [server] retry_after (3s)")
            try:
                j = r.json()
            except ValueError:
                j = None
            tap.ok(isinstance(j, dict) and j.get("Status") == 503
                   and isinstance(j.get("Message"), str) and j["Message"],
                   "503 body is the JSON envelope with a message", r)

            r = d.post_alerts(alerts("b1"))
            tap.eq(r.status, 200, "one more still fits (4 of 4)")
            r = d.post_alerts(alerts("r3"))
            tap.eq(r.status, 503, "the queue is full now: 503")

            m = d.metrics()
            tap.eq(h.metric(m, "notifyd_alerts_accepted_total"), 4.0,
                   "/metrics: 4 alerts accepted")
            tap.eq(len(target.snapshot()), 0, "nothing delivered yet (batch open for 60s)")

            d.signal(signal.SIGTERM)
            rc = d.wait_exit(15)
            tap.eq(rc, 0, "exit code 0 after SIGTERM", d.stderr_text())
            got = delivered_instances(target.snapshot())
            tap.eq(got, ["a1", "a2", "a3", "b1"],
                   "exactly the accepted alerts were delivered, none of the rejected ones")


if __name__ == "__main__":
    h.run_main(body, 60)
