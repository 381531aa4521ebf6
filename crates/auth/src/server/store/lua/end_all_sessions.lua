-- Ends the given sessions of one user (a bounded batch of its index members: the caller
-- walks the index, so a person with many sessions never holds Redis for long). All keys
-- share the user's hash tag, so they live in one Cluster slot. Returns how many were
-- live.
-- KEYS[1] user's session index; ARGV: user key prefix ("<p>:{<uid>}:"), reason,
-- tombstone_ms, now, then members (`SessionId::within_user`)
local prefix, reason, tombstone_ms = ARGV[1], ARGV[2], ARGV[3]
local now = tonumber(ARGV[4])
local live = 0
for i = 5, #ARGV do
  local member = ARGV[i]
  local key = prefix .. 'session:' .. member
  local f = redis.call('HMGET', key, 'expires_at', 'absolute_expires_at')
  if f[1] then
    redis.call('DEL', key)
    if tonumber(f[1]) > now and tonumber(f[2]) > now then live = live + 1 end
  end
  redis.call('SET', prefix .. 'ended:' .. member, reason, 'PX', tombstone_ms)
  redis.call('ZREM', KEYS[1], member)
end
return live
