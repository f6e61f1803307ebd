#!/usr/bin/env python3
"""The sms receiver against local stand-ins of its four providers (sms_standin.py), each of
which recomputes the provider's signature from the request it received and refuses a wrong
one: the exact requests of Aliyun, Tencent Cloud, Huawei Cloud and AWS SNS (method, path,
query, form or JSON fields, headers; signed times in UTC although the daemon runs with
TZ=Asia/Shanghai), batches per provider limit (250 numbers to Tencent = 2 requests, one
Publish per number on AWS, batch_size), throttling answers retried then delivered with a
fresh signature, errors failing at once with the provider's code in the log and no secret
anywhere, `notifyd test-receiver` exit codes, and --check-config errors with file:line:key."""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from sms_standin import Standin  # noqa: E402

TEMPLATES = ('{{ define "sms.msg" }}ALERT {{ .CommonLabels.alertname }} "q" <&>{{ end }}\n'
             '{{ define "sms.kv" }}{{ range .Alerts }}alertname = {{ .Labels.alertname }}\n'
             'severity = {{ .Labels.severity }}\nnamespace = {{ .Labels.namespace }}\n'
             'deployment = {{ .Labels.deployment }}{{ end }}{{ end }}\n')
MSG = 'ALERT Disk "q" <&>'
SECRETS = {"SMS_ALI_SECRET": "ali-s3cret-VALUE", "SMS_TC_SECRET": "tc-s3cret-VALUE",
           "SMS_AWS_SECRET": "aws-s3cret-VALUE", "SMS_AWS_TOKEN": "aws-t0ken-VALUE"}
HW_SECRET = "hw-s3cret-VALUE"
HW_PATH = "/sms/batchSendSms/v1"
ENV = dict(SECRETS, TZ="Asia/Shanghai")
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def aliyun(sv, numbers, extra=""):
    return ("type = sms\nprovider = aliyun\nphone_numbers = %s\naccess_key_id = LTAI-test\n"
            "access_key_secret = env:SMS_ALI_SECRET\nsign_name = \u963f\u91cc\u4e91\n"
            "template_code = SMS_154950909\ntemplate = sms.msg\napi_url = %s\n%s"
            % (numbers, sv.url, extra))


def tencent(sv, numbers, extra=""):
    return ("type = sms\nprovider = tencent\nphone_numbers = %s\nsecret_id = AKID-test\n"
            "secret_key = env:SMS_TC_SECRET\nsms_sdk_app_id = 1400006666\n"
            "sign = \u817e\u8baf\u4e91\ntemplate_id = 449739\ntemplate = sms.msg\napi_url = %s\n%s"
            % (numbers, sv.url, extra))


def huawei(sv, numbers, extra=""):
    return ("type = sms\nprovider = huawei\nphone_numbers = %s\napp_key = hw-app-key\n"
            "app_secret = file:hw.secret\nsender = 8820000000\ntemplate_id = tpl-1\n"
            "template = sms.kv\napi_url = %s%s\n%s" % (numbers, sv.url, HW_PATH, extra))


def aws(sv, numbers, extra=""):
    return ("type = sms\nprovider = aws\nphone_numbers = %s\naccess_key_id = AKIA-test\n"
            "secret_access_key = env:SMS_AWS_SECRET\nsession_token = env:SMS_AWS_TOKEN\n"
            "region = eu-west-1\ntemplate = sms.msg\napi_url = %s\n%s" % (numbers, sv.url, extra))


def standins(script=None):
    """One stand-in per provider, with the credentials the helpers above configure."""
    return {
        "aliyun": Standin("aliyun", "LTAI-test", SECRETS["SMS_ALI_SECRET"], script=script),
        "tencent": Standin("tencent", "AKID-test", SECRETS["SMS_TC_SECRET"], script=script),
        "huawei": Standin("huawei", "hw-app-key", HW_SECRET, script=script, path=HW_PATH),
        "aws": Standin("aws", "AKIA-test", SECRETS["SMS_AWS_SECRET"],
                       token=SECRETS["SMS_AWS_TOKEN"], region="eu-west-1", script=script),
    }


def write_files(d):
    with open(os.path.join(d, "sms.tmpl"), "w") as f:
        f.write(TEMPLATES)
    with open(os.path.join(d, "hw.secret"), "w") as f:
        f.write(HW_SECRET + "\n")


def daemon(receivers, delivery=""):
    cfg = h.config(receivers, batch="max_wait = 100ms\n", delivery=delivery)
    cfg += "\n[template]\nfiles = sms.tmpl\n"
    d = h.Daemon(cfg, env=ENV)
    write_files(d.dir)
    return d


def alert(name="Disk", **labels):
    return [{"labels": dict({"alertname": name}, **labels)}]


def metric(d, what, name, want, timeout=15):
    return d.wait_metric("notifyd_notifications_%s_total" % what, want, timeout,
                         receiver=name, type="sms")


def log_of(d):
    return "\n".join(d.stderr_lines)


def no_secrets(tap, text, what):
    leaked = [s for s in list(SECRETS.values()) + [HW_SECRET] if s in text]
    tap.eq(leaked, [], "%s: no secret in it" % what)


def clean(tap, sv, name):
    bad = [(r.answer, r.problem) for r in sv.snapshot() if r.problem]
    tap.eq(bad, [], "%s: every request well-formed and correctly signed" % name)


def wire_format(tap):
    sv = standins()
    try:
        cfg = {
            "ali": aliyun(sv["aliyun"], "+8613800000000, 13900000000"),
            "tc": tencent(sv["tencent"], "+8613800000000, 13900000000",
                          "region = ap-beijing\n"),
            "hw": huawei(sv["huawei"], "+8613800000000,\n  13900000000,\n  +447700900123"),
            "aws": aws(sv["aws"], "+15555550100, +15555550101"),
        }
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alert(severity="critical", namespace="kube-system",
                                       deployment="coredns")).status, 200, "alert accepted")
            for name in cfg:
                tap.eq(metric(d, "delivered", name, 1), 1, "%s: delivered" % name)
            for name in ("aliyun", "tencent", "huawei", "aws"):
                clean(tap, sv[name], name)

            rs = sv["aliyun"].snapshot()
            tap.eq(len(rs), 1, "aliyun: one request for two numbers")
            if rs:
                r = rs[0]
                tap.eq((r.method, r.path), ("POST", "/"),
                       "aliyun: POST /")
                tap.eq(r.headers.get("content-type"), "application/x-www-form-urlencoded",
                       "aliyun: form content type")
                q = dict(r.params)
                tap.eq(sorted(q), ["AccessKeyId", "Action", "Format", "Signature",
                                   "SignatureMethod", "SignatureNonce", "SignatureVersion",
                                   "Timestamp", "Version"], "aliyun: the query's parameters")
                tap.eq([q.get(k) for k in ("AccessKeyId", "Action", "Format", "SignatureMethod",
                                           "SignatureVersion", "Version")],
                       ["LTAI-test", "SendSms", "JSON", "HMAC-SHA1", "1.0", "2017-05-25"],
                       "aliyun: common parameter values")
                tap.ok(HEX32.match(q.get("SignatureNonce", "")), "aliyun: a 32-hex nonce", q)
                tap.eq(r.data, {"PhoneNumbers": "+8613800000000,13900000000",
                                "SignName": "\u963f\u91cc\u4e91", "TemplateCode": "SMS_154950909",
                                "TemplateParam": json.dumps({"code": MSG}, ensure_ascii=False,
                                                            separators=(",", ":"))},
                       "aliyun: form fields, TemplateParam real JSON (quotes escaped)")
                tap.eq(json.loads(r.data.get("TemplateParam", "{}")), {"code": MSG},
                       "aliyun: TemplateParam parses back to the message")

            rs = sv["tencent"].snapshot()
            tap.eq(len(rs), 1, "tencent: one request")
            if rs:
                r = rs[0]
                tap.eq((r.method, r.path), ("POST", "/"), "tencent: POST /")
                tap.eq({k: r.headers.get(k) for k in ("content-type", "host", "x-tc-action",
                                                      "x-tc-version", "x-tc-region")},
                       {"content-type": "application/json",
                        "host": "127.0.0.1:%d" % sv["tencent"].port, "x-tc-action": "SendSms",
                        "x-tc-version": "2019-07-11", "x-tc-region": "ap-beijing"},
                       "tencent: headers")
                tap.eq(r.data, {"PhoneNumberSet": ["+8613800000000", "+8613900000000"],
                                "TemplateID": "449739", "SmsSdkAppid": "1400006666",
                                "TemplateParamSet": [MSG], "Sign": "\u817e\u8baf\u4e91"},
                       "tencent: JSON body, +86 before a number without +")
                tap.ok(b"\\u003c" in r.body, "tencent: < escaped as Go does", r.body)

            rs = sv["huawei"].snapshot()
            tap.eq(len(rs), 1, "huawei: one request")
            if rs:
                r = rs[0]
                tap.eq((r.method, r.path), ("POST", HW_PATH), "huawei: POST to api_url")
                tap.eq(r.headers.get("content-type"), "application/x-www-form-urlencoded",
                       "huawei: form content type")
                tap.eq(r.data, {"from": "8820000000",
                                "to": "+8613800000000,+8613900000000,+447700900123",
                                "templateId": "tpl-1", "signature": "", "statusCallback": "",
                                "templateParas": r.data.get("templateParas")},
                       "huawei: form fields, +86 only before numbers without +")
                tap.eq(json.loads(r.data.get("templateParas", "null")),
                       ["Disk", "critical", "", "", "", "", "", "kube-system", "coredns", ""],
                       "huawei: the ten parameters from key = value lines")
                keys = [kv.split("=")[0] for kv in r.body.decode().split("&")]
                tap.eq(keys, sorted(keys), "huawei: form in Go's url.Values order")
                created = re.search(r'Created="([^"]+)"', r.headers.get("x-wsse", ""))
                tap.ok(created and created.group(1).endswith("Z"),
                       "huawei: Created in UTC under TZ=Asia/Shanghai (the stand-in checks "
                       "it is now)", r.headers.get("x-wsse"))

            rs = sv["aws"].snapshot()
            tap.eq(sorted(r.data.get("PhoneNumber") for r in rs), ["+15555550100", "+15555550101"],
                   "aws: one Publish per number")
            for r in rs:
                tap.eq((r.method, r.path), ("POST", "/"), "aws: POST /")
                tap.eq({k: v for k, v in r.data.items() if k != "PhoneNumber"},
                       {"Action": "Publish", "Version": "2010-03-31", "Message": MSG},
                       "aws: Publish form")
                tap.eq(r.headers.get("content-type"),
                       "application/x-www-form-urlencoded; charset=utf-8", "aws: content type")
                tap.eq(r.headers.get("x-amz-security-token"), SECRETS["SMS_AWS_TOKEN"],
                       "aws: session token sent (and signed: the stand-in checks)")
            no_secrets(tap, log_of(d) + d.stdout_text(), "daemon log")
            # Under ASan a leak would make the exit code non-zero.
            d.signal(signal.SIGTERM)
            tap.eq(d.wait_exit(15), 0, "SIGTERM: exit 0", d.stderr_text())
    finally:
        for s in sv.values():
            s.close()


def batches(tap):
    tc_nums = ["+86138%08d" % i for i in range(250)]
    ali_nums = ["1390000000%d" % i for i in range(5)]
    aws_nums = ["+1555555010%d" % i for i in range(3)]
    sv = standins()
    try:
        cfg = {
            "tc": tencent(sv["tencent"], ", ".join(tc_nums)),
            "ali": aliyun(sv["aliyun"], ", ".join(ali_nums), "batch_size = 2\n"),
            "aws": aws(sv["aws"], ", ".join(aws_nums)),
        }
        with daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts(alert()).status, 200, "alert accepted")
            for name in cfg:
                tap.eq(metric(d, "delivered", name, 1), 1, "%s: delivered" % name)
            rs = sv["tencent"].snapshot()
            tap.eq(sorted(len(r.numbers) for r in rs), [50, 200],
                   "tencent: 250 numbers = 2 requests (200 + 50)")
            tap.eq(sorted(n for r in rs for n in r.numbers), sorted(tc_nums),
                   "tencent: every number exactly once")
            rs = sv["aliyun"].snapshot()
            tap.eq(sorted(len(r.numbers) for r in rs), [1, 2, 2], "aliyun: batch_size = 2")
            tap.eq(sorted(n for r in rs for n in r.numbers), sorted(ali_nums),
                   "aliyun: every number exactly once")
            rs = sv["aws"].snapshot()
            tap.eq(sorted(n for r in rs for n in r.numbers), sorted(aws_nums),
                   "aws: one request per number")
            for name in ("tencent", "aliyun", "aws"):
                clean(tap, sv[name], name)
            d.signal(signal.SIGTERM)
            tap.eq(d.wait_exit(15), 0, "SIGTERM: exit 0", d.stderr_text())
    finally:
        for s in sv.values():
            s.close()


def verdicts(tap):
    retry = standins(["throttle", "ok"])
    fail = standins(["error"])
    # Stand-ins that expect other secrets: notifyd's signatures must be refused.
    bad = {
        "aliyun": Standin("aliyun", "LTAI-test", "another-secret"),
        "tencent": Standin("tencent", "AKID-test", "another-secret"),
        "huawei": Standin("huawei", "hw-app-key", "another-secret", path=HW_PATH),
        "aws": Standin("aws", "AKIA-test", "another-secret", token=SECRETS["SMS_AWS_TOKEN"],
                       region="eu-west-1"),
    }
    try:
        cfg = {}
        for p, fn in (("aliyun", aliyun), ("tencent", tencent), ("huawei", huawei),
                      ("aws", aws)):
            cfg[p + "_retry"] = fn(retry[p], "+8613800000000")
            cfg[p + "_err"] = fn(fail[p], "+8613800000000")
            cfg[p + "_badsig"] = fn(bad[p], "+8613800000000")
        with daemon(cfg, delivery="retry_initial = 100ms\nretry_max = 200ms\n") as d:
            d.start()
            tap.eq(d.post_alerts(alert()).status, 200, "alert accepted")
            for p in ("aliyun", "tencent", "huawei", "aws"):
                tap.eq(metric(d, "delivered", p + "_retry", 1), 1,
                       "%s: throttled, retried, delivered" % p)
                rs = retry[p].snapshot()
                tap.eq([r.answer for r in rs], ["throttle", "ok"], "%s: sent twice" % p)
                clean(tap, retry[p], p + " retry")
                tap.eq(metric(d, "failed", p + "_err", 1), 1, "%s: error: failed" % p)
            tap.eq(len(retry["huawei"].snapshot()), 2, "huawei: 429 retried")
            rs = retry["huawei"].snapshot()
            if len(rs) == 2:
                tap.ok(rs[1].t - rs[0].t >= 0.9, "huawei: after Retry-After: 1",
                       rs[1].t - rs[0].t)
            rs = retry["aliyun"].snapshot()
            if len(rs) == 2:
                tap.ok(rs[0].params["SignatureNonce"] != rs[1].params["SignatureNonce"],
                       "aliyun: each attempt signed with a new nonce")
            for p in ("aliyun", "tencent", "huawei", "aws"):
                tap.eq(metric(d, "failed", p + "_badsig", 1), 1, "%s: wrong secret: failed" % p)
                tap.eq([r.answer for r in bad[p].snapshot()], ["badsig"],
                       "%s: the stand-in refused the signature, no retry" % p)
            for p in ("aliyun", "tencent", "huawei", "aws"):
                tap.eq(len(fail[p].snapshot()), 1, "%s: an error is not retried" % p)
            log = log_of(d)
            for name, code in (("aliyun_err", "isv.MOBILE_NUMBER_ILLEGAL"),
                               ("tencent_err", "FailedOperation.TemplateIncorrectOrUnapproved"),
                               ("huawei_err", "E000510"),
                               ("aws_err", "InvalidParameter"),
                               ("aliyun_badsig", "SignatureDoesNotMatch"),
                               ("tencent_badsig", "AuthFailure.SignatureFailure"),
                               ("huawei_badsig", "E000027"),
                               ("aws_badsig", "SignatureDoesNotMatch")):
                tap.ok(re.search(r"receiver=%s .*reason=\"[^\"]*code %s: " % (name,
                                                                             re.escape(code)),
                                 log), "%s: failed with the code %s in the log" % (name, code),
                       log)
            # The log writes < and > as \u003c and \u003e.
            tap.ok(re.search(r"receiver=aws_err .*Invalid parameter: PhoneNumber Reason: "
                             r"(<|\\u003c)x(>|\\u003e) is not valid", log),
                   "aws: the message, XML entities decoded", log)
            no_secrets(tap, log, "daemon log")
    finally:
        for s in list(retry.values()) + list(fail.values()) + list(bad.values()):
            s.close()


def run_test_receiver(args, cwd):
    p = subprocess.run([h.NOTIFYD, "test-receiver"] + args, capture_output=True, timeout=30,
                       env=dict(os.environ, **ENV), cwd=cwd, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8",
                                                                              "replace")


def test_receiver(tap):
    ok = standins(["ok"])
    err = standins(["error"])
    try:
        with tempfile.TemporaryDirectory(prefix="notifyd-it-") as tmp:
            write_files(tmp)
            cfg = {}
            for p, fn in (("aliyun", aliyun), ("tencent", tencent), ("huawei", huawei),
                          ("aws", aws)):
                cfg[p] = fn(ok[p], "+8613800000000")
                cfg[p + "_err"] = fn(err[p], "+8613800000000")
            path = os.path.join(tmp, "t.ini")
            with open(path, "w") as f:
                f.write(h.config(cfg) + "\n[template]\nfiles = sms.tmpl\n")
            for p, code in (("aliyun", "isv.MOBILE_NUMBER_ILLEGAL"),
                            ("tencent", "FailedOperation.TemplateIncorrectOrUnapproved"),
                            ("huawei", "E000510"), ("aws", "InvalidParameter")):
                rc, out = run_test_receiver(["-c", path, p], tmp)
                tap.eq(rc, 0, "test-receiver %s: exit 0" % p, out)
                tap.ok("%s (sms): delivered" % p in out, "test-receiver %s: delivered" % p, out)
                tap.eq(len(ok[p].snapshot()), 1, "test-receiver %s: one request" % p)
                clean(tap, ok[p], "test-receiver " + p)
                rc, out = run_test_receiver(["-c", path, p + "_err"], tmp)
                tap.eq(rc, 1, "test-receiver %s_err: exit 1" % p, out)
                tap.ok(code in out, "test-receiver %s_err: prints the code" % p, out)
                no_secrets(tap, out, "test-receiver " + p)
    finally:
        for s in list(ok.values()) + list(err.values()):
            s.close()


def check_config(tap):
    with tempfile.TemporaryDirectory(prefix="notifyd-it-") as tmp:
        bad = os.path.join(tmp, "bad.ini")
        with open(bad, "w") as f:
            f.write("[receiver.a]\n"                       # 1
                    "type = sms\n"                         # 2
                    "phone_numbers = 1\n"                  # 3
                    "[receiver.b]\n"                       # 4
                    "type = sms\n"                         # 5
                    "provider = tencent\n"                 # 6
                    "phone_numbers = 138-0000\n"           # 7
                    "secret_id = i\n"                      # 8
                    "secret_key = k\n"                     # 9
                    "sms_sdk_app_id = 1\n"                 # 10
                    "template_id = 2\n"                    # 11
                    "access_key_secret = x\n"              # 12
                    "[receiver.c]\n"                       # 13
                    "type = sms\n"                         # 14
                    "provider = aws\n"                     # 15
                    "phone_numbers = +1\n"                 # 16
                    "access_key_id = a\n"                  # 17
                    "secret_access_key = b\n")             # 18
        p = subprocess.run([h.NOTIFYD, "--check-config", bad], capture_output=True, timeout=20)
        out = p.stderr.decode() + p.stdout.decode()
        tap.ok(p.returncode != 0, "check-config: bad config refused", out)
        for want in ("bad.ini:1: [receiver.a] provider: missing key",
                     "bad.ini:7: [receiver.b] phone_numbers: invalid phone number \"138-0000\"",
                     "bad.ini:12: [receiver.b] access_key_secret: unknown key for provider "
                     "tencent (a key of provider aliyun)",
                     "bad.ini:13: [receiver.c] region: missing key (provider aws needs it)"):
            tap.ok(want in out, "check-config: " + want, out)


def body(tap):
    check_config(tap)
    wire_format(tap)
    batches(tap)
    verdicts(tap)
    test_receiver(tap)


if __name__ == "__main__":
    h.run_main(body, 110)
