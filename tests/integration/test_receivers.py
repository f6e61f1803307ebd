#!/usr/bin/env python3
"""Webhook receiver options on the wire: custom headers (continuation lines), bearer token
from env: and file:, basic auth, proxy_url, and max_in_flight bounding concurrent requests
to one receiver."""

import base64
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def body(tap):
    with h.Target([200]) as hdr, h.Target([200]) as tok_env, h.Target([200]) as tok_file, \
            h.Target([200]) as basic, h.Target([200]) as proxy, \
            h.Target([{"hang": 0.5}]) as limited:
        tmp = tempfile.mkdtemp(prefix="notifyd-it-")
        token_file = os.path.join(tmp, "token")
        with open(token_file, "w") as f:
            f.write("from-a-file\n")
        # A port nobody listens on: only the proxy can make this delivery work.
        dead_url = "http://127.0.0.1:%d/via-proxy" % h.free_port()
        cfg = h.config({
            "hdr": h.webhook(hdr.url + "/h?x=1", "headers = X-One: 1\n  X-Two: two words\n"),
            "tokenv": h.webhook(tok_env.url + "/t", "bearer_token = env:NOTIFYD_IT_TOKEN\n"),
            "tokfile": h.webhook(tok_file.url + "/t", "bearer_token = file:%s\n" % token_file),
            "basic": h.webhook(basic.url + "/b",
                               "basic_auth_user = alice\nbasic_auth_password = s3cr:et\n"),
            "proxied": h.webhook(dead_url, "proxy_url = %s\n" % proxy.url),
            "limited": h.webhook(limited.url + "/l", "max_in_flight = 2\n"),
        }, batch="max_wait = 100ms\n")
        with h.Daemon(cfg, env={"NOTIFYD_IT_TOKEN": "from-the-env"}) as d:
            d.start()
            # 6 groups in one batch: 6 notifications per receiver.
            payload = [{"labels": {"alertname": "G%d" % i}} for i in range(6)]
            tap.eq(d.post_alerts(payload).status, 200, "6 alerts (6 groups) accepted")

            r = hdr.wait_for(6, 10)
            tap.eq(len(r), 6, "headers receiver got 6 notifications")
            if r:
                tap.eq(r[0].headers.get("x-one"), "1", "custom header X-One")
                tap.eq(r[0].headers.get("x-two"), "two words",
                       "custom header X-Two from a continuation line")
                tap.eq(r[0].path, "/h?x=1", "query string of the url kept")
                tap.ok("authorization" not in r[0].headers, "no Authorization by default")

            r = tok_env.wait_for(1, 10)
            tap.eq(r[0].headers.get("authorization") if r else None, "Bearer from-the-env",
                   "bearer_token = env:VAR")
            r = tok_file.wait_for(1, 10)
            tap.eq(r[0].headers.get("authorization") if r else None, "Bearer from-a-file",
                   "bearer_token = file:PATH (trailing newline stripped)")
            r = basic.wait_for(1, 10)
            want = "Basic " + base64.b64encode(b"alice:s3cr:et").decode()
            tap.eq(r[0].headers.get("authorization") if r else None, want,
                   "basic_auth_user/password")

            r = proxy.wait_for(1, 10)
            tap.ok(len(r) >= 1, "proxy_url: the request went to the proxy")
            if r:
                tap.eq(r[0].path, dead_url, "proxy_url: absolute URL in the request line")

            r = limited.wait_for(6, 15)
            tap.eq(len(r), 6, "max_in_flight receiver got all 6 notifications")
            tap.ok(limited.max_active <= 2,
                   "max_in_flight = 2: at most 2 concurrent requests (saw %d)"
                   % limited.max_active)
            tap.ok(limited.max_active == 2,
                   "max_in_flight = 2: requests did run in parallel (saw %d)"
                   % limited.max_active)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    h.run_main(body, 60)
