-- Saves a sign-in link: one live link per address and requesting network. A new one
-- replaces only that network's; beyond ARGV[5] networks the oldest link goes.
-- KEYS[1] the address's link hash: field `email`, and one field `n:<network>` a link
-- with the value `<secret hash>:<expires at ms>`.
-- ARGV: expires_at (ms), email, network field, secret_hash, max networks
redis.call('HSET', KEYS[1], 'email', ARGV[2], ARGV[3], ARGV[4] .. ':' .. ARGV[1])
-- Links made before per-network links existed (one per address): the new one wins.
redis.call('HDEL', KEYS[1], 'secret_hash', 'expires_at')
local fields = redis.call('HGETALL', KEYS[1])
local links, oldest, oldest_at = 0, nil, nil
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 2) == 'n:' then
    links = links + 1
    local at = tonumber(string.match(fields[i + 1], ':(%d+)$'))
    if not oldest_at or at < oldest_at then oldest, oldest_at = fields[i], at end
  end
end
if links > tonumber(ARGV[5]) then redis.call('HDEL', KEYS[1], oldest) end
-- Links live equally long: the newest expires last.
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
