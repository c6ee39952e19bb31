"""``aiopinecone provision --redis`` applies of one fleet from several processes: which run
together and which are refused, and an apply whose lease is lost stops. A real Redis, a threaded
emulator whose assistants take a while to become ready (so an apply is still running when the
next one starts), and a second ``aiopinecone`` process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from aiopinecone.cli import main
from aiopinecone.emulator import Emulator, ThreadedEmulator
from aiopinecone.provision._shard import shard_of

KEY = "cli-lease-secret-key"
NAMES = [f"team-{i}" for i in range(8)]
FLEET_KEY = "aiopinecone:lease:teams"
READY = 2.0  # seconds an assistant takes to become ready: an apply lasts at least this


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    with Emulator(api_keys=(KEY,), ready_delay=READY, delete_delay=0.0).in_thread() as e:
        yield e


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "teams.yaml"
    lines = ["assistants:"] + [f"  - name: {n}\n    instructions: Help {n}." for n in NAMES]
    path.write_text("\n".join(lines) + "\n")
    return path


def argv(emu: ThreadedEmulator, fleet: Path, redis_url: str, *extra: str) -> list[str]:
    return [
        "--host", emu.url, "provision", str(fleet), "--no-progress", "--redis", redis_url, *extra,
    ]  # fmt: skip


def provision(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, fleet: Path, redis_url: str,
    *extra: str,
) -> tuple[int, str, str]:  # fmt: skip
    code = main(["--api-key", KEY, *argv(emu, fleet, redis_url, *extra)])
    out, err = capsys.readouterr()
    assert KEY not in out + err
    return code, out, err


def wait_for_hold(client: redis.Redis, part: str, timeout: float = 60.0) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = client.hget(FLEET_KEY, part)
        if isinstance(value, bytes):
            return value
        time.sleep(0.02)
    raise AssertionError(f"nobody took {part} of the fleet in {timeout} s")


def names(emu: ThreadedEmulator) -> set[str]:
    return {a.name for a in emu.store.list_assistants()}


def test_applies_of_one_fleet_from_two_processes(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, fleet_file: Path, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    other = subprocess.Popen(
        [sys.executable, "-m", "aiopinecone", *argv(emu, fleet_file, redis_url, "--shard", "0/2")],
        env={**os.environ, "PINECONE_API_KEY": KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_hold(client, "0/2")
        # The whole fleet, and shards of another count, would touch shard 0 of 2's assistants.
        code, _, err = provision(capsys, emu, fleet_file, redis_url)
        assert code == 1
        assert "'teams/all' conflicts with 'teams/shard 0 of 2'" in err
        assert f"pid {other.pid} (aiopinecone provision teams.yaml) since" in err
        code, _, err = provision(capsys, emu, fleet_file, redis_url, "--shard", "1/3")
        assert code == 1
        assert "shards of 3 and of 2" in err
        assert names(emu) <= {n for n in NAMES if shard_of(n, 2) == 0}  # neither sent a thing
        # Shard 1 of 2 runs beside it (no --lease-wait: it would be refused at once otherwise).
        assert client.hget(FLEET_KEY, "0/2") is not None
        code, out, err = provision(capsys, emu, fleet_file, redis_url, "--shard", "1/2")
        assert code == 0, out + err
        assert other.wait(timeout=120) == 0
    finally:
        if other.poll() is None:
            other.kill()
            other.wait(timeout=10)
        assert other.stderr is not None
        other.stderr.close()
        client.close()
    assert names(emu) == set(NAMES)
    # Both released: the whole fleet goes now.
    code, out, err = provision(capsys, emu, fleet_file, redis_url)
    assert code == 0, out + err
    assert "lease: 'teams/all' held by" in err


def test_a_shard_apply_waits_for_the_whole_fleet_apply(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, fleet_file: Path, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    other = subprocess.Popen(
        [sys.executable, "-m", "aiopinecone", *argv(emu, fleet_file, redis_url)],
        env={**os.environ, "PINECONE_API_KEY": KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_hold(client, "all")
        code, out, err = provision(
            capsys, emu, fleet_file, redis_url, "--shard", "1/4", "--lease-wait", "120"
        )
        assert code == 0, out + err
        # It took its shard only once the whole-fleet apply had made every assistant and let go.
        assert "Plan: 0 to create, 0 to update, 3 unchanged" in out
        assert other.wait(timeout=60) == 0
    finally:
        if other.poll() is None:
            other.kill()
        other.wait(timeout=10)
        client.close()
    assert names(emu) == set(NAMES)


def test_an_apply_that_loses_its_lease_stops(
    capsys: pytest.CaptureFixture[str],
    emu: ThreadedEmulator,
    fleet_file: Path,
    redis_url: str,
    tmp_path: Path,
) -> None:
    client = redis.Redis.from_url(redis_url)
    usurper = "someone-else|9999999999999|0|2|usurper pid 7"

    def take_over() -> None:
        # As if the hold had lapsed (Redis out of reach for a whole ttl) and another took it.
        wait_for_hold(client, "0/2")
        client.hset(FLEET_KEY, "0/2", usurper)

    thief = threading.Thread(target=take_over)
    thief.start()
    report = tmp_path / "report.json"
    try:
        code, _out, err = provision(
            capsys, emu, fleet_file, redis_url, "--shard", "0/2", "--lease-ttl", "0.6",
            "--report", str(report),
        )  # fmt: skip
    finally:
        thief.join(timeout=60)
    try:
        assert code == 1
        assert "LeaseLostError" in err
        assert "'teams/shard 0 of 2' was lost while applying" in err
        assert not orjson.loads(report.read_bytes())["ok"]  # the report says what was done
        assert client.hget(FLEET_KEY, "0/2") == usurper.encode()  # the new holder's, untouched
    finally:
        client.close()


def test_a_crashed_apply_holds_the_fleet_only_until_its_ttl_runs_out(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, fleet_file: Path, redis_url: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    command = argv(emu, fleet_file, redis_url, "--shard", "0/2", "--lease-ttl", "3")
    crashed = subprocess.Popen(
        [sys.executable, "-m", "aiopinecone", *command],
        env={**os.environ, "PINECONE_API_KEY": KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_hold(client, "0/2")
        crashed.kill()  # SIGKILL: no release, no goodbye
        crashed.wait(timeout=10)
        # Its hold outlives it for up to a ttl: an apply that does not wait is refused...
        code, _, err = provision(capsys, emu, fleet_file, redis_url)
        assert code == 1
        assert f"pid {crashed.pid}" in err
        # ... and one that waits goes once the crashed holder's hold has expired.
        code, out, err = provision(capsys, emu, fleet_file, redis_url, "--lease-wait", "60")
        assert code == 0, out + err
    finally:
        if crashed.poll() is None:
            crashed.kill()
            crashed.wait(timeout=10)
        client.close()
    assert names(emu) == set(NAMES)
