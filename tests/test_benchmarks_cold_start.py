"""The cold-start benchmark part runs and reports (no timing is asserted: see RESULTS.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import _suite

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_quick_cold_start_measures_every_client_and_keeps_hand_recorded_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hand_written = f"{_suite.KEPT_MARKER}\n\n## Before issue 10\n\nkept text\n"
    (tmp_path / "RESULTS.md").write_text("# old report\n\nreplaced\n\n" + hand_written)

    argv = ["--quick", "--only", "cold", "--cold-baseline", str(REPO_ROOT)]
    assert _suite.main([*argv, "--output", str(tmp_path)]) == 0
    capsys.readouterr()

    cold = json.loads((tmp_path / "results.json").read_text())["cold"]
    imports = cold["imports"]
    assert set(imports) == {"aiohttp", "aiopinecone", "aiopinecone (baseline)", "pinecone"}
    for summary in imports.values():
        assert summary["rounds"] == 1
        assert summary["import"] > 0
        assert summary["import_cpu"] > 0
        assert summary["process"] > summary["import"]
        assert summary["process_cpu"] > 0
    for key in ("import", "import_cpu", "process", "process_cpu"):
        assert imports["aiohttp"][f"{key}_minus_aiohttp"] == 0.0
    assert imports["aiopinecone"]["modules"] > imports["aiohttp"]["modules"]

    first = cold["first_response"]
    assert set(first) == {"floor", "aiopinecone", "aiopinecone (baseline)", "pinecone"}
    for summary in first.values():
        assert summary["rounds"] == 1
        parts = ("interpreter", "import", "build_client", "describe")
        assert all(summary[part] >= 0 for part in parts)
        assert summary["first_response"] >= summary["describe"] > 0
        assert summary["first_response_cpu"] > 0
    assert first["pinecone"]["vs_official"] == first["pinecone"]["cpu_vs_official"] == 1.0
    assert first["floor"]["vs_floor"] == 1.0

    report = (tmp_path / "RESULTS.md").read_text()
    assert "## 1c. Cold start" in report
    assert "replaced" not in report
    assert report.endswith(hand_written)
