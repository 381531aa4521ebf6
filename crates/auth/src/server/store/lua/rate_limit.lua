-- Fixed-window counter; the key names its window, so the window follows `now`.
-- KEYS[1] counter of this window; ARGV: window end (Unix ms)
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return count
