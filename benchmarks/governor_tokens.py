"""Token budgets for chat: a burst of chats against the emulator's input-token limit.

``python -m benchmarks.governor_tokens`` writes ``RESULTS-governor-tokens.md``.

One emulator process with one assistant (one small file: a chat's input counts its question
and the retrieved snippet, as the emulator's ``usage.prompt_tokens`` reports); its chat input
tokens are limited per (time-scaled) ``MINUTE`` (``ROWS``). Each row sends N chats at once with
``asyncio.gather`` through one ``AsyncPinecone`` and is bounded (cancelled past
``TIMEOUT_FACTOR`` x ideal). The emulator's state is reset (``/__emulator/reset``) before each.

**Ideal** = ``floor((N * tokens - 1) / limit)`` minutes: the minute in which the server's window
lets the last chat through (a fresh window's burst included; the service time of the chats
themselves, a few ms, is left out, so short rows read a little above 1).

**429s per accepted** = the 429 answers the emulator sent / N.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiopinecone import AsyncPinecone, RateLimits
from benchmarks._harness import API_KEY, EmulatorProcess, machine_info, table

HERE: Final = Path(__file__).resolve().parent
RESULTS_MD: Final = HERE / "RESULTS-governor-tokens.md"
MINUTE: Final = 2.0
TIMEOUT_FACTOR: Final = 10.0
SHORT: Final = "How long do customers have to return an item for a full refund?"
LONG: Final = " ".join(["refund"] * 1860)
"""About 2,500 input tokens as the emulator counts them: the spec's example chat's size."""
FAQ: Final = (
    "Returns\n\nCustomers can return any item within 30 days of delivery for a full refund. "
    "Refunds are paid to the original card within five business days.\n"
)


@dataclass(frozen=True)
class Row:
    """One row: the server's chat input tokens per minute, the chats, the client's options."""

    name: str
    server_limit: int
    n: int
    question: str = LONG
    told: bool = False
    window: float = MINUTE  # the minute the client is told (60: not told)


ROWS: Final = (
    Row("told the limit", 100_000, 60, told=True),
    Row("limit = Starter's (the start guess)", 100_000, 60),
    Row("limit = Starter's, minute not told", 100_000, 60, window=60.0),
    Row("limit = Standard's (3x the guess)", 300_000, 150),
    Row("limit 50x below the guess, small chats", 2_000, 60, question=SHORT),
)


async def _row(url: str, row: Row, ideal: float) -> dict[str, Any]:
    if row.told:
        rate_limits = RateLimits(limits={"chat_tokens": row.server_limit}, window=row.window)
    else:
        rate_limits = RateLimits.preset("adaptive", window=row.window)
    async with AsyncPinecone(api_key=API_KEY, host=url, rate_limits=rate_limits) as pc:
        began = time.monotonic()
        answers = await asyncio.wait_for(
            asyncio.gather(
                *(
                    pc.assistants.chat(
                        assistant_name="faq", messages=[{"role": "user", "content": row.question}]
                    )
                    for _ in range(row.n)
                )
            ),
            timeout=max(ideal, MINUTE) * TIMEOUT_FACTOR,
        )
        wall = time.monotonic() - began
        state = pc.governor.snapshot()["chat_tokens"]
    return {
        "wall": wall,
        "counted": sum(a.usage.prompt_tokens for a in answers),
        "learnt_limit": state["limit"],
        "overhead": state["overhead"],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rows and write ``RESULTS-governor-tokens.md``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.governor_tokens")
    parser.parse_args(argv)
    rows: list[list[object]] = []
    with EmulatorProcess(time_scale=MINUTE / 60, ready_delay=0.0) as emu:
        for row in ROWS:
            emu.reset()  # (and a project of its own: _harness)
            asyncio.run(_setup(emu.url))
            per_chat = asyncio.run(_probe(emu.url, row.question))
            emu.admin("PUT", "rate-limits", {"tokens": {"chat": row.server_limit}})
            emu.admin("DELETE", "counters")
            ideal = math.floor((row.n * per_chat - 1) / row.server_limit) * MINUTE
            result = asyncio.run(_row(emu.url, row, ideal))
            rejected = emu.admin("GET", "counters")["tokens"]["chat"]["rejected"]
            rows.append(
                [
                    row.name,
                    f"{row.server_limit:,}",
                    row.n,
                    per_chat,
                    f"{ideal:.1f}",
                    f"{result['wall']:.2f}",
                    f"{result['wall'] / ideal:.2f}" if ideal else "-",
                    f"{rejected / row.n:.3f}",
                    f"{result['learnt_limit']:,.0f}",
                ]
            )
            print(rows[-1], flush=True)
    headers = [
        "row",
        "server limit",
        "chats",
        "tokens/chat",
        "ideal s",
        "wall s",
        "wall/ideal",
        "429s/accepted",
        "chat_tokens limit after",
    ]
    text = (
        "# Token budgets for chat (issue 11 item 1)\n\n"
        "`python -m benchmarks.governor_tokens`: N chats at once against the emulator's chat "
        f"input-token limit per {MINUTE:g} s minute, default (adaptive) client unless told; "
        "ideal and columns as defined in `benchmarks/governor_tokens.py`. Measured "
        f"{machine_info()['date']}.\n\n" + table(headers, rows) + "\n"
    )
    RESULTS_MD.write_text(text)
    print(text)
    return 0


async def _setup(url: str) -> None:
    async with AsyncPinecone(api_key=API_KEY, host=url, rate_limits="off") as pc:
        await pc.assistants.create(name="faq", wait=True)
        await pc.assistants.upload_file(
            assistant_name="faq",
            file_stream=io.BytesIO(FAQ.encode()),
            file_name="faq.txt",
            wait=True,
        )


async def _probe(url: str, question: str) -> int:
    """The input tokens one chat costs on this emulator (what its usage reports)."""
    async with AsyncPinecone(api_key=API_KEY, host=url, rate_limits="off") as pc:
        answer = await pc.assistants.chat(
            assistant_name="faq", messages=[{"role": "user", "content": question}]
        )
    return answer.usage.prompt_tokens


if __name__ == "__main__":
    raise SystemExit(main())
