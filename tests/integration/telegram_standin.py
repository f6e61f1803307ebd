"""A local stand-in for Telegram's Bot API (on standin.py), for test_telegram.py. It
records every request and checks it the way the Bot API documents
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
import time

from standin import StandIn, json_answer, text_answer

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


class Telegram(StandIn):
    # answer: (status, dict or str) sent back; plain: the text after entity parsing,
    # when it was accepted
    fields = ("answer", "plain")

    def __init__(self, token):
        super().__init__()
        self.token = token
        self.nmsg = 0

    @staticmethod
    def _err(code, desc):
        return code, {"ok": False, "error_code": code, "description": desc}

    def handle(self, rec):
        status, out = rec.answer = self._answer(rec)
        if isinstance(out, str):
            return text_answer(status, out, "text/html")
        return json_answer(status, out)

    def _answer(self, rec):
        # The whole request target: a query string makes the method unknown.
        if not rec.target.startswith("/bot") or "/" not in rec.target[4:]:
            return self._err(404, "Not Found")
        token, _, method = rec.target[4:].partition("/")
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
        a = self.scripted(chat)
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
        return self.records(_to(chat))

    def wait_for(self, n, timeout, chat=None):
        return self.wait_count(n, timeout, _to(chat))


def _to(chat):
    """Accepts the requests to chat (any when None)."""
    return lambda r: chat is None or (r.body and _chat(r) == chat)


def _chat(rec):
    try:
        return rec.json().get("chat_id")
    except (ValueError, AttributeError):
        return None
