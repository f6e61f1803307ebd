"""Local stand-ins for the four SMS platforms of notifyd's sms receiver (Python standard
library only), for test_sms.py, on the common base of standin.py. Each Standin is one HTTP
server on 127.0.0.1:0 playing one provider, serving from its construction. It records every request and checks it the way the provider documents it,
recomputing the signature from the request as received (its own code, written from the
providers' documentation, not notifyd's):

  aliyun   dysmsapi SendSms, RPC style: POST /?<common parameters>&Signature=..., form body.
           Signature = Base64(HMAC-SHA1(secret + "&", "POST&%2F&" + percentEncode(sorted
           query and form parameters))). Answers {"Code": "OK"|<error>, "Message": ...}; a
           wrong signature gets HTTP 400 SignatureDoesNotMatch, a reused SignatureNonce
           SignatureNonceUsed.
  tencent  SendSms 2019-07-11, API 3.0: POST / with a JSON body, X-TC-* headers and a
           TC3-HMAC-SHA256 Authorization (canonical headers content-type;host). Answers
           {"Response": {"SendStatusSet": [...]}} or {"Response": {"Error": {...}}}; a wrong
           signature gets AuthFailure.SignatureFailure.
  huawei   batchSendSms v1: POST <path> with a form body, Authorization: WSSE realm="SDP",...
           and X-WSSE: UsernameToken Username=..,PasswordDigest=..,Nonce=..,Created=..
           with PasswordDigest = Base64(SHA256(Nonce + Created + AppSecret)) ("hex" digest:
           Base64 of the hex digest). Answers {"code": "000000"|<error>, ...}.
  aws      SNS Publish, query protocol: POST / with a form body and a SigV4 Authorization
           (service sns). Answers a PublishResponse or an ErrorResponse (XML).

Every signed time (Timestamp, X-TC-Timestamp, Created, X-Amz-Date) must be UTC and within
CLOCK_SKEW seconds of this machine's clock: a local time labelled Z is refused.

Answers: `script` is a list consumed one per request (the last repeats), each one of
"ok", "throttle" (the provider's throttling answer), "error" (a permanent error), "500",
"429"; a Rec's `answer` says which was given, "badsig"/"badreq" when the request itself was
refused (`problem` says why). Besides standin.Rec's attributes a Rec has `params` (Aliyun's
query as a dict), `data` (the form as a dict, or Tencent's parsed JSON body) and `numbers`
(the phone numbers of the request).
"""

import base64
import calendar
import hashlib
import hmac
import json
import re
import time
import urllib.parse

from standin import Answer, StandIn, json_answer, text_answer

CLOCK_SKEW = 300

ALIYUN_CODES = {
    "throttle": ("isv.BUSINESS_LIMIT_CONTROL", "\u89e6\u53d1\u5206\u949f\u7ea7\u6d41\u63a7Permits:1"),
    "error": ("isv.MOBILE_NUMBER_ILLEGAL", "\u975e\u6cd5\u624b\u673a\u53f7"),
}


def pct(s):
    return urllib.parse.quote(s, safe="-_.~")


def utc_parse(text, fmt):
    """Unix time of a UTC text, or None when it does not parse."""
    try:
        return calendar.timegm(time.strptime(text, fmt))
    except (ValueError, TypeError):
        return None


def fresh(t):
    return t is not None and abs(time.time() - t) <= CLOCK_SKEW


def sha256_hex(b):
    return hashlib.sha256(b).hexdigest()


def hmac256(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class Standin(StandIn):
    fields = ("answer", "problem", "params", "data", "numbers")

    def __init__(self, provider, key_id, secret, digest="raw", token=None, region="us-east-1",
                 script=None, path="/"):
        super().__init__()
        self.provider = provider
        self.key_id = key_id
        self.secret = secret
        self.digest = digest
        self.token = token
        self.region = region
        self.path = path
        self.script["all"] = list(script or ["ok"])
        self.nonces = set()
        self.start()

    # ---- common -------------------------------------------------------------------------

    def _next(self):
        return self.scripted("all")

    def _nonce_used(self, nonce):
        with self.cond:
            if nonce in self.nonces:
                return True
            self.nonces.add(nonce)
            return False

    def handle(self, rec):
        rec.params, rec.data, rec.numbers = {}, None, []
        if rec.method != "POST":
            rec.answer, rec.problem = "badreq", "method %s" % rec.method
            return text_answer(405, "POST only")
        try:
            status, ctype, data = getattr(self, "_" + self.provider)(rec)
        except Exception as e:  # noqa: BLE001 - a stand-in bug must show, not hang
            rec.answer, rec.problem = "badreq", "stand-in exception: %r" % e
            return text_answer(500, "stand-in exception")
        headers = {"Content-Type": ctype}
        if status == 429:
            headers["Retry-After"] = "1"
        return Answer(status, data, headers)

    @staticmethod
    def _form(rec):
        if rec.headers.get("content-type", "").split(";")[0] != \
                "application/x-www-form-urlencoded":
            raise ValueError("content-type %r" % rec.headers.get("content-type"))
        return urllib.parse.parse_qsl(rec.body.decode("utf-8"), keep_blank_values=True,
                                      strict_parsing=False)

    # ---- aliyun -------------------------------------------------------------------------

    def _aliyun_answer(self, status, code, msg):
        body = {"Message": msg, "RequestId": "req-1", "Code": code}
        if code == "OK":
            body["BizId"] = "biz-1"
        return status, "application/json;charset=utf-8", json.dumps(body).encode()

    def _aliyun(self, rec):
        query = urllib.parse.parse_qsl(rec.raw_query, keep_blank_values=True)
        try:
            form = self._form(rec)
        except ValueError as e:
            rec.answer, rec.problem = "badreq", str(e)
            return self._aliyun_answer(400, "InvalidParameter", str(e))
        rec.params, rec.data = dict(query), dict(form)
        rec.numbers = rec.data.get("PhoneNumbers", "").split(",")
        params = [(k, v) for k, v in query + form if k != "Signature"]
        canon = "&".join(pct(k) + "=" + pct(v) for k, v in sorted(params))
        sts = "POST&%2F&" + pct(canon)
        want = base64.b64encode(hmac.new((self.secret + "&").encode(), sts.encode(),
                                         hashlib.sha1).digest()).decode()
        q = rec.params
        problem = None
        if rec.path != self.path:
            problem = "path %r" % rec.path
        elif q.get("AccessKeyId") != self.key_id:
            problem = "AccessKeyId %r" % q.get("AccessKeyId")
        elif (q.get("Action"), q.get("Version"), q.get("Format"), q.get("SignatureMethod"),
              q.get("SignatureVersion")) != ("SendSms", "2017-05-25", "JSON", "HMAC-SHA1", "1.0"):
            problem = "common parameters %r" % q
        elif not fresh(utc_parse(q.get("Timestamp"), "%Y-%m-%dT%H:%M:%SZ")):
            problem = "Timestamp %r is not now in UTC" % q.get("Timestamp")
        if problem:
            rec.answer, rec.problem = "badreq", problem
            return self._aliyun_answer(400, "InvalidParameter", problem)
        if q.get("Signature") != want:
            rec.answer, rec.problem = "badsig", "signature %r, want %r" % (q.get("Signature"),
                                                                           want)
            return self._aliyun_answer(400, "SignatureDoesNotMatch",
                                       "Specified signature is not matched with our "
                                       "calculation.")
        if self._nonce_used(q.get("SignatureNonce")):
            rec.answer, rec.problem = "badreq", "nonce reused"
            return self._aliyun_answer(400, "SignatureNonceUsed", "nonce used")
        a = rec.answer = self._next()
        if a == "ok":
            return self._aliyun_answer(200, "OK", "OK")
        if a in ("500", "429"):
            return int(a), "text/plain", b"unavailable"
        return self._aliyun_answer(200, *ALIYUN_CODES[a])

    # ---- tencent ------------------------------------------------------------------------

    @staticmethod
    def _tencent_error(code, msg):
        return 200, "application/json", json.dumps(
            {"Response": {"Error": {"Code": code, "Message": msg},
                          "RequestId": "req-1"}}).encode()

    def _tencent(self, rec):
        h = rec.headers
        try:
            rec.data = json.loads(rec.body.decode("utf-8"))
        except ValueError as e:
            rec.answer, rec.problem = "badreq", "body: %s" % e
            return self._tencent_error("InvalidParameter", "not JSON")
        rec.numbers = list(rec.data.get("PhoneNumberSet") or [])
        ts = h.get("x-tc-timestamp", "")
        auth = re.match(r"^TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d\d-\d\d)/sms/tc3_request, "
                        r"SignedHeaders=content-type;host, Signature=([0-9a-f]{64})$",
                        h.get("authorization", ""))
        problem = None
        if rec.path != self.path:
            problem = "path %r" % rec.path
        elif h.get("content-type") != "application/json":
            problem = "content-type %r" % h.get("content-type")
        elif (h.get("x-tc-action"), h.get("x-tc-version")) != ("SendSms", "2019-07-11"):
            problem = "action/version %r %r" % (h.get("x-tc-action"), h.get("x-tc-version"))
        elif not ts.isdigit() or not fresh(int(ts)):
            problem = "X-TC-Timestamp %r is not now" % ts
        elif not auth or auth.group(1) != self.key_id:
            problem = "Authorization %r" % h.get("authorization")
        elif auth.group(2) != time.strftime("%Y-%m-%d", time.gmtime(int(ts))):
            problem = "credential date %r is not the timestamp's UTC date" % auth.group(2)
        if problem:
            rec.answer, rec.problem = "badreq", problem
            return self._tencent_error("AuthFailure.InvalidAuthorization", problem)
        date = auth.group(2)
        canon = "\n".join(["POST", rec.path, "",
                           "content-type:%s\nhost:%s\n" % (h["content-type"].strip().lower(),
                                                           h.get("host", "").strip().lower()),
                           "content-type;host", sha256_hex(rec.body)])
        sts = "\n".join(["TC3-HMAC-SHA256", ts, date + "/sms/tc3_request",
                         sha256_hex(canon.encode())])
        k = hmac256(("TC3" + self.secret).encode(), date)
        k = hmac256(hmac256(k, "sms"), "tc3_request")
        want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        if auth.group(3) != want:
            rec.answer, rec.problem = "badsig", "signature %s, want %s" % (auth.group(3), want)
            return self._tencent_error("AuthFailure.SignatureFailure",
                                       "The provided credentials could not be validated.")
        a = rec.answer = self._next()
        if a in ("500", "429"):
            return int(a), "text/plain", b"unavailable"
        if a == "error":
            return self._tencent_error("FailedOperation.TemplateIncorrectOrUnapproved",
                                       "template not approved")
        code, msg = ("Ok", "send success") if a == "ok" else \
            ("LimitExceeded.PhoneNumberThirtySecondLimit", "30s limit")
        out = {"Response": {"SendStatusSet": [
            {"SerialNo": "s%d" % i, "PhoneNumber": n, "Fee": 1, "SessionContext": "",
             "Code": code, "Message": msg, "IsoCode": "CN"}
            for i, n in enumerate(rec.numbers)], "RequestId": "req-1"}}
        return 200, "application/json", json.dumps(out).encode()

    # ---- huawei -------------------------------------------------------------------------

    @staticmethod
    def _huawei_answer(status, code, desc, numbers=()):
        out = {"code": code, "description": desc}
        if code == "000000":
            out["result"] = [{"originTo": n, "createTime": "2024-01-01T00:00:00Z",
                              "from": "sender", "smsMsgId": "m%d" % i, "status": "000000"}
                             for i, n in enumerate(numbers)]
        return status, "application/json;charset=UTF-8", json.dumps(out).encode()

    def _huawei(self, rec):
        h = rec.headers
        try:
            rec.data = dict(self._form(rec))
        except ValueError as e:
            rec.answer, rec.problem = "badreq", str(e)
            return self._huawei_answer(400, "E000040", str(e))
        rec.numbers = rec.data.get("to", "").split(",")
        wsse = re.match(r'^UsernameToken Username="([^"]*)",PasswordDigest="([^"]*)",'
                        r'Nonce="([^"]*)",Created="([^"]*)"$', h.get("x-wsse", ""))
        problem = None
        if rec.path != self.path:
            problem = "path %r" % rec.path
        elif h.get("authorization") != 'WSSE realm="SDP",profile="UsernameToken",type="Appkey"':
            problem = "Authorization %r" % h.get("authorization")
        elif not wsse or wsse.group(1) != self.key_id:
            problem = "X-WSSE %r" % h.get("x-wsse")
        elif not fresh(utc_parse(wsse.group(4), "%Y-%m-%dT%H:%M:%SZ")):
            problem = "Created %r is not now in UTC" % wsse.group(4)
        if problem:
            rec.answer, rec.problem = "badreq", problem
            return self._huawei_answer(401, "E000001", problem)
        d = hashlib.sha256((wsse.group(3) + wsse.group(4) + self.secret).encode())
        want = base64.b64encode(d.hexdigest().encode() if self.digest == "hex"
                                else d.digest()).decode()
        if wsse.group(2) != want:
            rec.answer, rec.problem = "badsig", "digest %s, want %s" % (wsse.group(2), want)
            return self._huawei_answer(401, "E000027", "authentication failed (stand-in)")
        if self._nonce_used(wsse.group(3)):
            rec.answer, rec.problem = "badreq", "nonce reused"
            return self._huawei_answer(401, "E000028", "nonce reused (stand-in)")
        a = rec.answer = self._next()
        if a == "ok":
            return self._huawei_answer(200, "000000", "Success", rec.numbers)
        if a == "error":
            return self._huawei_answer(400, "E000510", "The SMS fails to be sent.")
        if a == "throttle":
            return self._huawei_answer(429, "E000020", "too many requests (stand-in)")
        return int(a), "text/plain", b"unavailable"

    # ---- aws ----------------------------------------------------------------------------

    @staticmethod
    def _aws_error(status, code, msg):
        body = ('<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error>'
                '<Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>'
                '<RequestId>req-1</RequestId></ErrorResponse>' % (code, msg))
        return status, "text/xml", body.encode()

    def _aws(self, rec):
        h = rec.headers
        try:
            rec.data = dict(self._form(rec))
        except ValueError as e:
            rec.answer, rec.problem = "badreq", str(e)
            return self._aws_error(400, "MalformedQueryString", "form")
        rec.numbers = [rec.data.get("PhoneNumber", "")]
        amz = h.get("x-amz-date", "")
        auth = re.match(r"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([a-z0-9-]+)/sns/"
                        r"aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$",
                        h.get("authorization", ""))
        problem = None
        if rec.path != self.path:
            problem = "path %r" % rec.path
        elif not fresh(utc_parse(amz, "%Y%m%dT%H%M%SZ")):
            problem = "X-Amz-Date %r is not now in UTC" % amz
        elif not auth or auth.group(1) != self.key_id or auth.group(3) != self.region \
                or auth.group(2) != amz[:8]:
            problem = "Authorization %r" % h.get("authorization")
        elif self.token and (h.get("x-amz-security-token") != self.token or
                             "x-amz-security-token" not in auth.group(4).split(";")):
            problem = "session token missing or not signed"
        if problem:
            rec.answer, rec.problem = "badreq", problem
            return self._aws_error(400, "IncompleteSignature", problem)
        signed = auth.group(4).split(";")
        canon = "\n".join(["POST", rec.path, "",
                           "".join("%s:%s\n" % (n, " ".join(h.get(n, "").split()))
                                   for n in signed),
                           auth.group(4), sha256_hex(rec.body)])
        scope = "%s/%s/sns/aws4_request" % (amz[:8], self.region)
        sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, sha256_hex(canon.encode())])
        k = hmac256(("AWS4" + self.secret).encode(), amz[:8])
        for part in (self.region, "sns", "aws4_request"):
            k = hmac256(k, part)
        want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        if auth.group(5) != want or not {"host", "x-amz-date"} <= set(signed):
            rec.answer, rec.problem = "badsig", "signature %s, want %s" % (auth.group(5), want)
            return self._aws_error(403, "SignatureDoesNotMatch",
                                   "The request signature we calculated does not match the "
                                   "signature you provided.")
        a = rec.answer = self._next()
        if a == "ok":
            body = ('<PublishResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">'
                    '<PublishResult><MessageId>%08d-msg</MessageId></PublishResult>'
                    '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>'
                    '</PublishResponse>' % len(self.records()))
            return 200, "text/xml", body.encode()
        if a == "throttle":
            return self._aws_error(400, "Throttling", "Rate exceeded")
        if a == "error":
            return self._aws_error(400, "InvalidParameter",
                                   "Invalid parameter: PhoneNumber Reason: &lt;x&gt; is not "
                                   "valid")
        return int(a), "text/plain", b"unavailable"

    # ---- access -------------------------------------------------------------------------

    def snapshot(self):
        return self.records()
