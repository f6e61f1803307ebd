#!/bin/bash
# run.sh - end-to-end delivery drain rate (see docs/delivery.md, Performance).
#   bench/e2e_deliver/run.sh NOTIFYD [ALERTS] [GROUPS] [MAX_IN_FLIGHT] [PERF]
# Preloads a backlog: the sink is SIGSTOPped while ALERTS alerts in GROUPS
# groups are pushed (consecutive alerts share a group, so each 100-alert batch
# makes 100*GROUPS/ALERTS notifications), then SIGCONT and time the drain to
# bench-sink. notifyd on CPU 0, sink on CPU 1. Prints notifications/s at the
# sink and notifyd's CPU seconds during the drain.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
D=$1; N=${2:-100000}; G=${3:-10000}; MIF=${4:-8}; PERF=${5:-}
TMP=$(mktemp -d /tmp/e2e-deliver.XXXXXX)
cc -O2 -D_GNU_SOURCE "$HERE/../sink/sink.c" $(pkg-config --cflags --libs libevent) -o "$TMP/sink"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
taskset -c 1 "$TMP/sink" -t 600 >"$TMP/sink.out" &
PIDS+=($!)
for _ in $(seq 100); do grep -q port= "$TMP/sink.out" 2>/dev/null && break; sleep 0.05; done
SP=$(sed -n 's/^port=//p' "$TMP/sink.out"); SINKPID=${PIDS[0]}
NP=$("$TMP/sink" --free-port)
cat >"$TMP/n.ini" <<EOI
[server]
listen = 127.0.0.1:$NP
log_level = warn
[queue]
max_alerts = 10000000
max_bytes = 4GiB
[batch]
max_size = 100
max_wait = 1s
group_labels = alertname, namespace
[delivery]
timeout = 120s
max_in_flight = $MIF
[receiver.sink]
type = webhook
url = http://127.0.0.1:$SP/hook
EOI
taskset -c 0 ${WRAP:-} "$D" -c "$TMP/n.ini" 2>"$TMP/n.err" &
DP=$!; PIDS+=($DP)
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$NP/metrics" >/dev/null && break; sleep 0.05; done
kill -STOP $SINKPID
t0=$(date +%s.%N)
taskset -c 1 python3 "$HERE/push.py" "$NP" "$N" "$G" 100
echo "push took $(echo "$(date +%s.%N) - $t0" | bc) s"
count() { curl -s "http://127.0.0.1:$SP/__sink/count" | awk '/requests/ {print $2}'; }
sleep 1.5 # the last batch's max_wait
ts=$(date +%s.%N); kill -CONT $SINKPID; c0=$(awk '{print $14+$15}' /proc/$DP/stat)
if [ -n "${STRACE:-}" ]; then strace -f -c -p $DP -o "$STRACE" & PIDS+=($!); SP2=$!; fi
if [ -n "$PERF" ]; then perf record -F 2000 -g -p $DP -o "$PERF" 2>/dev/null & PIDS+=($!); PP=$!; fi
for _ in $(seq 1200); do [ "$(count)" -ge "$G" ] && break; sleep 0.02; done
te=$(date +%s.%N); c1=$(awk '{print $14+$15}' /proc/$DP/stat)
[ -n "$PERF" ] && { kill -INT $PP; wait $PP || true; }
[ -n "${STRACE:-}" ] && { kill -INT $SP2; wait $SP2 || true; }
sleep 1
final=$(count)
dt=$(echo "$te - $ts" | bc)
echo "notifications=$final expected=$G drain_s=$dt rate=$(echo "$G / $dt" | bc) cpu_s=$(echo "($c1 - $c0)/100" | bc -l | cut -c1-5)"
curl -s "http://127.0.0.1:$NP/metrics" | grep -E 'notifications_(delivered|failed|retried)|^notifyd_.*delivered' | head -5
rm -rf "$TMP"
