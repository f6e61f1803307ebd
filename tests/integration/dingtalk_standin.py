"""A local stand-in for DingTalk's server APIs (Python standard library only), for
test_dingtalk.py. It records every request and checks it the way DingTalk documents:

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
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def sign(secret, ts_ms):
    """DingTalk's robot signature, base64 (not URL-encoded)."""
    msg = ("%d\n%s" % (ts_ms, secret)).encode()
    return base64.b64encode(hmac.new(secret.encode(), msg, hashlib.sha256).digest()).decode()


class Rec:
    def __init__(self, method, path, raw_query, headers, body, t):
        self.method = method
        self.path = path
        self.raw_query = raw_query
        self.query = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        self.headers = headers
        self.body = body
        self.t = t
        self.sig = None  # robot with a secret: None, or "ok" or what was wrong
        self.errcode = None  # what the stand-in answered

    def q(self, k):
        v = self.query.get(k)
        return v[0] if v and len(v) == 1 else v

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Rec(%s %s?%s %r)" % (self.method, self.path, self.raw_query, self.body[:200])


class DingTalk:
    def __init__(self, secrets=None, app=("key", "secret"), expires_in=7200, fresh_s=60):
        self.secrets = dict(secrets or {})  # robot name -> secret
        self.app = app
        self.expires_in = expires_in
        self.fresh_s = fresh_s
        self.script = {}  # path prefix -> [errcode, ...]
        self.tokens = {}  # token -> monotonic expiry
        self.ntokens = 0
        self.requests = []
        self.cond = threading.Condition()
        dt = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                path, _, raw = self.path.partition("?")
                rec = Rec(self.command, path, raw,
                          {k.lower(): v for k, v in self.headers.items()}, body,
                          time.monotonic())
                out = dt._handle(rec)
                with dt.cond:
                    dt.requests.append(rec)
                    dt.cond.notify_all()
                data = json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _any

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def robot_url(self, name):
        return "%s/robot/%s/send?access_token=tok-%s" % (self.url, name, name)

    def _scripted(self, prefix):
        with self.cond:
            s = self.script.get(prefix)
            if not s:
                return 0
            return s.pop(0) if len(s) > 1 else s[0]

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

    def _handle(self, rec):
        if rec.path == "/gettoken":
            if (rec.method != "GET" or rec.q("appkey") != self.app[0]
                    or rec.q("appsecret") != self.app[1]):
                rec.errcode = 40089
                return {"errcode": 40089, "errmsg": "invalid appkey or appsecret"}
            with self.cond:
                self.ntokens += 1
                tok = "T%d" % self.ntokens
                self.tokens[tok] = time.monotonic() + self.expires_in
            rec.errcode = 0
            return {"errcode": 0, "errmsg": "ok", "access_token": tok,
                    "expires_in": self.expires_in}
        if rec.path == "/chat/send":
            with self.cond:
                exp = self.tokens.get(rec.q("access_token"))
            if exp is None or exp <= time.monotonic():
                rec.errcode = 42001
                return {"errcode": 42001, "errmsg": "access_token expired"}
            try:
                body = rec.json()
            except ValueError:
                body = None
            if (rec.method != "POST" or not isinstance(body, dict)
                    or not isinstance(body.get("chatid"), str) or not body["chatid"]
                    or not isinstance(body.get("msg"), dict)
                    or body["msg"].get("msgtype") not in ("text", "markdown")):
                rec.errcode = 40035
                return {"errcode": 40035, "errmsg": "missing or bad chatid or msg"}
            code = self._scripted("/chat/send")
            if code == 42001:
                with self.cond:
                    self.tokens.pop(rec.q("access_token"), None)
            rec.errcode = code
            return {"errcode": code, "errmsg": "ok" if code == 0 else "scripted %d" % code}
        if rec.path.startswith("/robot/"):
            name = rec.path.split("/")[2]
            if name in self.secrets:
                rec.sig = self._check_sig(rec, self.secrets[name])
                if rec.sig != "ok":
                    rec.errcode = 310000
                    return {"errcode": 310000, "errmsg": "sign not match"}
            code = self._scripted("/robot/" + name)
            rec.errcode = code
            return {"errcode": code, "errmsg": "ok" if code == 0 else "scripted %d" % code}
        rec.errcode = 404
        return {"errcode": 404, "errmsg": "no such API"}

    def matching(self, prefix):
        with self.cond:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def wait_for(self, prefix, n, timeout):
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests if r.path.startswith(prefix)]
                left = end - time.monotonic()
                if len(got) >= n or left <= 0:
                    return got
                self.cond.wait(left)

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
