"""Evaluation models: the alignment metrics of an answer against a ground truth."""

from __future__ import annotations

from typing import Final

import attrs

from .chat import Usage

__all__ = [
    "AlignmentMetrics",
    "AlignmentReasoning",
    "AlignmentResult",
    "Entailment",
    "EvaluatedFact",
    "Fact",
]


class Entailment:
    """Known values of :attr:`EvaluatedFact.entailment` (open set)."""

    ENTAILED: Final = "entailed"
    CONTRADICTED: Final = "contradicted"
    NEUTRAL: Final = "neutral"


@attrs.frozen(kw_only=True)
class AlignmentMetrics:
    """``correctness`` (precision), ``completeness`` (recall) and their harmonic mean."""

    correctness: float
    completeness: float
    alignment: float


@attrs.frozen(kw_only=True)
class Fact:
    """One fact extracted from the ground truth or the answer."""

    content: str


@attrs.frozen(kw_only=True)
class EvaluatedFact:
    """A fact and whether the answer entails, contradicts or ignores it."""

    fact: Fact
    entailment: str


@attrs.frozen(kw_only=True)
class AlignmentReasoning:
    """The facts behind the metrics."""

    evaluated_facts: list[EvaluatedFact] = attrs.Factory(list)


@attrs.frozen(kw_only=True)
class AlignmentResult:
    """The response of ``evaluate_alignment``."""

    metrics: AlignmentMetrics
    reasoning: AlignmentReasoning = attrs.Factory(AlignmentReasoning)
    usage: Usage = attrs.Factory(lambda: Usage())
