"""evaluate_alignment against the emulator (as the evaluation host) in every API version."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from aiopinecone import AlignmentResult, AsyncPinecone, RetryPolicy, ServerError, ValidationError
from aiopinecone.emulator import Emulator
from aiopinecone.emulator.faults import Fault

KEY = "test-key"
ALL = ("2025-04", "2025-10", "2026-04")
PATH = "/assistant/evaluation/metrics/alignment"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,)) as emulator:
        yield emulator


@pytest.mark.parametrize("version", ALL)
async def test_evaluate_alignment(version: str, emu: Emulator) -> None:
    async with AsyncPinecone(api_key=KEY, host=emu.url, api_version=version) as pc:
        r = await pc.assistants.evaluate_alignment(
            question="What is the capital of Spain?",
            answer="The capital of Spain is Madrid.",
            ground_truth_answer="Madrid is the capital of Spain.",
        )
    assert isinstance(r, AlignmentResult)
    assert 0.0 <= r.metrics.alignment <= 1.0
    assert r.metrics.correctness > 0
    assert r.reasoning.evaluated_facts
    assert all(
        f.entailment in ("entailed", "contradicted", "neutral") for f in r.reasoning.evaluated_facts
    )
    assert r.usage.total_tokens > 0
    assert emu.log.count(method="POST", path=PATH) == 1


async def test_evaluation_host_is_configurable(emu: Emulator) -> None:
    async with Emulator(api_keys=(KEY,)) as evaluator:
        async with AsyncPinecone(api_key=KEY, host=emu.url, evaluation_host=evaluator.url) as pc:
            await pc.assistants.evaluate_alignment(
                question="q?", answer="Paris.", ground_truth_answer="Paris.", region="eu"
            )
        assert evaluator.log.count(method="POST", path=PATH) == 1
    assert emu.log.count() == 0


async def test_evaluation_retries_server_errors(emu: Emulator, instant_retries: None) -> None:
    emu.faults.script("POST", PATH, [Fault.status(503), Fault.drop_after()])
    async with AsyncPinecone(api_key=KEY, host=emu.url) as pc:
        r = await pc.assistants.evaluate_alignment(
            question="q?", answer="Paris.", ground_truth_answer="Paris."
        )
    assert r.metrics.alignment == 1.0
    assert emu.log.count(method="POST", path=PATH) == 3


async def test_evaluation_errors_are_typed(emu: Emulator) -> None:
    emu.faults.script("POST", PATH, [Fault.status(500)], repeat=True)
    async with AsyncPinecone(api_key=KEY, host=emu.url, retry=RetryPolicy.none()) as pc:
        with pytest.raises(ServerError):
            await pc.assistants.evaluate_alignment(
                question="q?", answer="a", ground_truth_answer="b"
            )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"question": ""}, "question"),
        ({"answer": None}, "answer"),
        ({"ground_truth_answer": 3}, "ground_truth_answer"),
        ({"region": "asia"}, "region"),
    ],
)
async def test_bad_evaluation_input(emu: Emulator, kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"question": "q?", "answer": "a", "ground_truth_answer": "b", **kwargs}
    async with AsyncPinecone(api_key=KEY, host=emu.url) as pc:
        with pytest.raises(ValidationError, match=message):
            await pc.assistants.evaluate_alignment(**args)
    assert emu.log.count() == 0
