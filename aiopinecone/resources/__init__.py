"""``pc.assistants``: one class composed of one mixin per area.

Each mixin lives in its own module and uses ``self._core`` (fixed URLs) and ``self._router``
(an assistant's data plane); see "Core interface" in docs/architecture.md. To add an area, add
its mixin to the bases. A mixin module of a data-plane area imports its models and helpers
inside its methods, so that ``import aiopinecone`` does not load the area (docs/architecture.md,
"Import weight").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._governor import Governor
from .._retry import RetryPolicy
from .._router import Router
from ._chat import ChatMixin
from ._control import NOT_GIVEN, ControlPlaneMixin, NotGiven
from ._evaluation import EvaluationMixin
from ._mcp import MCPEndpoint, McpMixin
from ._provision import ProvisionMixin
from ._uploads import UploadsMixin

if TYPE_CHECKING:
    from .._core import Core
    from ._streams import ChatCompletionStream, ChatStream

__all__ = [
    "NOT_GIVEN",
    "Assistants",
    "ChatCompletionStream",
    "ChatStream",
    "MCPEndpoint",
    "NotGiven",
]


class Assistants(
    ControlPlaneMixin, UploadsMixin, ChatMixin, EvaluationMixin, ProvisionMixin, McpMixin
):
    """Everything about assistants: control plane, files, chat, evaluation, provisioning.

    Reached as ``pc.assistants``; do not create it yourself.
    """

    def __init__(self, core: Core, router: Router | None = None) -> None:
        self._core = core
        self._router = router if router is not None else Router(core)

    @property
    def api_version(self) -> str:
        """The API version every request of this client sends."""
        return self._core.api_version

    @property
    def retry(self) -> RetryPolicy:
        """The client's default retry policy."""
        return self._core.retry

    @property
    def governor(self) -> Governor | None:
        """The rate governor every request goes through (``None`` when it is off)."""
        admission = self._core.admission
        return admission if isinstance(admission, Governor) else None

    def __repr__(self) -> str:
        return f"<Assistants api_version={self._core.api_version!r}>"


def __getattr__(name: str) -> object:
    """The stream classes, loaded with the chat area on first use."""
    if name in ("ChatCompletionStream", "ChatStream"):
        from . import _streams

        return getattr(_streams, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
