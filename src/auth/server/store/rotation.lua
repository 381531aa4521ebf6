-- One refresh, atomically: the twin of `decide` in rotation.rs beside this file.
-- KEYS[1] session hash, KEYS[2] user's session index (zset), KEYS[3] tombstone
-- ARGV: presented, new_hash, sealed, now, now + idle, now + idle + tombstone, grace_ms,
--   tombstone_ms, history_len (at most 32), member (the session's entry in the index,
--   `SessionId::within_user`)
--
-- Hashes are raw bytes. The earlier hashes live in the session hash too, as 8-byte
-- fingerprints (enough to tell an earlier token from a made-up one), newest first,
-- eight to a field: every field stays within 64 bytes, so Redis keeps the whole session
-- in one compact listpack and a refresh is one HMGET, one HSET and one PEXPIREAT.
--
-- Written for speed (a refresh runs it; measured with `./scripts/bench`): Lua in Redis
-- is slow at turning numbers into strings, so the usual times come ready-made in ARGV
-- and only the rare paths format a number.
--
-- Replies: a rotation answers the new expiry alone (a string); everything else is a
-- table whose first element names the outcome.
local call, sub = redis.call, string.sub
local FINGERPRINT = 8
local presented, new_hash, sealed, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now = tonumber(at)

local f = call('HMGET', KEYS[1], 'refresh_hash', 'previous_hash', 'expires_at',
  'absolute_expires_at', 'history:1', 'history:2', 'history:3', 'history:4')
local current = f[1]
if not current then
  local reason = call('GET', KEYS[3])
  return {'ended', reason or 'invalid'}
end
local absolute = tonumber(f[4])

local function finish(reason)
  call('DEL', KEYS[1])
  call('ZREM', KEYS[2], ARGV[10])
  call('SET', KEYS[3], reason, 'PX', ARGV[8])
  return {'ended', reason}
end

if now >= tonumber(f[3]) or now >= absolute then
  return finish('expired')
end
if presented == '' then
  return {'unrecognised'}
end
if presented == current then
  local expires, keep = ARGV[5], ARGV[6]
  if tonumber(expires) > absolute then
    expires = f[4]
    keep = string.format('%.0f', absolute + tonumber(ARGV[8]))
  end
  local history = sub(sub(current, 1, FINGERPRINT) .. (f[5] or '') .. (f[6] or '')
    .. (f[7] or '') .. (f[8] or ''), 1, tonumber(ARGV[9]) * FINGERPRINT)
  call('HSET', KEYS[1], 'refresh_hash', new_hash, 'previous_hash', current,
    'successor', sealed, 'last_activity', at, 'expires_at', expires,
    'history:1', sub(history, 1, 64), 'history:2', sub(history, 65, 128),
    'history:3', sub(history, 129, 192), 'history:4', sub(history, 193, 256))
  call('PEXPIREAT', KEYS[1], keep)
  -- The common answer alone is a plain string: a table reply costs Redis about 0.8 us.
  return expires
end
-- The previous token, however late: a lost reply or a sibling tab gets the successor.
if presented == f[2] then
  local g = call('HMGET', KEYS[1], 'expires_at', 'successor')
  return {'replayed', g[1], g[2] or ''}
end
-- An earlier token: a late sibling just after a rotation, else theft.
local fingerprint = sub(presented, 1, FINGERPRINT)
local history = (f[5] or '') .. (f[6] or '') .. (f[7] or '') .. (f[8] or '')
for i = 1, #history, FINGERPRINT do
  if sub(history, i, i + FINGERPRINT - 1) == fingerprint then
    local issued_at = tonumber(call('HGET', KEYS[1], 'last_activity'))
    if now < issued_at + tonumber(ARGV[7]) then
      return {'superseded'}
    end
    return finish('reused')
  end
end
return {'unrecognised'}
