-- Shared by the writing scenarios: each wrk thread gets an id, each request a number,
-- and every request comes from its own address (X-Forwarded-For, which the benchmark's
-- local stack trusts), so no two requests share a rate-limit window. RUN (when set) sets
-- a warm-up run's numbers apart from the measured run's.
local thread_count = RUN or 0
function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
end

n = 0
function next_request()
  n = n + 1
  local ip = string.format("10.%d.%d.%d", thread_id + 1, math.floor(n / 250) % 250, n % 250 + 1)
  return n, ip
end
