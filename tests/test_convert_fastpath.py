"""The converter's fast path for flat models gives exactly what cattrs' detailed hooks give.

``_convert`` generates, per model class, a structure function that checks ``str`` fields inline
and fills the slots directly, falling back to cattrs' detailed hook on anything unexpected. Every
model class is checked differentially against that detailed hook on generated data: same result
when cattrs accepts the data, an error when cattrs rejects it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from datetime import datetime
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aiopinecone.models
from aiopinecone import ResponseParseError
from aiopinecone._convert import converter, parse, structure
from aiopinecone.models.assistants import Assistant, AssistantList


def _model_classes() -> list[type]:
    found: list[type] = []
    for info in pkgutil.iter_modules(aiopinecone.models.__path__):
        module = importlib.import_module(f"aiopinecone.models.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and attrs.has(value) and value.__module__ == module.__name__:
                found.append(value)
    return found


MODELS = _model_classes()

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)

TIMESTAMPS = st.sampled_from(
    [
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05.123456789Z",
        "2026-01-02T03:04:05.5+02:00",
        "2026-01-02T03:04:05",
        "2026-01-02T03:04:05z",
        "2026-13-02T03:04:05Z",
        "yesterday",
    ]
)


def _plausible(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like ``tp`` most of the time, anything JSON some of the time."""
    origin, args = get_origin(tp), get_args(tp)
    if origin in (Union, UnionType):
        return st.one_of(*(_plausible(a, depth) for a in args))
    if tp is NoneType:
        return st.none()
    if tp is str:
        shaped: st.SearchStrategy[Any] = st.text(max_size=8)
    elif tp is bool:
        shaped = st.booleans()
    elif tp is int:
        shaped = st.integers(-(2**40), 2**40)
    elif tp is float:
        shaped = st.floats(allow_nan=False) | st.integers(-100, 100)
    elif tp is datetime:
        shaped = TIMESTAMPS
    elif origin is dict:
        shaped = st.dictionaries(st.text(max_size=5), JSON, max_size=3)
    elif origin is list:
        shaped = st.lists(_plausible(args[0], depth + 1), max_size=2 if depth < 2 else 0)
    elif attrs.has(tp) and depth < 3:
        shaped = _model_dict(tp, depth + 1)
    else:
        shaped = JSON
    return st.one_of(shaped, shaped, shaped, JSON)


def _model_dict(cls: type, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    attrs.resolve_types(cls)
    fields = attrs.fields(cls)
    required = {f.name: _plausible(f.type, depth) for f in fields if f.default is attrs.NOTHING}
    optional = {f.name: _plausible(f.type, depth) for f in fields if f.default is not attrs.NOTHING}
    extra = st.dictionaries(st.sampled_from(["extra", "unknown_key"]), JSON, max_size=1)
    base = st.fixed_dictionaries(required, optional=optional)
    return st.builds(lambda data, more: {**more, **data}, base, extra)


def _outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except Exception as exc:
        return "error", type(exc)


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_every_model_gets_a_generated_hook(cls: type) -> None:
    assert converter.get_structure_hook(cls).__name__ == f"fast_structure_{cls.__name__}"


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fast_path_matches_the_detailed_hook(cls: type, data: st.DataObject) -> None:
    value = data.draw(st.one_of(_model_dict(cls), _model_dict(cls), JSON))
    slow: Callable[[Any, Any], Any] = converter.gen_structure_attrs_fromdict(cls)
    fast = converter.get_structure_hook(cls)
    expected = _outcome(lambda: slow(value, cls))
    got = _outcome(lambda: fast(value, cls))
    if expected[0] == "ok":
        assert got == expected
        assert type(got[1]) is cls
    else:
        assert got[0] == "error"


def test_errors_still_name_the_field() -> None:
    body = b'{"assistants": [{"name": "a", "status": "Ready"}, {"name": 3, "status": "x"}]}'
    with pytest.raises(ResponseParseError) as info:
        parse(body, AssistantList)
    assert info.value.path == "$.assistants[1].name"


def test_a_non_dict_and_lowercase_z_go_through_the_detailed_path() -> None:
    assert structure({"name": "a", "status": "Ready"}, Assistant) == Assistant(
        name="a", status="Ready"
    )
    late = structure(
        {"name": "a", "status": "Ready", "updated_at": "2026-01-02T03:04:05z"}, Assistant
    )
    assert late.updated_at is not None
    assert late.updated_at.utcoffset() is not None
    with pytest.raises(ResponseParseError):
        structure(["not", "a", "dict"], Assistant)


def test_a_json_object_field_is_a_new_dict_with_string_keys() -> None:
    metadata: dict[Any, Any] = {"team": "a", "n": 1}
    assistant = structure({"name": "a", "status": "Ready", "metadata": metadata}, Assistant)
    assert assistant.metadata == metadata
    assert assistant.metadata is not metadata
    slow: Callable[[Any, Any], Any] = converter.gen_structure_attrs_fromdict(Assistant)
    for bad in ({1: "x"}, {"a": 1, 2: "x"}, ["a"], "a"):
        value = {"name": "a", "status": "Ready", "metadata": bad}
        with pytest.raises(Exception):  # noqa: B017, PT011 (whatever cattrs raises)
            slow(value, Assistant)
        with pytest.raises(ResponseParseError) as info:
            structure(value, Assistant)
        assert info.value.path.startswith("$.metadata")


def test_factory_defaults_are_fresh_objects() -> None:
    first = structure({}, AssistantList)
    second = structure({}, AssistantList)
    assert first.assistants == []
    assert first.assistants is not second.assistants


@attrs.frozen(kw_only=True)
class _Checked:
    size: int = attrs.field(validator=attrs.validators.ge(0))


@attrs.frozen(kw_only=True)
class _PostInit:
    name: str

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "name", self.name.upper())


@attrs.frozen(kw_only=True)
class _SelfFactory:
    name: str
    label: str = attrs.field(default=attrs.Factory(lambda self: self.name + "!", takes_self=True))


def test_classes_the_fast_path_cannot_mimic_keep_cattrs_hooks() -> None:
    for cls in (_Checked, _PostInit, _SelfFactory):
        assert not converter.get_structure_hook(cls).__name__.startswith("fast_structure_")
    with pytest.raises(ResponseParseError):
        structure({"size": -1}, _Checked)
    assert structure({"name": "a"}, _PostInit).name == "A"
    assert structure({"name": "a"}, _SelfFactory).label == "a!"
