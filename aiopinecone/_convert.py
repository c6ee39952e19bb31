"""The one private cattrs converter (built on ``cattrs.preconf.orjson``) and the JSON entry points.

Never the global converter: hooks registered here cannot leak into, or be changed by, other code.
Models are frozen attrs classes carrying the wire field names, so no renaming is needed; unknown
JSON keys are ignored (``forbid_extra_keys=False``); enum-like fields are plain ``str`` (open sets).

cattrs is imported, and the converter built, on first need (``converter``, a module attribute
resolved through PEP 562, or :func:`get_converter`): a model whose fields are all of the simple
kinds the fast path handles (see below) is parsed without it, so a process that only gets good
answers for such models never loads cattrs ("Import weight" in docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import NoneType
from typing import TYPE_CHECKING, Any, TypeVar, get_args, get_origin

import attrs
import orjson

from ._modelgen import (
    Hook,
    Mismatch,
    generate_fast_hook,
    is_simple_optional,
    structure_datetime,
    structure_json_object,
)
from .exceptions import ResponseParseError

if TYPE_CHECKING:
    from cattrs.preconf.orjson import OrjsonConverter

    converter: OrjsonConverter  # built on first use: see __getattr__

__all__ = ["converter", "dumps", "get_converter", "parse", "structure", "unstructure"]

T = TypeVar("T")

_converter: OrjsonConverter | None = None


def get_converter() -> OrjsonConverter:
    """The private converter, built (and cattrs imported) on the first call."""
    global _converter
    if _converter is None:
        from cattrs.preconf.orjson import make_converter

        built = make_converter(forbid_extra_keys=False, detailed_validation=True)
        _register_hooks(built)
        _converter = built
    return _converter


def __getattr__(name: str) -> Any:
    if name == "converter":
        return get_converter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    return None if value is None else structure_datetime(value, datetime)


def _structure_optional_factory(type_: Any) -> Callable[[Any, Any], Any]:
    # cattrs' generic Optional hook dispatches on the inner type at every call; resolve it once.
    inner = next(arg for arg in type_.__args__ if arg is not NoneType)
    if inner is str:
        return _structure_optional_str
    if inner is datetime:
        return _structure_optional_datetime
    hook = get_converter().get_structure_hook(inner)

    def structure_optional(value: Any, _: Any) -> Any:
        return None if value is None else hook(value, inner)

    return structure_optional


# -- the fast path for flat models ----------------------------------------------------------------
#
# For a slotted attrs class whose fields have no validators or converters, ``_fast_structure_hook``
# gets (once per class) a generated function (``_modelgen.generate_fast_hook``) that fills the
# slots directly, each field's hook resolved once (``None`` passes through for ``X | None``, as
# ``_structure_optional_factory`` does); anything unexpected falls back to cattrs' detailed hook
# for the whole object, so results and error messages are cattrs' own.
#
# Without cattrs (``_free_hook``): when every field is ``str``, a timestamp, ``int``/``float``/
# ``bool`` (cattrs calls the type: ``int(v)``), ``Any``, ``dict[str, Any]``, a registered union,
# another such model or a ``list`` of these, the field hooks are this module's own (each gives what
# cattrs' hook gives, or raises so that the detailed hook decides) and the detailed hook itself is
# generated on its first call. Other models get their field hooks from the converter.


class _NeedsCattrs(Exception):
    """A field type only cattrs knows how to structure."""


_generating: set[Any] = set()
_free_hooks: dict[Any, Hook | None] = {}
_union_hooks: dict[Any, Hook] = {}


def _fast_structure_hook(cls: Any) -> Callable[[Any, Any], Any]:
    free = _free_hook(cls)
    if free is not None:
        return free
    slow = get_converter().gen_structure_attrs_fromdict(cls)
    if cls in _generating:  # a model that contains itself: leave the recursion to cattrs
        return slow
    _generating.add(cls)
    try:
        fast = generate_fast_hook(cls, slow, get_converter().get_structure_hook)
    except (NameError, TypeError):  # unresolvable annotations: cattrs knows best
        return slow
    finally:
        _generating.discard(cls)
    return slow if fast is None else fast


def _free_hook(cls: Any) -> Hook | None:
    """``cls``'s fast hook built without cattrs, or ``None`` when a field type needs cattrs."""
    if cls in _free_hooks:
        return _free_hooks[cls]
    if cls in _generating:  # a model that contains itself: leave the recursion to cattrs
        return None
    _generating.add(cls)
    try:
        hook = generate_fast_hook(cls, _detailed(cls), _free_field_hook)
    except (NameError, TypeError, _NeedsCattrs):
        hook = None
    finally:
        _generating.discard(cls)
    _free_hooks[cls] = hook
    return hook


def _detailed(cls: Any) -> Hook:
    """cattrs' detailed hook for ``cls``, generated (cattrs loaded) on its first call."""
    slow: Hook | None = None

    def structure_detailed(value: Any, _: Any = None) -> Any:
        nonlocal slow
        if slow is None:
            slow = get_converter().gen_structure_attrs_fromdict(cls)
        return slow(value, cls)

    return structure_detailed


def _free_field_hook(type_: Any) -> Hook:
    """A field hook giving what the converter's hook gives (or raising); no cattrs."""
    union = _union_hooks.get(type_)
    if union is not None:
        return union
    if type_ is Any:
        return _structure_any
    if type_ in (int, float, bool):
        return _structure_call
    if type_ is str:
        return _structure_str
    if type_ is datetime:
        return structure_datetime
    origin, args = get_origin(type_), get_args(type_)
    if origin is list and len(args) == 1:
        return _list_hook(_free_field_hook(args[0]), args[0])
    if origin is dict and args == (str, Any):
        return structure_json_object
    if isinstance(type_, type) and attrs.has(type_):
        nested = _free_hook(type_)
        if nested is not None:
            return nested
    raise _NeedsCattrs(type_)


def _structure_any(value: Any, _: Any) -> Any:
    return value


def _structure_call(value: Any, type_: Any) -> Any:
    return type_(value)  # what cattrs does for int, float and bool


def _list_hook(item: Hook, item_type: Any) -> Hook:
    def structure_list(value: Any, _: Any) -> list[Any]:
        if type(value) is not list:
            raise Mismatch
        return [item(element, item_type) for element in value]

    return structure_list


# -- every hook of the converter, registered here (and nowhere else) --------------------------


def _register_hooks(built: OrjsonConverter) -> None:
    built.register_structure_hook(datetime, structure_datetime)
    built.register_structure_hook(str, _structure_str)
    built.register_structure_hook_factory(is_simple_optional, _structure_optional_factory)
    built.register_structure_hook_factory(attrs.has, _fast_structure_hook)
    for cls, hook in _union_hooks.items():
        built.register_structure_hook(cls, hook)


def register_model_hooks(unions: Mapping[Any, Callable[[Any, Any], Any]]) -> None:
    """The hooks of the models' open tagged unions (chat chunks, context snippets), by class.

    Called by a model module (``models.chat``, ``models.context``) when it is imported, with
    the hooks it defines: the models import this module, so this module does not import them
    (no import cycle), and an area's hooks exist exactly when its classes do.
    """
    _union_hooks.update(unions)
    if _converter is not None:
        for cls, hook in unions.items():
            _converter.register_structure_hook(cls, hook)


_hooks: dict[Any, Callable[[Any, Any], Any]] = {}


def hook_for(cls: Any) -> Hook:
    """The structure hook of ``cls`` (what the converter would give), cached; cattrs is loaded
    only for a class the fast path cannot do alone. It raises cattrs' errors, unwrapped."""
    hook = _hooks.get(cls)
    if hook is None:
        found = _union_hooks.get(cls)
        if found is None and isinstance(cls, type) and attrs.has(cls):
            found = _free_hook(cls)
        hook = _hooks[cls] = found or get_converter().get_structure_hook(cls)
    return hook


def structure(data: Any, cls: type[T]) -> T:
    """Turn decoded JSON into ``cls``; a mismatch raises :class:`ResponseParseError`."""
    hook = _hooks.get(cls)
    if hook is None:
        hook = hook_for(cls)
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
        hook = hook_for(cls)
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
    return get_converter().unstructure(obj)


def dumps(obj: Any) -> bytes:
    """Serialize plain data or a model to JSON bytes."""
    return orjson.dumps(get_converter().unstructure(obj))


def _parse_error(exc: Exception, cls: type) -> ResponseParseError:
    import cattrs  # a parse error is rare: cattrs is loaded for its error reader only then

    messages = cattrs.transform_error(exc, path="$")
    first = messages[0] if messages else str(exc)
    path = first.rpartition(" @ ")[2] if " @ " in first else "$"
    more = f" (and {len(messages) - 1} more)" if len(messages) > 1 else ""
    return ResponseParseError(f"response does not match {cls.__name__}: {first}{more}", path=path)
