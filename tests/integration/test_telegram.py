#!/usr/bin/env python3
"""The Telegram receiver against a local stand-in (telegram_standin.py): the exact wire
format with each parse_mode (none with mentions, HTML, MarkdownV2) and one request per
channel, a flood answer (429 + parameters.retry_after) deferred then delivered, a platform
error failing at once with its code in the log and the token nowhere in the log, the
split of 300 long alerts into ordered chunks within the limit, an alert too big alone sent
cut with a marker, and --check-config naming file, line and key."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from telegram_standin import Telegram, utf16_len  # noqa: E402

TOKEN = "123456:AAH-secret_TOKEN"
TEMPLATES = '{{ define "tg.msg" }}MSG {{ .CommonLabels.alertname }}{{ end }}\n'


def daemon(cfg, env=None):
    cfg += "\n[template]\nfiles = tg.tmpl\n"
    d = h.Daemon(cfg, env=env)
    with open(os.path.join(d.dir, "tg.tmpl"), "w") as f:
        f.write(TEMPLATES)
    return d


def rcv(tg, channels, extra=""):
    return ("type = telegram\ntoken = %s\napi_url = %s/\nchannels = %s\n%s"
            % (TOKEN, tg.url, channels, extra))


def delivered(d, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_delivered_total", want, timeout,
                         receiver=name, type="telegram")


def failed(d, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_failed_total", want, timeout,
                         receiver=name, type="telegram")


def wire_format(tap):
    with Telegram(TOKEN) as tg:
        cfg = h.config({
            "plain": rcv(tg, "-1001, @chan", "mentioned_users = alice, @bob_x\n"
                         "template = tg.msg\n"),
            "html": rcv(tg, "-1002", "parse_mode = HTML\ntemplate = tg.msg\n"),
            "md": rcv(tg, "-1003", "parse_mode = MarkdownV2\ntemplate = tg.msg\n"
                      "mentioned_users = carol_y\n"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg) as d:
            d.start()
            name = "Disk<&>_*.!\\"
            tap.eq(d.post_alerts([{"labels": {"alertname": name}}]).status, 200,
                   "alert accepted")
            for r in ("plain", "html", "md"):
                tap.eq(delivered(d, r, 1), 1, "%s: delivered" % r)
            reqs = tg.sends()
            tap.eq(len(reqs), 4, "4 requests (2 channels + 1 + 1)", reqs)
            for r in reqs:
                tap.eq((r.method, r.path, r.headers.get("content-type")),
                       ("POST", "/bot%s/sendMessage" % TOKEN, "application/json"),
                       "POST /bot<token>/sendMessage, application/json")
                tap.eq(r.answer[0], 200, "accepted by the stand-in", r.answer)
            by = {}
            for r in reqs:
                by[r.json()["chat_id"]] = r.json()
            plain_text = "MSG " + name + "\n@alice @bob_x "
            tap.eq(by.get("-1001"), {"chat_id": "-1001", "text": plain_text},
                   "no parse_mode: body field by field, mentions appended as NM does")
            tap.eq(by.get("@chan"), {"chat_id": "@chan", "text": plain_text},
                   "second channel: the same message")
            tap.eq(by.get("-1002"), {"chat_id": "-1002", "parse_mode": "HTML",
                                     "text": "MSG Disk&lt;&amp;&gt;_*.!\\"},
                   "HTML: <, >, & escaped")
            tap.eq(by.get("-1003"), {"chat_id": "-1003", "parse_mode": "MarkdownV2",
                                     "text": "MSG Disk<&\\>\\_\\*\\.\\!\\\\\n@carol\\_y "},
                   "MarkdownV2: reserved characters and the backslash escaped")
            seen = {r.json()["chat_id"]: r.plain for r in reqs}
            tap.eq(seen.get("-1003"), "MSG " + name + "\n@carol_y ",
                   "MarkdownV2: Telegram reads back the original text")


def rate_limit_and_errors(tap):
    with Telegram(TOKEN) as tg:
        tg.script["-2001"] = [("flood", 1), "ok"]
        tg.script["-2002"] = [("error", 403, "Forbidden: bot was blocked by the user")]
        # A proxy's error page that quotes the request line, token included.
        tg.script["-2003"] = [("raw", 502, "<h1>502</h1> POST /bot%s/sendMessage" % TOKEN)]
        cfg = h.config({
            "rl": rcv(tg, "-2001", "retry_initial = 10ms\nretry_max = 20ms\n"),
            "bad": rcv(tg, "-2002"),
            "down": "type = telegram\ntoken = %s\napi_url = http://127.0.0.1:%d\n"
                    "channels = 1\nretry_max_attempts = 1\n" % (TOKEN, h.free_port()),
            "proxy": rcv(tg, "-2003", "retry_max_attempts = 1\n"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts([{"labels": {"alertname": "RL"}}]).status, 200,
                   "alert accepted")
            tap.eq(delivered(d, "rl", 1), 1, "429: delivered in the end")
            rl = tg.sends("-2001")
            tap.eq([r.answer[0] for r in rl], [429, 200], "429: sent again once")
            if len(rl) == 2:
                tap.ok(rl[1].t - rl[0].t >= 0.9,
                       "429: waited parameters.retry_after (1 s), not the 10 ms backoff",
                       rl[1].t - rl[0].t)
            tap.eq(failed(d, "bad", 1), 1, "403: failed")
            tap.eq(failed(d, "down", 1), 1, "connection refused: failed")
            tap.eq(failed(d, "proxy", 1), 1, "502 from a proxy: failed after one attempt")
            time.sleep(0.5)
            tap.eq(len(tg.sends("-2002")), 1, "403: no retry")
            log = "\n".join(d.stderr_lines)
            tap.ok("error_code 403: Forbidden: bot was blocked by the user" in log,
                   "403: code and description logged", log)
            tap.ok(("POST /bot<token>/sendMessage" in log
                    or "POST /bot\\u003ctoken\\u003e/sendMessage" in log),
                   "a quoted request line is logged with the token replaced", log)
            tap.ok("secret_TOKEN" not in log, "the token is nowhere in the log", log)


def split(tap):
    with Telegram(TOKEN) as tg:
        cfg = h.config({"big": rcv(tg, "-3001, -3002")},
                       batch="max_wait = 300ms\nmax_size = 1000\n")
        with daemon(cfg) as d:
            d.start()
            alerts = [{"labels": {"alertname": "Big", "id": "A%03d" % i},
                       "annotations": {"message": "é" * 40 + " %03d " % i + "x" * 160}}
                      for i in range(300)]
            tap.eq(d.post_alerts(alerts).status, 200, "300 alerts accepted")
            tap.eq(delivered(d, "big", 1, timeout=20), 1, "one notification delivered")
            for chat in ("-3001", "-3002"):
                reqs = tg.sends(chat)
                tap.ok(len(reqs) > 1, "%s: several chunks" % chat, len(reqs))
                tap.ok(all(r.answer[0] == 200 for r in reqs), "%s: all accepted" % chat)
                texts = [r.json()["text"] for r in reqs]
                tap.ok(all(utf16_len(t) <= 4096 and len(t.encode()) <= 4096 for t in texts),
                       "%s: each chunk within 4096 bytes and UTF-16 units" % chat,
                       [len(t.encode()) for t in texts])
                ids = [w for t in texts for w in t.split()
                       if len(w) == 4 and w[0] == "A" and w[1:].isdigit()]
                tap.eq(ids, ["A%03d" % i for i in range(300)],
                       "%s: every alert in exactly one chunk, in order" % chat)


def truncated(tap):
    with Telegram(TOKEN) as tg:
        cfg = h.config({"t": rcv(tg, "-4001", "parse_mode = MarkdownV2\n")},
                       batch="max_wait = 100ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts([{"labels": {"alertname": "Huge"},
                                   "annotations": {"message": "a.b" * 5000}}]).status,
                   200, "alert accepted")
            tap.eq(delivered(d, "t", 1), 1, "a too-big alert is delivered")
            reqs = tg.sends("-4001")
            tap.eq(len(reqs), 1, "one message")
            if reqs:
                t = reqs[0].json()["text"]
                tap.ok(t.endswith("\u2026\\[truncated\\]"), "cut with a visible marker", t[-40:])
                tap.ok(len(t.encode()) <= 4096 and len(t.encode()) > 3500,
                       "cut near the limit, not over it", len(t.encode()))
                tap.eq(reqs[0].answer[0], 200, "accepted (escapes intact after the cut)",
                       reqs[0].answer)


def check_config(tap):
    with h.Daemon() as d:
        bad = os.path.join(d.dir, "bad.ini")
        with open(bad, "w") as f:
            f.write("[receiver.a]\n"                      # 1
                    "type = telegram\n"                   # 2
                    "parse_mode = Markdown\n"             # 3
                    "max_message_size = lots\n"           # 4
                    "colour = red\n"                      # 5
                    "[receiver.b]\n"                      # 6
                    "type = telegram\n"                   # 7
                    "token = 1:x\n"                       # 8
                    "api_url = ftp://x\n")                # 9
        p = subprocess.run([h.NOTIFYD, "--check-config", bad], capture_output=True,
                           timeout=20)
        out = p.stderr.decode() + p.stdout.decode()
        tap.ok(p.returncode != 0, "bad config refused", out)
        for want in ("bad.ini:1: [receiver.a] token: missing key",
                     "bad.ini:1: [receiver.a] channels: missing key",
                     "bad.ini:3: [receiver.a] parse_mode: invalid value \"Markdown\"",
                     "bad.ini:4: [receiver.a] max_message_size:",
                     "bad.ini:5: [receiver.a] colour:",
                     "bad.ini:9: [receiver.b] api_url: want an http:// or https:// URL"):
            tap.ok(want in out, "check-config: " + want, out)


def body(tap):
    check_config(tap)
    wire_format(tap)
    rate_limit_and_errors(tap)
    split(tap)
    truncated(tap)


if __name__ == "__main__":
    h.run_main(body, 100)
