"""The API key never appears in provisioning reports, progress output or the command line's output.

A full provisioning run (with failures whose server messages echo the key), its plan, report
(JSON and summary table), progress lines and logs; then the ``aiopinecone`` command run in
process and as a subprocess, with the key from ``--api-key`` and from ``PINECONE_API_KEY``,
including error paths. Everything printed or written is scanned for the key.
"""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from aiopinecone import AsyncPinecone, PineconeError, set_retry_testing
from aiopinecone.cli import main
from aiopinecone.emulator import Emulator, ThreadedEmulator
from aiopinecone.emulator.faults import Fault
from aiopinecone.provision import AssistantSpec, FileSpec, ProgressDisplay

KEY = "pcsk_7Rw2_report-secret_Yz81"
ECHO = {
    "error": {"code": "UNAVAILABLE", "message": f"bad key {KEY}", "details": {"key": KEY}},
    "status": 503,
}


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(name)s %(message)s").format(record))


@pytest.fixture
def every_log_line() -> Iterator[list[str]]:
    handler = _Lines()
    root, lib = logging.getLogger(), logging.getLogger("aiopinecone")
    saved = root.level, lib.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    lib.setLevel(logging.DEBUG)
    set_retry_testing(True)
    try:
        yield handler.lines
    finally:
        set_retry_testing(False)
        root.removeHandler(handler)
        root.setLevel(saved[0])
        lib.setLevel(saved[1])


def leaks(texts: dict[str, str]) -> list[str]:
    return [f"{where}: {text[:200]!r}" for where, text in texts.items() if KEY in text]


@pytest.fixture
def docs(tmp_path: Path) -> list[Path]:
    out = []
    for i in range(3):
        path = tmp_path / f"doc{i}.md"
        path.write_text(f"Document {i}.\n")
        out.append(path)
    return out


async def test_reports_progress_and_plans_never_show_the_key(
    every_log_line: list[str], docs: list[Path]
) -> None:
    specs = [
        AssistantSpec(name=f"rep-{i}", instructions="Hi.", files=[FileSpec(path=docs[i % 3])])
        for i in range(6)
    ]
    texts: dict[str, str] = {}
    progress_out = io.StringIO()
    async with (
        Emulator(api_keys=(KEY,)) as emu,
        AsyncPinecone(api_key=KEY, host=emu.url) as pc,
    ):
        plan = await pc.assistants.plan(specs)
        texts["plan"] = plan.render()
        texts["plan repr"] = repr(plan)
        # rep-1's create always fails with a message echoing the key; rep-2's uploads too.
        body = orjson.dumps(ECHO)
        emu.faults.script(
            "POST",
            "/assistant/assistants",
            [Fault.passthrough(), Fault.status(503, body=body, content_type="application/json")] * 2
            + [Fault.status(503, body=body, content_type="application/json")] * 20,
        )
        report = await pc.assistants.provision(
            specs,
            concurrency=1,
            progress=ProgressDisplay(progress_out, tty=False, interval=0.0),
            poll_interval=(0.01, 0.02),
        )
        assert report.failed, "the run must have failed somewhere to be a real test"
        texts["report json"] = report.to_json()
        texts["report dict"] = repr(report.to_dict())
        texts["summary"] = report.summary_table(all_rows=True)
        texts["report repr"] = repr(report)
        texts["progress"] = progress_out.getvalue()
        for entry in report.failed:
            texts[f"error of {entry.name}"] = f"{entry.error} {entry.error_type}"
    texts["logs"] = "\n".join(every_log_line)
    assert "bad key" in texts["report json"], "the echoed message must reach the report"
    assert not leaks(texts), "\n".join(leaks(texts))


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    with Emulator(api_keys=(KEY,)).in_thread() as e:
        yield e


@pytest.fixture
def fleet_file(tmp_path: Path, docs: list[Path]) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "assistants:\n"
        "  - name: cli-a\n    instructions: Help.\n    files: [doc0.md]\n"
        "  - name: cli-b\n    files: [doc1.md, doc2.md]\n"
    )
    return path


def test_the_command_line_never_prints_the_key(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    every_log_line: list[str],
    emu: ThreadedEmulator,
    fleet_file: Path,
    tmp_path: Path,
) -> None:
    report_path = tmp_path / "report.json"
    texts: dict[str, str] = {}
    runs = [
        (0, ["provision", str(fleet_file), "--plan"]),
        (
            0,
            [
                "provision",
                str(fleet_file),
                "--report",
                str(report_path),
            ],
        ),
        (0, ["assistants", "list"]),
        (0, ["assistants", "list", "--json"]),
        (0, ["assistants", "describe", "cli-a"]),
        (0, ["files", "list", "cli-b", "--json"]),
        (0, ["chat", "cli-a", "What is in document 0?"]),
        (1, ["assistants", "describe", "nobody"]),
        (2, ["assistants", "describe", "Not A Name"]),
    ]
    for i, (expected, argv) in enumerate(runs):
        monkeypatch.delenv("PINECONE_API_KEY", raising=False)
        if i % 2:  # half the runs take the key from the environment
            monkeypatch.setenv("PINECONE_API_KEY", KEY)
            code = main(["--host", emu.url, *argv])
        else:
            code = main(["--api-key", KEY, "--host", emu.url, *argv])
        out, err = capsys.readouterr()
        texts[f"{argv} out"], texts[f"{argv} err"] = out, err
        assert code == expected, (argv, out, err)
        assert out or err, argv
    # Errors whose server message echoes the key, and a wrong key.
    emu.faults.script(
        "GET",
        "/assistant/assistants/{name}",
        [Fault.status(401, message=f"Invalid API key {KEY}")],
    )
    assert main(["--api-key", KEY, "--host", emu.url, "assistants", "describe", "cli-a"]) == 1
    texts["401 err"] = capsys.readouterr().err
    emu.faults.script(
        "GET",
        "/assistant/assistants",
        [Fault.status(503, body=orjson.dumps(ECHO), content_type="application/json")],
        repeat=True,
    )
    assert main(["--api-key", KEY, "--host", emu.url, "assistants", "list"]) == 1
    texts["503 err"] = capsys.readouterr().err
    emu.faults.clear()
    texts["report file"] = report_path.read_text()
    texts["logs"] = "\n".join(every_log_line)
    assert "cli-a" in texts["report file"]
    assert "bad key" in texts["503 err"] or "503" in texts["503 err"]
    assert not leaks(texts), "\n".join(leaks(texts))


def test_the_command_in_a_subprocess_never_prints_the_key(
    emu: ThreadedEmulator, fleet_file: Path, tmp_path: Path
) -> None:
    report_path = tmp_path / "sub-report.json"
    env = {**os.environ, "PINECONE_API_KEY": KEY, "PYTHONWARNINGS": "error"}
    outputs: dict[str, str] = {}
    for argv in (
        ["provision", str(fleet_file), "--report", str(report_path)],
        ["--api-key", KEY, "assistants", "list"],
        ["assistants", "describe", "nobody"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "aiopinecone", "--host", emu.url, *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        outputs[f"{argv} out"], outputs[f"{argv} err"] = done.stdout, done.stderr
        assert done.returncode in (0, 1), (argv, done.stderr)
    outputs["report"] = report_path.read_text()
    assert "cli-b" in outputs["report"]
    assert not leaks(outputs), "\n".join(leaks(outputs))


def test_an_unexpected_crash_would_not_show_the_key_either() -> None:
    """Tracebacks carry no locals by default; the client object itself never shows the key."""
    pc = AsyncPinecone(api_key=KEY, host="http://127.0.0.1:1")
    try:
        raise PineconeError(f"wrapped {pc!r}")
    except PineconeError as exc:
        text = "".join(traceback.format_exception(exc))
    assert "<redacted>" in text
    assert KEY not in text
    assert KEY not in repr(vars(pc.assistants))
