-- Keeps a user's most recently active sessions: ends the least recently active beyond
-- ARGV[2] (remembered as ARGV[3], like a revocation), and drops index entries whose
-- session is gone. All keys share the user's hash tag (one Cluster slot). Returns how
-- many sessions it ended.
-- KEYS[1] user's session index; ARGV: user key prefix ("<p>:{<uid>}:"), keep, reason,
-- tombstone_ms
local prefix, keep, reason, tombstone_ms = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
if #members <= keep then return 0 end
local live = {}
for _, member in ipairs(members) do
  local last = redis.call('HGET', prefix .. 'session:' .. member, 'last_activity')
  if last then
    live[#live + 1] = { member, tonumber(last) }
  else
    redis.call('ZREM', KEYS[1], member)
  end
end
if #live <= keep then return 0 end
-- Least recently active first; ties by member, so every store picks the same one.
table.sort(live, function(a, b)
  if a[2] ~= b[2] then return a[2] < b[2] end
  return a[1] < b[1]
end)
for i = 1, #live - keep do
  local member = live[i][1]
  redis.call('DEL', prefix .. 'session:' .. member)
  redis.call('ZREM', KEYS[1], member)
  redis.call('SET', prefix .. 'ended:' .. member, reason, 'PX', tombstone_ms)
end
return #live - keep
