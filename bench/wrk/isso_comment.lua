-- POST a new comment of about 300 characters to one of POSTS Isso threads, unique each.
local filler = string.rep("The court will hear the appeal next month; letters help. ", 5)
function request()
  local n, ip = next_request()
  local uri = string.format("%%2Fbench-post-%d", (n + thread_id) % POSTS + 1)
  local body = string.format('{"author":"Reader %d-%d","text":"Isso %d-%d %s"}', thread_id, n, thread_id, n, filler)
  return wrk.format("POST", "/new?uri=" .. uri, {["Content-Type"] = "application/json"}, body)
end
