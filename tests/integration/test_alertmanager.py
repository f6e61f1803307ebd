#!/usr/bin/env python3
"""A real client: Debian's prometheus-alertmanager posts its webhook to notifyd's
/api/v2/alerts; notifyd delivers the alerts to a test target with the same labels (plus
receiver), annotations, and the fingerprints Alertmanager itself reports, each alert exactly
once once Alertmanager's group_wait/group_interval have passed. Then notifyd's queue is held
full (a blocked receiver, [queue] max_alerts = 2): notifyd answers Alertmanager 503,
Alertmanager retries (a 5xx answer is retryable, Retrier.Check in notify/util.go; RetryStage
in notify/notify.go retries with exponential backoff until the flush times out;
github.com/prometheus/alertmanager v0.25), and once the receiver answers the alert arrives,
exactly once. The test fails when prometheus-alertmanager is missing."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

AM = shutil.which("prometheus-alertmanager") or (
    "/usr/bin/prometheus-alertmanager"
    if os.access("/usr/bin/prometheus-alertmanager", os.X_OK) else None)

AM_CONFIG = """\
route:
  receiver: notifyd
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: notifyd
    webhook_configs:
      - url: http://127.0.0.1:%d/api/v2/alerts
        send_resolved: false
"""

# A cluster label is given so notifyd adds none and AM's fingerprints must match exactly.
ALERTS = [
    {"labels": {"alertname": "AmBridge", "instance": "node1:9100", "severity": "critical",
                "cluster": "prod"},
     "annotations": {"summary": "CPU > 90% <b>&</b>", "description": "first"},
     "startsAt": "2026-01-02T03:04:05.123Z",
     "generatorURL": "http://prom:9090/graph?g0.expr=up"},
    {"labels": {"alertname": "AmBridge", "instance": "node2:9100", "severity": "critical",
                "cluster": "prod"},
     "annotations": {"summary": "CPU > 90% <b>&</b>"},
     "startsAt": "2026-01-02T04:00:00+02:00"},
]


def http_json(url, data=None, timeout=5):
    req = urllib.request.Request(url, data=None if data is None else json.dumps(data).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        raw = r.read()
        return r.status, (json.loads(raw) if raw.strip() else None)


def wait_am_ready(port, proc, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def delivered(reqs):
    """[(fingerprint, alertname, instance)] of every alert in every recorded request."""
    out = []
    for q in reqs:
        try:
            for a in q.json()["alerts"]:
                out.append((a.get("fingerprint"), a["labels"].get("alertname"),
                            a["labels"].get("instance")))
        except (ValueError, KeyError, TypeError):
            out.append(("<unparsable %r>" % q.body[:100], None, None))
    return out


def wait_until(pred, timeout, step=0.1):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def settle(target, seconds):
    """Waits `seconds` (several AM group_intervals plus notifyd's max_wait) so that a
    duplicate, if any, has had the time to arrive."""
    time.sleep(seconds)
    return target.snapshot()


# How long after the last expected delivery a duplicate is still looked for: AM's
# group_interval (1s) twice, plus notifyd's max_wait (200ms), plus slack.
SETTLE = 3.0

RETRY_ALERT = {"labels": {"alertname": "AmRetry", "instance": "node3:9100", "cluster": "prod"},
               "annotations": {"summary": "sent while notifyd's queue is full"}}


def body(tap):
    if AM is None:
        tap.ok(False, "prometheus-alertmanager installed (a real client for this test)",
               "apt-get install prometheus-alertmanager")
        return
    gate = threading.Event()  # set: the target answers; clear (phase 2): it holds requests
    gate.set()

    def step():
        return 200 if gate.is_set() else {"release": gate, "hang": 30}

    with h.Target([step]) as target:
        # max_alerts = 2: AM's first group (2 alerts) fits; while the receiver holds 2 other
        # alerts, AM's next request does not.
        cfg = h.config({"hook": h.webhook(target.url + "/hook", "timeout = 40s\n")},
                       queue="max_alerts = 2\n", batch="max_wait = 200ms\n")
        with h.Daemon(cfg) as d:
            d.start()
            am_dir = os.path.join(d.dir, "am")
            os.mkdir(am_dir)
            with open(os.path.join(am_dir, "am.yml"), "w") as f:
                f.write(AM_CONFIG % d.port)
            am_port = h.free_port()
            am_url = "http://127.0.0.1:%d" % am_port
            log = open(os.path.join(am_dir, "am.log"), "wb")
            proc = subprocess.Popen(
                [AM, "--config.file=" + os.path.join(am_dir, "am.yml"),
                 "--storage.path=" + os.path.join(am_dir, "data"),
                 "--web.listen-address=127.0.0.1:%d" % am_port,
                 "--cluster.listen-address=", "--log.level=debug"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=am_dir)

            def am_log():
                log.flush()
                with open(os.path.join(am_dir, "am.log"), "rb") as f:
                    return f.read()[-3000:].decode("utf-8", "replace")

            try:
                ready = wait_am_ready(am_port, proc, 20)
                tap.ok(ready, "alertmanager started on 127.0.0.1:%d" % am_port)
                if not ready:
                    tap.diag(am_log())
                    return
                status, _ = http_json(am_url + "/api/v2/alerts", ALERTS)
                tap.eq(status, 200, "alertmanager accepted the alerts")
                _, am_alerts = http_json(am_url + "/api/v2/alerts")
                am_fp = {a["labels"]["instance"]: a["fingerprint"] for a in am_alerts or []}
                tap.eq(sorted(am_fp), ["node1:9100", "node2:9100"],
                       "alertmanager lists both alerts")

                # AM flushes after group_wait (1s), notifyd after its max_wait.
                wait_until(lambda: len({x[2] for x in delivered(target.snapshot())}) >= 2, 20)
                reqs = settle(target, SETTLE)
                got = {}
                for q in reqs:
                    for a in q.json()["alerts"]:
                        got.setdefault(a["labels"].get("instance"), a)
                tap.eq(sorted(got), ["node1:9100", "node2:9100"],
                       "notifyd delivered both alerts", d.stderr_text())
                fps = sorted(x[0] for x in delivered(reqs))
                tap.eq(fps, sorted(am_fp.values()),
                       "each alert delivered exactly once (by fingerprint, %.0fs after the "
                       "last arrived)" % SETTLE, reqs)
                for src in ALERTS:
                    inst = src["labels"]["instance"]
                    a = got.get(inst)
                    if a is None:
                        continue
                    want_labels = dict(src["labels"], receiver="hook")
                    tap.eq(a["labels"], want_labels, "%s: labels (plus receiver)" % inst)
                    tap.eq(a["annotations"], src["annotations"], "%s: annotations" % inst)
                    tap.eq(a["fingerprint"], am_fp.get(inst),
                           "%s: fingerprint equals alertmanager's" % inst)
                    tap.eq(a["fingerprint"], h.fingerprint(src["labels"]),
                           "%s: fingerprint equals FNV-1a of the labels" % inst)
                    tap.eq(a["status"], "firing", "%s: firing" % inst)
                    tap.eq(a["endsAt"], "0001-01-01T00:00:00Z", "%s: endsAt zero" % inst)
                    tap.eq(a["generatorURL"], src.get("generatorURL", ""),
                           "%s: generatorURL passed through AM" % inst)
                tap.ok(all(q.body.endswith(b"}\n") for q in reqs),
                       "webhook bodies end with a newline")
                tap.ok(all(b"\\u003cb\\u003e\\u0026\\u003c/b\\u003e" in q.body for q in reqs),
                       "<, > and & are escaped Go-style", [q.body[:400] for q in reqs])

                # Phase 2: the receiver holds two alerts posted directly, so notifyd's queue
                # is full (max_alerts = 2) and it answers AM's next request 503.
                gate.clear()
                n0 = len(target.snapshot())
                blockers = [{"labels": {"alertname": "Blocker", "instance": "b%d" % i}}
                            for i in range(2)]
                tap.eq(d.post_alerts(blockers).status, 200, "two blocking alerts accepted")
                tap.eq(len(target.wait_for(n0 + 1, 10)), n0 + 1,
                       "the receiver holds the blocking notification")
                tap.eq(d.post_alerts([{"labels": {"alertname": "Probe"}}]).status, 503,
                       "notifyd's queue is full: 503")
                rejected0 = h.metric(d.metrics(), "notifyd_requests_rejected_total",
                                     reason="queue_full") or 0
                status, _ = http_json(am_url + "/api/v2/alerts", [RETRY_ALERT])
                tap.eq(status, 200, "alertmanager accepted the alert sent while notifyd is full")

                # AM's first attempt after group_wait (1s) and at least one retry are refused.
                def rejected():
                    v = h.metric(d.metrics(), "notifyd_requests_rejected_total",
                                 reason="queue_full") or 0
                    return v - rejected0 >= 2 and v - rejected0
                n_rej = wait_until(rejected, 15)
                tap.ok(n_rej, "alertmanager retried after notifyd's 503 (%d refused requests)"
                       % (n_rej or 0), am_log())
                tap.eq([x for x in delivered(target.snapshot()) if x[1] == "AmRetry"], [],
                       "nothing of the refused alert delivered while the queue is full")

                gate.set()  # the receiver answers: the queue drains, AM's next retry fits
                want_fp = h.fingerprint(RETRY_ALERT["labels"])
                wait_until(lambda: any(x[1] == "AmRetry"
                                       for x in delivered(target.snapshot())), 20)
                reqs = settle(target, SETTLE)
                tap.eq([x for x in delivered(reqs) if x[1] == "AmRetry"],
                       [(want_fp, "AmRetry", "node3:9100")],
                       "after the 503s the alert was delivered, exactly once", am_log())
                tap.eq(sorted(x[2] for x in delivered(reqs) if x[1] == "Blocker"),
                       ["b0", "b1"], "the blocking alerts were delivered once each")
                tap.eq(sorted(x[0] for x in delivered(reqs) if x[1] == "AmBridge"),
                       sorted(am_fp.values()), "the first alerts were not delivered again")
                try:
                    with urllib.request.urlopen(am_url + "/metrics", timeout=5) as r:
                        am_m = h.parse_metrics(r.read().decode())
                except OSError as e:
                    am_m = {}
                    tap.diag("alertmanager /metrics: %r" % e)
                failed = h.metric(am_m, "alertmanager_notification_requests_failed_total",
                                  integration="webhook")
                tap.ok(failed is not None and failed >= n_rej,
                       "alertmanager counted the refused requests as failed (%s)" % failed)
            finally:
                gate.set()
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
                log.close()


if __name__ == "__main__":
    h.run_main(body, 90)
