-- Shared by the benchmark's wrk scripts (wrk runs LuaJIT, which has the `bit` library).
-- Builds key text exactly as ApiKeyFormat does (CRC32 of the body as 6 base62 digits), encodes HTTP Basic
-- credentials, and prints one machine-readable result line per run for bench/run.sh.
local bit = require("bit")
local M = {}

local ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
local BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local CRC_TABLE = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do
    if bit.band(c, 1) == 1 then c = bit.bxor(bit.rshift(c, 1), 0xEDB88320) else c = bit.rshift(c, 1) end
  end
  CRC_TABLE[i] = c
end

-- CRC-32 (IEEE), as System.IO.Hashing.Crc32, as an unsigned number.
function M.crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do
    c = bit.bxor(bit.rshift(c, 8), CRC_TABLE[bit.band(bit.bxor(c, s:byte(i)), 0xFF)])
  end
  return bit.bnot(c) % 4294967296
end

function M.checksum(body)
  local n, out = M.crc32(body), {}
  for i = 6, 1, -1 do
    local d = n % 62
    out[i] = ALPHABET:sub(d + 1, d + 1)
    n = (n - d) / 62
  end
  return table.concat(out)
end

function M.random_base62(length)
  local out = {}
  for i = 1, length do
    local d = math.random(0, 61)
    out[i] = ALPHABET:sub(d + 1, d + 1)
  end
  return table.concat(out)
end

-- prefix ("pleo_test_") + 12-character key id + "_" + 32-character secret + checksum.
function M.key(prefix, key_id, secret)
  local body = prefix .. key_id .. "_" .. secret
  return body .. M.checksum(body)
end

function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local d1, d2 = bit.rshift(n, 18), bit.band(bit.rshift(n, 12), 63)
    local d3, d4 = bit.band(bit.rshift(n, 6), 63), bit.band(n, 63)
    out[#out + 1] = BASE64:sub(d1 + 1, d1 + 1) .. BASE64:sub(d2 + 1, d2 + 1)
      .. (b and BASE64:sub(d3 + 1, d3 + 1) or "=") .. (c and BASE64:sub(d4 + 1, d4 + 1) or "=")
  end
  return table.concat(out)
end

-- What `curl -u 'KEY:'` sends.
function M.basic(key)
  return "Basic " .. M.base64(key .. ":")
end

-- Reads "Name: value" lines (credentials stay in files, off command lines).
function M.load_headers(path, into)
  if path == nil or path == "" then return end
  for line in io.lines(path) do
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then into[name] = value end
  end
end

function M.seed(thread_number)
  math.randomseed(os.time() * 1000 + (thread_number or 0) * 7919)
end

-- With BENCH_SPREAD=n, the client address (X-Forwarded-For, believed from 127.0.0.1) of the i-th of a
-- thread's requests: n addresses per thread, each with its own failure budget on the server. Nil otherwise.
function M.address(thread_number, i)
  local spread = tonumber(os.getenv("BENCH_SPREAD") or "")
  if not spread then return nil end
  local k = (i - 1) % spread
  return string.format("10.%d.%d.%d", thread_number or 0, math.floor(k / 256) % 256, k % 256)
end

-- A request per entry of `list`, prepared once so the generator spends its time sending.
function M.prepared(authorizations, thread_number)
  local requests = {}
  for i, authorization in ipairs(authorizations) do
    local headers = { ["Authorization"] = authorization }
    headers["X-Forwarded-For"] = M.address(thread_number, i)
    requests[i] = wrk.format(nil, nil, headers)
  end
  return requests
end

-- Installs wrk's callbacks for a script that hands out prepared requests in turn: build(thread_number)
-- makes a thread's list once (thread_number counts from 1), and each request takes the next.
function M.rotate(build)
  local threads, requests, n = 0, {}, 0
  function setup(thread)
    threads = threads + 1
    thread:set("thread_number", threads)
  end
  function init(args)
    requests = build(thread_number)
  end
  function request()
    n = n % #requests + 1
    return requests[n]
  end
  function done(summary, latency, _)
    M.report(summary, latency)
  end
end

function M.report(summary, latency, extra)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f non2xx=%d socket_errors=%d%s\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, extra or ""))
end

return M
