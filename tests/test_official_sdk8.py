"""The official SDK 8.x with ``pinecone-plugin-assistant`` against the emulator, default settings.

8.x cannot share an environment with the 10.x SDK the other tests use, so it is installed at
test time (with pip, from the package index) into a cache directory keyed by the requirement,
once per machine, and ``tests/programs/sdk8_session.py`` runs in a subprocess whose
``PYTHONPATH`` holds only that directory (``-S``: no site-packages). A missing network or index
fails the test loudly: it never skips.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aiopinecone.emulator import Emulator, ThreadedEmulator

pytestmark = pytest.mark.official_sdk

KEY = "sdk8-key"
REQUIREMENTS = ("pinecone==8.*", "pinecone-plugin-assistant==3.*")
PROGRAM = Path(__file__).parent / "programs" / "sdk8_session.py"
INSTALL_TIMEOUT = 600
RUN_TIMEOUT = 120


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aiopinecone-tests"


def sdk8_dir() -> Path:
    """The installed 8.x SDK (installed on first use; a finished install has a marker file)."""
    key = hashlib.sha256(repr((REQUIREMENTS, sys.version_info[:2])).encode()).hexdigest()[:12]
    target = cache_root() / f"pinecone-sdk8-{key}"
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="sdk8-", dir=target.parent))
    try:
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "install", "--quiet", "--no-input"),
                *("--disable-pip-version-check", "--target", str(staging), *REQUIREMENTS),
            ],
            check=True,
            timeout=INSTALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        (staging / ".complete").write_text(" ".join(REQUIREMENTS))
        try:
            staging.rename(target)
        except OSError:  # another run finished first
            if not (target / ".complete").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@pytest.fixture
def emu() -> Iterator[ThreadedEmulator]:
    """Default settings but the key: deletes take their default time."""
    with Emulator(api_keys=(KEY,)).in_thread() as running:
        yield running


def test_sdk8_with_assistant_plugin(emu: ThreadedEmulator, tmp_path: Path) -> None:
    assert emu.config.delete_delay > 0
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(sdk8_dir()),
        "PINECONE_PLUGIN_ASSISTANT_CONTROL_HOST": emu.url,
        "PINECONE_PLUGIN_ASSISTANT_DATA_HOST": emu.url,
    }
    proc = subprocess.run(
        [sys.executable, "-S", str(PROGRAM), KEY, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["sdk_version"].startswith("8.")
    assert seen["created"] == ["legacy-eight", "Ready"]
    assert seen["uploaded"] == ["policy.txt", "Available"]
    assert seen["listed"] == [True]
    assert "two years" in seen["chat"]
    assert seen["cited"] == "policy.txt"
    assert "30 days" in seen["context"]
    assert 0 < seen["alignment"] <= 1
    assert seen["files_after_delete"] == 0
    assert seen["assistants_after_delete"] == []

    entries = emu.call(lambda: list(emu.log.entries))
    assert {e.api_version for e in entries} == {"2025-10"}
    # The delete waits read the resources while they were going away, then met the 404.
    describe = "/assistant/files/legacy-eight/"
    file_reads = [e.status for e in entries if e.method == "GET" and describe in e.path]
    assert file_reads[-2:] == [200, 404]
    reads = [e.status for e in entries if e.path == "/assistant/assistants/legacy-eight"]
    assert reads[-2:] == [200, 404]
