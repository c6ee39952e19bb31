"""The ``aiopinecone`` command, run in process (``main([...])``) and once as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from aiopinecone.cli import main
from aiopinecone.emulator import Emulator, ThreadedEmulator
from aiopinecone.emulator.faults import Fault

KEY = "cli-secret-key-123"
REPO = Path(__file__).resolve().parent.parent
EXAMPLE_FLEET = REPO / "examples" / "fleet" / "fleet.yaml"


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    with Emulator(api_keys=(KEY,), ready_delay=0.02).in_thread() as e:
        yield e


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "faq.md").write_text("# FAQ\nAnswers.\n")
    (tmp_path / "docs" / "guide.txt").write_text("A guide.\n")
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "defaults:\n"
        "  metadata: {owner: cli}\n"
        "assistants:\n"
        "  - name: cli-one\n"
        "    instructions: Help.\n"
        "    files: [docs/*]\n"
        "  - name: cli-two\n"
        "    files: [docs/faq.md]\n"
    )
    return path


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, host: str | None = None
) -> tuple[int, str, str]:
    args = [*(["--api-key", KEY, "--host", host] if host else []), *argv]
    code = main(args)
    out, err = capsys.readouterr()
    assert KEY not in out
    assert KEY not in err
    return code, out, err


def fast(*extra: str) -> tuple[str, ...]:
    return ("--no-progress", *extra)


def test_provision_plan_apply_and_rerun(
    capsys: pytest.CaptureFixture[str],
    emu: ThreadedEmulator,
    fleet_file: Path,
    tmp_path: Path,
) -> None:
    code, out, _ = run(capsys, "provision", str(fleet_file), "--plan", host=emu.url)
    assert code == 0
    assert "+ create    cli-one  region us; 2 files" in out
    assert out.rstrip().endswith("files: 3 to upload, 0 to replace, 0 to clean up, 0 to delete.")
    assert emu.store.list_assistants() == []

    report_path = tmp_path / "report.json"
    code, out, _ = run(
        capsys, "provision", str(fleet_file), *fast("--report", str(report_path)), host=emu.url
    )
    assert code == 0, out
    assert "ok: 2 assistants — 2 ok, 0 failed" in out
    report = orjson.loads(report_path.read_text())
    assert report["ok"] is True
    assert {a["name"]: a["files_uploaded"] for a in report["assistants"]} == {
        "cli-one": 2,
        "cli-two": 1,
    }

    mark = emu.log.total
    code, out, _ = run(
        capsys, "provision", str(fleet_file), *fast("--report", str(report_path)), host=emu.url
    )
    assert code == 0
    assert "Nothing to do" in out
    assert "(no assistant needed any change)" in out
    assert [e.method for e in emu.log.entries if e.seq > mark] == ["GET"] * 3  # list + 2 files
    report = orjson.loads(report_path.read_text())
    assert [a["outcome"] for a in report["assistants"]] == ["ok", "ok"]

    code, out, _ = run(capsys, "assistants", "list", host=emu.url)
    assert code == 0
    assert out.splitlines()[0].split() == ["name", "status", "host"]
    assert {line.split()[0] for line in out.splitlines()[1:]} == {"cli-one", "cli-two"}
    code, out, _ = run(capsys, "assistants", "describe", "cli-one", host=emu.url)
    assert code == 0
    assert orjson.loads(out)["metadata"] == {"owner": "cli"}


def test_embedded_emulator_keeps_state_between_runs(
    capsys: pytest.CaptureFixture[str], fleet_file: Path, tmp_path: Path
) -> None:
    """``--emulator --emulator-state PATH``: the second run finds the fleet in place."""
    state = tmp_path / "emulator.sqlite3"
    argv = ("provision", str(fleet_file), "--emulator", "--emulator-state", str(state))
    code, out, _ = run(capsys, *argv, *fast())
    assert code == 0, out
    assert "ok: 2 assistants — 2 ok, 0 failed" in out
    assert state.exists()

    code, out, _ = run(capsys, *argv, *fast())
    assert code == 0, out
    assert "Nothing to do" in out

    code, out, err = run(capsys, "provision", str(fleet_file), "--emulator-state", str(state))
    assert code == 2
    assert "--emulator-state needs --emulator" in out + err


def test_partial_failure_exits_1(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, fleet_file: Path
) -> None:
    emu.faults.script("POST", "/assistant/files/cli-two", Fault.status(400), repeat=True)
    # 2025-10: uploads are POSTs there (2026-04 and later PUT them by id)
    code, out, _ = run(
        capsys, "--api-version", "2025-10", "provision", str(fleet_file), *fast(), host=emu.url
    )
    assert code == 1
    assert "partial failure: 2 assistants — 1 ok, 1 failed" in out
    assert any(line.startswith("cli-two") and "failed" in line for line in out.splitlines())


def test_bad_fleet_exits_2_with_precise_errors(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("assistants:\n  - name: ok\n  - name: Not OK\n    files: [nothing/*.md]\n")
    code, out, err = run(capsys, "provision", str(bad), host=emu.url)
    assert code == 2
    assert out == ""
    assert f"{bad}: 2 problems found, nothing was sent:" in err
    assert f"{bad}:3:11: assistants[1].name:" in err
    assert "glob 'nothing/*.md' matches no file" in err
    assert emu.log.total == 0


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], fleet_file: Path) -> None:
    assert main(["provision"]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["provision", str(fleet_file), "--rate-preset", "gold"]) == 2
    assert main(["--help"]) == 0
    capsys.readouterr()


def test_missing_api_key_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, fleet_file: Path
) -> None:
    monkeypatch.delenv("PINECONE_API_KEY", raising=False)
    code = main(["--host", "http://127.0.0.1:9", "assistants", "list"])
    _, err = capsys.readouterr()
    assert code == 2
    assert "no API key" in err


def test_api_errors_exit_1(capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator) -> None:
    code, _, err = run(capsys, "assistants", "describe", "nobody", host=emu.url)
    assert code == 1
    assert "NotFoundError" in err


def test_files_and_chat_commands(
    capsys: pytest.CaptureFixture[str], emu: ThreadedEmulator, fleet_file: Path
) -> None:
    emu.store.create_assistant("helper")
    for _ in range(200):  # bounded: the emulator makes it Ready after ready_delay (20 ms)
        if emu.store.get_assistant("helper").status(emu.store.now()) == "Ready":
            break
        time.sleep(0.01)
    doc = fleet_file.parent / "docs" / "faq.md"
    code, out, _ = run(
        capsys,
        "files",
        "upload",
        "helper",
        str(doc),
        "--metadata",
        '{"kind": "faq"}',
        "--wait",
        host=emu.url,
    )
    assert code == 0, out
    file_id, name, status = out.split()
    assert (name, status) == ("faq.md", "Available")
    code, out, _ = run(capsys, "files", "list", "helper", "--json", host=emu.url)
    assert code == 0
    (listed,) = orjson.loads(out)
    assert (listed["id"], listed["metadata"]) == (file_id, {"kind": "faq"})
    code, out, _ = run(capsys, "chat", "helper", "What is in the FAQ?", host=emu.url)
    assert code == 0
    assert out.strip()
    code, out, _ = run(capsys, "files", "delete", "helper", file_id, host=emu.url)
    assert (code, out) == (0, f"deleted {file_id}\n")
    code, _, err = run(
        capsys, "files", "upload", "helper", str(doc), "--metadata", "[1]", host=emu.url
    )
    assert code == 2
    assert "--metadata must be a JSON object" in err
    code, out, _ = run(capsys, "assistants", "delete", "helper", host=emu.url)
    assert (code, out) == (0, "deleted helper\n")


def test_emulator_subcommand_delegates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulator", "--help"]) == 0
    out, _ = capsys.readouterr()
    assert "--rate-limits" in out


def test_readme_main_command_runs_the_example_fleet(tmp_path: Path) -> None:
    """``aiopinecone provision examples/fleet/fleet.yaml --emulator``, as a user runs it."""
    report_path = tmp_path / "report.json"
    env = {k: v for k, v in os.environ.items() if k != "PINECONE_API_KEY"}
    env["PINECONE_API_KEY"] = KEY  # must neither be used nor shown
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "aiopinecone",
            "provision",
            str(EXAMPLE_FLEET),
            "--emulator",
            "--report",
            str(report_path),
        ],
        capture_output=True,
        text=True,
        timeout=110,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert KEY not in proc.stdout + proc.stderr
    assert "Plan for 32 assistants" in proc.stdout
    assert "ok: 32 assistants — 32 ok" in proc.stdout
    assert "progress: " in proc.stderr  # not a terminal: plain lines
    report = orjson.loads(report_path.read_text())
    assert report["ok"] is True
    assert report["counts"]["files_uploaded"] == 96


def test_the_command_loads_provisioning_and_yaml_only_to_provision(
    emu: ThreadedEmulator, tmp_path: Path
) -> None:
    probe = (
        "import sys\n"
        "from aiopinecone.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print('loaded:', 'aiopinecone.provision' in sys.modules, 'yaml' in sys.modules)\n"
        "raise SystemExit(code)\n"
    )
    env = {**os.environ, "PINECONE_API_KEY": KEY, "PYTHONPATH": str(REPO)}
    listed = subprocess.run(
        [sys.executable, "-c", probe, "--host", emu.url, "assistants", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "loaded: False False" in listed.stdout
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("assistants:\n  - name: lazy-one\n")
    planned = subprocess.run(
        [sys.executable, "-c", probe, "--host", emu.url, "provision", str(fleet), "--plan"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert planned.returncode == 0, planned.stderr
    assert "loaded: True True" in planned.stdout
