#!/usr/bin/env python3
"""Alertmanager's own default templates, rendered by amtool and by notifyd, must agree.

Every template defined in Debian's /usr/share/prometheus/alertmanager/default.tmpl (read from
the system at test time, never copied into the repository) is rendered over every payload in
data/ with
    amtool template render --template.glob=default.tmpl --template.data=F \
        --template.text='{{ template "NAME" . }}'
and with the notifyd renderer (same command resolution as run_corpus.py) given
    --file default.tmpl --text '{{ template "NAME" . }}' --data F
and the outputs are compared byte for byte. Every amtool render must succeed: a case where
amtool fails is a failure, also when notifyd fails too, except the expected-error cases
(EXPECTED_ERRORS: helpers that take a list of alerts, not the Data), where both must fail with
the same position, template and message.
Prints TAP. A missing amtool, template file or renderer fails the run ("Bail out!"), it never
skips.

Two documented differences between the data models are neutralised in the payloads fed to both
sides, because this test is about the template engine, not about them:
  * Notification Manager computes Data.Status from the alerts ("" for a mixed group, "firing"
    for an empty one); Alertmanager prints the payload's "status". The copies carry the value
    Notification Manager computes.
  * Notification Manager's SortedPairs (and so Names/Values) omits "rule_id"; Alertmanager's
    keeps it. The copies have no "rule_id" key.

The templates of the sibling email.tmpl (Alertmanager's HTML email, shipped in the same Debian
package and read the same way) are compared too, with --template.type=html / --type html: they
exercise html/template contexts (<title>, URLs in href built by {{ template }}).

Environment: AMTOOL (default: amtool on PATH), AM_DEFAULT_TMPL (default: the Debian path; its
directory must also hold email.tmpl).
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_corpus  # noqa: E402  (shares the renderer resolution and the TAP diff helpers)

DEFAULT_TMPL = "/usr/share/prometheus/alertmanager/default.tmpl"
DEFINE_RE = re.compile(r'\{\{-?\s*define\s+"([^"]+)"\s*-?\}\}')

# Helpers of default.tmpl that range over a list of alerts: called with the whole Data (as every
# case here is), they fail in amtool too. These are expected-error cases: amtool must fail with
# this message, and notifyd must fail with the same position, template and message (the value
# printed after it differs between the two data models).
EXPECTED_ERRORS = {
    "__text_alert_list": "range can't iterate over",
    "pagerduty.default.instances": "range can't iterate over",
}
AM_ERROR_RE = re.compile(r'template: (?P<pos>\S+:\d+:\d+): executing "(?P<tname>[^"]*)" at <')


def nm_status(alerts):
    statuses = [a.get("status", "") for a in alerts]
    if statuses.count("firing") == len(statuses):
        return "firing"
    if statuses.count("resolved") == len(statuses):
        return "resolved"
    return ""


def without_rule_id(kv):
    return {k: v for k, v in (kv or {}).items() if k != "rule_id"}


def normalised_payload(src, dst_dir):
    with open(src, encoding="utf-8") as f:
        payload = json.load(f)
    alerts = payload.get("alerts") or []
    for a in alerts:
        a["labels"] = without_rule_id(a.get("labels"))
        a["annotations"] = without_rule_id(a.get("annotations"))
    for key in ("groupLabels", "commonLabels", "commonAnnotations"):
        payload[key] = without_rule_id(payload.get(key))
    payload["status"] = nm_status(alerts)
    dst = os.path.join(dst_dir, os.path.basename(src))
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False)
    return dst


def main():
    amtool = os.environ.get("AMTOOL") or shutil.which("amtool") or "/usr/bin/amtool"
    tmpl = os.environ.get("AM_DEFAULT_TMPL", DEFAULT_TMPL)
    timeout = float(os.environ.get("NOTIFYD_CORPUS_TIMEOUT", "10"))
    email = os.path.join(os.path.dirname(tmpl), "email.tmpl")
    if not os.access(amtool, os.X_OK):
        print("Bail out! amtool not installed (apt-get install prometheus-alertmanager)")
        return 1
    for f in (tmpl, email):
        if not os.path.exists(f):
            print("Bail out! %s not found (dpkg -L prometheus-alertmanager)" % f)
            return 1
    cmd = run_corpus.renderer_command()
    why = run_corpus.probe(cmd, timeout)
    if why:
        print("Bail out! %s" % why)
        return 1
    # (label prefix, template files, type, names)
    suites = []
    for prefix, files, typ in (("", [tmpl], "text"), ("email.tmpl html: ", [tmpl, email], "html")):
        with open(files[-1], encoding="utf-8") as f:
            tnames = DEFINE_RE.findall(f.read())
        if not tnames:
            print("Bail out! no define found in %s" % files[-1])
            return 1
        suites.append((prefix, files, typ, tnames))
    data_files = sorted(glob.glob(os.path.join(run_corpus.DATA, "*.json")))
    print("1..%d" % (sum(len(s[3]) for s in suites) * len(data_files)))
    n = failed = 0
    with tempfile.TemporaryDirectory(prefix="notifyd-amtool-") as tmp:
        for src in data_files:
            data = normalised_payload(src, tmp)
            for prefix, files, typ, tnames in suites:
                for name in tnames:
                    n += 1
                    text = '{{ template "%s" . }}' % name
                    label = "%s%s over %s" % (prefix, name, os.path.basename(src))
                    diag = compare(amtool, files, typ, cmd, text, data, timeout,
                                   EXPECTED_ERRORS.get(name))
                    if not diag:
                        print("ok %d - %s" % (n, label))
                    else:
                        failed += 1
                        print("not ok %d - %s" % (n, label))
                    for line in diag:
                        print("#   %s" % line)
                    sys.stdout.flush()
    print("# %d/%d renders identical (%d failures)" % (n - failed, n, failed))
    return 1 if failed else 0


def compare(amtool, files, typ, cmd, text, data, timeout, want_error=None):
    am = [amtool, "template", "render", "--template.data=" + data, "--template.text=" + text]
    am += ["--template.glob=" + f for f in files]
    nd = list(cmd)
    for f in files:
        nd += ["--file", f]
    nd += ["--text", text, "--data", data]
    if typ != "text":
        am.append("--template.type=" + typ)
        nd += ["--type", typ]
    try:
        want = run_corpus.run(am, timeout)
        got = run_corpus.run(nd, timeout)
    except subprocess.TimeoutExpired as e:
        return ["timed out: %s" % e]
    crash = run_corpus.crash_report(got, got.stderr.decode("utf-8", "replace"))
    if crash:
        return crash
    am_err = want.stderr.decode("utf-8", "replace").strip()
    nd_err = got.stderr.decode("utf-8", "replace").strip()
    if want_error:
        return expected_error(want, am_err, got, nd_err, want_error)
    if want.returncode != 0:
        # The shipped templates render with the Data: an amtool failure means the comparison
        # was not made (a bad payload, a changed amtool), which must not pass as agreement.
        return ["amtool exit %d: %s" % (want.returncode, am_err[:300])]
    diag = []
    if got.returncode != 0:
        diag.append("notifyd exit %d: %s" % (
            got.returncode, got.stderr.decode("utf-8", "replace").strip()[:300]))
    if got.stdout != want.stdout:
        diag += run_corpus.short_diff(want.stdout, got.stdout)
    return diag


def expected_error(want, am_err, got, nd_err, message):
    """An expected-error case: both fail, at the same place, with the same message."""
    if want.returncode == 0:
        return ["expected amtool to fail with %r, it rendered %r" % (message, want.stdout[:200])]
    m = AM_ERROR_RE.search(am_err)
    if not m or message not in am_err:
        return ["amtool failed otherwise than expected (%r): %s" % (message, am_err[:300])]
    diag = []
    if got.returncode == 0:
        diag.append("amtool failed (%s) but notifyd rendered %r" % (am_err[:200], got.stdout[:200]))
    need = ['%s: executing "%s" at <' % (m["pos"], m["tname"]), ">: " + message]
    missing = [n for n in need if n not in nd_err]
    if missing:
        diag.append("amtool: %s" % am_err[:300])
        diag.append("notifyd: %s" % nd_err[:300])
        diag.append("missing: %s" % " | ".join(repr(n) for n in missing))
    return diag


if __name__ == "__main__":
    sys.exit(main())
