"""The Lua scripts of the Redis budget store: each :class:`BudgetStore` step is one atomic script.

Keys of one class (one Redis Cluster hash slot through the ``{...}`` tag):

- ``log``: ZSET, the window log; member ``"<seq>:<cost>"``, score the settle stamp;
- ``open``: ZSET, the open grants; member ``"<seq>:<cost>"`` (the grant id), score the take stamp;
- ``meta``: HASH, ``logged`` (sum of the log's costs), ``inflight`` (sum of the open grants'
  costs), ``blocked`` (blocked-until stamp), ``seq`` (grant counter), ``statever`` (how many
  times a process saved its learnt state: others reload it when it changes), ``probe_next``
  and ``probe_gap`` (probes past the budget: one at a time for every process; after a refused
  one, none for ``probe_gap``).

A probe's grant id starts with ``p``.

Stamps are Redis ``TIME`` (seconds, microsecond resolution): the one clock of every process.
Numbers go back to Python as strings (Redis truncates a Lua number reply to an integer). Every
write refreshes a ``PEXPIRE`` of ``ARGV[keep]`` ms, so an abandoned class disappears by itself.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BLOCK", "OLDEST", "SETTLE", "TAKE", "USAGE"]

_COMMON: Final = """
local log, open, meta = KEYS[1], KEYS[2], KEYS[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function cost_of(member)
    return tonumber(string.match(member, ':(.*)$'))
end
local function keep(ms)
    redis.call('PEXPIRE', log, ms)
    redis.call('PEXPIRE', open, ms)
    redis.call('PEXPIRE', meta, ms)
end
"""

TAKE: Final = (
    _COMMON
    + """
local cost, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ttl, keep_ms = tonumber(ARGV[4]), ARGV[5]
local blocked = tonumber(redis.call('HGET', meta, 'blocked') or '0')
local version = redis.call('HGET', meta, 'statever') or '0'
if now < blocked then
    return {0, tostring(blocked - now), '0', version}
end
-- Open grants older than the ttl (a crashed process): counted, stamped at their take time.
local stale = redis.call('ZRANGEBYSCORE', open, '-inf', '(' .. tostring(now - ttl), 'WITHSCORES')
for i = 1, #stale, 2 do
    local member, taken = stale[i], tonumber(stale[i + 1])
    local c = cost_of(member)
    redis.call('ZREM', open, member)
    redis.call('HINCRBYFLOAT', meta, 'inflight', -c)
    redis.call('ZADD', log, taken, member)
    redis.call('HINCRBYFLOAT', meta, 'logged', c)
end
-- Forget log entries with stamp + window <= now (the very sum handed out as a wait).
while true do
    local head = redis.call('ZRANGE', log, 0, 63, 'WITHSCORES')
    if #head == 0 then break end
    local gone = 0
    for i = 1, #head, 2 do
        if tonumber(head[i + 1]) + window <= now then
            redis.call('ZREM', log, head[i])
            redis.call('HINCRBYFLOAT', meta, 'logged', -cost_of(head[i]))
            gone = gone + 1
        else
            break
        end
    end
    if gone < #head / 2 then break end
end
if redis.call('ZCARD', log) == 0 then redis.call('HSET', meta, 'logged', 0) end
if redis.call('ZCARD', open) == 0 then redis.call('HSET', meta, 'inflight', 0) end
local logged = tonumber(redis.call('HGET', meta, 'logged') or '0')
local inflight = tonumber(redis.call('HGET', meta, 'inflight') or '0')
local used = logged + inflight
local probe = limit == math.huge
if probe then
    -- A probe past the budget: one process at a time probes the whole project's budget.
    local next_probe = tonumber(redis.call('HGET', meta, 'probe_next') or '0')
    if now < next_probe then
        return {0, tostring(next_probe - now), '0', version}
    end
    redis.call('HSET', meta, 'probe_next', now + tonumber(ARGV[6]))
    redis.call('HSET', meta, 'probe_gap', ARGV[6])
end
if used + cost <= limit or used <= 0 then
    local seq = redis.call('HINCRBY', meta, 'seq', 1)
    local member = tostring(seq) .. ':' .. ARGV[1]
    if probe then member = 'p' .. member end
    redis.call('ZADD', open, now, member)
    redis.call('HINCRBYFLOAT', meta, 'inflight', cost)
    keep(keep_ms)
    return {1, member, tostring(used + cost), version}
end
-- The smallest wait after which enough units have left the window.
local need = used + cost - limit
local freed = 0
local offset = 0
while true do
    local chunk = redis.call('ZRANGE', log, offset, offset + 127, 'WITHSCORES')
    if #chunk == 0 then break end
    for i = 1, #chunk, 2 do
        freed = freed + cost_of(chunk[i])
        if freed >= need then
            local wait = math.max(tonumber(chunk[i + 1]) + window - now, 0.000001)
            return {0, tostring(wait), '0', version}
        end
    end
    offset = offset + 128
end
return {0, 'inf', '0', version}
"""
)
"""ARGV: cost, limit (``inf``: a probe), window, grant ttl (s), keep (ms), probe gap (s).
Returns ``{1, grant id, used, version}`` (used: the units counted with this grant) or
``{0, wait seconds or "inf", "0", version}``; ``version`` counts the saves of the shared
controller state (``meta.statever``)."""

SETTLE: Final = (
    _COMMON
    + """
local member, counted, final, keep_ms = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if redis.call('ZREM', open, member) == 0 then
    return 0
end
local c = cost_of(member)
redis.call('HINCRBYFLOAT', meta, 'inflight', -c)
if redis.call('ZCARD', open) == 0 then redis.call('HSET', meta, 'inflight', 0) end
if string.sub(member, 1, 1) == 'p' then
    -- A probe's answer: accepted, the next probe may go at once; refused, not for a gap.
    local gap = 0
    if counted ~= '1' then gap = tonumber(redis.call('HGET', meta, 'probe_gap') or '0') end
    redis.call('HSET', meta, 'probe_next', now + gap)
end
if counted == '1' then
    local cost = c
    if final ~= '' then cost = tonumber(final) end
    local seq = string.match(member, '^(.*):')
    redis.call('ZADD', log, now, seq .. ':' .. tostring(cost))
    redis.call('HINCRBYFLOAT', meta, 'logged', cost)
end
keep(keep_ms)
return 1
"""
)
"""ARGV: grant id, "1" counted / "0" not, final cost or "", keep (ms)."""

BLOCK: Final = (
    _COMMON
    + """
local block_to = now + tonumber(ARGV[1])
local blocked = tonumber(redis.call('HGET', meta, 'blocked') or '0')
if block_to > blocked then
    redis.call('HSET', meta, 'blocked', block_to)
end
keep(ARGV[2])
return 1
"""
)
"""ARGV: seconds, keep (ms)."""

USAGE: Final = (
    _COMMON
    + """
local window = tonumber(ARGV[1])
local total = 0
local entries = redis.call('ZRANGEBYSCORE', log, '(' .. string.format('%.6f', now - window), '+inf')
for i = 1, #entries do
    total = total + cost_of(entries[i])
end
return tostring(total)
"""
)
"""ARGV: window. Returns the units logged with ``stamp + window > now`` (read-only)."""

OLDEST: Final = (
    _COMMON
    + """
local window = tonumber(ARGV[1])
local first = redis.call('ZRANGEBYSCORE', log, '(' .. string.format('%.6f', now - window), '+inf',
    'WITHSCORES', 'LIMIT', 0, 1)
if #first == 0 then return '' end
return tostring(now - tonumber(first[2]))
"""
)
"""ARGV: window. Returns the age in seconds of the oldest entry still in the window ("": none)."""
