#!/usr/bin/env python3
"""`notifyd test-receiver [-c FILE] [--retries N] NAME`: one verify notification (Notification
Manager's verify alert) through one configured receiver, the outcome on stdout, exit 0
delivered, 1 not delivered, 2 usage or config error. One attempt unless --retries says more,
whatever the receiver's retry_max_attempts; no secret in the output."""

import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SECRET = "s3cr3t-T0KEN"


def run(args, timeout=30, env=None):
    e = dict(os.environ)
    e.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run([h.NOTIFYD, "test-receiver"] + args, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout, env=e)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


# Go's time.Time.String() of a local time: "2006-01-02 15:04:05.999999999 -0700 MST".
GO_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d*[1-9])? [+-]\d{4} \S+$")


def body(tap):
    with tempfile.TemporaryDirectory(prefix="notifyd-it-") as tmp:
        # Success: the receiver's own retry settings are high, the secret is in the URL
        # query and in a bearer token.
        with h.Target([200]) as t:
            cfg = write(tmp, "ok.ini", h.config({
                "hook": h.webhook(t.url + "/hook?access_token=" + SECRET,
                                  "bearer_token = env:NOTIFYD_IT_SECRET\n"
                                  "retry_max_attempts = 10\n"),
                "other": "type = console\n",
            }))
            rc, out, err, _ = run(["-c", cfg, "hook"], env={"NOTIFYD_IT_SECRET": SECRET})
            tap.eq(rc, 0, "delivered: exit 0", out + err)
            tap.ok("hook (webhook): delivered" in out, "prints 'delivered'", out + err)
            tap.ok(SECRET not in out + err, "no secret printed", out + err)
            reqs = t.snapshot()
            tap.eq(len(reqs), 1, "one request reached the target")
            if reqs:
                tap.eq(reqs[0].headers.get("authorization"), "Bearer " + SECRET,
                       "the receiver's own settings were used (bearer token)")
                alerts = reqs[0].json().get("alerts") or [{}]
                labels = alerts[0].get("labels", {})
                tap.eq(sorted(labels), ["alertname", "alerttime", "alerttype", "receiver"],
                       "the verify alert's labels (plus NM's receiver label)", labels)
                tap.eq(labels.get("alertname"), "verify", "alertname=verify")
                tap.eq(labels.get("alerttype"), "verify", "alerttype=verify")
                tap.eq(labels.get("receiver"), "hook", "receiver=hook")
                tap.ok(GO_TIME.match(labels.get("alerttime", "")),
                       "alerttime is Go's local time string", labels)
                tap.eq(alerts[0].get("annotations"),
                       {"message": "Congratulations, your notification configuration is "
                                   "correct!"}, "the verify annotation")
                tap.eq(alerts[0].get("startsAt"), alerts[0].get("endsAt"),
                       "startsAt = endsAt", alerts[0])
                tap.ok(alerts[0].get("status") != "resolved", "not sent as resolved",
                       alerts[0])

        # The platform answers 500: one attempt, the status and the body printed.
        with h.Target([{"status": 500, "body": b"platform says no: errcode=42"}]) as t:
            cfg = write(tmp, "500.ini", h.config({"hook": h.webhook(t.url + "/hook",
                                                                    "retry_max_attempts = 10\n"
                                                                    "retry_initial = 10ms\n")}))
            rc, out, err, _ = run(["-c", cfg, "hook"])
            tap.eq(rc, 1, "status 500: exit 1", out + err)
            tap.ok("status 500" in out, "prints 'status 500'", out + err)
            tap.ok("platform says no: errcode=42" in out, "prints the answer's body", out + err)
            tap.eq(len(t.snapshot()), 1, "one attempt by default, whatever the receiver says")

        # --retries N: up to N more attempts.
        with h.Target([500, 500, 200]) as t:
            cfg = write(tmp, "retry.ini", h.config({"hook": h.webhook(t.url + "/hook",
                                                                      "retry_initial = 10ms\n"
                                                                      "retry_max = 20ms\n")}))
            rc, out, err, _ = run(["-c", cfg, "--retries", "2", "hook"])
            tap.eq(rc, 0, "--retries 2: delivered on the third attempt", out + err)
            tap.eq(len(t.snapshot()), 3, "three requests with --retries 2")
        rc, out, err, _ = run(["-c", cfg, "--retries", "x", "hook"])
        tap.eq(rc, 2, "--retries x: exit 2", out + err)

        # Connection refused: exit 1 promptly.
        port = h.free_port()
        cfg = write(tmp, "refused.ini", h.config({"hook": h.webhook(
            "http://127.0.0.1:%d/hook" % port, "retry_max_attempts = 10\ntimeout = 20s\n")}))
        rc, out, err, secs = run(["-c", cfg, "hook"])
        tap.eq(rc, 1, "connection refused: exit 1", out + err)
        tap.ok("not delivered" in out, "prints 'not delivered' and the reason", out + err)
        tap.ok(secs < 10, "connection refused answers promptly (%.2fs)" % secs)

        # A target that never answers: the receiver's timeout bounds the wait.
        with h.Target([{"hang": 20}]) as t:
            cfg = write(tmp, "hang.ini", h.config({"hook": h.webhook(
                t.url + "/hook", "timeout = 1s\nretry_max_attempts = 10\n")}))
            rc, out, err, secs = run(["-c", cfg, "hook"])
            tap.eq(rc, 1, "no answer: exit 1", out + err)
            tap.ok("timeout" in out.lower() or "timed out" in out.lower(),
                   "prints the timeout", out + err)
            tap.ok(secs < 10, "bounded by the receiver's timeout (%.2fs)" % secs)

        # Unknown receiver: exit 2 with the configured names.
        cfg = write(tmp, "names.ini", h.config({"alpha": "type = console\n",
                                                "beta": "type = console\n"}))
        rc, out, err, _ = run(["-c", cfg, "gamma"])
        tap.eq(rc, 2, "unknown receiver: exit 2", out + err)
        tap.ok("gamma" in err and "alpha" in err and "beta" in err,
               "names the unknown receiver and lists the configured ones", err)

        # Config errors: exit 2, printed as --check-config prints them (file:line).
        bad = write(tmp, "bad.ini", "[server]\nlisten = 127.0.0.1:0\n\n[receiver.hook]\n"
                    "type = webhook\nurl = http://127.0.0.1:9/\nbogus = 1\n")
        rc, out, err, _ = run(["-c", bad, "hook"])
        tap.eq(rc, 2, "config error: exit 2", out + err)
        tap.ok(bad + ":7: [receiver.hook] bogus: " in err, "error names bad.ini:7", err)

        # Usage errors.
        rc, out, err, _ = run([])
        tap.eq(rc, 2, "no NAME: exit 2", out + err)
        rc, out, err, _ = run(["-c", cfg, "alpha", "beta"])
        tap.eq(rc, 2, "two names: exit 2", out + err)

        # The built-in config's console receiver prints the notification and succeeds.
        rc, out, err, _ = run(["console"])
        tap.eq(rc, 0, "built-in console receiver: exit 0", out + err)
        tap.ok("Congratulations, your notification configuration is correct!" in out
               and "console (console): delivered" in out,
               "console prints the verify message, then 'delivered'", out + err)


if __name__ == "__main__":
    if not h.NOTIFYD:
        print("1..1\nnot ok 1 - NOTIFYD is not set")
        sys.exit(1)
    h.run_main(body, 90)
