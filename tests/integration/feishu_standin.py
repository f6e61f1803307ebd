"""A local stand-in for Feishu's open APIs (Python standard library only, on standin.py),
for test_feishu.py. It records every request and checks it the way Feishu documents:

  POST /open-apis/bot/v2/hook/<name>   custom bot
      (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot)
      Content-Type: application/json; charset=utf-8, a JSON body with "msg_type" (text or
      post) and "content" ({"text": ...} or {"post": {LANG: {"title"?, "content":
      [[{"tag": ..}, ..], ..]}}}). A bot with a secret wants "timestamp" (seconds, a string
      of digits) and "sign" = base64(HMAC-SHA256(key = timestamp + "\\n" + secret, msg =
      empty)); a wrong sign or a timestamp off by more than `fresh_s` (Feishu: an hour)
      gets code 19021. A bot with keywords wants one of them in the message's text, else
      code 19024 "Key Words Not Found". Answers HTTP 200 {"code":0,"msg":"success",
      "data":{}}.
  POST /open-apis/auth/v3/tenant_access_token/internal   with {"app_id","app_secret"}
      -> {"code":0,"msg":"ok","tenant_access_token":"t-N","expire":N}; a wrong app gets
      code 10014.
  POST /open-apis/message/v4/batch_send/   Authorization: Bearer <tenant token>, a body
      with msg_type, content as above, user_ids and/or department_ids (each at most 200).
      A missing header gets HTTP 400 code 99991661, an unknown or expired token HTTP 400
      code 99991663. Answers {"code":0,"msg":"success","data":{"message_id":..,
      "invalid_department_ids":[],"invalid_open_ids":[],"invalid_user_ids":[..]}} with the
      ids listed in `invalid_users`.
  Every body over `max_body` bytes (20000) gets code 9499 "Bad Request: body too big"
  (what Feishu answers to a body it refuses) and is counted in `oversize`.

Answers: `script[key]` (key: the hook name, or "batch_send") is a list consumed one per
request (the last repeats) of: 0, a code (HTTP 200 {"code":N,"msg":"scripted N"}), or a
dict {"status":, "code":, "headers": {..}, "legacy": True (answer with StatusCode/
StatusMessage as older bots do)}. Scripted answers come after the checks above.
"""

import base64
import hashlib
import hmac
import json
import time

from standin import StandIn, json_answer

HOOK = "/open-apis/bot/v2/hook/"
TOKEN = "/open-apis/auth/v3/tenant_access_token/internal"
BATCH = "/open-apis/message/v4/batch_send/"


def sign(secret, ts):
    """Feishu's custom bot signature: the key is "ts\\nsecret", the message empty."""
    key = ("%d\n%s" % (ts, secret)).encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def post_texts(post):
    """All "text" members of every language's paragraphs (of a checked post)."""
    out = []
    for lang in post.values():
        for para in lang.get("content", []):
            for el in para:
                if isinstance(el.get("text"), str):
                    out.append(el["text"])
    return out


def check_content(body):
    """None if msg_type and content have Feishu's shape, else what is wrong."""
    mt, content = body.get("msg_type"), body.get("content")
    if mt not in ("text", "post") or not isinstance(content, dict):
        return "msg_type %r / content %r" % (mt, type(content))
    if mt == "text":
        if sorted(content) != ["text"] or not isinstance(content["text"], str):
            return "text content %r" % content
        return None
    if sorted(content) != ["post"] or not isinstance(content["post"], dict) \
            or not content["post"]:
        return "post content %r" % content
    for lang, p in content["post"].items():
        if lang not in ("zh_cn", "en_us", "ja_jp") or not isinstance(p, dict):
            return "post language %r" % lang
        if not isinstance(p.get("content"), list) or \
                not isinstance(p.get("title", ""), str):
            return "post %s: content/title %r" % (lang, p)
        for para in p["content"]:
            if not isinstance(para, list) or not all(
                    isinstance(el, dict) and isinstance(el.get("tag"), str) for el in para):
                return "post %s: paragraph %r" % (lang, para)
    return None


def message_text(body):
    c = body.get("content") or {}
    if body.get("msg_type") == "text":
        return c.get("text", "")
    return "\n".join(post_texts(c.get("post") or {}))


class Feishu(StandIn):
    # sig: for a bot with a secret, "ok" or what was wrong; code: the code answered
    fields = ("sig", "code")

    def __init__(self, secrets=None, keywords=None, app=("cli_app", "app-secret"), expire=7200,
                 fresh_s=60, max_body=20000, invalid_users=()):
        super().__init__()
        self.secrets = dict(secrets or {})  # hook name -> secret
        self.keywords = dict(keywords or {})  # hook name -> [keyword, ...]
        self.app = app
        self.expire = expire
        self.fresh_s = fresh_s
        self.max_body = max_body
        self.invalid_users = set(invalid_users)
        self.tokens = {}  # token -> monotonic expiry
        self.ntokens = 0
        self.oversize = 0
        self.api_url = self.url + "/open-apis"

    def hook_url(self, name):
        return self.url + HOOK + name

    def _answer(self, rec, step, data=None):
        if not isinstance(step, dict):
            step = {"code": step}
        code = step.get("code", 0)
        rec.code = code
        if step.get("legacy"):
            out = {"Extra": None, "StatusCode": code,
                   "StatusMessage": "success" if code == 0 else "scripted %d" % code}
        else:
            out = {"code": code, "msg": "success" if code == 0 else "scripted %d" % code}
            if data is not None and code == 0:
                out["data"] = data
        return json_answer(step.get("status", 200), out, step.get("headers", {}))

    def _fail(self, rec, status, code, msg):
        rec.code = code
        return json_answer(status, {"code": code, "msg": msg, "data": {}})

    def _check_sig(self, body, secret):
        ts, sg = body.get("timestamp"), body.get("sign")
        if not isinstance(ts, str) or not isinstance(sg, str):
            return "timestamp or sign missing or not strings: %r %r" % (ts, sg)
        if not ts.isdigit():
            return "timestamp not digits: %r" % ts
        age = abs(time.time() - int(ts))
        if age > self.fresh_s:
            return "timestamp %s is %.1fs off" % (ts, age)
        want = sign(secret, int(ts))
        if sg != want:
            return "sign %r, want %r" % (sg, want)
        return "ok"

    def _body(self, rec):
        """The JSON object of a POST, and None; or None and what is wrong."""
        if rec.method != "POST":
            return None, "method %s" % rec.method
        if rec.headers.get("content-type") != "application/json; charset=utf-8":
            return None, "content-type %r" % rec.headers.get("content-type")
        try:
            body = json.loads(rec.body)
        except ValueError as e:
            return None, "not JSON: %s" % e
        if not isinstance(body, dict):
            return None, "not an object"
        return body, check_content(body) if rec.path != TOKEN else None

    def handle(self, rec):
        if len(rec.body) > self.max_body:
            with self.cond:
                self.oversize += 1
            return self._fail(rec, 200, 9499, "Bad Request: body too big")
        if rec.path == TOKEN:
            body, bad = self._body(rec)
            if bad:
                return self._fail(rec, 400, 10003, "invalid param: " + bad)
            if sorted(body) != ["app_id", "app_secret"] or \
                    (body["app_id"], body["app_secret"]) != self.app:
                return self._fail(rec, 400, 10014, "app secret invalid")
            with self.cond:
                self.ntokens += 1
                tok = "t-%d" % self.ntokens
                self.tokens[tok] = time.monotonic() + self.expire
            rec.code = 0
            return json_answer(200, {"code": 0, "msg": "ok", "tenant_access_token": tok,
                                     "expire": self.expire})
        if rec.path == BATCH:
            return self._batch(rec)
        if rec.path.startswith(HOOK):
            return self._hook(rec, rec.path[len(HOOK):])
        return self._fail(rec, 404, 404, "no such API")

    def _batch(self, rec):
        auth = rec.headers.get("authorization")
        if not auth:
            return self._fail(rec, 400, 99991661, "Missing access token for authorization")
        tok = auth[7:] if auth.startswith("Bearer ") else None
        with self.cond:
            exp = self.tokens.get(tok)
        if exp is None or exp <= time.monotonic():
            return self._fail(rec, 400, 99991663, "Invalid access token for authorization")
        body, bad = self._body(rec)
        if bad:
            return self._fail(rec, 400, 10003, "invalid param: " + bad)
        users, depts = body.get("user_ids", []), body.get("department_ids", [])
        if set(body) - {"msg_type", "content", "user_ids", "department_ids"}:
            bad = "unexpected fields %r" % sorted(body)
        elif not (users or depts):
            bad = "no user_ids or department_ids"
        for ids in (users, depts):
            if not bad and (not isinstance(ids, list) or len(ids) > 200 or not all(
                    isinstance(i, str) and i for i in ids)):
                bad = "ids %r" % (ids,)
        if bad:
            return self._fail(rec, 400, 10003, "invalid param: " + bad)
        step = self.scripted("batch_send", 0)
        if step == 99991663 or (isinstance(step, dict) and step.get("code") == 99991663):
            with self.cond:
                self.tokens.pop(tok, None)
        return self._answer(rec, step, {
            "message_id": "bm-%d" % len(self.requests),
            "invalid_department_ids": [], "invalid_open_ids": [],
            "invalid_user_ids": [u for u in users if u in self.invalid_users]})

    def _hook(self, rec, name):
        body, bad = self._body(rec)
        allowed = {"msg_type", "content"}
        if name in self.secrets:
            allowed |= {"timestamp", "sign"}
        if not bad and set(body) - allowed:
            bad = "unexpected fields %r" % sorted(body)
        if bad:
            return self._fail(rec, 400, 9499, "Bad Request: " + bad)
        if name in self.secrets:
            rec.sig = self._check_sig(body, self.secrets[name])
            if rec.sig != "ok":
                return self._fail(rec, 200, 19021, "sign match fail or timestamp is not "
                                                   "within one hour from current time")
        kws = self.keywords.get(name)
        if kws and not any(k in message_text(body) for k in kws):
            return self._fail(rec, 200, 19024, "Key Words Not Found")
        return self._answer(rec, self.scripted(name, 0), {})

    def hook(self, name):
        return self.records(lambda r: r.path == HOOK + name)

    def batch(self):
        return self.records(lambda r: r.path == BATCH)

    def token_fetches(self):
        return self.records(lambda r: r.path == TOKEN)
