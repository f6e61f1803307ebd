"""Integration-test harness for notifyd (Python 3 standard library only).

Pieces:
  Tap         TAP output (ok/not ok, skips, plan at the end) for meson's 'tap' protocol.
  deadline()  a global per-script deadline: SIGALRM raises, so finally blocks still run.
  Daemon      runs $NOTIFYD with a generated config in a temp dir, reads the bound port from
              the "msg=listening addr=..." log line, captures stdout/stderr.
  Target      a threaded HTTP server on 127.0.0.1:0 recording every request and answering
              from a per-test script (status sequence, Retry-After, hang for N seconds).
  go_json()   Go encoding/json compatible compact encoding, to build expected bodies.

Nothing here binds a fixed port or anything but 127.0.0.1.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NOTIFYD = os.path.abspath(os.environ["NOTIFYD"]) if os.environ.get("NOTIFYD") else ""


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None, todo=None):
        """todo: a known, reported daemon bug. A failure is then printed with a TAP
        "# TODO" directive (meson: expected fail) and does not fail the script."""
        self.n += 1
        if not cond and not todo:
            self.failed += 1
        print("%sok %d - %s%s" % ("" if cond else "not ", self.n, name,
                                  " # TODO " + todo if todo else ""), flush=True)
        if not cond and diag is not None:
            self.diag(diag)
        return bool(cond)

    def eq(self, got, want, name, extra=None):
        diag = "got:  %r\nwant: %r" % (got, want)
        if extra is not None:
            diag += "\n" + str(extra)
        return self.ok(got == want, name, diag)

    def skip(self, name, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, reason), flush=True)

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


class DeadlineExceeded(Exception):
    pass


def _alarm(signum, frame):
    raise DeadlineExceeded("global test deadline exceeded")


def deadline(seconds):
    """Whole-script deadline; the exception unwinds through finally blocks."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(int(seconds))


def run_main(body, seconds):
    """Runs body(tap) under a deadline; any exception is one failed test point."""
    tap = Tap()
    deadline(seconds)
    try:
        body(tap)
    except Exception as e:  # noqa: BLE001 - report anything as a TAP failure
        import traceback

        tap.ok(False, "no exception in test body", traceback.format_exc())
        del e
    finally:
        signal.alarm(0)
    sys.exit(tap.done())


def free_port():
    """A port that was free a moment ago (only for programs that cannot report theirs)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def port_is_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "Response(%d, %r, %r)" % (self.status, self.headers, self.body[:300])


def http_request(host, port, method, path, body=None, headers=None, timeout=10):
    """One request on a fresh connection. A server that answers early (413) and closes may
    break our send; the response is then still read if it arrived."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if body is not None and "Content-Type" not in hdrs:
            hdrs["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=body, headers=hdrs)
        except (BrokenPipeError, ConnectionResetError):
            pass
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def read_response(sock, timeout=10, close_wait=0.5):
    """Reads one HTTP response from a connected socket (a request written by hand, e.g. in
    pieces). Returns (Response, closed): closed is True when the server closed the
    connection within close_wait seconds after the response."""
    sock.settimeout(timeout)
    r = http.client.HTTPResponse(sock)
    r.begin()
    data = r.read()
    resp = Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    sock.settimeout(close_wait)
    try:
        closed = sock.recv(1) == b""
    except socket.timeout:
        closed = False
    except OSError:
        closed = True
    return resp, closed


class Daemon:
    """notifyd in a temp dir. Use as a context manager: __exit__ always kills it."""

    def __init__(self, config=None, args=None, name="notifyd", env=None):
        if not NOTIFYD:
            raise RuntimeError("NOTIFYD is not set (path of the notifyd binary)")
        self.tmp = tempfile.TemporaryDirectory(prefix="notifyd-it-")
        self.dir = self.tmp.name
        self.config_path = None
        if config is not None:
            self.config_path = os.path.join(self.dir, name + ".ini")
            with open(self.config_path, "w") as f:
                f.write(config)
        self.args = list(args) if args is not None else []
        self.env = env
        self.proc = None
        self.port = None
        self.stdout_lines = []
        self.stderr_lines = []
        self._cond = threading.Condition()
        self._threads = []

    def _reader(self, stream, sink):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                sink.append(line)
                self._cond.notify_all()
        stream.close()

    def start(self, wait_listening=True, timeout=15):
        cmd = [NOTIFYD]
        if self.config_path:
            cmd += ["-c", self.config_path]
        cmd += self.args
        env = dict(os.environ)
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=self.dir, env=env)
        for stream, sink in ((self.proc.stdout, self.stdout_lines),
                             (self.proc.stderr, self.stderr_lines)):
            t = threading.Thread(target=self._reader, args=(stream, sink), daemon=True)
            t.start()
            self._threads.append(t)
        if wait_listening:
            self.wait_listening(timeout)
            self.wait_ready(timeout)
        return self

    def wait_listening(self, timeout):
        rx = re.compile(r"msg=\"?listening\"?.*\baddr=\"?([0-9.]+):([0-9]+)")
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.stderr_lines:
                    m = rx.search(line)
                    if m:
                        self.port = int(m.group(2))
                        return self.port
                if self.proc.poll() is not None:
                    raise RuntimeError("notifyd exited with %s before listening; stderr:\n%s"
                                       % (self.proc.returncode, self.stderr_text()))
                left = end - time.monotonic()
                if left <= 0:
                    raise RuntimeError("no 'msg=listening addr=' line within %ss; stderr:\n%s"
                                       % (timeout, self.stderr_text()))
                self._cond.wait(min(left, 0.1))

    def wait_ready(self, timeout):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            try:
                r = self.request("GET", "/-/ready", timeout=2)
                if r.status == 200:
                    return
                last = r
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise RuntimeError("notifyd not ready within %ss: %r" % (timeout, last))

    def request(self, method, path, body=None, headers=None, timeout=10):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        return http_request("127.0.0.1", self.port, method, path, body, headers, timeout)

    def post_alerts(self, payload, timeout=10):
        return self.request("POST", "/api/v2/alerts", payload, timeout=timeout)

    def metrics(self):
        r = self.request("GET", "/metrics")
        if r.status != 200:
            raise RuntimeError("GET /metrics: %r" % r)
        return parse_metrics(r.body.decode())

    def wait_metric(self, name, want, timeout=5, **labels):
        """Polls /metrics until the sample equals want (counters move when a delivery's
        answer is processed, a moment after the target saw the request); returns the last
        value seen."""
        end = time.monotonic() + timeout
        while True:
            got = metric(self.metrics(), name, **labels)
            if got == want or time.monotonic() >= end:
                return got
            time.sleep(0.05)

    def write_config(self, text):
        """Replaces the config file in one rename: a reload never reads half of it."""
        tmp = self.config_path + ".new"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)

    def reload(self):
        """POST /-/reload; True when the daemon answered 200."""
        return self.request("POST", "/-/reload").status == 200

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def wait_stdout(self, pred, timeout):
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.stdout_lines:
                    if pred(line):
                        return line
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.1))

    def count_log(self, pred):
        """How many stderr (log) lines so far satisfy pred."""
        with self._cond:
            return sum(1 for ln in self.stderr_lines if pred(ln))

    def wait_log(self, pred, n, timeout):
        """Waits until at least n log lines satisfy pred; True if they do in time."""
        end = time.monotonic() + timeout
        with self._cond:
            while sum(1 for ln in self.stderr_lines if pred(ln)) < n:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
            return True

    def stderr_text(self):
        with self._cond:
            return "\n".join(self.stderr_lines[-60:])

    def stdout_text(self):
        with self._cond:
            return "\n".join(self.stdout_lines[-60:])

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for t in self._threads:
            t.join(timeout=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        self.tmp.cleanup()
        return False


def parse_metrics(text):
    """Prometheus text -> {(name, frozenset(label items)): float}."""
    out = {}
    rx = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
    lrx = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = rx.match(line)
        if not m:
            continue
        labels = frozenset(lrx.findall(m.group(3) or ""))
        try:
            out[(m.group(1), labels)] = float(m.group(4))
        except ValueError:
            pass
    return out


def metric(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())))


class Recorded:
    def __init__(self, method, path, headers, body, t):
        self.method = method
        self.path = path
        self.headers = headers  # dict, lower-case names
        self.body = body
        self.t = t  # time.monotonic() at arrival (headers and body read)
        self.peercert = None  # the client certificate seen by a TLS target

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "Recorded(%s %s t=%.3f %r)" % (self.method, self.path, self.t, self.body[:200])


class Target:
    """A webhook target. script: list of steps consumed one per request; the last step
    repeats. A step is an int status, or a dict with keys status (200), headers ({}),
    body (b'ok'), hang (seconds to wait before answering), release (a threading.Event: the
    answer waits until it is set, at most hang seconds, 30 if no hang is given), or a
    function called at the request's arrival that returns one of those."""

    def __init__(self, script=None, tls=None):
        """tls: an ssl.SSLContext (server side) to serve HTTPS instead of HTTP."""
        self.script = list(script or [200])
        self.requests = []
        self.cond = threading.Condition()
        self.stopping = threading.Event()
        self._next = 0
        self.active = 0  # requests being answered now
        self.max_active = 0  # the most at any time: checks max_in_flight
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, fmt, *args):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                rec = Recorded(self.command, self.path,
                               {k.lower(): v for k, v in self.headers.items()}, body,
                               time.monotonic())
                getpeercert = getattr(self.connection, "getpeercert", None)
                rec.peercert = getpeercert() if getpeercert else None
                with target.cond:
                    target.requests.append(rec)
                    step = target.script[min(target._next, len(target.script) - 1)]
                    target._next += 1
                    target.active += 1
                    target.max_active = max(target.max_active, target.active)
                    target.cond.notify_all()
                if callable(step):
                    step = step()
                step = {"status": step} if isinstance(step, int) else step
                hang = step.get("hang", 0)
                release = step.get("release")
                if release is not None:
                    end = time.monotonic() + (hang or 30)
                    while not release.wait(0.05) and not target.stopping.is_set():
                        if time.monotonic() >= end:
                            break
                    stopped = target.stopping.is_set()
                else:
                    stopped = hang and target.stopping.wait(hang)
                # Not active any more before the answer goes out: the client may start its
                # next request as soon as it has read this one.
                with target.cond:
                    target.active -= 1
                if not stopped:
                    self._answer(step)

            def _answer(self, step):
                out = step.get("body", b"ok")
                try:
                    self.send_response(step.get("status", 200))
                    for k, v in step.get("headers", {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    self.wfile.write(out)
                except OSError:
                    pass  # the client gave up (timeout): that is what some tests want

            do_POST = do_GET = do_PUT = _any

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # peers closing kept-alive connections at exit are expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)
        if tls is not None:
            # A failed handshake surfaces as an OSError in accept, which the server skips.
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait_for(self, n, timeout):
        """Waits until at least n requests arrived; returns a copy of the list."""
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.requests) < n:
                left = end - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(left)
            return list(self.requests)

    def snapshot(self):
        with self.cond:
            return list(self.requests)

    def close(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def received_alerts(target, path=None):
    """The alerts of the Alertmanager-shaped bodies a Target recorded (or of a list of
    Recorded requests), in arrival order; with path, of the requests to that path only.
    A body that does not parse gives one {"unparsable": ...} entry, without labels, so
    that checks on the alerts fail visibly instead of raising."""
    reqs = target.snapshot() if hasattr(target, "snapshot") else target
    out = []
    for r in reqs:
        if path is not None and r.path != path:
            continue
        try:
            out += r.json()["alerts"]
        except (ValueError, KeyError, TypeError):
            out.append({"unparsable": r.body[:100], "labels": {}})
    return out


def received_label(target, label, path=None):
    """The value of one label of every received alert (received_alerts); an alert
    without it (or an unparsable body) gives a "<no LABEL: ...>" string."""
    return [a["labels"][label] if label in a.get("labels", {})
            else "<no %s: %r>" % (label, a.get("unparsable", a)) for a in
            received_alerts(target, path)]


def wait_until(fn, done, timeout, step=0.05):
    """Calls fn() until done(result) is true or timeout seconds have passed; returns the
    last result (bounded wait: the caller asserts on it)."""
    end = time.monotonic() + timeout
    while True:
        got = fn()
        if done(got) or time.monotonic() >= end:
            return got
        time.sleep(step)


def go_json(obj):
    """Compact JSON the way Go's encoding/json writes it: <, >, & and U+2028/9 escaped,
    other non-ASCII kept as UTF-8. Dict order is kept (build maps sorted yourself)."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    s = (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
         .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return s


def fingerprint(labels):
    """Alertmanager's label-set fingerprint (FNV-1a 64, name 0xff value 0xff)."""
    h = 14695981039346656037
    for name in sorted(labels, key=lambda k: k.encode()):
        for part in (name, labels[name]):
            for b in part.encode():
                h ^= b
                h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
            h ^= 0xFF
            h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def sorted_map(d):
    return {k: d[k] for k in sorted(d, key=lambda k: k.encode())}


def common(maps):
    if not maps:
        return {}
    out = {}
    for k, v in maps[0].items():
        if v != "" and all(m.get(k) == v for m in maps[1:]):
            out[k] = v
    return sorted_map(out)


def config(receivers, server="", queue="", batch="", delivery=""):
    """A config text: listen on 127.0.0.1:0 plus the given section bodies.
    receivers: {name: "key = value\\n..."}."""
    parts = ["[server]\nlisten = 127.0.0.1:0\nlog_level = debug\n" + server]
    if queue:
        parts.append("[queue]\n" + queue)
    if batch:
        parts.append("[batch]\n" + batch)
    if delivery:
        parts.append("[delivery]\n" + delivery)
    for name, body in receivers.items():
        parts.append("[receiver.%s]\n%s" % (name, body))
    return "\n".join(p if p.endswith("\n") else p + "\n" for p in parts)


def webhook(url, extra=""):
    return "type = webhook\nurl = %s\n%s" % (url, extra)
