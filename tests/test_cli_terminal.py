"""The CLI in a real pseudo-terminal of 80 and 160 columns (issue 12): no output line wider
than the terminal, the progress line redrawn in place, truthful request counts."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import attrs
import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_FLEET = REPO / "examples" / "fleet" / "fleet.yaml"
_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_in_terminal(argv: list[str], columns: int, timeout: float = 120.0) -> str:
    """Run the real console script with a pseudo-terminal of ``columns`` as its standard
    output and error; everything it wrote, as the terminal received it."""
    script = Path(sys.executable).parent / "aiopinecone"
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = str(REPO)
    env["TERM"] = "xterm"
    chunks: list[bytes] = []
    proc = subprocess.Popen(
        [str(script), *argv], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    deadline = time.monotonic() + timeout  # bounded: a hang fails the test
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        os.close(master)
    text = b"".join(chunks).decode("utf-8", "replace")
    assert code == 0, text[-3000:]
    return text


@attrs.define
class Screen:
    """What a terminal does with the output, enough to see wrapping: the cursor's column."""

    columns: int
    wraps: list[str] = attrs.Factory(list)
    lines: list[str] = attrs.Factory(list)

    def feed(self, text: str) -> None:
        col, current = 0, ""
        # The terminal's line discipline turns "\n" into "\r\n".
        for token in re.split(f"({_CSI.pattern}|\r\n|\r|\n)", text):
            if not token or _CSI.fullmatch(token):
                continue
            if token == "\r":
                col, current = 0, ""
            elif token in ("\n", "\r\n"):
                self.lines.append(current)
                col, current = 0, ""
            else:
                for ch in token:
                    if col >= self.columns:  # the terminal moves to the next row
                        self.wraps.append(current)
                        col, current = 0, ""
                    col += 1
                    current += ch


@pytest.mark.parametrize("columns", [80, 160])
def test_provision_output_fits_the_terminal_and_redraws_in_place(
    tmp_path: Path, columns: int
) -> None:
    state = tmp_path / "fleet.sqlite3"
    argv = ["provision", str(EXAMPLE_FLEET), "--emulator", "--emulator-state", str(state)]
    text = run_in_terminal(argv, columns)
    screen = Screen(columns)
    screen.feed(text)
    assert screen.wraps == [], f"lines wider than {columns} columns: {screen.wraps[:3]}"
    redraws = text.count("\x1b[K")
    assert redraws >= 3, text[-2000:]  # drawn, redrawn, and its final state
    first, last = text.index("\x1b[K"), text.rindex("\x1b[K")
    assert "\n" not in text[first:last], "the progress line must be redrawn in place"
    final = [line for line in screen.lines if "ok: 32 assistants" in line]
    assert final, text[-2000:]
    # On the wide terminal the whole line fits: rates and per-phase counts are there.
    if columns == 160:
        progress = [_CSI.sub("", seg) for seg in text[first:last].split("\r")]
        assert any(re.search(r"upload \d+/96 \d+\.\d/s", seg) for seg in progress), progress
    # A second run changes nothing: its reads are counted, not "0 requests".
    again = run_in_terminal(argv, columns)
    screen = Screen(columns)
    screen.feed(again)
    assert screen.wraps == []
    summary = " ".join(screen.lines)
    assert "(no assistant needed any change)" in summary
    found = re.search(r"(\d+) requests", summary)
    assert found is not None, summary
    assert int(found.group(1)) == 33  # one list + one list_files per assistant


def test_the_listing_tables_fit_80_columns() -> None:
    from aiopinecone.emulator import Emulator

    long_name = "a-rather-long-file-name-that-goes-on-and-on-for-a-table-row.md"
    owner = "a-rather-long-assistant-name-for-tables-00"
    with Emulator(api_keys=("k",)).in_thread() as emu:
        for i in range(3):
            emu.store.create_assistant(f"a-rather-long-assistant-name-for-tables-{i:02d}")
        emu.store.put_file(owner, name=long_name, content=b"text")
        text = run_in_terminal(
            ["--api-key", "k", "--host", emu.url, "assistants", "list"], columns=80
        )
        files = run_in_terminal(
            ["--api-key", "k", "--host", emu.url, "files", "list", owner],
            columns=80,
        )
    screen = Screen(80)
    screen.feed(text)
    assert screen.wraps == []
    rows = [line for line in screen.lines if line.startswith("a-rather-long")]
    assert len(rows) == 3
    assert all(len(row) <= 80 for row in rows)
    screen = Screen(80)
    screen.feed(files)
    assert screen.wraps == []
    assert screen.lines[0].split() == ["id", "name", "status"]
    assert "a-rather-long-file-name" in screen.lines[1]
