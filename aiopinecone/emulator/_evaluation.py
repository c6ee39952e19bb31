"""``POST /assistant/evaluation/metrics/alignment``: deterministic scores from word overlap.

Facts are the sentences of the ground-truth answer. A fact is ``entailed`` when most of its
content words appear in the answer, ``contradicted`` when they do but the answer negates what
the fact affirms (or the other way round), ``neutral`` otherwise. Completeness is the share of
entailed facts; correctness the share of answer sentences whose content words mostly appear in
the ground truth; alignment their harmonic mean.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ._errors import ApiError
from ._http import json_response, read_json_object
from ._retrieval import sentences, stems, token_count

_FIELDS = ("question", "answer", "ground_truth_answer")
_SUPPORTED = 0.6
_NEGATIONS = frozenset({"not", "no", "never", "none", "cannot", "isn", "doesn", "don", "won"})


def _unprocessable(message: str) -> ApiError:
    # The evaluation service answers 422 with {"message"}; the error envelope carries it too.
    return ApiError(422, "INVALID_ARGUMENT", message)


def _coverage(part: str, whole: set[str]) -> float:
    words = set(stems(part))
    return 1.0 if not words else len(words & whole) / len(words)


def _negated(text: str) -> bool:
    words = [w.strip(".,;:!?'\"").lower() for w in text.replace("n't", " not").split()]
    return sum(w in _NEGATIONS for w in words) % 2 == 1


def evaluate(question: str, answer: str, truth: str) -> dict[str, Any]:
    """The alignment response body for one question."""
    answer_words = set(stems(answer))
    truth_words = set(stems(truth))
    answer_negated = _negated(answer)
    facts = sentences(truth) or [truth]
    evaluated = []
    entailed = 0
    for fact in facts:
        coverage = _coverage(fact, answer_words)
        if coverage >= _SUPPORTED and _negated(fact) != answer_negated:
            verdict, why = "contradicted", "The answer states the opposite of this fact."
        elif coverage >= _SUPPORTED:
            verdict, why = "entailed", f"{coverage:.0%} of the fact's key words are in the answer."
            entailed += 1
        else:
            verdict, why = (
                "neutral",
                f"Only {coverage:.0%} of the fact's key words are in the answer.",
            )
        evaluated.append({"fact": {"content": fact}, "entailment": verdict, "reasoning": why})
    claims = sentences(answer) or [answer]
    supported = sum(_coverage(c, truth_words) >= _SUPPORTED for c in claims)
    correctness = round(supported / len(claims), 4)
    completeness = round(entailed / len(facts), 4)
    total = correctness + completeness
    alignment = round(2 * correctness * completeness / total, 4) if total else 0.0
    prompt = token_count(question) + token_count(answer) + token_count(truth)
    completion = sum(token_count(f) + 3 for f in facts)
    return {
        "metrics": {
            "correctness": correctness,
            "completeness": completeness,
            "alignment": alignment,
        },
        "reasoning": {"evaluated_facts": evaluated},
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


async def alignment(request: web.Request) -> web.Response:
    """Score an answer against a ground-truth answer."""
    body = await read_json_object(request)
    unknown = sorted(set(body) - set(_FIELDS))
    if unknown:
        raise _unprocessable(f"Unknown field(s): {', '.join(unknown)}.")
    values = []
    for field in _FIELDS:
        value = body.get(field)
        if not isinstance(value, str):
            raise _unprocessable(f"Field {field!r} is required and must be a string.")
        if not value.strip():
            raise _unprocessable(f"Field {field!r} cannot be empty.")
        values.append(value)
    return json_response(evaluate(*values))


def add_routes(app: web.Application) -> None:
    """Register the evaluation route."""
    app.router.add_post("/assistant/evaluation/metrics/alignment", alignment)
