#!/usr/bin/env python3
"""Backpressure does not flood the log: queue-full 503s are logged as one summary line per
second with their count ("refused N requests with 503 (queue full) in the last 1.0 s"), and
the window still open at shutdown is logged before exit. The counts of the lines add up to the
503s the client saw."""

import http.client
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

FLOOD_S = 2.2
LINE_RX = re.compile(r'msg="refused (\d+) requests? with 503 \(queue full\) in the last '
                     r'(\d+\.\d) s" requests=(\d+) alerts=(\d+)')


def alerts(*names):
    return [{"labels": {"alertname": "R", "instance": n}} for n in names]


def lines_about_503(d):
    """Lines whose text after the timestamp mentions 503 or a full queue."""
    with d._cond:
        lines = list(d.stderr_lines)
    return [ln for ln in lines
            if re.search(r"\b503\b|queue full", re.sub(r"^ts=\S+ ", "", ln))]


def body(tap):
    with h.Target([200]) as target:
        cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                       server="shutdown_timeout = 5s\n",
                       queue="max_alerts = 1\n",
                       batch="max_size = 100\nmax_wait = 60s\n")
        with h.Daemon(cfg) as d:
            d.start()
            r = d.post_alerts(alerts("held"))
            tap.eq(r.status, 200, "the one alert that fits is accepted (max_alerts = 1)")

            # One keep-alive connection, requests as fast as the daemon answers them.
            payload = h.go_json(alerts("x1", "x2")).encode()
            with d._cond:
                nlines_start = len(d.stderr_lines)
            conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
            refused = other = 0
            t0 = time.monotonic()
            while time.monotonic() - t0 < FLOOD_S:
                conn.request("POST", "/api/v2/alerts", body=payload,
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                if resp.status == 503:
                    refused += 1
                else:
                    other += 1
            conn.close()
            flood_s = time.monotonic() - t0
            tap.eq(other, 0, "every request of the flood was refused with 503")
            tap.ok(refused >= 50, "the flood made many 503s (%d in %.1f s)" % (refused, flood_s))

            time.sleep(0.2)  # the reader thread catches up
            with d._cond:
                flood_lines = d.stderr_lines[nlines_start:]
            tap.ok(len(flood_lines) <= int(flood_s) + 2,
                   "the whole log (debug level) grew by %d lines during the flood, not with "
                   "the load" % len(flood_lines), "\n".join(flood_lines[:10]))
            before = [ln for ln in lines_about_503(d) if LINE_RX.search(ln)]
            tap.ok(len(before) >= 1,
                   "a summary line is logged while the daemon runs (not only at exit)",
                   "\n".join(lines_about_503(d)[-5:]))

            d.signal(signal.SIGTERM)
            rc = d.wait_exit(15)
            tap.eq(rc, 0, "exit code 0 after SIGTERM", d.stderr_text())

            about = lines_about_503(d)
            matched = [LINE_RX.search(ln) for ln in about]
            tap.eq([ln for ln, m in zip(about, matched) if not m], [],
                   "every log line about 503s is a summary line")
            # One line per window of one second, plus the window open at shutdown.
            bound = int(flood_s) + 2
            tap.ok(1 <= len(about) <= bound,
                   "%d summary lines for %d 503s in %.1f s (at most %d)"
                   % (len(about), refused, flood_s, bound), "\n".join(about[:20]))
            got = [m for m in matched if m]
            tap.eq(sum(int(m.group(3)) for m in got), refused,
                   "the counts of the lines add up to the 503s the client saw")
            tap.ok(all(m.group(1) == m.group(3) for m in got),
                   "each line's message and requests= field agree")
            tap.eq(sum(int(m.group(4)) for m in got), 2 * refused,
                   "alerts= adds up to the alerts of the refused requests (2 each)")
            tap.ok(all(float(m.group(2)) <= 1.5 for m in got),
                   "each line covers at most about one second",
                   [m.group(2) for m in got])


if __name__ == "__main__":
    h.run_main(body, 60)
