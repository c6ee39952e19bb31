"""The private converter: timestamps, strict strings, extra keys, parse errors naming the path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import cattrs
import orjson
import pytest

from aiopinecone import Assistant, ResponseParseError
from aiopinecone._convert import converter, dumps, parse, structure
from aiopinecone.models.assistants import AssistantList


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-10-01T12:30:00Z", datetime(2025, 10, 1, 12, 30, tzinfo=UTC)),
        ("2025-10-01T12:30:00z", datetime(2025, 10, 1, 12, 30, tzinfo=UTC)),
        ("2025-10-01T12:30:00.5Z", datetime(2025, 10, 1, 12, 30, 0, 500000, tzinfo=UTC)),
        ("2025-10-01T12:30:00.123456Z", datetime(2025, 10, 1, 12, 30, 0, 123456, tzinfo=UTC)),
        # nanoseconds (Go servers): truncated to microseconds
        ("2025-10-01T12:30:00.123456789Z", datetime(2025, 10, 1, 12, 30, 0, 123456, tzinfo=UTC)),
        (
            "2025-10-01T14:30:00+02:00",
            datetime(2025, 10, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))),
        ),
        (
            "2025-10-01T07:00:00.25-05:30",
            datetime(
                2025, 10, 1, 7, 0, 0, 250000, tzinfo=timezone(timedelta(hours=-5, minutes=-30))
            ),
        ),
        ("2025-10-01 12:30:00Z", datetime(2025, 10, 1, 12, 30, tzinfo=UTC)),
        ("2025-10-01T12:30:00", datetime(2025, 10, 1, 12, 30, tzinfo=UTC)),  # naive = UTC
    ],
)
def test_timestamps(text: str, expected: datetime) -> None:
    parsed = converter.structure(text, datetime)
    assert parsed == expected
    assert parsed.tzinfo is not None


def wire(**fields: object) -> bytes:
    base: dict[str, object] = {"name": "a", "status": "Ready"}
    base.update(fields)
    return orjson.dumps(base)


def test_extra_keys_are_ignored_and_unknown_status_is_kept() -> None:
    assistant = parse(wire(status="Hibernating", brand_new_field={"x": 1}), Assistant)
    assert assistant.status == "Hibernating"
    assert not assistant.is_ready


def test_nullable_fields() -> None:
    assistant = parse(wire(instructions=None, metadata=None, host=None, created_at=None), Assistant)
    assert assistant.instructions is None
    assert assistant.metadata is None


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (wire(created_at="yesterday"), "$.created_at"),
        (wire(status=None), "$.status"),
        (wire(status=3), "$.status"),
        (wire(metadata=[1, 2]), "$.metadata"),
        (orjson.dumps({"status": "Ready"}), "$.name"),
    ],
)
def test_parse_errors_name_the_field(body: bytes, path: str) -> None:
    with pytest.raises(ResponseParseError) as info:
        parse(body, Assistant)
    assert info.value.path == path
    assert path in str(info.value)


def test_parse_error_path_inside_a_list() -> None:
    body = orjson.dumps(
        {"assistants": [{"name": "a", "status": "Ready"}, {"name": "b", "created_at": 5}]}
    )
    with pytest.raises(ResponseParseError) as info:
        parse(body, AssistantList)
    assert info.value.path.startswith("$.assistants[1]")


@pytest.mark.parametrize("body", [b"", b"<html>oops</html>", b'{"name": "a", "status": '])
def test_not_json(body: bytes) -> None:
    with pytest.raises(ResponseParseError) as info:
        parse(body, Assistant, status=200, request_id="r-1")
    assert info.value.request_id == "r-1"
    assert "not JSON" in str(info.value)


def test_top_level_not_an_object() -> None:
    with pytest.raises(ResponseParseError):
        parse(b"[1, 2]", Assistant)


def test_structure_reports_like_parse() -> None:
    with pytest.raises(ResponseParseError):
        structure({"name": 1, "status": "Ready"}, Assistant)


def test_private_converter_is_not_the_global_one() -> None:
    assert converter is not cattrs.global_converter


def test_dumps_uses_wire_names() -> None:
    a = Assistant(name="a", status="Ready", created_at=datetime(2025, 1, 1, tzinfo=UTC))
    data = orjson.loads(dumps(a))
    assert data["name"] == "a"
    assert data["created_at"].startswith("2025-01-01T00:00:00")
