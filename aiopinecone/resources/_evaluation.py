"""Evaluation: score an answer against a ground truth (alignment = correctness x completeness)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._validation import check_region
from ..exceptions import ValidationError
from ._common import Resource, Timeout

if TYPE_CHECKING:
    from .._retry import RetryPolicy
    from ..models.evaluation import AlignmentResult

__all__ = ["EvaluationMixin"]


def _text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be a non-empty string, got {value!r}")
    return value


class EvaluationMixin(Resource):
    """``pc.assistants.evaluate_alignment``."""

    async def evaluate_alignment(
        self,
        *,
        question: str,
        answer: str,
        ground_truth_answer: str,
        region: str = "us",
        retry: RetryPolicy | None = None,
        timeout: Timeout = None,
    ) -> AlignmentResult:
        """Evaluate ``answer`` to ``question`` against ``ground_truth_answer``.

        Returns the ``correctness`` (precision), ``completeness`` (recall) and ``alignment``
        (their harmonic mean) metrics, the evaluated facts behind them and the token usage.
        ``region`` (``us`` or ``eu``) picks Pinecone's evaluation host; a client built with
        ``evaluation_host=`` (or pointed at an emulator) always uses that host.
        """
        from ..models.evaluation import AlignmentResult  # on first use ("Import weight")

        core = self._core
        body = {
            "question": _text(question, "question"),
            "answer": _text(answer, "answer"),
            "ground_truth_answer": _text(ground_truth_answer, "ground_truth_answer"),
        }
        url = core.evaluation_url(check_region(region)) + "/evaluation/metrics/alignment"
        # Nothing is created: retrying a lost answer is safe.
        return await core.request_json(
            "POST",
            url,
            AlignmentResult,
            op="evaluate_alignment",
            json=body,
            idempotent=True,
            retry=retry,
            timeout=timeout,
        )
