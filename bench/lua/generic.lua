-- Every endpoint's load (bench/run.py): replays the requests of BENCH_REQUESTS, one a line
-- (method, path with query, form body or `@multipart:` file; tab-separated), built by bench/endpoints.py from the
-- dataset's files. BENCH_ORDER=random draws a line per request; sequential gives each line
-- once (the consumed pools: tokens that logout ends, marks to delete…), thread k taking lines
-- BENCH_SKIP + k, + k + BENCH_THREADS, …; BENCH_CHAIN=1 (newtoken) sends each user's new
-- token, read from the answer, with that user's next request, as the old one is dead.
dofile((os.getenv("BENCH_LUA") or "bench/lua") .. "/common.lua")

local order = os.getenv("BENCH_ORDER") or "random"
local skip = tonumber(os.getenv("BENCH_SKIP") or "0")
local step = tonumber(os.getenv("BENCH_THREADS") or "1")
local chain = os.getenv("BENCH_CHAIN") == "1"

-- A body `@multipart:<file>&k=v…` (the upload endpoints, bench/endpoints.py upload): the
-- file of the dataset folder holds the file's part and the closing boundary (its first line
-- names the boundary); the fields go in front of it as parts of their own. Each distinct
-- line is built once: a body is ~200 KB, and 10,000 lines of copies would fill the memory.
local multipart_files, multipart_reqs = {}, {}

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function multipart(target, body)
  local key = target .. "\t" .. body
  if multipart_reqs[key] then return multipart_reqs[key] end
  local spec = body:sub(12)  -- after "@multipart:"
  local name, rest = spec:match("^([^&]+)(.*)$")
  local raw = multipart_files[name]
  if raw == nil then
    local f = assert(io.open((os.getenv("BENCH_DATA") or ".") .. "/" .. name, "rb"))
    raw = f:read("*a")
    f:close()
    multipart_files[name] = raw
  end
  local boundary = raw:match("^%-%-([^\r\n]+)\r\n")
  local parts = {}
  for k, v in rest:gmatch("&([^=&]+)=([^&]*)") do
    parts[#parts + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" ..
      k .. "\"\r\n\r\n" .. unescape(v) .. "\r\n"
  end
  local headers = { ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }
  multipart_reqs[key] = wrk.format("POST", target, headers, table.concat(parts) .. raw)
  return multipart_reqs[key]
end

local function parse(line)
  local method, target, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
  return method, target, body
end

function prepare()
  reqs, queue = {}, {}
  next_line, wrapped = skip + thread_no, 0
  local n = 0
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    local method, target, body = parse(line)
    n = n + 1
    if chain then
      -- This thread's users only: each user's requests go out one at a time.
      if (n - 1) % step == thread_no - 1 then
        local user, token = body:match("username=([^&]+)&token=([^&]+)")
        queue[#queue + 1] = { target, user, token }
      end
    elseif method == "POST" and body:sub(1, 11) == "@multipart:" then
      reqs[n] = multipart(target, body)
    elseif method == "POST" then
      reqs[n] = wrk.format("POST", target, FORM, body)
    else
      reqs[n] = wrk.format("GET", target)
    end
  end
  assert(n > 0, "no requests")
end

function request()
  if chain then
    local u = table.remove(queue, 1)
    if u == nil then u = last or { "/web/user/newtoken", "", "" } end
    last = u
    return wrk.format("POST", u[1], FORM, "username=" .. u[2] .. "&token=" .. u[3])
  end
  if order == "sequential" then
    local i = next_line
    next_line = next_line + step
    if i > #reqs then
      wrapped = wrapped + 1
      i = (i - 1) % #reqs + 1
    end
    return reqs[i]
  end
  return reqs[math.random(#reqs)]
end

if chain then
  local count = response
  function response(status, headers, body)
    count(status, headers, body)
    local user, token = body:match('"username":"([^"]+)","token":"([^"]+)"')
    if user then queue[#queue + 1] = { "/web/user/newtoken", user, token } end
  end
end

local summary = done
function done(s, latency, requests)
  summary(s, latency, requests)
  local furthest, wraps = 0, 0
  for _, t in ipairs(THREADS) do
    furthest = math.max(furthest, t:get("next_line") or 0)
    wraps = wraps + (t:get("wrapped") or 0)
  end
  io.write(string.format("BENCH_POOL next=%d wrapped=%d\n", furthest, wraps))
end
