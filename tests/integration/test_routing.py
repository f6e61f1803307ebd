#!/usr/bin/env python3
"""Routing with the real daemon (docs/routing.md): under policy RouterFirst a router sends the
critical alerts of namespace payments to tenant alice's receiver only, grouped by the router's
group_labels; other alerts go to the global receiver and, with rule_level=namespace, to the
tenant receivers of their namespace; a tenant silence mutes only alice's receiver; a disabled
receiver gets nothing; --check-config accepts conf/multi-tenant.ini and names file:line:key of
bad routing keys; GET /routers shows the routing as configured."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "conf", "multi-tenant.ini")


def received(target):
    """{path: [[alertname, ...] per notification]}"""
    out = {}
    for r in target.snapshot():
        names = sorted(a["labels"]["alertname"] for a in r.json()["alerts"])
        out.setdefault(r.path, []).append(names)
    return out


def flat(got, path):
    return sorted(n for notif in got.get(path, []) for n in notif)


def routing(tap):
    extra = (
        "[routing]\npolicy = RouterFirst\n"
        "[tenant.alice]\nnamespaces = payments, shared\n"
        "[tenant.bob]\nnamespaces = web, shared\n"
        "[router.payments-critical]\n"
        "alert_selector = namespace=payments, severity=critical\n"
        "channels = alice:webhook\n"
        "group_labels = severity\n"
        "[silence.alice-quiet]\ntenant = alice\nselector = alertname=Quiet\n"
    )
    with h.Target([200]) as target:
        cfg = h.config({
            "ops": h.webhook(target.url + "/ops"),
            "alice": h.webhook(target.url + "/alice", "tenant = alice\n"),
            "bob": h.webhook(target.url + "/bob", "tenant = bob\n"),
            "carol": h.webhook(target.url + "/carol", "tenant = alice\nenabled = false\n"),
        }, batch="max_wait = 100ms\ngroup_labels = alertname\n") + extra
        with h.Daemon(cfg) as d:
            d.start()
            alerts = [
                {"labels": {"alertname": "PayDown", "namespace": "payments",
                            "severity": "critical", "rule_level": "namespace"}},
                {"labels": {"alertname": "PaySlow", "namespace": "payments",
                            "severity": "critical"}},
                {"labels": {"alertname": "PayWarn", "namespace": "payments",
                            "severity": "warning"}},
                {"labels": {"alertname": "WebDown", "namespace": "web",
                            "severity": "critical", "rule_level": "namespace"}},
                {"labels": {"alertname": "Quiet", "namespace": "shared",
                            "severity": "info", "rule_level": "namespace"}},
                {"labels": {"alertname": "Loud", "namespace": "shared",
                            "severity": "info", "rule_level": "namespace"}},
            ]
            tap.eq(d.post_alerts(alerts).status, 200, "alerts accepted")
            # ops: PayWarn WebDown Quiet Loud (4 notifications: grouped by alertname);
            # alice: 1 notification (PayDown+PaySlow) + Loud; bob: WebDown Quiet Loud.
            target.wait_for(4 + 2 + 3, 10)
            time.sleep(0.5)
            got = received(target)
            tap.diag("received: %r" % got)
            tap.eq(flat(got, "/alice"), ["Loud", "PayDown", "PaySlow"],
                   "alice: the router's critical payments alerts + her namespace's Loud "
                   "(Quiet muted by her tenant silence)")
            tap.ok(["PayDown", "PaySlow"] in got.get("/alice", []),
                   "the router's alerts in one notification (group_labels = severity)",
                   repr(got.get("/alice")))
            tap.eq(flat(got, "/ops"), ["Loud", "PayWarn", "Quiet", "WebDown"],
                   "ops (global) got everything the router did not take, "
                   "the tenant silence does not mute it")
            tap.eq(len(got.get("/ops", [])), 4, "ops: one notification per alertname")
            tap.eq(flat(got, "/bob"), ["Loud", "Quiet", "WebDown"],
                   "bob: his namespaces' rule_level=namespace alerts; alice's silence "
                   "does not mute him; nothing of payments")
            tap.eq(got.get("/carol", []), [], "the disabled receiver got nothing")
            tap.eq(h.metric(d.metrics(), "notifyd_alerts_silenced_total"), 1.0,
                   "one alert muted (Quiet for alice)")
            r = d.request("GET", "/routers")
            tap.eq(r.status, 200, "GET /routers")
            v = r.json()
            tap.eq(v.get("policy"), "RouterFirst", "the view names the policy")
            tap.eq([(t["name"], t["namespaces"]) for t in v.get("tenants", [])],
                   [("alice", ["payments", "shared"]), ("bob", ["web", "shared"])],
                   "the tenants and their namespaces")
            tap.eq(v.get("routers"), [{
                "name": "payments-critical", "enabled": True,
                "alertSelector": "namespace=payments,severity=critical",
                "receivers": ["alice"], "groupLabels": ["severity"]}],
                "the router with its resolved receivers (the disabled carol left out)")
            tap.ok(target.url not in r.body.decode(), "no receiver URL in the view")
            tap.eq(d.request("POST", "/routers").status, 405, "POST /routers: 405")


def check_config(tap):
    r = subprocess.run([h.NOTIFYD, "--check-config", EXAMPLE], capture_output=True,
                       text=True, timeout=20)
    tap.eq(r.returncode, 0, "--check-config accepts conf/multi-tenant.ini", r.stderr)
    bad = h.config({"r": "type = console\ntenant = nobody\n"}) + (
        "[routing]\npolicy = Never\n"
        "[router.x]\nalert_selector = a in ()\nreceivers = r, ghost\n")
    with h.Daemon(bad) as d:
        r = subprocess.run([h.NOTIFYD, "--check-config", d.config_path], capture_output=True,
                           text=True, timeout=20)
        tap.eq(r.returncode, 1, "--check-config refuses bad routing")
        for want in ("notifyd.ini:7: [receiver.r] tenant: unknown tenant \"nobody\"",
                     "notifyd.ini:9: [routing] policy: invalid policy \"Never\"",
                     "notifyd.ini:11: [router.x] alert_selector: column",
                     "notifyd.ini:12: [router.x] receivers: unknown receiver \"ghost\""):
            tap.ok(want in r.stderr, "names it: " + want, r.stderr)
    # The daemon itself refuses a router naming an unknown receiver (the loader's part of the
    # file is fine), with the same message.
    bad = h.config({"r": "type = console\n"}) + "[router.x]\nreceivers = ghost\n"
    with h.Daemon(bad) as d:
        p = subprocess.run([h.NOTIFYD, "-c", d.config_path], capture_output=True, text=True,
                           timeout=20)
        tap.ok(p.returncode != 0 and "[router.x] receivers: unknown receiver \"ghost\""
               in p.stderr, "the daemon does not start with it", p.stderr)


def body(tap):
    routing(tap)
    check_config(tap)


if __name__ == "__main__":
    h.run_main(body, 80)
