-- The same request as plain.lua, but handed to wrk from a Lua request() function, as garbage.lua and
-- attack.lua do: the baseline for those scenarios then costs the load generator the same per request.
-- With BENCH_SPREAD, from the same client addresses as garbage.lua (X-Forwarded-For).
local common = dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local headers = {}
common.load_headers(os.getenv("BENCH_HEADERS"), headers)
common.rotate(function(thread_number)
  -- With BENCH_SPREAD, from as many client addresses as garbage.lua uses.
  local requests = {}
  for i = 1, math.max(64, tonumber(os.getenv("BENCH_SPREAD") or "") or 0) do
    local copy = {}
    for k, v in pairs(headers) do copy[k] = v end
    copy["X-Forwarded-For"] = common.address(thread_number, i)
    requests[i] = wrk.format(nil, nil, copy)
  end
  return requests
end)
