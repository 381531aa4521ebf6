-- All stored sessions of one user (live or not; the caller filters by time), each as
-- the flat field/value list of HGETALL.
-- KEYS[1] user's session index; ARGV: user key prefix ("<p>:{<uid>}:"), now
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local fields = redis.call('HGETALL', ARGV[1] .. 'session:' .. sid)
  if #fields > 0 then out[#out + 1] = fields end
end
return out
