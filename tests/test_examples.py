"""The usage examples under ``examples/`` work as documented (against the emulator)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import aiohttp
from aiohttp import web

from aiopinecone import AsyncPinecone
from aiopinecone.emulator import Emulator, Fault

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
API_KEY = "example-key"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _seeded(emu: Emulator, name: str, text: bytes) -> None:
    async with AsyncPinecone(api_key=API_KEY, host=emu.url) as pc:
        await pc.assistants.create(name=name, wait=True)
        await pc.assistants.upload_file(
            assistant_name=name, file=text, file_name="notes.txt", wait=True
        )


async def test_web_service_shares_one_client_and_closes_it() -> None:
    web_service = _load("web_service")
    clients: list[AsyncPinecone] = []

    def factory() -> AsyncPinecone:
        clients.append(AsyncPinecone(api_key=API_KEY, host=emu.url))
        return clients[-1]

    async with Emulator(api_keys=(API_KEY,)) as emu:
        await _seeded(emu, "support", b"Refunds are issued within 14 days of a return.")
        runner = web.AppRunner(web_service.build_app(factory))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}/ask"
        try:
            async with aiohttp.ClientSession() as http:
                for _ in range(3):
                    async with http.get(
                        base, params={"assistant": "support", "q": "how long for refunds"}
                    ) as resp:
                        assert resp.status == 200
                        body = await resp.json()
                        assert "14 days" in body["answer"]
                async with http.get(base, params={"assistant": "nobody", "q": "hi"}) as resp:
                    assert resp.status == 404
                async with http.get(base, params={"assistant": "Bad Name", "q": "hi"}) as resp:
                    assert resp.status == 400
        finally:
            await runner.cleanup()
        assert len(clients) == 1, "one client for the whole application"
        assert clients[0].closed
        # Only the seeding describe/create/upload traffic and the handlers' calls; the bad
        # name was rejected before any request left the client.
        assert emu.log.count(path="/assistant/assistants/Bad Name") == 0


async def test_workers_answer_everything_and_stop_at_a_deadline() -> None:
    workers = _load("workers")
    async with Emulator(api_keys=(API_KEY,)) as emu:
        await _seeded(emu, "docs", b"Workers share one pool of connections.")
        async with AsyncPinecone(api_key=API_KEY, host=emu.url, max_connections=4) as pc:
            questions = [f"connections {i}" for i in range(40)]
            tally = await workers.run_workers(pc, assistant="docs", questions=questions, workers=8)
            assert (tally.answered, tally.failed) == (40, 0)

            missing = await workers.run_workers(
                pc, assistant="missing", questions=["q"] * 5, workers=2
            )
            assert (missing.answered, missing.failed) == (0, 5)
            assert missing.errors == {"NotFoundError": 5}

            emu.faults.script("POST", "/assistant/chat/docs/context", [Fault.delay(5.0)])
            slow = await workers.run_workers(
                pc, assistant="docs", questions=["q"] * 3, workers=1, deadline=0.5
            )
            assert slow.answered < 3
            assert slow.dropped == 3 - slow.answered - slow.failed > 0
            assert not slow.complete
            # Cancelled workers gave their connections back: the pool still serves.
            again = await workers.run_workers(pc, assistant="docs", questions=["q"], workers=1)
            assert again.answered == 1


def test_workers_example_runs_as_a_script() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            str(EXAMPLES / "workers.py"),
            "--emulator",
            "--questions",
            "30",
            "--workers",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "answered 30, failed 0" in proc.stdout


def test_workers_example_says_what_a_deadline_dropped() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            str(EXAMPLES / "workers.py"),
            "--emulator",
            "--questions",
            "20000",
            "--workers",
            "5",
            "--deadline",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    answered = int(proc.stdout.split("answered ", 1)[1].split(",", 1)[0])
    dropped = int(proc.stdout.split("dropped ", 1)[1].split(" ", 1)[0])
    assert dropped > 0
    assert answered + dropped == 20000  # nothing failed, nothing unaccounted for
    assert f"{dropped} of 20000 questions were dropped" in proc.stderr
