#!/usr/bin/env python3
"""Many alerts from concurrent clients: every accepted alert reaches every receiver exactly
once (no loss, no duplicates), also when the target fails every third request and the
daemon retries; batches respect max_size."""

import json
import os
import sys
import threading
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CLIENTS = 4
REQUESTS = 15  # per client
PER_REQUEST = 40
TOTAL = CLIENTS * REQUESTS * PER_REQUEST


def flaky_every_third():
    n = [0]
    lock = threading.Lock()

    def step():
        with lock:
            n[0] += 1
            return 500 if n[0] % 3 == 0 else 200
    return step


def instances(target):  # for a target that always answers 200
    c = Counter()
    sizes = []
    for q in target.snapshot():
        alerts = q.json()["alerts"]
        sizes.append(len(alerts))
        for a in alerts:
            c[a["labels"]["instance"]] += 1
    return c, sizes


def body(tap):
    step = flaky_every_third()
    with h.Target([200]) as good, h.Target([step]) as flaky:
        cfg = h.config({"good": h.webhook(good.url + "/g"),
                        "flaky": h.webhook(flaky.url + "/f")},
                       batch="max_size = 100\nmax_wait = 100ms\ngroup_labels = alertname\n",
                       delivery="retry_initial = 50ms\nretry_max = 200ms\n")
        with h.Daemon(cfg) as d:
            d.start()
            statuses = Counter()
            lock = threading.Lock()

            def client(cid):
                for r in range(REQUESTS):
                    payload = [{"labels": {"alertname": "Load%d" % (i % 7),
                                           "instance": "c%d-r%d-i%d" % (cid, r, i)}}
                               for i in range(PER_REQUEST)]
                    st = d.post_alerts(payload).status
                    with lock:
                        statuses[st] += 1

            threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            tap.eq(dict(statuses), {200: CLIENTS * REQUESTS}, "every request accepted")

            want = d.wait_metric("notifyd_alerts_accepted_total", float(TOTAL), 10)
            tap.eq(want, float(TOTAL), "/metrics: %d alerts accepted" % TOTAL)

            # An alert is held until every receiver is done with it: 0 held = all delivered.
            held = d.wait_metric("notifyd_queue_alerts", 0.0, 30)
            tap.eq(held, 0.0, "all alerts delivered and released (notifyd_queue_alerts 0)")

            c, sizes = instances(good)
            tap.eq(len(c), TOTAL, "good receiver: every alert arrived")
            tap.eq(max(c.values()) if c else 0, 1, "good receiver: no alert twice")
            tap.ok(sizes and max(sizes) <= 100, "no notification over max_size = 100 alerts",
                   max(sizes) if sizes else None)

            # For the flaky receiver, each body answered 500 is retried: count unique bodies.
            bodies = Counter(q.body for q in flaky.snapshot())
            c2 = Counter()
            for b in bodies:
                for a in json.loads(b)["alerts"]:
                    c2[a["labels"]["instance"]] += 1
            tap.eq(len(c2), TOTAL, "flaky receiver: every alert arrived (after retries)")
            tap.eq(max(c2.values()) if c2 else 0, 1,
                   "flaky receiver: no alert in two different notifications")
            delivered = d.wait_metric("notifyd_notifications_delivered_total",
                                     float(len(bodies)), 10, receiver="flaky", type="webhook")
            tap.eq(delivered, float(len(bodies)),
                   "flaky receiver: each distinct notification delivered once")
            tap.ok(len(flaky.snapshot()) > len(bodies), "flaky receiver: retries happened")


if __name__ == "__main__":
    h.run_main(body, 90)
