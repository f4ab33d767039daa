-- The soak's workload (bench/soak.py): the benchmarked endpoints mixed, about two reads for
-- each write, with real tokens, stores and chats. SOAK_DELAY_MS paces each connection (wrk
-- waits that long before each of its requests), which is how the soak holds a request rate.
dofile((os.getenv("BENCH_LUA") or "bench/lua") .. "/common.lua")

local pace = tonumber(os.getenv("SOAK_DELAY_MS") or "0")

function prepare()
  users = read_rows("users.txt")
  stores = read_rows("stores.txt")
  chats = read_rows("chats.txt")
  sent = 0
end

local function auth(u) return "username=" .. u[1] .. "&token=" .. u[2] end

-- weight, request builder
local MIX = {
  { 15, function() return wrk.format("GET", "/web/users?" .. auth(pick(users))) end },
  { 15, function() return wrk.format("GET", "/web/store-user-comments?id=" .. pick(stores)[1]) end },
  { 15, function() return wrk.format("GET", "/web/stores/" .. pick(stores)[1]) end },
  { 15, function() return wrk.format("GET", "/web/chats?" .. auth(pick(users))) end },
  { 10, function()
      local c = pick(chats)
      return wrk.format("GET", "/web/main-chats?" .. auth(c) .. "&id=" .. c[3])
    end },
  { 15, function()
      return wrk.format("POST", "/web/user/add-like", FORM,
        auth(pick(users)) .. "&target=store&id=" .. pick(stores)[1])
    end },
  { 15, function()
      local c = pick(chats)
      sent = sent + 1
      return wrk.format("POST", "/web/user/send-chat-message", FORM,
        auth(c) .. "&id=" .. c[3] .. "&text=soak+" .. thread_no .. "-" .. sent)
    end },
}
local TOTAL = 0
for _, m in ipairs(MIX) do TOTAL = TOTAL + m[1] end

function request()
  local r = math.random(TOTAL)
  for _, m in ipairs(MIX) do
    if r <= m[1] then return m[2]() end
    r = r - m[1]
  end
end

function delay() return pace end
