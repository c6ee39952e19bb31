"""Merge the JSON reports of a fleet's shards into one report of the whole fleet.

Each shard of a sharded apply (``provision --shard I/N``) writes its own report; ``aiopinecone
report merge a.json b.json ... -o all.json`` (or :func:`merge_reports`) makes one report with the
same shape, so what reads a single run's report reads the fleet's:

- ``assistants``: every shard's rows, sorted by name; an assistant in two reports is an error
  (the shards overlapped: different shard counts, or the same shard twice), never a silent pick;
- ``counts``, ``polls`` and the per-class ``requests`` counters: summed; a per-class *level*
  (a limit, a rate: the shards shared one budget) takes the largest value;
- ``started_at`` is the earliest start, ``seconds`` the wall time from it to the latest end;
  ``ok`` holds when every shard was ok and the shards are complete; ``cancelled`` when any was;
  ``outage_seconds`` (waits for an unreachable server) is the longest of the shards';
- ``shards``: one entry per input (index, count, file, ok, seconds), and ``missing_shards``
  lists the indexes of ``0 .. N-1`` that no input covers (then ``ok`` is false).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from ..exceptions import ValidationError

__all__ = ["ReportMergeError", "dumps", "load_report", "merge_files", "merge_reports", "summary"]

_LEVEL_KEYS = frozenset({"limit", "learnt", "rate", "window", "learnt_limit", "limit_rpm"})
"""Per-class values that describe the shared budget rather than count work: max, not sum."""


class ReportMergeError(ValidationError):
    """The reports cannot be merged (not a report, overlapping shards, mixed fleets)."""


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read one JSON report written by ``provision --report`` (or ``ProvisionReport.to_json``)."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except OSError as exc:
        raise ReportMergeError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise ReportMergeError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("assistants"), list):
        raise ReportMergeError(f"{path}: not a provisioning report (no 'assistants' list)")
    return data


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _merge_values(key: str, a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, bool) and isinstance(b, bool):
        return a or b
    if _is_number(a) and _is_number(b):
        if key in _LEVEL_KEYS or key.endswith("_limit"):
            return max(a, b)
        total = a + b
        return round(total, 3) if isinstance(total, float) else total
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return _merge_maps(a, b)
    return a if a == b else None


def _merge_maps(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        out[key] = _merge_values(key, out.get(key), value) if key in out else value
    return out


def _parse_time(value: object, where: str) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ReportMergeError(f"{where}: started_at is not a timestamp: {value!r}") from None


def merge_reports(
    reports: Sequence[Mapping[str, Any]], *, sources: Iterable[str] | None = None
) -> dict[str, Any]:
    """One report of the whole fleet from the reports of its shards (see the module docstring).

    ``sources`` names each report (file names) in messages and in ``shards``.
    """
    names = list(sources) if sources is not None else [f"report {i}" for i in range(len(reports))]
    if not reports:
        raise ReportMergeError("no report to merge")
    if len(names) != len(reports):
        raise ReportMergeError("one source name per report")
    seen: dict[str, str] = {}
    duplicates: list[str] = []
    rows: list[Mapping[str, Any]] = []
    shards: list[dict[str, Any]] = []
    counts: dict[str, Any] = {}
    requests: dict[str, Any] = {}
    polls: dict[str, Any] = {}
    begin: datetime | None = None
    end: datetime | None = None
    shard_count: int | None = None
    flags = {"cancelled": False, "dry_run": False, "prune": False}
    all_ok = True
    outage = 0.0  # shards run side by side: the longest wait, not the sum
    for source, report in zip(names, reports, strict=True):
        assistants = report.get("assistants")
        if not isinstance(assistants, list):
            raise ReportMergeError(f"{source}: not a provisioning report (no 'assistants' list)")
        for row in assistants:
            name = row.get("name") if isinstance(row, Mapping) else None
            if not isinstance(name, str):
                raise ReportMergeError(f"{source}: an assistant row without a name")
            if name in seen:
                duplicates.append(f"{name} ({seen[name]} and {source})")
            else:
                seen[name] = source
                rows.append(row)
        counts = _merge_maps(counts, report.get("counts") or {})
        requests = _merge_maps(requests, report.get("requests") or {})
        polls = _merge_maps(polls, report.get("polls") or {})
        for flag in flags:
            flags[flag] = flags[flag] or bool(report.get(flag))
        all_ok = all_ok and bool(report.get("ok"))
        seconds = float(report.get("seconds") or 0.0)
        outage = max(outage, float(report.get("outage_seconds") or 0.0))
        started = _parse_time(report.get("started_at"), source)
        finished = started.timestamp() + seconds
        begin = started if begin is None or started < begin else begin
        if end is None or finished > end.timestamp():
            end = datetime.fromtimestamp(finished, tz=started.tzinfo)
        shard = report.get("shard")
        entry: dict[str, Any] = {"source": source, "ok": bool(report.get("ok"))}
        entry["seconds"] = round(seconds, 3)
        if isinstance(shard, Mapping):
            entry["index"], entry["count"] = shard.get("index"), shard.get("count")
            if shard_count is not None and entry["count"] != shard_count:
                raise ReportMergeError(
                    f"{source}: shard {entry['index']}/{entry['count']} does not belong with "
                    f"shards of {shard_count}: merge the reports of one sharded run"
                )
            shard_count = entry["count"]
        shards.append(entry)
    if duplicates:
        raise ReportMergeError(
            "the reports overlap (shards of different counts, or one shard twice): "
            + "; ".join(duplicates[:10])
            + (f"; and {len(duplicates) - 10} more" if len(duplicates) > 10 else "")
        )
    missing: list[int] = []
    if isinstance(shard_count, int):
        covered = {s.get("index") for s in shards}
        missing = [i for i in range(shard_count) if i not in covered]
    assert begin is not None
    assert end is not None
    rows.sort(key=lambda r: str(r["name"]))
    return {
        "ok": all_ok and not missing and not flags["cancelled"],
        **flags,
        "started_at": begin.isoformat(),
        "seconds": round(end.timestamp() - begin.timestamp(), 3),
        "counts": counts,
        "requests": requests,
        "polls": polls,
        "outage_seconds": round(outage, 3),
        "shards": sorted(shards, key=lambda s: (s.get("index") is None, s.get("index") or 0)),
        "missing_shards": missing,
        "assistants": rows,
    }


def merge_files(paths: Sequence[str | os.PathLike[str]]) -> dict[str, Any]:
    """:func:`merge_reports` over report files."""
    return merge_reports([load_report(p) for p in paths], sources=[str(p) for p in paths])


def dumps(report: Mapping[str, Any]) -> str:
    """A merged report as indented JSON (the format ``provision --report`` writes)."""
    return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode()


def summary(report: Mapping[str, Any]) -> str:
    """One paragraph about a merged report: shards, outcomes, requests, 429s, wall time."""
    counts = report.get("counts") or {}
    shards = report.get("shards") or []
    indexes = [str(s["index"]) for s in shards if s.get("index") is not None]
    of = next((s.get("count") for s in shards if s.get("count") is not None), None)
    what = f"{len(shards)} reports"
    if indexes and of is not None:
        what += f" (shards {', '.join(indexes)} of {of})"
    status = "cancelled" if report.get("cancelled") else ("ok" if report.get("ok") else "not ok")
    lines = [
        f"{status}: {what}: {len(report.get('assistants') or [])} assistants — "
        f"{counts.get('ok', 0)} ok, {counts.get('failed', 0)} failed, "
        f"{counts.get('cancelled', 0)} cancelled, {counts.get('not_started', 0)} not started; "
        f"{counts.get('requests', 0)} requests, {counts.get('rate_limited', 0)} rate-limited; "
        f"{float(report.get('seconds') or 0.0):.1f} s wall"
    ]
    missing = report.get("missing_shards") or []
    if missing:
        lines.append(f"missing shards: {', '.join(str(i) for i in missing)} (no report given)")
    failed = [a["name"] for a in report.get("assistants") or [] if a.get("outcome") == "failed"]
    if failed:
        more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
        lines.append(f"failed: {', '.join(failed[:10])}{more}")
    return "\n".join(lines)
