"""A local stand-in for Slack (Python standard library only), for test_slack.py. It
records every request and checks it the way Slack documents:

  POST /chat.postMessage   Web API (https://api.slack.com/methods/chat.postMessage):
      Authorization: Bearer <token>, Content-Type application/json, a JSON body with
      "channel" and "text" (and optionally "blocks"). Answers HTTP 200 with
      {"ok": true, "channel": .., "ts": ..} or {"ok": false, "error": ".."}; an unknown
      token gets "invalid_auth". Rate limits: HTTP 429 with Retry-After
      (https://api.slack.com/docs/rate-limits).
  POST /hooks/<name>       incoming webhook (https://api.slack.com/messaging/webhooks):
      answers the plain text "ok", or an error string with a 4xx.

Answers: `script[channel or hook name]` is a list of answers consumed one per request
(the last repeats): "ok", "ratelimited" (HTTP 200, ok false, Retry-After: 1),
"429" (HTTP 429, Retry-After: 1) or any other error string.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Rec:
    def __init__(self, method, path, headers, body, t):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.t = t
        self.answer = None

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Rec(%s %s %r)" % (self.method, self.path, self.body[:200])


class Slack:
    def __init__(self, token="xoxb-test"):
        self.token = token
        self.script = {}
        self.requests = []
        self.cond = threading.Condition()
        sl = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                rec = Rec(self.command, self.path,
                          {k.lower(): v for k, v in self.headers.items()}, body,
                          time.monotonic())
                status, ctype, data, extra = sl._handle(rec)
                with sl.cond:
                    sl.requests.append(rec)
                    sl.cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def hook_url(self, name):
        return "%s/hooks/%s" % (self.url, name)

    def _scripted(self, key):
        with self.cond:
            s = self.script.get(key)
            if not s:
                return "ok"
            return s.pop(0) if len(s) > 1 else s[0]

    def _api(self, rec):
        if rec.method != "POST":
            return "method_not_supported"
        if rec.headers.get("authorization") != "Bearer " + self.token:
            return "invalid_auth"
        if not rec.headers.get("content-type", "").startswith("application/json"):
            return "invalid_form_data"
        try:
            body = rec.json()
        except ValueError:
            return "invalid_json"
        if not isinstance(body.get("channel"), str) or not body["channel"]:
            return "channel_not_found"
        if not isinstance(body.get("text"), str) and "blocks" not in body:
            return "no_text"
        return self._scripted(body["channel"])

    def _handle(self, rec):
        if rec.path == "/chat.postMessage":
            a = self._api(rec)
            rec.answer = a
            if a == "429":
                return 429, "application/json", b'{"ok":false,"error":"ratelimited"}', \
                    {"Retry-After": "1"}
            if a == "ok":
                out = {"ok": True, "channel": "C1", "ts": "%.6f" % time.time()}
                return 200, "application/json", json.dumps(out).encode(), {}
            extra = {"Retry-After": "1"} if a == "ratelimited" else {}
            return 200, "application/json", \
                json.dumps({"ok": False, "error": a}).encode(), extra
        if rec.path.startswith("/hooks/"):
            name = rec.path.split("/")[2]
            a = self._scripted(name)
            try:
                body = rec.json()
            except ValueError:
                a = "invalid_payload"
            else:
                if not isinstance(body.get("text"), str):
                    a = "no_text"
            rec.answer = a
            if a == "ok":
                return 200, "text/html", b"ok", {}
            if a == "429":
                return 429, "text/html", b"rate_limited", {"Retry-After": "1"}
            return 400 if a != "channel_not_found" else 404, "text/html", a.encode(), {}
        rec.answer = "404"
        return 404, "text/plain", b"not found", {}

    def matching(self, prefix):
        with self.cond:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
