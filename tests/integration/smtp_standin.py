"""A real SMTP server for the email receiver's tests: Debian's aiosmtpd (python3-aiosmtpd),
which only /usr/bin/python3 can import, so test_email.py runs this file as a child process:

    /usr/bin/python3 smtp_standin.py '<json options>'

It listens on 127.0.0.1, port 0, prints {"port": N} as its first stdout line, then one JSON
line per event: {"event": "message", ...} for each message accepted (envelope, EHLO name,
TLS, AUTH mechanism and login, the raw message in base64), {"event": "mail", "code": ...}
for each MAIL command, {"event": "connect"} for each connection. It exits when its stdin
closes (the test ends) or after "lifetime" seconds.

Options (all optional):
  tls_cert, tls_key    offer STARTTLS with this certificate (and require it before AUTH)
  implicit             true: TLS from the first byte (smtps), with tls_cert/tls_key
  users                {"login": "password"}: AUTH PLAIN and LOGIN (auth_required)
  cram                 {"login": "secret"}: AUTH CRAM-MD5 (RFC 2195), implemented here
  mechs                AUTH mechanisms to offer (others removed), e.g. ["LOGIN"]
  mail_4xx             answer the first N MAIL commands "421 4.3.2 ..."
  refuse_prefix        RCPT of an address starting with it: "550 5.1.1 ..." (default "bad")
  hang                 true: accept connections and never send a byte (no SMTP at all)
  data_delay           seconds to wait before answering the end of a message
  quit_delay           seconds to wait before answering QUIT
  lifetime             seconds before exiting anyway (default 120)
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import ssl
import sys
import threading
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, auth_mechanism

warnings.simplefilter("ignore")  # aiosmtpd's notes about AUTH without TLS, on purpose here
OPTS = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
LOCK = threading.Lock()


def emit(obj):
    with LOCK:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()


def is_tls(server):
    return server.transport is not None and \
        server.transport.get_extra_info("ssl_object") is not None


def login_of(session):
    login = getattr(session.auth_data, "login", None)
    return login.decode("utf-8", "replace") if isinstance(login, bytes) else login


class Handler:
    def __init__(self):
        self.mails = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mails += 1
        if self.mails <= int(OPTS.get("mail_4xx", 0)):
            emit({"event": "mail", "code": 421, "from": address})
            return "421 4.3.2 service not available, try later"
        emit({"event": "mail", "code": 250, "from": address})
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith(OPTS.get("refuse_prefix", "bad")):
            return "550 5.1.1 <%s>: recipient unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        emit({"event": "quit"})
        await asyncio.sleep(float(OPTS.get("quit_delay", 0)))
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(float(OPTS.get("data_delay", 0)))
        emit({
            "event": "message",
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "helo": session.host_name,
            "tls": is_tls(server),
            "auth": getattr(session, "nd_mech", None),
            "login": login_of(session),
            "data": base64.b64encode(envelope.original_content).decode(),
        })
        return "250 2.0.0 queued"

    @auth_mechanism("CRAM-MD5")
    async def auth_cram_md5(self, server, args):
        users = OPTS.get("cram") or {}
        challenge = "<%d.%d@standin.test>" % (os.getpid(), time.monotonic_ns())
        answer = await server.challenge_auth(challenge)
        if not isinstance(answer, bytes):
            return AuthResult(success=False)
        login, _, digest = answer.decode("utf-8", "replace").rpartition(" ")
        secret = users.get(login)
        want = hmac.new(secret.encode(), challenge.encode(), hashlib.md5).hexdigest() \
            if secret is not None else None
        ok = want is not None and hmac.compare_digest(want, digest)
        if ok:
            server.session.nd_mech = "CRAM-MD5"
        return AuthResult(success=ok, handled=False,
                          auth_data=LoginPassword(login.encode(), b""))


def authenticator(server, session, envelope, mechanism, auth_data):
    users = OPTS.get("users") or {}
    login = auth_data.login.decode("utf-8", "replace")
    ok = users.get(login) == auth_data.password.decode("utf-8", "replace")
    if ok:
        session.nd_mech = mechanism
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(OPTS["tls_cert"], OPTS["tls_key"])
    return ctx


class Counting(SMTP):
    def connection_made(self, transport):
        if self.transport is None:
            emit({"event": "connect"})
        super().connection_made(transport)


async def hang_client(reader, writer):
    emit({"event": "connect"})
    try:
        await reader.read()  # until the client gives up
    finally:
        writer.close()


async def main():
    loop = asyncio.get_running_loop()
    if OPTS.get("hang"):
        server = await asyncio.start_server(hang_client, "127.0.0.1", 0)
    else:
        handler = Handler()
        auth = bool(OPTS.get("users") or OPTS.get("cram"))
        starttls = bool(OPTS.get("tls_cert")) and not OPTS.get("implicit")
        mechs = OPTS.get("mechs")
        exclude = [m for m in ("PLAIN", "LOGIN", "CRAM-MD5") if mechs and m not in mechs]
        if not OPTS.get("cram") and "CRAM-MD5" not in exclude:
            exclude.append("CRAM-MD5")

        def factory():
            return Counting(handler, hostname="standin.test", loop=loop,
                            tls_context=tls_context() if starttls else None,
                            authenticator=authenticator if auth else None,
                            auth_required=auth, auth_require_tls=starttls,
                            auth_exclude_mechanism=exclude)

        server = await loop.create_server(
            factory, "127.0.0.1", 0,
            ssl=tls_context() if OPTS.get("implicit") else None)
    emit({"port": server.sockets[0].getsockname()[1]})
    stop = asyncio.Event()
    # The test closes our stdin when it is done (or dies): stop then.
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)
    try:
        await asyncio.wait_for(stop.wait(), float(OPTS.get("lifetime", 120)))
    except asyncio.TimeoutError:
        pass
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
