"""Fault injection on the emulator: scripted per-route fault sequences and seeded chaos.

Script faults on a running emulator through ``emu.faults`` (a :class:`FaultInjector`; also on the
``pinecone_emulator`` fixture)::

    from aiopinecone.emulator.faults import Fault

    emu.faults.script("POST", "/assistant/assistants", [Fault.status(503), Fault.drop_after()])
    emu.faults.chaos(seed=7)

Each matching request consumes the next fault of the first script (in the order they were added)
that still has one; an exhausted script is removed, unless ``repeat=True`` (then it cycles
forever). ``method`` is an HTTP method or ``"*"``. Path patterns match the whole path:
``{name}`` one segment, ``*`` any text inside one segment, ``**`` anything (see
:func:`compile_path_pattern`).

Kinds (one class each; build them with ``Fault.<builder>(...)`` or the class):
:class:`StatusFault` (``Fault.status``), :class:`LostResponseFault`
(``Fault.perform_then_status``: performed, then an error status), :class:`DropBeforeFault`,
:class:`DropAfterFault`, :class:`DelayFault`, :class:`DelayAfterFault` (``Fault.delay(s,
after=True)``), :class:`MalformedBodyFault`, :class:`PassthroughFault`. A new kind is a subclass
of :class:`Fault` (see ``_kinds.py``).

Chaos: ``faults.chaos(seed=7)`` injects a mix of faults (see :data:`CHAOS_KINDS`) into matching
requests that no script claims, reproducibly from the seed.

Faults act before authentication (like a proxy in front of the API) and never on the admin
routes under ``/__emulator/``. A dropped connection is closed without a byte of response: a client
sees ``aiohttp.ServerDisconnectedError`` (or ``ClientOSError`` if it was still sending). Note
that aiohttp's client silently resends an idempotent request (GET, PUT, DELETE...) once after
such a disconnection: one drop is invisible to it, two in a row are not. A fault that acts after
performing on a response already streaming (SSE) can only cut the connection.
"""

from .._paths import compile_path_pattern
from ._chaos import CHAOS_KINDS, DEFAULT_CHAOS_RATES, Chaos
from ._injector import FaultInjector
from ._kinds import (
    KINDS,
    DelayAfterFault,
    DelayFault,
    DropAfterFault,
    DropBeforeFault,
    Fault,
    LostResponseFault,
    MalformedBodyFault,
    PassthroughFault,
    StatusFault,
)
from ._script import Script
from ._values import RETRY_AFTER_MS_HEADER

__all__ = [
    "CHAOS_KINDS",
    "DEFAULT_CHAOS_RATES",
    "KINDS",
    "RETRY_AFTER_MS_HEADER",
    "Chaos",
    "DelayAfterFault",
    "DelayFault",
    "DropAfterFault",
    "DropBeforeFault",
    "Fault",
    "FaultInjector",
    "LostResponseFault",
    "MalformedBodyFault",
    "PassthroughFault",
    "Script",
    "StatusFault",
    "compile_path_pattern",
]
