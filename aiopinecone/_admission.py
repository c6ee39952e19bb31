"""The admission seam: where a rate governor gives (or withholds) the permit of each attempt.

The core's attempt loop calls :meth:`Admission.acquire` before every attempt it sends and
:meth:`Admission.settle` exactly once per acquired permit, whatever happens to the attempt
(an answer of any status, a transport error, a timeout, cancellation). ``Core.admission`` is
``None`` by default: then nothing here is called and an attempt costs nothing extra.

The governor itself lives elsewhere (``aiopinecone/_governor/``); this module only states the
contract, so that the core does not depend on it.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Admission", "Permit"]


class Permit(Protocol):
    """What :meth:`Admission.acquire` hands out; opaque to the core, given back to settle."""


class Admission(Protocol):
    """Grants one permit per attempt and learns how each attempt ended."""

    async def acquire(self, op: str, *, cost: float, deadline: float | None) -> Permit:
        """Wait (cancellably) for the permit of one attempt of operation ``op``.

        ``op``: the operation name (``"describe_assistant"``, ``"chat"``, ...); ``cost``: the
        weight the caller gave the call (``1.0`` unless told otherwise); ``deadline``: a
        ``time.monotonic()`` value by which the permit must be granted (from the call's total
        timeout), or ``None``. May raise :class:`aiopinecone.RequestTimeoutError` when the deadline
        cannot be met.
        """
        ...

    def settle(self, permit: Permit, *, status: int | None, retry_after: float | None) -> None:
        """How the attempt holding ``permit`` ended; called exactly once per acquired permit.

        ``status``: the HTTP status of the answer (any, 429 and 5xx included), ``None`` when no
        answer came (transport error, timeout, cancellation). ``retry_after``: the parsed
        ``Retry-After`` seconds of an error answer (4xx, 5xx), if it carried one.
        """
        ...
