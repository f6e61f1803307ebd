#!/usr/bin/env python3
"""Per-receiver backlogs (max_backlog, overflow; docs/delivery.md).

Two webhook receivers: "up", a recording target that answers 200, and "down", a port
nothing listens on (every attempt is refused, and retried for longer than the test runs).

1. overflow = drop_oldest on "down" (max_backlog = 5000): 200,000 alerts in requests of
   1000, one request after the other. Ingest never answers 503 although the global queue
   holds at most 100,000 alerts (it would fill after 100 requests if "down" kept what it
   is given), "up" gets every alert exactly once, "down" drops its oldest notifications
   (counter by receiver and reason, one summary log line per second at most) and its
   backlog gauges stay within the limit; the queue gauge never exceeds the two backlogs.
   The poster lets "up" (a Python recorder, slower than notifyd) catch up when its own
   backlog passes 30,000 alerts, so that only "down" could fill the queue.
2. overflow = backpressure on "down" (max_backlog = 3000): once its backlog is full,
   ingest answers 503 naming it; "up" still gets every alert that was accepted.
"""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PER_REQUEST = 1000
TOTAL = 200000


def payload(start, n):
    return json.dumps([{"labels": {"alertname": "Backlog", "id": "a%06d" % i, "severity": "warning"},
                        "annotations": {"summary": "backlog test"}}
                       for i in range(start, start + n)]).encode()


def received_ids(target):
    return h.received_label(target, "id")


def wait_ids(target, n, timeout):
    return h.wait_until(lambda: received_ids(target), lambda ids: len(ids) >= n, timeout,
                        step=0.2)


def sample(d):
    m = d.metrics()
    return (h.metric(m, "notifyd_queue_alerts") or 0,
            h.metric(m, "notifyd_receiver_backlog_alerts", receiver="up") or 0,
            h.metric(m, "notifyd_receiver_backlog_alerts", receiver="down") or 0)


def config(target, down_port, down_keys, max_alerts):
    common = "retry_initial = 100ms\nretry_max = 1s\nretry_max_attempts = 1000\n" \
             "retry_max_age = 1h\n"
    return h.config({"up": h.webhook(target.url + "/up", "timeout = 10s\n"),
                     "down": h.webhook("http://127.0.0.1:%d/down" % down_port,
                                       "max_in_flight = 2\n" + common + down_keys)},
                    server="shutdown_timeout = 1s\n"
                           "max_body_size = 16MiB\n",
                    queue="max_alerts = %d\n" % max_alerts,
                    batch="max_size = %d\nmax_wait = 10m\ngroup_labels = alertname\n"
                          % PER_REQUEST)


def case_drop_oldest(tap):
    down_port = h.free_port()
    with h.Target([200]) as up:
        cfg = config(up, down_port, "max_backlog = 5000\noverflow = drop_oldest\n", 100000)
        with h.Daemon(cfg) as d:
            d.start()
            statuses = {}
            queue_max = down_max = 0
            over = []
            t0 = time.monotonic()
            for k in range(TOTAL // PER_REQUEST):
                r = d.request("POST", "/api/v2/alerts", payload(k * PER_REQUEST, PER_REQUEST),
                              headers={"Content-Type": "application/json"}, timeout=30)
                statuses[r.status] = statuses.get(r.status, 0) + 1
                if r.status != 200 and statuses[r.status] == 1:
                    tap.diag("request %d: %r" % (k, r))
                if k % 10 == 9:
                    q, up_a, down_a = sample(d)
                    queue_max = max(queue_max, q)
                    down_max = max(down_max, down_a)
                    if q > up_a + down_a:
                        over.append((k, q, up_a, down_a))
                    # The recording target is slower than notifyd: let it catch up, so
                    # that only "down" could fill the queue (it would, without drops).
                    wait_end = time.monotonic() + 60
                    while up_a > 30000 and time.monotonic() < wait_end:
                        time.sleep(0.1)
                        q, up_a, down_a = sample(d)
            took = time.monotonic() - t0
            tap.diag("200,000 alerts posted in %.1f s; queue gauge at most %d" % (took, queue_max))
            tap.eq(statuses, {200: TOTAL // PER_REQUEST},
                   "drop_oldest: every request answered 200, never 503")

            ids = wait_ids(up, TOTAL, 120)
            tap.eq(len(ids), TOTAL, "up: 200,000 alerts received")
            tap.eq(len(set(ids)), TOTAL, "up: 200,000 distinct alerts: each exactly once")
            tap.eq(d.wait_metric("notifyd_notifications_delivered_total", 200.0, timeout=10,
                                 receiver="up", type="webhook"), 200.0,
                   "up: 200 notifications delivered")

            m = d.metrics()
            dropped = h.metric(m, "notifyd_notifications_dropped_total", receiver="down",
                               reason="backlog_full")
            held_n = h.metric(m, "notifyd_receiver_backlog_notifications", receiver="down")
            held_a = h.metric(m, "notifyd_receiver_backlog_alerts", receiver="down")
            held_b = h.metric(m, "notifyd_receiver_backlog_bytes", receiver="down")
            age = h.metric(m, "notifyd_receiver_backlog_oldest_age_seconds", receiver="down")
            tap.diag("down: dropped %s, held %s notifications / %s alerts / %s bytes, oldest %s s"
                     % (dropped, held_n, held_a, held_b, age))
            tap.ok(held_n is not None and 5 <= held_n <= 7,
                   "down: 5 waiting notifications kept, plus at most 2 in flight (%s)" % held_n)
            tap.eq(held_a, (held_n or 0) * PER_REQUEST, "down: backlog alerts = 1000 per notification")
            tap.ok(held_b is not None and held_b >= held_a * 50,
                   "down: backlog bytes counted (%s)" % held_b)
            tap.eq((dropped or 0) + (held_n or 0), 200.0,
                   "down: every notification either dropped or still held")
            tap.eq(h.metric(m, "notifyd_notifications_failed_total", receiver="down",
                            type="webhook"), 0.0, "down: nothing counted failed")
            tap.ok(age is not None and 0 <= age <= took + 60,
                   "down: oldest undelivered age is a sane gauge (%s s)" % age)
            tap.eq(h.metric(m, "notifyd_receiver_backlog_max_alerts", receiver="down"), 5000.0,
                   "down: its limit is exposed")
            tap.eq(h.metric(m, "notifyd_notifications_dropped_total", receiver="up",
                            reason="backlog_full"), 0.0, "up: nothing dropped")
            tap.eq(h.metric(m, "notifyd_receiver_backlog_alerts", receiver="up"), 0.0,
                   "up: backlog empty")
            q_end = h.metric(m, "notifyd_queue_alerts")
            tap.eq(q_end, held_a, "queue gauge = what down still holds (%s)" % q_end)
            tap.ok(down_max <= 5000 + 2 * PER_REQUEST,
                   "down's backlog bounded during the run (at most %d alerts)" % down_max)
            tap.eq(over, [], "the queue held nothing beyond the two backlogs during the run")
            tap.ok(queue_max < 100000, "the queue never got near max_alerts (at most %d)"
                   % queue_max)

            lines = [ln for ln in d.stderr_lines
                     if "notifications dropped: backlog full" in ln]
            counted = sum(int(re.search(r"\bnotifications=(\d+)", ln).group(1)) for ln in lines
                          if re.search(r"\bnotifications=(\d+)", ln))
            tap.ok(1 <= len(lines) <= took + 3,
                   "drops logged as a summary: %d lines in %.1f s" % (len(lines), took),
                   "\n".join(lines[:5]))
            # The last second's drops may still wait for their summary line.
            tap.ok(dropped is not None and dropped - 200 <= counted <= dropped,
                   "the summary lines count the drops (%d of %s)" % (counted, dropped))
            tap.ok("receiver=down" in (lines[0] if lines else ""), "the summary names the receiver")


def case_backpressure(tap):
    down_port = h.free_port()
    with h.Target([200]) as up:
        cfg = config(up, down_port, "max_backlog = 3000\noverflow = backpressure\n", 50000)
        with h.Daemon(cfg) as d:
            d.start()
            accepted = 0
            answers = []
            for k in range(8):
                r = d.request("POST", "/api/v2/alerts", payload(k * PER_REQUEST, PER_REQUEST),
                              headers={"Content-Type": "application/json"}, timeout=30)
                answers.append(r)
                if r.status == 200:
                    accepted += PER_REQUEST
            tap.eq([r.status for r in answers], [200, 200, 200, 503, 503, 503, 503, 503],
                   "backpressure: 3 requests fill down's backlog (3000), then 503")
            r = answers[3]
            try:
                msg = r.json().get("Message", "")
            except ValueError:
                msg = ""
            tap.ok("receiver down" in msg and "max_backlog 3000" in msg,
                   "the 503 names the receiver and its limit: %r" % msg)
            tap.ok("retry-after" in r.headers, "the 503 carries Retry-After")
            m = d.metrics()
            tap.eq(h.metric(m, "notifyd_requests_rejected_total", reason="queue_full"), 5.0,
                   "5 refusals counted")
            tap.eq(h.metric(m, "notifyd_receiver_backlog_alerts", receiver="down"), 3000.0,
                   "down holds 3000 alerts")
            tap.eq(h.metric(m, "notifyd_notifications_dropped_total", receiver="down",
                            reason="backlog_full"), 0.0, "backpressure drops nothing")
            ids = wait_ids(up, accepted, 30)
            tap.eq(sorted(ids), ["a%06d" % i for i in range(accepted)],
                   "up got every accepted alert exactly once, none of the refused")


def body(tap):
    case_drop_oldest(tap)
    case_backpressure(tap)


if __name__ == "__main__":
    h.run_main(body, 280)
