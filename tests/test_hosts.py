"""The single-flight host cache, driven by a resolver coroutine we control."""

from __future__ import annotations

import asyncio

import pytest

from aiopinecone._hosts import HostCache, data_plane_url
from aiopinecone.exceptions import ResponseParseError


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("prod-1-data.ke.pinecone.io", "https://prod-1-data.ke.pinecone.io/assistant"),
        ("https://h.example/", "https://h.example/assistant"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/assistant"),
        ("HTTP://127.0.0.1:8080", "HTTP://127.0.0.1:8080/assistant"),
        (" h.example ", "https://h.example/assistant"),
    ],
)
def test_data_plane_url(host: str, url: str) -> None:
    assert data_plane_url(host) == url


@pytest.mark.parametrize("host", ["", "  ", "ftp://h.example"])
def test_data_plane_url_rejects(host: str) -> None:
    with pytest.raises(ResponseParseError):
        data_plane_url(host)


class Resolver:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.gate = asyncio.Event()
        self.fail: Exception | None = None

    async def __call__(self, name: str) -> str:
        self.calls.append(name)
        await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return f"{name}.example"


async def test_concurrent_first_calls_share_one_resolve() -> None:
    resolver = Resolver()
    cache = HostCache(resolver)
    waiters = [asyncio.ensure_future(cache.get("a")) for _ in range(20)]
    await asyncio.sleep(0)
    resolver.gate.set()
    assert set(await asyncio.gather(*waiters)) == {"https://a.example/assistant"}
    assert resolver.calls == ["a"]
    assert await cache.get("a") == "https://a.example/assistant"
    assert resolver.calls == ["a"]


async def test_failure_reaches_every_waiter_and_is_not_cached() -> None:
    resolver = Resolver()
    resolver.fail = RuntimeError("describe failed")
    cache = HostCache(resolver)
    waiters = [asyncio.ensure_future(cache.get("a")) for _ in range(5)]
    await asyncio.sleep(0)
    resolver.gate.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert resolver.calls == ["a"]
    resolver.fail = None
    assert await cache.get("a") == "https://a.example/assistant"
    assert resolver.calls == ["a", "a"]


async def test_cancelling_one_waiter_does_not_cancel_the_resolve() -> None:
    resolver = Resolver()
    cache = HostCache(resolver)
    first = asyncio.ensure_future(cache.get("a"))
    second = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    resolver.gate.set()
    assert await second == "https://a.example/assistant"
    assert first.cancelled()
    assert resolver.calls == ["a"]


async def test_all_waiters_cancelled_resolve_still_completes_quietly() -> None:
    resolver = Resolver()
    resolver.fail = RuntimeError("boom")
    cache = HostCache(resolver)
    only = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0)
    only.cancel()
    resolver.gate.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert only.cancelled()
    assert cache.peek("a") is None


async def test_prime_and_forget() -> None:
    resolver = Resolver()
    resolver.gate.set()
    cache = HostCache(resolver)
    cache.prime("a", "http://127.0.0.1:1")
    cache.prime("b", None)
    assert await cache.get("a") == "http://127.0.0.1:1/assistant"
    assert resolver.calls == []
    cache.forget("a")
    assert cache.peek("a") is None
    assert await cache.get("a") == "https://a.example/assistant"
    assert resolver.calls == ["a"]


async def test_forget_during_resolve_does_not_store_stale_url() -> None:
    resolver = Resolver()
    cache = HostCache(resolver)
    waiter = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0)
    cache.forget("a")
    resolver.gate.set()
    assert await waiter == "https://a.example/assistant"
    assert cache.peek("a") is None
    # The next call resolves again instead of joining the forgotten flight.
    assert await cache.get("a") == "https://a.example/assistant"
    assert resolver.calls == ["a", "a"]


async def test_a_resolve_started_before_forget_and_get_again_stores_nothing() -> None:
    """forget() then a new get() while the first resolve runs: only the new one is stored."""
    resolver = Resolver()
    cache = HostCache(resolver)
    first = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0)
    cache.forget("a")
    second = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0)
    resolver.gate.set()
    await asyncio.gather(first, second)
    assert resolver.calls == ["a", "a"]
    assert cache.peek("a") == "https://a.example/assistant"


async def test_forgotten_names_leave_nothing_behind() -> None:
    resolver = Resolver()
    resolver.gate.set()
    cache = HostCache(resolver)
    for i in range(1000):
        cache.prime(f"n{i}", "http://127.0.0.1:1")
        cache.forget(f"n{i}")
    assert all(not getattr(cache, slot) for slot in ("_urls", "_inflight"))
    assert set(HostCache.__slots__) == {"_inflight", "_resolve", "_urls"}


async def test_separate_names_resolve_separately() -> None:
    resolver = Resolver()
    resolver.gate.set()
    cache = HostCache(resolver)
    assert list(await asyncio.gather(cache.get("a"), cache.get("b"))) == [
        "https://a.example/assistant",
        "https://b.example/assistant",
    ]
    assert sorted(resolver.calls) == ["a", "b"]


async def test_clear_cancels_pending_resolves() -> None:
    resolver = Resolver()
    cache = HostCache(resolver)
    cache.prime("b", "b.example")
    waiter = asyncio.ensure_future(cache.get("a"))
    await asyncio.sleep(0)
    cache.clear()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert cache.peek("b") is None
