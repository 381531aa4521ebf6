-- One refresh, atomically: the twin of `decide` in rotation.rs beside this file.
-- KEYS[1] session hash, KEYS[2] user's session index (zset), KEYS[3] tombstone
-- ARGV: presented, new_hash, sealed, now, idle_ms, grace_ms, tombstone_ms, history_len, member
-- (member: the session's entry in the index, `SessionId::within_user`)
--
-- Hashes are raw bytes. The earlier hashes live in the session hash too, as 8-byte
-- fingerprints (enough to tell an earlier token from a made-up one), newest first,
-- eight to a field: every field stays within 64 bytes, so Redis keeps the whole session
-- in one compact listpack and a refresh is one HMGET, one HSET and one PEXPIREAT.
local FINGERPRINT, PER_FIELD = 8, 8
local presented, new_hash, sealed = ARGV[1], ARGV[2], ARGV[3]
local now, idle, grace = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local tombstone_ms, history_len, member = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9]
local history_fields = math.ceil(history_len / PER_FIELD)

local names = {'refresh_hash', 'previous_hash', 'rotated_at', 'successor', 'expires_at',
  'absolute_expires_at'}
for i = 1, history_fields do names[#names + 1] = 'history:' .. i end
local f = redis.call('HMGET', KEYS[1], unpack(names))
if not f[1] then
  local reason = redis.call('GET', KEYS[3])
  return {'ended', reason or 'invalid'}
end
local current, previous, rotated_at = f[1], f[2] or '', tonumber(f[3])
local successor, expires_at, absolute = f[4] or '', tonumber(f[5]), tonumber(f[6])
local parts = {}
for i = 1, history_fields do parts[i] = f[6 + i] or '' end
local history = table.concat(parts)

local function finish(reason)
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], member)
  redis.call('SET', KEYS[3], reason, 'PX', tombstone_ms)
  return {'ended', reason}
end

local function earlier(hash)
  local fingerprint = string.sub(hash, 1, FINGERPRINT)
  for i = 1, #history, FINGERPRINT do
    if string.sub(history, i, i + FINGERPRINT - 1) == fingerprint then return true end
  end
  return false
end

if now >= expires_at or now >= absolute then
  return finish('expired')
end
if presented ~= '' and presented == current then
  local new_expires = string.format('%.0f', math.min(now + idle, absolute))
  local keep_until = string.format('%.0f', math.min(now + idle, absolute) + tombstone_ms)
  local at = string.format('%.0f', now)
  history = string.sub(string.sub(current, 1, FINGERPRINT) .. history, 1,
    history_len * FINGERPRINT)
  local update = {'refresh_hash', new_hash, 'previous_hash', current, 'rotated_at', at,
    'successor', sealed, 'last_activity', at, 'expires_at', new_expires}
  local width = PER_FIELD * FINGERPRINT
  for i = 1, history_fields do
    update[#update + 1] = 'history:' .. i
    update[#update + 1] = string.sub(history, (i - 1) * width + 1, i * width)
  end
  redis.call('HSET', KEYS[1], unpack(update))
  redis.call('PEXPIREAT', KEYS[1], keep_until)
  return {'rotated', new_expires}
end
-- The previous token, however late: a lost reply or a sibling tab gets the successor.
if presented ~= '' and presented == previous then
  return {'replayed', string.format('%.0f', expires_at), successor}
end
-- An earlier token: a late sibling just after a rotation, else theft.
if presented ~= '' and earlier(presented) then
  if now < rotated_at + grace then
    return {'superseded'}
  end
  return finish('reused')
end
return {'unrecognised'}
