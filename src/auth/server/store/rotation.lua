-- One refresh, atomically: the twin of `decide` in rotation.rs beside this file.
-- KEYS[1] session hash, KEYS[2] user's session index (zset), KEYS[3] tombstone,
-- KEYS[4] the session's earlier refresh hashes (zset, score = when replaced)
-- ARGV: presented, new_hash, sealed, now, idle_ms, grace_ms, tombstone_ms, history_len, sid
local presented, new_hash, sealed = ARGV[1], ARGV[2], ARGV[3]
local now, idle, grace = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local tombstone_ms, history_len, sid = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9]

local f = redis.call('HMGET', KEYS[1], 'refresh_hash', 'previous_hash', 'rotated_at',
  'successor', 'expires_at', 'absolute_expires_at')
if not f[1] then
  local reason = redis.call('GET', KEYS[3])
  return {'ended', reason or 'invalid'}
end
local current, previous, rotated_at = f[1], f[2] or '', tonumber(f[3])
local successor, expires_at, absolute = f[4] or '', tonumber(f[5]), tonumber(f[6])

local function finish(reason)
  redis.call('DEL', KEYS[1], KEYS[4])
  redis.call('ZREM', KEYS[2], sid)
  redis.call('SET', KEYS[3], reason, 'PX', tombstone_ms)
  return {'ended', reason}
end

if now >= expires_at or now >= absolute then
  return finish('expired')
end
if presented ~= '' and presented == current then
  local new_expires = string.format('%.0f', math.min(now + idle, absolute))
  local keep_until = string.format('%.0f', math.min(now + idle, absolute) + tombstone_ms)
  local at = string.format('%.0f', now)
  redis.call('HSET', KEYS[1], 'refresh_hash', new_hash, 'previous_hash', current,
    'rotated_at', at, 'successor', sealed, 'last_activity', at, 'expires_at', new_expires)
  redis.call('PEXPIREAT', KEYS[1], keep_until)
  redis.call('ZADD', KEYS[4], at, current)
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -(history_len + 1))
  redis.call('PEXPIREAT', KEYS[4], keep_until)
  redis.call('ZADD', KEYS[2], new_expires, sid)
  return {'rotated', new_expires}
end
-- The previous token, however late: a lost reply or a sibling tab gets the successor.
if presented ~= '' and presented == previous then
  return {'replayed', string.format('%.0f', expires_at), successor}
end
-- An earlier token: a late sibling just after a rotation, else theft.
if presented ~= '' and redis.call('ZSCORE', KEYS[4], presented) then
  if now < rotated_at + grace then
    return {'superseded'}
  end
  return finish('reused')
end
return {'unrecognised'}
