#!/usr/bin/env python3
"""Command line: --version, --help, --check-config (exit 0 on a good file; exit 1 with every
error as FILE:LINE: [section] key: message), and the built-in default config (no -c): a
posted alert is printed by the console receiver on stdout, rendered with nm.default.text. The
default config listens on 127.0.0.1:19093; that test is skipped when the port is taken."""

import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

GOOD = """\
[server]
listen = 127.0.0.1:0
max_body_size = 8MiB
cluster = default
shutdown_timeout = 30s
log_level = info
log_format = logfmt

[queue]
max_alerts = 100000

[batch]
max_size = 100
max_wait = 1s
group_labels = alertname, namespace

[delivery]
timeout = 5s
max_in_flight = 8
retry_max_attempts = 10
retry_max_age = 10m
retry_initial = 500ms
retry_factor = 2
retry_max = 60s
retry_jitter = 0.2

[receiver.hook]
type = webhook
url = http://127.0.0.1:9/hook
timeout = 2s
headers = X-One: 1
  X-Two: 2
bearer_token = env:NOTIFYD_IT_TOKEN

[receiver.console]
type = console
"""

# Errors on lines 3, 6 and 10 (line numbers are part of the contract).
BAD = """\
[server]
listen = 127.0.0.1:0
max_body_size = lots

[batch]
max_wait = soon

[receiver.hook]
type = webhook
bogus_key = 1
url = http://127.0.0.1:9/hook
"""


def run(args, timeout=20, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([h.NOTIFYD] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout, env=e)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def has2(text, needle):
    return any(needle in line for line in text.splitlines())


def body(tap):
    rc, out, err = run(["--version"])
    tap.eq(rc, 0, "--version exits 0")
    tap.ok(re.search(r"\d+\.\d+\.\d+", out + err), "--version prints a version", out + err)
    rc, out, err = run(["--help"])
    tap.eq(rc, 0, "--help exits 0")
    tap.ok("--check-config" in out + err, "--help mentions --check-config", out + err)
    rc, out, err = run(["--no-such-flag"])
    tap.ok(rc != 0, "an unknown flag exits non-zero")

    with tempfile.TemporaryDirectory(prefix="notifyd-it-") as tmp:
        good = os.path.join(tmp, "good.ini")
        bad = os.path.join(tmp, "bad.ini")
        with open(good, "w") as f:
            f.write(GOOD)
        with open(bad, "w") as f:
            f.write(BAD)

        rc, out, err = run(["--check-config", good], env={"NOTIFYD_IT_TOKEN": "t0ken"})
        tap.eq(rc, 0, "--check-config on a complete valid file exits 0", err)

        rc, out, err = run(["--check-config", bad])
        tap.eq(rc, 1, "--check-config on a bad file exits 1", err)
        lines = err.splitlines()

        def has(prefix):
            return any(prefix in line for line in lines)
        tap.ok(has(bad + ":3: [server] max_body_size: "),
               "error names bad.ini:3: [server] max_body_size", err)
        tap.ok(has(bad + ":6: [batch] max_wait: "), "error names bad.ini:6: [batch] max_wait",
               err)
        tap.ok(has(bad + ":10: [receiver.hook] bogus_key: "),
               "error names bad.ini:10: [receiver.hook] bogus_key (unknown key) along with "
               "the errors of the fixed sections", err)
        tap.ok(not has(bad + ":11:"), "no error on the valid url line", err)

        # The receiver's own keys alone.
        rcv_only = os.path.join(tmp, "rcv.ini")
        with open(rcv_only, "w") as f:
            f.write("[receiver.hook]\ntype = webhook\nbogus_key = 1\n"
                    "url = http://127.0.0.1:9/hook\n[receiver.c]\ntype = nosuchtype\n")
        rc, out, err = run(["--check-config", rcv_only])
        tap.eq(rc, 1, "--check-config: receiver errors exit 1", err)
        tap.ok(has2(err, rcv_only + ":3: [receiver.hook] bogus_key: "),
               "unknown receiver key named with its line", err)
        # The line of the type key (6) or of its section header (5) both locate it.
        tap.ok(has2(err, rcv_only + ":6: [receiver.c] type: ")
               or has2(err, rcv_only + ":5: [receiver.c] type: "),
               "unknown receiver type named with its line", err)

        rc, out, err = run(["--check-config", os.path.join(tmp, "missing.ini")])
        tap.eq(rc, 1, "--check-config on a missing file exits 1")
        tap.ok("missing.ini" in err, "the missing file is named", err)

        rc, out, err = run(["-c", bad])
        tap.ok(rc not in (0, None), "running with a bad config exits non-zero")

    # Built-in default config.
    if not h.port_is_free(19093):
        tap.skip("default config prints a posted alert on stdout", "port 19093 is taken")
        return
    with h.Daemon(None) as d:
        try:
            d.start()
        except RuntimeError:
            # Another test run on this machine may have bound it since we looked.
            if "Address already in use" in d.stderr_text():
                tap.skip("default config prints a posted alert on stdout",
                         "port 19093 was taken meanwhile")
                return
            raise
        tap.eq(d.port, 19093, "default config listens on 19093")
        r = d.post_alerts([{"labels": {"alertname": "DefaultConsoleCheck", "job": "it"},
                            "annotations": {"summary": "hello from the test"}}])
        tap.eq(r.status, 200, "default config accepts an alert")
        # The console renders nm.default.text: a status line with the summary, then one
        # "  name: value" line per label (the cluster and receiver labels included).
        # Labels come sorted: "receiver" is the last line of the alert.
        line = d.wait_stdout(lambda s: s == "  receiver: console", 10)
        tap.ok(line is not None, "the console receiver printed the alert on stdout",
               d.stdout_text() + "\n" + d.stderr_text())
        out = d.stdout_text().splitlines()
        tap.ok("  alertname: DefaultConsoleCheck" in out and "  job: it" in out,
               "console output lists the alert's labels", out)
        tap.ok("  cluster: default" in out and "  receiver: console" in out,
               "console output shows the cluster and receiver labels", out)
        tap.ok("[FIRING] hello from the test" in out,
               "console output shows the status and the summary annotation", out)
        d.signal(signal.SIGTERM)
        tap.eq(d.wait_exit(15), 0, "default config: SIGTERM exits 0")


if __name__ == "__main__":
    h.run_main(body, 60)
