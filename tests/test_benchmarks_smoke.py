"""The benchmark suite's code still runs: every part at tiny sizes, the report and the files.

Nothing here asserts a timing or a ratio (those belong to ``benchmarks/RESULTS.md``); it asserts
that each part measured what it says (every implementation, every request, the whole answer) and
that the report and JSON are written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import _suite, instructions
from benchmarks._harness import (
    EmulatorProcess,
    Runner,
    Sample,
    interleave,
    paired_ratio,
    peak_growth,
)

pytestmark = pytest.mark.slow


def test_quick_suite_measures_every_part_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _suite.main(["--quick", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "# aiopinecone benchmarks" in out

    results = json.loads((tmp_path / "results.json").read_text())
    assert results["machine"]["date"]
    assert results["options"]["quick"] is True

    cost = results["cost"]
    for workload, requests in (("describe", 100), ("create_delete", 60)):
        impls = cost[workload]["implementations"]
        assert set(impls) >= {"floor", "aiopinecone"}
        for name, summary in impls.items():
            assert summary["requests"] == requests
            assert summary["rounds"] == (1 if name == "pinecone" else 2)
            assert summary["cpu_us_per_request"] > 0
        assert impls["floor"]["ratio_to_floor"] == 1.0
        assert cost[workload]["governor_share"]["ratio"] > 0  # learnt / off, per round
    report = (tmp_path / "RESULTS.md").read_text()
    assert "Issue 11 (the governor on" in report
    assert "the governor's own share" in report

    fleet = results["fleet"]
    ours = [r for r in fleet["results"] if r["approach"].startswith("aiopinecone")]
    assert ours
    assert all(r["ready"] == r["assistants"] == 12 for r in ours)

    governor = results["governor"]["results"]
    assert len(governor) >= 7  # every single-process scenario ran, each to the end
    assert all(r["done"] == r["n"] for r in governor)

    upload = results["upload"]["results"]
    assert set(upload) == {"2025-10", "2026-04"}

    stream = {r["implementation"]: r for r in results["stream"]["rows"]}
    assert {"floor", "aiopinecone", "aiopinecone (not streamed)"} <= set(stream)
    answers = {r["answer_mib"] for r in stream.values()}
    assert len(answers) == 1  # every client received the same, whole answer
    assert answers.pop() > 0

    rows = results["scale"]["rows"]
    assert [(r["implementation"], r["concurrency"]) for r in rows] == [
        ("floor", 10),
        ("aiopinecone", 10),
        ("floor", 50),
        ("aiopinecone", 50),
        ("aiopinecone (gc off)", 50),
    ]
    assert all(r["requests"] == 100 for r in rows)

    report = (tmp_path / "RESULTS.md").read_text()
    for heading in ("## 1.", "## 2.", "## 3a.", "## 3b.", "## 4."):
        assert heading in report
    assert "Quick run" in report


def test_quick_run_writes_nothing_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_suite, "HERE", tmp_path)
    assert _suite.main(["--quick", "--only", "cost", "--no-official"]) == 0
    assert list(tmp_path.iterdir()) == []
    assert "## 1. Client cost per request" in capsys.readouterr().out


async def test_interleave_rotates_the_order_and_pairs_rounds() -> None:
    order: list[str] = []

    def runner(name: str, cpu: float) -> Runner:
        async def run(round_index: int) -> Sample:
            order.append(f"{name}{round_index}")
            return Sample(requests=10, wall=1.0, cpu=cpu * (round_index + 1))

        return run

    samples = await interleave(
        {"a": runner("a", 1.0), "b": runner("b", 2.0), "c": runner("c", 3.0)},
        4,
        limits={"c": 2},
    )
    assert order == ["a0", "b0", "c0", "b1", "c1", "a1", "a2", "b2", "a3", "b3"]
    assert paired_ratio(samples["b"], samples["a"]) == 2.0
    assert paired_ratio(samples["c"], samples["a"]) == 3.0
    assert [s.extra["round"] for s in samples["c"]] == [0, 1]


def test_peak_growth_sees_an_allocation() -> None:
    with peak_growth() as memory:
        block = bytearray(32 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])  # touch every page
    del block
    if memory["growth"] is None:
        pytest.skip("peak RSS is not measurable on this platform")
    assert memory["growth"] >= 24 * 1024 * 1024


def test_emulator_process_serves_admin_and_stops() -> None:
    with EmulatorProcess(ready_delay=0.0) as emulator:
        assert emulator.url.startswith("http://127.0.0.1:")
        assert emulator.admin("GET", "health")["status"] == "ok"
        pid = emulator.pid
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_options_quick_then_explicit_values_and_opt_in_parts() -> None:
    parser = _suite.build_parser()
    options = _suite.options_from_args(
        parser.parse_args(["--quick", "--rounds", "3", "--scale-levels", "5,20", "--instructions"])
    )
    assert options.rounds == 3
    assert options.describe_requests == _suite.QUICK["describe_requests"]
    assert options.scale_levels == (5, 20)
    assert options.parts == (*_suite.PARTS, "instructions")
    only = _suite.options_from_args(parser.parse_args(["--only", "scale", "--only", "scale"]))
    assert only.parts == ("scale",)
    assert only.rounds == _suite.Options().rounds
    with pytest.raises(SystemExit):
        parser.parse_args(["--scale-levels", "0,10"])
    assert "not measured" in instructions.markdown({"available": False})


@pytest.mark.parametrize("adaptive", [False, True])
async def test_the_permit_benchmark_measures_both_loops(adaptive: bool) -> None:
    from benchmarks import governor_permit

    got = await governor_permit.measure(adaptive=adaptive, rounds=2, batches=5)
    assert got["governor"] > 0.0
    assert got["trivial"] > 0.0
    assert got["permit"] == got["governor"] - got["trivial"]
