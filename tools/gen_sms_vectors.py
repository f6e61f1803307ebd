#!/usr/bin/env python3
"""Independent computation of the SMS signing vectors that no provider publishes
(tests/unit/notify/test_sms.c quotes its output). Not run by CI.

Usage: tools/gen_sms_vectors.py

Written from the providers' documentation with Python's hmac, hashlib, base64,
urllib.parse and re modules, sharing no code with src/notify/sms_*.c:
  - Aliyun RPC signature of a SendSms POST (every parameter signed, method POST):
    Alibaba Cloud publishes only a GET DescribeRegions example, which the C test
    checks directly.
  - Huawei X-WSSE PasswordDigest: Huawei documents the formula
    Base64(SHA256(Nonce + Created + Password)) but no worked example.
  - Tencent TC3 and AWS SigV4 for requests shaped like notifyd's (SendSms to
    sms.tencentcloudapi.com, SNS Publish with a session token): the published
    examples (cvm DescribeInstances, iam ListUsers) are checked directly too.
  - Huawei templateParas: Notification Manager's generateParams (huawei.go)
    ported with Python's re, whose leftmost-first backtracking matches Go's
    regexp for this pattern on ASCII input.
"""

import base64
import hashlib
import hmac
import json
import re
import urllib.parse


def pct(s):
    """RFC 3986 percent-encoding: only A-Z a-z 0-9 - _ . ~ stay."""
    return urllib.parse.quote(s, safe="-_.~")


def aliyun(method, secret, params):
    canon = "&".join(pct(k) + "=" + pct(v) for k, v in sorted(params.items()))
    sts = method + "&" + pct("/") + "&" + pct(canon)
    mac = hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()
    return sts, base64.b64encode(mac).decode()


def hmac256(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tc3(secret_id, secret_key, service, host, ctype, payload, ts, date):
    canon = "\n".join(["POST", "/", "", "content-type:%s\nhost:%s\n" % (ctype, host),
                       "content-type;host", hashlib.sha256(payload.encode()).hexdigest()])
    sts = "\n".join(["TC3-HMAC-SHA256", str(ts), "%s/%s/tc3_request" % (date, service),
                     hashlib.sha256(canon.encode()).hexdigest()])
    k = hmac256(("TC3" + secret_key).encode(), date)
    k = hmac256(k, service)
    k = hmac256(k, "tc3_request")
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return ("TC3-HMAC-SHA256 Credential=%s/%s/%s/tc3_request, SignedHeaders=content-type;host, "
            "Signature=%s" % (secret_id, date, service, sig))


def sigv4(key_id, secret, token, region, service, host, ctype, amz_date, body):
    headers = [("content-type", ctype), ("host", host), ("x-amz-date", amz_date)]
    if token:
        headers.append(("x-amz-security-token", token))
    signed = ";".join(h for h, _ in headers)
    canon = "\n".join(["POST", "/", "", "".join("%s:%s\n" % h for h in headers), signed,
                       hashlib.sha256(body.encode()).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canon.encode()).hexdigest()])
    k = hmac256(("AWS4" + secret).encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        k = hmac256(k, part)
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        key_id, scope, signed, sig)


def huawei_digest(nonce, created, secret, hex_form):
    d = hashlib.sha256((nonce + created + secret).encode())
    return base64.b64encode(d.hexdigest().encode() if hex_form else d.digest()).decode()


KEYS = ["alertname", "severity", "message", "summary", "alerttype", "cluster", "node",
        "namespace", "workload", "pod"]


def huawei_params(msg):
    """NM's generateParams, with notifyd's one repair: JSON strings (escaped, and
    the fallback quoted)."""
    matches = re.findall(r"[a-zA-Z0-9_]+[\t\n\f\r ]+=[\t\n\f\r ]+.*?[^\n]+", msg)

    def cut(v):
        return v[:20]

    if not matches:
        return json.dumps([cut(msg)], ensure_ascii=False, separators=(",", ":"))
    pairs = {}
    for m in matches:
        mn = re.split(r"[\t\n\f\r ]+=[\t\n\f\r ]+", m)
        if len(mn) > 1:
            if mn[0] in ("deployment", "statfulset", "daemonset"):
                mn[0] = "workload"
            pairs[mn[0]] = mn[1]
    return json.dumps([cut(pairs.get(k, "")) for k in KEYS], ensure_ascii=False,
                      separators=(",", ":"))


def c_str(s):
    return json.dumps(s, ensure_ascii=False)


def main():
    params = {
        "AccessKeyId": "testid", "Action": "SendSms", "Format": "JSON",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "0123456789abcdef0123456789abcdef",
        "SignatureVersion": "1.0", "Timestamp": "2024-01-02T03:04:05Z",
        "Version": "2017-05-25", "PhoneNumbers": "+8613800000000,13900000000",
        "SignName": "\u963f\u91cc\u4e91", "TemplateCode": "SMS_154950909",
        "TemplateParam": '{"code":"a \\"b\\"\\n<c> & d~*+"}',
    }
    sts, sig = aliyun("POST", "testsecret", params)
    print("aliyun POST SendSms string to sign:", c_str(sts))
    print("aliyun POST SendSms signature:", sig)

    body = ('{"PhoneNumberSet":["+8613800000000"],"TemplateID":"449739",'
            '"SmsSdkAppid":"1400006666","TemplateParamSet":["disk \\u003c 10%"],"Sign":"test"}')
    print("tencent SendSms body:", c_str(body))
    print("tencent SendSms authorization:",
          tc3("AKIDEXAMPLE", "secretEXAMPLE", "sms", "127.0.0.1:8080", "application/json", body,
              1704164645, "2024-01-02"))

    for hex_form in (False, True):
        print("huawei digest hex=%s:" % hex_form,
              huawei_digest("66c92b11ff8a425fb8d4ccfe0ed9ed1f", "2024-01-02T03:04:05Z",
                            "app-secret", hex_form))
    print("huawei digest of the build test:",
          huawei_digest("0123456789abcdef0123456789abcdef", "2024-01-02T03:04:05Z", "app-secret",
                        False))

    body = ("Action=Publish&Message=disk%20%3C%2010%25%0Aon%20node-1&PhoneNumber=%2B15555550100"
            "&Version=2010-03-31")
    print("aws Publish body:", c_str(body))
    print("aws Publish authorization (token):",
          sigv4("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "session-token-1",
                "eu-west-1", "sns", "sns.eu-west-1.amazonaws.com",
                "application/x-www-form-urlencoded; charset=utf-8", "20240102T030405Z", body))

    for msg in HUAWEI_CASES:
        print("huawei params %s -> %s" % (c_str(msg), c_str(huawei_params(msg))))


HUAWEI_CASES = [
    "[FIRING:1] alertname: KubePodCrashLooping",
    "- alertname = test\n- severity = critical\n- message = pod restarts\n"
    "- summary = node node1 memory utilization > = 10%\n- cluster = default\n"
    "- node = node1\n- namespace = kube-system\n- deployment = coredns\n- pod = coredns-1",
    "alertname = first\nalertname = second\nstatfulset = web\ndaemonset = agent",
    "alertname = a = b = c",
    "alertname =\n\n  spans lines\nseverity =    ",
    "message = a \"quoted\" value that is longer than twenty characters",
    "x-y = 1\nk=v\n=bad\nsummary\t=\tTabbed",
    "message = \u4e2d\u6587\u5b57\u7b26\u4e32\u6bd4\u4e8c\u5341\u4e2a\u5b57\u957f"
    "\u5f97\u591a\u7684\u4e00\u884c\u544a\u8b66\u6587\u672c\u5185\u5bb9",
]

if __name__ == "__main__":
    main()
