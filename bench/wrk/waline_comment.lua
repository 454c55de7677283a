-- POST a new comment of about 300 characters to one of POSTS Waline threads, unique each.
local filler = string.rep("The court will hear the appeal next month; letters help. ", 5)
function request()
  local n, ip = next_request()
  local url = string.format("/bench-post-%d", (n + thread_id) % POSTS + 1)
  local body = string.format('{"nick":"Reader %d-%d","comment":"Waline %d-%d %s","url":"%s","ua":"bench"}',
    thread_id, n, thread_id, n, filler, url)
  return wrk.format("POST", "/api/comment", {["Content-Type"] = "application/json"}, body)
end
