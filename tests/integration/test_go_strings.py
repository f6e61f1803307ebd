#!/usr/bin/env python3
"""Strings that Go's encoding/json decodes to U+FFFD (lone UTF-16 surrogate escapes, bytes
that are not UTF-8 but pass yajl) are POSTed, as the same raw bytes, to a real Alertmanager
(Debian's prometheus-alertmanager, on a random loopback port) and to notifyd: the label
values notifyd delivers and its fingerprints must equal the ones Alertmanager reports.
Alertmanager missing is a failure, not a skip."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

AM = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"

AM_CONFIG = """\
route:
  receiver: "null"
receivers:
  - name: "null"
"""

# JSON text of a label value, as bytes.
VALUES = [
    rb"\ud800", rb"\ud800x", rb"\udc00", rb"\ud800\u0041", rb"\ud83d\ude00",
    rb"\udc00\ud800\udc00", rb"\ud800\ud800\udc00", rb"\ud800\n", rb"\uD800\\u0041",
    rb"x\uDBFF", rb"\uDFFF\uD800", b"\xc0\x80", b"\xe0\x80\xaf", b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80", b"a\xf5\x80\x80\x80b", "é✓".encode(),
]


def raw_body():
    parts = [b'{"labels":{"alertname":"GoStr","cluster":"x","case":"%d","v":"%s"}}' % (i, v)
             for i, v in enumerate(VALUES)]
    return b"[" + b",".join(parts) + b"]"


def wait_am_ready(port, proc, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def from_alertmanager(tap, workdir):
    """{case: (value, fingerprint)} as Alertmanager decoded and fingerprinted them."""
    if not os.access(AM, os.X_OK):
        tap.ok(False, "prometheus-alertmanager is installed (%s)" % AM)
        return None
    os.mkdir(os.path.join(workdir, "am"))
    cfg = os.path.join(workdir, "am", "am.yml")
    with open(cfg, "w") as f:
        f.write(AM_CONFIG)
    port = h.free_port()
    log = open(os.path.join(workdir, "am", "am.log"), "wb")
    proc = subprocess.Popen(
        [AM, "--config.file=" + cfg, "--storage.path=" + os.path.join(workdir, "am", "data"),
         "--web.listen-address=127.0.0.1:%d" % port, "--cluster.listen-address="],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        if not tap.ok(wait_am_ready(port, proc, 20), "alertmanager started on port %d" % port):
            return None
        req = urllib.request.Request("http://127.0.0.1:%d/api/v2/alerts" % port,
                                     data=raw_body(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            tap.eq(r.status, 200, "alertmanager accepted the raw body")
        with urllib.request.urlopen("http://127.0.0.1:%d/api/v2/alerts" % port, timeout=5) as r:
            got = json.loads(r.read())
        return {int(a["labels"]["case"]): (a["labels"]["v"], a["fingerprint"]) for a in got}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        log.close()


def body(tap):
    with h.Target([200]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                       batch="max_wait = 100ms\nmax_size = 1000\n")
        with h.Daemon(cfg) as d:
            d.start()
            want = from_alertmanager(tap, d.dir)
            if want is None:
                return
            tap.eq(sorted(want), list(range(len(VALUES))), "alertmanager lists every case")
            r = d.request("POST", "/api/v2/alerts", raw_body())
            tap.eq(r.status, 200, "notifyd accepted the raw body", r.body)
            got = {}
            end = time.monotonic() + 10
            while time.monotonic() < end and len(got) < len(VALUES):
                for q in target.wait_for(len(target.snapshot()) + 1, 0.5):
                    # bytes that are not UTF-8 stay distinct from U+FFFD
                    for a in json.loads(q.body.decode("utf-8", "surrogateescape"))["alerts"]:
                        got[int(a["labels"]["case"])] = (a["labels"]["v"], a["fingerprint"])
            tap.eq(len(got), len(VALUES), "notifyd delivered every case")
            for i, v in enumerate(VALUES):
                if i in got and i in want:
                    tap.eq(got[i][0], want[i][0], "%r: value as alertmanager decoded it" % v)
                    tap.eq(got[i][1], want[i][1], "%r: alertmanager's fingerprint" % v)


if __name__ == "__main__":
    h.run_main(body, 90)
