-- Ends every session of one user. All keys share the user's hash tag, so they live in
-- one Cluster slot; the per-session keys are derived from the index members.
-- KEYS[1] user's session index; ARGV: user key prefix ("<p>:{<uid>}:"), reason,
-- tombstone_ms, now
local live = 0
local now = tonumber(ARGV[4])
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. 'session:' .. member
  local f = redis.call('HMGET', key, 'expires_at', 'absolute_expires_at')
  if f[1] then
    redis.call('DEL', key)
    if tonumber(f[1]) > now and tonumber(f[2]) > now then live = live + 1 end
  end
  redis.call('SET', ARGV[1] .. 'ended:' .. member, ARGV[2], 'PX', ARGV[3])
end
redis.call('DEL', KEYS[1])
return live
