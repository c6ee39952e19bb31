"""The Lua scripts of the Redis budget store: each :class:`BudgetStore` step is one atomic script.

Keys of one class (one Redis Cluster hash slot through the ``{...}`` tag):

- ``log``: ZSET, the window log; member ``"<seq>:<cost>"``, score the settle stamp;
- ``open``: ZSET, the open grants; member ``"<seq>:<cost>"`` (the grant id), score the take stamp;
- ``meta``: HASH, ``logged`` (sum of the log's costs), ``inflight`` (sum of the open grants'
  costs), ``blocked`` (blocked-until stamp), ``seq`` (grant counter), ``statever`` (how many
  times a process saved its learnt state: others reload it when it changes), ``probe_next``
  and ``probe_gap`` (probes past the budget: one at a time for every process; after a refused
  one, none for ``probe_gap``, or for as long as the refused probe's process holds them off),
  ``sslimit`` (the project's limit during slow start: every process takes against it and
  grows it by compare-and-set, so the project overshoots the server's limit once, not once per
  process; dropped when a process publishes the first real limit).

A probe's grant id starts with ``p``.

Stamps are Redis ``TIME`` (seconds, microsecond resolution): the one clock of every process.
Numbers go back to Python as strings (Redis truncates a Lua number reply to an integer). Every
write refreshes a ``PEXPIRE`` of ``ARGV[keep]`` ms, so an abandoned class disappears by itself.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BLOCK",
    "GROW",
    "HOLD_PROBES",
    "OLDEST",
    "PUBLISH_CUT",
    "SETTLE",
    "TAKE",
    "USAGE",
]

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
-- Slow start shared by the project: take against the shared limit (the first taker sets it).
local shared = ''
local learning_probe = ARGV[7] == '1' and limit == math.huge
if ARGV[7] == '1' and not learning_probe then
    shared = redis.call('HGET', meta, 'sslimit')
    if shared then
        limit = tonumber(shared)
    else
        shared = ARGV[2]
        redis.call('HSET', meta, 'sslimit', shared)
        keep(keep_ms)
    end
end
if now < blocked then
    return {0, tostring(blocked - now), '0', version, shared}
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
if learning_probe and inflight > 0 then
    -- Slow start's probe (the limit is a guess no answer can grow): only when no process
    -- has a request in flight, whose answer would grow the shared limit anyway.
    return {0, 'inf', '0', version, shared}
end
if probe then
    -- A probe past the budget: one process at a time probes the whole project's budget.
    local next_probe = tonumber(redis.call('HGET', meta, 'probe_next') or '0')
    if now < next_probe then
        return {0, tostring(next_probe - now), '0', version, shared}
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
    if used <= 0 then redis.call('HSET', meta, 'burst_at', now) end
    keep(keep_ms)
    return {1, member, tostring(used + cost), version, shared}
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
            return {0, tostring(wait), '0', version, shared}
        end
    end
    offset = offset + 128
end
if inflight <= 0 then
    -- Larger than the limit (a token permit): it goes alone once the log is empty.
    local last = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
    if #last > 0 then
        local wait = math.max(tonumber(last[2]) + window - now, 0.000001)
        return {0, tostring(wait), '0', version, shared}
    end
end
return {0, 'inf', '0', version, shared}
"""
)
"""ARGV: cost, limit (``inf``: a probe), window, grant ttl (s), keep (ms), probe gap (s),
learning (``"1"``: the caller is in slow start; take against ``meta.sslimit`` instead; with
limit ``inf``, slow start's probe: only when no grant of any process is open).
Returns ``{1, grant id, used, version, shared}`` (used: the units counted with this grant) or
``{0, wait seconds or "inf", "0", version, shared}``; ``version`` counts the saves of the
shared controller state (``meta.statever``); ``shared``: the slow-start limit taken against
(``""`` when not learning)."""

SETTLE: Final = (
    _COMMON
    + """
local member, counted, final, keep_ms = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if ARGV[5] and ARGV[5] ~= '' then
    -- A 429 with a Retry-After: the slot comes back and the class is blocked in one step (no
    -- other request takes the freed slot before the block).
    local block_to = now + tonumber(ARGV[5])
    if block_to > tonumber(redis.call('HGET', meta, 'blocked') or '0') then
        redis.call('HSET', meta, 'blocked', block_to)
    end
    keep(keep_ms)
end
if ARGV[6] == '1' then
    -- A real limit met in the project's slow start: no step grows past it any more.
    redis.call('HSET', meta, 'ss_frozen', 1)
end
local taken = tonumber(redis.call('ZSCORE', open, member) or '0')
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
    if ARGV[7] and ARGV[7] ~= '' then
        -- An acceptance in the project's slow start: it counts towards the step if its
        -- grant was taken since the step began (every process's); once the step's grants
        -- are all accepted, a saturated one (the budget is the bottleneck) grows the shared
        -- limit (when the caller saw the step's limit, ``from``).
        local cur = redis.call('HGET', meta, 'sslimit')
        if cur and not redis.call('HGET', meta, 'ss_frozen')
                and taken >= tonumber(redis.call('HGET', meta, 'ss_at') or '0') then
            local ok = tonumber(redis.call('HINCRBYFLOAT', meta, 'ss_ok', c))
            local need = tonumber(redis.call('HGET', meta, 'ss_need') or '0')
            if ok >= need and ARGV[9] == '1' then
                if math.abs(tonumber(cur) - tonumber(ARGV[7])) < 1e-9 then
                    local from, to = tonumber(ARGV[7]), tonumber(ARGV[8])
                    redis.call('HSET', meta, 'sslimit', ARGV[8], 'ssfloor', ARGV[7],
                        'ss_ok', 0, 'ss_need', to - from - c, 'ss_at', now)
                    cur = ARGV[8]
                else
                    -- The step is over but the caller's view is stale: it grows by GROW.
                    cur = cur .. '!'
                end
            end
        end
        keep(keep_ms)
        return cur or ''
    end
end
keep(keep_ms)
return 1
"""
)
"""ARGV: grant id, "1" counted / "0" not, final cost or "", keep (ms), block seconds (optional:
``BLOCK`` in the same step), ``"1"`` (optional): a real limit, slow start's steps stop; from,
to, saturated (optional, counted): an acceptance in the project's slow start at limit ``from``,
whose step ends at ``to``, the budget the bottleneck (``"1"``) or not. The reply is then the
shared limit ("": none; suffixed ``!`` when the step is over but ``from`` is not the shared
limit: the caller grows it with ``GROW``), else 1 (0: unknown grant)."""

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
local age = nil
if #first > 0 then age = now - tonumber(first[2]) end
-- The take that began the burst (the log is stamped at answers, later than the server).
local burst = tonumber(redis.call('HGET', meta, 'burst_at') or '0')
if burst > 0 and now - burst < window and (age == nil or now - burst > age) then
    age = now - burst
end
if age == nil then return '' end
return tostring(age)
"""
)
"""ARGV: window. Returns the age in seconds of the oldest entry still in the window, or of the
take that began the burst (``meta.burst_at``: a take into an empty window) if older ("": none)."""

GROW: Final = (
    _COMMON
    + """
local cur = redis.call('HGET', meta, 'sslimit')
if cur and redis.call('HGET', meta, 'ss_frozen') then return cur end
if (not cur) or math.abs(tonumber(cur) - tonumber(ARGV[1])) < 1e-9 then
    redis.call('HSET', meta, 'sslimit', ARGV[2], 'ssfloor', ARGV[1], 'ss_ok', 0,
        'ss_need', tonumber(ARGV[2]) - tonumber(ARGV[1]) - 1, 'ss_at', now)
    keep(ARGV[3])
    return ARGV[2]
end
return cur
"""
)
"""ARGV: from, to, keep (ms). Slow start's step for the project: the shared limit becomes ``to``
if it is still ``from`` (or unset); ``meta.ssfloor`` keeps ``from`` (every grant of that
step was accepted). Returns the shared limit now (as a string)."""

HOLD_PROBES: Final = (
    _COMMON
    + """
local until_ = now + tonumber(ARGV[1])
if until_ > tonumber(redis.call('HGET', meta, 'probe_next') or '0') then
    redis.call('HSET', meta, 'probe_next', until_)
end
keep(ARGV[2])
return 1
"""
)
"""ARGV: seconds, keep (ms). No process probes past the budget before ``now + seconds`` (a
refused probe confirmed the model: its process would not probe again before then)."""

PUBLISH_CUT: Final = (
    _COMMON
    + """
local state = KEYS[4]
if redis.call('HDEL', meta, 'sslimit') == 1 then
    local floor = tonumber(redis.call('HGET', meta, 'ssfloor') or '0')
    redis.call('HDEL', meta, 'ssfloor', 'ss_frozen', 'ss_ok', 'ss_need')
    redis.call('DEL', state)
    for i = 3, #ARGV, 2 do
        local value = ARGV[i + 1]
        if ARGV[i] == 'limit' and tonumber(value) < floor then value = tostring(floor) end
        redis.call('HSET', state, ARGV[i], value)
    end
    redis.call('PEXPIRE', state, ARGV[2])
    local version = redis.call('HINCRBY', meta, 'statever', 1)
    keep(ARGV[1])
    return {1, tostring(version), redis.call('HGETALL', state)}
end
return {0, '', redis.call('HGETALL', state)}
"""
)
"""KEYS: log, open, meta, state. ARGV: keep (ms), state ttl (ms), then the controller state as
name, value pairs. The first real limit of the project's slow start, published once: the first
process to end slow start writes its state (its limit at least ``meta.ssfloor``: the last step
every grant of which was accepted, whatever answers of other processes the log has not seen
yet) and returns ``{1, version, state}``; every later one gets ``{0, "", state}`` to adopt."""
