"""The options of a provisioning run: one frozen object, built from keywords in one place.

``pc.assistants.provision(specs, concurrency=8)``, ``provisioner(...)``, ``plan(...)`` and
``Provisioner(...)`` all take the same keywords (:class:`ProvisionKeywords`) or a ready
:class:`ProvisionOptions`; :meth:`ProvisionOptions.build` turns them into the options and checks
them (a :class:`~aiopinecone.ValidationError` before any request).
"""

from __future__ import annotations

import sys
from typing import Any, TypedDict, Unpack

import attrs

from .._governor import RateLimits
from .._validation import check_seconds
from ..exceptions import ValidationError
from ._progress import ProgressDisplay
from ._shard import Shard

__all__ = ["ProvisionKeywords", "ProvisionOptions"]


class ProvisionKeywords(TypedDict, total=False):
    """The keyword arguments of ``provision``/``plan``/``provisioner``: :class:`ProvisionOptions`'
    fields, with ``rate_preset`` as the name of ``rate_limits`` that ``pc.assistants`` uses."""

    prune: bool
    concurrency: int
    rate_preset: str | RateLimits
    rate_limits: str | RateLimits
    progress: bool | ProgressDisplay | None
    ready_timeout: float
    processing_timeout: float
    poll_interval: tuple[float, float]
    ready_estimate: float | None
    ready_batch: int
    shard: Shard | str | None


def _to_rate_limits(value: str | RateLimits) -> RateLimits:
    if isinstance(value, RateLimits):
        return value
    if isinstance(value, str):
        try:
            return RateLimits.preset(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
    raise ValidationError(f"rate_limits must be a preset name or RateLimits, got {value!r}")


def _to_display(value: bool | ProgressDisplay | None) -> ProgressDisplay | None:
    if value is True:
        return ProgressDisplay(sys.stderr)
    if value is False or value is None:
        return None
    if not isinstance(value, ProgressDisplay):
        raise ValidationError(f"progress must be a bool or a ProgressDisplay, got {value!r}")
    return value


def _seconds(value: Any, label: str) -> float:
    seconds = check_seconds(value, label)
    assert seconds is not None
    return seconds


def _to_ready_timeout(value: Any) -> float:
    return _seconds(value, "ready_timeout")


def _to_processing_timeout(value: Any) -> float:
    return _seconds(value, "processing_timeout")


def _to_interval(value: Any) -> tuple[float, float]:
    try:
        first, most = value
    except (TypeError, ValueError):
        message = f"poll_interval must be (first, max) seconds, got {value!r}"
        raise ValidationError(message) from None
    return _seconds(first, "poll_interval[0]"), _seconds(most, "poll_interval[1]")


def _to_concurrency(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"concurrency must be an integer >= 1, got {value!r}")
    return value


def _to_estimate(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValidationError(f"ready_estimate must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _to_batch(value: Any) -> int:
    return max(1, int(value))


def _to_shard(value: Shard | str | None) -> Shard | None:
    if value is None or isinstance(value, Shard):
        return value
    if isinstance(value, str):
        return Shard.parse(value)
    raise ValidationError(f"shard must be a Shard, 'I/N', 'auto/N' or 'auto', got {value!r}")


def _adaptive() -> RateLimits:
    return RateLimits.preset("adaptive")


@attrs.frozen(kw_only=True)
class ProvisionOptions:
    """How a provisioning run behaves (every field has a default).

    - ``prune``: delete assistants the specs do not list, and files of listed assistants the
      specs do not list. Off by default.
    - ``concurrency``: requests in flight at most.
    - ``rate_limits``: ``"adaptive"`` (default: starts at the Starter plan's limits and learns
      the real ones from 429 answers), ``"starter"``, ``"standard"``, ``"enterprise"``,
      ``"unlimited"``, or a :class:`~aiopinecone.provision.RateLimits` (``rate_preset`` in the
      keywords of ``pc.assistants``).
    - ``progress``: ``True`` for a live progress line on standard error, or a
      :class:`~aiopinecone.provision.ProgressDisplay`.
    - ``ready_timeout``, ``processing_timeout``: seconds an assistant may take to become Ready,
      and its files to be processed, before it fails.
    - ``poll_interval``: ``(first, max)`` seconds between processing polls of one assistant (one
      ``list_files`` each).
    - ``ready_estimate``, ``ready_batch``: readiness polling (one ``list`` for every pending
      assistant) waits until about ``ready_batch`` assistants are expected Ready, guessing their
      ready delay from ``ready_estimate`` seconds at first (default: 2 s of the limits' minute),
      then from what it sees.
    - ``shard``: apply only this shard of the fleet (:class:`~aiopinecone.provision.Shard`, or
      ``"I/N"``, ``"auto/N"``, ``"auto"``): the specs and the server's assistants whose names
      hash to it; the others are left alone (also by ``prune``). Other machines apply the
      other shards; ``aiopinecone report merge`` joins their reports.
    """

    prune: bool = attrs.field(default=False, converter=bool)
    concurrency: int = attrs.field(default=16, converter=_to_concurrency)
    rate_limits: RateLimits = attrs.field(factory=_adaptive, converter=_to_rate_limits)
    progress: ProgressDisplay | None = attrs.field(default=None, converter=_to_display)
    ready_timeout: float = attrs.field(default=600.0, converter=_to_ready_timeout)
    processing_timeout: float = attrs.field(default=900.0, converter=_to_processing_timeout)
    poll_interval: tuple[float, float] = attrs.field(default=(1.0, 10.0), converter=_to_interval)
    ready_estimate: float | None = attrs.field(default=None, converter=_to_estimate)
    ready_batch: int = attrs.field(default=12, converter=_to_batch)
    shard: Shard | None = attrs.field(default=None, converter=_to_shard)

    @classmethod
    def build(
        cls, options: ProvisionOptions | None = None, /, **keywords: Unpack[ProvisionKeywords]
    ) -> ProvisionOptions:
        """``options`` (default: the defaults) with the given keywords on top.

        Raises :class:`~aiopinecone.ValidationError` for an unknown keyword or a bad value.
        """
        if options is not None and not isinstance(options, ProvisionOptions):
            raise ValidationError(f"options must be a ProvisionOptions, got {options!r}")
        changes: dict[str, Any] = dict(keywords)
        if "rate_preset" in changes:
            if "rate_limits" in changes:
                raise ValidationError("give rate_preset or rate_limits, not both")
            changes["rate_limits"] = changes.pop("rate_preset")
        unknown = sorted(changes.keys() - _FIELDS)
        if unknown:
            raise ValidationError(
                f"unknown provisioning option{'s' if len(unknown) > 1 else ''}: "
                f"{', '.join(unknown)} (known: {', '.join(sorted(_FIELDS))}, rate_preset)"
            )
        base = options if options is not None else cls()
        return attrs.evolve(base, **changes) if changes else base


_FIELDS = frozenset(f.name for f in attrs.fields(ProvisionOptions))
