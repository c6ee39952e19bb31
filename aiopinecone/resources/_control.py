"""Control plane: create, describe, list, update, delete and wait for assistants."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

import orjson

from .._retry import RetryPolicy
from .._validation import (
    check_assistant_name,
    check_instructions,
    check_json_object,
    check_region,
)
from .._wait import Polled, check_wait_timeout, wait_until
from ..exceptions import (
    AssistantFailedError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from ..models.assistants import Assistant, AssistantList, AssistantStatus
from ._common import Resource, Timeout
from ._pages import PAGE_SIZE, Pager, page_params

__all__ = ["NOT_GIVEN", "ControlPlaneMixin", "NotGiven"]


class NotGiven(enum.Enum):
    """The type of :data:`NOT_GIVEN`: "this argument was not passed"."""

    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven.NOT_GIVEN
"""Default of optional update fields: the field is left out of the request."""


class ControlPlaneMixin(Resource):
    """``pc.assistants`` control-plane methods (assistants CRUD and readiness)."""

    async def create(
        self,
        *,
        name: str,
        instructions: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        region: str = "us",
        environment: str | None = None,
        wait: bool = False,
        wait_timeout: float | None = 300.0,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> Assistant:
        """Create an assistant; with ``wait=True``, return once it is ``Ready``.

        ``environment`` (as in the official SDK 10.x) is sent as given when present; the
        server decides what it accepts.

        Safe to retry: when a retried create meets "already exists" after an earlier attempt
        may have gone through (lost response, 5xx), the assistant is described and returned if it
        matches what was asked (name, instructions, metadata, region). A genuine pre-existing
        assistant of that name raises :class:`~aiopinecone.ConflictError`.

        Raises :class:`~aiopinecone.ValidationError` before any request for a bad name (per API
        version), region, instructions or metadata; with ``wait=True`` also
        :class:`~aiopinecone.AssistantFailedError` and :class:`~aiopinecone.WaitTimeoutError`.
        """
        core = self._core
        check_assistant_name(name, core.api_version)
        region = check_region(region)
        if wait:
            check_wait_timeout(wait_timeout)
        body: dict[str, Any] = {"name": name, "region": region}
        if instructions is not None:
            body["instructions"] = check_instructions(instructions)
        if metadata is not None:
            body["metadata"] = check_json_object(metadata)
        if environment is not None:
            if not isinstance(environment, str):
                raise ValidationError(
                    f"environment must be a string, got {type(environment).__name__}"
                )
            body["environment"] = environment
        try:
            # idempotent=True: 5xx and lost responses are retried, made safe by reconciling below.
            response = await core.request(
                "POST",
                core.assistants_url,
                op="create_assistant",
                json=body,
                idempotent=True,
                retry=retry,
                timeout=timeout,
            )
            assistant = core.parse(response, Assistant)
        except ConflictError as exc:
            if not exc.ambiguous:
                raise
            assistant = await self._reconcile_create(exc, body, retry=retry, timeout=timeout)
        self._router.remember(assistant)
        if wait and not assistant.is_ready:
            return await self.wait_until_ready(name=name, timeout=wait_timeout, retry=retry)
        return assistant

    async def _reconcile_create(
        self,
        conflict: ConflictError,
        asked: Mapping[str, Any],
        *,
        retry: RetryPolicy | None,
        timeout: Timeout,
    ) -> Assistant:
        name = asked["name"]
        existing = await self.describe(name=name, retry=retry, timeout=timeout)
        differences = _differences(existing, asked)
        if differences:
            error = ConflictError(
                f"assistant {name!r} already exists and differs from what was asked "
                f"({', '.join(differences)}); an earlier attempt of this create failed "
                "ambiguously, so it was checked rather than assumed ours",
                status=conflict.status,
                code=conflict.code,
                details=conflict.details,
                request_id=conflict.request_id,
            )
            error.attempts = conflict.attempts
            error.ambiguous = True
            raise error from conflict
        return existing

    async def describe(
        self, *, name: str, retry: RetryPolicy | None = None, timeout: Timeout = None
    ) -> Assistant:
        """The assistant ``name``; :class:`~aiopinecone.NotFoundError` if it does not exist."""
        core = self._core
        check_assistant_name(name, core.api_version)
        response = await core.request(
            "GET", core.assistant_url(name), op="describe_assistant", retry=retry, timeout=timeout
        )
        assistant = core.parse(response, Assistant)
        self._router.remember(assistant)
        return assistant

    async def list_page(
        self,
        *,
        page_size: int | None = None,
        pagination_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> AssistantList:
        """One page of assistants (2026-04 paginates; earlier versions return all in one page).

        ``page_size`` is 1-100; the next page's token is ``result.pagination.next``. Before
        2026-04 the one page holds every assistant (``page_size`` is not sent).
        """
        core = self._core
        params = page_params(page_size, pagination_token)
        if core.api_version < "2026-04":
            params.pop("limit", None)
        response = await core.request(
            "GET",
            core.assistants_url,
            op="list_assistants",
            params=params or None,
            retry=retry,
            timeout=timeout,
        )
        page = core.parse(response, AssistantList)
        for assistant in page.assistants:
            self._router.remember(assistant)
        return page

    def list(
        self,
        *,
        limit: int | None = None,
        pagination_token: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> Pager[Assistant]:
        """Every assistant of the project: ``await`` it for a list, or ``async for`` over it
        to fetch page by page (100 per page on 2026-04; one page before). ``limit``: at most
        that many; ``pagination_token``: start from that page. See :class:`Pager`."""
        paginated = self._core.api_version >= "2026-04"

        async def fetch(token: str | None) -> tuple[Sequence[Assistant], str | None]:
            page = await self.list_page(
                page_size=PAGE_SIZE if paginated else None,
                pagination_token=token,
                retry=retry,
                timeout=timeout,
            )
            following = page.pagination.next if page.pagination is not None else None
            return page.assistants, following if paginated else None

        return Pager(fetch, what="assistants", limit=limit, pagination_token=pagination_token)

    async def update(
        self,
        *,
        name: str,
        instructions: str | NotGiven = NOT_GIVEN,
        metadata: Mapping[str, Any] | NotGiven = NOT_GIVEN,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> Assistant:
        """Change an assistant's instructions and/or metadata; only the fields given are sent.

        ``metadata`` replaces the whole object (it is not merged). To clear a field pass its
        empty value (``instructions=""``, ``metadata={}``); ``None`` is refused rather than sent
        as JSON ``null``, so that a forgotten ``None`` never erases anything.
        """
        core = self._core
        check_assistant_name(name, core.api_version)
        body: dict[str, Any] = {}
        if cast(object, instructions) is None or cast(object, metadata) is None:
            which = "instructions" if cast(object, instructions) is None else "metadata"
            empty = '""' if which == "instructions" else "{}"
            raise ValidationError(
                f"{which}=None is ambiguous: leave it out to keep the current value, or pass "
                f"{empty} to clear it"
            )
        if not isinstance(instructions, NotGiven):
            body["instructions"] = check_instructions(instructions)
        if not isinstance(metadata, NotGiven):
            body["metadata"] = check_json_object(metadata)
        if not body:
            raise ValidationError("update() needs at least one of instructions or metadata")
        response = await core.request(
            "PATCH",
            core.assistant_url(name),
            op="update_assistant",
            json=body,
            retry=retry,
            timeout=timeout,
        )
        # The specs answer {assistant_name, instructions, metadata}; servers that answer a full
        # Assistant save us a describe.
        data = _loads(response.body)
        if isinstance(data, dict) and "status" in data and "name" in data:
            assistant = core.parse(response, Assistant)
            self._router.remember(assistant)
            return assistant
        return await self.describe(name=name, retry=retry, timeout=timeout)

    async def delete(
        self,
        *,
        name: str,
        wait: bool = False,
        wait_timeout: float | None = 300.0,
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> None:
        """Delete an assistant (and its files); with ``wait=True``, return once it is gone.

        A retried delete that meets 404 after an earlier attempt may have gone through has
        succeeded; a plain 404 raises :class:`~aiopinecone.NotFoundError`.
        """
        core = self._core
        check_assistant_name(name, core.api_version)
        if wait:
            check_wait_timeout(wait_timeout)
        try:
            await core.request(
                "DELETE",
                core.assistant_url(name),
                op="delete_assistant",
                retry=retry,
                timeout=timeout,
            )
        except NotFoundError as exc:
            if not exc.ambiguous:
                self._router.forget(name)
                raise
        self._router.forget(name)
        if wait:
            await self._wait_until_gone(name, wait_timeout, retry)

    async def wait_until_ready(
        self,
        *,
        name: str,
        timeout: float | None = 300.0,
        retry: RetryPolicy | None = None,
    ) -> Assistant:
        """Poll ``describe`` until the assistant is ``Ready`` and return it.

        Polls with growing intervals (1 s, 2 s, 4 s... capped at 10 s, jittered), not a fixed
        rate. Raises :class:`~aiopinecone.AssistantFailedError` on ``Failed``,
        ``InitializationFailed`` or ``Terminating``, and :class:`~aiopinecone.WaitTimeoutError`
        after ``timeout`` seconds (``None``: no limit).
        """
        check_assistant_name(name, self._core.api_version)
        check_wait_timeout(timeout, "timeout")
        ready: Assistant | None = None

        async def poll() -> Polled:
            nonlocal ready
            ready = await self.describe(name=name, retry=retry)
            status = ready.status
            if status in AssistantStatus.TERMINAL_FAILURES:
                raise AssistantFailedError(
                    f"assistant {name!r} is {status} and will not become Ready",
                    name=name,
                    status=status,
                )
            return Polled(done=ready.is_ready, status=status)

        await wait_until(poll, timeout=timeout, what=f"assistant {name!r} was not Ready")
        assert ready is not None
        return ready

    async def _wait_until_gone(
        self, name: str, timeout: float | None, retry: RetryPolicy | None
    ) -> None:
        check_wait_timeout(timeout)

        async def poll() -> Polled:
            try:
                status = (await self.describe(name=name, retry=retry)).status
            except NotFoundError:
                self._router.forget(name)
                return Polled(done=True)
            return Polled(done=False, status=status)

        await wait_until(poll, timeout=timeout, what=f"assistant {name!r} still exists")


def _loads(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


def _differences(existing: Assistant, asked: Mapping[str, Any]) -> list[str]:
    """Which of the asked fields an existing assistant does not match."""
    out: list[str] = []
    if (existing.instructions or None) != (asked.get("instructions") or None):
        out.append("instructions")
    if (existing.metadata or None) != (asked.get("metadata") or None):
        out.append("metadata")
    if existing.region is not None and existing.region != asked.get("region", "us"):
        out.append("region")
    return out
