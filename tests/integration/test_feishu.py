#!/usr/bin/env python3
"""The Feishu receiver against a local stand-in (feishu_standin.py): the exact wire format of
bot text and post messages and of app (batch_send) text and post messages, field by field;
the bot signature (recomputed by the stand-in, and a retried request signed again with a new
timestamp); the tenant token (one fetch for 100 notifications, a new one after a
token-invalid answer and after expiry); rate limits (9499 after the backoff, 429 +
x-ogw-ratelimit-reset after that many seconds) and errors that fail at once with the code in
the log (19021 bad signature, 19024 keyword missing); splitting (300 alerts with long
annotations as several requests each within 20000 bytes, in order, every alert exactly once
per batch of recipients; an alert alone over the limit cut with a visible marker);
`notifyd test-receiver` exit 0 and 1; and --check-config errors naming file:line:key."""

import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from feishu_standin import Feishu, sign  # noqa: E402

TEMPLATES = (
    '{{ define "fs.msg" }}MSG {{ .CommonLabels.alertname }}{{ end }}\n'
    '{{ define "fs.title" }}TITLE {{ .CommonLabels.alertname }}{{ end }}\n'
    '{{ define "fs.post" }}{"zh_cn":{"content":[[{"tag":"text","text":"MSG '
    '{{ .CommonLabels.alertname | escape }}"},{"tag":"a","text":"runbook",'
    '"href":"https://example.com/rb?a=1&b=2"}],[{"tag":"text","text":"second line"}]]}}'
    '{{ end }}\n'
    '{{ define "fs.list" }}{{ range .Alerts }}<{{ .Labels.idx }}> '
    '{{ .Annotations.summary }}\n{{ end }}{{ end }}\n'
    '{{ define "fs.postlist" }}{"zh_cn":{"content":[{{ range $i, $a := .Alerts }}'
    '{{ if $i }},{{ end }}[{"tag":"text","text":"<{{ $a.Labels.idx }}> '
    '{{ $a.Annotations.summary | escape }}"}]{{ end }}]}}{{ end }}\n')

SECRET = "SEC0123456789abcdef+/="
APP = ("cli_a1b2c3", "app s3cret&=")


def daemon(cfg, env=None):
    cfg += "\n[template]\nfiles = fs.tmpl\n"
    d = h.Daemon(cfg, env=env)
    with open(os.path.join(d.dir, "fs.tmpl"), "w") as f:
        f.write(TEMPLATES)
    return d


def alerts(*names):
    return [{"labels": {"alertname": n}} for n in names]


def delivered(d, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_delivered_total", want, timeout,
                         receiver=name, type="feishu")


def failed(d, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_failed_total", want, timeout,
                         receiver=name, type="feishu")


def clean_exit(tap, d, what):
    """SIGTERM, exit 0: under the sanitizers a leak or a runtime error shows here."""
    d.signal(signal.SIGTERM)
    tap.eq(d.wait_exit(15), 0, "%s: exit 0 after SIGTERM" % what, d.stderr_text())
    time.sleep(0.2)  # the stderr reader drains the pipe
    tap.ok(not re.search(r"Sanitizer|runtime error", "\n".join(d.stderr_lines)),
           "%s: no sanitizer report" % what, d.stderr_text())


def app_rcv(fs, extra):
    return ("type = feishu\napp_id = %s\napp_secret = %s\napi_url = %s\n%s"
            % (APP[0], APP[1], fs.api_url, extra))


def wire_format(tap):
    with Feishu(secrets={"txt": SECRET, "post": SECRET}, app=APP) as fs:
        cfg = h.config({
            "txt": "type = feishu\nwebhook = %s\nsecret = env:FS_SECRET\n"
                   "keywords = alert, prod\ntemplate_type = text\ntemplate = fs.msg\n"
                   % fs.hook_url("txt"),
            "post": "type = feishu\nwebhook = %s\nsecret = %s\ntemplate = fs.post\n"
                    "title_template = fs.title\nkeywords = kw\n" % (fs.hook_url("post"), SECRET),
            "plain": "type = feishu\nwebhook = %s\n" % fs.hook_url("plain"),
            "apptext": app_rcv(fs, "template_type = text\ntemplate = fs.msg\n"
                                   "user = u1, u2\ndepartment = od-1\n"),
            "apppost": app_rcv(fs, "template = fs.post\ntitle_template = fs.title\n"
                                   "user = u3\n"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg, env={"FS_SECRET": SECRET}) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("Disk<&>")).status, 200, "alert accepted")
            for name in ("txt", "post", "plain", "apptext", "apppost"):
                tap.eq(delivered(d, name, 1), 1, "%s: delivered" % name)

            r = fs.hook("txt")
            tap.eq(len(r), 1, "bot text: one request")
            if r:
                r = r[0]
                body = r.json()
                tap.eq(r.method, "POST", "bot text: POST")
                tap.eq(r.headers.get("content-type"), "application/json; charset=utf-8",
                       "bot text: Content-Type")
                tap.eq(r.sig, "ok", "bot text: signature recomputed by the stand-in, fresh")
                tap.eq(body, {
                    "msg_type": "text",
                    "content": {"text": "MSG Disk<&>\n\n[Keywords] alert,prod"},
                    "timestamp": body.get("timestamp"),
                    "sign": sign(SECRET, int(body.get("timestamp", "0"))),
                }, "bot text: body field by field (keywords appended as NM does)")
                tap.ok(abs(int(body["timestamp"]) - time.time()) < 30,
                       "bot text: timestamp in seconds, now", body["timestamp"])
                tap.ok(b"\\u003c" in r.body and b"\\u0026" in r.body,
                       "bot text: <, & escaped as Go does", r.body)

            r = fs.hook("post")
            tap.eq(len(r), 1, "bot post: one request")
            if r:
                body = r[0].json()
                tap.eq(r[0].sig, "ok", "bot post: signature verified")
                tap.eq(sorted(body), ["content", "msg_type", "sign", "timestamp"],
                       "bot post: the fields")
                tap.eq(body.get("msg_type"), "post", "bot post: msg_type post")
                tap.eq(body.get("content"), {"post": {"zh_cn": {
                    "content": [
                        [{"tag": "text", "text": "MSG Disk<&>"},
                         {"tag": "a", "text": "runbook",
                          "href": "https://example.com/rb?a=1&b=2"}],
                        [{"tag": "text", "text": "second line"}],
                        [{"tag": "text", "text": "[Keywords] kw"}]],
                    "title": "TITLE Disk<&>"}}},
                    "bot post: content field by field (title added, keywords paragraph last)")

            r = fs.hook("plain")
            tap.eq(len(r), 1, "no secret: one request")
            if r:
                body = r[0].json()
                tap.eq(sorted(body), ["content", "msg_type"], "no secret: no timestamp, no sign")
                post = body.get("content", {}).get("post", {})
                tap.eq(sorted(post), ["en_us"], "default nm.feishu.post: en_us")
                en = post.get("en_us", {})
                tap.ok(en.get("title", "").startswith("[FIRING]"),
                       "default title nm.default.subject", en)
                paras = en.get("content", [])
                tap.ok(paras and paras[0] == [{"tag": "text", "text": "[FIRING] "}]
                       and [{"tag": "text", "text": "  alertname: Disk<&>"}] in paras,
                       "default post: one paragraph per line", paras)

            toks = fs.token_fetches()
            tap.eq(len(toks), 1, "app: one token fetch for two receivers of the same app")
            if toks:
                tap.eq(toks[0].method, "POST", "token: POST")
                tap.eq(toks[0].headers.get("content-type"), "application/json; charset=utf-8",
                       "token: Content-Type")
                tap.eq(toks[0].json(), {"app_id": APP[0], "app_secret": APP[1]},
                       "token: body {app_id, app_secret}")
            sends = fs.batch()
            tap.eq(len(sends), 2, "app: two batch_send requests")
            by_type = {s.json().get("msg_type"): s for s in sends}
            s = by_type.get("text")
            if s:
                tap.eq(s.headers.get("authorization"), "Bearer t-1", "app: Bearer token")
                tap.eq(s.headers.get("content-type"), "application/json; charset=utf-8",
                       "app: Content-Type")
                tap.eq(s.json(), {"msg_type": "text", "content": {"text": "MSG Disk<&>"},
                                  "user_ids": ["u1", "u2"], "department_ids": ["od-1"]},
                       "app text: body field by field")
            else:
                tap.ok(False, "app text: sent", sends)
            s = by_type.get("post")
            if s:
                tap.eq(s.json(), {"msg_type": "post", "content": {"post": {"zh_cn": {
                    "content": [
                        [{"tag": "text", "text": "MSG Disk<&>"},
                         {"tag": "a", "text": "runbook",
                          "href": "https://example.com/rb?a=1&b=2"}],
                        [{"tag": "text", "text": "second line"}]],
                    "title": "TITLE Disk<&>"}}}, "user_ids": ["u3"]},
                    "app post: body field by field (no keywords, no department_ids)")
            else:
                tap.ok(False, "app post: sent", sends)
            log = "\n".join(d.stderr_lines)
            # The token is matched as a word: "t-1" also occurs inside other words.
            leaks = [ln for ln in d.stderr_lines
                     if SECRET in ln or APP[1] in ln or re.search(r"(?<![\w-])t-1(?![\w-])", ln)]
            tap.eq(leaks, [], "neither secrets nor the token are logged")


def signing_and_errors(tap):
    with Feishu(secrets={"rs": "resign", "wrong": "the real one"},
                keywords={"kw": ["needed"], "kwok": ["needed"]}) as fs:
        fs.script["rs"] = [9499, 0]
        fs.script["legacy"] = [{"legacy": True, "code": 0}]
        cfg = h.config({
            "rs": "type = feishu\nwebhook = %s\nsecret = resign\nretry_initial = 1100ms\n"
                  "retry_jitter = 0\n" % fs.hook_url("rs"),
            "wrong": "type = feishu\nwebhook = %s\nsecret = not the real one\n"
                     % fs.hook_url("wrong"),
            "kw": "type = feishu\nwebhook = %s\nkeywords = other\n" % fs.hook_url("kw"),
            "kwok": "type = feishu\nwebhook = %s\nkeywords = needed\ntemplate_type = text\n"
                    % fs.hook_url("kwok"),
            "legacy": "type = feishu\nwebhook = %s\n" % fs.hook_url("legacy"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("A")).status, 200, "alert accepted")
            tap.eq(delivered(d, "rs", 1), 1, "9499 then 0: delivered")
            r = fs.hook("rs")
            tap.eq([x.code for x in r], [9499, 0], "9499: deferred, then sent again once")
            if len(r) == 2:
                tap.ok(r[1].t - r[0].t >= 1.0, "9499: sent again after the backoff",
                       r[1].t - r[0].t)
                tap.eq([x.sig for x in r], ["ok", "ok"], "both attempts signed and fresh")
                tap.ok(r[0].json()["timestamp"] != r[1].json()["timestamp"],
                       "the retry signed again with a new timestamp",
                       (r[0].json()["timestamp"], r[1].json()["timestamp"]))
                tap.ok(r[0].json()["sign"] != r[1].json()["sign"], "and a new sign")

            tap.eq(failed(d, "wrong", 1), 1, "wrong secret: failed")
            tap.eq(failed(d, "kw", 1), 1, "keyword missing: failed")
            tap.eq(delivered(d, "kwok", 1), 1, "keyword present: delivered")
            tap.eq(delivered(d, "legacy", 1), 1, "older answer StatusCode 0: delivered")
            time.sleep(0.5)
            w = fs.hook("wrong")
            tap.eq([(x.code, x.sig.startswith("sign ") if x.sig else None) for x in w],
                   [(19021, True)], "wrong secret: the stand-in saw a bad sign, no retry")
            tap.eq([x.code for x in fs.hook("kw")], [19024], "19024: no retry")
            log = "\n".join(d.stderr_lines)
            tap.ok(re.search(r'receiver="?wrong"?.*code 19021: sign match fail', log),
                   "19021: code and msg in the log", log[-2000:])
            tap.ok(re.search(r'receiver="?kw"?.*code 19024: Key Words Not Found', log),
                   "19024: code and msg in the log", log[-2000:])
            k = fs.hook("kwok")
            if k:
                tap.ok(k[0].json()["content"]["text"].endswith("\n\n[Keywords] needed"),
                       "text: the keywords appended")
            tap.ok("resign" not in log and "the real one" not in log, "no secret logged")


def tokens(tap):
    with Feishu(app=APP) as fs:
        cfg = h.config({
            "app": app_rcv(fs, "template_type = text\ntemplate = fs.msg\nuser = u1\n"
                               "max_in_flight = 16\n"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg) as d:
            d.start()
            names = ["N%03d" % i for i in range(100)]
            tap.eq(d.post_alerts(alerts(*names)).status, 200, "100 alerts accepted")
            tap.eq(delivered(d, "app", 100, timeout=30), 100, "100 notifications delivered")
            tap.eq(len(fs.token_fetches()), 1, "one token fetch for 100 notifications")
            sends = fs.batch()
            tap.eq(len(sends), 100, "100 batch_send requests")
            tap.eq({s.headers.get("authorization") for s in sends}, {"Bearer t-1"},
                   "all with the one token")
            tap.eq(sorted(s.json()["content"]["text"] for s in sends),
                   ["MSG " + n for n in names], "every notification once")

            # The token is refused: fetched again, the message sent again once with it.
            fs.expire = 2
            fs.script["batch_send"] = [{"status": 400, "code": 99991663}, 0]
            d.post_alerts(alerts("Refused"))
            tap.eq(delivered(d, "app", 101), 101, "delivered after a token-invalid answer")
            tap.eq(len(fs.token_fetches()), 2, "99991663: the token fetched again")
            last = fs.batch()[100:]
            tap.eq([s.code for s in last], [99991663, 0], "99991663: sent again once")
            if len(last) == 2:
                tap.eq([s.headers.get("authorization") for s in last],
                       ["Bearer t-1", "Bearer t-2"], "sent again with the new token")

            # t-2 expires after 2 s: the daemon keeps it 1.5 s at most.
            time.sleep(2.2)
            d.post_alerts(alerts("After"))
            tap.eq(delivered(d, "app", 102), 102, "delivered after the token expired")
            tap.eq(len(fs.token_fetches()), 3, "a new token after expiry")
            tap.eq([(s.code, s.headers.get("authorization")) for s in fs.batch()[102:]],
                   [(0, "Bearer t-3")], "the expired token was not used")
            clean_exit(tap, d, "tokens")


def rate_limit(tap):
    with Feishu(app=APP) as fs:
        fs.script["batch_send"] = [
            {"status": 429, "code": 99991400,
             "headers": {"x-ogw-ratelimit-limit": "100", "x-ogw-ratelimit-reset": "2"}}, 0]
        cfg = h.config({
            "app": app_rcv(fs, "user = u1\nretry_initial = 100ms\nretry_jitter = 0\n"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("R")).status, 200, "alert accepted")
            tap.eq(delivered(d, "app", 1), 1, "429 then 0: delivered")
            r = fs.batch()
            tap.eq([(x.status, x.code) for x in r], [(429, 99991400), (200, 0)],
                   "429 + 99991400: deferred, then sent again")
            if len(r) == 2:
                tap.ok(r[1].t - r[0].t >= 1.9,
                       "sent again after x-ogw-ratelimit-reset (2 s), not the 100 ms backoff",
                       r[1].t - r[0].t)


def idx_alerts(n, summary):
    return [{"labels": {"alertname": "Big", "idx": "%03d" % i},
             "annotations": {"summary": summary(i)}} for i in range(n)]


def idxs(text):
    return re.findall(r"<(\d{3})>", text)


def post_text(body):
    return "\n".join(el.get("text", "") for para in
                     body["content"]["post"]["zh_cn"]["content"] for el in para)


def split(tap):
    long = lambda i: ("alert %03d " % i) + "x" * 180  # noqa: E731
    with Feishu(app=APP) as fs:
        cfg = h.config({
            "bot": "type = feishu\nwebhook = %s\ntemplate = fs.postlist\nkeywords = kw\n"
                   % fs.hook_url("bot"),
            "app": app_rcv(fs, "template_type = text\ntemplate = fs.list\n"
                               "user = u1, u2, u3\nbatch_size = 2\n"),
        }, batch="max_wait = 200ms\nmax_size = 1000\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(idx_alerts(300, long)).status, 200, "300 alerts accepted")
            tap.eq(delivered(d, "bot", 1, timeout=30), 1, "bot: the notification delivered")
            tap.eq(delivered(d, "app", 1, timeout=30), 1, "app: the notification delivered")
            want = ["%03d" % i for i in range(300)]
            tap.eq(fs.oversize, 0, "no body over 20000 bytes reached the stand-in")

            bots = fs.hook("bot")
            sizes = [len(r.body) for r in bots]
            tap.ok(len(bots) > 2, "bot: several chunks", len(bots))
            tap.ok(all(s <= 20000 for s in sizes), "bot: each body within 20000 bytes", sizes)
            tap.ok(max(sizes) > 15000, "bot: the chunks use the room", sizes)
            bodies = [r.json() for r in bots]
            tap.eq([i for b in bodies for i in idxs(post_text(b))], want,
                   "bot post: every alert once, in order")
            tap.ok(all(b["content"]["post"]["zh_cn"]["content"][-1] ==
                       [{"tag": "text", "text": "[Keywords] kw"}] for b in bodies),
                   "bot post: the keywords on every chunk")
            titles = [b["content"]["post"]["zh_cn"].get("title", "") for b in bodies]
            tap.ok(all(re.match(r"^\d+ firing alerts for alertname=Big$", t) for t in titles)
                   and sum(int(t.split()[0]) for t in titles) == 300,
                   "bot post: each chunk's title counts its own alerts", titles)

            sends = fs.batch()
            tap.ok(all(len(s.body) <= 20000 for s in sends), "app: each body within 20000",
                   [len(s.body) for s in sends])
            lanes = {}
            for s in sends:
                b = s.json()
                lanes.setdefault(tuple(b.get("user_ids", [])), []).append(b["content"]["text"])
            tap.eq(sorted(lanes), [("u1", "u2"), ("u3",)],
                   "app: two batches of recipients (batch_size 2)")
            for ids, texts in sorted(lanes.items()):
                tap.ok(len(texts) > 2, "app %s: several chunks" % (ids,), len(texts))
                tap.eq([i for t in texts for i in idxs(t)], want,
                       "app %s: every alert once, in order" % (ids,))
            clean_exit(tap, d, "split")


def truncated(tap):
    def summary(i):
        return "y" * 30000 if i == 1 else "small %d" % i
    with Feishu() as fs:
        cfg = h.config({
            "bot": "type = feishu\nwebhook = %s\ntemplate = fs.postlist\n"
                   "title_template = fs.title\nkeywords = kw\n" % fs.hook_url("bot"),
        }, batch="max_wait = 200ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(idx_alerts(3, summary)).status, 200, "3 alerts accepted")
            tap.eq(delivered(d, "bot", 1, timeout=20), 1, "the notification delivered")
            bots = fs.hook("bot")
            bodies = [r.json() for r in bots]
            tap.eq([idxs(post_text(b)) for b in bodies], [["000"], ["001"], ["002"]],
                   "three messages in order, the big alert alone")
            if len(bodies) == 3:
                big = bodies[1]["content"]["post"]["zh_cn"]
                tap.eq(big.get("title"), "TITLE Big", "the big alert: its title")
                tap.eq(big["content"][-1], [{"tag": "text", "text": "[Keywords] kw"}],
                       "the big alert: the keywords last")
                tap.ok(big["content"][-2][0]["text"].endswith("\u2026[truncated]"),
                       "the big alert: cut, ending with the marker",
                       big["content"][-2][0]["text"][-40:])
                tap.ok(19000 < len(bots[1].body) <= 20000,
                       "the big alert: cut just within 20000 bytes", len(bots[1].body))
            clean_exit(tap, d, "truncated")


def test_receiver(tap):
    with Feishu(keywords={"bad": ["needed"]}, app=APP) as fs:
        with h.Daemon() as d:
            path = os.path.join(d.dir, "tr.ini")
            with open(path, "w") as f:
                f.write(h.config({
                    "good": "type = feishu\nwebhook = %s\n" % fs.hook_url("good"),
                    "bad": "type = feishu\nwebhook = %s\nretry_max_attempts = 5\n"
                           % fs.hook_url("bad"),
                    "app": app_rcv(fs, "user = u1\n"),
                }))
            for name, want_rc, want_out in (
                    ("good", 0, "good (feishu): delivered"),
                    ("bad", 1, "bad (feishu): not delivered: "),
                    ("app", 0, "app (feishu): delivered"),
            ):
                p = subprocess.run([h.NOTIFYD, "test-receiver", "-c", path, name],
                                   stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
                out = p.stdout.decode() + p.stderr.decode()
                tap.eq(p.returncode, want_rc, "test-receiver %s: exit %d" % (name, want_rc),
                       out)
                tap.ok(want_out in out, "test-receiver %s: %r" % (name, want_out), out)
                if name == "bad":
                    tap.ok("code 19024: Key Words Not Found" in out,
                           "test-receiver bad: the code and msg printed", out)
                    tap.eq(len(fs.hook("bad")), 1, "test-receiver bad: one attempt")
            tap.eq([(r.code, r.headers.get("authorization")) for r in fs.batch()],
                   [(0, "Bearer t-1")], "test-receiver app: a token, then batch_send")
            g = fs.hook("good")
            tap.eq(len(g), 1, "test-receiver good: one request")
            if g:
                tap.ok("verify" in json.dumps(g[0].json()), "the verify alert sent",
                       g[0].body[:300])


def check_config(tap):
    with h.Daemon() as d:
        bad = os.path.join(d.dir, "bad.ini")
        with open(bad, "w") as f:
            f.write("[receiver.a]\n"                      # 1
                    "type = feishu\n"                     # 2
                    "template_type = card\n"              # 3
                    "[receiver.b]\n"                      # 4
                    "type = feishu\n"                     # 5
                    "user = u1\n"                         # 6
                    "[receiver.c]\n"                      # 7
                    "type = feishu\n"                     # 8
                    "webhook = http://x/hook\n"           # 9
                    "app_secret = s\n"                    # 10
                    "[receiver.d]\n"                      # 11
                    "type = feishu\n"                     # 12
                    "app_id = a\napp_secret = s\n"        # 13-14
                    "department = d1\n"                   # 15
                    "keywords = k\n"                      # 16
                    "max_message_size = 100\n"            # 17
                    "[receiver.e]\n"                      # 18
                    "type = feishu\n"                     # 19
                    "app_id = a\napp_secret = s\n"        # 20-21
                    "user = u1, u2, u3\n"                 # 22
                    "title_template = nope\n"             # 23
                    "[receiver.f]\n"                      # 24
                    "type = feishu\n"                     # 25
                    "webhook = http://x/hook\n"           # 26
                    "chat_ids = c1\n")                    # 27
        p = subprocess.run([h.NOTIFYD, "--check-config", bad], capture_output=True,
                           timeout=20)
        out = p.stderr.decode() + p.stdout.decode()
        tap.ok(p.returncode != 0, "bad config refused", out)
        for want in ("bad.ini:1: [receiver.a] webhook: missing key",
                     "bad.ini:3: [receiver.a] template_type: invalid value \"card\"",
                     "bad.ini:6: [receiver.b] app_id: missing key",
                     "bad.ini:6: [receiver.b] app_secret: missing key",
                     "bad.ini:10: [receiver.c] app_secret: webhook (bot) and app_secret (app)",
                     "bad.ini:16: [receiver.d] keywords: only for a bot",
                     "bad.ini:23: [receiver.e] title_template: ",
                     "bad.ini:27: [receiver.f] chat_ids: unknown key"):
            tap.ok(want in out, "check-config: " + want, out)


def body(tap):
    check_config(tap)
    wire_format(tap)
    signing_and_errors(tap)
    tokens(tap)
    rate_limit(tap)
    split(tap)
    truncated(tap)
    test_receiver(tap)


if __name__ == "__main__":
    h.run_main(body, 170)
