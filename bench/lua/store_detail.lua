-- GET /web/stores/<id>: a random store with media, comments, sellers and branches.
dofile((os.getenv("BENCH_LUA") or "bench/lua") .. "/common.lua")

function prepare() stores = read_rows("stores.txt") end

function request()
  return wrk.format("GET", "/web/stores/" .. pick(stores)[1])
end
