#!/usr/bin/env python3
"""Configuration reload (SIGHUP and POST /-/reload), docs/reload.md:
(a) reloads under load lose nothing: every accepted alert reaches the receiver present all
    along, and the alerts accepted after a reload added a receiver reach it too;
(b) a config with a syntax error, or with an unknown receiver type, changes nothing: 500 with
    the file:line errors, the old receivers still deliver, the reload gauge is 0 until a good
    reload sets it back to 1;
(c) a removed receiver delivers what it held (its target blocked at the reload, released
    after) before it is freed, and /metrics lists it until then;
(c') a changed receiver (same name) is one series in /metrics: its old and new objects
    summed while the old one finishes, and its counters do not fall back when it is freed;
(d) a changed [server] listen is logged as needing a restart and the old listener stays."""

import json
import os
import re
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

FAST = "retry_initial = 20ms\nretry_max = 100ms\n"


def reloaded(ln):
    return "configuration reloaded" in ln


def sighup_reload(d):
    n = d.count_log(reloaded)
    d.signal(signal.SIGHUP)
    return d.wait_log(reloaded, n + 1, 10)


def ids_of(target):
    return h.received_label(target, "id")


def wait_ids(target, want, timeout):
    return set(h.wait_until(lambda: ids_of(target), lambda got: want <= set(got), timeout))


class Loader:
    """Posts one alert per request, without pause, until stopped; records the id of every
    alert answered 200 with the time its request started."""

    def __init__(self, d):
        self.d = d
        self.accepted = {}  # id -> monotonic start of its request
        self.refused = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        i = 0
        while not self.stop.is_set():
            i += 1
            aid = "a%d" % i
            t0 = time.monotonic()
            try:
                st = self.d.post_alerts([{"labels": {"alertname": "Load", "id": aid}}]).status
            except OSError:
                st = 0
            if st == 200:
                self.accepted[aid] = t0
            else:
                self.refused += 1

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)
        return False


def under_load(tap):
    with h.Target([200]) as first, h.Target([200]) as second:
        one = {"first": h.webhook(first.url + "/1")}
        two = {"first": h.webhook(first.url + "/1"), "second": h.webhook(second.url + "/2")}
        batch = "max_size = 50\nmax_wait = 20ms\n"
        with h.Daemon(h.config(one, batch=batch, delivery=FAST)) as d:
            d.start()
            added_at = None
            with Loader(d) as load:
                time.sleep(0.5)
                d.write_config(h.config(two, batch=batch, delivery=FAST))
                tap.ok(sighup_reload(d), "SIGHUP: the second receiver is added")
                added_at = time.monotonic()
                time.sleep(0.4)
                tap.ok(d.reload(), "POST /-/reload, same file: 200")
                time.sleep(0.4)
                # The second receiver's settings change: a new object takes over, the old one
                # finishes what it holds.
                d.write_config(h.config(
                    {"first": h.webhook(first.url + "/1"),
                     "second": h.webhook(second.url + "/2", "max_in_flight = 2\n")},
                    batch=batch, delivery=FAST))
                tap.ok(sighup_reload(d), "SIGHUP: the second receiver's settings change")
                time.sleep(0.4)
                d.write_config(h.config(
                    {"first": h.webhook(first.url + "/1"),
                     "second": h.webhook(second.url + "/2", "max_in_flight = 2\n")},
                    batch="max_size = 20\nmax_wait = 5ms\n", delivery=FAST))
                tap.ok(d.reload(), "POST /-/reload: new batch settings")
                time.sleep(0.5)
            accepted = set(load.accepted)
            tap.ok(len(accepted) > 100, "the loader got alerts accepted (%d, %d refused)"
                   % (len(accepted), load.refused))
            got1 = wait_ids(first, accepted, 20)
            tap.eq(sorted(accepted - got1)[:10], [],
                   "first receiver: every accepted alert arrived (%d)" % len(accepted))
            tap.eq(sorted(got1 - accepted)[:10], [], "first receiver: only accepted alerts")
            after = {a for a, t in load.accepted.items() if t >= added_at}
            tap.ok(len(after) > 50, "alerts accepted after the second receiver was added (%d)"
                   % len(after))
            got2 = wait_ids(second, after, 20)
            tap.eq(sorted(after - got2)[:10], [],
                   "second receiver: every alert accepted after it was added arrived")
            tap.ok(d.count_log(lambda ln: "configuration reloaded" in ln
                               and re.search(r"\bkept=2\b", ln)) >= 1,
                   "an unchanged reload keeps both receiver objects (kept=2)")
            tap.ok(d.wait_log(lambda ln: "removed receiver finished" in ln
                              and "second" in ln, 1, 10),
                   "the replaced second receiver object was freed once idle")
            held = d.wait_metric("notifyd_queue_alerts", 0.0, 20)
            tap.eq(held, 0.0, "every alert released (nothing left held)")
            d.signal(signal.SIGTERM)
            tap.eq(d.wait_exit(20), 0, "clean exit after the reloads (no leak under ASan)")


def bad_configs(tap):
    with h.Target([200]) as first:
        good = h.config({"first": h.webhook(first.url + "/1")}, batch="max_wait = 10ms\n")
        with h.Daemon(good) as d:
            d.start()
            tap.eq(d.wait_metric("notifyd_config_last_reload_successful", 1.0, 2), 1.0,
                   "reload gauge is 1 after the start")
            ts0 = h.metric(d.metrics(), "notifyd_config_last_reload_success_timestamp_seconds")
            tap.ok(ts0 and ts0 > 1e9, "success timestamp set at the start (%r)" % ts0)
            name = os.path.basename(d.config_path)
            cases = [
                ("syntax error", good + "[receiver.broken\ntype = webhook\n"),
                ("unknown receiver type",
                 good + "\n[receiver.second]\ntype = nosuchtype\nurl = http://127.0.0.1:1/\n"),
            ]
            for i, (what, text) in enumerate(cases):
                d.write_config(text)
                r = d.request("POST", "/-/reload")
                tap.eq(r.status, 500, "%s: POST /-/reload answers 500" % what)
                try:
                    env = json.loads(r.body)
                except ValueError:
                    env = {}
                tap.eq(env.get("Status"), 500, "%s: NM's envelope" % what, r.body[:300])
                tap.ok(re.search(re.escape(name) + r":\d+:", env.get("Message", "")),
                       "%s: the message names file:line" % what, env.get("Message"))
                tap.ok(d.wait_log(lambda ln: "configuration reload failed" in ln, 1, 5),
                       "%s: the failure is logged" % what)
                tap.eq(h.metric(d.metrics(), "notifyd_config_last_reload_successful"), 0.0,
                       "%s: reload gauge is 0" % what)
                aid = "bad%d" % i
                tap.eq(d.post_alerts([{"labels": {"alertname": "X", "id": aid}}]).status, 200,
                       "%s: alerts still accepted" % what)
                tap.ok(aid in wait_ids(first, {aid}, 10),
                       "%s: the old receiver still delivers" % what)
            # A SIGHUP with the bad file is refused the same way.
            n = d.count_log(lambda ln: "configuration reload failed" in ln)
            d.signal(signal.SIGHUP)
            tap.ok(d.wait_log(lambda ln: "configuration reload failed" in ln, n + 1, 5),
                   "SIGHUP with a bad file: refused and logged")
            tap.eq(d.count_log(lambda ln: "second" in ln and "receiver" in ln
                               and "removed" in ln), 0, "nothing was swapped")
            d.write_config(good)
            tap.eq(d.request("POST", "/-/reload").status, 200, "good file again: 200")
            tap.eq(h.metric(d.metrics(), "notifyd_config_last_reload_successful"), 1.0,
                   "reload gauge back to 1")
            ts1 = h.metric(d.metrics(), "notifyd_config_last_reload_success_timestamp_seconds")
            tap.ok(ts1 is not None and ts0 is not None and ts1 >= ts0,
                   "success timestamp moved (%r -> %r)" % (ts0, ts1))


def removed_receiver(tap):
    release = threading.Event()
    with h.Target([200]) as first, h.Target([{"release": release, "hang": 30}]) as slow:
        both = {"first": h.webhook(first.url + "/1"),
                "slow": h.webhook(slow.url + "/s", "max_in_flight = 1\ntimeout = 20s\n")}
        cfg = h.config(both, server="shutdown_timeout = 30s\n",
                       batch="max_wait = 5ms\ngroup_labels = id\n")
        with h.Daemon(cfg) as d:
            d.start()
            ids = ["r%d" % i for i in range(4)]
            for aid in ids:
                tap.eq(d.post_alerts([{"labels": {"alertname": "R", "id": aid}}]).status, 200,
                       "alert %s accepted" % aid)
                time.sleep(0.05)
            slow.wait_for(1, 5)
            tap.eq(len(slow.snapshot()), 1, "slow receiver: one request blocked, the rest queued")
            d.write_config(h.config({"first": h.webhook(first.url + "/1")},
                                     server="shutdown_timeout = 30s\n",
                                     batch="max_wait = 5ms\ngroup_labels = id\n"))
            tap.eq(d.request("POST", "/-/reload").status, 200, "reload removing 'slow': 200")
            t_reload = time.monotonic()
            m = d.metrics()
            tap.eq(h.metric(m, "notifyd_notifications_delivered_total", receiver="slow",
                            type="webhook"), 0.0, "/metrics still lists the retiring 'slow'")
            tap.eq(h.metric(m, "notifyd_receiver_backlog_notifications", receiver="slow"), 4.0,
                   "with the four notifications it holds")
            tap.ok(d.wait_log(lambda ln: "finishing what it holds" in ln and "slow" in ln,
                              1, 5), "the removal is logged")
            time.sleep(0.3)
            tap.eq(d.count_log(lambda ln: "removed receiver finished" in ln), 0,
                   "'slow' is not freed while it holds notifications")
            release.set()
            got = wait_ids(slow, set(ids), 10)
            tap.eq(sorted(set(ids) - got), [], "slow receiver: every queued notification arrived")
            late = [q for q in slow.snapshot() if q.t > t_reload]
            tap.ok(len(late) >= 3, "%d of them arrived after the reload removed it" % len(late))
            tap.ok(d.wait_log(lambda ln: "removed receiver finished" in ln and "slow" in ln,
                              1, 5), "then 'slow' is freed")
            tap.eq(h.metric(d.metrics(), "notifyd_notifications_delivered_total",
                            receiver="slow", type="webhook"), None,
                   "once freed, /metrics no longer lists 'slow'")
            tap.eq(d.count_log(lambda ln: "not delivered" in ln), 0, "nothing given up")
            got1 = wait_ids(first, set(ids), 5)
            tap.eq(sorted(set(ids) - got1), [], "first receiver: everything arrived")
            d.signal(signal.SIGTERM)
            tap.eq(d.wait_exit(20), 0, "clean exit")


def series(d, name, receiver):
    """The sample lines of one metric for one receiver in the raw exposition."""
    text = d.request("GET", "/metrics").body.decode()
    return [ln for ln in text.splitlines()
            if ln.startswith(name + "{") and 'receiver="%s"' % receiver in ln]


def changed_receiver_metrics(tap):
    release = threading.Event()
    with h.Target([200, {"release": release, "hang": 30}]) as slow:
        def cfg(timeout):
            return h.config({"w": h.webhook(slow.url + "/w",
                                            "max_in_flight = 1\ntimeout = %s\n" % timeout)},
                            server="shutdown_timeout = 30s\n",
                            batch="max_wait = 5ms\ngroup_labels = id\n")
        with h.Daemon(cfg("20s")) as d:
            d.start()
            delivered = ("notifyd_notifications_delivered_total", {"receiver": "w",
                                                                    "type": "webhook"})
            tap.eq(d.post_alerts([{"labels": {"alertname": "C", "id": "c0"}}]).status, 200,
                   "metrics: c0 accepted")
            tap.eq(d.wait_metric(delivered[0], 1.0, 5, **delivered[1]), 1.0,
                   "metrics: c0 delivered by the first object")
            for aid in ("c1", "c2"):
                tap.eq(d.post_alerts([{"labels": {"alertname": "C", "id": aid}}]).status, 200,
                       "metrics: %s accepted" % aid)
                time.sleep(0.05)
            slow.wait_for(2, 5)
            d.write_config(cfg("19s"))
            tap.ok(d.reload(), "metrics: reload changing w's timeout (w replaced)")
            tap.ok(d.wait_log(lambda ln: "finishing what it holds" in ln
                              and re.search(r"\breceiver=w\b", ln), 1, 5),
                   "metrics: the old w is retiring")
            tap.eq(d.post_alerts([{"labels": {"alertname": "C", "id": "c3"}}]).status, 200,
                   "metrics: c3 accepted by the new w")
            slow.wait_for(3, 5)
            tap.eq(d.wait_metric("notifyd_delivery_in_flight", 2.0, 5, receiver="w"), 2.0,
                   "metrics: in flight is the sum of the old (c1) and the new (c3) object")
            tap.eq(len(series(d, delivered[0], "w")), 1,
                   "metrics: one delivered series for w, not one per object")
            tap.eq(len(series(d, "notifyd_delivery_in_flight", "w")), 1,
                   "metrics: one in-flight series for w")
            tap.eq(h.metric(d.metrics(), delivered[0], **delivered[1]), 1.0,
                   "metrics: the old object's count is kept across the swap")
            tap.eq(h.metric(d.metrics(), "notifyd_receiver_backlog_notifications", receiver="w"),
                   3.0, "metrics: backlog = old (c1 in flight, c2 queued) + new (c3)")
            release.set()
            tap.ok(d.wait_log(lambda ln: "removed receiver finished" in ln
                              and re.search(r"\breceiver=w\b", ln), 1, 10),
                   "metrics: the old w is freed once it delivered its part")
            tap.eq(d.wait_metric(delivered[0], 4.0, 5, **delivered[1]), 4.0,
                   "metrics: after the old object is freed w's counter is 4, not the new "
                   "object's alone")
            tap.eq(len(series(d, delivered[0], "w")), 1, "metrics: still one series for w")
            tap.eq(d.wait_metric("notifyd_receiver_backlog_notifications", 0.0, 5,
                                 receiver="w"), 0.0, "metrics: backlog back to 0")
            d.signal(signal.SIGTERM)
            tap.eq(d.wait_exit(20), 0, "metrics: clean exit")


def stop_while_retiring(tap):
    """A template change rebuilds every receiver; SIGTERM while a replaced receiver still
    holds a blocked notification: the shutdown deadline gives it up, the exit is clean."""
    release = threading.Event()
    with h.Target([{"release": release, "hang": 30}]) as slow:
        with h.Daemon(None) as d:
            tmpl = os.path.join(d.dir, "a.tmpl")
            with open(tmpl, "w") as f:
                f.write('{{ define "mine" }}one{{ end }}')
            d.config_path = os.path.join(d.dir, "notifyd.ini")

            def cfg():
                return h.config({"slow": h.webhook(slow.url + "/s", "timeout = 20s\n"),
                                 "cons": "type = console\ntemplate = mine\n"},
                                server="shutdown_timeout = 1s\n",
                                batch="max_wait = 5ms\n") + "[template]\nfiles = %s\n" % tmpl
            d.write_config(cfg())
            d.start()
            tap.eq(d.post_alerts([{"labels": {"alertname": "T", "id": "t1"}}]).status, 200,
                   "alert accepted")
            slow.wait_for(1, 5)
            tap.eq(d.request("POST", "/-/reload").status, 200, "reload, nothing changed: 200")
            tap.ok(d.wait_log(lambda ln: "configuration reloaded" in ln
                              and re.search(r"\bkept=2\b", ln), 1, 5),
                   "unchanged templates: both receivers kept")
            with open(tmpl, "w") as f:
                f.write('{{ define "mine" }}two{{ end }}')
            tap.eq(d.request("POST", "/-/reload").status, 200, "reload, template changed: 200")
            tap.ok(d.wait_log(lambda ln: "configuration reloaded" in ln
                              and re.search(r"\bkept=0\b", ln), 1, 5),
                   "a changed template file rebuilds every receiver")
            tap.eq(d.post_alerts([{"labels": {"alertname": "T", "id": "t2"}}]).status, 200,
                   "alert accepted after the reload")
            tap.ok(d.wait_stdout(lambda ln: "two" in ln, 5) is not None,
                   "the console receiver renders with the new template")
            d.signal(signal.SIGTERM)
            tap.eq(d.wait_exit(20), 0, "SIGTERM with a retiring receiver: clean exit")
            tap.ok(d.count_log(lambda ln: "not delivered" in ln and "slow" in ln) >= 1,
                   "what the retiring receiver still held is logged as given up")
            release.set()


def api_during_reload(tap):
    """A reload that replaces the templates while a /api/v2/notifications request waits for
    its delivery: the request's receiver keeps the set it was built with (freed at exit,
    checked by the ASan run), the answer still comes, the exit is clean."""
    release = threading.Event()
    with h.Target([{"release": release, "hang": 30}]) as slow:
        with h.Daemon(None) as d:
            tmpl = os.path.join(d.dir, "b.tmpl")
            with open(tmpl, "w") as f:
                f.write('{{ define "mine" }}one{{ end }}')
            d.config_path = os.path.join(d.dir, "notifyd.ini")
            d.write_config(h.config({"cons": "type = console\ntemplate = mine\n"},
                                     server="api_timeout = 20s\n")
                         + "[template]\nfiles = %s\n" % tmpl)
            d.start()
            res = {}
            body = {"receiver": {"kind": "Receiver", "metadata": {"name": "api"},
                                 "spec": {"webhook": {"url": slow.url + "/api"}}},
                    "alert": {"alerts": [{"status": "firing", "labels": {"alertname": "A"}}]}}

            def call():
                res["r"] = h.http_request("127.0.0.1", d.port, "POST", "/api/v2/notifications",
                                          json.dumps(body).encode(), timeout=25)
            t = threading.Thread(target=call)
            t.start()
            tap.ok(slow.wait_for(1, 5), "the API request's delivery is on the wire")
            with open(tmpl, "w") as f:
                f.write('{{ define "mine" }}two{{ end }}')
            tap.eq(d.request("POST", "/-/reload").status, 200,
                   "reload replacing the templates while the API request waits: 200")
            release.set()
            t.join(25)
            r = res.get("r")
            tap.eq(r.status if r else None, 200, "the API request is answered 200 after it")
            d.signal(signal.SIGTERM)
            tap.eq(d.wait_exit(20), 0, "clean exit (no leak, no use after free)")


def listen_change(tap):
    with h.Target([200]) as first:
        cfg = h.config({"first": h.webhook(first.url + "/1")})
        with h.Daemon(cfg) as d:
            d.start()
            port = d.port
            other = h.free_port()
            d.write_config(cfg.replace("listen = 127.0.0.1:0", "listen = 127.0.0.1:%d" % other))
            tap.eq(d.request("POST", "/-/reload").status, 200, "reload with a new listen: 200")
            tap.ok(d.wait_log(lambda ln: "needs a restart" in ln and "[server] listen" in ln,
                              1, 5), "the restart warning names [server] listen",
                   d.stderr_text())
            r = h.http_request("127.0.0.1", port, "GET", "/-/ready")
            tap.eq(r.status, 200, "still serving on the old port")
            tap.ok(h.port_is_free(other), "nothing listens on the new port")


def body(tap):
    under_load(tap)
    bad_configs(tap)
    removed_receiver(tap)
    changed_receiver_metrics(tap)
    stop_while_retiring(tap)
    api_during_reload(tap)
    listen_change(tap)


if __name__ == "__main__":
    h.run_main(body, 150)
