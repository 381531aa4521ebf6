-- Returns the stored user, or stores the candidate. Either way the TTL is renewed.
-- KEYS[1] user key; ARGV: candidate JSON, ttl_ms
local existing = redis.call('GET', KEYS[1])
if existing then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return existing
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
