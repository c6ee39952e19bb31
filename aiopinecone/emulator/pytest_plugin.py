"""pytest plugin: the ``pinecone_emulator`` fixture (registered by the ``pytest11`` entry point).

``pinecone_emulator`` runs an :class:`~aiopinecone.emulator.Emulator` in a thread of its own, so
it serves synchronous tests and tests on any event loop alike. Override the
``pinecone_emulator_config`` fixture to change how it behaves::

    @pytest.fixture
    def pinecone_emulator_config() -> EmulatorConfig:
        return EmulatorConfig(api_keys=("my-key",), ready_delay=0.2)

``pinecone_emulator_env`` is the same emulator, with the environment pointed at it for the code
under test: ``PINECONE_API_KEY`` (the first of ``api_keys``, else ``emulator-key``),
``PINECONE_CONTROLLER_HOST`` (its URL) and the official SDK's evaluation host variable
``PINECONE_PLUGIN_ASSISTANT_DATA_HOST``; all three are restored after the test. An application
that builds its client from the environment (``AsyncPinecone()``, or the official SDK's
``Pinecone()``) then talks to the emulator unchanged::

    def test_my_app(pinecone_emulator_env):
        assert my_app.answer("How long is shipping?")   # my_app calls AsyncPinecone()
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .._governor._projects import forget_projects
from ._config import EmulatorConfig
from ._server import Emulator, ThreadedEmulator


@pytest.fixture
def pinecone_emulator_config() -> EmulatorConfig:
    """The configuration of ``pinecone_emulator``: any non-empty API key, the default delays
    (deletes take one second, as they take time on the service; everything else is instant)."""
    return EmulatorConfig()


@pytest.fixture
def pinecone_emulator(pinecone_emulator_config: EmulatorConfig) -> Iterator[ThreadedEmulator]:
    """A running emulator (fresh per test); ``.url`` is its origin. The clients of the test
    start with no rate budget kept from another test (:func:`aiopinecone.forget_projects`)."""
    forget_projects()
    with Emulator(config=pinecone_emulator_config).in_thread() as emu:
        yield emu


DEFAULT_TEST_KEY = "emulator-key"
"""The API key ``pinecone_emulator_env`` exports when the emulator accepts any key."""
ENV_VARIABLES = (
    "PINECONE_API_KEY",
    "PINECONE_CONTROLLER_HOST",
    "PINECONE_PLUGIN_ASSISTANT_DATA_HOST",
)


@pytest.fixture
def pinecone_emulator_env(pinecone_emulator: ThreadedEmulator) -> Iterator[ThreadedEmulator]:
    """``pinecone_emulator``, with ``PINECONE_API_KEY`` and ``PINECONE_CONTROLLER_HOST`` (and
    the official SDK's ``PINECONE_PLUGIN_ASSISTANT_DATA_HOST``) set for the code under test,
    and restored (or removed) after it."""
    keys = pinecone_emulator.config.api_keys
    values = (keys[0] if keys else DEFAULT_TEST_KEY, pinecone_emulator.url, pinecone_emulator.url)
    saved = {name: os.environ.get(name) for name in ENV_VARIABLES}
    os.environ.update(zip(ENV_VARIABLES, values, strict=True))
    try:
        yield pinecone_emulator
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
