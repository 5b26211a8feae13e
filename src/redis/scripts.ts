/**
 * The Lua scripts: every shared decision is one script call, on Redis's own clock (`TIME`).
 *
 * @module
 */
import { Script } from './client.js';

/**
 * The breaker script. KEYS: state hash, window hash, lease zset, applied-flush zset.
 * ARGV: op, config (`type,a,b,minimumCalls,failureRate,slowRate,halfOpenCalls,leaseMs,ttlMs`),
 * channel, open durations (`d1,d2,…`), then per op:
 * - `sync`: batches `id|version|calls|failures|slows|outcomes` (outcomes: count windows only);
 * - `acquire`: lease id;
 * - `release`: lease id, outcome (`ok` | `slow` | `none` | `fail`).
 * Returns `{ state, version, retryAfterMs, granted }`; a transition also publishes
 * `version|state|retryAfterMs` on the channel.
 * @internal
 */
export const BREAKER = new Script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sk, wk, lk, fk = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op = ARGV[1]
local c = {}
for v in string.gmatch(ARGV[2], '[^,]+') do c[#c + 1] = v end
local wtype, wa, wb = c[1], tonumber(c[2]), tonumber(c[3])
local minCalls, fRate, sRate = tonumber(c[4]), tonumber(c[5]), tonumber(c[6])
local hoCalls, leaseMs, ttl = tonumber(c[7]), tonumber(c[8]), tonumber(c[9])
local channel = ARGV[3]
local durs = {}
for v in string.gmatch(ARGV[4], '[^,]+') do durs[#durs + 1] = tonumber(v) end

local s = redis.call('HMGET', sk, 'st', 'ver', 'until', 'openings', 'succ', 'slow')
local st = s[1] or 'closed'
local ver = tonumber(s[2] or '0')
local untilMs = tonumber(s[3] or '0')
local openings = tonumber(s[4] or '0')
local succ = tonumber(s[5] or '0')
local slowSucc = tonumber(s[6] or '0')
local changed = false

local function moveTo(to)
  st = to
  -- Versions only grow, also across a Redis restart that lost them: Redis's clock is the floor.
  ver = math.max(ver + 1, now)
  changed = true
  succ = 0
  slowSucc = 0
  redis.call('DEL', lk)
  if to == 'open' then
    openings = openings + 1
    untilMs = now + durs[math.min(openings, #durs)]
    redis.call('DEL', wk)
  elseif to == 'closed' then
    openings = 0
    redis.call('DEL', wk)
  end
end

-- Time decides first: an open period that ended, a lease held past its time.
if st == 'open' and now >= untilMs then moveTo('halfOpen') end
if st == 'halfOpen' and #redis.call('ZRANGEBYSCORE', lk, '-inf', now, 'LIMIT', 0, 1) > 0 then moveTo('open') end

local granted = 0
if op == 'sync' then
  local counted = false
  for i = 5, #ARGV do
    local id, bver, calls, fails, slows, outs = string.match(ARGV[i], '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
    -- Idempotent: a flush applied once is never counted again, whatever replays it.
    if id and not redis.call('ZSCORE', fk, id) then
      redis.call('ZADD', fk, now, id)
      local bv = tonumber(bver)
      if st == 'closed' and (bv == ver or bv < 0) then
        counted = true
        if wtype == 'time' then
          local idx = math.floor(now / (wa / wb))
          redis.call('HINCRBY', wk, 'c' .. idx, calls)
          redis.call('HINCRBY', wk, 'f' .. idx, fails)
          redis.call('HINCRBY', wk, 's' .. idx, slows)
        else
          local o = (redis.call('HGET', wk, 'o') or '') .. outs
          if #o > wa then o = string.sub(o, -wa) end
          redis.call('HSET', wk, 'o', o)
        end
      end
    end
  end
  redis.call('ZREMRANGEBYSCORE', fk, '-inf', now - ttl)
  if counted then
    local calls, fails, slows = 0, 0, 0
    if wtype == 'time' then
      local idx = math.floor(now / (wa / wb))
      local all = redis.call('HGETALL', wk)
      for i = 1, #all, 2 do
        local k, v = all[i], tonumber(all[i + 1])
        local at = tonumber(string.sub(k, 2))
        if at <= idx - wb then
          redis.call('HDEL', wk, k)
        else
          local kind = string.sub(k, 1, 1)
          if kind == 'c' then calls = calls + v elseif kind == 'f' then fails = fails + v else slows = slows + v end
        end
      end
    else
      local o = redis.call('HGET', wk, 'o') or ''
      calls = #o
      fails = select(2, string.gsub(o, '[fx]', ''))
      slows = select(2, string.gsub(o, '[sx]', ''))
    end
    if calls >= minCalls and (fails / calls >= fRate or slows / calls >= sRate) then moveTo('open') end
  end
elseif op == 'acquire' then
  if st == 'halfOpen' and redis.call('ZCARD', lk) + succ < hoCalls then
    redis.call('ZADD', lk, now + leaseMs, ARGV[5])
    granted = 1
  end
elseif op == 'release' then
  local held = redis.call('ZREM', lk, ARGV[5]) == 1
  local outcome = ARGV[6]
  if held and st == 'halfOpen' then
    granted = 1
    if outcome == 'fail' then
      moveTo('open')
    elseif outcome ~= 'none' then
      succ = succ + 1
      if outcome == 'slow' then slowSucc = slowSucc + 1 end
      if succ >= hoCalls then
        if slowSucc / hoCalls >= sRate then moveTo('open') else moveTo('closed') end
      end
    end
  end
end

redis.call('HSET', sk, 'st', st, 'ver', ver, 'until', string.format('%d', untilMs), 'openings', openings, 'succ', succ, 'slow', slowSucc)
for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ttl) end
local left = 0
if st == 'open' then left = math.max(0, untilMs - now) end
if changed then redis.call('PUBLISH', channel, ver .. '|' .. st .. '|' .. left) end
return { st, ver, left, granted }
`);

/**
 * The token bucket. KEYS: the bucket hash. ARGV: capacity, refill per ms, ttl ms.
 * Returns `{ granted, waitMs }` (waitMs: until the next token, when refused).
 * @internal
 */
export const TOKEN_BUCKET = new Script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local cap, perMs, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1] or cap)
local at = tonumber(b[2] or now)
if now > at then
  tokens = math.min(cap, tokens + (now - at) * perMs)
  at = now
end
local granted, wait = 0, 0
if tokens >= 1 - 1e-9 then
  tokens = tokens - 1
  granted = 1
else
  wait = math.ceil((1 - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', at))
redis.call('PEXPIRE', KEYS[1], ttl)
return { granted, wait }
`);

/**
 * The exact sliding window: the start times of the last calls in a sorted set. KEYS: the set.
 * ARGV: limit, window ms, ttl ms, a member unique to this call.
 * Returns `{ granted, waitMs }`.
 * @internal
 */
export const SLIDING_WINDOW = new Script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit, windowMs, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.17g', now - windowMs))
local n = redis.call('ZCARD', KEYS[1])
local granted, wait = 0, 0
if n < limit then
  redis.call('ZADD', KEYS[1], string.format('%.17g', now), ARGV[4])
  granted = 1
else
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = math.max(1, math.ceil(tonumber(oldest[2]) + windowMs - now))
end
redis.call('PEXPIRE', KEYS[1], ttl)
return { granted, wait }
`);
