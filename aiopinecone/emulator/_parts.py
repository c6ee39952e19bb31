"""Wiring of the request log, fault injector and rate limiter into the application.

Those three live in ``_requestlog.py``, ``_faults.py`` and ``_ratelimit.py`` (their own owner);
this module only constructs them from the configuration and says where their middleware goes.
"""

from __future__ import annotations

import importlib
from typing import Any

import attrs
from aiohttp import web
from aiohttp.typedefs import Middleware

from ._config import EmulatorConfig


def _optional_module(name: str) -> Any:
    # Until the fault-injection modules land, the emulator runs without them.
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.{name}":
            raise
        return None


@attrs.define(kw_only=True)
class Parts:
    """The pluggable pieces of one emulator and their middleware."""

    log: Any = None
    faults: Any = None
    limiter: Any = None

    @property
    def outer(self) -> tuple[Middleware, ...]:
        """Outermost middleware: the request log sees the final status of everything."""
        return (self.log.middleware,) if self.log is not None else ()

    @property
    def before_auth(self) -> tuple[Middleware, ...]:
        """Faults fire before authentication, like a proxy in front of the API would."""
        return (self.faults.middleware,) if self.faults is not None else ()

    @property
    def after_auth(self) -> tuple[Middleware, ...]:
        """Rate limits count authenticated requests only."""
        return (self.limiter.middleware,) if self.limiter is not None else ()

    def setup_admin(self, app: web.Application) -> None:
        """Register the ``/__emulator/`` admin routes of the parts that have them."""
        admin_module = _optional_module("_admin")
        setup = getattr(admin_module, "setup_admin", None)
        if setup is not None:
            setup(app, self)


def build_parts(config: EmulatorConfig) -> Parts:
    """Construct the log, injector and limiter for ``config``."""
    log_module = _optional_module("_requestlog")
    faults_module = _optional_module("_faults")
    limit_module = _optional_module("_ratelimit")
    return Parts(
        log=log_module.RequestLog() if log_module is not None else None,
        faults=faults_module.FaultInjector() if faults_module is not None else None,
        limiter=(
            limit_module.RateLimiter(config.rate_limits, config.time_scale)
            if limit_module is not None
            else None
        ),
    )
