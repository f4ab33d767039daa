-- GET /web/store-user-comments?id=: every visible comment on a random store (no login).
dofile((os.getenv("BENCH_LUA") or "bench/lua") .. "/common.lua")

function prepare() stores = read_rows("stores.txt") end

function request()
  return wrk.format("GET", "/web/store-user-comments?id=" .. pick(stores)[1])
end
