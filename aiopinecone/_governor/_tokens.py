"""Input tokens of a chat or context call: estimated before it is sent, learnt from the answers.

Pinecone counts a call's input tokens (``usage.prompt_tokens``) as the messages sent *plus*
what the service adds: its system prompt, the assistant's instructions and the retrieved
context snippets (for context: the prompt that turns the messages into search queries, plus the
snippets). Only the first part is in the request, so an estimate has two parts:

- **the request's own text** (:func:`text_tokens`, pure, no tokenizer): ``ceil(characters /
  CHARS_PER_TOKEN)`` per text (about four characters per token for English with GPT-style
  tokenizers; a tokenizer would be a dependency and cost about a millisecond per call) plus
  ``MESSAGE_OVERHEAD`` tokens per message (role and separators, as in OpenAI's chat format);
- **what the service adds** (:class:`Overhead`, per token class): unknown before the first
  answer, so it starts at ``PRIOR_OVERHEAD`` (the spec's own example answer counts 2506 prompt
  tokens for a one-line question: almost all of it retrieved context); each answer's
  ``usage.prompt_tokens`` minus the text estimate then corrects it (the first answer replaces
  the prior, later ones move it by ``SMOOTHING``), so a project with small files soon
  estimates small calls, one with large snippets large ones.

The estimate only sizes the permit while the call is in flight: the budget keeps the count the
answer reports (``usage.prompt_tokens``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = [
    "CHARS_PER_TOKEN",
    "MESSAGE_OVERHEAD",
    "PRIOR_OVERHEAD",
    "SMOOTHING",
    "Overhead",
    "text_tokens",
]

CHARS_PER_TOKEN: Final = 4.0
MESSAGE_OVERHEAD: Final = 4
PRIOR_OVERHEAD: Final = 2500.0
SMOOTHING: Final = 0.25


def _text(value: object) -> int:
    """Tokens of one text: ``ceil(len / CHARS_PER_TOKEN)``; anything else counts nothing."""
    return math.ceil(len(value) / CHARS_PER_TOKEN) if isinstance(value, str) else 0


def text_tokens(body: Mapping[str, Any]) -> int:
    """The estimated tokens of a chat, chat completions or context request body's own text:
    every message's ``content`` (plus ``MESSAGE_OVERHEAD`` each) and a context ``query``."""
    total = _text(body.get("query"))
    messages = body.get("messages")
    if isinstance(messages, Sequence) and not isinstance(messages, str):
        for message in messages:
            if isinstance(message, Mapping):
                total += MESSAGE_OVERHEAD + _text(message.get("content"))
    return total


class Overhead:
    """What the service adds to a call's own text, learnt from the answers of one token class.

    :meth:`estimate` is the permit's size (never below 1); :meth:`observe` takes the count an
    answer reported against the text estimate the call was sent with.
    """

    __slots__ = ("learnt", "samples", "value")

    def __init__(self, prior: float = PRIOR_OVERHEAD) -> None:
        self.value = float(prior)
        self.learnt = False
        self.samples = 0

    def estimate(self, text: float) -> float:
        """Tokens to reserve for a call whose own text is ``text`` tokens."""
        return max(1.0, text + self.value)

    def observe(self, text: float, counted: float) -> None:
        """An answer counted ``counted`` input tokens for a call of ``text`` estimated tokens."""
        residual = counted - text
        if self.learnt:
            self.value += SMOOTHING * (residual - self.value)
        else:
            self.value, self.learnt = residual, True
        self.samples += 1
