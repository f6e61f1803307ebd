#!/usr/bin/env python3
"""The email receiver against a real SMTP server (aiosmtpd, smtp_standin.py, run by
/usr/bin/python3 which has Debian's python3-aiosmtpd): the messages as Python's email
package parses them (headers, a Chinese subject in encoded-words, From/To with UTF-8 names,
both alternative parts, the closing boundary, CRLF and line lengths, the envelope); STARTTLS
with a certificate made for the test and verified (require_tls refused by a server without
STARTTLS); implicit TLS; AUTH PLAIN, LOGIN and CRAM-MD5; a 421 retried then delivered, a 550
failed at once with its code in the log; a server that never answers timing out while
another receiver delivers; send_separately with one recipient refused; test-receiver's exit
codes; --check-config; how long a server that delays its last replies can hold the loop
(libcurl waits for those two replies inside its call). Certificates are made with the openssl command: the test fails
when openssl or aiosmtpd is missing."""

import base64
import email
import email.policy
import email.utils
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, with python3-aiosmtpd (not pyenv's)
STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "smtp_standin.py")
OPENSSL = shutil.which("openssl")
PASSWORD = "s3cret-pw"
MESSAGE = "磁盘空间不足，请尽快清理节点 node-1 上的日志文件，以免服务中断。集群：生产环境"
TEMPLATES = '{{ define "t.html" }}<p>{{ .CommonLabels.html }}</p>{{ end }}\n'


class Smtp:
    """One smtp_standin.py process; its JSON events collected by a thread."""

    def __init__(self, **opts):
        self.proc = subprocess.Popen([SYSTEM_PYTHON, STANDIN, json.dumps(opts)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.events = []
        self.cond = threading.Condition()
        self.err = []
        self.port = None
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        end = time.monotonic() + 20
        with self.cond:
            while self.port is None:
                left = end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    self.close()
                    raise RuntimeError("smtp standin did not start: %s" % "".join(self.err))
                self.cond.wait(min(left, 0.1))

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            ev = json.loads(raw)
            ev["t"] = time.monotonic()
            with self.cond:
                if "port" in ev:
                    self.port = ev["port"]
                else:
                    self.events.append(ev)
                self.cond.notify_all()

    def _read_err(self):
        for raw in iter(self.proc.stderr.readline, b""):
            self.err.append(raw.decode("utf-8", "replace"))

    def of(self, kind):
        with self.cond:
            return [e for e in self.events if e["event"] == kind]

    def wait(self, kind, n, timeout=10):
        end = time.monotonic() + timeout
        with self.cond:
            while len([e for e in self.events if e["event"] == kind]) < n:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
        return self.of(kind)

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def make_cert(dirname):
    """A self-signed certificate for 127.0.0.1 that is its own CA."""
    key = os.path.join(dirname, "smtp.key")
    crt = os.path.join(dirname, "smtp.crt")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", key, "-out", crt, "-subj", "/CN=standin.test",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:standin.test",
                    "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def rcv(port, to, extra="", frm="notifyd <nd@example.com>"):
    return "type = email\nto = %s\nfrom = %s\nsmarthost = 127.0.0.1:%d\n%s" % (to, frm, port,
                                                                            extra)


def daemon(receivers, env=None):
    cfg = h.config(receivers, batch="max_wait = 100ms\n",
                   delivery="retry_initial = 200ms\nretry_max = 400ms\n")
    cfg += "\n[template]\nfiles = t.tmpl\n"
    d = h.Daemon(cfg, env=dict(env or {}, ND_MAIL_PW=PASSWORD))
    with open(os.path.join(d.dir, "t.tmpl"), "w") as f:
        f.write(TEMPLATES)
    return d


def alert(name="DiskFull"):
    return [{"labels": {"alertname": name, "node": "节点-1", "html": "<b>x</b>"},
             "annotations": {"message": MESSAGE}}]


def metric(d, what, name, want, timeout=10):
    return d.wait_metric("notifyd_notifications_%s_total" % what, want, timeout,
                         receiver=name, type="email")


def log_of(d):
    return "\n".join(d.stderr_lines)


def parse(ev):
    raw = base64.b64decode(ev["data"])
    return raw, email.message_from_bytes(raw, policy=email.policy.default)


def check_raw(tap, raw, name):
    lines = raw.split(b"\r\n")
    tap.ok(b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b""),
           "%s: CRLF line ends only" % name)
    tap.ok(max(len(x) for x in lines) <= 998, "%s: no line over 998 octets" % name,
           max(len(x) for x in lines))
    tap.ok(all(len(x) <= 76 for x in lines), "%s: every line within 76" % name,
           [x for x in lines if len(x) > 76][:3])
    tap.ok(all(b < 0x80 for b in raw), "%s: 7-bit (UTF-8 only in encodings)" % name)


def check_mime(tap, msg, raw, name, html):
    tap.eq(msg.get_content_type(), "multipart/alternative", "%s: multipart/alternative" % name)
    tap.eq(msg["MIME-Version"], "1.0", "%s: MIME-Version" % name)
    tap.eq(msg.defects, [], "%s: no defects (closing boundary there)" % name)
    boundary = msg.get_boundary()
    tap.ok(boundary and raw.endswith(("\r\n--%s--\r\n" % boundary).encode()),
           "%s: ends with the closing boundary" % name, raw[-80:])
    parts = list(msg.iter_parts())
    want = ["text/plain", "text/html"] if html else ["text/plain"]
    tap.eq([p.get_content_type() for p in parts], want, "%s: parts" % name)
    for p in parts:
        tap.eq(p.get_content_charset(), "utf-8", "%s: %s is UTF-8" % (name, p.get_content_type()))
        tap.ok(p["Content-Transfer-Encoding"] in ("quoted-printable", "base64"),
               "%s: %s in quoted-printable or base64" % (name, p.get_content_type()))
        tap.eq(p.defects, [], "%s: %s has no defects" % (name, p.get_content_type()))
    return parts


def wire(tap, crt, key):
    with Smtp(tls_cert=crt, tls_key=key, users={"nd": PASSWORD}) as tls_srv, Smtp() as plain:
        with daemon({
            "html": rcv(tls_srv.port, "运维值班 <ops@example.com>, dev@example.com",
                        "require_tls = true\ntls_ca_file = %s\nauth_username = nd\n"
                        "auth_password = env:ND_MAIL_PW\nhello = notifyd.test\n" % crt,
                        frm="通知中心 <nd@example.com>"),
            "text": rcv(plain.port, "\"Doe, J\" <jd@example.com>", "template_type = text\n"),
            "custom": rcv(plain.port, "custom@example.com", "template = t.html\n"),
        }) as d:
            d.start()
            tap.eq(d.post_alerts(alert()).status, 200, "alert accepted")
            for name in ("html", "text", "custom"):
                tap.eq(metric(d, "delivered", name, 1), 1, "%s: delivered" % name)
            tap.ok(PASSWORD not in log_of(d), "the password is not logged")

            ev = tls_srv.wait("message", 1)
            tap.eq(len(ev), 1, "html: one message (every recipient in one RCPT list)")
            if ev:
                ev = ev[0]
                tap.eq(ev["rcpt_tos"], ["ops@example.com", "dev@example.com"], "html: RCPT TO")
                tap.eq(ev["mail_from"], "nd@example.com", "html: MAIL FROM")
                tap.eq(ev["helo"], "notifyd.test", "html: EHLO name from hello")
                tap.ok(ev["tls"], "html: over STARTTLS (certificate verified with tls_ca_file)")
                tap.eq((ev["auth"], ev["login"]), ("PLAIN", "nd"), "html: AUTH PLAIN as nd")
                raw, msg = parse(ev)
                check_raw(tap, raw, "html")
                tap.eq(str(msg["Subject"]), "[FIRING] " + MESSAGE,
                       "html: the Chinese subject decodes")
                tap.ok(re.search(rb"\r\nSubject: =\?UTF-8\?B\?[^\r]*\r\n =\?UTF-8\?B\?", raw),
                       "html: subject in encoded-words over folded lines", raw[:600])
                tap.eq(msg["From"].addresses[0].display_name, "通知中心", "html: From name")
                tap.eq(msg["From"].addresses[0].addr_spec, "nd@example.com", "html: From address")
                tap.eq([(a.display_name, a.addr_spec) for a in msg["To"].addresses],
                       [("运维值班", "ops@example.com"), ("", "dev@example.com")], "html: To")
                date = email.utils.parsedate_to_datetime(msg["Date"])
                tap.ok(abs(time.time() - date.timestamp()) < 60, "html: Date is now", msg["Date"])
                tap.ok(re.fullmatch(r"<[0-9a-f.]+@notifyd\.test>", msg["Message-ID"] or ""),
                       "html: Message-ID in the hello domain", msg["Message-ID"])
                tap.eq(msg["Auto-Submitted"], "auto-generated", "html: Auto-Submitted")
                parts = check_mime(tap, msg, raw, "html", True)
                if len(parts) == 2:
                    text, html = parts[0].get_content(), parts[1].get_content()
                    tap.ok(("[FIRING] " + MESSAGE) in text, "html: text part from nm.default.text",
                           text)
                    tap.ok("html: <b>x</b>" in text, "html: text part not HTML-escaped", text)
                    tap.ok(MESSAGE in html, "html: html part from nm.default.html", html)
                    tap.ok("<b>x</b>" not in html, "html: values in the html part are escaped")

            msgs = plain.wait("message", 2)
            by_to = {tuple(e["rcpt_tos"]): e for e in msgs}
            ev = by_to.get(("jd@example.com",))
            tap.ok(ev is not None, "text: message received", msgs)
            if ev:
                tap.ok(not ev["tls"], "text: a server without STARTTLS: plain SMTP "
                       "(require_tls off)")
                raw, msg = parse(ev)
                check_raw(tap, raw, "text")
                tap.eq([(a.display_name, a.addr_spec) for a in msg["To"].addresses],
                       [("Doe, J", "jd@example.com")], "text: quoted name with a comma")
                parts = check_mime(tap, msg, raw, "text", False)
                if parts:
                    body = parts[0].get_content()
                    tap.ok(("[FIRING] " + MESSAGE) in body and "html: <b>x</b>" in body,
                           "text: the text template, not escaped", body)
            ev = by_to.get(("custom@example.com",))
            tap.ok(ev is not None, "custom: message received")
            if ev:
                raw, msg = parse(ev)
                parts = check_mime(tap, msg, raw, "custom", True)
                if len(parts) == 2:
                    tap.eq(parts[1].get_content().strip(), "<p>&lt;b&gt;x&lt;/b&gt;</p>",
                           "custom: the html template in HTML mode escapes values")


def tls(tap, crt, key):
    with Smtp() as no_tls, Smtp(tls_cert=crt, tls_key=key, implicit=True) as smtps:
        with daemon({
            "strict": rcv(no_tls.port, "a@example.com", "require_tls = true\n"),
            "smtps": rcv(smtps.port, "b@example.com",
                         "implicit_tls = true\ntls_ca_file = %s\n" % crt),
            "unverified": rcv(smtps.port, "c@example.com",
                              "implicit_tls = true\nretry_max_attempts = 1\n"),
            "insecure": rcv(smtps.port, "d@example.com",
                            "implicit_tls = true\ntls_insecure_skip_verify = true\n"),
            "named": rcv(smtps.port, "e@example.com", "implicit_tls = true\ntls_ca_file = %s\n"
                         "tls_server_name = standin.test\n" % crt),
            "misnamed": rcv(smtps.port, "f@example.com", "implicit_tls = true\n"
                            "tls_ca_file = %s\ntls_server_name = other.test\n"
                            "retry_max_attempts = 1\n" % crt),
        }) as d:
            d.start()
            tap.eq(d.post_alerts(alert()).status, 200, "alert accepted")
            tap.eq(metric(d, "failed", "strict", 1), 1,
                   "require_tls and a server without STARTTLS: failed")
            tap.eq(metric(d, "delivered", "smtps", 1), 1, "implicit TLS: delivered")
            tap.eq(metric(d, "failed", "unverified", 1), 1,
                   "implicit TLS, unknown CA and no tls_ca_file: refused (verification on)")
            tap.eq(metric(d, "delivered", "insecure", 1), 1,
                   "tls_insecure_skip_verify: delivered despite the unknown CA")
            tap.eq(metric(d, "delivered", "named", 1), 1,
                   "tls_server_name: verified against that name, connected to smarthost")
            tap.eq(metric(d, "failed", "misnamed", 1), 1,
                   "tls_server_name not in the certificate: refused")
            log = log_of(d)
            tap.ok(re.search(r"receiver=strict.*does not offer STARTTLS", log),
                   "strict: the reason says STARTTLS", log)
            tap.ok(re.search(r"receiver=unverified.*(certificate|SSL)", log, re.I),
                   "unverified: the reason names the certificate", log)
            tap.eq(len(no_tls.of("mail")), 0, "strict: no MAIL sent in the clear")
            got = {e["rcpt_tos"][0]: e for e in smtps.wait("message", 3)}
            tap.eq(sorted(got), ["b@example.com", "d@example.com", "e@example.com"],
                   "implicit TLS: the verified, insecure and named receivers' messages")
            tap.ok(all(e["tls"] for e in got.values()), "implicit TLS: over TLS")


def auth(tap, crt, key):
    tls_opts = dict(tls_cert=crt, tls_key=key)
    with Smtp(users={"nd": PASSWORD}, mechs=["LOGIN"], **tls_opts) as login, \
            Smtp(users={"nd": PASSWORD}, mechs=["PLAIN"], **tls_opts) as plain, \
            Smtp(cram={"nd": "cram-key"}, mechs=["CRAM-MD5"], **tls_opts) as cram:
        ca = "tls_ca_file = %s\n" % crt
        user = ca + "auth_username = nd\nauth_password = env:ND_MAIL_PW\n"
        with daemon({
            "login": rcv(login.port, "a@example.com", user),
            "plain": rcv(plain.port, "b@example.com", user),
            "cram": rcv(cram.port, "c@example.com", ca + "auth_username = nd\n"
                        "auth_secret = cram-key\n"),
            "wrongpw": rcv(plain.port, "d@example.com", ca + "auth_username = nd\n"
                           "auth_password = nope\n"),
            "nomech": rcv(cram.port, "e@example.com", user),
        }) as d:
            d.start()
            tap.eq(d.post_alerts(alert()).status, 200, "alert accepted")
            for name in ("login", "plain", "cram"):
                tap.eq(metric(d, "delivered", name, 1), 1, "%s: delivered" % name)
            for name in ("wrongpw", "nomech"):
                tap.eq(metric(d, "failed", name, 1), 1, "%s: failed" % name)
            for srv, mech in ((login, "LOGIN"), (plain, "PLAIN"), (cram, "CRAM-MD5")):
                ev = srv.wait("message", 1)
                tap.eq([(e["auth"], e["login"]) for e in ev], [(mech, "nd")],
                       "AUTH %s as nd" % mech)
            log = log_of(d)
            tap.ok(re.search(r"receiver=wrongpw.*attempts=1.*smtp 535", log),
                   "wrong password: 535 in the log, no retry", log)
            tap.ok(re.search(r"receiver=nomech.*attempts=1.*no AUTH mechanism in common", log),
                   "auth_password against a CRAM-MD5-only server: failed, says why", log)
            tap.ok(PASSWORD not in log and "cram-key" not in log, "no credential in the log")


def verdicts(tap):
    with Smtp(mail_4xx=1) as busy, Smtp() as plain, Smtp(hang=True) as hang:
        with daemon({
            "busy": rcv(busy.port, "a@example.com"),
            "refused": rcv(plain.port, "bad@example.com"),
            "hang": rcv(hang.port, "h@example.com", "timeout = 3s\nretry_max_attempts = 1\n"),
            "quick": rcv(plain.port, "q@example.com"),
        }) as d:
            d.start()
            t0 = time.monotonic()
            tap.eq(d.post_alerts(alert()).status, 200, "alert accepted")
            tap.eq(metric(d, "delivered", "quick", 1, timeout=2.5), 1,
                   "a second receiver delivers while the first one's server hangs")
            t_quick = time.monotonic() - t0
            tap.ok(t_quick < 2.5, "... well before the hanging one's timeout", t_quick)
            tap.eq(metric(d, "failed", "hang", 1, timeout=10), 1,
                   "a server that never answers: failed after the timeout")
            t_hang = time.monotonic() - t0
            tap.ok(t_hang >= 2.9, "... not before its 3 s timeout", t_hang)
            tap.ok(hang.of("connect"), "the hanging server saw the connection")
            tap.eq(metric(d, "delivered", "busy", 1), 1, "421 to MAIL: retried, then delivered")
            mails = busy.of("mail")
            tap.eq([m["code"] for m in mails], [421, 250], "421 then 250", mails)
            tap.eq(len(busy.of("message")), 1, "one message")
            tap.eq(metric(d, "failed", "refused", 1), 1, "550 to RCPT: failed")
            log = log_of(d)
            tap.ok(re.search(r"retried.*receiver=busy.*smtp 421 4\.3\.2 service not available",
                             log) or re.search(r"receiver=busy.*smtp 421", log),
                   "421: code and text in the retry log line", log)
            tap.ok(re.search(r"receiver=refused.*attempts=1.*smtp 550 5\.1\.1 .*bad@example\.com.*"
                             r"recipient unknown", log),
                   "550: failed at the first attempt, code and text logged", log)
            tap.ok(re.search(r"receiver=hang.*(timed out|Timeout)", log, re.I),
                   "hang: the reason is the timeout", log)


def stall_bounded(tap):
    """libcurl 7.88 waits for the reply to the end of the message and to QUIT without returning
    to the loop (docs/receivers.md, email limits): a server that delays them holds every
    receiver, but no longer than the slow receiver's timeout for each (not curl's 120 s)."""
    for what, opts, slow_verdict in (("QUIT", {"quit_delay": 30}, "delivered"),
                                     ("the end of the message", {"data_delay": 30}, "failed")):
        with Smtp(**opts) as slow, Smtp() as fast:
            with daemon({
                "slow": rcv(slow.port, "s@example.com", "timeout = 2s\nretry_max_attempts = 1\n"),
                "fast": rcv(fast.port, "f@example.com"),
            }) as d:
                d.start()
                t0 = time.monotonic()
                tap.eq(d.post_alerts(alert()).status, 200, "alert accepted")
                tap.eq(metric(d, "delivered", "fast", 1, timeout=15), 1,
                       "server slow to answer %s: the other receiver still delivers" % what)
                dt = time.monotonic() - t0
                tap.ok(dt < 7, "... held at most about twice the slow receiver's 2 s timeout, "
                       "not the server's 30 s", dt)
                tap.diag("%s delayed: the other receiver delivered after %.2f s" % (what, dt))
                tap.eq(metric(d, slow_verdict, "slow", 1), 1, "the slow receiver: %s"
                       % slow_verdict)


def separately(tap):
    with Smtp() as srv:
        to = "A <a@example.com>, bad@example.com, c@example.com"
        with daemon({
            "sep": rcv(srv.port, to, "send_separately = true\n"),
            "together": rcv(srv.port, to),
        }) as d:
            d.start()
            tap.eq(d.post_alerts(alert()).status, 200, "alert accepted")
            tap.eq(metric(d, "failed", "sep", 1), 1,
                   "separately: the notification counts failed once (one recipient refused)")
            tap.eq(metric(d, "delivered", "together", 1), 1,
                   "together: delivered to the recipients the server took")
            msgs = srv.wait("message", 3)
            rcpts = sorted(tuple(e["rcpt_tos"]) for e in msgs)
            tap.eq(rcpts, [("a@example.com",), ("a@example.com", "c@example.com"),
                           ("c@example.com",)],
                   "one session per recipient (bad refused), plus one for both")
            seps = [parse(e)[1] for e in msgs if len(e["rcpt_tos"]) == 1]
            tap.eq(sorted(str(m["To"]) for m in seps), ["A <a@example.com>", "c@example.com"],
                   "separately: each To names its own recipient")
            tap.eq(len({m["Message-ID"] for m in seps}), 2, "separately: two Message-IDs")
            both = [parse(e)[1] for e in msgs if len(e["rcpt_tos"]) == 2]
            if both:
                tap.eq([a.addr_spec for a in both[0]["To"].addresses],
                       ["a@example.com", "bad@example.com", "c@example.com"],
                       "together: To lists every recipient")
            time.sleep(0.3)
            tap.eq(metric(d, "delivered", "sep", 0), 0, "separately: not counted delivered")
            log = log_of(d)
            tap.ok(re.search(r"receiver=sep.*lane=2/3.*smtp 550", log),
                   "separately: the refused recipient's lane failed with the 550", log)
            tap.ok(re.search(r"recipients refused.*receiver=together.*"
                             r"bad@example\.com: 550 5\.1\.1", log),
                   "together: the refused recipient is logged", log)


def test_receiver(tap):
    with Smtp() as srv, tempfile.TemporaryDirectory(prefix="notifyd-it-") as tmp:
        cfg = os.path.join(tmp, "t.ini")
        with open(cfg, "w") as f:
            f.write(h.config({"good": rcv(srv.port, "ok@example.com"),
                              "bad": rcv(srv.port, "bad@example.com")}))
        for name, code, want in (("good", 0, "good (email): delivered"),
                                 ("bad", 1, "bad (email): not delivered")):
            p = subprocess.run([h.NOTIFYD, "test-receiver", "-c", cfg, name],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
            out = p.stdout.decode() + p.stderr.decode()
            tap.eq(p.returncode, code, "test-receiver %s: exit %d" % (name, code), out)
            tap.ok(want in out, "test-receiver %s: %s" % (name, want), out)
        tap.ok("smtp 550" in out, "test-receiver bad: the SMTP code in the reason", out)
        tap.eq([e["rcpt_tos"] for e in srv.wait("message", 1)], [["ok@example.com"]],
               "test-receiver good: the verify message arrived")


def check_config(tap):
    with tempfile.TemporaryDirectory(prefix="notifyd-it-") as tmp:
        bad = os.path.join(tmp, "bad.ini")
        with open(bad, "w") as f:
            f.write("[receiver.m]\n"                          # 1
                    "type = email\n"                          # 2
                    "to = ops@example.com, not an address\n"  # 3
                    "from = nd@example.com\n"                 # 4
                    "smarthost = mail.example.com\n"          # 5
                    "template_type = markdown\n")             # 6
        p = subprocess.run([h.NOTIFYD, "--check-config", bad], capture_output=True, timeout=20)
        out = p.stderr.decode() + p.stdout.decode()
        tap.ok(p.returncode != 0, "bad config refused", out)
        for want in ("bad.ini:3: [receiver.m] to: \"not an address\"",
                     "bad.ini:5: [receiver.m] smarthost: want host:port",
                     "bad.ini:6: [receiver.m] template_type: invalid value \"markdown\""):
            tap.ok(want in out, "check-config: " + want, out)


def body(tap):
    p = subprocess.run([SYSTEM_PYTHON, "-c", "import aiosmtpd"], capture_output=True,
                       timeout=30) if os.path.exists(SYSTEM_PYTHON) else None
    if p is None or p.returncode != 0:
        tap.ok(False, "%s can import aiosmtpd (apt-get install python3-aiosmtpd)"
               % SYSTEM_PYTHON, p.stderr.decode() if p else "no " + SYSTEM_PYTHON)
        return
    if OPENSSL is None:
        tap.ok(False, "openssl command installed (it makes the test certificate)")
        return
    tmp = tempfile.mkdtemp(prefix="notifyd-it-email-")
    try:
        crt, key = make_cert(tmp)
        check_config(tap)
        wire(tap, crt, key)
        tls(tap, crt, key)
        auth(tap, crt, key)
        verdicts(tap)
        stall_bounded(tap)
        separately(tap)
        test_receiver(tap)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    h.run_main(body, 170)
