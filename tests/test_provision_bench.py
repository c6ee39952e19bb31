"""The provisioning benchmark's code still runs (tiny sizes; its numbers are not asserted)."""

from __future__ import annotations

import pytest

from benchmarks import provision_fleet

pytestmark = pytest.mark.slow


def test_benchmark_smoke() -> None:
    results = provision_fleet.run(n=6, rate=6, time_scale=0.01, ready_delay=0.01, naive=True)
    rows = {r["approach"].split(" (")[0].split(":")[0]: r for r in results["results"]}
    assert rows["aiopinecone provision"]["ready"] == 6
    assert rows["aiopinecone provision"]["creates_accepted"] == 6
    assert "naive" in rows
    text = provision_fleet.render(results)
    assert text.startswith("# Fleet provisioning benchmark")
