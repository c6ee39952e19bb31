"""Quickstart: the whole client against the local Assistant emulator, no account needed.

Run it with ``python examples/quickstart.py``. It starts the emulator in process, creates an
assistant, uploads two small documents, asks a question (plain and streamed), fetches context
snippets, scores an answer and cleans up. Everything happens on 127.0.0.1.
With a real account, drop the emulator and let ``AsyncPinecone()`` read ``PINECONE_API_KEY``.
"""

from __future__ import annotations

import asyncio

import aiopinecone
from aiopinecone.emulator import Emulator
from aiopinecone.models import TextSnippet

API_KEY = "quickstart-key"
DOCUMENTS = {
    "returns.md": b"# Returns\n\nItems can be returned within 30 days of delivery for a full "
    b"refund.\n\nRefunds reach your card within 5 business days.\n",
    "shipping.txt": b"Standard shipping takes 5 business days.\n\nExpress shipping takes 2 "
    b"business days and costs 15 euros.\n",
}
QUESTION = "How long does express shipping take?"


async def main() -> None:
    async with (
        Emulator(api_keys=(API_KEY,), ready_delay=0.3) as emu,
        aiopinecone.AsyncPinecone(api_key=API_KEY, host=emu.url, evaluation_host=emu.url) as pc,
    ):
        print(f"Emulator running at {emu.url}")
        assistant = await pc.assistants.create(name="support", instructions="Be concise.")
        print(f"Created {assistant.name!r}: {assistant.status}")
        assistant = await pc.assistants.wait_until_ready(name="support")
        print(f"{assistant.name!r} is {assistant.status}")

        for name, content in DOCUMENTS.items():
            uploaded = await pc.assistants.upload_file(
                assistant_name="support",
                file=content,
                file_name=name,
                metadata={"source": "quickstart"},
                wait=True,
            )
            print(f"Uploaded {uploaded.name} ({uploaded.status}), id {uploaded.id}")

        messages = [{"role": "user", "content": QUESTION}]
        reply = await pc.assistants.chat(assistant_name="support", messages=messages)
        print(f"\nQ: {QUESTION}\nA: {reply.message.content}")
        for citation in reply.citations:
            ref = citation.references[0]
            print(f"   [at {citation.position}] {ref.file.name} page {ref.pages}")

        print("\nStreamed: ", end="")
        async with await pc.assistants.chat(
            assistant_name="support", messages=messages, stream=True
        ) as stream:
            async for text in stream.text():
                print(text, end="", flush=True)
        print()

        context = await pc.assistants.context(assistant_name="support", query="refund")
        for snippet in context.snippets:
            if isinstance(snippet, TextSnippet):
                where = snippet.reference.file.name
                print(f"\nContext ({where}, score {snippet.score}): {snippet.content[:70]}...")

        score = await pc.assistants.evaluate_alignment(
            question=QUESTION,
            answer=reply.message.content,
            ground_truth_answer="Express shipping takes 2 business days.",
        )
        print(f"\nAlignment metrics: {score.metrics}")

        await pc.assistants.delete(name="support", wait=True)
        print("Deleted the assistant. Requests served:", len(emu.log.entries))


if __name__ == "__main__":
    asyncio.run(main())
