-- Wrong secrets for a real key id ($BENCH_KEY_ID), each with a valid checksum, so every one gets past
-- the format check and could cost a BCrypt verify if the failure budgets did not stop it.
local common = dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local prefix = os.getenv("BENCH_KEY_PREFIX") or "pleo_test_"
local key_id = assert(os.getenv("BENCH_KEY_ID"), "BENCH_KEY_ID is required")
common.rotate(function(thread_number)
  common.seed(thread_number + 100)
  local authorizations = {}
  for i = 1, 4000 do
    authorizations[i] = common.basic(common.key(prefix, key_id, common.random_base62(32)))
  end
  return common.prepared(authorizations, thread_number)
end)
