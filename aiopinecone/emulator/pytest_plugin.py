"""pytest plugin: the ``pinecone_emulator`` fixture (registered by the ``pytest11`` entry point).

``pinecone_emulator`` runs an :class:`~aiopinecone.emulator.Emulator` in a thread of its own, so
it serves synchronous tests and tests on any event loop alike. Override the
``pinecone_emulator_config`` fixture to change how it behaves::

    @pytest.fixture
    def pinecone_emulator_config() -> EmulatorConfig:
        return EmulatorConfig(api_keys=("my-key",), ready_delay=0.2)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._config import EmulatorConfig
from ._server import Emulator, ThreadedEmulator


@pytest.fixture
def pinecone_emulator_config() -> EmulatorConfig:
    """The configuration of ``pinecone_emulator``: any non-empty API key, the default delays
    (deletes take one second, as they take time on the service; everything else is instant)."""
    return EmulatorConfig()


@pytest.fixture
def pinecone_emulator(pinecone_emulator_config: EmulatorConfig) -> Iterator[ThreadedEmulator]:
    """A running emulator (fresh per test); ``.url`` is its origin."""
    with Emulator(config=pinecone_emulator_config).in_thread() as emu:
        yield emu
