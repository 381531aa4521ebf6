-- All stored sessions of one user (the caller filters by time), each as the flat
-- field/value list of HGETALL. Index entries whose session key is gone are dropped.
-- KEYS[1] user's session index; ARGV: user key prefix ("<p>:{<uid>}:")
local out = {}
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local fields = redis.call('HGETALL', ARGV[1] .. 'session:' .. sid)
  if #fields > 0 then
    out[#out + 1] = fields
  else
    redis.call('ZREM', KEYS[1], sid)
  end
end
return out
