"""Metadata filters (``{"genre": {"$eq": "comedy"}}``) applied to file metadata."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from ._errors import invalid

Predicate = Callable[[Mapping[str, Any] | None], bool]

_COMPARE = ("$gt", "$gte", "$lt", "$lte")


def parse_filter_param(raw: str | None) -> Predicate | None:
    """Compile the JSON-encoded ``filter`` query parameter (None when absent)."""
    if raw is None or raw == "":
        return None
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid("Query parameter 'filter' must be a JSON-encoded object.") from None
    return compile_filter(value)


def compile_filter(spec: Any) -> Predicate:
    """Compile a filter object into a predicate over file metadata; 400 if malformed."""
    if not isinstance(spec, dict):
        raise invalid("A metadata filter must be a JSON object.")
    clauses = [_clause(key, value) for key, value in spec.items()]

    def matches(metadata: Mapping[str, Any] | None) -> bool:
        return all(clause(metadata or {}) for clause in clauses)

    return matches


def _clause(key: str, value: Any) -> Callable[[Mapping[str, Any]], bool]:
    if key in ("$and", "$or"):
        if not isinstance(value, list) or not value:
            raise invalid(f"Filter operator {key} takes a non-empty array of filters.")
        parts = [compile_filter(item) for item in value]
        if key == "$and":
            return lambda md: all(p(md) for p in parts)
        return lambda md: any(p(md) for p in parts)
    if key.startswith("$"):
        raise invalid(f"Unknown filter operator {key!r} at the top level.")
    if isinstance(value, dict):
        tests = [_operator(key, op, operand) for op, operand in value.items()]
        return lambda md: all(t(md) for t in tests)
    return _operator(key, "$eq", value)


def _scalar(op: str, operand: Any) -> None:
    if not isinstance(operand, str | int | float | bool) or operand is None:
        raise invalid(f"Filter operator {op} takes a string, number or boolean.")


def _operator(field: str, op: str, operand: Any) -> Callable[[Mapping[str, Any]], bool]:
    if op in ("$eq", "$ne"):
        _scalar(op, operand)
        equal = op == "$eq"

        def eq(md: Mapping[str, Any]) -> bool:
            value = md.get(field)
            hit = operand in value if isinstance(value, list) else value == operand
            return hit if equal else (field in md and not hit)

        return eq
    if op in ("$in", "$nin"):
        if not isinstance(operand, list):
            raise invalid(f"Filter operator {op} takes an array.")
        inside = op == "$in"

        def member(md: Mapping[str, Any]) -> bool:
            value = md.get(field)
            values = value if isinstance(value, list) else [value]
            hit = field in md and any(v in operand for v in values)
            return hit if inside else (field in md and not hit)

        return member
    if op in _COMPARE:
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise invalid(f"Filter operator {op} takes a number.")

        def compare(md: Mapping[str, Any]) -> bool:
            value = md.get(field)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            if op == "$gt":
                return value > operand
            if op == "$gte":
                return value >= operand
            if op == "$lt":
                return value < operand
            return value <= operand

        return compare
    if op == "$exists":
        if not isinstance(operand, bool):
            raise invalid("Filter operator $exists takes a boolean.")
        return lambda md: (field in md) == operand
    raise invalid(f"Unknown filter operator {op!r} on field {field!r}.")
