"""A local stand-in for Discord's webhook API (Python standard library only), for
test_discord.py. It records every request and checks it as Discord documents
(https://discord.com/developers/docs/resources/webhook#execute-webhook):

  POST /api/webhooks/<id>/<token>[?wait=true]   Content-Type: application/json
      body: "content" (at most 2000 characters) and/or "embeds" (at most 10, each
      "description" at most 4096 characters); at least one of them non-empty.

Answers: 204 with no body (200 with the message when ?wait=true). A request that breaks
the rules above gets 400 {"code": 50006 or 50035, "message": ...}, as Discord answers.
`script[webhook_id]` is a list of answers consumed one per request (the last repeats):
"ok", "429" (429 with JSON retry_after and a Retry-After header,
https://discord.com/developers/docs/topics/rate-limits) or "404" (Unknown Webhook, code
10015, https://discord.com/developers/docs/topics/opcodes-and-status-codes#json).
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Rec:
    def __init__(self, method, path, query, headers, body, t):
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.t = t
        self.status = None  # what the stand-in answered
        self.problem = None  # why it was refused, when it was

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Rec(%s %s %r)" % (self.method, self.path, self.body[:200])


class Discord:
    def __init__(self, retry_after=1.25):
        self.retry_after = retry_after
        self.script = {}
        self.requests = []
        self.cond = threading.Condition()
        ds = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                path, _, query = self.path.partition("?")
                rec = Rec(self.command, path, query,
                          {k.lower(): v for k, v in self.headers.items()}, body,
                          time.monotonic())
                status, out, headers = ds._handle(rec)
                rec.status = status
                with ds.cond:
                    ds.requests.append(rec)
                    ds.cond.notify_all()
                data = json.dumps(out).encode() if out is not None else b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if out is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
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

    def webhook(self, wid):
        return "%s/api/webhooks/%s/tok-%s" % (self.url, wid, wid)

    def _scripted(self, wid):
        with self.cond:
            s = self.script.get(wid)
            if not s:
                return "ok"
            return s.pop(0) if len(s) > 1 else s[0]

    def _invalid(self, rec):
        if rec.method != "POST":
            return 405, {"code": 0, "message": "405: Method Not Allowed"}
        parts = rec.path.split("/")
        if len(parts) != 5 or parts[:3] != ["", "api", "webhooks"] \
                or parts[4] != "tok-" + parts[3]:
            return 401, {"code": 50027, "message": "Invalid Webhook Token"}
        if rec.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return 400, {"code": 50006, "message": "Cannot send an empty message"}
        try:
            b = json.loads(rec.body)
        except ValueError:
            return 400, {"code": 50109, "message": "The request body contains invalid JSON."}
        content = b.get("content", "")
        embeds = b.get("embeds", [])
        if not isinstance(content, str) or len(content) > 2000:
            return 400, {"code": 50035, "message": "Invalid Form Body (content)"}
        if not isinstance(embeds, list) or len(embeds) > 10:
            return 400, {"code": 50035, "message": "Invalid Form Body (embeds)"}
        for e in embeds:
            if not isinstance(e, dict) or len(e.get("description", "")) > 4096:
                return 400, {"code": 50035, "message": "Invalid Form Body (description)"}
        if not content and not any(e.get("description") for e in embeds):
            return 400, {"code": 50006, "message": "Cannot send an empty message"}
        return None

    def _handle(self, rec):
        bad = self._invalid(rec)
        if bad:
            rec.problem = bad[1]["message"]
            return bad[0], bad[1], {}
        what = self._scripted(rec.path.split("/")[3])
        if what == "429":
            return 429, {"message": "You are being rate limited.",
                         "retry_after": self.retry_after, "global": False}, \
                {"Retry-After": str(int(self.retry_after + 0.999))}
        if what == "404":
            return 404, {"code": 10015, "message": "Unknown Webhook"}, {}
        if "wait=true" in rec.query:
            return 200, {"id": "1", "content": rec.json().get("content", "")}, {}
        return 204, None, {}

    def matching(self, wid):
        prefix = "/api/webhooks/%s/" % wid
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
