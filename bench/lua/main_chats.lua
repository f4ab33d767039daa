-- GET /web/main-chats?id=: one chat's messages (marks the other side's as seen), random
-- open chats of token users, each asked by its own customer.
dofile((os.getenv("BENCH_LUA") or "bench/lua") .. "/common.lua")

-- The first read of a chat marks its messages seen (a write); later reads only read. The same
-- number of chats on every dataset keeps that mix the same, so big ÷ small compares data size
-- alone: unbounded, the big dataset's 180,095 chats made nearly every request a first read,
-- the small one's 1,806 were each read about twenty times.
function prepare() chats = read_rows("chats.txt", 2000) end

function request()
  local c = pick(chats)
  return wrk.format("GET", "/web/main-chats?username=" .. c[1] .. "&token=" .. c[2] ..
    "&id=" .. c[3])
end
