#!/usr/bin/env bash
# selftest.sh - tests of the benchmark tools themselves (not of notifyd):
#   1. alerts.lua builds valid JSON of the right shape and size (needs python3,
#      skipped without it);
#   2. fill mode posts exactly TOTAL alerts, then ends wrk early;
#   3. run.sh --smoke --standin runs end to end and prints every figure.
# Runs in ~40 s on loopback; prints TAP and a closing "N passed, N failed".
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d /tmp/notifyd-bench-selftest.XXXXXX)
BUILD="$WORK/build"
PASS=0
FAIL=0
SKIP=0
N=0
STANDIN_PID=""

cleanup() {
    if [ -n "$STANDIN_PID" ] && kill -0 "$STANDIN_PID" 2>/dev/null; then
        kill -TERM "$STANDIN_PID" 2>/dev/null
        wait "$STANDIN_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

ok() { # COND-STATUS DESCRIPTION
    N=$((N + 1))
    if [ "$1" = 0 ]; then
        PASS=$((PASS + 1))
        echo "ok $N - $2"
    else
        FAIL=$((FAIL + 1))
        echo "not ok $N - $2"
    fi
}
skip() {
    N=$((N + 1))
    SKIP=$((SKIP + 1))
    echo "ok $N - $1 # SKIP $2"
}

mkdir -p "$BUILD/bench"
for t in sink standin; do
    # shellcheck disable=SC2046
    cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wno-unused-parameter -o "$BUILD/bench/bench-$t" \
        "$HERE/$t/$t.c" $(pkg-config --cflags --libs libevent_core libevent_extra)
    ok $? "bench-$t builds"
done

# a stand-in daemon that holds everything (max_wait 1h) for the exact-count checks
printf '[server]\nlisten = 127.0.0.1:0\n[batch]\nmax_wait = 1h\n' >"$WORK/standin.ini"
"$BUILD/bench/bench-standin" -c "$WORK/standin.ini" 2>"$WORK/standin.err" &
STANDIN_PID=$!
PORT=""
for _ in $(seq 100); do
    PORT=$(sed -n 's/.*msg=listening addr=127\.0\.0\.1://p' "$WORK/standin.err")
    [ -n "$PORT" ] && break
    sleep 0.05
done
[ -n "$PORT" ]
ok $? "stand-in logs its port"
URL="http://127.0.0.1:$PORT/api/v2/alerts"
queued() { curl -s "http://127.0.0.1:$PORT/metrics" | awk '$1 == "notifyd_queue_alerts" { print $2 }'; }

# 1. the JSON itself
for shape in am array; do
    for k in 1 7; do
        rm -f "$WORK/dump.json"
        DUMP="$WORK/dump.json" SHAPE=$shape K=$k POOL=4 LABEL="json-$shape-$k" \
            timeout 20 wrk -t1 -c1 -d1s -s "$HERE/alerts.lua" "$URL" >"$WORK/wrk.txt" 2>&1
        if ! command -v python3 >/dev/null; then
            skip "alerts.lua shape=$shape k=$k is valid JSON" "no python3"
            continue
        fi
        python3 - "$WORK/dump.json" "$shape" "$k" <<'EOF'
import json, sys
path, shape, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
raw = open(path, "rb").read()
doc = json.loads(raw)
alerts = doc["alerts"] if shape == "am" else doc
assert isinstance(doc, dict if shape == "am" else list), type(doc)
assert len(alerts) == k, len(alerts)
pods = set()
for a in alerts:
    assert len(a["labels"]) == 8, a["labels"]
    assert set(a["annotations"]) == {"summary", "description"}
    assert a["startsAt"].endswith("Z") and a["generatorURL"].startswith("http")
    pods.add(a["labels"]["pod"])
assert len(pods) == k, "label sets must be distinct"
per = len(raw) / k
assert 600 <= per <= 1100 or (k == 1 and per <= 1300), per
EOF
        ok $? "alerts.lua shape=$shape k=$k: valid JSON, $k distinct alerts, 8 labels, ~750 B each"
    done
done
grep -q '^BENCH_RESULT .*ok=[1-9]' "$WORK/wrk.txt"
ok $? "done() prints BENCH_RESULT with answered requests"

# 2. fill mode: exact count, and wrk ends long before its -d of 60 s
before=$(queued)
start=$SECONDS
TOTAL=1000 K=100 LABEL=fill timeout 90 wrk -t1 -c1 -d60s -s "$HERE/alerts.lua" "$URL" \
    >"$WORK/fill.txt" 2>&1
elapsed=$((SECONDS - start))
after=$(queued)
[ "$((after - before))" = 1000 ]
ok $? "fill mode posts exactly TOTAL=1000 alerts (got $((after - before)))"
[ "$elapsed" -lt 30 ]
ok $? "fill mode ends wrk early (${elapsed}s of -d60s)"
TOTAL=250 K=100 LABEL=fill2 timeout 90 wrk -t1 -c1 -d60s -s "$HERE/alerts.lua" "$URL" \
    >"$WORK/fill2.txt" 2>&1
after2=$(queued)
[ "$((after2 - after))" = 300 ]
ok $? "fill mode rounds TOTAL up to whole requests (250 -> $((after2 - after)))"

# 3. the whole run, against the stand-in
timeout 300 "$HERE/run.sh" --standin --smoke --build-dir "$BUILD" --out "$WORK/report.md" \
    >"$WORK/run.out" 2>"$WORK/run.err"
ok $? "run.sh --standin --smoke exits 0"
rows=$(grep -cE '^\| notifyd +\| am +\| +(1|100) \| +(16|64) \| +[0-9.]+ \| +[0-9.]+ \|' \
    "$WORK/report.md" 2>/dev/null)
[ "$rows" = 2 ]
ok $? "report has the two notifyd ingest rows with figures"
grep -qE '^\| notifyd .*\| +0 \| +0 \| +[0-9.]+ \| +[0-9]+ \| +[0-9.]+ \|' "$WORK/report.md"
ok $? "report rows carry non-200, 503, CPU and peak RSS"
grep -qE '^bytes per queued alert: [0-9]+ .*queued=2000 of 2000' "$WORK/report.md"
ok $? "bytes per queued alert measured over all 2000 alerts"
if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
    [ "$(grep -c '^| nginx ' "$WORK/report.md")" = 2 ]
    ok $? "nginx baseline rows present"
else
    skip "nginx baseline rows present" "nginx not installed"
fi
[ "$(grep -c '^| sink ' "$WORK/report.md")" = 2 ]
ok $? "sink baseline rows present"
leftover=$(pgrep -f "$BUILD/bench/bench-" | grep -v "^$STANDIN_PID\$" || true)
[ -z "$leftover" ]
ok $? "run.sh left no process running"
[ "$FAIL" = 0 ] || { cat "$WORK/run.err" "$WORK/report.md" >&2 2>/dev/null; }

echo "1..$N"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
