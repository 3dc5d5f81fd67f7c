-- wrk script for npm run bench (scripts/bench.ts): POSTs the Argo CD Degraded body with a unique failed
-- revision per request, spread over BENCH_APPS apps, and stops each thread after BENCH_LIMIT answers.
-- Env: BENCH_BODY_FILE (body with __APP__ and __REV__ placeholders), BENCH_PATH, BENCH_TOKEN,
-- BENCH_APPS, BENCH_LIMIT (answers per thread), BENCH_RUN (8 hex digits, unique per run),
-- BENCH_OUT (the JSON summary is written there), BENCH_IDS (202 answers' ids are written there),
-- BENCH_DONE (a thread that has its answers creates BENCH_DONE.<thread>; wrk only ends on its duration
-- or SIGINT, so the caller sends SIGINT once every thread has).

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

function init(args)
  local file = assert(io.open(os.getenv("BENCH_BODY_FILE"), "r"))
  template = file:read("*a")
  file:close()
  path = os.getenv("BENCH_PATH")
  apps = tonumber(os.getenv("BENCH_APPS"))
  limit = tonumber(os.getenv("BENCH_LIMIT"))
  run = os.getenv("BENCH_RUN")
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN") }
  sent = 0
  answered = 0
  statuses = {}
  ids = {}
end

function request()
  sent = sent + 1
  -- 40 hex digits: run, thread, zeros, counter.
  local revision = string.format("%s%08x0000000000000000%08x", run, tid, sent)
  local app = string.format("bench-app-%03d", (sent * 7 + tid) % apps)
  local body = template:gsub("__APP__", app):gsub("__REV__", revision)
  return wrk.format("POST", path, headers, body)
end

function response(status, _, body)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if status == 202 then
    local id = body:match('"id":"([^"]+)"')
    if id then ids[#ids + 1] = id end
  end
  if answered == limit then
    assert(io.open(os.getenv("BENCH_DONE") .. "." .. tid, "w")):close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local counts = {}
  local idFile = assert(io.open(os.getenv("BENCH_IDS"), "w"))
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do counts[status] = (counts[status] or 0) + n end
    for _, id in ipairs(thread:get("ids")) do idFile:write(id, "\n") end
  end
  idFile:close()
  local parts = {}
  for status, n in pairs(counts) do parts[#parts + 1] = string.format('"%d":%d', status, n) end
  local e = summary.errors
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"statuses":{%s},' ..
      '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, table.concat(parts, ","),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  out:close()
end
