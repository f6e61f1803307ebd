"""A local stand-in for Telegram's Bot API (Python standard library only), for
test_telegram.py. It records every request and checks it the way the Bot API documents
(https://core.telegram.org/bots/api#making-requests, #sendmessage, #formatting-options):

  POST /bot<token>/sendMessage, Content-Type: application/json,
      {"chat_id": int or str, "text": str, "parse_mode"?: "HTML" | "MarkdownV2"}
  -> {"ok": true, "result": {"message_id": N, ...}}
  errors: {"ok": false, "error_code": N, "description": "..."}; a flood limit is
  HTTP 429 with "parameters": {"retry_after": seconds}.

Checks, each answered as Telegram would (400 "Bad Request: ..."): unknown fields, a
missing or empty text, a text over 4096 UTF-16 code units after entity parsing, a
parse_mode other than the two, an unescaped reserved character in MarkdownV2, a '<' or
'&' that starts no entity in HTML. An unknown token gets 401, another path 404.

Answers: `script[chat_id]` is a list of answers consumed one per request (the last
repeats): "ok", ("error", code, description), ("flood", retry_after) or ("raw", status,
text) for a non-JSON answer such as a proxy's error page.
"""

import html
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MD_RESERVED = set("_*[]()~`>#+-=|{}.!")
TEXT_MAX = 4096


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def md_plain(text):
    """The text of a MarkdownV2 message made of escaped characters only, or raise."""
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text):
                raise ValueError("can't parse entities: unexpected end after '\\'")
            out.append(text[i + 1])
            i += 2
            continue
        if c in MD_RESERVED:
            raise ValueError("can't parse entities: Character '%s' is reserved and must "
                             "be escaped with the preceding '\\'" % c)
        out.append(c)
        i += 1
    return "".join(out)


def html_plain(text):
    """The text of an HTML message with entities only (no tags), or raise."""
    if "<" in text or ">" in text:
        raise ValueError("can't parse entities: Unsupported start tag")
    i = 0
    while True:
        i = text.find("&", i)
        if i < 0:
            break
        end = text.find(";", i)
        if end < 0 or text[i:end + 1] not in ("&lt;", "&gt;", "&amp;", "&quot;"):
            raise ValueError("can't parse entities: bad entity at byte offset %d" % i)
        i = end + 1
    return html.unescape(text)


class Rec:
    def __init__(self, method, path, headers, body, t):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.t = t
        self.answer = None  # (status, dict) sent back
        self.plain = None  # the text after entity parsing, when it was accepted

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return "Rec(%s %s %r)" % (self.method, self.path, self.body[:200])


class Telegram:
    def __init__(self, token):
        self.token = token
        self.script = {}
        self.requests = []
        self.nmsg = 0
        self.cond = threading.Condition()
        tg = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                rec = Rec(self.command, self.path,
                          {k.lower(): v for k, v in self.headers.items()}, body,
                          time.monotonic())
                status, out = tg._handle(rec)
                rec.answer = (status, out)
                with tg.cond:
                    tg.requests.append(rec)
                    tg.cond.notify_all()
                raw = isinstance(out, str)
                data = out.encode() if raw else json.dumps(out).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if raw else "application/json")
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

    @staticmethod
    def _err(code, desc):
        return code, {"ok": False, "error_code": code, "description": desc}

    def _scripted(self, chat):
        with self.cond:
            s = self.script.get(chat)
            if not s:
                return "ok"
            return s.pop(0) if len(s) > 1 else s[0]

    def _handle(self, rec):
        if not rec.path.startswith("/bot") or "/" not in rec.path[4:]:
            return self._err(404, "Not Found")
        token, _, method = rec.path[4:].partition("/")
        if token != self.token:
            return self._err(401, "Unauthorized")
        if method != "sendMessage":
            return self._err(404, "Not Found")
        if rec.method != "POST" or rec.headers.get("content-type") != "application/json":
            return self._err(400, "Bad Request: want POST with application/json")
        try:
            b = json.loads(rec.body)
        except ValueError:
            return self._err(400, "Bad Request: body is not JSON")
        if not isinstance(b, dict) or set(b) - {"chat_id", "text", "parse_mode"}:
            return self._err(400, "Bad Request: unexpected fields %r" % (b,))
        chat = b.get("chat_id")
        if not isinstance(chat, (int, str)) or chat == "":
            return self._err(400, "Bad Request: chat_id is empty")
        text = b.get("text")
        if not isinstance(text, str) or not text:
            return self._err(400, "Bad Request: message text is empty")
        pm = b.get("parse_mode")
        try:
            if pm is None:
                plain = text
            elif pm == "MarkdownV2":
                plain = md_plain(text)
            elif pm == "HTML":
                plain = html_plain(text)
            else:
                return self._err(400, "Bad Request: unsupported parse_mode %r" % pm)
        except ValueError as e:
            return self._err(400, "Bad Request: %s" % e)
        if utf16_len(plain) > TEXT_MAX:
            return self._err(400, "Bad Request: message is too long")
        a = self._scripted(chat)
        if a == "ok":
            rec.plain = plain
            with self.cond:
                self.nmsg += 1
                mid = self.nmsg
            return 200, {"ok": True, "result": {"message_id": mid, "date": int(time.time()),
                                                "chat": {"id": chat}, "text": plain}}
        if a[0] == "flood":
            return 429, {"ok": False, "error_code": 429,
                         "description": "Too Many Requests: retry after %d" % a[1],
                         "parameters": {"retry_after": a[1]}}
        if a[0] == "raw":
            return a[1], a[2]
        return self._err(a[1], a[2])

    def sends(self, chat=None):
        with self.cond:
            return [r for r in self.requests
                    if chat is None or (r.body and _chat(r) == chat)]

    def wait_for(self, n, timeout, chat=None):
        end = time.monotonic() + timeout
        while True:
            got = self.sends(chat)
            left = end - time.monotonic()
            if len(got) >= n or left <= 0:
                return got
            with self.cond:
                self.cond.wait(min(left, 0.1))

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _chat(rec):
    try:
        return rec.json().get("chat_id")
    except (ValueError, AttributeError):
        return None
