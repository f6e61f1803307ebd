#!/usr/bin/env python3
"""The write-ahead log (docs/wal.md).

kill -9 under load: a loader posts continuously and records every alert whose request got a
200; receiver "down" answers 503 for the whole first run (nothing of it is delivered),
receiver "up" answers 200. Restarted with the same wal_dir and both receivers healthy: every
acknowledged alert reaches "down" at least once (fsync = always and batch: a process kill
loses nothing written, only a power cut can lose batch's last interval), while "up" gets back
only what it had not finished (replay for the receivers that still owe an alert).
A log whose last record is truncated, and one with a flipped byte, start cleanly: the segment
is cut at the last good record (one record per alert: only the last alert is lost), counted in notifyd_wal_corrupt_records_total, the alerts
before it are delivered. An injected write error (the NOTIFYD_TEST_WAL_FAIL test hook) gives
503s, nothing of those requests is delivered, and ingest recovers when writing works again.
Small segments are deleted once their alerts are delivered; a SIGTERM exits cleanly and the
next start replays nothing. A SIGTERM while a receiver is failing leaves what the shutdown
deadline gave up owed: the next start delivers it to that receiver alone."""

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

PER_REQUEST = 10


def cfg(wal_dir, fsync, down_url, up_url, extra_queue="", server="", history_url=None):
    receivers = {"down": h.webhook(down_url), "up": h.webhook(up_url)}
    if history_url:
        receivers["hist"] = h.webhook(history_url)
    return h.config(
        receivers,
        server=server,
        queue="wal_dir = %s\nfsync = %s\n%s" % (wal_dir, fsync, extra_queue),
        batch="max_wait = 20ms\n",
        delivery="retry_initial = 50ms\nretry_max = 200ms\nretry_max_attempts = 1000\n"
                 "retry_max_age = 1h\n") + (
                     "[history]\nreceiver = hist\n" if history_url else "")


def daemon(wal_dir, fsync, down, up, env=None, **kw):
    """A Daemon on cfg() with the two targets as receivers down and up."""
    return h.Daemon(cfg(wal_dir, fsync, "http://127.0.0.1:%d/" % down.port,
                        "http://127.0.0.1:%d/" % up.port, **kw), env=env)


def batch_of(start):
    return [{"labels": {"alertname": "Wal", "id": str(start + i)}} for i in range(PER_REQUEST)]


def ids_seen(target):
    seen = set()
    for r in target.snapshot():
        try:
            body = r.json()
        except ValueError:
            continue
        for a in body.get("alerts", []):
            i = a.get("labels", {}).get("id")
            if i is not None:
                seen.add(int(i))
    return seen


class Loader:
    """Posts batches of PER_REQUEST alerts back to back from two threads; keeps the ids
    of every alert whose request was answered 200."""

    def __init__(self, port):
        self.port = port
        self.acked = set()
        self.other = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.next = 0
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(2)]

    def run(self):
        while not self.stop.is_set():
            with self.lock:
                start = self.next
                self.next += PER_REQUEST
            try:
                r = h.http_request("127.0.0.1", self.port, "POST", "/api/v2/alerts",
                                   json.dumps(batch_of(start)).encode(), timeout=5)
            except OSError:
                return  # killed
            with self.lock:
                if r.status == 200:
                    self.acked.update(range(start, start + PER_REQUEST))
                else:
                    self.other += 1
            # Paced (~4,000 alerts/s from both threads): the restart replays them all, which
            # under ASan must still fit the start timeout.
            time.sleep(0.005)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)


def metric(d, name):
    return h.metric(d.metrics(), name)


def kill_under_load(tap, fsync):
    wal = tempfile.mkdtemp(prefix="notifyd-wal-")
    try:
        with h.Target([503]) as down, h.Target([200]) as up:
            d = daemon(wal, fsync, down, up)
            with d:
                d.start()
                with Loader(d.port) as ld:
                    time.sleep(2.0)
                    d.proc.send_signal(signal.SIGKILL)
                    d.proc.wait(timeout=10)
                acked = set(ld.acked)
            up_first = ids_seen(up)
            tap.ok(len(acked) >= 100, "%s: the loader got 200s before the kill (%d alerts)"
                   % (fsync, len(acked)))
            tap.ok(len(down.snapshot()) > 0, "%s: the receiver that was down was tried" % fsync)
        with h.Target([200]) as down, h.Target([200]) as up:
            d = daemon(wal, fsync, down, up)
            with d:
                d.start(timeout=60)
                line = [x for x in d.stderr_lines if "write-ahead log open" in x]
                tap.ok(line and "replayed_alerts=" in line[0], "%s: the log says how many "
                       "alerts were replayed" % fsync, d.stderr_text())
                end = time.monotonic() + 30
                while time.monotonic() < end and not acked <= ids_seen(down):
                    time.sleep(0.1)
                missing = acked - ids_seen(down)
                tap.ok(not missing, "%s: every acknowledged alert reached the receiver after "
                       "the restart (%d acked)" % (fsync, len(acked)),
                       "missing %d, e.g. %r" % (len(missing), sorted(missing)[:10]))
                time.sleep(0.5)
                again = ids_seen(up) & up_first
                tap.ok(len(again) <= len(acked) // 4,
                       "%s: the healthy receiver gets back only what it had not finished "
                       "(%d of %d again)" % (fsync, len(again), len(up_first)))
                replayed = metric(d, "notifyd_wal_replayed_alerts")
                tap.ok(replayed is not None and replayed >= len(acked) - len(up_first & acked),
                       "%s: notifyd_wal_replayed_alerts %r" % (fsync, replayed))
                # All delivered: the replayed segment is deleted once a newer one exists.
    finally:
        shutil.rmtree(wal, ignore_errors=True)


def seeded_log(tap, what):
    """A log with 5 requests of alerts nobody delivered, the daemon killed: its path."""
    wal = tempfile.mkdtemp(prefix="notifyd-wal-")
    with h.Target([503]) as down, h.Target([503]) as up:
        d = daemon(wal, "always", down, up)
        with d:
            d.start()
            for k in range(5):
                r = d.post_alerts(batch_of(k * PER_REQUEST))
                tap.eq(r.status, 200, "%s: request %d accepted" % (what, k))
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait(timeout=10)
    segs = sorted(f for f in os.listdir(wal) if f.endswith(".wal"))
    tap.eq(len(segs), 1, "%s: one segment" % what, segs)
    return wal, os.path.join(wal, segs[-1])


def restart_and_count(tap, wal, what, want_ids, corrupt):
    with h.Target([200]) as down, h.Target([200]) as up:
        d = daemon(wal, "batch", down, up)
        with d:
            d.start()
            tap.eq(metric(d, "notifyd_wal_corrupt_records_total"), corrupt,
                   "%s: notifyd_wal_corrupt_records_total" % what)
            tap.ok(any("cut at a bad record" in x for x in d.stderr_lines) == bool(corrupt),
                   "%s: the cut is logged" % what, d.stderr_text())
            end = time.monotonic() + 15
            while time.monotonic() < end and not want_ids <= ids_seen(down):
                time.sleep(0.1)
            time.sleep(0.3)
            tap.eq(ids_seen(down), want_ids, "%s: the alerts before the cut (all but the last) are delivered" % what)
            r = d.post_alerts(batch_of(1000))
            tap.eq(r.status, 200, "%s: ingest works" % what)


def corrupt_tail(tap):
    wal, seg = seeded_log(tap, "truncated")
    try:
        with open(seg, "r+b") as f:
            f.seek(0, 2)
            f.truncate(f.tell() - 3)
        restart_and_count(tap, wal, "truncated last record", set(range(49)), 1)
    finally:
        shutil.rmtree(wal, ignore_errors=True)
    wal, seg = seeded_log(tap, "flipped")
    try:
        with open(seg, "r+b") as f:
            data = bytearray(f.read())
            data[-20] ^= 0x40  # inside the last alert record's payload
            f.seek(0)
            f.write(data)
        restart_and_count(tap, wal, "flipped byte", set(range(49)), 1)
    finally:
        shutil.rmtree(wal, ignore_errors=True)
    wal, seg = seeded_log(tap, "intact")
    try:
        restart_and_count(tap, wal, "intact log", set(range(50)), 0)
    finally:
        shutil.rmtree(wal, ignore_errors=True)


def write_error(tap):
    wal = tempfile.mkdtemp(prefix="notifyd-wal-")
    flag = os.path.join(wal, "fail-writes")
    try:
        with h.Target([200]) as down, h.Target([200]) as up:
            d = daemon(wal, "batch", down, up, env={"NOTIFYD_TEST_WAL_FAIL": flag})
            with d:
                d.start()
                tap.eq(d.post_alerts(batch_of(0)).status, 200, "write error: 200 before")
                open(flag, "w").close()
                r = d.post_alerts(batch_of(100))
                tap.eq(r.status, 503, "write error: 503 while writes fail", r)
                tap.ok(b"write-ahead log" in r.body, "write error: the message says why", r)
                tap.eq(metric(d, "notifyd_wal_failed"), 1.0, "write error: notifyd_wal_failed 1")
                tap.ok((metric(d, "notifyd_wal_write_errors_total") or 0) >= 1,
                       "write error: counted")
                os.unlink(flag)
                r = d.post_alerts(batch_of(200))
                tap.eq(r.status, 200, "write error: 200 again once writes work", r)
                tap.eq(metric(d, "notifyd_wal_failed"), 0.0, "write error: notifyd_wal_failed 0")
                want = set(range(10)) | set(range(200, 210))
                end = time.monotonic() + 10
                while time.monotonic() < end and not want <= ids_seen(down):
                    time.sleep(0.1)
                time.sleep(0.3)
                tap.eq(ids_seen(down), want, "write error: the refused request is not delivered")
                tap.ok(d.proc.poll() is None, "write error: the daemon is still running")
    finally:
        shutil.rmtree(wal, ignore_errors=True)


def rotation(tap):
    wal = tempfile.mkdtemp(prefix="notifyd-wal-")
    try:
        with h.Target([200]) as down, h.Target([200]) as up:
            d = daemon(wal, "batch", down, up, extra_queue="wal_segment_size = 64KiB\n")
            with d:
                d.start()
                for k in range(60):
                    tap_ok = d.post_alerts(batch_of(k * PER_REQUEST)).status == 200
                    if not tap_ok:
                        break
                tap.ok(tap_ok, "rotation: 600 alerts accepted")
                end = time.monotonic() + 15
                while time.monotonic() < end and len(ids_seen(down)) < 600:
                    time.sleep(0.1)
                # The timer writes the last completions; one more request rotates nothing.
                deleted = d.wait_metric("notifyd_wal_segments_deleted_total", None, timeout=1)
                tap.ok(deleted is not None and deleted >= 1,
                       "rotation: segments deleted once delivered (%r)" % deleted)
                segs = [f for f in os.listdir(wal) if f.endswith(".wal")]
                tap.ok(len(segs) <= 2, "rotation: at most two segments left", segs)
                tap.eq(metric(d, "notifyd_wal_segments"), float(len(segs)),
                       "rotation: notifyd_wal_segments matches the directory")
                d.signal(signal.SIGTERM)
                rc = d.wait_exit(20)
                tap.eq(rc, 0, "SIGTERM with a log: exit 0", d.stderr_text())
                tap.ok(not any("Sanitizer" in x for x in d.stderr_lines),
                       "SIGTERM with a log: no sanitizer report", d.stderr_text())
        # Everything was delivered: the restart replays nothing.
        with h.Target([200]) as down, h.Target([200]) as up:
            d = daemon(wal, "batch", down, up)
            with d:
                d.start()
                tap.eq(metric(d, "notifyd_wal_replayed_alerts"), 0.0,
                       "after a clean stop with everything delivered: nothing replayed")
                tap.eq(metric(d, "notifyd_wal_segments"), 1.0, "and one (fresh) segment")
    finally:
        shutil.rmtree(wal, ignore_errors=True)


def sigterm_owed(tap):
    """A SIGTERM while "down" is failing: what the shutdown deadline gives up stays owed (no
    DONE record) and the next start delivers it to "down" alone, as after a crash; that
    start writes the DONE records, so a third start replays nothing. A [history] receiver
    holds a reference to each finished notification (the log mutes the DONE all the same)."""
    wal = tempfile.mkdtemp(prefix="notifyd-wal-")
    want = set(range(2 * PER_REQUEST))
    try:
        with h.Target([503]) as down, h.Target([200]) as up, h.Target([200]) as hist:
            d = daemon(wal, "batch", down, up, server="shutdown_timeout = 1s\n",
                       history_url="http://127.0.0.1:%d/" % hist.port)
            with d:
                d.start()
                for k in range(2):
                    r = d.post_alerts(batch_of(k * PER_REQUEST))
                    tap.eq(r.status, 200, "sigterm owed: request %d accepted" % k, r)
                got = h.wait_until(lambda: ids_seen(up), lambda s: s == want, 10)
                tap.eq(got, want, "sigterm owed: the healthy receiver got everything")
                h.wait_until(lambda: len(down.snapshot()), lambda n: n > 0, 10)
                d.signal(signal.SIGTERM)
                tap.eq(d.wait_exit(20), 0, "sigterm owed: exit 0", d.stderr_text())
                tap.ok(d.count_log(lambda x: "shutdown: " in x and "down" in x) >= 1,
                       "sigterm owed: the deadline's give-up is logged", d.stderr_text())
        with h.Target([200]) as down, h.Target([200]) as up:
            d = daemon(wal, "batch", down, up)
            with d:
                d.start()
                tap.eq(metric(d, "notifyd_wal_replayed_alerts"), float(len(want)),
                       "sigterm owed: the restart replays the alerts down still owes")
                got = h.wait_until(lambda: ids_seen(down), lambda s: want <= s, 15)
                tap.eq(got, want, "sigterm owed: down gets them after the restart")
                time.sleep(0.3)
                tap.eq(ids_seen(up), set(), "sigterm owed: up, done before the stop, gets none")
                d.signal(signal.SIGTERM)
                tap.eq(d.wait_exit(20), 0, "sigterm owed: second stop exits 0", d.stderr_text())
        with h.Target([200]) as down, h.Target([200]) as up:
            d = daemon(wal, "batch", down, up)
            with d:
                d.start()
                tap.eq(metric(d, "notifyd_wal_replayed_alerts"), 0.0,
                       "sigterm owed: delivered after the restart, so the third start replays "
                       "nothing")
    finally:
        shutil.rmtree(wal, ignore_errors=True)


def body(tap):
    kill_under_load(tap, "always")
    kill_under_load(tap, "batch")
    corrupt_tail(tap)
    write_error(tap)
    rotation(tap)
    sigterm_owed(tap)


if __name__ == "__main__":
    h.run_main(body, 170)
