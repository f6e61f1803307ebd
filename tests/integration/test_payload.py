#!/usr/bin/env python3
"""Exact webhook bodies for both request shapes (Alertmanager webhook object and Prometheus
alert array): labels incl. the injected cluster and receiver labels, grouping by
group_labels, common labels/annotations, RFC 3339 times with the sender's offset, Go-style
escaping, AM fingerprints, and deterministic ids."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ZERO = "0001-01-01T00:00:00Z"

# Request 1: the Alertmanager webhook shape (extra AM fields must be ignored).
AM_SHAPE = {
    "receiver": "upstream", "status": "firing", "version": "4", "groupKey": "{}:{}",
    "externalURL": "http://am:9093", "truncatedAlerts": 0,
    "groupLabels": {"ignored": "yes"}, "commonLabels": {}, "commonAnnotations": {},
    "alerts": [
        {"status": "firing",
         "labels": {"alertname": "DiskFull", "namespace": "ns1", "severity": "warning",
                    "instance": "node-1"},
         "annotations": {"summary": "disk <90%> & rising", "runbook": "see \"wiki\"\nline2"},
         "startsAt": "2024-05-01T10:00:00.123456789+08:00"},
        {"status": "firing",
         "labels": {"alertname": "DiskFull", "namespace": "ns1", "severity": "warning",
                    "instance": "node-2", "cluster": "east"},
         "annotations": {"summary": "disk <90%> & rising"},
         "startsAt": "2024-05-01T02:00:00.500Z"},
        {"status": "firing",
         "labels": {"alertname": "Caf\u00e9Down", "namespace": "ns2", "empty": ""},
         "annotations": {},
         "startsAt": "2024-05-01T10:00:00.000-05:30"},
    ],
}

# What each alert becomes: labels without empty values, cluster added when absent,
# receiver added; startsAt in Go's RFC3339Nano (trailing zeros trimmed, offset kept).
EXPECT_AM = [
    ({"alertname": "DiskFull", "namespace": "ns1", "severity": "warning", "instance": "node-1",
      "cluster": "testcl"},
     {"summary": "disk <90%> & rising", "runbook": "see \"wiki\"\nline2"},
     "2024-05-01T10:00:00.123456789+08:00", ""),
    ({"alertname": "DiskFull", "namespace": "ns1", "severity": "warning", "instance": "node-2",
      "cluster": "east"},
     {"summary": "disk <90%> & rising"},
     "2024-05-01T02:00:00.5Z", ""),
    ({"alertname": "Caf\u00e9Down", "namespace": "ns2", "cluster": "testcl"},
     {}, "2024-05-01T10:00:00-05:30", ""),
]

# Request 2: the Prometheus/AM-API array shape.
ARRAY_SHAPE = [
    {"labels": {"alertname": "HighCPU", "instance": "node1:9100", "severity": "critical"},
     "annotations": {"summary": "CPU > 90%"},
     "startsAt": "2026-01-02T03:04:05Z",
     "generatorURL": "http://prom:9090/graph?g0.expr=up&g0.tab=1"},
    {"labels": {"alertname": "HighCPU", "instance": "node2:9100", "severity": "critical"},
     "annotations": {"summary": "CPU > 90%", "extra": "only here"},
     "startsAt": "2026-01-02T03:04:05.010+01:00"},
]
EXPECT_ARRAY = [
    ({"alertname": "HighCPU", "instance": "node1:9100", "severity": "critical",
      "cluster": "testcl"},
     {"summary": "CPU > 90%"}, "2026-01-02T03:04:05Z",
     "http://prom:9090/graph?g0.expr=up&g0.tab=1"),
    ({"alertname": "HighCPU", "instance": "node2:9100", "severity": "critical",
      "cluster": "testcl"},
     {"summary": "CPU > 90%", "extra": "only here"}, "2026-01-02T03:04:05.01+01:00", ""),
]

# Request 3: status and end times. Resolved is derived from an endsAt in the past or given
# explicitly; endsAt is passed through with its offset; an alert's own receiver label wins;
# a fingerprint in the request is ignored.
STATUS_SHAPE = [
    {"labels": {"alertname": "Gone", "job": "a"},
     "startsAt": "2024-01-01T00:00:00Z", "endsAt": "2024-01-01T01:00:00.250+01:00",
     "fingerprint": "0000000000000000"},
    {"labels": {"alertname": "Gone", "job": "b", "receiver": "mine"}, "status": "resolved",
     "annotations": {"note": "explicit"}},
    {"labels": {"alertname": "Later"},
     "startsAt": "2024-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z",
     "annotations": {"esc": "ctl\u0001\u001f line\u2028sep \U0001F600\t\\ /"}},
]
EXPECT_STATUS = [
    ({"alertname": "Gone", "job": "a", "cluster": "testcl"}, {}, "2024-01-01T00:00:00Z", "",
     "resolved", "2024-01-01T01:00:00.25+01:00"),
    ({"alertname": "Gone", "job": "b", "receiver": "mine", "cluster": "testcl"},
     {"note": "explicit"}, ZERO, "", "resolved", ZERO),
    ({"alertname": "Later", "cluster": "testcl"},
     {"esc": "ctl\u0001\u001f line\u2028sep \U0001F600\t\\ /"},
     "2024-01-01T00:00:00Z", "", "firing", "2099-01-01T00:00:00Z"),
]

GROUP_LABELS = ["alertname", "namespace"]


def expected_notifications(expect, receiver, ids):
    """Expected bodies keyed by the group's alertname, with the captured ids filled in."""
    groups = {}
    for e, aid in zip(expect, ids):
        labels, ann, starts, gen = e[:4]
        status, ends = e[4:] if len(e) > 4 else ("firing", ZERO)
        key = tuple(labels.get(g, "") for g in GROUP_LABELS)
        groups.setdefault(key, []).append((labels, ann, starts, gen, status, ends, aid))
    out = {}
    for key, members in groups.items():
        alerts = []
        all_labels, all_ann = [], []
        for labels, ann, starts, gen, status, ends, aid in members:
            lab = dict(labels)
            lab.setdefault("receiver", receiver)
            all_labels.append(lab)
            all_ann.append(ann)
            # The fingerprint covers the alert's labels, not the receiver label added here.
            alerts.append({
                "id": aid, "status": status, "labels": h.sorted_map(lab),
                "annotations": h.sorted_map(ann), "startsAt": starts, "endsAt": ends,
                "generatorURL": gen, "fingerprint": h.fingerprint(labels)})
        body = {"alerts": alerts,
                "groupLabels": h.sorted_map({g: v for g, v in zip(GROUP_LABELS, key) if v}),
                "commonLabels": h.common(all_labels),
                "commonAnnotations": h.common(all_ann)}
        out[key[0]] = (h.go_json(body) + "\n").encode()
    return out


def ids_in(reqs):
    """Alert ids by the alert's instance/alertname, from delivered bodies."""
    ids = {}
    for r in reqs:
        for a in r.json()["alerts"]:
            ids[key_of(a["labels"])] = a["id"]
    return ids


def key_of(labels):
    return (labels.get("alertname"), labels.get("instance"), labels.get("job"))


def by_alertname(reqs):
    out = {}
    for r in reqs:
        try:
            out[r.json()["alerts"][0]["labels"]["alertname"]] = r
        except (ValueError, KeyError, IndexError):
            pass
    return out


def check_round(tap, daemon, target, payload, expect, ngroups, tag, start):
    r = daemon.post_alerts(payload)
    tap.eq(r.status, 200, "%s: POST accepted" % tag)
    tap.eq(r.body, b'{"Status":200,"Message":"Notification request accepted"}',
           "%s: 200 body is NM's envelope" % tag)
    reqs = target.wait_for(start + ngroups, 15)[start:]
    if not tap.eq(len(reqs), ngroups, "%s: one notification per group" % tag):
        tap.diag(daemon.stderr_text())
        return {}
    for q in reqs:
        tap.eq((q.method, q.path), ("POST", "/hook"), "%s: POST to the configured path" % tag)
        tap.ok(q.headers.get("content-type", "").startswith("application/json"),
               "%s: Content-Type application/json" % tag, q.headers)
    ids = ids_in(reqs)
    want_ids = [ids.get(key_of(e[0]), "?") for e in expect]
    tap.ok(all(re.fullmatch(r"[0-9]+", i) for i in want_ids),
           "%s: ids are decimal" % tag, want_ids)
    want = expected_notifications(expect, "hook", want_ids)
    got = by_alertname(reqs)
    for name, body in want.items():
        g = got.get(name)
        tap.eq(g.body if g else None, body, "%s: exact body of group %s" % (tag, name))
    return ids


def body(tap):
    with h.Target() as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                       server="cluster = testcl\n",
                       batch="max_size = 100\nmax_wait = 200ms\ngroup_labels = alertname, namespace\n")
        with h.Daemon(cfg) as d:
            d.start()
            ids1 = check_round(tap, d, target, AM_SHAPE, EXPECT_AM, 2, "webhook shape", 0)
            ids2 = check_round(tap, d, target, ARRAY_SHAPE, EXPECT_ARRAY, 1, "array shape", 2)
            ids4 = check_round(tap, d, target, STATUS_SHAPE, EXPECT_STATUS, 2, "status", 3)
            allids = list(ids1.values()) + list(ids2.values()) + list(ids4.values())
            tap.eq(len(set(allids)), len(allids), "distinct alerts have distinct ids")
            # Same input again: same ids (the id is a hash of the alert's content).
            ids3 = check_round(tap, d, target, AM_SHAPE, EXPECT_AM, 2, "webhook shape again", 5)
            tap.ok(ids1 and ids3 == ids1, "ids are deterministic for the same input",
                   "first %r\nagain %r" % (ids1, ids3))
            tap.eq(d.wait_metric("notifyd_alerts_accepted_total", 11.0), 11.0,
                   "/metrics: notifyd_alerts_accepted_total counts 3+2+3+3 alerts")
            tap.eq(d.wait_metric("notifyd_notifications_delivered_total", 7.0, receiver="hook",
                                 type="webhook"), 7.0,
                   "/metrics: 7 notifications delivered to hook")
        # A fresh process computes the same ids: they depend on the content only.
        with h.Daemon(cfg) as d2:
            d2.start()
            ids5 = check_round(tap, d2, target, AM_SHAPE, EXPECT_AM, 2, "second daemon", 7)
            tap.ok(ids1 and ids5 == ids1, "ids are the same in another daemon process",
                   "first %r\nother %r" % (ids1, ids5))


if __name__ == "__main__":
    h.run_main(body, 60)
