#!/usr/bin/env python3
"""The tenant sidecar (docs/routing.md): a stand-in sidecar answers the tenants of each
namespace; alerts of a namespace reach its tenant's receiver (the answer replaces the
[tenant.*] map); one lookup per (cluster, namespace) within tenant_cache_ttl; a sidecar
answering 500, or stopped, sends the alerts to the global receivers only, counts
notifyd_tenant_sidecar_errors_total and loses nothing; while the sidecar hangs the loop still
answers and a later batch waits behind the held one; with policy = RouterFirst an alert a
router takes is not looked up; --check-config refuses a bad tenant_sidecar_url."""

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


class Sidecar:
    """GET /tenants?cluster=C&namespace=N -> JSON array; mode: ok | 500 | hang."""

    def __init__(self, answers):
        self.answers = answers
        self.mode = "ok"
        self.requests = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                with outer.lock:
                    outer.requests.append((q.get("cluster", [""])[0],
                                           q.get("namespace", [""])[0]))
                    mode = outer.mode
                if mode == "hang":
                    outer.release.wait(20)
                    mode = "500"
                if mode == "500":
                    body, code = b"oops", 500
                else:
                    ns = q.get("namespace", [""])[0]
                    body, code = json.dumps(outer.answers.get(ns, [])).encode(), 200
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d/tenants" % self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def count(self):
        with self.lock:
            return len(self.requests)

    def stop(self):
        self.release.set()
        self.srv.shutdown()
        self.srv.server_close()


def names(target, path):
    return sorted(h.received_label(target, "alertname", path))


def alert(name, ns, cluster="c1"):
    return {"labels": {"alertname": name, "namespace": ns, "rule_level": "namespace",
                       "cluster": cluster}}


def tenant_config(target, routing, alice="alice"):
    """ops (global), a receiver of tenant alice named `alice`, bob's, all on target (path =
    name), grouped by alertname; then `routing` (the [routing]/[tenant.*]/[router.*] text)."""
    return h.config({
        "ops": h.webhook(target.url + "/ops"),
        alice: h.webhook(target.url + "/" + alice, "tenant = alice\n"),
        "bob": h.webhook(target.url + "/bob", "tenant = bob\n"),
    }, batch="max_wait = 50ms\ngroup_labels = alertname\n") + routing


def router_first(tap):
    """policy = RouterFirst: an alert a router takes never needs its tenants, so the sidecar
    is not asked about its namespace; one no router takes is looked up as before."""
    sc = Sidecar({"web": ["alice"], "db": ["bob"]})
    try:
        with h.Target([200]) as target:
            cfg = tenant_config(target, (
                "[routing]\npolicy = RouterFirst\ntenant_sidecar_url = %s\n"
                "tenant_sidecar_timeout = 1s\n"
                "[tenant.alice]\n[tenant.bob]\n"
                "[router.crit]\nalert_selector = severity=critical\nreceivers = pager\n"
                % sc.url), alice="pager")
            with h.Daemon(cfg) as d:
                d.start()
                crit = alert("C1", "web")
                crit["labels"]["severity"] = "critical"
                tap.eq(d.post_alerts([crit, alert("D1", "db")]).status, 200,
                       "RouterFirst: alerts accepted")
                target.wait_for(3, 10)
                time.sleep(0.3)
                tap.eq(names(target, "/pager"), ["C1"], "RouterFirst: the router's alert")
                tap.eq(names(target, "/bob"), ["D1"], "RouterFirst: the other one by tenant")
                tap.eq(names(target, "/ops"), ["D1"], "RouterFirst: and the global receiver")
                tap.eq(sc.requests, [("c1", "db")],
                       "RouterFirst: no lookup for the namespace of the routed alert")
    finally:
        sc.stop()


def body(tap):
    sc = Sidecar({"web": ["alice"], "db": ["bob"], "none": []})
    try:
        with h.Target([200]) as target:
            cfg = tenant_config(target, (
                "[routing]\ntenant_sidecar_url = %s\ntenant_cache_ttl = 60s\n"
                "tenant_sidecar_timeout = 1s\ntenant_sidecar_retry = 200ms\n"
                # the static map says bob owns web: the sidecar's answer replaces it
                "[tenant.alice]\nnamespaces = payments\n"
                "[tenant.bob]\nnamespaces = web\n" % sc.url))
            with h.Daemon(cfg) as d:
                d.start()
                tap.eq(d.post_alerts([alert("W1", "web"), alert("D1", "db"),
                                      alert("N1", "none")]).status, 200, "alerts accepted")
                target.wait_for(3 + 1 + 1, 10)
                time.sleep(0.3)
                tap.eq(names(target, "/alice"), ["W1"], "web -> alice (from the sidecar)")
                tap.eq(names(target, "/bob"), ["D1"],
                       "db -> bob; web not bob's: the answer replaces the static map")
                tap.eq(names(target, "/ops"), ["D1", "N1", "W1"], "global receiver gets all")
                tap.eq(sorted(sc.requests), [("c1", "db"), ("c1", "none"), ("c1", "web")],
                       "one lookup per (cluster, namespace), with cluster and namespace")
                for i in range(3):
                    d.post_alerts([alert("W%d" % (i + 2), "web")])
                    time.sleep(0.1)
                target.wait_for(5 + 6, 10)
                tap.eq(sc.count(), 3, "no new lookups within the TTL")

                # A reload with the same URL keeps the answers; another URL starts afresh.
                before = len(target.snapshot())
                d.write_config(cfg.replace("max_wait = 50ms", "max_wait = 40ms"))
                tap.ok(d.reload(), "reload, same sidecar URL: accepted")
                d.post_alerts([alert("R1", "web")])
                target.wait_for(before + 2, 10)
                tap.eq(sc.count(), 3, "reload, same URL: the cached answer is kept, no lookup")
                tap.eq(names(target, "/alice").count("R1"), 1, "reload, same URL: web -> alice")
                d.write_config(cfg.replace(sc.url, sc.url + "2"))
                tap.ok(d.reload(), "reload, another sidecar URL: accepted")
                d.post_alerts([alert("R2", "web")])
                target.wait_for(before + 4, 10)
                tap.eq(sc.count(), 4, "reload, another URL: the cache starts empty, web asked")
                tap.eq(h.metric(d.metrics(), "notifyd_tenant_sidecar_errors_total"), 0,
                       "no errors yet")

                # 500: global only, counted, nothing lost.
                sc.mode = "500"
                before = len(target.snapshot())
                d.post_alerts([alert("E1", "err1")])
                target.wait_for(before + 1, 10)
                time.sleep(0.3)
                tap.eq(names(target, "/ops").count("E1"), 1, "500: E1 to the global receiver")
                tap.eq(d.wait_metric("notifyd_tenant_sidecar_errors_total", 1), 1,
                       "500: counted")

                # Hang: the batch waits, the loop still answers; timeout -> global.
                sc.mode = "hang"
                before = len(target.snapshot())
                d.post_alerts([alert("H1", "hang1")])
                t0 = time.monotonic()
                r = d.request("GET", "/-/healthy", timeout=2)
                tap.eq(r.status, 200, "/-/healthy answers while the sidecar hangs")
                tap.ok(time.monotonic() - t0 < 0.5, "and fast",
                       "%.3fs" % (time.monotonic() - t0))
                time.sleep(0.2)  # a later batch, needing no lookup, waits behind
                d.post_alerts([{"labels": {"alertname": "P1"}}])
                time.sleep(0.3)  # P1's batch is cut; H1's lookup (1s timeout) is still out
                tap.eq(names(target, "/ops").count("P1"), 0,
                       "a later batch needing no lookup waits behind the held one")
                target.wait_for(before + 2, 10)
                tap.ok("H1" in names(target, "/ops"), "after the timeout H1 goes global")
                tap.ok("P1" in names(target, "/ops"), "and P1 follows")
                tap.eq(d.wait_metric("notifyd_tenant_sidecar_errors_total", 2), 2,
                       "timeout counted")

                # Stopped: connection refused.
                sc.stop()
                before = len(target.snapshot())
                d.post_alerts([alert("S1", "gone1"), alert("S2", "web", "c2")])
                target.wait_for(before + 2, 10)
                time.sleep(0.2)
                ops = names(target, "/ops")
                tap.ok("S1" in ops and "S2" in ops, "sidecar stopped: alerts go global", ops)
                tap.eq(d.wait_metric("notifyd_tenant_sidecar_errors_total", 4), 4,
                       "both failed lookups counted")
                tap.ok("tenant sidecar lookup failed" in d.stderr_text() + d.stdout_text(),
                       "the failure is logged")
                d.signal(signal.SIGTERM)
                tap.eq(d.wait_exit(20), 0, "clean exit (no sanitizer report)",
                       d.stderr_text()[-2000:])
    finally:
        sc.release.set()
        try:
            sc.stop()
        except Exception:
            pass

    # Shutdown while a batch is held for a hanging lookup: it is sent, not lost.
    sc = Sidecar({})
    sc.mode = "hang"
    try:
        with h.Target([200]) as target:
            cfg = h.config({"ops": h.webhook(target.url + "/ops")},
                           batch="max_wait = 50ms\n") + (
                "[routing]\ntenant_sidecar_url = %s\ntenant_sidecar_timeout = 60s\n" % sc.url)
            with h.Daemon(cfg) as d:
                d.start()
                d.post_alerts([alert("T1", "slow")])
                end = time.monotonic() + 5
                while sc.count() == 0 and time.monotonic() < end:
                    time.sleep(0.05)
                tap.eq(sc.count(), 1, "the lookup is out")
                time.sleep(0.2)
                tap.eq(names(target, "/ops"), [], "the batch is held meanwhile")
                d.signal(signal.SIGTERM)
                rc = d.wait_exit(20)
                tap.eq(rc, 0, "clean exit (no sanitizer report)", d.stderr_text()[-2000:])
                tap.eq(names(target, "/ops"), ["T1"], "at shutdown the held batch is sent")
    finally:
        sc.release.set()
        sc.stop()

    router_first(tap)

    bad = h.config({"r": "type = console\n"}) + "[routing]\ntenant_sidecar_url = ftp://x/\n"
    with h.Daemon(bad) as d:
        r = subprocess.run([h.NOTIFYD, "--check-config", d.config_path], capture_output=True,
                           text=True, timeout=20)
        tap.eq(r.returncode, 1, "--check-config refuses a non-http tenant_sidecar_url")
        tap.ok("tenant_sidecar_url" in r.stderr and "not an http" in r.stderr,
               "and names the key", r.stderr)
        line = bad.splitlines().index("tenant_sidecar_url = ftp://x/") + 1
        want = "notifyd.ini:%d: [routing] tenant_sidecar_url:" % line
        tap.ok(want in r.stderr, "with file and line: " + want, r.stderr)


if __name__ == "__main__":
    h.run_main(body, 80)
