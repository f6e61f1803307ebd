#!/usr/bin/env python3
"""[history] receiver = NAME: after deliveries, NM's history payload (the alerts, each once, with
notificationTime and the receivers they went to, with the results) goes to that
webhook receiver, which gets nothing else; --check-config refuses a history receiver that is
missing, not a webhook, or has a template."""

import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def check_config(text):
    with tempfile.TemporaryDirectory(prefix="notifyd-it-") as tmp:
        path = os.path.join(tmp, "c.ini")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([h.NOTIFYD, "--check-config", path], capture_output=True, timeout=20)
        return p.returncode, p.stderr.decode("utf-8", "replace")


def body(tap):
    with h.Target([200]) as ok_t, h.Target([{"status": 404, "body": b"gone"}]) as bad_t, \
            h.Target([200]) as hist_t:
        config = h.config({
            "good": h.webhook(ok_t.url + "/good", "alert_selector = alertname!=H3\n"),
            "bad": h.webhook(bad_t.url + "/bad"),
            "hist": h.webhook(hist_t.url + "/history"),
        }, batch="max_wait = 100ms\ngroup_labels =\n") + "[history]\nreceiver = hist\n"
        with h.Daemon(config) as d:
            d.start()
            r = d.post_alerts({"alerts": [
                {"labels": {"alertname": "H1"}, "annotations": {"m": "1"}},
                {"labels": {"alertname": "H2"}}, {"labels": {"alertname": "H3"}}]})
            tap.eq(r.status, 200, "alerts accepted", r)
            tap.eq(len(ok_t.wait_for(1, 10)), 1, "the good receiver got the notification")
            tap.eq(len(bad_t.wait_for(1, 10)), 1, "the bad receiver was tried")
            got = hist_t.wait_for(1, 10)
            tap.eq(len(got), 1, "one history payload")
            time.sleep(0.3)
            tap.eq(len(hist_t.snapshot()), 1, "the history receiver gets nothing else")
            if got:
                tap.eq(got[0].path, "/history", "to the history receiver's url")
                doc = got[0].json()
                alerts = doc.get("alerts", [])
                tap.eq(sorted(a["labels"]["alertname"] for a in alerts), ["H1", "H2", "H3"],
                       "every alert with an outcome, once", doc)
                by = {a["labels"]["alertname"]: a for a in alerts}
                a0 = by.get("H1", {})
                tap.ok("receiver" not in a0.get("labels", {}),
                       "no receiver label (as NM's history)", a0)
                tap.ok(a0.get("notificationTime", "").endswith("Z"),
                       "notificationTime is an RFC 3339 time", a0)
                rc = a0.get("receiver", {})
                tap.eq(rc.get("good"), {"webhook": {"delivered": True}},
                       "the delivering receiver, delivered", rc)
                bad = rc.get("bad", {}).get("webhook", {})
                tap.ok(bad.get("delivered") is False and "404" in bad.get("reason", ""),
                       "the failing receiver, with its reason", rc)
                tap.ok("hist" not in rc, "the history receiver is not a receiver of the alert")
                a3 = by.get("H3", {})
                tap.ok("notificationTime" not in a3 and
                       a3.get("receiver", {}).get("bad", {}).get("webhook", {})
                       .get("delivered") is False and "good" not in a3.get("receiver", {}),
                       "an alert delivered nowhere: its failure, no notificationTime", a3)
            got = d.wait_metric("notifyd_notifications_delivered_total", 1.0,
                                receiver="hist", type="history")
            tap.eq(got, 1.0, "the history receiver's deliveries are in /metrics")
            r = d.request("GET", "/receivers")
            hv = [x for x in r.json() if x["name"] == "hist"]
            tap.ok(len(hv) == 1 and hv[0].get("history") is True and hv[0]["type"] == "webhook",
                   "GET /receivers marks the history receiver", r)
            # Outcomes still pending at a stop are dropped cleanly (ASan: no leak).
            d.post_alerts({"alerts": [{"labels": {"alertname": "H4"}}]})
            ok_t.wait_for(2, 10)
            d.signal(signal.SIGTERM)
            tap.eq(d.wait_exit(15), 0, "stop: exit 0", d.stderr_text())
            tap.ok("Sanitizer" not in d.stderr_text(), "stop: no sanitizer report", d.stderr_text())

    # The history module's internal type is no type of a section, at start as at check.
    with h.Target([200]) as t:
        cfg = h.config({"w": h.webhook(t.url + "/w"), "x": h.webhook(t.url + "/x")})
        cfg = cfg.replace("[receiver.x]\ntype = webhook", "[receiver.x]\ntype = history")
        with h.Daemon(cfg + "[history]\nreceiver = w\n") as d:
            d.start(wait_listening=False)
            code = d.wait_exit(15)
            tap.ok(code not in (None, 0) and 'unknown receiver type "history"' in d.stderr_text(),
                   "type = history in a section is refused at start", d.stderr_text())

    rc, err = check_config(h.config({"a": "type = console\n"}) + "[history]\nreceiver = nope\n")
    tap.ok(rc == 1 and "[history] receiver: no receiver named \"nope\"" in err,
           "check-config: unknown history receiver", err)
    rc, err = check_config(h.config({"a": "type = console\n"}) + "[history]\nreceiver = a\n")
    tap.ok(rc == 1 and "must be a webhook" in err, "check-config: not a webhook", err)
    rc, err = check_config(h.config({"w": h.webhook("http://127.0.0.1:9/",
                                                    "template = nm.default.text\n")})
                           + "[history]\nreceiver = w\n")
    tap.ok(rc == 1 and "[receiver.w] template: not used by the history receiver" in err,
           "check-config: a template on the history receiver", err)
    rc, err = check_config(h.config({"w": h.webhook("http://127.0.0.1:9/")})
                           + "[history]\nreceiver = w\nmax_pending = 0\n")
    tap.ok(rc == 1 and "max_pending" in err, "check-config: max_pending out of range", err)
    # The history receiver is routed to by nobody, as when the daemon runs.
    routed = (h.config({"w": h.webhook("http://127.0.0.1:9/w"),
                        "a": h.webhook("http://127.0.0.1:9/a")})
              + "[history]\nreceiver = w\n[router.r]\nalert_selector = severity=critical\n")
    rc, err = check_config(routed + "receivers = w\n")
    tap.ok(rc == 1 and 'receivers: unknown receiver "w"' in err,
           "check-config: a router naming the history receiver", err)
    rc, err = check_config(routed + "receivers = a\n")
    tap.ok(rc == 0, "check-config: a router naming another receiver", err)


if __name__ == "__main__":
    h.run_main(body, 60)
