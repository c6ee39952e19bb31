"""Fleet shards (stable name hash, Kubernetes' index) and merging the shards' reports into one."""

from __future__ import annotations

import collections
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aiopinecone import AsyncPinecone, ValidationError
from aiopinecone.emulator import Emulator
from aiopinecone.provision import AssistantSpec
from aiopinecone.provision._merge import ReportMergeError, merge_files, merge_reports
from aiopinecone.provision._shard import Shard, shard_of

NAMES = [f"assistant-{i:03d}" for i in range(300)]


def test_every_name_has_exactly_one_shard() -> None:
    for count in (1, 2, 3, 8):
        shards = [Shard(i, count) for i in range(count)]
        for name in NAMES:
            assert sum(s.owns(name) for s in shards) == 1
        sizes = collections.Counter(shard_of(n, count) for n in NAMES)
        assert set(sizes) == set(range(count))  # none left empty with 300 names


def test_membership_is_stable_under_edits_and_growth() -> None:
    before = {n: shard_of(n, 4) for n in NAMES}
    # Adding, removing or reordering assistants moves nobody: the name alone decides.
    assert {n: shard_of(n, 4) for n in reversed(NAMES[:150])} == {n: before[n] for n in NAMES[:150]}
    # One more shard: an assistant moves only to the new shard, never between old ones.
    after = {n: shard_of(n, 5) for n in NAMES}
    moved = [n for n in NAMES if after[n] != before[n]]
    assert all(after[n] == 4 for n in moved)
    assert len(moved) < len(NAMES) / 3


@given(st.text(min_size=1, max_size=63), st.integers(min_value=1, max_value=64))
def test_shard_of_is_in_range_and_deterministic(name: str, count: int) -> None:
    assert 0 <= shard_of(name, count) < count
    assert shard_of(name, count) == shard_of(name, count)


def test_parse_forms_and_kubernetes_environment() -> None:
    assert Shard.parse("1/3") == Shard(1, 3)
    assert Shard.parse(" 0 / 1 ") == Shard(0, 1)
    env = {"JOB_COMPLETION_INDEX": "2"}
    assert Shard.parse("auto/5", environ=env) == Shard(2, 5)
    assert Shard.parse("auto", environ={**env, "AIOPINECONE_SHARD_COUNT": "4"}) == Shard(2, 4)
    assert str(Shard(2, 4)) == "2/4"
    for bad, message in [
        ("3/3", "0-based"),
        ("-1/3", "out of range"),
        ("1/0", ">= 1"),
        ("x/3", "whole number"),
        ("2", "I/N"),
        ("auto/3", "JOB_COMPLETION_INDEX"),
    ]:
        with pytest.raises(ValidationError, match=message):
            Shard.parse(bad, environ={})
    with pytest.raises(ValidationError, match="AIOPINECONE_SHARD_COUNT"):
        Shard.parse("auto", environ=env)


async def test_shard_reports_merge_into_the_fleets_report(
    emulator: Emulator, tmp_path: Any
) -> None:
    specs = [AssistantSpec(name=f"team-{i}", instructions=f"help {i}") for i in range(9)]
    paths = []
    async with AsyncPinecone(api_key="test-key", host=emulator.url) as pc:
        for index in range(3):
            shard = Shard(index, 3)
            report = await pc.assistants.provision(specs, shard=shard)
            assert report.ok
            assert report.shard == shard
            assert [a.name for a in report.assistants] == [s.name for s in shard.select(specs)]
            data = report.to_dict()
            assert data["shard"] == {"index": index, "count": 3}
            path = tmp_path / f"shard-{index}.json"
            path.write_bytes(orjson.dumps(data))
            paths.append(path)
        assert sorted(a.name for a in await pc.assistants.list()) == [s.name for s in specs]
    merged = merge_files(list(reversed(paths)))
    assert merged["ok"] is True
    assert merged["missing_shards"] == []
    assert [a["name"] for a in merged["assistants"]] == sorted(s.name for s in specs)
    assert merged["counts"]["ok"] == 9
    singles = [orjson.loads(p.read_bytes()) for p in paths]
    assert merged["counts"]["requests"] == sum(r["counts"]["requests"] for r in singles)
    assert [s["index"] for s in merged["shards"]] == [0, 1, 2]
    assert merged["seconds"] >= max(r["seconds"] for r in singles)

    # A missing shard makes the fleet's report not ok, and says which.
    partial = merge_files(paths[:2])
    assert partial["ok"] is False
    assert partial["missing_shards"] == [2]


def _report(names: list[str], *, ok: bool = True, shard: tuple[int, int] | None = None) -> Any:
    data: dict[str, Any] = {
        "ok": ok,
        "started_at": "2026-12-01T10:00:00+00:00",
        "seconds": 2.0,
        "counts": {"ok": len(names), "requests": 2 * len(names)},
        "requests": {"assistants_write": {"accepted": len(names), "limit": 20.0, "waited_s": 0.5}},
        "assistants": [{"name": n, "outcome": "ok"} for n in names],
    }
    if shard is not None:
        data["shard"] = {"index": shard[0], "count": shard[1]}
    return data


def test_merge_sums_counters_and_keeps_shared_levels() -> None:
    merged = merge_reports([_report(["a"], shard=(0, 2)), _report(["b", "c"], shard=(1, 2))])
    assert merged["counts"] == {"ok": 3, "requests": 6}
    write = merged["requests"]["assistants_write"]
    assert write == {"accepted": 3, "limit": 20.0, "waited_s": 1.0}
    assert merged["ok"] is True


def test_merge_refuses_overlaps_and_mixed_counts_and_non_reports(tmp_path: Any) -> None:
    with pytest.raises(ReportMergeError, match=r"overlap.*\bb\b"):
        merge_reports([_report(["a", "b"]), _report(["b"])])
    with pytest.raises(ReportMergeError, match="shards of 2"):
        merge_reports([_report(["a"], shard=(0, 2)), _report(["b"], shard=(1, 3))])
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(ReportMergeError, match="not a provisioning report"):
        merge_files([bad])
    with pytest.raises(ReportMergeError, match="cannot read"):
        merge_files([tmp_path / "missing.json"])
    assert merge_reports([_report(["a"], ok=False)])["ok"] is False
