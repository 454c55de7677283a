-- POST a comment of about 300 characters to one of POSTS posts (SLUG-1 … SLUG-POSTS).
local filler = string.rep("The court will hear the appeal next month; letters help. ", 5)
function request()
  local n, ip = next_request()
  local slug = string.format("%s-%d", SLUG, (n + thread_id) % POSTS + 1)
  -- The slug is in the body: a run that repeated an earlier run's address and text
  -- would rightly be refused as the same comment posted twice.
  local body = string.format('{"author":"Reader %d-%d","body":"%s %d-%d %s"}', thread_id, n, SLUG, thread_id, n, filler)
  return wrk.format("POST", "/posts/" .. slug .. "/comments",
    {["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip}, body)
end
