#!/usr/bin/env bash
# run.sh - notifyd's benchmark in one command (see bench/README.md).
#
# Modes (--modes, default all), on loopback only, notifyd pinned to one CPU and
# the load to the other:
#   ingest    1, 10 and 100 alerts per request x 16 and 64 connections: req/s,
#             alerts/s, p50/p99, non-200, CPU, peak RSS; the same loads against
#             nginx `return 200` and Debian's prometheus-alertmanager, every
#             figure also as a ratio to those two baselines;
#   memory    RSS per queued alert at each --fill level (100,000 and 1,000,000)
#             in each state an alert can wait in (--mem-cases): notifications of
#             ~5 alerts or of one alert waiting for a retry behind a receiver that
#             is down, the open batch, one-alert notifications waiting for a slot
#             behind a receiver that never answers; and Alertmanager's RSS per
#             active alert;
#   e2e       N alerts in exactly G groups pushed into notifyd, webhook to the
#             bench sink: time until the sink has every alert, notifications/s,
#             and the sink's distinct / duplicate counts against what was accepted;
#   overload  a small [queue] max_alerts, the sink paused (503), 64 connections
#             of never-seen alerts: 503 latency, RSS sampled every second, then
#             the sink resumed and every accepted alert checked at the sink;
#   wal       ingest at 100 alerts per request x --wal-conns connections with no
#             write-ahead log (memory), fsync = batch and fsync = always, one
#             fresh daemon per load, the three in turn --wal-rounds times (a
#             shared machine drifts: alternating spreads that over all three);
#             mean alerts/s of each and its ratio to memory.
# Installs nothing. Every process it starts is bounded in time and stopped by PID.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

DURATION=5
SMOKE=0
DAEMON=""
STANDIN=0
FILL="100000,1000000"
BUILD_DIR="$ROOT/build-bench"
OUT=""
NGINX_BASE=1
AM_BASE=1
SHAPE=am
CPU_SERVER=0
CPU_CLIENT=1
KEEP=0
ROUTING=0
STRICT=0
MODES="ingest,memory,e2e,overload,wal"
WAL_ROUNDS=3
WAL_CONNS=16
WAL_DIR_BASE=""
MEM_CASES="grouped,single,batcher,queued"
E2E_ALERTS=100000
E2E_GROUPS=10000
OVL_QUEUE=20000
OVL_DURATION=10
KS=(1 10 100)
CONNS=(16 64)

usage() {
    cat <<EOF
usage: bench/run.sh [options]
  --smoke              every mode with tiny counts, 1 s per load (for CI)
  --modes LIST         comma-separated subset of ingest,memory,e2e,overload,wal (default all)
  --duration S         seconds per ingest load (default $DURATION)
  --shape am|array|both  notifyd payload shape (default $SHAPE; Alertmanager always
                       gets the array shape, its API has no other)
  --fill N[,N...]      queued-alert levels for the memory figure (default $FILL)
  --mem-cases LIST     states measured by the memory mode, a subset of
                       grouped,single,batcher,queued (default $MEM_CASES)
  --e2e-alerts N       alerts pushed in the end-to-end run (default $E2E_ALERTS)
  --e2e-groups G       distinct (alertname, namespace) groups among them (default $E2E_GROUPS)
  --overload-queue N   [queue] max_alerts in the overload run (default $OVL_QUEUE)
  --overload-duration S  seconds of overload (default $OVL_DURATION)
  --wal-rounds N       rounds of memory / batch / always in the wal mode (default $WAL_ROUNDS)
  --wal-conns N        connections of the wal mode's loads (default $WAL_CONNS)
  --wal-dir DIR        where the wal mode's logs go (default the temporary directory;
                       give a directory on the disk to measure, not a tmpfs)
  --daemon PATH        benchmark this binary instead of building BUILD_DIR/notifyd
  --standin            benchmark bench/standin (a fake daemon: tests this script only)
  --build-dir DIR      meson build dir for the daemon and the bench tools
                       (default build-bench, set up with --buildtype=release)
  --no-baseline        skip both baselines (nginx and Alertmanager)
  --no-nginx, --no-alertmanager   skip one baseline
  --cpus S,C           CPU for the server under test, CPU for the load (default 0,1)
  --out FILE           also write the report (markdown) to FILE
  --keep               keep the temporary directory (configs, logs, wrk output)
  --ks LIST            alerts per request of the ingest loads (default 1,10,100)
  --routing            ingest at 100 alerts/request also with 20 routers, 50 receivers, 10
                       tenants and 20 silences configured (target notifyd+routing)
  --strict             exit 1 when an e2e or overload check fails (lost or duplicated
                       alerts, overload not reached)
EOF
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) SMOKE=1 ;;
    --modes) MODES=${2:?}; shift ;;
    --duration) DURATION=${2:?}; shift ;;
    --fill) FILL=${2:?}; shift ;;
    --mem-cases) MEM_CASES=${2:?}; shift ;;
    --shape) SHAPE=${2:?}; shift ;;
    --e2e-alerts) E2E_ALERTS=${2:?}; shift ;;
    --e2e-groups) E2E_GROUPS=${2:?}; shift ;;
    --overload-queue) OVL_QUEUE=${2:?}; shift ;;
    --overload-duration) OVL_DURATION=${2:?}; shift ;;
    --wal-rounds) WAL_ROUNDS=${2:?}; shift ;;
    --wal-conns) WAL_CONNS=${2:?}; shift ;;
    --wal-dir) WAL_DIR_BASE=${2:?}; shift ;;
    --daemon) DAEMON=${2:?}; shift ;;
    --standin) STANDIN=1 ;;
    --build-dir) BUILD_DIR=${2:?}; shift ;;
    --no-baseline) NGINX_BASE=0; AM_BASE=0 ;;
    --no-nginx) NGINX_BASE=0 ;;
    --no-alertmanager) AM_BASE=0 ;;
    --cpus) CPU_SERVER=${2%%,*}; CPU_CLIENT=${2##*,}; shift ;;
    --out) OUT=${2:?}; shift ;;
    --keep) KEEP=1 ;;
    --routing) ROUTING=1 ;;
    --ks) IFS=, read -r -a KS <<<"${2:?}"; shift ;;
    --strict) STRICT=1 ;;
    -h | --help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
    shift
done
if [ "$SMOKE" = 1 ]; then
    DURATION=1
    FILL=2000
    E2E_ALERTS=2000
    E2E_GROUPS=200
    OVL_QUEUE=500
    OVL_DURATION=2
    WAL_ROUNDS=1
fi
case "$SHAPE" in am | array) SHAPES=("$SHAPE") ;; both) SHAPES=(am array) ;;
*) echo "run.sh: --shape am|array|both" >&2; exit 2 ;; esac
want() { [[ ",$MODES," == *",$1,"* ]]; }
for m in ${MODES//,/ }; do
    case "$m" in ingest | memory | e2e | overload | wal) ;; *) echo "run.sh: unknown mode $m" >&2; exit 2 ;; esac
done
for m in ${MEM_CASES//,/ }; do
    case "$m" in grouped | single | batcher | queued) ;; *) echo "run.sh: unknown memory case $m" >&2; exit 2 ;; esac
done
isnum() { [[ "$1" =~ ^[0-9]+$ ]]; }
isnum "$DURATION" && [ "$DURATION" -ge 1 ] || { echo "run.sh: bad --duration" >&2; exit 2; }
IFS=, read -r -a FILLS <<<"$FILL"
prev=0
for f in "${FILLS[@]}"; do
    { isnum "$f" && [ "$f" -ge 100 ] && [ "$f" -gt "$prev" ]; } ||
        { echo "run.sh: --fill wants ascending counts >= 100" >&2; exit 2; }
    prev=$f
done
{ isnum "$E2E_ALERTS" && isnum "$E2E_GROUPS" && [ "$E2E_GROUPS" -ge 1 ] &&
    [ "$E2E_ALERTS" -ge "$E2E_GROUPS" ] && [ $((E2E_ALERTS % 100)) = 0 ]; } ||
    { echo "run.sh: --e2e-alerts must be a multiple of 100, >= --e2e-groups >= 1" >&2; exit 2; }
{ isnum "$OVL_QUEUE" && [ "$OVL_QUEUE" -ge 10 ] && isnum "$OVL_DURATION" && [ "$OVL_DURATION" -ge 1 ]; } ||
    { echo "run.sh: bad --overload-queue or --overload-duration" >&2; exit 2; }

# The memory figure needs alerts that stay: the receiver's port has no listener,
# batches wait long and the first retry comes late. Overridable from the
# environment in case the daemon's limits on these keys change.
FILL_MAX_WAIT=${BENCH_FILL_MAX_WAIT:-10m}
FILL_DELIVERY=${BENCH_FILL_DELIVERY:-"retry_max_attempts = 100
retry_max_age = 1h
retry_initial = 60s
retry_max = 60s"}
# Overload and e2e must not give up on a paused sink: retry fast and long.
FAST_RETRY="retry_max_attempts = 1000
retry_max_age = 1h
retry_initial = 100ms
retry_max = 500ms"

# Drains and start-ups are waited for, never longer than these.
START_TIMEOUT=20
DRAIN_TIMEOUT=$((SMOKE ? 20 : 60))
# after an ingest load, the queue is waited for only this long (its drain time is a note)
INGEST_DRAIN_TIMEOUT=$((SMOKE ? 3 : 15))
FILL_TIMEOUT=$((SMOKE ? 30 : 600))
E2E_TIMEOUT=$((SMOKE ? 30 : 120))

log() { printf '%s\n' "run.sh: $*" >&2; }
trap 'log "error: a command failed at line $LINENO"' ERR
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------------ tools

missing=()
for t in wrk taskset curl cc pkg-config awk; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if [ -z "$DAEMON" ] && [ "$STANDIN" = 0 ]; then
    for t in meson ninja; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
fi
[ ${#missing[@]} -eq 0 ] || die "missing tools: ${missing[*]} (Debian: apt-get install wrk util-linux curl gcc pkg-config meson ninja-build)"
pkg-config --exists libevent_core libevent_extra || die "libevent development files missing (libevent-dev)"
NGINX=$(command -v nginx || true)
if [ -z "$NGINX" ] && [ -x /usr/sbin/nginx ]; then NGINX=/usr/sbin/nginx; fi
AM=$(command -v prometheus-alertmanager || true)
BASE_NOTES=()
if [ "$NGINX_BASE" = 1 ] && [ -z "$NGINX" ]; then
    NGINX_BASE=0
    BASE_NOTES+=("nginx not installed: nginx baseline skipped (apt-get install nginx-light)")
fi
if [ "$AM_BASE" = 1 ] && [ -z "$AM" ]; then
    AM_BASE=0
    BASE_NOTES+=("prometheus-alertmanager not installed: Alertmanager baseline skipped")
fi

NCPU=$(nproc)
if [ "$NCPU" -lt 2 ]; then
    log "warning: $NCPU CPU: server and wrk share it, figures are lower bounds"
    CPU_SERVER=0
    CPU_CLIENT=0
fi
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------------ build

mkdir -p "$BUILD_DIR/bench"
build_tool() { # name source
    local bin="$BUILD_DIR/bench/$1"
    if [ ! -x "$bin" ] || [ "$2" -nt "$bin" ]; then
        # shellcheck disable=SC2046
        cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wno-unused-parameter -o "$bin" "$2" \
            $(pkg-config --cflags --libs libevent_core libevent_extra) || die "cannot build $1"
    fi
    echo "$bin"
}
SINK=$(build_tool bench-sink "$HERE/sink/sink.c")

if [ "$STANDIN" = 1 ]; then
    DAEMON=$(build_tool bench-standin "$HERE/standin/standin.c")
    DAEMON_NAME="standin (fake daemon: not a notifyd figure)"
elif [ -n "$DAEMON" ]; then
    [ -x "$DAEMON" ] || die "--daemon $DAEMON is not executable"
    DAEMON_NAME="notifyd ($DAEMON)"
else
    if [ ! -d "$BUILD_DIR/meson-private" ]; then
        log "setting up $BUILD_DIR (release)"
        meson setup "$BUILD_DIR" "$ROOT" --buildtype=release >"$BUILD_DIR/bench/meson-setup.log" 2>&1 ||
            die "meson setup failed, see $BUILD_DIR/bench/meson-setup.log"
    fi
    ninja -C "$BUILD_DIR" notifyd >"$BUILD_DIR/bench/ninja.log" 2>&1 ||
        die "building notifyd failed, see $BUILD_DIR/bench/ninja.log"
    DAEMON="$BUILD_DIR/notifyd"
    DAEMON_NAME="notifyd (release build)"
fi

# ------------------------------------------------------- process handling

TMP=$(mktemp -d "${TMPDIR:-/tmp}/notifyd-bench.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$p"; done
    if [ "$KEEP" = 1 ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {
    local pid=$1 _
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

forget_pid() {
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}
stop_forget() { stop_pid "$1"; forget_pid "$1"; }

free_port() { "$SINK" --free-port; }

# wait_http URL SECONDS: until URL answers 2xx
wait_http() {
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        curl -sf -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    return 1
}

# start_sink CPU LOG [--hold]: sets SINK_PID and STARTED_PORT (not a $(...): the
# PID must reach this shell to be stopped)
start_sink() {
    taskset -c "$1" "$SINK" -t 3600 ${3:+"$3"} >"$2" 2>"$2.err" &
    SINK_PID=$!
    PIDS+=("$SINK_PID")
    local _
    for _ in $(seq 100); do
        grep -q '^port=' "$2" 2>/dev/null && break
        sleep 0.05
    done
    STARTED_PORT=$(sed -n 's/^port=//p' "$2")
    [ -n "$STARTED_PORT" ] || die "sink did not start (see $2.err)"
}
sink_ctl() { # PORT count|reset|pause|resume: the sink's counters as "k v" lines
    curl -s --max-time 5 "http://127.0.0.1:$1/__sink/$2" || true
}
sink_get() { # PORT KEY
    sink_ctl "$1" count | awk -v k="$2" '$1 == k { print $2 }'
}

# write_config FILE PORT URL MAX_WAIT MAX_ALERTS EXTRA_DELIVERY_LINES [MAX_SIZE [TIMEOUT [EXTRA_QUEUE_LINES]]]
write_config() {
    cat >"$1" <<EOC
[server]
listen = 127.0.0.1:$2
log_level = warn
shutdown_timeout = 1s

[queue]
max_alerts = $5
max_bytes = 8GiB
${9:-}

[batch]
max_size = ${7:-100}
max_wait = $4
group_labels = alertname, namespace

[delivery]
timeout = ${8:-5s}
max_in_flight = 8
$6

[receiver.sink]
type = webhook
url = $3
EOC
}

# routing_config FILE URL: appends the routing set of --routing to a config: 10
# tenants owning the 20 bench namespaces, 49 tenant receivers to URL besides the
# global sink, 20 routers (each: the severity=page alerts of one namespace to two
# tenant receivers, regex and selector kinds mixed in), 10 global and 10 tenant
# silences. The bench alerts have no rule_level, no severity=page and match no
# silence: every router and silence is evaluated on every alert, but the
# deliveries are those of the plain config, so the figure is the cost of
# routing, not of sending to more receivers.
routing_config() {
    local i
    {
        echo "[routing]"
        echo "policy = All"
        for i in $(seq 0 9); do
            printf '[tenant.t%d]\nnamespaces = team-%02d, team-%02d\n' "$i" $((2 * i)) $((2 * i + 1))
        done
        for i in $(seq 1 49); do
            printf '[receiver.r%02d]\ntype = webhook\nurl = %s\ntenant = t%d\nlabels = n=%d\n' \
                "$i" "$2" $((i % 10)) "$i"
        done
        for i in $(seq 0 19); do
            printf '[router.ro%02d]\nalert_selector = namespace=team-%02d, severity=page\n' "$i" "$i"
            case $((i % 3)) in
            0) printf 'receivers = r%02d, r%02d\n' $((i + 1)) $((i + 21)) ;;
            1) printf 'receiver_regex = ^r%02d$\n' $((i + 1)) ;;
            2) printf 'receiver_selector = n in (%d, %d)\n' $((i + 1)) $((i + 21)) ;;
            esac
        done
        for i in $(seq 0 19); do
            printf '[silence.s%02d]\nselector = alertname=Maintenance%d, namespace=team-%02d\n' \
                "$i" "$i" "$i"
            [ $((i % 2)) = 0 ] || printf 'tenant = t%d\n' $((i % 10))
        done
    } >>"$1"
}

# start_daemon CONFIG PORT NAME: PID into DAEMON_PID
start_daemon() {
    taskset -c "$CPU_SERVER" "$DAEMON" -c "$1" >"$TMP/$3.out" 2>"$TMP/$3.err" &
    DAEMON_PID=$!
    PIDS+=("$DAEMON_PID")
    if ! wait_http "http://127.0.0.1:$2/metrics" "$START_TIMEOUT"; then
        log "daemon did not answer on 127.0.0.1:$2 within ${START_TIMEOUT}s; its stderr:"
        tail -20 "$TMP/$3.err" >&2 || true
        die "daemon start failed"
    fi
}

# start_am NAME: Alertmanager pinned like notifyd, a null receiver, no cluster;
# AM_PID, AM_PORT
start_am() {
    AM_PORT=$(free_port)
    mkdir -p "$TMP/$1-data"
    cat >"$TMP/$1.yml" <<EOC
route:
  receiver: blackhole
  group_by: [alertname, namespace]
  group_wait: 1h
  group_interval: 1h
  repeat_interval: 24h
receivers:
  - name: blackhole
EOC
    taskset -c "$CPU_SERVER" "$AM" --config.file="$TMP/$1.yml" --storage.path="$TMP/$1-data" \
        --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= --log.level=warn \
        >"$TMP/$1.out" 2>"$TMP/$1.err" &
    AM_PID=$!
    PIDS+=("$AM_PID")
    if ! wait_http "http://127.0.0.1:$AM_PORT/-/ready" "$START_TIMEOUT"; then
        tail -20 "$TMP/$1.err" >&2 || true
        die "alertmanager did not start"
    fi
}

start_nginx() { # NG_PID, NG_PORT
    NG_PORT=$(free_port)
    mkdir -p "$TMP/nginx"
    # One process (no master) so pinning covers all of nginx's work.
    cat >"$TMP/nginx/nginx.conf" <<EOC
daemon off;
master_process off;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    client_max_body_size 64m;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:$NG_PORT;
        location / { return 200; }
    }
}
EOC
    taskset -c "$CPU_SERVER" "$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/error.log" \
        -c "$TMP/nginx/nginx.conf" >"$TMP/nginx/out" 2>&1 &
    NG_PID=$!
    PIDS+=("$NG_PID")
    wait_http "http://127.0.0.1:$NG_PORT/" "$START_TIMEOUT" || die "nginx did not start"
}

# --------------------------------------------------------------- readings

cpu_ticks() { # utime+stime of PID, in clock ticks (fields 14, 15 of stat)
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
cpu_busy() { # CPU: "busy total" ticks of that CPU since boot, from /proc/stat
    awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
# busy_pct "BUSY0 TOTAL0" "BUSY1 TOTAL1": how busy the CPU was in between, all processes
busy_pct() {
    awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
        if (y[2] > x[2]) printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2]); else print "?" }'
}
status_kb() { # PID KEY (VmRSS, VmHWM) in kB
    awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"
}
# metric PORT NAME [FILTER]: the sum over the label sets of NAME that contain
# FILTER, or "?" if absent
metric() {
    # a busy server may time out: "?" then, not the end of the run (pipefail)
    { curl -s --max-time 20 "http://127.0.0.1:$1/metrics" || true; } |
        awk -v n="$2" -v f="${3:-}" '
            ($1 == n || index($1, n "{") == 1) && index($1, f) { s += $NF; found = 1 }
            END { if (found) printf "%.0f\n", s; else print "?" }'
}
kv() { # LINE KEY
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
calc() { # AWK-EXPR VAR=VALUE...: prints the expression, "?" if a value is not a number
    local e=$1 a=() v
    shift
    for v in "$@"; do
        [[ "${v#*=}" =~ ^-?[0-9]+(\.[0-9]+)?$ ]] || { echo "?"; return; }
        a+=(-v "$v")
    done
    awk "${a[@]}" "BEGIN { $e }"
}
ratio() { calc 'if (b > 0) printf "%.3g", a / b; else print "?"' a="$1" b="$2"; }
now_ms() { date +%s%3N; }

# wait_retried PORT SECONDS: until every notification built has had an attempt
# that will be retried (or failed); prints the seconds waited
wait_retried() {
    local start=$SECONDS n r f
    while [ $((SECONDS - start)) -lt "$2" ]; do
        n=$(metric "$1" notifyd_notifications_total)
        r=$(metric "$1" notifyd_notifications_retried_total)
        f=$(metric "$1" notifyd_notifications_failed_total)
        [ "$(calc 'print (r + f >= n) ? 1 : 0' n="$n" r="$r" f="$f")" = 1 ] &&
            { echo $((SECONDS - start)); return 0; }
        sleep 0.5
    done
    echo "timeout"
}

# wait_drain PORT [SECONDS]: until notifyd_queue_alerts is 0; prints the seconds waited
wait_drain() {
    local start=$SECONDS q="?"
    while [ $((SECONDS - start)) -lt "${2:-$DRAIN_TIMEOUT}" ]; do
        q=$(metric "$1" notifyd_queue_alerts)
        [ "$q" = 0 ] && { echo $((SECONDS - start)); return 0; }
        sleep 0.2
    done
    echo "timeout(q=$q)"
}

# run_wrk NAME URL SHAPE K CONNS SECONDS [ENV...]: prints the BENCH_RESULT line
run_wrk() {
    local name=$1 url=$2 shape=$3 k=$4 conns=$5 secs=$6
    shift 6
    env SHAPE="$shape" K="$k" LABEL="$name" "$@" \
        taskset -c "$CPU_CLIENT" wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s \
        -s "$HERE/alerts.lua" "$url" >"$TMP/wrk-$name.txt" 2>&1 || true
    local line
    line=$(grep '^BENCH_RESULT ' "$TMP/wrk-$name.txt" || true)
    [ -n "$line" ] || { cat "$TMP/wrk-$name.txt" >&2; die "wrk gave no result for $name"; }
    echo "$line"
}
# fill NAME URL SHAPE TOTAL [ENV...]: posts exactly TOTAL alerts (100 per request,
# one connection, all distinct); prints the BENCH_RESULT line
fill() {
    local name=$1 url=$2 shape=$3 total=$4
    shift 4
    env SHAPE="$shape" K=100 TOTAL="$total" LABEL="$name" "$@" \
        taskset -c "$CPU_CLIENT" wrk -t1 -c1 -d"${FILL_TIMEOUT}s" --timeout 30s \
        -s "$HERE/alerts.lua" "$url" >"$TMP/wrk-$name.txt" 2>&1 || true
    grep '^BENCH_RESULT ' "$TMP/wrk-$name.txt" || echo "BENCH_RESULT none=1"
}

# measure_load NAME PID URL SHAPE K CONNS: one wrk load against a running server;
# sets RES (the BENCH_RESULT line), CPU_PCT, HWM_MIB, BUSY
measure_load() {
    local t0 t1 b0 b1 cpu_s
    t0=$(cpu_ticks "$2")
    b0=$(cpu_busy "$CPU_SERVER")
    RES=$(run_wrk "$1" "$3" "$4" "$5" "$6" "$DURATION")
    b1=$(cpu_busy "$CPU_SERVER")
    t1=$(cpu_ticks "$2")
    cpu_s=$(calc 'printf "%.2f", t / hz' t=$((t1 - t0)) hz="$CLK_TCK")
    CPU_PCT=$(calc 'printf "%.0f", 100 * c / d' c="$cpu_s" d="$(kv "$RES" duration_s)")
    HWM_MIB=$(calc 'printf "%.1f", k / 1024' k="$(status_kb "$2" VmHWM)")
    BUSY=$(busy_pct "$b0" "$b1")
}

OK_ALL=1
verdict() { # CONDITION-STATUS: VERDICT=PASS or FAIL (and remembers a FAIL for --strict)
    if [ "$1" = 0 ]; then VERDICT=PASS; else OK_ALL=0; VERDICT=FAIL; fi
}

# ------------------------------------------------------------ 1. ingest

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
T_START=$SECONDS
log "daemon: $DAEMON_NAME; server on CPU $CPU_SERVER, wrk on CPU $CPU_CLIENT; modes $MODES"
start_sink "$CPU_CLIENT" "$TMP/sink.out"
SINK_PORT=$STARTED_PORT
SINK_URL="http://127.0.0.1:$SINK_PORT/hook"

declare -A RES_OF CPU_OF HWM_OF BUSY_OF NOTE_OF
# ingest_key TARGET SHAPE K CONNS
key() { echo "$1|$2|$3|$4"; }
remember() { # KEY
    RES_OF[$1]=$RES
    CPU_OF[$1]=$CPU_PCT
    HWM_OF[$1]=$HWM_MIB
    BUSY_OF[$1]=$BUSY
}

if want ingest; then
    if [ "$NGINX_BASE" = 1 ]; then
        start_nginx
        for shape in "${SHAPES[@]}"; do
            for k in "${KS[@]}"; do
                for c in "${CONNS[@]}"; do
                    measure_load "nginx-$shape-k$k-c$c" "$NG_PID" \
                        "http://127.0.0.1:$NG_PORT/api/v2/alerts" "$shape" "$k" "$c"
                    remember "$(key nginx "$shape" "$k" "$c")"
                done
            done
        done
        stop_forget "$NG_PID"
    fi
    if [ "$AM_BASE" = 1 ]; then
        start_am am-ingest
        for k in "${KS[@]}"; do
            for c in "${CONNS[@]}"; do
                measure_load "am-k$k-c$c" "$AM_PID" "http://127.0.0.1:$AM_PORT/api/v2/alerts" \
                    array "$k" "$c"
                remember "$(key alertmanager array "$k" "$c")"
            done
        done
        stop_forget "$AM_PID"
    fi
    VARIANTS=(notifyd)
    [ "$ROUTING" = 0 ] || VARIANTS+=(notifyd+routing)
    for shape in "${SHAPES[@]}"; do
        for k in "${KS[@]}"; do
            for c in "${CONNS[@]}"; do
              for variant in "${VARIANTS[@]}"; do
                [ "$variant" = notifyd ] || [ "$k" = 100 ] || continue
                name="$variant-$shape-k$k-c$c"
                port=$(free_port)
                write_config "$TMP/$name.ini" "$port" "$SINK_URL" 1s 10000000 ""
                [ "$variant" = notifyd ] || routing_config "$TMP/$name.ini" "$SINK_URL"
                start_daemon "$TMP/$name.ini" "$port" "$name"
                t0=$(cpu_ticks "$DAEMON_PID")
                measure_load "$name" "$DAEMON_PID" "http://127.0.0.1:$port/api/v2/alerts" \
                    "$shape" "$k" "$c"
                t1=$(cpu_ticks "$DAEMON_PID")
                drained=$(wait_drain "$port" "$INGEST_DRAIN_TIMEOUT")
                t2=$(cpu_ticks "$DAEMON_PID")
                accepted=$(metric "$port" notifyd_alerts_accepted_total)
                delivered=$(metric "$port" notifyd_notifications_delivered_total)
                stop_forget "$DAEMON_PID"
                kk=$(key "$variant" "$shape" "$k" "$c")
                remember "$kk"
                us=$(calc 'if (a > 0) printf "%.2f", t / hz * 1e6 / a; else print "?"' \
                    t=$((t1 - t0)) hz="$CLK_TCK" a="$accepted")
                us_all=$(calc 'if (a > 0) printf "%.2f", t / hz * 1e6 / a; else print "?"' \
                    t=$((t2 - t0)) hz="$CLK_TCK" a="$accepted")
                NOTE_OF[$kk]="accepted=$accepted cpu_us/alert=$us (with drain $us_all) delivered=$delivered drain_s=$drained"
                log "$name: $RES"
                if [ "$accepted" = 0 ] || [ "$accepted" = "?" ]; then
                    log "warning: $name accepted no alerts (see $TMP/wrk-$name.txt, $TMP/$name.err)"
                fi
              done
            done
        done
    done
    INGEST_SINK=$(sink_ctl "$SINK_PORT" count | tr '\n' ' ')
fi

# ------------------------------------------------------------ 2. memory

MEM_ROWS=()
# mem_row TARGET QUEUED RSS0_KB RSS_KB HWM_KB FILLRES RATIO [NOTE]: sets MEM_PER first
mem_per() { # QUEUED RSS0_KB RSS_KB
    MEM_PER=$(calc 'if (q > 0) printf "%.0f", (b - a) * 1024 / q; else print "?"' a="$2" b="$3" q="$1")
}
mem_row() {
    MEM_ROWS+=("$(printf '| %-15s | %9s | %8s | %8s | %8s | %7s | %5s | %s |' "$1" "$2" \
        "$(calc 'printf "%.1f", k / 1024' k="$3")" "$(calc 'printf "%.1f", k / 1024' k="$4")" \
        "$(calc 'printf "%.1f", k / 1024' k="$5")" "$MEM_PER" "$7" \
        "posts ok=$(kv "$6" ok) non200=$(kv "$6" non200), JSON B/alert=$(kv "$6" body_bytes_per_alert)${8:+, $8}")")
}
if want memory; then
    declare -A AM_PER_AT
    if [ "$AM_BASE" = 1 ]; then
        start_am am-mem
        sleep 0.5
        rss0=$(status_kb "$AM_PID" VmRSS)
        posted=0
        for f in "${FILLS[@]}"; do
            fres=$(fill "amfill-$f" "http://127.0.0.1:$AM_PORT/api/v2/alerts" array $((f - posted)))
            posted=$f
            sleep 1
            # every state: alerts stay "unprocessed" until their group's first flush (1 h)
            active=$(metric "$AM_PORT" alertmanager_alerts)
            rss=$(status_kb "$AM_PID" VmRSS)
            mem_per "$active" "$rss0" "$rss"
            mem_row alertmanager "$active" "$rss0" "$rss" "$(status_kb "$AM_PID" VmHWM)" "$fres" ""
            AM_PER_AT[$f]=$MEM_PER
            log "alertmanager memory at $f: $MEM_PER B/alert ($active active)"
        done
        stop_forget "$AM_PID"
    fi
    # One fresh daemon per case; every case posts the same alerts.
    #   grouped  receiver refused (nothing listens), max_wait 10m: batches close
    #            at 100 alerts, ~5 alerts per notification, all waiting for a
    #            retry 60 s away;
    #   single   the same with the default max_wait (1s) and every alert in its
    #            own (alertname, namespace) group: one-alert notifications;
    #   batcher  max_size = 1,000,000, max_wait 10m: every alert in the open
    #            batch (each level posts 100 alerts less, so a batch of exactly
    #            max_size does not close);
    #   queued   one-alert notifications to a receiver that accepts and never
    #            answers (timeout 1h): 8 in flight, the rest waiting for a slot.
    for mc in ${MEM_CASES//,/ }; do
        port=$(free_port)
        fenv=()
        less=0
        case "$mc" in
        grouped)
            write_config "$TMP/fill-$mc.ini" "$port" "http://127.0.0.1:$(free_port)/hook" \
                "$FILL_MAX_WAIT" 100000000 "$FILL_DELIVERY"
            ;;
        single)
            write_config "$TMP/fill-$mc.ini" "$port" "http://127.0.0.1:$(free_port)/hook" \
                1s 100000000 "$FILL_DELIVERY"
            fenv=(NGROUPS=1000000000)
            ;;
        batcher)
            write_config "$TMP/fill-$mc.ini" "$port" "http://127.0.0.1:$(free_port)/hook" \
                "$FILL_MAX_WAIT" 100000000 "$FILL_DELIVERY" 1000000
            less=100
            ;;
        queued)
            start_sink "$CPU_CLIENT" "$TMP/hold.out" --hold
            HOLD_PID=$SINK_PID
            write_config "$TMP/fill-$mc.ini" "$port" "http://127.0.0.1:$STARTED_PORT/hook" \
                1s 100000000 "$FILL_DELIVERY" 100 1h
            fenv=(NGROUPS=1000000000)
            ;;
        esac
        start_daemon "$TMP/fill-$mc.ini" "$port" "fill-$mc"
        metric "$port" notifyd_queue_alerts >/dev/null
        sleep 0.5
        rss0=$(status_kb "$DAEMON_PID" VmRSS)
        posted=0
        for f in "${FILLS[@]}"; do
            fres=$(fill "fill-$mc-$f" "http://127.0.0.1:$port/api/v2/alerts" "${SHAPES[0]}" \
                $((f - less - posted)) "${fenv[@]+"${fenv[@]}"}")
            posted=$((f - less))
            sleep 1 # let the batches close and the first (refused) attempts happen
            state=""
            if [ "$mc" = grouped ] || [ "$mc" = single ]; then
                # every notification built has had its first attempt refused
                waited=$(wait_retried "$port" "$FILL_TIMEOUT")
                state="retry-wait after ${waited}s"
            fi
            queued=$(metric "$port" notifyd_queue_alerts)
            qbytes=$(metric "$port" notifyd_queue_bytes)
            notes="queue_bytes/alert=$(calc 'if (q > 0) printf "%.0f", b / q; else print "?"' b="$qbytes" q="$queued")"
            notes+=", notifications=$(metric "$port" notifyd_notifications_total)"
            notes+=", in flight=$(metric "$port" notifyd_delivery_in_flight)${state:+, $state}"
            rss=$(status_kb "$DAEMON_PID" VmRSS)
            mem_per "$queued" "$rss0" "$rss"
            ratio_am=""
            [ "$less" != 0 ] || ratio_am=$(ratio "$MEM_PER" "${AM_PER_AT[$f]:-}")
            mem_row "notifyd $mc" "$queued" "$rss0" "$rss" "$(status_kb "$DAEMON_PID" VmHWM)" \
                "$fres" "$ratio_am" "$notes"
            log "notifyd memory ($mc) at $f: $MEM_PER B/alert (queued=$queued)"
            [ "$queued" = "$((f - less))" ] ||
                log "warning: queued=$queued, not $((f - less)) (see $TMP/wrk-fill-$mc-$f.txt)"
        done
        stop_forget "$DAEMON_PID"
        if [ "$mc" = queued ]; then stop_forget "$HOLD_PID"; fi
    done
fi

# ------------------------------------------------------------ 3. end to end

E2E_ROW=""
if want e2e; then
    sink_ctl "$SINK_PORT" reset >/dev/null
    port=$(free_port)
    write_config "$TMP/e2e.ini" "$port" "$SINK_URL" 1s 10000000 "$FAST_RETRY"
    start_daemon "$TMP/e2e.ini" "$port" e2e
    t0=$(now_ms)
    eres=$(fill e2e "http://127.0.0.1:$port/api/v2/alerts" "${SHAPES[0]}" "$E2E_ALERTS" \
        NGROUPS="$E2E_GROUPS")
    t_push=$(now_ms)
    accepted=$(metric "$port" notifyd_alerts_accepted_total)
    deadline=$((SECONDS + E2E_TIMEOUT))
    got=0
    prev=-1
    n=0
    while [ $SECONDS -lt $deadline ]; do
        got=$(sink_get "$SINK_PORT" alerts)
        isnum "$accepted" && [ "${got:-0}" -ge "$accepted" ] && break
        # lost alerts never come: stop once the queue is empty and the sink quiet for 2 s
        n=$((n + 1))
        if [ $((n % 20)) = 0 ]; then
            [ "$got" = "$prev" ] && [ "$(metric "$port" notifyd_queue_alerts)" = 0 ] && break
            prev=$got
        fi
        sleep 0.1
    done
    # anything sent twice (a retry after a lost answer) would arrive now
    wait_drain "$port" >/dev/null
    sleep 0.5
    declare -A S
    while read -r a b; do S[$a]=$b; done < <(sink_ctl "$SINK_PORT" count)
    delivered=$(metric "$port" notifyd_notifications_delivered_total)
    failed=$(metric "$port" notifyd_notifications_failed_total)
    stop_forget "$DAEMON_PID"
    total_s=$(calc 'if (l > t) printf "%.2f", (l - t) / 1000; else print "?"' l="${S[last_ms]}" t="$t0")
    push_s=$(calc 'printf "%.2f", (p - t) / 1000' p="$t_push" t="$t0")
    lost=$(calc 'printf "%d", a - d' a="$accepted" d="${S[distinct]}")
    # an "if": a failing last test of a && list would end the run under set -e
    if [ "$accepted" = "$E2E_ALERTS" ] && [ "${S[distinct]}" = "$accepted" ] &&
        [ "${S[duplicates]}" = 0 ]; then verdict 0; else verdict 1; fi
    E2E_VERDICT=$VERDICT
    E2E_ROW=$(printf '| %-8s | %8s | %6s | %7s | %8s | %13s | %7s | %8s | %8s | %4s | %4s | %5s | %6s |' \
        notifyd "$accepted" "$E2E_GROUPS" "$push_s" "$total_s" "${S[requests]}" \
        "$(calc 'if (s > 0) printf "%.0f", n / s; else print "?"' n="${S[requests]}" s="$total_s")" \
        "$(calc 'if (s > 0) printf "%.0f", n / s; else print "?"' n="${S[distinct]}" s="$total_s")" \
        "${S[distinct]}" "${S[duplicates]}" "$lost" "$E2E_VERDICT" "$failed")
    E2E_NOTE="posted $E2E_ALERTS alerts (100 per request, 1 connection, $(kv "$eres" non200) non-200), daemon's notifications_delivered_total=$delivered"
    log "e2e: $E2E_ROW"
fi

# ------------------------------------------------------------ 4. overload

OVL_ROW=""
if want overload; then
    sink_ctl "$SINK_PORT" reset >/dev/null
    sink_ctl "$SINK_PORT" pause >/dev/null
    port=$(free_port)
    write_config "$TMP/overload.ini" "$port" "$SINK_URL" 100ms "$OVL_QUEUE" "$FAST_RETRY"
    start_daemon "$TMP/overload.ini" "$port" overload
    rss_file="$TMP/overload-rss.txt"
    : >"$rss_file"
    (
        for _ in $(seq $((OVL_DURATION + 1))); do
            status_kb "$DAEMON_PID" VmRSS >>"$rss_file" 2>/dev/null || break
            sleep 1
        done
    ) &
    sampler=$!
    PIDS+=("$sampler")
    ores=$(run_wrk overload "http://127.0.0.1:$port/api/v2/alerts" "${SHAPES[0]}" 10 64 \
        "$OVL_DURATION" UNIQUE=1)
    wait "$sampler" 2>/dev/null || true
    forget_pid "$sampler"
    accepted=$(metric "$port" notifyd_alerts_accepted_total)
    queued_peak=$(metric "$port" notifyd_queue_alerts)
    sink_ctl "$SINK_PORT" resume >/dev/null
    deadline=$((SECONDS + DRAIN_TIMEOUT))
    while [ $SECONDS -lt $deadline ]; do
        got=$(sink_get "$SINK_PORT" distinct)
        isnum "$accepted" && [ "${got:-0}" -ge "$accepted" ] && break
        sleep 0.2
    done
    wait_drain "$port" >/dev/null
    sleep 0.5
    declare -A S
    while read -r a b; do S[$a]=$b; done < <(sink_ctl "$SINK_PORT" count)
    stop_forget "$DAEMON_PID"
    offered=$(calc 'printf "%d", r * 10' r="$(kv "$ores" requests)")
    rss_list=$(awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1024 }' "$rss_file")
    rss_growth=$(awk 'NR == 2 { a = $1 } { b = $1 } END { if (NR >= 2) printf "%+.1f", (b - a) / 1024; else print "?" }' "$rss_file")
    lost=$(calc 'printf "%d", a - d' a="$accepted" d="${S[distinct]}")
    over=$(calc 'if (a > 0) printf "%.0f", o / a; else print "?"' o="$offered" a="$accepted")
    if [ "${S[distinct]}" = "$accepted" ] && [ "${S[duplicates]}" = 0 ] &&
        [ "$(kv "$ores" status503)" -gt 0 ] &&
        [ "$(calc 'if (o >= 10 * a) print 0; else print 1' o="$offered" a="$accepted")" = 0 ]; then
        verdict 0
    else
        verdict 1
    fi
    OVL_VERDICT=$VERDICT
    OVL_ROW=$(printf '| %-8s | %9s | %9s | %8s | %8s | %18s | %6s | %6s | %14s | %9s | %4s | %4s | %5s |' \
        notifyd "$OVL_QUEUE" "$offered" "$accepted" "$(kv "$ores" status503)" "${over}x" \
        "$(kv "$ores" p50_ms)" "$(kv "$ores" p99_ms)" "$rss_growth" "${S[distinct]}" \
        "${S[duplicates]}" "$lost" "$OVL_VERDICT")
    OVL_NOTE="RSS MiB each second of the load: $rss_list; 10 never-seen alerts per request, 64 connections, ${OVL_DURATION}s; sink paused (503) during the load, resumed after; queue at the end of the load: $queued_peak; non-200=$(kv "$ores" non200) of $(kv "$ores" requests) requests, socket errors=$(kv "$ores" sock_errors)"
    log "overload: $OVL_ROW"
fi

# ------------------------------------------------------------ 5. wal

WAL_ROWS=()
declare -A WAL_SUM WAL_CNT
if want wal; then
    isnum "$WAL_ROUNDS" && isnum "$WAL_CONNS" || die "--wal-rounds and --wal-conns take numbers"
    wal_base=${WAL_DIR_BASE:-$TMP}
    for round in $(seq 1 "$WAL_ROUNDS"); do
        for pol in memory batch always; do
            name="wal-$pol-r$round"
            port=$(free_port)
            walq=""
            if [ "$pol" != memory ]; then
                rm -rf "$wal_base/wal-$name"
                walq=$(printf 'wal_dir = %s\nfsync = %s\n' "$wal_base/wal-$name" "$pol")
            fi
            write_config "$TMP/$name.ini" "$port" "$SINK_URL" 1s 10000000 "" 100 5s "$walq"
            start_daemon "$TMP/$name.ini" "$port" "$name"
            measure_load "$name" "$DAEMON_PID" "http://127.0.0.1:$port/api/v2/alerts" am 100 \
                "$WAL_CONNS"
            fsyncs=$(metric "$port" notifyd_wal_fsyncs_total)
            wbytes=$(metric "$port" notifyd_wal_bytes_written_total)
            stop_forget "$DAEMON_PID"
            [ "$pol" = memory ] || rm -rf "$wal_base/wal-$name"
            aps=$(kv "$RES" alerts_per_s)
            WAL_SUM[$pol]=$(calc 'printf "%.1f", s + a' s="${WAL_SUM[$pol]:-0}" a="$aps")
            WAL_CNT[$pol]=$((${WAL_CNT[$pol]:-0} + 1))
            WAL_ROWS+=("$(printf '| %-6s | %5s | %9s | %10s | %7s | %7s | %6s | %4s | %8s | %12s |' \
                "$pol" "$round" "$(kv "$RES" req_per_s)" "$aps" "$(kv "$RES" p50_ms)" \
                "$(kv "$RES" p99_ms)" "$(kv "$RES" non200)" "$CPU_PCT" "$fsyncs" "$wbytes")")
            log "$name: $RES fsyncs=$fsyncs"
        done
    done
fi

# ---------------------------------------------------------------- report

fmt_ingest_row() { # KEY TARGET SHAPE K CONNS
    local r=${RES_OF[$1]} nk ak rn ra pn pa
    nk=$(key nginx "$3" "$4" "$5")
    ak=$(key alertmanager array "$4" "$5")
    rn="" ra="" pn="" pa=""
    if [ "$2" = notifyd ]; then
        [ -z "${RES_OF[$nk]:-}" ] || {
            rn=$(ratio "$(kv "$r" alerts_per_s)" "$(kv "${RES_OF[$nk]}" alerts_per_s)")
            pn=$(ratio "$(kv "$r" p99_ms)" "$(kv "${RES_OF[$nk]}" p99_ms)")
        }
        [ -z "${RES_OF[$ak]:-}" ] || {
            ra=$(ratio "$(kv "$r" alerts_per_s)" "$(kv "${RES_OF[$ak]}" alerts_per_s)")
            pa=$(ratio "$(kv "$r" p99_ms)" "$(kv "${RES_OF[$ak]}" p99_ms)")
        }
    fi
    printf '| %-12s | %-5s | %4s | %5s | %9s | %10s | %7s | %7s | %6s | %4s | %8s | %6s | %6s | %6s | %6s |\n' \
        "$2" "$3" "$4" "$5" "$(kv "$r" req_per_s)" "$(kv "$r" alerts_per_s)" "$(kv "$r" p50_ms)" \
        "$(kv "$r" p99_ms)" "$(kv "$r" non200)" "${CPU_OF[$1]}" "${HWM_OF[$1]}" "$rn" "$ra" "$pn" "$pa"
}

{
    echo "# notifyd bench $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "machine: $NCPU CPU, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
    echo "load average (1/5/15 min) at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews figures)"
    echo "daemon: $DAEMON_NAME; server under test on CPU $CPU_SERVER, wrk (1 thread) and the delivery sink on CPU $CPU_CLIENT; run took $((SECONDS - T_START)) s"
    if want ingest; then
        echo
        echo "## Ingest (${DURATION} s per load)"
        echo
        echo "| target       | shape | a/rq | conns |     req/s |   alerts/s |  p50 ms |  p99 ms | non200 | CPU% | peak MiB | a/s ÷nginx | a/s ÷AM | p99 ÷nginx | p99 ÷AM |"
        echo "|--------------|-------|-----:|------:|----------:|-----------:|--------:|--------:|-------:|-----:|---------:|-------:|-------:|-------:|-------:|"
        for t in notifyd notifyd+routing nginx alertmanager; do
            for shape in "${SHAPES[@]}"; do
                [ "$t" != alertmanager ] || shape=array
                for k in "${KS[@]}"; do
                    for c in "${CONNS[@]}"; do
                        kk=$(key "$t" "$shape" "$k" "$c")
                        [ -z "${RES_OF[$kk]:-}" ] || fmt_ingest_row "$kk" "$t" "$shape" "$k" "$c"
                    done
                done
                [ "$t" != alertmanager ] || break
            done
        done
        echo
        echo "Ratios are notifyd ÷ baseline at the same alerts per request and connections (nginx: same shape;"
        echo "Alertmanager: array shape, the only one its /api/v2/alerts takes). CPU% is the server process's"
        echo "utime+stime over the load; how busy its CPU was in total (all processes) and notifyd's details:"
        echo
        for t in notifyd notifyd+routing nginx alertmanager; do
            for kk in "${!RES_OF[@]}"; do
                [[ "$kk" == "$t|"* ]] || continue
                echo "- $kk: cpu$CPU_SERVER busy=${BUSY_OF[$kk]}% ${NOTE_OF[$kk]:-}"
            done | sort -t'|' -k3,3n -k4,4n
        done
        echo "- delivery sink during the notifyd loads: ${INGEST_SINK:-}"
        if [ "$ROUTING" = 1 ]; then
            echo
            echo "Routing set (--routing: 20 routers, 50 receivers, 10 tenants, 20 silences) against the"
            echo "plain config in the same run, alerts/s at 100 alerts per request:"
            echo
            for shape in "${SHAPES[@]}"; do
                for c in "${CONNS[@]}"; do
                    a=$(key notifyd "$shape" 100 "$c")
                    b=$(key notifyd+routing "$shape" 100 "$c")
                    [ -n "${RES_OF[$a]:-}" ] && [ -n "${RES_OF[$b]:-}" ] || continue
                    echo "- $shape c$c: plain $(kv "${RES_OF[$a]}" alerts_per_s), routing $(kv "${RES_OF[$b]}" alerts_per_s), ratio $(ratio "$(kv "${RES_OF[$b]}" alerts_per_s)" "$(kv "${RES_OF[$a]}" alerts_per_s)")"
                done
            done
        fi
    fi
    if want memory; then
        echo
        echo "## Memory (RSS per queued alert; Alertmanager: per active alert)"
        echo
        echo "| target          |    queued | RSS0 MiB |  RSS MiB | peak MiB | B/alert |   ÷AM | notes |"
        echo "|-----------------|----------:|---------:|---------:|---------:|--------:|------:|-------|"
        printf '%s\n' "${MEM_ROWS[@]}"
        echo
        echo "B/alert = (VmRSS after - VmRSS of the idle process) / alerts held. notifyd, one daemon per state:"
        echo "grouped = notifications of ~5 alerts waiting for a retry (receiver with no listener, max_wait"
        echo "$FILL_MAX_WAIT); single = one-alert notifications (every alert its own group, max_wait 1s) waiting"
        echo "for a retry; batcher = all in the open batch (max_size 1000000, 100 alerts less than the level);"
        echo "queued = one-alert notifications waiting for a slot behind a receiver that never answers (8 in"
        echo "flight). Alertmanager behind a null receiver."
    fi
    if want e2e; then
        echo
        echo "## End to end ($E2E_ALERTS alerts in $E2E_GROUPS groups -> webhook -> bench sink)"
        echo
        echo "| target   | accepted | groups |  push s | all in s | notifications | notif/s | alerts/s | distinct | dups | lost | check | failed |"
        echo "|----------|---------:|-------:|--------:|---------:|--------------:|--------:|---------:|---------:|-----:|-----:|------:|-------:|"
        echo "$E2E_ROW"
        echo
        echo "all in s: from the first POST to the sink's last alert; notifications = webhook requests the sink"
        echo "received; distinct / dups: alert fingerprints the sink saw once / again; lost = accepted - distinct;"
        echo "check: PASS when every accepted alert arrived exactly once. $E2E_NOTE"
    fi
    if want overload; then
        echo
        echo "## Overload"
        echo
        echo "| target   | queue max | offered | accepted |      503 | offered ÷ accepted | p50 ms | p99 ms | RSS growth MiB | delivered | dups | lost | check |"
        echo "|----------|----------:|----------:|---------:|---------:|-------------------:|-------:|-------:|---------------:|----------:|-----:|-----:|------:|"
        echo "$OVL_ROW"
        echo
        echo "offered = alerts in all requests sent; p50/p99 over all answers (nearly all are 503 once the queue"
        echo "is full); RSS growth = last sample - the one after the first second; check: PASS when the sink"
        echo "got every accepted alert exactly once, 503s happened and offered >= 10 x accepted. $OVL_NOTE"
    fi
    if want wal; then
        echo
        echo "## Write-ahead log (100 alerts per request, $WAL_CONNS connections, ${DURATION} s per load, $WAL_ROUNDS rounds)"
        echo
        echo "| fsync  | round |     req/s |   alerts/s |  p50 ms |  p99 ms | non200 | CPU% |   fsyncs | WAL bytes    |"
        echo "|--------|------:|----------:|-----------:|--------:|--------:|-------:|-----:|---------:|-------------:|"
        printf '%s\n' "${WAL_ROWS[@]}"
        echo
        mm=$(calc 'printf "%.0f", s / n' s="${WAL_SUM[memory]:-0}" n="${WAL_CNT[memory]:-0}")
        mb=$(calc 'printf "%.0f", s / n' s="${WAL_SUM[batch]:-0}" n="${WAL_CNT[batch]:-0}")
        ma=$(calc 'printf "%.0f", s / n' s="${WAL_SUM[always]:-0}" n="${WAL_CNT[always]:-0}")
        echo "mean alerts/s: memory $mm, batch $mb ($(ratio "$mb" "$mm") x memory), always $ma ($(ratio "$ma" "$mm") x memory)."
        echo "memory = no wal_dir; the logs in ${WAL_DIR_BASE:-the temporary directory} (the kind of file system"
        echo "decides what fsync costs). fsyncs = notifyd_wal_fsyncs_total at the end of the load."
    fi
    for n in "${BASE_NOTES[@]+"${BASE_NOTES[@]}"}"; do echo; echo "$n"; done
} >"$TMP/report.md"
cat "$TMP/report.md"
[ -z "$OUT" ] || cp "$TMP/report.md" "$OUT"
if [ "$STRICT" = 1 ] && [ "$OK_ALL" = 0 ]; then
    log "a check failed (--strict)"
    exit 1
fi
exit 0
