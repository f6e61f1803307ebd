#!/usr/bin/env python3
"""overflow = spill (docs/delivery.md, docs/wal.md "Spill").

Two webhook receivers: "up", a recording target that answers 200, and "slow", with
overflow = spill and a small max_backlog, whose port nobody listens on at first (every
attempt is refused and retried); a recorder starts on that port later ("recovers").

1. 20,000 alerts in requests of 200 while slow is down: every request is answered 200
   (never 503, although [queue] max_alerts is 10,000: slow keeps only max_backlog alerts
   in memory), up gets every alert exactly once, the queue gauge stays bounded, slow's
   spilled gauge grows. Then slow recovers: it gets every alert exactly once (no crash),
   the spilled alerts in order of acceptance within each group where they were read back
   in one go; the gauges return to 0, every spilled alert is counted read back, the log
   deletes its segments again.
2. kill -9 while slow has spilled alerts, then a restart with the same wal_dir and slow
   listening: slow gets every alert (at least once) after the restart, up none again.
3. SIGTERM while slow is down: what its in-memory backlog gives up at the shutdown
   deadline stays owed like the spilled alerts; after a restart slow gets all of them.
4. Reload: slow changed (same name) keeps what it owes; slow removed gives it up (counted
   reason="receiver_removed", logged), and the log then deletes its segments.
"""

import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PER_REQUEST = 200
GROUPS = 4


class PortTarget:
    """A recording webhook target on a given port (the one slow was configured with)."""

    def __init__(self, port):
        self.bodies = []
        self.lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with target.lock:
                    target.bodies.append(body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

            def handle_error(self, request, client_address):
                pass

        self.server = Server(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def ids(self):
        with self.lock:
            bodies = list(self.bodies)
        return ids_of(bodies)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def ids_of(bodies):
    ids = []
    for b in bodies:
        try:
            ids += [a["labels"]["id"] for a in json.loads(b)["alerts"]]
        except (ValueError, KeyError, TypeError):
            ids.append("<unparsable body %r>" % b[:100])
    return ids


def payload(start, n):
    return json.dumps([{"labels": {"alertname": "Spill%d" % (i % GROUPS), "id": "a%06d" % i},
                        "annotations": {"summary": "spill test"}}
                       for i in range(start, start + n)]).encode()


def wait_ids(get, n, timeout):
    end = time.monotonic() + timeout
    while True:
        ids = get()
        if len(set(ids)) >= n or time.monotonic() >= end:
            return ids
        time.sleep(0.2)


def config(up, slow_port, wal_dir, max_backlog):
    return h.config(
        {"up": h.webhook(up.url + "/up", "timeout = 10s\n"),
         "slow": h.webhook("http://127.0.0.1:%d/slow" % slow_port,
                           "max_in_flight = 2\nretry_initial = 50ms\nretry_max = 300ms\n"
                           "retry_max_attempts = 1000\nretry_max_age = 1h\n"
                           "max_backlog = %d\noverflow = spill\n" % max_backlog)},
        server="shutdown_timeout = 1s\nmax_body_size = 16MiB\n",
        queue="max_alerts = 10000\nwal_dir = %s\nfsync = batch\nwal_segment_size = 1MiB\n"
              % wal_dir,
        batch="max_size = %d\nmax_wait = 10m\ngroup_labels = alertname\n" % PER_REQUEST)


def sample(d):
    m = d.metrics()
    return (h.metric(m, "notifyd_queue_alerts") or 0,
            h.metric(m, "notifyd_receiver_backlog_alerts", receiver="up") or 0,
            h.metric(m, "notifyd_receiver_backlog_alerts", receiver="slow") or 0,
            h.metric(m, "notifyd_receiver_spilled_alerts", receiver="slow") or 0)


def post_all(tap, d, total):
    statuses = {}
    samples = []
    for k in range(total // PER_REQUEST):
        r = d.request("POST", "/api/v2/alerts", payload(k * PER_REQUEST, PER_REQUEST),
                      headers={"Content-Type": "application/json"}, timeout=30)
        statuses[r.status] = statuses.get(r.status, 0) + 1
        if r.status != 200 and statuses[r.status] == 1:
            tap.diag("request %d: %r" % (k, r))
        if k % 5 == 4:
            s = sample(d)
            samples.append(s)
            # The recording target is slower than notifyd: let it catch up, so that only
            # slow could fill the queue (it would, without the spill).
            end = time.monotonic() + 60
            while s[1] > 3000 and time.monotonic() < end:
                time.sleep(0.05)
                s = sample(d)
    return statuses, samples


def post_accepted(tap, d, total, what):
    """post_all, and every request answered 200."""
    statuses, _ = post_all(tap, d, total)
    tap.eq(statuses, {200: total // PER_REQUEST}, "%s: %d alerts accepted" % (what, total))


def up_ids(up, total):
    """The alert ids the healthy receiver got, once it has total (or after 30 s)."""
    return wait_ids(lambda: ids_of([r.body for r in up.snapshot()]), total, 30)


def inversions_in_groups(ids):
    """Pairs delivered out of acceptance order within a group, counted."""
    last = {}
    bad = 0
    for i in ids:
        n = int(i[1:])
        g = n % GROUPS
        if g in last and n < last[g]:
            bad += 1
        last[g] = max(n, last.get(g, -1))
    return bad


def case_spill(tap, wal_dir):
    total = 20000
    slow_port = h.free_port()
    with h.Target([200]) as up:
        with h.Daemon(config(up, slow_port, wal_dir, 500)) as d:
            d.start()
            t0 = time.monotonic()
            statuses, samples = post_all(tap, d, total)
            took = time.monotonic() - t0
            tap.eq(statuses, {200: total // PER_REQUEST},
                   "spill: every request answered 200, never 503 (%.1f s)" % took)
            qmax = max(s[0] for s in samples)
            slow_max = max(s[2] for s in samples)
            tap.diag("queue gauge at most %d, slow's backlog at most %d" % (qmax, slow_max))
            tap.ok(slow_max <= 500 + PER_REQUEST,
                   "slow's backlog stays near max_backlog 500 (at most %d)" % slow_max)
            over = [s for s in samples if s[0] > s[1] + s[2] + 2 * PER_REQUEST]
            tap.eq(over, [], "the queue holds what the two backlogs hold (plus an open batch)")
            tap.ok(qmax < 10000, "the queue stays below max_alerts (at most %d)" % qmax)

            ids = wait_ids(lambda: ids_of([r.body for r in up.snapshot()]), total, 60)
            tap.eq(len(ids), total, "up: 20,000 alerts received")
            tap.eq(len(set(ids)), total, "up: each exactly once")

            m = d.metrics()
            spilled = h.metric(m, "notifyd_receiver_spilled_alerts", receiver="slow")
            tap.ok(spilled is not None and spilled >= total - 500 - 2 * PER_REQUEST,
                   "slow: the overflow is spilled (%s alerts owed on disk)" % spilled)
            tap.eq(h.metric(m, "notifyd_receiver_backlog_alerts", receiver="slow"),
                   h.metric(m, "notifyd_queue_alerts"),
                   "queue gauge = slow's in-memory backlog once up is done")
            segs = h.metric(m, "notifyd_wal_segments")
            tap.ok(segs is not None and segs >= 2,
                   "the log keeps the segments of spilled alerts (%s)" % segs)
            lines = [ln for ln in d.stderr_lines if "alerts spilled to the write-ahead log" in ln]
            tap.ok(1 <= len(lines) <= took + 3,
                   "spilling logged as a summary: %d lines in %.1f s" % (len(lines), took))

            slow = PortTarget(slow_port)
            try:
                t1 = time.monotonic()
                sids = wait_ids(slow.ids, total, 90)
                tap.diag("slow recovered: %d alerts in %.1f s"
                         % (len(sids), time.monotonic() - t1))
                tap.eq(sorted(set(sids)), sorted(set(ids)), "slow: every alert, after recovering")
                tap.eq(len(sids), total, "slow: each exactly once (no crash)")
                tap.diag("slow: %d deliveries out of acceptance order within a group "
                         "(retries of the in-memory backlog overlap the read-back)"
                         % inversions_in_groups(sids))
                # The alerts read back after slow's in-memory backlog was delivered
                # come in acceptance order within each group.
                tail = sids[-(total // 2):]
                tap.eq(inversions_in_groups(tail), 0,
                       "slow: the last half (read back) in acceptance order per group")
                m = d.metrics()
                tap.eq(d.wait_metric("notifyd_receiver_spilled_alerts", 0.0, timeout=10,
                                     receiver="slow"), 0.0, "slow: nothing owed on disk any more")
                m = d.metrics()
                st = h.metric(m, "notifyd_receiver_spilled_alerts_total", receiver="slow")
                rb = h.metric(m, "notifyd_receiver_readback_alerts_total", receiver="slow")
                tap.ok(st is not None and st == rb and st >= spilled,
                       "every spilled alert read back (%s spilled, %s read back)" % (st, rb))
                tap.eq(h.metric(m, "notifyd_receiver_spill_given_up_alerts_total",
                                receiver="slow", reason="spill_full"), 0.0, "nothing given up")
                tap.eq(d.wait_metric("notifyd_queue_alerts", 0.0, timeout=10), 0.0,
                       "queue empty at the end")
                tap.eq(d.wait_metric("notifyd_wal_segments", 1.0, timeout=10), 1.0,
                       "the log deletes the segments once slow is done")
            finally:
                slow.close()


def case_kill(tap, wal_dir):
    total = 3000
    slow_port = h.free_port()
    with h.Target([200]) as up:
        cfg = config(up, slow_port, wal_dir, 200)
        with h.Daemon(cfg) as d:
            d.start()
            post_accepted(tap, d, total, "kill")
            ids = up_ids(up, total)
            tap.eq(len(set(ids)), total, "kill: up got them all before the kill")
            d.wait_metric("notifyd_notifications_delivered_total",
                          float(total // PER_REQUEST * GROUPS), timeout=10, receiver="up",
                          type="webhook")
            spilled = d.wait_metric("notifyd_receiver_spilled_alerts", 2800.0, timeout=10,
                                    receiver="slow")
            tap.ok(spilled is not None and spilled >= 2000,
                   "kill: slow has %s alerts spilled" % spilled)
            time.sleep(0.5)  # the DONE records of up reach the file (fsync_interval ticks)
            d.kill()
        before = len(up.snapshot())
        slow = PortTarget(slow_port)
        try:
            with h.Daemon(cfg) as d2:
                d2.start()
                line = next((ln for ln in d2.stderr_lines if "write-ahead log open" in ln), "")
                m = re.search(r"replayed_alerts=(\d+)", line)
                tap.ok(m and int(m.group(1)) == total,
                       "restart: the %d alerts slow owed are replayed (%s)" % (total, line))
                sids = wait_ids(slow.ids, total, 60)
                tap.eq(sorted(set(sids)), sorted(set(ids)),
                       "restart: slow gets every alert it owed")
                tap.ok(len(sids) >= total, "restart: at least once (%d deliveries)" % len(sids))
                tap.eq(d2.wait_metric("notifyd_receiver_spilled_alerts", 0.0, timeout=10,
                                      receiver="slow"), 0.0, "restart: nothing owed at the end")
                time.sleep(0.3)
                tap.eq(len(up.snapshot()) - before, 0, "restart: up, done before, gets nothing")
        finally:
            slow.close()


def case_sigterm(tap, wal_dir):
    total = 1000
    slow_port = h.free_port()
    with h.Target([200]) as up:
        cfg = config(up, slow_port, wal_dir, 200)
        with h.Daemon(cfg) as d:
            d.start()
            post_accepted(tap, d, total, "sigterm")
            ids = up_ids(up, total)
            spilled = d.wait_metric("notifyd_receiver_spilled_alerts", 800.0, timeout=10,
                                    receiver="slow")
            tap.eq(spilled, 800.0, "sigterm: 200 in slow's backlog, 800 spilled")
            d.signal(signal.SIGTERM)
            tap.eq(d.wait_exit(20), 0, "sigterm: exits 0 after shutdown_timeout")
        slow = PortTarget(slow_port)
        try:
            with h.Daemon(cfg) as d2:
                d2.start()
                sids = wait_ids(slow.ids, total, 30)
                tap.eq(sorted(set(sids)), sorted(set(ids)),
                       "sigterm: after the restart slow gets all 1000, also the 200 its "
                       "backlog gave up at the shutdown deadline")
        finally:
            slow.close()


def case_reload(tap, wal_dir):
    total = 2000
    slow_port = h.free_port()
    with h.Target([200]) as up:
        with h.Daemon(config(up, slow_port, wal_dir, 200)) as d:
            d.start()
            post_accepted(tap, d, total, "reload")
            spilled = d.wait_metric("notifyd_receiver_spilled_alerts", 1800.0, timeout=10,
                                    receiver="slow")
            tap.eq(spilled, 1800.0, "reload: slow owes 1800 on disk")
            # slow changed (same name): it keeps what it owes.
            with open(d.config_path, "w") as f:
                f.write(config(up, slow_port, wal_dir, 300))
            r = d.request("POST", "/-/reload")
            tap.eq(r.status, 200, "reload with slow changed: accepted")
            time.sleep(0.3)
            # The new slow starts with an empty backlog: it reads back what fits.
            m = d.metrics()
            owed = h.metric(m, "notifyd_receiver_spilled_alerts", receiver="slow")
            rb = h.metric(m, "notifyd_receiver_readback_alerts_total", receiver="slow")
            tap.ok(owed is not None and rb is not None and owed + rb == 1800 and owed >= 1500,
                   "slow changed: keeps what it owes (%s owed, %s read back into the new "
                   "receiver)" % (owed, rb))
            tap.eq(h.metric(m, "notifyd_receiver_spill_given_up_alerts_total", receiver="slow",
                            reason="receiver_removed"), 0.0, "slow changed: nothing given up")
            # slow removed: what it owes on disk is given up, counted and logged.
            with open(d.config_path, "w") as f:
                f.write(h.config({"up": h.webhook(up.url + "/up", "timeout = 10s\n")},
                                 server="shutdown_timeout = 1s\nmax_body_size = 16MiB\n",
                                 queue="max_alerts = 10000\nwal_dir = %s\nfsync = batch\n"
                                       "wal_segment_size = 1MiB\n" % wal_dir,
                                 batch="max_size = %d\nmax_wait = 10m\n"
                                       "group_labels = alertname\n" % PER_REQUEST))
            r = d.request("POST", "/-/reload")
            tap.eq(r.status, 200, "reload with slow removed: accepted")
            left = d.wait_metric("notifyd_receiver_spilled_alerts", 0.0, timeout=10,
                                 receiver="slow")
            tap.eq(left, 0.0, "slow removed: nothing owed")
            m = d.metrics()
            gone = h.metric(m, "notifyd_receiver_spill_given_up_alerts_total", receiver="slow",
                            reason="receiver_removed")
            rb = h.metric(m, "notifyd_receiver_readback_alerts_total", receiver="slow")
            tap.ok(gone is not None and rb is not None and gone + rb == 1800 and gone >= 1500,
                   "slow removed: what it owed is given up, counted (%s; %s were read back)"
                   % (gone, rb))
            tap.ok(any("spilled alerts given up: receiver removed" in ln
                       and "alerts=%d" % (gone or 0) in ln for ln in d.stderr_lines),
                   "slow removed: logged with the count")
            # Its in-memory backlog is given up at shutdown_timeout (retired): then the log
            # holds nothing and deletes its old segments.
            tap.eq(d.wait_metric("notifyd_queue_alerts", 0.0, timeout=15), 0.0,
                   "slow removed: the queue empties")
            tap.eq(d.wait_metric("notifyd_wal_segments", 1.0, timeout=10), 1.0,
                   "slow removed: the log deletes the old segments")


def sidecar_config(up, port, wal_dir, sc):
    return h.config({
        "ops": h.webhook(up.url + "/ops"),
        "alice": h.webhook("http://127.0.0.1:%d/alice" % port,
                           "tenant = alice\nretry_initial = 50ms\nretry_max = 200ms\n"
                           "retry_max_attempts = 1000\nretry_max_age = 1h\n"
                           "max_backlog = 5\noverflow = spill\n"),
    }, queue="wal_dir = %s\nfsync = batch\n" % wal_dir,
        batch="max_wait = 50ms\ngroup_labels = alertname, id\n") + (
        "[routing]\ntenant_sidecar_url = %s\ntenant_cache_ttl = 1s\n"
        "tenant_sidecar_timeout = 1s\n[tenant.alice]\n" % sc.url)


def spill_for_alice(tap, d, what):
    """50 alerts of namespace web (alice's by the sidecar), alice down: 45 spill."""
    alerts = [{"labels": {"alertname": "W", "id": "s%d" % i, "namespace": "web",
                          "rule_level": "namespace", "cluster": "c1"}} for i in range(50)]
    tap.eq(d.post_alerts(alerts).status, 200, "%s: 50 alerts accepted" % what)
    spilled = d.wait_metric("notifyd_receiver_spilled_alerts", 45.0, timeout=10,
                            receiver="alice")
    tap.eq(spilled, 45.0, "%s: 5 in alice's backlog, 45 spilled" % what)


def case_sidecar(tap, wal_dir):
    """A tenant receiver routed by the tenant sidecar: its spilled alerts are read back for it
    even after the cache entry that routed them has expired (read-back does not re-route);
    after a kill -9, the replay asks the sidecar before routing (the cache starts empty)."""
    from test_sidecar import Sidecar
    sc = Sidecar({"web": ["alice"]})
    port = h.free_port()
    try:
        with h.Target([200]) as up:
            with h.Daemon(sidecar_config(up, port, wal_dir + "a", sc)) as d:
                d.start()
                spill_for_alice(tap, d, "sidecar")
                time.sleep(1.5)  # the cached answer that routed them expires (ttl 1s)
                alice = PortTarget(port)
                try:
                    got = wait_ids(alice.ids, 50, 20)
                    tap.eq(len(set(got)), 50, "sidecar: alice gets all 50 after recovery")
                    tap.eq(sc.count(), 1, "sidecar: one lookup, at accept time")
                finally:
                    alice.close()
            cfg = sidecar_config(up, port, wal_dir + "b", sc)
            with h.Daemon(cfg) as d:
                d.start()
                spill_for_alice(tap, d, "sidecar kill")
                d.kill()
            alice = PortTarget(port)
            try:
                with h.Daemon(cfg) as d2:
                    d2.start()
                    got = wait_ids(alice.ids, 50, 20)
                    tap.eq(len(set(got)), 50,
                           "sidecar kill: after the restart alice gets all 50 (replay asked "
                           "the sidecar first)")
                    tap.eq(sc.count(), 3, "sidecar kill: one lookup per run")
            finally:
                alice.close()
    finally:
        sc.stop()


def body(tap):
    base = tempfile.mkdtemp(prefix="notifyd-spill-")
    try:
        case_spill(tap, os.path.join(base, "wal1"))
        case_kill(tap, os.path.join(base, "wal2"))
        case_sigterm(tap, os.path.join(base, "wal3"))
        case_reload(tap, os.path.join(base, "wal4"))
        case_sidecar(tap, os.path.join(base, "wal5"))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    h.run_main(body, 170)
