-- The same request as plain.lua, but handed to wrk from a Lua request() function, as garbage.lua and
-- attack.lua do: the baseline for those scenarios then costs the load generator the same per request.
local common = dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local headers = {}
common.load_headers(os.getenv("BENCH_HEADERS"), headers)
local requests, n = {}, 0

function init(args)
  for i = 1, 64 do
    local copy = {}
    for k, v in pairs(headers) do copy[k] = v end
    requests[i] = wrk.format(nil, nil, copy)
  end
end

function request()
  n = n % #requests + 1
  return requests[n]
end

function done(summary, latency, requests)
  common.report(summary, latency)
end
