"""Public names: the timeout error no longer shadows the builtin; its old name still works."""

import builtins

import pytest

import aiopinecone
import aiopinecone.exceptions
from aiopinecone import RequestTimeoutError, TransportError


def test_request_timeout_error_is_a_transport_error_and_a_builtin_timeout() -> None:
    assert issubclass(RequestTimeoutError, TransportError)
    assert issubclass(RequestTimeoutError, builtins.TimeoutError)
    assert RequestTimeoutError.__name__ == "RequestTimeoutError"


def test_every_public_name_resolves() -> None:
    for name in aiopinecone.__all__:
        assert getattr(aiopinecone, name) is not None, name
    for name in aiopinecone.exceptions.__all__:
        assert getattr(aiopinecone.exceptions, name) is not None, name


def test_star_import_does_not_shadow_the_builtin_timeout_error() -> None:
    assert "TimeoutError" not in aiopinecone.__all__
    assert "TimeoutError" not in aiopinecone.exceptions.__all__
    namespace: dict[str, object] = {}
    exec("from aiopinecone import *", namespace)
    assert "TimeoutError" not in namespace
    assert "RequestTimeoutError" in namespace


@pytest.mark.parametrize("module", [aiopinecone, aiopinecone.exceptions], ids=lambda m: m.__name__)
def test_deprecated_timeout_error_alias_still_resolves_and_warns(module: object) -> None:
    with pytest.warns(DeprecationWarning, match=r"TimeoutError is deprecated; use .*\.RequestTim"):
        alias = module.TimeoutError  # type: ignore[attr-defined]
    assert alias is RequestTimeoutError


def _catch_with_old_name() -> bool:
    try:
        raise RequestTimeoutError("slow", ambiguous=False)
    except aiopinecone.TimeoutError as exc:
        return exc.ambiguous is False


def test_except_old_name_catches_the_new_class() -> None:
    with pytest.warns(DeprecationWarning, match="RequestTimeoutError"):
        caught = _catch_with_old_name()
    assert caught


def test_from_import_of_the_old_name_works() -> None:
    with pytest.warns(DeprecationWarning, match="RequestTimeoutError"):
        from aiopinecone import TimeoutError as OldName
    assert OldName is RequestTimeoutError


def test_unknown_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        _ = aiopinecone.NoSuchName
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        _ = aiopinecone.exceptions.NoSuchName
