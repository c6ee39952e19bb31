"""Shared fixtures: a fresh in-process emulator and a client bound to it.

Keep this file small; add fixtures by targeted edits. Every test runs against a real server on
127.0.0.1 (an ephemeral port) through real sockets.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis_server import RedisServer
from tls_certs import TlsFiles, make_tls_files

from aiopinecone import AsyncPinecone, set_retry_testing
from aiopinecone._governor._projects import forget_projects
from aiopinecone.emulator import Emulator

API_KEY = "test-key"


def pytest_configure(config: pytest.Config) -> None:
    # A table's width follows $COLUMNS (aiopinecone/_cli_io.py); the suite must not depend on
    # the caller's terminal. pytest-xdist workers inherit COLUMNS/LINES set in the controller's
    # C environment, which in-process CLI tests then saw as an 80-column terminal.
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # In an xdist worker (the suite runs in 2 of them, see README "Development"), the long
    # tests (marked ``slow``) go first, so that no one of them is the last thing still running.
    # Every worker sorts alike (a stable sort), as xdist requires.
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def fresh_projects() -> None:
    """Every test starts like a fresh process. Default clients of one project (API key and
    host) share one budget and what it learnt for the life of their thread
    (``aiopinecone/_governor/_projects.py``); the tests of a worker run in one thread, reuse
    the API key and may be given a port an earlier test's emulator had, so one test's window
    and learnt limits would otherwise carry over into the next."""
    forget_projects()


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A running emulator accepting only ``API_KEY``; no delays (deletes too), no rate limits."""
    async with Emulator(api_keys=(API_KEY,), ready_delay=0.0, delete_delay=0.0) as emu:
        yield emu


@pytest.fixture
async def client(emulator: Emulator) -> AsyncIterator[AsyncPinecone]:
    """An ``AsyncPinecone`` (API version 2025-10) talking to ``emulator``."""
    async with AsyncPinecone(api_key=API_KEY, host=emulator.url, api_version="2025-10") as pc:
        yield pc


@pytest.fixture
def instant_retries() -> Iterator[None]:
    """Retry sleeps take no time (budgets are still charged); polls capped at 20 ms.

    Only for tests whose server state does not depend on time passing (scripted faults): a
    rate limiter's window does not move while retries are instant.
    """
    set_retry_testing(True)
    try:
        yield
    finally:
        set_retry_testing(False)


@pytest.fixture(scope="session")
def redis_server_session() -> Iterator[RedisServer]:
    """One real ``redis-server`` for the whole run (started on first use, killed at the end).

    A test that asks for Redis and cannot get it fails (``RedisUnavailable``), never skips.
    """
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server_session: RedisServer) -> str:
    """The URL of the shared real Redis, emptied for this test (restarted if a test killed it)."""
    redis_server_session.start()
    redis_server_session.flush()
    return redis_server_session.url


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A real Redis of this test's own, to kill (``.kill()``) and restart (``.start()``) at will."""
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A throwaway CA (``trustme``) and a certificate for 127.0.0.1/localhost it issued."""
    return make_tls_files(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
async def tls_emulator(tls_files: TlsFiles) -> AsyncIterator[Emulator]:
    """Like ``emulator``, served over https with ``tls_files``' certificate."""
    async with Emulator(
        api_keys=(API_KEY,),
        delete_delay=0.0,
        tls_cert=str(tls_files.cert_pem),
        tls_key=str(tls_files.key_pem),
    ) as emu:
        yield emu
