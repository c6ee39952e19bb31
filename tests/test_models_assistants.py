"""Assistant models: hypothesis round-trips through JSON, open enums, immutability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiopinecone import Assistant, AssistantStatus
from aiopinecone._convert import parse, unstructure
from aiopinecone.models.assistants import AssistantList, Pagination

json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
zones = st.sampled_from(
    [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
)
timestamps = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=zones
)
statuses = st.sampled_from(
    [
        AssistantStatus.READY,
        AssistantStatus.INITIALIZING,
        AssistantStatus.FAILED,
        AssistantStatus.INITIALIZATION_FAILED,
        AssistantStatus.TERMINATING,
    ]
) | st.text(min_size=1, max_size=20)

assistants = st.builds(
    Assistant,
    name=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?", fullmatch=True),
    status=statuses,
    instructions=st.none() | st.text(max_size=50),
    metadata=st.none() | st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    host=st.none() | st.just("https://prod-1-data.ke.pinecone.io"),
    region=st.none() | st.sampled_from(["us", "eu", "ap"]),
    created_at=st.none() | timestamps,
    updated_at=st.none() | timestamps,
)


@given(assistants)
def test_assistant_round_trips_through_json(assistant: Assistant) -> None:
    assert parse(orjson.dumps(unstructure(assistant)), Assistant) == assistant


@given(st.lists(assistants, max_size=5), st.none() | st.text(min_size=1, max_size=20))
def test_assistant_list_round_trips(items: list[Assistant], token: str | None) -> None:
    page = AssistantList(
        assistants=items, pagination=None if token is None else Pagination(next=token)
    )
    assert parse(orjson.dumps(unstructure(page)), AssistantList) == page


@given(assistants, st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=3))
def test_extra_keys_never_break_parsing(assistant: Assistant, extra: dict[str, Any]) -> None:
    data = unstructure(assistant)
    for key, value in extra.items():
        data.setdefault(key, value)
    assert parse(orjson.dumps(data), Assistant) == assistant


def test_models_are_frozen() -> None:
    a = Assistant(name="a", status="Ready")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        a.status = "Failed"  # type: ignore[misc]


def test_known_statuses() -> None:
    assert {"Failed", "InitializationFailed", "Terminating"} == AssistantStatus.TERMINAL_FAILURES
    assert Assistant(name="a", status="Ready").is_ready
