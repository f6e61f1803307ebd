#!/usr/bin/env python3
"""CI summary: counts tests from meson's testlog.json files (and the extra checks .ci/test runs
itself) and prints, as its last line, "N passed, N failed, N skipped".

Nothing may skip silently. Every skip is found in the TAP output of every test: a whole test
("1..0 # SKIP why", which meson reports as result SKIP) and a subtest ("ok 3 - name # SKIP
why", which meson only counts inside a test whose result is OK, visible only in its stdout).
A skip is allowed only when .ci/allowed-skips names it (test and subtest) with a reason:
  - a listed skip counts as one skipped (per skipped subtest, or one for a whole test);
  - an unlisted skip fails its test (the test then counts as one failed);
  - a test with no unlisted skip counts as passed or failed as meson says (a test whose
    every subtest was skipped, and listed, counts only as its skips).

Usage:
  summary.py [--skips FILE] [--tap NAME=FILE]... [--check NAME=ok|fail]... TESTLOG...
    --tap    a TAP log of a test meson did not run (bench/selftest.sh), read the same way;
             its result is "failed" if it has a "not ok" line or no line at all
    --check  one more test with a known result (format check, bench smoke)
    TESTLOG  a meson-logs/testlog.json; a missing one counts as one failure
  summary.py --self-test
Exit status 0 when nothing failed.
"""

import json
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SKIPS = os.path.join(HERE, "allowed-skips")

# TAP as meson reads it: the description ends at the first '#', a directive word follows.
TEST_LINE = re.compile(r"^(not )?ok\b\s*(?:\d+\b)?\s*(?:-\s*)?([^#]*?)\s*(?:#\s*(\w+)\s*(.*))?$",
                       re.I)
PLAN_LINE = re.compile(r"^1\.\.(\d+)\s*(?:#\s*(\w+)\s*(.*))?$", re.I)


def load_skips(path):
    """allowed-skips: "test | subtest | reason" per line; subtest empty for a whole-test skip.
    Returns ({(test, subtest): reason}, [errors])."""
    allowed, errors = {}, []
    if not os.path.exists(path):
        return allowed, ["%s: missing" % path]
    with open(path, encoding="utf-8") as f:
        for no, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) != 3 or not parts[0] or not parts[2]:
                errors.append("%s:%d: want 'test | subtest | reason' with a reason" % (path, no))
                continue
            allowed[(parts[0], parts[1])] = parts[2]
    return allowed, errors


def tap_skips(text):
    """(whole_test_skip_reason or None, [(subtest, reason)], saw_not_ok, saw_any_line)."""
    whole, subs, not_ok, any_line = None, [], False, False
    for line in (text or "").splitlines():
        line = line.rstrip()
        m = PLAN_LINE.match(line)
        if m:
            any_line = True
            if m.group(1) == "0":
                whole = (m.group(3) or "").strip() or "plan 1..0"
            continue
        m = TEST_LINE.match(line)
        if not m:
            continue
        any_line = True
        directive = (m.group(3) or "").upper()
        if m.group(1):
            not_ok = not_ok or directive != "TODO"
        elif directive.startswith("SKIP"):
            subs.append((m.group(2).strip(), (m.group(4) or "").strip()))
    return whole, subs, not_ok, any_line


def failure_excerpt(stdout, stderr, blocks=3, diag=6, width=300):
    """The lines that say why a test failed, for the end of the CI log (the part a reader
    sees first): each "not ok" line with the diagnostics under it, a few blocks at most;
    without one, the last lines of stderr."""
    out, lines = [], (stdout or "").splitlines()
    i = 0
    while i < len(lines) and blocks > 0:
        m = TEST_LINE.match(lines[i].rstrip())
        if m and m.group(1) and (m.group(3) or "").upper() != "TODO":
            blocks -= 1
            out.append("    " + lines[i][:width])
            j = i + 1
            while j < len(lines) and lines[j].startswith("#") and j - i <= diag:
                out.append("    " + lines[j][:width])
                j += 1
            i = j
            continue
        i += 1
    if not out:
        out = ["    " + ln[:width] for ln in (stderr or "").splitlines()[-diag:]]
    return out


class Summary:
    def __init__(self, allowed):
        self.allowed = allowed
        self.passed = self.failed = self.skipped = 0
        self.notes = []

    def test(self, name, result, stdout, where="", stderr=""):
        """result: meson's (OK, EXPECTEDFAIL, SKIP, FAIL, TIMEOUT, ...)."""
        whole, subs, _, _ = tap_skips(stdout)
        found = list(subs)
        if result == "SKIP" and not subs:
            found = [("", whole or "meson result SKIP")]
        elif whole is not None:
            found.append(("", whole))
        unlisted = 0
        for sub, why in found:
            what = name + (" / " + sub if sub else "")
            reason = self.allowed.get((name, sub))
            if reason is None:
                unlisted += 1
                self.notes.append("UNLISTED SKIP (counted failed): %s: %s (list it in "
                                  ".ci/allowed-skips with its reason, or make it fail)"
                                  % (what, why))
            else:
                self.skipped += 1
                self.notes.append("skipped (listed): %s: %s" % (what, reason))
        if unlisted or result not in ("OK", "EXPECTEDFAIL", "SKIP"):
            self.failed += 1
            if not unlisted:
                self.notes.append("FAILED: %s (%s)%s" % (name, result,
                                                         " in " + where if where else ""))
                self.notes.extend(failure_excerpt(stdout, stderr))
        elif result != "SKIP":
            self.passed += 1

    def testlog(self, path):
        if not os.path.exists(path):
            self.notes.append("FAILED: no %s (counted as one failure)" % path)
            self.failed += 1
            return
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                # "project:suite / name": the skip list uses the bare name.
                self.test(r["name"].split(" / ")[-1], r["result"], r.get("stdout"),
                          os.path.dirname(os.path.dirname(path)), r.get("stderr") or "")

    def tap_file(self, name, path):
        text = ""
        if os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        _, subs, not_ok, any_line = tap_skips(text)
        if not any_line:
            result = "FAIL"
        elif not_ok:
            result = "FAIL"
        else:
            result = "OK"
        self.test(name, result, text)

    def check(self, name, ok):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.notes.append("FAILED: %s" % name)

    def line(self):
        return "%d passed, %d failed, %d skipped" % (self.passed, self.failed, self.skipped)


def self_test():
    """Fixtures for each rule above; returns the number of failed checks."""
    bad = 0

    def expect(got, want, what):
        nonlocal bad
        if got != want:
            bad += 1
            print("self-test FAILED: %s: got %r, want %r" % (what, got, want))

    with tempfile.TemporaryDirectory() as tmp:
        skips = os.path.join(tmp, "skips")
        with open(skips, "w") as f:
            f.write("# comment\nt_listed | sub a | why a\nt_whole_listed |  | why whole\n")
        allowed, errors = load_skips(skips)
        expect(errors, [], "skip list parses")
        log = os.path.join(tmp, "testlog.json")
        rows = [
            ("p:s / t_ok", "OK", "ok 1 - a\nok 2 - b\n1..2\n"),
            ("p:s / t_listed", "OK", "ok 1 - sub a # SKIP no tool\nok 2 - b\n1..2\n"),
            ("p:s / t_unlisted", "OK", "ok 1 - a\nok 2 - sub x # skip no tool\n1..2\n"),
            ("p:s / t_whole_listed", "SKIP", "1..0 # SKIP nothing to do\n"),
            ("p:s / t_whole_unlisted", "SKIP", "1..0 # SKIP nothing to do\n"),
            ("p:s / t_all_subs_unlisted", "SKIP", "ok 1 - only # SKIP gone\n1..1\n"),
            ("p:s / t_fail", "FAIL", "not ok 1 - a\n1..1\n"),
            ("p:s / t_todo", "EXPECTEDFAIL", "not ok 1 - a # TODO known\n1..1\n"),
            ("p:s / t_hash_in_name", "OK", "ok 1 - a #1 of 2\n1..1\n"),
        ]
        with open(log, "w") as f:
            for name, result, out in rows:
                f.write(json.dumps({"name": name, "result": result, "stdout": out}) + "\n")
        s = Summary(allowed)
        s.testlog(log)
        expect((s.passed, s.failed, s.skipped), (4, 4, 2), "counts over the fixture log")
        expect(sum("UNLISTED" in n for n in s.notes), 3, "unlisted skips reported")
        expect([n for n in s.notes if n.startswith("    ")], ["    not ok 1 - a"],
               "a failed test's not-ok line reported")
        expect(failure_excerpt("ok 1 - a\nnot ok 2 - b\n# got 1\n# want 2\nok 3\n", ""),
               ["    not ok 2 - b", "    # got 1", "    # want 2"], "excerpt with diagnostics")
        expect(failure_excerpt("", "a\nb\n"), ["    a", "    b"], "stderr when no not-ok")

        s = Summary(allowed)
        s.testlog(os.path.join(tmp, "missing.json"))
        expect((s.passed, s.failed, s.skipped), (0, 1, 0), "a missing testlog fails")

        tap = os.path.join(tmp, "bench.log")
        with open(tap, "w") as f:
            f.write("ok 1 - a\nok 2 - sub a # SKIP --quick\nok 3 - c # SKIP no nginx\n"
                    "1 passed, 0 failed, 2 skipped\n")
        s = Summary(allowed)
        s.tap_file("t_listed", tap)
        s.tap_file("t_empty", os.path.join(tmp, "none.log"))
        s.check("fmt", True)
        s.check("bench", False)
        expect((s.passed, s.failed, s.skipped), (1, 3, 1), "TAP files and checks")

        with open(skips, "w") as f:
            f.write("t | sub\n")
        expect(len(load_skips(skips)[1]), 1, "an entry without a reason is refused")
    return bad


def main(argv):
    if argv[1:] == ["--self-test"]:
        bad = self_test()
        print("summary.py self-test: %s" % ("ok" if not bad else "%d failed" % bad))
        return 1 if bad else 0
    skips, taps, checks, logs = DEFAULT_SKIPS, [], [], []
    args = iter(argv[1:])
    for a in args:
        if a == "--skips":
            skips = next(args)
        elif a == "--tap":
            taps.append(next(args).split("=", 1))
        elif a == "--check":
            name, res = next(args).split("=", 1)
            checks.append((name, res == "ok"))
        else:
            logs.append(a)
    allowed, errors = load_skips(skips)
    s = Summary(allowed)
    for e in errors:
        s.check("skip list: " + e, False)
    for path in logs:
        s.testlog(path)
    for name, path in taps:
        s.tap_file(name, path)
    for name, ok in checks:
        s.check(name, ok)
    for n in s.notes:
        print(n)
    print(s.line())
    return 1 if s.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
