"""Fleets across machines from the command line: ``provision --shard``, the Redis lease, and
``report merge``; against a threaded emulator and a real Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from aiopinecone._lease import KEY_PREFIX
from aiopinecone.cli import main
from aiopinecone.emulator import Emulator, ThreadedEmulator
from aiopinecone.provision._shard import shard_of

KEY = "cli-fleet-secret-key"
NAMES = [f"team-{i}" for i in range(8)]


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    with Emulator(api_keys=(KEY,), ready_delay=0.0, delete_delay=0.0).in_thread() as e:
        yield e


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "teams.yaml"
    lines = ["assistants:"] + [f"  - name: {n}\n    instructions: Help {n}." for n in NAMES]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, host: str | None = None
) -> tuple[int, str, str]:
    args = [*(["--api-key", KEY, "--host", host] if host else []), *argv]
    code = main(args)
    out, err = capsys.readouterr()
    assert KEY not in out + err
    return code, out, err


def provision(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, fleet: Path, *extra: str
) -> tuple[int, str, str]:
    return run(
        capsys,
        "provision",
        str(fleet),
        "--no-progress",
        *extra,
        host=emu.url,
    )


def names(emu: ThreadedEmulator) -> list[str]:
    return sorted(a.name for a in emu.store.list_assistants())


def test_shards_apply_their_part_and_the_reports_merge(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, fleet_file: Path, tmp_path: Path
) -> None:
    reports = []
    for index in range(3):
        report = tmp_path / f"shard-{index}.json"
        code, out, _ = provision(
            capsys, emu, fleet_file, "--shard", f"{index}/3", "--report", str(report)
        )
        assert code == 0, out
        assert f"(shard {index}/3)" in out
        data = orjson.loads(report.read_bytes())
        assert data["shard"] == {"index": index, "count": 3}
        assert sorted(a["name"] for a in data["assistants"]) == [
            n for n in NAMES if shard_of(n, 3) == index
        ]
        reports.append(report)
        if index == 0:
            assert names(emu) == [n for n in NAMES if shard_of(n, 3) == 0]
    assert names(emu) == NAMES

    merged = tmp_path / "all.json"
    code, out, _ = run(capsys, "report", "merge", *map(str, reports), "-o", str(merged))
    assert code == 0, out
    assert "ok: 3 reports (shards 0, 1, 2 of 3): 8 assistants" in out
    data = orjson.loads(merged.read_bytes())
    assert [a["name"] for a in data["assistants"]] == NAMES
    assert data["counts"]["ok"] == 8

    # A shard missing: exit 1 and say which; JSON on stdout when no -o.
    code, out, err = run(capsys, "report", "merge", str(reports[0]), str(reports[2]))
    assert code == 1
    assert orjson.loads(out)["missing_shards"] == [1]
    assert "missing shards: 1" in err
    # Not a report: exit 2.
    code, _, err = run(capsys, "report", "merge", str(fleet_file))
    assert code == 2
    assert "not JSON" in err or "not a provisioning report" in err


def test_prune_in_a_shard_deletes_only_what_the_shard_owns(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, fleet_file: Path
) -> None:
    code, out, _ = provision(capsys, emu, fleet_file)
    assert code == 0, out
    strays = [f"stray-{i}" for i in range(6)]
    for stray in strays:  # created behind the fleet's back
        emu.store.create_assistant(name=stray, instructions="x", metadata={}, region="us")
    owner = {s: shard_of(s, 2) for s in strays}
    assert set(owner.values()) == {0, 1}
    code, out, _ = provision(capsys, emu, fleet_file, "--shard", "0/2", "--prune")
    assert code == 0, out
    left = [s for s in strays if s in names(emu)]
    assert left == [s for s in strays if owner[s] == 1]  # shard 1's strays are untouched
    code, out, _ = provision(capsys, emu, fleet_file, "--shard", "1/2", "--prune")
    assert code == 0, out
    assert names(emu) == NAMES


def test_shard_auto_reads_the_kubernetes_index(
    capsys: pytest.CaptureFixture[str],
    emu: ThreadedEmulator,
    fleet_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JOB_COMPLETION_INDEX", "1")
    monkeypatch.setenv("AIOPINECONE_SHARD_COUNT", "2")
    code, out, _ = provision(capsys, emu, fleet_file, "--shard", "auto")
    assert code == 0, out
    assert names(emu) == [n for n in NAMES if shard_of(n, 2) == 1]
    monkeypatch.delenv("JOB_COMPLETION_INDEX")
    code, _, err = provision(capsys, emu, fleet_file, "--shard", "auto/2")
    assert code == 2
    assert "JOB_COMPLETION_INDEX" in err


def plant_holder(client: redis.Redis, fleet: str, part: str, holder: str) -> None:
    """Hold ``part`` (``all`` or ``I/N``) of ``fleet`` for 30 s as another machine would
    (the value's layout is ``_lease_lua.py``'s; stamps are Redis's clock)."""
    seconds, micros = client.time()
    now = seconds * 1000 + micros // 1000
    count = 0 if part == "all" else int(part.partition("/")[2])
    value = f"abc|{now + 30_000}|{now}|{count}|{holder}"
    client.hset(KEY_PREFIX + fleet, part, value)
    client.pexpire(KEY_PREFIX + fleet, 30_000)


def test_a_second_apply_of_the_same_shard_is_refused(
    capsys: pytest.CaptureFixture[str],
    emu: ThreadedEmulator,
    fleet_file: Path,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holder = redis.Redis.from_url(redis_url)
    try:
        # Another machine holds shard 1 of 2 (as the lease's value names it).
        plant_holder(holder, "teams", "1/2", "builder-7 pid 42")
        code, _, err = provision(
            capsys, emu, fleet_file, "--shard", "1/2", "--redis", redis_url, "--lease-wait", "0.2"
        )
        assert code == 1
        assert "builder-7 pid 42" in err
        assert "teams/shard 1 of 2" in err
        assert names(emu) == []  # nothing was sent
        # Shard 0 is another lease; the environment variable gives the URL too.
        monkeypatch.setenv("AIOPINECONE_RATE_REDIS_URL", redis_url)
        code, _, err = provision(capsys, emu, fleet_file, "--shard", "0/2")
        assert code == 0, err
        assert "lease: 'teams/shard 0 of 2' held by" in err
        assert holder.hget(KEY_PREFIX + "teams", "0/2") is None  # released at the end
        # --plan takes no lease; --no-lease opts out.
        code, _, _ = provision(capsys, emu, fleet_file, "--shard", "1/2", "--plan")
        assert code == 0
        code, _, err = provision(capsys, emu, fleet_file, "--shard", "1/2", "--no-lease")
        assert code == 0, err
        assert names(emu) == NAMES
    finally:
        holder.close()


def test_redis_shares_the_provisioning_budget(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, fleet_file: Path, redis_url: str
) -> None:
    code, _, err = run(
        capsys,
        "provision",
        str(fleet_file),
        "--rate-preset",
        "standard",
        "--no-progress",
        "--redis",
        redis_url,
        host=emu.url,
    )
    assert code == 0, err
    assert names(emu) == NAMES
    client = redis.Redis.from_url(redis_url)
    try:
        keys = [k.decode() for k in client.scan_iter("aiopinecone:rate:*")]
    finally:
        client.close()
    # The run's requests were counted in Redis: every process sharing it sees them.
    assert any("assistants_write" in k for k in keys)
    assert any("assistants_read" in k for k in keys)
