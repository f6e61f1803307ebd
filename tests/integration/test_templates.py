#!/usr/bin/env python3
"""Templates in the daemon: a webhook with `template = nm.default.text` sends exactly what
`notifyd template render --name nm.default.text` prints for the same data (trailing blanks
trimmed, as NM's Text()), while a webhook without it keeps the raw JSON; a [template] file
overrides a default and is used by the console; a template error at delivery fails the
notification once (no retry, logged with receiver and template); a template file that does
not compile stops the daemon (exit 1) and --check-config names the template file and line;
an unknown template name on a receiver is a config error at the key's line."""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

ALERT = {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
         "annotations": {"summary": "disk is full", "runbook_url": "http://runbooks/disk"}}


def run(args, timeout=20):
    p = subprocess.run([h.NOTIFYD] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def render_cli(tmp, data, name, files=()):
    """What `notifyd template render` prints for `data` (a webhook payload)."""
    path = os.path.join(tmp, "data.json")
    with open(path, "w") as f:
        json.dump(data, f)
    args = ["template", "render", "--name", name, "--data", path]
    for fn in files:
        args += ["--file", fn]
    return run(args)


def with_receiver(payload, name):
    """The raw payload as the receiver `name` would see it: NM's receiver label differs."""
    data = json.loads(json.dumps(payload))
    for a in data["alerts"]:
        a["labels"]["receiver"] = name
    if "receiver" in data.get("commonLabels", {}):
        data["commonLabels"]["receiver"] = name
    return data


def test_render_matches_cli(tap, tmp):
    with h.Target([200]) as raw, h.Target([200]) as text:
        cfg = h.config({
            "raw": h.webhook(raw.url + "/raw"),
            "text": h.webhook(text.url + "/text", "template = nm.default.text\n"),
        }, batch="max_wait = 50ms\n")
        with h.Daemon(cfg) as d:
            d.start()
            tap.eq(d.post_alerts([ALERT]).status, 200, "alert accepted")
            r_raw = raw.wait_for(1, 10)
            r_text = text.wait_for(1, 10)
            tap.eq(len(r_raw), 1, "raw webhook got the notification")
            tap.eq(len(r_text), 1, "templated webhook got the notification")
            if not r_raw or not r_text:
                return
            payload = r_raw[0].json()
            tap.ok("alerts" in payload and r_raw[0].body.endswith(b"}\n"),
                   "without `template` the body is still the raw JSON", r_raw[0].body[:200])
            body = r_text[0].body.decode("utf-8")
            tap.eq(r_text[0].headers.get("content-type"), "application/json",
                   "templated body still sent as application/json (as NM)")
            rc, out, err = render_cli(tmp, with_receiver(payload, "text"), "nm.default.text")
            tap.eq(rc, 0, "notifyd template render exits 0", err)
            tap.eq(body, out.rstrip(" \r\n"),
                   "body == `notifyd template render --name nm.default.text` (trailing "
                   "blanks trimmed)")
            lines = body.split("\n")
            tap.eq(lines[0], "[FIRING] disk is full", "literal first line: status and summary")
            tap.ok("  alertname: DiskFull" in lines and "  receiver: text" in lines,
                   "literal label lines, receiver label included", body)
            tap.ok("runbook_url" not in body, "nm.default.text leaves runbook_url out", body)


def test_override_and_console(tap, tmp):
    with h.Target([200]) as target:
        cfg = h.config({
            "hook": h.webhook(target.url + "/t", "template = nm.default.text\n"),
            "mine": h.webhook(target.url + "/m", "template = {{ template \"my.line\" . }}\n"),
            "con": "type = console\n",
        }, batch="max_wait = 50ms\n")
        cfg += "\n[template]\nfiles = tmpl/*.tmpl\n"
        with h.Daemon(cfg) as d:
            tdir = os.path.join(d.dir, "tmpl")
            os.mkdir(tdir)
            with open(os.path.join(tdir, "a.tmpl"), "w") as f:
                f.write('{{ define "nm.default.text" }}custom: {{ range .Alerts }}'
                        '{{ .Labels.alertname }}/{{ .Labels.severity }} {{ end }}{{ end }}\n')
            with open(os.path.join(tdir, "b.tmpl"), "w") as f:
                f.write('{{ define "my.line" }}{{ len .Alerts }} alert(s): '
                        '{{ template "nm.default.subject" . }}{{ end }}\n')
            d.start()
            tap.eq(d.post_alerts([ALERT]).status, 200, "alert accepted")
            got = target.wait_for(2, 10)
            by_path = {r.path: r.body.decode("utf-8") for r in got}
            tap.eq(by_path.get("/t"), "custom: DiskFull/critical",
                   "a template file overrides the built-in nm.default.text", by_path)
            tap.eq(by_path.get("/m"), "1 alert(s): [FIRING] disk is full",
                   "a receiver invokes a user template that calls a default", by_path)
            line = d.wait_stdout(lambda s: s.startswith("custom: "), 10)
            tap.eq(line, "custom: DiskFull/critical",
                   "the console renders the overridden nm.default.text", d.stdout_text())
            # The CLI with the same file gives the same text.
            rc, out, err = render_cli(tmp, {"alerts": [{"labels": ALERT["labels"]}]},
                                      "nm.default.text", [os.path.join(tdir, "a.tmpl")])
            tap.eq(out.rstrip(), by_path.get("/t"), "CLI --file renders the same override", err)


def test_render_error(tap):
    with h.Target([200]) as target:
        cfg = h.config({
            "broken": h.webhook(target.url + "/b", "template = bad.index\n"
                                "retry_initial = 10ms\n"),
            "fine": h.webhook(target.url + "/f"),
        }, batch="max_wait = 50ms\n")
        cfg += "\n[template]\nfiles = bad.tmpl\n"
        with h.Daemon(cfg) as d:
            with open(os.path.join(d.dir, "bad.tmpl"), "w") as f:
                f.write('{{ define "bad.index" }}{{ index .Alerts 5 }}{{ end }}\n')
            d.start()
            tap.eq(d.post_alerts([ALERT]).status, 200, "alert accepted")
            tap.eq(len(target.wait_for(1, 10)), 1, "the other receiver still delivers")
            tap.eq(d.wait_metric("notifyd_notifications_failed_total", 1.0, 10,
                                 receiver="broken", type="webhook"), 1.0,
                   "render error: counted failed")
            tap.eq(d.wait_metric("notifyd_notifications_delivered_total", 1.0, 5,
                                 receiver="fine", type="webhook"), 1.0,
                   "the other receiver: delivered")
            m = d.metrics()
            tap.eq(h.metric(m, "notifyd_notifications_retried_total", receiver="broken",
                            type="webhook"), 0.0,
                   "render error: not retried")
            tap.ok(all(r.path != "/b" for r in target.snapshot()),
                   "no request sent for the failed render")
            log = d.stderr_text()
            tap.ok(any("receiver=broken" in ln and "bad.index" in ln and "out of range" in ln
                       for ln in log.splitlines()),
                   "logged with receiver, template name and the error", log)
            tap.ok(d.proc.poll() is None, "the daemon is still running")


def test_config_errors(tap, tmp):
    bad_tmpl = os.path.join(tmp, "broken.tmpl")
    with open(bad_tmpl, "w") as f:
        f.write('{{ define "ok" }}fine{{ end }}\n'
                '{{ define "broken" }}\n'
                '  {{ if .Alerts }}open\n'
                '{{ end }}\n'
                '{{ .Status | nosuchfunc }}\n'
                '{{ end }}\n')
    ini = os.path.join(tmp, "tmplbad.ini")
    with open(ini, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:0\n"     # 1-2
                "[template]\n"                         # 3
                "files = broken.tmpl\n"                # 4
                "[receiver.c]\ntype = console\n")      # 5-6
    rc, out, err = run(["--check-config", ini])
    tap.eq(rc, 1, "--check-config: a template that does not compile exits 1", err)
    want = "%s:4: [template] files: %s:5:14: function \"nosuchfunc\" not defined" % (ini,
                                                                                   bad_tmpl)
    tap.ok(want in err, "--check-config names the config line, template file, line and column",
           err)
    rc, out, err = run(["-c", ini], timeout=20)
    tap.eq(rc, 1, "notifyd -c with a broken template exits 1 at startup", err)
    tap.ok(want in err, "the startup error is the same message", err)

    ini2 = os.path.join(tmp, "unknown.ini")
    with open(ini2, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:0\n"          # 1-2
                "[receiver.hook]\n"                         # 3
                "type = webhook\n"                          # 4
                "url = http://127.0.0.1:9/x\n"              # 5
                "template = nm.default.nosuch\n"            # 6
                "[receiver.c]\n"                            # 7
                "type = console\n"                          # 8
                "template_type = pdf\n")                    # 9
    rc, out, err = run(["--check-config", ini2])
    tap.eq(rc, 1, "--check-config: unknown template name exits 1", err)
    tap.ok(("%s:6: [receiver.hook] template: no template named \"nm.default.nosuch\"" % ini2)
           in err, "unknown template named with the key's line", err)
    tap.ok(("%s:9: [receiver.c] template_type: " % ini2) in err,
           "bad template_type named with its line", err)
    rc, out, err = run(["-c", ini2])
    tap.eq(rc, 1, "notifyd -c with an unknown template name exits 1", err)

    # A missing file and a pattern without a match.
    ini3 = os.path.join(tmp, "missing.ini")
    with open(ini3, "w") as f:
        f.write("[template]\nfiles = nothere.tmpl, none/*.tmpl\n[receiver.c]\ntype = console\n")
    rc, out, err = run(["--check-config", ini3])
    tap.eq(rc, 1, "--check-config: missing template files exit 1", err)
    tap.ok("%s:2: [template] files: cannot read \"%s\"" % (ini3, os.path.join(tmp, "nothere.tmpl"))
           in err, "a missing file is named", err)
    tap.ok("pattern \"%s\" matches no file" % os.path.join(tmp, "none/*.tmpl") in err,
           "a pattern without a match is named", err)


def body(tap):
    with tempfile.TemporaryDirectory(prefix="notifyd-it-") as tmp:
        test_render_matches_cli(tap, tmp)
        test_override_and_console(tap, tmp)
        test_render_error(tap)
        test_config_errors(tap, tmp)


if __name__ == "__main__":
    h.run_main(body, 80)
