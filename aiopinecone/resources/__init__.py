"""``pc.assistants``: one class composed of one mixin per area.

Each mixin lives in its own module, declares ``_core: Core`` and uses only ``self._core``
(see "Core interface" in docs/architecture.md). To add an area, add its mixin to the bases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._chat import ChatCompletionStream, ChatMixin, ChatStream
from ._control import NOT_GIVEN, ControlPlaneMixin, NotGiven
from ._evaluation import EvaluationMixin
from ._files import FilesMixin
from ._provision import ProvisionMixin

if TYPE_CHECKING:
    from .._core import Core

__all__ = ["NOT_GIVEN", "Assistants", "ChatCompletionStream", "ChatStream", "NotGiven"]


class Assistants(ControlPlaneMixin, FilesMixin, ChatMixin, EvaluationMixin, ProvisionMixin):
    """Everything about assistants: control plane, files, chat, evaluation, provisioning.

    Reached as ``pc.assistants``; do not create it yourself.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    def __repr__(self) -> str:
        return f"<Assistants api_version={self._core.api_version!r}>"
