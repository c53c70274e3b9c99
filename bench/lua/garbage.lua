-- Rotates through keys that must be rejected without BCrypt: malformed text, a typo (bad checksum),
-- and well-formed keys with valid checksums whose key ids do not exist. With BENCH_SPREAD, each from its
-- own client address (see common.address).
local common = dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local prefix = os.getenv("BENCH_KEY_PREFIX") or "pleo_test_"
common.rotate(function(thread_number)
  common.seed(thread_number)
  local authorizations = {}
  -- Four keys a round; with BENCH_SPREAD, enough rounds for one key per client address.
  for i = 1, math.max(1000, math.ceil((tonumber(os.getenv("BENCH_SPREAD") or "") or 0) / 4)) do
    -- Malformed: a key of another service, and a truncated key.
    authorizations[#authorizations + 1] = common.basic("sk_live_" .. common.random_base62(53))
    local whole = common.key(prefix, common.random_base62(12), common.random_base62(32))
    authorizations[#authorizations + 1] = common.basic(whole:sub(1, 40))
    -- Bad checksum: one character of the secret changed.
    local typo = whole:sub(1, 30) .. (whole:sub(31, 31) == "a" and "b" or "a") .. whole:sub(32)
    authorizations[#authorizations + 1] = common.basic(typo)
    -- Unknown key id, valid checksum.
    authorizations[#authorizations + 1] = common.basic(common.key(prefix, common.random_base62(12), common.random_base62(32)))
  end
  return common.prepared(authorizations, thread_number)
end)
