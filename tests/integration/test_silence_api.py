#!/usr/bin/env python3
"""Alertmanager's v2 silence API driven by Debian's real amtool: `silence add` creates a
silence that `query` lists, an alert it matches is not delivered while another one is,
`expire` ends it and the same alert is delivered again; silences survive a restart with
the same [routing] silence_file; bad silences get 400 with Alertmanager's message; the
read-only view GET /silences?active=true and the notifyd_silences gauge."""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

AMTOOL = "/usr/bin/amtool"


def amtool(tap, d, home, *args):
    """Runs amtool against the daemon; a failing amtool fails the test."""
    cmd = [AMTOOL, "--alertmanager.url=http://127.0.0.1:%d" % d.port] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, HOME=home))
    tap.eq(r.returncode, 0, "amtool %s succeeds" % " ".join(args[:2]),
           "stdout: %s\nstderr: %s" % (r.stdout, r.stderr))
    return r.stdout


def query_ids(tap, d, home):
    out = amtool(tap, d, home, "silence", "query", "-o", "json")
    return sorted(s["id"] for s in json.loads(out))


def delivered(target):
    return h.received_label(target, "alertname")


def wait_count(target, n, timeout=10):
    h.wait_until(lambda: delivered(target), lambda got: len(got) >= n, timeout)
    time.sleep(0.3)  # long enough for a muted alert's batch to have closed too
    return delivered(target)


def alert(name):
    return [{"labels": {"alertname": name, "job": "silapi"}}]


def configured_view(tap):
    """GET /silences also lists the configured [silence.NAME] sections, after the API ones."""
    cfg = (h.config({"c": "type = console\n"})
           + '[silence.quiet]\nselector = alertname=Never, team in (a,"b c")\n'
           + "[silence.off]\nselector = alertname=Other\nenabled = false\n")
    with h.Daemon(cfg) as d:
        d.start()
        r = d.request("GET", "/silences")
        tap.eq(r.status, 200, "GET /silences with configured silences")
        got = r.json() if r.status == 200 else []
        tap.eq([(s.get("source"), s.get("name"), s.get("enabled"), s["status"]["state"])
                for s in got],
               [("config", "quiet", True, "active"), ("config", "off", False, "inactive")],
               "both configured silences, in file order, with their state", got)
        tap.eq(got[0].get("selector") if got else None, 'alertname=Never,team in (a,"b c")',
               "the selector in canonical form", got)
        tap.eq(got[0].get("tenant", "absent") if got else None, None, "a global silence: tenant null")
        r = d.request("GET", "/silences?active=true")
        tap.eq([s.get("name") for s in r.json()], ["quiet"], "?active=true: only the active one")
        r = d.request("GET", "/silences?active=maybe")
        tap.eq(r.status, 400, "?active=maybe: 400")


def body(tap):
    configured_view(tap)
    if not os.access(AMTOOL, os.X_OK):
        tap.ok(False, "amtool is installed (%s, Debian's prometheus-alertmanager)" % AMTOOL)
        return
    with h.Target([200] * 20) as target:
        home = None
        with h.Daemon("") as holder:  # a temp dir that outlives both daemons below
            home = holder.dir
            sfile = os.path.join(home, "silences.json")
            cfg = h.config({"hook": h.webhook(target.url + "/hook")},
                           batch="max_wait = 50ms\n") + \
                "[routing]\nsilence_file = %s\n" % sfile
            with h.Daemon(cfg) as d:
                d.start()
                out = amtool(tap, d, home, "silence", "add", "alertname=Muted", "job=~sil.*",
                             "-c", "maintenance", "-a", "tester", "-d", "1h")
                sid = out.strip()
                tap.ok(len(sid) == 36 and sid[14] == "4", "amtool prints a UUID v4", sid)
                ids = query_ids(tap, d, home)
                tap.eq(ids, [sid], "amtool silence query lists it")
                out = amtool(tap, d, home, "silence", "query", "alertname=Muted")
                tap.ok(sid in out, "query with a filter finds it", out)
                out = amtool(tap, d, home, "silence", "query", "-q", "alertname=Other")
                tap.eq(out.strip(), "", "query with a filter that does not match: none")

                tap.eq(d.post_alerts(alert("Muted")).status, 200, "muted alert accepted")
                tap.eq(d.post_alerts(alert("Free")).status, 200, "other alert accepted")
                got = wait_count(target, 1)
                tap.eq(got, ["Free"], "the matching alert is not delivered, the other one is")
                tap.eq(h.metric(d.metrics(), "notifyd_alerts_silenced_total"), 1.0,
                       "counted in notifyd_alerts_silenced_total")
                tap.eq(h.metric(d.metrics(), "notifyd_silences", state="active"), 1.0,
                       "notifyd_silences{state=active} = 1")

                r = d.request("GET", "/silences?active=true")
                tap.eq(r.status, 200, "GET /silences?active=true")
                tap.eq([s["id"] for s in r.json()], [sid], "the view lists the active one")
                r = d.request("GET", "/api/v2/silence/" + sid)
                tap.eq((r.status, r.json()["status"]["state"]), (200, "active"),
                       "GET /api/v2/silence/{id}")

                amtool(tap, d, home, "silence", "expire", sid)
                tap.eq(query_ids(tap, d, home), [], "after expire, query shows nothing")
                r = d.request("GET", "/silences?active=true")
                tap.eq(r.json(), [], "the view of active silences is empty")
                r = d.request("GET", "/silences")
                tap.eq([s["status"]["state"] for s in r.json()], ["expired"],
                       "GET /silences keeps the expired one")
                tap.eq(d.post_alerts(alert("Muted")).status, 200, "alert posted again")
                got = wait_count(target, 2)
                tap.eq(sorted(got), ["Free", "Muted"], "delivered again after expiry")

                # Bad silences: Alertmanager's messages, 400.
                now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                later = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
                base = {"startsAt": now, "endsAt": later, "createdBy": "t", "comment": "c"}
                for matchers, want in (
                        ([], "at least one matcher required"),
                        ([{"name": "a", "value": "(", "isRegex": True}],
                         "invalid regular expression"),
                        ([{"name": "a", "value": ".*", "isRegex": True}],
                         "at least one matcher must not match the empty string")):
                    r = d.request("POST", "/api/v2/silences", dict(base, matchers=matchers))
                    tap.ok(r.status == 400 and want in r.json(), "400: " + want, repr(r))
                r = d.request("DELETE", "/api/v2/silence/0000")
                tap.eq(r.status, 404, "DELETE of an unknown ID: 404")

                out = amtool(tap, d, home, "silence", "add", "alertname=Second", "-c", "two",
                             "-a", "tester", "-d", "2h")
                sid2 = out.strip()
            with open(sfile) as f:
                saved = json.load(f)
            tap.eq(sorted(s["id"] for s in saved), sorted([sid, sid2]),
                   "silence_file holds both silences (JSON array)")

            with h.Daemon(cfg) as d2:
                d2.start()
                tap.eq(query_ids(tap, d2, home), [sid2],
                       "after a restart, query shows the active silence")
                r = d2.request("GET", "/api/v2/silence/" + sid)
                tap.eq((r.status, r.json()["status"]["state"]), (200, "expired"),
                       "the expired one is kept too")
                n0 = len(delivered(target))
                d2.post_alerts(alert("Second"))
                d2.post_alerts(alert("Third"))
                got = wait_count(target, n0 + 1)[n0:]
                tap.eq(got, ["Third"], "the silence loaded from the file mutes")

            # A corrupt file is a start error naming the file.
            with open(sfile, "w") as f:
                f.write("[{\"id\": 1}")
            with h.Daemon(cfg) as d3:
                d3.start(wait_listening=False)
                rc = d3.wait_exit(10)
                tap.eq(rc, 1, "a corrupt silence_file: notifyd exits 1")
                tap.ok(sfile in d3.stderr_text(), "the error names the file",
                       d3.stderr_text())
                # --check-config reports it as a config error: file, line, key.
                r = subprocess.run([h.NOTIFYD, "--check-config", d3.config_path],
                                   capture_output=True, text=True, timeout=20)
                line = cfg.splitlines().index("silence_file = %s" % sfile) + 1
                want = "notifyd.ini:%d: [routing] silence_file:" % line
                tap.ok(r.returncode == 1 and want in r.stderr,
                       "--check-config names the config line of the key: " + want, r.stderr)


if __name__ == "__main__":
    h.run_main(body, 100)
