#!/usr/bin/env python3
"""The Discord receiver against a local stand-in (discord_standin.py): the exact wire
format of content and embed messages with mentions, api_url, a 429 deferred by its
retry_after then delivered, a 404 failing at once with Discord's code in the log,
splitting 300 long alerts into ordered chunks under 2000 characters, an alert too long
on its own sent truncated with a mark, and --check-config errors."""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from discord_standin import Discord  # noqa: E402

TEMPLATES = ('{{ define "dc.msg" }}MSG {{ .CommonLabels.alertname }}{{ end }}\n'
             '{{ define "dc.list" }}{{ range .Alerts }}#{{ .Labels.idx }} '
             '{{ .Annotations.text }}\n{{ end }}{{ end }}\n')


def daemon(cfg, env=None):
    cfg += "\n[template]\nfiles = dc.tmpl\n"
    d = h.Daemon(cfg, env=env)
    with open(os.path.join(d.dir, "dc.tmpl"), "w") as f:
        f.write(TEMPLATES)
    return d


def alerts(*names):
    return [{"labels": {"alertname": n}} for n in names]


def delivered(d, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_delivered_total", want, timeout,
                         receiver=name, type="discord")


def failed(d, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_failed_total", want, timeout,
                         receiver=name, type="discord")


def wire_format(tap):
    with Discord() as ds:
        cfg = h.config({
            "content": "type = discord\nwebhook = env:DC_HOOK\ntemplate = dc.msg\n"
                       "mentioned_users = 111, everyone\nmentioned_roles = 222, 333\n",
            "embed": "type = discord\nwebhook = %s\nmessage_type = embed\n"
                     "template = dc.msg\nmentioned_roles = 444\n" % ds.webhook("e"),
            "plain": "type = discord\nwebhook = https://discord.com/api/webhooks/p/tok-p\n"
                     "api_url = %s/api/\n" % ds.url,
        }, batch="max_wait = 100ms\n")
        with daemon(cfg, env={"DC_HOOK": ds.webhook("c")}) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("Disk<&>")).status, 200, "alert accepted")
            for name in ("content", "embed", "plain"):
                tap.eq(delivered(d, name, 1), 1, "%s: delivered" % name)

            r = ds.matching("c")
            tap.eq(len(r), 1, "content: one request")
            if r:
                r = r[0]
                tap.eq((r.method, r.path, r.raw_query), ("POST", "/api/webhooks/c/tok-c", ""),
                       "content: POST to the webhook, no query")
                tap.eq(r.headers.get("content-type"), "application/json; charset=utf-8",
                       "content: Content-Type as NM sends it")
                tap.eq(r.status, 204, "content: answered 204")
                tap.eq(r.json(), {"content": "MSG Disk<&>\n<@111>@everyone<@&222><@&333>"},
                       "content: body field by field (mentions after a newline)")

            r = ds.matching("e")
            tap.eq(len(r), 1, "embed: one request")
            if r:
                tap.eq(r[0].json(), {"content": "", "embeds": [
                    {"description": "MSG Disk<&>\n<@&444>"}]},
                    "embed: body field by field")

            r = ds.matching("p")
            tap.eq(len(r), 1, "api_url: the webhook's path on the stand-in")
            if r:
                body = r[0].json()
                tap.eq(sorted(body), ["content"], "no mentions: content only")
                tap.ok(body["content"].startswith("[FIRING"),
                       "default template nm.default.text", body)
                tap.ok(not body["content"].endswith("\n"), "no mentions: no newline", body)
            log = "\n".join(d.stderr_lines)
            tap.ok("tok-c" not in log and "tok-e" not in log,
                   "the webhooks' tokens are not logged")


def verdicts(tap):
    with Discord(retry_after=1.25) as ds:
        ds.script["rl"] = ["429", "ok"]
        ds.script["gone"] = ["404"]
        cfg = h.config({
            "rl": "type = discord\nwebhook = %s\nretry_initial = 100ms\nretry_jitter = 0\n"
                  % ds.webhook("rl"),
            "gone": "type = discord\nwebhook = %s\n" % ds.webhook("gone"),
        }, batch="max_wait = 100ms\n")
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alerts("A")).status, 200, "alert accepted")
            tap.eq(delivered(d, "rl", 1), 1, "429 then 204: delivered")
            r = ds.matching("rl")
            tap.eq([x.status for x in r], [429, 204], "429: deferred, then sent once more")
            if len(r) == 2:
                # The stand-in's Retry-After header says 2 s (whole seconds); the body's
                # retry_after (1.25 s) is the finer one and wins.
                gap = r[1].t - r[0].t
                tap.ok(1.2 <= gap < 1.9,
                       "429: resent after the body's retry_after (1.25 s), not the header's "
                       "2 s nor the 100 ms backoff", gap)

            tap.eq(failed(d, "gone", 1), 1, "404: failed")
            time.sleep(0.5)
            tap.eq(len(ds.matching("gone")), 1, "404: no retry")
            log = "\n".join(d.stderr_lines)
            tap.ok("code 10015: Unknown Webhook" in log, "404: Discord's code and message logged",
                   log)
            tap.ok("tok-gone" not in log, "404: the token is not logged")


def split(tap):
    with Discord() as ds:
        cfg = h.config({
            "big": "type = discord\nwebhook = %s\ntemplate = dc.list\n"
                   "mentioned_users = 555\n" % ds.webhook("big"),
            "one": "type = discord\nwebhook = %s\ntemplate = dc.list\n" % ds.webhook("one"),
        }, batch="max_wait = 300ms\nmax_size = 1000\n")
        with daemon(cfg) as d:
            d.start()
            body = [{"labels": {"alertname": "Big", "idx": "%03d" % i},
                     "annotations": {"text": "x%03d " % i + "é" * 100}} for i in range(300)]
            tap.eq(d.post_alerts(body).status, 200, "300 alerts accepted")
            tap.eq(delivered(d, "big", 1, timeout=30), 1, "one notification delivered")
            r = ds.matching("big")
            tap.ok(len(r) > 1, "several chunks", len(r))
            tap.eq([x.status for x in r], [204] * len(r), "every chunk accepted by the stand-in")
            texts = [x.json().get("content", "") for x in r]
            tap.ok(all(len(t) <= 2000 for t in texts), "every chunk within 2000 characters",
                   [len(t) for t in texts])
            tap.ok(all(t.endswith("\n<@555>") for t in texts), "every chunk carries the mention")
            seen = [line.split(" ")[0] for t in texts for line in t.split("\n")
                    if line.startswith("#")]
            tap.eq(seen, ["#%03d" % i for i in range(300)],
                   "every alert in exactly one chunk, in order")
            tap.eq([x.t for x in r], sorted(x.t for x in r), "chunks arrived one after another")

            huge = [{"labels": {"alertname": "Huge", "idx": "1"},
                     "annotations": {"text": "y" * 5000}}]
            tap.eq(d.post_alerts(huge).status, 200, "a 5000-character alert accepted")
            tap.eq(delivered(d, "one", 2, timeout=30), 2, "the long alert delivered")
            r = ds.matching("one")
            if r:
                t = r[-1].json().get("content", "")
                tap.ok(t.startswith("#1 yyy") and t.endswith("\u2026[truncated]"),
                       "sent truncated with the mark", t[:40] + "..." + t[-40:])
                tap.ok(len(t) <= 2000, "truncated within 2000 characters", len(t))
            else:
                tap.ok(False, "the long alert sent")


def check_config(tap):
    with h.Daemon() as d:
        bad = os.path.join(d.dir, "bad.ini")
        with open(bad, "w") as f:
            f.write("[receiver.a]\n"                                   # 1
                    "type = discord\n"                                 # 2
                    "message_type = markdown\n"                        # 3
                    "[receiver.b]\n"                                   # 4
                    "type = discord\n"                                 # 5
                    "webhook = discord.com/api/webhooks/1/t\n"         # 6
                    "max_message_size = 10\n"                          # 7
                    "api_url = ftp://x\n"                              # 8
                    "colour = red\n")                                  # 9
        p = subprocess.run([h.NOTIFYD, "--check-config", bad], capture_output=True,
                           timeout=20)
        out = p.stderr.decode() + p.stdout.decode()
        tap.ok(p.returncode != 0, "bad config refused", out)
        for want in ("bad.ini:1: [receiver.a] webhook: missing key",
                     "bad.ini:3: [receiver.a] message_type: invalid value \"markdown\"",
                     "bad.ini:6: [receiver.b] webhook: want an http:// or https:// URL",
                     "bad.ini:7: [receiver.b] max_message_size:",
                     "bad.ini:8: [receiver.b] api_url: want an http:// or https:// URL",
                     "bad.ini:9: [receiver.b] colour:"):
            tap.ok(want in out, "check-config: " + want, out)


def body(tap):
    check_config(tap)
    wire_format(tap)
    verdicts(tap)
    split(tap)


if __name__ == "__main__":
    h.run_main(body, 100)
