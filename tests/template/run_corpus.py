#!/usr/bin/env python3
"""Differential template corpus: every case through `notifyd template render`, compared with
what Go's text/template or html/template produced (tools/tmplgen). Prints TAP.

The renderer command is, in order of preference: the arguments of this script, $NOTIFYD_RENDER
(a shell-quoted command line), or "$NOTIFYD template render". Without a working renderer, or
with no case to run, the run fails (TAP "Bail out!"): it never skips, so a broken renderer
cannot pass as hundreds of comparisons not made.

Environment:
  NOTIFYD_CORPUS_STRICT=1   error cases must reproduce Go's whole message, node text included;
                            by default the message proper and its line[:column] must appear.
  NOTIFYD_CORPUS_ONLY=RE    run only the cases whose name matches RE (re.search).
  NOTIFYD_CORPUS_TIMEOUT=S  seconds per render (default 10).
  NOTIFYD_CORPUS_CASES=DIR  the case directory (default cases/ next to this script; the
                            fuzz corpus tests/fuzz/template uses the same layout and data/).

Case layout (cases/NAME.*): .tmpl is passed verbatim as --text; .data names a file under data/
(default one.json); .type "html" adds --type html; .lang adds --language; .inc is passed as
--file before the text. With .name, .tmpl is passed as a --file instead and the template of
that name is rendered (--name). Exactly one of .out (stdout, byte for byte, exit 0) and .err (Go's
error message, non-zero exit) exists.
"""

import difflib
import os
import re
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.environ.get("NOTIFYD_CORPUS_CASES") or os.path.join(HERE, "cases")
DATA = os.path.join(HERE, "data")
DEFAULT_DATA = "one.json"
MAX_DIFF_LINES = 16

# Go's error shapes: "template: NAME:LINE: MSG" (parse) and
# "template: NAME:LINE:COL: executing "TNAME" at <NODE>: MSG" (execution). NODE may itself
# contain ": " and ">", so the message proper is located from the end of the node text, which
# the generator always closes with ">: ".
PARSE_RE = re.compile(r"^template: (?P<file>[^:]*):(?P<line>\d+): (?P<msg>.*)$", re.S)
EXEC_RE = re.compile(
    r'^template: (?P<file>[^:]*):(?P<line>\d+):(?P<col>\d+): executing "(?P<tname>[^"]*)" '
    r"at <(?P<node>.*?)>: (?P<msg>.*)$",
    re.S,
)


def renderer_command():
    if len(sys.argv) > 1:
        return sys.argv[1:]
    if os.environ.get("NOTIFYD_RENDER"):
        return shlex.split(os.environ["NOTIFYD_RENDER"])
    if os.environ.get("NOTIFYD"):
        return [os.environ["NOTIFYD"], "template", "render"]
    return None


def read(path, mode="r"):
    if mode == "rb":
        with open(path, "rb") as f:
            return f.read()
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def read_opt(path):
    return read(path).strip() if os.path.exists(path) else None


def load_cases():
    names = sorted(f[: -len(".tmpl")] for f in os.listdir(CASES) if f.endswith(".tmpl"))
    only = os.environ.get("NOTIFYD_CORPUS_ONLY")
    if only:
        names = [n for n in names if re.search(only, n)]
    return names


def case_argv(cmd, name):
    base = os.path.join(CASES, name)
    argv = list(cmd)
    if os.path.exists(base + ".inc"):
        argv += ["--file", base + ".inc"]
    name_file = read_opt(base + ".name")
    if name_file is not None:
        argv += ["--file", base + ".tmpl", "--name", name_file]
    else:
        argv += ["--text", read(base + ".tmpl")]
    argv += ["--data", os.path.join(DATA, read_opt(base + ".data") or DEFAULT_DATA)]
    typ = read_opt(base + ".type")
    if typ and typ != "text":
        argv += ["--type", typ]
    lang = read_opt(base + ".lang")
    if lang:
        argv += ["--language", lang]
    return argv


def run(argv, timeout):
    env = dict(os.environ)
    env["TZ"] = "UTC"  # the generator ran with TZ=UTC: .Local must agree
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, env=env)


def short_diff(want, got):
    """A few lines of unified diff, with invisible characters shown."""
    w = [repr(l)[1:-1] for l in want.decode("utf-8", "replace").splitlines(True)]
    g = [repr(l)[1:-1] for l in got.decode("utf-8", "replace").splitlines(True)]
    lines = list(difflib.unified_diff(w, g, "expected", "got", lineterm="", n=1))
    if not lines:
        return ["(outputs differ only in bytes that do not decode as UTF-8)"]
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + ["... (%d more lines)" % (len(lines) - MAX_DIFF_LINES)]
    return lines


def error_requirements(want, strict):
    """The substrings that stderr must contain for an error case."""
    if strict:
        return [want]
    m = EXEC_RE.match(want)
    if m:
        req = [m["msg"], ":%s:%s:" % (m["line"], m["col"])]
        # The unnamed top-level template may be called anything by the C engine; a defined
        # template's name is part of what the user needs to see.
        if m["tname"]:
            req.append('"%s"' % m["tname"])
        return req
    m = PARSE_RE.match(want)
    if m:
        return [m["msg"], ":%s:" % m["line"]]
    return [want]


# An error case must fail cleanly: a signal or a sanitizer report is never the expected error,
# even when the expected message was printed before it.
SANITIZER_RE = re.compile(r"==\d+==ERROR: \w+Sanitizer|\.[ch]:\d+:\d+: runtime error: ")


def crash_report(res, stderr):
    diag = []
    if res.returncode < 0:
        diag.append("renderer killed by signal %d" % -res.returncode)
    m = SANITIZER_RE.search(stderr)
    if m:
        diag.append("sanitizer report: %s" % stderr[m.start():m.start() + 400])
    return diag


def check_case(cmd, name, strict, timeout):
    """Returns a list of diagnostic lines: empty when the case passes."""
    base = os.path.join(CASES, name)
    has_out, has_err = os.path.exists(base + ".out"), os.path.exists(base + ".err")
    if has_out == has_err:
        return ["corpus broken: need exactly one of %s.out and %s.err" % (name, name)]
    try:
        res = run(case_argv(cmd, name), timeout)
    except subprocess.TimeoutExpired:
        return ["renderer timed out after %ss" % timeout]
    except OSError as e:
        return ["cannot run renderer: %s" % e]
    stderr = res.stderr.decode("utf-8", "replace").strip()
    crash = crash_report(res, stderr)
    if crash:
        return crash
    if has_out:
        want = read(base + ".out", "rb")
        diag = []
        if res.returncode != 0:
            diag.append("exit status %d, stderr: %s" % (res.returncode, stderr[:300]))
        # A failed render with no output says all there is to say in its stderr.
        if res.stdout != want and (res.returncode == 0 or res.stdout):
            diag += short_diff(want, res.stdout)
        return diag
    want = read(base + ".err").strip()
    diag = []
    if res.returncode == 0:
        diag.append("expected an error, got exit status 0 and stdout %r" % res.stdout[:200])
    missing = [r for r in error_requirements(want, strict) if r not in stderr]
    if missing:
        diag.append("expected error: %s" % want)
        diag.append("got stderr:     %s" % stderr[:400])
        diag.append("missing: %s" % " | ".join(repr(m) for m in missing))
    return diag


def probe(cmd, timeout):
    """None when the renderer works, else why not."""
    if not cmd:
        return "no renderer: set NOTIFYD or NOTIFYD_RENDER"
    exe = cmd[0]
    if os.sep in exe and not os.access(exe, os.X_OK):
        return "renderer %s not built" % exe
    try:
        res = run(cmd + ["--text", "probe{{ 1 }}", "--data", os.path.join(DATA, DEFAULT_DATA)],
                  timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "renderer %s unusable: %s" % (exe, e)
    if res.returncode != 0 or res.stdout != b"probe1":
        first = (res.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[0]
        return "renderer %s does not render yet (exit %d: %s)" % (
            " ".join(cmd), res.returncode, first[:200])
    return None


def main():
    cmd = renderer_command()
    timeout = float(os.environ.get("NOTIFYD_CORPUS_TIMEOUT", "10"))
    strict = os.environ.get("NOTIFYD_CORPUS_STRICT") == "1"
    why = probe(cmd, timeout)
    if why:
        print("Bail out! %s" % why)
        return 1
    names = load_cases()
    if not names:
        print("Bail out! no case in %s" % CASES)
        return 1
    print("1..%d" % len(names))
    failed = 0
    for i, name in enumerate(names, 1):
        diag = check_case(cmd, name, strict, timeout)
        if diag:
            failed += 1
            print("not ok %d - %s" % (i, name))
            for line in diag:
                print("#   %s" % line)
        else:
            print("ok %d - %s" % (i, name))
        sys.stdout.flush()
    print("# %d/%d cases pass (%s error matching)" % (
        len(names) - failed, len(names), "strict" if strict else "loose"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
