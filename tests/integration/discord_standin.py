"""A local stand-in for Discord's webhook API (on standin.py), for test_discord.py. It
records every request and checks it as Discord documents
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

from standin import StandIn, empty_answer, json_answer


class Discord(StandIn):
    fields = ("problem",)  # why it was refused, when it was

    def __init__(self, retry_after=1.25):
        super().__init__()
        self.retry_after = retry_after

    def webhook(self, wid):
        return "%s/api/webhooks/%s/tok-%s" % (self.url, wid, wid)

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

    def handle(self, rec):
        bad = self._invalid(rec)
        if bad:
            rec.problem = bad[1]["message"]
            return json_answer(*bad)
        what = self.scripted(rec.path.split("/")[3])
        if what == "429":
            return json_answer(429, {"message": "You are being rate limited.",
                                     "retry_after": self.retry_after, "global": False},
                               {"Retry-After": str(int(self.retry_after + 0.999))})
        if what == "404":
            return json_answer(404, {"code": 10015, "message": "Unknown Webhook"})
        if "wait=true" in rec.raw_query:
            return json_answer(200, {"id": "1", "content": rec.json().get("content", "")})
        return empty_answer(204)

    def matching(self, wid):
        return super().matching("/api/webhooks/%s/" % wid)
