-- Stored sessions of one user among the given index members (the caller filters by
-- time), each as its member followed by the values of the asked-for fields, the first
-- of which every session has. Members whose session key is gone leave the index.
-- The caller passes a bounded batch, so a person with many sessions never holds Redis
-- for long.
-- KEYS[1] user's session index; ARGV: user key prefix ("<p>:{<uid>}:"), number of
-- fields n, n fields, then members (`SessionId::within_user`)
local prefix, n = ARGV[1], tonumber(ARGV[2])
local fields = {unpack(ARGV, 3, 2 + n)}
local out = {}
for i = 3 + n, #ARGV do
  local member = ARGV[i]
  local values = redis.call('HMGET', prefix .. 'session:' .. member, unpack(fields))
  if values[1] then
    table.insert(values, 1, member)
    out[#out + 1] = values
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
return out
