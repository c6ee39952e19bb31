"""The real Redis the shared-budget tests run against: it starts, answers, dies and comes back."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis_server import RedisServer


async def test_shared_server_answers(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        assert await client.ping()
        # The one clock and the script engine the shared backend relies on.
        seconds, micros = await client.time()
        assert seconds > 0
        assert 0 <= micros < 1_000_000
        script_seconds = await client.eval("return tonumber(redis.call('TIME')[1])", 0)
        assert script_seconds >= seconds
    finally:
        await client.aclose()


async def test_kill_and_restart_keeps_the_url(redis_server: RedisServer) -> None:
    client = aioredis.Redis.from_url(redis_server.url, socket_connect_timeout=1)
    try:
        await client.set("k", "v")
        redis_server.kill()
        assert not redis_server.running
        try:
            await client.get("k")
        except (aioredis.ConnectionError, OSError):
            pass
        else:
            raise AssertionError("a killed redis-server still answered")
        redis_server.start()
        assert await client.ping()
        assert await client.get("k") is None  # no persistence: a restart starts empty
    finally:
        await client.aclose()
