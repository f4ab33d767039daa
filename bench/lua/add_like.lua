-- POST /web/user/add-like: a random token user likes a random store (new likes, repeats
-- and dislike-to-like switches all answer "Liked").
dofile((os.getenv("BENCH_LUA") or "bench/lua") .. "/common.lua")

function prepare()
  users = read_rows("users.txt")
  stores = read_rows("stores.txt")
end

function request()
  local u = pick(users)
  local body = "username=" .. u[1] .. "&token=" .. u[2] .. "&target=store&id=" .. pick(stores)[1]
  return wrk.format("POST", "/web/user/add-like", FORM, body)
end
