#!/usr/bin/env python3
"""push.py PORT ALERTS GROUPS PER_REQ - POST ALERTS alerts in GROUPS groups
(alertname x namespace) to notifyd on 127.0.0.1:PORT over one keep-alive
connection, PER_REQ alerts per request. Exits non-zero on any non-200."""
import http.client
import json
import sys

port, total, groups, per_req = (int(a) for a in sys.argv[1:5])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
batch = []
sent = 0
for i in range(total):
    g = i // (total // groups)  # consecutive alerts share a group: one batch of 100 = 10 groups
    batch.append({
        "labels": {"alertname": "A%d" % (g % 100), "namespace": "ns%d" % (g // 100),
                   "severity": "warning", "pod": "pod-%d" % i, "instance": "10.0.%d.%d:9100" % (i // 250 % 250, i % 250),
                   "job": "node", "cluster": "c1", "team": "t%d" % (g % 7)},
        "annotations": {"summary": "something is wrong with pod-%d" % i,
                        "description": "a longer description of the problem " * 4},
        "startsAt": "2026-11-26T12:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
    })
    if len(batch) == per_req or i == total - 1:
        body = json.dumps(batch)
        conn.request("POST", "/api/v2/alerts", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            sys.exit("status %d" % r.status)
        sent += len(batch)
        batch = []
print("pushed", sent)
