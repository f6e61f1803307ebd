#!/usr/bin/env python3
"""HTTPS webhook targets: tls_ca_file makes a private CA trusted; without it the certificate
is refused (nothing delivered, counted failed); tls_insecure_skip_verify skips the check;
tls_server_name verifies against another name while connecting to the URL's address (Host
header unchanged); tls_cert_file/tls_key_file present a client certificate.
Certificates are made with the openssl command; the test fails when it is missing."""

import os
import shutil
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

OPENSSL = shutil.which("openssl")


def make_cert(dirname, name, san):
    """A self-signed certificate (it is its own CA) with the given subjectAltName."""
    key = os.path.join(dirname, name + ".key")
    crt = os.path.join(dirname, name + ".crt")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", key, "-out", crt, "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=" + san,
                    "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def server_ctx(crt, key, client_ca=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(client_ca)
    return ctx


def body(tap):
    if OPENSSL is None:
        tap.ok(False, "openssl command installed (it makes the test certificates)",
               "apt-get install openssl")
        return
    tmp = tempfile.mkdtemp(prefix="notifyd-it-tls-")
    try:
        ip_crt, ip_key = make_cert(tmp, "ip", "IP:127.0.0.1")
        dns_crt, dns_key = make_cert(tmp, "dns", "DNS:notifyd-test.invalid")
        cli_crt, cli_key = make_cert(tmp, "client", "DNS:client.invalid")
        with h.Target([200], tls=server_ctx(ip_crt, ip_key)) as trusted, \
                h.Target([200], tls=server_ctx(ip_crt, ip_key)) as untrusted, \
                h.Target([200], tls=server_ctx(ip_crt, ip_key)) as insecure, \
                h.Target([200], tls=server_ctx(dns_crt, dns_key)) as named, \
                h.Target([200], tls=server_ctx(ip_crt, ip_key, client_ca=cli_crt)) as mtls:
            cfg = h.config({
                "trusted": h.webhook(trusted.url + "/t", "tls_ca_file = %s\n" % ip_crt),
                "untrusted": h.webhook(untrusted.url + "/u", "retry_max_attempts = 2\n"
                                       "retry_initial = 100ms\n"),
                "insecure": h.webhook(insecure.url + "/i", "tls_insecure_skip_verify = true\n"),
                "named": h.webhook(named.url + "/n", "tls_ca_file = %s\n"
                                   "tls_server_name = notifyd-test.invalid\n" % dns_crt),
                "mtls": h.webhook(mtls.url + "/m", "tls_ca_file = %s\ntls_cert_file = %s\n"
                                  "tls_key_file = %s\n" % (ip_crt, cli_crt, cli_key)),
            }, batch="max_wait = 100ms\n")
            with h.Daemon(cfg) as d:
                d.start()
                tap.eq(d.post_alerts([{"labels": {"alertname": "Tls"}}]).status, 200,
                       "alert accepted")
                r = trusted.wait_for(1, 10)
                tap.eq(len(r), 1, "tls_ca_file: delivered over HTTPS")
                r = insecure.wait_for(1, 10)
                tap.eq(len(r), 1, "tls_insecure_skip_verify: delivered despite an unknown CA")
                r = named.wait_for(1, 10)
                tap.eq(len(r), 1, "tls_server_name: verified against the given name")
                if r:
                    tap.eq(r[0].headers.get("host"), "127.0.0.1:%d" % named.port,
                           "tls_server_name: Host header is the URL's")
                r = mtls.wait_for(1, 10)
                tap.eq(len(r), 1, "tls_cert_file/tls_key_file: client certificate accepted")
                if r:
                    cn = dict(x[0] for x in (r[0].peercert or {}).get("subject", ()))
                    tap.eq(cn.get("commonName"), "client", "the client certificate was sent")
                failed = d.wait_metric("notifyd_notifications_failed_total", 1.0, 15,
                                       receiver="untrusted", type="webhook")
                tap.eq(failed, 1.0, "unknown CA: the notification failed after its attempts")
                tap.eq(len(untrusted.snapshot()), 0, "unknown CA: no request got through")
                tap.eq(d.wait_metric("notifyd_notifications_delivered_total", 1.0,
                                     receiver="trusted", type="webhook"), 1.0,
                       "/metrics: delivered over HTTPS counted")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    h.run_main(body, 90)
