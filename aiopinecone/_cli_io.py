"""How the ``aiopinecone`` command meets the operating system and the terminal.

- :func:`emulator_argv`: the arguments after ``emulator``, handed to the emulator's own parser
  as written (``--port 8765`` and ``--port=8765`` alike);
- :class:`Interrupts`: SIGINT and SIGTERM cancel the running command once (so a provisioning
  run writes its summary and report), a second signal stops the process at once;
- :func:`quiet_broken_pipe`: ``aiopinecone ... | head`` ends quietly;
- :func:`cli_message`: error texts name command-line flags, not Python keyword arguments;
- :func:`terminal_width`: the width tables and plans are fitted to (terminals only).

Standard library only: building the parser and listing assistants load nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Final, TextIO

__all__ = [
    "GLOBAL_FLAGS",
    "GLOBAL_VALUE_OPTIONS",
    "Interrupts",
    "cli_message",
    "emulator_argv",
    "quiet_broken_pipe",
    "terminal_width",
]

GLOBAL_VALUE_OPTIONS: Final = (
    "--api-key",
    "--host",
    "--api-version",
    "--proxy",
    "--ca-bundle",
    "--source-tag",
)
"""The global options that take a value (as the next argument or after ``=``)."""
GLOBAL_FLAGS: Final = ("--allow-insecure-http", "--trust-env")
"""The global options without a value."""


def emulator_argv(argv: Sequence[str]) -> list[str] | None:
    """What follows the ``emulator`` command in ``argv`` (``None``: another command).

    Only global options may come before the command; anything else (``--help``, a typo) is
    left to the main parser, which reports it.
    """
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in GLOBAL_VALUE_OPTIONS:
            i += 2
        elif arg in GLOBAL_FLAGS or arg.split("=", 1)[0] in GLOBAL_VALUE_OPTIONS:
            i += 1
        elif arg == "emulator":
            return list(argv[i + 1 :])
        else:
            return None
    return None


# Hints written for Python callers, and what to tell a command-line user instead.
_PYTHON_HINTS: Final = (
    (re.compile(r"pass check_limits=False"), "add --no-check-limits"),
    (re.compile(r"pass allow_insecure_http=True"), "add --allow-insecure-http"),
    (re.compile(r"pass api_key=\.\.\."), "add --api-key KEY"),
    # The default TLS context also reads OpenSSL's variables: both ways of naming a CA bundle.
    (re.compile(r"pass ssl=<([^>]*)>"), r"add --ca-bundle <\1> (or set SSL_CERT_FILE=<\1>)"),
    (re.compile(r"allow_insecure_http=True"), "--allow-insecure-http"),
)


def cli_message(text: str) -> str:
    """``text`` with every Python-only hint replaced by the command-line flag that does it."""
    for pattern, replacement in _PYTHON_HINTS:
        text = pattern.sub(replacement, text)
    return text


def quiet_broken_pipe() -> None:
    """Standard output's reader went away (``| head``): send what is still buffered nowhere,
    so the interpreter's final flush neither fails nor prints a traceback."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class Interrupts:
    """SIGINT/SIGTERM handling for one command run in an event loop.

    The first signal cancels ``task`` (the command cleans up: a provisioning run converges what
    it can, prints its summary and writes its report) and is remembered in :attr:`signal`; the
    exit code is then ``128 + signal`` (130 for Ctrl-C, 143 for SIGTERM). A second signal of
    either kind restores the default action and re-sends itself: the process stops at once.
    """

    SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, task: asyncio.Task[object], on_signal: Callable[[str], None]) -> None:
        self.task = task
        self.signal: signal.Signals | None = None
        self._on_signal = on_signal
        self._installed: list[signal.Signals] = []

    def _received(self, sig: signal.Signals) -> None:
        if self.signal is not None:
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
            return
        self.signal = sig
        self._on_signal(sig.name)
        self.task.cancel()

    @property
    def exit_code(self) -> int | None:
        """``128 + signal`` once a signal arrived, else ``None``."""
        return None if self.signal is None else 128 + int(self.signal)

    def __enter__(self) -> Interrupts:
        loop = asyncio.get_running_loop()
        for sig in self.SIGNALS:
            # Not in the main thread (or no signals on this platform): leave the defaults.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, self._received, sig)
                self._installed.append(sig)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._installed:
            loop.remove_signal_handler(sig)
            if self.signal is not None:
                # Stopping already: a signal during the rest of the shutdown stops at once too
                # (removing the handler restored SIGINT's KeyboardInterrupt, which would end the
                # process with 130 as if the second Ctrl-C had not been pressed).
                signal.signal(sig, signal.SIG_DFL)
        self._installed.clear()


def terminal_width(stream: TextIO) -> int | None:
    """The width to fit ``stream``'s tables to: ``$COLUMNS`` if set, else the terminal's when
    ``stream`` is one, else ``None`` (a pipe or a file gets whole lines, for grep and logs)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns or None
    except (AttributeError, ValueError, OSError):
        pass
    return None
