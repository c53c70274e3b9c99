-- The same request as plain.lua, but handed to wrk from a Lua request() function, as garbage.lua and
-- attack.lua do: the baseline for those scenarios then costs the load generator the same per request.
-- With BENCH_SPREAD, from the same client addresses as garbage.lua (X-Forwarded-For).
local common = dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local headers = {}
common.load_headers(os.getenv("BENCH_HEADERS"), headers)
local requests, n = {}, 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  -- With BENCH_SPREAD, from as many client addresses as garbage.lua uses.
  for i = 1, math.max(64, tonumber(os.getenv("BENCH_SPREAD") or "") or 0) do
    local copy = {}
    for k, v in pairs(headers) do copy[k] = v end
    copy["X-Forwarded-For"] = common.address(thread_number, i)
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
