"""The real ``aiopinecone`` console script in a subprocess: argument hand-off, signals, pipes,
error texts (issue 12). Options are written both ways (``--port 8765`` and ``--port=8765``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from tls_certs import TlsFiles

from aiopinecone.emulator import Emulator, EmulatorConfig, ThreadedEmulator

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_FLEET = REPO / "examples" / "fleet" / "fleet.yaml"
KEY = "process-secret-key-456"


def command() -> str:
    """The installed console script next to this interpreter (the one a user runs)."""
    path = Path(sys.executable).parent / "aiopinecone"
    assert path.exists(), f"the console script is not installed next to {sys.executable}"
    return str(path)


def env(**extra: str) -> dict[str, str]:
    """The environment with this checkout first on the path (the script imports it)."""
    base = {k: v for k, v in os.environ.items() if k not in ("PINECONE_API_KEY", "COLUMNS")}
    return {**base, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "error", **extra}


def run(*argv: str, timeout: float = 60, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [command(), *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env(**extra),
        check=False,
        stdin=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _status(url: str, key: str) -> int:
    request = urllib.request.Request(url, headers={"Api-Key": key})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


def _spaced(port: int, state: Path) -> list[str]:
    return ["--port", str(port), "--api-key", "k1", "--state", str(state), "--ready-delay", "0"]


def _joined(port: int, state: Path) -> list[str]:
    return [f"--port={port}", "--api-key=k1", f"--state={state}", "--ready-delay=0"]


@pytest.mark.parametrize("form", [_spaced, _joined], ids=["spaced", "joined"])
def test_emulator_command_takes_its_options_either_way(tmp_path: Path, form: object) -> None:
    port = free_port()
    state = tmp_path / "state.db"
    assert callable(form)
    proc = subprocess.Popen(
        [command(), "emulator", *form(port, state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"listening on http://127.0.0.1:{port}" in line, line + proc.stderr.read()  # type: ignore[union-attr]
        url = f"http://127.0.0.1:{port}/assistant/assistants"
        assert _status(url, "k1") == 200
        assert _status(url, "other-key") == 401  # --api-key reached the emulator
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert state.exists()  # --state reached it too


def test_emulator_help_names_the_command_it_was_run_as() -> None:
    proc = run("emulator", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: aiopinecone emulator "), proc.stdout[:200]
    assert "python -m" not in proc.stdout
    bad = run("emulator", "--port", "not-a-number")
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[-1].startswith("aiopinecone emulator: error: argument --port")


@pytest.mark.parametrize("kind", ["directory", "not-sqlite"])
def test_a_bad_state_file_is_one_clear_line(tmp_path: Path, kind: str) -> None:
    if kind == "directory":
        state = tmp_path
    else:
        state = tmp_path / "notes.txt"
        state.write_text("these are my notes, not a database\n" * 50)
    for argv in (
        ["provision", str(EXAMPLE_FLEET), "--emulator", "--emulator-state", str(state)],
        ["provision", str(EXAMPLE_FLEET), "--emulator", f"--emulator-state={state}"],
        ["emulator", "--port", "0", "--state", str(state)],
    ):
        proc = run(*argv)
        assert proc.returncode == 2, (argv, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, proc.stderr
        assert str(state) in lines[0]
        assert "--emulator-state" in lines[0] or "--state" in lines[0]
    if kind == "not-sqlite":
        assert state.read_text().startswith("these are my notes")  # left alone


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    with Emulator(api_keys=(KEY,)).in_thread() as e:
        yield e


def test_errors_name_command_line_flags_not_python_options(
    tmp_path: Path, emu: ThreadedEmulator
) -> None:
    insecure = run("--host", "http://example.invalid", "assistants", "list", PINECONE_API_KEY=KEY)
    assert insecure.returncode == 2
    assert "allow_insecure_http" not in insecure.stderr
    assert "--allow-insecure-http" in insecure.stderr
    emu.store.create_assistant("limits")
    odd = tmp_path / "program.exe"
    odd.write_bytes(b"MZ" * 10)
    for host in (["--host", emu.url], [f"--host={emu.url}"]):
        proc = run(*host, "files", "upload", "limits", str(odd), PINECONE_API_KEY=KEY)
        assert proc.returncode == 2, proc.stderr
        assert "check_limits" not in proc.stderr
        assert "--no-check-limits" in proc.stderr
    # The flag the message names exists and does what it says (the server then decides).
    sent = run(
        "--host",
        emu.url,
        "--api-version",  # an upload is one POST there (2026-04 and later PUT it by id)
        "2025-10",
        "files",
        "upload",
        "limits",
        str(odd),
        "--no-check-limits",
        PINECONE_API_KEY=KEY,
    )
    assert "check_limits" not in sent.stderr
    assert "--no-check-limits" not in sent.stderr
    assert emu.log.count(method="POST") == 1


def test_listing_into_a_closed_pipe_ends_quietly(emu: ThreadedEmulator) -> None:
    for i in range(600):  # more JSON than a pipe buffers (about 200 KB)
        emu.store.create_assistant(f"piped-{i:04d}", instructions="x" * 200, metadata={"i": i})
    for json_flag in (["--json"], []):
        with subprocess.Popen(
            [command(), "--host", emu.url, "assistants", "list", *json_flag],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env(PINECONE_API_KEY=KEY),
        ) as proc:
            assert proc.stdout is not None
            assert proc.stderr is not None
            first = proc.stdout.read(10)  # `| head -c 10`
            proc.stdout.close()
            err = proc.stderr.read().decode()
            code = proc.wait(timeout=60)
        assert code == 0, err
        assert first
        assert "Broken pipe" not in err
        assert "Traceback" not in err
        assert "Exception ignored" not in err


def _wait_for(
    path: Path, text: str, proc: subprocess.Popen[str], timeout: float = 60, poll: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout  # bounded: the test fails instead of hanging
    while text not in path.read_text():
        assert proc.poll() is None, path.read_text()
        assert time.monotonic() < deadline, f"{text!r} never appeared: {path.read_text()}"
        time.sleep(poll)


def _start_provision(tmp_path: Path) -> tuple[subprocess.Popen[str], Path, Path, Path]:
    out, err, report = tmp_path / "out.txt", tmp_path / "err.txt", tmp_path / "report.json"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen(
            [command(), "provision", str(EXAMPLE_FLEET), "--emulator", "--report", str(report)],
            stdout=o,
            stderr=e,
            text=True,
            env=env(),
        )
    return proc, out, err, report


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_run_writes_the_summary_and_report(
    tmp_path: Path, sig: signal.Signals
) -> None:
    proc, out, err, report = _start_provision(tmp_path)
    try:
        _wait_for(err, "upload ", proc)  # the run is applying: uploads have begun
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    expected = {signal.SIGTERM: 143, signal.SIGINT: 130}[sig]
    assert proc.returncode == expected, err.read_text()
    assert "Traceback" not in err.read_text()
    assert "cancelled: 32 assistants" in out.read_text()
    data = orjson.loads(report.read_text())
    assert data["cancelled"] is True
    assert data["counts"]["requests"] > 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_stops_at_once(tmp_path: Path, sig: signal.Signals) -> None:
    proc, _, err, _report = _start_provision(tmp_path)
    try:
        _wait_for(err, "upload ", proc)
        proc.send_signal(sig)
        # Signals of one kind do not queue: send the second once the first was taken.
        _wait_for(err, f"{sig.name}: stopping", proc, poll=0.001)
        proc.send_signal(sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == -sig, err.read_text()  # killed by the signal itself
    assert "Traceback" not in err.read_text()


_SIGNAL_AFTER_CLEANUP = """
import asyncio, os, signal, sys
from aiopinecone._cli_io import Interrupts

async def command() -> int:
    task = asyncio.current_task()
    with Interrupts(task, lambda name: None) as interrupts:
        try:
            os.kill(os.getpid(), signal.{name})
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            task.uncancel()
    # The command has cleaned up; its exit code is not returned yet when the second comes.
    os.kill(os.getpid(), signal.{name})
    await asyncio.sleep(5)
    return interrupts.exit_code

sys.exit(asyncio.run(command()))
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_after_the_cleanup_still_stops_at_once(sig: signal.Signals) -> None:
    # The window the test above can only hit by chance: the command has returned from its
    # Interrupts block, the process is shutting down, and the second signal arrives.
    script = _SIGNAL_AFTER_CLEANUP.format(name=sig.name)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == -sig, done.stderr
    assert "Traceback" not in done.stderr


def test_the_tls_and_key_hints_name_what_a_shell_user_can_do(tls_files: TlsFiles) -> None:
    missing = run("assistants", "list")
    assert missing.returncode == 2
    assert "api_key=" not in missing.stderr
    assert "--api-key KEY" in missing.stderr
    config = EmulatorConfig(
        api_keys=(KEY,), tls_cert=str(tls_files.cert_pem), tls_key=str(tls_files.key_pem)
    )
    with Emulator(config=config).in_thread() as emu:
        refused = run("--host", emu.url, "assistants", "list", PINECONE_API_KEY=KEY)
        assert refused.returncode == 1
        assert "ssl=" not in refused.stderr
        assert "set SSL_CERT_FILE=" in refused.stderr
        # ...and doing what it says works.
        trusted = run(
            "--host",
            emu.url,
            "assistants",
            "list",
            PINECONE_API_KEY=KEY,
            SSL_CERT_FILE=str(tls_files.ca_pem),
        )
        assert trusted.returncode == 0, trusted.stderr
        assert trusted.stdout.split() == ["name", "status", "host"]
