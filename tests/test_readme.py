"""The README's commands and programs, run as written (issue 12): a README that drifts fails.

The rule (also in the README's Development section): every fenced ``bash``/``sh``/``shell``/
``console`` block carries a marker on the line just above its fence,

- ``<!-- readme-test: run -->``: run as written, in order, in a temporary copy of the
  repository, outside any virtualenv (a ``console`` block runs its ``$ `` lines);
- ``<!-- readme-test: background -->``: a server: started, it must print a line and still be
  running after the last block; then it gets Ctrl-C (SIGINT) and must exit cleanly;
- ``<!-- readme-test: ci -->``: the test command, which must be the one in ``.ci/run`` (it is
  CI: running it here would run this test again);
- ``<!-- readme-test: skip: why -->``.

A ``python`` block marked ``run`` runs as a script with the virtualenv the README's first command
made, with ``PINECONE_API_KEY`` and ``PINECONE_CONTROLLER_HOST`` pointing at an emulator; every
other ``python`` block must compile (top-level ``await`` allowed).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import attrs
import pytest

from aiopinecone.emulator import Emulator

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SHELLS = ("bash", "sh", "shell", "console")
MARKERS = ("run", "background", "ci", "skip")
_MARKER = re.compile(r"^\s*<!--\s*readme-test:\s*(\w+)(?::\s*(.*?))?\s*-->\s*$")
_FENCE = re.compile(r"^(\s*)```(\S*)")
KEY = "readme-key"


@attrs.frozen
class Block:
    """One fenced block of the README."""

    line: int  # of its opening fence, 1-based
    lang: str
    code: str
    marker: str | None
    reason: str | None

    @property
    def where(self) -> str:
        return f"README.md:{self.line} ({self.lang})"

    def commands(self) -> str:
        """The shell text to run: a console block's ``$ `` lines, else the whole block."""
        if self.lang != "console":
            return self.code
        return "\n".join(line[2:] for line in self.code.splitlines() if line.startswith("$ "))


def blocks(text: str) -> list[Block]:
    """Every fenced block of ``text``, with the marker just above it (if any)."""
    found: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, lang = opening.group(1), opening.group(2).lower()
        marked = _MARKER.match(lines[i - 1]) if i > 0 else None
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        found.append(
            Block(
                line=i + 1,
                lang=lang,
                code="\n".join(body) + "\n",
                marker=marked.group(1) if marked else None,
                reason=marked.group(2) if marked else None,
            )
        )
        i = j + 1
    return found


ALL = blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_blocks_to_run() -> None:
    assert [b.marker for b in ALL if b.lang in SHELLS].count("run") >= 3
    assert sum(1 for b in ALL if b.lang == "python" and b.marker == "run") >= 1


def test_every_shell_block_says_whether_it_runs() -> None:
    for block in ALL:
        if block.marker is not None:
            assert block.marker in MARKERS, f"{block.where}: unknown marker {block.marker!r}"
        if block.lang not in SHELLS:
            continue
        assert block.marker is not None, (
            f"{block.where}: a shell block needs '<!-- readme-test: run -->' (or background, "
            "ci, 'skip: why') on the line above its fence; see the README's Development section"
        )
        if block.marker == "skip":
            assert block.reason, f"{block.where}: say why it is skipped ('skip: why')"
        assert block.commands().strip(), f"{block.where}: nothing to run"


def test_every_python_block_compiles() -> None:
    for block in ALL:
        if block.lang != "python":
            continue
        try:
            compile(block.code, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except SyntaxError as exc:
            pytest.fail(f"{block.where}: {exc}")


def test_the_test_command_is_what_ci_runs() -> None:
    ci = [b for b in ALL if b.marker == "ci"]
    assert len(ci) == 1, "one README block is the test command"
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    for line in ci[0].commands().strip().splitlines():
        assert line.strip() in script, f"{ci[0].where}: .ci/run does not run {line!r}"


def _copy_of_the_repository(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "*.pyc"
    )
    shutil.copytree(REPO, dest, ignore=ignore, symlinks=True)
    return dest


def _newcomer_env(**extra: str) -> dict[str, str]:
    """The environment of someone who just cloned the repository: no active virtualenv, no
    checkout on the path, no key."""

    def in_a_venv(entry: str) -> bool:
        return (Path(entry).parent / "pyvenv.cfg").exists()

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PINECONE_API_KEY", "PINECONE_CONTROLLER_HOST")
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and not in_a_venv(p)
    )
    return {**env, **extra}


@attrs.define
class Background:
    block: Block
    proc: subprocess.Popen[str]
    first_line: str


def _start(block: Block, cwd: Path, env: dict[str, str]) -> Background:
    proc = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", f"exec {block.commands().strip()}"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # bounded by the test's timeout
    assert line, f"{block.where}: printed nothing before it ended"
    assert proc.poll() is None, f"{block.where}: did not keep running: {line}"
    return Background(block, proc, line)


def _stop(server: Background) -> None:
    proc = server.proc
    assert proc.poll() is None, f"{server.block.where}: stopped before the last block"
    proc.send_signal(signal.SIGINT)  # Ctrl-C, as a newcomer stops it
    try:
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0, f"{server.block.where}: exit {proc.returncode}: {rest[-2000:]}"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return _copy_of_the_repository(tmp_path / "aiopinecone")


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_readme_runs_as_written(workdir: Path) -> None:
    """Every block marked ``run``/``background``, in README order, as a newcomer would."""
    servers: list[Background] = []
    env = _newcomer_env()
    try:
        with Emulator(api_keys=(KEY,)).in_thread() as emu:
            for block in ALL:
                if block.marker == "background":
                    servers.append(_start(block, workdir, env))
                    continue
                if block.marker != "run":
                    continue
                started = time.monotonic()
                if block.lang == "python":
                    python = workdir / ".venv" / "bin" / "python"
                    assert python.exists(), f"{block.where}: the first command made no .venv"
                    script = workdir / f"readme_block_{block.line}.py"
                    script.write_text(block.code, encoding="utf-8")
                    argv = [str(python), str(script)]
                    block_env = {
                        **env,
                        "PINECONE_API_KEY": KEY,
                        "PINECONE_CONTROLLER_HOST": emu.url,
                    }
                else:
                    argv = ["bash", "-euo", "pipefail", "-c", block.commands()]
                    block_env = env
                proc = subprocess.run(
                    argv,
                    cwd=workdir,
                    env=block_env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                    check=False,
                    stdin=subprocess.DEVNULL,
                )
                output = proc.stdout[-3000:] + proc.stderr[-3000:]
                assert proc.returncode == 0, f"{block.where}: exit {proc.returncode}\n{output}"
                assert KEY not in proc.stdout + proc.stderr
                print(f"{block.where}: ok in {time.monotonic() - started:.1f} s", file=sys.stderr)
    finally:
        errors = []
        for server in servers:
            try:
                _stop(server)
            except AssertionError as exc:
                errors.append(str(exc))
        assert not errors, errors


def test_the_rule_catches_an_unmarked_or_drifting_block() -> None:
    text = (
        "<!-- readme-test: run -->\n```bash\necho ok\n```\n\n"
        "```console\n$ aiopinecone provision x.yaml\noutput line\n```\n"
        "  <!-- readme-test: skip: a synopsis -->\n  ```sh\n  tool [--flag]\n  ```\n"
    )
    found = blocks(text)
    assert [(b.lang, b.marker, b.reason) for b in found] == [
        ("bash", "run", None),
        ("console", None, None),
        ("sh", "skip", "a synopsis"),
    ]
    assert found[1].commands() == "aiopinecone provision x.yaml"
    assert found[2].code == "tool [--flag]\n"
