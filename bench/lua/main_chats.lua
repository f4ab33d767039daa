-- GET /web/main-chats?id=: one chat's messages (marks the other side's as seen), random
-- open chats of token users, each asked by its own customer.
dofile((os.getenv("BENCH_LUA") or "bench/lua") .. "/common.lua")

function prepare() chats = read_rows("chats.txt") end

function request()
  local c = pick(chats)
  return wrk.format("GET", "/web/main-chats?username=" .. c[1] .. "&token=" .. c[2] ..
    "&id=" .. c[3])
end
