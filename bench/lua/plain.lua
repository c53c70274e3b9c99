-- One fixed request, with the headers from $BENCH_HEADERS (an API key or a session cookie) if given.
local common = dofile(os.getenv("BENCH_LUA") .. "/common.lua")
common.load_headers(os.getenv("BENCH_HEADERS"), wrk.headers)

function done(summary, latency, requests)
  common.report(summary, latency)
end
