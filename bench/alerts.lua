-- alerts.lua - wrk script: POST realistic alerts to notifyd's /api/v2/alerts.
--
-- Environment:
--   SHAPE=am|array  am: an Alertmanager webhook payload {"version":"4",...,"alerts":[...]};
--                   array: a JSON array of Prometheus-style alerts (default am)
--   K=N             alerts per request (default 1)
--   POOL=N          bodies precomputed per wrk thread (default: enough for ~20000
--                   distinct alerts per thread, at least 16)
--   TOTAL=N         fill mode: post exactly ceil(TOTAL/K) distinct bodies per thread,
--                   then stop wrk (run with -t1 -c1: each body is sent after the
--                   previous one was answered)
--   NGROUPS=N       exactly N distinct (alertname, namespace) pairs once N alerts
--                   were sent: alert n gets g = n mod N, alertname number g mod 10
--                   and namespace team-(g div 10) (default: 10 alertnames x 20
--                   namespaces, correlated)
--   UNIQUE=1        every request carries alerts never sent before (built in
--                   request() from a counter instead of a repeating pool), so
--                   "accepted" can be compared with what a sink received
--   LABEL=STR       a tag mixed into every pod/instance name so two runs against one
--                   daemon do not collide (default: the current time)
--   DUMP=FILE       write the first body of thread 0 to FILE (for bench/selftest.sh)
--
-- Each alert has 8 labels (alertname, severity, namespace, pod, instance, job,
-- container, cluster), a summary and a description annotation and a generatorURL:
-- about 750 bytes of JSON. Pod and instance names come from a counter, so every
-- alert in the pool is a distinct label set; the pool repeats only after POOL
-- requests, which is what Alertmanager does too (it re-sends firing alerts).
--
-- Bodies are built in init(), so request() only hands out a prebuilt string
-- and Lua stays far below the server's cost.
--
-- done() prints one machine-readable line, parsed by run.sh:
--   BENCH_RESULT shape=.. k=.. requests=.. ok=.. non200=.. status503=.. ...

local shape = os.getenv("SHAPE") or "am"
local k = tonumber(os.getenv("K") or "1")
local total = tonumber(os.getenv("TOTAL") or "0")
local tag = os.getenv("LABEL") or tostring(os.time())
local pool_env = tonumber(os.getenv("POOL") or "0")
local ngroups = tonumber(os.getenv("NGROUPS") or "0")
local unique = os.getenv("UNIQUE") == "1"
-- Fill bodies are built when sent past this many alerts, to keep wrk small.
-- (LAZY_FILL in the environment changes it, for bench/selftest.sh.)
local LAZY_FILL = tonumber(os.getenv("LAZY_FILL") or "200000")

if shape ~= "am" and shape ~= "array" then
   error("SHAPE must be am or array, not " .. shape)
end
if not k or k < 1 then
   error("K must be a positive integer")
end

local alertnames = {
   "KubePodCrashLooping", "KubeContainerWaiting", "KubeDeploymentReplicasMismatch",
   "CPUThrottlingHigh", "KubeJobFailed", "NodeFilesystemSpaceFillingUp",
   "TargetDown", "KubeMemoryOvercommit", "KubePersistentVolumeFillingUp",
   "KubeHpaMaxedOut",
}
local severities = { "warning", "critical", "info" }
local deployments = {
   "api-gateway", "checkout", "payments", "inventory", "search-indexer",
   "notification-worker", "user-profile", "frontend",
}
local containers = { "app", "sidecar", "envoy", "metrics-exporter" }

-- ---------------------------------------------------------------- threads

local threads = {}
local next_id = 0

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

-- ------------------------------------------------------------- one alert

local function ts(t)
   return os.date("!%Y-%m-%dT%H:%M:%SZ", t)
end

local function alert_json(n, now)
   local an = alertnames[(n % #alertnames) + 1]
   local sev = severities[(n % #severities) + 1]
   local ns = string.format("team-%02d", n % 20)
   if ngroups > 0 then
      local g = n % ngroups
      an = alertnames[(g % 10) + 1]
      ns = string.format("team-%05d", math.floor(g / 10))
   end
   local dep = deployments[(n % #deployments) + 1]
   local pod = string.format("%s-%s-%08x", dep, tag, n)
   local inst = string.format("node-%06x.%s:9100", n, tag)
   local ctr = containers[(n % #containers) + 1]
   local labels = string.format(
      '{"alertname":"%s","severity":"%s","namespace":"%s","pod":"%s",' ..
      '"instance":"%s","job":"kube-state-metrics","container":"%s",' ..
      '"cluster":"bench-cluster-%d"}',
      an, sev, ns, pod, inst, ctr, n % 3)
   local ann = string.format(
      '{"summary":"%s on %s/%s","description":"Pod %s/%s (container %s) has been ' ..
      'degraded for more than 15 minutes; check recent deploys and limits. ' ..
      'Runbook: https://runbooks.example.com/%s"}',
      an, ns, pod, ns, pod, ctr, an)
   local gen = string.format(
      "http://prometheus-k8s-0.monitoring.svc:9090/graph?g0.expr=" ..
      "rate%%28kube_pod_container_status_restarts_total%%5B15m%%5D%%29+%%3E+0&g0.tab=1")
   if shape == "am" then
      return string.format(
         '{"status":"firing","labels":%s,"annotations":%s,"startsAt":"%s",' ..
         '"endsAt":"0001-01-01T00:00:00Z","generatorURL":"%s","fingerprint":"%016x"}',
         labels, ann, ts(now - 600), gen, n)
   end
   return string.format(
      '{"labels":%s,"annotations":%s,"startsAt":"%s","endsAt":"%s","generatorURL":"%s"}',
      labels, ann, ts(now - 600), ts(now + 3600), gen)
end

local function body_json(first_n, now)
   local parts = {}
   for i = 0, k - 1 do
      parts[#parts + 1] = alert_json(first_n + i, now)
   end
   local alerts = table.concat(parts, ",")
   if shape == "array" then
      return "[" .. alerts .. "]"
   end
   return '{"version":"4","groupKey":"{}:{alertname=\\"bench\\"}","truncatedAlerts":0,' ..
      '"status":"firing","receiver":"bench","groupLabels":{},"commonLabels":{},' ..
      '"commonAnnotations":{},"externalURL":"http://alertmanager:9093",' ..
      '"alerts":[' .. alerts .. ']}'
end

-- --------------------------------------------------- per-thread state

-- Counters read by done() through thread:get() must be globals of the thread.
local bodies = {}
local lazy = false
local lazy_i, lazy_body = -1, nil
local base_n, build_time = 0, 0
local seq = 0
local idx = 0
local answered = 0
local metrics_req = nil
npool = 0
pool_bytes = 0
ok = 0
non200 = 0
s503 = 0

function init(args)
   -- `id` was set by setup(); thread numbers keep label sets of threads apart.
   local tid = id or 0
   if total > 0 then
      npool = math.ceil(total / k)
   elseif pool_env > 0 then
      npool = pool_env
   else
      npool = math.max(16, math.ceil(20000 / k))
   end
   local now = os.time()
   local base = tid * 100000000
   local bytes = 0
   base_n, build_time = base, now
   lazy = (total > LAZY_FILL) or unique
   if unique and total == 0 then
      npool = 1
   end
   for i = 1, (lazy and 1 or npool) do
      local b = body_json(base + (i - 1) * k, now)
      bytes = bytes + #b
      bodies[i] = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, b)
   end
   pool_bytes = bytes
   if lazy then
      pool_bytes = bytes * npool
   end
   local dump = os.getenv("DUMP")
   if dump and tid == 0 then
      local f = assert(io.open(dump, "w"))
      f:write(body_json(base, now))
      f:close()
   end
   metrics_req = wrk.format("GET", "/metrics")
end

local function lazy_body_at(i)
   if lazy_i ~= i then
      lazy_i = i
      lazy_body = wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
         body_json(base_n + (i - 1) * k, build_time))
   end
   return lazy_body
end

function request()
   if unique and total == 0 then
      -- past the fill range of this thread, so a fill and a unique run can share a LABEL
      seq = seq + 1
      return wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
         body_json(base_n + 50000000 + seq * k, build_time))
   end
   if total > 0 then
      -- Fill mode runs one connection, so the next body is the one after the
      -- last answered. (wrk also calls request() once at setup to inspect it
      -- and throws the result away: a plain counter would skip a body.)
      if answered >= npool then
         return metrics_req
      end
      if lazy then
         return lazy_body_at(answered + 1)
      end
      return bodies[answered + 1]
   end
   idx = idx + 1
   if idx > npool then
      idx = 1
   end
   return bodies[idx]
end

-- wrk runs for its whole -d even when every thread has stopped; SIGINT makes
-- it end early and still call done(). The shell's parent is wrk itself. Not
-- os.execute(): system() ignores SIGINT in the caller while the child runs.
local function finish_fill()
   wrk.thread:stop()
   -- wrk's main thread may not have reached its sleep(duration) yet when a
   -- fast server answered everything: a SIGINT before that is lost. So it is
   -- repeated twice from the background, while the process is still wrk.
   local p = io.popen("kill -INT $PPID; (for d in 0.3 1; do sleep $d; " ..
      "[ \"$(cat /proc/$PPID/comm 2>/dev/null)\" = wrk ] && kill -INT $PPID; done) " ..
      ">/dev/null 2>&1 &")
   if p then
      p:close()
   end
end

function response(status, headers, body)
   answered = answered + 1
   if total > 0 and answered > npool then
      -- a filler GET sent after the last POST
      return
   end
   if status == 200 then
      ok = ok + 1
   else
      non200 = non200 + 1
      if status == 503 then
         s503 = s503 + 1
      end
   end
   if total > 0 and answered == npool then
      finish_fill()
   end
end

-- -------------------------------------------------------------- report

function done(summary, latency, requests)
   local t_ok, t_non200, t_503, t_bytes, t_pool = 0, 0, 0, 0, 0
   for _, t in ipairs(threads) do
      t_ok = t_ok + (t:get("ok") or 0)
      t_non200 = t_non200 + (t:get("non200") or 0)
      t_503 = t_503 + (t:get("s503") or 0)
      t_bytes = t_bytes + (t:get("pool_bytes") or 0)
      t_pool = t_pool + (t:get("npool") or 0)
   end
   local secs = summary.duration / 1e6
   local e = summary.errors
   local avg_alert = 0
   if t_pool > 0 then
      avg_alert = t_bytes / (t_pool * k)
   end
   io.write(string.format(
      "BENCH_RESULT shape=%s k=%d requests=%d ok=%d non200=%d status503=%d " ..
      "sock_errors=%d duration_s=%.3f req_per_s=%.1f alerts_per_s=%.1f " ..
      "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f " ..
      "body_bytes_per_alert=%.0f\n",
      shape, k, summary.requests, t_ok, t_non200, t_503,
      e.connect + e.read + e.write + e.timeout, secs,
      summary.requests / secs, t_ok * k / secs,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(99) / 1000, latency:percentile(99.9) / 1000,
      latency.max / 1000, avg_alert))
end
