-- POST /web/user/send-chat-message: a token user writes in one of their open chats.
dofile((os.getenv("BENCH_LUA") or "bench/lua") .. "/common.lua")

function prepare()
  chats = read_rows("chats.txt")
  sent = 0
end

function request()
  local c = pick(chats)
  sent = sent + 1
  local body = "username=" .. c[1] .. "&token=" .. c[2] .. "&id=" .. c[3] ..
    "&text=bench+message+" .. thread_no .. "-" .. sent
  return wrk.format("POST", "/web/user/send-chat-message", FORM, body)
end
