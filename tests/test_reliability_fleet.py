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

from aiopinecone.provision import FleetError, load_fleet


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
