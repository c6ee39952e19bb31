"""Quickstart: start the local Assistant emulator in process and drive it over HTTP.

Run it with ``python examples/quickstart.py``. It creates an assistant, uploads two small
documents, asks a question (plain and streamed), fetches context snippets, scores an answer and
cleans up, printing what the API returns. Everything happens on 127.0.0.1; no account needed.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from aiopinecone.emulator import Emulator

API_KEY = "quickstart-key"
HEADERS = {"Api-Key": API_KEY, "X-Pinecone-Api-Version": "2025-10"}
DOCUMENTS = {
    "returns.md": "# Returns\n\nItems can be returned within 30 days of delivery for a full "
    "refund.\n\nRefunds reach your card within 5 business days.\n",
    "shipping.txt": "Standard shipping takes 5 business days.\n\nExpress shipping takes 2 "
    "business days and costs 15 euros.\n",
}
QUESTION = "How long does express shipping take?"


async def call(http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """Send a request and return its JSON body, failing loudly on an error status."""
    async with http.request(method, url, **kwargs) as resp:
        body: dict[str, Any] = await resp.json() if resp.content_length != 0 else {}
        if resp.status >= 400:
            raise RuntimeError(f"{method} {url} -> {resp.status}: {body}")
        return body


async def wait_ready(http: aiohttp.ClientSession, url: str, attempts: int = 50) -> None:
    """Poll an assistant until it is Ready (bounded)."""
    for _ in range(attempts):
        if (await call(http, "GET", url))["status"] == "Ready":
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} did not become Ready")


async def main() -> None:
    async with (
        Emulator(api_keys=(API_KEY,), ready_delay=0.3) as emu,
        aiohttp.ClientSession(headers=HEADERS) as http,
    ):
        print(f"Emulator running at {emu.url}")
        control = f"{emu.url}/assistant/assistants"
        assistant = await call(
            http, "POST", control, json={"name": "support", "instructions": "Be concise."}
        )
        print(f"Created {assistant['name']!r}: {assistant['status']}")
        await wait_ready(http, f"{control}/support")

        data_plane = f"{assistant['host']}/assistant"
        for name, text in DOCUMENTS.items():
            form = aiohttp.FormData()
            form.add_field("file", text.encode(), filename=name)
            uploaded = await call(
                http,
                "POST",
                f"{data_plane}/files/support",
                data=form,
                params={"metadata": json.dumps({"source": "quickstart"})},
            )
            print(f"Uploaded {uploaded['name']} ({uploaded['status']}), id {uploaded['id']}")

        messages = [{"role": "user", "content": QUESTION}]
        reply = await call(http, "POST", f"{data_plane}/chat/support", json={"messages": messages})
        print(f"\nQ: {QUESTION}\nA: {reply['message']['content']}")
        for citation in reply["citations"]:
            ref = citation["references"][0]
            print(f"   [at {citation['position']}] {ref['file']['name']} page {ref['pages']}")

        print("\nStreamed: ", end="")
        async with http.post(
            f"{data_plane}/chat/support", json={"messages": messages, "stream": True}
        ) as resp:
            async for line in resp.content:
                if line.startswith(b"data:"):
                    event = json.loads(line[5:])
                    if event["type"] == "content_chunk":
                        print(event["delta"]["content"], end="", flush=True)
        print()

        context = await call(
            http, "POST", f"{data_plane}/chat/support/context", json={"query": "refund"}
        )
        for snippet in context["snippets"]:
            name = snippet["reference"]["file"]["name"]
            print(f"\nContext ({name}, score {snippet['score']}): {snippet['content'][:70]}...")

        score = await call(
            http,
            "POST",
            f"{data_plane}/evaluation/metrics/alignment",
            json={
                "question": QUESTION,
                "answer": reply["message"]["content"],
                "ground_truth_answer": "Express shipping takes 2 business days.",
            },
        )
        print(f"\nAlignment metrics: {score['metrics']}")

        await call(http, "DELETE", f"{control}/support")
        print("Deleted the assistant. Requests served:", len(emu.log.entries))


if __name__ == "__main__":
    asyncio.run(main())
