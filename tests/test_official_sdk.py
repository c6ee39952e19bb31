"""The official ``pinecone`` SDK (10.x), unmodified, drives the emulator end to end.

Only configuration is touched: ``host=`` for the control plane, and the SDK's own environment
variable for the evaluation host (``PINECONE_PLUGIN_ASSISTANT_DATA_HOST``). The data plane is
found the way the SDK finds it against the real API: from the ``host`` of the assistant.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pinecone
import pytest

from aiopinecone.emulator import Emulator, ThreadedEmulator

pytestmark = pytest.mark.official_sdk

KEY = "sdk-key"
POLICY = (
    b"Warranty\n\nThe warranty covers parts and labour for two years.\n\n"
    b"Returns\n\nReturns are accepted within 30 days of delivery.\n"
)
NAME = "sdk-assistant"


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedEmulator]:
    # A short ready delay makes the SDK really wait for Ready (it polls every 0.5 s); files
    # and deletes finish at once because the SDK polls those every 5 s.
    # (test_official_sdk_conformance.py runs the same SDK with deletes that take time.)
    emulator = Emulator(api_keys=(KEY,), ready_delay=0.2, delete_delay=0.0)
    with emulator.in_thread() as running:
        monkeypatch.delenv("PINECONE_API_KEY", raising=False)
        monkeypatch.delenv("PINECONE_PLUGIN_ASSISTANT_CONTROL_HOST", raising=False)
        monkeypatch.setenv("PINECONE_PLUGIN_ASSISTANT_DATA_HOST", running.url)
        yield running


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.txt"
    path.write_bytes(POLICY)
    return path


def assert_clean_log(emu: ThreadedEmulator) -> None:
    entries = emu.call(lambda: list(emu.log.entries))
    assert entries
    assert {e.api_version for e in entries} == {"2026-07"}
    # The only error the SDK meets is the 404 that tells its delete poll the assistant is gone.
    errors = [(e.method, e.path, e.status) for e in entries if (e.status or 0) >= 400]
    assert errors == [("GET", f"/assistant/assistants/{NAME}", 404)]


def question(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_sync_client_end_to_end(emu: ThreadedEmulator, policy_file: Path) -> None:
    pc = pinecone.Pinecone(api_key=KEY, host=emu.url)
    try:
        created = pc.assistants.create(
            name=NAME, instructions="Be brief.", metadata={"team": "qa"}, timeout=30
        )
        assert (created.name, created.status) == (NAME, "Ready")
        assert created.host == emu.url

        assert [a.name for a in pc.assistants.list()] == [NAME]
        described = pc.assistants.describe(name=NAME)
        assert described.metadata == {"team": "qa"}
        updated = pc.assistants.update(name=NAME, instructions="Be kind.")
        assert updated.instructions == "Be kind."

        uploaded = pc.assistants.upload_file(
            assistant_name=NAME,
            file_path=str(policy_file),
            metadata={"kind": "policy"},
            timeout=30,
        )
        assert (uploaded.name, uploaded.status, uploaded.size) == (
            "policy.txt",
            "Available",
            len(POLICY),
        )
        listed = list(pc.assistants.list_files(assistant_name=NAME, filter={"kind": "policy"}))
        assert [f.id for f in listed] == [uploaded.id]
        assert list(pc.assistants.list_files(assistant_name=NAME, filter={"kind": "x"})) == []
        assert pc.assistants.describe_file(assistant_name=NAME, file_id=uploaded.id).metadata == {
            "kind": "policy"
        }

        reply = pc.assistants.chat(
            assistant_name=NAME, messages=question("How long is the warranty?")
        )
        assert "two years" in reply.message.content
        assert reply.citations[0].references[0].file.id == uploaded.id

        stream = pc.assistants.chat(
            assistant_name=NAME, messages=question("How long is the warranty?"), stream=True
        )
        assert "".join(stream.text()) == reply.message.content

        completion = pc.assistants.chat_completions(
            assistant_name=NAME, messages=question("When are returns accepted?")
        )
        assert "30 days" in completion.choices[0].message.content
        chunks = list(
            pc.assistants.chat_completions(
                assistant_name=NAME, messages=question("When are returns accepted?"), stream=True
            )
        )
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert streamed == completion.choices[0].message.content

        context = pc.assistants.context(assistant_name=NAME, query="warranty")
        assert context.snippets[0].reference.file.id == uploaded.id
        assert "warranty" in context.snippets[0].content

        result = pc.assistants.evaluate_alignment(
            question="How long is the warranty?",
            answer="The warranty covers two years.",
            ground_truth_answer="The warranty covers parts and labour for two years.",
        )
        assert 0 < result.scores.alignment <= 1
        assert result.facts[0].entailment in ("entailed", "neutral", "contradicted")

        # Upsert (PUT with a caller-chosen id) and the operations API.
        upserted = pc.assistants.upload_file(
            assistant_name=NAME, file_path=str(policy_file), file_id="policy-v2", timeout=30
        )
        assert upserted.id == "policy-v2"
        operations = list(pc.assistants.list_operations(assistant_name=NAME))
        assert [o.operation_type for o in operations] == ["upload_file", "upsert_file"]
        assert all(o.status == "Completed" for o in operations)
        described_op = pc.assistants.describe_operation(
            assistant_name=NAME, operation_id=operations[1].operation_id
        )
        assert described_op.file_id == "policy-v2"

        pc.assistants.delete_file(assistant_name=NAME, file_id=uploaded.id, timeout=30)
        pc.assistants.delete_file(assistant_name=NAME, file_id="policy-v2", timeout=30)
        assert list(pc.assistants.list_files(assistant_name=NAME)) == []
        pc.assistants.delete(name=NAME, timeout=30)
        assert list(pc.assistants.list()) == []
    finally:
        pc.close()
    assert_clean_log(emu)


async def test_async_client_end_to_end(emu: ThreadedEmulator, policy_file: Path) -> None:
    async with pinecone.AsyncPinecone(api_key=KEY, host=emu.url) as pc:
        created = await pc.assistants.create(name=NAME, instructions="Be brief.", timeout=30)
        assert created.status == "Ready"
        names = [a.name async for a in pc.assistants.list()]
        assert names == [NAME]
        assert (await pc.assistants.describe(name=NAME)).name == NAME
        updated = await pc.assistants.update(name=NAME, metadata={"v": 2})
        assert updated.metadata == {"v": 2}
        uploaded = await pc.assistants.upload_file(
            assistant_name=NAME,
            file_path=str(policy_file),
            metadata={"kind": "policy"},
            timeout=30,
        )
        assert uploaded.status == "Available"
        listed = [
            f
            async for f in pc.assistants.list_files(assistant_name=NAME, filter={"kind": "policy"})
        ]
        assert [f.id for f in listed] == [uploaded.id]
        described = await pc.assistants.describe_file(assistant_name=NAME, file_id=uploaded.id)
        assert described.name == "policy.txt"
        reply = await pc.assistants.chat(
            assistant_name=NAME, messages=question("How long is the warranty?")
        )
        assert "two years" in reply.message.content
        stream = await pc.assistants.chat(
            assistant_name=NAME, messages=question("How long is the warranty?"), stream=True
        )
        assert "".join([t async for t in stream.text()]) == reply.message.content
        completion = await pc.assistants.chat_completions(
            assistant_name=NAME, messages=question("When are returns accepted?")
        )
        assert "30 days" in completion.choices[0].message.content
        context = await pc.assistants.context(assistant_name=NAME, query="returns")
        assert context.snippets
        result = await pc.assistants.evaluate_alignment(
            question="q",
            answer="Returns within 30 days.",
            ground_truth_answer="Returns are accepted within 30 days.",
        )
        assert result.scores.completeness == 1.0
        await pc.assistants.delete_file(assistant_name=NAME, file_id=uploaded.id, timeout=30)
        await pc.assistants.delete(name=NAME, timeout=30)
    assert_clean_log(emu)
