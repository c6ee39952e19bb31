"""The emulator answers like the real service where the official SDKs' own tests say it does.

Raw HTTP over real sockets (what the service does), then the client on top (what users see):
mixed-case names, unknown models, sampling ranges, empty messages, metadata limits, existence
before body, reserved create fields, files that are not what their extension says, real PDFs
(text and images), and deletes that take time.
"""

from __future__ import annotations

import asyncio
import base64
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest
from pdfgen import make_pdf

from aiopinecone import AsyncPinecone, BadRequestError, FileProcessingError, NotFoundError
from aiopinecone.emulator import Emulator, EmulatorConfig, ThreadedEmulator
from aiopinecone.models import MultimodalSnippet

KEY = "fidelity-key"
NAME = "SgYlP"
POLICY = make_pdf(
    ["Introduction to the handbook.", "The warranty covers parts and labour for two years."],
    image_on=[2],
)


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    """Default settings (deletes take their default, non-zero time)."""
    async with Emulator(api_keys=(KEY,)) as emulator:
        emulator.store.create_assistant(NAME)
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    emu: Emulator,
    method: str,
    path: str,
    *,
    json: Any = None,
    data: Any = None,
    version: str = "2025-10",
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    headers = {"Api-Key": KEY, "X-Pinecone-Api-Version": version}
    async with http.request(
        method, emu.url + path, json=json, data=data, headers=headers, params=params
    ) as resp:
        raw = await resp.read()
        if resp.content_type == "application/json":
            return resp.status, orjson.loads(raw)
        if resp.content_type == "text/event-stream":
            return resp.status, raw.decode()
        return resp.status, raw


def assert_400(status: int, body: Any, text: str) -> None:
    assert (status, body["status"], body["error"]["code"]) == (400, 400, "INVALID_ARGUMENT"), body
    assert text in body["error"]["message"]


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def upload_form(name: str, content: bytes, metadata: str | None = None) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("file", content, filename=name)
    if metadata is not None:
        form.add_field("metadata", metadata)
    return form


async def pc_for(emu: Emulator, version: str = "2025-10") -> AsyncPinecone:
    return AsyncPinecone(api_key=KEY, host=emu.url, api_version=version)


# -- names ----------------------------------------------------------------------------------------


async def test_mixed_case_names_are_kept_as_given(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    status, body = await call(http, emu, "POST", "/assistant/assistants", json={"name": "AbC-9"})
    assert (status, body["name"]) == (200, "AbC-9")
    status, body = await call(http, emu, "GET", "/assistant/assistants/AbC-9")
    assert (status, body["name"]) == (200, "AbC-9")
    status, _ = await call(http, emu, "GET", "/assistant/assistants/abc-9")
    assert status == 404
    status, body = await call(http, emu, "GET", "/assistant/assistants")
    assert {a["name"] for a in body["assistants"]} == {NAME, "AbC-9"}


@pytest.mark.usefixtures("instant_retries")
async def test_client_sends_mixed_case_names(emu: Emulator) -> None:
    async with await pc_for(emu) as pc:
        created = await pc.assistants.create(name="MixedCase", wait=True)
        assert created.name == "MixedCase"
        assert (await pc.assistants.describe(name=NAME)).name == NAME
        reply = await pc.assistants.chat(assistant_name=NAME, messages=user("Anything here?"))
        assert reply.message.content
        await pc.assistants.delete(name=NAME, wait=True)
    sent = [(e.method, e.path) for e in emu.log.entries]
    assert ("GET", f"/assistant/assistants/{NAME}") in sent
    assert ("POST", f"/assistant/chat/{NAME}") in sent
    assert ("DELETE", f"/assistant/assistants/{NAME}") in sent
    assert NAME not in emu.store


async def test_names_outside_the_service_rule_are_refused_by_the_server(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    async with await pc_for(emu) as pc:
        with pytest.raises(BadRequestError, match="Invalid assistant name"):
            await pc.assistants.create(name="-lead")
    assert emu.log.filter(method="POST")  # the client sent it: the server decided


# -- chat requests --------------------------------------------------------------------------------

CHAT_PATHS = ("", "/chat/completions")


@pytest.mark.parametrize("suffix", CHAT_PATHS)
@pytest.mark.parametrize("stream", [False, True])
async def test_unknown_models_are_refused(
    emu: Emulator, http: aiohttp.ClientSession, suffix: str, stream: bool
) -> None:
    payload = {"messages": user("hi"), "model": "xyz-9000", "stream": stream}
    status, body = await call(http, emu, "POST", f"/assistant/chat/{NAME}{suffix}", json=payload)
    assert_400(status, body, "Invalid model 'xyz-9000'")


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-5", "claude-sonnet-4-5", "gemini-2.5-pro"])
@pytest.mark.parametrize("suffix", CHAT_PATHS)
async def test_known_models_answer(
    emu: Emulator, http: aiohttp.ClientSession, model: str, suffix: str
) -> None:
    payload = {"messages": user("hi"), "model": model}
    status, body = await call(http, emu, "POST", f"/assistant/chat/{NAME}{suffix}", json=payload)
    assert (status, body["model"]) == (200, model)


async def test_client_never_refuses_a_model(emu: Emulator) -> None:
    async with await pc_for(emu) as pc:
        for call_ in (pc.assistants.chat, pc.assistants.chat_completions):
            with pytest.raises(BadRequestError, match="Invalid model 'next-model'"):
                await call_(assistant_name=NAME, messages=user("hi"), model="next-model")
            with pytest.raises(BadRequestError, match="Invalid model 'next-model'"):
                await call_(
                    assistant_name=NAME, messages=user("hi"), model="next-model", stream=True
                )
    assert len(emu.log.filter(method="POST")) == 4


@pytest.mark.parametrize("suffix", CHAT_PATHS)
@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("temperature", 3.0, False),
        ("temperature", -0.5, False),
        ("temperature", 2.0, True),
        ("temperature", 0, True),
        ("top_p", 1.5, False),
        ("top_p", 0.9, True),
    ],
)
async def test_sampling_values_in_range(
    emu: Emulator, http: aiohttp.ClientSession, suffix: str, field: str, value: float, ok: bool
) -> None:
    payload = {"messages": user("hi"), field: value}
    status, body = await call(http, emu, "POST", f"/assistant/chat/{NAME}{suffix}", json=payload)
    if ok:
        assert status == 200, body
    else:
        assert_400(status, body, f"Invalid {field}")


@pytest.mark.parametrize("suffix", [*CHAT_PATHS, "/context"])
async def test_empty_messages(emu: Emulator, http: aiohttp.ClientSession, suffix: str) -> None:
    status, body = await call(
        http, emu, "POST", f"/assistant/chat/{NAME}{suffix}", json={"messages": []}
    )
    assert_400(status, body, "Must have at least 1 message")


# -- metadata limit -------------------------------------------------------------------------------

LIMIT_TEXT = "Metadata exceeds maximum length of 16384 bytes"


def metadata_of_size(size: int) -> dict[str, str]:
    value = {"k": ""}
    value["k"] = "x" * (size - len(orjson.dumps(value)))
    assert len(orjson.dumps(value)) == size
    return value


async def test_assistant_metadata_limit(emu: Emulator, http: aiohttp.ClientSession) -> None:
    path = "/assistant/assistants"
    status, _ = await call(
        http, emu, "POST", path, json={"name": "fits", "metadata": metadata_of_size(16384)}
    )
    assert status == 200
    status, body = await call(
        http, emu, "POST", path, json={"name": "big", "metadata": metadata_of_size(16385)}
    )
    assert_400(status, body, LIMIT_TEXT)
    status, body = await call(
        http, emu, "PATCH", f"{path}/{NAME}", json={"metadata": metadata_of_size(16385)}
    )
    assert_400(status, body, LIMIT_TEXT)
    assert "big" not in emu.store


@pytest.mark.parametrize("version", ["2025-10", "2026-04"])
async def test_file_metadata_limit(
    emu: Emulator, http: aiohttp.ClientSession, version: str
) -> None:
    big = orjson.dumps(metadata_of_size(16385)).decode()
    if version == "2026-04":
        form, params = upload_form("a.txt", b"text", big), None
    else:
        form, params = upload_form("a.txt", b"text"), {"metadata": big}
    status, body = await call(
        http, emu, "POST", f"/assistant/files/{NAME}", data=form, params=params, version=version
    )
    assert_400(status, body, LIMIT_TEXT)
    assert emu.store.list_files(NAME) == []


# -- existence before body ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/assistant/assistants/ghost"),
        ("POST", "/assistant/chat/ghost"),
        ("POST", "/assistant/chat/ghost/chat/completions"),
        ("POST", "/assistant/chat/ghost/context"),
        ("POST", "/assistant/files/ghost"),
        ("PUT", "/assistant/files/ghost/bad%20id"),
    ],
)
@pytest.mark.parametrize("raw", [b"", b"{not json", b'{"bogus": 1, "messages": []}'])
async def test_missing_assistant_is_404_whatever_the_body(
    emu: Emulator, http: aiohttp.ClientSession, method: str, path: str, raw: bytes
) -> None:
    status, body = await call(http, emu, method, path, data=raw, version="2026-04")
    assert (status, body["error"]["code"]) == (404, "NOT_FOUND"), body
    assert body["error"]["message"] == 'Assistant "ghost" not found.'


# -- reserved create fields -----------------------------------------------------------------------


async def test_environment_is_refused(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, body = await call(
        http, emu, "POST", "/assistant/assistants", json={"name": "env", "environment": "prod-1"}
    )
    assert_400(status, body, "environment")
    assert "env" not in emu.store


# -- files that are not what their extension says ---------------------------------------------


async def test_fake_pdf_fails_processing(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, op = await call(
        http,
        emu,
        "POST",
        f"/assistant/files/{NAME}",
        data=upload_form("report.pdf", b"just some text, no PDF at all"),
        version="2026-04",
    )
    assert status == 202
    status, op = await call(
        http, emu, "GET", f"/assistant/operations/{NAME}/{op['id']}", version="2026-04"
    )
    assert (op["status"], op["error_message"]) == ("Failed", op["error_message"])
    assert "not a valid PDF" in op["error_message"]
    status, f = await call(http, emu, "GET", f"/assistant/files/{NAME}/{op['file_id']}")
    assert f["status"] == "ProcessingFailed"
    assert f["error_message"] == op["error_message"]


@pytest.mark.parametrize("version", ["2025-10", "2026-04"])
@pytest.mark.parametrize(
    ("name", "content"), [("report.pdf", b"%PDF-1.7 truncated"), ("notes.docx", b"not a zip")]
)
async def test_client_wait_raises_with_the_error_message(
    emu: Emulator, version: str, name: str, content: bytes
) -> None:
    async with await pc_for(emu, version) as pc:
        with pytest.raises(FileProcessingError) as info:
            await pc.assistants.upload_file(
                assistant_name=NAME, file=content, file_name=name, wait=True
            )
    (stored,) = emu.store.list_files(NAME)
    assert stored.error_message is not None
    assert stored.error_message in str(info.value)


# -- real PDFs ------------------------------------------------------------------------------------


async def test_compressed_pdf_text_is_read(emu: Emulator) -> None:
    assert b"warranty" not in POLICY  # the text is in compressed content streams
    async with await pc_for(emu, "2026-04") as pc:
        await pc.assistants.upload_file(
            assistant_name=NAME, file=POLICY, file_name="policy.pdf", wait=True
        )
        context = await pc.assistants.context(assistant_name=NAME, query="warranty years")
        top = context.snippets[0]
        assert top.type == "text"
        assert "The warranty covers parts and labour for two years." in top.content  # type: ignore[union-attr]
        assert top.reference.pages == [2]  # type: ignore[union-attr]
        reply = await pc.assistants.chat(
            assistant_name=NAME, messages=user("How long is the warranty?")
        )
        assert "two years" in reply.message.content
        assert reply.citations[0].references[0].pages == [2]


async def test_multimodal_pdf_images(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with await pc_for(emu, "2026-04") as pc:
        await pc.assistants.upload_file(
            assistant_name=NAME, file=POLICY, file_name="policy.pdf", multimodal=True, wait=True
        )
    path = f"/assistant/chat/{NAME}/context"
    status, body = await call(
        http, emu, "POST", path, json={"query": "warranty"}, version="2026-04"
    )
    snippet = body["snippets"][0]
    assert (status, snippet["type"], snippet["reference"]["pages"]) == (200, "multimodal", [2])
    text, image = snippet["content"]
    assert "two years" in text["text"]
    assert image["type"] == "image"
    assert image["caption"]
    assert (image["image"]["type"], image["image"]["mime_type"]) == ("base64", "image/png")
    assert base64.b64decode(image["image"]["data"]).startswith(b"\x89PNG\r\n\x1a\n")

    payload = {"query": "warranty", "include_binary_content": False}
    status, body = await call(http, emu, "POST", path, json=payload, version="2026-04")
    assert body["snippets"][0]["content"][1]["image"] is None
    status, body = await call(
        http, emu, "POST", path, json={"query": "warranty", "multimodal": False}, version="2026-04"
    )
    assert {s["type"] for s in body["snippets"]} == {"text"}

    bad = {"query": "warranty", "multimodal": False, "include_binary_content": True}
    status, body = await call(http, emu, "POST", path, json=bad, version="2026-04")
    assert_400(status, body, "include_binary_content")
    options = {"multimodal": False, "include_binary_content": True}
    status, body = await call(
        http,
        emu,
        "POST",
        f"/assistant/chat/{NAME}",
        json={"messages": user("warranty?"), "context_options": options},
        version="2026-04",
    )
    assert_400(status, body, "include_binary_content")


async def test_client_reads_multimodal_snippets(emu: Emulator) -> None:
    async with await pc_for(emu, "2026-04") as pc:
        await pc.assistants.upload_file(
            assistant_name=NAME, file=POLICY, file_name="policy.pdf", multimodal=True, wait=True
        )
        context = await pc.assistants.context(assistant_name=NAME, query="warranty")
        top = context.snippets[0]
        assert isinstance(top, MultimodalSnippet)
        assert [b.type for b in top.content] == ["text", "image"]
        image = top.content[1].image
        assert image is not None
        assert base64.b64decode(image.data).startswith(b"\x89PNG")
        captions = await pc.assistants.context(
            assistant_name=NAME, query="warranty", include_binary_content=False
        )
        top = captions.snippets[0]
        assert isinstance(top, MultimodalSnippet)
        assert top.content[1].caption
        assert top.content[1].image is None


async def test_pdf_without_pypdf_says_what_to_install(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pypdf", None)  # what an install without the extra sees
    content = make_pdf(["A document read without the PDF extra."])
    async with await pc_for(emu) as pc:
        with pytest.raises(FileProcessingError, match=r"aiopinecone\[emulator-pdf\]"):
            await pc.assistants.upload_file(
                assistant_name=NAME, file=content, file_name="x.pdf", wait=True
            )


# -- deletes take time ----------------------------------------------------------------------------


async def poll_status(
    http: aiohttp.ClientSession, emu: Emulator, path: str, seen: str
) -> list[int | str]:
    """Statuses read until the resource is gone (bounded: 200 reads, 20 ms apart)."""
    history: list[int | str] = []
    for _ in range(200):
        status, body = await call(http, emu, "GET", path)
        history.append(body["status"] if status == 200 else status)
        if status == 404:
            return history
        assert body["status"] == seen
        await asyncio.sleep(0.02)
    raise AssertionError(f"still there after 200 reads: {history[-3:]}")


async def test_deletes_take_time_by_default(emu: Emulator, http: aiohttp.ClientSession) -> None:
    assert emu.config.delete_delay > 0
    record, _ = emu.store.put_file(NAME, name="a.txt", content=b"Some text.")
    status, _ = await call(http, emu, "DELETE", f"/assistant/files/{NAME}/{record.id}")
    assert status == 200
    history = await poll_status(http, emu, f"/assistant/files/{NAME}/{record.id}", "Deleting")
    assert history[0] == "Deleting"
    assert history[-1] == 404

    status, _ = await call(http, emu, "DELETE", f"/assistant/assistants/{NAME}")
    assert status == 200
    history = await poll_status(http, emu, f"/assistant/assistants/{NAME}", "Terminating")
    assert history[0] == "Terminating"
    assert history[-1] == 404


@pytest.mark.usefixtures("instant_retries")  # polls every 20 ms (the delete takes 1 s)
async def test_client_delete_waits(emu: Emulator) -> None:
    record, _ = emu.store.put_file(NAME, name="a.txt", content=b"Some text.")
    async with await pc_for(emu) as pc:
        await pc.assistants.delete_file(assistant_name=NAME, file_id=record.id, wait=True)
        with pytest.raises(NotFoundError):
            await pc.assistants.describe_file(assistant_name=NAME, file_id=record.id)
        await pc.assistants.delete(name=NAME, wait=True)
        with pytest.raises(NotFoundError):
            await pc.assistants.describe(name=NAME)


async def test_zero_delete_delay_is_immediate(http: aiohttp.ClientSession) -> None:
    async with Emulator(api_keys=(KEY,), delete_delay=0) as emu:
        emu.store.create_assistant("quick")
        status, _ = await call(http, emu, "DELETE", "/assistant/assistants/quick")
        assert status == 200
        status, _ = await call(http, emu, "GET", "/assistant/assistants/quick")
        assert status == 404


def test_every_way_to_start_it_has_the_same_delete_delay() -> None:
    from aiopinecone.emulator._cli import build_parser, config_from_args
    from aiopinecone.emulator._config import DEFAULT_DELETE_DELAY

    from_cli = config_from_args(build_parser().parse_args([]))
    assert from_cli.delete_delay == EmulatorConfig().delete_delay == DEFAULT_DELETE_DELAY > 0


def test_pytest_fixture_deletes_take_time(pinecone_emulator: ThreadedEmulator) -> None:
    assert pinecone_emulator.config.delete_delay > 0
