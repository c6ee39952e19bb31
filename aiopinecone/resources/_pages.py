"""Following paginated lists (2026-04) to the end: one loop for assistants, files, operations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, Protocol, TypeVar

from ..exceptions import ResponseParseError, ValidationError
from ..models.assistants import Pagination

__all__ = ["PAGE_SIZE", "all_pages", "page_params"]

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
