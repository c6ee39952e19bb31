"""Code generation of the fast structure functions of flat models (see ``_convert.py``).

cattrs' generated hook calls one hook per field and builds the object through the attrs
``__init__`` with keyword arguments: for the small models most calls return, that costs more
client CPU than the rest of the request path. For a slotted attrs class whose fields have no
validators or converters, :func:`generate_fast_hook` writes (once per class) a function that
fetches every field at once, checks ``str`` fields and JSON objects (``dict[str, Any]``) and parses
timestamps inline, calls every other field's hook (given by the caller, resolved once) and fills
the slots directly, which is what that ``__init__`` does. Anything unexpected (not a dict, a
missing key, a wrong type, an error in a field hook: :class:`Mismatch` or any exception) falls
back to the detailed hook for the whole object, so results and error messages are cattrs' own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import MemberDescriptorType, NoneType, UnionType
from typing import Any, Final, Union, get_origin

import attrs

__all__ = [
    "MISSING",
    "Hook",
    "Mismatch",
    "generate_fast_hook",
    "is_simple_optional",
    "structure_datetime",
    "structure_json_object",
]

Hook = Callable[[Any, Any], Any]

MISSING: Final = object()


class Mismatch(Exception):
    """A value the fast path does not take as is; the detailed hook decides."""


def structure_datetime(value: Any, _: Any) -> datetime:
    """RFC 3339 / ISO 8601: ``Z`` or offsets, any number of fractional digits; naive means UTC."""
    if type(value) is str:
        parsed = datetime.fromisoformat(value if value[-1:] != "z" else value[:-1] + "Z")
    elif isinstance(value, datetime):
        parsed = value
    else:
        raise TypeError(f"expected an RFC 3339 timestamp string, got {type(value).__name__}")
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def is_simple_optional(type_: Any) -> bool:
    args = getattr(type_, "__args__", ())
    return get_origin(type_) in (Union, UnionType) and len(args) == 2 and NoneType in args


def structure_json_object(value: Any, _: Any) -> dict[str, Any]:
    # cattrs' dict[str, Any] hook: a new dict, every key through the strict str hook. A loop, not
    # any() over a generator: most objects are small or empty. (Inlined in generate_fast_hook.)
    if type(value) is not dict:
        raise Mismatch
    for key in value:
        if type(key) is not str:
            raise Mismatch
    return dict(value)


def generate_fast_hook(
    cls: Any, slow: Callable[[Any, Any], Any], field_hook: Callable[[Any], Hook]
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
        "_MISSING": MISSING,
        "_Mismatch": Mismatch,
        "_fromiso": datetime.fromisoformat,
        "_UTC": UTC,
        "_dict": dict,
    }
    body: list[str] = []
    sets: list[str] = []
    # Fields read with o.get (a missing key is None): fetched together, one map() for all.
    fetched: list[tuple[str, str]] = []
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
        optional = is_simple_optional(field.type)
        inner = (
            next(a for a in field.type.__args__ if a is not NoneType) if optional else field.type
        )
        # `convert`: statements that check or structure `v`, which holds the wire value.
        if inner is str:
            test = f"type({v}) is not str"
            convert = [f"if {v} is not None and {test}:" if optional else f"if {test}:"]
            convert.append("    raise _Mismatch")
        elif inner is datetime:
            # structure_datetime's common case inline; a lowercase "z" makes fromisoformat raise,
            # and the detailed hook then does it the long way.
            namespace[f"_h{index}"] = structure_datetime
            convert = [
                f"if type({v}) is str:",
                f"    {v} = _fromiso({v})",
                f"    if {v}.tzinfo is None:",
                f"        {v} = {v}.replace(tzinfo=_UTC)",
                *([f"elif {v} is not None:"] if optional else ["else:"]),
                f"    {v} = _h{index}({v}, None)",
            ]
        else:
            inner_hook = field_hook(inner)
            if inner_hook is structure_json_object:
                # structure_json_object inline (metadata: most often empty).
                convert = [
                    f"if type({v}) is not dict:",
                    "    raise _Mismatch",
                    f"if {v}:",
                    f"    for _k in {v}:",
                    "        if type(_k) is not str:",
                    "            raise _Mismatch",
                    f"{v} = _dict({v})",
                ]
            else:
                namespace[f"_h{index}"] = inner_hook
                namespace[f"_t{index}"] = inner
                convert = [f"{v} = _h{index}({v}, _t{index})"]
            if optional:
                convert = [f"if {v} is not None:", *("    " + line for line in convert)]
        default = field.default
        if (default is attrs.NOTHING and inner is str and not optional) or (
            default is None and optional
        ):
            # A missing required string is None here, which its check refuses: the detailed
            # hook then names it, as it does for a KeyError.
            fetched.append((v, field.name))
            lines = convert
        elif default is attrs.NOTHING:
            lines = [f"{v} = o[{field.name!r}]", *convert]
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
    if len(fetched) > 1:
        namespace["_keys"] = tuple(key for _, key in fetched)
        targets = ", ".join(v for v, _ in fetched)
        body.insert(0, f"        {targets}, = map(o.get, _keys)")
    elif fetched:
        v, key = fetched[0]
        body.insert(0, f"        {v} = o.get({key!r})")
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
