-- Isso's comment counts of 20 posts: one POST /count with their URIs (BODY).
function request()
  return wrk.format("POST", "/count", {["Content-Type"] = "application/json"}, BODY)
end
