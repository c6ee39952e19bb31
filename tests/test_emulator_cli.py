"""``python -m aiopinecone.emulator``, persistence across restarts, and the pytest fixture."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from aiopinecone.emulator import Emulator, EmulatorConfig, ThreadedEmulator
from aiopinecone.emulator._cli import build_parser, config_from_args


def _get(url: str, key: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Api-Key": key})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return resp.status, resp.read()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_command_serves_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    state = tmp_path / "state.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiopinecone.emulator",
            "--port",
            "0",
            "--api-key",
            "k1",
            "--state",
            str(state),
            "--ready-delay",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line
        url = line.rsplit(" ", 1)[-1].strip()
        status, body = _get(url + "/assistant/assistants", "k1")
        assert status == 200
        assert json.loads(body) == {"assistants": []}
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Emulator stopped." in out
    assert "Traceback" not in err
    assert state.exists()


def test_parser_maps_every_option() -> None:
    args = build_parser().parse_args(
        [
            "--host",
            "127.0.0.2",
            "--port",
            "9",
            "--api-key",
            "a",
            "--api-key",
            "b",
            "--ready-delay",
            "1.5",
            "--file-processing-delay",
            "2",
            "--delete-delay",
            "3",
            "--rate-limits",
            "starter",
            "--time-scale",
            "0.01",
            "--quota",
            "4",
            "--duplicate-status",
            "429",
            "--state",
            "s.db",
        ]
    )
    assert config_from_args(args) == EmulatorConfig(
        host="127.0.0.2",
        port=9,
        api_keys=("a", "b"),
        ready_delay=1.5,
        file_processing_delay=2,
        delete_delay=3,
        rate_limits="starter",
        time_scale=0.01,
        quota=4,
        duplicate_status=429,
        state_path="s.db",
    )
    defaults = config_from_args(build_parser().parse_args([]))
    assert (defaults.host, defaults.port, defaults.api_keys) == ("127.0.0.1", 8765, ())


def test_command_rejects_bad_options() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "aiopinecone.emulator", "--ready-delay", "-1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "ready_delay" in proc.stderr


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "emu.db")
    headers = {"Api-Key": "k", "X-Pinecone-Api-Version": "2026-04"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with Emulator(state_path=path, delete_delay=0.0) as emu:
            async with http.post(
                emu.url + "/assistant/assistants",
                json={"name": "kept", "instructions": "Stay.", "metadata": {"a": 1}},
            ) as resp:
                assert resp.status == 200
            data = aiohttp.FormData()
            data.add_field("file", b"Persistence keeps files.", filename="p.txt")
            data.add_field("metadata", json.dumps({"k": "v"}))
            async with http.post(emu.url + "/assistant/files/kept", data=data) as resp:
                assert resp.status == 202
                op = await resp.json()
            emu.store.create_assistant("gone")
            emu.store.delete_assistant("gone")
            first_url = emu.url
        async with Emulator(state_path=path, delete_delay=0.0) as emu:
            assert first_url.startswith("http://127.0.0.1:")
            async with http.get(emu.url + "/assistant/assistants/kept") as resp:
                body = await resp.json()
                assert (body["instructions"], body["metadata"]) == ("Stay.", {"a": 1})
                assert body["host"] == emu.url  # the new origin, not the old one
            async with http.get(f"{emu.url}/assistant/files/kept/{op['file_id']}") as resp:
                body = await resp.json()
                assert (body["status"], body["metadata"]) == ("Available", {"k": "v"})
            async with http.get(f"{emu.url}/assistant/operations/kept/{op['id']}") as resp:
                assert resp.status == 200
            async with http.post(
                emu.url + "/assistant/chat/kept/context", json={"query": "persistence"}
            ) as resp:
                body = await resp.json()
                assert body["snippets"][0]["content"] == "Persistence keeps files."
            assert "gone" not in emu.store
            emu.store.delete_assistant("kept")
        async with Emulator(state_path=path, delete_delay=0.0) as emu:
            assert len(emu.store) == 0


def test_pytest_fixture(pinecone_emulator: ThreadedEmulator) -> None:
    status, body = _get(pinecone_emulator.url + "/assistant/assistants", "any-key")
    assert (status, json.loads(body)) == (200, {"assistants": []})
    pinecone_emulator.store.create_assistant("from-fixture")
    status, body = _get(pinecone_emulator.url + "/assistant/assistants/from-fixture", "k")
    assert json.loads(body)["status"] == "Ready"


async def test_pytest_fixture_from_async_test(pinecone_emulator: ThreadedEmulator) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(pinecone_emulator.url + "/assistant/assistants", headers={"Api-Key": "x"}) as r,
    ):
        assert r.status == 200


class TestFixtureConfigOverride:
    @pytest.fixture
    def pinecone_emulator_config(self) -> EmulatorConfig:
        return EmulatorConfig(api_keys=("only-this",), quota=0)

    def test_override(self, pinecone_emulator: ThreadedEmulator) -> None:
        assert pinecone_emulator.config.quota == 0
        with pytest.raises(urllib.error.HTTPError) as info:
            _get(pinecone_emulator.url + "/assistant/assistants", "other")
        assert info.value.code == 401
        info.value.close()


def test_thread_start_failure_is_reported() -> None:
    with Emulator().in_thread() as first:
        port = int(first.url.rsplit(":", 1)[1])
        busy = Emulator(port=port, host="127.0.0.1")
        with pytest.raises(OSError, match="address already in use"), busy.in_thread():
            pass
        assert first.call(lambda: first.app is not None)


def test_quickstart_example_runs() -> None:
    script = Path(__file__).resolve().parent.parent / "examples" / "quickstart.py"
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "A: Express shipping takes 2 business days" in proc.stdout
    assert "Deleted the assistant." in proc.stdout
