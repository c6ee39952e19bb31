"""Client-side validation rules (pure)."""

from __future__ import annotations

import pytest

from aiopinecone import ValidationError
from aiopinecone._validation import (
    check_api_version,
    check_assistant_name,
    check_instructions,
    check_json_object,
    check_region,
)


@pytest.mark.parametrize("version", ["2025-04", "2025-10", "2026-04"])
@pytest.mark.parametrize("name", ["a", "a1", "support", "my-assistant-2", "0", "a-b-c"])
def test_good_names(version: str, name: str) -> None:
    assert check_assistant_name(name, version) == name


@pytest.mark.parametrize("version", ["2025-04", "2025-10", "2026-04"])
@pytest.mark.parametrize(
    "name", ["SgYlP", "Support-Bot", "A", "-a", "a-", "a_b", "a.b", "ab-", "~x"]
)
def test_uncertain_names_are_left_to_the_server(version: str, name: str) -> None:
    # The docs say lowercase, the service accepts mixed case: only URL-unsafe text is refused.
    assert check_assistant_name(name, version) == name


@pytest.mark.parametrize("version", ["2025-04", "2025-10", "2026-04"])
@pytest.mark.parametrize(
    "name", ["", "a b", "a/b", "é", "a\n", "../x", "a?b", "a#b", "a%20b", ".", ".."]
)
def test_bad_names(version: str, name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        check_assistant_name(name, version)


@pytest.mark.parametrize(("version", "limit"), [("2025-04", 45), ("2025-10", 63), ("2026-04", 63)])
def test_name_length_per_version(version: str, limit: int) -> None:
    check_assistant_name("a" * limit, version)
    with pytest.raises(ValidationError, match=str(limit)):
        check_assistant_name("a" * (limit + 1), version)


def test_name_must_be_a_string() -> None:
    with pytest.raises(ValidationError):
        check_assistant_name(5, "2025-10")


def test_validation_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="name"):
        check_assistant_name("", "2025-10")


@pytest.mark.parametrize("region", ["us", "eu"])
def test_regions(region: str) -> None:
    assert check_region(region) == region


@pytest.mark.parametrize("region", ["US", "ap", "", None, "us-east-1"])
def test_bad_regions(region: object) -> None:
    with pytest.raises(ValidationError, match="region"):
        check_region(region)


@pytest.mark.parametrize("version", ["2025-01", "2027-01", "latest", "", None, 2025])
def test_unknown_versions(version: object) -> None:
    with pytest.raises(ValidationError, match="api_version"):
        check_api_version(version)


def test_instructions_limit() -> None:
    check_instructions("x" * 16384)
    with pytest.raises(ValidationError, match="16384"):
        check_instructions("x" * 16385)
    with pytest.raises(ValidationError):
        check_instructions("é" * 9000)  # 18000 UTF-8 bytes
    with pytest.raises(ValidationError):
        check_instructions(5)


@pytest.mark.parametrize(
    "value",
    [[1, 2], "text", None, {1: "a"}, {"a": object()}, {"a": {2: "nested int key"}}, {"a": {1, 2}}],
)
def test_bad_metadata(value: object) -> None:
    with pytest.raises(ValidationError, match="metadata"):
        check_json_object(value)


def test_metadata_size_and_copy() -> None:
    original = {"team": "x", "nested": {"a": [1, 2, None]}}
    checked = check_json_object(original)
    assert checked == original
    with pytest.raises(ValidationError, match="bytes"):
        check_json_object({"k": "x" * 20000})
