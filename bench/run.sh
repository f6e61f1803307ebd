#!/usr/bin/env bash
# run.sh - notifyd's benchmark in one command (see bench/README.md).
#
# Measures, on loopback only, with notifyd pinned to one CPU and wrk to another:
#   1. ingest: alerts/s, p50/p99, non-200s, daemon CPU and peak RSS, with 1 alert
#      per request (16 connections) and 100 per request (64 connections);
#   2. memory: bytes of RSS per queued alert, after posting --fill alerts that
#      cannot leave (receiver down, long max_wait);
#   3. baselines: the same wrk loads against nginx `return 200` and against the
#      bench sink, each pinned like notifyd, for a ratio.
# Installs nothing. Every process it starts is bounded in time and stopped by PID.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

DURATION=10
SMOKE=0
DAEMON=""
STANDIN=0
FILL=100000
BUILD_DIR="$ROOT/build-bench"
OUT=""
BASELINE=1
SHAPE=am
CPU_SERVER=0
CPU_CLIENT=1
KEEP=0
# scenarios: alerts per request : connections
SCENARIOS=("1:16" "100:64")

usage() {
    cat <<EOF
usage: bench/run.sh [options]
  --smoke            ~2 s per load, 2000 alerts for the memory figure (for CI)
  --duration S       seconds per wrk load (default $DURATION)
  --fill N           alerts posted for the bytes-per-alert figure (default $FILL)
  --shape am|array   payload shape (default $SHAPE)
  --daemon PATH      benchmark this binary instead of building BUILD_DIR/notifyd
  --standin          benchmark bench/standin (a fake daemon: tests this script only)
  --build-dir DIR    meson build dir for the daemon and the bench tools
                     (default build-bench, set up with --buildtype=release)
  --no-baseline      skip the nginx and sink baselines
  --cpus S,C         CPU for the server under test, CPU for wrk (default 0,1)
  --out FILE         also write the result table (markdown) to FILE
  --keep             keep the temporary directory (configs, logs, wrk output)
EOF
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --smoke) SMOKE=1 ;;
    --duration) DURATION=${2:?}; shift ;;
    --fill) FILL=${2:?}; shift ;;
    --shape) SHAPE=${2:?}; shift ;;
    --daemon) DAEMON=${2:?}; shift ;;
    --standin) STANDIN=1 ;;
    --build-dir) BUILD_DIR=${2:?}; shift ;;
    --no-baseline) BASELINE=0 ;;
    --cpus) CPU_SERVER=${2%%,*}; CPU_CLIENT=${2##*,}; shift ;;
    --out) OUT=${2:?}; shift ;;
    --keep) KEEP=1 ;;
    -h | --help) usage ;;
    *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
    shift
done
if [ "$SMOKE" = 1 ]; then
    DURATION=2
    FILL=2000
fi
case "$SHAPE" in am | array) ;; *) echo "run.sh: --shape am|array" >&2; exit 2 ;; esac
[[ "$DURATION" =~ ^[0-9]+$ && "$DURATION" -ge 1 ]] || { echo "run.sh: bad --duration" >&2; exit 2; }
[[ "$FILL" =~ ^[0-9]+$ && "$FILL" -ge 100 ]] || { echo "run.sh: --fill must be >= 100" >&2; exit 2; }

# The memory figure needs alerts that stay: the receiver's port has no listener,
# batches wait long and the first retry comes late. Overridable from the
# environment in case the daemon's limits on these keys change.
FILL_MAX_WAIT=${BENCH_FILL_MAX_WAIT:-10m}
FILL_DELIVERY=${BENCH_FILL_DELIVERY:-"retry_max_attempts = 100
retry_max_age = 1h
retry_initial = 60s
retry_max = 60s"}

# Drains and start-ups are waited for, never longer than these.
START_TIMEOUT=10
DRAIN_TIMEOUT=$((SMOKE ? 10 : 60))
FILL_TIMEOUT=$((SMOKE ? 30 : 180))

log() { printf '%s\n' "run.sh: $*" >&2; }
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

TMP=$(mktemp -d /tmp/notifyd-bench.XXXXXX)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do stop_pid "$p"; done
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

free_port() { "$SINK" --free-port; }

# wait_http URL SECONDS: until URL answers at all
wait_http() {
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        curl -s -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    return 1
}

# start_sink CPU LOG: sets SINK_PID and STARTED_PORT (not a $(...): the PID must
# reach this shell to be stopped)
start_sink() {
    taskset -c "$1" "$SINK" -t 3600 >"$2" 2>"$2.err" &
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

# write_config FILE PORT URL MAX_WAIT EXTRA_DELIVERY_LINES
write_config() {
    cat >"$1" <<EOF
[server]
listen = 127.0.0.1:$2
log_level = warn

[queue]
max_alerts = 10000000
max_bytes = 4GiB

[batch]
max_size = 100
max_wait = $4
group_labels = alertname, namespace

[delivery]
timeout = 5s
max_in_flight = 8
$5

[receiver.sink]
type = webhook
url = $3
EOF
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
# metric PORT NAME: the sum over all label sets of NAME, or "?" if absent
metric() {
    curl -s --max-time 2 "http://127.0.0.1:$1/metrics" |
        awk -v n="$2" '
            $1 == n || index($1, n "{") == 1 { s += $NF; found = 1 }
            END { if (found) printf "%.0f\n", s; else print "?" }'
}
kv() { # LINE KEY
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# wait_drain PORT: until notifyd_queue_alerts is 0; prints the seconds waited
wait_drain() {
    local start=$SECONDS q
    while [ $((SECONDS - start)) -lt "$DRAIN_TIMEOUT" ]; do
        q=$(metric "$1" notifyd_queue_alerts)
        [ "$q" = 0 ] && { echo $((SECONDS - start)); return 0; }
        sleep 0.2
    done
    echo "timeout(q=$q)"
}

# run_wrk NAME URL K CONNS [ENV...]: prints the BENCH_RESULT line
run_wrk() {
    local name=$1 url=$2 k=$3 conns=$4
    shift 4
    env SHAPE="$SHAPE" K="$k" LABEL="$name" "$@" \
        taskset -c "$CPU_CLIENT" wrk -t1 -c"$conns" -d"${DURATION}s" --timeout 5s \
        -s "$HERE/alerts.lua" "$url" >"$TMP/wrk-$name.txt" 2>&1 || true
    local line
    line=$(grep '^BENCH_RESULT ' "$TMP/wrk-$name.txt" || true)
    [ -n "$line" ] || { cat "$TMP/wrk-$name.txt" >&2; die "wrk gave no result for $name"; }
    echo "$line"
}

ROWS=()
# add_row TARGET K CONNS RESULT CPU_S CPU_PCT HWM_MIB NOTE
add_row() {
    local r=$4
    ROWS+=("$(printf '| %-8s | %-5s | %4s | %5s | %9s | %10s | %7s | %7s | %6s | %5s | %6s | %5s | %7s | %s |' \
        "$1" "$SHAPE" "$2" "$3" "$(kv "$r" req_per_s)" "$(kv "$r" alerts_per_s)" \
        "$(kv "$r" p50_ms)" "$(kv "$r" p99_ms)" "$(kv "$r" non200)" "$(kv "$r" status503)" \
        "$5" "$6" "$7" "$8")")
}

# ------------------------------------------------------------ 1. ingest

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "daemon: $DAEMON_NAME; server on CPU $CPU_SERVER, wrk on CPU $CPU_CLIENT; ${DURATION}s per load"
start_sink "$CPU_CLIENT" "$TMP/sink.out"
SINK_PORT=$STARTED_PORT

declare -A REQ_PER_S
for sc in "${SCENARIOS[@]}"; do
    k=${sc%%:*}
    conns=${sc##*:}
    name="notifyd-k$k"
    port=$(free_port)
    write_config "$TMP/$name.ini" "$port" "http://127.0.0.1:$SINK_PORT/hook" 1s ""
    start_daemon "$TMP/$name.ini" "$port" "$name"
    t0=$(cpu_ticks "$DAEMON_PID")
    b0=$(cpu_busy "$CPU_SERVER")
    res=$(run_wrk "$name" "http://127.0.0.1:$port/api/v2/alerts" "$k" "$conns")
    b1=$(cpu_busy "$CPU_SERVER")
    t1=$(cpu_ticks "$DAEMON_PID")
    hwm_kb=$(status_kb "$DAEMON_PID" VmHWM)
    drained=$(wait_drain "$port")
    t2=$(cpu_ticks "$DAEMON_PID")
    accepted=$(metric "$port" notifyd_alerts_accepted_total)
    delivered=$(metric "$port" notifyd_notifications_delivered_total)
    stop_pid "$DAEMON_PID"
    forget_pid "$DAEMON_PID"
    secs=$(kv "$res" duration_s)
    cpu_s=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
    cpu_pct=$(awk -v c="$cpu_s" -v d="$secs" 'BEGIN { printf "%.0f", 100 * c / d }')
    hwm=$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')
    REQ_PER_S[notifyd-$k]=$(kv "$res" req_per_s)
    us_per_alert=$(awk -v c="$cpu_s" -v a="$accepted" 'BEGIN { if (a > 0) printf "%.2f", c * 1e6 / a; else print "?" }')
    # load + drain: the delivery work that lagged behind the load is included
    us_total=$(awk -v t=$((t2 - t0)) -v hz="$CLK_TCK" -v a="$accepted" \
        'BEGIN { if (a > 0) printf "%.2f", t / hz * 1e6 / a; else print "?" }')
    add_row notifyd "$k" "$conns" "$res" "$cpu_s" "$cpu_pct" "$hwm" \
        "cpu$CPU_SERVER busy=$(busy_pct "$b0" "$b1")% accepted=$accepted cpu_us/alert=$us_per_alert (with drain $us_total) delivered=$delivered drain_s=$drained"
    log "$name: $res"
    if [ "$accepted" = 0 ] || [ "$accepted" = "?" ]; then
        log "warning: $name accepted no alerts (see $TMP/wrk-$name.txt, $TMP/$name.err)"
    fi
done
sink_count=$(curl -s --max-time 2 "http://127.0.0.1:$SINK_PORT/__sink/count" | tr '\n' ' ')

# ------------------------------------------------------------ 2. memory

port=$(free_port)
dead_port=$(free_port) # nothing listens there: every delivery is refused
write_config "$TMP/fill.ini" "$port" "http://127.0.0.1:$dead_port/hook" "$FILL_MAX_WAIT" \
    "$FILL_DELIVERY"
start_daemon "$TMP/fill.ini" "$port" fill
metric "$port" notifyd_queue_alerts >/dev/null
sleep 0.5
rss0=$(status_kb "$DAEMON_PID" VmRSS)
fill_res=$(env SHAPE="$SHAPE" K=100 TOTAL="$FILL" LABEL=fill \
    taskset -c "$CPU_CLIENT" wrk -t1 -c1 -d"${FILL_TIMEOUT}s" --timeout 10s \
    -s "$HERE/alerts.lua" "http://127.0.0.1:$port/api/v2/alerts" 2>&1 | grep '^BENCH_RESULT ' || true)
sleep 1 # let the batches close and the first (refused) attempts happen
queued=$(metric "$port" notifyd_queue_alerts)
qbytes=$(metric "$port" notifyd_queue_bytes)
rss1=$(status_kb "$DAEMON_PID" VmRSS)
fill_hwm=$(status_kb "$DAEMON_PID" VmHWM)
stop_pid "$DAEMON_PID"
forget_pid "$DAEMON_PID"
if [[ "$queued" =~ ^[0-9]+$ ]] && [ "$queued" -gt 0 ]; then
    per_alert=$(awk -v a="$rss0" -v b="$rss1" -v q="$queued" 'BEGIN { printf "%.0f", (b - a) * 1024 / q }')
    if [[ "$qbytes" =~ ^[0-9]+$ ]]; then
        acct=$(awk -v b="$qbytes" -v q="$queued" 'BEGIN { printf "%.0f", b / q }')
    else
        acct="?"
    fi
else
    per_alert="not measured (queued=$queued)"
    acct="?"
fi
MEM_LINE="bytes per queued alert: $per_alert (RSS $((rss0 / 1024)) MiB -> $((rss1 / 1024)) MiB, peak $((fill_hwm / 1024)) MiB, queued=$queued of $FILL posted; daemon's own queue_bytes/alert=$acct; JSON bytes/alert=$(kv "$fill_res" body_bytes_per_alert); posts ok=$(kv "$fill_res" ok) non200=$(kv "$fill_res" non200))"
log "$MEM_LINE"

# ---------------------------------------------------------- 3. baselines

BASE_NOTE=""
if [ "$BASELINE" = 1 ]; then
    # the bench sink pinned where notifyd was: the delivery target's capacity
    start_sink "$CPU_SERVER" "$TMP/sink-base.out"
    bs_port=$STARTED_PORT
    base_sink_pid=$SINK_PID
    for sc in "${SCENARIOS[@]}"; do
        k=${sc%%:*}
        conns=${sc##*:}
        t0=$(cpu_ticks "$base_sink_pid")
        b0=$(cpu_busy "$CPU_SERVER")
        res=$(run_wrk "sink-k$k" "http://127.0.0.1:$bs_port/api/v2/alerts" "$k" "$conns")
        b1=$(cpu_busy "$CPU_SERVER")
        t1=$(cpu_ticks "$base_sink_pid")
        cpu_s=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
        cpu_pct=$(awk -v c="$cpu_s" -v d="$(kv "$res" duration_s)" 'BEGIN { printf "%.0f", 100 * c / d }')
        add_row sink "$k" "$conns" "$res" "$cpu_s" "$cpu_pct" \
            "$(awk -v k="$(status_kb "$base_sink_pid" VmHWM)" 'BEGIN { printf "%.1f", k / 1024 }')" \
            "cpu$CPU_SERVER busy=$(busy_pct "$b0" "$b1")%"
    done
    stop_pid "$base_sink_pid"
    forget_pid "$base_sink_pid"

    if [ -n "$NGINX" ]; then
        ng_port=$(free_port)
        mkdir -p "$TMP/nginx"
        # One process (no master) so pinning covers all of nginx's work.
        cat >"$TMP/nginx/nginx.conf" <<EOF
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
        listen 127.0.0.1:$ng_port;
        location / { return 200; }
    }
}
EOF
        taskset -c "$CPU_SERVER" "$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/error.log" \
            -c "$TMP/nginx/nginx.conf" >"$TMP/nginx/out" 2>&1 &
        ng_pid=$!
        PIDS+=("$ng_pid")
        wait_http "http://127.0.0.1:$ng_port/" "$START_TIMEOUT" || die "nginx did not start"
        for sc in "${SCENARIOS[@]}"; do
            k=${sc%%:*}
            conns=${sc##*:}
            t0=$(cpu_ticks "$ng_pid")
            b0=$(cpu_busy "$CPU_SERVER")
            res=$(run_wrk "nginx-k$k" "http://127.0.0.1:$ng_port/api/v2/alerts" "$k" "$conns")
            b1=$(cpu_busy "$CPU_SERVER")
            t1=$(cpu_ticks "$ng_pid")
            cpu_s=$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", t / hz }')
            cpu_pct=$(awk -v c="$cpu_s" -v d="$(kv "$res" duration_s)" 'BEGIN { printf "%.0f", 100 * c / d }')
            ratio=$(awk -v a="${REQ_PER_S[notifyd-$k]:-0}" -v b="$(kv "$res" req_per_s)" \
                'BEGIN { if (b > 0) printf "notifyd/nginx=%.2f", a / b }')
            add_row nginx "$k" "$conns" "$res" "$cpu_s" "$cpu_pct" \
                "$(awk -v k="$(status_kb "$ng_pid" VmHWM)" 'BEGIN { printf "%.1f", k / 1024 }')" \
                "cpu$CPU_SERVER busy=$(busy_pct "$b0" "$b1")% $ratio"
        done
        stop_pid "$ng_pid"
        forget_pid "$ng_pid"
    else
        BASE_NOTE="nginx not installed: nginx baseline skipped (apt-get install nginx-light)"
    fi
fi

# ---------------------------------------------------------------- report

{
    echo "# notifyd bench $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "machine: $NCPU CPU, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
    echo "load average (1/5/15 min) at start: $LOAD_START, at end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews figures)"
    echo "daemon: $DAEMON_NAME; shape=$SHAPE; ${DURATION}s per load; server on CPU $CPU_SERVER, wrk (1 thread) on CPU $CPU_CLIENT; delivery sink on CPU $CPU_CLIENT"
    echo
    echo "| target   | shape | a/rq | conns |     req/s |   alerts/s |  p50 ms |  p99 ms | non200 |   503 |  CPU s |  CPU% | peak MiB | notes |"
    echo "|----------|-------|------|-------|-----------|------------|---------|---------|--------|-------|--------|-------|----------|-------|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "$MEM_LINE"
    echo "delivery sink during the notifyd loads: $sink_count"
    [ -z "$BASE_NOTE" ] || echo "$BASE_NOTE"
} >"$TMP/report.md"
cat "$TMP/report.md"
[ -z "$OUT" ] || cp "$TMP/report.md" "$OUT"
