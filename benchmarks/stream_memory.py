"""Item 3 (chat half): peak client memory while a 10 MB chat answer streams in.

The emulator answers a chat with the sentences of the uploaded files that best match the
question; a text file of three single-sentence paragraphs of about 3.3 MB each, all containing
the question's word, makes it answer with about 10 MB, streamed as Server-Sent Events of four
(long) words each. Each run happens in a freshly spawned interpreter: after a small warm-up chat,
the peak RSS mark is reset and the answer is read piece by piece and dropped (its length is
counted), so the growth shows what the client holds on to while streaming:

- ``floor``: aiohttp reading the body as it comes, splitting events and decoding them with orjson;
- ``aiopinecone``: ``chat(stream=True)`` and ``ChatStream.text()``;
- ``pinecone``: the official SDK's ``chat(stream=True)`` and ``AsyncChatStream.text()``;
- ``aiopinecone (not streamed)``: the same answer as one ``ChatResponse``, for contrast.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Mapping, Sequence
from typing import Any, Final

import aiohttp
import orjson

from ._harness import API_KEY, EmulatorProcess, Meter, in_child, mib, peak_growth, table
from .client_cost import floor_headers, official_available

ASSISTANT: Final = "bench-stream"
QUESTION: Final = "Tell me about the zebra"
WARM_UP_QUESTION: Final = "Anything on xylophones"
_WORD: Final = "lorem" * 12  # long words: fewer, larger events for the same answer size
TARGET_NOTE: Final = (
    "no target in the issue; flat growth (not proportional to the answer) is the goal"
)


def answer_file(answer_bytes: int) -> bytes:
    """A text file whose three paragraphs the emulator quotes in full (about ``answer_bytes``)."""
    per_paragraph = max(1, answer_bytes // 3 // (len(_WORD) + 1))
    paragraphs = [
        f"Paragraph {index} about the zebra " + " ".join([_WORD] * per_paragraph)
        for index in range(3)
    ]
    return "\n\n".join(paragraphs).encode()


async def prepare(url: str, answer_bytes: int) -> None:
    """Create the assistant and upload the file (plain aiohttp, API version 2025-10)."""
    headers = floor_headers()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        async with session.post(
            f"{url}/assistant/assistants",
            headers={**headers, "Content-Type": "application/json"},
            data=orjson.dumps({"name": ASSISTANT, "region": "us"}),
        ) as response:
            if response.status >= 300:
                raise RuntimeError(f"create failed: {response.status} {await response.text()}")
        form = aiohttp.FormData()
        form.add_field(
            "file", answer_file(answer_bytes), filename="zebra.txt", content_type="text/plain"
        )
        async with session.post(
            f"{url}/assistant/files/{ASSISTANT}", headers=headers, data=form
        ) as response:
            if response.status >= 300:
                raise RuntimeError(f"upload failed: {response.status} {await response.text()}")


async def _floor(url: str, question: str) -> int:
    headers = {**floor_headers(), "Content-Type": "application/json"}
    body = orjson.dumps({"messages": [{"role": "user", "content": question}], "stream": True})
    received = 0
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_read=120)) as session,
        session.post(f"{url}/assistant/chat/{ASSISTANT}", headers=headers, data=body) as response,
    ):
        if response.status != 200:
            raise RuntimeError(f"chat failed: {response.status}")
        buffer = b""
        async for data in response.content.iter_any():
            buffer += data
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                if event.startswith(b"data:"):
                    chunk = orjson.loads(event[5:])
                    if chunk.get("type") == "content_chunk":
                        received += len(chunk["delta"]["content"])
    return received


async def _aiopinecone(url: str, question: str, *, streamed: bool = True) -> int:
    from aiopinecone import AsyncPinecone

    messages = [{"role": "user", "content": question}]
    async with AsyncPinecone(api_key=API_KEY, host=url, timeout=300.0) as pc:
        if not streamed:
            answer = await pc.assistants.chat(assistant_name=ASSISTANT, messages=messages)
            return len(answer.message.content)
        received = 0
        stream = await pc.assistants.chat(assistant_name=ASSISTANT, messages=messages, stream=True)
        async for piece in stream.text():
            received += len(piece)
        return received


async def _official(url: str, question: str) -> int:
    import pinecone

    pc = pinecone.AsyncPinecone(api_key=API_KEY, host=url, timeout=300.0)
    try:
        received = 0
        stream = await pc.assistants.chat(
            assistant_name=ASSISTANT,
            messages=[{"role": "user", "content": question}],
            stream=True,
        )
        async for piece in stream.text():
            received += len(piece)
        return received
    finally:
        await pc.close()


async def _read(url: str, implementation: str, question: str) -> int:
    if implementation == "floor":
        return await _floor(url, question)
    if implementation == "aiopinecone":
        return await _aiopinecone(url, question)
    if implementation == "aiopinecone (not streamed)":
        return await _aiopinecone(url, question, streamed=False)
    if implementation == "pinecone":
        return await _official(url, question)
    raise ValueError(f"unknown implementation {implementation!r}")


async def _measure(url: str, implementation: str) -> dict[str, Any]:
    await _read(url, implementation, WARM_UP_QUESTION)  # imports, pools, parsers: all warm
    gc.collect()
    with peak_growth() as memory, Meter() as meter:
        received = await _read(url, implementation, QUESTION)
    return {
        "implementation": implementation,
        "answer_mib": mib(received),
        "peak_rss_growth_mib": mib(memory["growth"]),
        "wall_s": round(meter.wall, 2),
        "cpu_s": round(meter.cpu, 2),
    }


def measure_stream(url: str, implementation: str) -> dict[str, Any]:
    """One implementation reading the long answer; meant to run in a fresh child process."""
    return asyncio.run(_measure(url, implementation))


def implementations(official: bool = True) -> list[str]:
    """The implementations measured (the official SDK only if it is installed)."""
    names = ["floor", "aiopinecone"]
    if official and official_available():
        names.append("pinecone")
    names.append("aiopinecone (not streamed)")
    return names


def run_stream_memory(
    emulator: EmulatorProcess,
    *,
    answer_mib: float = 10.0,
    official: bool = True,
    log: Any = print,
) -> dict[str, Any]:
    """Prepare the long answer and measure every implementation, each in its own process."""
    emulator.reset()
    asyncio.run(prepare(emulator.url, int(answer_mib * 1024 * 1024)))
    rows = []
    for implementation in implementations(official):
        emulator.admin("DELETE", "log")
        row = in_child(measure_stream, emulator.url, implementation)
        log(
            f"    {implementation:28} {row['answer_mib']} MiB answer: peak RSS "
            f"+{row['peak_rss_growth_mib']} MiB, {row['wall_s']} s"
        )
        rows.append(row)
    return {"answer_mib_requested": answer_mib, "rows": rows}


def markdown(results: Mapping[str, Any]) -> str:
    """The chat half of the item-3 section of RESULTS.md."""
    rows: Sequence[Sequence[object]] = [
        [r["implementation"], r["answer_mib"], r["peak_rss_growth_mib"], r["wall_s"], r["cpu_s"]]
        for r in results["rows"]
    ]
    return "\n".join(
        [
            "Peak RSS growth of the client process (Linux VmHWM, reset after a warm-up chat) while "
            "a long chat answer is read piece by piece and dropped; each row in a fresh process. "
            "The last row is the same answer not streamed, for contrast.",
            "",
            table(
                [
                    "client",
                    "answer received (MiB)",
                    "peak RSS growth (MiB)",
                    "wall s",
                    "client CPU s",
                ],
                rows,
            ),
        ]
    )
