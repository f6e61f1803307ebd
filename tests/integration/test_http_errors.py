#!/usr/bin/env python3
"""HTTP error answers over a real socket: 400 bodies naming the problem (invalid JSON with
the byte offset, wrong shape with the JSON path, empty labels, bad timestamp, absurd
nesting), 413 over max_body_size, 404, 405 with Allow. Nothing of a rejected request is
delivered, the daemon keeps answering, and a valid request afterwards is delivered."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

L = {"labels": {"alertname": "Bad"}}


def envelope(r):
    try:
        j = json.loads(r.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(j, dict) or list(j.keys()) != ["Status", "Message"]:
        return None
    return j


def expect_400(tap, d, payload, message, name, exact=True):
    r = d.request("POST", "/api/v2/alerts", payload)
    tap.eq(r.status, 400, "%s: 400" % name)
    env = envelope(r)
    ok = env is not None and env["Status"] == 400 and (
        env["Message"] == message if exact else env["Message"].startswith(message))
    tap.ok(ok, "%s: envelope says %r" % (name, message), r.body[:300])


def body(tap):
    with h.Target([200]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                       server="max_body_size = 2MiB\n",
                       batch="max_wait = 100ms\n")
        with h.Daemon(cfg) as d:
            d.start()
            expect_400(tap, d, '{"alerts": [', "invalid JSON at byte ", "truncated JSON",
                       exact=False)
            expect_400(tap, d, '{"alerts": [}', "invalid JSON at byte 1", "bad token at 12",
                       exact=False)
            expect_400(tap, d, json.dumps({"alerts": [L, L, L, {"labels": "x"}]}),
                       "alerts[3].labels: expected object", "labels not an object")
            expect_400(tap, d, json.dumps({"alerts": [{"labels": {}}]}),
                       "alerts[0].labels: at least one label required", "empty labels")
            expect_400(tap, d, json.dumps({"alerts": [{"labels": {"a": ""}}]}),
                       "alerts[0].labels: at least one label required",
                       "labels with only empty values")
            expect_400(tap, d, json.dumps({"alerts": [{"annotations": {}}]}),
                       "alerts[0].labels: at least one label required", "labels missing")
            expect_400(tap, d, json.dumps([L, {"labels": {"a": "b"}, "startsAt": "yesterday"}]),
                       'alerts[1].startsAt: invalid RFC 3339 time "yesterday"',
                       "bad timestamp (array shape)")
            expect_400(tap, d, json.dumps({"alerts": [L, {"labels": {"a": "b"},
                                                          "startsAt": "2024-13-01T00:00:00Z"}]}),
                       'alerts[1].startsAt: invalid RFC 3339 time "2024-13-01T00:00:00Z"',
                       "month 13 (webhook shape)")
            expect_400(tap, d, b'[{"labels":{"alertname":"bad\xff\xfeutf"}}]',
                       "invalid JSON at byte ", "invalid UTF-8 in a string", exact=False)
            expect_400(tap, d, '[{"labels":{"alertname":"nul\\u0000x"}}]',
                       "alerts[0].labels.alertname: contains a NUL byte", "NUL byte in a label")
            expect_400(tap, d, '"just a string"', "body: expected object or array",
                       "top level neither object nor array")
            expect_400(tap, d, '{"alerts": {"labels": {"a": "b"}}}', "alerts: expected array",
                       "alerts not an array")

            deep = "[" * 1000000
            r = d.request("POST", "/api/v2/alerts", deep, timeout=20)
            tap.eq(r.status, 400, "1,000,000 nested '[': 400", r)
            tap.ok(envelope(r) is not None, "1,000,000 nested '[': JSON envelope", r.body[:200])
            tap.eq(d.request("GET", "/-/healthy").status, 200, "still healthy after that")
            # Unknown keys are skipped whatever their value: only the depth limit stops this.
            r = d.request("POST", "/api/v2/alerts", '{"x":' + deep, timeout=20)
            tap.eq(r.status, 400, "1,000,000 nested '[' under an unknown key: 400", r)
            env = envelope(r)
            tap.ok(env is not None and env["Message"].startswith("nesting deeper than "),
                   "deep nesting: envelope says 'nesting deeper than ...'", r.body[:200])
            tap.eq(d.request("GET", "/-/healthy").status, 200, "still healthy after deep nesting")

            big = json.dumps([{"labels": {"alertname": "Big", "pad": "x" * (2200 * 1024)}}])
            r = d.request("POST", "/api/v2/alerts", big)
            tap.eq(r.status, 413, "body over max_body_size = 2MiB: 413", r)
            tap.eq(d.request("GET", "/-/healthy").status, 200, "still healthy after 413")

            r = d.request("GET", "/nope")
            tap.eq(r.status, 404, "unknown path: 404")
            r = d.request("GET", "/api/v2/alerts")
            tap.eq(r.status, 405, "GET /api/v2/alerts: 405")
            tap.ok("POST" in r.headers.get("allow", ""), "405 has Allow: POST", r.headers)
            r = d.request("DELETE", "/api/v2/alerts")
            tap.eq(r.status, 405, "DELETE /api/v2/alerts: 405")
            r = d.request("POST", "/-/healthy", "{}")
            tap.eq(r.status, 405, "POST /-/healthy: 405")
            tap.ok("GET" in r.headers.get("allow", ""), "405 has Allow: GET", r.headers)
            for path in ("/-/healthy", "/-/ready", "/metrics"):
                tap.eq(d.request("GET", path).status, 200, "GET %s: 200" % path)

            time.sleep(0.6)  # several max_wait periods
            tap.eq(target.snapshot(), [], "nothing of the rejected requests was delivered")

            r = d.post_alerts([{"labels": {"alertname": "Good"}}])
            tap.eq(r.status, 200, "a valid request is still accepted")
            reqs = target.wait_for(1, 10)
            names = [a["labels"]["alertname"] for q in reqs for a in q.json()["alerts"]]
            tap.eq(names, ["Good"], "only the valid alert was delivered")


if __name__ == "__main__":
    h.run_main(body, 90)
