"""Calling: every request of a provisioning run goes through :meth:`Calls.call`, and only there.

Rate limits are the client's rate governor's business (one limiter in the package): every
attempt the client sends takes its permit there, and a 429's ``Retry-After`` pauses its whole
class. A run given its own ``rate_limits`` (``rate_preset``) configures the client's governor;
a client without one (``rate_limits="off"``, or another :class:`ProvisionClient`) gets a private
:class:`~aiopinecone.Governor` that this module holds around each call.

One logical call is: (a private governor's permit) -> a slot of the ``concurrency`` semaphore ->
``track_requests()`` (per-assistant attempts and 429s) -> the client method with
``retry=evolve(client retry, max_retry_after=0)``. A 429 that carries ``Retry-After`` thus comes
back here and the call is tried again once the governor lets it (an upload first looks whether
it landed); 5xx, transport errors and 429s without ``Retry-After`` keep the client's retries and
reconciliations.

The client is anything that has the few methods in :class:`ProvisionClient` (``pc.assistants``
does); provisioning never imports the resources that implement them.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

import attrs

from .._governor import Governor, RateLimits
from .._governor._config import (
    ASSISTANTS_DELETE,
    ASSISTANTS_READ,
    ASSISTANTS_WRITE,
    FILES_DELETE,
    FILES_READ,
    FILES_UPLOAD,
)
from .._retry import RetryPolicy
from .._stats import track_requests
from ..exceptions import APIError, RateLimitError
from ..models.assistants import Assistant, AssistantList
from ..models.files import AssistantFile
from ._report import Recorder
from ._specs import AssistantSpec

__all__ = ["Calls", "ProvisionClient"]

T = TypeVar("T")

_MAX_RATE_LIMITED: Final = 50
"""429s one request may meet before its assistant fails (the governor makes this rare)."""
_COUNTERS: Final = ("granted", "waited", "wait_s", "rate_limited", "probes")


class ProvisionClient(Protocol):
    """The client methods provisioning calls (``pc.assistants`` has them)."""

    async def list_page(
        self,
        *,
        page_size: int | None = ...,
        pagination_token: str | None = ...,
        retry: RetryPolicy | None = ...,
    ) -> AssistantList: ...

    async def create(
        self,
        *,
        name: str,
        instructions: str | None = ...,
        metadata: Mapping[str, Any] | None = ...,
        region: str = ...,
        retry: RetryPolicy | None = ...,
    ) -> Assistant: ...

    async def update(
        self,
        *,
        name: str,
        instructions: str = ...,
        metadata: Mapping[str, Any] = ...,
        retry: RetryPolicy | None = ...,
    ) -> Assistant: ...

    async def delete(self, *, name: str, retry: RetryPolicy | None = ...) -> None: ...

    async def upload_file(
        self,
        *,
        assistant_name: str,
        file_path: Path,
        metadata: Mapping[str, Any] | None = ...,
        file_id: str | None = ...,
        retry: RetryPolicy | None = ...,
    ) -> AssistantFile: ...

    def list_files(
        self, *, assistant_name: str, retry: RetryPolicy | None = ...
    ) -> Awaitable[list[AssistantFile]]: ...

    async def delete_file(
        self, *, assistant_name: str, file_id: str, retry: RetryPolicy | None = ...
    ) -> None: ...


Counted = Callable[[Recorder | None, int, int], None]
"""Told after every call: (the assistant's record, requests sent, 429s among them)."""


class Calls:
    """The requests of one run, each under the governor and the semaphore; 429s are waited
    out."""

    def __init__(
        self,
        client: ProvisionClient,
        *,
        api_version: str,
        retry: RetryPolicy,
        rate_limits: RateLimits,
        concurrency: int,
        clock: Callable[[], float],
        counted: Counted,
        governor: Governor | None = None,
    ) -> None:
        self._client = client
        self._v2026 = api_version >= "2026-04"
        self._policy = attrs.evolve(retry, max_retry_after=0.0)
        if governor is None:
            self._own: Governor | None = Governor(rate_limits, clock=clock)
            self._governor = self._own
        else:
            self._own = None
            self._governor = governor
            if rate_limits != RateLimits.default():
                governor.configure(rate_limits)
        self._before = self._governor.snapshot()
        self._concurrency = concurrency
        self._semaphore: asyncio.Semaphore | None = None
        self._counted = counted

    def snapshot(self) -> dict[str, Any]:
        """Per operation class used in this run: the governor's budget now and what the run
        added to its counters (permits, permits that waited, seconds waited, 429s, probes)."""
        out: dict[str, Any] = {}
        for cls, now in self._governor.snapshot().items():
            before = self._before.get(cls, {})
            row = {k: v for k, v in now.items() if k not in _COUNTERS}
            for key in _COUNTERS:
                row[key] = round(now.get(key, 0) - before.get(key, 0), 3)
            if row["granted"]:
                out[cls] = row
        return out

    def class_rates(self) -> dict[str, float]:
        """Per operation class with a known limit: the most requests per second it may send
        (for the progress display's ETA; an adaptive limit counts once it was learnt)."""
        rates: dict[str, float] = {}
        for op, state in self._governor.controllers().items():
            if math.isfinite(state.limit) and (state.learnt or not state.adaptive):
                rates[op] = state.limit / state.window
        return rates

    async def call(
        self,
        op_class: str,
        rec: Recorder | None,
        fn: Callable[[], Awaitable[T]],
        *,
        landed: Callable[[], Awaitable[T | None]] | None = None,
    ) -> T:
        """One logical request under the governor and the semaphore; 429s are waited out.

        ``landed``: for a call that makes several requests (an upload, then a look at what it
        created), a 429 may come *after* the write went through. Before trying again, ``landed()``
        looks for the result; if it finds it, that is the call's result and nothing is re-sent.
        """
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self._concurrency)
        own = self._own
        for attempt in range(1, _MAX_RATE_LIMITED + 1):
            permit = await own.acquire(op_class) if own is not None else None
            with track_requests() as stats:
                try:
                    async with self._semaphore:
                        result = await fn()
                except RateLimitError as exc:
                    if own is not None:
                        own.settle(permit, status=429, retry_after=exc.retry_after)
                    self._counted(rec, stats.requests, stats.rate_limited)
                    if attempt == _MAX_RATE_LIMITED:
                        raise
                    if landed is not None:
                        found = await landed()
                        if found is not None:
                            return found
                    continue
                except APIError as exc:
                    if own is not None:
                        own.settle(permit, status=exc.status, retry_after=None)
                    self._counted(rec, stats.requests, stats.rate_limited)
                    raise
                except BaseException:
                    if own is not None:
                        own.settle(permit, status=None, retry_after=None)
                    self._counted(rec, stats.requests, stats.rate_limited)
                    raise
            if own is not None:
                own.settle(permit, status=200, retry_after=None)
            self._counted(rec, stats.requests, stats.rate_limited)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the client methods provisioning uses, each in its operation class -----------------

    async def list_assistants(self) -> list[Assistant]:
        """Every assistant (each page one rate-limited request)."""
        client, policy = self._client, self._policy
        if not self._v2026:
            page = await self.call(ASSISTANTS_READ, None, lambda: client.list_page(retry=policy))
            return list(page.assistants)
        out: list[Assistant] = []
        token: str | None = None
        seen: set[str] = set()
        for _ in range(10_000):
            page = await self.call(
                ASSISTANTS_READ,
                None,
                lambda t=token: client.list_page(  # type: ignore[misc]
                    page_size=100, pagination_token=t, retry=policy
                ),
            )
            out.extend(page.assistants)
            token = page.pagination.next if page.pagination is not None else None
            if not token or token in seen:
                return out
            seen.add(token)
        return out

    async def list_files(self, name: str, rec: Recorder | None) -> list[AssistantFile]:
        """Every file of assistant ``name``."""
        client, policy = self._client, self._policy
        return await self.call(
            FILES_READ, rec, lambda: client.list_files(assistant_name=name, retry=policy)
        )

    async def create(self, spec: AssistantSpec, rec: Recorder) -> Assistant:
        """Create the assistant of ``spec`` (``ConflictError`` if it exists)."""
        client, policy = self._client, self._policy
        return await self.call(
            ASSISTANTS_WRITE,
            rec,
            lambda: client.create(
                name=spec.name,
                instructions=spec.instructions,
                metadata=spec.metadata,
                region=spec.region,
                retry=policy,
            ),
        )

    async def update(self, spec: AssistantSpec, rec: Recorder) -> None:
        """Send the fields ``spec`` manages (those not ``None``)."""
        client, policy = self._client, self._policy
        fields: dict[str, Any] = {}
        if spec.instructions is not None:
            fields["instructions"] = spec.instructions
        if spec.metadata is not None:
            fields["metadata"] = dict(spec.metadata)
        await self.call(
            ASSISTANTS_WRITE, rec, lambda: client.update(name=spec.name, retry=policy, **fields)
        )

    async def delete_assistant(self, name: str, rec: Recorder) -> None:
        """Delete assistant ``name`` (``NotFoundError`` if it is gone)."""
        client, policy = self._client, self._policy
        await self.call(ASSISTANTS_DELETE, rec, lambda: client.delete(name=name, retry=policy))

    async def upload(
        self,
        name: str,
        path: Path,
        metadata: Mapping[str, Any],
        rec: Recorder,
        *,
        landed: Callable[[], Awaitable[AssistantFile | None]],
    ) -> AssistantFile:
        """Upload ``path`` to assistant ``name``; before a repeat after a 429, ``landed()``."""
        client, policy = self._client, self._policy
        # On 2026-04 an upload is also an upsert by id: one id for every attempt makes a repeat
        # harmless.
        file_id = str(uuid.uuid4()) if self._v2026 else None
        return await self.call(
            FILES_UPLOAD,
            rec,
            lambda: client.upload_file(
                assistant_name=name,
                file_path=path,
                metadata=metadata,
                file_id=file_id,
                retry=policy,
            ),
            landed=landed,
        )

    async def delete_file(self, name: str, file_id: str, rec: Recorder) -> None:
        """Delete one file of assistant ``name`` (``NotFoundError`` if it is gone)."""
        client, policy = self._client, self._policy
        await self.call(
            FILES_DELETE,
            rec,
            lambda: client.delete_file(assistant_name=name, file_id=file_id, retry=policy),
        )
