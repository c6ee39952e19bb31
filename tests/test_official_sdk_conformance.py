"""Conformance: the official ``pinecone`` SDK 10.x, unmodified, through every assistant call it has.

Sync and async, against the emulator with its default delete delay (deletes take time, as on
the service), a short ready delay and a short processing delay, so that the SDK's own waits for
create, upload and delete really poll. Every answer is checked, not just the absence of errors.
The 8.x SDK with the assistant plugin is in ``test_official_sdk8.py``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pinecone
import pytest
from pdfgen import make_pdf
from pinecone.errors.exceptions import ApiError, NotFoundError

from aiopinecone.emulator import Emulator, ThreadedEmulator

pytestmark = pytest.mark.official_sdk

KEY = "conformance-key"
NAME = "Conformance-A"  # mixed case: the service keeps it as given
OTHER = "conformance-b"
POLICY = (
    b"Warranty\n\nThe warranty covers parts and labour for two years.\n\n"
    b"Returns\n\nReturns are accepted within 30 days of delivery.\n"
)
MANUAL = make_pdf(
    ["Setup guide for the kettle.", "Descale the kettle every month with citric acid."],
    image_on=[2],
)
WARRANTY_Q = [{"role": "user", "content": "How long is the warranty?"}]
RETURNS_Q = [{"role": "user", "content": "When are returns accepted?"}]


@pytest.fixture(params=[0.2])
def emu(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ThreadedEmulator]:
    """``request.param`` is the processing delay (the SDK polls uploads every 5 s)."""
    emulator = Emulator(api_keys=(KEY,), ready_delay=0.2, file_processing_delay=request.param)
    assert emulator.config.delete_delay > 0  # the default: deletes take time
    with emulator.in_thread() as running:
        monkeypatch.delenv("PINECONE_API_KEY", raising=False)
        monkeypatch.delenv("PINECONE_PLUGIN_ASSISTANT_CONTROL_HOST", raising=False)
        monkeypatch.setenv("PINECONE_PLUGIN_ASSISTANT_DATA_HOST", running.url)
        yield running


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "policy.txt").write_bytes(POLICY)
    (tmp_path / "manual.pdf").write_bytes(MANUAL)
    return {"policy": tmp_path / "policy.txt", "manual": tmp_path / "manual.pdf"}


def statuses(emu: ThreadedEmulator, method: str, fragment: str) -> list[int | None]:
    entries = emu.call(lambda: list(emu.log.entries))
    return [e.status for e in entries if e.method == method and fragment in e.path]


def check_log(emu: ThreadedEmulator) -> None:
    entries = emu.call(lambda: list(emu.log.entries))
    assert {e.api_version for e in entries} == {"2026-07"}
    # The SDK saw deletes in progress: its waits read Terminating/Deleting before the end.
    assert 200 in statuses(emu, "GET", f"/assistant/assistants/{NAME}")
    assert 404 in statuses(emu, "GET", f"/assistant/assistants/{NAME}")
    delete_polls = [e for e in entries if e.method == "GET" and "/assistant/operations/" in e.path]
    assert delete_polls


def check_pdf_context(snippets: list[Any]) -> None:
    top = snippets[0]
    assert type(top).__name__ == "MultimodalSnippet"
    assert top.reference.pages == [2]
    text, image = top.content
    assert "citric acid" in text.text
    assert image.caption
    assert image.image_data.mime_type == "image/png"
    assert base64.b64decode(image.image_data.data).startswith(b"\x89PNG")


# The async test waits for real processing; here uploads finish at once (one poll each).
@pytest.mark.parametrize("emu", [0.0], indirect=True)
def test_sync_sdk_every_call(emu: ThreadedEmulator, files: dict[str, Path]) -> None:
    pc = pinecone.Pinecone(api_key=KEY, host=emu.url)
    a = pc.assistants
    try:
        created = a.create(name=NAME, instructions="Be brief.", metadata={"team": "qa"}, timeout=30)
        assert (created.name, created.status, created.host) == (NAME, "Ready", emu.url)
        other = a.create(name=OTHER, region="eu", timeout=30)
        assert other.status == "Ready"
        assert [x.name for x in a.list()] == [NAME, OTHER]
        first = a.list_page(page_size=1)
        assert [x.name for x in first.assistants] == [NAME]
        assert first.next
        second = a.list_page(page_size=1, pagination_token=first.next)
        assert [x.name for x in second.assistants] == [OTHER]
        assert second.next is None
        a.delete(name=OTHER, timeout=-1)  # no wait: gone long before the final list
        assert a.describe(name=NAME).metadata == {"team": "qa"}
        updated = a.update(name=NAME, instructions="Be kind.", metadata={"team": "ops"})
        assert (updated.instructions, updated.metadata) == ("Be kind.", {"team": "ops"})

        policy = a.upload_file(
            assistant_name=NAME,
            file_path=str(files["policy"]),
            metadata={"kind": "policy"},
            timeout=30,
        )
        assert (policy.name, policy.status, policy.size) == ("policy.txt", "Available", len(POLICY))
        manual = a.upload_file(
            assistant_name=NAME,
            file_stream=io.BytesIO(MANUAL),
            file_name="manual.pdf",
            multimodal=True,
            file_id="manual-v1",
            timeout=30,
        )
        assert (manual.id, manual.status, manual.multimodal) == ("manual-v1", "Available", True)
        with pytest.raises(pinecone.PineconeError, match="not a valid PDF"):
            a.upload_file(
                assistant_name=NAME,
                file_stream=io.BytesIO(b"plain text"),
                file_name="fake.pdf",
                timeout=30,
            )

        described = a.describe_file(assistant_name=NAME, file_id=policy.id, include_url=True)
        assert described.metadata == {"kind": "policy"}
        with urllib.request.urlopen(described.signed_url, timeout=10) as download:
            assert download.read() == POLICY
        listed = list(a.list_files(assistant_name=NAME, filter={"kind": "policy"}))
        assert [f.id for f in listed] == [policy.id]
        page = a.list_files_page(assistant_name=NAME, page_size=2)
        assert len(page.files) == 2
        assert page.next
        operations = list(a.list_operations(assistant_name=NAME))
        assert [o.operation_type for o in operations] == [
            "upload_file",
            "upsert_file",
            "upload_file",
        ]
        assert [o.status for o in operations] == ["Completed", "Completed", "Failed"]
        assert "not a valid PDF" in (operations[2].error or "")
        op_page = a.list_operations_page(assistant_name=NAME, status="Completed", page_size=1)
        assert [o.operation_type for o in op_page.operations] == ["upload_file"]
        assert a.describe_operation(
            assistant_name=NAME, operation_id=operations[1].operation_id
        ).file_id == ("manual-v1")

        reply = a.chat(assistant_name=NAME, messages=WARRANTY_Q, include_highlights=True)
        assert "two years" in reply.message.content
        references = [r for c in reply.citations for r in c.references]
        assert {r.file.id for r in references} == {policy.id}
        assert any("two years" in r.highlight.content for r in references)
        json_reply = a.chat(assistant_name=NAME, messages=WARRANTY_Q, json_response=True)
        assert "policy.txt" in json_reply.message.content
        streamed = a.chat(assistant_name=NAME, messages=WARRANTY_Q, stream=True)
        assert "".join(streamed.text()) == reply.message.content
        filtered = a.chat(
            assistant_name=NAME,
            messages=WARRANTY_Q,
            filter={"kind": "nothing"},
            model="claude-sonnet-4-5",
            temperature=0.5,
            context_options={"top_k": 4, "multimodal": False},
        )
        assert filtered.citations == []
        assert filtered.model == "claude-sonnet-4-5"
        completion = a.chat_completions(assistant_name=NAME, messages=RETURNS_Q)
        assert "30 days" in completion.choices[0].message.content
        chunks = list(a.chat_completions(assistant_name=NAME, messages=RETURNS_Q, stream=True))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == completion.choices[0].message.content
        with pytest.raises(ApiError, match="Invalid model 'gpt-99'"):
            a.chat(assistant_name=NAME, messages=WARRANTY_Q, model="gpt-99")
        with pytest.raises(ApiError, match="Invalid model 'gpt-99'"):  # raised while reading
            list(a.chat(assistant_name=NAME, messages=WARRANTY_Q, model="gpt-99", stream=True))
        with pytest.raises(ApiError, match="at least 1 message"):
            a.chat_completions(assistant_name=NAME, messages=[])

        context = a.context(assistant_name=NAME, query="descale kettle citric")
        check_pdf_context(context.snippets)
        by_messages = a.context(assistant_name=NAME, messages=WARRANTY_Q, top_k=1)
        assert len(by_messages.snippets) == 1
        assert by_messages.snippets[0].reference.file.id == policy.id
        captions_only = a.context(
            assistant_name=NAME, query="descale kettle", include_binary_content=False
        )
        assert captions_only.snippets[0].content[1].image_data is None

        result = a.evaluate_alignment(
            question="How long is the warranty?",
            answer="The warranty covers two years.",
            ground_truth_answer="The warranty covers parts and labour for two years.",
        )
        assert 0 < result.scores.alignment <= 1
        assert result.facts[0].entailment == "entailed"

        # The legacy methods on the assistant object (deprecated, still shipped).
        model = a.describe(name=NAME)
        assert model.describe_file(file_id=policy.id).name == "policy.txt"
        assert {f.id for f in model.list_files()} >= {policy.id, "manual-v1"}
        assert "two years" in model.chat(messages=WARRANTY_Q).message.content
        assert model.context(query="warranty").snippets

        a.delete_file(assistant_name=NAME, file_id=policy.id, timeout=30)
        with pytest.raises(NotFoundError):
            a.describe_file(assistant_name=NAME, file_id=policy.id)
        a.delete(name=NAME, timeout=30)
        assert list(a.list()) == []
    finally:
        pc.close()
    check_log(emu)


async def test_async_sdk_every_call(emu: ThreadedEmulator, files: dict[str, Path]) -> None:
    async with pinecone.AsyncPinecone(api_key=KEY, host=emu.url) as pc:
        a = pc.assistants
        created = await a.create(name=NAME, instructions="Be brief.", timeout=30)
        assert (created.name, created.status) == (NAME, "Ready")
        await a.create(name=OTHER, timeout=30)
        assert [x.name async for x in a.list()] == [NAME, OTHER]
        page = await a.list_page(page_size=1)
        assert [x.name for x in page.assistants] == [NAME]
        assert page.next
        assert (await a.describe(name=NAME)).instructions == "Be brief."
        updated = await a.update(name=NAME, metadata={"v": 2})
        assert updated.metadata == {"v": 2}

        # One data-plane call first: concurrent first calls would each build a data-plane
        # client in the SDK (no single flight) and leak all but one of them.
        assert [f async for f in a.list_files(assistant_name=NAME)] == []
        policy, manual = await asyncio.gather(
            a.upload_file(
                assistant_name=NAME,
                file_path=str(files["policy"]),
                metadata={"kind": "policy"},
                timeout=30,
            ),
            a.upload_file(
                assistant_name=NAME,
                file_path=str(files["manual"]),
                multimodal=True,
                file_id="manual-v1",
                timeout=30,
            ),
        )
        assert (policy.status, manual.status, manual.id) == ("Available", "Available", "manual-v1")
        described = await a.describe_file(assistant_name=NAME, file_id=policy.id)
        assert described.metadata == {"kind": "policy"}
        listed = [f async for f in a.list_files(assistant_name=NAME, filter={"kind": "policy"})]
        assert [f.id for f in listed] == [policy.id]
        files_page = await a.list_files_page(assistant_name=NAME, page_size=1)
        assert len(files_page.files) == 1
        assert files_page.next
        operations = [o async for o in a.list_operations(assistant_name=NAME)]
        assert sorted(o.operation_type for o in operations) == ["upload_file", "upsert_file"]
        ops_page = await a.list_operations_page(assistant_name=NAME, operation_type="upsert_file")
        assert [o.file_id for o in ops_page.operations] == ["manual-v1"]
        operation = await a.describe_operation(
            assistant_name=NAME, operation_id=ops_page.operations[0].operation_id
        )
        assert operation.status == "Completed"

        reply = await a.chat(assistant_name=NAME, messages=WARRANTY_Q)
        assert "two years" in reply.message.content
        assert reply.citations[0].references[0].file.id == policy.id
        stream = await a.chat(assistant_name=NAME, messages=WARRANTY_Q, stream=True)
        assert "".join([t async for t in stream.text()]) == reply.message.content
        completion = await a.chat_completions(assistant_name=NAME, messages=RETURNS_Q)
        assert "30 days" in completion.choices[0].message.content
        chunks = await a.chat_completions(assistant_name=NAME, messages=RETURNS_Q, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])
        assert text == completion.choices[0].message.content

        with pytest.raises(ApiError, match="Invalid model 'gpt-99'"):
            await a.chat_completions(assistant_name=NAME, messages=RETURNS_Q, model="gpt-99")
        with pytest.raises(ApiError, match="Invalid temperature"):
            await a.chat(assistant_name=NAME, messages=WARRANTY_Q, temperature=3.0)

        context = await a.context(assistant_name=NAME, query="descale kettle citric")
        check_pdf_context(context.snippets)
        result = await a.evaluate_alignment(
            question="q",
            answer="Returns within 30 days.",
            ground_truth_answer="Returns are accepted within 30 days.",
        )
        assert result.scores.completeness == 1.0

        await asyncio.gather(
            a.delete_file(assistant_name=NAME, file_id=policy.id, timeout=30),
            a.delete_file(assistant_name=NAME, file_id="manual-v1", timeout=30),
        )
        assert [f async for f in a.list_files(assistant_name=NAME)] == []
        await asyncio.gather(a.delete(name=NAME, timeout=30), a.delete(name=OTHER, timeout=30))
        with pytest.raises(NotFoundError):
            await a.describe(name=NAME)
    check_log(emu)


@pytest.mark.parametrize("emu", [0.0], indirect=True)
def test_sync_sdk_legacy_calls(emu: ThreadedEmulator, files: dict[str, Path]) -> None:
    """The 8.x-style names the 10.x SDK still ships, on the namespace and on the model."""
    pc = pinecone.Pinecone(api_key=KEY, host=emu.url)
    a = pc.assistants
    try:
        created = a.create_assistant(assistant_name=NAME, instructions="Old style.", timeout=30)
        assert (created.name, created.status) == (NAME, "Ready")
        assert a.describe_assistant(assistant_name=NAME).instructions == "Old style."
        assert [x.name for x in a.list_assistants()] == [NAME]
        assert [x.name for x in a.list_assistants_paginated(limit=5).assistants] == [NAME]
        updated = a.update_assistant(assistant_name=NAME, metadata={"old": True})
        assert updated.metadata == {"old": True}

        model = a.describe(name=NAME)
        policy = model.upload_file(file_path=str(files["policy"]), timeout=30)
        assert policy.status == "Available"
        streamed = model.upload_bytes_stream(io.BytesIO(MANUAL), "manual.pdf", timeout=30)
        assert (streamed.name, streamed.status) == ("manual.pdf", "Available")
        page = model.list_files_paginated(limit=1)  # the SDK does not forward `limit`
        assert {f.name for f in page.files} == {"policy.txt", "manual.pdf"}
        assert page.next is None
        completion = model.chat_completions(messages=RETURNS_Q, model="gpt-4.1")
        assert "30 days" in completion.choices[0].message.content
        score = a.evaluation.metrics.alignment(
            question="q",
            answer="Returns within 30 days.",
            ground_truth_answer="Returns are accepted within 30 days.",
        )
        assert score.scores.completeness == 1.0
        model.delete_file(file_id=streamed.id, timeout=-1)  # no wait: the assistant goes next
        assert a.describe_file(assistant_name=NAME, file_id=streamed.id).status == "Deleting"
        a.delete_assistant(assistant_name=NAME, timeout=-1)
        assert a.describe(name=NAME).status == "Terminating"
    finally:
        pc.close()


async def test_async_sdk_legacy_namespace(emu: ThreadedEmulator) -> None:
    async with pinecone.AsyncPinecone(api_key=KEY, host=emu.url) as pc:
        a = pc.assistants
        created = await a.create_assistant(assistant_name=NAME, timeout=30)
        assert created.status == "Ready"
        assert (await a.describe_assistant(assistant_name=NAME)).name == NAME
        assert [x.name for x in await a.list_assistants()] == [NAME]
        listed = await a.list_assistants_paginated(limit=5)
        assert [x.name for x in listed.assistants] == [NAME]
        updated = await a.update_assistant(assistant_name=NAME, instructions="New.")
        assert updated.instructions == "New."
        score = await a.evaluation.metrics.alignment(
            question="q", answer="It is blue.", ground_truth_answer="It is blue."
        )
        assert score.scores.alignment == 1.0
        await a.delete_assistant(assistant_name=NAME, timeout=-1)
        assert (await a.describe(name=NAME)).status == "Terminating"
