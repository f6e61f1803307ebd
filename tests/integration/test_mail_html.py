#!/usr/bin/env python3
"""The built-in HTML mail (nm.default.html) in a real browser: `notifyd template render
--type html` renders sample notifications, headless Chromium loads them at 360 px wide.

Checked in the browser: the page parses into the expected document (header, one block per
alert), the Source and Runbook links keep their href values after parsing, a `<script>` label
value stays text (no script element comes from the data), a javascript: runbook is
neutralised, nothing overflows 360 px horizontally (a long unbreakable value wraps), and the
screenshot at 360x1200 shows the header in the status colour and the blocks' left borders in
their alerts' colours.

Chromium is required: when it is missing the test fails. Every Chromium run has a timeout,
its own temporary profile (--user-data-dir) and HOME; on timeout its process group is killed.
With MAIL_HTML_SCREENSHOT=PATH the screenshot of the sample is also written to PATH (how
docs/mail-html.png is made)."""

import html.parser
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

CHROMIUM_TIMEOUT = 60
WIDTH, HEIGHT = 360, 1200

RED, GREEN, ORANGE = (0xC5, 0x22, 0x1F), (0x18, 0x80, 0x38), (0xD3, 0x54, 0x00)

GEN1 = "http://prometheus:9090/graph?g0.expr=node_filesystem_avail_bytes%3C0.05&g0.tab=1"
GEN2 = "http://prometheus:9090/graph?g0.expr=up%3D%3D0"
RUNBOOK = "https://runbooks.example.com/disk-full#remedy"

# The sample of docs/mail-html.png: one firing alert with both links, one resolved alert with
# a generatorURL only.
SAMPLE = {
    "receiver": "ops-mail",
    "status": "firing",
    "alerts": [
        {"status": "firing",
         "labels": {"alertname": "DiskAlmostFull", "severity": "critical", "cluster": "prod",
                    "instance": "db-1:9100", "mountpoint": "/var/lib/postgresql"},
         "annotations": {"summary": "Disk on db-1 is 96% full",
                         "description": "Less than 5% of /var/lib/postgresql is free.\n"
                                        "At the current rate it fills up in 3 hours.",
                         "runbook_url": RUNBOOK},
         "startsAt": "2024-03-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": GEN1},
        {"status": "resolved",
         "labels": {"alertname": "TargetDown", "severity": "warning", "cluster": "prod",
                    "job": "node"},
         "annotations": {"message": "node exporter on web-2 is back"},
         "startsAt": "2024-03-01T09:40:00Z", "endsAt": "2024-03-01T09:55:00Z",
         "generatorURL": GEN2},
    ],
    "groupLabels": {"cluster": "prod"},
    "commonLabels": {"cluster": "prod"},
    "commonAnnotations": {},
}

LONG = "x" * 300
# Values that must stay text, a javascript: runbook, no generatorURL, a long unbreakable value.
HOSTILE = {
    "receiver": "ops-mail",
    "status": "firing",
    "alerts": [
        {"status": "firing",
         "labels": {"alertname": "Hostile", "evil": "<script>document.title='pwned'</script>",
                    "token": LONG},
         "annotations": {"summary": "<img src=x onerror=alert(1)> & \"quotes\"",
                         "runbook_url": "javascript:alert(1)"},
         "startsAt": "2024-03-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": ""},
    ],
    "groupLabels": {"alertname": "Hostile"},
    "commonLabels": {},
    "commonAnnotations": {},
}

# Appended to the copy loaded for --dump-dom: records whether the page scrolls sideways.
MEASURE = ("<script id=\"nd-measure\">document.documentElement.setAttribute('data-overflow',"
           " String(document.documentElement.scrollWidth - document.documentElement.clientWidth))"
           "</script>")


def find_chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None


def render(tmp, data, name):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(data, f)
    p = subprocess.run([h.NOTIFYD, "template", "render", "--name", "nm.default.html", "--type",
                        "html", "--data", path], stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=20)
    return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8", "replace")


def chromium(binary, tmp, args):
    """One headless run with its own profile and HOME; (rc, stdout, stderr), rc None on
    timeout (the whole process group is killed)."""
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=tmp)
    env = dict(os.environ, HOME=profile)
    cmd = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--disable-extensions", "--user-data-dir=" + profile,
           "--window-size=%d,%d" % (WIDTH, HEIGHT)] + args
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out, err = p.communicate(timeout=CHROMIUM_TIMEOUT)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        rc = None
    finally:
        # helpers may outlive the browser process: end the group we started
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(profile, ignore_errors=True)
    return rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


class Dom(html.parser.HTMLParser):
    """What the checks need from Chromium's serialised DOM."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs = []
        self.link_texts = []
        self.scripts = []  # ids of script elements
        self.overflow = None
        self.text = []
        self.blocks = 0
        self.title = ""
        self._in_a = False
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html" and "data-overflow" in a:
            self.overflow = a["data-overflow"]
        if tag == "a":
            self.hrefs.append(a.get("href"))
            self._in_a = True
            self.link_texts.append("")
        if tag == "script":
            self.scripts.append(a.get("id"))
        if tag == "title":
            self._in_title = True
        if tag == "table" and "border-left: 4px solid" in (a.get("style") or ""):
            self.blocks += 1

    def handle_endtag(self, tag):
        if tag == "a":
            self._in_a = False
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
            return
        self.text.append(data)
        if self._in_a:
            self.link_texts[-1] += data


def dump_dom(binary, tmp, page, name):
    path = os.path.join(tmp, name + ".dom.html")
    with open(path, "w") as f:
        f.write(page.replace("</body>", MEASURE + "</body>", 1))
    rc, out, err = chromium(binary, tmp, ["--dump-dom", "file://" + path])
    dom = Dom()
    dom.feed(out)
    dom.close()
    return rc, out, err, dom


def png_rows(path):
    """The rows of an 8-bit RGB or RGBA non-interlaced PNG (what Chromium writes) as lists
    of (r, g, b)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, hgt, depth, ctype, _, _, interlace = hdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unsupported PNG: depth %d type %d interlace %d"
                         % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(hgt):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + ((a + b) >> 1)) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, hgt, rows


def near(px, colour, tol=10):
    return all(abs(a - b) <= tol for a, b in zip(px, colour))


def check_sample(tap, binary, tmp):
    rc, page, err = render(tmp, SAMPLE, "sample")
    tap.eq(rc, 0, "notifyd template render --type html exits 0", err)
    if rc != 0:
        return
    path = os.path.join(tmp, "sample.html")
    with open(path, "w") as f:
        f.write(page)

    rc, out, err, dom = dump_dom(binary, tmp, page, "sample")
    tap.eq(rc, 0, "chromium --dump-dom exits 0 (within %ds)" % CHROMIUM_TIMEOUT, err[-2000:])
    tap.ok(out.lstrip().startswith("<!DOCTYPE html>\n<html") and out.rstrip().endswith("</html>")
           and "<body" in out, "the DOM dump is a whole document", out[:300])
    tap.eq(dom.blocks, 2, "one block per alert in the parsed page")
    tap.eq(dom.hrefs, [GEN1, RUNBOOK, GEN2],
           "links after parsing: Source and Runbook of the firing alert, Source of the "
           "resolved one")
    tap.eq(dom.link_texts, ["Source", "Runbook", "Source"], "link texts")
    text = "".join(dom.text)
    tap.ok("Disk on db-1 is 96% full" in text and "node exporter on web-2 is back" in text,
           "both summaries are in the page", text[:500])
    tap.ok("2 alerts" in text and "1 FIRING · 1 RESOLVED" in text,
           "header: count and statuses", text[:300])
    tap.eq(dom.overflow, "0", "no horizontal overflow at %d px" % WIDTH)

    shot = os.path.join(tmp, "sample.png")
    rc, out, err = chromium(binary, tmp, ["--hide-scrollbars", "--screenshot=" + shot,
                                          "file://" + path])
    tap.eq(rc, 0, "chromium --screenshot exits 0 (within %ds)" % CHROMIUM_TIMEOUT,
           err[-2000:])
    if not tap.ok(os.path.isfile(shot), "screenshot written"):
        return
    w, hgt, rows = png_rows(shot)
    tap.eq((w, hgt), (WIDTH, HEIGHT), "screenshot is %dx%d" % (WIDTH, HEIGHT))
    # inside the header's padding, left of any text
    tap.ok(near(rows[20][16], ORANGE), "header is orange for a mixed group",
           "pixel %r" % (rows[20][16],))
    # the blocks' 4px left borders: container (8px margin, 1px border) + 12px cell padding
    column = [rows[y][22] for y in range(hgt)]
    tap.ok(any(near(px, RED) for px in column), "a red left border (the firing alert)")
    tap.ok(any(near(px, GREEN) for px in column), "a green left border (the resolved alert)")
    first_red = next((y for y, px in enumerate(column) if near(px, RED)), None)
    first_green = next((y for y, px in enumerate(column) if near(px, GREEN)), None)
    tap.ok(first_red is not None and first_green is not None and first_red < first_green,
           "alerts in order: firing block above resolved block", (first_red, first_green))
    dest = os.environ.get("MAIL_HTML_SCREENSHOT")
    if dest:
        shutil.copyfile(shot, dest)
        tap.diag("screenshot copied to " + dest)


def check_hostile(tap, binary, tmp):
    rc, page, err = render(tmp, HOSTILE, "hostile")
    tap.eq(rc, 0, "hostile sample renders", err)
    if rc != 0:
        return
    tap.ok("<script>" not in page and "&lt;script&gt;" in page,
           "the label value <script> is escaped in the HTML", page[:200])
    rc, out, err, dom = dump_dom(binary, tmp, page, "hostile")
    tap.eq(rc, 0, "chromium --dump-dom of the hostile sample exits 0", err[-2000:])
    tap.eq(dom.scripts, ["nd-measure"], "no script element but the test's own")
    text = "".join(dom.text)
    tap.ok("<script>document.title='pwned'</script>" in text,
           "the <script> label value is shown as text")
    tap.ok("<img src=x onerror=alert(1)> & \"quotes\"" in text, "the summary is shown as text")
    tap.ok(dom.title.startswith("[FIRING] <img") and "pwned" not in dom.title,
           "the title is the escaped subject, not changed by a script", dom.title)
    tap.eq(dom.hrefs, ["#ZgotmplZ"], "a javascript: runbook becomes #ZgotmplZ, no generatorURL "
           "link without a generatorURL")
    tap.ok(LONG in text, "the long value is in the page")
    tap.eq(dom.overflow, "0", "a %d-character unbreakable value wraps: no overflow at %d px"
           % (len(LONG), WIDTH))


def body(tap):
    binary = find_chromium()
    if not tap.ok(binary is not None, "chromium is installed (apt-get install chromium)"):
        return
    tap.ok(h.NOTIFYD != "", "NOTIFYD points to the binary")
    with tempfile.TemporaryDirectory(prefix="notifyd-mailhtml-") as tmp:
        check_sample(tap, binary, tmp)
        check_hostile(tap, binary, tmp)


if __name__ == "__main__":
    h.run_main(body, 200)
