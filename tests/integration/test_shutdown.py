#!/usr/bin/env python3
"""SIGTERM with alerts in an open batch (max_wait = 60s) and a slow target: the batch is
closed, delivered (waiting for the in-flight request) before exit, exit code 0, and nothing
new is accepted meanwhile. The same for SIGINT. A target that never answers: the drain stops
at shutdown_timeout, still exit code 0."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def run(tap, sig, signame):
    # The target answers after 1s, so the daemon must wait for the in-flight request.
    with h.Target([{"hang": 1}]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook", "timeout = 5s\n")},
                       server="shutdown_timeout = 10s\n",
                       batch="max_size = 100\nmax_wait = 60s\n")
        with h.Daemon(cfg) as d:
            d.start()
            payload = [{"labels": {"alertname": "Bye", "instance": "i%d" % i}} for i in range(3)]
            tap.eq(d.post_alerts(payload).status, 200, "%s: alerts accepted" % signame)
            time.sleep(0.3)
            tap.eq(len(target.snapshot()), 0, "%s: batch still open before the signal" % signame)
            d.signal(sig)
            # While it drains (the target holds the delivery for 1s), nothing new is taken.
            time.sleep(0.3)
            try:
                late = d.post_alerts([{"labels": {"alertname": "Late"}}], timeout=5).status
            except OSError as e:
                late = "refused (%s)" % e.__class__.__name__
            tap.ok(late != 200, "%s: a request during the drain is not accepted (%s)"
                   % (signame, late))
            rc = d.wait_exit(15)
            t_exit = time.monotonic()
            tap.eq(rc, 0, "%s: exit code 0" % signame, d.stderr_text())
            reqs = target.snapshot()
            tap.eq(len(reqs), 1, "%s: the open batch was delivered as one notification"
                   % signame)
            if reqs:
                got = sorted(a["labels"]["instance"] for a in reqs[0].json()["alerts"])
                tap.eq(got, ["i0", "i1", "i2"], "%s: all queued alerts delivered" % signame)
                # The request arrived and the daemon stayed up for its 1s answer.
                tap.ok(t_exit - reqs[0].t >= 0.9,
                       "%s: exit waited for the in-flight delivery (%.3fs)"
                       % (signame, t_exit - reqs[0].t))


def bounded(tap):
    """A target that never answers in time: the drain ends at shutdown_timeout."""
    with h.Target([{"hang": 20}]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook", "timeout = 30s\n")},
                       server="shutdown_timeout = 1s\n",
                       batch="max_size = 100\nmax_wait = 60s\n")
        with h.Daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts([{"labels": {"alertname": "Stuck"}}]).status, 200,
                   "shutdown_timeout: alert accepted")
            t0 = time.monotonic()
            d.signal(signal.SIGTERM)
            rc = d.wait_exit(15)
            took = time.monotonic() - t0
            tap.eq(len(target.snapshot()), 1, "shutdown_timeout: the delivery was attempted")
            tap.eq(rc, 0, "shutdown_timeout: exit code 0", d.stderr_text())
            tap.ok(0.9 <= took < 8, "shutdown_timeout = 1s bounds the drain (%.3fs)" % took)


def body(tap):
    run(tap, signal.SIGTERM, "SIGTERM")
    run(tap, signal.SIGINT, "SIGINT")
    bounded(tap)


if __name__ == "__main__":
    h.run_main(body, 60)
