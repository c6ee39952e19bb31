"""The one place that imports redis-py (``redis.asyncio``), lazily, for the optional Redis parts.

The shared rate budget and the provisioning lease need Redis only when a Redis URL is given, so
``import aiopinecone`` never imports redis-py. Without the ``aiopinecone[redis]`` extra, asking
for Redis fails with an error that says what to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .exceptions import ValidationError

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["REDIS_URL_ENV", "connect", "describe_url"]

REDIS_URL_ENV = "AIOPINECONE_RATE_REDIS_URL"
"""The environment variable naming the Redis that processes share their rate budget through."""


def _module() -> Any:
    try:
        import redis.asyncio as aioredis  # optional: imported on first use
    except ImportError as exc:
        raise ImportError(
            "a Redis URL was given but redis-py is not installed: pip install 'aiopinecone[redis]'"
        ) from exc
    return aioredis


def connect(url: str, *, timeout: float = 2.0) -> aioredis.Redis:
    """A redis-py asyncio client for ``url`` (``redis://``, ``rediss://`` or ``unix://``).

    Every command is bounded by ``timeout`` seconds (connect and read), so an unreachable or
    stalled Redis becomes an error quickly instead of a hang.
    """
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValidationError(
            f"a Redis URL must start with redis://, rediss:// or unix://, got {describe_url(url)!r}"
        )
    module = _module()
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    # One quick re-try on a dropped connection (a server restart), never redis-py's default of
    # several with growing sleeps: callers fall back to local limiting instead of waiting.
    client: aioredis.Redis = module.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=0,
    )
    return client


def describe_url(url: object) -> str:
    """``url`` without its password, for messages and logs."""
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text[:80]
    auth, at, host = rest.rpartition("@")
    if not at:
        return text
    user = auth.partition(":")[0]
    return f"{scheme}://{user + ':***' if user else '***'}@{host}"
