#!/usr/bin/env python3
"""Hostile clients: notifyd runs under `ulimit -n 256` (set in the child before exec) and
400 clients each send part of a request and stall. [server] max_connections (1024 by
default) is lowered to fit the fd limit; at the limit each new connection closes the oldest
one, so /-/healthy and /-/ready still answer at once, accept() never fails in a loop, and
the log stays short."""

import os
import resource
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

NOFILE = 256
SLOW = 400
# A healthy notifyd answers in milliseconds; this only has to separate "answered" from
# "waited for a slow connection's read_timeout" (30 s).
BOUND_S = 3.0


class LimitedDaemon(h.Daemon):
    """h.Daemon whose process gets RLIMIT_NOFILE = NOFILE (soft and hard) before exec."""

    def start(self, *args, **kwargs):
        real = subprocess.Popen

        def popen(*pargs, **pkw):
            pkw["preexec_fn"] = lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                           (NOFILE, NOFILE))
            return real(*pargs, **pkw)

        h.subprocess.Popen = popen
        try:
            return super().start(*args, **kwargs)
        finally:
            h.subprocess.Popen = real


def timed_get(port, path):
    t0 = time.monotonic()
    try:
        r = h.http_request("127.0.0.1", port, "GET", path, timeout=10)
        return r.status, time.monotonic() - t0
    except OSError as e:
        return repr(e), time.monotonic() - t0


def body(tap):
    need = SLOW + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    cfg = h.config({"c": "type = console\n"}, server="read_timeout = 30s\n")
    socks = []
    with LimitedDaemon(cfg) as d:
        d.start()
        lowered = [ln for ln in d.stderr_lines if "max_connections lowered" in ln]
        tap.eq(len(lowered), 1, "one warning: max_connections lowered to the fd limit",
               d.stderr_text())
        tap.ok(lowered and "effective=192" in lowered[0],
               "256 fds: 192 connections (a quarter kept for the rest)", lowered)
        try:
            for i in range(SLOW):
                s = socket.create_connection(("127.0.0.1", d.port), timeout=5)
                s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Slow: %d" % i)
                socks.append(s)
            tap.eq(len(socks), SLOW, "%d slow clients connected, each stalled in its headers"
                   % SLOW)
            # Let the daemon accept (and evict) the whole flood.
            time.sleep(1.0)
            st, took = timed_get(d.port, "/-/healthy")
            tap.eq(st, 200, "/-/healthy answers during the flood")
            tap.ok(took < BOUND_S, "within %.0f s (%.3f s)" % (BOUND_S, took))
            st, took = timed_get(d.port, "/-/ready")
            tap.eq(st, 200, "/-/ready answers during the flood")
            tap.ok(took < BOUND_S, "within %.0f s (%.3f s)" % (BOUND_S, took))
            m = d.metrics()
            evicted = h.metric(m, "notifyd_http_connections_evicted_total")
            tap.ok(evicted is not None and evicted >= SLOW - 192,
                   "evictions counted (%s, at least %d)" % (evicted, SLOW - 192))
            tap.eq(h.metric(m, "notifyd_http_accept_errors_total"), 0.0,
                   "accept() never failed: the limit kept fds free")
            tap.eq(d.proc.poll(), None, "notifyd still running")
        finally:
            for s in socks:
                s.close()
        warn = [ln for ln in d.stderr_lines
                if "accept failed" in ln or "connection limit reached" in ln]
        tap.ok(1 <= len(warn) <= 3, "log lines about the flood: %d (rate-limited)" % len(warn),
               "\n".join(warn[:10]))
        tap.ok(len(d.stderr_lines) < 40, "whole log short: %d lines" % len(d.stderr_lines),
               "\n".join(d.stderr_lines[-20:]))


if __name__ == "__main__":
    h.run_main(body, 90)
