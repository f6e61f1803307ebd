#!/usr/bin/env python3
"""The WeCom (wechat) receiver against a local stand-in (wechat_standin.py): the exact wire
format of app text and markdown messages and of group robot text and markdown messages;
the app's token (fetched once for 100 notifications, fetched again after expiry and after
errcode 42001, with the message sent again, and given up when the new token is refused
too); the verdicts (45009 deferred by rate_limit_delay then delivered, another errcode
failed at once with the code in the log, invaliduser failed); the fan-out (2500 users sent
as 3 requests of at most 1000 per chunk, parties sliced alongside), splitting (300 long
alerts as several chunks within the limit, in order, each alert once), an alert alone over
the limit sent cut with the marker; --check-config errors; `notifyd test-receiver`."""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from wechat_standin import WeCom  # noqa: E402

TEMPLATES = ('{{ define "wc.msg" }}MSG {{ .CommonLabels.alertname }}{{ end }}\n'
             '{{ define "wc.list" }}{{ range .Alerts }}<{{ .Labels.idx }}> '
             '{{ .Annotations.summary }}\n{{ end }}{{ end }}\n')

SECRET = "app secret"


def daemon(cfg, env=None):
    cfg += "\n[template]\nfiles = wc.tmpl\n"
    d = h.Daemon(cfg, env=env)
    with open(os.path.join(d.dir, "wc.tmpl"), "w") as f:
        f.write(TEMPLATES)
    return d


def app(wc, extra="", secret=SECRET):
    return ("type = wechat\ncorp_id = %s\nagent_id = %d\napi_secret = %s\napi_url = %s\n%s"
            % (wc.corp[0], wc.agent, secret, wc.api_url, extra))


def alerts(*names):
    return [{"labels": {"alertname": n}} for n in names]


def delivered(d, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_delivered_total", want, timeout,
                         receiver=name, type="wechat")


def failed(d, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_failed_total", want, timeout,
                         receiver=name, type="wechat")


def log_of(d):
    return "\n".join(d.stderr_lines)


def wire_format(tap):
    with WeCom() as wc:
        cfg = h.config({
            "atext": app(wc, "to_user = alice, bob\nto_party = 2, 3\nto_tag = 7\n"
                             "template = wc.msg\n", secret="env:WC_SECRET"),
            "amd": app(wc, "to_user = carol\ntemplate_type = markdown\ntemplate = wc.msg\n"),
            "btext": "type = wechat\nwebhook = %s\nat_users = u1, @all\n"
                     "at_mobiles = 13800000000\ntemplate = wc.msg\n" % wc.bot_url("kt"),
            "bmd": "type = wechat\nwebhook = %s\nat_users = u1, u2\ntemplate_type = markdown\n"
                   "template = wc.msg\n" % wc.bot_url("km"),
            "plain": "type = wechat\nwebhook = %s\n" % wc.bot_url("kp"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg, env={"WC_SECRET": SECRET}) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("Disk<&>")).status, 200, "alert accepted")
            for name in ("atext", "amd", "btext", "bmd", "plain"):
                tap.eq(delivered(d, name, 1), 1, "%s: delivered" % name)
            tap.eq([r.problem for r in wc.records()], [None] * len(wc.records()),
                   "every request passed the stand-in's checks")

            toks = wc.gettokens()
            tap.eq(len(toks), 1, "one token for both app receivers (same corp and secret)")
            if toks:
                tap.eq(toks[0].method, "GET", "gettoken: GET")
                tap.eq((toks[0].q("corpid"), toks[0].q("corpsecret")), ("corp-1", SECRET),
                       "gettoken: corpid and corpsecret, query-encoded")
                tap.ok("app+secret" in toks[0].raw_query, "gettoken: space as +",
                       toks[0].raw_query)
            sends = wc.sends()
            tap.eq(len(sends), 2, "two message/send requests")
            by_user = {s.json().get("touser"): s for s in sends}
            s = by_user.get("alice|bob")
            tap.ok(s is not None, "app text: sent", sends)
            if s:
                tap.eq(s.method, "POST", "app text: POST")
                tap.eq(s.q("access_token"), "WCTOKEN1", "app text: the token in the query")
                tap.eq(sorted(s.query), ["access_token"], "app text: nothing else in the query")
                tap.eq(s.headers.get("content-type"), "application/json",
                       "app text: Content-Type application/json")
                tap.eq(s.json(), {"touser": "alice|bob", "toparty": "2|3", "totag": "7",
                                  "msgtype": "text", "agentid": 1000002,
                                  "text": {"content": "MSG Disk<&>"}},
                       "app text: body field by field (agentid an integer)")
                tap.ok(b"\\u003c" in s.body and b"\\u0026" in s.body,
                       "app text: <, & escaped as Go does", s.body)
            s = by_user.get("carol")
            tap.ok(s is not None, "app markdown: sent", sends)
            if s:
                tap.eq(s.json(), {"touser": "carol", "msgtype": "markdown", "agentid": 1000002,
                                  "markdown": {"content": "MSG Disk<&>"}},
                       "app markdown: body field by field (no empty toparty, totag)")

            r = wc.bot("kt")
            tap.eq(len(r), 1, "bot text: one request")
            if r:
                tap.eq(r[0].method, "POST", "bot text: POST")
                tap.eq(r[0].headers.get("content-type"), "application/json",
                       "bot text: Content-Type application/json")
                tap.eq(r[0].json(), {"msgtype": "text", "text": {
                    "content": "MSG Disk<&>", "mentioned_list": ["u1", "@all"],
                    "mentioned_mobile_list": ["13800000000"]}},
                    "bot text: body field by field (mention lists)")
            r = wc.bot("km")
            tap.eq(len(r), 1, "bot markdown: one request")
            if r:
                tap.eq(r[0].json(), {"msgtype": "markdown", "markdown": {
                    "content": "MSG Disk<&>\n<@u1><@u2>"}},
                    "bot markdown: body field by field (<@userid> after the content)")
            r = wc.bot("kp")
            tap.eq(len(r), 1, "bot plain: one request")
            if r:
                body = r[0].json()
                tap.eq(sorted(body["text"]), ["content"], "no mentions: no mention lists")
                tap.ok(body["text"]["content"].startswith("[FIRING"),
                       "default template nm.default.text", body)
            log = log_of(d)
            tap.ok(SECRET not in log and "app+secret" not in log and "WCTOKEN1" not in log,
                   "neither the secret nor the token is logged")


def tokens(tap):
    with WeCom(expires_in=2) as wc:
        cfg = h.config({"app": app(wc, "to_user = alice\ntemplate = wc.msg\n")},
                       batch="max_wait = 100ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alerts(*["N%03d" % i for i in range(100)])).status, 200,
                   "100 alerts accepted")
            tap.eq(delivered(d, "app", 100, timeout=30), 100, "100 notifications delivered")
            tap.eq(len(wc.gettokens()), 1, "one token fetch for 100 notifications")
            sends = wc.sends()
            tap.eq(len(sends), 100, "100 message/send requests")
            tap.eq({s.q("access_token") for s in sends}, {"WCTOKEN1"}, "all with the token")
            tap.eq(sorted(s.json()["text"]["content"] for s in sends),
                   ["MSG N%03d" % i for i in range(100)], "the 100 messages")

            # expires_in 2 s: the daemon keeps it 1.5 s at most.
            time.sleep(2.2)
            d.post_alerts(alerts("After"))
            tap.eq(delivered(d, "app", 101), 101, "delivered after the token expired")
            tap.eq(len(wc.gettokens()), 2, "a new token after expiry")
            tap.eq([s.errcode for s in wc.sends()][100:], [0], "the expired token was not used")

            wc.script["send"] = [42001, 0]
            d.post_alerts(alerts("Expired"))
            tap.eq(delivered(d, "app", 102), 102, "delivered after errcode 42001")
            tap.eq(len(wc.gettokens()), 3, "42001: the token fetched again")
            last = wc.sends()[101:]
            tap.eq([s.errcode for s in last], [42001, 0], "42001: the message sent again, once")
            if len(last) == 2:
                tap.ok(last[0].q("access_token") != last[1].q("access_token"),
                       "42001: sent again with the new token")
                tap.eq(last[0].body, last[1].body, "42001: the same message")

            # A new token refused as well: once, not a loop of token fetches.
            wc.script["send"] = [40014]
            d.post_alerts(alerts("Refused"))
            tap.eq(failed(d, "app", 1), 1, "40014 twice: failed")
            time.sleep(0.3)
            tap.eq([s.errcode for s in wc.sends()][103:], [40014, 40014],
                   "40014: sent again once with a new token, then given up")
            tap.eq(len(wc.gettokens()), 4, "40014: one more token, no more")
            tap.ok("again with a new value" in log_of(d), "the reason says so", log_of(d))


def verdicts(tap):
    with WeCom() as wc, WeCom() as wc2:
        cfg = h.config({
            "slow": app(wc, "to_user = alice\ntemplate = wc.msg\nrate_limit_delay = 1500ms\n"),
            "bad": "type = wechat\nwebhook = %s\ntemplate = wc.msg\n" % wc.bot_url("kb"),
            "busy": "type = wechat\nwebhook = %s\ntemplate = wc.msg\nretry_initial = 50ms\n"
                    % wc.bot_url("kbusy"),
            "inv": app(wc2, "to_user = ghost, alice\nto_tag = 9\ntemplate = wc.msg\n"),
        }, batch="max_wait = 100ms\n")
        wc.script["send"] = [45009, 0]
        wc.script["bot:kb"] = [60020]
        wc.script["bot:kbusy"] = [-1, 0]
        wc2.script["send"] = [{"invaliduser": "ghost", "invalidtag": "9"}]
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("A")).status, 200, "alert accepted")
            tap.eq(failed(d, "bad", 1), 1, "60020: failed")
            tap.eq(delivered(d, "busy", 1), 1, "-1 (busy) then 0: delivered")
            tap.eq([r.errcode for r in wc.bot("kbusy")], [-1, 0], "-1: sent again")
            tap.eq(failed(d, "inv", 1), 1, "invaliduser: failed")
            tap.eq(delivered(d, "slow", 1), 1, "45009: deferred, then delivered")
            time.sleep(0.3)
            tap.eq(len(wc.bot("kb")), 1, "60020: no retry")
            tap.eq(len(wc2.sends()), 1, "invaliduser: no retry")
            log = log_of(d)
            tap.ok("errcode 60020: scripted 60020" in log, "60020: code and errmsg logged", log)
            tap.ok('invaliduser \\"ghost\\" invalidtag \\"9\\"' in log,
                   "invaliduser, invalidtag: named in the log", log)
            sends = wc.sends()
            tap.eq([s.errcode for s in sends], [45009, 0], "45009, then 0")
            if len(sends) == 2:
                tap.eq(sends[0].body, sends[1].body, "45009: the same message sent again")
                tap.ok(sends[1].t - sends[0].t >= 1.4, "45009: after rate_limit_delay",
                       sends[1].t - sends[0].t)
                tap.eq(sends[0].q("access_token"), sends[1].q("access_token"),
                       "45009: the token kept")


def idx_alerts(n, summary):
    return [{"labels": {"alertname": "Big", "idx": "%03d" % i},
             "annotations": {"summary": summary(i)}} for i in range(n)]


def esc_len(s):
    # As the daemon and NM measure: the JSON-escaped length without quotes.
    return len(json.dumps(s, ensure_ascii=False)) - 2


def idxs(text):
    return re.findall(r"<(\d{3})>", text)


def fanout(tap):
    users = ["user%04d" % i for i in range(2500)]
    parties = [str(i) for i in range(150)]
    with WeCom() as wc:
        cfg = h.config({
            "many": app(wc, "to_user = %s\nto_party = %s\ntemplate = wc.list\n"
                        % (", ".join(users), ", ".join(parties))),
        }, batch="max_wait = 200ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(idx_alerts(20, lambda i: "z" * 150)).status, 200,
                   "20 alerts accepted")
            tap.eq(delivered(d, "many", 1, timeout=20), 1, "the notification delivered")
            sends = wc.sends()
            tap.eq([s.problem for s in sends], [None] * len(sends), "every request well-formed")
            lanes = {}
            for s in sends:
                b = s.json()
                lanes.setdefault(b["touser"], []).append(b)
            tap.eq(len(lanes), 3, "three recipient batches")
            batches = sorted(lanes, key=lambda u: u.split("|")[0])
            tap.eq([len(u.split("|")) for u in batches], [1000, 1000, 500],
                   "1000, 1000 and 500 users")
            tap.ok([u for b in batches for u in b.split("|")] == users,
                   "every user once, in order", [b[:40] for b in batches])
            tap.ok([{b.get("toparty") for b in lanes[u]} for u in batches]
                   == [{"|".join(parties[:100])}, {"|".join(parties[100:])}, {None}],
                   "parties sliced by 100 alongside, on every chunk; the third batch without")
            nchunks = {len(v) for v in lanes.values()}
            tap.ok(len(nchunks) == 1 and list(nchunks)[0] > 1,
                   "each batch got the same chunks, several", nchunks)
            tap.eq(len(sends), 3 * list(nchunks)[0] if len(nchunks) == 1 else -1,
                   "3 requests per chunk")
            want = ["%03d" % i for i in range(20)]
            for u in batches:
                got = [i for b in lanes[u] for i in idxs(b["text"]["content"])]
                tap.eq(got, want, "batch %s...: every alert once, in order" % u[:8])


def split(tap):
    def long(i):
        return ("alert %03d " % i) + "x" * 180
    with WeCom() as wc:
        cfg = h.config({
            "atxt": app(wc, "to_user = alice\ntemplate = wc.list\n"),
            "bmd": "type = wechat\nwebhook = %s\ntemplate_type = markdown\ntemplate = wc.list\n"
                   "at_users = u1\n" % wc.bot_url("ks"),
        }, batch="max_wait = 200ms\nmax_size = 1000\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(idx_alerts(300, long)).status, 200, "300 alerts accepted")
            tap.eq(delivered(d, "atxt", 1, timeout=60), 1, "app: the notification delivered")
            tap.eq(delivered(d, "bmd", 1, timeout=60), 1, "bot: the notification delivered")
            want = ["%03d" % i for i in range(300)]
            texts = [s.json()["text"]["content"] for s in wc.sends()]
            tap.ok(len(texts) > 20, "app: several chunks", len(texts))
            tap.ok(all(esc_len(t) < 2048 for t in texts), "app: each chunk under 2048",
                   [esc_len(t) for t in texts])
            tap.eq([i for t in texts for i in idxs(t)], want, "app: every alert once, in order")
            tap.ok(all(t.endswith("x") for t in texts), "app: alerts whole")
            bots = [r.json()["markdown"]["content"] for r in wc.bot("ks")]
            tap.ok(len(bots) > 10, "bot markdown: several chunks", len(bots))
            tap.ok(all(esc_len(t) < 4096 for t in bots), "bot markdown: each chunk under 4096",
                   [esc_len(t) for t in bots])
            tap.ok(all(t.endswith("x\n<@u1>") for t in bots), "bot: the mention on every chunk")
            tap.eq([i for t in bots for i in idxs(t)], want, "bot: every alert once, in order")
            tap.eq([r.problem for r in wc.records()], [None] * len(wc.records()),
                   "every request within WeCom's limits")


def truncated(tap):
    def summary(i):
        return "y" * 5000 if i == 1 else "small %d" % i
    with WeCom() as wc:
        cfg = h.config({"app": app(wc, "to_user = alice\ntemplate = wc.list\n")},
                       batch="max_wait = 200ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(idx_alerts(3, summary)).status, 200, "3 alerts accepted")
            tap.eq(delivered(d, "app", 1, timeout=20), 1, "the notification delivered")
            texts = [s.json()["text"]["content"] for s in wc.sends()]
            tap.eq([idxs(t) for t in texts], [["000"], ["001"], ["002"]],
                   "three messages in order, the big alert alone")
            if len(texts) == 3:
                tap.ok(texts[1].endswith("\u2026[truncated]"), "the big alert ends with the marker",
                       texts[1][-40:])
                tap.ok(1900 < esc_len(texts[1]) < 2048, "the big alert cut just under 2048",
                       esc_len(texts[1]))


def check_config(tap):
    with h.Daemon() as d:
        bad = os.path.join(d.dir, "bad.ini")
        with open(bad, "w") as f:
            f.write("[receiver.a]\n"                          # 1
                    "type = wechat\n"                         # 2
                    "template_type = html\n"                  # 3
                    "[receiver.b]\n"                          # 4
                    "type = wechat\n"                         # 5
                    "to_user = alice\n"                       # 6
                    "[receiver.c]\n"                          # 7
                    "type = wechat\n"                         # 8
                    "webhook = http://x/send?key=k\n"         # 9
                    "to_party = 2\n"                          # 10
                    "[receiver.e]\n"                          # 11
                    "type = wechat\n"                         # 12
                    "webhook = http://x/send?key=k\n"         # 13
                    "template_type = markdown\n"              # 14
                    "at_mobiles = 138\n"                      # 15
                    "rate_limit_delay = soon\n"               # 16
                    "title_template = x\n"                    # 17
                    "[receiver.f]\n"                          # 18
                    "type = wechat\n"                         # 19
                    "to_tag = 1\ncorp_id = c\napi_secret = s\n"  # 20-22
                    "agent_id = 1\nmax_message_size = 10\n")  # 23-24
        p = subprocess.run([h.NOTIFYD, "--check-config", bad], capture_output=True,
                           timeout=20)
        out = p.stderr.decode() + p.stdout.decode()
        tap.ok(p.returncode != 0, "bad config refused", out)
        for want in ("bad.ini:1: [receiver.a] webhook: missing key",
                     "bad.ini:3: [receiver.a] template_type: invalid value \"html\"",
                     "bad.ini:6: [receiver.b] corp_id: missing key",
                     "bad.ini:6: [receiver.b] agent_id: missing key",
                     "bad.ini:6: [receiver.b] api_secret: missing key",
                     "bad.ini:9: [receiver.c] webhook: group robot (webhook) and app message",
                     "bad.ini:15: [receiver.e] at_mobiles: a markdown message cannot mention",
                     "bad.ini:16: [receiver.e] rate_limit_delay:",
                     "bad.ini:17: [receiver.e] title_template: unknown key",
                     "bad.ini:24: [receiver.f] max_message_size: 10 is too small"):
            tap.ok(want in out, "check-config: " + want, out)


def test_receiver(tap):
    with WeCom() as wc, tempfile.TemporaryDirectory(prefix="notifyd-it-") as tmp:
        path = os.path.join(tmp, "t.ini")
        with open(path, "w") as f:
            f.write(h.config({
                "good": app(wc, "to_user = alice\n"),
                "bad": "type = wechat\nwebhook = %s\n" % wc.bot_url("kt"),
            }))
        wc.script["bot:kt"] = [93000]

        def run(name):
            p = subprocess.run([h.NOTIFYD, "test-receiver", "-c", path, name],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
            return p.returncode, p.stdout.decode() + p.stderr.decode()

        rc, out = run("good")
        tap.eq(rc, 0, "test-receiver: delivered, exit 0", out)
        tap.ok("good (wechat): delivered" in out, "test-receiver: says delivered", out)
        tap.eq(len(wc.sends()), 1, "test-receiver: one message/send")
        tap.ok(SECRET not in out and "WCTOKEN1" not in out, "test-receiver: no secret printed", out)
        rc, out = run("bad")
        tap.eq(rc, 1, "test-receiver: errcode 93000, exit 1", out)
        tap.ok("errcode 93000" in out, "test-receiver: the errcode printed", out)


def body(tap):
    check_config(tap)
    wire_format(tap)
    tokens(tap)
    verdicts(tap)
    fanout(tap)
    split(tap)
    truncated(tap)
    test_receiver(tap)


if __name__ == "__main__":
    h.run_main(body, 110)
