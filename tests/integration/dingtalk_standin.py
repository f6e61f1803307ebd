"""A local stand-in for DingTalk's server APIs (on standin.py), for test_dingtalk.py. It records every request and checks it the way DingTalk documents:

  POST /robot/<name>/send?access_token=..[&timestamp=MS&sign=SIG]   custom robot
      sign = base64(HMAC-SHA256(key=secret, msg=timestamp + "\\n" + secret)), URL-encoded
      once; the timestamp must be within an hour of now (checked here much tighter:
      `fresh_s`).
      https://open.dingtalk.com/document/robots/customize-robot-security-settings
  GET  /gettoken?appkey=K&appsecret=S  ->  {"errcode":0,"access_token":..,"expires_in":N}
  POST /chat/send?access_token=T  with {"chatid":..,"msg":{"msgtype":..}}; an unknown or
      expired token gets errcode 42001, a missing chatid or msg errcode 40035.

Answers: `script[path_prefix]` is a list of errcodes consumed one per request (the last
repeats); the default is 0 ("ok").
"""

import base64
import hashlib
import hmac
import time
import urllib.parse

from standin import StandIn, json_answer


def sign(secret, ts_ms):
    """DingTalk's robot signature, base64 (not URL-encoded)."""
    msg = ("%d\n%s" % (ts_ms, secret)).encode()
    return base64.b64encode(hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode()


class DingTalk(StandIn):
    fields = ("sig", "errcode")  # sig: with a secret, "ok" or what was wrong

    def __init__(self, secrets=None, app=("key", "secret"), expires_in=7200, fresh_s=60):
        super().__init__()
        self.secrets = dict(secrets or {})  # robot name -> secret
        self.app = app
        self.expires_in = expires_in
        self.fresh_s = fresh_s
        self.tokens = {}  # token -> monotonic expiry
        self.ntokens = 0

    def robot_url(self, name):
        return "%s/robot/%s/send?access_token=tok-%s" % (self.url, name, name)

    def _check_sig(self, rec, secret):
        ts, sg = rec.q("timestamp"), rec.q("sign")
        if not isinstance(ts, str) or not isinstance(sg, str):
            return "timestamp or sign missing or repeated"
        if not ts.isdigit():
            return "timestamp not an integer: %r" % ts
        age = abs(time.time() * 1000 - int(ts)) / 1000
        if age > self.fresh_s:
            return "timestamp %s is %.1fs off" % (ts, age)
        want = sign(secret, int(ts))
        if sg != want:
            return "sign %r, want %r" % (sg, want)
        # Encoded exactly once: the raw query holds the escaped base64, not %25XX.
        raw = dict(p.split("=", 1) for p in rec.raw_query.split("&") if "=" in p)
        if raw.get("sign") != urllib.parse.quote_plus(want):
            return "raw sign %r, want %r" % (raw.get("sign"), urllib.parse.quote_plus(want))
        return "ok"

    def handle(self, rec):
        out = self._answer(rec)
        rec.errcode = out["errcode"]
        return json_answer(200, out)

    def _answer(self, rec):
        if rec.path == "/gettoken":
            if (rec.method != "GET" or rec.q("appkey") != self.app[0]
                    or rec.q("appsecret") != self.app[1]):
                return {"errcode": 40089, "errmsg": "invalid appkey or appsecret"}
            with self.cond:
                self.ntokens += 1
                tok = "T%d" % self.ntokens
                self.tokens[tok] = time.monotonic() + self.expires_in
            return {"errcode": 0, "errmsg": "ok", "access_token": tok,
                    "expires_in": self.expires_in}
        if rec.path == "/chat/send":
            with self.cond:
                exp = self.tokens.get(rec.q("access_token"))
            if exp is None or exp <= time.monotonic():
                return {"errcode": 42001, "errmsg": "access_token expired"}
            try:
                body = rec.json()
            except ValueError:
                body = None
            if (rec.method != "POST" or not isinstance(body, dict)
                    or not isinstance(body.get("chatid"), str) or not body["chatid"]
                    or not isinstance(body.get("msg"), dict)
                    or body["msg"].get("msgtype") not in ("text", "markdown")):
                return {"errcode": 40035, "errmsg": "missing or bad chatid or msg"}
            code = self.scripted("/chat/send", 0)
            if code == 42001:
                with self.cond:
                    self.tokens.pop(rec.q("access_token"), None)
            return {"errcode": code, "errmsg": "ok" if code == 0 else "scripted %d" % code}
        if rec.path.startswith("/robot/"):
            name = rec.path.split("/")[2]
            if name in self.secrets:
                rec.sig = self._check_sig(rec, self.secrets[name])
                if rec.sig != "ok":
                    return {"errcode": 310000, "errmsg": "sign not match"}
            code = self.scripted("/robot/" + name, 0)
            return {"errcode": code, "errmsg": "ok" if code == 0 else "scripted %d" % code}
        return {"errcode": 404, "errmsg": "no such API"}

    def wait_for(self, prefix, n, timeout):
        return self.wait_count(n, timeout, lambda r: r.path.startswith(prefix))
