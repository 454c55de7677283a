-- Sign PETITION with a new address on every request.
function request()
  local n, ip = next_request()
  local body = string.format(
    '{"name":"Signer %d-%d","email":"signer-%d-%d@wrk.example","public":false,"consent":true}',
    thread_id, n, thread_id, n)
  return wrk.format("POST", "/petitions/" .. PETITION .. "/signatures",
    {["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip}, body)
end
