"""What a provisioning run did: per assistant, and for the whole run; JSON and a summary table."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

import attrs
import orjson

from .._table import Step, clip, fit_table, pack
from ._shard import Shard

__all__ = ["AssistantReport", "Outcome", "ProvisionReport", "Recorder"]

Outcome = Literal["ok", "failed", "cancelled", "not_started"]


@attrs.frozen(kw_only=True)
class AssistantReport:
    """What happened to one assistant.

    ``planned`` is the plan's action (``create``, ``update``, ``unchanged``, ``delete``,
    ``blocked``); ``outcome`` is ``ok``, ``failed`` (``error`` says why), ``cancelled`` (the run
    was cancelled before this assistant was done) or ``not_started``. ``actions`` lists what was
    actually done, in order (``created``, ``updated``, ``ready``, ``uploaded faq.md``, ...).
    ``requests`` counts the requests sent for it, ``rate_limited`` the 429s among them;
    ``timings`` holds seconds per phase (``create``, ``ready``, ``files``, ``processing``...).
    """

    name: str
    planned: str
    outcome: Outcome
    actions: tuple[str, ...] = ()
    error: str | None = None
    error_type: str | None = None
    requests: int = 0
    rate_limited: int = 0
    files_uploaded: int = 0
    files_deleted: int = 0
    seconds: float = 0.0
    timings: Mapping[str, float] = attrs.field(factory=dict, hash=False)


def _round(value: float) -> float:
    return round(value, 3)


@attrs.frozen(kw_only=True)
class ProvisionReport:
    """The result of :meth:`provision`: one :class:`AssistantReport` per planned assistant.

    ``cancelled`` is true when the run was cancelled (Ctrl-C, task cancellation) before the end:
    the per-assistant outcomes then say exactly what was and was not done. ``requests`` gives, per
    operation class, the limiter's counters (started, accepted, 429s, seconds waited);
    ``polls`` how many readiness polls (one ``list`` each) and processing polls (one
    ``list_files`` each) the run made. ``shard`` is the shard this run applied, if sharded
    (``aiopinecone report merge`` joins the shards' JSON reports). ``outage_seconds``: how long
    (wall clock) the run waited for the server to accept connections again after it could not
    be reached (``RetryPolicy.connect_budget``); 0 when it always could.
    (``aiopinecone report merge`` joins the shards' JSON reports). ``all_requests`` and
    ``all_rate_limited`` count every request of the run, the plan's reads and readiness polls
    included (``counts()`` reports them; ``None``: the sums over the assistants).
    """

    assistants: tuple[AssistantReport, ...]
    started_at: datetime
    seconds: float
    prune: bool = False
    cancelled: bool = False
    dry_run: bool = False
    requests: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, hash=False)
    polls: Mapping[str, int] = attrs.field(factory=dict, hash=False)
    shard: Shard | None = None
    outage_seconds: float = 0.0
    all_requests: int | None = None
    all_rate_limited: int | None = None

    @property
    def ok(self) -> bool:
        """True when every assistant ended ``ok`` and the run was not cancelled."""
        return not self.cancelled and all(a.outcome == "ok" for a in self.assistants)

    @property
    def failed(self) -> tuple[AssistantReport, ...]:
        """The assistants that failed."""
        return tuple(a for a in self.assistants if a.outcome == "failed")

    def __getitem__(self, name: str) -> AssistantReport:
        for a in self.assistants:
            if a.name == name:
                return a
        raise KeyError(name)

    def counts(self) -> dict[str, int]:
        """Assistants per outcome, files uploaded/deleted, requests sent and 429s met."""
        out = dict.fromkeys(("ok", "failed", "cancelled", "not_started"), 0)
        for a in self.assistants:
            out[a.outcome] += 1
        out["files_uploaded"] = sum(a.files_uploaded for a in self.assistants)
        out["files_deleted"] = sum(a.files_deleted for a in self.assistants)
        out["rate_limited"] = (
            self.all_rate_limited
            if self.all_rate_limited is not None
            else sum(a.rate_limited for a in self.assistants)
        )
        out["requests"] = (
            self.all_requests
            if self.all_requests is not None
            else sum(a.requests for a in self.assistants)
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "ok": self.ok,
            "cancelled": self.cancelled,
            "dry_run": self.dry_run,
            "prune": self.prune,
            "started_at": self.started_at.isoformat(),
            "seconds": _round(self.seconds),
            "counts": self.counts(),
            "requests": {k: dict(v) for k, v in self.requests.items()},
            "polls": dict(self.polls),
            "outage_seconds": _round(self.outage_seconds),
            **({} if self.shard is None else {"shard": self.shard.to_dict()}),
            "assistants": [
                {
                    "name": a.name,
                    "planned": a.planned,
                    "outcome": a.outcome,
                    "actions": list(a.actions),
                    "error": a.error,
                    "error_type": a.error_type,
                    "requests": a.requests,
                    "rate_limited": a.rate_limited,
                    "files_uploaded": a.files_uploaded,
                    "files_deleted": a.files_deleted,
                    "seconds": _round(a.seconds),
                    "timings": {k: _round(v) for k, v in a.timings.items()},
                }
                for a in self.assistants
            ],
        }

    def to_json(self, *, indent: bool = True) -> str:
        """The report as a JSON document."""
        option = orjson.OPT_INDENT_2 if indent else 0
        return orjson.dumps(self.to_dict(), option=option).decode()

    def summary_table(self, *, all_rows: bool = False, width: int | None = None) -> str:
        """A human summary: a table of the assistants that did something (or all), and totals.

        ``width`` (e.g. the terminal's): no line is longer; the note column is truncated, then
        dropped with the seconds and the 429s, then names truncated; totals wrap.
        """
        rows = [
            a
            for a in self.assistants
            if all_rows or a.outcome != "ok" or a.planned != "unchanged" or a.actions
        ]
        header = ("assistant", "planned", "outcome", "files +/-", "reqs", "429s", "secs", "note")
        table: list[tuple[str, ...]] = [header]
        for a in rows:
            table.append(
                (
                    a.name,
                    a.planned,
                    a.outcome,
                    f"{a.files_uploaded}/{a.files_deleted}",
                    str(a.requests),
                    str(a.rate_limited),
                    f"{a.seconds:.1f}",
                    clip(a.error or ", ".join(a.actions), 60),
                )
            )
        steps: tuple[Step, ...] = (
            ("trim", 7),
            ("drop", 7),
            ("drop", 6),
            ("drop", 5),
            ("trim", 0),
        )
        lines = fit_table(table, width, steps=steps, rule=True)
        if len(table) == 1:
            lines = ["(no assistant needed any change)"]
        c = self.counts()
        status = "cancelled" if self.cancelled else ("ok" if self.ok else "partial failure")
        lines.append("")
        totals: tuple[str, ...] = (
            f"{status}{f' (shard {self.shard})' if self.shard else ''}: "
            f"{len(self.assistants)} assistants — {c['ok']} ok, {c['failed']} failed, "
            f"{c['cancelled']} cancelled, {c['not_started']} not started",
            f"files {c['files_uploaded']} uploaded, {c['files_deleted']} deleted",
            f"{c['requests']} requests, {c['rate_limited']} rate-limited",
            f"{self.seconds:.1f} s",
        )
        if self.outage_seconds > 0:
            totals += (
                f"waited {self.outage_seconds:.1f} s for the server to accept connections again",
            )
        lines.extend(pack(totals, width))
        return "\n".join(lines)


@attrs.define
class Recorder:
    """The mutable record of one assistant while a run is going; frozen into a report at the end."""

    name: str
    planned: str
    actions: list[str] = attrs.field(factory=list)
    error: BaseException | None = None
    started: float | None = None
    finished: float | None = None
    done: bool = False
    requests: int = 0
    rate_limited: int = 0
    files_uploaded: int = 0
    files_deleted: int = 0
    timings: dict[str, float] = attrs.field(factory=dict)

    def begin(self, now: float) -> None:
        if self.started is None:
            self.started = now

    def timing(self, phase: str, seconds: float) -> None:
        self.timings[phase] = self.timings.get(phase, 0.0) + seconds

    def fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc

    def freeze(self, *, cancelled: bool, now: float) -> AssistantReport:
        outcome: Outcome
        if self.error is not None:
            outcome = "failed"
        elif self.done:
            outcome = "ok"
        elif self.started is None:
            outcome = "not_started"
        else:
            outcome = "cancelled" if cancelled else "failed"
        end = self.finished if self.finished is not None else now
        return AssistantReport(
            name=self.name,
            planned=self.planned,
            outcome=outcome,
            actions=tuple(self.actions),
            error=_describe(self.error) if self.error is not None else None,
            error_type=type(self.error).__name__ if self.error is not None else None,
            requests=self.requests,
            rate_limited=self.rate_limited,
            files_uploaded=self.files_uploaded,
            files_deleted=self.files_deleted,
            seconds=(end - self.started) if self.started is not None else 0.0,
            timings=dict(self.timings),
        )


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0] if text else type(exc).__name__


def now_utc() -> datetime:
    """The wall-clock start time of a run (reports carry it; durations use the monotonic clock)."""
    return datetime.now(UTC)
