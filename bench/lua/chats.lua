-- GET /web/chats: the caller's chats with unread counts, random token users.
dofile((os.getenv("BENCH_LUA") or "bench/lua") .. "/common.lua")

function prepare() users = read_rows("users.txt") end

function request()
  local u = pick(users)
  return wrk.format("GET", "/web/chats?username=" .. u[1] .. "&token=" .. u[2])
end
