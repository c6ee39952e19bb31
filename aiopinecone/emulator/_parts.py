"""Wiring of the request log, fault injector and rate limiter into the application.

Those three live in ``_requestlog.py``, ``faults/`` and ``_ratelimit.py`` (with their admin
routes in ``_admin.py``); this module only builds them from the configuration and says where
their middleware goes.
"""

from __future__ import annotations

import attrs
from aiohttp import web
from aiohttp.typedefs import Middleware

from ._admin import setup_admin
from ._config import EmulatorConfig
from ._ratelimit import RateLimiter
from ._requestlog import RequestLog
from .faults import FaultInjector


@attrs.define(kw_only=True)
class Parts:
    """The pluggable pieces of one emulator and their middleware."""

    log: RequestLog
    faults: FaultInjector
    limiter: RateLimiter

    @property
    def outer(self) -> tuple[Middleware, ...]:
        """Outermost middleware: the request log sees the final status of everything."""
        return (self.log.middleware,)

    @property
    def before_auth(self) -> tuple[Middleware, ...]:
        """Faults fire before authentication, like a proxy in front of the API would."""
        return (self.faults.middleware,)

    @property
    def after_auth(self) -> tuple[Middleware, ...]:
        """Rate limits count authenticated requests only."""
        return (self.limiter.middleware,)

    def setup_admin(self, app: web.Application) -> None:
        """Register the ``/__emulator/`` admin routes."""
        setup_admin(app, self)


def build_parts(config: EmulatorConfig) -> Parts:
    """Construct the log, injector and limiter for ``config``."""
    return Parts(
        log=RequestLog(),
        faults=FaultInjector(),
        limiter=RateLimiter(config.rate_limits, config.time_scale),
    )
