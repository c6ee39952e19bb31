"""Paginated lists (2026-04): following pages to the end, and the lazy :class:`Pager`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from typing import Any, Final, Generic, Protocol, TypeVar

from ..exceptions import ResponseParseError, ValidationError
from ..models.assistants import Pagination

__all__ = ["PAGE_SIZE", "Page", "Pager", "all_pages", "page_params"]

T = TypeVar("T")

PAGE_SIZE: Final = 100
"""Items per page requested when following pages (the API's maximum)."""

_MAX_PAGES: Final = 10_000


def page_params(page_size: int | None, pagination_token: str | None) -> dict[str, str]:
    """The query parameters of one page request, checked (``limit`` 1-100, a non-empty token)."""
    params: dict[str, str] = {}
    if page_size is not None:
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise ValidationError(f"page_size must be an integer, got {page_size!r}")
        if not 1 <= page_size <= 100:
            raise ValidationError(f"page_size must be between 1 and 100, got {page_size}")
        params["limit"] = str(page_size)
    if pagination_token is not None:
        if not isinstance(pagination_token, str) or not pagination_token:
            raise ValidationError("pagination_token must be a non-empty string")
        params["pagination_token"] = pagination_token
    return params


class _Page(Protocol):
    @property
    def pagination(self) -> Pagination | None: ...


PageT = TypeVar("PageT", bound=_Page)


async def all_pages(
    fetch: Callable[[str | None], Awaitable[PageT]], *, what: str, follow: bool = True
) -> list[PageT]:
    """Every page: ``fetch(None)`` first, then ``fetch(token)`` while the server sends a token.

    ``follow=False`` (API versions without pagination) stops after the first page, whatever it
    says. A repeated token or an endless list is a server bug: raise ``ResponseParseError``
    instead of looping. ``what`` names the list in those messages ("assistants", "files", ...).
    """
    page = await fetch(None)
    pages = [page]
    if not follow:
        return pages
    seen: set[str] = set()
    for _ in range(_MAX_PAGES):
        token = page.pagination.next if page.pagination is not None else None
        if not token:
            return pages
        if token in seen:
            raise ResponseParseError(
                f"the server repeated pagination token {token[:40]!r} while listing {what}; "
                "stopping instead of looping",
                path="$.pagination.next",
            )
        seen.add(token)
        page = await fetch(token)
        pages.append(page)
    raise ResponseParseError(
        f"listing {what} did not end after {_MAX_PAGES} pages", path="$.pagination.next"
    )


class Page(Generic[T]):
    """One page of a :class:`Pager`'s walk: its ``items`` and the ``pagination_token`` of the
    next page (``None`` on the last one; ``has_more`` says the same)."""

    __slots__ = ("items", "pagination_token")

    def __init__(self, items: list[T], pagination_token: str | None) -> None:
        self.items = items
        self.pagination_token = pagination_token

    @property
    def has_more(self) -> bool:
        """Whether a page follows this one."""
        return self.pagination_token is not None

    def __repr__(self) -> str:
        return f"Page(items={self.items!r}, pagination_token={self.pagination_token!r})"


FetchPage = Callable[[str | None], Awaitable[tuple[Sequence[T], str | None]]]
"""One page: (its items, the next page's token or ``None``) for a token (``None``: the first)."""


class Pager(Generic[T]):
    """What ``list()``, ``list_files()`` and ``list_operations()`` return: awaitable and
    async-iterable, like the official SDK's ``AsyncPaginator``.

    - ``await pager`` (or ``await pager.to_list()``): every item, as a list;
    - ``async for item in pager``: items, fetching one page at a time and only when the
      previous one is used up (``break`` stops fetching);
    - ``async for page in pager.pages()``: :class:`Page` objects;
    - ``limit``: at most this many items in all; ``pagination_token``: start from that page
      (from an earlier walk's :attr:`pagination_token`).

    Nothing is requested before it is awaited or iterated; each walk starts again from the
    token it was built with. On API versions without pagination there is one page.
    """

    __slots__ = ("_fetch", "_initial", "_limit", "_token", "_what")

    def __init__(
        self,
        fetch: FetchPage[T],
        *,
        what: str,
        limit: int | None = None,
        pagination_token: str | None = None,
    ) -> None:
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ValidationError(f"limit must be an integer >= 0 or None, got {limit!r}")
        if pagination_token is not None and (
            not isinstance(pagination_token, str) or not pagination_token
        ):
            raise ValidationError("pagination_token must be a non-empty string")
        self._fetch = fetch
        self._what = what
        self._limit = limit
        self._initial = pagination_token
        self._token = pagination_token

    @property
    def pagination_token(self) -> str | None:
        """The token of the page after the last one fetched (``None`` at the end), to resume a
        walk later with ``pagination_token=``."""
        return self._token

    async def pages(self) -> AsyncIterator[Page[T]]:
        """The pages, fetched one at a time (cut at ``limit`` items)."""
        left = self._limit
        if left == 0:
            return
        token = self._initial
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            items, following = await self._fetch(token)
            page_items = list(items)
            if left is not None and len(page_items) >= left:
                self._token = following if len(page_items) == left else token
                yield Page(page_items[:left], None)
                return
            self._token = following
            if left is not None:
                left -= len(page_items)
            yield Page(page_items, following)
            if not following:
                return
            if following in seen:
                raise ResponseParseError(
                    f"the server repeated pagination token {following[:40]!r} while listing "
                    f"{self._what}; stopping instead of looping",
                    path="$.pagination.next",
                )
            seen.add(following)
            token = following
        raise ResponseParseError(
            f"listing {self._what} did not end after {_MAX_PAGES} pages",
            path="$.pagination.next",
        )

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def to_list(self) -> list[T]:
        """Every item (up to ``limit``), as a list."""
        return [item async for item in self]

    def __await__(self) -> Generator[Any, None, list[T]]:
        return self.to_list().__await__()

    def __repr__(self) -> str:
        return f"Pager({self._what}, limit={self._limit!r}, pagination_token={self._token!r})"
