-- GET /web/ping: the ceiling (no database, no auth).
dofile((os.getenv("BENCH_LUA") or "bench/lua") .. "/common.lua")

function request()
  return wrk.format("GET", "/web/ping")
end
