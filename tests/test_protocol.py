"""Table tests for the pure protocol functions: error mapping, Retry-After, request ids, the
headers and JSON bodies a request sends."""

from __future__ import annotations

import email.utils
from typing import Any

import orjson
import pytest
from multidict import CIMultiDict

from aiopinecone import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from aiopinecone._protocol import (
    bearer_headers,
    build_headers,
    encode_json,
    error_from_response,
    frozen_headers,
    parse_retry_after,
    request_id_from,
)

NOW = 1_700_000_000.0


def envelope(code: str, message: str, status: int, **extra: Any) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message, **extra}
    return orjson.dumps({"error": error, "status": status})


def headers(**items: str) -> CIMultiDict[str]:
    return CIMultiDict({k.replace("_", "-"): v for k, v in items.items()})


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "INVALID_ARGUMENT", BadRequestError),
        (401, "UNAUTHENTICATED", AuthenticationError),
        (403, "PERMISSION_DENIED", PermissionDeniedError),
        (403, "FORBIDDEN", PermissionDeniedError),
        (404, "NOT_FOUND", NotFoundError),
        (409, "ALREADY_EXISTS", ConflictError),
        (409, "ABORTED", ConflictError),
        # the specs list 429 for "assistant of given name already exists": the code wins
        (429, "ALREADY_EXISTS", ConflictError),
        (400, "ALREADY_EXISTS", ConflictError),
        (429, "RESOURCE_EXHAUSTED", RateLimitError),
        (429, "TOO_MANY_REQUESTS", RateLimitError),
        (429, "QUOTA_EXCEEDED", QuotaExceededError),
        (403, "QUOTA_EXCEEDED", QuotaExceededError),
        (400, "QUOTA_EXCEEDED", QuotaExceededError),
        (500, "UNKNOWN", ServerError),
        (502, "UNAVAILABLE", ServerError),
        (503, "UNAVAILABLE", ServerError),
        (504, "DEADLINE_EXCEEDED", ServerError),
        (412, "FAILED_PRECONDITION", APIError),
        (413, "INVALID_ARGUMENT", APIError),
        (405, "INVALID_ARGUMENT", APIError),
    ],
)
def test_status_and_code_map_to_exception(status: int, code: str, expected: type) -> None:
    error = error_from_response(status, headers(), envelope(code, "it broke", status))
    assert type(error) is expected
    assert error.status == status
    assert error.code == code
    assert error.message == "it broke"
    assert "it broke" in str(error)


def test_forbidden_about_a_quota_is_a_quota_error() -> None:
    body = envelope("FORBIDDEN", "Request exceeds the project quota of 5 assistants", 403)
    assert type(error_from_response(403, headers(), body)) is QuotaExceededError


def test_details_and_request_id_are_kept() -> None:
    body = envelope("INVALID_ARGUMENT", "bad", 400, details={"field": "name"})
    error = error_from_response(400, headers(x_pinecone_request_id="req-1"), body)
    assert error.details == {"field": "name"}
    assert error.request_id == "req-1"
    assert "req-1" in str(error)


@pytest.mark.parametrize(
    ("status", "body", "content_type", "must_contain"),
    [
        (502, b"", None, ["502", "Bad Gateway", "empty body"]),
        (503, b"   \n", None, ["503", "empty body"]),
        (
            502,
            b"<html><head><title>502 Bad Gateway</title></head></html>",
            "text/html",
            ["502", "text/html", "502 Bad Gateway</title>"],
        ),
        (500, b"upstream connect error", "text/plain", ["upstream connect error"]),
        (500, b"[1, 2, 3]", "application/json", ["[1, 2, 3]"]),
        (400, b'{"error": "plain text error"}', "application/json", ["plain text error"]),
        (400, b'{"message": "top-level message"}', "application/json", ["top-level message"]),
        (599, b"", None, ["599", "empty body"]),
    ],
)
def test_bodies_that_are_not_the_envelope_still_explain(
    status: int, body: bytes, content_type: str | None, must_contain: list[str]
) -> None:
    hdrs = headers(content_type=content_type) if content_type else headers()
    error = error_from_response(status, hdrs, body)
    assert error.status == status
    assert error.code is None
    for text in must_contain:
        assert text in error.message


def test_non_envelope_error_class_follows_status() -> None:
    assert type(error_from_response(502, headers(), b"")) is ServerError
    assert type(error_from_response(404, headers(), b"nope")) is NotFoundError
    assert type(error_from_response(429, headers(retry_after="3"), b"")) is RateLimitError


def test_long_bodies_are_shortened() -> None:
    error = error_from_response(500, headers(), b"x" * 10_000)
    assert len(error.message) < 400
    assert error.message.endswith("...")


def test_rate_limit_carries_retry_after() -> None:
    body = envelope("RESOURCE_EXHAUSTED", "slow down", 429)
    error = error_from_response(429, headers(retry_after="7"), body)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 7.0


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


@pytest.mark.parametrize(
    ("hdrs", "expected"),
    [
        ({}, None),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": " 12 "}, 12.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "-1"}, None),
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "soon"}, None),
        ({"retry-after": ""}, None),
        ({"retry-after": http_date(NOW + 30)}, 30.0),
        ({"retry-after": http_date(NOW - 30)}, 0.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00"}, None),  # no zone: not an HTTP-date
        ({"retry-after": "Mon, 99 Foo 2015 99:99:99 GMT"}, None),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
        ({"Retry-After": "4"}, 4.0),
    ],
)
def test_parse_retry_after(hdrs: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(CIMultiDict(hdrs), now=NOW) == expected


def test_request_id_prefers_pinecone_header() -> None:
    both = CIMultiDict({"X-Request-Id": "generic", "X-Pinecone-Request-Id": "pc"})
    assert request_id_from(both) == "pc"
    assert request_id_from(CIMultiDict({"x-request-id": "generic"})) == "generic"
    assert request_id_from(CIMultiDict()) is None


def test_build_headers() -> None:
    built = build_headers("k", "2025-10", "aiopinecone/1.0")
    assert built["Api-Key"] == "k"
    assert built["X-Pinecone-Api-Version"] == "2025-10"
    assert built["User-Agent"].startswith("aiopinecone/")


def test_frozen_headers_are_read_only_and_case_insensitive() -> None:
    headers = build_headers("key-123", "2026-04", "aiopinecone/test")
    sent = frozen_headers(headers)
    assert sent["api-key"] == "key-123"
    assert dict(sent) == headers
    with pytest.raises(TypeError):
        sent["Api-Key"] = "other"  # type: ignore[index]
    headers["Api-Key"] = "changed"  # the source dict is not shared
    assert sent["Api-Key"] == "key-123"


def test_bearer_headers_carry_the_key_as_authorization_only() -> None:
    headers = {**build_headers("key-123", "2026-04", "aiopinecone/test"), "X-Extra": "1"}
    bearer = bearer_headers(headers)
    assert bearer["Authorization"] == "Bearer key-123"
    assert "Api-Key" not in bearer
    assert "Accept" not in bearer
    assert bearer["User-Agent"] == "aiopinecone/test"
    assert bearer["X-Extra"] == "1"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": "x", "metadata": {}}, b'{"name":"x","metadata":{}}'),
        (["\u00e9"], '["\u00e9"]'.encode()),
        (None, b"null"),
    ],
)
def test_encode_json(body: Any, expected: bytes) -> None:
    assert encode_json(body, "create_assistant") == expected


def test_a_body_that_is_not_json_is_a_validation_error_naming_the_call() -> None:
    with pytest.raises(ValidationError, match="create_assistant: the request cannot be sent"):
        encode_json({"name": "\ud800"}, "create_assistant")
