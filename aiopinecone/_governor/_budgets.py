"""Token budgets: a chat or context attempt holds a request permit *and* a token permit.

A call that carries a :class:`~aiopinecone._admission.TokenCharge` (chat, chat completions,
context) takes, through the governor's own ``acquire`` (same FIFO queues, deadline,
cancellation and stats as any class), first a permit of its token class (``TOKEN_CLASS``:
``chat_tokens``, ``context_tokens``) of the charge's estimate (the request's own text plus the
class's learnt :class:`~._tokens.Overhead`), then one of its request class. At the answer's head
(:func:`settle_with_tokens`):

- **429**: the token class learns it (Pinecone limits chat and context in input tokens): its
  controller reacts, a ``Retry-After`` blocks the class (every chat waits), its tokens are given
  back; the request permit is given back uncounted and teaches the request class nothing;
- **2xx**: the request permit settles as usual; the token permit stays open (its estimate counts
  against the budget) until the caller settles the charge: with the answer's
  ``usage.prompt_tokens`` the budget logs that count instead of the estimate, and the class's
  overhead learns from it; without one the estimate is logged;
- **anything else** (an error status, no answer): both settle now, the tokens at the estimate
  (the service may have counted them).

A call cancelled before it was sent gives both permits back. A token class that has neither a
number nor adaptive learning costs nothing: the call takes its request permit only.
"""

from __future__ import annotations

import contextlib
import functools
from typing import TYPE_CHECKING

import attrs

from ._config import TOKEN_CLASS, class_of
from ._tokens import Overhead

if TYPE_CHECKING:
    from .._admission import TokenCharge
    from ._governor import Governor, GovernorPermit

__all__ = ["TokenBook", "TokenPart", "acquire_with_tokens", "settle_with_tokens", "token_class"]


@attrs.define(slots=True)
class TokenBook:
    """What one token class estimated and what the answers counted (reports, and the overhead
    the estimates learn)."""

    overhead: Overhead = attrs.Factory(Overhead)
    estimated: float = 0.0
    """Tokens reserved by the calls settled so far (their estimates)."""
    counted: float = 0.0
    """Tokens the answers reported (``usage.prompt_tokens``) for the calls that had a count."""
    reports: int = 0
    """Calls settled with a count from the answer."""

    def snapshot(self) -> dict[str, float | int | bool]:
        """The book as report fields."""
        return {
            "tokens_estimated": round(self.estimated),
            "tokens_counted": round(self.counted),
            "usage_reports": self.reports,
            "overhead": round(self.overhead.value, 1),
        }


@attrs.define(slots=True)
class TokenPart:
    """What a chat or context attempt's request permit carries (``GovernorPermit.tokens``):
    the token permit and the call's charge."""

    permit: GovernorPermit
    charge: TokenCharge


def token_class(governor: Governor, op: str) -> str | None:
    """The token class a call of ``op`` also spends, if the governor keeps that budget."""
    cls = TOKEN_CLASS.get(class_of(op))
    if cls is None:
        return None
    limits = governor.limits
    if limits.adaptive or limits.limits.get(cls) is not None:
        return cls
    return None


async def acquire_with_tokens(
    governor: Governor, op: str, cost: float, deadline: float | None, charge: TokenCharge
) -> GovernorPermit:
    """The permits of one attempt of ``op`` that spends ``charge``'s tokens."""
    cls = token_class(governor, op)
    if cls is None:
        return await governor.acquire(op, cost=cost, deadline=deadline)
    book = governor.token_books.get(cls)
    if book is None:
        book = governor.token_books[cls] = TokenBook()
    charge.estimate = book.overhead.estimate(charge.text)
    tokens = await governor.acquire(cls, cost=charge.estimate, deadline=deadline)
    charge.estimate = tokens.cost  # shifted while it waited, if the overhead learnt
    try:
        request = await governor.acquire(op, cost=cost, deadline=deadline)
    except BaseException:
        governor.give_back(tokens)
        raise
    request.tokens = TokenPart(tokens, charge)
    return request


def settle_with_tokens(
    governor: Governor, request: GovernorPermit, status: int | None, retry_after: float | None
) -> None:
    """How the attempt holding ``request`` (and its token part) ended (see the module
    docstring)."""
    part, request.tokens = request.tokens, None
    if part is None or request.settled:
        return
    tokens, charge = part.permit, part.charge
    if status == 429:
        governor.stats[request.key].rate_limited += 1
        governor.give_back(request)
        governor.settle(tokens, status=status, retry_after=retry_after)
        return
    governor.settle(request, status=status, retry_after=retry_after)
    if status is not None and 200 <= status < 300:
        charge.hold(functools.partial(_finish, governor, tokens, charge))
        return
    governor.token_books[tokens.key].estimated += charge.estimate
    governor.settle(tokens, status=status, retry_after=retry_after)


def _finish(
    governor: Governor, tokens: GovernorPermit, charge: TokenCharge, counted: float | None
) -> None:
    """The caller settled an answered call's charge: log the count (or the estimate)."""
    book = governor.token_books[tokens.key]
    book.estimated += charge.estimate
    if counted is not None:
        book.counted += counted
        book.reports += 1
        before = book.overhead.value
        book.overhead.observe(charge.text, counted)
        # Calls waiting for tokens were sized with the overhead before this answer.
        governor.shift_waiting(tokens.key, book.overhead.value - before)
    # No event loop any more (a stream finalized after its loop closed): a shared store expires
    # the open grant by itself (GRANT_TTL); the in-memory one is gone with the loop's work.
    with contextlib.suppress(RuntimeError):
        governor.settle(tokens, status=200, retry_after=None, cost=counted)
