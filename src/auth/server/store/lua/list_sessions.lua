-- All stored sessions of one user (the caller filters by time), each as its index member (`SessionId::within_user`) followed
-- by the values of the asked-for fields, the first of which every session has. Index
-- entries whose session key is gone are dropped.
-- KEYS[1] user's session index; ARGV: user key prefix ("<p>:{<uid>}:"), field, ...
local out = {}
local fields = {unpack(ARGV, 2)}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. 'session:' .. member
  local values = redis.call('HMGET', key, unpack(fields))
  if values[1] then
    table.insert(values, 1, member)
    out[#out + 1] = values
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return out
