#!/usr/bin/env python3
"""A target that hangs: the attempt times out after the receiver's timeout (1s) and is
retried, while a second webhook receiver keeps delivering on time (no head-of-line
blocking between receivers)."""

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


def body(tap):
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
            seconds = [q for q in slow.snapshot() if names(q) == ["Second"]]
            tap.ok(len(seconds) >= 1, "slow receiver also got the second alert")


if __name__ == "__main__":
    h.run_main(body, 60)
