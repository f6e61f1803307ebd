"""The common base of the platform stand-ins (dingtalk_standin.py, discord_standin.py,
slack_standin.py, telegram_standin.py, ...), Python standard library only.

A stand-in is a local HTTP/1.1 server on 127.0.0.1 (port 0: the kernel picks a free one)
that plays one chat platform's API: it records every request as a Rec, checks it the way
the platform documents and answers as the platform would. This module holds what every
stand-in needs; each platform file keeps its own checks (signatures, tokens, field rules,
rate-limit answers) in its handle().

    class Foo(StandIn):
        fields = ("verdict",)          # extra Rec attributes, None until handle() sets them
        def handle(self, rec):         # runs on a server thread; returns an Answer
            rec.verdict = ...
            what = self.scripted(key)  # the next answer scripted for key, "ok" if none
            return json_answer(200, {...}, {"Retry-After": "1"})

    with Foo() as foo:                 # serves from start() (the with statement calls it)
        ... foo.url ...
        recs = foo.wait_count(2, 10, lambda r: r.path == "/send")

It is a module of its own rather than part of harness.py: harness.Target is a generic
webhook that answers bare status sequences, can hang or wait for a release and serves
TLS, while a stand-in decides each answer from what it received. The stand-ins are
imported only by the tests of their platform; every other test keeps loading harness.py
alone.
"""

import collections
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Rec:
    """One request as it arrived. The owning stand-in's `fields` are added as None, and
    status and reply are what was answered (set after handle())."""

    def __init__(self, method, target, headers, body, t):
        self.method = method
        self.target = target  # as sent in the request line: path and query
        self.path, _, self.raw_query = target.partition("?")
        self.query = urllib.parse.parse_qs(self.raw_query, keep_blank_values=True)
        self.headers = headers  # dict, lower-case names
        self.body = body  # bytes
        self.t = t  # time.monotonic() once headers and body were read
        self.status = None
        self.reply = None

    def q(self, k):
        """A query parameter: its value when given once, the list when repeated, or
        None."""
        v = self.query.get(k)
        return v[0] if v and len(v) == 1 else v

    def json(self):
        return json.loads(self.body)

    def form(self):
        """An application/x-www-form-urlencoded body as {name: [values]}."""
        return urllib.parse.parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def __repr__(self):
        return "Rec(%s %s %r)" % (self.method, self.target, self.body[:200])


# What handle() returns: the status, the body (bytes) and the headers to send (with
# Content-Type when there is a body; Content-Length is added when sending).
Answer = collections.namedtuple("Answer", "status body headers")


def json_answer(status, obj, headers=None):
    return Answer(status, json.dumps(obj).encode(),
                  dict({"Content-Type": "application/json"}, **(headers or {})))


def text_answer(status, text, ctype="text/plain", headers=None):
    return Answer(status, text.encode(), dict({"Content-Type": ctype}, **(headers or {})))


def empty_answer(status, headers=None):
    return Answer(status, b"", dict(headers or {}))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _any(self):
        si = self.server.standin
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        rec = Rec(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                  body, time.monotonic())
        for f in si.fields:
            setattr(rec, f, None)
        ans = si.handle(rec)
        rec.status, rec.reply = ans.status, ans.body
        with si.cond:
            si.requests.append(rec)
            si.cond.notify_all()
        self.send_response(ans.status)
        for k, v in ans.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(ans.body)))
        self.end_headers()
        self.wfile.write(ans.body)

    do_GET = do_POST = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # peers closing kept-alive connections at exit are expected


class StandIn:
    """The server. Bound (url known) at construction, served from start(), closed by
    stop(); as a context manager both. `requests` (all Recs, in arrival order) and
    `script` are guarded by `cond`, which is notified at each arrival."""

    fields = ()  # the platform's own Rec attributes

    def __init__(self):
        self.script = {}  # key -> [answer, ...]: see scripted()
        self.requests = []
        self.cond = threading.Condition()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.standin = self
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self.thread = None

    def handle(self, rec):
        """Checks one request and returns its Answer; runs on the request's thread. An
        exception here drops the connection unanswered and the request unrecorded (the
        server is quiet about errors), so answer every input, however malformed."""
        raise NotImplementedError

    def scripted(self, key, default="ok"):
        """The next answer of script[key], consumed one per call, the last repeating;
        default when nothing is scripted for key."""
        with self.cond:
            s = self.script.get(key)
            if not s:
                return default
            return s.pop(0) if len(s) > 1 else s[0]

    def records(self, pred=None):
        """A copy of the requests so far, only those pred(rec) accepts when given."""
        with self.cond:
            return [r for r in self.requests if pred is None or pred(r)]

    def matching(self, prefix):
        return self.records(lambda r: r.path.startswith(prefix))

    def wait(self, pred, timeout):
        """Waits at most timeout seconds until pred(all requests so far) is true; returns
        whether it became true."""
        end = time.monotonic() + timeout
        with self.cond:
            while not pred(list(self.requests)):
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def wait_count(self, n, timeout, pred=None):
        """Waits at most timeout seconds for n requests that pred accepts (any when None);
        returns those that arrived, fewer than n on timeout."""
        got = []

        def enough(recs):
            got[:] = [r for r in recs if pred is None or pred(r)]
            return len(got) >= n

        self.wait(enough, timeout)
        return got

    def start(self):
        if self.thread is None:
            self.thread = threading.Thread(target=self.server.serve_forever,
                                           kwargs={"poll_interval": 0.05}, daemon=True)
            self.thread.start()
        return self

    def stop(self):
        # shutdown() waits for serve_forever to return: only when it was started.
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(5)
        self.server.server_close()

    def close(self):
        self.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
