#!/usr/bin/env python3
"""`meson install --destdir TMP` from this build dir installs what running notifyd as a service
needs, and each piece works: the binary runs; the example configuration passes
`notifyd --check-config`; the man page notifyd(8) renders with `man -l` and documents every
flag of `--help` and what SIGHUP really does; the systemd unit carries the required keys and
hardening, points at the installed binary and configuration, passes `systemd-analyze verify`
and has a low `systemd-analyze security` exposure.

Environment (set by tests/integration/meson.build): MESON, NOTIFYD_BUILD_ROOT,
NOTIFYD_SOURCE_ROOT, NOTIFYD_INSTALL_BIN, NOTIFYD_INSTALL_INI, NOTIFYD_INSTALL_UNIT,
NOTIFYD_INSTALL_MAN (empty when configured with -Dman=false), NOTIFYD_MANDIR,
NOTIFYD_CONFDIR."""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ENV = os.environ
UNIT_REQUIRED = {
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "DynamicUser": "yes",
    "StateDirectory": "notifyd",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "NoNewPrivileges": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
}
MAX_EXPOSURE = 3.0


def run(cmd, timeout=120, **kw):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                       **kw)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def under(destdir, path):
    return os.path.join(destdir, path.lstrip("/"))


def parse_unit(text):
    """{section: {key: [values]}}: systemd's syntax (comments, sections, repeated keys)."""
    out, sec = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            sec = out.setdefault(line[1:-1], {})
            continue
        if "=" not in line or sec is None:
            raise ValueError("not a unit line: %r" % line)
        k, v = line.split("=", 1)
        sec.setdefault(k.strip(), []).append(v.strip())
    return out


def help_flags(binary):
    """Every --flag the command line's usage texts name."""
    texts = []
    for args in (["--help"], ["template"]):
        _, out, err = run([binary] + args, timeout=20)
        texts.append(out + err)
    return sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", "\n".join(texts))))


def sighup_behaviour():
    """What the daemon ($NOTIFYD, the binary that was installed) logs for SIGHUP: its code,
    not its docs."""
    cfg = h.config({"console": "type = console\n"})
    with h.Daemon(cfg) as d:
        d.start()
        n = len(d.stderr_lines)
        d.signal(signal.SIGHUP)
        end = time.monotonic() + 5
        while time.monotonic() < end and len(d.stderr_lines) == n:
            time.sleep(0.05)
        time.sleep(0.2)
        with d._cond:
            lines = d.stderr_lines[n:]
        alive = d.proc.poll() is None
        d.signal(signal.SIGTERM)
        d.wait_exit(10)
        return lines, alive


def check_man(tap, destdir, binary):
    man = ENV.get("NOTIFYD_INSTALL_MAN", "")
    if not man:
        where = under(destdir, os.path.join(ENV["NOTIFYD_MANDIR"], "man8", "notifyd.8"))
        tap.ok(not os.path.exists(where), "-Dman=false: no man page installed", where)
        return
    path = under(destdir, man)
    tap.ok(os.path.isfile(path), "man page installed at %s" % man)
    rc, text, err = run(["man", "-l", "-P", "cat", path], timeout=30,
                        env=dict(ENV, MANWIDTH="100", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING=""))
    tap.eq(rc, 0, "man -l renders notifyd.8", err)
    text = re.sub(r".\x08", "", text)  # overstrike bold/underline, if any
    # groff hyphenates at line ends: rejoin "con-\nfig" before looking for words.
    flat = re.sub(r"[\u2010-]\n\s*", "", text)
    flat = re.sub(r"\s+", " ", flat)
    for sec in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "SIGNALS", "FILES",
                "EXIT STATUS"):
        tap.ok(re.search(r"^%s\s*$" % sec, text, re.M) is not None, "man page has %s" % sec)
    tap.ok("notifyd - " in flat, "NAME line: notifyd - what it is", flat[:200])
    flags = help_flags(binary)
    tap.ok(len(flags) >= 8, "the usage texts name the flags (%s)" % " ".join(flags))
    missing = [f for f in flags if f not in flat]
    tap.eq(missing, [], "every flag of --help and `template` usage is in the man page")
    for word in ("-c FILE", "test-receiver", "template render", "SIGTERM", "SIGINT", "SIGHUP",
                 ENV["NOTIFYD_INSTALL_UNIT"], ENV["NOTIFYD_INSTALL_INI"],
                 ENV["NOTIFYD_INSTALL_BIN"]):
        tap.ok(word in flat, "man page mentions %s" % word)

    # The SIGHUP paragraph says what the running daemon does.
    lines, alive = sighup_behaviour()
    m = re.search(r"SIGHUP (.*?)(?: SIGPIPE|$)", flat[flat.index("SIGNALS"):])
    para = m.group(1) if m else ""
    tap.ok(alive, "the daemon survives SIGHUP", lines)
    if any("not supported" in ln or "ignored" in ln for ln in lines):
        tap.ok("Reserved" in para and "reloads the configuration" not in para,
               "SIGHUP is ignored by the code; the man page says reserved", para)
    else:
        tap.ok("reloads the configuration" in para,
               "SIGHUP is not ignored by the code (%r); the man page says it reloads" % lines,
               para)


def check_unit(tap, destdir, tmp):
    unit = ENV["NOTIFYD_INSTALL_UNIT"]
    path = under(destdir, unit)
    tap.ok(os.path.isfile(path), "systemd unit installed at %s" % unit)
    with open(path) as f:
        text = f.read()
    try:
        u = parse_unit(text)
    except ValueError as e:
        tap.ok(False, "the unit parses", str(e))
        return
    svc = u.get("Service", {})
    tap.ok("Unit" in u and "Install" in u and svc, "unit has [Unit], [Service], [Install]")
    conf = os.path.join(ENV["NOTIFYD_CONFDIR"], "notifyd.ini")
    tap.eq(svc.get("ExecStart"), ["%s -c %s" % (ENV["NOTIFYD_INSTALL_BIN"], conf)],
           "ExecStart runs the installed binary with the config under the sysconfdir")
    for k, v in UNIT_REQUIRED.items():
        tap.eq(svc.get(k), [v], "unit: %s=%s" % (k, v))
    nofile = svc.get("LimitNOFILE", [""])[-1]
    tap.ok(nofile.isdigit() and int(nofile) >= 4096, "unit: LimitNOFILE is set (%s)" % nofile)
    tap.eq(u.get("Install", {}).get("WantedBy"), ["multi-user.target"],
           "unit: WantedBy=multi-user.target")

    # systemd-analyze checks that ExecStart's binary exists: point it at the installed copy
    # (nothing else changes).
    copy = os.path.join(tmp, "notifyd.service")
    with open(copy, "w") as f:
        f.write(text.replace(ENV["NOTIFYD_INSTALL_BIN"],
                             under(destdir, ENV["NOTIFYD_INSTALL_BIN"])))
    exe = shutil.which("systemd-analyze")
    tap.ok(exe is not None, "systemd-analyze is installed (Debian: systemd)")
    if exe is None:
        return
    # Documentation=man:notifyd(8) is checked with man(1): found in the destdir, or not
    # checked when the build installs no man page (-Dman=false).
    if ENV.get("NOTIFYD_INSTALL_MAN"):
        args, env = [], dict(ENV, MANPATH=under(destdir, ENV["NOTIFYD_MANDIR"]))
    else:
        args, env = ["--man=no"], dict(ENV)
    rc, out, err = run([exe, "verify"] + args + [copy], timeout=60, env=env)
    tap.eq(rc, 0, "systemd-analyze verify: exit 0", out + err)
    tap.eq((out + err).strip(), "", "systemd-analyze verify: no warning")
    rc, out, err = run([exe, "security", "--offline=yes", copy], timeout=60)
    m = re.search(r"Overall exposure level for notifyd\.service: ([0-9.]+)", out + err)
    tap.ok(m is not None and float(m.group(1)) <= MAX_EXPOSURE,
           "systemd-analyze security: exposure %s <= %.1f"
           % (m.group(1) if m else "?", MAX_EXPOSURE), (out + err)[-600:])


def body(tap):
    for k in ("MESON", "NOTIFYD_BUILD_ROOT", "NOTIFYD_SOURCE_ROOT", "NOTIFYD_INSTALL_BIN",
              "NOTIFYD_INSTALL_INI", "NOTIFYD_INSTALL_UNIT", "NOTIFYD_CONFDIR", "NOTIFYD_MANDIR"):
        if not ENV.get(k):
            raise RuntimeError("%s is not set (run through meson test)" % k)
    tmp = tempfile.mkdtemp(prefix="notifyd-install-")
    try:
        destdir = os.path.join(tmp, "root")
        rc, out, err = run([ENV["MESON"], "install", "-C", ENV["NOTIFYD_BUILD_ROOT"],
                            "--no-rebuild", "--quiet", "--destdir", destdir], timeout=300)
        tap.eq(rc, 0, "meson install --destdir exits 0", (out + err)[-2000:])

        binary = under(destdir, ENV["NOTIFYD_INSTALL_BIN"])
        tap.ok(os.access(binary, os.X_OK), "binary installed at %s" % ENV["NOTIFYD_INSTALL_BIN"])
        rc, out, err = run([binary, "--version"], timeout=20)
        tap.ok(rc == 0 and out.startswith("notifyd "), "installed binary runs (--version)",
               out + err)

        ini = under(destdir, ENV["NOTIFYD_INSTALL_INI"])
        tap.eq(os.path.dirname(ENV["NOTIFYD_INSTALL_INI"]), ENV["NOTIFYD_CONFDIR"],
               "example config goes to SYSCONFDIR/notifyd")
        tap.ok(os.path.isfile(ini), "example config installed at %s" % ENV["NOTIFYD_INSTALL_INI"])
        with open(os.path.join(ENV["NOTIFYD_SOURCE_ROOT"], "conf", "notifyd.example.ini"),
                  "rb") as f:
            src = f.read()
        with open(ini, "rb") as f:
            tap.ok(f.read() == src, "it is conf/notifyd.example.ini")
        rc, out, err = run([binary, "--check-config", ini], timeout=30)
        tap.eq(rc, 0, "notifyd --check-config passes on the installed example", out + err)
        tap.eq(out.strip(), ini + ": ok", "--check-config prints FILE: ok")

        check_man(tap, destdir, binary)
        check_unit(tap, destdir, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    h.run_main(body, 240)
