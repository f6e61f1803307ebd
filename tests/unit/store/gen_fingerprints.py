#!/usr/bin/env python3
"""Regenerate fingerprints.h from a real Alertmanager (not run in CI).

Usage: tests/unit/store/gen_fingerprints.py [/usr/bin/prometheus-alertmanager] > fingerprints.h
       clang-format -i tests/unit/store/fingerprints.h

It starts Alertmanager on a random free port of 127.0.0.1 with a temporary
storage dir, gossip disabled and a single null receiver, POSTs every label set
below to /api/v2/alerts, reads the fingerprints back from GET /api/v2/alerts
and prints a C header. The expected values therefore come from Alertmanager
itself, not from our own FNV implementation.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

# (labels, note). Order and duplicates within a set do not matter to AM; the
# C test sorts. Empty values are dropped by AM before hashing, so a set with
# an empty value must hash like the same set without that label.
LABEL_SETS = [
    ({"alertname": "HighCPU", "instance": "node1:9100", "severity": "critical"},
     "README example"),
    ({"alertname": "HighCPU", "instance": "node2:9100", "severity": "critical"},
     "README example"),
    ({"alertname": "a"}, "one label"),
    ({"a": "b"}, "shortest"),
    ({"alertname": "Disk", "cluster": "default"}, "with cluster"),
    ({"alertname": "X", "cluster": "prod", "namespace": "kube-system", "pod": "p-1"},
     "with cluster, 4 labels"),
    ({"alertname": "Unicode", "summary": "温度过高", "cluster": "default"}, "CJK value"),
    ({"alertname": "Emoji", "face": "\U0001F600 ok", "umlaut": "Grüße"}, "4-byte UTF-8"),
    ({"alertname": "Latin1ish", "v": "\u00ff\u00fe"}, "value bytes 0xC3 0xBF ..."),
    ({"alertname": "Empty", "gone": "", "kept": "1"}, "empty value dropped"),
    ({"alertname": "B", "B": "upper", "a": "lower", "_": "underscore", "Z": "z"},
     "bytewise: upper < _ < lower"),
    ({"alertname": "Sort", "a_": "1", "a1": "2", "aB": "3", "ab": "4", "a": "5"},
     "prefixes and digits"),
    ({"alertname": "Quotes", "q": "say \"hi\"", "bs": "back\\slash"}, "quote, backslash"),
    ({"alertname": "Ctl", "nl": "line1\nline2", "tab": "a\tb"}, "newline, tab"),
    ({"alertname": "Long", "v": "x" * 1000}, "1000-byte value"),
    ({"alertname": "LongUni", "v": "é" * 300 + "z"}, "601-byte UTF-8 value"),
    ({"alertname": "Spaces", "v": " lead and trail "}, "spaces"),
    ({"alertname": "Eq", "x": "a=b,c=d", "y": "{}"}, "separator-like bytes"),
    (dict([("alertname", "Many")] + [("l%02d" % i, "v%d" % i) for i in range(30)]),
     "31 labels"),
    ({"alertname": "Rev", "zz": "1", "yy": "2", "xx": "3", "ww": "4"}, "reverse order"),
    ({"cluster": "c1", "namespace": "ns", "rule_level": "namespace", "alertname": "KubePodCrash"},
     "NM-style"),
    ({"alertname": "Num", "value": "0.000123", "port": "65535"}, "numbers"),
    ({"ALERTNAME": "upper name", "alertname": "lower name"}, "case differs"),
    ({"alertname": "ab", "c": ""}, "only empty besides alertname"),
    ({"alertname": "HighCPU", "instance": "node1:9100", "severity": "critical", "cluster": "default"},
     "README example + cluster"),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def c_str(s):
    """A C literal, split into adjacent literals so lines stay under 100 columns."""
    out = []
    for b in s.encode("utf-8"):
        c = chr(b)
        if 0x20 <= b < 0x7F and c not in "\"\\?":
            out.append(c)
        else:
            out.append("\\%03o" % b)  # 3-digit octal never swallows a following digit
    chunks = ["".join(out[i:i + 60]) for i in range(0, max(len(out), 1), 60)]
    return "\n        ".join('"' + c + '"' for c in chunks)


def main():
    am = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/prometheus-alertmanager"
    version = subprocess.run([am, "--version"], capture_output=True, text=True)
    version = (version.stdout + version.stderr).splitlines()[0]
    tmp = tempfile.mkdtemp(prefix="amfp-")
    cfg = os.path.join(tmp, "am.yml")
    with open(cfg, "w") as f:
        f.write('route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n')
    port = free_port()
    proc = subprocess.Popen([am, "--config.file=" + cfg, "--storage.path=" + tmp,
                             "--web.listen-address=127.0.0.1:%d" % port,
                             "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d" % port
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/-/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("alertmanager did not become ready")
        body = json.dumps([{"labels": ls} for ls, _ in LABEL_SETS]).encode()
        req = urllib.request.Request(base + "/api/v2/alerts", data=body,
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=5)
        got = json.load(urllib.request.urlopen(base + "/api/v2/alerts", timeout=5))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    by_labels = {json.dumps(a["labels"], sort_keys=True): a["fingerprint"] for a in got}

    print("/* fingerprints.h - Alertmanager fingerprints of label sets, for test_fingerprint.c.")
    print(" *")
    print(" * GENERATED by tests/unit/store/gen_fingerprints.py (not run in CI): it POSTed")
    print(" * these label sets to a real Alertmanager on 127.0.0.1 and read the")
    print(" * fingerprints back from GET /api/v2/alerts. Do not edit by hand.")
    print(" * %s" % version)
    print(" * Each set is name, value, ..., NULL in the order given (not sorted); empty")
    print(" * values are kept here: Alertmanager drops them before hashing. */")
    for i, (ls, note) in enumerate(LABEL_SETS):
        print("/* %s */" % note)
        print("static const char *const fp_set_%d[] = {" % i)
        for k, v in ls.items():
            print("    %s, %s," % (c_str(k), c_str(v)))
        print("    NULL};")
    print("static const struct fp_case {")
    print("    const char *const *labels;")
    print("    const char *fingerprint;")
    print("} fp_cases[] = {")
    for i, (ls, _) in enumerate(LABEL_SETS):
        key = json.dumps({k: v for k, v in ls.items() if v != ""}, sort_keys=True)
        if key not in by_labels:
            sys.exit("no fingerprint for set %d" % i)
        print("    {fp_set_%d, \"%s\"}," % (i, by_labels[key]))
    print("};")


if __name__ == "__main__":
    main()
