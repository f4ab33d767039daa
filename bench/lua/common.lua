-- Shared by every endpoint script (loaded with dofile): the data files written by
-- `bench/dataset.py build --out DIR` (BENCH_DATA=DIR), a per-thread random seed, the check of
-- every response (non-2xx, and HTTP 200 bodies that are the v1 error envelope or imgupload's
-- bare "error") and a machine-readable summary that bench/run.py parses.

local data_dir = os.getenv("BENCH_DATA") or "."

-- Lines of a data file, each split into its whitespace-separated fields (the first `limit`
-- lines only, when given).
function read_rows(name, limit)
  local path = data_dir .. "/" .. name
  local f = assert(io.open(path, "r"), "cannot open " .. path)
  local rows = {}
  for line in f:lines() do
    local fields = {}
    for field in line:gmatch("%S+") do fields[#fields + 1] = field end
    if #fields > 0 then rows[#rows + 1] = fields end
    if limit and #rows >= limit then break end
  end
  f:close()
  assert(#rows > 0, path .. " is empty")
  return rows
end

function pick(rows)
  return rows[math.random(#rows)]
end

FORM = { ["Content-Type"] = "application/x-www-form-urlencoded" }

THREADS = {}  -- every thread, for done() (generic.lua reads it too)
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_no", thread_count)
  table.insert(THREADS, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_no or 0) * 7919)
  responses, non_2xx, app_errors = 0, 0, 0
  if prepare then prepare() end
end

local ERROR_PREFIX = '{"status":"error"'
-- imgupload's refusal is the bare JSON string "error" (API.md §6), not the envelope.
local BARE_ERROR = '"error"'

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  elseif body:sub(1, #ERROR_PREFIX) == ERROR_PREFIX or body == BARE_ERROR then
    app_errors = app_errors + 1
  end
end

function done(summary, latency, requests)
  local seen, bad, app = 0, 0, 0
  for _, t in ipairs(THREADS) do
    seen = seen + t:get("responses")
    bad = bad + t:get("non_2xx")
    app = app + t:get("app_errors")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d responses=%d non2xx=%d app_errors=%d " ..
    "socket_errors=%d timeouts=%d\n",
    summary.requests, summary.duration, summary.bytes, seen, bad, app,
    e.connect + e.read + e.write, e.timeout))
  for _, p in ipairs({ 50, 75, 90, 99, 99.9 }) do
    io.write(string.format("BENCH_LAT p%s=%d\n", p, latency:percentile(p)))
  end
  io.write(string.format("BENCH_LAT mean=%.1f stdev=%.1f max=%d\n",
    latency.mean, latency.stdev, latency.max))
end
