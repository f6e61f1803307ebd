"""A local stand-in for Pushover's message API (on standin.py), for test_pushover.py. It records every request and checks it the way Pushover documents
(https://pushover.net/api) and the way notifyd sends it (a JSON body, as Notification
Manager does):

  POST /1/messages.json, Content-Type application/json, a JSON object with
      token     the application token (30 letters and digits; must be the known one)
      user      a user or group key (30 letters and digits; must be a known user)
      message   1 to 1024 characters
      title     optional, at most 250 characters
      device    optional, comma-separated names, each ^[A-Za-z0-9_-]{1,25}$
      sound     optional, one of Pushover's sounds
      priority  optional integer -2..2; with 2, retry (>= 30) and expire (<= 10800)
                are required integers
  and nothing else.

Answers: HTTP 200 {"status":1,"request":".."} on success; a request that breaks a rule
gets HTTP 400 {"<field>":"invalid","errors":[..],"status":0,"request":".."}, as
Pushover answers invalid input. Every answer carries X-Limit-App-Limit,
X-Limit-App-Remaining and X-Limit-App-Reset.

`script[user key]` is a list of answers consumed one per request (the last repeats):
"ok"; "500" (HTTP 500, a plain-text body); "429" (HTTP 429, the application's monthly
limit used up, X-Limit-App-Reset = `reset_at`, a Unix time); "invalid_user" (HTTP 400,
the user key refused as Pushover refuses an unknown one).
"""

import json
import re
import time
import uuid

from standin import StandIn, json_answer, text_answer

KEY = re.compile(r"^[A-Za-z0-9]{30}$")
DEVICE = re.compile(r"^[A-Za-z0-9_-]{1,25}$")
SOUNDS = {"pushover", "bike", "bugle", "cashregister", "classical", "cosmic", "falling",
          "gamelan", "incoming", "intermission", "magic", "mechanical", "pianobar", "siren",
          "spacealarm", "tugboat", "alien", "climb", "persistent", "echo", "updown",
          "vibrate", "none"}
FIELDS = {"token", "user", "message", "title", "device", "sound", "priority", "retry",
          "expire"}


def check(body, token, users):
    """The rules above: a list of (field, error) for what is wrong."""
    bad = []
    for k in sorted(set(body) - FIELDS):
        bad.append((k, "unknown parameter %s" % k))
    t = body.get("token")
    if not isinstance(t, str) or not KEY.match(t) or t != token:
        bad.append(("token", "application token is invalid"))
    u = body.get("user")
    if not isinstance(u, str) or not KEY.match(u):
        bad.append(("user", "user key is invalid"))
    elif u not in users:
        bad.append(("user", "user identifier is not a valid user, group, or subscribed "
                            "user key"))
    m = body.get("message")
    if not isinstance(m, str) or not m:
        bad.append(("message", "message cannot be blank"))
    elif len(m) > 1024:
        bad.append(("message", "message is longer than 1024 characters"))
    if "title" in body and (not isinstance(body["title"], str) or len(body["title"]) > 250):
        bad.append(("title", "title is longer than 250 characters"))
    if "device" in body:
        d = body["device"]
        if not isinstance(d, str) or not all(DEVICE.match(x) for x in d.split(",")):
            bad.append(("device", "device name is not valid"))
    if "sound" in body and body["sound"] not in SOUNDS:
        bad.append(("sound", "sound is invalid"))
    p = body.get("priority", 0)
    if type(p) is not int or not -2 <= p <= 2:
        bad.append(("priority", "priority is invalid"))
    elif p == 2:
        r, e = body.get("retry"), body.get("expire")
        if type(r) is not int or r < 30:
            bad.append(("retry", "retry must be at least 30 seconds"))
        if type(e) is not int or not 0 < e <= 10800:
            bad.append(("expire", "expire must be at most 10800 seconds"))
    elif "retry" in body or "expire" in body:
        bad.append(("retry", "retry and expire are for emergency priority only"))
    return bad


class Pushover(StandIn):
    # problems: what broke Pushover's rules (empty for a valid request); answer: the
    # answer chosen; wall: time.time() at arrival, to compare with X-Limit-App-Reset
    fields = ("problems", "answer", "wall")

    def __init__(self, token, users):
        super().__init__()
        self.token = token
        self.users = set(users)
        self.remaining = 10000
        self.reset_at = int(time.time()) + 30 * 86400
        self.api_url = self.url + "/1"

    def _limits(self):
        with self.cond:
            return {"X-Limit-App-Limit": "10000",
                    "X-Limit-App-Remaining": str(self.remaining),
                    "X-Limit-App-Reset": str(self.reset_at)}

    def handle(self, rec):
        rec.wall = time.time()
        rec.problems = []
        req_id = str(uuid.uuid4())
        bad = []
        if rec.method != "POST":
            bad.append(("method", "method %s not allowed" % rec.method))
        if rec.path != "/1/messages.json":
            rec.problems.append("path %s" % rec.path)
            rec.answer = "404"
            return json_answer(404, {"errors": ["not found"], "status": 0, "request": req_id})
        if rec.headers.get("content-type") != "application/json":
            bad.append(("content-type", "content type %s" % rec.headers.get("content-type")))
        try:
            body = rec.json()
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError as e:
            bad.append(("body", "body is not a JSON object: %s" % e))
            body = {}
        bad += check(body, self.token, self.users)
        rec.problems = ["%s: %s" % b for b in bad]
        # The user's script only runs for an otherwise valid request.
        user = body.get("user") if isinstance(body.get("user"), str) else ""
        a = self.scripted(user) if not bad else "invalid"
        rec.answer = a
        limits = self._limits()
        if a == "ok":
            with self.cond:
                self.remaining -= 1
            return json_answer(200, {"status": 1, "request": req_id}, limits)
        if a == "500":
            return text_answer(500, "<html>Internal Server Error</html>", "text/html")
        if a == "429":
            return json_answer(429, {"errors": ["application is over its monthly message "
                                                "limit"], "status": 0, "request": req_id},
                               dict(limits, **{"X-Limit-App-Remaining": "0"}))
        if a == "invalid_user":
            bad = [("user", "user identifier is not a valid user, group, or subscribed "
                            "user key")]
        out = {f: "invalid" for f, _ in bad}
        out.update({"errors": [e for _, e in bad], "status": 0, "request": req_id})
        return json_answer(400, out, limits)

    def matching(self, user=None):
        """The requests to `user` (every request when None), in arrival order."""
        def to_user(r):
            try:
                return user is None or r.json().get("user") == user
            except (ValueError, AttributeError):
                return user is None
        return self.records(to_user)
