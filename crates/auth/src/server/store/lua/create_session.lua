-- Stores a new session and indexes it under its user.
-- KEYS[1] session hash, KEYS[2] user's session index (zset, score = sign-in time; members
-- are session ids within the user: `SessionId::within_user`)
-- ARGV: session_expire_at, index_expire_at, member, created_at, field, value, ...
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
if redis.call('PEXPIRETIME', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
end
return 1
