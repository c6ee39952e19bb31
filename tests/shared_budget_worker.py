"""A worker process of the shared-budget tests: creates assistants through one budget in Redis.

``python shared_budget_worker.py EMULATOR_URL REDIS_URL PREFIX COUNT LIMIT WINDOW``: waits for a
line on stdin (all workers start together), then creates COUNT assistants (4 in flight), each
after a grant of the ``assistants_write`` budget (LIMIT per WINDOW seconds) from the RedisStore,
settled when the answer arrives (a 429 gives the grant back). Prints one JSON line:
``{"created": n, "rate_limited": n, "fallbacks": n}``.
"""

from __future__ import annotations

import asyncio
import sys

import orjson

from aiopinecone import AsyncPinecone, RateLimitError, RetryPolicy
from aiopinecone._governor import Grant
from aiopinecone._governor._redis import RedisStore

KEY = "assistants_write"


async def main(
    url: str, redis_url: str, prefix: str, count: int, limit: float, window: float
) -> None:
    store = RedisStore(redis_url, namespace="shared-budget-test", reconnect_interval=0.1)
    created = rate_limited = 0
    slots = asyncio.Semaphore(4)
    await asyncio.to_thread(sys.stdin.readline)

    async with AsyncPinecone(api_key="test-key", host=url, retry=RetryPolicy.none()) as pc:

        async def one(i: int) -> None:
            nonlocal created, rate_limited
            async with slots:
                while True:
                    got = await store.take(KEY, cost=1, limit=limit, window=window)
                    while not isinstance(got, Grant):
                        await asyncio.sleep(min(got, 0.02))
                        got = await store.take(KEY, cost=1, limit=limit, window=window)
                    try:
                        await pc.assistants.create(name=f"{prefix}-{i}", instructions="x")
                    except RateLimitError as exc:
                        rate_limited += 1
                        await store.settle(got, counted=False)
                        await store.block(KEY, exc.retry_after or 0.05)
                        continue
                    except BaseException:
                        await store.settle(got, counted=True)
                        raise
                    await store.settle(got, counted=True)
                    created += 1
                    return

        await asyncio.gather(*(one(i) for i in range(count)))
    await store.aclose()
    print(
        orjson.dumps(
            {"created": created, "rate_limited": rate_limited, "fallbacks": store.outages}
        ).decode()
    )


if __name__ == "__main__":
    url, redis_url, prefix, count, limit, window = sys.argv[1:7]
    asyncio.run(main(url, redis_url, prefix, int(count), float(limit), float(window)))
