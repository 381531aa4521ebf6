-- Ends one session and remembers why. Returns 1 when it was live.
-- KEYS[1] session hash, KEYS[2] user's session index, KEYS[3] tombstone
-- ARGV: index member (`SessionId::within_user`), reason, tombstone_ms, now
local f = redis.call('HMGET', KEYS[1], 'expires_at', 'absolute_expires_at')
if not f[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
local now = tonumber(ARGV[4])
if tonumber(f[1]) > now and tonumber(f[2]) > now then return 1 end
return 0
