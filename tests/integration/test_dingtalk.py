#!/usr/bin/env python3
"""The DingTalk receiver against a local stand-in (dingtalk_standin.py): the exact wire
format of chatbot text and markdown messages (keywords, at_mobiles, at_users), the robot
signature (recomputed, fresh, encoded once), conversation tokens (one fetch for many
notifications, a new one after expiry and after errcode 42001), the verdicts (310000 fails
at once with the code in the log, 130101 is retried), and the throttle (5/2s: never more
than 5 requests in 2 s, all delivered, another receiver not slowed), and the fan-out: a
receiver with two chat ids sends every message to each, a long group is split by whole
alerts under the mode's limit (each chunk in order, every alert exactly once per target),
and an alert alone over the limit is sent cut with a visible marker."""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from dingtalk_standin import DingTalk  # noqa: E402

TEMPLATES = ('{{ define "dt.msg" }}MSG {{ .CommonLabels.alertname }}{{ end }}\n'
             '{{ define "dt.title" }}TITLE {{ .CommonLabels.alertname }}{{ end }}\n'
             '{{ define "dt.list" }}{{ range .Alerts }}<{{ .Labels.idx }}> '
             '{{ .Annotations.summary }}\n{{ end }}{{ end }}\n')


def daemon(cfg, env=None):
    cfg += "\n[template]\nfiles = dt.tmpl\n"
    d = h.Daemon(cfg, env=env)
    with open(os.path.join(d.dir, "dt.tmpl"), "w") as f:
        f.write(TEMPLATES)
    return d


def alerts(*names):
    return [{"labels": {"alertname": n}} for n in names]


def delivered(d, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_delivered_total", want, timeout,
                         receiver=name, type="dingtalk")


def wire_format(tap):
    secret = "SEC0123456789abcdef+/="
    with DingTalk(secrets={"txt": secret, "md": secret}) as dt:
        cfg = h.config({
            "txt": "type = dingtalk\nwebhook = %s\nsecret = env:DT_SECRET\n"
                   "keywords = alert, prod\nat_mobiles = 13800000000, 13900000000\n"
                   "at_users = user1\ntemplate = dt.msg\n" % dt.robot_url("txt"),
            "md": "type = dingtalk\nwebhook = %s\nsecret = %s\ntemplate_type = markdown\n"
                  "template = dt.msg\ntitle_template = dt.title\nkeywords = kw\n"
                  "at_mobiles = 13800000000\nat_all = true\n" % (dt.robot_url("md"), secret),
            "plain": "type = dingtalk\nwebhook = %s\n" % dt.robot_url("plain"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg, env={"DT_SECRET": secret}) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("Disk<&>")).status, 200, "alert accepted")
            for name in ("txt", "md", "plain"):
                tap.eq(delivered(d, name, 1), 1, "%s: delivered" % name)

            r = dt.matching("/robot/txt/")
            tap.eq(len(r), 1, "text: one request")
            if r:
                r = r[0]
                tap.eq(r.method, "POST", "text: POST")
                tap.eq(r.headers.get("content-type"), "application/json",
                       "text: Content-Type application/json")
                tap.eq(r.q("access_token"), "tok-txt", "text: webhook's access_token kept")
                tap.eq(r.sig, "ok", "text: signature recomputed, fresh, URL-encoded once")
                tap.eq(r.json(), {
                    "msgtype": "text",
                    "text": {"content": "MSG Disk<&>\n\n[Keywords] alert, prod"},
                    "at": {"atMobiles": ["13800000000", "13900000000"],
                           "atUserIds": ["user1"]},
                }, "text: body field by field (keywords appended, at list)")
                tap.ok(b"\\u003c" in r.body and b"\\u0026" in r.body,
                       "text: <, & escaped as Go does", r.body)

            r = dt.matching("/robot/md/")
            tap.eq(len(r), 1, "markdown: one request")
            if r:
                r = r[0]
                tap.eq(r.sig, "ok", "markdown: signature verified")
                tap.eq(r.json(), {
                    "msgtype": "markdown",
                    "markdown": {"title": "TITLE Disk<&>",
                                 "text": "MSG Disk<&>\n\n[Keywords] kw @13800000000"},
                    "at": {"atMobiles": ["13800000000"], "isAtAll": True},
                }, "markdown: body field by field (title, keywords, @mobile in the text)")

            r = dt.matching("/robot/plain/")
            tap.eq(len(r), 1, "no secret: one request")
            if r:
                tap.eq(sorted(r[0].query), ["access_token"], "no secret: no timestamp, no sign")
                body = r[0].json()
                tap.eq(sorted(body), ["msgtype", "text"], "no at list: no at object")
                tap.ok(body["text"]["content"].startswith("[FIRING"),
                       "default template nm.default.text", body)
            log = "\n".join(d.stderr_lines)
            tap.ok(secret not in log and "tok-txt" not in log,
                   "neither the secret nor the webhook's token is logged")


def retry_signs_again(tap):
    secret = "resign"
    with DingTalk(secrets={"rs": secret}) as dt:
        dt.script["/robot/rs"] = [130101, 0]
        cfg = h.config({
            "rs": "type = dingtalk\nwebhook = %s\nsecret = %s\nretry_initial = 100ms\n"
                  "retry_jitter = 0\nrate_limit_delay = 1500ms\n" % (dt.robot_url("rs"), secret),
            "f": "type = dingtalk\nwebhook = %s\n" % dt.robot_url("f"),
        }, batch="max_wait = 100ms\n")
        dt.script["/robot/f"] = [310000]
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("A")).status, 200, "alert accepted")
            tap.eq(delivered(d, "rs", 1), 1, "130101 then 0: delivered")
            r = dt.matching("/robot/rs/")
            tap.eq([x.errcode for x in r], [130101, 0], "130101: deferred, then resent once")
            if len(r) == 2:
                tap.ok(r[1].t - r[0].t >= 1.4, "130101: resent after rate_limit_delay, not the "
                       "100 ms backoff",
                       r[1].t - r[0].t)
                tap.eq([x.sig for x in r], ["ok", "ok"], "both attempts signed and fresh")
                tap.ok(r[0].q("timestamp") != r[1].q("timestamp"),
                       "each attempt signed again with a new timestamp")

            got = d.wait_metric("notifyd_notifications_failed_total", 1, 10, receiver="f",
                                type="dingtalk")
            tap.eq(got, 1, "310000: failed")
            time.sleep(0.5)
            tap.eq(len(dt.matching("/robot/f/")), 1, "310000: no retry")
            log = "\n".join(d.stderr_lines)
            tap.ok("errcode 310000: scripted 310000" in log, "310000: code and errmsg logged",
                   log)


def conversation(tap):
    with DingTalk(app=("app-k", "app s&cret"), expires_in=2) as dt:
        cfg = h.config({
            "conv": "type = dingtalk\nchat_ids = chat-1\napp_key = app-k\n"
                    "app_secret = app s&cret\napi_url = %s/\ntemplate = dt.msg\n" % dt.url,
        }, batch="max_wait = 100ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alerts(*["C%d" % i for i in range(5)])).status, 200,
                   "5 alerts accepted")
            tap.eq(delivered(d, "conv", 5), 5, "5 conversation messages delivered")
            toks = dt.matching("/gettoken")
            tap.eq(len(toks), 1, "one token fetch for 5 notifications")
            if toks:
                tap.eq(toks[0].method, "GET", "gettoken: GET")
                tap.eq((toks[0].q("appkey"), toks[0].q("appsecret")), ("app-k", "app s&cret"),
                       "gettoken: appkey and appsecret, query-encoded")
            sends = dt.matching("/chat/send")
            tap.eq(len(sends), 5, "5 chat/send requests")
            tap.eq(sorted(s.json()["msg"]["text"]["content"] for s in sends),
                   ["MSG C%d" % i for i in range(5)], "chat/send: the messages")
            if sends:
                tap.eq(sends[0].json(), {"chatid": "chat-1", "msg": {
                    "msgtype": "text", "text": {"content": sends[0].json()["msg"]["text"][
                        "content"]}}}, "chat/send: body field by field")
                tap.eq({s.q("access_token") for s in sends}, {"T1"}, "chat/send: the token")
                tap.eq(sends[0].method, "POST", "chat/send: POST")

            # expires_in 2 s: the daemon keeps it 1.5 s at most.
            time.sleep(2.2)
            d.post_alerts(alerts("After"))
            tap.eq(delivered(d, "conv", 6), 6, "delivered after the token expired")
            tap.eq(len(dt.matching("/gettoken")), 2, "a new token after expiry")
            tap.eq([s.errcode for s in dt.matching("/chat/send")][5:], [0],
                   "the expired token was not used")

            dt.script["/chat/send"] = [42001, 0]
            d.post_alerts(alerts("Expired"))
            tap.eq(delivered(d, "conv", 7), 7, "delivered after errcode 42001")
            tap.eq(len(dt.matching("/gettoken")), 3, "42001: the token fetched again")
            last = dt.matching("/chat/send")[6:]
            tap.eq([s.errcode for s in last], [42001, 0], "42001: resent once")
            if len(last) == 2:
                tap.ok(last[0].q("access_token") != last[1].q("access_token"),
                       "42001: resent with the new token")


def throttle(tap):
    with DingTalk() as dt:
        cfg = h.config({
            "slow": "type = dingtalk\nwebhook = %s\nthrottle = 5/2s\n" % dt.robot_url("slow"),
            "other": "type = dingtalk\nwebhook = %s\n" % dt.robot_url("other"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg) as d:
            d.start()
            t0 = time.monotonic()
            tap.eq(d.post_alerts(alerts(*["T%02d" % i for i in range(12)])).status, 200,
                   "12 alerts accepted")
            other = dt.wait_for("/robot/other/", 12, 10)
            tap.eq(len(other), 12, "other receiver: 12 requests")
            if other:
                tap.ok(other[-1].t - t0 < 1.9, "other receiver not slowed by the throttle",
                       other[-1].t - t0)
            tap.eq(delivered(d, "slow", 12, timeout=20), 12, "throttled: all 12 delivered")
            ts = sorted(r.t for r in dt.matching("/robot/slow/"))
            tap.eq(len(ts), 12, "throttled: 12 requests, none dropped")
            # Arrival times carry a little network jitter; the daemon spaces them 2 s.
            gaps = [ts[i + 5] - ts[i] for i in range(len(ts) - 5)]
            tap.ok(gaps and min(gaps) >= 1.9, "never more than 5 requests in 2 s", gaps)
            tap.ok(ts and ts[-1] - ts[0] < 8, "throttled, not stalled", ts)


def check_config(tap):
    with h.Daemon() as d:
        bad = os.path.join(d.dir, "bad.ini")
        with open(bad, "w") as f:
            f.write("[receiver.a]\n"                      # 1
                    "type = dingtalk\n"                   # 2
                    "template_type = html\n"              # 3
                    "throttle = 5 per second\n"           # 4
                    "[receiver.b]\n"                      # 5
                    "type = dingtalk\n"                   # 6
                    "chat_ids = c1\n"                     # 7
                    "[receiver.c]\n"                      # 8
                    "type = dingtalk\n"                   # 9
                    "webhook = http://x/robot\n"          # 10
                    "conversation_throttle = 0/1s\n"     # 11
                    "[receiver.d]\n"                      # 12
                    "type = dingtalk\n"                   # 13
                    "chat_ids = c1, c2, c3\n"             # 14
                    "app_key = k\napp_secret = s\n")      # 15-16
        import subprocess
        p = subprocess.run([h.NOTIFYD, "--check-config", bad], capture_output=True,
                           timeout=20)
        out = p.stderr.decode() + p.stdout.decode()
        tap.ok(p.returncode != 0, "bad config refused", out)
        for want in ("bad.ini:1: [receiver.a] webhook: missing key",
                     "bad.ini:3: [receiver.a] template_type: invalid value \"html\"",
                     "bad.ini:4: [receiver.a] throttle: invalid value",
                     "bad.ini:7: [receiver.b] app_key: missing key",
                     "bad.ini:7: [receiver.b] app_secret: missing key",
                     "bad.ini:11: [receiver.c] conversation_throttle: invalid value"):
            tap.ok(want in out, "check-config: " + want, out)
        tap.ok("[receiver.d]" not in out, "check-config: several chat ids accepted", out)


def idx_alerts(n, summary):
    return [{"labels": {"alertname": "Big", "idx": "%03d" % i},
             "annotations": {"summary": summary(i)}} for i in range(n)]


def esc_len(s):
    # As the daemon and NM measure: the JSON-escaped length without quotes.
    return len(json.dumps(s, ensure_ascii=False)) - 2


def idxs(text):
    return re.findall(r"<(\d{3})>", text)


def split_fanout(tap):
    long = lambda i: ("alert %03d " % i) + "x" * 180  # noqa: E731
    with DingTalk(app=("app-k", "app-s")) as dt:
        cfg = h.config({
            "conv": "type = dingtalk\nchat_ids = chat-a, chat-b\napp_key = app-k\n"
                    "app_secret = app-s\napi_url = %s\ntemplate = dt.list\n"
                    "conversation_throttle = 1000/1s\n" % dt.url,
            "bot": "type = dingtalk\nwebhook = %s\ntemplate = dt.list\nkeywords = kw\n"
                   "throttle = 1000/1s\n" % dt.robot_url("bot"),
        }, batch="max_wait = 200ms\nmax_size = 1000\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(idx_alerts(300, long)).status, 200, "300 alerts accepted")
            tap.eq(delivered(d, "conv", 1, timeout=30), 1, "conv: the notification delivered")
            tap.eq(delivered(d, "bot", 1, timeout=30), 1, "bot: the notification delivered")
            want = ["%03d" % i for i in range(300)]
            sends = dt.matching("/chat/send")
            for chat in ("chat-a", "chat-b"):
                mine = [s for s in sends if s.json().get("chatid") == chat]
                texts = [s.json()["msg"]["text"]["content"] for s in mine]
                tap.ok(len(texts) > 1, "%s: several chunks" % chat, len(texts))
                tap.ok(all(esc_len(t) < 5000 for t in texts), "%s: each chunk under 5000" % chat,
                       [esc_len(t) for t in texts])
                got = [i for t in texts for i in idxs(t)]
                tap.eq(got, want, "%s: every alert once, in order" % chat)
                tap.ok(all(t.endswith("x") for t in texts), "%s: alerts whole" % chat)
            tap.eq({s.json().get("chatid") for s in sends}, {"chat-a", "chat-b"},
                   "conv: only the two chat ids")
            bots = [r.json()["text"]["content"] for r in dt.matching("/robot/bot/")]
            tap.ok(len(bots) > 1, "bot: several chunks", len(bots))
            tap.ok(all(esc_len(t) < 19960 for t in bots), "bot: each chunk under 19960",
                   [esc_len(t) for t in bots])
            tap.ok(all(t.endswith("\n\n[Keywords] kw") for t in bots),
                   "bot: the keywords on every chunk")
            tap.eq([i for t in bots for i in idxs(t)], want, "bot: every alert once, in order")


def truncated(tap):
    def summary(i):
        return "y" * 8000 if i == 1 else "small %d" % i
    with DingTalk(app=("app-k", "app-s")) as dt:
        cfg = h.config({
            "conv": "type = dingtalk\nchat_ids = chat-a\napp_key = app-k\n"
                    "app_secret = app-s\napi_url = %s\ntemplate = dt.list\n" % dt.url,
        }, batch="max_wait = 200ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(idx_alerts(3, summary)).status, 200, "3 alerts accepted")
            tap.eq(delivered(d, "conv", 1, timeout=20), 1, "the notification delivered")
            texts = [s.json()["msg"]["text"]["content"] for s in dt.matching("/chat/send")]
            tap.eq([idxs(t) for t in texts], [["000"], ["001"], ["002"]],
                   "three messages in order, the big alert alone")
            if len(texts) == 3:
                tap.ok(texts[1].endswith("\u2026[truncated]"), "the big alert ends with the marker",
                       texts[1][-40:])
                tap.ok(4900 < esc_len(texts[1]) < 5000, "the big alert cut just under 5000",
                       esc_len(texts[1]))


def body(tap):
    check_config(tap)
    wire_format(tap)
    retry_signs_again(tap)
    conversation(tap)
    throttle(tap)
    split_fanout(tap)
    truncated(tap)


if __name__ == "__main__":
    h.run_main(body, 160)
