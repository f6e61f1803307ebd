#!/usr/bin/env python3
"""POST /api/v2/verify, POST /api/v2/notifications (Notification Manager's bodies: a Receiver
object, an optional Config object, an Alertmanager payload) and GET /receivers: the answer
waits for the deliveries (other requests are served meanwhile), NM's messages and codes,
400 naming the field for what notifyd cannot do, no secret in the receivers view."""

import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SECRET = "s3cr3t-T0KEN"


def receiver(spec, name="api-hook"):
    return {"apiVersion": "notification.kubesphere.io/v2beta2", "kind": "Receiver",
            "metadata": {"name": name, "labels": {"type": "global"}}, "spec": spec}


def webhook_spec(url, **extra):
    s = {"webhook": {"enabled": True, "url": url}}
    s["webhook"].update(extra)
    return s


def alerts(*names):
    return {"alerts": [{"status": "firing", "labels": {"alertname": n, "severity": "critical"},
                        "annotations": {"message": "msg " + n},
                        "startsAt": "2024-01-01T00:00:00Z"} for n in names]}


def body(tap):
    with h.Target([200]) as ok_t, \
            h.Target([{"status": 404, "body": b"no such hook"}]) as bad_t, \
            h.Target([200]) as slow_t, \
            h.Target([200]) as cfg_t:
        release = threading.Event()
        slow_t.script = [{"release": release, "hang": 20}]
        config = h.config({
            "conf-hook": h.webhook(cfg_t.url + "/conf",
                                   "bearer_token = env:NOTIFYD_IT_SECRET\n"
                                   "basic_auth_user = me\n"
                                   "basic_auth_password = " + SECRET + "\n"
                                   "headers =\n  X-Api-Key: " + SECRET + "\n  X-Plain: yes\n"),
            "off": "type = console\nenabled = false\n",
            # corp_id is read as a secret without a secret-sounding name: the mark shows.
            "wc": "type = wechat\ncorp_id = CORP-" + SECRET + "\nagent_id = 1\n"
                  "api_secret = x\nto_user = u\napi_url = http://127.0.0.1:9\n",
        }, server="api_timeout = 3s\nshutdown_timeout = 1s\n", delivery="retry_initial = 100ms\nretry_max = 200ms\n")
        with h.Daemon(config, env={"NOTIFYD_IT_SECRET": SECRET}) as d:
            d.start()

            # /verify reaches the webhook with NM's verify alert and the receiver's settings.
            r = d.request("POST", "/api/v2/verify", {
                "receiver": receiver(webhook_spec(ok_t.url + "/verify", httpConfig={
                    "bearerToken": {"value": "env:HOME"}}))})
            tap.eq((r.status, r.json()), (200, {"Status": 200, "Message": "Verify successfully"}),
                   "verify: 200 Verify successfully", r)
            reqs = ok_t.snapshot()
            tap.eq(len(reqs), 1, "verify: one request reached the webhook")
            if reqs:
                tap.eq(reqs[0].path, "/verify", "verify: the url of the receiver object")
                a = (reqs[0].json().get("alerts") or [{}])[0]
                labels = a.get("labels", {})
                tap.eq((labels.get("alertname"), labels.get("alerttype")), ("verify", "verify"),
                       "verify: alertname and alerttype are verify", labels)
                tap.ok(labels.get("alerttime"), "verify: alerttime label set", labels)
                tap.eq(labels.get("receiver"), "api-hook", "verify: receiver label = metadata.name")
                tap.eq(a.get("annotations", {}).get("message"),
                       "Congratulations, your notification configuration is correct!",
                       "verify: NM's annotation")
                tap.eq(reqs[0].headers.get("authorization"), "Bearer env:HOME",
                       "a credential value is literal, never read from the daemon's environment")

            # /notifications: the body's alerts to the body's receiver.
            r = d.request("POST", "/api/v2/notifications", {
                "receiver": receiver(webhook_spec(ok_t.url + "/notify")),
                "alert": alerts("A1", "A2")})
            tap.eq((r.status, r.json()),
                   (200, {"Status": 200, "Message": "Send alerts successfully"}),
                   "notifications: 200 Send alerts successfully", r)
            got = [q for q in ok_t.snapshot() if q.path == "/notify"]
            names = sorted(x["labels"]["alertname"] for q in got for x in q.json()["alerts"])
            tap.eq(names, ["A1", "A2"], "notifications: both alerts delivered", got)
            tap.ok(all("cluster" not in x["labels"] for q in got for x in q.json()["alerts"]),
                   "notifications: no cluster label added (as NM)")

            # A failing target: NM's 400 with the reason.
            r = d.request("POST", "/api/v2/notifications", {
                "receiver": receiver(webhook_spec(bad_t.url + "/x")), "alert": alerts("B")})
            msg = r.json().get("Message", "") if r.status == 400 else ""
            tap.eq(r.status, 400, "failing target: 400", r)
            tap.eq(r.json().get("Status"), 400, "failing target: Status 400 in the envelope")
            tap.ok("webhook: status 404" in msg and "no such hook" in msg,
                   "failing target: the reason names the type and the answer", r)

            # Two types in one receiver: both sent, the failing one's reason answered.
            n_ok = len(ok_t.snapshot())
            r = d.request("POST", "/api/v2/verify", {"receiver": receiver({
                "webhook": {"url": ok_t.url + "/two"},
                "discord": {"webhook": {"value": bad_t.url + "/api/webhooks/1/tok"}}})})
            msg = r.json().get("Message", "")
            tap.ok(r.status == 400 and msg.startswith("discord: status 404")
                   and "webhook" not in msg, "two types: 400 with the failing type's reason only", r)
            tap.eq(len(ok_t.snapshot()) - n_ok, 1, "two types: the webhook got its notification")

            # Errors naming the field.
            cases = [
                ({"receiver": receiver({"foo": {"url": "x"}}), "alert": alerts("C")},
                 "receiver.spec.foo", "unknown type"),
                ({"receiver": receiver(webhook_spec("http://127.0.0.1:1/", httpConfig={
                    "bearerToken": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}})),
                  "alert": alerts("C")},
                 "receiver.spec.webhook.httpConfig.bearerToken.valueFrom", "secret reference"),
                ({"receiver": receiver({"webhook": {"service": {"name": "svc"}}}),
                  "alert": alerts("C")}, "receiver.spec.webhook.service", "service"),
                ({"receiver": receiver({"webhook": {"url": "ftp://x/"}}), "alert": alerts("C")},
                 "receiver.spec.webhook.url", "bad url (the receiver's own validation)"),
                ({"receiver": receiver({"webhook": {"urll": "http://x/"}}),
                  "alert": alerts("C")}, "receiver.spec.webhook.urll", "unknown field"),
                ({"receiver": receiver({"slack": {"channels": ["#a"]}}), "alert": alerts("C")},
                 "config.spec.slack: a Config with this type is required", "missing Config"),
                ({"receiver": receiver({"slack": {"channels": ["#a"]}}), "alert": alerts("C"),
                  "config": {"kind": "Config", "spec": {"slack": {}}}},
                 "receiver.spec.slack.channels: missing key", "Config without the token"),
                ({"alert": alerts("C")}, "Receiver is nil", "no receiver"),
                ({"receiver": receiver(webhook_spec("http://127.0.0.1:1/"))}, "alert is nil",
                 "no alert"),
                ({"receiver": receiver({"webhook": {"enabled": False, "url": "http://x/"}}),
                  "alert": alerts("C")}, "no receivers provided", "only a disabled type"),
                ({"receiver": receiver(webhook_spec("http://127.0.0.1:1/")),
                  "alert": {"alerts": [{"labels": "x"}]}}, "alert: alerts[0].labels",
                 "bad alert"),
            ]
            for payload, want, what in cases:
                r = d.request("POST", "/api/v2/notifications", payload)
                m = r.json().get("Message", "") if r.body else ""
                tap.ok(r.status == 400 and m.startswith(want), "400 naming %s: %s" % (want, what),
                       r)
            r = d.request("POST", "/api/v2/verify", "{not json")
            tap.eq(r.status, 400, "verify: malformed JSON is 400", r)

            # A slow target: the answer waits for the delivery; other requests are served.
            res = {}

            def slow():
                res["r"] = d.request("POST", "/api/v2/verify", {
                    "receiver": receiver(webhook_spec(slow_t.url + "/slow"))}, timeout=20)
                res["t"] = time.monotonic()

            th = threading.Thread(target=slow)
            th.start()
            tap.eq(len(slow_t.wait_for(1, 10)), 1, "slow: the request reached the target")
            time.sleep(0.3)
            tap.ok("r" not in res, "slow: no answer while the delivery is in flight")
            hr = d.request("GET", "/-/healthy", timeout=5)
            tap.eq(hr.status, 200, "slow: other requests are served meanwhile")
            ar = d.post_alerts(alerts("D"), timeout=5)
            tap.eq(ar.status, 200, "slow: alerts are accepted meanwhile")
            t_release = time.monotonic()
            release.set()
            th.join(20)
            r = res.get("r")
            tap.ok(r is not None and r.status == 200 and res["t"] >= t_release,
                   "slow: answered 200 once the target answered", r)

            # api_timeout: a target that never answers within it.
            release2 = threading.Event()
            slow_t.script = [{"release": release2, "hang": 20}]
            t0 = time.monotonic()
            r = d.request("POST", "/api/v2/notifications", {
                "receiver": receiver(webhook_spec(slow_t.url + "/hang")), "alert": alerts("E")},
                timeout=20)
            took = time.monotonic() - t0
            release2.set()
            m = r.json().get("Message", "")
            tap.ok(r.status == 400 and "not finished after api_timeout 3s" in m,
                   "api_timeout: 400 saying the delivery did not finish", r)
            tap.ok(2.5 <= took < 10, "api_timeout: answered after about 3s (%.1fs)" % took)

            # GET /receivers: the configured receivers, secrets redacted.
            r = d.request("GET", "/receivers")
            tap.eq(r.status, 200, "receivers: 200", r)
            text = r.body.decode()
            tap.ok(SECRET not in text, "receivers: no secret in the view", text)
            view = {x["name"]: x for x in json.loads(text)}
            tap.eq(sorted(view), ["conf-hook", "off", "wc"], "receivers: every configured receiver")
            tap.eq(view.get("wc", {}).get("settings", {}).get("corp_id"), "<secret>",
                   "receivers: a key read as a secret is redacted whatever its name")
            ch = view.get("conf-hook", {})
            tap.eq((ch.get("type"), ch.get("enabled")), ("webhook", True),
                   "receivers: type and enabled")
            st = ch.get("settings", {})
            tap.eq(st.get("url"), cfg_t.url + "/conf", "receivers: a plain setting is shown")
            tap.eq((st.get("bearer_token"), st.get("basic_auth_password")),
                   ("<secret>", "<secret>"), "receivers: secrets are redacted", st)
            tap.eq(st.get("headers"), "X-Api-Key: <secret>\nX-Plain: <secret>",
                   "receivers: header values are redacted", st)
            tap.eq(view.get("off", {}).get("enabled"), False, "receivers: disabled shown")
            r = d.request("GET", "/receivers?type=console")
            tap.eq([x["name"] for x in r.json()], ["off"], "receivers: ?type= filters")
            r = d.request("POST", "/receivers", "{}")
            tap.eq(r.status, 405, "receivers: POST is 405")
            tap.ok(SECRET not in d.stderr_text(), "no secret in the log")

            # Stopping with a request waiting: it is answered, the daemon exits cleanly
            # (under ASan: nothing leaked or used after free).
            release3 = threading.Event()
            slow_t.script = [{"release": release3, "hang": 20}]
            res = {}

            def waiting():
                try:
                    res["r"] = d.request("POST", "/api/v2/verify", {
                        "receiver": receiver(webhook_spec(slow_t.url + "/stop"))}, timeout=20)
                except OSError as e:
                    res["e"] = e

            n_slow = len(slow_t.snapshot())
            th = threading.Thread(target=waiting)
            th.start()
            slow_t.wait_for(n_slow + 1, 10)
            d.signal(signal.SIGTERM)
            code = d.wait_exit(15)
            release3.set()
            th.join(20)
            r = res.get("r")
            tap.eq(code, 0, "stop with a request waiting: exit 0", d.stderr_text())
            tap.ok(r is not None and r.status in (400, 503), "the waiting request is answered", res)
            tap.ok("Sanitizer" not in d.stderr_text(), "no sanitizer report", d.stderr_text())

        # api_max_requests: one request waiting, the next is refused with 503.
        release4 = threading.Event()
        slow_t.script = [{"release": release4, "hang": 20}]
        with h.Daemon(h.config({"c": "type = console\n"},
                               server="api_max_requests = 1\n")) as d2:
            d2.start()
            res = {}
            n_slow = len(slow_t.snapshot())
            th = threading.Thread(target=lambda: res.update(r=d2.request(
                "POST", "/api/v2/verify",
                {"receiver": receiver(webhook_spec(slow_t.url + "/max"))}, timeout=20)))
            th.start()
            slow_t.wait_for(n_slow + 1, 10)
            r = d2.request("POST", "/api/v2/verify",
                           {"receiver": receiver(webhook_spec(ok_t.url + "/max2"))})
            tap.eq((r.status, r.json().get("Message")),
                   (503, "too many requests waiting for deliveries (api_max_requests 1)"),
                   "api_max_requests: the next request gets 503", r)
            release4.set()
            th.join(20)
            tap.eq(res.get("r") and res["r"].status, 200, "api_max_requests: the first is answered")


if __name__ == "__main__":
    h.run_main(body, 80)
