#!/usr/bin/env python3
"""The Pushover receiver against a local stand-in (pushover_standin.py): the exact wire
format (path, method, content type, every JSON field, for user_keys and profiles, normal
and emergency priority), one request per recipient, the verdicts (a 500 retried then
delivered, an invalid user failing at once with Pushover's error in the log, a 429 whose
limit resets soon retried at the reset, one whose limit resets next month given up at
once), splitting of a big group into ordered chunks within 1024 with every alert in
exactly one chunk, an alert too big on its own sent truncated with a marker,
`notifyd test-receiver` (exit 0 and 1) and --check-config."""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from pushover_standin import Pushover  # noqa: E402

TOKEN = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
U1 = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
U2 = "gznej3rKEVAvPUxu9vvNnqpmZpokzF"
U3 = "pQiRzpo4DXghDmr9QzzfQu27cmVRs3"
U500 = "Fail500xxxxxxxxxxxxxxxxxxxxxxx"
UBAD = "Unknownxxxxxxxxxxxxxxxxxxxxxxx"
U429 = "Quota429xxxxxxxxxxxxxxxxxxxxxx"
USOON = "QuotaSoonxxxxxxxxxxxxxxxxxxxxx"
USERS = [U1, U2, U3, U500, U429, USOON]

TEMPLATES = ('{{ define "po.msg" }}MSG {{ .CommonLabels.alertname }}{{ end }}\n'
             '{{ define "po.title" }}T{{ len .Alerts }} {{ .CommonLabels.alertname }}{{ end }}\n'
             '{{ define "po.each" }}{{ range .Alerts }}[{{ .Labels.n }}] '
             '{{ .Annotations.description }}\n{{ end }}{{ end }}\n')


def daemon(cfg, env=None):
    cfg += "\n[template]\nfiles = po.tmpl\n"
    d = h.Daemon(cfg, env=env)
    with open(os.path.join(d.dir, "po.tmpl"), "w") as f:
        f.write(TEMPLATES)
    return d


def alerts(*names):
    return [{"labels": {"alertname": n}} for n in names]


def metric(d, what, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_%s_total" % what, want, timeout,
                         receiver=name, type="pushover")


def esc_len(text):
    """Bytes of text once JSON-escaped as Go does (<, >, & as \\u00XX), quotes excluded."""
    s = json.dumps(text, ensure_ascii=False)
    s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return len(s.encode()) - 2


def log_of(d):
    return "\n".join(d.stderr_lines)


def recv(po, extra):
    return "type = pushover\ntoken = env:PO_TOKEN\napi_url = %s\n%s" % (po.api_url, extra)


def wire_format(tap):
    with Pushover(TOKEN, USERS) as po:
        cfg = h.config({
            "keys": recv(po, "user_keys = %s, %s\ndevices = iphone, nexus_5\nsound = siren\n"
                             "priority = 1\ntemplate = po.msg\ntitle_template = po.title\n"
                             % (U1, U2)),
            "prof": recv(po, "profile.ops.user_key = %s\n"
                         "profile.ops.devices = pager\nprofile.ops.sound = echo\n"
                         "priority = 2\nretry = 1m\nexpire = 1h\ntemplate = po.msg\n" % U3),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg, env={"PO_TOKEN": TOKEN}) as d:
            d.start()
            tap.eq(d.post_alerts([{"labels": {"alertname": "Disk<&>"},
                                   "annotations": {"message": "disk full"}}]).status, 200,
                   "alert accepted")
            tap.eq(metric(d, "delivered", "keys", 1), 1, "user_keys: delivered")
            tap.eq(metric(d, "delivered", "prof", 1), 1, "profile: delivered")
            reqs = po.matching()
            tap.eq(len(reqs), 3, "one request per recipient", reqs)
            tap.eq([r.problems for r in reqs], [[], [], []], "every request valid for Pushover")
            by_user = {r.json().get("user"): r for r in reqs}
            tap.eq(sorted(by_user), sorted([U1, U2, U3]), "each user key once")
            for u in (U1, U2):
                r = by_user.get(u)
                if r is None:
                    tap.ok(False, "user %s: request" % u)
                    continue
                tap.eq((r.method, r.path), ("POST", "/1/messages.json"),
                       "%s: POST /1/messages.json" % u)
                tap.eq(r.headers.get("content-type"), "application/json",
                       "%s: JSON content type" % u)
                tap.eq(r.json(), {"token": TOKEN, "user": u, "message": "MSG Disk<&>",
                                  "device": "iphone,nexus_5", "title": "T1 Disk<&>",
                                  "priority": 1, "sound": "siren"},
                       "%s: every field" % u)
                tap.ok(b"\\u003c" in r.body and b"\\u0026" in r.body,
                       "%s: <, & escaped as Go does" % u, r.body)
                tap.eq(list(r.json()), ["token", "user", "message", "device", "title",
                                        "priority", "sound"],
                       "%s: fields in NM's order" % u)
            r = by_user.get(U3)
            if r is not None:
                # The default title_template (nm.default.subject) for one alert.
                body = r.json()
                title = body.pop("title", None)
                tap.eq(body, {"token": TOKEN, "user": U3, "message": "MSG Disk<&>",
                              "device": "pager", "priority": 2, "sound": "echo",
                              "retry": 60, "expire": 3600},
                       "profile: every field, emergency retry/expire in seconds")
                tap.eq(title, "[FIRING] disk full",
                       "profile: default title from nm.default.subject")
            tap.ok(TOKEN not in log_of(d), "the token is not logged")


def verdicts(tap):
    with Pushover(TOKEN, USERS) as po:
        po.script[U500] = ["500", "ok"]
        po.script[U429] = ["429", "ok"]
        cfg = h.config({
            "r500": recv(po, "user_keys = %s\nretry_initial = 200ms\n" % U500),
            "bad": recv(po, "user_keys = %s, %s\n" % (UBAD, U1)),
            "quota": recv(po, "user_keys = %s\n" % U429),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg, env={"PO_TOKEN": TOKEN}) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("A")).status, 200, "alert accepted")
            tap.eq(metric(d, "delivered", "r500", 1), 1, "500: retried, then delivered")
            tap.eq([r.answer for r in po.matching(U500)], ["500", "ok"], "500: sent twice")
            tap.eq(metric(d, "failed", "bad", 1), 1, "invalid user: failed")
            tap.eq(len(po.matching(UBAD)), 1, "invalid user: no retry")
            tap.eq(len(po.matching(U1)), 1, "invalid user: the other lane still sent")
            tap.eq(metric(d, "failed", "quota", 1), 1,
                   "429, limit resets next month: failed")
            tap.eq(len(po.matching(U429)), 1, "429, limit resets next month: not resent")
            log = log_of(d)
            tap.ok(re.search(r"receiver=bad.*user identifier is not a valid user, group, or "
                             r"subscribed user key", log),
                   "invalid user: Pushover's error in the log", log)
            tap.ok(re.search(r"receiver=quota.*application message limit reached, resets at "
                             r"\d{4}-\d\d-\d\dT", log),
                   "429: the reset time in the log", log)
            tap.ok(TOKEN not in log, "no token in the log")

    # A limit that resets in 1 to 2 s: resent at the reset (not after the 500 ms of the
    # first backoff), then delivered.
    with Pushover(TOKEN, USERS) as po:
        po.script[USOON] = ["429", "ok"]
        cfg = h.config({"soon": recv(po, "user_keys = %s\n" % USOON)},
                       batch="max_wait = 100ms\n")
        with daemon(cfg, env={"PO_TOKEN": TOKEN}) as d:
            d.start()
            po.reset_at = int(time.time()) + 2
            d.post_alerts(alerts("B"))
            tap.eq(metric(d, "delivered", "soon", 1, timeout=15), 1,
                   "429, limit resets soon: delivered")
            rs = po.matching(USOON)
            tap.eq([r.answer for r in rs], ["429", "ok"], "429, resets soon: resent once")
            if len(rs) == 2:
                tap.ok(rs[0].wall < po.reset_at <= rs[1].wall,
                       "resent at the reset time, not before",
                       (rs[0].wall, po.reset_at, rs[1].wall))


def splitting(tap):
    n = 300
    limit = 1024
    with Pushover(TOKEN, USERS) as po:
        cfg = h.config({
            "sp": recv(po, "user_keys = %s, %s\ntemplate = po.each\n" % (U1, U2)),
        }, batch="max_wait = 300ms\nmax_size = 1000\n")
        with daemon(cfg, env={"PO_TOKEN": TOKEN}) as d:
            d.start()
            payload = [{"labels": {"alertname": "Big", "n": "%03d" % i},
                        "annotations": {"description": "d%03d <" % i + "x" * 280}}
                       for i in range(n)]
            tap.eq(d.post_alerts(payload).status, 200, "300 alerts accepted")
            tap.eq(metric(d, "delivered", "sp", 1, timeout=60), 1, "split: delivered")
            for u in (U1, U2):
                rs = po.matching(u)
                tap.ok(len(rs) >= 10, "%s: several chunks" % u, len(rs))
                tap.ok(all(not r.problems for r in rs), "%s: every chunk valid" % u,
                       [r.problems for r in rs if r.problems][:2])
                tap.ok(all(esc_len(r.json()["message"]) < limit for r in rs),
                       "%s: every chunk below 1024 escaped bytes" % u)
                seen = []
                for r in rs:
                    seen += re.findall(r"^\[(\d{3})\] ", r.json()["message"], re.M)
                tap.eq(seen, ["%03d" % i for i in range(n)],
                       "%s: every alert exactly once, chunks in order" % u)
            before = len(po.matching(U1))
            d.post_alerts([{"labels": {"alertname": "Huge", "n": "a"},
                            "annotations": {"description": "y" * 5000}},
                           {"labels": {"alertname": "Huge", "n": "b"},
                            "annotations": {"description": "small"}}])
            tap.eq(metric(d, "delivered", "sp", 2, timeout=20), 2, "too big: delivered")
            rs = [r.json()["message"] for r in po.matching(U1)[before:]]
            tap.eq(len(rs), 2, "too big: the big alert alone, then the other", rs)
            if len(rs) == 2:
                tap.ok(rs[0].startswith("[a] y") and rs[0].endswith("\u2026[truncated]"),
                       "too big: sent truncated with the marker", rs[0][-40:])
                tap.ok(esc_len(rs[0]) < limit, "too big: cut below the limit")
                tap.eq(rs[1], "[b] small", "too big: the next alert in its own chunk")


def run_test_receiver(path, name):
    env = dict(os.environ, PO_TOKEN=TOKEN)
    p = subprocess.run([h.NOTIFYD, "test-receiver", "-c", path, name],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30, env=env)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def test_receiver(tap):
    with Pushover(TOKEN, USERS) as po, h.Daemon() as d:
        path = os.path.join(d.dir, "tr.ini")
        with open(path, "w") as f:
            f.write(h.config({"good": recv(po, "user_keys = %s\n" % U1),
                              "bad": recv(po, "user_keys = %s\n" % UBAD)}))
        rc, out, err = run_test_receiver(path, "good")
        tap.eq(rc, 0, "test-receiver, valid user: exit 0", out + err)
        tap.ok("good (pushover): delivered" in out, "prints delivered", out)
        rs = po.matching(U1)
        tap.eq(len(rs), 1, "one request")
        if rs:
            tap.ok("Congratulations" in rs[0].json().get("message", ""),
                   "the verify alert's message", rs[0].body)
        rc, out, err = run_test_receiver(path, "bad")
        tap.eq(rc, 1, "test-receiver, invalid user: exit 1", out + err)
        tap.ok("bad (pushover): not delivered" in out and "user identifier is not a valid"
               in out, "prints Pushover's error", out)
        tap.ok(TOKEN not in out + err, "no token printed")


def check_config(tap):
    with h.Daemon() as d:
        bad = os.path.join(d.dir, "bad.ini")
        with open(bad, "w") as f:
            f.write("[receiver.a]\n"                      # 1
                    "type = pushover\n"                   # 2
                    "token = tooshort\n"                  # 3
                    "user_keys = nope\n"                  # 4
                    "devices = ok, bad.name\n"            # 5
                    "sound = honk\n"                      # 6
                    "priority = 2\n"                      # 7
                    "retry = 5s\n"                        # 8
                    "[receiver.b]\n"                      # 9
                    "type = pushover\n"                   # 10
                    "token = %s\n"                        # 11
                    "profile.x.devices = tab\n"           # 12
                    "colour = red\n" % TOKEN)             # 13
        p = subprocess.run([h.NOTIFYD, "--check-config", bad], capture_output=True,
                           timeout=20)
        out = p.stderr.decode() + p.stdout.decode()
        tap.ok(p.returncode != 0, "bad config refused", out)
        for want in ("bad.ini:3: [receiver.a] token: invalid application token",
                     "bad.ini:4: [receiver.a] user_keys: invalid user key \"nope\"",
                     "bad.ini:5: [receiver.a] devices: invalid device name \"bad.name\"",
                     "bad.ini:6: [receiver.a] sound: unknown sound \"honk\"",
                     "bad.ini:7: [receiver.a] expire: missing key",
                     "bad.ini:8: [receiver.a] retry: want whole seconds, at least 30s",
                     "bad.ini:12: [receiver.b] profile.x.user_key: missing key",
                     "bad.ini:13: [receiver.b] colour: unknown key"):
            tap.ok(want in out, "check-config: " + want, out)
        tap.ok(TOKEN not in out, "check-config: no token printed")


def body(tap):
    check_config(tap)
    wire_format(tap)
    verdicts(tap)
    splitting(tap)
    test_receiver(tap)


if __name__ == "__main__":
    h.run_main(body, 110)
