"""``pinecone_emulator_env``: an app that builds its client from the environment (ours or the
official SDK) talks to the emulator unchanged; the environment is restored afterwards."""

from __future__ import annotations

import os

import pinecone
import pytest

from aiopinecone import AsyncPinecone
from aiopinecone.emulator import EmulatorConfig, ThreadedEmulator
from aiopinecone.emulator.pytest_plugin import ENV_VARIABLES

pytest_plugins = ["pytester"]


@pytest.fixture
def pinecone_emulator_config() -> EmulatorConfig:
    return EmulatorConfig(api_keys=("app-key",), delete_delay=0.0)


@pytest.fixture
def outer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # What the test process had before: one variable set, the others absent.
    monkeypatch.setenv("PINECONE_API_KEY", "the-real-key")
    monkeypatch.delenv("PINECONE_CONTROLLER_HOST", raising=False)
    monkeypatch.delenv("PINECONE_PLUGIN_ASSISTANT_DATA_HOST", raising=False)


async def my_async_app() -> list[str]:
    """An app written for production: no host, no key in the code."""
    async with AsyncPinecone() as pc:
        await pc.assistants.create(name="from-env")
        return [a.name for a in await pc.assistants.list()]


@pytest.mark.usefixtures("outer_env")
async def test_our_client_from_the_environment(pinecone_emulator_env: ThreadedEmulator) -> None:
    assert os.environ["PINECONE_API_KEY"] == "app-key"
    assert os.environ["PINECONE_CONTROLLER_HOST"] == pinecone_emulator_env.url
    assert await my_async_app() == ["from-env"]
    log = pinecone_emulator_env.log
    assert pinecone_emulator_env.call(lambda: log.count(method="POST")) == 1


@pytest.mark.official_sdk
@pytest.mark.usefixtures("outer_env")
def test_official_sdk_from_the_environment(pinecone_emulator_env: ThreadedEmulator) -> None:
    pc = pinecone.Pinecone()
    try:
        pc.assistants.create(name="official-from-env", timeout=30)
        assert [a.name for a in pc.assistants.list()] == ["official-from-env"]
    finally:
        pc.close()
    entries = pinecone_emulator_env.call(lambda: list(pinecone_emulator_env.log.entries))
    assert entries
    assert all((e.status or 0) < 400 for e in entries)


def test_the_environment_is_restored(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import os

        def test_inside(pinecone_emulator_env):
            assert os.environ["PINECONE_API_KEY"] == "emulator-key"
            assert os.environ["PINECONE_CONTROLLER_HOST"] == pinecone_emulator_env.url
        """
    )
    saved = {name: os.environ.get(name) for name in ENV_VARIABLES}
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert {name: os.environ.get(name) for name in ENV_VARIABLES} == saved
