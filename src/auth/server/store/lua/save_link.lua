-- Saves the one live sign-in link of an address, replacing any earlier one.
-- KEYS[1] the link hash; ARGV: expire_at (ms), field, value, ...
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
