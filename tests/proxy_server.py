"""A real forward proxy process (``proxy.py``, a test dependency) on a free 127.0.0.1 port.

Started with ``python -m proxy`` (one acceptor, one worker, ``--port 0`` and a port file), with
optional basic authentication; its access log (one line per client connection, written when the
connection ends: ``client - METHOD host:port/path - status ...``, ``CONNECT host:port`` for
tunnels) is a file the tests read. A test that needs the proxy and cannot start it fails
(``ProxyUnavailable``); it never skips.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["ProxyServer", "ProxyUnavailable"]

_START_TIMEOUT = 60.0


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


class ProxyUnavailable(RuntimeError):
    """proxy.py is not installed or did not start."""


class ProxyServer:
    """One ``proxy.py`` process; ``url`` once started, ``access_lines()`` what it served."""

    def __init__(self, basic_auth: str | None = None) -> None:
        self._basic_auth = basic_auth
        self._dir = tempfile.TemporaryDirectory(prefix="aiopinecone-proxy-")
        self.log_path = Path(self._dir.name) / "proxy.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (no credentials)."""
        if not self.port:
            raise ProxyUnavailable("the proxy is not running")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        port_file = Path(self._dir.name) / "port"
        command = [
            sys.executable,
            "-m",
            "proxy",
            "--hostname",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--num-acceptors",
            "1",
            "--num-workers",
            "1",
            "--log-level",
            "INFO",
            "--log-file",
            str(self.log_path),
        ]
        if self._basic_auth is not None:
            command += ["--basic-auth", self._basic_auth]
        stderr = Path(self._dir.name) / "stderr"
        with stderr.open("wb") as err:
            self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ProxyUnavailable(
                    f"proxy.py exited with {self._process.returncode}: "
                    f"{stderr.read_text(errors='replace')[-2000:]} (pip install -e '.[test]')"
                )
            text = port_file.read_text().strip() if port_file.exists() else ""
            if text.isdigit() and _accepts(int(text)):
                self.port = int(text)
                return
            time.sleep(0.05)
        self.close()
        raise ProxyUnavailable(f"proxy.py did not start within {_START_TIMEOUT} s")

    def _log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def access_lines(self) -> list[str]:
        """The access-log lines so far (``... server.access_log ... - METHOD target - ...``)."""
        return [line for line in self._log_text().splitlines() if "access_log" in line]

    def wait_for_access(self, needle: str, *, timeout: float = 20.0) -> list[str]:
        """The access lines containing ``needle``, waiting (bounded) until there is one: lines
        are written when a connection ends, a moment after the client closed it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [line for line in self.access_lines() if needle in line]
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self._dir.cleanup()

    def __enter__(self) -> ProxyServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
