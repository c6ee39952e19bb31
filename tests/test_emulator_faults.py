"""Fault injection: Fault values, path patterns, scripts, seeded chaos, and faults on the wire.

The wire tests run the three middlewares on a small aiohttp application of their own (so the
handler can count how often it really ran) on a real socket; test_emulator_faults_emulator.py
drives the same faults through the full emulator.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import ClassVar

import aiohttp
import attrs
import orjson
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from hypothesis import given
from hypothesis import strategies as st

from aiopinecone.emulator import RateLimiter, RequestLog
from aiopinecone.emulator.faults import (
    CHAOS_KINDS,
    RETRY_AFTER_MS_HEADER,
    DelayFault,
    Fault,
    FaultInjector,
    StatusFault,
    compile_path_pattern,
)

DISCONNECTED = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)

# -- path patterns ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/assistant/assistants", "/assistant/assistants", True),
        ("/assistant/assistants", "/assistant/assistants/", True),
        ("/assistant/assistants/", "/assistant/assistants", True),
        ("/assistant/assistants", "/assistant/assistants/a1", False),
        ("/assistant/assistants/{name}", "/assistant/assistants/a1", True),
        ("/assistant/assistants/{name}", "/assistant/assistants/", False),
        ("/assistant/assistants/{name}", "/assistant/assistants/a1/x", False),
        ("/assistant/files/{name}/*", "/assistant/files/a1/f-9", True),
        ("/assistant/files/*", "/assistant/files/a1/f-9", False),
        ("/assistant/files/a*", "/assistant/files/a1", True),
        ("/assistant/files/a*", "/assistant/files/b1", False),
        ("/assistant/**", "/assistant/chat/a1/chat/completions", True),
        ("/assistant/**", "/__emulator/log", False),
        ("/**", "/anything/at/all", True),
        ("/a.b", "/aXb", False),
        ("/a+(b)", "/a+(b)", True),
    ],
)
def test_path_patterns(pattern: str, path: str, matches: bool) -> None:
    assert (compile_path_pattern(pattern).fullmatch(path) is not None) is matches


@pytest.mark.parametrize("pattern", ["", "assistant/assistants", None])
def test_path_pattern_must_be_absolute(pattern: object) -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        compile_path_pattern(pattern)  # type: ignore[arg-type]


# -- Fault values -------------------------------------------------------------------------------

ALL_KINDS = [
    Fault.status(503),
    Fault.status(429, "RESOURCE_EXHAUSTED", "slow down", retry_after=2),
    Fault.status(429, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"),
    Fault.status(502, body="<html>bad gateway</html>", content_type="text/html"),
    Fault.status(200, body=b""),
    Fault.status(500, headers={"X-Request-Id": "r-1"}),
    Fault.perform_then_status(500),
    Fault.after(503, retry_after=0.25),
    Fault.drop_before(),
    Fault.drop_after(),
    Fault.delay(0.5),
    Fault.delay(0.25, after=True),
    Fault.malformed_body(),
    Fault.malformed_body('{"name": '),
    Fault.passthrough(),
]


@pytest.mark.parametrize("fault", ALL_KINDS, ids=lambda f: f.describe())
def test_fault_json_round_trip(fault: Fault) -> None:
    data = orjson.loads(orjson.dumps(fault.to_json()))
    assert Fault.from_json(data) == fault


def test_fault_json_shorthands() -> None:
    assert Fault.from_json(503) == Fault.status(503)
    assert Fault.from_json("drop_after") == Fault.drop_after()
    assert Fault.from_json({"type": "delay", "seconds": 1, "after": True}) == Fault.delay(
        1, after=True
    )


@pytest.mark.parametrize(
    "data",
    [
        {"type": "explode"},
        {"status": 500},
        {"type": "status"},
        {"type": "status", "status": 200},
        {"type": "status", "status": 700},
        {"type": "status", "status": "500"},
        {"type": "status", "status": 500, "retry_after": -1},
        {"type": "status", "status": 500, "headers": {"a": 1}},
        {"type": "status", "status": 500, "code": 7},
        {"type": "status", "status": 500, "colour": "red"},
        {"type": "delay", "seconds": -0.1},
        {"type": "delay", "seconds": "soon"},
        {"type": "drop_before", "seconds": 1},
        [500],
        True,
        None,
    ],
)
def test_fault_json_rejects_bad_input(data: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        Fault.from_json(data)


def test_status_fault_response() -> None:
    resp = Fault.status(429, retry_after=1.2).response()
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "2"
    assert resp.headers[RETRY_AFTER_MS_HEADER] == "1200"
    assert resp.body is not None
    envelope = orjson.loads(bytes(resp.body))  # type: ignore[arg-type]
    assert envelope["status"] == 429
    assert envelope["error"]["code"] == "RESOURCE_EXHAUSTED"
    assert "injected" in envelope["error"]["message"]
    raw = Fault.status(429, retry_after="garbage").response()
    assert raw.headers["Retry-After"] == "garbage"
    assert RETRY_AFTER_MS_HEADER not in raw.headers
    assert "Retry-After" not in Fault.status(500).response().headers


# -- scripts --------------------------------------------------------------------------------------


def test_scripts_consume_in_order_and_expire() -> None:
    faults = FaultInjector()
    first = faults.script("POST", "/assistant/assistants", [Fault.status(500), Fault.passthrough()])
    faults.script("*", "/assistant/**", Fault.drop_before())
    assert faults.next_fault("GET", "/assistant/assistants") == (Fault.drop_before(), "drop_before")
    assert faults.next_fault("GET", "/assistant/assistants") is None
    assert faults.next_fault("POST", "/assistant/assistants") == (Fault.status(500), "status:500")
    assert first.remaining == 1
    assert faults.next_fault("POST", "/assistant/assistants") is None  # the passthrough
    assert first.exhausted
    assert faults.scripts == ()


def test_repeating_script_cycles() -> None:
    faults = FaultInjector()
    script = faults.script("get", "/x/{id}", [Fault.status(503), Fault.passthrough()], repeat=True)
    labels = [faults.next_fault("GET", f"/x/{i}") for i in range(6)]
    assert [label is not None for label in labels] == [True, False] * 3
    assert script.consumed == 6
    assert script.remaining is None
    faults.clear()
    assert faults.next_fault("GET", "/x/1") is None


def test_script_argument_errors() -> None:
    faults = FaultInjector()
    with pytest.raises(ValueError, match="at least one"):
        faults.script("GET", "/x", [])
    with pytest.raises(ValueError, match="method"):
        faults.script("GET /x", "/x", Fault.status(500))
    with pytest.raises(TypeError):
        faults.script("GET", "/x", [500])  # type: ignore[list-item]


# -- chaos ----------------------------------------------------------------------------------------

REQUESTS = [
    (m, p)
    for i in range(40)
    for m, p in (
        ("POST", "/assistant/assistants"),
        ("GET", f"/assistant/assistants/a{i % 7}"),
        ("POST", f"/assistant/files/a{i % 5}"),
        ("DELETE", f"/assistant/files/a{i % 5}/f{i}"),
    )
]


def _chaos_labels(seed: int, requests: list[tuple[str, str]], **kwargs: object) -> list[str | None]:
    faults = FaultInjector()
    faults.chaos(seed, **kwargs)  # type: ignore[arg-type]
    out: list[str | None] = []
    for method, path in requests:
        chosen = faults.next_fault(method, path)
        out.append(chosen[1] if chosen is not None else None)
    return out


def test_chaos_is_reproducible_from_the_seed() -> None:
    first = _chaos_labels(7, REQUESTS)
    assert first == _chaos_labels(7, REQUESTS)
    assert first != _chaos_labels(8, REQUESTS)
    injected = [label for label in first if label is not None]
    assert injected, "the default mix injects faults"
    assert all(label.startswith("chaos:") for label in injected)
    assert len({label.split(":")[1] for label in injected}) >= 4  # a real mix


def _per_key(
    order: list[tuple[str, str]], labels: list[str | None]
) -> dict[tuple[str, str], list[str | None]]:
    streams: dict[tuple[str, str], list[str | None]] = {}
    for key, label in zip(order, labels, strict=True):
        streams.setdefault(key, []).append(label)
    return streams


def test_chaos_per_path_streams_do_not_depend_on_interleaving() -> None:
    by_path = sorted(REQUESTS, key=lambda r: (r[1], r[0]))  # a different global order
    assert by_path != REQUESTS
    assert _per_key(REQUESTS, _chaos_labels(3, REQUESTS)) == _per_key(
        by_path, _chaos_labels(3, by_path)
    )


def test_chaos_rates_paths_and_methods() -> None:
    everything = _chaos_labels(1, REQUESTS, rates={"503": 1.0})
    assert set(everything) == {"chaos:status:503"}
    assert set(_chaos_labels(1, REQUESTS, rates={})) == {None}
    only_files = _chaos_labels(
        1, REQUESTS, rates={"drop_after": 1.0}, paths=["/assistant/files/**"]
    )
    for (_, path), label in zip(REQUESTS, only_files, strict=True):
        assert (label == "chaos:drop_after") is path.startswith("/assistant/files/")
    only_get = _chaos_labels(1, REQUESTS, rates={"500": 1.0}, methods=["get"])
    for (method, _), label in zip(REQUESTS, only_get, strict=True):
        assert (label is not None) is (method == "GET")


def test_chaos_parameters_stay_in_their_ranges() -> None:
    faults = FaultInjector()
    faults.chaos(5, rates={"429": 0.5, "delay": 0.5}, delay=(0.01, 0.02), retry_after=(1, 3))
    seen_retry: set[float | str | None] = set()
    for i in range(300):
        chosen = faults.next_fault("GET", f"/assistant/assistants/a{i}")
        assert chosen is not None
        fault, _ = chosen
        if fault.kind == "status":
            assert isinstance(fault, StatusFault)
            assert fault.http_status == 429
            seen_retry.add(fault.retry_after)
        else:
            assert fault.kind == "delay"
            assert isinstance(fault, DelayFault)
            assert 0.01 <= fault.seconds <= 0.02
    assert seen_retry == {1, 2, 3}


def test_chaos_max_consecutive_spares_a_request() -> None:
    labels = _chaos_labels(
        11, [("GET", "/assistant/assistants")] * 12, rates={"500": 1.0}, max_consecutive=3
    )
    assert labels == ["chaos:status:500"] * 3 + [None] + ["chaos:status:500"] * 3 + [None] + [
        "chaos:status:500"
    ] * 3 + [None]


def test_scripts_take_precedence_over_chaos() -> None:
    faults = FaultInjector()
    faults.chaos(1, rates={"500": 1.0})
    faults.script("GET", "/assistant/assistants", Fault.passthrough())
    assert faults.next_fault("GET", "/assistant/assistants") is None
    assert faults.next_fault("GET", "/assistant/assistants") == (
        Fault.status(500, message="Internal server error (emulator chaos)."),
        "chaos:status:500",
    )
    faults.stop_chaos()
    assert faults.chaos_config is None
    assert faults.next_fault("GET", "/assistant/assistants") is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rates": {"500": 0.7, "503": 0.4}},
        {"rates": {"418": 0.1}},
        {"rates": {"500": -0.1}},
        {"paths": "/assistant/**"},
        {"paths": []},
        {"paths": ["assistant"]},
        {"methods": "GET"},
        {"delay": (2, 1)},
        {"delay": (1,)},
        {"retry_after": (0.5, 1)},
        {"max_consecutive": 0},
    ],
)
def test_chaos_rejects_bad_parameters(kwargs: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        FaultInjector().chaos(1, **kwargs)  # type: ignore[arg-type]


def test_chaos_seed_must_be_a_non_negative_63_bit_int() -> None:
    with pytest.raises(TypeError):
        FaultInjector().chaos("7")  # type: ignore[arg-type]
    for seed in (-1, 2**63):
        with pytest.raises(ValueError, match="seed"):
            FaultInjector().chaos(seed)


@given(st.integers(0, 2**63 - 1), st.lists(st.sampled_from(CHAOS_KINDS), min_size=1, unique=True))
def test_chaos_config_json_is_accepted_back(seed: int, kinds: list[str]) -> None:
    rates = {k: 1.0 / len(kinds) / 2 for k in kinds}
    config = FaultInjector().chaos(seed, rates)
    again = FaultInjector().chaos(**orjson.loads(orjson.dumps(config.to_json())))
    assert attrs.asdict(again) == attrs.asdict(config)


# -- on the wire: a small app of our own ---------------------------------------------------------


@attrs.define
class Harness:
    url: str
    faults: FaultInjector
    log: RequestLog
    performed: list[str]


async def _count(request: web.Request) -> web.Response:
    request.app[PERFORMED].append(f"{request.method} {request.path}")
    return web.json_response({"performed": len(request.app[PERFORMED])})


async def _create(request: web.Request) -> web.Response:
    body = await request.json()
    request.app[PERFORMED].append(f"POST {body['name']}")
    return web.json_response({"name": body["name"], "status": "Initializing"}, status=201)


async def _stream(request: web.Request) -> web.StreamResponse:
    request.app[PERFORMED].append("stream")
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    await resp.write(b'data: {"type": "message_start"}\n\n')
    return resp


PERFORMED = web.AppKey("performed", list[str])


@pytest.fixture
def no_server_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail if aiohttp or asyncio logged an error (a traceback in the server log)."""
    caplog.set_level(logging.DEBUG)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not bad, [r.getMessage() for r in bad]


@pytest.fixture
async def harness(no_server_errors: None) -> AsyncIterator[Harness]:
    log, faults, limiter = RequestLog(), FaultInjector(), RateLimiter("unlimited")
    app = web.Application(middlewares=[log.middleware, faults.middleware, limiter.middleware])
    app[PERFORMED] = []
    app.router.add_get("/assistant/assistants", _count)
    app.router.add_post("/assistant/assistants", _create)
    app.router.add_get("/assistant/chat/stream", _stream)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Harness(f"http://127.0.0.1:{port}", faults, log, app[PERFORMED])
    finally:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        yield s


async def test_status_fault_answers_without_performing(
    harness: Harness, session: aiohttp.ClientSession
) -> None:
    harness.faults.script("GET", "/assistant/assistants", Fault.status(503, retry_after=3))
    async with session.get(harness.url + "/assistant/assistants") as resp:
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "3"
        assert (await resp.json())["error"]["code"] == "UNAVAILABLE"
    assert harness.performed == []
    async with session.get(harness.url + "/assistant/assistants") as resp:
        assert resp.status == 200
    assert harness.performed == ["GET /assistant/assistants"]
    assert [e.fault for e in harness.log.entries] == ["status:503", None]


async def test_perform_then_status_is_a_lost_response(
    harness: Harness, session: aiohttp.ClientSession
) -> None:
    harness.faults.script("POST", "/assistant/assistants", Fault.perform_then_status(500))
    async with session.post(harness.url + "/assistant/assistants", json={"name": "a1"}) as resp:
        assert resp.status == 500
        assert (await resp.json())["error"]["code"] == "UNKNOWN"
    assert harness.performed == ["POST a1"]  # the state change happened


async def test_drop_before_does_not_perform(
    harness: Harness, session: aiohttp.ClientSession
) -> None:
    harness.faults.script("POST", "/assistant/assistants", Fault.drop_before())
    with pytest.raises(DISCONNECTED):
        async with session.post(harness.url + "/assistant/assistants", json={"name": "a1"}):
            pass
    assert harness.performed == []
    entry = harness.log.last()
    assert entry is not None
    assert (entry.status, entry.outcome, entry.fault) == (None, "dropped", "drop_before")
    # The pool recovers: the next request on the same session succeeds.
    async with session.post(harness.url + "/assistant/assistants", json={"name": "a2"}) as resp:
        assert resp.status == 201
    assert harness.performed == ["POST a2"]


async def test_drop_after_performs(harness: Harness, session: aiohttp.ClientSession) -> None:
    harness.faults.script("POST", "/assistant/assistants", Fault.drop_after())
    with pytest.raises(DISCONNECTED):
        async with session.post(harness.url + "/assistant/assistants", json={"name": "a1"}):
            pass
    assert harness.performed == ["POST a1"]
    assert harness.log.count(outcome="dropped", fault="drop_after") == 1


async def test_aiohttp_retries_an_idempotent_request_once_after_a_drop(
    harness: Harness, session: aiohttp.ClientSession
) -> None:
    # aiohttp's client silently resends a GET/PUT/DELETE once when the server disconnects
    # (RFC 9112 §9.3.1): one drop is invisible to it, two are not.
    harness.faults.script("GET", "/assistant/assistants", Fault.drop_before())
    async with session.get(harness.url + "/assistant/assistants") as resp:
        assert resp.status == 200
    harness.faults.script("GET", "/assistant/assistants", [Fault.drop_before(), Fault.drop_after()])
    with pytest.raises(DISCONNECTED):
        async with session.get(harness.url + "/assistant/assistants"):
            pass
    assert harness.log.count(outcome="dropped") == 3
    assert harness.performed == ["GET /assistant/assistants"] * 2


async def test_delays_perform_normally(harness: Harness, session: aiohttp.ClientSession) -> None:
    harness.faults.script(
        "GET", "/assistant/assistants", [Fault.delay(0.05), Fault.delay(0.05, after=True)]
    )
    for expected in (1, 2):
        async with session.get(harness.url + "/assistant/assistants") as resp:
            assert resp.status == 200
            assert (await resp.json()) == {"performed": expected}
    assert [e.fault for e in harness.log.entries] == ["delay:0.05", "delay_after:0.05"]


@attrs.frozen(kw_only=True)
class TeapotFault(Fault):
    """A kind defined outside the package: one class is all a new kind needs."""

    kind: ClassVar[str] = "teapot"

    spout: str

    async def apply(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        return web.Response(status=418, text=self.spout)


async def test_a_new_fault_kind_is_one_class(
    harness: Harness, session: aiohttp.ClientSession
) -> None:
    harness.faults.script("GET", "/assistant/assistants", [TeapotFault(spout="short")])
    async with session.get(harness.url + "/assistant/assistants") as resp:
        assert (resp.status, await resp.text()) == (418, "short")
    assert harness.performed == []
    assert [e.fault for e in harness.log.entries] == ["teapot"]
    assert TeapotFault(spout="x").to_json() == {"type": "teapot"}
    with pytest.raises(ValueError, match="unknown fault type"):
        Fault.from_json({"type": "teapot"})  # not in KINDS: the admin API does not know it


async def test_malformed_body(harness: Harness, session: aiohttp.ClientSession) -> None:
    harness.faults.script("POST", "/assistant/assistants", Fault.malformed_body())
    async with session.post(harness.url + "/assistant/assistants", json={"name": "a1"}) as resp:
        assert resp.status == 201
        assert resp.content_type == "application/json"
        raw = await resp.read()
    assert raw.startswith(b'{"name"')  # the real body, truncated
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)
    assert harness.performed == ["POST a1"]


async def test_non_json_status_bodies(harness: Harness, session: aiohttp.ClientSession) -> None:
    harness.faults.script(
        "GET",
        "/assistant/assistants",
        [
            Fault.status(502, body="<html>Bad Gateway</html>", content_type="text/html"),
            Fault.status(503, body=b""),
        ],
    )
    async with session.get(harness.url + "/assistant/assistants") as resp:
        assert (resp.status, resp.content_type) == (502, "text/html")
        assert await resp.text() == "<html>Bad Gateway</html>"
    async with session.get(harness.url + "/assistant/assistants") as resp:
        assert resp.status == 503
        assert await resp.read() == b""


async def test_drop_after_cuts_a_stream(harness: Harness, session: aiohttp.ClientSession) -> None:
    harness.faults.script("GET", "/assistant/chat/stream", [Fault.drop_after(), Fault.drop_after()])
    with pytest.raises((aiohttp.ClientPayloadError, *DISCONNECTED)):
        async with session.get(harness.url + "/assistant/chat/stream") as resp:
            await resp.read()
    assert "stream" in harness.performed


async def test_chaos_on_the_wire_is_reproducible(
    harness: Harness, session: aiohttp.ClientSession
) -> None:
    async def run() -> list[tuple[str, int | None, str | None]]:
        harness.log.clear()
        harness.faults.chaos(
            42,
            rates={"500": 0.2, "503": 0.2, "drop_before": 0.2, "delay": 0.2},
            delay=(0.0, 0.01),
            methods=["POST"],
        )
        for i in range(25):
            try:
                async with session.post(
                    harness.url + "/assistant/assistants", json={"name": f"a{i}"}
                ) as resp:
                    await resp.read()
            except DISCONNECTED:
                pass
        return [(e.path, e.status, e.fault) for e in harness.log.entries]

    first = await run()
    assert first == await run()
    assert {f for _, _, f in first} >= {None, "chaos:status:500", "chaos:drop_before"}
