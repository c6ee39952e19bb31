"""The controllers' learnt numbers shared through Redis, so a new process starts from them.

:class:`RedisLearntState` is the part of :class:`~aiopinecone._governor._redis.RedisStore` (its
base) that keeps what the adaptive controllers learnt: ``load_state``/``save_state`` (the last
writer wins; an identical save is skipped, so a save is news), ``publish_cut`` (the project's
slow start ends once, with the first process's cut) and ``state_changed`` (another process saved
new numbers since this one last loaded or saved them: the version seen on each take). While Redis
is down these read and write the local fallback store (:class:`RedisLink`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from ._redis_link import RedisLink
from ._redis_lua import PUBLISH_CUT

__all__ = ["STATE_TTL_MS", "RedisLearntState"]

STATE_TTL_MS: Final = 7 * 24 * 3600 * 1000
"""Learnt limits are kept a week after the last save."""


class RedisLearntState(RedisLink):
    """The learnt numbers of every class of the ``namespace`` in Redis (options: ``RedisLink``)."""

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(url, **options)
        self._publish_cut = self._redis.register_script(PUBLISH_CUT)
        self._versions: dict[str, int] = {}
        self._saved: dict[str, Mapping[str, float]] = {}
        self._stale: set[str] = set()

    def _note_version(self, key: str, raw: Any) -> None:
        version = int(raw.decode() if isinstance(raw, bytes) else raw)
        if version != self._versions.get(key, 0):
            self._versions[key] = version
            self._stale.add(key)

    def state_changed(self, key: str) -> bool:
        """Whether another process saved new learnt numbers for ``key`` since this store last
        loaded or saved them (seen on the last take); the governor then reloads them."""
        return key in self._stale

    async def publish_cut(
        self, key: str, state: Mapping[str, float]
    ) -> tuple[bool, Mapping[str, float] | None]:
        """End the project's slow start with ``state`` unless another process did first.
        Returns (True, the state published) for the first, else (False, the state to adopt);
        (False, None): Redis not reached, or nothing to adopt."""
        if self._down:
            return False, None
        args: list[Any] = [self._keep_ms(), STATE_TTL_MS]
        for name, value in state.items():
            args += [name, repr(float(value))]
        try:
            reply = await self._publish_cut(
                keys=[*self._keys(key), self._state_key(key)], args=args
            )
        except Exception as exc:
            self._failed(exc, "sharing learnt limits")
            return False, None
        raw = reply[2]
        published = {
            (raw[i].decode() if isinstance(raw[i], bytes) else str(raw[i])): float(raw[i + 1])
            for i in range(0, len(raw) - 1, 2)
        }
        if int(reply[0]):
            self._versions[key] = int(reply[1])  # our own save: nothing to reload
            self._saved[key] = dict(published)
            return True, published
        if not published:
            return False, None
        self._saved[key] = dict(published)
        return False, published

    def _state_key(self, key: str) -> str:
        return f"aiopinecone:rate:{{{self.namespace}:{key}}}:state"

    async def load_state(self, key: str) -> Mapping[str, float] | None:
        """See :meth:`BudgetStore.load_state` (what any process saved last)."""
        self._stale.discard(key)
        if not self._down:
            try:
                raw = await self._redis.hgetall(self._state_key(key))
            except Exception as exc:
                self._failed(exc, "reading learnt limits")
            else:
                if raw:
                    state = {
                        (k.decode() if isinstance(k, bytes) else str(k)): float(v)
                        for k, v in raw.items()
                    }
                    self._saved[key] = state
                    return dict(state)
                return await self.local.load_state(key)
        return await self.local.load_state(key)

    async def save_state(self, key: str, state: Mapping[str, float]) -> None:
        """See :meth:`BudgetStore.save_state` (shared: the last writer wins)."""
        if self._saved.get(key) == state:
            return  # nothing new: no save, no reload in the other processes
        self._saved[key] = dict(state)
        await self.local.save_state(key, state)
        if self._down or not state:
            return
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                name = self._state_key(key)
                pipe.delete(name)
                pipe.hset(name, mapping={k: repr(float(v)) for k, v in state.items()})
                pipe.pexpire(name, STATE_TTL_MS)
                if not state.get("slow_start", 1.0):
                    # The first real limit is published: slow start is over for the project.
                    pipe.hdel(self._keys(key)[2], "sslimit", "ss_frozen", "ss_ok", "ss_need")
                pipe.hincrby(self._keys(key)[2], "statever", 1)
                replies = await pipe.execute()
        except Exception as exc:
            self._failed(exc, "sharing learnt limits")
        else:
            self._versions[key] = int(replies[-1])  # our own save: nothing to reload
