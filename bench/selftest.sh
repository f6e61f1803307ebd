#!/usr/bin/env bash
# selftest.sh - tests of the benchmark tools themselves (not of notifyd):
#   1. alerts.lua builds valid JSON of the right shape and size (needs python3,
#      skipped without it);
#   2. fill mode posts exactly TOTAL alerts, then ends wrk early (also when the
#      bodies are built lazily); NGROUPS gives exactly that many group keys;
#      UNIQUE never repeats an alert;
#   3. the sink counts alerts, distinct and duplicate fingerprints, pauses (503,
#      not counted), resumes and resets; the stand-in delivers to it and retries;
#   4. run.sh --smoke --standin runs every mode end to end and prints every
#      figure; its e2e check fails when the stand-in loses alerts; bad options.
# Runs in ~2 min on loopback (--quick: ~1 min, without the nginx and Alertmanager
# baselines in step 4, for CI); prints TAP and a closing "N passed, N failed".
set -uo pipefail

QUICK=0
[ "${1:-}" = --quick ] && QUICK=1

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$(mktemp -d /tmp/notifyd-bench-selftest.XXXXXX)
BUILD="$WORK/build"
PASS=0
FAIL=0
SKIP=0
N=0
STANDIN_PID=""
SINK_PID=""
STANDIN2_PID=""

cleanup() {
    local p
    for p in "$STANDIN_PID" "$SINK_PID" "$STANDIN2_PID"; do
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
            kill -TERM "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
    done
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

mkdir -p "$BUILD/bench" "$WORK/tmp"
# run.sh's temporary directories (and so its Alertmanagers' paths) go under here
export TMPDIR="$WORK/tmp"
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

# NGROUPS: exactly N (alertname, namespace) pairs among N*10 alerts
if command -v python3 >/dev/null; then
    rm -f "$WORK/groups.json"
    DUMP="$WORK/groups.json" NGROUPS=100 K=1000 TOTAL=1000 LABEL=groups \
        timeout 20 wrk -t1 -c1 -d10s -s "$HERE/alerts.lua" "$URL" >/dev/null 2>&1
    python3 - "$WORK/groups.json" <<'EOF'
import json, sys
alerts = json.load(open(sys.argv[1]))["alerts"]
keys = {(a["labels"]["alertname"], a["labels"]["namespace"]) for a in alerts}
assert len(alerts) == 1000 and len(keys) == 100, (len(alerts), len(keys))
EOF
    ok $? "NGROUPS=100 gives exactly 100 alertname x namespace keys"
else
    skip "NGROUPS=100 gives exactly 100 alertname x namespace keys" "no python3"
fi

# 3. the sink
"$BUILD/bench/bench-sink" -t 600 >"$WORK/sink.out" 2>"$WORK/sink.err" &
SINK_PID=$!
SPORT=""
for _ in $(seq 100); do
    SPORT=$(sed -n 's/^port=//p' "$WORK/sink.out")
    [ -n "$SPORT" ] && break
    sleep 0.05
done
[ -n "$SPORT" ]
ok $? "sink prints its port"
SURL="http://127.0.0.1:$SPORT"
sinkv() { curl -s "$SURL/__sink/count" | awk -v k="$1" '$1 == k { print $2 }'; }
post() { curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "$1" "$SURL/hook"; }
code1=$(post '{"alerts":[{"fingerprint":"aa"},{"fingerprint":"bb"}]}')
code2=$(post '{"alerts":[{"fingerprint":"bb"},{"fingerprint":"cc"}],"x":"fingerprint"}')
[ "$code1$code2" = 200200 ] && [ "$(sinkv requests)" = 2 ] && [ "$(sinkv alerts)" = 4 ] &&
    [ "$(sinkv distinct)" = 3 ] && [ "$(sinkv duplicates)" = 1 ] && [ "$(sinkv last_ms)" -gt 0 ]
ok $? "sink counts 4 alerts, 3 distinct, 1 duplicate"
curl -s "$SURL/__sink/pause" >/dev/null
code3=$(post '{"alerts":[{"fingerprint":"dd"}]}')
[ "$code3" = 503 ] && [ "$(sinkv alerts)" = 4 ] && [ "$(sinkv paused)" = 1 ]
ok $? "paused sink answers 503 and counts nothing"
curl -s "$SURL/__sink/resume" >/dev/null
code4=$(post '{"alerts":[{"fingerprint":"dd"}]}')
[ "$code4" = 200 ] && [ "$(sinkv distinct)" = 4 ]
ok $? "resumed sink counts again"
curl -s "$SURL/__sink/reset" >/dev/null
[ "$(sinkv alerts)" = 0 ] && [ "$(sinkv distinct)" = 0 ] && [ "$(sinkv requests)" = 0 ]
r1=$?
code5=$(post '{"alerts":[{"fingerprint":"aa"}]}')
[ "$r1" = 0 ] && [ "$code5" = 200 ] && [ "$(sinkv distinct)" = 1 ] && [ "$(sinkv duplicates)" = 0 ]
ok $? "reset sink forgets counters and fingerprints"

# lazily built fill bodies and UNIQUE, checked at the sink
curl -s "$SURL/__sink/reset" >/dev/null
LAZY_FILL=1 TOTAL=1000 K=100 LABEL=lazy timeout 90 wrk -t1 -c1 -d60s -s "$HERE/alerts.lua" \
    "$SURL/hook" >/dev/null 2>&1
[ "$(sinkv alerts)" = 1000 ] && [ "$(sinkv distinct)" = 1000 ]
ok $? "lazily built fill: exactly 1000 distinct alerts"
curl -s "$SURL/__sink/reset" >/dev/null
UNIQUE=1 K=10 POOL=2 LABEL=uniq timeout 20 wrk -t1 -c4 -d1s -s "$HERE/alerts.lua" "$SURL/hook" \
    >/dev/null 2>&1
n=$(sinkv alerts)
[ "$n" -gt 40 ] && [ "$(sinkv duplicates)" = 0 ] && [ "$(sinkv distinct)" = "$n" ]
ok $? "UNIQUE=1 never repeats an alert ($n sent, pool of 2 bodies)"

# the stand-in delivers held bodies to its receiver and retries while the sink is paused
curl -s "$SURL/__sink/reset" >/dev/null
curl -s "$SURL/__sink/pause" >/dev/null
printf '[server]\nlisten = 127.0.0.1:0\n[batch]\nmax_wait = 100ms\n[receiver.s]\nurl = %s/hook\n' \
    "$SURL" >"$WORK/standin2.ini"
"$BUILD/bench/bench-standin" -c "$WORK/standin2.ini" 2>"$WORK/standin2.err" &
STANDIN2_PID=$!
P2=""
for _ in $(seq 100); do
    P2=$(sed -n 's/.*msg=listening addr=127\.0\.0\.1://p' "$WORK/standin2.err")
    [ -n "$P2" ] && break
    sleep 0.05
done
TOTAL=300 K=100 LABEL=deliver timeout 90 wrk -t1 -c1 -d60s -s "$HERE/alerts.lua" \
    "http://127.0.0.1:$P2/api/v2/alerts" >/dev/null 2>&1
sleep 0.5
held=$(curl -s "http://127.0.0.1:$P2/metrics" | awk '$1 == "notifyd_queue_alerts" { print $2 }')
[ "$(sinkv alerts)" = 0 ] && [ "$held" = 300 ]
ok $? "stand-in holds what a paused sink refuses (held=$held)"
curl -s "$SURL/__sink/resume" >/dev/null
for _ in $(seq 50); do
    [ "$(sinkv distinct)" = 300 ] && break
    sleep 0.1
done
[ "$(sinkv distinct)" = 300 ] && [ "$(sinkv duplicates)" = 0 ]
ok $? "stand-in delivers all 300 once the sink resumes"

# 4. the whole run, against the stand-in
base_opt=()
[ "$QUICK" = 0 ] || base_opt=(--no-baseline)
timeout 300 "$HERE/run.sh" --standin --smoke --strict "${base_opt[@]+"${base_opt[@]}"}" \
    --build-dir "$BUILD" --out "$WORK/report.md" \
    >"$WORK/run.out" 2>"$WORK/run.err"
ok $? "run.sh --standin --smoke --strict exits 0"
R="$WORK/report.md"
rows=$(grep -cE '^\| notifyd +\| am +\| +(1|10|100) \| +(16|64) \| +[0-9.]+ \| +[0-9.]+ \|' "$R" 2>/dev/null)
[ "$rows" = 6 ]
ok $? "report has the six notifyd ingest rows with figures (got $rows)"
grep -qE '^\| notifyd +\| am +\| +1 \| +16 \|( +[0-9.]+ \|){4} +0 \| +[0-9]+ \| +[0-9.]+ \|' "$R"
ok $? "ingest rows carry p50, p99, non-200, CPU and peak RSS"
if [ "$QUICK" = 1 ]; then
    skip "nginx baseline rows present, ratios to nginx filled" "--quick"
elif command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
    [ "$(grep -c '^| nginx ' "$R")" = 6 ] &&
        grep -qE '^\| notifyd +\| am +\| +100 \| +64 \|.*\| +[0-9.e+-]+ \| +[^|]* \| +[0-9.e+-]+ \| +[^|]* \|$' "$R"
    ok $? "nginx baseline rows present, ratios to nginx filled"
else
    skip "nginx baseline rows present, ratios to nginx filled" "nginx not installed"
fi
if [ "$QUICK" = 1 ]; then
    skip "Alertmanager ingest and memory rows present, every ratio filled" "--quick"
elif command -v prometheus-alertmanager >/dev/null; then
    [ "$(grep -c '^| alertmanager | array ' "$R")" = 6 ] &&
        grep -qE '^\| notifyd +\| am +\| +10 \| +16 \|.*\|( +[0-9.e+-]+ \|){4}$' "$R" &&
        grep -qE '^\| alertmanager \| +2000 \| .*\| +[0-9]+ \| +\|' "$R" &&
        grep -qE '^\| notifyd +\| +2000 \| .*\| +[0-9]+ \| +[0-9.]+ \|' "$R"
    ok $? "Alertmanager ingest and memory rows present, every ratio filled"
else
    skip "Alertmanager ingest and memory rows present, every ratio filled" "no prometheus-alertmanager"
fi
grep -qE '^\| notifyd +\| +2000 \| +[0-9.]+ \| +[0-9.]+ \| +[0-9.]+ \| +[0-9]+ \|' "$R"
ok $? "bytes per queued alert measured over all 2000 alerts"
grep -qE '^\| notifyd +\| +2000 \| +200 \| .*\| +2000 \| +0 \| +0 \| +PASS \|' "$R"
ok $? "e2e: 2000 accepted, 2000 distinct at the sink, 0 duplicates, 0 lost, PASS"
grep -qE '^\| notifyd +\| +500 \| +[0-9]+ \| +500 \| +[1-9][0-9]* \| .*\| +500 \| +0 \| +0 \| +PASS \|' "$R" &&
    grep -qE '^got every .*RSS MiB each second of the load: [0-9.]+ [0-9.]+' "$R"
ok $? "overload: 503s, 500 accepted and delivered once, RSS sampled, PASS"

if [ "$QUICK" = 1 ]; then
    skip "--shape both --modes ingest: 12 notifyd rows and nothing else" "--quick"
else
    timeout 120 "$HERE/run.sh" --standin --smoke --no-baseline --shape both --modes ingest \
        --build-dir "$BUILD" --out "$WORK/both.md" >/dev/null 2>"$WORK/both.err"
    [ "$(grep -cE '^\| notifyd +\| (am|array) +\|' "$WORK/both.md" 2>/dev/null)" = 12 ] &&
        ! grep -q '^## Memory' "$WORK/both.md"
    ok $? "--shape both --modes ingest: 12 notifyd rows and nothing else"
fi

STANDIN_LOSE_EVERY=3 timeout 120 "$HERE/run.sh" --standin --smoke --no-baseline --modes e2e \
    --strict --build-dir "$BUILD" --out "$WORK/lose.md" >/dev/null 2>"$WORK/lose.err"
lose_rc=$?
[ "$lose_rc" = 1 ] && grep -qE '^\| notifyd .*\| +[1-9][0-9]* \| +FAIL \|' "$WORK/lose.md"
ok $? "e2e check FAILs and --strict exits 1 when a third of the bodies are lost (rc=$lose_rc)"

bad=0
for args in "--shape xml" "--modes ingest,bogus" "--fill 500,200" "--e2e-alerts 150"; do
    # shellcheck disable=SC2086
    timeout 20 "$HERE/run.sh" --standin $args >/dev/null 2>&1
    [ $? = 2 ] || { bad=1; echo "# $args was not rejected"; }
done
[ "$bad" = 0 ]
ok $? "run.sh rejects bad options with status 2"
leftover=$(pgrep -f "$BUILD/bench/bench-" | grep -vE "^($STANDIN_PID|$SINK_PID|$STANDIN2_PID)\$" || true)
leftover+=$(pgrep -f "$WORK/tmp/" || true)
[ -z "$leftover" ]
ok $? "run.sh left no process running"
[ "$FAIL" = 0 ] || { cat "$WORK/run.err" "$WORK/report.md" >&2 2>/dev/null; }

echo "1..$N"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
