"""Hostile fleet files, pinned down: bounded time and memory, and a FleetError.

(``tests/test_fuzz_validation.py`` throws random documents at the loader; these are the cases
that once took minutes or gigabytes.)
"""

from __future__ import annotations

import contextlib
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from aiopinecone.provision import FleetError, _fleet, load_fleet, parse_fleet


def _peak_bytes_of(action: Callable[[], object]) -> int:
    tracemalloc.start()
    with contextlib.suppress(FleetError):
        action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


@pytest.mark.parametrize("target", ["huge.md", "/dev/zero"])
def test_a_huge_instructions_file_is_refused_without_reading_it_whole(
    tmp_path: Path, target: str
) -> None:
    if target == "/dev/zero" and not os.path.exists(target):
        pytest.skip("no /dev/zero here")
    huge = tmp_path / "huge.md"
    with huge.open("wb") as fh:
        fh.truncate(64 * 1024 * 1024)  # 64 MiB, sparse: cheap to make, costly to read whole
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(f"assistants:\n  - name: big\n    instructions_file: {target}\n")
    with pytest.raises(FleetError, match="larger than 16384 bytes"):
        load_fleet(fleet)
    assert _peak_bytes_of(lambda: load_fleet(fleet)) < 4 * 1024 * 1024


def test_instructions_files_up_to_the_limit_still_load(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text("é" * 8192)  # exactly 16384 bytes of UTF-8
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("assistants:\n  - name: fine\n    instructions_file: ok.md\n")
    assert load_fleet(fleet).assistants[0].instructions == "é" * 8192


def _laughs(levels: int) -> str:
    """A "billion laughs" document: each level is nine aliases of the previous one."""
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    lines.append(f"assistants:\n  - name: x\n    metadata: {{all: *l{levels - 1}}}")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_in_bounded_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # 9**9 (387 million) values when expanded; the walk stops at its budget (lowered here so
    # that the test is quick: the mechanism is the same at the real bound).
    monkeypatch.setattr(_fleet, "_MAX_NODES", 20_000)
    with pytest.raises(FleetError, match="aliases") as info:
        parse_fleet(_laughs(9))
    assert len(info.value.problems) == 1
    assert _peak_bytes_of(lambda: parse_fleet(_laughs(9))) < 64 * 1024 * 1024


def test_ordinary_aliases_still_work() -> None:
    text = (
        "shared: &shared {team: support}\n"
        "assistants:\n"
        "  - {name: one, metadata: *shared}\n"
        "  - {name: two, metadata: *shared}\n"
    )
    with pytest.raises(FleetError, match="unknown key 'shared'"):
        parse_fleet(text)  # unknown top-level key, but parsed fine
    fleet = parse_fleet("assistants:\n  - &a {name: one}\n  - {<<: *a, name: two}\n")
    assert [a.name for a in fleet] == ["one", "two"]
