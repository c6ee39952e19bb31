"""What every handler can reach through the application: config, store, public URL."""

from __future__ import annotations

import attrs
from aiohttp import web

from ._config import EmulatorConfig
from ._store import Store


@attrs.define(kw_only=True)
class EmulatorState:
    """Shared by the handlers of one emulator application."""

    config: EmulatorConfig
    store: Store
    url: str = ""
    """The origin clients reach the emulator at (the ``host`` of every assistant)."""


STATE_KEY = web.AppKey("aiopinecone_emulator_state", EmulatorState)


def state_of(request: web.Request) -> EmulatorState:
    """The emulator state of the application serving ``request``."""
    return request.app[STATE_KEY]
