-- Confirm the signups whose tokens are listed one per line in TOKENS; thread i takes
-- every THREADS-th token from the i-th. Past the end of its share a thread starts over
-- (a repeat confirmation, which the harness counts apart).
local tokens = {}
function init(args)
  local i = 0
  for line in io.lines(TOKENS) do
    if i % THREADS == thread_id then tokens[#tokens + 1] = line end
    i = i + 1
  end
end
function request()
  local n, ip = next_request()
  local token = tokens[(n - 1) % #tokens + 1]
  return wrk.format("POST", "/confirm/" .. token, {["X-Forwarded-For"] = ip}, nil)
end
