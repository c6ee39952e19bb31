"""Every public method and keyword of the official SDK's ``AsyncAssistants`` is accepted by
``aiopinecone.compat`` (issue 14), read from the installed ``pinecone`` 10.x itself."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from pinecone.async_client.assistants import AsyncAssistants as OfficialAssistants

from aiopinecone import compat

pytestmark = pytest.mark.official_sdk

# Keywords 10.x takes through **kwargs (legacy aliases), by method: they must be accepted too.
LEGACY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "create": ("assistant_name",),
    "describe": ("assistant_name",),
    "update": ("assistant_name",),
    "delete": ("assistant_name",),
    "list_page": ("limit",),
    "list_files_page": ("limit",),
}


def official_methods() -> dict[str, inspect.Signature]:
    out = {}
    for name, member in inspect.getmembers(OfficialAssistants, callable):
        if not name.startswith("_"):
            out[name] = inspect.signature(member)
    return out


def ours(name: str) -> Callable[..., Any]:
    pc = compat.AsyncPinecone(api_key="k", host="http://127.0.0.1:1")
    method = getattr(pc.assistants, name, None)
    assert method is not None, f"aiopinecone.compat has no assistants.{name}"
    assert callable(method)
    return method  # type: ignore[no-any-return]


def test_the_official_surface_is_what_this_test_expects() -> None:
    """The introspection finds the methods (a test that cannot fail would prove nothing)."""
    names = set(official_methods())
    assert {"create", "list", "list_files", "upload_file", "create_assistant"} <= names
    assert len(names) >= 25


@pytest.mark.parametrize("name", sorted(official_methods()))
def test_every_official_method_and_keyword_is_accepted(name: str) -> None:
    official = official_methods()[name]
    mine = inspect.signature(ours(name))
    params = mine.parameters
    has_var_kw = any(p.kind is p.VAR_KEYWORD for p in params.values())
    wanted = [
        p
        for p in official.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]
    pc = compat.AsyncPinecone(api_key="k", host="http://127.0.0.1:1")
    main_client = pc.assistants._a
    for p in wanted:
        if p.name in params:
            continue
        # chat / chat_completions take **kwargs and forward them to the main client's method
        forwarded_to = inspect.signature(getattr(main_client, name)).parameters
        assert has_var_kw, f"{name}: keyword {p.name!r} of pinecone 10.x is not accepted"
        assert p.name in forwarded_to, f"{name}: keyword {p.name!r} of pinecone 10.x"
    for legacy in LEGACY_KEYWORDS.get(name, ()):
        assert legacy in params or has_var_kw, f"{name}: legacy keyword {legacy!r}"
    # Positional parameters (the 8.x-style names) in the same order.
    official_positional = [
        p.name for p in wanted if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
    ]
    my_positional = [
        p.name for p in params.values() if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"
    ]
    assert my_positional[: len(official_positional)] == official_positional, name
