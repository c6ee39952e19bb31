"""Fault injection: scripted per-route fault sequences and a seeded, reproducible chaos mode.

Scripts: ``faults.script("POST", "/assistant/assistants", [Fault.status(503)])``
queues faults for the requests matching a method (``"*"``: any) and a path pattern; each matching
request consumes the next fault of the first script (in the order they were added) that still has
one; an exhausted script is removed, unless ``repeat=True`` (then it cycles forever).

Path patterns match the whole request path (no query string; a trailing ``/`` is ignored):
``{name}`` matches one non-empty segment, ``*`` any text inside one segment, ``**`` anything
including ``/``; every other character is literal. ``/assistant/files/{name}/*`` matches
``/assistant/files/a1/f-9``; ``/assistant/**`` matches every API route.

Chaos: ``faults.chaos(seed=7)`` injects a mix of faults (see :data:`CHAOS_KINDS`) into matching
requests that no script claims. The fault a request gets is a pure function of the seed, its
method, its path and how many earlier requests with the same method and path chaos has seen: the
same seed and the same request order give the same faults, and concurrent requests to different
paths cannot change each other's faults.

Faults act before authentication (like a proxy in front of the API) and never on the admin
routes under ``/__emulator/``. A dropped connection is closed without a byte of response: a client
sees ``aiohttp.ServerDisconnectedError`` (or ``ClientOSError`` if it was still sending). Note
that aiohttp's client silently resends an idempotent request (GET, PUT, DELETE...) once after
such a disconnection: one drop is invisible to it, two in a row are not.

``Fault.delay(s)`` waits before performing; if the client gives up meanwhile, aiohttp fails the
request body, so a request with a body is then not performed (the log says
``client_disconnected``) while one without (GET, DELETE) is. ``Fault.delay(s, after=True)``
performs first: the slow answer to a request that did happen. A fault that acts after performing
on a response already streaming (SSE) can only cut the connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, Final

import attrs
import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from ._errors import ApiError, envelope_bytes, error_response

_log = logging.getLogger("aiopinecone.emulator")

ADMIN_PREFIX: Final = "/__emulator/"

FAULT_KEY: Final = web.RequestKey("aiopinecone_emulator_fault", str)
"""Request key: the label of the fault applied to the request (absent: none)."""

DROPPED_KEY: Final = web.RequestKey("aiopinecone_emulator_dropped", bool)
"""Request key: True when the fault closed the connection instead of answering."""

RETRY_AFTER_MS_HEADER: Final = "X-Emulator-Retry-After-Ms"

STATUS: Final = "status"
PERFORM_THEN_STATUS: Final = "perform_then_status"
DROP_BEFORE: Final = "drop_before"
DROP_AFTER: Final = "drop_after"
DELAY: Final = "delay"
DELAY_AFTER: Final = "delay_after"
MALFORMED_BODY: Final = "malformed_body"
PASSTHROUGH: Final = "passthrough"
FAULT_KINDS: Final = (
    STATUS,
    PERFORM_THEN_STATUS,
    DROP_BEFORE,
    DROP_AFTER,
    DELAY,
    DELAY_AFTER,
    MALFORMED_BODY,
    PASSTHROUGH,
)

_DEFAULT_CODES: Final = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "UNKNOWN",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_PROXY_502_BODY: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


def _check_status(code: int, *, has_body: bool) -> int:
    if isinstance(code, bool) or not isinstance(code, int):
        raise TypeError(f"a fault status must be an int, got {code!r}")
    low = 200 if has_body else 400
    if not low <= code <= 599:
        raise ValueError(
            f"a fault status must be in {low}..599"
            + ("" if has_body else " (give body= for other statuses)")
            + f", got {code}"
        )
    return code


def _check_retry_after(value: float | str | None) -> float | str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"retry_after must be seconds or a raw header string, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"retry_after must be finite and >= 0, got {value!r}")
    return value


def _check_seconds(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a delay must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"a delay must be finite and >= 0 seconds, got {value!r}")
    return float(value)


def retry_after_headers(value: float | str | None) -> dict[str, str]:
    """``Retry-After`` for a number of seconds (rounded up) plus the exact milliseconds.

    A string is sent verbatim as ``Retry-After`` (an HTTP-date, or garbage to test a client).
    """
    if value is None:
        return {}
    if isinstance(value, str):
        return {"Retry-After": value}
    return {
        "Retry-After": str(math.ceil(value)),
        RETRY_AFTER_MS_HEADER: str(math.ceil(value * 1000)),
    }


def _frozen_headers(value: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    if not value:
        return ()
    return tuple((str(k), str(v)) for k, v in value.items())


@attrs.frozen(kw_only=True)
class Fault:
    """One injected fault. Build it with the class methods (``Fault.status(503)``...)."""

    kind: str
    http_status: int | None = None
    error_code: str | None = None
    message: str | None = None
    retry_after: float | str | None = None
    body: bytes | None = None
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0

    # -- constructors ---------------------------------------------------------------------

    @classmethod
    def status(
        cls,
        code: int,
        error_code: str | None = None,
        message: str | None = None,
        retry_after: float | str | None = None,
        *,
        body: bytes | str | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer ``code`` without performing the request.

        The body is the error envelope (``error_code`` defaults from the status: 429
        ``RESOURCE_EXHAUSTED``, 500 ``UNKNOWN``, 503 ``UNAVAILABLE``...), or ``body`` verbatim
        (``content_type`` defaults to ``text/plain``; ``b""`` for an empty body). ``retry_after``
        in seconds sends ``Retry-After`` rounded up to whole seconds and
        ``X-Emulator-Retry-After-Ms``; a string is sent verbatim (e.g. an HTTP-date).
        """
        return cls._status(
            STATUS, code, error_code, message, retry_after, body, content_type, headers
        )

    @classmethod
    def perform_then_status(
        cls,
        code: int,
        error_code: str | None = None,
        message: str | None = None,
        retry_after: float | str | None = None,
        *,
        body: bytes | str | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Perform the request (its state change happens), then answer ``code`` instead.

        Simulates a lost response: e.g. a create that succeeded although the client saw a 500.
        Arguments as for :meth:`status`.
        """
        return cls._status(
            PERFORM_THEN_STATUS, code, error_code, message, retry_after, body, content_type, headers
        )

    after = perform_then_status
    """Alias of :meth:`perform_then_status`."""

    @classmethod
    def drop_before(cls) -> Fault:
        """Close the connection without performing the request or answering."""
        return cls(kind=DROP_BEFORE)

    @classmethod
    def drop_after(cls) -> Fault:
        """Perform the request, then close the connection without answering."""
        return cls(kind=DROP_AFTER)

    @classmethod
    def delay(cls, seconds: float, *, after: bool = False) -> Fault:
        """Wait ``seconds`` (real time) then perform the request normally.

        With ``after=True`` the request is performed first and the answer is held back instead
        (a slow response whose state change already happened).
        """
        return cls(kind=DELAY_AFTER if after else DELAY, seconds=_check_seconds(seconds))

    @classmethod
    def malformed_body(cls, body: bytes | str | None = None) -> Fault:
        """Perform the request, then answer its status with a body that is not valid JSON.

        The default body is the real body cut in half (truncated JSON); ``body`` replaces it.
        """
        raw = body.encode() if isinstance(body, str) else body
        return cls(kind=MALFORMED_BODY, body=raw)

    @classmethod
    def passthrough(cls) -> Fault:
        """No fault: the request is served normally (a placeholder in a sequence)."""
        return cls(kind=PASSTHROUGH)

    @classmethod
    def _status(
        cls,
        kind: str,
        code: int,
        error_code: str | None,
        message: str | None,
        retry_after: float | str | None,
        body: bytes | str | None,
        content_type: str | None,
        headers: Mapping[str, str] | None,
    ) -> Fault:
        raw = body.encode() if isinstance(body, str) else body
        if raw is not None and not isinstance(raw, bytes):
            raise TypeError(f"a fault body must be bytes or str, got {body!r}")
        return cls(
            kind=kind,
            http_status=_check_status(code, has_body=raw is not None),
            error_code=error_code,
            message=message,
            retry_after=_check_retry_after(retry_after),
            body=raw,
            content_type=content_type,
            headers=_frozen_headers(headers),
        )

    # -- JSON form (admin API) ------------------------------------------------------------

    @classmethod
    def from_json(cls, data: object) -> Fault:
        """Build a fault from its JSON form (see :meth:`to_json`); an int is ``status``.

        Raises ``ValueError``/``TypeError`` with a message fit for a 400 answer.
        """
        if isinstance(data, int) and not isinstance(data, bool):
            return cls.status(data)
        if isinstance(data, str) and data in (DROP_BEFORE, DROP_AFTER, PASSTHROUGH, MALFORMED_BODY):
            data = {"type": data}
        if not isinstance(data, dict):
            raise TypeError(f"a fault must be an object with a 'type', got {data!r:.80}")
        kind = data.get("type")
        allowed = _JSON_FIELDS.get(kind) if isinstance(kind, str) else None
        if allowed is None:
            raise ValueError(
                f"unknown fault type {kind!r:.40}: use one of {', '.join(_JSON_TYPES)}"
            )
        unknown = set(data) - allowed - {"type"}
        if unknown:
            raise ValueError(f"unknown field(s) for a {kind} fault: {', '.join(sorted(unknown))}")
        if kind in (STATUS, PERFORM_THEN_STATUS):
            if "status" not in data:
                raise ValueError(f"a {kind} fault needs 'status'")
            headers = data.get("headers")
            if headers is not None and not (
                isinstance(headers, dict)
                and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
            ):
                raise TypeError("'headers' must be an object of strings")
            for name in ("code", "message", "body", "content_type"):
                if data.get(name) is not None and not isinstance(data[name], str):
                    raise TypeError(f"'{name}' must be a string")
            return cls._status(
                kind,
                data["status"],
                data.get("code"),
                data.get("message"),
                data.get("retry_after"),
                data.get("body"),
                data.get("content_type"),
                headers,
            )
        if kind in (DELAY, DELAY_AFTER):
            return cls.delay(
                data.get("seconds", 0.0), after=kind == DELAY_AFTER or bool(data.get("after"))
            )
        if kind == MALFORMED_BODY:
            body = data.get("body")
            if body is not None and not isinstance(body, str):
                raise TypeError("'body' must be a string")
            return cls.malformed_body(body)
        return cls(kind=str(kind))

    def to_json(self) -> dict[str, Any]:
        """The JSON form: ``{"type": kind, ...}`` with only the fields that matter."""
        out: dict[str, Any] = {"type": self.kind}
        if self.kind in (STATUS, PERFORM_THEN_STATUS):
            out["status"] = self.http_status
            for name, value in (
                ("code", self.error_code),
                ("message", self.message),
                ("retry_after", self.retry_after),
                ("content_type", self.content_type),
            ):
                if value is not None:
                    out[name] = value
            if self.body is not None:
                out["body"] = self.body.decode(errors="replace")
            if self.headers:
                out["headers"] = dict(self.headers)
        elif self.kind in (DELAY, DELAY_AFTER):
            out["seconds"] = self.seconds
        elif self.kind == MALFORMED_BODY and self.body is not None:
            out["body"] = self.body.decode(errors="replace")
        return out

    def describe(self) -> str:
        """A short label, as the request log records it: ``status:503``, ``drop_after``..."""
        if self.kind in (STATUS, PERFORM_THEN_STATUS):
            return f"{self.kind}:{self.http_status}"
        if self.kind in (DELAY, DELAY_AFTER):
            return f"{self.kind}:{self.seconds:g}"
        return self.kind

    # -- applying it ----------------------------------------------------------------------

    def response(self) -> web.Response:
        """The response of a ``status``/``perform_then_status`` fault (a new object each time)."""
        status = self.http_status
        assert status is not None  # set by every constructor of these kinds
        headers = retry_after_headers(self.retry_after)
        headers.update(self.headers)
        if self.body is not None:
            return web.Response(
                status=status,
                body=self.body,
                content_type=self.content_type or "text/plain",
                headers=headers,
            )
        code = self.error_code or _DEFAULT_CODES.get(status, "UNKNOWN")
        message = self.message or f"{_reason(status)} (fault injected by the emulator)"
        return web.Response(
            status=status,
            body=envelope_bytes(status, code, message),
            content_type=self.content_type or "application/json",
            headers=headers,
        )


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_JSON_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    STATUS: frozenset(
        {"status", "code", "message", "retry_after", "body", "content_type", "headers"}
    ),
    PERFORM_THEN_STATUS: frozenset(
        {"status", "code", "message", "retry_after", "body", "content_type", "headers"}
    ),
    DROP_BEFORE: frozenset(),
    DROP_AFTER: frozenset(),
    DELAY: frozenset({"seconds", "after"}),
    DELAY_AFTER: frozenset({"seconds"}),
    MALFORMED_BODY: frozenset({"body"}),
    PASSTHROUGH: frozenset(),
}
_JSON_TYPES: Final = tuple(_JSON_FIELDS)


# -- path patterns ----------------------------------------------------------------------------

_TOKENS: Final = re.compile(r"(\{[^{}/]*\}|\*\*|\*)")


def compile_path_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a path pattern (``{name}``, ``*``, ``**`` wildcards; see the module docstring)."""
    if not isinstance(pattern, str) or not pattern.startswith("/"):
        raise ValueError(f"a path pattern must start with '/', got {pattern!r:.80}")
    parts: list[str] = []
    for token in _TOKENS.split(pattern.rstrip("/") or "/"):
        if not token:
            continue
        if token == "**":  # noqa: S105 - not a password
            parts.append(".*")
        elif token == "*":  # noqa: S105
            parts.append("[^/]*")
        elif token.startswith("{"):
            parts.append("[^/]+")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts) + "/?")


def _check_method(method: str) -> str:
    if not isinstance(method, str) or not method or not (method == "*" or method.isalpha()):
        raise ValueError(f"a method must be an HTTP method name or '*', got {method!r:.40}")
    return method.upper()


class Script:
    """A fault sequence bound to a method and a path pattern (:meth:`FaultInjector.script`)."""

    def __init__(self, method: str, pattern: str, faults: Sequence[Fault], *, repeat: bool) -> None:
        self.method = _check_method(method)
        self.pattern = pattern
        self._regex = compile_path_pattern(pattern)
        self.faults: tuple[Fault, ...] = tuple(faults)
        for fault in self.faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"a script holds Fault objects, got {fault!r:.80}")
        if not self.faults:
            raise ValueError("a script needs at least one fault")
        self.repeat = repeat
        self.consumed = 0
        """How many requests this script has claimed."""

    @property
    def remaining(self) -> int | None:
        """Faults left (None for a repeating script)."""
        return None if self.repeat else len(self.faults) - self.consumed

    @property
    def exhausted(self) -> bool:
        """Whether every fault was consumed (never for a repeating script)."""
        return not self.repeat and self.consumed >= len(self.faults)

    def matches(self, method: str, path: str) -> bool:
        """Whether the script applies to ``method path``."""
        return (self.method == "*" or self.method == method) and (
            self._regex.fullmatch(path) is not None
        )

    def take(self) -> Fault:
        """Consume the next fault."""
        fault = self.faults[self.consumed % len(self.faults)]
        self.consumed += 1
        return fault

    def to_json(self) -> dict[str, Any]:
        """JSON form, as ``GET /__emulator/faults`` shows it."""
        return {
            "method": self.method,
            "path": self.pattern,
            "faults": [f.to_json() for f in self.faults],
            "repeat": self.repeat,
            "consumed": self.consumed,
            "remaining": self.remaining,
        }

    def __repr__(self) -> str:
        return f"Script({self.method} {self.pattern}, consumed={self.consumed}/{len(self.faults)})"


# -- chaos --------------------------------------------------------------------------------------

CHAOS_KINDS: Final = (
    "429",
    "429_no_retry_after",
    "500",
    "502",
    "503",
    "500_after",
    "drop_before",
    "drop_after",
    "delay",
)
"""What chaos injects: ``429`` (with ``Retry-After``), ``429_no_retry_after``, ``500``, ``502`` (an
HTML proxy page, not JSON), ``503``, ``500_after`` (performed, then 500: a lost response),
``drop_before``, ``drop_after`` (performed, then the connection is closed), ``delay`` (slow, then
performed normally)."""

DEFAULT_CHAOS_RATES: Final[Mapping[str, float]] = {
    "429": 0.03,
    "429_no_retry_after": 0.02,
    "500": 0.02,
    "502": 0.02,
    "503": 0.02,
    "500_after": 0.02,
    "drop_before": 0.02,
    "drop_after": 0.02,
    "delay": 0.03,
}
"""The default mix: 20% of requests get a fault."""

_FIXED_CHAOS_FAULTS: Final = {
    "429_no_retry_after": Fault.status(429, message="Too many requests (emulator chaos)."),
    "500": Fault.status(500, message="Internal server error (emulator chaos)."),
    "502": Fault.status(502, body=_PROXY_502_BODY, content_type="text/html"),
    "503": Fault.status(503, message="Service unavailable (emulator chaos)."),
    "500_after": Fault.perform_then_status(500, message="Internal server error (emulator chaos)."),
    "drop_before": Fault.drop_before(),
    "drop_after": Fault.drop_after(),
}


def _pair(value: object, name: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise TypeError(f"{name} must be a (low, high) pair, got {value!r:.60}")
    low, high = (_check_seconds(v) for v in value)
    if low > high:
        raise ValueError(f"{name} must have low <= high, got {value!r}")
    return low, high


@attrs.frozen(kw_only=True)
class Chaos:
    """A seeded chaos configuration (what :meth:`FaultInjector.chaos` returns)."""

    seed: int
    rates: Mapping[str, float]
    paths: tuple[str, ...]
    methods: tuple[str, ...] | None
    delay: tuple[float, float]
    retry_after: tuple[int, int]
    max_consecutive: int | None

    def to_json(self) -> dict[str, Any]:
        """JSON form (the body ``POST /__emulator/chaos`` accepts)."""
        return {
            "seed": self.seed,
            "rates": dict(self.rates),
            "paths": list(self.paths),
            "methods": list(self.methods) if self.methods is not None else None,
            "delay": list(self.delay),
            "retry_after": list(self.retry_after),
            "max_consecutive": self.max_consecutive,
        }


class _ChaosEngine:
    """Chaos state: the configuration compiled once, plus per-(method, path) occurrence counts."""

    def __init__(self, chaos: Chaos) -> None:
        self.config = chaos
        self._prefix = f"{chaos.seed}\x1f".encode()
        self._patterns = tuple(compile_path_pattern(p) for p in chaos.paths)
        self._methods = frozenset(chaos.methods) if chaos.methods is not None else None
        thresholds: list[tuple[float, str]] = []
        total = 0.0
        for kind in CHAOS_KINDS:
            rate = chaos.rates.get(kind, 0.0)
            if rate > 0:
                total += rate
                thresholds.append((total, kind))
        self._thresholds = tuple(thresholds)
        self._seen: dict[tuple[str, str], int] = {}
        self._streak: dict[tuple[str, str], int] = {}
        self.injected = 0

    def pick(self, method: str, path: str) -> Fault | None:
        if self._methods is not None and method not in self._methods:
            return None
        if not any(p.fullmatch(path) for p in self._patterns):
            return None
        key = (method, path)
        n = self._seen.get(key, 0)
        self._seen[key] = n + 1
        digest = hashlib.blake2b(
            self._prefix + f"{method}\x1f{path}\x1f{n}".encode(), digest_size=16
        ).digest()
        u = int.from_bytes(digest[:8], "big") / 2.0**64
        v = int.from_bytes(digest[8:], "big") / 2.0**64
        kind = next((k for limit, k in self._thresholds if u < limit), None)
        cap = self.config.max_consecutive
        if kind is not None and cap is not None and self._streak.get(key, 0) >= cap:
            kind = None
        if kind is None:
            self._streak.pop(key, None)
            return None
        self._streak[key] = self._streak.get(key, 0) + 1
        self.injected += 1
        if kind == "429":
            low, high = self.config.retry_after
            seconds = low + min(int(v * (high - low + 1)), high - low)
            return Fault.status(
                429, message="Too many requests (emulator chaos).", retry_after=seconds
            )
        if kind == "delay":
            low_d, high_d = self.config.delay
            return Fault.delay(low_d + v * (high_d - low_d))
        return _FIXED_CHAOS_FAULTS[kind]


def make_chaos(
    seed: int,
    rates: Mapping[str, float] | None = None,
    paths: Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    delay: Sequence[float] = (0.05, 0.5),
    retry_after: Sequence[int] = (0, 2),
    max_consecutive: int | None = None,
) -> Chaos:
    """Validate chaos parameters (see :meth:`FaultInjector.chaos`)."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"the chaos seed must be an int, got {seed!r:.40}")
    if not 0 <= seed < 2**63:  # so that it survives JSON (the admin API) unchanged
        raise ValueError(f"the chaos seed must be in 0..2**63-1, got {seed}")
    checked_rates: dict[str, float] = {}
    for kind, rate in (DEFAULT_CHAOS_RATES if rates is None else rates).items():
        if kind not in CHAOS_KINDS:
            raise ValueError(f"unknown chaos kind {kind!r:.40}: use {', '.join(CHAOS_KINDS)}")
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise ValueError(f"the rate of {kind} must be a number in [0, 1], got {rate!r:.40}")
        checked_rates[kind] = float(rate)
    if sum(checked_rates.values()) > 1.0 + 1e-9:
        raise ValueError("chaos rates must add up to at most 1")
    path_list = ("/assistant/**",) if paths is None else tuple(paths)
    if isinstance(paths, str):
        raise TypeError("paths must be a list of patterns, not a string")
    if not path_list:
        raise ValueError("chaos needs at least one path pattern")
    for pattern in path_list:
        compile_path_pattern(pattern)
    if isinstance(methods, str):
        raise TypeError("methods must be a list of method names, not a string")
    method_list = tuple(_check_method(m) for m in methods) if methods is not None else None
    low_r, high_r = _pair(retry_after, "retry_after")
    if low_r != int(low_r) or high_r != int(high_r):
        raise ValueError(f"retry_after bounds must be whole seconds, got {retry_after!r}")
    if max_consecutive is not None and (
        isinstance(max_consecutive, bool)
        or not isinstance(max_consecutive, int)
        or max_consecutive < 1
    ):
        raise ValueError(
            f"max_consecutive must be an int >= 1 or None, got {max_consecutive!r:.40}"
        )
    return Chaos(
        seed=seed,
        rates=checked_rates,
        paths=path_list,
        methods=method_list,
        delay=_pair(delay, "delay"),
        retry_after=(int(low_r), int(high_r)),
        max_consecutive=max_consecutive,
    )


# -- the injector -------------------------------------------------------------------------------


class FaultInjector:
    """Scripted faults and seeded chaos, applied by :attr:`middleware`.

    ``script()`` queues faults for matching requests; ``chaos()`` turns on a reproducible random
    mix for the requests no script claims; ``clear()`` removes both.
    """

    def __init__(self) -> None:
        # The emulator may serve from its own thread while a test scripts faults from another.
        self._lock = threading.Lock()
        self._scripts: list[Script] = []
        self._chaos: _ChaosEngine | None = None
        self.applied = 0
        """How many faults were applied (passthroughs not counted), since start or ``clear()``."""

    @property
    def scripts(self) -> tuple[Script, ...]:
        """The scripts still active, in matching order."""
        return tuple(self._scripts)

    @property
    def chaos_config(self) -> Chaos | None:
        """The chaos configuration in force, if any."""
        return self._chaos.config if self._chaos is not None else None

    def script(
        self,
        method: str,
        path_pattern: str,
        faults: Fault | Iterable[Fault],
        *,
        repeat: bool = False,
    ) -> Script:
        """Queue ``faults`` for successive requests matching ``method`` and ``path_pattern``.

        ``method`` is an HTTP method or ``"*"``. Returns the script (``.consumed``,
        ``.remaining``). Scripts match in the order they were added.
        """
        sequence = (faults,) if isinstance(faults, Fault) else tuple(faults)
        script = Script(method, path_pattern, sequence, repeat=repeat)
        with self._lock:
            self._scripts.append(script)
        return script

    def chaos(
        self,
        seed: int,
        rates: Mapping[str, float] | None = None,
        paths: Iterable[str] | None = None,
        *,
        methods: Iterable[str] | None = None,
        delay: Sequence[float] = (0.05, 0.5),
        retry_after: Sequence[int] = (0, 2),
        max_consecutive: int | None = None,
    ) -> Chaos:
        """Inject a reproducible random mix of faults (replaces any previous chaos).

        ``rates`` maps each of :data:`CHAOS_KINDS` to the probability that a request gets it
        (default :data:`DEFAULT_CHAOS_RATES`, 20% in all; the sum must be <= 1). ``paths``:
        patterns chaos applies to (default ``["/assistant/**"]``, every API route); ``methods``:
        the methods it applies to (default all). ``delay``: the (low, high) seconds of a
        ``delay`` fault; ``retry_after``: the (low, high) whole seconds of a 429's
        ``Retry-After``. ``max_consecutive``: after that many faults in a row on one method and
        path the next request there is spared (None: no cap), so a client with enough retries
        always gets through.
        """
        config = make_chaos(seed, rates, paths, methods, delay, retry_after, max_consecutive)
        engine = _ChaosEngine(config)
        with self._lock:
            self._chaos = engine
        return config

    def stop_chaos(self) -> None:
        """Turn chaos off (scripts stay)."""
        with self._lock:
            self._chaos = None

    def clear(self) -> None:
        """Remove every script and turn chaos off."""
        with self._lock:
            self._scripts.clear()
            self._chaos = None
            self.applied = 0

    def next_fault(self, method: str, path: str) -> tuple[Fault, str] | None:
        """Pick (and consume) the fault for one request: ``(fault, log label)`` or None."""
        with self._lock:
            return self._next_fault(method, path)

    def _next_fault(self, method: str, path: str) -> tuple[Fault, str] | None:
        for index, script in enumerate(self._scripts):
            if script.matches(method, path):
                fault = script.take()
                if script.exhausted:
                    del self._scripts[index]
                if fault.kind == PASSTHROUGH:
                    return None
                self.applied += 1
                return fault, fault.describe()
        if self._chaos is not None:
            fault_or_none = self._chaos.pick(method, path)
            if fault_or_none is not None:
                self.applied += 1
                return fault_or_none, "chaos:" + fault_or_none.describe()
        return None

    def snapshot(self) -> dict[str, Any]:
        """Scripts and chaos as JSON-ready data (what ``GET /__emulator/faults`` returns)."""
        with self._lock:
            chaos = self._chaos
            return {
                "scripts": [s.to_json() for s in self._scripts],
                "chaos": chaos.config.to_json() if chaos is not None else None,
                "chaos_injected": chaos.injected if chaos is not None else 0,
                "applied": self.applied,
            }

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """aiohttp middleware: apply the next scripted or chaos fault, if any."""
        if not self._scripts and self._chaos is None:
            return await handler(request)
        path = request.path
        if path.startswith(ADMIN_PREFIX):
            return await handler(request)
        chosen = self.next_fault(request.method, path)
        if chosen is None:
            return await handler(request)
        fault, label = chosen
        request[FAULT_KEY] = label
        return await apply_fault(fault, request, handler)


async def apply_fault(fault: Fault, request: web.Request, handler: Handler) -> web.StreamResponse:
    """Serve ``request`` through ``handler`` with ``fault`` applied."""
    kind = fault.kind
    if kind == STATUS:
        return fault.response()
    if kind == DROP_BEFORE:
        return drop_connection(request)
    if kind == DELAY:
        await asyncio.sleep(fault.seconds)
        return await handler(request)
    if kind == DELAY_AFTER:
        try:
            response = await handler(request)
        except Exception:
            await asyncio.sleep(fault.seconds)
            raise
        await asyncio.sleep(fault.seconds)
        return response
    if kind == PASSTHROUGH:
        return await handler(request)
    # The rest perform the request first.
    performed = await _perform(request, handler)
    if kind == DROP_AFTER or (performed is not None and performed.prepared):
        # A streamed response already sent bytes: the only fault left is to cut it off.
        return drop_connection(request)
    if kind == PERFORM_THEN_STATUS:
        return fault.response()
    if performed is None:  # the handler crashed; answer as the error middleware would
        return error_response(500, "UNKNOWN", "Internal server error")
    return malformed(performed, fault.body)


async def _perform(request: web.Request, handler: Handler) -> web.StreamResponse | None:
    """Run the handler for its effect and return its answer as a response (None if it crashed)."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(
            exc.status, exc.code, exc.message, details=exc.details, headers=exc.headers
        )
    except web.HTTPException as exc:
        return web.Response(status=exc.status, text=exc.text or "")
    except Exception:
        _log.exception("emulator handler failed under a fault: %s %s", request.method, request.path)
        return None


def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the client's connection without a response; mark the request as dropped.

    The transport is closed before anything is written, so aiohttp's attempt to send the
    returned placeholder fails as a client disconnection, which it ignores quietly.
    """
    request[DROPPED_KEY] = True
    transport = request.transport
    if transport is not None:
        transport.close()
    return web.Response(status=500)


def malformed(response: web.StreamResponse, body: bytes | None) -> web.StreamResponse:
    """``response`` with its body replaced by invalid JSON (the truncated original by default)."""
    if not isinstance(response, web.Response):
        return response
    if body is None:
        original = response.body if isinstance(response.body, bytes) else b""
        body = _truncated(original)
    headers = {
        k: v
        for k, v in response.headers.items()
        if k.lower() not in ("content-length", "content-type", "content-encoding")
    }
    return web.Response(
        status=response.status,
        body=body,
        headers=headers,
        content_type="application/json",
    )


def _truncated(original: bytes) -> bytes:
    cut = original[: len(original) // 2]
    try:
        orjson.loads(cut)
    except orjson.JSONDecodeError:
        return cut
    return b'{"truncated": '
