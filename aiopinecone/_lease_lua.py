"""The Lua scripts of the fleet lease (``_lease.py``): take, renew and give back, each atomic.

One Redis hash per fleet, ``aiopinecone:lease:<fleet>``. A field per holder, named after what it
holds: ``all`` (the whole fleet) or ``I/N`` (shard I of N). Its value is
``<token>|<expires ms>|<since ms>|<count>|<holder>``: the holder's secret token, when its hold
ends unless renewed and when it began (Redis ``TIME``, the one clock of every machine), the
shard count (0 for the whole fleet) and who it is (free text, last: it may hold ``|``).

Two holds are compatible only when both are shards of the same count with different indexes:
``all`` conflicts with everything, the same field with itself, and a shard of another count with
every shard (their assistants overlap). A field past its expiry is a crashed holder's: it is
dropped by the next take and never renewed. The key itself expires with its last field, so an
abandoned fleet leaves nothing behind.
"""

from __future__ import annotations

from typing import Final

__all__ = ["RELEASE", "RENEW", "TAKE"]

_COMMON: Final = """
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function parse(value)
    local token, expires, since, count, holder =
        string.match(value, '^([^|]*)|(%d+)|(%d+)|(%d+)|(.*)$')
    return token, tonumber(expires), tonumber(since), tonumber(count), holder
end
local function keep_until(ms)
    local left = redis.call('PTTL', key)
    if left < 0 or now + left < ms then
        redis.call('PEXPIREAT', key, string.format('%d', ms))
    end
end
"""

TAKE: Final = (
    _COMMON
    + """
-- ARGV: field, count, token, ttl ms, holder. Returns {1, now} when taken, else
-- {0, now, the conflicting field, its value, its ms left}.
local field, count, token, ttl, holder =
    ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
local entries = redis.call('HGETALL', key)
for i = 1, #entries, 2 do
    local other, value = entries[i], entries[i + 1]
    local _, expires, _, other_count = parse(value)
    if expires == nil or expires <= now then
        redis.call('HDEL', key, other)  -- a crashed holder's (or unreadable): gone
    elseif other == field or other_count ~= count then
        return {0, now, other, value, expires - now}
    end
end
local expires = now + ttl
redis.call('HSET', key, field, string.format('%s|%d|%d|%d|%s', token, expires, now, count, holder))
keep_until(expires)
return {1, now}
"""
)

RENEW: Final = (
    _COMMON
    + """
-- ARGV: field, token, ttl ms. 1 when renewed; 0 when the hold is not ours any more.
local value = redis.call('HGET', key, ARGV[1])
if not value then return 0 end
local token, expires, since, count, holder = parse(value)
if token ~= ARGV[2] or expires == nil or expires <= now then return 0 end
expires = now + tonumber(ARGV[3])
redis.call('HSET', key, ARGV[1],
    string.format('%s|%d|%d|%d|%s', token, expires, since, count, holder))
keep_until(expires)
return 1
"""
)

RELEASE: Final = (
    _COMMON
    + """
-- ARGV: field, token. 1 when given back; 0 when it was not ours (expired, taken by another).
local value = redis.call('HGET', key, ARGV[1])
if not value then return 0 end
local token = parse(value)
if token ~= ARGV[2] then return 0 end
redis.call('HDEL', key, ARGV[1])
if redis.call('HLEN', key) == 0 then redis.call('DEL', key) end
return 1
"""
)
