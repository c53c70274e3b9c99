-- Like plain.lua, and also collects the server's own time per request from the Server-Timing header
-- (total;dur=…), which the app sends when the benchmark is enabled; reports its p50/p95.
local common = dofile(os.getenv("BENCH_LUA") .. "/common.lua")
common.load_headers(os.getenv("BENCH_HEADERS"), wrk.headers)
local threads = {}
durations = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function response(status, headers, body)
  local timing = headers["Server-Timing"]
  local total = timing and timing:match("total;dur=([%d%.]+)")
  if total and status == 200 then durations[#durations + 1] = tonumber(total) end
end

function done(summary, latency, requests)
  local all = {}
  for _, thread in ipairs(threads) do
    for _, d in ipairs(thread:get("durations")) do all[#all + 1] = d end
  end
  table.sort(all)
  local function pct(p) return #all == 0 and -1 or all[math.max(1, math.ceil(#all * p / 100))] end
  common.report(summary, latency, string.format(" server_samples=%d server_p50_ms=%.3f server_p95_ms=%.3f", #all, pct(50), pct(95)))
end
