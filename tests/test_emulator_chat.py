"""Emulator chat, chat completions, context and evaluation over real sockets."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pdfgen import make_pdf

from aiopinecone.emulator import Emulator

KEY = "test-key"
ALL = ("2025-04", "2025-10", "2026-04")
FAQ = b"""Returns

Customers can return any item within 30 days of delivery for a full refund.

Shipping

Standard shipping takes 5 business days. Express shipping takes 2 business days.
"""
HANDBOOK = b"""# Vacation

Employees get 25 vacation days per year. Unused vacation days expire in March.
"""
CATALOG = json.dumps({"products": [{"name": "Widget", "price": "12 euros"}]}).encode()
QUESTION = "How many vacation days do employees get?"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(api_keys=(KEY,)) as emulator:
        emulator.store.create_assistant("helper", instructions="Answer briefly.")
        emulator.store.put_file("helper", name="faq.txt", content=FAQ, metadata={"team": "cs"})
        emulator.store.put_file(
            "helper", name="handbook.md", content=HANDBOOK, metadata={"team": "hr"}
        )
        emulator.store.put_file("helper", name="catalog.json", content=CATALOG)
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers={"Api-Key": KEY}) as session:
        yield session


async def post(
    http: aiohttp.ClientSession, url: str, payload: Any, version: str = "2025-10"
) -> tuple[int, Any]:
    async with http.post(url, json=payload, headers={"X-Pinecone-Api-Version": version}) as r:
        return r.status, await r.json()


async def post_stream(
    http: aiohttp.ClientSession, url: str, payload: Any, version: str = "2025-10"
) -> list[dict[str, Any]]:
    """POST and parse the SSE body strictly: every event is ``data:{json}`` + a blank line."""
    async with http.post(url, json=payload, headers={"X-Pinecone-Api-Version": version}) as r:
        assert r.status == 200
        assert r.content_type == "text/event-stream"
        raw = (await r.read()).decode()
    assert raw.endswith("\n\n")
    events = []
    for block in raw.split("\n\n")[:-1]:
        assert block.startswith("data:"), block
        events.append(json.loads(block[len("data:") :]))
    return events


def chat_url(emu: Emulator, suffix: str = "") -> str:
    return f"{emu.url}/assistant/chat/helper{suffix}"


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


@pytest.mark.parametrize("version", ALL)
async def test_chat_answers_from_files_with_citations(
    emu: Emulator, http: aiohttp.ClientSession, version: str
) -> None:
    status, body = await post(http, chat_url(emu), {"messages": user(QUESTION)}, version)
    assert status == 200, body
    text = body["message"]["content"]
    assert body["message"]["role"] == "assistant"
    assert "25 vacation days" in text
    assert body["finish_reason"] == "stop"
    assert body["model"] == "gpt-4o"
    handbook = next(f for f in emu.store.list_files("helper") if f.name == "handbook.md")
    assert body["citations"]
    for citation in body["citations"]:
        assert 0 < citation["position"] <= len(text)
        assert text[citation["position"] - 1] in ".!?:"
        ref = citation["references"][0]
        assert ref["file"]["id"] == handbook.id
        assert ref["pages"] == [1]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert ("context_snippet_count" in body) == (version == "2026-04")


async def test_chat_is_deterministic(emu: Emulator, http: aiohttp.ClientSession) -> None:
    payload = {"messages": user("How long does express shipping take?")}
    _, first = await post(http, chat_url(emu), payload)
    _, second = await post(http, chat_url(emu), payload)
    assert first["message"] == second["message"]
    assert first["citations"] == second["citations"]
    assert "2 business days" in first["message"]["content"]


async def test_chat_filter_and_no_answer(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, body = await post(
        http, chat_url(emu), {"messages": user(QUESTION), "filter": {"team": "cs"}}
    )
    assert status == 200
    assert "vacation" not in body["message"]["content"]
    cited = {r["file"]["name"] for c in body["citations"] for r in c["references"]}
    assert cited <= {"faq.txt"}
    status, body = await post(http, chat_url(emu), {"messages": user("zebra quantum")})
    assert "could not find" in body["message"]["content"]
    assert body["citations"] == []


async def test_chat_highlights_and_json(emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, body = await post(
        http, chat_url(emu), {"messages": user(QUESTION), "include_highlights": True}
    )
    highlight = body["citations"][0]["references"][0]["highlight"]
    assert highlight["type"] == "text"
    assert "vacation" in highlight["content"]
    status, body = await post(
        http, chat_url(emu), {"messages": user(QUESTION), "json_response": True}
    )
    assert status == 200
    parsed = json.loads(body["message"]["content"])
    assert "25 vacation days" in parsed["answer"]
    assert parsed["sources"] == ["handbook.md"]


@pytest.mark.parametrize("version", ALL)
async def test_chat_stream(emu: Emulator, http: aiohttp.ClientSession, version: str) -> None:
    payload = {"messages": user(QUESTION), "stream": True, "model": "gpt-4.1"}
    events = await post_stream(http, chat_url(emu), payload, version)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "message_start"
    assert kinds[-1] == "message_end"
    assert "citation" in kinds
    assert {e["id"] for e in events} == {events[0]["id"]}
    assert {e["model"] for e in events} == {"gpt-4.1"}
    text = ""
    for event in events:
        if event["type"] == "content_chunk":
            text += event["delta"]["content"]
        elif event["type"] == "citation":
            # A citation arrives once the text it points after has been streamed.
            assert event["citation"]["position"] <= len(text)
    _, plain = await post(http, chat_url(emu), {"messages": user(QUESTION)}, version)
    assert text == plain["message"]["content"]
    assert events[-1]["finish_reason"] == "stop"
    assert events[-1]["usage"]["total_tokens"] > 0


HI = [{"role": "user", "content": "hi"}]
INVALID_FOR_BOTH: list[Any] = [
    {},
    {"messages": []},
    {"messages": "hi"},
    {"messages": [{"role": "user"}]},
    {"messages": [{"role": "user", "content": ""}]},
    {"messages": [{"role": "robot", "content": "hi"}]},
    {"messages": [{"role": "user", "content": 5}]},
    {"messages": ["hi"]},
    {"messages": HI, "stream": "yes"},
    {"messages": HI, "filter": "team"},
    {"messages": HI, "filter": {"a": {"$bad": 1}}},
    {"messages": HI, "temperature": "hot"},
    {"messages": HI, "model": 4},
    [1],
]
INVALID_FOR_CHAT: list[Any] = [
    {"messages": HI, "stream": True, "json_response": True},
    {"messages": HI, "context_options": {"top_k": 0}},
    {"messages": HI, "context_options": 3},
    {"messages": HI, "include_highlights": 1},
]


@pytest.mark.parametrize(
    ("suffix", "payload"),
    [("", p) for p in INVALID_FOR_BOTH + INVALID_FOR_CHAT]
    + [("/chat/completions", p) for p in INVALID_FOR_BOTH],
)
async def test_chat_validation(
    emu: Emulator, http: aiohttp.ClientSession, suffix: str, payload: Any
) -> None:
    status, body = await post(http, chat_url(emu, suffix), payload)
    assert status == 400, body
    assert body["error"]["code"] == "INVALID_ARGUMENT"


async def test_chat_missing_or_unready_assistant(http: aiohttp.ClientSession) -> None:
    async with Emulator(ready_delay=30) as emu:
        emu.store.create_assistant("helper")
        for suffix in ("", "/chat/completions", "/context"):
            payload: dict[str, Any] = {"messages": user("hi")}
            status, body = await post(http, chat_url(emu, suffix), payload)
            assert (status, body["error"]["code"]) == (400, "FAILED_PRECONDITION")
            status, body = await post(http, f"{emu.url}/assistant/chat/ghost{suffix}", payload)
            assert (status, body["error"]["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize("version", ALL)
async def test_chat_completions(emu: Emulator, http: aiohttp.ClientSession, version: str) -> None:
    status, body = await post(
        http, chat_url(emu, "/chat/completions"), {"messages": user(QUESTION)}, version
    )
    assert status == 200
    choice = body["choices"][0]
    assert (choice["index"], choice["finish_reason"]) == (0, "stop")
    content = choice["message"]["content"]
    assert "25 vacation days" in content
    assert "[1]" in content
    assert "handbook.md" in content
    assert body["usage"]["completion_tokens"] > 0


async def test_chat_completions_stream(emu: Emulator, http: aiohttp.ClientSession) -> None:
    payload = {"messages": user(QUESTION), "stream": True}
    events = await post_stream(http, chat_url(emu, "/chat/completions"), payload)
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(e["choices"][0]["finish_reason"] is None for e in events[:-1])
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    _, plain = await post(http, chat_url(emu, "/chat/completions"), {"messages": user(QUESTION)})
    assert text == plain["choices"][0]["message"]["content"]


@pytest.mark.parametrize("version", ALL)
async def test_context(emu: Emulator, http: aiohttp.ClientSession, version: str) -> None:
    status, body = await post(http, chat_url(emu, "/context"), {"query": QUESTION}, version)
    assert status == 200, body
    snippets = body["snippets"]
    assert snippets
    top = snippets[0]
    assert top["type"] == "text"
    assert "25 vacation days" in top["content"]
    assert top["score"] == 1.0
    assert all(0 < s["score"] <= 1 for s in snippets)
    assert [s["score"] for s in snippets] == sorted((s["score"] for s in snippets), reverse=True)
    assert top["reference"]["type"] == "markdown"
    assert top["reference"]["file"]["name"] == "handbook.md"
    assert body["usage"]["completion_tokens"] == 0


async def test_context_messages_top_k_filter(emu: Emulator, http: aiohttp.ClientSession) -> None:
    url = chat_url(emu, "/context")
    status, body = await post(http, url, {"messages": user("widget price"), "top_k": 1})
    assert status == 200
    assert len(body["snippets"]) == 1
    assert body["snippets"][0]["reference"]["type"] == "json"
    assert "12 euros" in body["snippets"][0]["content"]
    status, body = await post(http, url, {"query": QUESTION, "filter": {"team": "cs"}})
    assert all(s["reference"]["file"]["name"] != "handbook.md" for s in body["snippets"])
    status, body = await post(http, url, {"query": "zebra"})
    assert (status, body["snippets"]) == (200, [])


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"query": "a", "messages": [{"role": "user", "content": "b"}]},
        {"query": 3},
        {"query": " "},
        {"query": "a", "top_k": 65},
        {"query": "a", "top_k": "1"},
        {"query": "a", "snippet_size": 100},
        {"query": "a", "multimodal": "no"},
        {"query": "a", "filter": []},
    ],
)
async def test_context_validation(emu: Emulator, http: aiohttp.ClientSession, payload: Any) -> None:
    status, body = await post(http, chat_url(emu, "/context"), payload)
    assert (status, body["error"]["code"]) == (400, "INVALID_ARGUMENT")


async def test_pdf_pages_are_cited(emu: Emulator, http: aiohttp.ClientSession) -> None:
    pdf = make_pdf(["Intro page about nothing.", "Warranty covers two years."])
    emu.store.put_file("helper", name="manual.pdf", content=pdf)
    status, body = await post(http, chat_url(emu, "/context"), {"query": "warranty years"})
    top = body["snippets"][0]
    assert top["reference"]["type"] == "pdf"
    assert top["reference"]["pages"] == [2]
    status, body = await post(http, chat_url(emu), {"messages": user("How long is the warranty?")})
    assert status == 200
    assert body["citations"][0]["references"][0]["pages"] == [2]


async def test_docx_text_is_indexed(emu: Emulator, http: aiohttp.ClientSession) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "word/document.xml",
            "<w:document><w:body><w:p><w:r><w:t>Parking is free on Sundays &amp; holidays."
            "</w:t></w:r></w:p></w:body></w:document>",
        )
    emu.store.put_file("helper", name="notes.docx", content=buffer.getvalue())
    status, body = await post(http, chat_url(emu, "/context"), {"query": "parking sundays"})
    assert status == 200
    top = body["snippets"][0]
    assert top["content"] == "Parking is free on Sundays & holidays."
    assert (top["reference"]["type"], top["reference"]["pages"]) == ("doc_x", [1])


@pytest.mark.parametrize("version", ALL)
async def test_evaluation(emu: Emulator, http: aiohttp.ClientSession, version: str) -> None:
    url = f"{emu.url}/assistant/evaluation/metrics/alignment"
    payload = {
        "question": "How long does express shipping take and what does it cost?",
        "answer": "Express shipping takes 2 business days.",
        "ground_truth_answer": "Express shipping takes 2 business days. It costs 15 dollars.",
    }
    status, body = await post(http, url, payload, version)
    assert status == 200
    assert body["metrics"] == {"correctness": 1.0, "completeness": 0.5, "alignment": 0.6667}
    facts = body["reasoning"]["evaluated_facts"]
    assert [f["entailment"] for f in facts] == ["entailed", "neutral"]
    assert facts[0]["fact"]["content"] == "Express shipping takes 2 business days."
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


async def test_evaluation_contradiction_and_perfect(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    url = f"{emu.url}/assistant/evaluation/metrics/alignment"
    truth = "Refunds are available within 30 days."
    _, body = await post(
        http,
        url,
        {
            "question": "q",
            "answer": "Refunds are not available within 30 days.",
            "ground_truth_answer": truth,
        },
    )
    assert body["reasoning"]["evaluated_facts"][0]["entailment"] == "contradicted"
    assert body["metrics"]["completeness"] == 0.0
    _, body = await post(
        http, url, {"question": "q", "answer": truth, "ground_truth_answer": truth}
    )
    assert body["metrics"] == {"correctness": 1.0, "completeness": 1.0, "alignment": 1.0}


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"question": "q", "answer": "a"},
        {"question": "q", "answer": 1, "ground_truth_answer": "t"},
        {"question": "q", "answer": "a", "ground_truth_answer": ""},
        {"question": "q", "answer": "a", "ground_truth_answer": "t", "extra": 1},
    ],
)
async def test_evaluation_validation(
    emu: Emulator, http: aiohttp.ClientSession, payload: Any
) -> None:
    status, body = await post(http, f"{emu.url}/assistant/evaluation/metrics/alignment", payload)
    assert status == 422
    assert body["error"]["code"] == "INVALID_ARGUMENT"
    assert body["status"] == 422
