"""The admission seam: where a rate governor gives (or withholds) the permit of each attempt.

The core's attempt loop calls :meth:`Admission.acquire` before every attempt it sends and
:meth:`Admission.settle` exactly once per acquired permit, whatever happens to the attempt
(an answer of any status, a transport error, a timeout, cancellation). ``Core.admission`` is
``None`` by default: then nothing here is called and an attempt costs nothing extra.

A call that spends input tokens (chat, context) also carries a :class:`TokenCharge`: the
admission sizes the attempt's token permit from it and, once an attempt is answered, keeps that
permit open until the caller reports the count the answer gives (``usage.prompt_tokens``).

The governor itself lives elsewhere (``aiopinecone/_governor/``); this module only states the
contract, so that the core does not depend on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

__all__ = ["Admission", "Permit", "TokenCharge"]


class TokenCharge:
    """The input tokens of one call (chat, chat completions, context) for a token budget.

    The caller makes one per call with ``text``, the estimated tokens of the request's own text
    (``_governor._tokens.text_tokens``), and passes it as ``tokens=`` down to
    ``Core.request``/``Core.stream``. The admission sets :attr:`estimate` (the text plus what the
    service adds) and, when an attempt is answered with a 2xx, :meth:`hold` keeps that attempt's
    charge open. The caller then calls :meth:`settle` once the count is known or the call is over:
    with the answer's ``usage.prompt_tokens``, or ``None`` (no usage: an error, a stream closed
    early) to keep the estimate. ``settle`` may be called again (it does nothing then), so
    callers settle with the count as soon as they have it and with ``None`` in a ``finally``.
    """

    __slots__ = ("_finish", "counted", "estimate", "text")

    def __init__(self, text: float) -> None:
        self.text = float(text)
        self.estimate = self.text
        """The size of the token permit (set by the admission)."""
        self.counted: float | None = None
        """The count the answer reported (None until :meth:`settle` got one)."""
        self._finish: Callable[[float | None], None] | None = None

    def hold(self, finish: Callable[[float | None], None]) -> None:
        """(Admission.) An answered attempt's charge, finished by :meth:`settle`; a charge
        still held from an earlier attempt (its body failed to arrive) ends at its estimate."""
        self.settle(None)
        self._finish = finish

    def settle(self, tokens: float | None) -> None:
        """The count the answer reported (``usage.prompt_tokens``), or ``None``: none came."""
        if tokens is not None and tokens > 0:
            self.counted = float(tokens)
        else:
            tokens = None
        finish, self._finish = self._finish, None
        if finish is not None:
            finish(tokens)


class Permit(Protocol):
    """What :meth:`Admission.acquire` hands out; opaque to the core, given back to settle."""


class Admission(Protocol):
    """Grants one permit per attempt and learns how each attempt ended."""

    def try_acquire(self, op: str, cost: float) -> Permit | None:
        """The permit of one attempt of ``op`` at once, when no wait is needed (never
        suspends: the common case costs no coroutine); ``None``: await :meth:`acquire`.
        Not for a call that spends input tokens (those always go through ``acquire``)."""
        ...

    async def acquire(
        self,
        op: str,
        *,
        cost: float,
        deadline: float | None,
        tokens: TokenCharge | None = None,
    ) -> Permit:
        """Wait (cancellably) for the permit of one attempt of operation ``op``.

        ``op``: the operation name (``"describe_assistant"``, ``"chat"``, ...); ``cost``: the
        weight the caller gave the call (``1.0`` unless told otherwise); ``deadline``: a
        ``time.monotonic()`` value by which the permit must be granted (from the call's total
        timeout), or ``None``; ``tokens``: the call's input tokens (chat, context), else
        ``None``. May raise :class:`aiopinecone.RequestTimeoutError` when the deadline cannot
        be met.
        """
        ...

    def settle(self, permit: Permit, status: int | None, retry_after: float | None) -> None:
        """How the attempt holding ``permit`` ended; called exactly once per acquired permit.

        ``status``: the HTTP status of the answer (any, 429 and 5xx included), ``None`` when no
        answer came (transport error, timeout, cancellation; for a buffered call, also when
        the head came but the body did not: the core reads both before it settles; a stream
        settles at its head). ``retry_after``: the parsed
        ``Retry-After`` seconds of an error answer (4xx, 5xx), if it carried one.
        """
        ...
