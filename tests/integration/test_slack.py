#!/usr/bin/env python3
"""The Slack receiver against a local stand-in (slack_standin.py): the exact wire format
of the Web API (text and blocks, one request per channel) and of an incoming webhook,
the verdicts ("ratelimited" and HTTP 429 retried after Retry-After, channel_not_found
failing at once with the error in the log), splitting of a big group into ordered
chunks within the limit with every alert in exactly one chunk, an alert too big on its
own sent truncated with a marker, and --check-config."""

import os
import json
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from slack_standin import Slack  # noqa: E402

TEMPLATES = ('{{ define "sl.msg" }}MSG {{ .CommonLabels.alertname }}{{ end }}\n'
             '{{ define "sl.each" }}{{ range .Alerts }}[{{ .Labels.n }}] '
             '{{ .Annotations.description }}\n{{ end }}{{ end }}\n')
TOKEN = "xoxb-123-secret"


def daemon(cfg, env=None):
    cfg += "\n[template]\nfiles = sl.tmpl\n"
    d = h.Daemon(cfg, env=env)
    with open(os.path.join(d.dir, "sl.tmpl"), "w") as f:
        f.write(TEMPLATES)
    return d


def alerts(*names):
    return [{"labels": {"alertname": n}} for n in names]


def metric(d, what, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_%s_total" % what, want, timeout,
                         receiver=name, type="slack")


def esc_len(text):
    """Bytes of text once JSON-escaped (UTF-8 kept as is, like Go), quotes excluded."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def log_of(d):
    return "\n".join(d.stderr_lines)


def api(url, channels, extra=""):
    return ("type = slack\ntoken = env:SLACK_TOKEN\nchannels = %s\napi_url = %s\n%s"
            % (channels, url, extra))


def wire_format(tap):
    with Slack(token=TOKEN) as sl:
        cfg = h.config({
            "txt": api(sl.url, "#a, #b", "template = sl.msg\n"),
            "blk": api(sl.url + "/", "#c", "template = sl.msg\ntemplate_type = blocks\n"),
            "hook": "type = slack\nwebhook = %s\ntemplate = sl.msg\n" % sl.hook_url("h1"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg, env={"SLACK_TOKEN": TOKEN}) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("Disk<&>")).status, 200, "alert accepted")
            for name in ("txt", "blk", "hook"):
                tap.eq(metric(d, "delivered", name, 1), 1, "%s: delivered" % name)
            posts = sl.matching("/chat.postMessage")
            by_ch = {}
            for r in posts:
                by_ch.setdefault(r.json().get("channel"), []).append(r)
            tap.eq(sorted(by_ch), ["#a", "#b", "#c"], "one request per channel")
            for ch in ("#a", "#b"):
                r = by_ch.get(ch, [None])[0]
                if r is None:
                    tap.ok(False, "text %s: request" % ch)
                    continue
                tap.eq(r.method, "POST", "text %s: POST" % ch)
                tap.eq(r.headers.get("authorization"), "Bearer " + TOKEN,
                       "text %s: bearer token" % ch)
                tap.eq(r.headers.get("content-type"), "application/json; charset=utf-8",
                       "text %s: JSON content type" % ch)
                tap.eq(r.json(), {"channel": ch, "text": "MSG Disk<&>"},
                       "text %s: body field by field" % ch)
                tap.ok(b"\\u003c" in r.body and b"\\u0026" in r.body,
                       "text: <, & escaped as Go does", r.body)
            r = by_ch.get("#c", [None])[0]
            if r is not None:
                tap.eq(r.json(), {"channel": "#c", "text": "MSG Disk<&>", "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "MSG Disk<&>"}}]},
                    "blocks: section of mrkdwn plus the text fallback")
            hk = sl.matching("/hooks/h1")
            tap.eq(len(hk), 1, "webhook: one request")
            if hk:
                tap.eq(hk[0].json(), {"text": "MSG Disk<&>"}, "webhook: body")
                tap.ok("authorization" not in hk[0].headers, "webhook: no Authorization")
            tap.ok(TOKEN not in log_of(d), "the token is not logged")


def verdicts(tap):
    with Slack(token=TOKEN) as sl:
        sl.script["#rl"] = ["ratelimited", "ok"]
        sl.script["#429"] = ["429", "ok"]
        sl.script["#gone"] = ["channel_not_found"]
        sl.script["hrl"] = ["429", "ok"]
        sl.script["hbad"] = ["channel_not_found"]
        cfg = h.config({
            "rl": api(sl.url, "#rl"),
            "r429": api(sl.url, "#429"),
            "gone": api(sl.url, "#gone"),
            "badtok": "type = slack\ntoken = wrong\nchannels = #x\napi_url = %s\n" % sl.url,
            "hrl": "type = slack\nwebhook = %s\n" % sl.hook_url("hrl"),
            "hbad": "type = slack\nwebhook = %s\n" % sl.hook_url("hbad"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg, env={"SLACK_TOKEN": TOKEN}) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("A")).status, 200, "alert accepted")
            for name, ch, first in (("rl", "#rl", "ratelimited"), ("r429", "#429", "429")):
                tap.eq(metric(d, "delivered", name, 1), 1, "%s: deferred, then delivered" % name)
                rs = [r for r in sl.matching("/chat.postMessage") if r.json()["channel"] == ch]
                tap.eq([r.answer for r in rs], [first, "ok"],
                       "%s: resent once" % name)
                if len(rs) == 2:
                    tap.ok(rs[1].t - rs[0].t >= 0.9, "%s: resent after Retry-After" % name,
                           rs[1].t - rs[0].t)
            tap.eq(metric(d, "delivered", "hrl", 1), 1, "webhook 429: deferred, then delivered")
            tap.eq([r.answer for r in sl.matching("/hooks/hrl")], ["429", "ok"],
                   "webhook 429: resent once")
            for name in ("gone", "badtok", "hbad"):
                tap.eq(metric(d, "failed", name, 1), 1, "%s: failed" % name)
            tap.eq(len([r for r in sl.matching("/chat.postMessage")
                        if r.json()["channel"] == "#gone"]), 1, "channel_not_found: no retry")
            tap.eq(len(sl.matching("/hooks/hbad")), 1, "webhook error: no retry")
            log = log_of(d)
            tap.ok(re.search(r"receiver=gone.*error channel_not_found", log),
                   "channel_not_found logged with the error string", log)
            tap.ok(re.search(r"receiver=badtok.*error invalid_auth", log),
                   "invalid_auth logged", log)
            tap.ok("wrong" not in log and TOKEN not in log, "no token in the log")


def splitting(tap):
    n = 300
    limit = 40000
    with Slack(token=TOKEN) as sl:
        cfg = h.config({
            "sp": api(sl.url, "#s1, #s2", "template = sl.each\n"),
            "big": api(sl.url, "#big", "template = sl.each\nmax_message_size = 2000\n"),
        }, batch="max_wait = 300ms\nmax_size = 1000\n")
        with daemon(cfg, env={"SLACK_TOKEN": TOKEN}) as d:
            d.start()
            payload = [{"labels": {"alertname": "Big", "n": "%03d" % i},
                        "annotations": {"description": "d%03d " % i + "x" * 400}}
                       for i in range(n)]
            tap.eq(d.post_alerts(payload).status, 200, "300 alerts accepted")
            tap.eq(metric(d, "delivered", "sp", 1, timeout=30), 1, "split: delivered")
            for ch in ("#s1", "#s2"):
                rs = [r for r in sl.matching("/chat.postMessage") if r.json()["channel"] == ch]
                tap.ok(len(rs) >= 3, "%s: several chunks" % ch, len(rs))
                tap.ok(all(esc_len(r.json()["text"]) < limit for r in rs),
                       "%s: every chunk below 40000 escaped bytes" % ch)
                seen = []
                for r in rs:
                    seen += re.findall(r"^\[(\d{3})\] ", r.json()["text"], re.M)
                tap.eq(seen, ["%03d" % i for i in range(n)],
                       "%s: every alert once, chunks in order" % ch)
            d.post_alerts([{"labels": {"alertname": "Huge", "n": "a"},
                            "annotations": {"description": "y" * 5000}},
                           {"labels": {"alertname": "Huge", "n": "b"},
                            "annotations": {"description": "small"}}])
            tap.eq(metric(d, "delivered", "big", 2, timeout=20), 2, "too big: delivered")
            rs = [r.json()["text"] for r in sl.matching("/chat.postMessage")
                  if r.json()["channel"] == "#big" and "Huge" not in r.json()["text"]
                  and ("[a]" in r.json()["text"] or "[b]" in r.json()["text"])]
            tap.eq(len(rs), 2, "too big: the big alert alone, then the other", rs)
            if len(rs) == 2:
                tap.ok(rs[0].startswith("[a] y") and rs[0].endswith("\u2026[truncated]"),
                       "too big: sent truncated with the marker", rs[0][-40:])
                tap.ok(esc_len(rs[0]) < 2000, "too big: cut below the limit")
                tap.eq(rs[1], "[b] small", "too big: the next alert in its own chunk")


def check_config(tap):
    with h.Daemon() as d:
        bad = os.path.join(d.dir, "bad.ini")
        with open(bad, "w") as f:
            f.write("[receiver.a]\n"                      # 1
                    "type = slack\n"                      # 2
                    "template_type = html\n"              # 3
                    "[receiver.b]\n"                      # 4
                    "type = slack\n"                      # 5
                    "channels = #x\n"                     # 6
                    "[receiver.c]\n"                      # 7
                    "type = slack\n"                      # 8
                    "webhook = ftp://x\n"                 # 9
                    "max_message_size = 10\n"             # 10
                    "colour = red\n")                     # 11
        p = subprocess.run([h.NOTIFYD, "--check-config", bad], capture_output=True,
                           timeout=20)
        out = p.stderr.decode() + p.stdout.decode()
        tap.ok(p.returncode != 0, "bad config refused", out)
        for want in ("bad.ini:1: [receiver.a] token: missing key",
                     "bad.ini:3: [receiver.a] template_type: invalid value \"html\"",
                     "bad.ini:6: [receiver.b] token: missing key",
                     "bad.ini:9: [receiver.c] webhook: want an http",
                     "bad.ini:10: [receiver.c] max_message_size: want at least",
                     "bad.ini:11: [receiver.c] colour"):
            tap.ok(want in out, "check-config: " + want, out)


def body(tap):
    check_config(tap)
    wire_format(tap)
    verdicts(tap)
    splitting(tap)


if __name__ == "__main__":
    h.run_main(body, 110)
