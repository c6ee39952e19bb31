"""The ``/__emulator/`` admin routes: request log, counters, faults, chaos, rate limits, state.

Everything is JSON. Errors use the API's envelope (400 ``INVALID_ARGUMENT`` for a bad body).
These routes are never faulted, never rate limited, not recorded in the request log (unless the
log was built with ``include_admin=True``) and need no ``Api-Key``: the emulator binds loopback
by default, and a test harness must be able to reset it whatever keys it was given.

==========  ==========================  =====================================================
method      path                        what
==========  ==========================  =====================================================
GET         /__emulator/health          ``{"status": "ok", "requests": total}``
GET         /__emulator/log             ``{"total", "count", "entries": [...]}``; filters as query
                                        parameters: method, path (pattern), status (an int, or
                                        ``none``), op_class, outcome, fault (``true``/``false``
                                        or a label prefix), rate_limited, since (a seq), limit
                                        (the last N matching)
DELETE      /__emulator/log             forget the entries
GET         /__emulator/counters        limits and per-class accepted/rejected counters
DELETE      /__emulator/counters        zero the counters and empty the rate-limit windows
PUT         /__emulator/rate-limits     ``{"limits": "starter" | {class: n}, "time_scale": x,
                                        "buckets": {class: {"rate": r, "burst": b}},
                                        "tokens": {"chat": n, "context": n}}`` (input
                                        tokens per minute)
GET         /__emulator/faults          active scripts and chaos
POST        /__emulator/faults          ``{"method", "path", "faults": [...], "repeat"}`` -> 201
DELETE      /__emulator/faults          remove every script and stop chaos
POST        /__emulator/chaos           ``{"seed", "rates", "paths", "methods", "delay",
                                        "retry_after", "max_consecutive"}``
DELETE      /__emulator/chaos           stop chaos (scripts stay)
GET         /__emulator/state           assistants and their files
DELETE      /__emulator/state           delete every assistant and file at once
POST        /__emulator/reset           state, log, faults, counters: all back to a fresh start
==========  ==========================  =====================================================
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from aiohttp import web

from ._errors import error_response
from ._opclasses import OPERATION_CLASSES
from ._paths import ADMIN_PREFIX
from ._ratelimit import RateLimiter
from ._requestlog import RequestLog
from ._state import STATE_KEY
from ._store import Store, StoreError
from .faults import Fault, FaultInjector

StateDump = Callable[[], Mapping[str, Any] | Awaitable[Mapping[str, Any]]]
StateReset = Callable[[], Awaitable[None] | None]


class _BadRequest(Exception):
    pass


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")


def _bad(message: str) -> web.Response:
    return error_response(400, "INVALID_ARGUMENT", message)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        data = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise _BadRequest(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise _BadRequest("The request body must be a JSON object.")
    return data


def _bool_param(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise _BadRequest(f"Query parameter {name!r} must be true or false.")


def _int_param(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _BadRequest(f"Query parameter {name!r} must be an integer.") from None


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class _Admin:
    def __init__(
        self,
        log: RequestLog,
        faults: FaultInjector,
        limiter: RateLimiter,
        dump_state: StateDump | None,
        reset_state: StateReset | None,
    ) -> None:
        self.log = log
        self.faults = faults
        self.limiter = limiter
        self.dump_state = dump_state
        self.reset_state = reset_state

    async def health(self, request: web.Request) -> web.Response:
        return _json({"status": "ok", "requests": self.log.total})

    async def get_log(self, request: web.Request) -> web.Response:
        q = request.query
        filters: dict[str, Any] = {}
        for name in ("method", "path", "op_class", "outcome"):
            if name in q:
                filters[name] = q[name]
        status_filter: int | None = None
        only_no_status = False
        if "status" in q:
            if q["status"].lower() in ("none", "null"):
                only_no_status = True
            else:
                status_filter = _int_param(q["status"], "status")
        if "fault" in q:
            value = q["fault"]
            filters["fault"] = (
                _bool_param(value, "fault") if value.lower() in ("true", "false") else value
            )
        if "rate_limited" in q:
            filters["rate_limited"] = _bool_param(q["rate_limited"], "rate_limited")
        if "since" in q:
            filters["since"] = _int_param(q["since"], "since")
        limit = _int_param(q["limit"], "limit") if "limit" in q else None
        if limit is not None and limit < 0:
            raise _BadRequest("Query parameter 'limit' must be >= 0.")
        entries = self.log.filter(status=status_filter, **filters)
        if only_no_status:
            entries = [e for e in entries if e.status is None]
        if limit is not None:
            entries = entries[len(entries) - limit :] if limit else []
        return _json(
            {
                "total": self.log.total,
                "count": len(entries),
                "entries": [e.to_json() for e in entries],
            }
        )

    async def clear_log(self, request: web.Request) -> web.Response:
        self.log.clear()
        return _json({"cleared": True})

    async def get_counters(self, request: web.Request) -> web.Response:
        return _json(self.limiter.snapshot())

    async def reset_counters(self, request: web.Request) -> web.Response:
        self.limiter.reset()
        return _json(self.limiter.snapshot())

    async def put_rate_limits(self, request: web.Request) -> web.Response:
        body = await _body(request)
        unknown = set(body) - {"limits", "time_scale", "buckets", "tokens"}
        if unknown:
            raise _BadRequest(f"Unknown field(s): {', '.join(sorted(unknown))}.")
        limits = body.get("limits")
        if limits is not None and not isinstance(limits, str | dict):
            raise _BadRequest(
                "'limits' must be a preset name or an object of operation class to requests "
                f"per minute (classes: {', '.join(OPERATION_CLASSES)})."
            )
        try:
            self.limiter.configure(
                limits,
                time_scale=body.get("time_scale"),
                buckets=body.get("buckets"),
                tokens=body.get("tokens"),
            )
        except (TypeError, ValueError) as exc:
            raise _BadRequest(str(exc)) from None
        return _json(self.limiter.snapshot())

    async def get_faults(self, request: web.Request) -> web.Response:
        return _json(self.faults.snapshot())

    async def post_faults(self, request: web.Request) -> web.Response:
        body = await _body(request)
        unknown = set(body) - {"method", "path", "faults", "repeat"}
        if unknown:
            raise _BadRequest(f"Unknown field(s): {', '.join(sorted(unknown))}.")
        method, path, items = body.get("method", "*"), body.get("path"), body.get("faults")
        repeat = body.get("repeat", False)
        if not isinstance(method, str) or not isinstance(path, str):
            raise _BadRequest("'method' and 'path' must be strings ('path' is required).")
        if not isinstance(items, list) or not items:
            raise _BadRequest("'faults' must be a non-empty list.")
        if not isinstance(repeat, bool):
            raise _BadRequest("'repeat' must be true or false.")
        try:
            faults = [Fault.from_json(item) for item in items]
            script = self.faults.script(method, path, faults, repeat=repeat)
        except (TypeError, ValueError) as exc:
            raise _BadRequest(str(exc)) from None
        return _json(script.to_json(), status=201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.faults.clear()
        return _json(self.faults.snapshot())

    async def post_chaos(self, request: web.Request) -> web.Response:
        body = await _body(request)
        allowed = {"seed", "rates", "paths", "methods", "delay", "retry_after", "max_consecutive"}
        unknown = set(body) - allowed
        if unknown:
            raise _BadRequest(f"Unknown field(s): {', '.join(sorted(unknown))}.")
        if "seed" not in body:
            raise _BadRequest("'seed' is required.")
        kwargs = {k: body[k] for k in allowed - {"seed", "rates", "paths"} if k in body}
        if "rates" in body and not isinstance(body["rates"], dict | None):
            raise _BadRequest("'rates' must be an object of kind to probability.")
        try:
            chaos = self.faults.chaos(body["seed"], body.get("rates"), body.get("paths"), **kwargs)
        except (TypeError, ValueError) as exc:
            raise _BadRequest(str(exc)) from None
        return _json(chaos.to_json())

    async def stop_chaos(self, request: web.Request) -> web.Response:
        self.faults.stop_chaos()
        return _json(self.faults.snapshot())

    async def get_state(self, request: web.Request) -> web.Response:
        if self.dump_state is None:
            return error_response(501, "UNIMPLEMENTED", "This emulator cannot dump its state.")
        return _json(dict(await _maybe_await(self.dump_state())))

    async def delete_state(self, request: web.Request) -> web.Response:
        if self.reset_state is None:
            return error_response(501, "UNIMPLEMENTED", "This emulator cannot reset its state.")
        await _maybe_await(self.reset_state())
        return _json({"reset": True})

    async def reset_all(self, request: web.Request) -> web.Response:
        if self.reset_state is not None:
            await _maybe_await(self.reset_state())
        self.faults.clear()
        self.limiter.reset()
        self.log.clear()
        return _json({"reset": True, "state": self.reset_state is not None})


def _guard(
    handler: Callable[[web.Request], Awaitable[web.Response]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def guarded(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except _BadRequest as exc:
            return _bad(str(exc))

    return guarded


def admin_routes(
    log: RequestLog,
    faults: FaultInjector,
    limiter: RateLimiter,
    *,
    dump_state: StateDump | None = None,
    reset_state: StateReset | None = None,
) -> list[web.RouteDef]:
    """The ``/__emulator/`` routes for these parts (see the module docstring for the table).

    ``dump_state`` returns the JSON-ready state for ``GET /__emulator/state``; ``reset_state``
    empties it (``DELETE /__emulator/state``, ``POST /__emulator/reset``). Either may be a
    coroutine function; without them those routes answer 501.
    """
    admin = _Admin(log, faults, limiter, dump_state, reset_state)
    p = ADMIN_PREFIX
    table: list[tuple[str, str, Callable[[web.Request], Awaitable[web.Response]]]] = [
        ("GET", "health", admin.health),
        ("GET", "log", admin.get_log),
        ("DELETE", "log", admin.clear_log),
        ("GET", "counters", admin.get_counters),
        ("DELETE", "counters", admin.reset_counters),
        ("PUT", "rate-limits", admin.put_rate_limits),
        ("GET", "faults", admin.get_faults),
        ("POST", "faults", admin.post_faults),
        ("DELETE", "faults", admin.clear_faults),
        ("POST", "chaos", admin.post_chaos),
        ("DELETE", "chaos", admin.stop_chaos),
        ("GET", "state", admin.get_state),
        ("DELETE", "state", admin.delete_state),
        ("POST", "reset", admin.reset_all),
    ]
    return [web.route(method, p + name, _guard(fn)) for method, name, fn in table]


def dump_store(store: Store) -> dict[str, Any]:
    """The store as JSON-ready data: ``{"assistants": [{..., "files": [...]}]}``, by name."""
    now = store.now()
    assistants: list[dict[str, Any]] = []
    for a in sorted(store.list_assistants(), key=lambda r: r.name):
        try:
            files = store.list_files(a.name)
        except StoreError:  # deleted meanwhile (another thread)
            continue
        assistants.append(
            {
                "name": a.name,
                "status": a.status(now),
                "instructions": a.instructions,
                "metadata": a.metadata,
                "region": a.region,
                "files": [
                    {
                        "id": f.id,
                        "name": f.name,
                        "status": f.status(now),
                        "metadata": f.metadata,
                        "size": f.size,
                    }
                    for f in files
                ],
            }
        )
    return {"assistants": assistants}


def setup_admin(app: web.Application, parts: Any) -> None:
    """Add the admin routes to the emulator's application (called by its app factory).

    ``parts`` has ``log``, ``faults`` and ``limiter``; the state comes from the application's
    store (its ``reset()`` if it has one; the dump is :func:`dump_store`).
    """
    store = app[STATE_KEY].store
    reset: StateReset | None = getattr(store, "reset", None)
    app.router.add_routes(
        admin_routes(
            parts.log,
            parts.faults,
            parts.limiter,
            dump_state=functools.partial(dump_store, store),
            reset_state=reset,
        )
    )
