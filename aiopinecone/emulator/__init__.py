"""A local Pinecone Assistant API: control plane, data plane and evaluation on one origin.

Run it in process (``async with Emulator() as emu``), in a thread for synchronous code
(``with Emulator().in_thread() as emu``), from the command line
(``python -m aiopinecone.emulator --port 8765``), or through the pytest fixture
``pinecone_emulator`` (installed with the package as a pytest plugin). Script faults on it
with :mod:`aiopinecone.emulator.faults` (``emu.faults.script(...)``, ``emu.faults.chaos(...)``).
"""

from ._cli import main
from ._config import EmulatorConfig
from ._persistence import StateFileError
from ._ratelimit import RateLimiter
from ._requestlog import LogEntry, RequestLog
from ._server import Emulator, ThreadedEmulator
from ._store import FAIL_MARKER, Store
from .faults import Fault, FaultInjector

__all__ = [
    "FAIL_MARKER",
    "Emulator",
    "EmulatorConfig",
    "Fault",
    "FaultInjector",
    "LogEntry",
    "RateLimiter",
    "RequestLog",
    "StateFileError",
    "Store",
    "ThreadedEmulator",
    "main",
]
