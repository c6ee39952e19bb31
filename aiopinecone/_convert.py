"""The one private cattrs converter (built on ``cattrs.preconf.orjson``) and the JSON entry points.

Never the global converter: hooks registered here cannot leak into, or be changed by, other code.
Models are frozen attrs classes carrying the wire field names, so no renaming is needed; unknown
JSON keys are ignored (``forbid_extra_keys=False``); enum-like fields are plain ``str`` (open sets).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MemberDescriptorType, NoneType, UnionType
from typing import Any, Final, TypeVar, Union, get_origin

import attrs
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


# -- the fast path for flat models ----------------------------------------------------------------
#
# cattrs' generated hook calls one hook per field and builds the object through the attrs
# ``__init__`` with keyword arguments: for the small models most calls return, that costs more
# client CPU than the rest of the request path. For a slotted attrs class whose fields have no
# validators or converters, ``_fast_structure_hook`` generates (once per class) a function that
# checks ``str`` fields and parses timestamps inline, resolves every other field's hook once
# (``None`` passes through for ``X | None``, as ``_structure_optional_factory`` does) and fills
# the slots directly, which is what that ``__init__`` does. Anything unexpected (not a dict, a
# missing key, a wrong type, an error in a field hook) falls back to cattrs' detailed hook for the
# whole object, so results and error messages are cattrs' own.

_MISSING: Final = object()


class _Mismatch(Exception):
    """A value the fast path does not take as is; the detailed hook decides."""


_generating: set[Any] = set()


def _fast_structure_hook(cls: Any) -> Callable[[Any, Any], Any]:
    slow = converter.gen_structure_attrs_fromdict(cls)
    if cls in _generating:  # a model that contains itself: leave the recursion to cattrs
        return slow
    _generating.add(cls)
    try:
        fast = _generate_fast_hook(cls, slow)
    except (NameError, TypeError):  # unresolvable annotations: cattrs knows best
        return slow
    finally:
        _generating.discard(cls)
    return slow if fast is None else fast


def _generate_fast_hook(
    cls: Any, slow: Callable[[Any, Any], Any]
) -> Callable[[Any, Any], Any] | None:
    if (
        getattr(cls, "__attrs_pre_init__", None) is not None
        or getattr(cls, "__attrs_post_init__", None) is not None
        or "__attrs_cached_hash__" in getattr(cls, "__slots__", ())
    ):
        return None
    attrs.resolve_types(cls)
    namespace: dict[str, Any] = {
        "_cl": cls,
        "_new": object.__new__,
        "_slow": slow,
        "_MISSING": _MISSING,
        "_Mismatch": _Mismatch,
        "_fromiso": datetime.fromisoformat,
        "_UTC": UTC,
    }
    body: list[str] = []
    sets: list[str] = []
    for index, field in enumerate(attrs.fields(cls)):
        slot = getattr(cls, field.name, None)
        if (
            not field.init
            or field.converter is not None
            or field.validator is not None
            or field.type is None
            or not isinstance(slot, MemberDescriptorType)
        ):
            return None
        v = f"v{index}"
        namespace[f"_s{index}"] = slot.__set__
        sets.append(f"    _s{index}(self, {v})")
        optional = _is_simple_optional(field.type)
        inner = (
            next(a for a in field.type.__args__ if a is not NoneType) if optional else field.type
        )
        # `convert`: statements that check or structure `v`, which holds the wire value.
        if inner is str:
            test = f"type({v}) is not str"
            convert = [f"if {v} is not None and {test}:" if optional else f"if {test}:"]
            convert.append("    raise _Mismatch")
        elif inner is datetime and converter.get_structure_hook(datetime) is _structure_datetime:
            # _structure_datetime's common case inline; a lowercase "z" makes fromisoformat raise,
            # and the detailed hook then does it the long way.
            namespace[f"_h{index}"] = _structure_datetime
            convert = [
                f"if type({v}) is str:",
                f"    {v} = _fromiso({v})",
                f"    if {v}.tzinfo is None:",
                f"        {v} = {v}.replace(tzinfo=_UTC)",
                *([f"elif {v} is not None:"] if optional else ["else:"]),
                f"    {v} = _h{index}({v}, None)",
            ]
        else:
            namespace[f"_h{index}"] = converter.get_structure_hook(inner)
            namespace[f"_t{index}"] = inner
            convert = [f"{v} = _h{index}({v}, _t{index})"]
            if optional:
                convert = [f"if {v} is not None:", "    " + convert[0]]
        default = field.default
        if default is attrs.NOTHING:
            lines = [f"{v} = o[{field.name!r}]", *convert]
        elif default is None and optional:
            lines = [f"{v} = o.get({field.name!r})", *convert]
        else:
            if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
                if default.takes_self:
                    return None
                namespace[f"_d{index}"] = default.factory
                fill = f"_d{index}()"
            else:
                namespace[f"_d{index}"] = default
                fill = f"_d{index}"
            lines = [
                f"{v} = o.get({field.name!r}, _MISSING)",
                f"if {v} is _MISSING:",
                f"    {v} = {fill}",
                "else:",
                *("    " + line for line in convert),
            ]
        body += ["        " + line for line in lines]
    name = f"fast_structure_{cls.__name__}"
    source = "\n".join(
        [
            f"def {name}(o, _=None):",
            "    if type(o) is not dict:",
            "        return _slow(o, _cl)",
            "    try:",
            *(body or ["        pass"]),
            "    except Exception:",
            "        return _slow(o, _cl)",
            "    self = _new(_cl)",
            *sets,
            "    return self",
        ]
    )
    exec(compile(source, f"<aiopinecone fast structure {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    hook: Callable[[Any, Any], Any] = namespace[name]
    return hook


# -- every hook of the converter, registered here (and nowhere else) --------------------------

converter.register_structure_hook(datetime, _structure_datetime)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook_factory(_is_simple_optional, _structure_optional_factory)
converter.register_structure_hook_factory(attrs.has, _fast_structure_hook)


def register_model_hooks(unions: Mapping[Any, Callable[[Any, Any], Any]]) -> None:
    """The hooks of the models' open tagged unions (chat chunks, context snippets), by class.

    Called by a model module (``models.chat``, ``models.context``) when it is imported, with
    the hooks it defines: the models import this module, so this module does not import them
    (no import cycle), and an area's hooks exist exactly when its classes do.
    """
    for cls, hook in unions.items():
        converter.register_structure_hook(cls, hook)


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
    # structure() inlined: this runs for every response a model is made from.
    hook = _hooks.get(cls)
    if hook is None:
        hook = _hooks[cls] = converter.get_structure_hook(cls)
    try:
        result: T = hook(data, cls)
    except Exception as exc:  # cattrs raises ClassValidationError, TypeError, ValueError, ...
        error = _parse_error(exc, cls)
        error.status = status
        error.request_id = request_id
        raise error from exc
    return result


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
