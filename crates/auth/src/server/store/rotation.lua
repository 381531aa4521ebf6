-- One refresh, atomically: the twin of `decide` in rotation.rs beside this file.
-- KEYS[1] session hash, KEYS[2] user's session index (zset), KEYS[3] tombstone,
--   KEYS[4] the used-proof marker of the presented DPoP proof's jti
-- ARGV: presented, new_hash, sealed, now, now + idle, now + idle + tombstone, grace_ms,
--   tombstone_ms, member (the session's entry in the index, `SessionId::within_user`),
--   the proof's key thumbprint ('' without a proof), proof lifetime ms, the caller's
--   address, the caller's device label
--
-- Hashes are raw bytes. The earlier hashes live in the session hash too, as 8-byte
-- fingerprints (enough to tell an earlier token from a made-up one) in a ring of
-- 32 slots (`HISTORY_LEN`), eight to a field (history:1 to history:4): a rotation writes the
-- fingerprint of the hash it replaces into the slot after the one it wrote last, which
-- holds the previous hash's fingerprint. So a rotation rewrites one history field, not
-- four, and needs no counter. Every field stays within 64 bytes, so Redis keeps the
-- whole session in one compact listpack; a refresh is one HMGET, one HSET and one
-- PEXPIREAT.
--
-- Written for speed (a refresh runs it; measured with `./scripts/bench`):
-- - Redis finds a field in a listpack by scanning from the front, so
--   create_session.lua stores the fields read here first, in the order read here;
-- - Lua in Redis is slow at turning numbers into strings, so the usual times come
--   ready-made in ARGV and only the rare paths format a number.
--
-- Replies: a rotation answers the new expiry alone (a string); everything else is a
-- table whose first element names the outcome.
local call, sub = redis.call, string.sub
local FINGERPRINT, PER_FIELD, SLOTS = 8, 8, 32
local HISTORY = {'history:1', 'history:2', 'history:3', 'history:4'}
local presented, new_hash, sealed, at = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now = tonumber(at)

local f = call('HMGET', KEYS[1], 'refresh_hash', 'previous_hash', 'expires_at',
  'absolute_expires_at', HISTORY[1], HISTORY[2], HISTORY[3], HISTORY[4], 'jkt', 'rotated_at')
local current = f[1]
if not current then
  local reason = call('GET', KEYS[3])
  return {'ended', reason or 'invalid'}
end
-- Rule 0: a bound session moves only for a proof by its key, each proof once.
local bound = f[9]
if bound and bound ~= '' then
  if ARGV[10] ~= bound or not call('SET', KEYS[4], '', 'NX', 'PX', ARGV[11]) then
    return {'proof_refused'}
  end
end
local absolute = tonumber(f[4])

local function finish(reason)
  call('DEL', KEYS[1])
  call('ZREM', KEYS[2], ARGV[9])
  call('SET', KEYS[3], reason, 'PX', ARGV[8])
  return {'ended', reason}
end

-- The slot (0-based) that holds the fingerprint of `hash`, or nil. Hashes are 32 bytes;
-- anything shorter than a fingerprint is no hash of ours and matches nothing.
local function slot_of(hash)
  if #hash < FINGERPRINT then return nil end
  local fingerprint = sub(hash, 1, FINGERPRINT)
  for field = 1, 4 do
    local history = f[4 + field] or ''
    local from = 1
    while true do
      local found = string.find(history, fingerprint, from, true)
      if not found then break end
      if (found - 1) % FINGERPRINT == 0 then
        return (field - 1) * PER_FIELD + (found - 1) / FINGERPRINT
      end
      from = found + 1
    end
  end
  return nil
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
  -- The ring: the slot after the previous hash's, else (a first rotation) the first.
  local slot = 0
  local previous = f[2]
  if previous and previous ~= '' then
    slot = ((slot_of(previous) or -1) + 1) % SLOTS
  end
  local field = math.floor(slot / PER_FIELD) + 1
  local offset = (slot % PER_FIELD) * FINGERPRINT
  local old = f[4 + field] or ''
  call('HSET', KEYS[1], 'refresh_hash', new_hash, 'previous_hash', current,
    'expires_at', expires, HISTORY[field],
    sub(old, 1, offset) .. sub(current, 1, FINGERPRINT) .. sub(old, offset + FINGERPRINT + 1),
    'rotated_at', at, 'successor', sealed, 'last_activity', at, 'device', ARGV[13],
    'last_address', ARGV[12])
  call('PEXPIREAT', KEYS[1], keep)
  -- The common answer alone is a plain string: a table reply costs Redis about 0.8 us.
  return expires
end
-- Within the grace window after the latest rotation (sessions stored before
-- `rotated_at` existed count from their last activity).
local function racing()
  local rotated = f[10] or call('HGET', KEYS[1], 'last_activity')
  return now < tonumber(rotated) + tonumber(ARGV[7])
end
-- The previous token: a lost reply or a sibling tab gets the successor, recorded as
-- activity. A bound session honours it however late (only the key's holder can ask);
-- an unbound one within the grace window only, and later it is a copy: reused.
if presented == f[2] then
  if not (bound and bound ~= '') and not racing() then
    return finish('reused')
  end
  local successor = call('HGET', KEYS[1], 'successor')
  call('HSET', KEYS[1], 'last_activity', at, 'device', ARGV[13], 'last_address', ARGV[12])
  return {'replayed', f[3], successor or ''}
end
-- An earlier token: a late sibling just after a rotation, else theft.
if slot_of(presented) then
  if racing() then
    return {'superseded'}
  end
  return finish('reused')
end
return {'unrecognised'}
