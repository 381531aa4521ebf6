-- Finds the link whose secret hashes to ARGV[1] among an address's links; returns its
-- email when it has not expired at ARGV[2], else false. With ARGV[3] = 1 (redeem) a
-- matching link is used: every link of the address goes (one sign-in ends the others).
-- KEYS[1] the address's link hash (see save_link.lua); ARGV: secret_hash, now, redeem
local fields = redis.call('HGETALL', KEYS[1])
local email, expires_at
for i = 1, #fields, 2 do
  local field, value = fields[i], fields[i + 1]
  if field == 'email' then
    email = value
  elseif string.sub(field, 1, 2) == 'n:' then
    local hash, at = string.match(value, '^(.*):(%d+)$')
    if hash == ARGV[1] then expires_at = tonumber(at) end
  elseif field == 'secret_hash' and value == ARGV[1] then
    -- A link saved before per-network links existed.
    for j = 1, #fields, 2 do
      if fields[j] == 'expires_at' then expires_at = tonumber(fields[j + 1]) end
    end
  end
end
if not expires_at or not email then return false end
if ARGV[3] == '1' then redis.call('DEL', KEYS[1]) end
if expires_at <= tonumber(ARGV[2]) then return false end
return email
