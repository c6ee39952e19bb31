"""Item 1: client CPU per request and requests per second, against the floor and the official SDK.

Workloads (each at a fixed concurrency, the same worker-pool shape for every implementation):

- ``describe``: N ``GET /assistant/assistants/{name}`` of one existing assistant;
- ``create_delete``: N creates then the N matching deletes (2N requests).

Implementations:

- ``floor``: a bare aiohttp + orjson loop doing the same HTTP (same headers, one
  ``ClientSession``, the same connector limit and timeout), decoding the JSON into dicts and
  building no models: the practical lower bound for any client on aiohttp;
- ``floor again``: a second floor client measured exactly as the others (an A/A control): its
  ratio to the floor is the method's own resolution on the machine of the run;
- ``aiopinecone``: ``AsyncPinecone().assistants`` with its defaults (validation, retries, typed
  models, the adaptive rate governor), **a new client every round**, as a user who makes a
  client per batch gets it: its governor adopts what the process learnt of the project (the
  earlier rounds' clients; ``_governor/_projects.py``) and sees the window they used (the
  clients share one aiohttp session, given with ``session=``, so every implementation starts a
  round with a warm connection pool; the client is built before the round's meter starts);
- ``aiopinecone new project``: the same, each round's client of a **new project**
  (``RateLimits(namespace=...)`` unique per round): its governor starts from the Starter
  guesses and learns within the round (what a client costs that learns from scratch);
- ``aiopinecone learnt``: one default client for every round (its governor learnt the budget in
  the warm-up and the earlier rounds: the steady state of a long-lived client);
- ``aiopinecone off``: one client with ``rate_limits="off"`` (no governor: the rest of the client);
- ``pinecone``: the official SDK's ``AsyncPinecone().assistants`` (httpx), if installed.

The emulator runs in another process, so only the client's own CPU is counted. Implementations
are interleaved round by round; medians are reported with the per-round ratio to the floor.
Rounds are short (500 describes by default, a fraction of a second each), so that the rounds
paired in a ratio see the same machine: on a shared machine the speed drifts within seconds.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

import aiohttp
import orjson

from ._harness import (
    API_KEY,
    EmulatorProcess,
    Meter,
    Runner,
    Sample,
    interleave,
    paired_ratio,
    ratio_interval,
    run_concurrently,
    summarize,
    table,
)

DESCRIBED: Final = "bench-describe"
_PROJECTS: Final = itertools.count()
"""Numbers of the benchmark's projects (``RateLimits.namespace``; one per row of new clients,
one per client of ``aiopinecone new project``)."""
API_VERSION: Final = "2025-10"
TARGET_RATIO: Final = 1.1
GOVERNOR_TARGET: Final = 1.05
"""Issue 11: per-request CPU with the governor on within 5% of the floor."""


class Client(Protocol):
    """What a measured implementation offers."""

    async def describe(self, name: str) -> object: ...
    async def create(self, name: str) -> object: ...
    async def delete(self, name: str) -> object: ...
    async def aclose(self) -> None: ...


def floor_headers(api_key: str = API_KEY, api_version: str = API_VERSION) -> dict[str, str]:
    """The headers aiopinecone sends (same names, same value lengths)."""
    return {
        "Api-Key": api_key,
        "X-Pinecone-Api-Version": api_version,
        "User-Agent": f"aiopinecone/0.1.0 aiohttp/{aiohttp.__version__}",
        "Accept": "application/json",
    }


class FloorClient:
    """A bare aiohttp + orjson loop: no validation, no retries, no models."""

    def __init__(self, url: str, *, max_connections: int = 100) -> None:
        self._base = url + "/assistant/assistants"
        self._headers = floor_headers()
        self._json_headers = {**self._headers, "Content-Type": "application/json"}
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=max_connections, keepalive_timeout=30.0, ttl_dns_cache=300
            ),
            timeout=aiohttp.ClientTimeout(total=120.0, sock_connect=10.0),
        )

    async def _call(self, method: str, url: str, body: bytes | None = None) -> Any:
        headers = self._headers if body is None else self._json_headers
        async with self._session.request(method, url, headers=headers, data=body) as response:
            raw = await response.read()
            if response.status >= 300:
                raise RuntimeError(f"{method} {url}: HTTP {response.status}: {raw[:200]!r}")
            return orjson.loads(raw) if raw else None

    async def describe(self, name: str) -> object:
        return await self._call("GET", f"{self._base}/{name}")

    async def create(self, name: str) -> object:
        return await self._call("POST", self._base, orjson.dumps({"name": name, "region": "us"}))

    async def delete(self, name: str) -> object:
        return await self._call("DELETE", f"{self._base}/{name}")

    async def aclose(self) -> None:
        await self._session.close()


class AiopineconeClient:
    """``aiopinecone.AsyncPinecone().assistants`` with its defaults (100 connections), one client
    for every round (``rate_limits``: passed on, e.g. ``"off"``)."""

    def __init__(self, url: str, *, max_connections: int = 100, rate_limits: Any = None) -> None:
        from aiopinecone import AsyncPinecone

        self._pc = AsyncPinecone(
            api_key=API_KEY,
            host=url,
            api_version=API_VERSION,
            max_connections=max_connections,
            rate_limits=rate_limits,
        )
        self._assistants = self._pc.assistants

    async def describe(self, name: str) -> object:
        return await self._assistants.describe(name=name)

    async def create(self, name: str) -> object:
        return await self._assistants.create(name=name)

    async def delete(self, name: str) -> object:
        await self._assistants.delete(name=name)
        return None

    async def aclose(self) -> None:
        await self._pc.close()


class GovernorOffClient(AiopineconeClient):
    """:class:`AiopineconeClient` with ``rate_limits="off"``: no governor."""

    def __init__(self, url: str, *, max_connections: int = 100) -> None:
        super().__init__(url, max_connections=max_connections, rate_limits="off")


class FreshAiopineconeClient(AiopineconeClient):
    """A new default ``AsyncPinecone`` every round (:meth:`begin_round`), as a user who makes a
    client per batch gets it: its governor starts from what the process learnt of the project
    (the earlier rounds' clients) and counts the window they used. The clients share one
    aiohttp session (``session=``), so the connection pool is as warm as the other
    implementations'. Their project is a namespace of their own (the same for every round):
    the ``aiopinecone learnt`` client, run in the same process, is another project."""

    def __init__(self, url: str, *, max_connections: int = 100) -> None:
        from aiopinecone import AsyncPinecone

        self._url = url
        self._project = f"bench-{next(_PROJECTS)}"
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=max_connections, keepalive_timeout=30.0, ttl_dns_cache=300
            ),
            timeout=aiohttp.ClientTimeout(total=120.0, sock_connect=10.0),
        )
        self._pc = AsyncPinecone(
            api_key=API_KEY,
            host=url,
            api_version=API_VERSION,
            session=self._session,
            rate_limits=self._limits(),
        )
        self._assistants = self._pc.assistants

    def _limits(self) -> Any:
        """The ``rate_limits`` of the next client: the default, in this row's project."""
        import attrs

        from aiopinecone import RateLimits

        return attrs.evolve(RateLimits.default(), namespace=self._project)

    async def begin_round(self) -> None:
        """Close this round's client and make the next one."""
        from aiopinecone import AsyncPinecone

        await self._pc.close()
        self._pc = AsyncPinecone(
            api_key=API_KEY,
            host=self._url,
            api_version=API_VERSION,
            session=self._session,
            rate_limits=self._limits(),
        )
        self._assistants = self._pc.assistants

    async def aclose(self) -> None:
        await self._pc.close()
        await self._session.close()


class NewProjectAiopineconeClient(FreshAiopineconeClient):
    """:class:`FreshAiopineconeClient` of a new project every round (a namespace of its own):
    nothing learnt or counted before, its governor learns from the Starter guesses."""

    def _limits(self) -> Any:
        import attrs

        from aiopinecone import RateLimits

        return attrs.evolve(RateLimits.default(), namespace=f"bench-{next(_PROJECTS)}")


async def begin_round(client: Client) -> None:
    """Start a round: a client that is fresh every round builds its new client."""
    begin = getattr(client, "begin_round", None)
    if begin is not None:
        await begin()


class OfficialClient:
    """The official ``pinecone`` SDK's ``AsyncPinecone().assistants`` (no readiness polling)."""

    def __init__(self, url: str, *, max_connections: int = 100) -> None:
        import pinecone

        self._pc = pinecone.AsyncPinecone(
            api_key=API_KEY, host=url, connection_pool_maxsize=max_connections
        )
        self._assistants = self._pc.assistants

    async def describe(self, name: str) -> object:
        return await self._assistants.describe(name=name)

    async def create(self, name: str) -> object:
        return await self._assistants.create(name=name, timeout=-1)

    async def delete(self, name: str) -> object:
        await self._assistants.delete(name=name, timeout=-1)
        return None

    async def aclose(self) -> None:
        await self._pc.close()


def official_available() -> bool:
    """Whether the official SDK (10.x, with ``AsyncPinecone``) can be imported."""
    try:
        import pinecone
    except ImportError:
        return False
    return hasattr(pinecone, "AsyncPinecone")


FACTORIES: Final[Mapping[str, Callable[..., Client]]] = {
    "floor": FloorClient,
    "floor again": FloorClient,
    "aiopinecone": FreshAiopineconeClient,
    "aiopinecone new project": NewProjectAiopineconeClient,
    "aiopinecone learnt": AiopineconeClient,
    "aiopinecone off": GovernorOffClient,
    "pinecone": OfficialClient,
}
OURS: Final = ("aiopinecone", "aiopinecone new project", "aiopinecone learnt", "aiopinecone off")
"""The rows of aiopinecone (measured against the floor in one phase)."""
CONTROL: Final = "floor again"
"""The A/A control row: a second floor client in the same phase."""


def describe_runner(client: Client, requests: int, concurrency: int) -> Runner:
    """The ``describe`` workload for one client."""

    async def run(_round: int) -> Sample:
        await begin_round(client)
        gc.collect()
        with Meter() as meter:
            await run_concurrently(requests, concurrency, lambda _i: client.describe(DESCRIBED))
        return meter.sample(requests)

    return run


def create_delete_runner(client: Client, tag: str, requests: int, concurrency: int) -> Runner:
    """The ``create_delete`` workload for one client (fresh names every round)."""

    async def run(round_index: int) -> Sample:
        names = [f"cd{round_index}-{tag}-{i}" for i in range(requests)]
        await begin_round(client)
        gc.collect()
        with Meter() as meter:
            await run_concurrently(requests, concurrency, lambda i: client.create(names[i]))
            await run_concurrently(requests, concurrency, lambda i: client.delete(names[i]))
        return meter.sample(2 * requests)

    return run


def _with_server_cpu(runner: Runner, emulator: EmulatorProcess) -> Runner:
    """Also record the emulator's CPU per request (for context: who is the bottleneck)."""

    async def run(round_index: int) -> Sample:
        before = emulator.cpu_seconds()
        sample = await runner(round_index)
        after = emulator.cpu_seconds()
        if before is not None and after is not None and sample.requests:
            sample.extra["server_cpu_us"] = (after - before) / sample.requests * 1e6
        return sample

    return run


def _tag(name: str) -> str:
    """A short tag of an implementation's name (unique among them) for the names it creates."""
    return "".join(word[:3] for word in name.replace(",", " ").split())


async def _warm_up(client: Client, tag: str, concurrency: int) -> None:
    """Open the pool and take the first-call costs (imports, caches) out of the rounds."""
    await run_concurrently(4 * concurrency, concurrency, lambda _i: client.describe(DESCRIBED))
    names = [f"warm-{tag}-{i}" for i in range(concurrency)]
    await run_concurrently(len(names), concurrency, lambda i: client.create(names[i]))
    await run_concurrently(len(names), concurrency, lambda i: client.delete(names[i]))


def _workload_result(
    samples: Mapping[str, list[Sample]], *, requests: int, concurrency: int
) -> dict[str, Any]:
    floor = samples.get("floor", [])
    impls: dict[str, Any] = {}
    for name, runs in samples.items():
        summary = summarize(runs)
        summary["ratio_to_floor"] = paired_ratio(runs, floor) if name != "floor" else 1.0
        interval = ratio_interval(runs, floor) if name != "floor" else None
        summary["ratio_95ci"] = list(interval) if interval is not None else None
        server = [s.extra["server_cpu_us"] for s in runs if "server_cpu_us" in s.extra]
        summary["server_cpu_us_per_request"] = (
            round(sorted(server)[len(server) // 2], 1) if server else None
        )
        impls[name] = summary
    result: dict[str, Any] = {
        "requests": requests,
        "concurrency": concurrency,
        "implementations": impls,
    }
    on, off = samples.get("aiopinecone learnt"), samples.get("aiopinecone off")
    if on and off:
        # What the governor itself adds: one client with it against one without, per round.
        interval = ratio_interval(on, off)
        result["governor_share"] = {
            "ratio": paired_ratio(on, off),
            "ratio_95ci": list(interval) if interval is not None else None,
        }
    return result


WORKLOADS: Final = ("describe", "create_delete")


async def _phase(
    emulator: EmulatorProcess,
    clients: Mapping[str, Client],
    *,
    rounds: int,
    describe_requests: int,
    create_requests: int,
    concurrency: int,
    log: Callable[[str], object],
) -> dict[str, dict[str, list[Sample]]]:
    """Both workloads, the given clients interleaved round by round."""
    log(f"  warming up {', '.join(clients)}")
    for name, client in clients.items():
        await _warm_up(client, _tag(name), concurrency)

    def clear_log() -> None:
        emulator.admin("DELETE", "log")

    out: dict[str, dict[str, list[Sample]]] = {}
    for workload in WORKLOADS:
        total = describe_requests if workload == "describe" else 2 * create_requests
        log(f"  {workload}: {total} requests x {rounds} rounds, {' vs '.join(clients)}")
        runners = {
            name: _with_server_cpu(
                describe_runner(client, describe_requests, concurrency)
                if workload == "describe"
                else create_delete_runner(client, _tag(name), create_requests, concurrency),
                emulator,
            )
            for name, client in clients.items()
        }
        out[workload] = await interleave(runners, rounds, between=clear_log)
    return out


async def run_client_cost(
    emulator: EmulatorProcess,
    *,
    describe_requests: int = 500,
    create_requests: int = 125,
    concurrency: int = 50,
    rounds: int = 160,
    official_rounds: int = 3,
    official: bool = True,
    log: Callable[[str], object] = print,
) -> dict[str, Any]:
    """Measure both workloads for every implementation; JSON-ready results.

    Two phases, so that a client never runs beside another one it is not compared with: the
    floor against aiopinecone for ``rounds`` rounds, then (a fresh floor client) against the
    official SDK, which is two orders of magnitude slower, for ``official_rounds`` rounds. Each
    ratio pairs rounds of the same phase.
    """
    phases: list[dict[str, dict[str, list[Sample]]]] = []
    setup = FloorClient(emulator.url)
    try:
        await setup.create(DESCRIBED)
        pairs: list[tuple[str, ...]] = [("floor", CONTROL, *OURS)]
        if official and official_available() and official_rounds > 0:
            pairs.append(("floor", "pinecone"))
        for index, pair in enumerate(pairs):
            clients: dict[str, Client] = {}
            try:
                for name in pair:
                    clients[name] = FACTORIES[name](emulator.url)
                phases.append(
                    await _phase(
                        emulator,
                        clients,
                        rounds=rounds if index == 0 else official_rounds,
                        describe_requests=describe_requests,
                        create_requests=create_requests,
                        concurrency=concurrency,
                        log=log,
                    )
                )
            finally:
                for client in clients.values():
                    await client.aclose()
        await setup.delete(DESCRIBED)
    finally:
        await setup.aclose()

    results: dict[str, Any] = {}
    for workload in WORKLOADS:
        total = describe_requests if workload == "describe" else 2 * create_requests
        main = _workload_result(phases[0][workload], requests=total, concurrency=concurrency)
        for extra in phases[1:]:
            more = _workload_result(extra[workload], requests=total, concurrency=concurrency)
            main["implementations"]["pinecone"] = more["implementations"]["pinecone"]
        results[workload] = main
        for name, summary in main["implementations"].items():
            log(
                f"    {workload:14} {name:12} {summary['cpu_us_per_request']:8.1f} us/request "
                f"{summary['requests_per_second']:8.0f} req/s  x{summary['ratio_to_floor']}"
            )
    results["target_ratio"] = TARGET_RATIO
    return results


def _ratio_cell(summary: Mapping[str, Any]) -> str | None:
    ratio = summary["ratio_to_floor"]
    if ratio is None:
        return None
    interval = summary.get("ratio_95ci")
    if not interval:
        return f"{ratio:.2f}x"
    return f"{ratio:.2f}x ({interval[0]:.2f}-{interval[1]:.2f})"


def _label(workload: str, result: Mapping[str, Any]) -> str:
    if workload == "describe":
        return f"describe ({result['requests']:,} GETs)"
    return f"create + delete ({result['requests']:,} requests)"


def markdown(results: Mapping[str, Any]) -> str:
    """The item-1 section of RESULTS.md."""
    rows = []
    for workload in ("describe", "create_delete"):
        result = results.get(workload)
        if not result:
            continue
        for name, s in result["implementations"].items():
            rows.append(
                [
                    _label(workload, result),
                    name,
                    s["rounds"],
                    s["cpu_us_per_request"],
                    f"{s['cpu_us_min']:.0f}-{s['cpu_us_max']:.0f}",
                    s["requests_per_second"],
                    _ratio_cell(s),
                    s["server_cpu_us_per_request"],
                ]
            )
    concurrency = next(
        (results[w]["concurrency"] for w in ("describe", "create_delete") if w in results), "?"
    )
    return "\n".join(
        [
            f"Concurrency {concurrency}; client CPU = user + system time of the client process "
            "(the emulator runs in another process). Medians over rounds; the ratio is the "
            "median of per-round ratios to the floor measured in the same round, with its 95% "
            "bootstrap interval. "
            f"Target: aiopinecone <= {results.get('target_ratio', TARGET_RATIO)}x the floor. "
            "`floor again`: a second floor client, an A/A control (what the method reads for "
            "two identical clients); "
            "`aiopinecone`: a new default client every round (it adopts what the earlier "
            "rounds' clients learnt of the project); `aiopinecone new project`: a new client "
            "of a new project every round (its governor learns from scratch); `aiopinecone "
            'learnt`: one client for every round; `aiopinecone off`: `rate_limits="off"`.',
            "",
            table(
                [
                    "workload",
                    "client",
                    "rounds",
                    "client CPU us/request (median)",
                    "range over rounds",
                    "requests/s",
                    "CPU vs floor (95% interval)",
                    "emulator CPU us/request",
                ],
                rows,
            ),
        ]
    )
