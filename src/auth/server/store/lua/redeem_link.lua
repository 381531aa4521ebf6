-- Consumes a sign-in link once. Returns its email, or false.
-- KEYS[1] link hash; ARGV: secret_hash, now
local f = redis.call('HMGET', KEYS[1], 'secret_hash', 'email', 'expires_at')
if not f[1] or f[1] ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1])
if tonumber(f[3]) <= tonumber(ARGV[2]) then return false end
return f[2]
