"""A local stand-in for WeCom's (企业微信) server APIs (on standin.py), for test_wechat.py.
It records every request and checks it the way WeCom documents:

  GET  /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET
       -> {"errcode":0,"errmsg":"ok","access_token":..,"expires_in":N}
       https://developer.work.weixin.qq.com/document/path/91039
  POST /cgi-bin/message/send?access_token=T  (app message)
       {"touser":"u1|u2","toparty":"p1","totag":"t1","msgtype":"text"|"markdown",
        "agentid":N,"text"|"markdown":{"content":..}}: at least one recipient field, at
       most 1000 users, 100 parties and 100 tags, agentid an integer, content at most
       2048 bytes. A missing token gets 41001, an unknown one 40014, an expired one 42001.
       https://developer.work.weixin.qq.com/document/path/90236
  POST /cgi-bin/webhook/send?key=K  (group robot)
       {"msgtype":"text","text":{"content":..,"mentioned_list":[..],
        "mentioned_mobile_list":[..]}} (content at most 2048 bytes) or
       {"msgtype":"markdown","markdown":{"content":..}} (at most 4096 bytes).
       https://developer.work.weixin.qq.com/document/path/91770

A request that breaks a rule gets errcode 40058 with the rule in errmsg, and the rule in
rec.problem (None when the request was right). Answers: `script["send"]` (app messages)
or `script["bot:<key>"]` is a list of answers consumed one per request (the last
repeats): an errcode, or a dict merged into the {"errcode":0,"errmsg":"ok"} answer (e.g.
{"invaliduser": "x"}); the default is errcode 0.
"""

import json
import time

from standin import StandIn, json_answer

LIMITS = {"touser": 1000, "toparty": 100, "totag": 100}


def _content_problem(body, limit):
    mt = body.get("msgtype")
    if mt not in ("text", "markdown"):
        return "msgtype %r, want text or markdown" % (mt,)
    other = "markdown" if mt == "text" else "text"
    if other in body:
        return "both text and markdown objects"
    m = body.get(mt)
    if not isinstance(m, dict) or not isinstance(m.get("content"), str):
        return "%s.content missing or not a string" % mt
    n = len(m["content"].encode("utf-8"))
    if n == 0 or n > limit:
        return "%s.content is %d bytes, want 1..%d" % (mt, n, limit)
    return None


class WeCom(StandIn):
    fields = ("problem", "errcode")  # what the request got wrong (None: nothing), the answer

    def __init__(self, corp=("corp-1", "app secret"), agent=1000002, expires_in=7200):
        super().__init__()
        self.corp = corp
        self.agent = agent
        self.expires_in = expires_in
        self.tokens = {}  # token -> monotonic expiry
        self.ntokens = 0
        self.api_url = self.url + "/cgi-bin"

    def handle(self, rec):
        out = self._route(rec)
        rec.errcode = out.get("errcode")
        return json_answer(200, out, {"Content-Type": "application/json; charset=UTF-8"})

    def bot_url(self, key):
        return "%s/cgi-bin/webhook/send?key=%s" % (self.url, key)

    def _answer(self, rec, key):
        a = self.scripted(key, 0)
        if isinstance(a, dict):
            return dict({"errcode": 0, "errmsg": "ok"}, **a)
        return {"errcode": a, "errmsg": "ok" if a == 0 else "scripted %d" % a}

    def _bad(self, rec, problem):
        rec.problem = problem
        return {"errcode": 40058, "errmsg": "bad request: " + problem}

    def _json_post(self, rec):
        if rec.method != "POST":
            return None, "method %s, want POST" % rec.method
        if rec.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return None, "Content-Type %r" % rec.headers.get("content-type")
        try:
            body = json.loads(rec.body)
        except ValueError:
            return None, "body is not JSON"
        if not isinstance(body, dict):
            return None, "body is not an object"
        return body, None

    def _gettoken(self, rec):
        if rec.method != "GET":
            return self._bad(rec, "gettoken: method %s, want GET" % rec.method)
        if rec.q("corpid") != self.corp[0] or rec.q("corpsecret") != self.corp[1]:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        with self.cond:
            self.ntokens += 1
            tok = "WCTOKEN%d" % self.ntokens
            self.tokens[tok] = time.monotonic() + self.expires_in
        return {"errcode": 0, "errmsg": "ok", "access_token": tok,
                "expires_in": self.expires_in}

    def _send(self, rec):
        tok = rec.q("access_token")
        if not tok:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        with self.cond:
            exp = self.tokens.get(tok)
        if exp is None:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if exp <= time.monotonic():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        body, problem = self._json_post(rec)
        if problem:
            return self._bad(rec, problem)
        agent = body.get("agentid")
        if type(agent) is not int or agent != self.agent:
            return self._bad(rec, "agentid %r, want the integer %d" % (agent, self.agent))
        if not any(k in body for k in LIMITS):
            return self._bad(rec, "no touser, toparty or totag")
        for k, lim in LIMITS.items():
            if k not in body:
                continue
            v = body[k]
            if not isinstance(v, str) or not v or any(not x for x in v.split("|")):
                return self._bad(rec, "%s %r: want ids joined by |" % (k, v))
            if len(v.split("|")) > lim:
                return self._bad(rec, "%s has %d ids, at most %d" % (k, len(v.split("|")), lim))
        problem = _content_problem(body, 2048)
        if problem:
            return self._bad(rec, problem)
        if "mentioned_list" in body[body["msgtype"]]:
            return self._bad(rec, "mentioned_list in an app message")
        ans = self._answer(rec, "send")
        if ans["errcode"] == 42001:
            with self.cond:
                self.tokens.pop(tok, None)
        return ans

    def _bot(self, rec):
        key = rec.q("key")
        if not isinstance(key, str) or not key:
            return {"errcode": 93000, "errmsg": "invalid webhook url"}
        body, problem = self._json_post(rec)
        if problem:
            return self._bad(rec, problem)
        mt = body.get("msgtype")
        problem = _content_problem(body, 4096 if mt == "markdown" else 2048)
        if problem:
            return self._bad(rec, problem)
        m = body[mt]
        for k in ("mentioned_list", "mentioned_mobile_list"):
            if k not in m:
                continue
            if mt != "text":
                return self._bad(rec, "%s in a markdown message" % k)
            if not isinstance(m[k], list) or not all(isinstance(x, str) and x for x in m[k]):
                return self._bad(rec, "%s %r: want a list of strings" % (k, m[k]))
        if set(body) != {"msgtype", mt}:
            return self._bad(rec, "unexpected members %r" % sorted(set(body) - {"msgtype", mt}))
        return self._answer(rec, "bot:" + key)

    def _route(self, rec):
        if rec.path == "/cgi-bin/gettoken":
            return self._gettoken(rec)
        if rec.path == "/cgi-bin/message/send":
            return self._send(rec)
        if rec.path == "/cgi-bin/webhook/send":
            return self._bot(rec)
        return {"errcode": 404, "errmsg": "no such API"}

    def sends(self):
        return self.matching("/cgi-bin/message/send")

    def gettokens(self):
        return self.matching("/cgi-bin/gettoken")

    def bot(self, key):
        return self.records(lambda r: r.path == "/cgi-bin/webhook/send" and r.q("key") == key)

    def wait_for(self, pred, n, timeout):
        return self.wait_count(n, timeout, pred)
