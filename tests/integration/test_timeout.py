#!/usr/bin/env python3
"""A target that hangs: the attempt times out after the receiver's timeout (1s) and is
retried, while a second webhook receiver keeps delivering on time (no head-of-line
blocking between receivers). The target sees exactly the attempts made, and /metrics counts
them: one retried and two delivered for the slow receiver. A target that never answers in
time gets exactly retry_max_attempts attempts, then the notification is counted failed."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def alert(name):
    return [{"labels": {"alertname": name}, "annotations": {"summary": name}}]


def names(req):
    try:
        return [a["labels"]["alertname"] for a in req.json()["alerts"]]
    except (ValueError, KeyError):
        return []


def counters(d, rcv):
    m = d.metrics()
    return tuple(h.metric(m, "notifyd_notifications_%s_total" % k, receiver=rcv,
                          type="webhook") for k in ("delivered", "retried", "failed"))


def attempts_exhausted(tap):
    """retry_max_attempts = 3 against a target that always outlasts the 300ms timeout."""
    with h.Target([{"hang": 10}]) as dead:
        cfg = h.config({"dead": h.webhook(dead.url + "/dead",
                                          "timeout = 300ms\nretry_max_attempts = 3\n"
                                          "retry_initial = 100ms\nretry_jitter = 0\n")},
                       batch="max_wait = 50ms\n")
        with h.Daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alert("Dead")).status, 200, "dead target: alert accepted")
            failed = d.wait_metric("notifyd_notifications_failed_total", 1.0, timeout=10,
                                   receiver="dead", type="webhook")
            tap.eq(failed, 1.0, "dead target: the notification is counted failed once")
            # Longer than a backoff wait (100ms, 200ms): a 4th attempt would show by now.
            time.sleep(0.6)
            reqs = dead.snapshot()
            tap.eq(len(reqs), 3, "retry_max_attempts = 3: the target saw exactly 3 attempts",
                   reqs)
            tap.ok(len({q.body for q in reqs}) == 1, "every attempt carried the same body")
            tap.eq(counters(d, "dead"), (0.0, 2.0, 1.0),
                   "dead target /metrics: delivered 0, retried 2, failed 1")


def body(tap):
    attempts_exhausted(tap)
    with h.Target([{"hang": 4}, 200]) as slow, h.Target([200]) as fast:
        cfg = h.config({"slow": h.webhook(slow.url + "/slow",
                                          "timeout = 1s\nretry_initial = 500ms\n"),
                        "fast": h.webhook(fast.url + "/fast")},
                       batch="max_wait = 100ms\n")
        with h.Daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alert("First")).status, 200, "first alert accepted")
            s1 = slow.wait_for(1, 10)
            tap.eq(len(s1), 1, "slow target got the first attempt")
            f1 = fast.wait_for(1, 10)
            tap.eq(len(f1), 1, "fast target got the first alert")

            # While the slow target still hangs, the fast one must keep getting new alerts.
            tap.eq(d.post_alerts(alert("Second")).status, 200, "second alert accepted")
            f2 = fast.wait_for(2, 10)
            tap.eq(len(f2), 2, "fast target got the second alert")
            if s1 and len(f2) == 2:
                tap.ok(f2[1].t < s1[0].t + 1.0,
                       "second alert reached the fast target while the slow attempt hung "
                       "(%.3fs after it began)" % (f2[1].t - s1[0].t))

            # The hung attempt times out (1s) and is retried with the same body.
            end = time.monotonic() + 15
            retry = None
            while time.monotonic() < end and retry is None:
                reqs = slow.wait_for(len(slow.snapshot()) + 1, 0.5)
                for q in reqs[1:]:
                    if names(q) == ["First"]:
                        retry = q
            tap.ok(retry is not None, "hung attempt was retried", slow.snapshot())
            if retry is not None and s1:
                gap = retry.t - s1[0].t
                # 1s attempt timeout + 500ms backoff with 20% jitter
                tap.ok(gap >= 1.35, "retry came after timeout + backoff (%.3fs)" % gap)
                tap.ok(gap < 4.0, "attempt was cut by the 1s timeout, not the 4s hang "
                       "(%.3fs)" % gap)
                tap.eq(retry.body, s1[0].body, "retry body equals the first attempt's")
            d.wait_metric("notifyd_notifications_delivered_total", 2.0, timeout=10,
                          receiver="slow", type="webhook")
            # A second retry would come 1s (timeout) + 500ms (backoff) after the first.
            time.sleep(0.3)
            got = [names(q) for q in slow.snapshot()]
            tap.eq(got.count(["First"]), 2, "slow target: First attempted exactly twice", got)
            tap.eq(got.count(["Second"]), 1, "slow target: Second delivered exactly once", got)
            tap.eq(len(got), 3, "slow target: no other request", got)
            tap.eq([names(q) for q in fast.snapshot()], [["First"], ["Second"]],
                   "fast target: each alert exactly once")
            tap.eq(counters(d, "slow"), (2.0, 1.0, 0.0),
                   "slow /metrics: delivered 2, retried 1 (the timed-out attempt), failed 0")
            tap.eq(counters(d, "fast"), (2.0, 0.0, 0.0),
                   "fast /metrics: delivered 2, retried 0, failed 0")


if __name__ == "__main__":
    h.run_main(body, 60)
