#!/usr/bin/env python3
"""A real client: Debian's prometheus-alertmanager posts its webhook to notifyd's
/api/v2/alerts; notifyd delivers the alerts to a test target with the same labels (plus
receiver), annotations, and the fingerprints Alertmanager itself reports."""

import json
import os
import shutil
import subprocess
import sys
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


def body(tap):
    if AM is None:
        tap.skip("Alertmanager webhook delivered through notifyd",
                 "prometheus-alertmanager not installed")
        return
    with h.Target([200]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")}, batch="max_wait = 200ms\n")
        with h.Daemon(cfg) as d:
            d.start()
            am_dir = os.path.join(d.dir, "am")
            os.mkdir(am_dir)
            with open(os.path.join(am_dir, "am.yml"), "w") as f:
                f.write(AM_CONFIG % d.port)
            am_port = h.free_port()
            log = open(os.path.join(am_dir, "am.log"), "wb")
            proc = subprocess.Popen(
                [AM, "--config.file=" + os.path.join(am_dir, "am.yml"),
                 "--storage.path=" + os.path.join(am_dir, "data"),
                 "--web.listen-address=127.0.0.1:%d" % am_port,
                 "--cluster.listen-address=", "--log.level=debug"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=am_dir)
            try:
                ready = wait_am_ready(am_port, proc, 20)
                tap.ok(ready, "alertmanager started on 127.0.0.1:%d" % am_port)
                if not ready:
                    log.flush()
                    with open(os.path.join(am_dir, "am.log"), "rb") as f:
                        tap.diag(f.read()[-3000:].decode("utf-8", "replace"))
                    return
                status, _ = http_json("http://127.0.0.1:%d/api/v2/alerts" % am_port, ALERTS)
                tap.eq(status, 200, "alertmanager accepted the alerts")
                _, am_alerts = http_json("http://127.0.0.1:%d/api/v2/alerts" % am_port)
                am_fp = {a["labels"]["instance"]: a["fingerprint"] for a in am_alerts or []}
                tap.eq(sorted(am_fp), ["node1:9100", "node2:9100"],
                       "alertmanager lists both alerts")

                # AM flushes after group_wait (1s), notifyd after its max_wait.
                got = {}
                end = time.monotonic() + 20
                while time.monotonic() < end and len(got) < 2:
                    for q in target.wait_for(len(target.snapshot()) + 1, 0.5):
                        for a in q.json()["alerts"]:
                            got[a["labels"].get("instance")] = a
                tap.eq(sorted(got), ["node1:9100", "node2:9100"],
                       "notifyd delivered both alerts", d.stderr_text())
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
                reqs = target.snapshot()
                tap.ok(all(q.body.endswith(b"}\n") for q in reqs),
                       "webhook bodies end with a newline")
                tap.ok(all(b"\\u003cb\\u003e\\u0026\\u003c/b\\u003e" in q.body for q in reqs),
                       "<, > and & are escaped Go-style", [q.body[:400] for q in reqs])
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
                log.close()


if __name__ == "__main__":
    h.run_main(body, 90)
