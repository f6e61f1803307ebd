"""A local stand-in for Slack (on standin.py), for test_slack.py. It records every
request and checks it the way Slack documents:

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

import time

from standin import StandIn, json_answer, text_answer


class Slack(StandIn):
    fields = ("answer",)  # the answer chosen: "ok" or an error string

    def __init__(self, token="xoxb-test"):
        super().__init__()
        self.token = token

    def hook_url(self, name):
        return "%s/hooks/%s" % (self.url, name)

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
        return self.scripted(body["channel"])

    def handle(self, rec):
        # The whole request target: a query string makes the path unknown.
        if rec.target == "/chat.postMessage":
            a = rec.answer = self._api(rec)
            if a == "429":
                return text_answer(429, '{"ok":false,"error":"ratelimited"}',
                                   "application/json", {"Retry-After": "1"})
            if a == "ok":
                return json_answer(200, {"ok": True, "channel": "C1",
                                         "ts": "%.6f" % time.time()})
            extra = {"Retry-After": "1"} if a == "ratelimited" else {}
            return json_answer(200, {"ok": False, "error": a}, extra)
        if rec.target.startswith("/hooks/"):
            name = rec.target.split("/")[2]
            a = self.scripted(name)
            try:
                body = rec.json()
            except ValueError:
                a = "invalid_payload"
            else:
                if not isinstance(body.get("text"), str):
                    a = "no_text"
            rec.answer = a
            if a == "ok":
                return text_answer(200, "ok", "text/html")
            if a == "429":
                return text_answer(429, "rate_limited", "text/html", {"Retry-After": "1"})
            return text_answer(400 if a != "channel_not_found" else 404, a, "text/html")
        rec.answer = "404"
        return text_answer(404, "not found")
