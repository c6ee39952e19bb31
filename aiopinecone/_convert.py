"""The one private cattrs converter (built on ``cattrs.preconf.orjson``) and the JSON entry points.

Never the global converter: hooks registered here cannot leak into, or be changed by, other code.
Models are frozen attrs classes carrying the wire field names, so no renaming is needed; unknown
JSON keys are ignored (``forbid_extra_keys=False``); enum-like fields are plain ``str`` (open sets).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import NoneType, UnionType
from typing import Any, Final, TypeVar, Union, get_origin

import cattrs
import orjson
from cattrs.preconf.orjson import make_converter

from .exceptions import ResponseParseError

__all__ = ["converter", "dumps", "parse", "structure", "unstructure"]

T = TypeVar("T")

converter: Final = make_converter(forbid_extra_keys=False, detailed_validation=True)


def _structure_datetime(value: Any, _: Any) -> datetime:
    """RFC 3339 / ISO 8601: ``Z`` or offsets, any number of fractional digits; naive means UTC."""
    if type(value) is str:
        parsed = datetime.fromisoformat(value if value[-1:] != "z" else value[:-1] + "Z")
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise TypeError(f"expected an RFC 3339 timestamp string, got {type(value).__name__}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _structure_str(value: Any, _: Any) -> str:
    # cattrs' default calls str() on anything, turning a null or a number into text silently.
    if type(value) is str or isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _structure_optional_str(value: Any, _: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    return _structure_str(value, str)


def _structure_optional_datetime(value: Any, _: Any) -> datetime | None:
    return None if value is None else _structure_datetime(value, datetime)


def _structure_optional_factory(type_: Any) -> Callable[[Any, Any], Any]:
    # cattrs' generic Optional hook dispatches on the inner type at every call; resolve it once.
    inner = next(arg for arg in type_.__args__ if arg is not NoneType)
    if inner is str:
        return _structure_optional_str
    if inner is datetime:
        return _structure_optional_datetime
    hook = converter.get_structure_hook(inner)

    def structure_optional(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, inner)

    return structure_optional


def _is_simple_optional(type_: Any) -> bool:
    args = getattr(type_, "__args__", ())
    return get_origin(type_) in (Union, UnionType) and len(args) == 2 and NoneType in args


converter.register_structure_hook(datetime, _structure_datetime)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook_factory(_is_simple_optional, _structure_optional_factory)

_hooks: dict[Any, Callable[[Any, Any], Any]] = {}


def structure(data: Any, cls: type[T]) -> T:
    """Turn decoded JSON into ``cls``; a mismatch raises :class:`ResponseParseError`."""
    hook = _hooks.get(cls)
    if hook is None:
        hook = _hooks[cls] = converter.get_structure_hook(cls)
    try:
        result: T = hook(data, cls)
    except Exception as exc:  # cattrs raises ClassValidationError, TypeError, ValueError, ...
        raise _parse_error(exc, cls) from exc
    return result


def parse(body: bytes, cls: type[T], *, status: int = 200, request_id: str | None = None) -> T:
    """Decode a JSON response body into ``cls``; errors name the offending field path."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        excerpt = body[:80].decode("utf-8", "replace")
        raise ResponseParseError(
            f"expected a JSON {cls.__name__} in the {status} response, got "
            f"{len(body)} bytes that are not JSON: {excerpt!r}",
            path="$",
            status=status,
            request_id=request_id,
        ) from exc
    try:
        return structure(data, cls)
    except ResponseParseError as exc:
        exc.status = status
        exc.request_id = request_id
        raise


def unstructure(obj: Any) -> Any:
    """Turn a model into plain JSON-ready data (wire names)."""
    return converter.unstructure(obj)


def dumps(obj: Any) -> bytes:
    """Serialize plain data or a model to JSON bytes."""
    return orjson.dumps(converter.unstructure(obj))


def _parse_error(exc: Exception, cls: type) -> ResponseParseError:
    messages = cattrs.transform_error(exc, path="$")
    first = messages[0] if messages else str(exc)
    path = first.rpartition(" @ ")[2] if " @ " in first else "$"
    more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
    return ResponseParseError(f"response does not match {cls.__name__}: {first}{more}", path=path)
