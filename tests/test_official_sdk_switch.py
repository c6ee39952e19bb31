"""One program written for the official SDK 10.x runs on aiopinecone with its import changed
(issue 14): the same program runs twice against the emulator, with ``pinecone.AsyncPinecone``
and with ``aiopinecone.compat.AsyncPinecone``, and every step must return the same thing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pinecone
import pytest

from aiopinecone import compat
from aiopinecone.emulator import Emulator, ThreadedEmulator

pytestmark = pytest.mark.official_sdk

KEY = "switch-key"
NAME = "switcher"
POLICY = b"Warranty\n\nThe warranty covers parts and labour for two years.\n"
ASK = [{"role": "user", "content": "How long is the warranty?"}]


async def program(pc: Any, doc: Path) -> dict[str, Any]:
    """A 10.x-style program; each step's result, reduced to what both SDKs must agree on."""
    out: dict[str, Any] = {}
    ids: dict[str, str] = {}

    async def step(label: str, coro: Any) -> None:
        try:
            out[label] = await coro
        except Exception as exc:  # a failed step is a result to compare, not an abort
            out[label] = ("failed", type(exc).__name__, str(exc)[:200])

    async def create() -> Any:
        a = await pc.assistants.create(
            name=NAME, instructions="Be brief.", metadata={"team": "qa"}, timeout=30
        )
        return (a.name, a.status, a.instructions, a.metadata)

    async def describe() -> Any:
        a = await pc.assistants.describe(name=NAME)
        return (a.name, a.status, a.metadata)

    async def listing() -> Any:
        return [a.name async for a in pc.assistants.list()]

    async def list_page() -> Any:
        page = await pc.assistants.list_page(page_size=10)
        return [a.name for a in page.assistants]

    async def update() -> Any:
        a = await pc.assistants.update(name=NAME, instructions="Be kind.")
        return (a.name, a.instructions, a.metadata)

    async def upload_stream() -> Any:
        f = await pc.assistants.upload_file(
            assistant_name=NAME,
            file_stream=io.BytesIO(POLICY),
            file_name="policy.txt",
            metadata={"kind": "policy"},
            timeout=30,
        )
        ids["policy"] = f.id
        return (f.name, f.status, f.metadata)

    async def upload_path() -> Any:
        f = await pc.assistants.upload_file(assistant_name=NAME, file_path=str(doc), timeout=30)
        ids["notes"] = f.id
        return (f.name, f.status)

    async def list_files() -> Any:
        files = pc.assistants.list_files(assistant_name=NAME, filter={"kind": "policy"})
        return [f.name async for f in files]

    async def list_files_page() -> Any:
        page = await pc.assistants.list_files_page(assistant_name=NAME)
        return sorted(f.name for f in page.files)

    async def describe_file() -> Any:
        f = await pc.assistants.describe_file(assistant_name=NAME, file_id=ids["policy"])
        return (f.name, f.status, f.metadata)

    async def chat() -> Any:
        reply = await pc.assistants.chat(assistant_name=NAME, messages=ASK)
        return (reply.message.role, reply.message.content, len(reply.citations))

    async def streamed_chat() -> Any:
        stream = await pc.assistants.chat(assistant_name=NAME, messages=ASK, stream=True)
        return "".join([text async for text in stream.text()])

    async def chat_completions() -> Any:
        reply = await pc.assistants.chat_completions(assistant_name=NAME, messages=ASK)
        return reply.choices[0].message.content

    async def context() -> Any:
        found = await pc.assistants.context(assistant_name=NAME, query="warranty")
        return sorted(s.content for s in found.snippets)

    async def delete_file() -> Any:
        await pc.assistants.delete_file(assistant_name=NAME, file_id=ids["notes"])
        return [f.name async for f in pc.assistants.list_files(assistant_name=NAME)]

    async def delete() -> Any:
        await pc.assistants.delete(name=NAME)
        return [a.name async for a in pc.assistants.list()]

    for label, fn in [
        ("create", create),
        ("describe", describe),
        ("list", listing),
        ("list_page", list_page),
        ("update", update),
        ("upload_file(file_stream=)", upload_stream),
        ("upload_file(file_path=)", upload_path),
        ("list_files(filter=)", list_files),
        ("list_files_page", list_files_page),
        ("describe_file", describe_file),
        ("chat", chat),
        ("chat(stream=True)", streamed_chat),
        ("chat_completions", chat_completions),
        ("context", context),
        ("delete_file", delete_file),
        ("delete", delete),
    ]:
        await step(label, fn())
    return out


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedEmulator]:
    emulator = Emulator(api_keys=(KEY,), ready_delay=0.2, delete_delay=0.0)
    with emulator.in_thread() as running:
        monkeypatch.delenv("PINECONE_API_KEY", raising=False)
        monkeypatch.delenv("PINECONE_PLUGIN_ASSISTANT_CONTROL_HOST", raising=False)
        monkeypatch.setenv("PINECONE_PLUGIN_ASSISTANT_DATA_HOST", running.url)
        yield running


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "notes.md"
    path.write_text("# Notes\nReturns are accepted within 30 days.\n")
    return path


async def test_a_10x_program_gives_the_same_results_on_aiopinecone(
    emu: ThreadedEmulator, doc: Path
) -> None:
    async with pinecone.AsyncPinecone(api_key=KEY, host=emu.url) as official:
        expected = await program(official, doc)
    failed = {k: v for k, v in expected.items() if isinstance(v, tuple) and v[:1] == ("failed",)}
    assert failed == {}, "the official SDK itself failed a step"
    assert len(expected) == 16
    async with compat.AsyncPinecone(api_key=KEY, host=emu.url) as ours:
        got = await program(ours, doc)
    assert got == expected
    versions = emu.call(lambda: {e.api_version for e in emu.log.entries})
    assert versions == {"2026-07"}  # both sent the newest version
