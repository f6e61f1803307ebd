#!/usr/bin/env python3
"""Graceful shutdown (docs/delivery.md "Shutdown", docs/api.md status codes).

SIGTERM (and SIGINT) with four groups in an open batch (max_wait = 60s) and a receiver that
answers each request after 500ms, one at a time (max_in_flight = 1): the batch is closed and
every group is delivered exactly once before exit, exit code 0, "drained, exiting" logged.
During the drain a request gets the documented answer: 503, {"Status":503,"Message":"shutting
down"}, Connection: close (both a request sent whole after the signal on a connection opened
before it, and one whose body completes after the signal); nothing of it is delivered.
A receiver that never answers: the drain ends at shutdown_timeout (1s) by the engine's
deadline (the in-flight delivery is logged as aborted; the daemon's backstop, 5s later, is not
what ends it), still exit code 0."""

import http.client
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

GROUPS = ["G0", "G1", "G2", "G3"]
LATE = b'[{"labels":{"alertname":"Late"}}]'


def post_head(n):
    return (b"POST /api/v2/alerts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % n)


def check_drain_answer(tap, what, sock, data, todo=None):
    """The answer docs/api.md documents for a request arriving while the daemon shuts down.
    todo: the daemon's known deviation in message and headers (a TAP TODO: once the daemon
    is right, meson reports an unexpected pass, which fails the test until todo is removed)."""
    try:
        sock.sendall(data)
        resp, closed = h.read_response(sock)
    except (OSError, http.client.HTTPException) as e:
        tap.ok(False, "%s: answered" % what, repr(e))
        return
    tap.ok(resp.status == 503, "%s: 503" % what, resp)
    try:
        j = resp.json()
    except ValueError:
        j = None
    tap.ok(j == {"Status": 503, "Message": "shutting down"},
           "%s: body {\"Status\":503,\"Message\":\"shutting down\"}" % what, resp, todo=todo)
    tap.ok(resp.headers.get("connection", "").lower() == "close",
           "%s: Connection: close" % what, resp.headers, todo=todo)
    tap.ok(closed, "%s: the server closed the connection after the answer" % what, todo=todo)


def run(tap, sig, signame):
    with h.Target([{"hang": 0.5}]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook",
                                          "timeout = 5s\nmax_in_flight = 1\n")},
                       server="shutdown_timeout = 10s\n",
                       batch="max_size = 100\nmax_wait = 60s\n")
        with h.Daemon(cfg) as d:
            d.start()
            payload = [{"labels": {"alertname": g, "instance": "i%d" % i}}
                       for i, g in enumerate(GROUPS)]
            tap.eq(d.post_alerts(payload).status, 200, "%s: alerts accepted" % signame)
            m = d.metrics()
            tap.eq((h.metric(m, "notifyd_alerts_accepted_total"),
                    h.metric(m, "notifyd_queue_alerts")), (4.0, 4.0),
                   "%s: /metrics before the signal: 4 accepted, 4 held" % signame)
            tap.eq(len(target.snapshot()), 0, "%s: batch still open before the signal" % signame)

            # Two connections opened before the signal: one idle, one with its headers and
            # part of its body sent.
            idle = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            part = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            part.sendall(post_head(len(LATE)) + LATE[:5])
            time.sleep(0.2)
            d.signal(sig)
            # The drain takes 4 x 500ms: these requests arrive and are answered while it runs
            # (the check that the server closes the connection waits 500ms at most).
            time.sleep(0.3)
            try:
                check_drain_answer(tap, "%s: request sent after the signal" % signame,
                                   idle, post_head(len(LATE)) + LATE)
                check_drain_answer(tap, "%s: body completed after the signal" % signame,
                                   part, LATE[5:])
            finally:
                idle.close()
                part.close()
            try:
                late = d.post_alerts([{"labels": {"alertname": "Late"}}], timeout=5).status
            except OSError as e:
                late = "refused (%s)" % e.__class__.__name__
            tap.ok(late != 200, "%s: a new connection during the drain is not accepted (%s)"
                   % (signame, late))

            rc = d.wait_exit(15)
            t_exit = time.monotonic()
            tap.eq(rc, 0, "%s: exit code 0" % signame, d.stderr_text())
            reqs = target.snapshot()
            got = sorted(a["labels"]["alertname"] for q in reqs for a in q.json()["alerts"])
            tap.eq(got, GROUPS, "%s: every queued group delivered exactly once, nothing late"
                   % signame, reqs)
            if reqs:
                # The last request arrived and the daemon stayed up for its 500ms answer.
                tap.ok(t_exit - reqs[-1].t >= 0.45,
                       "%s: exit waited for the last in-flight delivery (%.3fs)"
                       % (signame, t_exit - reqs[-1].t))
            log = d.stderr_text()
            tap.ok("drained, exiting" in log, "%s: logged \"drained, exiting\"" % signame, log)
            tap.ok("shutdown: " not in log and "did not finish in time" not in log,
                   "%s: nothing aborted" % signame, log)


def bounded(tap):
    """A target that never answers in time: the drain ends at shutdown_timeout."""
    with h.Target([{"hang": 20}]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook", "timeout = 30s\n")},
                       server="shutdown_timeout = 1s\n",
                       batch="max_size = 100\nmax_wait = 60s\n")
        with h.Daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts([{"labels": {"alertname": "Stuck"}}]).status, 200,
                   "shutdown_timeout: alert accepted")
            t0 = time.monotonic()
            d.signal(signal.SIGTERM)
            rc = d.wait_exit(15)
            took = time.monotonic() - t0
            tap.eq(len(target.snapshot()), 1, "shutdown_timeout: the delivery was attempted")
            tap.eq(rc, 0, "shutdown_timeout: exit code 0", d.stderr_text())
            # 1s + a margin for a loaded machine, below the backstop (timeout + 5s).
            tap.ok(0.9 <= took < 4, "shutdown_timeout = 1s bounds the drain (%.3fs)" % took)
            log = d.stderr_text()
            tap.ok("shutdown: aborted in flight" in log,
                   "shutdown_timeout: the in-flight delivery is logged as aborted", log)
            tap.ok("did not finish in time" not in log,
                   "shutdown_timeout: the engine's deadline ended the drain, not the backstop",
                   log)


def body(tap):
    run(tap, signal.SIGTERM, "SIGTERM")
    run(tap, signal.SIGINT, "SIGINT")
    bounded(tap)


if __name__ == "__main__":
    h.run_main(body, 60)
