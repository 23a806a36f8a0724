"""The Lua scripts that make budget and rate-limit counters exact across gateway replicas.

Redis runs a script to completion before any other command, so each script is one atomic step
for every replica at once. Time comes from Redis (``TIME``), not from the replicas, so holds and
rate windows expire on one clock. Numbers written back to Redis go through ``string.format``
because Lua would print large integers in exponent form.

Budget keys (per budget and period start): a hash with ``settled``, ``held``, ``baseline`` and
``baseline_version`` in micro-dollars, and a sorted set of holds whose members are
``"<micros>:<reservation id>"`` scored by their expiry in milliseconds.
"""

from __future__ import annotations

# KEYS: counter hash and holds set for each budget, then one approval-pass key per budget. ARGV:
# amount, member, hold ttl ms, then for each budget its limit (-1: never blocks), the unix time its
# keys expire at (0: never) and the unix time its offered pass expires at (0: no pass offered).
# Returns {1, total before..., pass used (1/0)...} when held on all, or {0, index of the full
# budget, its total, 1 if the pass offered for it was already used (else 0)}. A pass is marked
# used (SET, so another replica's EXISTS sees it) only when the whole reservation succeeds.
RESERVE = """
local amount = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now_ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local n = #KEYS / 3
local totals = {}
local use = {}
for i = 1, n do
  local counter, holds = KEYS[2 * i - 1], KEYS[2 * i]
  local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now_ms)
  if #expired > 0 then
    local freed = 0
    for _, member in ipairs(expired) do
      freed = freed + tonumber(string.match(member, '^(%d+):'))
    end
    redis.call('ZREMRANGEBYSCORE', holds, '-inf', now_ms)
    redis.call('HINCRBY', counter, 'held', string.format('%.0f', -freed))
  end
  local v = redis.call('HMGET', counter, 'settled', 'held', 'baseline')
  local total = math.max(tonumber(v[3] or 0), tonumber(v[1] or 0)) + tonumber(v[2] or 0)
  totals[i] = total
  local limit = tonumber(ARGV[1 + 3 * i])
  if limit >= 0 and total + amount > limit then
    if tonumber(ARGV[3 + 3 * i]) <= 0 then
      return {0, i, string.format('%.0f', total), 0}
    end
    if redis.call('EXISTS', KEYS[2 * n + i]) == 1 then
      return {0, i, string.format('%.0f', total), 1}
    end
    use[i] = true
  end
end
local expires = string.format('%.0f', now_ms + tonumber(ARGV[3]))
local result = {1}
for i = 1, n do
  redis.call('HINCRBY', KEYS[2 * i - 1], 'held', ARGV[1])
  redis.call('ZADD', KEYS[2 * i], expires, ARGV[2])
  local expire_at = tonumber(ARGV[2 + 3 * i])
  if expire_at > 0 then
    redis.call('EXPIREAT', KEYS[2 * i - 1], ARGV[2 + 3 * i])
    redis.call('EXPIREAT', KEYS[2 * i], ARGV[2 + 3 * i])
  end
  result[i + 1] = string.format('%.0f', totals[i])
  result[n + 1 + i] = 0
  if use[i] then
    redis.call('SET', KEYS[2 * n + i], ARGV[2])
    redis.call('EXPIREAT', KEYS[2 * n + i], ARGV[3 + 3 * i])
    result[n + 1 + i] = 1
  end
end
return result
"""

# KEYS: counter hash, holds set, for each budget. ARGV: member, held amount, actual cost, and
# whether to count the cost only where the hold is still there ('1'). A first settlement passes
# '0': its cost counts even if its hold expired meanwhile. A replay after a failed attempt passes
# '1': if the first attempt did run (its reply lost), the hold is gone and nothing counts twice.
SETTLE = """
for i = 1, #KEYS / 2 do
  local removed = redis.call('ZREM', KEYS[2 * i], ARGV[1])
  if removed == 1 then
    redis.call('HINCRBY', KEYS[2 * i - 1], 'held', '-' .. ARGV[2])
  end
  if removed == 1 or ARGV[4] == '0' then
    redis.call('HINCRBY', KEYS[2 * i - 1], 'settled', ARGV[3])
  end
end
return 1
"""

# KEYS: counter hash, holds set, for each budget. ARGV: member, held amount.
RELEASE = """
for i = 1, #KEYS / 2 do
  if redis.call('ZREM', KEYS[2 * i], ARGV[1]) == 1 then
    redis.call('HINCRBY', KEYS[2 * i - 1], 'held', '-' .. ARGV[2])
  end
end
return 1
"""

# KEYS: counter hash, holds set. Returns the period's total after sweeping expired holds.
SPENT = """
local clock = redis.call('TIME')
local now_ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now_ms)
if #expired > 0 then
  local freed = 0
  for _, member in ipairs(expired) do
    freed = freed + tonumber(string.match(member, '^(%d+):'))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms)
  redis.call('HINCRBY', KEYS[1], 'held', string.format('%.0f', -freed))
end
local v = redis.call('HMGET', KEYS[1], 'settled', 'held', 'baseline')
return string.format('%.0f', math.max(tonumber(v[3] or 0), tonumber(v[1] or 0)) + tonumber(v[2] or 0))
"""

# KEYS: one counter hash per budget. ARGV: snapshot version, then baseline micros and key expiry
# (0: never) per budget. A SET guarded by version, not an increment: any number of replicas may
# apply the same snapshot, in any order, and the baseline is the newest version's figure.
SEED = """
local version = tonumber(ARGV[1])
for i = 1, #KEYS do
  local current = tonumber(redis.call('HGET', KEYS[i], 'baseline_version') or -1)
  if version >= current then
    redis.call('HSET', KEYS[i], 'baseline', ARGV[2 * i], 'baseline_version', ARGV[1])
    if tonumber(ARGV[2 * i + 1]) > 0 then
      redis.call('EXPIREAT', KEYS[i], ARGV[2 * i + 1])
    end
  end
end
return 1
"""

# KEYS: rpm TAT, tpm TAT, concurrency set, for each limit. ARGV: permit id, estimated tokens,
# slot ttl ms, then per limit: requests per minute (0: none), tokens per minute (0: none),
# max concurrent (-1: none). GCRA in microseconds over a 60 s window (see ``gcra``).
# Returns {1} when admitted by all, or {0, index of the limit, kind (1 rpm, 2 tpm, 3 concurrent),
# retry after in microseconds}.
ACQUIRE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local window = 60000000
local tokens = tonumber(ARGV[2])
local n = #KEYS / 3
local new_tats = {}
local function gcra(key, per_minute, cost)
  local tat = tonumber(redis.call('GET', key) or 0)
  if tat < now then tat = now end
  local new_tat = tat + math.ceil(cost * window / per_minute)
  return new_tat, new_tat - now - window
end
for i = 1, n do
  local base = 3 + 3 * (i - 1)
  local rpm, tpm, concurrent = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  if concurrent >= 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3 * i], '-inf', string.format('%.0f', now))
    if redis.call('ZCARD', KEYS[3 * i]) >= concurrent then
      return {0, i, 3, 1000000}
    end
  end
  if rpm > 0 then
    local new_tat, over = gcra(KEYS[3 * i - 2], rpm, 1)
    if over > 0 then return {0, i, 1, string.format('%.0f', over)} end
    new_tats[3 * i - 2] = new_tat
  end
  if tpm > 0 and tokens > 0 then
    local new_tat, over = gcra(KEYS[3 * i - 1], tpm, tokens)
    if over > 0 then return {0, i, 2, string.format('%.0f', over)} end
    new_tats[3 * i - 1] = new_tat
  end
end
for index, tat in pairs(new_tats) do
  local ttl_ms = math.ceil((tat - now) / 1000) + 1000
  redis.call('SET', KEYS[index], string.format('%.0f', tat), 'PX', string.format('%.0f', ttl_ms))
end
local slot_ttl = tonumber(ARGV[3])
for i = 1, n do
  if tonumber(ARGV[3 + 3 * (i - 1) + 3]) >= 0 then
    redis.call('ZADD', KEYS[3 * i], string.format('%.0f', now + slot_ttl * 1000), ARGV[1])
    redis.call('PEXPIRE', KEYS[3 * i], ARGV[3])
  end
end
return {1}
"""

# KEYS: tpm TAT, concurrency set, for each limit. ARGV: permit id, actual minus estimated tokens,
# then per limit: tokens per minute (0: no correction) and whether a slot is held (1/0).
LIMIT_RELEASE = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local delta = tonumber(ARGV[2])
for i = 1, #KEYS / 2 do
  local tpm = tonumber(ARGV[1 + 2 * i])
  if tpm > 0 and delta ~= 0 then
    local tat = tonumber(redis.call('GET', KEYS[2 * i - 1]) or 0)
    if tat < now then tat = now end
    tat = tat + delta * 60000000 / tpm
    if tat > now then
      local ttl_ms = math.ceil((tat - now) / 1000) + 1000
      redis.call('SET', KEYS[2 * i - 1], string.format('%.0f', tat), 'PX', string.format('%.0f', ttl_ms))
    else
      redis.call('DEL', KEYS[2 * i - 1])
    end
  end
  if ARGV[2 + 2 * i] == '1' then
    redis.call('ZREM', KEYS[2 * i], ARGV[1])
  end
end
return 1
"""
